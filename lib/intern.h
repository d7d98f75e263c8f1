/* intern.h: reference-counted string interning for ora-actors.
 *
 * Strings that repeat across actors (statuses, sports, labels, offering
 * lists, team names) are stored once and referred to by a u32 id. Id 0
 * means "none" (a JSON null or an absent field) and is never allocated.
 * Every holder of an id owns one reference; the last ora_intern_put()
 * frees the string and recycles the id, so the table holds only strings
 * some actor still uses.
 *
 * Each entry also carries a u64 "aux" the caller may set once when the
 * string is first interned (e.g. a jurisdiction mask for an offering list).
 */
#ifndef ORA_INTERN_H
#define ORA_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ora_intern ora_intern;

/* A new empty table, or NULL when out of memory. */
ora_intern *ora_intern_new(void);
void ora_intern_free(ora_intern *t);

/* The id of s (n bytes, may hold any byte), taking one reference. When the
 * string was not in the table and isnew is not NULL, *isnew is set to 1
 * (else 0). Returns 0 when out of memory. */
uint32_t ora_intern_get(ora_intern *t, const char *s, size_t n, int *isnew);
/* Takes one more reference on id (no-op for 0). */
void ora_intern_ref(ora_intern *t, uint32_t id);
/* Drops one reference (no-op for 0); the string is freed at zero. */
void ora_intern_put(ora_intern *t, uint32_t id);

/* The bytes of id and their length (NUL-terminated); NULL (and *n 0) for
 * id 0 or an id not in use. */
const char *ora_intern_str(const ora_intern *t, uint32_t id, size_t *n);
uint64_t ora_intern_aux(const ora_intern *t, uint32_t id);
void ora_intern_set_aux(ora_intern *t, uint32_t id, uint64_t aux);

/* Highest id ever handed out + 1 (ids are < this), live strings, and bytes
 * held (entries, hash slots, string bytes). */
uint32_t ora_intern_limit(const ora_intern *t);
size_t ora_intern_count(const ora_intern *t);
size_t ora_intern_bytes(const ora_intern *t);
/* References held on id (0 when not in use). */
uint32_t ora_intern_refs(const ora_intern *t, uint32_t id);

/* Restoring a saved table: puts s at exactly id with zero references
 * (ora_intern_ref() them as users are loaded), then ora_intern_sweep()
 * frees every entry still without a reference. ora_intern_set() returns
 * 0, or -1 when id is 0, already used, s is already present, or out of
 * memory. */
int ora_intern_set(ora_intern *t, uint32_t id, const char *s, size_t n);
void ora_intern_sweep(ora_intern *t);

#endif
