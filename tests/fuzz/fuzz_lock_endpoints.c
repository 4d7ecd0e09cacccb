/* SPDX-License-Identifier: MIT */
/* The Endpoints lock's decoders (daemon/lock_codec.c): an Endpoints object with the leader
 * annotation, and the annotation value alone. Whatever parses must encode, and what it encodes
 * must parse back with the record written (whole seconds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lock_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LockEndpoints e = {0}, back = {0};
    ElectionRecord r, w = {0};
    char *out = NULL;
    size_t n = 0;

    /* The annotation value on its own: a parsed record formats and reads back the same, at the
     * second. */
    if (lock_record_parse((const char *)data, size, &r) == 0) {
        ElectionRecord again;
        if (lock_record_format(&r, &out, &n) == 0) {
            if (lock_record_parse(out, n, &again) != 0) abort();
            if (strcmp(again.holder, r.holder) != 0) abort();
            if (again.lease_duration_seconds != r.lease_duration_seconds) abort();
            if (again.lease_transitions != r.lease_transitions) abort();
            if (again.renew_time_usec / 1000000 != r.renew_time_usec / 1000000 &&
                r.renew_time_usec >= 0)
                abort();
            free(out);
            out = NULL;
        }
    }

    if (lock_endpoints_parse((const char *)data, size, &e) < 0) return 0;
    strcpy(w.holder, "fuzz-\"holder\"\n\xc3\xa9");
    w.lease_duration_seconds = 10;
    w.acquire_time_usec = w.renew_time_usec = INT64_C(1763788800000000);
    w.lease_transitions = 3;
    if (!e.resource_version) e.resource_version = strdup("1");
    if (lock_endpoints_update_body(&e, &w, 4u << 20, &out, &n) == 0) {
        if (lock_endpoints_parse(out, n, &back) != 0) abort();
        if (!back.has_record || strcmp(back.record.holder, w.holder) != 0) abort();
        if (back.record.renew_time_usec != w.renew_time_usec) abort();
        if (back.record.lease_transitions != 3) abort();
        if (!back.resource_version || strcmp(back.resource_version, e.resource_version) != 0)
            abort();
        lock_endpoints_done(&back);
        free(out);
    }
    lock_endpoints_done(&e);
    return 0;
}
