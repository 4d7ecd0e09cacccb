/* SPDX-License-Identifier: MIT */
/* Names of verbs, states and errors; the request line parser; small helpers.
 * libc only: this file is also compiled by musl-gcc into the static probe. */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "time_units.h"

static const char *const verb_names[] = {
    [PROTO_VERB_STATUS] = "STATUS",
    [PROTO_VERB_WATCH] = "WATCH",
    [PROTO_VERB_RESIGN] = "RESIGN",
};

static const char *const state_names[_PROTO_STATE_MAX] = {
    [PROTO_STATE_UNKNOWN] = "unknown",     [PROTO_STATE_STARTING] = "starting",
    [PROTO_STATE_FOLLOWING] = "following", [PROTO_STATE_LEADING] = "leading",
    [PROTO_STATE_RELEASING] = "releasing", [PROTO_STATE_API_UNREACHABLE] = "api-unreachable",
};

static const char *const error_names[_PROTO_ERROR_MAX] = {
    [PROTO_ERROR_UNKNOWN] = "unknown",
    [PROTO_ERROR_MALFORMED] = "malformed",
    [PROTO_ERROR_TOO_LONG] = "too-long",
    [PROTO_ERROR_UNKNOWN_VERB] = "unknown-verb",
    [PROTO_ERROR_BAD_ARGUMENT] = "bad-argument",
    [PROTO_ERROR_UNEXPECTED_INPUT] = "unexpected-input",
    [PROTO_ERROR_PERMISSION_DENIED] = "permission-denied",
    [PROTO_ERROR_BUSY] = "busy",
    [PROTO_ERROR_TIMEOUT] = "timeout",
    [PROTO_ERROR_UNSUPPORTED] = "unsupported",
    [PROTO_ERROR_FAILED] = "failed",
    [PROTO_ERROR_INTERNAL] = "internal",
};

const char *proto_verb_to_string(ProtoVerb v)
{
    if ((unsigned)v >= sizeof(verb_names) / sizeof(verb_names[0]) || !verb_names[v]) return NULL;
    return verb_names[v];
}

const char *proto_state_to_string(ProtoState s)
{
    if ((unsigned)s >= _PROTO_STATE_MAX) return NULL;
    return state_names[s];
}

ProtoState proto_state_from_string(const char *s)
{
    /* "unknown" itself is not a state a server sends. */
    for (unsigned i = 1; i < _PROTO_STATE_MAX; i++)
        if (strcmp(s, state_names[i]) == 0) return (ProtoState)i;
    return PROTO_STATE_UNKNOWN;
}

const char *proto_error_to_string(ProtoError e)
{
    if ((unsigned)e >= _PROTO_ERROR_MAX) return NULL;
    return error_names[e];
}

ProtoError proto_error_from_string(const char *s)
{
    for (unsigned i = 1; i < _PROTO_ERROR_MAX; i++)
        if (strcmp(s, error_names[i]) == 0) return (ProtoError)i;
    return PROTO_ERROR_UNKNOWN;
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Bytes a request line may carry: printable ASCII and tab. */
static bool is_line_byte(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

static bool ascii_equal_nocase(const char *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (y == 0) return false;
        if (x >= 'a' && x <= 'z') x = (unsigned char)(x - 'a' + 'A');
        if (x != y) return false;
    }
    return b[i] == 0;
}

int proto_request_parse(const void *buf, size_t len, ProtoVerb *ret_verb, size_t *ret_len)
{
    const char *p = buf;
    size_t scan = len < PROTO_REQUEST_MAX ? len : PROTO_REQUEST_MAX;
    const char *nl = memchr(p, '\n', scan);

    if (!nl) {
        /* Reject garbage as soon as it arrives rather than waiting for a
         * newline that a binary client may never send. */
        for (size_t i = 0; i < scan; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '\r' && i + 1 == scan) break;
            if (!is_line_byte(c)) return PROTO_ERROR_MALFORMED;
        }
        if (len >= PROTO_REQUEST_MAX) return PROTO_ERROR_TOO_LONG;
        return -EAGAIN;
    }

    size_t line_len = (size_t)(nl - p) + 1;
    size_t end = line_len - 1;
    if (end > 0 && p[end - 1] == '\r') end--;
    for (size_t i = 0; i < end; i++)
        if (!is_line_byte((unsigned char)p[i])) return PROTO_ERROR_MALFORMED;

    size_t start = 0;
    while (start < end && is_blank((unsigned char)p[start]))
        start++;
    while (end > start && is_blank((unsigned char)p[end - 1]))
        end--;
    if (start == end) return PROTO_ERROR_MALFORMED;

    size_t verb_end = start;
    while (verb_end < end && !is_blank((unsigned char)p[verb_end]))
        verb_end++;

    ProtoVerb verb = 0;
    for (unsigned v = PROTO_VERB_STATUS; v <= PROTO_VERB_RESIGN; v++)
        if (ascii_equal_nocase(p + start, verb_end - start, verb_names[v])) {
            verb = (ProtoVerb)v;
            break;
        }
    if (verb == 0) return PROTO_ERROR_UNKNOWN_VERB;
    /* Version 1 defines no arguments. */
    if (verb_end != end) return PROTO_ERROR_BAD_ARGUMENT;

    *ret_verb = verb;
    *ret_len = line_len;
    return 0;
}

int proto_strcpy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) return -ENAMETOOLONG;
    memcpy(dst, src, n + 1);
    return 0;
}

const char *proto_timestamp_format(uint64_t realtime_usec, char *buf, size_t size)
{
    struct tm tm;
    time_t t = (time_t)(realtime_usec / USEC_PER_SEC);
    unsigned usec = (unsigned)(realtime_usec % USEC_PER_SEC);
    char tmp[PROTO_TIMESTAMP_MAX + 1];

    if (size == 0) return buf;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
        strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        buf[0] = 0;
        return buf;
    }
    /* Six digits by hand: snprintf would pull more of libc into the probe. */
    size_t n = strlen(tmp);
    tmp[n++] = '.';
    for (int i = 5; i >= 0; i--) {
        tmp[n + (size_t)i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    n += 6;
    tmp[n++] = 'Z';
    tmp[n] = 0;
    if (n >= size) {
        buf[0] = 0;
        return buf;
    }
    memcpy(buf, tmp, n + 1);
    return buf;
}
