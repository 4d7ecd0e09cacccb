/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the reply parser, as the probe runs it on what a socket
 * sends; a parsed status must survive a format/parse round trip. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ProtoReply r, again;
    char buf[PROTO_REPLY_MAX];
    ssize_t n;

    if (proto_reply_parse((const char *)data, size, &r) < 0) return 0;
    if (r.type != PROTO_REPLY_STATUS || r.status.state == PROTO_STATE_UNKNOWN) return 0;
    n = proto_status_format(&r.status, buf, sizeof(buf));
    if (n == -ENOBUFS) /* escaping may grow a parsed status beyond the bound */
        return 0;
    if (n < 0 || proto_reply_parse(buf, (size_t)n, &again) < 0) abort();
    if (memcmp(&r.status, &again.status, offsetof(ProtoStatus, is_leader)) != 0 ||
        r.status.is_leader != again.status.is_leader || r.status.term != again.status.term ||
        strcmp(r.status.since, again.status.since) != 0 ||
        r.status.valid_ms != again.status.valid_ms || r.status.state != again.status.state ||
        strcmp(r.status.reason, again.status.reason) != 0 ||
        r.status.boottime_ms != again.status.boottime_ms)
        abort();
    return 0;
}
