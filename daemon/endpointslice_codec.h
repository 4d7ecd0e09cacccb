/* SPDX-License-Identifier: MIT */
#pragma once

/* The EndpointSlice's codec (pure, no I/O): the bodies the writer of
 * endpointslice.h sends (a new object, or the object as the server returned
 * it with the managed parts rewritten) and the classification of what the
 * server returns. What the unit tests and the fuzz target link. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpointslice_flags.h"

#define ENDPOINTSLICE_MANAGED_BY "leader-elector.leader-election"
#define ENDPOINTSLICE_LABEL_SERVICE "kubernetes.io/service-name"
#define ENDPOINTSLICE_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define ENDPOINTSLICE_BODY_MAX (1024u * 1024u)

typedef struct EndpointSliceConfig {
    const char *namespace_; /* NULL: the client's */
    const char *name;       /* the slice's name: the election's */
    const char *service;
    const char *pod_ip;        /* $POD_IP */
    const char *pod_name;      /* targetRef.name; NULL/"": no targetRef */
    const char *pod_namespace; /* targetRef.namespace; NULL/"": namespace_ */
    const char *pod_uid;       /* targetRef.uid, optional */
    /* nodeName ($NODE_NAME, downward API spec.nodeName), optional: kube-proxy counts an
     * endpoint as local to a node only when its nodeName is that node's, so without it a
     * Service with externalTrafficPolicy or internalTrafficPolicy Local gets no endpoint on
     * any node. A DNS subdomain when set. */
    const char *node_name;
    const char *zone; /* zone ($NODE_ZONE), optional; a label value when set */
    const EndpointSlicePort *ports;
    size_t n_ports;        /* 1..ENDPOINTSLICE_PORTS_MAX */
    uint64_t timeout_usec; /* one request; 0: 5 s */
    uint64_t retry_usec;   /* after a failed request; 0: 1 s */
    uint64_t resync_usec;  /* leader: re-read the slice this often; 0: 60 s */
} EndpointSliceConfig;
/* 0 when cfg is what the bodies and the writer need (a slice name that is a
 * DNS subdomain, a Service name, a numeric pod IP, 1..ENDPOINTSLICE_PORTS_MAX
 * ports with distinct names, named when there are several, a node name that
 * is a DNS subdomain and a zone that is a label value when set), else -EINVAL. */
int endpointslice_config_validate(const EndpointSliceConfig *cfg);

/* ---- bodies ---- */

/* The EndpointSlice's managed parts as JSON values: the endpoints array with
 * our address (publish) or empty, and the ports array. */
int endpointslice_endpoints_json(const EndpointSliceConfig *cfg, bool publish, char **ret);
int endpointslice_ports_json(const EndpointSliceConfig *cfg, char **ret);
/* A new object (create), with or without our endpoint. */
int endpointslice_new_json(const EndpointSliceConfig *cfg, const char *ns, bool publish, char **ret,
                           size_t *ret_len);
/* raw (as the server returned it) with the managed parts rewritten. */
int endpointslice_edit_json(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len,
                            bool publish, char **ret, size_t *ret_len);

typedef enum EndpointSliceContent {
    ENDPOINTSLICE_CONTENT_OURS = 1, /* exactly our endpoint (ready, our nodeName and zone), our
                                     * labels and ports */
    ENDPOINTSLICE_CONTENT_LISTS_US, /* lists our address among other things */
    ENDPOINTSLICE_CONTENT_OTHER,    /* does not list our address (empty, another pod's) */
} EndpointSliceContent;

/* ---- classification ---- */

/* Classifies a slice as returned by the server. Returns a positive
 * EndpointSliceContent, or -EBADMSG if it is not an object. */
int endpointslice_classify(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len);
