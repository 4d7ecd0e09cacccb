/* SPDX-License-Identifier: MIT */
/* leader-elector: see --help, README.md and docs/design.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "elector.h"
#include "log.h"
#include "options.h"
#include "probe_install.h"
#include "util.h"

int main(int argc, char **argv)
{
    _cleanup_(elector_freep) Elector *e = NULL;
    sd_event *event = NULL;
    Options o;
    sigset_t ss;
    int r;

    /* SIGTERM/SIGINT are taken by the event loop (stop claiming, release, exit): block them
     * before anything else, so one arriving during start-up waits for the loop instead of
     * killing the process. */
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);

    switch (options_parse(&o, argc, argv)) {
    case OPTIONS_OK:
        break;
    case OPTIONS_EXIT_HELP:
        return 0;
    case OPTIONS_INSTALL_PROBE_ONLY: /* an init container copying the probe */
        return probe_install(o.install_probe) < 0 ? 1 : 0;
    case OPTIONS_USAGE_ERROR:
    default:
        return 64; /* EX_USAGE */
    }

    log_setup(o.log_format == LOG_FORMAT_JSON, o.log_level);
    log_set_context(o.election, o.id);
    /* Sockets and curl report EPIPE; a signal for it would kill the daemon. */
    signal(SIGPIPE, SIG_IGN);

    if (o.install_probe[0] && probe_install(o.install_probe) < 0) return 1;

    r = sd_event_new(&event);
    if (r < 0) {
        log_error_errno(r, "cannot create the event loop: %m");
        return 1;
    }
    r = elector_new(event, &o, &e);
    if (r >= 0) r = elector_start(e);
    if (r >= 0) r = sd_event_loop(event);
    e = elector_free(e);
    sd_event_unref(event);
    if (r < 0) {
        log_error_errno(r, "exiting: %m");
        return 1;
    }
    log_info("exited");
    return 0;
}
