/* fuzz/actors.c: ora-actors' reading of ORA messages (lib/actors.c through
 * the field table of lib/entity.c, decimals as written, canonical JSON of
 * participants) on arbitrary bytes: each line of the input is one message,
 * routed as ora-order would and applied to one network; outputs must be
 * JSON objects; at the end the state is saved and loaded back. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors.h"
#include "ora.h"
#include "persist.h"
#include "route.h"
#include "rules.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ora_rules rules;
    static int ready;
    if (!ready) {
        ora_rules_init(&rules);
        ready = 1;
    }
    ora_actors *a = ora_actors_new(&rules, check_emit, NULL);
    if (!a)
        abort();
    a->pending_ttl_ns = 2000;
    const char *p = (const char *)data, *end = p + size;
    uint64_t t = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *root = cJSON_ParseWithLength(p, n);
        ora_route rt;
        if (root && ora_route_json(root, &rt) == ORA_ROUTE_OK) {
            ora_msg m = {.offset = rt.offset, .recv_ns = t += 1000, .actor_id = rt.actor_id, .kind = (uint8_t)rt.kind,
                         .actor_type = rt.actor_type, .flow = ORA_FLOW_REALTIME};
            if (ora_actors_apply(a, &m, root, p, n) == ORA_AP_ERROR)
                abort();
        }
        cJSON_Delete(root);
        p += n + (nl ? 1 : 0);
    }
    int fd = open("/dev/null", O_WRONLY);
    ora_sw w;
    if (fd >= 0 && ora_sw_open(&w, fd) == 0) {
        ora_persist_save(a, &w);
        ora_sw_finish(&w);
    }
    if (fd >= 0)
        close(fd);
    ora_actors_free(a);
    return 0;
}
