/* SPDX-License-Identifier: MIT */
/* libFuzzer target: raw bytes as an HTTP client would send them, through
 * libmicrohttpd into the endpoint's handlers, on the real sd-event loop.
 * Each input is one connection (a socketpair handed to the server); the
 * client half-closes after sending, and the server must answer with an HTTP
 * status line or close, within a bounded time, without leaking. */
#include <stdbool.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "election_metrics.h"
#include "http_server.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sd_event *event;
static HttpServer *server;
static ElectionMetrics *metrics;
static unsigned calls;

static int fuzz_status(void *userdata, uint64_t now_usec, ProtoStatus *ret)
{
    /* Alternate between answers so that every route is exercised both ways. */
    calls++;
    if (calls % 7 == 0) return -EIO;
    (void)proto_strcpy(ret->namespace_, sizeof ret->namespace_, "default");
    (void)proto_strcpy(ret->election, sizeof ret->election, "example");
    (void)proto_strcpy(ret->identity, sizeof ret->identity, "pod-a");
    (void)proto_strcpy(ret->hostname, sizeof ret->hostname, "pod-a");
    (void)proto_strcpy(ret->leader, sizeof ret->leader, calls % 2 ? "pod-a" : "pod-<b>");
    ret->is_leader = calls % 2;
    ret->valid_ms = calls % 3 ? 1000 : 0;
    ret->term = calls;
    ret->state = PROTO_STATE_FOLLOWING;
    return 0;
}

static int fuzz_check(void *userdata, const char **ret_reason)
{
    if (calls % 5) return 0;
    *ret_reason = "fuzz";
    return 1;
}

static void setup(void)
{
    static const HttpServerConfig config = {.listen = "127.0.0.1:0"};
    static const HttpProvider provider = {
        .get_status = fuzz_status, .check_alive = fuzz_check, .check_ready = fuzz_check};

    if (sd_event_new(&event) < 0 || election_metrics_new("example", &metrics) < 0 ||
        http_server_new(event, &config, &provider, NULL, metrics, &server) < 0)
        abort();
    election_metrics_set_status(metrics, fuzz_status, NULL);
}

static void drain(int fd, char *reply, size_t size, size_t *got, bool *eof)
{
    for (;;) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            size_t k = (size_t)n < size - *got ? (size_t)n : size - *got;
            memcpy(reply + *got, buf, k);
            *got += k;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) *eof = true;
        return;
    }
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char reply[8192];
    size_t sent = 0, got = 0;
    bool eof = false;
    uint64_t deadline;
    int sv[2];

    if (!server) setup();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) abort();
    if (http_server_add_connection(server, sv[1]) < 0) abort();

    /* Send everything, then let the loop go idle before the half-close:
     * libmicrohttpd 0.9.75 (edge-triggered epoll) misses an EOF that arrives
     * together with the last bytes of an incomplete request and notices it
     * only at the idle timeout. That slot is bounded like any slow client's;
     * what this target checks is the rest: every input is answered or
     * closed promptly once the EOF is seen on its own. */
    for (int i = 0; i < 10000 && sent < size && !eof; i++) {
        ssize_t n = write(sv[0], data + sent, size - sent);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            break; /* the server closed */
        if (sd_event_run(event, 1000) < 0) abort();
        drain(sv[0], reply, sizeof reply, &got, &eof);
    }
    for (int i = 0; i < 10000 && !eof; i++) {
        int r = sd_event_run(event, 2000);
        if (r < 0) abort();
        drain(sv[0], reply, sizeof reply, &got, &eof);
        if (r == 0) break; /* idle */
    }
    (void)shutdown(sv[0], SHUT_WR);
    deadline = now_usec() + 3000000u;
    while (!eof && now_usec() < deadline) {
        if (sd_event_run(event, 10000) < 0) abort();
        drain(sv[0], reply, sizeof reply, &got, &eof);
    }
    if (!eof) {
        fprintf(stderr, "the server neither answered nor closed the connection\n");
        abort();
    }
    if (got > 0 && (got < 9 || memcmp(reply, "HTTP/1.", 7) != 0)) {
        fprintf(stderr, "not an HTTP response: %.*s\n", (int)(got < 64 ? got : 64), reply);
        abort();
    }
    close(sv[0]);
    return 0;
}
