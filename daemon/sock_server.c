/* SPDX-License-Identifier: MIT */
/* The socket server: proto/ on a Unix stream socket on the sd-event loop.
 * See sock_server.h for the behaviour, PROTOCOL.md for the wire format. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sock_server.h"
#include "util.h"

/* Accepts per wakeup of the listening socket: fairness with other sources. */
#define ACCEPT_BURST 64
/* After EMFILE/ENFILE the listening socket stays readable; pause it. */
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)
/* How often a watcher with an unread line is looked at again. */
#define WATCH_RECHECK_USEC (25 * USEC_PER_MSEC)
/* Supplementary groups read with SO_PEERGROUPS; more falls back to /proc. */
#define PEER_GROUPS_MAX 256

typedef enum ClientState {
    CLIENT_READING,  /* waiting for the request line */
    CLIENT_REPLYING, /* one reply, close once it is written */
    CLIENT_WATCHING,
} ClientState;

typedef struct Client Client;
struct Client {
    SockServer *server;
    Client *prev, *next;
    int fd;
    sd_event_source *io;
    sd_event_source *timer;
    struct ucred peer;
    bool have_peer;
    ClientState state;
    char in[PROTO_REQUEST_MAX];
    size_t in_n;
    char out[PROTO_REPLY_MAX];
    size_t out_n, out_off;
    bool due; /* WATCH: a newer status is owed */
    /* WATCH: the newest line handed to this client said is_leader, and until when (boot µs) a
     * leader line it was handed claims. Once a "not leader" line has been read (nothing left
     * unwritten or unread), the client holds no claim: claim_until goes back to 0. */
    bool last_leader;
    uint64_t claim_until;
    bool read_closed;       /* WATCH: the client half-closed; it may still read */
    uint64_t accepted_usec; /* CLOCK_MONOTONIC */
    uint64_t behind_since;  /* CLOCK_MONOTONIC µs since a line is unwritten or unread; 0: none */
};

struct SockServer {
    sd_event *event;
    SockServerConfig config;
    char *path;
    uid_t self_uid;
    int listen_fd;
    dev_t sock_dev;
    ino_t sock_ino;
    bool sock_file_ours;
    sd_event_source *listen_source;
    sd_event_source *accept_pause;
    sd_event_source *publish_defer;
    Client *clients;
    SockServerStats stats;
    uint64_t status_claim_until; /* boot µs: the latest end of a leader STATUS answer's valid_ms */
};

static uint64_t now_mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_to_usec(&ts);
}

bool sock_server_peer_may_resign(const struct ucred *peer, const gid_t *groups, size_t n_groups,
                                 uid_t self_uid, gid_t group)
{
    if (peer->uid == 0 || peer->uid == self_uid) return true;
    if (group == SOCK_SERVER_NO_GROUP) return false;
    if (peer->gid == group) return true;
    for (size_t i = 0; i < n_groups; i++)
        if (groups[i] == group) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Clients */

static void client_free(Client *c)
{
    SockServer *s;

    if (!c) return;
    s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    s->stats.clients--;
    if (c->state == CLIENT_WATCHING) s->stats.watchers--;
    sd_event_source_disable_unref(c->io);
    sd_event_source_disable_unref(c->timer);
    if (c->fd >= 0) close(c->fd);
    free(c);
}

static int client_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);
static int client_timer(sd_event_source *source, uint64_t usec, void *userdata);

/* Event sources are made only for a client that has to wait (its request is
 * not there yet, a slow reader, a watcher): a probe whose request came with
 * the connection is answered without touching epoll or the timers. */
static int client_attach(Client *c)
{
    SockServer *s = c->server;
    int r;

    if (!c->io) {
        r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN, client_io, c);
        if (r < 0) return r;
    }
    if (!c->timer) {
        r = sd_event_add_time(s->event, &c->timer, CLOCK_MONOTONIC,
                              c->accepted_usec + s->config.request_timeout_usec, USEC_PER_MSEC,
                              client_timer, c);
        if (r < 0) return r;
        r = sd_event_source_set_enabled(c->timer, c->state == CLIENT_READING ? SD_EVENT_ONESHOT
                                                                             : SD_EVENT_OFF);
        if (r < 0) return r;
    }
    return 0;
}

static void client_disarm_timer(Client *c)
{
    if (c->timer) (void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
}

static int client_arm_timer(Client *c, uint64_t usec)
{
    int r = client_attach(c);
    if (r < 0) return r;
    r = sd_event_source_set_time(c->timer, usec);
    if (r < 0) return r;
    return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static bool client_out_pending(const Client *c)
{
    return c->out_off < c->out_n;
}

/* Bytes written to the socket that the peer has not read yet. */
static bool client_unread(const Client *c)
{
    int n = 0;
    if (ioctl(c->fd, SIOCOUTQ, &n) < 0) return false;
    return n > 0;
}

static int client_update_events(Client *c)
{
    uint32_t ev = 0;
    int r = client_attach(c);
    if (r < 0) return r;
    if (c->state != CLIENT_REPLYING && !c->read_closed) ev |= EPOLLIN;
    if (client_out_pending(c)) ev |= EPOLLOUT;
    return sd_event_source_set_io_events(c->io, ev);
}

/* Writes what is pending. Returns 1 when the client is still there, 0 when
 * it was freed (done or gone). Never blocks. */
static int client_flush(Client *c)
{
    SockServer *s = c->server;

    while (client_out_pending(c)) {
        ssize_t n =
            send(c->fd, c->out + c->out_off, c->out_n - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                if (c->behind_since == 0) c->behind_since = now_mono_usec();
                if (client_update_events(c) < 0 ||
                    client_arm_timer(c, c->behind_since + s->config.write_timeout_usec) < 0) {
                    client_free(c);
                    return 0;
                }
                return 1;
            }
            client_free(c); /* EPIPE, ECONNRESET: the peer left */
            return 0;
        }
        c->out_off += (size_t)n;
    }
    c->out_n = c->out_off = 0;
    c->behind_since = 0; /* written; from now on unread time counts (client_push) */
    s->stats.replies++;
    if (c->state == CLIENT_REPLYING) {
        client_free(c);
        return 0;
    }
    if (client_update_events(c) < 0) {
        client_free(c);
        return 0;
    }
    return 1;
}

/* client_flush() for a line appended behind an unread one: the unread time keeps counting. */
static int client_flush_keep_behind(Client *c)
{
    uint64_t behind = c->behind_since;
    int r = client_flush(c);

    if (r == 1 && !client_out_pending(c)) c->behind_since = behind;
    return r;
}

/* Queues an error reply and closes once it is written. */
static int client_fail(Client *c, ProtoError e, const char *message)
{
    ssize_t n;

    if (client_out_pending(c)) {
        /* The line in progress must not be cut by another: just drop. */
        client_free(c);
        return 0;
    }
    if (c->state == CLIENT_WATCHING) c->server->stats.watchers--;
    c->state = CLIENT_REPLYING;
    n = proto_error_format(e, message, c->out, sizeof(c->out));
    if (n < 0) {
        client_free(c);
        return 0;
    }
    c->out_n = (size_t)n;
    c->out_off = 0;
    c->behind_since = 0;
    return client_flush(c);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* The status of this very moment. A one-shot answer's claim is capped at status_valid_max_usec
 * (the daemon cannot take a STATUS answer back, so a release waits for it: see
 * sock_server_claims_until()). */
static int client_get_status(Client *c, uint64_t now, ProtoStatus *st)
{
    SockServer *s = c->server;
    int r;

    *st = (ProtoStatus){0};
    r = s->config.get_status(s->config.userdata, now, st);
    if (r < 0) return r;
    st->boottime_ms = now / USEC_PER_MSEC;
    if (st->is_leader && c->state != CLIENT_WATCHING &&
        st->valid_ms > s->config.status_valid_max_usec / USEC_PER_MSEC)
        st->valid_ms = s->config.status_valid_max_usec / USEC_PER_MSEC;
    return 0;
}

/* Formats st into the output buffer and records the claim it hands out. */
static int client_format(Client *c, const ProtoStatus *st, uint64_t now)
{
    SockServer *s = c->server;
    ssize_t n;

    n = proto_status_format(st, c->out, sizeof(c->out));
    if (n < 0) return (int)n;
    c->out_n = (size_t)n;
    c->out_off = 0;
    if (c->state == CLIENT_WATCHING) {
        c->last_leader = st->is_leader;
        if (st->is_leader)
            c->claim_until = max_u64(c->claim_until, now + st->valid_ms * USEC_PER_MSEC);
    } else if (st->is_leader) {
        s->status_claim_until = max_u64(s->status_claim_until, now + st->valid_ms * USEC_PER_MSEC);
    }
    return 0;
}

/* Formats the status of this very moment into the output buffer. */
static int client_format_status(Client *c)
{
    ProtoStatus st;
    uint64_t now = now_boot_usec();
    int r;

    r = client_get_status(c, now, &st);
    if (r < 0) return r;
    return client_format(c, &st, now);
}

/* WATCH: sends the current status if the watcher has read everything so
 * far, else remembers that one is due and looks again soon; drops it once a
 * line stayed unread past the write timeout. Returns 1 or 0 (freed). */
static int client_push(Client *c)
{
    SockServer *s = c->server;
    uint64_t now = now_mono_usec();

    if (!client_out_pending(c) && c->last_leader && client_unread(c)) {
        /* A leader line is unread. A "not leader" is never held back behind it: appended now,
         * so that the client reads it right after the claim (PROTOCOL.md: the latest line
         * counts), and the release waits for it to be read (sock_server_claims_until()). */
        uint64_t boot = now_boot_usec();
        ProtoStatus st;

        if (client_get_status(c, boot, &st) < 0)
            return client_fail(c, PROTO_ERROR_INTERNAL, "no status available");
        if (!st.is_leader) {
            if (c->behind_since == 0) c->behind_since = now;
            c->due = false;
            if (client_format(c, &st, boot) < 0)
                return client_fail(c, PROTO_ERROR_INTERNAL, "no status available");
            return client_flush_keep_behind(c);
        }
    }

    if (client_out_pending(c) || client_unread(c)) {
        c->due = true;
        if (c->behind_since == 0) c->behind_since = now;
        if (now >= c->behind_since + s->config.write_timeout_usec) {
            s->stats.dropped_slow++;
            client_free(c);
            return 0;
        }
        uint64_t next = now + WATCH_RECHECK_USEC;
        uint64_t limit = c->behind_since + s->config.write_timeout_usec;
        if (client_arm_timer(c, next < limit ? next : limit) < 0) {
            client_free(c);
            return 0;
        }
        return 1;
    }

    c->due = false;
    c->behind_since = 0;
    client_disarm_timer(c);
    if (client_format_status(c) < 0)
        return client_fail(c, PROTO_ERROR_INTERNAL, "no status available");
    return client_flush(c);
}

static int client_peer_groups(const Client *c, gid_t *groups, size_t max, size_t *ret_n)
{
    socklen_t len = (socklen_t)(max * sizeof(gid_t));
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) return -errno;
    *ret_n = len / sizeof(gid_t);
    return 0;
}

/* Fallback when SO_PEERGROUPS is unavailable or too small: the Groups: line
 * of the peer's /proc entry, if its uid still matches (the pid may be gone or
 * in another pid namespace: then no supplementary groups are known). */
static bool proc_groups_contain(const struct ucred *peer, gid_t group)
{
    char path[64], line[4096];
    bool uid_ok = false, found = false;
    FILE *f;

    if (peer->pid <= 0) return false;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)peer->pid);
    f = fopen(path, "re");
    if (!f) return false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Uid:", 4) == 0) {
            unsigned long real, eff;
            uid_ok = sscanf(line + 4, "%lu %lu", &real, &eff) == 2 && eff == peer->uid;
        } else if (strncmp(line, "Groups:", 7) == 0) {
            char *p = line + 7, *end;
            for (;;) {
                unsigned long g = strtoul(p, &end, 10);
                if (end == p) break;
                if (g == group) found = true;
                p = end;
            }
        }
    }
    fclose(f);
    return uid_ok && found;
}

static bool client_may_resign(const Client *c)
{
    const SockServer *s = c->server;
    gid_t groups[PEER_GROUPS_MAX];
    size_t n = 0;

    if (!c->have_peer) return false;
    if (client_peer_groups(c, groups, PEER_GROUPS_MAX, &n) < 0) {
        if (sock_server_peer_may_resign(&c->peer, NULL, 0, s->self_uid, s->config.group))
            return true;
        return s->config.group != SOCK_SERVER_NO_GROUP &&
               proc_groups_contain(&c->peer, s->config.group);
    }
    return sock_server_peer_may_resign(&c->peer, groups, n, s->self_uid, s->config.group);
}

static int client_resign(Client *c)
{
    SockServer *s = c->server;
    char message[PROTO_MESSAGE_MAX + 1] = "";
    ssize_t n;
    int r;

    c->state = CLIENT_REPLYING;
    if (!s->config.resign)
        return client_fail(c, PROTO_ERROR_UNSUPPORTED, "this daemon does not implement RESIGN");
    if (!client_may_resign(c))
        return client_fail(c, PROTO_ERROR_PERMISSION_DENIED,
                           "RESIGN needs root, the daemon's uid or the socket group");
    s->stats.resigns++;
    r = s->config.resign(s->config.userdata, &c->peer, message, sizeof(message));
    message[sizeof(message) - 1] = 0;
    if (r < 0) return client_fail(c, PROTO_ERROR_FAILED, message[0] ? message : strerror(-r));
    n = proto_ok_format(PROTO_VERB_RESIGN, message, c->out, sizeof(c->out));
    if (n < 0) {
        client_free(c);
        return 0;
    }
    c->out_n = (size_t)n;
    c->out_off = 0;
    return client_flush(c);
}

static int client_dispatch(Client *c, ProtoVerb verb, size_t line_len)
{
    SockServer *s = c->server;

    client_disarm_timer(c);
    switch (verb) {
    case PROTO_VERB_STATUS:
        c->state = CLIENT_REPLYING;
        if (client_format_status(c) < 0)
            return client_fail(c, PROTO_ERROR_INTERNAL, "no status available");
        return client_flush(c);
    case PROTO_VERB_WATCH:
        /* One request per connection: nothing may follow WATCH. */
        if (c->in_n > line_len) {
            s->stats.protocol_errors++;
            return client_fail(c, PROTO_ERROR_UNEXPECTED_INPUT, "nothing may follow WATCH");
        }
        c->state = CLIENT_WATCHING;
        s->stats.watchers++;
        return client_push(c);
    case PROTO_VERB_RESIGN:
        return client_resign(c);
    }
    return client_fail(c, PROTO_ERROR_INTERNAL, NULL);
}

static int client_read(Client *c)
{
    SockServer *s = c->server;

    for (;;) {
        char discard[64];
        char *dst = c->state == CLIENT_READING ? c->in + c->in_n : discard;
        size_t room = c->state == CLIENT_READING ? sizeof(c->in) - c->in_n : sizeof(discard);
        ssize_t n;

        if (room == 0) break; /* the parser below reports too-long */
        n = recv(c->fd, dst, room, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 1;
            client_free(c);
            return 0;
        }
        if (n == 0) {
            /* The client closed (or half-closed before a full request). A
             * half-closed client still reads: answer what it sent. */
            if (c->state == CLIENT_READING && c->in_n > 0) {
                ProtoVerb verb;
                size_t len;
                if (proto_request_parse(c->in, c->in_n, &verb, &len) == -EAGAIN) {
                    s->stats.protocol_errors++;
                    return client_fail(c, PROTO_ERROR_MALFORMED, "request line without '\\n'");
                }
                break;
            }
            if (c->state == CLIENT_WATCHING) {
                /* Half-closed (`echo WATCH | socat ...`): keep sending; a
                 * full close shows as EPOLLHUP or a failed send. */
                c->read_closed = true;
                if (client_update_events(c) < 0) {
                    client_free(c);
                    return 0;
                }
                return 1;
            }
            client_free(c);
            return 0;
        }
        if (c->state == CLIENT_WATCHING) {
            s->stats.protocol_errors++;
            return client_fail(c, PROTO_ERROR_UNEXPECTED_INPUT, "nothing may follow WATCH");
        }
        c->in_n += (size_t)n;
        break;
    }

    if (c->state != CLIENT_READING) return 1;

    ProtoVerb verb;
    size_t len;
    int r = proto_request_parse(c->in, c->in_n, &verb, &len);
    if (r == -EAGAIN) return 1;
    if (r > 0) {
        s->stats.protocol_errors++;
        return client_fail(c, (ProtoError)r, NULL);
    }
    if (r < 0) return client_fail(c, PROTO_ERROR_INTERNAL, NULL);
    return client_dispatch(c, verb, len);
}

static int client_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
    Client *c = userdata;

    if (revents & EPOLLOUT) {
        if (client_flush(c) == 0) return 0;
        /* Caught up: a status that became due meanwhile goes out now. */
        if (c->state == CLIENT_WATCHING && !client_out_pending(c) && c->due && client_push(c) == 0)
            return 0;
    }
    if ((revents & (EPOLLHUP | EPOLLERR)) && (c->state != CLIENT_READING || c->read_closed)) {
        client_free(c); /* gone both ways */
        return 0;
    }
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (c->state == CLIENT_REPLYING) return 0;
        (void)client_read(c);
    }
    return 0;
}

static int client_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
    Client *c = userdata;
    SockServer *s = c->server;

    switch (c->state) {
    case CLIENT_READING:
        s->stats.dropped_idle++;
        (void)client_fail(c, PROTO_ERROR_TIMEOUT, "no request line in time");
        return 0;
    case CLIENT_REPLYING:
        s->stats.dropped_slow++;
        client_free(c);
        return 0;
    case CLIENT_WATCHING:
        if (client_out_pending(c) &&
            now_mono_usec() >= c->behind_since + s->config.write_timeout_usec) {
            s->stats.dropped_slow++;
            client_free(c);
            return 0;
        }
        if (c->due) (void)client_push(c);
        return 0;
    }
    return 0;
}

static void refuse_busy(SockServer *s, int fd)
{
    char buf[PROTO_REPLY_MAX];
    ssize_t n = proto_error_format(PROTO_ERROR_BUSY, "too many clients", buf, sizeof(buf));
    /* A fresh socket's buffer is empty: this does not block, and if it
     * failed the close alone tells the client. */
    if (n > 0) (void)!send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
    s->stats.refused_busy++;
}

static int client_new(SockServer *s, int fd)
{
    _cleanup_close_ int owned = fd;
    Client *c;
    socklen_t len;
    int r;

    if (s->stats.clients >= s->config.max_clients) {
        refuse_busy(s, TAKE_FD(owned));
        return -EBUSY;
    }
    c = calloc(1, sizeof(*c));
    if (!c) return -ENOMEM;
    c->server = s;
    c->fd = TAKE_FD(owned);
    len = sizeof(c->peer);
    c->have_peer =
        getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) == 0 && len == sizeof(c->peer);
    c->next = s->clients;
    if (c->next) c->next->prev = c;
    s->clients = c;
    s->stats.clients++;
    s->stats.accepted++;
    c->accepted_usec = now_mono_usec();

    /* A probe has usually sent its request before the accept: answer it at
     * once rather than one loop iteration later. */
    if (client_read(c) == 0) return 0; /* answered (or gone) already */
    r = client_attach(c);
    if (r < 0) {
        client_free(c);
        return r;
    }
    return 0;
}

int sock_server_add_connection(SockServer *s, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    return client_new(s, fd);
}

/* ------------------------------------------------------------------------ */
/* Listening */

static int accept_resume(sd_event_source *source, uint64_t usec, void *userdata)
{
    SockServer *s = userdata;
    (void)sd_event_source_set_enabled(s->listen_source, SD_EVENT_ON);
    return 0;
}

static int listen_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
    SockServer *s = userdata;

    for (int i = 0; i < ACCEPT_BURST; i++) {
        int cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the socket stays readable, so pause it
                 * rather than spin; clients wait in the backlog. */
                (void)sd_event_source_set_enabled(s->listen_source, SD_EVENT_OFF);
                (void)sd_event_source_set_time(s->accept_pause,
                                               now_mono_usec() + ACCEPT_PAUSE_USEC);
                (void)sd_event_source_set_enabled(s->accept_pause, SD_EVENT_ONESHOT);
            }
            return 0;
        }
        (void)client_new(s, cfd);
    }
    return 0;
}

static int publish_dispatch(sd_event_source *source, void *userdata)
{
    SockServer *s = userdata;
    Client *next;

    for (Client *c = s->clients; c; c = next) {
        next = c->next; /* c may be freed */
        if (c->state == CLIENT_WATCHING) (void)client_push(c);
    }
    return 0;
}

void sock_server_publish(SockServer *s)
{
    if (s && s->publish_defer)
        (void)sd_event_source_set_enabled(s->publish_defer, SD_EVENT_ONESHOT);
}

uint64_t sock_server_claims_until(SockServer *s, uint64_t now_boot_usec)
{
    uint64_t until = 0;

    if (!s) return 0;
    if (s->status_claim_until > now_boot_usec) until = s->status_claim_until;
    for (Client *c = s->clients; c; c = c->next) {
        if (c->state != CLIENT_WATCHING || c->claim_until <= now_boot_usec) continue;
        if (!c->last_leader && !client_out_pending(c) && !client_unread(c)) {
            c->claim_until = 0; /* it has read "not leader" */
            continue;
        }
        until = max_u64(until, c->claim_until);
    }
    return until;
}

void sock_server_get_stats(const SockServer *s, SockServerStats *ret)
{
    *ret = s->stats;
}

/* 0 when path is free (nothing there, or a stale socket now removed),
 * -EADDRINUSE when a server answers on it, -EEXIST when it is no socket. */
static int socket_path_claim(const char *path, const struct sockaddr_un *sa, socklen_t sa_len)
{
    struct stat st;
    int fd, r;

    if (lstat(path, &st) < 0) return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) return -EEXIST;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    r = connect(fd, (const struct sockaddr *)sa, sa_len) < 0 ? -errno : 0;
    close(fd);
    /* Connected, or a full backlog: somebody is alive there. */
    if (r == 0 || r == -EAGAIN || r == -EINPROGRESS) return -EADDRINUSE;
    if (r != -ECONNREFUSED) return r;
    if (unlink(path) < 0 && errno != ENOENT) return -errno;
    return 0;
}

static void raise_fd_limit(unsigned max_clients)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_clients + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* Binds s->listen_fd, listens and puts the socket file at s->path. The
 * socket's directory may be writable by others (an emptyDir shared with
 * containers of other users), so nothing is done there by a name that
 * someone else could have replaced meanwhile (a symlink swapped in would make
 * a chmod or chown act on another file): the socket is made in a private
 * directory next to it (mkdtemp: a random name, 0700, ours), created with the
 * configured mode through the umask and given its group in there, then
 * hard-linked into place. link() never replaces a file (EEXIST: another
 * daemon got there first) and never follows a symlink. The umask is
 * process-wide: it is changed around one mkdtemp() and one bind() only, and
 * restored at once (the daemon's event loop is its only thread that creates
 * files). */
#define PRIVATE_DIR_SUFFIX ".XXXXXX"
#define PRIVATE_NAME_MAX(sun_path_size) ((sun_path_size) - sizeof(PRIVATE_DIR_SUFFIX "/s"))

static int socket_bind_private(SockServer *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[sizeof(sa.sun_path)];
    size_t n = strlen(s->path);
    mode_t mode = s->config.mode, old_umask;
    struct stat st, dst = {0};
    int dfd = -1, r;
    bool bound = false;

    /* PATH.XXXXXX/s must fit into sun_path (checked by the caller). */
    if (n > PRIVATE_NAME_MAX(sizeof(sa.sun_path))) return -ENAMETOOLONG;
    memcpy(dir, s->path, n);
    memcpy(dir + n, PRIVATE_DIR_SUFFIX, sizeof(PRIVATE_DIR_SUFFIX));

    old_umask = umask(0077);
    r = mkdtemp(dir) ? 0 : -errno;
    umask(old_umask);
    if (r < 0) return r;
    memcpy(sa.sun_path, dir, n + sizeof(PRIVATE_DIR_SUFFIX) - 1);
    memcpy(sa.sun_path + n + sizeof(PRIVATE_DIR_SUFFIX) - 1, "/s", 3);

    /* From here on the directory is used through dfd, checked to be the one
     * just made: ours, private, not a symlink. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        r = -errno;
        goto out;
    }
    if (fstat(dfd, &dst) < 0) {
        r = -errno;
        goto out;
    }
    if (dst.st_uid != geteuid() || (dst.st_mode & 0077) != 0) {
        r = -EPERM;
        goto out;
    }

    /* A socket file's mode is 0777 minus the umask at bind(). */
    old_umask = umask(~mode & 0777);
    r = bind(s->listen_fd, (struct sockaddr *)&sa, (socklen_t)sizeof(sa)) < 0 ? -errno : 0;
    umask(old_umask);
    if (r < 0) goto out;
    bound = true;
    if (fstatat(dfd, "s", &st, AT_SYMLINK_NOFOLLOW) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISSOCK(st.st_mode)) {
        r = -EPERM;
        goto out;
    }
    /* A default ACL of the directory replaces the umask; set the mode then,
     * inside the private directory where nobody else can swap the name. */
    if ((st.st_mode & 07777) != mode && fchmodat(dfd, "s", mode, 0) < 0) {
        r = -errno;
        goto out;
    }
    if (s->config.group != SOCK_SERVER_NO_GROUP &&
        fchownat(dfd, "s", (uid_t)-1, s->config.group, AT_SYMLINK_NOFOLLOW) < 0) {
        r = -errno;
        goto out;
    }
    if (listen(s->listen_fd, SOMAXCONN) < 0) {
        r = -errno;
        goto out;
    }
    if (linkat(dfd, "s", AT_FDCWD, s->path, 0) < 0) {
        r = errno == EEXIST ? -EADDRINUSE : -errno;
        goto out;
    }
    /* The file at s->path is this inode (a hard link of it). */
    s->sock_dev = st.st_dev;
    s->sock_ino = st.st_ino;
    s->sock_file_ours = true;
    r = 0;

out:
    if (bound && dfd >= 0) (void)unlinkat(dfd, "s", 0);
    /* Only the directory made above, should someone have renamed it. */
    if (dfd < 0 || (stat(dir, &st) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino))
        (void)rmdir(dir);
    if (dfd >= 0) close(dfd);
    return r;
}

static int sock_server_listen(SockServer *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(s->path);
    int r;

    /* Room for the private directory's name too (socket_bind_private()). */
    if (n == 0 || n > PRIVATE_NAME_MAX(sizeof(sa.sun_path))) return -ENAMETOOLONG;
    memcpy(sa.sun_path, s->path, n + 1);

    r = mkdir_parents(s->path, 0755);
    if (r < 0) return r;
    r = socket_path_claim(s->path, &sa, (socklen_t)sizeof(sa));
    if (r < 0) return r;

    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) return -errno;
    r = socket_bind_private(s);
    if (r < 0) return r;

    r = sd_event_add_io(s->event, &s->listen_source, s->listen_fd, EPOLLIN, listen_io, s);
    if (r < 0) return r;
    r = sd_event_add_time(s->event, &s->accept_pause, CLOCK_MONOTONIC, 0, USEC_PER_MSEC,
                          accept_resume, s);
    if (r < 0) return r;
    return sd_event_source_set_enabled(s->accept_pause, SD_EVENT_OFF);
}

int sock_server_new(sd_event *event, const SockServerConfig *config, SockServer **ret)
{
    _cleanup_(sock_server_freep) SockServer *s = NULL;
    int r;

    if (!event || !config || !config->get_status || !ret) return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s) return -ENOMEM;
    s->listen_fd = -1;
    s->event = sd_event_ref(event);
    s->config = *config;
    s->config.path = NULL;
    if (s->config.mode == 0) s->config.mode = SOCK_SERVER_MODE_DEFAULT;
    if (s->config.max_clients == 0) s->config.max_clients = SOCK_SERVER_MAX_CLIENTS_DEFAULT;
    if (s->config.request_timeout_usec == 0)
        s->config.request_timeout_usec = SOCK_SERVER_REQUEST_TIMEOUT_USEC_DEFAULT;
    if (s->config.write_timeout_usec == 0)
        s->config.write_timeout_usec = SOCK_SERVER_WRITE_TIMEOUT_USEC_DEFAULT;
    if (s->config.status_valid_max_usec == 0)
        s->config.status_valid_max_usec = SOCK_SERVER_STATUS_VALID_MAX_USEC_DEFAULT;
    s->self_uid = geteuid();

    r = sd_event_add_defer(event, &s->publish_defer, publish_dispatch, s);
    if (r < 0) return r;
    r = sd_event_source_set_enabled(s->publish_defer, SD_EVENT_OFF);
    if (r < 0) return r;

    raise_fd_limit(s->config.max_clients);

    if (config->path) {
        s->path = strdup(config->path);
        if (!s->path) return -ENOMEM;
        r = sock_server_listen(s);
        if (r < 0) return r;
    }
    *ret = TAKE_PTR(s);
    return 0;
}

SockServer *sock_server_free(SockServer *s)
{
    struct stat st;

    if (!s) return NULL;
    while (s->clients)
        client_free(s->clients);
    sd_event_source_disable_unref(s->listen_source);
    sd_event_source_disable_unref(s->accept_pause);
    sd_event_source_disable_unref(s->publish_defer);
    /* Only our own socket file: another daemon may have replaced it. */
    if (s->sock_file_ours && stat(s->path, &st) == 0 && st.st_dev == s->sock_dev &&
        st.st_ino == s->sock_ino)
        (void)unlink(s->path);
    if (s->listen_fd >= 0) close(s->listen_fd);
    sd_event_unref(s->event);
    free(s->path);
    free(s);
    return NULL;
}

void sock_server_freep(SockServer **s)
{
    sock_server_free(*s);
}
