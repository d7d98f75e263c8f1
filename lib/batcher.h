/* batcher.h: per-actor batching with offset order (ora-order, doc/design.md §2).
 *
 * Messages are grouped by actor (actor type + actor id). An actor's batch
 * is released when it holds batch_size messages, or once timeout_ns have
 * passed since its first message arrived, or on request (flush). A released
 * batch is handed to the caller's emit function sorted by offset (ties keep
 * arrival order).
 *
 * Costs: adding a message is O(1) expected (hash table of the actors that
 * have pending messages) plus one allocation for its copy; timers are O(1):
 * the timeout is the same for every actor and time never goes backwards, so
 * the actors with a pending batch form a list ordered by deadline (append
 * on the first message, unlink on release) and the next deadline is its
 * head. Nothing ever scans all actors.
 *
 * Memory is bounded by what is pending: an actor exists only while it has
 * messages, and is freed with them when its batch is released; the hash
 * table shrinks when it becomes sparse.
 *
 * Time is whatever monotonic nanosecond clock the caller passes; a value
 * lower than one seen before is treated as the one seen before.
 */
#ifndef ORA_BATCHER_H
#define ORA_BATCHER_H

#include <stddef.h>
#include <stdint.h>
#include "record.h"

typedef struct ora_batcher ora_batcher;

/* Receives each released message in turn. r and r->payload are valid only
 * during the call. Returns 0, or -1 to report a failure (for instance a
 * failed write); the release goes on freeing the batch and the batcher
 * function returns -1. */
typedef int (*ora_batch_emit)(void *ctx, const ora_rec *r);

/* Why batches were released. */
typedef struct ora_batcher_stats {
    uint64_t added;            /* messages accepted */
    uint64_t released;         /* messages handed to emit */
    uint64_t pending_msgs;     /* messages held now */
    uint64_t pending_bytes;    /* payload bytes held now */
    uint64_t pending_actors;   /* actors with a pending batch now */
    uint64_t peak_msgs;        /* highest pending_msgs seen */
    uint64_t peak_actors;      /* highest pending_actors seen */
    uint64_t batches_size;     /* batches released because full */
    uint64_t batches_time;     /* ... because their timeout passed */
    uint64_t batches_flush;    /* ... by ora_batcher_flush() */
    uint64_t reordered;        /* batches whose arrival order was not offset order */
    uint64_t reordered_msgs;   /* messages released after one that arrived later */
} ora_batcher_stats;

/* A batcher releasing at batch_size (>= 1) messages or timeout_ns after an
 * actor's first pending message. NULL when out of memory or batch_size is 0. */
ora_batcher *ora_batcher_new(uint32_t batch_size, uint64_t timeout_ns);
/* Frees the batcher and every pending message without emitting them. */
void ora_batcher_free(ora_batcher *b);

/* Adds a copy of r (header fields and payload) to the batch of actor
 * (r->actor_type, r->actor_id); the caller keeps r. If that makes the
 * batch full, the batch is released at once through emit. Returns 0, or
 * -1 with errno ENOMEM (nothing added) or when emit failed. */
int ora_batcher_add(ora_batcher *b, const ora_rec *r, uint64_t now_ns,
                    ora_batch_emit emit, void *ctx);

/* Releases, oldest first, every batch whose deadline is <= now_ns.
 * Returns the number of batches released, or -1 when emit failed. */
long ora_batcher_expire(ora_batcher *b, uint64_t now_ns, ora_batch_emit emit, void *ctx);

/* Releases every pending batch, oldest first. Returns the number of
 * batches released, or -1 when emit failed (everything is freed anyway). */
long ora_batcher_flush(ora_batcher *b, ora_batch_emit emit, void *ctx);

/* Sets *deadline_ns to the earliest deadline and returns 1, or returns 0
 * when nothing is pending. */
int ora_batcher_next_deadline(const ora_batcher *b, uint64_t *deadline_ns);

const ora_batcher_stats *ora_batcher_stats_get(const ora_batcher *b);

#endif
