/* aws_http.c: blocking HTTP for credential providers (see aws_http.h). */
#include "aws_http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    ora_buf *b = ud;
    if (b->len + sz * nm > (1u << 20)) /* no credential answer is this large */
        return 0;
    return ora_buf_append(b, p, sz * nm) == 0 ? sz * nm : 0;
}

long aws_http(const aws_http_req *rq, ora_buf *body, char *err, size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    if (err && errlen)
        err[0] = 0;
    if (!c) {
        snprintf(err, errlen, "unable to initialise libcurl");
        return 0;
    }
    struct curl_slist *h = NULL;
    for (const char *const *p = rq->headers; p && *p; p++)
        h = curl_slist_append(h, *p);
    h = curl_slist_append(h, "Expect:");
    body->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(rq->timeout * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)((rq->connect_timeout > 0 ? rq->connect_timeout : rq->timeout) * 1000));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kinesis-put");
    if (rq->ca_bundle)
        curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_bundle);
    if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
        if (rq->body_len) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)rq->body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        }
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
    /* The header list may hold a token (IMDS, container authorization). */
    for (struct curl_slist *p = h; p; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? status : 0;
}

const char *aws_url_after_scheme(const char *url, int icase)
{
    int (*cmp)(const char *, const char *, size_t) = icase ? strncasecmp : strncmp;
    if (cmp(url, "https://", 8) == 0)
        return url + 8;
    if (cmp(url, "http://", 7) == 0)
        return url + 7;
    return NULL;
}

int aws_url_host(const char *url, char *host, size_t hn)
{
    const char *p = aws_url_after_scheme(url, 1);
    if (!p)
        return -1;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n && p[0] == '[') {
        const char *e = memchr(p, ']', n);
        if (!e)
            return -1;
        n = (size_t)(e - p - 1);
        p++;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            n = (size_t)(colon - p);
    }
    if (n == 0 || n >= hn)
        return -1;
    memcpy(host, p, n);
    host[n] = 0;
    return 0;
}

int aws_url_is_loopback(const char *url)
{
    char h[256];
    if (aws_url_host(url, h, sizeof h) < 0)
        return 0;
    if (strcasecmp(h, "localhost") == 0)
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, h, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}
