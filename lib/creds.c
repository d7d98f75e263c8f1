/* creds.c: the credential providers of the standard chain (see creds.h). */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws_config.h"
#include "aws_http.h"
#include "aws_util.h"
#include "cli.h"
#include "sigv4.h"

extern char **environ;

enum kind { P_ENV, P_STATIC, P_WEB_IDENTITY, P_ASSUME_ROLE, P_PROCESS, P_CONTAINER, P_IMDS };

struct creds_provider {
    int kind;
    char *profile;                          /* P_STATIC: re-read on every fetch */
    char *role_arn, *session_name, *external_id;
    long duration;
    char *token_file;                       /* P_WEB_IDENTITY */
    char *command;                          /* P_PROCESS */
    creds_provider *source;                 /* P_ASSUME_ROLE */
    char *url, *auth_token, *auth_token_file; /* P_CONTAINER */
    char *imds_endpoint;                    /* P_IMDS */
    int imds_v1;
    char *region, *sts_endpoint, *ca_bundle;
    double timeout;
    char desc[600];
};

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

void creds_free(creds_provider *p)
{
    if (!p)
        return;
    creds_free(p->source);
    free(p->profile);
    free(p->role_arn);
    free(p->session_name);
    free(p->external_id);
    free(p->token_file);
    free(p->command);
    free(p->url);
    aws_wipe_free(p->auth_token);
    free(p->auth_token_file);
    free(p->imds_endpoint);
    free(p->region);
    free(p->sts_endpoint);
    free(p->ca_bundle);
    free(p);
}

static void reach_add(const char **list, const char *v)
{
    for (int i = 0; v && i < 4; i++)
        if (!list[i] || strcmp(list[i], v) == 0) {
            list[i] = v;
            return;
        }
}

void creds_reach_of(const creds_provider *p, creds_reach *r)
{
    memset(r, 0, sizeof *r);
    for (; p; p = p->source) {
        r->shared_files |= p->kind == P_STATIC;
        reach_add(r->files, p->token_file);
        reach_add(r->files, p->auth_token_file);
        if (p->kind == P_PROCESS)
            r->command = p->command;
        if (p->kind == P_WEB_IDENTITY || p->kind == P_ASSUME_ROLE)
            reach_add(r->urls, p->sts_endpoint);
        reach_add(r->urls, p->url);
        reach_add(r->urls, p->imds_endpoint);
    }
}

const char *creds_describe(const creds_provider *p)
{
    return p->desc;
}

int creds_is_static(const creds_provider *p)
{
    return p->kind == P_ENV;
}

/* A provider of kind with o's settings, described (creds_describe) by the
 * printf-style fmt; NULL when out of memory. */
static creds_provider *prov_new(int kind, const creds_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static creds_provider *prov_new(int kind, const creds_opts *o, const char *fmt, ...)
{
    creds_provider *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->desc, sizeof p->desc, fmt, ap);
    va_end(ap);
    p->region = dup0(o->region);
    p->sts_endpoint = dup0(o->sts_endpoint);
    p->ca_bundle = dup0(o->ca_bundle);
    p->timeout = o->timeout > 0 ? o->timeout : 5;
    return p;
}

static int sts_ok(const creds_opts *o, char *err, size_t errlen)
{
    if (o->sts_endpoint && strncmp(o->sts_endpoint, "http://", 7) == 0 && !o->allow_insecure &&
        !aws_url_is_loopback(o->sts_endpoint)) {
        aws_seterr(err, errlen,
                   "refusing plain http STS endpoint '%.200s': credentials would cross the network in clear; use "
                   "https, or --allow-insecure-endpoint",
                   o->sts_endpoint);
        return -1;
    }
    return 0;
}

static int is_true(const char *v)
{
    return v && strcasecmp(v, "true") == 0;
}

static creds_provider *imds_new(const creds_opts *o)
{
    const char *ep = cli_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = cli_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!ep)
        ep = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
    size_t n = strlen(ep);
    while (n && ep[n - 1] == '/')
        n--;
    const char *v1 = cli_env("AWS_EC2_METADATA_V1_DISABLED");
    int imds_v1 = v1 && strcasecmp(v1, "false") == 0;
    creds_provider *p = prov_new(P_IMDS, o, "EC2 instance metadata (%.*s, %s)", (int)n, ep,
                                 imds_v1 ? "IMDSv2, v1 allowed" : "IMDSv2");
    if (!p)
        return NULL;
    p->imds_endpoint = strndup(ep, n);
    p->imds_v1 = imds_v1;
    return p;
}

/* http only to loopback and the ECS/EKS agents; https anywhere. */
static int container_host_ok(const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return 1;
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    char h[256];
    if (aws_url_host(url, h, sizeof h) < 0)
        return 0;
    return aws_url_is_loopback(url) || strcmp(h, "169.254.170.2") == 0 || strcmp(h, "169.254.170.23") == 0 ||
           strcasecmp(h, "fd00:ec2::23") == 0;
}

static creds_provider *container_new(const creds_opts *o, char *err, size_t errlen)
{
    const char *rel = cli_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = cli_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[2048];
    if (rel)
        snprintf(url, sizeof url, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/", rel);
    else
        snprintf(url, sizeof url, "%s", full);
    if (!rel && !container_host_ok(url)) {
        aws_seterr(err, errlen,
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI '%.200s' is not allowed: plain http only to loopback, "
                   "169.254.170.2, 169.254.170.23 or fd00:ec2::23",
                   url);
        return NULL;
    }
    const char *tfile = cli_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = cli_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    creds_provider *p = prov_new(P_CONTAINER, o, "container credentials (%.300s%s)", url,
                                 tfile ? ", token file" : tok ? ", token" : "");
    if (!p)
        return NULL;
    p->url = strdup(url);
    p->auth_token_file = dup0(tfile);
    p->auth_token = dup0(tok);
    return p;
}

static char *session_name(const char *given)
{
    if (given)
        return strdup(given);
    char b[64];
    snprintf(b, sizeof b, "kinesis-put-%ld", (long)time(NULL));
    return strdup(b);
}

/* The provider of profile name; depth guards source_profile loops. */
static creds_provider *profile_provider(const char *name, const creds_opts *o, int depth, char *err, size_t errlen)
{
    aws_profile pr;
    creds_provider *p = NULL;
    if (depth > 8) {
        aws_seterr(err, errlen, "profile %s: source_profile chain too long (a loop?)", name);
        return NULL;
    }
    if (aws_profile_load(name, &pr, err, errlen) < 0)
        return NULL;
    if (!pr.found) {
        aws_profile_not_found(name, err, errlen);
        goto out;
    }
    if (pr.role_arn) {
        if (pr.mfa_serial) {
            aws_seterr(err, errlen, "profile %s needs an MFA code (mfa_serial), which kinesis-put cannot ask for",
                       name);
            goto out;
        }
        long dur = 3600;
        if (pr.duration_seconds) {
            char *e;
            dur = strtol(pr.duration_seconds, &e, 10);
            if (*e || dur < 900 || dur > 43200) {
                aws_seterr(err, errlen, "profile %s: duration_seconds '%.20s' is not 900..43200", name,
                           pr.duration_seconds);
                goto out;
            }
        }
        if (sts_ok(o, err, errlen) < 0)
            goto out;
        if (pr.web_identity_token_file) {
            p = prov_new(P_WEB_IDENTITY, o, "profile %.40s: web identity, role %.160s", name, pr.role_arn);
            if (!p)
                goto oom;
            p->token_file = strdup(pr.web_identity_token_file);
            p->role_arn = strdup(pr.role_arn);
            p->session_name = session_name(pr.role_session_name);
            p->duration = dur;
            goto out;
        }
        creds_provider *src = NULL;
        char from[200];
        if (pr.source_profile && pr.credential_source) {
            aws_seterr(err, errlen, "profile %s has both source_profile and credential_source", name);
            goto out;
        }
        if (pr.source_profile) {
            if (strcmp(pr.source_profile, name) == 0 && (pr.key_id || pr.secret)) {
                /* a role whose source is its own static keys */
                src = prov_new(P_STATIC, o, "profile %.40s", name);
                if (src)
                    src->profile = strdup(name);
            } else {
                src = profile_provider(pr.source_profile, o, depth + 1, err, errlen);
            }
            if (!src)
                goto out;
            snprintf(from, sizeof from, "profile %.60s", pr.source_profile);
        } else if (pr.credential_source) {
            const char *cs = pr.credential_source;
            if (strcmp(cs, "Environment") == 0) {
                const char *ek = cli_env("AWS_ACCESS_KEY_ID"), *es = cli_env("AWS_SECRET_ACCESS_KEY");
                if (!ek || !es) {
                    aws_seterr(err, errlen, "profile %s: credential_source Environment, but AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY are not both set", name);
                    goto out;
                }
                src = prov_new(P_ENV, o, "environment");
            } else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
                src = imds_new(o);
            } else if (strcmp(cs, "EcsContainer") == 0) {
                if (!cli_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
                    !cli_env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
                    aws_seterr(err, errlen, "profile %s: credential_source EcsContainer, but no "
                               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI", name);
                    goto out;
                }
                src = container_new(o, err, errlen);
                if (!src)
                    goto out;
            } else {
                aws_seterr(err, errlen, "profile %s: unknown credential_source '%.40s' (Environment, "
                           "Ec2InstanceMetadata or EcsContainer)", name, cs);
                goto out;
            }
            if (!src)
                goto oom;
            snprintf(from, sizeof from, "%.60s", cs);
        } else {
            aws_seterr(err, errlen, "profile %s has role_arn but neither source_profile, credential_source nor "
                       "web_identity_token_file", name);
            goto out;
        }
        p = prov_new(P_ASSUME_ROLE, o, "profile %.40s: assume role %.160s from %.180s", name, pr.role_arn,
                     from[0] == 'p' ? src->desc : from);
        if (!p) {
            creds_free(src);
            goto oom;
        }
        p->source = src;
        p->role_arn = strdup(pr.role_arn);
        p->session_name = session_name(pr.role_session_name);
        p->external_id = dup0(pr.external_id);
        p->duration = dur;
        goto out;
    }
    if (pr.credential_process) {
        p = prov_new(P_PROCESS, o, "profile %.40s: credential_process", name);
        if (!p)
            goto oom;
        p->command = strdup(pr.credential_process);
        goto out;
    }
    if (pr.key_id || pr.secret) {
        if (!pr.key_id || !pr.secret) {
            aws_seterr(err, errlen, "profile %s in %s has %s but not %s", name, pr.where,
                       pr.key_id ? "aws_access_key_id" : "aws_secret_access_key",
                       pr.key_id ? "aws_secret_access_key" : "aws_access_key_id");
            goto out;
        }
        p = prov_new(P_STATIC, o, "profile %.40s in %.300s", name, pr.where);
        if (!p)
            goto oom;
        p->profile = strdup(name);
        goto out;
    }
    if (pr.sso[0]) {
        aws_seterr(err, errlen,
                   "profile %s uses AWS IAM Identity Center (%s), which kinesis-put does not read: run 'aws sso login "
                   "--profile %s' and give kinesis-put a profile with credential_process = aws configure "
                   "export-credentials --profile %s --format process",
                   name, pr.sso, name, name);
        goto out;
    }
    aws_seterr(err, errlen, "profile %s in %s has no credentials (aws_access_key_id, role_arn, credential_process)",
               name, pr.where);
    goto out;
oom:
    aws_seterr(err, errlen, "out of memory");
out:
    aws_profile_free(&pr);
    return p;
}

int creds_resolve(const creds_opts *o, creds_provider **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *prof = o->profile;
    int explicit_profile = prof != NULL;
    /* 1. environment */
    const char *ek = cli_env("AWS_ACCESS_KEY_ID"), *es = cli_env("AWS_SECRET_ACCESS_KEY");
    if (!explicit_profile && (ek || es)) {
        if (!ek || !es) {
            aws_seterr(err, errlen, "%s is set but %s is not", ek ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                       ek ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
            return -1;
        }
        if (!(*out = prov_new(P_ENV, o, "environment")))
            goto oom;
        return 0;
    }
    /* 2. web identity from the environment */
    const char *wtf = cli_env("AWS_WEB_IDENTITY_TOKEN_FILE"), *wra = cli_env("AWS_ROLE_ARN");
    if (!explicit_profile && wtf && wra) {
        if (sts_ok(o, err, errlen) < 0)
            return -1;
        creds_provider *p = prov_new(P_WEB_IDENTITY, o, "web identity, role %.300s", wra);
        if (!p)
            goto oom;
        p->token_file = strdup(wtf);
        p->role_arn = strdup(wra);
        p->session_name = session_name(cli_env("AWS_ROLE_SESSION_NAME"));
        p->duration = 3600;
        *out = p;
        return 0;
    }
    /* 3. the profile */
    if (!prof && !(prof = cli_env("AWS_PROFILE")) && !(prof = cli_env("AWS_DEFAULT_PROFILE")))
        prof = "default";
    else
        explicit_profile = 1;
    aws_profile pr;
    if (aws_profile_load(prof, &pr, err, errlen) < 0)
        return -1;
    int found = pr.found;
    aws_profile_free(&pr);
    if (found) {
        *out = profile_provider(prof, o, 0, err, errlen);
        if (*out || explicit_profile)
            return *out ? 0 : -1;
        /* the default profile without credentials: go on down the chain */
        if (strstr(err, "has no credentials") == NULL)
            return -1;
    } else if (explicit_profile) {
        aws_profile_not_found(prof, err, errlen);
        return -1;
    }
    /* 4. container */
    if (cli_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || cli_env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        *out = container_new(o, err, errlen);
        return *out ? 0 : -1;
    }
    /* 5. EC2 instance metadata */
    if (!is_true(cli_env("AWS_EC2_METADATA_DISABLED"))) {
        if (!(*out = imds_new(o)))
            goto oom;
        return 0;
    }
    char cp[4096], fp[4096];
    aws_shared_paths(cp, sizeof cp, fp, sizeof fp);
    aws_seterr(err, errlen,
               "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in %s "
               "(EC2 instance metadata is disabled by AWS_EC2_METADATA_DISABLED)",
               cp);
    return -1;
oom:
    aws_seterr(err, errlen, "out of memory");
    return -1;
}

/* ---- fetching ------------------------------------------------------------- */

/* Reads a small file (a token) into b, trimmed, NUL-terminated. 0 / -1. */
static int read_token_file(const char *path, ora_buf *b)
{
    b->len = 0;
    if (aws_read_file(path, b, 1u << 20) < 0 || ora_buf_reserve(b, 1) < 0)
        return -1;
    while (b->len && (b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\r' || b->p[b->len - 1] == ' '))
        b->len--;
    b->p[b->len] = 0;
    return 0;
}

static int http_class(long status)
{
    /* 4xx other than throttling: the configuration; else it may pass */
    return status >= 400 && status < 500 && status != 429 && status != 408 ? -2 : -1;
}

/* POSTs an STS query; signed with src when given. 0 and out, or -1/-2. */
static int sts_call(creds_provider *p, const ora_buf *form, const aws_creds *src, aws_creds *out, char *err,
                    size_t errlen)
{
    char host[512], path[512];
    if (aws_url_split(p->sts_endpoint, host, sizeof host, path, sizeof path) < 0) {
        aws_seterr(err, errlen, "invalid STS endpoint %.200s", p->sts_endpoint);
        return -2;
    }
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    ora_buf hdr[4] = {ORA_BUF_SECRET_INIT, ORA_BUF_SECRET_INIT, ORA_BUF_SECRET_INIT, ORA_BUF_SECRET_INIT};
    const char *hl[6];
    int nh = 0, rc = -1;
    ora_buf_printf(&hdr[0], "Content-Type: %s%c", ctype, 0);
    hl[nh++] = (const char *)hdr[0].p;
    ora_buf body = ORA_BUF_SECRET_INIT;
    sigv4_out so;
    memset(&so, 0, sizeof so);
    if (src) {
        char date[17];
        sigv4_amz_date(time(NULL), date);
        sigv4_header hs[2] = {{"Host", host}, {"Content-Type", ctype}};
        sigv4_params sp = {src->access_key, src->secret_key, src->session_token, p->region ? p->region : "us-east-1",
                           "sts", date, 1, 1, 0};
        sigv4_request rq = {"POST", path, NULL, hs, 2, form->p, form->len};
        if (sigv4_sign(&rq, &sp, &so) < 0) {
            aws_seterr(err, errlen, "unable to sign the STS request");
            goto done;
        }
        ora_buf_printf(&hdr[1], "X-Amz-Date: %s%c", date, 0);
        ora_buf_printf(&hdr[2], "Authorization: %s%c", so.authorization, 0);
        hl[nh++] = (const char *)hdr[1].p;
        hl[nh++] = (const char *)hdr[2].p;
        if (src->session_token) {
            ora_buf_printf(&hdr[3], "X-Amz-Security-Token: %s%c", src->session_token, 0);
            hl[nh++] = (const char *)hdr[3].p;
        }
    }
    hl[nh] = NULL;
    aws_http_req rq = {"POST", p->sts_endpoint, hl, form->p, form->len, p->timeout, 0, p->ca_bundle};
    char herr[256];
    long st = aws_http(&rq, &body, herr, sizeof herr);
    if (st == 0) {
        aws_seterr(err, errlen, "STS %.200s: %s", p->sts_endpoint, herr);
        goto done;
    }
    char perr[300];
    if (sts_parse((const char *)body.p, body.len, out, perr, sizeof perr) < 0) {
        aws_seterr(err, errlen, "STS %.200s: HTTP %ld: %s", p->sts_endpoint, st, perr);
        rc = st == 200 ? -2 : http_class(st);
        goto done;
    }
    rc = 0;
done:
    sigv4_out_free(&so);
    for (int i = 0; i < 4; i++)
        ora_buf_free(&hdr[i]);
    ora_buf_free(&body);
    return rc;
}

static int fetch_web_identity(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    ora_buf tok = ORA_BUF_SECRET_INIT, form = ORA_BUF_SECRET_INIT;
    int rc = -2;
    if (read_token_file(p->token_file, &tok) < 0 || tok.len == 0) {
        aws_seterr(err, errlen, "cannot read web identity token file %.200s: %s", p->token_file,
                   tok.len == 0 && errno == 0 ? "empty" : strerror(errno));
        goto done;
    }
    char dur[24];
    snprintf(dur, sizeof dur, "%ld", p->duration);
    if (aws_form_append(&form, 1, "Action", "AssumeRoleWithWebIdentity") < 0 ||
        aws_form_append(&form, 0, "Version", "2011-06-15") < 0 ||
        aws_form_append(&form, 0, "RoleArn", p->role_arn) < 0 ||
        aws_form_append(&form, 0, "RoleSessionName", p->session_name) < 0 ||
        aws_form_append(&form, 0, "DurationSeconds", dur) < 0 ||
        aws_form_append(&form, 0, "WebIdentityToken", (const char *)tok.p) < 0) {
        aws_seterr(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    rc = sts_call(p, &form, NULL, out, err, errlen);
done:
    ora_buf_free(&tok);
    ora_buf_free(&form);
    return rc;
}

static int fetch_assume_role(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    aws_creds src = {0};
    int rc = creds_fetch(p->source, &src, err, errlen);
    if (rc < 0)
        return rc;
    ora_buf form = ORA_BUF_SECRET_INIT;
    char dur[24];
    snprintf(dur, sizeof dur, "%ld", p->duration);
    if (aws_form_append(&form, 1, "Action", "AssumeRole") < 0 || aws_form_append(&form, 0, "Version", "2011-06-15") < 0 ||
        aws_form_append(&form, 0, "RoleArn", p->role_arn) < 0 ||
        aws_form_append(&form, 0, "RoleSessionName", p->session_name) < 0 ||
        aws_form_append(&form, 0, "DurationSeconds", dur) < 0 ||
        (p->external_id && aws_form_append(&form, 0, "ExternalId", p->external_id) < 0)) {
        aws_seterr(err, errlen, "out of memory");
        rc = -1;
    } else {
        rc = sts_call(p, &form, &src, out, err, errlen);
    }
    ora_buf_free(&form);
    aws_creds_clear(&src);
    return rc;
}

static int fetch_static(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    aws_profile pr;
    if (aws_profile_load(p->profile, &pr, err, errlen) < 0)
        return -1;
    int rc = 0;
    if (!pr.key_id || !pr.secret) {
        aws_seterr(err, errlen, "profile %s no longer has aws_access_key_id and aws_secret_access_key", p->profile);
        rc = -2;
    } else if (aws_creds_set(out, pr.key_id, strlen(pr.key_id), pr.secret, strlen(pr.secret), pr.token,
                             pr.token ? strlen(pr.token) : 0, 0) < 0) {
        aws_seterr(err, errlen, "out of memory");
        rc = -1;
    }
    aws_profile_free(&pr);
    return rc;
}

static int fetch_env(aws_creds *out, char *err, size_t errlen)
{
    const char *ek = cli_env("AWS_ACCESS_KEY_ID"), *es = cli_env("AWS_SECRET_ACCESS_KEY");
    const char *et = cli_env("AWS_SESSION_TOKEN");
    if (!ek || !es) {
        aws_seterr(err, errlen, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set");
        return -2;
    }
    if (aws_creds_set(out, ek, strlen(ek), es, strlen(es), et, et ? strlen(et) : 0, 0) < 0) {
        aws_seterr(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs the credential process without a shell; its stdout (at most 64 KiB)
 * into out; killed after p->timeout. */
static int fetch_process(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    char **argv = NULL;
    if (creds_split_command(p->command, &argv) < 0) {
        aws_seterr(err, errlen, "credential_process: cannot split '%.100s' into words (unbalanced quotes?)",
                   p->command);
        return -2;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        aws_seterr(err, errlen, "credential_process: pipe: %s", strerror(errno));
        free(argv);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t pid;
    int sr = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[1]);
    if (sr != 0) {
        aws_seterr(err, errlen, "credential_process: cannot run %.100s: %s", argv[0], strerror(sr));
        free(argv);
        close(fds[0]);
        return -2;
    }
    char prog[128];
    snprintf(prog, sizeof prog, "%s", argv[0]);
    free(argv);
    ora_buf b = ORA_BUF_SECRET_INIT;
    double deadline = mono() + p->timeout;
    int rc = 0, timed_out = 0, too_big = 0;
    for (;;) {
        double left = deadline - mono();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {fds[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (ora_buf_reserve(&b, 4096) < 0) {
            too_big = 1;
            break;
        }
        ssize_t n = read(fds[0], b.p + b.len, b.cap - b.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        b.len += (size_t)n;
        if (b.len > 65536) {
            too_big = 1;
            break;
        }
    }
    close(fds[0]);
    int status = 0;
    if (timed_out || too_big) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    } else {
        /* output ended: the process should be exiting; do not wait past the limit */
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (w < 0 && errno != EINTR)
                break;
            if (mono() > deadline) {
                timed_out = 1;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            usleep(2000);
        }
    }
    if (timed_out) {
        aws_seterr(err, errlen, "credential_process %.100s timed out after %.1f s (killed)", prog, p->timeout);
        rc = -1;
    } else if (too_big) {
        aws_seterr(err, errlen, "credential_process %.100s wrote more than 64 KiB", prog);
        rc = -2;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            aws_seterr(err, errlen, "credential_process %.100s exited with status %d", prog, WEXITSTATUS(status));
        else
            aws_seterr(err, errlen, "credential_process %.100s was killed by signal %d", prog, WTERMSIG(status));
        rc = -2;
    } else {
        char perr[200];
        if (creds_parse_json((const char *)b.p, b.len, CREDS_JSON_PROCESS, out, perr, sizeof perr) < 0) {
            aws_seterr(err, errlen, "credential_process %.100s: unusable output: %s", prog, perr);
            rc = -2;
        }
    }
    ora_buf_free(&b);
    return rc;
}

static int fetch_container(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    ora_buf tok = ORA_BUF_SECRET_INIT, hdr = ORA_BUF_SECRET_INIT, body = ORA_BUF_SECRET_INIT;
    int rc = -1;
    const char *hl[2] = {NULL, NULL};
    if (p->auth_token_file) {
        if (read_token_file(p->auth_token_file, &tok) < 0) {
            aws_seterr(err, errlen, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %.200s: %s", p->auth_token_file,
                       strerror(errno));
            rc = -2;
            goto done;
        }
    } else if (p->auth_token) {
        ora_buf_append(&tok, p->auth_token, strlen(p->auth_token) + 1);
    }
    if (tok.len) {
        for (size_t i = 0; i < tok.len && tok.p[i]; i++)
            if (tok.p[i] == '\r' || tok.p[i] == '\n') {
                aws_seterr(err, errlen, "the container authorization token has a line break");
                rc = -2;
                goto done;
            }
        ora_buf_printf(&hdr, "Authorization: %s%c", (const char *)tok.p, 0);
        hl[0] = (const char *)hdr.p;
    }
    aws_http_req rq = {"GET", p->url, hl, NULL, 0, p->timeout, p->timeout < 2 ? p->timeout : 2, p->ca_bundle};
    char herr[256];
    long st = aws_http(&rq, &body, herr, sizeof herr);
    if (st == 0) {
        aws_seterr(err, errlen, "container credentials %.200s: %s", p->url, herr);
        goto done;
    }
    if (st != 200) {
        aws_seterr(err, errlen, "container credentials %.200s: HTTP %ld", p->url, st);
        rc = http_class(st);
        goto done;
    }
    char perr[200];
    if (creds_parse_json((const char *)body.p, body.len, CREDS_JSON_CONTAINER, out, perr, sizeof perr) < 0) {
        aws_seterr(err, errlen, "container credentials %.200s: %s", p->url, perr);
        goto done;
    }
    rc = 0;
done:
    ora_buf_free(&tok);
    ora_buf_free(&hdr);
    ora_buf_free(&body);
    return rc;
}

/* GET endpoint+path with the IMDSv2 token (or none: v1) into body. */
static long imds_get(const char *endpoint, const char *path, const char *token, double timeout, ora_buf *body,
                     char *herr, size_t hn)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", endpoint, path);
    ora_buf hdr = ORA_BUF_SECRET_INIT;
    const char *hl[2] = {NULL, NULL};
    if (token) {
        ora_buf_printf(&hdr, "X-aws-ec2-metadata-token: %s%c", token, 0);
        hl[0] = (const char *)hdr.p;
    }
    aws_http_req rq = {"GET", url, hl, NULL, 0, timeout, timeout < 1 ? timeout : 1, NULL};
    long st = aws_http(&rq, body, herr, hn);
    ora_buf_free(&hdr);
    return st;
}

/* The IMDSv2 session token into tok (NUL-terminated); 0, -1 (no answer or
 * refused: v1 may be tried when allowed), -2 (IMDS said 403: disabled). */
static int imds_token(const char *endpoint, double timeout, ora_buf *tok, char *err, size_t errlen)
{
    char url[1024], herr[256];
    snprintf(url, sizeof url, "%s/latest/api/token", endpoint);
    const char *hl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    aws_http_req rq = {"PUT", url, hl, NULL, 0, timeout, timeout < 1 ? timeout : 1, NULL};
    long st = aws_http(&rq, tok, herr, sizeof herr);
    if (st == 200 && tok->len > 0) {
        ora_buf_append(tok, "", 1);
        return 0;
    }
    if (st == 0)
        aws_seterr(err, errlen, "EC2 instance metadata %s: %s", endpoint, herr);
    else
        aws_seterr(err, errlen, "EC2 instance metadata %s: token request answered HTTP %ld", endpoint, st);
    return st == 403 ? -2 : -1;
}

static int fetch_imds(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    ora_buf tok = ORA_BUF_SECRET_INIT, body = ORA_BUF_SECRET_INIT;
    const char *ep = p->imds_endpoint;
    int rc = -1;
    char herr[256];
    int tr = imds_token(ep, p->timeout, &tok, err, errlen);
    if (tr < 0 && !p->imds_v1)
        goto done; /* v1 is off unless AWS_EC2_METADATA_V1_DISABLED=false */
    const char *t = tr == 0 ? (const char *)tok.p : NULL;
    long st = imds_get(ep, "/latest/meta-data/iam/security-credentials/", t, p->timeout, &body, herr, sizeof herr);
    if (st != 200) {
        if (st == 0)
            aws_seterr(err, errlen, "EC2 instance metadata %s: %s", ep, herr);
        else
            aws_seterr(err, errlen, "EC2 instance metadata %s: no instance role (HTTP %ld)", ep, st);
        rc = st == 404 ? -2 : -1;
        goto done;
    }
    char role[256];
    size_t rl = 0;
    while (rl < body.len && rl < sizeof role - 1 && body.p[rl] != '\n' && body.p[rl] != '\r')
        rl++;
    memcpy(role, body.p, rl);
    role[rl] = 0;
    for (size_t i = 0; i < rl; i++)
        if (!(role[i] == '-' || role[i] == '_' || role[i] == '+' || role[i] == '=' || role[i] == ',' ||
              role[i] == '.' || role[i] == '@' || (role[i] >= '0' && role[i] <= '9') ||
              ((role[i] | 32) >= 'a' && (role[i] | 32) <= 'z')))
            rl = 0;
    if (!rl) {
        aws_seterr(err, errlen, "EC2 instance metadata %s: no usable role name", ep);
        goto done;
    }
    char path[400];
    snprintf(path, sizeof path, "/latest/meta-data/iam/security-credentials/%s", role);
    st = imds_get(ep, path, t, p->timeout, &body, herr, sizeof herr);
    if (st != 200) {
        aws_seterr(err, errlen, "EC2 instance metadata %s: role %s: %s%s", ep, role, st ? "HTTP error" : herr,
                   st ? "" : "");
        goto done;
    }
    char perr[200];
    if (creds_parse_json((const char *)body.p, body.len, CREDS_JSON_IMDS, out, perr, sizeof perr) < 0) {
        aws_seterr(err, errlen, "EC2 instance metadata %s: role %s: %s", ep, role, perr);
        goto done;
    }
    snprintf(p->desc, sizeof p->desc, "EC2 instance metadata (%s, %s, role %s)", ep, t ? "IMDSv2" : "IMDSv1", role);
    rc = 0;
done:
    ora_buf_free(&tok);
    ora_buf_free(&body);
    return rc;
}

int creds_fetch(creds_provider *p, aws_creds *out, char *err, size_t errlen)
{
    aws_creds_clear(out);
    err[0] = 0;
    switch (p->kind) {
    case P_ENV: return fetch_env(out, err, errlen);
    case P_STATIC: return fetch_static(p, out, err, errlen);
    case P_WEB_IDENTITY: return fetch_web_identity(p, out, err, errlen);
    case P_ASSUME_ROLE: return fetch_assume_role(p, out, err, errlen);
    case P_PROCESS: return fetch_process(p, out, err, errlen);
    case P_CONTAINER: return fetch_container(p, out, err, errlen);
    case P_IMDS: return fetch_imds(p, out, err, errlen);
    }
    aws_seterr(err, errlen, "no provider");
    return -2;
}

int imds_region(const creds_opts *o, char *region, size_t rn, char *err, size_t errlen)
{
    creds_provider *p = imds_new(o);
    if (!p) {
        aws_seterr(err, errlen, "out of memory");
        return -1;
    }
    ora_buf tok = ORA_BUF_SECRET_INIT, body = ORA_BUF_SECRET_INIT;
    int rc = -1;
    char herr[256];
    int tr = imds_token(p->imds_endpoint, p->timeout, &tok, err, errlen);
    if (tr == 0 || p->imds_v1) {
        long st = imds_get(p->imds_endpoint, "/latest/meta-data/placement/region", tr == 0 ? (char *)tok.p : NULL,
                           p->timeout, &body, herr, sizeof herr);
        if (st == 200 && body.len > 0 && body.len < rn && body.len < 64) {
            memcpy(region, body.p, body.len);
            region[body.len] = 0;
            rc = 0;
        } else {
            aws_seterr(err, errlen, "%s/latest/meta-data/placement/region: %s", p->imds_endpoint,
                       st ? "no region" : herr);
        }
    }
    ora_buf_free(&tok);
    ora_buf_free(&body);
    creds_free(p);
    return rc;
}
