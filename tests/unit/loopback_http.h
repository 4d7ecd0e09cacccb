/* SPDX-License-Identifier: MIT */
#pragma once

/* A loopback HTTP/1.1 server for the C tests, on the test's own sd-event loop
 * (so a test also proves that the code under test never blocks that loop).
 * It listens on 127.0.0.1 at a port the kernel picks, reads each request
 * (headers and a Content-Length body, less than 64 KiB) and hands it to the
 * test's handler, which answers with loopback_conn_reply() and
 * loopback_conn_repeat() or not at all (the request hangs). Replies are
 * copied and written as the client reads them: one of any size never blocks
 * the loop. Requests on one connection are answered in order: the next is
 * handed over once the reply to the previous one is written. A connection is
 * closed when the client closes it, and all by loopback_server_free().
 * Users: tests/unit/test_curl_event.c, tests/unit/test_health.c,
 * tests/unit/test_kube_client_local.c. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

typedef struct LoopbackServer LoopbackServer;
typedef struct LoopbackConn LoopbackConn;

/* One whole request, NUL-terminated (`len` bytes without the NUL). Returns
 * < 0 to close the connection at once, without an answer. */
typedef int (*LoopbackHandler)(LoopbackConn *c, const char *req, size_t len, void *userdata);

/* Listens with `backlog`; with accept_conns false it never accepts (a full
 * accept queue: SYNs beyond it are dropped). Aborts on failure (tests only). */
LoopbackServer *loopback_server_new(sd_event *event, int backlog, bool accept_conns,
                                    LoopbackHandler handler, void *userdata);
int loopback_server_port(const LoopbackServer *s);
/* Closes the listener and every connection. Returns NULL. */
LoopbackServer *loopback_server_free(LoopbackServer *s);

/* Queues `len` bytes (copied) as the answer; with close_after the server
 * closes the connection once they are written. */
void loopback_conn_reply(LoopbackConn *c, const void *data, size_t len, bool close_after);
/* After the queued bytes, writes these (copied) again and again for as long
 * as the client reads: an endless body. */
void loopback_conn_repeat(LoopbackConn *c, const void *data, size_t len);
