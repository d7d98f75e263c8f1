/* ora-sim: a local ORA server to rehearse against (doc/design.md §2, §6).
 * Option parsing and wiring; the model is sim/sim_model.c, the server
 * sim/sim_server.c. */
#include "cli.h"
#include "cliopt.h"
#include "sim_model.h"
#include "sim_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static const char usage_text[] =
    "usage: ora-sim [--seed N] [--events N] [--offers-per-event A..B] [--reorder P]\n"
    "               [--base-time TIME] [--jurisdictions NAME,...] --dump [--count N]\n"
    "               [--snapshot-at OFFSET] [-o | --output FILE]\n"
    "       ora-sim [model options] --cert FILE --key FILE --cacert FILE\n"
    "               [--port N] [--auth-port N] [--port-file FILE] [--rate MSG/S]\n"
    "               [--max-messages N] [--log FILE] [--token-ttl S] [--ping-interval S]\n"
    "               [--pong-timeout S] [--init-timeout S] [--write-timeout S]\n"
    "               [--retain N] [--per-member A..B] [--split P] [--chunk A..B]\n"
    "               [--level N] [--no-snapshot-cache] [--drop-after-msgs N]\n"
    "               [--drop-after-bytes N] [--stall-after N] [--corrupt-after N]\n"
    "               [--invalid-token-after N] [--reject-token] [--offset-too-old]\n"
    "               [--auth-fail N] [--refuse-for S] [--fault-once]\n"
    "       ora-sim -h | --version\n";

static int bad(const char *opt, const char *val)
{
    return cli_usage_error("unable to use %s: invalid value '%s'", opt, val);
}

/* A bad value of an option of the table (cliopt.h). */
static int bad_opt(const cli_opt *o, const char *val)
{
    char name[64];
    return bad(cli_opt_name(o, name, sizeof name), val);
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void note(int level, const char *fmt, va_list ap) { log_at(level, fmt, ap); }

static void summary(char *buf, size_t n, double el)
{
    sim_stats s;
    sim_server_stats(&s);
    char r[32];
    snprintf(buf, n, "%llu messages generated, %llu connections, %llu sessions, %llu tokens, "
             "%llu data messages sent (%s/s), %llu bytes, %llu pings, %llu pongs, %llu errors, %llu faults",
             (unsigned long long)s.generated, (unsigned long long)s.connections,
             (unsigned long long)s.sessions, (unsigned long long)s.tokens,
             (unsigned long long)s.data_sent, cli_human(el > 0 ? (double)s.data_sent / el : 0, r, sizeof r),
             (unsigned long long)s.bytes_sent, (unsigned long long)s.pings,
             (unsigned long long)s.pongs, (unsigned long long)s.errors_sent,
             (unsigned long long)s.faults);
}

/* --jurisdictions: 1..MAX_JURISDICTIONS comma-separated names of 1..63
 * printable characters, kept in a static copy. 0, or -1. */
enum { MAX_JURISDICTIONS = 16 };
static char jur_text[MAX_JURISDICTIONS * 64];
static const char *jur_names[MAX_JURISDICTIONS];

static int parse_jurisdictions(const char *s, sim_model_opts *mo)
{
    if (strlen(s) >= sizeof jur_text)
        return -1;
    strcpy(jur_text, s);
    size_t n = 0;
    for (char *p = jur_text, *e; p; p = e) {
        e = strchr(p, ',');
        if (e)
            *e++ = '\0';
        size_t len = strlen(p);
        if (n == MAX_JURISDICTIONS || len == 0 || len > 63)
            return -1;
        for (const char *c = p; *c; c++)
            if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\')
                return -1;
        jur_names[n++] = p;
    }
    mo->jurisdictions = jur_names;
    mo->n_jurisdictions = n;
    return 0;
}

static int parse_time(const char *s, int64_t *out)
{
    if (cli_parse_i64(s, 0, 253402300799, out) == 0)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!e || *e)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* --base-time and --jurisdictions (cliopt.h CLI_CALL): 0, or the usage error. */
static int base_time_opt(const char *arg, void *t)
{
    return parse_time(arg, t) == 0 ? 0 : bad("--base-time", arg);
}

static int jurisdictions_opt(const char *arg, void *mo)
{
    return parse_jurisdictions(arg, mo) == 0 ? 0 : bad("--jurisdictions", arg);
}

/* --dump */
static FILE *dump_out;
static uint64_t dumped;
static int dump_line(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)ctx;
    (void)off;
    if (fwrite(j, 1, n, dump_out) != n || putc('\n', dump_out) == EOF)
        return -1;
    dumped++;
    return 0;
}

static void dump_summary(char *buf, size_t n, double el)
{
    (void)el;
    snprintf(buf, n, "%llu messages dumped", (unsigned long long)dumped);
}

static int dump(const sim_model_opts *mo, uint64_t count, int64_t snap_at, const char *out_path)
{
    dump_out = stdout;
    if (out_path && !(dump_out = fopen(out_path, "w"))) {
        log_error("unable to open %s: %s", out_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    cli_set_summary(dump_summary);
    sim_model *m = sim_model_new(mo);
    if (!m) {
        log_error("unable to build the model: out of memory");
        return ORA_EX_SOFTWARE;
    }
    int ex = 0;
    sim_sink quiet = {NULL, NULL, NULL}, loud = {dump_line, NULL, NULL};
    if (sim_model_init(m, &quiet) < 0)
        goto oom;
    if (snap_at >= 0 && (uint64_t)snap_at < sim_model_head(m)) {
        log_error("unable to dump: --snapshot-at %lld is below the initial head %llu",
                  (long long)snap_at, (unsigned long long)sim_model_head(m));
        sim_model_free(m);
        return ORA_EX_USAGE;
    }
    while (snap_at >= 0 && sim_model_head(m) < (uint64_t)snap_at)
        if (sim_model_step(m, &quiet) < 0)
            goto oom;
    if (sim_model_snapshot(m, dump_line, NULL) < 0)
        goto io;
    for (uint64_t i = 0; i < count; i++) {
        if (sim_model_step(m, &loud) < 0)
            goto io;
        cli_poll();
    }
    sim_model_free(m);
    if ((out_path ? fclose(dump_out) : cli_close_stdout()) != 0) {
        log_error("unable to write %s: %s", out_path ? out_path : "stdout", strerror(errno));
        return ORA_EX_IOERR;
    }
    cli_summary();
    return ex;
io:
    if (ferror(dump_out)) {
        log_error("unable to write %s: %s", out_path ? out_path : "stdout", strerror(errno));
        sim_model_free(m);
        return ORA_EX_IOERR;
    }
oom:
    log_error("unable to generate: out of memory");
    sim_model_free(m);
    return ORA_EX_SOFTWARE;
}


int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    sim_server_opts so = {
        .model = {.seed = 1, .events = 200, .offers_min = 3, .offers_max = 8, .reorder = 0.05,
                  .base_time = 1796126400},
        .rate = 100,
        .cert = cli_env("ORA_SIM_CERT"), .key = cli_env("ORA_SIM_KEY"), .cacert = cli_env("ORA_SIM_CACERT"),
        .token_ttl = 3600,
        .ping_interval = 10, .pong_timeout = 10, .init_timeout = 30, .write_timeout = 60,
        .retain = 1000000,
        .per_member_min = 1, .per_member_max = 16, .split = 0.05, .chunk_min = 512, .chunk_max = 16384,
        .level = 6,
        .snapshot_cache = 1,
        .faults = {SIM_OFF, SIM_OFF, SIM_OFF, SIM_OFF, SIM_OFF, 0, 0, 0, 0, 0},
    };
    sim_faults *f = &so.faults;
    int do_dump = 0, no_cache = 0;
    uint64_t count = 1000;
    int64_t snap_at = -1;
    const char *out_path = NULL, *log_path = NULL;
    cli_opt opts[] = {
        CLI_OPT_HELP(usage_text),
        CLI_OPT_VERSION,
        CLI_OPT_OUTPUT(&out_path),
        /* the model */
        {.name = "seed", .kind = CLI_U64, .dest = &so.model.seed, .u = {0, UINT64_MAX}},
        {.name = "events", .kind = CLI_U64, .dest = &so.model.events, .as = CLI_AS_U32, .u = {0, 1000000}},
        {.name = "offers-per-event", .kind = CLI_RANGE, .dest = &so.model.offers_min, .dest2 = &so.model.offers_max,
         .as = CLI_AS_U32, .u = {0, 1000}},
        {.name = "reorder", .kind = CLI_DOUBLE, .dest = &so.model.reorder, .d = {0, 1}},
        {.name = "base-time", .kind = CLI_CALL, .dest = &so.model.base_time, .call = base_time_opt, .takes_arg = 1},
        {.name = "jurisdictions", .kind = CLI_CALL, .dest = &so.model, .call = jurisdictions_opt, .takes_arg = 1},
        /* --dump */
        {.name = "dump", .kind = CLI_FLAG, .dest = &do_dump},
        {.name = "count", .kind = CLI_U64, .dest = &count, .u = {0, UINT64_MAX}},
        {.name = "snapshot-at", .kind = CLI_I64, .dest = &snap_at, .i = {0, INT64_MAX}},
        /* the server */
        {.name = "cert", .kind = CLI_STR, .dest = &so.cert},
        {.name = "key", .kind = CLI_STR, .dest = &so.key},
        {.name = "cacert", .kind = CLI_STR, .dest = &so.cacert},
        {.name = "port", .kind = CLI_U64, .dest = &so.port, .as = CLI_AS_INT, .u = {0, 65535}},
        {.name = "auth-port", .kind = CLI_U64, .dest = &so.auth_port, .as = CLI_AS_INT, .u = {0, 65535}},
        {.name = "port-file", .kind = CLI_STR, .dest = &so.port_file},
        {.name = "rate", .kind = CLI_DOUBLE, .dest = &so.rate, .d = {0, 1e7}},
        {.name = "max-messages", .kind = CLI_U64, .dest = &so.max_messages, .u = {0, UINT64_MAX}},
        {.name = "log", .kind = CLI_STR, .dest = &log_path},
        {.name = "token-ttl", .kind = CLI_I64, .dest = &so.token_ttl, .i = {0, 100L * 365 * 86400}},
        {.name = "ping-interval", .kind = CLI_DOUBLE, .dest = &so.ping_interval, .d = {0, 86400}},
        {.name = "pong-timeout", .kind = CLI_DOUBLE, .dest = &so.pong_timeout, .d = {0.001, 86400}},
        {.name = "init-timeout", .kind = CLI_DOUBLE, .dest = &so.init_timeout, .d = {0.001, 86400}},
        {.name = "write-timeout", .kind = CLI_DOUBLE, .dest = &so.write_timeout, .d = {0, 86400}},
        {.name = "retain", .kind = CLI_U64, .dest = &so.retain, .u = {1, UINT64_MAX}},
        {.name = "per-member", .kind = CLI_RANGE, .dest = &so.per_member_min, .dest2 = &so.per_member_max,
         .as = CLI_AS_U32, .u = {1, 100000}},
        {.name = "split", .kind = CLI_DOUBLE, .dest = &so.split, .d = {0, 1}},
        {.name = "chunk", .kind = CLI_RANGE, .dest = &so.chunk_min, .dest2 = &so.chunk_max, .as = CLI_AS_U32,
         .u = {1, 1 << 24}},
        {.name = "level", .kind = CLI_U64, .dest = &so.level, .as = CLI_AS_INT, .u = {1, 9}},
        {.name = "no-snapshot-cache", .kind = CLI_FLAG, .dest = &no_cache},
        /* faults; counts up to UINT64_MAX - 1 (SIM_OFF: never) */
        {.name = "drop-after-msgs", .kind = CLI_U64, .dest = &f->drop_after_msgs, .u = {0, SIM_OFF - 1}},
        {.name = "drop-after-bytes", .kind = CLI_U64, .dest = &f->drop_after_bytes, .u = {0, SIM_OFF - 1}},
        {.name = "stall-after", .kind = CLI_U64, .dest = &f->stall_after, .u = {0, SIM_OFF - 1}},
        {.name = "corrupt-after", .kind = CLI_U64, .dest = &f->corrupt_after, .u = {0, SIM_OFF - 1}},
        {.name = "invalid-token-after", .kind = CLI_U64, .dest = &f->invalid_token_after, .u = {0, SIM_OFF - 1}},
        {.name = "reject-token", .kind = CLI_FLAG, .dest = &f->reject_token},
        {.name = "offset-too-old", .kind = CLI_FLAG, .dest = &f->offset_too_old},
        {.name = "auth-fail", .kind = CLI_U64, .dest = &f->auth_fail, .u = {0, UINT64_MAX}},
        {.name = "refuse-for", .kind = CLI_DOUBLE, .dest = &f->refuse_for, .d = {0, 86400}},
        {.name = "fault-once", .kind = CLI_FLAG, .dest = &f->once},
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .bad = bad_opt,
                  .operand = "unable to use '%s': unexpected argument"};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        return go;
    so.snapshot_cache = !no_cache;
    if (so.model.offers_max < so.model.offers_min)
        so.model.offers_max = so.model.offers_min;
    if (do_dump)
        return dump(&so.model, count, snap_at, out_path);
    if (out_path) {
        return cli_usage_error("unable to use -o: only with --dump (see --log)");
    }
    if (!so.cert || !so.key || !so.cacert) {
        return cli_usage_error("unable to serve: --cert, --key and --cacert are required");
    }
    FILE *logf = NULL;
    if (log_path && !(logf = fopen(log_path, "w"))) {
        log_error("unable to open %s: %s", log_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    so.log = logf;
    cli_on_stop(on_term);
    so.stop = &stop;
    so.note = note;
    so.tick = cli_poll;
    cli_set_summary(summary);
    int ex = sim_server_run(&so);
    if (logf && fclose(logf) != 0 && ex == 0) {
        log_error("unable to write %s: %s", log_path, strerror(errno));
        ex = ORA_EX_IOERR;
    }
    cli_summary();
    return ex;
}
