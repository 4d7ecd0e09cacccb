/* SPDX-License-Identifier: MIT */
/* EndpointSlice mode (daemon/endpointslice.c).
 *
 *   test_endpointslice unit   flag parsing, bodies, classification, edits that
 *                             keep unknown fields
 *   test_endpointslice api    the writer against the Kubernetes API test server
 *                             (run under tests/server/with-apiserver.py): create,
 *                             overwrite another pod's address, keep annotations,
 *                             refuse to write without a claim, conflict retry,
 *                             withdraw (only our own address), resync
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <curl/curl.h>

#include "endpointslice.h"
#include "json.h"

#include "check.h"

static const EndpointSlicePort PORTS[] = {
    {.name = "http", .port = 8080, .protocol = "TCP"},
    {.name = "dns", .port = 53, .protocol = "UDP"},
};

static EndpointSliceConfig config(const char *ip, const char *pod)
{
    return (EndpointSliceConfig){
        .namespace_ = "default",
        .name = "my-election",
        .service = "my-svc",
        .pod_ip = ip,
        .pod_name = pod,
        .ports = PORTS,
        .n_ports = 2,
        .timeout_usec = 2000000,
        .retry_usec = 100000,
    };
}

/* ---- unit ---- */

static void test_ports(void)
{
    EndpointSlicePort p;

    CHECK(endpointslice_port_parse("http:8080/TCP", &p) == 0);
    CHECK(strcmp(p.name, "http") == 0 && p.port == 8080 && strcmp(p.protocol, "TCP") == 0);
    CHECK(endpointslice_port_parse("dns:53/udp", &p) == 0);
    CHECK(strcmp(p.protocol, "UDP") == 0 && p.port == 53);
    CHECK(endpointslice_port_parse("x-1:9/SCTP", &p) == 0 && strcmp(p.protocol, "SCTP") == 0);
    CHECK(endpointslice_port_parse("grpc:9090", &p) == 0 && strcmp(p.protocol, "TCP") == 0);
    CHECK(endpointslice_port_parse("443", &p) == 0 && p.name[0] == 0 && p.port == 443);
    CHECK(endpointslice_port_parse("443/UDP", &p) == 0 && strcmp(p.protocol, "UDP") == 0);
    {
        static const char *const bad[] = {
            "",
            "http",
            "http:",
            "http:0",
            "http:65536",
            "http:80/ICMP",
            "http:80/",
            "Http:80",
            "-http:80",
            "http-:80",
            "ht--tp:80",
            "123:80",
            "averyveryverylongname:80",
            "http:80/TCP/x",
            "http:+80",
            "http: 80",
            ":80",
            "http:8o",
            NULL,
        };
        for (size_t i = 0; bad[i]; i++) {
            int r = endpointslice_port_parse(bad[i], &p);
            if (r != -EINVAL) fprintf(stderr, "accepted bad port '%s'\n", bad[i]);
            CHECK(r == -EINVAL);
        }
    }
    CHECK(endpointslice_service_valid("my-svc"));
    CHECK(!endpointslice_service_valid("1svc"));
    CHECK(!endpointslice_service_valid("svc."));
    CHECK(!endpointslice_service_valid("Svc"));
    CHECK(!endpointslice_service_valid(""));
    CHECK(!endpointslice_service_valid(
        "a234567890123456789012345678901234567890123456789012345678901234"));
    {
        char canon[64];
        CHECK(strcmp(endpointslice_address_type("10.1.2.3", canon, sizeof canon), "IPv4") == 0);
        CHECK(strcmp(endpointslice_address_type("fd00:0::0:1", canon, sizeof canon), "IPv6") == 0);
        CHECK(strcmp(canon, "fd00::1") == 0);
        CHECK(endpointslice_address_type("10.1.2", canon, sizeof canon) == NULL);
        CHECK(endpointslice_address_type("pod.example", canon, sizeof canon) == NULL);
        CHECK(endpointslice_address_type(NULL, NULL, 0) == NULL);
    }
    CHECK(endpointslice_label_value_valid("") && endpointslice_label_value_valid("eu-west-1b"));
    CHECK(endpointslice_label_value_valid("Zone_1.a") && !endpointslice_label_value_valid(NULL));
    CHECK(!endpointslice_label_value_valid("a-") && !endpointslice_label_value_valid(".a"));
    CHECK(!endpointslice_label_value_valid("zone a") && !endpointslice_label_value_valid("z/1"));
    CHECK(endpointslice_label_value_valid(
        "a23456789012345678901234567890123456789012345678901234567890123"));
    CHECK(!endpointslice_label_value_valid(
        "a234567890123456789012345678901234567890123456789012345678901234"));
}

static void test_bodies(void)
{
    EndpointSliceConfig c = config("10.0.0.5", "pod-a");
    char *body = NULL, *edited = NULL;
    size_t len = 0, elen = 0;
    JsonDoc *d = NULL;

    c.pod_uid = "0b8f";
    c.node_name = "node-1";
    c.zone = "zone-a";
    CHECK(endpointslice_config_validate(&c) == 0);
    CHECK(endpointslice_new_json(&c, "default", true, &body, &len) == 0);
    CHECK(json_parse(body, len, 0, &d) == 0);
    CHECK(json_string_eq(d, json_get(d, 0, "kind"), "EndpointSlice"));
    CHECK(json_string_eq(d, json_get(d, 0, "apiVersion"), "discovery.k8s.io/v1"));
    CHECK(json_string_eq(d, json_get_path(d, 0, "metadata", "name", NULL), "my-election"));
    CHECK(json_string_eq(
        d, json_get_path(d, 0, "metadata", "labels", "kubernetes.io/service-name", NULL),
        "my-svc"));
    CHECK(json_string_eq(
        d,
        json_get_path(d, 0, "metadata", "labels", "endpointslice.kubernetes.io/managed-by", NULL),
        ENDPOINTSLICE_MANAGED_BY));
    CHECK(json_string_eq(d, json_get(d, 0, "addressType"), "IPv4"));
    {
        int eps = json_get(d, 0, "endpoints"), ep = json_first(d, eps);
        bool b = false;
        CHECK(json_count(d, eps) == 1);
        CHECK(json_string_eq(d, json_first(d, json_get(d, ep, "addresses")), "10.0.0.5"));
        CHECK(json_bool(d, json_get_path(d, ep, "conditions", "ready", NULL), &b) == 0 && b);
        CHECK(json_bool(d, json_get_path(d, ep, "conditions", "serving", NULL), &b) == 0 && b);
        CHECK(json_string_eq(d, json_get_path(d, ep, "targetRef", "kind", NULL), "Pod"));
        CHECK(json_string_eq(d, json_get_path(d, ep, "targetRef", "name", NULL), "pod-a"));
        CHECK(json_string_eq(d, json_get_path(d, ep, "targetRef", "namespace", NULL), "default"));
        CHECK(json_string_eq(d, json_get_path(d, ep, "targetRef", "uid", NULL), "0b8f"));
        CHECK(json_string_eq(d, json_get(d, ep, "nodeName"), "node-1"));
        CHECK(json_string_eq(d, json_get(d, ep, "zone"), "zone-a"));
    }
    CHECK(json_count(d, json_get(d, 0, "ports")) == 2);
    d = json_free(d);
    CHECK(endpointslice_classify(&c, body, len) == ENDPOINTSLICE_CONTENT_OURS);

    /* another pod's view of our slice */
    {
        EndpointSliceConfig o = config("10.0.0.6", "pod-b");
        CHECK(endpointslice_classify(&o, body, len) == ENDPOINTSLICE_CONTENT_OTHER);
        /* B overwrites: unknown fields and annotations survive, one address */
        static const char stored[] =
            "{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\","
            "\"metadata\":{\"name\":\"my-election\",\"namespace\":\"default\",\"resourceVersion\":"
            "\"42\",\"annotations\":{\"keep\":\"me\"},\"labels\":{\"kubernetes.io/service-name\":"
            "\"my-svc\",\"team\":\"x\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
            "[\"10.0.0.5\"],\"conditions\":{\"ready\":true}},{\"addresses\":[\"10.0.0.7\"]}],"
            "\"ports\":[],\"futureField\":{\"a\":[1,2]}}";
        CHECK(endpointslice_classify(&o, stored, sizeof stored - 1) == ENDPOINTSLICE_CONTENT_OTHER);
        CHECK(endpointslice_classify(&c, stored, sizeof stored - 1) ==
              ENDPOINTSLICE_CONTENT_LISTS_US);
        CHECK(endpointslice_edit_json(&o, stored, sizeof stored - 1, true, &edited, &elen) == 0);
        CHECK(endpointslice_classify(&o, edited, elen) == ENDPOINTSLICE_CONTENT_OURS);
        CHECK(endpointslice_classify(&c, edited, elen) == ENDPOINTSLICE_CONTENT_OTHER);
        CHECK(strstr(edited, "\"futureField\":{\"a\":[1,2]}") != NULL);
        CHECK(strstr(edited, "\"annotations\":{\"keep\":\"me\"}") != NULL);
        CHECK(strstr(edited, "\"team\":\"x\"") != NULL);
        CHECK(strstr(edited, "\"resourceVersion\":\"42\"") != NULL);
        CHECK(strstr(edited, "10.0.0.5") == NULL && strstr(edited, "10.0.0.7") == NULL);
        free(edited);
        edited = NULL;
        /* emptying */
        CHECK(endpointslice_edit_json(&c, body, len, false, &edited, &elen) == 0);
        CHECK(strstr(edited, "\"endpoints\":[]") != NULL);
        CHECK(endpointslice_classify(&c, edited, elen) == ENDPOINTSLICE_CONTENT_OTHER);
        free(edited);
        edited = NULL;
    }
    /* what is not exactly ours is rewritten: another port, not ready, wrong label */
    {
        EndpointSliceConfig c1 = c;
        EndpointSlicePort one = {.name = "http", .port = 8081, .protocol = "TCP"};
        c1.ports = &one;
        c1.n_ports = 1;
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        c1 = c;
        c1.service = "other-svc";
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        /* our address without our nodeName or zone (written by a daemon started without
         * $NODE_NAME, or on another node with the pod IP reused): rewritten, since kube-proxy's
         * Local traffic policies need the nodeName */
        c1 = c;
        c1.node_name = "node-2";
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        c1.node_name = NULL;
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        c1 = c;
        c1.zone = "zone-b";
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        c1.zone = "";
        CHECK(endpointslice_classify(&c1, body, len) == ENDPOINTSLICE_CONTENT_LISTS_US);
        c1 = c;
        c1.node_name = c1.zone = NULL;
        {
            char *bare = NULL;
            size_t blen = 0;
            CHECK(endpointslice_new_json(&c1, "default", true, &bare, &blen) == 0);
            CHECK(bare && !strstr(bare, "nodeName") && !strstr(bare, "zone"));
            CHECK(endpointslice_classify(&c1, bare, blen) == ENDPOINTSLICE_CONTENT_OURS);
            CHECK(endpointslice_classify(&c, bare, blen) == ENDPOINTSLICE_CONTENT_LISTS_US);
            free(bare);
        }
        /* what the API would refuse is refused before any write */
        c1 = c;
        c1.node_name = "Node_1";
        CHECK(endpointslice_config_validate(&c1) == -EINVAL);
        c1 = c;
        c1.zone = "-zone";
        CHECK(endpointslice_config_validate(&c1) == -EINVAL);
        c1.zone = "us-east-1a";
        CHECK(endpointslice_config_validate(&c1) == 0);
        c1.zone = "";
        CHECK(endpointslice_config_validate(&c1) == 0);
    }
    CHECK(endpointslice_classify(&c, "[]", 2) == -EBADMSG);
    CHECK(endpointslice_classify(&c, "{", 1) == -EBADMSG);
    CHECK(endpointslice_classify(&c, "{}", 2) == ENDPOINTSLICE_CONTENT_OTHER);
    free(body);

    /* IPv6 */
    {
        EndpointSliceConfig c6 = config("fd00::5", NULL);
        CHECK(endpointslice_new_json(&c6, "ns", false, &body, &len) == 0);
        CHECK(strstr(body, "\"addressType\":\"IPv6\"") && strstr(body, "\"endpoints\":[]"));
        free(body);
        CHECK(endpointslice_new_json(&c6, "ns", true, &body, &len) == 0);
        CHECK(strstr(body, "\"addresses\":[\"fd00::5\"]") && !strstr(body, "targetRef"));
        free(body);
    }
}

/* ---- api ---- */

typedef struct Claim {
    uint64_t left; /* what the claim function answers */
    unsigned asked;
} Claim;

static uint64_t claim_fn(void *userdata)
{
    Claim *c = userdata;
    c->asked++;
    return c->left;
}

static void log_fn(int level, const char *message, void *userdata)
{
    (void)userdata;
    if (getenv("TEST_VERBOSE") || level <= LOG_ERR) fprintf(stderr, "  [%d] %s\n", level, message);
}

static sd_event *loop;

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static KubeClient *client_with(const char *token_file)
{
    KubeConfig cfg = {0};
    KubeClient *c = NULL;

    cfg.server = getenv("KUBEAPI_URL");
    cfg.ca_file = getenv("KUBEAPI_CA");
    cfg.token_file = (char *)token_file;
    cfg.namespace_ = (char *)"default";
    if (!cfg.server || !token_file || kube_client_new(loop, &cfg, &c) < 0) {
        fprintf(stderr, "run under tests/server/with-apiserver.py\n");
        exit(2);
    }
    return c;
}

typedef struct Got {
    bool done;
    int result;
    char *body;
    size_t len;
} Got;

static void on_got(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    Got *g = userdata;
    (void)c;
    g->done = true;
    g->result = resp->result;
    g->body = strndup(resp->body, resp->body_len);
    g->len = resp->body_len;
}

static void run_until(bool *flag, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    while (!*flag && now_usec() < end)
        (void)sd_event_run(loop, 20000);
}

static void run_for(uint64_t usec)
{
    bool never = false;
    run_until(&never, usec);
}

static Got get_slice(KubeClient *c)
{
    Got g = {0};
    CHECK(kube_object_get(c, &KUBE_RESOURCE_ENDPOINTSLICES, NULL, "my-election", 2000000, on_got,
                          &g, NULL) == 0);
    run_until(&g.done, 3000000);
    return g;
}

static void put_slice(KubeClient *c, const char *body)
{
    Got g = {0};
    CHECK(kube_object_update(c, &KUBE_RESOURCE_ENDPOINTSLICES, NULL, "my-election", body,
                             strlen(body), 2000000, on_got, &g, NULL) == 0);
    run_until(&g.done, 3000000);
    CHECK(g.result == KUBE_OK);
    free(g.body);
}

/* Waits until the slice classifies as `want` for cfg. */
static bool wait_slice(KubeClient *c, const EndpointSliceConfig *cfg, int want, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    do {
        Got g = get_slice(c);
        int r = g.result == KUBE_OK ? endpointslice_classify(cfg, g.body, g.len) : -1;
        free(g.body);
        if (r == want) return true;
        run_for(50000);
    } while (now_usec() < end);
    return false;
}

typedef struct Withdrawn {
    bool called, ok;
    unsigned n;
} Withdrawn;

static void on_withdrawn(EndpointSlice *s, bool ok, void *userdata)
{
    Withdrawn *w = userdata;
    (void)s;
    w->called = true;
    w->ok = ok;
    w->n++;
}

/* The test server's admin endpoint (faults); a blocking request is fine here. */
typedef struct Buf {
    char *p;
    size_t n;
} Buf;

static size_t collect(char *p, size_t size, size_t n, void *u)
{
    Buf *b = u;
    char *q;

    if (!b) return size * n;
    q = realloc(b->p, b->n + size * n + 1);
    if (!q) return 0;
    memcpy(q + b->n, p, size * n);
    b->n += size * n;
    q[b->n] = 0;
    b->p = q;
    return size * n;
}

static int admin(const char *method, const char *path, const char *body, char **ret_body)
{
    Buf out = {0};
    char url[512], auth[512];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    long code = 0;
    CURLcode r;

    if (!c) return -1;
    snprintf(url, sizeof url, "%s%s", getenv("KUBEAPI_URL"), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("KUBEAPI_ADMIN_TOKEN"));
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, getenv("KUBEAPI_CA"));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ret_body ? &out : NULL);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    r = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (ret_body) *ret_body = out.p;
    return r == CURLE_OK && code >= 200 && code < 300 ? 0 : -1;
}

static void test_api(void)
{
    KubeClient *reader = client_with(getenv("KUBEAPI_TOKEN_FILE"));
    KubeClient *ca = client_with(getenv("KUBEAPI_TOKEN_FILE_1"));
    KubeClient *cb = client_with(getenv("KUBEAPI_TOKEN_FILE_2"));
    EndpointSliceConfig cfg_a = config("127.0.0.11", "pod-a"),
                        cfg_b = config("127.0.0.12", "pod-b");
    EndpointSlice *a = NULL, *b = NULL;
    Claim claim_a = {.left = 5000000}, claim_b = {.left = 0};
    Withdrawn wa = {0}, wb = {0};
    EndpointSliceStats st;
    Got g;

    cfg_a.resync_usec = cfg_b.resync_usec = 300000;
    CHECK(endpointslice_new(loop, ca, &cfg_a, &a) == 0);
    CHECK(endpointslice_new(loop, cb, &cfg_b, &b) == 0);
    endpointslice_set_callbacks(a, claim_fn, log_fn, &claim_a);
    endpointslice_set_callbacks(b, claim_fn, log_fn, &claim_b);

    /* nothing written yet: a follower that never wrote has nothing to withdraw */
    endpointslice_set_leader(b, false);
    CHECK(endpointslice_withdraw(b, 1000000, on_withdrawn, &wb) == 0);
    g = get_slice(reader);
    CHECK(g.result == KUBE_E_NOT_FOUND);
    free(g.body);

    /* A leads: creates the slice */
    endpointslice_set_leader(a, true);
    CHECK(wait_slice(reader, &cfg_a, ENDPOINTSLICE_CONTENT_OURS, 3000000));
    run_until(&(bool){false}, 100000);
    CHECK(endpointslice_published(a));
    endpointslice_stats(a, &st);
    CHECK(st.creates == 1 && st.refused == 0);

    /* an annotation added by someone else survives A's rewrites */
    g = get_slice(reader);
    {
        static const char *const path[] = {"metadata", "annotations", NULL};
        char *edited = NULL;
        size_t len;
        CHECK(json_edit(g.body, g.len, path, "{\"note\":\"kept\"}", 1 << 20, &edited, &len) == 0);
        put_slice(reader, edited);
        free(edited);
    }
    free(g.body);

    /* B is asked to lead but its claim has lapsed: it must not write */
    endpointslice_set_leader(b, true);
    run_for(500000);
    endpointslice_stats(b, &st);
    CHECK(st.refused >= 1 && st.creates == 0 && st.updates == 0);
    CHECK(claim_b.asked >= 1);
    CHECK(wait_slice(reader, &cfg_a, ENDPOINTSLICE_CONTENT_OURS, 1000000));

    /* B leads for real (A's claim lapsed; A has not noticed yet): B overwrites */
    claim_a.left = 0;
    claim_b.left = 5000000;
    endpointslice_set_leader(b, false);
    endpointslice_set_leader(b, true);
    CHECK(wait_slice(reader, &cfg_b, ENDPOINTSLICE_CONTENT_OURS, 3000000));
    g = get_slice(reader);
    CHECK(g.body && strstr(g.body, "\"note\":\"kept\"") != NULL);
    CHECK(g.body && strstr(g.body, "127.0.0.11") == NULL);
    free(g.body);

    /* A's resync sees another pod's address: with its claim gone, it never
     * writes; told it is no longer leader, it withdraws nothing */
    run_for(700000);
    endpointslice_stats(a, &st);
    CHECK(st.refused >= 1);
    CHECK(wait_slice(reader, &cfg_b, ENDPOINTSLICE_CONTENT_OURS, 500000));
    {
        uint64_t updates = st.updates;
        int r;
        endpointslice_set_leader(a, false);
        r = endpointslice_withdraw(a, 2000000, on_withdrawn, &wa);
        CHECK(r == 0 || r == 1);
        if (r == 1) run_until(&wa.called, 3000000);
        CHECK(r == 0 || (wa.called && wa.ok && wa.n == 1));
        endpointslice_stats(a, &st);
        CHECK(st.updates == updates); /* not a single write */
    }
    CHECK(wait_slice(reader, &cfg_b, ENDPOINTSLICE_CONTENT_OURS, 500000));

    /* Conflict: B's update is held by the server while someone else writes
     * the slice; released, it gets 409 (stale resourceVersion); B re-reads
     * and writes again. */
    {
        static const char *const path[] = {"metadata", "annotations", "touch", NULL};
        char *edited = NULL;
        size_t len;
        uint64_t conflicts, t_end;
        bool held = false;

        endpointslice_stats(b, &st);
        conflicts = st.conflicts;
        CHECK(admin("POST", "/_admin/faults",
                    "{\"client\":\"candidate-2\",\"kind\":\"hang\",\"verbs\":[\"update\"],"
                    "\"resources\":[\"endpointslices\"]}",
                    NULL) == 0);
        /* make B rewrite at its next resync: the slice lists A's address again */
        g = get_slice(reader);
        CHECK(endpointslice_edit_json(&cfg_a, g.body, g.len, true, &edited, &len) == 0);
        put_slice(reader, edited);
        free(edited);
        free(g.body);
        /* wait until B's update is held */
        t_end = now_usec() + 3000000;
        while (!held && now_usec() < t_end) {
            char *body = NULL;
            run_for(20000);
            if (admin("GET", "/_admin/faults", NULL, &body) == 0 && body)
                held = strstr(body, "\"applied\": 1") || strstr(body, "\"applied\":1");
            free(body);
        }
        CHECK(held);
        /* the slice changes meanwhile, then B's stale update is let through */
        g = get_slice(reader);
        CHECK(json_edit(g.body, g.len, path, "\"1\"", 1 << 20, &edited, &len) == 0);
        put_slice(reader, edited);
        free(edited);
        free(g.body);
        CHECK(admin("DELETE", "/_admin/faults", NULL, NULL) == 0);
        CHECK(wait_slice(reader, &cfg_b, ENDPOINTSLICE_CONTENT_OURS, 3000000));
        endpointslice_stats(b, &st);
        fprintf(stderr, "conflicts seen by B: %llu\n",
                (unsigned long long)(st.conflicts - conflicts));
        CHECK(st.conflicts > conflicts);
    }

    /* B withdraws (graceful): endpoints emptied, only once */
    claim_b.left = 0;
    CHECK(endpointslice_withdraw(b, 2000000, on_withdrawn, &wb) == 1);
    run_until(&wb.called, 3000000);
    CHECK(wb.called && wb.ok && wb.n == 1);
    g = get_slice(reader);
    CHECK(g.body && strstr(g.body, "\"endpoints\":[]") != NULL);
    CHECK(g.body && strstr(g.body, "\"note\":\"kept\"") != NULL);
    free(g.body);
    CHECK(endpointslice_withdraw(b, 2000000, on_withdrawn, &wb) == 0);
    run_for(200000);
    CHECK(wb.n == 1);

    /* withdraw with the API unreachable for B: the bound is kept */
    claim_b.left = 5000000;
    endpointslice_set_leader(b, true);
    CHECK(wait_slice(reader, &cfg_b, ENDPOINTSLICE_CONTENT_OURS, 3000000));
    CHECK(admin("POST", "/_admin/faults",
                "{\"client\":\"candidate-2\",\"kind\":\"partition\",\"mode\":\"cut\"}", NULL) == 0);
    claim_b.left = 0;
    wb = (Withdrawn){0};
    {
        uint64_t t0 = now_usec();
        CHECK(endpointslice_withdraw(b, 500000, on_withdrawn, &wb) == 1);
        run_until(&wb.called, 3000000);
        CHECK(wb.called && !wb.ok);
        CHECK(now_usec() - t0 < 1500000);
    }
    (void)admin("DELETE", "/_admin/faults", NULL, NULL);

    endpointslice_free(a);
    endpointslice_free(b);
    kube_client_free(ca);
    kube_client_free(cb);
    kube_client_free(reader);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "unit") != 0 && strcmp(argv[1], "api") != 0)) {
        fprintf(stderr, "usage: %s unit|api\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "unit") == 0) {
        test_ports();
        test_bodies();
    } else {
        if (sd_event_new(&loop) < 0) return 1;
        test_api();
        sd_event_unref(loop);
    }
    printf("endpointslice %s: %u checks, %d failures\n", argv[1], checks, failures);
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
