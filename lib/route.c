/* route.c: message -> actor (route.h). */
#include "route.h"

#include <math.h>
#include <string.h>

#include "ora.h"
#include "record.h"

static int find_id(const cJSON *payload, const ora_kind_info *ki, uint64_t *id)
{
    const cJSON *holder = payload;
    const char *name = "id";
    switch (ki->id_path) {
    case ORA_ID_NESTED:
        holder = cJSON_GetObjectItemCaseSensitive(payload, ki->nested);
        break;
    case ORA_ID_ID:
        break;
    case ORA_ID_EVENT_ID:
        name = "eventId";
        break;
    case ORA_ID_BETOFFER_ID:
        name = "betOfferId";
        break;
    }
    if (!cJSON_IsObject(holder))
        return -1;
    return ora_json_u64(cJSON_GetObjectItemCaseSensitive(holder, name), id);
}

int ora_route_json(const cJSON *root, ora_route *out)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    if (!cJSON_IsObject(root))
        return ORA_ROUTE_BAD_JSON;
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "offset");
    uint64_t o;
    int have_offset = off && ora_json_u64(off, &o) == 0 && o <= INT64_MAX;
    if (have_offset)
        out->offset = (int64_t)o;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!c->string)
            continue;
        int k = ora_kind_lookup(c->string, strlen(c->string));
        if (k == ORA_K_UNKNOWN)
            continue;
        const ora_kind_info *ki = ora_kind_get(k);
        out->kind = k;
        out->key = c->string;
        if (!cJSON_IsObject(c) || find_id(c, ki, &out->actor_id) < 0)
            return ORA_ROUTE_NO_ID;
        out->actor_type = ki->actor;
        return have_offset ? ORA_ROUTE_OK : ORA_ROUTE_NO_OFFSET;
    }
    return have_offset ? ORA_ROUTE_UNKNOWN : ORA_ROUTE_NO_OFFSET;
}

int ora_route_parse(const char *json, size_t n, ora_route *out, cJSON **tree)
{
    cJSON *root = cJSON_ParseWithLength(json, n);
    if (!root) {
        memset(out, 0, sizeof *out);
        out->offset = -1;
        return ORA_ROUTE_BAD_JSON;
    }
    int rc = ora_route_json(root, out);
    if (tree && rc >= 0) {
        *tree = root;
    } else {
        out->key = NULL;
        cJSON_Delete(root);
        if (tree)
            *tree = NULL;
    }
    return rc;
}

const char *ora_route_strerror(int rc)
{
    switch (rc) {
    case ORA_ROUTE_OK: return "ok";
    case ORA_ROUTE_UNKNOWN: return "no known payload key";
    case ORA_ROUTE_BAD_JSON: return "malformed JSON";
    case ORA_ROUTE_NO_ID: return "payload without a valid actor id";
    case ORA_ROUTE_NO_OFFSET: return "no valid \"offset\"";
    }
    return "unknown route error";
}
