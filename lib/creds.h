/* creds.h: AWS credentials and the providers of the standard credential
 * chain, as the AWS SDKs resolve it (issue 16).
 *
 * The chain (creds_resolve picks the first configured provider; only the
 * last one, EC2 instance metadata, is a guess):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 *      [, AWS_SESSION_TOKEN] (skipped when a profile is given explicitly);
 *   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity;
 *   3. the profile (aws_config.h says which) in the shared files:
 *      static keys; role_arn with source_profile (chained, any depth) or
 *      credential_source (Environment, Ec2InstanceMetadata, EcsContainer)
 *      -> STS AssumeRole with external_id, role_session_name,
 *      duration_seconds; role_arn with web_identity_token_file;
 *      credential_process (run without a shell, with a time limit, its JSON
 *      validated); sso_* -> an error naming `aws sso login`;
 *   4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *      169.254.170.2), or AWS_CONTAINER_CREDENTIALS_FULL_URI (http only to
 *      loopback and the ECS/EKS hosts 169.254.170.2, 169.254.170.23,
 *      fd00:ec2::23), with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *   5. EC2 instance metadata, IMDSv2 (token by PUT, then the role, then its
 *      credentials); IMDSv1 only with AWS_EC2_METADATA_V1_DISABLED=false;
 *      none with AWS_EC2_METADATA_DISABLED=true; the endpoint from
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254).
 *
 * Secrets live in sodium_malloc memory (locked, guarded, wiped on free);
 * every temporary buffer that held one is wiped. Nothing here prints.
 */
#ifndef ORA_CREDS_H
#define ORA_CREDS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

typedef struct aws_creds {
    char *mem;                 /* sodium_malloc block holding the three strings */
    size_t memlen;
    const char *access_key;    /* into mem */
    const char *secret_key;    /* into mem */
    const char *session_token; /* into mem, or NULL */
    time_t expires;            /* 0: does not expire */
} aws_creds;

/* Sets c (cleared first) to copies of the strings (tok may be NULL or
 * empty: no token). 0, or -1 (ENOMEM, or EINVAL for an empty key). */
int aws_creds_set(aws_creds *c, const char *ak, size_t akl, const char *sk, size_t skl, const char *tok,
                  size_t tl, time_t expires);
int aws_creds_copy(aws_creds *dst, const aws_creds *src);
/* Same keys and token. */
int aws_creds_same(const aws_creds *a, const aws_creds *b);
/* Wipes and frees; c is then empty. */
void aws_creds_clear(aws_creds *c);

/* ---- parsers of untrusted bytes (pure; fuzzed) --------------------------- */

/* ISO 8601 UTC time ("2026-11-26T14:00:00Z", fractions and +00:00 taken).
 * 0 and *t, or -1. */
int aws_time_parse(const char *s, size_t n, time_t *t);

/* An STS AssumeRole / AssumeRoleWithWebIdentity response body: 0 and the
 * credentials in out, or -1 with err ("Code: message" of an ErrorResponse,
 * or what is missing). */
int sts_parse(const char *body, size_t len, aws_creds *out, char *err, size_t errlen);

enum creds_json { CREDS_JSON_PROCESS, CREDS_JSON_CONTAINER, CREDS_JSON_IMDS };
/* The JSON of credential_process (Version 1, AccessKeyId, SecretAccessKey
 * [, SessionToken, Expiration]), of a container endpoint (AccessKeyId,
 * SecretAccessKey, Token, Expiration) or of EC2 metadata (the same with
 * Code "Success"). 0, or -1 with err (never a secret in it). */
int creds_parse_json(const char *body, size_t len, int kind, aws_creds *out, char *err, size_t errlen);

/* Splits a credential_process command line into argv as a POSIX shell
 * would split words (single and double quotes, backslash), with no
 * expansion of any kind. Returns argc and *argv (one allocation: free
 * *argv), or -1 (unbalanced quote, empty, ENOMEM). */
int creds_split_command(const char *cmd, char ***argv);

/* Appends name=value, form-urlencoded (with '&' before unless first), to b. */
int aws_form_append(ora_buf *b, int first, const char *name, const char *value);

/* ---- providers ----------------------------------------------------------- */

typedef struct creds_provider creds_provider;

typedef struct creds_opts {
    const char *profile;       /* explicit (--profile), or NULL */
    const char *region;        /* resolved region (for STS), or NULL */
    const char *sts_endpoint;  /* STS URL (aws_config resolves it) */
    const char *ca_bundle;     /* for https, or NULL */
    double timeout;            /* per STS/metadata call and credential_process, seconds */
    int allow_insecure;        /* plain http to a non-loopback STS */
} creds_opts;

/* Picks the provider as the chain says, reading the environment and the
 * shared files but no network. Returns 0 and *out, or -1 with a one-line
 * reason in err (a configuration error: exit 78). */
int creds_resolve(const creds_opts *o, creds_provider **out, char *err, size_t errlen);

/* Fetches credentials (blocking: network, files, a process). Returns 0 and
 * out; -1 with err when it may work later (network, time-out, 5xx: retry
 * with backoff); -2 when it cannot work without a change of configuration
 * (a token file missing, a process's bad output, STS AccessDenied). */
int creds_fetch(creds_provider *p, aws_creds *out, char *err, size_t errlen);

/* What serves the credentials, for logs: "environment", "web identity,
 * role arn:...", "profile prod (assume role arn:... from profile base)",
 * "credential_process of profile p", "container credentials
 * (http://...)", "EC2 instance metadata (IMDSv2, role NAME)". No secrets. */
const char *creds_describe(const creds_provider *p);

/* Nonzero for providers whose credentials never change by themselves
 * (environment variables). */
int creds_is_static(const creds_provider *p);

/* What fetching reaches once a stage is confined (sandbox.h), along the
 * chain of sources: files read again (the shared files of a static
 * profile, token files), the credential_process command, and the URLs it
 * connects to (STS, the container endpoint, instance metadata). Strings
 * point into p. */
typedef struct creds_reach {
    const char *files[4];
    const char *command;
    const char *urls[4];
    int shared_files;          /* re-reads the shared config/credentials files */
} creds_reach;
void creds_reach_of(const creds_provider *p, creds_reach *r);

void creds_free(creds_provider *p);

/* The region from EC2 instance metadata (placement/region), honouring the
 * same variables as the provider. 0 and region, or -1 with err. */
int imds_region(const creds_opts *o, char *region, size_t rn, char *err, size_t errlen);

#endif
