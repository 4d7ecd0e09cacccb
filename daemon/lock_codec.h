/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The lock's codecs (pure: no I/O, no clock, no loop), apart from the asynchronous lock of
 * lock.h, as kube_lease.h is apart from the API client: the lock types' names, the Endpoints
 * annotation's LeaderElectionRecord, the Endpoints object and its bodies, the MultiLock's
 * combined record, and the conversion between a Lease and the engine's record. What the unit
 * tests and the fuzz target link.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "election.h"
#include "kube_lease.h"

#define LOCK_ANNOTATION "control-plane.alpha.kubernetes.io/leader"
/* client-go's resourcelock.UnknownLeader: the MultiLock's holder when its two objects disagree. */
#define LOCK_UNKNOWN_LEADER "leaderelection.k8s.io/unknown"

typedef enum LockType {
    LOCK_LEASES,
    LOCK_ENDPOINTS,
    LOCK_ENDPOINTS_LEASES,
    _LOCK_TYPE_MAX,
} LockType;

/* "leases", "endpoints", "endpointsleases". */
const char *lock_type_to_string(LockType t);
/* Returns 0, or -EINVAL for anything else; *ret untouched on failure. */
int lock_type_from_string(const char *s, LockType *ret);
/* The resolution of the times the lock stores: 1 (µs) for Leases, 1 s for the Endpoints
 * modes (the annotation's metav1.Time). The engine must write times truncated to it (see
 * ElectionConfig.time_precision_usec), else it would not recognise its own renewTime read back. */
uint64_t lock_time_precision_usec(LockType t);

/* ---- the Endpoints annotation and object ---- */

/* Parses the annotation value (the LeaderElectionRecord JSON, as Go's json.Unmarshal reads it:
 * absent fields are zero, null times are 0, unknown fields ignored, times RFC 3339 with any
 * precision and offset). Returns 0, -EBADMSG (not a JSON object, a field of the wrong type, a
 * bad time, an identity longer than ELECTION_IDENTITY_MAX), -ENOMEM. revision is set to 0. */
int lock_record_parse(const char *text, size_t len, ElectionRecord *ret);
/* The annotation value for r, as Go's json.Marshal of the record writes it (key order,
 * whole-second UTC times, a zero time as null). Returns 0, -ERANGE for a time outside
 * 0001..9999, -ENOMEM. */
int lock_record_format(const ElectionRecord *r, char **ret, size_t *ret_len);

/* The parts of a core/v1 Endpoints object the lock uses. */
typedef struct LockEndpoints {
    char *name, *namespace_, *uid;
    char *resource_version;
    bool has_record;       /* the annotation is present */
    ElectionRecord record; /* zero (holder "") without the annotation, as client-go's Get */
    char *raw;             /* the object as returned */
    size_t raw_len;
} LockEndpoints;

void lock_endpoints_done(LockEndpoints *e); /* NULL ok */
/* Parses an Endpoints object. Returns 0, -EBADMSG (not JSON, not kind Endpoints, a malformed
 * annotation), -ENOMEM; *ret untouched on failure. */
int lock_endpoints_parse(const char *text, size_t len, LockEndpoints *ret);
/* The body of an update: raw with the annotation set to the record (other annotations kept)
 * and metadata.resourceVersion = resource_version. Returns 0, -EINVAL (no raw), -ERANGE, -E2BIG,
 * -ENOMEM. */
int lock_endpoints_update_body(const LockEndpoints *e, const ElectionRecord *r, size_t max_len,
                               char **ret, size_t *ret_len);
/* The body of a create, as client-go's EndpointsLock.Create: metadata {name, namespace,
 * annotations {leader}} and nothing else. */
int lock_endpoints_create_body(const char *ns, const char *name, const ElectionRecord *r,
                               size_t max_len, char **ret, size_t *ret_len);

/* The record the engine sees for the MultiLock (client-go's MultiLock.Get, made safe for an
 * engine that confirms its claims from observations):
 *  - Lease absent: the Endpoints record (held by an old client), except when it names us: then
 *    the holder is UnknownLeader (our claim needs both objects written);
 *  - holders differ: the Endpoints record with holder UnknownLeader;
 *  - holders agree: the Endpoints record, with renewTime the OLDER of the two: a claim is
 *    confirmed only by a write that reached both objects.
 * secondary NULL: the Lease is absent. *ret_aux is a digest of the Lease's spec (0 when
 * absent), to be compared with the record (ElectionRecord.aux), so that a change of the Lease
 * alone is a change of the observed record (client-go compares the concatenated raw records).
 * ret_aux may be NULL. */
void lock_multi_combine(const ElectionRecord *primary, const ElectionRecord *secondary,
                        const char *identity, ElectionRecord *ret, uint64_t *ret_aux);

/* A resourceVersion as an integer (etcd revisions and the test server's are integers): 0 for
 * NULL, "" or anything that is not a decimal number that fits. */
uint64_t lock_revision_of(const char *resource_version);

/* ---- Lease <-> record ---- */

/* The record of a Lease as the engine sees it (absent or out-of-range fields are 0; revision: the
 * Lease's resourceVersion). */
void lock_record_from_lease(const KubeLease *l, ElectionRecord *r);
/* Writes the record's spec fields into the Lease (zero times as unset). Returns 0 or -ENOMEM. */
int lock_record_to_lease(KubeLease *l, const ElectionRecord *r);
