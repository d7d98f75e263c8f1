/* sim_cmd.h: client commands as ora-sim receives them (design.md §2):
 * SESSION_INITIALIZE, SESSION_SNAPSHOT, SESSION_REPLAY, SESSION_PONG. The
 * bytes come from an untrusted peer: every field is checked for type and
 * bounded in size.
 */
#ifndef ORA_SIM_CMD_H
#define ORA_SIM_CMD_H

#include <stddef.h>
#include <stdint.h>

#define SIM_CMD_MAX_OFFERINGS 64
#define SIM_CMD_NAME_MAX 64        /* bytes of an offering name, NUL included */
#define SIM_CMD_VERSION_MAX 16
#define SIM_CMD_ID_MAX 128         /* ping id as compact JSON text, NUL included */
#define SIM_CMD_TOKEN_MAX 8192

typedef struct sim_cmd {
    int type;                      /* enum ora_session (ora.h); ORA_S_NONE if none */
    /* INITIALIZE */
    int has_version;
    char version[SIM_CMD_VERSION_MAX];
    int has_offerings;             /* "offerings" is an array of strings */
    size_t n_offerings;
    char offerings[SIM_CMD_MAX_OFFERINGS][SIM_CMD_NAME_MAX];
    char *token;                   /* malloc'd, NULL when absent or not a string */
    size_t token_len;
    /* REPLAY */
    int has_offset;
    int64_t offset;
    /* PONG: the "id" value as compact JSON text ("\"17\"" or 17); "" when absent */
    char id[SIM_CMD_ID_MAX];
    const char *error;             /* why a field is unusable (static), NULL when fine */
} sim_cmd;

/* Parses one frame (n bytes of JSON, not NUL-terminated) into *c, which it
 * initialises. Returns 0 when the frame is a JSON object with a string
 * "type"; then c->type says which (ORA_S_NONE for an unknown type) and
 * c->error names the first missing/ill-typed field of a known command, if
 * any. Returns -1 for anything else (c->error says why). Either way the
 * caller calls sim_cmd_free(c) afterwards. */
int sim_cmd_parse(const char *json, size_t n, sim_cmd *c);

/* Wipes and frees the token. */
void sim_cmd_free(sim_cmd *c);

#endif
