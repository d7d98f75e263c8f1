/* aws_config.c: AWS CLI-compatible resolution (see aws_config.h). */
#include "aws_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

void aws_config_free(aws_config *c)
{
    free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->session_token);
    free(c->region);
    free(c->endpoint);
    free(c->profile);
    memset(c, 0, sizeof *c);
}

static void seterr(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* One INI section's keys we care about. */
typedef struct ini_sec {
    int found;
    char *key_id, *secret, *token, *region, *endpoint;
    char unsupported[32]; /* first provider key we cannot use */
} ini_sec;

static void sec_free(ini_sec *s)
{
    free(s->key_id);
    wipe_free(s->secret);
    wipe_free(s->token);
    free(s->region);
    free(s->endpoint);
    memset(s, 0, sizeof *s);
}

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Reads [want] (exactly, after trimming) from path into s. is_config:
 * sections are "[profile NAME]" except "[default]" (which "[profile
 * default]" also names). Returns 0 (s->found says whether the section
 * exists), 1 when the file does not exist, -1 on a read error. */
static int ini_read(const char *path, const char *want, int is_config, ini_sec *s)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int in = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        int indented = n > 0 && (line[0] == ' ' || line[0] == '\t');
        char *t = trim(line);
        if (!*t || *t == '#' || *t == ';')
            continue;
        if (*t == '[') {
            char *e = strrchr(t, ']');
            in = 0;
            if (!e)
                continue;
            *e = 0;
            char *name = trim(t + 1);
            if (is_config) {
                if (strncmp(name, "profile", 7) == 0 && isspace((unsigned char)name[7]))
                    name = trim(name + 8);
                else if (strcmp(name, "default") != 0)
                    continue; /* sso-session, services ... */
            }
            if (strcmp(name, want) == 0)
                in = s->found = 1;
            continue;
        }
        if (!in || indented)
            continue; /* nested sub-sections (s3 = ...) are not ours */
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *k = trim(t), *v = trim(eq + 1);
        char **dst = NULL;
        if (strcmp(k, "aws_access_key_id") == 0)
            dst = &s->key_id;
        else if (strcmp(k, "aws_secret_access_key") == 0)
            dst = &s->secret;
        else if (strcmp(k, "aws_session_token") == 0 || strcmp(k, "aws_security_token") == 0)
            dst = &s->token;
        else if (strcmp(k, "region") == 0)
            dst = &s->region;
        else if (strcmp(k, "endpoint_url") == 0)
            dst = &s->endpoint;
        else if ((strcmp(k, "role_arn") == 0 || strcmp(k, "credential_process") == 0 ||
                  strncmp(k, "sso_", 4) == 0 || strcmp(k, "web_identity_token_file") == 0) &&
                 !s->unsupported[0])
            snprintf(s->unsupported, sizeof s->unsupported, "%s", k);
        if (dst && *v) {
            if (*dst)
                wipe_free(*dst);
            *dst = strdup(v);
        }
    }
    if (line) {
        sodium_memzero(line, cap);
        free(line);
    }
    fclose(f);
    return 0;
}

static char *home_path(const char *envname, const char *rel, char *buf, size_t n)
{
    const char *v = env(envname);
    if (v) {
        if (v[0] == '~' && v[1] == '/' && env("HOME"))
            snprintf(buf, n, "%s/%s", env("HOME"), v + 2);
        else
            snprintf(buf, n, "%s", v);
        return buf;
    }
    const char *h = env("HOME");
    snprintf(buf, n, "%s/%s", h ? h : ".", rel);
    return buf;
}

int aws_url_split(const char *url, char *host, size_t hn, char *path, size_t pn)
{
    const char *p;
    if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
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

int aws_config_load(aws_config *c, const aws_config_opts *o, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    ini_sec cred = {0}, conf = {0};
    char cpath[4096], fpath[4096];
    const char *service = o->service ? o->service : "kinesis";
    int explicit_profile = 0;
    const char *prof = o->profile;
    if (prof)
        explicit_profile = 2;
    else if ((prof = env("AWS_PROFILE")) || (prof = env("AWS_DEFAULT_PROFILE")))
        explicit_profile = 1;
    else
        prof = "default";
    c->profile = strdup(prof);
    home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", cpath, sizeof cpath);
    home_path("AWS_CONFIG_FILE", ".aws/config", fpath, sizeof fpath);
    if (ini_read(cpath, prof, 0, &cred) < 0) {
        seterr(err, errlen, "cannot read credentials file %s: %s", cpath, strerror(errno));
        goto fail;
    }
    if (ini_read(fpath, prof, 1, &conf) < 0) {
        seterr(err, errlen, "cannot read config file %s: %s", fpath, strerror(errno));
        goto fail;
    }

    /* Credentials. */
    const char *ek = env("AWS_ACCESS_KEY_ID"), *es = env("AWS_SECRET_ACCESS_KEY");
    if (explicit_profile != 2 && (ek || es)) {
        if (!ek || !es) {
            seterr(err, errlen, "%s is set but %s is not", ek ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                   ek ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
            goto fail;
        }
        c->access_key = strdup(ek);
        c->secret_key = strdup(es);
        if (env("AWS_SESSION_TOKEN"))
            c->session_token = strdup(env("AWS_SESSION_TOKEN"));
        snprintf(c->cred_source, sizeof c->cred_source, "environment");
    } else {
        if (explicit_profile && !cred.found && !conf.found) {
            seterr(err, errlen, "profile %s not found in %s or %s", prof, cpath, fpath);
            goto fail;
        }
        ini_sec *s = cred.key_id || cred.secret ? &cred : conf.key_id || conf.secret ? &conf : NULL;
        if (!s) {
            const char *unsup = cred.unsupported[0] ? cred.unsupported : conf.unsupported;
            if (*unsup)
                seterr(err, errlen,
                       "profile %s uses %s, which is not supported: export static credentials "
                       "(aws configure export-credentials --format env)", prof, unsup);
            else
                seterr(err, errlen,
                       "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                       "AWS_PROFILE with a profile in %s", cpath);
            goto fail;
        }
        if (!s->key_id || !s->secret) {
            seterr(err, errlen, "profile %s in %s has %s but not %s", prof, s == &cred ? cpath : fpath,
                   s->key_id ? "aws_access_key_id" : "aws_secret_access_key",
                   s->key_id ? "aws_secret_access_key" : "aws_access_key_id");
            goto fail;
        }
        c->access_key = strdup(s->key_id);
        c->secret_key = strdup(s->secret);
        if (s->token)
            c->session_token = strdup(s->token);
        snprintf(c->cred_source, sizeof c->cred_source, "profile %.32s in %.50s", prof,
                 s == &cred ? cpath : fpath);
    }

    /* Region. */
    const char *r = o->region ? o->region : env("AWS_REGION") ? env("AWS_REGION")
                                          : env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION")
                                                                      : conf.region;
    if (!r) {
        seterr(err, errlen, "no AWS region: set AWS_REGION or region in profile %s of %s (or use --region)",
               prof, fpath);
        goto fail;
    }
    for (const char *q = r; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '-') {
            seterr(err, errlen, "invalid AWS region '%.64s'", r);
            goto fail;
        }
    c->region = strdup(r);

    /* Endpoint. */
    char sname[64];
    snprintf(sname, sizeof sname, "AWS_ENDPOINT_URL_%s", o->service_env ? o->service_env : "KINESIS");
    const char *ep = NULL, *src = NULL;
    if (o->endpoint_url)
        ep = o->endpoint_url, src = "--endpoint-url";
    else if (env(sname))
        ep = env(sname), src = sname;
    else if (env("AWS_ENDPOINT_URL"))
        ep = env("AWS_ENDPOINT_URL"), src = "AWS_ENDPOINT_URL";
    else if (conf.endpoint)
        ep = conf.endpoint, src = "endpoint_url in config file";
    if (ep) {
        c->endpoint = strdup(ep);
    } else {
        char buf[256];
        snprintf(buf, sizeof buf, "https://%s.%s.amazonaws.com%s", service, r,
                 strncmp(r, "cn-", 3) == 0 ? ".cn" : "");
        c->endpoint = strdup(buf);
        src = "default";
    }
    snprintf(c->endpoint_source, sizeof c->endpoint_source, "%s", src);
    char h[512], p[512];
    if (c->endpoint && aws_url_split(c->endpoint, h, sizeof h, p, sizeof p) < 0) {
        seterr(err, errlen, "invalid endpoint URL '%.200s' (from %s): want http(s)://host[:port]", c->endpoint,
               src);
        goto fail;
    }
    if (!c->access_key || !c->secret_key || !c->region || !c->endpoint || !c->profile) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    sec_free(&cred);
    sec_free(&conf);
    return 0;
fail:
    sec_free(&cred);
    sec_free(&conf);
    aws_config_free(c);
    return -1;
}
