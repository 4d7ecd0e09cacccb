/* SPDX-License-Identifier: MIT */
/* Lease decoder and patch-in-place encoder: whatever parses must encode, and
 * what it encodes must parse back with the same managed fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    KubeLease l = KUBE_LEASE_INIT, back = KUBE_LEASE_INIT;
    char *out = NULL;
    size_t n = 0;

    if (kube_lease_parse((const char *)data, size, &l) < 0) return 0;

    /* Overwrite the managed fields as a renew does. */
    free(l.holder_identity);
    l.holder_identity = strdup("fuzz-\"holder\"\n\xc3\xa9");
    l.lease_duration_seconds = 15;
    l.renew_time_usec = INT64_C(1763788800123456);
    l.lease_transitions = 3;
    if (!l.resource_version) l.resource_version = strdup("1");

    for (int create = 0; create <= 1; create++) {
        if (kube_lease_to_json(&l, create, 4u << 20, &out, &n) == 0) {
            if (kube_lease_parse(out, n, &back) != 0) abort();
            if (strcmp(back.holder_identity, l.holder_identity) != 0) abort();
            if (back.renew_time_usec != l.renew_time_usec) abort();
            if (back.lease_transitions != 3 || back.lease_duration_seconds != 15) abort();
            if (!create &&
                (!back.resource_version || strcmp(back.resource_version, l.resource_version) != 0))
                abort();
            if (create && back.resource_version) abort();
            kube_lease_done(&back);
            free(out);
            out = NULL;
        }
    }
    kube_lease_done(&l);
    return 0;
}
