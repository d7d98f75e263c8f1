/* record.c: record encoding, the resyncing reader and the buffered writer
 * (record.h). */
#include "record.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

static const uint8_t magic[4] = {0x93, 'O', 'R', 'A'};
/* A fixed key: the sums detect damage, they do not authenticate. */
static const uint8_t sum_key[crypto_shorthash_KEYBYTES] = "ora-records-v1!";

/* Little-endian fields; a plain copy where the host is little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
#else
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
#endif

uint64_t ora_rec_sum(const void *data, size_t len)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort(); /* libsodium cannot run at all on this machine */
        ready = 1;
    }
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, data, len, sum_key);
    return get64(h);
}

void ora_rec_init(ora_rec *r, uint8_t type)
{
    memset(r, 0, sizeof *r);
    r->type = type;
    r->offset = -1;
}

static const char *const type_names[] = {NULL, "WIRE", "MSG", "CTRL", "OUT"};

const char *ora_rec_type_name(uint8_t type)
{
    return type >= ORA_T_WIRE && type <= ORA_T_OUT ? type_names[type] : NULL;
}

uint8_t ora_rec_type_parse(const char *s)
{
    for (uint8_t t = ORA_T_WIRE; t <= ORA_T_OUT; t++)
        if (strcasecmp(s, type_names[t]) == 0)
            return t;
    return 0;
}

static const char *const flow_names[] = {"none", "snapshot", "replay", "realtime"};

const char *ora_flow_name(uint8_t flow)
{
    return flow <= ORA_FLOW_REALTIME ? flow_names[flow] : "none";
}

uint8_t ora_flow_parse(const char *s)
{
    for (uint8_t f = ORA_FLOW_SNAPSHOT; f <= ORA_FLOW_REALTIME; f++)
        if (strcmp(s, flow_names[f]) == 0)
            return f;
    return ORA_FLOW_NONE;
}

static void encode_hdr(uint8_t *d, const ora_rec *r, uint64_t psum)
{
    memcpy(d, magic, 4);
    d[4] = ORA_REC_VERSION;
    d[5] = r->type;
    put16(d + 6, r->flags);
    put32(d + 8, r->len);
    put32(d + 12, r->conn);
    put64(d + 16, r->recv_ns);
    put64(d + 24, (uint64_t)r->offset);
    put64(d + 32, r->actor_id);
    d[40] = r->flow;
    d[41] = r->kind;
    d[42] = r->actor_type;
    d[43] = 0;
    put16(d + 44, r->key_len);
    put16(d + 46, 0);
    put64(d + 48, psum);
    put64(d + 56, ora_rec_sum(d, 56));
}

size_t ora_rec_encode(uint8_t *dst, const ora_rec *r)
{
    if (r->len && dst + ORA_REC_HDR != r->payload)
        memcpy(dst + ORA_REC_HDR, r->payload, r->len);
    encode_hdr(dst, r, ora_rec_sum(dst + ORA_REC_HDR, r->len));
    return ORA_REC_HDR + (size_t)r->len;
}

const char *ora_hdr_status_str(int status)
{
    switch (status) {
    case ORA_HDR_OK: return "ok";
    case ORA_HDR_MAGIC: return "bad magic";
    case ORA_HDR_VERSION: return "unsupported version";
    case ORA_HDR_SUM: return "header checksum mismatch";
    case ORA_HDR_FIELDS: return "invalid header fields";
    case ORA_HDR_TOO_LONG: return "payload length over the maximum";
    }
    return "unknown header status";
}

int ora_rec_decode_hdr(const uint8_t *s, uint32_t max_len, ora_rec *r, uint64_t *psum)
{
    if (memcmp(s, magic, 4) != 0)
        return ORA_HDR_MAGIC;
    if (get64(s + 56) != ora_rec_sum(s, 56))
        return ORA_HDR_SUM;
    if (s[4] != ORA_REC_VERSION)
        return ORA_HDR_VERSION;
    if (s[5] < ORA_T_WIRE || s[5] > ORA_T_OUT || s[43] != 0 || get16(s + 46) != 0)
        return ORA_HDR_FIELDS;
    uint32_t len = get32(s + 8);
    if (len > max_len)
        return ORA_HDR_TOO_LONG;
    uint16_t key_len = get16(s + 44);
    if (key_len > len)
        return ORA_HDR_FIELDS;
    r->type = s[5];
    r->flags = get16(s + 6);
    r->len = len;
    r->conn = get32(s + 12);
    r->recv_ns = get64(s + 16);
    r->offset = (int64_t)get64(s + 24);
    r->actor_id = get64(s + 32);
    r->flow = s[40];
    r->kind = s[41];
    r->actor_type = s[42];
    r->key_len = key_len;
    r->payload = NULL;
    *psum = r->sum = get64(s + 48);
    return ORA_HDR_OK;
}

/* ---- reader ------------------------------------------------------------ */

#define RD_BLOCK (1u << 20)

struct ora_reader {
    int fd;
    uint32_t max_len;
    uint8_t *buf;
    size_t cap, start, end;  /* unread bytes are buf[start..end) */
    uint64_t base;           /* stream offset of buf[0] */
    int eof;
    /* a run of damaged bytes not yet reported */
    uint64_t bad_at, bad_len;
    const char *bad_reason;
    uint64_t skipped;
    int checked;             /* the start of the stream was looked at */
    ora_rd_problem problem;
    void (*on_read)(void *);
    void *on_read_arg;
};

ora_reader *ora_reader_new(int fd, uint32_t max_len)
{
    ora_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = fd;
    r->max_len = max_len;
    r->cap = RD_BLOCK;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    return r;
}

void ora_reader_free(ora_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

void ora_reader_on_read(ora_reader *r, void (*fn)(void *), void *arg)
{
    r->on_read = fn;
    r->on_read_arg = arg;
}

const ora_rd_problem *ora_reader_problem(const ora_reader *r) { return &r->problem; }
uint64_t ora_reader_pos(const ora_reader *r) { return r->base + r->start; }
uint64_t ora_reader_skipped(const ora_reader *r) { return r->skipped; }
size_t ora_reader_buffered(const ora_reader *r) { return r->end - r->start; }

/* Makes room for need unread bytes and reads more. 1 read, 0 EOF, -1 error. */
static int fill(ora_reader *r, size_t need)
{
    /* before the returned bytes move: a writer holding them by reference
     * flushes in the hook */
    if (r->on_read)
        r->on_read(r->on_read_arg);
    if (r->start > 0 && (r->cap - r->end < RD_BLOCK / 4 || r->cap - r->start < need)) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->base += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->start < need) {
        size_t cap = r->cap;
        while (cap - r->start < need)
            cap *= 2;
        uint8_t *b = realloc(r->buf, cap);
        if (!b)
            return -1;
        r->buf = b;
        r->cap = cap;
    }
    for (int again = 0;; again = 1) {
        if (again && r->on_read)
            r->on_read(r->on_read_arg);
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n > 0) {
            r->end += (size_t)n;
            return 1;
        }
        if (n == 0) {
            r->eof = 1;
            return 0;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* Distance from buf[start] to the first sound, complete record that starts
 * in buf[start + from .. start + until) among the buffered bytes; 0 when
 * there is none. */
static size_t next_sound(const ora_reader *r, size_t from, size_t until)
{
    const uint8_t *base = r->buf + r->start, *end = r->buf + r->end;
    const uint8_t *stop = base + until < end ? base + until : end;
    for (const uint8_t *q = base + from; q < stop && q + ORA_REC_HDR <= end; q++) {
        q = memchr(q, magic[0], (size_t)(stop - q));
        if (!q || q + ORA_REC_HDR > end)
            return 0;
        ora_rec h;
        uint64_t psum;
        if (ora_rec_decode_hdr(q, r->max_len, &h, &psum) == ORA_HDR_OK &&
            (size_t)(end - q) >= ORA_REC_HDR + (size_t)h.len && ora_rec_sum(q + ORA_REC_HDR, h.len) == psum)
            return (size_t)(q - base);
    }
    return 0;
}

static void mark_bad(ora_reader *r, size_t n, const char *reason)
{
    if (r->bad_len == 0) {
        r->bad_at = r->base + r->start;
        r->bad_reason = reason;
    }
    r->bad_len += n;
    r->skipped += n;
    r->start += n;
}

static int report_bad(ora_reader *r, int rc)
{
    r->problem.at = r->bad_at;
    r->problem.skipped = r->bad_len;
    r->problem.reason = r->bad_reason;
    r->bad_len = 0;
    return rc;
}

/* What a stream that does not start with the magic looks like. */
static const char *not_records_hint(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return "not records (the input does not start with the record magic): "
               "it looks like a raw ORA wire stream: use ora-deframe --raw";
    if (i < n && (p[i] == '{' || p[i] == '['))
        return "not records (the input does not start with the record magic): "
               "it looks like JSON lines: use ora-rec pack";
    return "not records (the input does not start with the record magic; see ora-records(5))";
}

/* The first call: is this records at all? 1 yes (or empty), 0 not records
 * (problem set), -1 read error. */
static int check_start(ora_reader *r)
{
    while (r->end - r->start < 4 && !r->eof)
        if (fill(r, 4) < 0)
            return -1;
    r->checked = 1;
    size_t avail = r->end - r->start;
    if (avail == 0 || memcmp(r->buf + r->start, magic, avail < 4 ? avail : 4) == 0)
        return 1;
    r->problem.at = r->base + r->start;
    r->problem.skipped = 0;
    r->problem.reason = not_records_hint(r->buf + r->start, avail);
    r->problem.not_records = 1;
    return 0;
}

int ora_reader_next(ora_reader *r, ora_rec *out)
{
    r->problem.not_records = 0;
    if (!r->checked) {
        int c = check_start(r);
        if (c < 0)
            return ORA_RD_ERROR;
        if (c == 0)
            return ORA_RD_CORRUPT;
    }
    for (;;) {
        size_t avail = r->end - r->start;
        if (avail < ORA_REC_HDR) {
            if (!r->eof) {
                if (fill(r, ORA_REC_HDR) < 0)
                    return ORA_RD_ERROR;
                continue;
            }
            if (avail == 0)
                return r->bad_len ? report_bad(r, ORA_RD_CORRUPT) : ORA_RD_EOF;
            if (r->bad_len || memcmp(r->buf + r->start, magic, avail < 4 ? avail : 4) != 0) {
                mark_bad(r, avail, r->bad_len ? r->bad_reason : "garbage at end of input");
                return report_bad(r, ORA_RD_CORRUPT);
            }
            mark_bad(r, avail, "input ends inside a record header");
            return report_bad(r, ORA_RD_TRUNCATED);
        }
        const uint8_t *p = r->buf + r->start;
        if (memcmp(p, magic, 4) != 0) {
            const uint8_t *q = memchr(p + 1, magic[0], avail - 1);
            mark_bad(r, q ? (size_t)(q - p) : avail, "bad magic");
            continue;
        }
        uint64_t psum;
        int hs = ora_rec_decode_hdr(p, r->max_len, out, &psum);
        if (hs != ORA_HDR_OK) {
            mark_bad(r, 1, ora_hdr_status_str(hs));
            continue;
        }
        size_t total = ORA_REC_HDR + (size_t)out->len;
        if (avail < total) {
            if (!r->eof) {
                if (fill(r, total) < 0)
                    return ORA_RD_ERROR;
                continue;
            }
            /* Cut short: either the last record, or a torn one that more
             * records follow (a writer died mid-record, files joined). */
            size_t next = next_sound(r, 1, avail);
            if (next) {
                mark_bad(r, next, "record cut short");
                continue;
            }
            if (r->bad_len)
                return report_bad(r, ORA_RD_CORRUPT);
            mark_bad(r, avail, "input ends inside a record");
            return report_bad(r, ORA_RD_TRUNCATED);
        }
        if (ora_rec_sum(p + ORA_REC_HDR, out->len) != psum) {
            /* A damaged payload, or a torn record whose claimed length runs
             * over the records after it. When a sound header (or the end)
             * follows at the claimed length and no sound record starts
             * inside it, only the payload is damaged: skip exactly this
             * record. Otherwise resync byte by byte. */
            if (avail < total + ORA_REC_HDR && !r->eof) {
                if (fill(r, total + ORA_REC_HDR) < 0)
                    return ORA_RD_ERROR;
                continue;
            }
            ora_rec h;
            uint64_t hs2;
            if ((avail == total ||
                 (avail >= total + ORA_REC_HDR && ora_rec_decode_hdr(p + total, r->max_len, &h, &hs2) == ORA_HDR_OK)) &&
                !next_sound(r, 1, total)) {
                if (r->bad_len)
                    return report_bad(r, ORA_RD_CORRUPT);
                mark_bad(r, total, "payload checksum mismatch");
                return report_bad(r, ORA_RD_CORRUPT);
            }
            mark_bad(r, 1, "payload checksum mismatch");
            continue;
        }
        if (r->bad_len)
            return report_bad(r, ORA_RD_CORRUPT);
        out->payload = p + ORA_REC_HDR;
        r->start += total;
        return ORA_RD_RECORD;
    }
}

/* ---- writer ------------------------------------------------------------ */

#define WR_BLOCK (256u << 10)
#define WR_SEGS 512        /* iovecs per writev(2), well under IOV_MAX */

/* Output is the buffer buf[0..used), except that payloads queued by
 * reference (ora_writer_put_ref) sit between parts of it: then seg[] lists
 * everything in order up to buf + own_from, and the bytes from there to
 * buf + used follow. */
struct ora_writer {
    int fd;
    int err;           /* first write error (sticky), 0 when none */
    uint8_t *buf;
    size_t cap, used;
    size_t pending;    /* payload length of an open reserve(), or 0 */
    struct iovec seg[WR_SEGS];
    int nseg;
    size_t own_from;
    size_t ref_bytes;  /* bytes queued by reference */
    uint64_t records, bytes;
};

ora_writer *ora_writer_new(int fd)
{
    ora_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = fd;
    w->cap = WR_BLOCK;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        free(w);
        return NULL;
    }
    return w;
}

void ora_writer_free(ora_writer *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

static void drop_queued(ora_writer *w)
{
    w->used = w->own_from = w->ref_bytes = 0;
    w->nseg = 0;
}

/* writev(2) of seg[0..n), however the kernel cuts it. 0 or -1 (errno). */
static int write_segs(int fd, struct iovec *seg, int n)
{
    while (n > 0) {
        ssize_t k = writev(fd, seg, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t done = (size_t)k;
        while (n > 0 && done >= seg->iov_len) {
            done -= seg->iov_len;
            seg++;
            n--;
        }
        if (n > 0) {
            seg->iov_base = (uint8_t *)seg->iov_base + done;
            seg->iov_len -= done;
        }
    }
    return 0;
}

int ora_writer_flush(ora_writer *w)
{
    if (w->err) {
        errno = w->err;
        return -1;
    }
    if (w->nseg) {
        if (w->used > w->own_from)
            w->seg[w->nseg++] = (struct iovec){w->buf + w->own_from, w->used - w->own_from};
        if (write_segs(w->fd, w->seg, w->nseg) < 0) {
            w->err = errno;
            drop_queued(w);   /* references are never looked at again */
            return -1;
        }
        drop_queued(w);
        return 0;
    }
    size_t off = 0;
    while (off < w->used) {
        ssize_t n = write(w->fd, w->buf + off, w->used - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w->err = errno;
            drop_queued(w);
            return -1;
        }
        off += (size_t)n;
    }
    drop_queued(w);
    return 0;
}

int ora_writer_put_ref(ora_writer *w, const ora_rec *r)
{
    if (w->err) {
        errno = w->err;
        return -1;
    }
    if ((w->cap - w->used < ORA_REC_HDR || w->nseg + 3 > WR_SEGS) && ora_writer_flush(w) < 0)
        return -1;
    encode_hdr(w->buf + w->used, r, r->sum);
    w->used += ORA_REC_HDR;
    if (r->len) {
        w->seg[w->nseg++] = (struct iovec){w->buf + w->own_from, w->used - w->own_from};
        w->own_from = w->used;
        w->seg[w->nseg++] = (struct iovec){(void *)(uintptr_t)r->payload, r->len};
        w->ref_bytes += r->len;
    }
    w->records++;
    w->bytes += ORA_REC_HDR + (uint64_t)r->len;
    if ((w->used >= WR_BLOCK || w->ref_bytes >= WR_BLOCK) && ora_writer_flush(w) < 0)
        return -1;
    return 0;
}

uint8_t *ora_writer_reserve(ora_writer *w, uint32_t len)
{
    size_t total = ORA_REC_HDR + (size_t)len;
    if (w->err) {
        errno = w->err;
        return NULL;
    }
    if (w->cap - w->used < total) {
        if (ora_writer_flush(w) < 0)
            return NULL;
        if (w->cap < total) {
            uint8_t *b = realloc(w->buf, total);
            if (!b)
                return NULL;
            w->buf = b;
            w->cap = total;
        }
    }
    w->pending = len;
    return w->buf + w->used + ORA_REC_HDR;
}

/* Takes the record encoded at the end of the buffer. */
static int commit_encoded(ora_writer *w, uint32_t len)
{
    w->used += ORA_REC_HDR + (size_t)len;
    w->pending = 0;
    w->records++;
    w->bytes += ORA_REC_HDR + (uint64_t)len;
    if (w->used + w->ref_bytes >= WR_BLOCK && ora_writer_flush(w) < 0)
        return -1;
    return 0;
}

int ora_writer_commit(ora_writer *w, const ora_rec *r)
{
    if (r->len != w->pending) {
        errno = EINVAL;
        return -1;
    }
    uint8_t *d = w->buf + w->used;
    encode_hdr(d, r, ora_rec_sum(d + ORA_REC_HDR, r->len));
    return commit_encoded(w, r->len);
}

int ora_writer_put_same(ora_writer *w, const ora_rec *r)
{
    uint8_t *p = ora_writer_reserve(w, r->len);
    if (!p)
        return -1;
    if (r->len)
        memcpy(p, r->payload, r->len);
    uint8_t *d = w->buf + w->used;
    encode_hdr(d, r, r->sum);
    return commit_encoded(w, r->len);
}

int ora_writer_put(ora_writer *w, const ora_rec *r)
{
    uint8_t *p = ora_writer_reserve(w, r->len);
    if (!p)
        return -1;
    if (r->len)
        memcpy(p, r->payload, r->len);
    return ora_writer_commit(w, r);
}

uint64_t ora_writer_records(const ora_writer *w) { return w->records; }
uint64_t ora_writer_bytes(const ora_writer *w) { return w->bytes; }
int ora_writer_error(const ora_writer *w) { return w->err; }
size_t ora_writer_buffered(const ora_writer *w) { return w->used + w->ref_bytes; }
