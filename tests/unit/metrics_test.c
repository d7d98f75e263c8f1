/* metrics_test: Prometheus text exposition (lib/metrics.h). The text is
 * compared with expectations written by hand from the format's rules. */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#include "unit.h"

static double unknown(void *ctx) { (void)ctx; return NAN; }
static double half(void *ctx) { return *(double *)ctx / 2; }

static int has(const ora_buf *b, const char *line)
{
    char *t = strndup((const char *)b->p, b->len);
    int ok = strstr(t, line) != NULL;
    if (!ok)
        fprintf(stderr, "missing: %s\n", line);
    free(t);
    return ok;
}

int main(void)
{
    cli_init("metrics_test");
    ora_metrics *m = ora_metrics_new("order");
    CHECK(m);
    uint64_t msgs = 42, ping = 3, other = 7;
    int64_t w = -1;
    double lag = 0.25, base = 9;
    CHECK(ora_metrics_u64(m, "ora_order_messages_total", ORA_COUNTER, "Messages by kind.", "kind=\"data\"", &msgs) == 0);
    CHECK(ora_metrics_i64(m, "ora_watermark", ORA_GAUGE, "Low watermark.", NULL, &w) == 0);
    CHECK(ora_metrics_u64(m, "ora_order_messages_total", ORA_COUNTER, "Messages by kind.", "kind=\"ping\"", &ping) == 0);
    /* one name, two types: refused */
    CHECK(ora_metrics_u64(m, "ora_order_messages_total", ORA_GAUGE, "x", NULL, &other) == -1);
    CHECK(ora_metrics_f64(m, "ora_lag_seconds", ORA_GAUGE, "Lag.", NULL, &lag) == 0);
    CHECK(ora_metrics_fn(m, "ora_unknown_seconds", ORA_GAUGE, "Not known yet.", NULL, unknown, NULL) == 0);
    CHECK(ora_metrics_fn(m, "ora_half", ORA_GAUGE, "Half of nine.", NULL, half, &base) == 0);
    ora_hist h;
    static const double le[] = {0.1, 1};
    CHECK(ora_hist_init(&h, le, 2) == 0);
    ora_hist_observe(&h, 0.05);
    ora_hist_observe(&h, 0.1);  /* le is inclusive */
    ora_hist_observe(&h, 0.5);
    ora_hist_observe(&h, 7);
    CHECK(ora_metrics_hist(m, "ora_req_seconds", "Request time.", "op=\"put\"", &h) == 0);

    ora_buf b = ORA_BUF_INIT;
    CHECK(ora_metrics_render(m, &b) == 0);
    CHECK(has(&b, "# TYPE ora_build_info gauge\nora_build_info{stage=\"order\",version=\""));
    CHECK(has(&b, "# HELP ora_order_messages_total Messages by kind.\n# TYPE ora_order_messages_total counter\n"
                  "ora_order_messages_total{stage=\"order\",kind=\"data\"} 42\n"
                  "ora_order_messages_total{stage=\"order\",kind=\"ping\"} 3\n"
                  "# HELP ora_watermark Low watermark.\n"));
    CHECK(has(&b, "ora_watermark{stage=\"order\"} -1\n"));
    CHECK(has(&b, "ora_lag_seconds{stage=\"order\"} 0.25\n"));
    CHECK(has(&b, "ora_half{stage=\"order\"} 4.5\n"));
    /* an unknown value leaves its series out, not its HELP */
    CHECK(has(&b, "# TYPE ora_unknown_seconds gauge\n# HELP ora_half"));
    CHECK(has(&b, "# TYPE ora_req_seconds histogram\n"
                  "ora_req_seconds_bucket{stage=\"order\",op=\"put\",le=\"0.1\"} 2\n"
                  "ora_req_seconds_bucket{stage=\"order\",op=\"put\",le=\"1\"} 3\n"
                  "ora_req_seconds_bucket{stage=\"order\",op=\"put\",le=\"+Inf\"} 4\n"
                  "ora_req_seconds_sum{stage=\"order\",op=\"put\"} 7.65\n"
                  "ora_req_seconds_count{stage=\"order\",op=\"put\"} 4\n"));
    /* the refused registration left nothing behind */
    char *rendered = strndup((const char *)b.p, b.len);
    CHECK(rendered && !strstr(rendered, "} 7\n"));
    free(rendered);

    /* written atomically: no temporary file stays, the content is the render */
    char dir[] = "/tmp/metrics_test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/order.prom", dir);
    ora_metrics_schedule(m, path, 3600);
    CHECK(ora_metrics_tick(m, cli_now()) == 0);  /* interval not passed */
    CHECK(access(path, F_OK) != 0);
    CHECK(ora_metrics_tick(m, cli_now() + 3601) == 1);
    CHECK(access(path, F_OK) == 0);
    msgs = 43;
    CHECK(ora_metrics_flush(m) == 0);
    FILE *f = fopen(path, "r");
    char text[4096] = {0};
    CHECK(f && fread(text, 1, sizeof text - 1, f) > 0);
    if (f)
        fclose(f);
    CHECK(strstr(text, "kind=\"data\"} 43\n") != NULL);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(tmp, F_OK) != 0);
    /* a write into a missing directory fails with errno, nothing crashes */
    CHECK(ora_metrics_write(m, "/nonexistent-dir/x.prom") == -1);
    unlink(path);
    rmdir(dir);

    ora_buf_free(&b);
    ora_hist_free(&h);
    ora_metrics_free(m);
    return unit_summary("metrics_test");
}
