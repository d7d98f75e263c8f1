/* actors.h: the Event/BetOffer actor network of ora-actors (design.md §3)
 * as compact in-memory tables, and the business rules that turn messages
 * into output records.
 *
 * Every actor is a small fixed struct in a dense array, found through an
 * id map; repeated strings are interned (intern.h); a bet offer's outcomes
 * and odds live in one allocation. No JSON tree is kept: a message is
 * parsed by the caller, read here, and freed by the caller.
 *
 * Messages for actors that do not exist yet are kept (their raw JSON) in a
 * per-actor queue and applied, in arrival order, when the actor is created;
 * queued messages older than the creating message's offset are stale and
 * dropped; queues are pruned after pending_ttl seconds of stream time.
 */
#ifndef ORA_ACTORS_H
#define ORA_ACTORS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "idmap.h"
#include "intern.h"
#include "rules.h"

#define ORA_NOIDX UINT32_MAX
#define ORA_ODDS_NULL UINT32_MAX   /* an odds entry without a decimal */

typedef struct ora_msg {
    int64_t offset;       /* -1 when none */
    uint64_t recv_ns;
    uint64_t actor_id;
    uint8_t flow, kind, actor_type;
} ora_msg;

typedef struct ora_part {
    uint64_t id;
    uint32_t name, type;  /* interned in strs */
    uint8_t home;         /* 0 false, 1 true, 2 null */
    uint8_t has_id;
} ora_part;

enum { ORA_EVF_GROUP = 1 };

typedef struct ora_event {
    uint64_t id;
    uint64_t group_id;
    uint32_t name, group_name, sport, starts_at, status; /* strs */
    uint32_t tags;        /* lists */
    uint32_t bo_head;     /* first linked bet offer, ORA_NOIDX if none */
    uint32_t n_bo;
    ora_part *parts;
    uint16_t n_parts;
    uint8_t exists;       /* 0: placeholder holding links of offers only */
    uint8_t flags;
} ora_event;

typedef struct ora_odds {
    uint32_t offerings;   /* offl (aux: jurisdiction mask | unknown << 32) */
    uint32_t milli;       /* decimal odds in thousandths, ORA_ODDS_NULL */
} ora_odds;

typedef struct ora_outcome {
    uint64_t id;
    uint32_t label, status; /* strs */
    uint16_t first, n;      /* odds[first .. first+n) */
} ora_outcome;

enum { ORA_BOF_CRITERION = 1, ORA_BOF_GROUP = 2, ORA_BOF_LIVE = 4, ORA_BOF_EVENT = 8 };

typedef struct ora_betoffer {
    uint64_t id, event_id, criterion_id, group_id;
    uint32_t criterion_label, status, ev_status; /* strs */
    uint32_t line_types, tags;                   /* lists */
    uint32_t ev_prev, ev_next;                   /* links among the event's offers */
    uint16_t n_out, n_odds;
    uint8_t flags;
    void *blob;  /* ora_outcome[n_out] then ora_odds[n_odds] */
} ora_betoffer;

static inline ora_outcome *ora_bo_outcomes(const ora_betoffer *b) { return (ora_outcome *)b->blob; }
static inline ora_odds *ora_bo_odds(const ora_betoffer *b)
{
    return b->blob ? (ora_odds *)((char *)b->blob + (size_t)b->n_out * sizeof(ora_outcome)) : NULL;
}

typedef struct ora_pend {
    struct ora_pend *next;          /* circular list of the actor's queue */
    struct ora_pend *gprev, *gnext; /* all queued messages, oldest first */
    ora_msg m;
    uint64_t t_ns;                  /* stream time when queued */
    uint32_t len;
    char json[];                    /* the message, NUL-terminated */
} ora_pend;

/* Counters (summary line, tests). */
typedef struct ora_actors_stats {
    uint64_t msgs, applied, queued, pending_applied, pending_stale, pending_pruned, pending_dropped;
    uint64_t ignored, unknown_deletes, bad, created_events, created_offers, deleted_events,
        deleted_offers;
    uint64_t out_event_data, out_opened, out_closed, out_odds;
    uint64_t unknown_offerings, odds_rounded;
} ora_actors_stats;

/* Output callback: one record. key (klen bytes) is the partition key, json
 * the data; m the message that caused it. Returns 0, or -1 to abort (an
 * I/O error). */
typedef int (*ora_emit_fn)(void *ctx, const ora_msg *m, const char *key, size_t klen, const char *json,
                           size_t jlen);

typedef struct ora_actors {
    const ora_rules *rules;
    ora_emit_fn emit;
    void *emit_ctx;
    uint64_t pending_ttl_ns;  /* 0: never prune */
    uint64_t now_ns;          /* stream time: highest receive time seen */

    ora_intern *strs;  /* statuses, labels, names, sports, times */
    ora_intern *offl;  /* offering lists, "\x1f"-joined */
    ora_intern *lists; /* line types and tags, "\x1f"-joined; aux 1 MAIN_LINE, 2 OFFERED_LIVE */
    uint32_t s_open, s_closed, s_started; /* held ids of "OPEN", "CLOSED", "STARTED" */

    ora_event *ev;
    uint32_t n_ev, cap_ev;
    uint32_t *ev_free;
    uint32_t n_ev_free;
    ora_idmap ev_map;
    uint64_t n_events;       /* existing (not placeholders) */

    ora_betoffer *bo;
    uint32_t n_bo, cap_bo;
    uint32_t *bo_free;
    uint32_t n_bo_free;
    ora_idmap bo_map;
    uint64_t n_offers;

    ora_idmap pend_ev, pend_bo; /* id -> tail of the actor's queue */
    ora_pend *pend_head, *pend_tail;
    uint64_t n_pend, pend_bytes;

    ora_buf out;              /* scratch for output JSON */
    ora_actors_stats st;
} ora_actors;

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

/* State body (state.h): writes / reads every actor and queued message. */
struct ora_sw;
struct ora_sr;
void ora_actors_save(const ora_actors *a, struct ora_sw *w);
/* a must be empty. 0, or -1 with a reason in err (a is then cleared). */
int ora_actors_load(ora_actors *a, struct ora_sr *r, char *err, size_t errn);

/* Writes the state as JSON lines (sorted by id): events, bet offers,
 * queued messages. Each line through put(ctx, line, len). 0, or -1 when
 * put failed. */
int ora_actors_dump(const ora_actors *a, int (*put)(void *ctx, const char *s, size_t n), void *ctx);

#endif
