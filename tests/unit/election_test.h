/* SPDX-License-Identifier: MIT */
#pragma once

/* A fake clock and a one-engine driver for the election engine's tests. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "election.h"

#include "check.h"

#define SEC UINT64_C(1000000)
#define MS UINT64_C(1000)

typedef struct T {
    Election e;
    ElectionNow now;
    ElectionActions acts; /* the last step's */
    ElectionAction req;   /* copy of the last request emitted (survives later steps) */
    bool req_now;         /* the last step emitted it */
    uint64_t timer;       /* armed boot time, ELECTION_TIME_NONE if none */
    int verbose;
} T;

static inline ElectionConfig t_config(const char *id)
{
    ElectionConfig c;
    if (election_config_init(&c, id) < 0) abort();
    c.seed = 42;
    return c;
}

static inline void t_init_cfg(T *t, const ElectionConfig *c)
{
    memset(t, 0, sizeof(*t));
    if (election_init(&t->e, c) < 0) abort();
    t->now.boot_usec = 1000 * SEC;
    t->now.wall_usec = INT64_C(1700000000) * (int64_t)SEC;
    t->timer = ELECTION_TIME_NONE;
    t->verbose = getenv("ELECTION_TEST_VERBOSE") != NULL;
}

static inline void t_init(T *t, const char *id)
{
    ElectionConfig c = t_config(id);
    t_init_cfg(t, &c);
}

static inline int t_step(T *t, ElectionEvent ev)
{
    int r = election_step(&t->e, &ev, &t->now, &t->acts);
    if (r < 0) return r;
    if (ev.type == ELECTION_EVENT_TIMER)
        t->timer = ELECTION_TIME_NONE; /* one-shot: the engine re-arms it if it wants */
    t->req_now = false;
    for (size_t i = 0; i < t->acts.n; i++)
        if (t->acts.a[i].type == ELECTION_ACTION_GET ||
            t->acts.a[i].type == ELECTION_ACTION_CREATE ||
            t->acts.a[i].type == ELECTION_ACTION_UPDATE) {
            t->req = t->acts.a[i];
            t->req_now = true;
            break;
        }
    for (size_t i = 0; i < t->acts.n; i++) {
        const ElectionAction *a = &t->acts.a[i];
        if (a->type == ELECTION_ACTION_ARM_TIMER) t->timer = a->at;
        if (t->verbose)
            fprintf(stderr, "  [%" PRIu64 ".%03" PRIu64 "] %s -> %s %s id=%" PRIu64 " %s\n",
                    t->now.boot_usec / SEC, t->now.boot_usec % SEC / MS,
                    election_event_type_to_string(ev.type), election_action_type_to_string(a->type),
                    a->type == ELECTION_ACTION_UPDATE || a->type == ELECTION_ACTION_CREATE
                        ? a->record.holder
                        : "",
                    a->request_id, a->message);
    }
    return r;
}

/* The first action of a type in the last step, or NULL. */
static inline const ElectionAction *t_find(const T *t, ElectionActionType type)
{
    for (size_t i = 0; i < t->acts.n; i++)
        if (t->acts.a[i].type == type) return &t->acts.a[i];
    return NULL;
}

static inline size_t t_count(const T *t, ElectionActionType type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->acts.n; i++)
        n += t->acts.a[i].type == type;
    return n;
}

/* The request emitted by the last step (a stable copy: later steps do not change it), or NULL. */
static inline const ElectionAction *t_request(const T *t)
{
    return t->req_now ? &t->req : NULL;
}

static inline bool t_logged(const T *t, const char *needle)
{
    for (size_t i = 0; i < t->acts.n; i++)
        if (t->acts.a[i].type == ELECTION_ACTION_LOG && strstr(t->acts.a[i].message, needle))
            return true;
    return false;
}

static inline void t_advance(T *t, uint64_t usec)
{
    t->now.boot_usec += usec;
    t->now.wall_usec += (int64_t)usec;
}

static inline void t_advance_to(T *t, uint64_t boot)
{
    if (boot > t->now.boot_usec) t_advance(t, boot - t->now.boot_usec);
}

/* Fires the armed timer (advancing the clock to it). */
static inline void t_fire(T *t)
{
    if (t->timer == ELECTION_TIME_NONE) abort();
    t_advance_to(t, t->timer);
    t->timer = ELECTION_TIME_NONE;
    t_step(t, (ElectionEvent){.type = ELECTION_EVENT_TIMER});
}

static inline ElectionRecord t_rec(const char *holder, int32_t lds, int64_t acquire, int64_t renew,
                                   int32_t transitions, uint64_t rev)
{
    ElectionRecord r = {0};
    snprintf(r.holder, sizeof(r.holder), "%s", holder);
    r.lease_duration_seconds = lds;
    r.acquire_time_usec = acquire;
    r.renew_time_usec = renew;
    r.lease_transitions = transitions;
    r.revision = rev;
    return r;
}

static inline ElectionEvent ev_result(ElectionEventType type, uint64_t id, ElectionResult r,
                                      const ElectionRecord *rec)
{
    ElectionEvent ev = {.type = type, .request_id = id, .result = r};
    if (rec) ev.record = *rec;
    return ev;
}

/* Answers the request `a` with OK and the record it wrote, stored at revision rev. */
static inline void t_write_ok(T *t, const ElectionAction *a, uint64_t rev)
{
    ElectionRecord r = a->record; /* copied first: a may point into t */
    uint64_t id = a->request_id;
    r.revision = rev;
    t_step(t, ev_result(ELECTION_EVENT_WRITE_RESULT, id, ELECTION_RESULT_OK, &r));
}

static inline void t_watch(T *t, const ElectionRecord *r)
{
    ElectionEvent ev = {.type = ELECTION_EVENT_WATCH_EVENT, .record = *r};
    t_step(t, ev);
}

static inline int t_report(const char *name)
{
    return check_report(name);
}
