/* genmsgs: N realistic ORA data messages as JSON lines, in the entity
 * model (translated texts, homeParticipant, competitionName, odds.decimal
 * in integer milli-odds; tests/fixtures/ora-messages.jsonl), deterministic
 * for a seed, for
 * benchmarks that must not wait for a simulator. Mix: 70% odds updates,
 * the rest adds, updates and status changes; ~400 bytes on average.
 *
 * usage: genmsgs COUNT [SEED]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "rnd.h"

static uint64_t rng;

static uint64_t rnd(void) { return ora_xorshift64s(&rng); }

static const char *const teams[] = {"Arsenal", "Chelsea", "Liverpool", "Everton", "Brighton", "Fulham",
                                    "Brentford", "Burnley", "Wolves", "Leeds", "Sunderland", "Newcastle"};
static const uint64_t criteria[] = {1001159512, 1001159732, 1001159509, 1001159926, 1001160038};
static const char *const labels[] = {"Handicap", "Full Time incl. Overtime", "Total Points", "Both Teams To Score",
                                     "First Goal"};

static void odds(char *buf, size_t n)
{
    unsigned a = 1100 + 10 * (unsigned)(rnd() % 900), b = a + 10 * (unsigned)(rnd() % 20);
    snprintf(buf, n,
             "[{\"offerings\":[\"jurisdiction1\",\"jurisdiction2\"],\"odds\":{\"decimal\":%u}},"
             "{\"offerings\":[\"jurisdiction3\",\"jurisdiction4\"],\"odds\":{\"decimal\":%u}}]",
             a, b);
}

static void event(uint64_t off, const char *key, uint64_t id)
{
    const char *h = teams[id % 12], *a = teams[(id / 12 + 1 + id) % 12];
    printf("{\"offset\":%" PRIu64 ",\"%s\":{\"event\":{\"id\":%" PRIu64 ",\"name\":{\"defaultTranslation\":\"%s - %s\"},\"group\":{\"id\":%" PRIu64
           "},\"competitionName\":{\"defaultTranslation\":\"Premier League\"},\"sport\":\"FOOTBALL\",\"startsAt\":\"2026-11-27T18:00:00Z\","
           "\"status\":\"NOT_STARTED\",\"tags\":[\"MATCH\"],\"participants\":[{\"id\":%" PRIu64 ",\"name\":{\"defaultTranslation\":\"%s\"},"
           "\"type\":\"TEAM\",\"homeParticipant\":true},{\"id\":%" PRIu64
           ",\"name\":{\"defaultTranslation\":\"%s\"},\"type\":\"TEAM\",\"homeParticipant\":false}]}}}\n",
           off, key, id, h, a, 2000000 + id % 50, 3000000 + id % 12, h, 3000000 + (id / 12 + 1 + id) % 12, a);
}

static void offer(uint64_t off, const char *key, uint64_t id, uint64_t ev)
{
    char o1[160], o2[160], o3[160];
    odds(o1, sizeof o1);
    odds(o2, sizeof o2);
    odds(o3, sizeof o3);
    int c = (int)(id % 5);
    printf("{\"offset\":%" PRIu64 ",\"%s\":{\"betOffer\":{\"id\":%" PRIu64 ",\"eventId\":%" PRIu64
           ",\"criterion\":{\"id\":%" PRIu64 ",\"label\":{\"defaultTranslation\":\"%s\"}},\"lineType\":[\"MAIN_LINE\"],"
           "\"tags\":[\"OFFERED_PREMATCH\",\"OFFERED_LIVE\"],\"status\":\"OPEN\",\"outcomes\":["
           "{\"id\":%" PRIu64 "1,\"betOfferId\":%" PRIu64 ",\"label\":{\"defaultTranslation\":\"1\"},"
           "\"status\":\"OPEN\",\"odds\":%s},"
           "{\"id\":%" PRIu64 "2,\"betOfferId\":%" PRIu64 ",\"label\":{\"defaultTranslation\":\"X\"},"
           "\"status\":\"OPEN\",\"odds\":%s},"
           "{\"id\":%" PRIu64 "3,\"betOfferId\":%" PRIu64 ",\"label\":{\"defaultTranslation\":\"2\"},"
           "\"status\":\"OPEN\",\"odds\":%s}]}}}\n",
           off, key, id, ev, criteria[c], labels[c], id, id, o1, id, id, o2, id, id, o3);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: genmsgs COUNT [SEED]\n", stderr);
        return 64;
    }
    uint64_t count = strtoull(argv[1], NULL, 10);
    rng = (argc > 2 ? strtoull(argv[2], NULL, 10) : 1) * 0x9E3779B97F4A7C15ull + 7;
    const uint64_t events = 2000, offers_per = 20;
    for (uint64_t off = 1; off <= count; off++) {
        uint64_t r = rnd() % 100;
        uint64_t e = 1000000 + rnd() % events;
        uint64_t b = 50000000 + (e - 1000000) * offers_per + rnd() % offers_per;
        if (r < 70) {
            char o[160];
            odds(o, sizeof o);
            printf("{\"offset\":%" PRIu64 ",\"outcomeOddsUpdated\":{\"betOfferId\":%" PRIu64 ",\"eventId\":%" PRIu64
                   ",\"outcomeId\":%" PRIu64 "%" PRIu64 ",\"odds\":%s}}\n",
                   off, b, e, b, 1 + rnd() % 3, o);
        } else if (r < 80) {
            offer(off, r < 75 ? "betOfferAdded" : "betOfferUpdated", b, e);
        } else if (r < 85) {
            event(off, r < 83 ? "eventAdded" : "eventUpdated", e);
        } else if (r < 92) {
            static const char *const st[] = {"OPEN", "SUSPENDED", "CLOSED"};
            printf("{\"offset\":%" PRIu64 ",\"betOfferStatusUpdated\":{\"id\":%" PRIu64 ",\"status\":\"%s\"}}\n", off,
                   b, st[rnd() % 3]);
        } else if (r < 96) {
            static const char *const st[] = {"NOT_STARTED", "STARTED", "FINISHED"};
            printf("{\"offset\":%" PRIu64 ",\"eventStatusUpdated\":{\"id\":%" PRIu64 ",\"status\":\"%s\"}}\n", off, e,
                   st[rnd() % 3]);
        } else {
            printf("{\"offset\":%" PRIu64 ",\"eventScoreUpdated\":{\"eventId\":%" PRIu64
                   ",\"score\":{\"home\":\"%u\",\"away\":\"%u\",\"info\":\"%u'\"}}}\n",
                   off, e, (unsigned)(rnd() % 5), (unsigned)(rnd() % 5), (unsigned)(rnd() % 90));
        }
    }
    return ferror(stdout) || fclose(stdout) ? 74 : 0;
}
