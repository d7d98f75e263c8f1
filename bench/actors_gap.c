/* actors_gap: reads a record stream (ora-actors' output) from stdin and
 * reports the largest gap between the arrivals of two OUT records once the
 * first OUT record of flow realtime has arrived, i.e. the stall a
 * downstream reader sees while the stream is busy (during checkpoints
 * too). Arrival = when the read that brought the record returned.
 *
 * usage: actors_gap < records
 *        prints "max_gap_ms N records M checkpoints K p999_ms P" (P: 99.9th
 *        percentile of the gaps between chunks of outputs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ora.h"
#include "record.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    ora_reader *r = ora_reader_new(0, ORA_REC_MAX_DEFAULT);
    double arrival = cli_now(), last_out = 0, max = 0;
    size_t ng = 0, capg = 1 << 16;
    double *gaps = malloc(capg * sizeof *gaps);
    long recs = 0, ckpts = 0;
    int live = 0;
    ora_rec rec;
    int rc;
    for (;;) {
        if (!ora_reader_buffered(r))
            arrival = -1; /* the next record needs a read: time it when it comes */
        rc = ora_reader_next(r, &rec);
        if (rc == ORA_RD_EOF)
            break;
        if (arrival < 0)
            arrival = cli_now();
        if (rc != ORA_RD_RECORD)
            continue;
        recs++;
        if (rec.type == ORA_T_CTRL && rec.kind == ORA_C_CHECKPOINT && live)
            ckpts++;
        if (rec.type != ORA_T_OUT)
            continue; /* the gap between outputs (not the final checkpoint at EOF) */
        if (!live && rec.flow == ORA_FLOW_REALTIME) {
            live = 1;
            last_out = arrival;
            continue;
        }
        if (live && arrival != last_out) {
            double g = arrival - last_out;
            if (g > max)
                max = g;
            if (ng == capg)
                gaps = realloc(gaps, (capg *= 2) * sizeof *gaps);
            gaps[ng++] = g;
            last_out = arrival;
        }
    }
    qsort(gaps, ng, sizeof *gaps, cmp);
    double p999 = ng ? gaps[(size_t)((double)(ng - 1) * 0.999)] : 0;
    printf("max_gap_ms %.1f records %ld checkpoints %ld p999_ms %.1f\n", max * 1000, recs, ckpts, p999 * 1000);
    free(gaps);
    ora_reader_free(r);
    return 0;
}
