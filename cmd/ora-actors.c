/* ora-actors: the Event/BetOffer actor network (design.md §3, §4).
 * Routed MSG records in, OUT records (partition key + JSON) out, CTRL
 * records passed through, plus "checkpoint W" CTRL records once the state
 * for W is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
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
#include "cli.h"
#include "jarena.h"
#include "ora.h"
#include "record.h"
#include "route.h"
#include "rules.h"
#include "state.h"

static const char usage_text[] =
    "usage: ora-actors [--rules FILE] [--criteria LIST] [--jurisdiction NAME=BIT]...\n"
    "                  [--pending-ttl SECONDS] [--state-dir DIR] [--checkpoint FILE]\n"
    "                  [--checkpoint-interval SECONDS] [--keep N] [--gap-limit N]\n"
    "                  [--watermark N] [--max-record BYTES] [--strict] [-i FILE] [-o FILE]\n"
    "       ora-actors --dump-state --state-dir DIR [--checkpoint FILE] [-o FILE]\n"
    "       ora-actors -h | --help | --version\n";

static struct {
    const char *in, *out, *rules_file, *criteria, *state_dir, *checkpoint;
    const char *jur[ORA_RULES_MAX_JUR];
    int n_jur;
    double pending_ttl, interval;
    int ttl_set;
    uint64_t keep, gap_limit, max_record;
    int64_t watermark;
    int strict, dump;
} o = {.pending_ttl = 300, .interval = 60, .keep = 3, .gap_limit = 100000, .max_record = ORA_REC_MAX_DEFAULT,
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
    uint64_t recs, msgs, ctrl, dups, bad_json, unrouted, other, corrupt, out;
    uint64_t checkpoints, ckpt_failed, ckpt_bytes;
    double ckpt_last_ms, fork_max_ms, ckpt_gap_max_ms;
    int64_t last_emitted, last_written;
} S = {.last_emitted = -1, .last_written = -1};

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
             " bad, %" PRIu64 " ignored, %" PRIu64 " unknown deletes; out %" PRIu64 " (event_data %" PRIu64
             ", opened %" PRIu64 ", closed %" PRIu64 ", odds %" PRIu64 "); %" PRIu64 " events, %" PRIu64
             " offers, %" PRIu64 " queued now (%" PRIu64 " pruned, %" PRIu64 " stale); W %" PRId64 ", %" PRIu64
             " gaps; %" PRIu64 " checkpoints (last %.1f ms, %.1f MiB, fork max %.1f ms, stall max %.1f ms); %" PRIu64
             " unknown offerings; rss %ld KiB",
             S.msgs, cli_human(el > 0 ? (double)S.msgs / el : 0, r1, sizeof r1), t->applied + t->pending_applied,
             t->queued, S.dups, t->bad + S.bad_json, t->ignored, t->unknown_deletes, S.out, t->out_event_data,
             t->out_opened, t->out_closed, t->out_odds, A->n_events, A->n_offers, A->n_pend, t->pending_pruned,
             t->pending_stale, WM.w, WM.gaps, S.checkpoints, S.ckpt_last_ms, (double)S.ckpt_bytes / 1048576.0,
             S.fork_max_ms, S.ckpt_gap_max_ms, t->unknown_offerings, rss_kib());
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

/* Forks a writer for the state at W. */
static void start_checkpoint(void)
{
    if (!o.state_dir || child || WM.w < 0)
        return;
    if (!dirty && WM.w == S.last_written)
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
        else if (flow == ORA_FLOW_REPLAY && has_off && (in_snapshot || WM.w < 0)) {
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

static void on_msg(const ora_rec *r)
{
    S.msgs++;
    ora_msg m = {.offset = r->offset, .recv_ns = r->recv_ns, .flow = r->flow};
    cJSON *root = cJSON_ParseWithLength((const char *)r->payload, r->len);
    if (!root) {
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
    if (m.flow == ORA_FLOW_SNAPSHOT && !in_snapshot)
        enter_snapshot("snapshot message");
    int tracked = m.flow != ORA_FLOW_SNAPSHOT && m.offset >= 0 && WM.w >= 0;
    if (tracked && ora_wm_dup(&WM, m.offset)) {
        S.dups++;
        cJSON_Delete(root);
        return;
    }
    if (tracked && m.offset <= WM.w)
        WM.late++;
    int rc = ora_actors_apply(A, &m, root, (const char *)r->payload, r->len);
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

static void load_state(void)
{
    if (!o.state_dir)
        return;
    if (mkdir(o.state_dir, 0755) < 0 && errno != EEXIST) {
        log_error("unable to create state directory %s: %s", o.state_dir, strerror(errno));
        exit(ORA_EX_CONFIG);
    }
    char err[512];
    int64_t w = -1, *list = NULL;
    int have = 0;
    if (o.checkpoint) {
        have = ora_checkpoint_read(o.checkpoint, &w, err, sizeof err);
        if (have < 0) {
            log_error("unable to read checkpoint: %s", err);
            exit(ORA_EX_CONFIG);
        }
    }
    long n = ora_state_list(o.state_dir, &list);
    if (n < 0) {
        log_error("unable to list %s: %s", o.state_dir, strerror(errno));
        exit(ORA_EX_CONFIG);
    }
    if (!o.checkpoint && n > 0) {
        w = list[n - 1];
        have = 1;
    }
    if (!have) {
        if (n > 0)
            log_info("no committed checkpoint in %s: starting empty, ignoring %ld state files", o.checkpoint, n);
        free(list);
        return;
    }
    int found = 0;
    int64_t older = -1;
    for (long i = 0; i < n; i++) {
        if (list[i] == w)
            found = 1;
        if (list[i] < w)
            older = list[i];
    }
    free(list);
    if (!found) {
        if (older >= 0)
            log_error("unable to load state: no state for committed checkpoint %" PRId64 " in %s (newest older: %" PRId64
                      "; loading it would lose the messages in between: remove %s to start from a new snapshot)",
                      w, o.state_dir, older, o.checkpoint ? o.checkpoint : "the checkpoint");
        else
            log_error("unable to load state: no state for committed checkpoint %" PRId64 " in %s (remove %s to start "
                      "from a new snapshot)",
                      w, o.state_dir, o.checkpoint ? o.checkpoint : "the checkpoint");
        exit(ORA_EX_CONFIG);
    }
    char *path = ora_state_path(o.state_dir, w);
    double t0 = cli_now();
    if (!path || ora_state_load(path, A, &WM, NULL, err, sizeof err) < 0) {
        log_error("unable to load state: %s", path ? err : "out of memory");
        exit(ORA_EX_DATAERR);
    }
    free(path);
    S.last_written = S.last_emitted = WM.w;
    log_info("loaded state %" PRId64 ": %" PRIu64 " events, %" PRIu64 " offers, %" PRIu64 " queued in %.0f ms", WM.w,
             A->n_events, A->n_offers, A->n_pend, (cli_now() - t0) * 1000);
}

enum { O_RULES = 256, O_CRIT, O_JUR, O_TTL, O_SDIR, O_CKPT, O_INT, O_KEEP, O_GAP, O_WM, O_MAXREC, O_STRICT, O_DUMP, O_VER };

int main(int argc, char **argv)
{
    if (cli_init(argv[0]) < 0) {
        log_error("unable to use ORA_LOG '%s': not one of debug, info, warn, error", getenv("ORA_LOG"));
        return ORA_EX_CONFIG;
    }
    static const struct option lo[] = {
        {"rules", required_argument, 0, O_RULES},  {"criteria", required_argument, 0, O_CRIT},
        {"jurisdiction", required_argument, 0, O_JUR}, {"pending-ttl", required_argument, 0, O_TTL},
        {"state-dir", required_argument, 0, O_SDIR}, {"checkpoint", required_argument, 0, O_CKPT},
        {"checkpoint-interval", required_argument, 0, O_INT}, {"keep", required_argument, 0, O_KEEP},
        {"gap-limit", required_argument, 0, O_GAP}, {"watermark", required_argument, 0, O_WM},
        {"max-record", required_argument, 0, O_MAXREC}, {"strict", no_argument, 0, O_STRICT},
        {"dump-state", no_argument, 0, O_DUMP},   {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, O_VER},       {0, 0, 0, 0}};
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
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hi:o:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
        case O_VER: return cli_print_version();
        case 'i': o.in = optarg; break;
        case 'o': o.out = optarg; break;
        case O_RULES: o.rules_file = optarg; break;
        case O_CRIT: o.criteria = optarg; break;
        case O_JUR:
            if (o.n_jur == ORA_RULES_MAX_JUR)
                usage_error("unable to use --jurisdiction %s: too many", optarg);
            o.jur[o.n_jur++] = optarg;
            break;
        case O_TTL:
            if (cli_parse_double(optarg, 0, 1e9, &o.pending_ttl) < 0)
                usage_error("unable to use --pending-ttl '%s': want seconds >= 0", optarg);
            o.ttl_set = 1;
            break;
        case O_SDIR: o.state_dir = optarg; break;
        case O_CKPT: o.checkpoint = optarg; break;
        case O_INT:
            if (cli_parse_double(optarg, 0, 1e9, &o.interval) < 0)
                usage_error("unable to use --checkpoint-interval '%s': want seconds >= 0", optarg);
            break;
        case O_KEEP:
            if (cli_parse_u64(optarg, 1, 1000000, &o.keep) < 0)
                usage_error("unable to use --keep '%s': want 1..1000000", optarg);
            break;
        case O_GAP:
            if (cli_parse_u64(optarg, 1, 1u << 30, &o.gap_limit) < 0)
                usage_error("unable to use --gap-limit '%s': want 1..2^30", optarg);
            break;
        case O_WM:
            if (cli_parse_i64(optarg, 0, INT64_MAX, &o.watermark) < 0)
                usage_error("unable to use --watermark '%s': want an offset >= 0", optarg);
            break;
        case O_MAXREC:
            if (cli_parse_size(optarg, 1024, ORA_REC_MAX_LIMIT, &o.max_record) < 0)
                usage_error("unable to use --max-record '%s'", optarg);
            break;
        case O_STRICT: o.strict = 1; break;
        case O_DUMP: o.dump = 1; break;
        default: return cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        usage_error("unable to use argument '%s': no operands expected", argv[optind]);
    if (o.dump && !o.state_dir)
        usage_error("unable to dump state%s: --dump-state needs --state-dir", "");

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
        if (cli_write_all(out_fd, b.p, b.len) < 0 || ora_actors_dump(A, dump_put, NULL) < 0 ||
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
    ora_reader_free(R);
    ora_writer_free(W);
    ora_actors_free(A);
    ora_wm_free(&WM);
    ora_rules_free(&rules);
    jarena_release();
    return rc_exit;
}
