/* Unit test: the entity model's readers (lib/entity.c): every path of the
 * field table against hand-written objects in the shape of doc/design.md §2,
 * the three lookup results, decimals as written, canonical JSON. Exits 0
 * on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "unit.h"

/* f of the JSON text obj: the result, and the string / number / bool found. */
static int get(const char *obj, int f, char *out, size_t n)
{
    cJSON *o = cJSON_Parse(obj);
    const cJSON *v;
    int r = ora_field(o, f, &v);
    out[0] = 0;
    if (r == ORA_FV_OK) {
        if (cJSON_IsString(v))
            snprintf(out, n, "%s", v->valuestring);
        else if (cJSON_IsNumber(v))
            snprintf(out, n, "%.17g", v->valuedouble);
        else if (cJSON_IsBool(v))
            snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
        else if (cJSON_IsArray(v))
            snprintf(out, n, "[%d]", cJSON_GetArraySize(v));
        else
            snprintf(out, n, "{}");
    }
    cJSON_Delete(o);
    return r;
}

static void expect(const char *obj, int f, int want, const char *val)
{
    char got[256];
    int r = get(obj, f, got, sizeof got);
    CHECKF(r == want, "%s in %s: result %d, want %d", ora_field_info_get(f)->doc, obj, r, want);
    if (r == ORA_FV_OK && val)
        CHECKF(strcmp(got, val) == 0, "%s in %s: '%s', want '%s'", ora_field_info_get(f)->doc, obj, got, val);
}

/* Objects in the shapes of doc/design.md §2, and what each of their fields
 * reads as (the lookup finds it: ORA_FV_OK). */
static const struct {
    const char *obj;
    struct { int f; const char *val; } fields[8];
} reads[] = {
    {"{\"id\":1,\"startsAt\":\"2026-11-27T18:00:00Z\",\"sport\":\"FOOTBALL\",\"status\":\"STARTED\","
     "\"group\":{\"id\":20},\"competitionName\":{\"defaultTranslation\":\"Premier League\"},"
     "\"participants\":[{\"id\":31}]}",
     {{ORA_F_EV_STARTS_AT, "2026-11-27T18:00:00Z"}, {ORA_F_EV_SPORT, "FOOTBALL"}, {ORA_F_EV_STATUS, "STARTED"},
      {ORA_F_EV_GROUP_ID, "20"}, {ORA_F_EV_COMPETITION_NAME, "Premier League"}, {ORA_F_EV_PARTICIPANTS, "[1]"}}},
    {"{\"id\":31,\"name\":{\"defaultTranslation\":\"Arsenal\"},\"type\":\"TEAM\",\"homeParticipant\":true}",
     {{ORA_F_PA_ID, "31"}, {ORA_F_PA_NAME, "Arsenal"}, {ORA_F_PA_TYPE, "TEAM"}, {ORA_F_PA_HOME, "true"}}},
    {"{\"id\":5,\"eventId\":1,\"status\":\"OPEN\",\"criterion\":{\"id\":1001159732,\"label\":"
     "{\"defaultTranslation\":\"Full Time\"}},\"lineType\":[\"MAIN_LINE\"],\"tags\":[],\"outcomes\":[]}",
     {{ORA_F_BO_EVENT_ID, "1"}, {ORA_F_BO_STATUS, "OPEN"}, {ORA_F_BO_CRITERION_ID, "1001159732"},
      {ORA_F_BO_CRITERION_LABEL, "Full Time"}, {ORA_F_BO_LINE_TYPE, "[1]"}, {ORA_F_BO_TAGS, "[0]"},
      {ORA_F_BO_OUTCOMES, "[0]"}}},
    {"{\"id\":6,\"betOfferId\":5,\"status\":\"OPEN\",\"label\":{\"defaultTranslation\":\"1\"},"
     "\"odds\":[{\"offerings\":[\"jurisdiction1\"],\"odds\":{\"decimal\":1900}}]}",
     {{ORA_F_OC_ID, "6"}, {ORA_F_OC_BETOFFER_ID, "5"}, {ORA_F_OC_STATUS, "OPEN"}, {ORA_F_OC_LABEL, "1"},
      {ORA_F_OC_ODDS, "[1]"}}},
    {"{\"offerings\":[\"a\",\"b\"],\"odds\":{\"decimal\":1900}}", {{ORA_F_OD_OFFERINGS, "[2]"}}},
    {"{\"offerings\":[],\"odds\":{\"decimal\":1900}}", {{ORA_F_OD_DECIMAL, "1900"}}},
    {"{\"id\":5,\"lineTypes\":[\"MAIN_LINE\"]}", {{ORA_F_LINE_TYPES, "[1]"}}},
    {"{\"betOfferId\":5,\"outcomeId\":6,\"odds\":[]}",
     {{ORA_F_OUTCOME_ID, "6"}, {ORA_F_OUTCOME_BETOFFER_ID, "5"}, {ORA_F_ODDS, "[0]"}}},
    {"{\"event\":{}}", {{ORA_F_EVENT, "{}"}}},
};

/* Objects whose field is absent, or there but not of its type: what a
 * lookup of it returns. */
static const struct { const char *obj; int f; int want; } unusable[] = {
    /* the flat shape: a bare string where a translation object belongs */
    {"{\"competitionName\":\"Premier League\"}", ORA_F_EV_COMPETITION_NAME, ORA_FV_BAD},
    {"{\"competitionName\":{}}", ORA_F_EV_COMPETITION_NAME, ORA_FV_BAD},
    {"{\"competitionName\":null}", ORA_F_EV_COMPETITION_NAME, ORA_FV_BAD},
    {"{\"group\":{\"name\":\"x\"}}", ORA_F_EV_GROUP_ID, ORA_FV_BAD},
    {"{\"group\":{\"id\":-1}}", ORA_F_EV_GROUP_ID, ORA_FV_BAD},
    {"{\"group\":{\"id\":1.5}}", ORA_F_EV_GROUP_ID, ORA_FV_BAD},
    {"{\"sport\":\"X\"}", ORA_F_EV_GROUP_ID, ORA_FV_ABSENT},
    {"[1]", ORA_F_EV_SPORT, ORA_FV_ABSENT},
    {"{\"home\":true}", ORA_F_PA_HOME, ORA_FV_ABSENT},
    {"{\"homeParticipant\":\"yes\"}", ORA_F_PA_HOME, ORA_FV_BAD},
    {"{\"criterion\":{\"label\":\"Full Time\"}}", ORA_F_BO_CRITERION_LABEL, ORA_FV_BAD},
    {"{\"tags\":null}", ORA_F_BO_TAGS, ORA_FV_BAD},
    {"{\"decimal\":1.9}", ORA_F_OD_DECIMAL, ORA_FV_ABSENT},
    {"{\"odds\":{\"decimal\":\"1.9\"}}", ORA_F_OD_DECIMAL, ORA_FV_BAD},
    {"{\"id\":5,\"lineType\":[\"MAIN_LINE\"]}", ORA_F_LINE_TYPES, ORA_FV_ABSENT},
    {"{\"betOffer\":7}", ORA_F_BETOFFER, ORA_FV_BAD},
};

static void test_table(void)
{
    /* every field has a documented path and a lookup path */
    for (int f = 0; f < ORA_F_COUNT; f++) {
        const ora_field_info *fi = ora_field_info_get(f);
        CHECKF(fi && fi->doc && fi->key[0], "field %d has no path", f);
    }
    CHECKF(ora_field_info_get(ORA_F_COUNT) == NULL, "past the table");

    for (size_t i = 0; i < UNIT_LEN(reads); i++)
        for (size_t k = 0; k < UNIT_LEN(reads[i].fields) && reads[i].fields[k].val; k++)
            expect(reads[i].obj, reads[i].fields[k].f, ORA_FV_OK, reads[i].fields[k].val);
    for (size_t i = 0; i < UNIT_LEN(unusable); i++)
        expect(unusable[i].obj, unusable[i].f, unusable[i].want, NULL);
}

/* The literals of the "decimal"s of msg, in order, as ora_decimal_text finds them. */
static void decimals(const char *msg, const char *want)
{
    cJSON *root = cJSON_Parse(msg);
    ora_src src = {msg, strlen(msg), 0};
    char got[512] = "", t[64];
    /* every number under a "decimal" key, in document order */
    const cJSON *stack[64];
    int sp = 0;
    stack[sp++] = root;
    const cJSON *order[32];
    int n = 0;
    while (sp) {
        const cJSON *v = stack[--sp];
        if (cJSON_IsNumber(v) && v->string && strcmp(v->string, "decimal") == 0)
            order[n++] = v;
        const cJSON *kids[64];
        int k = 0;
        for (const cJSON *c = v->child; c && k < 64; c = c->next)
            kids[k++] = c;
        while (k)
            stack[sp++] = kids[--k];
    }
    for (int i = 0; i < n; i++) {
        ora_decimal_text(&src, order[i], t, sizeof t);
        strcat(got, i ? " " : "");
        strcat(got, t);
    }
    CHECKF(strcmp(got, want) == 0, "decimals of %s: '%s', want '%s'", msg, got, want);
    cJSON_Delete(root);
}

static void test_decimals(void)
{
    decimals("{\"odds\":[{\"odds\":{\"decimal\":1900}},{\"odds\":{\"decimal\":1.950}},{\"odds\":{\"decimal\":2.5e3}}]}",
             "1900 1.950 2.5e3");
    decimals("{\"odds\":[{\"odds\":{ \"decimal\" :\n 17 }}]}", "17");
    /* a "decimal" inside a string, and another key first: skipped by value */
    decimals("{\"label\":\"\\\"decimal\\\":5 and \\\"decimal\\\":7\",\"odds\":{\"decimal\":7.0}}", "7.0");
    decimals("{\"x\":{\"decimal\":3},\"odds\":{\"decimal\":4}}", "3 4");
    /* an escaped key: not found as written, the shortest form instead */
    decimals("{\"odds\":{\"decim\\u0061l\":1.50}}", "1.5");
    decimals("{\"odds\":{\"decimal\":-0.0}}", "-0.0");
}

static void canonical(const char *in, const char *want)
{
    cJSON *v = cJSON_Parse(in);
    ora_buf b = ORA_BUF_INIT;
    CHECKF(ora_json_canonical(&b, v) == 0, "canonical of %s failed", in);
    CHECKF(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0, "canonical of %s: '%.*s', want '%s'", in,
          (int)b.len, (const char *)b.p, want);
    ora_buf_free(&b);
    cJSON_Delete(v);
}

static void test_canonical(void)
{
    canonical("[{\"type\":\"TEAM\",\"id\":31,\"name\":{\"defaultTranslation\":\"A\"}}]",
              "[{\"id\":31,\"name\":{\"defaultTranslation\":\"A\"},\"type\":\"TEAM\"}]");
    canonical("{ \"b\" : [1, 1.0, 1e0, 0.5, true, null], \"a\":\"x\\\"y\" }",
              "{\"a\":\"x\\\"y\",\"b\":[1,1,1,0.5,true,null]}");
    canonical("{\"a\":1,\"a\":2}", "{\"a\":2}");
    canonical("[]", "[]");
}

int main(void)
{
    test_table();
    test_decimals();
    test_canonical();
    return unit_summary("actors_entity");
}
