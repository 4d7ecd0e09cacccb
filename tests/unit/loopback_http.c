/* SPDX-License-Identifier: MIT */
/* The loopback HTTP/1.1 test server (tests/unit/loopback_http.h). */

#include "loopback_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOOPBACK_REQUEST_MAX 65535 /* a longer request closes the connection */

struct LoopbackConn {
    LoopbackServer *srv;
    LoopbackConn *next;
    int fd;
    sd_event_source *io;
    char in[LOOPBACK_REQUEST_MAX + 1];
    size_t in_len;
    bool hanging; /* a request was handed over and not answered */
    char *out;    /* the queued answer */
    size_t out_len, out_off;
    bool close_after;
    char *repeat; /* written again and again once `out` is */
    size_t repeat_len, repeat_off;
};

struct LoopbackServer {
    sd_event *event;
    int lfd, port;
    sd_event_source *accept_src;
    LoopbackHandler handler;
    void *userdata;
    LoopbackConn *conns;
};

static void *xmemdup(const void *p, size_t n)
{
    char *d = malloc(n ? n : 1);
    if (!d) abort();
    if (n) memcpy(d, p, n);
    return d;
}

static void conn_free(LoopbackConn *c)
{
    LoopbackConn **pp = &c->srv->conns;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp) *pp = c->next;
    sd_event_source_disable_unref(c->io);
    close(c->fd);
    free(c->out);
    free(c->repeat);
    free(c);
}

static bool conn_writing(const LoopbackConn *c)
{
    return c->out || c->repeat;
}

static void conn_update_events(LoopbackConn *c)
{
    (void)sd_event_source_set_io_events(c->io, conn_writing(c) ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* The length of the first whole request in `in`, 0 if there is none yet. */
static size_t request_length(const LoopbackConn *c)
{
    const char *eoh = strstr(c->in, "\r\n\r\n");
    const char *cl;
    size_t body = 0;

    if (!eoh) return 0;
    cl = strcasestr(c->in, "\r\nContent-Length:");
    if (cl && cl < eoh) body = strtoul(cl + 17, NULL, 10);
    if (c->in_len < (size_t)(eoh + 4 - c->in) + body) return 0;
    return (size_t)(eoh + 4 - c->in) + body;
}

/* Hands over whole requests while the previous one is answered and written.
 * Returns < 0 if the connection was freed. */
static int conn_dispatch(LoopbackConn *c)
{
    size_t n;

    while (!c->hanging && !conn_writing(c) && (n = request_length(c)) > 0) {
        char *req = xmemdup(c->in, n + 1);
        int r;

        req[n] = 0;
        memmove(c->in, c->in + n, c->in_len - n + 1);
        c->in_len -= n;
        r = c->srv->handler(c, req, n, c->srv->userdata);
        free(req);
        if (r < 0) {
            conn_free(c);
            return -1;
        }
        if (!conn_writing(c)) c->hanging = true;
        conn_update_events(c);
    }
    return 0;
}

/* Writes what is queued. Returns < 0 if the connection was freed. */
static int conn_write(LoopbackConn *c)
{
    while (c->out) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        if (n < 0) {
            conn_free(c);
            return -1;
        }
        c->out_off += (size_t)n;
        if (c->out_off < c->out_len) continue;
        free(c->out);
        c->out = NULL;
        if (c->close_after) {
            conn_free(c);
            return -1;
        }
        conn_update_events(c);
        return conn_dispatch(c);
    }
    if (c->repeat) {
        ssize_t n = send(c->fd, c->repeat + c->repeat_off, c->repeat_len - c->repeat_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            conn_free(c);
            return -1;
        }
        if (n > 0) c->repeat_off = (c->repeat_off + (size_t)n) % c->repeat_len;
    }
    return 0;
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    LoopbackConn *c = userdata;

    if (revents & EPOLLIN) {
        ssize_t n = read(fd, c->in + c->in_len, LOOPBACK_REQUEST_MAX - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        if (n <= 0) { /* the client closed, or a request larger than the buffer */
            conn_free(c);
            return 0;
        }
        c->in_len += (size_t)n;
        c->in[c->in_len] = 0;
        if (conn_dispatch(c) < 0) return 0;
    }
    if (revents & EPOLLOUT) {
        if (conn_write(c) < 0) return 0;
    }
    if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN)) conn_free(c);
    return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    LoopbackServer *srv = userdata;
    LoopbackConn *c;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (cfd < 0) return 0;
    c = calloc(1, sizeof(*c));
    if (!c) abort();
    c->srv = srv;
    c->fd = cfd;
    if (sd_event_add_io(srv->event, &c->io, cfd, EPOLLIN, on_conn, c) < 0) abort();
    c->next = srv->conns;
    srv->conns = c;
    return 0;
}

LoopbackServer *loopback_server_new(sd_event *event, int backlog, bool accept_conns,
                                    LoopbackHandler handler, void *userdata)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    LoopbackServer *s = calloc(1, sizeof(*s));

    if (!s) abort();
    s->event = event;
    s->handler = handler;
    s->userdata = userdata;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(s->lfd, backlog) < 0 || getsockname(s->lfd, (struct sockaddr *)&a, &len) < 0)
        abort();
    s->port = ntohs(a.sin_port);
    if (accept_conns && sd_event_add_io(event, &s->accept_src, s->lfd, EPOLLIN, on_accept, s) < 0)
        abort();
    return s;
}

int loopback_server_port(const LoopbackServer *s)
{
    return s->port;
}

LoopbackServer *loopback_server_free(LoopbackServer *s)
{
    if (!s) return NULL;
    while (s->conns)
        conn_free(s->conns);
    sd_event_source_disable_unref(s->accept_src);
    close(s->lfd);
    free(s);
    return NULL;
}

void loopback_conn_reply(LoopbackConn *c, const void *data, size_t len, bool close_after)
{
    size_t pending = c->out ? c->out_len - c->out_off : 0;
    char *out = malloc(pending + len + 1);

    if (!out) abort();
    if (pending) memcpy(out, c->out + c->out_off, pending);
    if (len) memcpy(out + pending, data, len);
    free(c->out);
    c->out = out;
    c->out_len = pending + len;
    c->out_off = 0;
    c->close_after = c->close_after || close_after;
    c->hanging = false;
    conn_update_events(c);
}

void loopback_conn_repeat(LoopbackConn *c, const void *data, size_t len)
{
    if (!len) return;
    free(c->repeat);
    c->repeat = xmemdup(data, len);
    c->repeat_len = len;
    c->repeat_off = 0;
    c->hanging = false;
    conn_update_events(c);
}
