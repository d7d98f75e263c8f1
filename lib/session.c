/* session.c: see session.h. */
#include "session.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "json.h"
#include "ora.h"
#include "record.h"

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

/* The sub-object of a session message, e.g. "sessionPing". */
static const cJSON *body(const cJSON *root, const char *key)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsObject(b) ? b : NULL;
}

static void parse_session(const uint8_t *msg, size_t len, ora_smsg *m)
{
    cJSON *root = cJSON_ParseWithLength((const char *)msg, len);
    if (!cJSON_IsObject(root)) {
        m->bad = 1;
        cJSON_Delete(root);
        return;
    }
    const cJSON *b;
    switch (m->type) {
    case ORA_S_PING: {
        b = body(root, "sessionPing");
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
        break;
    }
    case ORA_S_ERROR:
        b = body(root, "sessionError");
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
        b = body(root, "sessionSnapshotCompleted");
        m->offset = b ? json_offset(b) : -1;
        break;
    case ORA_S_REPLAY_COMPLETED:
        b = body(root, "sessionReplayCompleted");
        m->offset = b ? json_offset(b) : -1;
        break;
    case ORA_S_REPLAY:
        b = body(root, "sessionReplay");
        m->offset = b ? json_offset(b) : -1;
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

/* ---- state machine ----------------------------------------------------- */

void ora_session_start(ora_sess *s, int64_t checkpoint, int once)
{
    s->phase = ORA_SP_WELCOME;
    s->flow = ORA_FLOW_NONE;
    s->once = once;
    s->checkpoint = checkpoint < 0 ? -1 : checkpoint;
}

static ora_sact act(int kind, int64_t offset, const char *reason)
{
    ora_sact a = {kind, offset, NULL, reason};
    return a;
}

static ora_sact start_flow(ora_sess *s)
{
    s->phase = ORA_SP_STREAM;
    if (s->checkpoint >= 0) {
        s->flow = ORA_FLOW_REPLAY;
        return act(ORA_A_SEND_REPLAY, s->checkpoint, NULL);
    }
    s->flow = ORA_FLOW_SNAPSHOT;
    return act(ORA_A_SEND_SNAPSHOT, -1, NULL);
}

ora_sact ora_session_on(ora_sess *s, const ora_smsg *m)
{
    if (m->type == ORA_S_NONE) {
        if (m->bad)
            return act(ORA_A_NONE, -1, "unknown session message type ignored");
        s->data++;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        if (s->phase != ORA_SP_STREAM && s->phase != ORA_SP_DONE)
            return act(ORA_A_NONE, -1, "data message before SNAPSHOT/REPLAY was sent");
        return act(ORA_A_NONE, -1, NULL);
    }
    if (m->type == ORA_S_PING) {
        s->pings++;
        ora_sact a = act(ORA_A_SEND_PONG, -1, m->bad ? "SESSION_PING without a usable id" : NULL);
        a.id = m->id[0] ? m->id : NULL;
        return a;
    }
    if (s->phase == ORA_SP_DONE)
        return act(ORA_A_NONE, -1, NULL);

    switch (m->type) {
    case ORA_S_WELCOME:
        if (s->phase != ORA_SP_WELCOME)
            return act(ORA_A_RECONNECT, -1, "unexpected SESSION_WELCOME");
        s->phase = ORA_SP_INIT;
        return act(ORA_A_SEND_INITIALIZE, -1, NULL);
    case ORA_S_INITIALIZED:
        if (s->phase != ORA_SP_INIT)
            return act(ORA_A_RECONNECT, -1, "unexpected SESSION_INITIALIZED");
        return start_flow(s);
    case ORA_S_SNAPSHOT_COMPLETED:
        if (s->phase != ORA_SP_STREAM || s->flow != ORA_FLOW_SNAPSHOT)
            return act(ORA_A_NONE, -1, "unexpected SESSION_SNAPSHOT_COMPLETED ignored");
        s->flow = ORA_FLOW_REPLAY;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        return act(ORA_A_NONE, -1, NULL);
    case ORA_S_REPLAY_COMPLETED:
        if (s->phase != ORA_SP_STREAM || s->flow == ORA_FLOW_SNAPSHOT)
            return act(ORA_A_NONE, -1, "unexpected SESSION_REPLAY_COMPLETED ignored");
        s->flow = ORA_FLOW_REALTIME;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        if (s->once) {
            s->phase = ORA_SP_DONE;
            return act(ORA_A_CAUGHT_UP, m->offset, NULL);
        }
        return act(ORA_A_HEALTHY, m->offset, NULL);
    case ORA_S_ERROR:
        if (m->bad)
            return act(ORA_A_FATAL, -1, m->code[0] ? m->code : "SESSION_ERROR without a code");
        if (strcmp(m->code, "INVALID_TOKEN") == 0)
            return act(ORA_A_NEW_TOKEN, -1, m->code);
        if (strcmp(m->code, "OFFSET_TOO_OLD") == 0) {
            if (s->phase != ORA_SP_STREAM || s->flow != ORA_FLOW_REPLAY)
                return act(ORA_A_RECONNECT, -1, "unexpected OFFSET_TOO_OLD");
            s->checkpoint = -1;
            s->flow = ORA_FLOW_SNAPSHOT;
            return act(ORA_A_SEND_SNAPSHOT, -1, m->code);
        }
        s->phase = ORA_SP_DONE;
        return act(ORA_A_FATAL, -1, m->code);
    default:
        /* INITIALIZE, SNAPSHOT, REPLAY, PONG: client messages. */
        return act(ORA_A_NONE, -1, "client message type from the server ignored");
    }
}

/* ---- commands ---------------------------------------------------------- */

/* A JSON string or number, nothing else (it is echoed into a PONG). */
static int valid_id(const char *id)
{
    cJSON *v = cJSON_ParseWithOpts(id, NULL, 1);
    int ok = cJSON_IsString(v) || cJSON_IsNumber(v);
    cJSON_Delete(v);
    return ok;
}

int ora_session_command(const ora_scmd *c, ora_buf *out)
{
    switch (c->type) {
    case ORA_S_INITIALIZE:
        if (!c->token) {
            errno = EINVAL;
            return -1;
        }
        if (ora_buf_printf(out, "{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":"
                                "{\"protocolVersion\":\"V1\",\"offerings\":["))
            return -1;
        for (size_t i = 0; i < c->n_offerings; i++)
            if ((i && ora_buf_append(out, ",", 1)) || ora_json_cstr(out, c->offerings[i]))
                return -1;
        if (ora_buf_printf(out, "],\"token\":") || ora_json_cstr(out, c->token))
            return -1;
        return ora_buf_printf(out, "}}");
    case ORA_S_SNAPSHOT:
        return ora_buf_printf(out, "{\"type\":\"SESSION_SNAPSHOT\",\"sessionSnapshot\":{}}");
    case ORA_S_REPLAY:
        if (c->offset < 0) {
            errno = EINVAL;
            return -1;
        }
        return ora_buf_printf(out, "{\"type\":\"SESSION_REPLAY\",\"sessionReplay\":{\"offset\":%" PRId64 "}}",
                              c->offset);
    case ORA_S_PONG:
        if (!c->id || !c->id[0])
            return ora_buf_printf(out, "{\"type\":\"SESSION_PONG\",\"sessionPong\":{}}");
        if (!valid_id(c->id)) {
            errno = EINVAL;
            return -1;
        }
        return ora_buf_printf(out, "{\"type\":\"SESSION_PONG\",\"sessionPong\":{\"id\":%s}}", c->id);
    default:
        errno = EINVAL;
        return -1;
    }
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int ora_session_frame(const uint8_t *json, size_t n, ora_buf *out)
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
