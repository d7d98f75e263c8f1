/* auth_test: token checks and failure kinds of lib/auth (the HTTPS exchange
 * itself is tested against ora-sim in tests/connect.bats). */
#include "auth.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

static size_t J(const char *s) { return ora_jwt_check(s, strlen(s)); }

int main(void)
{
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    CHECK(J("aaa.bbb.ccc") == 11);
    CHECK(J("aaa.bbb.ccc\n") == 11);
    CHECK(J("aaa.bbb.ccc\r\n \t") == 11);
    CHECK(J("") == 0);
    CHECK(J("\n") == 0);
    CHECK(J("aaa bbb") == 0);
    CHECK(J(" aaa") == 0);
    CHECK(J("aaa\x7f") == 0);
    CHECK(J("a\xc3\xa9") == 0);
    CHECK(ora_jwt_check("ab\0cd", 5) == 0);

    /* What may be logged of a URL: no user information, query or fragment. */
    char shown[256];
    CHECK(strcmp(ora_auth_display_url("https://user:pw@auth.example.com:8443/auth?key=s3cret#frag", shown,
                                      sizeof shown), "https://auth.example.com:8443/auth") == 0);
    CHECK(strcmp(ora_auth_display_url("https://127.0.0.1/auth", shown, sizeof shown), "https://127.0.0.1/auth") == 0);
    CHECK(strcmp(ora_auth_display_url("https://[::1]:9/a/b?x", shown, sizeof shown), "https://[::1]:9/a/b") == 0);
    CHECK(strcmp(ora_auth_display_url("no url here", shown, sizeof shown), "(unparsable URL)") == 0);

    ora_jwt jwt = {NULL, 0};
    ora_jwt_clear(&jwt);   /* safe when empty */
    CHECK(jwt.p == NULL && jwt.len == 0);

    char err[512];
    ora_auth_cfg cfg = {.url = "http://u:secret@127.0.0.1:1/auth?token=secret", .cert = "/nonexistent.pem",
                        .key = "/nonexistent.key", .cacert = "/nonexistent-ca.pem", .connect_timeout = 1,
                        .timeout = 2};
    /* Only https. */
    CHECK(ora_auth_fetch(&cfg, &jwt, err, sizeof err) == ORA_AUTH_E_CONFIG);
    CHECK(strstr(err, "http://127.0.0.1:1/auth") != NULL);
    CHECK(strstr(err, "secret") == NULL);
    CHECK(jwt.p == NULL);
    /* Nobody listens: a network failure, to be retried. */
    cfg.url = "https://127.0.0.1:1/auth";
    int k = ora_auth_fetch(&cfg, &jwt, err, sizeof err);
    CHECK(k == ORA_AUTH_E_NET || k == ORA_AUTH_E_CONFIG);
    CHECK(jwt.p == NULL);
    /* Cancelled before it starts. */
    volatile sig_atomic_t stop = 1;
    cfg.cancel = &stop;
    k = ora_auth_fetch(&cfg, &jwt, err, sizeof err);
    CHECK(k != ORA_AUTH_OK);
    CHECK(strcmp(ora_auth_kind_name(ORA_AUTH_E_REJECTED), "rejected") == 0);
    CHECK(strcmp(ora_auth_kind_name(-1), "unknown") == 0);
    curl_global_cleanup();
    return unit_summary("auth_test");
}
