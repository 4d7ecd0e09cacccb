/* SPDX-License-Identifier: MIT */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "json.h"
#include "kube_status.h"
#include "kube_time.h"
#include "util.h"

#define EVENT_BODY_MAX (64 * 1024)

typedef struct Pending {
    char *ns;
    char *body;
    size_t len;
} Pending;

struct Events {
    sd_event *event;
    KubeClient *c;
    char *component, *host;
    uint64_t timeout;
    Pending *queue; /* ring */
    size_t cap, head, n;
    KubeRequest *req; /* the POST in flight: queue[head] */
    sd_event_source *kick;
    EventsStats stats;
    unsigned logged;    /* bit per kind of failure already logged */
    uint64_t last_nsec; /* the suffix of the last Event's name */
    kube_log_fn log;
    void *log_ud;
};

/* err: an error code for "%m" in fmt, as log.h's log_error_errno(); 0 for none. */
static void elog_errno(Events *ev, int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void elog_errno(Events *ev, int level, int err, const char *fmt, ...)
{
    char msg[512];
    int saved_errno = errno;
    va_list ap;

    errno = abs(err);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errno = saved_errno;
    if (ev->log)
        ev->log(level, msg, ev->log_ud);
    else
        fprintf(stderr, "%s\n", msg);
}
#define elog(ev, level, ...) elog_errno(ev, level, 0, __VA_ARGS__)

static void ref_field(JsonWriter *w, const char *key, const char *v)
{
    if (v && *v) {
        json_writer_key(w, key);
        json_writer_value_string(w, v);
    }
}

/* name_nsec: the name's suffix, nanoseconds since the epoch. */
static int format_event(const EventObjectRef *obj, const char *type, const char *reason,
                        const char *message, const char *component, const char *host,
                        int64_t wall_usec, uint64_t name_nsec, char **ret, size_t *ret_len)
{
    char ts[KUBE_TIME_BUF], name[512];
    const char *ns;
    JsonWriter w = JSON_WRITER_INIT(EVENT_BODY_MAX);

    if (!obj || !obj->name || !*obj->name || !obj->kind || !type || !reason || !ret) return -EINVAL;
    if (kube_time_format(wall_usec, ts) < 0) return -ERANGE;
    ns = obj->namespace_ && *obj->namespace_ ? obj->namespace_ : "default";
    /* client-go: fmt.Sprintf("%v.%x", ref.Name, t.UnixNano()) */
    snprintf(name, sizeof name, "%s.%" PRIx64, obj->name, name_nsec);
    if (!component) component = EVENTS_COMPONENT;

    /* core/v1 Event in Go struct order. */
    json_writer_begin_object(&w);
    json_writer_key(&w, "kind");
    json_writer_value_string(&w, "Event");
    json_writer_key(&w, "apiVersion");
    json_writer_value_string(&w, "v1");
    json_writer_key(&w, "metadata");
    json_writer_begin_object(&w);
    json_writer_key(&w, "name");
    json_writer_value_string(&w, name);
    json_writer_key(&w, "namespace");
    json_writer_value_string(&w, ns);
    json_writer_end_object(&w);
    json_writer_key(&w, "involvedObject");
    json_writer_begin_object(&w);
    ref_field(&w, "kind", obj->kind);
    ref_field(&w, "namespace", ns);
    ref_field(&w, "name", obj->name);
    ref_field(&w, "uid", obj->uid);
    ref_field(&w, "apiVersion", obj->api_version);
    ref_field(&w, "resourceVersion", obj->resource_version);
    json_writer_end_object(&w);
    json_writer_key(&w, "reason");
    json_writer_value_string(&w, reason);
    json_writer_key(&w, "message");
    json_writer_value_string(&w, message ? message : "");
    json_writer_key(&w, "source");
    json_writer_begin_object(&w);
    ref_field(&w, "component", component);
    ref_field(&w, "host", host);
    json_writer_end_object(&w);
    json_writer_key(&w, "firstTimestamp");
    json_writer_value_string(&w, ts);
    json_writer_key(&w, "lastTimestamp");
    json_writer_value_string(&w, ts);
    json_writer_key(&w, "count");
    json_writer_value_int(&w, 1);
    json_writer_key(&w, "type");
    json_writer_value_string(&w, type);
    json_writer_key(&w, "eventTime");
    json_writer_value_raw(&w, "null");
    json_writer_key(&w, "reportingComponent");
    json_writer_value_string(&w, component);
    json_writer_key(&w, "reportingInstance");
    json_writer_value_string(&w, host ? host : "");
    json_writer_end_object(&w);
    return json_writer_finish(&w, ret, ret_len);
}

int events_format(const EventObjectRef *obj, const char *type, const char *reason,
                  const char *message, const char *component, const char *host, int64_t wall_usec,
                  char **ret, size_t *ret_len)
{
    return format_event(obj, type, reason, message, component, host, wall_usec,
                        (uint64_t)wall_usec * 1000, ret, ret_len);
}

int events_new(sd_event *event, KubeClient *c, const EventsConfig *cfg, Events **ret)
{
    Events *ev;

    if (!event || !c || !ret) return -EINVAL;
    ev = calloc(1, sizeof *ev);
    if (!ev) return -ENOMEM;
    ev->event = sd_event_ref(event);
    ev->c = c;
    ev->cap = cfg && cfg->queue_max ? cfg->queue_max : EVENTS_QUEUE_DEFAULT;
    ev->timeout = cfg && cfg->timeout_usec ? cfg->timeout_usec : 5 * USEC_PER_SEC;
    ev->component = strdup(cfg && cfg->component ? cfg->component : EVENTS_COMPONENT);
    ev->host = strdup(cfg && cfg->host ? cfg->host : "");
    ev->queue = calloc(ev->cap, sizeof *ev->queue);
    if (!ev->component || !ev->host || !ev->queue) {
        events_free(ev);
        return -ENOMEM;
    }
    *ret = ev;
    return 0;
}

static void pending_done(Pending *p)
{
    free(p->ns);
    free(p->body);
    *p = (Pending){0};
}

Events *events_free(Events *ev)
{
    if (!ev) return NULL;
    kube_request_cancel(ev->req);
    sd_event_source_disable_unref(ev->kick);
    for (size_t i = 0; ev->queue && i < ev->n; i++)
        pending_done(&ev->queue[(ev->head + i) % ev->cap]);
    free(ev->queue);
    free(ev->component);
    free(ev->host);
    sd_event_unref(ev->event);
    free(ev);
    return NULL;
}

void events_set_log(Events *ev, kube_log_fn fn, void *userdata)
{
    ev->log = fn;
    ev->log_ud = userdata;
}

void events_stats(const Events *ev, EventsStats *ret)
{
    *ret = ev->stats;
    ret->pending = ev->n;
}

static void send_next(Events *ev);

static void pop(Events *ev)
{
    pending_done(&ev->queue[ev->head]);
    ev->head = (ev->head + 1) % ev->cap;
    ev->n--;
}

static void on_posted(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    Events *ev = userdata;
    unsigned bit;

    ev->req = NULL;
    if (resp->result == KUBE_OK) {
        ev->stats.posted++;
    } else {
        ev->stats.failed++;
        /* Once per kind: a cluster without RBAC for events would otherwise log at every
         * transition. */
        bit = resp->result > 0 && resp->result < 32 ? 1u << resp->result : 1u;
        if (!(ev->logged & bit)) {
            ev->logged |= bit;
            elog(ev, LOG_WARNING,
                 "cannot post a Kubernetes Event (dropped; events are best "
                 "effort, the election is not affected): %s",
                 resp->error ? resp->error : kube_result_to_string(resp->result));
        }
    }
    pop(ev);
    send_next(ev);
}

static void send_next(Events *ev)
{
    Pending *p;
    int k;

    while (ev->n > 0 && !ev->req) {
        p = &ev->queue[ev->head];
        k = kube_object_create(ev->c, &KUBE_RESOURCE_EVENTS, p->ns, p->body, p->len, ev->timeout,
                               on_posted, ev, &ev->req);
        if (k >= 0) return;
        ev->req = NULL;
        ev->stats.failed++;
        elog_errno(ev, LOG_WARNING, k, "cannot post a Kubernetes Event: %m");
        pop(ev);
    }
}

static int on_kick(sd_event_source *s, void *userdata)
{
    Events *ev = userdata;
    send_next(ev);
    return 0;
}

int events_post(Events *ev, const EventObjectRef *obj, const char *type, const char *reason,
                const char *message, int64_t wall_usec)
{
    Pending p = {0};
    uint64_t name_nsec;
    int k;

    if (!ev || !obj) return -EINVAL;
    if (ev->n >= ev->cap) {
        ev->stats.dropped++;
        return -ENOBUFS;
    }
    /* client-go's names differ by their nanoseconds; ours come from a µs clock, and one
     * transition posts on several objects (the MultiLock's two, of the same name, and the pod)
     * at once: the suffix is kept increasing, so no two Events of this poster collide. */
    name_nsec = (uint64_t)wall_usec * 1000;
    if (name_nsec <= ev->last_nsec) name_nsec = ev->last_nsec + 1;
    k = format_event(obj, type, reason, message, ev->component, ev->host, wall_usec, name_nsec,
                     &p.body, &p.len);
    if (k < 0) return k;
    ev->last_nsec = name_nsec;
    p.ns = strdup(obj->namespace_ && *obj->namespace_ ? obj->namespace_ : "default");
    if (!p.ns) {
        free(p.body);
        return -ENOMEM;
    }
    ev->queue[(ev->head + ev->n) % ev->cap] = p;
    ev->n++;
    ev->stats.queued++;
    /* Sent from the loop: the caller is usually in the middle of an election step. */
    if (!ev->kick) {
        k = sd_event_add_defer(ev->event, &ev->kick, on_kick, ev);
        if (k < 0) return 0; /* stays queued; the next post tries again */
    }
    (void)sd_event_source_set_enabled(ev->kick, SD_EVENT_ONESHOT);
    return 0;
}
