/* record_test.c: the record reader and writer (lib/record.c), hostile.
 *
 * Header encode/decode at the field limits and every rejection; a pinned
 * golden header; a flipped bit at every position of a small stream costs
 * exactly the record that holds it; truncation at every length; oversize
 * lengths; garbage between records; records spanning the reader's 1 MiB
 * blocks, written through a pipe in odd-sized pieces; a 16 MiB payload;
 * writer errors (EPIPE on a closed pipe, ENOSPC on /dev/full), sticky; a
 * live pipe: records come back without waiting for more input.
 *
 * A torn record (cut short, then more records) costs only itself.
 * Exit 0 when every check holds. */
#include "record.h"
#include "rnd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_MAX_FAILS 40
#include "unit.h"


static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { return ora_xorshift64(&rng); }

/* ---- streams of records whose content and position we know ---------------- */

typedef struct {
    ora_rec r;          /* r.payload points into the stream's own copy */
    uint64_t at;        /* where the record starts in the stream */
} xrec;

typedef struct {
    uint8_t *d;
    size_t len, cap;
    xrec *recs;
    size_t n, ncap;
    uint8_t **payloads; /* copies, owned */
} stream;

static void s_reserve(stream *s, size_t more)
{
    if (s->len + more <= s->cap)
        return;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + more)
        cap *= 2;
    s->d = realloc(s->d, cap);
    if (!s->d)
        exit(2);
    s->cap = cap;
}

static void s_raw(stream *s, const void *p, size_t n)
{
    s_reserve(s, n);
    memcpy(s->d + s->len, p, n);
    s->len += n;
}

/* Appends record r (payload r->payload); remembers it. */
static void s_add(stream *s, const ora_rec *r)
{
    if (s->n == s->ncap) {
        s->ncap = s->ncap ? s->ncap * 2 : 64;
        s->recs = realloc(s->recs, s->ncap * sizeof *s->recs);
        s->payloads = realloc(s->payloads, s->ncap * sizeof *s->payloads);
        if (!s->recs || !s->payloads)
            exit(2);
    }
    uint8_t *copy = unit_malloc(r->len);
    if (r->len)
        memcpy(copy, r->payload, r->len);
    s->payloads[s->n] = copy;
    s->recs[s->n].r = *r;
    s->recs[s->n].r.payload = copy;
    s->recs[s->n].at = s->len;
    s->n++;
    s_reserve(s, ORA_REC_HDR + (size_t)r->len);
    size_t k = ora_rec_encode(s->d + s->len, r);
    CHECK(k == ORA_REC_HDR + (size_t)r->len);
    s->len += k;
}

static void s_free(stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->payloads[i]);
    free(s->payloads);
    free(s->recs);
    free(s->d);
    memset(s, 0, sizeof *s);
}

static size_t rec_size(const stream *s, size_t i) { return ORA_REC_HDR + (size_t)s->recs[i].r.len; }

/* A record of every type in turn, fields varied with i, payload of len bytes.
 * Payloads never hold a complete valid record, but may hold fake magic. */
static void s_add_gen(stream *s, size_t i, uint32_t len)
{
    static const uint8_t types[] = {ORA_T_MSG, ORA_T_WIRE, ORA_T_CTRL, ORA_T_OUT};
    ora_rec r;
    ora_rec_init(&r, types[i % 4]);
    uint8_t *p = unit_malloc(len);
    for (uint32_t j = 0; j < len; j++)
        p[j] = (uint8_t)(i * 31 + j * 7 + (j >> 8));
    if (len >= 80 && i % 3 == 0) {
        /* A fake header: magic, then bytes whose sum cannot hold. */
        memcpy(p + 5, "\x93ORA\x01\x02", 6);
    }
    r.len = len;
    r.payload = p;
    r.conn = (uint32_t)i;
    r.recv_ns = 1795700000000000000ull + i * 1000;
    r.offset = i % 5 == 0 ? -1 : (int64_t)i * 3;
    r.actor_id = i * 1000003u;
    r.flow = (uint8_t)(i % 4);
    r.kind = (uint8_t)(i % 19);
    r.actor_type = (uint8_t)(i % 3);
    r.flags = (uint16_t)(i % 2);
    if (r.type == ORA_T_OUT)
        r.key_len = (uint16_t)(len < 9 ? len : 9);
    s_add(s, &r);
    free(p);
}

static int same_rec(const ora_rec *a, const ora_rec *b)
{
    return a->type == b->type && a->flags == b->flags && a->len == b->len && a->conn == b->conn &&
           a->recv_ns == b->recv_ns && a->offset == b->offset && a->actor_id == b->actor_id &&
           a->flow == b->flow && a->kind == b->kind && a->actor_type == b->actor_type &&
           a->key_len == b->key_len && (a->len == 0 || memcmp(a->payload, b->payload, a->len) == 0);
}

static void count_call(void *arg) { ++*(int *)arg; }

/* Recomputes the header sum of a 64-byte header (so only our change is wrong). */
#define RESUM(h) do { uint64_t s_ = ora_rec_sum((h), 56); for (int i_ = 0; i_ < 8; i_++) (h)[56 + i_] = (uint8_t)(s_ >> (8 * i_)); } while (0)

/* ---- input fds ---------------------------------------------------------- */

static int mem_fd(const uint8_t *d, size_t n)
{
    int fd = memfd_create("record_test", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        exit(2);
    }
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, d + off, n - off);
        if (k <= 0) {
            perror("write memfd");
            exit(2);
        }
        off += (size_t)k;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static const size_t odd_pieces[] = {4093, 1, 65537, 7, 1048579, 13, 262147, 3, 999983, 64, 63, 65};

/* A pipe fed by a child in pieces cycling through pieces[] (np of them). */
static int pipe_fd(const uint8_t *d, size_t n, const size_t *pieces, size_t np, pid_t *pid)
{
    int p[2];
    if (pipe(p) < 0)
        exit(2);
    *pid = fork();
    if (*pid < 0)
        exit(2);
    if (*pid == 0) {
        close(p[0]);
        size_t off = 0, k = 0;
        while (off < n) {
            size_t want = pieces[k++ % np];
            if (want > n - off)
                want = n - off;
            size_t done = 0;
            while (done < want) {
                ssize_t w = write(p[1], d + off + done, want - done);
                if (w <= 0)
                    _exit(3);
                done += (size_t)w;
            }
            off += want;
        }
        _exit(0);
    }
    close(p[1]);
    return p[0];
}

static void pipe_done(int fd, pid_t pid)
{
    close(fd);
    int st;
    waitpid(pid, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "feeder exit status %d", st);
}

/* ---- running the reader --------------------------------------------------- */

enum { EV_REC = 1, EV_CORRUPT = -1, EV_TRUNC = -2 };
typedef struct { int kind; uint64_t at, len; } event;   /* len: record size or bytes skipped */

typedef struct {
    event *ev;
    size_t n, cap;
    uint64_t end_pos, skipped;
    int bad;     /* a record returned that is not in the stream, or other misbehaviour */
} run;

static void ev_add(run *r, int kind, uint64_t at, uint64_t len)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        if (!r->ev)
            exit(2);
    }
    r->ev[r->n++] = (event){kind, at, len};
}

/* Reads fd to EOF. Every record returned must be one of s's records, found by
 * its position (the stream read may be s with damage that keeps positions) or,
 * when shift_at/shift is set, by the position it has in the damaged input. */
static void read_all(int fd, uint32_t max_len, const stream *s, run *out, const char *what)
{
    memset(out, 0, sizeof *out);
    ora_reader *rd = ora_reader_new(fd, max_len);
    if (!rd)
        exit(2);
    size_t next_idx = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        ora_rec r;
        uint64_t before = ora_reader_pos(rd);
        int rc = ora_reader_next(rd, &r);
        uint64_t after = ora_reader_pos(rd);
        if (rc == ORA_RD_EOF) {
            out->end_pos = after;
            out->skipped = ora_reader_skipped(rd);
            CHECKF(ora_reader_next(rd, &r) == ORA_RD_EOF, "%s: EOF is not repeated", what);
            CHECKF(ora_reader_buffered(rd) == 0, "%s: bytes buffered at EOF", what);
            break;
        }
        if (rc == ORA_RD_ERROR) {
            CHECKF(0, "%s: read error %s", what, strerror(errno));
            out->bad = 1;
            break;
        }
        if (rc == ORA_RD_CORRUPT && ora_reader_problem(rd)->not_records) {
            /* a stream that does not start with the magic: said once, at
             * the start, before anything is skipped; going on resyncs */
            const ora_rd_problem *p = ora_reader_problem(rd);
            CHECKF(before == 0 && after == 0 && p->at == 0 && p->skipped == 0 && strstr(p->reason, "not records"),
                   "%s: not records reported at %" PRIu64, what, before);
            CHECKF(out->n == 0, "%s: not records reported after events", what);
            continue;
        }
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            CHECKF(p->at == before, "%s: problem at %" PRIu64 ", reader was at %" PRIu64, what, p->at, before);
            CHECKF(after == p->at + p->skipped, "%s: pos %" PRIu64 " after skipping %" PRIu64 " at %" PRIu64, what,
                   after, p->skipped, p->at);
            CHECKF(p->skipped > 0 && p->reason && *p->reason, "%s: empty problem", what);
            ev_add(out, rc == ORA_RD_CORRUPT ? EV_CORRUPT : EV_TRUNC, p->at, p->skipped);
            continue;
        }
        CHECKF(rc == ORA_RD_RECORD, "%s: unknown result %d", what, rc);
        CHECKF(after == before + ORA_REC_HDR + r.len, "%s: pos moved %" PRIu64 " for a record of %u", what,
               after - before, r.len);
        /* Find the record by content among the stream's, in order. */
        size_t k = next_idx;
        while (k < s->n && !same_rec(&s->recs[k].r, &r))
            k++;
        if (k == s->n) {
            CHECKF(0, "%s: a record at %" PRIu64 " (len %u) that was never written", what, before, r.len);
            out->bad = 1;
        } else {
            next_idx = k + 1;
        }
        ev_add(out, EV_REC, before, k);
    }
    ora_reader_free(rd);
}

static void run_free(run *r) { free(r->ev); }

/* Expected events for s read as is, except record `lost` (or SIZE_MAX), whose
 * bytes are reported as one problem of kind pk. */
static int expect_lost(const run *got, const stream *s, size_t lost, int pk, uint64_t input_len, const char *what)
{
    size_t e = 0;
    int ok = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (e >= got->n) {
            ok = 0;
            break;
        }
        const event *v = &got->ev[e++];
        if (i == lost) {
            if (!(v->kind == pk && v->at == s->recs[i].at && v->len == rec_size(s, i)))
                ok = 0;
        } else if (!(v->kind == EV_REC && v->at == s->recs[i].at && v->len == i)) {
            ok = 0;
        }
    }
    if (e != got->n)
        ok = 0;
    if (got->end_pos != input_len)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "%s: lost record %zu; events:", what, lost);
        for (size_t i = 0; i < got->n && i < 30; i++)
            fprintf(stderr, " [%d @%" PRIu64 " %" PRIu64 "]", got->ev[i].kind, got->ev[i].at, got->ev[i].len);
        fprintf(stderr, " end %" PRIu64 "/%" PRIu64 "\n", got->end_pos, input_len);
        unit_failed();
    }
    return ok;
}

/* Reads fd to its end, which holds s, but for record lost (SIZE_MAX: none),
 * whose bytes must come as one problem of kind pk; every other record must
 * come back. Returns the bytes the reader skipped. */
static uint64_t expect_read(int fd, uint32_t max_len, const stream *s, size_t lost, int pk, const char *what)
{
    run g;
    read_all(fd, max_len, s, &g, what);
    expect_lost(&g, s, lost, pk, s->len, what);
    run_free(&g);
    return g.skipped;
}

/* expect_read of s fed through a pipe in pieces cycling through pieces[]. */
static void expect_piped(const stream *s, const size_t *pieces, size_t np, uint32_t max_len, size_t lost, int pk,
                         const char *what)
{
    pid_t pid;
    int fd = pipe_fd(s->d, s->len, pieces, np, &pid);
    expect_read(fd, max_len, s, lost, pk, what);
    pipe_done(fd, pid);
}

/* ---- header ------------------------------------------------------------- */

static void test_header(void)
{
    uint8_t b[ORA_REC_HDR + 16];
    ora_rec r, d;
    uint64_t psum;
    static const uint8_t pl[16] = "0123456789abcdef";

    /* Every field at its limits survives encode/decode. */
    ora_rec_init(&r, ORA_T_OUT);
    CHECK(r.offset == -1 && r.len == 0 && r.conn == 0 && r.recv_ns == 0);
    r.flags = 0xFFFF;
    r.len = 16;
    r.payload = pl;
    r.conn = UINT32_MAX;
    r.recv_ns = UINT64_MAX;
    r.offset = INT64_MIN;
    r.actor_id = UINT64_MAX;
    r.flow = 0xFF;
    r.kind = 0xFF;
    r.actor_type = 0xFF;
    r.key_len = 16;
    CHECK(ora_rec_encode(b, &r) == ORA_REC_HDR + 16);
    CHECK(ora_rec_decode_hdr(b, 16, &d, &psum) == ORA_HDR_OK);
    d.payload = b + ORA_REC_HDR;
    CHECK(same_rec(&r, &d));
    CHECK(psum == ora_rec_sum(pl, 16));
    CHECK(d.payload != NULL);

    /* Layout as documented in record.h (little-endian, fixed offsets). */
    CHECK(memcmp(b, "\x93ORA", 4) == 0 && b[4] == ORA_REC_VERSION && b[5] == ORA_T_OUT);
    CHECK(b[8] == 16 && b[9] == 0 && b[12] == 0xFF && b[24] == 0 && b[31] == 0x80);
    CHECK(b[43] == 0 && b[44] == 16 && b[46] == 0 && b[47] == 0);

    /* Encoding in place (payload already at dst + 64) gives the same bytes. */
    uint8_t c[ORA_REC_HDR + 16];
    memcpy(c + ORA_REC_HDR, pl, 16);
    ora_rec q = r;
    q.payload = c + ORA_REC_HDR;
    ora_rec_encode(c, &q);
    CHECK(memcmp(b, c, sizeof c) == 0);

    /* A pinned header: the format is versioned, this catches accidental change. */
    ora_rec g;
    ora_rec_init(&g, ORA_T_MSG);
    static const uint8_t gp[] = "{\"offset\":7}";
    g.payload = gp;
    g.len = sizeof gp - 1;
    g.conn = 2;
    g.recv_ns = 1764115200000000000ull;
    g.offset = 7;
    g.flow = ORA_FLOW_REALTIME;
    uint8_t gb[ORA_REC_HDR + sizeof gp];
    ora_rec_encode(gb, &g);
    static const char want[] =
        "934f5241" "01" "02" "0000" "0c000000" "02000000" "0000de7e6d657b18" "0700000000000000"
        "0000000000000000" "03" "00" "00" "00" "0000" "0000" "d9182834d98123d4"; /* bytes 0..55 */
    char hex[2 * 56 + 1];
    for (int i = 0; i < 56; i++)
        snprintf(hex + 2 * i, 3, "%02x", gb[i]);
    CHECKF(strcmp(hex, want) == 0, "golden header bytes %s", hex);
    CHECK(ora_rec_sum(gb, 56) != 0);
    uint64_t hs = 0, ps = 0;
    for (int i = 7; i >= 0; i--) {
        hs = hs << 8 | gb[56 + i];
        ps = ps << 8 | gb[48 + i];
    }
    CHECK(hs == ora_rec_sum(gb, 56));
    CHECK(ps == ora_rec_sum(gp, sizeof gp - 1));

    /* Rejections: each one alone, with the header sum made right again. */
    ora_rec_encode(b, &r);
    uint8_t x[ORA_REC_HDR];
    memcpy(x, b, sizeof x);
    x[0] ^= 1;
    CHECK(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_MAGIC);
    memcpy(x, b, sizeof x);
    x[3] = 'a';
    CHECK(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_MAGIC);
    for (int pos = 4; pos < 64; pos++) {
        memcpy(x, b, sizeof x);
        x[pos] ^= 0x10;
        CHECKF(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_SUM, "flip at %d", pos);
    }
    memcpy(x, b, sizeof x);
    x[4] = 2;
    RESUM(x);
    CHECK(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_VERSION);
    memcpy(x, b, sizeof x);
    x[4] = 0;
    RESUM(x);
    CHECK(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_VERSION);
    const int bad_types[] = {0, 5, 0xFF};
    for (int i = 0; i < 3; i++) {
        memcpy(x, b, sizeof x);
        x[5] = (uint8_t)bad_types[i];
        RESUM(x);
        CHECKF(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_FIELDS, "type %d", bad_types[i]);
    }
    const int reserved[] = {43, 46, 47};
    for (int i = 0; i < 3; i++) {
        memcpy(x, b, sizeof x);
        x[reserved[i]] = 1;
        RESUM(x);
        CHECKF(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_FIELDS, "reserved byte %d", reserved[i]);
    }
    memcpy(x, b, sizeof x);
    x[44] = 17; /* key longer than the payload */
    RESUM(x);
    CHECK(ora_rec_decode_hdr(x, 1000, &d, &psum) == ORA_HDR_FIELDS);
    CHECK(ora_rec_decode_hdr(b, 16, &d, &psum) == ORA_HDR_OK);
    CHECK(ora_rec_decode_hdr(b, 15, &d, &psum) == ORA_HDR_TOO_LONG);
    CHECK(ora_rec_decode_hdr(b, 0, &d, &psum) == ORA_HDR_TOO_LONG);
    memcpy(x, b, sizeof x);
    x[8] = x[9] = x[10] = x[11] = 0xFF;
    RESUM(x);
    CHECK(ora_rec_decode_hdr(x, ORA_REC_MAX_LIMIT, &d, &psum) == ORA_HDR_TOO_LONG);
    CHECK(ora_rec_decode_hdr(x, UINT32_MAX, &d, &psum) == ORA_HDR_OK && d.len == UINT32_MAX);
    for (int s = ORA_HDR_OK; s <= ORA_HDR_TOO_LONG; s++)
        CHECK(ora_hdr_status_str(s) && *ora_hdr_status_str(s));

    /* Names. */
    CHECK(strcmp(ora_rec_type_name(ORA_T_WIRE), "WIRE") == 0 && strcmp(ora_rec_type_name(ORA_T_OUT), "OUT") == 0);
    CHECK(ora_rec_type_name(0) == NULL && ora_rec_type_name(5) == NULL);
    CHECK(ora_rec_type_parse("msg") == ORA_T_MSG && ora_rec_type_parse("Ctrl") == ORA_T_CTRL);
    CHECK(ora_rec_type_parse("") == 0 && ora_rec_type_parse("MSGX") == 0);
    CHECK(ora_flow_parse("replay") == ORA_FLOW_REPLAY && ora_flow_parse("none") == ORA_FLOW_NONE);
    CHECK(strcmp(ora_flow_name(ORA_FLOW_SNAPSHOT), "snapshot") == 0 && strcmp(ora_flow_name(200), "none") == 0);
}

/* ---- reader ------------------------------------------------------------- */

static void small_stream(stream *s)
{
    static const uint32_t lens[] = {0, 1, 17, 63, 64, 130, 5, 90};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        s_add_gen(s, i, lens[i]);
}

static size_t holder(const stream *s, size_t pos)
{
    size_t k = 0;
    while (k + 1 < s->n && s->recs[k + 1].at <= pos)
        k++;
    return k;
}

static void test_sound(void)
{
    stream s = {0};
    small_stream(&s);
    int fd = mem_fd(s.d, s.len);
    CHECK(expect_read(fd, ORA_REC_MAX_DEFAULT, &s, SIZE_MAX, 0, "sound/memfd") == 0);  /* nothing skipped */
    close(fd);
    /* One byte per write(2): the reader must assemble headers and payloads. */
    static const size_t one[] = {1};
    expect_piped(&s, one, 1, ORA_REC_MAX_DEFAULT, SIZE_MAX, 0, "sound/pipe-1");
    /* Empty input. */
    stream e = {0};
    run g;
    fd = mem_fd(NULL, 0);
    read_all(fd, ORA_REC_MAX_DEFAULT, &e, &g, "empty");
    CHECK(g.n == 0 && g.end_pos == 0);
    run_free(&g);
    close(fd);
    /* A directory: read(2) fails, the reader says so. */
    fd = open(".", O_RDONLY | O_DIRECTORY);
    ora_reader *rd = ora_reader_new(fd, 100);
    ora_rec r;
    errno = 0;
    CHECK(ora_reader_next(rd, &r) == ORA_RD_ERROR && errno == EISDIR);
    ora_reader_free(rd);
    close(fd);
    s_free(&s);
}

static void test_flips(void)
{
    stream s = {0};
    small_stream(&s);
    uint8_t *d = unit_malloc(s.len);
    int fd = memfd_create("flips", MFD_CLOEXEC);
    size_t cases = 0;
    for (size_t pos = 0; pos < s.len; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(d, s.d, s.len);
            d[pos] ^= (uint8_t)(1u << bit);
            if (ftruncate(fd, 0) < 0 || pwrite(fd, d, s.len, 0) != (ssize_t)s.len)
                exit(2);
            lseek(fd, 0, SEEK_SET);
            char what[64];
            snprintf(what, sizeof what, "flip byte %zu bit %d", pos, bit);
            uint64_t skipped = expect_read(fd, ORA_REC_MAX_DEFAULT, &s, holder(&s, pos), EV_CORRUPT, what);
            CHECKF(skipped == rec_size(&s, holder(&s, pos)), "%s: skipped %" PRIu64, what, skipped);
            cases++;
        }
    }
    CHECK(cases == s.len * 8);
    close(fd);
    free(d);
    s_free(&s);
}

static void test_truncation(void)
{
    stream s = {0};
    small_stream(&s);
    for (size_t cut = 0; cut <= s.len; cut++) {
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", cut);
        int fd = mem_fd(s.d, cut);
        run g;
        read_all(fd, ORA_REC_MAX_DEFAULT, &s, &g, what);
        close(fd);
        /* Whole records before the cut come back; a partial one is TRUNCATED. */
        size_t whole = 0;
        while (whole < s.n && s.recs[whole].at + rec_size(&s, whole) <= cut)
            whole++;
        int partial = whole < s.n && s.recs[whole].at < cut;
        int ok = g.n == whole + (size_t)partial && g.end_pos == cut;
        for (size_t i = 0; ok && i < whole; i++)
            ok = g.ev[i].kind == EV_REC && g.ev[i].len == i;
        if (ok && partial)
            ok = g.ev[whole].kind == EV_TRUNC && g.ev[whole].at == s.recs[whole].at &&
                 g.ev[whole].len == cut - s.recs[whole].at;
        CHECKF(ok, "%s: %zu events, %zu whole, partial %d", what, g.n, whole, partial);
        run_free(&g);
    }
    s_free(&s);
}

static void test_oversize(void)
{
    stream s = {0};
    s_add_gen(&s, 1, 1000);
    s_add_gen(&s, 2, 10);
    int fd = mem_fd(s.d, s.len);
    expect_read(fd, 1000, &s, SIZE_MAX, 0, "len == max");
    lseek(fd, 0, SEEK_SET);
    expect_read(fd, 999, &s, 0, EV_CORRUPT, "len == max + 1");
    close(fd);

    /* A sound header claiming 4 GiB - 1 (then 16 MiB + 1): corrupt, never
     * waited for or allocated; the next record is found. */
    const uint32_t claims[] = {UINT32_MAX, ORA_REC_MAX_DEFAULT + 1};
    for (int c = 0; c < 2; c++) {
        stream t = {0};
        s_add_gen(&t, 3, 20);
        uint8_t h[ORA_REC_HDR];
        ora_rec r;
        ora_rec_init(&r, ORA_T_MSG);
        r.len = 0;
        ora_rec_encode(h, &r);
        for (int i = 0; i < 4; i++)
            h[8 + i] = (uint8_t)(claims[c] >> (8 * i));
        RESUM(h);
        size_t bad_at = t.len;
        s_raw(&t, h, sizeof h);
        s_raw(&t, "0123456789", 10);
        stream t2 = t; /* positions of the records after the fake */
        s_add_gen(&t, 4, 30);
        fd = mem_fd(t.d, t.len);
        run g;
        read_all(fd, ORA_REC_MAX_DEFAULT, &t, &g, "oversize claim");
        CHECKF(g.n == 3 && g.ev[0].kind == EV_REC && g.ev[1].kind == EV_CORRUPT && g.ev[1].at == bad_at &&
                   g.ev[1].len == 74 && g.ev[2].kind == EV_REC && g.ev[2].len == 1,
               "oversize claim %u: %zu events", claims[c], g.n);
        run_free(&g);
        close(fd);
        (void)t2;
        s_free(&t);
    }
    s_free(&s);
}

static void test_garbage(void)
{
    for (int round = 0; round < 40; round++) {
        stream s = {0};
        uint64_t garbage = 0;
        size_t nrec = 2 + rnd() % 12;
        /* Expected: each garbage run is one CORRUPT event right where it is. */
        uint64_t runs_at[64], runs_len[64];
        size_t nruns = 0;
        for (size_t i = 0; i <= nrec; i++) {
            if (rnd() % 2 || i == nrec) {
                size_t n = 1 + rnd() % 300;
                uint8_t g[300];
                for (size_t j = 0; j < n; j++)
                    g[j] = (uint8_t)rnd();
                if (n > 70 && rnd() % 2)
                    memcpy(g + rnd() % (n - 64), "\x93ORA", 4); /* fake magic */
                if (rnd() % 3 == 0)
                    g[n - 1] = 0x93; /* a magic byte right before a real record */
                runs_at[nruns] = s.len;
                runs_len[nruns++] = n;
                s_raw(&s, g, n);
                garbage += n;
            }
            if (i < nrec)
                s_add_gen(&s, i + (size_t)round, (uint32_t)(rnd() % 400));
        }
        int fd = mem_fd(s.d, s.len);
        run g;
        char what[48];
        snprintf(what, sizeof what, "garbage round %d", round);
        read_all(fd, ORA_REC_MAX_DEFAULT, &s, &g, what);
        close(fd);
        size_t recs = 0, r = 0;
        int ok = g.n == nrec + nruns && g.skipped == garbage && g.end_pos == s.len;
        for (size_t i = 0; ok && i < g.n; i++) {
            if (g.ev[i].kind == EV_REC) {
                ok = g.ev[i].at == s.recs[recs].at && g.ev[i].len == recs;
                recs++;
            } else {
                ok = g.ev[i].kind == EV_CORRUPT && r < nruns && g.ev[i].at == runs_at[r] && g.ev[i].len == runs_len[r];
                r++;
            }
        }
        CHECKF(ok, "%s: %zu events for %zu records and %zu garbage runs, skipped %" PRIu64 " of %" PRIu64, what, g.n,
               nrec, nruns, g.skipped, garbage);
        run_free(&g);
        s_free(&s);
    }
}

/* Records of 0..300 KB and a few over 1 MiB, through a pipe in odd pieces. */
static void test_spanning(void)
{
    stream s = {0};
    size_t i = 0;
    while (s.len < (12u << 20)) {
        uint32_t len = i % 17 == 5 ? (uint32_t)((1u << 20) + rnd() % (600u << 10)) : (uint32_t)(rnd() % (300u << 10));
        if (i % 7 == 0)
            len = (uint32_t)(rnd() % 100);
        s_add_gen(&s, i++, len);
    }
    expect_piped(&s, odd_pieces, UNIT_LEN(odd_pieces), ORA_REC_MAX_DEFAULT, SIZE_MAX, 0, "spanning/pipe");
    /* A flipped byte in a record that spans a block boundary. */
    size_t k = 0;
    while (k < s.n && !(s.recs[k].at < (2u << 20) && s.recs[k].at + rec_size(&s, k) > (2u << 20)))
        k++;
    CHECK(k < s.n);
    if (k < s.n) {
        s.d[(2u << 20) + 1] ^= 0x40;
        expect_piped(&s, odd_pieces + 3, 5, ORA_REC_MAX_DEFAULT, k, EV_CORRUPT, "spanning/flip");
        s.d[(2u << 20) + 1] ^= 0x40;
    }
    /* The on_read hook runs before reads: at least once per MiB here. */
    int calls = 0;
    int fd = mem_fd(s.d, s.len);
    ora_reader *rd = ora_reader_new(fd, ORA_REC_MAX_DEFAULT);
    ora_reader_on_read(rd, count_call, &calls);
    ora_rec r;
    size_t n = 0;
    while (ora_reader_next(rd, &r) == ORA_RD_RECORD)
        n++;
    CHECK(n == s.n);
    /* (the buffer grows to the largest record, so count one per 4 MiB) */
    CHECKF(calls >= (int)(s.len >> 22) && calls >= 2, "on_read ran %d times for %zu bytes", calls, s.len);
    ora_reader_free(rd);
    close(fd);
    s_free(&s);
}

static void test_16mib(void)
{
    stream s = {0};
    s_add_gen(&s, 1, 3);
    s_add_gen(&s, 2, ORA_REC_MAX_DEFAULT);
    s_add_gen(&s, 3, 3);
    expect_piped(&s, odd_pieces, UNIT_LEN(odd_pieces), ORA_REC_MAX_DEFAULT, SIZE_MAX, 0, "16 MiB");
    expect_piped(&s, odd_pieces, UNIT_LEN(odd_pieces), ORA_REC_MAX_DEFAULT - 1, 1, EV_CORRUPT, "16 MiB over max");
    s_free(&s);
}

/* Reads t, a stream with a torn record whose other records are want's, to
 * its end: the events in *g (the caller frees it); returns how many records
 * came back. */
static size_t read_torn(const stream *t, const stream *want, run *g, const char *what)
{
    int fd = mem_fd(t->d, t->len);
    read_all(fd, ORA_REC_MAX_DEFAULT, want, g, what);
    close(fd);
    size_t recs = 0;
    for (size_t i = 0; i < g->n; i++)
        recs += g->ev[i].kind == EV_REC;
    return recs;
}

/* A record cut short and then more records (a stage restarted appending to
 * the same file, or `cat cut.rec more.rec`): only the cut record is lost. */
static void test_torn(void)
{
    stream a = {0}, b = {0};
    small_stream(&a);
    s_add_gen(&b, 40, 5000); /* the torn record: header + 100 bytes of its 5000 */
    small_stream(&b);
    stream t = {0};
    s_raw(&t, a.d, a.len);
    size_t torn_at = t.len;
    s_raw(&t, b.d, ORA_REC_HDR + 100);
    size_t after = t.len;
    s_raw(&t, b.d + rec_size(&b, 0), b.len - rec_size(&b, 0));
    /* Every record of a and of b but the torn one, in order. */
    stream want = {0};
    for (size_t i = 0; i < a.n; i++)
        s_add(&want, &a.recs[i].r);
    for (size_t i = 1; i < b.n; i++)
        s_add(&want, &b.recs[i].r);
    run g;
    size_t recs = read_torn(&t, &want, &g, "torn"), bad = 0;
    for (size_t i = 0; i < g.n; i++) {
        if (g.ev[i].kind != EV_REC) {
            bad++;
            CHECKF(g.ev[i].at == torn_at && g.ev[i].len == after - torn_at, "torn: problem @%" PRIu64 " %" PRIu64,
                   g.ev[i].at, g.ev[i].len);
        }
    }
    CHECKF(recs == want.n && bad == 1, "torn: %zu of %zu records, %zu problems", recs, want.n, bad);
    run_free(&g);
    s_free(&a);
    s_free(&b);
    s_free(&t);
    s_free(&want);
}

/* A torn record whose claimed length happens to end exactly at the end of
 * the input, or exactly at a later sound header (found by fuzz/records.c):
 * the records in between must still come back. */
static void test_torn_exact(int at_eof)
{
    stream b = {0};
    s_add_gen(&b, 50, 40);
    s_add_gen(&b, 51, 70);
    size_t follow = b.len;     /* the sound records after the tear */
    stream t = {0};
    s_add_gen(&t, 52, 30);     /* before */
    stream torn = {0};
    s_add_gen(&torn, 53, (uint32_t)(100 + follow)); /* claims exactly 100 + what follows */
    size_t torn_at = t.len;
    s_raw(&t, torn.d, ORA_REC_HDR + 100);           /* ... but only 100 payload bytes were written */
    stream want = {0};
    s_add(&want, &t.recs[0].r);
    for (size_t i = 0; i < b.n; i++) {
        s_add(&want, &b.recs[i].r);
        ora_rec r = b.recs[i].r;
        s_add(&t, &r);
    }
    if (!at_eof) {
        s_add_gen(&t, 54, 20); /* a sound header right where the torn record claims to end */
        s_add(&want, &t.recs[t.n - 1].r);
    }
    char what[48];
    snprintf(what, sizeof what, "torn, claimed end at %s", at_eof ? "EOF" : "a header");
    run g;
    size_t recs = read_torn(&t, &want, &g, what);
    CHECKF(recs == want.n, "%s: %zu of %zu records (the torn one is at %zu)", what, recs, want.n, torn_at);
    run_free(&g);
    s_free(&b);
    s_free(&t);
    s_free(&torn);
    s_free(&want);
}

/* A live pipe: the writer stops after some records and waits. The reader
 * must return what is there without waiting for more input; a record whose
 * length field is damaged must not make it wait for bytes that will not
 * come (the header sum). A hang is caught by alarm(). */
static void test_live(size_t damage_at)
{
    stream s = {0};
    s_add_gen(&s, 1, 100);
    s_add_gen(&s, 2, 200); /* sent with its length damaged */
    s_add_gen(&s, 3, 50);
    uint8_t *d = unit_malloc(s.len);
    memcpy(d, s.d, s.len);
    d[s.recs[1].at + damage_at] ^= 0x7F; /* 10: length 200 -> 200 + 0x7F0000 (sum now wrong) */
    int data[2], ctl[2];
    if (pipe(data) < 0 || pipe(ctl) < 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(data[0]);
        close(ctl[1]);
        char c;
        size_t first = rec_size(&s, 0);
        if (write(data[1], d, first) != (ssize_t)first || read(ctl[0], &c, 1) != 1)
            _exit(3);
        if (write(data[1], d + first, s.len - first) != (ssize_t)(s.len - first) || read(ctl[0], &c, 1) != 1)
            _exit(4);
        _exit(0);
    }
    close(data[1]);
    close(ctl[0]);
    alarm(30);
    ora_reader *rd = ora_reader_new(data[0], ORA_REC_MAX_DEFAULT);
    ora_rec r;
    CHECK(ora_reader_next(rd, &r) == ORA_RD_RECORD && same_rec(&r, &s.recs[0].r));
    CHECK(write(ctl[1], "g", 1) == 1);
    CHECK(ora_reader_next(rd, &r) == ORA_RD_CORRUPT && ora_reader_problem(rd)->at == s.recs[1].at);
    CHECK(ora_reader_next(rd, &r) == ORA_RD_RECORD && same_rec(&r, &s.recs[2].r));
    CHECK(write(ctl[1], "g", 1) == 1);
    CHECK(ora_reader_next(rd, &r) == ORA_RD_EOF);
    alarm(0);
    ora_reader_free(rd);
    close(ctl[1]);
    pipe_done(data[0], pid);
    free(d);
    s_free(&s);
}

/* ---- writer ------------------------------------------------------------- */

/* How a writer is given record r, the i-th of a stream: returns 0, or the
 * exit status of the writing child when the writer refused it. */
typedef int put_fn(ora_writer *w, const ora_rec *r, size_t i);

/* put() and reserve()/commit() in turn. */
static int put_or_commit(ora_writer *w, const ora_rec *r, size_t i)
{
    if (i % 2)
        return ora_writer_put(w, r) < 0 ? 3 : 0;
    uint8_t *q = ora_writer_reserve(w, r->len);
    if (!q)
        return 4;
    if (r->len)
        memcpy(q, r->payload, r->len);
    ora_rec h = *r;
    h.payload = NULL;
    return ora_writer_commit(w, &h) < 0 ? 5 : 0;
}

/* put(), put_same() and put_ref(), put_ref() twice as often. */
static int put_same_or_ref(ora_writer *w, const ora_rec *r, size_t i)
{
    int rc;
    switch (i % 4) {
    case 0: rc = ora_writer_put(w, r); break;
    case 1: rc = ora_writer_put_same(w, r); break;
    default: rc = ora_writer_put_ref(w, r); break;
    }
    return rc < 0 ? 3 : 0;
}

/* A child writes s's records with put into a pipe; its writer must count
 * them all (records and bytes) and flush them. Read back, nothing is lost. */
static void write_read_back(const stream *s, put_fn *put, const char *what)
{
    int p[2];
    if (pipe(p) < 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        ora_writer *w = ora_writer_new(p[1]);
        for (size_t i = 0; i < s->n; i++) {
            int st = put(w, &s->recs[i].r, i);
            if (st)
                _exit(st);
        }
        if (ora_writer_records(w) != s->n || ora_writer_bytes(w) != s->len)
            _exit(6);
        if (ora_writer_flush(w) < 0 || ora_writer_buffered(w) != 0)
            _exit(7);
        ora_writer_free(w);
        _exit(0);
    }
    close(p[1]);
    expect_read(p[0], ORA_REC_MAX_DEFAULT, s, SIZE_MAX, 0, what);
    pipe_done(p[0], pid);
}

/* The file fd holds want[0..n) from its start. */
static void check_file(int fd, const uint8_t *want, size_t n, const char *what)
{
    uint8_t *back = unit_malloc(n);
    CHECKF(pread(fd, back, n, 0) == (ssize_t)n, "%s", what);
    CHECKF(memcmp(back, want, n) == 0, "%s", what);
    free(back);
}

static void test_writer(void)
{
    stream s = {0};
    for (size_t i = 0; i < 300; i++)
        s_add_gen(&s, i, i == 150 ? (600u << 10) : (uint32_t)(rnd() % 3000));
    /* Written through put() and reserve()/commit() alternately, read back. */
    write_read_back(&s, put_or_commit, "writer");

    /* Bytes equal ora_rec_encode's. */
    int fd = memfd_create("w", MFD_CLOEXEC);
    ora_writer *w = ora_writer_new(fd);
    for (size_t i = 0; i < 20; i++)
        CHECK(ora_writer_put(w, &s.recs[i].r) == 0);
    CHECK(ora_writer_buffered(w) == s.recs[20].at);
    CHECK(ora_writer_flush(w) == 0);
    check_file(fd, s.d, s.recs[20].at, "writer");
    /* commit() with a length other than reserve()'s is refused. */
    CHECK(ora_writer_reserve(w, 10) != NULL);
    ora_rec r;
    ora_rec_init(&r, ORA_T_MSG);
    r.len = 11;
    errno = 0;
    CHECK(ora_writer_commit(w, &r) == -1 && errno == EINVAL);
    ora_writer_free(w);
    close(fd);

    /* A closed pipe: EPIPE (SIGPIPE ignored, as cli_init does), sticky. */
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    if (pipe(p) < 0)
        exit(2);
    close(p[0]);
    w = ora_writer_new(p[1]);
    CHECK(ora_writer_put(w, &s.recs[1].r) == 0); /* buffered */
    errno = 0;
    CHECK(ora_writer_flush(w) == -1 && errno == EPIPE);
    CHECK(ora_writer_error(w) == EPIPE);
    errno = 0;
    CHECK(ora_writer_put(w, &s.recs[2].r) == -1 && errno == EPIPE);
    errno = 0;
    CHECK(ora_writer_reserve(w, 5) == NULL && errno == EPIPE);
    errno = 0;
    CHECK(ora_writer_flush(w) == -1 && errno == EPIPE);
    ora_writer_free(w);
    close(p[1]);

    /* A full disk: ENOSPC, also when the error comes from a block flush in put(). */
    fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    if (fd >= 0) {
        w = ora_writer_new(fd);
        int rc = 0;
        size_t i;
        for (i = 0; i < s.n && rc == 0; i++)
            rc = ora_writer_put(w, &s.recs[i].r);
        CHECKF(rc == -1 && errno == ENOSPC, "put to /dev/full: rc %d after %zu records", rc, i);
        CHECK(ora_writer_error(w) == ENOSPC);
        errno = 0;
        CHECK(ora_writer_flush(w) == -1 && errno == ENOSPC);
        ora_writer_free(w);
        w = ora_writer_new(fd);
        CHECK(ora_writer_put(w, &s.recs[3].r) == 0);
        errno = 0;
        CHECK(ora_writer_flush(w) == -1 && errno == ENOSPC);
        ora_writer_free(w);
        close(fd);
    }
    s_free(&s);
}

/* Input that does not start with the record magic (issue 14). */
static void test_not_records(void)
{
    struct { const char *in; size_t n; const char *hint; } c[] = {
        {"{\"offset\":1}\n", 13, "it looks like JSON lines: use ora-rec pack"},
        {"  \n[1,2]\n", 9, "it looks like JSON lines: use ora-rec pack"},
        {"\x1f\x8b\x08\x00\x00\x00\x00\x00", 8, "it looks like a raw ORA wire stream: use ora-deframe --raw"},
        {"hello", 5, "see ora-records(5)"},
        {"\x93ORX and more", 14, "see ora-records(5)"},
        {"x", 1, "see ora-records(5)"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int fd = mem_fd((const uint8_t *)c[i].in, c[i].n);
        ora_reader *rd = ora_reader_new(fd, ORA_REC_MAX_DEFAULT);
        ora_rec r;
        int rc = ora_reader_next(rd, &r);
        const ora_rd_problem *p = ora_reader_problem(rd);
        CHECKF(rc == ORA_RD_CORRUPT && p->not_records && p->at == 0 && p->skipped == 0 &&
               strstr(p->reason, "not records") && strstr(p->reason, c[i].hint) && ora_reader_pos(rd) == 0,
               "not records %zu: rc %d, %s", i, rc, p->reason ? p->reason : "(none)");
        /* going on anyway: the old resync, which skips it all */
        rc = ora_reader_next(rd, &r);
        CHECKF(rc == ORA_RD_CORRUPT && !ora_reader_problem(rd)->not_records, "not records %zu: then rc %d", i, rc);
        ora_reader_free(rd);
        close(fd);
    }
    /* empty: a clean end; the start of a magic and the end: truncated */
    int fd = mem_fd((const uint8_t *)"", 0);
    ora_reader *rd = ora_reader_new(fd, ORA_REC_MAX_DEFAULT);
    ora_rec r;
    CHECK(ora_reader_next(rd, &r) == ORA_RD_EOF);
    ora_reader_free(rd);
    close(fd);
    fd = mem_fd((const uint8_t *)"\x93OR", 3);
    rd = ora_reader_new(fd, ORA_REC_MAX_DEFAULT);
    CHECK(ora_reader_next(rd, &r) == ORA_RD_TRUNCATED && !ora_reader_problem(rd)->not_records);
    ora_reader_free(rd);
    close(fd);
}

/* put_same() and put_ref() (writev from the caller's memory) make the bytes
 * put() makes; the sum put_same() writes is the one given, not computed. */
static void test_writer_same_ref(void)
{
    stream s = {0};
    for (size_t i = 0; i < 3000; i++)
        s_add_gen(&s, i, i == 1500 ? (300u << 10) : (uint32_t)(rnd() % 700));
    for (size_t i = 0; i < s.n; i++)
        s.recs[i].r.sum = ora_rec_sum(s.recs[i].r.payload, s.recs[i].r.len);
    write_read_back(&s, put_same_or_ref, "writer same/ref");

    /* byte for byte the stream, through a file */
    int fd = memfd_create("w", MFD_CLOEXEC);
    ora_writer *w = ora_writer_new(fd);
    for (size_t i = 0; i < s.n; i++)
        CHECK((i % 2 ? ora_writer_put_ref(w, &s.recs[i].r) : ora_writer_put_same(w, &s.recs[i].r)) == 0);
    CHECK(ora_writer_buffered(w) < 2 * (256u << 10) + (300u << 10));
    CHECK(ora_writer_flush(w) == 0);
    check_file(fd, s.d, s.len, "writer same/ref");
    ora_writer_free(w);
    close(fd);

    /* a wrong sum given to put_same() is written as given: the reader sees damage */
    fd = memfd_create("w", MFD_CLOEXEC);
    w = ora_writer_new(fd);
    ora_rec bad = s.recs[1].r;
    bad.sum ^= 1;
    CHECK(ora_writer_put_same(w, &bad) == 0 && ora_writer_put(w, &s.recs[2].r) == 0 && ora_writer_flush(w) == 0);
    ora_writer_free(w);
    lseek(fd, 0, SEEK_SET);
    ora_reader *rd = ora_reader_new(fd, ORA_REC_MAX_DEFAULT);
    ora_rec r;
    CHECK(ora_reader_next(rd, &r) == ORA_RD_CORRUPT &&
          strcmp(ora_reader_problem(rd)->reason, "payload checksum mismatch") == 0);
    CHECK(ora_reader_next(rd, &r) == ORA_RD_RECORD && same_rec(&r, &s.recs[2].r) && r.sum == s.recs[2].r.sum);
    ora_reader_free(rd);
    close(fd);
    s_free(&s);
}

int main(void)
{
    test_not_records();
    test_writer_same_ref();
    test_header();
    test_sound();
    test_flips();
    test_truncation();
    test_oversize();
    test_garbage();
    test_spanning();
    test_16mib();
    test_writer();
    test_torn();
    test_torn_exact(1);
    test_torn_exact(0);
    test_live(10);              /* a damaged length */
    test_live(ORA_REC_HDR + 7); /* a damaged payload */
    return unit_summary("record_test");
}
