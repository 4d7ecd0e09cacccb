/* SPDX-License-Identifier: MIT */
/* The duration parser (proto/duration.c), on the daemon's flags and the probe's --timeout:
 * whatever parses is within the maximum, parses the same with a larger one, and formats to a
 * text that parses back to the same value. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256], buf[32];
    uint64_t v = 0, wide = 0, back = 0;
    int r, rw;

    if (size >= sizeof s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    r = duration_parse(s, &v);
    rw = duration_parse_max(s, UINT64_MAX, &wide);
    if (r == 0) {
        if (v > DURATION_MAX_USEC || rw != 0 || wide != v) abort();
        duration_format(v, buf, sizeof buf);
        if (duration_parse(buf, &back) != 0 || back != v) abort();
    } else if (r == -ERANGE) {
        if (rw == 0 && wide <= DURATION_MAX_USEC) abort();
    } else if (rw != r) {
        abort();
    }
    return 0;
}
