/* SPDX-License-Identifier: MIT */
/* Unit tests of proto/: the request parser, the formatters and the reply
 * parser, both directions, every malformed case we know of. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#include "check.h"

static int req(const char *s, ProtoVerb *verb, size_t *len)
{
    return proto_request_parse(s, strlen(s), verb, len);
}

static void test_request(void)
{
    ProtoVerb v = 0;
    size_t n = 0;

    CHECK_EQ_INT(req("STATUS\n", &v, &n), 0);
    CHECK_EQ_INT(v, PROTO_VERB_STATUS);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(req("WATCH\r\n", &v, &n), 0);
    CHECK_EQ_INT(v, PROTO_VERB_WATCH);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(req("  resign \t\n", &v, &n), 0);
    CHECK_EQ_INT(v, PROTO_VERB_RESIGN);
    CHECK_EQ_INT(req("status\nWATCH\n", &v, &n), 0); /* only the first line */
    CHECK_EQ_INT(v, PROTO_VERB_STATUS);
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(req("StAtUs\n", &v, &n), 0);

    /* Incomplete: more input may come; outputs untouched. */
    v = 0;
    n = 99;
    CHECK_EQ_INT(req("", &v, &n), -EAGAIN);
    CHECK_EQ_INT(req("STAT", &v, &n), -EAGAIN);
    CHECK_EQ_INT(req("STATUS\r", &v, &n), -EAGAIN);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(n, 99);

    /* Malformed. */
    CHECK_EQ_INT(req("\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("\r\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("   \n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("STA\rTUS\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("STA\x01TUS\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("ST\x01", &v, &n), PROTO_ERROR_MALFORMED); /* early, before any '\n' */
    CHECK_EQ_INT(req("STATUS\r\r\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("ST\xc3\xa4TUS\n", &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("\x16\x03\x01\x02\x00", &v, &n), PROTO_ERROR_MALFORMED); /* TLS hello */
    CHECK_EQ_INT(proto_request_parse("STATUS\0\n", 8, &v, &n), PROTO_ERROR_MALFORMED);
    CHECK_EQ_INT(req("\x7f\n", &v, &n), PROTO_ERROR_MALFORMED);

    /* Unknown verbs and arguments. */
    CHECK_EQ_INT(req("GET / HTTP/1.1\r\n", &v, &n), PROTO_ERROR_UNKNOWN_VERB);
    CHECK_EQ_INT(req("STATUSX\n", &v, &n), PROTO_ERROR_UNKNOWN_VERB);
    CHECK_EQ_INT(req("STATU\n", &v, &n), PROTO_ERROR_UNKNOWN_VERB);
    CHECK_EQ_INT(req("STATUS now\n", &v, &n), PROTO_ERROR_BAD_ARGUMENT);
    CHECK_EQ_INT(req("WATCH\t1\n", &v, &n), PROTO_ERROR_BAD_ARGUMENT);

    /* Bounds: 255 bytes + '\n' is the longest line. */
    char big[600];
    memset(big, ' ', sizeof(big));
    memcpy(big + 249, "STATUS\n", 7); /* 256 bytes in all */
    CHECK_EQ_INT(proto_request_parse(big, 256, &v, &n), 0);
    CHECK_EQ_INT(n, 256);
    memcpy(big + 250, "STATUS\n", 7); /* 257 */
    CHECK_EQ_INT(proto_request_parse(big, 257, &v, &n), PROTO_ERROR_TOO_LONG);
    CHECK_EQ_INT(proto_request_parse(big, 256, &v, &n), PROTO_ERROR_TOO_LONG);
    CHECK_EQ_INT(proto_request_parse(big, 255, &v, &n), -EAGAIN);
    memset(big, 'A', sizeof(big));
    CHECK_EQ_INT(proto_request_parse(big, sizeof(big), &v, &n), PROTO_ERROR_TOO_LONG);
}

static void fill_status(ProtoStatus *s)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->namespace_, "default");
    strcpy(s->election, "example");
    strcpy(s->identity, "pod-a");
    strcpy(s->hostname, "pod-a");
    strcpy(s->leader, "pod-a");
    s->is_leader = true;
    s->term = 7;
    strcpy(s->since, "2026-11-22T05:03:47.123456Z");
    s->valid_ms = 9500;
    s->state = PROTO_STATE_LEADING;
}

static void check_status_equal(const ProtoStatus *a, const ProtoStatus *b)
{
    CHECK_EQ_STR(a->namespace_, b->namespace_);
    CHECK_EQ_STR(a->election, b->election);
    CHECK_EQ_STR(a->identity, b->identity);
    CHECK_EQ_STR(a->hostname, b->hostname);
    CHECK_EQ_STR(a->leader, b->leader);
    CHECK_EQ_INT(a->is_leader, b->is_leader);
    CHECK_EQ_INT(a->term, b->term);
    CHECK_EQ_STR(a->since, b->since);
    CHECK_EQ_INT(a->valid_ms, b->valid_ms);
    CHECK_EQ_INT(a->state, b->state);
    CHECK_EQ_STR(a->reason, b->reason);
    CHECK_EQ_INT(a->boottime_ms, b->boottime_ms);
    CHECK_EQ_STR(a->health, b->health);
}

static void test_status_roundtrip(void)
{
    ProtoStatus s;
    ProtoReply r;
    char buf[PROTO_REPLY_MAX];
    ssize_t n;

    fill_status(&s);
    n = proto_status_format(&s, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ_STR(buf, "{\"proto\":1,\"type\":\"status\",\"namespace\":\"default\",\"election\":"
                      "\"example\",\"identity\":\"pod-a\",\"hostname\":\"pod-a\",\"leader\":"
                      "\"pod-a\",\"is_leader\":true,\"term\":7,\"since\":"
                      "\"2026-11-22T05:03:47.123456Z\",\"valid_ms\":9500,\"state\":\"leading\"}\n");
    CHECK_EQ_INT(n, strlen(buf));
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    CHECK_EQ_INT(r.type, PROTO_REPLY_STATUS);
    check_status_equal(&r.status, &s);

    /* Every state, extreme numbers, a reason, the empty leader. */
    for (ProtoState st = PROTO_STATE_STARTING; st < _PROTO_STATE_MAX; st++) {
        fill_status(&s);
        s.state = st;
        s.is_leader = false;
        s.leader[0] = 0;
        s.since[0] = 0;
        s.term = st == PROTO_STATE_RELEASING ? PROTO_TERM_MAX : 0;
        s.valid_ms = st == PROTO_STATE_STARTING ? PROTO_VALID_MS_MAX : 0;
        strcpy(s.reason, "renew deadline passed");
        s.boottime_ms = st == PROTO_STATE_FOLLOWING ? PROTO_VALID_MS_MAX : 123456;
        strcpy(s.health, st % 2 ? "unhealthy" : "");
        n = proto_status_format(&s, buf, sizeof(buf));
        CHECK(n > 0);
        CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
        check_status_equal(&r.status, &s);
    }

    /* health: last, only when set; informative, so a value this version cannot hold (another
     * JSON type, too long) is dropped, never an error. */
    fill_status(&s);
    strcpy(s.health, "healthy");
    n = proto_status_format(&s, buf, sizeof(buf));
    CHECK(n > 0 && strstr(buf, ",\"state\":\"leading\",\"health\":\"healthy\"}\n") != NULL);
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    check_status_equal(&r.status, &s);
    for (int k = 0; k < 2; k++) {
        char line[PROTO_REPLY_MAX];
        s.health[0] = 0;
        n = proto_status_format(&s, buf, sizeof(buf));
        CHECK(n > 2);
        snprintf(line, sizeof(line), "%.*s,\"health\":%s}\n", (int)n - 2, buf,
                 k ? "{\"ok\":false}" : "\"a-health-state-longer-than-the-field\"");
        memset(&r, 0x5a, sizeof(r));
        CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), 0);
        CHECK_EQ_STR(r.status.health, "");
    }
    fill_status(&s);
    memset(s.health, 'h', sizeof(s.health)); /* unterminated: refused */
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);

    /* Out of range values are refused by the formatter. */
    fill_status(&s);
    s.term = PROTO_TERM_MAX + 1;
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);
    fill_status(&s);
    s.state = PROTO_STATE_UNKNOWN;
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);
    fill_status(&s);
    s.state = _PROTO_STATE_MAX;
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);
    fill_status(&s);
    s.boottime_ms = PROTO_VALID_MS_MAX + 1;
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);
    fill_status(&s);
    memset(s.identity, 'x', sizeof(s.identity)); /* no NUL */
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -EINVAL);

    /* Small buffers: -ENOBUFS at every size below the needed one. */
    fill_status(&s);
    n = proto_status_format(&s, buf, sizeof(buf));
    for (size_t size = 0; size <= (size_t)n; size++) {
        char small[PROTO_REPLY_MAX];
        CHECK_EQ_INT(proto_status_format(&s, small, size), -ENOBUFS);
    }
    CHECK_EQ_INT(proto_status_format(&s, buf, (size_t)n + 1), n);
}

static void test_escaping(void)
{
    ProtoStatus s;
    ProtoReply r;
    char buf[PROTO_REPLY_MAX];
    ssize_t n;

    fill_status(&s);
    strcpy(s.identity, "a\"b\\c\nd\te\x01\x1f\x7f/\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80");
    n = proto_status_format(&s, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK(strstr(buf, "\"identity\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\\u007f/"
                      "\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\"") != NULL);
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    check_status_equal(&r.status, &s);

    /* Invalid UTF-8 becomes U+FFFD, byte by byte. */
    fill_status(&s);
    strcpy(s.leader, "x\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80\xc0\xafy");
    n = proto_status_format(&s, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    CHECK(strncmp(r.status.leader, "x\xef\xbf\xbd\xef\xbf\xbd(", 8) == 0);
    CHECK(r.status.leader[strlen(r.status.leader) - 1] == 'y');
    for (const char *p = buf; *p; p++)
        CHECK((unsigned char)*p != 0xff && (unsigned char)*p != 0xc0);

    /* Escapes the parser must decode. */
    const char *line = "{\"proto\":1,\"type\":\"status\",\"namespace\":\"n\\u0073\",\"election\":"
                       "\"e\\/\",\"identity\":\"\\ud83d\\ude00\",\"hostname\":\"\\u00e4\\u20AC\","
                       "\"leader\":\"\\b\\f\\r\",\"is_leader\":false,\"term\":0,\"since\":\"\","
                       "\"valid_ms\":0,\"state\":\"following\"}";
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), 0);
    CHECK_EQ_STR(r.status.namespace_, "ns");
    CHECK_EQ_STR(r.status.election, "e/");
    CHECK_EQ_STR(r.status.identity, "\xf0\x9f\x98\x80");
    CHECK_EQ_STR(r.status.hostname, "\xc3\xa4\xe2\x82\xac");
    CHECK_EQ_STR(r.status.leader, "\b\f\r");

    /* The worst case of escaping can exceed the reply bound: refused, not cut. */
    fill_status(&s);
    memset(s.identity, 1, PROTO_IDENTITY_MAX);
    s.identity[PROTO_IDENTITY_MAX] = 0;
    memset(s.leader, 1, PROTO_IDENTITY_MAX);
    s.leader[PROTO_IDENTITY_MAX] = 0;
    memset(s.election, 1, PROTO_ELECTION_MAX);
    s.election[PROTO_ELECTION_MAX] = 0;
    CHECK_EQ_INT(proto_status_format(&s, buf, sizeof(buf)), -ENOBUFS);
    /* Longest plain fields fit. */
    fill_status(&s);
    memset(s.identity, 'i', PROTO_IDENTITY_MAX);
    memset(s.leader, 'l', PROTO_IDENTITY_MAX);
    memset(s.election, 'e', PROTO_ELECTION_MAX);
    memset(s.namespace_, 'n', PROTO_NAMESPACE_MAX);
    memset(s.hostname, 'h', PROTO_HOSTNAME_MAX);
    memset(s.reason, 'r', PROTO_REASON_MAX);
    n = proto_status_format(&s, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    check_status_equal(&r.status, &s);
}

static void test_error_ok(void)
{
    ProtoReply r;
    char buf[PROTO_REPLY_MAX];
    ssize_t n;

    for (ProtoError e = PROTO_ERROR_MALFORMED; e < _PROTO_ERROR_MAX; e++) {
        n = proto_error_format(e, "why \"so\"", buf, sizeof(buf));
        CHECK(n > 0);
        CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
        CHECK_EQ_INT(r.type, PROTO_REPLY_ERROR);
        CHECK_EQ_INT(r.error, e);
        CHECK_EQ_STR(r.error_name, proto_error_to_string(e));
        CHECK_EQ_STR(r.message, "why \"so\"");
        CHECK_EQ_INT(proto_error_from_string(proto_error_to_string(e)), e);
    }
    n = proto_error_format(PROTO_ERROR_BUSY, NULL, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "{\"proto\":1,\"type\":\"error\",\"error\":\"busy\"}\n");
    CHECK_EQ_INT(proto_error_format(PROTO_ERROR_UNKNOWN, NULL, buf, sizeof(buf)), -EINVAL);
    CHECK_EQ_INT(proto_error_format(_PROTO_ERROR_MAX, NULL, buf, sizeof(buf)), -EINVAL);
    CHECK_EQ_INT(proto_error_format(PROTO_ERROR_BUSY, NULL, buf, 10), -ENOBUFS);

    n = proto_ok_format(PROTO_VERB_RESIGN, "released", buf, sizeof(buf));
    CHECK_EQ_STR(buf,
                 "{\"proto\":1,\"type\":\"ok\",\"verb\":\"RESIGN\",\"message\":\"released\"}\n");
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    CHECK_EQ_INT(r.type, PROTO_REPLY_OK);
    CHECK_EQ_INT(r.verb, PROTO_VERB_RESIGN);
    CHECK_EQ_STR(r.message, "released");
    CHECK_EQ_INT(proto_ok_format(0, NULL, buf, sizeof(buf)), -EINVAL);

    /* A later version's error code is kept by name. */
    const char *l = "{\"proto\":1,\"type\":\"error\",\"error\":\"quota-exceeded\"}";
    CHECK_EQ_INT(proto_reply_parse(l, strlen(l), &r), 0);
    CHECK_EQ_INT(r.error, PROTO_ERROR_UNKNOWN);
    CHECK_EQ_STR(r.error_name, "quota-exceeded");
    CHECK_EQ_STR(r.message, "");

    /* Messages longer than the bound are cut by the formatter. */
    char longmsg[600];
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = 0;
    n = proto_error_format(PROTO_ERROR_FAILED, longmsg, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ_INT(proto_reply_parse(buf, (size_t)n, &r), 0);
    CHECK_EQ_INT(strlen(r.message), PROTO_MESSAGE_MAX);
}

static const char *const good_tail =
    "\"namespace\":\"d\",\"election\":\"e\",\"identity\":\"i\",\"hostname\":\"h\",\"leader\":\"i\","
    "\"is_leader\":true,\"term\":3,\"since\":\"\",\"valid_ms\":10,\"state\":\"leading\"";

static int parse_with(const char *fmt, const char *arg)
{
    char line[PROTO_REPLY_MAX * 2];
    ProtoReply r;
    snprintf(line, sizeof(line), fmt, arg);
    return proto_reply_parse(line, strlen(line), &r);
}

static void test_reply_malformed(void)
{
    ProtoReply r, before;
    char line[PROTO_REPLY_MAX * 2];

    /* Unknown fields of any shape are ignored; whitespace is fine. */
    CHECK_EQ_INT(parse_with("{\"proto\":1,\"type\":\"status\",%s,\"health\":{\"api\":[1,2.5e3,"
                            "null,{\"x\":\"y\"}],\"ok\":true},\"extra\":-0.5}",
                            good_tail),
                 0);
    CHECK_EQ_INT(parse_with(" { \"proto\" : 1 , \"type\" : \"status\" , %s } \n", good_tail), 0);
    CHECK_EQ_INT(parse_with("{\"proto\":1,\"type\":\"status\",%s,\"state\":\"x\"}", good_tail),
                 -EBADMSG); /* duplicate */
    /* A later state is UNKNOWN, not an error. */
    snprintf(line, sizeof(line), "{\"proto\":1,\"type\":\"status\",%s}", good_tail);
    char *st = strstr(line, "leading");
    memcpy(st, "hibern\"", 7);
    memmove(st + 6, st + 7, strlen(st + 7) + 1);
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), 0);
    CHECK_EQ_INT(r.status.state, PROTO_STATE_UNKNOWN);

    const char *bad[] = {
        "",
        "\n",
        "null",
        "[]",
        "\"x\"",
        "{}",
        "{\"proto\":1}",
        "{\"type\":\"status\",%s}",
        "{\"proto\":\"1\",\"type\":\"status\",%s}",
        "{\"proto\":1.0,\"type\":\"status\",%s}",
        "{\"proto\":01,\"type\":\"status\",%s}",
        "{\"proto\":1,\"type\":\"statuses\",%s}",
        "{\"proto\":1,\"type\":7,%s}",
        "{\"proto\":1,\"type\":\"status\",%s",
        "{\"proto\":1,\"type\":\"status\",%s}}",
        "{\"proto\":1,\"type\":\"status\",%s}{}",
        "{\"proto\":1,\"type\":\"status\",%s} x",
        "{\"proto\":1,\"type\":\"status\",%s,}",
        "{,\"proto\":1,\"type\":\"status\",%s}",
        "{\"proto\":1 \"type\":\"status\",%s}",
        "{\"proto\":1,\"type\" \"status\",%s}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":[1 2]}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":[1,]}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":tru}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":nulls}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":1.}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":-}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":1e}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"a\":\"b\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":[\"a\":1]}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\x01\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\xff\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\\ud800\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\\udc00\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\\u12\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\\x\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\"\\u0000\":1}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":\"\\u0000\"}",
        "{\"proto\":1,\"type\":\"status\",%s,\n\"x\":1}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":{\"a\":1,\"a\"}}",
        "{\"proto\":1,\"type\":\"status\",%s,\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
        "{\"proto\":1,\"type\":\"error\"}",
        "{\"proto\":1,\"type\":\"error\",\"error\":5}",
        "{\"proto\":1,\"type\":\"error\",\"error\":\"a-name-much-longer-than-thirty-one-bytes\"}",
        "{\"proto\":1,\"type\":\"ok\",\"verb\":1}",
        "{\"proto\":1,\"type\":\"ok\",\"message\":null}",
        "{\"proto\":1,\"type\":\"status\",%s,\"reason\":1}",
        "{\"proto\":1,\"type\":\"status\",%s,\"boottime_ms\":-5}",
        "{\"proto\":1,\"type\":\"status\",%s,\"boottime_ms\":\"5\"}",
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        memset(&r, 0x5a, sizeof(r));
        before = r;
        int ret = parse_with(bad[k], good_tail);
        if (ret != -EBADMSG) fprintf(stderr, "bad[%zu] = %s: %d\n", k, bad[k], ret);
        CHECK_EQ_INT(ret, -EBADMSG);
        CHECK(memcmp(&r, &before, sizeof(r)) == 0);
    }

    /* Each required field missing, or of the wrong type. */
    const char *fields[] = {"namespace", "election", "identity", "hostname", "leader",
                            "is_leader", "term",     "since",    "valid_ms", "state"};
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        char tail[512], key[32];
        snprintf(tail, sizeof(tail), "%s", good_tail);
        snprintf(key, sizeof(key), "\"%s\"", fields[k]);
        char *p = strstr(tail, key);
        CHECK(p != NULL);
        p[1] = 'X'; /* rename: missing */
        CHECK_EQ_INT(parse_with("{\"proto\":1,\"type\":\"status\",%s}", tail), -EBADMSG);
        p[1] = fields[k][0];
        char *v = p + strlen(key) + 1;
        char *end = v;
        while (*end != ',' && *end)
            end++;
        char rest[512];
        snprintf(rest, sizeof(rest), "%s", end);
        /* strings become numbers, numbers and booleans become strings */
        strcpy(v, v[0] == '"' ? "1" : "\"1\"");
        strcat(tail, rest);
        CHECK_EQ_INT(parse_with("{\"proto\":1,\"type\":\"status\",%s}", tail), -EBADMSG);
    }

    /* Numbers: negative, fractional, overflow. */
    CHECK_EQ_INT(parse_with("{\"proto\":1,\"type\":\"status\",%s,\"term\":-1}", good_tail),
                 -EBADMSG);
    const char *t = "{\"proto\":1,\"type\":\"status\",\"namespace\":\"d\",\"election\":\"e\","
                    "\"identity\":\"i\",\"hostname\":\"h\",\"leader\":\"i\",\"is_leader\":true,"
                    "\"since\":\"\",\"valid_ms\":10,\"state\":\"leading\",\"term\":%s}";
    CHECK_EQ_INT(parse_with(t, "9007199254740991"), 0);
    CHECK_EQ_INT(parse_with(t, "9007199254740992"), -EBADMSG);
    CHECK_EQ_INT(parse_with(t, "18446744073709551616"), -EBADMSG);
    CHECK_EQ_INT(parse_with(t, "1e3"), -EBADMSG);
    CHECK_EQ_INT(parse_with(t, "3.0"), -EBADMSG);
    CHECK_EQ_INT(parse_with(t, "true"), -EBADMSG);

    /* Other protocol versions fail closed with their own code. */
    CHECK_EQ_INT(parse_with("{\"proto\":2,\"type\":\"status\",%s}", good_tail), -EPROTONOSUPPORT);
    CHECK_EQ_INT(parse_with("{\"proto\":0,\"type\":\"status\",%s}", good_tail), -EPROTONOSUPPORT);

    /* Strings longer than their field. */
    char longid[PROTO_IDENTITY_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    snprintf(line, sizeof(line),
             "{\"proto\":1,\"type\":\"status\",\"namespace\":\"d\",\"election\":\"e\","
             "\"identity\":\"%s\",\"hostname\":\"h\",\"leader\":\"i\",\"is_leader\":true,"
             "\"since\":\"\",\"valid_ms\":10,\"state\":\"leading\",\"term\":1}",
             longid);
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), -EBADMSG);
    longid[PROTO_IDENTITY_MAX] = 0;
    snprintf(line, sizeof(line),
             "{\"proto\":1,\"type\":\"status\",\"namespace\":\"d\",\"election\":\"e\","
             "\"identity\":\"%s\",\"hostname\":\"h\",\"leader\":\"i\",\"is_leader\":true,"
             "\"since\":\"\",\"valid_ms\":10,\"state\":\"leading\",\"term\":1}",
             longid);
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), 0);

    /* Size bound, embedded NUL, two lines. */
    snprintf(line, sizeof(line), "{\"proto\":1,\"type\":\"status\",%s,\"pad\":\"", good_tail);
    size_t l = strlen(line);
    memset(line + l, 'p', PROTO_REPLY_MAX);
    strcpy(line + PROTO_REPLY_MAX - 3, "\"}\n");
    CHECK_EQ_INT(strlen(line), PROTO_REPLY_MAX);
    CHECK_EQ_INT(proto_reply_parse(line, PROTO_REPLY_MAX, &r), 0);
    strcpy(line + PROTO_REPLY_MAX - 3, "p\"}\n");
    CHECK_EQ_INT(proto_reply_parse(line, PROTO_REPLY_MAX + 1, &r), -EMSGSIZE);
    snprintf(line, sizeof(line), "{\"proto\":1,\"type\":\"status\",%s}", good_tail);
    l = strlen(line);
    CHECK_EQ_INT(proto_reply_parse(line, l + 1, &r), -EBADMSG); /* the NUL */
    strcat(line, "\n{}");
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), -EBADMSG);

    /* Too many tokens for the fixed token array. */
    snprintf(line, sizeof(line), "{\"proto\":1,\"type\":\"status\",%s,\"x\":[", good_tail);
    l = strlen(line);
    while (l + 4 < PROTO_REPLY_MAX - 3) {
        memcpy(line + l, "1,", 2);
        l += 2;
    }
    strcpy(line + l, "1]}");
    CHECK_EQ_INT(proto_reply_parse(line, strlen(line), &r), -EBADMSG);
}

static void test_misc(void)
{
    char buf[PROTO_TIMESTAMP_MAX + 1];
    char small[4] = "abc";

    CHECK_EQ_STR(proto_timestamp_format(UINT64_C(1795323827123456), buf, sizeof(buf)),
                 "2026-11-22T05:03:47.123456Z");
    CHECK_EQ_STR(proto_timestamp_format(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
    CHECK_EQ_STR(proto_timestamp_format(7, buf, sizeof(buf)), "1970-01-01T00:00:00.000007Z");
    CHECK_EQ_INT(proto_strcpy(small, sizeof(small), "abcd"), -ENAMETOOLONG);
    CHECK_EQ_STR(small, "abc");
    CHECK_EQ_INT(proto_strcpy(small, sizeof(small), "xy"), 0);
    CHECK_EQ_STR(small, "xy");
    for (ProtoState s = PROTO_STATE_STARTING; s < _PROTO_STATE_MAX; s++)
        CHECK_EQ_INT(proto_state_from_string(proto_state_to_string(s)), s);
    CHECK_EQ_INT(proto_state_from_string("unknown"), PROTO_STATE_UNKNOWN);
    CHECK(proto_state_to_string(_PROTO_STATE_MAX) == NULL);
    CHECK(proto_verb_to_string(0) == NULL);
    CHECK_EQ_STR(proto_verb_to_string(PROTO_VERB_WATCH), "WATCH");
}

int main(void)
{
    test_request();
    test_status_roundtrip();
    test_escaping();
    test_error_ok();
    test_reply_malformed();
    test_misc();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_proto: all checks passed\n");
    return 0;
}
