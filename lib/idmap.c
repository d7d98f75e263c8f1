/* idmap.c: u64 -> u64 hash map (idmap.h). */
#include "idmap.h"

#include <stdlib.h>

static size_t hash64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return (size_t)k;
}

int ora_idmap_get(const ora_idmap *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1;
    for (size_t i = hash64(key) & mask;; i = (i + 1) & mask) {
        if (!m->used[i])
            return 0;
        if (m->slots[i].key == key) {
            if (val)
                *val = m->slots[i].val;
            return 1;
        }
    }
}

static void insert_raw(ora_idmap_slot *slots, uint8_t *used, size_t cap, uint64_t key, uint64_t val)
{
    size_t mask = cap - 1;
    size_t i = hash64(key) & mask;
    while (used[i])
        i = (i + 1) & mask;
    used[i] = 1;
    slots[i].key = key;
    slots[i].val = val;
}

static int grow(ora_idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    ora_idmap_slot *ns = malloc(ncap * sizeof *ns);
    uint8_t *nu = calloc(ncap, 1);
    if (!ns || !nu) {
        free(ns);
        free(nu);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            insert_raw(ns, nu, ncap, m->slots[i].key, m->slots[i].val);
    free(m->slots);
    free(m->used);
    m->slots = ns;
    m->used = nu;
    m->cap = ncap;
    return 0;
}

int ora_idmap_put(ora_idmap *m, uint64_t key, uint64_t val)
{
    if (m->cap) {
        size_t mask = m->cap - 1;
        for (size_t i = hash64(key) & mask; m->used[i]; i = (i + 1) & mask)
            if (m->slots[i].key == key) {
                m->slots[i].val = val;
                return 0;
            }
    }
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0)
        return -1;
    insert_raw(m->slots, m->used, m->cap, key, val);
    m->n++;
    return 0;
}

int ora_idmap_del(ora_idmap *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1;
    size_t i = hash64(key) & mask;
    for (;; i = (i + 1) & mask) {
        if (!m->used[i])
            return 0;
        if (m->slots[i].key == key)
            break;
    }
    /* backward shift: move later entries of the cluster into the hole */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->used[j])
            break;
        size_t h = hash64(m->slots[j].key) & mask;
        /* the entry at j may move to i if its home h is not in (i, j] */
        int stays = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (stays)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->used[i] = 0;
    m->n--;
    return 1;
}

void ora_idmap_free(ora_idmap *m)
{
    free(m->slots);
    free(m->used);
    m->slots = NULL;
    m->used = NULL;
    m->cap = m->n = 0;
}

size_t ora_idmap_bytes(const ora_idmap *m)
{
    return m->cap * (sizeof(ora_idmap_slot) + 1);
}
