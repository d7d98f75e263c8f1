/* actors.h: the Event/BetOffer actor network of ora-actors (doc/design.md §3):
 * the slot tables, the per-actor queues of messages for actors that do not
 * exist yet, and the dispatch of each message to its actor. The data types
 * are in model.h; the rules that turn state changes into output records
 * are in outputs.h.
 *
 * Messages for actors that do not exist yet are kept (their raw JSON) in a
 * per-actor queue and all applied, in arrival order, when the actor is
 * created (whatever their offsets: doc/design.md §3); queues are pruned
 * after pending_ttl seconds of stream time.
 */
#ifndef ORA_ACTORS_H
#define ORA_ACTORS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "model.h"

/* Results of ora_actors_apply(). */
enum ora_apply {
    ORA_AP_APPLIED = 0, ORA_AP_QUEUED = 1, ORA_AP_IGNORED = 2, ORA_AP_UNKNOWN_DELETE = 3,
    ORA_AP_BAD = 4,      /* malformed payload: skipped */
    ORA_AP_ERROR = -1    /* out of memory or the emit callback failed: stop */
};

/* A new empty network. rules must outlive it. NULL when out of memory. */
ora_actors *ora_actors_new(const ora_rules *rules, ora_emit_fn emit, void *ctx);
void ora_actors_free(ora_actors *a);
/* Drops every actor and queued message (a new snapshot). 0 or -1 (ENOMEM). */
int ora_actors_clear(ora_actors *a);

/* Applies one message: root is the parsed message ({"offset":..,key:{..}}),
 * raw/n its bytes (kept when queued). m->kind and m->actor_id must be set
 * (routed). Advances stream time and prunes expired queues first. */
int ora_actors_apply(ora_actors *a, const ora_msg *m, const cJSON *root, const char *raw, size_t n);

/* Prunes queues older than the TTL at stream time now_ns. Returns count. */
uint64_t ora_actors_prune(ora_actors *a, uint64_t now_ns);

/* Approximate heap bytes held by the tables (not malloc overhead). */
size_t ora_actors_bytes(const ora_actors *a);

/* ---- restoring a saved state (persist.c) ----------------------------------- */

/* Drops every actor, queued message and interned string, without the held
 * ids: the string tables are then filled with ora_intern_set() and the
 * restore ends with ora_actors_restore_done(). 0, or -1 (ENOMEM). */
int ora_actors_restore_begin(ora_actors *a);
/* A new existing event (all fields zero): its slot, or ORA_NOIDX when out
 * of memory. The caller checks that id is not there yet. */
uint32_t ora_actors_restore_event(ora_actors *a, uint64_t id);
/* A new bet offer (all fields zero, no event): its slot, or ORA_NOIDX. */
uint32_t ora_actors_restore_offer(ora_actors *a, uint64_t id);
/* Links offer bi to event eid without copying the event's fields (the
 * saved copies stand). 0, or -1 when out of memory. */
int ora_actors_restore_link(ora_actors *a, uint32_t bi, uint64_t eid);
/* Appends a queued message (at the end of the global and the actor's
 * queue). 0, or -1 when out of memory. */
int ora_actors_restore_pending(ora_actors *a, const ora_msg *m, const char *raw, size_t n, uint64_t t_ns);
/* Frees unreferenced strings, recomputes what is derived from the lists
 * under the current rules, takes the held ids. 0, or -1 (ENOMEM). */
int ora_actors_restore_done(ora_actors *a);

#endif
