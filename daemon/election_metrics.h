/* SPDX-License-Identifier: MIT */
#pragma once

/* The leader-election daemon's own metrics on the generic registry of
 * metrics.h, registered in one call. The names follow client-go where it has
 * one (leader_election_master_status); every metric of the election carries
 * its name in the label "name", as client-go's does. Also
 * leader_election_build_info{version} and the process collector
 * (metrics_add_process()).
 *
 * Each gauge has one owner: the leadership and term gauges are computed here
 * at render time from the daemon's status (election_metrics_set_status()),
 * never written from outside. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics.h"
#include "proto.h"

/* The daemon's status as of now_boot_usec (CLOCK_BOOTTIME, µs): the shape of
 * sock_server_status_fn and HttpProvider.get_status, so that the daemon
 * passes one function to all three. Fills *ret (zeroed); returns 0 or a
 * negative errno. */
typedef int (*election_metrics_status_fn)(void *userdata, uint64_t now_boot_usec, ProtoStatus *ret);

typedef struct ElectionMetrics {
    Metrics *registry;
    MetricSeries *master_status;        /* gauge{name=<election>} 1 while leader */
    MetricSeries *transitions;          /* counter{name}: leadership changes observed */
    MetricSeries *term;                 /* gauge{name}: current term (leaseTransitions) */
    MetricSeries *last_renew;           /* gauge{name}: seconds since the last successful renew */
    MetricSeries *last_renew_timestamp; /* gauge{name}: its Unix time */
    MetricSeries *build_info;           /* gauge{version} = 1 */
    MetricSeries *socket_clients;       /* gauge: connected socket clients */
    MetricSeries *dropped;              /* counter: updates refused by a series cap */
    MetricFamily *api_requests;         /* counter{verb,code} */
    MetricFamily *api_duration;         /* histogram{verb} seconds */
    MetricFamily *socket_requests;      /* counter{verb} requests on the socket */
    MetricFamily *http_requests;        /* counter{handler,code} requests on --http */
    uint64_t last_renew_usec;           /* CLOCK_BOOTTIME; 0 = never */
    election_metrics_status_fn status;  /* master_status and term, at render time */
    void *status_userdata;
    uint64_t last_term; /* term when the status cannot be had */
} ElectionMetrics;

/* election: the Lease name, the "name" label of the election's metrics. */
int election_metrics_new(const char *election, ElectionMetrics **ret);
ElectionMetrics *election_metrics_free(ElectionMetrics *em);
static inline void election_metrics_freep(ElectionMetrics **em)
{
    election_metrics_free(*em);
}

/* Where leader_election_master_status and leader_election_term come from,
 * asked each time the registry is rendered: master_status is 1 while the
 * status says is_leader with a claim still valid (valid_ms > 0), else 0 (also
 * when the status cannot be had); term is the status's term (the last one
 * known when the status cannot be had). Until set, both read 0. NULL em ok. */
void election_metrics_set_status(ElectionMetrics *em, election_metrics_status_fn fn,
                                 void *userdata);

/* All of these accept em == NULL (metrics disabled) and never allocate once
 * a label combination has been seen. */
void election_metrics_transition(ElectionMetrics *em);
/* verb: "get", "update", "create", "watch", ... (lower case, as client-go's
 * rest_client metrics); code: the HTTP status, or <= 0 for a request that got
 * no HTTP answer (label "<error>", as client-go). */
void election_metrics_api_request(ElectionMetrics *em, const char *verb, int code,
                                  uint64_t duration_usec);
/* A renew (or acquisition) succeeded; when_usec: CLOCK_BOOTTIME time at which
 * it was sent. leader_election_last_renew_timestamp_seconds (its wall-clock
 * time) and leader_election_last_renew_seconds (its age) are computed at
 * render time from it and are absent until the first renew. */
void election_metrics_renewed(ElectionMetrics *em, uint64_t when_usec);
void election_metrics_set_socket_clients(ElectionMetrics *em, unsigned n);
void election_metrics_socket_request(ElectionMetrics *em, const char *verb);
void election_metrics_http_request(ElectionMetrics *em, const char *handler, unsigned code);
ssize_t election_metrics_render(const ElectionMetrics *em, char *buf, size_t size);
