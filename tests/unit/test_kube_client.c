/* SPDX-License-Identifier: MIT */
/* The API client against the Kubernetes API test server (tests/server/kubeapi),
 * run under tests/server/with-apiserver.py. argv[1] picks a group:
 *   ops      every Lease operation and generic objects, every error class the
 *            server produces (404, 409 x2, 422, 401, 403, 429, 5xx, reset,
 *            hang, refused), Retry-After vs deadline, no retry of a write that
 *            may have been applied (5xx), connection reuse, token
 *            rotation, the token never in any log line or error
 *   watch    events, BOOKMARK, resumption from the last resourceVersion,
 *            stream end and partition, ERROR 410 -> expired; the same for
 *            an Endpoints object with kube_object_watch() (raw objects)
 *   kubectl  a Lease written through the client read by the real kubectl
 *            (exit 77 = skipped when kubectl is absent) */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube_test_util.h"

#define SEC 1000000ULL
#define MSEC 1000ULL

static sd_event *loop;
static const char *ns = "default";

static KubeClient *client_with(const char *token_file, uint64_t reload_usec)
{
    KubeConfig cfg = {};
    KubeClient *c = NULL;

    cfg.server = getenv("KUBEAPI_URL");
    cfg.ca_file = getenv("KUBEAPI_CA");
    cfg.token_file = (char *)token_file;
    cfg.namespace_ = (char *)ns;
    cfg.token_reload_usec = reload_usec;
    if (kube_client_new(loop, &cfg, &c) < 0) abort();
    kube_client_set_log(c, test_log, NULL);
    return c;
}

static void wait_for(Outcome *o, uint64_t timeout)
{
    run_until(loop, &o->done, timeout);
    CHECK(o->done);
}

static KubeLease new_lease(const char *name, const char *holder)
{
    KubeLease l = KUBE_LEASE_INIT;
    l.name = strdup(name);
    l.holder_identity = strdup(holder);
    l.lease_duration_seconds = 15;
    l.acquire_time_usec = l.renew_time_usec = INT64_C(1763788800123456);
    l.lease_transitions = 0;
    return l;
}

static int do_get(KubeClient *c, const char *name, Outcome *o)
{
    outcome_reset(o);
    CHECK(kube_lease_get(c, NULL, name, 5 * SEC, on_done, o, NULL) == 0);
    wait_for(o, 10 * SEC);
    return o->result;
}

static int do_update(KubeClient *c, const KubeLease *l, Outcome *o)
{
    outcome_reset(o);
    CHECK(kube_lease_update(c, l, 5 * SEC, on_done, o, NULL) == 0);
    wait_for(o, 10 * SEC);
    return o->result;
}

/* ---------------------------------------------------------------- ops */

static void test_crud(KubeClient *c)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    KubeLease l = new_lease("crud", "pod-a");

    fprintf(stderr, "== crud\n");
    CHECK(do_get(c, "crud", &o) == KUBE_E_NOT_FOUND && o.http == 404);
    CHECK(o.status_message && strstr(o.status_message, "not found"));

    outcome_reset(&o);
    CHECK(kube_lease_create(c, &l, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && o.http == 201 && o.has_lease);
    CHECK(o.lease.resource_version && o.lease.uid);
    CHECK(o.lease.holder_identity && strcmp(o.lease.holder_identity, "pod-a") == 0);
    CHECK(o.lease.renew_time_usec == l.renew_time_usec);

    outcome_reset(&o);
    CHECK(kube_lease_create(c, &l, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_ALREADY_EXISTS && o.http == 409);

    CHECK(do_get(c, "crud", &o) == KUBE_OK && o.has_lease);
    KubeLease cur = KUBE_LEASE_INIT;
    CHECK(kube_lease_copy(&o.lease, &cur) == 0);
    char *rv1 = strdup(cur.resource_version ? cur.resource_version : "");

    /* Renew: new holder, transitions + 1. */
    free(cur.holder_identity);
    cur.holder_identity = strdup("pod-b");
    cur.lease_transitions = 1;
    cur.renew_time_usec += 2000000;
    CHECK(do_update(c, &cur, &o) == KUBE_OK && o.http == 200 && o.has_lease);
    CHECK(o.lease.resource_version && strcmp(o.lease.resource_version, rv1) != 0);
    CHECK(o.lease.holder_identity && strcmp(o.lease.holder_identity, "pod-b") == 0);
    CHECK(o.lease.lease_transitions == 1);

    /* The same stale copy again: someone (we) wrote since. */
    CHECK(do_update(c, &cur, &o) == KUBE_E_CONFLICT && o.http == 409);
    CHECK(o.status_message && strstr(o.status_message, "has been modified"));

    /* Without resourceVersion: 422 from the registry. */
    free(cur.resource_version);
    cur.resource_version = NULL;
    CHECK(do_update(c, &cur, &o) == KUBE_E_INVALID && o.http == 422);

    /* Body and URL name different objects: 400 from the server. */
    CHECK(do_get(c, "crud", &o) == KUBE_OK);
    KubeLease other = KUBE_LEASE_INIT;
    CHECK(kube_lease_copy(&o.lease, &other) == 0);
    free(other.name);
    other.name = strdup("crud-elsewhere");
    CHECK(do_update(c, &other, &o) == KUBE_E_BAD_REQUEST && o.http == 400);
    kube_lease_done(&other);

    /* Bad value: 422 from validation. */
    CHECK(do_get(c, "crud", &o) == KUBE_OK);
    kube_lease_done(&cur);
    CHECK(kube_lease_copy(&o.lease, &cur) == 0);
    cur.lease_duration_seconds = 0;
    CHECK(do_update(c, &cur, &o) == KUBE_E_INVALID);
    CHECK(o.status_message && strstr(o.status_message, "leaseDurationSeconds"));

    /* Delete with a stale precondition, then for real. */
    outcome_reset(&o);
    CHECK(kube_lease_delete(c, NULL, "crud", rv1, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_CONFLICT);
    outcome_reset(&o);
    CHECK(kube_lease_delete(c, NULL, "crud", NULL, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);
    CHECK(do_get(c, "crud", &o) == KUBE_E_NOT_FOUND);
    outcome_reset(&o);
    CHECK(kube_lease_delete(c, NULL, "crud", NULL, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_NOT_FOUND);

    /* A PUT of a missing Lease creates it (201). */
    KubeLease fresh = new_lease("put-create", "pod-c");
    fresh.resource_version = strdup("1");
    CHECK(do_update(c, &fresh, &o) == KUBE_OK && o.http == 201);

    free(rv1);
    kube_lease_done(&fresh);
    kube_lease_done(&cur);
    kube_lease_done(&l);
    outcome_reset(&o);
}

/* Labels, annotations, ownerReferences written by someone else survive a
 * renew through the client. */
static void test_preserve(KubeClient *c)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    const char *obj =
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{"
        "\"name\":\"keep\",\"labels\":{\"app\":\"x\",\"tier\":\"y\"},"
        "\"annotations\":{\"example.com/note\":\"caf\\u00e9 \\\"q\\\"\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d\","
        "\"uid\":\"5c3e1a8e-7d35-4b52-9a1e-2f7f0b7c9d11\"}]},"
        "\"spec\":{\"holderIdentity\":\"other\",\"leaseDurationSeconds\":15}}";

    fprintf(stderr, "== preserve\n");
    CHECK(kube_object_create(c, &KUBE_RESOURCE_LEASES, NULL, obj, strlen(obj), 5 * SEC, on_done, &o,
                             NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && o.http == 201 && strstr(o.body, "\"keep\""));

    CHECK(do_get(c, "keep", &o) == KUBE_OK);
    KubeLease cur = KUBE_LEASE_INIT;
    CHECK(kube_lease_copy(&o.lease, &cur) == 0);
    free(cur.holder_identity);
    cur.holder_identity = strdup("me");
    cur.renew_time_usec = INT64_C(1763788801000000);
    cur.acquire_time_usec = cur.renew_time_usec;
    cur.lease_transitions = 4;
    CHECK(do_update(c, &cur, &o) == KUBE_OK);

    outcome_reset(&o);
    CHECK(kube_object_get(c, &KUBE_RESOURCE_LEASES, NULL, "keep", 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);
    CHECK(strstr(o.body, "\"app\":\"x\"") || strstr(o.body, "\"app\": \"x\""));
    CHECK(strstr(o.body, "example.com/note"));
    CHECK(strstr(o.body, "5c3e1a8e-7d35-4b52-9a1e-2f7f0b7c9d11"));
    CHECK(strstr(o.body, "\"me\""));
    KubeLease back = KUBE_LEASE_INIT;
    CHECK(kube_lease_parse(o.body, strlen(o.body), &back) == 0);
    CHECK(back.lease_transitions == 4 && back.renew_time_usec == cur.renew_time_usec);
    kube_lease_done(&back);

    /* Generic objects: list, update, merge patch, delete; a core resource. */
    outcome_reset(&o);
    CHECK(kube_object_list(c, &KUBE_RESOURCE_LEASES, NULL, "limit=10", 5 * SEC, on_done, &o,
                           NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && strstr(o.body, "LeaseList") && strstr(o.body, "\"keep\""));

    const char *cm =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\"},"
        "\"data\":{\"a\":\"1\"}}";
    outcome_reset(&o);
    CHECK(kube_object_create(c, &KUBE_RESOURCE_CONFIGMAPS, NULL, cm, strlen(cm), 5 * SEC, on_done,
                             &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);
    const char *ep = "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"ep1\","
                     "\"annotations\":{\"control-plane.alpha.kubernetes.io/leader\":\"{}\"}}}";
    outcome_reset(&o);
    CHECK(kube_object_update(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "ep1", ep, strlen(ep), 5 * SEC,
                             on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && (o.http == 201 || o.http == 200));
    outcome_reset(&o);
    CHECK(kube_object_get(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "ep1", 5 * SEC, on_done, &o, NULL) ==
          0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && strstr(o.body, "control-plane.alpha.kubernetes.io/leader"));
    const char *patch = "{\"metadata\":{\"labels\":{\"patched\":\"yes\"}}}";
    outcome_reset(&o);
    CHECK(kube_object_patch(c, &KUBE_RESOURCE_CONFIGMAPS, NULL, "cm1",
                            "application/merge-patch+json", patch, strlen(patch), 5 * SEC, on_done,
                            &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK && strstr(o.body, "patched") && strstr(o.body, "\"a\""));
    CHECK(kube_object_patch(c, &KUBE_RESOURCE_CONFIGMAPS, NULL, "cm1", "text/x-evil\r\nX: y", patch,
                            strlen(patch), 5 * SEC, on_done, &o, NULL) == -EINVAL);
    outcome_reset(&o);
    CHECK(kube_object_delete(c, &KUBE_RESOURCE_CONFIGMAPS, NULL, "cm1", 5 * SEC, on_done, &o,
                             NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);
    outcome_reset(&o);
    CHECK(kube_object_get(c, &KUBE_RESOURCE_PODS, NULL, "no-such-pod", 5 * SEC, on_done, &o,
                          NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_NOT_FOUND);

    kube_lease_done(&cur);
    outcome_reset(&o);
}

static void test_auth(void)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};

    fprintf(stderr, "== auth\n");
    /* Read-only token: reads work, writes are 403 with the rule logged. */
    KubeClient *ro = client_with(getenv("KUBEAPI_RO_TOKEN_FILE"), 0);
    CHECK(do_get(ro, "keep", &o) == KUBE_OK);
    KubeLease cur = KUBE_LEASE_INIT;
    CHECK(kube_lease_copy(&o.lease, &cur) == 0);
    CHECK(do_update(ro, &cur, &o) == KUBE_E_FORBIDDEN && o.http == 403);
    CHECK(log_contains("missing RBAC rule: verb \"update\" on resource \"leases\" in API group "
                       "\"coordination.k8s.io\""));
    kube_lease_done(&cur);
    kube_client_free(ro);

    /* Unknown token: 401 even after the one re-read. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/bogus-token", getenv("KUBEAPI_DIR"));
    CHECK(write_file_atomic(path, "not-a-valid-token-4242") == 0);
    KubeClient *bad = client_with(path, 0);
    CHECK(do_get(bad, "keep", &o) == KUBE_E_UNAUTHORIZED && o.http == 401);
    CHECK(log_contains("401 Unauthorized, re-reading the token"));
    kube_client_free(bad);
    outcome_reset(&o);

    /* No token file at all: creating the client fails with the errno. */
    KubeConfig cfg = {.server = getenv("KUBEAPI_URL"), .token_file = (char *)"/nonexistent/token"};
    KubeClient *none = NULL;
    CHECK(kube_client_new(loop, &cfg, &none) == -ENOENT && none == NULL);
}

static void test_rotation(void)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    char path[4096], newtok[128], body[512];
    char *old = read_file(getenv("KUBEAPI_TOKEN_FILE_9"));

    fprintf(stderr, "== token rotation\n");
    snprintf(path, sizeof(path), "%s/rotating-token", getenv("KUBEAPI_DIR"));
    CHECK(old && write_file_atomic(path, old) == 0);

    /* 1. Replaced file, old token revoked: the 401 triggers a re-read and
     *    the retry succeeds, without restarting anything. */
    KubeClient *c = client_with(path, 3600 * SEC);
    CHECK(do_get(c, "keep", &o) == KUBE_OK);
    snprintf(newtok, sizeof(newtok), "rotated-%d-%llu", (int)getpid(),
             (unsigned long long)mono_usec());
    CHECK(admin("DELETE", "/_admin/tokens/candidate-9", NULL) == 200);
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"user\":\"candidate-9\",\"access\":\"rw\"}",
             newtok);
    CHECK(admin("POST", "/_admin/tokens", body) == 201);
    CHECK(write_file_atomic(path, newtok) == 0);
    CHECK(do_get(c, "keep", &o) == KUBE_OK && o.http == 200);
    CHECK(log_contains("changed, using the new token"));
    kube_client_free(c);

    /* 2. Periodic re-read: the new token is picked up before any 401. */
    char newtok2[160];
    c = client_with(path, 200 * MSEC);
    CHECK(do_get(c, "keep", &o) == KUBE_OK);
    snprintf(newtok2, sizeof(newtok2), "%s-b", newtok);
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"user\":\"candidate-8\",\"access\":\"rw\"}",
             newtok2);
    CHECK(admin("POST", "/_admin/tokens", body) == 201);
    CHECK(write_file_atomic(path, newtok2) == 0);
    run_for(loop, 300 * MSEC);
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(do_get(c, "keep", &o) == KUBE_OK);
    char *stats = NULL;
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &stats) == 200);
    /* Only candidate-8 (the new token's user) made a request, and no 401. */
    CHECK(stats && strstr(stats, "candidate-8") && !strstr(stats, "\"401\""));
    free(stats);
    kube_client_free(c);

    /* The token contents never reached a log line or an error string. */
    CHECK(!log_contains(old));
    CHECK(!log_contains(newtok));
    CHECK(!log_contains(newtok2));
    free(old);
    outcome_reset(&o);
}

typedef struct Tick {
    bool fired;
    uint64_t at;
} Tick;

static int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
    Tick *t = ud;
    t->fired = true;
    t->at = mono_usec();
    return 0;
}

static void test_faults(KubeClient *c)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    char *stats = NULL;

    fprintf(stderr, "== faults\n");
    /* 429 with Retry-After 1 s: retried within a 5 s deadline ... */
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":429,"
                "\"retry_after\":1,\"count\":1}") == 201);
    uint64_t t0 = mono_usec();
    CHECK(do_get(c, "keep", &o) == KUBE_OK);
    CHECK(o.at - t0 >= 900 * MSEC);
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &stats) == 200);
    fprintf(stderr, "stats: %s\n", stats);
    CHECK(stats && strstr(stats, "\"429\"") && strstr(stats, "\"200\""));
    free(stats);
    stats = NULL;

    /* ... but never past the caller's deadline: reported with the delay. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":429,"
                "\"retry_after\":3,\"count\":1}") == 201);
    outcome_reset(&o);
    t0 = mono_usec();
    CHECK(kube_lease_get(c, NULL, "keep", 1 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 5 * SEC);
    CHECK(o.result == KUBE_E_TOO_MANY_REQUESTS && o.http == 429);
    CHECK(o.retry_after == 3 * SEC);
    CHECK(o.at - t0 < 1 * SEC);

    /* 500 and 503 without a Retry-After the client could honour in time. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":500,\"count\":1}") ==
          201);
    CHECK(do_get(c, "keep", &o) == KUBE_E_SERVER_ERROR && o.http == 500);
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":503,"
                "\"retry_after\":30,\"count\":1}") == 201);
    CHECK(do_get(c, "keep", &o) == KUBE_E_SERVER_ERROR && o.http == 503);

    /* Connection reset. libcurl itself retries once on a fresh connection
     * when a reused one dies before any answer, so reset twice. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"reset\",\"count\":2}") == 201);
    CHECK(do_get(c, "keep", &o) == KUBE_E_TRANSPORT && o.http == 0);
    CHECK(do_get(c, "keep", &o) == KUBE_OK);

    /* A hanging server: the request ends at its deadline and the loop keeps
     * serving meanwhile (a timer fires on time). */
    CHECK(admin("POST", "/_admin/faults", "{\"client\":\"leader-elector\",\"kind\":\"hang\"}") ==
          201);
    outcome_reset(&o);
    t0 = mono_usec();
    CHECK(kube_lease_get(c, NULL, "keep", 1500 * MSEC, on_done, &o, NULL) == 0);
    Tick tick = {};
    sd_event_source *timer = NULL;
    CHECK(sd_event_add_time(loop, &timer, CLOCK_BOOTTIME, mono_usec() + 300 * MSEC, 0, on_tick,
                            &tick) >= 0);
    run_until(loop, &tick.fired, 3 * SEC);
    CHECK(tick.fired && !o.done);
    CHECK(tick.at >= t0 + 300 * MSEC && tick.at - (t0 + 300 * MSEC) < 250 * MSEC);
    wait_for(&o, 5 * SEC);
    CHECK(o.result == KUBE_E_TIMEOUT);
    CHECK(o.at - t0 >= 1400 * MSEC && o.at - t0 < 2500 * MSEC);
    sd_event_source_unref(timer);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);

    /* Cancel: no callback, nothing left in flight. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"latency\",\"ms\":300}") == 201);
    outcome_reset(&o);
    KubeRequest *req = NULL;
    CHECK(kube_lease_get(c, NULL, "keep", 5 * SEC, on_done, &o, &req) == 0 && req);
    CHECK(kube_client_in_flight(c) == 1);
    run_for(loop, 50 * MSEC);
    req = kube_request_cancel(req);
    CHECK(kube_client_in_flight(c) == 0);
    run_for(loop, 500 * MSEC);
    CHECK(!o.done);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);

    /* Connection refused: a port nobody listens on. */
    KubeConfig cfg = {.server = (char *)"https://127.0.0.1:1", .ca_file = getenv("KUBEAPI_CA")};
    KubeClient *dead = NULL;
    CHECK(kube_client_new(loop, &cfg, &dead) == 0);
    kube_client_set_log(dead, test_log, NULL);
    CHECK(do_get(dead, "keep", &o) == KUBE_E_TRANSPORT && o.http == 0);
    kube_client_free(dead);

    /* TLS with the wrong CA: refused, never "insecure". */
    KubeConfig cfg2 = {.server = getenv("KUBEAPI_URL"),
                       .ca_file = (char *)"/etc/ssl/certs/ca-certificates.crt",
                       .token_file = getenv("KUBEAPI_TOKEN_FILE")};
    if (strncmp(cfg2.server, "https", 5) == 0 && access(cfg2.ca_file, R_OK) == 0) {
        KubeClient *tls = NULL;
        CHECK(kube_client_new(loop, &cfg2, &tls) == 0);
        kube_client_set_log(tls, test_log, NULL);
        CHECK(do_get(tls, "keep", &o) == KUBE_E_TRANSPORT);
        kube_client_free(tls);
    }
    outcome_reset(&o);
}

/* Only what was certainly not applied is sent again: a 429 (API Priority and
 * Fairness refuses it before any handler runs) and reads. A write answered 5xx
 * may have been applied (fault applied_status: carried out, then answered with
 * the error): sent again with its resourceVersion it would meet 409 for its own
 * change (a create: AlreadyExists; a delete: 404). It is reported at once,
 * with the Retry-After for the caller's next try. */
static void test_write_retries(KubeClient *c)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    KubeLease l = KUBE_LEASE_INIT, n = new_lease("applied-create", "x");
    char *stats = NULL;
    uint64_t t0;

    fprintf(stderr, "== write retries\n");
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    /* A GET answered 500 + Retry-After 1 s: retried. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":500,"
                "\"retry_after\":1,\"count\":1}") == 201);
    t0 = mono_usec();
    CHECK(do_get(c, "keep", &o) == KUBE_OK && o.has_lease);
    CHECK(o.at - t0 >= 900 * MSEC);
    CHECK(kube_lease_copy(&o.lease, &l) == 0);

    /* A PUT answered 429 + Retry-After 1 s: retried. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"status\",\"code\":429,"
                "\"retry_after\":1,\"verbs\":[\"update\"],\"count\":1}") == 201);
    l.renew_time_usec += 1000;
    t0 = mono_usec();
    CHECK(do_update(c, &l, &o) == KUBE_OK && o.has_lease);
    CHECK(o.at - t0 >= 900 * MSEC);
    kube_lease_done(&l);
    CHECK(kube_lease_copy(&o.lease, &l) == 0);

    /* A PUT applied, then answered 500 + Retry-After 1 s: not sent again. */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"applied_status\",\"code\":500,"
                "\"retry_after\":1,\"verbs\":[\"update\"],\"count\":1}") == 201);
    l.renew_time_usec += 1000;
    t0 = mono_usec();
    CHECK(do_update(c, &l, &o) == KUBE_E_SERVER_ERROR && o.http == 500);
    CHECK(o.retry_after == 1 * SEC);
    CHECK(o.at - t0 < 800 * MSEC);
    CHECK(do_get(c, "keep", &o) == KUBE_OK && o.lease.renew_time_usec == l.renew_time_usec);

    /* The same for a POST (503 + Retry-After) and a DELETE (500 + Retry-After). */
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"applied_status\",\"code\":503,"
                "\"retry_after\":1,\"verbs\":[\"create\",\"delete\"],\"count\":2}") == 201);
    outcome_reset(&o);
    t0 = mono_usec();
    CHECK(kube_lease_create(c, &n, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_SERVER_ERROR && o.http == 503 && o.retry_after == 1 * SEC);
    CHECK(o.at - t0 < 800 * MSEC);
    CHECK(do_get(c, "applied-create", &o) == KUBE_OK);
    outcome_reset(&o);
    t0 = mono_usec();
    CHECK(kube_lease_delete(c, NULL, "applied-create", NULL, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_E_SERVER_ERROR && o.http == 503 && o.retry_after == 1 * SEC);
    CHECK(o.at - t0 < 800 * MSEC);

    /* Nothing was sent twice: no 409 (update, create) and no 404 (delete). */
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &stats) == 200);
    fprintf(stderr, "stats: %s\n", stats);
    CHECK(stats && !strstr(stats, "\"409\"") && !strstr(stats, "\"404\""));
    CHECK(stats && strstr(stats, "\"429\"") && strstr(stats, "\"500\"") &&
          strstr(stats, "\"503\""));
    free(stats);
    CHECK(do_get(c, "applied-create", &o) == KUBE_E_NOT_FOUND);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    kube_lease_done(&l);
    kube_lease_done(&n);
    outcome_reset(&o);
}

static void test_reuse(KubeClient *c)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    char *s1 = NULL, *s2 = NULL;

    fprintf(stderr, "== connection reuse\n");
    CHECK(do_get(c, "keep", &o) == KUBE_OK); /* warm */
    uint64_t before = kube_client_connects(c);
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &s1) == 200);
    for (int i = 0; i < 6; i++)
        CHECK(do_get(c, "keep", &o) == KUBE_OK);
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &s2) == 200);
    CHECK(kube_client_connects(c) == before);
    /* The server saw no new connection from us (the two admin calls open one each). */
    long long t1 = json_number_after(s1 ? strstr(s1, "\"connections\"") : NULL, "\"total\"");
    long long t2 = json_number_after(s2 ? strstr(s2, "\"connections\"") : NULL, "\"total\"");
    fprintf(stderr, "client connects %llu, server connections %lld -> %lld\n",
            (unsigned long long)kube_client_connects(c), t1, t2);
    CHECK(t1 >= 0 && t2 - t1 <= 1);
    free(s1);
    free(s2);
    outcome_reset(&o);
}

static int group_ops(void)
{
    KubeClient *c = client_with(getenv("KUBEAPI_TOKEN_FILE"), 0);
    char *tok = read_file(getenv("KUBEAPI_TOKEN_FILE"));

    test_crud(c);
    test_preserve(c);
    test_reuse(c);
    test_faults(c);
    test_write_retries(c);
    test_auth();
    test_rotation();
    kube_client_free(c);

    CHECK(tok && !log_contains(tok));
    free(tok);
    return 0;
}

/* -------------------------------------------------------------- watch */

typedef struct Events {
    int n, added, modified, deleted, bookmarks;
    char last_rv[64];
    char last_holder[128];
    Outcome *end; /* where on_watch_end reports */
} Events;

static void on_watch_end(KubeClient *c, const KubeResponse *r, void *ud)
{
    Events *e = ud;
    on_done(c, r, e->end);
}

static void on_event(KubeClient *c, const KubeWatchEvent *ev, void *ud)
{
    Events *e = ud;
    e->n++;
    switch (ev->type) {
    case KUBE_WATCH_ADDED:
        e->added++;
        break;
    case KUBE_WATCH_MODIFIED:
        e->modified++;
        break;
    case KUBE_WATCH_DELETED:
        e->deleted++;
        break;
    case KUBE_WATCH_BOOKMARK:
        e->bookmarks++;
        break;
    default:
        break;
    }
    snprintf(e->last_rv, sizeof(e->last_rv), "%s", ev->resource_version);
    if (ev->has_lease)
        snprintf(e->last_holder, sizeof(e->last_holder), "%s",
                 ev->lease.holder_identity ? ev->lease.holder_identity : "");
    fprintf(stderr, "  event %s rv %s\n", kube_watch_type_to_string(ev->type),
            ev->resource_version);
}

static bool events_at_least(Events *e, int *field, int n, uint64_t timeout)
{
    uint64_t end = mono_usec() + timeout;
    while (*field < n && mono_usec() < end)
        sd_event_run(loop, 50000);
    return *field >= n;
}

static void renew(KubeClient *c, const char *name, const char *holder, char *ret_rv, size_t size)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    KubeLease cur = KUBE_LEASE_INIT;
    CHECK(do_get(c, name, &o) == KUBE_OK);
    CHECK(kube_lease_copy(&o.lease, &cur) == 0);
    free(cur.holder_identity);
    cur.holder_identity = strdup(holder);
    cur.renew_time_usec += 1000;
    CHECK(do_update(c, &cur, &o) == KUBE_OK);
    if (ret_rv)
        snprintf(ret_rv, size, "%s", o.lease.resource_version ? o.lease.resource_version : "");
    kube_lease_done(&cur);
    outcome_reset(&o);
}

/* kube_object_watch(): raw objects of any resource. */
typedef struct ObjEvents {
    int n, added, modified, deleted, bookmarks, with_lease;
    char last_rv[64];
    char *last_object;
    Outcome *end;
} ObjEvents;

static void on_obj_event(KubeClient *c, const KubeWatchEvent *ev, void *ud)
{
    ObjEvents *e = ud;
    e->n++;
    switch (ev->type) {
    case KUBE_WATCH_ADDED:
        e->added++;
        break;
    case KUBE_WATCH_MODIFIED:
        e->modified++;
        break;
    case KUBE_WATCH_DELETED:
        e->deleted++;
        break;
    case KUBE_WATCH_BOOKMARK:
        e->bookmarks++;
        break;
    default:
        break;
    }
    if (ev->has_lease) e->with_lease++;
    snprintf(e->last_rv, sizeof(e->last_rv), "%s", ev->resource_version);
    if (ev->type != KUBE_WATCH_BOOKMARK) {
        free(e->last_object);
        e->last_object = strndup(ev->object, ev->object_len);
        CHECK(e->last_object && strlen(e->last_object) == ev->object_len);
    }
    fprintf(stderr, "  object event %s rv %s\n", kube_watch_type_to_string(ev->type),
            ev->resource_version);
}

static void on_obj_end(KubeClient *c, const KubeResponse *r, void *ud)
{
    ObjEvents *e = ud;
    on_done(c, r, e->end);
}

static bool obj_events_at_least(int *field, int n, uint64_t timeout)
{
    uint64_t end = mono_usec() + timeout;
    while (*field < n && mono_usec() < end)
        sd_event_run(loop, 50000);
    return *field >= n;
}

static void obj_call(KubeClient *c, const char *method, const char *name, const char *body,
                     int want, char *ret_rv, size_t size)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    if (strcmp(method, "POST") == 0)
        CHECK(kube_object_create(c, &KUBE_RESOURCE_ENDPOINTS, NULL, body, strlen(body), 5 * SEC,
                                 on_done, &o, NULL) == 0);
    else if (strcmp(method, "PATCH") == 0)
        CHECK(kube_object_patch(c, &KUBE_RESOURCE_ENDPOINTS, NULL, name,
                                "application/merge-patch+json", body, strlen(body), 5 * SEC,
                                on_done, &o, NULL) == 0);
    else
        CHECK(kube_object_delete(c, &KUBE_RESOURCE_ENDPOINTS, NULL, name, 5 * SEC, on_done, &o,
                                 NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == want);
    if (ret_rv) {
        const char *p = o.body ? strstr(o.body, "\"resourceVersion\":\"") : NULL;
        snprintf(ret_rv, size, "%s", p ? p + strlen("\"resourceVersion\":\"") : "");
        char *q = strchr(ret_rv, '"');
        if (q) *q = 0;
    }
    outcome_reset(&o);
}

static void test_object_watch(KubeClient *c)
{
    Outcome end = {.lease = KUBE_LEASE_INIT};
    ObjEvents ev = {.end = &end};
    KubeRequest *w = NULL;
    char rv[64], rv_old[64];
    char *stats = NULL;

    fprintf(stderr, "== object watch: Endpoints by name, raw objects\n");
    CHECK(kube_object_watch(c, NULL, NULL, "ew1", NULL, 0, on_obj_event, on_obj_end, &ev, &w) ==
          -EINVAL);
    CHECK(kube_object_watch(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "", NULL, 0, on_obj_event,
                            on_obj_end, &ev, &w) == -EINVAL);
    obj_call(c, "POST", NULL,
             "{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"ew1\","
             "\"annotations\":{\"k\":\"v0\"}}}",
             KUBE_OK, NULL, 0);
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(kube_object_watch(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "ew1", NULL, 0, on_obj_event,
                            on_obj_end, &ev, &w) == 0);
    CHECK(obj_events_at_least(&ev.added, 1, 5 * SEC));
    CHECK(ev.last_object && strstr(ev.last_object, "\"kind\":\"Endpoints\"") &&
          strstr(ev.last_object, "\"name\":\"ew1\"") && strstr(ev.last_object, "\"v0\""));
    obj_call(c, "PATCH", "ew1", "{\"metadata\":{\"annotations\":{\"k\":\"v1\"}}}", KUBE_OK, rv,
             sizeof(rv));
    CHECK(obj_events_at_least(&ev.modified, 1, 5 * SEC));
    CHECK(strcmp(ev.last_rv, rv) == 0 && strcmp(kube_watch_resource_version(w), rv) == 0);
    CHECK(ev.last_object && strstr(ev.last_object, "\"v1\""));
    /* Another Endpoints and a Lease of the same name are not this watch's. */
    obj_call(c, "POST", NULL,
             "{\"kind\":\"Endpoints\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"ew-other\"}}",
             KUBE_OK, NULL, 0);
    {
        KubeLease same = new_lease("ew1", "x");
        Outcome o = {.lease = KUBE_LEASE_INIT};
        CHECK(kube_lease_create(c, &same, 5 * SEC, on_done, &o, NULL) == 0);
        wait_for(&o, 10 * SEC);
        CHECK(o.result == KUBE_OK);
        outcome_reset(&o);
        kube_lease_done(&same);
    }
    run_for(loop, 300 * MSEC);
    CHECK(ev.added == 1 && ev.modified == 1 && ev.with_lease == 0);
    /* What went over the wire: one watch of the Endpoints collection by name. */
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &stats) == 200);
    CHECK(json_number_after(stats ? strstr(stats, "\"watch\"") : NULL, "\"200\"") == 1);
    free(stats);
    w = kube_request_cancel(w);

    fprintf(stderr, "== object watch: resume from a resourceVersion, DELETED\n");
    snprintf(rv_old, sizeof(rv_old), "%s", rv);
    obj_call(c, "PATCH", "ew1", "{\"metadata\":{\"annotations\":{\"k\":\"v2\"}}}", KUBE_OK, NULL,
             0);
    obj_call(c, "PATCH", "ew1", "{\"metadata\":{\"annotations\":{\"k\":\"v3\"}}}", KUBE_OK, rv,
             sizeof(rv));
    free(ev.last_object);
    ev = (ObjEvents){.end = &end};
    CHECK(kube_object_watch(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "ew1", rv_old, 1 * SEC, on_obj_event,
                            on_obj_end, &ev, &w) == 0);
    CHECK(obj_events_at_least(&ev.modified, 2, 5 * SEC));
    CHECK(ev.added == 0 && strcmp(ev.last_rv, rv) == 0 && strstr(ev.last_object, "\"v3\""));
    /* The server ends the 1 s stream: resumed from v3, nothing replayed. */
    run_for(loop, 2500 * MSEC);
    CHECK(ev.modified == 2 && ev.added == 0 && !end.done);
    obj_call(c, "DELETE", "ew1", NULL, KUBE_OK, NULL, 0);
    CHECK(obj_events_at_least(&ev.deleted, 1, 5 * SEC));
    CHECK(ev.last_object && strstr(ev.last_object, "\"name\":\"ew1\""));
    CHECK(strcmp(ev.last_rv, rv) != 0);
    w = kube_request_cancel(w);

    fprintf(stderr, "== object watch: 410 Expired\n");
    CHECK(admin("POST", "/_admin/reset-history", NULL) == 200);
    free(ev.last_object);
    ev = (ObjEvents){.end = &end};
    outcome_reset(&end);
    CHECK(kube_object_watch(c, &KUBE_RESOURCE_ENDPOINTS, NULL, "ew-other", rv_old, 0, on_obj_event,
                            on_obj_end, &ev, &w) == 0);
    wait_for(&end, 5 * SEC);
    CHECK(end.result == KUBE_E_EXPIRED && ev.n == 0);
    w = NULL;
    outcome_reset(&end);
    free(ev.last_object);
}

static int group_watch(void)
{
    KubeClient *c = client_with(getenv("KUBEAPI_TOKEN_FILE"), 0);
    Outcome o = {.lease = KUBE_LEASE_INIT}, end = {.lease = KUBE_LEASE_INIT};
    Events ev = {.end = &end};
    KubeRequest *w = NULL;
    KubeLease l = new_lease("w1", "pod-a");
    char rv[64], rv_old[64];

    fprintf(stderr, "== watch: initial ADDED, MODIFIED, DELETED\n");
    CHECK(kube_lease_create(c, &l, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);
    CHECK(kube_lease_watch(c, NULL, "w1", NULL, 0, on_event, on_watch_end, &ev, &w) == 0);
    CHECK(events_at_least(&ev, &ev.added, 1, 5 * SEC));
    CHECK(strcmp(ev.last_holder, "pod-a") == 0);
    renew(c, "w1", "pod-b", rv, sizeof(rv));
    CHECK(events_at_least(&ev, &ev.modified, 1, 5 * SEC));
    CHECK(strcmp(ev.last_rv, rv) == 0 && strcmp(ev.last_holder, "pod-b") == 0);
    CHECK(strcmp(kube_watch_resource_version(w), rv) == 0);
    /* Another Lease's changes are not ours. */
    KubeLease other = new_lease("w-other", "x");
    outcome_reset(&o);
    CHECK(kube_lease_create(c, &other, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    run_for(loop, 300 * MSEC);
    CHECK(ev.added == 1);
    kube_lease_done(&other);
    w = kube_request_cancel(w);

    fprintf(stderr, "== watch: resume from a resourceVersion\n");
    snprintf(rv_old, sizeof(rv_old), "%s", rv);
    renew(c, "w1", "pod-c", NULL, 0);
    renew(c, "w1", "pod-d", rv, sizeof(rv));
    ev = (Events){.end = &end};
    CHECK(kube_lease_watch(c, NULL, "w1", rv_old, 0, on_event, on_watch_end, &ev, &w) == 0);
    CHECK(events_at_least(&ev, &ev.modified, 2, 5 * SEC));
    CHECK(ev.added == 0 && strcmp(ev.last_holder, "pod-d") == 0 && strcmp(ev.last_rv, rv) == 0);

    fprintf(stderr, "== watch: bookmarks\n");
    CHECK(events_at_least(&ev, &ev.bookmarks, 1, 4 * SEC));
    w = kube_request_cancel(w);

    fprintf(stderr, "== watch: server ends the stream, the watch resumes\n");
    ev = (Events){.end = &end};
    CHECK(admin("DELETE", "/_admin/stats", NULL) == 200);
    CHECK(kube_lease_watch(c, NULL, "w1", rv, 1 * SEC, on_event, on_watch_end, &ev, &w) == 0);
    run_for(loop, 2500 * MSEC);
    renew(c, "w1", "pod-e", rv, sizeof(rv));
    CHECK(events_at_least(&ev, &ev.modified, 1, 3 * SEC));
    CHECK(strcmp(ev.last_holder, "pod-e") == 0);
    char *stats = NULL;
    CHECK(http_call("GET", "/_admin/stats", NULL, NULL, &stats) == 200);
    long long watches = json_number_after(stats ? strstr(stats, "\"watch\"") : NULL, "\"200\"");
    fprintf(stderr, "watch requests: %lld\n", watches);
    CHECK(watches >= 2);
    free(stats);
    CHECK(!end.done);

    fprintf(stderr, "== watch: partition (cut), then healed\n");
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"leader-elector\",\"kind\":\"partition\",\"mode\":\"cut\"}") == 201);
    run_for(loop, 1500 * MSEC);
    CHECK(admin("DELETE", "/_admin/faults", NULL) == 200);
    run_for(loop, 200 * MSEC);
    renew(c, "w1", "pod-f", rv, sizeof(rv));
    /* Backoff after repeated failures is at most 8 s. */
    CHECK(events_at_least(&ev, &ev.modified, 2, 10 * SEC));
    CHECK(strcmp(ev.last_holder, "pod-f") == 0);
    CHECK(!end.done);

    fprintf(stderr, "== watch: DELETED\n");
    outcome_reset(&o);
    CHECK(kube_lease_delete(c, NULL, "w1", NULL, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(events_at_least(&ev, &ev.deleted, 1, 5 * SEC));
    w = kube_request_cancel(w);

    fprintf(stderr, "== watch: 410 Expired after the history is gone\n");
    kube_lease_done(&l);
    l = new_lease("w2", "pod-a");
    outcome_reset(&o);
    CHECK(kube_lease_create(c, &l, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    snprintf(rv_old, sizeof(rv_old), "%s",
             o.lease.resource_version ? o.lease.resource_version : "");
    for (int i = 0; i < 8; i++)
        renew(c, "w2", "pod-x", NULL, 0);
    CHECK(admin("POST", "/_admin/reset-history", NULL) == 200);
    ev = (Events){.end = &end};
    outcome_reset(&end);
    CHECK(kube_lease_watch(c, NULL, "w2", rv_old, 0, on_event, on_watch_end, &ev, &w) == 0);
    wait_for(&end, 5 * SEC);
    CHECK(end.result == KUBE_E_EXPIRED);
    CHECK(end.error && strstr(end.error, "too old resource version"));
    CHECK(ev.n == 0);
    /* Starting over: a fresh get, then a watch from its version. */
    CHECK(do_get(c, "w2", &o) == KUBE_OK);
    outcome_reset(&end);
    CHECK(kube_lease_watch(c, NULL, "w2", o.lease.resource_version, 0, on_event, on_watch_end, &ev,
                           &w) == 0);
    renew(c, "w2", "pod-y", rv, sizeof(rv));
    CHECK(events_at_least(&ev, &ev.modified, 1, 5 * SEC));
    CHECK(strcmp(ev.last_holder, "pod-y") == 0);

    /* Forbidden watch ends the watch. */
    KubeClient *ro = client_with(getenv("KUBEAPI_RO_TOKEN_FILE"), 0);
    Outcome end2 = {.lease = KUBE_LEASE_INIT};
    Events ev2 = {.end = &end2};
    KubeRequest *w2 = NULL;
    CHECK(kube_lease_watch(ro, "kube-system", "w2", NULL, 0, on_event, on_watch_end, &ev2, &w2) ==
          0);
    run_until(loop, &end2.done, 3 * SEC);
    if (end2.done)
        fprintf(stderr, "ro watch in another namespace ended: %s\n",
                kube_result_to_string(end2.result));
    else
        w2 = kube_request_cancel(w2);
    kube_client_free(ro);
    outcome_reset(&end2);

    test_object_watch(c);

    /* Freeing the client with a watch open: no callback. */
    kube_client_free(c);
    CHECK(!end.done);
    kube_lease_done(&l);
    outcome_reset(&o);
    outcome_reset(&end);
    return 0;
}

/* ------------------------------------------------------------ kubectl */

static int group_kubectl(void)
{
    char kubeconfig[4096], cache[4096], cmd[16384];
    const char *dir = getenv("KUBEAPI_DIR");
    FILE *f;

    if (system("command -v kubectl >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP: kubectl not found\n");
        return 77;
    }
    KubeClient *c = client_with(getenv("KUBEAPI_TOKEN_FILE"), 0);
    Outcome o = {.lease = KUBE_LEASE_INIT};
    KubeLease l = new_lease("via-client", "kubectl-check \"quoted\"");
    l.renew_time_usec = INT64_C(1763788800000007);
    l.lease_transitions = 3;
    CHECK(kube_lease_create(c, &l, 5 * SEC, on_done, &o, NULL) == 0);
    wait_for(&o, 10 * SEC);
    CHECK(o.result == KUBE_OK);

    /* A kubeconfig naming the token file (the token itself stays out of it). */
    snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig-client-test", dir);
    snprintf(cache, sizeof(cache), "%s/kubectl-cache", dir);
    f = fopen(kubeconfig, "we");
    CHECK(f != NULL);
    if (!f) return 1;
    fprintf(f,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: %s\n"
            "    certificate-authority: %s\nusers:\n- name: u\n  user:\n    tokenFile: %s\n"
            "contexts:\n- name: c\n  context:\n    cluster: t\n    user: u\n    namespace: %s\n"
            "current-context: c\n",
            getenv("KUBEAPI_URL"), getenv("KUBEAPI_CA"), getenv("KUBEAPI_TOKEN_FILE"), ns);
    fclose(f);
    snprintf(
        cmd, sizeof(cmd),
        "kubectl --kubeconfig '%s' --cache-dir '%s' --request-timeout 20s get lease via-client "
        "-n %s -o yaml 2>&1",
        kubeconfig, cache, ns);
    FILE *p = popen(cmd, "r");
    char out[65536];
    size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    fprintf(stderr, "kubectl output:\n%s\n", out);
    CHECK(st == 0);
    CHECK(strstr(out, "kind: Lease"));
    CHECK(strstr(out, "name: via-client"));
    CHECK(strstr(out, "holderIdentity: kubectl-check \"quoted\"") ||
          strstr(out, "holderIdentity: 'kubectl-check \"quoted\"'"));
    CHECK(strstr(out, "renewTime: \"2025-11-22T05:20:00.000007Z\""));
    CHECK(strstr(out, "leaseTransitions: 3"));
    CHECK(strstr(out, "leaseDurationSeconds: 15"));
    char *tok = read_file(getenv("KUBEAPI_TOKEN_FILE"));
    CHECK(tok && !strstr(out, tok) && !log_contains(tok));
    free(tok);
    kube_lease_done(&l);
    outcome_reset(&o);
    kube_client_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    int r = 1;

    if (argc < 2 || !getenv("KUBEAPI_URL")) {
        fprintf(stderr, "usage: with-apiserver.py -- %s ops|watch|kubectl\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sd_event_new(&loop) < 0) abort();
    if (strcmp(argv[1], "ops") == 0)
        r = group_ops();
    else if (strcmp(argv[1], "watch") == 0)
        r = group_watch();
    else if (strcmp(argv[1], "kubectl") == 0)
        r = group_kubectl();
    else
        fprintf(stderr, "unknown group %s\n", argv[1]);
    sd_event_unref(loop);
    free(logbuf);
    curl_global_cleanup();
    if (r == 77) return 77;
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    if (r == 0) printf("test_kube_client %s: ok\n", argv[1]);
    return r;
}
