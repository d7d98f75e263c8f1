/* sim_test: the pieces of ora-sim: JWT (RFC 7515 A.1 vector, tampering,
 * expiry), the retained log, and the model's invariants (one offset per
 * step, delivery = log as sets, determinism). Client commands are parsed
 * by lib/smsg.c, tested in session_test. */
#include "jwt.h"
#include "ora.h"
#include "sim_log.h"
#include "sim_model.h"
#include "sim_snap.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unit_gz.h"

static void test_jwt(void)
{
    /* RFC 7515 appendix A.1: HS256 over a header and claims with CRLFs. */
    static const char *k64 = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    static const char *tok = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    uint8_t key[64];
    size_t kl = 0;
    CHECK(sodium_base642bin(key, sizeof key, k64, strlen(k64), NULL, &kl, NULL,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
    int64_t exp = 0;
    CHECK(jwt_verify_hs256(key, kl, tok, strlen(tok), 1300819379, &exp) == JWT_OK);
    CHECK(exp == 1300819380);
    CHECK(jwt_verify_hs256(key, kl, tok, strlen(tok), 1300819380, NULL) == JWT_EXPIRED);
    key[0] ^= 1;
    CHECK(jwt_verify_hs256(key, kl, tok, strlen(tok), 0, NULL) == JWT_BAD_SIG);

    /* round trip */
    const uint8_t k2[32] = {7};
    char *t = jwt_sign_hs256(k2, sizeof k2, "{\"sub\":\"x\",\"exp\":2000}");
    CHECK(t != NULL);
    CHECK(jwt_verify_hs256(k2, sizeof k2, t, strlen(t), 1999, &exp) == JWT_OK && exp == 2000);
    CHECK(jwt_verify_hs256(k2, sizeof k2, t, strlen(t), 2000, NULL) == JWT_EXPIRED);
    /* any flipped character breaks it */
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        char save = t[i];
        t[i] = t[i] == 'A' ? 'B' : 'A';
        CHECK(jwt_verify_hs256(k2, sizeof k2, t, n, 0, NULL) != JWT_OK);
        t[i] = save;
    }
    /* truncations */
    for (size_t i = 0; i < n; i++)
        CHECK(jwt_verify_hs256(k2, sizeof k2, t, i, 0, NULL) != JWT_OK);
    free(t);
    /* alg none, missing exp, junk */
    t = jwt_sign_hs256(k2, sizeof k2, "{\"sub\":\"x\"}");
    CHECK(jwt_verify_hs256(k2, sizeof k2, t, strlen(t), 0, NULL) == JWT_MALFORMED);
    free(t);
    const char *none = "eyJhbGciOiJub25lIn0.eyJleHAiOjIwMDB9.AAAA"; /* {"alg":"none"} */
    CHECK(jwt_verify_hs256(k2, sizeof k2, none, strlen(none), 0, NULL) == JWT_BAD_ALG);
    const char *bad[] = {"", ".", "..", "a.b", "a.b.c.d", "!!!.eyJleHAiOjF9.AAAA", "e30.e30.", ".e30.AAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(jwt_verify_hs256(k2, sizeof k2, bad[i], strlen(bad[i]), 0, NULL) == JWT_MALFORMED);
}

static void test_log(void)
{
    sim_log *l = sim_log_new(3);
    uint64_t offs[] = {5, 3, 4, 9, 6};
    for (int i = 0; i < 5; i++)
        CHECK(sim_log_append(l, offs[i], "{}", 2) == 0);
    CHECK(sim_log_first(l) == 2 && sim_log_end(l) == 5);
    CHECK(sim_log_base(l) == 5); /* max of evicted 5, 3 */
    sim_entry e;
    CHECK(sim_log_get(l, 1, &e) == -1);
    CHECK(sim_log_get(l, 5, &e) == -1);
    CHECK(sim_log_get(l, 3, &e) == 0 && e.offset == 9 && e.len == 2 && memcmp(e.json, "{}", 2) == 0);
    sim_log_free(l);
    /* growth past the first allocation keeps order */
    l = sim_log_new(5000);
    for (uint64_t i = 0; i < 7000; i++) {
        char j[32];
        int n = snprintf(j, sizeof j, "%llu", (unsigned long long)i);
        CHECK(sim_log_append(l, i + 1, j, (size_t)n) == 0);
    }
    CHECK(sim_log_first(l) == 2000 && sim_log_base(l) == 2000);
    for (uint64_t s = 2000; s < 7000; s += 97) {
        CHECK(sim_log_get(l, s, &e) == 0 && e.offset == s + 1);
    }
    sim_log_free(l);
}

/* ---- model ------------------------------------------------------------------ */

typedef struct rec {
    uint64_t *off;
    size_t n, cap;
    unsigned long hash;
} rec;

static int rec_add(void *ctx, uint64_t off, const char *j, size_t n)
{
    rec *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->off = realloc(r->off, r->cap * sizeof *r->off);
    }
    r->off[r->n++] = off;
    for (size_t i = 0; i < n; i++)
        r->hash = r->hash * 33 + (unsigned char)j[i];
    /* every message names its own offset first */
    char want[40];
    int w = snprintf(want, sizeof want, "{\"offset\":%llu,", (unsigned long long)off);
    if ((size_t)w > n || memcmp(j, want, (size_t)w) != 0)
        return 1;
    return 0;
}

typedef struct both { rec log, del; } both;
static int on_log(void *ctx, uint64_t o, const char *j, size_t n) { return rec_add(&((both *)ctx)->log, o, j, n); }
static int on_del(void *ctx, uint64_t o, const char *j, size_t n) { return rec_add(&((both *)ctx)->del, o, j, n); }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static unsigned long run_model(uint64_t seed, double reorder, size_t steps, size_t *inversions)
{
    sim_model_opts o = {.seed = seed, .events = 30, .offers_min = 2, .offers_max = 6,
                        .reorder = reorder, .base_time = 1796126400};
    sim_model *m = sim_model_new(&o);
    both b = {0};
    sim_sink s = {on_log, on_del, &b};
    CHECK(sim_model_init(m, &s) == 0);
    uint64_t h0 = sim_model_head(m);
    CHECK(b.log.n == h0 && b.del.n == h0);
    for (size_t i = 0; i < steps; i++) {
        uint64_t h = sim_model_head(m);
        CHECK(sim_model_step(m, &s) == 0);
        CHECK(sim_model_head(m) == h + 1);
    }
    CHECK(sim_model_flush(m, &s) == 0);
    CHECK(sim_model_held(m) == 0);
    /* log: 1..head in order; delivery: the same set */
    CHECK(b.log.n == h0 + steps);
    for (size_t i = 0; i < b.log.n; i++)
        CHECK(b.log.off[i] == i + 1);
    *inversions = 0;
    for (size_t i = 1; i < b.del.n; i++)
        *inversions += b.del.off[i] < b.del.off[i - 1];
    CHECK(b.del.n == b.log.n);
    qsort(b.del.off, b.del.n, sizeof *b.del.off, cmp_u64);
    CHECK(memcmp(b.del.off, b.log.off, b.log.n * sizeof *b.log.off) == 0);
    /* snapshot: offsets within the log, one per entity */
    rec snap = {0};
    CHECK(sim_model_snapshot(m, rec_add, &snap) == 0);
    CHECK(snap.n == sim_model_events(m) + sim_model_offers(m));
    for (size_t i = 0; i < snap.n; i++)
        CHECK(snap.off[i] >= 1 && snap.off[i] <= sim_model_head(m));
    free(snap.off);
    unsigned long h = b.log.hash;
    free(b.log.off);
    free(b.del.off);
    sim_model_free(m);
    return h;
}

/* Counts the messages that contain the text ctx. */
static size_t text_seen;
static int text_has(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)off;
    text_seen += memmem(j, n, ctx, strlen(ctx)) != NULL;
    return 0;
}

static void test_model(void)
{
    size_t inv0, inv1, inv2;
    unsigned long a = run_model(1, 0, 20000, &inv0);
    unsigned long b = run_model(1, 0, 20000, &inv1);
    CHECK(a == b);
    CHECK(inv0 == 0);
    unsigned long c = run_model(2, 0, 20000, &inv1);
    CHECK(a != c);
    run_model(1, 0.3, 20000, &inv2);
    CHECK(inv2 > 200);
    /* an empty model grows */
    sim_model_opts o = {.seed = 3, .events = 0, .offers_min = 1, .offers_max = 1, .base_time = 0};
    sim_model *m = sim_model_new(&o);
    sim_sink s = {NULL, NULL, NULL};
    CHECK(sim_model_init(m, &s) == 0 && sim_model_head(m) == 0);
    for (int i = 0; i < 200; i++)
        CHECK(sim_model_step(m, &s) == 0);
    CHECK(sim_model_events(m) > 0);
    sim_model_free(m);
    CHECK(sim_offering_known("offering-se") && !sim_offering_known("offering-xx"));

    /* sixteen long jurisdiction names: every message is still made, and
     * the odds entries name them (escaped as JSON strings) */
    static char names[16][64];
    const char *np[16];
    for (int i = 0; i < 16; i++) {
        memset(names[i], 'a' + i, 63);
        np[i] = names[i];
    }
    names[3][0] = '"';
    sim_model_opts jo = {.seed = 4, .events = 5, .offers_min = 3, .offers_max = 3, .jurisdictions = np,
                         .n_jurisdictions = 16};
    m = sim_model_new(&jo);
    both bb = {0};
    sim_sink ls = {on_log, NULL, &bb};
    CHECK(m && sim_model_init(m, &ls) == 0);
    for (int i = 0; m && i < 2000; i++)
        CHECK(sim_model_step(m, &ls) == 0);
    CHECK(m && sim_model_snapshot(m, text_has, names[15]) == 0);
    CHECK(text_seen > 0);
    text_seen = 0;
    CHECK(m && sim_model_snapshot(m, text_has, "\"\\\"ddd") == 0 && text_seen > 0);
    free(bb.log.off);
    sim_model_free(m);
}

/* The plain frames of a snapshot's members, inflated member by member. */
typedef struct plain { ora_buf b; size_t members, units, frames; } plain;

static int frame_add(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)off;
    unsigned char h[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    plain *pl = ctx;
    if (ora_buf_append(&pl->b, h, 4) < 0 || ora_buf_append(&pl->b, j, n) < 0)
        return -1;
    pl->frames++;
    return 0;
}

/* A snapshot from the cache inflates to exactly the model's snapshot, in
 * units of whole frames; pieces that did not change are not compressed
 * again. */
static void check_cached(sim_snap *c, sim_model *m, uint32_t per_max, int *reused)
{
    plain want = {ORA_BUF_INIT, 0, 0, 0}, got = {ORA_BUF_INIT, 0, 0, 0};
    CHECK(sim_model_snapshot(m, frame_add, &want) == 0);
    uint64_t before_msgs, before_bytes;
    sim_snap_size(c, &before_msgs, &before_bytes);
    sim_snapshot *s = sim_snap_capture(c, m);
    CHECK(s && sim_snap_finish(c, s) == 0);
    CHECK(sim_snapshot_messages(s) == want.frames);
    sim_snap_it it = {0, 0};
    const uint8_t *p;
    size_t n;
    uint32_t k;
    while (sim_snapshot_next(s, &it, &p, &n, &k)) {
        size_t at = got.b.len;
        CHECK(unit_gunzip(p, n, &got.b, &got.members) == 0);
        /* the unit holds k whole frames */
        size_t f = 0, q = at;
        while (q + 4 <= got.b.len) {
            const uint8_t *h = got.b.p + q;
            q += 4 + ((size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
            f++;
        }
        CHECK(q == got.b.len && f == k && k >= 1 && k <= per_max);
        got.units++;
    }
    CHECK(got.b.len == want.b.len && memcmp(got.b.p, want.b.p, want.b.len) == 0);
    CHECK(got.members >= got.units);
    sim_snapshot_free(s);
    uint64_t after_msgs, after_bytes;
    sim_snap_size(c, &after_msgs, &after_bytes);
    *reused = before_bytes > 0 && after_bytes == before_bytes;
    ora_buf_free(&want.b);
    ora_buf_free(&got.b);
}

static void test_snap(void)
{
    sim_server_opts o = {.model = {.seed = 5, .events = 40, .offers_min = 2, .offers_max = 9, .base_time = 1796126400},
                         .per_member_min = 1, .per_member_max = 7, .split = 0.3, .level = 6};
    sim_model *m = sim_model_new(&o.model);
    sim_sink none = {NULL, NULL, NULL};
    CHECK(sim_model_init(m, &none) == 0);
    sim_snap *c = sim_snap_new(&o);
    int reused;
    check_cached(c, m, 7, &reused);            /* all compressed now */
    check_cached(c, m, 7, &reused);            /* nothing changed: nothing compressed */
    CHECK(reused);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 37; i++)
            CHECK(sim_model_step(m, &none) == 0);
        check_cached(c, m, 7, &reused);        /* changed pieces compressed again */
    }
    /* warming fills the cache; a snapshot afterwards compresses nothing */
    sim_snap *w = sim_snap_new(&o);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    atomic_int quit = 0;
    CHECK(sim_snap_warm(w, m, &mu, &quit) == (int64_t)(sim_model_events(m) + sim_model_offers(m)));
    CHECK(sim_snap_warm(w, m, &mu, &quit) == 0);
    check_cached(w, m, 7, &reused);
    CHECK(reused);
    sim_snap_free(w);
    sim_snap_free(c);
    sim_model_free(m);
}

int main(void)
{
    test_jwt();
    test_log();
    test_model();
    test_snap();
    return unit_summary("sim_test");
}
