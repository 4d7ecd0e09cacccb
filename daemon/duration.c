/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* Ten years: far beyond any sensible election timing, far below overflow. */
#define DURATION_MAX_USEC (UINT64_C(10) * 365 * 24 * 3600 * 1000000)

static const struct {
    const char *suffix;
    double usec;
} units[] = {
    /* longest first, so "ms" is not read as "m" followed by garbage */
    {"ns", 1e-3}, {"us", 1.0}, {"\xc2\xb5s", 1.0}, {"\xce\xbcs", 1.0},
    {"ms", 1e3},  {"s", 1e6},  {"m", 60e6},        {"h", 3600e6},
};

static int parse_number(const char **p, double *ret)
{
    const char *s = *p;
    double v = 0, scale = 1;
    bool digits = false, fraction = false;

    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            digits = true;
            if (fraction) {
                scale /= 10;
                v += (*s - '0') * scale;
            } else {
                v = v * 10 + (*s - '0');
                if (v > 1e15)
                    return -ERANGE;
            }
        } else if (*s == '.' && !fraction) {
            fraction = true;
        } else {
            break;
        }
    }
    if (!digits)
        return -EINVAL;
    *p = s;
    *ret = v;
    return 0;
}

int duration_parse(const char *s, uint64_t *ret_usec)
{
    double total = 0;
    int r;

    if (!s || !*s)
        return -EINVAL;
    if (*s == '+')
        s++;

    /* A plain number is seconds (the old sidecar's flags and most humans). */
    {
        const char *p = s;
        double v;
        if (parse_number(&p, &v) == 0 && *p == '\0') {
            total = v * 1e6;
            goto done;
        }
    }

    while (*s) {
        double v, unit = 0;
        size_t len = 0;

        r = parse_number(&s, &v);
        if (r < 0)
            return r;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t l = strlen(units[i].suffix);
            /* prefer the longest suffix that matches ("ms" over "m") */
            if (l > len && strncmp(s, units[i].suffix, l) == 0) {
                len = l;
                unit = units[i].usec;
            }
        }
        if (len == 0)
            return -EINVAL;
        s += len;
        total += v * unit;
        if (total > (double)DURATION_MAX_USEC)
            return -ERANGE;
    }

done:
    if (total > (double)DURATION_MAX_USEC)
        return -ERANGE;
    *ret_usec = (uint64_t)(total + 0.5);
    return 0;
}

const char *duration_format(uint64_t usec, char *buf, size_t size)
{
    uint64_t h = usec / 3600000000, m = usec / 60000000 % 60, s = usec / 1000000 % 60,
             frac = usec % 1000000;
    size_t n = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (usec == 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    if (usec < 1000000) {
        if (usec % 1000 == 0)
            snprintf(buf, size, "%llums", (unsigned long long)(usec / 1000));
        else
            snprintf(buf, size, "%lluus", (unsigned long long)usec);
        return buf;
    }
    if (h > 0)
        n += snprintf(buf + n, size - n, "%lluh", (unsigned long long)h);
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
