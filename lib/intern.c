/* intern.c: reference-counted string table (intern.h). */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *s;        /* NULL when the id is free */
    uint32_t len;
    uint32_t refs;
    uint32_t hash;
    uint32_t next_free;
    uint64_t aux;
} entry;

struct ora_intern {
    entry *e;        /* e[0] unused */
    uint32_t n_e;    /* ids handed out + 1 */
    uint32_t cap_e;
    uint32_t free_head; /* 0 = none */
    uint32_t *slots; /* hash slots: id or 0 */
    size_t cap;      /* power of two */
    size_t live;
    size_t str_bytes;
};

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

ora_intern *ora_intern_new(void)
{
    ora_intern *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap_e = 64;
    t->e = calloc(t->cap_e, sizeof *t->e);
    t->cap = 128;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->e || !t->slots) {
        ora_intern_free(t);
        return NULL;
    }
    t->n_e = 1;
    return t;
}

void ora_intern_free(ora_intern *t)
{
    if (!t)
        return;
    if (t->e)
        for (uint32_t i = 1; i < t->n_e; i++)
            free(t->e[i].s);
    free(t->e);
    free(t->slots);
    free(t);
}

static size_t find_slot(const ora_intern *t, const char *s, size_t n, uint32_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t id = t->slots[i];
        if (!id)
            return i;
        const entry *e = &t->e[id];
        if (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0)
            return i;
    }
}

static int grow_slots(ora_intern *t)
{
    size_t ncap = t->cap * 2;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        uint32_t id = t->slots[i];
        if (!id)
            continue;
        size_t j = t->e[id].hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = id;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

static uint32_t alloc_id(ora_intern *t)
{
    if (t->free_head) {
        uint32_t id = t->free_head;
        t->free_head = t->e[id].next_free;
        return id;
    }
    if (t->n_e == UINT32_MAX)
        return 0;
    if (t->n_e == t->cap_e) {
        uint32_t nc = t->cap_e > UINT32_MAX / 2 ? UINT32_MAX : t->cap_e * 2;
        entry *ne = realloc(t->e, (size_t)nc * sizeof *ne);
        if (!ne)
            return 0;
        memset(ne + t->cap_e, 0, (size_t)(nc - t->cap_e) * sizeof *ne);
        t->e = ne;
        t->cap_e = nc;
    }
    return t->n_e++;
}

static uint32_t add_at(ora_intern *t, size_t slot, uint32_t id, const char *s, size_t n, uint32_t h)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return 0;
    memcpy(copy, s, n);
    copy[n] = 0;
    entry *e = &t->e[id];
    e->s = copy;
    e->len = (uint32_t)n;
    e->refs = 0;
    e->hash = h;
    e->aux = 0;
    e->next_free = 0;
    t->slots[slot] = id;
    t->live++;
    t->str_bytes += n + 1;
    return id;
}

uint32_t ora_intern_get(ora_intern *t, const char *s, size_t n, int *isnew)
{
    if (isnew)
        *isnew = 0;
    if (n > UINT32_MAX - 1)
        return 0;
    uint32_t h = hash_str(s, n);
    size_t slot = find_slot(t, s, n, h);
    if (t->slots[slot]) {
        uint32_t id = t->slots[slot];
        t->e[id].refs++;
        return id;
    }
    if ((t->live + 1) * 2 > t->cap) {
        if (grow_slots(t) < 0)
            return 0;
        slot = find_slot(t, s, n, h);
    }
    uint32_t id = alloc_id(t);
    if (!id)
        return 0;
    if (!add_at(t, slot, id, s, n, h)) {
        t->e[id].next_free = t->free_head;
        t->free_head = id;
        return 0;
    }
    t->e[id].refs = 1;
    if (isnew)
        *isnew = 1;
    return id;
}

void ora_intern_ref(ora_intern *t, uint32_t id)
{
    if (id && id < t->n_e && t->e[id].s)
        t->e[id].refs++;
}

static void remove_id(ora_intern *t, uint32_t id)
{
    entry *e = &t->e[id];
    size_t mask = t->cap - 1;
    size_t i = e->hash & mask;
    while (t->slots[i] != id)
        i = (i + 1) & mask;
    /* backward-shift deletion */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t jid = t->slots[j];
        if (!jid)
            break;
        size_t h = t->e[jid].hash & mask;
        int stays = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (stays)
            continue;
        t->slots[i] = jid;
        i = j;
    }
    t->slots[i] = 0;
    t->str_bytes -= (size_t)e->len + 1;
    free(e->s);
    e->s = NULL;
    e->refs = 0;
    e->next_free = t->free_head;
    t->free_head = id;
    t->live--;
}

void ora_intern_put(ora_intern *t, uint32_t id)
{
    if (!id || id >= t->n_e || !t->e[id].s)
        return;
    if (t->e[id].refs > 1) {
        t->e[id].refs--;
        return;
    }
    remove_id(t, id);
}

const char *ora_intern_str(const ora_intern *t, uint32_t id, size_t *n)
{
    if (!id || id >= t->n_e || !t->e[id].s) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (n)
        *n = t->e[id].len;
    return t->e[id].s;
}

uint64_t ora_intern_aux(const ora_intern *t, uint32_t id)
{
    return (id && id < t->n_e) ? t->e[id].aux : 0;
}

void ora_intern_set_aux(ora_intern *t, uint32_t id, uint64_t aux)
{
    if (id && id < t->n_e && t->e[id].s)
        t->e[id].aux = aux;
}

uint32_t ora_intern_limit(const ora_intern *t) { return t->n_e; }
size_t ora_intern_count(const ora_intern *t) { return t->live; }

size_t ora_intern_bytes(const ora_intern *t)
{
    return (size_t)t->cap_e * sizeof(entry) + t->cap * sizeof(uint32_t) + t->str_bytes + t->live * 16;
}

uint32_t ora_intern_refs(const ora_intern *t, uint32_t id)
{
    return (id && id < t->n_e && t->e[id].s) ? t->e[id].refs : 0;
}

int ora_intern_set(ora_intern *t, uint32_t id, const char *s, size_t n)
{
    if (!id || id == UINT32_MAX || n > UINT32_MAX - 1)
        return -1;
    if (id < t->n_e && t->e[id].s)
        return -1;
    uint32_t h = hash_str(s, n);
    if (t->slots[find_slot(t, s, n, h)])
        return -1;
    /* make room for id; ids between are left free (linked at sweep) */
    while (t->n_e <= id) {
        if (t->n_e == t->cap_e) {
            uint32_t nc = t->cap_e;
            while (nc <= id)
                nc = nc > UINT32_MAX / 2 ? UINT32_MAX : nc * 2;
            entry *ne = realloc(t->e, (size_t)nc * sizeof *ne);
            if (!ne)
                return -1;
            memset(ne + t->cap_e, 0, (size_t)(nc - t->cap_e) * sizeof *ne);
            t->e = ne;
            t->cap_e = nc;
        }
        t->n_e++;
    }
    if ((t->live + 1) * 2 > t->cap && grow_slots(t) < 0)
        return -1;
    size_t slot = find_slot(t, s, n, h);
    return add_at(t, slot, id, s, n, h) ? 0 : -1;
}

void ora_intern_sweep(ora_intern *t)
{
    t->free_head = 0;
    for (uint32_t id = t->n_e - 1; id >= 1; id--) {
        if (t->e[id].s && t->e[id].refs == 0)
            remove_id(t, id); /* pushes id on the free list */
        else if (!t->e[id].s) {
            t->e[id].next_free = t->free_head;
            t->free_head = id;
        }
    }
}
