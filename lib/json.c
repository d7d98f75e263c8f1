/* json.c: JSON writers and the whole-number reader (json.h). */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int ora_json_str(ora_buf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    if (!s)
        return ora_buf_append(b, "null", 4);
    /* worst case: every byte a 6-byte \u00XX escape */
    if (ora_buf_reserve(b, n * 6 + 2) < 0)
        return -1;
    uint8_t *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
            *o++ = c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u', *o++ = '0', *o++ = '0', *o++ = (uint8_t)hx[c >> 4], *o++ = (uint8_t)hx[c & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return 0;
}

int ora_json_cstr(ora_buf *b, const char *s)
{
    return ora_json_str(b, s, s ? strlen(s) : 0);
}

int ora_json_uint(ora_buf *b, uint64_t v)
{
    char t[24];
    int i = (int)sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return ora_buf_append(b, t + i, sizeof t - (size_t)i);
}

int ora_json_int(ora_buf *b, int64_t v)
{
    if (v >= 0)
        return ora_json_uint(b, (uint64_t)v);
    if (ora_buf_append(b, "-", 1) < 0)
        return -1;
    return ora_json_uint(b, (uint64_t)0 - (uint64_t)v);
}

int ora_json_time(ora_buf *b, uint64_t ns)
{
    /* one gmtime per second of receive time */
    static __thread uint64_t cached_s = UINT64_MAX;
    static __thread char prefix[64];
    if (!ns)
        return ora_buf_append(b, "null", 4);
    uint64_t s = ns / 1000000000u;
    unsigned ms = (unsigned)(ns % 1000000000u / 1000000u);
    if (s != cached_s) {
        time_t ts = (time_t)s;
        struct tm tm;
        if (!gmtime_r(&ts, &tm))
            return ora_buf_append(b, "null", 4);
        snprintf(prefix, sizeof prefix, "\"%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_s = s;
    }
    char t[72];
    size_t n = strlen(prefix);
    memcpy(t, prefix, n);
    t[n++] = (char)('0' + ms / 100);
    t[n++] = (char)('0' + ms / 10 % 10);
    t[n++] = (char)('0' + ms % 10);
    t[n++] = 'Z';
    t[n++] = '"';
    return ora_buf_append(b, t, n);
}

int ora_json_u64(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double d = item->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || floor(d) != d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}
