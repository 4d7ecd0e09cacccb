/* SPDX-License-Identifier: MIT */
/* Unit tests of the metrics registry (daemon/metrics.c) and of the daemon's
 * metrics on it (daemon/election_metrics.c).
 *   test_http_metrics           run the checks
 *   test_http_metrics --dump    print a registry exercising every feature
 *                               (for tests/integration/prom_parse.py to validate) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "election_metrics.h"
#include "metrics.h"
#include "util.h"

#include "check.h"

static char out[65536];

static const char *render(const Metrics *m)
{
    ssize_t n = metrics_render(m, out, sizeof out);
    CHECK(n >= 0);
    CHECK(n < 0 || strlen(out) == (size_t)n);
    return out;
}

static void check_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fprintf(stderr, "missing in output: %s\n--- output:\n%s---\n", needle, text);
        failures++;
    }
}

static void test_registration(void)
{
    _cleanup_(metrics_freep) Metrics *m = NULL;
    MetricFamily *f = (MetricFamily *)1;
    const double good[] = {0.1, 1, 10}, unsorted[] = {1, 0.5}, dup[] = {1, 1},
                 inf[] = {1, INFINITY};

    CHECK(metrics_new(&m) == 0);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "", "h", NULL, 0, NULL, 0, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "1abc", "h", NULL, 0, NULL, 0, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "a-b", "h", NULL, 0, NULL, 0, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "a", "h", METRIC_LABELS("__x"), 0, NULL, 0, &f) ==
          -EINVAL);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "a", "h", METRIC_LABELS("x:y"), 0, NULL, 0, &f) ==
          -EINVAL);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "a", "h", METRIC_LABELS("x", "x"), 0, NULL, 0,
                             &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_HISTOGRAM, "a", "h", METRIC_LABELS("le"), 0, good, 3, &f) ==
          -EINVAL);
    CHECK(metrics_family_add(m, METRIC_HISTOGRAM, "a", "h", NULL, 0, unsorted, 2, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_HISTOGRAM, "a", "h", NULL, 0, dup, 2, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_HISTOGRAM, "a", "h", NULL, 0, inf, 2, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "a", "h", NULL, 0, good, 3, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "a", "h", NULL, 2, NULL, 0, &f) == -EINVAL);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "a", "h", METRIC_LABELS("x"), METRICS_SERIES_MAX + 1,
                             NULL, 0, &f) == -EINVAL);
    CHECK(f == (MetricFamily *)1); /* untouched on failure */
    CHECK(metrics_family_add(m, METRIC_GAUGE, "a:b_c", "h", NULL, 0, NULL, 0, &f) == 0);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "a:b_c", "h", NULL, 0, NULL, 0, NULL) == -EEXIST);
    /* Nothing registered by the failed calls. */
    CHECK(strcmp(render(m), "# HELP a:b_c h\n# TYPE a:b_c gauge\na:b_c 0\n") == 0);
}

static void test_counter_gauge(void)
{
    _cleanup_(metrics_freep) Metrics *m = NULL;
    MetricFamily *c, *g;
    MetricSeries *s = NULL, *s2 = NULL;

    CHECK(metrics_new(&m) == 0);
    CHECK(metrics_family_add(m, METRIC_COUNTER, "reqs_total", "Requests.\nSecond \\ line",
                             METRIC_LABELS("verb", "code"), 3, NULL, 0, &c) == 0);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "temp", "T.", NULL, 0, NULL, 0, &g) == 0);

    /* Labelled family: not shown before its first series. */
    CHECK(strcmp(render(m), "# HELP temp T.\n# TYPE temp gauge\ntemp 0\n") == 0);

    CHECK(metrics_series(c, METRIC_LABELS("get"), &s) == -EINVAL);
    CHECK(metrics_series(c, METRIC_LABELS("get", "200", "x"), &s) == -EINVAL);
    CHECK(s == NULL);
    CHECK(metrics_series(c, METRIC_LABELS("get", "200"), &s) == 0);
    CHECK(metrics_series(c, METRIC_LABELS("get", "200"), &s2) == 0);
    CHECK(s == s2); /* the same series: the lookup is stable */
    metric_inc(s);
    metric_add(s, 2.5);
    metric_add(s, -1);  /* a counter never goes down */
    metric_add(s, NAN); /* ignored */
    metric_set(s, 100); /* not a gauge: ignored */
    CHECK(metric_value(s) == 3.5);
    CHECK(metrics_inc(c, METRIC_LABELS("put", "a\"b\\c\nd")) == 0);
    CHECK(metrics_inc(c, METRIC_LABELS("x", "\xff")) == 0);
    /* The cap: a 4th combination is refused and counted, old ones work. */
    CHECK(metrics_inc(c, METRIC_LABELS("y", "1")) == -E2BIG);
    CHECK(metrics_dropped(m) == 1);
    CHECK(metrics_inc(c, METRIC_LABELS("get", "200")) == 0);
    metric_inc(NULL); /* a failed lookup needs no check */

    metrics_set(g, NULL, -2.25);
    const char *t = render(m);
    check_contains(t,
                   "# HELP reqs_total Requests.\\nSecond \\\\ line\n# TYPE reqs_total counter\n");
    check_contains(t, "reqs_total{verb=\"get\",code=\"200\"} 4.5\n");
    check_contains(t, "reqs_total{verb=\"put\",code=\"a\\\"b\\\\c\\nd\"} 1\n");
    check_contains(t, "reqs_total{verb=\"x\",code=\"\xef\xbf\xbd\"} 1\n");
    check_contains(t, "temp -2.25\n");
    CHECK(strstr(t, "verb=\"y\"") == NULL);
}

static double answer(void *userdata)
{
    return *(double *)userdata;
}

static void test_func_and_values(void)
{
    _cleanup_(metrics_freep) Metrics *m = NULL;
    MetricSeries *s = NULL;
    MetricFamily *g;
    double v = 1.5;
    char b[64];

    CHECK(metrics_new(&m) == 0);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "age_seconds", "Age.", NULL, 0, NULL, 0, &g) == 0);
    CHECK(metrics_series(g, NULL, &s) == 0);
    metric_set_func(s, answer, &v);
    CHECK(strstr(render(m), "age_seconds 1.5\n"));
    v = NAN; /* NaN from a function: the sample is left out */
    CHECK(strcmp(render(m), "# HELP age_seconds Age.\n# TYPE age_seconds gauge\n") == 0);
    metric_set_func(s, NULL, NULL);
    CHECK(strstr(render(m), "age_seconds 0\n"));

    CHECK(strcmp(metrics_format_value(0, b, sizeof b), "0") == 0);
    CHECK(strcmp(metrics_format_value(-0.0, b, sizeof b), "-0") == 0 || strcmp(b, "0") == 0);
    CHECK(strcmp(metrics_format_value(42, b, sizeof b), "42") == 0);
    CHECK(strcmp(metrics_format_value(0.1, b, sizeof b), "0.1") == 0);
    CHECK(strcmp(metrics_format_value(1e300, b, sizeof b), "1e+300") == 0);
    CHECK(strcmp(metrics_format_value(INFINITY, b, sizeof b), "+Inf") == 0);
    CHECK(strcmp(metrics_format_value(-INFINITY, b, sizeof b), "-Inf") == 0);
    CHECK(strcmp(metrics_format_value(NAN, b, sizeof b), "NaN") == 0);
    CHECK(strtod(metrics_format_value(1.0 / 3, b, sizeof b), NULL) == 1.0 / 3);
    CHECK(strtod(metrics_format_value(9007199254740993.0, b, sizeof b), NULL) ==
          9007199254740993.0);
}

static void test_histogram(void)
{
    _cleanup_(metrics_freep) Metrics *m = NULL;
    const double buckets[] = {0.1, 1, 5};
    MetricFamily *h;
    MetricSeries *s = NULL;

    CHECK(metrics_new(&m) == 0);
    CHECK(metrics_family_add(m, METRIC_HISTOGRAM, "lat_seconds", "Latency.", METRIC_LABELS("verb"),
                             2, buckets, 3, &h) == 0);
    CHECK(metrics_series(h, METRIC_LABELS("get"), &s) == 0);
    metric_observe(s, 0.05);
    metric_observe(s, 0.1); /* le: an observation on the bound goes in that bucket */
    metric_observe(s, 0.7);
    metric_observe(s, 100);
    metric_observe(s, NAN); /* ignored */
    CHECK(metric_value(s) == 4);
    const char *t = render(m);
    check_contains(t, "# TYPE lat_seconds histogram\n"
                      "lat_seconds_bucket{verb=\"get\",le=\"0.1\"} 2\n"
                      "lat_seconds_bucket{verb=\"get\",le=\"1\"} 3\n"
                      "lat_seconds_bucket{verb=\"get\",le=\"5\"} 3\n"
                      "lat_seconds_bucket{verb=\"get\",le=\"+Inf\"} 4\n"
                      "lat_seconds_sum{verb=\"get\"} 100.85\n"
                      "lat_seconds_count{verb=\"get\"} 4\n");
}

static void test_overflow(void)
{
    _cleanup_(metrics_freep) Metrics *m = NULL;
    char small[40];

    CHECK(metrics_new(&m) == 0);
    CHECK(metrics_family_add(m, METRIC_GAUGE, "g", "A help text longer than the buffer.", NULL, 0,
                             NULL, 0, NULL) == 0);
    CHECK(metrics_render(m, small, sizeof small) == -ENOBUFS);
    CHECK(metrics_render(m, small, 0) == -EINVAL);
}

typedef struct FakeStatus {
    int result;
    bool is_leader;
    uint64_t valid_ms, term;
} FakeStatus;

static int fake_status(void *userdata, uint64_t now_boot_usec, ProtoStatus *ret)
{
    const FakeStatus *f = userdata;

    if (f->result < 0) return f->result;
    ret->is_leader = f->is_leader;
    ret->valid_ms = f->valid_ms;
    ret->term = f->term;
    return 0;
}

/* master_status and term: computed from the status at each render. */
static void test_election_status(void)
{
    _cleanup_(election_metrics_freep) ElectionMetrics *em = NULL;
    FakeStatus f = {.is_leader = true, .valid_ms = 1000, .term = 7};
    char buf[16384];

    CHECK(election_metrics_new("e", &em) == 0);
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_master_status{name=\"e\"} 0\n");
    check_contains(buf, "leader_election_term{name=\"e\"} 0\n");
    election_metrics_set_status(em, fake_status, &f);
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_master_status{name=\"e\"} 1\n");
    check_contains(buf, "leader_election_term{name=\"e\"} 7\n");
    f.valid_ms = 0; /* a lapsed claim is not leadership */
    f.term = 8;
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_master_status{name=\"e\"} 0\n");
    check_contains(buf, "leader_election_term{name=\"e\"} 8\n");
    f.valid_ms = 1000;
    f.result = -EIO; /* no status: not leader, the term last known */
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_master_status{name=\"e\"} 0\n");
    check_contains(buf, "leader_election_term{name=\"e\"} 8\n");
}

/* Every metric of the election carries its name; the renew as a timestamp and as an age (both
 * absent before the first renew); build_info; the process collector reads /proc/self. */
static void test_election_labels_and_process(void)
{
    _cleanup_(election_metrics_freep) ElectionMetrics *em = NULL;
    char buf[16384];
    const char *p;
    double ts, rss, cpu, fds, start, wall = (double)now_wall_usec() / 1e6;

    CHECK(election_metrics_new("e", &em) == 0);
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_transitions_total{name=\"e\"} 0\n");
    check_contains(buf, "leader_election_build_info{version=\"" LE_VERSION "\"} 1\n");
    /* before the first renew: the families, no sample */
    check_contains(buf, "# TYPE leader_election_last_renew_timestamp_seconds gauge\n");
    CHECK(strstr(buf, "leader_election_last_renew_timestamp_seconds{") == NULL);
    CHECK(strstr(buf, "leader_election_last_renew_seconds{") == NULL);

    election_metrics_transition(em);
    election_metrics_renewed(em, now_boot_usec() - 2 * USEC_PER_SEC); /* sent 2 s ago */
    CHECK(election_metrics_render(em, buf, sizeof buf) > 0);
    check_contains(buf, "leader_election_transitions_total{name=\"e\"} 1\n");
    p = strstr(buf, "leader_election_last_renew_timestamp_seconds{name=\"e\"} ");
    CHECK(p != NULL);
    ts = p ? strtod(strchr(p, '}') + 2, NULL) : 0;
    CHECK(ts > wall - 2.5 && ts < wall - 1.5);
    p = strstr(buf, "leader_election_last_renew_seconds{name=\"e\"} ");
    CHECK(p != NULL && strtod(strchr(p, '}') + 2, NULL) >= 2.0);
    /* No unlabelled sample of an election metric is left. */
    CHECK(strstr(buf, "\nleader_election_term ") == NULL);
    CHECK(strstr(buf, "\nleader_election_transitions_total ") == NULL);

    p = strstr(buf, "\nprocess_resident_memory_bytes ");
    rss = p ? strtod(p + 31, NULL) : 0;
    CHECK(rss > 100 * 1024 && rss < 4e9);
    p = strstr(buf, "\nprocess_cpu_seconds_total ");
    cpu = p ? strtod(p + 27, NULL) : -1;
    CHECK(cpu >= 0 && cpu < 3600);
    p = strstr(buf, "\nprocess_open_fds ");
    fds = p ? strtod(p + 18, NULL) : 0;
    CHECK(fds >= 3 && fds < 1000); /* stdin, stdout, stderr at least */
    check_contains(buf, "# TYPE process_cpu_seconds_total counter\n");
    check_contains(buf, "\nprocess_max_fds ");
    check_contains(buf, "\nprocess_virtual_memory_bytes ");
    p = strstr(buf, "\nprocess_start_time_seconds ");
    start = p ? strtod(p + 28, NULL) : 0;
    CHECK(start > wall - 3600 && start <= wall + 1);
    if (failures)
        fprintf(stderr, "rss %g cpu %g fds %g start %g (now %g)\n", rss, cpu, fds, start, wall);
}

/* The daemon's set, with every kind of update, for prom_parse.py. */
static int dump(void)
{
    FakeStatus leader = {.is_leader = true, .valid_ms = 1000, .term = 42};
    _cleanup_(election_metrics_freep) ElectionMetrics *em = NULL;
    _cleanup_free_ char *buf = malloc(1 << 20);
    ssize_t n;
    int r;

    if (!buf) return 1;
    r = election_metrics_new("my-\"election\"\\x\n", &em);
    if (r < 0) return fprintf(stderr, "election_metrics_new: %s\n", strerror(-r)), 1;
    election_metrics_set_status(em, fake_status, &leader);
    election_metrics_transition(em);
    election_metrics_transition(em);
    election_metrics_renewed(em, now_boot_usec());
    for (int i = 0; i < 100; i++) {
        election_metrics_api_request(em, "update", 200, (uint64_t)i * 7919);
        election_metrics_api_request(em, "get", i % 3 ? 200 : 404, (uint64_t)i * 104729);
        election_metrics_api_request(em, "watch", i % 5 ? 200 : 0, (uint64_t)i * 1000003);
    }
    for (int i = 0; i < 200; i++) { /* more codes than the cap: dropped, counted */
        election_metrics_api_request(em, "create", 100 + i, 1000);
    }
    election_metrics_set_socket_clients(em, 3);
    election_metrics_socket_request(em, "STATUS");
    election_metrics_socket_request(em, "WATCH");
    election_metrics_http_request(em, "name", 200);
    election_metrics_http_request(em, "metrics", 200);
    n = election_metrics_render(em, buf, 1 << 20);
    if (n < 0) return fprintf(stderr, "render: %s\n", strerror((int)-n)), 1;
    fwrite(buf, 1, (size_t)n, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--dump") == 0) return dump();

    test_registration();
    test_counter_gauge();
    test_func_and_values();
    test_histogram();
    test_overflow();
    test_election_status();
    test_election_labels_and_process();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
