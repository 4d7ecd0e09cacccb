/* SPDX-License-Identifier: MIT */
/* bench-status-load: a benchmark tool, not a test. Keeps CONCURRENCY clients
 * busy asking STATUS on the daemon's socket for SECONDS (one connection per
 * query, as the probe does: connect, "STATUS\n", one reply line, close) and
 * prints one JSON line: queries per second and latency percentiles, from
 * connect() to the complete reply line, on CLOCK_MONOTONIC.
 *
 *   bench-status-load SOCKET CONCURRENCY SECONDS
 *
 * One thread, epoll, non-blocking sockets: 512 clients cost this process
 * almost nothing, so the figures are the daemon's. Every reply is parsed with
 * proto/ and must be a status line; anything else counts as an error. */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define MAX_CONCURRENCY 4096

typedef struct Slot {
    int fd;
    uint64_t start_ns;
    size_t len;
    char buf[PROTO_REPLY_MAX + 1];
} Slot;

typedef struct Load {
    const char *path;
    struct sockaddr_un sa;
    socklen_t sa_len;
    int ep;
    Slot *slots;
    unsigned n;
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    uint64_t errors, busy, retries;
} Load;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int record(Load *l, uint64_t ns)
{
    if (l->n_lat == l->cap_lat) {
        size_t cap = l->cap_lat ? l->cap_lat * 2 : 65536;
        uint32_t *p = realloc(l->lat_us, cap * sizeof(*p));
        if (!p) return -ENOMEM;
        l->lat_us = p;
        l->cap_lat = cap;
    }
    uint64_t us = ns / 1000u;
    l->lat_us[l->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    return 0;
}

/* Starts one query in slot i: 0, or a negative errno on a fatal error.
 * A full listen backlog (EAGAIN) is retried by the caller. */
static int slot_start(Load *l, unsigned i)
{
    Slot *s = &l->slots[i];
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    s->start_ns = now_ns();
    if (connect(fd, (struct sockaddr *)&l->sa, l->sa_len) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    static const char req[] = "STATUS\n";
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
        int r = errno ? -errno : -EIO;
        close(fd);
        return r;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = i};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    s->fd = fd;
    s->len = 0;
    return 0;
}

/* Reads what is there; returns 1 when the query is over (slot free). */
static int slot_read(Load *l, unsigned i)
{
    Slot *s = &l->slots[i];
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        if (n > 0) {
            s->len += (size_t)n;
            char *nl = memchr(s->buf, '\n', s->len);
            if (!nl && s->len < sizeof(s->buf) - 1) continue;
            uint64_t t = now_ns();
            ProtoReply reply;
            if (nl && proto_reply_parse(s->buf, (size_t)(nl - s->buf) + 1, &reply) == 0 &&
                reply.type == PROTO_REPLY_STATUS) {
                if (record(l, t - s->start_ns) < 0) l->errors++;
            } else if (nl && proto_reply_parse(s->buf, (size_t)(nl - s->buf) + 1, &reply) == 0 &&
                       reply.type == PROTO_REPLY_ERROR && reply.error == PROTO_ERROR_BUSY) {
                l->busy++;
            } else {
                l->errors++;
            }
        } else {
            l->errors++; /* closed or failed before a complete line */
        }
        close(s->fd); /* also removes it from the epoll set */
        s->fd = -1;
        return 1;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t percentile(const uint32_t *v, size_t n, double p)
{
    if (n == 0) return 0;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

int main(int argc, char **argv)
{
    Load l = {.ep = -1};
    char *end;

    if (argc != 4) {
        fprintf(stderr, "usage: %s SOCKET CONCURRENCY SECONDS\n", argv[0]);
        return 64;
    }
    l.path = argv[1];
    unsigned long conc = strtoul(argv[2], &end, 10);
    if (*end || conc < 1 || conc > MAX_CONCURRENCY) {
        fprintf(stderr, "bench-status-load: CONCURRENCY must be 1..%d\n", MAX_CONCURRENCY);
        return 64;
    }
    double secs = strtod(argv[3], &end);
    if (*end || !(secs > 0 && secs <= 3600)) {
        fprintf(stderr, "bench-status-load: SECONDS must be in (0, 3600]\n");
        return 64;
    }
    if (strlen(l.path) >= sizeof(l.sa.sun_path)) {
        fprintf(stderr, "bench-status-load: socket path too long\n");
        return 64;
    }
    l.sa.sun_family = AF_UNIX;
    memcpy(l.sa.sun_path, l.path, strlen(l.path) + 1);
    l.sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l.path) + 1);
    l.n = (unsigned)conc;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < conc + 64) {
        rl.rlim_cur = rl.rlim_max < conc + 64 ? rl.rlim_max : conc + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }

    l.slots = calloc(l.n, sizeof(Slot));
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!l.slots || l.ep < 0) {
        perror("bench-status-load");
        return 1;
    }
    for (unsigned i = 0; i < l.n; i++)
        l.slots[i].fd = -1;

    uint64_t t0 = now_ns(), stop = t0 + (uint64_t)(secs * 1e9);
    unsigned active = 0, fatal = 0;
    struct epoll_event evs[256];
    for (;;) {
        uint64_t t = now_ns();
        if (t < stop) {
            for (unsigned i = 0; i < l.n; i++) {
                if (l.slots[i].fd >= 0) continue;
                int r = slot_start(&l, i);
                if (r == 0) {
                    active++;
                } else if (r == -EAGAIN || r == -ECONNREFUSED || r == -EINTR) {
                    l.retries++;
                } else {
                    fprintf(stderr, "bench-status-load: %s: %s\n", l.path, strerror(-r));
                    fatal = 1;
                    break;
                }
            }
        }
        if (fatal || active == 0) break;
        int n = epoll_wait(l.ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            fatal = 1;
            break;
        }
        for (int k = 0; k < n; k++)
            if (slot_read(&l, evs[k].data.u32)) active--;
        if (now_ns() > stop + 5000000000ull)
            break; /* replies stuck for 5 s after the end: give up, they count as lost */
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    qsort(l.lat_us, l.n_lat, sizeof(uint32_t), cmp_u32);
    printf("{\"concurrency\":%u,\"seconds\":%.3f,\"queries\":%zu,\"qps\":%.0f,"
           "\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
           "\"errors\":%llu,\"busy\":%llu,\"connect_retries\":%llu,\"lost\":%u}\n",
           l.n, elapsed, l.n_lat, (double)l.n_lat / elapsed, percentile(l.lat_us, l.n_lat, 0.5),
           percentile(l.lat_us, l.n_lat, 0.9), percentile(l.lat_us, l.n_lat, 0.99),
           l.n_lat ? l.lat_us[l.n_lat - 1] : 0, (unsigned long long)l.errors,
           (unsigned long long)l.busy, (unsigned long long)l.retries, active);
    for (unsigned i = 0; i < l.n; i++)
        if (l.slots[i].fd >= 0) close(l.slots[i].fd);
    free(l.slots);
    free(l.lat_us);
    close(l.ep);
    return fatal || l.n_lat == 0 ? 1 : 0;
}
