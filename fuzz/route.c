/* Fuzzes lib/route.c (message -> kind, actor, offset) on arbitrary bytes:
 * parsed once with the C library's allocator and once in the cJSON arena
 * (lib/jarena.c), and routed by ora-order's tree-less scanner
 * (ora_route_scan): all must agree and obey the contract of route.h (the
 * scanner may call more texts bad JSON than cJSON does, never fewer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jarena.h"
#include "ora.h"
#include "record.h"
#include "route.h"

static void check(int rc, const ora_route *rt)
{
    switch (rc) {
    case ORA_ROUTE_OK: {
        const ora_kind_info *ki = ora_kind_get(rt->kind);
        if (!ki || ki->actor != rt->actor_type || rt->offset < 0 || rt->offset > ORA_OFFSET_MAX || !rt->key ||
            strcmp(rt->key, ki->key) != 0 || rt->actor_id > (1ull << 53))
            abort();
        break;
    }
    case ORA_ROUTE_UNKNOWN:
        if (rt->kind != ORA_K_UNKNOWN || rt->actor_type != ORA_ACTOR_NONE || rt->offset < 0 ||
            rt->offset > ORA_OFFSET_MAX)
            abort();
        break;
    case ORA_ROUTE_NO_ID:
        if (!ora_kind_get(rt->kind))
            abort();
        break;
    case ORA_ROUTE_BAD_JSON:
        if (rt->kind || rt->actor_type || rt->offset != -1)
            abort();
        break;
    case ORA_ROUTE_NO_OFFSET:
        if (rt->offset != -1)
            abort();
        break;
    case ORA_ROUTE_OFFSET_RANGE:
        if (rt->offset != -1)
            abort();
        break;
    default:
        abort();
    }
    if (!ora_route_strerror(rc))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ora_route a, b;
    cJSON *tree = NULL;
    int ra = ora_route_parse((const char *)data, size, &a, &tree);
    check(ra, &a);
    if ((ra >= 0) != (tree != NULL))
        abort();
    /* ora_route_json on the tree gives the same answer */
    if (tree) {
        ora_route c;
        if (ora_route_json(tree, &c) != ra || c.kind != a.kind || c.actor_id != a.actor_id ||
            c.offset != a.offset)
            abort();
        cJSON_Delete(tree);
    }

    jarena_install();
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    int rb = ora_route_json(root, &b);
    jarena_reset();
    jarena_release();
    if (ra == ORA_ROUTE_BAD_JSON ? rb != ORA_ROUTE_BAD_JSON
                                 : (rb != ra || b.kind != a.kind || b.actor_type != a.actor_type ||
                                    b.actor_id != a.actor_id || b.offset != a.offset))
        abort();

    ora_route d;
    int rd = ora_route_scan(data, size, &d);
    check(rd, &d);
    if (rd != ORA_ROUTE_BAD_JSON &&
        (rd != ra || d.kind != a.kind || d.actor_type != a.actor_type || d.actor_id != a.actor_id ||
         d.offset != a.offset))
        abort();
    return 0;
}
