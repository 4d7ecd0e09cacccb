/* SPDX-License-Identifier: MIT */
/* The EndpointSlice as the API server returns it (outside input): whatever
 * classifies as an object must be editable, and what the edit writes must
 * classify as ours (publish) or as not listing us (empty). The first line of
 * the input also goes through the --endpoint-port parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpointslice_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const EndpointSlicePort ports[] = {
        {.name = "http", .port = 8080, .protocol = "TCP"},
        {.name = "dns", .port = 53, .protocol = "UDP"},
    };
    EndpointSliceConfig cfg = {
        .namespace_ = "default",
        .name = "my-election",
        .service = "my-svc",
        .pod_ip = "10.0.0.5",
        .pod_name = "pod-\"a\"",
        .ports = ports,
        .n_ports = 2,
    };
    const char *text = (const char *)data;
    char line[80];
    size_t n = 0;
    EndpointSlicePort p;
    int c;

    while (n < size && n < sizeof line - 1 && text[n] != '\n') {
        line[n] = text[n];
        n++;
    }
    line[n] = 0;
    if (endpointslice_port_parse(line, &p) == 0 && (p.port == 0 || !p.protocol[0])) abort();

    c = endpointslice_classify(&cfg, text, size);
    if (c < 0) return 0;
    if (c != ENDPOINTSLICE_CONTENT_OURS && c != ENDPOINTSLICE_CONTENT_LISTS_US &&
        c != ENDPOINTSLICE_CONTENT_OTHER)
        abort();
    for (int publish = 0; publish <= 1; publish++) {
        char *out = NULL;
        size_t len = 0;
        if (endpointslice_edit_json(&cfg, text, size, publish, &out, &len) == 0) {
            int back = endpointslice_classify(&cfg, out, len);
            if (publish && back != ENDPOINTSLICE_CONTENT_OURS) abort();
            if (!publish && back != ENDPOINTSLICE_CONTENT_OTHER) abort();
            free(out);
        }
    }
    return 0;
}
