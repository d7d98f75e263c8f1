/* jscan_test: the top-level key scanner against hand-made cases and, for
 * every line of the message fixtures, against cJSON. */
#include "jscan.h"
#include "ora.h"
#include "route.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

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
        unit_failed();
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
        unit_failed();
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

/* ora_jscan_valid: want 0 (valid object) or -1 */
static void v(const char *json, int want)
{
    int rc = ora_jscan_valid((const uint8_t *)json, strlen(json), NULL, NULL);
    if (rc != want) {
        fprintf(stderr, "jscan_valid case failed: %s (rc %d, want %d)\n", json, rc, want);
        unit_failed();
    }
    /* every text it accepts, cJSON accepts */
    if (rc == 0) {
        cJSON *j = cJSON_ParseWithLength(json, strlen(json));
        CHECK(cJSON_IsObject(j));
        cJSON_Delete(j);
    }
}

typedef struct seen {
    char names[8][70];
    char vals[8][70];
    int n;
} seen;

static int collect(void *ctx, const uint8_t *name, size_t nl, ora_jspan val)
{
    seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof s->names[0], "%.*s", name ? (int)nl : 2, name ? (const char *)name : "<>");
        snprintf(s->vals[s->n], sizeof s->vals[0], "%.*s", (int)val.n, (const char *)val.p);
        s->n++;
    }
    return 0;
}

static int stop_at_b(void *ctx, const uint8_t *name, size_t nl, ora_jspan val)
{
    (void)val;
    ++*(int *)ctx;
    return nl == 1 && name[0] == 'b' ? 7 : 0;
}

/* Texts ora_jscan_valid accepts as one JSON object, as cJSON does. */
static const char *const accepted[] = {
    "{}",
    " {\n} \t",
    "{\"a\":[1,-0,0.5,2.5e-3,1E+9,-12e0,true,false,null,\"x\",{},[]]}",
    "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
    "{\"a\":\"raw \x01 control and \xc3\xa9 bytes pass, as in cJSON\"}",
    "{ \"a\" : [ 1 , { \"b\" : null } ] , \"c\" : 2 }",
    /* cJSON reads 63 characters of a number, no more */
    "{\"a\":1.0000000000000000000000000000000000000000000000000000000000000}",
};

/* Texts it refuses. */
static const char *const refused[] = {
    /* numbers by the grammar */
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":+1}",
    "{\"a\":-}",
    "{\"a\":1e}",
    "{\"a\":1e+}",
    "{\"a\":0x10}",
    "{\"a\":1.5.2}",
    /* cJSON reads 63 characters of a number, no more */
    "{\"a\":1.00000000000000000000000000000000000000000000000000000000000000}",
    /* literals exactly */
    "{\"a\":tru}",
    "{\"a\":nul}",
    "{\"a\":falsey}",
    "{\"a\":True}",
    /* escapes */
    "{\"a\":\"\\x\"}",
    "{\"a\":\"\\u12g4\"}",
    "{\"a\":\"\\u12\"}",
    "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\ud800x\"}",
    "{\"a\":\"\\ud800\\u0041\"}",
    "{\"\\q\":1}",
    /* structure */
    "",
    "[]",
    "\"x\"",
    "{\"a\":1,}",
    "{\"a\":[1,]}",
    "{\"a\":[1 2]}",
    "{\"a\":{\"b\"}}",
    "{\"a\":{\"b\":1]}",
    "{\"a\":[}",
    "{\"a\":1}x",
    "{\"a\":1}}",
    "{\"a\":\"unterminated}",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1,\"b\"",
};

static void valid_cases(void)
{
    for (size_t i = 0; i < UNIT_LEN(accepted); i++)
        v(accepted[i], 0);
    for (size_t i = 0; i < UNIT_LEN(refused); i++)
        v(refused[i], -1);
    /* brackets and quotes at every place of the 16-byte blocks */
    for (int pad = 0; pad < 40; pad++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{\"a\":{\"%.*s\":[\"%.*s\\\\\",\"\\\"]}{[\",{\"q\":\"\\\\\"}],\"z\":{}},\"offset\":%d}",
                 pad, "0123456789012345678901234567890123456789", 40 - pad,
                 "abcdefghijabcdefghijabcdefghijabcdefghij", pad);
        v(buf, 0);
        buf[strlen(buf) - 1] = 0;   /* cut the closing brace */
        v(buf, -1);
    }
    /* depth: 1000 levels with the top object, as cJSON; not 1001 */
    {
        static char deep[4096];
        for (int d = 999; d <= 1000; d++) {
            int k = sprintf(deep, "{\"a\":");
            for (int i = 0; i < d; i++) deep[k++] = '[';
            for (int i = 0; i < d; i++) deep[k++] = ']';
            strcpy(deep + k, "}");
            v(deep, d <= 999 ? 0 : -1);
        }
    }
    /* members: in order, names decoded and cut at a NUL as cJSON cuts them,
     * raw value text; long names come as NULL */
    {
        seen s = {.n = 0};
        const char *j = "{\"off\\u0073et\":7,\"type\\u0000x\":\"T\",\"p\":{\"q\":[1]},"
                        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n\":1}";
        CHECK(ora_jscan_valid((const uint8_t *)j, strlen(j), collect, &s) == 0);
        CHECK(s.n == 4);
        CHECK(strcmp(s.names[0], "offset") == 0 && strcmp(s.vals[0], "7") == 0);
        CHECK(strcmp(s.names[1], "type") == 0 && strcmp(s.vals[1], "\"T\"") == 0);
        CHECK(strcmp(s.names[2], "p") == 0 && strcmp(s.vals[2], "{\"q\":[1]}") == 0);
        CHECK(strcmp(s.names[3], "<>") == 0);
        int calls = 0;
        const char *k = "{\"a\":1,\"b\":2,\"c\":3}";
        CHECK(ora_jscan_valid((const uint8_t *)k, strlen(k), stop_at_b, &calls) == 7 && calls == 2);
    }
    /* find: first member, exact scalar spans, nested spans run on */
    {
        const char *j = "{\"x\":{\"id\":1},\"id\":42,\"id\":43,\"o\":{\"id\":5,\"z\":[]}}";
        ora_jspan obj = {(const uint8_t *)j, strlen(j)}, val, in;
        CHECK(ora_jscan_find(obj, "id", &val) == 1 && val.n == 2 && memcmp(val.p, "42", 2) == 0);
        CHECK(ora_jscan_find(obj, "o", &val) == 1 && val.p[0] == '{');
        CHECK(ora_jscan_find(val, "id", &in) == 1 && in.n == 1 && in.p[0] == '5');
        CHECK(ora_jscan_find(val, "nope", &in) == 0);
        CHECK(ora_jscan_find(obj, "missing", &val) == 0 && val.p == NULL);
        ora_jspan num = {(const uint8_t *)"12", 2};
        CHECK(ora_jscan_find(num, "id", &val) == -1);
    }
    /* numbers as whole values in a range */
    {
        struct { const char *s; uint64_t max; int rc; uint64_t v; } c[] = {
            {"0", 10, 0, 0}, {"7", 10, 0, 7}, {"7.0", 10, 0, 7}, {"7e0", 10, 0, 7}, {"70E-1", 10, 0, 7},
            {"-0", 10, 0, 0}, {"10", 10, 0, 10}, {"11", 10, 1, 0}, {"-1", 10, 1, 0}, {"1.5", 10, 1, 0},
            {"9007199254740991", ORA_OFFSET_MAX, 0, ORA_OFFSET_MAX},
            {"9007199254740992", ORA_OFFSET_MAX, 1, 0},
            {"9223372036854775807", ORA_OFFSET_MAX, 1, 0},
            {"18446744073709551616", ORA_OFFSET_MAX, 1, 0},
            {"1e400", ORA_OFFSET_MAX, 1, 0},
            {"1.0000000000000000000000000000000000000000000000000000000000000", 10, 0, 1},
            {"1.00000000000000000000000000000000000000000000000000000000000000", 10, -1, 0},
            {"\"7\"", 10, -1, 0}, {"true", 10, -1, 0}, {"07", 10, -1, 0}, {"", 10, -1, 0}, {"7 ", 10, -1, 0}};
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
            uint64_t got = 12345;
            ora_jspan sp = {(const uint8_t *)c[i].s, strlen(c[i].s)};
            int rc = ora_jscan_uint(sp, c[i].max, &got);
            if (rc != c[i].rc || (rc == 0 && got != c[i].v)) {
                fprintf(stderr, "jscan_uint failed on %s (rc %d)\n", c[i].s, rc);
                unit_failed();
            }
        }
    }
    printf("ok validating scan\n");
}

/* ora_route_scan agrees with the cJSON router on every fixture message and
 * on hand-made edge cases */
static void route_agrees(const char *json, size_t n)
{
    ora_route a, b;
    int ra = ora_route_scan((const uint8_t *)json, n, &a);
    int rb = ora_route_parse(json, n, &b, NULL);
    if (ra != rb || a.kind != b.kind || a.actor_type != b.actor_type || a.actor_id != b.actor_id ||
        a.offset != b.offset) {
        fprintf(stderr, "route_scan disagrees with cJSON on %.*s: %d/%d\n", (int)n, json, ra, rb);
        unit_failed();
    }
}

static void routes(void)
{
    const char *cases[] = {
        "{\"offset\":1,\"eventAdded\":{\"event\":{\"id\":5}}}",
        "{\"offset\":1.0,\"eventAdded\":{\"event\":{\"id\":5e0}}}",
        "{\"offset\":9007199254740991,\"betOfferDeleted\":{\"betOfferId\":9007199254740992}}",
        "{\"offset\":9007199254740992,\"betOfferDeleted\":{\"betOfferId\":1}}",
        "{\"offset\":9223372036854775807,\"betOfferDeleted\":{\"betOfferId\":1}}",
        "{\"offset\":9223372036854775807,\"somethingNew\":{}}",
        "{\"offset\":-1,\"somethingNew\":{}}",
        "{\"offset\":1.5,\"eventDeleted\":{\"id\":2}}",
        "{\"offset\":\"7\",\"eventDeleted\":{\"id\":2}}",
        "{\"eventDeleted\":{\"id\":2}}",
        "{\"offset\":3,\"eventDeleted\":{\"id\":2},\"betOfferDeleted\":{\"betOfferId\":9}}",
        "{\"offset\":3,\"offset\":4,\"eventDeleted\":{\"id\":2,\"id\":3}}",
        "{\"off\\u0073et\":3,\"eventDeleted\\u0000zz\":{\"id\":2}}",
        "{\"offset\":3,\"eventAdded\":{\"event\":7}}",
        "{\"offset\":3,\"eventAdded\":[1]}",
        "{\"offset\":3,\"outcomeOddsUpdated\":{\"betOfferId\":-5}}",
        "{\"offset\":3,\"outcomeOddsUpdated\":{\"eventId\":5}}",
        "{\"offset\":3,\"betOfferAdded\":{\"x\":{\"id\":1},\"betOffer\":{\"outcomes\":[{\"id\":1}],\"id\":77}}}",
        "{\"offset\":3,\"betOfferAdded\":{\"betOffer\":{\"outcomes\":[{\"id\":1}]}}}",
        "{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"17\"}}",
        "{}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        route_agrees(cases[i], strlen(cases[i]));
    const char *dir = getenv("ORA_TOP");
    const char *files[] = {"tests/fixtures/ora-messages.jsonl", "tests/fixtures/order/bad.jsonl",
                           "tests/fixtures/order/unknown.jsonl", "tests/fixtures/order/distinct.jsonl"};
    int n = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096], line[65536];
        snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", files[f]);
        FILE *fp = fopen(path, "r");
        CHECK(fp != NULL);
        while (fp && fgets(line, sizeof line, fp)) {
            route_agrees(line, strcspn(line, "\n"));
            n++;
        }
        if (fp)
            fclose(fp);
    }
    CHECK(n >= 40);
    printf("ok %d messages routed alike by the scanner and by cJSON\n", n);
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
    /* a name ends at its first NUL, as in cJSON (and in ora_jscan_valid) */
    t("{\"type\\u0000\":\"T\"}", 0, "\"T\"", "-");
    t("{\"type\\u0000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":\"T\"}", 0, "\"T\"", "-");
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
                unit_failed();
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
    valid_cases();
    routes();
    return unit_summary("jscan_test");
}
