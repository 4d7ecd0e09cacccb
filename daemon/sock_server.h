/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon's socket server: proto/ (PROTOCOL.md) on a Unix stream socket,
 * served from the daemon's sd-event loop, never blocking it.
 *
 * - STATUS: the status provider is called at the moment the reply is
 *   written (with a fresh CLOCK_BOOTTIME reading), one reply, then close.
 * - STATUS on a leader: valid_ms is capped at status_valid_max_usec. An
 *   answer cannot be taken back, so a release waits until every leader
 *   answer given has run out (sock_server_claims_until()); the cap keeps that
 *   wait short.
 * - WATCH: a reply now, then one after each sock_server_publish(). Coalesced:
 *   a watcher has at most one line not yet read; while it has, later
 *   publishes only mark it due, and it receives the status of the moment it
 *   has caught up. Except "not leader" after a leader line: never held back,
 *   it is appended behind the unread line at once. A watcher that leaves a
 *   line unread longer than the write timeout while a newer one waits is
 *   dropped (closing = "claim lapsed" for the client).
 * - RESIGN: allowed to peers (SO_PEERCRED at connect time) that are root,
 *   the daemon's uid, or members (primary or supplementary) of the configured
 *   group; calls the resign callback; "ok" or an error reply, then close.
 * - Bounded: clients (beyond the bound: a "busy" error reply and close),
 *   input (one 256-byte request line), output (one reply line), time to send
 *   a request, time a reply may stay unwritten or unread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "proto.h"
#include "time_units.h"

#define SOCK_SERVER_MAX_CLIENTS_DEFAULT 1024u
#define SOCK_SERVER_MODE_DEFAULT 0666
#define SOCK_SERVER_REQUEST_TIMEOUT_USEC_DEFAULT (10 * USEC_PER_SEC)
#define SOCK_SERVER_WRITE_TIMEOUT_USEC_DEFAULT (2 * USEC_PER_SEC)
/* A leader's STATUS answer promises at most this much (PROTOCOL.md, "STATUS"). */
#define SOCK_SERVER_STATUS_VALID_MAX_USEC_DEFAULT (50 * USEC_PER_MSEC)
#define SOCK_SERVER_NO_GROUP ((gid_t)-1)

typedef struct SockServer SockServer;

/* Fills *ret as of now_boot_usec (CLOCK_BOOTTIME, µs): is_leader and
 * valid_ms computed against the claim's deadline at that moment. The server
 * sets ret->boottime_ms itself. Returns 0, or a negative errno (the client
 * gets an "internal" error reply). */
typedef int (*sock_server_status_fn)(void *userdata, uint64_t now_boot_usec, ProtoStatus *ret);

/* Steps down (the caller has checked the peer's permission). Returns 0 (an
 * "ok" reply, with ret_message if the callback set it) or a negative errno
 * (a "failed" error reply with ret_message, or strerror when it is empty).
 * ret_message has message_size bytes and starts as "". */
typedef int (*sock_server_resign_fn)(void *userdata, const struct ucred *peer, char *ret_message,
                                     size_t message_size);

typedef struct SockServerConfig {
    /* Socket path; NULL: no listening socket (connections only through
     * sock_server_add_connection()). */
    const char *path;
    mode_t mode;                    /* 0: SOCK_SERVER_MODE_DEFAULT */
    gid_t group;                    /* socket group and RESIGN group; SOCK_SERVER_NO_GROUP: none */
    unsigned max_clients;           /* 0: SOCK_SERVER_MAX_CLIENTS_DEFAULT */
    uint64_t request_timeout_usec;  /* 0: default; a complete request line within it */
    uint64_t write_timeout_usec;    /* 0: default; a reply unwritten or unread past it: dropped */
    uint64_t status_valid_max_usec; /* 0: default; the most a leader's STATUS valid_ms says */
    sock_server_status_fn get_status; /* required */
    sock_server_resign_fn resign;     /* NULL: RESIGN answers "unsupported" */
    void *userdata;
} SockServerConfig;

typedef struct SockServerStats {
    unsigned clients;  /* connected now */
    unsigned watchers; /* of which in WATCH */
    uint64_t accepted;
    uint64_t refused_busy;
    uint64_t dropped_idle;    /* no complete request line in time */
    uint64_t dropped_slow;    /* a reply unwritten or unread past the write timeout */
    uint64_t protocol_errors; /* malformed, too long, unknown verb, unexpected input */
    uint64_t replies;         /* status, ok and error lines written */
    uint64_t resigns;         /* RESIGN calls that reached the callback */
} SockServerStats;

/* Creates the server on event. With a path: creates the socket's directory
 * (0755) if missing; returns -EADDRINUSE when a live server answers on the
 * path, -EEXIST when the path exists and is not a socket; replaces a stale
 * socket file; the new socket appears atomically with its mode and group.
 * May raise RLIMIT_NOFILE's soft limit (up to the hard limit) to fit
 * max_clients. Returns 0 or a negative errno. */
int sock_server_new(sd_event *event, const SockServerConfig *config, SockServer **ret);

/* Closes every client and the socket, and removes the socket file if it is
 * still ours. Accepts NULL; returns NULL. */
SockServer *sock_server_free(SockServer *s);
void sock_server_freep(SockServer **s);

/* Serves an already connected stream socket (takes ownership of fd, even on
 * failure): socketpair() in tests, socket activation. The peer credentials
 * are read from it as from an accepted connection. Returns 0, -EBUSY (the
 * client bound is reached; it got a "busy" reply) or a negative errno. */
int sock_server_add_connection(SockServer *s, int fd);

/* The state changed or a renew succeeded: every watcher gets a fresh status
 * soon (from a defer source on the loop, never from inside this call). */
void sock_server_publish(SockServer *s);

/* Until when (CLOCK_BOOTTIME µs) a client of this server may still act on a leader line it
 * was given: the latest end of a leader STATUS answer's valid_ms, and for each watcher handed a
 * leader line, the end of its claim unless it has since read a "not leader" line (nothing
 * unwritten, nothing unread: SIOCOUTQ 0) or is gone. 0 (or a time <= now): nobody. Called by a
 * leader that steps down before it lets another pod lead (the release waits for it). */
uint64_t sock_server_claims_until(SockServer *s, uint64_t now_boot_usec);

void sock_server_get_stats(const SockServer *s, SockServerStats *ret);

/* The RESIGN permission rule, exposed for tests: root, self_uid, or (when
 * group is not SOCK_SERVER_NO_GROUP) a member of group by primary gid or in
 * groups[0..n_groups). */
bool sock_server_peer_may_resign(const struct ucred *peer, const gid_t *groups, size_t n_groups,
                                 uid_t self_uid, gid_t group);
