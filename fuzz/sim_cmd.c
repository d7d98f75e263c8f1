/* Fuzz target: client commands as ora-sim reads them (ora_smsg_parse and
 * ora_smsg_initialize, lib/smsg.c), and the token they carry through the
 * JWT check (sim/jwt.c). */
#include "jwt.h"
#include "ora.h"
#include "smsg.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ora_smsg m;
    ora_sinit in;
    memset(&in, 0, sizeof in);
    if (ora_smsg_parse(data, size, &m) == 0 && m.type == ORA_S_INITIALIZE)
        ora_smsg_initialize(data, size, &in);
    if (in.token) {
        static const uint8_t key[32] = {1, 2, 3};
        int64_t exp;
        jwt_verify_hs256(key, sizeof key, in.token, in.token_len, 1796126400, &exp);
    }
    /* the raw bytes as a token too */
    static const uint8_t key2[8] = "k";
    jwt_verify_hs256(key2, sizeof key2, (const char *)data, size, 0, NULL);
    ora_sinit_free(&in);
    return 0;
}
