/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "kube_config.h"
#include "kube_lease.h"
#include "kube_status.h"
#include "kube_watch_event.h"

/* Asynchronous Kubernetes API client on an sd-event loop (libcurl multi via
 * curl_event.h). Nothing blocks and no thread is started; connections are
 * reused, HTTP/2 is used when the server offers it; https always verifies
 * the peer. It knows Leases and generic objects, nothing about elections.
 *
 * Requests: every call takes a deadline (timeout_usec, relative, > 0) and a
 * done callback, and returns a KubeRequest handle in *ret (may be NULL).
 *  - The callback is called exactly once, from the event loop, never from
 *    inside the starting call, unless the request is cancelled first.
 *  - The handle is valid until the callback returns or kube_request_cancel();
 *    clear your copy in the callback.
 *  - A start function returns 0, or a negative errno (nothing started, no
 *    callback): -EINVAL bad arguments, -ENOMEM, -ESHUTDOWN loop finished.
 *  - Results (KubeResponse.result): KUBE_OK, a positive KUBE_E_* (see
 *    kube_status.h), or a negative errno for an internal failure.
 *  - 401: the token file is re-read at once and the request retried once.
 *    A 429 with a retry-after (header, or Status details), and a 5xx with one
 *    on a GET, are retried after that delay only if it ends before the
 *    deadline; otherwise the result is returned with retry_after_usec set, for
 *    the caller to schedule. A write (POST, PUT, PATCH, DELETE) answered 5xx
 *    is never sent again here: it may have been applied (outcome unknown, as
 *    after KUBE_E_TIMEOUT or KUBE_E_TRANSPORT); the caller gets
 *    KUBE_E_SERVER_ERROR (504: KUBE_E_TIMEOUT) with retry_after_usec.
 *  - Responses larger than the bound (1 MiB) are aborted: KUBE_E_TOO_LARGE.
 *
 * Nothing here logs or returns the bearer token; error strings carry method,
 * path, HTTP status and the server's Status message only.
 *
 * How an election uses it (client-go LeaseLock semantics):
 *   KubeConfig cfg = {flags…}; kube_config_resolve(&cfg, NULL);
 *   kube_client_new(event, &cfg, &c); kube_client_set_log(c, log_sink, NULL);
 *   kube_lease_watch(c, NULL, name, NULL, 60s, on_event, on_end, ud, &w);
 *     on_event: ADDED/MODIFIED -> kube_lease_copy(&ev->lease, &cached) and note
 *       the local observe time; DELETED -> forget it; BOOKMARK -> nothing.
 *     on_end KUBE_E_EXPIRED -> kube_lease_get(), then watch again from the
 *       returned resource_version (other results: log, retry with backoff).
 *   acquire/renew: copy `cached`, set holder_identity, lease_duration_seconds,
 *     renew_time_usec (and acquire_time_usec / lease_transitions + 1 on a
 *     change of holder), then kube_lease_update(c, &copy, deadline, …):
 *     KUBE_OK -> cache resp->lease (it carries the new resourceVersion);
 *     KUBE_E_CONFLICT -> someone else wrote: stop claiming, re-read;
 *     KUBE_E_NOT_FOUND on get -> kube_lease_create() with a fresh KubeLease.
 *   Use the send time of the update for the renew deadline; keep the
 *   KubeRequest handles and kube_request_cancel() them on demotion or
 *   shutdown; release = update with holder_identity "" before exiting. */

typedef struct KubeClient KubeClient;
typedef struct KubeRequest KubeRequest;

typedef struct KubeResponse {
    int result;                /* KUBE_OK, KUBE_E_*, or negative errno */
    long http_status;          /* 0: no HTTP answer (transport, timeout) */
    uint64_t retry_after_usec; /* server's Retry-After (header or Status), 0: none */
    const KubeStatus *status;  /* the Status of a failed request, if the body was one */
    const char *body;          /* raw response body, NUL-terminated ("" if none) */
    size_t body_len;
    const KubeLease *lease; /* Lease get/create/update that succeeded; may be copied */
    const char *error;      /* one line for logs: what failed and why */
} KubeResponse;

typedef void (*kube_done_fn)(KubeClient *c, const KubeResponse *resp, void *userdata);

/* Log sink; levels are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). Default: stderr. */
typedef void (*kube_log_fn)(int level, const char *message, void *userdata);

/* Copies cfg (already resolved, see kube_config_resolve()) and reads the
 * token file once. Returns 0, -EINVAL (bad URL), -ENOMEM, or the negative
 * errno of reading the token file or the CA file. */
int kube_client_new(sd_event *event, const KubeConfig *cfg, KubeClient **ret);
/* Cancels every request silently (no callbacks) and frees. NULL ok. Not
 * from inside one of this client's callbacks (leave the loop first). */
KubeClient *kube_client_free(KubeClient *c);
static inline void kube_client_freep(KubeClient **c)
{
    kube_client_free(*c);
}
void kube_client_set_log(KubeClient *c, kube_log_fn fn, void *userdata);
const char *kube_client_namespace(const KubeClient *c);
/* Connections opened so far (CURLINFO_NUM_CONNECTS summed): for metrics and
 * for tests proving reuse. */
uint64_t kube_client_connects(const KubeClient *c);
unsigned kube_client_in_flight(const KubeClient *c);

/* Cancels: the callback will not be called. NULL ok. Always returns NULL. */
KubeRequest *kube_request_cancel(KubeRequest *r);

/* ---- Leases (coordination.k8s.io/v1). ns NULL: the client's namespace. ---- */
int kube_lease_get(KubeClient *c, const char *ns, const char *name, uint64_t timeout_usec,
                   kube_done_fn cb, void *userdata, KubeRequest **ret);
/* POST of l (name and spec; namespace l->namespace_ or the client's). With
 * l->raw set, the stored object minus server-assigned fields is sent. */
int kube_lease_create(KubeClient *c, const KubeLease *l, uint64_t timeout_usec, kube_done_fn cb,
                      void *userdata, KubeRequest **ret);
/* PUT of l->raw with the managed fields rewritten (see kube_lease_to_json()),
 * conditional on l->resource_version: KUBE_E_CONFLICT if someone else wrote
 * since. Everything else in the stored object is sent back untouched. */
int kube_lease_update(KubeClient *c, const KubeLease *l, uint64_t timeout_usec, kube_done_fn cb,
                      void *userdata, KubeRequest **ret);
/* DELETE; with resource_version set, only if the Lease is still that one. */
int kube_lease_delete(KubeClient *c, const char *ns, const char *name, const char *resource_version,
                      uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret);

/* ---- Watch of one object by name ----
 * GET …/leases?fieldSelector=metadata.name%3DNAME&watch=true&
 * allowWatchBookmarks=true[&resourceVersion=RV] (kube_object_watch(): the
 * same on any resource's collection). Without resource_version the server
 * first sends the current object as ADDED. Each event (ADDED, MODIFIED,
 * DELETED with ev->object, and ev->lease for kube_lease_watch; BOOKMARK) goes
 * to on_event, in order.
 * The watch resumes by itself from the last resourceVersion seen when a
 * stream ends (server timeout, connection lost, 5xx, 429, 401) with a
 * bounded backoff. It ends, calling on_end once, when:
 *  - KUBE_E_EXPIRED: an ERROR event 410 (or HTTP 410): the resourceVersion is
 *    too old; get the object afresh and start a new watch from its version
 *    (or without one: the current object comes first as ADDED);
 *  - KUBE_E_FORBIDDEN, KUBE_E_NOT_FOUND, KUBE_E_BAD_REQUEST, KUBE_E_INVALID:
 *    the server refuses this watch;
 *  - KUBE_E_PROTOCOL / KUBE_E_TOO_LARGE: a line that is not an event (for
 *    kube_lease_watch, an object that is not a Lease), or longer than the
 *    bound.
 * stream_timeout_usec bounds one stream (timeoutSeconds; 0: 240 s), after
 * which it is resumed; it also bounds how long a silently dead connection
 * goes unnoticed. Cancel with kube_request_cancel(). */
typedef void (*kube_watch_fn)(KubeClient *c, const KubeWatchEvent *ev, void *userdata);
int kube_lease_watch(KubeClient *c, const char *ns, const char *name, const char *resource_version,
                     uint64_t stream_timeout_usec, kube_watch_fn on_event, kube_done_fn on_end,
                     void *userdata, KubeRequest **ret);
/* Called, from the loop, each time a watch loses its stream for any other
 * reason than the server ending it on time (transport error, 5xx, 429, 401,
 * an ERROR event), just before it resumes by itself: the API is unreachable
 * right now. The next event delivered means it is back. May cancel the
 * watch. */
typedef void (*kube_watch_interrupt_fn)(KubeClient *c, const char *why, void *userdata);
void kube_watch_set_interrupt(KubeRequest *watch, kube_watch_interrupt_fn fn);

/* The last resourceVersion a watch has seen (NULL if none yet). */
const char *kube_watch_resource_version(const KubeRequest *watch);

/* ---- Any object, raw JSON in and out ---- */
typedef struct KubeResource {
    const char *group; /* "" for the core group */
    const char *version;
    const char *resource; /* plural: "endpoints", "pods" */
} KubeResource;

extern const KubeResource KUBE_RESOURCE_LEASES;         /* coordination.k8s.io/v1 */
extern const KubeResource KUBE_RESOURCE_ENDPOINTS;      /* v1 */
extern const KubeResource KUBE_RESOURCE_CONFIGMAPS;     /* v1 */
extern const KubeResource KUBE_RESOURCE_EVENTS;         /* v1 */
extern const KubeResource KUBE_RESOURCE_PODS;           /* v1 */
extern const KubeResource KUBE_RESOURCE_ENDPOINTSLICES; /* discovery.k8s.io/v1 */

/* ns NULL: the client's namespace; "" for a cluster-scoped resource. The
 * body of a successful answer is in resp->body (validated as JSON). */
int kube_object_get(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                    uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret);
/* The watch of one object by name as kube_lease_watch() (see there), on any
 * resource: events carry the raw object (ev->object, NUL-terminated, with
 * ev->resource_version), not decoded (ev->has_lease false); what the object
 * must be is the caller's to check. */
int kube_object_watch(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                      const char *resource_version, uint64_t stream_timeout_usec,
                      kube_watch_fn on_event, kube_done_fn on_end, void *userdata,
                      KubeRequest **ret);
/* query: raw URL query without '?' (e.g. "labelSelector=app%3Dx"), or NULL. */
int kube_object_list(KubeClient *c, const KubeResource *res, const char *ns, const char *query,
                     uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret);
int kube_object_create(KubeClient *c, const KubeResource *res, const char *ns, const char *json,
                       size_t len, uint64_t timeout_usec, kube_done_fn cb, void *userdata,
                       KubeRequest **ret);
int kube_object_update(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                       const char *json, size_t len, uint64_t timeout_usec, kube_done_fn cb,
                       void *userdata, KubeRequest **ret);
/* content_type: "application/merge-patch+json", "application/strategic-merge-patch+json", … */
int kube_object_patch(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                      const char *content_type, const char *json, size_t len, uint64_t timeout_usec,
                      kube_done_fn cb, void *userdata, KubeRequest **ret);
int kube_object_delete(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                       uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret);
