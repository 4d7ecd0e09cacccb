/* SPDX-License-Identifier: MIT */
#pragma once

/* The time units, defined once for the daemon, the probe and the protocol code (header only,
 * libc only: the static musl probe includes it too). Unsigned: times and durations on
 * CLOCK_BOOTTIME / CLOCK_REALTIME in µs are uint64_t; code on signed times casts. */

#include <stdint.h>

#define NSEC_PER_USEC UINT64_C(1000)
#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_SEC UINT64_C(1000000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MINUTE (UINT64_C(60) * USEC_PER_SEC)
#define USEC_PER_HOUR (UINT64_C(3600) * USEC_PER_SEC)
#define MSEC_PER_SEC UINT64_C(1000)
