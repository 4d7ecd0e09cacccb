/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>

#include "duration.h"
#include "election.h"
#include "election_metrics.h"
#include "elector.h"
#include "endpointslice.h"
#include "health.h"
#include "events.h"
#include "http_server.h"
#include "kube_client.h"
#include "kube_config.h"
#include "lock.h"
#include "log.h"
#include "proto.h"
#include "sock_server.h"
#include "util.h"

/* Requests in flight. The engine has at most one of its own, plus the ones
 * it abandoned on SHUTDOWN/RESIGN whose answers it ignores. */
#define ELECTOR_REQUESTS_MAX 8

/* One watch stream lives between 5 and 10 minutes (random per daemon, as
 * client-go's reflector picks its timeoutSeconds) before it is resumed from its
 * last resourceVersion: one cheap request per follower every few minutes, never
 * in lock-step with the other followers. A dead connection is noticed sooner by
 * TCP keepalive (kube_client.c), and a follower that hears nothing for a lease
 * duration tries to take over, which a live Lease answers with a conflict. */
#define WATCH_STREAM_MIN_USEC (300 * USEC_PER_SEC)

typedef struct Request {
    struct Elector *elector;
    LockOp *req;
    uint64_t id; /* the engine's request id */
    ElectionActionType type;
    ElectionWriteKind kind;
    uint64_t sent_boot;
} Request;

struct Elector {
    sd_event *event;
    Options opts;
    Election engine;
    KubeClient *kube;
    Lock *lock;          /* the lock object(s): Lease, Endpoints, or both (--lock) */
    Events *events;      /* --events, else NULL */
    bool events_leading; /* the last transition an Event was posted for */
    SockServer *sock;
    HttpServer *http;         /* --http */
    HttpServer *metrics_http; /* --metrics-addr */
    ElectionMetrics *metrics;
    sd_event_source *timer, *watch_retry, *sig_term, *sig_int;

    Request requests[ELECTOR_REQUESTS_MAX];

    /* --health-http/--health-tcp: NULL without. */
    HealthChecker *health;
    MetricSeries *m_health_status, *m_health_ok, *m_health_failed;

    /* --endpointslice: NULL without. */
    EndpointSlice *slice;
    bool slice_withdraw_tried; /* once per release episode: retries of a release do not wait */

    /* A release waits here until no client of ours can act on a claim any more: the socket's
     * WATCH clients have read "not leader" (or their claims ran out), every leader STATUS,
     * HTTP /status or HTTP /leader answer has run out, and in EndpointSlice mode the slice is
     * emptied (bounded by half the release's timeout). See release_gate(). */
    ElectionAction pending_release;
    uint64_t pending_release_since;
    bool have_pending_release;
    bool slice_pending;
    sd_event_source *release_timer;
    uint64_t http_claim_until; /* boot µs: the latest end of a leader HTTP /status or /leader
                                * answer */

    LockOp *watch;
    bool watch_up;
    unsigned watch_failures;

    uint64_t last_api_ok_boot; /* /readyz */
    char published_leader[ELECTION_IDENTITY_MAX + 1];
    int64_t published_term;
    bool exiting;
};

static void elector_step(Elector *e, const ElectionEvent *ev);
static int watch_start(Elector *e);
static void send_request(Elector *e, const ElectionAction *a);

static ElectionResult result_from_kube(int result, ElectionActionType type)
{
    switch (result) {
    case KUBE_OK:
        return ELECTION_RESULT_OK;
    case KUBE_E_NOT_FOUND:
        return ELECTION_RESULT_NOT_FOUND;
    case KUBE_E_CONFLICT:
        return ELECTION_RESULT_CONFLICT;
    case KUBE_E_ALREADY_EXISTS:
        return ELECTION_RESULT_ALREADY_EXISTS;
    case KUBE_E_FORBIDDEN:
        return ELECTION_RESULT_FORBIDDEN;
    case KUBE_E_INVALID:
    case KUBE_E_BAD_REQUEST:
        return ELECTION_RESULT_INVALID;
    case KUBE_E_TIMEOUT:
        return ELECTION_RESULT_TIMEOUT;
    case KUBE_E_PROTOCOL:
    case KUBE_E_TOO_LARGE:
    case KUBE_E_TRANSPORT:
    case KUBE_E_SERVER_ERROR:
        /* A write whose answer was lost or unreadable may have committed, and so may one
         * answered 5xx (the client never sends those again, see may_resend() in
         * kube_client.c): its outcome is unknown, which is what TIMEOUT means. The
         * Retry-After of a 5xx still delays the next try. */
        return type == ELECTION_ACTION_GET ? ELECTION_RESULT_TRANSIENT : ELECTION_RESULT_TIMEOUT;
    default:
        return ELECTION_RESULT_TRANSIENT;
    }
}

static const char *verb_of(ElectionActionType t)
{
    switch (t) {
    case ELECTION_ACTION_GET:
        return "get";
    case ELECTION_ACTION_CREATE:
        return "create";
    default:
        return "update";
    }
}

static void on_request_done(Lock *l, const LockResult *res, void *userdata)
{
    Request *slot = userdata;
    Elector *e = slot->elector;
    ElectionEvent ev = {
        .type = slot->type == ELECTION_ACTION_GET ? ELECTION_EVENT_GET_RESULT
                                                  : ELECTION_EVENT_WRITE_RESULT,
        .request_id = slot->id,
        .result = result_from_kube(res->result, slot->type),
        .retry_after_usec = res->retry_after_usec,
        /* 201: this write created the lock object (a POST, or a PUT of a deleted
         * one); the engine then waits out any claim the old object backed. */
        .created = res->result == KUBE_OK && res->created,
    };
    bool renewed = false;
    uint64_t sent = slot->sent_boot;

    if (res->result == KUBE_OK && res->has_record) {
        ev.record = res->record;
        ev.record.aux = res->aux;
        renewed = slot->type != ELECTION_ACTION_GET && slot->kind != ELECTION_WRITE_RELEASE;
    } else if (res->result != KUBE_OK) {
        log_debug("%s: %s", verb_of(slot->type), res->error ? res->error : "failed");
    }
    *slot = (Request){0};

    elector_step(e, &ev);
    /* Counted while the engine holds a claim, also one still behind the creation gate (the
     * renews of the creation wait are what the claim stands on when the gate opens; else a
     * fresh leader shows no sample until its next renew). */
    if (renewed && election_claiming(&e->engine, now_boot_usec()))
        election_metrics_renewed(e->metrics, sent);
}

/* Every API request of the lock (several per op for the MultiLock): metrics and /readyz. */
static void on_lock_request(const char *verb, long http_status, uint64_t latency_usec,
                            void *userdata)
{
    Elector *e = userdata;

    election_metrics_api_request(e->metrics, verb, (int)http_status, latency_usec);
    if (http_status > 0 && http_status < 500 && http_status != 429)
        e->last_api_ok_boot = now_boot_usec();
}

static Request *request_slot(Elector *e)
{
    Request *oldest = NULL;

    for (size_t i = 0; i < ELEMENTSOF(e->requests); i++) {
        if (!e->requests[i].req) return &e->requests[i];
        if (!oldest || e->requests[i].id < oldest->id) oldest = &e->requests[i];
    }
    /* Full: the oldest was abandoned by the engine long ago. */
    lock_op_cancel(oldest->req);
    *oldest = (Request){0};
    return oldest;
}

static void request_failed_now(Elector *e, const ElectionAction *a, int r)
{
    ElectionEvent ev = {
        .type = a->type == ELECTION_ACTION_GET ? ELECTION_EVENT_GET_RESULT
                                               : ELECTION_EVENT_WRITE_RESULT,
        .request_id = a->request_id,
        .result = ELECTION_RESULT_TRANSIENT,
    };
    log_warn_errno(r, "cannot start the %s request: %m", verb_of(a->type));
    elector_step(e, &ev);
}

/* Until when (boot µs) a client of this daemon may still act on a leader answer it was given
 * (0: nobody). */
static uint64_t clients_claim_until(Elector *e, uint64_t now)
{
    uint64_t until = sock_server_claims_until(e->sock, now);

    if (e->http_claim_until > now && e->http_claim_until > until) until = e->http_claim_until;
    return until > now ? until : 0;
}

static int on_release_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Sends the waiting release once nothing holds it back any more; else looks again soon. A
 * client's claim never outlives the claim deadline the engine had (every line's valid_ms is
 * bounded by it), so this waits at most until then: within the renew deadline. */
static void release_gate(Elector *e)
{
    ElectionAction a;
    uint64_t now = now_boot_usec(), until, spent, at;
    int r;

    if (!e->have_pending_release || e->slice_pending) return;
    until = clients_claim_until(e, now);
    if (until > 0) {
        /* SIOCOUTQ tells when a reader has caught up, but nothing wakes us when it does: look
         * again every millisecond (a prompt reader takes well under one). */
        at = now + USEC_PER_MSEC < until ? now + USEC_PER_MSEC : until;
        if (!e->release_timer)
            r = sd_event_add_time(e->event, &e->release_timer, CLOCK_BOOTTIME, at, 1,
                                  on_release_timer, e);
        else {
            r = sd_event_source_set_time(e->release_timer, at);
            if (r >= 0) r = sd_event_source_set_enabled(e->release_timer, SD_EVENT_ONESHOT);
        }
        if (r >= 0) return;
        log_error_errno(r, "cannot wait for the socket's clients before releasing: %m");
        /* without a timer: hold the release back until the claims run out, by the engine's
         * own retry of the release (it times out and sends it again) */
        return;
    }
    a = e->pending_release;
    e->have_pending_release = false;
    spent = now - e->pending_release_since;
    if (spent > 0)
        log_debug("release held back %llu us until no client could act on a claim",
                  (unsigned long long)spent);
    a.timeout_usec =
        a.timeout_usec > spent + USEC_PER_MSEC ? a.timeout_usec - spent : USEC_PER_MSEC;
    send_request(e, &a);
}

static int on_release_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    release_gate(userdata);
    return 0;
}

static void on_slice_withdrawn(EndpointSlice *s, bool ok, void *userdata)
{
    Elector *e = userdata;

    (void)s;
    if (!e->slice_pending) return;
    e->slice_pending = false;
    if (!ok) log_warn("releasing the lease without having emptied the EndpointSlice");
    release_gate(e);
}

static void do_request(Elector *e, const ElectionAction *a)
{
    if (a->type != ELECTION_ACTION_UPDATE || a->kind != ELECTION_WRITE_RELEASE) {
        send_request(e, a);
        return;
    }
    /* A release: once it is sent, another pod may lead at once. */
    if (e->have_pending_release) {
        /* The engine abandoned the waiting release for this one (SHUTDOWN during RESIGN): it
         * waits for the same conditions instead. */
        e->pending_release = *a;
        return;
    }
    e->pending_release = *a;
    e->pending_release_since = now_boot_usec();
    e->have_pending_release = true;
    /* EndpointSlice mode: a leader that stops claiming empties the slice first, so that no
     * traffic goes to it once another pod may lead (bounded by half the release's timeout). */
    if (e->slice && !e->slice_withdraw_tried) {
        uint64_t bound = (a->timeout_usec > 0 ? a->timeout_usec : e->opts.retry_period_usec) / 2;
        e->slice_withdraw_tried = true;
        if (endpointslice_withdraw(e->slice, bound, on_slice_withdrawn, e) == 1)
            e->slice_pending = true;
    }
    release_gate(e);
}

static void send_request(Elector *e, const ElectionAction *a)
{
    Request *slot = request_slot(e);
    uint64_t timeout = a->timeout_usec > 0 ? a->timeout_usec : e->opts.retry_period_usec;
    int r;

    *slot = (Request){
        .elector = e,
        .id = a->request_id,
        .type = a->type,
        .kind = a->kind,
        .sent_boot = now_boot_usec(),
    };

    switch (a->type) {
    case ELECTION_ACTION_GET:
        r = lock_get(e->lock, timeout, on_request_done, slot, &slot->req);
        break;
    case ELECTION_ACTION_CREATE:
        r = lock_create(e->lock, &a->record, timeout, on_request_done, slot, &slot->req);
        break;
    default: /* UPDATE, on the object(s) as last returned */
        r = lock_update(e->lock, &a->record, a->base_revision, timeout, on_request_done, slot,
                        &slot->req);
        break;
    }
    if (r < 0) {
        *slot = (Request){0};
        request_failed_now(e, a, r);
    }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    Elector *e = userdata;
    ElectionEvent ev = {.type = ELECTION_EVENT_TIMER};
    elector_step(e, &ev);
    return 0;
}

static void arm_timer(Elector *e, uint64_t at)
{
    int r;

    if (at == ELECTION_TIME_NONE) {
        if (e->timer) (void)sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
        return;
    }
    if (!e->timer) {
        /* 1 ms accuracy: sd-event's default (250 ms) would blur deadlines. */
        r = sd_event_add_time(e->event, &e->timer, CLOCK_BOOTTIME, at, USEC_PER_MSEC, on_timer, e);
        if (r < 0) {
            log_error_errno(r, "cannot arm the election timer: %m");
            return;
        }
        return;
    }
    r = sd_event_source_set_time(e->timer, at);
    if (r >= 0) r = sd_event_source_set_enabled(e->timer, SD_EVENT_ONESHOT);
    if (r < 0) log_error_errno(r, "cannot arm the election timer: %m");
}

static int status_now(Elector *e, uint64_t now, ProtoStatus *st)
{
    ElectionView v;

    election_view(&e->engine, now, &v);
    *st = (ProtoStatus){0};
    /* Every field fits: options and the engine enforce the same bounds. */
    if (proto_strcpy(st->namespace_, sizeof st->namespace_, e->opts.namespace_) < 0 ||
        proto_strcpy(st->election, sizeof st->election, e->opts.election) < 0 ||
        proto_strcpy(st->identity, sizeof st->identity, e->opts.id) < 0 ||
        proto_strcpy(st->hostname, sizeof st->hostname, e->opts.hostname) < 0 ||
        proto_strcpy(st->leader, sizeof st->leader, v.leader) < 0)
        return -ENAMETOOLONG;
    st->is_leader = v.is_leader;
    st->term = v.term > 0 ? (uint64_t)v.term : 0;
    if (v.since_usec > 0)
        proto_timestamp_format((uint64_t)v.since_usec, st->since, sizeof st->since);
    st->valid_ms = v.valid_ms;
    switch (v.state) {
    case ELECTION_STATE_STARTING:
        st->state = PROTO_STATE_STARTING;
        break;
    case ELECTION_STATE_FOLLOWING:
        st->state = PROTO_STATE_FOLLOWING;
        break;
    case ELECTION_STATE_LEADING:
        st->state = PROTO_STATE_LEADING;
        break;
    case ELECTION_STATE_RELEASING:
        st->state = PROTO_STATE_RELEASING;
        break;
    default:
        st->state = PROTO_STATE_API_UNREACHABLE;
        break;
    }
    if (v.duplicate_identity)
        (void)proto_strcpy(st->reason, sizeof st->reason,
                           "another process uses this identity: not competing");
    if (e->health) {
        HealthState hs = health_checker_state(e->health);
        const char *why = health_checker_reason(e->health);

        (void)proto_strcpy(st->health, sizeof st->health, health_state_to_string(hs));
        if (hs != HEALTH_HEALTHY && !st->reason[0])
            snprintf(st->reason, sizeof st->reason, "%s: %s; not competing",
                     hs == HEALTH_UNKNOWN ? "application health unknown" : "application unhealthy",
                     why[0] ? why : "no check finished yet");
    }
    return 0;
}

/* The socket's STATUS and WATCH (the socket server caps a STATUS answer's claim itself). */
static int get_status(void *userdata, uint64_t now_boot, ProtoStatus *ret)
{
    return status_now(userdata, now_boot, ret);
}

/* HTTP /status (--http) and /leader (--metrics-addr): a one-shot answer like the socket's STATUS,
 * capped the same way, and waited for by a release (release_gate()). /leader answers 200 only from
 * a status this function returned with is_leader and valid_ms > 0, so every 200 it hands out is
 * recorded in http_claim_until before it is sent: the rule "a release waits for every leader answer
 * handed out" holds for the kubelet's httpGet probes as for leader-probe. */
static int http_status(void *userdata, uint64_t now_boot, ProtoStatus *ret)
{
    Elector *e = userdata;
    uint64_t cap = SOCK_SERVER_STATUS_VALID_MAX_USEC_DEFAULT / USEC_PER_MSEC;
    int r = status_now(e, now_boot, ret);

    if (r < 0 || !ret->is_leader) return r;
    if (ret->valid_ms > cap) ret->valid_ms = cap;
    if (now_boot + ret->valid_ms * USEC_PER_MSEC > e->http_claim_until)
        e->http_claim_until = now_boot + ret->valid_ms * USEC_PER_MSEC;
    return 0;
}

static int http_ready(void *userdata, const char **ret_reason)
{
    Elector *e = userdata;
    uint64_t now = now_boot_usec();

    /* Reached within one lease duration: a request answered or a watch alive. */
    if (e->watch_up ||
        (e->last_api_ok_boot > 0 && now - e->last_api_ok_boot < e->opts.lease_duration_usec))
        return 0;
    *ret_reason = "the Kubernetes API has not answered recently";
    return 1;
}

static int sock_resign(void *userdata, const struct ucred *peer, char *ret_message, size_t size)
{
    Elector *e = userdata;
    ElectionEvent ev = {.type = ELECTION_EVENT_RESIGN};
    bool was_leader = election_is_leader(&e->engine, now_boot_usec());
    char hold[32];

    log_info("RESIGN requested by pid %d uid %u", (int)peer->pid, (unsigned)peer->uid);
    elector_step(e, &ev);
    snprintf(ret_message, size, "%s; not competing for %s",
             was_leader ? "released the lease" : "not leader",
             duration_format(e->opts.resign_holdoff_usec, hold, sizeof hold));
    return 0;
}

/* --events: "<id> became leader" / "<id> stopped leading" where client-go's resourcelock puts
 * them (RecordEvent): on the lock object(s) with the uid and resourceVersion last returned, which
 * is what `kubectl describe lease NAME` selects them by (involvedObject.uid). And on the pod when
 * the downward API gives its uid ($POD_UID, metadata.uid) besides its name and namespace:
 * `kubectl describe pod` selects by uid too, so an Event without it would never be shown there.
 * Best effort: only queued here. */
static void post_transition(Elector *e, bool leading)
{
    const char *pod = getenv("POD_NAME"), *pod_ns = getenv("POD_NAMESPACE"),
               *pod_uid = getenv("POD_UID");
    LockObjectRef lr[2];
    size_t n;
    int64_t wall = now_wall_usec();
    char msg[ELECTION_IDENTITY_MAX + 32];

    if (!e->events || e->events_leading == leading) return;
    e->events_leading = leading;
    snprintf(msg, sizeof msg, "%s %s", e->opts.id, leading ? "became leader" : "stopped leading");
    n = lock_event_objects(e->lock, lr);
    for (size_t i = 0; i < n; i++) {
        EventObjectRef ref = {.kind = lr[i].kind,
                              .api_version = lr[i].api_version,
                              .name = lr[i].name,
                              .namespace_ = lr[i].namespace_,
                              .uid = lr[i].uid,
                              .resource_version = lr[i].resource_version};
        if (events_post(e->events, &ref, "Normal", EVENTS_REASON, msg, wall) == -ENOBUFS)
            log_debug("event queue full: \"%s\" on %s %s not posted", msg, ref.kind, ref.name);
    }
    if (pod && *pod && pod_ns && *pod_ns && pod_uid && *pod_uid) {
        EventObjectRef ref = {
            .kind = "Pod", .api_version = "v1", .name = pod, .namespace_ = pod_ns, .uid = pod_uid};
        if (events_post(e->events, &ref, "Normal", EVENTS_REASON, msg, wall) == -ENOBUFS)
            log_debug("event queue full: \"%s\" on pod %s not posted", msg, pod);
    }
}

/* The view changed, or a renew succeeded: tell watchers, metrics, systemd. */
static void publish(Elector *e)
{
    ProtoStatus st;

    if (status_now(e, now_boot_usec(), &st) < 0) return;
    post_transition(e, st.is_leader);
    sock_server_publish(e->sock);
    if (e->slice) {
        if (st.is_leader) e->slice_withdraw_tried = false;
        endpointslice_set_leader(e->slice, st.is_leader);
    }
    if (strcmp(st.leader, e->published_leader) != 0 || (int64_t)st.term != e->published_term) {
        if (st.leader[0] && (e->published_leader[0] || e->published_term >= 0))
            election_metrics_transition(e->metrics);
        snprintf(e->published_leader, sizeof e->published_leader, "%s", st.leader);
        e->published_term = (int64_t)st.term;
        if (st.leader[0])
            log_info("leader is %s (term %llu)", st.leader, (unsigned long long)st.term);
    }
    (void)sd_notifyf(false, "STATUS=%s, leader %s", proto_state_to_string(st.state),
                     st.leader[0] ? st.leader : "unknown");
}

static void elector_step(Elector *e, const ElectionEvent *ev)
{
    ElectionActions acts;
    ElectionNow now = {.boot_usec = now_boot_usec(), .wall_usec = now_wall_usec()};
    bool do_publish = false;

    if (election_step(&e->engine, ev, &now, &acts) < 0) {
        log_error("the election engine refused event %s", election_event_type_to_string(ev->type));
        return;
    }
    {
        /* JSON log lines carry the term of the leader as now known. */
        ElectionView v;
        election_view(&e->engine, now.boot_usec, &v);
        log_set_term(v.term);
    }
    for (size_t i = 0; i < acts.n; i++) {
        const ElectionAction *a = &acts.a[i];
        switch (a->type) {
        case ELECTION_ACTION_GET:
        case ELECTION_ACTION_CREATE:
        case ELECTION_ACTION_UPDATE:
            do_request(e, a);
            break;
        case ELECTION_ACTION_ARM_TIMER:
            arm_timer(e, a->at);
            break;
        case ELECTION_ACTION_PUBLISH:
            do_publish = true;
            break;
        case ELECTION_ACTION_LOG:
            log_internal(a->level, "%s", a->message);
            break;
        case ELECTION_ACTION_EXIT:
            e->exiting = true;
            (void)sd_event_exit(e->event, 0);
            break;
        default:
            break;
        }
    }
    if (do_publish) publish(e);
}

/* ---- the watch on the Lease ---- */

static void set_watch_up(Elector *e, bool up)
{
    ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_STATE, .watch_up = up};

    if (e->watch_up == up) return;
    e->watch_up = up;
    elector_step(e, &ev);
}

static void on_watch_event(Lock *l, const LockWatchEvent *we, void *userdata)
{
    Elector *e = userdata;
    ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_EVENT};

    e->last_api_ok_boot = now_boot_usec();
    e->watch_failures = 0;
    set_watch_up(e, true);
    if (we->bookmark) return; /* only proves the stream is alive */
    ev.deleted = we->deleted;
    ev.record = we->record;
    ev.record.aux = we->aux;
    elector_step(e, &ev);
}

static void on_watch_interrupt(Lock *l, const char *why, void *userdata)
{
    Elector *e = userdata;

    log_debug("watch interrupted (%s): resuming", why);
    set_watch_up(e, false);
}

static int on_watch_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
    Elector *e = userdata;
    e->watch_retry = sd_event_source_unref(e->watch_retry);
    (void)watch_start(e);
    return 0;
}

static void watch_retry_later(Elector *e)
{
    /* Jittered, growing up to one retry period: a follower's only source of
     * news, so it must come back quickly, but not in lock-step with others. */
    uint64_t base = e->opts.retry_period_usec / 4, delay;
    uint32_t rnd = 0;

    if (e->watch_failures < 4) base <<= e->watch_failures;
    if (base > e->opts.retry_period_usec) base = e->opts.retry_period_usec;
    (void)getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
    delay = base / 2 + (base / 2) * (rnd % 1000) / 1000;
    e->watch_failures++;
    if (sd_event_add_time_relative(e->event, &e->watch_retry, CLOCK_BOOTTIME, delay, USEC_PER_MSEC,
                                   on_watch_retry, e) < 0)
        log_error("cannot schedule the watch: the Lease is no longer watched");
}

static void on_watch_end(Lock *l, const LockResult *resp, void *userdata)
{
    Elector *e = userdata;

    e->watch = NULL;
    if (e->exiting) return;
    if (resp->result == KUBE_E_EXPIRED) {
        /* Too old a resourceVersion: start over from the current state (a
         * watch without resourceVersion first sends the object as ADDED). */
        log_debug("watch: resourceVersion expired, starting over");
        (void)watch_start(e);
        return;
    }
    log_warn("watch on the lock ended: %s", resp->error ? resp->error : "error");
    set_watch_up(e, false);
    watch_retry_later(e);
}

static int watch_start(Elector *e)
{
    int r;

    if (e->watch || e->exiting) return 0;
    /* Always from the current state: the engine must see the Lease as it is
     * now, and a resumed stream is the client's own business. */
    /* The Endpoints modes watch their objects too; R/2 is the period of the reads they fall
     * back to if the server refuses the watch (see lock_watch()). */
    uint32_t rnd = 0;
    (void)getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
    uint64_t stream = WATCH_STREAM_MIN_USEC + WATCH_STREAM_MIN_USEC / 1000 * (rnd % 1000);
    r = lock_watch(e->lock, stream, e->opts.retry_period_usec / 2, on_watch_event, on_watch_end, e,
                   &e->watch);
    if (r >= 0) lock_watch_set_interrupt(e->watch, on_watch_interrupt);
    if (r < 0) {
        log_warn_errno(r, "cannot start the watch: %m");
        set_watch_up(e, false);
        watch_retry_later(e);
    }
    return r;
}

/* ---- signals ---- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    Elector *e = userdata;
    ElectionEvent ev = {.type = ELECTION_EVENT_SHUTDOWN};

    if (election_exited(&e->engine) || e->exiting) {
        return 0;
    }
    if (election_stopping(&e->engine)) {
        /* A second signal: we already stopped claiming, so leaving now is safe. */
        log_info("second %s: exiting without waiting for the release",
                 strsignal((int)si->ssi_signo));
        e->exiting = true;
        return sd_event_exit(e->event, 0);
    }
    log_info("%s: stopping, releasing the lease", strsignal((int)si->ssi_signo));
    (void)sd_notify(false, "STOPPING=1");
    elector_step(e, &ev);
    return 0;
}

/* leader_election_socket_clients, read when /metrics is rendered. */
static double socket_clients(void *userdata)
{
    Elector *e = userdata;
    SockServerStats st;

    if (!e->sock) return 0;
    sock_server_get_stats(e->sock, &st);
    return st.clients;
}

static void kube_log(int level, const char *message, void *userdata)
{
    log_internal(level, "%s", message);
}

/* ---- the application's health ---- */

static void on_health_change(HealthChecker *h, HealthState state, const char *reason,
                             void *userdata)
{
    Elector *e = userdata;
    ElectionEvent ev = {.type = ELECTION_EVENT_HEALTH, .healthy = state == HEALTH_HEALTHY};

    if (state == HEALTH_HEALTHY)
        log_info("application healthy: %s", reason);
    else
        log_warn("application unhealthy: %s", reason);
    metric_set(e->m_health_status, state == HEALTH_HEALTHY ? 1 : 0);
    elector_step(e, &ev);
    /* The status carries the health even when the engine's view did not change
     * (unknown -> unhealthy). */
    sock_server_publish(e->sock);
}

static void on_health_result(HealthChecker *h, bool ok, uint64_t duration_usec, const char *reason,
                             void *userdata)
{
    Elector *e = userdata;

    metric_inc(ok ? e->m_health_ok : e->m_health_failed);
    log_debug("health check %s in %llu ms: %s", ok ? "passed" : "failed",
              (unsigned long long)(duration_usec / USEC_PER_MSEC), reason);
}

static int health_setup(Elector *e, sd_event *event, const Options *o)
{
    HealthConfig hc = {
        .kind = o->health_kind,
        .target = o->health_target,
        .period_usec = o->health_period_usec,
        .timeout_usec = o->health_timeout_usec,
        .failure_threshold = o->health_failures,
        .success_threshold = o->health_successes,
    };
    MetricFamily *f = NULL;
    int r;

    r = health_checker_new(event, &hc, &e->health);
    if (r < 0) return log_error_errno(r, "cannot check the health of %s: %m", o->health_target);
    health_checker_set_callbacks(e->health, on_health_change, on_health_result, e);
    if (metrics_family_add(e->metrics->registry, METRIC_GAUGE, "leader_election_health_status",
                           "1 while the application is healthy (after the failure/success "
                           "thresholds), else 0",
                           NULL, 0, NULL, 0, &f) >= 0)
        (void)metrics_series(f, NULL, &e->m_health_status);
    if (metrics_family_add(
            e->metrics->registry, METRIC_COUNTER, "leader_election_health_checks_total",
            "Application health checks by result", METRIC_LABELS("result"), 2, NULL, 0, &f) >= 0) {
        (void)metrics_series(f, METRIC_LABELS("success"), &e->m_health_ok);
        (void)metrics_series(f, METRIC_LABELS("failure"), &e->m_health_failed);
    }
    return 0;
}

/* ---- EndpointSlice mode ---- */

/* How much longer we claim, asked at the moment the slice writer sends our
 * address: never written once the claim has lapsed. */
static uint64_t slice_claim(void *userdata)
{
    Elector *e = userdata;
    uint64_t now = now_boot_usec();
    ElectionView v;

    if (!election_is_leader(&e->engine, now)) return 0;
    election_view(&e->engine, now, &v);
    return v.valid_ms * USEC_PER_MSEC;
}

static double slice_stat(Elector *e, int which)
{
    EndpointSliceStats st;

    endpointslice_stats(e->slice, &st);
    switch (which) {
    case 0:
        return (double)st.gets;
    case 1:
        return (double)st.creates;
    case 2:
        return (double)st.updates;
    case 3:
        return (double)st.conflicts;
    default:
        return endpointslice_published(e->slice) ? 1 : 0;
    }
}
static double slice_gets(void *u)
{
    return slice_stat(u, 0);
}
static double slice_creates(void *u)
{
    return slice_stat(u, 1);
}
static double slice_updates(void *u)
{
    return slice_stat(u, 2);
}
static double slice_conflicts(void *u)
{
    return slice_stat(u, 3);
}
static double slice_published(void *u)
{
    return slice_stat(u, 4);
}

static int slice_setup(Elector *e, sd_event *event, const Options *o)
{
    const char *pod = getenv("POD_NAME"), *node = getenv("NODE_NAME"), *zone = getenv("NODE_ZONE");
    EndpointSliceConfig sc = {
        .namespace_ = o->namespace_,
        .name = o->election,
        .service = o->endpointslice,
        .pod_ip = o->pod_ip,
        .pod_name = pod && *pod ? pod : o->id,
        .pod_namespace = getenv("POD_NAMESPACE"),
        .pod_uid = getenv("POD_UID"),
        .node_name = node,
        .zone = zone,
        .ports = o->endpoint_ports,
        .n_ports = o->n_endpoint_ports,
        .timeout_usec = o->renew_deadline_usec,
        .retry_usec = o->retry_period_usec,
        .resync_usec = o->lease_duration_usec,
    };
    MetricFamily *f = NULL;
    MetricSeries *m = NULL;
    int r;

    /* The endpoint's nodeName and zone: without a nodeName, kube-proxy counts the endpoint as
     * local to no node, and a Service with a Local traffic policy drops all traffic. */
    if (node && *node && !dns_subdomain_valid(node))
        return log_error_errno(-EINVAL, "$NODE_NAME is not a node name: \"%s\"", node);
    if (zone && !endpointslice_label_value_valid(zone))
        return log_error_errno(-EINVAL, "$NODE_ZONE is not a zone (a label value): \"%s\"", zone);
    if (!node || !*node)
        log_warn("EndpointSlice %s: $NODE_NAME is not set (downward API spec.nodeName): the "
                 "endpoint has no nodeName, and a Service with externalTrafficPolicy or "
                 "internalTrafficPolicy Local gets no endpoint on any node",
                 o->election);
    r = endpointslice_new(event, e->kube, &sc, &e->slice);
    if (r < 0) return log_error_errno(r, "cannot set up the EndpointSlice %s: %m", o->election);
    endpointslice_set_callbacks(e->slice, slice_claim, kube_log, e);
    if (metrics_family_add(e->metrics->registry, METRIC_COUNTER,
                           "leader_election_endpointslice_requests_total",
                           "Requests on the leader's EndpointSlice by verb", METRIC_LABELS("verb"),
                           3, NULL, 0, &f) >= 0) {
        if (metrics_series(f, METRIC_LABELS("get"), &m) >= 0) metric_set_func(m, slice_gets, e);
        if (metrics_series(f, METRIC_LABELS("create"), &m) >= 0)
            metric_set_func(m, slice_creates, e);
        if (metrics_series(f, METRIC_LABELS("update"), &m) >= 0)
            metric_set_func(m, slice_updates, e);
    }
    if (metrics_family_add(e->metrics->registry, METRIC_COUNTER,
                           "leader_election_endpointslice_conflicts_total",
                           "409 answers to writes of the EndpointSlice (re-read and retried)", NULL,
                           0, NULL, 0, &f) >= 0 &&
        metrics_series(f, NULL, &m) >= 0)
        metric_set_func(m, slice_conflicts, e);
    if (metrics_family_add(e->metrics->registry, METRIC_GAUGE,
                           "leader_election_endpointslice_published",
                           "1 while the EndpointSlice is known to hold exactly this pod's address",
                           NULL, 0, NULL, 0, &f) >= 0 &&
        metrics_series(f, NULL, &m) >= 0)
        metric_set_func(m, slice_published, e);
    log_info("EndpointSlice mode: the leader writes %s into %s/%s for Service %s", o->pod_ip,
             o->namespace_, o->election, o->endpointslice);
    return 0;
}

int elector_new(sd_event *event, const Options *o, Elector **ret)
{
    _cleanup_(elector_freep) Elector *e = NULL;
    KubeConfig kc = {0};
    ElectionConfig ec;
    int r;

    e = calloc(1, sizeof *e);
    if (!e) return log_error_errno(ENOMEM, "out of memory");
    e->event = sd_event_ref(event);
    e->opts = *o;
    e->published_term = -1;

    r = options_election_config(o, &ec);
    if (r < 0) return log_error_errno(r, "invalid identity '%s'", o->id);
    if (getrandom(&ec.seed, sizeof ec.seed, GRND_NONBLOCK) != sizeof ec.seed)
        ec.seed = now_boot_usec() ^ (uint64_t)getpid();
    r = election_init(&e->engine, &ec);
    if (r < 0)
        return log_error_errno(r, "invalid election settings: %s", election_config_validate(&ec));

    r = election_metrics_new(o->election, &e->metrics);
    if (r < 0) return log_error_errno(r, "cannot set up metrics: %m");

    /* The API client. */
    kc.server = o->server[0] ? strdup(o->server) : NULL;
    kc.token_file = o->token_file[0] ? strdup(o->token_file) : NULL;
    kc.ca_file = o->ca_file[0] ? strdup(o->ca_file) : NULL;
    kc.namespace_ = strdup(o->namespace_);
    kc.kubeconfig = o->kubeconfig[0] ? strdup(o->kubeconfig) : NULL;
    kc.use_cluster_credentials = o->use_cluster_credentials;
    r = kube_config_resolve(&kc, NULL);
    if (r < 0 && kc.error[0]) {
        log_error("%s", kc.error);
        kube_config_done(&kc);
        return r;
    }
    if (r == -ENXIO) {
        kube_config_done(&kc);
        return log_error_errno(r,
                               "not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not "
                               "set): give --kubeconfig, or --server, --token-file and --ca-file");
    }
    if (r < 0) {
        kube_config_done(&kc);
        return log_error_errno(r, "bad API configuration: %m");
    }
    r = kube_client_new(event, &kc, &e->kube);
    if (r < 0) {
        log_error_errno(r, "cannot set up the API client for %s: %m", kc.server);
        kube_config_done(&kc);
        return r;
    }
    kube_config_done(&kc);
    kube_client_set_log(e->kube, kube_log, e);

    if (o->health_kind != HEALTH_CHECK_NONE && (r = health_setup(e, event, o)) < 0) return r;
    if (o->endpointslice[0] && (r = slice_setup(e, event, o)) < 0) return r;
    {
        LockConfig lc = {
            .type = o->lock, .namespace_ = o->namespace_, .name = o->election, .identity = o->id};
        r = lock_new(event, e->kube, &lc, &e->lock);
        if (r < 0) return log_error_errno(r, "cannot set up the lock: %m");
        lock_set_request_observer(e->lock, on_lock_request, e);
    }
    if (o->events) {
        EventsConfig evc = {.host = o->hostname};
        r = events_new(event, e->kube, &evc, &e->events);
        if (r < 0) return log_error_errno(r, "cannot set up events: %m");
        events_set_log(e->events, kube_log, e);
    }

    /* The socket. */
    {
        SockServerConfig sc = {
            .path = o->socket_path,
            .mode = o->socket_mode,
            .group = o->socket_group_set ? o->socket_group : SOCK_SERVER_NO_GROUP,
            .max_clients = o->max_clients,
            .get_status = get_status,
            .resign = sock_resign,
            .userdata = e,
        };
        r = sock_server_new(event, &sc, &e->sock);
        if (r == -EADDRINUSE)
            return log_error_errno(r, "another daemon answers on %s: refusing to start",
                                   o->socket_path);
        if (r < 0) return log_error_errno(r, "cannot listen on %s: %m", o->socket_path);
    }

    metric_set_func(e->metrics->socket_clients, socket_clients, e);
    election_metrics_set_status(e->metrics, get_status, e);

    /* The optional HTTP endpoint of the old sidecar. */
    if (o->http_addr[0]) {
        HttpServerConfig hc = {.listen = o->http_addr};
        HttpProvider hp = {.get_status = http_status, .check_ready = http_ready};
        r = http_server_new(event, &hc, &hp, e, e->metrics, &e->http);
        if (r < 0) return log_error_errno(r, "cannot serve HTTP on %s: %m", o->http_addr);
    }
    /* --metrics-addr: /metrics, /healthz, /readyz and /leader, nothing of the old endpoint. The
     * same provider as --http: /leader's answers go through http_status(). */
    if (o->metrics_addr[0]) {
        HttpServerConfig hc = {.listen = o->metrics_addr, .routes = HTTP_ROUTES_METRICS};
        HttpProvider hp = {.get_status = http_status, .check_ready = http_ready};
        r = http_server_new(event, &hc, &hp, e, e->metrics, &e->metrics_http);
        if (r < 0) return log_error_errno(r, "cannot serve metrics on %s: %m", o->metrics_addr);
    }

    /* SIGTERM/SIGINT: stop claiming, release, exit. main() blocks them first
     * thing; blocked here as well because sd_event_add_signal() requires it. */
    {
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
            return log_error_errno(errno, "cannot block signals: %m");
        r = sd_event_add_signal(event, &e->sig_term, SIGTERM, on_signal, e);
        if (r >= 0) r = sd_event_add_signal(event, &e->sig_int, SIGINT, on_signal, e);
        if (r < 0) return log_error_errno(r, "cannot handle signals: %m");
    }

    *ret = TAKE_PTR(e);
    return 0;
}

int elector_start(Elector *e)
{
    ElectionEvent ev = {.type = ELECTION_EVENT_START};

    log_info("candidate %s in election %s/%s (lock %s, lease %llums, renew deadline %llums, "
             "retry %llums), socket %s",
             e->opts.id, e->opts.namespace_, e->opts.election, lock_type_to_string(e->opts.lock),
             (unsigned long long)(e->opts.lease_duration_usec / USEC_PER_MSEC),
             (unsigned long long)(e->opts.renew_deadline_usec / USEC_PER_MSEC),
             (unsigned long long)(e->opts.retry_period_usec / USEC_PER_MSEC), e->opts.socket_path);
    elector_step(e, &ev);
    (void)watch_start(e);
    if (e->health) {
        int r = health_checker_start(e->health);
        if (r < 0) return log_error_errno(r, "cannot start the health checks: %m");
        log_info("checking the application's health: %s every %llums (timeout %llums, "
                 "unhealthy after %u failures, healthy after %u successes); not competing "
                 "until healthy",
                 e->opts.health_target,
                 (unsigned long long)(e->opts.health_period_usec / USEC_PER_MSEC),
                 (unsigned long long)(e->opts.health_timeout_usec / USEC_PER_MSEC),
                 e->opts.health_failures, e->opts.health_successes);
    }
    (void)sd_notify(false, "READY=1");
    return 0;
}

Elector *elector_free(Elector *e)
{
    if (!e) return NULL;
    e->exiting = true;
    for (size_t i = 0; i < ELEMENTSOF(e->requests); i++)
        lock_op_cancel(e->requests[i].req);
    lock_op_cancel(e->watch);
    events_free(e->events);
    lock_free(e->lock);
    sd_event_source_disable_unref(e->timer);
    sd_event_source_disable_unref(e->release_timer);
    sd_event_source_disable_unref(e->watch_retry);
    sd_event_source_disable_unref(e->sig_term);
    sd_event_source_disable_unref(e->sig_int);
    http_server_free(e->http);
    http_server_free(e->metrics_http);
    sock_server_free(e->sock);
    health_checker_free(e->health);
    endpointslice_free(e->slice);
    kube_client_free(e->kube);
    election_metrics_free(e->metrics);
    sd_event_unref(e->event);
    free(e);
    return NULL;
}
