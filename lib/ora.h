/* ora.h: names shared by every stage: ORA message kinds (the payload keys
 * of doc/design.md §2), their actors, and control records.
 *
 * Control records (type CTRL) carry a small JSON object as payload, and
 * their kind field holds enum ora_ctrl:
 *   {"ctrl":"connected","conn":N}               a new socket: reset stream state
 *   {"ctrl":"disconnected","conn":N,"reason":"..."}
 *   {"ctrl":"flow","flow":"snapshot|replay|realtime","offset":N}
 *                                                 offset omitted when unknown
 *   {"ctrl":"checkpoint","offset":W}             all offsets <= W applied
 *   {"ctrl":"caught_up","offset":N}              ora-connect --once reached head
 */
#ifndef ORA_ORA_H
#define ORA_ORA_H

#include <stddef.h>
#include <stdint.h>

/* Offsets are JSON numbers: every stage accepts 0..2^53-1, the whole
 * numbers a double holds exactly, and nothing beyond. */
#define ORA_OFFSET_MAX ((INT64_C(1) << 53) - 1)

/* The flow a data message arrived in (doc/design.md §2). */
enum ora_flow { ORA_FLOW_NONE = 0, ORA_FLOW_SNAPSHOT = 1, ORA_FLOW_REPLAY = 2, ORA_FLOW_REALTIME = 3 };

enum ora_actor { ORA_ACTOR_NONE = 0, ORA_ACTOR_EVENT = 1, ORA_ACTOR_BETOFFER = 2 };

enum ora_kind {
    ORA_K_UNKNOWN = 0,
    ORA_K_EVENT_ADDED, ORA_K_EVENT_UPDATED, ORA_K_EVENT_DELETED,
    ORA_K_EVENT_STATUS_UPDATED, ORA_K_EVENT_CASHOUT_STATUS_UPDATED,
    ORA_K_EVENT_TAGS_UPDATED, ORA_K_EVENT_PARTICIPANTS_UPDATED,
    ORA_K_EVENT_SCORE_UPDATED, ORA_K_MATCH_CLOCK_UPDATED,
    ORA_K_BETOFFER_ADDED, ORA_K_BETOFFER_UPDATED, ORA_K_BETOFFER_STATUS_UPDATED,
    ORA_K_BETOFFER_LINETYPES_UPDATED, ORA_K_BETOFFER_CASHOUT_STATUS_UPDATED,
    ORA_K_BETOFFER_DELETED, ORA_K_OUTCOME_ODDS_UPDATED,
    ORA_K_OUTCOME_STATUS_UPDATED, ORA_K_OUTCOME_CASHOUT_STATUS_UPDATED,
    ORA_K_COUNT
};

/* How the actor id is found inside the payload object of a kind. */
enum ora_id_path { ORA_ID_NESTED, ORA_ID_ID, ORA_ID_EVENT_ID, ORA_ID_BETOFFER_ID };

typedef struct ora_kind_info {
    const char *key;        /* payload key, e.g. "eventAdded" */
    uint8_t actor;          /* enum ora_actor */
    uint8_t id_path;        /* enum ora_id_path */
    const char *nested;     /* ORA_ID_NESTED: "event" or "betOffer" */
} ora_kind_info;

/* Info for kind k (1..ORA_K_COUNT-1); NULL otherwise. */
const ora_kind_info *ora_kind_get(int k);
/* Kind of a payload key of length n; ORA_K_UNKNOWN when not in the table. */
int ora_kind_lookup(const char *key, size_t n);

enum ora_ctrl {
    ORA_C_NONE = 0, ORA_C_CONNECTED, ORA_C_DISCONNECTED, ORA_C_FLOW,
    ORA_C_CHECKPOINT, ORA_C_CAUGHT_UP, ORA_C_COUNT
};
const char *ora_ctrl_name(int c);          /* "connected", ...; NULL if bad */
int ora_ctrl_parse(const char *s);         /* ORA_C_NONE when unknown */

/* Session message types (the "type" field); data messages have none of these. */
enum ora_session {
    ORA_S_NONE = 0, ORA_S_WELCOME, ORA_S_INITIALIZE, ORA_S_INITIALIZED,
    ORA_S_SNAPSHOT, ORA_S_SNAPSHOT_COMPLETED, ORA_S_REPLAY, ORA_S_REPLAY_COMPLETED,
    ORA_S_PING, ORA_S_PONG, ORA_S_ERROR, ORA_S_COUNT
};
const char *ora_session_name(int s);       /* "SESSION_WELCOME", ...; NULL if bad */
const char *ora_session_body(int s);       /* its body's key: "sessionWelcome", ...; NULL if bad */
int ora_session_lookup(const char *s, size_t n);   /* ORA_S_NONE when unknown */

/* Repeated warnings of one kind (damaged records, bad lines, bad
 * messages) are capped the same way in every tool: the first
 * ORA_WARN_LIMIT are printed, the last of them followed by ORA_WARN_MORE;
 * the rest are only counted (the summary has the counts). */
#define ORA_WARN_LIMIT 20
#define ORA_WARN_MORE " (further ones are only counted: see the summary)"
/* Counts one more warning in *n: 1 print it, 2 print it with
 * ORA_WARN_MORE (the last one printed), 0 stay quiet. */
int ora_warn_next(uint64_t *n);

#endif
