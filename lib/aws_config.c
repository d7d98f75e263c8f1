/* aws_config.c: AWS CLI-compatible resolution (see aws_config.h). */
#include "aws_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws_http.h"
#include "aws_util.h"
#include "cli.h"

void aws_config_free(aws_config *c)
{
    free(c->region);
    free(c->endpoint);
    free(c->sts_endpoint);
    free(c->profile);
    free(c->ca_bundle);
    creds_free(c->creds);
    memset(c, 0, sizeof *c);
}

/* ---- INI ------------------------------------------------------------------ */

static int is_sp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int aws_ini_parse(const char *text, size_t len, const char *want, int is_config,
                  void (*kv)(void *ctx, const char *k, size_t kl, const char *v, size_t vl), void *ctx)
{
    const char *p = text, *end = text + len;
    size_t wl = strlen(want);
    int in = 0, found = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p, *e = le;
        int indented = s < e && (*s == ' ' || *s == '\t');
        p = nl ? nl + 1 : end;
        while (s < e && is_sp(*s))
            s++;
        while (e > s && is_sp(e[-1]))
            e--;
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            in = 0;
            const char *c = e;
            while (c > s && c[-1] != ']')
                c--;
            if (c == s)
                continue;
            const char *n = s + 1, *ne = c - 1;
            while (n < ne && is_sp(*n))
                n++;
            while (ne > n && is_sp(ne[-1]))
                ne--;
            if (is_config) {
                if (ne - n > 8 && memcmp(n, "profile", 7) == 0 && is_sp(n[7])) {
                    n += 8;
                    while (n < ne && is_sp(*n))
                        n++;
                } else if (!((size_t)(ne - n) == 7 && memcmp(n, "default", 7) == 0)) {
                    continue; /* sso-session, services ... */
                }
            }
            if ((size_t)(ne - n) == wl && memcmp(n, want, wl) == 0)
                in = found = 1;
            continue;
        }
        if (!in || indented)
            continue; /* nested sub-sections (s3 = ...) are not ours */
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!eq)
            continue;
        const char *ke = eq, *v = eq + 1;
        while (ke > s && is_sp(ke[-1]))
            ke--;
        while (v < e && is_sp(*v))
            v++;
        if (ke > s)
            kv(ctx, s, (size_t)(ke - s), v, (size_t)(e - v));
    }
    return found;
}

static void prof_kv(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    aws_profile *p = ctx;
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"aws_access_key_id", offsetof(aws_profile, key_id)},
        {"aws_secret_access_key", offsetof(aws_profile, secret)},
        {"aws_session_token", offsetof(aws_profile, token)},
        {"aws_security_token", offsetof(aws_profile, token)},
        {"region", offsetof(aws_profile, region)},
        {"endpoint_url", offsetof(aws_profile, endpoint)},
        {"ca_bundle", offsetof(aws_profile, ca_bundle)},
        {"role_arn", offsetof(aws_profile, role_arn)},
        {"source_profile", offsetof(aws_profile, source_profile)},
        {"credential_source", offsetof(aws_profile, credential_source)},
        {"external_id", offsetof(aws_profile, external_id)},
        {"role_session_name", offsetof(aws_profile, role_session_name)},
        {"web_identity_token_file", offsetof(aws_profile, web_identity_token_file)},
        {"credential_process", offsetof(aws_profile, credential_process)},
        {"duration_seconds", offsetof(aws_profile, duration_seconds)},
        {"mfa_serial", offsetof(aws_profile, mfa_serial)},
    };
    if (kl > 4 && memcmp(k, "sso_", 4) == 0 && !p->sso[0]) {
        snprintf(p->sso, sizeof p->sso, "%.*s", (int)(kl < 31 ? kl : 31), k);
        return;
    }
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (strlen(keys[i].name) != kl || memcmp(keys[i].name, k, kl) != 0)
            continue;
        char **dst = (char **)((char *)p + keys[i].off);
        /* The first file read wins (the credentials file); within a file,
         * the last line. p->found counts files: 1 while reading the first. */
        if (*dst && p->found > 1)
            return;
        if (!vl)
            return;
        char *s = strndup(v, vl);
        if (!s)
            return;
        aws_wipe_free(*dst);
        *dst = s;
        return;
    }
}

/* Reads a whole file into a secret buffer (it may hold keys). 1 when it
 * does not exist, 0, or -1. */
static int read_secret_file(const char *path, ora_buf *b)
{
    if (aws_read_file(path, b, 16u << 20) < 0)
        return errno == ENOENT ? 1 : -1;
    return 0;
}

static char *home_path(const char *envname, const char *rel, char *buf, size_t n)
{
    const char *v = cli_env(envname);
    if (v) {
        if (v[0] == '~' && v[1] == '/' && cli_env("HOME"))
            snprintf(buf, n, "%s/%s", cli_env("HOME"), v + 2);
        else
            snprintf(buf, n, "%s", v);
        return buf;
    }
    const char *h = cli_env("HOME");
    snprintf(buf, n, "%s/%s", h ? h : ".", rel);
    return buf;
}

void aws_shared_paths(char *cred, size_t cn, char *conf, size_t fn)
{
    home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", cred, cn);
    home_path("AWS_CONFIG_FILE", ".aws/config", conf, fn);
}

void aws_profile_not_found(const char *name, char *err, size_t errlen)
{
    char cp[4096], fp[4096];
    aws_shared_paths(cp, sizeof cp, fp, sizeof fp);
    aws_seterr(err, errlen, "profile %s not found in %s or %s", name, cp, fp);
}

void aws_profile_free(aws_profile *p)
{
    char **all[] = {&p->key_id, &p->secret, &p->token, &p->region, &p->endpoint, &p->ca_bundle, &p->role_arn,
                    &p->source_profile, &p->credential_source, &p->external_id, &p->role_session_name,
                    &p->web_identity_token_file, &p->credential_process, &p->duration_seconds, &p->mfa_serial};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        aws_wipe_free(*all[i]);
    memset(p, 0, sizeof *p);
}

int aws_profile_load(const char *name, aws_profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    char paths[2][4096];
    aws_shared_paths(paths[0], sizeof paths[0], paths[1], sizeof paths[1]);
    int found_in = 0;
    for (int i = 0; i < 2; i++) {
        ora_buf b = ORA_BUF_SECRET_INIT;
        int rc = read_secret_file(paths[i], &b);
        if (rc < 0) {
            aws_seterr(err, errlen, "cannot read %s file %s: %s", i ? "config" : "credentials", paths[i],
                       strerror(errno));
            ora_buf_free(&b);
            aws_profile_free(p);
            return -1;
        }
        p->found = i + 1; /* prof_kv: keys of the first file win */
        if (rc == 0 && b.len && aws_ini_parse((const char *)b.p, b.len, name, i, prof_kv, p)) {
            size_t w = strlen(p->where);
            snprintf(p->where + w, sizeof p->where - w, "%s%s", w ? " and " : "", paths[i]);
            found_in = 1;
        }
        ora_buf_free(&b);
    }
    p->found = found_in;
    return 0;
}

/* ---- URLs ------------------------------------------------------------------ */

int aws_url_split(const char *url, char *host, size_t hn, char *path, size_t pn)
{
    const char *p = aws_url_after_scheme(url, 0);
    if (!p)
        return -1;
    size_t hl = strcspn(p, "/?#");
    if (hl == 0 || hl >= hn || memchr(p, '@', hl) || memchr(p, ' ', hl))
        return -1;
    memcpy(host, p, hl);
    host[hl] = 0;
    const char *rest = p + hl;
    size_t pl = strcspn(rest, "?#");
    if (pl == 0) {
        rest = "/";
        pl = 1;
    }
    if (pl >= pn)
        return -1;
    memcpy(path, rest, pl);
    path[pl] = 0;
    return 0;
}

static int check_url(const char *url, const char *src, int allow_insecure, char *err, size_t errlen)
{
    char h[512], p[512];
    if (aws_url_split(url, h, sizeof h, p, sizeof p) < 0) {
        aws_seterr(err, errlen, "invalid endpoint URL '%.200s' (from %s): want http(s)://host[:port]", url, src);
        return -1;
    }
    if (strncmp(url, "http://", 7) == 0 && !allow_insecure && !aws_url_is_loopback(url)) {
        aws_seterr(err, errlen,
                   "refusing plain http endpoint '%.200s' (from %s): credentials would cross the network in clear; "
                   "use https, or --allow-insecure-endpoint",
                   url, src);
        return -1;
    }
    return 0;
}

/* The endpoint of service: flag, AWS_ENDPOINT_URL_<SVC>, AWS_ENDPOINT_URL,
 * the profile's endpoint_url, else the regional default. */
static char *endpoint_for(const char *flag, const char *svc, const char *svc_env, const aws_profile *pr,
                          const char *region, char *src, size_t sn)
{
    char sname[64];
    snprintf(sname, sizeof sname, "AWS_ENDPOINT_URL_%s", svc_env);
    const char *ep = NULL;
    if (flag)
        ep = flag, snprintf(src, sn, "--endpoint-url");
    else if (cli_env(sname))
        ep = cli_env(sname), snprintf(src, sn, "%s", sname);
    else if (cli_env("AWS_ENDPOINT_URL"))
        ep = cli_env("AWS_ENDPOINT_URL"), snprintf(src, sn, "AWS_ENDPOINT_URL");
    else if (pr->endpoint)
        ep = pr->endpoint, snprintf(src, sn, "endpoint_url in config file");
    if (ep)
        return strdup(ep);
    char buf[256];
    snprintf(buf, sizeof buf, "https://%s.%s.amazonaws.com%s", svc, region, strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    snprintf(src, sn, "default");
    return strdup(buf);
}

int aws_config_load(aws_config *c, const aws_config_opts *o, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    aws_profile pr;
    const char *service = o->service ? o->service : "kinesis";
    const char *prof = o->profile;
    int explicit_profile = prof != NULL;
    if (!prof && ((prof = cli_env("AWS_PROFILE")) || (prof = cli_env("AWS_DEFAULT_PROFILE"))))
        explicit_profile = 1;
    if (!prof)
        prof = "default";
    c->profile = strdup(prof);
    if (aws_profile_load(prof, &pr, err, errlen) < 0)
        goto fail0;
    if (explicit_profile && !pr.found) {
        aws_profile_not_found(prof, err, errlen);
        goto fail;
    }
    const char *ca = cli_env("AWS_CA_BUNDLE") ? cli_env("AWS_CA_BUNDLE") : pr.ca_bundle;
    if (ca) {
        if (access(ca, R_OK) < 0) {
            aws_seterr(err, errlen, "cannot read CA bundle %s (from %s): %s", ca,
                       cli_env("AWS_CA_BUNDLE") ? "AWS_CA_BUNDLE" : "ca_bundle in config file", strerror(errno));
            goto fail;
        }
        c->ca_bundle = strdup(ca);
    }
    double timeout = o->timeout > 0 ? o->timeout : 5;

    /* Region. */
    const char *r = NULL;
    if (o->region)
        r = o->region, snprintf(c->region_source, sizeof c->region_source, "--region");
    else if (cli_env("AWS_REGION"))
        r = cli_env("AWS_REGION"), snprintf(c->region_source, sizeof c->region_source, "AWS_REGION");
    else if (cli_env("AWS_DEFAULT_REGION"))
        r = cli_env("AWS_DEFAULT_REGION"), snprintf(c->region_source, sizeof c->region_source, "AWS_DEFAULT_REGION");
    else if (pr.region)
        r = pr.region, snprintf(c->region_source, sizeof c->region_source, "profile %.40s", prof);
    char imds_r[64];
    if (!r) {
        char ierr[256] = "";
        const char *dis = cli_env("AWS_EC2_METADATA_DISABLED");
        creds_opts co = {NULL, NULL, NULL, c->ca_bundle, timeout < 2 ? timeout : 2, o->allow_insecure};
        if (!(dis && strcasecmp(dis, "true") == 0) && imds_region(&co, imds_r, sizeof imds_r, ierr, sizeof ierr) == 0) {
            r = imds_r;
            snprintf(c->region_source, sizeof c->region_source, "EC2 instance metadata");
        } else {
            char fp[4096], cp[4096];
            aws_shared_paths(cp, sizeof cp, fp, sizeof fp);
            aws_seterr(err, errlen, "no AWS region: set AWS_REGION or region in profile %s of %s (or use --region)%s%s",
                       prof, fp, ierr[0] ? "; EC2 instance metadata: " : "", ierr);
            goto fail;
        }
    }
    for (const char *q = r; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '-') {
            aws_seterr(err, errlen, "invalid AWS region '%.64s'", r);
            goto fail;
        }
    if (!*r) {
        aws_seterr(err, errlen, "invalid AWS region ''");
        goto fail;
    }
    c->region = strdup(r);

    /* Endpoints. */
    char ssrc[64];
    c->endpoint = endpoint_for(o->endpoint_url, service, o->service_env ? o->service_env : "KINESIS", &pr, r,
                               c->endpoint_source, sizeof c->endpoint_source);
    c->sts_endpoint = endpoint_for(NULL, "sts", "STS", &pr, r, ssrc, sizeof ssrc);
    if (!c->endpoint || !c->sts_endpoint || !c->region || !c->profile) {
        aws_seterr(err, errlen, "out of memory");
        goto fail;
    }
    if (check_url(c->endpoint, c->endpoint_source, o->allow_insecure, err, errlen) < 0)
        goto fail;
    /* STS is checked when a provider needs it (creds.c). */
    char sts_err[300];
    if (check_url(c->sts_endpoint, ssrc, 1, sts_err, sizeof sts_err) < 0) {
        aws_seterr(err, errlen, "%s", sts_err);
        goto fail;
    }

    /* Credentials: the provider. */
    creds_opts co = {o->profile, c->region, c->sts_endpoint, c->ca_bundle, timeout, o->allow_insecure};
    if (creds_resolve(&co, &c->creds, err, errlen) < 0)
        goto fail;
    aws_profile_free(&pr);
    return 0;
fail:
    aws_profile_free(&pr);
fail0:
    aws_config_free(c);
    return -1;
}
