/* SPDX-License-Identifier: MIT */
/* Unit tests of the HTTP endpoint's pure parts: the --http address and the
 * old sidecar's {"name":...} body (its exact bytes, and that a lapsed claim
 * is never named). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"

#include "check.h"

static void check_addr(const char *s, int family, const char *host, unsigned port, bool any)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    bool a = !any;
    char buf[INET6_ADDRSTRLEN];
    int r = http_listen_parse(s, &ss, &len, &a);

    if (r < 0) {
        fprintf(stderr, "http_listen_parse(%s) = %d\n", s, r);
        failures++;
        return;
    }
    CHECK(ss.ss_family == family);
    CHECK(a == any);
    if (family == AF_INET) {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        CHECK(len == sizeof *sa);
        CHECK(ntohs(sa->sin_port) == port);
        inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof buf);
    } else {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        CHECK(len == sizeof *sa);
        CHECK(ntohs(sa->sin6_port) == port);
        inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof buf);
    }
    if (strcmp(buf, host) != 0) {
        fprintf(stderr, "http_listen_parse(%s): host %s, expected %s\n", s, buf, host);
        failures++;
    }
}

static void check_addr_bad(const char *s)
{
    struct sockaddr_storage ss;
    socklen_t len = 12345;
    int r = http_listen_parse(s, &ss, &len, NULL);
    if (r != -EINVAL) {
        fprintf(stderr, "http_listen_parse(%s) = %d, expected -EINVAL\n", s ? s : "NULL", r);
        failures++;
    }
    CHECK(len == 12345); /* untouched on failure */
}

static void test_listen_parse(void)
{
    check_addr("0.0.0.0:4040", AF_INET, "0.0.0.0", 4040, false);
    check_addr("127.0.0.1:0", AF_INET, "127.0.0.1", 0, false);
    check_addr("localhost:4040", AF_INET, "127.0.0.1", 4040, false);
    check_addr(":4040", AF_INET6, "::", 4040, true);
    check_addr("[::1]:8080", AF_INET6, "::1", 8080, false);
    check_addr("[::]:65535", AF_INET6, "::", 65535, false);
    check_addr("[fe80::1:2]:1", AF_INET6, "fe80::1:2", 1, false);

    check_addr_bad(NULL);
    check_addr_bad("");
    check_addr_bad("4040");
    check_addr_bad("0.0.0.0");
    check_addr_bad("0.0.0.0:");
    check_addr_bad("0.0.0.0:65536");
    check_addr_bad("0.0.0.0:-1");
    check_addr_bad("0.0.0.0:40a");
    check_addr_bad("0.0.0.0:000004040");
    check_addr_bad("::1:4040");
    check_addr_bad("[::1]4040");
    check_addr_bad("[::1]:");
    check_addr_bad("[127.0.0.1]:80");
    check_addr_bad("[::1:80");
    check_addr_bad("example.com:80");
    check_addr_bad("256.0.0.1:80");
    check_addr_bad("1.2.3:80");
    check_addr_bad(" 127.0.0.1:80");
}

static ProtoStatus status(const char *identity, const char *leader, bool is_leader,
                          uint64_t valid_ms)
{
    ProtoStatus st = {};
    snprintf(st.identity, sizeof st.identity, "%s", identity);
    snprintf(st.leader, sizeof st.leader, "%s", leader);
    st.is_leader = is_leader;
    st.valid_ms = valid_ms;
    return st;
}

static void check_name(ProtoStatus st, const char *expected)
{
    char buf[2048];
    ssize_t n = http_format_name(&st, buf, sizeof buf);

    if (n < 0 || (size_t)n != strlen(expected) || strcmp(buf, expected) != 0) {
        fprintf(stderr, "http_format_name(leader=%s) = %zd '%s', expected '%s'\n", st.leader, n,
                n >= 0 ? buf : "", expected);
        failures++;
    }
}

static void test_format_name(void)
{
    char buf[64];
    ProtoStatus st;

    /* The old sidecar: json.Marshal(LeaderData{Name}), no newline. */
    check_name(status("me", "leader-elector-inmr1", false, 5000),
               "{\"name\":\"leader-elector-inmr1\"}");
    check_name(status("me", "me", true, 5000), "{\"name\":\"me\"}");
    check_name(status("me", "", false, 0), "{\"name\":\"\"}");
    /* A lapsed claim is never named: the follower's view timed out... */
    check_name(status("me", "other", false, 0), "{\"name\":\"\"}");
    /* ...or our own claim ended (renew deadline passed) though the record
     * still names us. */
    check_name(status("me", "me", false, 3000), "{\"name\":\"\"}");
    check_name(status("me", "me", true, 0), "{\"name\":\"\"}");

    /* Go's encoding/json escaping, byte for byte. */
    check_name(status("me", "a\"b\\c", false, 1), "{\"name\":\"a\\\"b\\\\c\"}");
    check_name(status("me", "<&>", false, 1), "{\"name\":\"\\u003c\\u0026\\u003e\"}");
    check_name(status("me", "t\tn\nr\r\x01\x1f\x7f", false, 1),
               "{\"name\":\"t\\tn\\nr\\r\\u0001\\u001f\x7f\"}");
    check_name(status("me", "caf\xc3\xa9 \xe2\x80\xa8", false, 1),
               "{\"name\":\"caf\xc3\xa9 \\u2028\"}");
    check_name(status("me", "bad\xff\xc3", false, 1), "{\"name\":\"bad\\ufffd\\ufffd\"}");
    check_name(status("me", "\xed\xa0\x80", false, 1), "{\"name\":\"\\ufffd\\ufffd\\ufffd\"}");

    /* Bounded: too small a buffer is an error, never an overflow. */
    st = status("me", "leader-elector-inmr1", false, 5000);
    CHECK(http_format_name(&st, buf, 10) == -ENOBUFS);
    CHECK(http_format_name(&st, buf, 31) == -ENOBUFS);
    CHECK(http_format_name(&st, buf, 32) == 31);
}

int main(void)
{
    test_listen_parse();
    test_format_name();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
