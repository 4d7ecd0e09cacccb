/* SPDX-License-Identifier: MIT */
#pragma once

/* Copies the leader-probe that ships beside the running daemon binary to
 * dest (e.g. into the emptyDir shared with the application container), so
 * that the application image needs nothing installed. Atomic: written to a
 * temporary file in dest's directory, made executable, fsync'ed and renamed
 * over dest, so a probe exec'd meanwhile sees the old file or the new one,
 * never half of one. Creates dest's directory if needed. Runs once at start,
 * before the event loop. leader-run, shipped beside the probe, is installed the same way into
 * dest's directory as "leader-run". Returns 0 or a negative errno (logged). */
int probe_install(const char *dest);

/* Same, from an explicit source file (tests). */
int probe_install_from(const char *src, const char *dest);
