/* outputs.c: the business rules and the JSON of output records (outputs.h).
 *
 * The rules, as doc/design.md §3 gives them:
 *   event_data           an event is created, or its startsAt, sport,
 *                        group.id or participants (the whole array) change;
 *   bet_offer_opened     an offer is created with status OPEN, or a
 *                        betOfferStatusUpdated changes its status to OPEN;
 *   bet_offer_closed     a betOfferStatusUpdated changes its status to CLOSED;
 *                        (SUSPENDED, and any other status, surface nothing;
 *                        an add or update of a known offer changes the
 *                        status silently)
 *   in_game_odds_update  an outcomeOddsUpdated for an offer whose event is
 *                        STARTED, on the main line, tagged OFFERED_LIVE, of
 *                        a watched criterion: the updated outcome alone.
 */
#include "outputs.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "ora.h"

static int out_event(ora_actors *a, const ora_msg *m, const ora_event *e);
static int out_offer(ora_actors *a, const ora_msg *m, const char *type, const ora_betoffer *bo, int only);

/* ---- rules -------------------------------------------------------------------------- */

int ora_rule_event(ora_actors *a, const ora_msg *m, const ora_event *e, int created, int changed)
{
    if (!created && !changed)
        return 0;
    a->st.out_event_data++;
    return out_event(a, m, e);
}

int ora_rule_offer_created(ora_actors *a, const ora_msg *m, const ora_betoffer *b)
{
    if (b->status != a->s_open)
        return 0;
    a->st.out_opened++;
    return out_offer(a, m, "bet_offer_opened", b, -1);
}

int ora_rule_offer_status(ora_actors *a, const ora_msg *m, const ora_betoffer *b, uint32_t old)
{
    if (b->status == old)
        return 0;
    if (b->status == a->s_open) {
        a->st.out_opened++;
        return out_offer(a, m, "bet_offer_opened", b, -1);
    }
    if (b->status == a->s_closed) {
        a->st.out_closed++;
        return out_offer(a, m, "bet_offer_closed", b, -1);
    }
    return 0;
}

int ora_rule_odds(ora_actors *a, const ora_msg *m, const ora_betoffer *b, int k)
{
    if (b->ev_status != a->s_started)
        return 0;
    if (!(ora_intern_aux(a->lists, b->line_types) & ORA_LIST_MAIN_LINE))
        return 0;
    if (!(ora_intern_aux(a->lists, b->tags) & ORA_LIST_OFFERED_LIVE))
        return 0;
    if (!(b->flags & ORA_BOF_CRITERION) || !ora_rules_has_criterion(a->rules, b->criterion_id))
        return 0;
    a->st.out_odds++;
    return out_offer(a, m, "in_game_odds_update", b, k);
}

/* ---- JSON of interned values ------------------------------------------------- */

int ora_out_list(ora_buf *b, const ora_intern *t, uint32_t id)
{
    size_t n;
    const char *s = ora_intern_str(t, id, &n);
    if (!s)
        return ora_buf_append(b, "null", 4);
    if (ora_buf_append(b, "[", 1) < 0)
        return -1;
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && s[j] != ORA_LIST_SEP)
            j++;
        if ((!first && ora_buf_append(b, ",", 1) < 0) || ora_json_str(b, s + i + 1, j - i - 1) < 0)
            return -1;
        first = 0;
        i = j;
    }
    return ora_buf_append(b, "]", 1);
}

int ora_out_str(ora_buf *b, const ora_intern *t, uint32_t id)
{
    size_t n;
    const char *s = ora_intern_str(t, id, &n);
    return ora_json_str(b, s, n);
}

int ora_out_decimal(ora_buf *b, const ora_intern *strs, uint32_t dec)
{
    if (dec == ORA_DEC_NULL)
        return ora_buf_append(b, "null", 4);
    if (dec & ORA_DEC_TEXT) {
        size_t n;
        const char *s = ora_intern_str(strs, dec & ~ORA_DEC_TEXT, &n);
        return s ? ora_buf_append(b, s, n) : ora_buf_append(b, "null", 4);
    }
    return ora_json_uint(b, dec);
}

/* ---- output records ------------------------------------------------------------- */

/* Fast appends for the hot output path (printf costs a fifth of the time). */
#define LIT(b, s) ora_buf_append((b), (s), sizeof(s) - 1)

/* Writes v in decimal into t so that it ends at t + 24: returns its start. */
static char *dec_u64(char t[24], uint64_t v)
{
    char *p = t + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static int app_u64(ora_buf *b, uint64_t v)
{
    char t[24];
    const char *s = dec_u64(t, v);
    return ora_buf_append(b, s, (size_t)(t + sizeof t - s));
}

static int emit_id(ora_actors *a, const ora_msg *m, uint64_t id)
{
    char key[24];
    const char *k = dec_u64(key, id);
    if (a->emit(a->emit_ctx, m, k, (size_t)(key + sizeof key - k), (const char *)a->out.p, a->out.len) < 0)
        return -1;
    return 0;
}

/* The fields every output ends with: the identity (msg_offset), flow and
 * receive time of the message that produced it. */
static int tail_meta(ora_buf *b, const ora_msg *m)
{
    int r = LIT(b, ",\"msg_offset\":");
    r |= m->offset >= 0 ? app_u64(b, (uint64_t)m->offset) : LIT(b, "null");
    if (r < 0)
        return -1;
    switch (m->flow) {
    case ORA_FLOW_SNAPSHOT: r = LIT(b, ",\"msg_flow\":\"snapshot\""); break;
    case ORA_FLOW_REPLAY: r = LIT(b, ",\"msg_flow\":\"replay\""); break;
    case ORA_FLOW_REALTIME: r = LIT(b, ",\"msg_flow\":\"realtime\""); break;
    default: r = LIT(b, ",\"msg_flow\":null"); break;
    }
    if (r < 0 || LIT(b, ",\"msg_datetime\":") < 0 || ora_json_time(b, m->recv_ns) < 0)
        return -1;
    return ora_buf_append(b, "}", 1);
}

static int out_event(ora_actors *a, const ora_msg *m, const ora_event *e)
{
    ora_buf *b = &a->out;
    b->len = 0;
    int r = LIT(b, "{\"type\":\"event_data\",\"event_id\":");
    r |= app_u64(b, e->id);
    r |= LIT(b, ",\"competition_name\":");
    r |= ora_out_str(b, a->strs, e->competition);
    r |= LIT(b, ",\"starts_at\":");
    r |= ora_out_str(b, a->strs, e->starts_at);
    r |= LIT(b, ",\"group_id\":");
    r |= (e->flags & ORA_EVF_GROUP) ? app_u64(b, e->group_id) : LIT(b, "null");
    r |= LIT(b, ",\"sport\":");
    r |= ora_out_str(b, a->strs, e->sport);
    r |= LIT(b, ",\"participants\":[");
    for (uint16_t k = 0; k < e->n_parts; k++) {
        const ora_part *p = &e->parts[k];
        r |= k ? LIT(b, ",{\"participant_id\":") : LIT(b, "{\"participant_id\":");
        r |= p->has_id ? app_u64(b, p->id) : LIT(b, "null");
        r |= LIT(b, ",\"participant_name\":");
        r |= ora_out_str(b, a->strs, p->name);
        r |= LIT(b, ",\"participant_type\":");
        r |= ora_out_str(b, a->strs, p->type);
        r |= LIT(b, ",\"is_home_participant\":");
        r |= p->home == 1 ? LIT(b, "true}") : p->home == 0 ? LIT(b, "false}") : LIT(b, "null}");
    }
    r |= LIT(b, "]");
    r |= tail_meta(b, m);
    if (r)
        return -1;
    return emit_id(a, m, e->id);
}

/* A bet offer output of type type; only >= 0: just outcome only. */
static int out_offer(ora_actors *a, const ora_msg *m, const char *type, const ora_betoffer *bo, int only)
{
    ora_buf *b = &a->out;
    b->len = 0;
    int r = LIT(b, "{\"type\":\"");
    r |= ora_buf_append(b, type, strlen(type));
    r |= LIT(b, "\",\"event_id\":");
    r |= (bo->flags & ORA_BOF_EVENT) ? app_u64(b, bo->event_id) : LIT(b, "null");
    r |= LIT(b, ",\"bet_offer_id\":");
    r |= app_u64(b, bo->id);
    r |= LIT(b, ",\"criterion_id\":");
    r |= (bo->flags & ORA_BOF_CRITERION) ? app_u64(b, bo->criterion_id) : LIT(b, "null");
    r |= LIT(b, ",\"criterion_label\":");
    r |= ora_out_str(b, a->strs, bo->criterion_label);
    r |= (ora_intern_aux(a->lists, bo->line_types) & ORA_LIST_MAIN_LINE)
             ? LIT(b, ",\"is_mainline\":true,\"outcomes\":[")
             : LIT(b, ",\"is_mainline\":false,\"outcomes\":[");
    const ora_outcome *o = ora_bo_outcomes(bo);
    const ora_odds *d = ora_bo_odds(bo);
    int first = 1;
    for (uint16_t k = 0; k < bo->n_out; k++) {
        if (only >= 0 && k != only)
            continue;
        r |= first ? LIT(b, "{\"outcome_id\":") : LIT(b, ",{\"outcome_id\":");
        first = 0;
        r |= app_u64(b, o[k].id);
        r |= LIT(b, ",\"outcome_label\":");
        r |= ora_out_str(b, a->strs, o[k].label);
        r |= LIT(b, ",\"odds\":[");
        for (uint16_t j = 0; j < o[k].n; j++) {
            const ora_odds *x = &d[o[k].first + j];
            uint64_t aux = ora_intern_aux(a->offl, x->offerings);
            r |= j ? LIT(b, ",{\"offerings\":") : LIT(b, "{\"offerings\":");
            r |= ora_out_list(b, a->offl, x->offerings);
            r |= LIT(b, ",\"decimal\":");
            r |= ora_out_decimal(b, a->strs, x->decimal);
            r |= LIT(b, ",\"jurisdiction_mask\":");
            r |= app_u64(b, aux & ORA_OFFL_MASK);
            r |= LIT(b, "}");
            a->st.unknown_offerings += aux >> ORA_OFFL_UNKNOWN_SHIFT;
        }
        r |= LIT(b, "]}");
    }
    r |= LIT(b, "]");
    r |= tail_meta(b, m);
    if (r)
        return -1;
    return emit_id(a, m, bo->id);
}
