/* SPDX-License-Identifier: MIT */
/* Tests of daemon/sock_server over real Unix sockets in a temporary
 * directory and over socketpair(): STATUS computed at reply time, WATCH and
 * its coalescing, slow and idle clients dropped, bounds, garbage, socket
 * lifecycle (directory, stale, live, mode, group, teardown), RESIGN
 * permissions (with real other uids when run as root). The clients run in
 * this process, non-blocking, while the loop is pumped. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "sock_server.h"
#include "util.h"

#include "check.h"

#define TEST_GROUP ((gid_t)4242)
#define NOBODY ((uid_t)65534)

static char tmpdir[] = "/tmp/test-sock-server.XXXXXX";

/* bind() of the server under test, through the linker's --wrap=bind
 * (tests/sock_server.cmake). While race.dir is set, a socket file bound
 * directly in that directory is replaced by a symlink to race.target right
 * after bind() returns: the move of a process that can write the socket's
 * directory (a world-writable emptyDir) and wins the race against whatever
 * the server does to the file by its name next. */
static struct {
    const char *dir;
    const char *target;
    unsigned swapped;
} race;

int __real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int r = __real_bind(fd, addr, len);
    if (r == 0 && race.dir && addr->sa_family == AF_UNIX) {
        const char *p = ((const struct sockaddr_un *)addr)->sun_path;
        size_t n = strlen(race.dir);
        if (strncmp(p, race.dir, n) == 0 && p[n] == '/' && !strchr(p + n + 1, '/') &&
            unlink(p) == 0 && symlink(race.target, p) == 0)
            race.swapped++;
    }
    return r;
}

typedef struct Fake {
    uint64_t deadline_boot_usec; /* is_leader while now < deadline */
    uint64_t term;
    unsigned calls;
    uint64_t last_now;
    int fail;
    unsigned resigns;
    struct ucred resign_peer;
} Fake;

static int fake_status(void *userdata, uint64_t now, ProtoStatus *ret)
{
    Fake *f = userdata;
    f->calls++;
    f->last_now = now;
    if (f->fail) return f->fail;
    strcpy(ret->namespace_, "default");
    strcpy(ret->election, "test");
    strcpy(ret->identity, "pod-a");
    strcpy(ret->hostname, "host-a");
    ret->is_leader = now < f->deadline_boot_usec;
    strcpy(ret->leader, ret->is_leader ? "pod-a" : "");
    ret->term = f->term;
    ret->valid_ms = ret->is_leader ? (f->deadline_boot_usec - now) / 1000 : 0;
    ret->state = ret->is_leader ? PROTO_STATE_LEADING : PROTO_STATE_FOLLOWING;
    return 0;
}

static int fake_resign(void *userdata, const struct ucred *peer, char *msg, size_t size)
{
    Fake *f = userdata;
    f->resigns++;
    f->resign_peer = *peer;
    f->deadline_boot_usec = 0;
    snprintf(msg, size, "released term %llu", (unsigned long long)f->term);
    return 0;
}

static void pump(sd_event *e, uint64_t usec)
{
    uint64_t end = now_boot_usec() + usec;
    do {
        CHECK(sd_event_run(e, 5 * USEC_PER_MSEC) >= 0);
    } while (now_boot_usec() < end);
}

/* Reads one line (or EOF) from a non-blocking client fd while running the
 * loop. Returns its length, 0 on EOF, -ETIMEDOUT. */
static ssize_t client_line(sd_event *e, int fd, char *buf, size_t size, uint64_t timeout_usec)
{
    uint64_t end = now_boot_usec() + timeout_usec;
    size_t n = 0;

    while (now_boot_usec() < end) {
        /* One byte at a time: never read past the line. */
        ssize_t r = recv(fd, buf + n, 1, MSG_DONTWAIT);
        if (r == 1) {
            n++;
            if (buf[n - 1] == '\n' || n + 1 >= size) {
                buf[n] = 0;
                return (ssize_t)n;
            }
            continue;
        }
        if (r == 0) return 0;
        if (errno == ECONNRESET) return 0;
        CHECK(errno == EAGAIN);
        (void)sd_event_run(e, 2 * USEC_PER_MSEC);
    }
    return -ETIMEDOUT;
}

static bool client_at_eof(sd_event *e, int fd)
{
    char buf[PROTO_REPLY_MAX + 1];
    return client_line(e, fd, buf, sizeof(buf), 2 * USEC_PER_SEC) == 0;
}

static int client_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    strcpy(sa.sun_path, path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int r = -errno;
        if (fd >= 0) close(fd);
        return r;
    }
    return fd;
}

static void send_str(int fd, const char *s)
{
    CHECK_EQ_INT(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Sends req, expects one reply of the given type (and error), then EOF. */
static void expect_reply(sd_event *e, int fd, const char *req, ProtoReplyType type, ProtoError err,
                         ProtoReply *ret)
{
    char buf[PROTO_REPLY_MAX + 1];
    ProtoReply r;

    if (req) send_str(fd, req);
    ssize_t n = client_line(e, fd, buf, sizeof(buf), 3 * USEC_PER_SEC);
    CHECK(n > 0);
    if (n <= 0) return;
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    CHECK_EQ_INT(r.type, type);
    if (type == PROTO_REPLY_ERROR) CHECK_EQ_INT(r.error, err);
    CHECK(client_at_eof(e, fd));
    if (ret) *ret = r;
}

static SockServer *server_new(sd_event *e, Fake *f, const char *path, SockServerConfig *over)
{
    SockServerConfig c = {
        .path = path,
        .group = SOCK_SERVER_NO_GROUP,
        .get_status = fake_status,
        .resign = fake_resign,
        .userdata = f,
    };
    SockServer *s = NULL;
    if (over) {
        over->path = path;
        over->get_status = fake_status;
        over->userdata = f;
        c = *over;
    }
    CHECK_EQ_INT(sock_server_new(e, &c, &s), 0);
    return s;
}

static void path_in_tmp(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void test_status_socketpair(sd_event *e)
{
    Fake f = {.deadline_boot_usec = now_boot_usec() + 300 * USEC_PER_MSEC, .term = 7};
    SockServer *s = server_new(e, &f, NULL, NULL);
    ProtoReply r;
    int sp[2];

    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    uint64_t before = now_boot_usec();
    expect_reply(e, sp[1], "STATUS\n", PROTO_REPLY_STATUS, 0, &r);
    close(sp[1]);
    CHECK(r.status.is_leader);
    CHECK_EQ_INT(r.status.term, 7);
    CHECK(r.status.valid_ms > 0 && r.status.valid_ms <= 300);
    CHECK(strcmp(r.status.identity, "pod-a") == 0);
    CHECK(f.last_now >= before); /* a fresh clock reading, not the loop's cached one */
    CHECK(r.status.boottime_ms >= before / 1000 && r.status.boottime_ms <= now_boot_usec() / 1000);

    /* After the deadline the next reply says so: computed, not cached. */
    struct timespec ts = {0, 320 * 1000000L};
    nanosleep(&ts, NULL);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    expect_reply(e, sp[1], "status\r\n", PROTO_REPLY_STATUS, 0, &r);
    close(sp[1]);
    CHECK(!r.status.is_leader);
    CHECK_EQ_INT(r.status.valid_ms, 0);

    /* A provider failure is an error reply. */
    f.fail = -EIO;
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    expect_reply(e, sp[1], "STATUS\n", PROTO_REPLY_ERROR, PROTO_ERROR_INTERNAL, NULL);
    close(sp[1]);

    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.clients, 0);
    CHECK_EQ_INT(st.accepted, 3);
    CHECK_EQ_INT(st.replies, 3);
    sock_server_free(s);
}

static void test_garbage(sd_event *e)
{
    Fake f = {.term = 1};
    SockServer *s = server_new(e, &f, NULL, NULL);
    static const struct {
        const char *req;
        ProtoError err;
    } cases[] = {
        {"\x16\x03\x01\x00\xa5\x01", PROTO_ERROR_MALFORMED},
        {"GET / HTTP/1.1\r\n", PROTO_ERROR_UNKNOWN_VERB},
        {"STATUS please\n", PROTO_ERROR_BAD_ARGUMENT},
        {"\n", PROTO_ERROR_MALFORMED},
        {"STAT\0US\n", PROTO_ERROR_MALFORMED},
        {"WATCH\nSTATUS\n", PROTO_ERROR_UNEXPECTED_INPUT},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        int sp[2];
        CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
        CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
        size_t len = strlen(cases[i].req);
        if (i == 4) len = 8;
        CHECK_EQ_INT(send(sp[1], cases[i].req, len, 0), (ssize_t)len);
        expect_reply(e, sp[1], NULL, PROTO_REPLY_ERROR, cases[i].err, NULL);
        close(sp[1]);
    }

    /* An over-long line, sent in pieces: refused at the bound. */
    int sp[2];
    char big[300];
    memset(big, 'A', sizeof(big));
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    CHECK_EQ_INT(send(sp[1], big, 200, 0), 200);
    pump(e, 20 * USEC_PER_MSEC);
    (void)send(sp[1], big, 100, MSG_NOSIGNAL);
    expect_reply(e, sp[1], NULL, PROTO_REPLY_ERROR, PROTO_ERROR_TOO_LONG, NULL);
    close(sp[1]);

    /* Half-closed without a newline: malformed, still answered. */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "STATUS");
    shutdown(sp[1], SHUT_WR);
    expect_reply(e, sp[1], NULL, PROTO_REPLY_ERROR, PROTO_ERROR_MALFORMED, NULL);
    close(sp[1]);

    /* Half-closed after a full line (echo STATUS | socat ...): answered. */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "STATUS\n");
    shutdown(sp[1], SHUT_WR);
    expect_reply(e, sp[1], NULL, PROTO_REPLY_STATUS, 0, NULL);
    close(sp[1]);

    /* A client that leaves at once is simply gone. */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    close(sp[1]);
    pump(e, 20 * USEC_PER_MSEC);

    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.clients, 0);
    CHECK_EQ_INT(st.protocol_errors, 8);
    sock_server_free(s);
}

static void test_idle_and_bound(sd_event *e)
{
    Fake f = {.term = 1};
    SockServerConfig c = {.group = SOCK_SERVER_NO_GROUP,
                          .max_clients = 5,
                          .request_timeout_usec = 200 * USEC_PER_MSEC};
    char path[256];
    path_in_tmp(path, sizeof(path), "bound.sock");
    SockServer *s = server_new(e, &f, path, &c);
    int fds[5];

    for (int i = 0; i < 5; i++) {
        fds[i] = client_connect(path);
        CHECK(fds[i] >= 0);
    }
    pump(e, 30 * USEC_PER_MSEC);
    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.clients, 5);

    /* The sixth is refused with "busy". */
    int extra = client_connect(path);
    CHECK(extra >= 0);
    expect_reply(e, extra, NULL, PROTO_REPLY_ERROR, PROTO_ERROR_BUSY, NULL);
    close(extra);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.refused_busy, 1);

    /* The idle ones are dropped after the request timeout, with a reply. */
    uint64_t t0 = now_boot_usec();
    for (int i = 0; i < 5; i++) {
        expect_reply(e, fds[i], NULL, PROTO_REPLY_ERROR, PROTO_ERROR_TIMEOUT, NULL);
        close(fds[i]);
    }
    uint64_t waited = now_boot_usec() - t0;
    CHECK(waited >= 120 * USEC_PER_MSEC && waited < 3000 * USEC_PER_MSEC);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.dropped_idle, 5);
    CHECK_EQ_INT(st.clients, 0);

    /* Room again. */
    int fd = client_connect(path);
    CHECK(fd >= 0);
    expect_reply(e, fd, "STATUS\n", PROTO_REPLY_STATUS, 0, NULL);
    close(fd);
    sock_server_free(s);
}

static void test_many_clients(sd_event *e)
{
    enum { N = 300 };
    Fake f = {.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC, .term = 9};
    char path[256];
    path_in_tmp(path, sizeof(path), "many.sock");
    SockServer *s = server_new(e, &f, path, NULL);
    int fds[N];
    unsigned ok = 0;

    for (int i = 0; i < N; i++) {
        fds[i] = client_connect(path);
        CHECK(fds[i] >= 0);
        if (fds[i] >= 0) send_str(fds[i], i % 2 ? "STATUS\n" : "WATCH\n");
        if (i % 50 == 0) pump(e, 1 * USEC_PER_MSEC);
    }
    for (int i = 0; i < N; i++) {
        char buf[PROTO_REPLY_MAX + 1];
        ProtoReply r;
        ssize_t n = client_line(e, fds[i], buf, sizeof(buf), 3 * USEC_PER_SEC);
        if (n > 0 && proto_reply_parse(buf, (size_t)n, &r) == 0 && r.type == PROTO_REPLY_STATUS &&
            r.status.term == 9)
            ok++;
    }
    CHECK_EQ_INT(ok, N);
    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.watchers, N / 2);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    pump(e, 50 * USEC_PER_MSEC);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.clients, 0);
    CHECK_EQ_INT(st.watchers, 0);
    sock_server_free(s);
}

static void test_watch(sd_event *e)
{
    Fake f = {.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC, .term = 1};
    SockServerConfig c = {.group = SOCK_SERVER_NO_GROUP, .write_timeout_usec = 400 * USEC_PER_MSEC};
    SockServer *s = server_new(e, &f, NULL, &c);
    char buf[PROTO_REPLY_MAX + 1];
    ProtoReply r;
    int sp[2];

    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "WATCH\n");
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK_EQ_INT(r.status.term, 1);

    /* Each publish read promptly: one line each, with the state of then. */
    for (uint64_t t = 2; t <= 4; t++) {
        f.term = t;
        sock_server_publish(s);
        CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
        CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
        CHECK_EQ_INT(r.status.term, t);
    }
    /* Publishes before the loop runs coalesce into one line. */
    f.term = 5;
    sock_server_publish(s);
    f.term = 6;
    sock_server_publish(s);
    sock_server_publish(s);
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK_EQ_INT(r.status.term, 6);
    CHECK_EQ_INT(client_line(e, sp[1], buf, sizeof(buf), 100 * USEC_PER_MSEC), -ETIMEDOUT);

    /* A watcher that does not read: while a line is unread, nothing more is
     * queued; when it reads, it gets the newest status, no backlog. */
    for (uint64_t t = 10; t < 60; t++) {
        f.term = t;
        sock_server_publish(s);
        pump(e, 2 * USEC_PER_MSEC);
    }
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK_EQ_INT(r.status.term, 10); /* the one written before it stopped reading */
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK_EQ_INT(r.status.term, 59); /* then the newest, nothing between */
    CHECK_EQ_INT(client_line(e, sp[1], buf, sizeof(buf), 100 * USEC_PER_MSEC), -ETIMEDOUT);

    /* Unread past the write timeout while updates are due: dropped. */
    f.term = 70;
    sock_server_publish(s);
    pump(e, 20 * USEC_PER_MSEC);
    f.term = 71;
    sock_server_publish(s);
    pump(e, 1000 * USEC_PER_MSEC);
    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.dropped_slow, 1);
    CHECK_EQ_INT(st.watchers, 0);
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0); /* the old line */
    CHECK(client_at_eof(e, sp[1]));
    close(sp[1]);

    /* A half-closed watcher (`echo WATCH | socat -t ...`) keeps receiving;
     * its full close ends the watch. */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "WATCH\n");
    shutdown(sp[1], SHUT_WR);
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    pump(e, 20 * USEC_PER_MSEC);
    f.term = 80;
    sock_server_publish(s);
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK_EQ_INT(r.status.term, 80);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.watchers, 1);
    close(sp[1]);
    pump(e, 20 * USEC_PER_MSEC);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.watchers, 0);
    CHECK_EQ_INT(st.clients, 0);

    /* A watcher that reads nothing but gets no updates is not "slow". */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "WATCH\n");
    pump(e, 600 * USEC_PER_MSEC);
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.watchers, 1);
    /* Input after WATCH: an error, then closed. */
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    send_str(sp[1], "STATUS\n");
    expect_reply(e, sp[1], NULL, PROTO_REPLY_ERROR, PROTO_ERROR_UNEXPECTED_INPUT, NULL);
    close(sp[1]);
    sock_server_free(s);
}

static uint64_t cpu_usec(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * USEC_PER_SEC + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * USEC_PER_SEC + (uint64_t)ru.ru_stime.tv_usec;
}

/* Out of file descriptors: the server pauses accepting instead of spinning
 * on a listening socket that stays readable, and resumes later. */
static void test_fd_exhaustion(sd_event *e)
{
    enum { N = 8 };
    Fake f = {.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC, .term = 5};
    char path[256];
    path_in_tmp(path, sizeof(path), "emfile.sock");
    SockServer *s = server_new(e, &f, path, NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct rlimit saved, low;
    int fds[N];

    /* Valgrind emulates the descriptor limit its own way (its own
     * descriptors sit below it): the case is for native and ASan runs. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) {
        printf("test_fd_exhaustion: under valgrind, skipped\n");
        fflush(stdout);
        sock_server_free(s);
        return;
    }
    strcpy(sa.sun_path, path);
    for (int i = 0; i < N; i++)
        fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    /* Find the lowest free descriptor number: the limit goes just there. */
    int probe_fd = dup(0);
    CHECK(probe_fd >= 0);
    close(probe_fd);
    CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &saved), 0);
    low = saved;
    low.rlim_cur = (rlim_t)probe_fd;
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        send_str(fds[i], "STATUS\n");
    }
    uint64_t cpu0 = cpu_usec();
    pump(e, 300 * USEC_PER_MSEC);
    uint64_t cpu = cpu_usec() - cpu0;
    SockServerStats st;
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.accepted, 0);
    /* Paused, not spinning: far less CPU than the 300 ms that passed. */
    CHECK(cpu < 150 * USEC_PER_MSEC);
    if (cpu >= 150 * USEC_PER_MSEC)
        fprintf(stderr, "cpu while out of descriptors: %llu us\n", (unsigned long long)cpu);

    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &saved), 0);
    for (int i = 0; i < N; i++) {
        expect_reply(e, fds[i], NULL, PROTO_REPLY_STATUS, 0, NULL);
        close(fds[i]);
    }
    sock_server_get_stats(s, &st);
    CHECK_EQ_INT(st.accepted, N);
    sock_server_free(s);
}

static void test_lifecycle(sd_event *e)
{
    Fake f = {.term = 1};
    char path[300], dir[256];
    struct stat st;
    SockServer *s = NULL, *s2 = NULL;

    /* Directories are created; mode and group applied. */
    snprintf(dir, sizeof(dir), "%s/a/b", tmpdir);
    snprintf(path, sizeof(path), "%s/leader.sock", dir);
    SockServerConfig c = {.mode = 0660,
                          .group = geteuid() == 0 ? TEST_GROUP : SOCK_SERVER_NO_GROUP};
    s = server_new(e, &f, path, &c);
    CHECK_EQ_INT(stat(dir, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ_INT(lstat(path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 07777, 0660);
    if (geteuid() == 0) CHECK_EQ_INT(st.st_gid, TEST_GROUP);
    /* No temporary file is left beside it. */
    char tmp[340];
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    CHECK(access(tmp, F_OK) < 0);

    /* A second server on a live socket is refused; the first still works. */
    SockServerConfig c2 = {.group = SOCK_SERVER_NO_GROUP};
    c2.path = path;
    c2.get_status = fake_status;
    c2.userdata = &f;
    CHECK_EQ_INT(sock_server_new(e, &c2, &s2), -EADDRINUSE);
    CHECK(s2 == NULL);
    int fd = client_connect(path);
    CHECK(fd >= 0);
    expect_reply(e, fd, "STATUS\n", PROTO_REPLY_STATUS, 0, NULL);
    close(fd);

    /* Teardown removes the socket file. */
    sock_server_free(s);
    CHECK(lstat(path, &st) < 0 && errno == ENOENT);

    /* A stale socket file (nobody listening) is replaced. */
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    CHECK_EQ_INT(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(lfd);
    CHECK_EQ_INT(lstat(path, &st), 0);
    s = server_new(e, &f, path, NULL);
    CHECK(s != NULL);
    CHECK_EQ_INT(lstat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, SOCK_SERVER_MODE_DEFAULT);
    fd = client_connect(path);
    CHECK(fd >= 0);
    expect_reply(e, fd, "STATUS\n", PROTO_REPLY_STATUS, 0, NULL);
    close(fd);

    /* Not ours any more (replaced by something else): left alone. */
    CHECK_EQ_INT(unlink(path), 0);
    int rf = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(rf >= 0);
    close(rf);
    sock_server_free(s);
    CHECK_EQ_INT(lstat(path, &st), 0);
    CHECK(S_ISREG(st.st_mode));

    /* A path that is no socket is refused, not removed. */
    CHECK_EQ_INT(sock_server_new(e, &c2, &s2), -EEXIST);
    CHECK_EQ_INT(lstat(path, &st), 0);
    unlink(path);

    /* Too long for sun_path. */
    char longpath[200];
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    c2.path = longpath;
    CHECK_EQ_INT(sock_server_new(e, &c2, &s2), -ENAMETOOLONG);
}

/* The socket is made in a private directory: it appears with exactly the
 * configured mode and group, nothing is left beside it, a symlink planted at
 * the old predictable temporary name (PATH.<pid>.tmp) stays as it is, and
 * nothing done in the socket's directory meanwhile (race above) makes the
 * server change the mode or group of another file. */
static void test_listen_private(sd_event *e)
{
    static const struct {
        mode_t mode;
        bool group;
    } cases[] = {{0660, true}, {0666, true}, {0600, false}, {0666, false}};
    bool root = geteuid() == 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Fake f = {.term = 1};
        char dir[256], path[300], victim[300], planted[340], link_to[300];
        struct stat st;
        SockServer *s = NULL;
        mode_t old_umask = umask(022);

        snprintf(dir, sizeof(dir), "%s/private-%zu", tmpdir, i);
        CHECK_EQ_INT(mkdir(dir, 0777), 0);
        CHECK_EQ_INT(chmod(dir, 0777), 0); /* world-writable, like an emptyDir can be */
        snprintf(path, sizeof(path), "%s/leader.sock", dir);
        snprintf(victim, sizeof(victim), "%s/victim", dir);
        int vfd = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        CHECK(vfd >= 0);
        close(vfd);
        CHECK_EQ_INT(chmod(victim, 0600), 0);
        snprintf(planted, sizeof(planted), "%s.%d.tmp", path, (int)getpid());
        CHECK_EQ_INT(symlink(victim, planted), 0);

        SockServerConfig c = {.path = path,
                              .mode = cases[i].mode,
                              .group = cases[i].group && root ? TEST_GROUP : SOCK_SERVER_NO_GROUP,
                              .get_status = fake_status,
                              .userdata = &f};
        race.dir = dir;
        race.target = victim;
        race.swapped = 0;
        int r = sock_server_new(e, &c, &s);
        race.dir = NULL;
        CHECK_EQ_INT(r, 0);
        if (race.swapped)
            fprintf(stderr,
                    "  mode %04o: the name the server bound in %s was swapped for a "
                    "symlink before it was done with it\n",
                    (unsigned)cases[i].mode, dir);

        /* The umask is the caller's again. */
        CHECK_EQ_INT(umask(old_umask), 022);

        /* The socket: exactly the mode, and the group when one is given. */
        CHECK_EQ_INT(lstat(path, &st), 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK_EQ_INT(st.st_mode & 07777, cases[i].mode);
        if (c.group != SOCK_SERVER_NO_GROUP) CHECK_EQ_INT(st.st_gid, TEST_GROUP);

        /* The file behind the planted symlink: untouched; the symlink too. */
        CHECK_EQ_INT(stat(victim, &st), 0);
        CHECK_EQ_INT(st.st_mode & 07777, 0600);
        CHECK_EQ_INT(st.st_gid, getegid());
        CHECK_EQ_INT(lstat(planted, &st), 0);
        CHECK(S_ISLNK(st.st_mode));
        ssize_t n = readlink(planted, link_to, sizeof(link_to) - 1);
        CHECK(n > 0);
        link_to[n > 0 ? n : 0] = 0;
        CHECK_EQ_STR(link_to, victim);

        /* Nothing else in the directory: no temporary entry left behind. */
        DIR *d = opendir(dir);
        CHECK(d != NULL);
        unsigned entries = 0;
        for (struct dirent *de; d && (de = readdir(d));) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            entries++;
            if (strcmp(de->d_name, "leader.sock") != 0 && strcmp(de->d_name, "victim") != 0 &&
                strcmp(de->d_name, planted + strlen(dir) + 1) != 0) {
                fprintf(stderr, "  left in %s: %s\n", dir, de->d_name);
                failures++;
            }
        }
        if (d) closedir(d);
        CHECK_EQ_INT(entries, 3);

        /* It serves, and teardown removes it (and only it). */
        if (s) {
            int fd = client_connect(path);
            CHECK(fd >= 0);
            if (fd >= 0) {
                expect_reply(e, fd, "STATUS\n", PROTO_REPLY_STATUS, 0, NULL);
                close(fd);
            }
        }
        sock_server_free(s);
        CHECK(lstat(path, &st) < 0 && errno == ENOENT);
        CHECK_EQ_INT(lstat(victim, &st), 0);
    }

    /* The longest path: the private directory's name (PATH.XXXXXX/s) must
     * fit into sun_path too; one byte more is refused before anything is
     * made. */
    char path[200];
    int len = snprintf(path, sizeof(path), "%s/", tmpdir);
    for (size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 10; len < (int)max + 1; len++)
        path[len] = 'x';
    path[len] = 0;
    SockServer *s = NULL;
    SockServerConfig c = {.path = path, .group = SOCK_SERVER_NO_GROUP, .get_status = fake_status};
    CHECK_EQ_INT(sock_server_new(e, &c, &s), -ENAMETOOLONG);
    CHECK(access(path, F_OK) < 0);
    path[len - 1] = 0;
    Fake f = {.term = 1};
    c.userdata = &f;
    CHECK_EQ_INT(sock_server_new(e, &c, &s), 0);
    int fd = client_connect(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        expect_reply(e, fd, "STATUS\n", PROTO_REPLY_STATUS, 0, NULL);
        close(fd);
    }
    sock_server_free(s);
}

static void test_resign_rule(void)
{
    struct ucred root = {.pid = 1, .uid = 0, .gid = 0};
    struct ucred self = {.pid = 1, .uid = 1000, .gid = 1000};
    struct ucred other = {.pid = 1, .uid = 2000, .gid = 2000};
    struct ucred other_in = {.pid = 1, .uid = 2000, .gid = TEST_GROUP};
    gid_t groups[] = {5, TEST_GROUP, 7};

    CHECK(sock_server_peer_may_resign(&root, NULL, 0, 1000, SOCK_SERVER_NO_GROUP));
    CHECK(sock_server_peer_may_resign(&self, NULL, 0, 1000, SOCK_SERVER_NO_GROUP));
    CHECK(!sock_server_peer_may_resign(&other, NULL, 0, 1000, SOCK_SERVER_NO_GROUP));
    CHECK(!sock_server_peer_may_resign(&other, groups, 3, 1000, SOCK_SERVER_NO_GROUP));
    CHECK(!sock_server_peer_may_resign(&other, NULL, 0, 1000, TEST_GROUP));
    CHECK(sock_server_peer_may_resign(&other_in, NULL, 0, 1000, TEST_GROUP));
    CHECK(sock_server_peer_may_resign(&other, groups, 3, 1000, TEST_GROUP));
    CHECK(!sock_server_peer_may_resign(&other, groups, 1, 1000, TEST_GROUP));
}

/* A child process with the given credentials sends RESIGN; returns the
 * reply type * 100 + error code, or -1. */
static int resign_as(sd_event *e, const char *path, uid_t uid, gid_t gid, const gid_t *groups,
                     size_t n_groups)
{
    pid_t pid = fork();
    if (pid == 0) {
        char buf[PROTO_REPLY_MAX + 1];
        ProtoReply r;
        size_t n = 0;
        if (setgroups(n_groups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0) _exit(201);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) _exit(202);
        if (write(fd, "RESIGN\n", 7) != 7) _exit(203);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        while (n < PROTO_REPLY_MAX && poll(&pfd, 1, 3000) > 0) {
            ssize_t l = read(fd, buf + n, 1);
            if (l <= 0) break;
            n++;
            if (buf[n - 1] == '\n') break;
        }
        if (proto_reply_parse(buf, n, &r) < 0) _exit(204);
        _exit(r.type == PROTO_REPLY_OK      ? 1
              : r.type == PROTO_REPLY_ERROR ? 100 + (int)r.error
                                            : 205);
    }
    int status = 0;
    uint64_t end = now_boot_usec() + 5 * USEC_PER_SEC;
    while (now_boot_usec() < end) {
        (void)sd_event_run(e, 5 * USEC_PER_MSEC);
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void test_resign(sd_event *e)
{
    Fake f = {.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC, .term = 3};
    ProtoReply r;
    int sp[2];

    /* Over a socketpair the peer is this process: its uid is the daemon's. */
    SockServer *s = server_new(e, &f, NULL, NULL);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    expect_reply(e, sp[1], "RESIGN\n", PROTO_REPLY_OK, 0, &r);
    close(sp[1]);
    CHECK_EQ_INT(r.verb, PROTO_VERB_RESIGN);
    CHECK(strcmp(r.message, "released term 3") == 0);
    CHECK_EQ_INT(f.resigns, 1);
    CHECK_EQ_INT(f.resign_peer.pid, getpid());
    sock_server_free(s);

    /* Without a resign callback: unsupported. */
    SockServerConfig c = {.group = SOCK_SERVER_NO_GROUP};
    s = server_new(e, &f, NULL, &c);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    expect_reply(e, sp[1], "RESIGN\n", PROTO_REPLY_ERROR, PROTO_ERROR_UNSUPPORTED, NULL);
    close(sp[1]);
    sock_server_free(s);

    if (geteuid() != 0) {
        printf("test_resign: not root, skipping the cases with other uids\n");
        return;
    }
    /* Real peers with other credentials. The socket must be reachable. */
    char path[256];
    path_in_tmp(path, sizeof(path), "resign.sock");
    CHECK_EQ_INT(chmod(tmpdir, 0755), 0);
    SockServerConfig cg = {.group = TEST_GROUP, .resign = fake_resign, .mode = 0666};
    s = server_new(e, &f, path, &cg);
    gid_t in_group[] = {TEST_GROUP};
    gid_t other_groups[] = {4243};
    unsigned before = f.resigns;
    CHECK_EQ_INT(resign_as(e, path, NOBODY, NOBODY, NULL, 0), 100 + PROTO_ERROR_PERMISSION_DENIED);
    CHECK_EQ_INT(resign_as(e, path, NOBODY, NOBODY, other_groups, 1),
                 100 + PROTO_ERROR_PERMISSION_DENIED);
    CHECK_EQ_INT(f.resigns, before);
    CHECK_EQ_INT(resign_as(e, path, NOBODY, NOBODY, in_group, 1), 1); /* supplementary */
    CHECK_EQ_INT(resign_as(e, path, NOBODY, TEST_GROUP, NULL, 0), 1); /* primary */
    CHECK_EQ_INT(resign_as(e, path, 0, 0, NULL, 0), 1);               /* root */
    CHECK_EQ_INT(f.resigns, before + 3);
    CHECK_EQ_INT(f.resign_peer.uid, 0);
    sock_server_free(s);

    /* Without a socket group, a member of that group is just anyone. */
    SockServerConfig cn = {.group = SOCK_SERVER_NO_GROUP, .resign = fake_resign, .mode = 0666};
    s = server_new(e, &f, path, &cn);
    CHECK_EQ_INT(resign_as(e, path, NOBODY, TEST_GROUP, in_group, 1),
                 100 + PROTO_ERROR_PERMISSION_DENIED);
    sock_server_free(s);
}

/* Stepping down: "not leader" is appended behind an unread leader line (never held back), and
 * sock_server_claims_until() says until when a client may still act on a leader line: until the
 * watcher has read "not leader" (or is gone), until a STATUS answer's (capped) validity ran out. */
static void test_step_down(sd_event *e)
{
    Fake f = {.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC, .term = 3};
    SockServerConfig c = {.group = SOCK_SERVER_NO_GROUP};
    SockServer *s = server_new(e, &f, NULL, &c);
    char buf[PROTO_REPLY_MAX + 1];
    ProtoReply r;
    int sp[2], sq[2];
    uint64_t t;

    CHECK_EQ_INT(sock_server_claims_until(s, now_boot_usec()), 0);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    CHECK_EQ_INT(sock_server_add_connection(s, sp[0]), 0);
    send_str(sp[1], "WATCH\n");
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK(r.status.is_leader && r.status.valid_ms > 50000);
    /* read, and a leader: the claim runs until the deadline it was told */
    t = sock_server_claims_until(s, now_boot_usec());
    CHECK(t > now_boot_usec() + 50 * USEC_PER_SEC && t <= f.deadline_boot_usec);
    /* a renew the client does not read (a GC pause) */
    sock_server_publish(s);
    pump(e, 5 * USEC_PER_MSEC);
    /* step down: appended at once although a line is unread */
    f.deadline_boot_usec = 0;
    sock_server_publish(s);
    pump(e, 5 * USEC_PER_MSEC);
    CHECK(sock_server_claims_until(s, now_boot_usec()) > now_boot_usec()); /* unread */
    {
        /* both lines are there already, without the loop running again */
        char all[2 * PROTO_REPLY_MAX + 1];
        ssize_t n = recv(sp[1], all, sizeof(all) - 1, MSG_DONTWAIT | MSG_PEEK);
        char *nl;
        CHECK(n > 0);
        all[n > 0 ? n : 0] = 0;
        nl = strchr(all, '\n');
        CHECK(nl && strchr(nl + 1, '\n'));
    }
    CHECK(client_line(e, sp[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK(r.status.is_leader);                                             /* the renew */
    CHECK(sock_server_claims_until(s, now_boot_usec()) > now_boot_usec()); /* one more unread */
    CHECK(client_line(e, sp[1], buf, sizeof(buf), 100 * USEC_PER_MSEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK(!r.status.is_leader);
    CHECK_EQ_INT(sock_server_claims_until(s, now_boot_usec()), 0); /* read: no claim left */

    /* a watcher that leaves with a leader line unread holds nothing */
    f.deadline_boot_usec = now_boot_usec() + 60 * USEC_PER_SEC;
    sock_server_publish(s);
    pump(e, 5 * USEC_PER_MSEC);
    CHECK(sock_server_claims_until(s, now_boot_usec()) > now_boot_usec());
    close(sp[1]);
    pump(e, 5 * USEC_PER_MSEC);
    CHECK_EQ_INT(sock_server_claims_until(s, now_boot_usec()), 0);

    /* STATUS on a leader: valid_ms capped at 50 ms, and that long a claim */
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sq), 0);
    send_str(sq[1], "STATUS\n");
    CHECK_EQ_INT(sock_server_add_connection(s, sq[0]), 0);
    CHECK(client_line(e, sq[1], buf, sizeof(buf), USEC_PER_SEC) > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, strlen(buf), &r), 0);
    CHECK(r.status.is_leader && r.status.valid_ms > 0 && r.status.valid_ms <= 50);
    close(sq[1]);
    t = sock_server_claims_until(s, now_boot_usec());
    CHECK(t > now_boot_usec() && t <= now_boot_usec() + 50 * USEC_PER_MSEC);
    pump(e, 60 * USEC_PER_MSEC);
    CHECK_EQ_INT(sock_server_claims_until(s, now_boot_usec()), 0);
    sock_server_free(s);
}

int main(void)
{
    sd_event *e = NULL;

    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    CHECK_EQ_INT(sd_event_new(&e), 0);

    test_resign_rule();
    test_status_socketpair(e);
    test_garbage(e);
    test_idle_and_bound(e);
    test_many_clients(e);
    test_watch(e);
    test_step_down(e);
    test_fd_exhaustion(e);
    test_lifecycle(e);
    test_listen_private(e);
    test_resign(e);

    sd_event_unref(e);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_sock_server: all checks passed\n");
    return 0;
}
