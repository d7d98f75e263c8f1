/* Fuzz target: client commands as ora-sim parses them (sim/sim_cmd.c), and
 * the token they carry through the JWT check (sim/jwt.c). */
#include "jwt.h"
#include "sim_cmd.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sim_cmd c;
    sim_cmd_parse((const char *)data, size, &c);
    if (c.token) {
        static const uint8_t key[32] = {1, 2, 3};
        int64_t exp;
        jwt_verify_hs256(key, sizeof key, c.token, c.token_len, 1796126400, &exp);
    }
    /* the raw bytes as a token too */
    static const uint8_t key2[8] = "k";
    jwt_verify_hs256(key2, sizeof key2, (const char *)data, size, 0, NULL);
    sim_cmd_free(&c);
    return 0;
}
