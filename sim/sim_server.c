/* sim_server.c: ora-sim's server: the two listening ports, a thread per
 * connection, and the generation of realtime messages (see sim_server.h).
 * The conversation on each connection is sim_auth.c or sim_session.c. */
#include "sim_server.h"
#include "cli.h"
#include "ora.h"
#include "sim_auth.h"
#include "sim_conn.h"
#include "sim_session.h"
#include "sim_srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256

static sim_srv G = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Generation state (main thread only). */
static uint64_t generated;    /* realtime messages generated */
static int gen_done, io_err;

int sim_srv_quitting(const sim_srv *s) { return s->quit || *s->o->stop; }

void sim_srv_note(const sim_srv *s, int lvl, const char *fmt, ...)
{
    if (!s->o->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    s->o->note(lvl, fmt, ap);
    va_end(ap);
}

void sim_server_stats(sim_stats *s)
{
    s->generated = G.st.generated;
    s->connections = G.st.connections;
    s->sessions = G.st.sessions;
    s->auth_requests = G.st.auth_requests;
    s->tokens = G.st.tokens;
    s->data_sent = G.st.data_sent;
    s->bytes_sent = G.st.bytes_sent;
    s->pings = G.st.pings;
    s->pongs = G.st.pongs;
    s->errors_sent = G.st.errors_sent;
    s->faults = G.st.faults;
}

/* ---- generation (main thread, under G.mu) --------------------------------- */

static int sink_log(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)ctx;
    (void)off;
    if (G.o->log && (fwrite(j, 1, n, G.o->log) != n || putc('\n', G.o->log) == EOF))
        io_err = 1;
    return 0;
}

static int sink_deliver(void *ctx, uint64_t off, const char *j, size_t n)
{
    (void)ctx;
    return sim_log_append(G.log, off, j, n);
}

static const sim_sink sink = {sink_log, sink_deliver, NULL};

/* Generates what the rate allows by now, at most GEN_MAX at a time (the
 * main loop comes back every few ms), taking the lock for GEN_BURST
 * messages at a time: sessions reading the log get their turn in between,
 * even when generation runs behind on a busy machine. 0, or -1 (ENOMEM). */
enum { GEN_BURST = 256, GEN_MAX = 4096 };
static int generate(double elapsed)
{
    const sim_server_opts *o = G.o;
    if (gen_done || o->rate <= 0)
        return 0;
    double t = elapsed * o->rate;
    uint64_t target = t > 1e18 ? UINT64_MAX : (uint64_t)t;
    if (o->max_messages && target > o->max_messages)
        target = o->max_messages;
    if (target <= generated)
        return 0;
    if (target - generated > GEN_MAX)
        target = generated + GEN_MAX;
    int rc = 0;
    while (generated < target && rc == 0) {
        pthread_mutex_lock(&G.mu);
        for (int i = 0; i < GEN_BURST && generated < target && rc == 0; i++) {
            rc = sim_model_step(G.model, &sink);
            generated++;
        }
        pthread_mutex_unlock(&G.mu);
    }
    if (rc == 0 && o->max_messages && generated >= o->max_messages) {
        pthread_mutex_lock(&G.mu);
        rc = sim_model_flush(G.model, &sink);
        pthread_mutex_unlock(&G.mu);
        gen_done = 1;
    }
    G.st.generated = generated;
    if (o->log && fflush(o->log) != 0)
        io_err = 1;
    return rc;
}

/* ---- the snapshot cache ------------------------------------------------------- */

/* Fills the snapshot cache in the background, then keeps it current:
 * every second it compresses again the pieces that changed, so that a
 * snapshot finds little to do however long after the start it comes. (A
 * thread counted in active.) */
static void *warm_main(void *arg)
{
    (void)arg;
    double t0 = cli_now();
    int64_t n = sim_snap_warm(G.snap, G.model, &G.mu, &G.quit);
    if (n >= 0 && !G.quit) {
        uint64_t msgs, bytes;
        sim_snap_size(G.snap, &msgs, &bytes);
        sim_srv_note(&G, ORA_LOG_INFO, "snapshot cache ready: %llu messages in %.1f MiB of gzip members, %.2f s",
                     (unsigned long long)msgs, (double)bytes / 1048576.0, cli_now() - t0);
    }
    while (n >= 0 && !G.quit) {
        for (int i = 0; i < 20 && !G.quit; i++)
            usleep(50000);
        if (!G.quit)
            n = sim_snap_warm(G.snap, G.model, &G.mu, &G.quit);
    }
    if (n < 0)
        sim_srv_note(&G, ORA_LOG_WARN, "unable to fill the snapshot cache: out of memory");
    G.active--;
    return NULL;
}

/* Runs fn(arg) on a detached thread, counted in G.active (fn takes itself
 * off when it ends), so that shutdown can wait for it. 0, or -1 with errno
 * (nothing started). */
static int start_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    G.active++;
    int rc = pthread_create(&t, &a, fn, arg);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        G.active--;
        errno = rc;
        return -1;
    }
    return 0;
}

static void start_warm(void)
{
    if (start_thread(warm_main, NULL) < 0)
        sim_srv_note(&G, ORA_LOG_WARN, "unable to start the snapshot cache thread: %s", strerror(errno));
}

/* ---- connection threads ------------------------------------------------------- */

static void *conn_main(void *arg)
{
    sim_conn *c = arg;
    if (sim_conn_handshake(c) == 0) {
        sim_conn_note(c, ORA_LOG_DEBUG, "%s connection established", c->auth ? "auth" : "ORA");
        int rc = c->auth ? sim_auth_serve(c) : sim_session_serve(c);
        sim_conn_close(c, rc == SR_CLOSE);
        sim_conn_note(c, ORA_LOG_DEBUG, "closed after %llu messages, %llu bytes",
                      (unsigned long long)c->msgs, (unsigned long long)c->bytes);
    }
    sim_conn_free(c);
    G.active--;
    return NULL;
}

static void spawn(int fd, int auth)
{
    static uint64_t conn_seq;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (G.active >= MAX_CONNECTIONS) {
        sim_srv_note(&G, ORA_LOG_WARN, "too many connections: refusing one");
        close(fd);
        return;
    }
    uint64_t id = ++conn_seq;
    G.st.connections++;
    sim_conn *c = sim_conn_new(&G, fd, auth, id);
    if (!c) {
        sim_srv_note(&G, ORA_LOG_ERROR, "conn %llu: out of memory", (unsigned long long)id);
        close(fd);
        return;
    }
    if (start_thread(conn_main, c) < 0) {
        sim_srv_note(&G, ORA_LOG_WARN, "unable to start a connection thread: %s", strerror(errno));
        sim_conn_free(c);
    }
}

/* ---- setup -------------------------------------------------------------------- */

/* A socket bound to 127.0.0.1:port (0: any free one; *bound gets it),
 * listening unless told not to yet. 0, or -1 with errno. */
static int listen_on(int port, int *fd, int *bound, int do_listen)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || (do_listen && listen(s, 128) < 0) ||
        getsockname(s, (struct sockaddr *)&a, &al) < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    *fd = s;
    *bound = ntohs(a.sin_port);
    return 0;
}

static int write_port_file(const char *path, int port, int auth_port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "port=%d\nauth_port=%d\n", port, auth_port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int sim_server_run(const sim_server_opts *o)
{
    G.o = o;
    int ex = 0, ofd = -1, afd = -1, port = 0, aport = 0;
    randombytes_buf(G.jwt_key, sizeof G.jwt_key);
    if (!(G.ctx = sim_conn_ctx_new(&G)))
        return ORA_EX_CONFIG;
    G.model = sim_model_new(&o->model);
    G.log = sim_log_new(o->retain);
    G.snap = o->snapshot_cache ? sim_snap_new(o) : NULL;
    if (!G.model || !G.log || (o->snapshot_cache && !G.snap) || sim_model_init(G.model, &sink) < 0) {
        sim_srv_note(&G, ORA_LOG_ERROR, "unable to build the model: out of memory");
        ex = ORA_EX_SOFTWARE;
        goto out;
    }
    if (o->log && fflush(o->log) != 0)
        io_err = 1;
    if (G.snap)
        start_warm();
    int listening = o->faults.refuse_for <= 0;
    if (listen_on(o->port, &ofd, &port, listening) < 0 || listen_on(o->auth_port, &afd, &aport, 1) < 0) {
        sim_srv_note(&G, ORA_LOG_ERROR, "unable to listen on 127.0.0.1: %s", strerror(errno));
        ex = ORA_EX_UNAVAILABLE;
        goto out;
    }
    if (o->port_file && write_port_file(o->port_file, port, aport) < 0) {
        sim_srv_note(&G, ORA_LOG_ERROR, "unable to write %s: %s", o->port_file, strerror(errno));
        ex = ORA_EX_IOERR;
        goto out;
    }
    sim_srv_note(&G, ORA_LOG_INFO, "serving ORA on 127.0.0.1:%d, auth on https://127.0.0.1:%d/auth; model: %zu events, %zu bet offers, head offset %llu%s",
                 port, aport, sim_model_events(G.model), sim_model_offers(G.model),
                 (unsigned long long)sim_model_head(G.model),
                 listening ? "" : "; refusing ORA connections for now");
    double t0 = cli_now();
    while (!*o->stop) {
        struct pollfd p[2] = {{.fd = ofd, .events = POLLIN}, {.fd = afd, .events = POLLIN}};
        int r = poll(p, 2, 5);
        double now = cli_now();
        if (!listening && now - t0 >= o->faults.refuse_for) {
            if (listen(ofd, 128) < 0) {
                sim_srv_note(&G, ORA_LOG_ERROR, "unable to listen: %s", strerror(errno));
                ex = ORA_EX_UNAVAILABLE;
                break;
            }
            listening = 1;
            sim_srv_note(&G, ORA_LOG_INFO, "accepting ORA connections now");
        }
        for (int i = 0; r > 0 && i < 2; i++) {
            if (!(p[i].revents & POLLIN) || (i == 0 && !listening))
                continue;
            int fd = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0)
                spawn(fd, i == 1);
        }
        if (generate(now - t0) < 0) {
            sim_srv_note(&G, ORA_LOG_ERROR, "unable to generate: out of memory");
            ex = ORA_EX_SOFTWARE;
            break;
        }
        if (io_err) {
            sim_srv_note(&G, ORA_LOG_ERROR, "unable to write the log: %s", strerror(errno));
            ex = ORA_EX_IOERR;
            break;
        }
        if (o->tick)
            o->tick();
    }
out:
    G.quit = 1;
    if (ofd >= 0)
        close(ofd);
    if (afd >= 0)
        close(afd);
    for (int i = 0; i < 100 && G.active > 0; i++)
        usleep(20000);
    if (G.active == 0) {
        sim_model_free(G.model);
        sim_log_free(G.log);
        sim_snap_free(G.snap);
        SSL_CTX_free(G.ctx);
        G.model = NULL;
        G.log = NULL;
        G.snap = NULL;
        G.ctx = NULL;
    }
    return ex;
}
