/* SPDX-License-Identifier: MIT */
/*
 * The engine with a lock that stores whole seconds (the Endpoints annotation's metav1.Time, the
 * old sidecar's lock): ElectionConfig.time_precision_usec, the peer lease-duration check
 * (check_peer_lease_duration) and ElectionRecord.aux (the MultiLock's second object).
 *
 * Why the precision matters: the engine recognises its own writes by renewTime. Written in µs and
 * read back truncated to the second, a renew of ours looks like a write by another process with
 * our identity (duplicate identity: the leader stops). And followers (client-go, the old
 * sidecar) count a renew only when the record changes: two renews within one second would be
 * the same record, so the second would not refresh their observed time while it extends our
 * claim. Both are tested here, with and without the setting.
 */
#include "election_test.h"

#define WALL_X75 (INT64_C(1700000000) * (int64_t)SEC + 750 * (int64_t)MS)

static ElectionConfig old_sidecar_config(const char *id)
{
    ElectionConfig c = t_config(id);
    /* the old sidecar's --ttl 10s: lease 10 s, renew deadline 5 s, retry 2.5 s */
    c.lease_duration_usec = 10 * SEC;
    c.renew_deadline_usec = 5 * SEC;
    c.retry_period_usec = 2500 * MS;
    c.time_precision_usec = SEC;
    return c;
}

/* Starts an engine and answers its first GET with a released record: it acquires at once. */
static const ElectionAction *start_on_free(T *t, uint64_t rev)
{
    const ElectionAction *a;
    ElectionRecord r = t_rec("", 1, 0, 0, 2, rev);

    t_step(t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    if (!a) abort();
    t_step(t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    return t_request(t);
}

static void test_config(void)
{
    ElectionConfig c = old_sidecar_config("pod-a");

    CHECK(election_config_validate(&c) == NULL);
    c.time_precision_usec = 2 * SEC;
    CHECK(election_config_validate(&c) != NULL);
    c = t_config("pod-a");
    CHECK(c.time_precision_usec == 0 && !c.check_peer_lease_duration); /* defaults: as before */
}

/* Acquire and renew write whole seconds, strictly increasing; the record read back as the
 * Endpoints stores it is recognised as ours and confirms the claim. */
static void test_whole_seconds_recognised(void)
{
    ElectionConfig c = old_sidecar_config("pod-a");
    T t;
    const ElectionAction *a;
    int64_t last;

    t_init_cfg(&t, &c);
    t.now.wall_usec = WALL_X75;
    a = start_on_free(&t, 5);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    if (!a) return;
    CHECK(a->record.renew_time_usec == WALL_X75 - 750 * (int64_t)MS); /* truncated, not rounded */
    CHECK(a->record.acquire_time_usec == a->record.renew_time_usec);
    CHECK(a->record.lease_duration_seconds == 10);
    CHECK(a->record.lease_transitions == 3);
    last = a->record.renew_time_usec;
    t_advance(&t, 40 * MS);
    t_write_ok(&t, a, 6);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    for (int i = 0; i < 8; i++) {
        t_fire(&t);
        a = t_request(&t);
        CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_RENEW);
        if (!a) return;
        CHECK(a->record.renew_time_usec % (int64_t)SEC == 0);
        CHECK(a->record.renew_time_usec > last);
        CHECK(a->record.acquire_time_usec == WALL_X75 - 750 * (int64_t)MS);
        /* never ahead of the wall clock when writes are at least a second apart */
        CHECK(a->record.renew_time_usec <= t.now.wall_usec);
        last = a->record.renew_time_usec;
        t_advance(&t, 30 * MS);
        t_write_ok(&t, a, 7 + (uint64_t)i);
        CHECK(election_is_leader(&t.e, t.now.boot_usec));
        CHECK(!t_logged(&t, "duplicate"));
    }
}

/* Two writes within one second (a failed renew retried quickly) get distinct renewTimes: the
 * second is one second above the first, never equal (a follower would not see a renew). */
static void test_same_second_bumped(void)
{
    ElectionConfig c = old_sidecar_config("pod-a");
    T t;
    const ElectionAction *a;
    int64_t first;

    t_init_cfg(&t, &c);
    t.now.wall_usec = WALL_X75 - 700 * (int64_t)MS; /* x.050 */
    a = start_on_free(&t, 5);
    if (!a) abort();
    first = a->record.renew_time_usec;
    t_write_ok(&t, a, 6);
    t_fire(&t); /* renew at +2.5 s */
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RENEW);
    if (!a) return;
    int64_t second = a->record.renew_time_usec;
    CHECK(second == first + 2 * (int64_t)SEC);
    /* fails at once; the retry comes within the same wall second */
    t_step(&t,
           ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_TRANSIENT, NULL));
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    {
        uint64_t wait = t.timer - t.now.boot_usec;
        CHECK(wait >= 1250 * MS && wait <= 2500 * MS); /* r/2 .. r */
        /* Let the wall clock land in the same second as the failed renew when the retry
         * fires (wall and boot clocks are independent: a slow NTP step, or just 0.9 s). */
        t.now.wall_usec = second + 900 * (int64_t)MS - (int64_t)wait;
    }
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RENEW);
    if (!a) return;
    CHECK(a->record.renew_time_usec % (int64_t)SEC == 0);
    CHECK(a->record.renew_time_usec == second + (int64_t)SEC); /* bumped, not equal */
    t_write_ok(&t, a, 8);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
}

/* A release right after a renew, within the same second: one second above, not equal (followers
 * must see the release as a change). */
static void test_release_same_second(void)
{
    ElectionConfig c = old_sidecar_config("pod-a");
    T t;
    const ElectionAction *a;
    int64_t prev = 0;

    t_init_cfg(&t, &c);
    t.now.wall_usec = WALL_X75 + 200 * (int64_t)MS; /* x.950 */
    a = start_on_free(&t, 5);
    if (!a) abort();
    prev = a->record.renew_time_usec;
    t_write_ok(&t, a, 6);
    t_advance(&t, 10 * MS); /* (x+1).960 is not reached: still second x */
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    if (!a) return;
    CHECK(a->record.holder[0] == 0);
    CHECK(a->record.renew_time_usec == prev + (int64_t)SEC);
    CHECK(a->record.renew_time_usec - t.now.wall_usec <= (int64_t)SEC);
}

/* Without the setting (µs writes) a record read back truncated to the second is not recognised:
 * the leader takes it for a duplicate identity and stops. This is what the setting prevents. */
static void test_without_precision_truncation_is_a_duplicate(void)
{
    ElectionConfig c = old_sidecar_config("pod-a");
    T t;
    const ElectionAction *a;
    ElectionRecord back;

    c.time_precision_usec = 0;
    t_init_cfg(&t, &c);
    t.now.wall_usec = WALL_X75;
    a = start_on_free(&t, 5);
    if (!a) abort();
    CHECK(a->record.renew_time_usec == WALL_X75); /* µs */
    back = a->record;
    back.renew_time_usec -= back.renew_time_usec % (int64_t)SEC;
    back.acquire_time_usec -= back.acquire_time_usec % (int64_t)SEC;
    back.revision = 6;
    t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, a->request_id, ELECTION_RESULT_OK, &back));
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
}

/* A follower counts a renew only when the record changes (client-go's observedTime rule): a
 * record that differs from the previous only by its resourceVersion is no renew. Hence the
 * distinct renewTimes above. And aux: a change of the MultiLock's Lease alone is a change. */
static void test_follower_sees_changes(void)
{
    ElectionConfig c = old_sidecar_config("pod-b");
    T t;
    const ElectionAction *a;
    ElectionRecord r = t_rec("old-pod", 10, WALL_X75, WALL_X75, 4, 20);
    uint64_t seen;

    t_init_cfg(&t, &c);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    if (!a) abort();
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    seen = t.now.boot_usec;
    CHECK_EQ_U(t.timer, seen + 10 * SEC);
    /* same content, new revision (a renew within the same second by a writer that does not
     * bump): not a renew */
    t_advance(&t, 2500 * MS);
    r.revision = 21;
    t_watch(&t, &r);
    CHECK_EQ_U(t.timer, seen + 10 * SEC);
    /* the MultiLock's Lease changed alone: a change */
    t_advance(&t, 2500 * MS);
    r.revision = 22;
    r.aux = 77;
    t_watch(&t, &r);
    seen = t.now.boot_usec;
    CHECK_EQ_U(t.timer, seen + 10 * SEC);
    /* a distinct renewTime: a change */
    t_advance(&t, 2500 * MS);
    r.revision = 23;
    r.renew_time_usec += 3 * (int64_t)SEC;
    t_watch(&t, &r);
    seen = t.now.boot_usec;
    CHECK_EQ_U(t.timer, seen + 10 * SEC);
    t_advance_to(&t, seen + 10 * SEC - 1);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_request(&t) == NULL);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE && a->record.lease_transitions == 5);
}

/* check_peer_lease_duration: a holder whose leaseDurationSeconds is not above our renew deadline
 * could, as a follower, take over while we still claim: never compete while such a record is
 * the last one of another holder. */
static void test_peer_lease_duration(bool check, int32_t lds, bool expect_acquire)
{
    ElectionConfig c = old_sidecar_config("pod-b"); /* D = 5 s */
    T t;
    const ElectionAction *a;
    ElectionRecord r = t_rec("short-pod", lds, WALL_X75, WALL_X75, 1, 30);

    c.check_peer_lease_duration = check;
    t_init_cfg(&t, &c);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    if (!a) abort();
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    CHECK(t_logged(&t, "not competing") == (check && !expect_acquire));
    /* silence for much longer than any lease */
    for (int i = 0; i < 20 && t.timer != ELECTION_TIME_NONE; i++) {
        t_fire(&t);
        if (t_request(&t)) break;
    }
    t_advance(&t, 60 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    a = t_request(&t);
    if (!a && t.timer != ELECTION_TIME_NONE) {
        t_fire(&t);
        a = t_request(&t);
    }
    CHECK((a && a->kind == ELECTION_WRITE_ACQUIRE) == expect_acquire);
    if (!check || expect_acquire) return;
    /* released by it: still not competing (it may still be a candidate) */
    ElectionRecord freed = t_rec("", 1, WALL_X75, WALL_X75, 1, 31);
    t_watch(&t, &freed);
    t_advance(&t, 1 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_request(&t) == NULL);
    /* another holder with safe timings appears: competing again, after its lease */
    ElectionRecord safe = t_rec("safe-pod", 10, WALL_X75, WALL_X75, 2, 32);
    t_watch(&t, &safe);
    CHECK(t_logged(&t, "competing"));
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
}

int main(void)
{
    test_config();
    test_whole_seconds_recognised();
    test_same_second_bumped();
    test_release_same_second();
    test_without_precision_truncation_is_a_duplicate();
    test_follower_sees_changes();
    test_peer_lease_duration(true, 5, false); /* 5 s <= D 5 s: refused */
    test_peer_lease_duration(true, 4, false);
    test_peer_lease_duration(true, 6, true);  /* above D: fine */
    test_peer_lease_duration(false, 5, true); /* the check off (Lease mode): as before */
    return t_report("test_election_precision");
}
