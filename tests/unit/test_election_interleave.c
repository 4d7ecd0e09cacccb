/* SPDX-License-Identifier: MIT */
/*
 * Every interleaving of a renew in flight with watch events, its answer (OK, 409, 404, timeout,
 * 500, 201 after a deletion), a stale event, the old claim's deadline and SIGTERM, enumerated
 * programmatically (all orders allowed by the watch's FIFO), then a drain phase against a CAS
 * store.
 *
 * After every step: the engine claims only what the evidence it was given allows
 *   is_leader(now) => an OK for one of our writes, sent at t_s, was delivered, is the newest
 * revision delivered, now < t_s + D, now >= (creation gate), and no SIGTERM yet; a delivered
 * 409/404/foreign record/deletion demotes at once; never "duplicate identity" (all the records here
 * are our own or another holder's); the timer is never armed in the past; after SIGTERM the engine
 * exits, and publishes "not leader" before any release it sends.
 */

#include <syslog.h>

#include "election_test.h"

#define WALL0 (INT64_C(1700000000) * (int64_t)SEC)

enum { E_RES, E_WATCH_OURS, E_WATCH_OTHER, E_WATCH_DEL, E_STALE, E_DEADLINE, E_SIG, E_MAX };

typedef struct World {
    const char *name;
    ElectionResult res;
    bool res_created;
    uint64_t res_rev;   /* OK: the revision W committed at */
    uint64_t ours_rev;  /* E_WATCH_OURS revision */
    uint64_t other_rev; /* E_WATCH_OTHER revision */
    uint64_t del_rev;
    int events[E_MAX];
    int n;
    int before[4][2]; /* ordering constraints (watch FIFO): events[a] before events[b] */
    int n_before;
    /* final store state for the drain */
    bool final_present;
    bool final_ours;
    uint64_t final_rev;
    bool expect_leader_after_res; /* liveness: an OK answer makes us leader at once */
} World;

typedef struct Run {
    T t;
    uint64_t t0, t_acquire;
    ElectionRecord w; /* the renew in flight */
    uint64_t w_id;
    /* evidence delivered */
    uint64_t ok_send, ok_rev, gate, max_evidence_rev;
    bool have_ok, sig, exited, released_sent;
    /* drain store */
    bool present;
    ElectionRecord rec;
    uint64_t rev;
    ElectionAction pending[8];
    int npending;
    ElectionRecord other; /* pod-b's record */
} Run;

static unsigned orders, steps;

static void check_step(Run *r, const char *what)
{
    T *t = &r->t;
    uint64_t now = t->now.boot_usec;
    bool leader = election_is_leader(&t->e, now);
    bool allowed = r->have_ok && !r->sig && r->ok_rev >= r->max_evidence_rev &&
                   now < r->ok_send + 10 * SEC && now >= r->gate;

    steps++;
    if (leader && !allowed) {
        CHECK(!"leader without evidence");
        fprintf(stderr,
                "  after %s at +%" PRIu64 " ms: ok_rev %" PRIu64 " evidence %" PRIu64
                " ok_send +%" PRIu64 " gate +%" PRIu64 " sig %d\n",
                what, (now - r->t0) / MS, r->ok_rev, r->max_evidence_rev, (r->ok_send - r->t0) / MS,
                r->gate > r->t0 ? (r->gate - r->t0) / MS : 0, r->sig);
    }
    CHECK(!t_logged(t, "duplicate"));
    CHECK(t->timer == ELECTION_TIME_NONE || t->timer >= now);
    /* stop claiming before releasing: a PUBLISH precedes any release in the same step */
    for (size_t i = 0; i < t->acts.n; i++) {
        const ElectionAction *a = &t->acts.a[i];
        if (a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RELEASE) {
            r->released_sent = true;
            CHECK(!leader);
            CHECK(a->record.holder[0] == 0 && a->record.lease_duration_seconds == 1);
        }
        if (a->type == ELECTION_ACTION_EXIT) r->exited = true;
        if (a->type == ELECTION_ACTION_GET || a->type == ELECTION_ACTION_CREATE ||
            a->type == ELECTION_ACTION_UPDATE) {
            if (r->npending < 8) r->pending[r->npending++] = *a;
        }
    }
}

static void deliver_result(Run *r, const World *w)
{
    ElectionEvent ev = {
        .type = ELECTION_EVENT_WRITE_RESULT, .request_id = r->w_id, .result = w->res};
    if (w->res == ELECTION_RESULT_OK) {
        ev.record = r->w;
        ev.record.revision = w->res_rev;
        ev.created = w->res_created;
        if (w->res_rev >= r->max_evidence_rev && !r->sig) {
            r->have_ok = true;
            r->ok_send = r->t0;
            r->ok_rev = w->res_rev;
            if (w->res_created) r->gate = r->t.now.boot_usec + 15 * SEC;
        }
    } else if (w->res == ELECTION_RESULT_CONFLICT || w->res == ELECTION_RESULT_NOT_FOUND) {
        if (r->max_evidence_rev < 6) r->max_evidence_rev = 6;
        r->have_ok = false;
    }
    /* answered: drop it from pending */
    t_step(&r->t, ev);
}

static void deliver(Run *r, const World *w, int e)
{
    T *t = &r->t;
    ElectionRecord rec;
    ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_EVENT};

    switch (e) {
    case E_RES:
        deliver_result(r, w);
        check_step(r, "result");
        if (w->expect_leader_after_res && !r->sig && t->now.boot_usec < r->t0 + 10 * SEC &&
            r->max_evidence_rev <= w->res_rev)
            CHECK(election_is_leader(&t->e, t->now.boot_usec));
        if (w->res == ELECTION_RESULT_CONFLICT || w->res == ELECTION_RESULT_NOT_FOUND ||
            w->res_created)
            CHECK(!election_is_leader(&t->e, t->now.boot_usec));
        return;
    case E_WATCH_OURS:
        ev.record = r->w;
        ev.record.revision = w->ours_rev;
        break;
    case E_WATCH_OTHER:
        ev.record = r->other;
        ev.record.revision = w->other_rev;
        if (r->max_evidence_rev < w->other_rev) r->max_evidence_rev = w->other_rev;
        break;
    case E_WATCH_DEL:
        ev.deleted = true;
        ev.record.revision = w->del_rev;
        if (r->max_evidence_rev < w->del_rev) r->max_evidence_rev = w->del_rev;
        break;
    case E_STALE:
        rec = t_rec("pod-z", 15, WALL0, WALL0, 0, 3);
        ev.record = rec;
        break;
    case E_DEADLINE:
        t_advance_to(t, r->t_acquire + 10 * SEC);
        t_step(t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
        check_step(r, "deadline");
        CHECK(!election_is_leader(&t->e, t->now.boot_usec) || r->have_ok);
        return;
    case E_SIG:
        r->sig = true;
        t_step(t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
        check_step(r, "sigterm");
        CHECK(!election_is_leader(&t->e, t->now.boot_usec));
        return;
    }
    t_step(t, ev);
    check_step(r, e == E_WATCH_OURS    ? "watch ours"
                  : e == E_WATCH_OTHER ? "watch other"
                  : e == E_WATCH_DEL   ? "watch deleted"
                                       : "stale");
    if (e == E_WATCH_OTHER || e == E_WATCH_DEL) CHECK(!election_is_leader(&t->e, t->now.boot_usec));
}

/* Answers pending requests from the store (CAS), fires timers, for 40 s. */
static void drain(Run *r)
{
    T *t = &r->t;
    uint64_t end = t->now.boot_usec + 40 * SEC;

    while (!r->exited && t->now.boot_usec < end) {
        if (r->npending > 0) {
            ElectionAction a = r->pending[0];
            ElectionEvent ev = {.request_id = a.request_id};
            memmove(&r->pending[0], &r->pending[1],
                    sizeof(r->pending[0]) * (size_t)(r->npending - 1));
            r->npending--;
            if (a.request_id == r->w_id) continue; /* the scripted one */
            t_advance(t, 10 * MS);
            if (a.type == ELECTION_ACTION_GET) {
                ev.type = ELECTION_EVENT_GET_RESULT;
                ev.result = r->present ? ELECTION_RESULT_OK : ELECTION_RESULT_NOT_FOUND;
                ev.record = r->rec;
            } else {
                ev.type = ELECTION_EVENT_WRITE_RESULT;
                if (a.type == ELECTION_ACTION_CREATE && r->present)
                    ev.result = ELECTION_RESULT_ALREADY_EXISTS;
                else if (a.type == ELECTION_ACTION_UPDATE && !r->present)
                    ev.result = ELECTION_RESULT_NOT_FOUND;
                else if (a.type == ELECTION_ACTION_UPDATE && a.base_revision != r->rec.revision)
                    ev.result = ELECTION_RESULT_CONFLICT;
                else {
                    r->present = true;
                    r->rec = a.record;
                    r->rec.revision = ++r->rev;
                    ev.result = ELECTION_RESULT_OK;
                    ev.record = r->rec;
                    ev.created = a.type == ELECTION_ACTION_CREATE;
                    if (a.kind != ELECTION_WRITE_RELEASE && !r->sig &&
                        r->rec.revision >= r->max_evidence_rev) {
                        r->have_ok = true;
                        r->ok_send = t->now.boot_usec - 10 * MS;
                        r->ok_rev = r->rec.revision;
                        if (ev.created) r->gate = t->now.boot_usec + 15 * SEC;
                    }
                }
                if (ev.result == ELECTION_RESULT_CONFLICT || ev.result == ELECTION_RESULT_NOT_FOUND)
                    r->have_ok = false;
            }
            t_step(t, ev);
            check_step(r, "drain answer");
        } else if (t->timer != ELECTION_TIME_NONE) {
            if (t->timer > end) break;
            t_fire(t);
            check_step(r, "drain timer");
        } else {
            break;
        }
    }
}

static void run_order(const World *w, const int *order, int n)
{
    Run r;
    T *t = &r.t;
    const ElectionAction *a;
    ElectionRecord freerec = t_rec("", 1, WALL0 - 1000, WALL0 - 1000, 0, 4);

    memset(&r, 0, sizeof(r));
    t_init(t, "pod-a");
    r.other = t_rec("pod-b", 15, WALL0 + 9, WALL0 + 9, 2, 0);

    /* leader at revision 5 (acquired from a free Lease) */
    t_step(t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(t);
    t_step(t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &freerec));
    a = t_request(t);
    r.t_acquire = t->now.boot_usec;
    t_write_ok(t, a, 5);
    r.have_ok = true, r.ok_send = r.t_acquire, r.ok_rev = 5;
    CHECK(election_is_leader(&t->e, t->now.boot_usec));
    /* renews fail until one goes out 8 s or more after the acquisition: that one stays in flight
     * across the old deadline */
    for (;;) {
        t_fire(t);
        a = t_request(t);
        if (!a || a->type != ELECTION_ACTION_UPDATE) {
            CHECK(!"expected a renew");
            return;
        }
        if (t->now.boot_usec >= r.t_acquire + 8 * SEC) break;
        t_step(t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_TRANSIENT,
                            NULL));
    }
    CHECK(t->now.boot_usec < r.t_acquire + 9500 * MS);
    r.t0 = t->now.boot_usec;
    r.w = a->record;
    r.w_id = a->request_id;
    r.max_evidence_rev = 5;

    /* the script */
    for (int k = 0; k < n; k++) {
        int e = w->events[order[k]];
        if (e != E_DEADLINE) t_advance(t, 50 * MS);
        deliver(&r, w, e);
    }

    /* the drain: the store as the world left it */
    r.present = w->final_present;
    r.rev = w->final_rev;
    if (w->final_present) {
        r.rec = w->final_ours ? r.w : r.other;
        r.rec.revision = w->final_rev;
    }
    drain(&r);
    if (r.sig) {
        CHECK(r.exited);
    } else if (w->final_ours || !w->final_present) {
        /* our Lease (or none): we lead again by the end */
        CHECK(election_is_leader(&t->e, t->now.boot_usec) || t->timer != ELECTION_TIME_NONE);
    } else {
        /* pod-b's: taken over only after its lease ran out on our clock, with a higher term */
        ElectionView v;
        election_view(&t->e, t->now.boot_usec, &v);
        if (v.is_leader) CHECK(v.term > 2);
    }
    orders++;
}

/* all permutations of w->n events respecting w->before */
static void permute(const World *w, int *order, int k, unsigned used)
{
    if (k == w->n) {
        run_order(w, order, w->n);
        return;
    }
    for (int i = 0; i < w->n; i++) {
        bool ok = true;
        if (used & (1u << i)) continue;
        for (int c = 0; c < w->n_before; c++)
            if (w->before[c][1] == i && !(used & (1u << w->before[c][0]))) ok = false;
        if (!ok) continue;
        order[k] = i;
        permute(w, order, k + 1, used | (1u << i));
    }
}

static void world(World w, bool sig)
{
    int order[E_MAX];
    unsigned before = orders;

    if (sig) w.events[w.n++] = E_SIG;
    permute(&w, order, 0, 0);
    printf("  %-48s %s: %u orders\n", w.name, sig ? "+SIGTERM" : "        ", orders - before);
}

int main(void)
{
    World ws[] = {
        {.name = "renew commits (200)",
         .res = ELECTION_RESULT_OK,
         .res_rev = 6,
         .ours_rev = 6,
         .events = {E_RES, E_WATCH_OURS, E_STALE, E_DEADLINE},
         .n = 4,
         .final_present = true,
         .final_ours = true,
         .final_rev = 6,
         .expect_leader_after_res = true},
        {.name = "renew commits, answer lost (timeout)",
         .res = ELECTION_RESULT_TIMEOUT,
         .ours_rev = 6,
         .events = {E_RES, E_WATCH_OURS, E_STALE, E_DEADLINE},
         .n = 4,
         .final_present = true,
         .final_ours = true,
         .final_rev = 6},
        {.name = "taken by another first (409)",
         .res = ELECTION_RESULT_CONFLICT,
         .other_rev = 6,
         .events = {E_RES, E_WATCH_OTHER, E_STALE, E_DEADLINE},
         .n = 4,
         .final_present = true,
         .final_ours = false,
         .final_rev = 6},
        {.name = "renew commits, then edited to another",
         .res = ELECTION_RESULT_OK,
         .res_rev = 6,
         .ours_rev = 6,
         .other_rev = 7,
         .events = {E_RES, E_WATCH_OURS, E_WATCH_OTHER, E_STALE, E_DEADLINE},
         .n = 5,
         .before = {{1, 2}},
         .n_before = 1,
         .final_present = true,
         .final_ours = false,
         .final_rev = 7},
        {.name = "deleted first (404)",
         .res = ELECTION_RESULT_NOT_FOUND,
         .del_rev = 6,
         .events = {E_RES, E_WATCH_DEL, E_STALE, E_DEADLINE},
         .n = 4,
         .final_present = false,
         .final_rev = 6},
        {.name = "deleted, renew PUT re-creates it (201)",
         .res = ELECTION_RESULT_OK,
         .res_created = true,
         .res_rev = 7,
         .del_rev = 6,
         .ours_rev = 7,
         .events = {E_RES, E_WATCH_DEL, E_WATCH_OURS, E_STALE, E_DEADLINE},
         .n = 5,
         .before = {{1, 2}},
         .n_before = 1,
         .final_present = true,
         .final_ours = true,
         .final_rev = 7},
        {.name = "500 storm",
         .res = ELECTION_RESULT_TRANSIENT,
         .events = {E_RES, E_STALE, E_DEADLINE},
         .n = 3,
         .final_present = true,
         .final_ours = false,
         .final_rev = 5},
    };

    /* the 500 storm's store: still our record at revision 5 — set up in run_order via final_ours */
    ws[6].final_ours = true;

    printf("interleavings of a renew in flight:\n");
    for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
        world(ws[i], false);
        world(ws[i], true);
    }
    printf("%u orders, %u checked steps\n", orders, steps);
    CHECK(orders > 1000);
    return t_report("test_election_interleave");
}
