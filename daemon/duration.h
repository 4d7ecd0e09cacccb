/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Parses a duration as Go's time.ParseDuration writes them ("15s", "1m30s",
 * "500ms", "1.5h", "250us") or a plain number of seconds ("15", "2.5").
 * Negative durations are refused. Returns 0 and sets *ret_usec (rounded to
 * the microsecond), or -EINVAL (unparseable) / -ERANGE (too large);
 * *ret_usec is untouched on failure. */
int duration_parse(const char *s, uint64_t *ret_usec);

/* Formats a duration in the shortest Go-like form ("15s", "1m30s", "500ms")
 * into buf; returns buf. 32 bytes always suffice. */
const char *duration_format(uint64_t usec, char *buf, size_t size);
