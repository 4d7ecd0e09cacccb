/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the request line parser, fed as the server feeds it
 * (growing prefixes of the input, then the line after a parsed one). */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        ProtoVerb verb = 0;
        size_t len = 0;
        int r = proto_request_parse(data + off, size - off, &verb, &len);

        if (r == -EAGAIN) {
            if (size - off >= PROTO_REQUEST_MAX) abort(); /* must have said too-long */
            break;
        }
        if (r > 0) {
            if (r >= _PROTO_ERROR_MAX) abort();
            break;
        }
        if (r != 0 || len == 0 || len > size - off || len > PROTO_REQUEST_MAX ||
            data[off + len - 1] != '\n' || !proto_verb_to_string(verb))
            abort();
        off += len;
    }
    return 0;
}
