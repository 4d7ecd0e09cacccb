/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The election engine: a pure state machine, (state, event, now) -> (state, actions).
 *
 * No I/O, no clock reads, no allocation, no libsystemd or libcurl: the glue (daemon main loop)
 * feeds it events together with the current time and carries out the actions it returns, in order.
 * All the safety rules of docs/design.md ("Why two pods are never leader at once") live here, which
 * is why it is tested exhaustively with a fake clock.
 *
 * Two clocks come with every event (ElectionNow):
 *  - boot_usec: CLOCK_BOOTTIME in µs. Every deadline, every observation time, every timer. It keeps
 *    running while the process is stopped or the machine suspended, so a paused leader wakes up
 * with its claim already lapsed.
 *  - wall_usec: CLOCK_REALTIME in µs since the epoch. Only ever *written* (acquireTime/renewTime,
 * as client-go does); never compared with a time another process wrote.
 *
 * The Lease fields mean exactly what client-go's LeaseLock means (LeaderElectionRecord):
 *  - acquire (no holder, or expired by *our observed time*): holderIdentity = us,
 *    leaseDurationSeconds = ceil(L), acquireTime = renewTime = now, leaseTransitions = term where
 *    term = highest leaseTransitions ever seen + 1 (0 on a fresh cluster where no Lease was ever
 * seen, as client-go's create). A Lease that is deleted and re-created therefore never reuses a
 * term.
 *  - renew: the same record with only renewTime = now.
 *  - release (client-go ReleaseOnCancel): holderIdentity = "", leaseDurationSeconds = 1,
 *    acquireTime = renewTime = now, leaseTransitions unchanged.
 * A follower takes over a Lease with an empty holder at once, and one held by another when nothing
 * newer was observed for max(L, record's leaseDurationSeconds) on its own CLOCK_BOOTTIME since it
 * first observed the current record (client-go's observedTime rule).
 *
 * Safety: the engine claims leadership only while now < t_send + D, where t_send is the boot time
 * at which it *sent* its latest write whose answer said it committed (200, or 201 as below).
 * election_is_leader() computes that at the moment of the call. A 409, a 404, a Lease
 * observed held by another, released, deleted or edited by hand end the claim at once.
 *
 * Creation: a Lease that this process *created* (POST, or a PUT answered 201) is claimed only once
 * L has passed since the creation was confirmed. A create cannot tell a fresh cluster from a Lease
 * deleted by hand a moment ago under a live leader whose watch has not told it yet (nor from a
 * create/delete in between: ABA); that leader stops claiming within D of its last renew, before L
 * on our clock. So the first election of a fresh cluster, and recovery from a deletion, take L.
 * Only a write's *answer* confers a claim (the answer alone tells 200 from 201); a record of ours
 * seen on the watch or in a GET is recognised as ours (never a duplicate) and simply renewed.
 *
 * The application's health (HEALTH events, only when the glue checks it: config.start_unhealthy):
 * an unhealthy pod never acquires, adopts or renews; a leader that becomes unhealthy stops claiming
 * and releases exactly as RESIGN does, but without the hold-off (it stays out while unhealthy and
 * competes again as soon as a HEALTH event says healthy). A pod whose health is not known yet is
 * unhealthy, so an application that is not up cannot lead. Without health checks nothing changes.
 *
 * Driving it (the glue, on one sd-event loop):
 *  - election_config_init() + flags, election_config_validate() (exit 64 with its message),
 *    election_init(); then START once the API client and the watch are set up.
 *  - After every election_step(), carry out ret->a[0..n) in order:
 *      GET/CREATE/UPDATE: start the request now; abort it after timeout_usec and answer TIMEOUT.
 *        UPDATE: PUT the Lease object last returned by the server (keep its labels, annotations,
 *        unknown spec fields) with the spec fields replaced from `record` and
 *        metadata.resourceVersion = the one whose integer value is base_revision.
 *        Answer with GET_RESULT / WRITE_RESULT carrying request_id, the result class and, for
 *        OK, the Lease as the server returned it (revision = its resourceVersion); set `created`
 *        for a 201. Answers to ids the engine no longer waits for are ignored: always send them.
 *      ARM_TIMER: one CLOCK_BOOTTIME timer, one-shot, replaced by each ARM_TIMER (at =
 *        ELECTION_TIME_NONE: disarm). When it fires: a TIMER event.
 *      PUBLISH: push a WATCH message to subscribers, built from election_view() at that moment.
 *      LOG: log the message at that level. EXIT: leave the loop (after the socket's cleanup).
 *  - Watch: WATCH_STATE up/down as the watch connects/breaks; every ADDED/MODIFIED (and the
 *    Lease found when a watch is restarted from a fresh GET) as WATCH_EVENT; DELETED as
 *    WATCH_EVENT with deleted=true (record.revision = its resourceVersion). BOOKMARKs: nothing.
 *  - SIGTERM/SIGINT: SHUTDOWN. Socket RESIGN (authorised peer): RESIGN.
 *  - Health checks (if any): start_unhealthy in the config; HEALTH{healthy} on every flip.
 *  - STATUS replies: election_view(e, now_boot) at the moment of the reply (is_leader is
 *    computed then). Never cache it.
 *  - MicroTime must round-trip at microsecond precision (at time_precision_usec for a lock that
 *    stores whole seconds): renewTime identifies our own writes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time_units.h"

#define ELECTION_IDENTITY_MAX 253 /* a DNS subdomain name, like a pod name */
#define ELECTION_LOG_MAX 400      /* one log line, NUL included */
#define ELECTION_ACTIONS_MAX 12   /* one step never emits more */
#define ELECTION_SENT_MAX 64      /* renewTimes remembered to tell our writes from a duplicate's */
#define ELECTION_TIME_NONE UINT64_MAX

/* Defaults of kube-controller-manager. */
#define ELECTION_DEFAULT_LEASE_DURATION_USEC (15 * USEC_PER_SEC)
#define ELECTION_DEFAULT_RENEW_DEADLINE_USEC (10 * USEC_PER_SEC)
#define ELECTION_DEFAULT_RETRY_PERIOD_USEC (2 * USEC_PER_SEC)

typedef struct ElectionConfig {
    char identity[ELECTION_IDENTITY_MAX + 1];
    uint64_t lease_duration_usec;  /* L */
    uint64_t renew_deadline_usec;  /* D */
    uint64_t retry_period_usec;    /* R */
    uint64_t resign_holdoff_usec;  /* after RESIGN, no acquisition for this long; 0 = L */
    uint64_t release_timeout_usec; /* SHUTDOWN: EXIT at the latest this long after; 0 = D */
    uint64_t seed;                 /* jitter PRNG seed (the glue passes getrandom() bits) */
    /* The glue checks the application's health: not competing until a HEALTH event says healthy.
     * false (no health check): the engine is healthy from the start and HEALTH never comes. */
    bool start_unhealthy;
    /* Resolution of the times the lock stores (0 or 1: µs, a Lease's MicroTime; 1000000: the
     * Endpoints annotation's metav1.Time, whole seconds). Every time written is truncated to it
     * and every renewTime written is at least one unit above the previous one: the renewTime
     * read back must still identify our write (duplicate detection), and each renew must change
     * the record, else followers (client-go, the old sidecar: DeepEqual/bytes of the record)
     * would not see it as a renew. At most 1 s. */
    uint64_t time_precision_usec;
    /* Refuse to compete while the lock was last held by another identity whose record says
     * leaseDurationSeconds <= our renew deadline: that candidate, as a follower, would wait out
     * less than we may keep claiming (the Endpoints modes share the lock with old sidecars whose
     * timings differ). Logged as an error; competing resumes once a record of another holder
     * with a safe duration is observed. */
    bool check_peer_lease_duration;
} ElectionConfig;

/* Fills in the kube-controller-manager defaults and the identity (truncated copy refused: returns
 * -ENAMETOOLONG, or -EINVAL for an empty identity). */
int election_config_init(ElectionConfig *c, const char *identity);

/* Validates as client-go's NewLeaderElector: all durations > 0, 1.2*R < D < L; identity non-empty,
 * printable, at most 253 bytes; L at most INT32_MAX seconds. Returns NULL when valid, else a static
 * English message naming the rule ("renew deadline must be greater than 1.2 x retry period"). */
const char *election_config_validate(const ElectionConfig *c);

/* The Lease spec as the engine sees it. The glue converts from/to the API client's Lease. */
typedef struct ElectionRecord {
    char holder[ELECTION_IDENTITY_MAX + 1]; /* "" = nobody (released, or field absent) */
    int32_t lease_duration_seconds;         /* 0 when absent */
    int64_t acquire_time_usec;              /* wall µs since the epoch; 0 when absent */
    int64_t renew_time_usec;                /* wall µs since the epoch; 0 when absent */
    int32_t lease_transitions;              /* 0 when absent */
    /* metadata.resourceVersion as an integer (etcd revisions and the test server's are integers):
     * orders observations, so a stale watch event never overrides a newer write result. 0 = unknown
     * (then the record is accepted as the newest). For a CREATE/UPDATE action: unused. */
    uint64_t revision;
    /* Opaque digest of other state the lock reads with the record (the MultiLock's Lease):
     * a change of it is a change of the record for the observedTime rule, as client-go compares
     * the concatenated raw records. 0 for a single object. Not written. */
    uint64_t aux;
} ElectionRecord;

typedef struct ElectionNow {
    uint64_t boot_usec; /* CLOCK_BOOTTIME */
    int64_t wall_usec;  /* CLOCK_REALTIME, only written into the Lease */
} ElectionNow;

typedef enum ElectionEventType {
    ELECTION_EVENT_START,        /* once, first */
    ELECTION_EVENT_GET_RESULT,   /* request_id, result (OK+record, NOT_FOUND, or an error class) */
    ELECTION_EVENT_WRITE_RESULT, /* request_id, result (OK+record as the server returned it, ...) */
    ELECTION_EVENT_WATCH_EVENT,  /* record observed (ADDED/MODIFIED, or a relist), or deleted */
    ELECTION_EVENT_WATCH_STATE,  /* watch_up: established / broken (the API is unreachable) */
    ELECTION_EVENT_TIMER,        /* the timer of the last ARM_TIMER fired (early or late is fine) */
    ELECTION_EVENT_SHUTDOWN,     /* SIGTERM/SIGINT: stop claiming, release, EXIT (bounded) */
    ELECTION_EVENT_RESIGN,       /* stop claiming, release, then follower for the hold-off */
    ELECTION_EVENT_HEALTH,       /* healthy: the application's health changed (see above) */
    _ELECTION_EVENT_MAX,
} ElectionEventType;

typedef enum ElectionResult {
    ELECTION_RESULT_OK,             /* 200/201 with the Lease as the server stored it */
    ELECTION_RESULT_NOT_FOUND,      /* 404 */
    ELECTION_RESULT_CONFLICT,       /* 409 Conflict: stale resourceVersion */
    ELECTION_RESULT_ALREADY_EXISTS, /* 409 AlreadyExists on create */
    ELECTION_RESULT_TRANSIENT,      /* 5xx, 429 (retry_after_usec), 401, transport error */
    ELECTION_RESULT_TIMEOUT,        /* no answer within the action's timeout: outcome unknown */
    ELECTION_RESULT_FORBIDDEN,      /* 403: RBAC; retried slowly */
    ELECTION_RESULT_INVALID,        /* 400/422: the server refused what we wrote; retried slowly */
    _ELECTION_RESULT_MAX,
} ElectionResult;

typedef struct ElectionEvent {
    ElectionEventType type;
    uint64_t request_id;       /* GET_RESULT, WRITE_RESULT: the id of the action answered */
    ElectionResult result;     /* GET_RESULT, WRITE_RESULT */
    uint64_t retry_after_usec; /* TRANSIENT: a 429's Retry-After (0 = none); never past deadlines */
    bool created;              /* WRITE_RESULT OK: the server answered 201 Created (a POST, or a
                                * PUT that re-created a deleted Lease) */
    bool deleted;          /* WATCH_EVENT: DELETED (record.revision = the deletion's, if known) */
    bool watch_up;         /* WATCH_STATE */
    bool healthy;          /* HEALTH */
    ElectionRecord record; /* GET_RESULT OK, WRITE_RESULT OK, WATCH_EVENT */
} ElectionEvent;

typedef enum ElectionActionType {
    ELECTION_ACTION_GET,       /* request: GET the Lease */
    ELECTION_ACTION_CREATE,    /* request: POST a Lease with spec = record */
    ELECTION_ACTION_UPDATE,    /* request: PUT spec = record, resourceVersion = base_revision's */
    ELECTION_ACTION_ARM_TIMER, /* (re)arm the one timer at boot time `at` (ELECTION_TIME_NONE: off)
                                */
    ELECTION_ACTION_PUBLISH,   /* the view changed or a renew succeeded: push WATCH messages */
    ELECTION_ACTION_LOG,       /* level (syslog LOG_ERR..LOG_DEBUG), message */
    ELECTION_ACTION_EXIT,      /* shutdown complete (released, or gave up within the bound) */
    _ELECTION_ACTION_MAX,
} ElectionActionType;

typedef enum ElectionWriteKind {
    ELECTION_WRITE_ACQUIRE, /* new term */
    ELECTION_WRITE_RENEW,   /* same term */
    ELECTION_WRITE_RELEASE,
} ElectionWriteKind;

typedef struct ElectionAction {
    ElectionActionType type;
    /* GET, CREATE, UPDATE: answer with a GET_RESULT/WRITE_RESULT carrying this id. The glue must
     * give up after timeout_usec (derived from the timings: a renew never outlives the claim's
     * deadline) and answer TIMEOUT. Several requests may be outstanding after SHUTDOWN/RESIGN
     * abandons one; answers to abandoned ids are ignored. */
    uint64_t request_id;
    uint64_t timeout_usec;
    uint64_t base_revision; /* UPDATE: send the resourceVersion of this revision */
    ElectionWriteKind kind; /* CREATE, UPDATE: informative */
    ElectionRecord record;  /* CREATE, UPDATE: the spec to write */
    uint64_t at;            /* ARM_TIMER */
    int level;              /* LOG: LOG_ERR (3), LOG_WARNING (4), LOG_INFO (6), LOG_DEBUG (7) */
    char message[ELECTION_LOG_MAX];
} ElectionAction;

typedef struct ElectionActions {
    size_t n;
    ElectionAction a[ELECTION_ACTIONS_MAX];
} ElectionActions;

typedef enum ElectionState {
    ELECTION_STATE_STARTING, /* nothing known yet about the Lease */
    ELECTION_STATE_FOLLOWING,
    ELECTION_STATE_LEADING,         /* == election_is_leader() at that instant */
    ELECTION_STATE_RELEASING,       /* SHUTDOWN/RESIGN in progress: not claiming */
    ELECTION_STATE_API_UNREACHABLE, /* not leading, and the watch is down or requests fail */
    _ELECTION_STATE_MAX,
} ElectionState;

const char *election_state_to_string(ElectionState s); /* "starting", "api-unreachable", ... */

typedef struct ElectionView {
    ElectionState state;
    bool is_leader;
    /* The leader as this process knows it: us when is_leader; otherwise the holder, unless its
     * lease expired by our observed time, or it carries our identity without being our claim
     * (start-up adoption pending, duplicate): then "". */
    char leader[ELECTION_IDENTITY_MAX + 1];
    int64_t term;       /* leaseTransitions at the leader's acquisition; -1 when unknown */
    int64_t since_usec; /* wall µs: our acquireTime when leading, else the record's (0 unknown) */
    uint64_t valid_ms;  /* leader: until the claim deadline; follower: until the holder's expiry */
    bool duplicate_identity; /* a duplicate was detected and we are backing off */
    bool unhealthy; /* the application is not healthy (or not known to be yet): not competing */
} ElectionView;

typedef struct ElectionSent {
    int64_t renew_time_usec;
    int64_t acquire_time_usec;
    int32_t lease_transitions;
    uint64_t send_boot_usec;
    uint64_t epoch;
    bool claim;              /* an acquire or renew (not a release) */
    bool create;             /* it created the Lease (CREATE, or a PUT answered 201) */
    uint64_t confirmed_boot; /* when we first learnt it committed (0: not yet) */
} ElectionSent;

typedef enum ElectionRecordClass {
    ELECTION_CLASS_UNKNOWN,   /* no GET answer or watch event yet */
    ELECTION_CLASS_ABSENT,    /* no Lease */
    ELECTION_CLASS_FREE,      /* holder "" */
    ELECTION_CLASS_OTHER,     /* held by another identity */
    ELECTION_CLASS_OURS,      /* a record this process wrote */
    ELECTION_CLASS_EDITED,    /* our identity and a renewTime we wrote, other fields changed */
    ELECTION_CLASS_ADOPT,     /* our identity at start-up, before our first write */
    ELECTION_CLASS_DUPLICATE, /* our identity, a renewTime this process never sent */
} ElectionRecordClass;

/* The whole state; treat as opaque (public for stack/static allocation and for tests). */
typedef struct Election {
    ElectionConfig config;
    uint64_t rng;
    bool started, stopping, exited, resigning, released;
    bool unhealthy;      /* HEALTH: not competing */
    bool health_release; /* the release in progress is the health's: no hold-off after it */
    uint64_t
        epoch; /* bumped when claiming stops for good (release): old writes never claim again */

    /* the Lease as last observed (newest revision) */
    ElectionRecordClass cls;
    ElectionRecord cur;
    uint64_t cur_revision;
    uint64_t observed_boot;                        /* when the current content was first observed */
    char absent_holder[ELECTION_IDENTITY_MAX + 1]; /* ABSENT after a deletion: last holder */
    uint64_t absent_takeover;     /* ABSENT: when we may create it (the deleted holder's expiry) */
    int64_t max_seen_transitions; /* -1: no Lease ever seen */
    bool seen_any;
    int64_t adopt_renew_time;
    /* FREE: when we may take it (0: at once, a release marker of the holder last observed; else
     * the cleared holder's lease waited out, as for a deletion) */
    uint64_t free_takeover;
    int64_t held_transitions; /* leaseTransitions of the last held record observed; -1: none */

    /* our claim */
    uint64_t claim_deadline; /* is_leader <=> claim_gate <= now < claim_deadline */
    uint64_t claim_gate;     /* after creating the Lease: not before L has passed */
    bool leading_reported;   /* for "became leader"/"stopped leading" logs */
    int64_t term, acquire_wall;
    uint64_t next_renew;
    int64_t last_wall_written;
    ElectionSent sent[ELECTION_SENT_MAX];
    size_t n_sent, sent_next;

    /* requests */
    uint64_t next_id;
    uint64_t inflight_id; /* 0: none */
    ElectionActionType inflight_type;
    ElectionWriteKind inflight_kind;
    uint64_t inflight_send, inflight_expire;
    int64_t inflight_renew; /* the renewTime of the write in flight */
    bool need_get;
    uint64_t retry_at;
    unsigned failures;  /* consecutive failed requests */
    unsigned conflicts; /* consecutive conflicts without a successful write in between */
    bool conflict_read; /* the read in flight or due follows a conflict: it is the truth, even
                         * at a lower resourceVersion than one seen (a restored store) */
    bool api_ok, watch_up;

    uint64_t holdoff_until, backoff_until, exit_deadline;
    uint64_t timer_armed;
    bool peer_unsafe; /* check_peer_lease_duration: the last other holder's lease <= our D */

    /* last published view, to publish only on change */
    bool pub_valid;
    ElectionView pub;
} Election;

/* Initializes e from a configuration (copied). Returns -EINVAL if the configuration is invalid
 * (see election_config_validate()). Nothing to free. */
int election_init(Election *e, const ElectionConfig *c);

/* Feeds one event at time now; the actions to carry out, in order, are written to ret (ret->n of
 * them; never more than ELECTION_ACTIONS_MAX). Returns 0, or -EINVAL for an invalid event (unknown
 * type, a second START): then no action. */
int election_step(Election *e, const ElectionEvent *ev, const ElectionNow *now,
                  ElectionActions *ret);

/* Computed at the moment of the call from the claim deadline; never a cached flag. */
bool election_is_leader(const Election *e, uint64_t now_boot);

/* Our claim is running at now_boot (now before the claim deadline), including a claim still held
 * back by the creation gate, which election_is_leader() does not count yet: the renews it stands
 * on keep their cadence. */
bool election_claiming(const Election *e, uint64_t now_boot);

/* True once SHUTDOWN was received: this process stopped claiming for good (releasing, then EXIT).
 */
bool election_stopping(const Election *e);

/* The view at now_boot, for STATUS/WATCH replies and logs. */
void election_view(const Election *e, uint64_t now_boot, ElectionView *ret);

/* True once an EXIT action was emitted. */
bool election_exited(const Election *e);

const char *election_event_type_to_string(ElectionEventType t);
const char *election_result_to_string(ElectionResult r);
const char *election_action_type_to_string(ElectionActionType t);
