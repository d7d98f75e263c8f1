/* kinesis.h: the Kinesis PutRecords wire format (JSON 1.1): request body
 * building and response parsing. No I/O.
 *
 * Service limits (defaults of kinesis-put): 500 records and 5 MiB per
 * request (10 MiB allowed now), 1 MiB per record counting data and
 * partition key, partition key 1..256 Unicode characters.
 */
#ifndef ORA_KINESIS_H
#define ORA_KINESIS_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define KINESIS_MAX_RECORDS 500
#define KINESIS_MAX_RECORD_BYTES (1u << 20)
#define KINESIS_REQUEST_BYTES (5u << 20)
#define KINESIS_REQUEST_BYTES_MAX (10u << 20)
#define KINESIS_KEY_MAX_CHARS 256
#define KINESIS_TARGET "Kinesis_20131202.PutRecords"
#define KINESIS_CONTENT_TYPE "application/x-amz-json-1.1"

/* Unicode characters in a UTF-8 key, or -1 when it is not valid UTF-8. */
long kinesis_utf8_chars(const uint8_t *s, size_t n);

/* Body: {"StreamName":S,"Records":[{"Data":B64,"PartitionKey":K},...]}.
 * begin resets b; add appends one entry (first: nonzero for the first);
 * end closes. Each returns 0, or -1 ENOMEM. */
int kinesis_body_begin(ora_buf *b, const char *stream);
int kinesis_body_add(ora_buf *b, int first, const uint8_t *key, size_t klen,
                     const uint8_t *data, size_t dlen);
int kinesis_body_end(ora_buf *b);

/* Per-entry outcome of a PutRecords response. */
enum kinesis_entry { KINESIS_E_OK = 0, KINESIS_E_THROTTLED = 1, KINESIS_E_FAILED = 2 };

typedef struct kinesis_put_result {
    size_t failed;           /* entries not OK (throttled included) */
    size_t throttled;        /* ProvisionedThroughputExceededException */
    long failed_count;       /* FailedRecordCount as sent (-1 absent) */
    char error[160];         /* first entry error: "Code: message" */
} kinesis_put_result;

/* Parses a 200 response to a request of n entries: status[i] gets the
 * outcome of entry i. Returns 0, or -1 when the body is not a PutRecords
 * response for n entries (then the caller must treat all as failed). */
int kinesis_parse_put(const char *body, size_t len, size_t n, uint8_t *status,
                      kinesis_put_result *r);

/* How to react to a failed request. */
enum kinesis_class {
    KINESIS_C_RETRY = 0,      /* 5xx, internal errors, unknown: back off, retry */
    KINESIS_C_THROTTLE,       /* throttled: back off, retry */
    KINESIS_C_CREDENTIALS,    /* 403, expired/unrecognised/invalid signature */
    KINESIS_C_NOT_FOUND,      /* stream does not exist */
    KINESIS_C_FATAL           /* validation/serialization: our bug, do not retry */
};

/* Classifies an HTTP error response; type gets the error code
 * ("ExpiredTokenException", "" when none) and msg its message (both
 * truncated, NUL-terminated). */
int kinesis_classify_error(long http_status, const char *body, size_t len, char *type, size_t tn,
                           char *msg, size_t mn);

#endif
