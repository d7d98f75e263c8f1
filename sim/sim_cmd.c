/* sim_cmd.c: parsing of client commands for ora-sim (see sim_cmd.h). */
#include "sim_cmd.h"
#include "ora.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void parse_init(const cJSON *b, sim_cmd *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "protocolVersion");
    if (cJSON_IsString(v) && strlen(v->valuestring) < SIM_CMD_VERSION_MAX) {
        c->has_version = 1;
        copy_str(c->version, sizeof c->version, v->valuestring);
    } else if (!c->error) {
        c->error = "protocolVersion";
    }
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, "offerings");
    if (cJSON_IsArray(o)) {
        c->has_offerings = 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, o) {
            if (!cJSON_IsString(e) || strlen(e->valuestring) >= SIM_CMD_NAME_MAX ||
                c->n_offerings == SIM_CMD_MAX_OFFERINGS) {
                c->has_offerings = 0;
                if (!c->error)
                    c->error = "offerings";
                break;
            }
            copy_str(c->offerings[c->n_offerings++], SIM_CMD_NAME_MAX, e->valuestring);
        }
    } else if (!c->error) {
        c->error = "offerings";
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "token");
    if (cJSON_IsString(t) && strlen(t->valuestring) <= SIM_CMD_TOKEN_MAX) {
        c->token_len = strlen(t->valuestring);
        c->token = malloc(c->token_len + 1);
        if (c->token)
            memcpy(c->token, t->valuestring, c->token_len + 1);
        else
            c->token_len = 0;
    } else if (!c->error) {
        c->error = "token";
    }
}

int sim_cmd_parse(const char *json, size_t n, sim_cmd *c)
{
    memset(c, 0, sizeof *c);
    cJSON *j = cJSON_ParseWithLength(json, n);
    if (!j) {
        c->error = "not JSON";
        return -1;
    }
    int rc = -1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsObject(j) || !cJSON_IsString(type)) {
        c->error = "no type";
        goto out;
    }
    rc = 0;
    c->type = ora_session_lookup(type->valuestring, strlen(type->valuestring));
    const cJSON *b;
    switch (c->type) {
    case ORA_S_INITIALIZE:
        b = cJSON_GetObjectItemCaseSensitive(j, "sessionInitialize");
        if (!cJSON_IsObject(b))
            c->error = "sessionInitialize";
        else
            parse_init(b, c);
        break;
    case ORA_S_SNAPSHOT:
        break;
    case ORA_S_REPLAY:
        b = cJSON_GetObjectItemCaseSensitive(j, "sessionReplay");
        b = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "offset") : NULL;
        if (cJSON_IsNumber(b) && b->valuedouble >= 0 && b->valuedouble < 9.0e15 &&
            floor(b->valuedouble) == b->valuedouble) {
            c->has_offset = 1;
            c->offset = (int64_t)b->valuedouble;
        } else {
            c->error = "sessionReplay.offset";
        }
        break;
    case ORA_S_PONG:
        b = cJSON_GetObjectItemCaseSensitive(j, "sessionPong");
        b = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "id") : NULL;
        if (b && (cJSON_IsString(b) || cJSON_IsNumber(b))) {
            char *s = cJSON_PrintUnformatted(b);
            if (s && strlen(s) < SIM_CMD_ID_MAX)
                copy_str(c->id, sizeof c->id, s);
            else
                c->error = "sessionPong.id";
            free(s);
        } else {
            c->error = "sessionPong.id";
        }
        break;
    default:
        c->type = c->type < 0 ? ORA_S_NONE : c->type;
        break;
    }
out:
    cJSON_Delete(j);
    return rc;
}

void sim_cmd_free(sim_cmd *c)
{
    if (c->token) {
        sodium_memzero(c->token, c->token_len);
        free(c->token);
        c->token = NULL;
    }
    c->token_len = 0;
}
