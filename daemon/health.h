/* SPDX-License-Identifier: MIT */
#pragma once

/* The application's health, checked from the daemon's one sd-event loop and
 * never blocking it: an HTTP GET through libcurl's multi interface
 * (curl_event.h) or a non-blocking TCP connect, every period, each bounded
 * by a timeout. Consecutive results go through a hysteresis like the
 * kubelet's probes (failureThreshold / successThreshold), so one failed
 * check does not flip the state and a flapping application does not cause
 * a leader change per flap.
 *
 * Starting state: HEALTH_UNKNOWN, which counts as "not healthy": a pod whose
 * application is not up yet must not become leader. It becomes HEALTHY after
 * success_threshold consecutive successes (the first check runs at start),
 * UNHEALTHY after failure_threshold consecutive failures. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "time_units.h"

/* Defaults of the kubelet's probes (periodSeconds is 10 there; a leader
 * election wants to notice sooner). */
#define HEALTH_DEFAULT_PERIOD_USEC (2 * USEC_PER_SEC)
#define HEALTH_DEFAULT_TIMEOUT_USEC (1 * USEC_PER_SEC)
#define HEALTH_DEFAULT_FAILURES 3u
#define HEALTH_DEFAULT_SUCCESSES 1u
#define HEALTH_THRESHOLD_MAX 1000u
#define HEALTH_URL_MAX 2048           /* --health-http */
#define HEALTH_TCP_MAX 300            /* --health-tcp HOST:PORT */
#define HEALTH_REASON_MAX 256         /* one line, NUL included */
#define HEALTH_BODY_MAX (64u * 1024u) /* bytes of a response body read (and discarded) */

typedef enum HealthState {
    HEALTH_UNKNOWN = 0, /* no verdict yet: not healthy */
    HEALTH_HEALTHY,
    HEALTH_UNHEALTHY,
    _HEALTH_STATE_MAX,
} HealthState;

const char *health_state_to_string(HealthState s); /* "unknown", "healthy", "unhealthy" */

/* ---- the hysteresis: pure, no I/O ---- */
typedef struct HealthHysteresis {
    unsigned failure_threshold; /* >= 1 */
    unsigned success_threshold; /* >= 1 */
    unsigned failures;          /* consecutive, saturating */
    unsigned successes;
    HealthState state;
} HealthHysteresis;

/* Thresholds of 0 are taken as 1. */
void health_hysteresis_init(HealthHysteresis *h, unsigned failure_threshold,
                            unsigned success_threshold);
/* Feeds one check result; returns true when the state changed. */
bool health_hysteresis_feed(HealthHysteresis *h, bool ok);

/* ---- targets ---- */
typedef enum HealthKind {
    HEALTH_CHECK_NONE = 0,
    HEALTH_CHECK_HTTP,
    HEALTH_CHECK_TCP,
} HealthKind;

/* --health-http: an http:// or https:// URL of at most HEALTH_URL_MAX - 1
 * bytes, without spaces or control characters. Returns 0 or -EINVAL. */
int health_http_url_validate(const char *url);

/* --health-tcp: HOST:PORT where HOST is a numeric IPv4 address, a numeric
 * IPv6 address in brackets ([::1]:5432) or "localhost" (127.0.0.1): never a
 * name to resolve, so nothing can block. PORT 1..65535. Returns 0 and fills
 * *ret / *ret_len, or -EINVAL (both untouched). */
int health_tcp_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);

/* ---- the checker on an sd-event loop ---- */
typedef struct HealthConfig {
    HealthKind kind;
    const char *target;         /* URL (HTTP) or HOST:PORT (TCP); copied */
    uint64_t period_usec;       /* between the starts of two checks; 0: default */
    uint64_t timeout_usec;      /* one check; 0: default; a check never outlives the period */
    unsigned failure_threshold; /* 0: default */
    unsigned success_threshold; /* 0: default */
} HealthConfig;

typedef struct HealthChecker HealthChecker;

/* Every flip of the state, with the reason of the check that caused it. */
typedef void (*health_change_fn)(HealthChecker *h, HealthState state, const char *reason,
                                 void *userdata);
/* Every check (optional: metrics, debug logs). */
typedef void (*health_result_fn)(HealthChecker *h, bool ok, uint64_t duration_usec,
                                 const char *reason, void *userdata);

/* Validates and copies cfg. Returns 0, -EINVAL (bad target or timings),
 * -ENOMEM. Nothing runs until health_checker_start(). */
int health_checker_new(sd_event *event, const HealthConfig *cfg, HealthChecker **ret);
/* Stops a check in flight silently (no callbacks) and frees. NULL ok. */
HealthChecker *health_checker_free(HealthChecker *h);
static inline void health_checker_freep(HealthChecker **h)
{
    health_checker_free(*h);
}
void health_checker_set_callbacks(HealthChecker *h, health_change_fn on_change,
                                  health_result_fn on_result, void *userdata);
/* Runs the first check now (from the loop), then one per period. Callbacks
 * always run from the loop, never from inside this call. Returns 0 or a
 * negative errno from sd-event. */
int health_checker_start(HealthChecker *h);

HealthState health_checker_state(const HealthChecker *h);
/* The outcome of the latest check ("HTTP 503 from http://127.0.0.1:8080/healthz",
 * "connect 127.0.0.1:5432: connection refused", "timeout after 1s"), "" before
 * the first one. Valid until the next check ends. */
const char *health_checker_reason(const HealthChecker *h);
/* Checks started and finished so far (tests, metrics). */
uint64_t health_checker_checks(const HealthChecker *h);
