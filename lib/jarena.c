/* jarena.c: bump allocator for cJSON (jarena.h). */
#include "jarena.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#define BLOCK_MIN (64u << 10)
#define BLOCK_KEEP (1u << 20)

typedef struct block {
    struct block *next;   /* older blocks */
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} block;

static block *cur;        /* newest block; allocations come from it */
static size_t total;      /* bytes held in all blocks */

static block *block_new(size_t cap, block *next)
{
    block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->next = next;
    b->used = 0;
    b->cap = cap;
    total += cap;
    return b;
}

static void *arena_malloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!cur || cur->cap - cur->used < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        block *b = block_new(cap, cur);
        if (!b)
            return NULL;
        cur = b;
    }
    void *p = cur->data + cur->used;
    cur->used += n;
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* everything goes at jarena_reset() */
}

void jarena_install(void)
{
    cJSON_Hooks h = {arena_malloc, arena_free};
    cJSON_InitHooks(&h);
}

void jarena_reset(void)
{
    if (!cur)
        return;
    if (!cur->next) {
        cur->used = 0;
        return;
    }
    /* Several blocks: replace them by one that would have held them all. */
    size_t want = 0;
    for (block *b = cur; b; b = b->next)
        want += b->used;
    while (cur) {
        block *nx = cur->next;
        free(cur);
        cur = nx;
    }
    total = 0;
    if (want > BLOCK_KEEP)
        want = BLOCK_KEEP;
    cur = block_new(want > BLOCK_MIN ? want : BLOCK_MIN, NULL);
}

void jarena_release(void)
{
    while (cur) {
        block *nx = cur->next;
        free(cur);
        cur = nx;
    }
    total = 0;
    cJSON_InitHooks(NULL);
}

size_t jarena_bytes(void)
{
    return total;
}
