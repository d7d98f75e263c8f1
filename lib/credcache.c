/* credcache.c: credentials refreshed by a thread (see credcache.h). */
#include "credcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backoff.h"

#define NEV 8

struct credcache {
    credcache_opts o;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    aws_creds cur;
    uint64_t gen;          /* generation of cur (0: none yet) */
    int stop, forced, busy, ever;
    uint64_t failures;
    credcache_event ev[NEV];
    size_t ev_head, ev_n;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void push_event(credcache *c, const credcache_event *e)
{
    if (c->ev_n == NEV) { /* drop the oldest */
        c->ev_head = (c->ev_head + 1) % NEV;
        c->ev_n--;
    }
    c->ev[(c->ev_head + c->ev_n) % NEV] = *e;
    c->ev_n++;
}

/* Seconds from now until credentials expiring at exp (wall clock) should
 * be refreshed: a random point 15 to 5 minutes before, or halfway there
 * when they live shorter. */
static double refresh_in(time_t exp)
{
    if (!exp)
        return -1;
    double left = difftime(exp, time(NULL));
    double at = left - 300 - 600 * (randombytes_random() / 4294967296.0);
    if (at < 0 || left <= 300) {
        at = left / 2;
        if (at < 1)
            at = 1;
    }
    return at;
}

static void *run(void *arg)
{
    credcache *c = arg;
    ora_backoff bo;
    ora_backoff_init(&bo, c->o.backoff_min, c->o.backoff_max);
    double next = 0; /* monotonic time of the next fetch; < 0: none planned */
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && !c->forced && (next < 0 || mono() < next)) {
            if (next < 0) {
                pthread_cond_wait(&c->cv, &c->mu);
            } else {
                double d = next - mono();
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                long ns = ts.tv_nsec + (long)((d - (long)d) * 1e9);
                ts.tv_sec += (time_t)d + ns / 1000000000L;
                ts.tv_nsec = ns % 1000000000L;
                pthread_cond_timedwait(&c->cv, &c->mu, &ts);
            }
        }
        if (c->stop)
            break;
        int forced = c->forced;
        c->forced = 0;
        pthread_mutex_unlock(&c->mu);

        aws_creds fresh = {0};
        credcache_event e;
        memset(&e, 0, sizeof e);
        int rc = creds_fetch(c->o.provider, &fresh, e.msg, sizeof e.msg);

        pthread_mutex_lock(&c->mu);
        if (rc == 0) {
            ora_backoff_reset(&bo);
            c->failures = 0;
            if (c->gen && aws_creds_same(&fresh, &c->cur)) {
                e.kind = CC_UNCHANGED;
                c->cur.expires = fresh.expires;
                aws_creds_clear(&fresh);
            } else {
                aws_creds_clear(&c->cur);
                c->cur = fresh; /* moves the sodium block */
                c->gen++;
                e.kind = CC_FETCHED;
            }
            c->ever = 1;
            e.expires = c->cur.expires;
            double in = refresh_in(c->cur.expires);
            next = in < 0 ? -1 : mono() + in;
        } else {
            c->failures++;
            e.kind = CC_FAILED;
            e.permanent = rc == -2;
            double d = ora_backoff_next(&bo, randombytes_random());
            if (d < 0.2)
                d = 0.2;
            e.retry_in = d;
            next = mono() + d;
        }
        e.ever = c->ever;
        e.failures = c->failures;
        push_event(c, &e);
        if (forced || c->busy)
            c->busy = 0;
        pthread_mutex_unlock(&c->mu);
        if (c->o.wake)
            c->o.wake(c->o.wake_ctx);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

credcache *credcache_start(const credcache_opts *o)
{
    credcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    if (!(c->o.backoff_min > 0) || c->o.backoff_max < c->o.backoff_min) {
        c->o.backoff_min = 1;
        c->o.backoff_max = 60;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&c->th, NULL, run, c);
    if (e) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
        errno = e;
        return NULL;
    }
    return c;
}

int credcache_get(credcache *c, aws_creds *out, uint64_t *gen)
{
    int rc;
    pthread_mutex_lock(&c->mu);
    if (!c->gen) {
        rc = -1;
    } else if (c->gen == *gen) {
        out->expires = c->cur.expires; /* an unchanged refresh may extend it */
        rc = 0;
    } else {
        rc = aws_creds_copy(out, &c->cur) == 0 ? 1 : 0;
        if (rc)
            *gen = c->gen;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void credcache_refresh(credcache *c, uint64_t gen)
{
    pthread_mutex_lock(&c->mu);
    if (gen >= c->gen) {
        c->forced = 1;
        c->busy = 1;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

int credcache_busy(credcache *c)
{
    pthread_mutex_lock(&c->mu);
    int b = c->busy;
    pthread_mutex_unlock(&c->mu);
    return b;
}

int credcache_event_next(credcache *c, credcache_event *ev)
{
    pthread_mutex_lock(&c->mu);
    int have = c->ev_n > 0;
    if (have) {
        *ev = c->ev[c->ev_head];
        c->ev_head = (c->ev_head + 1) % NEV;
        c->ev_n--;
    }
    pthread_mutex_unlock(&c->mu);
    return have;
}

void credcache_stop(credcache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    aws_creds_clear(&c->cur);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
