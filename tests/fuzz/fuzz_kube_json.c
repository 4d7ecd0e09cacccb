/* SPDX-License-Identifier: MIT */
/* The JSON wrapper every daemon module parses with: validation, walking by
 * skip, unescaping, and patch-in-place. Whatever parses must walk without
 * going out of bounds, and every edit of it must give JSON again in which
 * the edited value reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const JsonDoc *d, int t, int depth)
{
    char buf[64];
    char *s = NULL;
    int64_t i;
    bool b;

    switch (json_type(d, t)) {
    case JSON_OBJECT:
        for (int k = json_first(d, t); k >= 0; k = json_next(d, k)) {
            if (json_type(d, k) != JSON_STRING) abort();
            if (json_string(d, k, &s) == 0) {
                if (json_get(d, t, s) < 0) abort();
                free(s);
                s = NULL;
            }
            walk(d, k + 1, depth + 1);
        }
        break;
    case JSON_ARRAY: {
        int n = 0;
        for (int k = json_first(d, t); k >= 0; k = json_next(d, k), n++)
            walk(d, k, depth + 1);
        if (n != json_count(d, t)) abort();
        break;
    }
    case JSON_STRING:
        (void)json_string_buf(d, t, buf, sizeof(buf));
        if (json_string(d, t, &s) == 0) free(s);
        break;
    case JSON_NUMBER:
        (void)json_int64(d, t, &i);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        (void)json_bool(d, t, &b);
        break;
    default:
        break;
    }
    if (json_end(d, t) < json_start(d, t)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JsonDoc *d = NULL;
    const char *text = (const char *)data;

    if (json_parse(text, size, 4096, &d) < 0) return 0;
    walk(d, 0, 0);
    json_free(d);

    static const char *const p1[] = {"metadata", "resourceVersion", NULL};
    static const char *const p2[] = {"spec", "x\"y", "z", NULL};
    static const char *const *const paths[] = {p1, p2};
    for (size_t p = 0; p < 2; p++)
        for (int del = 0; del <= 1; del++) {
            char *out = NULL;
            size_t n = 0;
            if (json_edit(text, size, paths[p], del ? NULL : "\"v\\u00e9\"", 1 << 20, &out, &n) < 0)
                continue;
            JsonDoc *e = NULL;
            if (json_parse(out, n, 0, &e) < 0) abort();
            int v = json_get_pathv(e, 0, paths[p]);
            if (del ? v >= 0 : !json_string_eq(e, v, "v\xc3\xa9")) abort();
            json_free(e);
            free(out);
        }
    return 0;
}
