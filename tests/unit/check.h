/* SPDX-License-Identifier: MIT */
#pragma once

/* The checks of every C test: a failed check prints where and what and
 * counts in `failures`; `checks` counts them all. The test's main() decides
 * its exit status from `failures` (check_report() prints both counts). */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static unsigned checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        checks++;                                                                                  \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U(a, b)                                                                           \
    do {                                                                                           \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                           \
        checks++;                                                                                  \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %" PRIu64 ", expected %s == %" PRIu64 "\n", __FILE__,    \
                    __LINE__, #a, _a, #b, _b);                                                     \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        checks++;                                                                                  \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Prints "NAME: N checks, M failures"; the exit status for main(). */
static inline int check_report(const char *name)
{
    printf("%s: %u checks, %d failures\n", name, checks, failures);
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
