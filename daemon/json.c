/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The only translation unit of the daemon that compiles jsmn's code. */
#include <jsmn.h>

#define JSON_DEPTH_MAX 256

#define _cleanup_json_ __attribute__((cleanup(json_freep)))
#define _cleanup_free_ __attribute__((cleanup(freep_)))
static inline void freep_(void *p)
{
    free(*(void **)p);
}

struct JsonDoc {
    const char *text;
    size_t len;
    jsmntok_t *tok;
    int n;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Index after t and its whole subtree: every token consumes one pending slot
 * and adds one per child, so nested values are skipped by counting. */
static int skip(const JsonDoc *d, int t)
{
    int pending = 1;
    while (pending > 0 && t < d->n) {
        pending += d->tok[t].size;
        pending--;
        t++;
    }
    return t;
}

/* Span in the text, strings with their quotes. */
static size_t tok_start(const jsmntok_t *k)
{
    return k->type == JSMN_STRING ? (size_t)k->start - 1 : (size_t)k->start;
}

static size_t tok_end(const jsmntok_t *k)
{
    return k->type == JSMN_STRING ? (size_t)k->end + 1 : (size_t)k->end;
}

/* Whitespace, optionally one separator c, whitespace: exactly [from, to). */
static bool gap_ok(const char *s, size_t from, size_t to, char c)
{
    size_t i = from;
    while (i < to && is_ws(s[i]))
        i++;
    if (c) {
        if (i >= to || s[i] != c) return false;
        i++;
        while (i < to && is_ws(s[i]))
            i++;
    }
    return i == to;
}

static bool number_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0')
        i++;
    else if (is_digit(s[i]))
        while (i < n && is_digit(s[i]))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

ssize_t json_unescape(const char *s, size_t len, char *out, size_t out_size)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;

        if (c < 0x20) return -EBADMSG;
        if (c != '\\') {
            if (out) {
                if (o + 1 >= out_size) return -ENOBUFS;
                out[o] = (char)c;
            }
            o++;
            continue;
        }
        if (++i >= len) return -EBADMSG;
        switch (s[i]) {
        case '"':
            cp = '"';
            break;
        case '\\':
            cp = '\\';
            break;
        case '/':
            cp = '/';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u': {
            if (len - i - 1 < 4) return -EBADMSG;
            cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexval(s[i + k]);
                if (h < 0) return -EBADMSG;
                cp = cp << 4 | (uint32_t)h;
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* A high surrogate needs its low half; a lone one becomes
                 * U+FFFD, as Go's decoder does. */
                uint32_t lo = 0;
                bool ok = len - i - 1 >= 6 && s[i + 1] == '\\' && s[i + 2] == 'u';
                for (int k = 3; ok && k <= 6; k++) {
                    int h = hexval(s[i + k]);
                    if (h < 0)
                        ok = false;
                    else
                        lo = lo << 4 | (uint32_t)h;
                }
                if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else
                    cp = 0xFFFD;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF)
                cp = 0xFFFD;
            if (cp == 0 && out) return -EBADMSG; /* no NUL inside a C string */
            break;
        }
        default:
            return -EBADMSG;
        }

        char u[4];
        size_t n;
        if (cp < 0x80) {
            u[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | cp >> 6);
            u[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | cp >> 12);
            u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            u[0] = (char)(0xF0 | cp >> 18);
            u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
            u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        if (out) {
            if (o + n >= out_size) return -ENOBUFS;
            memcpy(out + o, u, n);
        }
        o += n;
    }
    if (out) {
        if (o >= out_size) return -ENOBUFS;
        out[o] = 0;
    }
    return (ssize_t)o;
}

/* Checks token t (and below) against the JSON grammar: what jsmn lets through
 * in strict mode but JSON does not (missing or extra separators, keys without
 * values, bad literals) is refused here. Returns the next index or -1. */
static int validate(const JsonDoc *d, int t, int depth)
{
    const jsmntok_t *k;
    const char *s = d->text;

    if (t >= d->n || depth > JSON_DEPTH_MAX) return -1;
    k = &d->tok[t];
    if (k->start < 0 || k->end < k->start) return -1;

    switch (k->type) {
    case JSMN_STRING:
        if (k->size != 0) return -1;
        if (json_unescape(s + k->start, (size_t)(k->end - k->start), NULL, 0) < 0) return -1;
        return t + 1;
    case JSMN_PRIMITIVE: {
        size_t n = (size_t)(k->end - k->start);
        const char *p = s + k->start;
        if (k->size != 0) return -1;
        if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 5 && memcmp(p, "false", 5) == 0) ||
            (n == 4 && memcmp(p, "null", 4) == 0) || number_ok(p, n))
            return t + 1;
        return -1;
    }
    case JSMN_OBJECT:
    case JSMN_ARRAY: {
        bool obj = k->type == JSMN_OBJECT;
        size_t pos = (size_t)k->start + 1;
        int i = t + 1;
        for (int m = 0; m < k->size; m++) {
            if (i >= d->n || d->tok[i].parent != t) return -1;
            if (!gap_ok(s, pos, tok_start(&d->tok[i]), m ? ',' : 0)) return -1;
            if (obj) {
                const jsmntok_t *key = &d->tok[i];
                if (key->type != JSMN_STRING || key->size != 1) return -1;
                if (json_unescape(s + key->start, (size_t)(key->end - key->start), NULL, 0) < 0)
                    return -1;
                if (i + 1 >= d->n || d->tok[i + 1].parent != i) return -1;
                if (!gap_ok(s, tok_end(key), tok_start(&d->tok[i + 1]), ':')) return -1;
                pos = tok_end(&d->tok[i + 1]);
                i = validate(d, i + 1, depth + 1);
            } else {
                pos = tok_end(&d->tok[i]);
                i = validate(d, i, depth + 1);
            }
            if (i < 0) return -1;
        }
        if ((size_t)k->end < pos + 1 || !gap_ok(s, pos, (size_t)k->end - 1, 0)) return -1;
        if (s[k->end - 1] != (obj ? '}' : ']')) return -1;
        return i;
    }
    default:
        return -1;
    }
}

int json_parse(const char *text, size_t len, size_t max_tokens, JsonDoc **ret)
{
    JsonDoc *d;
    size_t cap = 64;
    int r;

    if (!text || !ret) return -EINVAL;
    if (max_tokens == 0) max_tokens = JSON_TOKENS_MAX_DEFAULT;
    if (len > INT_MAX) return -E2BIG;

    d = calloc(1, sizeof(*d));
    if (!d) return -ENOMEM;
    d->text = text;
    d->len = len;

    for (;;) {
        jsmn_parser p;
        jsmntok_t *nt;

        if (cap > max_tokens) cap = max_tokens;
        nt = realloc(d->tok, cap * sizeof(jsmntok_t));
        if (!nt) {
            r = -ENOMEM;
            goto fail;
        }
        d->tok = nt;
        jsmn_init(&p);
        r = jsmn_parse(&p, text, len, d->tok, (unsigned)cap);
        if (r == JSMN_ERROR_NOMEM) {
            if (cap >= max_tokens) {
                r = -E2BIG;
                goto fail;
            }
            cap *= 4;
            continue;
        }
        if (r == JSMN_ERROR_PART) {
            /* Strict jsmn wants a delimiter after a primitive, so a bare
             * top-level number or literal reads as truncated: take it as one
             * token here and let validate() judge it. */
            size_t a = 0, b = len;
            while (a < b && is_ws(text[a]))
                a++;
            while (b > a && is_ws(text[b - 1]))
                b--;
            if (a < b && strchr("-0123456789tfn", text[a]) && !memchr(text + a, '"', b - a)) {
                d->tok[0] = (jsmntok_t){.type = JSMN_PRIMITIVE,
                                        .start = (int)a,
                                        .end = (int)b,
                                        .size = 0,
                                        .parent = -1};
                r = 1;
            }
        }
        if (r <= 0) {
            r = -EBADMSG;
            goto fail;
        }
        break;
    }
    d->n = r;

    /* Exactly one value, nothing but whitespace around it (a NUL byte ends
     * jsmn's scan early; the trailing check catches it). */
    if (!gap_ok(text, 0, tok_start(&d->tok[0]), 0) || validate(d, 0, 0) != d->n ||
        !gap_ok(text, tok_end(&d->tok[0]), len, 0)) {
        r = -EBADMSG;
        goto fail;
    }

    *ret = d;
    return 0;
fail:
    free(d->tok);
    free(d);
    return r;
}

JsonDoc *json_free(JsonDoc *d)
{
    if (!d) return NULL;
    free(d->tok);
    free(d);
    return NULL;
}

const char *json_text(const JsonDoc *d)
{
    return d->text;
}

JsonType json_type(const JsonDoc *d, int t)
{
    const jsmntok_t *k;

    if (!d || t < 0 || t >= d->n) return JSON_NONE;
    k = &d->tok[t];
    switch (k->type) {
    case JSMN_OBJECT:
        return JSON_OBJECT;
    case JSMN_ARRAY:
        return JSON_ARRAY;
    case JSMN_STRING:
        return JSON_STRING;
    case JSMN_PRIMITIVE:
        switch (d->text[k->start]) {
        case 't':
            return JSON_TRUE;
        case 'f':
            return JSON_FALSE;
        case 'n':
            return JSON_NULL;
        default:
            return JSON_NUMBER;
        }
    default:
        return JSON_NONE;
    }
}

size_t json_start(const JsonDoc *d, int t)
{
    if (!d || t < 0 || t >= d->n) return 0;
    return tok_start(&d->tok[t]);
}

size_t json_end(const JsonDoc *d, int t)
{
    if (!d || t < 0 || t >= d->n) return 0;
    return tok_end(&d->tok[t]);
}

int json_count(const JsonDoc *d, int t)
{
    JsonType y = json_type(d, t);
    return y == JSON_OBJECT || y == JSON_ARRAY ? d->tok[t].size : 0;
}

int json_first(const JsonDoc *d, int t)
{
    if (json_count(d, t) <= 0) return -ENOENT;
    return t + 1;
}

int json_next(const JsonDoc *d, int t)
{
    int n, parent;

    if (!d || t < 0 || t >= d->n) return -ENOENT;
    parent = d->tok[t].parent;
    if (parent < 0) return -ENOENT;
    n = skip(d, t);
    if (n >= d->n || d->tok[n].parent != parent) return -ENOENT;
    return n;
}

/* Compares the raw body of string token t with s, unescaping only if the
 * raw text has backslashes. */
static bool tok_eq(const JsonDoc *d, int t, const char *s)
{
    const jsmntok_t *k = &d->tok[t];
    size_t n = (size_t)(k->end - k->start);
    const char *p = d->text + k->start;

    if (!memchr(p, '\\', n)) return strlen(s) == n && memcmp(p, s, n) == 0;

    char *buf = malloc(n + 1);
    bool eq = false;
    if (!buf) return false;
    if (json_unescape(p, n, buf, n + 1) >= 0) eq = strcmp(buf, s) == 0;
    free(buf);
    return eq;
}

bool json_string_eq(const JsonDoc *d, int t, const char *s)
{
    return json_type(d, t) == JSON_STRING && s && tok_eq(d, t, s);
}

int json_get(const JsonDoc *d, int t, const char *key)
{
    int found = -ENOENT;

    if (json_type(d, t) != JSON_OBJECT || !key) return -ENOENT;
    /* With duplicate keys the last one wins, as in Go's encoding/json: we
     * read what the API server would read. */
    for (int k = json_first(d, t); k >= 0; k = json_next(d, k))
        if (tok_eq(d, k, key)) found = k + 1;
    return found;
}

int json_get_pathv(const JsonDoc *d, int t, const char *const *keys)
{
    for (; keys && *keys && t >= 0; keys++)
        t = json_get(d, t, *keys);
    return t;
}

int json_get_path(const JsonDoc *d, int t, ...)
{
    va_list ap;
    const char *k;

    va_start(ap, t);
    while (t >= 0 && (k = va_arg(ap, const char *)))
        t = json_get(d, t, k);
    va_end(ap);
    return t;
}

int json_string_buf(const JsonDoc *d, int t, char *buf, size_t size)
{
    JsonType y = json_type(d, t);
    ssize_t r;

    if (y == JSON_NONE) return -ENOENT;
    if (y != JSON_STRING) return -EMEDIUMTYPE;
    r = json_unescape(d->text + d->tok[t].start, (size_t)(d->tok[t].end - d->tok[t].start), buf,
                      size);
    return r < 0 ? (int)r : 0;
}

int json_string(const JsonDoc *d, int t, char **ret)
{
    JsonType y = json_type(d, t);
    char *buf;
    size_t n;
    int r;

    if (y == JSON_NONE) return -ENOENT;
    if (y != JSON_STRING) return -EMEDIUMTYPE;
    n = (size_t)(d->tok[t].end - d->tok[t].start);
    buf = malloc(n + 1);
    if (!buf) return -ENOMEM;
    r = json_string_buf(d, t, buf, n + 1);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret = buf;
    return 0;
}

char *json_get_string_dup(const JsonDoc *d, int t, const char *key)
{
    char *s = NULL;
    if (json_string(d, json_get(d, t, key), &s) < 0) return NULL;
    return s;
}

int json_int64(const JsonDoc *d, int t, int64_t *ret)
{
    JsonType y = json_type(d, t);
    const char *p;
    size_t n;
    bool neg = false;
    uint64_t v = 0;

    if (y == JSON_NONE) return -ENOENT;
    if (y != JSON_NUMBER) return -EMEDIUMTYPE;
    p = d->text + d->tok[t].start;
    n = (size_t)(d->tok[t].end - d->tok[t].start);
    if (*p == '-') {
        neg = true;
        p++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) return -ERANGE; /* fraction or exponent */
        if (v > (UINT64_MAX - 9) / 10) return -ERANGE;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return -ERANGE;
    if (ret) *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int json_bool(const JsonDoc *d, int t, bool *ret)
{
    JsonType y = json_type(d, t);
    if (y == JSON_NONE) return -ENOENT;
    if (y != JSON_TRUE && y != JSON_FALSE) return -EMEDIUMTYPE;
    if (ret) *ret = y == JSON_TRUE;
    return 0;
}

/* ---- writer ---- */

static void writer_reserve(JsonWriter *w, size_t n)
{
    size_t want, cap;
    char *b;

    if (w->error) return;
    if (n > w->max || w->len > w->max - n) {
        w->error = -E2BIG;
        return;
    }
    want = w->len + n + 1;
    if (want <= w->cap) return;
    cap = w->cap ? w->cap : 256;
    while (cap < want)
        cap *= 2;
    if (cap > w->max + 1) cap = w->max + 1;
    b = realloc(w->buf, cap);
    if (!b) {
        w->error = -ENOMEM;
        return;
    }
    w->buf = b;
    w->cap = cap;
}

void json_writer_raw(JsonWriter *w, const char *s, size_t n)
{
    writer_reserve(w, n);
    if (w->error) return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

void json_writer_cstr(JsonWriter *w, const char *s)
{
    json_writer_raw(w, s, strlen(s));
}

void json_writer_string_n(JsonWriter *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    json_writer_raw(w, "\"", 1);
    for (size_t i = 0; i < n && !w->error; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[6];
        switch (c) {
        case '"':
            json_writer_raw(w, "\\\"", 2);
            break;
        case '\\':
            json_writer_raw(w, "\\\\", 2);
            break;
        case '\n':
            json_writer_raw(w, "\\n", 2);
            break;
        case '\r':
            json_writer_raw(w, "\\r", 2);
            break;
        case '\t':
            json_writer_raw(w, "\\t", 2);
            break;
        case '\b':
            json_writer_raw(w, "\\b", 2);
            break;
        case '\f':
            json_writer_raw(w, "\\f", 2);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4];
                e[5] = hex[c & 15];
                json_writer_raw(w, e, 6);
            } else
                json_writer_raw(w, (const char *)&s[i], 1);
        }
    }
    json_writer_raw(w, "\"", 1);
}

void json_writer_string(JsonWriter *w, const char *s)
{
    json_writer_string_n(w, s, strlen(s));
}

void json_writer_int(JsonWriter *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRIi64, v);
    json_writer_raw(w, b, (size_t)n);
}

static void writer_comma(JsonWriter *w)
{
    if (w->need_comma) json_writer_raw(w, ",", 1);
    w->need_comma = true;
}

void json_writer_begin_object(JsonWriter *w)
{
    writer_comma(w);
    json_writer_raw(w, "{", 1);
    w->need_comma = false;
}

void json_writer_end_object(JsonWriter *w)
{
    json_writer_raw(w, "}", 1);
    w->need_comma = true;
}

void json_writer_begin_array(JsonWriter *w)
{
    writer_comma(w);
    json_writer_raw(w, "[", 1);
    w->need_comma = false;
}

void json_writer_end_array(JsonWriter *w)
{
    json_writer_raw(w, "]", 1);
    w->need_comma = true;
}

void json_writer_key(JsonWriter *w, const char *key)
{
    writer_comma(w);
    json_writer_string(w, key);
    json_writer_raw(w, ":", 1);
    w->need_comma = false;
}

void json_writer_value_string(JsonWriter *w, const char *s)
{
    writer_comma(w);
    json_writer_string(w, s);
}

void json_writer_value_int(JsonWriter *w, int64_t v)
{
    writer_comma(w);
    json_writer_int(w, v);
}

void json_writer_value_bool(JsonWriter *w, bool b)
{
    writer_comma(w);
    json_writer_cstr(w, b ? "true" : "false");
}

void json_writer_value_raw(JsonWriter *w, const char *raw)
{
    writer_comma(w);
    json_writer_cstr(w, raw);
}

void json_writer_deinit(JsonWriter *w)
{
    size_t max = w->max;
    free(w->buf);
    *w = JSON_WRITER_INIT(max);
}

int json_writer_finish(JsonWriter *w, char **ret, size_t *ret_len)
{
    int r = w->error;

    if (r == 0 && !w->buf) {
        writer_reserve(w, 0);
        r = w->error;
        if (r == 0) w->buf[0] = 0;
    }
    if (r < 0) {
        json_writer_deinit(w);
        return r;
    }
    if (ret_len) *ret_len = w->len;
    if (ret) {
        *ret = w->buf;
        w->buf = NULL;
    }
    json_writer_deinit(w);
    return 0;
}

ssize_t json_escape(const char *s, size_t n, char *buf, size_t size)
{
    JsonWriter w = JSON_WRITER_INIT(size ? size - 1 : 0);
    char *out = NULL;
    size_t len = 0;
    int r;

    json_writer_string_n(&w, s, n);
    r = json_writer_finish(&w, &out, &len);
    if (r < 0) return r == -E2BIG ? -ENOBUFS : r;
    memcpy(buf, out, len + 1);
    free(out);
    return (ssize_t)len;
}

/* ---- patch in place ---- */

static int splice(const char *text, size_t len, size_t from, size_t to, const char *ins,
                  size_t ins_len, size_t max_len, char **ret, size_t *ret_len)
{
    size_t n = len - (to - from) + ins_len;
    char *out;

    if (n > max_len) return -E2BIG;
    out = malloc(n + 1);
    if (!out) return -ENOMEM;
    memcpy(out, text, from);
    memcpy(out + from, ins, ins_len);
    memcpy(out + from + ins_len, text + to, len - to);
    out[n] = 0;
    *ret = out;
    *ret_len = n;
    return 0;
}

/* `"k1":{"k2":{…"kn":value}}` for the missing tail of a path. */
static int nested_member(const char *const *keys, const char *value, size_t max_len, char **ret,
                         size_t *ret_len)
{
    JsonWriter w = JSON_WRITER_INIT(max_len);
    size_t depth = 0;

    for (const char *const *k = keys; *k; k++) {
        if (k != keys) {
            json_writer_raw(&w, "{", 1);
            depth++;
        }
        json_writer_string(&w, *k);
        json_writer_raw(&w, ":", 1);
    }
    json_writer_cstr(&w, value);
    while (depth-- > 0)
        json_writer_raw(&w, "}", 1);
    return json_writer_finish(&w, ret, ret_len);
}

static int edit_once(const char *text, size_t len, const char *const *path, const char *value,
                     size_t max_len, char **ret, size_t *ret_len);

int json_edit(const char *text, size_t len, const char *const *path, const char *value,
              size_t max_len, char **ret, size_t *ret_len)
{
    char *cur = NULL;
    size_t cur_len = 0;
    int r;

    r = edit_once(text, len, path, value, max_len, &cur, &cur_len);
    if (r < 0 || value) goto done;
    /* A duplicated key is deleted in every copy. */
    while (cur_len < len) {
        char *next = NULL;
        size_t next_len = 0;
        len = cur_len;
        r = edit_once(cur, cur_len, path, NULL, max_len, &next, &next_len);
        free(cur);
        cur = next;
        cur_len = next_len;
        if (r < 0) goto done;
    }
done:
    if (r < 0) return r;
    *ret = cur;
    *ret_len = cur_len;
    return 0;
}

static int edit_once(const char *text, size_t len, const char *const *path, const char *value,
                     size_t max_len, char **ret, size_t *ret_len)
{
    _cleanup_json_ JsonDoc *d = NULL;
    int cur = 0, r;

    if (!path || !path[0] || !ret || !ret_len) return -EINVAL;
    r = json_parse(text, len, 0, &d);
    if (r < 0) return r;
    if (json_type(d, 0) != JSON_OBJECT) return -ENOTDIR;

    for (size_t i = 0; path[i]; i++) {
        int v = json_get(d, cur, path[i]);
        bool last = !path[i + 1];

        if (v < 0 || (!last && json_type(d, v) == JSON_NULL)) {
            /* Missing (or null where an object is needed): add the member
             * with whatever objects the rest of the path needs. */
            _cleanup_free_ char *member = NULL;
            size_t member_len;

            if (!value) return splice(text, len, 0, 0, "", 0, max_len, ret, ret_len);
            if (v >= 0) {
                /* "key": null -> "key": {…} */
                r = nested_member(path + i + 1, value, max_len, &member, &member_len);
                if (r < 0) return r;
                _cleanup_free_ char *obj = malloc(member_len + 3);
                if (!obj) return -ENOMEM;
                obj[0] = '{';
                memcpy(obj + 1, member, member_len);
                obj[member_len + 1] = '}';
                obj[member_len + 2] = 0;
                return splice(text, len, json_start(d, v), json_end(d, v), obj, member_len + 2,
                              max_len, ret, ret_len);
            }
            r = nested_member(path + i, value, max_len, &member, &member_len);
            if (r < 0) return r;
            if (json_count(d, cur) == 0)
                return splice(text, len, json_end(d, cur) - 1, json_end(d, cur) - 1, member,
                              member_len, max_len, ret, ret_len);
            /* After the last member's value, so a pretty layout stays readable. */
            int k = json_first(d, cur), last_key = k;
            for (; k >= 0; k = json_next(d, k))
                last_key = k;
            size_t at = json_end(d, last_key + 1);
            _cleanup_free_ char *ins = malloc(member_len + 2);
            if (!ins) return -ENOMEM;
            ins[0] = ',';
            memcpy(ins + 1, member, member_len + 1);
            return splice(text, len, at, at, ins, member_len + 1, max_len, ret, ret_len);
        }
        if (!last) {
            if (json_type(d, v) != JSON_OBJECT) return -ENOTDIR;
            cur = v;
            continue;
        }
        if (value)
            return splice(text, len, json_start(d, v), json_end(d, v), value, strlen(value),
                          max_len, ret, ret_len);

        /* Delete member k:v with one adjacent comma. */
        int k = v - 1, next = json_next(d, k);
        size_t from = json_start(d, k), to = json_end(d, v);
        if (next >= 0)
            to = json_start(d, next);
        else {
            int prev = -ENOENT;
            for (int j = json_first(d, cur); j >= 0 && j != k; j = json_next(d, j))
                prev = j;
            if (prev >= 0) from = json_end(d, prev + 1);
        }
        return splice(text, len, from, to, "", 0, max_len, ret, ret_len);
    }
    return -EINVAL; /* not reached */
}

int json_edit_many(const char *text, size_t len, const JsonEdit *edits, size_t n_edits,
                   size_t max_len, char **ret, size_t *ret_len)
{
    char *cur = NULL;
    size_t cur_len = len;
    int r;

    if (len > max_len) return -E2BIG;
    cur = malloc(len + 1);
    if (!cur) return -ENOMEM;
    memcpy(cur, text, len);
    cur[len] = 0;

    /* One re-parse per edit: the texts are small and each edit then works
     * on exact offsets, including members an earlier edit created. */
    for (size_t i = 0; i < n_edits; i++) {
        char *next = NULL;
        size_t next_len = 0;
        r = json_edit(cur, cur_len, edits[i].path, edits[i].value, max_len, &next, &next_len);
        free(cur);
        if (r < 0) return r;
        cur = next;
        cur_len = next_len;
    }
    *ret = cur;
    *ret_len = cur_len;
    return 0;
}
