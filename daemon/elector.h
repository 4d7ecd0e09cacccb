/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "options.h"

/* The imperative shell around the election engine: it owns the event loop's
 * sources and carries out the engine's actions (API requests through the
 * Kubernetes client, the one timer, publishing on the socket and --http),
 * and turns API answers, watch events, signals and RESIGN into engine events.
 * Every decision is the engine's (election.h); nothing here decides who
 * leads. */

typedef struct Elector Elector;

/* Sets up everything (API client, socket, optional HTTP endpoint, signals)
 * on event. Returns 0 or a negative errno (logged). */
int elector_new(sd_event *event, const Options *o, Elector **ret);
Elector *elector_free(Elector *e);
static inline void elector_freep(Elector **e)
{
    elector_free(*e);
}

/* Feeds START to the engine: the first GET and the watch begin. */
int elector_start(Elector *e);
