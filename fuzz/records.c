/* fuzz/records.c: libFuzzer target for the record reader (lib/record.c).
 *
 * Arbitrary bytes go through ora_reader via a memfd, with the default bound
 * and with a small one, and through ora_rec_decode_hdr. Checked on every input:
 *   - no crash, no leak, no read error;
 *   - every problem starts where the reader was and the position moves by
 *     exactly the bytes it skipped; every record is exactly where it was read;
 *   - records plus skipped bytes account for every input byte;
 *   - a sound record re-encodes (ora_rec_encode) to the very bytes it came
 *     from, and ora_writer writes the same bytes again, by put(), by
 *     put_same() (the sum the reader verified) and by put_ref() (writev from
 *     the reader's buffer, flushed in the reader's on_read hook);
 *   - input that does not start with the record magic is reported once, as
 *     not records, at 0 with nothing skipped; going on resyncs as before.
 * Inputs starting with 0xA5 are recipes instead (see structured()): sound
 * records plus damage, and every untouched record must be read back.
 * Seed corpus: fuzz/corpus/records/. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REQUIRE(c)                                                               \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "records fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static int in_fd = -1, out_fd = -1;

static void load(int fd, const uint8_t *data, size_t size)
{
    REQUIRE(ftruncate(fd, 0) == 0);
    size_t off = 0;
    while (off < size) {
        ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
        REQUIRE(n > 0);
        off += (size_t)n;
    }
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
}

static void flush_writer(void *w)
{
    REQUIRE(ora_writer_flush(w) == 0);
}

/* The next item rd reads into r, and where the reader stood before it (*at).
 * A read error is never the input's doing (a memfd does not fail). */
static int next_item(ora_reader *rd, ora_rec *r, uint64_t *at)
{
    *at = ora_reader_pos(rd);
    int rc = ora_reader_next(rd, r);
    REQUIRE(rc != ORA_RD_ERROR);
    return rc;
}

static void read_stream(const uint8_t *data, size_t size, uint32_t max_len)
{
    load(in_fd, data, size);
    REQUIRE(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0);
    ora_reader *rd = ora_reader_new(in_fd, max_len);
    ora_writer *wr = ora_writer_new(out_fd);
    REQUIRE(rd && wr);
    ora_reader_on_read(rd, flush_writer, wr);   /* before its buffer moves */
    uint8_t *enc = malloc(size + ORA_REC_HDR);
    uint8_t *sound = malloc(size + 1);  /* the bytes of every sound record, in order */
    REQUIRE(enc && sound);
    size_t sound_len = 0;
    uint64_t problems = 0;
    int said_not_records = 0;
    ora_rec r;
    uint64_t before;
    int rc;
    while ((rc = next_item(rd, &r, &before)) != ORA_RD_EOF) {
        uint64_t after = ora_reader_pos(rd);
        if (rc == ORA_RD_CORRUPT && ora_reader_problem(rd)->not_records) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            REQUIRE(before == 0 && after == 0 && p->at == 0 && p->skipped == 0 && problems == 0 && size > 0);
            REQUIRE(!said_not_records && memcmp(data, "\x93ORA", size < 4 ? size : 4) != 0);
            said_not_records = 1;
            continue;
        }
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            REQUIRE(p->at == before && p->skipped > 0 && after == p->at + p->skipped);
            REQUIRE(p->reason && *p->reason);
            REQUIRE(after <= size);
            problems++;
            REQUIRE(problems <= size); /* always progress */
            continue;
        }
        REQUIRE(rc == ORA_RD_RECORD);
        REQUIRE(r.len <= max_len && r.key_len <= r.len);
        REQUIRE(r.type >= ORA_T_WIRE && r.type <= ORA_T_OUT);
        REQUIRE(after == before + ORA_REC_HDR + r.len && after <= size);
        REQUIRE(r.payload && (r.len == 0 || memcmp(r.payload, data + before + ORA_REC_HDR, r.len) == 0));
        size_t n = ora_rec_encode(enc, &r);
        REQUIRE(n == ORA_REC_HDR + (size_t)r.len);
        REQUIRE(memcmp(enc, data + before, n) == 0);
        memcpy(sound + sound_len, enc, n);
        sound_len += n;
        REQUIRE(r.len == 0 || ora_rec_sum(r.payload, r.len) == r.sum);
        switch (before % 3) {
        case 0: REQUIRE(ora_writer_put(wr, &r) == 0); break;
        case 1: REQUIRE(ora_writer_put_same(wr, &r) == 0); break;
        default: REQUIRE(ora_writer_put_ref(wr, &r) == 0); break;
        }
    }
    REQUIRE(said_not_records == (size > 0 && memcmp(data, "\x93ORA", size < 4 ? size : 4) != 0));
    REQUIRE(ora_reader_pos(rd) == size);
    REQUIRE(ora_reader_skipped(rd) + sound_len == size);
    REQUIRE(ora_reader_next(rd, &r) == ORA_RD_EOF);
    REQUIRE(ora_writer_flush(wr) == 0);
    REQUIRE(ora_writer_bytes(wr) == sound_len);
    if (sound_len) {
        REQUIRE(pread(out_fd, enc, sound_len, 0) == (ssize_t)sound_len);
        REQUIRE(memcmp(enc, sound, sound_len) == 0);
    }
    ora_writer_free(wr);
    ora_reader_free(rd);
    free(enc);
    free(sound);
}

/* The header decoder alone, at a few places of the input. */
static void decode_headers(const uint8_t *data, size_t size)
{
    if (size < ORA_REC_HDR)
        return;
    size_t at[3] = {0, size - ORA_REC_HDR, (size - ORA_REC_HDR) / 2};
    for (int i = 0; i < 3; i++) {
        ora_rec r;
        uint64_t psum;
        const uint8_t *h = data + at[i];
        int st = ora_rec_decode_hdr(h, UINT32_MAX, &r, &psum);
        REQUIRE(st >= ORA_HDR_OK && st <= ORA_HDR_TOO_LONG && ora_hdr_status_str(st));
        if (st != ORA_HDR_OK)
            continue;
        REQUIRE(r.key_len <= r.len && r.payload == NULL);
        REQUIRE(ora_rec_decode_hdr(h, r.len, &r, &psum) == ORA_HDR_OK);
        if (r.len > 0)
            REQUIRE(ora_rec_decode_hdr(h, r.len - 1, &r, &psum) == ORA_HDR_TOO_LONG);
        /* With its payload present and sound, the record re-encodes to itself. */
        if (at[i] + ORA_REC_HDR + r.len <= size && ora_rec_sum(h + ORA_REC_HDR, r.len) == psum) {
            uint8_t *enc = malloc(ORA_REC_HDR + (size_t)r.len);
            REQUIRE(enc);
            r.payload = h + ORA_REC_HDR;
            ora_rec_encode(enc, &r);
            REQUIRE(memcmp(enc, h, ORA_REC_HDR + (size_t)r.len) == 0);
            free(enc);
        }
    }
}

/* ---- structured mode: sound records, then damage, then a strict oracle ---- *
 * An input starting with 0xA5 is a recipe: records built from it (their sums
 * are right, which random bytes never manage), then damage (flipped bytes,
 * garbage inserted, records torn, cut inside a header, the end cut off).
 * Every record the damage did not touch must come back, in order, at its
 * place; nothing else may. Payload and garbage bytes never hold the magic's
 * first byte except in deliberate fake magic, so no sound record can hide
 * inside damaged bytes. */

#define MAX_SEGS 96

typedef struct {
    uint8_t *b;
    size_t n;
    int rec;      /* a record (else garbage) */
    int damaged;  /* set at the end: the record as made is not where it was */
    uint8_t *orig;
    size_t orig_n;
} seg;

typedef struct { const uint8_t *p; size_t n, i; } recipe;
static uint8_t take(recipe *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static int more(const recipe *r) { return r->i < r->n; }

static uint8_t no_magic(uint8_t c) { return c == 0x93 ? 0x92 : c; }

static void structured(const uint8_t *data, size_t size)
{
    recipe rp = {data + 1, size - 1, 0};
    seg s[MAX_SEGS];
    size_t ns = 0;
    size_t nrec = 1 + take(&rp) % 12;
    for (size_t k = 0; k < nrec; k++) {
        ora_rec r;
        ora_rec_init(&r, (uint8_t)(ORA_T_WIRE + take(&rp) % 4));
        r.len = (uint32_t)((take(&rp) | take(&rp) << 8) % 700);
        uint8_t *pl = malloc(r.len + 1);
        REQUIRE(pl);
        for (uint32_t j = 0; j < r.len; j++)
            pl[j] = no_magic(more(&rp) ? take(&rp) : (uint8_t)(j * 13 + k));
        r.payload = pl;
        r.conn = take(&rp);
        r.offset = (int64_t)take(&rp) - 1;
        r.recv_ns = (uint64_t)take(&rp) << 40;
        r.flow = take(&rp) % 4;
        if (r.type == ORA_T_OUT)
            r.key_len = (uint16_t)(r.len < 5 ? r.len : 5);
        s[ns].b = malloc(ORA_REC_HDR + r.len);
        REQUIRE(s[ns].b);
        s[ns].n = ora_rec_encode(s[ns].b, &r);
        s[ns].rec = 1;
        s[ns].damaged = 0;
        s[ns].orig = malloc(s[ns].n);
        REQUIRE(s[ns].orig);
        memcpy(s[ns].orig, s[ns].b, s[ns].n);
        s[ns].orig_n = s[ns].n;
        ns++;
        free(pl);
    }
    int cut_end = 0;
    for (int ops = 0; more(&rp) && ops < 24 && ns < MAX_SEGS && !cut_end; ops++) {
        uint8_t op = take(&rp) % 6;
        size_t k = take(&rp) % ns;
        size_t arg = (size_t)take(&rp) | (size_t)take(&rp) << 8;
        seg *g = &s[k];
        switch (op) {
        case 0: /* flip bits of one byte */
            if (g->n) {
                uint8_t x = take(&rp);
                g->b[arg % g->n] ^= x ? x : 1;
                if (!g->rec)
                    g->b[arg % g->n] = no_magic(g->b[arg % g->n]);
            }
            break;
        case 1: { /* garbage before segment k, maybe with fake magic */
            size_t n = 1 + arg % 90;
            uint8_t *b = malloc(n);
            REQUIRE(b);
            for (size_t j = 0; j < n; j++)
                b[j] = no_magic(take(&rp));
            if (n >= 4 && arg & 0x100)
                memcpy(b + (arg >> 9) % (n - 3), "\x93ORA", 4);
            memmove(s + k + 1, s + k, (ns - k) * sizeof *s);
            s[k] = (seg){b, n, 0, 0, NULL, 0};
            ns++;
            break;
        }
        case 2: /* tear a record: keep its header and part of its payload */
            if (g->rec && g->n > ORA_REC_HDR) {
                g->n = ORA_REC_HDR + arg % (g->n - ORA_REC_HDR);
            }
            break;
        case 3: /* cut a record inside its header */
            if (g->rec && g->n >= ORA_REC_HDR)
                g->n = 1 + arg % (ORA_REC_HDR - 1);
            break;
        case 4: /* drop a whole segment (a lost record is no damage to read) */
            if (ns > 1) {
                free(g->b);
                free(g->orig);
                memmove(s + k, s + k + 1, (ns - k - 1) * sizeof *s);
                ns--;
            }
            break;
        case 5: /* cut the end of the stream off: the last op */
            g = &s[ns - 1];
            if (g->n > 1)
                g->n = 1 + arg % (g->n - 1);
            cut_end = 1;
            break;
        }
    }
    /* The stream, and where each sound record sits in it: where a record as
     * made still stands (damage can restore it by chance, say a torn record
     * followed by bytes equal to the ones cut), and no earlier one covers it. */
    size_t total = 0;
    for (size_t k = 0; k < ns; k++)
        total += s[k].n;
    uint8_t *st = malloc(total + 1);
    uint64_t want_at[MAX_SEGS];
    size_t nwant = 0, off = 0, covered = 0;
    REQUIRE(st);
    for (size_t k = 0; k < ns; k++) {
        memcpy(st + off, s[k].b, s[k].n);
        off += s[k].n;
    }
    off = 0;
    for (size_t k = 0; k < ns; k++) {
        s[k].damaged = !s[k].rec || off < covered || off + s[k].orig_n > total ||
                       memcmp(st + off, s[k].orig, s[k].orig_n) != 0;
        if (!s[k].damaged) {
            want_at[nwant++] = off;
            covered = off + s[k].orig_n;
        }
        off += s[k].n;
    }
    load(in_fd, st, total);
    ora_reader *rd = ora_reader_new(in_fd, ORA_REC_MAX_DEFAULT);
    REQUIRE(rd);
    size_t got = 0;
    ora_rec r;
    uint64_t before;
    int rc;
    while ((rc = next_item(rd, &r, &before)) != ORA_RD_EOF) {
        if (rc != ORA_RD_RECORD)
            continue;
        if (!(got < nwant && want_at[got] == before)) {
            fprintf(stderr, "records fuzz: record %zu read at %llu; want", got, (unsigned long long)before);
            for (size_t i = 0; i < nwant; i++)
                fprintf(stderr, " %llu", (unsigned long long)want_at[i]);
            fprintf(stderr, "\n");
            abort();
        }
        got++;
    }
    if (got != nwant) {
        fprintf(stderr, "records fuzz: %zu of %zu sound records read\n", got, nwant);
        abort();
    }
    REQUIRE(ora_reader_pos(rd) == total);
    ora_reader_free(rd);
    free(st);
    for (size_t k = 0; k < ns; k++) {
        free(s[k].b);
        free(s[k].orig);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (in_fd < 0) {
        in_fd = memfd_create("records-in", MFD_CLOEXEC);
        out_fd = memfd_create("records-out", MFD_CLOEXEC);
        REQUIRE(in_fd >= 0 && out_fd >= 0);
    }
    if (size > 0 && data[0] == 0xA5) {
        structured(data, size);
        return 0;
    }
    read_stream(data, size, ORA_REC_MAX_DEFAULT);
    read_stream(data, size, 200);
    decode_headers(data, size);
    return 0;
}
