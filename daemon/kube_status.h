/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Outcomes of an API request. 0 is success; these positive codes are the
 * documented failures a caller must handle (a 409 is KUBE_E_CONFLICT, not an
 * errno); a negative errno means the client itself failed (out of memory,
 * bad arguments). */
typedef enum KubeResult {
    KUBE_OK = 0,
    KUBE_E_CONFLICT,          /* 409 Conflict: stale resourceVersion */
    KUBE_E_ALREADY_EXISTS,    /* 409 AlreadyExists on create */
    KUBE_E_NOT_FOUND,         /* 404 */
    KUBE_E_UNAUTHORIZED,      /* 401, still after re-reading the token once */
    KUBE_E_FORBIDDEN,         /* 403: RBAC; the missing rule is logged */
    KUBE_E_TOO_MANY_REQUESTS, /* 429 (APF plain text or Status); see retry_after */
    KUBE_E_INVALID,           /* 422 */
    KUBE_E_BAD_REQUEST,       /* 400 and other unexpected 4xx */
    KUBE_E_EXPIRED,           /* 410 Gone/Expired, or an ERROR 410 event in a watch */
    KUBE_E_SERVER_ERROR,      /* 5xx; for a write: it may have been applied (outcome unknown) */
    KUBE_E_TIMEOUT,           /* the caller's deadline passed */
    KUBE_E_TRANSPORT,         /* connection refused/reset, TLS, DNS */
    KUBE_E_PROTOCOL,          /* a 2xx body that is not what was asked for (not JSON, wrong kind) */
    KUBE_E_TOO_LARGE,         /* response (or a watch line) over the size bound; transfer aborted */
    _KUBE_RESULT_MAX,
} KubeResult;

const char *kube_result_to_string(int result); /* "conflict", … ; negative: "error" */

/* metav1.Status. Strings are NULL when absent. */
typedef struct KubeStatus {
    int64_t code; /* 0: absent */
    char *status; /* "Failure", "Success" */
    char *message;
    char *reason; /* "Conflict", "AlreadyExists", "Expired", … */
    char *details_name;
    char *details_group;
    char *details_kind;
    int64_t retry_after_seconds; /* -1: absent */
    char *cause_reason;          /* first of details.causes[] */
    char *cause_field;
    char *cause_message;
} KubeStatus;

#define KUBE_STATUS_INIT ((KubeStatus){.retry_after_seconds = -1})

/* Parses a Status body. Returns 0, -EBADMSG if it is not JSON or not an
 * object of kind "Status", -ENOMEM. On failure *ret is left as it was. */
int kube_status_parse(const char *text, size_t len, KubeStatus *ret);
int kube_status_from_json(const JsonDoc *d, int t, KubeStatus *ret);
void kube_status_done(KubeStatus *s);

/* The result for an HTTP status code, refined by the Status reason where the
 * code alone is ambiguous (409: Conflict vs AlreadyExists). st may be NULL. */
int kube_result_from_http(long http_code, const KubeStatus *st);

/* The RBAC rule a 403 says is missing, from the API server's message
 * `User "U" cannot VERB resource "RES" in API group "G" in the namespace "NS"`
 * (or `at the cluster scope`, or `cannot VERB path "/p"`). */
typedef struct KubeDenial {
    char user[256];
    char verb[64];
    char resource[256];   /* "leases", "pods/log"; the path for non-resource URLs */
    char group[256];      /* "" for the core group */
    char namespace_[256]; /* "" at the cluster scope */
    char name[256];       /* from details.name, may be "" */
    int cluster_scope;
    int nonresource;
} KubeDenial;

/* Returns 0, or -EBADMSG when the message does not have that shape. */
int kube_status_denial(const KubeStatus *s, KubeDenial *ret);
