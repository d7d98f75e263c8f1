/* fuzz/jscan.c: the top-level key scanner on arbitrary bytes, checked
 * against cJSON. The validating scan (ora_jscan_valid) must never accept a
 * text that cJSON refuses, and its members must be the spans of the plain
 * scanner. And the plain scanner: whenever cJSON parses the input as an object, jscan must
 * accept it and find the same first "type" string and "offset" integer.
 * (jscan is allowed to accept more: it does not validate nested values.)
 * Inputs with control bytes other than JSON whitespace, or with \u0000 or a
 * bad \u escape, are
 * only run for memory safety: cJSON treats those differently on purpose. */
#include "jscan.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"type", "offset", "x"};
    ora_jspan v[3];
    int rc = ora_jscan(data, size, keys, 3, v);
    int64_t off;
    const uint8_t *s;
    size_t n;
    if (rc == 0) {
        for (int i = 0; i < 3; i++)
            if (v[i].p && (v[i].p < data || v[i].p + v[i].n > data + size || v[i].n == 0))
                abort();
        (void)ora_jscan_i64(v[1], &off);
        (void)ora_jscan_str(v[0], &s, &n);
    }
    /* the validating scan: what it accepts, cJSON parses as an object */
    if (ora_jscan_valid(data, size, NULL, NULL) == 0) {
        if (rc != 0)
            abort();
        cJSON *cj = cJSON_ParseWithLength((const char *)data, size);
        if (!cJSON_IsObject(cj))
            abort();
        cJSON_Delete(cj);
        ora_jspan obj = {data, size}, fv;
        if (ora_jscan_find(obj, "offset", &fv) < 0)
            abort();
        uint64_t u;
        if (fv.p && fv.p[0] != '{' && fv.p[0] != '[' && ora_jscan_uint(fv, 1000, &u) == 0 && u > 1000)
            abort();
    }
    for (size_t i = 0; i < size; i++)
        if ((data[i] < 0x20 && data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r') ||
            data[i] == 0x7f)
            return 0;
    /* cJSON decodes a bad \u escape, and \u0000, to a NUL that ends the
     * name: "offset\u0000x" is "offset" to it */
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '\\' && data[i + 1] == 'u') {
            if (i + 6 > size || !isxdigit(data[i + 2]) || !isxdigit(data[i + 3]) || !isxdigit(data[i + 4]) ||
                !isxdigit(data[i + 5]) || memcmp(data + i + 2, "0000", 4) == 0)
                return 0;
        }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    if (!j)
        return 0;
    /* cJSON stops after the value; jscan wants only whitespace after it */
    int trailing = 0;
    for (const char *p = end; p < (const char *)data + size; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            trailing = 1;
    if (cJSON_IsObject(j) && !trailing) {
        if (rc != 0)
            abort();
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
        if (!t != !v[0].p)
            abort();
        if (cJSON_IsString(t) && ora_jscan_str(v[0], &s, &n) == 1 &&
            (n != strlen(t->valuestring) || memcmp(s, t->valuestring, n) != 0))
            abort();
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "offset");
        if (!o != !v[1].p)
            abort();
        if (cJSON_IsNumber(o) && ora_jscan_i64(v[1], &off) == 0 && off > -(1LL << 52) && off < (1LL << 52) &&
            (double)off != o->valuedouble)
            abort();
    }
    cJSON_Delete(j);
    return 0;
}
