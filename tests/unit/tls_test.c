/* tls_test: credential files read through a checked descriptor, and host
 * name patterns of --verify-name (lib/tls.h). The TLS connection itself is
 * tested against ora-sim in tests/connect.bats. */
#include "tls.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdio.h>
#include <string.h>

#include "unit.h"

static int M(const char *pattern, const char *name)
{
    return ora_tls_name_match(pattern, name, strlen(name));
}

/* ora_cred_read: what is read, what is refused and why (issue 15 item 7). */
static int cred(const char *path, unsigned flags, char *err, size_t n)
{
    ora_cred c;
    int rc = ora_cred_read("private key", path, flags, &c, err, n);
    ora_cred_free(&c);
    return rc;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void creds(void)
{
    char dir[] = "/tmp/tls_test.XXXXXX", path[256], link[256], big[256], err[512];
    CHECK(mkdtemp(dir) != NULL);
    if (sodium_init() < 0)
        abort();
    snprintf(path, sizeof path, "%s/k.pem", dir);
    snprintf(link, sizeof link, "%s/link.pem", dir);
    snprintf(big, sizeof big, "%s/big.pem", dir);
    write_file(path, "-----BEGIN PRIVATE KEY-----\nxyz\n", 0600);
    CHECK(symlink(path, link) == 0);

    ora_cred c;
    CHECK(ora_cred_read("private key", path, ORA_CRED_KEY, &c, err, sizeof err) == 0);
    CHECK(c.len == 32 && c.p[c.len] == 0 && memcmp(c.p, "-----BEGIN", 10) == 0 && c.secret);
    ora_cred_free(&c);
    CHECK(c.p == NULL && c.len == 0);
    ora_cred_free(&c);   /* twice: safe */

    /* a symbolic link: refused for a key (O_NOFOLLOW), followed for the rest */
    CHECK(cred(link, ORA_CRED_KEY, err, sizeof err) == -1 && strstr(err, "it is a symbolic link"));
    CHECK(ora_cred_read("CA file", link, 0, &c, err, sizeof err) == 0 && !c.secret && c.len == 32);
    ora_cred_free(&c);

    /* modes: any access for group or others, unless allowed */
    const mode_t bad[] = {0604, 0640, 0601, 0660, 0644};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        chmod(path, bad[i]);
        CHECK(cred(path, ORA_CRED_KEY, err, sizeof err) == ORA_CRED_E_MODE && strstr(err, "accessible by group or others"));
        CHECK(cred(path, ORA_CRED_KEY | ORA_CRED_ANY_MODE, err, sizeof err) == 0);
        CHECK(ora_cred_read("CA file", path, 0, &c, err, sizeof err) == 0);
        ora_cred_free(&c);
    }
    chmod(path, 0400);
    CHECK(cred(path, ORA_CRED_KEY, err, sizeof err) == 0);

    /* the OS's reasons, by name */
    CHECK(cred("/nonexistent/k.pem", ORA_CRED_KEY, err, sizeof err) == -1 &&
          strstr(err, "/nonexistent/k.pem: No such file or directory"));
    CHECK(ora_cred_read("CA file", dir, 0, &c, err, sizeof err) == -1 && strstr(err, "not a regular file"));
    CHECK(ora_cred_read("CA file", NULL, 0, &c, err, sizeof err) == -1 && strstr(err, "none given"));
    FILE *f = fopen(big, "w");
    for (unsigned i = 0; i <= ORA_CRED_MAX / 64; i++)
        fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
    fclose(f);
    CHECK(ora_cred_read("CA file", big, 0, &c, err, sizeof err) == -1 && strstr(err, "larger than"));

    /* owners: the running user or root */
    if (geteuid() == 0) {
        chmod(path, 0644);
        CHECK(chown(path, 1, 1) == 0);   /* daemon's */
        CHECK(cred(path, ORA_CRED_KEY | ORA_CRED_ANY_MODE, err, sizeof err) == -1 &&
              strstr(err, "it belongs to uid 1, neither to us (uid 0) nor to root"));
        /* as another user (nobody): root's key is fine, daemon's is not, its own is */
        CHECK(chown(path, 0, 0) == 0);
        chmod(dir, 0755);
        pid_t pid = fork();
        if (pid == 0) {
            int bad_rc = 0;
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
            if (cred(path, ORA_CRED_KEY | ORA_CRED_ANY_MODE, err, sizeof err) != 0)
                bad_rc = 3;
            _exit(bad_rc);
        }
        int st = -1;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    } else {
        printf("tls_test: not root: owner checks skipped\n");
    }
    unlink(big);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

/* Certificate name patterns and the names they cover (1) or not (0). */
static const struct { const char *pattern, *name; int match; } matches[] = {
    /* Wildcard patterns: one whole left label. */
    {"*.kambi.com", "ora.kambi.com", 1},
    {"*.kambi.com", "ORA-1.Kambi.COM", 1},
    {"*.kambi.com", "ora.kambi.com.", 1},
    {"*.kambi.com.", "ora.kambi.com", 1},
    {"*.kambi.com", "*.kambi.com", 1}, /* a wildcard certificate */
    {"*.KAMBI.com", "*.kambi.COM", 1},
    {"*.kambi.com", "kambi.com", 0},
    {"*.kambi.com", "a.b.kambi.com", 0},
    {"*.kambi.com", ".kambi.com", 0},
    {"*.kambi.com", "evilkambi.com", 0},
    {"*.kambi.com", "ora.kambi.com.evil.com", 0},
    {"*.kambi.com", "ora.kambi.co", 0},
    {"*.kambi.com", "ora.kambi.comm", 0},
    {"*.kambi.com", "*.com", 0},
    {"*.kambi.com", "*.x.kambi.com", 0},
    {"*.kambi.com", "*", 0},
    {"*.kambi.com", "o*.kambi.com", 0},
    {"*.kambi.com", "ora.kambi.com ", 0},
    {"*.kambi.com", "", 0},
    /* Plain names: exact, or covered by a wildcard certificate name. */
    {"ora.kambi.com", "ora.kambi.com", 1},
    {"ora.kambi.com", "ORA.kambi.com", 1},
    {"ora.kambi.com", "*.kambi.com", 1},
    {"ora.kambi.com", "*.com", 0},
    {"kambi.com", "*.kambi.com", 0},
    {"a.ora.kambi.com", "*.kambi.com", 0},
    {"ora.kambi.com", "ora.kambi.com.evil", 0},
    {"ora.kambi.com", "xora.kambi.com", 0},
    {"bad pattern", "bad pattern", 0},
};

int main(void)
{
    creds();
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

    /* Names against patterns. */
    for (size_t i = 0; i < UNIT_LEN(matches); i++)
        CHECKF(!M(matches[i].pattern, matches[i].name) == !matches[i].match, "%s against %s", matches[i].pattern,
               matches[i].name);
    /* Names held in a length, not a NUL. */
    CHECK(!ora_tls_name_match("*.kambi.com", "ora.kambi.com\0.evil.com", 23));   /* embedded NUL */
    CHECK(ora_tls_name_match("*.kambi.com", "ora.kambi.comXX", 13));               /* length bounded */

    CHECK(strcmp(ora_tls_kind_name(ORA_TLS_E_REJECTED), "rejected") == 0);
    CHECK(strcmp(ora_tls_kind_name(99), "unknown") == 0);

    return unit_summary("tls_test");
}
