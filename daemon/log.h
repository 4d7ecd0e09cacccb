/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

/* One line per event on stderr, as text or JSON (for log pipelines: ts,
 * level, msg, election, id, term). Nothing secret is ever passed here.
 *
 * Levels are syslog's, the one scale of the whole daemon (the engine's LOG
 * actions, the modules' log callbacks, this): LOG_ERR ("error", and anything
 * more severe), LOG_WARNING ("warn"), LOG_NOTICE and LOG_INFO ("info"),
 * LOG_DEBUG ("debug"). A line is written when its level is at most the level
 * set (as severe or more). */

/* Returns the level for "debug|info|warn|warning|error", or -EINVAL. */
int log_level_from_string(const char *s);

void log_setup(int format_json, int level);
/* Fields carried by every JSON line from now on (copied). */
void log_set_context(const char *election, const char *id);
void log_set_term(int64_t term); /* -1: none */
int log_get_level(void);

void log_internal(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_internalv(int level, const char *fmt, va_list ap);

#define log_debug(...) log_internal(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_internal(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, __VA_ARGS__)

/* The one way to log an error code: the format says "%m" where the error's text goes, err (a
 * negative errno as returned, or errno) is passed apart, and -|err| is returned:
 *     return log_error_errno(r, "cannot listen on %s: %m", path);
 *     log_warn_errno(r, "cannot start the watch: %m");
 * errno is |err| while the line is formatted; the caller's errno is kept. */
int log_internal_errno(int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug_errno(err, ...) log_internal_errno(LOG_DEBUG, (err), __VA_ARGS__)
#define log_info_errno(err, ...) log_internal_errno(LOG_INFO, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_internal_errno(LOG_WARNING, (err), __VA_ARGS__)
#define log_error_errno(err, ...) log_internal_errno(LOG_ERR, (err), __VA_ARGS__)
