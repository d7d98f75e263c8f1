/* route.c: message -> actor (route.h). */
#include "route.h"

#include <math.h>
#include <string.h>

#include "jscan.h"
#include "ora.h"
#include "record.h"

/* The name of the member that holds kind ki's actor id: in the payload,
 * or for ORA_ID_NESTED in its member ki->nested. */
static const char *id_member(const ora_kind_info *ki)
{
    switch (ki->id_path) {
    case ORA_ID_EVENT_ID:
        return "eventId";
    case ORA_ID_BETOFFER_ID:
        return "betOfferId";
    default:
        return "id";
    }
}

static int find_id(const cJSON *payload, const ora_kind_info *ki, uint64_t *id)
{
    const cJSON *holder =
        ki->id_path == ORA_ID_NESTED ? cJSON_GetObjectItemCaseSensitive(payload, ki->nested) : payload;
    if (!cJSON_IsObject(holder))
        return -1;
    return ora_json_u64(cJSON_GetObjectItemCaseSensitive(holder, id_member(ki)), id);
}

int ora_route_json(const cJSON *root, ora_route *out)
{
    memset(out, 0, sizeof *out);
    out->offset = -1;
    if (!cJSON_IsObject(root))
        return ORA_ROUTE_BAD_JSON;
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "offset");
    uint64_t o;
    int have_offset = off && ora_json_u64(off, &o) == 0 && o <= ORA_OFFSET_MAX;
    if (have_offset)
        out->offset = (int64_t)o;
    int off_range = !have_offset && cJSON_IsNumber(off);
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
        return have_offset ? ORA_ROUTE_OK : off_range ? ORA_ROUTE_OFFSET_RANGE : ORA_ROUTE_NO_OFFSET;
    }
    return have_offset ? ORA_ROUTE_UNKNOWN : off_range ? ORA_ROUTE_OFFSET_RANGE : ORA_ROUTE_NO_OFFSET;
}

/* ---- the same from the bytes, without a tree ----------------------------- */

typedef struct scan_ctx {
    ora_jspan offset, payload;
    int kind;
    const char *key;
} scan_ctx;

static int on_member(void *ctx, const uint8_t *name, size_t n, ora_jspan val)
{
    scan_ctx *c = ctx;
    if (!name)
        return 0;
    if (!c->offset.p && n == 6 && memcmp(name, "offset", 6) == 0) {
        c->offset = val;
    } else if (!c->kind) {
        int k = ora_kind_lookup((const char *)name, n);
        if (k != ORA_K_UNKNOWN) {
            c->kind = k;
            c->payload = val;
        }
    }
    return 0;
}

/* The actor id of a payload object (already checked as JSON). */
static int scan_id(ora_jspan payload, const ora_kind_info *ki, uint64_t *id)
{
    ora_jspan holder = payload, v;
    if (ki->id_path == ORA_ID_NESTED && ora_jscan_find(payload, ki->nested, &holder) != 1)
        return -1;
    if (ora_jscan_find(holder, id_member(ki), &v) != 1)
        return -1;
    return ora_jscan_uint(v, ORA_ID_MAX, id) == 0 ? 0 : -1;
}

int ora_route_scan(const uint8_t *json, size_t n, ora_route *out)
{
    scan_ctx c = {{NULL, 0}, {NULL, 0}, ORA_K_UNKNOWN, NULL};
    memset(out, 0, sizeof *out);
    out->offset = -1;
    if (ora_jscan_valid(json, n, on_member, &c) != 0)
        return ORA_ROUTE_BAD_JSON;
    uint64_t o;
    int orc = c.offset.p ? ora_jscan_uint(c.offset, ORA_OFFSET_MAX, &o) : -1;
    if (orc == 0)
        out->offset = (int64_t)o;
    int miss = orc == 1 ? ORA_ROUTE_OFFSET_RANGE : ORA_ROUTE_NO_OFFSET;
    if (c.kind == ORA_K_UNKNOWN)
        return orc == 0 ? ORA_ROUTE_UNKNOWN : miss;
    const ora_kind_info *ki = ora_kind_get(c.kind);
    out->kind = c.kind;
    out->key = ki->key;
    if (scan_id(c.payload, ki, &out->actor_id) < 0) {
        out->actor_id = 0;
        return ORA_ROUTE_NO_ID;
    }
    out->actor_type = ki->actor;
    return orc == 0 ? ORA_ROUTE_OK : miss;
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
    case ORA_ROUTE_OFFSET_RANGE: return "\"offset\" outside 0..2^53-1";
    }
    return "unknown route error";
}
