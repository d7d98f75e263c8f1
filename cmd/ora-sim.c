/* ora-sim: a local ORA server to rehearse against (doc/design.md §2, §6).
 * Option parsing and wiring; the model is sim/sim_model.c, the server
 * sim/sim_server.c. */
#include "cli.h"
#include "sim_model.h"
#include "sim_server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static void usage(FILE *f)
{
    fprintf(f,
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
        "       ora-sim -h | --version\n");
}

static int bad(const char *opt, const char *val)
{
    return cli_usage_error("unable to use %s: invalid value '%s'", opt, val);
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

enum {
    O_SEED = 256, O_EVENTS, O_OFFERS, O_REORDER, O_BASE, O_DUMP, O_COUNT, O_SNAPAT, O_CERT, O_KEY,
    O_CACERT, O_PORT, O_AUTHPORT, O_PORTFILE, O_RATE, O_MAX, O_LOG, O_TTL, O_PING, O_PONG, O_INIT, O_WRITE,
    O_RETAIN, O_PER, O_SPLIT, O_CHUNK, O_LEVEL, O_DROPM, O_DROPB, O_STALL, O_CORRUPT, O_INVTOK, O_REJECT,
    O_OLD, O_AUTHFAIL, O_REFUSE, O_ONCE, O_JUR, O_NOCACHE, O_VERSION
};

int main(int argc, char **argv)
{
    if (cli_init(argv[0]) < 0) {
        log_error("unable to use ORA_LOG '%s': not one of debug, info, warn, error", getenv("ORA_LOG"));
        return ORA_EX_CONFIG;
    }
    static const struct option lo[] = {
        {"seed", 1, 0, O_SEED}, {"events", 1, 0, O_EVENTS}, {"offers-per-event", 1, 0, O_OFFERS},
        {"reorder", 1, 0, O_REORDER}, {"base-time", 1, 0, O_BASE}, {"jurisdictions", 1, 0, O_JUR},
        {"dump", 0, 0, O_DUMP},
        {"count", 1, 0, O_COUNT}, {"snapshot-at", 1, 0, O_SNAPAT}, {"output", 1, 0, 'o'},
        {"cert", 1, 0, O_CERT}, {"key", 1, 0, O_KEY}, {"cacert", 1, 0, O_CACERT},
        {"port", 1, 0, O_PORT}, {"auth-port", 1, 0, O_AUTHPORT}, {"port-file", 1, 0, O_PORTFILE},
        {"rate", 1, 0, O_RATE}, {"max-messages", 1, 0, O_MAX}, {"log", 1, 0, O_LOG},
        {"token-ttl", 1, 0, O_TTL}, {"ping-interval", 1, 0, O_PING}, {"pong-timeout", 1, 0, O_PONG},
        {"init-timeout", 1, 0, O_INIT}, {"write-timeout", 1, 0, O_WRITE}, {"retain", 1, 0, O_RETAIN}, {"per-member", 1, 0, O_PER}, {"split", 1, 0, O_SPLIT},
        {"chunk", 1, 0, O_CHUNK}, {"level", 1, 0, O_LEVEL}, {"no-snapshot-cache", 0, 0, O_NOCACHE},
        {"drop-after-msgs", 1, 0, O_DROPM}, {"drop-after-bytes", 1, 0, O_DROPB},
        {"stall-after", 1, 0, O_STALL}, {"corrupt-after", 1, 0, O_CORRUPT},
        {"invalid-token-after", 1, 0, O_INVTOK}, {"reject-token", 0, 0, O_REJECT},
        {"offset-too-old", 0, 0, O_OLD}, {"auth-fail", 1, 0, O_AUTHFAIL},
        {"refuse-for", 1, 0, O_REFUSE}, {"fault-once", 0, 0, O_ONCE},
        {"help", 0, 0, 'h'}, {"version", 0, 0, O_VERSION}, {0, 0, 0, 0}};

    sim_server_opts so;
    memset(&so, 0, sizeof so);
    so.model = (sim_model_opts){.seed = 1, .events = 200, .offers_min = 3, .offers_max = 8,
                                .reorder = 0.05, .base_time = 1796126400};
    so.rate = 100;
    so.cert = cli_env("ORA_SIM_CERT");
    so.key = cli_env("ORA_SIM_KEY");
    so.cacert = cli_env("ORA_SIM_CACERT");
    so.token_ttl = 3600;
    so.ping_interval = 10;
    so.pong_timeout = 10;
    so.init_timeout = 30;
    so.write_timeout = 60;
    so.retain = 1000000;
    so.per_member_min = 1;
    so.per_member_max = 16;
    so.split = 0.05;
    so.chunk_min = 512;
    so.chunk_max = 16384;
    so.level = 6;
    so.snapshot_cache = 1;
    so.faults = (sim_faults){SIM_OFF, SIM_OFF, SIM_OFF, SIM_OFF, SIM_OFF, 0, 0, 0, 0, 0};
    int do_dump = 0;
    uint64_t count = 1000, u, a, b;
    int64_t snap_at = -1, i64;
    double d;
    const char *out_path = NULL, *log_path = NULL;
    int c;
    int li = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", lo, &li)) != -1) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", li >= 0 ? "--" : "-", li >= 0 ? lo[li].name : "o");
        li = -1;
        switch (c) {
        case 'h': usage(stdout); return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
        case O_VERSION: return cli_print_version();
        case 'o': out_path = optarg; break;
        case O_SEED: if (cli_parse_u64(optarg, 0, UINT64_MAX, &so.model.seed)) return bad(name, optarg); break;
        case O_EVENTS: if (cli_parse_u64(optarg, 0, 1000000, &u)) return bad(name, optarg); so.model.events = (uint32_t)u; break;
        case O_OFFERS:
            if (cli_parse_range(optarg, 0, 1000, &a, &b)) return bad(name, optarg);
            so.model.offers_min = (uint32_t)a; so.model.offers_max = (uint32_t)b; break;
        case O_REORDER: if (cli_parse_double(optarg, 0, 1, &so.model.reorder)) return bad(name, optarg); break;
        case O_BASE: if (parse_time(optarg, &so.model.base_time)) return bad(name, optarg); break;
        case O_JUR: if (parse_jurisdictions(optarg, &so.model)) return bad(name, optarg); break;
        case O_DUMP: do_dump = 1; break;
        case O_COUNT: if (cli_parse_u64(optarg, 0, UINT64_MAX, &count)) return bad(name, optarg); break;
        case O_SNAPAT: if (cli_parse_i64(optarg, 0, INT64_MAX, &snap_at)) return bad(name, optarg); break;
        case O_CERT: so.cert = optarg; break;
        case O_KEY: so.key = optarg; break;
        case O_CACERT: so.cacert = optarg; break;
        case O_PORT: if (cli_parse_u64(optarg, 0, 65535, &u)) return bad(name, optarg); so.port = (int)u; break;
        case O_AUTHPORT: if (cli_parse_u64(optarg, 0, 65535, &u)) return bad(name, optarg); so.auth_port = (int)u; break;
        case O_PORTFILE: so.port_file = optarg; break;
        case O_RATE: if (cli_parse_double(optarg, 0, 1e7, &so.rate)) return bad(name, optarg); break;
        case O_MAX: if (cli_parse_u64(optarg, 0, UINT64_MAX, &so.max_messages)) return bad(name, optarg); break;
        case O_LOG: log_path = optarg; break;
        case O_TTL: if (cli_parse_i64(optarg, 0, 100L * 365 * 86400, &i64)) return bad(name, optarg); so.token_ttl = i64; break;
        case O_PING: if (cli_parse_double(optarg, 0, 86400, &so.ping_interval)) return bad(name, optarg); break;
        case O_PONG: if (cli_parse_double(optarg, 0.001, 86400, &so.pong_timeout)) return bad(name, optarg); break;
        case O_INIT: if (cli_parse_double(optarg, 0.001, 86400, &so.init_timeout)) return bad(name, optarg); break;
        case O_WRITE: if (cli_parse_double(optarg, 0, 86400, &so.write_timeout)) return bad(name, optarg); break;
        case O_RETAIN: if (cli_parse_u64(optarg, 1, UINT64_MAX, &so.retain)) return bad(name, optarg); break;
        case O_PER:
            if (cli_parse_range(optarg, 1, 100000, &a, &b)) return bad(name, optarg);
            so.per_member_min = (uint32_t)a; so.per_member_max = (uint32_t)b; break;
        case O_SPLIT: if (cli_parse_double(optarg, 0, 1, &so.split)) return bad(name, optarg); break;
        case O_CHUNK:
            if (cli_parse_range(optarg, 1, 1 << 24, &a, &b)) return bad(name, optarg);
            so.chunk_min = (uint32_t)a; so.chunk_max = (uint32_t)b; break;
        case O_LEVEL: if (cli_parse_u64(optarg, 1, 9, &u)) return bad(name, optarg); so.level = (int)u; break;
        case O_DROPM: if (cli_parse_u64(optarg, 0, UINT64_MAX - 1, &so.faults.drop_after_msgs)) return bad(name, optarg); break;
        case O_DROPB: if (cli_parse_u64(optarg, 0, UINT64_MAX - 1, &so.faults.drop_after_bytes)) return bad(name, optarg); break;
        case O_STALL: if (cli_parse_u64(optarg, 0, UINT64_MAX - 1, &so.faults.stall_after)) return bad(name, optarg); break;
        case O_CORRUPT: if (cli_parse_u64(optarg, 0, UINT64_MAX - 1, &so.faults.corrupt_after)) return bad(name, optarg); break;
        case O_INVTOK: if (cli_parse_u64(optarg, 0, UINT64_MAX - 1, &so.faults.invalid_token_after)) return bad(name, optarg); break;
        case O_REJECT: so.faults.reject_token = 1; break;
        case O_OLD: so.faults.offset_too_old = 1; break;
        case O_AUTHFAIL: if (cli_parse_u64(optarg, 0, UINT64_MAX, &so.faults.auth_fail)) return bad(name, optarg); break;
        case O_REFUSE: if (cli_parse_double(optarg, 0, 86400, &d)) return bad(name, optarg); so.faults.refuse_for = d; break;
        case O_ONCE: so.faults.once = 1; break;
        case O_NOCACHE: so.snapshot_cache = 0; break;
        default: return cli_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("unable to use '%s': unexpected argument", argv[optind]);
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
