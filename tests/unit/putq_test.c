/* putq_test: kinesis-put's delivery engine (lib/putq.h) without curl.
 *
 * A randomized model run, many seeds: records of a few keys are added with
 * checkpoints between them; batches are taken while up to eight "requests"
 * are in flight; each request is answered in random order, every entry
 * acked, failed or requeued at random (whole requests failing too). After
 * every step the invariants are checked:
 *  - per key, records are acked in the order they were added, and no two
 *    records of one key are ever taken at once;
 *  - a checkpoint handed out by putq_committable() has every record added
 *    before it acked, and checkpoints come out in order, each once;
 *  - attempts count the failed tries; nothing is lost: at the end every
 *    record was acked exactly once and the last checkpoint came out.
 * Plus the batch limits, retries before new records, and linger.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "putq.h"

#define UNIT_MAX_FAILS 20
#include "unit.h"

static uint64_t rs;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 32);
}

#define NREC 3000
#define NKEY 13
#define NREQ 8

typedef struct rec {
    int key, acked, taken;
    uint32_t fails;
} rec;

static rec R[NREC];

static int idx_of(const putq_entry *e)
{
    int i;
    memcpy(&i, e->buf + e->klen, sizeof i);
    return i;
}

static int run(uint64_t seed, int verbose)
{
    rs = seed * 0x9e3779b97f4a7c15ull + 1;
    putq_opts o = {1 + rnd() % 40, 1 + rnd() % 2000, (rnd() % 3) * 0.01, 0.01, 0.5, seed + 1};
    putq *q = putq_new(&o);
    CHECK(q != NULL);
    memset(R, 0, sizeof R);
    int last_acked[NKEY];
    int key_busy[NKEY];
    for (int k = 0; k < NKEY; k++)
        last_acked[k] = -1, key_busy[k] = 0;
    putq_entry *inflight[NREQ][64];
    size_t nin[NREQ] = {0};
    int added = 0, acked = 0;
    int64_t last_w = -1, last_ck_placed = -1;
    double now = 0;
    double pfail = (rnd() % 60) / 100.0; /* 0 .. 0.59 of entries fail */
    uint64_t steps = 0;
    int fresh_idx = 0; /* records with index < fresh_idx were added */

    while (acked < NREC && steps < 2000000) {
        steps++;
        now += (rnd() % 10) * 0.001;
        /* add a few records, sometimes a checkpoint after them */
        int nadd = rnd() % 6;
        for (int a = 0; a < nadd && added < NREC; a++) {
            int i = added++;
            R[i].key = rnd() % 7 == 0 ? 0 : (int)(rnd() % NKEY); /* key 0 is hot */
            char key[8];
            int kl = snprintf(key, sizeof key, "k%d", R[i].key);
            uint8_t data[16];
            memcpy(data, &i, sizeof i);
            memset(data + sizeof i, 'x', sizeof data - sizeof i);
            CHECK(putq_add(q, (uint8_t *)key, (uint16_t)kl, data, (uint32_t)(rnd() % sizeof data < sizeof i ? sizeof i : sizeof data), i, 0, now) == 0);
            fresh_idx = added;
            if (rnd() % 5 == 0) {
                CHECK(putq_checkpoint(q, i) == 0);
                last_ck_placed = i;
            }
        }
        /* take into free requests */
        for (int r = 0; r < NREQ; r++) {
            if (nin[r] || rnd() % 3 == 0)
                continue;
            int flush = added == NREC;
            nin[r] = putq_take(q, now, flush, inflight[r], 64);
            CHECK(nin[r] <= o.max_records);
            uint64_t bytes = 0;
            for (size_t j = 0; j < nin[r]; j++) {
                putq_entry *e = inflight[r][j];
                int i = idx_of(e);
                CHECK(i >= 0 && i < fresh_idx);
                CHECK(!R[i].acked);
                CHECK(!R[i].taken);
                /* one record of a key at a time, and the next one in order */
                CHECK(!key_busy[R[i].key]);
                key_busy[R[i].key] = 1;
                R[i].taken = 1;
                CHECK(e->attempts == R[i].fails);
                bytes += (uint64_t)e->klen + e->dlen;
            }
            CHECK(nin[r] <= 1 || bytes <= o.max_bytes);
        }
        /* answer one request, entries in random fates */
        int r = (int)(rnd() % NREQ);
        if (nin[r]) {
            int whole = rnd() % 10 == 0; /* the whole request failed */
            for (size_t j = 0; j < nin[r]; j++) {
                putq_entry *e = inflight[r][j];
                int i = idx_of(e);
                R[i].taken = 0;
                key_busy[R[i].key] = 0;
                double u = (rnd() % 1000) / 1000.0;
                if (whole || u < pfail) {
                    R[i].fails++;
                    CHECK(putq_fail(q, e, now) == (long)R[i].fails);
                } else if (u < pfail + 0.03) {
                    putq_requeue(q, e, now);
                } else {
                    /* per key, acks in input order */
                    CHECK(i > last_acked[R[i].key]);
                    for (int p = last_acked[R[i].key] + 1; p < i; p++)
                        CHECK(R[p].key != R[i].key || R[p].acked);
                    last_acked[R[i].key] = i;
                    R[i].acked = 1;
                    acked++;
                    putq_ack(q, e, now);
                }
            }
            nin[r] = 0;
        }
        /* committable: never ahead of acks */
        int64_t w;
        while (putq_committable(q, &w)) {
            CHECK(w > last_w);
            CHECK(w <= last_ck_placed);
            for (int64_t p = 0; p <= w; p++)
                if (!R[p].acked) {
                    CHECK(R[p].acked);
                    break;
                }
            last_w = w;
        }
        CHECK(putq_pending(q) == (uint64_t)(added - acked));
    }
    CHECK(acked == NREC);
    if (last_ck_placed >= 0)
        CHECK(last_w == last_ck_placed);
    CHECK(putq_pending(q) == 0 && putq_first(q) == NULL);
    if (verbose)
        printf("seed %" PRIu64 ": %" PRIu64 " steps, fail rate %.2f, batch %u/%" PRIu64 "B\n", seed, steps, pfail,
               o.max_records, o.max_bytes);
    putq_free(q);
    return 0;
}

static void deterministic(void)
{
    putq_opts o = {3, 1000, 0.05, 0.1, 0.4, 7};
    putq *q = putq_new(&o);
    putq_entry *b[8];
    /* linger: one record waits until 50 ms passed, or until flush */
    CHECK(putq_add(q, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1, 1, 0, 10.0) == 0);
    CHECK(!putq_sendable(q, 10.01, 0));
    CHECK(putq_wait(q, 10.01, 0) > 0.039 && putq_wait(q, 10.01, 0) < 0.041);
    CHECK(putq_sendable(q, 10.01, 1));
    CHECK(putq_sendable(q, 10.05, 0));
    /* a full batch goes at once; later records of a busy key wait */
    CHECK(putq_add(q, (const uint8_t *)"b", 1, (const uint8_t *)"2", 1, 2, 0, 10.0) == 0);
    CHECK(putq_add(q, (const uint8_t *)"a", 1, (const uint8_t *)"3", 1, 3, 0, 10.0) == 0);
    CHECK(putq_add(q, (const uint8_t *)"c", 1, (const uint8_t *)"4", 1, 4, 0, 10.0) == 0);
    CHECK(putq_checkpoint(q, 4) == 0);
    CHECK(putq_sendable(q, 10.0, 0));
    size_t n = putq_take(q, 10.0, 0, b, 8);
    CHECK(n == 3 && b[0]->offset == 1 && b[1]->offset == 2 && b[2]->offset == 4);
    int64_t w = -1;
    CHECK(!putq_committable(q, &w));
    /* the first record fails: its key's next stays held; the others acked */
    CHECK(putq_fail(q, b[0], 10.0) == 1);
    CHECK(b[0]->due >= 10.0 && b[0]->due <= 10.1);
    putq_ack(q, b[1], 10.0);
    putq_ack(q, b[2], 10.0);
    CHECK(!putq_committable(q, &w));
    CHECK(putq_take(q, 9.0, 1, b, 8) == 0); /* before its due time: nothing (3 waits behind 1) */
    n = putq_take(q, 10.2, 1, b, 8);
    CHECK(n == 1 && b[0]->offset == 1 && b[0]->attempts == 1);
    /* the second failure waits up to twice as long */
    CHECK(putq_fail(q, b[0], 10.2) == 2);
    CHECK(b[0]->due <= 10.2 + 0.2 + 1e-9);
    n = putq_take(q, 11.0, 1, b, 8);
    CHECK(n == 1 && b[0]->offset == 1);
    putq_ack(q, b[0], 11.0);
    /* now record 3 (key a) is released, as a retry (no linger) */
    CHECK(putq_sendable(q, 11.0, 0));
    n = putq_take(q, 11.0, 0, b, 8);
    CHECK(n == 1 && b[0]->offset == 3);
    putq_requeue(q, b[0], 11.0);
    CHECK(b[0]->attempts == 0);
    n = putq_take(q, 11.0, 0, b, 8);
    CHECK(n == 1 && b[0]->offset == 3);
    putq_ack(q, b[0], 11.0);
    CHECK(putq_committable(q, &w) && w == 4);
    CHECK(!putq_committable(q, &w));
    /* a checkpoint with nothing before it unacked is committable at once */
    CHECK(putq_checkpoint(q, 9) == 0);
    CHECK(putq_committable(q, &w) && w == 9);
    /* batch bytes: a record bigger than the limit goes alone */
    uint8_t big[1500];
    memset(big, 'x', sizeof big);
    CHECK(putq_add(q, (const uint8_t *)"d", 1, big, sizeof big, 10, 0, 12.0) == 0);
    CHECK(putq_add(q, (const uint8_t *)"e", 1, big, 10, 11, 0, 12.0) == 0);
    n = putq_take(q, 12.0, 1, b, 8);
    CHECK(n == 1 && b[0]->offset == 10);
    putq_entry *keep = b[0];
    /* retries come before new records */
    CHECK(putq_fail(q, keep, 12.0) == 1);
    n = putq_take(q, 13.0, 1, b, 8);
    CHECK(n == 1 && b[0] == keep); /* 1501 + 11 > 1000: the new one waits */
    n = putq_take(q, 13.0, 1, b + 1, 7);
    CHECK(n == 1 && b[1]->offset == 11);
    CHECK(putq_first(q) == keep && putq_next(keep) == b[1]);
    putq_free(q); /* frees held entries */

    /* bad options */
    putq_opts bad = {0, 1000, 0, 0.1, 1, 0};
    errno = 0;
    CHECK(putq_new(&bad) == NULL && errno == EINVAL);
    putq_opts bad2 = {1, 1000, 0, 2, 1, 0};
    CHECK(putq_new(&bad2) == NULL);
}

int main(int argc, char **argv)
{
    int seeds = argc > 1 ? atoi(argv[1]) : 200;
    deterministic();
    for (int s = 1; s <= seeds && unit_fails == 0; s++)
        run((uint64_t)s, s <= 3);
    printf("putq_test: %d seeds\n", seeds);
    return unit_summary("putq_test");
}
