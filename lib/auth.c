/* auth.c: see auth.h. */
#include "auth.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"ok", "network", "untrusted", "rejected", "body",
                                         "config", "cancelled", "nomem"};

const char *ora_auth_kind_name(int kind)
{
    return kind >= 0 && kind <= ORA_AUTH_E_NOMEM ? kind_names[kind] : "unknown";
}

void ora_jwt_clear(ora_jwt *jwt)
{
    if (jwt->p)
        sodium_free(jwt->p);   /* zeroes the whole allocation */
    jwt->p = NULL;
    jwt->len = 0;
}

size_t ora_jwt_check(const char *body, size_t n)
{
    while (n && (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' ' || body[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)body[i] <= 0x20 || (unsigned char)body[i] >= 0x7f)
            return 0;
    return n;
}

/* The response body lands in fixed secure memory: no realloc leaves
 * copies of the token behind. */
typedef struct sink {
    char *p;
    size_t len;
    int overflow;
    const volatile sig_atomic_t *cancel;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    sink *s = arg;
    size_t n = size * nmemb;
    if (n > ORA_JWT_MAX - s->len) {
        s->overflow = 1;
        return 0;   /* aborts the transfer */
    }
    memcpy(s->p + s->len, data, n);
    s->len += n;
    return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    const sink *s = arg;
    return s->cancel && *s->cancel;
}

static int mentions(const char *text, const char *const *words)
{
    for (; *words; words++)
        if (strstr(text, *words))
            return 1;
    return 0;
}

const char *ora_auth_display_url(const char *url, char *out, size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    snprintf(out, n, "(unparsable URL)");
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        snprintf(out, n, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "", path ? path : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return out;
}

/* Gives libcurl a PEM: from memory (blob_opt) when pem is set, else the
 * file (file_opt). Not copied: libcurl reads a key from our locked memory,
 * which outlives the handle. */
static void set_pem(CURL *c, CURLoption blob_opt, const ora_cred *pem, CURLoption file_opt, const char *file)
{
    if (pem) {
        struct curl_blob b = {pem->p, pem->len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(c, blob_opt, &b);
    } else {
        curl_easy_setopt(c, file_opt, file);
    }
}

int ora_auth_fetch(const ora_auth_cfg *cfg, ora_jwt *jwt, char *err, size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    char shown[512];
    const char *url = ora_auth_display_url(cfg->url, shown, sizeof shown);
    sink s = {NULL, 0, 0, cfg->cancel};
    int kind = ORA_AUTH_E_NOMEM;
    snprintf(err, errlen, "out of memory");
    CURL *c = curl_easy_init();
    if (!c || !(s.p = sodium_malloc(ORA_JWT_MAX + 1)))
        goto out;

    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ora-connect");
    set_pem(c, CURLOPT_SSLCERT_BLOB, cfg->cert_pem, CURLOPT_SSLCERT, cfg->cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    set_pem(c, CURLOPT_SSLKEY_BLOB, cfg->key_pem, CURLOPT_SSLKEY, cfg->key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    set_pem(c, CURLOPT_CAINFO_BLOB, cfg->ca_pem, CURLOPT_CAINFO, cfg->cacert);
    if (cfg->ca_pem)
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout * 1000));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);

    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    const char *why = ebuf[0] ? ebuf : curl_easy_strerror(rc);
    static const char *const refused[] = {"alert unknown ca", "alert bad certificate", "certificate required",
                                          "alert certificate unknown", "alert access denied",
                                          "alert certificate revoked", "alert certificate expired", NULL};
    if (rc == CURLE_OK && (status == 401 || status == 403)) {
        kind = ORA_AUTH_E_REJECTED;
        snprintf(err, errlen, "auth server %s refused us: HTTP %ld", url, status);
    } else if (rc == CURLE_OK && status != 200) {
        kind = ORA_AUTH_E_NET;
        snprintf(err, errlen, "auth server %s answered HTTP %ld", url, status);
    } else if (rc == CURLE_OK) {
        size_t n = ora_jwt_check(s.p, s.len);
        if (!n) {
            kind = ORA_AUTH_E_BODY;
            snprintf(err, errlen, "auth server %s sent %s", url,
                     s.len ? "a body that is not a token" : "an empty body");
        } else {
            s.p[n] = 0;
            sodium_memzero(s.p + n, ORA_JWT_MAX + 1 - n);
            ora_jwt_clear(jwt);
            jwt->p = s.p;
            jwt->len = n;
            s.p = NULL;
            kind = ORA_AUTH_OK;
            err[0] = 0;
        }
    } else if (s.overflow) {
        kind = ORA_AUTH_E_BODY;
        snprintf(err, errlen, "auth server %s sent more than %d bytes", url, ORA_JWT_MAX);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        kind = ORA_AUTH_E_CANCEL;
        snprintf(err, errlen, "cancelled");
    } else if (mentions(why, refused)) {
        kind = ORA_AUTH_E_REJECTED;
        snprintf(err, errlen, "auth server %s refused our client certificate (%s)", url, why);
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        kind = ORA_AUTH_E_UNTRUSTED;
        snprintf(err, errlen, "auth server %s not trusted: %s", url, why);
    } else if (rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_URL_MALFORMAT ||
               rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_SSL_ENGINE_INITFAILED) {
        kind = ORA_AUTH_E_CONFIG;
        snprintf(err, errlen, "unable to use auth URL %s: %s", url, why);
    } else if (rc == CURLE_OUT_OF_MEMORY) {
        kind = ORA_AUTH_E_NOMEM;
    } else {
        kind = ORA_AUTH_E_NET;
        snprintf(err, errlen, "auth server %s: %s", url, why);
    }
out:
    if (s.p)
        sodium_free(s.p);
    if (c)
        curl_easy_cleanup(c);
    return kind;
}
