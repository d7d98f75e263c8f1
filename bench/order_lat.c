/* order_lat: latency that a stage adds to each message.
 *
 *   order_lat feed RATE SECONDS < msgs.jsonl > records
 *       writes one MSG record per JSON line (cycling through them) at RATE
 *       messages per second for SECONDS, each written and flushed on its
 *       own, with recv_ns = the wall clock when it is written.
 *   order_lat sink < records
 *       reads records; for every MSG, latency = wall clock on arrival -
 *       recv_ns. Prints "count p50_ms p90_ms p99_ms max_ms".
 *
 *   order_lat feed 2000 5 < m.jsonl | ora-order | order_lat sink
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "record.h"

static int feed(double rate, double secs)
{
    ora_buf all = ORA_BUF_INIT;
    size_t *starts = NULL, n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            len--;
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 1024;
            starts = realloc(starts, cap * sizeof *starts);
            if (!starts)
                return 70;
        }
        starts[n++] = all.len;
        if (ora_buf_append(&all, line, (size_t)len) != 0)
            return 70;
    }
    free(line);
    if (n == 0) {
        fputs("order_lat: no input lines\n", stderr);
        return 65;
    }
    starts[n] = all.len;
    ora_writer *w = ora_writer_new(1);
    uint64_t total = (uint64_t)(rate * secs);
    double t0 = cli_now();
    for (uint64_t i = 0; i < total; i++) {
        double wait = t0 + (double)i / rate - cli_now(); /* seconds until message i is due */
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        size_t k = i % n;
        ora_rec r;
        ora_rec_init(&r, ORA_T_MSG);
        r.payload = all.p + starts[k];
        r.len = (uint32_t)(starts[k + 1] - starts[k]);
        r.recv_ns = cli_wall_ns();
        if (ora_writer_put(w, &r) != 0 || ora_writer_flush(w) != 0) {
            fprintf(stderr, "order_lat: unable to write: %s\n", strerror(errno));
            return 74;
        }
    }
    ora_writer_free(w);
    ora_buf_free(&all);
    free(starts);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int sink(void)
{
    ora_reader *rd = ora_reader_new(0, ORA_REC_MAX_DEFAULT);
    uint64_t *lat = NULL;
    size_t n = 0, cap = 0;
    ora_rec r;
    int rc;
    while ((rc = ora_reader_next(rd, &r)) != ORA_RD_EOF) {
        if (rc != ORA_RD_RECORD) {
            if (rc == ORA_RD_ERROR)
                return 74;
            continue;
        }
        if (r.type != ORA_T_MSG || !r.recv_ns)
            continue;
        uint64_t now = cli_wall_ns();
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            lat = realloc(lat, cap * sizeof *lat);
            if (!lat)
                return 70;
        }
        lat[n++] = now > r.recv_ns ? now - r.recv_ns : 0;
    }
    ora_reader_free(rd);
    if (n == 0) {
        puts("0 0 0 0 0");
        return 0;
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
#define PCT(p) ((double)lat[(size_t)((double)(n - 1) * (p))] / 1e6)
    printf("%zu %.2f %.2f %.2f %.2f\n", n, PCT(0.50), PCT(0.90), PCT(0.99), (double)lat[n - 1] / 1e6);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    if (argc == 4 && strcmp(argv[1], "feed") == 0)
        return feed(atof(argv[2]), atof(argv[3]));
    if (argc == 2 && strcmp(argv[1], "sink") == 0)
        return sink();
    fputs("usage: order_lat feed RATE SECONDS < jsonl | order_lat sink\n", stderr);
    return 64;
}
