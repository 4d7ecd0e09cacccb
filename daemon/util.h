/* SPDX-License-Identifier: MIT */
#pragma once

/* Small shared helpers of the daemon, in systemd's style. */

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "time_units.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(closep)

/* Hands a pointer out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _p = (p);                                                                    \
        (p) = NULL;                                                                                \
        _p;                                                                                        \
    })
#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int _fd = (fd);                                                                            \
        (fd) = -1;                                                                                 \
        _fd;                                                                                       \
    })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline uint64_t timespec_to_usec(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * USEC_PER_SEC + (uint64_t)ts->tv_nsec / NSEC_PER_USEC;
}

/* CLOCK_BOOTTIME keeps running while the process is paused or the machine
 * suspended: the clock every lease deadline is measured on. */
static inline uint64_t now_boot_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return timespec_to_usec(&ts);
}

static inline int64_t now_wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)timespec_to_usec(&ts);
}

/* A Kubernetes object name (DNS-1123 subdomain: at most 253 characters of
 * lower case letters, digits, '-' and '.', starting and ending alphanumeric):
 * what the API server accepts, so that a typo fails at start-up. */
bool dns_subdomain_valid(const char *s);

/* Creates the missing directories above path (not path itself) with mode.
 * Returns 0 or a negative errno. */
int mkdir_parents(const char *path, mode_t mode);
