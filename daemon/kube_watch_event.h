/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kube_lease.h"
#include "kube_status.h"

/* One line of a watch stream: {"type":"…","object":{…}}. */
typedef enum KubeWatchType {
    KUBE_WATCH_ADDED = 1,
    KUBE_WATCH_MODIFIED,
    KUBE_WATCH_DELETED,
    KUBE_WATCH_BOOKMARK,
    KUBE_WATCH_ERROR,
} KubeWatchType;

typedef struct KubeWatchEvent {
    KubeWatchType type;
    char *resource_version; /* object's metadata.resourceVersion (NULL for ERROR) */
    char *object;           /* the object's raw JSON, NUL-terminated */
    size_t object_len;
    KubeStatus status; /* ERROR: the Status (code 410 + reason Expired: start over) */
    bool has_lease;    /* ADDED/MODIFIED/DELETED when parsed as a Lease watch */
    KubeLease lease;
} KubeWatchEvent;

#define KUBE_WATCH_EVENT_INIT                                                                      \
    ((KubeWatchEvent){.status = KUBE_STATUS_INIT, .lease = KUBE_LEASE_INIT})

const char *kube_watch_type_to_string(KubeWatchType t);

/* Parses one event line (without or with its trailing newline). With
 * as_lease, ADDED/MODIFIED/DELETED objects must be valid Leases and are
 * decoded into ->lease. Returns 0, -EBADMSG for anything malformed (not
 * JSON, unknown type, missing object, an ERROR without a Status, a non-ERROR
 * without resourceVersion), -ENOMEM. *ret untouched on failure. */
int kube_watch_event_parse(const char *line, size_t len, bool as_lease, KubeWatchEvent *ret);
void kube_watch_event_done(KubeWatchEvent *e);

/* True for the ERROR event that means "your resourceVersion is too old". */
bool kube_watch_event_is_expired(const KubeWatchEvent *e);
