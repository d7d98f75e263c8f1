/* fuzz/session: ora_smsg_parse() (lib/smsg.h) and the session state
 * machine (lib/session.h) on untrusted frames from the server. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "ora.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input is split at '\n' into frames fed to one session. */
    ora_sess s;
    memset(&s, 0, sizeof s);
    s.last_offset = -1;
    ora_session_start(&s, size & 1 ? 42 : -1, (int)(size & 2));
    const uint8_t *p = data, *e = data + size;
    while (p <= e) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        ora_smsg m;
        ora_smsg_parse(p, n, &m);
        ora_sact a = ora_session_on(&s, &m);
        if (a.kind == ORA_A_SEND_PONG) {
            ora_buf b = ORA_BUF_INIT, w = ORA_BUF_INIT;
            ora_smsg_args c = {.type = ORA_S_PONG, .id = a.id};
            if (ora_smsg_build(&c, &b) == 0)
                ora_smsg_frame(b.p, b.len, &w);
            ora_buf_free(&b);
            ora_buf_free(&w);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
