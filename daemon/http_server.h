/* SPDX-License-Identifier: MIT */
#pragma once

/* The optional HTTP endpoints, one HttpServer each, told apart by their route set
 * (HttpRoutes): --http ADDR:PORT, the old sidecar's {"name": ...} answer on any path plus
 * /status, /healthz, /readyz and /metrics; --metrics-addr ADDR:PORT, /metrics, /healthz,
 * /readyz and /leader only (404 for anything else, / and /status included).
 *
 * libmicrohttpd runs on the daemon's sd-event loop without threads of its
 * own, the way systemd-journal-remote drives it: MHD's epoll descriptor is an
 * io source, and a timer set from MHD_get_timeout() calls MHD_run() when MHD
 * has time-based work (idle timeouts, data already buffered). Every answer is
 * computed from the provider's callbacks at the moment of the request.
 *
 * Bounds: connections (total and per client address), an idle timeout per
 * connection, a deadline per request (for clients that trickle bytes and so
 * are never idle), a memory pool per connection (which bounds the request
 * line and headers; larger requests get 431/414 from MHD), response bodies
 * built in one fixed buffer. A slow or hostile client holds one connection
 * slot for at most the deadline; it never blocks the loop.
 *
 * libmicrohttpd 0.9.75 quirks handled here: it re-arms its listening socket
 * after the connection limit only on a later MHD_run() (so we run it again
 * when a run closed connections), and it has no call to close one connection
 * (the deadline shuts the socket down). Not handled: an EOF arriving together
 * with the last bytes of an incomplete request is noticed only at the idle
 * timeout (edge-triggered epoll); such a client is bounded like any other. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "election_metrics.h"
#include "proto.h"

typedef struct HttpServer HttpServer;

/* What the server asks the daemon, at the moment of each request. All run on
 * the loop, synchronously, and must not block. */
typedef struct HttpProvider {
    /* Required. Fills *ret (zeroed) with the status as of now_boot_usec
     * (CLOCK_BOOTTIME, µs), exactly what the socket's STATUS answers:
     * is_leader and valid_ms computed against the claim's deadline at that
     * moment. The same shape as sock_server_status_fn, so the daemon passes
     * one function to both servers; the server sets ret->boottime_ms itself.
     * Returns 0 or a negative errno (GET / then names nobody, /status 500,
     * /leader 503).
     * GET /leader answers 200 only when the status says is_leader with
     * valid_ms > 0: a provider whose leader answers are promises (the
     * daemon's) records each one here, as for /status. */
    int (*get_status)(void *userdata, uint64_t now_boot_usec, ProtoStatus *ret);
    /* Optional liveness beyond "the loop answers": 0 alive, > 0 wedged, with
     * a short reason in *ret_reason (e.g. a watchdog saw the engine stuck).
     * Must never depend on the Kubernetes API. NULL: always alive. */
    int (*check_alive)(void *userdata, const char **ret_reason);
    /* Optional readiness: 0 when the API was reached recently, > 0 (with a
     * reason) otherwise. NULL: always ready. */
    int (*check_ready)(void *userdata, const char **ret_reason);
} HttpProvider;

/* What a server answers. */
typedef enum HttpRoutes {
    /* --http: GET / (any path) {"name":...}, /status, /healthz, /readyz, /metrics. */
    HTTP_ROUTES_LEGACY = 0,
    /* --metrics-addr: /metrics, /healthz, /readyz, /leader; 404 for every other path. */
    HTTP_ROUTES_METRICS,
} HttpRoutes;

typedef struct HttpServerConfig {
    const char *listen;        /* the --http string, see http_listen_parse() */
    HttpRoutes routes;         /* 0: HTTP_ROUTES_LEGACY */
    unsigned connection_limit; /* 0: HTTP_CONNECTION_LIMIT_DEFAULT */
    unsigned per_ip_limit;     /* 0: HTTP_PER_IP_LIMIT_DEFAULT */
    unsigned timeout_sec;      /* idle timeout per connection; 0: default */
    unsigned deadline_sec;     /* a complete request within it, per request; 0: default */
    size_t memory_limit;       /* per connection pool, bytes; 0: default */
} HttpServerConfig;

#define HTTP_CONNECTION_LIMIT_DEFAULT 64u
#define HTTP_PER_IP_LIMIT_DEFAULT 16u
#define HTTP_TIMEOUT_SEC_DEFAULT 10u
/* A client that trickles bytes is never idle: it gets this long from the
 * start of the connection (or of its previous request) to complete a
 * request, then the connection is shut down. */
#define HTTP_DEADLINE_SEC_DEFAULT 15u
#define HTTP_MEMORY_LIMIT_DEFAULT (16u * 1024u)
/* Largest response body (the metrics text is the largest). */
#define HTTP_BODY_MAX (256u * 1024u)

/* Parses a --http address: "IPv4:PORT", "[IPv6]:PORT", ":PORT" (all
 * addresses: IPv6 dual-stack, or IPv4 where IPv6 is unavailable),
 * "localhost:PORT" (127.0.0.1, as Go resolved it). PORT is 0..65535 (0: any
 * free port). No other host names (no DNS at start-up).
 * Returns 0 and fills *ret / *ret_len, *ret_any (true for ":PORT"), or
 * -EINVAL. Outputs untouched on failure. */
int http_listen_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
                      bool *ret_any);

/* Creates the listening socket and attaches the server to event. provider
 * is copied; userdata is passed to its callbacks. metrics may be NULL (then
 * /metrics answers 404); when set, the server renders it (the gauges it
 * computes at render time, see election_metrics_set_status()) and counts its
 * own requests in leader_election_http_requests_total. Returns 0, -EINVAL (bad config or
 * address), a negative errno from socket()/bind()/listen() (e.g.
 * -EADDRINUSE), -ENOMEM, -EIO (MHD refused to start). */
int http_server_new(sd_event *event, const HttpServerConfig *config, const HttpProvider *provider,
                    void *userdata, ElectionMetrics *metrics, HttpServer **ret);
/* Closes every connection and the listening socket. Accepts NULL. */
HttpServer *http_server_free(HttpServer *s);
static inline void http_server_freep(HttpServer **s)
{
    http_server_free(*s);
}

/* Hands an already connected stream socket to the server, which owns (and
 * eventually closes) it from now on, in every case. For tests and fuzzing
 * (a socketpair), or a daemon that accepts by itself. The peer address, as
 * getpeername() reports it, counts toward the per-address limit.
 * Returns 0, or a negative errno (the socket is closed). */
int http_server_add_connection(HttpServer *s, int fd);

/* The bound port (useful after listening on port 0), or a negative errno. */
int http_server_get_port(const HttpServer *s);

/* Formats the old sidecar's answer for GET / into buf: {"name":"<leader>"},
 * no trailing newline, the string escaped as Go's encoding/json did. leader
 * is named only while its claim is valid (valid_ms > 0) and, when the leader
 * is this daemon, while is_leader holds: never a lapsed claim.
 * Returns the length or -ENOBUFS. */
ssize_t http_format_name(const ProtoStatus *st, char *buf, size_t size);
