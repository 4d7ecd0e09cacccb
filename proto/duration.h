/* SPDX-License-Identifier: MIT */
#pragma once

/* Go-style durations: the one parser of the daemon's flags and the probe's --timeout (integer
 * arithmetic, libc only, no heap: the static musl probe compiles it too). */

#include <stddef.h>
#include <stdint.h>

#include "time_units.h"

/* Ten years: far beyond any sensible election timing, far below overflow. */
#define DURATION_MAX_USEC (UINT64_C(10) * 365 * 24 * USEC_PER_HOUR)

/* Parses a duration as Go's time.ParseDuration writes them ("15s", "1m30s",
 * "500ms", "1.5h", "250us", units ns, us, µs, ms, s, m, h, components in any
 * order, an optional leading '+') or a plain number of seconds ("15", "2.5").
 * Negative durations are refused. Exact to the nanosecond (digits of a
 * component's fraction below that are dropped); a remainder below the
 * microsecond rounds up, so "1ns" is not zero. Returns 0 and sets *ret_usec,
 * or -EINVAL (unparseable) / -ERANGE (above max_usec, or beyond what 64 bits
 * of nanoseconds hold); *ret_usec is untouched on failure. */
int duration_parse_max(const char *s, uint64_t max_usec, uint64_t *ret_usec);

/* duration_parse_max() with max_usec = DURATION_MAX_USEC. */
int duration_parse(const char *s, uint64_t *ret_usec);

/* Formats a duration in the shortest Go-like form ("15s", "1m30s", "500ms")
 * into buf; returns buf. 32 bytes always suffice. */
const char *duration_format(uint64_t usec, char *buf, size_t size);
