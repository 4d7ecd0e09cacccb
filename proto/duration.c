/* SPDX-License-Identifier: MIT */
/* Go-style durations (see duration.h). libc only: this file is also compiled by musl-gcc into
 * the static probe. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* Each unit is mult * 10^pow10 ns, so that a fraction of it is computed exactly in 64 bits. */
typedef struct Unit {
    const char *suffix;
    uint64_t mult;
    unsigned pow10;
} Unit;

static const Unit units[] = {
    {"ns", 1, 0},        {"us", 1, 3}, {"\xc2\xb5s", 1, 3}, /* U+00B5 */
    {"\xce\xbcs", 1, 3},                                    /* U+03BC */
    {"ms", 1, 6},        {"s", 1, 9},  {"m", 6, 10},        {"h", 36, 11},
};

/* A plain number. */
static const Unit seconds = {"", 1, 9};

/* Fraction digits kept: below 10^-17 of an hour is below a nanosecond, and 36 * 10^17 fits. */
#define FRACTION_DIGITS_MAX 17

static uint64_t pow10_u64(unsigned n)
{
    uint64_t p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* A number: digits, optionally '.' and digits (at least one digit in all). */
static int parse_number(const char **p, uint64_t *ret_whole, uint64_t *ret_frac,
                        unsigned *ret_frac_digits)
{
    const char *s = *p;
    uint64_t whole = 0, frac = 0;
    unsigned frac_digits = 0;
    bool digits = false;

    for (; *s >= '0' && *s <= '9'; s++) {
        if (whole > (UINT64_MAX - 9) / 10) return -ERANGE;
        whole = whole * 10 + (uint64_t)(*s - '0');
        digits = true;
    }
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (frac_digits < FRACTION_DIGITS_MAX) {
                frac = frac * 10 + (uint64_t)(*s - '0');
                frac_digits++;
            }
            digits = true;
        }
    if (!digits) return -EINVAL;
    *p = s;
    *ret_whole = whole;
    *ret_frac = frac;
    *ret_frac_digits = frac_digits;
    return 0;
}

/* whole.frac units in ns, the fraction floored to the ns. */
static int component_ns(uint64_t whole, uint64_t frac, unsigned frac_digits, const Unit *unit,
                        uint64_t *ret)
{
    uint64_t scale = pow10_u64(unit->pow10), mult = unit->mult, v;

    if (whole > UINT64_MAX / mult || whole * mult > UINT64_MAX / scale) return -ERANGE;
    v = whole * mult * scale;
    /* frac < 10^frac_digits: frac * mult * 10^(pow10 - frac_digits) < mult * 10^pow10, and
     * frac * mult < 36 * 10^17 never overflows. */
    if (frac_digits <= unit->pow10)
        frac = frac * mult * pow10_u64(unit->pow10 - frac_digits);
    else
        frac = frac * mult / pow10_u64(frac_digits - unit->pow10);
    if (v > UINT64_MAX - frac) return -ERANGE;
    *ret = v + frac;
    return 0;
}

int duration_parse_max(const char *s, uint64_t max_usec, uint64_t *ret_usec)
{
    uint64_t total = 0, usec;
    bool first = true;
    int r;

    if (!s || !*s) return -EINVAL;
    if (*s == '+') s++;
    while (*s) {
        uint64_t whole, frac, v;
        unsigned frac_digits;
        const Unit *unit = NULL;
        size_t len = 0;

        r = parse_number(&s, &whole, &frac, &frac_digits);
        if (r < 0) return r;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].suffix);
            /* the longest suffix that matches: "ms" is not "m" followed by garbage */
            if (l > len && strncmp(s, units[i].suffix, l) == 0) {
                len = l;
                unit = &units[i];
            }
        }
        if (len == 0) {
            /* A plain number of seconds (the old sidecar's flags and most humans): the whole
             * string, nothing else. */
            if (*s || !first) return -EINVAL;
            unit = &seconds;
        }
        s += len;
        first = false;
        r = component_ns(whole, frac, frac_digits, unit, &v);
        if (r < 0) return r;
        if (total > UINT64_MAX - v) return -ERANGE;
        total += v;
    }
    usec = total / NSEC_PER_USEC + (total % NSEC_PER_USEC ? 1 : 0);
    if (usec > max_usec) return -ERANGE;
    *ret_usec = usec;
    return 0;
}

int duration_parse(const char *s, uint64_t *ret_usec)
{
    return duration_parse_max(s, DURATION_MAX_USEC, ret_usec);
}

const char *duration_format(uint64_t usec, char *buf, size_t size)
{
    uint64_t h = usec / USEC_PER_HOUR, m = usec / USEC_PER_MINUTE % 60,
             s = usec / USEC_PER_SEC % 60, frac = usec % USEC_PER_SEC;
    size_t n = 0;

    if (size == 0) return buf;
    buf[0] = '\0';
    if (usec == 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    if (usec < USEC_PER_SEC) {
        if (usec % USEC_PER_MSEC == 0)
            snprintf(buf, size, "%llums", (unsigned long long)(usec / USEC_PER_MSEC));
        else
            snprintf(buf, size, "%lluus", (unsigned long long)usec);
        return buf;
    }
    if (h > 0) n += snprintf(buf + n, size - n, "%lluh", (unsigned long long)h);
    if (n < size && (m > 0 || h > 0) && (m > 0 || s > 0 || frac > 0))
        n += snprintf(buf + n, size - n, "%llum", (unsigned long long)m);
    if (n < size && (s > 0 || frac > 0)) {
        if (frac == 0) {
            snprintf(buf + n, size - n, "%llus", (unsigned long long)s);
        } else {
            char f[8];
            int l = snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
            while (l > 0 && f[l - 1] == '0')
                f[--l] = '\0';
            snprintf(buf + n, size - n, "%llu.%ss", (unsigned long long)s, f);
        }
    }
    return buf;
}
