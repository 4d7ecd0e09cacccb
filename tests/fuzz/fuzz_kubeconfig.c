/* SPDX-License-Identifier: MIT */
/* The kubeconfig parser (daemon/kubeconfig.c): a file from outside the pod. */
#include <stdint.h>
#include <stdlib.h>

#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Kubeconfig k;
    char err[320];

    if (size > 65536) return 0;
    if (kubeconfig_parse((const char *)data, size, "/d", &k, err, sizeof err) < 0) return 0;
    kubeconfig_done(&k);
    return 0;
}
