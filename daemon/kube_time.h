/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Kubernetes time stamps, as microseconds since the Unix epoch (UTC).
 * MicroTime (Lease acquireTime/renewTime) is written exactly as the API
 * server writes it, "2006-01-02T15:04:05.000000Z": UTC, 'Z', six fractional
 * digits (the server rejects any other precision with 400). metav1.Time
 * (creationTimestamp, Events) has whole seconds. */

#define KUBE_TIME_UNSET INT64_MIN
#define KUBE_MICROTIME_LEN 27 /* without the NUL */
#define KUBE_TIME_BUF 32

/* Returns 0, or -ERANGE outside years 0001..9999. */
int kube_microtime_format(int64_t usec, char buf[static KUBE_TIME_BUF]);
int kube_time_format(int64_t usec, char buf[static KUBE_TIME_BUF]); /* seconds, truncated */

/* Parses RFC 3339: date 'T' time, optional fraction of 1..9 digits
 * (truncated to microseconds), then 'Z' or a numeric offset +hh:mm / -hh:mm.
 * Returns 0 or -EINVAL; *ret_usec untouched on failure. */
int kube_time_parse(const char *s, size_t len, int64_t *ret_usec);
