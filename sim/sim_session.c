/* sim_session.c: the ORA session, server side (see sim_session.h). */
#include "sim_session.h"
#include "cli.h"
#include "jwt.h"
#include "ora.h"
#include "sim_fault.h"
#include "sim_send.h"
#include "sim_vec.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sends one session message (lib/smsg.h) as a member of its own. */
static int send_smsg(sim_conn *c, const ora_smsg_args *a)
{
    c->smsg.len = 0;
    if (ora_smsg_build(a, &c->smsg) < 0) {
        sim_conn_note(c, ORA_LOG_ERROR, "unable to build %s: %s", ora_session_name(a->type), strerror(errno));
        return SR_ERR;
    }
    const uint8_t *m = c->smsg.p;
    size_t l = c->smsg.len;
    return sim_send_frames(c, &m, &l, 1, 0);
}

static int send_type(sim_conn *c, int type)
{
    return send_smsg(c, &(ora_smsg_args){.type = type});
}

static int send_offset(sim_conn *c, int type, uint64_t offset)
{
    return send_smsg(c, &(ora_smsg_args){.type = type, .offset = (int64_t)offset});
}

static int send_error(sim_conn *c, const char *code, const char *msg)
{
    c->srv->st.errors_sent++;
    sim_conn_note(c, ORA_LOG_INFO, "%s %s: %s", ora_session_name(ORA_S_ERROR), code, msg);
    return send_smsg(c, &(ora_smsg_args){.type = ORA_S_ERROR, .code = code, .message = msg});
}

/* ---- what the client sends ----------------------------------------------- */

/* A frame from the client: a PONG is taken at once; any other session
 * message becomes the command waited for (an INITIALIZE with its body). */
static void on_frame(sim_conn *c, const uint8_t *msg, uint32_t len)
{
    ora_smsg m;
    if (ora_smsg_parse(msg, len, &m) < 0) {
        sim_conn_note(c, ORA_LOG_WARN, "ignoring a frame from the client: not a JSON object");
    } else if (m.type == ORA_S_NONE && !m.bad) {
        sim_conn_note(c, ORA_LOG_WARN, "ignoring a frame from the client: not a session message");
    } else if (m.type == ORA_S_PONG) {
        c->srv->st.pongs++;
        if (c->ping_pending && strcmp(m.id, c->ping_id) == 0)
            c->ping_pending = 0;
        else
            sim_conn_note(c, ORA_LOG_DEBUG, "pong %s does not answer the last ping", m.id);
    } else if (!c->have_cmd) {
        c->cmd = m;
        c->have_cmd = 1;
        if (m.type == ORA_S_INITIALIZE)
            ora_smsg_initialize(msg, len, &c->init);
    } else {
        sim_conn_note(c, ORA_LOG_WARN, "ignoring an unexpected command");
    }
}

/* Reads what the client sent (waiting up to ms) and handles its frames.
 * SR_OK, or SR_ERR when the client is gone or sent a corrupt stream. */
static int pump_in(sim_conn *c, int ms)
{
    if (!SSL_pending(c->ssl) && sim_conn_wait(c, POLLIN, ms) <= 0)
        return SR_OK;
    for (int rounds = 0; rounds < 64; rounds++) {
        size_t got = 0;
        ERR_clear_error();
        if (!SSL_read_ex(c->ssl, c->rbuf, sizeof c->rbuf, &got)) {
            int e = SSL_get_error(c->ssl, 0);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return SR_OK;
            if (e == SSL_ERROR_ZERO_RETURN)
                sim_conn_note(c, ORA_LOG_INFO, "client closed the session");
            else
                sim_conn_note(c, ORA_LOG_INFO, "client gone: %s", sim_ssl_error());
            return SR_ERR;
        }
        ora_wire_feed(c->dec, c->rbuf, got);
        const uint8_t *m;
        uint32_t l;
        int rc;
        while ((rc = ora_wire_next(c->dec, &m, &l)) == ORA_W_FRAME)
            on_frame(c, m, l);
        if (rc < 0) {
            sim_conn_note(c, ORA_LOG_WARN, "corrupt stream from the client: %s", ora_wire_error(c->dec));
            return SR_ERR;
        }
    }
    return SR_OK;
}

/* Pings when due; drops a client that left a ping unanswered too long. */
static int service(sim_conn *c)
{
    const sim_server_opts *o = c->srv->o;
    if (!c->pinging)
        return SR_OK;
    double now = cli_now();
    if (c->ping_pending && now - c->ping_sent > o->pong_timeout) {
        sim_conn_note(c, ORA_LOG_INFO, "no pong within %gs: dropping the client", o->pong_timeout);
        return SR_CLOSE;
    }
    if (now >= c->next_ping) {
        snprintf(c->ping_id, sizeof c->ping_id, "\"%llu\"", (unsigned long long)++c->ping_seq);
        if (!c->ping_pending)
            c->ping_sent = now;
        c->ping_pending = 1;
        c->next_ping = now + o->ping_interval;
        c->srv->st.pings++;
        return send_smsg(c, &(ora_smsg_args){.type = ORA_S_PING, .id = c->ping_id});
    }
    return SR_OK;
}

/* Waits up to secs for a command other than PONG (pinging meanwhile). */
static int wait_cmd(sim_conn *c, double secs)
{
    double deadline = cli_now() + secs;
    while (!c->have_cmd) {
        if (sim_srv_quitting(c->srv))
            return SR_CLOSE;
        if (cli_now() > deadline) {
            sim_conn_note(c, ORA_LOG_INFO, "no command within %gs", secs);
            return SR_CLOSE;
        }
        int rc = service(c);
        if (rc == SR_OK)
            rc = pump_in(c, 50);
        if (rc != SR_OK)
            return rc;
    }
    return SR_OK;
}

static void take_cmd(sim_conn *c)
{
    ora_sinit_free(&c->init);
    c->have_cmd = 0;
}

/* ---- faults on data ---------------------------------------------------------- */

/* Reads and drops what the client sends, sending nothing, until the server
 * stops or the client goes. */
static int stall(sim_conn *c)
{
    while (!sim_srv_quitting(c->srv)) {
        if (sim_conn_wait(c, POLLIN, 100) > 0) {
            size_t got;
            if (!SSL_read_ex(c->ssl, c->rbuf, sizeof c->rbuf, &got)) {
                int e = SSL_get_error(c->ssl, 0);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    break;
            }
        }
    }
    sim_conn_note(c, ORA_LOG_INFO, "stalled session ends");
    c->abrupt = 1;
    return SR_CLOSE;
}

/* Carries out the fault that is due after c->msgs data messages, if any. */
static int check_faults(sim_conn *c)
{
    static const uint8_t corrupt[] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
    int rc;
    switch (sim_fault_due(c)) {
    case SIM_F_DROP_MSGS:
        c->abrupt = 1;
        return SR_CLOSE;
    case SIM_F_CORRUPT:
        rc = sim_send_raw(c, corrupt, sizeof corrupt);
        return rc == SR_OK ? SR_CLOSE : rc;
    case SIM_F_INVALID:
        rc = send_error(c, "INVALID_TOKEN", "the token expired");
        return rc == SR_OK ? SR_CLOSE : rc;
    case SIM_F_STALL:
        return stall(c);
    }
    return SR_OK;
}

/* Sends n data messages as members of per_member frames, with faults and
 * pings between members. */
static int send_data(sim_conn *c, const uint8_t *const *m, const size_t *l, size_t n)
{
    const sim_server_opts *o = c->srv->o;
    size_t i = 0;
    int rc = check_faults(c);
    while (rc == SR_OK && i < n) {
        size_t k = sim_conn_range(c, o->per_member_min, o->per_member_max);
        uint64_t r = sim_fault_room(c);
        if (k > n - i)
            k = n - i;
        if (k > r)
            k = (size_t)r;
        if (k == 0)
            k = 1;
        int split = o->split > 0 && (double)(sim_conn_rand(c) >> 11) * 0x1.0p-53 < o->split;
        if ((rc = sim_send_frames(c, m + i, l + i, k, split)) != SR_OK)
            break;
        i += k;
        c->msgs += k;
        c->srv->st.data_sent += k;
        if ((rc = check_faults(c)) != SR_OK)
            break;
        if ((rc = service(c)) == SR_OK)
            rc = pump_in(c, 0);
    }
    return rc;
}

/* ---- messages taken from the model and the retained log ------------------------ */

typedef struct batch {
    ora_buf text;
    size_t n, cap;
    size_t *start, *len;
    const uint8_t **ptr;
} batch;

static int batch_add(batch *b, const char *j, size_t n)
{
    if (b->n == b->cap) {
        /* three arrays side by side: grown together, one capacity */
        size_t nc = b->cap ? b->cap * 2 : 256;
        if (sim_vec_resize((void **)&b->start, nc, sizeof *b->start) < 0 ||
            sim_vec_resize((void **)&b->len, nc, sizeof *b->len) < 0 ||
            sim_vec_resize((void **)&b->ptr, nc, sizeof *b->ptr) < 0)
            return -1;
        b->cap = nc;
    }
    b->start[b->n] = b->text.len;
    b->len[b->n] = n;
    if (ora_buf_append(&b->text, j, n) < 0)
        return -1;
    b->n++;
    return 0;
}

/* Points b->ptr at the texts (after the last batch_add). */
static void batch_fix(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        b->ptr[i] = b->text.p + b->start[i];
}

static void batch_clear(batch *b)
{
    b->n = 0;
    b->text.len = 0;
}

static void batch_free(batch *b)
{
    ora_buf_free(&b->text);
    free(b->start);
    free(b->len);
    free(b->ptr);
}

static int snap_emit(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)off;
    return batch_add(ctx, j, n);
}

/* Copies up to max delivered entries [*cursor, end) with offset > threshold.
 * -1 when *cursor was evicted (the client fell behind) or ENOMEM. */
static int take(sim_srv *s, uint64_t *cursor, uint64_t end, uint64_t threshold, batch *b, size_t max)
{
    int rc = 0;
    batch_clear(b);
    pthread_mutex_lock(&s->mu);
    if (*cursor < sim_log_first(s->log))
        rc = -1;
    while (rc == 0 && *cursor < end && b->n < max) {
        sim_entry e;
        if (sim_log_get(s->log, *cursor, &e) < 0)
            break;
        if (e.offset > threshold && batch_add(b, e.json, e.len) < 0)
            rc = -1;
        ++*cursor;
    }
    pthread_mutex_unlock(&s->mu);
    batch_fix(b);
    return rc;
}

static int send_batch(sim_conn *c, batch *b)
{
    batch_fix(b);
    return send_data(c, b->ptr, b->len, b->n);
}

/* ---- the snapshot ----------------------------------------------------------------- */

/* The snapshot from the cache (sim_snap.h): members compressed once, sent
 * as they are; no fault counted in messages can be due (see stream()). */
static int snapshot_cached(sim_conn *c, uint64_t *threshold, uint64_t *cursor)
{
    sim_srv *s = c->srv;
    pthread_mutex_lock(&s->mu);
    *threshold = sim_model_head(s->model);
    *cursor = sim_log_end(s->log);
    sim_snapshot *snap = sim_snap_capture(s->snap, s->model);
    pthread_mutex_unlock(&s->mu);
    if (!snap || sim_snap_finish(s->snap, snap) < 0) {
        sim_conn_note(c, ORA_LOG_ERROR, "unable to build a snapshot: out of memory");
        sim_snapshot_free(snap);
        return SR_ERR;
    }
    sim_conn_note(c, ORA_LOG_INFO, "snapshot of %llu messages at offset %llu",
                  (unsigned long long)sim_snapshot_messages(snap), (unsigned long long)*threshold);
    sim_snap_it it = {0, 0};
    const uint8_t *p;
    size_t n;
    uint32_t k;
    int rc = SR_OK;
    while (rc == SR_OK && sim_snapshot_next(snap, &it, &p, &n, &k)) {
        if ((rc = sim_send_raw(c, p, n)) != SR_OK)
            break;
        c->msgs += k;
        s->st.data_sent += k;
        if ((rc = service(c)) == SR_OK)
            rc = pump_in(c, 0);
    }
    sim_snapshot_free(snap);
    return rc;
}

/* The snapshot printed and compressed for this connection alone, with
 * faults between members. */
static int snapshot_fresh(sim_conn *c, batch *b, uint64_t *threshold, uint64_t *cursor)
{
    sim_srv *s = c->srv;
    pthread_mutex_lock(&s->mu);
    *threshold = sim_model_head(s->model);
    *cursor = sim_log_end(s->log);
    int sr = sim_model_snapshot(s->model, snap_emit, b);
    pthread_mutex_unlock(&s->mu);
    if (sr < 0) {
        sim_conn_note(c, ORA_LOG_ERROR, "unable to build a snapshot: out of memory");
        return SR_ERR;
    }
    sim_conn_note(c, ORA_LOG_INFO, "snapshot of %zu messages at offset %llu", b->n,
                  (unsigned long long)*threshold);
    batch_fix(b);
    int rc = SR_OK;
    for (size_t i = 0; i < b->n && rc == SR_OK; i += 256) {
        size_t k = b->n - i < 256 ? b->n - i : 256;
        rc = send_data(c, b->ptr + i, b->len + i, k);
    }
    return rc;
}

/* ---- the flows ------------------------------------------------------------------- */

/* The snapshot (when asked for) or the replay after from, the retained
 * log up to the head, then realtime until the end. */
static int stream(sim_conn *c, int snapshot, uint64_t from)
{
    sim_srv *s = c->srv;
    batch b = {0};
    uint64_t cursor, threshold, end, head;
    int rc = SR_OK;
    if (snapshot) {
        /* the cache's members cannot stop at a fault's message count */
        if (s->snap && sim_fault_room(c) == UINT64_MAX)
            rc = snapshot_cached(c, &threshold, &cursor);
        else
            rc = snapshot_fresh(c, &b, &threshold, &cursor);
        if (rc != SR_OK)
            goto out;
        if ((rc = send_offset(c, ORA_S_SNAPSHOT_COMPLETED, threshold)) != SR_OK)
            goto out;
    } else {
        pthread_mutex_lock(&s->mu);
        cursor = sim_log_first(s->log);
        pthread_mutex_unlock(&s->mu);
        threshold = from;
    }
    /* replay up to the head */
    pthread_mutex_lock(&s->mu);
    end = sim_log_end(s->log);
    head = sim_model_head(s->model);
    pthread_mutex_unlock(&s->mu);
    while (rc == SR_OK && cursor < end) {
        if (take(s, &cursor, end, threshold, &b, 512) < 0) {
            sim_conn_note(c, ORA_LOG_WARN, "client fell behind the retained log");
            rc = SR_ERR;
            goto out;
        }
        rc = send_batch(c, &b);
    }
    if (rc != SR_OK)
        goto out;
    if ((rc = send_offset(c, ORA_S_REPLAY_COMPLETED, head)) != SR_OK)
        goto out;
    sim_conn_note(c, ORA_LOG_DEBUG, "replay completed at offset %llu", (unsigned long long)head);
    /* realtime */
    while (rc == SR_OK && !sim_srv_quitting(s)) {
        pthread_mutex_lock(&s->mu);
        end = sim_log_end(s->log);
        pthread_mutex_unlock(&s->mu);
        if (cursor < end) {
            if (take(s, &cursor, end, threshold, &b, 512) < 0) {
                sim_conn_note(c, ORA_LOG_WARN, "client fell behind the retained log");
                rc = SR_ERR;
                break;
            }
            rc = send_batch(c, &b);
        } else {
            rc = check_faults(c);
            if (rc == SR_OK)
                rc = service(c);
            if (rc == SR_OK)
                rc = pump_in(c, 10);
        }
    }
out:
    batch_free(&b);
    return rc;
}

/* Checks SESSION_INITIALIZE: SR_OK, or the SESSION_ERROR sent and SR_CLOSE. */
static int check_initialize(sim_conn *c)
{
    sim_srv *s = c->srv;
    const ora_sinit *in = &c->init;
    if (c->cmd.type != ORA_S_INITIALIZE) {
        sim_conn_note(c, ORA_LOG_INFO, "expected %s", ora_session_name(ORA_S_INITIALIZE));
        return SR_CLOSE;
    }
    if (!in->has_version || strcmp(in->version, "V1") != 0)
        return send_error(c, "INVALID_PROTOCOL_VERSION", "protocolVersion must be V1"), SR_CLOSE;
    int ok = in->has_offerings && in->n_offerings > 0;
    for (size_t i = 0; ok && i < in->n_offerings; i++)
        ok = sim_offering_known(in->offerings[i]);
    if (!ok)
        return send_error(c, "INVALID_OFFERING", "offerings must be a non-empty list of known offerings"), SR_CLOSE;
    int64_t exp = 0;
    int jr = in->token ? jwt_verify_hs256(s->jwt_key, sizeof s->jwt_key, in->token, in->token_len,
                                          (int64_t)time(NULL), &exp)
                       : JWT_MALFORMED;
    if (jr != JWT_OK)
        return send_error(c, "INVALID_TOKEN", in->token ? jwt_strerror(jr) : "no token"), SR_CLOSE;
    if (s->o->faults.reject_token && sim_fault_fire(c, SIM_F_REJECT))
        return send_error(c, "INVALID_TOKEN", "token rejected (fault injection)"), SR_CLOSE;
    return SR_OK;
}

int sim_session_serve(sim_conn *c)
{
    sim_srv *s = c->srv;
    const sim_server_opts *o = s->o;
    int rc = send_type(c, ORA_S_WELCOME);
    if (rc == SR_OK)
        rc = wait_cmd(c, o->init_timeout);
    if (rc == SR_OK)
        rc = check_initialize(c);
    if (rc != SR_OK)
        return rc;
    take_cmd(c);
    s->st.sessions++;
    if ((rc = send_type(c, ORA_S_INITIALIZED)) != SR_OK)
        return rc;
    c->pinging = o->ping_interval > 0;
    c->next_ping = cli_now() + o->ping_interval;
    for (;;) {
        if ((rc = wait_cmd(c, o->init_timeout)) != SR_OK)
            return rc;
        int type = c->cmd.type;
        int64_t off = c->cmd.offset;
        int has_off = !c->cmd.bad && off >= 0;
        take_cmd(c);
        if (type == ORA_S_SNAPSHOT) {
            sim_conn_note(c, ORA_LOG_INFO, "snapshot requested");
            return stream(c, 1, 0);
        }
        if (type != ORA_S_REPLAY || !has_off) {
            sim_conn_note(c, ORA_LOG_INFO, "expected %s or %s", ora_session_name(ORA_S_SNAPSHOT),
                          ora_session_name(ORA_S_REPLAY));
            return SR_CLOSE;
        }
        pthread_mutex_lock(&s->mu);
        uint64_t base = sim_log_base(s->log);
        pthread_mutex_unlock(&s->mu);
        sim_conn_note(c, ORA_LOG_INFO, "replay from offset %lld requested", (long long)off);
        int old = (uint64_t)off < base;
        if (!old && o->faults.offset_too_old && sim_fault_fire(c, SIM_F_OLD))
            old = 1;
        if (!old)
            return stream(c, 0, (uint64_t)off);
        char msg[128];
        snprintf(msg, sizeof msg, "offset %lld is older than the retained log", (long long)off);
        if ((rc = send_error(c, "OFFSET_TOO_OLD", msg)) != SR_OK)
            return rc;
        /* the client may now ask for a snapshot on this connection */
    }
}
