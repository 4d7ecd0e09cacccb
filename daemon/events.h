/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Kubernetes Events (core/v1) about the election, as client-go's event recorder writes them for
 * leader election ("<id> became leader", "<id> stopped leading", reason LeaderElection, type
 * Normal, on the lock object; the daemon adds one on its pod, see post_transition() in
 * daemon/elector.c).
 *
 * Best effort by design: events_post() only queues (bounded; a full queue drops the new event
 * and counts it) and returns at once; one POST at a time goes out from the loop. A failed post
 * (403 without RBAC for events, 5xx, a timeout) is logged once per kind of failure and dropped,
 * never retried in a loop, never reported to the caller: the election must not depend on it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "kube_client.h"

#define EVENTS_QUEUE_DEFAULT 16
#define EVENTS_COMPONENT "leader-elector"
#define EVENTS_REASON "LeaderElection"

/* The involvedObject (an ObjectReference). uid and resource_version may be NULL. */
typedef struct EventObjectRef {
    const char *kind, *api_version, *name, *namespace_, *uid, *resource_version;
} EventObjectRef;

typedef struct EventsConfig {
    const char *component; /* source.component / reportingComponent; NULL: "leader-elector" */
    const char *host;      /* source.host / reportingInstance (the hostname) */
    size_t queue_max;      /* 0: EVENTS_QUEUE_DEFAULT */
    uint64_t timeout_usec; /* per POST; 0: 5 s */
} EventsConfig;

typedef struct Events Events;

/* The Event body (pure, for tests): metadata.name "<object name>.<wall ns in hex>" as client-go,
 * namespace the object's ("default" if none), first/lastTimestamp = wall_usec in whole seconds,
 * count 1. Returns 0, -EINVAL (missing object name/kind, type, reason), -ERANGE, -ENOMEM. */
int events_format(const EventObjectRef *obj, const char *type, const char *reason,
                  const char *message, const char *component, const char *host, int64_t wall_usec,
                  char **ret, size_t *ret_len);

int events_new(sd_event *event, KubeClient *c, const EventsConfig *cfg, Events **ret);
/* Drops what is queued, cancels the POST in flight. NULL ok. */
Events *events_free(Events *ev);
static inline void events_freep(Events **e)
{
    events_free(*e);
}
void events_set_log(Events *ev, kube_log_fn fn, void *userdata);

/* Queues one event (the body is built now, at wall_usec; its name as events_format()'s, the
 * nanoseconds raised past the previous Event's of this poster, so that the Events of one
 * transition on objects of the same name do not collide). Returns 0, -ENOBUFS when the queue is
 * full (dropped, counted), -EINVAL, -ENOMEM. Never blocks, never calls back. */
int events_post(Events *ev, const EventObjectRef *obj, const char *type, const char *reason,
                const char *message, int64_t wall_usec);

typedef struct EventsStats {
    uint64_t queued, posted, failed, dropped; /* dropped: queue full */
    size_t pending;                           /* queued or in flight */
} EventsStats;
void events_stats(const Events *ev, EventsStats *ret);
