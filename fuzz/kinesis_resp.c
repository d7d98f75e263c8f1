/* fuzz/kinesis_resp.c: the PutRecords response parser and the error
 * classifier (lib/kinesis.c) on arbitrary bytes. The first byte picks the
 * number of request entries the response must describe. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kinesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = data[0] % 8;
    uint8_t status[8];
    kinesis_put_result r;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (kinesis_parse_put(body, len, n, status, &r) == 0) {
        size_t failed = 0;
        for (size_t i = 0; i < n; i++) {
            if (status[i] > KINESIS_E_FAILED)
                abort();
            failed += status[i] != KINESIS_E_OK;
        }
        if (failed != r.failed || r.throttled > r.failed || strlen(r.error) >= sizeof r.error)
            abort();
    }
    char type[96], msg[256];
    int c = kinesis_classify_error(400 + (long)(data[0] % 200), body, len, type, sizeof type, msg, sizeof msg);
    if (c < KINESIS_C_RETRY || c > KINESIS_C_FATAL || strlen(type) >= sizeof type || strlen(msg) >= sizeof msg)
        abort();
    for (const char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            abort();
    /* the UTF-8 counter and JSON escaper on the same bytes */
    long chars = kinesis_utf8_chars(data, size);
    if (chars > (long)size)
        abort();
    ora_buf b = ORA_BUF_INIT;
    if (ora_json_str(&b, (const char *)data, size) == 0 && (b.len < size + 2 || b.p[0] != '"' || b.p[b.len - 1] != '"'))
        abort();
    ora_buf_free(&b);
    return 0;
}
