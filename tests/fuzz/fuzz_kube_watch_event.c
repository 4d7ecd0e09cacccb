/* SPDX-License-Identifier: MIT */
/* One watch stream line, as a Lease watch and as a generic one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_watch_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int as_lease = 0; as_lease <= 1; as_lease++) {
        KubeWatchEvent e = KUBE_WATCH_EVENT_INIT;
        if (kube_watch_event_parse((const char *)data, size, as_lease, &e) < 0) continue;
        if (!e.object || e.object_len != strlen(e.object)) abort();
        if (e.type != KUBE_WATCH_ERROR && !e.resource_version) abort();
        (void)kube_watch_event_is_expired(&e);
        (void)kube_watch_type_to_string(e.type);
        kube_watch_event_done(&e);
    }
    return 0;
}
