/* jarena.h: a bump allocator behind cJSON for trees that live for one
 * message. cJSON allocates one block per node and per string; a stage
 * that parses, inspects and drops one message at a time (ora-order) spends
 * a quarter of its time in malloc/free. With the arena installed, cJSON's
 * allocations come from a few reused blocks, cJSON_Delete() frees nothing,
 * and jarena_reset() drops every tree at once.
 *
 * cJSON's hooks are process-wide: install the arena before any cJSON call,
 * in a program where no cJSON tree (or printed string) is kept across
 * jarena_reset(). Not thread-safe.
 */
#ifndef ORA_JARENA_H
#define ORA_JARENA_H

#include <stddef.h>

/* Routes cJSON's allocations to the arena. */
void jarena_install(void);
/* Forgets every allocation made since the last reset (all trees are gone).
 * Keeps one block, sized for the largest message seen, up to 1 MiB. */
void jarena_reset(void);
/* Frees the arena's memory and gives cJSON the C library's allocator back. */
void jarena_release(void);
/* Bytes the arena holds now (for tests and summaries). */
size_t jarena_bytes(void);

#endif
