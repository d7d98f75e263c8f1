/* fuzz/actors.c: ora-actors' reading of ORA messages (lib/actors.c through
 * the field table of lib/entity.c, decimals as written, canonical JSON of
 * participants) on arbitrary bytes: each line of the input is one message,
 * routed as ora-order would and applied to one network; outputs must be
 * JSON objects; at the end the state is saved (to /dev/null). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"

static int check_emit(void *ctx, const ora_msg *m, const char *k, size_t kl, const char *j, size_t jl)
{
    (void)ctx, (void)m;
    if (!kl || !jl || k[0] < '0' || k[0] > '9')
        abort();
    cJSON *o = cJSON_ParseWithLength(j, jl);
    if (!cJSON_IsObject(o))
        abort(); /* an output that is not JSON: a decimal passed through badly */
    cJSON_Delete(o);
    return 0;
}

static void apply(void *ctx, const ora_msg *m, const cJSON *root, const char *raw, size_t n)
{
    if (ora_actors_apply(ctx, m, root, raw, n) == ORA_AP_ERROR)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ora_actors *a = fuzz_actors_new(check_emit, NULL, 2000);
    fuzz_each_message(data, size, apply, a);
    fuzz_save_discard(a);
    ora_actors_free(a);
    return 0;
}
