/* ora.c: the tables behind ora.h. */
#include "ora.h"

#include <string.h>
#include <strings.h>

#include "record.h"

static const ora_kind_info kinds[ORA_K_COUNT] = {
    [ORA_K_EVENT_ADDED] = {"eventAdded", ORA_ACTOR_EVENT, ORA_ID_NESTED, "event"},
    [ORA_K_EVENT_UPDATED] = {"eventUpdated", ORA_ACTOR_EVENT, ORA_ID_NESTED, "event"},
    [ORA_K_EVENT_DELETED] = {"eventDeleted", ORA_ACTOR_EVENT, ORA_ID_ID, NULL},
    [ORA_K_EVENT_STATUS_UPDATED] = {"eventStatusUpdated", ORA_ACTOR_EVENT, ORA_ID_ID, NULL},
    [ORA_K_EVENT_CASHOUT_STATUS_UPDATED] = {"eventCashOutStatusUpdated", ORA_ACTOR_EVENT, ORA_ID_ID, NULL},
    [ORA_K_EVENT_TAGS_UPDATED] = {"eventTagsUpdated", ORA_ACTOR_EVENT, ORA_ID_ID, NULL},
    [ORA_K_EVENT_PARTICIPANTS_UPDATED] = {"eventParticipantsUpdated", ORA_ACTOR_EVENT, ORA_ID_EVENT_ID, NULL},
    [ORA_K_EVENT_SCORE_UPDATED] = {"eventScoreUpdated", ORA_ACTOR_EVENT, ORA_ID_EVENT_ID, NULL},
    [ORA_K_MATCH_CLOCK_UPDATED] = {"matchClockUpdated", ORA_ACTOR_EVENT, ORA_ID_EVENT_ID, NULL},
    [ORA_K_BETOFFER_ADDED] = {"betOfferAdded", ORA_ACTOR_BETOFFER, ORA_ID_NESTED, "betOffer"},
    [ORA_K_BETOFFER_UPDATED] = {"betOfferUpdated", ORA_ACTOR_BETOFFER, ORA_ID_NESTED, "betOffer"},
    [ORA_K_BETOFFER_STATUS_UPDATED] = {"betOfferStatusUpdated", ORA_ACTOR_BETOFFER, ORA_ID_ID, NULL},
    [ORA_K_BETOFFER_LINETYPES_UPDATED] = {"betOfferLineTypesUpdated", ORA_ACTOR_BETOFFER, ORA_ID_ID, NULL},
    [ORA_K_BETOFFER_CASHOUT_STATUS_UPDATED] = {"betOfferCashOutStatusUpdated", ORA_ACTOR_BETOFFER, ORA_ID_ID, NULL},
    [ORA_K_BETOFFER_DELETED] = {"betOfferDeleted", ORA_ACTOR_BETOFFER, ORA_ID_BETOFFER_ID, NULL},
    [ORA_K_OUTCOME_ODDS_UPDATED] = {"outcomeOddsUpdated", ORA_ACTOR_BETOFFER, ORA_ID_BETOFFER_ID, NULL},
    [ORA_K_OUTCOME_STATUS_UPDATED] = {"outcomeStatusUpdated", ORA_ACTOR_BETOFFER, ORA_ID_BETOFFER_ID, NULL},
    [ORA_K_OUTCOME_CASHOUT_STATUS_UPDATED] = {"outcomeCashoutStatusUpdated", ORA_ACTOR_BETOFFER, ORA_ID_BETOFFER_ID, NULL},
};

const ora_kind_info *ora_kind_get(int k)
{
    if (k <= ORA_K_UNKNOWN || k >= ORA_K_COUNT)
        return NULL;
    return &kinds[k];
}

int ora_kind_lookup(const char *key, size_t n)
{
    for (int k = 1; k < ORA_K_COUNT; k++)
        if (strlen(kinds[k].key) == n && memcmp(kinds[k].key, key, n) == 0)
            return k;
    return ORA_K_UNKNOWN;
}

static const char *const ctrl_names[ORA_C_COUNT] = {
    [ORA_C_CONNECTED] = "connected", [ORA_C_DISCONNECTED] = "disconnected",
    [ORA_C_FLOW] = "flow", [ORA_C_CHECKPOINT] = "checkpoint", [ORA_C_CAUGHT_UP] = "caught_up",
};

const char *ora_ctrl_name(int c)
{
    return c > ORA_C_NONE && c < ORA_C_COUNT ? ctrl_names[c] : NULL;
}

int ora_ctrl_parse(const char *s)
{
    for (int c = 1; c < ORA_C_COUNT; c++)
        if (strcmp(ctrl_names[c], s) == 0)
            return c;
    return ORA_C_NONE;
}

static const char *const session_names[ORA_S_COUNT] = {
    [ORA_S_WELCOME] = "SESSION_WELCOME", [ORA_S_INITIALIZE] = "SESSION_INITIALIZE",
    [ORA_S_INITIALIZED] = "SESSION_INITIALIZED", [ORA_S_SNAPSHOT] = "SESSION_SNAPSHOT",
    [ORA_S_SNAPSHOT_COMPLETED] = "SESSION_SNAPSHOT_COMPLETED", [ORA_S_REPLAY] = "SESSION_REPLAY",
    [ORA_S_REPLAY_COMPLETED] = "SESSION_REPLAY_COMPLETED", [ORA_S_PING] = "SESSION_PING",
    [ORA_S_PONG] = "SESSION_PONG", [ORA_S_ERROR] = "SESSION_ERROR",
};

static const char *const session_bodies[ORA_S_COUNT] = {
    [ORA_S_WELCOME] = "sessionWelcome", [ORA_S_INITIALIZE] = "sessionInitialize",
    [ORA_S_INITIALIZED] = "sessionInitialized", [ORA_S_SNAPSHOT] = "sessionSnapshot",
    [ORA_S_SNAPSHOT_COMPLETED] = "sessionSnapshotCompleted", [ORA_S_REPLAY] = "sessionReplay",
    [ORA_S_REPLAY_COMPLETED] = "sessionReplayCompleted", [ORA_S_PING] = "sessionPing",
    [ORA_S_PONG] = "sessionPong", [ORA_S_ERROR] = "sessionError",
};

const char *ora_session_body(int s)
{
    return s > ORA_S_NONE && s < ORA_S_COUNT ? session_bodies[s] : NULL;
}

const char *ora_session_name(int s)
{
    return s > ORA_S_NONE && s < ORA_S_COUNT ? session_names[s] : NULL;
}

int ora_session_lookup(const char *s, size_t n)
{
    for (int i = 1; i < ORA_S_COUNT; i++)
        if (strlen(session_names[i]) == n && memcmp(session_names[i], s, n) == 0)
            return i;
    return ORA_S_NONE;
}
