/* actors.c: the actor tables, pending queues and dispatch (actors.h): how
 * each message changes the Event and BetOffer state, read through the
 * entity model's field table (entity.h). The rules that surface outputs
 * are in outputs.c. */
#include "actors.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"
#include "jscan.h"
#include "json.h"
#include "ora.h"
#include "outputs.h"

/* ---- small helpers -------------------------------------------------------- */

static void set_id(ora_intern *t, uint32_t *field, uint32_t nid)
{
    ora_intern_put(t, *field);
    *field = nid;
}

/* Counts a field that is not there as the entity model wants it. */
static int seen(ora_actors *a, int fv)
{
    if (fv != ORA_FV_OK)
        a->st.missing_fields++;
    return fv;
}

/* The interned id of s[0..n) (taking a reference); *oom when out of memory. */
static uint32_t intern_n(ora_intern *t, const char *s, size_t n, int *oom)
{
    uint32_t id = ora_intern_get(t, s, n, NULL);
    if (!id)
        *oom = 1;
    return id;
}

/* The interned id of a JSON string (taking a reference), 0 for anything else. */
static uint32_t istr(ora_intern *t, const cJSON *it, int *oom)
{
    if (!cJSON_IsString(it) || !it->valuestring)
        return 0;
    return intern_n(t, it->valuestring, strlen(it->valuestring), oom);
}

/* What read_str() does with a field read as fv, whose text is s[0..n) when
 * ORA_FV_OK (both readers of a payload, the tree and the text, end here). */
static void put_str(ora_actors *a, int fv, const char *s, size_t n, uint32_t *field, int *changed, int *oom)
{
    if (seen(a, fv) == ORA_FV_ABSENT)
        return;
    uint32_t nid = fv == ORA_FV_OK ? intern_n(a->strs, s, n, oom) : 0;
    if (nid != *field && changed)
        *changed = 1;
    set_id(a->strs, field, nid);
}

/* Sets a text field from field f of obj: absent keeps the stored value,
 * missing or wrong-typed sets null. *changed (if not NULL) is set when the
 * value changed. */
static void read_str(ora_actors *a, const cJSON *obj, int f, uint32_t *field, int *changed, int *oom)
{
    const cJSON *v;
    int r = ora_field(obj, f, &v);
    const char *s = r == ORA_FV_OK ? v->valuestring : "";
    put_str(a, r, s, strlen(s), field, changed, oom);
}

/* Sets an id field (with its presence flag bit in *flags) from field f of
 * obj, as read_str does. */
static void put_id(ora_actors *a, int fv, uint64_t id, uint64_t *field, uint8_t *flags, uint8_t bit, int *changed)
{
    int r = seen(a, fv);
    if (r == ORA_FV_ABSENT)
        return;
    int has = r == ORA_FV_OK;
    if (changed && (has != !!(*flags & bit) || (has && id != *field)))
        *changed = 1;
    *field = has ? id : 0;
    *flags = has ? (uint8_t)(*flags | bit) : (uint8_t)(*flags & ~bit);
}

static void read_id(ora_actors *a, const cJSON *obj, int f, uint64_t *field, uint8_t *flags, uint8_t bit,
                    int *changed)
{
    uint64_t id = 0;
    int r = ora_field_id(obj, f, &id);
    put_id(a, r, id, field, flags, bit, changed);
}

/* The aux of a list of table t held as s[0..n) (ORA_LIST_SEP-prefixed
 * elements): for offering lists the jurisdiction mask (the sum of the
 * names' bits: a name listed twice counts twice) and the count of unknown
 * names; for line types and tags the ORA_LIST_* bits. */
static uint64_t list_aux_of(const ora_actors *a, const ora_intern *t, const char *s, size_t n)
{
    uint64_t aux = 0, sum = 0, unknown = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && s[j] != ORA_LIST_SEP)
            j++;
        const char *el = s + i + 1;
        size_t el_n = j - i - 1;
        if (t == a->offl) {
            int known;
            sum += ora_rules_bit(a->rules, el, el_n, &known);
            unknown += !known;
        } else {
            if (el_n == 9 && memcmp(el, "MAIN_LINE", 9) == 0)
                aux |= ORA_LIST_MAIN_LINE;
            if (el_n == 12 && memcmp(el, "OFFERED_LIVE", 12) == 0)
                aux |= ORA_LIST_OFFERED_LIVE;
        }
        i = j;
    }
    if (t == a->offl) {
        if (sum > ORA_OFFL_MASK)
            sum = ORA_OFFL_MASK;
        if (unknown > (UINT64_MAX >> ORA_OFFL_UNKNOWN_SHIFT))
            unknown = UINT64_MAX >> ORA_OFFL_UNKNOWN_SHIFT;
        aux = sum | unknown << ORA_OFFL_UNKNOWN_SHIFT;
    }
    return aux;
}

/* The interned id (taking a reference) of the list s[0..n) of
 * ORA_LIST_SEP-prefixed elements, its aux set when it is new. */
static uint32_t list_id(ora_actors *a, ora_intern *t, const char *s, size_t n, int *oom)
{
    int isnew = 0;
    uint32_t id = ora_intern_get(t, s, n, &isnew);
    if (!id)
        *oom = 1;
    else if (isnew)
        ora_intern_set_aux(t, id, list_aux_of(a, t, s, n));
    return id;
}

/* A list of strings from a JSON array, interned in t (taking a
 * reference); elements that are not strings are left out and counted. */
static uint32_t ilist(ora_actors *a, ora_intern *t, const cJSON *arr, int *oom)
{
    ora_buf b = ORA_BUF_INIT;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e) || !e->valuestring) {
            a->st.missing_fields++;
            continue;
        }
        if (ora_buf_append(&b, "\x1f", 1) < 0 || ora_buf_append(&b, e->valuestring, strlen(e->valuestring)) < 0) {
            ora_buf_free(&b);
            *oom = 1;
            return 0;
        }
    }
    uint32_t id = list_id(a, t, b.len ? (const char *)b.p : "", b.len, oom);
    ora_buf_free(&b);
    return id;
}

/* Sets a list field from field f of obj: absent keeps it, missing or not
 * an array sets null (an empty list to the rules). */
static void read_list(ora_actors *a, ora_intern *t, const cJSON *obj, int f, uint32_t *field, int *oom)
{
    const cJSON *v;
    int r = seen(a, ora_field(obj, f, &v));
    if (r == ORA_FV_ABSENT)
        return;
    set_id(t, field, r == ORA_FV_OK ? ilist(a, t, v, oom) : 0);
}

/* Recomputes the aux of every entry of a list table (after a load, under
 * the current rules). */
static void list_aux(ora_actors *a, ora_intern *t)
{
    uint32_t lim = ora_intern_limit(t);
    for (uint32_t id = 1; id < lim; id++) {
        size_t n;
        const char *s = ora_intern_str(t, id, &n);
        if (s)
            ora_intern_set_aux(t, id, list_aux_of(a, t, s, n));
    }
}

/* Takes the ids of the strings the rules compare with. 0, or -1 (ENOMEM). */
static int take_held(ora_actors *a)
{
    a->s_open = ora_intern_get(a->strs, "OPEN", 4, NULL);
    a->s_suspended = ora_intern_get(a->strs, "SUSPENDED", 9, NULL);
    a->s_closed = ora_intern_get(a->strs, "CLOSED", 6, NULL);
    a->s_started = ora_intern_get(a->strs, "STARTED", 7, NULL);
    return a->s_open && a->s_suspended && a->s_closed && a->s_started ? 0 : -1;
}

static void parts_free(ora_actors *a, ora_event *e);
static void release_odds(ora_actors *a, const ora_odds *d, size_t n);

/* ---- tables ----------------------------------------------------------------- */

ora_actors *ora_actors_new(const ora_rules *rules, ora_emit_fn emit, void *ctx)
{
    ora_actors *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->rules = rules;
    a->emit = emit;
    a->emit_ctx = ctx;
    a->strs = ora_intern_new();
    a->offl = ora_intern_new();
    a->lists = ora_intern_new();
    if (!a->strs || !a->offl || !a->lists)
        goto fail;
    if (take_held(a) < 0)
        goto fail;
    return a;
fail:
    ora_actors_free(a);
    return NULL;
}

static void free_tables(ora_actors *a)
{
    for (uint32_t i = 0; i < a->n_ev; i++)
        free(a->ev[i].parts);
    for (uint32_t i = 0; i < a->n_bo; i++)
        free(a->bo[i].blob);
    free(a->ev);
    free(a->ev_free);
    free(a->bo);
    free(a->bo_free);
    ora_idmap_free(&a->ev_map);
    ora_idmap_free(&a->bo_map);
    ora_idmap_free(&a->pend_ev);
    ora_idmap_free(&a->pend_bo);
    for (ora_pend *p = a->pend_head, *nx; p; p = nx) {
        nx = p->gnext;
        free(p);
    }
    a->ev = NULL;
    a->bo = NULL;
    a->ev_free = a->bo_free = NULL;
    a->n_ev = a->cap_ev = a->n_ev_free = 0;
    a->n_bo = a->cap_bo = a->n_bo_free = 0;
    a->pend_head = a->pend_tail = NULL;
    a->n_pend = a->pend_bytes = 0;
    a->n_events = a->n_offers = 0;
}

void ora_actors_free(ora_actors *a)
{
    if (!a)
        return;
    free_tables(a);
    ora_intern_free(a->strs);
    ora_intern_free(a->offl);
    ora_intern_free(a->lists);
    ora_buf_free(&a->out);
    free(a);
}

int ora_actors_clear(ora_actors *a)
{
    free_tables(a);
    ora_intern_free(a->strs);
    ora_intern_free(a->offl);
    ora_intern_free(a->lists);
    a->strs = ora_intern_new();
    a->offl = ora_intern_new();
    a->lists = ora_intern_new();
    if (!a->strs || !a->offl || !a->lists)
        return -1;
    return take_held(a);
}

static uint32_t ev_find(const ora_actors *a, uint64_t id)
{
    uint64_t v;
    return ora_idmap_get(&a->ev_map, id, &v) ? (uint32_t)v : ORA_NOIDX;
}

static uint32_t bo_find(const ora_actors *a, uint64_t id)
{
    uint64_t v;
    return ora_idmap_get(&a->bo_map, id, &v) ? (uint32_t)v : ORA_NOIDX;
}

/* A slot of a table (events or bet offers): a freed one, else the next one,
 * growing the table and its free list together (first: initial capacity).
 * ORA_NOIDX when out of memory; the table is left valid either way. */
static uint32_t slot_take(void **items, size_t size, uint32_t **free_list, uint32_t *n_free,
                          uint32_t *n, uint32_t *cap, uint32_t first)
{
    if (*n_free)
        return (*free_list)[--*n_free];
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : first;
        void *ni = realloc(*items, (size_t)nc * size);
        uint32_t *nf = ni ? realloc(*free_list, (size_t)nc * sizeof *nf) : NULL;
        if (ni)
            *items = ni;
        if (!nf)
            return ORA_NOIDX;
        *free_list = nf;
        *cap = nc;
    }
    return (*n)++;
}

/* A slot for event id (existing, placeholder, or a new placeholder). */
static uint32_t ev_slot(ora_actors *a, uint64_t id)
{
    uint32_t i = ev_find(a, id);
    if (i != ORA_NOIDX)
        return i;
    i = slot_take((void **)&a->ev, sizeof *a->ev, &a->ev_free, &a->n_ev_free, &a->n_ev, &a->cap_ev, 256);
    if (i == ORA_NOIDX)
        return ORA_NOIDX;
    if (ora_idmap_put(&a->ev_map, id, i) < 0) {
        a->ev_free[a->n_ev_free++] = i;
        memset(&a->ev[i], 0, sizeof a->ev[i]);
        return ORA_NOIDX;
    }
    memset(&a->ev[i], 0, sizeof a->ev[i]);
    a->ev[i].id = id;
    a->ev[i].bo_head = ORA_NOIDX;
    return i;
}

static void ev_clear_fields(ora_actors *a, ora_event *e)
{
    set_id(a->strs, &e->competition, 0);
    set_id(a->strs, &e->sport, 0);
    set_id(a->strs, &e->starts_at, 0);
    set_id(a->strs, &e->status, 0);
    set_id(a->strs, &e->parts_json, 0);
    parts_free(a, e);
    e->flags = 0;
    e->group_id = 0;
}

/* Frees the slot of an event that neither exists nor has linked offers. */
static void ev_maybe_release(ora_actors *a, uint32_t i)
{
    ora_event *e = &a->ev[i];
    if (e->exists || e->n_bo)
        return;
    ora_idmap_del(&a->ev_map, e->id);
    memset(e, 0, sizeof *e);
    e->bo_head = ORA_NOIDX;
    a->ev_free[a->n_ev_free++] = i;
}

static uint32_t bo_slot(ora_actors *a, uint64_t id)
{
    uint32_t i = slot_take((void **)&a->bo, sizeof *a->bo, &a->bo_free, &a->n_bo_free, &a->n_bo, &a->cap_bo, 1024);
    if (i == ORA_NOIDX)
        return ORA_NOIDX;
    if (ora_idmap_put(&a->bo_map, id, i) < 0) {
        a->bo_free[a->n_bo_free++] = i;
        return ORA_NOIDX;
    }
    memset(&a->bo[i], 0, sizeof a->bo[i]);
    a->bo[i].id = id;
    a->bo[i].ev_prev = a->bo[i].ev_next = ORA_NOIDX;
    a->bo[i].flags = ORA_BOF_LIVE;
    return i;
}

static void bo_unlink(ora_actors *a, uint32_t bi)
{
    ora_betoffer *b = &a->bo[bi];
    if (!(b->flags & ORA_BOF_EVENT))
        return;
    uint32_t ei = ev_find(a, b->event_id);
    if (ei == ORA_NOIDX)
        return; /* cannot happen: a linked offer keeps its event slot */
    ora_event *e = &a->ev[ei];
    if (b->ev_prev != ORA_NOIDX)
        a->bo[b->ev_prev].ev_next = b->ev_next;
    else
        e->bo_head = b->ev_next;
    if (b->ev_next != ORA_NOIDX)
        a->bo[b->ev_next].ev_prev = b->ev_prev;
    b->ev_prev = b->ev_next = ORA_NOIDX;
    b->flags &= (uint8_t)~ORA_BOF_EVENT;
    e->n_bo--;
    ev_maybe_release(a, ei);
}

/* Copies the event's group and status into the offer. */
static void bo_take_event(ora_actors *a, ora_betoffer *b, const ora_event *e)
{
    if (e->flags & ORA_EVF_GROUP) {
        b->flags |= ORA_BOF_GROUP;
        b->group_id = e->group_id;
    } else {
        b->flags &= (uint8_t)~ORA_BOF_GROUP;
        b->group_id = 0;
    }
    ora_intern_ref(a->strs, e->status);
    set_id(a->strs, &b->ev_status, e->status);
}

/* Puts offer bi on the list of event eid's offers (the event's slot is
 * made if needed). The event's slot index, or ORA_NOIDX when out of memory. */
static uint32_t bo_attach(ora_actors *a, uint32_t bi, uint64_t eid)
{
    uint32_t ei = ev_slot(a, eid);
    if (ei == ORA_NOIDX)
        return ORA_NOIDX;
    ora_event *e = &a->ev[ei];
    ora_betoffer *b = &a->bo[bi];
    b->event_id = eid;
    b->flags |= ORA_BOF_EVENT;
    b->ev_prev = ORA_NOIDX;
    b->ev_next = e->bo_head;
    if (e->bo_head != ORA_NOIDX)
        a->bo[e->bo_head].ev_prev = bi;
    e->bo_head = bi;
    e->n_bo++;
    return ei;
}

/* Links offer bi to event eid (taking its group and status if it exists).
 * -1 when out of memory. */
static int bo_link(ora_actors *a, uint32_t bi, uint64_t eid)
{
    uint32_t ei = bo_attach(a, bi, eid);
    if (ei == ORA_NOIDX)
        return -1;
    if (a->ev[ei].exists)
        bo_take_event(a, &a->bo[bi], &a->ev[ei]);
    return 0;
}

static void bo_release_blob(ora_actors *a, ora_betoffer *b)
{
    /* outcomes and odds counted apart: a load that failed half way leaves
     * fewer odds than the outcomes name */
    const ora_outcome *o = ora_bo_outcomes(b);
    for (uint16_t k = 0; k < b->n_out; k++) {
        ora_intern_put(a->strs, o[k].label);
        ora_intern_put(a->strs, o[k].status);
    }
    release_odds(a, ora_bo_odds(b), b->n_odds);
    free(b->blob);
    b->blob = NULL;
    b->n_out = b->n_odds = 0;
}

static void bo_delete(ora_actors *a, uint32_t bi)
{
    ora_betoffer *b = &a->bo[bi];
    bo_unlink(a, bi);
    bo_release_blob(a, b);
    set_id(a->strs, &b->criterion_label, 0);
    set_id(a->strs, &b->status, 0);
    set_id(a->strs, &b->ev_status, 0);
    set_id(a->lists, &b->line_types, 0);
    set_id(a->lists, &b->tags, 0);
    ora_idmap_del(&a->bo_map, b->id);
    memset(b, 0, sizeof *b);
    a->bo_free[a->n_bo_free++] = bi;
    a->n_offers--;
}

/* ---- pending queues ----------------------------------------------------------- */

static ora_idmap *pend_map(ora_actors *a, uint8_t type) { return type == ORA_ACTOR_EVENT ? &a->pend_ev : &a->pend_bo; }

static void g_unlink(ora_actors *a, ora_pend *p)
{
    if (p->gprev)
        p->gprev->gnext = p->gnext;
    else
        a->pend_head = p->gnext;
    if (p->gnext)
        p->gnext->gprev = p->gprev;
    else
        a->pend_tail = p->gprev;
    a->n_pend--;
    a->pend_bytes -= sizeof *p + p->len + 1;
}

static int pend_push(ora_actors *a, const ora_msg *m, const char *raw, size_t n, uint64_t t_ns)
{
    if (n > UINT32_MAX - 1)
        return -1;
    ora_pend *p = malloc(sizeof *p + n + 1);
    if (!p)
        return -1;
    p->m = *m;
    p->t_ns = t_ns;
    p->len = (uint32_t)n;
    memcpy(p->json, raw, n);
    p->json[n] = 0;
    ora_idmap *map = pend_map(a, m->actor_type);
    uint64_t v;
    if (ora_idmap_get(map, m->actor_id, &v)) {
        ora_pend *tail = (ora_pend *)(uintptr_t)v;
        p->next = tail->next;
        tail->next = p;
    } else
        p->next = p;
    if (ora_idmap_put(map, m->actor_id, (uint64_t)(uintptr_t)p) < 0) {
        /* undo the splice */
        if (p->next != p) {
            ora_pend *tail = (ora_pend *)(uintptr_t)v;
            tail->next = p->next;
        }
        free(p);
        return -1;
    }
    p->gnext = NULL;
    p->gprev = a->pend_tail;
    if (a->pend_tail)
        a->pend_tail->gnext = p;
    else
        a->pend_head = p;
    a->pend_tail = p;
    a->n_pend++;
    a->pend_bytes += sizeof *p + n + 1;
    return 0;
}

/* Detaches the queue of an actor: a NULL-terminated list, oldest first. */
static ora_pend *pend_take(ora_actors *a, uint8_t type, uint64_t id)
{
    ora_idmap *map = pend_map(a, type);
    uint64_t v;
    if (!ora_idmap_get(map, id, &v))
        return NULL;
    ora_idmap_del(map, id);
    ora_pend *tail = (ora_pend *)(uintptr_t)v;
    ora_pend *head = tail->next;
    tail->next = NULL;
    for (ora_pend *p = head; p; p = p->next)
        g_unlink(a, p);
    return head;
}

static uint64_t pend_drop(ora_actors *a, uint8_t type, uint64_t id)
{
    uint64_t n = 0;
    for (ora_pend *p = pend_take(a, type, id), *nx; p; p = nx) {
        nx = p->next;
        free(p);
        n++;
    }
    return n;
}

uint64_t ora_actors_prune(ora_actors *a, uint64_t now_ns)
{
    uint64_t n = 0;
    if (!a->pending_ttl_ns)
        return 0;
    while (a->pend_head && a->pend_head->t_ns + a->pending_ttl_ns < now_ns) {
        ora_pend *p = a->pend_head;
        ora_idmap *map = pend_map(a, p->m.actor_type);
        uint64_t v = 0;
        ora_idmap_get(map, p->m.actor_id, &v);
        ora_pend *tail = (ora_pend *)(uintptr_t)v;
        if (tail == p)
            ora_idmap_del(map, p->m.actor_id);
        else if (tail)
            tail->next = p->next; /* p is the head of its queue */
        g_unlink(a, p);
        free(p);
        n++;
    }
    a->st.pending_pruned += n;
    return n;
}

/* ---- events ---------------------------------------------------------------------- */

static void parts_free(ora_actors *a, ora_event *e)
{
    for (uint16_t k = 0; k < e->n_parts; k++) {
        ora_intern_put(a->strs, e->parts[k].name);
        ora_intern_put(a->strs, e->parts[k].type);
    }
    free(e->parts);
    e->parts = NULL;
    e->n_parts = 0;
}

/* Sets e's participants from field participants of the event object o.
 * *changed is set when the whole array differs (any field of any
 * participant, in order). A value that is not an array is an empty list.
 * 0, or -1 when out of memory. */
static int read_parts(ora_actors *a, ora_event *e, const cJSON *o, int *changed)
{
    const cJSON *arr;
    int r = seen(a, ora_field(o, ORA_F_EV_PARTICIPANTS, &arr));
    if (r == ORA_FV_ABSENT)
        return 0;
    ora_buf b = ORA_BUF_INIT;
    if ((arr ? ora_json_canonical(&b, arr) : ora_buf_append(&b, "[]", 2)) < 0) {
        ora_buf_free(&b);
        return -1;
    }
    uint32_t canon = ora_intern_get(a->strs, (const char *)b.p, b.len, NULL);
    ora_buf_free(&b);
    if (!canon)
        return -1;
    if (canon == e->parts_json) {
        ora_intern_put(a->strs, canon);
        return 0;
    }
    *changed = 1;
    set_id(a->strs, &e->parts_json, canon);
    int n = arr ? cJSON_GetArraySize(arr) : 0;
    if (n > UINT16_MAX)
        n = UINT16_MAX; /* the rest is not output; the change is seen whole */
    ora_part *np = n ? calloc((size_t)n, sizeof *np) : NULL;
    if (n && !np)
        return -1;
    int k = 0, oom = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, arr)
    {
        if (k == n)
            break;
        ora_part *q = &np[k++];
        const cJSON *v;
        if (seen(a, ora_field_id(p, ORA_F_PA_ID, &q->id)) == ORA_FV_OK)
            q->has_id = 1;
        else
            q->id = 0;
        if (seen(a, ora_field(p, ORA_F_PA_NAME, &v)) == ORA_FV_OK)
            q->name = istr(a->strs, v, &oom);
        if (seen(a, ora_field(p, ORA_F_PA_TYPE, &v)) == ORA_FV_OK)
            q->type = istr(a->strs, v, &oom);
        q->home = seen(a, ora_field(p, ORA_F_PA_HOME, &v)) == ORA_FV_OK ? (cJSON_IsTrue(v) ? 1 : 0) : 2;
    }
    parts_free(a, e);
    e->parts = np;
    e->n_parts = (uint16_t)n;
    return oom ? -1 : 0;
}

/* Applies an Event object: every field of the table it carries replaces the
 * stored one (fields it does not carry are kept). *changed: a field of the
 * event_data rule changed. 0, or -1 when out of memory. */
static int event_fill(ora_actors *a, ora_event *e, const cJSON *o, int *changed)
{
    int oom = 0;
    read_str(a, o, ORA_F_EV_STARTS_AT, &e->starts_at, changed, &oom);
    read_str(a, o, ORA_F_EV_SPORT, &e->sport, changed, &oom);
    read_str(a, o, ORA_F_EV_STATUS, &e->status, NULL, &oom);
    read_str(a, o, ORA_F_EV_COMPETITION_NAME, &e->competition, NULL, &oom);
    read_id(a, o, ORA_F_EV_GROUP_ID, &e->group_id, &e->flags, ORA_EVF_GROUP, changed);
    if (read_parts(a, e, o, changed) < 0)
        oom = 1;
    return oom ? -1 : 0;
}

/* Publishes the event's group and status to the offers that follow it. */
static void propagate(ora_actors *a, const ora_event *e)
{
    for (uint32_t bi = e->bo_head; bi != ORA_NOIDX; bi = a->bo[bi].ev_next)
        bo_take_event(a, &a->bo[bi], e);
}

static int apply_existing(ora_actors *a, const ora_msg *m, const cJSON *root, ora_src *src, int from_queue);

/* What apply_to() reads of a message: from the payload object of its tree
 * (p, with x NULL) when asked, or what tx_read() found in its text (x).
 * Its readers (ex_status() and the others, beside apply_to()) give the
 * same values either way. */
typedef struct tx_in tx_in;
typedef struct ex_in {
    const cJSON *p;
    const tx_in *x;
    ora_src *src;
} ex_in;

static int apply_kind(ora_actors *a, const ora_msg *m, const ex_in *in, const char *raw, size_t n);

/* Applies, in arrival order, the queued messages of an actor just created
 * by message m. */
static int apply_queue(ora_actors *a, const ora_msg *m)
{
    int rc = 0;
    for (ora_pend *p = pend_take(a, m->actor_type, m->actor_id), *nx; p; p = nx) {
        nx = p->next;
        if (rc >= 0) {
            cJSON *root = cJSON_ParseWithLength(p->json, p->len);
            if (!root)
                a->st.bad++;
            else {
                ora_src src = {p->json, p->len, 0};
                int r = apply_existing(a, &p->m, root, &src, 1);
                cJSON_Delete(root);
                if (r < 0)
                    rc = -1;
                else if (r == ORA_AP_BAD)
                    a->st.bad++;
                else
                    a->st.pending_applied++;
            }
        }
        free(p);
    }
    return rc;
}

static int event_upsert(ora_actors *a, const ora_msg *m, const cJSON *o)
{
    uint32_t ei = ev_slot(a, m->actor_id);
    if (ei == ORA_NOIDX)
        return ORA_AP_ERROR;
    ora_event *e = &a->ev[ei];
    int created = !e->exists, changed = 0;
    e->exists = 1;
    if (created) {
        a->n_events++;
        a->st.created_events++;
    }
    if (event_fill(a, e, o, &changed) < 0)
        return ORA_AP_ERROR;
    propagate(a, e);
    if (ora_rule_event(a, m, e, created, changed) < 0)
        return ORA_AP_ERROR;
    if (created && apply_queue(a, m) < 0)
        return ORA_AP_ERROR;
    return ORA_AP_APPLIED;
}

static int event_delete(ora_actors *a, uint32_t ei)
{
    ora_event *e = &a->ev[ei];
    ev_clear_fields(a, e);
    e->exists = 0;
    a->n_events--;
    a->st.deleted_events++;
    ev_maybe_release(a, ei);
    return ORA_AP_APPLIED;
}

/* ---- bet offers --------------------------------------------------------------------- */

/* An outcome being built. Untouched ones borrow the offer's strings and
 * odds; a replaced or added one holds new references (its odds in own),
 * and a replaced one keeps what it replaced in old until the offer is
 * rebuilt. */
typedef struct wout {
    ora_outcome o;
    const ora_odds *odds;
    ora_odds *own;
    ora_outcome old;
    const ora_odds *old_odds;
    uint8_t state; /* W_KEPT, W_REPLACED, W_ADDED */
} wout;

enum { W_KEPT, W_REPLACED, W_ADDED };

static void release_odds(ora_actors *a, const ora_odds *d, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        ora_intern_put(a->offl, d[k].offerings);
        if (d[k].decimal != ORA_DEC_NULL && (d[k].decimal & ORA_DEC_TEXT))
            ora_intern_put(a->strs, d[k].decimal & ~ORA_DEC_TEXT);
    }
}

/* Drops the references of outcome o with odds d. */
static void release_outcome(ora_actors *a, const ora_outcome *o, const ora_odds *d)
{
    ora_intern_put(a->strs, o->label);
    ora_intern_put(a->strs, o->status);
    release_odds(a, d, o->n);
}

/* A working copy of b's outcomes with room for extra more. NULL when out of
 * memory. */
static wout *working_set(const ora_betoffer *b, size_t extra)
{
    wout *w = calloc((size_t)b->n_out + extra + 1, sizeof *w);
    if (!w)
        return NULL;
    const ora_outcome *o = ora_bo_outcomes(b);
    const ora_odds *d = ora_bo_odds(b);
    for (size_t k = 0; k < b->n_out; k++) {
        w[k].o = o[k];
        w[k].odds = d + o[k].first;
    }
    return w;
}

/* Outcome k of the working set is about to get new content: keeps what it
 * held (to drop once the offer is rebuilt), or drops it now when it was
 * new content of this same update. */
static void wout_take(ora_actors *a, wout *w)
{
    if (w->state == W_KEPT) {
        w->old = w->o;
        w->old_odds = w->odds;
        w->state = W_REPLACED;
    } else {
        release_outcome(a, &w->o, w->odds);
        free(w->own);
        w->own = NULL;
    }
}

/* Makes the working set the offer's outcomes (r == 0: the blob was rebuilt,
 * the replaced content is dropped) or drops the new content (r != 0: the
 * offer is unchanged). Frees w. */
static void working_done(ora_actors *a, wout *w, size_t n, int r)
{
    for (size_t k = 0; k < n; k++) {
        if (w[k].state == W_KEPT)
            continue;
        if (r == 0) {
            if (w[k].state == W_REPLACED)
                release_outcome(a, &w[k].old, w[k].old_odds);
        } else
            release_outcome(a, &w[k].o, w[k].odds);
        free(w[k].own);
    }
    free(w);
}

/* Builds the offer's blob from a working set (refs move into the blob).
 * 0, -1 out of memory, 1 too many outcomes or odds (the offer unchanged).
 * The old blob is handed back in *old (the replaced odds still point into
 * it until working_done() has released them): the caller frees it. */
static int bo_rebuild(ora_betoffer *b, wout *w, size_t n, void **old)
{
    *old = NULL;
    size_t nodds = 0;
    for (size_t k = 0; k < n; k++)
        nodds += w[k].o.n;
    if (n > UINT16_MAX || nodds > UINT16_MAX)
        return 1;
    size_t sz = n * sizeof(ora_outcome) + nodds * sizeof(ora_odds);
    void *blob = sz ? malloc(sz) : NULL;
    if (sz && !blob)
        return -1;
    ora_outcome *o = blob;
    ora_odds *d = blob ? (ora_odds *)((char *)blob + n * sizeof(ora_outcome)) : NULL;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        o[k] = w[k].o;
        o[k].first = (uint16_t)at;
        if (w[k].o.n)
            memcpy(d + at, w[k].odds, w[k].o.n * sizeof *d);
        at += w[k].o.n;
    }
    *old = b->blob;
    b->blob = blob;
    b->n_out = (uint16_t)n;
    b->n_odds = (uint16_t)nodds;
    return 0;
}

/* The decimal of an odds entry, as written (model.h), taking a reference
 * when it is kept as text. lit[0..lit_n): the literal d was read from, when
 * known (else NULL). */
static uint32_t decimal_of(ora_actors *a, int fv, double d, const char *lit, size_t lit_n, ora_src *src, int *oom)
{
    if (seen(a, fv) != ORA_FV_OK)
        return ORA_DEC_NULL;
    char t[64];
    size_t n = ora_decimal_literal_text(src, d, lit, lit_n, t, sizeof t);
    uint64_t plain = 0;
    size_t i = 0;
    while (i < n && i < 10 && t[i] >= '0' && t[i] <= '9' && (i || t[0] != '0' || n == 1))
        plain = plain * 10 + (uint64_t)(t[i++] - '0');
    if (i == n && plain < ORA_DEC_TEXT)
        return (uint32_t)plain;
    uint32_t id = ora_intern_get(a->strs, t, n, NULL);
    if (!id) {
        *oom = 1;
        return ORA_DEC_NULL;
    }
    if (id >= ORA_DEC_TEXT) { /* two billion distinct texts: cannot happen */
        ora_intern_put(a->strs, id);
        return ORA_DEC_NULL;
    }
    return id | ORA_DEC_TEXT;
}

static uint32_t read_decimal(ora_actors *a, const cJSON *x, ora_src *src, int *oom)
{
    const cJSON *v;
    int r = ora_field(x, ORA_F_OD_DECIMAL, &v);
    return decimal_of(a, r, r == ORA_FV_OK ? v->valuedouble : 0, NULL, 0, src, oom);
}

/* Odds entries from a JSON array (anything else: none) into a new
 * allocation (taking refs). 0, or -1 when out of memory. */
static int parse_odds(ora_actors *a, const cJSON *arr, ora_src *src, ora_odds **out, uint16_t *n)
{
    *out = NULL;
    *n = 0;
    int cnt = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (cnt > UINT16_MAX)
        cnt = UINT16_MAX;
    if (!cnt)
        return 0;
    ora_odds *d = calloc((size_t)cnt, sizeof *d);
    if (!d)
        return -1;
    int k = 0, oom = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        if (k == cnt)
            break;
        read_list(a, a->offl, x, ORA_F_OD_OFFERINGS, &d[k].offerings, &oom);
        d[k].decimal = read_decimal(a, x, src, &oom);
        k++;
    }
    *out = d;
    *n = (uint16_t)cnt;
    if (oom) {
        release_odds(a, d, (size_t)cnt);
        free(d);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* The working outcome with this id, merged over (its old strings released)
 * or added at the end (*n grows); its outcome returned zeroed but for the id. */
static wout *merge_slot(ora_actors *a, wout *w, size_t *n, uint64_t id)
{
    size_t k = 0;
    while (k < *n && w[k].o.id != id)
        k++;
    if (k == *n) {
        w[k].state = W_ADDED;
        (*n)++;
    } else
        wout_take(a, &w[k]);
    memset(&w[k].o, 0, sizeof w[k].o);
    w[k].o.id = id;
    return &w[k];
}

/* Ends a merge of n working outcomes into b: the offer rebuilt from them
 * unless out of memory (oom), the working set released. 0, or -1 when out
 * of memory. */
static int merge_done(ora_actors *a, ora_betoffer *b, wout *w, size_t n, int oom)
{
    void *old = NULL;
    int r = oom ? -1 : bo_rebuild(b, w, n, &old);
    working_done(a, w, n, r);
    free(old);
    if (r > 0)
        a->st.missing_fields++; /* more than 65535 outcomes or odds: the update is dropped */
    return r < 0 ? -1 : 0;
}

/* Merges outcomes (a JSON array of Outcome objects) into b: each outcome
 * the array names replaces the stored one of that id whole, or is added
 * after the others; outcomes it does not name are kept. 0, or -1 when out
 * of memory. */
static int merge_outcomes(ora_actors *a, ora_betoffer *b, const cJSON *arr, ora_src *src)
{
    wout *w = working_set(b, (size_t)cJSON_GetArraySize(arr));
    if (!w)
        return -1;
    size_t n = b->n_out;
    int oom = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        uint64_t id;
        if (seen(a, ora_field_id(x, ORA_F_OC_ID, &id)) != ORA_FV_OK)
            continue; /* an outcome without an id cannot be merged */
        wout *wk = merge_slot(a, w, &n, id);
        ora_outcome *o = &wk->o;
        const cJSON *v;
        if (seen(a, ora_field(x, ORA_F_OC_LABEL, &v)) == ORA_FV_OK)
            o->label = istr(a->strs, v, &oom);
        if (seen(a, ora_field(x, ORA_F_OC_STATUS, &v)) == ORA_FV_OK)
            o->status = istr(a->strs, v, &oom);
        if (seen(a, ora_field_id(x, ORA_F_OC_BETOFFER_ID, &o->betoffer_id)) == ORA_FV_OK)
            o->flags |= ORA_OCF_BETOFFER;
        else
            o->betoffer_id = 0;
        seen(a, ora_field(x, ORA_F_OC_ODDS, &v));
        uint16_t nn;
        if (parse_odds(a, v, src, &wk->own, &nn) < 0)
            oom = 1;
        wk->odds = wk->own;
        o->n = nn;
    }
    return merge_done(a, b, w, n, oom);
}

/* What an outcome update carries, read from the tree or the text before
 * the offer is touched. */
typedef struct oc_in {
    int bo_fv;          /* betOfferId (read when the outcome is new) */
    uint64_t bo_id;
    int st_fv;          /* status (outcomeStatusUpdated): st[0..st_n) */
    const char *st;
    size_t st_n;
    ora_odds *nd;       /* the new odds (outcomeOddsUpdated), with refs */
    uint16_t nn;
} oc_in;

/* Applies an outcomeOddsUpdated (odds) or outcomeStatusUpdated (status) to
 * outcome oid of b, adding the outcome with what the message carries when
 * it is unknown. Takes in->nd (odds) in every case. Returns the outcome's
 * index, or -1 when out of memory, -2 when the offer cannot take one more
 * outcome. */
static int set_outcome(ora_actors *a, ora_betoffer *b, uint64_t oid, const oc_in *in, int odds)
{
    wout *w = working_set(b, 1);
    if (!w) {
        if (odds) {
            release_odds(a, in->nd, in->nn);
            free(in->nd);
        }
        return -1;
    }
    size_t n = b->n_out, k = 0;
    while (k < n && w[k].o.id != oid)
        k++;
    ora_outcome *o = &w[k].o;
    if (k == n) {
        w[n].state = W_ADDED;
        o->id = oid;
        if (seen(a, in->bo_fv) == ORA_FV_OK) {
            o->betoffer_id = in->bo_id;
            o->flags |= ORA_OCF_BETOFFER;
        } else
            o->betoffer_id = 0;
        n++;
    }
    int oom = 0;
    if (odds) {
        /* the odds are replaced, the rest of the outcome is kept */
        if (w[k].state == W_KEPT) {
            /* the label and status stay: one more reference each, which
             * the release of the old content gives back */
            w[k].old = *o;
            w[k].old_odds = w[k].odds;
            w[k].state = W_REPLACED;
            ora_intern_ref(a->strs, o->label);
            ora_intern_ref(a->strs, o->status);
        }
        w[k].own = in->nd;
        w[k].odds = in->nd;
        o->n = in->nn;
    } else {
        int r = seen(a, in->st_fv);
        if (r != ORA_FV_ABSENT) {
            uint32_t st = r == ORA_FV_OK ? intern_n(a->strs, in->st, in->st_n, &oom) : 0;
            if (w[k].state == W_KEPT) {
                /* keep the odds: a copy with references of its own */
                ora_odds *cp = o->n ? malloc(o->n * sizeof *cp) : NULL;
                if (o->n && !cp) {
                    ora_intern_put(a->strs, st);
                    free(w);
                    return -1;
                }
                if (o->n)
                    memcpy(cp, w[k].odds, o->n * sizeof *cp);
                w[k].old = *o;
                w[k].old_odds = w[k].odds;
                w[k].state = W_REPLACED;
                for (uint16_t j = 0; j < o->n; j++) {
                    ora_intern_ref(a->offl, cp[j].offerings);
                    if (cp[j].decimal != ORA_DEC_NULL && (cp[j].decimal & ORA_DEC_TEXT))
                        ora_intern_ref(a->strs, cp[j].decimal & ~ORA_DEC_TEXT);
                }
                w[k].own = cp;
                w[k].odds = cp;
                ora_intern_ref(a->strs, o->label);
                o->status = st;
            } else
                set_id(a->strs, &o->status, st);
        }
    }
    void *old = NULL;
    int r = oom ? -1 : bo_rebuild(b, w, n, &old);
    working_done(a, w, n, r);
    free(old);
    if (r)
        return r < 0 ? -1 : -2;
    return (int)k;
}

/* An outcome status or odds update, read by either path, applied to bet
 * offer bi (and the odds rule run): 0, or the ORA_AP_* code to return. */
static int outcome_update(ora_actors *a, const ora_msg *m, uint32_t bi, uint64_t oid, const oc_in *in, int odds)
{
    int k = set_outcome(a, &a->bo[bi], oid, in, odds);
    if (k == -1)
        return ORA_AP_ERROR;
    if (k == -2)
        return ORA_AP_BAD;
    if (odds && ora_rule_odds(a, m, &a->bo[bi], k) < 0)
        return ORA_AP_ERROR;
    return 0;
}

/* Sets the offer's status from a value read as fv (s[0..n) when
 * ORA_FV_OK); counts a status the rules do not know. Returns 1 when the
 * status changed. */
static int put_status(ora_actors *a, ora_betoffer *b, int fv, const char *s, size_t n, int *oom)
{
    int changed = 0;
    put_str(a, fv, s, n, &b->status, &changed, oom);
    if (changed && b->status && b->status != a->s_open && b->status != a->s_suspended && b->status != a->s_closed)
        a->st.unknown_status++;
    return changed;
}

/* put_status() from field f of obj. */
static int read_status(ora_actors *a, ora_betoffer *b, const cJSON *obj, int f, int *oom)
{
    const cJSON *v;
    int r = ora_field(obj, f, &v);
    const char *s = r == ORA_FV_OK ? v->valuestring : "";
    return put_status(a, b, r, s, strlen(s), oom);
}

/* Applies a BetOffer object to offer bi: every field of the table it
 * carries replaces the stored one, outcomes are merged by id. The event
 * is read only on creation: an offer follows the event named at its
 * creation for its lifetime. 0, or -1 when out of memory. */
static int offer_fill(ora_actors *a, uint32_t bi, const cJSON *o, int created, ora_src *src)
{
    int oom = 0;
    ora_betoffer *b = &a->bo[bi];
    if (created) {
        uint64_t eid;
        if (seen(a, ora_field_id(o, ORA_F_BO_EVENT_ID, &eid)) == ORA_FV_OK) {
            if (bo_link(a, bi, eid) < 0)
                return -1;
            b = &a->bo[bi];
        }
    }
    read_id(a, o, ORA_F_BO_CRITERION_ID, &b->criterion_id, &b->flags, ORA_BOF_CRITERION, NULL);
    read_str(a, o, ORA_F_BO_CRITERION_LABEL, &b->criterion_label, NULL, &oom);
    read_list(a, a->lists, o, ORA_F_BO_LINE_TYPE, &b->line_types, &oom);
    read_list(a, a->lists, o, ORA_F_BO_TAGS, &b->tags, &oom);
    read_status(a, b, o, ORA_F_BO_STATUS, &oom);
    const cJSON *outs;
    if (seen(a, ora_field(o, ORA_F_BO_OUTCOMES, &outs)) == ORA_FV_OK && merge_outcomes(a, b, outs, src) < 0)
        oom = 1;
    return oom ? -1 : 0;
}

/* The slot of bet offer id for an add or update: a new one (counted, and
 * *created set) when it is unknown. ORA_NOIDX when out of memory. */
static uint32_t offer_slot(ora_actors *a, uint64_t id, int *created)
{
    uint32_t bi = bo_find(a, id);
    *created = bi == ORA_NOIDX;
    if (*created) {
        bi = bo_slot(a, id);
        if (bi == ORA_NOIDX)
            return ORA_NOIDX;
        a->n_offers++;
        a->st.created_offers++;
    }
    return bi;
}

/* Ends an add or update of offer bi whose fields are set: a new offer
 * goes through its rule, then the messages queued for it. */
static int offer_done(ora_actors *a, const ora_msg *m, uint32_t bi, int created)
{
    /* an add or update of a known offer changes its status silently */
    if (created && ora_rule_offer_created(a, m, &a->bo[bi]) < 0)
        return ORA_AP_ERROR;
    if (created && apply_queue(a, m) < 0)
        return ORA_AP_ERROR;
    return ORA_AP_APPLIED;
}

static int offer_upsert(ora_actors *a, const ora_msg *m, const cJSON *o, ora_src *src)
{
    int created;
    uint32_t bi = offer_slot(a, m->actor_id, &created);
    if (bi == ORA_NOIDX)
        return ORA_AP_ERROR;
    if (offer_fill(a, bi, o, created, src) < 0)
        return ORA_AP_ERROR;
    return offer_done(a, m, bi, created);
}

/* ---- dispatch --------------------------------------------------------------------------- */

/* Does kind k change the state of an existing actor (else it is ignored)?
 * The entity model reads no field of the others (doc/design.md §2). */
static int kind_has_state(int k)
{
    switch (k) {
    case ORA_K_EVENT_STATUS_UPDATED:
    case ORA_K_BETOFFER_STATUS_UPDATED:
    case ORA_K_BETOFFER_LINETYPES_UPDATED:
    case ORA_K_OUTCOME_ODDS_UPDATED:
    case ORA_K_OUTCOME_STATUS_UPDATED:
        return 1;
    default:
        return 0;
    }
}

/* What every message does before its kind is looked at. */
static void apply_begin(ora_actors *a, const ora_msg *m)
{
    a->st.msgs++;
    if (m->recv_ns > a->now_ns)
        a->now_ns = m->recv_ns;
    if (a->pending_ttl_ns && a->pend_head)
        ora_actors_prune(a, a->now_ns);
}

/* Counts the result of a message; returns it. */
static int apply_end(ora_actors *a, int rc)
{
    switch (rc) {
    case ORA_AP_APPLIED: a->st.applied++; break;
    case ORA_AP_QUEUED: a->st.queued++; break;
    case ORA_AP_IGNORED: a->st.ignored++; break;
    case ORA_AP_UNKNOWN_DELETE: a->st.unknown_deletes++; break;
    case ORA_AP_BAD: a->st.bad++; break;
    default: break;
    }
    return rc;
}

/* eventDeleted and betOfferDeleted: they read nothing but the actor id. */
static int apply_delete(ora_actors *a, const ora_msg *m)
{
    if (m->kind == ORA_K_EVENT_DELETED) {
        uint32_t ei = ev_find(a, m->actor_id);
        if (ei != ORA_NOIDX && a->ev[ei].exists)
            return event_delete(a, ei);
        a->st.pending_dropped += pend_drop(a, ORA_ACTOR_EVENT, m->actor_id);
        return ORA_AP_UNKNOWN_DELETE;
    }
    uint32_t bi = bo_find(a, m->actor_id);
    if (bi != ORA_NOIDX) {
        bo_delete(a, bi);
        a->st.deleted_offers++;
        return ORA_AP_APPLIED;
    }
    a->st.pending_dropped += pend_drop(a, ORA_ACTOR_BETOFFER, m->actor_id);
    return ORA_AP_UNKNOWN_DELETE;
}

int ora_actors_apply(ora_actors *a, const ora_msg *m, const cJSON *root, const char *raw, size_t n)
{
    apply_begin(a, m);
    const ora_kind_info *ki = ora_kind_get(m->kind);
    if (!ki || ki->actor != m->actor_type)
        return apply_end(a, ORA_AP_IGNORED);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, ki->key);
    if (!cJSON_IsObject(p))
        return apply_end(a, ORA_AP_BAD);
    ora_src src = {raw, n, 0};
    return apply_end(a, apply_kind(a, m, &(ex_in){p, NULL, &src}, raw, n));
}

/* ---- the same, read from the text ------------------------------------------------------ */

/* Every kind but the event adds/updates is read straight from the
 * message's text (checked by ora_jscan_valid()): the members the rules read
 * are found in one pass over each object and read exactly as the tree
 * would give them, then applied through the same cores (put_str, put_id,
 * list_id, decimal_of, set_outcome) in the same order. Whatever the text
 * path does not read as the tree does (escaped names or strings, ids or
 * numbers written unusually, lists or odds beyond the bounds below) goes to
 * the tree, decided before anything is changed. fuzz/actors_text.c holds
 * the two readers to the same results. */

#define TX_MAX_ODDS 128    /* odds entries read from the text, all outcomes */
#define TX_MAX_OUT 32      /* outcomes of a bet offer read from the text */
#define TX_LISTS 8192      /* bytes of the lists read from the text */

/* An outcome of a bet offer, read from the text. */
typedef struct tx_out {
    int id_fv, label_fv, st_fv, bo_fv, odds_fv;
    uint64_t id, bo_id;
    const char *label, *st;
    size_t label_n, st_n;
    uint16_t first, n;     /* its odds entries in tx_in */
} tx_out;

typedef struct tx_in {
    int p_obj;             /* the payload is an object */
    ora_jspan p;
    int st_fv;             /* status */
    const char *st;
    size_t st_n;
    int lt_fv;             /* lineTypes: an array of plain strings */
    int oid_fv;            /* outcomeId */
    uint64_t oid;
    int bo_fv;             /* betOfferId */
    uint64_t bo_id;
    ora_jspan lt_list;     /* its list (in lists) */
    int bof_fv;            /* betOfferAdded/Updated: the betOffer object */
    int ev_fv;             /* its eventId */
    uint64_t ev_id;
    int crit_fv;           /* criterion.id */
    uint64_t crit_id;
    int cl_fv;             /* criterion.label.defaultTranslation */
    const char *cl;
    size_t cl_n;
    int tags_fv;           /* tags */
    ora_jspan tags_list;
    int outs_fv;           /* outcomes */
    size_t n_out;
    size_t n_odds;         /* odds */
    ora_jspan offl[TX_MAX_ODDS]; /* the offerings lists (in lists); memset stops here */
    ora_jspan lit[TX_MAX_ODDS];
    double dec[TX_MAX_ODDS];
    tx_out out[TX_MAX_OUT];
    size_t lists_len;      /* the lists read, as interned (ORA_LIST_SEP-prefixed) */
    char lists[TX_LISTS];
} tx_in;

static const uint8_t *tx_ws(const uint8_t *p, const uint8_t *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Bytes that end a run: in a nested value (strings and brackets), after a
 * scalar, in a member name (the quote, or what makes the tree read it). */
static const uint8_t tx_nested_stop[256] = {['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1};
static const uint8_t tx_scalar_stop[256] = {[','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};
static const uint8_t tx_name_stop[256] = {['"'] = 1, ['\\'] = 1, [0] = 1};

/* The end of the string whose text starts at p (past its opening quote). */
static const uint8_t *tx_str_end(const uint8_t *p, const uint8_t *e)
{
    for (;;) {
        const uint8_t *q = memchr(p, '"', (size_t)(e - p)), *b;
        if (!q)
            return e;
        for (b = q; b > p && b[-1] == '\\'; b--)
            ;
        p = q + 1;
        if (((q - b) & 1) == 0)
            return p; /* not escaped */
    }
}

/* The end of the value at p, in a text the scanner has checked. */
static const uint8_t *tx_skip(const uint8_t *p, const uint8_t *e)
{
    if (p < e && *p == '"')
        return tx_str_end(p + 1, e);
    if (p < e && *p != '{' && *p != '[') {
        while (p < e && !tx_scalar_stop[*p])
            p++;
        return p;
    }
    int depth = 0;
    for (;;) {
        while (p < e && !tx_nested_stop[*p])
            p++;
        if (p >= e)
            return e;
        if (*p == '"')
            p = tx_str_end(p + 1, e);
        else if (*p++ == '{' || p[-1] == '[')
            depth++;
        else if (--depth == 0)
            return p;
    }
}

/* The elements of the array at v (a checked text): each call gives the
 * next one in *el (1), or 0 at the end. *it starts at v.p. */
static int tx_next(ora_jspan v, const uint8_t **it, ora_jspan *el)
{
    const uint8_t *e = v.p + v.n, *p = tx_ws(*it, e);
    if (p >= e)
        return 0;
    if (*p == '[' || *p == ',')
        p = tx_ws(p + 1, e);
    if (p >= e || *p == ']')
        return 0;
    const uint8_t *q = tx_skip(p, e);
    el->p = p;
    el->n = (size_t)(q - p);
    *it = q;
    return 1;
}

/* One pass over the object at obj (a checked text): vals[i] gets the value
 * of the first member named keys[i] (p NULL when there is none). The span of
 * an object or array value found last runs to the end of obj (the pass stops
 * there: its end is found by whoever reads it); other spans are exact. -1
 * when a member's name has an escape or a NUL byte (cJSON's name may then
 * differ from its bytes: the tree reads it). */
static int tx_obj(ora_jspan obj, const char *const *keys, const uint8_t *klen, int nk, ora_jspan *vals)
{
    const uint8_t *p = obj.p, *e = obj.p + obj.n;
    int found = 0;
    for (int i = 0; i < nk; i++)
        vals[i].p = NULL, vals[i].n = 0;
    p = tx_ws(p + 1, e); /* past '{' */
    while (p < e && *p == '"') {
        const uint8_t *ks = ++p;
        while (p < e && !tx_name_stop[*p])
            p++;
        if (p < e && *p != '"')
            return -1;
        size_t kn = (size_t)(p - ks);
        p = tx_ws(p + 1, e);
        p = tx_ws(p + 1, e); /* past ':' */
        int hit = -1;
        for (int i = 0; i < nk; i++)
            if (!vals[i].p && kn == klen[i] && memcmp(ks, keys[i], kn) == 0) {
                hit = i;
                break;
            }
        if (hit >= 0 && found + 1 == nk && (*p == '{' || *p == '[')) {
            vals[hit].p = p;
            vals[hit].n = (size_t)(e - p);
            return 0;
        }
        const uint8_t *q = tx_skip(p, e);
        if (hit >= 0) {
            vals[hit].p = p;
            vals[hit].n = (size_t)(q - p);
            if (++found == nk)
                return 0;
        }
        p = tx_ws(q, e);
        if (p < e && *p == ',')
            p = tx_ws(p + 1, e);
    }
    return 0;
}

/* A string without escapes or NUL bytes (what the tree holds as it is):
 * 1 and s, n; 0 for another string; -1 for another value. */
static int tx_plain(ora_jspan v, const char **s, size_t *n)
{
    const uint8_t *q;
    int r = ora_jscan_str(v, &q, n);
    if (r != 1)
        return r;
    if (memchr(q, 0, *n))
        return 0;
    *s = (const char *)q;
    return 1;
}

/* A text field: its ora_fv, or -1 when only the tree reads it right. */
static int tx_str(ora_jspan v, const char **s, size_t *n)
{
    *s = "";
    *n = 0;
    if (!v.p)
        return ORA_FV_ABSENT;
    int r = tx_plain(v, s, n);
    return r == 1 ? ORA_FV_OK : r == 0 ? -1 : ORA_FV_BAD;
}

/* Digits only, at most 15 (exact as a double, as strtod reads them): 0 and
 * *u, else -1. */
static int tx_digits(ora_jspan v, uint64_t *u)
{
    *u = 0;
    if (v.n == 0 || v.n > 15)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        *u = *u * 10 + (uint64_t)(v.p[i] - '0');
    }
    return 0;
}

/* An id field: digits only (below 2^53), else the tree (-1); not a number:
 * ORA_FV_BAD. */
static int tx_id(ora_jspan v, uint64_t *id)
{
    *id = 0;
    if (!v.p)
        return ORA_FV_ABSENT;
    if (*v.p == '"' || *v.p == '{' || *v.p == '[' || *v.p == 't' || *v.p == 'f' || *v.p == 'n')
        return ORA_FV_BAD;
    return tx_digits(v, id) == 0 ? ORA_FV_OK : -1;
}

/* A list field: OK when an array of plain strings whose list fits in
 * x->lists (where it is written, *list its place), BAD when not an array,
 * else the tree (-1). */
static int tx_list(tx_in *x, ora_jspan arr, ora_jspan *list)
{
    if (!arr.p)
        return ORA_FV_ABSENT;
    if (*arr.p != '[')
        return ORA_FV_BAD;
    const uint8_t *it = arr.p;
    ora_jspan el;
    size_t at = x->lists_len, len = at;
    while (tx_next(arr, &it, &el)) {
        const char *s;
        size_t n;
        if (tx_plain(el, &s, &n) != 1 || n >= sizeof x->lists - len)
            return -1;
        x->lists[len++] = ORA_LIST_SEP;
        memcpy(x->lists + len, s, n);
        len += n;
    }
    list->p = (const uint8_t *)x->lists + at;
    list->n = len - at;
    x->lists_len = len;
    return ORA_FV_OK;
}

/* The interned id of a list tx_list() wrote. */
static uint32_t tx_list_id(ora_actors *a, ora_intern *t, ora_jspan list, int *oom)
{
    return list_id(a, t, list.n ? (const char *)list.p : "", list.n, oom);
}

static const char *field_key(int f, int d) { return ora_field_info_get(f)->key[d]; }

/* The value at the end of field f's path, below v, the value of the path's
 * first key (p NULL when absent), as ora_field() finds it: ORA_FV_OK and
 * *out, ORA_FV_ABSENT, ORA_FV_BAD, or -1 when the tree must read it. */
static int tx_path(ora_jspan v, int f, ora_jspan *out)
{
    *out = v;
    if (!v.p)
        return ORA_FV_ABSENT;
    const ora_field_info *fi = ora_field_info_get(f);
    for (int d = 1; d < ORA_FIELD_DEPTH && fi->key[d]; d++) {
        if (*out->p != '{')
            return ORA_FV_BAD;
        const char *k = fi->key[d];
        uint8_t kl = (uint8_t)strlen(k);
        ora_jspan nx;
        if (tx_obj(*out, &k, &kl, 1, &nx) < 0)
            return -1;
        if (!nx.p)
            return ORA_FV_BAD;
        *out = nx;
    }
    return ORA_FV_OK;
}

/* A text field at the end of f's path below v (as tx_path()). */
static int tx_str_at(ora_jspan v, int f, const char **s, size_t *n)
{
    ora_jspan leaf;
    int r = tx_path(v, f, &leaf);
    *s = "";
    *n = 0;
    return r == ORA_FV_OK ? tx_str(leaf, s, n) : r;
}

/* An id field at the end of f's path below v (as tx_path()). */
static int tx_id_at(ora_jspan v, int f, uint64_t *id)
{
    ora_jspan leaf;
    int r = tx_path(v, f, &leaf);
    *id = 0;
    return r == ORA_FV_OK ? tx_id(leaf, id) : r;
}

/* The odds array of an outcomeOddsUpdated: entries that are objects with
 * an offerings list and an odds.decimal number, else the tree (-1). */
static int tx_odds(ora_jspan arr, tx_in *x)
{
    const char *ek[2] = {field_key(ORA_F_OD_OFFERINGS, 0), field_key(ORA_F_OD_DECIMAL, 0)};
    const uint8_t el_len[2] = {(uint8_t)strlen(ek[0]), (uint8_t)strlen(ek[1])};
    const char *dk[1] = {field_key(ORA_F_OD_DECIMAL, 1)};
    const uint8_t dk_len[1] = {(uint8_t)strlen(dk[0])};
    if (!arr.p || *arr.p != '[')
        return -1;
    const uint8_t *it = arr.p;
    ora_jspan el;
    while (tx_next(arr, &it, &el)) {
        ora_jspan ev[2], d;
        if (x->n_odds == TX_MAX_ODDS || *el.p != '{' || tx_obj(el, ek, el_len, 2, ev) < 0)
            return -1;
        if (tx_list(x, ev[0], &x->offl[x->n_odds]) != ORA_FV_OK || !ev[1].p || *ev[1].p != '{' ||
            tx_obj(ev[1], dk, dk_len, 1, &d) < 0)
            return -1;
        if (!d.p || d.n >= 63 || !(*d.p == '-' || (*d.p >= '0' && *d.p <= '9')))
            return -1;
        size_t k = x->n_odds++;
        x->lit[k] = d;
        uint64_t u;
        if (tx_digits(d, &u) == 0)
            x->dec[k] = (double)u;
        else {
            char num[64];
            memcpy(num, d.p, d.n);
            num[d.n] = 0;
            x->dec[k] = strtod(num, NULL); /* as cJSON reads it */
        }
    }
    return 0;
}

/* The outcomes of a bet offer (an array) into x->out. 0, or -1 (the tree). */
static int tx_outcomes(ora_jspan arr, tx_in *x)
{
    enum { ID, LABEL, ST, BO, ODDS, NK };
    const char *k[NK] = {field_key(ORA_F_OC_ID, 0), field_key(ORA_F_OC_LABEL, 0), field_key(ORA_F_OC_STATUS, 0),
                         field_key(ORA_F_OC_BETOFFER_ID, 0), field_key(ORA_F_OC_ODDS, 0)};
    uint8_t kl[NK];
    for (int i = 0; i < NK; i++)
        kl[i] = (uint8_t)strlen(k[i]);
    const uint8_t *it = arr.p;
    ora_jspan el, v[NK];
    while (tx_next(arr, &it, &el)) {
        if (x->n_out == TX_MAX_OUT || *el.p != '{' || tx_obj(el, k, kl, NK, v) < 0)
            return -1;
        tx_out *t = &x->out[x->n_out++];
        if ((t->id_fv = tx_id_at(v[ID], ORA_F_OC_ID, &t->id)) < 0 ||
            (t->label_fv = tx_str_at(v[LABEL], ORA_F_OC_LABEL, &t->label, &t->label_n)) < 0 ||
            (t->st_fv = tx_str_at(v[ST], ORA_F_OC_STATUS, &t->st, &t->st_n)) < 0 ||
            (t->bo_fv = tx_id_at(v[BO], ORA_F_OC_BETOFFER_ID, &t->bo_id)) < 0)
            return -1;
        t->odds_fv = !v[ODDS].p ? ORA_FV_ABSENT : *v[ODDS].p == '[' ? ORA_FV_OK : ORA_FV_BAD;
        t->first = (uint16_t)x->n_odds;
        if (t->odds_fv == ORA_FV_OK && tx_odds(v[ODDS], x) < 0)
            return -1;
        t->n = (uint16_t)(x->n_odds - t->first);
    }
    return 0;
}

/* The betOffer object of a betOfferAdded/Updated payload. 0, or -1. */
static int tx_offer(tx_in *x)
{
    const char *bk = field_key(ORA_F_BETOFFER, 0);
    uint8_t bkl = (uint8_t)strlen(bk);
    ora_jspan bo;
    if (tx_obj(x->p, &bk, &bkl, 1, &bo) < 0)
        return -1;
    x->bof_fv = !bo.p ? ORA_FV_ABSENT : *bo.p == '{' ? ORA_FV_OK : ORA_FV_BAD;
    if (x->bof_fv != ORA_FV_OK)
        return 0;
    enum { EV, CRIT, LT, TAGS, ST, OUTS, NK };
    const char *k[NK] = {field_key(ORA_F_BO_EVENT_ID, 0), field_key(ORA_F_BO_CRITERION_ID, 0),
                         field_key(ORA_F_BO_LINE_TYPE, 0), field_key(ORA_F_BO_TAGS, 0),
                         field_key(ORA_F_BO_STATUS, 0),   field_key(ORA_F_BO_OUTCOMES, 0)};
    uint8_t kl[NK];
    for (int i = 0; i < NK; i++)
        kl[i] = (uint8_t)strlen(k[i]);
    ora_jspan v[NK];
    if (tx_obj(bo, k, kl, NK, v) < 0)
        return -1;
    if ((x->ev_fv = tx_id_at(v[EV], ORA_F_BO_EVENT_ID, &x->ev_id)) < 0 ||
        (x->crit_fv = tx_id_at(v[CRIT], ORA_F_BO_CRITERION_ID, &x->crit_id)) < 0 ||
        (x->cl_fv = tx_str_at(v[CRIT], ORA_F_BO_CRITERION_LABEL, &x->cl, &x->cl_n)) < 0 ||
        (x->lt_fv = tx_list(x, v[LT], &x->lt_list)) < 0 || (x->tags_fv = tx_list(x, v[TAGS], &x->tags_list)) < 0 ||
        (x->st_fv = tx_str_at(v[ST], ORA_F_BO_STATUS, &x->st, &x->st_n)) < 0)
        return -1;
    x->outs_fv = !v[OUTS].p ? ORA_FV_ABSENT : *v[OUTS].p == '[' ? ORA_FV_OK : ORA_FV_BAD;
    return x->outs_fv == ORA_FV_OK ? tx_outcomes(v[OUTS], x) : 0;
}

/* Reads what message m's kind needs from its text; -1 when the tree must. */
static int tx_read(const ora_msg *m, const ora_kind_info *ki, const char *raw, size_t n, tx_in *x)
{
    memset(x, 0, offsetof(tx_in, offl));
    x->lists_len = 0;
    if (!ki || ki->actor != m->actor_type)
        return 0; /* ignored: nothing is read */
    /* the payload as cJSON finds it: tx_obj(), which leaves any name with
     * an escape or a NUL byte to the tree (cJSON cuts a name at its NUL) */
    ora_jspan root = {(const uint8_t *)tx_ws((const uint8_t *)raw, (const uint8_t *)raw + n), 0};
    root.n = (size_t)((const uint8_t *)raw + n - root.p);
    const char *pk = ki->key;
    uint8_t pkl = (uint8_t)strlen(pk);
    if (tx_obj(root, &pk, &pkl, 1, &x->p) < 0)
        return -1;
    if (!x->p.p || *x->p.p != '{')
        return 0; /* not an object: malformed */
    x->p_obj = 1;
    const char *k[4];
    uint8_t kl[4];
    ora_jspan v[4];
    int nk = 0;
    switch (m->kind) {
    case ORA_K_EVENT_DELETED:
    case ORA_K_BETOFFER_DELETED:
        return 0;
    case ORA_K_BETOFFER_ADDED:
    case ORA_K_BETOFFER_UPDATED:
        return tx_offer(x);
    case ORA_K_EVENT_STATUS_UPDATED:
    case ORA_K_BETOFFER_STATUS_UPDATED:
    case ORA_K_OUTCOME_STATUS_UPDATED:
        k[nk++] = field_key(ORA_F_STATUS, 0);
        break;
    case ORA_K_BETOFFER_LINETYPES_UPDATED:
        k[nk++] = field_key(ORA_F_LINE_TYPES, 0);
        break;
    case ORA_K_OUTCOME_ODDS_UPDATED:
        k[nk++] = field_key(ORA_F_ODDS, 0);
        break;
    default:
        /* events (their participants are kept as canonical JSON): the tree */
        return kind_has_state(m->kind) || m->kind == ORA_K_EVENT_ADDED || m->kind == ORA_K_EVENT_UPDATED ? -1 : 0;
    }
    int outcome = m->kind == ORA_K_OUTCOME_ODDS_UPDATED || m->kind == ORA_K_OUTCOME_STATUS_UPDATED;
    if (outcome) {
        k[nk++] = field_key(ORA_F_OUTCOME_ID, 0);
        k[nk++] = field_key(ORA_F_OUTCOME_BETOFFER_ID, 0);
    }
    for (int i = 0; i < nk; i++)
        kl[i] = (uint8_t)strlen(k[i]);
    if (tx_obj(x->p, k, kl, nk, v) < 0)
        return -1;
    switch (m->kind) {
    case ORA_K_BETOFFER_LINETYPES_UPDATED:
        x->lt_fv = tx_list(x, v[0], &x->lt_list);
        return x->lt_fv < 0 ? -1 : 0;
    case ORA_K_OUTCOME_ODDS_UPDATED:
        if (tx_odds(v[0], x) < 0)
            return -1;
        break;
    default:
        x->st_fv = tx_str(v[0], &x->st, &x->st_n);
        if (x->st_fv < 0)
            return -1;
    }
    if (outcome) {
        x->oid_fv = tx_id(v[1], &x->oid);
        x->bo_fv = tx_id(v[2], &x->bo_id);
        if (x->oid_fv < 0 || x->bo_fv < 0)
            return -1;
    }
    return 0;
}

/* parse_odds() of the entries tx_odds() checked. */
static int tx_parse_odds(ora_actors *a, const tx_in *x, size_t first, size_t cnt, ora_src *src, ora_odds **out,
                         uint16_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cnt)
        return 0;
    ora_odds *d = calloc(cnt, sizeof *d);
    if (!d)
        return -1;
    int oom = 0;
    for (size_t k = 0; k < cnt; k++) {
        size_t i = first + k;
        d[k].offerings = tx_list_id(a, a->offl, x->offl[i], &oom);
        d[k].decimal = decimal_of(a, ORA_FV_OK, x->dec[i], (const char *)x->lit[i].p, x->lit[i].n, src, &oom);
    }
    if (oom) {
        release_odds(a, d, cnt);
        free(d);
        return -1;
    }
    *out = d;
    *n = (uint16_t)cnt;
    return 0;
}

/* merge_outcomes() of the outcomes tx_read() found. */
static int tx_merge_outcomes(ora_actors *a, ora_betoffer *b, const tx_in *x, ora_src *src)
{
    wout *w = working_set(b, x->n_out);
    if (!w)
        return -1;
    size_t n = b->n_out;
    int oom = 0;
    for (size_t i = 0; i < x->n_out; i++) {
        const tx_out *t = &x->out[i];
        if (seen(a, t->id_fv) != ORA_FV_OK)
            continue; /* an outcome without an id cannot be merged */
        wout *wk = merge_slot(a, w, &n, t->id);
        ora_outcome *o = &wk->o;
        if (seen(a, t->label_fv) == ORA_FV_OK)
            o->label = intern_n(a->strs, t->label, t->label_n, &oom);
        if (seen(a, t->st_fv) == ORA_FV_OK)
            o->status = intern_n(a->strs, t->st, t->st_n, &oom);
        if (seen(a, t->bo_fv) == ORA_FV_OK) {
            o->betoffer_id = t->bo_id;
            o->flags |= ORA_OCF_BETOFFER;
        } else
            o->betoffer_id = 0;
        seen(a, t->odds_fv);
        uint16_t nn;
        if (tx_parse_odds(a, x, t->first, t->n, src, &wk->own, &nn) < 0)
            oom = 1;
        wk->odds = wk->own;
        o->n = nn;
    }
    return merge_done(a, b, w, n, oom);
}

/* read_list() of a list (of a->lists) that tx_read() found as fv. */
static void tx_put_list(ora_actors *a, int fv, ora_jspan list, uint32_t *field, int *oom)
{
    if (seen(a, fv) != ORA_FV_ABSENT)
        set_id(a->lists, field, fv == ORA_FV_OK ? tx_list_id(a, a->lists, list, oom) : 0);
}

/* offer_upsert() of the bet offer tx_read() found. */
static int tx_offer_upsert(ora_actors *a, const ora_msg *m, const tx_in *x, ora_src *src)
{
    int created;
    uint32_t bi = offer_slot(a, m->actor_id, &created);
    if (bi == ORA_NOIDX)
        return ORA_AP_ERROR;
    int oom = 0;
    ora_betoffer *b = &a->bo[bi];
    if (created && seen(a, x->ev_fv) == ORA_FV_OK) {
        if (bo_link(a, bi, x->ev_id) < 0)
            return ORA_AP_ERROR;
        b = &a->bo[bi];
    }
    put_id(a, x->crit_fv, x->crit_id, &b->criterion_id, &b->flags, ORA_BOF_CRITERION, NULL);
    put_str(a, x->cl_fv, x->cl, x->cl_n, &b->criterion_label, NULL, &oom);
    tx_put_list(a, x->lt_fv, x->lt_list, &b->line_types, &oom);
    tx_put_list(a, x->tags_fv, x->tags_list, &b->tags, &oom);
    put_status(a, b, x->st_fv, x->st, x->st_n, &oom);
    if (seen(a, x->outs_fv) == ORA_FV_OK && tx_merge_outcomes(a, b, x, src) < 0)
        oom = 1;
    return oom ? ORA_AP_ERROR : offer_done(a, m, bi, created);
}

/* The "status" member: its fv, and s[0..n) ("" unless ORA_FV_OK). */
static int ex_status(const ex_in *in, const char **s, size_t *n)
{
    if (in->x) {
        *s = in->x->st;
        *n = in->x->st_n;
        return in->x->st_fv;
    }
    const cJSON *v;
    int fv = ora_field(in->p, ORA_F_STATUS, &v);
    *s = fv == ORA_FV_OK ? v->valuestring : "";
    *n = strlen(*s);
    return fv;
}

/* Sets *field from the "lineTypes" member, as read_list() does. */
static void ex_line_types(ora_actors *a, const ex_in *in, uint32_t *field, int *oom)
{
    if (!in->x) {
        read_list(a, a->lists, in->p, ORA_F_LINE_TYPES, field, oom);
        return;
    }
    tx_put_list(a, in->x->lt_fv, in->x->lt_list, field, oom);
}

/* The fv of an outcome update's "outcomeId" (counted when not OK), *oid. */
static int ex_outcome_id(ora_actors *a, const ex_in *in, uint64_t *oid)
{
    if (in->x) {
        *oid = in->x->oid;
        return seen(a, in->x->oid_fv);
    }
    return seen(a, ora_field_id(in->p, ORA_F_OUTCOME_ID, oid));
}

/* What an outcome update carries into *oc: with odds, its odds parsed.
 * 0, or -1 when out of memory. */
static int ex_outcome(ora_actors *a, const ex_in *in, int odds, oc_in *oc)
{
    const tx_in *x = in->x;
    if (x) {
        *oc = (oc_in){.bo_fv = x->bo_fv, .bo_id = x->bo_id, .st_fv = x->st_fv, .st = x->st, .st_n = x->st_n};
        return odds ? tx_parse_odds(a, x, 0, x->n_odds, in->src, &oc->nd, &oc->nn) : 0;
    }
    *oc = (oc_in){0};
    oc->bo_fv = ora_field_id(in->p, ORA_F_OUTCOME_BETOFFER_ID, &oc->bo_id);
    if (!odds) {
        oc->st_fv = ex_status(in, &oc->st, &oc->st_n);
        return 0;
    }
    const cJSON *v;
    seen(a, ora_field(in->p, ORA_F_ODDS, &v));
    return parse_odds(a, v, in->src, &oc->nd, &oc->nn);
}

/* Applies a message to an actor that exists (or queues it when it does
 * not: from_queue, it is bad then). Creation and deletion kinds are
 * handled by the caller. */
static int apply_to(ora_actors *a, const ora_msg *m, const ex_in *in, int from_queue)
{
    int oom = 0;
    const char *s;
    size_t n;
    if (m->actor_type == ORA_ACTOR_EVENT) {
        uint32_t ei = ev_find(a, m->actor_id);
        if (ei == ORA_NOIDX || !a->ev[ei].exists)
            return from_queue ? ORA_AP_BAD : ORA_AP_QUEUED;
        ora_event *e = &a->ev[ei];
        if (m->kind != ORA_K_EVENT_STATUS_UPDATED)
            return ORA_AP_IGNORED;
        int fv = ex_status(in, &s, &n);
        put_str(a, fv, s, n, &e->status, NULL, &oom);
        propagate(a, e);
        return oom ? ORA_AP_ERROR : ORA_AP_APPLIED;
    }
    uint32_t bi = bo_find(a, m->actor_id);
    if (bi == ORA_NOIDX)
        return from_queue ? ORA_AP_BAD : ORA_AP_QUEUED;
    ora_betoffer *b = &a->bo[bi];
    switch (m->kind) {
    case ORA_K_BETOFFER_STATUS_UPDATED: {
        uint32_t old = b->status;
        ora_intern_ref(a->strs, old);
        int fv = ex_status(in, &s, &n);
        put_status(a, b, fv, s, n, &oom);
        int e = oom ? 0 : ora_rule_offer_status(a, m, b, old);
        ora_intern_put(a->strs, old);
        if (oom || e < 0)
            return ORA_AP_ERROR;
        break;
    }
    case ORA_K_BETOFFER_LINETYPES_UPDATED:
        ex_line_types(a, in, &b->line_types, &oom);
        break;
    case ORA_K_OUTCOME_ODDS_UPDATED:
    case ORA_K_OUTCOME_STATUS_UPDATED: {
        uint64_t oid;
        if (ex_outcome_id(a, in, &oid) != ORA_FV_OK)
            return ORA_AP_BAD;
        int odds = m->kind == ORA_K_OUTCOME_ODDS_UPDATED;
        oc_in oc;
        if (ex_outcome(a, in, odds, &oc) < 0)
            return ORA_AP_ERROR;
        int r = outcome_update(a, m, bi, oid, &oc, odds);
        if (r)
            return r;
        break;
    }
    default:
        return ORA_AP_IGNORED;
    }
    return oom ? ORA_AP_ERROR : ORA_AP_APPLIED;
}

/* apply_to() from the tree of a message. */
static int apply_existing(ora_actors *a, const ora_msg *m, const cJSON *root, ora_src *src, int from_queue)
{
    const ora_kind_info *ki = ora_kind_get(m->kind);
    const cJSON *p = ki ? cJSON_GetObjectItemCaseSensitive(root, ki->key) : NULL;
    if (!cJSON_IsObject(p))
        return ORA_AP_BAD;
    return apply_to(a, m, &(ex_in){p, NULL, src}, from_queue);
}

/* Applies message m (its text raw[0..n), read as in says) by its kind,
 * for ora_actors_apply() and ora_actors_apply_text(). Event adds and
 * updates are read from the tree only. Returns an ORA_AP_* result. */
static int apply_kind(ora_actors *a, const ora_msg *m, const ex_in *in, const char *raw, size_t n)
{
    const cJSON *o;
    int rc;
    switch (m->kind) {
    case ORA_K_EVENT_ADDED:
    case ORA_K_EVENT_UPDATED:
        return seen(a, ora_field(in->p, ORA_F_EVENT, &o)) == ORA_FV_OK ? event_upsert(a, m, o) : ORA_AP_BAD;
    case ORA_K_BETOFFER_ADDED:
    case ORA_K_BETOFFER_UPDATED:
        if (in->x)
            return seen(a, in->x->bof_fv) == ORA_FV_OK ? tx_offer_upsert(a, m, in->x, in->src) : ORA_AP_BAD;
        return seen(a, ora_field(in->p, ORA_F_BETOFFER, &o)) == ORA_FV_OK ? offer_upsert(a, m, o, in->src)
                                                                           : ORA_AP_BAD;
    case ORA_K_EVENT_DELETED:
    case ORA_K_BETOFFER_DELETED:
        return apply_delete(a, m);
    default:
        if (!kind_has_state(m->kind))
            return ORA_AP_IGNORED;
        rc = apply_to(a, m, in, 0);
        if (rc == ORA_AP_QUEUED && pend_push(a, m, raw, n, a->now_ns) < 0)
            rc = ORA_AP_ERROR;
        return rc;
    }
}

int ora_actors_apply_text(ora_actors *a, const ora_msg *m, const char *raw, size_t n)
{
    const ora_kind_info *ki = ora_kind_get(m->kind);
    tx_in x;
    if (tx_read(m, ki, raw, n, &x) < 0)
        return ORA_AP_TREE;
    apply_begin(a, m);
    if (!ki || ki->actor != m->actor_type)
        return apply_end(a, ORA_AP_IGNORED);
    if (!x.p_obj)
        return apply_end(a, ORA_AP_BAD);
    ora_src src = {raw, n, 0};
    return apply_end(a, apply_kind(a, m, &(ex_in){NULL, &x, &src}, raw, n));
}

size_t ora_actors_bytes(const ora_actors *a)
{
    size_t n = (size_t)a->cap_ev * (sizeof(ora_event) + 4) + (size_t)a->cap_bo * (sizeof(ora_betoffer) + 4);
    for (uint32_t i = 0; i < a->n_bo; i++)
        n += (size_t)a->bo[i].n_out * sizeof(ora_outcome) + (size_t)a->bo[i].n_odds * sizeof(ora_odds);
    for (uint32_t i = 0; i < a->n_ev; i++)
        n += (size_t)a->ev[i].n_parts * sizeof(ora_part);
    n += ora_idmap_bytes(&a->ev_map) + ora_idmap_bytes(&a->bo_map) + ora_idmap_bytes(&a->pend_ev) +
         ora_idmap_bytes(&a->pend_bo);
    n += ora_intern_bytes(a->strs) + ora_intern_bytes(a->offl) + ora_intern_bytes(a->lists);
    return n + a->pend_bytes;
}


/* ---- restoring a saved state ------------------------------------------------------ */

int ora_actors_restore_begin(ora_actors *a)
{
    free_tables(a);
    ora_intern_free(a->strs);
    ora_intern_free(a->offl);
    ora_intern_free(a->lists);
    a->s_open = a->s_suspended = a->s_closed = a->s_started = 0;
    a->strs = ora_intern_new();
    a->offl = ora_intern_new();
    a->lists = ora_intern_new();
    return a->strs && a->offl && a->lists ? 0 : -1;
}

uint32_t ora_actors_restore_event(ora_actors *a, uint64_t id)
{
    uint32_t ei = ev_slot(a, id);
    if (ei == ORA_NOIDX)
        return ORA_NOIDX;
    a->ev[ei].exists = 1;
    a->n_events++;
    return ei;
}

uint32_t ora_actors_restore_offer(ora_actors *a, uint64_t id)
{
    uint32_t bi = bo_slot(a, id);
    if (bi != ORA_NOIDX)
        a->n_offers++;
    return bi;
}

int ora_actors_restore_link(ora_actors *a, uint32_t bi, uint64_t eid)
{
    /* the state file holds the offer's copy of the event's fields */
    return bo_attach(a, bi, eid) == ORA_NOIDX ? -1 : 0;
}

int ora_actors_restore_pending(ora_actors *a, const ora_msg *m, const char *raw, size_t n, uint64_t t_ns)
{
    return pend_push(a, m, raw, n, t_ns);
}

int ora_actors_restore_done(ora_actors *a)
{
    ora_intern_sweep(a->strs);
    ora_intern_sweep(a->offl);
    ora_intern_sweep(a->lists);
    list_aux(a, a->offl);
    list_aux(a, a->lists);
    return take_held(a);
}
