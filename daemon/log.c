/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kube_time.h"
#include "util.h"
#include "log.h"

static struct {
    int json;
    int level;
    char election[512];
    char id[256];
    int64_t term;
} log_state = {.level = LOG_INFO, .term = -1};

static const struct {
    const char *name;
    int level;
} level_names[] = {
    {"debug", LOG_DEBUG},     {"info", LOG_INFO}, {"warn", LOG_WARNING},
    {"warning", LOG_WARNING}, {"error", LOG_ERR},
};

/* The name a line carries: one of four, whatever the syslog level. */
static const char *level_name(int level)
{
    if (level <= LOG_ERR) return "error";
    if (level == LOG_WARNING) return "warn";
    if (level >= LOG_DEBUG) return "debug";
    return "info";
}

int log_level_from_string(const char *s)
{
    for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
        if (strcmp(s, level_names[i].name) == 0) return level_names[i].level;
    return -EINVAL;
}

void log_setup(int format_json, int level)
{
    log_state.json = format_json;
    log_state.level = level;
}

void log_set_context(const char *election, const char *id)
{
    snprintf(log_state.election, sizeof log_state.election, "%s", election ? election : "");
    snprintf(log_state.id, sizeof log_state.id, "%s", id ? id : "");
}

void log_set_term(int64_t term)
{
    log_state.term = term;
}

int log_get_level(void)
{
    return log_state.level;
}

void log_internalv(int level, const char *fmt, va_list ap)
{
    char msg[1024], ts[KUBE_TIME_BUF];
    int saved_errno = errno;

    if (level > log_state.level) return;

    /* First, before anything else touches errno: "%m" is the caller's errno. */
    vsnprintf(msg, sizeof msg, fmt, ap);
    kube_microtime_format(now_wall_usec(), ts);

    if (log_state.json) {
        JsonWriter w = JSON_WRITER_INIT(4096);
        _cleanup_free_ char *line = NULL;

        json_writer_begin_object(&w);
        json_writer_key(&w, "ts");
        json_writer_value_string(&w, ts);
        json_writer_key(&w, "level");
        json_writer_value_string(&w, level_name(level));
        json_writer_key(&w, "msg");
        json_writer_value_string(&w, msg);
        if (log_state.election[0]) {
            json_writer_key(&w, "election");
            json_writer_value_string(&w, log_state.election);
        }
        if (log_state.id[0]) {
            json_writer_key(&w, "id");
            json_writer_value_string(&w, log_state.id);
        }
        if (log_state.term >= 0) {
            json_writer_key(&w, "term");
            json_writer_value_int(&w, log_state.term);
        }
        json_writer_end_object(&w);
        if (json_writer_finish(&w, &line, NULL) < 0)
            fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"error\",\"msg\":\"log line lost\"}\n", ts);
        else
            fprintf(stderr, "%s\n", line);
    } else {
        fprintf(stderr, "%s %-5s %s\n", ts, level_name(level), msg);
    }
    errno = saved_errno;
}

void log_internal(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_internalv(level, fmt, ap);
    va_end(ap);
}

int log_internal_errno(int level, int err, const char *fmt, ...)
{
    int saved_errno = errno;
    va_list ap;

    err = abs(err);
    errno = err;
    va_start(ap, fmt);
    log_internalv(level, fmt, ap);
    va_end(ap);
    errno = saved_errno;
    return -err;
}
