/* rules.c: rules configuration and output JSON helpers (rules.h). */
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const uint64_t default_criteria[] = {1001159509, 1001159512, 1001159732};
static const struct { const char *name; uint32_t bit; } default_jur[] = {
    {"jurisdiction1", 1}, {"jurisdiction2", 2}, {"jurisdiction3", 4}, {"jurisdiction4", 8}, {"jurisdiction5", 16}};

static void clear_jur(ora_rules *r)
{
    for (size_t i = 0; i < r->n_jur; i++)
        free(r->jur[i].name);
    r->n_jur = 0;
}

int ora_rules_init(ora_rules *r)
{
    memset(r, 0, sizeof *r);
    r->pending_ttl = -1;
    r->criteria = malloc(sizeof default_criteria);
    if (!r->criteria)
        return -1;
    memcpy(r->criteria, default_criteria, sizeof default_criteria);
    r->n_criteria = sizeof default_criteria / sizeof default_criteria[0];
    for (size_t i = 0; i < sizeof default_jur / sizeof default_jur[0]; i++) {
        r->jur[i].name = strdup(default_jur[i].name);
        if (!r->jur[i].name) {
            ora_rules_free(r);
            return -1;
        }
        r->jur[i].bit = default_jur[i].bit;
        r->n_jur++;
    }
    return 0;
}

void ora_rules_free(ora_rules *r)
{
    clear_jur(r);
    free(r->criteria);
    r->criteria = NULL;
    r->n_criteria = 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int ora_rules_set_criteria(ora_rules *r, const char *list, char *err, size_t errn)
{
    uint64_t *ids = malloc(ORA_RULES_MAX_CRITERIA * sizeof *ids);
    if (!ids) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char tok[32];
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0 || len >= sizeof tok) {
            snprintf(err, errn, "bad criterion id in '%s'", list);
            free(ids);
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = 0;
        if (n == ORA_RULES_MAX_CRITERIA || cli_parse_u64(tok, 0, UINT64_MAX, &ids[n]) < 0) {
            snprintf(err, errn, "bad criterion id '%s'", tok);
            free(ids);
            return -1;
        }
        n++;
        if (!e)
            break;
        p = e + 1;
        if (!*p) {
            snprintf(err, errn, "bad criterion id in '%s'", list);
            free(ids);
            return -1;
        }
    }
    qsort(ids, n, sizeof *ids, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    free(r->criteria);
    r->criteria = ids;
    r->n_criteria = u;
    return 0;
}

int ora_rules_set_jurisdiction(ora_rules *r, const char *spec, char *err, size_t errn)
{
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec) {
        snprintf(err, errn, "bad jurisdiction '%s' (want NAME=BIT)", spec);
        return -1;
    }
    uint64_t bit;
    if (cli_parse_u64(eq + 1, 0, UINT32_MAX, &bit) < 0) {
        snprintf(err, errn, "bad jurisdiction bit in '%s'", spec);
        return -1;
    }
    size_t n = (size_t)(eq - spec);
    for (size_t i = 0; i < r->n_jur; i++)
        if (strlen(r->jur[i].name) == n && memcmp(r->jur[i].name, spec, n) == 0) {
            r->jur[i].bit = (uint32_t)bit;
            return 0;
        }
    if (r->n_jur == ORA_RULES_MAX_JUR) {
        snprintf(err, errn, "too many jurisdictions (at most %d)", ORA_RULES_MAX_JUR);
        return -1;
    }
    char *name = strndup(spec, n);
    if (!name) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    r->jur[r->n_jur].name = name;
    r->jur[r->n_jur].bit = (uint32_t)bit;
    r->n_jur++;
    return 0;
}

int ora_rules_load(ora_rules *r, const char *path, char *err, size_t errn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], why[256];
    int lineno = 0, jur_seen = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            snprintf(err, errn, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = 0;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, errn, "%s:%d: want KEY=VALUE", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *key = p, *val = eq + 1;
        size_t kl = strlen(key);
        while (kl && isspace((unsigned char)key[kl - 1]))
            key[--kl] = 0;
        while (isspace((unsigned char)*val))
            val++;
        int bad = 0;
        if (strcmp(key, "criteria") == 0)
            bad = ora_rules_set_criteria(r, val, why, sizeof why);
        else if (strcmp(key, "jurisdiction") == 0) {
            if (!jur_seen)
                clear_jur(r);
            jur_seen = 1;
            bad = ora_rules_set_jurisdiction(r, val, why, sizeof why);
        } else if (strcmp(key, "pending_ttl") == 0) {
            if (cli_parse_double(val, 0, 1e9, &r->pending_ttl) < 0) {
                snprintf(why, sizeof why, "bad pending_ttl '%s'", val);
                bad = -1;
            }
        } else {
            snprintf(why, sizeof why, "unknown key '%s'", key);
            bad = -1;
        }
        if (bad) {
            snprintf(err, errn, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    if (!rc && ferror(f)) {
        snprintf(err, errn, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

int ora_rules_has_criterion(const ora_rules *r, uint64_t id)
{
    size_t lo = 0, hi = r->n_criteria;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->criteria[mid] == id)
            return 1;
        if (r->criteria[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint32_t ora_rules_bit(const ora_rules *r, const char *name, size_t n, int *known)
{
    for (size_t i = 0; i < r->n_jur; i++)
        if (strlen(r->jur[i].name) == n && memcmp(r->jur[i].name, name, n) == 0) {
            if (known)
                *known = 1;
            return r->jur[i].bit;
        }
    if (known)
        *known = 0;
    return 0;
}

