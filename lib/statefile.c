/* statefile.c: state files and the state directory (statefile.h). */
#include "statefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "persist.h"
#include "serial.h"

static const char state_magic[8] = {'O', 'R', 'A', 'S', 'T', 'A', 'T', 'E'};
#define STATE_VERSION 2
#define MAX_BEYOND (1u << 24)

char *ora_state_path(const char *dir, int64_t w)
{
    char *p = NULL;
    if (asprintf(&p, "%s/actors-%020" PRId64 ".state", dir, w) < 0)
        return NULL;
    return p;
}

int ora_state_write(const char *dir, const ora_actors *a, const ora_wm *wm, uint64_t now_ns, uint64_t *bytes,
                    char *err, size_t errn)
{
    char *final = ora_state_path(dir, wm->w);
    char *tmp = NULL;
    if (!final || asprintf(&tmp, "%s/.actors-%020" PRId64 ".tmp.%ld", dir, wm->w, (long)getpid()) < 0) {
        free(final);
        snprintf(err, errn, "out of memory");
        return -1;
    }
    /* a new file, never one that is there (a symbolic link put in its
     * place would make us write wherever it points): a stale one of a dead
     * writer with our pid is removed (unlink removes a link, not its
     * target) and the open tried once more */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0600);
    if (fd < 0) {
        snprintf(err, errn, "%s: %s", tmp, strerror(errno));
        free(final);
        free(tmp);
        return -1;
    }
    ora_sw w;
    if (ora_sw_open(&w, fd) < 0) {
        snprintf(err, errn, "out of memory");
        goto fail;
    }
    ora_sw_bytes(&w, state_magic, sizeof state_magic);
    ora_sw_u32(&w, STATE_VERSION);
    ora_sw_u64(&w, (uint64_t)wm->w);
    ora_sw_u64(&w, now_ns);
    int64_t *beyond = NULL;
    size_t nb = 0;
    if (wm->n_beyond) {
        size_t want = wm->n_beyond < MAX_BEYOND ? wm->n_beyond : MAX_BEYOND;
        beyond = malloc(want * sizeof *beyond);
        if (beyond)
            nb = ora_wm_beyond(wm, beyond, want);
    }
    ora_sw_u32(&w, (uint32_t)nb);
    for (size_t k = 0; k < nb; k++)
        ora_sw_u64(&w, (uint64_t)beyond[k]);
    free(beyond);
    ora_persist_save(a, &w);
    if (ora_sw_finish(&w) < 0) {
        snprintf(err, errn, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (fsync(fd) < 0) {
        snprintf(err, errn, "fsync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        snprintf(err, errn, "close %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, final) < 0) {
        snprintf(err, errn, "rename %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (ora_fsync_dir(dir) < 0) {
        snprintf(err, errn, "fsync %s: %s", dir, strerror(errno));
        free(final);
        free(tmp);
        return -1;
    }
    if (bytes)
        *bytes = w.bytes;
    free(final);
    free(tmp);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(final);
    free(tmp);
    return -1;
}

int ora_state_parse(const uint8_t *p, size_t n, int verify, ora_actors *a, ora_wm *wm, uint64_t *now_ns, char *err,
                    size_t errn)
{
    if (n < sizeof state_magic + 4 + 8 + 8 + 4 + 32 || memcmp(p, state_magic, sizeof state_magic) != 0) {
        snprintf(err, errn, "not a state file");
        return -1;
    }
    if (verify) {
        uint8_t sum[32];
        crypto_generichash(sum, sizeof sum, p, n - 32, NULL, 0);
        if (sodium_memcmp(sum, p + n - 32, 32) != 0) {
            snprintf(err, errn, "checksum mismatch (damaged or incomplete file)");
            return -1;
        }
    }
    ora_sr r = {p, n - 32, sizeof state_magic, 0};
    uint32_t ver = ora_sr_u32(&r);
    if (ver != STATE_VERSION) {
        snprintf(err, errn, "unsupported state version %u", ver);
        return -1;
    }
    int64_t w = (int64_t)ora_sr_u64(&r);
    uint64_t now = ora_sr_u64(&r);
    uint32_t nb = ora_sr_u32(&r);
    if (r.bad || (size_t)nb > ora_sr_left(&r) / 8 || nb > MAX_BEYOND) {
        snprintf(err, errn, "bad state header");
        return -1;
    }
    if (w < 0 || w > ORA_OFFSET_MAX) {
        snprintf(err, errn, "W %" PRId64 " outside the offset range 0..%" PRId64, w, (int64_t)ORA_OFFSET_MAX);
        return -1;
    }
    int64_t *offs = malloc(((size_t)nb + 1) * sizeof *offs);
    if (!offs) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    for (uint32_t k = 0; k < nb; k++) {
        uint64_t o = ora_sr_u64(&r);
        offs[k] = o > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)o;
    }
    const char *why;
    int lr = ora_wm_load(wm, w, offs, nb, &why);
    free(offs);
    if (lr < 0) {
        snprintf(err, errn, "%s", why);
        return -1;
    }
    if (ora_persist_load(a, &r, err, errn) < 0) {
        ora_wm_reset(wm);
        return -1;
    }
    a->now_ns = now;
    if (now_ns)
        *now_ns = now;
    return 0;
}

int ora_state_load(const char *dir, int64_t w, int64_t limit, ora_actors *a, ora_wm *wm, uint64_t *now_ns,
                   char *err, size_t errn)
{
    char *path = ora_state_path(dir, w);
    if (!path) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    int r = -1;
    uint8_t *buf = NULL;
    /* a state file is a regular file of ours: a symbolic link is refused */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errn, "%s: not a regular file", path);
        goto out;
    }
    size_t n = (size_t)st.st_size;
    buf = malloc(n ? n : 1);
    if (!buf) {
        snprintf(err, errn, "out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errn, "%s: %s", path, k < 0 ? strerror(errno) : "short read");
            goto out;
        }
        got += (size_t)k;
    }
    char why[256];
    if (ora_state_parse(buf, n, 1, a, wm, now_ns, why, sizeof why) < 0) {
        snprintf(err, errn, "%s: %s", path, why);
        goto out;
    }
    if (limit >= 0 && wm->w > limit) {
        snprintf(err, errn, "%s: holds W %" PRId64 ", above the committed checkpoint %" PRId64, path, wm->w, limit);
        goto clear;
    }
    if (wm->w != w) {
        snprintf(err, errn, "%s: holds W %" PRId64 ", not the %" PRId64 " of its name", path, wm->w, w);
        goto clear;
    }
    r = 0;
    goto out;
clear:
    ora_actors_clear(a);
    ora_wm_reset(wm);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(path);
    return r;
}

/* n decimal digits at s as a value <= max: 0 and *v, or -1 (not digits, or
 * above max: checked before each step, so nothing overflows). */
static int parse_digits(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (!n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* "actors-<20 digits>.state" with W in the offset range. */
static int parse_name(const char *name, int64_t *w)
{
    uint64_t v;
    if (strncmp(name, "actors-", 7) != 0 || strlen(name) != 7 + 20 + 6 || strcmp(name + 27, ".state") != 0 ||
        parse_digits(name + 7, 20, ORA_OFFSET_MAX, &v) < 0)
        return -1;
    *w = (int64_t)v;
    return 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

long ora_state_list(const char *dir, int64_t **out)
{
    DIR *d = opendir(dir);
    *out = NULL;
    if (!d)
        return -1;
    size_t n = 0, cap = 0;
    int64_t *v = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t w;
        if (parse_name(de->d_name, &w) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(d);
                errno = ENOMEM;
                return -1;
            }
            v = nv;
        }
        v[n++] = w;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_i64);
    *out = v;
    return (long)n;
}

long ora_state_count_above(const char *dir, int64_t w)
{
    int64_t *v = NULL;
    long n = ora_state_list(dir, &v), above = 0;
    if (n < 0)
        return -1;
    for (long i = 0; i < n; i++)
        above += v[i] > w;
    free(v);
    return above;
}

int ora_state_prune(const char *dir, unsigned keep, int64_t committed)
{
    int64_t *v = NULL;
    long n = ora_state_list(dir, &v);
    int deleted = 0;
    for (long i = 0; i < n; i++) {
        if (committed >= 0 ? v[i] >= committed : i + (long)keep >= n)
            continue;
        char *p = ora_state_path(dir, v[i]);
        if (p && unlink(p) == 0)
            deleted++;
        free(p);
    }
    free(v);
    /* stale temporary files of dead writers */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *t = strstr(de->d_name, ".tmp.");
            if (strncmp(de->d_name, ".actors-", 8) != 0 || !t)
                continue;
            uint64_t pid;
            if (parse_digits(t + 5, strlen(t + 5), INT32_MAX, &pid) == 0 && pid > 0 && (pid_t)pid != getpid() &&
                kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
                char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, de->d_name) >= 0 && unlink(p) == 0)
                    deleted++;
                free(p);
            }
        }
        closedir(d);
    }
    return deleted;
}

int ora_checkpoint_read(const char *path, int64_t *w, char *err, size_t errn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        return -1;
    }
    char buf[64];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int e = ferror(f);
    fclose(f);
    if (e) {
        snprintf(err, errn, "%s: read error", path);
        return -1;
    }
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    if (!n)
        return 0;
    uint64_t v;
    if (parse_digits(buf, n, UINT64_MAX, &v) < 0) {
        int digits = 1;
        for (size_t i = 0; i < n; i++)
            digits &= buf[i] >= '0' && buf[i] <= '9';
        if (!digits) {
            snprintf(err, errn, "%s: not a decimal offset", path);
            return -1;
        }
        v = UINT64_MAX; /* more digits than 64 bits hold */
    }
    if (v > (uint64_t)ORA_OFFSET_MAX) {
        snprintf(err, errn, "%s: %s is outside the offset range 0..%" PRId64, path, buf, (int64_t)ORA_OFFSET_MAX);
        return 2;
    }
    *w = (int64_t)v;
    return 1;
}
