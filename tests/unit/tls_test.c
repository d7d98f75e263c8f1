/* tls_test: host name patterns of --verify-name (lib/tls.h). The TLS
 * connection itself is tested against ora-sim in tests/connect.bats. */
#include "tls.h"

#include <stdio.h>
#include <string.h>

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static int M(const char *pattern, const char *name)
{
    return ora_tls_name_match(pattern, name, strlen(name));
}

int main(void)
{
    /* Valid patterns. */
    const char *good[] = {"example.com", "*.kambi.com", "*.a.b.c", "localhost", "ora-sim.test",
                          "*.kambi.com.", "x_y.example.com", "A.B"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(ora_tls_pattern_valid(good[i]));
    const char *bad[] = {"", "*", "*.", "*.com", "*kambi.com", "a*.kambi.com", "a.*.com", "**.kambi.com",
                         "*.*.kambi.com", "kambi..com", ".kambi.com", "kambi.com..", "ex ample.com",
                         "exa\tmple.com", "*.kambi.com/x", "\xc3\xa9.com", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!ora_tls_pattern_valid(bad[i]));

    /* Wildcard patterns: one whole left label. */
    CHECK(M("*.kambi.com", "ora.kambi.com"));
    CHECK(M("*.kambi.com", "ORA-1.Kambi.COM"));
    CHECK(M("*.kambi.com", "ora.kambi.com."));
    CHECK(M("*.kambi.com.", "ora.kambi.com"));
    CHECK(M("*.kambi.com", "*.kambi.com"));          /* a wildcard certificate */
    CHECK(M("*.KAMBI.com", "*.kambi.COM"));
    CHECK(!M("*.kambi.com", "kambi.com"));
    CHECK(!M("*.kambi.com", "a.b.kambi.com"));
    CHECK(!M("*.kambi.com", ".kambi.com"));
    CHECK(!M("*.kambi.com", "evilkambi.com"));
    CHECK(!M("*.kambi.com", "ora.kambi.com.evil.com"));
    CHECK(!M("*.kambi.com", "ora.kambi.co"));
    CHECK(!M("*.kambi.com", "ora.kambi.comm"));
    CHECK(!M("*.kambi.com", "*.com"));
    CHECK(!M("*.kambi.com", "*.x.kambi.com"));
    CHECK(!M("*.kambi.com", "*"));
    CHECK(!M("*.kambi.com", "o*.kambi.com"));
    CHECK(!M("*.kambi.com", "ora.kambi.com "));
    CHECK(!M("*.kambi.com", ""));
    CHECK(!ora_tls_name_match("*.kambi.com", "ora.kambi.com\0.evil.com", 23));   /* embedded NUL */
    CHECK(ora_tls_name_match("*.kambi.com", "ora.kambi.comXX", 13));               /* length bounded */

    /* Plain names: exact, or covered by a wildcard certificate name. */
    CHECK(M("ora.kambi.com", "ora.kambi.com"));
    CHECK(M("ora.kambi.com", "ORA.kambi.com"));
    CHECK(M("ora.kambi.com", "*.kambi.com"));
    CHECK(!M("ora.kambi.com", "*.com"));
    CHECK(!M("kambi.com", "*.kambi.com"));
    CHECK(!M("a.ora.kambi.com", "*.kambi.com"));
    CHECK(!M("ora.kambi.com", "ora.kambi.com.evil"));
    CHECK(!M("ora.kambi.com", "xora.kambi.com"));
    CHECK(!M("bad pattern", "bad pattern"));

    CHECK(strcmp(ora_tls_kind_name(ORA_TLS_E_REJECTED), "rejected") == 0);
    CHECK(strcmp(ora_tls_kind_name(99), "unknown") == 0);

    if (fails) {
        fprintf(stderr, "tls_test: %d failures\n", fails);
        return 1;
    }
    printf("tls_test: ok\n");
    return 0;
}
