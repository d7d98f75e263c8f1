/* ora-deframe: the compressed ORA stream to messages (doc/design.md §2, issue 3).
 * WIRE records in (or raw socket bytes with --raw), one MSG record out per
 * ORA data message; CTRL records pass through in place; session messages
 * become flow CTRL records or are dropped. See man/ora-deframe.1.
 *
 * Two halves: the producer reads records and inflates frames (lib/wire.c);
 * the consumer scans each frame's top level (lib/jscan.c), keeps the flow
 * and writes records. With --threads 2 (the default) they run on two
 * threads joined by a ring of bytes; with --threads 1 the producer calls the
 * consumer directly. */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cliopt.h"
#include "clistage.h"
#include "metrics.h"
#include "jscan.h"
#include "json.h"
#include "ora.h"
#include "record.h"
#include "wire.h"

#define RAW_BLOCK (1u << 20)

static const char usage_text[] =
    "usage: ora-deframe [-i FILE] [-o FILE] [--raw] [--flow NAME] [--max-message SIZE]\n"
    "                   [--max-ratio N] [--max-record SIZE] [--threads N] [--strict]\n"
    "                   [--metrics FILE] [--metrics-interval SECONDS]\n"
    "       ora-deframe -h | --version\n"
    "  -i, --input FILE        read WIRE and CTRL records from FILE (default stdin)\n"
    "  -o, --output FILE       write MSG and CTRL records to FILE (default stdout)\n"
    "      --raw               the input is raw socket bytes (connection 1), not records\n"
    "      --flow NAME         the flow until a flow record says otherwise: snapshot,\n"
    "                          replay or realtime (default none)\n"
    "      --max-message SIZE  longest message accepted (default 16M; ORA_MAX_MESSAGE)\n"
    "      --max-ratio N       most bytes a gzip member may inflate to per compressed\n"
    "                          byte (default 200, 0: no bound; ORA_MAX_RATIO)\n"
    "      --max-record SIZE   largest input record accepted (default 16M)\n"
    "      --threads N         1: one thread; 2: inflate and output on two (default 2;\n"
    "                          ORA_DEFRAME_THREADS)\n"
    "      --strict            exit 65 on damaged input instead of skipping it\n"
    CLI_USAGE_FILTER_TAIL;

static volatile sig_atomic_t term;
static void on_term(int sig) { (void)sig; term = 1; }

/* ---- counters (written by one thread each, read by the summary) -------- */

typedef _Atomic uint64_t counter;
#define GET(c) atomic_load_explicit(&(c), memory_order_relaxed)
#define SET(c, v) atomic_store_explicit(&(c), (v), memory_order_relaxed)
#define ADD(c, v) SET(c, GET(c) + (v))   /* one writer per counter */

static struct {
    /* producer */
    counter wire_recs, bytes_in, bytes_inflated, inflated_in, members, corrupt, truncated, dropped,
        damaged, resets;
    /* consumer */
    counter msgs, bytes_out, session, flows, bad, range, ctrl_in, other;
} C;

/* ---- consumer: frames -> records --------------------------------------- */

static struct {
    ora_writer *w;
    int strict;
    uint8_t flow;
    uint64_t frames;
    uint64_t bad_warned;
} K;

static const char *const scan_keys[] = {"type", "offset"};

/* The offset in a session message's payload object, e.g.
 * {"sessionSnapshotCompleted":{"offset":N}}; -1 when there is none or it
 * is not a whole number in 0..ORA_OFFSET_MAX. */
static int64_t session_offset(const uint8_t *m, uint32_t n, const char *payload_key)
{
    int64_t off = -1;
    cJSON *j = cJSON_ParseWithLength((const char *)m, n);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, payload_key), "offset");
    uint64_t u;
    if (ora_json_u64(o, &u) == 0 && u <= ORA_OFFSET_MAX)
        off = (int64_t)u;
    cJSON_Delete(j);
    return off;
}

static int put_flow(uint8_t flow, int64_t off, uint32_t conn, uint64_t recv_ns)
{
    char p[128];
    int len;
    if (off >= 0)
        len = snprintf(p, sizeof p, "{\"ctrl\":\"flow\",\"flow\":\"%s\",\"offset\":%" PRId64 "}",
                       ora_flow_name(flow), off);
    else
        len = snprintf(p, sizeof p, "{\"ctrl\":\"flow\",\"flow\":\"%s\"}", ora_flow_name(flow));
    ora_rec r;
    ora_rec_init(&r, ORA_T_CTRL);
    r.kind = ORA_C_FLOW;
    r.flow = flow;
    r.offset = off;
    r.conn = conn;
    r.recv_ns = recv_ns;
    r.len = (uint32_t)len;
    r.payload = (const uint8_t *)p;
    K.flow = flow;
    ADD(C.flows, 1);
    return ora_writer_put(K.w, &r) == 0 ? 0 : ORA_EX_IOERR;
}

static int bad_msg(uint32_t conn, const char *why)
{
    ADD(C.bad, 1);
    if (K.strict) {
        log_error("unable to use message %" PRIu64 " of connection %" PRIu32 ": %s", K.frames, conn, why);
        return ORA_EX_DATAERR;
    }
    int w = ora_warn_next(&K.bad_warned);
    if (w)
        log_warn("dropped message %" PRIu64 " of connection %" PRIu32 ": %s%s", K.frames, conn, why,
                 w == 2 ? ORA_WARN_MORE : "");
    return 0;
}

/* A session message: a flow change or dropped. */
static int on_session(const uint8_t *m, uint32_t n, const uint8_t *type, size_t tn, uint32_t conn,
                      uint64_t recv_ns)
{
    int s = ora_session_lookup((const char *)type, tn);
    switch (s) {
    case ORA_S_SNAPSHOT_COMPLETED:
        return put_flow(ORA_FLOW_REPLAY, session_offset(m, n, "sessionSnapshotCompleted"), conn, recv_ns);
    case ORA_S_REPLAY_COMPLETED:
        return put_flow(ORA_FLOW_REALTIME, session_offset(m, n, "sessionReplayCompleted"), conn, recv_ns);
    case ORA_S_ERROR: {
        /* ora-connect acts on it; say it here too, for captures read with --raw */
        cJSON *j = cJSON_ParseWithLength((const char *)m, n);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "sessionError"), "code");
        log_info("connection %" PRIu32 ": the server sent SESSION_ERROR %s", conn,
                 cJSON_IsString(c) && strlen(c->valuestring) < 64 ? c->valuestring : "(no code)");
        cJSON_Delete(j);
        ADD(C.session, 1);
        return 0;
    }
    default:
        ADD(C.session, 1);
        if (s == ORA_S_NONE)
            log_debug("dropped an unknown session message %.*s", (int)(tn > 64 ? 64 : tn), type);
        return 0;
    }
}

/* One frame: a data message becomes a MSG record. sum, when not NULL, is
 * the verified checksum of m (a WIRE record that held just this frame):
 * it goes with the MSG record instead of being computed again. 0 or an
 * exit code. */
static int c_frame(const uint8_t *m, uint32_t n, uint32_t conn, uint64_t recv_ns, const uint64_t *sum)
{
    ora_jspan v[2];
    K.frames++;
    if (ora_jscan(m, n, scan_keys, 2, v) != 0)
        return bad_msg(conn, "not a JSON object");
    if (v[0].p) {
        const uint8_t *t;
        size_t tn;
        int k = ora_jscan_str(v[0], &t, &tn);
        char dec[64];
        if (k == 0) {   /* escapes: let cJSON decode it */
            cJSON *j = cJSON_ParseWithLength((const char *)m, n);
            const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
            k = -1;
            if (cJSON_IsString(ty) && strlen(ty->valuestring) < sizeof dec) {
                tn = strlen(ty->valuestring);
                memcpy(dec, ty->valuestring, tn);
                t = (const uint8_t *)dec;
                k = 1;
            }
            cJSON_Delete(j);
        }
        if (k == 1 && tn >= 8 && memcmp(t, "SESSION_", 8) == 0)
            return on_session(m, n, t, tn, conn, recv_ns);
    }
    /* One range in every stage (ora.h): a number outside it never goes on
     * as an offset; a value that is not a number is no offset (-1) */
    int64_t off = -1;
    uint64_t u;
    int orc = v[1].p ? ora_jscan_uint(v[1], ORA_OFFSET_MAX, &u) : -1;
    if (orc == 1) {
        ADD(C.range, 1);
        return bad_msg(conn, "\"offset\" outside 0..2^53-1");
    }
    if (orc == 0)
        off = (int64_t)u;
    ora_rec r;
    ora_rec_init(&r, ORA_T_MSG);
    r.conn = conn;
    r.recv_ns = recv_ns;
    r.offset = off;
    r.flow = K.flow;
    r.len = n;
    if (sum) {
        r.payload = m;
        r.sum = *sum;
        if (ora_writer_put_same(K.w, &r) != 0)
            return ORA_EX_IOERR;
    } else {
        uint8_t *p = ora_writer_reserve(K.w, n);
        if (!p)
            return ORA_EX_IOERR;
        memcpy(p, m, n);
        if (ora_writer_commit(K.w, &r) != 0)
            return ORA_EX_IOERR;
    }
    ADD(C.msgs, 1);
    ADD(C.bytes_out, n);
    return 0;
}

/* A record passed through (CTRL above all); flow records set the flow. */
static int c_pass(const ora_rec *r)
{
    if (r->type == ORA_T_CTRL) {
        ADD(C.ctrl_in, 1);
        if (r->kind == ORA_C_FLOW) {
            uint8_t f = r->flow;
            if (f == ORA_FLOW_NONE) {   /* not in the header: read the payload */
                cJSON *j = cJSON_ParseWithLength((const char *)r->payload, r->len);
                const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "flow");
                if (cJSON_IsString(fl))
                    f = ora_flow_parse(fl->valuestring);
                cJSON_Delete(j);
            }
            if (f != ORA_FLOW_NONE)
                K.flow = f;
        }
    } else {
        ADD(C.other, 1);
    }
    return ora_writer_put(K.w, r) == 0 ? 0 : ORA_EX_IOERR;
}

/* ---- the hand-over between the halves ------------------------------------
 * threads 1: direct calls. threads 2: a single-producer single-consumer ring
 * of items [hdr][payload], 8-byte aligned; an item that does not fit before
 * the end of the ring leaves a skip marker and starts at offset 0. Items
 * bigger than a quarter of the ring travel in their own allocation. */

enum { IT_FRAME = 1, IT_REC, IT_SKIP, IT_END };

typedef struct item {
    uint32_t kind, len;
    uint32_t conn;
    uint32_t big;            /* payload is in *(uint8_t **)payload */
    uint64_t recv_ns;
    uint64_t sum;            /* IT_FRAME with summed: the payload's checksum */
    uint32_t summed, pad;
} item;                      /* IT_REC: then an ora_rec, then the payload */

#define RING (1u << 20)
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static struct {
    int threads;
    uint8_t *buf;
    _Atomic uint64_t head, tail;     /* bytes produced, consumed */
    uint64_t pub;                    /* producer: head not yet published */
    _Atomic int cons_waiting, prod_waiting;
    _Atomic int cons_rc;             /* consumer's exit code once it failed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
} Q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void wake(void)
{
    pthread_mutex_lock(&Q.mu);
    pthread_cond_broadcast(&Q.cv);
    pthread_mutex_unlock(&Q.mu);
}

/* Makes the produced items visible; wakes the consumer if it sleeps. */
static void q_publish(void)
{
    atomic_store_explicit(&Q.head, Q.pub, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&Q.cons_waiting, memory_order_relaxed))
        wake();
}

/* Room for need bytes at the producer's position (after a skip marker when
 * needed). Returns the place, or NULL when the consumer has failed. */
static uint8_t *q_room(size_t need)
{
    for (;;) {
        size_t at = Q.pub % RING;
        size_t want = need;
        if (at + need > RING)
            want = RING - at + need;   /* skip to the start */
        uint64_t tail = atomic_load_explicit(&Q.tail, memory_order_acquire);
        if (RING - (Q.pub - tail) >= want) {
            if (want != need) {
                item *sk = (item *)(Q.buf + at);
                sk->kind = IT_SKIP;
                Q.pub += RING - at;
                at = 0;
            }
            return Q.buf + at;
        }
        if (atomic_load(&Q.cons_rc))
            return NULL;
        q_publish();
        pthread_mutex_lock(&Q.mu);
        atomic_store(&Q.prod_waiting, 1);
        tail = atomic_load(&Q.tail);
        if (RING - (Q.pub - tail) < want && !atomic_load(&Q.cons_rc))
            pthread_cond_wait(&Q.cv, &Q.mu);
        atomic_store(&Q.prod_waiting, 0);
        pthread_mutex_unlock(&Q.mu);
    }
}

static int q_put(const item *h, const ora_rec *rec, const uint8_t *payload)
{
    size_t n = h->len, hs = sizeof(item) + (rec ? sizeof(ora_rec) : 0), sz = hs + ALIGN8(n);
    int big = sz > RING / 4;
    if (big)
        sz = hs + sizeof(uint8_t *);
    uint8_t *p = q_room(sz);
    if (!p)
        return atomic_load(&Q.cons_rc);
    item *it = (item *)p;
    *it = *h;
    it->big = (uint32_t)big;
    if (rec)
        memcpy(p + sizeof(item), rec, sizeof *rec);
    if (big) {
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            return ORA_EX_SOFTWARE;
        memcpy(copy, payload, n);
        memcpy(p + hs, &copy, sizeof copy);
    } else if (n) {
        memcpy(p + hs, payload, n);
    }
    Q.pub += sz;
    /* publish in batches: at once when the consumer sleeps on a big
     * backlog; the rest before every read and at the end */
    if (Q.pub - atomic_load_explicit(&Q.head, memory_order_relaxed) >= RING / 4)
        q_publish();
    return 0;
}

static int give_frame(const uint8_t *m, uint32_t n, uint32_t conn, uint64_t recv_ns, const uint64_t *sum)
{
    if (Q.threads == 1)
        return c_frame(m, n, conn, recv_ns, sum);
    item h = {.kind = IT_FRAME, .len = n, .conn = conn, .recv_ns = recv_ns, .sum = sum ? *sum : 0, .summed = !!sum};
    return q_put(&h, NULL, m);
}

static int give_rec(const ora_rec *r)
{
    if (Q.threads == 1)
        return c_pass(r);
    item h = {.kind = IT_REC, .len = r->len};
    return q_put(&h, r, r->payload);
}

/* Called before the producer may block: output must not wait in buffers. */
static int give_flush(void)
{
    if (Q.threads == 1)
        return ora_writer_flush(K.w) == 0 ? 0 : ORA_EX_IOERR;
    q_publish();
    return atomic_load(&Q.cons_rc);
}

static void *consumer(void *arg)
{
    (void)arg;
    uint64_t tail = 0;
    int rc = 0;
    for (;;) {
        uint64_t head = atomic_load_explicit(&Q.head, memory_order_acquire);
        if (head == tail) {
            /* caught up: flush, then sleep until more is published */
            if (ora_writer_flush(K.w) != 0) {
                rc = ORA_EX_IOERR;
                break;
            }
            pthread_mutex_lock(&Q.mu);
            atomic_store(&Q.cons_waiting, 1);
            atomic_thread_fence(memory_order_seq_cst);
            if (atomic_load(&Q.head) == tail)
                pthread_cond_wait(&Q.cv, &Q.mu);
            atomic_store(&Q.cons_waiting, 0);
            pthread_mutex_unlock(&Q.mu);
            continue;
        }
        int end = 0;
        while (tail < head && !rc) {
            item *it = (item *)(Q.buf + tail % RING);
            if (it->kind == IT_SKIP) {
                tail += RING - tail % RING;
                continue;
            }
            size_t hs = sizeof(item) + (it->kind == IT_REC ? sizeof(ora_rec) : 0);
            const uint8_t *pl = (const uint8_t *)it + hs;
            uint8_t *big = NULL;
            if (it->big) {
                memcpy(&big, pl, sizeof big);
                pl = big;
            }
            if (it->kind == IT_FRAME) {
                rc = c_frame(pl, it->len, it->conn, it->recv_ns, it->summed ? &it->sum : NULL);
            } else if (it->kind == IT_REC) {
                ora_rec r;
                memcpy(&r, (const uint8_t *)it + sizeof(item), sizeof r);
                r.payload = pl;
                rc = c_pass(&r);
            } else {
                end = 1;
            }
            free(big);
            tail += hs + (it->big ? sizeof(uint8_t *) : ALIGN8(it->len));
            if (end)
                break;
        }
        atomic_store_explicit(&Q.tail, tail, memory_order_release);
        atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&Q.prod_waiting, memory_order_relaxed))
            wake();
        if (rc || end)
            break;
    }
    if (!rc && ora_writer_flush(K.w) != 0)
        rc = ORA_EX_IOERR;
    atomic_store(&Q.cons_rc, rc ? rc : -1);   /* -1: ended cleanly */
    wake();
    return NULL;
}

/* Ends the consumer; returns its exit code. */
static int give_end(void)
{
    if (Q.threads == 1)
        return ora_writer_flush(K.w) == 0 ? 0 : ORA_EX_IOERR;
    item h = {.kind = IT_END};
    q_put(&h, NULL, NULL);
    q_publish();
    pthread_join(Q.th, NULL);
    int rc = atomic_load(&Q.cons_rc);
    return rc < 0 ? 0 : rc;
}

static int consumer_failed(void)
{
    if (Q.threads == 1)
        return ora_writer_error(K.w) ? ORA_EX_IOERR : 0;
    int rc = atomic_load_explicit(&Q.cons_rc, memory_order_relaxed);
    return rc > 0 ? rc : 0;
}

/* ---- producer: records -> frames ---------------------------------------- */

static struct {
    ora_reader *rd;
    ora_wire *w;
    int in_fd;
    int null_fd; /* /dev/null, opened before the sandbox (cut_input) */
    int strict;
    int raw;
    uint32_t max_msg;     /* --max-message */
    uint32_t conn;        /* current connection (0: none yet) */
    ora_metrics *m;       /* --metrics: written from this thread */
    int dead;             /* the current connection's stream is dropped */
    uint64_t warned;
    int stopping;
} P;

static void cut_input(void) { clistage_cut_input(P.in_fd, P.null_fd, &P.stopping); }

static void before_read(void *arg)
{
    (void)arg;
    cli_poll();
    if (term || give_flush() != 0) {
        cut_input();
        return;
    }
    if (!P.m)
        return;
    /* the metrics go out at their interval, also while the input is idle */
    for (;;) {
        ora_metrics_tick(P.m, cli_now());
        struct pollfd p = {.fd = P.in_fd, .events = POLLIN};
        if (poll(&p, 1, 1000) != 0 || term)
            return;     /* readable, hung up, failed, or a signal: read() tells */
        cli_poll();
    }
}

/* Drops the current stream (a new connection); warns about what was lost. */
static void new_stream(uint32_t conn, const char *why)
{
    uint64_t fr = ora_wire_pending_frame(P.w), mem = ora_wire_pending_member(P.w);
    uint64_t lost = ora_wire_reset(P.w);
    ADD(C.resets, 1);
    if (lost && !P.dead) {
        ADD(C.dropped, lost);
        log_warn("connection %" PRIu32 " ended inside a frame or member (%s): dropped %" PRIu64
                 " bytes (%" PRIu64 " of a partial frame, %" PRIu64 " of an unfinished member)",
                 P.conn, why, lost, fr, mem);
    }
    P.conn = conn;
    P.dead = 0;
}

static int broken(uint32_t conn, const char *why);

/* Runs the decoder over fed bytes. 0 or an exit code. */
static int pump(uint32_t conn, uint64_t recv_ns)
{
    const uint8_t *m;
    uint32_t n;
    int rc;
    uint64_t out0 = ora_wire_out_pos(P.w), mem0 = ora_wire_members(P.w);
    const char *why = NULL;
    char whybuf[64];
    while ((rc = ora_wire_next(P.w, &m, &n)) == ORA_W_FRAME) {
        if (n < 2) {
            /* no JSON message is that short: the stream is broken (a run
             * of zeros, e.g. a decompression bomb at a modest ratio) */
            snprintf(whybuf, sizeof whybuf, "a frame of %" PRIu32 " bytes cannot hold a message", n);
            why = whybuf;
            break;
        }
        int ex = give_frame(m, n, conn, recv_ns, NULL);
        if (ex)
            return ex;
    }
    ADD(C.bytes_inflated, ora_wire_out_pos(P.w) - out0);
    ADD(C.members, ora_wire_members(P.w) - mem0);
    if (!why) {
        if (rc == ORA_W_NEED_INPUT)
            return 0;
        if (rc == ORA_W_NOMEM) {
            log_error("unable to inflate connection %" PRIu32 ": %s", conn, ora_wire_error(P.w));
            return ORA_EX_SOFTWARE;
        }
        why = ora_wire_error(P.w);
    }
    return broken(conn, why);
}

/* The connection's stream cannot go on: reported, the rest of it dropped. */
static int broken(uint32_t conn, const char *why)
{
    ADD(C.corrupt, 1);
    if (P.strict) {
        log_error("unable to inflate connection %" PRIu32 " at compressed byte %" PRIu64 ": %s", conn,
                  ora_wire_in_pos(P.w), why);
        return ORA_EX_DATAERR;
    }
    log_warn("corrupt stream on connection %" PRIu32 " at compressed byte %" PRIu64
             " (after %" PRIu64 " members): %s; dropping the rest of the connection",
             conn, ora_wire_in_pos(P.w), ora_wire_members(P.w), why);
    P.dead = 1;
    ADD(C.dropped, ora_wire_pending_member(P.w));
    ora_wire_reset(P.w);
    return 0;
}

/* A frame that ora-connect inflated (flag INFLATED): a message at once,
 * with the checksum it came with. */
static int on_inflated(const ora_rec *r)
{
    char why[96];
    ADD(C.inflated_in, 1);
    if (ora_wire_partial(P.w)) {
        snprintf(why, sizeof why, "an inflated frame inside a compressed member or frame");
        ADD(C.dropped, r->len);
        return broken(r->conn, why);
    }
    if (r->len < 2 || r->len > P.max_msg) {
        if (r->len < 2)
            snprintf(why, sizeof why, "a frame of %" PRIu32 " bytes cannot hold a message", r->len);
        else
            snprintf(why, sizeof why, "frame length %" PRIu32 " over the limit %" PRIu32, r->len, P.max_msg);
        ADD(C.dropped, r->len);
        return broken(r->conn, why);
    }
    uint64_t sum = r->sum;
    return give_frame(r->payload, r->len, r->conn, r->recv_ns, &sum);
}

static int on_wire(const ora_rec *r)
{
    ADD(C.wire_recs, 1);
    ADD(C.bytes_in, r->len);
    if (r->conn != P.conn) {
        if (P.conn != 0)
            log_warn("connection %" PRIu32 " follows %" PRIu32 " without a connected record", r->conn, P.conn);
        new_stream(r->conn, "next connection");
    }
    if (P.dead) {
        ADD(C.dropped, r->len);
        return 0;
    }
    if (r->flags & ~ORA_RF_INFLATED) {
        char why[64];
        snprintf(why, sizeof why, "a WIRE record with unknown flags 0x%x", (unsigned)r->flags);
        ADD(C.dropped, r->len);
        return broken(r->conn, why);
    }
    if (r->flags & ORA_RF_INFLATED)
        return on_inflated(r);
    ora_wire_feed(P.w, r->payload, r->len);
    return pump(r->conn, r->recv_ns);
}

/* "conn" of a connected record's payload (the header's when absent). */
static uint32_t ctrl_conn(const ora_rec *r)
{
    uint32_t conn = r->conn;
    cJSON *j = cJSON_ParseWithLength((const char *)r->payload, r->len);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "conn");
    if (cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble <= 4294967295.0)
        conn = (uint32_t)c->valuedouble;
    cJSON_Delete(j);
    return conn;
}

static int at_eof(void)
{
    if (!P.dead && ora_wire_partial(P.w)) {
        uint64_t fr = ora_wire_pending_frame(P.w), mem = ora_wire_pending_member(P.w);
        ADD(C.truncated, 1);
        ADD(C.dropped, fr + mem);
        if (P.strict) {
            log_error("unable to finish connection %" PRIu32 ": input ended inside a frame or member (%" PRIu64
                      " bytes of a partial frame, %" PRIu64 " of an unfinished member)", P.conn, fr, mem);
            return ORA_EX_DATAERR;
        }
        log_warn("input ended inside a frame or member of connection %" PRIu32 ": dropped %" PRIu64
                 " bytes of a partial frame, %" PRIu64 " of an unfinished member", P.conn, fr, mem);
    }
    return 0;
}

static int run_records(void)
{
    ora_rec in;
    for (;;) {
        int ex = consumer_failed();
        if (ex)
            return ex;
        int rc = ora_reader_next(P.rd, &in);
        if (rc == ORA_RD_EOF)
            return at_eof();
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(P.rd);
            if (p->not_records) {
                log_error("unable to read input: %s", p->reason);
                return ORA_EX_DATAERR;
            }
            ADD(C.damaged, p->skipped);
            if (P.strict) {
                log_error("unable to read a record at input byte %" PRIu64 ": %s (%" PRIu64 " bytes)",
                          p->at, p->reason, p->skipped);
                return ORA_EX_DATAERR;
            }
            if (P.stopping && term && rc == ORA_RD_TRUNCATED)
                continue;
            int w = ora_warn_next(&P.warned);
            if (w)
                log_warn("skipped %" PRIu64 " bytes at input byte %" PRIu64 ": %s%s%s", p->skipped, p->at,
                         p->reason, P.conn && !P.dead ? "; dropping the rest of the connection" : "",
                         w == 2 ? ORA_WARN_MORE : "");
            if (P.conn && !P.dead) {
                ADD(C.dropped, ora_wire_reset(P.w));
                P.dead = 1;
            }
            continue;
        }
        if (rc == ORA_RD_ERROR) {
            if (P.stopping)
                return at_eof();
            log_error("unable to read input: %s", strerror(errno));
            return ORA_EX_IOERR;
        }
        cli_poll();
        if (in.type == ORA_T_WIRE) {
            ex = on_wire(&in);
        } else {
            if (in.type == ORA_T_CTRL && in.kind == ORA_C_CONNECTED)
                new_stream(ctrl_conn(&in), "connected");
            ex = give_rec(&in);
        }
        if (ex)
            return ex;
    }
}

static int run_raw(void)
{
    uint8_t *buf = malloc(RAW_BLOCK);
    if (!buf) {
        log_error("unable to allocate buffers: %s", strerror(ENOMEM));
        return ORA_EX_SOFTWARE;
    }
    P.conn = 1;
    int ex = 0;
    for (;;) {
        if ((ex = consumer_failed()))
            break;
        before_read(NULL);
        ssize_t n = read(P.in_fd, buf, RAW_BLOCK);
        if (n == 0 || (n < 0 && P.stopping)) {
            ex = at_eof();
            break;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("unable to read input: %s", strerror(errno));
            ex = ORA_EX_IOERR;
            break;
        }
        ADD(C.bytes_in, (uint64_t)n);
        if (P.dead) {
            ADD(C.dropped, (uint64_t)n);
            continue;
        }
        ora_wire_feed(P.w, buf, (size_t)n);
        if ((ex = pump(1, cli_wall_ns())))
            break;
    }
    /* the consumer must be done with buf before it goes */
    int ex2 = give_end();
    free(buf);
    return ex ? ex : ex2;
}

/* ---- main ------------------------------------------------------------------ */

static void summary(char *buf, size_t n, double elapsed)
{
    char rate[32];
    uint64_t msgs = GET(C.msgs);
    cli_human(elapsed > 0 ? (double)msgs / elapsed : 0, rate, sizeof rate);
    snprintf(buf, n,
             "%" PRIu64 " messages (%s/s), %" PRIu64 " bytes in, %" PRIu64 " inflated, %" PRIu64
             " frames inflated by the sender, %" PRIu64 " out, %" PRIu64 " members, %" PRIu64 " session messages dropped, %" PRIu64 " flow changes, %" PRIu64
             " control records, %" PRIu64 " corrupt, %" PRIu64 " truncated, %" PRIu64 " bad messages (%" PRIu64
             " with an offset out of range), %" PRIu64
             " bytes dropped, %" PRIu64 " bytes of damaged records",
             msgs, rate, GET(C.bytes_in), GET(C.bytes_inflated), GET(C.inflated_in), GET(C.bytes_out), GET(C.members),
             GET(C.session), GET(C.flows), GET(C.ctrl_in), GET(C.corrupt), GET(C.truncated), GET(C.bad), GET(C.range),
             GET(C.dropped), GET(C.damaged));
}

/* A bad value of a numeric option (cliopt.h), named as the user typed it. */
static int bad_opt(const cli_opt *o, const char *arg)
{
    if (o->bad)
        return cli_opt_bad(o, arg);
    char name[64];
    return cli_usage_error("unable to use %s %s: not %s in %" PRIu64 "..%" PRIu64, cli_opt_name(o, name, sizeof name),
                           arg, o->kind == CLI_SIZE ? "a size" : "a whole number", o->u.min, o->u.max);
}

/* --flow NAME: the flow until a flow record says otherwise. */
static int flow_opt(const char *arg, void *flow)
{
    uint8_t f = ora_flow_parse(arg);
    if (f == ORA_FLOW_NONE && strcmp(arg, "none") != 0)
        return cli_usage_error("unable to use --flow %s: not one of snapshot, replay, realtime, none", arg);
    *(uint8_t *)flow = f;
    return 0;
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    uint64_t max_msg = ORA_WIRE_MAX_FRAME_DEFAULT, max_ratio = ORA_WIRE_MAX_RATIO_DEFAULT,
             max_rec = ORA_REC_MAX_DEFAULT, threads = 2;
    if (cli_env_size("ORA_MAX_MESSAGE", 1, ORA_WIRE_MAX_FRAME_LIMIT, &max_msg) ||
        cli_env_u64("ORA_MAX_RATIO", 0, 1000000, &max_ratio) || cli_env_u64("ORA_DEFRAME_THREADS", 1, 2, &threads))
        return ORA_EX_CONFIG;

    cli_filter_args a = CLI_FILTER_ARGS_INIT;
    cli_opt opts[] = {
        CLI_OPTS_FILTER(&a, usage_text),
        {.name = "raw", .kind = CLI_FLAG, .dest = &P.raw},
        {.name = "flow", .kind = CLI_CALL, .dest = &K.flow, .call = flow_opt, .takes_arg = 1},
        {.name = "max-message", .kind = CLI_SIZE, .dest = &max_msg, .u = {1, ORA_WIRE_MAX_FRAME_LIMIT}},
        {.name = "max-ratio", .kind = CLI_U64, .dest = &max_ratio, .u = {0, 1000000}},
        {.name = "max-record", .kind = CLI_SIZE, .dest = &max_rec, .u = {1, ORA_REC_MAX_LIMIT}},
        {.name = "threads", .kind = CLI_U64, .dest = &threads, .u = {1, 2}},
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .bad = bad_opt, .operand = CLI_FILTER_OPERAND};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        return go;
    P.strict = K.strict = a.strict;

    int out_fd, rc = cli_open_io(a.in, a.out, &P.in_fd, &out_fd);
    if (rc)
        return rc;

    cli_on_stop(on_term);
    /* SIGUSR1 (cli.c's summary) interrupts a wait for input, so that the
     * summary comes at once on an idle stream */
    struct sigaction usr1;
    if (sigaction(SIGUSR1, NULL, &usr1) == 0) {
        usr1.sa_flags &= ~SA_RESTART;
        sigaction(SIGUSR1, &usr1, NULL);
    }

    ora_wire_limits lim = {(uint32_t)max_msg, max_ratio};
    P.max_msg = (uint32_t)max_msg;
    P.w = ora_wire_new(&lim);
    K.w = ora_writer_new(out_fd);
    if (!P.raw)
        P.rd = ora_reader_new(P.in_fd, (uint32_t)max_rec);
    Q.threads = (int)threads;
    if (Q.threads == 2)
        Q.buf = malloc(RING);
    if (!P.w || !K.w || (!P.raw && !P.rd) || (Q.threads == 2 && !Q.buf)) {
        log_error("unable to allocate buffers: %s", strerror(ENOMEM));
        return ORA_EX_SOFTWARE;
    }
    P.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* before the sandbox, for cut_input */
    int cx = cli_confine_filter(a.metrics); /* before the consumer thread */
    if (cx)
        return cx;
    if (Q.threads == 2) {
        /* the consumer thread gets no signals */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int e = pthread_create(&Q.th, NULL, consumer, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e) {
            log_error("unable to start a thread: %s", strerror(e));
            return ORA_EX_SOFTWARE;
        }
    }
    if (a.metrics) {
        /* README "Monitoring": ora_deframe_messages_total */
        P.m = ora_metrics_new("deframe");
        if (!P.m || ora_metrics_u64(P.m, "ora_deframe_messages_total", ORA_COUNTER,
                                    "ORA messages split out of the wire stream.", NULL,
                                    (const uint64_t *)&C.msgs) != 0) {
            log_error("unable to set up metrics: %s", strerror(ENOMEM));
            return ORA_EX_SOFTWARE;
        }
        ora_metrics_schedule(P.m, a.metrics, a.metrics_interval);
    }
    if (P.rd)
        ora_reader_on_read(P.rd, before_read, NULL);
    cli_set_summary(summary);

    int ex;
    if (P.raw) {
        ex = run_raw();
    } else {
        ex = run_records();
        int ex2 = give_end();
        if (!ex)
            ex = ex2;
    }
    clistage_io io = {.rd = P.rd, .w = K.w, .in_fd = P.in_fd, .out_fd = out_fd, .in_path = a.in,
                      .m = P.m, .metrics_path = a.metrics};
    ex = clistage_end(&io, ex, term);
    ora_wire_free(P.w);
    free(Q.buf);
    return ex;
}
