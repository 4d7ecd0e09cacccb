/* SPDX-License-Identifier: MIT */
#include "health.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "curl_event.h"
#include "util.h"

struct HealthChecker {
    sd_event *event;
    HealthKind kind;
    char target[HEALTH_URL_MAX];  /* as given */
    char display[HEALTH_URL_MAX]; /* for reasons: the URL without user:password@ */
    struct sockaddr_storage addr; /* TCP */
    socklen_t addr_len;
    uint64_t period_usec, timeout_usec;
    HealthHysteresis hyst;

    health_change_fn on_change;
    health_result_fn on_result;
    void *userdata;

    sd_event_source *tick; /* the period */
    uint64_t started;      /* CLOCK_BOOTTIME of the check in flight; 0: none */
    uint64_t checks;
    char reason[HEALTH_REASON_MAX];

    /* HTTP */
    CurlEvent *curl;
    CURL *easy;
    bool easy_running;
    size_t body_bytes;
    char errbuf[CURL_ERROR_SIZE];

    /* TCP */
    int fd;
    sd_event_source *io, *deadline;
};

/* ---- names, hysteresis ---- */

const char *health_state_to_string(HealthState s)
{
    static const char *const t[_HEALTH_STATE_MAX] = {
        [HEALTH_UNKNOWN] = "unknown",
        [HEALTH_HEALTHY] = "healthy",
        [HEALTH_UNHEALTHY] = "unhealthy",
    };
    return (unsigned)s < _HEALTH_STATE_MAX ? t[s] : NULL;
}

void health_hysteresis_init(HealthHysteresis *h, unsigned failure_threshold,
                            unsigned success_threshold)
{
    *h = (HealthHysteresis){
        .failure_threshold = failure_threshold ? failure_threshold : 1,
        .success_threshold = success_threshold ? success_threshold : 1,
        .state = HEALTH_UNKNOWN,
    };
}

bool health_hysteresis_feed(HealthHysteresis *h, bool ok)
{
    HealthState old = h->state;

    if (ok) {
        h->failures = 0;
        if (h->successes < UINT32_MAX) h->successes++;
        if (h->successes >= h->success_threshold) h->state = HEALTH_HEALTHY;
    } else {
        h->successes = 0;
        if (h->failures < UINT32_MAX) h->failures++;
        if (h->failures >= h->failure_threshold) h->state = HEALTH_UNHEALTHY;
    }
    return h->state != old;
}

/* ---- targets ---- */

int health_http_url_validate(const char *url)
{
    size_t n;

    if (!url) return -EINVAL;
    n = strlen(url);
    if (n >= HEALTH_URL_MAX) return -EINVAL;
    if (strncmp(url, "http://", 7) == 0)
        url += 7;
    else if (strncmp(url, "https://", 8) == 0)
        url += 8;
    else
        return -EINVAL;
    if (*url == 0 || *url == '/') return -EINVAL; /* no host */
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) return -EINVAL;
    return 0;
}

int health_tcp_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon, *h, *p;
    size_t hn;
    unsigned long port;
    char *end;
    struct sockaddr_storage ss = {0};
    socklen_t len;

    if (!s || strlen(s) >= HEALTH_TCP_MAX) return -EINVAL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return -EINVAL;
        h = s + 1;
        hn = (size_t)(close - h);
        p = close + 2;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon) return -EINVAL; /* an IPv6 address needs brackets */
        h = s;
        hn = (size_t)(colon - s);
        p = colon + 1;
    }
    if (hn == 0 || hn >= sizeof host) return -EINVAL;
    memcpy(host, h, hn);
    host[hn] = 0;
    if (!isdigit((unsigned char)p[0])) return -EINVAL;
    errno = 0;
    port = strtoul(p, &end, 10);
    if (errno || *end || port < 1 || port > 65535) return -EINVAL;

    if (s[0] != '[' && strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return -EINVAL;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return -EINVAL;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    }
    if (ret) *ret = ss;
    if (ret_len) *ret_len = len;
    return 0;
}

/* The URL as it may be logged: without a user:password@ part. */
static void url_display(const char *url, char *buf, size_t size)
{
    const char *host = strstr(url, "://");
    const char *at, *slash;

    if (!host) {
        snprintf(buf, size, "%s", url);
        return;
    }
    host += 3;
    slash = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(slash - host));
    if (!at) {
        snprintf(buf, size, "%s", url);
        return;
    }
    snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
}

static void format_duration(uint64_t usec, char *buf, size_t size)
{
    if (usec % USEC_PER_SEC == 0)
        snprintf(buf, size, "%llus", (unsigned long long)(usec / USEC_PER_SEC));
    else
        snprintf(buf, size, "%llums", (unsigned long long)((usec + 999) / USEC_PER_MSEC));
}

/* Reasons are one bounded line: a long URL is cut, by design. */
static void set_reason(HealthChecker *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(HealthChecker *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->reason, sizeof h->reason, fmt, ap);
    va_end(ap);
}

/* ---- one check's end ---- */

static void check_cleanup(HealthChecker *h)
{
    if (h->easy_running) {
        (void)curl_event_remove(h->curl, h->easy);
        h->easy_running = false;
    }
    h->io = sd_event_source_disable_unref(h->io);
    h->deadline = sd_event_source_disable_unref(h->deadline);
    if (h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
    }
}

static void check_done(HealthChecker *h, bool ok)
{
    uint64_t took = h->started ? now_boot_usec() - h->started : 0;

    check_cleanup(h);
    h->started = 0;
    h->checks++;
    if (h->on_result) h->on_result(h, ok, took, h->reason, h->userdata);
    if (health_hysteresis_feed(&h->hyst, ok) && h->on_change)
        h->on_change(h, h->hyst.state, h->reason, h->userdata);
}

static void reason_timeout(HealthChecker *h)
{
    char d[32];

    format_duration(h->timeout_usec, d, sizeof d);
    if (h->kind == HEALTH_CHECK_HTTP)
        set_reason(h, "GET %s: timeout after %s", h->display, d);
    else
        set_reason(h, "connect %s: timeout after %s", h->target, d);
}

/* ---- HTTP ---- */

static size_t http_discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    HealthChecker *h = userdata;
    size_t n = size * nmemb;

    (void)ptr;
    h->body_bytes += n;
    /* Enough: the status code is known; a huge or endless body must not keep
     * the check going. Returning short ends the transfer (CURLE_WRITE_ERROR). */
    return h->body_bytes > HEALTH_BODY_MAX ? 0 : n;
}

static void http_done(CurlEvent *ce, CURL *easy, CURLcode result, void *userdata)
{
    HealthChecker *h = userdata;
    long code = 0;
    bool ok = false;

    (void)ce;
    h->easy_running = false;
    (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (result == CURLE_OK ||
        (result == CURLE_WRITE_ERROR && h->body_bytes > HEALTH_BODY_MAX && code > 0)) {
        /* As the kubelet's httpGet probe: 2xx and 3xx are success. */
        ok = code >= 200 && code < 400;
        set_reason(h, "HTTP %ld from %s", code, h->display);
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
        reason_timeout(h);
    } else {
        set_reason(h, "GET %s: %s", h->display,
                   h->errbuf[0] ? h->errbuf : curl_easy_strerror(result));
    }
    check_done(h, ok);
}

static int http_start(HealthChecker *h)
{
    long ms = (long)((h->timeout_usec + 999) / USEC_PER_MSEC);
    int r;

    if (!h->easy) {
        h->easy = curl_easy_init();
        if (!h->easy) return -ENOMEM;
        if (curl_easy_setopt(h->easy, CURLOPT_URL, h->target) != CURLE_OK ||
            curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
            return -EINVAL;
        (void)curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
        /* The application is in this pod: a cluster-wide HTTP(S)_PROXY must not
         * be used to reach it. */
        (void)curl_easy_setopt(h->easy, CURLOPT_NOPROXY, "*");
        (void)curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L);
        /* A new connection each time, as the kubelet: a wedged accept queue must
         * show, not hide behind a kept-alive connection. */
        (void)curl_easy_setopt(h->easy, CURLOPT_FRESH_CONNECT, 1L);
        (void)curl_easy_setopt(h->easy, CURLOPT_FORBID_REUSE, 1L);
        (void)curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "leader-elector-health");
        (void)curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, http_discard);
        (void)curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
        (void)curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
        (void)curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
        (void)curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L);
        /* https: the peer is verified (libcurl's default, kept on purpose). */
    }
    h->body_bytes = 0;
    h->errbuf[0] = 0;
    r = curl_event_add(h->curl, h->easy, http_done, h);
    if (r < 0) return r;
    h->easy_running = true;
    return 0;
}

/* ---- TCP ---- */

static void tcp_finish(HealthChecker *h, int err)
{
    char msg[128];
    size_t n;

    if (err == 0) {
        set_reason(h, "connect %s: connected", h->target);
        check_done(h, true);
        return;
    }
    snprintf(msg, sizeof msg, "%s", strerror(err));
    n = strlen(msg);
    if (n > 0 && isupper((unsigned char)msg[0]) && (n == 1 || !isupper((unsigned char)msg[1])))
        msg[0] = (char)tolower((unsigned char)msg[0]);
    set_reason(h, "connect %s: %s", h->target, msg);
    check_done(h, false);
}

static int tcp_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    HealthChecker *h = userdata;
    int err = 0;
    socklen_t len = sizeof err;

    (void)s;
    (void)revents;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    tcp_finish(h, err);
    return 0;
}

static int tcp_on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
    HealthChecker *h = userdata;

    (void)s;
    (void)usec;
    reason_timeout(h);
    check_done(h, false);
    return 0;
}

static int tcp_start(HealthChecker *h)
{
    int r;

    h->fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->fd < 0) return -errno;
    if (connect(h->fd, (struct sockaddr *)&h->addr, h->addr_len) == 0) {
        /* Connected at once (loopback): still report from the loop, like every
         * other outcome. */
        r = sd_event_add_io(h->event, &h->io, h->fd, EPOLLOUT, tcp_on_io, h);
        return r < 0 ? r : 0;
    }
    if (errno != EINPROGRESS) {
        /* Refused at once: report from the loop too (EPOLLOUT|EPOLLERR fires). */
        r = sd_event_add_io(h->event, &h->io, h->fd, EPOLLOUT, tcp_on_io, h);
        return r < 0 ? r : 0;
    }
    r = sd_event_add_io(h->event, &h->io, h->fd, EPOLLOUT, tcp_on_io, h);
    if (r < 0) return r;
    r = sd_event_add_time_relative(h->event, &h->deadline, CLOCK_BOOTTIME, h->timeout_usec,
                                   USEC_PER_MSEC, tcp_on_deadline, h);
    return r < 0 ? r : 0;
}

/* ---- the period ---- */

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
    HealthChecker *h = userdata;
    uint64_t now = now_boot_usec();
    int r;

    (void)usec;
    if (h->started) {
        /* The previous check outlived the period (its own timeout should have
         * ended it first): it failed. */
        reason_timeout(h);
        check_done(h, false);
    }
    /* Next start one period after this one; late ticks do not accumulate. */
    if (sd_event_source_set_time(s, now + h->period_usec) >= 0)
        (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);

    h->started = now;
    r = h->kind == HEALTH_CHECK_HTTP ? http_start(h) : tcp_start(h);
    if (r < 0) {
        set_reason(h, "cannot start the check: %s", strerror(-r));
        check_done(h, false);
    }
    return 0;
}

int health_checker_new(sd_event *event, const HealthConfig *cfg, HealthChecker **ret)
{
    HealthChecker *h;
    int r;

    if (!event || !cfg || !cfg->target || !ret) return -EINVAL;
    if (cfg->kind == HEALTH_CHECK_HTTP) {
        if (health_http_url_validate(cfg->target) < 0) return -EINVAL;
    } else if (cfg->kind == HEALTH_CHECK_TCP) {
        if (health_tcp_parse(cfg->target, NULL, NULL) < 0) return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (cfg->failure_threshold > HEALTH_THRESHOLD_MAX ||
        cfg->success_threshold > HEALTH_THRESHOLD_MAX)
        return -EINVAL;

    h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    h->fd = -1;
    h->event = sd_event_ref(event);
    h->kind = cfg->kind;
    snprintf(h->target, sizeof h->target, "%s", cfg->target);
    url_display(h->target, h->display, sizeof h->display);
    h->period_usec = cfg->period_usec ? cfg->period_usec : HEALTH_DEFAULT_PERIOD_USEC;
    h->timeout_usec = cfg->timeout_usec ? cfg->timeout_usec : HEALTH_DEFAULT_TIMEOUT_USEC;
    if (h->timeout_usec > h->period_usec) h->timeout_usec = h->period_usec;
    health_hysteresis_init(
        &h->hyst, cfg->failure_threshold ? cfg->failure_threshold : HEALTH_DEFAULT_FAILURES,
        cfg->success_threshold ? cfg->success_threshold : HEALTH_DEFAULT_SUCCESSES);
    if (h->kind == HEALTH_CHECK_TCP) {
        (void)health_tcp_parse(h->target, &h->addr, &h->addr_len);
    } else {
        /* A loop of its own for health checks: a wedged application never
         * shares a connection pool or a transfer limit with the API client. */
        r = curl_event_new(event, &h->curl);
        if (r < 0) {
            health_checker_free(h);
            return r;
        }
    }
    *ret = h;
    return 0;
}

HealthChecker *health_checker_free(HealthChecker *h)
{
    if (!h) return NULL;
    check_cleanup(h);
    h->tick = sd_event_source_disable_unref(h->tick);
    curl_event_free(h->curl);
    if (h->easy) curl_easy_cleanup(h->easy);
    sd_event_unref(h->event);
    free(h);
    return NULL;
}

void health_checker_set_callbacks(HealthChecker *h, health_change_fn on_change,
                                  health_result_fn on_result, void *userdata)
{
    h->on_change = on_change;
    h->on_result = on_result;
    h->userdata = userdata;
}

int health_checker_start(HealthChecker *h)
{
    if (h->tick) return 0;
    /* Due at once: the first check runs on the next loop iteration. */
    return sd_event_add_time(h->event, &h->tick, CLOCK_BOOTTIME, 0, USEC_PER_MSEC, on_tick, h);
}

HealthState health_checker_state(const HealthChecker *h)
{
    return h ? h->hyst.state : HEALTH_UNKNOWN;
}

const char *health_checker_reason(const HealthChecker *h)
{
    return h ? h->reason : "";
}

uint64_t health_checker_checks(const HealthChecker *h)
{
    return h ? h->checks : 0;
}
