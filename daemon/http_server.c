/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "http_server.h"
#include "util.h"

/* Go's default for a body that sniffs as text, which is what the old
 * sidecar's consumers got for {"name":...}. */
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
#define CONTENT_TYPE_JSON "application/json"

/* One per connection (bounded by the connection limit), for the request
 * deadline. */
typedef struct HttpConn {
    struct HttpConn *prev, *next;
    int fd;
    uint64_t deadline; /* CLOCK_MONOTONIC µs */
    bool shut;
} HttpConn;

struct HttpServer {
    sd_event *event;
    sd_event_source *io_source;
    sd_event_source *timer_source;
    sd_event_source *deadline_source;
    HttpConn *conns;
    uint64_t deadline_usec;
    struct MHD_Daemon *mhd;
    HttpProvider provider;
    void *userdata;
    ElectionMetrics *metrics;
    HttpRoutes routes;
    int port;
    char *body; /* HTTP_BODY_MAX: every body is built here, then copied by MHD */
};

/* ---- the --http address ---- */

static int parse_port(const char *s, uint16_t *ret)
{
    unsigned long v = 0;

    if (!*s || strlen(s) > 5) return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535) return -EINVAL;
    *ret = (uint16_t)v;
    return 0;
}

int http_listen_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len,
                      bool *ret_any)
{
    struct sockaddr_storage ss = {};
    socklen_t len;
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon, *port;
    uint16_t p;
    bool any = false;

    if (!s) return -EINVAL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;

        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host) return -EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        port = close + 2;
        if (parse_port(port, &p) < 0 || inet_pton(AF_INET6, host, &sa->sin6_addr) != 1)
            return -EINVAL;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(p);
        len = sizeof *sa;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host || memchr(s, ':', (size_t)(colon - s)))
            return -EINVAL; /* no port, too long, or a bare IPv6 address */
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        if (parse_port(colon + 1, &p) < 0) return -EINVAL;
        if (host[0] == 0) {
            /* ":4040" listens on every address, as Go's net.Listen did:
             * dual-stack IPv6 (the caller falls back to IPv4). */
            struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
            sa->sin6_family = AF_INET6;
            sa->sin6_addr = in6addr_any;
            sa->sin6_port = htons(p);
            len = sizeof *sa;
            any = true;
        } else {
            struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
            if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
            if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return -EINVAL;
            sa->sin_family = AF_INET;
            sa->sin_port = htons(p);
            len = sizeof *sa;
        }
    }
    *ret = ss;
    *ret_len = len;
    if (ret_any) *ret_any = any;
    return 0;
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len, bool any, int *ret_fd)
{
    _cleanup_close_ int fd = -1;
    int one = 1, zero = 0;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    /* A restarted daemon must be able to bind while old connections linger
     * in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return -errno;
    if (any && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) return -errno;
    if (bind(fd, (const struct sockaddr *)ss, len) < 0) return -errno;
    if (listen(fd, 64) < 0) return -errno;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static int listen_socket(const char *address, int *ret_fd, int *ret_port)
{
    struct sockaddr_storage ss, bound = {};
    socklen_t len, blen = sizeof bound;
    bool any;
    int fd = -1, r;

    r = http_listen_parse(address, &ss, &len, &any);
    if (r < 0) return r;
    r = listen_on(&ss, len, any, &fd);
    if (r < 0 && any && (r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL)) {
        /* No IPv6 on this host (disabled in the pod): all IPv4 addresses. */
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

        memset(&ss, 0, sizeof ss);
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        sa->sin_port = port;
        r = listen_on(&ss, sizeof *sa, false, &fd);
    }
    if (r < 0) return r;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    *ret_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *ret_fd = fd;
    return 0;
}

/* ---- answers ---- */

/* Decodes one UTF-8 sequence at p (n bytes left) as Go's utf8.DecodeRune:
 * returns its length, or 0 for an invalid byte. */
static size_t utf8_sequence(const unsigned char *p, size_t n, uint32_t *ret_cp)
{
    size_t len;
    uint32_t cp;

    if (p[0] < 0x80)
        len = 1, cp = p[0];
    else if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *ret_cp = cp;
    return len;
}

/* A JSON string as Go's encoding/json wrote it when the old sidecar was
 * built: HTML-safe (<, >, & as \u003c...), \n \r \t, other control bytes as
 * \u00XX, U+2028/9 escaped, invalid UTF-8 as \ufffd. */
static ssize_t go_json_string(const char *s, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t o = 0;

#define PUT(str, n)                                                                                \
    do {                                                                                           \
        if (size - o <= (n)) return -ENOBUFS;                                                      \
        memcpy(buf + o, (str), (n));                                                               \
        o += (n);                                                                                  \
    } while (0)

    if (size == 0) return -ENOBUFS;
    PUT("\"", 1);
    while (p < end) {
        uint32_t cp;
        size_t n = utf8_sequence(p, (size_t)(end - p), &cp);

        if (n == 0) {
            PUT("\\ufffd", 6);
            p++;
        } else if (n == 1) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf]};
            if (*p == '"' || *p == '\\') {
                char e[2] = {'\\', (char)*p};
                PUT(e, 2);
            } else if (*p == '\n')
                PUT("\\n", 2);
            else if (*p == '\r')
                PUT("\\r", 2);
            else if (*p == '\t')
                PUT("\\t", 2);
            else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
                PUT(esc, 6);
            else
                PUT(p, 1);
            p++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            PUT(cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
            p += n;
        } else {
            PUT(p, n);
            p += n;
        }
    }
    PUT("\"", 1);
    buf[o] = 0;
    return (ssize_t)o;
#undef PUT
}

ssize_t http_format_name(const ProtoStatus *st, char *buf, size_t size)
{
    const char *name = "";
    ssize_t n;

    /* Never name a lapsed claim: the follower's view of the holder expires
     * with valid_ms, and our own claim additionally with is_leader. */
    if (st->leader[0] && st->valid_ms > 0 &&
        (strcmp(st->leader, st->identity) != 0 || st->is_leader))
        name = st->leader;

    if (size < 10) return -ENOBUFS;
    memcpy(buf, "{\"name\":", 8);
    n = go_json_string(name, buf + 8, size - 8);
    if (n < 0) return n;
    if (size - 8 - (size_t)n < 2) /* '}' and the NUL */
        return -ENOBUFS;
    buf[8 + n] = '}';
    buf[8 + n + 1] = 0;
    return 8 + n + 1;
}

static enum MHD_Result respond(HttpServer *s, struct MHD_Connection *c, const char *handler,
                               unsigned code, const char *content_type, const char *body,
                               size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result r;

    election_metrics_http_request(s->metrics, handler, code);
    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO; /* out of memory: MHD closes the connection */
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
        (code == MHD_HTTP_METHOD_NOT_ALLOWED &&
         MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    r = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result respond_text(HttpServer *s, struct MHD_Connection *c, const char *handler,
                                    unsigned code, const char *prefix, const char *reason)
{
    int n = snprintf(s->body, HTTP_BODY_MAX, "%s%s%s\n", prefix, reason ? ": " : "",
                     reason ? reason : "");
    if (n < 0) n = 0;
    if ((size_t)n >= HTTP_BODY_MAX) n = HTTP_BODY_MAX - 1;
    return respond(s, c, handler, code, CONTENT_TYPE_TEXT, s->body, (size_t)n);
}

static int status_now(HttpServer *s, ProtoStatus *ret)
{
    uint64_t now = now_boot_usec();
    int r;

    memset(ret, 0, sizeof *ret);
    r = s->provider.get_status(s->userdata, now, ret);
    if (r >= 0) ret->boottime_ms = now / USEC_PER_MSEC;
    return r;
}

static enum MHD_Result answer_name(HttpServer *s, struct MHD_Connection *c)
{
    ProtoStatus st;
    ssize_t n;

    /* Without a status, name nobody: the old consumers JSON.parse whatever
     * they get, and an empty name is the fail-closed answer. */
    if (status_now(s, &st) < 0) memset(&st, 0, sizeof st);
    n = http_format_name(&st, s->body, HTTP_BODY_MAX);
    if (n < 0)
        return respond_text(s, c, "name", MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error", NULL);
    return respond(s, c, "name", MHD_HTTP_OK, CONTENT_TYPE_TEXT, s->body, (size_t)n);
}

static enum MHD_Result answer_status(HttpServer *s, struct MHD_Connection *c)
{
    ProtoStatus st;
    ssize_t n;
    int r;

    r = status_now(s, &st);
    if (r < 0)
        return respond_text(s, c, "status", MHD_HTTP_INTERNAL_SERVER_ERROR, "no status",
                            strerror(-r));
    n = proto_status_format(&st, s->body, HTTP_BODY_MAX);
    if (n < 0)
        return respond_text(s, c, "status", MHD_HTTP_INTERNAL_SERVER_ERROR, "no status",
                            strerror((int)-n));
    return respond(s, c, "status", MHD_HTTP_OK, CONTENT_TYPE_JSON, s->body, (size_t)n);
}

/* GET /leader: 200 while this daemon leads at the moment of the answer (is_leader with a claim
 * still valid, leader-probe's rule), else 503; for a readinessProbe.httpGet. The status comes from
 * the provider's get_status like /status's, so a leader answer here is a one-shot promise the
 * provider records (the daemon caps it at 50 ms and its release waits for it). */
static enum MHD_Result answer_leader(HttpServer *s, struct MHD_Connection *c)
{
    ProtoStatus st;
    int r = status_now(s, &st);

    if (r < 0)
        return respond_text(s, c, "leader", MHD_HTTP_SERVICE_UNAVAILABLE, "not leader: no status",
                            strerror(-r));
    if (st.is_leader && st.valid_ms > 0)
        return respond_text(s, c, "leader", MHD_HTTP_OK, "leader", NULL);
    /* Not who leads instead: the port is reachable from other pods, the answer says no more
     * than leader_election_master_status does. */
    return respond_text(s, c, "leader", MHD_HTTP_SERVICE_UNAVAILABLE, "not leader", NULL);
}

static enum MHD_Result answer_check(HttpServer *s, struct MHD_Connection *c, const char *handler,
                                    int (*check)(void *, const char **), const char *failed)
{
    const char *reason = NULL;
    int r = 0;

    if (check) r = check(s->userdata, &reason);
    if (r == 0) return respond_text(s, c, handler, MHD_HTTP_OK, "ok", NULL);
    if (r < 0 && !reason) reason = strerror(-r);
    return respond_text(s, c, handler, MHD_HTTP_SERVICE_UNAVAILABLE, failed,
                        reason ? reason : "unknown");
}

static enum MHD_Result answer_metrics(HttpServer *s, struct MHD_Connection *c)
{
    ssize_t n;

    if (!s->metrics)
        return respond_text(s, c, "metrics", MHD_HTTP_NOT_FOUND, "metrics disabled", NULL);
    /* Count this request before rendering, so that it is in its own answer. */
    election_metrics_http_request(s->metrics, "metrics", MHD_HTTP_OK);
    n = election_metrics_render(s->metrics, s->body, HTTP_BODY_MAX);
    if (n < 0)
        return respond_text(s, c, "metrics", MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics",
                            strerror((int)-n));
    return respond(s, c, NULL, MHD_HTTP_OK, METRICS_CONTENT_TYPE, s->body, (size_t)n);
}

static uint64_t now_mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_to_usec(&ts);
}

static void deadline_arm(HttpServer *s)
{
    uint64_t next = UINT64_MAX;

    for (HttpConn *c = s->conns; c; c = c->next)
        if (!c->shut && c->deadline < next) next = c->deadline;
    if (next == UINT64_MAX) {
        (void)sd_event_source_set_enabled(s->deadline_source, SD_EVENT_OFF);
        return;
    }
    (void)sd_event_source_set_time(s->deadline_source, next);
    (void)sd_event_source_set_enabled(s->deadline_source, SD_EVENT_ONESHOT);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
    HttpServer *s = userdata;
    uint64_t now = now_mono_usec();

    /* MHD 0.9.75 has no call to close one connection; shutting the socket
     * down makes MHD see the end of it on its next run and clean up. */
    for (HttpConn *c = s->conns; c; c = c->next)
        if (!c->shut && c->deadline <= now) {
            (void)shutdown(c->fd, SHUT_RDWR);
            c->shut = true;
        }
    deadline_arm(s);
    return 0;
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    HttpServer *s = cls;
    HttpConn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);

        c = calloc(1, sizeof *c);
        if (!c || !info) {
            free(c); /* no deadline then; the idle timeout still applies */
            return;
        }
        c->fd = info->connect_fd;
        c->deadline = now_mono_usec() + s->deadline_usec;
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        *socket_context = c;
        deadline_arm(s);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && c) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        free(c);
        *socket_context = NULL;
    }
}

/* A complete request arrived: the connection gets a full deadline for the
 * answer to be read and the next request to come. */
static void deadline_extend(HttpServer *s, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    HttpConn *c = info ? info->socket_context : NULL;

    if (c && !c->shut) c->deadline = now_mono_usec() + s->deadline_usec;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    HttpServer *s = cls;

    /* Answered on the first call; anything after is an upload we do not
     * want: consume it without looking. */
    if (*req_cls) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    *req_cls = s;
    deadline_extend(s, c);

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(s, c, "other", MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", NULL);
    if (strcmp(url, "/healthz") == 0)
        return answer_check(s, c, "healthz", s->provider.check_alive, "wedged");
    if (strcmp(url, "/readyz") == 0)
        return answer_check(s, c, "readyz", s->provider.check_ready, "not ready");
    if (strcmp(url, "/metrics") == 0) return answer_metrics(s, c);
    if (s->routes == HTTP_ROUTES_METRICS) {
        if (strcmp(url, "/leader") == 0) return answer_leader(s, c);
        /* Nothing of the old endpoint here: no name, no status. */
        return respond_text(s, c, "not_found", MHD_HTTP_NOT_FOUND, "not found", NULL);
    }
    if (strcmp(url, "/status") == 0) return answer_status(s, c);
    /* The old sidecar answered {"name":...} on every path. */
    return answer_name(s, c);
}

/* ---- the event loop glue ---- */

static unsigned current_connections(HttpServer *s)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

static int server_dispatch(HttpServer *s)
{
    MHD_UNSIGNED_LONG_LONG ms;
    uint64_t now;
    int r;

    /* MHD_run() never blocks here (no internal threads, epoll mode).
     * At the connection limit MHD takes its listening socket out of its
     * epoll set, and puts it back only at the start of a later run once
     * connections have closed: when a run closed some (idle timeouts), run
     * again, or nothing would ever wake us to accept the clients waiting in
     * the backlog. */
    for (unsigned i = 0; i < 8; i++) {
        unsigned before = current_connections(s);
        (void)MHD_run(s->mhd);
        if (current_connections(s) >= before) break;
    }

    /* MHD's timeout is relative, in ms: it covers idle connections and data
     * MHD already holds (then 0), which its epoll fd would not report again. */
    if (MHD_get_timeout(s->mhd, &ms) != MHD_YES)
        return sd_event_source_set_enabled(s->timer_source, SD_EVENT_OFF);
    r = sd_event_now(s->event, CLOCK_MONOTONIC, &now);
    if (r < 0) return r;
    if (ms > UINT64_C(86400000)) ms = UINT64_C(86400000);
    r = sd_event_source_set_time(s->timer_source, now + (uint64_t)ms * USEC_PER_MSEC);
    if (r < 0) return r;
    return sd_event_source_set_enabled(s->timer_source, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    (void)server_dispatch(userdata);
    return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    (void)server_dispatch(userdata);
    return 0;
}

int http_server_new(sd_event *event, const HttpServerConfig *config, const HttpProvider *provider,
                    void *userdata, ElectionMetrics *metrics, HttpServer **ret)
{
    _cleanup_(http_server_freep) HttpServer *s = NULL;
    const union MHD_DaemonInfo *info;
    _cleanup_close_ int fd = -1;
    int r;

    if (!event || !config || !provider || !provider->get_status || !ret) return -EINVAL;
    if (config->routes != HTTP_ROUTES_LEGACY && config->routes != HTTP_ROUTES_METRICS)
        return -EINVAL;

    s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->event = sd_event_ref(event);
    s->provider = *provider;
    s->userdata = userdata;
    s->metrics = metrics;
    s->routes = config->routes;
    s->deadline_usec =
        (uint64_t)(config->deadline_sec ? config->deadline_sec : HTTP_DEADLINE_SEC_DEFAULT) *
        USEC_PER_SEC;
    s->body = malloc(HTTP_BODY_MAX);
    if (!s->body) return -ENOMEM;

    r = listen_socket(config->listen, &fd, &s->port);
    if (r < 0) return r;
    r = sd_event_add_time(event, &s->deadline_source, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_MSEC,
                          on_deadline, s);
    if (r < 0) return r;
    (void)sd_event_source_set_description(s->deadline_source, "http-deadline");
    r = sd_event_source_set_enabled(s->deadline_source, SD_EVENT_OFF);
    if (r < 0) return r;

    s->mhd = MHD_start_daemon(
        MHD_USE_EPOLL, 0, NULL, NULL, handle_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(config->connection_limit ? config->connection_limit
                                            : HTTP_CONNECTION_LIMIT_DEFAULT),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)(config->per_ip_limit ? config->per_ip_limit : HTTP_PER_IP_LIMIT_DEFAULT),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(config->timeout_sec ? config->timeout_sec : HTTP_TIMEOUT_SEC_DEFAULT),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(config->memory_limit ? config->memory_limit : HTTP_MEMORY_LIMIT_DEFAULT),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->mhd) return -EIO;
    fd = -1; /* MHD owns and closes the listening socket now */

    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || info->epoll_fd < 0) return -EIO;
    r = sd_event_add_io(event, &s->io_source, info->epoll_fd, EPOLLIN, on_io, s);
    if (r < 0) return r;
    (void)sd_event_source_set_description(s->io_source, "http-io");
    /* 1 ms accuracy: a 0 timeout means MHD has buffered work to do now; the
     * default 250 ms slack would delay answers. */
    r = sd_event_add_time(event, &s->timer_source, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_MSEC,
                          on_timer, s);
    if (r < 0) return r;
    (void)sd_event_source_set_description(s->timer_source, "http-timer");
    r = sd_event_source_set_enabled(s->timer_source, SD_EVENT_OFF);
    if (r < 0) return r;

    *ret = TAKE_PTR(s);
    return 0;
}

HttpServer *http_server_free(HttpServer *s)
{
    if (!s) return NULL;
    s->io_source = sd_event_source_disable_unref(s->io_source);
    s->timer_source = sd_event_source_disable_unref(s->timer_source);
    if (s->mhd) MHD_stop_daemon(s->mhd); /* notifies every connection closed: s->conns empties */
    while (s->conns) {
        HttpConn *c = s->conns;
        s->conns = c->next;
        free(c);
    }
    s->deadline_source = sd_event_source_disable_unref(s->deadline_source);
    sd_event_unref(s->event);
    free(s->body);
    free(s);
    return NULL;
}

int http_server_add_connection(HttpServer *s, int fd)
{
    struct sockaddr_storage peer = {};
    socklen_t len = sizeof peer;

    if (!s || fd < 0) {
        if (fd >= 0) close(fd);
        return -EINVAL;
    }
    if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (MHD_add_connection(s->mhd, fd, (const struct sockaddr *)&peer, len) != MHD_YES)
        return errno > 0 ? -errno : -EIO; /* MHD closed it */
    (void)server_dispatch(s);
    return 0;
}

int http_server_get_port(const HttpServer *s)
{
    if (!s) return -EINVAL;
    return s->port;
}
