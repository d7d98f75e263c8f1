/* secmem.c: wiping allocators for libcurl, OpenSSL and cJSON (secmem.h). */
#include "secmem.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <sodium.h>

void secmem_free(void *p)
{
    if (!p)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

void *secmem_realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        secmem_free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    if (n <= old)
        return p; /* shrinking in place leaves nothing behind */
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old);
    secmem_free(p);
    return q;
}

static char *w_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void *o_malloc(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return malloc(n);
}

static void *o_realloc(void *p, size_t n, const char *f, int l)
{
    (void)f, (void)l;
    return secmem_realloc(p, n);
}

static void o_free(void *p, const char *f, int l)
{
    (void)f, (void)l;
    secmem_free(p);
}

int secmem_wipe_library_heaps(void)
{
    int rc = 0;
    if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free))
        rc = -1;
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, secmem_free, secmem_realloc, w_strdup, calloc) != CURLE_OK)
        rc = -1;
    cJSON_Hooks h = {malloc, secmem_free};
    cJSON_InitHooks(&h);
    return rc;
}
