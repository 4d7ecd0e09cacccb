/* SPDX-License-Identifier: MIT */
/*
 * Tests of daemon/lock.c and daemon/events.c.
 *   test_lock unit DATADIR  codecs on the real Endpoints capture (tests/data/k8s-api), the
 *                           MultiLock decisions, the Event body. Built with
 *                           TEST_LOCK_CODEC_ONLY (test_lock_codec), only the codecs of
 *                           daemon/lock_codec.c, which is all that binary links
 *   test_lock events        the Event body alone
 *   test_lock api           (under tests/server/with-apiserver.py) every lock type against the test
 *                           server: get/create/update/conflict/watch, the MultiLock's Lease
 *                           following the Endpoints, the Endpoints modes' watch streams
 *                           (showing what a read shows, no polling, our own writes never
 *                           shown half done, 410, interruptions, the fallback to reads when
 *                           the server refuses the watch), Events posted and a 403 that
 *                           never blocks
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "json.h"
#include "kube_time.h"
#ifdef TEST_LOCK_CODEC_ONLY
#include "lock_codec.h"
#else
#include <curl/curl.h>

#include "events.h"
#include "lock.h"
#endif

#define SEC UINT64_C(1000000)

static int64_t t_of(const char *s)
{
    int64_t v = 0;
    if (kube_time_parse(s, strlen(s), &v) < 0) abort();
    return v;
}

static char *load(const char *dir, const char *name, size_t *ret_len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) abort();
    buf[n] = 0;
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

/* ---- unit ---- */

static const char CAPTURED_VALUE[] =
    "{\"holderIdentity\":\"minikube_60a2b6d4-7f58-4c67-aadb-c2fda56b01bb\","
    "\"leaseDurationSeconds\":15,\"acquireTime\":\"2021-10-12T10:16:47Z\","
    "\"renewTime\":\"2021-10-12T10:24:22Z\",\"leaderTransitions\":0}";

static void test_capture(const char *datadir)
{
    size_t n;
    char *text = load(datadir, "admissionreview-endpoints-leader-annotation-minikube.json", &n);
    JsonDoc *d = NULL;
    LockEndpoints e = {0}, old = {0};
    char *out = NULL, *body = NULL;
    size_t out_len = 0, body_len = 0;
    int obj, oldobj;

    CHECK(json_parse(text, n, 0, &d) == 0);
    obj = json_get_path(d, 0, "request", "object", NULL);
    oldobj = json_get_path(d, 0, "request", "oldObject", NULL);
    CHECK(obj > 0 && oldobj > 0);
    CHECK(lock_endpoints_parse(text + json_start(d, obj), json_end(d, obj) - json_start(d, obj),
                               &e) == 0);
    CHECK(e.has_record);
    CHECK(strcmp(e.record.holder, "minikube_60a2b6d4-7f58-4c67-aadb-c2fda56b01bb") == 0);
    CHECK(e.record.lease_duration_seconds == 15);
    CHECK(e.record.acquire_time_usec == t_of("2021-10-12T10:16:47Z"));
    CHECK(e.record.renew_time_usec == t_of("2021-10-12T10:24:22Z"));
    CHECK(e.record.lease_transitions == 0);
    CHECK(e.record.revision == 796);
    CHECK(e.resource_version && strcmp(e.resource_version, "796") == 0);
    CHECK(e.uid && strcmp(e.uid, "493c5775-dba4-4a32-ae6e-51dee1d26dec") == 0);
    CHECK(strcmp(e.name, "k8s.io-minikube-hostpath") == 0 &&
          strcmp(e.namespace_, "kube-system") == 0);

    /* Formatting the record gives back the captured value byte for byte (Go's json.Marshal). */
    CHECK(lock_record_format(&e.record, &out, &out_len) == 0);
    CHECK(out && strcmp(out, CAPTURED_VALUE) == 0);
    CHECK(out_len == strlen(CAPTURED_VALUE));
    free(out);

    /* The old object of the same update: the renew two seconds earlier. */
    CHECK(lock_endpoints_parse(text + json_start(d, oldobj),
                               json_end(d, oldobj) - json_start(d, oldobj), &old) == 0);
    CHECK(old.record.renew_time_usec == e.record.renew_time_usec - 2 * (int64_t)SEC);

    /* An update body keeps everything else (uid, managedFields, creationTimestamp) and sets the
     * annotation and the resourceVersion. */
    {
        ElectionRecord r = e.record;
        LockEndpoints back = {0};
        snprintf(r.holder, sizeof r.holder, "pod-b");
        r.renew_time_usec = t_of("2021-10-12T10:30:00.987654Z"); /* truncated on the wire */
        r.lease_transitions = 1;
        CHECK(lock_endpoints_update_body(&e, &r, 1 << 20, &body, &body_len) == 0);
        CHECK(body && strstr(body, "\"managedFields\":[{\"manager\":\"storage-provisioner\""));
        CHECK(strstr(body, "\"uid\":\"493c5775-dba4-4a32-ae6e-51dee1d26dec\""));
        CHECK(strstr(body, "\"resourceVersion\":\"796\""));
        CHECK(strstr(body, "\\\"renewTime\\\":\\\"2021-10-12T10:30:00Z\\\""));
        CHECK(lock_endpoints_parse(body, body_len, &back) == 0);
        CHECK(strcmp(back.record.holder, "pod-b") == 0);
        CHECK(back.record.renew_time_usec == t_of("2021-10-12T10:30:00Z"));
        CHECK(back.record.lease_transitions == 1);
        lock_endpoints_done(&back);
        free(body);
    }
    lock_endpoints_done(&e);
    lock_endpoints_done(&old);
    json_free(d);
    free(text);
}

static void test_record_edges(void)
{
    ElectionRecord r;
    char *out = NULL;
    char big[600];

    /* What Go's Unmarshal accepts: absent fields are zero, null times, unknown fields, other
     * precisions and offsets. */
    CHECK(lock_record_parse("{}", 2, &r) == 0);
    CHECK(r.holder[0] == 0 && r.lease_duration_seconds == 0 && r.renew_time_usec == 0);
    {
        const char *s =
            "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":10,\"acquireTime\":null,"
            "\"renewTime\":\"2026-11-22T06:00:01.5+01:00\",\"leaderTransitions\":3,"
            "\"strategy\":\"OldestEmulationVersion\",\"preferredHolder\":\"b\"}";
        CHECK(lock_record_parse(s, strlen(s), &r) == 0);
        CHECK(strcmp(r.holder, "a") == 0 && r.lease_duration_seconds == 10);
        CHECK(r.acquire_time_usec == 0);
        CHECK(r.renew_time_usec == t_of("2026-11-22T05:00:01.5Z"));
        CHECK(r.lease_transitions == 3);
    }
    /* Go's zero time (an old writer's unset acquireTime) reads as absent. */
    {
        const char *s = "{\"holderIdentity\":\"\",\"acquireTime\":\"0001-01-01T00:00:00Z\"}";
        CHECK(lock_record_parse(s, strlen(s), &r) == 0 && r.acquire_time_usec == 0);
    }
    /* Malformed: never a record. */
    CHECK(lock_record_parse("[]", 2, &r) == -EBADMSG);
    CHECK(lock_record_parse("{\"holderIdentity\":5}", 20, &r) == -EBADMSG);
    CHECK(lock_record_parse("{\"leaseDurationSeconds\":\"10\"}", 29, &r) == -EBADMSG);
    CHECK(lock_record_parse("{\"renewTime\":\"yesterday\"}", 25, &r) == -EBADMSG);
    CHECK(lock_record_parse("{\"leaderTransitions\":1.5}", 25, &r) == -EBADMSG);
    CHECK(lock_record_parse("{\"holderIdentity\":\"a\"", 21, &r) == -EBADMSG);
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"holderIdentity\":\"", 19);
    memcpy(big + sizeof big - 2, "\"}", 2);
    CHECK(lock_record_parse(big, sizeof big, &r) == -EBADMSG); /* longer than any identity */

    /* Writing: seconds, truncated (never rounded up: a renewTime must not lie about the
     * future), a zero time as null like metav1.Time's zero value. */
    r = (ElectionRecord){0};
    snprintf(r.holder, sizeof r.holder, "pod-\"q\"");
    r.lease_duration_seconds = 10;
    r.renew_time_usec = t_of("2026-11-22T06:00:01.999999Z");
    CHECK(lock_record_format(&r, &out, NULL) == 0);
    CHECK(out && strcmp(out, "{\"holderIdentity\":\"pod-\\\"q\\\"\",\"leaseDurationSeconds\":10,"
                             "\"acquireTime\":null,\"renewTime\":\"2026-11-22T06:00:01Z\","
                             "\"leaderTransitions\":0}") == 0);
    free(out);
    r.renew_time_usec = t_of("0001-01-01T00:00:00Z") - 1;
    CHECK(lock_record_format(&r, &out, NULL) == -ERANGE);

    /* Endpoints without the annotation: an empty record (client-go), still an Endpoints. */
    {
        const char *s =
            "{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"e\","
            "\"namespace\":\"default\",\"resourceVersion\":\"12\",\"annotations\":null},"
            "\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"}]}]}";
        LockEndpoints e = {0};
        char *body = NULL;
        size_t len;
        CHECK(lock_endpoints_parse(s, strlen(s), &e) == 0);
        CHECK(!e.has_record && e.record.holder[0] == 0 && e.record.revision == 12);
        r = (ElectionRecord){.lease_duration_seconds = 10};
        snprintf(r.holder, sizeof r.holder, "pod-a");
        r.renew_time_usec = r.acquire_time_usec = t_of("2026-11-22T06:00:00Z");
        CHECK(lock_endpoints_update_body(&e, &r, 1 << 20, &body, &len) == 0);
        CHECK(body && strstr(body, "\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"}]}]"));
        CHECK(body && strstr(body, "\"annotations\":{\"" LOCK_ANNOTATION "\":"));
        free(body);
        lock_endpoints_done(&e);
        const char *lease = "{\"kind\":\"Lease\",\"metadata\":{}}";
        CHECK(lock_endpoints_parse(lease, strlen(lease), &e) == -EBADMSG);
        const char *badann =
            "{\"kind\":\"Endpoints\",\"metadata\":{\"annotations\":{\"" LOCK_ANNOTATION
            "\":\"not json\"}}}";
        CHECK(lock_endpoints_parse(badann, strlen(badann), &e) == -EBADMSG);
    }
    /* The create body: as client-go's EndpointsLock.Create, metadata only. */
    {
        char *body = NULL;
        r = (ElectionRecord){.lease_duration_seconds = 10, .lease_transitions = 2};
        snprintf(r.holder, sizeof r.holder, "pod-a");
        r.renew_time_usec = r.acquire_time_usec = t_of("2026-11-22T06:00:00Z");
        CHECK(lock_endpoints_create_body("ns", "example", &r, 4096, &body, NULL) == 0);
        CHECK(body &&
              strcmp(body,
                     "{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                     "\"example\",\"namespace\":\"ns\",\"annotations\":{\"" LOCK_ANNOTATION
                     "\":\"{\\\"holderIdentity\\\":\\\"pod-a\\\",\\\"leaseDurationSeconds\\\":10,"
                     "\\\"acquireTime\\\":\\\"2026-11-22T06:00:00Z\\\",\\\"renewTime\\\":"
                     "\\\"2026-11-22T06:00:00Z\\\",\\\"leaderTransitions\\\":2}\"}}}") == 0);
        free(body);
    }
}

static ElectionRecord rec(const char *holder, int64_t renew, int32_t term, uint64_t rev)
{
    ElectionRecord r = {0};
    snprintf(r.holder, sizeof r.holder, "%s", holder);
    r.lease_duration_seconds = 10;
    r.acquire_time_usec = 1000 * (int64_t)SEC;
    r.renew_time_usec = renew;
    r.lease_transitions = term;
    r.revision = rev;
    return r;
}

static void test_multi(void)
{
    ElectionRecord p, s, out;
    uint64_t aux, aux2;

    /* Lease absent, Endpoints held by an old client: the Endpoints record as it is. */
    p = rec("old-pod", 5000 * SEC, 3, 40);
    lock_multi_combine(&p, NULL, "new-pod", &out, &aux);
    CHECK(strcmp(out.holder, "old-pod") == 0 && out.renew_time_usec == p.renew_time_usec);
    CHECK(out.revision == 40 && aux == 0);
    /* Lease absent, Endpoints naming us: not a claim we may confirm. */
    p = rec("new-pod", 5000 * SEC, 3, 40);
    lock_multi_combine(&p, NULL, "new-pod", &out, &aux);
    CHECK(strcmp(out.holder, LOCK_UNKNOWN_LEADER) == 0);
    /* Holders differ (an old client took the Endpoints; the Lease still names the last new
     * leader): UnknownLeader, as client-go. */
    p = rec("old-pod", 5000 * SEC, 4, 41);
    s = rec("new-pod", 4000 * SEC, 3, 39);
    lock_multi_combine(&p, &s, "x", &out, &aux);
    CHECK(strcmp(out.holder, LOCK_UNKNOWN_LEADER) == 0);
    CHECK(out.renew_time_usec == p.renew_time_usec && out.lease_transitions == 4);
    CHECK(out.revision == 41 && aux != 0);
    /* A change of the Lease alone changes aux (the engine sees a change: observedTime rule). */
    s.renew_time_usec += SEC;
    lock_multi_combine(&p, &s, "x", &out, &aux2);
    CHECK(aux2 != aux && aux2 != 0);
    /* Agreeing holders: the older renewTime of the two (a renew confirmed only when both were
     * written). */
    p = rec("new-pod", 5002 * SEC, 3, 42);
    s = rec("new-pod", 5000 * SEC, 3, 43);
    lock_multi_combine(&p, &s, "new-pod", &out, &aux);
    CHECK(strcmp(out.holder, "new-pod") == 0 && out.renew_time_usec == 5000 * (int64_t)SEC);
    CHECK(out.revision == 42);
    s.renew_time_usec = 5003 * SEC;
    lock_multi_combine(&p, &s, "new-pod", &out, &aux);
    CHECK(out.renew_time_usec == 5002 * (int64_t)SEC);
    /* Endpoints released, its Lease write lost (holders differ): UnknownLeader, and the release
     * marker's leaseDurationSeconds=1 is not passed on as a holder's timing. */
    p = rec("", 6000 * SEC, 3, 44);
    p.lease_duration_seconds = 1;
    s = rec("new-pod", 5990 * SEC, 3, 43);
    lock_multi_combine(&p, &s, "x", &out, &aux);
    CHECK(strcmp(out.holder, LOCK_UNKNOWN_LEADER) == 0 && out.lease_duration_seconds == 0);
    /* Both released. */
    p = rec("", 6000 * SEC, 3, 44);
    s = rec("", 6000 * SEC, 3, 45);
    lock_multi_combine(&p, &s, "new-pod", &out, &aux);
    CHECK(out.holder[0] == 0);

    LockType t;
    CHECK(lock_type_from_string("endpointsleases", &t) == 0 && t == LOCK_ENDPOINTS_LEASES);
    CHECK(lock_type_from_string("configmaps", &t) == -EINVAL);
    CHECK(strcmp(lock_type_to_string(LOCK_ENDPOINTS), "endpoints") == 0);
    CHECK(lock_time_precision_usec(LOCK_LEASES) == 1);
    CHECK(lock_time_precision_usec(LOCK_ENDPOINTS_LEASES) == SEC);
}

#ifndef TEST_LOCK_CODEC_ONLY
static void test_event_body(void)
{
    EventObjectRef o = {.kind = "Lease",
                        .api_version = "coordination.k8s.io/v1",
                        .name = "example",
                        .namespace_ = "ns",
                        .uid = "u-1",
                        .resource_version = "7"};
    char *b = NULL;
    int64_t wall = t_of("2026-11-22T06:00:00.123456Z");

    CHECK(events_format(&o, "Normal", "LeaderElection", "pod-a became leader", NULL, "pod-a", wall,
                        &b, NULL) == 0);
    CHECK(b &&
          strcmp(b, "{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                    "\"example.18ea489392f48a00\",\"namespace\":\"ns\"},\"involvedObject\":{"
                    "\"kind\":\"Lease\",\"namespace\":\"ns\",\"name\":\"example\",\"uid\":\"u-1\","
                    "\"apiVersion\":\"coordination.k8s.io/v1\",\"resourceVersion\":\"7\"},"
                    "\"reason\":\"LeaderElection\",\"message\":\"pod-a became leader\",\"source\":"
                    "{\"component\":\"leader-elector\",\"host\":\"pod-a\"},\"firstTimestamp\":"
                    "\"2026-11-22T06:00:00Z\",\"lastTimestamp\":\"2026-11-22T06:00:00Z\","
                    "\"count\":1,\"type\":\"Normal\",\"eventTime\":null,\"reportingComponent\":"
                    "\"leader-elector\",\"reportingInstance\":\"pod-a\"}") == 0);
    if (b && failures) fprintf(stderr, "event body: %s\n", b);
    free(b);
    o.name = NULL;
    CHECK(events_format(&o, "Normal", "LeaderElection", "m", NULL, "h", wall, &b, NULL) == -EINVAL);
}

#endif

static int run_unit(const char *datadir)
{
    test_capture(datadir);
    test_record_edges();
    test_multi();
#ifndef TEST_LOCK_CODEC_ONLY
    test_event_body();
#endif
    return 0;
}

#ifndef TEST_LOCK_CODEC_ONLY
/* ---- api: against the test server ---- */

static sd_event *loop;

typedef struct Out {
    bool done;
    LockResult res;
    char error[512];
} Out;

static void on_done(Lock *l, const LockResult *res, void *ud)
{
    Out *o = ud;
    o->done = true;
    o->res = *res;
    snprintf(o->error, sizeof o->error, "%s", res->error ? res->error : "");
    o->res.error = o->error;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void run_until(bool *flag, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    while (!*flag && now_usec() < end)
        if (sd_event_run(loop, 100000) < 0) abort();
}

static KubeClient *client(const char *token_env)
{
    KubeConfig cfg = {0};
    KubeClient *c = NULL;
    cfg.server = getenv("KUBEAPI_URL");
    cfg.ca_file = getenv("KUBEAPI_CA");
    cfg.token_file = getenv(token_env);
    cfg.namespace_ = (char *)"default";
    if (kube_client_new(loop, &cfg, &c) < 0) abort();
    return c;
}

static Lock *mklock(KubeClient *c, LockType t, const char *name, const char *id)
{
    LockConfig lc = {.type = t, .namespace_ = "default", .name = name, .identity = id};
    Lock *l = NULL;
    if (lock_new(loop, c, &lc, &l) < 0) abort();
    return l;
}

static Out do_get(Lock *l)
{
    Out o = {0};
    CHECK(lock_get(l, 5 * SEC, on_done, &o, NULL) == 0);
    run_until(&o.done, 10 * SEC);
    CHECK(o.done);
    return o;
}

static Out do_create(Lock *l, const ElectionRecord *r)
{
    Out o = {0};
    CHECK(lock_create(l, r, 5 * SEC, on_done, &o, NULL) == 0);
    run_until(&o.done, 10 * SEC);
    CHECK(o.done);
    return o;
}

static Out do_update(Lock *l, const ElectionRecord *r, uint64_t base)
{
    Out o = {0};
    CHECK(lock_update(l, r, base, 5 * SEC, on_done, &o, NULL) == 0);
    run_until(&o.done, 10 * SEC);
    CHECK(o.done);
    return o;
}

typedef struct Raw {
    bool done;
    int result;
    char *body;
} Raw;

static void on_raw(KubeClient *c, const KubeResponse *resp, void *ud)
{
    Raw *r = ud;
    r->done = true;
    r->result = resp->result;
    r->body = resp->result == KUBE_OK ? strdup(resp->body) : NULL;
}

static char *raw_get(KubeClient *c, const KubeResource *res, const char *name)
{
    Raw r = {0};
    CHECK(kube_object_get(c, res, "default", name, 5 * SEC, on_raw, &r, NULL) == 0);
    run_until(&r.done, 10 * SEC);
    return r.body;
}

static ElectionRecord wr(const char *holder, int32_t term)
{
    ElectionRecord r = {0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(r.holder, sizeof r.holder, "%s", holder);
    r.lease_duration_seconds = 10;
    /* the engine's writes in the Endpoints modes are whole seconds */
    r.acquire_time_usec = r.renew_time_usec = (int64_t)ts.tv_sec * (int64_t)SEC;
    r.lease_transitions = term;
    return r;
}

/* wr() in a buffer of its own, for an argument (valid until the next call). */
static const ElectionRecord *wrp(const char *holder, int32_t term)
{
    static ElectionRecord r;
    r = wr(holder, term);
    return &r;
}

static void test_api_endpoints(KubeClient *c)
{
    Lock *a = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-a");
    Lock *b = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-b");
    ElectionRecord r = wr("pod-a", 0), r2;
    Out o;
    char *body;
    LockEndpoints e = {0};

    o = do_get(a);
    CHECK(o.res.result == KUBE_E_NOT_FOUND);
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK && o.res.has_record && o.res.created);
    CHECK(strcmp(o.res.record.holder, "pod-a") == 0 && o.res.record.revision > 0);
    CHECK(o.res.record.renew_time_usec == r.renew_time_usec);
    /* A second create: AlreadyExists. */
    o = do_create(b, &r);
    CHECK(o.res.result == KUBE_E_ALREADY_EXISTS);

    /* What is stored: the annotation exactly as the old sidecar writes it. */
    body = raw_get(c, &KUBE_RESOURCE_ENDPOINTS, "ep-one");
    CHECK(body && lock_endpoints_parse(body, strlen(body), &e) == 0);
    {
        char *value = NULL;
        CHECK(lock_record_format(&r, &value, NULL) == 0);
        char *esc = malloc(2 * strlen(value) + 3);
        CHECK(json_escape(value, strlen(value), esc, 2 * strlen(value) + 3) > 0);
        CHECK(strstr(body, esc) != NULL);
        free(esc);
        free(value);
    }
    lock_endpoints_done(&e);
    free(body);

    /* b reads, a renews, b's update (on its stale copy) conflicts. */
    o = do_get(b);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-a") == 0);
    uint64_t rev_b = o.res.record.revision;
    r2 = r;
    r2.renew_time_usec += SEC;
    o = do_update(a, &r2, rev_b);
    CHECK(o.res.result == KUBE_OK && o.res.record.revision > rev_b && !o.res.created);
    CHECK(o.res.record.renew_time_usec == r2.renew_time_usec);
    ElectionRecord take = wr("pod-b", 1);
    o = do_update(b, &take, rev_b);
    CHECK(o.res.result == KUBE_E_CONFLICT);

    /* A lock without a kept object reads first, and refuses a base that is not current. */
    Lock *fresh = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-c");
    o = do_update(fresh, &take, rev_b);
    CHECK(o.res.result == KUBE_E_CONFLICT);
    lock_free(fresh);
    fresh = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-c");
    o = do_get(a);
    uint64_t cur = o.res.record.revision;
    lock_free(fresh);
    fresh = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-c");
    ElectionRecord rc = wr("pod-c", 2);
    o = do_update(fresh, &rc, cur);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-c") == 0);
    lock_free(fresh);

    /* Updates keep what others put on the object (a label, another annotation, subsets). */
    {
        Raw p = {0};
        const char *patch = "{\"metadata\":{\"labels\":{\"app\":\"x\"},\"annotations\":{\"other\":"
                            "\"kept\"}},\"subsets\":[{\"addresses\":[{\"ip\":\"10.1.2.3\"}]}]}";
        CHECK(kube_object_patch(c, &KUBE_RESOURCE_ENDPOINTS, "default", "ep-one",
                                "application/merge-patch+json", patch, strlen(patch), 5 * SEC,
                                on_raw, &p, NULL) == 0);
        run_until(&p.done, 10 * SEC);
        CHECK(p.result == KUBE_OK);
        free(p.body);
        o = do_get(a);
        ElectionRecord r3 = wr("pod-a", 3);
        o = do_update(a, &r3, o.res.record.revision);
        CHECK(o.res.result == KUBE_OK);
        body = raw_get(c, &KUBE_RESOURCE_ENDPOINTS, "ep-one");
        CHECK(body && strstr(body, "\"other\":\"kept\"") && strstr(body, "\"app\":\"x\"") &&
              strstr(body, "10.1.2.3") && strstr(body, "pod-a"));
        free(body);
    }
    lock_free(a);
    lock_free(b);
}

typedef struct Seen {
    int n;
    bool deleted;
    ElectionRecord last;
    uint64_t aux;
    bool ended;
} Seen;

static void on_event(Lock *l, const LockWatchEvent *ev, void *ud)
{
    Seen *s = ud;
    if (ev->bookmark) return;
    s->n++;
    s->deleted = ev->deleted;
    s->last = ev->record;
    s->aux = ev->aux;
}

static void on_end(Lock *l, const LockResult *res, void *ud)
{
    Seen *s = ud;
    s->ended = true;
}

static void wait_holder(Seen *s, const char *holder, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    while (now_usec() < end && !(s->n > 0 && !s->deleted && strcmp(s->last.holder, holder) == 0))
        if (sd_event_run(loop, 100000) < 0) abort();
}

static void test_api_multi(KubeClient *c)
{
    Lock *a = mklock(c, LOCK_ENDPOINTS_LEASES, "multi", "pod-a");
    Lock *w = mklock(c, LOCK_ENDPOINTS_LEASES, "multi", "pod-w");
    Lock *lease_only = mklock(c, LOCK_LEASES, "multi", "intruder");
    Lock *ep_only = mklock(c, LOCK_ENDPOINTS, "multi", "old-pod");
    ElectionRecord r = wr("pod-a", 0);
    Out o;
    Seen s = {0};
    LockOp *watch = NULL;
    char *body;

    CHECK(lock_watch(w, 0, 200 * 1000, on_event, on_end, &s, &watch) == 0);
    run_until(&s.deleted, 3 * SEC);
    CHECK(s.deleted); /* nothing there yet */

    o = do_get(a);
    CHECK(o.res.result == KUBE_E_NOT_FOUND);
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-a") == 0);
    CHECK(o.res.aux != 0 && o.res.created);
    /* Both objects hold the record. */
    body = raw_get(c, &KUBE_RESOURCE_LEASES, "multi");
    CHECK(body && strstr(body, "\"holderIdentity\":\"pod-a\""));
    free(body);
    body = raw_get(c, &KUBE_RESOURCE_ENDPOINTS, "multi");
    CHECK(body && strstr(body, "pod-a"));
    free(body);
    wait_holder(&s, "pod-a", 3 * SEC);
    CHECK(strcmp(s.last.holder, "pod-a") == 0 && s.aux == o.res.aux);
    /* Events name both objects, as client-go's MultiLock.RecordEvent: the Endpoints, then the
     * Lease, each with the uid and resourceVersion the server returned. */
    {
        LockObjectRef ev[2];
        CHECK(lock_event_objects(a, ev) == 2);
        CHECK(strcmp(ev[0].kind, "Endpoints") == 0 && strcmp(ev[0].api_version, "v1") == 0);
        CHECK(strcmp(ev[1].kind, "Lease") == 0 &&
              strcmp(ev[1].api_version, "coordination.k8s.io/v1") == 0);
        CHECK(strcmp(ev[0].name, "multi") == 0 && strcmp(ev[1].name, "multi") == 0);
        CHECK(ev[0].uid && *ev[0].uid && ev[1].uid && *ev[1].uid &&
              strcmp(ev[0].uid, ev[1].uid) != 0);
        CHECK(ev[0].resource_version && *ev[0].resource_version && ev[1].resource_version &&
              *ev[1].resource_version);
        CHECK(lock_event_objects(ep_only, ev) == 1 && strcmp(ev[0].kind, "Endpoints") == 0);
    }

    /* A renew writes both; the watcher sees it. */
    ElectionRecord r2 = r;
    r2.renew_time_usec += 2 * SEC;
    o = do_update(a, &r2, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK && o.res.record.renew_time_usec == r2.renew_time_usec);
    {
        uint64_t end = now_usec() + 3 * SEC;
        while (now_usec() < end && s.last.renew_time_usec != r2.renew_time_usec)
            sd_event_run(loop, 100000);
        CHECK(s.last.renew_time_usec == r2.renew_time_usec);
    }

    /* Someone writes only the Lease: the holders disagree: UnknownLeader. */
    o = do_get(lease_only);
    ElectionRecord in = wr("intruder", 5);
    o = do_update(lease_only, &in, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    wait_holder(&s, LOCK_UNKNOWN_LEADER, 3 * SEC);
    CHECK(strcmp(s.last.holder, LOCK_UNKNOWN_LEADER) == 0);
    o = do_get(a);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, LOCK_UNKNOWN_LEADER) == 0);

    /* An old client takes the Endpoints: still unknown; the next MultiLock write follows it. */
    o = do_get(ep_only);
    ElectionRecord old = wr("old-pod", 6);
    o = do_update(ep_only, &old, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    o = do_get(a);
    CHECK(strcmp(o.res.record.holder, LOCK_UNKNOWN_LEADER) == 0);
    ElectionRecord r3 = wr("pod-a", 7);
    o = do_update(a, &r3, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-a") == 0);
    body = raw_get(c, &KUBE_RESOURCE_LEASES, "multi");
    CHECK(body && strstr(body, "\"holderIdentity\":\"pod-a\"") &&
          strstr(body, "\"leaseTransitions\":7"));
    free(body);

    /* The Lease deleted under us: the Endpoints naming us is not a claim any more; the next
     * write re-creates the Lease. */
    {
        Raw d = {0};
        CHECK(kube_lease_delete(c, "default", "multi", NULL, 5 * SEC, on_raw, &d, NULL) == 0);
        run_until(&d.done, 10 * SEC);
        free(d.body);
    }
    o = do_get(a);
    CHECK(strcmp(o.res.record.holder, LOCK_UNKNOWN_LEADER) == 0 && o.res.aux == 0);
    ElectionRecord r4 = wr("pod-a", 8);
    o = do_update(a, &r4, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-a") == 0);

    /* A Lease written after our last look (a Lease-only candidate) is not overwritten: the op
     * fails with a conflict once the Endpoints is written, and the Lease keeps its holder. */
    o = do_get(lease_only);
    CHECK(o.res.result == KUBE_OK);
    ElectionRecord in2 = wr("intruder", 9);
    o = do_update(lease_only, &in2, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    ElectionRecord r5 = wr("pod-a", 10);
    o = do_update(a, &r5, 0);
    CHECK(o.res.result == KUBE_E_CONFLICT);
    CHECK(strstr(o.error, "endpoints written, lease not") != NULL);
    body = raw_get(c, &KUBE_RESOURCE_LEASES, "multi");
    CHECK(body && strstr(body, "\"holderIdentity\":\"intruder\""));
    free(body);
    o = do_get(a);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, LOCK_UNKNOWN_LEADER) == 0);

    /* A Lease without its Endpoints (the Endpoints deleted by hand): "not found", and the
     * create that follows writes the Lease on top of the one there. */
    {
        Lock *l2 = mklock(c, LOCK_LEASES, "multi2", "someone");
        Lock *a2 = mklock(c, LOCK_ENDPOINTS_LEASES, "multi2", "pod-a");
        ElectionRecord released = wr("", 11);
        o = do_create(l2, &released);
        CHECK(o.res.result == KUBE_OK);
        o = do_get(a2);
        CHECK(o.res.result == KUBE_E_NOT_FOUND);
        ElectionRecord r6 = wr("pod-a", 12);
        o = do_create(a2, &r6);
        CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-a") == 0);
        body = raw_get(c, &KUBE_RESOURCE_LEASES, "multi2");
        CHECK(body && strstr(body, "\"holderIdentity\":\"pod-a\""));
        free(body);
        lock_free(a2);
        lock_free(l2);
    }

    lock_op_cancel(watch);
    lock_free(a);
    lock_free(w);
    lock_free(lease_only);
    lock_free(ep_only);
}

static size_t discard(char *d, size_t sz, size_t n, void *ud)
{
    return sz * n;
}

/* The test server's admin API (blocking is fine in a test). */
static long admin(const char *method, const char *path, const char *body)
{
    char url[1024], auth[512];
    struct curl_slist *h = NULL;
    long code = 0;
    CURL *e = curl_easy_init();

    snprintf(url, sizeof url, "%s%s", getenv("KUBEAPI_URL"), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("KUBEAPI_ADMIN_TOKEN"));
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, getenv("KUBEAPI_CA"));
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    if (body) curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return code;
}

typedef struct Body {
    char *p;
    size_t n;
} Body;

static size_t collect(char *d, size_t sz, size_t n, void *ud)
{
    Body *b = ud;
    char *q = realloc(b->p, b->n + sz * n + 1);
    if (!q) return 0;
    b->p = q;
    memcpy(b->p + b->n, d, sz * n);
    b->n += sz * n;
    b->p[b->n] = 0;
    return sz * n;
}

/* GET of the test server's admin API: the body, or NULL. */
static char *admin_get(const char *path)
{
    char url[1024], auth[512];
    struct curl_slist *h = NULL;
    Body b = {0};
    long code = 0;
    CURL *e = curl_easy_init();

    snprintf(url, sizeof url, "%s%s", getenv("KUBEAPI_URL"), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("KUBEAPI_ADMIN_TOKEN"));
    h = curl_slist_append(h, auth);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, getenv("KUBEAPI_CA"));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (code != 200) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Requests of one test server user with one verb (every status) since the stats were reset. */
static long requests_of(const char *user, const char *verb)
{
    char *body = admin_get("/_admin/stats");
    JsonDoc *d = NULL;
    long n = 0;

    CHECK(body && json_parse(body, strlen(body), 0, &d) == 0);
    if (d) {
        int codes = json_get_path(d, 0, "requests", user, verb, NULL);
        if (json_type(d, codes) == JSON_OBJECT)
            for (int k = json_first(d, codes); k >= 0; k = json_next(d, k)) {
                int64_t v = 0;
                if (json_int64(d, k + 1, &v) == 0) n += (long)v;
            }
    }
    json_free(d);
    free(body);
    return n;
}

static void run_for(uint64_t usec)
{
    uint64_t end = now_usec() + usec;
    while (now_usec() < end)
        if (sd_event_run(loop, 50000) < 0) abort();
}

/* A 403 for one user's watches of Endpoints, as RBAC without "watch" on them answers. */
static long refuse_endpoints_watch(const char *user)
{
    char spec[2048];
    snprintf(spec, sizeof spec,
             "{\"client\":\"%s\",\"kind\":\"body\",\"code\":403,\"verbs\":[\"watch\"],"
             "\"resources\":[\"endpoints\"],\"body\":\"{\\\"kind\\\":\\\"Status\\\","
             "\\\"apiVersion\\\":\\\"v1\\\",\\\"metadata\\\":{},\\\"status\\\":\\\"Failure\\\","
             "\\\"message\\\":\\\"endpoints is forbidden: User \\\\\\\"%s\\\\\\\" cannot watch "
             "resource \\\\\\\"endpoints\\\\\\\" in API group \\\\\\\"\\\\\\\" in the namespace "
             "\\\\\\\"default\\\\\\\"\\\",\\\"reason\\\":\\\"Forbidden\\\",\\\"details\\\":{"
             "\\\"kind\\\":\\\"endpoints\\\"},\\\"code\\\":403}\"}",
             user, user);
    return admin("POST", "/_admin/faults", spec);
}

static bool same_record(const ElectionRecord *a, const ElectionRecord *b)
{
    return strcmp(a->holder, b->holder) == 0 &&
           a->lease_duration_seconds == b->lease_duration_seconds &&
           a->acquire_time_usec == b->acquire_time_usec &&
           a->renew_time_usec == b->renew_time_usec &&
           a->lease_transitions == b->lease_transitions && a->revision == b->revision;
}

/* Waits until the watch shows what a read of the lock (reader: same type and identity as the
 * watcher's lock) returns now: the same record, revision and aux, or the same absence. */
static bool shows_read(Seen *s, Lock *reader, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    Out o = do_get(reader);
    bool absent = o.res.result == KUBE_E_NOT_FOUND;

    CHECK(o.res.result == KUBE_OK || absent);
    while (now_usec() < end) {
        if (s->n > 0 &&
            (absent ? s->deleted
                    : !s->deleted && same_record(&s->last, &o.res.record) && s->aux == o.res.aux))
            return true;
        if (sd_event_run(loop, 50000) < 0) abort();
    }
    fprintf(stderr,
            "watch shows holder \"%s\" rev %" PRIu64 " aux %" PRIx64
            "%s; a read: \"%s\" rev %" PRIu64 " aux %" PRIx64 "%s\n",
            s->last.holder, s->last.revision, s->aux, s->deleted ? " (deleted)" : "",
            o.res.record.holder, o.res.record.revision, o.res.aux, absent ? " (absent)" : "");
    return false;
}

/* The Endpoints lock is watched, not polled: changes arrive with no GET after the first read. */
static void test_api_watch_endpoints(KubeClient *c)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_2"); /* user candidate-2 */
    Lock *w = mklock(cw, LOCK_ENDPOINTS, "ep-stream", "pod-w");
    Lock *a = mklock(c, LOCK_ENDPOINTS, "ep-stream", "pod-a");
    Lock *reader = mklock(c, LOCK_ENDPOINTS, "ep-stream", "pod-w");
    ElectionRecord r = wr("pod-a", 0);
    Seen s = {0};
    LockOp *watch = NULL;
    Out o;

    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(lock_watch(w, 30 * SEC, 100 * 1000, on_event, on_end, &s, &watch) == 0);
    run_until(&s.deleted, 3 * SEC);
    CHECK(s.deleted && s.n == 1 && s.last.revision == 0); /* the first read found none */
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK);
    wait_holder(&s, "pod-a", 3 * SEC);
    CHECK(shows_read(&s, reader, 3 * SEC));
    for (int i = 1; i <= 3; i++) {
        ElectionRecord r2 = r;
        r2.renew_time_usec += i * SEC;
        o = do_update(a, &r2, o.res.record.revision);
        CHECK(o.res.result == KUBE_OK);
        CHECK(shows_read(&s, reader, 3 * SEC));
    }
    /* Another holder, then a label edit (a new revision, the same record). */
    o = do_update(a, &(ElectionRecord){.holder = "pod-b", .lease_transitions = 1}, 0);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC));
    {
        Raw p = {0};
        const char *patch = "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}";
        CHECK(kube_object_patch(c, &KUBE_RESOURCE_ENDPOINTS, "default", "ep-stream",
                                "application/merge-patch+json", patch, strlen(patch), 5 * SEC,
                                on_raw, &p, NULL) == 0);
        run_until(&p.done, 10 * SEC);
        CHECK(p.result == KUBE_OK);
        free(p.body);
    }
    CHECK(shows_read(&s, reader, 3 * SEC));
    run_for(1 * SEC); /* ten poll periods */
    /* One read at the start, one watch; nothing else. */
    fprintf(stderr, "endpoints watch: %ld get, %ld watch\n", requests_of("candidate-2", "get"),
            requests_of("candidate-2", "watch"));
    CHECK(requests_of("candidate-2", "get") == 1);
    CHECK(requests_of("candidate-2", "watch") == 1);
    /* Deleted, re-created. */
    {
        Raw d = {0};
        CHECK(kube_object_delete(c, &KUBE_RESOURCE_ENDPOINTS, "default", "ep-stream", 5 * SEC,
                                 on_raw, &d, NULL) == 0);
        run_until(&d.done, 10 * SEC);
        CHECK(d.result == KUBE_OK);
        free(d.body);
    }
    CHECK(shows_read(&s, reader, 3 * SEC) && s.deleted && s.last.revision == 0);
    lock_free(a);
    a = mklock(c, LOCK_ENDPOINTS, "ep-stream", "pod-a");
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC) && !s.deleted);
    CHECK(!s.ended);
    lock_op_cancel(watch);
    lock_free(w);
    lock_free(a);
    lock_free(reader);
    kube_client_free(cw);
}

/* The MultiLock: two streams, every event shows what a read of both objects shows. */
static void test_api_watch_multi(KubeClient *c)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_3"); /* user candidate-3 */
    Lock *w = mklock(cw, LOCK_ENDPOINTS_LEASES, "multi-s", "pod-w");
    Lock *reader = mklock(c, LOCK_ENDPOINTS_LEASES, "multi-s", "pod-w");
    Lock *a = mklock(c, LOCK_ENDPOINTS_LEASES, "multi-s", "pod-a");
    Lock *wself = mklock(c, LOCK_ENDPOINTS_LEASES, "multi-s", "pod-w");
    Lock *lease_only = mklock(c, LOCK_LEASES, "multi-s", "intruder");
    Lock *ep_only = mklock(c, LOCK_ENDPOINTS, "multi-s", "old-pod");
    Seen s = {0};
    LockOp *watch = NULL;
    Out o;

    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(lock_watch(w, 30 * SEC, 100 * 1000, on_event, on_end, &s, &watch) == 0);
    run_until(&s.deleted, 3 * SEC);
    CHECK(s.deleted && s.n == 1);
    ElectionRecord r = wr("pod-a", 0);
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC));
    r = wr("pod-a", 1);
    o = do_update(a, &r, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK && o.res.aux != 0);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-a") == 0);
    r.renew_time_usec += SEC;
    o = do_update(a, &r, o.res.record.revision);
    CHECK(shows_read(&s, reader, 3 * SEC) && s.last.renew_time_usec == r.renew_time_usec);
    /* The Lease alone changes: a new aux, the holders disagree. */
    o = do_get(lease_only);
    o = do_update(lease_only, wrp("intruder", 5), o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, LOCK_UNKNOWN_LEADER) == 0);
    /* An old client takes the Endpoints. */
    o = do_get(ep_only);
    o = do_update(ep_only, wrp("old-pod", 6), o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC));
    /* Both name the watcher: the combined record as a read of it shows it. */
    o = do_get(wself);
    o = do_update(wself, wrp("pod-w", 7), o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-w") == 0);
    /* The Lease deleted: the Endpoints naming the watcher alone is no claim; aux 0. */
    {
        Raw d = {0};
        CHECK(kube_lease_delete(c, "default", "multi-s", NULL, 5 * SEC, on_raw, &d, NULL) == 0);
        run_until(&d.done, 10 * SEC);
        free(d.body);
    }
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, LOCK_UNKNOWN_LEADER) == 0 &&
          s.aux == 0);
    o = do_get(a);
    o = do_update(a, wrp("pod-a", 8), o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-a") == 0 && s.aux != 0);
    run_for(1 * SEC);
    /* The first read (the Endpoints and the Lease), two streams; nothing else. */
    fprintf(stderr, "multilock watch: %ld get, %ld watch\n", requests_of("candidate-3", "get"),
            requests_of("candidate-3", "watch"));
    CHECK(requests_of("candidate-3", "get") == 2);
    CHECK(requests_of("candidate-3", "watch") == 2);
    /* The Endpoints deleted: deleted, whatever the Lease. */
    {
        Raw d = {0};
        CHECK(kube_object_delete(c, &KUBE_RESOURCE_ENDPOINTS, "default", "multi-s", 5 * SEC, on_raw,
                                 &d, NULL) == 0);
        run_until(&d.done, 10 * SEC);
        CHECK(d.result == KUBE_OK);
        free(d.body);
    }
    CHECK(shows_read(&s, reader, 3 * SEC) && s.deleted && s.last.revision == 0);
    CHECK(!s.ended);
    lock_op_cancel(watch);
    lock_free(w);
    lock_free(reader);
    lock_free(a);
    lock_free(wself);
    lock_free(lease_only);
    lock_free(ep_only);
    kube_client_free(cw);
}

typedef struct Trace {
    int n, unknown;
    ElectionRecord last;
} Trace;

static void on_trace(Lock *l, const LockWatchEvent *ev, void *ud)
{
    Trace *t = ud;
    if (ev->bookmark || ev->deleted) return;
    t->n++;
    t->last = ev->record;
    if (strcmp(ev->record.holder, LOCK_UNKNOWN_LEADER) == 0) t->unknown++;
}

static void on_trace_end(Lock *l, const LockResult *res, void *ud)
{
    abort(); /* never in this test */
}

/* Our own MultiLock writes are never shown half done (the Endpoints written, the Lease not yet),
 * as a poll's read that one of them overlapped was never delivered; the state is shown once
 * they are done. The negative control: another lock's watch on the same objects does see the
 * half-done writes (the Lease writes are slowed down), so the check can fail. */
static void test_api_watch_own_writes(void)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_7"); /* user candidate-7: slow Lease writes */
    KubeClient *co = client("KUBEAPI_TOKEN_FILE_8");
    Lock *a = mklock(cw, LOCK_ENDPOINTS_LEASES, "held", "pod-a");
    Lock *other = mklock(co, LOCK_ENDPOINTS_LEASES, "held", "pod-o");
    Trace own = {0}, ctl = {0};
    LockOp *w1 = NULL, *w2 = NULL;
    Out o;

    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"candidate-7\",\"kind\":\"latency\",\"ms\":300,"
                "\"verbs\":[\"update\",\"create\"],\"resources\":[\"leases\"]}") == 201);
    CHECK(lock_watch(a, 30 * SEC, 100 * 1000, on_trace, on_trace_end, &own, &w1) == 0);
    CHECK(lock_watch(other, 30 * SEC, 100 * 1000, on_trace, on_trace_end, &ctl, &w2) == 0);
    run_for(500 * 1000);
    o = do_create(a, wrp("h0", 1));
    CHECK(o.res.result == KUBE_OK);
    for (int i = 0; i < 6; i++) {
        char h[8];
        snprintf(h, sizeof h, "h%d", (i + 1) % 2);
        ElectionRecord r = wr(h, 2 + i);
        r.renew_time_usec += (i + 1) * SEC;
        o = do_update(a, &r, o.res.record.revision);
        CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, h) == 0);
        /* Shown once the write is done: its record. */
        uint64_t end = now_usec() + 2 * SEC;
        while (now_usec() < end && !(own.n > 0 && same_record(&own.last, &o.res.record)))
            sd_event_run(loop, 50000);
        CHECK(same_record(&own.last, &o.res.record));
    }
    run_for(500 * 1000);
    fprintf(stderr,
            "own writes: %d events, %d unknown; another lock's watch: %d events, %d "
            "unknown\n",
            own.n, own.unknown, ctl.n, ctl.unknown);
    CHECK(own.n > 0 && own.unknown == 0);
    CHECK(ctl.unknown > 0); /* the negative control */
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    lock_op_cancel(w1);
    lock_op_cancel(w2);
    lock_free(a);
    lock_free(other);
    kube_client_free(cw);
    kube_client_free(co);
}

/* A MultiLock write whose Endpoints PUT is in flight while a Lease-only candidate writes the Lease
 * (the move to --lock leases): the Lease stream brings that write to this lock before the
 * Endpoints answer; the Lease step must not be built on it (overwriting a claim the decision
 * never saw) but fail as a conflict, the Lease keeping the other holder. */
static void test_api_watch_lease_written_meanwhile(KubeClient *c)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_9"); /* user candidate-9: slow Endpoints writes */
    Lock *a = mklock(cw, LOCK_ENDPOINTS_LEASES, "meanwhile", "pod-a");
    Lock *lease_only = mklock(c, LOCK_LEASES, "meanwhile", "intruder");
    Trace own = {0};
    LockOp *w = NULL;
    Out o, up = {0};
    char *body;

    CHECK(lock_watch(a, 30 * SEC, 100 * 1000, on_trace, on_trace_end, &own, &w) == 0);
    run_for(300 * 1000);
    o = do_create(a, wrp("pod-a", 1));
    CHECK(o.res.result == KUBE_OK);
    run_for(300 * 1000);
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"candidate-9\",\"kind\":\"latency\",\"ms\":600,"
                "\"verbs\":[\"update\"],\"resources\":[\"endpoints\"]}") == 201);
    ElectionRecord r2 = wr("pod-a", 1);
    r2.renew_time_usec += 2 * SEC;
    CHECK(lock_update(a, &r2, o.res.record.revision, 5 * SEC, on_done, &up, NULL) == 0);
    /* While the renew's Endpoints PUT waits: the Lease-only candidate takes the Lease. */
    Out g = do_get(lease_only);
    CHECK(g.res.result == KUBE_OK && !up.done);
    Out in = do_update(lease_only, wrp("intruder", 2), g.res.record.revision);
    CHECK(in.res.result == KUBE_OK && !up.done);
    run_until(&up.done, 10 * SEC);
    CHECK(up.done);
    fprintf(stderr, "lease written meanwhile: result %d (%s)\n", up.res.result, up.error);
    CHECK(up.res.result == KUBE_E_CONFLICT);
    CHECK(strstr(up.error, "endpoints written, lease not") != NULL);
    body = raw_get(c, &KUBE_RESOURCE_LEASES, "meanwhile");
    CHECK(body && strstr(body, "\"holderIdentity\":\"intruder\""));
    free(body);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    lock_op_cancel(w);
    lock_free(a);
    lock_free(lease_only);
    kube_client_free(cw);
}

/* The server refuses the watch (RBAC without "watch" on endpoints: the deploy manifests of old):
 * the lock reads every poll period instead, as it always did, for good. */
static void test_api_watch_refused(KubeClient *c)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_4"); /* user candidate-4 */
    Lock *w = mklock(cw, LOCK_ENDPOINTS_LEASES, "refused", "pod-w");
    Lock *reader = mklock(c, LOCK_ENDPOINTS_LEASES, "refused", "pod-w");
    Lock *a = mklock(c, LOCK_ENDPOINTS_LEASES, "refused", "pod-a");
    Seen s = {0};
    LockOp *watch = NULL;
    Out o;

    CHECK(refuse_endpoints_watch("candidate-4") == 201);
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(lock_watch(w, 30 * SEC, 100 * 1000, on_event, on_end, &s, &watch) == 0);
    run_until(&s.deleted, 3 * SEC);
    CHECK(s.deleted);
    o = do_create(a, wrp("pod-a", 0));
    CHECK(o.res.result == KUBE_OK);
    CHECK(shows_read(&s, reader, 3 * SEC));
    o = do_update(a, wrp("pod-a", 1), o.res.record.revision);
    CHECK(shows_read(&s, reader, 3 * SEC));
    long g0 = requests_of("candidate-4", "get"), w0 = requests_of("candidate-4", "watch");
    run_for(1 * SEC);
    long g1 = requests_of("candidate-4", "get"), w1 = requests_of("candidate-4", "watch");
    fprintf(stderr, "refused watch: %ld -> %ld watch requests, %ld -> %ld get in 1 s\n", w0, w1, g0,
            g1);
    CHECK(g1 - g0 >= 10); /* the Endpoints and the Lease, every 100 ms */
    /* The Endpoints' stream refused, the Lease's started and stopped (the server may not have
     * seen it): never again. */
    CHECK(w0 >= 1 && w0 <= 2 && w1 == w0 && !s.ended);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    lock_op_cancel(watch);
    lock_free(w);
    lock_free(reader);
    lock_free(a);
    kube_client_free(cw);
}

/* A stream whose history is gone (410): from the resourceVersion just read (an object nobody wrote
 * since before the server's window): watched from now; after an outage: read afresh. */
static void test_api_watch_expired(KubeClient *c)
{
    KubeClient *cw = client("KUBEAPI_TOKEN_FILE_6"); /* user candidate-6 */
    Lock *w = mklock(cw, LOCK_ENDPOINTS, "quiet", "pod-w");
    Lock *reader = mklock(c, LOCK_ENDPOINTS, "quiet", "pod-w");
    Lock *a = mklock(c, LOCK_ENDPOINTS, "quiet", "pod-a");
    Seen s = {0};
    LockOp *watch = NULL;
    Out o;

    o = do_create(a, wrp("pod-a", 0));
    CHECK(o.res.result == KUBE_OK);
    {
        /* Written after it: the history that goes is newer than the object. */
        Lock *x = mklock(c, LOCK_ENDPOINTS, "quiet-other", "pod-x");
        CHECK(do_create(x, wrp("pod-x", 0)).res.result == KUBE_OK);
        lock_free(x);
    }
    CHECK(admin("POST", "/_admin/reset-history", NULL) == 200);
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(lock_watch(w, 30 * SEC, 100 * 1000, on_event, on_end, &s, &watch) == 0);
    wait_holder(&s, "pod-a", 3 * SEC);
    o = do_update(a, wrp("pod-b", 1), o.res.record.revision);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-b") == 0);
    fprintf(stderr, "expired at the start: %ld get, %ld watch\n", requests_of("candidate-6", "get"),
            requests_of("candidate-6", "watch"));
    CHECK(requests_of("candidate-6", "get") == 1 && requests_of("candidate-6", "watch") == 2);

    /* Cut off; meanwhile a change and the history gone: the resumed stream gets 410, the lock
     * reads afresh and shows the change. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"candidate-6\",\"kind\":\"partition\",\"mode\":\"cut\"}") == 201);
    run_for(700 * 1000);
    o = do_update(a, wrp("pod-c", 2), o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    CHECK(admin("POST", "/_admin/reset-history", NULL) == 200);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    wait_holder(&s, "pod-c", 10 * SEC);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-c") == 0);
    long g = requests_of("candidate-6", "get");
    CHECK(g >= 2);
    /* Streams again: the next change without a read. */
    o = do_update(a, wrp("pod-d", 3), o.res.record.revision);
    CHECK(shows_read(&s, reader, 3 * SEC) && strcmp(s.last.holder, "pod-d") == 0);
    run_for(1 * SEC);
    CHECK(requests_of("candidate-6", "get") == g);
    CHECK(!s.ended);
    lock_op_cancel(watch);
    lock_free(w);
    lock_free(reader);
    lock_free(a);
    kube_client_free(cw);
}

static int interrupts;
static void on_interrupt(Lock *l, const char *why, void *ud)
{
    interrupts++;
}

/* A watch that loses the API says so (interrupt), resumes by itself, and delivers again once the
 * API is back: streams (a partition) and, the watch refused, reads (500s). */
static void test_api_watch_interrupt(KubeClient *c, bool polled)
{
    KubeClient *c1 = client(polled ? "KUBEAPI_TOKEN_FILE_5" : "KUBEAPI_TOKEN_FILE_1");
    const char *user = polled ? "candidate-5" : "candidate-1";
    Lock *w = mklock(c1, LOCK_ENDPOINTS, "ep-one", "pod-w");
    Lock *a = mklock(c, LOCK_ENDPOINTS, "ep-one", "pod-i");
    Seen s = {0};
    LockOp *watch = NULL;
    char spec[256];
    Out o;

    interrupts = 0;
    if (polled) CHECK(refuse_endpoints_watch(user) == 201);
    CHECK(lock_watch(w, 0, 100 * 1000, on_event, on_end, &s, &watch) == 0);
    lock_watch_set_interrupt(watch, on_interrupt);
    run_until(&s.ended, 1 * SEC);
    CHECK(s.n > 0 && interrupts == 0);
    if (polled)
        snprintf(spec, sizeof spec, "{\"client\":\"%s\",\"kind\":\"status\",\"code\":500}", user);
    else
        snprintf(spec, sizeof spec, "{\"client\":\"%s\",\"kind\":\"partition\",\"mode\":\"cut\"}",
                 user);
    CHECK(admin("POST", "/_admin/faults", spec) == 201);
    {
        uint64_t end = now_usec() + 3 * SEC;
        while (interrupts == 0 && now_usec() < end)
            sd_event_run(loop, 100000);
    }
    CHECK(interrupts > 0 && !s.ended);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    int n = s.n;
    o = do_get(a);
    CHECK(o.res.result == KUBE_OK);
    ElectionRecord r = wr(polled ? "after-500s" : "after-partition", 40);
    o = do_update(a, &r, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK);
    wait_holder(&s, r.holder, 10 * SEC);
    CHECK(s.n > n && strcmp(s.last.holder, r.holder) == 0 && !s.ended);
    lock_op_cancel(watch);
    lock_free(w);
    lock_free(a);
    kube_client_free(c1);
}

static void test_api_leases(KubeClient *c)
{
    Lock *a = mklock(c, LOCK_LEASES, "plain", "pod-a");
    ElectionRecord r = wr("pod-a", 0);
    Seen s = {0};
    LockOp *watch = NULL;
    Out o;

    r.renew_time_usec += 123456; /* µs survive in a Lease */
    CHECK(lock_watch(a, 30 * SEC, 0, on_event, on_end, &s, &watch) == 0);
    o = do_create(a, &r);
    CHECK(o.res.result == KUBE_OK && o.res.record.renew_time_usec == r.renew_time_usec);
    CHECK(o.res.created);
    wait_holder(&s, "pod-a", 3 * SEC);
    CHECK(s.n > 0 && s.last.revision == o.res.record.revision);
    r.renew_time_usec += SEC;
    o = do_update(a, &r, o.res.record.revision);
    CHECK(o.res.result == KUBE_OK && o.res.record.renew_time_usec == r.renew_time_usec);
    LockObjectRef ref, evref[2];
    lock_object_ref(a, &ref);
    CHECK(strcmp(ref.kind, "Lease") == 0 && ref.uid && *ref.uid);
    CHECK(lock_event_objects(a, evref) == 1 && strcmp(evref[0].kind, "Lease") == 0 &&
          strcmp(evref[0].uid, ref.uid) == 0 && evref[0].resource_version &&
          *evref[0].resource_version);
    lock_op_cancel(watch);
    lock_free(a);
}

/* An update of the Lease is made on the revision the caller decided on (base_revision), never on
 * a newer object kept meanwhile: kept newer -> conflict, nothing written; kept older than the
 * base -> read first, and written when the read is the base. */
static void test_api_lease_base_revision(KubeClient *c)
{
    Lock *a = mklock(c, LOCK_LEASES, "based", "pod-a");
    Lock *b = mklock(c, LOCK_LEASES, "based", "pod-b");
    ElectionRecord ra = wr("pod-a", 3), rb = wr("pod-b", 4);
    Out o, g;
    uint64_t rev1, rev2;

    ra.renew_time_usec += 1000;
    o = do_create(a, &ra);
    CHECK(o.res.result == KUBE_OK);
    rev1 = o.res.record.revision;
    g = do_get(b);
    CHECK(g.res.result == KUBE_OK && g.res.record.revision == rev1);
    ra.renew_time_usec += SEC;
    o = do_update(a, &ra, rev1);
    CHECK(o.res.result == KUBE_OK);
    rev2 = o.res.record.revision;
    /* b keeps rev1, decides on rev2 (as a watch event would have told the engine): read first */
    rb.renew_time_usec += 2000;
    o = do_update(b, &rb, rev2);
    CHECK(o.res.result == KUBE_OK);
    CHECK(o.res.result == KUBE_OK && strcmp(o.res.record.holder, "pod-b") == 0);
    /* b wrote rev3; a reads it (keeps it) but decides on rev2, as an engine that has not seen
     * rev3 yet would: the newer Lease must not be overwritten */
    g = do_get(a);
    CHECK(g.res.result == KUBE_OK && strcmp(g.res.record.holder, "pod-b") == 0);
    ra.renew_time_usec += SEC;
    o = do_update(a, &ra, rev2);
    CHECK(o.res.result == KUBE_E_CONFLICT);
    g = do_get(b);
    CHECK(g.res.result == KUBE_OK && strcmp(g.res.record.holder, "pod-b") == 0);
    lock_free(a);
    lock_free(b);
}

static void test_api_events(KubeClient *c, KubeClient *ro)
{
    Events *ev = NULL, *denied = NULL;
    EventsConfig cfg = {.host = "pod-a", .queue_max = 2};
    EventObjectRef obj = {.kind = "Lease",
                          .api_version = "coordination.k8s.io/v1",
                          .name = "plain",
                          .namespace_ = "default"};
    EventsStats st;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wall = (int64_t)ts.tv_sec * (int64_t)SEC + ts.tv_nsec / 1000;
    CHECK(events_new(loop, c, &cfg, &ev) == 0);
    CHECK(events_post(ev, &obj, "Normal", EVENTS_REASON, "pod-a became leader", wall) == 0);
    CHECK(events_post(ev, &obj, "Normal", EVENTS_REASON, "pod-a stopped leading", wall + 1) == 0);
    /* Bounded: the third is dropped at once, nothing blocks. */
    CHECK(events_post(ev, &obj, "Normal", EVENTS_REASON, "x", wall + 2) == -ENOBUFS);
    {
        uint64_t end = now_usec() + 5 * SEC;
        do {
            sd_event_run(loop, 100000);
            events_stats(ev, &st);
        } while (st.pending > 0 && now_usec() < end);
    }
    CHECK(st.posted == 2 && st.dropped == 1 && st.failed == 0);
    {
        Raw r = {0};
        CHECK(kube_object_list(c, &KUBE_RESOURCE_EVENTS, "default", NULL, 5 * SEC, on_raw, &r,
                               NULL) == 0);
        run_until(&r.done, 10 * SEC);
        CHECK(r.body && strstr(r.body, "pod-a became leader") &&
              strstr(r.body, "pod-a stopped leading") && strstr(r.body, "\"LeaderElection\""));
        free(r.body);
    }
    /* A read-only account (403): dropped, counted, and the poster keeps working. */
    CHECK(events_new(loop, ro, &cfg, &denied) == 0);
    CHECK(events_post(denied, &obj, "Normal", EVENTS_REASON, "denied", wall) == 0);
    {
        uint64_t end = now_usec() + 5 * SEC;
        do {
            sd_event_run(loop, 100000);
            events_stats(denied, &st);
        } while (st.pending > 0 && now_usec() < end);
    }
    CHECK(st.failed == 1 && st.posted == 0 && st.pending == 0);
    CHECK(events_post(denied, &obj, "Normal", EVENTS_REASON, "again", wall) == 0);
    events_free(denied);
    events_free(ev);
    /* One transition posts on objects of the same name at the same instant (the MultiLock's
     * Endpoints and Lease): the Event names must differ, or the second create is refused (409
     * AlreadyExists) and the Event lost. */
    {
        Events *same = NULL;
        EventObjectRef ep = obj;
        EventsConfig c4 = {.host = "pod-a", .queue_max = 4};
        ep.kind = "Endpoints";
        ep.api_version = "v1";
        ep.name = "same-name";
        obj.name = "same-name";
        CHECK(events_new(loop, c, &c4, &same) == 0);
        CHECK(events_post(same, &ep, "Normal", EVENTS_REASON, "pod-a became leader", wall) == 0);
        CHECK(events_post(same, &obj, "Normal", EVENTS_REASON, "pod-a became leader", wall) == 0);
        CHECK(events_post(same, &obj, "Normal", EVENTS_REASON, "earlier", wall - 5) == 0);
        uint64_t end = now_usec() + 5 * SEC;
        do {
            sd_event_run(loop, 100000);
            events_stats(same, &st);
        } while (st.pending > 0 && now_usec() < end);
        CHECK(st.posted == 3 && st.failed == 0);
        events_free(same);
    }
}

static int run_api(void)
{
    KubeClient *c, *ro;

    if (!getenv("KUBEAPI_URL")) {
        fprintf(stderr, "run under tests/server/with-apiserver.py\n");
        return 2;
    }
    if (sd_event_new(&loop) < 0) abort();
    c = client("KUBEAPI_TOKEN_FILE");
    ro = client("KUBEAPI_RO_TOKEN_FILE");
    test_api_endpoints(c);
    test_api_multi(c);
    test_api_watch_endpoints(c);
    test_api_watch_multi(c);
    test_api_watch_own_writes();
    test_api_watch_lease_written_meanwhile(c);
    test_api_watch_refused(c);
    test_api_watch_expired(c);
    test_api_watch_interrupt(c, false);
    test_api_watch_interrupt(c, true);
    test_api_leases(c);
    test_api_lease_base_revision(c);
    test_api_events(c, ro);
    kube_client_free(ro);
    kube_client_free(c);
    sd_event_unref(loop);
    return 0;
}

#endif

int main(int argc, char **argv)
{
    int r;

    if (argc >= 3 && strcmp(argv[1], "unit") == 0) r = run_unit(argv[2]);
#ifndef TEST_LOCK_CODEC_ONLY
    else if (argc >= 2 && strcmp(argv[1], "events") == 0) {
        test_event_body();
        r = 0;
    } else if (argc >= 2 && strcmp(argv[1], "api") == 0)
        r = run_api();
#endif
    else {
#ifdef TEST_LOCK_CODEC_ONLY
        fprintf(stderr, "usage: %s unit DATADIR\n", argv[0]);
#else
        fprintf(stderr, "usage: %s unit DATADIR | events | api\n", argv[0]);
#endif
        return 2;
    }
    if (r) return r;
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_lock %s: ok\n", argv[1]);
    return 0;
}
