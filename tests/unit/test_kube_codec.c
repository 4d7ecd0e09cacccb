/* SPDX-License-Identifier: MIT */
/* Unit tests of the Lease, Status, watch-event and MicroTime codecs on the
 * real API server bodies in tests/data/k8s-api (argv[1]). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kube_lease.h"
#include "kube_status.h"
#include "kube_time.h"
#include "kube_watch_event.h"

#include "check.h"

static const char *datadir;

static char *load(const char *name, size_t *ret_len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", datadir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s: %m\n", path);
        failures++;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) abort();
    buf[n] = 0;
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void status_file(const char *name, int64_t code, const char *reason, int result,
                        int64_t retry_after)
{
    size_t n;
    char *b = load(name, &n);
    KubeStatus s = KUBE_STATUS_INIT;
    if (!b) return;
    CHECK(kube_status_parse(b, n, &s) == 0);
    if (s.code != code || strcmp(nz(s.reason), reason) != 0)
        fprintf(stderr, "%s: code %lld reason %s\n", name, (long long)s.code, nz(s.reason));
    CHECK(s.code == code);
    CHECK(strcmp(nz(s.reason), reason) == 0);
    CHECK(s.message && s.status && strcmp(s.status, "Failure") == 0);
    CHECK(kube_result_from_http(s.code, &s) == result);
    CHECK(s.retry_after_seconds == retry_after);
    kube_status_done(&s);
    free(b);
}

static void test_status(void)
{
    status_file("status-401-unauthorized-microk8s.json", 401, "Unauthorized", KUBE_E_UNAUTHORIZED,
                -1);
    status_file("status-403-nonresource-anonymous-kcm-port.json", 403, "Forbidden",
                KUBE_E_FORBIDDEN, -1);
    status_file("status-404-unserved-resource-path.json", 404, "NotFound", KUBE_E_NOT_FOUND, -1);
    status_file("status-409-conflict-gke-resourcequota.json", 409, "Conflict", KUBE_E_CONFLICT, -1);
    status_file("status-429-toomanyrequests-eviction-pdb-kubectl-v9.json", 429, "TooManyRequests",
                KUBE_E_TOO_MANY_REQUESTS, -1);
    status_file("status-429-toomanyrequests-storage-reinitializing-rhoai.json", 429,
                "TooManyRequests", KUBE_E_TOO_MANY_REQUESTS, 30);

    size_t n;
    char *b;
    KubeStatus s = KUBE_STATUS_INIT;
    KubeDenial den;

    /* 409 details and the first cause. */
    b = load("status-409-conflict-gke-resourcequota.json", &n);
    if (b) {
        CHECK(kube_status_parse(b, n, &s) == 0);
        CHECK(strcmp(nz(s.details_name), "gke-resource-quotas") == 0);
        CHECK(strcmp(nz(s.details_kind), "resourcequotas") == 0);
        CHECK(s.details_group == NULL);
        kube_status_done(&s);
        free(b);
    }
    b = load("status-429-toomanyrequests-eviction-pdb-kubectl-v9.json", &n);
    if (b) {
        CHECK(kube_status_parse(b, n, &s) == 0);
        CHECK(strcmp(nz(s.cause_reason), "DisruptionBudget") == 0);
        kube_status_done(&s);
        free(b);
    }

    /* The two upstream 403 bodies: the missing RBAC rule is recovered. */
    b = load("status-403-forbidden-upstream-errors_test.jsonl", &n);
    if (b) {
        char *nl = strchr(b, '\n');
        CHECK(nl != NULL);
        if (nl) {
            CHECK(kube_status_parse(b, (size_t)(nl - b), &s) == 0);
            CHECK(kube_result_from_http(s.code, &s) == KUBE_E_FORBIDDEN);
            CHECK(kube_status_denial(&s, &den) == 0);
            CHECK(strcmp(den.user, "NAME") == 0 && strcmp(den.verb, "get") == 0);
            CHECK(strcmp(den.resource, "pod") == 0 && strcmp(den.group, "") == 0);
            CHECK(den.cluster_scope && strcmp(den.name, "mypod") == 0);
            kube_status_done(&s);
            char *second = nl + 1;
            CHECK(kube_status_parse(second, n - (size_t)(second - b), &s) == 0);
            CHECK(kube_status_denial(&s, &den) == 0);
            CHECK(strcmp(den.resource, "pod/quota") == 0 && strcmp(den.group, "v2") == 0);
            CHECK(strcmp(den.namespace_, "test") == 0 && !den.cluster_scope);
            kube_status_done(&s);
        }
        free(b);
    }
    b = load("status-403-nonresource-anonymous-kcm-port.json", &n);
    if (b) {
        CHECK(kube_status_parse(b, n, &s) == 0);
        CHECK(kube_status_denial(&s, &den) == 0);
        CHECK(den.nonresource && strcmp(den.resource, "/") == 0 &&
              strcmp(den.user, "system:anonymous") == 0);
        kube_status_done(&s);
        free(b);
    }
    /* The derived Lease 403 of the research notes. */
    const char *lease403 =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"leases.coordination.k8s.io \\\"NAME\\\" is forbidden: User "
        "\\\"system:serviceaccount:NS:SA\\\" cannot update resource \\\"leases\\\" in API group "
        "\\\"coordination.k8s.io\\\" in the namespace \\\"NS\\\"\",\"reason\":\"Forbidden\","
        "\"details\":{\"name\":\"NAME\",\"group\":\"coordination.k8s.io\",\"kind\":\"leases\"},"
        "\"code\":403}";
    CHECK(kube_status_parse(lease403, strlen(lease403), &s) == 0);
    CHECK(kube_status_denial(&s, &den) == 0);
    CHECK(strcmp(den.verb, "update") == 0 && strcmp(den.resource, "leases") == 0 &&
          strcmp(den.group, "coordination.k8s.io") == 0 && strcmp(den.namespace_, "NS") == 0 &&
          strcmp(den.name, "NAME") == 0);
    kube_status_done(&s);

    /* 409 AlreadyExists versus Conflict, plain-text 429, bodies that are no Status. */
    KubeStatus ae = KUBE_STATUS_INIT;
    ae.reason = (char *)"AlreadyExists";
    CHECK(kube_result_from_http(409, &ae) == KUBE_E_ALREADY_EXISTS);
    CHECK(kube_result_from_http(409, NULL) == KUBE_E_CONFLICT);
    CHECK(kube_result_from_http(429, NULL) == KUBE_E_TOO_MANY_REQUESTS);
    CHECK(kube_result_from_http(503, NULL) == KUBE_E_SERVER_ERROR);
    CHECK(kube_result_from_http(201, NULL) == KUBE_OK);
    const char *plain = "Too many requests, please try again later.\n";
    CHECK(kube_status_parse(plain, strlen(plain), &s) == -EBADMSG);
    CHECK(kube_status_parse("{\"kind\":\"Lease\"}", 16, &s) == -EBADMSG);
    CHECK(kube_status_parse("", 0, &s) == -EBADMSG);
    CHECK(strcmp(kube_result_to_string(KUBE_E_CONFLICT), "conflict") == 0);
}

static void test_microtime(void)
{
    char buf[KUBE_TIME_BUF];
    int64_t t = 0;

    CHECK(kube_time_parse("2021-05-24T09:05:09.579371Z", 27, &t) == 0);
    CHECK(kube_microtime_format(t, buf) == 0 && strcmp(buf, "2021-05-24T09:05:09.579371Z") == 0);
    CHECK(t == INT64_C(1621847109579371));
    /* .000000 is kept, and the fixture's .000003. */
    CHECK(kube_microtime_format(INT64_C(1621847109000000), buf) == 0 &&
          strcmp(buf, "2021-05-24T09:05:09.000000Z") == 0);
    CHECK(kube_time_parse("2003-01-01T01:01:01.000003Z", 27, &t) == 0 && t % 1000000 == 3);
    CHECK(kube_microtime_format(0, buf) == 0 && strcmp(buf, "1970-01-01T00:00:00.000000Z") == 0);
    CHECK(kube_microtime_format(-1, buf) == 0 && strcmp(buf, "1969-12-31T23:59:59.999999Z") == 0);
    CHECK(kube_microtime_format(KUBE_TIME_UNSET, buf) == -ERANGE);
    CHECK(strlen("2021-05-24T09:05:09.579371Z") == KUBE_MICROTIME_LEN);
    /* Any offset is read; writing is always UTC. */
    CHECK(kube_time_parse("2021-05-24T11:05:09.579371+02:00", 32, &t) == 0 &&
          t == INT64_C(1621847109579371));
    CHECK(kube_time_parse("2021-05-24T04:05:09.579371-05:00", 32, &t) == 0 &&
          t == INT64_C(1621847109579371));
    /* Seconds, milliseconds, nanoseconds (truncated), lower-case z. */
    CHECK(kube_time_parse("2021-05-24T09:05:09Z", 20, &t) == 0 && t == INT64_C(1621847109000000));
    CHECK(kube_time_parse("2026-08-11T19:37:19.103Z", 24, &t) == 0 && t % 1000000 == 103000);
    CHECK(kube_time_parse("2020-02-28T20:11:41.636526400Z", 30, &t) == 0 && t % 1000000 == 636526);
    CHECK(kube_time_parse("2021-05-24t09:05:09z", 20, &t) == 0);
    /* Leap day, year end. */
    CHECK(kube_time_parse("2024-02-29T23:59:59.999999Z", 27, &t) == 0);
    CHECK(kube_microtime_format(t + 1, buf) == 0 &&
          strcmp(buf, "2024-03-01T00:00:00.000000Z") == 0);
    CHECK(kube_time_parse("1999-12-31T23:59:59.999999Z", 27, &t) == 0);
    CHECK(kube_microtime_format(t + 1, buf) == 0 &&
          strcmp(buf, "2000-01-01T00:00:00.000000Z") == 0);
    /* Malformed. */
    static const char *const bad[] = {
        "",
        "2021-05-24",
        "2021-05-24T09:05:09",
        "2021-05-24T09:05:09.Z",
        "2021-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2021-05-24T24:00:00Z",
        "2021-05-24T09:05:09.1234567890Z",
        "2021-05-24T09:05:09+0200",
        "2021-05-24 09:05:09Z",
        "2021-05-24T09:05:09Zx",
        "null",
        "0000-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t keep = 42;
        CHECK(kube_time_parse(bad[i], strlen(bad[i]), &keep) == -EINVAL && keep == 42);
    }
    CHECK(kube_time_format(INT64_C(1621847109579371), buf) == 0 &&
          strcmp(buf, "2021-05-24T09:05:09Z") == 0);
}

static int64_t ts(const char *s)
{
    int64_t t = KUBE_TIME_UNSET;
    if (kube_time_parse(s, strlen(s), &t) < 0) abort();
    return t;
}

/* The span of value path in text, for byte-exact comparisons. */
static char *span(const char *text, size_t len, const char *const *path)
{
    JsonDoc *d = NULL;
    char *r = NULL;
    if (json_parse(text, len, 0, &d) < 0) return NULL;
    int t = json_get_pathv(d, 0, path);
    if (t >= 0) r = strndup(text + json_start(d, t), json_end(d, t) - json_start(d, t));
    json_free(d);
    return r;
}

static void test_lease_files(void)
{
    size_t n;
    char *b;
    KubeLease l = KUBE_LEASE_INIT;

    b = load("lease-openyurt-node-lease.json", &n);
    if (b) {
        CHECK(kube_lease_parse(b, n, &l) == 0);
        CHECK(strcmp(nz(l.name), "openyurt-e2e-test-worker") == 0);
        CHECK(strcmp(nz(l.namespace_), "kube-node-lease") == 0);
        CHECK(strcmp(nz(l.resource_version), "1944172") == 0);
        CHECK(strcmp(nz(l.holder_identity), "openyurt-e2e-test-worker") == 0);
        CHECK(l.lease_duration_seconds == 40);
        CHECK(l.renew_time_usec == ts("2022-06-14T08:10:33.309487Z"));
        CHECK(l.acquire_time_usec == KUBE_TIME_UNSET && l.lease_transitions == KUBE_INT_UNSET);
        CHECK(l.raw_len == n - (b[n - 1] == '\n'));
        kube_lease_done(&l);
        free(b);
    }
    b = load("lease-upstream-testdata-HEAD-fixture.json", &n);
    if (b) {
        CHECK(kube_lease_parse(b, n, &l) == 0);
        CHECK(strcmp(nz(l.holder_identity), "holderIdentityValue") == 0);
        CHECK(l.lease_duration_seconds == 2 && l.lease_transitions == 5);
        CHECK(l.acquire_time_usec == ts("2003-01-01T01:01:01.000003Z"));
        CHECK(l.renew_time_usec == ts("2004-01-01T01:01:01.000004Z"));
        CHECK(strcmp(nz(l.strategy), "strategyValue") == 0);
        kube_lease_done(&l);
        free(b);
    }
    /* Leases embedded in the audit event and the admission review. */
    b = load("audit-event-lease-update-kcm-v1.20.7.json", &n);
    if (b) {
        JsonDoc *d = NULL;
        CHECK(json_parse(b, n, 0, &d) == 0);
        CHECK(kube_lease_from_json(d, json_get(d, 0, "requestObject"), &l) == 0);
        CHECK(strcmp(nz(l.resource_version), "33178") == 0);
        kube_lease_done(&l);
        CHECK(kube_lease_from_json(d, json_get(d, 0, "responseObject"), &l) == 0);
        CHECK(strcmp(nz(l.resource_version), "33179") == 0);
        CHECK(strcmp(nz(l.holder_identity), "master_0b1b6fb7-55d4-4a8b-b560-bc283491de73") == 0);
        CHECK(l.lease_duration_seconds == 15 && l.lease_transitions == 7);
        CHECK(l.acquire_time_usec == ts("2021-05-24T09:05:09.579371Z"));
        kube_lease_done(&l);
        /* The Status in the audit event is not a Lease. */
        CHECK(kube_lease_from_json(d, json_get(d, 0, "responseStatus"), &l) == -EBADMSG);
        CHECK(kube_lease_from_json(d, json_get(d, 0, "objectRef"), &l) == -EBADMSG);
        json_free(d);
        free(b);
    }
    b = load("admissionreview-lease-update-minikube.json", &n);
    if (b) {
        JsonDoc *d = NULL;
        CHECK(json_parse(b, n, 0, &d) == 0);
        CHECK(kube_lease_from_json(d, json_get_path(d, 0, "request", "object", NULL), &l) == 0);
        CHECK(strcmp(nz(l.holder_identity), "minikube") == 0);
        CHECK(l.renew_time_usec == ts("2021-10-12T10:24:21.171624Z"));
        kube_lease_done(&l);
        json_free(d);
        free(b);
    }
    /* Malformed Leases. */
    static const char *const bad[] = {
        "{\"kind\":\"Status\"}",
        "{\"kind\":\"Lease\",\"spec\":{\"renewTime\":\"yesterday\"}}",
        "{\"kind\":\"Lease\",\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
        "{\"kind\":\"Lease\",\"spec\":{\"leaseDurationSeconds\":1.5}}",
        "{\"kind\":\"Lease\",\"spec\":{\"leaseTransitions\":99999999999}}",
        "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":7}}",
        "{\"kind\":\"Lease\",\"metadata\":[]}",
        "[]",
        "<html>502 Bad Gateway</html>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(kube_lease_parse(bad[i], strlen(bad[i]), &l) == -EBADMSG);
    /* null and absent are the same. */
    const char *nulls = "{\"kind\":\"Lease\",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                        "\"holderIdentity\":null,\"acquireTime\":null}}";
    CHECK(kube_lease_parse(nulls, strlen(nulls), &l) == 0);
    CHECK(l.holder_identity == NULL && l.acquire_time_usec == KUBE_TIME_UNSET);
    kube_lease_done(&l);
}

static void test_lease_patch(void)
{
    static const char *const p_labels[] = {"metadata", "labels", NULL};
    static const char *const p_ann[] = {"metadata", "annotations", NULL};
    static const char *const p_owner[] = {"metadata", "ownerReferences", NULL};
    static const char *const p_final[] = {"metadata", "finalizers", NULL};
    static const char *const p_managed[] = {"metadata", "managedFields", NULL};
    static const char *const p_strategy[] = {"spec", "strategy", NULL};
    static const char *const p_pref[] = {"spec", "preferredHolder", NULL};
    static const char *const p_future[] = {"spec", "futureField", NULL};
    static const char *const p_uid[] = {"metadata", "uid", NULL};
    static const char *const *const kept[] = {p_labels,   p_ann,  p_owner,  p_final, p_managed,
                                              p_strategy, p_pref, p_future, p_uid};
    static const char *const files[] = {
        "client-lease-unknown-fields.json",
        "lease-upstream-testdata-HEAD-fixture.json",
        "lease-openyurt-node-lease.json",
    };

    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t n, out_len;
        char *b = load(files[f], &n), *out = NULL;
        KubeLease l = KUBE_LEASE_INIT, back = KUBE_LEASE_INIT;
        if (!b) continue;
        CHECK(kube_lease_parse(b, n, &l) == 0);

        free(l.holder_identity);
        l.holder_identity = strdup("pod-b \"quoted\" \xc3\xa9");
        l.lease_duration_seconds = 17;
        l.acquire_time_usec = ts("2026-11-22T05:00:00.000001Z");
        l.renew_time_usec = ts("2026-11-22T05:00:02.5Z");
        l.lease_transitions = 9;
        free(l.resource_version);
        l.resource_version = strdup("424242");

        CHECK(kube_lease_to_json(&l, false, 1 << 20, &out, &out_len) == 0);
        CHECK(out && kube_lease_parse(out, out_len, &back) == 0);
        CHECK(strcmp(nz(back.holder_identity), "pod-b \"quoted\" \xc3\xa9") == 0);
        CHECK(back.lease_duration_seconds == 17 && back.lease_transitions == 9);
        CHECK(back.acquire_time_usec == l.acquire_time_usec);
        CHECK(back.renew_time_usec == l.renew_time_usec);
        CHECK(strcmp(nz(back.resource_version), "424242") == 0);
        CHECK(out && strstr(out, "\"2026-11-22T05:00:02.500000Z\""));
        /* Everything the client does not manage is byte-for-byte the same. */
        for (size_t k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
            char *before = span(b, n, kept[k]), *after = out ? span(out, out_len, kept[k]) : NULL;
            CHECK((before == NULL) == (after == NULL));
            if (before && after) CHECK(strcmp(before, after) == 0);
            free(before);
            free(after);
        }
        /* A create from a stored object drops what the server assigns. */
        free(out);
        out = NULL;
        CHECK(kube_lease_to_json(&l, true, 1 << 20, &out, &out_len) == 0);
        char *rv =
            out ? span(out, out_len, (const char *const[]){"metadata", "resourceVersion", NULL})
                : NULL;
        CHECK(rv == NULL);
        free(rv);
        char *labels = out ? span(out, out_len, p_labels) : NULL, *lb = span(b, n, p_labels);
        CHECK((labels == NULL) == (lb == NULL));
        free(labels);
        free(lb);
        /* Releasing: holder "" is written, an unset field disappears. */
        free(out);
        out = NULL;
        free(l.holder_identity);
        l.holder_identity = strdup("");
        l.acquire_time_usec = KUBE_TIME_UNSET;
        kube_lease_done(&back);
        CHECK(kube_lease_to_json(&l, false, 1 << 20, &out, &out_len) == 0);
        CHECK(out && kube_lease_parse(out, out_len, &back) == 0);
        CHECK(back.holder_identity && back.holder_identity[0] == 0);
        CHECK(back.acquire_time_usec == KUBE_TIME_UNSET && back.renew_time_usec != KUBE_TIME_UNSET);
        char *acq =
            out ? span(out, out_len, (const char *const[]){"spec", "acquireTime", NULL}) : NULL;
        CHECK(out && acq == NULL);
        free(acq);
        /* Size bound. */
        char *small = NULL;
        CHECK(kube_lease_to_json(&l, false, 64, &small, &out_len) == -E2BIG);
        kube_lease_done(&back);
        kube_lease_done(&l);
        free(out);
        free(b);
    }

    /* A new Lease without a stored object. */
    KubeLease l = KUBE_LEASE_INIT, back = KUBE_LEASE_INIT;
    char *out = NULL;
    size_t out_len;
    l.name = strdup("my-election");
    l.namespace_ = strdup("ns1");
    l.holder_identity = strdup("pod-a");
    l.lease_duration_seconds = 15;
    l.acquire_time_usec = l.renew_time_usec = ts("2026-11-22T05:00:00Z");
    l.lease_transitions = 0;
    CHECK(kube_lease_to_json(&l, true, 4096, &out, &out_len) == 0);
    CHECK(out && strcmp(out, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                             "\"metadata\":{\"name\":\"my-election\",\"namespace\":\"ns1\"},"
                             "\"spec\":{\"holderIdentity\":\"pod-a\",\"leaseDurationSeconds\":15,"
                             "\"acquireTime\":\"2026-11-22T05:00:00.000000Z\","
                             "\"renewTime\":\"2026-11-22T05:00:00.000000Z\","
                             "\"leaseTransitions\":0}}") == 0);
    CHECK(out && kube_lease_parse(out, out_len, &back) == 0);
    kube_lease_done(&back);
    CHECK(kube_lease_copy(&l, &back) == 0 && strcmp(back.name, "my-election") == 0);
    kube_lease_done(&back);
    free(out);
    kube_lease_done(&l);
    KubeLease noname = KUBE_LEASE_INIT;
    CHECK(kube_lease_to_json(&noname, true, 4096, &out, &out_len) == -EINVAL);
}

static void test_watch(void)
{
    size_t n;
    char *b;
    KubeWatchEvent e = KUBE_WATCH_EVENT_INIT;

    b = load("watch-bookmark-pod-go-apiserver.jsonl", &n);
    if (b) {
        CHECK(kube_watch_event_parse(b, n, true, &e) == 0);
        CHECK(e.type == KUBE_WATCH_BOOKMARK && strcmp(nz(e.resource_version), "3845") == 0);
        CHECK(!e.has_lease && !kube_watch_event_is_expired(&e));
        kube_watch_event_done(&e);
        free(b);
    }
    b = load("watch-error-410-expired-kind-v1.36.1.jsonl", &n);
    if (b) {
        CHECK(kube_watch_event_parse(b, n, true, &e) == 0);
        CHECK(e.type == KUBE_WATCH_ERROR && kube_watch_event_is_expired(&e));
        CHECK(e.status.code == 410 && strcmp(nz(e.status.reason), "Expired") == 0);
        CHECK(strcmp(nz(e.status.message), "too old resource version: 1 (3171407)") == 0);
        kube_watch_event_done(&e);
        free(b);
    }
    /* A MODIFIED event carrying a real Lease. */
    b = load("lease-openyurt-node-lease.json", &n);
    if (b) {
        while (n && (b[n - 1] == '\n'))
            n--;
        char *line = NULL;
        CHECK(asprintf(&line, "{\"type\":\"MODIFIED\",\"object\":%.*s}\n", (int)n, b) > 0);
        CHECK(kube_watch_event_parse(line, strlen(line), true, &e) == 0);
        CHECK(e.type == KUBE_WATCH_MODIFIED && e.has_lease);
        CHECK(strcmp(nz(e.resource_version), "1944172") == 0);
        CHECK(strcmp(nz(e.lease.holder_identity), "openyurt-e2e-test-worker") == 0);
        CHECK(e.object_len == n && memcmp(e.object, b, n) == 0);
        kube_watch_event_done(&e);
        free(line);
        free(b);
    }
    const char *lease_bookmark =
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":"
        "\"coordination.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"77\","
        "\"creationTimestamp\":null},\"spec\":{}}}";
    CHECK(kube_watch_event_parse(lease_bookmark, strlen(lease_bookmark), true, &e) == 0);
    CHECK(e.type == KUBE_WATCH_BOOKMARK && strcmp(nz(e.resource_version), "77") == 0);
    kube_watch_event_done(&e);
    static const char *const bad[] = {
        "",
        "{}",
        "{\"type\":\"ADDED\"}",
        "{\"type\":\"FOO\",\"object\":{}}",
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Lease\"}}",
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Lease\"}}",
        /* clang-format off */
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"1\"}}}",
        /* clang-format on */
        "{\"type\":\"ADDED\",\"object\":[]}",
        "not json at all",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = kube_watch_event_parse(bad[i], strlen(bad[i]), true, &e);
        if (r != -EBADMSG) fprintf(stderr, "watch line accepted: %s\n", bad[i]);
        CHECK(r == -EBADMSG);
    }
    /* Generic watches take any kind. */
    const char *pod = bad[6];
    CHECK(kube_watch_event_parse(pod, strlen(pod), false, &e) == 0 && !e.has_lease);
    kube_watch_event_done(&e);
}

int main(int argc, char **argv)
{
    datadir = argc > 1 ? argv[1] : "tests/data/k8s-api";
    test_status();
    test_microtime();
    test_lease_files();
    test_lease_patch();
    test_watch();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_kube_codec: ok\n");
    return 0;
}
