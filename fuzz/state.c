/* fuzz/state.c: the ora-actors state file loader (lib/statefile.c,
 * ora_persist_load in lib/persist.c) on arbitrary bytes. The trailing sum is
 * not checked (verify = 0) so that the fuzzer reaches the parser; a loaded
 * state is then exercised: dumped, a few messages applied to it, pruned
 * and saved again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"
#include "statefile.h"

static int null_emit(void *ctx, const ora_msg *m, const char *k, size_t kl, const char *j, size_t jl)
{
    (void)ctx, (void)m, (void)k, (void)kl, (void)j, (void)jl;
    return 0;
}

static int null_put(void *ctx, const char *s, size_t n)
{
    (void)ctx, (void)s, (void)n;
    return 0;
}

static const char *const msgs[] = {
    "{\"offset\":1,\"eventStatusUpdated\":{\"id\":1000001,\"status\":\"STARTED\"}}",
    "{\"offset\":2,\"outcomeOddsUpdated\":{\"betOfferId\":5000001,\"outcomeId\":6000001,\"odds\":[{\"offerings\":"
    "[\"jurisdiction1\"],\"odds\":{\"decimal\":2.50}}]}}",
    "{\"offset\":3,\"betOfferAdded\":{\"betOffer\":{\"id\":5000001,\"eventId\":1000001,\"status\":\"OPEN\","
    "\"outcomes\":[{\"id\":6000002,\"label\":{\"defaultTranslation\":\"X\"},\"odds\":[{\"offerings\":[],"
    "\"odds\":{\"decimal\":1900}}]}]}}}",
    "{\"offset\":4,\"eventDeleted\":{\"id\":1000001}}",
};
static const uint8_t kinds[] = {ORA_K_EVENT_STATUS_UPDATED, ORA_K_OUTCOME_ODDS_UPDATED, ORA_K_BETOFFER_ADDED,
                                ORA_K_EVENT_DELETED};
static const uint64_t ids[] = {1000001, 5000001, 5000001, 1000001};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ora_actors *a = fuzz_actors_new(null_emit, NULL, 1000000000ull);
    ora_wm wm;
    if (ora_wm_init(&wm, 1000) < 0)
        abort();
    char err[256];
    uint64_t now;
    if (ora_state_parse(data, size, 0, a, &wm, &now, err, sizeof err) == 0) {
        ora_persist_dump(a, null_put, NULL);
        for (int i = 0; i < 4; i++) {
            cJSON *root = cJSON_Parse(msgs[i]);
            const ora_kind_info *ki = ora_kind_get(kinds[i]);
            ora_msg m = {.offset = i + 1, .recv_ns = now + 1, .actor_id = ids[i], .kind = kinds[i],
                         .actor_type = ki->actor, .flow = ORA_FLOW_REALTIME};
            ora_actors_apply(a, &m, root, msgs[i], strlen(msgs[i]));
            cJSON_Delete(root);
        }
        ora_actors_prune(a, now + 10000000000ull);
        /* the loaded state, changed, is saved again (memory safety only) */
        fuzz_save_discard(a);
    }
    ora_actors_free(a);
    ora_wm_free(&wm);
    return 0;
}
