/* persist.c: the actor network to bytes and back, and as JSON lines (persist.h). */
#include "persist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ora.h"
#include "outputs.h"

/* ---- save ------------------------------------------------------------------------ */

/* Writes a table with dense ids 1..count (in id order) and fills map
 * (old id -> new id) so references can be written renumbered. */
static void save_table(const ora_intern *t, ora_sw *w, uint32_t *map)
{
    uint32_t lim = ora_intern_limit(t), next = 1;
    ora_sw_u32(w, (uint32_t)ora_intern_count(t));
    for (uint32_t id = 1; id < lim; id++) {
        size_t n;
        const char *s = ora_intern_str(t, id, &n);
        map[id] = 0;
        if (!s)
            continue;
        map[id] = next++;
        ora_sw_u32(w, (uint32_t)n);
        ora_sw_bytes(w, s, n);
    }
    map[0] = 0;
}

void ora_persist_save(const ora_actors *a, ora_sw *w)
{
    uint32_t *ms = malloc((size_t)ora_intern_limit(a->strs) * sizeof *ms);
    uint32_t *mo = malloc((size_t)ora_intern_limit(a->offl) * sizeof *mo);
    uint32_t *ml = malloc((size_t)ora_intern_limit(a->lists) * sizeof *ml);
    if (!ms || !mo || !ml) {
        free(ms);
        free(mo);
        free(ml);
        if (!w->err)
            w->err = ENOMEM;
        return;
    }
    save_table(a->strs, w, ms);
    save_table(a->offl, w, mo);
    save_table(a->lists, w, ml);
    ora_sw_u32(w, (uint32_t)a->n_events);
    for (uint32_t i = 0; i < a->n_ev; i++) {
        const ora_event *e = &a->ev[i];
        if (!e->exists)
            continue;
        ora_sw_u64(w, e->id);
        ora_sw_u64(w, e->group_id);
        ora_sw_u32(w, ms[e->competition]);
        ora_sw_u32(w, ms[e->sport]);
        ora_sw_u32(w, ms[e->starts_at]);
        ora_sw_u32(w, ms[e->status]);
        ora_sw_u32(w, ms[e->parts_json]);
        ora_sw_u8(w, e->flags);
        ora_sw_u16(w, e->n_parts);
        for (uint16_t k = 0; k < e->n_parts; k++) {
            ora_sw_u64(w, e->parts[k].id);
            ora_sw_u32(w, ms[e->parts[k].name]);
            ora_sw_u32(w, ms[e->parts[k].type]);
            ora_sw_u8(w, e->parts[k].home);
            ora_sw_u8(w, e->parts[k].has_id);
        }
    }
    ora_sw_u32(w, (uint32_t)a->n_offers);
    for (uint32_t i = 0; i < a->n_bo; i++) {
        const ora_betoffer *b = &a->bo[i];
        if (!(b->flags & ORA_BOF_LIVE))
            continue;
        ora_sw_u64(w, b->id);
        ora_sw_u64(w, b->event_id);
        ora_sw_u64(w, b->criterion_id);
        ora_sw_u64(w, b->group_id);
        ora_sw_u32(w, ms[b->criterion_label]);
        ora_sw_u32(w, ms[b->status]);
        ora_sw_u32(w, ms[b->ev_status]);
        ora_sw_u32(w, ml[b->line_types]);
        ora_sw_u32(w, ml[b->tags]);
        ora_sw_u8(w, b->flags);
        ora_sw_u16(w, b->n_out);
        ora_sw_u16(w, b->n_odds);
        const ora_outcome *o = ora_bo_outcomes(b);
        const ora_odds *d = ora_bo_odds(b);
        for (uint16_t k = 0; k < b->n_out; k++) {
            ora_sw_u64(w, o[k].id);
            ora_sw_u64(w, o[k].betoffer_id);
            ora_sw_u32(w, ms[o[k].label]);
            ora_sw_u32(w, ms[o[k].status]);
            ora_sw_u16(w, o[k].n);
            ora_sw_u8(w, o[k].flags);
        }
        for (uint16_t k = 0; k < b->n_odds; k++) {
            uint32_t dec = d[k].decimal;
            if (dec != ORA_DEC_NULL && (dec & ORA_DEC_TEXT))
                dec = ms[dec & ~ORA_DEC_TEXT] | ORA_DEC_TEXT;
            ora_sw_u32(w, mo[d[k].offerings]);
            ora_sw_u32(w, dec);
        }
    }
    free(ms);
    free(mo);
    free(ml);
    ora_sw_u64(w, a->n_pend);
    for (const ora_pend *p = a->pend_head; p; p = p->gnext) {
        ora_sw_u64(w, (uint64_t)p->m.offset);
        ora_sw_u64(w, p->m.recv_ns);
        ora_sw_u64(w, p->m.actor_id);
        ora_sw_u8(w, p->m.flow);
        ora_sw_u8(w, p->m.kind);
        ora_sw_u8(w, p->m.actor_type);
        ora_sw_u64(w, p->t_ns);
        ora_sw_u32(w, p->len);
        ora_sw_bytes(w, p->json, p->len);
    }
}

/* ---- load ------------------------------------------------------------------------ */

static int load_table(ora_intern *t, ora_sr *r, char *err, size_t errn, const char *what)
{
    uint32_t n = ora_sr_u32(r);
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        uint32_t id = k + 1;
        uint32_t len = ora_sr_u32(r);
        const uint8_t *s = ora_sr_bytes(r, len);
        if (r->bad)
            break;
        if (ora_intern_set(t, id, (const char *)s, len) < 0) {
            snprintf(err, errn, "bad %s string table entry %u", what, id);
            return -1;
        }
    }
    if (r->bad) {
        snprintf(err, errn, "truncated %s string table", what);
        return -1;
    }
    return 0;
}

/* Takes a reference on id of table t if it is live (0 allowed). */
static int ref_ok(ora_intern *t, uint32_t id)
{
    if (!id)
        return 1;
    if (!ora_intern_str(t, id, NULL))
        return 0;
    ora_intern_ref(t, id);
    return 1;
}

/* Takes a reference on each of ids[0..n) of table t (as ref_ok()): 1, or 0
 * at the first that is not live. */
static int refs_ok(ora_intern *t, const uint32_t *ids, int n)
{
    for (int j = 0; j < n; j++)
        if (!ref_ok(t, ids[j]))
            return 0;
    return 1;
}

static void read_u32s(ora_sr *r, uint32_t *v, int n)
{
    for (int j = 0; j < n; j++)
        v[j] = ora_sr_u32(r);
}

/* Reads the id of a saved actor (what: "event", "bet offer") that map must
 * not hold yet, and restores its slot with restore(). Returns the slot, or
 * ORA_NOIDX with err set (truncated, twice, out of memory). */
static uint32_t load_slot(ora_actors *a, ora_sr *r, const ora_idmap *map, uint32_t (*restore)(ora_actors *, uint64_t),
                          const char *what, uint64_t *id, char *err, size_t errn)
{
    *id = ora_sr_u64(r);
    if (r->bad) {
        snprintf(err, errn, "truncated state");
        return ORA_NOIDX;
    }
    if (ora_idmap_get(map, *id, NULL)) {
        snprintf(err, errn, "%s %" PRIu64 " twice", what, *id);
        return ORA_NOIDX;
    }
    uint32_t i = restore(a, *id);
    if (i == ORA_NOIDX)
        snprintf(err, errn, "out of memory");
    return i;
}

static int load_body(ora_actors *a, ora_sr *r, char *err, size_t errn)
{
    if (load_table(a->strs, r, err, errn, "text") < 0 || load_table(a->offl, r, err, errn, "offering") < 0 ||
        load_table(a->lists, r, err, errn, "list") < 0)
        return -1;
    uint32_t n = ora_sr_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t id;
        uint32_t ei = load_slot(a, r, &a->ev_map, ora_actors_restore_event, "event", &id, err, errn);
        if (ei == ORA_NOIDX)
            return -1;
        ora_event *e = &a->ev[ei];
        e->group_id = ora_sr_u64(r);
        uint32_t f[5];
        read_u32s(r, f, 5);
        e->flags = ora_sr_u8(r) & ORA_EVF_GROUP;
        uint16_t np = ora_sr_u16(r);
        if (r->bad)
            goto trunc;
        if (!refs_ok(a->strs, f, 5))
            goto badref;
        e->competition = f[0];
        e->sport = f[1];
        e->starts_at = f[2];
        e->status = f[3];
        e->parts_json = f[4];
        if (np) {
            if (ora_sr_left(r) < (size_t)np * 18)
                goto trunc;
            e->parts = calloc(np, sizeof *e->parts);
            if (!e->parts)
                goto oom;
            for (uint16_t j = 0; j < np; j++) {
                ora_part *p = &e->parts[j];
                p->id = ora_sr_u64(r);
                uint32_t nm = ora_sr_u32(r), ty = ora_sr_u32(r);
                p->home = ora_sr_u8(r);
                p->has_id = ora_sr_u8(r) ? 1 : 0;
                if (p->home > 2 || !ref_ok(a->strs, nm))
                    goto badref;
                p->name = nm;
                if (!ref_ok(a->strs, ty))
                    goto badref;
                p->type = ty;
                e->n_parts = j + 1;
            }
        }
    }
    n = ora_sr_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t id;
        uint32_t bi = load_slot(a, r, &a->bo_map, ora_actors_restore_offer, "bet offer", &id, err, errn);
        if (bi == ORA_NOIDX)
            return -1;
        ora_betoffer *b = &a->bo[bi];
        uint64_t eid = ora_sr_u64(r);
        b->criterion_id = ora_sr_u64(r);
        b->group_id = ora_sr_u64(r);
        uint32_t f[5];
        read_u32s(r, f, 5);
        uint8_t flags = ora_sr_u8(r);
        uint16_t no = ora_sr_u16(r), nd = ora_sr_u16(r);
        if (r->bad)
            goto trunc;
        if (!refs_ok(a->strs, f, 3))
            goto badref;
        b->criterion_label = f[0];
        b->status = f[1];
        b->ev_status = f[2];
        if (!ref_ok(a->lists, f[3]))
            goto badref;
        b->line_types = f[3];
        if (!ref_ok(a->lists, f[4]))
            goto badref;
        b->tags = f[4];
        b->flags = (uint8_t)((flags & (ORA_BOF_CRITERION | ORA_BOF_GROUP)) | ORA_BOF_LIVE);
        if (flags & ORA_BOF_EVENT) {
            /* linked without taking the event's fields: the saved copies stand */
            if (ora_actors_restore_link(a, bi, eid) < 0)
                goto oom;
            b = &a->bo[bi];
        }
        if (no || nd) {
            if (ora_sr_left(r) < (size_t)no * 27 + (size_t)nd * 8)
                goto trunc;
            b->blob = malloc((size_t)no * sizeof(ora_outcome) + (size_t)nd * sizeof(ora_odds));
            if (!b->blob)
                goto oom;
            ora_outcome *o = b->blob;
            size_t at = 0;
            for (uint16_t j = 0; j < no; j++) {
                o[j].id = ora_sr_u64(r);
                o[j].betoffer_id = ora_sr_u64(r);
                uint32_t lb = ora_sr_u32(r), st = ora_sr_u32(r);
                o[j].n = ora_sr_u16(r);
                o[j].flags = ora_sr_u8(r) & ORA_OCF_BETOFFER;
                o[j].first = (uint16_t)at;
                o[j].label = o[j].status = 0;
                at += o[j].n;
                b->n_out = j + 1;
                if (!ref_ok(a->strs, lb))
                    goto badref;
                o[j].label = lb;
                if (!ref_ok(a->strs, st))
                    goto badref;
                o[j].status = st;
            }
            if (at != nd) {
                snprintf(err, errn, "bet offer %" PRIu64 ": odds count mismatch", id);
                return -1;
            }
            ora_odds *d = ora_bo_odds(b);
            for (uint16_t j = 0; j < nd; j++) {
                uint32_t off = ora_sr_u32(r), dec = ora_sr_u32(r);
                d[j].offerings = 0;
                d[j].decimal = ORA_DEC_NULL;
                b->n_odds = j + 1;
                if (!ref_ok(a->offl, off))
                    goto badref;
                d[j].offerings = off;
                if (dec != ORA_DEC_NULL && (dec & ORA_DEC_TEXT) &&
                    (!(dec & ~ORA_DEC_TEXT) || !ref_ok(a->strs, dec & ~ORA_DEC_TEXT)))
                    goto badref;
                d[j].decimal = dec;
            }
        }
    }
    uint64_t np = ora_sr_u64(r);
    for (uint64_t k = 0; k < np; k++) {
        ora_msg m;
        m.offset = (int64_t)ora_sr_u64(r);
        m.recv_ns = ora_sr_u64(r);
        m.actor_id = ora_sr_u64(r);
        m.flow = ora_sr_u8(r);
        m.kind = ora_sr_u8(r);
        m.actor_type = ora_sr_u8(r);
        uint64_t t = ora_sr_u64(r);
        uint32_t len = ora_sr_u32(r);
        const uint8_t *s = ora_sr_bytes(r, len);
        if (r->bad)
            goto trunc;
        const ora_kind_info *ki = ora_kind_get(m.kind);
        if (!ki || ki->actor != m.actor_type) {
            snprintf(err, errn, "queued message of unknown kind %u", m.kind);
            return -1;
        }
        if (ora_actors_restore_pending(a, &m, (const char *)s, len, t) < 0)
            goto oom;
    }
    if (ora_sr_left(r)) {
        snprintf(err, errn, "%zu stray bytes after the state", ora_sr_left(r));
        return -1;
    }
    if (ora_actors_restore_done(a) < 0)
        goto oom;
    return 0;
trunc:
    snprintf(err, errn, "truncated state");
    return -1;
badref:
    snprintf(err, errn, "bad string reference");
    return -1;
oom:
    snprintf(err, errn, "out of memory");
    return -1;
}

int ora_persist_load(ora_actors *a, ora_sr *r, char *err, size_t errn)
{
    /* start from empty tables: the saved ids are restored as they were */
    if (ora_actors_restore_begin(a) < 0) {
        snprintf(err, errn, "out of memory");
        ora_actors_clear(a);
        return -1;
    }
    if (load_body(a, r, err, errn) < 0) {
        ora_actors_clear(a);
        return -1;
    }
    return 0;
}

/* ---- dump ------------------------------------------------------------------------ */

typedef struct idx_sort {
    uint64_t id;
    uint32_t i;
} idx_sort;

static int cmp_idx(const void *x, const void *y)
{
    const idx_sort *p = x, *q = y;
    return p->id < q->id ? -1 : p->id > q->id;
}

int ora_persist_dump(const ora_actors *a, int (*put)(void *ctx, const char *s, size_t n), void *ctx)
{
    ora_buf b = ORA_BUF_INIT;
    size_t cap = (a->n_ev > a->n_bo ? a->n_ev : a->n_bo) + 1;
    idx_sort *v = malloc(cap * sizeof *v);
    int r = 0;
    if (!v)
        return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < a->n_ev; i++)
        if (a->ev[i].exists)
            v[n++] = (idx_sort){a->ev[i].id, i};
    qsort(v, n, sizeof *v, cmp_idx);
    for (size_t k = 0; k < n && !r; k++) {
        const ora_event *e = &a->ev[v[k].i];
        b.len = 0;
        r |= ora_buf_printf(&b, "{\"type\":\"event\",\"id\":%" PRIu64, e->id);
        if (e->flags & ORA_EVF_GROUP)
            r |= ora_buf_printf(&b, ",\"group_id\":%" PRIu64, e->group_id);
        else
            r |= ora_buf_printf(&b, ",\"group_id\":null");
        r |= ora_buf_printf(&b, ",\"competition_name\":");
        r |= ora_out_str(&b, a->strs, e->competition);
        r |= ora_buf_printf(&b, ",\"sport\":");
        r |= ora_out_str(&b, a->strs, e->sport);
        r |= ora_buf_printf(&b, ",\"starts_at\":");
        r |= ora_out_str(&b, a->strs, e->starts_at);
        r |= ora_buf_printf(&b, ",\"status\":");
        r |= ora_out_str(&b, a->strs, e->status);
        r |= ora_buf_printf(&b, ",\"participants\":[");
        for (uint16_t j = 0; j < e->n_parts; j++) {
            const ora_part *p = &e->parts[j];
            r |= ora_buf_printf(&b, "%s{\"id\":", j ? "," : "");
            r |= p->has_id ? ora_buf_printf(&b, "%" PRIu64, p->id) : ora_buf_printf(&b, "null");
            r |= ora_buf_printf(&b, ",\"name\":");
            r |= ora_out_str(&b, a->strs, p->name);
            r |= ora_buf_printf(&b, ",\"type\":");
            r |= ora_out_str(&b, a->strs, p->type);
            r |= ora_buf_printf(&b, ",\"home\":%s}", p->home == 1 ? "true" : p->home == 0 ? "false" : "null");
        }
        r |= ora_buf_printf(&b, "],\"bet_offers\":%u}\n", e->n_bo);
        if (!r && put(ctx, (const char *)b.p, b.len) < 0)
            r = -1;
    }
    n = 0;
    for (uint32_t i = 0; i < a->n_bo; i++)
        if (a->bo[i].flags & ORA_BOF_LIVE)
            v[n++] = (idx_sort){a->bo[i].id, i};
    qsort(v, n, sizeof *v, cmp_idx);
    for (size_t k = 0; k < n && !r; k++) {
        const ora_betoffer *bo = &a->bo[v[k].i];
        b.len = 0;
        r |= ora_buf_printf(&b, "{\"type\":\"bet_offer\",\"id\":%" PRIu64 ",\"event_id\":", bo->id);
        r |= (bo->flags & ORA_BOF_EVENT) ? ora_buf_printf(&b, "%" PRIu64, bo->event_id) : ora_buf_printf(&b, "null");
        r |= ora_buf_printf(&b, ",\"criterion_id\":");
        r |= (bo->flags & ORA_BOF_CRITERION) ? ora_buf_printf(&b, "%" PRIu64, bo->criterion_id)
                                             : ora_buf_printf(&b, "null");
        r |= ora_buf_printf(&b, ",\"criterion_label\":");
        r |= ora_out_str(&b, a->strs, bo->criterion_label);
        r |= ora_buf_printf(&b, ",\"line_types\":");
        r |= ora_out_list(&b, a->lists, bo->line_types);
        r |= ora_buf_printf(&b, ",\"tags\":");
        r |= ora_out_list(&b, a->lists, bo->tags);
        r |= ora_buf_printf(&b, ",\"status\":");
        r |= ora_out_str(&b, a->strs, bo->status);
        r |= ora_buf_printf(&b, ",\"event_status\":");
        r |= ora_out_str(&b, a->strs, bo->ev_status);
        r |= ora_buf_printf(&b, ",\"group_id\":");
        r |= (bo->flags & ORA_BOF_GROUP) ? ora_buf_printf(&b, "%" PRIu64, bo->group_id) : ora_buf_printf(&b, "null");
        r |= ora_buf_printf(&b, ",\"outcomes\":[");
        const ora_outcome *o = ora_bo_outcomes(bo);
        const ora_odds *d = ora_bo_odds(bo);
        for (uint16_t j = 0; j < bo->n_out; j++) {
            r |= ora_buf_printf(&b, "%s{\"id\":%" PRIu64 ",\"bet_offer_id\":", j ? "," : "", o[j].id);
            r |= (o[j].flags & ORA_OCF_BETOFFER) ? ora_buf_printf(&b, "%" PRIu64, o[j].betoffer_id)
                                                 : ora_buf_printf(&b, "null");
            r |= ora_buf_printf(&b, ",\"label\":");
            r |= ora_out_str(&b, a->strs, o[j].label);
            r |= ora_buf_printf(&b, ",\"status\":");
            r |= ora_out_str(&b, a->strs, o[j].status);
            r |= ora_buf_printf(&b, ",\"odds\":[");
            for (uint16_t x = 0; x < o[j].n; x++) {
                r |= ora_buf_printf(&b, "%s{\"offerings\":", x ? "," : "");
                r |= ora_out_list(&b, a->offl, d[o[j].first + x].offerings);
                r |= ora_buf_printf(&b, ",\"decimal\":");
                r |= ora_out_decimal(&b, a->strs, d[o[j].first + x].decimal);
                r |= ora_buf_append(&b, "}", 1);
            }
            r |= ora_buf_append(&b, "]}", 2);
        }
        r |= ora_buf_printf(&b, "]}\n");
        if (!r && put(ctx, (const char *)b.p, b.len) < 0)
            r = -1;
    }
    for (const ora_pend *p = a->pend_head; p && !r; p = p->gnext) {
        b.len = 0;
        const ora_kind_info *ki = ora_kind_get(p->m.kind);
        r |= ora_buf_printf(&b,
                            "{\"type\":\"pending\",\"actor\":\"%s\",\"id\":%" PRIu64 ",\"offset\":%" PRId64
                            ",\"kind\":\"%s\",\"queued_ns\":%" PRIu64 "}\n",
                            p->m.actor_type == ORA_ACTOR_EVENT ? "event" : "bet_offer", p->m.actor_id, p->m.offset,
                            ki ? ki->key : "?", p->t_ns);
        if (!r && put(ctx, (const char *)b.p, b.len) < 0)
            r = -1;
    }
    free(v);
    ora_buf_free(&b);
    return r ? -1 : 0;
}
