/* Unit test of lib/batcher.c against a simple model: random adds, time
 * steps and flushes; checks size/time/flush release rules, offset order
 * within every batch, nothing lost or duplicated, accounting, and that a
 * failing emit still frees everything. Exits 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batcher.h"

#include "unit.h"

#define NMAX 200000
static unsigned char seen[NMAX];

typedef struct ctx {
    uint64_t count;
    /* current batch being observed */
    int have_last;
    uint64_t last_actor;
    uint8_t last_type;
    int64_t last_off;
    int fail_after;      /* emit fails after this many calls (-1 never) */
} ctx;

static int emit(void *p, const ora_rec *r)
{
    ctx *c = p;
    if (c->fail_after >= 0 && c->count >= (uint64_t)c->fail_after)
        return -1;
    c->count++;
    /* the payload is "<offset>" as text, checks the copy */
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)r->offset);
    CHECK((uint32_t)n == r->len && memcmp(buf, r->payload, n) == 0);
    if (r->offset >= 0 && r->offset < NMAX) {
        CHECK(!seen[r->offset]);
        seen[r->offset] = 1;
    }
    /* within a run of the same actor, offsets ascend */
    if (c->have_last && c->last_actor == r->actor_id && c->last_type == r->actor_type)
        CHECK(r->offset > c->last_off);
    c->have_last = 1;
    c->last_actor = r->actor_id;
    c->last_type = r->actor_type;
    c->last_off = r->offset;
    return 0;
}

static void mkrec(ora_rec *r, char *buf, int64_t off, uint8_t type, uint64_t id)
{
    memset(r, 0, sizeof *r);
    r->type = ORA_T_MSG;
    r->offset = off;
    r->actor_type = type;
    r->actor_id = id;
    r->len = (uint32_t)sprintf(buf, "%lld", (long long)off);
    r->payload = (const uint8_t *)buf;
}

/* A new batcher of batches of size messages or ms milliseconds, observed by
 * c from scratch; emit fails after fail_after calls (-1: never). */
static ora_batcher *start(uint32_t size, uint64_t ms, ctx *c, int fail_after)
{
    memset(seen, 0, sizeof seen);
    *c = (ctx){.fail_after = fail_after};
    return ora_batcher_new(size, ms);
}

/* Adds the message of offset off for actor (type, id) at time now. */
static int add(ora_batcher *b, ctx *c, int64_t off, uint8_t type, uint64_t id, uint64_t now)
{
    char buf[32];
    ora_rec r;
    mkrec(&r, buf, off, type, id);
    return ora_batcher_add(b, &r, now, emit, c);
}

static void test_size_and_order(void)
{
    ctx c;
    ora_batcher *b = start(4, 1000, &c, -1);
    int64_t offs[] = {13, 11, 12, 10};
    for (int i = 0; i < 3; i++) {
        CHECK(add(b, &c, offs[i], ORA_ACTOR_EVENT, 7, 0) == 0);
        CHECK(c.count == 0);
    }
    /* same id, other type: a different actor */
    CHECK(add(b, &c, 20, ORA_ACTOR_BETOFFER, 7, 0) == 0);
    CHECK(ora_batcher_stats_get(b)->pending_actors == 2);
    CHECK(add(b, &c, offs[3], ORA_ACTOR_EVENT, 7, 0) == 0);
    CHECK(c.count == 4);                       /* full batch, sorted (emit checks) */
    CHECK(ora_batcher_stats_get(b)->batches_size == 1);
    CHECK(ora_batcher_stats_get(b)->reordered == 1);
    /* released 10 11 12 13; 10 arrived last, so 11, 12 and 13 come out
     * after a message of later arrival */
    CHECK(ora_batcher_stats_get(b)->reordered_msgs == 3);
    uint64_t d;
    CHECK(ora_batcher_next_deadline(b, &d) == 1 && d == 1000);
    CHECK(ora_batcher_expire(b, 999, emit, &c) == 0 && c.count == 4);
    CHECK(ora_batcher_expire(b, 1000, emit, &c) == 1 && c.count == 5);
    CHECK(ora_batcher_stats_get(b)->batches_time == 1);
    CHECK(ora_batcher_next_deadline(b, &d) == 0);
    CHECK(ora_batcher_stats_get(b)->pending_msgs == 0);
    CHECK(ora_batcher_stats_get(b)->pending_bytes == 0);
    ora_batcher_free(b);
}

/* Deadline is from the first message; later messages do not extend it;
 * a clock going backwards is clamped. */
static void test_deadline_first_message(void)
{
    ctx c;
    ora_batcher *b = start(100, 50, &c, -1);
    add(b, &c, 2, ORA_ACTOR_EVENT, 1, 100);
    add(b, &c, 1, ORA_ACTOR_EVENT, 1, 140);
    add(b, &c, 3, ORA_ACTOR_EVENT, 2, 90);     /* clamped to 140: deadline 190 */
    CHECK(ora_batcher_expire(b, 149, emit, &c) == 0);
    CHECK(ora_batcher_expire(b, 150, emit, &c) == 1 && c.count == 2);
    CHECK(ora_batcher_expire(b, 189, emit, &c) == 0);
    CHECK(ora_batcher_expire(b, 190, emit, &c) == 1 && c.count == 3);
    ora_batcher_free(b);
}

/* Random stream over many actors, shuffled within small windows. */
static void test_random(unsigned seed, uint32_t bsize, int nactors, int n)
{
    srand(seed);
    ctx c;
    ora_batcher *b = start(bsize, 100, &c, -1);
    uint64_t *actor_of = malloc(sizeof *actor_of * n);
    for (int i = 0; i < n; i++)
        actor_of[i] = (uint64_t)(rand() % nactors) * 7919u + 1;
    int *order = malloc(sizeof *order * n);
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 0; i + 8 <= n; i += 8)          /* shuffle within windows of 8 */
        for (int j = 7; j > 0; j--) {
            int k = rand() % (j + 1), t = order[i + j];
            order[i + j] = order[i + k];
            order[i + k] = t;
        }
    uint64_t now = 0;
    for (int i = 0; i < n; i++) {
        int off = order[i];
        /* the emit check of ascending offsets is per consecutive run; a batch
         * boundary between two batches of one actor resets it */
        c.have_last = 0;
        CHECK(add(b, &c, off, (uint8_t)(1 + actor_of[off] % 2), actor_of[off], now) == 0);
        c.have_last = 0;
        if (rand() % 16 == 0) {
            now += rand() % 60;
            CHECK(ora_batcher_expire(b, now, emit, &c) >= 0);
        }
        const ora_batcher_stats *st = ora_batcher_stats_get(b);
        CHECK(st->pending_msgs + st->released == st->added);
    }
    c.have_last = 0;
    CHECK(ora_batcher_flush(b, emit, &c) >= 0);
    CHECK(c.count == (uint64_t)n);
    for (int i = 0; i < n; i++)
        CHECK(seen[i]);
    const ora_batcher_stats *st = ora_batcher_stats_get(b);
    CHECK(st->pending_msgs == 0 && st->pending_actors == 0 && st->pending_bytes == 0);
    CHECK(st->batches_size + st->batches_time + st->batches_flush > 0);
    free(actor_of);
    free(order);
    ora_batcher_free(b);
}

/* A failing emit: the call reports -1 and memory is freed (ASan checks). */
static void test_emit_failure(void)
{
    ctx c;
    ora_batcher *b = start(1000, 10, &c, 3);
    for (int i = 0; i < 100; i++)
        CHECK(add(b, &c, i, ORA_ACTOR_EVENT, (uint64_t)(i % 5), 0) == 0);
    CHECK(ora_batcher_flush(b, emit, &c) == -1);
    CHECK(ora_batcher_stats_get(b)->pending_msgs == 0);
    ora_batcher_free(b);
    /* and pending messages are freed by ora_batcher_free */
    b = ora_batcher_new(1000, 10);
    for (int i = 0; i < 100; i++)
        add(b, &c, i, ORA_ACTOR_EVENT, (uint64_t)i, 0);
    ora_batcher_free(b);
    CHECK(ora_batcher_new(0, 10) == NULL);
}

int main(void)
{
    test_size_and_order();
    test_deadline_first_message();
    test_random(1, 4, 50, 20000);
    test_random(2, 100, 100000, NMAX);     /* many live actors: table grows and shrinks */
    test_random(3, 1, 10, 1000);
    test_random(4, 1000000, 3, 5000);
    test_emit_failure();
    return unit_summary("batcher");
}
