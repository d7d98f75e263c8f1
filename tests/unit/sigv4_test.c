/* sigv4_test: runs the official AWS SigV4 vectors ($ORA_SHARED/testdata/sigv4,
 * aws-c-auth layout) through lib/sigv4 in Authorization-header mode.
 *
 * Every case directory is run: canonical request, string to sign,
 * signature and the Authorization header must match byte for byte; the
 * session-token cases also check the token header (signed, or added after
 * signing for omit_session_token). The query-* files (presigned URLs) are
 * not used: kinesis-put signs with the Authorization header only.
 * Exit 0 when all pass, 1 otherwise.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sigv4.h"

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (!b)
        return NULL;
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

static int check(const char *cs, const char *what, const char *got, size_t gn, const char *want)
{
    if (gn == strlen(want) && memcmp(got, want, gn) == 0)
        return 0;
    fprintf(stderr, "FAIL %s: %s\n--- got\n%.*s\n--- want\n%s\n", cs, what, (int)gn, got, want);
    return 1;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* Returns 0 pass, 1 fail. */
static int run_case(const char *dir, const char *cs)
{
    char *ctx = slurp(dir, "context.json", NULL);
    size_t rlen;
    char *req = slurp(dir, "request.txt", &rlen);
    char *w_creq = slurp(dir, "header-canonical-request.txt", NULL);
    char *w_sts = slurp(dir, "header-string-to-sign.txt", NULL);
    char *w_sig = slurp(dir, "header-signature.txt", NULL);
    char *w_sreq = slurp(dir, "header-signed-request.txt", NULL);
    int fail = 0;
    if (!ctx || !req || !w_creq || !w_sts || !w_sig || !w_sreq) {
        fprintf(stderr, "FAIL %s: missing files\n", cs);
        fail = 1;
        goto out;
    }
    cJSON *j = cJSON_Parse(ctx);
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(j, "credentials");
    const char *ts = jstr(j, "timestamp");
    char date[17];
    /* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
    if (!ts || strlen(ts) != 20) {
        fprintf(stderr, "FAIL %s: bad timestamp\n", cs);
        fail = 1;
        cJSON_Delete(j);
        goto out;
    }
    snprintf(date, sizeof date, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);

    /* Parse the request: line, headers (with obs-fold), blank, body. */
    char *body = strstr(req, "\n\n");
    size_t body_len = 0;
    if (body) {
        *body = 0;
        body += 2;
        body_len = rlen - (size_t)(body - req);
    }
    char *line = req, *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    char *sp1 = strchr(line, ' '), *sp2 = strrchr(line, ' ');
    *sp1 = 0;
    *sp2 = 0;
    char *target = sp1 + 1, *query = strchr(target, '?');
    if (query)
        *query++ = 0;
    sigv4_header hs[32];
    char *folds[32]; /* values glued by obs-fold, freed at out */
    size_t nh = 0, nfolds = 0;
    char *p = nl ? nl + 1 : NULL;
    while (p && *p) {
        char *e = strchr(p, '\n');
        if (e)
            *e = 0;
        if ((*p == ' ' || *p == '\t') && nh) {
            /* obs-fold: glue to the previous value with the line break */
            size_t ol = strlen(hs[nh - 1].value), al = strlen(p);
            char *nv = malloc(ol + al + 2);
            memcpy(nv, hs[nh - 1].value, ol);
            nv[ol] = '\n';
            memcpy(nv + ol + 1, p, al + 1);
            hs[nh - 1].value = nv;
            folds[nfolds++] = nv;
        } else {
            char *c = strchr(p, ':');
            if (c) {
                *c = 0;
                hs[nh].name = p;
                hs[nh++].value = c + 1;
            }
        }
        p = e ? e + 1 : NULL;
    }

    sigv4_params prm = {
        .access_key = jstr(cr, "access_key_id"),
        .secret_key = jstr(cr, "secret_access_key"),
        .token = jstr(cr, "token"),
        .region = jstr(j, "region"),
        .service = jstr(j, "service"),
        .amz_date = date,
        .normalize_path = jbool(j, "normalize", 1),
        .sign_token = !jbool(j, "omit_session_token", 0),
        .content_sha256 = jbool(j, "sign_body", 0),
    };
    sigv4_request rq = {line, target, query, hs, nh, body, body_len};
    sigv4_out out;
    memset(&out, 0, sizeof out);
    if (sigv4_sign(&rq, &prm, &out) < 0) {
        fprintf(stderr, "FAIL %s: sigv4_sign failed\n", cs);
        fail = 1;
    } else {
        fail |= check(cs, "canonical request", (char *)out.canonical.p, out.canonical.len, w_creq);
        fail |= check(cs, "string to sign", (char *)out.string_to_sign.p, out.string_to_sign.len, w_sts);
        fail |= check(cs, "signature", out.signature, strlen(out.signature), w_sig);
        char want_auth[2048];
        snprintf(want_auth, sizeof want_auth, "\nAuthorization:%s\n", out.authorization);
        if (!strstr(w_sreq, want_auth)) {
            fprintf(stderr, "FAIL %s: Authorization header %s not in signed request\n", cs, out.authorization);
            fail = 1;
        }
        if (prm.token) {
            char th[2048];
            snprintf(th, sizeof th, "\nX-Amz-Security-Token:%s\n", prm.token);
            if (!strstr(w_sreq, th)) {
                fprintf(stderr, "FAIL %s: token header missing from expected request\n", cs);
                fail = 1;
            }
            int signed_tok = strstr(out.signed_headers, "x-amz-security-token") != NULL;
            if (signed_tok != prm.sign_token) {
                fprintf(stderr, "FAIL %s: token signed=%d, want %d\n", cs, signed_tok, prm.sign_token);
                fail = 1;
            }
        }
    }
    sigv4_out_free(&out);
    cJSON_Delete(j);
    for (size_t i = 0; i < nfolds; i++)
        free(folds[i]);
out:
    free(ctx), free(req), free(w_creq), free(w_sts), free(w_sig), free(w_sreq);
    return fail;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Direct checks of the helpers beyond the vectors. */
static int extra(void)
{
    int fail = 0;
    uint8_t key[32];
    char hx[65];
    /* The documented example key (AWS General Reference, "Examples of how
     * to derive a signing key"). */
    sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam", key);
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++)
        hx[2 * i] = h[key[i] >> 4], hx[2 * i + 1] = h[key[i] & 15];
    hx[64] = 0;
    fail |= check("signing-key", "derived key", hx, 64,
                  "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    char d[17];
    sigv4_amz_date(1440938160, d);
    fail |= check("amz-date", "format", d, strlen(d), "20150830T123600Z");
    ora_buf b = ORA_BUF_INIT;
    sigv4_canonical_query("b=2&a=%7e&a=1&c", &b);
    fail |= check("query", "sorted", (char *)b.p, b.len, "a=1&a=~&b=2&c=");
    b.len = 0;
    sigv4_canonical_path("/a/./b/../../c//d/", 1, &b);
    fail |= check("path", "normalized", (char *)b.p, b.len, "/c/d/");
    ora_buf_free(&b);
    return fail;
}

int main(void)
{
    const char *sh = getenv("ORA_SHARED");
    char root[4096];
    snprintf(root, sizeof root, "%s/testdata/sigv4", sh ? sh : "../shared");
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "sigv4_test: cannot open %s\n", root);
        return 1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        char cdir[4600];
        snprintf(cdir, sizeof cdir, "%s/%s/context.json", root, e->d_name);
        FILE *f = fopen(cdir, "r");
        if (f) {
            fclose(f);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char cdir[4600];
        snprintf(cdir, sizeof cdir, "%s/%s", root, names[i]);
        failed += run_case(cdir, names[i]);
        free(names[i]);
    }
    failed += extra();
    printf("sigv4_test: %zu vector cases, %d failed\n", n, failed);
    if (n < 38) {
        fprintf(stderr, "sigv4_test: expected 38 cases, found %zu\n", n);
        return 1;
    }
    return failed ? 1 : 0;
}
