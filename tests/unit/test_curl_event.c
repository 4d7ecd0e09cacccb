/* SPDX-License-Identifier: MIT */
/* curl_event: libcurl multi on sd-event, used directly as a health checker
 * would. A tiny HTTP server runs on the same loop (so the test also proves
 * that nothing blocks it): /ok answers, /hang never does. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "curl_event.h"

#include "check.h"
#include "loopback_http.h"

static sd_event *loop;
static char base[64];

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- server ---- */
static LoopbackServer *server;

static int on_request(LoopbackConn *c, const char *req, size_t len, void *ud)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    if (strncmp(req, "GET /hang", 9) == 0) return 0; /* never answered */
    loopback_conn_reply(c, ok, sizeof(ok) - 1, false);
    return 0;
}

static void server_start(void)
{
    server = loopback_server_new(loop, 64, true, on_request, NULL);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", loopback_server_port(server));
}

/* ---- transfers ---- */
static size_t sink(char *d, size_t s, size_t n, void *ud)
{
    return s * n;
}

static CURL *get(const char *path)
{
    char url[128];
    CURL *e = curl_easy_init();
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

static int n_done, n_ok;
static CURL *victim;
static int chain_left;

static void done_count(CurlEvent *ce, CURL *e, CURLcode res, void *ud)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    n_done++;
    if (res == CURLE_OK && code == 200) n_ok++;
    curl_easy_cleanup(e);
}

/* Starts the next transfer from inside a done callback. */
static void done_chain(CurlEvent *ce, CURL *e, CURLcode res, void *ud)
{
    done_count(ce, e, res, ud);
    if (--chain_left > 0) CHECK(curl_event_add(ce, get("/ok"), done_chain, NULL) == 0);
}

/* Stops another transfer from inside a done callback. */
static void done_remove_victim(CurlEvent *ce, CURL *e, CURLcode res, void *ud)
{
    done_count(ce, e, res, ud);
    CHECK(curl_event_remove(ce, victim) == 0);
    curl_easy_cleanup(victim);
    victim = NULL;
}

static void done_never(CurlEvent *ce, CURL *e, CURLcode res, void *ud)
{
    fprintf(stderr, "callback of a removed transfer\n");
    failures++;
}

static void run_until_count(int n, uint64_t timeout)
{
    uint64_t end = now_usec() + timeout;
    while (n_done < n && now_usec() < end)
        sd_event_run(loop, 50000);
}

typedef struct Tick {
    bool fired;
    uint64_t at;
} Tick;

static int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
    Tick *t = ud;
    t->fired = true;
    t->at = now_usec();
    return 0;
}

int main(void)
{
    CurlEvent *ce = NULL;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sd_event_new(&loop) < 0) abort();
    server_start();
    CHECK(curl_event_new(loop, &ce) == 0);

    /* 20 at once. */
    for (int i = 0; i < 20; i++)
        CHECK(curl_event_add(ce, get("/ok"), done_count, NULL) == 0);
    CHECK(curl_event_count(ce) == 20);
    run_until_count(20, 5000000);
    CHECK(n_done == 20 && n_ok == 20 && curl_event_count(ce) == 0);

    /* A hanging transfer does not hold up a timer on the same loop. */
    CURL *hang = get("/hang");
    CHECK(curl_event_add(ce, hang, done_never, NULL) == 0);
    Tick tick = {};
    uint64_t t0 = now_usec();
    CHECK(sd_event_add_time(loop, NULL, CLOCK_BOOTTIME, t0 + 200000, 0, on_tick, &tick) >= 0);
    while (!tick.fired && now_usec() < t0 + 2000000)
        sd_event_run(loop, 50000);
    CHECK(tick.fired && tick.at - (t0 + 200000) < 150000);
    CHECK(curl_event_remove(ce, hang) == 0);
    CHECK(curl_event_remove(ce, hang) == -ENOENT);
    curl_easy_cleanup(hang);
    CHECK(curl_event_count(ce) == 0);

    /* New transfers started from a done callback. */
    n_done = n_ok = 0;
    chain_left = 5;
    CHECK(curl_event_add(ce, get("/ok"), done_chain, NULL) == 0);
    run_until_count(5, 5000000);
    CHECK(n_done == 5 && n_ok == 5);

    /* Another transfer removed from a done callback. */
    n_done = n_ok = 0;
    victim = get("/hang");
    CHECK(curl_event_add(ce, victim, done_never, NULL) == 0);
    CHECK(curl_event_add(ce, get("/ok"), done_remove_victim, NULL) == 0);
    run_until_count(1, 5000000);
    CHECK(n_done == 1 && victim == NULL && curl_event_count(ce) == 0);

    /* A timeout ends a transfer through the timer path. */
    n_done = n_ok = 0;
    CURL *slow = get("/hang");
    curl_easy_setopt(slow, CURLOPT_TIMEOUT_MS, 300L);
    t0 = now_usec();
    CHECK(curl_event_add(ce, slow, done_count, NULL) == 0);
    run_until_count(1, 5000000);
    CHECK(n_done == 1 && n_ok == 0 && now_usec() - t0 >= 290000 && now_usec() - t0 < 1500000);

    /* Freed with a transfer running: no callback; the handle stays ours. */
    CURL *left = get("/hang");
    CHECK(curl_event_add(ce, left, done_never, NULL) == 0);
    for (int i = 0; i < 5; i++)
        sd_event_run(loop, 20000);
    ce = curl_event_free(ce);
    curl_easy_cleanup(left);
    for (int i = 0; i < 3; i++)
        sd_event_run(loop, 10000);

    /* After the loop has finished, nothing can be started. */
    CHECK(curl_event_new(loop, &ce) == 0);
    sd_event_exit(loop, 0);
    sd_event_loop(loop);
    CURL *late = get("/ok");
    CHECK(curl_event_add(ce, late, done_never, NULL) == -ESHUTDOWN);
    curl_easy_cleanup(late);
    curl_event_free(ce);

    server = loopback_server_free(server);
    sd_event_unref(loop);
    curl_global_cleanup();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_curl_event: ok\n");
    return 0;
}
