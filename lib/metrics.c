/* metrics.c: Prometheus text exposition of registered values (metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const double ora_hist_seconds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const size_t ora_hist_seconds_n = sizeof ora_hist_seconds / sizeof ora_hist_seconds[0];

enum { V_U64, V_I64, V_F64, V_FN, V_HIST };

typedef struct series {
    const char *name, *help, *labels;
    int type; /* ORA_COUNTER, ORA_GAUGE, or -1 for a histogram */
    int kind; /* V_* */
    const void *p;
    double (*fn)(void *);
    void *ctx;
} series;

struct ora_metrics {
    char stage[64];
    ora_buf sbuf;           /* the series[], appended in registration order */
    const series *s;        /* sbuf.p */
    size_t n;
    double start;           /* wall-clock seconds */
    int64_t pid;
    char *path, *tmp;
    double interval, last;  /* monotonic seconds */
};

int ora_hist_init(ora_hist *h, const double *le, size_t n)
{
    memset(h, 0, sizeof *h);
    if (!(h->bucket = calloc(n + 1, sizeof *h->bucket)))
        return -1;
    h->le = le;
    h->n = n;
    return 0;
}

void ora_hist_free(ora_hist *h)
{
    free(h->bucket);
    h->bucket = NULL;
}

void ora_hist_observe(ora_hist *h, double v)
{
    /* the first bound v does not exceed (n: +Inf), by bisection: a stale
     * record's lag passes every bound, and kinesis-put observes each record */
    size_t lo = 0, hi = h->n;
    if (hi && v > h->le[hi - 1])
        lo = hi; /* +Inf: no bound to look at */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v > h->le[mid])
            lo = mid + 1;
        else
            hi = mid;
    }
    h->bucket[lo]++;
    h->count++;
    h->sum += v;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

ora_metrics *ora_metrics_new(const char *stage)
{
    ora_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->stage, sizeof m->stage, "%s", stage);
    m->start = wall_now();
    m->pid = (int64_t)getpid();
    if (ora_metrics_f64(m, "ora_start_time_seconds", ORA_GAUGE, "Start time of the stage since the Unix epoch.",
                        NULL, &m->start) < 0 ||
        ora_metrics_i64(m, "ora_process_id", ORA_GAUGE, "Process id of the stage.", NULL, &m->pid) < 0) {
        ora_metrics_free(m);
        return NULL;
    }
    return m;
}

/* Stops writing on a schedule: forgets the file and its temporary name. */
static void unschedule(ora_metrics *m)
{
    free(m->path);
    free(m->tmp);
    m->path = m->tmp = NULL;
}

void ora_metrics_free(ora_metrics *m)
{
    if (!m)
        return;
    ora_buf_free(&m->sbuf);
    unschedule(m);
    free(m);
}

static int add(ora_metrics *m, series v)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->s[i].name, v.name) == 0 && m->s[i].type != v.type) {
            errno = EINVAL;
            return -1;
        }
    if (ora_buf_append(&m->sbuf, &v, sizeof v) < 0)
        return -1;
    m->s = (const series *)m->sbuf.p; /* malloc'd: aligned for any type */
    m->n++;
    return 0;
}

int ora_metrics_u64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const uint64_t *value)
{
    return add(m, (series){name, help, labels, type, V_U64, value, NULL, NULL});
}

int ora_metrics_i64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const int64_t *value)
{
    return add(m, (series){name, help, labels, type, V_I64, value, NULL, NULL});
}

int ora_metrics_f64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const double *value)
{
    return add(m, (series){name, help, labels, type, V_F64, value, NULL, NULL});
}

int ora_metrics_fn(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                   double (*fn)(void *ctx), void *ctx)
{
    return add(m, (series){name, help, labels, type, V_FN, NULL, fn, ctx});
}

int ora_metrics_hist(ora_metrics *m, const char *name, const char *help, const char *labels, const ora_hist *h)
{
    return add(m, (series){name, help, labels, -1, V_HIST, h, NULL, NULL});
}

/* The shortest text of v that reads back as v; integers without a point. */
static void fmt_num(char *t, size_t n, double v)
{
    if (isinf(v)) {
        snprintf(t, n, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(t, n, "%.0f", v);
        return;
    }
    for (int p = 15; p <= 17; p++) {
        snprintf(t, n, "%.*g", p, v);
        if (strtod(t, NULL) == v)
            return;
    }
}

static int put_num(ora_buf *b, double v)
{
    char t[40];
    fmt_num(t, sizeof t, v);
    return ora_buf_append(b, t, strlen(t));
}

static int put_labels(ora_buf *b, const ora_metrics *m, const char *labels, const char *le)
{
    if (ora_buf_printf(b, "{stage=\"%s\"", m->stage) < 0)
        return -1;
    if (labels && *labels && ora_buf_printf(b, ",%s", labels) < 0)
        return -1;
    if (le && ora_buf_printf(b, ",le=\"%s\"", le) < 0)
        return -1;
    return ora_buf_append(b, "} ", 2);
}

static int put_hist(ora_buf *b, const ora_metrics *m, const series *s)
{
    const ora_hist *h = s->p;
    uint64_t cum = 0;
    char le[32];
    for (size_t i = 0; i <= h->n; i++) {
        cum += h->bucket[i];
        if (i < h->n)
            fmt_num(le, sizeof le, h->le[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        if (ora_buf_printf(b, "%s_bucket", s->name) < 0 || put_labels(b, m, s->labels, le) < 0 ||
            ora_buf_printf(b, "%llu\n", (unsigned long long)cum) < 0)
            return -1;
    }
    if (ora_buf_printf(b, "%s_sum", s->name) < 0 || put_labels(b, m, s->labels, NULL) < 0 ||
        put_num(b, h->sum) < 0 || ora_buf_printf(b, "\n%s_count", s->name) < 0 ||
        put_labels(b, m, s->labels, NULL) < 0 || ora_buf_printf(b, "%llu\n", (unsigned long long)h->count) < 0)
        return -1;
    return 0;
}

static int put_series(ora_buf *b, const ora_metrics *m, const series *s)
{
    double v;
    switch (s->kind) {
    case V_HIST:
        return put_hist(b, m, s);
    case V_U64: {
        uint64_t u = __atomic_load_n((const uint64_t *)s->p, __ATOMIC_RELAXED);
        if (ora_buf_append(b, s->name, strlen(s->name)) < 0 || put_labels(b, m, s->labels, NULL) < 0)
            return -1;
        return ora_buf_printf(b, "%llu\n", (unsigned long long)u);
    }
    case V_I64: {
        int64_t i = __atomic_load_n((const int64_t *)s->p, __ATOMIC_RELAXED);
        if (ora_buf_append(b, s->name, strlen(s->name)) < 0 || put_labels(b, m, s->labels, NULL) < 0)
            return -1;
        return ora_buf_printf(b, "%lld\n", (long long)i);
    }
    case V_F64: v = *(const volatile double *)s->p; break;
    default: v = s->fn(s->ctx); break;
    }
    if (isnan(v))
        return 0;
    if (ora_buf_append(b, s->name, strlen(s->name)) < 0 || put_labels(b, m, s->labels, NULL) < 0 ||
        put_num(b, v) < 0)
        return -1;
    return ora_buf_append(b, "\n", 1);
}

int ora_metrics_render(const ora_metrics *m, ora_buf *out)
{
    static const char *const types[] = {"counter", "gauge"};
    if (ora_buf_printf(out, "# HELP ora_build_info The version of ora-pipeline this stage runs.\n"
                            "# TYPE ora_build_info gauge\n"
                            "ora_build_info{stage=\"%s\",version=\"%s\"} 1\n",
                       m->stage, ora_version) < 0)
        return -1;
    /* families in registration order; each family's series together */
    for (size_t i = 0; i < m->n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(m->s[j].name, m->s[i].name) == 0;
        if (seen)
            continue;
        const series *s = &m->s[i];
        if (ora_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                           s->type < 0 ? "histogram" : types[s->type]) < 0)
            return -1;
        for (size_t j = i; j < m->n; j++)
            if (strcmp(m->s[j].name, s->name) == 0 && put_series(out, m, &m->s[j]) < 0)
                return -1;
    }
    return 0;
}

static int write_to(const ora_metrics *m, const char *path, const char *tmp)
{
    ora_buf b = ORA_BUF_INIT;
    if (ora_metrics_render(m, &b) < 0) {
        ora_buf_free(&b);
        errno = ENOMEM;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    int rc = fd < 0 ? -1 : cli_write_all(fd, b.p, b.len);
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        e = errno;
    }
    if (rc < 0 && fd >= 0)
        unlink(tmp);
    ora_buf_free(&b);
    errno = e;
    return rc;
}

int ora_metrics_write(const ora_metrics *m, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return write_to(m, path, tmp);
}

void ora_metrics_schedule(ora_metrics *m, const char *path, double interval)
{
    unschedule(m);
    m->interval = interval;
    m->last = cli_now();
    if (!path)
        return;
    size_t n = strlen(path) + 32;
    m->path = strdup(path);
    m->tmp = malloc(n);
    if (!m->path || !m->tmp) {
        unschedule(m);
        return;
    }
    snprintf(m->tmp, n, "%s.tmp.%ld", path, (long)getpid());
}

int ora_metrics_tick(ora_metrics *m, double now)
{
    if (!m || !m->path || now - m->last < m->interval)
        return 0;
    m->last = now;
    return write_to(m, m->path, m->tmp) < 0 ? -1 : 1;
}

int ora_metrics_flush(ora_metrics *m)
{
    if (!m || !m->path)
        return 0;
    m->last = cli_now();
    return write_to(m, m->path, m->tmp);
}
