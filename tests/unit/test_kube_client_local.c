/* SPDX-License-Identifier: MIT */
/* The API client against a scripted HTTP server running on the same sd-event
 * loop (curl's test-suite style: each request gets the next scripted reply;
 * the bytes the client sent are checked). It covers what the Kubernetes API
 * test server does not produce: a 10 MiB body with and without a length,
 * garbage bodies, plain-text 404/429/500, watch streams with garbage, with
 * an overlong line, with 410, and a burst that needs flow control; and it
 * proves the token never appears in the log. Plain http on 127.0.0.1, port
 * chosen by the kernel; nothing outlives the process. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kube_test_util.h"
#include "loopback_http.h"

#define SEC 1000000ULL
#define MSEC 1000ULL
#define TOKEN "s3cr3t-local-token-value-0123456789"

static sd_event *loop;

/* ---- the scripted server ---- */
typedef struct Reply {
    char *data;
    size_t len;
    bool close; /* close the connection after the reply */
    bool hang;  /* never answer */
} Reply;

static Reply script[32];
static int n_script, next_script;
static char last_request[65536];
static int n_requests;

static void push_reply(const char *status, const char *headers, const char *body, size_t body_len,
                       bool with_length, bool close_after)
{
    char head[1024];
    int n;
    Reply *r = &script[n_script++];

    if (with_length)
        n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n%s\r\n", status,
                     headers, body_len, close_after ? "Connection: close\r\n" : "");
    else
        n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n%sConnection: close\r\n\r\n", status,
                     headers);
    r->len = (size_t)n + body_len;
    r->data = malloc(r->len);
    memcpy(r->data, head, (size_t)n);
    memcpy(r->data + n, body, body_len);
    r->close = close_after || !with_length;
}

static void push_json(const char *status, const char *body)
{
    push_reply(status, "Content-Type: application/json\r\n", body, strlen(body), true, false);
}

static void script_reset(void)
{
    for (int i = 0; i < n_script; i++)
        free(script[i].data);
    memset(script, 0, sizeof(script));
    n_script = next_script = 0;
}

static LoopbackServer *server;

/* Each request gets the next scripted reply (a copy: the script may be reset
 * while a reply is written). */
static int on_request(LoopbackConn *c, const char *req, size_t len, void *ud)
{
    size_t n = len < sizeof(last_request) - 1 ? len : sizeof(last_request) - 1;
    memcpy(last_request, req, n);
    last_request[n] = 0;
    n_requests++;
    if (next_script >= n_script) {
        fprintf(stderr, "server: no scripted reply left\n");
        return -1;
    }
    const Reply *r = &script[next_script++];
    if (!r->hang) loopback_conn_reply(c, r->data, r->len, r->close);
    return 0;
}

static int server_start(void)
{
    server = loopback_server_new(loop, 16, true, on_request, NULL);
    return loopback_server_port(server);
}

/* ---- helpers ---- */
static const char *LEASE =
    "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"l1\","
    "\"namespace\":\"ns1\",\"uid\":\"u\",\"resourceVersion\":\"7\",\"labels\":{\"keep\":\"me\"}},"
    "\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,"
    "\"renewTime\":\"2026-11-22T05:00:00.000000Z\",\"preferredHolder\":\"p\","
    "\"strategy\":\"OldestEmulationVersion\"}}";

static KubeClient *client;
static const char *kube_test_url, *kube_test_token;

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int get_lease(uint64_t timeout, Outcome *o)
{
    outcome_reset(o);
    CHECK(kube_lease_get(client, NULL, "l1", timeout, on_done, o, NULL) == 0);
    run_until(loop, &o->done, timeout + 5 * SEC);
    CHECK(o->done);
    return o->result;
}

static void test_requests(void)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};

    fprintf(stderr, "== request bytes, patch-in-place on the wire\n");
    script_reset();
    push_json("200 OK", LEASE);
    CHECK(get_lease(2 * SEC, &o) == KUBE_OK && o.has_lease);
    CHECK(starts_with(
        last_request,
        "GET /apis/coordination.k8s.io/v1/namespaces/ns1/leases/l1?timeout=2s HTTP/1.1\r\n"));
    CHECK(strstr(last_request, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
    CHECK(strstr(last_request, "\r\nAccept: application/json, */*\r\n"));
    CHECK(strstr(last_request, "\r\nUser-Agent: leader-elector/"));

    KubeLease l = KUBE_LEASE_INIT;
    CHECK(kube_lease_copy(&o.lease, &l) == 0);
    free(l.holder_identity);
    l.holder_identity = strdup("b");
    l.renew_time_usec += 1;
    push_json("200 OK", LEASE);
    outcome_reset(&o);
    CHECK(kube_lease_update(client, &l, 2 * SEC, on_done, &o, NULL) == 0);
    run_until(loop, &o.done, 5 * SEC);
    CHECK(o.result == KUBE_OK);
    CHECK(starts_with(
        last_request,
        "PUT /apis/coordination.k8s.io/v1/namespaces/ns1/leases/l1?timeout=2s HTTP/1.1\r\n"));
    CHECK(strstr(last_request, "\r\nContent-Type: application/json\r\n"));
    const char *body = strstr(last_request, "\r\n\r\n");
    CHECK(body &&
          strcmp(body + 4,
                 "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{"
                 "\"name\":\"l1\",\"namespace\":\"ns1\",\"uid\":\"u\",\"resourceVersion\":\"7\","
                 "\"labels\":{\"keep\":\"me\"}},\"spec\":{\"holderIdentity\":\"b\","
                 "\"leaseDurationSeconds\":15,\"renewTime\":\"2026-11-22T05:00:00.000001Z\","
                 "\"preferredHolder\":\"p\",\"strategy\":\"OldestEmulationVersion\"}}") == 0);
    kube_lease_done(&l);

    /* The connection was kept: both requests on one. */
    CHECK(kube_client_connects(client) == 1);
    outcome_reset(&o);
}

static void test_bodies(void)
{
    Outcome o = {.lease = KUBE_LEASE_INIT};
    size_t big = 10u << 20;
    char *ten = malloc(big);
    memset(ten, 'x', big);
    ten[0] = '{';

    fprintf(stderr, "== 10 MiB with Content-Length: refused\n");
    script_reset();
    push_reply("200 OK", "Content-Type: application/json\r\n", ten, big, true, false);
    uint64_t t0 = mono_usec();
    CHECK(get_lease(5 * SEC, &o) == KUBE_E_TOO_LARGE);
    CHECK(mono_usec() - t0 < 3 * SEC);

    fprintf(stderr, "== 10 MiB without a length: aborted at the bound\n");
    script_reset();
    push_reply("200 OK", "Content-Type: application/json\r\n", ten, big, false, true);
    CHECK(get_lease(5 * SEC, &o) == KUBE_E_TOO_LARGE);
    free(ten);

    fprintf(stderr, "== garbage bodies\n");
    script_reset();
    const char *html = "<html><body>502 Bad Gateway</body></html>";
    push_reply("200 OK", "Content-Type: text/html\r\n", html, strlen(html), true, false);
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_PROTOCOL);
    const char *bin = "\x00\x01\x02{\"kind\":\"Lease\"\xff\xfe";
    push_reply("200 OK", "Content-Type: application/json\r\n", bin, 20, true, false);
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_PROTOCOL);
    push_json("200 OK", "{\"kind\":\"Status\",\"code\":200}");
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_PROTOCOL);
    push_reply("200 OK", "Content-Type: application/json\r\n", html, strlen(html), true, false);
    outcome_reset(&o);
    CHECK(kube_object_get(client, &KUBE_RESOURCE_PODS, NULL, "p", 2 * SEC, on_done, &o, NULL) == 0);
    run_until(loop, &o.done, 5 * SEC);
    CHECK(o.result == KUBE_E_PROTOCOL);
    push_reply("500 Internal Server Error", "Content-Type: text/plain\r\n", html, strlen(html),
               true, false);
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_SERVER_ERROR && o.http == 500 && !o.status_message);
    const char *nf = "404 page not found\n";
    push_reply("404 Not Found", "Content-Type: text/plain; charset=utf-8\r\n", nf, strlen(nf), true,
               false);
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_NOT_FOUND && o.http == 404);
    push_reply("302 Found", "Location: http://example.invalid/\r\n", "", 0, true, false);
    CHECK(get_lease(2 * SEC, &o) == KUBE_E_PROTOCOL);
    /* A body cut short by a closed connection. */
    push_reply("200 OK", "Content-Type: application/json\r\nContent-Length: 100\r\n", LEASE, 40,
               false, true);
    int r = get_lease(2 * SEC, &o);
    CHECK(r == KUBE_E_TRANSPORT || r == KUBE_E_PROTOCOL);

    fprintf(stderr, "== plain-text 429 (API Priority and Fairness)\n");
    const char *tm = "Too many requests, please try again later.\n";
    script_reset();
    push_reply("429 Too Many Requests",
               "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
               "Retry-After: 2\r\n",
               tm, strlen(tm), true, false);
    t0 = mono_usec();
    CHECK(get_lease(1 * SEC, &o) == KUBE_E_TOO_MANY_REQUESTS);
    CHECK(o.retry_after == 2 * SEC && !o.status_message && mono_usec() - t0 < 1 * SEC);
    push_reply("429 Too Many Requests",
               "Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n", tm, strlen(tm),
               true, false);
    push_json("200 OK", LEASE);
    t0 = mono_usec();
    CHECK(get_lease(3 * SEC, &o) == KUBE_OK);
    CHECK(o.at - t0 >= 950 * MSEC);
    /* No Retry-After: returned at once. */
    push_reply("429 Too Many Requests", "Content-Type: text/plain\r\n", tm, strlen(tm), true,
               false);
    CHECK(get_lease(3 * SEC, &o) == KUBE_E_TOO_MANY_REQUESTS && o.retry_after == 0);

    outcome_reset(&o);
}

/* ---- watch streams ---- */
typedef struct W {
    int n, added, bookmarks, modified;
    long last_seq;
    bool in_order;
    Outcome end;
} W;

static void w_event(KubeClient *c, const KubeWatchEvent *ev, void *ud)
{
    W *w = ud;
    w->n++;
    if (ev->type == KUBE_WATCH_ADDED) w->added++;
    if (ev->type == KUBE_WATCH_BOOKMARK) w->bookmarks++;
    if (ev->type == KUBE_WATCH_MODIFIED) {
        long seq = strtol(ev->resource_version, NULL, 10);
        if (seq != w->last_seq + 1) w->in_order = false;
        w->last_seq = seq;
        w->modified++;
    }
}

static void w_end(KubeClient *c, const KubeResponse *r, void *ud)
{
    W *w = ud;
    on_done(c, r, &w->end);
}

static char *event_line(const char *type, long rv)
{
    char *s = NULL;
    if (asprintf(&s,
                 "{\"type\":\"%s\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":"
                 "\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"l1\",\"namespace\":\"ns1\","
                 "\"resourceVersion\":\"%ld\"},\"spec\":{\"holderIdentity\":\"h%ld\","
                 "\"leaseDurationSeconds\":15}}}\n",
                 type, rv, rv) < 0)
        abort();
    return s;
}

static KubeRequest *cancel_target;

static void w_event_cancel(KubeClient *c, const KubeWatchEvent *ev, void *ud)
{
    w_event(c, ev, ud);
    cancel_target = kube_request_cancel(cancel_target);
}

static void push_stream(const char *body, size_t len)
{
    push_reply("200 OK", "Content-Type: application/json\r\n", body, len, false, true);
}

static void test_watch(void)
{
    W w = {.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    KubeRequest *req = NULL;

    fprintf(stderr, "== watch: events then a garbage line\n");
    script_reset();
    char *a = event_line("ADDED", 5), *m = event_line("MODIFIED", 6), *body = NULL;
    CHECK(asprintf(&body,
                   "%s{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":"
                   "\"coordination.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"6\"},"
                   "\"spec\":{}}}\n%s<html>oops</html>\n",
                   a, m) > 0);
    push_stream(body, strlen(body));
    free(body);
    CHECK(kube_lease_watch(client, NULL, "l1", "4", 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 5 * SEC);
    CHECK(w.end.done && w.end.result == KUBE_E_PROTOCOL);
    CHECK(w.added == 1 && w.bookmarks == 1 && w.modified == 1);
    CHECK(
        starts_with(last_request,
                    "GET /apis/coordination.k8s.io/v1/namespaces/ns1/leases?fieldSelector=metadata."
                    "name%3Dl1&watch=true&allowWatchBookmarks=true&timeoutSeconds=30"
                    "&resourceVersion=4 HTTP/1.1\r\n"));

    fprintf(stderr, "== watch: stream ends, resumes from the last version, then 410\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    push_stream(a, strlen(a));
    const char *expired =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
        "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
        "version: 5 (3171407)\",\"reason\":\"Expired\",\"code\":410}}\n";
    push_stream(expired, strlen(expired));
    CHECK(kube_lease_watch(client, NULL, "l1", NULL, 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 5 * SEC);
    CHECK(w.end.done && w.end.result == KUBE_E_EXPIRED && w.added == 1);
    CHECK(strstr(last_request, "&resourceVersion=5 HTTP/1.1"));
    free(a);
    free(m);

    fprintf(stderr, "== watch: a line longer than the bound\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    size_t big = 3u << 20;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    push_stream(huge, big);
    free(huge);
    CHECK(kube_lease_watch(client, NULL, "l1", "1", 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 5 * SEC);
    CHECK(w.end.done && w.end.result == KUBE_E_TOO_LARGE);

    fprintf(stderr, "== watch: a burst of 6000 events (1.8 MB) through a 64 KiB bound, in order\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true, .last_seq = 99};
    size_t cap = 6000 * 300, len = 0;
    char *burst = malloc(cap);
    for (long i = 100; i < 6100; i++) {
        char *l = event_line("MODIFIED", i);
        size_t n = strlen(l);
        memcpy(burst + len, l, n);
        len += n;
        free(l);
    }
    push_stream(burst, len);
    free(burst);
    push_stream(expired, strlen(expired));
    /* A 64 KiB bound makes the consumer fall behind: the stream is paused
     * and resumed many times, and nothing may be lost or reordered. */
    KubeConfig small_cfg = {.server = (char *)kube_test_url,
                            .token_file = (char *)kube_test_token,
                            .namespace_ = (char *)"ns1",
                            .max_response_bytes = 65536};
    KubeClient *small = NULL;
    CHECK(kube_client_new(loop, &small_cfg, &small) == 0);
    kube_client_set_log(small, test_log, NULL);
    CHECK(kube_lease_watch(small, NULL, "l1", "99", 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 10 * SEC);
    kube_client_free(small);
    fprintf(stderr, "burst: %d events, last %ld, end %s\n", w.modified, w.last_seq,
            kube_result_to_string(w.end.result));
    CHECK(w.modified == 6000 && w.in_order && w.last_seq == 6099);
    CHECK(w.end.done && w.end.result == KUBE_E_EXPIRED);
    CHECK(strstr(last_request, "&resourceVersion=6099 HTTP/1.1"));

    fprintf(stderr, "== watch: 401, the token file is re-read and the watch goes on\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    push_json("401 Unauthorized", "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                  "\"status\":\"Failure\",\"message\":\"Unauthorized\","
                                  "\"reason\":\"Unauthorized\",\"code\":401}");
    char *ev7 = event_line("MODIFIED", 7);
    push_stream(ev7, strlen(ev7));
    free(ev7);
    push_stream(expired, strlen(expired));
    CHECK(write_file_atomic(kube_test_token, TOKEN "-rotated") == 0);
    CHECK(kube_lease_watch(client, NULL, "l1", "6", 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 5 * SEC);
    CHECK(w.modified == 1 && w.end.done && w.end.result == KUBE_E_EXPIRED);
    CHECK(strstr(last_request, "Authorization: Bearer " TOKEN "-rotated\r\n"));
    CHECK(strstr(last_request, "&resourceVersion=7 HTTP/1.1"));

    fprintf(stderr, "== 503 with Retry-After inside the deadline: retried\n");
    script_reset();
    push_reply("503 Service Unavailable", "Content-Type: text/plain\r\nRetry-After: 1\r\n", "busy",
               4, true, false);
    push_json("200 OK", LEASE);
    Outcome o = {.lease = KUBE_LEASE_INIT};
    uint64_t t0 = mono_usec();
    CHECK(get_lease(3 * SEC, &o) == KUBE_OK && o.at - t0 >= 950 * MSEC);
    outcome_reset(&o);

    fprintf(stderr, "== watch: refused with a Status\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    push_json(
        "403 Forbidden",
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"leases.coordination.k8s.io \\\"l1\\\" is forbidden: User \\\"u\\\" "
        "cannot watch resource \\\"leases\\\" in API group \\\"coordination.k8s.io\\\" in the "
        "namespace \\\"ns1\\\"\",\"reason\":\"Forbidden\",\"details\":{\"name\":\"l1\","
        "\"group\":\"coordination.k8s.io\",\"kind\":\"leases\"},\"code\":403}");
    CHECK(kube_lease_watch(client, NULL, "l1", NULL, 30 * SEC, w_event, w_end, &w, &req) == 0);
    run_until(loop, &w.end.done, 5 * SEC);
    CHECK(w.end.done && w.end.result == KUBE_E_FORBIDDEN);
    CHECK(log_contains("missing RBAC rule: verb \"watch\" on resource \"leases\""));

    fprintf(stderr, "== watch: cancelled from inside its own event callback\n");
    script_reset();
    outcome_reset(&w.end);
    w = (W){.end = {.lease = KUBE_LEASE_INIT}, .in_order = true};
    char *e1 = event_line("ADDED", 1), *e2 = event_line("MODIFIED", 2), *b2 = NULL;
    CHECK(asprintf(&b2, "%s%s", e1, e2) > 0);
    push_reply("200 OK", "Content-Type: application/json\r\n", b2, strlen(b2), true, false);
    free(e1);
    free(e2);
    free(b2);
    cancel_target = NULL;
    CHECK(kube_lease_watch(client, NULL, "l1", NULL, 30 * SEC, w_event_cancel, w_end, &w,
                           &cancel_target) == 0);
    run_for(loop, 500 * MSEC);
    CHECK(w.n == 1 && !w.end.done && kube_client_in_flight(client) == 0);

    outcome_reset(&w.end);
}

/* Requests still running when the client goes: no callback, no leak. */
static Outcome pending = {.lease = KUBE_LEASE_INIT};
static W pending_w = {.end = {.lease = KUBE_LEASE_INIT}};

static void test_free_in_flight(void)
{
    fprintf(stderr, "== hang, then the client is freed with requests in flight\n");
    script_reset();
    script[n_script++] = (Reply){.hang = true};
    script[n_script++] = (Reply){.hang = true};
    CHECK(kube_lease_get(client, NULL, "l1", 10 * SEC, on_done, &pending, NULL) == 0);
    CHECK(kube_lease_watch(client, NULL, "l1", NULL, 0, w_event, w_end, &pending_w, NULL) == 0);
    run_for(loop, 200 * MSEC);
    CHECK(!pending.done && kube_client_in_flight(client) == 2);
}

int main(void)
{
    char dir[] = "/tmp/kube-local-XXXXXX", tokpath[4096], url[64];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sd_event_new(&loop) < 0 || !mkdtemp(dir)) abort();
    snprintf(tokpath, sizeof(tokpath), "%s/token", dir);
    if (write_file_atomic(tokpath, TOKEN) < 0) abort();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", server_start());

    kube_test_url = url;
    kube_test_token = tokpath;
    KubeConfig cfg = {.server = url, .token_file = tokpath, .namespace_ = (char *)"ns1"};
    if (kube_client_new(loop, &cfg, &client) < 0) abort();
    kube_client_set_log(client, test_log, NULL);

    test_requests();
    test_bodies();
    test_watch();
    test_free_in_flight();

    kube_client_free(client);
    run_for(loop, 100 * MSEC);
    CHECK(!pending.done && !pending_w.end.done && pending_w.n == 0);
    CHECK(!log_contains(TOKEN));
    script_reset();
    server = loopback_server_free(server);
    unlink(tokpath);
    rmdir(dir);
    sd_event_unref(loop);
    free(logbuf);
    curl_global_cleanup();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_kube_client_local: ok\n");
    return 0;
}
