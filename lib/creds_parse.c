/* creds_parse.c: credentials and the parsers of what credential providers
 * answer (see creds.h). Pure functions: no I/O. */
#include "creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

/* ---- credentials --------------------------------------------------------- */

void aws_creds_clear(aws_creds *c)
{
    if (c->mem)
        sodium_free(c->mem); /* wipes */
    memset(c, 0, sizeof *c);
}

int aws_creds_set(aws_creds *c, const char *ak, size_t akl, const char *sk, size_t skl, const char *tok,
                  size_t tl, time_t expires)
{
    aws_creds_clear(c);
    if (!ak || !sk || !akl || !skl) {
        errno = EINVAL;
        return -1;
    }
    if (!tok)
        tl = 0;
    if (sodium_init() < 0) { /* sodium_malloc needs it; idempotent */
        errno = ENOMEM;
        return -1;
    }
    size_t n = akl + skl + tl + 3;
    char *m = sodium_malloc(n);
    if (!m) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(m, ak, akl);
    m[akl] = 0;
    memcpy(m + akl + 1, sk, skl);
    m[akl + 1 + skl] = 0;
    if (tl)
        memcpy(m + akl + skl + 2, tok, tl);
    m[akl + skl + 2 + tl] = 0;
    c->mem = m;
    c->memlen = n;
    c->access_key = m;
    c->secret_key = m + akl + 1;
    c->session_token = tl ? m + akl + skl + 2 : NULL;
    c->expires = expires;
    return 0;
}

int aws_creds_copy(aws_creds *dst, const aws_creds *src)
{
    if (!src->mem) {
        aws_creds_clear(dst);
        return 0;
    }
    const char *t = src->session_token;
    return aws_creds_set(dst, src->access_key, strlen(src->access_key), src->secret_key,
                         strlen(src->secret_key), t, t ? strlen(t) : 0, src->expires);
}

int aws_creds_same(const aws_creds *a, const aws_creds *b)
{
    if (!a->mem || !b->mem)
        return a->mem == b->mem;
    if (strcmp(a->access_key, b->access_key) || strcmp(a->secret_key, b->secret_key))
        return 0;
    if (!a->session_token || !b->session_token)
        return a->session_token == b->session_token;
    return strcmp(a->session_token, b->session_token) == 0;
}

/* ---- time ---------------------------------------------------------------- */

static int digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int aws_time_parse(const char *s, size_t n, time_t *t)
{
    int Y, M, D, h, m, sec;
    if (n < 19 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        i++;
        size_t f = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == f)
            return -1;
    }
    long off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (s[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
        i += 6;
    } else {
        return -1;
    }
    if (i != n || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || Y < 1970)
        return -1;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t v = timegm(&tm);
    if (v == (time_t)-1)
        return -1;
    *t = v - off;
    return 0;
}

/* ---- STS XML ------------------------------------------------------------- */

/* The text of the first element <name> (attributes allowed) within
 * [s, s+n): its start and length, or NULL. */
static const char *xml_elem(const char *s, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    if (!s) /* an empty body */
        return NULL;
    const char *end = s + n;
    for (const char *p = s; p + nl + 2 <= end; p++) {
        p = memchr(p, '<', (size_t)(end - p));
        if (!p || p + nl + 2 > end)
            return NULL;
        if (memcmp(p + 1, name, nl) != 0 || (p[nl + 1] != '>' && p[nl + 1] != ' ' && p[nl + 1] != '/'))
            continue;
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            return NULL;
        if (gt[-1] == '/') { /* <name/> */
            *len = 0;
            return gt + 1;
        }
        const char *body = gt + 1;
        /* the matching close tag (elements we read do not nest themselves) */
        for (const char *q = body; q + nl + 3 <= end; q++) {
            q = memchr(q, '<', (size_t)(end - q));
            if (!q || q + nl + 3 > end)
                return NULL;
            if (q[1] == '/' && memcmp(q + 2, name, nl) == 0 && q[nl + 2] == '>') {
                *len = (size_t)(q - body);
                return body;
            }
        }
        return NULL;
    }
    return NULL;
}

/* Unescapes XML text into b (NUL-terminated): the five entities and
 * numeric references; anything else is an error. 0 / -1. */
static int xml_text(ora_buf *b, const char *s, size_t n)
{
    b->len = 0;
    if (ora_buf_reserve(b, n + 1) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -1; /* no credential holds a control character (or a NUL) */
        if (s[i] != '&') {
            b->p[b->len++] = (uint8_t)s[i];
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i);
        if (!semi || semi - (s + i) > 10)
            return -1;
        size_t el = (size_t)(semi - (s + i)) + 1;
        static const struct { const char *e; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        int done = 0;
        for (size_t k = 0; k < 5 && !done; k++)
            if (strlen(ents[k].e) == el && memcmp(s + i, ents[k].e, el) == 0) {
                b->p[b->len++] = (uint8_t)ents[k].c;
                done = 1;
            }
        if (!done) {
            if (el < 4 || s[i + 1] != '#')
                return -1;
            unsigned long v = 0;
            int hex = s[i + 2] == 'x' || s[i + 2] == 'X';
            for (size_t k = i + 2 + hex; k < i + el - 1; k++) {
                int c = (unsigned char)s[k], d;
                if (isdigit(c))
                    d = c - '0';
                else if (hex && isxdigit(c))
                    d = tolower(c) - 'a' + 10;
                else
                    return -1;
                v = v * (hex ? 16 : 10) + (unsigned long)d;
                if (v > 0x7f) /* credentials are ASCII */
                    return -1;
            }
            if (v < 0x20 || v == 0x7f)
                return -1;
            b->p[b->len++] = (uint8_t)v;
        }
        i += el - 1;
    }
    b->p[b->len] = 0;
    return 0;
}

static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

int sts_parse(const char *body, size_t len, aws_creds *out, char *err, size_t errlen)
{
    size_t n;
    const char *e = xml_elem(body, len, "Error", &n);
    if (e) {
        size_t cl = 0, ml = 0;
        const char *code = xml_elem(e, n, "Code", &cl), *msg = xml_elem(e, n, "Message", &ml);
        char c[80] = "", m[200] = "";
        snprintf(c, sizeof c, "%.*s", code ? (int)(cl < 79 ? cl : 79) : 0, code ? code : "");
        snprintf(m, sizeof m, "%.*s", msg ? (int)(ml < 199 ? ml : 199) : 0, msg ? msg : "");
        printable(c);
        printable(m);
        snprintf(err, errlen, "%s: %s", c[0] ? c : "error", m);
        return -1;
    }
    const char *cr = xml_elem(body, len, "Credentials", &n);
    if (!cr) {
        snprintf(err, errlen, "STS answer without Credentials");
        return -1;
    }
    size_t al, sl, tl, xl;
    const char *a = xml_elem(cr, n, "AccessKeyId", &al), *s = xml_elem(cr, n, "SecretAccessKey", &sl),
               *t = xml_elem(cr, n, "SessionToken", &tl), *x = xml_elem(cr, n, "Expiration", &xl);
    if (!a || !s || !t || !x || !al || !sl || !tl) {
        snprintf(err, errlen, "STS answer without %s", !a || !al ? "AccessKeyId" : !s || !sl ? "SecretAccessKey"
                                                          : !t || !tl ? "SessionToken" : "Expiration");
        return -1;
    }
    time_t exp;
    if (aws_time_parse(x, xl, &exp) < 0) {
        snprintf(err, errlen, "STS answer with an unreadable Expiration");
        return -1;
    }
    ora_buf ba = ORA_BUF_SECRET_INIT, bs = ORA_BUF_SECRET_INIT, bt = ORA_BUF_SECRET_INIT;
    int rc = -1;
    if (xml_text(&ba, a, al) < 0 || xml_text(&bs, s, sl) < 0 || xml_text(&bt, t, tl) < 0)
        snprintf(err, errlen, "STS answer with bad characters in its credentials");
    else if (aws_creds_set(out, (char *)ba.p, ba.len, (char *)bs.p, bs.len, (char *)bt.p, bt.len, exp) < 0)
        snprintf(err, errlen, "out of memory");
    else
        rc = 0;
    ora_buf_free(&ba);
    ora_buf_free(&bs);
    ora_buf_free(&bt);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int creds_parse_json(const char *body, size_t len, int kind, aws_creds *out, char *err, size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    int rc = -1;
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    if (kind == CREDS_JSON_PROCESS) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Version");
        if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
            snprintf(err, errlen, "\"Version\" is not 1");
            goto out;
        }
    }
    if (kind == CREDS_JSON_IMDS) {
        const char *code = jstr(j, "Code");
        if (code && strcmp(code, "Success") != 0) {
            snprintf(err, errlen, "metadata says Code %.40s", code);
            printable(err);
            goto out;
        }
    }
    const char *ak = jstr(j, "AccessKeyId"), *sk = jstr(j, "SecretAccessKey");
    const char *tk = jstr(j, kind == CREDS_JSON_PROCESS ? "SessionToken" : "Token");
    const char *ex = jstr(j, "Expiration");
    const cJSON *tko = cJSON_GetObjectItemCaseSensitive(j, kind == CREDS_JSON_PROCESS ? "SessionToken" : "Token");
    const cJSON *exo = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
    if (!ak || !*ak || !sk || !*sk) {
        snprintf(err, errlen, "no %s", !ak || !*ak ? "\"AccessKeyId\"" : "\"SecretAccessKey\"");
        goto out;
    }
    if ((tko && !cJSON_IsNull(tko) && !tk) || (exo && !cJSON_IsNull(exo) && !ex)) {
        snprintf(err, errlen, "%s is not a string", tko && !tk ? "the token" : "\"Expiration\"");
        goto out;
    }
    if (kind != CREDS_JSON_PROCESS && (!tk || !*tk || !ex)) {
        snprintf(err, errlen, "no %s", !tk || !*tk ? "\"Token\"" : "\"Expiration\"");
        goto out;
    }
    time_t exp = 0;
    if (ex && aws_time_parse(ex, strlen(ex), &exp) < 0) {
        snprintf(err, errlen, "unreadable \"Expiration\"");
        goto out;
    }
    for (const char *p = ak; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '/') {
            snprintf(err, errlen, "\"AccessKeyId\" has characters a key id cannot have");
            goto out;
        }
    if (aws_creds_set(out, ak, strlen(ak), sk, strlen(sk), tk, tk ? strlen(tk) : 0, exp) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(j); /* kinesis-put makes cJSON wipe what it frees (secmem.h) */
    return rc;
}

/* ---- command lines -------------------------------------------------------- */

int creds_split_command(const char *cmd, char ***argv)
{
    size_t n = strlen(cmd);
    /* worst case: every other byte a word */
    size_t maxw = n / 2 + 2;
    char **v = malloc(maxw * sizeof *v + n + 1);
    if (!v)
        return -1;
    char *o = (char *)(v + maxw);
    int argc = 0;
    const char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        v[argc++] = o;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                const char *e = strchr(p + 1, '\'');
                if (!e)
                    goto bad;
                memcpy(o, p + 1, (size_t)(e - p - 1));
                o += e - p - 1;
                p = e + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' || p[1] == '`'))
                        p++;
                    *o++ = *p++;
                }
                if (*p != '"')
                    goto bad;
                p++;
            } else if (*p == '\\') {
                if (!p[1])
                    goto bad;
                *o++ = p[1];
                p += 2;
            } else {
                *o++ = *p++;
            }
        }
        *o++ = 0;
    }
    if (!argc)
        goto bad;
    v[argc] = NULL;
    *argv = v;
    return argc;
bad:
    free(v);
    errno = EINVAL;
    return -1;
}

/* ---- forms ------------------------------------------------------------- */

int aws_form_append(ora_buf *b, int first, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!first && ora_buf_append(b, "&", 1) < 0)
        return -1;
    const char *parts[2] = {name, value};
    for (int k = 0; k < 2; k++) {
        if (k && ora_buf_append(b, "=", 1) < 0)
            return -1;
        size_t n = strlen(parts[k]);
        if (ora_buf_reserve(b, n * 3) < 0)
            return -1;
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
            if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
                b->p[b->len++] = *p;
            } else {
                b->p[b->len++] = '%';
                b->p[b->len++] = (uint8_t)hex[*p >> 4];
                b->p[b->len++] = (uint8_t)hex[*p & 15];
            }
        }
    }
    return 0;
}
