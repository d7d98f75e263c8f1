/* entity.c: the entity model's field paths and value readers (entity.h). */
#include "entity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Every path ora-actors reads, relative to the object the caller holds
 * (doc/design.md §2). */
static const ora_field_info fields[ORA_F_COUNT] = {
    [ORA_F_EVENT] = {"eventAdded|eventUpdated.event", {"event"}, ORA_FT_OBJECT},
    [ORA_F_BETOFFER] = {"betOfferAdded|betOfferUpdated.betOffer", {"betOffer"}, ORA_FT_OBJECT},
    [ORA_F_STATUS] = {"eventStatusUpdated|betOfferStatusUpdated|outcomeStatusUpdated.status", {"status"},
                      ORA_FT_STRING},
    [ORA_F_LINE_TYPES] = {"betOfferLineTypesUpdated.lineTypes", {"lineTypes"}, ORA_FT_ARRAY},
    [ORA_F_OUTCOME_ID] = {"outcomeStatusUpdated|outcomeOddsUpdated.outcomeId", {"outcomeId"}, ORA_FT_ID},
    [ORA_F_OUTCOME_BETOFFER_ID] = {"outcomeStatusUpdated|outcomeOddsUpdated.betOfferId", {"betOfferId"},
                                   ORA_FT_ID},
    [ORA_F_ODDS] = {"outcomeOddsUpdated.odds", {"odds"}, ORA_FT_ARRAY},

    [ORA_F_EV_STARTS_AT] = {"event.startsAt", {"startsAt"}, ORA_FT_STRING},
    [ORA_F_EV_SPORT] = {"event.sport", {"sport"}, ORA_FT_STRING},
    [ORA_F_EV_STATUS] = {"event.status", {"status"}, ORA_FT_STRING},
    [ORA_F_EV_GROUP_ID] = {"event.group.id", {"group", "id"}, ORA_FT_ID},
    [ORA_F_EV_COMPETITION_NAME] = {"event.competitionName.defaultTranslation",
                                   {"competitionName", "defaultTranslation"}, ORA_FT_STRING},
    [ORA_F_EV_PARTICIPANTS] = {"event.participants", {"participants"}, ORA_FT_ARRAY},

    [ORA_F_PA_ID] = {"event.participants[].id", {"id"}, ORA_FT_ID},
    [ORA_F_PA_NAME] = {"event.participants[].name.defaultTranslation", {"name", "defaultTranslation"},
                       ORA_FT_STRING},
    [ORA_F_PA_TYPE] = {"event.participants[].type", {"type"}, ORA_FT_STRING},
    [ORA_F_PA_HOME] = {"event.participants[].homeParticipant", {"homeParticipant"}, ORA_FT_BOOL},

    [ORA_F_BO_EVENT_ID] = {"betOffer.eventId", {"eventId"}, ORA_FT_ID},
    [ORA_F_BO_STATUS] = {"betOffer.status", {"status"}, ORA_FT_STRING},
    [ORA_F_BO_CRITERION_ID] = {"betOffer.criterion.id", {"criterion", "id"}, ORA_FT_ID},
    [ORA_F_BO_CRITERION_LABEL] = {"betOffer.criterion.label.defaultTranslation",
                                  {"criterion", "label", "defaultTranslation"}, ORA_FT_STRING},
    [ORA_F_BO_LINE_TYPE] = {"betOffer.lineType", {"lineType"}, ORA_FT_ARRAY},
    [ORA_F_BO_TAGS] = {"betOffer.tags", {"tags"}, ORA_FT_ARRAY},
    [ORA_F_BO_OUTCOMES] = {"betOffer.outcomes", {"outcomes"}, ORA_FT_ARRAY},

    [ORA_F_OC_ID] = {"outcomes[].id", {"id"}, ORA_FT_ID},
    [ORA_F_OC_BETOFFER_ID] = {"outcomes[].betOfferId", {"betOfferId"}, ORA_FT_ID},
    [ORA_F_OC_STATUS] = {"outcomes[].status", {"status"}, ORA_FT_STRING},
    [ORA_F_OC_LABEL] = {"outcomes[].label.defaultTranslation", {"label", "defaultTranslation"}, ORA_FT_STRING},
    [ORA_F_OC_ODDS] = {"outcomes[].odds", {"odds"}, ORA_FT_ARRAY},

    [ORA_F_OD_OFFERINGS] = {"odds[].offerings", {"offerings"}, ORA_FT_ARRAY},
    [ORA_F_OD_DECIMAL] = {"odds[].odds.decimal", {"odds", "decimal"}, ORA_FT_NUMBER},
};

const ora_field_info *ora_field_info_get(int f) { return f >= 0 && f < ORA_F_COUNT ? &fields[f] : NULL; }

static int type_ok(const cJSON *v, int type)
{
    uint64_t id;
    switch (type) {
    case ORA_FT_OBJECT: return cJSON_IsObject(v);
    case ORA_FT_ARRAY: return cJSON_IsArray(v);
    case ORA_FT_STRING: return cJSON_IsString(v) && v->valuestring;
    case ORA_FT_NUMBER: return cJSON_IsNumber(v);
    case ORA_FT_ID: return ora_json_u64(v, &id) == 0;
    case ORA_FT_BOOL: return cJSON_IsBool(v);
    default: return 0;
    }
}

int ora_field(const cJSON *obj, int f, const cJSON **out)
{
    *out = NULL;
    const ora_field_info *fi = ora_field_info_get(f);
    if (!fi || !cJSON_IsObject(obj))
        return ORA_FV_ABSENT;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, fi->key[0]);
    if (!v)
        return ORA_FV_ABSENT;
    for (int d = 1; d < ORA_FIELD_DEPTH && fi->key[d]; d++)
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, fi->key[d]) : NULL;
    if (!v || !type_ok(v, fi->type))
        return ORA_FV_BAD;
    *out = v;
    return ORA_FV_OK;
}

int ora_field_id(const cJSON *obj, int f, uint64_t *id)
{
    const cJSON *v;
    int r = ora_field(obj, f, &v);
    if (r == ORA_FV_OK && ora_json_u64(v, id) < 0)
        r = ORA_FV_BAD; /* cannot happen: the type was checked */
    return r;
}

/* ---- decimals as written -------------------------------------------------- */

/* Length of the JSON number (RFC 8259 grammar) at p[0..n), or 0. */
static size_t number_len(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && p[i] == '.') {
        size_t j = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == j)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t j = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == j)
            return 0;
    }
    if (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == 'e' || p[i] == 'E' || p[i] == '-' ||
                  p[i] == '+'))
        return 0;
    return i;
}

/* The shortest %.Ng text of d that reads back as d. */
static size_t shortest(double d, char *buf, size_t size)
{
    if (!isfinite(d))
        return (size_t)snprintf(buf, size, "null");
    if (floor(d) == d && fabs(d) < 9007199254740992.0)
        return (size_t)snprintf(buf, size, "%.0f", d);
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return (size_t)n;
}

size_t ora_decimal_text(ora_src *src, const cJSON *v, char *buf, size_t size)
{
    static const char key[] = "\"decimal\"";
    const size_t kn = sizeof key - 1;
    size_t at = src && src->p ? src->cursor : 0;
    while (src && src->p && at < src->n) {
        const char *k = memmem(src->p + at, src->n - at, key, kn);
        if (!k)
            break;
        size_t i = (size_t)(k - src->p) + kn;
        while (i < src->n && (src->p[i] == ' ' || src->p[i] == '\t' || src->p[i] == '\n' || src->p[i] == '\r'))
            i++;
        if (i < src->n && src->p[i] == ':') {
            i++;
            while (i < src->n &&
                   (src->p[i] == ' ' || src->p[i] == '\t' || src->p[i] == '\n' || src->p[i] == '\r'))
                i++;
            size_t len = number_len(src->p + i, src->n - i);
            if (len && len < size) {
                memcpy(buf, src->p + i, len);
                buf[len] = 0;
                /* the same number, as the tree holds it: a literal of another
                 * "decimal" (a key inside a string, another object) is passed by */
                if (strtod(buf, NULL) == v->valuedouble) {
                    src->cursor = i + len;
                    return len;
                }
            }
        }
        at = (size_t)(k - src->p) + 1;
    }
    return shortest(v->valuedouble, buf, size);
}

/* ---- canonical JSON -------------------------------------------------------------- */

int ora_json_canonical(ora_buf *b, const cJSON *v)
{
    char num[64];
    if (cJSON_IsNull(v) || !v)
        return ora_buf_append(b, "null", 4);
    if (cJSON_IsTrue(v))
        return ora_buf_append(b, "true", 4);
    if (cJSON_IsFalse(v))
        return ora_buf_append(b, "false", 5);
    if (cJSON_IsNumber(v))
        return ora_buf_append(b, num, shortest(v->valuedouble, num, sizeof num));
    if (cJSON_IsString(v))
        return ora_json_cstr(b, v->valuestring);
    if (cJSON_IsArray(v)) {
        if (ora_buf_append(b, "[", 1) < 0)
            return -1;
        int first = 1;
        for (const cJSON *e = v->child; e; e = e->next) {
            if ((!first && ora_buf_append(b, ",", 1) < 0) || ora_json_canonical(b, e) < 0)
                return -1;
            first = 0;
        }
        return ora_buf_append(b, "]", 1);
    }
    if (!cJSON_IsObject(v))
        return ora_buf_append(b, "null", 4); /* raw values: not produced by the parser */
    size_t n = 0;
    for (const cJSON *e = v->child; e; e = e->next)
        n++;
    const cJSON **kids = n ? malloc(n * sizeof *kids) : NULL;
    if (n && !kids)
        return -1;
    size_t k = 0;
    for (const cJSON *e = v->child; e; e = e->next)
        kids[k++] = e;
    /* sort by key, keeping document order among equal keys */
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = kids[i];
        size_t j = i;
        while (j > 0 && strcmp(kids[j - 1]->string ? kids[j - 1]->string : "", x->string ? x->string : "") > 0) {
            kids[j] = kids[j - 1];
            j--;
        }
        kids[j] = x;
    }
    int r = ora_buf_append(b, "{", 1);
    int first = 1;
    for (size_t i = 0; i < n && r == 0; i++) {
        const char *key = kids[i]->string ? kids[i]->string : "";
        if (i + 1 < n && strcmp(key, kids[i + 1]->string ? kids[i + 1]->string : "") == 0)
            continue; /* a later duplicate wins */
        if (!first)
            r |= ora_buf_append(b, ",", 1);
        first = 0;
        r |= ora_json_cstr(b, key);
        r |= ora_buf_append(b, ":", 1);
        r |= ora_json_canonical(b, kids[i]);
    }
    free(kids);
    if (r)
        return -1;
    return ora_buf_append(b, "}", 1);
}
