/* SPDX-License-Identifier: MIT */
#include "kube_time.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "time_units.h"

/* Signed: times before the epoch are negative. */
static const int64_t usec_per_sec = (int64_t)USEC_PER_SEC;

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's
 * algorithms): no dependency on the process time zone, unlike mktime(). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int split(int64_t usec, int64_t *y, unsigned *mo, unsigned *d, unsigned *h, unsigned *mi,
                 unsigned *s, unsigned *us)
{
    int64_t secs = usec / usec_per_sec, frac = usec % usec_per_sec;
    if (frac < 0) {
        frac += usec_per_sec;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, y, mo, d);
    if (*y < 1 || *y > 9999) return -ERANGE;
    *h = (unsigned)(rem / 3600);
    *mi = (unsigned)(rem / 60 % 60);
    *s = (unsigned)(rem % 60);
    *us = (unsigned)frac;
    return 0;
}

int kube_microtime_format(int64_t usec, char buf[static KUBE_TIME_BUF])
{
    int64_t y;
    unsigned mo, d, h, mi, s, us;

    if (usec == KUBE_TIME_UNSET || split(usec, &y, &mo, &d, &h, &mi, &s, &us) < 0) return -ERANGE;
    /* split() bounds every field, so this always fits; the check keeps
     * -Wformat-truncation (which cannot see those bounds) quiet. */
    if (snprintf(buf, KUBE_TIME_BUF, "%04d-%02u-%02uT%02u:%02u:%02u.%06uZ", (int)y, mo, d, h, mi, s,
                 us) >= KUBE_TIME_BUF)
        return -ERANGE;
    return 0;
}

int kube_time_format(int64_t usec, char buf[static KUBE_TIME_BUF])
{
    int64_t y;
    unsigned mo, d, h, mi, s, us;

    if (usec == KUBE_TIME_UNSET || split(usec, &y, &mo, &d, &h, &mi, &s, &us) < 0) return -ERANGE;
    snprintf(buf, KUBE_TIME_BUF, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y, mo, d, h, mi, s);
    return 0;
}

static bool digits(const char *s, size_t len, size_t at, size_t n, unsigned *ret)
{
    unsigned v = 0;
    if (at + n > len) return false;
    for (size_t i = at; i < at + n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *ret = v;
    return true;
}

int kube_time_parse(const char *s, size_t len, int64_t *ret_usec)
{
    unsigned y, mo, d, h, mi, sec, frac = 0, oh, om;
    size_t i = 19;
    int64_t off = 0;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (!s) return -EINVAL;
    if (!digits(s, len, 0, 4, &y) || len < 19 || s[4] != '-' || !digits(s, len, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s, len, 11, 2, &h) || s[13] != ':' || !digits(s, len, 14, 2, &mi) || s[16] != ':' ||
        !digits(s, len, 17, 2, &sec))
        return -EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -EINVAL;

    if (i < len && s[i] == '.') {
        size_t n = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n < 6) frac = frac * 10 + (unsigned)(s[i] - '0');
            n++;
            i++;
        }
        if (n == 0 || n > 9) return -EINVAL;
        for (; n < 6; n++)
            frac *= 10;
    }
    if (i >= len) return -EINVAL;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (!digits(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
            !digits(s, len, i + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = ((int64_t)oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else
        return -EINVAL;
    if (i != len) return -EINVAL;

    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *ret_usec = secs * usec_per_sec + frac;
    return 0;
}
