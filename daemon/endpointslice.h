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

#include "kube_client.h"

#define ENDPOINTSLICE_MANAGED_BY "leader-elector.leader-election"
#define ENDPOINTSLICE_LABEL_SERVICE "kubernetes.io/service-name"
#define ENDPOINTSLICE_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define ENDPOINTSLICE_PORTS_MAX 32
#define ENDPOINTSLICE_PORT_NAME_MAX 15 /* an IANA service name */
#define ENDPOINTSLICE_SERVICE_MAX 63   /* a DNS-1035 label */
#define ENDPOINTSLICE_BODY_MAX (1024u * 1024u)

typedef struct EndpointSlicePort {
    char name[ENDPOINTSLICE_PORT_NAME_MAX + 1]; /* "" allowed when there is one port */
    uint16_t port;
    char protocol[5]; /* "TCP", "UDP", "SCTP" */
} EndpointSlicePort;

/* --endpoint-port: "name:port[/proto]" or "port[/proto]"; proto TCP (the
 * default), UDP or SCTP, case-insensitive; name lower-case letters, digits
 * and '-', at most 15, at least one letter, no leading/trailing/double '-'
 * (a Service port name). Returns 0, or -EINVAL with *ret untouched. */
int endpointslice_port_parse(const char *s, EndpointSlicePort *ret);

/* A Service name: a DNS-1035 label. */
bool endpointslice_service_valid(const char *s);

/* "IPv4" or "IPv6" for a numeric address, NULL if it is not one. With canon
 * (INET6_ADDRSTRLEN bytes), the canonical text of the address is written. */
const char *endpointslice_address_type(const char *ip, char *canon, size_t canon_size);

typedef struct EndpointSliceConfig {
    const char *namespace_; /* NULL: the client's */
    const char *name;       /* the slice's name: the election's */
    const char *service;
    const char *pod_ip;        /* $POD_IP */
    const char *pod_name;      /* targetRef.name; NULL/"": no targetRef */
    const char *pod_namespace; /* targetRef.namespace; NULL/"": namespace_ */
    const char *pod_uid;       /* targetRef.uid, optional */
    const char *node_name;     /* nodeName, optional */
    const EndpointSlicePort *ports;
    size_t n_ports;         /* 1..ENDPOINTSLICE_PORTS_MAX */
    uint64_t timeout_usec;  /* one request; 0: 5 s */
    uint64_t retry_usec;    /* after a failed request; 0: 1 s */
    uint64_t resync_usec;   /* leader: re-read the slice this often; 0: 60 s */
} EndpointSliceConfig;

/* ---- the pure part: bodies and checks (tests, fuzzing) ---- */

/* The EndpointSlice's managed parts as JSON values: the endpoints array with
 * our address (publish) or empty, and the ports array. */
int endpointslice_endpoints_json(const EndpointSliceConfig *cfg, bool publish, char **ret);
int endpointslice_ports_json(const EndpointSliceConfig *cfg, char **ret);
/* A new object (create), with or without our endpoint. */
int endpointslice_new_json(const EndpointSliceConfig *cfg, const char *ns, bool publish,
                           char **ret, size_t *ret_len);
/* raw (as the server returned it) with the managed parts rewritten. */
int endpointslice_edit_json(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len,
                            bool publish, char **ret, size_t *ret_len);

typedef enum EndpointSliceContent {
    ENDPOINTSLICE_CONTENT_OURS = 1, /* exactly our endpoint, ready, our labels and ports */
    ENDPOINTSLICE_CONTENT_LISTS_US, /* lists our address among other things */
    ENDPOINTSLICE_CONTENT_OTHER,    /* does not list our address (empty, another pod's) */
} EndpointSliceContent;

/* Classifies a slice as returned by the server. Returns a positive
 * EndpointSliceContent, or -EBADMSG if it is not an object. */
int endpointslice_classify(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len);

/* ---- the writer ---- */

typedef struct EndpointSlice EndpointSlice;

/* How much longer this process claims leadership, in µs, asked at the
 * moment a write of our address is sent: 0 means "not leader, do not
 * write". It also bounds that write's timeout, as a renew's. */
typedef uint64_t (*endpointslice_claim_fn)(void *userdata);
/* Levels of log.h (0 debug .. 3 error). */
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
int endpointslice_withdraw(EndpointSlice *s, uint64_t timeout_usec,
                           endpointslice_withdrawn_fn done, void *userdata);

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
