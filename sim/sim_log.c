/* sim_log.c: retained delivery log of ora-sim (see sim_log.h). */
#include "sim_log.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot { uint64_t offset; char *json; size_t len; } slot;

struct sim_log {
    slot *ring;
    size_t cap;          /* allocated slots (grows up to retain) */
    size_t retain;
    uint64_t first, end; /* sequence numbers */
    uint64_t base;
};

sim_log *sim_log_new(size_t retain)
{
    sim_log *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->retain = retain ? retain : 1;
    return l;
}

void sim_log_free(sim_log *l)
{
    if (!l)
        return;
    for (uint64_t s = l->first; s < l->end; s++)
        free(l->ring[s % l->cap].json);
    free(l->ring);
    free(l);
}

/* Grows the ring (re-laying entries out for the new modulus). */
static int grow(sim_log *l)
{
    size_t nc = l->cap ? l->cap * 2 : 1024;
    if (nc > l->retain)
        nc = l->retain;
    slot *r = calloc(nc, sizeof *r);
    if (!r)
        return -1;
    for (uint64_t s = l->first; s < l->end; s++)
        r[s % nc] = l->ring[s % l->cap];
    free(l->ring);
    l->ring = r;
    l->cap = nc;
    return 0;
}

int sim_log_append(sim_log *l, uint64_t offset, const char *json, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, json, len);
    if (l->end - l->first == l->cap && l->cap < l->retain && grow(l) < 0) {
        free(copy);
        return -1;
    }
    if (l->end - l->first == l->cap) {
        slot *old = &l->ring[l->first % l->cap];
        if (old->offset > l->base)
            l->base = old->offset;
        free(old->json);
        l->first++;
    }
    slot *sl = &l->ring[l->end % l->cap];
    sl->offset = offset;
    sl->json = copy;
    sl->len = len;
    l->end++;
    return 0;
}

uint64_t sim_log_first(const sim_log *l) { return l->first; }
uint64_t sim_log_end(const sim_log *l) { return l->end; }
uint64_t sim_log_base(const sim_log *l) { return l->base; }

int sim_log_get(const sim_log *l, uint64_t seq, sim_entry *e)
{
    if (seq < l->first || seq >= l->end)
        return -1;
    const slot *sl = &l->ring[seq % l->cap];
    e->offset = sl->offset;
    e->json = sl->json;
    e->len = sl->len;
    return 0;
}
