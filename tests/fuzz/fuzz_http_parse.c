/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the --http address parser, and the {"name":...} body
 * for any leader bytes: the output must be valid JSON text of the old
 * sidecar's shape (no raw control bytes, no raw <>&, valid UTF-8). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool utf8_valid(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return false;
        if (n - i < len) return false;
        for (unsigned k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[PROTO_IDENTITY_MAX + 1];
    char out[PROTO_IDENTITY_MAX * 6 + 16];
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool any;
    ProtoStatus st = {};
    size_t n = size < PROTO_IDENTITY_MAX ? size : PROTO_IDENTITY_MAX;
    ssize_t k;
    int r;

    memcpy(s, data, n);
    s[n] = 0;
    r = http_listen_parse(s, &ss, &len, &any);
    if (r != 0 && r != -EINVAL) abort();
    if (r == 0 && ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) || len == 0)) abort();

    memcpy(st.leader, s, n + 1);
    memcpy(st.identity, "x", 2);
    st.valid_ms = 1;
    k = http_format_name(&st, out, sizeof out);
    if (k < 0 || (size_t)k != strlen(out)) abort();
    if (k < 11 || memcmp(out, "{\"name\":\"", 9) != 0 || memcmp(out + k - 2, "\"}", 2) != 0)
        abort();
    for (ssize_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == '<' || c == '>' || c == '&') abort();
        /* Inside the string, a quote is always escaped. */
        if (c == '"' && i > 9 && i < k - 2 && out[i - 1] != '\\') abort();
    }
    if (!utf8_valid((const unsigned char *)out, (size_t)k)) abort();
    /* A buffer one byte short is refused, never overrun. */
    if (http_format_name(&st, out, (size_t)k) != -ENOBUFS) abort();
    return 0;
}
