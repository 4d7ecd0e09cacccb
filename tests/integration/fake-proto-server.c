/* SPDX-License-Identifier: MIT */
/* A scripted server of the socket protocol, built on proto/, for driving
 * leader-probe (and any other client) through every case: one behaviour per
 * run, clients served one after the other.
 *
 *   fake-proto-server --socket PATH --mode MODE [--delay-ms N] [--age-ms N]
 *                     [--hostname H] [--identity I] [--log FILE]
 *
 * Modes:
 *   leader          a status saying this host leads (hostname = this host's)
 *   not-leader      a status naming another leader
 *   other-identity  "leader", but of another pod (other hostname and identity)
 *   lapsed          is_leader true but valid_ms 0
 *   aged            "leader" (valid_ms 10000) with boottime_ms --age-ms (signed) before
 *                   this host's CLOCK_BOOTTIME at the moment of the reply: a line that
 *                   waited that long before it was read (negative: from the future);
 *                   WATCH gets that one line
 *   garbage         a line that is not JSON
 *   slow            "leader", after --delay-ms
 *   silent          accepts, reads, never answers
 *   closing         accepts and closes at once
 *   oversized       a reply line longer than PROTO_REPLY_MAX
 *   error           an error reply
 *   busy            "busy" error replies until --delay-ms after start, then "leader"
 *   bad-version     a reply of protocol version 2
 *   flip            WATCH: "not leader" now, "leader" after --delay-ms
 *   no-listener     leaves a stale socket file (bound, never listening) and exits
 *   served          the daemon's own socket server (daemon/sock_server) on sd-event:
 *                   leader until --delay-ms after start (0: for ever), then
 *                   following; WATCH gets a line every 100 ms ("renews")
 *   served-later    the same, following first and leader from --delay-ms on
 *
 * Prints "READY" on stdout once it listens; each request line it receives
 * is appended to --log (the bytes as sent). Runs until SIGTERM/SIGINT. */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "sock_server.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
    quit = 1;
}

static void msleep(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !quit)
        ;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* the client left: fine for a test server */
        }
        s += w;
        n -= (size_t)w;
    }
}

typedef struct Config {
    const char *mode;
    unsigned delay_ms;
    const char *hostname;
    const char *identity;
    FILE *log;
    uint64_t busy_until_ms; /* CLOCK_MONOTONIC */
    long long age_ms;       /* "aged": how old the line claims to be */
} Config;

static void make_status(const Config *c, bool leader, ProtoStatus *s)
{
    char ts[PROTO_TIMESTAMP_MAX + 1];
    struct timespec now;

    memset(s, 0, sizeof(*s));
    strcpy(s->namespace_, "default");
    strcpy(s->election, "test");
    if (proto_strcpy(s->identity, sizeof(s->identity), c->identity) < 0 ||
        proto_strcpy(s->hostname, sizeof(s->hostname), c->hostname) < 0)
        abort();
    clock_gettime(CLOCK_REALTIME, &now);
    strcpy(s->since,
           proto_timestamp_format((uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000, ts,
                                  sizeof(ts)));
    if (leader) {
        strcpy(s->leader, s->identity);
        s->is_leader = true;
        s->term = 3;
        s->valid_ms = 10000;
        s->state = PROTO_STATE_LEADING;
    } else {
        strcpy(s->leader, "someone-else");
        s->term = 4;
        s->valid_ms = 10000;
        s->state = PROTO_STATE_FOLLOWING;
    }
}

static void send_status(int fd, const Config *c, bool leader)
{
    ProtoStatus s;
    char buf[PROTO_REPLY_MAX];
    make_status(c, leader, &s);
    ssize_t n = proto_status_format(&s, buf, sizeof(buf));
    if (n < 0) abort();
    send_all(fd, buf, (size_t)n);
}

/* Reads one request line (bounded); returns its verb, 0 on a bad line or EOF. */
static ProtoVerb read_request(int fd, const Config *c)
{
    char buf[PROTO_REQUEST_MAX];
    size_t n = 0;

    while (n < sizeof(buf)) {
        /* The request is usually there already: read first, poll after. */
        ssize_t r = recv(fd, buf + n, sizeof(buf) - n, MSG_DONTWAIT);
        if (r < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, 5000) <= 0) return 0;
            continue;
        }
        if (r <= 0) return 0;
        n += (size_t)r;
        ProtoVerb verb;
        size_t len;
        int p = proto_request_parse(buf, n, &verb, &len);
        if (p == -EAGAIN) continue;
        if (c->log) {
            fwrite(buf, 1, p == 0 ? len : n, c->log);
            fflush(c->log);
        }
        return p == 0 ? verb : 0;
    }
    return 0;
}

/* Until the client closes (or the server is told to quit). */
static void wait_client_gone(int fd)
{
    char b[64];
    while (!quit) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, 100);
        if (r > 0 && recv(fd, b, sizeof(b), 0) <= 0) return;
    }
}

static void serve(int fd, const Config *c)
{
    const char *m = c->mode;

    if (strcmp(m, "closing") == 0) return;
    ProtoVerb verb = read_request(fd, c);
    if (verb == 0) {
        char buf[PROTO_REPLY_MAX];
        ssize_t n = proto_error_format(PROTO_ERROR_MALFORMED, "bad request", buf, sizeof(buf));
        send_all(fd, buf, (size_t)n);
        return;
    }

    if (strcmp(m, "leader") == 0 || strcmp(m, "not-leader") == 0 ||
        strcmp(m, "other-identity") == 0) {
        send_status(fd, c, strcmp(m, "not-leader") != 0);
    } else if (strcmp(m, "slow") == 0) {
        msleep(c->delay_ms);
        send_status(fd, c, true);
    } else if (strcmp(m, "flip") == 0) {
        send_status(fd, c, false);
        if (verb != PROTO_VERB_WATCH) return;
        msleep(c->delay_ms);
        send_status(fd, c, true);
    } else if (strcmp(m, "lapsed") == 0) {
        ProtoStatus s;
        char buf[PROTO_REPLY_MAX];
        make_status(c, true, &s);
        s.valid_ms = 0;
        ssize_t n = proto_status_format(&s, buf, sizeof(buf));
        send_all(fd, buf, (size_t)n);
    } else if (strcmp(m, "aged") == 0) {
        ProtoStatus s;
        char buf[PROTO_REPLY_MAX];
        struct timespec now;
        make_status(c, true, &s);
        clock_gettime(CLOCK_BOOTTIME, &now);
        long long boot_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        /* 0 would mean "omitted": never below 1. */
        s.boottime_ms = boot_ms - c->age_ms > 0 ? (uint64_t)(boot_ms - c->age_ms) : 1;
        ssize_t n = proto_status_format(&s, buf, sizeof(buf));
        if (n < 0) abort();
        send_all(fd, buf, (size_t)n);
    } else if (strcmp(m, "garbage") == 0) {
        static const char g[] = "HTTP/1.1 200 OK {is_leader: true}\n";
        send_all(fd, g, sizeof(g) - 1);
    } else if (strcmp(m, "silent") == 0) {
        wait_client_gone(fd);
        return;
    } else if (strcmp(m, "oversized") == 0) {
        /* Valid JSON that is too long: the bound, not the syntax, refuses it. */
        static char big[PROTO_REPLY_MAX + 64];
        ProtoStatus s;
        make_status(c, true, &s);
        ssize_t n = proto_status_format(&s, big, sizeof(big));
        size_t pos = (size_t)n - 2; /* before "}\n" */
        memcpy(big + pos, ",\"pad\":\"", 8);
        pos += 8;
        memset(big + pos, 'x', sizeof(big) - pos - 3);
        memcpy(big + sizeof(big) - 3, "\"}\n", 3);
        send_all(fd, big, sizeof(big));
    } else if (strcmp(m, "busy") == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 < c->busy_until_ms) {
            char buf[PROTO_REPLY_MAX];
            ssize_t n = proto_error_format(PROTO_ERROR_BUSY, "too many clients", buf, sizeof(buf));
            send_all(fd, buf, (size_t)n);
            return;
        }
        send_status(fd, c, true);
    } else if (strcmp(m, "error") == 0) {
        char buf[PROTO_REPLY_MAX];
        ssize_t n = proto_error_format(PROTO_ERROR_INTERNAL, "scripted failure", buf, sizeof(buf));
        send_all(fd, buf, (size_t)n);
    } else if (strcmp(m, "bad-version") == 0) {
        char buf[PROTO_REPLY_MAX];
        ProtoStatus s;
        make_status(c, true, &s);
        ssize_t n = proto_status_format(&s, buf, sizeof(buf));
        buf[9] = '2'; /* {"proto":1 */
        send_all(fd, buf, (size_t)n);
    } else {
        abort();
    }
    if (verb == PROTO_VERB_WATCH) wait_client_gone(fd);
}

/* The "served" modes: leadership computed from a deadline at the moment of
 * each reply, as the daemon does, through the daemon's own server. */
typedef struct Served {
    const Config *config;
    bool leader_first;
    uint64_t switch_at; /* CLOCK_BOOTTIME µs; 0: never */
    SockServer *server;
} Served;

static uint64_t boot_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int served_status(void *userdata, uint64_t now, ProtoStatus *ret)
{
    Served *sv = userdata;
    bool before = sv->switch_at == 0 || now < sv->switch_at;
    bool leader = sv->leader_first ? before : !before;

    make_status(sv->config, leader, ret);
    if (leader && sv->leader_first && sv->switch_at)
        ret->valid_ms = (sv->switch_at - now + 999) / 1000;
    return 0;
}

static int served_tick(sd_event_source *source, uint64_t usec, void *userdata)
{
    Served *sv = userdata;
    sock_server_publish(sv->server);
    return sd_event_source_set_time(source, usec + 100000);
}

static int served_run(const char *path, const Config *c)
{
    Served sv = {.config = c, .leader_first = strcmp(c->mode, "served") == 0};
    SockServerConfig sc = {
        .path = path, .group = SOCK_SERVER_NO_GROUP, .get_status = served_status, .userdata = &sv};
    sd_event *e = NULL;
    sd_event_source *tick = NULL;
    sigset_t ss;
    int r;

    if (c->delay_ms) sv.switch_at = boot_usec() + (uint64_t)c->delay_ms * 1000;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    r = sd_event_default(&e);
    if (r >= 0) r = sock_server_new(e, &sc, &sv.server);
    if (r >= 0)
        r = sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 100000, 1000, served_tick, &sv);
    if (r >= 0) r = sd_event_source_set_enabled(tick, SD_EVENT_ON);
    if (r >= 0) r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
    if (r >= 0) r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
    if (r < 0) {
        fprintf(stderr, "fake-proto-server: %s\n", strerror(-r));
        return 2;
    }
    printf("READY\n");
    fflush(stdout);
    r = sd_event_loop(e);
    sd_event_source_disable_unref(tick);
    sock_server_free(sv.server);
    sd_event_unref(e);
    return r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},   {"mode", required_argument, NULL, 'm'},
        {"delay-ms", required_argument, NULL, 'd'}, {"hostname", required_argument, NULL, 'H'},
        {"identity", required_argument, NULL, 'I'}, {"log", required_argument, NULL, 'l'},
        {"age-ms", required_argument, NULL, 'a'},   {NULL, 0, NULL, 0},
    };
    static const char *const modes[] = {
        "leader",      "not-leader", "other-identity", "lapsed", "garbage",     "slow",
        "silent",      "closing",    "oversized",      "error",  "bad-version", "flip",
        "no-listener", "served",     "served-later",   "busy",   "aged",
    };
    const char *path = NULL;
    Config c = {.mode = NULL};
    struct utsname u;
    int opt;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (opt) {
        case 's':
            path = optarg;
            break;
        case 'm':
            c.mode = optarg;
            break;
        case 'd':
            c.delay_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'a':
            c.age_ms = strtoll(optarg, NULL, 10);
            break;
        case 'H':
            c.hostname = optarg;
            break;
        case 'I':
            c.identity = optarg;
            break;
        case 'l':
            c.log = fopen(optarg, "ae");
            if (!c.log) {
                perror("fake-proto-server: --log");
                return 2;
            }
            break;
        default:
            return 64;
        }
    }
    bool known = false;
    for (size_t i = 0; c.mode && i < sizeof(modes) / sizeof(modes[0]); i++)
        known = known || strcmp(c.mode, modes[i]) == 0;
    if (!path || !known || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "usage: fake-proto-server --socket PATH --mode MODE [...]\n");
        return 64;
    }
    if (uname(&u) < 0) return 2;
    if (strcmp(c.mode, "other-identity") == 0) {
        c.hostname = c.hostname ? c.hostname : "another-pod";
        c.identity = c.identity ? c.identity : "another-pod";
    }
    c.hostname = c.hostname ? c.hostname : u.nodename;
    c.identity = c.identity ? c.identity : c.hostname;

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    c.busy_until_ms =
        (uint64_t)start.tv_sec * 1000 + (uint64_t)start.tv_nsec / 1000000 + c.delay_ms;

    if (strncmp(c.mode, "served", 6) == 0) return served_run(path, &c);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    unlink(path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("fake-proto-server: bind");
        return 2;
    }
    if (strcmp(c.mode, "no-listener") == 0) {
        /* The file stays; nobody will ever accept on it. */
        close(lfd);
        printf("READY\n");
        return 0;
    }
    if (listen(lfd, 64) < 0) {
        perror("fake-proto-server: listen");
        return 2;
    }
    printf("READY\n");
    fflush(stdout);

    while (!quit) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        serve(fd, &c);
        close(fd);
    }
    close(lfd);
    unlink(path);
    if (c.log) fclose(c.log);
    return 0;
}
