/* SPDX-License-Identifier: MIT */
/*
 * The election engine (see election.h for the contract and docs/design.md, "Why two pods are never
 * leader at once", for the safety argument).
 *
 * Shape of one step: the event updates what we know (the Lease as last observed, our claim, the
 * outstanding request), then send() decides the one request to issue now, then the timer is
 * re-armed at the earliest instant anything can change, then the view is published if it changed.
 * Every decision is re-derived from the state and `now`, so a late, early or spurious TIMER is
 * harmless, and a process that was paused simply finds its deadlines in the past.
 */

#include "election.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "time_units.h"

/* The engine's own guard on a request, beyond the timeout it asked the glue to apply: a glue that
 * lost an answer must not wedge the election. */
#define REQUEST_GRACE_USEC (1 * USEC_PER_SEC)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- configuration ----------------------------------------------------------------------------
 */

int election_config_init(ElectionConfig *c, const char *identity)
{
    size_t n;

    if (!c || !identity) return -EINVAL;
    n = strlen(identity);
    if (n == 0) return -EINVAL;
    if (n > ELECTION_IDENTITY_MAX) return -ENAMETOOLONG;
    memset(c, 0, sizeof(*c));
    memcpy(c->identity, identity, n + 1);
    c->lease_duration_usec = ELECTION_DEFAULT_LEASE_DURATION_USEC;
    c->renew_deadline_usec = ELECTION_DEFAULT_RENEW_DEADLINE_USEC;
    c->retry_period_usec = ELECTION_DEFAULT_RETRY_PERIOD_USEC;
    return 0;
}

const char *election_config_validate(const ElectionConfig *c)
{
    size_t n;

    if (!c) return "no configuration";
    n = strnlen(c->identity, sizeof(c->identity));
    if (n == 0) return "identity must not be empty";
    if (n > ELECTION_IDENTITY_MAX) return "identity must be at most 253 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c->identity[i] <= 0x20 || (unsigned char)c->identity[i] == 0x7f)
            return "identity must not contain spaces or control characters";
    if (c->lease_duration_usec == 0) return "lease duration must be greater than zero";
    if (c->renew_deadline_usec == 0) return "renew deadline must be greater than zero";
    if (c->retry_period_usec == 0) return "retry period must be greater than zero";
    if (c->lease_duration_usec <= c->renew_deadline_usec)
        return "lease duration must be greater than renew deadline";
    /* client-go: RenewDeadline > JitterFactor (1.2) * RetryPeriod; in integers: 5*D > 6*R */
    if (c->retry_period_usec > UINT64_MAX / 6 ||
        c->renew_deadline_usec * 5 <= c->retry_period_usec * 6)
        return "renew deadline must be greater than 1.2 x retry period";
    if (c->lease_duration_usec > (uint64_t)INT32_MAX * USEC_PER_SEC)
        return "lease duration must be at most 2147483647 seconds";
    if (c->time_precision_usec > USEC_PER_SEC) return "time precision must be at most 1 second";
    return NULL;
}

/* ---- names ------------------------------------------------------------------------------------
 */

const char *election_state_to_string(ElectionState s)
{
    static const char *const t[_ELECTION_STATE_MAX] = {
        [ELECTION_STATE_STARTING] = "starting",
        [ELECTION_STATE_FOLLOWING] = "following",
        [ELECTION_STATE_LEADING] = "leading",
        [ELECTION_STATE_RELEASING] = "releasing",
        [ELECTION_STATE_API_UNREACHABLE] = "api-unreachable",
    };
    return (unsigned)s < _ELECTION_STATE_MAX ? t[s] : NULL;
}

const char *election_event_type_to_string(ElectionEventType x)
{
    static const char *const t[_ELECTION_EVENT_MAX] = {
        [ELECTION_EVENT_START] = "start",
        [ELECTION_EVENT_GET_RESULT] = "get-result",
        [ELECTION_EVENT_WRITE_RESULT] = "write-result",
        [ELECTION_EVENT_WATCH_EVENT] = "watch-event",
        [ELECTION_EVENT_WATCH_STATE] = "watch-state",
        [ELECTION_EVENT_TIMER] = "timer",
        [ELECTION_EVENT_SHUTDOWN] = "shutdown",
        [ELECTION_EVENT_RESIGN] = "resign",
        [ELECTION_EVENT_HEALTH] = "health",
    };
    return (unsigned)x < _ELECTION_EVENT_MAX ? t[x] : NULL;
}

const char *election_result_to_string(ElectionResult r)
{
    static const char *const t[_ELECTION_RESULT_MAX] = {
        [ELECTION_RESULT_OK] = "ok",
        [ELECTION_RESULT_NOT_FOUND] = "not found",
        [ELECTION_RESULT_CONFLICT] = "conflict",
        [ELECTION_RESULT_ALREADY_EXISTS] = "already exists",
        [ELECTION_RESULT_TRANSIENT] = "transient error",
        [ELECTION_RESULT_TIMEOUT] = "timeout",
        [ELECTION_RESULT_FORBIDDEN] = "forbidden",
        [ELECTION_RESULT_INVALID] = "invalid",
    };
    return (unsigned)r < _ELECTION_RESULT_MAX ? t[r] : NULL;
}

const char *election_action_type_to_string(ElectionActionType x)
{
    static const char *const t[_ELECTION_ACTION_MAX] = {
        [ELECTION_ACTION_GET] = "get",         [ELECTION_ACTION_CREATE] = "create",
        [ELECTION_ACTION_UPDATE] = "update",   [ELECTION_ACTION_ARM_TIMER] = "arm-timer",
        [ELECTION_ACTION_PUBLISH] = "publish", [ELECTION_ACTION_LOG] = "log",
        [ELECTION_ACTION_EXIT] = "exit",
    };
    return (unsigned)x < _ELECTION_ACTION_MAX ? t[x] : NULL;
}

/* ---- small helpers ----------------------------------------------------------------------------
 */

/* splitmix64: deterministic for a given seed, good enough for jitter. */
static uint64_t rnd(Election *e)
{
    uint64_t z = (e->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* uniform in [lo, hi) (lo when hi <= lo) */
static uint64_t jitter(Election *e, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + rnd(e) % (hi - lo);
}

static bool is_us(const Election *e, const char *holder)
{
    return strcmp(holder, e->config.identity) == 0;
}

static void copy_identity(char dst[static ELECTION_IDENTITY_MAX + 1], const char *src)
{
    size_t n = strnlen(src, ELECTION_IDENTITY_MAX);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* A record's lease as a follower must wait it out: the larger of ours and the record's. */
static uint64_t lease_usec(const Election *e, int32_t lds)
{
    uint64_t r = lds > 0 ? (uint64_t)lds * USEC_PER_SEC : 0;
    return max_u64(e->config.lease_duration_usec, r);
}

static bool same_spec(const ElectionRecord *a, const ElectionRecord *b)
{
    return strcmp(a->holder, b->holder) == 0 &&
           a->lease_duration_seconds == b->lease_duration_seconds &&
           a->acquire_time_usec == b->acquire_time_usec &&
           a->renew_time_usec == b->renew_time_usec &&
           a->lease_transitions == b->lease_transitions && a->aux == b->aux;
}

static ElectionAction *emit(ElectionActions *out, ElectionActionType t)
{
    ElectionAction *a;

    /* Cannot happen by construction (a step emits at most ~8); never overflow regardless. */
    if (out->n >= ELECTION_ACTIONS_MAX) return NULL;
    a = &out->a[out->n++];
    memset(a, 0, sizeof(*a));
    a->type = t;
    return a;
}

static void elog(ElectionActions *out, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void elog(ElectionActions *out, int level, const char *fmt, ...)
{
    ElectionAction *a;
    va_list ap;

    /* Logs never take the last slots: requests, timer, publish and exit always fit. */
    if (out->n + 4 >= ELECTION_ACTIONS_MAX) return;
    a = emit(out, ELECTION_ACTION_LOG);
    a->level = level;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof(a->message), fmt, ap);
    va_end(ap);
}

bool election_is_leader(const Election *e, uint64_t now_boot)
{
    return e && now_boot < e->claim_deadline && now_boot >= e->claim_gate;
}

/* Our claim is running (renews keep their cadence), even while the creation gate holds back
 * election_is_leader(). */
static bool claiming(const Election *e, uint64_t now)
{
    return now < e->claim_deadline;
}

bool election_claiming(const Election *e, uint64_t now_boot)
{
    return e && claiming(e, now_boot);
}

bool election_stopping(const Election *e)
{
    return e && e->stopping;
}

bool election_exited(const Election *e)
{
    return e && e->exited;
}

/* ---- sent writes --------------------------------------------------------------------------------
 */

static ElectionSent *sent_find(Election *e, int64_t renew_time)
{
    for (size_t i = 0; i < e->n_sent; i++)
        if (e->sent[i].renew_time_usec == renew_time) return &e->sent[i];
    return NULL;
}

/* A write the server certainly did not apply (409, 404, 403, 422) can never show up in the Lease:
 * forget it, so that a long storm of refusals does not push out the writes that may have. */
static void sent_forget(Election *e, int64_t renew_time)
{
    ElectionSent *s = sent_find(e, renew_time);
    if (s) s->renew_time_usec = INT64_MIN;
}

static void sent_add(Election *e, const ElectionRecord *r, uint64_t send_boot, bool claim)
{
    ElectionSent *s = &e->sent[e->sent_next];

    *s = (ElectionSent){
        .renew_time_usec = r->renew_time_usec,
        .acquire_time_usec = r->acquire_time_usec,
        .lease_transitions = r->lease_transitions,
        .send_boot_usec = send_boot,
        .epoch = e->epoch,
        .claim = claim,
    };
    e->sent_next = (e->sent_next + 1) % ELECTION_SENT_MAX;
    if (e->n_sent < ELECTION_SENT_MAX) e->n_sent++;
}

/* Every renewTime we write is distinct (and increasing) at the lock's precision, so a renewTime
 * read back identifies our write and every renew changes the record. At the second precision a
 * renew within the same second is written one second ahead (never behind a previous write):
 * nobody compares a renewTime with its own clock. */
static int64_t next_wall(Election *e, const ElectionNow *now)
{
    int64_t p = e->config.time_precision_usec > 1 ? (int64_t)e->config.time_precision_usec : 1;
    int64_t w = now->wall_usec;

    w -= ((w % p) + p) % p; /* floor, also before the epoch */
    if (w <= e->last_wall_written) w = e->last_wall_written + p;
    e->last_wall_written = w;
    return w;
}

/* ---- claim
 * --------------------------------------------------------------------------------------- */

static void demote(Election *e, ElectionActions *out, const char *why, const char *who)
{
    e->claim_deadline = 0;
    e->next_renew = 0;
    if (e->leading_reported) {
        e->leading_reported = false;
        elog(out, LOG_INFO, "stopped leading: %s%s", why, who ? who : "");
    }
}

/* A write of ours is known to have committed (its response, or its record on the watch): we may
 * claim until its send time + D. Safe even for an older write of ours: nobody may take the Lease
 * over before L (> D, with margin for clock rates) after observing it. Never after a release began
 * (epoch), never while resigned or backing off. */
static void claim(Election *e, ElectionActions *out, ElectionSent *s, uint64_t now, bool *renewed)
{
    uint64_t d;

    if (!s->claim || s->epoch != e->epoch || e->stopping || e->resigning || e->unhealthy) return;
    if (now < e->holdoff_until || now < e->backoff_until) return;
    if (s->confirmed_boot == 0) {
        s->confirmed_boot = now;
        if (s->create) {
            e->claim_gate = max_u64(e->claim_gate, add_sat(now, e->config.lease_duration_usec));
            elog(out, LOG_INFO,
                 "created the lease (term=%" PRId32 "): claiming it after %" PRIu64
                 " ms, in case it was deleted under a live leader",
                 s->lease_transitions, e->config.lease_duration_usec / USEC_PER_MSEC);
        }
    }
    d = add_sat(s->send_boot_usec, e->config.renew_deadline_usec);
    if (d <= now || d <= e->claim_deadline) return;
    e->claim_deadline = d;
    e->term = s->lease_transitions;
    e->acquire_wall = s->acquire_time_usec;
    e->next_renew = add_sat(s->send_boot_usec, e->config.retry_period_usec);
    *renewed = true;
}

/* Logs (and publishes) the transitions that time alone makes: the claim deadline passing, the
 * creation gate opening. Transitions caused by events are logged by demote(). */
static void report(Election *e, ElectionActions *out, uint64_t now, bool *renewed)
{
    bool l = election_is_leader(e, now);

    if (l && !e->leading_reported) {
        e->leading_reported = true;
        *renewed = true;
        elog(out, LOG_INFO, "became leader term=%" PRId64, e->term);
    } else if (!l && e->leading_reported) {
        demote(e, out, "renew deadline passed", NULL);
    }
}

/* ---- observations
 * -------------------------------------------------------------------------------- */

static ElectionRecordClass classify(Election *e, const ElectionRecord *r)
{
    const ElectionSent *s;

    if (r->holder[0] == 0) return ELECTION_CLASS_FREE;
    if (!is_us(e, r->holder)) return ELECTION_CLASS_OTHER;
    s = sent_find(e, r->renew_time_usec);
    if (s)
        return s->lease_transitions == r->lease_transitions &&
                       s->acquire_time_usec == r->acquire_time_usec
                   ? ELECTION_CLASS_OURS
                   : ELECTION_CLASS_EDITED;
    if (e->adopt_renew_time != 0 && r->renew_time_usec == e->adopt_renew_time)
        return ELECTION_CLASS_ADOPT;
    if (!e->seen_any && e->n_sent == 0) {
        /* Start-up: the Lease already names us (our previous incarnation, most likely). Not
         * claimed until our own renew of it succeeds. */
        e->adopt_renew_time = r->renew_time_usec ? r->renew_time_usec : -1;
        return ELECTION_CLASS_ADOPT;
    }
    return ELECTION_CLASS_DUPLICATE;
}

/* A record with an empty holder, about to replace the current one (still in e->cur/e->cls):
 * when may we take it? At once only when it is a release: the marker that client-go's
 * ReleaseOnCancel and this engine write (leaseDurationSeconds 1, the holder's leaseTransitions
 * kept) of the holder last observed, or when the holder was us (our claim ended with demote()).
 * Anything else (kubectl patch holderIdentity=null, an edit of a released record, a record with
 * no holder found at start-up) may have been written while a holder cut off from the API still
 * claims: waited out as a deletion is, from when the holder's record was observed, for its
 * lease (ours at least). */
static uint64_t vacated_takeover(const Election *e, const ElectionRecord *r, uint64_t now)
{
    bool marker = r->lease_duration_seconds == 1 &&
                  (e->held_transitions < 0 || r->lease_transitions == e->held_transitions);

    switch (e->cls) {
    case ELECTION_CLASS_OURS:
    case ELECTION_CLASS_EDITED:
        return 0;
    case ELECTION_CLASS_OTHER:
    case ELECTION_CLASS_DUPLICATE:
    case ELECTION_CLASS_ADOPT:
        return marker ? 0 : add_sat(e->observed_boot, lease_usec(e, e->cur.lease_duration_seconds));
    case ELECTION_CLASS_ABSENT:
        return marker ? e->absent_takeover
                      : max_u64(e->absent_takeover,
                                add_sat(now, lease_usec(e, r->lease_duration_seconds)));
    case ELECTION_CLASS_FREE:
        /* A released record edited again: nobody held it in between that we saw; but a record
         * that is no marker gives no such promise (events may have been missed on a relist). */
        return marker ? e->free_takeover
                      : max_u64(e->free_takeover,
                                add_sat(now, lease_usec(e, r->lease_duration_seconds)));
    default: /* start-up */
        return marker ? 0 : add_sat(now, lease_usec(e, r->lease_duration_seconds));
    }
}

static void observe(Election *e, ElectionActions *out, const ElectionRecord *r, uint64_t now,
                    bool *renewed)
{
    ElectionRecordClass c;
    ElectionSent *s;
    bool known = e->cls >= ELECTION_CLASS_FREE;

    /* Stale (an older watch event after our write's answer): ignore. Same revision: nothing new,
     * but a write answer may still confirm our claim below. */
    if (r->revision != 0 && r->revision < e->cur_revision) return;
    if (r->revision != 0 && r->revision == e->cur_revision && known && same_spec(r, &e->cur))
        goto confirm;

    if (r->lease_transitions > e->max_seen_transitions)
        e->max_seen_transitions = r->lease_transitions;
    if (r->revision > e->cur_revision) e->cur_revision = r->revision;

    if (known && same_spec(r, &e->cur)) {
        e->cur = *r; /* e.g. a label edit: same spec, new revision; observedTime kept (client-go) */
        goto confirm;
    }

    c = classify(e, r);
    if (c == ELECTION_CLASS_FREE) e->free_takeover = vacated_takeover(e, r, now);
    e->cur = *r;
    e->cls = c;
    e->seen_any = true;
    e->observed_boot = now;
    if (r->holder[0]) e->held_transitions = r->lease_transitions;

    switch (c) {
    case ELECTION_CLASS_OTHER:
        demote(e, out, "lease taken by ", r->holder);
        if (e->config.check_peer_lease_duration) {
            bool unsafe =
                r->lease_duration_seconds > 0 &&
                (uint64_t)r->lease_duration_seconds * USEC_PER_SEC <= e->config.renew_deadline_usec;
            if (unsafe && !e->peer_unsafe)
                elog(out, LOG_ERR,
                     "not competing: \"%s\" holds the lock with leaseDurationSeconds=%" PRId32
                     ", not above our renew deadline of %" PRIu64
                     " ms: as a follower it could take over while we still claim; give every "
                     "candidate the same timings (e.g. the old sidecar's --ttl)",
                     r->holder, r->lease_duration_seconds,
                     e->config.renew_deadline_usec / USEC_PER_MSEC);
            else if (!unsafe && e->peer_unsafe)
                elog(out, LOG_INFO, "the lock's holder has safe timings again: competing");
            e->peer_unsafe = unsafe;
        }
        break;
    case ELECTION_CLASS_FREE:
        demote(e, out, "lease released", NULL);
        if (e->free_takeover > now)
            elog(out, LOG_WARNING,
                 "lease holder cleared without a release by its holder "
                 "(leaseDurationSeconds=%" PRId32 ", term %" PRId32
                 "): the holder may still claim it; waiting %" PRIu64 " ms before taking it over",
                 r->lease_duration_seconds, r->lease_transitions,
                 (e->free_takeover - now) / USEC_PER_MSEC);
        break;
    case ELECTION_CLASS_EDITED:
        demote(e, out, "lease edited by someone else", NULL);
        elog(out, LOG_WARNING, "lease holding our identity was edited: acquiring a new term");
        break;
    case ELECTION_CLASS_DUPLICATE:
        demote(e, out, "duplicate identity", NULL);
        if (now < e->backoff_until) {
            /* still backing off: one error line per back-off, not one per renew of the other */
            e->backoff_until = add_sat(now, e->config.lease_duration_usec);
            break;
        }
        elog(out, LOG_ERR,
             "duplicate identity: the lease is held by \"%s\" with a renewTime this process never "
             "sent; another process uses our identity; not competing for %" PRIu64 " ms",
             e->config.identity, e->config.lease_duration_usec / USEC_PER_MSEC);
        e->backoff_until = add_sat(now, e->config.lease_duration_usec);
        break;
    case ELECTION_CLASS_ADOPT:
        elog(out, LOG_INFO,
             "lease already held by our identity: waiting one lease duration, then "
             "renewing it before claiming");
        break;
    default:
        break;
    }

confirm:
    /* A record of ours seen on the watch or in a GET is not a claim: only a write's answer says
     * whether it created the Lease (201), which must wait (see claim()). */
    (void)s;
    (void)renewed;
}

static void observe_absent(Election *e, ElectionActions *out, uint64_t revision, uint64_t now)
{
    if (revision != 0 && revision < e->cur_revision) return;
    if (revision > e->cur_revision) e->cur_revision = revision;
    if (e->cls == ELECTION_CLASS_ABSENT) return;
    /* Deleted while held by another: that holder may still believe it leads (its watch may be
     * late); wait out its lease from when we last observed it, as for silence. */
    if (e->cls == ELECTION_CLASS_OTHER || e->cls == ELECTION_CLASS_DUPLICATE) {
        copy_identity(e->absent_holder, e->cur.holder);
        e->absent_takeover =
            add_sat(e->observed_boot, lease_usec(e, e->cur.lease_duration_seconds));
    } else {
        /* Free, ours, or never seen: create at once (the claim waits, see claim()). */
        e->absent_holder[0] = 0;
        e->absent_takeover = 0;
    }
    if (e->cls != ELECTION_CLASS_UNKNOWN) demote(e, out, "lease deleted", NULL);
    e->cls = ELECTION_CLASS_ABSENT;
    e->seen_any = true;
    e->observed_boot = now;
    memset(&e->cur, 0, sizeof(e->cur));
}

/* ---- requests ---------------------------------------------------------------------------------
 */

static ElectionAction *request(Election *e, ElectionActions *out, ElectionActionType t,
                               uint64_t now, uint64_t timeout)
{
    ElectionAction *a = emit(out, t);
    if (!a) return NULL;
    a->request_id = e->next_id++;
    a->timeout_usec = timeout;
    e->inflight_id = a->request_id;
    e->inflight_type = t;
    e->inflight_send = now;
    e->inflight_expire = add_sat(add_sat(now, timeout), REQUEST_GRACE_USEC);
    return a;
}

static void send_get(Election *e, ElectionActions *out, uint64_t now, uint64_t timeout)
{
    request(e, out, ELECTION_ACTION_GET, now, timeout);
}

static int32_t ceil_seconds(uint64_t usec)
{
    uint64_t s = (usec + USEC_PER_SEC - 1) / USEC_PER_SEC;
    return s > INT32_MAX ? INT32_MAX : (int32_t)s;
}

/* A claim write: a renew keeps our term and acquireTime; an acquisition starts a new term above
 * every term ever seen. */
static void send_claim(Election *e, ElectionActions *out, const ElectionNow *now, bool renew)
{
    ElectionRecord r = {0};
    ElectionAction *a;
    uint64_t timeout = e->config.renew_deadline_usec;
    bool create = !renew && e->cls == ELECTION_CLASS_ABSENT;

    if (!renew && e->max_seen_transitions >= INT32_MAX) {
        elog(out, LOG_ERR, "leaseTransitions reached its maximum: cannot start a new term");
        e->retry_at = add_sat(now->boot_usec, e->config.lease_duration_usec);
        return;
    }
    copy_identity(r.holder, e->config.identity);
    r.lease_duration_seconds = ceil_seconds(e->config.lease_duration_usec);
    r.renew_time_usec = next_wall(e, now);
    if (renew) {
        r.acquire_time_usec = e->cur.acquire_time_usec;
        r.lease_transitions = e->cur.lease_transitions;
        /* A renew must not outlive the claim it extends, and one attempt gets about a retry
         * period: a connection that black-holes it leaves time for more attempts (the glue
         * connects afresh after a timeout) before the renew deadline. */
        timeout = e->config.retry_period_usec;
        if (claiming(e, now->boot_usec))
            timeout = min_u64(timeout, e->claim_deadline - now->boot_usec);
    } else {
        r.acquire_time_usec = r.renew_time_usec;
        r.lease_transitions = (int32_t)(e->max_seen_transitions + 1);
    }
    a = request(e, out, create ? ELECTION_ACTION_CREATE : ELECTION_ACTION_UPDATE, now->boot_usec,
                timeout);
    if (!a) return;
    a->kind = renew ? ELECTION_WRITE_RENEW : ELECTION_WRITE_ACQUIRE;
    a->base_revision = create ? 0 : e->cur_revision;
    a->record = r;
    e->inflight_kind = a->kind;
    e->inflight_renew = r.renew_time_usec;
    sent_add(e, &r, now->boot_usec, true);
    if (create) e->sent[(e->sent_next + ELECTION_SENT_MAX - 1) % ELECTION_SENT_MAX].create = true;
    /* A write is a term we have "seen" too: never reuse it even if it is lost. */
    if (r.lease_transitions > e->max_seen_transitions)
        e->max_seen_transitions = r.lease_transitions;
}

static void send_release(Election *e, ElectionActions *out, const ElectionNow *now)
{
    ElectionRecord r = {0};
    ElectionAction *a;

    r.holder[0] = 0;
    r.lease_duration_seconds = 1;
    r.renew_time_usec = r.acquire_time_usec = next_wall(e, now);
    r.lease_transitions = e->cur.lease_transitions;
    a = request(e, out, ELECTION_ACTION_UPDATE, now->boot_usec, e->exit_deadline - now->boot_usec);
    if (!a) return;
    a->kind = ELECTION_WRITE_RELEASE;
    a->base_revision = e->cur_revision;
    a->record = r;
    e->inflight_kind = a->kind;
    e->inflight_renew = r.renew_time_usec;
    sent_add(e, &r, now->boot_usec, false);
}

static void finish_release(Election *e, ElectionActions *out, uint64_t now, const char *how)
{
    e->inflight_id = 0;
    e->need_get = false;
    if (e->stopping) {
        elog(out, strcmp(how, "gave up") == 0 ? LOG_WARNING : LOG_INFO, "shutdown: %s; exiting",
             how);
        emit(out, ELECTION_ACTION_EXIT);
        e->exited = true;
        return;
    }
    e->resigning = false;
    e->retry_at = 0;
    if (e->health_release) {
        /* No hold-off: the health keeps us out while it lasts, and only as long. */
        e->health_release = false;
        elog(out, LOG_INFO, "application unhealthy: %s; not competing while unhealthy", how);
        return;
    }
    e->holdoff_until = add_sat(now, e->config.resign_holdoff_usec);
    elog(out, LOG_INFO, "resign: %s; following for %" PRIu64 " ms", how,
         e->config.resign_holdoff_usec / USEC_PER_MSEC);
}

/* Stops claiming and starts the release (SHUTDOWN: then EXIT; RESIGN and HEALTH: then follower).
 * Claiming stops before anything is sent: this step's PUBLISH says "not leader" and precedes the
 * release in the action list. The epoch makes every earlier write unable to confer a claim again.
 */
static void begin_release(Election *e, ElectionActions *out, uint64_t n, bool shutdown,
                          const char *why)
{
    if (!e->resigning)
        e->exit_deadline = add_sat(n, e->config.release_timeout_usec);
    else
        e->exit_deadline = min_u64(e->exit_deadline, add_sat(n, e->config.release_timeout_usec));
    if (shutdown)
        e->stopping = true;
    else
        e->resigning = true;
    e->epoch++;
    e->released = false;
    demote(e, out, why, NULL);
    e->retry_at = 0;
    /* Our Lease: release at once, abandoning a request in flight (its answer is ignored).
     * Otherwise an acquisition in flight may still make it ours: wait for it (bounded). */
    if (e->cls == ELECTION_CLASS_OURS ||
        (e->inflight_id != 0 && e->inflight_type == ELECTION_ACTION_GET))
        e->inflight_id = 0;
}

/* When may we try to take the Lease (boot µs)? ELECTION_TIME_NONE: not now (unknown). */
static uint64_t takeover_at(const Election *e)
{
    switch (e->cls) {
    case ELECTION_CLASS_ABSENT:
        return e->absent_takeover;
    case ELECTION_CLASS_FREE:
        return e->free_takeover;
    case ELECTION_CLASS_OURS:
    case ELECTION_CLASS_EDITED:
        return 0;
    case ELECTION_CLASS_OTHER:
    case ELECTION_CLASS_DUPLICATE:
    /* Found holding our identity at start-up: most likely our previous incarnation, but possibly
     * a live one (a pod re-created while its predecessor is cut off from the API, still claiming
     * until its renew deadline). The two cannot be told apart, so the Lease is waited out like
     * another holder's: a live predecessor's renews show up meanwhile (DUPLICATE: back off). */
    case ELECTION_CLASS_ADOPT:
        return add_sat(e->observed_boot, lease_usec(e, e->cur.lease_duration_seconds));
    default:
        return ELECTION_TIME_NONE;
    }
}

/* The instant send() wants to act (ignoring the request in flight). */
static uint64_t next_send(const Election *e, uint64_t now)
{
    uint64_t t;

    if (e->exited) return ELECTION_TIME_NONE;
    if (e->stopping || e->resigning) return e->retry_at;
    if (e->need_get || e->cls == ELECTION_CLASS_UNKNOWN) return e->retry_at;
    if (e->unhealthy) return ELECTION_TIME_NONE; /* no claim of any kind; the watch informs us */
    t = max_u64(e->retry_at, max_u64(e->holdoff_until, e->backoff_until));
    if (e->cls == ELECTION_CLASS_OURS && claiming(e, now)) return max_u64(t, e->next_renew);
    if (e->peer_unsafe) return ELECTION_TIME_NONE; /* see check_peer_lease_duration */
    return max_u64(t, takeover_at(e));
}

/* Issues the one request due now, if any. */
static void send_due(Election *e, ElectionActions *out, const ElectionNow *now)
{
    uint64_t n = now->boot_usec;

    if (e->exited) return;
    /* The bound on SHUTDOWN/RESIGN holds even with a request outstanding (it is abandoned). */
    if ((e->stopping || e->resigning) && n >= e->exit_deadline) {
        finish_release(e, out, n, "gave up");
        return;
    }
    if (e->inflight_id != 0) return;

    if (e->stopping || e->resigning) {
        if (n < e->retry_at) return;
        if (e->need_get || e->cls == ELECTION_CLASS_UNKNOWN)
            send_get(e, out, n, e->exit_deadline - n);
        else if (e->cls == ELECTION_CLASS_OURS)
            send_release(e, out, now);
        else
            finish_release(e, out, n, e->released ? "lease released" : "lease not held by us");
        return;
    }

    if (n < next_send(e, n)) return;
    if (e->need_get || e->cls == ELECTION_CLASS_UNKNOWN) {
        send_get(e, out, n, e->config.renew_deadline_usec);
        return;
    }
    send_claim(e, out, now, e->cls == ELECTION_CLASS_OURS);
}

static void failed(Election *e, ElectionActions *out, const ElectionEvent *ev, uint64_t now,
                   const char *what)
{
    uint64_t r = e->config.retry_period_usec, delay;

    e->failures++;
    if (ev->result == ELECTION_RESULT_TRANSIENT || ev->result == ELECTION_RESULT_TIMEOUT)
        e->api_ok = false;
    if (e->stopping || e->resigning)
        delay = jitter(e, r / 4, r / 2); /* release: the exit bound is near */
    else if (claiming(e, now) && ev->result == ELECTION_RESULT_TIMEOUT)
        delay = jitter(e, r / 8, r / 4); /* the attempt took its whole deadline already */
    else if (claiming(e, now))
        delay = jitter(e, r / 2, r); /* renew: several tries before the deadline */
    else
        delay = jitter(e, r, r + r * 6 / 5); /* client-go's JitterUntil(R, 1.2) */
    delay = max_u64(delay, ev->retry_after_usec);
    e->retry_at = add_sat(now, delay);
    elog(out,
         ev->result == ELECTION_RESULT_FORBIDDEN || ev->result == ELECTION_RESULT_INVALID
             ? LOG_ERR
             : LOG_WARNING,
         "%s failed: %s; retrying in %" PRIu64 " ms", what, election_result_to_string(ev->result),
         delay / USEC_PER_MSEC);
}

static void on_get_result(Election *e, ElectionActions *out, const ElectionEvent *ev, uint64_t now,
                          bool *renewed)
{
    bool after_conflict = e->conflict_read;

    e->inflight_id = 0;
    switch (ev->result) {
    case ELECTION_RESULT_OK:
        e->api_ok = true;
        e->failures = 0;
        e->need_get = false;
        e->conflict_read = false;
        /* A read newer than what we saw explains the conflict (a race lost to another writer):
         * no streak. Only conflicts whose reads show nothing newer count towards the back-off. */
        if (after_conflict && (ev->record.revision == 0 || ev->record.revision > e->cur_revision))
            e->conflicts = 0;
        if (after_conflict && ev->record.revision != 0 && ev->record.revision < e->cur_revision) {
            /* Our write was refused for a stale resourceVersion, yet the read says the store is
             * older than what we saw: it went backwards (etcd restored from a backup). The
             * read is the truth now; taken as new content, so the observedTime rule starts over
             * (a holder of the restored record is waited out). */
            elog(out, LOG_WARNING,
                 "resourceVersion went backwards (%" PRIu64 " after %" PRIu64
                 "): the API server's storage was restored or reset? taking the read as the "
                 "current state",
                 ev->record.revision, e->cur_revision);
            e->cur_revision = 0;
            e->cls = ELECTION_CLASS_UNKNOWN;
        }
        observe(e, out, &ev->record, now, renewed);
        break;
    case ELECTION_RESULT_NOT_FOUND:
        e->api_ok = true;
        e->failures = 0;
        e->need_get = false;
        observe_absent(e, out, 0, now);
        break;
    default:
        e->need_get = true;
        failed(e, out, ev, now, "get lease");
        break;
    }
}

static void on_write_result(Election *e, ElectionActions *out, const ElectionEvent *ev,
                            uint64_t now, bool *renewed)
{
    ElectionWriteKind kind = e->inflight_kind;
    const char *what = kind == ELECTION_WRITE_RELEASE ? "release lease"
                       : kind == ELECTION_WRITE_RENEW ? "renew lease"
                                                      : "acquire lease";

    e->inflight_id = 0;
    switch (ev->result) {
    case ELECTION_RESULT_OK:
        e->api_ok = true;
        e->failures = 0;
        e->conflicts = 0;
        if (kind == ELECTION_WRITE_RELEASE) e->released = true;
        {
            /* Only the newest state we know may confer a claim (an older answer after a newer
             * watch event of another holder must not re-promote us). */
            bool newest = ev->record.revision == 0 || ev->record.revision >= e->cur_revision;
            ElectionSent *s = sent_find(e, ev->record.renew_time_usec);

            if (s && ev->created) s->create = true;
            observe(e, out, &ev->record, now, renewed);
            if (s && newest && e->cls == ELECTION_CLASS_OURS &&
                e->cur.renew_time_usec == ev->record.renew_time_usec)
                claim(e, out, s, now, renewed);
        }
        break;
    case ELECTION_RESULT_CONFLICT:
    case ELECTION_RESULT_NOT_FOUND:
    case ELECTION_RESULT_ALREADY_EXISTS:
        /* Someone else wrote (or deleted) the Lease: whatever we believed is stale. */
        sent_forget(e, e->inflight_renew);
        e->api_ok = true;
        e->failures = 0;
        demote(e, out, ev->result == ELECTION_RESULT_NOT_FOUND ? "lease deleted" : "conflict",
               NULL);
        e->need_get = true;
        e->conflict_read = ev->result == ELECTION_RESULT_CONFLICT;
        e->retry_at = 0;
        /* The first conflict reads at once (a lost race: the winner is news). Conflicts in a row
         * without a write succeeding (a store that went backwards, something rewriting the
         * object) back off as failures do, never in a tight loop. */
        if (ev->result == ELECTION_RESULT_CONFLICT && ++e->conflicts > 1) {
            uint64_t delay =
                jitter(e, e->config.retry_period_usec / 2, e->config.retry_period_usec);
            e->retry_at = add_sat(now, delay);
            if (e->conflicts == 2 || e->conflicts % 16 == 0)
                elog(out, LOG_WARNING, "%u conflicts in a row: reading again in %" PRIu64 " ms",
                     e->conflicts, delay / USEC_PER_MSEC);
        }
        break;
    default:
        if (ev->result == ELECTION_RESULT_FORBIDDEN || ev->result == ELECTION_RESULT_INVALID)
            sent_forget(e, e->inflight_renew);
        /* The write may have committed all the same (TIMEOUT): without a claim to keep, read
         * before writing again; a leader retries the renew (a 409 then refreshes it). */
        if (!claiming(e, now) && kind != ELECTION_WRITE_RELEASE) e->need_get = true;
        failed(e, out, ev, now, what);
        break;
    }
}

/* ---- the step ---------------------------------------------------------------------------------
 */

int election_init(Election *e, const ElectionConfig *c)
{
    if (!e || election_config_validate(c)) return -EINVAL;
    memset(e, 0, sizeof(*e));
    e->config = *c;
    if (e->config.resign_holdoff_usec == 0)
        e->config.resign_holdoff_usec = e->config.lease_duration_usec;
    if (e->config.release_timeout_usec == 0)
        e->config.release_timeout_usec = e->config.renew_deadline_usec;
    e->rng = c->seed;
    e->cls = ELECTION_CLASS_UNKNOWN;
    e->max_seen_transitions = -1;
    e->held_transitions = -1;
    e->term = -1;
    e->next_id = 1;
    e->api_ok = true;
    e->watch_up = true;
    e->timer_armed = ELECTION_TIME_NONE;
    e->unhealthy = c->start_unhealthy;
    return 0;
}

void election_view(const Election *e, uint64_t now, ElectionView *ret)
{
    ElectionView v = {.term = -1};
    uint64_t t;

    v.is_leader = election_is_leader(e, now);
    v.duplicate_identity = now < e->backoff_until;
    v.unhealthy = e->unhealthy;
    if (v.is_leader) {
        copy_identity(v.leader, e->config.identity);
        v.term = e->term;
        v.since_usec = e->acquire_wall;
        v.valid_ms = (e->claim_deadline - now) / USEC_PER_MSEC;
    } else if (e->cls == ELECTION_CLASS_OTHER && (t = takeover_at(e)) > now) {
        copy_identity(v.leader, e->cur.holder);
        v.term = e->cur.lease_transitions;
        v.since_usec = e->cur.acquire_time_usec;
        v.valid_ms = (t - now) / USEC_PER_MSEC;
    }

    if (e->stopping || e->resigning || e->exited)
        v.state = ELECTION_STATE_RELEASING;
    else if (v.is_leader)
        v.state = ELECTION_STATE_LEADING;
    else if (!e->api_ok || !e->watch_up)
        v.state = ELECTION_STATE_API_UNREACHABLE;
    else if (!e->started || e->cls == ELECTION_CLASS_UNKNOWN)
        v.state = ELECTION_STATE_STARTING;
    else
        v.state = ELECTION_STATE_FOLLOWING;
    *ret = v;
}

static bool view_differs(const ElectionView *a, const ElectionView *b)
{
    return a->state != b->state || a->is_leader != b->is_leader || a->term != b->term ||
           a->duplicate_identity != b->duplicate_identity || a->unhealthy != b->unhealthy ||
           strcmp(a->leader, b->leader) != 0;
}

/* SHUTDOWN and RESIGN. */
static void on_stop(Election *e, ElectionActions *out, ElectionEventType type, uint64_t n)
{
    bool resign = type == ELECTION_EVENT_RESIGN;

    if (!e->started) {
        elog(out, LOG_INFO, "shutdown before start; exiting");
        emit(out, ELECTION_ACTION_EXIT);
        e->exited = true;
        return;
    }
    if (e->stopping || (resign && e->resigning)) {
        /* An explicit RESIGN during the health's release adds its hold-off. */
        if (resign) e->health_release = false;
        return;
    }
    if (resign && !e->leading_reported && e->cls != ELECTION_CLASS_OURS &&
        (e->inflight_id == 0 || e->inflight_type == ELECTION_ACTION_GET)) {
        /* Nothing of ours to release: just stay out of the race for the hold-off. */
        e->holdoff_until = add_sat(n, e->config.resign_holdoff_usec);
        elog(out, LOG_INFO, "resign: not leading; following for %" PRIu64 " ms",
             e->config.resign_holdoff_usec / USEC_PER_MSEC);
        return;
    }
    begin_release(e, out, n, !resign, resign ? "resigning" : "shutting down");
}

/* HEALTH: the application's health flipped. */
static void on_health(Election *e, ElectionActions *out, bool healthy, uint64_t n)
{
    if (healthy == !e->unhealthy) return; /* no change */
    e->unhealthy = !healthy;
    if (healthy) {
        elog(out, LOG_INFO, "application healthy: competing");
        e->retry_at = 0;
        return;
    }
    if (e->stopping || e->resigning) {
        elog(out, LOG_WARNING, "application unhealthy: already releasing");
        return;
    }
    if (!e->leading_reported && e->cls != ELECTION_CLASS_OURS &&
        (e->inflight_id == 0 || e->inflight_type == ELECTION_ACTION_GET)) {
        elog(out, LOG_WARNING, "application unhealthy: not competing");
        return;
    }
    /* A leader (or a write of ours that may have made us one): release as RESIGN does. */
    elog(out, LOG_WARNING, "application unhealthy: releasing the lease");
    e->health_release = true;
    begin_release(e, out, n, false, "application unhealthy");
}

/* Publishes the view if it changed (or a renew succeeded), before the first request or EXIT of
 * this step: on SHUTDOWN/RESIGN the "not leader" must reach clients before the release is sent. */
static void publish(Election *e, ElectionActions *out, uint64_t n, bool renewed)
{
    ElectionAction *p;
    ElectionView v;
    size_t i;

    election_view(e, n, &v);
    if (e->pub_valid && !renewed && !view_differs(&v, &e->pub)) return;
    e->pub = v;
    e->pub_valid = true;
    p = emit(out, ELECTION_ACTION_PUBLISH);
    if (!p || out->n <= 1) return;
    for (i = 0; i + 1 < out->n; i++)
        if (out->a[i].type == ELECTION_ACTION_GET || out->a[i].type == ELECTION_ACTION_CREATE ||
            out->a[i].type == ELECTION_ACTION_UPDATE || out->a[i].type == ELECTION_ACTION_EXIT)
            break;
    if (i + 1 < out->n) {
        ElectionAction tmp = out->a[out->n - 1];
        memmove(&out->a[i + 1], &out->a[i], (out->n - 1 - i) * sizeof(out->a[0]));
        out->a[i] = tmp;
    }
}

/* One timer, at the earliest instant something can change. */
static void arm_timer(Election *e, ElectionActions *out, uint64_t n)
{
    uint64_t t = ELECTION_TIME_NONE;
    ElectionAction *a;

    if (!e->exited) {
        if (e->inflight_id != 0)
            t = min_u64(t, e->inflight_expire);
        else
            t = min_u64(t, next_send(e, n));
        if (e->claim_deadline > n) t = min_u64(t, e->claim_deadline);
        if (e->claim_gate > n && e->claim_deadline > e->claim_gate) t = min_u64(t, e->claim_gate);
        if (e->stopping || e->resigning) t = min_u64(t, e->exit_deadline);
        if (e->cls == ELECTION_CLASS_OTHER && takeover_at(e) > n)
            t = min_u64(t, takeover_at(e)); /* the view's leader lapses */
        if (e->backoff_until > n) t = min_u64(t, e->backoff_until);
        if (e->holdoff_until > n) t = min_u64(t, e->holdoff_until);
    }
    if (t != ELECTION_TIME_NONE && t < n)
        t = n; /* never in the past; send() acts on anything due, so this cannot spin */
    if (t == e->timer_armed) return;
    a = emit(out, ELECTION_ACTION_ARM_TIMER);
    if (a) {
        a->at = t;
        e->timer_armed = t;
    }
}

int election_step(Election *e, const ElectionEvent *ev, const ElectionNow *now,
                  ElectionActions *ret)
{
    ElectionActions out = {0};
    uint64_t n;
    bool renewed = false;

    if (!e || !ev || !now || !ret) return -EINVAL;
    if ((unsigned)ev->type >= _ELECTION_EVENT_MAX) return -EINVAL;
    if (ev->type == ELECTION_EVENT_START && e->started) return -EINVAL;
    if (!e->started && ev->type != ELECTION_EVENT_START && ev->type != ELECTION_EVENT_SHUTDOWN)
        return -EINVAL;
    ret->n = 0;
    if (e->exited) return 0;
    n = now->boot_usec;

    report(e, &out, n, &renewed);

    switch (ev->type) {
    case ELECTION_EVENT_START:
        e->started = true;
        e->need_get = true;
        break;
    case ELECTION_EVENT_GET_RESULT:
        if (ev->request_id != 0 && ev->request_id == e->inflight_id &&
            e->inflight_type == ELECTION_ACTION_GET)
            on_get_result(e, &out, ev, n, &renewed);
        break;
    case ELECTION_EVENT_WRITE_RESULT:
        if (ev->request_id != 0 && ev->request_id == e->inflight_id &&
            e->inflight_type != ELECTION_ACTION_GET)
            on_write_result(e, &out, ev, n, &renewed);
        break;
    case ELECTION_EVENT_WATCH_EVENT:
        if (ev->deleted)
            observe_absent(e, &out, ev->record.revision, n);
        else
            observe(e, &out, &ev->record, n, &renewed);
        break;
    case ELECTION_EVENT_WATCH_STATE:
        if (e->watch_up != ev->watch_up)
            elog(&out, ev->watch_up ? LOG_INFO : LOG_WARNING, "lease watch %s",
                 ev->watch_up ? "established" : "broken: API unreachable");
        e->watch_up = ev->watch_up;
        break;
    case ELECTION_EVENT_TIMER:
        e->timer_armed = ELECTION_TIME_NONE; /* one-shot: consumed */
        break;
    case ELECTION_EVENT_SHUTDOWN:
    case ELECTION_EVENT_RESIGN:
        on_stop(e, &out, ev->type, n);
        break;
    case ELECTION_EVENT_HEALTH:
        on_health(e, &out, ev->healthy, n);
        break;
    default:
        return -EINVAL;
    }

    /* The engine's own guard: an answer that never came is a timeout. */
    if (e->inflight_id != 0 && n >= e->inflight_expire && !e->exited) {
        ElectionEvent to = {
            .type = e->inflight_type == ELECTION_ACTION_GET ? ELECTION_EVENT_GET_RESULT
                                                            : ELECTION_EVENT_WRITE_RESULT,
            .request_id = e->inflight_id,
            .result = ELECTION_RESULT_TIMEOUT,
        };
        if (to.type == ELECTION_EVENT_GET_RESULT)
            on_get_result(e, &out, &to, n, &renewed);
        else
            on_write_result(e, &out, &to, n, &renewed);
    }

    report(e, &out, n, &renewed);
    send_due(e, &out, now);
    report(e, &out, n, &renewed);
    publish(e, &out, n, renewed); /* before the timer: the order of actions reads naturally */
    arm_timer(e, &out, n);

    *ret = out;
    return 0;
}
