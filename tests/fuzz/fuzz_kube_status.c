/* SPDX-License-Identifier: MIT */
/* Status decoder, result mapping and the 403 RBAC message parser. */
#include <stdint.h>
#include <stdlib.h>

#include "kube_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    KubeStatus s = KUBE_STATUS_INIT;
    KubeDenial d;

    if (kube_status_parse((const char *)data, size, &s) < 0) return 0;
    (void)kube_result_from_http(s.code, &s);
    (void)kube_result_to_string(kube_result_from_http(s.code, &s));
    (void)kube_status_denial(&s, &d);
    kube_status_done(&s);
    return 0;
}
