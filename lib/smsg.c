/* smsg.c: ORA session messages, parsed and built (see smsg.h). */
#include "smsg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "json.h"
#include "ora.h"

/* ---- top-level scanner ------------------------------------------------- */

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at '"'; returns the byte after the closing quote, or NULL. */
static const uint8_t *skip_string(const uint8_t *p, const uint8_t *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') {
            if (++p >= e)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Skips one value (without validating its inside); NULL when it is cut off. */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < e) {
            uint8_t c = *p;
            if (c == '"') {
                if (!(p = skip_string(p, e)))
                    return NULL;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const uint8_t *s = p;
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r' && *p != '"' && *p != '{' && *p != '[' && *p != ':')
        p++;
    return p > s ? p : NULL;
}

/* A JSON integer in [0, INT64_MAX]; -1 for anything else. */
static int64_t parse_offset(const uint8_t *p, const uint8_t *e)
{
    if (p >= e || e - p > 19)
        return -1;
    int64_t v = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

static int64_t json_offset(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "offset");
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != floor(d))
        return -1;
    return (int64_t)d;
}

/* Copies a JSON string into dst, keeping printable ASCII only. */
static void copy_text(char *dst, size_t n, const cJSON *v)
{
    dst[0] = 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return;
    size_t j = 0;
    for (const char *s = v->valuestring; *s && j + 1 < n; s++)
        dst[j++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    dst[j] = 0;
}

/* The body of a session message of type t ("sessionPing", ...), or NULL
 * when it is absent or not an object. */
static const cJSON *body(const cJSON *root, int t)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, ora_session_body(t));
    return cJSON_IsObject(b) ? b : NULL;
}

/* The "id" of a PING or PONG body as compact JSON text into m->id; bad
 * when it is not a string or a number, or does not fit. */
static void parse_id(const cJSON *b, ora_smsg *m)
{
    const cJSON *id = b ? cJSON_GetObjectItemCaseSensitive(b, "id") : NULL;
    if (cJSON_IsString(id)) {
        char *t = cJSON_PrintUnformatted(id);
        if (t && strlen(t) < sizeof m->id)
            strcpy(m->id, t);
        else
            m->bad = 1;
        cJSON_free(t);
    } else if (cJSON_IsNumber(id) && isfinite(id->valuedouble)) {
        double d = id->valuedouble;
        if (d == floor(d) && fabs(d) <= 9007199254740992.0)
            snprintf(m->id, sizeof m->id, "%" PRId64, (int64_t)d);
        else
            snprintf(m->id, sizeof m->id, "%.17g", d);
    } else {
        m->bad = 1;
    }
}

static void parse_session(const uint8_t *msg, size_t len, ora_smsg *m)
{
    cJSON *root = cJSON_ParseWithLength((const char *)msg, len);
    if (!cJSON_IsObject(root)) {
        m->bad = 1;
        cJSON_Delete(root);
        return;
    }
    const cJSON *b = body(root, m->type);
    switch (m->type) {
    case ORA_S_PING:
    case ORA_S_PONG:
        parse_id(b, m);
        break;
    case ORA_S_ERROR:
        if (b) {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "code");
            copy_text(m->code, sizeof m->code, c);
            copy_text(m->text, sizeof m->text, cJSON_GetObjectItemCaseSensitive(b, "message"));
            if (!cJSON_IsString(c) || !m->code[0] || strlen(c->valuestring) >= sizeof m->code)
                m->bad = 1;
        } else {
            m->bad = 1;
        }
        break;
    case ORA_S_SNAPSHOT_COMPLETED:
    case ORA_S_REPLAY_COMPLETED:
        m->offset = b ? json_offset(b) : -1;
        break;
    case ORA_S_REPLAY:
        m->offset = b ? json_offset(b) : -1;
        if (m->offset < 0)
            m->bad = 1;
        break;
    case ORA_S_INITIALIZE:
        if (!b)
            m->bad = 1;
        break;
    default:
        break;
    }
    cJSON_Delete(root);
}

int ora_smsg_parse(const uint8_t *msg, size_t len, ora_smsg *m)
{
    memset(m, 0, sizeof *m);
    m->type = ORA_S_NONE;
    m->offset = -1;
    const uint8_t *p = msg, *e = msg + len;
    const uint8_t *ts = NULL, *te = NULL;
    int64_t off = -1;

    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return -1;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= e || *p != '"')
                return -1;
            const uint8_t *ks = p + 1;
            if (!(p = skip_string(p, e)))
                return -1;
            size_t kn = (size_t)(p - 1 - ks);
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                return -1;
            p = skip_ws(p + 1, e);
            const uint8_t *vs = p;
            if (!(p = skip_value(p, e)))
                return -1;
            if (kn == 4 && memcmp(ks, "type", 4) == 0) {
                if (*vs == '"') {
                    ts = vs + 1;
                    te = p - 1;
                } else {
                    ts = te = NULL;
                }
            } else if (kn == 6 && memcmp(ks, "offset", 6) == 0) {
                off = parse_offset(vs, p);
            }
            p = skip_ws(p, e);
            if (p < e && *p == ',') {
                p = skip_ws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') {
                p++;
                break;
            }
            return -1;
        }
    }
    if (skip_ws(p, e) != e)
        return -1;

    if (ts && te - ts >= 8 && memcmp(ts, "SESSION_", 8) == 0) {
        m->type = ora_session_lookup((const char *)ts, (size_t)(te - ts));
        if (m->type == ORA_S_NONE) {
            m->bad = 1;   /* an unknown session message */
            return 0;
        }
        parse_session(msg, len, m);
        return 0;
    }
    m->offset = off;
    return 0;
}

/* ---- SESSION_INITIALIZE, as a server reads it --------------------------- */

static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void parse_init(const cJSON *b, ora_sinit *in)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "protocolVersion");
    if (cJSON_IsString(v) && strlen(v->valuestring) < ORA_SINIT_VERSION_MAX) {
        in->has_version = 1;
        copy_str(in->version, sizeof in->version, v->valuestring);
    } else if (!in->error) {
        in->error = "protocolVersion";
    }
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, "offerings");
    if (cJSON_IsArray(o)) {
        in->has_offerings = 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, o) {
            if (!cJSON_IsString(e) || strlen(e->valuestring) >= ORA_SINIT_NAME_MAX ||
                in->n_offerings == ORA_SINIT_MAX_OFFERINGS) {
                in->has_offerings = 0;
                if (!in->error)
                    in->error = "offerings";
                break;
            }
            copy_str(in->offerings[in->n_offerings++], ORA_SINIT_NAME_MAX, e->valuestring);
        }
    } else if (!in->error) {
        in->error = "offerings";
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "token");
    if (cJSON_IsString(t) && strlen(t->valuestring) <= ORA_SINIT_TOKEN_MAX) {
        in->token_len = strlen(t->valuestring);
        in->token = malloc(in->token_len + 1);
        if (in->token)
            memcpy(in->token, t->valuestring, in->token_len + 1);
        else
            in->token_len = 0;
    } else if (!in->error) {
        in->error = "token";
    }
}

int ora_smsg_initialize(const uint8_t *msg, size_t len, ora_sinit *in)
{
    memset(in, 0, sizeof *in);
    cJSON *j = cJSON_ParseWithLength((const char *)msg, len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *b = body(j, ORA_S_INITIALIZE);
    int rc = -1;
    if (!cJSON_IsObject(j))
        in->error = "not a JSON object";
    else if (!cJSON_IsString(t) || strcmp(t->valuestring, ora_session_name(ORA_S_INITIALIZE)) != 0)
        in->error = "type";
    else if (!b)
        in->error = ora_session_body(ORA_S_INITIALIZE);
    else {
        parse_init(b, in);
        rc = 0;
    }
    cJSON_Delete(j);
    return rc;
}

void ora_sinit_free(ora_sinit *in)
{
    if (in->token) {
        sodium_memzero(in->token, in->token_len);
        free(in->token);
        in->token = NULL;
    }
    in->token_len = 0;
}

/* ---- building ---------------------------------------------------------- */

/* A JSON string or number, nothing else (it is echoed into a PONG). */
static int valid_id(const char *id)
{
    cJSON *v = cJSON_ParseWithOpts(id, NULL, 1);
    int ok = cJSON_IsString(v) || cJSON_IsNumber(v);
    cJSON_Delete(v);
    return ok;
}

/* An offset a message may carry. */
static int offset_ok(int64_t off)
{
    return off >= 0 && off <= ORA_OFFSET_MAX;
}

int ora_smsg_build(const ora_smsg_args *a, ora_buf *out)
{
    const char *name = ora_session_name(a->type);
    if (!name) {
        errno = EINVAL;
        return -1;
    }
    switch (a->type) {
    case ORA_S_INITIALIZE:
        if (!a->token) {
            errno = EINVAL;
            return -1;
        }
        break;
    case ORA_S_REPLAY:
    case ORA_S_SNAPSHOT_COMPLETED:
    case ORA_S_REPLAY_COMPLETED:
        if (!offset_ok(a->offset)) {
            errno = EINVAL;
            return -1;
        }
        break;
    case ORA_S_PING:
    case ORA_S_PONG:
        if (a->id && a->id[0] && !valid_id(a->id)) {
            errno = EINVAL;
            return -1;
        }
        break;
    case ORA_S_ERROR:
        if (!a->code) {
            errno = EINVAL;
            return -1;
        }
        break;
    }
    if (ora_buf_printf(out, "{\"type\":\"%s\",\"%s\":{", name, ora_session_body(a->type)))
        return -1;
    switch (a->type) {
    case ORA_S_INITIALIZE:
        if (ora_buf_printf(out, "\"protocolVersion\":\"V1\",\"offerings\":["))
            return -1;
        for (size_t i = 0; i < a->n_offerings; i++)
            if ((i && ora_buf_append(out, ",", 1)) || ora_json_cstr(out, a->offerings[i]))
                return -1;
        if (ora_buf_printf(out, "],\"token\":") || ora_json_cstr(out, a->token))
            return -1;
        break;
    case ORA_S_REPLAY:
    case ORA_S_SNAPSHOT_COMPLETED:
    case ORA_S_REPLAY_COMPLETED:
        if (ora_buf_printf(out, "\"offset\":%" PRId64, a->offset))
            return -1;
        break;
    case ORA_S_PING:
    case ORA_S_PONG:
        if (a->id && a->id[0] && ora_buf_printf(out, "\"id\":%s", a->id))
            return -1;
        break;
    case ORA_S_ERROR:
        if (ora_buf_printf(out, "\"code\":") || ora_json_cstr(out, a->code))
            return -1;
        if (a->message && (ora_buf_printf(out, ",\"message\":") || ora_json_cstr(out, a->message)))
            return -1;
        break;
    }
    return ora_buf_printf(out, "}}");
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int ora_smsg_frame(const uint8_t *json, size_t n, ora_buf *out)
{
    if (n > 0xfffffffbu) {
        errno = EINVAL;
        return -1;
    }
    uint8_t pre[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    size_t total = n + 4, blocks = total / 65535 + 1;
    if (ora_buf_reserve(out, 10 + blocks * 5 + total + 8))
        return -1;
    static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    ora_buf_append(out, hdr, sizeof hdr);
    size_t done = 0;
    while (done < total) {
        size_t k = total - done > 65535 ? 65535 : total - done;
        uint8_t bh[5] = {done + k == total ? 1 : 0, (uint8_t)k, (uint8_t)(k >> 8),
                         (uint8_t)~k, (uint8_t)(~k >> 8)};
        ora_buf_append(out, bh, sizeof bh);
        for (size_t i = 0; i < k; i++) {
            size_t at = done + i;
            uint8_t byte = at < 4 ? pre[at] : json[at - 4];
            ora_buf_append(out, &byte, 1);
        }
        done += k;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, pre, 4);
    for (size_t off = 0; off < n;) {
        uInt k = n - off > 0x40000000u ? 0x40000000u : (uInt)(n - off);
        crc = crc32(crc, json + off, k);
        off += k;
    }
    uint8_t tr[8];
    put_le32(tr, (uint32_t)crc);
    put_le32(tr + 4, (uint32_t)total);
    return ora_buf_append(out, tr, sizeof tr);
}
