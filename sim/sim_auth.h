/* sim_auth.h: the HTTPS token endpoint of ora-sim (doc/design.md §2: a GET to
 * the auth URL with a client certificate returns a JWT as the body).
 *
 * GET /auth or /token answers 200 with an HS256 token signed with the
 * server's key, whose subject is the client certificate's common name and
 * which expires after opts.token_ttl; anything else 400, 404, 405 or 431;
 * the first opts.faults.auth_fail requests 503. One request per
 * connection. The token never appears in a diagnostic.
 */
#ifndef ORA_SIM_AUTH_H
#define ORA_SIM_AUTH_H

#include "sim_conn.h"

/* Reads one request on c (after the handshake) and answers it. SR_CLOSE
 * when answered, SR_ERR when the client went away. */
int sim_auth_serve(sim_conn *c);

#endif
