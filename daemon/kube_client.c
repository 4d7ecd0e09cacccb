/* SPDX-License-Identifier: MIT */
#include "kube_client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>

#include "curl_event.h"
#include "json.h"
#include "util.h"

#define TOKEN_MAX 16384
#define TOKEN_RELOAD_DEFAULT (60 * USEC_PER_SEC)
#define MAX_RESPONSE_DEFAULT ((size_t)1 << 20)
#define RETRY_MAX 5
#define WATCH_STREAM_DEFAULT (240 * USEC_PER_SEC)
#define WATCH_STREAM_GRACE (15 * USEC_PER_SEC)
#define WATCH_BACKOFF_MIN (250 * USEC_PER_MSEC)
#define WATCH_BACKOFF_MAX (8 * USEC_PER_SEC)

const KubeResource KUBE_RESOURCE_LEASES = {"coordination.k8s.io", "v1", "leases"};
const KubeResource KUBE_RESOURCE_ENDPOINTS = {"", "v1", "endpoints"};
const KubeResource KUBE_RESOURCE_CONFIGMAPS = {"", "v1", "configmaps"};
const KubeResource KUBE_RESOURCE_EVENTS = {"", "v1", "events"};
const KubeResource KUBE_RESOURCE_PODS = {"", "v1", "pods"};
const KubeResource KUBE_RESOURCE_ENDPOINTSLICES = {"discovery.k8s.io", "v1", "endpointslices"};

typedef enum ReqKind {
    REQ_PLAIN,  /* body checked to be JSON */
    REQ_DELETE, /* body may be anything */
    REQ_LEASE,  /* body parsed as a Lease */
    REQ_WATCH,
} ReqKind;

struct KubeClient {
    sd_event *event;
    CurlEvent *ce;
    KubeConfig cfg;
    size_t max_response;
    uint64_t token_reload;

    char *token; /* never logged, never copied into messages */
    uint64_t token_checked;
    struct timespec token_mtime;
    ino_t token_ino;
    off_t token_size;
    bool token_warned;

    kube_log_fn log;
    void *log_userdata;

    KubeRequest *requests;
    unsigned n_requests;
    uint64_t connects;
    /* A request timed out: its connection may be dead while still cached
     * (an HTTP/2 connection outlives a timed-out stream), so new requests
     * connect afresh until one of those succeeds. */
    bool fresh_connect;
};

struct KubeRequest {
    KubeClient *c;
    KubeRequest *prev, *next;
    unsigned n_ref;
    bool linked, finished, cancelled;

    ReqKind kind;
    char *method;
    char *path; /* path and query, without the per-attempt timeout */
    char *body;
    size_t body_len;
    const char *content_type;
    uint64_t deadline; /* CLOCK_BOOTTIME; 0 for watches */
    kube_done_fn done;
    kube_watch_fn on_event;
    kube_watch_interrupt_fn on_interrupt;
    void *userdata;

    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    sd_event_source *timer; /* retry after / watch reconnect */
    unsigned attempts;
    bool auth_retried;

    /* The response of the current attempt. */
    char *buf;
    size_t len, cap;
    bool too_large;
    int64_t retry_after_header; /* seconds, -1: none */
    long code_seen;             /* status as known to the write callback */

    /* Watch only. */
    char *watch_base; /* path without resourceVersion */
    char *rv;
    uint64_t stream_timeout;
    uint64_t backoff;
    sd_event_source *dispatch;
    bool as_lease; /* events decoded as Leases (kube_lease_watch) */
    bool paused;
    bool got_event;
    bool fresh; /* this attempt forced a new connection */
};

/* err: an error code for "%m" in fmt, as log.h's log_error_errno(); 0 for none. */
static void klog_errno(KubeClient *c, int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void klog_errno(KubeClient *c, int level, int err, const char *fmt, ...)
{
    char msg[1024];
    int saved_errno = errno;
    va_list ap;

    errno = abs(err);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    errno = saved_errno;
    if (c->log)
        c->log(level, msg, c->log_userdata);
    else
        fprintf(stderr, "kube: %s\n", msg);
}
#define klog(c, level, ...) klog_errno(c, level, 0, __VA_ARGS__)

static uint64_t now_usec(KubeClient *c)
{
    uint64_t t = 0;
    if (sd_event_now(c->event, CLOCK_BOOTTIME, &t) < 0) t = now_boot_usec();
    return t;
}

/* ---- token ---- */

static void token_set(KubeClient *c, char *t)
{
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    c->token = t;
}

/* Reads the token file when it is due (or forced): by its identity and
 * mtime, then by contents. A failed read keeps the previous token, as
 * client-go's cached token source does. Returns 0 or a negative errno. */
static int token_reload(KubeClient *c, bool force)
{
    _cleanup_close_ int fd = -1;
    struct stat st;
    char *buf;
    ssize_t n;
    uint64_t now = now_usec(c);

    if (!c->cfg.token_file) return 0;
    if (!force && c->token && now - c->token_checked < c->token_reload) return 0;
    c->token_checked = now;

    fd = open(c->cfg.token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &st) < 0) goto fail;
    if (!force && c->token && st.st_ino == c->token_ino && st.st_size == c->token_size &&
        st.st_mtim.tv_sec == c->token_mtime.tv_sec && st.st_mtim.tv_nsec == c->token_mtime.tv_nsec)
        return 0;
    if (st.st_size > TOKEN_MAX) {
        errno = EFBIG;
        goto fail;
    }
    buf = malloc(TOKEN_MAX + 1);
    if (!buf) return -ENOMEM;
    n = read(fd, buf, TOKEN_MAX);
    if (n < 0) {
        free(buf);
        goto fail;
    }
    buf[n] = 0;
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = 0;
    /* A token goes into a header line: no control characters. */
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            explicit_bzero(buf, (size_t)n);
            free(buf);
            errno = EBADMSG;
            goto fail;
        }
    if (n == 0) {
        free(buf);
        errno = ENODATA;
        goto fail;
    }
    if (c->token && strcmp(c->token, buf) == 0) {
        explicit_bzero(buf, (size_t)n);
        free(buf);
    } else {
        if (c->token)
            klog(c, LOG_INFO, "bearer token file %s changed, using the new token",
                 c->cfg.token_file);
        token_set(c, buf);
    }
    c->token_ino = st.st_ino;
    c->token_size = st.st_size;
    c->token_mtime = st.st_mtim;
    c->token_warned = false;
    return 0;
fail : {
    int r = -errno;
    if (!c->token_warned || !c->token)
        klog_errno(c, LOG_WARNING, r, "cannot read bearer token file %s: %m%s", c->cfg.token_file,
                   c->token ? " (keeping the previous token)" : "");
    c->token_warned = true;
    return r;
}
}

/* ---- helpers ---- */

static char *escape_segment(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;

    if (!o) return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == ':')
            *p++ = (char)ch;
        else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    *p = 0;
    return o;
}

static bool name_ok(const char *s)
{
    return s && *s && strlen(s) <= 253 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* /api/v1[/namespaces/NS]/RES[/NAME] or /apis/G/V/… */
static char *object_path(KubeClient *c, const KubeResource *res, const char *ns, const char *name)
{
    _cleanup_free_ char *ens = NULL, *ename = NULL;
    char *p = NULL;

    if (!ns) ns = c->cfg.namespace_;
    if (ns && *ns && !(ens = escape_segment(ns))) return NULL;
    if (name && !(ename = escape_segment(name))) return NULL;
    /* "/api/v1/..." for the core group, "/apis/GROUP/VERSION/..." otherwise:
     * exactly one slash between segments (Go's ServeMux redirects "//"). */
    if (asprintf(&p, "%s%s/%s%s%s/%s", res->group[0] ? "/apis/" : "/api", res->group, res->version,
                 ens ? "/namespaces/" : "", ens ? ens : "", res->resource) < 0)
        return NULL;
    if (ename) {
        char *q = NULL;
        if (asprintf(&q, "%s/%s", p, ename) < 0) q = NULL;
        free(p);
        p = q;
    }
    return p;
}

/* ---- request lifetime ---- */

static void request_stop_transfer(KubeRequest *r)
{
    if (r->easy) {
        if (r->c) (void)curl_event_remove(r->c->ce, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    r->paused = false;
}

static void request_detach(KubeRequest *r)
{
    KubeClient *c = r->c;

    request_stop_transfer(r);
    r->timer = sd_event_source_disable_unref(r->timer);
    r->dispatch = sd_event_source_disable_unref(r->dispatch);
    if (!r->linked) return;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    r->linked = false;
    c->n_requests--;
}

static void request_unref(KubeRequest *r)
{
    if (!r || --r->n_ref > 0) return;
    request_detach(r);
    free(r->method);
    free(r->path);
    free(r->body);
    free(r->buf);
    free(r->watch_base);
    free(r->rv);
    free(r);
}

KubeRequest *kube_request_cancel(KubeRequest *r)
{
    if (!r || r->finished || r->cancelled) return NULL;
    r->cancelled = true;
    request_detach(r);
    request_unref(r); /* the reference of the running request */
    return NULL;
}

/* Reports the outcome once and ends the request. */
static void request_finish(KubeRequest *r, const KubeResponse *resp)
{
    if (r->finished || r->cancelled) return;
    r->finished = true;
    request_detach(r);
    if (r->done) r->done(r->c, resp, r->userdata);
    request_unref(r);
}

static void finish_simple(KubeRequest *r, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish_simple(KubeRequest *r, int result, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    KubeResponse resp = {.result = result, .body = "", .error = msg};

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    request_finish(r, &resp);
}

/* ---- curl callbacks: buffer only, never call back into libcurl or user
 * code (curl_event.h) ---- */

static bool buf_append(KubeRequest *r, const char *data, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b) return false;
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = 0;
    return true;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    KubeRequest *r = userdata;
    size_t n = size * nmemb;
    size_t max = r->c->max_response;

    if (r->kind == REQ_WATCH && r->code_seen == 0)
        (void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->code_seen);

    if (r->kind != REQ_WATCH || r->code_seen != 200) {
        /* Refused, not buffered: returning short aborts the transfer. */
        if (r->len + n > max) {
            r->too_large = true;
            return 0;
        }
        return buf_append(r, data, n) ? n : 0;
    }

    /* A watch stream: lines are handed to the loop by the dispatch source.
     * One event may not exceed the bound; if the consumer falls behind, the
     * transfer is paused (libcurl keeps the data) until it catches up. */
    if (r->len + n > 2 * max) {
        const char *nl = r->len ? memrchr(r->buf, '\n', r->len) : NULL;
        if (!nl && r->len + n > max) {
            r->too_large = true;
            return 0;
        }
        r->paused = true;
        (void)sd_event_source_set_enabled(r->dispatch, SD_EVENT_ONESHOT);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (!buf_append(r, data, n)) return 0;
    const char *nl = memrchr(r->buf, '\n', r->len);
    size_t partial = nl ? r->len - (size_t)(nl - r->buf) - 1 : r->len;
    if (partial > max) {
        r->too_large = true;
        return 0;
    }
    if (memchr(data, '\n', n)) (void)sd_event_source_set_enabled(r->dispatch, SD_EVENT_ONESHOT);
    return n;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    KubeRequest *r = userdata;
    size_t n = size * nmemb;

    if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char tmp[32];
        size_t k = n - 12 < sizeof(tmp) - 1 ? n - 12 : sizeof(tmp) - 1;
        char *end;
        memcpy(tmp, data + 12, k);
        tmp[k] = 0;
        long long v = strtoll(tmp, &end, 10);
        /* Seconds only; an HTTP date is ignored. */
        if (end != tmp && v >= 0 && v < 86400 && (*end == '\r' || *end == '\n' || !*end))
            r->retry_after_header = v;
    }
    return n;
}

/* ---- attempts ---- */

static void on_transfer_done(CurlEvent *ce, CURL *easy, CURLcode result, void *userdata);

static int attempt_start(KubeRequest *r)
{
    KubeClient *c = r->c;
    _cleanup_free_ char *url = NULL, *auth = NULL;
    uint64_t now = now_usec(c), remaining_ms;
    CURL *e;
    int r_;

    request_stop_transfer(r);
    (void)token_reload(c, false);
    r->len = 0;
    if (r->buf) r->buf[0] = 0;
    r->too_large = false;
    r->retry_after_header = -1;
    r->code_seen = 0;
    r->errbuf[0] = 0;
    r->attempts++;

    if (r->kind == REQ_WATCH) {
        free(r->path);
        r->path = NULL;
        if (asprintf(&r->path, "%s%s%s", r->watch_base, r->rv ? "&resourceVersion=" : "",
                     r->rv ? r->rv : "") < 0) {
            r->path = NULL;
            return -ENOMEM;
        }
        remaining_ms = (r->stream_timeout + WATCH_STREAM_GRACE) / USEC_PER_MSEC;
        if (asprintf(&url, "%s%s", c->cfg.server, r->path) < 0) return -ENOMEM;
    } else {
        remaining_ms = r->deadline > now ? (r->deadline - now + 999) / USEC_PER_MSEC : 1;
        if (remaining_ms == 0) remaining_ms = 1;
        /* The server's own deadline for the call, as client-go sends it. */
        if (asprintf(&url, "%s%s%stimeout=%" PRIu64 "s", c->cfg.server, r->path,
                     strchr(r->path, '?') ? "&" : "?", (remaining_ms + 999) / 1000) < 0)
            return -ENOMEM;
    }

    e = curl_easy_init();
    if (!e) return -ENOMEM;
    r->easy = e;

    struct curl_slist *h = NULL, *t;
#define ADD_HEADER(s)                                                                              \
    do {                                                                                           \
        t = curl_slist_append(h, (s));                                                             \
        if (!t) goto oom;                                                                          \
        h = t;                                                                                     \
    } while (0)
    ADD_HEADER("Accept: application/json, */*");
    ADD_HEADER("Expect:"); /* no 100-continue round trip for small bodies */
    if (r->body) {
        _cleanup_free_ char *ct = NULL;
        if (asprintf(&ct, "Content-Type: %s", r->content_type) < 0) goto oom;
        ADD_HEADER(ct);
    }
    if (c->token) {
        if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0) {
            auth = NULL;
            goto oom;
        }
        ADD_HEADER(auth);
        explicit_bzero(auth, strlen(auth));
    }
#undef ADD_HEADER
    r->headers = h;

    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, c->cfg.user_agent) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)remaining_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method) != CURLE_OK)
        goto io;
    if (r->kind != REQ_WATCH &&
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response) != CURLE_OK)
        goto io;
    /* Bound how long any one cached connection is used for new requests.
     * This holds over HTTP/1.1; over HTTP/2, libcurl (7.88) retires only an
     * idle connection, and one that always carries a watch stream is never
     * idle: it is kept, and shared by new requests, for as long as it works
     * (a dead one is noticed by TCP keepalive and the request deadlines).
     * Also: how long a watch waits for a connection. */
    if (curl_easy_setopt(e, CURLOPT_MAXLIFETIME_CONN, 120L) != CURLE_OK) goto io;
    if (r->kind == REQ_WATCH && curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK)
        goto io;
    r->fresh = c->fresh_connect && r->kind != REQ_WATCH;
    if (r->fresh && curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK) goto io;
    if (c->cfg.ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, c->cfg.ca_file) != CURLE_OK) goto io;
    if (c->cfg.ca_data) {
        struct curl_blob b = {c->cfg.ca_data, c->cfg.ca_data_len, CURL_BLOB_NOCOPY};
        if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK) goto io;
    }
    /* A client certificate from a kubeconfig: files, or PEM bytes. */
    if (c->cfg.cert_file && (curl_easy_setopt(e, CURLOPT_SSLCERT, c->cfg.cert_file) != CURLE_OK ||
                             curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK))
        goto io;
    if (c->cfg.key_file && (curl_easy_setopt(e, CURLOPT_SSLKEY, c->cfg.key_file) != CURLE_OK ||
                            curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK))
        goto io;
    if (c->cfg.cert_data) {
        struct curl_blob b = {c->cfg.cert_data, c->cfg.cert_data_len, CURL_BLOB_NOCOPY};
        if (curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK)
            goto io;
    }
    if (c->cfg.key_data) {
        struct curl_blob b = {c->cfg.key_data, c->cfg.key_data_len, CURL_BLOB_NOCOPY};
        if (curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)
            goto io;
    }
    if (r->body) {
        if (curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) != CURLE_OK)
            goto io;
    } else if (strcmp(r->method, "GET") == 0) {
        if (curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK) goto io;
    }

    r_ = curl_event_add(c->ce, e, on_transfer_done, r);
    if (r_ < 0) {
        curl_easy_cleanup(e);
        r->easy = NULL;
        return r_;
    }
    return 0;
oom:
    curl_slist_free_all(h);
    if (auth) explicit_bzero(auth, strlen(auth));
    curl_easy_cleanup(e);
    r->easy = NULL;
    return -ENOMEM;
io:
    curl_easy_cleanup(e);
    r->easy = NULL;
    return -EIO;
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    KubeRequest *r = userdata;
    int k;

    r->timer = sd_event_source_disable_unref(r->timer);
    k = attempt_start(r);
    if (k < 0) {
        if (r->kind == REQ_WATCH)
            finish_simple(r, k, "watch %s: cannot restart: %s", r->watch_base, strerror(-k));
        else
            finish_simple(r, k, "%s %s: cannot retry: %s", r->method, r->path, strerror(-k));
    }
    return 0;
}

static int schedule_retry(KubeRequest *r, uint64_t delay)
{
    KubeClient *c = r->c;
    r->timer = sd_event_source_disable_unref(r->timer);
    return sd_event_add_time_relative(c->event, &r->timer, CLOCK_BOOTTIME, delay, USEC_PER_MSEC,
                                      on_retry_timer, r);
}

static void log_denial(KubeClient *c, const KubeRequest *r, const KubeStatus *st)
{
    KubeDenial d;

    if (kube_status_denial(st, &d) < 0) {
        klog(c, LOG_ERR, "%s %s forbidden: %s", r->method, r->path,
             st && st->message ? st->message : "(no Status)");
        return;
    }
    if (d.nonresource)
        klog(c, LOG_ERR,
             "forbidden: RBAC does not allow user \"%s\" to %s the path \"%s\"; "
             "grant a rule with nonResourceURLs: [\"%s\"], verbs: [\"%s\"]",
             d.user, d.verb, d.resource, d.resource, d.verb);
    else
        klog(c, LOG_ERR,
             "forbidden: missing RBAC rule: verb \"%s\" on resource \"%s\" in API group \"%s\" "
             "%s%s%s for user \"%s\"%s%s%s",
             d.verb, d.resource, d.group,
             d.cluster_scope ? "at the cluster scope" : "in namespace \"",
             d.cluster_scope ? "" : d.namespace_, d.cluster_scope ? "" : "\"", d.user,
             d.name[0] ? " (object \"" : "", d.name, d.name[0] ? "\")" : "");
}

static int transport_result(KubeRequest *r, CURLcode res)
{
    if (r->too_large || res == CURLE_FILESIZE_EXCEEDED) return KUBE_E_TOO_LARGE;
    if (res == CURLE_OPERATION_TIMEDOUT) return KUBE_E_TIMEOUT;
    return KUBE_E_TRANSPORT;
}

static void watch_transfer_done(KubeRequest *r, CURLcode res, long code);

/* May a request answered `result` (with a Retry-After) be sent again here, unasked? Only if a
 * second copy cannot do what the first did not: a 429 is API Priority and Fairness (or the
 * max-in-flight filter) refusing the request before any handler ran, so nothing was applied; a
 * GET changes nothing, whatever became of the first one. A write answered 5xx may have been
 * applied all the same (etcd committed it after the API server stopped waiting: "etcdserver:
 * request timed out"); sent again with the same resourceVersion it meets 409 Conflict for its
 * own change, and a leader would take its own renew for another holder's write (a conflict, or
 * a duplicate identity). Its outcome is unknown: that is the caller's to resolve (it reads
 * before writing again), with the 5xx and the Retry-After in the response.
 * client-go is laxer: its checkWait() (rest/with_retry.go) resends on a 429 or any status >= 500
 * carrying Retry-After, whatever the verb; only its resending after a connection error is
 * limited to GET, "as they are not idempotent" (rest/request.go). This client does not resend
 * after a connection error at all (libcurl alone sends a request once more when a reused
 * connection closed before answering a single byte: the idle keep-alive race). */
static bool may_resend(const KubeRequest *r, int result)
{
    if (result == KUBE_E_TOO_MANY_REQUESTS) return true;
    return result == KUBE_E_SERVER_ERROR && strcmp(r->method, "GET") == 0;
}

static void request_transfer_done(KubeRequest *r, CURLcode res, long code)
{
    KubeClient *c = r->c;
    KubeStatus st = KUBE_STATUS_INIT;
    KubeLease lease = KUBE_LEASE_INIT;
    bool have_status = false;
    char msg[768];
    KubeResponse resp = {
        .http_status = code, .body = r->buf ? r->buf : "", .body_len = r->len, .error = msg};
    uint64_t now = now_usec(c);

    msg[0] = 0;
    if (res == CURLE_OPERATION_TIMEDOUT)
        c->fresh_connect = true;
    else if (res == CURLE_OK && r->fresh)
        c->fresh_connect = false;
    if (res != CURLE_OK) {
        resp.result = transport_result(r, res);
        resp.http_status = 0;
        resp.body = "";
        resp.body_len = 0;
        snprintf(msg, sizeof(msg), "%s %s: %s: %s", r->method, r->path,
                 kube_result_to_string(resp.result),
                 resp.result == KUBE_E_TOO_LARGE
                     ? "response larger than the bound, refused"
                     : (r->errbuf[0] ? r->errbuf : curl_easy_strerror(res)));
        request_finish(r, &resp);
        return;
    }

    if (code < 200 || code >= 300)
        have_status = kube_status_parse(resp.body, resp.body_len, &st) == 0;
    resp.result = kube_result_from_http(code, have_status ? &st : NULL);
    if (have_status) resp.status = &st;
    if (r->retry_after_header >= 0)
        resp.retry_after_usec = (uint64_t)r->retry_after_header * USEC_PER_SEC;
    else if (have_status && st.retry_after_seconds >= 0)
        resp.retry_after_usec = (uint64_t)st.retry_after_seconds * USEC_PER_SEC;

    /* 401: maybe the token rotated under us; re-read it and try once more. */
    if (resp.result == KUBE_E_UNAUTHORIZED && c->cfg.token_file && !r->auth_retried) {
        r->auth_retried = true;
        klog(c, LOG_INFO, "%s %s: 401 Unauthorized, re-reading the token and retrying", r->method,
             r->path);
        (void)token_reload(c, true);
        int k = attempt_start(r);
        kube_status_done(&st);
        if (k < 0) finish_simple(r, k, "%s %s: cannot retry: %s", r->method, r->path, strerror(-k));
        return;
    }
    /* Retry-After is honoured only for what may be sent again (see may_resend()) and only
     * while it ends before the caller's deadline; otherwise the caller gets the result and
     * the delay. */
    if (may_resend(r, resp.result) && resp.retry_after_usec > 0 && r->attempts < RETRY_MAX &&
        now + resp.retry_after_usec + 10 * USEC_PER_MSEC < r->deadline) {
        klog(c, LOG_DEBUG, "%s %s: %ld, retrying after %" PRIu64 " ms", r->method, r->path, code,
             resp.retry_after_usec / USEC_PER_MSEC);
        kube_status_done(&st);
        int k = schedule_retry(r, resp.retry_after_usec);
        if (k < 0) finish_simple(r, k, "%s %s: cannot retry: %s", r->method, r->path, strerror(-k));
        return;
    }

    if (resp.result == KUBE_OK) {
        if (r->kind == REQ_LEASE) {
            int k = kube_lease_parse(resp.body, resp.body_len, &lease);
            if (k == -ENOMEM)
                resp.result = k;
            else if (k < 0)
                resp.result = KUBE_E_PROTOCOL;
            else
                resp.lease = &lease;
        } else if (r->kind == REQ_PLAIN) {
            JsonDoc *d = NULL;
            /* A list may hold more tokens than the default cap; real JSON
             * averages well over four bytes per token. */
            int k = json_parse(resp.body, resp.body_len, resp.body_len / 4 + 64, &d);
            json_free(d);
            if (k == -ENOMEM)
                resp.result = k;
            else if (k < 0)
                resp.result = KUBE_E_PROTOCOL;
        }
        if (resp.result != KUBE_OK)
            snprintf(msg, sizeof(msg),
                     "%s %s: %ld with a body that is not the expected JSON object", r->method,
                     r->path, code);
    } else {
        if (resp.result == KUBE_E_FORBIDDEN) log_denial(c, r, have_status ? &st : NULL);
        snprintf(msg, sizeof(msg), "%s %s: %ld %s%s%s", r->method, r->path, code,
                 kube_result_to_string(resp.result), have_status && st.message ? ": " : "",
                 have_status && st.message ? st.message : "");
    }
    request_finish(r, &resp);
    kube_status_done(&st);
    kube_lease_done(&lease);
}

static void on_transfer_done(CurlEvent *ce, CURL *easy, CURLcode res, void *userdata)
{
    KubeRequest *r = userdata;
    long code = 0, conns = 0;

    (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
        r->c->connects += (uint64_t)conns;
    curl_easy_cleanup(easy);
    r->easy = NULL;
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    r->paused = false;

    if (r->kind == REQ_WATCH)
        watch_transfer_done(r, res, code);
    else
        request_transfer_done(r, res, code);
}

/* ---- watch ---- */

static void watch_end(KubeRequest *r, int result, long code, const KubeStatus *st, const char *why)
{
    char msg[768];
    KubeResponse resp = {
        .result = result, .http_status = code, .status = st, .body = "", .error = msg};

    snprintf(msg, sizeof(msg), "watch %s: %s%s%s", r->watch_base, kube_result_to_string(result),
             why ? ": " : "", why ? why : "");
    request_finish(r, &resp);
}

static void watch_reconnect(KubeRequest *r, uint64_t delay, const char *why)
{
    int k;

    request_stop_transfer(r);
    /* Nothing of the old stream may be dispatched after this. */
    r->len = 0;
    r->code_seen = 0;
    (void)sd_event_source_set_enabled(r->dispatch, SD_EVENT_OFF);
    if (r->got_event) r->backoff = 0;
    r->got_event = false;
    if (delay == 0 && r->backoff > 0) delay = r->backoff;
    klog(r->c, LOG_DEBUG, "watch %s: %s; resuming from resourceVersion %s in %" PRIu64 " ms",
         r->watch_base, why, r->rv ? r->rv : "(none)", delay / USEC_PER_MSEC);
    r->backoff = r->backoff ? r->backoff * 2 : WATCH_BACKOFF_MIN;
    if (r->backoff > WATCH_BACKOFF_MAX) r->backoff = WATCH_BACKOFF_MAX;
    k = schedule_retry(r, delay);
    if (k < 0) {
        watch_end(r, k, 0, NULL, "cannot schedule the reconnection");
        return;
    }
    /* A stream the server ended on time is no outage; anything else is. */
    if (r->on_interrupt && strcmp(why, "stream ended") != 0) {
        r->n_ref++;
        r->on_interrupt(r->c, why, r->userdata);
        request_unref(r);
    }
}

/* Delivers the complete lines buffered so far. Returns false if the watch
 * ended or was cancelled meanwhile (r may then only be unref'ed). */
static bool watch_deliver_lines(KubeRequest *r)
{
    size_t off = 0;
    bool alive = true;

    r->n_ref++;
    while (alive && r->len > off) {
        char *nl = memchr(r->buf + off, '\n', r->len - off);
        if (!nl) break;
        size_t n = (size_t)(nl - (r->buf + off));
        const char *line = r->buf + off;
        off += n + 1;
        if (n == 0 || (n == 1 && line[0] == '\r')) continue;

        KubeWatchEvent ev = KUBE_WATCH_EVENT_INIT;
        int k = kube_watch_event_parse(line, n, r->as_lease, &ev);
        if (k < 0) {
            watch_end(r, k == -ENOMEM ? k : KUBE_E_PROTOCOL, 200, NULL,
                      r->as_lease ? "a line of the stream is not a Lease watch event"
                                  : "a line of the stream is not a watch event");
            alive = false;
            break;
        }
        if (ev.type == KUBE_WATCH_ERROR) {
            if (kube_watch_event_is_expired(&ev)) {
                watch_end(r, KUBE_E_EXPIRED, 200, &ev.status,
                          ev.status.message ? ev.status.message : "resourceVersion too old");
                alive = false;
            } else {
                klog(r->c, LOG_WARNING, "watch %s: ERROR event %" PRIi64 ": %s", r->watch_base,
                     ev.status.code, ev.status.message ? ev.status.message : "");
                watch_reconnect(r, 0, "ERROR event");
                off = r->len; /* the rest of this stream is discarded */
            }
            kube_watch_event_done(&ev);
            break;
        }
        free(r->rv);
        r->rv = strdup(ev.resource_version);
        r->got_event = true;
        if (r->on_event) r->on_event(r->c, &ev, r->userdata);
        kube_watch_event_done(&ev);
        if (r->cancelled || r->finished) alive = false;
    }
    if (alive) {
        memmove(r->buf, r->buf + off, r->len - off);
        r->len -= off;
        if (r->buf) r->buf[r->len] = 0;
        /* Room again: let libcurl hand over what it held back. */
        if (r->paused && r->easy) {
            r->paused = false;
            (void)curl_easy_pause(r->easy, CURLPAUSE_CONT);
        }
    }
    alive = alive && !r->cancelled && !r->finished;
    request_unref(r);
    return alive;
}

static int on_dispatch(sd_event_source *s, void *userdata)
{
    KubeRequest *r = userdata;
    if (r->code_seen == 200) (void)watch_deliver_lines(r);
    return 0;
}

static void watch_transfer_done(KubeRequest *r, CURLcode res, long code)
{
    KubeStatus st = KUBE_STATUS_INIT;
    bool have_status = false;
    char why[256];

    if (code == 200 && r->code_seen == 200) {
        /* Events that arrived with the end of the stream come first. */
        r->n_ref++;
        bool alive = watch_deliver_lines(r);
        bool gone = r->cancelled || r->finished;
        request_unref(r);
        if (!alive || gone) return;
    }
    if (res != CURLE_OK) {
        int result = transport_result(r, res);
        if (result == KUBE_E_TOO_LARGE) {
            watch_end(r, result, code, NULL, "an event larger than the bound");
            return;
        }
        snprintf(why, sizeof(why), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
        watch_reconnect(r, 0, why);
        return;
    }
    if (code == 200) {
        /* The server ended the stream (timeoutSeconds): resume at once. */
        r->got_event = true;
        watch_reconnect(r, 0, "stream ended");
        return;
    }

    have_status = kube_status_parse(r->buf ? r->buf : "", r->len, &st) == 0;
    int result = kube_result_from_http(code, have_status ? &st : NULL);
    uint64_t ra = r->retry_after_header >= 0 ? (uint64_t)r->retry_after_header * USEC_PER_SEC
                  : have_status && st.retry_after_seconds >= 0
                      ? (uint64_t)st.retry_after_seconds * USEC_PER_SEC
                      : 0;
    snprintf(why, sizeof(why), "HTTP %ld %s", code, kube_result_to_string(result));
    switch (result) {
    case KUBE_E_UNAUTHORIZED:
        (void)token_reload(r->c, true);
        watch_reconnect(r, 0, why);
        break;
    case KUBE_E_TOO_MANY_REQUESTS:
    case KUBE_E_SERVER_ERROR:
    case KUBE_E_TIMEOUT:
        watch_reconnect(r, ra > r->backoff ? ra : 0, why);
        break;
    default:
        if (result == KUBE_E_FORBIDDEN) log_denial(r->c, r, have_status ? &st : NULL);
        watch_end(r, result, code, have_status ? &st : NULL,
                  have_status && st.message ? st.message : why);
    }
    kube_status_done(&st);
}

/* ---- public: client ---- */

static int blob_dup(unsigned char **dst, size_t *dst_len, const unsigned char *src, size_t len)
{
    if (!src) return 0;
    *dst = malloc(len ? len : 1);
    if (!*dst) return -ENOMEM;
    memcpy(*dst, src, len);
    *dst_len = len;
    return 0;
}

int kube_client_new(sd_event *event, const KubeConfig *cfg, KubeClient **ret)
{
    KubeClient *c;
    int r;

    if (!event || !cfg || !cfg->server || !ret) return -EINVAL;
    if (strncmp(cfg->server, "https://", 8) != 0 && strncmp(cfg->server, "http://", 7) != 0)
        return -EINVAL;

    static bool curl_inited;
    if (!curl_inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -EIO;
        curl_inited = true;
    }

    c = calloc(1, sizeof(*c));
    if (!c) return -ENOMEM;
    c->event = sd_event_ref(event);
    c->cfg.use_cluster_credentials = cfg->use_cluster_credentials;
    c->cfg.server = strdup(cfg->server);
    c->cfg.token_file = cfg->token_file ? strdup(cfg->token_file) : NULL;
    c->cfg.ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    c->cfg.namespace_ = strdup(cfg->namespace_ ? cfg->namespace_ : "default");
    c->cfg.cert_file = cfg->cert_file ? strdup(cfg->cert_file) : NULL;
    c->cfg.key_file = cfg->key_file ? strdup(cfg->key_file) : NULL;
    if ((cfg->cert_file && !c->cfg.cert_file) || (cfg->key_file && !c->cfg.key_file) ||
        blob_dup(&c->cfg.ca_data, &c->cfg.ca_data_len, cfg->ca_data, cfg->ca_data_len) < 0 ||
        blob_dup(&c->cfg.cert_data, &c->cfg.cert_data_len, cfg->cert_data, cfg->cert_data_len) <
            0 ||
        blob_dup(&c->cfg.key_data, &c->cfg.key_data_len, cfg->key_data, cfg->key_data_len) < 0) {
        r = -ENOMEM;
        goto fail;
    }
    if (cfg->token && !cfg->token_file) {
        char *t = strdup(cfg->token);
        if (!t) {
            r = -ENOMEM;
            goto fail;
        }
        token_set(c, t);
    }
    if (cfg->user_agent)
        c->cfg.user_agent = strdup(cfg->user_agent);
    else if (asprintf(&c->cfg.user_agent, "leader-elector/%s", LE_VERSION) < 0)
        c->cfg.user_agent = NULL;
    if (!c->cfg.server || (cfg->token_file && !c->cfg.token_file) ||
        (cfg->ca_file && !c->cfg.ca_file) || !c->cfg.namespace_ || !c->cfg.user_agent) {
        r = -ENOMEM;
        goto fail;
    }
    size_t n = strlen(c->cfg.server);
    while (n > 8 && c->cfg.server[n - 1] == '/')
        c->cfg.server[--n] = 0;
    c->token_reload = cfg->token_reload_usec ? cfg->token_reload_usec : TOKEN_RELOAD_DEFAULT;
    c->max_response = cfg->max_response_bytes ? cfg->max_response_bytes : MAX_RESPONSE_DEFAULT;

    /* A CA bundle that cannot be read would fail every request later with a
     * vaguer TLS error: say so now. */
    if (c->cfg.ca_file && access(c->cfg.ca_file, R_OK) < 0) {
        r = -errno;
        klog_errno(c, LOG_ERR, r, "cannot read CA file %s: %m", c->cfg.ca_file);
        goto fail;
    }
    const char *files[] = {c->cfg.cert_file, c->cfg.key_file};
    for (size_t i = 0; i < ELEMENTSOF(files); i++)
        if (files[i] && access(files[i], R_OK) < 0) {
            r = -errno;
            klog_errno(c, LOG_ERR, r, "cannot read client %s file %s: %m",
                       i ? "key" : "certificate", files[i]);
            goto fail;
        }
    r = curl_event_new(event, &c->ce);
    if (r < 0) goto fail;
    if (c->cfg.token_file) {
        r = token_reload(c, true);
        if (r < 0) goto fail;
    }
    *ret = c;
    return 0;
fail:
    kube_client_free(c);
    return r;
}

KubeClient *kube_client_free(KubeClient *c)
{
    if (!c) return NULL;
    while (c->requests) {
        KubeRequest *r = c->requests;
        r->cancelled = true;
        request_detach(r);
        r->c = NULL;
        request_unref(r);
    }
    curl_event_free(c->ce);
    token_set(c, NULL);
    kube_config_done(&c->cfg);
    sd_event_unref(c->event);
    free(c);
    return NULL;
}

void kube_client_set_log(KubeClient *c, kube_log_fn fn, void *userdata)
{
    c->log = fn;
    c->log_userdata = userdata;
}

const char *kube_client_namespace(const KubeClient *c)
{
    return c->cfg.namespace_;
}

uint64_t kube_client_connects(const KubeClient *c)
{
    return c->connects;
}

unsigned kube_client_in_flight(const KubeClient *c)
{
    return c->n_requests;
}

void kube_watch_set_interrupt(KubeRequest *watch, kube_watch_interrupt_fn fn)
{
    if (watch && watch->kind == REQ_WATCH) watch->on_interrupt = fn;
}

const char *kube_watch_resource_version(const KubeRequest *w)
{
    return w ? w->rv : NULL;
}

/* Takes ownership of path and body. */
static int request_submit(KubeClient *c, ReqKind kind, const char *method, char *path, char *body,
                          size_t body_len, const char *content_type, uint64_t timeout_usec,
                          kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    KubeRequest *r;
    int k;

    if (!path) {
        free(body);
        return -ENOMEM;
    }
    if (!cb || (kind != REQ_WATCH && timeout_usec == 0)) {
        free(path);
        free(body);
        return -EINVAL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        free(path);
        free(body);
        return -ENOMEM;
    }
    r->c = c;
    r->n_ref = 1;
    r->kind = kind;
    r->method = strdup(method);
    r->path = path;
    r->body = body;
    r->body_len = body_len;
    r->content_type = content_type ? content_type : "application/json";
    r->done = cb;
    r->userdata = userdata;
    r->retry_after_header = -1;
    if (kind != REQ_WATCH) r->deadline = now_usec(c) + timeout_usec;
    if (!r->method) {
        request_unref(r);
        return -ENOMEM;
    }
    r->next = c->requests;
    if (r->next) r->next->prev = r;
    c->requests = r;
    r->linked = true;
    c->n_requests++;

    if (kind == REQ_WATCH) {
        r->watch_base = TAKE_PTR(r->path);
        k = sd_event_add_defer(c->event, &r->dispatch, on_dispatch, r);
        if (k < 0) {
            request_unref(r);
            return k;
        }
        (void)sd_event_source_set_enabled(r->dispatch, SD_EVENT_OFF);
        (void)sd_event_source_set_description(r->dispatch, "kube-watch");
    }
    /* A watch is started by the caller once its stream settings are in. */
    if (kind != REQ_WATCH) {
        k = attempt_start(r);
        if (k < 0) {
            request_unref(r);
            return k;
        }
    }
    if (ret) *ret = r;
    return 0;
}

/* ---- public: leases ---- */

int kube_lease_get(KubeClient *c, const char *ns, const char *name, uint64_t timeout_usec,
                   kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    if (!c || !name_ok(name)) return -EINVAL;
    return request_submit(c, REQ_LEASE, "GET", object_path(c, &KUBE_RESOURCE_LEASES, ns, name),
                          NULL, 0, NULL, timeout_usec, cb, userdata, ret);
}

int kube_lease_create(KubeClient *c, const KubeLease *l, uint64_t timeout_usec, kube_done_fn cb,
                      void *userdata, KubeRequest **ret)
{
    char *body = NULL;
    size_t len = 0;
    int k;

    if (!c || !l) return -EINVAL;
    k = kube_lease_to_json(l, true, c->max_response, &body, &len);
    if (k < 0) return k;
    return request_submit(c, REQ_LEASE, "POST",
                          object_path(c, &KUBE_RESOURCE_LEASES, l->namespace_, NULL), body, len,
                          NULL, timeout_usec, cb, userdata, ret);
}

int kube_lease_update(KubeClient *c, const KubeLease *l, uint64_t timeout_usec, kube_done_fn cb,
                      void *userdata, KubeRequest **ret)
{
    char *body = NULL;
    size_t len = 0;
    int k;

    if (!c || !l || !name_ok(l->name)) return -EINVAL;
    k = kube_lease_to_json(l, false, c->max_response, &body, &len);
    if (k < 0) return k;
    return request_submit(c, REQ_LEASE, "PUT",
                          object_path(c, &KUBE_RESOURCE_LEASES, l->namespace_, l->name), body, len,
                          NULL, timeout_usec, cb, userdata, ret);
}

int kube_lease_delete(KubeClient *c, const char *ns, const char *name, const char *resource_version,
                      uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    char *body = NULL;
    size_t len = 0;

    if (!c || !name_ok(name)) return -EINVAL;
    if (resource_version) {
        JsonWriter w = JSON_WRITER_INIT(4096);
        json_writer_begin_object(&w);
        json_writer_key(&w, "kind");
        json_writer_value_string(&w, "DeleteOptions");
        json_writer_key(&w, "apiVersion");
        json_writer_value_string(&w, "v1");
        json_writer_key(&w, "preconditions");
        json_writer_begin_object(&w);
        json_writer_key(&w, "resourceVersion");
        json_writer_value_string(&w, resource_version);
        json_writer_end_object(&w);
        json_writer_end_object(&w);
        int k = json_writer_finish(&w, &body, &len);
        if (k < 0) return k;
    }
    return request_submit(c, REQ_DELETE, "DELETE", object_path(c, &KUBE_RESOURCE_LEASES, ns, name),
                          body, len, NULL, timeout_usec, cb, userdata, ret);
}

/* One object by name, of any resource: the one watch machinery (resume, bookmarks, 410,
 * reconnect with backoff, interruptions, size bounds) for Leases and generic objects. */
static int watch_start(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                       const char *resource_version, uint64_t stream_timeout_usec, bool as_lease,
                       kube_watch_fn on_event, kube_done_fn on_end, void *userdata,
                       KubeRequest **ret)
{
    _cleanup_free_ char *coll = NULL, *ename = NULL;
    KubeRequest *r = NULL;
    char *path = NULL;
    uint64_t st = stream_timeout_usec ? stream_timeout_usec : WATCH_STREAM_DEFAULT;
    int k;

    if (!c || !name_ok(name) || !on_event || !on_end) return -EINVAL;
    if (resource_version && !*resource_version) resource_version = NULL;
    coll = object_path(c, res, ns, NULL);
    ename = escape_segment(name);
    if (!coll || !ename) return -ENOMEM;
    /* "=" of the selector is escaped as %3D, as client-go sends it. */
    if (asprintf(&path,
                 "%s?fieldSelector=metadata.name%%3D%s&watch=true&allowWatchBookmarks=true"
                 "&timeoutSeconds=%" PRIu64,
                 coll, ename, (st + USEC_PER_SEC - 1) / USEC_PER_SEC) < 0)
        return -ENOMEM;
    k = request_submit(c, REQ_WATCH, "GET", path, NULL, 0, NULL, 0, on_end, userdata, &r);
    if (k < 0) return k;
    r->on_event = on_event;
    r->stream_timeout = st;
    r->as_lease = as_lease;
    if (resource_version) {
        r->rv = strdup(resource_version);
        if (!r->rv) {
            kube_request_cancel(r);
            return -ENOMEM;
        }
    }
    k = attempt_start(r);
    if (k < 0) {
        kube_request_cancel(r);
        return k;
    }
    if (ret) *ret = r;
    return 0;
}

int kube_lease_watch(KubeClient *c, const char *ns, const char *name, const char *resource_version,
                     uint64_t stream_timeout_usec, kube_watch_fn on_event, kube_done_fn on_end,
                     void *userdata, KubeRequest **ret)
{
    return watch_start(c, &KUBE_RESOURCE_LEASES, ns, name, resource_version, stream_timeout_usec,
                       true, on_event, on_end, userdata, ret);
}

/* ---- public: any object ---- */

static int copy_body(const char *json, size_t len, char **ret)
{
    if (!json) return -EINVAL;
    *ret = malloc(len + 1);
    if (!*ret) return -ENOMEM;
    memcpy(*ret, json, len);
    (*ret)[len] = 0;
    return 0;
}

static bool resource_ok(const KubeResource *res)
{
    return res && res->group && name_ok(res->version) && name_ok(res->resource);
}

int kube_object_get(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                    uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    if (!c || !resource_ok(res) || !name_ok(name)) return -EINVAL;
    return request_submit(c, REQ_PLAIN, "GET", object_path(c, res, ns, name), NULL, 0, NULL,
                          timeout_usec, cb, userdata, ret);
}

int kube_object_watch(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                      const char *resource_version, uint64_t stream_timeout_usec,
                      kube_watch_fn on_event, kube_done_fn on_end, void *userdata,
                      KubeRequest **ret)
{
    if (!resource_ok(res)) return -EINVAL;
    return watch_start(c, res, ns, name, resource_version, stream_timeout_usec, false, on_event,
                       on_end, userdata, ret);
}

int kube_object_list(KubeClient *c, const KubeResource *res, const char *ns, const char *query,
                     uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    char *path, *full = NULL;

    if (!c || !resource_ok(res)) return -EINVAL;
    path = object_path(c, res, ns, NULL);
    if (path && query && *query) {
        if (asprintf(&full, "%s?%s", path, query) < 0) full = NULL;
        free(path);
        path = full;
    }
    return request_submit(c, REQ_PLAIN, "GET", path, NULL, 0, NULL, timeout_usec, cb, userdata,
                          ret);
}

int kube_object_create(KubeClient *c, const KubeResource *res, const char *ns, const char *json,
                       size_t len, uint64_t timeout_usec, kube_done_fn cb, void *userdata,
                       KubeRequest **ret)
{
    char *body;
    int k;

    if (!c || !resource_ok(res)) return -EINVAL;
    if ((k = copy_body(json, len, &body)) < 0) return k;
    return request_submit(c, REQ_PLAIN, "POST", object_path(c, res, ns, NULL), body, len, NULL,
                          timeout_usec, cb, userdata, ret);
}

int kube_object_update(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                       const char *json, size_t len, uint64_t timeout_usec, kube_done_fn cb,
                       void *userdata, KubeRequest **ret)
{
    char *body;
    int k;

    if (!c || !resource_ok(res) || !name_ok(name)) return -EINVAL;
    if ((k = copy_body(json, len, &body)) < 0) return k;
    return request_submit(c, REQ_PLAIN, "PUT", object_path(c, res, ns, name), body, len, NULL,
                          timeout_usec, cb, userdata, ret);
}

int kube_object_patch(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                      const char *content_type, const char *json, size_t len, uint64_t timeout_usec,
                      kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    char *body;
    int k;

    if (!c || !resource_ok(res) || !name_ok(name) || !content_type || strpbrk(content_type, "\r\n"))
        return -EINVAL;
    if ((k = copy_body(json, len, &body)) < 0) return k;
    /* content_type must outlive the request: only the known patch types. */
    static const char *const types[] = {
        "application/merge-patch+json", "application/strategic-merge-patch+json",
        "application/json-patch+json", "application/apply-patch+yaml"};
    const char *ct = NULL;
    for (size_t i = 0; i < ELEMENTSOF(types); i++)
        if (strcmp(types[i], content_type) == 0) ct = types[i];
    if (!ct) {
        free(body);
        return -EINVAL;
    }
    return request_submit(c, REQ_PLAIN, "PATCH", object_path(c, res, ns, name), body, len, ct,
                          timeout_usec, cb, userdata, ret);
}

int kube_object_delete(KubeClient *c, const KubeResource *res, const char *ns, const char *name,
                       uint64_t timeout_usec, kube_done_fn cb, void *userdata, KubeRequest **ret)
{
    if (!c || !resource_ok(res) || !name_ok(name)) return -EINVAL;
    return request_submit(c, REQ_DELETE, "DELETE", object_path(c, res, ns, name), NULL, 0, NULL,
                          timeout_usec, cb, userdata, ret);
}
