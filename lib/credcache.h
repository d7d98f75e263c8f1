/* credcache.h: credentials kept fresh by a thread of their own, so that a
 * slow STS or metadata call never stalls the records in flight.
 *
 * The thread fetches at start, then refreshes temporary credentials before
 * they expire: at a random point between 15 and 5 minutes before the
 * expiry (so that many processes do not refresh at once), or halfway to
 * it when they live shorter than that. A failed fetch is retried with
 * exponential backoff and full jitter; the old credentials stay in use
 * until they expire. A caller whose request was rejected (an expired
 * token) asks for a refresh at once with credcache_refresh().
 *
 * The main thread copies the credentials (sodium_malloc memory) when their
 * generation changed; it never waits for the thread. Nothing here prints:
 * what happened is read with credcache_event().
 */
#ifndef ORA_CREDCACHE_H
#define ORA_CREDCACHE_H

#include <stdint.h>
#include <time.h>

#include "creds.h"

typedef struct credcache credcache;

typedef struct credcache_opts {
    creds_provider *provider;     /* borrowed; used only by the thread */
    double backoff_min, backoff_max; /* after failed fetches, seconds */
    void (*wake)(void *ctx);      /* called by the thread after an event (may be NULL) */
    void *wake_ctx;
} credcache_opts;

enum credcache_ev { CC_NONE = 0, CC_FETCHED, CC_UNCHANGED, CC_FAILED };

typedef struct credcache_event {
    int kind;                     /* enum credcache_ev */
    int permanent;                /* CC_FAILED: configuration, not a passing failure */
    int ever;                     /* credentials were fetched at least once */
    uint64_t failures;            /* failed fetches in a row */
    time_t expires;               /* CC_FETCHED: 0 never */
    double retry_in;              /* CC_FAILED: seconds to the next try */
    char msg[600];                /* CC_FAILED: the reason; no secret */
} credcache_event;

/* Starts the thread. NULL (errno) when it cannot. */
credcache *credcache_start(const credcache_opts *o);

/* Copies the current credentials into out when their generation is not
 * *gen (then *gen is updated): returns 1; 0 when unchanged; -1 when none
 * were fetched yet. */
int credcache_get(credcache *c, aws_creds *out, uint64_t *gen);

/* The credentials of generation gen were rejected: refresh now, unless
 * newer ones exist already. Returns at once. */
void credcache_refresh(credcache *c, uint64_t gen);

/* Nonzero while a refresh asked for by credcache_refresh() runs. */
int credcache_busy(credcache *c);

/* The oldest event not yet read (fetched, unchanged, failed): returns 1 and
 * ev, or 0. Events queue up to a small number; older ones are dropped. */
int credcache_event_next(credcache *c, credcache_event *ev);

/* Stops the thread (it may have to finish a fetch first: bounded by the
 * provider's time limits) and frees everything. */
void credcache_stop(credcache *c);

#endif
