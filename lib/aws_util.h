/* aws_util.h: the small helpers that the AWS configuration (aws_config.c)
 * and the credential providers (creds.c) share: how they read small files,
 * report a reason, and drop a secret string. The environment they read
 * through cli_env (cli.h): unset and empty alike, as the AWS CLI does.
 * Never prints.
 */
#ifndef ORA_AWS_UTIL_H
#define ORA_AWS_UTIL_H

#include <stddef.h>

#include "buf.h"


/* Formats a one-line reason into err (n bytes, truncated to fit). */
void aws_seterr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Wipes the string s (a key or token) and frees it; NULL is a no-op. */
void aws_wipe_free(char *s);

/* Appends the whole file at path to b (make b secret when the file may
 * hold a key). Returns 0, or -1 with errno: the open's or read's, ENOMEM,
 * or EFBIG once more than max bytes are in b. */
int aws_read_file(const char *path, ora_buf *b, size_t max);

#endif
