/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "kube_time.h"

/* A coordination.k8s.io/v1 Lease: the fields the client manages, typed,
 * plus the object exactly as the server last returned it (raw). Updates are
 * written by patching the managed fields into raw, so labels, annotations,
 * ownerReferences, managedFields and spec fields this code does not know
 * (strategy, preferredHolder, future ones) go back to the server verbatim. */

#define KUBE_INT_UNSET INT64_MIN

typedef struct KubeLease {
    char *name;
    char *namespace_;
    char *uid;
    char *resource_version;         /* NULL: none (a new object) */
    char *holder_identity;          /* NULL: absent; "" is a released Lease */
    int64_t lease_duration_seconds; /* KUBE_INT_UNSET: absent */
    int64_t acquire_time_usec;      /* KUBE_TIME_UNSET: absent or null */
    int64_t renew_time_usec;        /* KUBE_TIME_UNSET: absent or null */
    int64_t lease_transitions;      /* KUBE_INT_UNSET: absent */
    char *strategy;                 /* read only: never written by this client */
    char *preferred_holder;         /* read only */
    char *raw;                      /* the object as last returned (NUL-terminated), or NULL */
    size_t raw_len;
} KubeLease;

#define KUBE_LEASE_INIT                                                                            \
    ((KubeLease){.lease_duration_seconds = KUBE_INT_UNSET,                                         \
                 .acquire_time_usec = KUBE_TIME_UNSET,                                             \
                 .renew_time_usec = KUBE_TIME_UNSET,                                               \
                 .lease_transitions = KUBE_INT_UNSET})

void kube_lease_done(KubeLease *l); /* frees the members, re-initialises; NULL ok */
int kube_lease_copy(const KubeLease *src, KubeLease *ret);

/* Parses a Lease object. Returns 0, -EBADMSG if it is not JSON or not an
 * object of kind Lease or a managed field has the wrong
 * type or an unparseable time, -ENOMEM. *ret is untouched on failure. */
int kube_lease_parse(const char *text, size_t len, KubeLease *ret);
int kube_lease_from_json(const JsonDoc *d, int t, KubeLease *ret);

/* The body to send. For an update (for_create false) with raw set: raw with
 * the managed fields replaced (spec.holderIdentity, leaseDurationSeconds,
 * acquireTime, renewTime, leaseTransitions, metadata.resourceVersion; an
 * unset field is removed). For a create with raw set: the same, minus
 * resourceVersion, uid, creationTimestamp and managedFields. Without raw: a
 * new object. Returns 0, -EINVAL (no name), -E2BIG over max_len, -ENOMEM. */
int kube_lease_to_json(const KubeLease *l, bool for_create, size_t max_len, char **ret,
                       size_t *ret_len);
