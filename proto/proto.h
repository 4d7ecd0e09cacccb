/* SPDX-License-Identifier: MIT */
#pragma once

/* The socket protocol of leader-election, version 1 (see PROTOCOL.md).
 *
 * One implementation shared by the daemon (glibc), the tests and the static
 * probe (musl): only libc headers, no heap, no global state. Every buffer has
 * a fixed, documented bound. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Major version: changes only on an incompatible change. Fields, states and
 * error codes may be added within a version; clients ignore what they do not
 * know. A client that receives another version fails closed. */
#define PROTO_VERSION 1

/* Default socket path; $LEADER_ELECTION_SOCKET overrides it. */
#define PROTO_SOCKET_ENV "LEADER_ELECTION_SOCKET"
#define PROTO_SOCKET_DEFAULT "/var/run/leader-election/leader.sock"

/* A request line, '\n' included. */
#define PROTO_REQUEST_MAX 256
/* A reply line, '\n' included. */
#define PROTO_REPLY_MAX 4096

/* Field bounds in bytes, without the terminating NUL. */
#define PROTO_NAMESPACE_MAX 63 /* a DNS label */
#define PROTO_ELECTION_MAX 253 /* a DNS subdomain (Lease name) */
#define PROTO_IDENTITY_MAX 253 /* identity, leader (holderIdentity) */
#define PROTO_HOSTNAME_MAX 64  /* HOST_NAME_MAX */
#define PROTO_TIMESTAMP_MAX 35 /* RFC 3339, "2006-01-02T15:04:05.999999999+07:00" */
#define PROTO_REASON_MAX 255
#define PROTO_HEALTH_MAX 15
#define PROTO_MESSAGE_MAX 255
#define PROTO_ERROR_NAME_MAX 31

/* Largest term (JSON-safe integer, beyond any leaseTransitions). */
#define PROTO_TERM_MAX UINT64_C(9007199254740991)
#define PROTO_VALID_MS_MAX UINT64_C(9007199254740991)

typedef enum ProtoVerb {
    PROTO_VERB_STATUS = 1,
    PROTO_VERB_WATCH,
    PROTO_VERB_RESIGN,
} ProtoVerb;

typedef enum ProtoState {
    PROTO_STATE_UNKNOWN = 0, /* parsed a state this version does not know */
    PROTO_STATE_STARTING,
    PROTO_STATE_FOLLOWING,
    PROTO_STATE_LEADING,
    PROTO_STATE_RELEASING,
    PROTO_STATE_API_UNREACHABLE,
    _PROTO_STATE_MAX,
} ProtoState;

/* Error codes of error replies. Positive, so that proto_request_parse() can
 * return them as its documented per-module outcome. */
typedef enum ProtoError {
    PROTO_ERROR_UNKNOWN = 0, /* parsed an error code this version does not know */
    PROTO_ERROR_MALFORMED,   /* not a request line: empty, control or non-ASCII bytes */
    PROTO_ERROR_TOO_LONG,    /* no '\n' within PROTO_REQUEST_MAX bytes */
    PROTO_ERROR_UNKNOWN_VERB,
    PROTO_ERROR_BAD_ARGUMENT,     /* the verb takes no such argument */
    PROTO_ERROR_UNEXPECTED_INPUT, /* input after the request line */
    PROTO_ERROR_PERMISSION_DENIED,
    PROTO_ERROR_BUSY,        /* too many clients */
    PROTO_ERROR_TIMEOUT,     /* no complete request line in time */
    PROTO_ERROR_UNSUPPORTED, /* this daemon does not implement the verb */
    PROTO_ERROR_FAILED,      /* the verb was refused or failed; see message */
    PROTO_ERROR_INTERNAL,
    _PROTO_ERROR_MAX,
} ProtoError;

typedef struct ProtoStatus {
    char namespace_[PROTO_NAMESPACE_MAX + 1];
    char election[PROTO_ELECTION_MAX + 1];
    char identity[PROTO_IDENTITY_MAX + 1];
    char hostname[PROTO_HOSTNAME_MAX + 1];
    char leader[PROTO_IDENTITY_MAX + 1]; /* "" when no leader is known */
    bool is_leader;                      /* at the moment the reply was written */
    uint64_t term;                       /* leaseTransitions at acquisition; 0 when none */
    char since[PROTO_TIMESTAMP_MAX + 1]; /* RFC 3339 UTC with microseconds, or "" */
    uint64_t valid_ms;                   /* how long this view may be relied upon */
    ProtoState state;
    char reason[PROTO_REASON_MAX + 1]; /* optional, "" = omitted */
    /* CLOCK_BOOTTIME of the daemon when it wrote the line, in ms; optional,
     * 0 = omitted. Every container of a pod shares the kernel's clock, so a
     * client there can tell how old a line is when it reads it. */
    uint64_t boottime_ms;
    /* Optional: the application's health when the daemon checks it (--health-http/--health-tcp):
     * "healthy", "unhealthy" or "unknown" (no verdict yet); "" = omitted (not checked). An
     * unhealthy or unknown daemon never leads; `reason` says why. */
    char health[PROTO_HEALTH_MAX + 1];
} ProtoStatus;

typedef enum ProtoReplyType {
    PROTO_REPLY_STATUS = 1,
    PROTO_REPLY_ERROR,
    PROTO_REPLY_OK,
} ProtoReplyType;

typedef struct ProtoReply {
    ProtoReplyType type;
    ProtoStatus status;                        /* PROTO_REPLY_STATUS */
    ProtoError error;                          /* PROTO_REPLY_ERROR */
    char error_name[PROTO_ERROR_NAME_MAX + 1]; /* PROTO_REPLY_ERROR, as sent */
    ProtoVerb verb;                            /* PROTO_REPLY_OK; 0 if unknown */
    char message[PROTO_MESSAGE_MAX + 1];       /* ERROR and OK, may be "" */
} ProtoReply;

const char *proto_verb_to_string(ProtoVerb v);
const char *proto_state_to_string(ProtoState s);
ProtoState proto_state_from_string(const char *s);
const char *proto_error_to_string(ProtoError e);
ProtoError proto_error_from_string(const char *s);

/* Parses the request line at the start of buf[0..len).
 * Returns 0 and sets *ret_verb and *ret_len (bytes of the line, '\n'
 * included) when a complete valid line is there; -EAGAIN when no '\n' is
 * there yet and more input may still make a valid line; a positive
 * ProtoError when the input is not a valid request (the server replies with
 * that error and closes). An optional '\r' before the '\n' and blanks around
 * the verb are accepted; the verb is case-insensitive. */
int proto_request_parse(const void *buf, size_t len, ProtoVerb *ret_verb, size_t *ret_len);

/* Each formatter writes one reply line ending in '\n' and a terminating NUL
 * into buf and returns its length (without the NUL), or -ENOBUFS when it
 * does not fit into size (or PROTO_REPLY_MAX), -EINVAL for a value out of
 * range. Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD. */
ssize_t proto_status_format(const ProtoStatus *s, char *buf, size_t size);
ssize_t proto_error_format(ProtoError e, const char *message, char *buf, size_t size);
ssize_t proto_ok_format(ProtoVerb v, const char *message, char *buf, size_t size);

/* Parses one reply line (with or without its '\n'). Returns 0 and fills
 * *ret, or -EMSGSIZE (longer than PROTO_REPLY_MAX), -EPROTONOSUPPORT
 * (another protocol version), -EBADMSG (anything else: not one JSON object,
 * bad UTF-8, a duplicate key, a required field missing or of the wrong type,
 * a string longer than its field). Unknown fields are ignored. *ret is
 * untouched on failure. */
int proto_reply_parse(const char *line, size_t len, ProtoReply *ret);

/* Copies src into dst[size] if it fits: 0, else -ENAMETOOLONG and dst untouched. */
int proto_strcpy(char *dst, size_t size, const char *src);

/* Formats a CLOCK_REALTIME time in microseconds as RFC 3339 UTC with
 * microseconds ("2026-01-02T03:04:05.123456Z") into buf (at least
 * PROTO_TIMESTAMP_MAX + 1 bytes). Returns buf. */
const char *proto_timestamp_format(uint64_t realtime_usec, char *buf, size_t size);
