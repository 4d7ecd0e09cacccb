/* SPDX-License-Identifier: MIT */
/* Unit tests of the daemon's flag parsing and Go-style durations. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "options.h"

#include "check.h"

static void check_duration(const char *s, int want_r, uint64_t want)
{
    uint64_t v = 4242;
    int r = duration_parse(s, &v);
    if (r != want_r || (r == 0 && v != want)) {
        fprintf(stderr, "duration_parse(\"%s\") = %d, %llu; want %d, %llu\n", s, r,
                (unsigned long long)v, want_r, (unsigned long long)want);
        failures++;
    }
    if (r < 0 && v != 4242) {
        fprintf(stderr, "duration_parse(\"%s\") touched its output on failure\n", s);
        failures++;
    }
}

static void test_durations(void)
{
    char buf[32];

    check_duration("15s", 0, 15000000);
    check_duration("15", 0, 15000000);
    check_duration("2.5", 0, 2500000);
    check_duration("1m30s", 0, 90000000);
    check_duration("500ms", 0, 500000);
    check_duration("1.5h", 0, 5400000000ULL);
    check_duration("250us", 0, 250);
    check_duration("250\xc2\xb5s", 0, 250);
    check_duration("1500ns", 0, 2); /* rounded to the microsecond */
    check_duration("0", 0, 0);
    check_duration("+3s", 0, 3000000);
    check_duration("1h2m3s4ms", 0, 3723004000ULL);
    check_duration("", -EINVAL, 0);
    check_duration("s", -EINVAL, 0);
    check_duration("-1s", -EINVAL, 0);
    check_duration("10x", -EINVAL, 0);
    check_duration("1.2.3s", -EINVAL, 0);
    check_duration("15s ", -EINVAL, 0);
    check_duration("99999999999999999999h", -ERANGE, 0);

    CHECK(strcmp(duration_format(15000000, buf, sizeof buf), "15s") == 0);
    CHECK(strcmp(duration_format(90000000, buf, sizeof buf), "1m30s") == 0);
    CHECK(strcmp(duration_format(500000, buf, sizeof buf), "500ms") == 0);
    CHECK(strcmp(duration_format(3600000000ULL, buf, sizeof buf), "1h") == 0);
    CHECK(strcmp(duration_format(2500000, buf, sizeof buf), "2.5s") == 0);
    CHECK(strcmp(duration_format(0, buf, sizeof buf), "0s") == 0);
}

static void check_uint(const char *s, unsigned base, uint64_t min, uint64_t max, int want_r,
                       uint64_t want)
{
    uint64_t v = 4242;
    int r = options_parse_uint(s, base, min, max, &v);
    if (r != want_r || (r == 0 && v != want) || (r < 0 && v != 4242)) {
        fprintf(stderr, "options_parse_uint(\"%s\", %u, %llu, %llu) = %d, %llu; want %d, %llu\n",
                s ? s : "(null)", base, (unsigned long long)min, (unsigned long long)max, r,
                (unsigned long long)v, want_r, (unsigned long long)want);
        failures++;
    }
}

static void test_uint(void)
{
    /* bounds, inclusive */
    check_uint("1", 10, 1, 65536, 0, 1);
    check_uint("65536", 10, 1, 65536, 0, 65536);
    check_uint("0", 10, 1, 65536, -ERANGE, 0);
    check_uint("65537", 10, 1, 65536, -ERANGE, 0);
    check_uint("0", 10, 0, 0, 0, 0);
    check_uint("010", 10, 0, 100, 0, 10); /* decimal: a leading zero is just a zero */
    check_uint("18446744073709551615", 10, 0, UINT64_MAX, 0, UINT64_MAX);
    /* overflow: beyond 64 bits, however the digits wrap */
    check_uint("18446744073709551616", 10, 0, UINT64_MAX, -ERANGE, 0);
    check_uint("99999999999999999999999", 10, 0, UINT64_MAX, -ERANGE, 0);
    check_uint("36893488147419103232", 10, 0, UINT64_MAX, -ERANGE, 0); /* 2^65 */
    /* octal (--socket-mode) */
    check_uint("0660", 8, 0, 0777, 0, 0660);
    check_uint("777", 8, 0, 0777, 0, 0777);
    check_uint("1000", 8, 0, 0777, -ERANGE, 0);
    check_uint("0668", 8, 0, 0777, -EINVAL, 0);
    check_uint("999", 8, 0, 0777, -EINVAL, 0);
    /* garbage: digits only, nothing strtoul would skip or negate */
    check_uint("", 10, 0, 100, -EINVAL, 0);
    check_uint(NULL, 10, 0, 100, -EINVAL, 0);
    check_uint("abc", 10, 0, 100, -EINVAL, 0);
    check_uint("12x", 10, 0, 100, -EINVAL, 0);
    check_uint("1.5", 10, 0, 100, -EINVAL, 0);
    check_uint("-1", 10, 0, UINT64_MAX, -EINVAL, 0);
    check_uint("-0", 10, 0, 100, -EINVAL, 0);
    check_uint("+5", 10, 0, 100, -EINVAL, 0);
    check_uint(" 5", 10, 0, 100, -EINVAL, 0);
    check_uint("5 ", 10, 0, 100, -EINVAL, 0);
    check_uint("5\n", 10, 0, 100, -EINVAL, 0);
    check_uint("0x10", 10, 0, 100, -EINVAL, 0);
    check_uint("0x1ff", 8, 0, 0777, -EINVAL, 0);
    check_uint("\xd9\xa3", 10, 0, 100, -EINVAL, 0);                 /* a non-ASCII digit */
    check_uint("99999999999999999999999x", 10, 0, 100, -EINVAL, 0); /* garbage wins */
    /* bases outside 2..10 */
    check_uint("5", 0, 0, 100, -EINVAL, 0);
    check_uint("5", 16, 0, 100, -EINVAL, 0);
    check_uint("101", 2, 0, 100, 0, 5);
}

static void check_bool(const char *s, int want_r, bool want)
{
    bool v = !want;
    int r = options_parse_bool(s, &v);
    if (r != want_r || (r == 0 && v != want) || (r < 0 && v != !want)) {
        fprintf(stderr, "options_parse_bool(\"%s\") = %d, %d; want %d, %d\n", s ? s : "(null)", r,
                v, want_r, want);
        failures++;
    }
}

static void test_bool(void)
{
    check_bool("true", 0, true);
    check_bool("1", 0, true);
    check_bool("false", 0, false);
    check_bool("0", 0, false);
    for (int untouched = 0; untouched < 2; untouched++) {
        check_bool(NULL, -EINVAL, untouched);
        check_bool("", -EINVAL, untouched);
        check_bool("maybe", -EINVAL, untouched);
        check_bool("TRUE", -EINVAL, untouched);
        check_bool("yes", -EINVAL, untouched);
        check_bool("10", -EINVAL, untouched);
        check_bool("true ", -EINVAL, untouched);
        check_bool(" 0", -EINVAL, untouched);
    }
}

/* Runs options_parse on a NULL-terminated argument list, stderr silenced. */
static int parse(Options *o, ...)
{
    char *argv[64];
    int argc = 0, r, saved;
    va_list ap;

    argv[argc++] = (char *)"leader-elector";
    va_start(ap, o);
    for (char *a; (a = va_arg(ap, char *));)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    fflush(stderr);
    saved = dup(2);
    freopen("/dev/null", "w", stderr);
    r = options_parse(o, argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return r;
}

static void test_options(void)
{
    Options o;

    unsetenv("POD_NAME");
    unsetenv("POD_NAMESPACE");
    unsetenv("LEADER_ELECTION_SOCKET");

    /* defaults */
    CHECK(parse(&o, "--election", "example", NULL) == 0);
    CHECK(strcmp(o.election, "example") == 0);
    CHECK(o.lease_duration_usec == 15000000 && o.renew_deadline_usec == 10000000 &&
          o.retry_period_usec == 2000000);
    CHECK(o.resign_holdoff_usec == o.lease_duration_usec);
    CHECK(strcmp(o.id, o.hostname) == 0);
    CHECK(strcmp(o.socket_path, "/var/run/leader-election/leader.sock") == 0);
    CHECK(o.max_clients == 1024);
    CHECK(o.socket_mode == 0666);

    /* environment */
    setenv("POD_NAME", "pod-a", 1);
    setenv("POD_NAMESPACE", "team", 1);
    setenv("LEADER_ELECTION_SOCKET", "/run/x/le.sock", 1);
    CHECK(parse(&o, "--election=example", NULL) == 0);
    CHECK(strcmp(o.id, "pod-a") == 0);
    CHECK(strcmp(o.namespace_, "team") == 0);
    CHECK(strcmp(o.socket_path, "/run/x/le.sock") == 0);
    /* flags win over the environment */
    CHECK(parse(&o, "--election=example", "--id", "me", "--namespace", "ns1", "--socket",
                "/tmp/s.sock", NULL) == 0);
    CHECK(strcmp(o.id, "me") == 0 && strcmp(o.namespace_, "ns1") == 0 &&
          strcmp(o.socket_path, "/tmp/s.sock") == 0);
    unsetenv("POD_NAME");
    unsetenv("POD_NAMESPACE");
    unsetenv("LEADER_ELECTION_SOCKET");

    /* the old sidecar's flags */
    CHECK(parse(&o, "--election=example", "--election-namespace=old", "--ttl=20s",
                "--use-cluster-credentials", "--http=0.0.0.0:4040", NULL) == 0);
    CHECK(strcmp(o.namespace_, "old") == 0);
    CHECK(o.lease_duration_usec == 20000000 && o.renew_deadline_usec == 10000000 &&
          o.retry_period_usec == 5000000);
    CHECK(o.use_cluster_credentials);
    CHECK(strcmp(o.http_addr, "0.0.0.0:4040") == 0);
    /* --metrics-addr: an address http_listen_parse() takes, checked at parse time */
    CHECK(parse(&o, "--election=e", NULL) == 0);
    CHECK(o.metrics_addr[0] == 0);
    CHECK(parse(&o, "--election=e", "--metrics-addr=0.0.0.0:9090", NULL) == 0);
    CHECK(strcmp(o.metrics_addr, "0.0.0.0:9090") == 0);
    CHECK(parse(&o, "--election=e", "--metrics-addr", "[::1]:9090", NULL) == 0);
    CHECK(parse(&o, "--election=e", "--metrics-addr=:9090", NULL) == 0);
    CHECK(parse(&o, "--election=e", "--metrics-addr=9090", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--metrics-addr=example.com:9090", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--metrics-addr=0.0.0.0:65536", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--use-cluster-credentials=false", NULL) == 0);
    CHECK(!o.use_cluster_credentials);
    /* synonyms that agree are fine; that disagree, a usage error */
    CHECK(parse(&o, "--election=e", "--namespace=a", "--election-namespace=a", NULL) == 0);
    CHECK(parse(&o, "--election=e", "--namespace=a", "--election-namespace=b", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--ttl=10s", "--lease-duration=20s", NULL) == -EINVAL);

    /* timings validated as client-go does: 1.2 x retry < renew deadline < lease */
    CHECK(parse(&o, "--election=e", "--lease-duration=3s", "--renew-deadline=2s",
                "--retry-period=500ms", NULL) == 0);
    CHECK(parse(&o, "--election=e", "--lease-duration=10s", "--renew-deadline=10s", NULL) ==
          -EINVAL);
    CHECK(parse(&o, "--election=e", "--renew-deadline=2400ms", "--retry-period=2s", NULL) ==
          -EINVAL);
    CHECK(parse(&o, "--election=e", "--renew-deadline=2500ms", "--retry-period=2s", NULL) == 0);
    CHECK(parse(&o, "--election=e", "--retry-period=0", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--lease-duration=soon", NULL) == -EINVAL);

    /* usage errors */
    CHECK(parse(&o, NULL) == -EINVAL);                            /* --election missing */
    CHECK(parse(&o, "--election=Bad_Name", NULL) == -EINVAL);     /* not a DNS name */
    CHECK(parse(&o, "--election=e", "--bogus", NULL) == -EINVAL); /* unknown flag */
    CHECK(parse(&o, "--election", NULL) == -EINVAL);              /* missing value */
    CHECK(parse(&o, "--election=e", "extra", NULL) == -EINVAL);   /* stray argument */
    CHECK(parse(&o, "--election=e", "--log-format=xml", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--log-level=loud", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--socket-mode=999", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--max-clients=0", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--server=ftp://x", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--server=http://127.0.0.1:8001", "--use-cluster-credentials",
                NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--namespace=Not_Valid", NULL) == -EINVAL);

    /* --install-probe alone: install, then exit */
    CHECK(parse(&o, "--install-probe", "/shared/leader-probe", NULL) == 2);
    CHECK(strcmp(o.install_probe, "/shared/leader-probe") == 0);
    CHECK(parse(&o, "--install-probe", "/x", "--lease-duration=3s", NULL) == -EINVAL);

    /* values */
    CHECK(parse(&o, "--election=e", "--socket-mode=0600", "--max-clients=4", "--log-format=json",
                "--log-level=debug", "--resign-holdoff=30s", NULL) == 0);
    CHECK(o.socket_mode == 0600 && o.max_clients == 4 && o.log_format == LOG_FORMAT_JSON);
    CHECK(o.resign_holdoff_usec == 30000000);
    CHECK(parse(&o, "--election=e", "--socket-group=0", NULL) == 0);
    CHECK(o.socket_group_set && o.socket_group == 0);
    CHECK(parse(&o, "--election=e", "--socket-group=no-such-group-here", NULL) == -EINVAL);
    /* the integers: digits only, in their range (strtoul took " 5", "+5", "-0" and wrapped
     * "-18446744073709551615" to 1: a group nobody named) */
    CHECK(parse(&o, "--election=e", "--socket-group=4294967294", NULL) == 0);
    CHECK(o.socket_group_set && o.socket_group == 4294967294u);
    CHECK(parse(&o, "--election=e", "--socket-group=4294967295", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--socket-group=-0", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--socket-group=-18446744073709551615", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--socket-mode=+0600", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--max-clients= 5", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--max-clients=65536", NULL) == 0 && o.max_clients == 65536);
    CHECK(parse(&o, "--election=e", "--max-clients=65537", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--health-tcp=127.0.0.1:1", "--health-failures=1000",
                "--health-successes=2", NULL) == 0);
    CHECK(o.health_failures == 1000 && o.health_successes == 2);
    CHECK(parse(&o, "--election=e", "--health-tcp=127.0.0.1:1", "--health-failures=1001", NULL) ==
          -EINVAL);
    CHECK(parse(&o, "--election=e", "--health-tcp=127.0.0.1:1", "--health-successes=-1", NULL) ==
          -EINVAL);

    /* --lock and --events */
    CHECK(parse(&o, "--election=e", NULL) == 0);
    CHECK(o.lock == LOCK_LEASES && !o.events);
    CHECK(parse(&o, "--election=e", "--lock=leases", "--events", NULL) == 0);
    CHECK(o.lock == LOCK_LEASES && o.events);
    CHECK(parse(&o, "--election=e", "--events=false", NULL) == 0 && !o.events);
    CHECK(parse(&o, "--election=e", "--events=maybe", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--lock=configmaps", NULL) == -EINVAL);
    /* the Endpoints modes: the old sidecar's namespace and timings by default */
    setenv("POD_NAMESPACE", "team", 1);
    CHECK(parse(&o, "--election=e", "--lock=endpoints", NULL) == 0);
    CHECK(o.lock == LOCK_ENDPOINTS && strcmp(o.namespace_, "default") == 0);
    CHECK(o.lease_duration_usec == 10000000 && o.renew_deadline_usec == 5000000 &&
          o.retry_period_usec == 2500000);
    CHECK(parse(&o, "--election=e", "--lock", "endpointsleases", "--election-namespace=old",
                "--ttl=20s", NULL) == 0);
    CHECK(o.lock == LOCK_ENDPOINTS_LEASES && strcmp(o.namespace_, "old") == 0);
    CHECK(o.lease_duration_usec == 20000000 && o.renew_deadline_usec == 10000000);
    CHECK(parse(&o, "--election=e", "--lock=endpoints", "--lease-duration=30s",
                "--renew-deadline=20s", "--retry-period=5s", NULL) == 0);
    CHECK(o.lease_duration_usec == 30000000 && o.retry_period_usec == 5000000);
    /* whole-second times: a retry period under 1 s is refused there, fine with Leases */
    CHECK(parse(&o, "--election=e", "--lock=endpoints", "--ttl=2s", NULL) == -EINVAL);
    CHECK(parse(&o, "--election=e", "--ttl=2s", NULL) == 0);
    CHECK(strcmp(o.namespace_, "team") == 0); /* Leases: $POD_NAMESPACE as before */
    unsetenv("POD_NAMESPACE");

    /* the engine's configuration, built in one place for the validation and the daemon */
    {
        ElectionConfig ec;
        CHECK(parse(&o, "--election=e", "--id=me", "--lease-duration=30s", "--renew-deadline=20s",
                    "--retry-period=5s", "--resign-holdoff=1m", NULL) == OPTIONS_OK);
        CHECK(options_election_config(&o, &ec) == 0);
        CHECK_EQ_STR(ec.identity, "me");
        CHECK(ec.lease_duration_usec == 30000000 && ec.renew_deadline_usec == 20000000 &&
              ec.retry_period_usec == 5000000 && ec.resign_holdoff_usec == 60000000);
        CHECK(!ec.start_unhealthy && !ec.check_peer_lease_duration);
        CHECK(ec.time_precision_usec == lock_time_precision_usec(LOCK_LEASES));
        CHECK(ec.seed == 0 && ec.release_timeout_usec == 0);
        CHECK(election_config_validate(&ec) == NULL);

        CHECK(parse(&o, "--election=e", "--id=me", "--lock=endpointsleases",
                    "--health-tcp=127.0.0.1:5432", NULL) == OPTIONS_OK);
        CHECK(options_election_config(&o, &ec) == 0);
        CHECK(ec.start_unhealthy && ec.check_peer_lease_duration);
        CHECK(ec.time_precision_usec == 1000000);
        CHECK(ec.lease_duration_usec == 10000000 && ec.renew_deadline_usec == 5000000 &&
              ec.retry_period_usec == 2500000 && ec.resign_holdoff_usec == 10000000);
        CHECK(election_config_validate(&ec) == NULL);

        o.id[0] = '\0'; /* options_parse never leaves it so; the engine refuses it */
        CHECK(options_election_config(&o, &ec) == -EINVAL);
    }

    /* --help and --version: exit 0 without running */
    {
        int saved = dup(1);
        freopen("/dev/null", "w", stdout);
        CHECK(parse(&o, "--help", NULL) == 1);
        CHECK(parse(&o, "--version", NULL) == 1);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
}

int main(void)
{
    test_durations();
    test_uint();
    test_bool();
    test_options();
    if (failures) {
        fprintf(stderr, "test_options: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_options: all checks passed\n");
    return 0;
}
