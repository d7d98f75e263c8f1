/* fuzz/creds_sts.c: the STS response parser (sts_parse, lib/creds_parse.c)
 * and the ISO 8601 time parser on arbitrary bytes: STS answers come from
 * the network. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aws_creds c = {0};
    char err[300];
    if (sts_parse((const char *)data, size, &c, err, sizeof err) == 0) {
        if (!c.access_key || !*c.access_key || !c.secret_key || !*c.secret_key || !c.session_token)
            abort();
    } else if (strlen(err) >= sizeof err) {
        abort();
    }
    aws_creds_clear(&c);
    time_t t;
    aws_time_parse((const char *)data, size, &t);
    return 0;
}
