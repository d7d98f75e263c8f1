/* jscan_test: the top-level key scanner against hand-made cases and, for
 * every line of the message fixtures, against cJSON. */
#include "jscan.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static const char *const K[] = {"type", "offset"};

/* rc, then the raw text of "type" and "offset" ("-" when absent) */
static void t(const char *json, int want_rc, const char *want_type, const char *want_off)
{
    ora_jspan v[2];
    int rc = ora_jscan((const uint8_t *)json, strlen(json), K, 2, v);
    int ok = rc == want_rc;
    if (ok && rc == 0) {
        const char *w[2] = {want_type, want_off};
        for (int i = 0; i < 2; i++) {
            if (strcmp(w[i], "-") == 0)
                ok &= v[i].p == NULL;
            else
                ok &= v[i].p && v[i].n == strlen(w[i]) && memcmp(v[i].p, w[i], v[i].n) == 0;
        }
    }
    if (!ok) {
        fprintf(stderr, "jscan case failed: %s (rc %d)\n", json, rc);
        failures++;
    }
}

static void fixtures(void)
{
    const char *dir = getenv("ORA_TOP");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/ora-messages.jsonl", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "jscan_test: cannot open %s\n", path);
        failures++;
        return;
    }
    char line[65536];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        ora_jspan v[2];
        CHECK(ora_jscan((const uint8_t *)line, len, K, 2, v) == 0);
        cJSON *j = cJSON_ParseWithLength(line, len);
        CHECK(j != NULL);
        cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
        cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "offset");
        const uint8_t *s;
        size_t sn;
        if (ty)
            CHECK(ora_jscan_str(v[0], &s, &sn) == 1 && sn == strlen(ty->valuestring) &&
                  memcmp(s, ty->valuestring, sn) == 0);
        else
            CHECK(v[0].p == NULL);
        int64_t o;
        if (off)
            CHECK(ora_jscan_i64(v[1], &o) == 0 && (double)o == off->valuedouble);
        else
            CHECK(v[1].p == NULL);
        cJSON_Delete(j);
        n++;
    }
    fclose(f);
    CHECK(n >= 20);
    printf("ok %d fixture messages agree with cJSON\n", n);
}

int main(void)
{
    t("{}", 0, "-", "-");
    t(" { } \n", 0, "-", "-");
    t("{\"offset\":12,\"eventAdded\":{\"event\":{\"id\":1}}}", 0, "-", "12");
    t("{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"17\"}}", 0, "\"SESSION_PING\"", "-");
    /* nested keys of the same names do not count */
    t("{\"x\":{\"type\":\"a\",\"offset\":1},\"offset\":2}", 0, "-", "2");
    t("{\"x\":[{\"type\":\"a\"},[\"offset\",{\"offset\":3}]]}", 0, "-", "-");
    /* a key after a nested payload still counts; the first one wins */
    t("{\"offset\":1,\"a\":{\"b\":[1,2,{\"c\":\"}]\"}]},\"type\":\"SESSION_X\",\"type\":\"y\"}", 0, "\"SESSION_X\"", "1");
    /* strings with escaped quotes and backslashes, brackets in strings */
    t("{\"a\":\"\\\"}\",\"b\":{\"c\":\"\\\\\"},\"offset\":-5}", 0, "-", "-5");
    t("{\"a\":\"x\\\\\\\"}{\",\"offset\":7}", 0, "-", "7");
    /* escaped key names decode */
    t("{\"typ\\u0065\":\"T\",\"off\\u0073et\":9}", 0, "\"T\"", "9");
    t("{\"type\\u0000\":\"T\"}", 0, "-", "-");
    /* whitespace everywhere */
    t("\t{ \"offset\" :\r\n 3 , \"type\" : \"t\" }\n", 0, "\"t\"", "3");
    /* scalars of every kind */
    t("{\"a\":true,\"b\":false,\"c\":null,\"d\":1.5e-3,\"offset\":0}", 0, "-", "0");
    /* not objects, or broken */
    t("", -1, "-", "-");
    t("[]", -1, "-", "-");
    t("\"x\"", -1, "-", "-");
    t("{", -1, "-", "-");
    t("{\"a\"}", -1, "-", "-");
    t("{\"a\":}", -1, "-", "-");
    t("{\"a\":1,}", -1, "-", "-");
    t("{\"a\":1 \"b\":2}", -1, "-", "-");
    t("{\"a\":{\"b\":1]}", -1, "-", "-");
    t("{\"a\":[1,2}", -1, "-", "-");
    t("{\"a\":\"unterminated}", -1, "-", "-");
    t("{\"a\":\"esc at end\\", -1, "-", "-");
    t("{\"a\":1}}", -1, "-", "-");
    t("{\"a\":1} x", -1, "-", "-");
    t("{a:1}", -1, "-", "-");
    t("{\"a\":{\"b\":{\"c\":1}}", -1, "-", "-");
    /* escapes, quotes and brackets at every place of the 16-byte blocks */
    for (int pad = 0; pad < 40; pad++) {
        char buf[256], want[16];
        int k = snprintf(buf, sizeof buf, "{\"a\":{\"%.*s\":[\"%.*s\\\\\",\"\\\"]}{[\",{\"q\":\"\\\\\"}],\"z\":{}},\"offset\":%d}",
                         pad, "0123456789012345678901234567890123456789", 40 - pad,
                         "abcdefghijabcdefghijabcdefghijabcdefghij", pad);
        (void)k;
        snprintf(want, sizeof want, "%d", pad);
        t(buf, 0, "-", want);
        /* and one bracket too many inside: an error */
        snprintf(buf, sizeof buf, "{\"a\":{\"%.*s\":[\"x\\\\\"]],\"offset\":1}", pad,
                 "0123456789012345678901234567890123456789");
        t(buf, -1, "-", "-");
    }
    /* depth: 999 nested arrays are fine, 1001 are not */
    {
        static char deep[4096];
        for (int d = 999; d <= 1001; d += 2) {
            int k = sprintf(deep, "{\"a\":");
            for (int i = 0; i < d; i++) deep[k++] = '[';
            for (int i = 0; i < d; i++) deep[k++] = ']';
            strcpy(deep + k, ",\"offset\":1}");
            t(deep, d <= 1000 ? 0 : -1, "-", "1");
        }
    }
    /* integers */
    {
        struct { const char *s; int rc; int64_t v; } c[] = {
            {"0", 0, 0}, {"-0", 0, 0}, {"42", 0, 42}, {"-42", 0, -42},
            {"9223372036854775807", 0, INT64_MAX}, {"-9223372036854775808", 0, INT64_MIN},
            {"9223372036854775808", -1, 0}, {"18446744073709551616", -1, 0}, {"01", -1, 0},
            {"1.0", -1, 0}, {"1e3", -1, 0}, {"-", -1, 0}, {"\"1\"", -1, 0}, {"", -1, 0}};
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
            int64_t v = 12345;
            ora_jspan s = {(const uint8_t *)c[i].s, strlen(c[i].s)};
            int rc = ora_jscan_i64(s, &v);
            if (rc != c[i].rc || (rc == 0 && v != c[i].v)) {
                fprintf(stderr, "jscan_i64 failed on %s\n", c[i].s);
                failures++;
            }
        }
        ora_jspan none = {NULL, 0};
        int64_t v;
        CHECK(ora_jscan_i64(none, &v) == -1);
    }
    /* strings */
    {
        const uint8_t *s;
        size_t n;
        ora_jspan a = {(const uint8_t *)"\"abc\"", 5}, b = {(const uint8_t *)"\"a\\nb\"", 6},
                  c = {(const uint8_t *)"12", 2}, d = {(const uint8_t *)"\"\"", 2};
        CHECK(ora_jscan_str(a, &s, &n) == 1 && n == 3 && memcmp(s, "abc", 3) == 0);
        CHECK(ora_jscan_str(b, &s, &n) == 0);
        CHECK(ora_jscan_str(c, &s, &n) == -1);
        CHECK(ora_jscan_str(d, &s, &n) == 1 && n == 0);
    }
    printf("ok hand-made cases\n");
    fixtures();
    if (failures) {
        fprintf(stderr, "jscan_test: %d failures\n", failures);
        return 1;
    }
    printf("jscan_test: all passed\n");
    return 0;
}
