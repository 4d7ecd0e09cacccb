/* SPDX-License-Identifier: MIT */
/* The election engine and the application's health (ELECTION_EVENT_HEALTH): an unhealthy leader
 * releases as RESIGN does (without the hold-off), an unhealthy follower never acquires (free,
 * expired or absent Lease), a pod healthy again competes at once, and without health checks
 * nothing changes. Fake clock, one engine. */

#include <errno.h>
#include <syslog.h>

#include "election_test.h"

#define WALL0 (INT64_C(1700000000) * (int64_t)SEC)

static ElectionEvent health(bool healthy)
{
    return (ElectionEvent){.type = ELECTION_EVENT_HEALTH, .healthy = healthy};
}

static void t_init_health(T *t, const char *id, bool start_unhealthy)
{
    ElectionConfig c = t_config(id);
    c.start_unhealthy = start_unhealthy;
    t_init_cfg(t, &c);
}

/* START, GET -> a released Lease at rev-1, UPDATE -> OK at rev: leader. */
static void become_leader(T *t, uint64_t rev)
{
    const ElectionAction *a;
    ElectionRecord r = t_rec("", 1, WALL0 - 1000, WALL0 - 1000, 0, rev - 1);

    if (!t->e.started) CHECK(t_step(t, (ElectionEvent){.type = ELECTION_EVENT_START}) == 0);
    /* the GET of START, outstanding (a HEALTH step may have come in between) */
    a = t->req.type == ELECTION_ACTION_GET && t->e.inflight_id == t->req.request_id ? &t->req
                                                                                    : NULL;
    CHECK(a && a->type == ELECTION_ACTION_GET);
    if (!a) abort();
    t_advance(t, 5 * MS);
    t_step(t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &r));
    a = t_request(t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    if (!a) abort();
    t_advance(t, 5 * MS);
    t_write_ok(t, a, rev);
    CHECK(election_is_leader(&t->e, t->now.boot_usec));
}

/* Index of the first action of a type in the last step, or -1. */
static int t_index(const T *t, ElectionActionType type)
{
    for (size_t i = 0; i < t->acts.n; i++)
        if (t->acts.a[i].type == type) return (int)i;
    return -1;
}

/* Without health checks: healthy from the start; HEALTH(true) changes nothing. */
static void test_no_health_check(void)
{
    T t;
    ElectionView v;

    t_init(&t, "pod-a");
    CHECK(!t.e.unhealthy);
    become_leader(&t, 3);
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(!v.unhealthy && v.is_leader);
    t_step(&t, health(true));
    CHECK(t.acts.n == 0);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
    CHECK(strcmp(election_event_type_to_string(ELECTION_EVENT_HEALTH), "health") == 0);
}

/* Health unknown at start: reads the Lease, never writes, until healthy. */
static void test_unknown_health_does_not_compete(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord free_rec = t_rec("", 1, WALL0, WALL0, 4, 10);
    ElectionView v;

    t_init_health(&t, "pod-a", true);
    CHECK(t_step(&t, health(true)) == -EINVAL); /* before START, as every event */
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_GET);
    if (!a) return;
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &free_rec));
    CHECK(t_request(&t) == NULL); /* free Lease, but not healthy */
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(v.unhealthy && !v.is_leader && v.state == ELECTION_STATE_FOLLOWING);
    /* the timer, whenever it fires, does not make it compete either */
    for (int i = 0; i < 5; i++) {
        t_advance(&t, 7 * SEC);
        t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
        CHECK(t_request(&t) == NULL);
    }
    /* absent Lease: no create either */
    {
        ElectionEvent del = {.type = ELECTION_EVENT_WATCH_EVENT, .deleted = true};
        del.record.revision = 11;
        t_step(&t, del);
        CHECK(t_request(&t) == NULL);
        t_advance(&t, 20 * SEC);
        t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
        CHECK(t_request(&t) == NULL);
    }
    /* healthy: competes at once, and publishes the change */
    t_step(&t, health(true));
    CHECK(t_logged(&t, "application healthy"));
    CHECK(t_find(&t, ELECTION_ACTION_PUBLISH) != NULL);
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_CREATE);
    CHECK(a && a->record.lease_transitions == 5);
}

/* A follower that becomes unhealthy stays out even when the leader's Lease expires. */
static void test_unhealthy_follower_never_acquires(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord other = t_rec("pod-b", 15, WALL0, WALL0, 2, 5);

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    CHECK(t_request(&t) == NULL); /* the GET of START is still outstanding */
    a = &t.req;
    CHECK(a->type == ELECTION_ACTION_GET);
    if (!a) return;
    t_step(&t, ev_result(ELECTION_EVENT_GET_RESULT, a->request_id, ELECTION_RESULT_OK, &other));
    CHECK(t_request(&t) == NULL);
    t_advance(&t, 3 * SEC);
    t_step(&t, health(false));
    CHECK(t_logged(&t, "not competing"));
    CHECK(t_request(&t) == NULL);
    /* pod-b goes silent: its lease expires at +15 s; we are unhealthy */
    t_advance(&t, 20 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_request(&t) == NULL);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    /* pod-b releases it: still out */
    {
        ElectionRecord rel =
            t_rec("", 1, WALL0 + 30 * (int64_t)SEC, WALL0 + 30 * (int64_t)SEC, 2, 6);
        t_watch(&t, &rel);
        CHECK(t_request(&t) == NULL);
    }
    /* healthy again: acquires at once */
    t_step(&t, health(true));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK(a && a->record.lease_transitions == 3 && a->base_revision == 6);
}

/* A leader that becomes unhealthy: not leader at once, PUBLISH before the release, release as
 * RESIGN, no EXIT, no hold-off: competes again as soon as it is healthy. */
static void test_unhealthy_leader_resigns(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord released;
    ElectionView v;
    int ip, ir;

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    become_leader(&t, 3);
    t_advance(&t, 1 * SEC);
    t_step(&t, health(false));
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
    CHECK(t_logged(&t, "stopped leading"));
    ip = t_index(&t, ELECTION_ACTION_PUBLISH);
    ir = t_index(&t, ELECTION_ACTION_UPDATE);
    CHECK(ip >= 0 && ir >= 0 && ip < ir); /* "not leader" reaches clients before the release */
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE && a->record.holder[0] == 0);
    CHECK(a && a->base_revision == 3);
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(v.unhealthy && v.state == ELECTION_STATE_RELEASING);
    if (!a) return;
    released = a->record;
    t_write_ok(&t, a, 4);
    CHECK(!t_find(&t, ELECTION_ACTION_EXIT));
    CHECK(t_logged(&t, "not competing while unhealthy"));
    CHECK(t_request(&t) == NULL);
    released.revision = 4;
    t_watch(&t, &released);
    CHECK(t_request(&t) == NULL); /* free, but unhealthy */
    election_view(&t.e, t.now.boot_usec, &v);
    CHECK(v.state == ELECTION_STATE_FOLLOWING && !v.is_leader && v.unhealthy);
    t_advance(&t, 2 * SEC);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
    CHECK(t_request(&t) == NULL);
    /* healthy again well before a resign hold-off (L) would end: competes now */
    t_step(&t, health(true));
    a = t_request(&t);
    CHECK(a && a->type == ELECTION_ACTION_UPDATE && a->kind == ELECTION_WRITE_ACQUIRE);
    CHECK(a && a->record.lease_transitions == 2);
    if (!a) return;
    t_write_ok(&t, a, 5);
    CHECK(election_is_leader(&t.e, t.now.boot_usec));
}

/* A renew in flight when the health flips: abandoned; its late answer never claims again. */
static void test_renew_in_flight(void)
{
    T t;
    ElectionAction renew;
    const ElectionAction *a;

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    become_leader(&t, 3);
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RENEW);
    if (!a) return;
    renew = *a;
    t_advance(&t, 10 * MS);
    t_step(&t, health(false));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    t_write_ok(&t, &renew, 4); /* the renew's answer, late: ignored */
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
}

/* The API is down when the leader becomes unhealthy: the release is bounded; the pod stays a
 * follower (no EXIT), and still does not compete. */
static void test_release_gives_up(void)
{
    T t;
    const ElectionAction *a;

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    become_leader(&t, 3);
    t_step(&t, health(false));
    for (int i = 0; i < 40 && t.timer != ELECTION_TIME_NONE; i++) {
        a = t_request(&t);
        if (a && a->kind == ELECTION_WRITE_RELEASE) {
            uint64_t id = a->request_id;
            t_step(&t, ev_result(ELECTION_EVENT_WRITE_RESULT, id, ELECTION_RESULT_TRANSIENT, NULL));
        }
        if (t_logged(&t, "gave up")) break;
        t_fire(&t);
        if (t_logged(&t, "gave up")) break;
    }
    CHECK(!election_exited(&t.e));
    CHECK(!t.e.resigning);
    CHECK(!election_is_leader(&t.e, t.now.boot_usec));
}

/* RESIGN and HEALTH together: an explicit RESIGN keeps its hold-off. */
static void test_resign_then_unhealthy_and_back(void)
{
    T t;
    const ElectionAction *a;
    ElectionRecord rel;

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    become_leader(&t, 3);
    t_step(&t, health(false));
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    if (!a) return;
    rel = a->record;
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_RESIGN});
    t_write_ok(&t, a, 4);
    CHECK(t_logged(&t, "resign:") && t_logged(&t, "following for"));
    rel.revision = 4;
    t_watch(&t, &rel);
    t_step(&t, health(true));
    CHECK(t_request(&t) == NULL); /* the hold-off of the RESIGN */
    t_fire(&t);
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_ACQUIRE);
}

/* HEALTH during SHUTDOWN changes nothing about the exit. */
static void test_shutdown_unaffected(void)
{
    T t;
    const ElectionAction *a;

    t_init_health(&t, "pod-a", true);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_START});
    t_step(&t, health(true));
    become_leader(&t, 3);
    t_step(&t, (ElectionEvent){.type = ELECTION_EVENT_SHUTDOWN});
    a = t_request(&t);
    CHECK(a && a->kind == ELECTION_WRITE_RELEASE);
    if (!a) return;
    {
        ElectionAction rel = *a;
        t_step(&t, health(false));
        CHECK(t_request(&t) == NULL);
        t_write_ok(&t, &rel, 4);
        CHECK(t_find(&t, ELECTION_ACTION_EXIT) != NULL);
    }
}

int main(void)
{
    test_no_health_check();
    test_unknown_health_does_not_compete();
    test_unhealthy_follower_never_acquires();
    test_unhealthy_leader_resigns();
    test_renew_in_flight();
    test_release_gives_up();
    test_resign_then_unhealthy_and_back();
    test_shutdown_unaffected();
    return t_report("election health");
}
