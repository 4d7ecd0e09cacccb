/* SPDX-License-Identifier: MIT */
#include "endpointslice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util.h"

#define DEFAULT_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define DEFAULT_RETRY_USEC (1 * USEC_PER_SEC)
#define DEFAULT_RESYNC_USEC (60 * USEC_PER_SEC)
/* Conflicts in a row answered by an immediate re-read; then the retry delay. */
#define CONFLICTS_FAST 3

/* ---- the writer ---- */

typedef enum Op {
    OP_NONE,
    OP_GET,
    OP_CREATE,
    OP_UPDATE,
} Op;

struct EndpointSlice {
    sd_event *event;
    KubeClient *kube;
    EndpointSliceConfig cfg; /* strings point into the copies below */
    char *ns, *name, *service, *pod_ip, *pod_name, *pod_namespace, *pod_uid, *node_name, *zone;
    EndpointSlicePort ports[ENDPOINTSLICE_PORTS_MAX];

    endpointslice_claim_fn claim;
    endpointslice_log_fn log;
    void *userdata;

    bool want_leader;
    bool dirty;     /* we (may) have written our address and not seen it gone since */
    bool published; /* last seen: exactly our endpoint */
    uint64_t verified_at;

    /* The slice as last returned (fresh: from the latest answer, not yet acted upon). */
    char *raw;
    size_t raw_len;
    bool fresh, absent;

    KubeRequest *req;
    Op op;
    bool op_publish;
    unsigned conflicts;
    sd_event_source *timer; /* retry or resync */

    endpointslice_withdrawn_fn withdrawn;
    void *withdrawn_userdata;
    sd_event_source *withdraw_deadline;

    EndpointSliceStats stats;
};

static void sync_slice(EndpointSlice *s);

/* err: an error code for "%m" in fmt, as log.h's log_error_errno(); 0 for none. */
static void slog_errno(EndpointSlice *s, int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void slog_errno(EndpointSlice *s, int level, int err, const char *fmt, ...)
{
    char buf[512];
    int saved_errno = errno;
    va_list ap;

    if (!s->log) return;
    errno = abs(err);
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    errno = saved_errno;
    s->log(level, buf, s->userdata);
}
#define slog(s, level, ...) slog_errno(s, level, 0, __VA_ARGS__)

static void withdraw_complete(EndpointSlice *s, bool ok)
{
    endpointslice_withdrawn_fn fn = s->withdrawn;

    if (!fn) return;
    s->withdrawn = NULL;
    s->withdraw_deadline = sd_event_source_disable_unref(s->withdraw_deadline);
    fn(s, ok, s->withdrawn_userdata);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    EndpointSlice *s = userdata;

    (void)src;
    (void)usec;
    s->fresh = false; /* a retry or a resync re-reads */
    sync_slice(s);
    return 0;
}

static void arm(EndpointSlice *s, uint64_t delay)
{
    uint64_t at = now_boot_usec() + delay;
    int r;

    if (!s->timer)
        r = sd_event_add_time(s->event, &s->timer, CLOCK_BOOTTIME, at, USEC_PER_MSEC, on_timer, s);
    else {
        r = sd_event_source_set_time(s->timer, at);
        if (r >= 0) r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
    }
    if (r < 0) slog_errno(s, LOG_ERR, r, "endpointslice %s: cannot arm a timer: %m", s->name);
}

static void disarm(EndpointSlice *s)
{
    if (s->timer) (void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
}

static bool timer_pending(const EndpointSlice *s)
{
    int enabled = SD_EVENT_OFF;

    if (!s->timer) return false;
    (void)sd_event_source_get_enabled(s->timer, &enabled);
    return enabled != SD_EVENT_OFF;
}

static void keep_object(EndpointSlice *s, const char *body, size_t len)
{
    char *copy = malloc(len + 1);

    free(s->raw);
    s->raw = NULL;
    s->raw_len = 0;
    s->absent = false;
    s->fresh = false;
    if (!copy) return;
    memcpy(copy, body, len);
    copy[len] = 0;
    s->raw = copy;
    s->raw_len = len;
    s->fresh = true;
}

static void on_answer(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    EndpointSlice *s = userdata;
    Op op = s->op;
    bool publish = s->op_publish;

    (void)c;
    s->req = NULL;
    s->op = OP_NONE;
    switch (resp->result) {
    case KUBE_OK:
        s->conflicts = 0;
        keep_object(s, resp->body, resp->body_len);
        if (op != OP_GET)
            slog(s, LOG_INFO, "endpointslice %s: %s", s->name,
                 publish ? "now lists this pod's address" : "emptied");
        break;
    case KUBE_E_NOT_FOUND:
        s->conflicts = 0;
        if (op == OP_GET) {
            free(s->raw);
            s->raw = NULL;
            s->raw_len = 0;
            s->absent = true;
            s->fresh = true;
            s->published = false;
            if (!s->want_leader) s->dirty = false;
            break;
        }
        /* an update of a deleted slice: read again */
        s->fresh = false;
        break;
    case KUBE_E_CONFLICT:
    case KUBE_E_ALREADY_EXISTS:
        /* Someone else wrote since we read: read again, decide again (a lapsed
         * claim is not renewed by a retry: the claim is asked again). */
        s->stats.conflicts++;
        s->fresh = false;
        s->published = false;
        if (++s->conflicts > CONFLICTS_FAST) {
            s->conflicts = 0;
            arm(s, s->cfg.retry_usec);
        }
        slog(s, LOG_INFO, "endpointslice %s: %s; reading it again", s->name,
             resp->error ? resp->error : "conflict");
        break;
    default:
        s->stats.errors++;
        s->fresh = false;
        slog(s,
             resp->result == KUBE_E_FORBIDDEN || resp->result == KUBE_E_INVALID ? LOG_ERR
                                                                                : LOG_WARNING,
             "endpointslice %s: %s failed: %s; retrying", s->name,
             op == OP_GET      ? "get"
             : op == OP_CREATE ? "create"
                               : "update",
             resp->error ? resp->error : "error");
        arm(s, resp->retry_after_usec > s->cfg.retry_usec ? resp->retry_after_usec
                                                          : s->cfg.retry_usec);
        if (!s->want_leader && op != OP_GET) withdraw_complete(s, false);
        break;
    }
    sync_slice(s);
}

static void start_failed(EndpointSlice *s, const char *what, int r)
{
    s->req = NULL;
    s->op = OP_NONE;
    s->stats.errors++;
    slog_errno(s, LOG_WARNING, r, "endpointslice %s: cannot start the %s: %m", s->name, what);
    arm(s, s->cfg.retry_usec);
}

static void send_get(EndpointSlice *s)
{
    int r;

    s->op = OP_GET;
    s->stats.gets++;
    r = kube_object_get(s->kube, &KUBE_RESOURCE_ENDPOINTSLICES, s->cfg.namespace_, s->name,
                        s->cfg.timeout_usec, on_answer, s, &s->req);
    if (r < 0) start_failed(s, "get", r);
}

/* Writes our endpoint (publish) or none. A publish is sent only if the claim
 * holds now, and never outlives it. */
static void send_write(EndpointSlice *s, bool publish)
{
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    uint64_t timeout = s->cfg.timeout_usec;
    int r;

    if (publish) {
        uint64_t left = s->claim ? s->claim(s->userdata) : 0;
        if (left == 0) {
            s->stats.refused++;
            slog(s, LOG_DEBUG, "endpointslice %s: not leader any more, not writing", s->name);
            return;
        }
        if (left < timeout) timeout = left;
        s->dirty = true; /* from now on it may list us, whatever the answer */
    }
    if (s->absent)
        r = endpointslice_new_json(&s->cfg, s->cfg.namespace_, publish, &body, &len);
    else
        r = endpointslice_edit_json(&s->cfg, s->raw, s->raw_len, publish, &body, &len);
    if (r < 0) {
        slog_errno(s, LOG_ERR, r, "endpointslice %s: cannot build the object: %m", s->name);
        s->fresh = false;
        arm(s, s->cfg.retry_usec);
        return;
    }
    s->op_publish = publish;
    if (s->absent) {
        s->op = OP_CREATE;
        s->stats.creates++;
        r = kube_object_create(s->kube, &KUBE_RESOURCE_ENDPOINTSLICES, s->cfg.namespace_, body, len,
                               timeout, on_answer, s, &s->req);
    } else {
        s->op = OP_UPDATE;
        s->stats.updates++;
        r = kube_object_update(s->kube, &KUBE_RESOURCE_ENDPOINTSLICES, s->cfg.namespace_, s->name,
                               body, len, timeout, on_answer, s, &s->req);
    }
    s->fresh = false;
    if (r < 0) start_failed(s, publish ? "write" : "emptying", r);
}

static void sync_slice(EndpointSlice *s)
{
    int c;

    if (s->req || timer_pending(s)) return; /* the answer or the timer calls again */

    if (!s->want_leader && !s->dirty) {
        withdraw_complete(s, true);
        return;
    }
    if (s->want_leader && s->published && !s->fresh) {
        /* Known good: look again only at the resync. */
        uint64_t age = now_boot_usec() - s->verified_at;
        if (age < s->cfg.resync_usec) {
            arm(s, s->cfg.resync_usec - age);
            return;
        }
    }
    if (!s->fresh) {
        send_get(s);
        return;
    }

    if (s->absent) {
        if (s->want_leader) send_write(s, true);
        /* else: dirty was cleared on the 404 */
        return;
    }
    c = endpointslice_classify(&s->cfg, s->raw, s->raw_len);
    if (c < 0) {
        slog(s, LOG_ERR, "endpointslice %s: the server returned something that is not an object",
             s->name);
        s->fresh = false;
        arm(s, s->cfg.retry_usec);
        return;
    }
    if (s->want_leader) {
        if (c == ENDPOINTSLICE_CONTENT_OURS) {
            s->published = true;
            s->dirty = true;
            s->verified_at = now_boot_usec();
            s->fresh = false;
            arm(s, s->cfg.resync_usec);
            return;
        }
        s->published = false;
        send_write(s, true);
        return;
    }
    s->published = false;
    if (c == ENDPOINTSLICE_CONTENT_OTHER) {
        s->dirty = false;
        s->fresh = false;
        withdraw_complete(s, true);
        return;
    }
    send_write(s, false);
}

int endpointslice_new(sd_event *event, KubeClient *client, const EndpointSliceConfig *cfg,
                      EndpointSlice **ret)
{
    EndpointSlice *s;
    char ip[INET6_ADDRSTRLEN];

    if (!event || !client || !ret || endpointslice_config_validate(cfg) < 0) return -EINVAL;
    if (!endpointslice_address_type(cfg->pod_ip, ip, sizeof ip)) return -EINVAL;
    s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    s->event = sd_event_ref(event);
    s->kube = client;
#define DUP(f) (s->f = cfg->f ? strdup(cfg->f) : NULL, !cfg->f || s->f)
    s->ns = strdup(cfg->namespace_ ? cfg->namespace_ : kube_client_namespace(client));
    s->pod_ip = strdup(ip);
    if (!s->ns || !s->pod_ip || !DUP(name) || !DUP(service) || !DUP(pod_name) ||
        !DUP(pod_namespace) || !DUP(pod_uid) || !DUP(node_name) || !DUP(zone)) {
        endpointslice_free(s);
        return -ENOMEM;
    }
#undef DUP
    memcpy(s->ports, cfg->ports, cfg->n_ports * sizeof s->ports[0]);
    s->cfg = (EndpointSliceConfig){
        .namespace_ = s->ns,
        .name = s->name,
        .service = s->service,
        .pod_ip = s->pod_ip,
        .pod_name = s->pod_name,
        .pod_namespace = s->pod_namespace,
        .pod_uid = s->pod_uid,
        .node_name = s->node_name,
        .zone = s->zone,
        .ports = s->ports,
        .n_ports = cfg->n_ports,
        .timeout_usec = cfg->timeout_usec ? cfg->timeout_usec : DEFAULT_TIMEOUT_USEC,
        .retry_usec = cfg->retry_usec ? cfg->retry_usec : DEFAULT_RETRY_USEC,
        .resync_usec = cfg->resync_usec ? cfg->resync_usec : DEFAULT_RESYNC_USEC,
    };
    *ret = s;
    return 0;
}

EndpointSlice *endpointslice_free(EndpointSlice *s)
{
    if (!s) return NULL;
    kube_request_cancel(s->req);
    sd_event_source_disable_unref(s->timer);
    sd_event_source_disable_unref(s->withdraw_deadline);
    free(s->raw);
    free(s->ns);
    free(s->name);
    free(s->service);
    free(s->pod_ip);
    free(s->pod_name);
    free(s->pod_namespace);
    free(s->pod_uid);
    free(s->node_name);
    free(s->zone);
    sd_event_unref(s->event);
    free(s);
    return NULL;
}

void endpointslice_set_callbacks(EndpointSlice *s, endpointslice_claim_fn claim,
                                 endpointslice_log_fn log, void *userdata)
{
    s->claim = claim;
    s->log = log;
    s->userdata = userdata;
}

void endpointslice_set_leader(EndpointSlice *s, bool leader)
{
    if (s->want_leader == leader) return;
    s->want_leader = leader;
    s->published = false;
    s->conflicts = 0;
    /* A change of role acts now: a pending retry or resync is superseded. */
    if (!s->req) disarm(s);
    sync_slice(s);
}

static int on_withdraw_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
    EndpointSlice *s = userdata;

    (void)src;
    (void)usec;
    slog(s, LOG_WARNING, "endpointslice %s: could not empty it in time", s->name);
    withdraw_complete(s, false);
    return 0;
}

int endpointslice_withdraw(EndpointSlice *s, uint64_t timeout_usec, endpointslice_withdrawn_fn done,
                           void *userdata)
{
    int r;

    endpointslice_set_leader(s, false);
    if (!s->dirty) return 0;
    s->withdrawn = done;
    s->withdrawn_userdata = userdata;
    if (!s->withdraw_deadline) {
        r = sd_event_add_time_relative(s->event, &s->withdraw_deadline, CLOCK_BOOTTIME,
                                       timeout_usec, USEC_PER_MSEC, on_withdraw_deadline, s);
        if (r < 0) {
            s->withdrawn = NULL;
            return r;
        }
    }
    /* Not waiting for a retry: try now. */
    if (!s->req && timer_pending(s)) {
        disarm(s);
        sync_slice(s);
    }
    if (!s->withdrawn)
        return 0; /* completed meanwhile (cannot happen without an answer, but be exact) */
    return 1;
}

bool endpointslice_published(const EndpointSlice *s)
{
    return s && s->want_leader && s->published;
}

void endpointslice_stats(const EndpointSlice *s, EndpointSliceStats *ret)
{
    *ret = s ? s->stats : (EndpointSliceStats){0};
}
