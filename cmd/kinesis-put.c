/* kinesis-put: OUT records in, Kinesis PutRecords out (man/kinesis-put.1).
 *
 * Every record is held until Kinesis acknowledged it; only failed entries
 * are retried, with exponential backoff and full jitter; a partition key
 * with a record in flight or waiting for a retry holds its later records
 * back, so per-key order survives retries. A CTRL checkpoint W is
 * committed to --checkpoint once every OUT record read before it was
 * acknowledged (design.md §4).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "aws_config.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "json.h"
#include "kinesis.h"
#include "ora.h"
#include "record.h"
#include "sigv4.h"


/* ---- state ------------------------------------------------------------- */

typedef struct keyst keyst;

typedef struct entry {
    uint64_t seq;                 /* input order among OUT records */
    struct entry *snext, *sprev;  /* unacknowledged list, by seq */
    struct entry *next;           /* ready queue or key wait queue */
    keyst *ks;
    uint8_t *buf;                 /* key, then data */
    uint16_t klen;
    uint32_t dlen;
    int64_t offset;
    uint64_t recv_ns;
    double t_read, t_ready, t_sent, due;
    uint32_t attempts;
} entry;

struct keyst {
    keyst *hnext;
    uint64_t hash;
    entry *wq_head, *wq_tail;     /* later records of this key, waiting */
    uint16_t klen;
    uint8_t key[];
};

typedef struct queue {
    entry *head, *tail;
    size_t n;
    uint64_t bytes;
} queue;

typedef struct req {
    CURL *easy;
    struct curl_slist *hdrs;
    ora_buf body, resp;
    entry **ents;
    uint8_t *status;
    size_t n;
    int busy;
    double t_start;
    char errbuf[CURL_ERROR_SIZE];
} req;

typedef struct ckpt {
    uint64_t seq;   /* OUT records before it */
    int64_t w;
} ckpt;

static struct {
    /* options */
    const char *stream, *checkpoint, *dead_letter, *latency_log, *in_path, *out_path;
    const char *endpoint_url, *region, *profile;
    int to_stdout, oversize_fail, strict;
    uint32_t concurrency, max_records;
    uint64_t max_request_bytes, max_record_bytes, max_pending, max_pending_bytes;
    double linger, backoff_min, backoff_max, timeout;
    long max_retries; /* -1: never give up */
    uint32_t max_record;

    /* runtime */
    aws_config aws;
    char host[512], path[512];
    CURLM *multi;
    req *reqs;
    uint32_t inflight;
    queue ready, retry_ready;
    entry **heap;
    size_t heap_n, heap_cap;
    entry *s_head, *s_tail;       /* unacknowledged, by seq */
    keyst **kt;
    size_t kt_cap, kt_n;
    ckpt *cks;
    size_t ck_head, ck_n, ck_cap;
    uint64_t next_seq;
    uint64_t pending, pending_bytes;
    double gate;                  /* no request before this (after request failures) */
    uint32_t gate_fails;
    uint64_t rnd;
    int input_done, stop_reading, exit_code, fatal, signals;
    int in_partial;               /* buffered input is an incomplete record */
    FILE *lat;
    int out_fd;
    ora_buf line;
    double last_warn, last_cred;

    /* counters */
    uint64_t in_out, in_ctrl, in_other, ctrl_ignored, acked, acked_bytes, requests, req_failed,
        retries, throttles, dropped, bad, corrupt, commits, dead;
    int64_t committed;
    int has_committed;
} S;

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
    (void)sig;
    got_term++;
}

/* ---- small helpers ------------------------------------------------------ */

static uint32_t rnd32(void)
{
    uint64_t x = S.rnd;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    S.rnd = x;
    return (uint32_t)(x >> 32);
}

/* Full jitter: uniform in [0, min(max, min * 2^(n-1))]. */
static double backoff(uint32_t n)
{
    double c = S.backoff_min * pow(2.0, n > 0 ? (double)(n - 1) : 0.0);
    if (c > S.backoff_max || !isfinite(c))
        c = S.backoff_max;
    return c * (double)rnd32() / 4294967296.0;
}

static void q_push(queue *q, entry *e)
{
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->n++;
    q->bytes += (uint64_t)e->klen + e->dlen;
}

static entry *q_pop(queue *q)
{
    entry *e = q->head;
    if (!e)
        return NULL;
    q->head = e->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    q->bytes -= (uint64_t)e->klen + e->dlen;
    e->next = NULL;
    return e;
}

static void heap_push(entry *e)
{
    if (S.heap_n == S.heap_cap) {
        size_t nc = S.heap_cap ? S.heap_cap * 2 : 1024;
        entry **h = realloc(S.heap, nc * sizeof *h);
        if (!h) {
            log_error("unable to queue a retry: out of memory");
            exit(ORA_EX_SOFTWARE);
        }
        S.heap = h;
        S.heap_cap = nc;
    }
    size_t i = S.heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (S.heap[p]->due <= e->due)
            break;
        S.heap[i] = S.heap[p];
        i = p;
    }
    S.heap[i] = e;
}

static entry *heap_pop(void)
{
    entry *top = S.heap[0], *last = S.heap[--S.heap_n];
    size_t i = 0, n = S.heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && S.heap[c + 1]->due < S.heap[c]->due)
            c++;
        if (S.heap[c]->due >= last->due)
            break;
        S.heap[i] = S.heap[c];
        i = c;
    }
    if (n)
        S.heap[i] = last;
    return top;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void kt_grow(void)
{
    size_t nc = S.kt_cap ? S.kt_cap * 2 : 4096;
    keyst **t = calloc(nc, sizeof *t);
    if (!t)
        return; /* chains just get longer */
    for (size_t i = 0; i < S.kt_cap; i++)
        for (keyst *k = S.kt[i], *nx; k; k = nx) {
            nx = k->hnext;
            k->hnext = t[k->hash & (nc - 1)];
            t[k->hash & (nc - 1)] = k;
        }
    free(S.kt);
    S.kt = t;
    S.kt_cap = nc;
}

/* The busy state of a key, or NULL when the key is idle. */
static keyst *kt_find(const uint8_t *key, uint16_t klen, uint64_t h)
{
    if (!S.kt_cap)
        return NULL;
    for (keyst *k = S.kt[h & (S.kt_cap - 1)]; k; k = k->hnext)
        if (k->hash == h && k->klen == klen && memcmp(k->key, key, klen) == 0)
            return k;
    return NULL;
}

static keyst *kt_add(const uint8_t *key, uint16_t klen, uint64_t h)
{
    if (S.kt_n >= S.kt_cap)
        kt_grow();
    keyst *k = calloc(1, sizeof *k + klen);
    if (!k)
        return NULL;
    k->hash = h;
    k->klen = klen;
    memcpy(k->key, key, klen);
    k->hnext = S.kt[h & (S.kt_cap - 1)];
    S.kt[h & (S.kt_cap - 1)] = k;
    S.kt_n++;
    return k;
}

static void kt_del(keyst *k)
{
    keyst **pp = &S.kt[k->hash & (S.kt_cap - 1)];
    while (*pp != k)
        pp = &(*pp)->hnext;
    *pp = k->hnext;
    S.kt_n--;
    free(k);
}

/* ---- checkpoints -------------------------------------------------------- */

static uint64_t min_unacked(void)
{
    return S.s_head ? S.s_head->seq : S.next_seq;
}

static void try_commit(void)
{
    uint64_t m = min_unacked();
    int have = 0;
    int64_t w = 0;
    while (S.ck_n && S.cks[S.ck_head].seq <= m) {
        w = S.cks[S.ck_head].w;
        have = 1;
        S.ck_head = (S.ck_head + 1) % S.ck_cap;
        S.ck_n--;
    }
    if (!have)
        return;
    if (S.checkpoint) {
        if (checkpoint_commit(S.checkpoint, w) < 0) {
            log_error("unable to commit checkpoint %" PRId64 " to %s: %s", w, S.checkpoint, strerror(errno));
            S.exit_code = ORA_EX_IOERR;
            S.fatal = 1;
            return;
        }
        log_debug("committed checkpoint %" PRId64, w);
    }
    S.committed = w;
    S.has_committed = 1;
    S.commits++;
}

static void add_ckpt(int64_t w)
{
    if (S.ck_n == S.ck_cap) {
        size_t nc = S.ck_cap ? S.ck_cap * 2 : 64;
        ckpt *c = malloc(nc * sizeof *c);
        if (!c) {
            log_error("unable to queue checkpoint: out of memory");
            exit(ORA_EX_SOFTWARE);
        }
        for (size_t i = 0; i < S.ck_n; i++)
            c[i] = S.cks[(S.ck_head + i) % S.ck_cap];
        free(S.cks);
        S.cks = c;
        S.ck_cap = nc;
        S.ck_head = 0;
    }
    S.cks[(S.ck_head + S.ck_n) % S.ck_cap] = (ckpt){S.next_seq, w};
    S.ck_n++;
    try_commit();
}

/* ---- entries ------------------------------------------------------------ */

static void entry_free(entry *e)
{
    free(e->buf);
    free(e);
}

/* Done with e (acknowledged or dropped after acceptance): unlink, release
 * its key, free it. */
static void entry_done(entry *e)
{
    if (e->sprev)
        e->sprev->snext = e->snext;
    else
        S.s_head = e->snext;
    if (e->snext)
        e->snext->sprev = e->sprev;
    else
        S.s_tail = e->sprev;
    S.pending--;
    S.pending_bytes -= (uint64_t)e->klen + e->dlen;
    keyst *k = e->ks;
    if (k) {
        entry *nx = k->wq_head;
        if (nx) {
            k->wq_head = nx->next;
            if (!k->wq_head)
                k->wq_tail = NULL;
            /* It has waited a round trip already: send it without lingering. */
            nx->t_ready = cli_now();
            q_push(&S.retry_ready, nx);
        } else {
            kt_del(k);
        }
    }
    entry_free(e);
}

static void ack(entry *e, double now)
{
    S.acked++;
    S.acked_bytes += (uint64_t)e->klen + e->dlen;
    if (S.lat && e->recv_ns) {
        double wall = (double)cli_wall_ns() / 1e9, rs = (double)e->recv_ns / 1e9;
        double sent_wall = wall - (now - e->t_sent);
        fprintf(S.lat, "%" PRId64 " %.0f %.0f\n", e->offset, (sent_wall - rs) * 1e6, (wall - rs) * 1e6);
    }
    entry_done(e);
}

static void warn_limited(double *last, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_limited(double *last, int err, const char *fmt, ...)
{
    double now = cli_now();
    if (*last && now - *last < 1.0)
        return;
    *last = now;
    va_list ap;
    va_start(ap, fmt);
    log_at(err ? ORA_LOG_ERROR : ORA_LOG_WARN, fmt, ap);
    va_end(ap);
}

/* Entry e was not accepted: schedule its retry (or give up). */
static void fail_entry(entry *e, double now, int throttled)
{
    e->attempts++;
    S.retries++;
    S.throttles += throttled != 0;
    if (S.max_retries >= 0 && (long)e->attempts > S.max_retries && !S.fatal) {
        log_error("unable to deliver record (key %.*s, offset %" PRId64 ") after %u attempts: giving up "
                  "(--max-retries %ld)",
                  (int)(e->klen > 64 ? 64 : e->klen), (const char *)e->buf, e->offset, e->attempts, S.max_retries);
        S.fatal = 1;
        S.exit_code = ORA_EX_TEMPFAIL;
    }
    e->due = now + backoff(e->attempts);
    heap_push(e);
}

/* ---- input -------------------------------------------------------------- */

static void bad_record(const char *what, const ora_rec *r)
{
    const uint8_t *k = r->payload;
    size_t kl = r->key_len <= r->len ? r->key_len : 0;
    if (S.oversize_fail) {
        log_error("unable to send record (key %.*s, offset %" PRId64 "): %s (--oversize fail)", (int)(kl > 64 ? 64 : kl),
                  (const char *)k, r->offset, what);
        S.exit_code = ORA_EX_DATAERR;
        S.stop_reading = 1;
    } else {
        log_warn("dropping record (key %.*s, offset %" PRId64 "): %s", (int)(kl > 64 ? 64 : kl), (const char *)k,
                 r->offset, what);
    }
    S.dropped++;
}

static void take_out(const ora_rec *r)
{
    S.in_out++;
    if (r->key_len > r->len) {
        S.bad++;
        bad_record("key length beyond the payload", r);
        return;
    }
    uint32_t dlen = r->len - r->key_len;
    char why[96];
    long chars = kinesis_utf8_chars(r->payload, r->key_len);
    if (r->key_len == 0 || chars < 1 || chars > KINESIS_KEY_MAX_CHARS) {
        snprintf(why, sizeof why, chars < 0 ? "partition key is not UTF-8" : "partition key has %ld characters (1..256)",
                 chars);
        bad_record(why, r);
        return;
    }
    if ((uint64_t)r->len > S.max_record_bytes) {
        snprintf(why, sizeof why, "%u bytes with its key, over the %" PRIu64 "-byte limit", r->len,
                 S.max_record_bytes);
        bad_record(why, r);
        return;
    }
    entry *e = calloc(1, sizeof *e);
    uint8_t *b = malloc(r->len ? r->len : 1);
    if (!e || !b) {
        log_error("unable to hold a record: out of memory");
        exit(ORA_EX_SOFTWARE);
    }
    memcpy(b, r->payload, r->len);
    e->buf = b;
    e->klen = r->key_len;
    e->dlen = dlen;
    e->offset = r->offset;
    e->recv_ns = r->recv_ns;
    e->seq = S.next_seq++;
    e->t_read = e->t_ready = cli_now();
    e->sprev = S.s_tail;
    if (S.s_tail)
        S.s_tail->snext = e;
    else
        S.s_head = e;
    S.s_tail = e;
    S.pending++;
    S.pending_bytes += r->len;
    uint64_t h = fnv(b, e->klen);
    keyst *k = kt_find(b, e->klen, h);
    if (k) { /* the key is busy: wait behind it */
        e->ks = k;
        if (k->wq_tail)
            k->wq_tail->next = e;
        else
            k->wq_head = e;
        k->wq_tail = e;
        return;
    }
    e->ks = kt_add(b, e->klen, h);
    if (!e->ks) {
        log_error("unable to track a key: out of memory");
        exit(ORA_EX_SOFTWARE);
    }
    q_push(&S.ready, e);
}

static void take_ctrl(const ora_rec *r)
{
    S.in_ctrl++;
    if (r->kind != ORA_C_CHECKPOINT) {
        S.ctrl_ignored++;
        return;
    }
    int64_t w = r->offset;
    cJSON *j = cJSON_ParseWithLength((const char *)r->payload, r->len);
    const cJSON *o = j ? cJSON_GetObjectItemCaseSensitive(j, "offset") : NULL;
    if (cJSON_IsNumber(o))
        w = (int64_t)o->valuedouble;
    cJSON_Delete(j);
    if (w < 0) {
        log_warn("ignoring checkpoint record without offset");
        S.ctrl_ignored++;
        return;
    }
    add_ckpt(w);
}

/* Reads records while input is ready; never waits for more than the rest
 * of a record that has started arriving. */
static void read_input(ora_reader *rd, int readable)
{
    int budget = 4096;
    while (!S.input_done && !S.stop_reading && budget-- > 0 &&
           S.pending < S.max_pending && S.pending_bytes < S.max_pending_bytes) {
        if (!readable && (ora_reader_buffered(rd) == 0 || S.in_partial))
            return;
        readable = 0;
        ora_rec r;
        int rc = ora_reader_next(rd, &r);
        S.in_partial = rc == ORA_RD_ERROR && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (rc == ORA_RD_RECORD) {
            if (r.type == ORA_T_OUT)
                take_out(&r);
            else if (r.type == ORA_T_CTRL)
                take_ctrl(&r);
            else {
                if (!S.in_other)
                    log_warn("ignoring %s records (only OUT and CTRL are sent)", ora_rec_type_name(r.type));
                S.in_other++;
            }
        } else if (rc == ORA_RD_EOF) {
            S.input_done = 1;
        } else if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            S.corrupt++;
            static uint64_t warned;
            int w = 0;
            if (p->not_records) { /* issue 14: not records at all, stop at once */
                log_error("unable to read input: %s", p->reason);
                S.exit_code = ORA_EX_DATAERR;
                S.stop_reading = 1;
            } else if (S.strict) {
                log_error("unable to read input: %s at byte %" PRIu64 " (%" PRIu64 " bytes) (--strict)", p->reason,
                          p->at, p->skipped);
                S.exit_code = ORA_EX_DATAERR;
                S.stop_reading = 1;
            } else if ((w = ora_warn_next(&warned))) {
                log_warn("skipped %" PRIu64 " bytes of input at byte %" PRIu64 ": %s%s", p->skipped, p->at, p->reason,
                         w == 2 ? ORA_WARN_MORE : "");
            }
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return; /* the rest of a record has not arrived: poll again */
        } else {
            log_error("unable to read input: %s", strerror(errno));
            S.exit_code = ORA_EX_IOERR;
            S.input_done = 1;
        }
    }
}

/* ---- batches ------------------------------------------------------------ */

static void promote_due(double now)
{
    while (S.heap_n && S.heap[0]->due <= now)
        q_push(&S.retry_ready, heap_pop());
}

static int sendable(double now)
{
    if (S.fatal)
        return 0;
    if (!S.to_stdout && now < S.gate)
        return 0;
    if (S.retry_ready.n)
        return 1;
    if (!S.ready.n)
        return 0;
    if (S.ready.n >= S.max_records || S.ready.bytes >= S.max_request_bytes)
        return 1;
    if (S.input_done || S.stop_reading || now - S.ready.head->t_ready >= S.linger)
        return 1;
    return 0;
}

/* Takes up to the batch limits from the retry queue, then the ready queue. */
static size_t take_batch(entry **out)
{
    size_t n = 0;
    uint64_t bytes = 0;
    queue *qs[2] = {&S.retry_ready, &S.ready};
    for (int qi = 0; qi < 2; qi++) {
        queue *q = qs[qi];
        while (q->head && n < S.max_records) {
            uint64_t sz = (uint64_t)q->head->klen + q->head->dlen;
            if (n && bytes + sz > S.max_request_bytes)
                return n;
            bytes += sz;
            out[n++] = q_pop(q);
        }
    }
    return n;
}

static void write_stdout_batch(double now)
{
    entry *batch[KINESIS_MAX_RECORDS];
    size_t n = take_batch(batch);
    ora_buf *b = &S.line;
    b->len = 0;
    for (size_t i = 0; i < n; i++) {
        entry *e = batch[i];
        ora_buf_append(b, "{\"PartitionKey\":", 16);
        ora_json_str(b, (const char *)e->buf, e->klen);
        ora_buf_append(b, ",\"Data\":", 8);
        if (e->dlen == 0) {
            ora_buf_append(b, "null", 4);
        } else {
            size_t at = b->len;
            if (ora_buf_append(b, e->buf + e->klen, e->dlen) == 0)
                for (size_t k = at; k < b->len; k++)
                    if (b->p[k] == '\n' || b->p[k] == '\r')
                        b->p[k] = ' ';
        }
        if (ora_buf_append(b, "}\n", 2) < 0) {
            log_error("unable to format output: out of memory");
            exit(ORA_EX_SOFTWARE);
        }
    }
    S.requests++;
    if (cli_write_all(S.out_fd, b->p, b->len) < 0) {
        log_error("unable to write output: %s", strerror(errno));
        S.exit_code = ORA_EX_IOERR;
        S.fatal = 1;
        for (size_t i = 0; i < n; i++) /* back, for the dead letter */
            q_push(&S.retry_ready, batch[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        batch[i]->t_sent = now;
        ack(batch[i], now);
    }
    try_commit();
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    req *r = ud;
    return ora_buf_append(&r->resp, p, sz * nm) == 0 ? sz * nm : 0;
}

/* Frees a header list, wiping it first: it holds the session token. */
static void free_hdrs(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

static int send_batch(double now)
{
    req *r = NULL;
    for (uint32_t i = 0; i < S.concurrency; i++)
        if (!S.reqs[i].busy) {
            r = &S.reqs[i];
            break;
        }
    if (!r)
        return -1;
    r->n = take_batch(r->ents);
    if (!r->n)
        return -1;
    if (kinesis_body_begin(&r->body, S.stream) < 0)
        goto oom;
    for (size_t i = 0; i < r->n; i++) {
        entry *e = r->ents[i];
        if (kinesis_body_add(&r->body, i == 0, e->buf, e->klen, e->buf + e->klen, e->dlen) < 0)
            goto oom;
        if (e->attempts == 0)
            e->t_sent = now;
    }
    if (kinesis_body_end(&r->body) < 0)
        goto oom;

    char date[17];
    sigv4_amz_date(time(NULL), date);
    sigv4_header hs[3] = {{"Host", S.host}, {"Content-Type", KINESIS_CONTENT_TYPE}, {"X-Amz-Target", KINESIS_TARGET}};
    sigv4_params p = {S.aws.access_key, S.aws.secret_key, S.aws.session_token, S.aws.region, "kinesis", date, 1, 1, 0};
    sigv4_request rq = {"POST", S.path, NULL, hs, 3, r->body.p, r->body.len};
    sigv4_out so;
    memset(&so, 0, sizeof so);
    if (sigv4_sign(&rq, &p, &so) < 0) {
        sigv4_out_free(&so);
        log_error("unable to sign request: %s", strerror(errno));
        exit(ORA_EX_SOFTWARE);
    }
    ora_buf hb = ORA_BUF_INIT;
    free_hdrs(r->hdrs);
    r->hdrs = NULL;
    const char *fixed[] = {"Content-Type: " KINESIS_CONTENT_TYPE, "X-Amz-Target: " KINESIS_TARGET, "Expect:",
                           "Accept:"};
    for (int i = 0; i < 4; i++)
        r->hdrs = curl_slist_append(r->hdrs, fixed[i]);
    hb.len = 0;
    ora_buf_printf(&hb, "Host: %s%c", S.host, 0);
    r->hdrs = curl_slist_append(r->hdrs, (char *)hb.p);
    hb.len = 0;
    ora_buf_printf(&hb, "X-Amz-Date: %s%c", date, 0);
    r->hdrs = curl_slist_append(r->hdrs, (char *)hb.p);
    if (S.aws.session_token) {
        hb.len = 0;
        ora_buf_printf(&hb, "X-Amz-Security-Token: %s%c", S.aws.session_token, 0);
        r->hdrs = curl_slist_append(r->hdrs, (char *)hb.p);
        sodium_memzero(hb.p, hb.cap);
    }
    hb.len = 0;
    ora_buf_printf(&hb, "Authorization: %s%c", so.authorization, 0);
    r->hdrs = curl_slist_append(r->hdrs, (char *)hb.p);
    ora_buf_free(&hb);
    sigv4_out_free(&so);
    if (!r->hdrs)
        goto oom;

    r->resp.len = 0;
    r->errbuf[0] = 0;
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, (char *)r->body.p);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    if (curl_multi_add_handle(S.multi, r->easy) != CURLM_OK) {
        log_error("unable to start request: curl_multi_add_handle failed");
        exit(ORA_EX_SOFTWARE);
    }
    r->busy = 1;
    r->t_start = now;
    S.inflight++;
    S.requests++;
    return 0;
oom:
    log_error("unable to build request: out of memory");
    exit(ORA_EX_SOFTWARE);
}

static void request_failed(req *r, double now, int cls, const char *why)
{
    S.req_failed++;
    int thr = cls == KINESIS_C_THROTTLE;
    for (size_t i = 0; i < r->n; i++)
        fail_entry(r->ents[i], now, thr);
    S.gate_fails++;
    S.gate = now + backoff(S.gate_fails);
    if (cls == KINESIS_C_CREDENTIALS) {
        warn_limited(&S.last_cred, 1, "unable to put records: AWS rejected the credentials (%s; credentials from %s); "
                     "retrying", why, S.aws.cred_source);
        /* Shared files may have been refreshed: read them again. */
        aws_config fresh;
        char err[256];
        aws_config_opts o = {S.profile, S.region, S.endpoint_url, "kinesis", "KINESIS"};
        if (aws_config_load(&fresh, &o, err, sizeof err) == 0) {
            aws_config_free(&S.aws);
            S.aws = fresh;
        }
    } else if (cls == KINESIS_C_NOT_FOUND || cls == KINESIS_C_FATAL) {
        log_error("unable to put records to stream %s: %s", S.stream, why);
        if (!S.fatal) {
            S.fatal = 1;
            S.exit_code = cls == KINESIS_C_NOT_FOUND ? ORA_EX_CONFIG : ORA_EX_SOFTWARE;
        }
    } else {
        warn_limited(&S.last_warn, 0, "request of %zu records failed: %s; retrying with backoff", r->n, why);
    }
}

static void request_done(req *r, CURLcode cc, double now)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(S.multi, r->easy);
    r->busy = 0;
    S.inflight--;
    char why[400];
    if (cc != CURLE_OK) {
        snprintf(why, sizeof why, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
        request_failed(r, now, KINESIS_C_RETRY, why);
        return;
    }
    if (status != 200) {
        char type[96], msg[256];
        int cls = kinesis_classify_error(status, (const char *)r->resp.p, r->resp.len, type, sizeof type, msg,
                                         sizeof msg);
        snprintf(why, sizeof why, "HTTP %ld %s%s%s", status, type[0] ? type : "", msg[0] ? ": " : "", msg);
        request_failed(r, now, cls, why);
        return;
    }
    kinesis_put_result res;
    if (kinesis_parse_put((const char *)r->resp.p, r->resp.len, r->n, r->status, &res) < 0) {
        request_failed(r, now, KINESIS_C_RETRY, "unreadable PutRecords response");
        return;
    }
    if (res.throttled) { /* the stream is over its limits: slow every request down */
        S.gate_fails++;
        S.gate = now + backoff(S.gate_fails);
    } else {
        S.gate_fails = 0;
        S.gate = 0;
    }
    if (res.failed)
        warn_limited(&S.last_warn, 0, "%zu of %zu records not accepted (%zu throttled; %s); retrying them", res.failed,
                     r->n, res.throttled, res.error);
    for (size_t i = 0; i < r->n; i++) {
        if (r->status[i] == KINESIS_E_OK)
            ack(r->ents[i], now);
        else
            fail_entry(r->ents[i], now, r->status[i] == KINESIS_E_THROTTLED);
    }
    try_commit();
}

static void drain_curl(double now)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(S.multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        for (uint32_t i = 0; i < S.concurrency; i++)
            if (S.reqs[i].busy && S.reqs[i].easy == m->easy_handle) {
                request_done(&S.reqs[i], m->data.result, now);
                break;
            }
    }
}

/* ---- dead letter -------------------------------------------------------- */

static int write_dead_letter(void)
{
    if (!S.pending)
        return 0;
    if (!S.dead_letter) {
        log_error("%" PRIu64 " records were not delivered (no --dead-letter file)", S.pending);
        return 0;
    }
    int fd = open(S.dead_letter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ora_writer *w = fd >= 0 ? ora_writer_new(fd) : NULL;
    int rc = w ? 0 : -1;
    for (entry *e = S.s_head; rc == 0 && e; e = e->snext) {
        ora_rec r;
        ora_rec_init(&r, ORA_T_OUT);
        r.len = (uint32_t)e->klen + e->dlen;
        r.key_len = e->klen;
        r.offset = e->offset;
        r.recv_ns = e->recv_ns;
        r.payload = e->buf;
        rc = ora_writer_put(w, &r);
        S.dead++;
    }
    if (rc == 0)
        rc = ora_writer_flush(w);
    if (rc == 0)
        rc = fsync(fd);
    int err = errno;
    if (w)
        ora_writer_free(w);
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc < 0) {
        log_error("unable to write dead letter file %s: %s", S.dead_letter, strerror(err));
        return -1;
    }
    log_error("wrote %" PRIu64 " undelivered records to %s", S.dead, S.dead_letter);
    return 0;
}

/* ---- summary ------------------------------------------------------------ */

static void summary(char *buf, size_t n, double el)
{
    char a[32], b[32];
    double age = S.s_head ? cli_now() - S.s_head->t_read : 0;
    char ck[32] = "none";
    if (S.has_committed)
        snprintf(ck, sizeof ck, "%" PRId64, S.committed);
    snprintf(buf, n,
             "%" PRIu64 " records in, %" PRIu64 " acknowledged (%s/s, %sB/s), %" PRIu64 " requests, %" PRIu64
             " retries, %" PRIu64 " throttled, %u in flight, %" PRIu64 " pending, oldest %.1fs, checkpoint %s, "
             "%" PRIu64 " dropped, %" PRIu64 " ctrl (%" PRIu64 " ignored)",
             S.in_out, S.acked, cli_human(el > 0 ? (double)S.acked / el : 0, a, sizeof a),
             cli_human(el > 0 ? (double)S.acked_bytes / el : 0, b, sizeof b), S.requests, S.retries, S.throttles,
             S.inflight, S.pending, age, ck, S.dropped, S.in_ctrl, S.ctrl_ignored);
}

/* ---- main --------------------------------------------------------------- */

/* "kinesis-put/1.1.0": the version without the build note. */
static const char *user_agent(void)
{
    static char ua[64];
    if (!ua[0])
        snprintf(ua, sizeof ua, "kinesis-put/%.*s", (int)strcspn(ora_version, " "), ora_version);
    return ua;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kinesis-put --stream NAME [--checkpoint FILE] [--concurrency N] [--linger MS]\n"
            "                   [--max-records N] [--max-request-bytes SIZE] [--max-record-bytes SIZE]\n"
            "                   [--oversize drop|fail] [--max-retries N] [--dead-letter FILE]\n"
            "                   [--backoff MIN..MAX] [--timeout MS] [--max-pending N]\n"
            "                   [--endpoint-url URL] [--region REGION] [--profile NAME]\n"
            "                   [--latency-log FILE] [--strict] [--max-record SIZE] [-i FILE]\n"
            "       kinesis-put --stdout [-o FILE] [options]\n"
            "       kinesis-put -h | --version\n");
}

static void bad_usage(const char *fmt, const char *arg)
{
    char m[256];
    snprintf(m, sizeof m, fmt, arg);
    exit(cli_usage_error("%s", m));
}

enum {
    O_STREAM = 256, O_STDOUT, O_CKPT, O_CONC, O_LINGER, O_MAXREC, O_MAXREQB, O_MAXRECB, O_OVERSIZE, O_RETRIES,
    O_DEAD, O_BACKOFF, O_TIMEOUT, O_PENDING, O_ENDPOINT, O_REGION, O_PROFILE, O_LAT, O_STRICT, O_MAXRECORD,
    O_VERSION
};

int main(int argc, char **argv)
{
    if (cli_init(argv[0]) < 0) {
        log_error("unable to use ORA_LOG '%s': not one of debug, info, warn, error", getenv("ORA_LOG"));
        return ORA_EX_CONFIG;
    }
    if (sodium_init() < 0) {
        log_error("unable to initialise libsodium");
        return ORA_EX_SOFTWARE;
    }
    S.concurrency = 8;
    S.max_records = KINESIS_MAX_RECORDS;
    S.max_request_bytes = KINESIS_REQUEST_BYTES;
    S.max_record_bytes = KINESIS_MAX_RECORD_BYTES;
    S.max_pending = 100000;
    S.max_pending_bytes = 512ull << 20;
    S.linger = 0.05;
    S.backoff_min = 0.1;
    S.backoff_max = 10;
    S.timeout = 30;
    S.max_retries = -1;
    S.max_record = ORA_REC_MAX_DEFAULT;
    S.out_fd = 1;
    S.stream = cli_env("ORA_KINESIS_STREAM");
    S.checkpoint = cli_env("ORA_CHECKPOINT");
    S.rnd = (uint64_t)cli_wall_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    if (!S.rnd)
        S.rnd = 1;

    static const struct option lo[] = {
        {"stream", 1, 0, O_STREAM}, {"stdout", 0, 0, O_STDOUT}, {"checkpoint", 1, 0, O_CKPT},
        {"concurrency", 1, 0, O_CONC}, {"linger", 1, 0, O_LINGER}, {"max-records", 1, 0, O_MAXREC},
        {"max-request-bytes", 1, 0, O_MAXREQB}, {"max-record-bytes", 1, 0, O_MAXRECB},
        {"oversize", 1, 0, O_OVERSIZE}, {"max-retries", 1, 0, O_RETRIES}, {"dead-letter", 1, 0, O_DEAD},
        {"backoff", 1, 0, O_BACKOFF}, {"timeout", 1, 0, O_TIMEOUT}, {"max-pending", 1, 0, O_PENDING},
        {"endpoint-url", 1, 0, O_ENDPOINT}, {"region", 1, 0, O_REGION}, {"profile", 1, 0, O_PROFILE},
        {"latency-log", 1, 0, O_LAT}, {"strict", 0, 0, O_STRICT}, {"max-record", 1, 0, O_MAXRECORD},
        {"input", 1, 0, 'i'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {"version", 0, 0, O_VERSION},
        {0, 0, 0, 0}};
    int c;
    uint64_t u, v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hi:o:", lo, NULL)) != -1) {
        switch (c) {
        case O_STREAM: S.stream = optarg; break;
        case O_STDOUT: S.to_stdout = 1; break;
        case O_CKPT: S.checkpoint = optarg; break;
        case O_CONC:
            if (cli_parse_u64(optarg, 1, 256, &u) < 0)
                bad_usage("--concurrency wants 1..256, not '%s'", optarg);
            S.concurrency = (uint32_t)u;
            break;
        case O_LINGER:
            if (cli_parse_u64(optarg, 0, 600000, &u) < 0)
                bad_usage("--linger wants milliseconds 0..600000, not '%s'", optarg);
            S.linger = (double)u / 1000;
            break;
        case O_MAXREC:
            if (cli_parse_u64(optarg, 1, KINESIS_MAX_RECORDS, &u) < 0)
                bad_usage("--max-records wants 1..500, not '%s'", optarg);
            S.max_records = (uint32_t)u;
            break;
        case O_MAXREQB:
            if (cli_parse_size(optarg, 1, KINESIS_REQUEST_BYTES_MAX, &u) < 0)
                bad_usage("--max-request-bytes wants 1..10M, not '%s'", optarg);
            S.max_request_bytes = u;
            break;
        case O_MAXRECB:
            if (cli_parse_size(optarg, 1, KINESIS_MAX_RECORD_BYTES, &u) < 0)
                bad_usage("--max-record-bytes wants 1..1M, not '%s'", optarg);
            S.max_record_bytes = u;
            break;
        case O_OVERSIZE:
            if (strcmp(optarg, "drop") == 0)
                S.oversize_fail = 0;
            else if (strcmp(optarg, "fail") == 0)
                S.oversize_fail = 1;
            else
                bad_usage("--oversize wants drop or fail, not '%s'", optarg);
            break;
        case O_RETRIES:
            if (cli_parse_u64(optarg, 0, 1000000, &u) < 0)
                bad_usage("--max-retries wants 0..1000000, not '%s'", optarg);
            S.max_retries = (long)u;
            break;
        case O_DEAD: S.dead_letter = optarg; break;
        case O_BACKOFF:
            if (cli_parse_range(optarg, 1, 3600000, &u, &v) < 0)
                bad_usage("--backoff wants MIN..MAX milliseconds, not '%s'", optarg);
            S.backoff_min = (double)u / 1000;
            S.backoff_max = (double)v / 1000;
            break;
        case O_TIMEOUT:
            if (cli_parse_u64(optarg, 100, 3600000, &u) < 0)
                bad_usage("--timeout wants milliseconds 100..3600000, not '%s'", optarg);
            S.timeout = (double)u / 1000;
            break;
        case O_PENDING:
            if (cli_parse_u64(optarg, 1, 100000000, &u) < 0)
                bad_usage("--max-pending wants 1..100000000, not '%s'", optarg);
            S.max_pending = u;
            break;
        case O_ENDPOINT: S.endpoint_url = optarg; break;
        case O_REGION: S.region = optarg; break;
        case O_PROFILE: S.profile = optarg; break;
        case O_LAT: S.latency_log = optarg; break;
        case O_STRICT: S.strict = 1; break;
        case O_MAXRECORD:
            if (cli_parse_size(optarg, 64, ORA_REC_MAX_LIMIT, &u) < 0)
                bad_usage("--max-record wants 64..1G, not '%s'", optarg);
            S.max_record = (uint32_t)u;
            break;
        case 'i': S.in_path = optarg; break;
        case 'o': S.out_path = optarg; break;
        case 'h': usage(stdout); return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
        case O_VERSION: return cli_print_version();
        default: return cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        bad_usage("unexpected argument '%s'", argv[optind]);
    if (!S.to_stdout && !S.stream)
        bad_usage("%s", "--stream NAME is required (or --stdout)");
    if (S.stream && (strlen(S.stream) < 1 || strlen(S.stream) > 128))
        bad_usage("--stream wants 1..128 characters, not '%s'", S.stream);
    if (S.max_record_bytes > S.max_request_bytes)
        S.max_record_bytes = S.max_request_bytes;
    if (S.out_path && !S.to_stdout)
        bad_usage("%s", "-o is for --stdout");

    int in_fd = cli_open_in(S.in_path);
    if (in_fd < 0) {
        log_error("unable to open %s: %s", S.in_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    if ((S.out_fd = cli_open_out(S.out_path)) < 0) {
        log_error("unable to open %s: %s", S.out_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    if (S.latency_log && !(S.lat = fopen(S.latency_log, "w"))) {
        log_error("unable to open %s: %s", S.latency_log, strerror(errno));
        return ORA_EX_IOERR;
    }

    if (!S.to_stdout) {
        char err[512];
        aws_config_opts o = {S.profile, S.region, S.endpoint_url, "kinesis", "KINESIS"};
        if (aws_config_load(&S.aws, &o, err, sizeof err) < 0) {
            log_error("unable to configure AWS access: %s", err);
            return ORA_EX_CONFIG;
        }
        aws_url_split(S.aws.endpoint, S.host, sizeof S.host, S.path, sizeof S.path);
        log_debug("endpoint %s (from %s), region %s, credentials from %s", S.aws.endpoint, S.aws.endpoint_source,
                  S.aws.region, S.aws.cred_source);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(S.multi = curl_multi_init())) {
            log_error("unable to initialise libcurl");
            return ORA_EX_SOFTWARE;
        }
        curl_multi_setopt(S.multi, CURLMOPT_MAXCONNECTS, (long)S.concurrency + 2);
        S.reqs = calloc(S.concurrency, sizeof *S.reqs);
        for (uint32_t i = 0; S.reqs && i < S.concurrency; i++) {
            req *r = &S.reqs[i];
            r->easy = curl_easy_init();
            r->ents = malloc(KINESIS_MAX_RECORDS * sizeof *r->ents);
            r->status = malloc(KINESIS_MAX_RECORDS);
            if (!r->easy || !r->ents || !r->status) {
                log_error("unable to initialise requests: out of memory");
                return ORA_EX_SOFTWARE;
            }
            curl_easy_setopt(r->easy, CURLOPT_URL, S.aws.endpoint);
            curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
            curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
            curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
            curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(S.timeout * 1000));
            curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(S.timeout * 1000 < 10000 ? S.timeout * 1000 : 10000));
            curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
            curl_easy_setopt(r->easy, CURLOPT_USERAGENT, user_agent());
        }
        if (!S.reqs) {
            log_error("unable to initialise requests: out of memory");
            return ORA_EX_SOFTWARE;
        }
    }
    cli_on_stop(on_term);

    /* A pipe or socket is read without blocking: a record whose rest has
     * not arrived must not stop responses and checkpoints. (Not a tty or
     * file: their open file is shared with the shell.) */
    struct stat st;
    int in_flags = -1;
    if (fstat(in_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
        (in_flags = fcntl(in_fd, F_GETFL)) >= 0 && !(in_flags & O_NONBLOCK))
        fcntl(in_fd, F_SETFL, in_flags | O_NONBLOCK);
    else
        in_flags = -1;
    ora_reader *rd = ora_reader_new(in_fd, S.max_record);
    if (!rd) {
        log_error("unable to create reader: out of memory");
        return ORA_EX_SOFTWARE;
    }
    cli_set_summary(summary);

    for (;;) {
        double now = cli_now();
        if (got_term && !S.signals) {
            S.signals = 1;
            S.stop_reading = 1;
            log_info("stopping: delivering %" PRIu64 " pending records (signal again to stop at once)", S.pending);
        } else if (got_term > 1) {
            log_error("stopped with %" PRIu64 " records undelivered", S.pending);
            S.exit_code = ORA_EX_TEMPFAIL;
            S.fatal = 1;
            break;
        }
        promote_due(now);
        if (S.to_stdout) {
            while (sendable(now))
                write_stdout_batch(now);
        } else {
            while (S.inflight < S.concurrency && sendable(now))
                if (send_batch(now) < 0)
                    break;
        }
        int done_input = S.input_done || S.stop_reading;
        if (done_input && S.pending == 0)
            break;
        if (S.fatal && S.inflight == 0)
            break;

        /* How long may we wait? */
        double wait = 1.0;
        if (S.heap_n && S.heap[0]->due - now < wait)
            wait = S.heap[0]->due - now;
        /* A batch waiting for a free request slot waits for a response,
         * not for a timer. */
        int slot = S.to_stdout || S.inflight < S.concurrency;
        if (S.ready.n && !S.fatal && slot) {
            double d = S.ready.head->t_ready + S.linger - now;
            if (S.gate > now && S.gate - now > d)
                d = S.gate - now;
            if (d < wait)
                wait = d;
        }
        if (S.retry_ready.n && slot && S.gate > now && S.gate - now < wait)
            wait = S.gate - now;
        int can_read = !done_input && !S.fatal && S.pending < S.max_pending && S.pending_bytes < S.max_pending_bytes;
        if (can_read && ora_reader_buffered(rd) > 0 && !S.in_partial)
            wait = 0;
        if (wait < 0)
            wait = 0;
        int readable = 0;
        if (S.to_stdout) {
            struct pollfd pf = {in_fd, POLLIN, 0};
            int pr = poll(&pf, can_read ? 1 : 0, (int)ceil(wait * 1000));
            readable = pr > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR));
        } else {
            struct curl_waitfd wf = {in_fd, CURL_WAIT_POLLIN, 0};
            int nfd = 0;
            curl_multi_poll(S.multi, can_read ? &wf : NULL, can_read ? 1 : 0, (int)ceil(wait * 1000), &nfd);
            readable = can_read && (wf.revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)) != 0;
            /* curl may not report POLLHUP on extra fds: probe cheaply */
            if (can_read && !readable) {
                struct pollfd pf = {in_fd, POLLIN, 0};
                readable = poll(&pf, 1, 0) > 0;
            }
            int running;
            curl_multi_perform(S.multi, &running);
            drain_curl(cli_now());
        }
        if (can_read)
            read_input(rd, readable);
        cli_poll();
    }

    /* Finish: whatever is still held goes to the dead letter. */
    int rc = S.exit_code;
    if (S.pending && (S.fatal || got_term > 1)) {
        if (write_dead_letter() < 0 && !rc)
            rc = ORA_EX_IOERR;
        if (!rc)
            rc = ORA_EX_TEMPFAIL;
    }
    try_commit();
    if (S.exit_code && !rc)
        rc = S.exit_code;
    if (S.lat && fclose(S.lat) != 0) {
        log_error("unable to write %s: %s", S.latency_log, strerror(errno));
        if (!rc)
            rc = ORA_EX_IOERR;
    }
    if (S.to_stdout && S.out_fd == 1 && cli_close_stdout() < 0) {
        log_error("unable to write output: %s", strerror(errno));
        if (!rc)
            rc = ORA_EX_IOERR;
    } else if (S.out_fd != 1 && close(S.out_fd) < 0 && !rc) {
        log_error("unable to write %s: %s", S.out_path, strerror(errno));
        rc = ORA_EX_IOERR;
    }
    cli_summary();
    /* Teardown (so leak checkers stay quiet). */
    if (S.reqs) {
        for (uint32_t i = 0; i < S.concurrency; i++) {
            req *r = &S.reqs[i];
            if (r->busy)
                curl_multi_remove_handle(S.multi, r->easy);
            curl_easy_cleanup(r->easy);
            free_hdrs(r->hdrs);
            ora_buf_free(&r->body);
            ora_buf_free(&r->resp);
            free(r->ents);
            free(r->status);
        }
        free(S.reqs);
        curl_multi_cleanup(S.multi);
        curl_global_cleanup();
    }
    for (entry *e = S.s_head, *nx; e; e = nx) {
        nx = e->snext;
        entry_free(e);
    }
    for (size_t i = 0; i < S.kt_cap; i++)
        for (keyst *k = S.kt[i], *nx; k; k = nx) {
            nx = k->hnext;
            free(k);
        }
    free(S.kt);
    free(S.heap);
    free(S.cks);
    ora_buf_free(&S.line);
    ora_reader_free(rd);
    if (in_flags >= 0)
        fcntl(in_fd, F_SETFL, in_flags);
    aws_config_free(&S.aws);
    if (in_fd > 0)
        close(in_fd);
    return rc;
}
