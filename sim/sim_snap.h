/* sim_snap.h: ora-sim's snapshot, kept compressed.
 *
 * Serving a snapshot by printing every entity as JSON and deflating it for
 * each connection costs about 20 us a message, which made ora-sim, not the
 * pipeline, the bound of a large bootstrap. The cache keeps the snapshot
 * as gzip members, piece by piece (a piece: the entities of a run of
 * slots of one table, see sim_model.h), each with the stamp the piece had.
 * A snapshot takes the pieces whose stamp has not changed as they are and
 * captures the others as JSON text, which it compresses once the model
 * lock is released and leaves in the cache for the next snapshot. A
 * thread fills the cache when the server starts (sim_snap_warm).
 *
 * Inside a piece, frames go in gzip members of opts.per_member_min..max
 * frames (at most a piece's), split in two at a random byte with
 * probability opts.split, as the per-connection path does; the choices
 * are a function of the seed, the piece and its stamp. The bytes a client
 * inflates are exactly sim_model_snapshot()'s messages, in its order.
 *
 * Threads: the cache has a lock of its own. sim_snap_capture() runs with
 * the model lock held (lock order: the model's, then the cache's); the
 * other functions take only the cache's.
 */
#ifndef ORA_SIM_SNAP_H
#define ORA_SIM_SNAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_model.h"
#include "sim_server.h"

typedef struct sim_snap sim_snap;
typedef struct sim_snapshot sim_snapshot;

/* An empty cache for the options (per member, split, level, seed; read
 * while the cache lives). NULL when out of memory. */
sim_snap *sim_snap_new(const sim_server_opts *o);
void sim_snap_free(sim_snap *c);

/* The snapshot of m now; the caller holds the model lock. Pieces the cache
 * holds for their current stamp are shared, the others captured as JSON.
 * NULL when out of memory. The caller releases the model lock, then calls
 * sim_snap_finish(), then reads it with sim_snapshot_next(), then frees it. */
sim_snapshot *sim_snap_capture(sim_snap *c, sim_model *m);

/* Compresses the pieces captured as JSON and leaves them in the cache.
 * 0, or -1 (out of memory; the snapshot is then unusable). */
int sim_snap_finish(sim_snap *c, sim_snapshot *s);

/* Messages (frames) in the snapshot. */
uint64_t sim_snapshot_messages(const sim_snapshot *s);

/* Reads a finished snapshot in order, one unit at a time: *p, *n bytes of
 * one gzip member (two when split) holding *frames whole frames. Start
 * with *it zeroed. 1, or 0 after the last unit. */
typedef struct sim_snap_it { size_t piece, unit; } sim_snap_it;
int sim_snapshot_next(const sim_snapshot *s, sim_snap_it *it, const uint8_t **p, size_t *n,
                      uint32_t *frames);

/* Lets go of the snapshot's pieces (those in the cache stay there). */
void sim_snapshot_free(sim_snapshot *s);

/* Fills the cache with every piece of m, taking mu (the model lock) for a
 * few pieces at a time, so that generation and sessions go on meanwhile;
 * stops early once *quit is set. Returns the messages compressed, or -1
 * (out of memory). */
int64_t sim_snap_warm(sim_snap *c, sim_model *m, pthread_mutex_t *mu, atomic_int *quit);

/* What the cache holds now: messages and compressed bytes. */
void sim_snap_size(sim_snap *c, uint64_t *messages, uint64_t *bytes);

#endif
