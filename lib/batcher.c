/* batcher.c: per-actor batching; see batcher.h. */
#include "batcher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One pending message: header fields, arrival number, payload copy. */
typedef struct bmsg {
    ora_rec rec;          /* rec.payload points at data */
    uint64_t seq;
    uint8_t data[];
} bmsg;

/* An actor with a pending batch. Linked in deadline order. */
typedef struct bactor {
    uint64_t id;
    uint8_t type;
    uint32_t n, cap;
    bmsg **msgs;          /* inl, or allocated when more are needed */
    bmsg *inl[4];
    uint64_t deadline;
    struct bactor *prev, *next;
} bactor;

/* A table slot keeps the key beside the pointer: probing touches no actor. */
typedef struct tslot {
    uint64_t id;
    uint64_t hash;        /* mix(id, type) */
    bactor *a;            /* NULL: empty */
} tslot;

struct ora_batcher {
    uint32_t batch_size;
    uint64_t timeout_ns;
    uint64_t last_now;
    uint64_t seq;
    tslot *tab;           /* open addressing, linear probing */
    size_t tab_cap;       /* power of two */
    size_t tab_n;
    bactor *head, *tail;  /* oldest deadline first */
    bactor *spare;        /* freed actors kept for reuse (linked by next) */
    size_t nspare;
    ora_batcher_stats st;
};

#define TAB_MIN 64
#define SPARE_MAX 1024    /* actors kept for reuse: bounded */

static uint64_t mix(uint64_t id, uint8_t type)
{
    uint64_t x = id ^ ((uint64_t)type << 56) ^ 0x9e3779b97f4a7c15ull;
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

ora_batcher *ora_batcher_new(uint32_t batch_size, uint64_t timeout_ns)
{
    if (batch_size == 0) {
        errno = EINVAL;
        return NULL;
    }
    ora_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->tab = calloc(TAB_MIN, sizeof *b->tab);
    if (!b->tab) {
        free(b);
        return NULL;
    }
    b->tab_cap = TAB_MIN;
    b->batch_size = batch_size;
    b->timeout_ns = timeout_ns;
    return b;
}

static void actor_free(bactor *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        free(a->msgs[i]);
    if (a->msgs != a->inl)
        free(a->msgs);
    free(a);
}

/* Frees a's messages and keeps a for reuse (or frees it). */
static void actor_recycle(ora_batcher *b, bactor *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        free(a->msgs[i]);
    if (a->msgs != a->inl)
        free(a->msgs);
    if (b->nspare >= SPARE_MAX) {
        free(a);
        return;
    }
    a->next = b->spare;
    b->spare = a;
    b->nspare++;
}

static bactor *actor_new(ora_batcher *b)
{
    bactor *a = b->spare;
    if (a) {
        b->spare = a->next;
        b->nspare--;
    } else if (!(a = malloc(sizeof *a))) {
        return NULL;
    }
    memset(a, 0, sizeof *a);
    a->msgs = a->inl;
    a->cap = 4;
    return a;
}

void ora_batcher_free(ora_batcher *b)
{
    if (!b)
        return;
    bactor *a = b->head;
    while (a) {
        bactor *nx = a->next;
        actor_free(a);
        a = nx;
    }
    while (b->spare) {
        bactor *nx = b->spare->next;
        free(b->spare);
        b->spare = nx;
    }
    free(b->tab);
    free(b);
}

/* Slot of actor (type, id), or of the empty slot where it would go. */
static size_t tab_find(const ora_batcher *b, uint64_t h, uint8_t type, uint64_t id)
{
    size_t mask = b->tab_cap - 1, i = (size_t)h & mask;
    for (;;) {
        const tslot *s = &b->tab[i];
        if (!s->a || (s->hash == h && s->id == id && s->a->type == type))
            return i;
        i = (i + 1) & mask;
    }
}

static int tab_resize(ora_batcher *b, size_t cap)
{
    tslot *nt = calloc(cap, sizeof *nt);
    if (!nt)
        return -1;
    tslot *old = b->tab;
    size_t oc = b->tab_cap;
    b->tab = nt;
    b->tab_cap = cap;
    for (size_t i = 0; i < oc; i++)
        if (old[i].a)
            b->tab[tab_find(b, old[i].hash, old[i].a->type, old[i].id)] = old[i];
    free(old);
    return 0;
}

/* Removes the entry at slot i (backward-shift deletion keeps probing sound). */
static void tab_remove_at(ora_batcher *b, size_t i)
{
    size_t mask = b->tab_cap - 1, j = i;
    b->tab[i].a = NULL;
    for (;;) {
        j = (j + 1) & mask;
        if (!b->tab[j].a)
            break;
        size_t home = (size_t)b->tab[j].hash & mask;
        /* move it back to i if its home is not cyclically within (i, j] */
        int within = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!within) {
            b->tab[i] = b->tab[j];
            b->tab[j].a = NULL;
            i = j;
        }
    }
    b->tab_n--;
}

static void list_unlink(ora_batcher *b, bactor *a)
{
    if (a->prev) a->prev->next = a->next; else b->head = a->next;
    if (a->next) a->next->prev = a->prev; else b->tail = a->prev;
    a->prev = a->next = NULL;
}

static int msg_before(const bmsg *x, const bmsg *y)
{
    return x->rec.offset < y->rec.offset || (x->rec.offset == y->rec.offset && x->seq < y->seq);
}

static int msg_cmp(const void *p, const void *q)
{
    const bmsg *x = *(bmsg *const *)p, *y = *(bmsg *const *)q;
    return msg_before(x, y) ? -1 : msg_before(y, x) ? 1 : 0;
}

/* Releases actor a: unlinks it, emits its messages by offset, frees it. */
static int release(ora_batcher *b, bactor *a, uint64_t *counter, ora_batch_emit emit, void *ctx)
{
    size_t slot = tab_find(b, mix(a->id, a->type), a->type, a->id);
    tab_remove_at(b, slot);
    list_unlink(b, a);

    uint32_t n = a->n;
    bmsg **m = a->msgs;
    int sorted = 1;
    for (uint32_t i = 1; i < n && sorted; i++)
        if (msg_before(m[i], m[i - 1]))
            sorted = 0;
    if (!sorted) {
        b->st.reordered++;
        /* messages that one of later arrival overtook (counted on the
         * sorted batch below) */
        if (n <= 32) {
            for (uint32_t i = 1; i < n; i++) {
                bmsg *x = m[i];
                uint32_t j = i;
                for (; j > 0 && msg_before(x, m[j - 1]); j--)
                    m[j] = m[j - 1];
                m[j] = x;
            }
        } else {
            qsort(m, n, sizeof *m, msg_cmp);
        }
    }

    int rc = 0;
    uint64_t seq_max = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!sorted) {
            if (i && m[i]->seq < seq_max)
                b->st.reordered_msgs++;
            if (m[i]->seq > seq_max)
                seq_max = m[i]->seq;
        }
        if (rc == 0 && emit(ctx, &m[i]->rec) != 0)
            rc = -1;
        b->st.pending_bytes -= m[i]->rec.len;
    }
    b->st.pending_msgs -= n;
    b->st.released += n;
    b->st.pending_actors--;
    (*counter)++;
    actor_recycle(b, a);

    if (b->tab_cap > TAB_MIN && b->tab_n * 8 < b->tab_cap)
        (void)tab_resize(b, b->tab_cap / 2); /* failure leaves the bigger table */
    return rc;
}

int ora_batcher_add(ora_batcher *b, const ora_rec *r, uint64_t now_ns,
                    ora_batch_emit emit, void *ctx)
{
    if (now_ns < b->last_now)
        now_ns = b->last_now;
    b->last_now = now_ns;

    if ((b->tab_n + 1) * 4 > b->tab_cap * 3 && tab_resize(b, b->tab_cap * 2) != 0)
        return -1;

    bmsg *m = malloc(sizeof *m + (r->len ? r->len : 1));
    if (!m)
        return -1;
    m->rec = *r;
    if (r->len)
        memcpy(m->data, r->payload, r->len);
    m->rec.payload = m->data;
    m->seq = b->seq++;

    uint64_t h = mix(r->actor_id, r->actor_type);
    size_t slot = tab_find(b, h, r->actor_type, r->actor_id);
    bactor *a = b->tab[slot].a;
    if (!a) {
        a = actor_new(b);
        if (!a) {
            free(m);
            return -1;
        }
        a->id = r->actor_id;
        a->type = r->actor_type;
        a->deadline = now_ns + b->timeout_ns;
        if (a->deadline < now_ns)
            a->deadline = UINT64_MAX;
        a->prev = b->tail;
        if (b->tail) b->tail->next = a; else b->head = a;
        b->tail = a;
        b->tab[slot] = (tslot){r->actor_id, h, a};
        b->tab_n++;
        if (++b->st.pending_actors > b->st.peak_actors)
            b->st.peak_actors = b->st.pending_actors;
    }
    if (a->n == a->cap) {
        uint32_t nc = a->cap * 2;
        if (nc > b->batch_size)
            nc = b->batch_size;
        bmsg **nm = a->msgs == a->inl ? malloc((size_t)nc * sizeof *nm)
                                      : realloc(a->msgs, (size_t)nc * sizeof *nm);
        if (nm && a->msgs == a->inl)
            memcpy(nm, a->inl, sizeof a->inl);
        if (!nm) {
            free(m);
            if (a->n == 0) { /* undo the new actor */
                tab_remove_at(b, slot);
                list_unlink(b, a);
                b->st.pending_actors--;
                actor_recycle(b, a);
            }
            return -1;
        }
        a->msgs = nm;
        a->cap = nc;
    }
    a->msgs[a->n++] = m;
    b->st.added++;
    b->st.pending_bytes += r->len;
    if (++b->st.pending_msgs > b->st.peak_msgs)
        b->st.peak_msgs = b->st.pending_msgs;

    if (a->n >= b->batch_size)
        return release(b, a, &b->st.batches_size, emit, ctx);
    return 0;
}

long ora_batcher_expire(ora_batcher *b, uint64_t now_ns, ora_batch_emit emit, void *ctx)
{
    if (now_ns < b->last_now)
        now_ns = b->last_now;
    b->last_now = now_ns;
    long n = 0;
    int rc = 0;
    while (b->head && b->head->deadline <= now_ns) {
        if (release(b, b->head, &b->st.batches_time, emit, ctx) != 0)
            rc = -1;
        n++;
    }
    return rc ? -1 : n;
}

long ora_batcher_flush(ora_batcher *b, ora_batch_emit emit, void *ctx)
{
    long n = 0;
    int rc = 0;
    while (b->head) {
        if (release(b, b->head, &b->st.batches_flush, emit, ctx) != 0)
            rc = -1;
        n++;
    }
    return rc ? -1 : n;
}

int ora_batcher_next_deadline(const ora_batcher *b, uint64_t *deadline_ns)
{
    if (!b->head)
        return 0;
    *deadline_ns = b->head->deadline;
    return 1;
}

const ora_batcher_stats *ora_batcher_stats_get(const ora_batcher *b)
{
    return &b->st;
}
