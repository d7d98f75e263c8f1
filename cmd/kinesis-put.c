/* kinesis-put: OUT records in, Kinesis PutRecords out (man/kinesis-put.1).
 *
 * Every record is held until Kinesis acknowledged it; only failed entries
 * are retried, with exponential backoff and full jitter; a partition key
 * with a record in flight or waiting for a retry holds its later records
 * back, so per-key order survives retries. A CTRL checkpoint W is
 * committed to --checkpoint once every OUT record read before it was
 * acknowledged (doc/design.md §4).
 */
#include <errno.h>
#include <fcntl.h>
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
#include "backoff.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "credcache.h"
#include "creds.h"
#include "json.h"
#include "kinesis.h"
#include "metrics.h"
#include "ora.h"
#include "putq.h"
#include "record.h"
#include "cliopt.h"
#include "sandbox.h"
#include "secmem.h"
#include "sigv4.h"


/* ---- state ------------------------------------------------------------- */

typedef struct req {
    CURL *easy;
    struct curl_slist *hdrs;
    ora_buf body, resp;
    putq_entry **ents;
    uint8_t *status;
    size_t n;
    int busy;
    uint64_t gen;                 /* credentials it was signed with */
    double t_start;
    char errbuf[CURL_ERROR_SIZE];
} req;

static struct {
    /* options */
    const char *stream, *checkpoint, *dead_letter, *latency_log, *in_path, *out_path;
    const char *endpoint_url, *region, *profile, *state_dir, *metrics_path;
    double metrics_interval;
    int to_stdout, oversize_fail, strict, show_source, allow_insecure;
    uint32_t concurrency, max_records;
    uint64_t max_request_bytes, max_record_bytes, max_pending, max_pending_bytes;
    double linger, backoff_min, backoff_max, timeout;
    long max_retries; /* -1: never give up */
    uint32_t max_record;

    /* runtime */
    aws_config aws;
    credcache *cc;
    aws_creds creds;              /* a copy of the current ones (sodium_malloc) */
    uint64_t cred_gen;            /* their generation; 0: none yet */
    uint64_t cred_asked;          /* the generation a refresh was asked for */
    int cred_hold;                /* no request until that refresh is done */
    int free_cred_retries;        /* expired-token retries not counted, since the last ack */
    time_t cred_expired_asked;    /* when a refresh was asked for because they expired */
    char host[512], path[512];
    CURLM *multi;
    req *reqs;
    uint32_t inflight;
    putq *q;
    ora_backoff gate_backoff;     /* after request failures */
    double gate;                  /* no request before this */
    int input_done, stop_reading, exit_code, fatal, signals;
    int in_partial;               /* buffered input is an incomplete record */
    FILE *lat;
    int out_fd;
    ora_buf line;
    double last_warn, last_cred, last_cred_fail;

    /* metrics (README "Monitoring") */
    ora_metrics *m;
    ora_hist req_dur, lag;
    struct { long code; uint64_t n; char label[24]; } codes[32];
    size_t ncodes;
    uint64_t codes_other;
    double committed_wall;

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

/* Stops the run with status rc (the first reason wins) once the requests
 * in flight are answered; what is still held goes to the dead letter. */
static void stop_with(int rc)
{
    if (!S.fatal) {
        S.fatal = 1;
        S.exit_code = rc;
    }
}

static void out_of_memory(const char *what)
{
    log_error("unable to %s: out of memory", what);
    stop_with(ORA_EX_SOFTWARE);
}

/* ---- checkpoints -------------------------------------------------------- */

static void try_commit(void)
{
    int64_t w;
    if (!putq_committable(S.q, &w))
        return;
    if (S.checkpoint) {
        if (checkpoint_commit(S.checkpoint, w) < 0) {
            log_error("unable to commit checkpoint %" PRId64 " to %s: %s", w, S.checkpoint, strerror(errno));
            stop_with(ORA_EX_IOERR);
            return;
        }
        log_debug("committed checkpoint %" PRId64, w);
    }
    S.committed = w;
    S.has_committed = 1;
    S.committed_wall = (double)cli_wall_ns() / 1e9;
    S.commits++;
}

/* ---- entries ------------------------------------------------------------ */

/* wall_ns: the wall clock of this acknowledgement, read once per response. */
static void ack(putq_entry *e, double now, uint64_t wall_ns)
{
    S.acked++;
    S.free_cred_retries = 0;
    S.acked_bytes += (uint64_t)e->klen + e->dlen;
    if (S.m && e->recv_ns) /* receive time at ora-connect to this acknowledgement */
        ora_hist_observe(&S.lag, (double)(int64_t)(wall_ns - e->recv_ns) / 1e9);
    if (S.lat && e->recv_ns) {
        double wall = (double)wall_ns / 1e9, rs = (double)e->recv_ns / 1e9;
        double sent_wall = wall - (now - e->t_sent);
        fprintf(S.lat, "%" PRId64 " %.0f %.0f\n", e->offset, (sent_wall - rs) * 1e6, (wall - rs) * 1e6);
    }
    putq_ack(S.q, e, now);
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
static void fail_entry(putq_entry *e, double now, int throttled)
{
    S.retries++;
    S.throttles += throttled != 0;
    long attempts = putq_fail(S.q, e, now);
    if (attempts < 0)
        attempts = e->attempts;
    if (S.max_retries >= 0 && attempts > S.max_retries && !S.fatal) {
        log_error("unable to deliver record (key %.*s, offset %" PRId64 ") after %ld attempts: giving up "
                  "(--max-retries %ld)",
                  (int)(e->klen > 64 ? 64 : e->klen), (const char *)e->buf, e->offset, attempts, S.max_retries);
        stop_with(ORA_EX_TEMPFAIL);
    }
}

/* Starts request-level backoff: no new request before S.gate. */
static void gate_close(double now)
{
    S.gate = now + ora_backoff_next(&S.gate_backoff, putq_random(S.q));
}

static void gate_open(void)
{
    ora_backoff_reset(&S.gate_backoff);
    S.gate = 0;
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
    if (putq_add(S.q, r->payload, r->key_len, r->payload + r->key_len, dlen, r->offset, r->recv_ns, cli_now()) < 0) {
        out_of_memory("hold a record");
        S.stop_reading = 1;
    }
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
    if (putq_checkpoint(S.q, w) < 0) {
        out_of_memory("queue a checkpoint");
        S.stop_reading = 1;
        return;
    }
    try_commit();
}

/* Reads records while input is ready; never waits for more than the rest
 * of a record that has started arriving. */
static void read_input(ora_reader *rd, int readable)
{
    int budget = 4096;
    while (!S.input_done && !S.stop_reading && budget-- > 0 &&
           putq_pending(S.q) < S.max_pending && putq_pending_bytes(S.q) < S.max_pending_bytes) {
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

/* ---- metrics ------------------------------------------------------------ */

/* Requests by HTTP status: a series per status seen (0: no answer). */
static void count_status(long code)
{
    for (size_t i = 0; i < S.ncodes; i++)
        if (S.codes[i].code == code) {
            S.codes[i].n++;
            return;
        }
    if (S.ncodes == sizeof S.codes / sizeof S.codes[0] || code < 0 || code > 999) {
        S.codes_other++;
        return;
    }
    size_t i = S.ncodes++;
    S.codes[i].code = code;
    S.codes[i].n = 1;
    snprintf(S.codes[i].label, sizeof S.codes[i].label, "code=\"%ld\"", code);
    if (S.m)
        ora_metrics_u64(S.m, "ora_kinesis_requests_total", ORA_COUNTER, "PutRecords requests by HTTP status (0: no answer)",
                        S.codes[i].label, &S.codes[i].n);
}

static double m_oldest(void *ctx)
{
    (void)ctx;
    putq_entry *e = putq_first(S.q);
    return e ? cli_now() - e->t_read : 0;
}

static double m_ckpt(void *ctx)
{
    (void)ctx;
    return S.has_committed ? (double)S.committed : NAN;
}

static double m_ckpt_time(void *ctx)
{
    (void)ctx;
    return S.has_committed ? S.committed_wall : NAN;
}

static int metrics_setup(void)
{
    if (!(S.m = ora_metrics_new("put")) || ora_hist_init(&S.req_dur, ora_hist_seconds, ora_hist_seconds_n) < 0 ||
        ora_hist_init(&S.lag, ora_hist_seconds, ora_hist_seconds_n) < 0)
        return -1;
    static const char *h_rec = "OUT records by what became of them";
    int rc = 0;
    rc |= ora_metrics_u64(S.m, "ora_kinesis_records_total", ORA_COUNTER, h_rec, "result=\"acknowledged\"", &S.acked);
    rc |= ora_metrics_u64(S.m, "ora_kinesis_records_total", ORA_COUNTER, h_rec, "result=\"retried\"", &S.retries);
    rc |= ora_metrics_u64(S.m, "ora_kinesis_records_total", ORA_COUNTER, h_rec, "result=\"throttled\"", &S.throttles);
    rc |= ora_metrics_u64(S.m, "ora_kinesis_records_total", ORA_COUNTER, h_rec, "result=\"dead_lettered\"", &S.dead);
    rc |= ora_metrics_u64(S.m, "ora_kinesis_records_total", ORA_COUNTER, h_rec, "result=\"dropped\"", &S.dropped);
    rc |= ora_metrics_hist(S.m, "ora_kinesis_request_duration_seconds", "PutRecords latency", NULL, &S.req_dur);
    rc |= ora_metrics_fn(S.m, "ora_kinesis_oldest_unacked_age_seconds", ORA_GAUGE,
                         "Age of the oldest record Kinesis has not acknowledged", NULL, m_oldest, NULL);
    rc |= ora_metrics_fn(S.m, "ora_kinesis_checkpoint_offset", ORA_GAUGE, "The committed checkpoint", NULL, m_ckpt, NULL);
    rc |= ora_metrics_fn(S.m, "ora_kinesis_checkpoint_time_seconds", ORA_GAUGE,
                         "When the checkpoint was committed (Unix time)", NULL, m_ckpt_time, NULL);
    rc |= ora_metrics_hist(S.m, "ora_pipeline_lag_seconds",
                           "A message's receive time at ora-connect to Kinesis's acknowledgement of its output", NULL,
                           &S.lag);
    count_status(200); /* the family exists from the start */
    S.codes[0].n = 0;
    ora_metrics_schedule(S.m, S.metrics_path, S.metrics_interval);
    return rc ? -1 : 0;
}

static void metrics_tick(double now)
{
    static int warned;
    if (S.m && ora_metrics_tick(S.m, now) < 0 && !warned++)
        log_warn("unable to write metrics to %s: %s", S.metrics_path, strerror(errno));
}

/* ---- credentials -------------------------------------------------------- */

/* Whether requests may be signed now: credentials fetched, not expired, no
 * refresh asked for after a rejection still running. */
static int creds_usable(void)
{
    if (!S.cred_gen || S.cred_hold)
        return 0;
    return !S.creds.expires || time(NULL) < S.creds.expires;
}

static void wake_main(void *ctx)
{
    (void)ctx;
    if (S.multi)
        curl_multi_wakeup(S.multi);
}

static void say_expiry(char *b, size_t n, time_t exp)
{
    if (!exp) {
        snprintf(b, n, "do not expire");
        return;
    }
    double left = difftime(exp, time(NULL));
    if (left >= 120)
        snprintf(b, n, "expire in %.0f min", left / 60);
    else
        snprintf(b, n, "expire in %.0f s", left);
}

/* Takes what the refresh thread did: new credentials (logged with their
 * provider, never the secret), failures (backoff while records wait). */
static void creds_poll(void)
{
    credcache_event ev;
    while (credcache_event_next(S.cc, &ev)) {
        char ex[48];
        if (ev.kind == CC_FETCHED || ev.kind == CC_UNCHANGED) {
            say_expiry(ex, sizeof ex, ev.expires);
            if (ev.kind == CC_FETCHED)
                log_info("credentials: %s, %s", creds_describe(S.aws.creds), ex);
            else
                log_debug("credentials: %s, unchanged, %s", creds_describe(S.aws.creds), ex);
        } else if (ev.kind == CC_FAILED) {
            if (!ev.ever && ev.permanent) {
                log_error("unable to get AWS credentials (%s): %s", creds_describe(S.aws.creds), ev.msg);
                stop_with(ORA_EX_CONFIG);
            } else {
                warn_limited(&S.last_cred_fail, 0, "unable to %s AWS credentials (%s): %s; retrying in %.1f s%s",
                             ev.ever ? "refresh" : "get", creds_describe(S.aws.creds), ev.msg, ev.retry_in,
                             putq_pending(S.q) ? ", records wait" : "");
            }
        }
    }
    if (S.cred_hold && !credcache_busy(S.cc))
        S.cred_hold = 0;
    credcache_get(S.cc, &S.creds, &S.cred_gen);
    /* Expired here and no refresh under way (a clock jump, a refresh that
     * failed until too late): ask at once, at most every few seconds, so
     * that records never wait on a refresh nobody asked for. */
    time_t t = time(NULL);
    if (S.cred_gen && S.creds.expires && t >= S.creds.expires && !S.cred_hold && t >= S.cred_expired_asked + 5) {
        S.cred_expired_asked = t;
        S.cred_hold = 1;
        S.cred_asked = S.cred_gen;
        credcache_refresh(S.cc, S.cred_gen);
    }
}

/* ---- batches ------------------------------------------------------------ */

static int flushing(void)
{
    return S.input_done || S.stop_reading;
}

static int sendable(double now)
{
    if (S.fatal)
        return 0;
    if (!S.to_stdout && (now < S.gate || !creds_usable()))
        return 0;
    return putq_sendable(S.q, now, flushing());
}

static void write_stdout_batch(double now)
{
    putq_entry *batch[KINESIS_MAX_RECORDS];
    size_t n = putq_take(S.q, now, flushing(), batch, KINESIS_MAX_RECORDS);
    ora_buf *b = &S.line;
    b->len = 0;
    for (size_t i = 0; i < n; i++) {
        putq_entry *e = batch[i];
        ora_buf_append(b, "{\"PartitionKey\":", 16);
        ora_json_str(b, (const char *)e->buf, e->klen);
        ora_buf_append(b, ",\"Data\":", 8);
        if (e->dlen == 0) {
            ora_buf_append(b, "null", 4);
        } else {
            size_t at = b->len;
            if (ora_buf_append(b, e->buf + e->klen, e->dlen) == 0)
                for (const char *nl = "\n\r"; *nl; nl++) /* by memchr: this loop was half of --stdout's CPU */
                    for (uint8_t *p = b->p + at, *end = b->p + b->len; (p = memchr(p, *nl, (size_t)(end - p)));)
                        *p++ = ' ';
        }
        if (ora_buf_append(b, "}\n", 2) < 0) {
            out_of_memory("format output"); /* the batch stays held, for the dead letter */
            return;
        }
    }
    S.requests++;
    if (cli_write_all(S.out_fd, b->p, b->len) < 0) {
        log_error("unable to write output: %s", strerror(errno));
        stop_with(ORA_EX_IOERR); /* the batch stays held, for the dead letter */
        return;
    }
    uint64_t wall = cli_wall_ns();
    for (size_t i = 0; i < n; i++)
        ack(batch[i], now, wall);
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
    r->n = putq_take(S.q, now, flushing(), r->ents, KINESIS_MAX_RECORDS);
    if (!r->n)
        return -1;
    if (kinesis_body_begin(&r->body, S.stream) < 0)
        goto oom;
    for (size_t i = 0; i < r->n; i++) {
        putq_entry *e = r->ents[i];
        if (kinesis_body_add(&r->body, i == 0, e->buf, e->klen, e->buf + e->klen, e->dlen) < 0)
            goto oom;
    }
    if (kinesis_body_end(&r->body) < 0)
        goto oom;

    char date[17];
    sigv4_amz_date(time(NULL), date);
    sigv4_header hs[3] = {{"Host", S.host}, {"Content-Type", KINESIS_CONTENT_TYPE}, {"X-Amz-Target", KINESIS_TARGET}};
    sigv4_params p = {S.creds.access_key, S.creds.secret_key, S.creds.session_token, S.aws.region, "kinesis", date,
                      1, 1, 0};
    r->gen = S.cred_gen;
    sigv4_request rq = {"POST", S.path, NULL, hs, 3, r->body.p, r->body.len};
    sigv4_out so;
    memset(&so, 0, sizeof so);
    if (sigv4_sign(&rq, &p, &so) < 0) {
        sigv4_out_free(&so);
        log_error("unable to sign request: %s", strerror(errno));
        goto fail;
    }
    ora_buf hb = ORA_BUF_SECRET_INIT;
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
    if (S.creds.session_token) {
        hb.len = 0;
        ora_buf_printf(&hb, "X-Amz-Security-Token: %s%c", S.creds.session_token, 0);
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
        goto fail;
    }
    r->busy = 1;
    r->t_start = now;
    S.inflight++;
    S.requests++;
    return 0;
oom:
    log_error("unable to build request: out of memory");
fail:
    /* Held for the dead letter; the run stops. */
    for (size_t i = 0; i < r->n; i++)
        putq_requeue(S.q, r->ents[i], now);
    r->n = 0;
    stop_with(ORA_EX_SOFTWARE);
    return -1;
}

/* Credentials were rejected. An expired token is not the records' fault:
 * the first time for a generation, refresh and retry without counting a
 * try (never a loss); when fresher credentials exist, just retry. Any
 * other rejection, an expired token after the refresh brought the same
 * credentials, or a fourth free retry in a row without an acknowledgement
 * in between (a provider that keeps handing out bad credentials) counts as
 * a failed try, and asks for a refresh too. */
static void credentials_rejected(req *r, double now, const char *why, int expired)
{
    warn_limited(&S.last_cred, 1, "unable to put records: AWS rejected the credentials (%s; credentials from %s); "
                 "retrying", why, creds_describe(S.aws.creds));
    int free_retry = expired && S.free_cred_retries < 3 &&
                     (r->gen < S.cred_gen || (r->gen == S.cred_asked && S.cred_hold) || S.cred_asked < r->gen);
    if (free_retry) {
        S.free_cred_retries++;
        if (r->gen == S.cred_gen && S.cred_asked < r->gen) {
            S.cred_asked = r->gen;
            S.cred_hold = 1;
            credcache_refresh(S.cc, r->gen);
        }
        for (size_t i = 0; i < r->n; i++)
            putq_requeue(S.q, r->ents[i], now);
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        fail_entry(r->ents[i], now, 0);
    gate_close(now);
    if (r->gen == S.cred_gen)
        credcache_refresh(S.cc, r->gen); /* shared files may have changed */
}

static void request_failed(req *r, double now, int cls, const char *why)
{
    S.req_failed++;
    if (cls == KINESIS_C_CREDENTIALS) {
        credentials_rejected(r, now, why, strstr(why, "ExpiredToken") != NULL);
        return;
    }
    int thr = cls == KINESIS_C_THROTTLE;
    for (size_t i = 0; i < r->n; i++)
        fail_entry(r->ents[i], now, thr);
    gate_close(now);
    if (cls == KINESIS_C_NOT_FOUND || cls == KINESIS_C_FATAL) {
        log_error("unable to put records to stream %s: %s", S.stream, why);
        stop_with(cls == KINESIS_C_NOT_FOUND ? ORA_EX_CONFIG : ORA_EX_SOFTWARE);
    } else {
        warn_limited(&S.last_warn, 0, "request of %zu records failed: %s; retrying with backoff", r->n, why);
    }
}

static void request_done(req *r, CURLcode cc, double now)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    count_status(cc == CURLE_OK ? status : 0);
    if (S.m)
        ora_hist_observe(&S.req_dur, now - r->t_start);
    curl_multi_remove_handle(S.multi, r->easy);
    /* The headers hold the token and signature: gone once answered. */
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, NULL);
    free_hdrs(r->hdrs);
    r->hdrs = NULL;
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
    if (res.throttled) /* the stream is over its limits: slow every request down */
        gate_close(now);
    else
        gate_open();
    uint64_t wall = cli_wall_ns();
    if (res.failed)
        warn_limited(&S.last_warn, 0, "%zu of %zu records not accepted (%zu throttled; %s); retrying them", res.failed,
                     r->n, res.throttled, res.error);
    for (size_t i = 0; i < r->n; i++) {
        if (r->status[i] == KINESIS_E_OK)
            ack(r->ents[i], now, wall);
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

/* ---- confinement (sandbox.h) -------------------------------------------- */

/* Allows TCP connect to url's port (its scheme's default when it names
 * none). -1 when the URL cannot be read. */
static int allow_url_port(ora_sandbox *sb, const char *url)
{
    CURLU *u = curl_url();
    char *port = NULL;
    uint64_t v = 0;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
             cli_parse_u64(port, 1, 65535, &v) == 0 && ora_sandbox_port(sb, (uint16_t)v) == 0;
    curl_free(port);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

/* Confines the stage once everything is open and before the credentials
 * thread starts. Writes: the checkpoint's, dead letter's and metrics
 * file's directories (temp file and rename, or created at the end).
 * Network: TCP connect to the ports of the endpoint and of what the
 * credential chain fetches from (STS, container, instance metadata), and
 * 53 (DNS over TCP). Reads: what libcurl, OpenSSL and the resolver read
 * again (ora_sandbox_add_system), the CA bundle, the shared AWS files of a
 * static profile (re-read on refresh), token files (through their
 * directories: Kubernetes swaps them by renaming a link). A
 * credential_process runs under the same confinement, with its program
 * and /usr executable. 0, or the exit code. */
static int confine(void)
{
    ora_sandbox sb = {.profile = ORA_SB_STDIO};
    char ck[4096], dl[4096], md[4096], sh[2][4096], sd[2][4096], tf[4][4096], cmd[4096];
    if (S.checkpoint)
        ora_sandbox_add(sb.write, ora_sandbox_dir(S.checkpoint, ck, sizeof ck));
    if (S.dead_letter)
        ora_sandbox_add(sb.write, ora_sandbox_dir(S.dead_letter, dl, sizeof dl));
    if (S.metrics_path)
        ora_sandbox_add(sb.write, ora_sandbox_dir(S.metrics_path, md, sizeof md));
    if (sb.write[0])
        sb.profile |= ORA_SB_FILES;
    if (S.to_stdout)
        return cli_confine(&sb);

    sb.profile |= ORA_SB_NET;
    int full = ora_sandbox_add_system(&sb) < 0 || ora_sandbox_add(sb.read, S.aws.ca_bundle) < 0;
    creds_reach r;
    creds_reach_of(S.aws.creds, &r);
    if (r.shared_files || r.command) { /* a credential_process may read them too */
        aws_shared_paths(sh[0], sizeof sh[0], sh[1], sizeof sh[1]);
        for (int i = 0; i < 2; i++)
            full |= ora_sandbox_add(sb.read, ora_sandbox_dir(sh[i], sd[i], sizeof sd[i])) < 0;
    }
    for (int i = 0; i < 4 && r.files[i]; i++)
        full |= ora_sandbox_add(sb.read, ora_sandbox_dir(r.files[i], tf[i], sizeof tf[i])) < 0;
    if (r.command) {
        char **argv = NULL;
        sb.profile |= ORA_SB_EXEC;
        full |= ora_sandbox_add(sb.exec, "/usr") < 0 || ora_sandbox_add(sb.read, "/dev/null") < 0;
        if (creds_split_command(r.command, &argv) > 0 && strchr(argv[0], '/')) {
            snprintf(cmd, sizeof cmd, "%s", argv[0]);
            full |= ora_sandbox_add(sb.exec, cmd) < 0;
        }
        free(argv);
    }
    /* Through a proxy, libcurl connects to the proxy's port, which may be
     * any; so may an endpoint whose URL cannot be read here. */
    int any = getenv("HTTPS_PROXY") || getenv("https_proxy") || getenv("HTTP_PROXY") || getenv("http_proxy") ||
              getenv("ALL_PROXY") || getenv("all_proxy");
    any |= ora_sandbox_port(&sb, 53) < 0 || allow_url_port(&sb, S.aws.endpoint) < 0;
    for (int i = 0; i < 4 && r.urls[i]; i++)
        any |= allow_url_port(&sb, r.urls[i]) < 0;
    sb.any_port = any;
    if (full) {
        log_error("unable to confine: too many paths to allow");
        return ORA_EX_SOFTWARE;
    }
    return cli_confine(&sb);
}

/* ---- dead letter -------------------------------------------------------- */

static int write_dead_letter(void)
{
    if (!putq_pending(S.q))
        return 0;
    if (!S.dead_letter) {
        log_error("%" PRIu64 " records were not delivered (no --dead-letter file)", putq_pending(S.q));
        return 0;
    }
    int fd = open(S.dead_letter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ora_writer *w = fd >= 0 ? ora_writer_new(fd) : NULL;
    int rc = w ? 0 : -1;
    for (putq_entry *e = putq_first(S.q); rc == 0 && e; e = putq_next(e)) {
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
    putq_entry *oldest = putq_first(S.q);
    double age = oldest ? cli_now() - oldest->t_read : 0;
    char ck[32] = "none";
    if (S.has_committed)
        snprintf(ck, sizeof ck, "%" PRId64, S.committed);
    snprintf(buf, n,
             "%" PRIu64 " records in, %" PRIu64 " acknowledged (%s/s, %sB/s), %" PRIu64 " requests, %" PRIu64
             " retries, %" PRIu64 " throttled, %u in flight, %" PRIu64 " pending, oldest %.1fs, checkpoint %s, "
             "%" PRIu64 " dropped, %" PRIu64 " ctrl (%" PRIu64 " ignored)",
             S.in_out, S.acked, cli_human(el > 0 ? (double)S.acked / el : 0, a, sizeof a),
             cli_human(el > 0 ? (double)S.acked_bytes / el : 0, b, sizeof b), S.requests, S.retries, S.throttles,
             S.inflight, putq_pending(S.q), age, ck, S.dropped, S.in_ctrl, S.ctrl_ignored);
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

static const char usage_text[] =
    "usage: kinesis-put --stream NAME [--checkpoint FILE] [--concurrency N] [--linger MS]\n"
    "                   [--max-records N] [--max-request-bytes SIZE] [--max-record-bytes SIZE]\n"
    "                   [--oversize drop|fail] [--max-retries N] [--dead-letter FILE]\n"
    "                   [--backoff MIN..MAX] [--timeout MS] [--max-pending N]\n"
    "                   [--endpoint-url URL] [--region REGION] [--profile NAME]\n"
    "                   [--allow-insecure-endpoint] [--state-dir DIR] [--metrics FILE]\n"
    "                   [--metrics-interval SECONDS] [--latency-log FILE] [--strict]\n"
    "                   [--max-record SIZE] [-i FILE]\n"
    "       kinesis-put --stdout [-o FILE] [options]\n"
    "       kinesis-put --show-credentials-source [--profile NAME] [--region REGION]\n"
    "       kinesis-put -h | --version\n";


/* --oversize drop|fail: what to do with a record too large for Kinesis. */
static int oversize_opt(const char *arg, void *fail)
{
    if (strcmp(arg, "drop") == 0)
        *(int *)fail = 0;
    else if (strcmp(arg, "fail") == 0)
        *(int *)fail = 1;
    else
        return cli_usage_error("--oversize wants drop or fail, not '%s'", arg);
    return 0;
}

/* --show-credentials-source: what would serve the credentials, region and
 * endpoint, without fetching anything (like `aws configure list`). */
static int show_source(void)
{
    printf("credentials: %s\nregion: %s (from %s)\nendpoint: %s (from %s)\nsts: %s\n", creds_describe(S.aws.creds),
           S.aws.region, S.aws.region_source, S.aws.endpoint, S.aws.endpoint_source, S.aws.sts_endpoint);
    if (S.aws.ca_bundle)
        printf("ca bundle: %s\n", S.aws.ca_bundle);
    return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
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
    S.max_retries = -1;
    S.max_record = ORA_REC_MAX_DEFAULT;
    S.out_fd = 1;
    S.metrics_interval = 10;
    /* ORA_STREAM is the supervisor's name for it; the older, more specific
     * ORA_KINESIS_STREAM wins when both are set. */
    S.stream = cli_env("ORA_KINESIS_STREAM") ? cli_env("ORA_KINESIS_STREAM") : cli_env("ORA_STREAM");
    const char *ckpt_flag = NULL, *state_flag = NULL;

    /* numbers as typed (milliseconds, counts), set in S below */
    uint64_t linger_ms = 50, retries = 0, backoff_ms[2] = {100, 10000}, timeout_ms = 30000;
    int retries_given = 0;
    cli_opt opts[] = {
        {.name = "stream", .kind = CLI_STR, .dest = &S.stream},
        {.name = "stdout", .kind = CLI_FLAG, .dest = &S.to_stdout},
        {.name = "checkpoint", .kind = CLI_STR, .dest = &ckpt_flag},
        {.name = "concurrency", .kind = CLI_U64, .dest = &S.concurrency, .as = CLI_AS_U32, .u = {1, 256},
         .bad = "--concurrency wants 1..256, not '%s'"},
        {.name = "linger", .kind = CLI_U64, .dest = &linger_ms, .u = {0, 600000},
         .bad = "--linger wants milliseconds 0..600000, not '%s'"},
        {.name = "max-records", .kind = CLI_U64, .dest = &S.max_records, .as = CLI_AS_U32,
         .u = {1, KINESIS_MAX_RECORDS},
         .bad = "--max-records wants 1..500, not '%s'"},
        {.name = "max-request-bytes", .kind = CLI_SIZE, .dest = &S.max_request_bytes, .u = {1, KINESIS_REQUEST_BYTES_MAX},
         .bad = "--max-request-bytes wants 1..10M, not '%s'"},
        {.name = "max-record-bytes", .kind = CLI_SIZE, .dest = &S.max_record_bytes, .u = {1, KINESIS_MAX_RECORD_BYTES},
         .bad = "--max-record-bytes wants 1..1M, not '%s'"},
        {.name = "oversize", .kind = CLI_CALL, .dest = &S.oversize_fail, .call = oversize_opt, .takes_arg = 1},
        {.name = "max-retries", .kind = CLI_U64, .dest = &retries, .u = {0, 1000000}, .given = &retries_given,
         .bad = "--max-retries wants 0..1000000, not '%s'"},
        {.name = "dead-letter", .kind = CLI_STR, .dest = &S.dead_letter},
        {.name = "backoff", .kind = CLI_RANGE, .dest = &backoff_ms[0], .dest2 = &backoff_ms[1],
         .u = {1, 3600000},
         .bad = "--backoff wants MIN..MAX milliseconds, not '%s'"},
        {.name = "timeout", .kind = CLI_U64, .dest = &timeout_ms, .u = {100, 3600000},
         .bad = "--timeout wants milliseconds 100..3600000, not '%s'"},
        {.name = "max-pending", .kind = CLI_U64, .dest = &S.max_pending, .u = {1, 100000000},
         .bad = "--max-pending wants 1..100000000, not '%s'"},
        {.name = "endpoint-url", .kind = CLI_STR, .dest = &S.endpoint_url},
        {.name = "region", .kind = CLI_STR, .dest = &S.region},
        {.name = "profile", .kind = CLI_STR, .dest = &S.profile},
        {.name = "latency-log", .kind = CLI_STR, .dest = &S.latency_log},
        {.name = "strict", .kind = CLI_FLAG, .dest = &S.strict},
        {.name = "max-record", .kind = CLI_SIZE, .dest = &S.max_record, .as = CLI_AS_U32, .u = {64, ORA_REC_MAX_LIMIT},
         .bad = "--max-record wants 64..1G, not '%s'"},
        {.name = "state-dir", .kind = CLI_STR, .dest = &state_flag},
        {.name = "allow-insecure-endpoint", .kind = CLI_FLAG, .dest = &S.allow_insecure},
        {.name = "show-credentials-source", .kind = CLI_FLAG, .dest = &S.show_source},
        {.name = "metrics", .kind = CLI_STR, .dest = &S.metrics_path},
        {.name = "metrics-interval", .kind = CLI_DOUBLE, .dest = &S.metrics_interval, .d = {0.1, 86400},
         .bad = "--metrics-interval wants seconds 0.1..86400, not '%s'"},
        CLI_OPT_INPUT(&S.in_path),
        CLI_OPT_OUTPUT(&S.out_path),
        CLI_OPT_HELP(usage_text),
        CLI_OPT_VERSION,
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .operand = "unexpected argument '%s'"};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        return go;
    S.linger = (double)linger_ms / 1000;
    if (retries_given)
        S.max_retries = (long)retries;
    S.backoff_min = (double)backoff_ms[0] / 1000;
    S.backoff_max = (double)backoff_ms[1] / 1000;
    S.timeout = (double)timeout_ms / 1000;
    /* Before libcurl, OpenSSL or cJSON allocate anything: they wipe what
     * they free (secrets pass through their buffers). Not needed, and not
     * paid for, with --stdout. */
    if ((!S.to_stdout || S.show_source) && secmem_wipe_library_heaps() < 0) {
        log_error("unable to install wiping allocators in libcurl/OpenSSL");
        return ORA_EX_SOFTWARE;
    }
    if (S.show_source) {
        char err[1024];
        aws_config_opts o = {S.profile, S.region, S.endpoint_url, "kinesis", "KINESIS", S.timeout, S.allow_insecure};
        if (aws_config_load(&S.aws, &o, err, sizeof err) < 0) {
            log_error("unable to configure AWS access: %s", err);
            return ORA_EX_CONFIG;
        }
        int rc = show_source();
        aws_config_free(&S.aws);
        return rc;
    }
    /* The checkpoint: --checkpoint, else --state-dir/checkpoint, else
     * ORA_CHECKPOINT, else ORA_STATE_DIR/checkpoint (flags win over the
     * environment; a file wins over a directory). */
    static char ckpath[4096];
    S.state_dir = state_flag ? state_flag : cli_env("ORA_STATE_DIR");
    if (ckpt_flag)
        S.checkpoint = ckpt_flag;
    else if (state_flag || (!cli_env("ORA_CHECKPOINT") && S.state_dir)) {
        if (snprintf(ckpath, sizeof ckpath, "%s/checkpoint", S.state_dir) >= (int)sizeof ckpath)
            return state_flag ? cli_usage_error("--state-dir is too long") : (log_error("ORA_STATE_DIR is too long"), ORA_EX_CONFIG);
        S.checkpoint = ckpath;
    } else {
        S.checkpoint = cli_env("ORA_CHECKPOINT");
    }
    if (S.state_dir && !ckpt_flag && mkdir(S.state_dir, 0700) < 0 && errno != EEXIST) {
        log_error("unable to create state directory %s: %s", S.state_dir, strerror(errno));
        return ORA_EX_IOERR;
    }
    if (!S.to_stdout && !S.stream)
        return cli_usage_error("%s", "--stream NAME is required (or --stdout)");
    if (S.stream && (strlen(S.stream) < 1 || strlen(S.stream) > 128))
        return cli_usage_error("--stream wants 1..128 characters, not '%s'", S.stream);
    if (S.max_record_bytes > S.max_request_bytes)
        S.max_record_bytes = S.max_request_bytes;
    if (S.out_path && !S.to_stdout)
        return cli_usage_error("%s", "-o is for --stdout");

    putq_opts qo = {S.max_records, S.max_request_bytes, S.linger, S.backoff_min, S.backoff_max, 0};
    if (!(S.q = putq_new(&qo)) || ora_backoff_init(&S.gate_backoff, S.backoff_min, S.backoff_max) < 0) {
        log_error("unable to set up delivery: %s", strerror(errno));
        return ORA_EX_SOFTWARE;
    }
    if (S.metrics_path && metrics_setup() < 0) {
        log_error("unable to set up metrics: out of memory");
        return ORA_EX_SOFTWARE;
    }
    int in_fd, io = cli_open_io(S.in_path, S.out_path, &in_fd, &S.out_fd);
    if (io)
        return io;
    if (S.latency_log && !(S.lat = fopen(S.latency_log, "w"))) {
        log_error("unable to open %s: %s", S.latency_log, strerror(errno));
        return ORA_EX_IOERR;
    }

    if (!S.to_stdout) {
        char err[1024];
        aws_config_opts o = {S.profile, S.region, S.endpoint_url, "kinesis", "KINESIS", S.timeout, S.allow_insecure};
        if (aws_config_load(&S.aws, &o, err, sizeof err) < 0) {
            log_error("unable to configure AWS access: %s", err);
            return ORA_EX_CONFIG;
        }
        aws_url_split(S.aws.endpoint, S.host, sizeof S.host, S.path, sizeof S.path);
        log_debug("endpoint %s (from %s), region %s (from %s), credentials from %s", S.aws.endpoint,
                  S.aws.endpoint_source, S.aws.region, S.aws.region_source, creds_describe(S.aws.creds));
        if (!(S.multi = curl_multi_init())) {
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
            curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
            curl_easy_setopt(r->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
            if (S.aws.ca_bundle)
                curl_easy_setopt(r->easy, CURLOPT_CAINFO, S.aws.ca_bundle);
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
    int cx = confine(); /* before the credentials thread */
    if (cx)
        return cx;
    if (!S.to_stdout) {
        credcache_opts cco = {S.aws.creds, 1, 60, wake_main, NULL};
        if (!(S.cc = credcache_start(&cco))) {
            log_error("unable to start the credentials thread: %s", strerror(errno));
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
        if (S.cc)
            creds_poll();
        double now = cli_now();
        if (got_term && !S.signals) {
            S.signals = 1;
            S.stop_reading = 1;
            log_info("stopping: delivering %" PRIu64 " pending records (signal again to stop at once)", putq_pending(S.q));
        } else if (got_term > 1) {
            log_error("stopped with %" PRIu64 " records undelivered", putq_pending(S.q));
            S.exit_code = ORA_EX_TEMPFAIL;
            S.fatal = 1;
            break;
        }
        if (S.to_stdout) {
            while (sendable(now))
                write_stdout_batch(now);
        } else {
            while (S.inflight < S.concurrency && sendable(now))
                if (send_batch(now) < 0)
                    break;
        }
        int done_input = S.input_done || S.stop_reading;
        if (done_input && putq_pending(S.q) == 0)
            break;
        if (S.fatal && S.inflight == 0)
            break;

        /* How long may we wait? */
        double wait = 1.0;
        /* A batch waiting for a free request slot waits for a response,
         * not for a timer. */
        int slot = S.to_stdout || S.inflight < S.concurrency;
        /* Without usable credentials, the refresh thread wakes us. */
        if (!S.fatal && slot && (S.to_stdout || creds_usable())) {
            double d = putq_wait(S.q, now, done_input);
            if (!S.to_stdout && S.gate > now && S.gate - now > d && d < 1e9)
                d = S.gate - now;
            if (d < wait)
                wait = d;
        }
        if (S.m && S.metrics_interval < wait)
            wait = S.metrics_interval;
        int can_read = !done_input && !S.fatal && putq_pending(S.q) < S.max_pending &&
                       putq_pending_bytes(S.q) < S.max_pending_bytes;
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
        metrics_tick(cli_now());
        cli_poll();
    }

    /* Finish: whatever is still held goes to the dead letter. */
    int rc = S.exit_code;
    if (putq_pending(S.q) && (S.fatal || got_term > 1)) {
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
    if (S.m && ora_metrics_flush(S.m) < 0)
        log_warn("unable to write metrics to %s: %s", S.metrics_path, strerror(errno));
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
        credcache_stop(S.cc);
        curl_multi_cleanup(S.multi);
        curl_global_cleanup();
    }
    putq_free(S.q);
    ora_metrics_free(S.m);
    ora_hist_free(&S.req_dur);
    ora_hist_free(&S.lag);
    ora_buf_free(&S.line);
    ora_reader_free(rd);
    if (in_flags >= 0)
        fcntl(in_fd, F_SETFL, in_flags);
    aws_creds_clear(&S.creds);
    aws_config_free(&S.aws);
    if (in_fd > 0)
        close(in_fd);
    return rc;
}
