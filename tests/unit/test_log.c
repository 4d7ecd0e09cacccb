/* SPDX-License-Identifier: MIT */
/* Unit tests of the daemon's log (daemon/log.c): syslog's levels, the four names a line
 * carries, the filter of --log-level, text and JSON lines, log_*_errno() and "%m". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#include "check.h"

static char captured[8192];

/* Runs fn with stderr going to a temporary file; the lines written end up in `captured`. */
static const char *capture(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    if (!tmp || saved < 0) abort();
    fflush(stderr);
    if (dup2(fileno(tmp), STDERR_FILENO) < 0) abort();
    fn();
    fflush(stderr);
    if (dup2(saved, STDERR_FILENO) < 0) abort();
    close(saved);
    rewind(tmp);
    n = fread(captured, 1, sizeof captured - 1, tmp);
    captured[n] = 0;
    fclose(tmp);
    return captured;
}

static void every_level(void)
{
    log_internal(LOG_CRIT, "at crit");
    log_error("at err");
    log_warn("at warning");
    log_internal(LOG_NOTICE, "at notice");
    log_info("at info");
    log_debug("at debug");
}

static void test_levels(void)
{
    const char *out;

    CHECK_EQ_INT(log_level_from_string("debug"), LOG_DEBUG);
    CHECK_EQ_INT(log_level_from_string("info"), LOG_INFO);
    CHECK_EQ_INT(log_level_from_string("warn"), LOG_WARNING);
    CHECK_EQ_INT(log_level_from_string("warning"), LOG_WARNING);
    CHECK_EQ_INT(log_level_from_string("error"), LOG_ERR);
    CHECK_EQ_INT(log_level_from_string("notice"), -EINVAL);
    CHECK_EQ_INT(log_level_from_string("Info"), -EINVAL);

    log_setup(0, LOG_DEBUG);
    out = capture(every_level);
    CHECK(strstr(out, " error at crit\n"));
    CHECK(strstr(out, " error at err\n"));
    CHECK(strstr(out, " warn  at warning\n"));
    CHECK(strstr(out, " info  at notice\n"));
    CHECK(strstr(out, " info  at info\n"));
    CHECK(strstr(out, " debug at debug\n"));

    log_setup(0, LOG_INFO);
    out = capture(every_level);
    CHECK(strstr(out, "at info") && strstr(out, "at notice") && !strstr(out, "at debug"));

    log_setup(0, LOG_WARNING);
    out = capture(every_level);
    CHECK(strstr(out, "at crit") && strstr(out, "at err") && strstr(out, "at warning"));
    CHECK(!strstr(out, "at notice") && !strstr(out, "at info") && !strstr(out, "at debug"));

    log_setup(0, LOG_ERR);
    out = capture(every_level);
    CHECK(strstr(out, "at crit") && strstr(out, "at err") && !strstr(out, "at warning"));

    log_setup(1, LOG_WARNING);
    out = capture(every_level);
    CHECK(strstr(out, "\"level\":\"warn\",\"msg\":\"at warning\""));
    CHECK(strstr(out, "\"level\":\"error\",\"msg\":\"at crit\""));
    CHECK(!strstr(out, "at info"));
}

static int errno_results[4], errno_after;

static void with_errno(void)
{
    errno = EBUSY;
    errno_results[0] = log_error_errno(-ENOENT, "open %s: %m", "/x");
    errno_results[1] = log_warn_errno(EACCES, "positive: %m");
    errno_results[2] = log_debug_errno(-EIO, "filtered out: %m");
    errno_results[3] = log_error_errno(-EINVAL, "no error text");
    errno_after = errno;
}

/* log_*_errno(): "%m" is the error passed, -|err| is returned, errno is kept. */
static void test_errno(void)
{
    const char *out;

    log_setup(0, LOG_INFO);
    out = capture(with_errno);
    CHECK(strstr(out, " error open /x: No such file or directory\n"));
    CHECK(strstr(out, " warn  positive: Permission denied\n"));
    CHECK(!strstr(out, "filtered out"));
    CHECK(strstr(out, " error no error text\n"));
    CHECK_EQ_INT(errno_results[0], -ENOENT);
    CHECK_EQ_INT(errno_results[1], -EACCES);
    CHECK_EQ_INT(errno_results[2], -EIO);
    CHECK_EQ_INT(errno_results[3], -EINVAL);
    CHECK_EQ_INT(errno_after, EBUSY);
}

int main(void)
{
    test_levels();
    test_errno();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_log: ok\n");
    return 0;
}
