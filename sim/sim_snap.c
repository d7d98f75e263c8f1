/* sim_snap.c: the snapshot kept compressed (see sim_snap.h). */
#include "sim_snap.h"
#include "buf.h"
#include "sim_gz.h"
#include "sim_vec.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Slots per piece: small enough that one change recompresses little,
 * large enough for members of per_member_max frames (up to a bound). */
enum { PIECE_MIN = 16, PIECE_MAX = 4096, WARM_PIECES = 64 };

typedef struct unit {
    size_t end;                 /* end of the unit's bytes in piece->bytes */
    uint32_t frames;
} unit;

/* The compressed messages of one piece as it was at stamp. Immutable once
 * finished; shared by the cache and the snapshots that hold it. */
typedef struct piece {
    atomic_int refs;
    int table;
    size_t index;
    uint64_t stamp;
    int finished;               /* compressed (or empty): immutable from now on */
    uint32_t frames;
    unit *units;
    size_t n_units;
    uint8_t *bytes;
    size_t len;
    /* captured and not yet compressed: the frames ([u32 length][json]) */
    ora_buf plain;
    size_t *starts;             /* where each frame begins in plain */
    size_t cap_starts;
} piece;

struct sim_snap {
    const sim_server_opts *o;
    size_t slots;               /* per piece */
    pthread_mutex_t mu;
    piece **p[2];               /* by table, by piece index; NULL: none yet */
    size_t n[2];
};

struct sim_snapshot {
    piece **p;
    size_t n, cap;
    uint64_t messages;
};

static void piece_unref(piece *pc)
{
    if (!pc || atomic_fetch_sub(&pc->refs, 1) != 1)
        return;
    free(pc->units);
    free(pc->bytes);
    ora_buf_free(&pc->plain);
    free(pc->starts);
    free(pc);
}

sim_snap *sim_snap_new(const sim_server_opts *o)
{
    sim_snap *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = o;
    c->slots = o->per_member_max > PIECE_MIN ? o->per_member_max : PIECE_MIN;
    if (c->slots > PIECE_MAX)
        c->slots = PIECE_MAX;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void sim_snap_free(sim_snap *c)
{
    if (!c)
        return;
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < c->n[t]; i++)
            piece_unref(c->p[t][i]);
        free(c->p[t]);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- capture (model lock held) ---------------------------------------------- */

static int add_piece(sim_snapshot *s, piece *pc)
{
    if (sim_vec_reserve((void **)&s->p, &s->cap, s->n + 1, sizeof *s->p, 256) < 0)
        return -1;
    s->p[s->n++] = pc;
    s->messages += pc->frames;
    return 0;
}

static int capture_emit(void *ctx, uint64_t off, const char *json, size_t n)
{
    (void)off;
    piece *pc = ctx;
    if (sim_vec_reserve((void **)&pc->starts, &pc->cap_starts, pc->frames + 1, sizeof *pc->starts, 64) < 0)
        return 1;
    pc->starts[pc->frames++] = pc->plain.len;
    return sim_gz_frame(&pc->plain, json, n) < 0 ? 1 : 0;
}

/* Appends pieces [first, first + count) of table t to s: shared from the
 * cache when current (the cache lock is held), else captured. With
 * stale_only, current pieces are left out. 0 or -1. */
static int capture_range(sim_snap *c, sim_model *m, int t, size_t first, size_t count, int stale_only,
                         sim_snapshot *s)
{
    for (size_t i = first; i < first + count; i++) {
        uint64_t stamp = sim_model_stamp(m, t, i * c->slots, c->slots);
        piece *pc = i < c->n[t] ? c->p[t][i] : NULL;
        if (pc && pc->stamp == stamp) {
            if (stale_only)
                continue;
            atomic_fetch_add(&pc->refs, 1);
        } else {
            if (!(pc = calloc(1, sizeof *pc)))
                return -1;
            atomic_init(&pc->refs, 1);
            pc->table = t;
            pc->index = i;
            pc->stamp = stamp;
            if (sim_model_snapshot_slots(m, t, i * c->slots, c->slots, capture_emit, pc) < 0) {
                piece_unref(pc);
                return -1;
            }
        }
        if (add_piece(s, pc) < 0) {
            piece_unref(pc);
            return -1;
        }
    }
    return 0;
}

static size_t pieces_of(const sim_snap *c, const sim_model *m, int t)
{
    return (sim_model_slots(m, t) + c->slots - 1) / c->slots;
}

sim_snapshot *sim_snap_capture(sim_snap *c, sim_model *m)
{
    sim_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    for (int t = 0; t < 2 && rc == 0; t++)
        rc = capture_range(c, m, t, 0, pieces_of(c, m, t), 0, s);
    pthread_mutex_unlock(&c->mu);
    if (rc < 0) {
        sim_snapshot_free(s);
        return NULL;
    }
    return s;
}

/* ---- compression (no model lock) ---------------------------------------------- */

typedef struct zer {
    z_stream zs;
    int ready;
    uint64_t rng;
} zer;

static uint64_t next_rand(zer *z)
{
    uint64_t x = (z->rng += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Packs the captured frames of pc into units of gzip members. 0 or -1. */
static int compress_piece(const sim_snap *c, zer *z, piece *pc)
{
    const sim_server_opts *o = c->o;
    z->rng = (o->model.seed * 4 + (uint64_t)pc->table) ^ (pc->index * 0xa0761d6478bd642full) ^
             (pc->stamp * 0xe7037ed1a0b428dbull);
    ora_buf out = ORA_BUF_INIT;
    unit *units = calloc(pc->frames ? pc->frames : 1, sizeof *units);
    size_t nu = 0;
    if (!units)
        return -1;
    for (uint32_t f = 0; f < pc->frames;) {
        uint32_t lo = o->per_member_min, hi = o->per_member_max;
        uint32_t k = hi > lo ? lo + (uint32_t)(next_rand(z) % (hi - lo + 1)) : lo;
        if (k == 0)
            k = 1;
        if (k > pc->frames - f)
            k = pc->frames - f;
        size_t a = pc->starts[f], b = f + k < pc->frames ? pc->starts[f + k] : pc->plain.len;
        const uint8_t *p = pc->plain.p + a;
        int split = o->split > 0 && (double)(next_rand(z) >> 11) * 0x1.0p-53 < o->split;
        size_t cut = split ? 1 + (size_t)(next_rand(z) % (b - a - 1)) : 0;
        if (sim_gz_members(&z->zs, &z->ready, o->level, p, b - a, cut, &out) < 0) {
            ora_buf_free(&out);
            free(units);
            return -1;
        }
        units[nu].end = out.len;
        units[nu].frames = k;
        nu++;
        f += k;
    }
    pc->units = units;
    pc->n_units = nu;
    pc->bytes = out.p;
    pc->len = out.len;
    ora_buf_free(&pc->plain);
    free(pc->starts);
    pc->starts = NULL;
    pc->cap_starts = 0;
    return 0;
}

/* Keeps pc in the cache unless it holds a newer one. */
static int install(sim_snap *c, piece *pc)
{
    int t = pc->table, rc = 0;
    pthread_mutex_lock(&c->mu);
    if (pc->index >= c->n[t]) {
        size_t nn = pc->index + 1 > c->n[t] * 2 ? pc->index + 1 : c->n[t] * 2;
        piece **q = realloc(c->p[t], nn * sizeof *q);
        if (q) {
            memset(q + c->n[t], 0, (nn - c->n[t]) * sizeof *q);
            c->p[t] = q;
            c->n[t] = nn;
        } else {
            rc = -1;
        }
    }
    if (rc == 0) {
        piece *old = c->p[t][pc->index];
        if (!old || old->stamp < pc->stamp) {
            atomic_fetch_add(&pc->refs, 1);
            c->p[t][pc->index] = pc;
            piece_unref(old);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int sim_snap_finish(sim_snap *c, sim_snapshot *s)
{
    zer z = {.ready = 0};
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        piece *pc = s->p[i];
        if (pc->finished)
            continue;   /* shared from the cache */
        if (pc->frames)
            rc = compress_piece(c, &z, pc);
        if (rc == 0) {
            pc->finished = 1;
            install(c, pc);  /* a cache that cannot grow only costs speed */
        }
    }
    if (z.ready)
        deflateEnd(&z.zs);
    return rc;
}

/* ---- reading -------------------------------------------------------------------- */

uint64_t sim_snapshot_messages(const sim_snapshot *s) { return s->messages; }

int sim_snapshot_next(const sim_snapshot *s, sim_snap_it *it, const uint8_t **p, size_t *n,
                      uint32_t *frames)
{
    while (it->piece < s->n) {
        const piece *pc = s->p[it->piece];
        if (it->unit < pc->n_units) {
            size_t a = it->unit ? pc->units[it->unit - 1].end : 0;
            *p = pc->bytes + a;
            *n = pc->units[it->unit].end - a;
            *frames = pc->units[it->unit].frames;
            it->unit++;
            return 1;
        }
        it->piece++;
        it->unit = 0;
    }
    return 0;
}

void sim_snapshot_free(sim_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        piece_unref(s->p[i]);
    free(s->p);
    free(s);
}

/* ---- warming up ----------------------------------------------------------------- */

int64_t sim_snap_warm(sim_snap *c, sim_model *m, pthread_mutex_t *mu, atomic_int *quit)
{
    int64_t done = 0;
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; !atomic_load(quit); i += WARM_PIECES) {
            sim_snapshot s = {0};
            pthread_mutex_lock(mu);
            size_t np = pieces_of(c, m, t);
            int rc = 0;
            if (i < np) {
                pthread_mutex_lock(&c->mu);
                rc = capture_range(c, m, t, i, np - i < WARM_PIECES ? np - i : WARM_PIECES, 1, &s);
                pthread_mutex_unlock(&c->mu);
            }
            pthread_mutex_unlock(mu);
            if (rc == 0)
                rc = sim_snap_finish(c, &s);
            done += (int64_t)s.messages;
            for (size_t k = 0; k < s.n; k++)
                piece_unref(s.p[k]);
            free(s.p);
            if (rc < 0)
                return -1;
            if (i >= np)
                break;
        }
    }
    return done;
}

void sim_snap_size(sim_snap *c, uint64_t *messages, uint64_t *bytes)
{
    *messages = *bytes = 0;
    pthread_mutex_lock(&c->mu);
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < c->n[t]; i++)
            if (c->p[t][i]) {
                *messages += c->p[t][i]->frames;
                *bytes += c->p[t][i]->len;
            }
    pthread_mutex_unlock(&c->mu);
}
