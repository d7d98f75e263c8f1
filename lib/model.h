/* model.h: the data of ora-actors' Event/BetOffer network (doc/design.md §3):
 * the types only. Operations are in actors.h (tables, queues, dispatch),
 * the output rules in outputs.h, persistence in persist.h.
 *
 * Every actor is a small fixed struct in a dense array, found through an
 * id map; repeated strings are interned (intern.h); a bet offer's outcomes
 * and odds live in one allocation. No JSON tree is kept: a message is
 * parsed by the caller, read, and freed by the caller.
 */
#ifndef ORA_MODEL_H
#define ORA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "idmap.h"
#include "intern.h"
#include "rules.h"

/* Lists (line types, tags, offering names) are interned as their elements,
 * each prefixed by this byte; "" is the empty list. */
#define ORA_LIST_SEP '\x1f'

#define ORA_NOIDX UINT32_MAX

/* An odds entry's decimal, as it was written: a whole number below 2^31
 * (Kambi's milli-odds, the usual case) is kept as its value; any other
 * number is kept as its literal text, interned in strs, with this bit set;
 * ORA_DEC_NULL when the entry has none. */
#define ORA_DEC_TEXT 0x80000000u
#define ORA_DEC_NULL UINT32_MAX

typedef struct ora_msg {
    int64_t offset;       /* -1 when none */
    uint64_t recv_ns;
    uint64_t actor_id;
    uint8_t flow, kind, actor_type;
} ora_msg;

/* One of an event's participants: the four fields the outputs carry. */
typedef struct ora_part {
    uint64_t id;
    uint32_t name, type;  /* interned in strs */
    uint8_t home;         /* 0 false, 1 true, 2 null */
    uint8_t has_id;
} ora_part;

enum { ORA_EVF_GROUP = 1 };

typedef struct ora_event {
    uint64_t id;
    uint64_t group_id;    /* valid with ORA_EVF_GROUP */
    uint32_t competition, sport, starts_at, status; /* strs */
    uint32_t parts_json;  /* strs: the whole participants array, canonical
                             JSON (a change of any field is a change) */
    uint32_t bo_head;     /* first linked bet offer, ORA_NOIDX if none */
    uint32_t n_bo;
    ora_part *parts;
    uint16_t n_parts;
    uint8_t exists;       /* 0: placeholder holding links of offers only */
    uint8_t flags;
} ora_event;

typedef struct ora_odds {
    uint32_t offerings;   /* offl (aux: jurisdiction mask | unknown names << 40) */
    uint32_t decimal;     /* ORA_DEC_* above */
} ora_odds;

enum { ORA_OCF_BETOFFER = 1 };

typedef struct ora_outcome {
    uint64_t id;
    uint64_t betoffer_id;   /* valid with ORA_OCF_BETOFFER; kept, never output */
    uint32_t label, status; /* strs */
    uint16_t first, n;      /* odds[first .. first+n) */
    uint8_t flags;
} ora_outcome;

enum { ORA_BOF_CRITERION = 1, ORA_BOF_GROUP = 2, ORA_BOF_LIVE = 4, ORA_BOF_EVENT = 8 };

/* The aux bits of a list in a->lists. */
enum { ORA_LIST_MAIN_LINE = 1, ORA_LIST_OFFERED_LIVE = 2 };
/* The aux of an offering list in a->offl: the sum of the names' bits (the
 * jurisdiction mask) below bit 40, the count of unknown names above. */
#define ORA_OFFL_MASK ((UINT64_C(1) << 40) - 1)
#define ORA_OFFL_UNKNOWN_SHIFT 40

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
    uint64_t msgs, applied, queued, pending_applied, pending_pruned, pending_dropped;
    uint64_t ignored, unknown_deletes, bad, created_events, created_offers, deleted_events,
        deleted_offers;
    uint64_t out_event_data, out_opened, out_closed, out_odds;
    uint64_t unknown_offerings;  /* offering names without a bit, per output */
    uint64_t missing_fields;     /* entity fields absent or of the wrong type */
    uint64_t unknown_status;     /* bet offer statuses not OPEN, SUSPENDED, CLOSED */
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

    ora_intern *strs;  /* statuses, labels, names, sports, times, decimals as text */
    ora_intern *offl;  /* offering lists, "\x1f"-joined */
    ora_intern *lists; /* line types and tags, "\x1f"-joined; aux 1 MAIN_LINE, 2 OFFERED_LIVE */
    uint32_t s_open, s_suspended, s_closed, s_started; /* held ids of these strings */

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

#endif
