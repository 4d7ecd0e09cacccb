/* SPDX-License-Identifier: MIT */
/*
 * Randomized simulation: N election engines against one simulated Lease store with linearizable
 * compare-and-swap on the revision, as the API server over etcd. Each engine lives in its own
 * process with its own CLOCK_BOOTTIME running at its own rate (up to a few % off), its own wall
 * clock (seconds off), random network delays, lost requests and lost responses, 500/429 storms,
 * per-process partitions, watch outages, SIGSTOP pauses longer than the lease, SIGTERM (release)
 * and SIGKILL with restarts, RESIGN, Lease deletions, and holders cleared by hand (kubectl patch)
 * while the leader is cut off from the API.
 *
 * Checked after every simulated event: no two live engines answer election_is_leader() true at the
 * same real instant (each asked at its own boot time). Since a claim only ever starts at an event,
 * checking at every event instant covers every instant. Also checked: terms of successive leaders
 * strictly increase (in runs without deletions, see docs/design.md, "The term and fencing").
 *
 * A negative control runs the same chaos with timings outside the clock-rate bound
 * (D/L > (1-e)/(1+e)) and must find overlaps: the checker can fail.
 *
 * Usage: test_election_sim [SEEDS [FIRST_SEED]]   (ELECTION_SIM_VERBOSE=1 traces one seed)
 */

#include <math.h>

#include "election_test.h"

#define MAXN 6
#define QMAX 8192
#define MAXREQ 16

enum { Q_TIMER, Q_DELIVER, Q_SERVER, Q_TIMEOUT, Q_CHAOS };
enum { C_KILL, C_TERM, C_RESIGN, C_PAUSE, C_RESTART, C_DELETE, C_CLEAR, C_WATCH_DOWN, C_WATCH_UP };

typedef struct Req {
    uint64_t id;
    bool open;
    bool get;
} Req;

typedef struct Node {
    Election e;
    char id[32];
    bool alive;
    int inc; /* incarnation */
    double rate;
    int64_t boot_off, wall_off;
    int64_t paused_until;
    int64_t partitioned_until;
    uint64_t timer_gen;
    bool watch_up;
    int64_t watch_last;
    Req req[MAXREQ];
    bool leader_prev;
} Node;

typedef struct Q {
    int64_t t;
    uint64_t seq;
    int kind, node, inc, chaos;
    uint64_t gen;
    ElectionEvent ev;
    ElectionAction req;
} Q;

typedef struct Params {
    uint64_t L, D, R;
    double rate_err;
    int n;
    int64_t duration;
    bool deletions;
    bool calm;   /* no network faults, storms, pauses, partitions: SIGTERM/SIGKILL/RESIGN only */
    bool steady; /* calm, and no chaos at all */
} Params;

typedef struct Stats {
    uint64_t events, seeds, violations, term_violations, acquisitions, leader_us, sim_us;
    uint64_t handoffs, handoff_sum, handoff_max, failovers, failover_sum, failover_max;
    uint64_t requests, writes, exits, livelocks, max_actions, follower_requests, follower_us;
    uint64_t late_follower_requests;
} Stats;

typedef struct Sim {
    Params p;
    Node node[MAXN];
    Q q[QMAX];
    size_t nq;
    uint64_t seq, rng;
    int64_t now;
    /* the store */
    bool present;
    ElectionRecord rec;
    uint64_t rev;
    int64_t storm_until;
    /* checks */
    int last_leader, last_leader_inc;
    int64_t last_term;
    int64_t leaderless_since;
    int64_t last_check; /* real time the last leader stopped; -1 if a leader exists */
    int pending_kind;   /* 1: handoff (SIGTERM), 2: failover (SIGKILL), 0 none */
    int64_t pending_since;
    bool verbose, any_deletion, report_violations, put_creates;
    uint64_t seed;
    Stats *st;
} Sim;

static uint64_t srnd(Sim *s)
{
    uint64_t z = (s->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double frand(Sim *s)
{
    return (double)(srnd(s) >> 11) / (double)(UINT64_C(1) << 53);
}

static int64_t urange(Sim *s, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : lo + (int64_t)(srnd(s) % (uint64_t)(hi - lo));
}

static uint64_t boot_of(const Node *n, int64_t t)
{
    return (uint64_t)(n->boot_off + (int64_t)floor((double)t * n->rate));
}

/* real time at which node's boot clock reads b (the first instant at or after) */
static int64_t real_of(const Node *n, uint64_t b)
{
    double t = ceil(((double)(int64_t)b - (double)n->boot_off) / n->rate);
    int64_t r = (int64_t)t;
    while (boot_of(n, r) < b)
        r++;
    return r;
}

static void push(Sim *s, Q q)
{
    if (s->nq >= QMAX) {
        fprintf(stderr, "sim queue overflow\n");
        abort();
    }
    q.seq = s->seq++;
    s->q[s->nq++] = q;
}

static bool pop(Sim *s, Q *ret)
{
    size_t best = 0;
    if (s->nq == 0) return false;
    for (size_t i = 1; i < s->nq; i++)
        if (s->q[i].t < s->q[best].t || (s->q[i].t == s->q[best].t && s->q[i].seq < s->q[best].seq))
            best = i;
    *ret = s->q[best];
    s->q[best] = s->q[--s->nq];
    return true;
}

static void deliver(Sim *s, int i, int64_t t, ElectionEvent ev)
{
    push(s, (Q){.t = t, .kind = Q_DELIVER, .node = i, .inc = s->node[i].inc, .ev = ev});
}

static void watch_fanout(Sim *s)
{
    for (int i = 0; i < s->p.n; i++) {
        Node *n = &s->node[i];
        ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_EVENT};
        int64_t t;
        if (!n->alive || !n->watch_up) continue;
        t = s->now +
            (!s->p.calm && frand(s) < 0.05 ? urange(s, 100000, 2000000) : urange(s, 500, 50000));
        if (t < n->watch_last) t = n->watch_last; /* a watch is a FIFO stream */
        n->watch_last = t;
        if (s->present) {
            ev.record = s->rec;
        } else {
            ev.deleted = true;
            ev.record.revision = s->rev;
        }
        deliver(s, i, t, ev);
    }
}

static void node_start(Sim *s, int i)
{
    Node *n = &s->node[i];
    ElectionConfig c = t_config(n->id);
    ElectionNow now;
    ElectionActions acts;
    ElectionEvent ev = {.type = ELECTION_EVENT_START};

    c.lease_duration_usec = s->p.L;
    c.renew_deadline_usec = s->p.D;
    c.retry_period_usec = s->p.R;
    c.seed = srnd(s);
    if (election_init(&n->e, &c) < 0) abort();
    n->alive = true;
    n->paused_until = 0;
    n->partitioned_until = 0;
    n->inc++;
    n->watch_up = true;
    n->watch_last = 0;
    n->timer_gen++;
    memset(n->req, 0, sizeof(n->req));
    n->leader_prev = false;
    (void)now;
    (void)acts;
    deliver(s, i, s->now, ev);
}

static void node_kill(Sim *s, int i)
{
    s->node[i].alive = false;
    s->node[i].inc++; /* everything queued for the old process is dropped */
}

static Req *req_slot(Node *n, uint64_t id)
{
    for (int k = 0; k < MAXREQ; k++)
        if (n->req[k].open && n->req[k].id == id) return &n->req[k];
    return NULL;
}

static void carry_out(Sim *s, int i, const ElectionActions *acts)
{
    Node *n = &s->node[i];

    for (size_t k = 0; k < acts->n; k++) {
        const ElectionAction *a = &acts->a[k];
        switch (a->type) {
        case ELECTION_ACTION_ARM_TIMER:
            n->timer_gen++;
            if (a->at != ELECTION_TIME_NONE)
                push(s, (Q){.t = real_of(n, a->at),
                            .kind = Q_TIMER,
                            .node = i,
                            .inc = n->inc,
                            .gen = n->timer_gen});
            break;
        case ELECTION_ACTION_GET:
        case ELECTION_ACTION_CREATE:
        case ELECTION_ACTION_UPDATE: {
            int slot = -1;
            for (int m = 0; m < MAXREQ; m++)
                if (!n->req[m].open) {
                    slot = m;
                    break;
                }
            if (slot < 0) abort();
            n->req[slot] =
                (Req){.id = a->request_id, .open = true, .get = a->type == ELECTION_ACTION_GET};
            s->st->requests++;
            if (!election_is_leader(&n->e, boot_of(n, s->now)) &&
                n->e.claim_deadline <= boot_of(n, s->now)) {
                s->st->follower_requests++;
                if (s->now > 20 * (int64_t)SEC) s->st->late_follower_requests++;
            }
            s->st->writes += a->type != ELECTION_ACTION_GET;
            /* the glue gives up after the timeout, measured on its own clock */
            push(s, (Q){.t = s->now + (int64_t)ceil((double)a->timeout_usec / n->rate),
                        .kind = Q_TIMEOUT,
                        .node = i,
                        .inc = n->inc,
                        .req = *a});
            if (s->now < n->partitioned_until || (!s->p.calm && frand(s) < 0.02))
                break; /* lost on the way: never reaches the server */
            push(s, (Q){.t = s->now + (!s->p.calm && frand(s) < 0.03 ? urange(s, 200000, 3000000)
                                                                     : urange(s, 300, 30000)),
                        .kind = Q_SERVER,
                        .node = i,
                        .inc = n->inc,
                        .req = *a});
            break;
        }
        case ELECTION_ACTION_EXIT:
            s->st->exits++;
            node_kill(s, i);
            push(s, (Q){.t = s->now + urange(s, 200000, 4000000),
                        .kind = Q_CHAOS,
                        .chaos = C_RESTART,
                        .node = i});
            return;
        case ELECTION_ACTION_LOG:
            if (s->verbose) printf("%10.3f %s: %s\n", (double)s->now / 1e6, n->id, a->message);
            break;
        default:
            break;
        }
    }
}

static void server(Sim *s, const Q *q)
{
    const ElectionAction *a = &q->req;
    Node *n = &s->node[q->node];
    ElectionEvent ev = {.request_id = a->request_id};
    bool respond = true;

    ev.type =
        a->type == ELECTION_ACTION_GET ? ELECTION_EVENT_GET_RESULT : ELECTION_EVENT_WRITE_RESULT;
    if (s->now < s->storm_until || (!s->p.calm && frand(s) < 0.04)) {
        ev.result = ELECTION_RESULT_TRANSIENT;
        if (frand(s) < 0.5) ev.retry_after_usec = (uint64_t)urange(s, 0, 3000000);
    } else if (a->type == ELECTION_ACTION_GET) {
        ev.result = s->present ? ELECTION_RESULT_OK : ELECTION_RESULT_NOT_FOUND;
        ev.record = s->rec;
    } else if (a->type == ELECTION_ACTION_CREATE) {
        if (s->present) {
            ev.result = ELECTION_RESULT_ALREADY_EXISTS;
        } else {
            s->present = true;
            s->rec = a->record;
            s->rec.revision = ++s->rev;
            ev.result = ELECTION_RESULT_OK;
            ev.record = s->rec;
            watch_fanout(s);
        }
    } else {
        if (!s->present && s->put_creates) {
            /* as the API server (and the test server): a PUT of a missing Lease creates it */
            s->present = true;
            s->rec = a->record;
            s->rec.revision = ++s->rev;
            ev.result = ELECTION_RESULT_OK;
            ev.created = true;
            ev.record = s->rec;
            watch_fanout(s);
        } else if (!s->present) {
            ev.result = ELECTION_RESULT_NOT_FOUND;
        } else if (a->base_revision != s->rec.revision) {
            ev.result = ELECTION_RESULT_CONFLICT;
        } else {
            s->rec = a->record;
            s->rec.revision = ++s->rev;
            ev.result = ELECTION_RESULT_OK;
            ev.record = s->rec;
            watch_fanout(s);
        }
    }
    if (s->verbose)
        printf("%10.6f server: %s from %s base=%" PRIu64 " -> %s (store rev %" PRIu64
               " holder '%s' trans %d present %d)\n",
               (double)s->now / 1e6, election_action_type_to_string(a->type), n->id,
               a->base_revision, election_result_to_string(ev.result), s->rev, s->rec.holder,
               s->rec.lease_transitions, s->present);
    if ((!s->p.calm && frand(s) < 0.02) || s->now < n->partitioned_until)
        respond = false; /* the answer is lost: the client times out, outcome unknown */
    if (respond && q->inc == n->inc && n->alive)
        push(s, (Q){.t = s->now + urange(s, 300, 30000),
                    .kind = Q_DELIVER,
                    .node = q->node,
                    .inc = q->inc,
                    .ev = ev});
}

static void check(Sim *s)
{
    int leaders = 0, who = -1, alive = 0;

    for (int i = 0; i < s->p.n; i++) {
        Node *n = &s->node[i];
        bool l = n->alive && election_is_leader(&n->e, boot_of(n, s->now));
        alive += n->alive;
        if (l) {
            leaders++;
            who = i;
            if (!n->leader_prev) {
                ElectionView v;
                election_view(&n->e, boot_of(n, s->now), &v);
                s->st->acquisitions++;
                if (!s->any_deletion && s->last_leader >= 0) {
                    bool same = s->last_leader == i && s->last_leader_inc == n->inc;
                    if (same ? v.term < s->last_term : v.term <= s->last_term) {
                        s->st->term_violations++;
                        if (s->verbose || s->st->term_violations < 5)
                            printf("TERM VIOLATION seed-rng %" PRIu64 " t=%.3f %s term %" PRId64
                                   " after %" PRId64 "\n",
                                   s->rng, (double)s->now / 1e6, n->id, v.term, s->last_term);
                    }
                }
                s->last_leader = i;
                s->last_leader_inc = n->inc;
                s->last_term = v.term;
            }
        }
        n->leader_prev = l;
    }
    s->st->follower_us += (uint64_t)(s->now - s->last_check) * (uint64_t)(alive - leaders);
    s->last_check = s->now;
    if (leaders > 1) {
        s->st->violations++;
        if (s->verbose || s->report_violations)
            printf("VIOLATION seed %" PRIu64 " at t=%.6f: %d leaders\n", s->seed,
                   (double)s->now / 1e6, leaders);
    }
    if (leaders >= 1 && s->leaderless_since >= 0) {
        uint64_t d = (uint64_t)(s->now - s->pending_since);
        if (s->pending_kind == 1) {
            s->st->handoffs++;
            s->st->handoff_sum += d;
            if (d > s->st->handoff_max) s->st->handoff_max = d;
        } else if (s->pending_kind == 2) {
            s->st->failovers++;
            s->st->failover_sum += d;
            if (d > s->st->failover_max) s->st->failover_max = d;
        }
        s->pending_kind = 0;
        s->leaderless_since = -1;
    } else if (leaders == 0 && s->leaderless_since < 0) {
        s->leaderless_since = s->now;
    }
    (void)who;
}

static int current_leader(Sim *s)
{
    for (int i = 0; i < s->p.n; i++)
        if (s->node[i].alive && election_is_leader(&s->node[i].e, boot_of(&s->node[i], s->now)))
            return i;
    return -1;
}

static void chaos_schedule(Sim *s)
{
    int64_t t = 0;
    if (s->p.steady) return;
    /* one chaos action every 3-12 s; calm: far enough apart that the previous action (restart,
     * hold-off) is over */
    while ((t += s->p.calm ? urange(s, 30000000, 45000000) : urange(s, 3000000, 12000000)) <
           s->p.duration) {
        int what = (int)(srnd(s) % 100);
        Q q = {.t = t, .kind = Q_CHAOS, .node = (int)(srnd(s) % (uint64_t)s->p.n)};
        if (s->p.calm) what = what < 30 ? 0 : what < 80 ? 20 : 40; /* kill, term, resign */
        if (what < 15)
            q.chaos = C_KILL;
        else if (what < 35)
            q.chaos = C_TERM;
        else if (what < 45)
            q.chaos = C_RESIGN;
        else if (what < 60)
            q.chaos = C_PAUSE;
        else if (what < 70)
            q.chaos = C_WATCH_DOWN;
        else if (what < 80 && s->p.deletions)
            q.chaos = what < 75 ? C_DELETE : C_CLEAR;
        else if (what < 90)
            q.chaos = -1; /* storm */
        else
            q.chaos = -2; /* partition one process */
        push(s, q);
    }
}

static void chaos(Sim *s, const Q *q)
{
    Node *n = &s->node[q->node];
    int leader = current_leader(s);
    /* aim at the leader most of the time: that is where the danger is */
    int i = (leader >= 0 && frand(s) < 0.7 && q->chaos != C_RESTART) ? leader : q->node;
    n = &s->node[i];

    switch (q->chaos) {
    case C_KILL:
        if (!n->alive) break;
        if (s->verbose) printf("%10.6f chaos: kill %s\n", (double)s->now / 1e6, n->id);
        if (i == leader) {
            s->pending_kind = 2;
            s->pending_since = s->now;
        }
        node_kill(s, i);
        /* calm: restart late, so that failover measures the takeover by the others */
        push(s, (Q){.t = s->now +
                         (s->p.calm ? urange(s, 16000000, 20000000) : urange(s, 500000, 5000000)),
                    .kind = Q_CHAOS,
                    .chaos = C_RESTART,
                    .node = i});
        break;
    case C_TERM:
    case C_RESIGN:
        if (!n->alive || n->paused_until > s->now) break;
        if (i == leader) {
            s->pending_kind = 1;
            s->pending_since = s->now;
        }
        deliver(s, i, s->now,
                (ElectionEvent){.type = q->chaos == C_TERM ? ELECTION_EVENT_SHUTDOWN
                                                           : ELECTION_EVENT_RESIGN});
        break;
    case C_PAUSE:
        if (n->alive)
            n->paused_until =
                s->now + (frand(s) < 0.5 ? urange(s, 100000, 3000000)
                                         : urange(s, (int64_t)s->p.L, (int64_t)s->p.L * 3));
        break;
    case C_RESTART:
        if (s->verbose && !s->node[q->node].alive)
            printf("%10.6f chaos: start %s\n", (double)s->now / 1e6, s->node[q->node].id);
        if (!s->node[q->node].alive) node_start(s, q->node);
        break;
    case C_DELETE:
        if (s->verbose) printf("%10.6f chaos: delete\n", (double)s->now / 1e6);
        if (s->present) {
            s->present = false;
            s->rev++;
            s->any_deletion = true;
            watch_fanout(s);
        }
        break;
    case C_CLEAR:
        /* an operator: kubectl patch lease --type merge -p '{"spec":{"holderIdentity":null}}',
         * often while the holder is cut off from the API (that is why one clears it) */
        if (s->verbose) printf("%10.6f chaos: clear the holder\n", (double)s->now / 1e6);
        if (s->present && s->rec.holder[0]) {
            if (leader >= 0 && frand(s) < 0.7)
                s->node[leader].partitioned_until = s->now + urange(s, 1000000, (int64_t)s->p.L);
            s->rec.holder[0] = 0;
            s->rev++;
            s->rec.revision = s->rev;
            s->any_deletion = true;
            watch_fanout(s);
        }
        break;
    case C_WATCH_DOWN:
        if (n->alive && n->watch_up) {
            n->watch_up = false;
            deliver(s, i, s->now,
                    (ElectionEvent){.type = ELECTION_EVENT_WATCH_STATE, .watch_up = false});
            push(s, (Q){.t = s->now + urange(s, 1000000, 20000000),
                        .kind = Q_CHAOS,
                        .chaos = C_WATCH_UP,
                        .node = i,
                        .inc = n->inc});
        }
        break;
    case C_WATCH_UP:
        n = &s->node[q->node];
        if (n->alive && q->inc == n->inc && !n->watch_up) {
            ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_EVENT};
            n->watch_up = true;
            deliver(s, q->node, s->now,
                    (ElectionEvent){.type = ELECTION_EVENT_WATCH_STATE, .watch_up = true});
            /* the glue re-lists: the current state */
            if (s->present)
                ev.record = s->rec;
            else {
                ev.deleted = true;
                ev.record.revision = s->rev;
            }
            n->watch_last = s->now + 20000;
            deliver(s, q->node, n->watch_last, ev);
        }
        break;
    case -1:
        s->storm_until = s->now + urange(s, 1000000, (int64_t)s->p.D * 2);
        break;
    case -2:
        if (n->alive) n->partitioned_until = s->now + urange(s, 1000000, (int64_t)s->p.L * 2);
        break;
    default:
        break;
    }
}

static void run(const Params *p, uint64_t seed, Stats *st, bool verbose)
{
    static Sim sim;
    Sim *s = &sim;
    Q q;

    memset(s, 0, sizeof(*s));
    s->p = *p;
    s->rng = seed * UINT64_C(0x2545F4914F6CDD1D) + 1;
    s->st = st;
    s->verbose = verbose;
    s->seed = seed;
    s->put_creates = seed % 4 < 2;
    s->report_violations = p->rate_err < 0.05;
    s->last_leader = -1;
    s->last_term = -1;
    s->leaderless_since = 0;
    for (int i = 0; i < p->n; i++) {
        Node *n = &s->node[i];
        snprintf(n->id, sizeof(n->id), "pod-%c", 'a' + i);
        n->rate = 1.0 + p->rate_err * (2.0 * frand(s) - 1.0);
        n->boot_off = urange(s, 1000000, 1000000000);
        n->wall_off = INT64_C(1700000000000000) + urange(s, -30000000, 30000000);
        node_start(s, i);
    }
    chaos_schedule(s);

    uint64_t nev = 0;
    while (pop(s, &q) && q.t <= p->duration) {
        Node *n = &s->node[q.node];
        ElectionActions acts;
        ElectionNow now;
        int r;

        s->now = q.t;
        st->events++;
        if (nev > 399990 && q.kind == Q_TIMER)
            fprintf(stderr,
                    "  timer node %d t=%" PRId64 " boot=%" PRIu64 " armed=%" PRIu64 " gen %" PRIu64
                    "/%" PRIu64 " inflight=%" PRIu64 " cls=%d stop=%d res=%d\n",
                    q.node, q.t, boot_of(n, q.t), n->e.timer_armed, q.gen, n->timer_gen,
                    n->e.inflight_id, n->e.cls, n->e.stopping, n->e.resigning);
        if (++nev > 400000) {
            /* a livelock (e.g. a timer re-armed in the past forever) is a failure */
            fprintf(stderr, "seed %" PRIu64 ": livelock at t=%.6f node %d kind %d ev %d\n", seed,
                    (double)s->now / 1e6, q.node, q.kind, q.ev.type);
            st->livelocks++;
            break;
        }
        if (q.kind == Q_CHAOS) {
            chaos(s, &q);
            check(s);
            continue;
        }
        if (q.kind == Q_SERVER) {
            server(s, &q);
            check(s);
            continue;
        }
        if (q.inc != n->inc || !n->alive) continue;
        if (s->now < n->paused_until) {
            q.t = n->paused_until; /* a stopped process handles nothing; order is kept */
            push(s, q);
            continue;
        }
        now.boot_usec = boot_of(n, s->now);
        now.wall_usec = n->wall_off + (int64_t)((double)s->now * n->rate);
        if (q.kind == Q_TIMER) {
            if (q.gen != n->timer_gen) continue;
            q.ev = (ElectionEvent){.type = ELECTION_EVENT_TIMER};
        } else if (q.kind == Q_TIMEOUT) {
            Req *rq = req_slot(n, q.req.request_id);
            if (!rq) continue;
            rq->open = false;
            q.ev = (ElectionEvent){.type = rq->get ? ELECTION_EVENT_GET_RESULT
                                                   : ELECTION_EVENT_WRITE_RESULT,
                                   .request_id = q.req.request_id,
                                   .result = ELECTION_RESULT_TIMEOUT};
        } else if (q.ev.type == ELECTION_EVENT_GET_RESULT ||
                   q.ev.type == ELECTION_EVENT_WRITE_RESULT) {
            Req *rq = req_slot(n, q.ev.request_id);
            if (!rq) continue; /* already timed out */
            rq->open = false;
        }
        r = election_step(&n->e, &q.ev, &now, &acts);
        if (r < 0) {
            fprintf(stderr, "election_step failed: %d\n", r);
            abort();
        }
        if (acts.n > st->max_actions) st->max_actions = acts.n;
        carry_out(s, q.node, &acts);
        check(s);
    }
    for (int i = 0; i < p->n; i++)
        (void)i;
    st->sim_us += (uint64_t)p->duration;
    st->seeds++;
}

/* fraction of simulated time with a leader, sampled */
static void print_stats(const char *name, const Stats *st)
{
    printf("%s: %" PRIu64 " seeds, %" PRIu64 " events, %.0f simulated s, %" PRIu64
           " acquisitions, %" PRIu64 " requests (%" PRIu64 " writes), %" PRIu64
           " graceful exits; at most %" PRIu64 " actions per step; overlaps %" PRIu64
           ", term violations %" PRIu64 "\n",
           name, st->seeds, st->events, (double)st->sim_us / 1e6, st->acquisitions, st->requests,
           st->writes, st->exits, st->max_actions, st->violations, st->term_violations);
    if (st->follower_us)
        printf("  requests by non-leaders: %.4f per follower-second (%" PRIu64 " over %.0f "
               "follower-s)\n",
               (double)st->follower_requests / ((double)st->follower_us / 1e6),
               st->follower_requests, (double)st->follower_us / 1e6);
    if (st->handoffs)
        printf("  handoff after SIGTERM/RESIGN of the leader: n=%" PRIu64
               " mean %.0f ms max %.0f ms\n",
               st->handoffs, (double)st->handoff_sum / (double)st->handoffs / 1e3,
               (double)st->handoff_max / 1e3);
    if (st->failovers)
        printf("  failover after SIGKILL of the leader:       n=%" PRIu64
               " mean %.0f ms max %.0f ms\n",
               st->failovers, (double)st->failover_sum / (double)st->failovers / 1e3,
               (double)st->failover_max / 1e3);
}

int main(int argc, char **argv)
{
    /* ELECTION_SIM_SEEDS: fewer seeds where each costs more (the valgrind run). */
    const char *env_seeds = getenv("ELECTION_SIM_SEEDS");
    uint64_t seeds = argc > 1    ? strtoull(argv[1], NULL, 10)
                     : env_seeds ? strtoull(env_seeds, NULL, 10)
                                 : 2000;
    uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    bool verbose = getenv("ELECTION_SIM_VERBOSE") != NULL;
    Stats st = {0}, neg = {0}, calm = {0};
    Params p = {
        .L = 15 * SEC,
        .D = 10 * SEC,
        .R = 2 * SEC,
        .rate_err = 0.03,
        .n = 3,
        .duration = 120 * (int64_t)SEC,
    };

    for (uint64_t k = 0; k < seeds; k++) {
        uint64_t seed = first + k;
        p.n = 2 + (int)(seed % 4);   /* 2..5 candidates */
        p.deletions = seed % 2 == 0; /* term monotonicity is checked in the others */
        if (seed % 3 == 0) {         /* short timings too */
            p.L = 3 * SEC, p.D = 2 * SEC, p.R = 500 * MS;
        } else {
            p.L = 15 * SEC, p.D = 10 * SEC, p.R = 2 * SEC;
        }
        run(&p, seed, &st, verbose);
    }
    print_stats("safety", &st);

    /* Negative control: D/L = 0.98 with clock rates up to 10 % apart violates the bound of
     * docs/design.md ("Takeover"); with partitions and pauses the checker must see overlaps. */
    p = (Params){.L = 10200 * MS,
                 .D = 10 * SEC,
                 .R = 2 * SEC,
                 .rate_err = 0.10,
                 .n = 3,
                 .duration = 120 * (int64_t)SEC};
    /* at least 200 seeds: fewer (the valgrind run) may not meet an overlap */
    for (uint64_t k = 0; k < (seeds / 4 > 200 ? seeds / 4 : 200); k++)
        run(&p, 1000000 + first + k, &neg, false);
    print_stats("negative control (unsafe timings)", &neg);

    /* Calm: no faults but SIGTERM/SIGKILL/RESIGN of random (mostly leading) processes, clock
     * rates 1 % apart: the handoff and failover figures. */
    p = (Params){.L = 15 * SEC,
                 .D = 10 * SEC,
                 .R = 2 * SEC,
                 .rate_err = 0.01,
                 .n = 3,
                 .duration = 300 * (int64_t)SEC,
                 .calm = true};
    for (uint64_t k = 0; k < (seeds / 5 ? seeds / 5 : 1); k++)
        run(&p, 2000000 + first + k, &calm, false);
    print_stats("calm", &calm);

    /* Steady state: 5 candidates, no faults, 10 minutes: after the first election (L, then a
     * few round trips) followers send nothing at all; the leader one UPDATE per R. */
    {
        Stats steady = {0};
        p = (Params){.L = 15 * SEC,
                     .D = 10 * SEC,
                     .R = 2 * SEC,
                     .rate_err = 0.01,
                     .n = 5,
                     .duration = 600 * (int64_t)SEC,
                     .calm = true,
                     .steady = true};
        for (uint64_t k = 0; k < 20; k++)
            run(&p, 3000000 + first + k, &steady, false);
        print_stats("steady", &steady);
        printf("  follower requests after 20 s: %" PRIu64 "; requests per candidate-second: %.3f\n",
               steady.late_follower_requests,
               (double)steady.requests / ((double)steady.sim_us / 1e6) / 5);
        CHECK(steady.late_follower_requests == 0);
        CHECK(steady.violations == 0);
        /* one renew per R by the leader, ~0.5/s, shared among 5 candidates: ~0.1 per second */
        CHECK((double)steady.requests / ((double)steady.sim_us / 1e6) < 0.55);
    }

    CHECK(st.livelocks == 0 && neg.livelocks == 0 && calm.livelocks == 0);
    CHECK(st.violations == 0);
    CHECK(st.term_violations == 0);
    CHECK(st.acquisitions > st.seeds); /* it elects, repeatedly */
    CHECK(st.handoffs > 0 && st.failovers > 0);
    CHECK(neg.violations > 0); /* the checker can fail */
    CHECK(calm.violations == 0 && calm.term_violations == 0);
    CHECK(st.max_actions < ELECTION_ACTIONS_MAX);
    /* graceful handoff: a few API round trips; SIGKILL: within L + 1 s of the last renew */
    CHECK(calm.handoffs > 0 && calm.handoff_max < 1000 * MS);
    CHECK(calm.failovers > 0 && calm.failover_max <= 16 * SEC);
    return t_report("test_election_sim");
}
