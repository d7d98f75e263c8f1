/* kinesis.c: PutRecords bodies and responses (see kinesis.h). */
#include "kinesis.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_append(ora_buf *b, const uint8_t *s, size_t n)
{
    if (ora_buf_reserve(b, (n + 2) / 3 * 4) < 0)
        return -1;
    uint8_t *o = b->p + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = B64[(v >> 6) & 63];
        *o++ = B64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = B64[(v >> 6) & 63];
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    return 0;
}

long kinesis_utf8_chars(const uint8_t *s, size_t n)
{
    long chars = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            k = 1, cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            k = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 4, cp = c & 0x07;
        } else {
            return -1;
        }
        if (i + k > n)
            return -1;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += k;
        chars++;
    }
    return chars;
}

int kinesis_body_begin(ora_buf *b, const char *stream)
{
    b->len = 0;
    if (ora_buf_append(b, "{\"StreamName\":", 14) < 0 ||
        ora_json_cstr(b, stream) < 0)
        return -1;
    return ora_buf_append(b, ",\"Records\":[", 12);
}

int kinesis_body_add(ora_buf *b, int first, const uint8_t *key, size_t klen, const uint8_t *data,
                     size_t dlen)
{
    if (ora_buf_append(b, first ? "{\"Data\":\"" : ",{\"Data\":\"", first ? 9 : 10) < 0 ||
        b64_append(b, data, dlen) < 0 || ora_buf_append(b, "\",\"PartitionKey\":", 17) < 0 ||
        ora_json_str(b, (const char *)key, klen) < 0)
        return -1;
    return ora_buf_append(b, "}", 1);
}

int kinesis_body_end(ora_buf *b)
{
    return ora_buf_append(b, "]}", 2);
}

static int is_throttle(const char *code)
{
    return strcmp(code, "ProvisionedThroughputExceededException") == 0 ||
           strcmp(code, "ThrottlingException") == 0 || strcmp(code, "LimitExceededException") == 0 ||
           strcmp(code, "KMSThrottlingException") == 0;
}

int kinesis_parse_put(const char *body, size_t len, size_t n, uint8_t *status, kinesis_put_result *r)
{
    memset(r, 0, sizeof *r);
    r->failed_count = -1;
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return -1;
    int rc = -1;
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(j, "Records");
    const cJSON *fc = cJSON_GetObjectItemCaseSensitive(j, "FailedRecordCount");
    if (cJSON_IsNumber(fc))
        r->failed_count = (long)fc->valuedouble;
    if (!cJSON_IsArray(recs) || (size_t)cJSON_GetArraySize(recs) != n)
        goto out;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, recs) {
        if (!cJSON_IsObject(e))
            goto out;
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "ErrorCode");
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "SequenceNumber");
        if (cJSON_IsString(code) && code->valuestring[0]) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "ErrorMessage");
            int thr = is_throttle(code->valuestring);
            status[i] = thr ? KINESIS_E_THROTTLED : KINESIS_E_FAILED;
            r->failed++;
            r->throttled += thr;
            if (!r->error[0])
                snprintf(r->error, sizeof r->error, "%.60s: %.90s", code->valuestring,
                         cJSON_IsString(m) ? m->valuestring : "");
        } else if (cJSON_IsString(seq) && seq->valuestring[0]) {
            status[i] = KINESIS_E_OK;
        } else {
            goto out; /* neither: not a response we understand */
        }
        i++;
    }
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

int kinesis_classify_error(long http_status, const char *body, size_t len, char *type, size_t tn, char *msg,
                           size_t mn)
{
    type[0] = 0;
    msg[0] = 0;
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    if (j) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (!cJSON_IsString(m))
            m = cJSON_GetObjectItemCaseSensitive(j, "Message");
        if (cJSON_IsString(t)) {
            const char *h = strrchr(t->valuestring, '#');
            snprintf(type, tn, "%s", h ? h + 1 : t->valuestring);
        }
        if (cJSON_IsString(m))
            snprintf(msg, mn, "%s", m->valuestring);
        cJSON_Delete(j);
    } else if (body && len) { /* an XML ErrorResponse: <Code>, <Message> */
        const char *tags[2][2] = {{"<Code>", "</Code>"}, {"<Message>", "</Message>"}};
        char *outs[2] = {type, msg};
        size_t ns[2] = {tn, mn};
        for (int k = 0; k < 2; k++) {
            const char *a = memmem(body, len, tags[k][0], strlen(tags[k][0]));
            if (!a)
                continue;
            a += strlen(tags[k][0]);
            const char *e = memmem(a, len - (size_t)(a - body), tags[k][1], strlen(tags[k][1]));
            if (e)
                snprintf(outs[k], ns[k], "%.*s", (int)(e - a), a);
        }
    }
    /* Make the message printable on one line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    static const char *cred[] = {"ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException",
                                 "InvalidSignatureException", "IncompleteSignature", "IncompleteSignatureException",
                                 "MissingAuthenticationToken", "MissingAuthenticationTokenException",
                                 "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
                                 "KMSAccessDeniedException", NULL};
    for (int i = 0; cred[i]; i++)
        if (strcmp(type, cred[i]) == 0)
            return KINESIS_C_CREDENTIALS;
    if (is_throttle(type))
        return KINESIS_C_THROTTLE;
    if (strcmp(type, "ResourceNotFoundException") == 0)
        return KINESIS_C_NOT_FOUND;
    if (strcmp(type, "ValidationException") == 0 || strcmp(type, "SerializationException") == 0 ||
        strcmp(type, "InvalidArgumentException") == 0)
        return KINESIS_C_FATAL;
    if (http_status == 403 || http_status == 401)
        return KINESIS_C_CREDENTIALS;
    if (http_status == 429)
        return KINESIS_C_THROTTLE;
    return KINESIS_C_RETRY;
}
