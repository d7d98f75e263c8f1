/* ora-order: routes ORA messages to their actors and restores offset order
 * per actor (doc/design.md §2). MSG records in; MSG records out with kind,
 * actor type and actor id set; every other record passes through in place.
 * See man/ora-order.1. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batcher.h"
#include "cli.h"
#include "cliopt.h"
#include "clistage.h"
#include "metrics.h"
#include "ora.h"
#include "record.h"
#include "route.h"

#define DEF_BATCH_SIZE 100
#define DEF_BATCH_TIMEOUT_MS 20
#define MAX_BATCH_SIZE 1000000
#define MAX_BATCH_TIMEOUT_MS 3600000
#define STR_(x) #x
#define STR(x) STR_(x) /* the limits in messages */

static const char usage_text[] =
    "usage: ora-order [-i FILE] [-o FILE] [-b N] [-t MS] [--max-record SIZE] [--strict]\n"
    "                 [--metrics FILE] [--metrics-interval SECONDS]\n"
    "       ora-order -h | --version\n"
    "  -i, --input FILE        read records from FILE (default stdin)\n"
    "  -o, --output FILE       write records to FILE (default stdout)\n"
    "  -b, --batch-size N      release an actor's batch at N messages (default 100; ORA_BATCH_SIZE)\n"
    "  -t, --batch-timeout MS  or MS milliseconds after its first message (default 20; ORA_BATCH_TIMEOUT)\n"
    "      --max-record SIZE   largest payload accepted (default 16M)\n"
    "      --strict            exit 65 on damaged records or unroutable messages\n"
    CLI_USAGE_FILTER_TAIL;

static volatile sig_atomic_t term;

static struct {
    ora_reader *rd;
    ora_writer *w;
    ora_batcher *b;
    int in_fd;
    int null_fd; /* /dev/null, opened before the sandbox (cut_input) */
    int strict;
    int direct;          /* -t 0: no batching, messages go straight out */
    int stopping;        /* input cut short (SIGTERM or a failed write) */
    int clock_stale;     /* the input was read since the clock was last read */
    uint64_t msgs, routed, unknown, bad, range, passed, damaged, warned, rd_warned, direct_out;
    uint64_t by_kind[ORA_K_COUNT];   /* messages read, by payload key (0: none known) */
    ora_metrics *m;
} S;

static void on_term(int sig)
{
    (void)sig;
    term = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void summary(char *buf, size_t n, double elapsed)
{
    const ora_batcher_stats *st = ora_batcher_stats_get(S.b);
    char rate[32];
    cli_human(elapsed > 0 ? (double)S.msgs / elapsed : 0, rate, sizeof rate);
    snprintf(buf, n,
             "%" PRIu64 " msgs in (%s/s), %" PRIu64 " records out, %" PRIu64 " routed, %" PRIu64
             " unknown, %" PRIu64 " bad (%" PRIu64 " with an offset out of range), %" PRIu64 " passed through, batches %" PRIu64 " full/%" PRIu64
             " timed/%" PRIu64 " flushed, %" PRIu64 " reordered, peak %" PRIu64 " msgs/%" PRIu64
             " actors pending, %" PRIu64 " bytes damaged",
             S.msgs, rate, ora_writer_records(S.w), S.routed, S.unknown, S.bad, S.range, S.passed,
             st->batches_size, st->batches_time + S.direct_out, st->batches_flush, st->reordered,
             st->peak_msgs, st->peak_actors, S.damaged);
}

/* Payloads leave as they came: their verified sums go with them. */
static int emit(void *ctx, const ora_rec *r)
{
    return ora_writer_put_same(ctx, r);
}

/* Makes every further read(2) of the input see end of file. */
static void cut_input(void) { clistage_cut_input(S.in_fd, S.null_fd, &S.stopping); }

/* Runs before every read(2) of the input: releases batches whose time has
 * come, flushes output, and waits for input or the next deadline. */
static void before_read(void *arg)
{
    (void)arg;
    S.clock_stale = 1;
    /* First of all: payloads written by reference point into the reader's
     * buffer, which moves after this. */
    if (ora_writer_flush(S.w) != 0) {
        cut_input();
        return;
    }
    for (;;) {
        cli_poll();
        if (ora_writer_error(S.w) || term) {
            cut_input();
            return;
        }
        if (ora_batcher_expire(S.b, mono_ns(), emit, S.w) < 0 || ora_writer_flush(S.w) != 0) {
            cut_input();
            return;
        }
        uint64_t dl;
        struct timespec ts, *tp = NULL;
        if (ora_batcher_next_deadline(S.b, &dl)) {
            uint64_t now = mono_ns(), d = dl > now ? dl - now : 0;
            ts.tv_sec = (time_t)(d / 1000000000u);
            ts.tv_nsec = (long)(d % 1000000000u);
            tp = &ts;
        }
        if (S.m) {
            /* idle, the metrics still go out at their interval */
            ora_metrics_tick(S.m, cli_now());
            if (!tp || ts.tv_sec >= 1) {
                ts.tv_sec = 1;
                ts.tv_nsec = 0;
                tp = &ts;
            }
        }
        struct pollfd p = {.fd = S.in_fd, .events = POLLIN};
        int n = ppoll(&p, 1, tp, NULL);
        if (n > 0)
            return;                 /* readable, hung up or failed: read() tells */
        if (n < 0 && errno != EINTR)
            return;                 /* e.g. a descriptor poll cannot watch */
    }
}

static void warn_msg(const char *what, const ora_route *rt, uint64_t at, int rc)
{
    int w = ora_warn_next(&S.warned);
    if (!w && !S.strict)
        return;
    char where[64];
    if (rt->offset >= 0)
        snprintf(where, sizeof where, "offset %" PRId64, rt->offset);
    else
        snprintf(where, sizeof where, "input byte %" PRIu64, at);
    const char *key = rt->kind ? ora_kind_get(rt->kind)->key : NULL;
    if (S.strict)
        log_error("unable to route message at %s: %s%s%s%s", where, ora_route_strerror(rc),
                  key ? " (" : "", key ? key : "", key ? ")" : "");
    else
        log_warn("%s message at %s: %s%s%s%s%s", what, where, ora_route_strerror(rc),
                 key ? " (" : "", key ? key : "", key ? ")" : "", w == 2 ? ORA_WARN_MORE : "");
}

/* 0 ok, or an exit status. */
static int on_msg(ora_rec *in, uint64_t now)
{
    uint64_t at = ora_reader_pos(S.rd) - ORA_REC_HDR - in->len;
    ora_route rt;
    S.msgs++;
    /* Scanned in place, checked as JSON on the way, no tree (lib/jscan.c). */
    int rc = ora_route_scan(in->payload, in->len, &rt);
    S.by_kind[rt.kind]++;
    if (rc == ORA_ROUTE_NO_OFFSET && rt.kind == ORA_K_UNKNOWN)
        rc = ORA_ROUTE_UNKNOWN;     /* no payload key and no offset: not ours to judge */
    /* Without an offset in the message, the header's goes on: only a sound one. */
    if (rc == ORA_ROUTE_UNKNOWN && rt.offset < 0 && (in->offset < -1 || in->offset > ORA_OFFSET_MAX))
        rc = ORA_ROUTE_OFFSET_RANGE;
    if (rc < 0) {
        S.bad++;
        if (rc == ORA_ROUTE_OFFSET_RANGE)
            S.range++;
        warn_msg("skipping", &rt, at, rc);
        return S.strict ? ORA_EX_DATAERR : 0;
    }
    in->flags |= ORA_RF_ROUTED;
    in->kind = (uint8_t)rt.kind;
    in->actor_type = rt.actor_type;
    in->actor_id = rt.actor_id;
    if (rt.offset >= 0)
        in->offset = rt.offset;
    if (rc == ORA_ROUTE_UNKNOWN) {
        S.unknown++;
        in->kind = ORA_K_UNKNOWN;
        in->actor_type = ORA_ACTOR_NONE;
        in->actor_id = 0;
        return ora_writer_put_ref(S.w, in) == 0 ? 0 : ORA_EX_IOERR;
    }
    S.routed++;
    if (S.direct) {
        /* -t 0: every batch would be released as soon as it is made, in
         * arrival order; the message leaves from the read buffer */
        S.direct_out++;
        return ora_writer_put_ref(S.w, in) == 0 ? 0 : ORA_EX_IOERR;
    }
    if (ora_batcher_add(S.b, in, now, emit, S.w) != 0) {
        if (ora_writer_error(S.w))
            return ORA_EX_IOERR;
        log_error("unable to hold message at offset %" PRId64 ": %s", rt.offset, strerror(errno));
        return ORA_EX_SOFTWARE;
    }
    return 0;
}

/* README "Monitoring": ora_order_messages_total{kind}, ora_order_reordered_total,
 * ora_order_pending. The registry reads the counters kept anyway. */
static char kind_labels[ORA_K_COUNT][48];

static ora_metrics *order_metrics(const char *path, double interval)
{
    ora_metrics *m = ora_metrics_new("order");
    if (!m)
        return NULL;
    const ora_batcher_stats *st = ora_batcher_stats_get(S.b);
    int rc = 0;
    for (int k = 0; k < ORA_K_COUNT; k++) {
        snprintf(kind_labels[k], sizeof kind_labels[k], "kind=\"%s\"", k ? ora_kind_get(k)->key : "unknown");
        rc |= ora_metrics_u64(m, "ora_order_messages_total", ORA_COUNTER,
                              "ORA messages read, by payload key (unknown: none of the table).", kind_labels[k],
                              &S.by_kind[k]);
    }
    rc |= ora_metrics_u64(m, "ora_order_reordered_total", ORA_COUNTER,
                          "Messages released out of arrival order (after one that arrived later).", NULL,
                          &st->reordered_msgs);
    rc |= ora_metrics_u64(m, "ora_order_pending", ORA_GAUGE, "Messages held in per-actor batches now.", NULL,
                          &st->pending_msgs);
    if (rc) {
        ora_metrics_free(m);
        return NULL;
    }
    ora_metrics_schedule(m, path, interval);
    return m;
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    uint64_t bsize = DEF_BATCH_SIZE, btime = DEF_BATCH_TIMEOUT_MS, maxrec = ORA_REC_MAX_DEFAULT;
    if (cli_env_u64("ORA_BATCH_SIZE", 1, MAX_BATCH_SIZE, &bsize) ||
        cli_env_u64("ORA_BATCH_TIMEOUT", 0, MAX_BATCH_TIMEOUT_MS, &btime))
        return ORA_EX_CONFIG;

    cli_filter_args a = CLI_FILTER_ARGS_INIT;
    cli_opt opts[] = {
        CLI_OPTS_FILTER(&a, usage_text),
        {.name = "batch-size", .letter = 'b', .kind = CLI_U64, .dest = &bsize, .u = {1, MAX_BATCH_SIZE},
         .bad = "unable to use --batch-size %s: not a whole number in 1.." STR(MAX_BATCH_SIZE)},
        {.name = "batch-timeout", .letter = 't', .kind = CLI_U64, .dest = &btime, .u = {0, MAX_BATCH_TIMEOUT_MS},
         .bad = "unable to use --batch-timeout %s: not a whole number of ms in 0.." STR(MAX_BATCH_TIMEOUT_MS)},
        {.name = "max-record", .kind = CLI_SIZE, .dest = &maxrec, .u = {1, ORA_REC_MAX_LIMIT},
         .bad = "unable to use --max-record %s: not a size in 1..1G"},
    };
    cli_opts t = {.opt = opts, .n = sizeof opts / sizeof opts[0], .operand = CLI_FILTER_OPERAND};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        return go;
    S.strict = a.strict;

    int out_fd, rc = cli_open_io(a.in, a.out, &S.in_fd, &out_fd);
    if (rc)
        return rc;

    cli_on_stop(on_term);

    S.rd = ora_reader_new(S.in_fd, (uint32_t)maxrec);
    S.w = ora_writer_new(out_fd);
    S.b = ora_batcher_new((uint32_t)bsize, btime * 1000000u);
    if (!S.rd || !S.w || !S.b) {
        log_error("unable to allocate buffers: %s", strerror(ENOMEM));
        return ORA_EX_SOFTWARE;
    }
    S.direct = btime == 0;
    if (a.metrics && !(S.m = order_metrics(a.metrics, a.metrics_interval))) {
        log_error("unable to set up metrics: %s", strerror(ENOMEM));
        return ORA_EX_SOFTWARE;
    }
    ora_reader_on_read(S.rd, before_read, NULL);
    cli_set_summary(summary);
    S.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* before the sandbox, for cut_input */
    int cx = cli_confine_filter(a.metrics);
    if (cx)
        return cx;
    log_debug("batch size %" PRIu64 ", batch timeout %" PRIu64 " ms", bsize, btime);

    int ex = ORA_EX_OK, w;
    ora_rec in;
    for (;;) {
        int rc = ora_reader_next(S.rd, &in);
        if (rc == ORA_RD_EOF)
            break;
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(S.rd);
            if (p->not_records) {
                log_error("unable to read input: %s", p->reason);
                ex = ORA_EX_DATAERR;
                break;
            }
            S.damaged += p->skipped;
            if (S.strict) {
                log_error("unable to read a record at input byte %" PRIu64 ": %s (%" PRIu64 " bytes)",
                          p->at, p->reason, p->skipped);
                ex = ORA_EX_DATAERR;
                break;
            }
            if (S.stopping && term && rc == ORA_RD_TRUNCATED)
                log_warn("stopping: dropped %" PRIu64 " bytes of a partly read record at input byte %" PRIu64,
                         p->skipped, p->at);
            else if ((w = ora_warn_next(&S.rd_warned)))
                log_warn("skipped %" PRIu64 " bytes at input byte %" PRIu64 ": %s%s", p->skipped, p->at,
                         p->reason, w == 2 ? ORA_WARN_MORE : "");
            continue;
        }
        if (rc == ORA_RD_ERROR) {
            if (S.stopping)
                break;
            log_error("unable to read input: %s", strerror(errno));
            ex = ORA_EX_IOERR;
            break;
        }
        cli_poll();
        /* The clock is read after every read(2) of the input and every 16
         * records within a block (a block takes microseconds). */
        static uint64_t now;
        static unsigned since_clock;
        if (S.clock_stale || ++since_clock >= 16) {
            now = mono_ns();
            S.clock_stale = 0;
            since_clock = 0;
        }
        if (in.type == ORA_T_MSG) {
            ex = on_msg(&in, now);
            if (ex)
                break;
        } else {
            /* Anything else (CTRL above all) keeps its place: everything
             * that came before it is released first. */
            S.passed++;
            if (ora_batcher_flush(S.b, emit, S.w) < 0 || ora_writer_put_ref(S.w, &in) != 0) {
                ex = ORA_EX_IOERR;
                break;
            }
        }
        uint64_t dl;
        if (ora_batcher_next_deadline(S.b, &dl)) {
            if (dl <= now && ora_batcher_expire(S.b, now, emit, S.w) < 0) {
                ex = ORA_EX_IOERR;
                break;
            }
        }
        if (ora_writer_error(S.w)) {
            ex = ORA_EX_IOERR;
            break;
        }
    }

    if (ex == ORA_EX_OK || ex == ORA_EX_DATAERR || ex == ORA_EX_SOFTWARE) {
        /* release what is held, even when stopping on bad data */
        if (ora_batcher_flush(S.b, emit, S.w) < 0 || ora_writer_flush(S.w) != 0)
            ex = ORA_EX_IOERR;
    }
    clistage_io io = {.rd = S.rd, .w = S.w, .in_fd = S.in_fd, .out_fd = out_fd, .in_path = a.in,
                      .m = S.m, .metrics_path = a.metrics};
    ex = clistage_end(&io, ex, term);
    ora_batcher_free(S.b);
    return ex;
}
