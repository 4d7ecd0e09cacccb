/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The election's lock object on the Kubernetes API, behind one interface, so that the glue feeds
 * the engine the same ElectionRecord whatever holds it (client-go's resourcelock.Interface):
 *
 *  - LOCK_LEASES: a coordination.k8s.io/v1 Lease (LeaseLock); times in MicroTime (µs).
 *  - LOCK_ENDPOINTS: the old sidecar's lock (kubernetes/contrib election, client-go's removed
 *    EndpointsLock): the annotation control-plane.alpha.kubernetes.io/leader on a core/v1
 *    Endpoints named after the election, holding the LeaderElectionRecord as JSON
 *    ({"holderIdentity","leaseDurationSeconds","acquireTime","renewTime","leaderTransitions"},
 *    times metav1.Time: RFC 3339 in whole SECONDS). Everything written there is truncated to
 *    the second; see lock_time_precision_usec().
 *  - LOCK_ENDPOINTS_LEASES: client-go's MultiLock with the Endpoints primary and the Lease
 *    secondary (what client-go called "endpointsleases"): the Endpoints record is read and
 *    decided on, the Lease follows it; see lock_multi_combine() for what the engine is shown.
 *    Unlike client-go, the Lease write is conditional on the Lease as last observed: a Lease
 *    changed since (a Lease-only candidate) fails the op with KUBE_E_CONFLICT (or
 *    KUBE_E_ALREADY_EXISTS) after the Endpoints was written, and is never overwritten.
 *
 * Operations (get, create, update, watch) run on the API client's loop; every callback comes
 * from the loop, never from inside the starting call, exactly once unless the op is cancelled.
 * Records carry `revision` = the primary object's resourceVersion as an integer.
 *
 * Updates are written on top of the object as the server last returned it (kept per object,
 * newest resourceVersion wins): only the managed fields (the Lease spec's five fields, or the
 * one annotation) and metadata.resourceVersion are rewritten, labels, other annotations,
 * subsets, ownerReferences and unknown fields go back verbatim. An Endpoints update is always
 * conditional (resourceVersion sent): the server would otherwise let the last write win.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "election.h"
#include "kube_client.h"
#include "lock_codec.h"

/* ---- the lock on the API ---- */

typedef struct Lock Lock;
typedef struct LockOp LockOp;

typedef struct LockResult {
    int result;                /* KUBE_OK, a KUBE_E_* (kube_status.h), or a negative errno */
    long http_status;          /* of the request that decided; 0 if none */
    uint64_t retry_after_usec; /* 429/5xx Retry-After, 0: none */
    bool has_record;           /* result KUBE_OK of a get/create/update */
    bool created;              /* a write that created the (primary) object: HTTP 201 */
    ElectionRecord record;
    uint64_t aux;      /* for ElectionRecord.aux where the engine has it (see lock_multi_combine) */
    const char *error; /* one line for logs, or NULL */
} LockResult;

typedef void (*lock_done_fn)(Lock *l, const LockResult *res, void *userdata);

typedef struct LockWatchEvent {
    bool bookmark;         /* no record: only proves the watch is alive (a BOOKMARK) */
    bool deleted;          /* the (primary) object is gone; record.revision: the deletion's */
    ElectionRecord record; /* !deleted: the record as now stored */
    uint64_t aux;          /* as LockResult.aux */
} LockWatchEvent;

typedef void (*lock_event_fn)(Lock *l, const LockWatchEvent *ev, void *userdata);
/* Each HTTP request the lock made, for metrics: verb "get"/"create"/"update", status (0: no
 * answer), latency. */
typedef void (*lock_request_fn)(const char *verb, long http_status, uint64_t latency_usec,
                                void *userdata);

typedef struct LockConfig {
    LockType type;
    const char *namespace_; /* copied */
    const char *name;       /* copied: the election's name, also the objects' */
    const char *identity;   /* copied: ours, for the MultiLock's rules */
} LockConfig;

/* Returns 0, -EINVAL (bad config), -ENOMEM. The client and the loop must outlive the lock. */
int lock_new(sd_event *event, KubeClient *c, const LockConfig *cfg, Lock **ret);
/* Cancels every op silently (no callbacks) and frees. NULL ok. */
Lock *lock_free(Lock *l);
static inline void lock_freep(Lock **l)
{
    lock_free(*l);
}
LockType lock_type(const Lock *l);
void lock_set_request_observer(Lock *l, lock_request_fn fn, void *userdata);

/* The lock object (the Lease; the Endpoints in the Endpoints modes): kind, apiVersion, name,
 * namespace, and uid/resourceVersion once the object was seen. Strings point into the lock
 * (valid until the next op completes). */
typedef struct LockObjectRef {
    const char *kind, *api_version, *name, *namespace_, *uid, *resource_version;
} LockObjectRef;
void lock_object_ref(const Lock *l, LockObjectRef *ret);
/* The objects an Event about the election names, as client-go's RecordEvent: the LeaseLock and
 * the EndpointsLock record on their object with its ObjectMeta as last returned (so its uid,
 * which `kubectl describe` selects Events by, and its resourceVersion), the MultiLock on the
 * primary (the Endpoints) and then the secondary (the Lease). Returns how many (1 or 2) were
 * filled in; strings as lock_object_ref()'s. */
size_t lock_event_objects(const Lock *l, LockObjectRef ret[2]);

/* Ops. timeout_usec bounds the whole op (several requests for the MultiLock). base_revision
 * (update): the revision the decision was made on; the update is conditional on the object as
 * last returned, and when none is kept, on a fresh read whose revision must equal base_revision
 * (else KUBE_E_CONFLICT). Returns 0 and an op handle (valid until its callback returns or it is
 * cancelled), or a negative errno (no callback). */
int lock_get(Lock *l, uint64_t timeout_usec, lock_done_fn cb, void *userdata, LockOp **ret);
int lock_create(Lock *l, const ElectionRecord *r, uint64_t timeout_usec, lock_done_fn cb,
                void *userdata, LockOp **ret);
int lock_update(Lock *l, const ElectionRecord *r, uint64_t base_revision, uint64_t timeout_usec,
                lock_done_fn cb, void *userdata, LockOp **ret);
/* Cancels: no callback. NULL ok. Returns NULL. */
LockOp *lock_op_cancel(LockOp *op);

/* Follows the lock: on_event with the record (or the deletion) as it changes; on_end once when
 * the watch gives up (a result as kube_lease_watch's on_end: KUBE_E_EXPIRED, FORBIDDEN, …).
 * Leases: a watch stream (kube_lease_watch, stream_timeout_usec).
 * Endpoints modes: the objects are read once (both for the MultiLock: the Endpoints, then the
 * Lease), then each is followed by a watch stream (kube_object_watch / kube_lease_watch,
 * stream_timeout_usec) from the resourceVersion read. Every event shows the engine what a read
 * of the objects would show at that moment, from the objects as last seen (streams, reads and
 * our writes' answers, newest resourceVersion first): the same records, deletions (revision 0)
 * and aux as a read, the MultiLock's from lock_multi_combine() with the other object as last
 * seen. Nothing is shown while one of our writes is in flight (it could show one object of a
 * MultiLock write and not the other): what changed meanwhile is shown once our writes are done.
 * A stream's 410 Expired reads the objects afresh (or, for a resourceVersion just read and
 * already too old, watches from now). If the server refuses a watch (403: RBAC without "watch"
 * on the object; 404, 400, 422), or a stream fails otherwise for good, the watch falls back to
 * reading the objects every poll_usec, as the old sidecar and client-go do (streams
 * are tried again after a while unless refused); a read is never delivered if one of our writes
 * started or finished while it was in flight. Failed reads are retried silently (as a watch
 * stream resumes); 403 on a read ends the watch. */
int lock_watch(Lock *l, uint64_t stream_timeout_usec, uint64_t poll_usec, lock_event_fn on_event,
               lock_done_fn on_end, void *userdata, LockOp **ret);
/* Called each time the watch loses the API (a stream interrupted, see kube_watch_set_interrupt();
 * a failed read of the objects; an Endpoints event that cannot be decoded), before it resumes by
 * itself; the next event means it is back. May cancel the watch. */
typedef void (*lock_interrupt_fn)(Lock *l, const char *why, void *userdata);
void lock_watch_set_interrupt(LockOp *watch, lock_interrupt_fn fn);
