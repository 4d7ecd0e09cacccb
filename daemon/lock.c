/* SPDX-License-Identifier: MIT */
/*
 * The lock backends (see lock.h). Each op is a small chain of API requests driven from their
 * completion callbacks: one request in flight per op, the op's deadline shared by all of them.
 */
#include "lock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_lease.h"
#include "util.h"

#define BODY_MAX (1024 * 1024)
/* A watch of the Endpoints modes polling after a stream failed (not refused): streams again. */
#define STREAMS_RETRY_USEC (300 * USEC_PER_SEC)

/* ---- the lock ---- */

typedef enum OpKind {
    OP_GET,
    OP_CREATE,
    OP_UPDATE,
    OP_WATCH,
} OpKind;

/* How a watch in the Endpoints modes follows the objects. */
typedef enum WatchMode {
    WATCH_SYNC,   /* reading the objects, then watch streams from what was read */
    WATCH_STREAM, /* watch streams (one per object) */
    WATCH_POLL,   /* a read every poll period (the streams are refused or failed) */
} WatchMode;

/* One object as a watch of the Endpoints modes last saw it. */
typedef struct WatchObject {
    bool present;
    ElectionRecord record; /* present: as stored (record.revision: its resourceVersion) */
    uint64_t revision;     /* of the last change seen (the deletion's when absent); 0: unknown */
} WatchObject;

/* One watch stream of the Endpoints modes: how it was (re)started, for its 410 Expired. */
typedef enum StreamStart {
    STREAM_FROM_READ, /* from the resourceVersion just read (or without one: absent), no event yet
                       */
    STREAM_FROM_NOW,  /* without a resourceVersion after a 410, no event yet */
    STREAM_LIVE,      /* has delivered an event (or a BOOKMARK) since */
} StreamStart;

typedef enum Step {
    STEP_NONE,
    STEP_EP_GET,
    STEP_EP_CREATE,
    STEP_EP_PUT,
    STEP_LEASE_GET,
    STEP_LEASE_CREATE,
    STEP_LEASE_PUT,
} Step;

struct Lock {
    sd_event *event;
    KubeClient *c;
    LockType type;
    char *ns, *name, *identity;

    /* The objects as the server last returned them (newest resourceVersion). */
    KubeLease lease;
    bool have_lease;
    LockEndpoints ep;
    bool have_ep;

    LockOp *ops;
    unsigned writes_inflight;
    uint64_t write_gen; /* bumped when a write starts and when it ends */

    lock_request_fn observer;
    void *observer_ud;
};

struct LockOp {
    Lock *l;
    LockOp *prev, *next;
    OpKind kind;
    Step step;
    KubeRequest *req;
    uint64_t req_start;
    uint64_t deadline;
    lock_done_fn cb;
    lock_event_fn on_event;
    void *userdata;

    ElectionRecord rec; /* create/update: what to write */
    uint64_t base_revision;
    bool ep_checked;    /* update without a kept Endpoints: read first */
    bool lease_retried; /* the Lease PUT found it deleted: created once instead */
    bool primary_found;
    bool primary_absent; /* MultiLock get/watch: the Endpoints is absent (the Lease is read too) */
    ElectionRecord primary; /* MultiLock: the Endpoints record read or written */

    bool created; /* the primary write answered 201 */
    /* MultiLock write: the Lease as this lock knew it when the write began (lease_follow()). */
    bool lease_seen;
    uint64_t lease_rev;

    /* watch */
    KubeRequest *lease_watch; /* the Lease's stream (LOCK_LEASES; the MultiLock's secondary) */
    KubeRequest *ep_watch;    /* the Endpoints' stream (Endpoints modes) */
    lock_interrupt_fn on_interrupt;
    sd_event_source *timer;
    uint64_t poll;
    uint64_t gen_at_start;
    bool is_write;
    WatchMode mode;
    StreamStart ep_start, lease_start;
    uint64_t stream_timeout;
    uint64_t streams_retry_at; /* WATCH_POLL after a stream failure: try streams again then */
    bool pending;              /* a change not shown yet: one of our writes was in flight */
    sd_event_source *flush;    /* shows `pending` once our writes are done */
    bool read_complete;        /* the read found (or not) every object: the streams can start */
    bool read_sec_found;       /* MultiLock: the read's Lease (read_sec) */
    ElectionRecord read_sec;
    WatchObject v_ep, v_lease; /* WATCH_STREAM: the objects as last seen */
};

LockType lock_type(const Lock *l)
{
    return l->type;
}

void lock_set_request_observer(Lock *l, lock_request_fn fn, void *userdata)
{
    l->observer = fn;
    l->observer_ud = userdata;
}

static LockObjectRef endpoints_ref(const Lock *l)
{
    return (LockObjectRef){
        .kind = "Endpoints",
        .api_version = "v1",
        .name = l->name,
        .namespace_ = l->ns,
        .uid = l->have_ep ? l->ep.uid : NULL,
        .resource_version = l->have_ep ? l->ep.resource_version : NULL,
    };
}

static LockObjectRef lease_ref(const Lock *l)
{
    return (LockObjectRef){
        .kind = "Lease",
        .api_version = "coordination.k8s.io/v1",
        .name = l->name,
        .namespace_ = l->ns,
        .uid = l->have_lease ? l->lease.uid : NULL,
        .resource_version = l->have_lease ? l->lease.resource_version : NULL,
    };
}

void lock_object_ref(const Lock *l, LockObjectRef *ret)
{
    *ret = l->type == LOCK_ENDPOINTS ? endpoints_ref(l) : lease_ref(l);
}

size_t lock_event_objects(const Lock *l, LockObjectRef ret[2])
{
    switch (l->type) {
    case LOCK_ENDPOINTS:
        ret[0] = endpoints_ref(l);
        return 1;
    case LOCK_ENDPOINTS_LEASES: /* MultiLock.RecordEvent: the primary, then the secondary */
        ret[0] = endpoints_ref(l);
        ret[1] = lease_ref(l);
        return 2;
    default:
        ret[0] = lease_ref(l);
        return 1;
    }
}

int lock_new(sd_event *event, KubeClient *c, const LockConfig *cfg, Lock **ret)
{
    Lock *l;

    if (!event || !c || !cfg || (unsigned)cfg->type >= _LOCK_TYPE_MAX || !cfg->namespace_ ||
        !cfg->name || !cfg->identity || !*cfg->name || !*cfg->identity || !ret)
        return -EINVAL;
    l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->event = sd_event_ref(event);
    l->c = c;
    l->type = cfg->type;
    l->lease = KUBE_LEASE_INIT;
    l->ns = strdup(cfg->namespace_);
    l->name = strdup(cfg->name);
    l->identity = strdup(cfg->identity);
    if (!l->ns || !l->name || !l->identity) {
        lock_free(l);
        return -ENOMEM;
    }
    *ret = l;
    return 0;
}

static void op_unlink_free(LockOp *op)
{
    Lock *l = op->l;

    if (op->prev)
        op->prev->next = op->next;
    else
        l->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    if (op->is_write) {
        l->writes_inflight--;
        l->write_gen++;
        /* Our writes are done: a watch shows what it held back meanwhile (from the loop, after
         * the write's callback). */
        if (l->writes_inflight == 0)
            for (LockOp *w = l->ops; w; w = w->next)
                if (w->kind == OP_WATCH && w->pending && w->flush)
                    (void)sd_event_source_set_enabled(w->flush, SD_EVENT_ONESHOT);
    }
    kube_request_cancel(op->req);
    kube_request_cancel(op->lease_watch);
    kube_request_cancel(op->ep_watch);
    sd_event_source_disable_unref(op->timer);
    sd_event_source_disable_unref(op->flush);
    free(op);
}

Lock *lock_free(Lock *l)
{
    if (!l) return NULL;
    while (l->ops)
        op_unlink_free(l->ops);
    kube_lease_done(&l->lease);
    lock_endpoints_done(&l->ep);
    free(l->ns);
    free(l->name);
    free(l->identity);
    sd_event_unref(l->event);
    free(l);
    return NULL;
}

LockOp *lock_op_cancel(LockOp *op)
{
    if (op) op_unlink_free(op);
    return NULL;
}

static LockOp *op_new(Lock *l, OpKind kind, uint64_t timeout, lock_done_fn cb, void *userdata)
{
    LockOp *op = calloc(1, sizeof *op);

    if (!op) return NULL;
    op->l = l;
    op->kind = kind;
    op->cb = cb;
    op->userdata = userdata;
    op->deadline = timeout ? now_boot_usec() + timeout : 0;
    op->next = l->ops;
    if (op->next) op->next->prev = op;
    l->ops = op;
    if (kind == OP_CREATE || kind == OP_UPDATE) {
        op->is_write = true;
        l->writes_inflight++;
        l->write_gen++;
        op->lease_seen = l->have_lease;
        op->lease_rev = l->have_lease ? lock_revision_of(l->lease.resource_version) : 0;
    }
    return op;
}

/* Newest wins: a change older than one seen (a late event, an answer that crossed a newer event)
 * is not news. Returns whether it was taken. */
static bool view_update(WatchObject *o, bool present, const ElectionRecord *r, uint64_t revision,
                        bool read)
{
    if (!read && revision != 0 && o->revision != 0 && revision < o->revision) return false;
    o->present = present;
    if (present)
        o->record = *r;
    else
        o->record = (ElectionRecord){0};
    o->revision = revision;
    return true;
}

/* Every object the server returned (a read, a write's answer, a stream's event) is news for the
 * streams' view, whichever op it came through. Not absences: a 404 carries no resourceVersion, so
 * one that crossed a newer event could not be told from news; the view learns of deletions from
 * the streams. */
static void views_saw(Lock *l, bool lease, const ElectionRecord *r, bool read)
{
    for (LockOp *w = l->ops; w; w = w->next)
        if (w->kind == OP_WATCH && w->mode == WATCH_STREAM)
            (void)view_update(lease ? &w->v_lease : &w->v_ep, true, r, r->revision, read);
}

/* Keeps the newest object of each kind for the next update. A read (read = true) is kept even
 * when its resourceVersion is lower than the one kept: the store went backwards (etcd restored
 * from a backup), or an answer crossed a newer event; either way the next update is made on what
 * the server said last when asked, and a conditional write sorts out the rest. */
static void remember_ep(Lock *l, LockEndpoints *e, bool read)
{
    views_saw(l, false, &e->record, read);
    if (!read && l->have_ep && lock_revision_of(e->resource_version) != 0 &&
        lock_revision_of(e->resource_version) < lock_revision_of(l->ep.resource_version))
        return;
    lock_endpoints_done(&l->ep);
    l->ep = *e;
    *e = (LockEndpoints){0};
    l->have_ep = true;
}

static void remember_lease(Lock *l, const KubeLease *x, bool read)
{
    KubeLease copy = KUBE_LEASE_INIT;
    ElectionRecord r;

    lock_record_from_lease(x, &r);
    views_saw(l, true, &r, read);
    if (!read && l->have_lease && lock_revision_of(x->resource_version) != 0 &&
        lock_revision_of(x->resource_version) < lock_revision_of(l->lease.resource_version))
        return;
    if (kube_lease_copy(x, &copy) < 0)
        return; /* out of memory: the next update is based on the older copy, and may conflict */
    kube_lease_done(&l->lease);
    l->lease = copy;
    l->have_lease = true;
}

static void forget_ep(Lock *l)
{
    lock_endpoints_done(&l->ep);
    l->have_ep = false;
}

static void forget_lease(Lock *l)
{
    kube_lease_done(&l->lease);
    l->have_lease = false;
}

/* Ends an op (not a watch): the callback, then free. */
static void op_finish(LockOp *op, const LockResult *res)
{
    Lock *l = op->l;
    lock_done_fn cb = op->cb;
    void *ud = op->userdata;

    op->cb = NULL;
    op_unlink_free(op);
    if (cb) cb(l, res, ud);
}

static void op_fail(LockOp *op, int result, long http, uint64_t retry_after, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void op_fail(LockOp *op, int result, long http, uint64_t retry_after, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    LockResult res = {
        .result = result, .http_status = http, .retry_after_usec = retry_after, .error = msg};

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    op_finish(op, &res);
}

static void op_ok(LockOp *op, long http, const ElectionRecord *r, uint64_t aux)
{
    LockResult res = {.result = KUBE_OK,
                      .http_status = http,
                      .has_record = true,
                      .record = *r,
                      .aux = aux,
                      .created = op->created};
    op_finish(op, &res);
}

static void watch_poll_done(LockOp *op, bool deleted, const ElectionRecord *r, uint64_t aux);
static void watch_poll_failed(LockOp *op, int result, long http, const char *error);

/* ---- requests ---- */

static void on_response(KubeClient *c, const KubeResponse *resp, void *userdata);

static uint64_t remaining(LockOp *op, uint64_t now)
{
    if (op->deadline == 0) return 10 * USEC_PER_SEC;
    return op->deadline > now ? op->deadline - now : 0;
}

static const char *step_verb(Step s)
{
    switch (s) {
    case STEP_EP_GET:
    case STEP_LEASE_GET:
        return "get";
    case STEP_EP_CREATE:
    case STEP_LEASE_CREATE:
        return "create";
    default:
        return "update";
    }
}

static const char *step_object(Step s)
{
    return s == STEP_EP_GET || s == STEP_EP_CREATE || s == STEP_EP_PUT ? "endpoints" : "lease";
}

/* Starts the request of step s with t µs left. Returns 0 or a negative errno (nothing started). */
static int start_step(LockOp *op, Step s, uint64_t t)
{
    Lock *l = op->l;
    _cleanup_free_ char *body = NULL;
    KubeLease x = KUBE_LEASE_INIT;
    size_t len = 0;
    int k;

    switch (s) {
    case STEP_EP_GET:
        k = kube_object_get(l->c, &KUBE_RESOURCE_ENDPOINTS, l->ns, l->name, t, on_response, op,
                            &op->req);
        break;
    case STEP_EP_CREATE:
        k = lock_endpoints_create_body(l->ns, l->name, &op->rec, BODY_MAX, &body, &len);
        if (k >= 0)
            k = kube_object_create(l->c, &KUBE_RESOURCE_ENDPOINTS, l->ns, body, len, t, on_response,
                                   op, &op->req);
        break;
    case STEP_EP_PUT:
        k = lock_endpoints_update_body(&l->ep, &op->rec, BODY_MAX, &body, &len);
        if (k >= 0)
            k = kube_object_update(l->c, &KUBE_RESOURCE_ENDPOINTS, l->ns, l->name, body, len, t,
                                   on_response, op, &op->req);
        break;
    case STEP_LEASE_GET:
        k = kube_lease_get(l->c, l->ns, l->name, t, on_response, op, &op->req);
        break;
    case STEP_LEASE_CREATE:
        x.name = strdup(l->name);
        x.namespace_ = strdup(l->ns);
        k = x.name && x.namespace_ ? lock_record_to_lease(&x, &op->rec) : -ENOMEM;
        if (k >= 0) k = kube_lease_create(l->c, &x, t, on_response, op, &op->req);
        break;
    case STEP_LEASE_PUT:
        if (l->have_lease) {
            k = kube_lease_copy(&l->lease, &x);
        } else {
            /* Nothing seen: a PUT of a missing Lease creates it; an existing one refuses a PUT
             * without resourceVersion (422), so this never overwrites blindly. */
            x.name = strdup(l->name);
            x.namespace_ = strdup(l->ns);
            k = x.name && x.namespace_ ? 0 : -ENOMEM;
        }
        if (k >= 0) k = lock_record_to_lease(&x, &op->rec);
        if (k >= 0) k = kube_lease_update(l->c, &x, t, on_response, op, &op->req);
        break;
    default:
        k = -EINVAL;
    }
    kube_lease_done(&x);
    if (k < 0) {
        op->req = NULL;
        return k;
    }
    op->step = s;
    op->req_start = now_boot_usec();
    return 0;
}

/* Starts the next request of a running op (from a callback). On failure the op ends (freed,
 * or rescheduled for a watch): returns false. */
static bool op_request(LockOp *op, Step s)
{
    uint64_t t = remaining(op, now_boot_usec());
    int k;

    if (t < USEC_PER_MSEC) {
        if (op->kind == OP_WATCH) {
            watch_poll_failed(op, KUBE_E_TIMEOUT, 0, "poll deadline passed");
            return false;
        }
        op_fail(op, KUBE_E_TIMEOUT, 0, 0, "%s %s: the operation's deadline passed", step_verb(s),
                step_object(s));
        return false;
    }
    k = start_step(op, s, t);
    if (k < 0) {
        if (op->kind == OP_WATCH) {
            watch_poll_failed(op, KUBE_E_TRANSPORT, 0, "cannot start the request");
            return false;
        }
        op_fail(op, k, 0, 0, "%s %s: cannot start the request: %s", step_verb(s), step_object(s),
                strerror(-k));
        return false;
    }
    return true;
}

/* Starts the first request of a new op; a start failure is returned and the op freed, no
 * callback. */
static int op_start(LockOp *op, Step s, LockOp **ret)
{
    int k = start_step(op, s, remaining(op, now_boot_usec()));

    if (k < 0) {
        op->cb = NULL;
        op_unlink_free(op);
        return k;
    }
    if (ret) *ret = op;
    return 0;
}

/* MultiLock: after the Endpoints write committed, the Lease follows it, conditional on the Lease
 * as last observed (absent: a create). A Lease written since then is a write our decision did not
 * see (a Lease-only candidate during the move to --lock leases, say): that is a conflict, never
 * overwritten (client-go's MultiLock re-reads and overwrites it). */
static void lease_follow(LockOp *op)
{
    Lock *l = op->l;

    /* The Lease kept here may be newer than the one the write began with: a stream event or a
     * read that arrived while the Endpoints write was in flight (held back from the engine
     * until our writes are done). Its resourceVersion would make the PUT overwrite a write the
     * decision never saw: the same conflict as a 409 on the PUT. */
    if (l->have_lease &&
        (!op->lease_seen || lock_revision_of(l->lease.resource_version) != op->lease_rev)) {
        op_fail(op, KUBE_E_CONFLICT, 409, 0,
                "endpoints written, lease not: the Lease changed since the write began "
                "(revision %" PRIu64 ", now %" PRIu64 ")",
                op->lease_rev, lock_revision_of(l->lease.resource_version));
        return;
    }
    (void)op_request(op, l->have_lease ? STEP_LEASE_PUT : STEP_LEASE_CREATE);
}

static void finish_multi_write(LockOp *op, long http)
{
    ElectionRecord r, sec;
    uint64_t aux;

    lock_record_from_lease(&op->l->lease, &sec);
    lock_multi_combine(&op->primary, &sec, op->l->identity, &r, &aux);
    op_ok(op, http, &r, aux);
}

static void fail_from(LockOp *op, const KubeResponse *resp, int result)
{
    if (op->kind == OP_WATCH) {
        watch_poll_failed(op, result, resp->http_status, resp->error);
        return;
    }
    op_fail(op, result, resp->http_status, resp->retry_after_usec, "%s%s",
            op->kind != OP_GET && op->step >= STEP_LEASE_GET && op->primary_found
                ? "endpoints written, lease not: "
                : "",
            resp->error ? resp->error : kube_result_to_string(result));
}

static void on_ep_response(LockOp *op, const KubeResponse *resp)
{
    Lock *l = op->l;
    LockEndpoints e = {0};
    int result = resp->result, k;

    if (result == KUBE_OK) {
        k = lock_endpoints_parse(resp->body, resp->body_len, &e);
        if (k < 0) {
            KubeResponse bad = *resp;
            bad.error = "endpoints: the answer is not an Endpoints object with a readable "
                        "leader annotation";
            fail_from(op, &bad, k == -ENOMEM ? k : KUBE_E_PROTOCOL);
            return;
        }
        op->primary = e.record;
        op->primary_found = true;
        remember_ep(l, &e, op->step == STEP_EP_GET);
        lock_endpoints_done(&e);
    } else if (result == KUBE_E_NOT_FOUND && op->step == STEP_EP_GET) {
        forget_ep(l);
    }

    switch (op->kind) {
    case OP_GET:
    case OP_WATCH:
        if (result == KUBE_E_NOT_FOUND && l->type == LOCK_ENDPOINTS_LEASES && !op->primary_absent) {
            /* No Endpoints: the answer is "not found", but read the Lease too, so that the
             * create that follows writes it on top of what is there (or creates it). */
            op->primary_absent = true;
            (void)op_request(op, STEP_LEASE_GET);
            return;
        }
        if (result == KUBE_E_NOT_FOUND) {
            if (op->kind == OP_WATCH) {
                ElectionRecord none = {0};
                op->read_complete = true;
                watch_poll_done(op, true, &none, 0);
            } else {
                fail_from(op, resp, result);
            }
            return;
        }
        if (result != KUBE_OK) {
            fail_from(op, resp, result);
            return;
        }
        if (l->type == LOCK_ENDPOINTS_LEASES) {
            (void)op_request(op, STEP_LEASE_GET);
            return;
        }
        if (op->kind == OP_WATCH) {
            op->read_complete = true;
            watch_poll_done(op, false, &op->primary, 0);
        } else {
            op_ok(op, resp->http_status, &op->primary, 0);
        }
        return;
    case OP_CREATE:
        if (result != KUBE_OK) {
            fail_from(op, resp, result);
            return;
        }
        break;
    case OP_UPDATE:
        if (op->step == STEP_EP_GET) {
            /* The read before an update without a kept object. */
            if (result != KUBE_OK) {
                fail_from(op, resp, result);
                return;
            }
            op->ep_checked = true;
            if (op->base_revision != 0 && op->primary.revision != op->base_revision) {
                op_fail(op, KUBE_E_CONFLICT, 409, 0,
                        "update endpoints: changed since revision %" PRIu64 " (now %" PRIu64 ")",
                        op->base_revision, op->primary.revision);
                return;
            }
            (void)op_request(op, STEP_EP_PUT);
            return;
        }
        if (result != KUBE_OK) {
            if (result == KUBE_E_NOT_FOUND) forget_ep(l);
            fail_from(op, resp, result);
            return;
        }
        break;
    }
    /* An Endpoints write committed. The primary decides: its creation is what the engine must
     * know (a Lease created under it is covered by the observedTime rule on the combined record).
     */
    op->created = resp->http_status == 201;
    if (l->type == LOCK_ENDPOINTS_LEASES)
        lease_follow(op);
    else
        op_ok(op, resp->http_status, &op->primary, 0);
}

static void on_lease_response(LockOp *op, const KubeResponse *resp)
{
    Lock *l = op->l;
    int result = resp->result;
    ElectionRecord r;

    if (result == KUBE_OK && !resp->lease) {
        KubeResponse bad = *resp;
        bad.error = "lease: the answer is not a Lease";
        fail_from(op, &bad, KUBE_E_PROTOCOL);
        return;
    }
    if (result == KUBE_OK)
        remember_lease(l, resp->lease, op->step == STEP_LEASE_GET);
    else if (result == KUBE_E_NOT_FOUND && op->step == STEP_LEASE_GET)
        forget_lease(l);

    if (l->type == LOCK_LEASES) {
        if (result != KUBE_OK) {
            fail_from(op, resp, result);
            return;
        }
        if (op->kind == OP_UPDATE && op->step == STEP_LEASE_GET) {
            /* The read before an update whose kept Lease is not the one decided on. */
            lock_record_from_lease(resp->lease, &r);
            if (op->base_revision != 0 && r.revision != op->base_revision) {
                op_fail(op, KUBE_E_CONFLICT, 409, 0,
                        "update lease: changed since revision %" PRIu64 " (now %" PRIu64 ")",
                        op->base_revision, r.revision);
                return;
            }
            (void)op_request(op, STEP_LEASE_PUT);
            return;
        }
        op->created = op->kind != OP_GET && resp->http_status == 201;
        lock_record_from_lease(resp->lease, &r);
        op_ok(op, resp->http_status, &r, 0);
        return;
    }

    /* MultiLock. */
    if (op->kind == OP_WATCH && (result == KUBE_OK || result == KUBE_E_NOT_FOUND)) {
        /* Both objects known: watch streams may follow from here. */
        op->read_complete = true;
        op->read_sec_found = result == KUBE_OK;
        if (result == KUBE_OK) lock_record_from_lease(resp->lease, &op->read_sec);
    }
    if ((op->kind == OP_GET || op->kind == OP_WATCH) && op->primary_absent) {
        if (op->kind == OP_WATCH) {
            ElectionRecord none = {0};
            watch_poll_done(op, true, &none, 0);
        } else {
            op_fail(op, KUBE_E_NOT_FOUND, 404, 0, "get endpoints: not found");
        }
        return;
    }
    if (op->kind == OP_GET || op->kind == OP_WATCH) {
        ElectionRecord sec, out;
        uint64_t aux;
        if (result != KUBE_OK && result != KUBE_E_NOT_FOUND) {
            fail_from(op, resp, result);
            return;
        }
        if (result == KUBE_OK) lock_record_from_lease(resp->lease, &sec);
        lock_multi_combine(&op->primary, result == KUBE_OK ? &sec : NULL, l->identity, &out, &aux);
        if (op->kind == OP_WATCH)
            watch_poll_done(op, false, &out, aux);
        else
            op_ok(op, resp->http_status, &out, aux);
        return;
    }

    /* A write: the Lease follows the committed Endpoints record. */
    if (result == KUBE_OK) {
        finish_multi_write(op, resp->http_status);
        return;
    }
    if (op->step == STEP_LEASE_PUT && result == KUBE_E_NOT_FOUND && !op->lease_retried) {
        /* Deleted since (by hand): nobody holds a deleted Lease; create it. */
        op->lease_retried = true;
        forget_lease(l);
        (void)op_request(op, STEP_LEASE_CREATE);
        return;
    }
    fail_from(op, resp, result);
}

static void on_response(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    LockOp *op = userdata;
    Lock *l = op->l;
    Step s = op->step;

    op->req = NULL;
    if (l->observer)
        l->observer(step_verb(s), resp->http_status, now_boot_usec() - op->req_start,
                    l->observer_ud);
    if (s == STEP_EP_GET || s == STEP_EP_CREATE || s == STEP_EP_PUT)
        on_ep_response(op, resp);
    else
        on_lease_response(op, resp);
}

/* ---- public ops ---- */

int lock_get(Lock *l, uint64_t timeout_usec, lock_done_fn cb, void *userdata, LockOp **ret)
{
    LockOp *op;

    if (!l || !cb || timeout_usec == 0) return -EINVAL;
    op = op_new(l, OP_GET, timeout_usec, cb, userdata);
    if (!op) return -ENOMEM;
    return op_start(op, l->type == LOCK_LEASES ? STEP_LEASE_GET : STEP_EP_GET, ret);
}

int lock_create(Lock *l, const ElectionRecord *r, uint64_t timeout_usec, lock_done_fn cb,
                void *userdata, LockOp **ret)
{
    LockOp *op;

    if (!l || !r || !cb || timeout_usec == 0) return -EINVAL;
    op = op_new(l, OP_CREATE, timeout_usec, cb, userdata);
    if (!op) return -ENOMEM;
    op->rec = *r;
    return op_start(op, l->type == LOCK_LEASES ? STEP_LEASE_CREATE : STEP_EP_CREATE, ret);
}

int lock_update(Lock *l, const ElectionRecord *r, uint64_t base_revision, uint64_t timeout_usec,
                lock_done_fn cb, void *userdata, LockOp **ret)
{
    LockOp *op;
    Step s;

    if (!l || !r || !cb || timeout_usec == 0) return -EINVAL;
    op = op_new(l, OP_UPDATE, timeout_usec, cb, userdata);
    if (!op) return -ENOMEM;
    op->rec = *r;
    op->base_revision = base_revision;
    if (l->type == LOCK_LEASES)
        /* As for the Endpoints below: the PUT carries the kept Lease's resourceVersion, so it is
         * made only when that is the revision decided on; else read first. */
        s = base_revision == 0 ||
                    (l->have_lease && lock_revision_of(l->lease.resource_version) == base_revision)
                ? STEP_LEASE_PUT
                : STEP_LEASE_GET;
    else
        /* Never an unconditional PUT (Endpoints let the last write win): without a kept object,
         * or with one other than the revision decided on (a change held back from the engine
         * while another write of ours was in flight), read it first and write only if it is
         * still the one decided on. */
        s = l->have_ep && l->ep.raw && l->ep.resource_version &&
                    (base_revision == 0 ||
                     lock_revision_of(l->ep.resource_version) == base_revision)
                ? STEP_EP_PUT
                : STEP_EP_GET;
    return op_start(op, s, ret);
}

/* ---- watch ---- */

static void on_lease_watch_event(KubeClient *c, const KubeWatchEvent *we, void *userdata)
{
    LockOp *op = userdata;
    LockWatchEvent ev = {0};

    switch (we->type) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED:
        if (!we->has_lease) return;
        remember_lease(op->l, &we->lease, false);
        lock_record_from_lease(&we->lease, &ev.record);
        break;
    case KUBE_WATCH_DELETED:
        ev.deleted = true;
        ev.record.revision = lock_revision_of(we->resource_version);
        forget_lease(op->l);
        break;
    default:
        /* BOOKMARK: the stream is alive; an event without a record says so to the glue. */
        ev.bookmark = true;
        break;
    }
    if (op->on_event) op->on_event(op->l, &ev, op->userdata);
}

static void on_watch_interrupt(KubeClient *c, const char *why, void *userdata)
{
    LockOp *op = userdata;

    if (op->on_interrupt) op->on_interrupt(op->l, why, op->userdata);
}

void lock_watch_set_interrupt(LockOp *watch, lock_interrupt_fn fn)
{
    if (!watch || watch->kind != OP_WATCH) return;
    watch->on_interrupt = fn;
    if (watch->lease_watch)
        kube_watch_set_interrupt(watch->lease_watch, fn ? on_watch_interrupt : NULL);
    if (watch->ep_watch) kube_watch_set_interrupt(watch->ep_watch, fn ? on_watch_interrupt : NULL);
}

static void on_lease_watch_end(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    LockOp *op = userdata;
    LockResult res = {.result = resp->result,
                      .http_status = resp->http_status,
                      .retry_after_usec = resp->retry_after_usec,
                      .error = resp->error};

    op->lease_watch = NULL;
    op_finish(op, &res);
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Returns false when the watch ended (op freed). */
static bool poll_schedule(LockOp *op, uint64_t delay)
{
    int k;

    if (!op->timer)
        k = sd_event_add_time_relative(op->l->event, &op->timer, CLOCK_BOOTTIME, delay,
                                       USEC_PER_MSEC, on_poll_timer, op);
    else {
        k = sd_event_source_set_time_relative(op->timer, delay);
        if (k >= 0) k = sd_event_source_set_enabled(op->timer, SD_EVENT_ONESHOT);
    }
    if (k < 0) {
        LockResult res = {.result = k, .error = "cannot schedule the next read of the lock"};
        op_finish(op, &res);
        return false;
    }
    return true;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    LockOp *op = userdata;
    Lock *l = op->l;

    if (l->writes_inflight > 0) {
        /* A read now could see a MultiLock write half done: after it. */
        (void)poll_schedule(op, op->poll / 4 + 1);
        return 0;
    }
    op->gen_at_start = l->write_gen;
    op->deadline =
        now_boot_usec() + (op->poll * 2 > 2 * USEC_PER_SEC ? op->poll * 2 : 2 * USEC_PER_SEC);
    op->primary_found = op->primary_absent = false;
    op->read_complete = op->read_sec_found = false;
    (void)op_request(op, STEP_EP_GET);
    return 0;
}

static bool streams_start(LockOp *op);

static void watch_poll_done(LockOp *op, bool deleted, const ElectionRecord *r, uint64_t aux)
{
    Lock *l = op->l;
    LockWatchEvent ev = {.deleted = deleted, .record = *r, .aux = aux};

    bool fresh = l->write_gen == op->gen_at_start && l->writes_inflight == 0;

    if (op->mode == WATCH_POLL && op->streams_retry_at != 0 &&
        now_boot_usec() >= op->streams_retry_at)
        op->mode = WATCH_SYNC;
    if (op->mode == WATCH_SYNC && fresh && op->read_complete && streams_start(op)) {
        /* The streams carry on from what was just read. (A read our write overlapped, or one
         * that left an object unknown, is followed by another read, as a poll's.) */
    } else {
        if (op->mode == WATCH_SYNC && fresh && op->read_complete) {
            /* The streams cannot start: read as before, and try them again later. */
            op->mode = WATCH_POLL;
            op->streams_retry_at = now_boot_usec() + STREAMS_RETRY_USEC;
        }
        /* The callback may cancel this op: schedule first, deliver last. */
        if (!poll_schedule(op, op->poll)) return;
    }
    if (fresh && op->on_event) op->on_event(l, &ev, op->userdata);
}

static void watch_poll_failed(LockOp *op, int result, long http, const char *error)
{
    if (result == KUBE_E_FORBIDDEN || result == KUBE_E_UNAUTHORIZED || result < 0) {
        LockResult res = {.result = result, .http_status = http, .error = error};
        op_finish(op, &res);
        return;
    }
    /* Transient: read again at the next period, as a watch stream resumes by itself. The
     * callback may cancel the watch: schedule first. */
    if (!poll_schedule(op, op->poll)) return;
    if (op->on_interrupt)
        op->on_interrupt(op->l, error ? error : kube_result_to_string(result), op->userdata);
}

/* ---- watch streams of the Endpoints modes ----
 *
 * After one read of the objects (the poll's read, delivered as it always was), each object is
 * followed by a watch stream from the resourceVersion read. The watch keeps its own view of the
 * objects (v_ep, v_lease: newest resourceVersion wins, from its streams and from every object the
 * server returned to this lock, our writes' answers included; absences from the streams only),
 * and at each event shows the engine what a read of the objects would return now: the same
 * records a poll delivers, from the same code (lock_multi_combine() for the MultiLock, with the
 * other object as last seen). A stream the server refuses, or one that fails beyond resuming,
 * falls back to the poll. */

/* What a read of the objects would return now, from the objects as last seen. */
static void watch_show_state(LockOp *op)
{
    Lock *l = op->l;
    LockWatchEvent ev = {0};

    op->pending = false;
    if (!op->v_ep.present) {
        /* As a read that finds no Endpoints (on_ep_response): deleted, revision 0, whatever
         * the Lease. */
        ev.deleted = true;
    } else if (l->type == LOCK_ENDPOINTS) {
        ev.record = op->v_ep.record;
    } else {
        lock_multi_combine(&op->v_ep.record, op->v_lease.present ? &op->v_lease.record : NULL,
                           l->identity, &ev.record, &ev.aux);
    }
    if (op->on_event) op->on_event(l, &ev, op->userdata);
}

static void watch_stream_changed(LockOp *op, bool bookmark)
{
    if (op->l->writes_inflight > 0) {
        /* One of our MultiLock writes may be half done (the Endpoints written, the Lease not
         * yet), as a poll's read that one of our writes overlapped, which is never delivered:
         * shown once our writes are done, with both objects as their answers left them. */
        op->pending = true;
        return;
    }
    if (bookmark && !op->pending) {
        LockWatchEvent ev = {.bookmark = true};
        if (op->on_event) op->on_event(op->l, &ev, op->userdata);
        return;
    }
    watch_show_state(op);
}

static int on_watch_flush(sd_event_source *s, void *userdata)
{
    LockOp *op = userdata;

    if (op->pending && op->mode == WATCH_STREAM && op->l->writes_inflight == 0)
        watch_show_state(op);
    return 0;
}

/* A DELETED event older than the object kept (re-created since, as a read or a write of ours
 * found it) is not news. */
static bool deletion_stale(const char *kept_rv, const char *deleted_rv)
{
    uint64_t k = lock_revision_of(kept_rv), d = lock_revision_of(deleted_rv);

    return k != 0 && d != 0 && d < k;
}

static void on_ep_stream_event(KubeClient *c, const KubeWatchEvent *we, void *userdata)
{
    LockOp *op = userdata;
    Lock *l = op->l;
    bool bookmark = false;

    op->ep_start = STREAM_LIVE;
    switch (we->type) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED: {
        LockEndpoints e = {0};
        int k = lock_endpoints_parse(we->object, we->object_len, &e);
        if (k == -ENOMEM) {
            watch_poll_failed(op, k, 0, "endpoints: out of memory");
            return;
        }
        if (k < 0) {
            /* As a read of it: not shown, said; the stream goes on (a later change may mend
             * it). */
            if (op->on_interrupt)
                op->on_interrupt(l,
                                 "endpoints: the watched object is not an Endpoints object with "
                                 "a readable leader annotation",
                                 op->userdata);
            return;
        }
        remember_ep(l, &e, false);
        lock_endpoints_done(&e);
        break;
    }
    case KUBE_WATCH_DELETED:
        (void)view_update(&op->v_ep, false, NULL, lock_revision_of(we->resource_version), false);
        if (!deletion_stale(l->have_ep ? l->ep.resource_version : NULL, we->resource_version))
            forget_ep(l);
        break;
    default:
        bookmark = true;
        break;
    }
    watch_stream_changed(op, bookmark);
}

static void on_lease_stream_event(KubeClient *c, const KubeWatchEvent *we, void *userdata)
{
    LockOp *op = userdata;
    Lock *l = op->l;
    bool bookmark = false;

    op->lease_start = STREAM_LIVE;
    switch (we->type) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED:
        if (!we->has_lease) return;
        remember_lease(l, &we->lease, false);
        break;
    case KUBE_WATCH_DELETED:
        (void)view_update(&op->v_lease, false, NULL, lock_revision_of(we->resource_version), false);
        if (!deletion_stale(l->have_lease ? l->lease.resource_version : NULL, we->resource_version))
            forget_lease(l);
        break;
    default:
        bookmark = true;
        break;
    }
    watch_stream_changed(op, bookmark);
}

static void on_ep_stream_end(KubeClient *c, const KubeResponse *resp, void *userdata);
static void on_lease_stream_end(KubeClient *c, const KubeResponse *resp, void *userdata);

/* Starts the stream of one object: from the object as seen (just read; absent: without a
 * resourceVersion), or from_now (without one: the object, if any, comes first as ADDED). */
static int stream_start(LockOp *op, bool lease, bool from_now)
{
    Lock *l = op->l;
    KubeRequest **slot = lease ? &op->lease_watch : &op->ep_watch;
    const WatchObject *v = lease ? &op->v_lease : &op->v_ep;
    char buf[24];
    const char *rv = NULL;
    int k;

    if (!from_now && v->present && v->revision != 0) {
        snprintf(buf, sizeof buf, "%" PRIu64, v->revision);
        rv = buf;
    }
    if (lease)
        k = kube_lease_watch(l->c, l->ns, l->name, rv, op->stream_timeout, on_lease_stream_event,
                             on_lease_stream_end, op, slot);
    else
        k = kube_object_watch(l->c, &KUBE_RESOURCE_ENDPOINTS, l->ns, l->name, rv,
                              op->stream_timeout, on_ep_stream_event, on_ep_stream_end, op, slot);
    if (k < 0) {
        *slot = NULL;
        return k;
    }
    *(lease ? &op->lease_start : &op->ep_start) = from_now ? STREAM_FROM_NOW : STREAM_FROM_READ;
    if (op->on_interrupt) kube_watch_set_interrupt(*slot, on_watch_interrupt);
    return 0;
}

static void streams_stop(LockOp *op)
{
    op->ep_watch = kube_request_cancel(op->ep_watch);
    op->lease_watch = kube_request_cancel(op->lease_watch);
    op->pending = false;
}

/* After a read that found (or not) every object: a stream per object from what it found.
 * Returns false (nothing started) if one cannot start. */
static bool streams_start(LockOp *op)
{
    int k;

    op->v_ep = op->v_lease = (WatchObject){0};
    (void)view_update(&op->v_ep, op->primary_found, &op->primary,
                      op->primary_found ? op->primary.revision : 0, true);
    (void)view_update(&op->v_lease, op->read_sec_found, &op->read_sec,
                      op->read_sec_found ? op->read_sec.revision : 0, true);
    k = stream_start(op, false, false);

    if (k >= 0 && op->l->type == LOCK_ENDPOINTS_LEASES) k = stream_start(op, true, false);
    if (k < 0) {
        streams_stop(op);
        return false;
    }
    op->mode = WATCH_STREAM;
    op->streams_retry_at = 0;
    return true;
}

static void stream_ended(LockOp *op, bool lease, const KubeResponse *resp)
{
    StreamStart start = lease ? op->lease_start : op->ep_start;
    int r = resp->result;
    bool refused;

    if (r == KUBE_E_EXPIRED) {
        if (start == STREAM_LIVE) {
            /* Resumed after a long outage, past the server's history: what happened meanwhile
             * is unknown. Read the objects afresh, and watch again from there. */
            streams_stop(op);
            op->mode = WATCH_SYNC;
            (void)poll_schedule(op, 0);
            return;
        }
        /* From a resourceVersion just read, too old for the server's watch window (an object
         * nobody wrote for long): from now, where the object comes first as ADDED. */
        if (start == STREAM_FROM_READ && stream_start(op, lease, true) >= 0) return;
    }
    /* Back to reading the objects every poll period, as before the streams: for good when the
     * server refuses this watch (RBAC without "watch" on the object, say), else until the
     * streams are tried again. Read at once: nothing is missed meanwhile. */
    refused = r == KUBE_E_FORBIDDEN || r == KUBE_E_NOT_FOUND || r == KUBE_E_BAD_REQUEST ||
              r == KUBE_E_INVALID;
    streams_stop(op);
    op->mode = WATCH_POLL;
    op->streams_retry_at = refused ? 0 : now_boot_usec() + STREAMS_RETRY_USEC;
    (void)poll_schedule(op, 0);
}

static void on_ep_stream_end(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    LockOp *op = userdata;

    op->ep_watch = NULL;
    stream_ended(op, false, resp);
}

static void on_lease_stream_end(KubeClient *c, const KubeResponse *resp, void *userdata)
{
    LockOp *op = userdata;

    op->lease_watch = NULL;
    stream_ended(op, true, resp);
}

int lock_watch(Lock *l, uint64_t stream_timeout_usec, uint64_t poll_usec, lock_event_fn on_event,
               lock_done_fn on_end, void *userdata, LockOp **ret)
{
    LockOp *op;
    int k;

    if (!l || !on_event || !on_end) return -EINVAL;
    op = op_new(l, OP_WATCH, 0, on_end, userdata);
    if (!op) return -ENOMEM;
    op->on_event = on_event;
    if (l->type == LOCK_LEASES) {
        k = kube_lease_watch(l->c, l->ns, l->name, NULL, stream_timeout_usec, on_lease_watch_event,
                             on_lease_watch_end, op, &op->lease_watch);
    } else {
        op->poll = poll_usec ? poll_usec : USEC_PER_SEC;
        op->mode = WATCH_SYNC;
        op->stream_timeout = stream_timeout_usec;
        k = sd_event_add_defer(l->event, &op->flush, on_watch_flush, op);
        if (k >= 0) k = sd_event_source_set_enabled(op->flush, SD_EVENT_OFF);
        /* The first read at once (from the loop: no callback inside this call). */
        if (k >= 0)
            k = sd_event_add_time_relative(l->event, &op->timer, CLOCK_BOOTTIME, 0, USEC_PER_MSEC,
                                           on_poll_timer, op);
    }
    if (k < 0) {
        op->cb = NULL;
        op_unlink_free(op);
        return k;
    }
    if (ret) *ret = op;
    return 0;
}
