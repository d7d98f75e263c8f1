/* aws_config.h: credentials, region and endpoint resolved as the AWS CLI
 * resolves them (design.md §5). Reads the environment and the shared
 * files; never prints.
 *
 * Credentials, first found wins:
 *   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *      unless a profile was given explicitly (opts.profile, like --profile);
 *   2. the profile's aws_access_key_id/aws_secret_access_key/
 *      aws_session_token in the shared credentials file
 *      (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials, [NAME]);
 *   3. the same keys in the config file (AWS_CONFIG_FILE, default
 *      ~/.aws/config, [profile NAME] or [default]).
 *   The profile is opts.profile, else AWS_PROFILE, else AWS_DEFAULT_PROFILE,
 *   else "default". A named profile found in neither file is an error, as
 *   are profiles that need an STS/SSO/process provider (not supported).
 * Region: opts.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region.
 * Endpoint: opts.endpoint_url, AWS_ENDPOINT_URL_<SERVICE>,
 *   AWS_ENDPOINT_URL, the profile's endpoint_url, else
 *   https://<service>.<region>.amazonaws.com (.com.cn in cn- regions).
 */
#ifndef ORA_AWS_CONFIG_H
#define ORA_AWS_CONFIG_H

#include <stddef.h>

typedef struct aws_config_opts {
    const char *profile;       /* explicit profile (--profile) or NULL */
    const char *region;        /* --region or NULL */
    const char *endpoint_url;  /* --endpoint-url or NULL */
    const char *service;       /* "kinesis" */
    const char *service_env;   /* "KINESIS" (for AWS_ENDPOINT_URL_KINESIS) */
} aws_config_opts;

typedef struct aws_config {
    char *access_key;
    char *secret_key;          /* secret: wiped by aws_config_free */
    char *session_token;       /* NULL when none; wiped */
    char *region;
    char *endpoint;            /* URL */
    char *profile;             /* profile consulted */
    char cred_source[96];      /* e.g. "environment", "profile foo in /x/credentials" */
    char endpoint_source[64];  /* e.g. "--endpoint-url", "AWS_ENDPOINT_URL" */
} aws_config;

/* Resolves everything into c (zeroed by the call). Returns 0, or -1 with a
 * one-line reason in err (no secrets in it) and c freed. */
int aws_config_load(aws_config *c, const aws_config_opts *o, char *err, size_t errlen);
void aws_config_free(aws_config *c);

/* Splits an http(s) URL: host[:port] into host (NUL-terminated) and the
 * path ("/" when none) into path. Returns 0, or -1 when url is not
 * http:// or https:// with a non-empty host, or a buffer is too small. */
int aws_url_split(const char *url, char *host, size_t hn, char *path, size_t pn);

#endif
