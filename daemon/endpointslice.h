/* SPDX-License-Identifier: MIT */
#pragma once

/* EndpointSlice mode (--endpointslice SERVICE): the leader publishes its own
 * pod IP as the one ready endpoint of a discovery.k8s.io/v1 EndpointSlice
 * named after the election, labelled kubernetes.io/service-name=SERVICE and
 * endpointslice.kubernetes.io/managed-by=ENDPOINTSLICE_MANAGED_BY, for a
 * Service without a selector. One object means one leader: a new leader
 * overwrites it, a leader that stops claiming empties it (endpoints: []).
 *
 * Safety: the address is written only while the caller says this process
 * claims leadership, asked at the moment each write is sent (claim_fn), and
 * every update is conditional on the resourceVersion read just before, so a
 * write from an ex-leader that was delayed (partition) loses against the
 * new leader's (409), and is then re-read and not retried once the claim
 * has lapsed. Emptying only ever removes our own address: it is sent only
 * for a version of the slice that lists it.
 *
 * The object is kept as the server returned it; an update rewrites only the
 * managed parts (the two labels, addressType, endpoints, ports) with
 * json_edit, so annotations and fields of later API versions survive.
 * RBAC: get and update on the slice by resourceName, and create. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "endpointslice_codec.h"
#include "kube_client.h"

/* ---- the writer ---- */

typedef struct EndpointSlice EndpointSlice;

/* How much longer this process claims leadership, in µs, asked at the
 * moment a write of our address is sent: 0 means "not leader, do not
 * write". It also bounds that write's timeout, as a renew's. */
typedef uint64_t (*endpointslice_claim_fn)(void *userdata);
/* Levels are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
typedef void (*endpointslice_log_fn)(int level, const char *message, void *userdata);
/* A withdraw finished: ok when the slice is known not to list us. */
typedef void (*endpointslice_withdrawn_fn)(EndpointSlice *s, bool ok, void *userdata);

/* Copies cfg (validated: -EINVAL for a bad service name, pod IP, ports or
 * slice name). The client must outlive the writer. */
int endpointslice_new(sd_event *event, KubeClient *client, const EndpointSliceConfig *cfg,
                      EndpointSlice **ret);
/* Cancels every request silently and frees. NULL ok. */
EndpointSlice *endpointslice_free(EndpointSlice *s);
static inline void endpointslice_freep(EndpointSlice **s)
{
    endpointslice_free(*s);
}
void endpointslice_set_callbacks(EndpointSlice *s, endpointslice_claim_fn claim,
                                 endpointslice_log_fn log, void *userdata);

/* What the slice should say: our address (leader) or not (follower). Call on
 * every change of leadership; cheap when nothing changes. A follower
 * empties the slice only if this process wrote its address there. */
void endpointslice_set_leader(EndpointSlice *s, bool leader);

/* Stops publishing and empties the slice if this process wrote its address
 * there (graceful paths: before the Lease is released). Returns 0 when there
 * is nothing to do (no callback), 1 when done() will be called once, from the
 * loop, within timeout_usec (ok false on timeout or failure), or a negative
 * errno. A second call while one is pending replaces the callback. */
int endpointslice_withdraw(EndpointSlice *s, uint64_t timeout_usec, endpointslice_withdrawn_fn done,
                           void *userdata);

/* True when the slice was last seen (read or written) holding exactly our
 * endpoint. */
bool endpointslice_published(const EndpointSlice *s);

typedef struct EndpointSliceStats {
    uint64_t gets, creates, updates; /* requests sent */
    uint64_t conflicts;              /* 409 answers */
    uint64_t errors;                 /* other failures */
    uint64_t refused;                /* writes not sent because the claim had lapsed */
} EndpointSliceStats;
void endpointslice_stats(const EndpointSlice *s, EndpointSliceStats *ret);
