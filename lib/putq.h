/* putq.h: kinesis-put's delivery engine (doc/design.md §4), without the network.
 *
 * It holds every OUT record from putq_add() until putq_ack(), and answers
 * three questions: which records go in the next request (putq_take), when a
 * failed one may go again (exponential backoff with full jitter, through
 * lib/backoff), and which checkpoint may be committed (putq_committable).
 *
 * Guarantees:
 *  - Per partition key, order: while a record of a key is taken (in a
 *    request) or waiting for its retry, the later records of that key wait
 *    behind it and are released one at a time, in putq_add() order. So a
 *    later record is never taken before an earlier one of its key is acked.
 *  - Checkpoints: putq_checkpoint(w) stands after every record added before
 *    it; putq_committable() hands out w only once all of those are acked.
 *  - Retries first: a batch takes records due for a retry before new ones.
 *
 * Owner: the caller owns the putq; the putq owns its entries. An entry
 * pointer handed out by putq_take() stays valid until putq_ack() (or
 * putq_free); between take and ack/fail/requeue the caller must not touch
 * the putq's view of it except through those calls. Nothing here does I/O,
 * reads the clock (the caller passes `now`, monotonic seconds), prints or
 * exits; allocation failures are returned as -1 with errno ENOMEM.
 */
#ifndef ORA_PUTQ_H
#define ORA_PUTQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct putq putq;
typedef struct putq_key putq_key;

typedef struct putq_entry {
    /* Read-only for the caller. */
    uint8_t *buf;        /* key (klen bytes), then data (dlen bytes) */
    uint16_t klen;
    uint32_t dlen;
    int64_t offset;      /* the record's offset */
    uint64_t recv_ns;    /* receive time at ora-connect (0: unknown) */
    double t_read;       /* when it was added */
    double t_ready;      /* when it last became sendable */
    double t_sent;       /* when it was first taken (0: never) */
    double due;          /* when its retry is due */
    uint32_t attempts;   /* tries that failed (putq_fail) */
    /* Private. */
    uint64_t seq;
    struct putq_entry *snext, *sprev, *next;
    putq_key *ks;
} putq_entry;

typedef struct putq_opts {
    uint32_t max_records;       /* per batch (>= 1) */
    uint64_t max_bytes;         /* key + data bytes per batch (>= 1) */
    double linger;              /* seconds a new record may wait for its batch to fill */
    double backoff_min, backoff_max; /* retry backoff bounds, seconds (0 < min <= max) */
    uint64_t seed;              /* randomness of the jitter (0: any) */
} putq_opts;

typedef struct putq_stats {
    uint64_t pending;           /* added, not acked (in requests too) */
    uint64_t pending_bytes;     /* their key + data bytes */
    size_t ready;               /* new records that may be taken */
    size_t retry_ready;         /* retries due (or released) that may be taken */
    size_t retry_waiting;       /* retries waiting for their backoff */
    size_t checkpoints;         /* checkpoints not yet committable */
} putq_stats;

/* A new, empty putq. NULL (errno EINVAL or ENOMEM) when the options are out
 * of range. */
putq *putq_new(const putq_opts *o);
/* Frees the putq and every entry still held. */
void putq_free(putq *q);

/* Adds one record, copying key and data: it goes at the end of its key's
 * queue (sendable at once when its key is idle). klen >= 1. Returns 0, or
 * -1 (ENOMEM; nothing was added). */
int putq_add(putq *q, const uint8_t *key, uint16_t klen, const uint8_t *data, uint32_t dlen,
             int64_t offset, uint64_t recv_ns, double now);

/* A checkpoint w after every record added so far. Returns 0, or -1 (ENOMEM). */
int putq_checkpoint(putq *q, int64_t w);

/* Whether a batch may be taken now: a retry is due, a full batch waits, a
 * new record has lingered, or flush is nonzero (end of input) and a record
 * waits. */
int putq_sendable(putq *q, double now, int flush);

/* Seconds from now until putq_sendable() may turn true without another
 * call into the putq (a retry coming due, a new record's linger running
 * out): 0 when it is true now, a large number when nothing waits. */
double putq_wait(putq *q, double now, int flush);

/* Takes the next batch into out[0..max-1]: due retries first (in due
 * order), then new records (in input order), up to the batch limits
 * (a single record larger than max_bytes still makes a batch of one).
 * Returns the number taken (0 when putq_sendable() is false). The entries
 * stay held (pending) until acked or failed. */
size_t putq_take(putq *q, double now, int flush, putq_entry **out, size_t max);

/* Entry e (taken) was accepted: it is freed and the next record of its key,
 * if any, becomes sendable at once (it has waited a round trip already). */
void putq_ack(putq *q, putq_entry *e, double now);

/* Entry e (taken) failed: counts one more failed try, schedules its retry
 * after a backoff drawn from its count. Returns e->attempts. -1 (ENOMEM)
 * when the retry cannot be scheduled (e is then back in the retry queue,
 * due at once). */
long putq_fail(putq *q, putq_entry *e, double now);

/* Entry e (taken) goes back to the front of the retries without counting
 * a failed try (its request was never judged, e.g. signed with credentials
 * that have been refreshed since). Due at `now`. */
void putq_requeue(putq *q, putq_entry *e, double now);

/* The newest checkpoint whose records are all acked, if it has not been
 * handed out before: returns 1 and sets *w (the checkpoints before it are
 * consumed too), or 0. */
int putq_committable(putq *q, int64_t *w);

/* The oldest unacknowledged entry (NULL when none), and the next in input
 * order: for the dead letter and the oldest-record age. */
putq_entry *putq_first(const putq *q);
putq_entry *putq_next(const putq_entry *e);

void putq_get_stats(const putq *q, putq_stats *s);
/* Held records (same as stats.pending, cheaper). */
uint64_t putq_pending(const putq *q);
uint64_t putq_pending_bytes(const putq *q);

/* A uniform 32-bit random number from the putq's generator (for the
 * caller's own jitter). */
uint32_t putq_random(putq *q);

#endif
