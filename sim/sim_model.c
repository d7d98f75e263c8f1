/* sim_model.c: the offering model of ora-sim (see sim_model.h). */
#include "sim_model.h"
#include "buf.h"
#include "json.h"
#include "sim_vec.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- random numbers: xoshiro256** seeded by splitmix64 ----------------- */

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

static uint32_t below(rng *r, uint32_t n) { return n ? (uint32_t)(rng_next(r) % n) : 0; }
static double unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static int chance(rng *r, double p) { return unit(r) < p; }

/* ---- static tables -------------------------------------------------------- */

const char *const sim_offerings[] = {"offering-se", "offering-dk", "offering-gb", "offering-us"};
const size_t sim_n_offerings = 4;

const char *const sim_default_jurisdictions[] = {"jurisdiction1", "jurisdiction2", "jurisdiction3",
                                                 "jurisdiction4", "jurisdiction5"};
const size_t sim_n_default_jurisdictions = 5;

int sim_offering_known(const char *name)
{
    for (size_t i = 0; i < sim_n_offerings; i++)
        if (strcmp(name, sim_offerings[i]) == 0)
            return 1;
    return 0;
}

enum { NTEAMS = 10 };
static const struct sport {
    const char *name, *ptype, *suffix;
    int64_t group_id[2];
    const char *group_name[2];
    const char *team[NTEAMS];
    int period_len, periods;
    const char *period_fmt;
    int max_goal;
} sports[] = {
    {"FOOTBALL", "TEAM", " FC", {2000051, 2000052}, {"Premier League", "Allsvenskan"},
     {"Arsenal", "Chelsea", "Liverpool", "Everton", "Brighton", "Fulham", "Malmo", "AIK",
      "Hammarby", "Djurgarden"}, 45, 2, "Half %d", 1},
    {"BASKETBALL", "TEAM", " BC", {2000101, 2000102}, {"NBA", "EuroLeague"},
     {"Celtics", "Lakers", "Bulls", "Knicks", "Heat", "Real Madrid", "Fenerbahce", "Olympiacos",
      "Panathinaikos", "Barcelona"}, 12, 4, "Q%d", 3},
    {"ICE_HOCKEY", "TEAM", " HC", {2000151, 2000152}, {"NHL", "SHL"},
     {"Rangers", "Bruins", "Oilers", "Maple Leafs", "Canucks", "Frolunda", "Farjestad", "Lulea",
      "Skelleftea", "Rogle"}, 20, 3, "P%d", 1},
    {"TENNIS", "PERSON", " Jr", {2000201, 2000202}, {"ATP Finals", "WTA Finals"},
     {"Sinner", "Alcaraz", "Zverev", "Medvedev", "Rune", "Swiatek", "Sabalenka", "Gauff",
      "Rybakina", "Pegula"}, 40, 3, "Set %d", 1},
};
enum { NSPORTS = sizeof sports / sizeof sports[0] };

/* Outcome labels: the criterion's own, then (index 3) the label of an
 * outcome added later, announced by an update before any bet offer
 * message lists it. */
enum { MAX_OUT = 4, EXTRA_LABEL = 3 };
static const struct crit {
    int64_t id;
    const char *label;
    int n;
    const char *labels[MAX_OUT];
    int weight;
} crits[] = {
    {1001159512, "Handicap", 2, {"1", "2", NULL, "Void"}, 4},
    {1001159732, "Full Time incl. Overtime", 3, {"1", "X", "2", "Void"}, 4},
    {1001159509, "Total Points", 2, {"Over", "Under", NULL, "Exactly"}, 4},
    {1001159858, "Full Time", 3, {"1", "X", "2", "Void"}, 2},
    {1001159926, "Double Chance", 3, {"1X", "12", "X2", "Void"}, 1},
    {1001160024, "Both Teams To Score", 2, {"Yes", "No", NULL, "Void"}, 1},
    {1001159633, "Half Time", 3, {"1", "X", "2", "Void"}, 1},
    {1001568620, "Draw No Bet", 2, {"1", "2", NULL, "Void"}, 1},
};
enum { NCRITS = sizeof crits / sizeof crits[0] };

/* Odds layouts: how many prices an outcome has, each for a group of the
 * jurisdictions (all of them; two groups; three groups). */
enum { NLAYOUTS = 3, MAX_GROUPS = 3 };

/* The values of fields, as JSON text. */
static const char *const line_types[] = {"[\"MAIN_LINE\"]", "[\"ALTERNATE_LINE\"]",
                                         "[\"MAIN_LINE\",\"ALTERNATE_LINE\"]"};
static const char *const offer_tags[] = {"[\"OFFERED_PREMATCH\"]",
                                         "[\"OFFERED_PREMATCH\",\"OFFERED_LIVE\"]",
                                         "[\"OFFERED_LIVE\"]"};
static const char *const event_tags[] = {"[\"MATCH\"]", "[\"MATCH\",\"LIVE\"]",
                                         "[\"MATCH\",\"STREAMED\"]"};
enum { EV_NOT_STARTED, EV_STARTED, EV_FINISHED };
static const char *const ev_status[] = {"\"NOT_STARTED\"", "\"STARTED\"", "\"FINISHED\""};
enum { OF_OPEN, OF_SUSPENDED, OF_CLOSED };
static const char *const of_status[] = {"\"OPEN\"", "\"SUSPENDED\"", "\"CLOSED\""};
static const char *const cashout[] = {"\"ENABLED\"", "\"DISABLED\""};

/* ---- the model -------------------------------------------------------------- */

typedef struct outcome {
    int64_t id;
    uint8_t label, status, cashout;
    uint32_t odds[MAX_GROUPS];   /* milli-odds (1900 is 1.90), per layout group */
} outcome;

/* What events and bet offers have alike: the entity's id, whether its slot
 * holds it, and the offset of the last message that changed it (its offset
 * in a snapshot). */
typedef struct entity {
    int64_t id;
    uint64_t offset;
    uint32_t pos;                /* index in its table's alive list */
    uint8_t alive;
} entity;

typedef struct offer {
    entity h;
    uint32_t ev;                 /* event slot */
    uint8_t crit, line, tags, status, cashout, layout, n_out;
    outcome out[MAX_OUT];
} offer;

typedef struct event {
    entity h;
    int64_t starts;
    uint8_t sport, group, home, away, status, tags, cashout, renamed;
    uint16_t sh, sa, minute, second;
    uint8_t running;
} event;

/* The bookkeeping of the slots of one table (enum sim_table). */
typedef struct table {
    size_t n, cap;               /* slots used, allocated */
    uint32_t *alive;             /* the live slots, in no order */
    size_t n_alive;
    int64_t next_id;
} table;

enum op { OP_ADD_EVENT, OP_ADD_OFFER, OP_READD_OFFER, OP_DEL_OFFER, OP_DEL_EVENT };
#define NEW_SLOT UINT32_MAX
typedef struct script_op { uint8_t op; uint32_t a; } script_op;

typedef struct held { uint64_t offset; char *json; size_t len; int left; } held;

struct sim_model {
    sim_model_opts o;
    rng r, rr;                   /* model; reorder decisions */
    event *ev;                   /* the slots of table SIM_T_EVENTS */
    offer *of;                   /* of SIM_T_OFFERS */
    table t[2];
    int64_t next_out_id;
    uint64_t head, steps;
    script_op *script; size_t s_head, s_len, s_cap;
    held *held; size_t nheld, capheld;
    int focus;                   /* 0 none, else 1 + the entity's table */
    uint32_t focus_slot;
    int focus_left;
    int oom;
    ora_buf msg;
    /* the offerings of each layout group, as JSON arrays of jurisdiction names */
    int n_groups[NLAYOUTS];
    char *groups[NLAYOUTS][MAX_GROUPS];
};

static void P(sim_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void P(sim_model *m, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp || ora_buf_append(&m->msg, tmp, (size_t)n) < 0)
        m->oom = 1;
}

static void S(sim_model *m, const char *s)
{
    if (ora_buf_append(&m->msg, s, strlen(s)) < 0)
        m->oom = 1;
}

/* The JSON arrays of jurisdiction names each layout's groups carry: the
 * names cut into 1, 2 or 3 runs (fewer when there are fewer names). */
static int make_groups(sim_model *m)
{
    const char *const *names = m->o.n_jurisdictions ? m->o.jurisdictions : sim_default_jurisdictions;
    size_t n = m->o.n_jurisdictions ? m->o.n_jurisdictions : sim_n_default_jurisdictions;
    for (int l = 0; l < NLAYOUTS; l++) {
        size_t k = (size_t)l + 1 < n ? (size_t)l + 1 : n;
        m->n_groups[l] = (int)k;
        for (size_t g = 0; g < k; g++) {
            ora_buf b = ORA_BUF_INIT;
            int rc = ora_buf_append(&b, "[", 1);
            for (size_t i = 0, first = 1; rc == 0 && i < n; i++) {
                if (i * k / n != g)
                    continue;
                if (!first)
                    rc = ora_buf_append(&b, ",", 1);
                first = 0;
                if (rc == 0)
                    rc = ora_json_cstr(&b, names[i]);
            }
            if (rc == 0)
                rc = ora_buf_append(&b, "]", 2); /* with the NUL */
            if (rc < 0) {
                ora_buf_free(&b);
                return -1;
            }
            m->groups[l][g] = (char *)b.p;
        }
    }
    return 0;
}

sim_model *sim_model_new(const sim_model_opts *opts)
{
    sim_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->o = *opts;
    if (make_groups(m) < 0) {
        sim_model_free(m);
        return NULL;
    }
    if (m->o.offers_max < m->o.offers_min)
        m->o.offers_max = m->o.offers_min;
    rng_seed(&m->r, opts->seed);
    rng_seed(&m->rr, opts->seed ^ 0x5eedf00dcafe1234ull);
    m->t[SIM_T_EVENTS].next_id = 1000001;
    m->t[SIM_T_OFFERS].next_id = 5000001;
    m->next_out_id = 6000001;
    return m;
}

void sim_model_free(sim_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nheld; i++)
        free(m->held[i].json);
    free(m->held);
    free(m->ev);
    free(m->of);
    free(m->t[SIM_T_EVENTS].alive);
    free(m->t[SIM_T_OFFERS].alive);
    free(m->script);
    ora_buf_free(&m->msg);
    for (int l = 0; l < NLAYOUTS; l++)
        for (int g = 0; g < MAX_GROUPS; g++)
            free(m->groups[l][g]);
    free(m);
}

uint64_t sim_model_head(const sim_model *m) { return m->head; }
size_t sim_model_held(const sim_model *m) { return m->nheld; }
size_t sim_model_events(const sim_model *m) { return m->t[SIM_T_EVENTS].n_alive; }
size_t sim_model_offers(const sim_model *m) { return m->t[SIM_T_OFFERS].n_alive; }

/* ---- JSON writers --------------------------------------------------------- */

static void w_time(sim_model *m, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[40];
    gmtime_r(&tt, &tm);
    strftime(s, sizeof s, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
    S(m, s);
}

/* A translated text: {"defaultTranslation":"..."} (our texts need no
 * escaping). */
static void w_text(sim_model *m, const char *a, const char *b)
{
    P(m, "{\"defaultTranslation\":\"%s%s\"}", a, b);
}

static void w_team(sim_model *m, const event *e, int home)
{
    const struct sport *sp = &sports[e->sport];
    int t = home ? e->home : e->away;
    P(m, "{\"id\":%lld,\"name\":", (long long)(3000001 + e->sport * 100 + t));
    w_text(m, sp->team[t], (home && e->renamed) ? sp->suffix : "");
    P(m, ",\"type\":\"%s\",\"homeParticipant\":%s}", sp->ptype, home ? "true" : "false");
}

static void w_participants(sim_model *m, const event *e)
{
    S(m, "[");
    w_team(m, e, 1);
    S(m, ",");
    w_team(m, e, 0);
    S(m, "]");
}

static void w_event(sim_model *m, const event *e)
{
    const struct sport *sp = &sports[e->sport];
    P(m, "{\"id\":%lld,\"name\":{\"defaultTranslation\":\"%s - %s\"},\"group\":{\"id\":%lld,\"name\":",
      (long long)e->h.id, sp->team[e->home], sp->team[e->away], (long long)sp->group_id[e->group]);
    w_text(m, sp->group_name[e->group], "");
    S(m, "},\"competitionName\":");
    w_text(m, sp->group_name[e->group], "");
    P(m, ",\"sport\":\"%s\",\"startsAt\":", sp->name);
    w_time(m, e->starts);
    P(m, ",\"status\":%s,\"tags\":%s,\"participants\":", ev_status[e->status], event_tags[e->tags]);
    w_participants(m, e);
    S(m, "}");
}

/* Odds entries: per layout group, its offerings and {"decimal": milli-odds}. */
static void w_odds(sim_model *m, const offer *o, const outcome *oc)
{
    S(m, "[");
    for (int g = 0; g < m->n_groups[o->layout]; g++) {
        S(m, g ? ",{\"offerings\":" : "{\"offerings\":");
        S(m, m->groups[o->layout][g]);
        P(m, ",\"odds\":{\"decimal\":%u}}", oc->odds[g]);
    }
    S(m, "]");
}

static void w_outcome(sim_model *m, const offer *o, const outcome *oc)
{
    const struct crit *c = &crits[o->crit];
    P(m, "{\"id\":%lld,\"betOfferId\":%lld,\"label\":", (long long)oc->id, (long long)o->h.id);
    w_text(m, c->labels[oc->label], "");
    P(m, ",\"status\":%s,\"odds\":", of_status[oc->status]);
    w_odds(m, o, oc);
    S(m, "}");
}

static void w_offer(sim_model *m, const offer *o)
{
    const struct crit *c = &crits[o->crit];
    P(m, "{\"id\":%lld,\"eventId\":%lld,\"criterion\":{\"id\":%lld,\"label\":",
      (long long)o->h.id, (long long)m->ev[o->ev].h.id, (long long)c->id);
    w_text(m, c->label, "");
    P(m, "},\"lineType\":%s,\"tags\":%s,\"status\":%s,\"outcomes\":[",
      line_types[o->line], offer_tags[o->tags], of_status[o->status]);
    for (int i = 0; i < o->n_out; i++) {
        if (i)
            S(m, ",");
        w_outcome(m, o, &o->out[i]);
    }
    S(m, "]}");
}

/* ---- emitting --------------------------------------------------------------- */

static void begin_at(sim_model *m, uint64_t off, const char *key)
{
    m->msg.len = 0;
    P(m, "{\"offset\":%llu,\"%s\":", (unsigned long long)off, key);
}

/* Starts the next message (offset head+1). */
static void begin(sim_model *m, const char *key)
{
    begin_at(m, ++m->head, key);
}

static int deliver(const sim_sink *s, uint64_t off, const char *j, size_t n)
{
    return s->deliver && s->deliver(s->ctx, off, j, n) != 0 ? -1 : 0;
}

/* Releases held messages whose countdown ended (after one delivery). */
static int tick(sim_model *m, const sim_sink *s)
{
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < m->nheld; i++) {
        held *h = &m->held[i];
        if (rc == 0 && --h->left <= 0) {
            rc = deliver(s, h->offset, h->json, h->len);
            free(h->json);
        } else {
            m->held[k++] = *h;
        }
    }
    m->nheld = k;
    return rc;
}

/* Ends the message: log it, then deliver it or hold it back (holdable:
 * an entity add/update; focus says whose finer updates should follow). */
static int finish(sim_model *m, const sim_sink *s, int holdable, int focus, uint32_t slot)
{
    S(m, "}");
    if (m->oom)
        return -1;
    const char *j = (const char *)m->msg.p;
    size_t n = m->msg.len;
    if (s->log && s->log(s->ctx, m->head, j, n) != 0)
        return -1;
    if (holdable && m->o.reorder > 0 && chance(&m->rr, m->o.reorder)) {
        if (sim_vec_reserve((void **)&m->held, &m->capheld, m->nheld + 1, sizeof *m->held, 64) < 0)
            return -1;
        held *h = &m->held[m->nheld];
        if (!(h->json = malloc(n)))
            return -1;
        memcpy(h->json, j, n);
        h->len = n;
        h->offset = m->head;
        h->left = 1 + (int)below(&m->rr, 6);
        m->nheld++;
        m->focus = focus;
        m->focus_slot = slot;
        m->focus_left = h->left;
        return 0;
    }
    if (deliver(s, m->head, j, n) < 0)
        return -1;
    return tick(m, s);
}

int sim_model_flush(sim_model *m, const sim_sink *s)
{
    int rc = 0;
    for (size_t i = 0; i < m->nheld; i++) {
        if (rc == 0)
            rc = deliver(s, m->held[i].offset, m->held[i].json, m->held[i].len);
        free(m->held[i].json);
    }
    m->nheld = 0;
    return rc;
}

/* ---- population ----------------------------------------------------------- */

/* The entity in slot i of table t. */
static entity *slot_entity(const sim_model *m, int t, size_t i)
{
    return t == SIM_T_EVENTS ? &m->ev[i].h : &m->of[i].h;
}

/* Makes slot of table t (NEW_SLOT: a new one at the end, with a new id)
 * hold a new entity: zeroed but for its id, and alive. Returns the slot,
 * or NEW_SLOT on ENOMEM. */
static uint32_t slot_fill(sim_model *m, int t, uint32_t slot)
{
    table *tb = &m->t[t];
    int ev = t == SIM_T_EVENTS;
    size_t size = ev ? sizeof *m->ev : sizeof *m->of;
    int64_t id;
    if (slot == NEW_SLOT) {
        if (sim_vec_reserve(ev ? (void **)&m->ev : (void **)&m->of, &tb->cap, tb->n + 1, size, 64) < 0)
            return NEW_SLOT;
        slot = (uint32_t)tb->n++;
        id = tb->next_id++;
    } else {
        id = slot_entity(m, t, slot)->id;
    }
    if (sim_vec_resize((void **)&tb->alive, tb->n_alive + 1, sizeof *tb->alive) < 0)
        return NEW_SLOT;
    entity *h = slot_entity(m, t, slot);
    memset(ev ? (void *)&m->ev[slot] : (void *)&m->of[slot], 0, size);
    h->id = id;
    h->pos = (uint32_t)tb->n_alive;
    h->alive = 1;
    tb->alive[tb->n_alive++] = slot;
    return slot;
}

/* Empties slot of table t (its entity was deleted). */
static void slot_kill(sim_model *m, int t, uint32_t slot)
{
    table *tb = &m->t[t];
    entity *h = slot_entity(m, t, slot);
    uint32_t last = tb->alive[--tb->n_alive];
    tb->alive[h->pos] = last;
    slot_entity(m, t, last)->pos = h->pos;
    h->alive = 0;
}

/* Prices in milli-odds, on Kambi's grid of hundredths (1.20 to 5.99). */
static uint32_t base_odds(rng *r) { return 10 * (120 + below(r, 480)); }

static void odds_fill(sim_model *m, outcome *oc)
{
    uint32_t b = base_odds(&m->r);
    for (int g = 0; g < MAX_GROUPS; g++) {
        int d = g ? (int)below(&m->r, 9) - 4 : 0;
        int v = (int)b + d * (int)b / 100;
        oc->odds[g] = v < 1010 ? 1010 : (uint32_t)v;
    }
}

/* Fills slot with a new event (NEW_SLOT: a new one with a new id). live: may
 * start as STARTED. Returns the slot or NEW_SLOT on ENOMEM. */
static uint32_t ev_make(sim_model *m, uint32_t slot, int live)
{
    slot = slot_fill(m, SIM_T_EVENTS, slot);
    if (slot == NEW_SLOT)
        return NEW_SLOT;
    event *e = &m->ev[slot];
    e->sport = (uint8_t)below(&m->r, NSPORTS);
    e->group = (uint8_t)below(&m->r, 2);
    e->home = (uint8_t)below(&m->r, NTEAMS);
    e->away = (uint8_t)((e->home + 1 + below(&m->r, NTEAMS - 1)) % NTEAMS);
    e->cashout = (uint8_t)chance(&m->r, 0.2);
    if (live && chance(&m->r, 0.3)) {
        e->status = EV_STARTED;
        e->starts = m->o.base_time - 300 * (int64_t)below(&m->r, 18);
        e->tags = 1;
        e->minute = (uint16_t)below(&m->r, (uint32_t)sports[e->sport].period_len);
        e->sh = (uint16_t)below(&m->r, 3);
        e->sa = (uint16_t)below(&m->r, 3);
        e->running = 1;
    } else {
        e->status = EV_NOT_STARTED;
        e->starts = m->o.base_time + 900 * (int64_t)(1 + below(&m->r, 288));
        e->tags = chance(&m->r, 0.3) ? 2 : 0;
    }
    return slot;
}

static uint8_t pick_crit(rng *r)
{
    int tot = 0;
    for (int i = 0; i < NCRITS; i++)
        tot += crits[i].weight;
    int x = (int)below(r, (uint32_t)tot);
    for (int i = 0; i < NCRITS; i++)
        if ((x -= crits[i].weight) < 0)
            return (uint8_t)i;
    return 0;
}

/* Fills an offer slot (NEW_SLOT: a new one with a new id) for event slot ev. */
static uint32_t of_make(sim_model *m, uint32_t slot, uint32_t ev)
{
    slot = slot_fill(m, SIM_T_OFFERS, slot);
    if (slot == NEW_SLOT)
        return NEW_SLOT;
    offer *o = &m->of[slot];
    o->ev = ev;
    o->crit = pick_crit(&m->r);
    uint32_t x = below(&m->r, 10);
    o->line = x < 6 ? 0 : x < 9 ? 1 : 2;
    x = below(&m->r, 10);
    o->tags = x < 4 ? 0 : x < 9 ? 1 : 2;
    o->status = chance(&m->r, 0.85) ? OF_OPEN : OF_SUSPENDED;
    o->cashout = (uint8_t)chance(&m->r, 0.3);
    o->layout = (uint8_t)below(&m->r, 3);
    o->n_out = (uint8_t)crits[o->crit].n;
    for (int i = 0; i < o->n_out; i++) {
        outcome *oc = &o->out[i];
        oc->id = m->next_out_id++;
        oc->label = (uint8_t)i;
        oc->status = OF_OPEN;
        oc->cashout = 0;
        odds_fill(m, oc);
    }
    return slot;
}

static uint32_t n_offers(sim_model *m)
{
    return m->o.offers_min + below(&m->r, m->o.offers_max - m->o.offers_min + 1);
}

static int push_op(sim_model *m, uint8_t op, uint32_t a)
{
    if (m->s_head == m->s_len)
        m->s_head = m->s_len = 0;
    if (sim_vec_reserve((void **)&m->script, &m->s_cap, m->s_len + 1, sizeof *m->script, 64) < 0)
        return -1;
    m->script[m->s_len].op = op;
    m->script[m->s_len].a = a;
    m->s_len++;
    return 0;
}

/* ---- message generators (each emits exactly one message) ------------------ */

/* Writes {"offset":off,"key":{"event":{...}}} (or "betOffer") for the
 * entity in slot of table t, all but the message's last "}". */
static void put_entity(sim_model *m, int t, uint32_t slot, uint64_t off, const char *key)
{
    begin_at(m, off, key);
    if (t == SIM_T_EVENTS) {
        S(m, "{\"event\":");
        w_event(m, &m->ev[slot]);
    } else {
        S(m, "{\"betOffer\":");
        w_offer(m, &m->of[slot]);
    }
    S(m, "}");
}

/* Emits key, an add or update that carries the whole entity in slot of
 * table t; holdable: it may be held back. */
static int emit_entity(sim_model *m, const sim_sink *s, int t, uint32_t slot, const char *key, int holdable)
{
    put_entity(m, t, slot, ++m->head, key);
    slot_entity(m, t, slot)->offset = m->head;
    return finish(m, s, holdable, 1 + t, slot);
}

/* Ends a finer update (never held back) that changed entity h. */
static int changed(sim_model *m, const sim_sink *s, entity *h)
{
    h->offset = m->head;
    return finish(m, s, 0, 0, 0);
}

/* Emits key: {"<id>":<h's id>,"<field>":value} (value: JSON text), a
 * finer update of entity h. */
static int emit_field(sim_model *m, const sim_sink *s, entity *h, const char *key, const char *id,
                      const char *field, const char *value)
{
    begin(m, key);
    P(m, "{\"%s\":%lld,\"%s\":%s}", id, (long long)h->id, field, value);
    return changed(m, s, h);
}

/* Emits key: {"betOfferId":...,"outcomeId":...,"<field>":value}, a finer
 * update of outcome oc of offer o. */
static int emit_outcome_field(sim_model *m, const sim_sink *s, offer *o, const outcome *oc,
                              const char *key, const char *field, const char *value)
{
    begin(m, key);
    P(m, "{\"betOfferId\":%lld,\"outcomeId\":%lld,\"%s\":%s}", (long long)o->h.id, (long long)oc->id,
      field, value);
    return changed(m, s, &o->h);
}

/* Emits outcomeOddsUpdated with the odds outcome oc of offer o has now. */
static int emit_odds(sim_model *m, const sim_sink *s, offer *o, const outcome *oc)
{
    begin(m, "outcomeOddsUpdated");
    P(m, "{\"betOfferId\":%lld,\"eventId\":%lld,\"outcomeId\":%lld,\"odds\":",
      (long long)o->h.id, (long long)m->ev[o->ev].h.id, (long long)oc->id);
    w_odds(m, o, oc);
    S(m, "}");
    return changed(m, s, &o->h);
}

/* A live slot of table t at random: drawn again, up to tries times, while
 * the status of its entity is not want (-1: any status will do). */
static uint32_t pick(sim_model *m, int t, int tries, int want)
{
    const table *tb = &m->t[t];
    uint32_t slot = tb->alive[below(&m->r, (uint32_t)tb->n_alive)];
    for (int i = 0; i < tries && want >= 0; i++) {
        int status = t == SIM_T_EVENTS ? m->ev[slot].status : m->of[slot].status;
        if (status == want)
            break;
        slot = tb->alive[below(&m->r, (uint32_t)tb->n_alive)];
    }
    return slot;
}

static uint32_t pick_event(sim_model *m, int want_status) { return pick(m, SIM_T_EVENTS, 8, want_status); }
static uint32_t pick_offer(sim_model *m) { return pick(m, SIM_T_OFFERS, 3, OF_OPEN); }

static int gen_new_event(sim_model *m, const sim_sink *s, uint32_t slot)
{
    slot = ev_make(m, slot, 0);
    if (slot == NEW_SLOT)
        return -1;
    uint32_t n = n_offers(m);
    for (uint32_t i = 0; i < n; i++)
        if (push_op(m, OP_ADD_OFFER, slot) < 0)
            return -1;
    return emit_entity(m, s, SIM_T_EVENTS, slot, "eventAdded", 1);
}

static int gen_event_status(sim_model *m, const sim_sink *s, uint32_t slot);

static int gen_delete_event(sim_model *m, uint32_t slot)
{
    for (size_t i = 0; i < m->t[SIM_T_OFFERS].n; i++)
        if (m->of[i].h.alive && m->of[i].ev == slot && push_op(m, OP_DEL_OFFER, (uint32_t)i) < 0)
            return -1;
    if (push_op(m, OP_DEL_EVENT, slot) < 0)
        return -1;
    /* Half the time the same id comes right back; else a new event replaces it. */
    if (push_op(m, OP_ADD_EVENT, chance(&m->r, 0.5) ? slot : NEW_SLOT) < 0)
        return -1;
    return 1; /* the caller runs the first op */
}

static int gen_odds(sim_model *m, const sim_sink *s, uint32_t slot)
{
    offer *o = &m->of[slot];
    outcome *oc = &o->out[below(&m->r, o->n_out)];
    double f = 1.0 + ((double)below(&m->r, 161) - 80.0) / 1000.0;
    for (int g = 0; g < MAX_GROUPS; g++) {
        double j = 1.0 + ((double)below(&m->r, 11) - 5.0) / 1000.0;
        uint32_t v = (uint32_t)((double)oc->odds[g] * f * j + 0.5);
        if (v == oc->odds[g])
            v++;
        oc->odds[g] = v < 1010 ? 1010 : v > 1000000 ? 1000000 : v;
    }
    return emit_odds(m, s, o, oc);
}

/* An outcome the offer has never listed, announced by an odds or a status
 * update before any bet offer message carries it (a client adds it with
 * what it knows); later betOfferUpdated messages and snapshots list it. */
static int gen_new_outcome(sim_model *m, const sim_sink *s, uint32_t slot)
{
    offer *o = &m->of[slot];
    if (o->n_out >= MAX_OUT)
        return gen_odds(m, s, slot);
    outcome *oc = &o->out[o->n_out++];
    oc->id = m->next_out_id++;
    oc->label = EXTRA_LABEL;
    oc->status = OF_OPEN;
    oc->cashout = 0;
    odds_fill(m, oc);
    if (chance(&m->r, 0.5))
        return emit_odds(m, s, o, oc);
    oc->status = OF_SUSPENDED;
    return emit_outcome_field(m, s, o, oc, "outcomeStatusUpdated", "status", of_status[oc->status]);
}

static int gen_offer_status(sim_model *m, const sim_sink *s, uint32_t slot)
{
    offer *o = &m->of[slot];
    if (o->status != OF_OPEN)
        o->status = OF_OPEN;
    else
        o->status = chance(&m->r, 0.8) ? OF_SUSPENDED : OF_CLOSED;
    return emit_field(m, s, &o->h, "betOfferStatusUpdated", "id", "status", of_status[o->status]);
}

/* Flips the status (OPEN, SUSPENDED) or, with cash, the cash-out status
 * of one of the outcomes of the offer in slot. */
static int gen_outcome_flip(sim_model *m, const sim_sink *s, uint32_t slot, int cash)
{
    offer *o = &m->of[slot];
    outcome *oc = &o->out[below(&m->r, o->n_out)];
    if (cash) {
        oc->cashout ^= 1;
        return emit_outcome_field(m, s, o, oc, "outcomeCashoutStatusUpdated", "cashOutStatus",
                                  cashout[oc->cashout]);
    }
    oc->status = oc->status == OF_OPEN ? OF_SUSPENDED : OF_OPEN;
    return emit_outcome_field(m, s, o, oc, "outcomeStatusUpdated", "status", of_status[oc->status]);
}

/* The finer updates that move one field of an entity to another of its
 * values, at random: the field (a uint8_t at offset field of the event or
 * offer struct, which starts with its entity), its n values as JSON text,
 * and the message kind and member that carry it. */
enum set { SET_OF_CASHOUT, SET_OF_LINE, SET_EV_CASHOUT, SET_EV_TAGS };
static const struct setter {
    int table;
    size_t field;
    const char *const *values;
    uint8_t n;
    const char *key, *name;
} setters[] = {
    [SET_OF_CASHOUT] = {SIM_T_OFFERS, offsetof(offer, cashout), cashout, 2,
                        "betOfferCashOutStatusUpdated", "cashOutStatus"},
    [SET_OF_LINE] = {SIM_T_OFFERS, offsetof(offer, line), line_types, 3, "betOfferLineTypesUpdated",
                     "lineTypes"},
    [SET_EV_CASHOUT] = {SIM_T_EVENTS, offsetof(event, cashout), cashout, 2,
                        "eventCashOutStatusUpdated", "cashOutStatus"},
    [SET_EV_TAGS] = {SIM_T_EVENTS, offsetof(event, tags), event_tags, 3, "eventTagsUpdated", "tags"},
};
_Static_assert(offsetof(event, h) == 0 && offsetof(offer, h) == 0, "an entity starts its struct");

static int gen_set(sim_model *m, const sim_sink *s, int k, uint32_t slot)
{
    const struct setter *st = &setters[k];
    entity *h = slot_entity(m, st->table, slot);
    uint8_t *v = (uint8_t *)h + st->field;
    /* another value: with two, the other one (no draw) */
    *v = (uint8_t)((*v + 1 + (st->n > 2 ? below(&m->r, st->n - 1u) : 0)) % st->n);
    return emit_field(m, s, h, st->key, "id", st->name, st->values[*v]);
}

static int gen_offer_updated(sim_model *m, const sim_sink *s, uint32_t slot)
{
    offer *o = &m->of[slot];
    for (int i = 0; i < o->n_out; i++)
        for (int g = 0; g < MAX_GROUPS; g++) {
            uint32_t v = o->out[i].odds[g] + 10 * below(&m->r, 7);
            o->out[i].odds[g] = v < 1040 ? 1010 : v - 30; /* a move of -0.03..+0.03 */
        }
    if (chance(&m->r, 0.3))
        o->tags = (uint8_t)((o->tags + 1) % 3);
    return emit_entity(m, s, SIM_T_OFFERS, slot, "betOfferUpdated", 1);
}

static int gen_offer_deleted(sim_model *m, const sim_sink *s, uint32_t slot)
{
    offer *o = &m->of[slot];
    begin(m, "betOfferDeleted");
    P(m, "{\"betOfferId\":%lld,\"eventId\":%lld}", (long long)o->h.id, (long long)m->ev[o->ev].h.id);
    slot_kill(m, SIM_T_OFFERS, slot);
    return changed(m, s, &o->h);
}

/* Score and clock updates are for started events: for another one, its
 * status moves instead. */
static int gen_score(sim_model *m, const sim_sink *s, uint32_t slot)
{
    event *e = &m->ev[slot];
    if (e->status != EV_STARTED)
        return gen_event_status(m, s, slot);
    uint16_t g = (uint16_t)(1 + below(&m->r, (uint32_t)sports[e->sport].max_goal));
    if (chance(&m->r, 0.5))
        e->sh += g;
    else
        e->sa += g;
    char score[96];
    snprintf(score, sizeof score, "{\"home\":\"%u\",\"away\":\"%u\",\"info\":\"%u'\"}", e->sh, e->sa,
             e->minute);
    return emit_field(m, s, &e->h, "eventScoreUpdated", "eventId", "score", score);
}

static int gen_clock(sim_model *m, const sim_sink *s, uint32_t slot)
{
    event *e = &m->ev[slot];
    if (e->status != EV_STARTED)
        return gen_event_status(m, s, slot);
    const struct sport *sp = &sports[e->sport];
    e->minute = (uint16_t)(e->minute + below(&m->r, 3));
    int maxm = sp->period_len * sp->periods;
    if (e->minute >= maxm)
        e->minute = (uint16_t)(maxm - 1);
    e->second = (uint16_t)below(&m->r, 60);
    e->running = (uint8_t)chance(&m->r, 0.9);
    char period[16], clock[128];
    snprintf(period, sizeof period, sp->period_fmt, 1 + e->minute / sp->period_len);
    snprintf(clock, sizeof clock, "{\"minute\":%u,\"second\":%u,\"running\":%s,\"period\":\"%s\"}",
             e->minute, e->second, e->running ? "true" : "false", period);
    return emit_field(m, s, &e->h, "matchClockUpdated", "eventId", "matchClock", clock);
}

static int gen_event_status(sim_model *m, const sim_sink *s, uint32_t slot)
{
    event *e = &m->ev[slot];
    if (e->status == EV_FINISHED) {
        return gen_delete_event(m, slot);
    }
    if (e->status == EV_NOT_STARTED) {
        e->status = EV_STARTED;
        e->sh = e->sa = 0;
        e->minute = 0;
        e->running = 1;
        e->tags = 1;
    } else {
        e->status = EV_FINISHED;
        e->running = 0;
    }
    return emit_field(m, s, &e->h, "eventStatusUpdated", "id", "status", ev_status[e->status]);
}

static int gen_event_updated(sim_model *m, const sim_sink *s, uint32_t slot)
{
    event *e = &m->ev[slot];
    if (e->status == EV_NOT_STARTED)
        e->starts += 900 * (int64_t)(1 + below(&m->r, 4));
    else if (chance(&m->r, 0.5))
        e->tags = e->tags == 1 ? 2 : 1;
    return emit_entity(m, s, SIM_T_EVENTS, slot, "eventUpdated", 1);
}

static int gen_event_participants(sim_model *m, const sim_sink *s, uint32_t slot)
{
    event *e = &m->ev[slot];
    e->renamed ^= 1;
    begin(m, "eventParticipantsUpdated");
    P(m, "{\"eventId\":%lld,\"participants\":", (long long)e->h.id);
    w_participants(m, e);
    S(m, "}");
    return changed(m, s, &e->h);
}

/* ---- choosing what happens next ------------------------------------------- */

enum gen {
    G_ODDS, G_OF_STATUS, G_OC_STATUS, G_OC_CASHOUT, G_OF_CASHOUT, G_OF_LINE, G_OF_UPDATED, G_OC_NEW,
    G_EV_SCORE, G_EV_CLOCK, G_EV_STATUS, G_EV_UPDATED, G_EV_CASHOUT, G_EV_TAGS, G_EV_PARTS,
    G_OF_ADDED, G_OF_DELETE, G_EV_ADDED, G_EV_DELETE, G_COUNT
};
/* Per mille. */
static const int gen_weight[G_COUNT] = {
    540, 60, 30, 20, 20, 25, 40, 5,
    60, 70, 30, 25, 10, 15, 10,
    20, 10, 5, 5,
};

static int run_op(sim_model *m, const sim_sink *s, script_op op);

static int gen(sim_model *m, const sim_sink *s, int g)
{
    if (m->t[SIM_T_EVENTS].n_alive == 0)
        return gen_new_event(m, s, NEW_SLOT);
    if (g < G_EV_SCORE || g == G_OF_DELETE) {
        if (m->t[SIM_T_OFFERS].n_alive == 0)
            g = G_OF_ADDED;
    }
    switch (g) {
    case G_ODDS: return gen_odds(m, s, pick_offer(m));
    case G_OF_STATUS: return gen_offer_status(m, s, pick_offer(m));
    case G_OC_STATUS: return gen_outcome_flip(m, s, pick_offer(m), 0);
    case G_OC_CASHOUT: return gen_outcome_flip(m, s, pick_offer(m), 1);
    case G_OF_CASHOUT: return gen_set(m, s, SET_OF_CASHOUT, pick_offer(m));
    case G_OF_LINE: return gen_set(m, s, SET_OF_LINE, pick_offer(m));
    case G_OF_UPDATED: return gen_offer_updated(m, s, pick_offer(m));
    case G_OC_NEW: return gen_new_outcome(m, s, pick_offer(m));
    case G_EV_SCORE: return gen_score(m, s, pick_event(m, EV_STARTED));
    case G_EV_CLOCK: return gen_clock(m, s, pick_event(m, EV_STARTED));
    case G_EV_STATUS: return gen_event_status(m, s, pick_event(m, -1));
    case G_EV_UPDATED: return gen_event_updated(m, s, pick_event(m, -1));
    case G_EV_CASHOUT: return gen_set(m, s, SET_EV_CASHOUT, pick_event(m, -1));
    case G_EV_TAGS: return gen_set(m, s, SET_EV_TAGS, pick_event(m, -1));
    case G_EV_PARTS: return gen_event_participants(m, s, pick_event(m, -1));
    case G_OF_ADDED: {
        uint32_t ev = pick_event(m, EV_NOT_STARTED);
        uint32_t slot = of_make(m, NEW_SLOT, ev);
        if (slot == NEW_SLOT)
            return -1;
        return emit_entity(m, s, SIM_T_OFFERS, slot, "betOfferAdded", 1);
    }
    case G_OF_DELETE: {
        uint32_t slot = pick_offer(m);
        int rc2 = gen_offer_deleted(m, s, slot);
        if (rc2 == 0 && chance(&m->r, 0.6) && push_op(m, OP_READD_OFFER, slot) < 0)
            return -1;
        return rc2;
    }
    case G_EV_ADDED: return gen_new_event(m, s, NEW_SLOT);
    case G_EV_DELETE: return gen_delete_event(m, pick_event(m, EV_FINISHED));
    default: return -1;
    }
}

static int run_op(sim_model *m, const sim_sink *s, script_op op)
{
    uint32_t slot;
    switch (op.op) {
    case OP_ADD_EVENT:
        return gen_new_event(m, s, op.a);
    case OP_ADD_OFFER:
        if (!m->ev[op.a].h.alive)
            return gen(m, s, G_ODDS);
        slot = of_make(m, NEW_SLOT, op.a);
        return slot == NEW_SLOT ? -1 : emit_entity(m, s, SIM_T_OFFERS, slot, "betOfferAdded", 1);
    case OP_READD_OFFER:
        if (!m->ev[m->of[op.a].ev].h.alive || m->of[op.a].h.alive)
            return gen(m, s, G_ODDS);
        slot = of_make(m, op.a, m->of[op.a].ev);
        return slot == NEW_SLOT ? -1 : emit_entity(m, s, SIM_T_OFFERS, slot, "betOfferAdded", 1);
    case OP_DEL_OFFER:
        if (!m->of[op.a].h.alive)
            return gen(m, s, G_ODDS);
        return gen_offer_deleted(m, s, op.a);
    case OP_DEL_EVENT:
        begin(m, "eventDeleted");
        P(m, "{\"id\":%lld}", (long long)m->ev[op.a].h.id);
        slot_kill(m, SIM_T_EVENTS, op.a);
        return changed(m, s, &m->ev[op.a].h);
    }
    return -1;
}

/* Finer updates for the entity whose add/update is held back. */
static int gen_focus(sim_model *m, const sim_sink *s)
{
    uint32_t x = below(&m->r, 10);
    if (m->focus == 2) {
        uint32_t slot = m->focus_slot;
        if (x < 7) return gen_odds(m, s, slot);
        if (x < 8) return gen_outcome_flip(m, s, slot, 0);
        if (x < 9) return gen_offer_status(m, s, slot);
        return gen_set(m, s, SET_OF_LINE, slot);
    }
    uint32_t slot = m->focus_slot;
    if (m->ev[slot].status == EV_STARTED)
        return x < 5 ? gen_score(m, s, slot) : gen_clock(m, s, slot);
    if (x < 4) return gen_set(m, s, SET_EV_TAGS, slot);
    if (x < 7) return gen_set(m, s, SET_EV_CASHOUT, slot);
    return gen_event_participants(m, s, slot);
}

/* One message; 1 when a script was queued instead (run its first op). */
static int step1(sim_model *m, const sim_sink *s)
{
    if (m->s_head < m->s_len)
        return run_op(m, s, m->script[m->s_head++]);
    if (m->focus && m->focus_left > 0) {
        m->focus_left--;
        if (slot_entity(m, m->focus - 1, m->focus_slot)->alive && chance(&m->r, 0.8))
            return gen_focus(m, s);
    } else {
        m->focus = 0;
    }
    int g;
    if (m->steps < G_COUNT) {
        g = (int)m->steps; /* every kind early, so short runs show them all */
    } else {
        int x = (int)below(&m->r, 1000);
        for (g = 0; g < G_COUNT - 1 && (x -= gen_weight[g]) >= 0; g++)
            ;
        /* keep the population near its initial size */
        if (g == G_EV_ADDED && m->t[SIM_T_EVENTS].n_alive > m->o.events + 5)
            g = G_ODDS;
        if (g == G_EV_DELETE && m->t[SIM_T_EVENTS].n_alive + 5 < m->o.events)
            g = G_EV_ADDED;
    }
    m->steps++;
    return gen(m, s, g);
}

int sim_model_step(sim_model *m, const sim_sink *s)
{
    uint64_t h = m->head;
    int rc = step1(m, s);
    while (rc == 1 && m->s_head < m->s_len)
        rc = run_op(m, s, m->script[m->s_head++]);
    if (rc == 0 && m->head != h + 1)
        return -1; /* a bug: every step makes exactly one message */
    return rc == 0 ? 0 : -1;
}

int sim_model_init(sim_model *m, const sim_sink *s)
{
    for (uint32_t i = 0; i < m->o.events; i++) {
        uint32_t slot = ev_make(m, NEW_SLOT, 1);
        if (slot == NEW_SLOT || emit_entity(m, s, SIM_T_EVENTS, slot, "eventAdded", 0) < 0)
            return -1;
        uint32_t n = n_offers(m);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t os = of_make(m, NEW_SLOT, slot);
            if (os == NEW_SLOT || emit_entity(m, s, SIM_T_OFFERS, os, "betOfferAdded", 0) < 0)
                return -1;
        }
    }
    return 0;
}

size_t sim_model_slots(const sim_model *m, int table)
{
    return m->t[table].n;
}

/* The end of the slots [*first, *first + n) of table, both cut to the
 * slots there are. */
static size_t slot_range(const sim_model *m, int table, size_t *first, size_t n)
{
    size_t end = m->t[table].n;
    if (*first > end)
        *first = end;
    return n < end - *first ? *first + n : end;
}

uint64_t sim_model_stamp(const sim_model *m, int table, size_t first, size_t n)
{
    size_t end = slot_range(m, table, &first, n);
    uint64_t st = 0;
    for (size_t i = first; i < end; i++) {
        uint64_t off = slot_entity(m, table, i)->offset;
        if (off > st)
            st = off;
    }
    return st;
}

int sim_model_snapshot_slots(sim_model *m, int table, size_t first, size_t n, sim_emit_fn emit, void *ctx)
{
    size_t end = slot_range(m, table, &first, n);
    int count = 0;
    for (size_t i = first; i < end; i++) {
        const entity *h = slot_entity(m, table, i);
        if (!h->alive)
            continue;
        put_entity(m, table, (uint32_t)i, h->offset, table == SIM_T_EVENTS ? "eventAdded" : "betOfferAdded");
        S(m, "}");
        if (m->oom || emit(ctx, h->offset, (const char *)m->msg.p, m->msg.len) != 0)
            return -1;
        count++;
    }
    return count;
}

int sim_model_snapshot(sim_model *m, sim_emit_fn emit, void *ctx)
{
    if (sim_model_snapshot_slots(m, SIM_T_EVENTS, 0, m->t[SIM_T_EVENTS].n, emit, ctx) < 0 ||
        sim_model_snapshot_slots(m, SIM_T_OFFERS, 0, m->t[SIM_T_OFFERS].n, emit, ctx) < 0)
        return -1;
    return 0;
}
