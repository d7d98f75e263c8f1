/* fuzz/creds_json.c: the credentials JSON of credential_process, container
 * endpoints and EC2 instance metadata (creds_parse_json), and the
 * credential_process command-line splitter, on arbitrary bytes. The first
 * byte picks the kind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 3;
    aws_creds c = {0};
    char err[200];
    if (creds_parse_json((const char *)data + 1, size - 1, kind, &c, err, sizeof err) == 0) {
        if (!c.access_key || !*c.access_key || !c.secret_key || !*c.secret_key)
            abort();
        if (kind != CREDS_JSON_PROCESS && !c.session_token)
            abort();
    }
    aws_creds_clear(&c);
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    char **argv;
    int argc = creds_split_command(s, &argv);
    if (argc > 0) {
        for (int i = 0; i < argc; i++)
            if (!argv[i])
                abort();
        if (argv[argc])
            abort();
        free(argv);
    }
    free(s);
    return 0;
}
