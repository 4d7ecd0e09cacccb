/* SPDX-License-Identifier: MIT */
/* Unit tests of daemon/json.c: validation beyond jsmn, skipping, lookup,
 * unescaping, numbers, the writer and patch-in-place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#include "check.h"

static int parse(const char *s, JsonDoc **d)
{
    return json_parse(s, strlen(s), 0, d);
}

static void test_validation(void)
{
    static const char *const good[] = {
        "{}",
        "[]",
        "\"x\"",
        "0",
        "-0.5e+3",
        "true",
        "false",
        "null",
        " {\"a\" : [1, 2 ,{}]}\n",
        "{\"a\":{\"b\":{\"c\":[[],[[]]]}}}",
        "[\"\\u00e9\\ud83d\\ude00\"]",
        "1E9",
        "[-1, 0.25]",
    };
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "[1,]",
        "{,}",
        ",{}",
        "{}x",
        "{} {}",
        "tru",
        "nul",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "+1",
        "[\"a\":1]",
        "{1:2}",
        "{\"a\":1,}",
        "\"\\x\"",
        "\"\\u12\"",
        "\"a\nb\"",
        "[truex]",
        "{\"a\":[}",
        "[{]}",
        "\"abc",
        "{\"a\":\"b\":\"c\"}",
        "[\"a\" , ]",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        JsonDoc *d = NULL;
        int r = parse(good[i], &d);
        if (r != 0) fprintf(stderr, "good rejected: %s (%d)\n", good[i], r);
        CHECK(r == 0);
        json_free(d);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        JsonDoc *d = NULL;
        int r = parse(bad[i], &d);
        if (r != -EBADMSG) fprintf(stderr, "bad accepted: %s (%d)\n", bad[i], r);
        CHECK(r == -EBADMSG);
        CHECK(d == NULL);
    }
    /* An embedded NUL ends jsmn's scan; the document must still be refused. */
    JsonDoc *d = NULL;
    CHECK(json_parse("{}\0{}", 5, 0, &d) == -EBADMSG);
    CHECK(json_parse("{\"a\":\"x\0y\"}", 11, 0, &d) == -EBADMSG);
    /* Token cap. */
    CHECK(json_parse("[1,2,3,4,5,6,7,8]", 17, 4, &d) == -E2BIG);
    CHECK(json_parse("[1,2,3,4,5,6,7,8]", 17, 9, &d) == 0);
    json_free(d);
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4001];
    memset(deep, '[', 2000);
    memset(deep + 2000, ']', 2000);
    deep[4000] = 0;
    d = NULL;
    CHECK(parse(deep, &d) == -EBADMSG);
}

static void test_access(void)
{
    JsonDoc *d = NULL;
    const char *s = "{\"a\":{\"x\":[1,{\"y\":2},[3,[4]]],\"z\":\"q\"},\"b\\u0041\":\"v\\n\\\"\","
                    "\"n\":null,\"t\":true,\"f\":false,\"i\":-42,\"big\":9223372036854775807,"
                    "\"over\":9223372036854775808,\"frac\":1.5,\"e\":\"\\u00e9\\ud83d\\ude00\","
                    "\"lone\":\"\\ud800x\",\"nul\":\"a\\u0000b\"}";
    CHECK(parse(s, &d) == 0);
    CHECK(json_type(d, 0) == JSON_OBJECT);
    CHECK(json_count(d, 0) == 12);
    /* Skipping a key skips its whole value: "b" follows "a" despite nesting. */
    int k = json_first(d, 0);
    CHECK(json_string_eq(d, k, "a"));
    k = json_next(d, k);
    CHECK(json_string_eq(d, k, "bA"));
    int x = json_get_path(d, 0, "a", "x", NULL);
    CHECK(json_type(d, x) == JSON_ARRAY && json_count(d, x) == 3);
    int e = json_first(d, x);
    e = json_next(d, e);
    CHECK(json_type(d, e) == JSON_OBJECT);
    e = json_next(d, e);
    CHECK(json_type(d, e) == JSON_ARRAY);
    CHECK(json_next(d, e) == -ENOENT);
    CHECK(json_string_eq(d, json_get_path(d, 0, "a", "z", NULL), "q"));
    CHECK(json_get_path(d, 0, "a", "nope", "deeper", NULL) < 0);
    CHECK(json_type(d, -ENOENT) == JSON_NONE);

    char *v = NULL;
    CHECK(json_string(d, json_get(d, 0, "bA"), &v) == 0 && strcmp(v, "v\n\"") == 0);
    free(v);
    CHECK(json_string(d, json_get(d, 0, "e"), &v) == 0 &&
          strcmp(v, "\xc3\xa9\xf0\x9f\x98\x80") == 0);
    free(v);
    CHECK(json_string(d, json_get(d, 0, "lone"), &v) == 0 && strcmp(v, "\xef\xbf\xbdx") == 0);
    free(v);
    CHECK(json_string(d, json_get(d, 0, "nul"), &v) == -EBADMSG);
    CHECK(json_string(d, json_get(d, 0, "i"), &v) == -EMEDIUMTYPE);
    CHECK(json_string(d, json_get(d, 0, "missing"), &v) == -ENOENT);
    char small[3];
    CHECK(json_string_buf(d, json_get(d, 0, "bA"), small, sizeof(small)) == -ENOBUFS);

    CHECK(json_type(d, json_get(d, 0, "n")) == JSON_NULL);
    CHECK(json_type(d, json_get(d, 0, "t")) == JSON_TRUE);
    CHECK(json_type(d, json_get(d, 0, "f")) == JSON_FALSE);
    CHECK(json_type(d, json_get(d, 0, "i")) == JSON_NUMBER);
    bool b = false;
    CHECK(json_bool(d, json_get(d, 0, "t"), &b) == 0 && b);
    CHECK(json_bool(d, json_get(d, 0, "n"), &b) == -EMEDIUMTYPE);
    int64_t i = 0;
    CHECK(json_int64(d, json_get(d, 0, "i"), &i) == 0 && i == -42);
    CHECK(json_int64(d, json_get(d, 0, "big"), &i) == 0 && i == INT64_MAX);
    CHECK(json_int64(d, json_get(d, 0, "over"), &i) == -ERANGE);
    CHECK(json_int64(d, json_get(d, 0, "frac"), &i) == -ERANGE);
    CHECK(json_int64(d, json_get(d, 0, "z"), &i) == -ENOENT);
    json_free(d);
}

static void test_writer(void)
{
    JsonWriter w = JSON_WRITER_INIT(1024);
    char *out = NULL;
    size_t n = 0;

    json_writer_begin_object(&w);
    json_writer_key(&w, "a\"b");
    json_writer_value_string(&w, "x\n\x01\\/");
    json_writer_key(&w, "n");
    json_writer_begin_array(&w);
    json_writer_value_int(&w, -3);
    json_writer_value_bool(&w, true);
    json_writer_value_raw(&w, "null");
    json_writer_end_array(&w);
    json_writer_end_object(&w);
    CHECK(json_writer_finish(&w, &out, &n) == 0);
    CHECK(strcmp(out, "{\"a\\\"b\":\"x\\n\\u0001\\\\/\",\"n\":[-3,true,null]}") == 0);
    CHECK(n == strlen(out));
    /* What the writer writes, the parser reads back. */
    JsonDoc *d = NULL;
    CHECK(json_parse(out, n, 0, &d) == 0);
    char *v = NULL;
    CHECK(json_string(d, json_get(d, 0, "a\"b"), &v) == 0 && strcmp(v, "x\n\x01\\/") == 0);
    free(v);
    json_free(d);
    free(out);

    w = JSON_WRITER_INIT(8);
    json_writer_string(&w, "0123456789");
    CHECK(json_writer_finish(&w, &out, &n) == -E2BIG);

    char buf[8];
    CHECK(json_escape("ab", 2, buf, sizeof(buf)) == 4 && strcmp(buf, "\"ab\"") == 0);
    CHECK(json_escape("abcdefgh", 8, buf, sizeof(buf)) == -ENOBUFS);
}

static void edit_check(const char *in, const char *const *path, const char *value,
                       const char *expect)
{
    char *out = NULL;
    size_t n = 0;
    int r = json_edit(in, strlen(in), path, value, 1 << 20, &out, &n);
    if (r != 0 || strcmp(out, expect) != 0)
        fprintf(stderr, "edit of %s: got %d %s, expected %s\n", in, r, out ? out : "-", expect);
    CHECK(r == 0 && out && strcmp(out, expect) == 0);
    free(out);
}

static void test_edit(void)
{
    static const char *const ab[] = {"a", "b", NULL};
    static const char *const a[] = {"a", NULL};
    static const char *const c[] = {"c", NULL};

    edit_check("{\"a\":{\"b\":1,\"x\":2}}", ab, "\"s\"", "{\"a\":{\"b\":\"s\",\"x\":2}}");
    edit_check("{\"a\":{\"x\":2}}", ab, "3", "{\"a\":{\"x\":2,\"b\":3}}");
    edit_check("{\"a\":{ }}", ab, "3", "{\"a\":{ \"b\":3}}");
    edit_check("{\"z\":0}", ab, "3", "{\"z\":0,\"a\":{\"b\":3}}");
    edit_check("{}", ab, "3", "{\"a\":{\"b\":3}}");
    edit_check("{\"a\":null}", ab, "3", "{\"a\":{\"b\":3}}");
    edit_check("{\n  \"a\": {\n    \"b\": 1\n  }\n}", ab, "2",
               "{\n  \"a\": {\n    \"b\": 2\n  }\n}");
    /* Deletions keep the separators right. */
    edit_check("{\"a\":1,\"c\":2,\"d\":3}", c, NULL, "{\"a\":1,\"d\":3}");
    edit_check("{\"a\":1,\"c\":2}", c, NULL, "{\"a\":1}");
    edit_check("{\"c\":2,\"a\":1}", c, NULL, "{\"a\":1}");
    edit_check("{\"c\":2}", c, NULL, "{}");
    edit_check("{\"a\":1}", c, NULL, "{\"a\":1}");
    edit_check("{\"a\":{\"b\":[1,{\"b\":2}]}}", a, "0", "{\"a\":0}");

    char *out = NULL;
    size_t n;
    CHECK(json_edit("{\"a\":5}", 7, ab, "1", 100, &out, &n) == -ENOTDIR);
    CHECK(json_edit("{\"a\":", 5, ab, "1", 100, &out, &n) == -EBADMSG);
    CHECK(json_edit("[]", 2, ab, "1", 100, &out, &n) == -ENOTDIR);
    CHECK(json_edit("{\"a\":5}", 7, a, "123456", 10, &out, &n) == -E2BIG);
}

int main(void)
{
    test_validation();
    test_access();
    test_writer();
    test_edit();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_json: ok\n");
    return 0;
}
