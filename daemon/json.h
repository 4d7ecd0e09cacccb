/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The daemon's one JSON wrapper around jsmn (built with JSMN_PARENT_LINKS and
 * JSMN_STRICT). jsmn is lax even in strict mode (it accepts "tru", missing
 * commas, keys without values), so json_parse() validates the token tree and
 * every separator and primitive after jsmn is done: what it accepts is JSON.
 *
 * Values are addressed by token index (int); the root is 0. A negative index
 * means "absent" and every accessor accepts it (returns JSON_NONE / -ENOENT),
 * so lookups chain without checks in between. */

typedef enum JsonType {
    JSON_NONE = 0, /* absent (negative index) */
    JSON_OBJECT,
    JSON_ARRAY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
} JsonType;

typedef struct JsonDoc JsonDoc;

/* Default cap on the number of tokens (bounds memory for hostile input). */
#define JSON_TOKENS_MAX_DEFAULT 65536u

/* Parses text[0..len) (not necessarily NUL-terminated; the doc refers to it,
 * the caller keeps it alive). Returns 0, -EBADMSG if it is not one valid JSON
 * value (surrounded by whitespace only), -E2BIG for more than max_tokens
 * tokens (0: JSON_TOKENS_MAX_DEFAULT), -ENOMEM. */
int json_parse(const char *text, size_t len, size_t max_tokens, JsonDoc **ret);
JsonDoc *json_free(JsonDoc *d);
static inline void json_freep(JsonDoc **d)
{
    json_free(*d);
}

const char *json_text(const JsonDoc *d);
JsonType json_type(const JsonDoc *d, int t);
/* Byte span of value t in the text; strings include their quotes. */
size_t json_start(const JsonDoc *d, int t);
size_t json_end(const JsonDoc *d, int t);
/* Members of an object / elements of an array, 0 for anything else. */
int json_count(const JsonDoc *d, int t);
/* First element of an array or first KEY of an object; -ENOENT if empty.
 * json_next() skips t with everything below it (children counted
 * recursively): for a key this skips the key and its value. Returns
 * -ENOENT after the last sibling. The value of key k is k + 1. */
int json_first(const JsonDoc *d, int t);
int json_next(const JsonDoc *d, int t);

/* Value of `key` in object t, or -ENOENT (also when t is not an object). */
int json_get(const JsonDoc *d, int t, const char *key);
/* json_get() along a NULL-terminated list of keys. */
int json_get_path(const JsonDoc *d, int t, ...) __attribute__((sentinel));
int json_get_pathv(const JsonDoc *d, int t, const char *const *keys);

/* Unescaped string value (\uXXXX and surrogate pairs to UTF-8). Returns 0,
 * -ENOENT if absent, -EMEDIUMTYPE if not a string, -EBADMSG for a bad
 * escape, a control character or an escaped NUL, -ENOMEM. */
int json_string(const JsonDoc *d, int t, char **ret);
/* Same into a caller buffer; -ENOBUFS if it does not fit with its NUL. */
int json_string_buf(const JsonDoc *d, int t, char *buf, size_t size);
/* True if t is a string whose unescaped value equals s. */
bool json_string_eq(const JsonDoc *d, int t, const char *s);
/* Integer value; -EMEDIUMTYPE if not a number, -ERANGE if fractional,
 * exponent or out of range. */
int json_int64(const JsonDoc *d, int t, int64_t *ret);
int json_bool(const JsonDoc *d, int t, bool *ret);

/* Convenience: string at object t's key; NULL when absent or not a string. */
char *json_get_string_dup(const JsonDoc *d, int t, const char *key);

/* Unescapes the body of a JSON string (without quotes). Output is at most
 * len bytes plus a NUL. Returns the unescaped length or a negative errno. */
ssize_t json_unescape(const char *s, size_t len, char *out, size_t out_size);

/* ---- Patch in place ----
 * Rewrites the values of chosen keys in a JSON text and leaves every other
 * byte as it was (unknown fields, order, formatting survive). */
typedef struct JsonEdit {
    const char *const *path; /* NULL-terminated keys from the root object */
    const char *value;       /* raw JSON to store; NULL deletes the key */
} JsonEdit;

/* Applies one edit: replaces the value at path, or inserts the key at the
 * end of its object (creating missing intermediate objects), or deletes it.
 * Returns 0 with a newly allocated NUL-terminated text, -EBADMSG if text is
 * not JSON, -ENOTDIR if a path component exists but is not an object, -E2BIG
 * if the result would exceed max_len, -ENOMEM. Deleting an absent key is 0;
 * a key present more than once is deleted everywhere. Lookups and edits
 * act on the last of duplicated keys, the one Go's decoder keeps. */
int json_edit(const char *text, size_t len, const char *const *path, const char *value,
              size_t max_len, char **ret, size_t *ret_len);
int json_edit_many(const char *text, size_t len, const JsonEdit *edits, size_t n_edits,
                   size_t max_len, char **ret, size_t *ret_len);

/* ---- Bounded writer ----
 * Appends to a growing buffer that refuses to exceed max bytes; the first
 * error sticks (checked once at the end with json_writer_finish()). */
typedef struct JsonWriter {
    char *buf;
    size_t len, cap, max;
    int error;
    bool need_comma;
} JsonWriter;

#define JSON_WRITER_INIT(m) ((JsonWriter){.max = (m)})

void json_writer_raw(JsonWriter *w, const char *s, size_t n);
void json_writer_cstr(JsonWriter *w, const char *s);   /* raw, NUL-terminated */
void json_writer_string(JsonWriter *w, const char *s); /* quoted + escaped */
void json_writer_string_n(JsonWriter *w, const char *s, size_t n);
void json_writer_int(JsonWriter *w, int64_t v);
/* Structural helpers that place commas: */
void json_writer_begin_object(JsonWriter *w);
void json_writer_end_object(JsonWriter *w);
void json_writer_begin_array(JsonWriter *w);
void json_writer_end_array(JsonWriter *w);
void json_writer_key(JsonWriter *w, const char *key); /* emits `,"key":` as needed */
void json_writer_value_string(JsonWriter *w, const char *s);
void json_writer_value_int(JsonWriter *w, int64_t v);
void json_writer_value_bool(JsonWriter *w, bool b);
void json_writer_value_raw(JsonWriter *w, const char *raw);
/* Returns 0 and hands over the NUL-terminated text (ret may be NULL to just
 * check), or the first error (-E2BIG, -ENOMEM); the writer is reset. */
int json_writer_finish(JsonWriter *w, char **ret, size_t *ret_len);
void json_writer_deinit(JsonWriter *w);

/* Escapes s into buf as a quoted JSON string; returns the length written
 * (without NUL) or -ENOBUFS. */
ssize_t json_escape(const char *s, size_t n, char *buf, size_t size);
