/* putq.c: kinesis-put's delivery engine (see putq.h). */
#include "putq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backoff.h"
#include "rnd.h"

/* A key with a record taken or waiting for its retry; its later records
 * wait in wq. Idle keys have no putq_key. */
struct putq_key {
    putq_key *hnext;
    uint64_t hash;
    putq_entry *wq_head, *wq_tail;
    uint16_t klen;
    uint8_t key[];
};

typedef struct fifo {
    putq_entry *head, *tail;
    size_t n;
    uint64_t bytes;
} fifo;

typedef struct ckpt {
    uint64_t seq; /* records added before it */
    int64_t w;
} ckpt;

struct putq {
    putq_opts o;
    fifo ready, retry_ready;
    putq_entry **heap; /* retries waiting, by due */
    size_t heap_n, heap_cap;
    putq_entry *s_head, *s_tail; /* unacknowledged, by seq */
    putq_key **kt;
    size_t kt_cap, kt_n;
    ckpt *cks; /* ring */
    size_t ck_head, ck_n, ck_cap;
    uint64_t next_seq, pending, pending_bytes;
    uint64_t rnd;
};

static size_t esize(const putq_entry *e)
{
    return (size_t)e->klen + e->dlen;
}

uint32_t putq_random(putq *q)
{
    return (uint32_t)(ora_xorshift64(&q->rnd) >> 32);
}

putq *putq_new(const putq_opts *o)
{
    if (!o->max_records || !o->max_bytes || !(o->linger >= 0)) {
        errno = EINVAL;
        return NULL;
    }
    ora_backoff probe;
    if (ora_backoff_init(&probe, o->backoff_min, o->backoff_max) < 0) {
        errno = EINVAL;
        return NULL;
    }
    putq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->o = *o;
    q->rnd = o->seed ? o->seed : ((uint64_t)randombytes_random() << 32 | randombytes_random());
    if (!q->rnd)
        q->rnd = 0x9e3779b97f4a7c15ull;
    return q;
}

static void entry_free(putq_entry *e)
{
    free(e->buf);
    free(e);
}

void putq_free(putq *q)
{
    if (!q)
        return;
    for (putq_entry *e = q->s_head, *nx; e; e = nx) {
        nx = e->snext;
        entry_free(e);
    }
    for (size_t i = 0; i < q->kt_cap; i++)
        for (putq_key *k = q->kt[i], *nx; k; k = nx) {
            nx = k->hnext;
            free(k);
        }
    free(q->kt);
    free(q->heap);
    free(q->cks);
    free(q);
}

/* ---- queues ------------------------------------------------------------- */

static void f_push(fifo *f, putq_entry *e)
{
    e->next = NULL;
    if (f->tail)
        f->tail->next = e;
    else
        f->head = e;
    f->tail = e;
    f->n++;
    f->bytes += esize(e);
}

static putq_entry *f_pop(fifo *f)
{
    putq_entry *e = f->head;
    if (!e)
        return NULL;
    f->head = e->next;
    if (!f->head)
        f->tail = NULL;
    f->n--;
    f->bytes -= esize(e);
    e->next = NULL;
    return e;
}

static int heap_push(putq *q, putq_entry *e)
{
    if (q->heap_n == q->heap_cap) {
        size_t nc = q->heap_cap ? q->heap_cap * 2 : 1024;
        putq_entry **h = realloc(q->heap, nc * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->heap_cap = nc;
    }
    size_t i = q->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (q->heap[p]->due <= e->due)
            break;
        q->heap[i] = q->heap[p];
        i = p;
    }
    q->heap[i] = e;
    return 0;
}

static putq_entry *heap_pop(putq *q)
{
    putq_entry *top = q->heap[0], *last = q->heap[--q->heap_n];
    size_t i = 0, n = q->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && q->heap[c + 1]->due < q->heap[c]->due)
            c++;
        if (q->heap[c]->due >= last->due)
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (n)
        q->heap[i] = last;
    return top;
}

static void promote_due(putq *q, double now)
{
    while (q->heap_n && q->heap[0]->due <= now)
        f_push(&q->retry_ready, heap_pop(q));
}

/* ---- busy keys ---------------------------------------------------------- */

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void kt_grow(putq *q)
{
    size_t nc = q->kt_cap ? q->kt_cap * 2 : 4096;
    putq_key **t = calloc(nc, sizeof *t);
    if (!t)
        return; /* chains just get longer */
    for (size_t i = 0; i < q->kt_cap; i++)
        for (putq_key *k = q->kt[i], *nx; k; k = nx) {
            nx = k->hnext;
            k->hnext = t[k->hash & (nc - 1)];
            t[k->hash & (nc - 1)] = k;
        }
    free(q->kt);
    q->kt = t;
    q->kt_cap = nc;
}

static putq_key *kt_find(const putq *q, const uint8_t *key, uint16_t klen, uint64_t h)
{
    if (!q->kt_cap)
        return NULL;
    for (putq_key *k = q->kt[h & (q->kt_cap - 1)]; k; k = k->hnext)
        if (k->hash == h && k->klen == klen && memcmp(k->key, key, klen) == 0)
            return k;
    return NULL;
}

static putq_key *kt_add(putq *q, const uint8_t *key, uint16_t klen, uint64_t h)
{
    if (q->kt_n >= q->kt_cap)
        kt_grow(q);
    if (!q->kt_cap)
        return NULL;
    putq_key *k = calloc(1, sizeof *k + klen);
    if (!k)
        return NULL;
    k->hash = h;
    k->klen = klen;
    memcpy(k->key, key, klen);
    k->hnext = q->kt[h & (q->kt_cap - 1)];
    q->kt[h & (q->kt_cap - 1)] = k;
    q->kt_n++;
    return k;
}

static void kt_del(putq *q, putq_key *k)
{
    putq_key **pp = &q->kt[k->hash & (q->kt_cap - 1)];
    while (*pp != k)
        pp = &(*pp)->hnext;
    *pp = k->hnext;
    q->kt_n--;
    free(k);
}

/* ---- records ------------------------------------------------------------ */

int putq_add(putq *q, const uint8_t *key, uint16_t klen, const uint8_t *data, uint32_t dlen,
             int64_t offset, uint64_t recv_ns, double now)
{
    size_t len = (size_t)klen + dlen;
    putq_entry *e = calloc(1, sizeof *e);
    uint8_t *b = malloc(len ? len : 1);
    if (!e || !b) {
        free(e);
        free(b);
        errno = ENOMEM;
        return -1;
    }
    memcpy(b, key, klen);
    if (dlen)
        memcpy(b + klen, data, dlen);
    e->buf = b;
    e->klen = klen;
    e->dlen = dlen;
    e->offset = offset;
    e->recv_ns = recv_ns;
    e->t_read = e->t_ready = now;
    uint64_t h = fnv(b, klen);
    putq_key *k = kt_find(q, b, klen, h);
    if (!k) {
        if (!(k = kt_add(q, b, klen, h))) {
            entry_free(e);
            errno = ENOMEM;
            return -1;
        }
        f_push(&q->ready, e);
    } else { /* the key is busy: wait behind it */
        if (k->wq_tail)
            k->wq_tail->next = e;
        else
            k->wq_head = e;
        k->wq_tail = e;
    }
    e->ks = k;
    e->seq = q->next_seq++;
    e->sprev = q->s_tail;
    if (q->s_tail)
        q->s_tail->snext = e;
    else
        q->s_head = e;
    q->s_tail = e;
    q->pending++;
    q->pending_bytes += len;
    return 0;
}

int putq_checkpoint(putq *q, int64_t w)
{
    if (q->ck_n == q->ck_cap) {
        size_t nc = q->ck_cap ? q->ck_cap * 2 : 64;
        ckpt *c = malloc(nc * sizeof *c);
        if (!c) {
            errno = ENOMEM;
            return -1;
        }
        for (size_t i = 0; i < q->ck_n; i++)
            c[i] = q->cks[(q->ck_head + i) % q->ck_cap];
        free(q->cks);
        q->cks = c;
        q->ck_cap = nc;
        q->ck_head = 0;
    }
    q->cks[(q->ck_head + q->ck_n) % q->ck_cap] = (ckpt){q->next_seq, w};
    q->ck_n++;
    return 0;
}

int putq_committable(putq *q, int64_t *w)
{
    uint64_t m = q->s_head ? q->s_head->seq : q->next_seq;
    int have = 0;
    while (q->ck_n && q->cks[q->ck_head].seq <= m) {
        *w = q->cks[q->ck_head].w;
        have = 1;
        q->ck_head = (q->ck_head + 1) % q->ck_cap;
        q->ck_n--;
    }
    return have;
}

/* ---- batches ------------------------------------------------------------ */

int putq_sendable(putq *q, double now, int flush)
{
    promote_due(q, now);
    if (q->retry_ready.n)
        return 1;
    if (!q->ready.n)
        return 0;
    if (q->ready.n >= q->o.max_records || q->ready.bytes >= q->o.max_bytes)
        return 1;
    return flush || now - q->ready.head->t_ready >= q->o.linger;
}

double putq_wait(putq *q, double now, int flush)
{
    if (putq_sendable(q, now, flush))
        return 0;
    double wait = 1e9;
    if (q->heap_n && q->heap[0]->due - now < wait)
        wait = q->heap[0]->due - now;
    if (q->ready.n && q->ready.head->t_ready + q->o.linger - now < wait)
        wait = q->ready.head->t_ready + q->o.linger - now;
    return wait < 0 ? 0 : wait;
}

size_t putq_take(putq *q, double now, int flush, putq_entry **out, size_t max)
{
    if (!putq_sendable(q, now, flush))
        return 0;
    if (max > q->o.max_records)
        max = q->o.max_records;
    size_t n = 0;
    uint64_t bytes = 0;
    fifo *fs[2] = {&q->retry_ready, &q->ready};
    for (int i = 0; i < 2; i++) {
        fifo *f = fs[i];
        while (f->head && n < max) {
            uint64_t sz = esize(f->head);
            if (n && bytes + sz > q->o.max_bytes)
                return n;
            bytes += sz;
            putq_entry *e = f_pop(f);
            if (!e->t_sent)
                e->t_sent = now;
            out[n++] = e;
        }
    }
    return n;
}

void putq_ack(putq *q, putq_entry *e, double now)
{
    if (e->sprev)
        e->sprev->snext = e->snext;
    else
        q->s_head = e->snext;
    if (e->snext)
        e->snext->sprev = e->sprev;
    else
        q->s_tail = e->sprev;
    q->pending--;
    q->pending_bytes -= esize(e);
    putq_key *k = e->ks;
    putq_entry *nx = k->wq_head;
    if (nx) {
        k->wq_head = nx->next;
        if (!k->wq_head)
            k->wq_tail = NULL;
        /* It has waited a round trip already: send it without lingering. */
        nx->t_ready = now;
        f_push(&q->retry_ready, nx);
    } else {
        kt_del(q, k);
    }
    entry_free(e);
}

long putq_fail(putq *q, putq_entry *e, double now)
{
    if (e->attempts < UINT32_MAX)
        e->attempts++;
    /* The ceiling doubles per failed try: min, 2 min, 4 min, ... max. */
    ora_backoff b;
    ora_backoff_init(&b, q->o.backoff_min, q->o.backoff_max);
    b.attempts = e->attempts - 1;
    e->due = now + ora_backoff_next(&b, putq_random(q));
    if (heap_push(q, e) < 0) {
        e->due = now;
        f_push(&q->retry_ready, e);
        errno = ENOMEM;
        return -1;
    }
    return (long)e->attempts;
}

void putq_requeue(putq *q, putq_entry *e, double now)
{
    e->due = now;
    f_push(&q->retry_ready, e);
}

/* ---- introspection ------------------------------------------------------ */

putq_entry *putq_first(const putq *q)
{
    return q->s_head;
}

putq_entry *putq_next(const putq_entry *e)
{
    return e->snext;
}

uint64_t putq_pending(const putq *q)
{
    return q->pending;
}

uint64_t putq_pending_bytes(const putq *q)
{
    return q->pending_bytes;
}

void putq_get_stats(const putq *q, putq_stats *s)
{
    s->pending = q->pending;
    s->pending_bytes = q->pending_bytes;
    s->ready = q->ready.n;
    s->retry_ready = q->retry_ready.n;
    s->retry_waiting = q->heap_n;
    s->checkpoints = q->ck_n;
}
