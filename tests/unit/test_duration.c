/* SPDX-License-Identifier: MIT */
/* Unit tests of proto/duration.c, the one Go-duration parser (the daemon's flags, the probe's
 * --timeout): every unit, fractions exact to the nanosecond, sub-microsecond remainders rounded
 * up, plain seconds, the errors, overflow and the maximum, the formatter and the round trip. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#include "check.h"

static void check_parse_max(const char *s, uint64_t max, int want_r, uint64_t want)
{
    uint64_t v = 4242;
    int r = duration_parse_max(s, max, &v);

    if (r != want_r || (r == 0 && v != want)) {
        fprintf(stderr, "duration_parse_max(\"%s\", %llu) = %d, %llu; want %d, %llu\n",
                s ? s : "(null)", (unsigned long long)max, r, (unsigned long long)v, want_r,
                (unsigned long long)want);
        failures++;
    }
    if (r < 0 && v != 4242) {
        fprintf(stderr, "duration_parse_max(\"%s\") touched its output on failure\n", s);
        failures++;
    }
}

static void check_parse(const char *s, int want_r, uint64_t want)
{
    uint64_t v = 4242;
    int r = duration_parse(s, &v);

    if (r != want_r || (r == 0 && v != want)) {
        fprintf(stderr, "duration_parse(\"%s\") = %d, %llu; want %d, %llu\n", s ? s : "(null)", r,
                (unsigned long long)v, want_r, (unsigned long long)want);
        failures++;
    }
    if (r < 0 && v != 4242) {
        fprintf(stderr, "duration_parse(\"%s\") touched its output on failure\n", s);
        failures++;
    }
    check_parse_max(s, DURATION_MAX_USEC, want_r, want);
}

static void test_units(void)
{
    check_parse("1ns", 0, 1); /* rounded up: not zero */
    check_parse("999ns", 0, 1);
    check_parse("1000ns", 0, 1);
    check_parse("1001ns", 0, 2);
    check_parse("1500ns", 0, 2);
    check_parse("250us", 0, 250);
    check_parse("250\xc2\xb5s", 0, 250); /* U+00B5 */
    check_parse("250\xce\xbcs", 0, 250); /* U+03BC */
    check_parse("500ms", 0, 500000);
    check_parse("15s", 0, 15 * USEC_PER_SEC);
    check_parse("2m", 0, 120 * USEC_PER_SEC);
    check_parse("3h", 0, 3 * USEC_PER_HOUR);
    check_parse("0s", 0, 0);
    check_parse("0h", 0, 0);
    /* the longest suffix: "ms" and "m" */
    check_parse("1m1ms", 0, 60 * USEC_PER_SEC + 1000);
    check_parse("1ms1m", 0, 60 * USEC_PER_SEC + 1000);
}

static void test_fractions(void)
{
    check_parse("1.5h", 0, 5400 * USEC_PER_SEC);
    check_parse("1.5m", 0, 90 * USEC_PER_SEC);
    check_parse("0.3s", 0, 300000);
    check_parse(".5s", 0, 500000);
    check_parse("5.s", 0, 5 * USEC_PER_SEC);
    check_parse("1.0000005s", 0, 1000001); /* 500 ns more: rounded up */
    check_parse("1.000000001s", 0, 1000001);
    check_parse("0.0000001s", 0, 1);
    check_parse("1.5us", 0, 2);
    check_parse("2.25ms", 0, 2250);
    check_parse("0.1ns", 0, 0);           /* below the nanosecond: dropped */
    check_parse("0.000000000001h", 0, 1); /* 3.6 ns */
    /* exact to the ns, also with many digits: 1.99999999999999999 h floored to the ns is
     * 7199999999999 ns, then rounded up to the µs */
    check_parse("1.999999999999999999999h", 0, 7200 * USEC_PER_SEC);
    check_parse("0.123456789123456789123s", 0, 123457);
}

static void test_plain_and_combinations(void)
{
    check_parse("15", 0, 15 * USEC_PER_SEC);
    check_parse("2.5", 0, 2500000);
    check_parse("0", 0, 0);
    check_parse("+3s", 0, 3 * USEC_PER_SEC);
    check_parse("+3", 0, 3 * USEC_PER_SEC);
    check_parse("1m30s", 0, 90 * USEC_PER_SEC);
    check_parse("1h2m3s4ms", 0, 3723004000ULL);
    check_parse("1h2m3s4ms5us6ns", 0, 3723004006ULL);
    check_parse("3s1h", 0, USEC_PER_HOUR + 3 * USEC_PER_SEC);
    check_parse("1s1s", 0, 2 * USEC_PER_SEC);
}

static void test_errors(void)
{
    check_parse(NULL, -EINVAL, 0);
    check_parse("", -EINVAL, 0);
    check_parse("s", -EINVAL, 0);
    check_parse(".s", -EINVAL, 0);
    check_parse(".", -EINVAL, 0);
    check_parse("-1s", -EINVAL, 0);
    check_parse("++1s", -EINVAL, 0);
    check_parse("10x", -EINVAL, 0);
    check_parse("1.2.3s", -EINVAL, 0);
    check_parse("15s ", -EINVAL, 0);
    check_parse(" 15s", -EINVAL, 0);
    check_parse("1s5", -EINVAL, 0); /* a plain number only alone */
    check_parse("1e3s", -EINVAL, 0);
    check_parse("1S", -EINVAL, 0);
    check_parse("1sec", -EINVAL, 0);
}

static void test_range(void)
{
    /* DURATION_MAX_USEC: ten years */
    CHECK(DURATION_MAX_USEC == UINT64_C(87600) * USEC_PER_HOUR);
    check_parse("87600h", 0, DURATION_MAX_USEC);
    check_parse("87600h1us", -ERANGE, 0);
    check_parse("87600h1ns", -ERANGE, 0); /* rounded up past the maximum */
    check_parse("315360000", 0, DURATION_MAX_USEC);
    check_parse("315360000.000001", -ERANGE, 0);
    /* beyond 64 bits: the digits, a unit's product, the sum */
    check_parse("99999999999999999999h", -ERANGE, 0);
    check_parse("18446744073709551616ns", -ERANGE, 0);
    check_parse("5124096h", -ERANGE, 0);
    check_parse("5000000h5000000h", -ERANGE, 0);
    check_parse_max("18446744073709551609ns", UINT64_MAX, 0, UINT64_C(18446744073709552));
    check_parse_max("5124095h", UINT64_MAX, 0, UINT64_C(5124095) * USEC_PER_HOUR);
    /* another maximum (the probe's --timeout: 100000 h) */
    check_parse_max("100000h", 100000 * USEC_PER_HOUR, 0, 100000 * USEC_PER_HOUR);
    check_parse_max("90000h", 100000 * USEC_PER_HOUR, 0, 90000 * USEC_PER_HOUR);
    check_parse_max("100000h1ns", 100000 * USEC_PER_HOUR, -ERANGE, 0);
    check_parse_max("2s", 1 * USEC_PER_SEC, -ERANGE, 0);
    check_parse_max("1s", 1 * USEC_PER_SEC, 0, USEC_PER_SEC);
}

static void test_format(void)
{
    static const uint64_t values[] = {
        0,
        1,
        999,
        1000,
        1001,
        250000,
        999999,
        USEC_PER_SEC,
        1500000,
        2500000,
        59 * USEC_PER_SEC,
        60 * USEC_PER_SEC,
        90 * USEC_PER_SEC,
        USEC_PER_HOUR,
        USEC_PER_HOUR + 1,
        3723004006ULL,
        DURATION_MAX_USEC,
    };
    char buf[32];

    CHECK_EQ_STR(duration_format(15000000, buf, sizeof buf), "15s");
    CHECK_EQ_STR(duration_format(90000000, buf, sizeof buf), "1m30s");
    CHECK_EQ_STR(duration_format(500000, buf, sizeof buf), "500ms");
    CHECK_EQ_STR(duration_format(250, buf, sizeof buf), "250us");
    CHECK_EQ_STR(duration_format(3600000000ULL, buf, sizeof buf), "1h");
    CHECK_EQ_STR(duration_format(3601000000ULL, buf, sizeof buf), "1h0m1s");
    CHECK_EQ_STR(duration_format(2500000, buf, sizeof buf), "2.5s");
    CHECK_EQ_STR(duration_format(1000001, buf, sizeof buf), "1.000001s");
    CHECK_EQ_STR(duration_format(0, buf, sizeof buf), "0s");
    CHECK_EQ_STR(duration_format(DURATION_MAX_USEC, buf, sizeof buf), "87600h");
    /* what it writes parses back to the same value */
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint64_t back = 0;
        duration_format(values[i], buf, sizeof buf);
        CHECK(duration_parse(buf, &back) == 0 && back == values[i]);
    }
}

int main(void)
{
    test_units();
    test_fractions();
    test_plain_and_combinations();
    test_errors();
    test_range();
    test_format();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_duration: ok\n");
    return 0;
}
