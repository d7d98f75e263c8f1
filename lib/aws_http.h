/* aws_http.h: one blocking HTTP request with libcurl, for the credential
 * providers (STS, EC2 instance metadata, container credentials). Runs in
 * the caller's thread (kinesis-put's refresh thread); never prints.
 *
 * Restricted to http and https (also on redirects, which are not
 * followed). Proxies come from the environment as libcurl reads them
 * (HTTPS_PROXY/https_proxy, NO_PROXY/no_proxy). The response body is
 * kept in a secret buffer (it holds credentials): wiped when freed.
 */
#ifndef ORA_AWS_HTTP_H
#define ORA_AWS_HTTP_H

#include <stddef.h>

#include "buf.h"

typedef struct aws_http_req {
    const char *method;        /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated (may be NULL) */
    const void *body;          /* request body or NULL */
    size_t body_len;
    double timeout;            /* whole request, seconds */
    double connect_timeout;    /* seconds (0: as timeout) */
    const char *ca_bundle;     /* CA file for https, or NULL for the system's */
} aws_http_req;

/* Performs rq. Returns the HTTP status (>= 100), or 0 when no answer came
 * (connection refused, time-out, TLS failure: err then says which). body
 * gets the response body (it should be secret, see buf.h). err may be
 * written even on success. Never returns a status without a body read to
 * the end. */
long aws_http(const aws_http_req *rq, ora_buf *body, char *err, size_t errlen);

/* Whether url's host is a loopback address (127.0.0.0/8, ::1, localhost):
 * the one place where plain http may carry a session token. */
int aws_url_is_loopback(const char *url);

/* What follows "https://" or "http://" at the start of url (in any case
 * when icase, else lower case only), or NULL when url has neither. */
const char *aws_url_after_scheme(const char *url, int icase);

/* Host of an http(s) URL into host (brackets of IPv6 literals removed, no
 * port). 0, or -1 when url is not http(s) or host does not fit. */
int aws_url_host(const char *url, char *host, size_t hn);

#endif
