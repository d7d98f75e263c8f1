/* actors.c: the actor tables, pending queues and dispatch (actors.h). */
#include "actors.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ora.h"
#include "outputs.h"

/* ---- small helpers -------------------------------------------------------- */

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* The interned id of a JSON string (taking a reference), 0 for anything else. */
static uint32_t istr(ora_intern *t, const cJSON *it, int *oom)
{
    if (!cJSON_IsString(it) || !it->valuestring)
        return 0;
    uint32_t id = ora_intern_get(t, it->valuestring, strlen(it->valuestring), NULL);
    if (!id)
        *oom = 1;
    return id;
}

static void set_id(ora_intern *t, uint32_t *field, uint32_t nid)
{
    ora_intern_put(t, *field);
    *field = nid;
}

/* A list of strings, each element prefixed by ORA_LIST_SEP ("" is the empty list);
 * 0 when it is not an array. */
static uint32_t ilist(ora_actors *a, ora_intern *t, const cJSON *arr, int *oom)
{
    if (!cJSON_IsArray(arr))
        return 0;
    ora_buf b = ORA_BUF_INIT;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const char *s = cJSON_IsString(e) && e->valuestring ? e->valuestring : "";
        if (ora_buf_append(&b, "\x1f", 1) < 0 || ora_buf_append(&b, s, strlen(s)) < 0) {
            ora_buf_free(&b);
            *oom = 1;
            return 0;
        }
    }
    int isnew = 0;
    uint32_t id = ora_intern_get(t, b.len ? (const char *)b.p : "", b.len, &isnew);
    if (!id) {
        ora_buf_free(&b);
        *oom = 1;
        return 0;
    }
    if (isnew) {
        uint64_t aux = 0;
        if (t == a->offl) {
            uint32_t mask = 0, unknown = 0;
            cJSON_ArrayForEach(e, arr)
            {
                const char *s = cJSON_IsString(e) && e->valuestring ? e->valuestring : "";
                int known;
                mask |= ora_rules_bit(a->rules, s, strlen(s), &known);
                unknown += !known;
            }
            aux = mask | (uint64_t)unknown << 32;
        } else {
            cJSON_ArrayForEach(e, arr)
            {
                if (!cJSON_IsString(e) || !e->valuestring)
                    continue;
                if (strcmp(e->valuestring, "MAIN_LINE") == 0)
                    aux |= 1;
                if (strcmp(e->valuestring, "OFFERED_LIVE") == 0)
                    aux |= 2;
            }
        }
        ora_intern_set_aux(t, id, aux);
    }
    ora_buf_free(&b);
    return id;
}

/* Recomputes the aux of every entry of a list table (after a load, under
 * the current rules). */
static void list_aux(ora_actors *a, ora_intern *t)
{
    uint32_t lim = ora_intern_limit(t);
    for (uint32_t id = 1; id < lim; id++) {
        size_t n;
        const char *s = ora_intern_str(t, id, &n);
        if (!s)
            continue;
        uint64_t aux = 0;
        uint32_t mask = 0, unknown = 0;
        size_t i = 0;
        while (i < n) {
            size_t j = i + 1;
            while (j < n && s[j] != ORA_LIST_SEP)
                j++;
            const char *el = s + i + 1;
            size_t el_n = j - i - 1;
            if (t == a->offl) {
                int known;
                mask |= ora_rules_bit(a->rules, el, el_n, &known);
                unknown += !known;
            } else {
                if (el_n == 9 && memcmp(el, "MAIN_LINE", 9) == 0)
                    aux |= 1;
                if (el_n == 12 && memcmp(el, "OFFERED_LIVE", 12) == 0)
                    aux |= 2;
            }
            i = j;
        }
        if (t == a->offl)
            aux = mask | (uint64_t)unknown << 32;
        ora_intern_set_aux(t, id, aux);
    }
}



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
    a->s_open = ora_intern_get(a->strs, "OPEN", 4, NULL);
    a->s_closed = ora_intern_get(a->strs, "CLOSED", 6, NULL);
    a->s_started = ora_intern_get(a->strs, "STARTED", 7, NULL);
    if (!a->s_open || !a->s_closed || !a->s_started)
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
    a->s_open = ora_intern_get(a->strs, "OPEN", 4, NULL);
    a->s_closed = ora_intern_get(a->strs, "CLOSED", 6, NULL);
    a->s_started = ora_intern_get(a->strs, "STARTED", 7, NULL);
    return (a->s_open && a->s_closed && a->s_started) ? 0 : -1;
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
    set_id(a->strs, &e->name, 0);
    set_id(a->strs, &e->group_name, 0);
    set_id(a->strs, &e->sport, 0);
    set_id(a->strs, &e->starts_at, 0);
    set_id(a->strs, &e->status, 0);
    set_id(a->lists, &e->tags, 0);
    for (uint16_t k = 0; k < e->n_parts; k++) {
        ora_intern_put(a->strs, e->parts[k].name);
        ora_intern_put(a->strs, e->parts[k].type);
    }
    free(e->parts);
    e->parts = NULL;
    e->n_parts = 0;
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

/* Links offer bi to event eid (taking its group and status if it exists).
 * -1 when out of memory. */
static int bo_link(ora_actors *a, uint32_t bi, uint64_t eid)
{
    uint32_t ei = ev_slot(a, eid);
    if (ei == ORA_NOIDX)
        return -1;
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
    if (e->exists)
        bo_take_event(a, b, e);
    return 0;
}

static void bo_release_blob(ora_actors *a, ora_betoffer *b)
{
    ora_outcome *o = ora_bo_outcomes(b);
    ora_odds *d = ora_bo_odds(b);
    for (uint16_t k = 0; k < b->n_out; k++) {
        ora_intern_put(a->strs, o[k].label);
        ora_intern_put(a->strs, o[k].status);
    }
    for (uint16_t k = 0; k < b->n_odds; k++)
        ora_intern_put(a->offl, d[k].offerings);
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

static int parts_equal(const ora_part *x, uint16_t nx, const ora_part *y, uint16_t ny)
{
    if (nx != ny)
        return 0;
    for (uint16_t k = 0; k < nx; k++)
        if (x[k].id != y[k].id || x[k].has_id != y[k].has_id || x[k].name != y[k].name ||
            x[k].type != y[k].type || x[k].home != y[k].home)
            return 0;
    return 1;
}

/* Replaces e's participants from a JSON array. Sets *changed when they
 * differ. 0, -1 out of memory, 1 malformed (not an array). */
static int set_parts(ora_actors *a, ora_event *e, const cJSON *arr, int *changed)
{
    if (cJSON_IsNull(arr)) {
        if (e->n_parts)
            *changed = 1;
        for (uint16_t k = 0; k < e->n_parts; k++) {
            ora_intern_put(a->strs, e->parts[k].name);
            ora_intern_put(a->strs, e->parts[k].type);
        }
        free(e->parts);
        e->parts = NULL;
        e->n_parts = 0;
        return 0;
    }
    if (!cJSON_IsArray(arr))
        return 1;
    int n = cJSON_GetArraySize(arr);
    if (n > UINT16_MAX)
        return 1;
    ora_part *np = n ? calloc((size_t)n, sizeof *np) : NULL;
    if (n && !np)
        return -1;
    int k = 0, oom = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, arr)
    {
        ora_part *q = &np[k++];
        uint64_t id;
        if (ora_json_u64(item(p, "id"), &id) == 0) {
            q->id = id;
            q->has_id = 1;
        }
        q->name = istr(a->strs, item(p, "name"), &oom);
        q->type = istr(a->strs, item(p, "type"), &oom);
        const cJSON *h = item(p, "home");
        q->home = cJSON_IsBool(h) ? (cJSON_IsTrue(h) ? 1 : 0) : 2;
    }
    if (!parts_equal(e->parts, e->n_parts, np, (uint16_t)n))
        *changed = 1;
    for (uint16_t j = 0; j < e->n_parts; j++) {
        ora_intern_put(a->strs, e->parts[j].name);
        ora_intern_put(a->strs, e->parts[j].type);
    }
    free(e->parts);
    e->parts = np;
    e->n_parts = (uint16_t)n;
    return oom ? -1 : 0;
}

/* Sets a string field from a key of o when present. */
static void fill_str(ora_actors *a, const cJSON *o, const char *key, uint32_t *field, int *changed, int *oom)
{
    const cJSON *it = item(o, key);
    if (!it)
        return;
    uint32_t nid = istr(a->strs, it, oom);
    if (nid != *field && changed)
        *changed = 1;
    set_id(a->strs, field, nid);
}

/* Applies the fields present in an event object. *changed: a field of the
 * event_data rule changed. 0, -1 out of memory, 1 malformed. */
static int event_fill(ora_actors *a, ora_event *e, const cJSON *o, int *changed)
{
    int oom = 0;
    fill_str(a, o, "name", &e->name, NULL, &oom);
    fill_str(a, o, "sport", &e->sport, changed, &oom);
    fill_str(a, o, "startsAt", &e->starts_at, changed, &oom);
    fill_str(a, o, "status", &e->status, NULL, &oom);
    const cJSON *g = item(o, "group");
    if (g) {
        uint64_t gid;
        int has = cJSON_IsObject(g) && ora_json_u64(item(g, "id"), &gid) == 0;
        if (has != !!(e->flags & ORA_EVF_GROUP) || (has && gid != e->group_id))
            *changed = 1;
        if (has) {
            e->flags |= ORA_EVF_GROUP;
            e->group_id = gid;
        } else {
            e->flags &= (uint8_t)~ORA_EVF_GROUP;
            e->group_id = 0;
        }
        if (cJSON_IsObject(g))
            fill_str(a, g, "name", &e->group_name, NULL, &oom);
        else
            set_id(a->strs, &e->group_name, 0);
    }
    const cJSON *t = item(o, "tags");
    if (t)
        set_id(a->lists, &e->tags, ilist(a, a->lists, t, &oom));
    const cJSON *p = item(o, "participants");
    if (p) {
        int r = set_parts(a, e, p, changed);
        if (r)
            return r;
    }
    return oom ? -1 : 0;
}

static void propagate(ora_actors *a, const ora_event *e)
{
    for (uint32_t bi = e->bo_head; bi != ORA_NOIDX; bi = a->bo[bi].ev_next)
        bo_take_event(a, &a->bo[bi], e);
}

static int apply_existing(ora_actors *a, const ora_msg *m, const cJSON *root, int from_queue);

/* Applies the queued messages of an actor just created by message m. */
static int apply_queue(ora_actors *a, const ora_msg *m)
{
    int rc = 0;
    for (ora_pend *p = pend_take(a, m->actor_type, m->actor_id), *nx; p; p = nx) {
        nx = p->next;
        if (rc >= 0) {
            if (p->m.offset >= 0 && m->offset >= 0 && p->m.offset < m->offset)
                a->st.pending_stale++;
            else {
                cJSON *root = cJSON_ParseWithLength(p->json, p->len);
                if (!root)
                    a->st.bad++;
                else {
                    int r = apply_existing(a, &p->m, root, 1);
                    cJSON_Delete(root);
                    if (r < 0)
                        rc = -1;
                    else
                        a->st.pending_applied++;
                }
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
    int r = event_fill(a, e, o, &changed);
    if (r < 0)
        return ORA_AP_ERROR;
    propagate(a, e);
    if (ora_rule_event(a, m, e, created, changed) < 0)
        return ORA_AP_ERROR;
    if (created && apply_queue(a, m) < 0)
        return ORA_AP_ERROR;
    return r ? ORA_AP_BAD : ORA_AP_APPLIED;
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

typedef struct wout {
    ora_outcome o;
    const ora_odds *odds; /* refs owned by the working set */
    ora_odds *own;        /* freed after the rebuild */
} wout;

/* Builds the offer's blob from a working set (refs move into the blob). */
static int bo_rebuild(ora_betoffer *b, wout *w, size_t n)
{
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
    free(b->blob);
    b->blob = blob;
    b->n_out = (uint16_t)n;
    b->n_odds = (uint16_t)nodds;
    return 0;
}

/* Parses an odds array into a new allocation (taking refs). */
static int parse_odds(ora_actors *a, const cJSON *arr, ora_odds **out, uint16_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr))
        return cJSON_IsNull(arr) ? 0 : 1;
    int cnt = cJSON_GetArraySize(arr);
    if (cnt > UINT16_MAX)
        return 1;
    if (!cnt)
        return 0;
    ora_odds *d = calloc((size_t)cnt, sizeof *d);
    if (!d)
        return -1;
    int k = 0, oom = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        const cJSON *offs = item(x, "offerings");
        d[k].offerings = ilist(a, a->offl, offs, &oom);
        const cJSON *dec = item(x, "decimal");
        d[k].milli = ORA_ODDS_NULL;
        if (cJSON_IsNumber(dec) && dec->valuedouble >= 0 && dec->valuedouble * 1000.0 < 4294967294.5) {
            double v = dec->valuedouble * 1000.0;
            double r = nearbyint(v);
            if (fabs(v - r) > 1e-6 * (r > 1 ? r : 1))
                a->st.odds_rounded++;
            d[k].milli = (uint32_t)r;
        }
        k++;
    }
    *out = d;
    *n = (uint16_t)cnt;
    return oom ? -1 : 0;
}

static void release_odds(ora_actors *a, const ora_odds *d, size_t n)
{
    for (size_t k = 0; k < n; k++)
        ora_intern_put(a->offl, d[k].offerings);
}

/* Merges outcomes (JSON array) into offer b: replace=1 drops the old ones
 * first (betOfferAdded). Returns 0, -1 oom, 1 malformed. */
static int merge_outcomes(ora_actors *a, ora_betoffer *b, const cJSON *arr, int replace)
{
    if (!cJSON_IsArray(arr))
        return 1;
    if (replace)
        bo_release_blob(a, b);
    size_t cap = (size_t)b->n_out + (size_t)cJSON_GetArraySize(arr);
    wout *w = calloc(cap ? cap : 1, sizeof *w);
    if (!w)
        return -1;
    size_t n = b->n_out;
    ora_outcome *o = ora_bo_outcomes(b);
    ora_odds *d = ora_bo_odds(b);
    for (size_t k = 0; k < n; k++) {
        w[k].o = o[k];
        w[k].odds = d + o[k].first;
    }
    int rc = 0, oom = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        uint64_t id;
        if (ora_json_u64(item(x, "id"), &id) < 0) {
            rc = 1;
            continue;
        }
        size_t k = 0;
        while (k < n && w[k].o.id != id)
            k++;
        if (k == n) {
            memset(&w[n], 0, sizeof w[n]);
            w[n].o.id = id;
            n++;
        }
        fill_str(a, x, "label", &w[k].o.label, NULL, &oom);
        fill_str(a, x, "status", &w[k].o.status, NULL, &oom);
        const cJSON *odds = item(x, "odds");
        if (odds) {
            ora_odds *nd;
            uint16_t nn;
            int r = parse_odds(a, odds, &nd, &nn);
            if (r < 0)
                oom = 1;
            if (r > 0)
                rc = 1;
            if (r == 0) {
                release_odds(a, w[k].odds, w[k].o.n);
                free(w[k].own);
                w[k].own = nd;
                w[k].odds = nd;
                w[k].o.n = nn;
            } else {
                release_odds(a, nd, nn);
                free(nd);
            }
        }
    }
    int r = oom ? -1 : bo_rebuild(b, w, n);
    for (size_t k = 0; k < n; k++)
        free(w[k].own);
    free(w);
    return r ? r : rc;
}

/* Sets the odds (or status) of one outcome, adding it when unknown.
 * Returns the outcome index, or -1 oom, -2 malformed. */
static int set_outcome(ora_actors *a, ora_betoffer *b, uint64_t oid, const cJSON *odds, const cJSON *status)
{
    ora_outcome *o = ora_bo_outcomes(b);
    int k = 0;
    while (k < b->n_out && o[k].id != oid)
        k++;
    int oom = 0;
    if (status && k < b->n_out) {
        set_id(a->strs, &o[k].status, istr(a->strs, status, &oom));
        return oom ? -1 : k;
    }
    if (b->n_out == UINT16_MAX && k == b->n_out)
        return -2;
    wout *w = calloc((size_t)b->n_out + 1, sizeof *w);
    if (!w)
        return -1;
    size_t n = b->n_out;
    ora_odds *d = ora_bo_odds(b);
    for (size_t j = 0; j < n; j++) {
        w[j].o = o[j];
        w[j].odds = d + o[j].first;
    }
    if ((size_t)k == n) {
        w[n].o.id = oid;
        n++;
    }
    int rc = 0;
    if (status)
        set_id(a->strs, &w[k].o.status, istr(a->strs, status, &oom));
    if (odds) {
        ora_odds *nd;
        uint16_t nn;
        int r = parse_odds(a, odds, &nd, &nn);
        if (r == 0) {
            release_odds(a, w[k].odds, w[k].o.n);
            w[k].own = nd;
            w[k].odds = nd;
            w[k].o.n = nn;
        } else {
            release_odds(a, nd, nn);
            free(nd);
            if (r < 0)
                oom = 1;
            else
                rc = -2;
        }
    }
    int r = oom ? -1 : bo_rebuild(b, w, n);
    free(w[k].own);
    free(w);
    if (r)
        return r < 0 ? -1 : -2;
    return rc ? rc : k;
}


/* Applies the fields present in a betOffer object. replace: outcomes are
 * the whole set (add). 0, -1 oom, 1 malformed. */
static int offer_fill(ora_actors *a, uint32_t bi, const cJSON *o, int replace)
{
    int oom = 0, rc = 0;
    ora_betoffer *b = &a->bo[bi];
    uint64_t eid;
    const cJSON *ej = item(o, "eventId");
    if (ej) {
        if (ora_json_u64(ej, &eid) == 0) {
            if (!(b->flags & ORA_BOF_EVENT) || b->event_id != eid) {
                bo_unlink(a, bi);
                if (bo_link(a, bi, eid) < 0)
                    return -1;
                b = &a->bo[bi];
            }
        } else
            rc = 1;
    }
    const cJSON *c = item(o, "criterion");
    if (c) {
        uint64_t cid;
        if (cJSON_IsObject(c) && ora_json_u64(item(c, "id"), &cid) == 0) {
            b->criterion_id = cid;
            b->flags |= ORA_BOF_CRITERION;
        } else {
            b->criterion_id = 0;
            b->flags &= (uint8_t)~ORA_BOF_CRITERION;
        }
        if (cJSON_IsObject(c))
            fill_str(a, c, "label", &b->criterion_label, NULL, &oom);
        else
            set_id(a->strs, &b->criterion_label, 0);
    }
    const cJSON *lt = item(o, "lineType");
    if (lt)
        set_id(a->lists, &b->line_types, ilist(a, a->lists, lt, &oom));
    const cJSON *tg = item(o, "tags");
    if (tg)
        set_id(a->lists, &b->tags, ilist(a, a->lists, tg, &oom));
    fill_str(a, o, "status", &b->status, NULL, &oom);
    const cJSON *outs = item(o, "outcomes");
    if (outs) {
        int r = merge_outcomes(a, b, outs, replace);
        if (r < 0)
            oom = 1;
        else if (r)
            rc = 1;
    } else if (replace)
        bo_release_blob(a, b);
    return oom ? -1 : rc;
}

static int offer_upsert(ora_actors *a, const ora_msg *m, const cJSON *o, int is_add)
{
    uint32_t bi = bo_find(a, m->actor_id);
    int created = bi == ORA_NOIDX;
    if (created) {
        bi = bo_slot(a, m->actor_id);
        if (bi == ORA_NOIDX)
            return ORA_AP_ERROR;
        a->n_offers++;
        a->st.created_offers++;
    }
    uint32_t old = a->bo[bi].status;
    ora_intern_ref(a->strs, old);
    int r = offer_fill(a, bi, o, created || is_add);
    if (r < 0) {
        ora_intern_put(a->strs, old);
        return ORA_AP_ERROR;
    }
    int e = ora_rule_offer_status(a, m, &a->bo[bi], old, created);
    ora_intern_put(a->strs, old);
    if (e < 0)
        return ORA_AP_ERROR;
    if (created && apply_queue(a, m) < 0)
        return ORA_AP_ERROR;
    return r ? ORA_AP_BAD : ORA_AP_APPLIED;
}


/* ---- dispatch --------------------------------------------------------------------------- */

/* Does kind k change state of an existing actor (else it is ignored)? */
static int kind_has_state(int k)
{
    switch (k) {
    case ORA_K_EVENT_CASHOUT_STATUS_UPDATED:
    case ORA_K_EVENT_SCORE_UPDATED:
    case ORA_K_MATCH_CLOCK_UPDATED:
    case ORA_K_BETOFFER_CASHOUT_STATUS_UPDATED:
    case ORA_K_OUTCOME_CASHOUT_STATUS_UPDATED:
        return 0;
    default:
        return 1;
    }
}

/* Applies a message to an actor that exists (or queues it when it does
 * not). Creation and deletion kinds are handled by the caller. */
static int apply_existing(ora_actors *a, const ora_msg *m, const cJSON *root, int from_queue)
{
    const ora_kind_info *ki = ora_kind_get(m->kind);
    const cJSON *p = ki ? item(root, ki->key) : NULL;
    if (!cJSON_IsObject(p))
        return ORA_AP_BAD;
    int oom = 0;
    if (m->actor_type == ORA_ACTOR_EVENT) {
        uint32_t ei = ev_find(a, m->actor_id);
        if (ei == ORA_NOIDX || !a->ev[ei].exists)
            return from_queue ? ORA_AP_BAD : ORA_AP_QUEUED;
        ora_event *e = &a->ev[ei];
        int changed = 0;
        switch (m->kind) {
        case ORA_K_EVENT_STATUS_UPDATED:
            fill_str(a, p, "status", &e->status, NULL, &oom);
            propagate(a, e);
            break;
        case ORA_K_EVENT_TAGS_UPDATED: {
            const cJSON *t = item(p, "tags");
            if (t)
                set_id(a->lists, &e->tags, ilist(a, a->lists, t, &oom));
            break;
        }
        case ORA_K_EVENT_PARTICIPANTS_UPDATED: {
            int r = set_parts(a, e, item(p, "participants"), &changed);
            if (r < 0)
                return ORA_AP_ERROR;
            if (r)
                return ORA_AP_BAD;
            if (ora_rule_event(a, m, e, 0, changed) < 0)
                return ORA_AP_ERROR;
            break;
        }
        default:
            return ORA_AP_IGNORED;
        }
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
        fill_str(a, p, "status", &b->status, NULL, &oom);
        int e = oom ? 0 : ora_rule_offer_status(a, m, b, old, 0);
        ora_intern_put(a->strs, old);
        if (oom || e < 0)
            return ORA_AP_ERROR;
        break;
    }
    case ORA_K_BETOFFER_LINETYPES_UPDATED: {
        const cJSON *lt = item(p, "lineType");
        if (lt)
            set_id(a->lists, &b->line_types, ilist(a, a->lists, lt, &oom));
        break;
    }
    case ORA_K_OUTCOME_ODDS_UPDATED:
    case ORA_K_OUTCOME_STATUS_UPDATED: {
        uint64_t oid;
        if (ora_json_u64(item(p, "outcomeId"), &oid) < 0)
            return ORA_AP_BAD;
        int odds = m->kind == ORA_K_OUTCOME_ODDS_UPDATED;
        const cJSON *v = item(p, odds ? "odds" : "status");
        if (!v)
            return ORA_AP_BAD;
        int k = set_outcome(a, b, oid, odds ? v : NULL, odds ? NULL : v);
        if (k == -1)
            return ORA_AP_ERROR;
        if (k == -2)
            return ORA_AP_BAD;
        if (odds && ora_rule_odds(a, m, &a->bo[bi], k) < 0)
            return ORA_AP_ERROR;
        break;
    }
    default:
        return ORA_AP_IGNORED;
    }
    return oom ? ORA_AP_ERROR : ORA_AP_APPLIED;
}

int ora_actors_apply(ora_actors *a, const ora_msg *m, const cJSON *root, const char *raw, size_t n)
{
    a->st.msgs++;
    if (m->recv_ns > a->now_ns)
        a->now_ns = m->recv_ns;
    if (a->pending_ttl_ns && a->pend_head)
        ora_actors_prune(a, a->now_ns);
    const ora_kind_info *ki = ora_kind_get(m->kind);
    if (!ki || ki->actor != m->actor_type) {
        a->st.ignored++;
        return ORA_AP_IGNORED;
    }
    const cJSON *p = item(root, ki->key);
    if (!cJSON_IsObject(p)) {
        a->st.bad++;
        return ORA_AP_BAD;
    }
    int rc;
    switch (m->kind) {
    case ORA_K_EVENT_ADDED:
    case ORA_K_EVENT_UPDATED: {
        const cJSON *o = item(p, "event");
        rc = cJSON_IsObject(o) ? event_upsert(a, m, o) : ORA_AP_BAD;
        break;
    }
    case ORA_K_EVENT_DELETED: {
        uint32_t ei = ev_find(a, m->actor_id);
        if (ei != ORA_NOIDX && a->ev[ei].exists)
            rc = event_delete(a, ei);
        else {
            a->st.pending_dropped += pend_drop(a, ORA_ACTOR_EVENT, m->actor_id);
            rc = ORA_AP_UNKNOWN_DELETE;
        }
        break;
    }
    case ORA_K_BETOFFER_ADDED:
    case ORA_K_BETOFFER_UPDATED: {
        const cJSON *o = item(p, "betOffer");
        rc = cJSON_IsObject(o) ? offer_upsert(a, m, o, m->kind == ORA_K_BETOFFER_ADDED) : ORA_AP_BAD;
        break;
    }
    case ORA_K_BETOFFER_DELETED: {
        uint32_t bi = bo_find(a, m->actor_id);
        if (bi != ORA_NOIDX) {
            bo_delete(a, bi);
            a->st.deleted_offers++;
            rc = ORA_AP_APPLIED;
        } else {
            a->st.pending_dropped += pend_drop(a, ORA_ACTOR_BETOFFER, m->actor_id);
            rc = ORA_AP_UNKNOWN_DELETE;
        }
        break;
    }
    default:
        if (!kind_has_state(m->kind)) {
            rc = ORA_AP_IGNORED;
            break;
        }
        rc = apply_existing(a, m, root, 0);
        if (rc == ORA_AP_QUEUED && pend_push(a, m, raw, n, a->now_ns) < 0)
            rc = ORA_AP_ERROR;
        break;
    }
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
    a->s_open = a->s_closed = a->s_started = 0;
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
    uint32_t ei = ev_slot(a, eid);
    if (ei == ORA_NOIDX)
        return -1;
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
    return 0;
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
    a->s_open = ora_intern_get(a->strs, "OPEN", 4, NULL);
    a->s_closed = ora_intern_get(a->strs, "CLOSED", 6, NULL);
    a->s_started = ora_intern_get(a->strs, "STARTED", 7, NULL);
    return a->s_open && a->s_closed && a->s_started ? 0 : -1;
}
