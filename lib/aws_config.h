/* aws_config.h: profile, region, endpoints, CA bundle and the credential
 * provider, resolved as the AWS CLI and SDKs resolve them (doc/design.md §5,
 * issue 16). Reads the environment and the shared files; the only network
 * use is the EC2 metadata region, when nothing else names a region.
 * Never prints.
 *
 * Profile: opts.profile (--profile), else AWS_PROFILE, else
 *   AWS_DEFAULT_PROFILE, else "default". Its keys come from the shared
 *   credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 *   ~/.aws/credentials, [NAME]) and the config file (AWS_CONFIG_FILE,
 *   default ~/.aws/config, [profile NAME] or [default]); the credentials
 *   file wins for a key set in both. A named profile found in neither file
 *   is an error.
 * Region: opts.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 *   region, then EC2 instance metadata (placement/region) unless
 *   AWS_EC2_METADATA_DISABLED=true.
 * Endpoint: opts.endpoint_url, AWS_ENDPOINT_URL_<SERVICE>,
 *   AWS_ENDPOINT_URL, the profile's endpoint_url, else
 *   https://<service>.<region>.amazonaws.com (.com.cn in cn- regions).
 *   STS the same way (AWS_ENDPOINT_URL_STS; regional by default).
 *   Plain http is refused unless the host is a loopback address or
 *   opts.allow_insecure is set: the session token would travel in clear.
 * CA bundle: AWS_CA_BUNDLE, else the profile's ca_bundle.
 * Credentials: creds.h (the chain); aws_config_load only picks the
 *   provider.
 */
#ifndef ORA_AWS_CONFIG_H
#define ORA_AWS_CONFIG_H

#include <stddef.h>

#include "creds.h"

typedef struct aws_config_opts {
    const char *profile;       /* explicit profile (--profile) or NULL */
    const char *region;        /* --region or NULL */
    const char *endpoint_url;  /* --endpoint-url or NULL */
    const char *service;       /* "kinesis" */
    const char *service_env;   /* "KINESIS" (for AWS_ENDPOINT_URL_KINESIS) */
    double timeout;            /* credential calls, seconds (0: 5) */
    int allow_insecure;        /* --allow-insecure-endpoint */
} aws_config_opts;

typedef struct aws_config {
    char *region;
    char *endpoint;            /* URL */
    char *sts_endpoint;        /* URL */
    char *profile;             /* profile consulted */
    char *ca_bundle;           /* NULL: the system's */
    creds_provider *creds;     /* the chosen provider (owned) */
    char endpoint_source[64];  /* e.g. "--endpoint-url", "AWS_ENDPOINT_URL" */
    char region_source[64];    /* e.g. "AWS_REGION", "EC2 instance metadata" */
} aws_config;

/* Resolves everything into c (zeroed by the call). Returns 0, or -1 with a
 * one-line reason in err (no secrets in it) and c freed. */
int aws_config_load(aws_config *c, const aws_config_opts *o, char *err, size_t errlen);
void aws_config_free(aws_config *c);

/* One profile's keys, from both shared files. Strings are NULL when unset;
 * secret and token are wiped when freed. */
typedef struct aws_profile {
    int found;
    char where[200];           /* the file(s) it was found in */
    char *key_id, *secret, *token, *region, *endpoint, *ca_bundle;
    char *role_arn, *source_profile, *credential_source, *external_id, *role_session_name,
        *web_identity_token_file, *credential_process, *duration_seconds, *mfa_serial;
    char sso[32];              /* the first sso_* key seen, or "" */
} aws_profile;

/* Loads profile name. Returns 0 (p->found says whether it exists), or -1
 * with err when a file cannot be read. */
int aws_profile_load(const char *name, aws_profile *p, char *err, size_t errlen);
void aws_profile_free(aws_profile *p);

/* Puts "profile NAME not found in <credentials file> or <config file>"
 * into err: the reason for a named profile that aws_profile_load did not
 * find. */
void aws_profile_not_found(const char *name, char *err, size_t errlen);

/* The shared files' paths (environment, else under $HOME). */
void aws_shared_paths(char *cred, size_t cn, char *conf, size_t fn);

/* Parses INI text (a shared file): calls kv for every key = value of
 * section want ("[want]"; in a config file, is_config, "[profile want]" or,
 * for "default", "[default]"). Nested (indented) sub-keys are skipped.
 * Returns 1 when the section exists, else 0. Pure; fuzzed. */
int aws_ini_parse(const char *text, size_t len, const char *want, int is_config,
                  void (*kv)(void *ctx, const char *k, size_t kl, const char *v, size_t vl), void *ctx);

/* Splits an http(s) URL: host[:port] into host (NUL-terminated) and the
 * path ("/" when none) into path. Returns 0, or -1 when url is not
 * http:// or https:// with a non-empty host, or a buffer is too small. */
int aws_url_split(const char *url, char *host, size_t hn, char *path, size_t pn);

#endif
