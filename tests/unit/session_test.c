/* session_test: ORA session messages, parsed and built (lib/smsg.h), and
 * ora-connect's session state machine (lib/session.h), driven by
 * tests/fixtures/ora-messages.jsonl (hand-written from the protocol, doc/design.md §2) and
 * by hostile hand-made frames. */
#include "session.h"
#include "smsg.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ora.h"
#include "record.h"

#include "unit.h"
#include "unit_gz.h"

static ora_smsg P(const char *s)
{
    ora_smsg m;
    int rc = ora_smsg_parse((const uint8_t *)s, strlen(s), &m);
    if (rc != 0)
        m.type = -100;  /* marks "not an object" for the checks below */
    return m;
}

static int parse_rc(const char *s)
{
    ora_smsg m;
    return ora_smsg_parse((const uint8_t *)s, strlen(s), &m);
}

static void test_fixtures(void)
{
    char path[4096];
    const char *top = getenv("ORA_TOP");
    snprintf(path, sizeof path, "%s/tests/fixtures/ora-messages.jsonl", top ? top : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        /* build/unit/... run from the top directory by make unit. */
        f = fopen("tests/fixtures/ora-messages.jsonl", "r");
    }
    CHECK(f != NULL);
    if (!f)
        return;
    char line[8192];
    int session = 0, data = 0;
    while (fgets(line, sizeof line, f)) {
        ora_smsg m;
        size_t n = strcspn(line, "\n");
        CHECK(ora_smsg_parse((const uint8_t *)line, n, &m) == 0);
        cJSON *j = cJSON_ParseWithLength(line, n);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
        if (cJSON_IsString(t)) {
            session++;
            CHECK(m.type == ora_session_lookup(t->valuestring, strlen(t->valuestring)));
            CHECK(m.type != ORA_S_NONE);
            CHECK(!m.bad);
            /* built again from what was parsed, it is the fixture's message */
            ora_sinit in;
            memset(&in, 0, sizeof in);
            const char *offs[ORA_SINIT_MAX_OFFERINGS];
            ora_smsg_args a = {.type = m.type, .offset = m.offset, .id = m.id, .code = m.code};
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, ora_session_body(m.type)), "message");
            a.message = cJSON_IsString(msg) ? m.text : NULL;
            if (m.type == ORA_S_INITIALIZE) {
                CHECK(ora_smsg_initialize((const uint8_t *)line, n, &in) == 0);
                for (size_t i = 0; i < in.n_offerings; i++)
                    offs[i] = in.offerings[i];
                a.offerings = offs;
                a.n_offerings = in.n_offerings;
                a.token = in.token;
            }
            ora_buf b = ORA_BUF_INIT;
            CHECK(ora_smsg_build(&a, &b) == 0);
            cJSON *again = cJSON_ParseWithLength((const char *)b.p, b.len);
            CHECK(cJSON_Compare(j, again, 1));
            cJSON_Delete(again);
            ora_buf_free(&b);
            ora_sinit_free(&in);
        } else {
            data++;
            CHECK(m.type == ORA_S_NONE);
            CHECK(m.offset == (int64_t)cJSON_GetObjectItemCaseSensitive(j, "offset")->valuedouble);
        }
        cJSON_Delete(j);
    }
    fclose(f);
    CHECK(session == 10);
    CHECK(data >= 18);
}

static void test_parse(void)
{
    ora_smsg m;
    m = P("{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"17\"}}");
    CHECK(m.type == ORA_S_PING && strcmp(m.id, "\"17\"") == 0 && !m.bad);
    m = P(" { \"sessionPing\" : { \"id\" : 42 } , \"type\" : \"SESSION_PING\" } \n");
    CHECK(m.type == ORA_S_PING && strcmp(m.id, "42") == 0);
    m = P("{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"a\\\"b\\u0001\"}}");
    CHECK(m.type == ORA_S_PING && !m.bad && strcmp(m.id, "\"a\\\"b\\u0001\"") == 0);
    m = P("{\"type\":\"SESSION_PING\",\"sessionPing\":{}}");
    CHECK(m.type == ORA_S_PING && m.bad && m.id[0] == 0);
    m = P("{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":{\"x\":1}}}");
    CHECK(m.type == ORA_S_PING && m.bad);
    char big[600];
    snprintf(big, sizeof big, "{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"%0300d\"}}", 7);
    m = P(big);
    CHECK(m.type == ORA_S_PING && m.bad && m.id[0] == 0);

    m = P("{\"type\":\"SESSION_ERROR\",\"sessionError\":{\"code\":\"OFFSET_TOO_OLD\",\"message\":\"x\\ny\"}}");
    CHECK(m.type == ORA_S_ERROR && !m.bad && strcmp(m.code, "OFFSET_TOO_OLD") == 0 && strcmp(m.text, "x?y") == 0);
    m = P("{\"type\":\"SESSION_ERROR\",\"sessionError\":{\"code\":7}}");
    CHECK(m.type == ORA_S_ERROR && m.bad);
    m = P("{\"type\":\"SESSION_ERROR\"}");
    CHECK(m.type == ORA_S_ERROR && m.bad);

    m = P("{\"type\":\"SESSION_REPLAY_COMPLETED\",\"sessionReplayCompleted\":{\"offset\":2000}}");
    CHECK(m.type == ORA_S_REPLAY_COMPLETED && m.offset == 2000);
    m = P("{\"type\":\"SESSION_SNAPSHOT_COMPLETED\",\"sessionSnapshotCompleted\":{\"offset\":-3}}");
    CHECK(m.type == ORA_S_SNAPSHOT_COMPLETED && m.offset == -1);
    m = P("{\"type\":\"SESSION_SNAPSHOT_COMPLETED\",\"sessionSnapshotCompleted\":{}}");
    CHECK(m.type == ORA_S_SNAPSHOT_COMPLETED && m.offset == -1);

    /* Unknown session types are flagged, other "type" values are data. */
    m = P("{\"type\":\"SESSION_REBOOT\"}");
    CHECK(m.type == ORA_S_NONE && m.bad);
    m = P("{\"type\":\"SESSION_PINGX\",\"offset\":3}");
    CHECK(m.type == ORA_S_NONE && m.bad);
    m = P("{\"type\":\"TEAM\",\"offset\":9}");
    CHECK(m.type == ORA_S_NONE && !m.bad && m.offset == 9);
    m = P("{\"type\":7,\"offset\":9}");
    CHECK(m.type == ORA_S_NONE && m.offset == 9);
    /* A nested "type" or a SESSION_ string inside data is not a session message. */
    m = P("{\"offset\":5,\"eventAdded\":{\"type\":\"SESSION_PING\",\"x\":[\"}\",{\"type\":\"SESSION_WELCOME\"}]}}");
    CHECK(m.type == ORA_S_NONE && !m.bad && m.offset == 5);
    m = P("{\"eventAdded\":{\"offset\":3},\"offset\":12345678901234}");
    CHECK(m.type == ORA_S_NONE && m.offset == 12345678901234);
    /* Offsets that are not plain non-negative integers are unknown. */
    CHECK(P("{\"offset\":-1}").offset == -1);
    CHECK(P("{\"offset\":1.5}").offset == -1);
    CHECK(P("{\"offset\":1e3}").offset == -1);
    CHECK(P("{\"offset\":\"12\"}").offset == -1);
    CHECK(P("{\"offset\":99999999999999999999}").offset == -1);
    CHECK(P("{\"offset\":9223372036854775807}").offset == INT64_MAX);
    CHECK(P("{\"offset\":9223372036854775808}").offset == -1);
    CHECK(P("{}").type == ORA_S_NONE);
    CHECK(P("{\"a\":\"\\\\\",\"offset\":4}").offset == 4);

    /* Not an object, or cut off: -1. */
    const char *badv[] = {"", " ", "[]", "\"x\"", "{", "{\"type\"", "{\"type\":", "{\"type\":\"SESSION_PING\"",
                          "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1} x", "{\"a\":{\"b\":[1,2}", "{\"a\":\"\\",
                          "{a:1}", "{\"a\":}", "{\"a\":1 \"b\":2}", "null", "{\"offset\":1}}"};
    for (size_t i = 0; i < sizeof badv / sizeof *badv; i++) {
        CHECK(parse_rc(badv[i]) == -1);
        ora_smsg x;
        ora_smsg_parse((const uint8_t *)badv[i], strlen(badv[i]), &x);
        CHECK(x.type == ORA_S_NONE && x.offset == -1);
    }
    /* A session type whose body is malformed JSON inside is bad, not fatal. */
    m = P("{\"type\":\"SESSION_ERROR\",\"sessionError\":{\"code\":\"X\",\"message\":tru}}");
    CHECK(m.type == ORA_S_ERROR && m.bad);
    /* Embedded NUL in a frame. */
    static const uint8_t nul[] = "{\"offset\":3,\"a\":\"x\0y\"}";
    CHECK(ora_smsg_parse(nul, sizeof nul - 1, &m) == 0 && m.offset == 3);
}

static ora_sact on(ora_sess *s, const char *json)
{
    static ora_smsg m;   /* outlives the call: a.id points into it */
    CHECK(ora_smsg_parse((const uint8_t *)json, strlen(json), &m) == 0);
    return ora_session_on(s, &m);
}

#define WELCOME "{\"type\":\"SESSION_WELCOME\",\"sessionWelcome\":{}}"
#define INITIALIZED "{\"type\":\"SESSION_INITIALIZED\",\"sessionInitialized\":{}}"
#define SNAPDONE(n) "{\"type\":\"SESSION_SNAPSHOT_COMPLETED\",\"sessionSnapshotCompleted\":{\"offset\":" #n "}}"
#define REPLDONE(n) "{\"type\":\"SESSION_REPLAY_COMPLETED\",\"sessionReplayCompleted\":{\"offset\":" #n "}}"
#define ERR(c) "{\"type\":\"SESSION_ERROR\",\"sessionError\":{\"code\":\"" c "\"}}"
#define PING "{\"type\":\"SESSION_PING\",\"sessionPing\":{\"id\":\"p1\"}}"

static void test_machine(void)
{
    ora_sess s = {0};
    s.last_offset = -1;
    ora_sact a;

    /* Snapshot path (no checkpoint). */
    ora_session_start(&s, -1, 0);
    a = on(&s, PING);
    CHECK(a.kind == ORA_A_SEND_PONG && a.id && strcmp(a.id, "\"p1\"") == 0);
    CHECK(on(&s, "{\"offset\":1,\"eventAdded\":{}}").reason != NULL);   /* data too early */
    CHECK(on(&s, INITIALIZED).kind == ORA_A_RECONNECT);
    ora_session_start(&s, -1, 0);
    CHECK(on(&s, WELCOME).kind == ORA_A_SEND_INITIALIZE);
    CHECK(on(&s, WELCOME).kind == ORA_A_RECONNECT);
    ora_session_start(&s, -1, 0);
    CHECK(on(&s, WELCOME).kind == ORA_A_SEND_INITIALIZE);
    CHECK(s.phase == ORA_SP_INIT);
    a = on(&s, INITIALIZED);
    CHECK(a.kind == ORA_A_SEND_SNAPSHOT && s.flow == ORA_FLOW_SNAPSHOT);
    a = on(&s, "{\"offset\":70,\"eventAdded\":{}}");
    CHECK(a.kind == ORA_A_NONE && a.reason == NULL && s.last_offset == 70);
    on(&s, "{\"offset\":30,\"eventAdded\":{}}");
    CHECK(s.last_offset == 70);
    CHECK(on(&s, REPLDONE(80)).reason != NULL);   /* not before the snapshot completes */
    CHECK(s.flow == ORA_FLOW_SNAPSHOT);
    a = on(&s, SNAPDONE(100));
    CHECK(a.kind == ORA_A_NONE && a.reason == NULL && s.flow == ORA_FLOW_REPLAY && s.last_offset == 100);
    a = on(&s, REPLDONE(150));
    CHECK(a.kind == ORA_A_HEALTHY && a.offset == 150 && s.flow == ORA_FLOW_REALTIME);
    a = on(&s, PING);
    CHECK(a.kind == ORA_A_SEND_PONG);
    CHECK(s.pings == 2);
    CHECK(on(&s, "{\"type\":\"SESSION_PONG\",\"sessionPong\":{}}").reason != NULL);
    CHECK(on(&s, "{\"type\":\"SESSION_WAT\"}").reason != NULL);

    /* Replay path from a checkpoint; OFFSET_TOO_OLD falls back to a snapshot. */
    ora_session_start(&s, 1234, 0);
    CHECK(on(&s, WELCOME).kind == ORA_A_SEND_INITIALIZE);
    a = on(&s, INITIALIZED);
    CHECK(a.kind == ORA_A_SEND_REPLAY && a.offset == 1234 && s.flow == ORA_FLOW_REPLAY);
    a = on(&s, ERR("OFFSET_TOO_OLD"));
    CHECK(a.kind == ORA_A_SEND_SNAPSHOT && s.flow == ORA_FLOW_SNAPSHOT && s.checkpoint == -1);
    CHECK(on(&s, ERR("OFFSET_TOO_OLD")).kind == ORA_A_RECONNECT);   /* not twice */

    /* OFFSET_TOO_OLD before any replay is a protocol violation. */
    ora_session_start(&s, 5, 0);
    CHECK(on(&s, ERR("OFFSET_TOO_OLD")).kind == ORA_A_RECONNECT);

    /* INVALID_TOKEN at any phase: new JWT. */
    ora_session_start(&s, 5, 0);
    on(&s, WELCOME);
    a = on(&s, ERR("INVALID_TOKEN"));
    CHECK(a.kind == ORA_A_NEW_TOKEN && strcmp(a.reason, "INVALID_TOKEN") == 0);

    /* Configuration errors and unknown codes are fatal and name the code. */
    const char *fatal[] = {ERR("INVALID_PROTOCOL_VERSION"), ERR("INVALID_OFFERING"), ERR("SOMETHING_NEW"),
                           "{\"type\":\"SESSION_ERROR\",\"sessionError\":{}}"};
    const char *codes[] = {"INVALID_PROTOCOL_VERSION", "INVALID_OFFERING", "SOMETHING_NEW", "SESSION_ERROR without a code"};
    for (int i = 0; i < 4; i++) {
        ora_session_start(&s, -1, 0);
        on(&s, WELCOME);
        a = on(&s, fatal[i]);
        CHECK(a.kind == ORA_A_FATAL && a.reason && strcmp(a.reason, codes[i]) == 0);
    }

    /* --once: caught up at REPLAY_COMPLETED, then nothing but pongs. */
    ora_session_start(&s, 10, 1);
    on(&s, WELCOME);
    CHECK(on(&s, INITIALIZED).kind == ORA_A_SEND_REPLAY);
    a = on(&s, REPLDONE(99));
    CHECK(a.kind == ORA_A_CAUGHT_UP && a.offset == 99 && s.phase == ORA_SP_DONE);
    CHECK(on(&s, REPLDONE(100)).kind == ORA_A_NONE);
    CHECK(on(&s, ERR("INVALID_OFFERING")).kind == ORA_A_NONE);
    CHECK(on(&s, PING).kind == ORA_A_SEND_PONG);
    /* --once from a snapshot needs both completions. */
    ora_session_start(&s, -1, 1);
    on(&s, WELCOME);
    CHECK(on(&s, INITIALIZED).kind == ORA_A_SEND_SNAPSHOT);
    CHECK(on(&s, SNAPDONE(5)).kind == ORA_A_NONE);
    CHECK(on(&s, REPLDONE(7)).kind == ORA_A_CAUGHT_UP);
}

static cJSON *cmd(const ora_smsg_args *c)
{
    ora_buf b = ORA_BUF_INIT;
    int rc = ora_smsg_build(c, &b);
    cJSON *j = NULL;
    if (rc == 0)
        j = cJSON_ParseWithLength((const char *)b.p, b.len);
    ora_buf_free(&b);
    return j;
}

static const char *str_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, a), b);
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

static void test_commands(void)
{
    const char *offs[] = {"offering-se", "we\"ird\\\n"};
    ora_smsg_args c = {.type = ORA_S_INITIALIZE, .offerings = offs, .n_offerings = 2,
                       .token = "hdr.body.sig\"\x01", .offset = -1};
    cJSON *j = cmd(&c);
    CHECK(j != NULL);
    CHECK(strcmp(str_at(j, "type", NULL), "SESSION_INITIALIZE") == 0);
    CHECK(strcmp(str_at(j, "sessionInitialize", "protocolVersion"), "V1") == 0);
    CHECK(strcmp(str_at(j, "sessionInitialize", "token"), "hdr.body.sig\"\x01") == 0);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "sessionInitialize"), "offerings");
    CHECK(cJSON_GetArraySize(o) == 2 && strcmp(cJSON_GetArrayItem(o, 1)->valuestring, offs[1]) == 0);
    cJSON_Delete(j);
    c.n_offerings = 0;
    j = cmd(&c);
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "sessionInitialize"), "offerings")) == 0);
    cJSON_Delete(j);
    c.token = NULL;
    CHECK(cmd(&c) == NULL);

    ora_smsg_args r = {.type = ORA_S_REPLAY, .offset = 77};
    j = cmd(&r);
    CHECK(j && num_at(j, "sessionReplay", "offset") == 77);
    cJSON_Delete(j);
    r.offset = -1;
    CHECK(cmd(&r) == NULL);
    r.offset = ORA_OFFSET_MAX + 1;
    CHECK(cmd(&r) == NULL);
    ora_smsg_args sn = {.type = ORA_S_SNAPSHOT, .offset = -1};
    j = cmd(&sn);
    CHECK(j && strcmp(str_at(j, "type", NULL), "SESSION_SNAPSHOT") == 0 && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "sessionSnapshot")));
    cJSON_Delete(j);
    ora_smsg_args p = {.type = ORA_S_PONG, .offset = -1, .id = "\"17\""};
    j = cmd(&p);
    CHECK(j && strcmp(str_at(j, "sessionPong", "id"), "17") == 0);
    cJSON_Delete(j);
    p.id = "42";
    j = cmd(&p);
    CHECK(j && num_at(j, "sessionPong", "id") == 42);
    cJSON_Delete(j);
    p.id = "1},\"x\":{";   /* injection attempt */
    CHECK(cmd(&p) == NULL);
    p.id = NULL;
    j = cmd(&p);
    CHECK(j && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "sessionPong")));
    cJSON_Delete(j);
    ora_smsg_args bad = {.type = ORA_S_NONE};
    CHECK(cmd(&bad) == NULL);
    bad.type = ORA_S_COUNT;
    CHECK(cmd(&bad) == NULL);
}

/* The server's messages, as ora-sim sends them. */
static void test_server_messages(void)
{
    ora_smsg_args a = {.type = ORA_S_WELCOME};
    cJSON *j = cmd(&a);
    CHECK(j && strcmp(str_at(j, "type", NULL), "SESSION_WELCOME") == 0 &&
          cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "sessionWelcome")));
    cJSON_Delete(j);
    a.type = ORA_S_INITIALIZED;
    j = cmd(&a);
    CHECK(j && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "sessionInitialized")));
    cJSON_Delete(j);
    a = (ora_smsg_args){.type = ORA_S_SNAPSHOT_COMPLETED, .offset = 1000};
    j = cmd(&a);
    CHECK(j && num_at(j, "sessionSnapshotCompleted", "offset") == 1000);
    cJSON_Delete(j);
    a = (ora_smsg_args){.type = ORA_S_REPLAY_COMPLETED, .offset = ORA_OFFSET_MAX};
    j = cmd(&a);
    CHECK(j && num_at(j, "sessionReplayCompleted", "offset") == (double)ORA_OFFSET_MAX);
    cJSON_Delete(j);
    a.offset = -1;
    CHECK(cmd(&a) == NULL);
    a = (ora_smsg_args){.type = ORA_S_PING, .id = "\"3\""};
    j = cmd(&a);
    CHECK(j && strcmp(str_at(j, "sessionPing", "id"), "3") == 0);
    cJSON_Delete(j);
    a = (ora_smsg_args){.type = ORA_S_ERROR, .code = "OFFSET_TOO_OLD", .message = "offset \"12\" is old"};
    j = cmd(&a);
    CHECK(j && strcmp(str_at(j, "sessionError", "code"), "OFFSET_TOO_OLD") == 0 &&
          strcmp(str_at(j, "sessionError", "message"), "offset \"12\" is old") == 0);
    cJSON_Delete(j);
    a.message = NULL;
    j = cmd(&a);
    CHECK(j && !cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "sessionError"), "message"));
    cJSON_Delete(j);
    a.code = NULL;
    CHECK(cmd(&a) == NULL);
}

/* What a parser reads back is what was built, for every type. */
static void test_round_trip(void)
{
    const char *offs[] = {"offering-se", "offering-gb"};
    ora_smsg_args all[] = {
        {.type = ORA_S_WELCOME},
        {.type = ORA_S_INITIALIZE, .offerings = offs, .n_offerings = 2, .token = "a.b.c"},
        {.type = ORA_S_INITIALIZED},
        {.type = ORA_S_SNAPSHOT},
        {.type = ORA_S_SNAPSHOT_COMPLETED, .offset = 5},
        {.type = ORA_S_REPLAY, .offset = 6},
        {.type = ORA_S_REPLAY_COMPLETED, .offset = 7},
        {.type = ORA_S_PING, .id = "\"p9\""},
        {.type = ORA_S_PONG, .id = "10"},
        {.type = ORA_S_ERROR, .code = "INVALID_TOKEN", .message = "expired"},
    };
    CHECK(sizeof all / sizeof *all == ORA_S_COUNT - 1);
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        ora_buf b = ORA_BUF_INIT;
        CHECK(ora_smsg_build(&all[i], &b) == 0);
        ora_smsg m;
        CHECK(ora_smsg_parse(b.p, b.len, &m) == 0);
        CHECK(m.type == all[i].type && !m.bad);
        if (all[i].offset)
            CHECK(m.offset == all[i].offset);
        if (all[i].id)
            CHECK(strcmp(m.id, all[i].id) == 0);
        if (all[i].code)
            CHECK(strcmp(m.code, all[i].code) == 0 && strcmp(m.text, all[i].message) == 0);
        if (all[i].type == ORA_S_INITIALIZE) {
            ora_sinit in;
            CHECK(ora_smsg_initialize(b.p, b.len, &in) == 0);
            CHECK(in.has_version && strcmp(in.version, "V1") == 0 && in.n_offerings == 2 &&
                  strcmp(in.offerings[1], "offering-gb") == 0 && in.token && strcmp(in.token, "a.b.c") == 0);
            ora_sinit_free(&in);
        }
        ora_buf_free(&b);
    }
}

/* The client's messages as a server reads them (ora-sim). */
static void test_client_messages(void)
{
    ora_smsg m;
    m = P("{\"type\":\"SESSION_REPLAY\",\"sessionReplay\":{\"offset\":12}}");
    CHECK(m.type == ORA_S_REPLAY && !m.bad && m.offset == 12);
    const char *badoff[] = {"-1", "1.5", "\"3\"", "1e300", "null", "1e16"};
    for (size_t i = 0; i < sizeof badoff / sizeof *badoff; i++) {
        char j[128];
        snprintf(j, sizeof j, "{\"type\":\"SESSION_REPLAY\",\"sessionReplay\":{\"offset\":%s}}", badoff[i]);
        m = P(j);
        CHECK(m.type == ORA_S_REPLAY && m.bad && m.offset == -1);
    }
    m = P("{\"type\":\"SESSION_REPLAY\"}");
    CHECK(m.type == ORA_S_REPLAY && m.bad);
    m = P("{\"type\":\"SESSION_PONG\",\"sessionPong\":{\"id\":\"17\"}}");
    CHECK(m.type == ORA_S_PONG && !m.bad && strcmp(m.id, "\"17\"") == 0);
    m = P("{\"type\":\"SESSION_PONG\",\"sessionPong\":{\"id\":17}}");
    CHECK(m.type == ORA_S_PONG && strcmp(m.id, "17") == 0);
    m = P("{\"type\":\"SESSION_PONG\",\"sessionPong\":{}}");
    CHECK(m.type == ORA_S_PONG && m.bad && m.id[0] == 0);
    m = P("{\"type\":\"SESSION_SNAPSHOT\",\"sessionSnapshot\":{}}");
    CHECK(m.type == ORA_S_SNAPSHOT && !m.bad);
    m = P("{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":[]}");
    CHECK(m.type == ORA_S_INITIALIZE && m.bad);

    ora_sinit in;
    const char *init = "{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":{\"protocolVersion\":\"V1\","
                       "\"offerings\":[\"offering-se\",\"offering-gb\"],\"token\":\"t.o.k\"}}";
    CHECK(ora_smsg_initialize((const uint8_t *)init, strlen(init), &in) == 0);
    CHECK(in.has_version && strcmp(in.version, "V1") == 0);
    CHECK(in.has_offerings && in.n_offerings == 2 && strcmp(in.offerings[1], "offering-gb") == 0);
    CHECK(in.token && in.token_len == 5 && strcmp(in.token, "t.o.k") == 0 && !in.error);
    ora_sinit_free(&in);
    CHECK(in.token == NULL);
    const char *ill = "{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":{\"protocolVersion\":1,"
                      "\"offerings\":[\"a\",2]}}";
    CHECK(ora_smsg_initialize((const uint8_t *)ill, strlen(ill), &in) == 0);
    CHECK(!in.has_version && !in.has_offerings && !in.token && in.error);
    ora_sinit_free(&in);
    /* bounds: 65 offerings, a 64-byte name, a token over 8192 bytes */
    ora_buf b = ORA_BUF_INIT;
    ora_buf_printf(&b, "{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":{\"offerings\":[");
    for (int i = 0; i < 65; i++)
        ora_buf_printf(&b, "%s\"o%d\"", i ? "," : "", i);
    ora_buf_printf(&b, "],\"token\":\"");
    for (int i = 0; i < 8193; i++)
        ora_buf_append(&b, "x", 1);
    ora_buf_printf(&b, "\"}}");
    CHECK(ora_smsg_initialize(b.p, b.len, &in) == 0 && !in.has_offerings && !in.token);
    ora_sinit_free(&in);
    ora_buf_free(&b);
    const char *notinit[] = {"not json", "[1,2]", "{\"type\":\"SESSION_SNAPSHOT\",\"sessionInitialize\":{}}",
                             "{\"type\":\"SESSION_INITIALIZE\"}", "{\"type\":\"SESSION_INITIALIZE\",\"sessionInitialize\":7}"};
    for (size_t i = 0; i < sizeof notinit / sizeof *notinit; i++) {
        CHECK(ora_smsg_initialize((const uint8_t *)notinit[i], strlen(notinit[i]), &in) == -1 && in.error);
        ora_sinit_free(&in);
    }
}

static void test_frame(void)
{
    size_t sizes[] = {1, 50, 65531, 65532, 65535, 200000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        uint8_t *json = malloc(n);
        for (size_t k = 0; k < n; k++)
            json[k] = (uint8_t)(k * 31 + i);
        ora_buf w = ORA_BUF_INIT, plain = ORA_BUF_INIT;
        CHECK(ora_smsg_frame(json, n, &w) == 0);
        CHECK(ora_smsg_frame(json, n, &w) == 0);   /* two members back to back */
        size_t members = 0;
        CHECK(unit_gunzip(w.p, w.len, &plain, &members) == 0);
        CHECK(members == 2);
        CHECK(plain.len == 2 * (n + 4));
        for (int m = 0; m < 2 && plain.len == 2 * (n + 4); m++) {
            const uint8_t *f = plain.p + m * (n + 4);
            CHECK(((size_t)f[0] << 24 | (size_t)f[1] << 16 | (size_t)f[2] << 8 | f[3]) == n);
            CHECK(memcmp(f + 4, json, n) == 0);
        }
        free(json);
        ora_buf_free(&w);
        ora_buf_free(&plain);
    }
}

int main(void)
{
    test_fixtures();
    test_parse();
    test_machine();
    test_commands();
    test_server_messages();
    test_client_messages();
    test_round_trip();
    test_frame();
    return unit_summary("session_test");
}
