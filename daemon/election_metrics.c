/* SPDX-License-Identifier: MIT */
/* The daemon's own metrics (see election_metrics.h). */
#include "election_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/* client-go's rest_client_request_duration_seconds buckets. */
static const double api_duration_buckets[] = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};

/* leader_election_last_renew_timestamp_seconds: the wall-clock time at which the last successful
 * renew was sent (Prometheus's convention: a timestamp, from which time() - x is the age). */
static double last_renew_timestamp(void *userdata)
{
    const ElectionMetrics *em = userdata;
    uint64_t now;

    if (em->last_renew_usec == 0) return NAN;
    now = now_boot_usec();
    return ((double)now_wall_usec() -
            (double)(now > em->last_renew_usec ? now - em->last_renew_usec : 0)) /
           1e6;
}

static double last_renew_seconds(void *userdata)
{
    const ElectionMetrics *em = userdata;
    uint64_t now;

    if (em->last_renew_usec == 0)
        return NAN; /* never renewed: no sample rather than a made-up age */
    now = now_boot_usec();
    if (now < em->last_renew_usec) return 0;
    return (double)(now - em->last_renew_usec) / 1e6;
}

/* leader_election_master_status: computed, not cached, so that the gauge is what is true at the
 * scrape. */
static double master_status_value(void *userdata)
{
    const ElectionMetrics *em = userdata;
    ProtoStatus st = {0};

    if (!em->status || em->status(em->status_userdata, now_boot_usec(), &st) < 0) return 0;
    return st.is_leader && st.valid_ms > 0 ? 1 : 0;
}

static double term_value(void *userdata)
{
    ElectionMetrics *em = userdata;
    ProtoStatus st = {0};

    if (em->status && em->status(em->status_userdata, now_boot_usec(), &st) >= 0)
        em->last_term = st.term;
    return (double)em->last_term;
}

static double dropped_total(void *userdata)
{
    const ElectionMetrics *em = userdata;
    return (double)metrics_dropped(em->registry);
}

int election_metrics_new(const char *election, ElectionMetrics **ret)
{
    _cleanup_(election_metrics_freep) ElectionMetrics *em = NULL;
    MetricFamily *f;
    int r;

    if (!election) return -EINVAL;
    em = calloc(1, sizeof *em);
    if (!em) return -ENOMEM;
    r = metrics_new(&em->registry);
    if (r < 0) return r;

#define ADD(type, name, help, labels, cap, b, nb, out)                                             \
    do {                                                                                           \
        r = metrics_family_add(em->registry, type, name, help, labels, cap, b, nb, out);           \
        if (r < 0) return r;                                                                       \
    } while (0)

    ADD(METRIC_GAUGE, "leader_election_master_status",
        "1 while this daemon holds the lease named by 'name' (master), 0 as a backup "
        "(client-go's metric).",
        METRIC_LABELS("name"), 1, NULL, 0, &f);
    r = metrics_series(f, METRIC_LABELS(election), &em->master_status);
    if (r < 0) return r;
    metric_set_func(em->master_status, master_status_value, em);
    /* Every metric of the election carries its name, as master_status does. */
#define SERIES(out)                                                                                \
    do {                                                                                           \
        r = metrics_series(f, METRIC_LABELS(election), out);                                       \
        if (r < 0) return r;                                                                       \
    } while (0)
    ADD(METRIC_COUNTER, "leader_election_transitions_total",
        "Leadership changes this daemon observed (a new holder of the lease).",
        METRIC_LABELS("name"), 1, NULL, 0, &f);
    SERIES(&em->transitions);
    ADD(METRIC_GAUGE, "leader_election_term",
        "Term of the current leader (leaseTransitions at its acquisition).", METRIC_LABELS("name"),
        1, NULL, 0, &f);
    SERIES(&em->term);
    metric_set_func(em->term, term_value, em);
    ADD(METRIC_GAUGE, "leader_election_last_renew_timestamp_seconds",
        "Unix time at which this daemon sent its last successful renew (absent before the "
        "first).",
        METRIC_LABELS("name"), 1, NULL, 0, &f);
    SERIES(&em->last_renew_timestamp);
    metric_set_func(em->last_renew_timestamp, last_renew_timestamp, em);
    ADD(METRIC_GAUGE, "leader_election_last_renew_seconds",
        "Seconds since this daemon's last successful renew (absent before the first).",
        METRIC_LABELS("name"), 1, NULL, 0, &f);
    SERIES(&em->last_renew);
    metric_set_func(em->last_renew, last_renew_seconds, em);
#undef SERIES
    ADD(METRIC_COUNTER, "leader_election_api_requests_total",
        "Requests to the Kubernetes API, by verb and HTTP status code.",
        METRIC_LABELS("verb", "code"), 64, NULL, 0, &em->api_requests);
    ADD(METRIC_HISTOGRAM, "leader_election_api_request_duration_seconds",
        "Latency of requests to the Kubernetes API, by verb.", METRIC_LABELS("verb"), 16,
        api_duration_buckets, ELEMENTSOF(api_duration_buckets), &em->api_duration);
    ADD(METRIC_GAUGE, "leader_election_socket_clients", "Clients connected to the Unix socket.",
        NULL, 0, NULL, 0, &f);
    (void)metrics_series(f, NULL, &em->socket_clients);
    ADD(METRIC_COUNTER, "leader_election_socket_requests_total",
        "Requests on the Unix socket, by verb.", METRIC_LABELS("verb"), 16, NULL, 0,
        &em->socket_requests);
    ADD(METRIC_COUNTER, "leader_election_http_requests_total",
        "Requests on the HTTP endpoint, by handler and status code.",
        METRIC_LABELS("handler", "code"), 64, NULL, 0, &em->http_requests);
    ADD(METRIC_COUNTER, "leader_election_metrics_dropped_total",
        "Metric updates dropped because a label set reached its cap.", NULL, 0, NULL, 0, &f);
    (void)metrics_series(f, NULL, &em->dropped);
    metric_set_func(em->dropped, dropped_total, em);
    ADD(METRIC_GAUGE, "leader_election_build_info",
        "Always 1; the label says which version of leader-elector runs.", METRIC_LABELS("version"),
        1, NULL, 0, &f);
    r = metrics_series(f, METRIC_LABELS(LE_VERSION), &em->build_info);
    if (r < 0) return r;
    metric_set(em->build_info, 1);
#undef ADD

    r = metrics_add_process(em->registry);
    if (r < 0) return r;

    *ret = TAKE_PTR(em);
    return 0;
}

ElectionMetrics *election_metrics_free(ElectionMetrics *em)
{
    if (!em) return NULL;
    metrics_free(em->registry);
    free(em);
    return NULL;
}

void election_metrics_set_status(ElectionMetrics *em, election_metrics_status_fn fn, void *userdata)
{
    if (!em) return;
    em->status = fn;
    em->status_userdata = userdata;
}

void election_metrics_transition(ElectionMetrics *em)
{
    if (em) metric_inc(em->transitions);
}

void election_metrics_api_request(ElectionMetrics *em, const char *verb, int code,
                                  uint64_t duration_usec)
{
    char c[16];

    if (!em || !verb) return;
    if (code <= 0)
        snprintf(c, sizeof c, "<error>");
    else
        snprintf(c, sizeof c, "%d", code);
    (void)metrics_inc(em->api_requests, METRIC_LABELS(verb, c));
    (void)metrics_observe(em->api_duration, METRIC_LABELS(verb), (double)duration_usec / 1e6);
}

void election_metrics_renewed(ElectionMetrics *em, uint64_t when_usec)
{
    if (em) em->last_renew_usec = when_usec ? when_usec : 1;
}

void election_metrics_set_socket_clients(ElectionMetrics *em, unsigned n)
{
    if (em) metric_set(em->socket_clients, n);
}

void election_metrics_socket_request(ElectionMetrics *em, const char *verb)
{
    if (em && verb) (void)metrics_inc(em->socket_requests, METRIC_LABELS(verb));
}

void election_metrics_http_request(ElectionMetrics *em, const char *handler, unsigned code)
{
    char c[16];

    if (!em || !handler) return;
    snprintf(c, sizeof c, "%u", code);
    (void)metrics_inc(em->http_requests, METRIC_LABELS(handler, c));
}

ssize_t election_metrics_render(const ElectionMetrics *em, char *buf, size_t size)
{
    if (!em) return -EINVAL;
    return metrics_render(em->registry, buf, size);
}
