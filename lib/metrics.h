/* metrics.h: a stage's metrics in the Prometheus text exposition format
 * (version 0.0.4), written to a file the way node_exporter's textfile
 * collector expects: a temporary file in the same directory, renamed over
 * the old one, so a scraper never reads half a file.
 *
 * The registry does not own the numbers. A tool registers pointers to the
 * counters it already keeps (or a function for a computed gauge), so the hot
 * path costs nothing; values are read only when the file is rendered. Reads
 * are relaxed atomic loads, so a counter kept by another thread is fine.
 *
 * Every series gets the label stage="<stage>"; a family's HELP and TYPE
 * lines are written once, before its first series, in registration order
 * of families. Names follow Prometheus conventions: the caller passes the
 * full name ("ora_deframe_messages_total"); labels is NULL or the text
 * between the braces without the stage ("reason=\"ping\"").
 */
#ifndef ORA_METRICS_H
#define ORA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A histogram with fixed upper bounds (le), ascending; +Inf is implicit.
 * Observations are not atomic: observe from one thread only. */
typedef struct ora_hist {
    const double *le;
    size_t n;
    uint64_t *bucket;   /* n + 1 counts, not cumulative; the last is +Inf */
    uint64_t count;
    double sum;
} ora_hist;

/* 0, or -1 when out of memory. le must outlive h. */
int ora_hist_init(ora_hist *h, const double *le, size_t n);
void ora_hist_free(ora_hist *h);
void ora_hist_observe(ora_hist *h, double v);

/* Bucket bounds in seconds for latencies from 1 ms to 60 s. */
extern const double ora_hist_seconds[];
extern const size_t ora_hist_seconds_n;

typedef struct ora_metrics ora_metrics;

enum ora_metric_type { ORA_COUNTER, ORA_GAUGE };

/* A registry for stage (copied). Adds ora_build_info{version},
 * ora_start_time_seconds and ora_process_id. NULL when out of memory. */
ora_metrics *ora_metrics_new(const char *stage);
void ora_metrics_free(ora_metrics *m);

/* Registers one series. Strings must outlive m (they are usually literals).
 * Each returns 0, or -1 when out of memory or when name was registered
 * before with another type. */
int ora_metrics_u64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const uint64_t *value);
int ora_metrics_i64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const int64_t *value);
int ora_metrics_f64(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                    const double *value);
/* A value computed at render time (seconds since the last ping, say). fn
 * returns NaN when the value is unknown: the series is then left out. */
int ora_metrics_fn(ora_metrics *m, const char *name, int type, const char *help, const char *labels,
                   double (*fn)(void *ctx), void *ctx);
int ora_metrics_hist(ora_metrics *m, const char *name, const char *help, const char *labels,
                     const ora_hist *h);

/* Appends the whole exposition to out. 0, or -1 when out of memory. */
int ora_metrics_render(const ora_metrics *m, ora_buf *out);

/* Renders and writes path atomically (path.tmp.PID, then rename), mode
 * 0644. 0, or -1 with errno (the old file is then untouched). */
int ora_metrics_write(const ora_metrics *m, const char *path);

/* Periodic writing: path and interval (seconds > 0) are set once; tick()
 * is cheap and writes when interval has passed since the last write (now
 * is cli_now()). Returns 0, 1 when it wrote, or -1 with errno (the caller
 * warns once and goes on: metrics never stop a stage). */
void ora_metrics_schedule(ora_metrics *m, const char *path, double interval);
int ora_metrics_tick(ora_metrics *m, double now);
/* Writes now when a path is set (at exit). 0, or -1 with errno. */
int ora_metrics_flush(ora_metrics *m);

#endif
