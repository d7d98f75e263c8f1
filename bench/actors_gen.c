/* actors_gen: record streams for bench/actors.sh, written straight as
 * routed MSG and CTRL records (no JSON-lines round trip).
 *
 * usage: actors_gen EVENTS OFFERS_PER_EVENT UPDATES [SEED]
 *
 * Payloads are in the ORA entity model (doc/design.md §2): translated texts
 * as {"defaultTranslation": ...}, integer milli-odds in odds[].odds.decimal.
 * A snapshot of EVENTS events with OFFERS_PER_EVENT bet offers each (3
 * outcomes, 2 odds entries per outcome, as design.md's memory goal states),
 * completed at its highest offset, then UPDATES realtime messages: 70%
 * odds moves, 10% offer status, 5% event status, 3% line types, 2% score
 * and clock, 2% delete + re-add, 3% full offer updates, 2% new offers,
 * 3% new events; 5% of adds/updates are held back behind up to 5 later
 * messages (out of order, as the ORA server does).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ora.h"
#include "record.h"
#include "rnd.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { return ora_xorshift64(&rng); }

static ora_writer *W;
static uint64_t t_ns = 1795700000000000000ull;
static char buf[8192];

static const uint64_t crit[] = {1001159512, 1001159732, 1001159509, 1001159926, 1001160038};
static const char *const clabel[] = {"Handicap", "Full Time incl. Overtime", "Total Points", "Both Teams To Score",
                                     "First Goal"};
static const char *const offs[] = {"[\"jurisdiction1\",\"jurisdiction2\"]", "[\"jurisdiction3\"]",
                                   "[\"jurisdiction4\",\"jurisdiction1\"]"};

static void put(uint8_t type, int kind, uint8_t actor, uint64_t id, int64_t off, uint8_t flow, int n)
{
    ora_rec r;
    ora_rec_init(&r, type);
    r.kind = (uint8_t)kind;
    r.actor_type = actor;
    r.actor_id = id;
    r.offset = off;
    r.flow = flow;
    r.recv_ns = (t_ns += 5000);
    if (type == ORA_T_MSG)
        r.flags = ORA_RF_ROUTED;
    r.payload = (const uint8_t *)buf;
    r.len = (uint32_t)n;
    if (ora_writer_put(W, &r) < 0) {
        perror("actors_gen");
        exit(1);
    }
}

static int odds_json(char *p, size_t n)
{
    unsigned a = 1010 + (unsigned)(rnd() % 11000), b = a + (unsigned)(rnd() % 300);
    int k = (int)(rnd() % 3);
    return snprintf(p, n, "[{\"offerings\":%s,\"odds\":{\"decimal\":%u}},{\"offerings\":%s,\"odds\":{\"decimal\":%u}}]",
                    offs[k], a, offs[(k + 1) % 3], b);
}

static int event_json(uint64_t off, const char *key, uint64_t id, const char *status)
{
    return snprintf(buf, sizeof buf,
                    "{\"offset\":%" PRIu64 ",\"%s\":{\"event\":{\"id\":%" PRIu64
                    ",\"name\":{\"defaultTranslation\":\"Team %" PRIu64 " - Team %" PRIu64 "\"},\"group\":{\"id\":%" PRIu64
                    "},\"competitionName\":{\"defaultTranslation\":\"League %" PRIu64 "\"},\"sport\":\"FOOTBALL\","
                    "\"startsAt\":\"2026-12-%02dT%02d:00:00Z\",\"status\":\"%s\",\"tags\":[\"MATCH\"],"
                    "\"participants\":[{\"id\":%" PRIu64 ",\"name\":{\"defaultTranslation\":\"Team %" PRIu64
                    "\"},\"type\":\"TEAM\",\"homeParticipant\":true},{\"id\":%" PRIu64
                    ",\"name\":{\"defaultTranslation\":\"Team %" PRIu64 "\"},\"type\":\"TEAM\",\"homeParticipant\":false}]}}}",
                    off, key, id, id % 500, (id + 7) % 500, 2000 + id % 300, id % 300, (int)(id % 28) + 1,
                    (int)(id % 24), status, 3000000 + id % 500, id % 500, 3000000 + (id + 7) % 500, (id + 7) % 500);
}

static int offer_json(uint64_t off, const char *key, uint64_t id, uint64_t eid)
{
    int c = (int)(rnd() % 5);
    int n = snprintf(buf, sizeof buf,
                     "{\"offset\":%" PRIu64 ",\"%s\":{\"betOffer\":{\"id\":%" PRIu64 ",\"eventId\":%" PRIu64
                     ",\"criterion\":{\"id\":%" PRIu64 ",\"label\":{\"defaultTranslation\":\"%s\"}},\"lineType\":[\"%s\"],"
                     "\"tags\":[\"OFFERED_PREMATCH\",\"OFFERED_LIVE\"],\"status\":\"%s\",\"outcomes\":[",
                     off, key, id, eid, crit[c], clabel[c], rnd() % 4 ? "MAIN_LINE" : "ALTERNATE_LINE",
                     rnd() % 5 ? "OPEN" : "SUSPENDED");
    static const char *const lab[] = {"1", "X", "2"};
    for (int k = 0; k < 3; k++) {
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      "%s{\"id\":%" PRIu64 ",\"betOfferId\":%" PRIu64
                      ",\"label\":{\"defaultTranslation\":\"%s\"},\"status\":\"OPEN\",\"odds\":",
                      k ? "," : "", id * 4 + (uint64_t)k, id, lab[k]);
        n += odds_json(buf + n, sizeof buf - (size_t)n);
        n += snprintf(buf + n, sizeof buf - (size_t)n, "}");
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "]}}}");
    return n;
}

typedef struct held {
    char *json;
    int n, kind, wait;
    uint8_t actor;
    uint64_t id;
    int64_t off;
} held;

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: actors_gen EVENTS OFFERS_PER_EVENT UPDATES [SEED]\n");
        return 64;
    }
    uint64_t ne = strtoull(argv[1], NULL, 10), npe = strtoull(argv[2], NULL, 10), nu = strtoull(argv[3], NULL, 10);
    if (argc > 4)
        rng ^= strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ull;
    W = ora_writer_new(1);
    int n = snprintf(buf, sizeof buf, "{\"ctrl\":\"connected\",\"conn\":1}");
    put(ORA_T_CTRL, ORA_C_CONNECTED, 0, 0, -1, 0, n);
    n = snprintf(buf, sizeof buf, "{\"ctrl\":\"flow\",\"flow\":\"snapshot\"}");
    put(ORA_T_CTRL, ORA_C_FLOW, 0, 0, -1, 0, n);
    uint64_t off = 0, nid = 1000000;
    uint64_t first_event = nid, n_events = ne, first_offer = 0, n_offers = 0;
    uint64_t *offer_ev = malloc((ne * npe + nu + 16) * sizeof *offer_ev);
    for (uint64_t e = 0; e < ne; e++) {
        uint64_t eid = first_event + e;
        n = event_json(++off, "eventAdded", eid, rnd() % 2 ? "STARTED" : "NOT_STARTED");
        put(ORA_T_MSG, ORA_K_EVENT_ADDED, ORA_ACTOR_EVENT, eid, (int64_t)off, ORA_FLOW_SNAPSHOT, n);
    }
    nid = first_event + ne;
    first_offer = 10000000;
    for (uint64_t e = 0; e < ne; e++)
        for (uint64_t k = 0; k < npe; k++) {
            uint64_t bid = first_offer + n_offers;
            offer_ev[n_offers++] = first_event + e;
            n = offer_json(++off, "betOfferAdded", bid, first_event + e);
            put(ORA_T_MSG, ORA_K_BETOFFER_ADDED, ORA_ACTOR_BETOFFER, bid, (int64_t)off, ORA_FLOW_SNAPSHOT, n);
        }
    n = snprintf(buf, sizeof buf, "{\"ctrl\":\"flow\",\"flow\":\"replay\",\"offset\":%" PRIu64 "}", off);
    put(ORA_T_CTRL, ORA_C_FLOW, 0, 0, (int64_t)off, 0, n);
    held hq[64];
    int nh = 0;
    for (uint64_t u = 0; u < nu; u++) {
        off++;
        unsigned r = (unsigned)(rnd() % 100);
        uint64_t bi = n_offers ? rnd() % n_offers : 0, bid = first_offer + bi, eid = offer_ev[bi];
        int kind;
        uint8_t actor = ORA_ACTOR_BETOFFER;
        uint64_t id = bid;
        if (r < 70) {
            kind = ORA_K_OUTCOME_ODDS_UPDATED;
            n = snprintf(buf, sizeof buf,
                         "{\"offset\":%" PRIu64 ",\"outcomeOddsUpdated\":{\"betOfferId\":%" PRIu64
                         ",\"outcomeId\":%" PRIu64 ",\"odds\":",
                         off, bid, bid * 4 + rnd() % 3);
            n += odds_json(buf + n, sizeof buf - (size_t)n);
            n += snprintf(buf + n, sizeof buf - (size_t)n, "}}");
        } else if (r < 80) {
            static const char *const st[] = {"OPEN", "SUSPENDED", "OPEN", "CLOSED"};
            kind = ORA_K_BETOFFER_STATUS_UPDATED;
            n = snprintf(buf, sizeof buf, "{\"offset\":%" PRIu64 ",\"betOfferStatusUpdated\":{\"id\":%" PRIu64
                         ",\"status\":\"%s\"}}", off, bid, st[rnd() % 4]);
        } else if (r < 85) {
            kind = ORA_K_EVENT_STATUS_UPDATED;
            actor = ORA_ACTOR_EVENT;
            id = first_event + rnd() % n_events;
            n = snprintf(buf, sizeof buf, "{\"offset\":%" PRIu64 ",\"eventStatusUpdated\":{\"id\":%" PRIu64
                         ",\"status\":\"%s\"}}", off, id, rnd() % 3 ? "STARTED" : "FINISHED");
        } else if (r < 88) {
            kind = ORA_K_BETOFFER_LINETYPES_UPDATED;
            n = snprintf(buf, sizeof buf, "{\"offset\":%" PRIu64 ",\"betOfferLineTypesUpdated\":{\"id\":%" PRIu64
                         ",\"lineTypes\":[\"%s\"]}}", off, bid, rnd() % 2 ? "MAIN_LINE" : "ALTERNATE_LINE");
        } else if (r < 90) {
            actor = ORA_ACTOR_EVENT;
            id = first_event + rnd() % n_events;
            kind = ORA_K_EVENT_SCORE_UPDATED;
            n = snprintf(buf, sizeof buf, "{\"offset\":%" PRIu64 ",\"eventScoreUpdated\":{\"eventId\":%" PRIu64
                         ",\"score\":{\"home\":\"1\",\"away\":\"0\"}}}", off, id);
        } else if (r < 92) {
            kind = ORA_K_BETOFFER_DELETED;
            n = snprintf(buf, sizeof buf, "{\"offset\":%" PRIu64 ",\"betOfferDeleted\":{\"betOfferId\":%" PRIu64 "}}",
                         off, bid);
            put(ORA_T_MSG, kind, actor, id, (int64_t)off, ORA_FLOW_REALTIME, n);
            off++;
            kind = ORA_K_BETOFFER_ADDED;
            n = offer_json(off, "betOfferAdded", bid, eid);
        } else if (r < 95) {
            kind = ORA_K_BETOFFER_UPDATED;
            n = offer_json(off, "betOfferUpdated", bid, eid);
        } else if (r < 97) {
            kind = ORA_K_BETOFFER_ADDED;
            bid = id = first_offer + n_offers;
            offer_ev[n_offers++] = eid;
            n = offer_json(off, "betOfferAdded", bid, eid);
        } else {
            kind = ORA_K_EVENT_ADDED;
            actor = ORA_ACTOR_EVENT;
            id = nid++;
            n_events++;
            n = event_json(off, "eventAdded", id, "NOT_STARTED");
        }
        int volatile_kind = kind == ORA_K_BETOFFER_ADDED || kind == ORA_K_BETOFFER_UPDATED || kind == ORA_K_EVENT_ADDED;
        if (volatile_kind && nh < 64 && rnd() % 20 == 0) {
            hq[nh] = (held){malloc((size_t)n), n, kind, 1 + (int)(rnd() % 5), actor, id, (int64_t)off};
            memcpy(hq[nh].json, buf, (size_t)n);
            nh++;
            continue;
        }
        put(ORA_T_MSG, kind, actor, id, (int64_t)off, ORA_FLOW_REALTIME, n);
        for (int k = 0; k < nh;) {
            if (--hq[k].wait > 0) {
                k++;
                continue;
            }
            memcpy(buf, hq[k].json, (size_t)hq[k].n);
            put(ORA_T_MSG, hq[k].kind, hq[k].actor, hq[k].id, hq[k].off, ORA_FLOW_REALTIME, hq[k].n);
            free(hq[k].json);
            hq[k] = hq[--nh];
        }
    }
    for (int k = 0; k < nh; k++) {
        memcpy(buf, hq[k].json, (size_t)hq[k].n);
        put(ORA_T_MSG, hq[k].kind, hq[k].actor, hq[k].id, hq[k].off, ORA_FLOW_REALTIME, hq[k].n);
        free(hq[k].json);
    }
    if (ora_writer_flush(W) < 0) {
        perror("actors_gen");
        return 1;
    }
    ora_writer_free(W);
    free(offer_ev);
    return 0;
}
