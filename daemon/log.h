/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdint.h>

/* One line per event on stderr, as text or JSON (for log pipelines: ts,
 * level, msg, election, id, term). Nothing secret is ever passed here. */

enum {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

/* Returns the level for "debug|info|warn|warning|error", or -EINVAL. */
int log_level_from_string(const char *s);

void log_setup(int format_json, int level);
/* Fields carried by every JSON line from now on (copied). */
void log_set_context(const char *election, const char *id);
void log_set_term(int64_t term); /* -1: none */
int log_get_level(void);

void log_internal(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_internalv(int level, const char *fmt, va_list ap);

#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_internal(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_internal(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Logs at error level and returns -|err|, for `return log_error_errno(r, ...)`. */
#define log_error_errno(err, ...) (log_internal(LOG_LEVEL_ERROR, __VA_ARGS__), -abs(err))
