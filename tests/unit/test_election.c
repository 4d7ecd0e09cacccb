/* SPDX-License-Identifier: MIT */
/* Unit tests of the election engine: one scenario per rule of docs/design.md ("Why two pods are
 * never leader at once"), with a fake clock. */

#include <errno.h>
#include <syslog.h>

#include "election_test.h"

#define WALL0 (INT64_C(1700000000) * (int64_t)SEC)

/* START, GET -> a released Lease (term 0) at rev-1, UPDATE -> OK at revision rev: leader, term 1.
 */
static void become_leader(T *t, uint64_t rev)
{
    const ElectionAction *a;
    ElectionRecord r = t_rec("", 1, WALL0 - 1000, WALL0 - 1000, 0, rev - 1);

    CHECK(t_step(t, (ElectionEvent){.type = ELECTION_EVENT_START}) == 0);
    a = t_request(t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    t_advance(t, 5 * MS);
    t_step(t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    a = t_request(t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    if (!a) abort();
    CHECK_EQ_U(a->base_revision, rev - 1);
    CHECK(a->record.lease_transitions == 1);
    t_advance(t, 5 * MS);
    t_write_ok(t, a, rev);
    CHECK(election_is_leader(&t->e, t->now.boot_usec));
    CHECK(t_logged(t, "became leader term=1"));
}

static void test_config(void)
{
    ElectionConfig c = t_config("pod-a");
    char id[300];

    CHECK(election_config_validate(&c) == NULL);
    c.renew_deadline_usec = c.lease_duration_usec;
    CHECK(election_config_validate(&c) != NULL &&
          strstr(election_config_validate(&c), "lease duration must be greater than renew"));
    c = t_config("pod-a");
    c.retry_period_usec = 2 * SEC;
    c.renew_deadline_usec = 2400 * MS; /* exactly 1.2 x R: refused, as client-go */
    CHECK(election_config_validate(&c) && strstr(election_config_validate(&c), "1.2"));
    c.renew_deadline_usec = 2401 * MS;
    CHECK(election_config_validate(&c) == NULL);
    c = t_config("pod-a");
    c.retry_period_usec = 0;
    CHECK(election_config_validate(&c) != NULL);
    c = t_config("pod-a");
    c.lease_duration_usec = 0;
    CHECK(election_config_validate(&c) != NULL);
    c = t_config("pod a");
    CHECK(election_config_validate(&c) && strstr(election_config_validate(&c), "spaces"));
    CHECK(election_config_init(&c, "") == -EINVAL);
    memset(id, 'a', sizeof(id));
    id[254] = 0;
    CHECK(election_config_init(&c, id) == -ENAMETOOLONG);
    id[253] = 0;
    CHECK(election_config_init(&c, id) == 0 && election_config_validate(&c) == NULL);
    c = t_config("pod-a");
    c.lease_duration_usec = 3 * SEC;
    {
        Election e;
        CHECK(election_init(&e, &c) == -EINVAL); /* D 10s >= L 3s */
    }
}

static void test_fresh_cluster_and_renew(void)
{
    T t;
    const ElectionAction *a;
    uint64_t send;

    t_init(&t, "pod-a");
    CHECK(t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START}) == 0);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET && a->timeout_usec > 0);
    t_step(&t,
           ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_NOT_FOUND, NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_CREATE);
    CHECK(a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK(strcmp(a->record.holder, "pod-a") == 0);
    CHECK(a->record.lease_transitions == 0); /* fresh cluster: 0, as client-go */
    CHECK(a->record.lease_duration_seconds == 15);
    CHECK(a->record.acquire_time_usec == a->record.renew_time_usec);
    CHECK(a->record.renew_time_usec == t.now.wall_usec);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    send = t.now.boot_usec;
    t_advance(&t, 30 * MS);
    t_write_ok(&t, a, 10);
    /* created: claimed only after L (it may have been deleted under a live leader) */
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    /* ... while the claim behind the gate runs from the send (its renews keep their cadence) */
    CHECK(election_claiming(&t.e, t.now.boot_usec));
    CHECK(election_claiming(&t.e, send + 10 * SEC - 1));
    CHECK(!election_claiming(&t.e, send + 10 * SEC));
    CHECK(t_logged(&t, "created the lease (term=0): claiming it after 15000 ms"));
    CHECK_EQ_U(t.timer, send + 2 * SEC); /* but renewed every R meanwhile */
    {
        uint64_t gate = send + 30 * MS + 15 * SEC;
        int renews = 0;
        while (t.now.boot_usec < gate) {
            t_fire(&t);
            if (t.now.boot_usec == gate) break;
            a = t_request(&t);
            CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
            if (!a) return;
            CHECK(!election_is_leader(&t.e, t.now.boot_usec));
            send = t.now.boot_usec;
            t_write_ok(&t, a, 11 + renews);
            renews++;
        }
        CHECK(renews == 7);
        CHECK_EQ_U(t.now.boot_usec, gate);
        CHECK(election_is_leader(&t.e, t.now.boot_usec));
        CHECK(t_logged(&t, "became leader term=0"));
        CHECK(t_find(&t, ELECTION_ACTION_PUBLISH));
        /* the claim runs from the SEND time: D after it, not after the answer */
        CHECK(election_is_leader(&t.e, send + 10 * SEC - 1));
        CHECK(!election_is_leader(&t.e, send + 10 * SEC));
        CHECK_EQ_U(t.timer, send + 2 * SEC); /* renew one R after the send */
    }

    /* Ten renews: one UPDATE per R, never a GET, each from the last revision, timeout within the
     * deadline, acquireTime and term kept. */
    for (int i = 7; i < 17; i++) {
        uint64_t deadline = t.e.claim_deadline;
        t_fire(&t);
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
        if (!a) return;
        CHECK(t_count(&t, ELECTION_ACTION_GET) == 0);
        CHECK_EQ_U(a->base_revision, 10 + i);
        CHECK(a->timeout_usec <= deadline - t.now.boot_usec);
        CHECK(a->record.lease_transitions == 0);
        CHECK(a->record.acquire_time_usec == WALL0);
        CHECK(a->record.renew_time_usec == t.now.wall_usec);
        send = t.now.boot_usec;
        t_advance(&t, 20 * MS);
        t_write_ok(&t, a, 11 + i);
        CHECK(t_find(&t, ELECTION_ACTION_PUBLISH)); /* every renew is published (valid_ms) */
        CHECK_EQ_U(t.e.claim_deadline, send + 10 * SEC);
    }
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(v.is_leader && v.state == ELECTION_STATE_LEADING);
        CHECK(strcmp(v.leader, "pod-a") == 0 && v.term == 0);
        CHECK(v.valid_ms > 9900 && v.valid_ms <= 10000);
        CHECK(v.since_usec == WALL0);
        CHECK(strcmp(election_state_to_string(v.state), "leading") == 0);
    }
}

/* 500 storm: retries jittered within the deadline, then demotion exactly at send+D. */
static void test_transient_storm(void)
{
    T t;
    const ElectionAction *a;
    uint64_t send0, tries = 0, prev = 0;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    send0 = t.now.boot_usec - 5 * MS;
    for (;;) {
        t_fire(&t);
        if (!election_is_leader(&t.e, t.now.boot_usec)) break;
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_UPDATE);
        if (!a) return;
        CHECK(a->timeout_usec <= send0 + 10 * SEC - t.now.boot_usec);
        if (prev)
            CHECK(t.now.boot_usec - prev >= 1 * SEC && t.now.boot_usec - prev < 2 * SEC + 50 * MS);
        prev = t.now.boot_usec;
        tries++;
        t_advance(&t, 50 * MS);
        t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_TRANSIENT,
                             NULL));
        CHECK(t_logged(&t, "renew lease failed"));
        CHECK(election_is_leader(&t.e, t.now.boot_usec) == (t.now.boot_usec < send0 + 10 * SEC));
    }
    CHECK(tries >= 4);
    CHECK_EQ_U(t.now.boot_usec, send0 + 10 * SEC); /* the timer was armed at the deadline */
    CHECK(t_logged(&t, "stopped leading: renew deadline passed"));
    CHECK(t_find(&t, ELECTION_ACTION_PUBLISH));
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(v.state == ELECTION_STATE_API_UNREACHABLE && !v.is_leader);
    }
}

/* 429 with Retry-After: the retry waits at least that long. */
static void test_retry_after(void)
{
    T t;
    const ElectionAction *a;
    ElectionEvent ev;
    uint64_t at;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    at = t.now.boot_usec;
    ev = ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_TRANSIENT, NULL);
    ev.retry_after_usec = 3 * SEC;
    t_step(&t, ev);
    CHECK(t.timer >= at + 3 * SEC);
}

static void test_conflict_demotes(void)
{
    T t;
    const ElectionAction *a;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    t_advance(&t, 10 * MS);
    t_step(&t,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_CONFLICT, NULL));
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "stopped leading: conflict"));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET); /* refresh after demotion */
    CHECK(t_find(&t, ELECTION_ACTION_PUBLISH));
}

static void test_taken_by_other(void)
{
    T t;
    ElectionRecord r;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 100 * MS);
    r = t_rec("pod-b", 15, WALL0, WALL0, 1, 4); /* kubectl replace to another holder */
    t_watch(&t, &r);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "stopped leading: lease taken by pod-b"));
    CHECK(t_request(&t) == NULL);
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(strcmp(v.leader, "pod-b") == 0 && v.term == 1 && v.state == ELECTION_STATE_FOLLOWING);
        CHECK(v.valid_ms == 15000);
    }
}

/* SIGSTOP longer than L: not leader at once after resuming, leader again only after a renew. */
static void test_pause(void)
{
    T t;
    const ElectionAction *a;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 20 * SEC);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec)); /* before any event is processed */
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_logged(&t, "stopped leading: renew deadline passed"));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    if (!a) return;
    t_advance(&t, 10 * MS);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    t_write_ok(&t, a, 4);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "became leader term=1"));

    /* Paused again; meanwhile pod-b took over: the queued watch event demotes, the renew 409s. */
    t_advance(&t, 30 * SEC);
    {
        ElectionRecord r = t_rec("pod-b", 15, WALL0, WALL0, 1, 9);
        t_watch(&t, &r);
        CHECK(!election_is_leader(&t.e, t.now.boot_usec));
        CHECK(t_request(&t) == NULL);
    }
}

/* Followers: takeover after max(L, record's leaseDurationSeconds) of silence on their own clock,
 * re-armed by every observed change; the writer's renewTime is irrelevant. */
static void test_follower_expiry(int32_t lds, uint64_t expect_wait)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    uint64_t seen;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    /* renewTime far in the past and far in the future by our wall clock: must not matter */
    r = t_rec("pod-b", lds, WALL0 - 3600 * (int64_t)SEC, WALL0 + 3600 * (int64_t)SEC, 6, 20);
    t_advance(&t, 5 * MS);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    CHECK(t_request(&t) == NULL);
    seen = t.now.boot_usec;
    CHECK_EQ_U(t.timer, seen + expect_wait);
    /* a renew observed 5 s later restarts the wait */
    t_advance(&t, 5 * SEC);
    r.renew_time_usec -= 7200 * (int64_t)SEC; /* goes backwards by our clock: still a change */
    r.revision = 21;
    t_watch(&t, &r);
    seen = t.now.boot_usec;
    CHECK_EQ_U(t.timer, seen + expect_wait);
    /* the same event again (a relist) is not a change */
    t_advance(&t, 1 * SEC);
    t_watch(&t, &r);
    CHECK_EQ_U(t.timer, seen + expect_wait);
    /* a label edit (new revision, same spec) is not a renew either (client-go compares specs) */
    r.revision = 22;
    t_watch(&t, &r);
    CHECK_EQ_U(t.timer, seen + expect_wait);
    t_advance_to(&t, seen + expect_wait - 1);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_request(&t) == NULL);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    if (!a) return;
    CHECK_EQ_U(t.now.boot_usec, seen + expect_wait);
    CHECK_EQ_U(a->base_revision, 22);
    CHECK(a->record.lease_transitions == 7);
    CHECK(a->record.lease_duration_seconds == 15);
    CHECK(a->record.acquire_time_usec == t.now.wall_usec &&
          a->record.renew_time_usec == t.now.wall_usec);
    CHECK(strcmp(a->record.holder, "pod-a") == 0);
    t_write_ok(&t, a, 23);
    CHECK(t_logged(&t, "became leader term=7"));
}

/* A released Lease (empty holder) is free at once; an acquisition race lost: 409, GET, follow. */
static void test_released_free_at_once(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-b", 15, WALL0, WALL0, 4, 30);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    t_advance(&t, 3 * SEC);
    r = t_rec("", 1, WALL0 + 3, WALL0 + 3, 4, 31); /* what ReleaseOnCancel writes */
    t_watch(&t, &r);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->record.lease_transitions == 5);
    if (!a) return;
    CHECK_EQ_U(a->base_revision, 31);
    t_advance(&t, 10 * MS);
    t_step(&t,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_CONFLICT, NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    r = t_rec("pod-c", 15, WALL0 + 4, WALL0 + 4, 5, 32);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    CHECK(t_request(&t) == NULL);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
}

/* Deletion: a leader stops at once and re-creates with a new term; a follower of another holder
 * waits the holder's lease out; terms never go back (a re-created Lease continues from max+1). */
static void test_deletion_and_terms(void)
{
    T t, f;
    const ElectionAction *a;
    ElectionRecord r;
    ElectionEvent del = {.type = ELECTION_EVENT_WATCH_EVENT, .deleted = true};

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 1 * SEC);
    del.record.revision = 4;
    t_step(&t, del);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "stopped leading: lease deleted"));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_CREATE && a->record.lease_transitions == 2);

    t_init(&f, "pod-a");
    t_step(&f, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&f);
    r = t_rec("pod-b", 15, WALL0, WALL0, 7, 40);
    t_step(&f, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    t_advance(&f, 4 * SEC);
    del.record.revision = 41;
    t_step(&f, del);
    CHECK(t_request(&f) == NULL); /* pod-b may still believe it leads */
    CHECK_EQ_U(f.timer, 1000 * SEC + 15 * SEC);
    /* client-go re-creates it meanwhile, with leaseTransitions 0 */
    t_advance(&f, 1 * SEC);
    r = t_rec("pod-c", 15, WALL0, WALL0, 0, 42);
    t_watch(&f, &r);
    CHECK(t_request(&f) == NULL);
    t_fire(&f);
    a = t_request(&f);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    if (a) CHECK(a->record.lease_transitions == 8); /* above every term seen, not 1 */

    /* deleted while held by nobody: create at once */
    t_init(&f, "pod-a");
    t_step(&f, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&f);
    r = t_rec("pod-b", 15, WALL0, WALL0, 2, 50);
    t_step(&f, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    r = t_rec("", 1, WALL0, WALL0, 2, 51);
    t_watch(&f, &r);
    a = t_request(&f); /* acquisition in flight; then deleted: 404 */
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    del.record.revision = 52;
    t_step(&f, del);
    t_step(&f,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_NOT_FOUND, NULL));
    a = t_request(&f);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    t_step(&f,
           ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_NOT_FOUND, NULL));
    a = t_request(&f);
    CHECK(a && a->type == ELECTION_ACTION_CREATE && a->record.lease_transitions == 4);
}

/* Duplicate identity vs a lost response to our own renew. */
static void test_duplicate_identity(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r, mine;
    uint64_t send;

    /* lost response: the renew timed out, but it committed; the watch shows our renewTime */
    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    if (!a) return;
    mine = a->record;
    mine.revision = 4;
    send = t.now.boot_usec;
    t_advance(&t, 3 * SEC);
    t_step(&t,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_TIMEOUT, NULL));
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_request(&t) == NULL); /* the retry is jittered */
    t_watch(&t, &mine);
    CHECK(!t_logged(&t, "duplicate"));
    /* only an answer confers a claim (it tells a creation apart); the retry uses the revision the
     * watch showed, so it succeeds without a 409 */
    CHECK(!election_is_leader(&t.e, send + 10 * SEC - 1));
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->base_revision == 4);
    if (!a) return;
    send = t.now.boot_usec;
    t_write_ok(&t, a, 5);
    CHECK(election_is_leader(&t.e, send + 10 * SEC - 1));
    mine = t.req.record;
    mine.revision = 5;
    /* and a 409 on the next renew, then a GET showing our record: no duplicate, renew again */
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    if (a && a->type == ELECTION_ACTION_UPDATE) {
        CHECK_EQ_U(a->base_revision, 5);
        t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_CONFLICT,
                             NULL));
        CHECK(!election_is_leader(&t.e, t.now.boot_usec));
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_GET);
        t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &mine));
        CHECK(!t_logged(&t, "duplicate"));
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
    }

    /* a renewTime we never sent, under our identity: duplicate, stop, back off for L */
    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 500 * MS);
    r = t_rec("pod-a", 15, WALL0, WALL0 + 777, 0, 4);
    t_watch(&t, &r);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "duplicate identity"));
    {
        const ElectionAction *l = t_find(&t, ELECTION_ACTION_LOG);
        bool err = false;
        for (size_t i = 0; i < t.acts.n; i++)
            err |= t.acts.a[i].type == ELECTION_ACTION_LOG && t.acts.a[i].level == LOG_ERR;
        CHECK(l && err);
    }
    CHECK(t_request(&t) == NULL);
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(v.duplicate_identity && !v.is_leader && v.leader[0] == 0);
    }
    /* during the back-off, even a free Lease is left alone */
    t_advance(&t, 1 * SEC);
    r = t_rec("", 1, WALL0, WALL0, 0, 5);
    t_watch(&t, &r);
    CHECK(t_request(&t) == NULL);
    t_fire(&t);
    CHECK_EQ_U(t.now.boot_usec, 1000 * SEC + 10 * MS + 500 * MS + 15 * SEC);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
}

/* Start-up with the Lease held by our identity: waited out like another holder's (it may be a
 * live predecessor cut off from the API), then not claimed until our own write succeeds. */
static void test_startup_own_identity(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    uint64_t seen;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-a", 15, WALL0 - 100, WALL0 - 50, 3, 60); /* our previous incarnation */
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    seen = t.now.boot_usec;
    CHECK(!t_logged(&t, "duplicate"));
    CHECK(t_logged(&t, "already held by our identity"));
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_request(&t) == NULL); /* not before the lease ran out on our clock */
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(!v.is_leader && v.leader[0] == 0);
    }
    t_fire(&t);
    CHECK(t.now.boot_usec >= seen + 15 * SEC);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(!v.is_leader && v.leader[0] == 0);
    }
    if (!a) return;
    CHECK(a->record.lease_transitions == 4); /* a new term for a new process */
    t_advance(&t, 20 * MS);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    t_write_ok(&t, a, 61);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "became leader term=4"));
}

/* Start-up with our identity held by a live predecessor (a re-created pod whose old self is still
 * renewing): its renews arrive while we wait; we never claim during them. */
static void test_startup_own_identity_live(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-a", 15, WALL0 - 100, WALL0 - 50, 3, 60);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    for (int i = 1; i <= 20; i++) {
        t_advance(&t, 2 * SEC);
        r = t_rec("pod-a", 15, WALL0 - 100, WALL0 + i * 2 * (int64_t)SEC, 3, 60 + (uint64_t)i);
        t_watch(&t, &r);
        if (i == 1) CHECK(t_logged(&t, "duplicate identity"));
        CHECK(!election_is_leader(&t.e, t.now.boot_usec));
        a = t_request(&t);
        CHECK(a == NULL);
        if (a) return;
    }
}

/* SIGTERM: stop claiming (published) before the release is sent; release as ReleaseOnCancel. */
static void test_shutdown(void)
{
    T t;
    const ElectionAction *a;
    size_t ipub = 99, iupd = 99;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t); /* a renew in flight: abandoned */
    t_advance(&t, 5 * MS);
    CHECK(!election_stopping(&t.e) && election_claiming(&t.e, t.now.boot_usec));
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(election_stopping(&t.e) && !election_claiming(&t.e, t.now.boot_usec));
    for (size_t i = 0; i < t.acts.n; i++) {
        if (t.acts.a[i].type == ELECTION_ACTION_PUBLISH && ipub == 99) ipub = i;
        if (t.acts.a[i].type == ELECTION_ACTION_UPDATE && iupd == 99) iupd = i;
    }
    CHECK(ipub < iupd && iupd != 99);
    CHECK(t_logged(&t, "stopped leading: shutting down"));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    if (!a) return;
    CHECK(a->record.holder[0] == 0 && a->record.lease_duration_seconds == 1);
    CHECK(a->record.acquire_time_usec == a->record.renew_time_usec);
    CHECK(a->record.lease_transitions == 1);
    CHECK_EQ_U(a->base_revision, 3);
    CHECK(a->timeout_usec <= 10 * SEC);
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(v.state == ELECTION_STATE_RELEASING);
    }
    t_advance(&t, 5 * MS);
    t_write_ok(&t, a, 5);
    CHECK(t_find(&t, ELECTION_ACTION_EXIT));
    CHECK(election_exited(&t.e));

    /* the release keeps failing: EXIT within the bound anyway */
    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
    {
        uint64_t start = t.now.boot_usec;
        int n = 0;
        while (!election_exited(&t.e) && n < 100) {
            a = t_request(&t);
            if (a) {
                t_advance(&t, 100 * MS);
                t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id,
                                     ELECTION_RESULT_TRANSIENT, NULL));
            } else if (!t_find(&t, ELECTION_ACTION_EXIT)) {
                t_fire(&t);
            }
            n++;
        }
        CHECK(election_exited(&t.e));
        CHECK(t.now.boot_usec <= start + 10 * SEC);
        CHECK(n > 3);
    }

    /* a follower exits at once */
    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    {
        ElectionRecord r = t_rec("pod-b", 15, WALL0, WALL0, 1, 3);
        t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    }
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
    CHECK(t_find(&t, ELECTION_ACTION_EXIT) && t_request(&t) == NULL);
    CHECK(t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER}) == 0 && t.acts.n == 0);

    /* shutdown while an acquisition is in flight: wait for it, release if it won */
    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    t_step(&t,
           ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_NOT_FOUND, NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_CREATE);
    {
        ElectionAction create = *a;
        t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
        CHECK(!t_find(&t, ELECTION_ACTION_EXIT) && t_request(&t) == NULL);
        t_write_ok(&t, &create, 2);
        CHECK(!election_is_leader(&t.e, t.now.boot_usec)); /* never claims after SIGTERM */
        a = t_request(&t);
        CHECK(a && a->kind == ELECTION_WRITE_RELEASE && a->base_revision == 2);
    }
}

static void test_resign(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 1 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_RESIGN});
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    if (!a) return;
    r = a->record;
    t_write_ok(&t, a, 4);
    CHECK(!t_find(&t, ELECTION_ACTION_EXIT));
    CHECK(t_logged(&t, "resign"));
    CHECK(t_request(&t) == NULL); /* the Lease is free, but we hold off */
    r.revision = 4;
    t_watch(&t, &r);
    CHECK(t_request(&t) == NULL);
    {
        uint64_t resigned = t.now.boot_usec;
        t_fire(&t);
        CHECK_EQ_U(t.now.boot_usec, resigned + 15 * SEC); /* hold-off = L by default */
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
        CHECK(a && a->record.lease_transitions == 2);
    }
}

static void test_watch_state_and_stale(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord old;
    ElectionView v;

    t_init(&t, "pod-a");
    CHECK(t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER}) == -EINVAL); /* before START */
    CHECK(t_step(&t, (ElectionEvent){.type = (ElectionEventType)99}) == -EINVAL);
    become_leader(&t, 3);
    CHECK(t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START}) == -EINVAL);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_WATCH_STATE, .watch_up = false});
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(v.state == ELECTION_STATE_LEADING); /* a leader leads until its deadline */
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    if (!a) return;
    t_write_ok(&t, a, 5);
    /* a stale event (the record before our renew) arrives late: ignored */
    old = t_rec("pod-b", 15, WALL0, WALL0, 9, 2);
    t_watch(&t, &old);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    t_advance(&t, 20 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(!v.is_leader && v.state == ELECTION_STATE_API_UNREACHABLE);
    /* unknown request ids are ignored */
    CHECK(t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, 12345, ELECTION_RESULT_OK, &old)) == 0);
    CHECK(t.acts.n == 0 || t_request(&t) == NULL);
}

/* kubectl replace keeping our holder and renewTime but changing the term: stop, new term. */
static void test_hand_edit_keeping_holder(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE);
    if (!a) return;
    t_write_ok(&t, a, 4);
    r = t.req.record;
    r.revision = 5;
    r.lease_transitions = 0; /* edited down */
    t_watch(&t, &r);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "stopped leading: lease edited"));
    CHECK(!t_logged(&t, "duplicate"));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE && a->record.lease_transitions == 2);
    CHECK(a && a->base_revision == 5);
}

/* RESIGN as a follower: nothing to release; no acquisition during the hold-off. Duplicate
 * identity: one error line per back-off, however often the other process renews. */
static void test_resign_follower_and_duplicate_rate(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    unsigned errors = 0;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-b", 15, WALL0, WALL0, 3, 10);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_RESIGN});
    CHECK(t_request(&t) == NULL && !t_find(&t, ELECTION_ACTION_EXIT));
    CHECK(t_logged(&t, "resign: not leading"));
    t_advance(&t, 1 * SEC);
    r = t_rec("", 1, WALL0, WALL0, 3, 11);
    t_watch(&t, &r);
    CHECK(t_request(&t) == NULL); /* free, but held off */
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK_EQ_U(t.now.boot_usec, 1000 * SEC + 15 * SEC);

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-b", 15, WALL0, WALL0, 3, 10);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    for (int i = 0; i < 20; i++) {
        t_advance(&t, 2 * SEC);
        r = t_rec("pod-a", 15, WALL0, WALL0 + i * 2 * (int64_t)SEC, 4, 11 + (uint64_t)i);
        t_watch(&t, &r);
        for (size_t k = 0; k < t.acts.n; k++)
            errors += t.acts.a[k].type == ELECTION_ACTION_LOG && t.acts.a[k].level == LOG_ERR;
        CHECK(t_request(&t) == NULL);
        CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    }
    CHECK(errors == 1);
}

/* A glue that never answers: the engine's own guard turns it into a timeout. */
static void test_lost_answer_guard(void)
{
    T t;
    const ElectionAction *a;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    t_fire(&t);
    CHECK(t_logged(&t, "get lease failed: timeout"));
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
}

/* An empty holder that is not a release marker (kubectl patch holderIdentity=null while the
 * holder may still claim, cut off from the API) is waited out like a deletion: from when the
 * holder's record was observed, for its lease. A marker (leaseDurationSeconds 1, the holder's
 * term) is taken at once; a marker with another term than the holder observed is waited out. */
static void test_hand_cleared_holder(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    uint64_t seen;

    /* 1. hand-cleared: same spec as the holder's except the holder */
    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-b", 15, WALL0, WALL0, 4, 30);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    seen = t.now.boot_usec;
    t_advance(&t, 2 * SEC);
    r = t_rec("", 15, WALL0, WALL0, 4, 31);
    t_watch(&t, &r);
    CHECK(t_request(&t) == NULL);
    CHECK(t_logged(&t, "cleared"));
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK(t.now.boot_usec >= seen + 15 * SEC);
    CHECK(a && a->record.lease_transitions == 5);

    /* 2. a release marker of another term than the holder's: waited out too */
    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    r = t_rec("pod-b", 15, WALL0, WALL0, 4, 30);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    seen = t.now.boot_usec;
    t_advance(&t, 1 * SEC);
    r = t_rec("", 1, WALL0 + 1, WALL0 + 1, 3, 31);
    t_watch(&t, &r);
    CHECK(t_request(&t) == NULL);
    t_fire(&t);
    CHECK(t.now.boot_usec >= seen + 15 * SEC);

    /* 3. an empty holder at start-up that is no release marker: one lease duration */
    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    seen = t.now.boot_usec;
    r = t_rec("", 0, 0, 0, 0, 30); /* e.g. created by hand with an empty spec */
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    CHECK(t_request(&t) == NULL);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK(t.now.boot_usec >= seen + 15 * SEC);

    /* 4. the leader itself sees its holder cleared: it stops at once and may take it again at once
     * (it is the only one that could still have claimed) */
    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_advance(&t, 100 * MS);
    r = t_rec("", 15, WALL0, WALL0, 1, 4);
    t_watch(&t, &r);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE && a->record.lease_transitions == 2);
}

/* resourceVersions that go backwards (etcd restored from a backup): after a 409, the read that
 * follows is the truth even with a lower resourceVersion; logged; no tight loop. */
static void test_revision_regression(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    unsigned requests = 0;

    t_init(&t, "pod-a");
    become_leader(&t, 500);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->base_revision == 500);
    if (!a) return;
    /* the store was restored: our renew's resourceVersion is unknown to it */
    t_advance(&t, 5 * MS);
    t_step(&t,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_CONFLICT, NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    if (!a) return;
    /* the restored Lease: held by someone else at a lower revision */
    r = t_rec("pod-b", 15, WALL0, WALL0, 7, 120);
    t_advance(&t, 5 * MS);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    CHECK(t_logged(&t, "resourceVersion went backwards"));
    {
        ElectionView v;
        election_view(&t.e, t.now.boot_usec, &v);
        CHECK(strcmp(v.leader, "pod-b") == 0 && v.term == 7);
    }
    CHECK(t_request(&t) == NULL); /* pod-b's lease is waited out */
    /* the bounded case: every write refused, every read older than the last one kept. The loop
     * must not spin: at most a handful of requests per retry period. */
    t_init(&t, "pod-a");
    become_leader(&t, 500);
    t_fire(&t);
    for (int i = 0; i < 200 && t.now.boot_usec < 1000 * SEC + 20 * SEC; i++) {
        a = t_request(&t);
        if (!a) {
            if (t.timer == ELECTION_TIME_NONE) break;
            t_fire(&t);
            continue;
        }
        requests++;
        t_advance(&t, 1 * MS);
        if (a->type == ELECTION_ACTION_GET) {
            r = t_rec("pod-a", 15, WALL0, WALL0, 1, 400 - (uint64_t)i); /* older each time */
            t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
        } else {
            t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id,
                                 ELECTION_RESULT_CONFLICT, NULL));
        }
    }
    /* 20 s at R = 2 s: a few requests per retry period, not one per millisecond */
    CHECK(requests < 60);
    CHECK(t.now.boot_usec >= 1000 * SEC + 10 * SEC);
}

/* A renew attempt gets a deadline near the retry period, not the whole remaining claim: a
 * black-holed connection leaves time for a second attempt on a fresh one. */
static void test_renew_attempt_deadline(void)
{
    T t;
    const ElectionAction *a;
    unsigned attempts = 0;

    t_init(&t, "pod-a");
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
    if (!a) return;
    CHECK(a->timeout_usec <= 2 * SEC);
    /* every attempt hangs until its timeout: several attempts before the renew deadline */
    while (election_is_leader(&t.e, t.now.boot_usec) && attempts < 20) {
        a = t_request(&t);
        if (a && a->type == ELECTION_ACTION_UPDATE) {
            uint64_t id = a->request_id;
            attempts++;
            t_advance(&t, a->timeout_usec);
            t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, id, ELECTION_RESULT_TIMEOUT, NULL));
        } else {
            t_fire(&t);
        }
    }
    CHECK(attempts >= 3);
}

/* Races lost one after another (a create answered AlreadyExists, then acquisitions whose reads
 * show the winner's newer write) never back off: each release is taken as fast as the first. */
static void test_lost_races_no_backoff(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord r;
    uint64_t rev = 30;

    t_init(&t, "pod-a");
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    /* start-up: no Lease, our create loses to another candidate's (409 AlreadyExists) */
    t_step(&t,
           ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_NOT_FOUND, NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_CREATE);
    if (!a) return;
    t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_ALREADY_EXISTS,
                         NULL));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    if (!a) return;
    r = t_rec("pod-b", 15, WALL0, WALL0, 4, rev);
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    for (int i = 0; i < 3; i++) {
        t_advance(&t, 3 * SEC);
        r = t_rec("", 1, WALL0 + i, WALL0 + i, 4 + i, ++rev); /* released */
        t_watch(&t, &r);
        a = t_request(&t);
        CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
        if (!a) return;
        t_advance(&t, 2 * MS);
        t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_CONFLICT,
                             NULL));
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_GET); /* at once, every time */
        if (!a) return;
        r = t_rec("pod-c", 15, WALL0 + i, WALL0 + i, 5 + i, ++rev); /* the winner */
        t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
        CHECK(!t_logged(&t, "conflicts in a row"));
    }
}

int main(void)
{
    test_config();
    test_fresh_cluster_and_renew();
    test_transient_storm();
    test_retry_after();
    test_conflict_demotes();
    test_taken_by_other();
    test_pause();
    test_follower_expiry(15, 15 * SEC);
    test_follower_expiry(30, 30 * SEC);
    test_follower_expiry(5, 15 * SEC);
    test_follower_expiry(0, 15 * SEC);
    test_released_free_at_once();
    test_deletion_and_terms();
    test_duplicate_identity();
    test_startup_own_identity();
    test_startup_own_identity_live();
    test_shutdown();
    test_resign();
    test_watch_state_and_stale();
    test_lost_answer_guard();
    test_hand_edit_keeping_holder();
    test_resign_follower_and_duplicate_rate();
    test_hand_cleared_holder();
    test_revision_regression();
    test_renew_attempt_deadline();
    test_lost_races_no_backoff();
    return t_report("test_election");
}
