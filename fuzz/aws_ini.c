/* fuzz/aws_ini.c: the shared config/credentials file parser
 * (aws_ini_parse, lib/aws_config.c) on arbitrary bytes. The first byte
 * picks credentials or config syntax; keys and values handed to the
 * callback must lie inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aws_config.h"

static const char *lo, *hi;

static void kv(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
    (void)ctx;
    if (k < lo || k + kl > hi || v < lo || v + vl > hi || kl == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    lo = (const char *)data + 1;
    hi = (const char *)data + size;
    aws_ini_parse(lo, size - 1, "default", data[0] & 1, kv, NULL);
    aws_ini_parse(lo, size - 1, "prod", data[0] & 1, kv, NULL);
    return 0;
}
