/* idmap.h: an open-addressing hash map from u64 keys to u64 values, used by
 * ora-actors for its id tables (events, bet offers, pending queues).
 *
 * Linear probing with backward-shift deletion (no tombstones), so a table
 * that sees millions of inserts and deletes stays as fast as a fresh one.
 * The map owns only its slot array; values are opaque to it.
 */
#ifndef ORA_IDMAP_H
#define ORA_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ora_idmap_slot {
    uint64_t key;
    uint64_t val;
} ora_idmap_slot;

typedef struct ora_idmap {
    ora_idmap_slot *slots; /* cap slots */
    uint8_t *used;         /* cap bytes: 1 when the slot holds an entry */
    size_t cap;            /* power of two, or 0 before the first insert */
    size_t n;              /* entries */
} ora_idmap;

#define ORA_IDMAP_INIT {NULL, NULL, 0, 0}

/* Looks key up. Returns 1 and sets *val (if not NULL) when present, else 0. */
int ora_idmap_get(const ora_idmap *m, uint64_t key, uint64_t *val);
/* Inserts or replaces. 0, or -1 when out of memory (the map is unchanged). */
int ora_idmap_put(ora_idmap *m, uint64_t key, uint64_t val);
/* Removes key. Returns 1 when it was present, else 0. */
int ora_idmap_del(ora_idmap *m, uint64_t key);
/* Frees the slot array; the map is empty and reusable afterwards. */
void ora_idmap_free(ora_idmap *m);
/* Bytes held by the map (for memory reports). */
size_t ora_idmap_bytes(const ora_idmap *m);

#endif
