/* ora-actors: the Event/BetOffer actor network (doc/design.md §3, §4).
 * Routed MSG records in, OUT records (partition key + JSON) out, CTRL
 * records passed through, plus "checkpoint W" CTRL records once the state
 * for W is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actors.h"
#include "checkpoint.h"
#include "cli.h"
#include "jarena.h"
#include "jscan.h"
#include "metrics.h"
#include "ora.h"
#include "record.h"
#include "route.h"
#include "rules.h"
#include "persist.h"
#include "statefile.h"
#include "wm.h"
#include "sandbox.h"
#include "cliopt.h"

static const char usage_text[] =
    "usage: ora-actors [--rules FILE] [--criteria LIST] [--jurisdiction NAME=BIT]...\n"
    "                  [--pending-ttl SECONDS] [--state-dir DIR] [--checkpoint FILE]\n"
    "                  [--checkpoint-interval SECONDS] [--keep N] [--gap-limit N]\n"
    "                  [--max-jump N] [--watermark N] [--max-record BYTES] [--strict]\n"
    "                  [--metrics FILE] [--metrics-interval SECONDS] [-i FILE] [-o FILE]\n"
    "       ora-actors --dump-state --state-dir DIR [--checkpoint FILE] [-o FILE]\n"
    "       ora-actors -h | --help | --version\n";

static struct {
    const char *in, *out, *rules_file, *criteria, *state_dir, *checkpoint, *metrics;
    const char *jur[ORA_RULES_MAX_JUR];
    int n_jur;
    double pending_ttl, interval, metrics_interval;
    int ttl_set;
    uint64_t keep, gap_limit, max_record, max_jump;
    int64_t watermark;
    int strict, dump;
} o = {.pending_ttl = 300, .interval = 5, .metrics_interval = 10, .keep = 3, .gap_limit = 100000, .max_record = ORA_REC_MAX_DEFAULT,
       .max_jump = 10000000,
       .watermark = -1};

static ora_rules rules;
static ora_actors *A;
static ora_wm WM;
static ora_writer *W;
static ora_reader *R;
static int out_fd = 1, in_fd = 0;
static int emit_failed;
static int in_snapshot;

static struct {
    uint64_t recs, msgs, ctrl, dups, bad_json, bad_offsets, unrouted, other, corrupt, out;
    uint64_t checkpoints, ckpt_failed, ckpt_bytes, ckpt_deferred;
    double ckpt_last_ms, fork_max_ms, ckpt_gap_max_ms;
    int64_t last_emitted, last_written;
} S = {.last_emitted = -1, .last_written = -1};

static ora_metrics *M;
static ora_hist H_ckpt, H_fork;

static pid_t child;
static int64_t child_w;
static double child_t0;
static volatile sig_atomic_t got_term, got_chld;
static int dirty;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}
static void on_chld(int sig)
{
    (void)sig;
    got_chld = 1;
}

static void usage_error(const char *fmt, const char *arg)
{
    char m[512];
    snprintf(m, sizeof m, fmt, arg);
    exit(cli_usage_error("%s", m));
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void summary(char *buf, size_t n, double el)
{
    char r1[32];
    const ora_actors_stats *t = &A->st;
    snprintf(buf, n,
             "%" PRIu64 " msgs (%s/s), %" PRIu64 " applied, %" PRIu64 " queued, %" PRIu64 " duplicates, %" PRIu64
             " bad, %" PRIu64 " ignored, %" PRIu64 " unknown deletes, %" PRIu64 " offsets refused; out %" PRIu64
             " (event_data %" PRIu64
             ", opened %" PRIu64 ", closed %" PRIu64 ", odds %" PRIu64 "); %" PRIu64 " events, %" PRIu64
             " offers, %" PRIu64 " queued now (%" PRIu64 " pruned); W %" PRId64 ", %" PRIu64
             " gaps; %" PRIu64 " checkpoints (last %.1f ms, %.1f MiB, fork max %.1f ms, stall max %.1f ms); %" PRIu64
             " unknown offerings, %" PRIu64 " missing fields, %" PRIu64 " unknown statuses; rss %ld KiB",
             S.msgs, cli_human(el > 0 ? (double)S.msgs / el : 0, r1, sizeof r1), t->applied + t->pending_applied,
             t->queued, S.dups, t->bad + S.bad_json, t->ignored, t->unknown_deletes, S.bad_offsets, S.out, t->out_event_data,
             t->out_opened, t->out_closed, t->out_odds, A->n_events, A->n_offers, A->n_pend, t->pending_pruned,
             WM.w, WM.gaps, S.checkpoints, S.ckpt_last_ms, (double)S.ckpt_bytes / 1048576.0, S.fork_max_ms,
             S.ckpt_gap_max_ms, t->unknown_offerings, t->missing_fields, t->unknown_status, rss_kib());
}

static int emit(void *ctx, const ora_msg *m, const char *key, size_t klen, const char *json, size_t jlen)
{
    (void)ctx;
    ora_rec r;
    ora_rec_init(&r, ORA_T_OUT);
    r.offset = m->offset;
    r.recv_ns = m->recv_ns;
    r.flow = m->flow;
    r.key_len = (uint16_t)klen;
    r.len = (uint32_t)(klen + jlen);
    uint8_t *p = ora_writer_reserve(W, r.len);
    if (!p || (memcpy(p, key, klen), memcpy(p + klen, json, jlen), ora_writer_commit(W, &r) < 0)) {
        emit_failed = errno ? errno : EIO;
        return -1;
    }
    S.out++;
    return 0;
}

static void write_failed(void)
{
    log_error("unable to write output: %s", strerror(emit_failed ? emit_failed : errno));
    exit(ORA_EX_IOERR);
}

static void put_ctrl_checkpoint(int64_t w)
{
    char js[64];
    int n = snprintf(js, sizeof js, "{\"ctrl\":\"checkpoint\",\"offset\":%" PRId64 "}", w);
    ora_rec r;
    ora_rec_init(&r, ORA_T_CTRL);
    r.kind = ORA_C_CHECKPOINT;
    r.offset = w;
    r.payload = (const uint8_t *)js;
    r.len = (uint32_t)n;
    if (ora_writer_put(W, &r) < 0 || ora_writer_flush(W) < 0)
        write_failed();
    S.last_emitted = w;
}

static int64_t committed(void)
{
    int64_t w = -1;
    char err[256];
    if (o.checkpoint && ora_checkpoint_read(o.checkpoint, &w, err, sizeof err) <= 0)
        w = -1;
    return w;
}

static void checkpoint_done(int64_t w, double ms)
{
    if (M)
        ora_hist_observe(&H_ckpt, ms / 1000);
    S.checkpoints++;
    S.ckpt_last_ms = ms;
    S.last_written = w;
    char *p = ora_state_path(o.state_dir, w);
    struct stat st;
    if (p && stat(p, &st) == 0)
        S.ckpt_bytes = (uint64_t)st.st_size;
    free(p);
    log_debug("checkpoint %" PRId64 " written in %.1f ms", w, ms);
    if (w > S.last_emitted)
        put_ctrl_checkpoint(w);
}

static void reap(int block)
{
    if (!child)
        return;
    int st;
    pid_t p = waitpid(child, &st, block ? 0 : WNOHANG);
    if (p == 0 || (p < 0 && errno == EINTR))
        return;
    child = 0;
    double ms = (cli_now() - child_t0) * 1000;
    if (p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        checkpoint_done(child_w, ms);
    else {
        S.ckpt_failed++;
        dirty = 1;
        log_error("unable to write checkpoint %" PRId64 ": writer %s %d", child_w,
                  p > 0 && WIFSIGNALED(st) ? "killed by signal" : "exited with", p > 0 && WIFSIGNALED(st)
                                                                                      ? WTERMSIG(st)
                                                                                      : (p > 0 ? WEXITSTATUS(st) : -1));
    }
}

/* kinesis-put commits a checkpoint only once Kinesis has every output
 * before it, so the states above the committed one may all be needed by a
 * restart and none may be pruned. While --keep of them wait (Kinesis down),
 * writing more would only fill the disk: defer. */
static int uncommitted_full(void)
{
    if (!o.checkpoint)
        return 0;
    long waiting = ora_state_count_above(o.state_dir, committed());
    if (waiting < (long)o.keep) {
        S.ckpt_deferred = 0;
        return 0;
    }
    if (S.ckpt_deferred++ == 0)
        log_info("%ld checkpoints wait for kinesis-put to commit: the next one is deferred", waiting);
    return 1;
}

/* Forks a writer for the state at W. */
static void start_checkpoint(void)
{
    if (!o.state_dir || child || WM.w < 0)
        return;
    if (!dirty && WM.w == S.last_written)
        return;
    if (uncommitted_full())
        return;
    if (ora_writer_flush(W) < 0)
        write_failed();
    double t0 = cli_now();
    pid_t p = fork();
    if (p < 0) {
        log_warn("unable to fork a checkpoint writer: %s", strerror(errno));
        return;
    }
    if (p == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        /* the stream comes first: the writer gets the CPU that is left */
        if (nice(10) < 0)
            log_debug("unable to lower the checkpoint writer's priority");
        char err[512];
        uint64_t bytes;
        if (ora_state_write(o.state_dir, A, &WM, A->now_ns, &bytes, err, sizeof err) < 0) {
            log_error("unable to write state: %s", err);
            _exit(1);
        }
        ora_state_prune(o.state_dir, (unsigned)o.keep, committed());
        _exit(0);
    }
    double fms = (cli_now() - t0) * 1000;
    if (M)
        ora_hist_observe(&H_fork, fms / 1000);
    if (fms > S.fork_max_ms)
        S.fork_max_ms = fms;
    child = p;
    child_w = WM.w;
    child_t0 = t0;
    dirty = 0;
}

static void final_checkpoint(void)
{
    reap(1);
    if (!o.state_dir)
        return;
    if (WM.w < 0) {
        if (A->n_events || A->n_offers || A->n_pend)
            log_warn("no watermark (no snapshot completed, no state loaded, no --watermark): no checkpoint written");
        return;
    }
    if (!dirty && WM.w == S.last_written) {
        if (WM.w > S.last_emitted)
            put_ctrl_checkpoint(WM.w);
        return;
    }
    double t0 = cli_now();
    char err[512];
    uint64_t bytes;
    if (ora_writer_flush(W) < 0)
        write_failed();
    if (ora_state_write(o.state_dir, A, &WM, A->now_ns, &bytes, err, sizeof err) < 0) {
        log_error("unable to write final state: %s", err);
        exit(ORA_EX_IOERR);
    }
    ora_state_prune(o.state_dir, (unsigned)o.keep, committed());
    dirty = 0;
    checkpoint_done(WM.w, (cli_now() - t0) * 1000);
}

static void enter_snapshot(const char *why)
{
    if (A->n_events || A->n_offers || A->n_pend || WM.w >= 0) {
        log_info("snapshot (%s): dropping the current state (%" PRIu64 " events, %" PRIu64 " offers, W %" PRId64 ")",
                 why, A->n_events, A->n_offers, WM.w);
        if (ora_actors_clear(A) < 0) {
            log_error("unable to clear state: out of memory");
            exit(ORA_EX_SOFTWARE);
        }
        dirty = 1;
    }
    ora_wm_reset(&WM);
    in_snapshot = 1;
}

static void on_ctrl(const ora_rec *r)
{
    S.ctrl++;
    cJSON *j = cJSON_ParseWithLength((const char *)r->payload, r->len);
    const cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "ctrl") : NULL;
    int kind = cJSON_IsString(c) ? ora_ctrl_parse(c->valuestring) : r->kind;
    if (kind == ORA_C_FLOW) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "flow");
        uint8_t flow = cJSON_IsString(f) ? ora_flow_parse(f->valuestring) : ORA_FLOW_NONE;
        uint64_t off;
        int has_off = ora_json_u64(cJSON_GetObjectItemCaseSensitive(j, "offset"), &off) == 0;
        if (flow == ORA_FLOW_SNAPSHOT)
            enter_snapshot("flow record");
        else if (flow == ORA_FLOW_REPLAY && has_off && off > (uint64_t)ORA_OFFSET_MAX) {
            S.bad_offsets++;
            log_warn("unable to use flow record offset %" PRIu64 ": outside the offset range 0..2^53-1: ignored", off);
        } else if (flow == ORA_FLOW_REPLAY && has_off && (in_snapshot || WM.w < 0)) {
            ora_wm_set(&WM, (int64_t)off);
            in_snapshot = 0;
            dirty = 1;
            log_debug("snapshot complete at %" PRIu64 ": W %" PRId64, off, WM.w);
        } else if (flow != ORA_FLOW_SNAPSHOT)
            in_snapshot = 0;
    } else if (kind == ORA_C_CONNECTED)
        in_snapshot = 0;
    cJSON_Delete(j);
    if (ora_writer_put(W, r) < 0)
        write_failed();
}

/* A message whose offset cannot be applied: reported (the first few),
 * counted, skipped; fatal with --strict. */
static void refuse_offset(const ora_msg *m, const char *why)
{
    S.bad_offsets++;
    if (S.bad_offsets <= 10)
        log_warn("unable to apply message at offset %" PRId64 " (W %" PRId64 "): %s: skipped", m->offset, WM.w, why);
    if (o.strict) {
        log_error("unable to continue: message at offset %" PRId64 " %s (--strict)", m->offset, why);
        exit(ORA_EX_DATAERR);
    }
}

static void on_msg(const ora_rec *r)
{
    S.msgs++;
    ora_msg m = {.offset = r->offset, .recv_ns = r->recv_ns, .flow = r->flow};
    /* a routed message whose text the scanner accepts (cJSON then does) is
     * applied from the text where it can be, without a tree */
    int text = (r->flags & ORA_RF_ROUTED) && ora_jscan_valid(r->payload, r->len, NULL, NULL) == 0;
    cJSON *root = text ? NULL : cJSON_ParseWithLength((const char *)r->payload, r->len);
    if (!text && !root) {
        S.bad_json++;
        if (S.bad_json <= 10)
            log_warn("unable to parse message at offset %" PRId64 ": bad JSON", r->offset);
        if (o.strict) {
            log_error("unable to continue: bad JSON (--strict)");
            exit(ORA_EX_DATAERR);
        }
        return;
    }
    if (r->flags & ORA_RF_ROUTED) {
        m.kind = r->kind;
        m.actor_type = r->actor_type;
        m.actor_id = r->actor_id;
    } else {
        ora_route rt;
        S.unrouted++;
        if (ora_route_json(root, &rt) == ORA_ROUTE_OK) {
            m.kind = (uint8_t)rt.kind;
            m.actor_type = rt.actor_type;
            m.actor_id = rt.actor_id;
            if (m.offset < 0)
                m.offset = rt.offset;
        }
    }
    if (m.offset < 0 || m.offset > ORA_OFFSET_MAX) {
        /* not an ORA offset: the message cannot be tracked, and must never
         * move W (a checkpoint past every real offset would be committed) */
        refuse_offset(&m, "outside the offset range 0..2^53-1");
        cJSON_Delete(root);
        return;
    }
    if (m.flow != ORA_FLOW_SNAPSHOT && WM.w >= 0 && m.offset > WM.w &&
        (uint64_t)(m.offset - WM.w) > o.max_jump) {
        refuse_offset(&m, "too far above the watermark (--max-jump)");
        cJSON_Delete(root);
        return;
    }
    if (m.flow == ORA_FLOW_SNAPSHOT && !in_snapshot)
        enter_snapshot("snapshot message");
    int tracked = m.flow != ORA_FLOW_SNAPSHOT && WM.w >= 0;
    if (tracked && ora_wm_dup(&WM, m.offset)) {
        S.dups++;
        cJSON_Delete(root);
        return;
    }
    if (tracked && m.offset <= WM.w)
        WM.late++;
    int rc = root ? ORA_AP_TREE : ora_actors_apply_text(A, &m, (const char *)r->payload, r->len);
    if (rc == ORA_AP_TREE) {
        if (!root)
            root = cJSON_ParseWithLength((const char *)r->payload, r->len);
        rc = root ? ora_actors_apply(A, &m, root, (const char *)r->payload, r->len) : ORA_AP_ERROR;
    }
    cJSON_Delete(root);
    if (rc == ORA_AP_ERROR) {
        if (emit_failed)
            write_failed();
        log_error("unable to apply message at offset %" PRId64 ": out of memory", m.offset);
        exit(ORA_EX_SOFTWARE);
    }
    if (rc == ORA_AP_BAD) {
        if (A->st.bad <= 10)
            log_warn("unable to apply message at offset %" PRId64 ": malformed payload", m.offset);
        if (o.strict) {
            log_error("unable to continue: malformed message at offset %" PRId64 " (--strict)", m.offset);
            exit(ORA_EX_DATAERR);
        }
    }
    dirty = 1;
    if (tracked && m.offset > WM.w) {
        int64_t lo, hi;
        if (ora_wm_mark(&WM, m.offset, &lo, &hi))
            log_warn("offsets %" PRId64 "..%" PRId64 " never arrived within --gap-limit %" PRIu64
                     ": watermark moved past them",
                     lo, hi, o.gap_limit);
    }
}

static int dump_put(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    return cli_write_all(out_fd, s, n);
}

/* Creates the state directory 0700, or tightens one that others can read:
 * the states hold the whole offering. */
static void state_dir_ready(void)
{
    struct stat st;
    if (mkdir(o.state_dir, 0700) < 0 && errno != EEXIST) {
        log_error("unable to create state directory %s: %s", o.state_dir, strerror(errno));
        exit(ORA_EX_CONFIG);
    }
    if (stat(o.state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        log_error("unable to use state directory %s: %s", o.state_dir, errno ? strerror(errno) : "not a directory");
        exit(ORA_EX_CONFIG);
    }
    if ((st.st_mode & 077) && !o.dump) {
        if (chmod(o.state_dir, st.st_mode & 0700) == 0)
            log_info("state directory %s: access for others removed (mode %04o)", o.state_dir,
                     (unsigned)(st.st_mode & 0700));
        else
            log_warn("state directory %s is open to others (mode %04o) and cannot be changed: %s", o.state_dir,
                     (unsigned)(st.st_mode & 07777), strerror(errno));
    }
}

/* Loads the newest sound state at or below limit (-1: any), trying older
 * ones when a file is refused. Returns its W, or -1 when none loaded;
 * *refused counts the files refused. */
static int64_t load_newest(int64_t limit, int *refused)
{
    int64_t *list = NULL;
    long n = ora_state_list(o.state_dir, &list);
    char err[512];
    *refused = 0;
    if (n < 0) {
        log_error("unable to list %s: %s", o.state_dir, strerror(errno));
        exit(ORA_EX_CONFIG);
    }
    int64_t got = -1;
    for (long i = n - 1; i >= 0 && got < 0; i--) {
        if (limit >= 0 && list[i] > limit) {
            log_info("state %" PRId64 " is newer than the committed checkpoint %" PRId64 ": not loaded", list[i],
                     limit);
            continue;
        }
        double t0 = cli_now();
        if (ora_state_load(o.state_dir, list[i], limit, A, &WM, NULL, err, sizeof err) < 0) {
            log_error("unable to load state: %s: refused", err);
            (*refused)++;
            continue;
        }
        got = list[i];
        log_info("loaded state %" PRId64 ": %" PRIu64 " events, %" PRIu64 " offers, %" PRIu64 " queued in %.0f ms",
                 WM.w, A->n_events, A->n_offers, A->n_pend, (cli_now() - t0) * 1000);
    }
    free(list);
    return got;
}

/* At start: the state for the committed checkpoint W. A state newer than W
 * is never loaded (its outputs may not have reached Kinesis). When the state
 * for W is missing or refused, the newest sound one below it, W', is the
 * fallback: the messages between W' and W must then be replayed, so the
 * checkpoint is lowered to W' and the stage exits 75 (the supervisor
 * rewinds the pipeline, which now replays from W'). */
static void load_state(void)
{
    if (!o.state_dir)
        return;
    state_dir_ready();
    char err[512];
    int64_t w = -1;
    int have = 0, refused;
    if (o.checkpoint) {
        have = ora_checkpoint_read(o.checkpoint, &w, err, sizeof err);
        if (have < 0) {
            log_error("unable to read checkpoint: %s", err);
            exit(ORA_EX_CONFIG);
        }
        if (have == 2) {
            /* a checkpoint no sound state can be at: the newest sound state
             * is the fallback */
            log_error("unable to use checkpoint: %s", err);
            w = ORA_OFFSET_MAX;
        }
    }
    if (o.dump || !o.checkpoint) {
        /* a look, not a start: the state a start would load, or without a
         * checkpoint the newest one; nothing is changed. Without a
         * checkpoint file (batch use) a start loads the newest too. */
        if (load_newest(have ? w : -1, &refused) >= 0)
            S.last_written = S.last_emitted = WM.w;
        return;
    }
    if (!have) {
        int64_t *list = NULL;
        long n = ora_state_list(o.state_dir, &list);
        free(list);
        if (n > 0)
            log_info("no committed checkpoint in %s: starting empty, ignoring %ld state files", o.checkpoint, n);
        return;
    }
    int64_t got = load_newest(w, &refused);
    if (got == w && have == 1) {
        S.last_written = S.last_emitted = WM.w;
        return;
    }
    if (got >= 0) {
        if (checkpoint_commit(o.checkpoint, got) < 0) {
            log_error("unable to lower checkpoint %s to %" PRId64 ": %s", o.checkpoint, got, strerror(errno));
            exit(ORA_EX_IOERR);
        }
        if (have == 1)
            log_error("unable to start from the committed checkpoint %" PRId64 ": no sound state for it; the newest "
                      "sound state below it is %" PRId64 ": checkpoint lowered to %" PRId64
                      " so that the messages after it are replayed: restart the pipeline",
                      w, got, got);
        else
            log_error("unable to start from a checkpoint outside the offset range; the newest sound state is %" PRId64
                      ": checkpoint lowered to %" PRId64 " so that the messages after it are replayed: restart the "
                      "pipeline",
                      got, got);
        exit(ORA_EX_TEMPFAIL);
    }
    if (refused) {
        log_error("unable to load state: no sound state at or below the committed checkpoint in %s (%d refused): "
                  "remove %s to start from a new snapshot",
                  o.state_dir, refused, o.checkpoint);
        exit(ORA_EX_DATAERR);
    }
    log_error("unable to load state: no state for the committed checkpoint %" PRId64 " in %s: remove %s to start "
              "from a new snapshot",
              w, o.state_dir, o.checkpoint);
    exit(ORA_EX_CONFIG);
}

/* ---- metrics (README, "Monitoring") ------------------------------------------ */

static double m_applied(void *c)
{
    (void)c;
    return (double)(A->st.applied + A->st.pending_applied);
}
static double m_ignored(void *c)
{
    (void)c;
    return (double)(A->st.ignored + A->st.unknown_deletes); /* a delete of nothing */
}
static double m_bad(void *c)
{
    (void)c;
    return (double)(A->st.bad + S.bad_json + S.bad_offsets);
}
static double m_watermark(void *c)
{
    (void)c;
    return WM.w >= 0 ? (double)WM.w : NAN;
}
static double m_bytes_per_actor(void *c)
{
    (void)c;
    uint64_t n = A->n_events + A->n_offers;
    return n ? (double)ora_actors_bytes(A) / (double)n : NAN;
}

/* The series of README's Monitoring table for ora-actors; they read the
 * counters the stage keeps anyway. NULL when out of memory. */
static ora_metrics *metrics_new(void)
{
    ora_metrics *m = ora_metrics_new("actors");
    if (!m || ora_hist_init(&H_ckpt, ora_hist_seconds, ora_hist_seconds_n) < 0 ||
        ora_hist_init(&H_fork, ora_hist_seconds, ora_hist_seconds_n) < 0)
        return NULL;
    static const char msgs[] = "ora_actors_messages_total", msgs_h[] = "Messages by what became of them.";
    static const char outs[] = "ora_actors_outputs_total", outs_h[] = "Output records by type.";
    static const char live[] = "ora_actors_live", live_h[] = "Live actors.";
    int r = 0;
    r |= ora_metrics_fn(m, msgs, ORA_COUNTER, msgs_h, "result=\"applied\"", m_applied, NULL);
    r |= ora_metrics_fn(m, msgs, ORA_COUNTER, msgs_h, "result=\"ignored\"", m_ignored, NULL);
    r |= ora_metrics_u64(m, msgs, ORA_COUNTER, msgs_h, "result=\"queued\"", &A->st.queued);
    r |= ora_metrics_u64(m, msgs, ORA_COUNTER, msgs_h, "result=\"duplicate\"", &S.dups);
    r |= ora_metrics_fn(m, msgs, ORA_COUNTER, msgs_h, "result=\"bad\"", m_bad, NULL);
    r |= ora_metrics_u64(m, outs, ORA_COUNTER, outs_h, "type=\"event_data\"", &A->st.out_event_data);
    r |= ora_metrics_u64(m, outs, ORA_COUNTER, outs_h, "type=\"bet_offer_opened\"", &A->st.out_opened);
    r |= ora_metrics_u64(m, outs, ORA_COUNTER, outs_h, "type=\"bet_offer_closed\"", &A->st.out_closed);
    r |= ora_metrics_u64(m, outs, ORA_COUNTER, outs_h, "type=\"in_game_odds_update\"", &A->st.out_odds);
    r |= ora_metrics_fn(m, "ora_actors_watermark", ORA_GAUGE,
                        "The low watermark W: every offset up to it applied.", NULL, m_watermark, NULL);
    r |= ora_metrics_u64(m, live, ORA_GAUGE, live_h, "actor=\"event\"", &A->n_events);
    r |= ora_metrics_u64(m, live, ORA_GAUGE, live_h, "actor=\"bet_offer\"", &A->n_offers);
    r |= ora_metrics_fn(m, "ora_actors_bytes_per_actor", ORA_GAUGE, "Table bytes per live actor.", NULL,
                        m_bytes_per_actor, NULL);
    r |= ora_metrics_hist(m, "ora_actors_checkpoint_duration_seconds",
                          "Time to write a state file (fork to the writer's exit, or the final write).", NULL,
                          &H_ckpt);
    r |= ora_metrics_hist(m, "ora_actors_fork_stall_seconds", "How long the stream stopped to fork a state writer.",
                          NULL, &H_fork);
    if (r) {
        ora_metrics_free(m);
        return NULL;
    }
    return m;
}

static void metrics_tick(double now)
{
    static int warned;
    if (M && ora_metrics_tick(M, now) < 0 && !warned++)
        log_warn("unable to write metrics to %s: %s", o.metrics, strerror(errno));
}

/* --jurisdiction NAME=BIT, repeatable: applied once the rules are loaded. */
static int add_jurisdiction(const char *arg, void *unused)
{
    (void)unused;
    if (o.n_jur == ORA_RULES_MAX_JUR)
        usage_error("unable to use --jurisdiction %s: too many", arg);
    o.jur[o.n_jur++] = arg;
    return 0;
}

/* A bad value (cliopt.h), reported as every usage error of ora-actors. */
static int bad_opt(const cli_opt *opt, const char *arg)
{
    usage_error(opt->bad, arg);
    return ORA_EX_USAGE;
}

/* Confines the stage (sandbox.h) once its descriptors are open: files
 * beneath the state directory (the forked checkpoint writer creates,
 * renames and prunes state files there) and the metrics file's directory;
 * the checkpoint kinesis-put replaces by rename is read through its
 * directory; /proc/self/statm for the summary's RSS. 0, or the exit code. */
static int confine(void)
{
    ora_sandbox sb = {.profile = ORA_SB_FILES | ORA_SB_FORK};
    char ck[4096], md[4096];
    ora_sandbox_add(sb.write, o.state_dir);
    if (o.checkpoint)
        ora_sandbox_add(sb.read, ora_sandbox_dir(o.checkpoint, ck, sizeof ck));
    if (o.metrics)
        ora_sandbox_add(sb.write, ora_sandbox_dir(o.metrics, md, sizeof md));
    ora_sandbox_add(sb.read, "/proc/self/statm");
    return cli_confine(&sb);
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    const char *e;
    if ((e = cli_env("ORA_STATE_DIR")))
        o.state_dir = e;
    if ((e = cli_env("ORA_CHECKPOINT")))
        o.checkpoint = e;
    if ((e = cli_env("ORA_RULES")))
        o.rules_file = e;
    if ((e = cli_env("ORA_CHECKPOINT_INTERVAL")) && cli_parse_double(e, 0, 1e9, &o.interval) < 0) {
        log_error("unable to use ORA_CHECKPOINT_INTERVAL '%s': not a number of seconds", e);
        return ORA_EX_CONFIG;
    }
    cli_opt opts[] = {
        CLI_OPT_HELP(usage_text),
        CLI_OPT_VERSION,
        /* -i and -o only: ora-actors never had the long names */
        {.letter = 'i', .kind = CLI_STR, .dest = &o.in},
        {.letter = 'o', .kind = CLI_STR, .dest = &o.out},
        {.name = "rules", .kind = CLI_STR, .dest = &o.rules_file},
        {.name = "criteria", .kind = CLI_STR, .dest = &o.criteria},
        {.name = "jurisdiction", .kind = CLI_CALL, .call = add_jurisdiction, .takes_arg = 1},
        {.name = "pending-ttl", .kind = CLI_DOUBLE, .dest = &o.pending_ttl, .d = {0, 1e9}, .given = &o.ttl_set,
         .bad = "unable to use --pending-ttl '%s': want seconds >= 0"},
        {.name = "state-dir", .kind = CLI_STR, .dest = &o.state_dir},
        {.name = "checkpoint", .kind = CLI_STR, .dest = &o.checkpoint},
        {.name = "checkpoint-interval", .kind = CLI_DOUBLE, .dest = &o.interval, .d = {0, 1e9},
         .bad = "unable to use --checkpoint-interval '%s': want seconds >= 0"},
        {.name = "keep", .kind = CLI_U64, .dest = &o.keep, .u = {1, 1000000},
         .bad = "unable to use --keep '%s': want 1..1000000"},
        {.name = "gap-limit", .kind = CLI_U64, .dest = &o.gap_limit, .u = {1, 1u << 30},
         .bad = "unable to use --gap-limit '%s': want 1..2^30"},
        {.name = "watermark", .kind = CLI_I64, .dest = &o.watermark, .i = {0, ORA_OFFSET_MAX},
         .bad = "unable to use --watermark '%s': want an offset 0..2^53-1"},
        {.name = "metrics", .kind = CLI_STR, .dest = &o.metrics},
        {.name = "metrics-interval", .kind = CLI_DOUBLE, .dest = &o.metrics_interval, .d = {0.001, 1e9},
         .bad = "unable to use --metrics-interval '%s': want seconds > 0"},
        {.name = "max-jump", .kind = CLI_U64, .dest = &o.max_jump, .u = {1, ORA_OFFSET_MAX},
         .bad = "unable to use --max-jump '%s': want 1..2^53-1"},
        {.name = "max-record", .kind = CLI_SIZE, .dest = &o.max_record, .u = {1024, ORA_REC_MAX_LIMIT},
         .bad = "unable to use --max-record '%s'"},
        {.name = "strict", .kind = CLI_FLAG, .dest = &o.strict},
        {.name = "dump-state", .kind = CLI_FLAG, .dest = &o.dump},
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .bad = bad_opt};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        return go;
    if (optind < argc)
        usage_error("unable to use argument '%s': no operands expected", argv[optind]);
    if (o.dump && !o.state_dir)
        usage_error("unable to dump state%s: --dump-state needs --state-dir", "");
    /* the pipeline's stages share one state directory: the checkpoint that
     * kinesis-put commits is in it unless named elsewhere */
    static char *ckpt_default;
    if (o.state_dir && !o.checkpoint) {
        if (asprintf(&ckpt_default, "%s/checkpoint", o.state_dir) < 0) {
            log_error("unable to start: out of memory");
            return ORA_EX_SOFTWARE;
        }
        o.checkpoint = ckpt_default;
    }

    char err[512];
    if (ora_rules_init(&rules) < 0) {
        log_error("unable to start: out of memory");
        return ORA_EX_SOFTWARE;
    }
    if (o.rules_file) {
        double ttl_before = rules.pending_ttl;
        if (ora_rules_load(&rules, o.rules_file, err, sizeof err) < 0) {
            log_error("unable to read rules: %s", err);
            return ORA_EX_CONFIG;
        }
        if (rules.pending_ttl != ttl_before && !o.ttl_set)
            o.pending_ttl = rules.pending_ttl;
    }
    if (o.criteria && ora_rules_set_criteria(&rules, o.criteria, err, sizeof err) < 0)
        usage_error("unable to use --criteria: %s", err);
    for (int i = 0; i < o.n_jur; i++)
        if (ora_rules_set_jurisdiction(&rules, o.jur[i], err, sizeof err) < 0)
            usage_error("unable to use --jurisdiction: %s", err);

    A = ora_actors_new(&rules, emit, NULL);
    if (!A || ora_wm_init(&WM, o.gap_limit) < 0) {
        log_error("unable to start: out of memory");
        return ORA_EX_SOFTWARE;
    }
    A->pending_ttl_ns = (uint64_t)(o.pending_ttl * 1e9);

    if ((out_fd = cli_open_out(o.out)) < 0) {
        log_error("unable to open %s: %s", o.out, strerror(errno));
        return ORA_EX_IOERR;
    }
    load_state();
    if (o.dump) {
        ora_buf b = ORA_BUF_INIT;
        int64_t *bey = malloc((WM.n_beyond + 1) * sizeof *bey);
        size_t nb = bey ? ora_wm_beyond(&WM, bey, WM.n_beyond) : 0;
        ora_buf_printf(&b, "{\"type\":\"watermark\",\"w\":%" PRId64 ",\"applied_beyond\":[", WM.w);
        for (size_t k = 0; k < nb; k++)
            ora_buf_printf(&b, "%s%" PRId64, k ? "," : "", bey[k]);
        ora_buf_printf(&b, "],\"stream_ns\":%" PRIu64 "}\n", A->now_ns);
        free(bey);
        if (cli_write_all(out_fd, b.p, b.len) < 0 || ora_persist_dump(A, dump_put, NULL) < 0 ||
            (o.out ? close(out_fd) : cli_close_stdout()) < 0) {
            log_error("unable to write the state dump: %s", strerror(errno));
            return ORA_EX_IOERR;
        }
        ora_buf_free(&b);
        ora_actors_free(A);
        ora_wm_free(&WM);
        ora_rules_free(&rules);
        return 0;
    }
    if (WM.w < 0 && o.watermark >= 0) {
        ora_wm_set(&WM, o.watermark);
        dirty = 1;
    }
    if (!o.state_dir)
        log_debug("no --state-dir: no checkpoints");

    if ((in_fd = cli_open_in(o.in)) < 0) {
        log_error("unable to open %s: %s", o.in, strerror(errno));
        return ORA_EX_IOERR;
    }
    R = ora_reader_new(in_fd, (uint32_t)o.max_record);
    W = ora_writer_new(out_fd);
    if (!R || !W) {
        log_error("unable to start: out of memory");
        return ORA_EX_SOFTWARE;
    }
    cli_on_stop(on_term);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    cli_set_summary(summary);
    /* cJSON trees live for one record (queued messages are kept raw) */
    jarena_install();

    if (o.metrics) {
        if (!(M = metrics_new())) {
            log_error("unable to start: out of memory");
            return ORA_EX_SOFTWARE;
        }
        ora_metrics_schedule(M, o.metrics, o.metrics_interval);
    }
    int cx = confine();
    if (cx)
        return cx;
    double next_ckpt = o.interval > 0 ? cli_now() + o.interval : 0;
    int rc_exit = ORA_EX_OK;
    /* stall max: the longest time between two records handled back to back
     * (input already buffered) while a checkpoint is being taken, fork
     * included: what the stream sees of a checkpoint */
    double t_last = 0;
    while (!got_term) {
        int ckpt_busy = child != 0;
        if (got_chld) {
            got_chld = 0;
            reap(0);
        }
        if (next_ckpt && cli_now() >= next_ckpt) {
            start_checkpoint();
            ckpt_busy |= child != 0;
            next_ckpt = cli_now() + o.interval;
        }
        if (!ora_reader_buffered(R)) {
            t_last = 0; /* waiting for input is not a stall */
            if (ora_writer_flush(W) < 0)
                write_failed();
            int timeout = -1;
            if (next_ckpt)
                timeout = (int)((next_ckpt - cli_now()) * 1000) + 1;
            if (child && (timeout < 0 || timeout > 100))
                timeout = 100;
            if (M && (timeout < 0 || timeout > (int)(o.metrics_interval * 1000) + 1))
                timeout = (int)(o.metrics_interval * 1000) + 1;
            if (timeout < 0 && next_ckpt)
                timeout = 0;
            struct pollfd pf = {in_fd, POLLIN, 0};
            int pr = poll(&pf, 1, timeout);
            if (pr < 0 && errno != EINTR) {
                log_error("unable to poll input: %s", strerror(errno));
                rc_exit = ORA_EX_IOERR;
                break;
            }
            if (pr <= 0) {
                cli_poll(); /* SIGUSR1 while idle */
                metrics_tick(cli_now());
                continue;
            }
        }
        ora_rec r;
        int rc = ora_reader_next(R, &r);
        if (rc == ORA_RD_EOF)
            break;
        if (rc == ORA_RD_ERROR) {
            if (errno == EINTR)
                continue;
            log_error("unable to read input: %s", strerror(errno));
            rc_exit = ORA_EX_IOERR;
            break;
        }
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *pb = ora_reader_problem(R);
            if (pb->not_records) { /* issue 14: not records at all, stop at once */
                log_error("unable to read input: %s", pb->reason);
                exit(ORA_EX_DATAERR);
            }
            S.corrupt++;
            static uint64_t warned;
            int w = ora_warn_next(&warned);
            if (w)
                log_warn("unable to read record at byte %" PRIu64 ": %s (%" PRIu64 " bytes skipped)%s", pb->at,
                         pb->reason, pb->skipped, w == 2 ? ORA_WARN_MORE : "");
            if (o.strict) {
                log_error("unable to continue: damaged input (--strict)");
                exit(ORA_EX_DATAERR);
            }
            continue;
        }
        S.recs++;
        if (r.type == ORA_T_MSG)
            on_msg(&r);
        else if (r.type == ORA_T_CTRL)
            on_ctrl(&r);
        else {
            S.other++;
            if (S.other <= 3)
                log_warn("unable to use %s record at offset %" PRId64 ": dropped", ora_rec_type_name(r.type), r.offset);
        }
        jarena_reset();
        double t_now = cli_now();
        if (ckpt_busy && t_last && (t_now - t_last) * 1000 > S.ckpt_gap_max_ms)
            S.ckpt_gap_max_ms = (t_now - t_last) * 1000;
        t_last = t_now;
        metrics_tick(t_now);
        cli_poll();
    }
    if (got_term)
        log_info("terminated: writing a final checkpoint");
    final_checkpoint();
    if (ora_writer_flush(W) < 0)
        write_failed();
    if ((o.out ? close(out_fd) : cli_close_stdout()) < 0) {
        log_error("unable to close output: %s", strerror(errno));
        return ORA_EX_IOERR;
    }
    cli_summary();
    if (M && ora_metrics_flush(M) < 0)
        log_warn("unable to write metrics to %s: %s", o.metrics, strerror(errno));
    ora_metrics_free(M);
    ora_hist_free(&H_ckpt);
    ora_hist_free(&H_fork);
    ora_reader_free(R);
    ora_writer_free(W);
    ora_actors_free(A);
    ora_wm_free(&WM);
    ora_rules_free(&rules);
    jarena_release();
    return rc_exit;
}
