/* SPDX-License-Identifier: MIT */
/* The JSON side of the protocol: reply formatters and the reply parser.
 *
 * The parser uses a private copy of jsmn, built static (JSMN_STATIC) so that
 * its symbols never clash with the daemon's own jsmn wrapper. jsmn tokenizes
 * but does not check the grammar fully (it accepts `{"a" "b"}`, `[1 2]`, raw
 * control bytes in strings, any primitive starting with t/f/n/digit), so
 * every token and every separator between tokens is checked again here. */

#include <errno.h>
#include <string.h>

#define JSMN_STATIC
#include "jsmn.h"

#include "proto.h"

/* Tokens for one reply: 4 KiB of JSON with unknown fields of later
 * versions; more is refused. */
#define PROTO_JSON_TOKENS_MAX 512
#define PROTO_JSON_DEPTH_MAX 16

/* ---------------------------------------------------------------------- */
/* UTF-8 */

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not valid. */
static size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

/* ---------------------------------------------------------------------- */
/* Formatting */

typedef struct Out {
    char *buf;
    size_t size; /* usable bytes, the NUL excluded */
    size_t n;
    bool overflow;
} Out;

static void out_mem(Out *o, const char *s, size_t n)
{
    if (o->overflow || n > o->size - o->n) {
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

static void out_cstr(Out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void out_u64(Out *o, uint64_t v)
{
    char tmp[21];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    out_mem(o, tmp + i, sizeof(tmp) - i);
}

/* A JSON string: quotes, escapes for '"', '\\' and every control byte (DEL
 * too, for terminals), U+FFFD for each byte that is not valid UTF-8. */
static void out_json_string(Out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    out_mem(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        char esc[6];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            out_mem(o, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            const char *short_esc = NULL;
            switch (c) {
            case '\b':
                short_esc = "\\b";
                break;
            case '\f':
                short_esc = "\\f";
                break;
            case '\n':
                short_esc = "\\n";
                break;
            case '\r':
                short_esc = "\\r";
                break;
            case '\t':
                short_esc = "\\t";
                break;
            }
            if (short_esc)
                out_mem(o, short_esc, 2);
            else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                out_mem(o, esc, 6);
            }
            i++;
        } else {
            size_t l = utf8_sequence_len(p + i, n - i);
            if (l == 0) {
                out_cstr(o, "\\ufffd");
                i++;
            } else {
                out_mem(o, s + i, l);
                i += l;
            }
        }
    }
    out_mem(o, "\"", 1);
}

static void out_key(Out *o, const char *key)
{
    out_mem(o, ",\"", 2);
    out_cstr(o, key);
    out_mem(o, "\":", 2);
}

static int out_field_string(Out *o, const char *key, const char *value, size_t bound)
{
    size_t n = strnlen(value, bound);
    if (n == bound) /* no NUL inside its array */
        return -EINVAL;
    out_key(o, key);
    out_json_string(o, value, n);
    return 0;
}

static void out_begin(Out *o, char *buf, size_t size, const char *type)
{
    *o = (Out){.buf = buf, .size = 0};
    if (size > PROTO_REPLY_MAX) size = PROTO_REPLY_MAX;
    if (size < 2) {
        o->overflow = true;
        return;
    }
    /* Room for the terminating NUL; the '\n' counts in PROTO_REPLY_MAX. */
    o->size = size - 1;
    out_cstr(o, "{\"proto\":");
    out_u64(o, PROTO_VERSION);
    out_cstr(o, ",\"type\":\"");
    out_cstr(o, type);
    out_cstr(o, "\"");
}

static ssize_t out_end(Out *o)
{
    out_mem(o, "}\n", 2);
    if (o->overflow) return -ENOBUFS;
    o->buf[o->n] = 0;
    return (ssize_t)o->n;
}

ssize_t proto_status_format(const ProtoStatus *s, char *buf, size_t size)
{
    const char *state = proto_state_to_string(s->state);
    Out o;
    int r = 0;

    if (!state || s->state == PROTO_STATE_UNKNOWN || s->term > PROTO_TERM_MAX ||
        s->valid_ms > PROTO_VALID_MS_MAX)
        return -EINVAL;

    out_begin(&o, buf, size, "status");
    r = r < 0 ? r : out_field_string(&o, "namespace", s->namespace_, sizeof(s->namespace_));
    r = r < 0 ? r : out_field_string(&o, "election", s->election, sizeof(s->election));
    r = r < 0 ? r : out_field_string(&o, "identity", s->identity, sizeof(s->identity));
    r = r < 0 ? r : out_field_string(&o, "hostname", s->hostname, sizeof(s->hostname));
    r = r < 0 ? r : out_field_string(&o, "leader", s->leader, sizeof(s->leader));
    if (r < 0) return r;
    out_key(&o, "is_leader");
    out_cstr(&o, s->is_leader ? "true" : "false");
    out_key(&o, "term");
    out_u64(&o, s->term);
    r = out_field_string(&o, "since", s->since, sizeof(s->since));
    if (r < 0) return r;
    out_key(&o, "valid_ms");
    out_u64(&o, s->valid_ms);
    out_key(&o, "state");
    out_json_string(&o, state, strlen(state));
    if (strnlen(s->reason, sizeof(s->reason)) == sizeof(s->reason)) return -EINVAL;
    if (s->reason[0]) (void)out_field_string(&o, "reason", s->reason, sizeof(s->reason));
    if (s->boottime_ms > 0) {
        if (s->boottime_ms > PROTO_VALID_MS_MAX) return -EINVAL;
        out_key(&o, "boottime_ms");
        out_u64(&o, s->boottime_ms);
    }
    if (strnlen(s->health, sizeof(s->health)) == sizeof(s->health)) return -EINVAL;
    if (s->health[0]) (void)out_field_string(&o, "health", s->health, sizeof(s->health));
    return out_end(&o);
}

ssize_t proto_error_format(ProtoError e, const char *message, char *buf, size_t size)
{
    const char *name = proto_error_to_string(e);
    Out o;

    if (!name || e == PROTO_ERROR_UNKNOWN) return -EINVAL;
    out_begin(&o, buf, size, "error");
    out_key(&o, "error");
    out_json_string(&o, name, strlen(name));
    if (message && message[0]) {
        out_key(&o, "message");
        out_json_string(&o, message, strnlen(message, PROTO_MESSAGE_MAX));
    }
    return out_end(&o);
}

ssize_t proto_ok_format(ProtoVerb v, const char *message, char *buf, size_t size)
{
    const char *name = proto_verb_to_string(v);
    Out o;

    if (!name) return -EINVAL;
    out_begin(&o, buf, size, "ok");
    out_key(&o, "verb");
    out_json_string(&o, name, strlen(name));
    if (message && message[0]) {
        out_key(&o, "message");
        out_json_string(&o, message, strnlen(message, PROTO_MESSAGE_MAX));
    }
    return out_end(&o);
}

/* ---------------------------------------------------------------------- */
/* Parsing */

typedef struct Json {
    const char *js;
    size_t len;
    jsmntok_t tok[PROTO_JSON_TOKENS_MAX];
    int ntok;
} Json;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const Json *j, size_t pos)
{
    while (pos < j->len && is_ws(j->js[pos]))
        pos++;
    return pos;
}

/* Where a token's text starts and ends (strings include their quotes). */
static size_t tok_begin(const jsmntok_t *t)
{
    return (size_t)t->start - (t->type == JSMN_STRING ? 1 : 0);
}

static size_t tok_end(const jsmntok_t *t)
{
    return (size_t)t->end + (t->type == JSMN_STRING ? 1 : 0);
}

static bool json_number_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return false;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

static int hex4(const char *s, unsigned *ret)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -EBADMSG;
    }
    *ret = v;
    return 0;
}

/* Decodes the string token t into dst[size] (NUL-terminated) when dst is not
 * NULL; checks it either way. Refuses raw control bytes, bad escapes, lone
 * surrogates, \u0000 (it would cut a C string), invalid UTF-8 and strings
 * that do not fit. */
static int json_string_decode(const Json *j, const jsmntok_t *t, char *dst, size_t size)
{
    const char *s = j->js + t->start;
    size_t n = (size_t)(t->end - t->start), o = 0;

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char enc[4];
        size_t l;

        if (c < 0x20) return -EBADMSG;
        if (c != '\\') {
            l = utf8_sequence_len((const unsigned char *)s + i, n - i);
            if (l == 0) return -EBADMSG;
            memcpy(enc, s + i, l);
            i += l;
        } else {
            if (i + 1 >= n) return -EBADMSG;
            char e = s[i + 1];
            i += 2;
            l = 1;
            switch (e) {
            case '"':
                enc[0] = '"';
                break;
            case '\\':
                enc[0] = '\\';
                break;
            case '/':
                enc[0] = '/';
                break;
            case 'b':
                enc[0] = '\b';
                break;
            case 'f':
                enc[0] = '\f';
                break;
            case 'n':
                enc[0] = '\n';
                break;
            case 'r':
                enc[0] = '\r';
                break;
            case 't':
                enc[0] = '\t';
                break;
            case 'u': {
                unsigned cp, lo;
                if (n - i < 4 || hex4(s + i, &cp) < 0) return -EBADMSG;
                i += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff) return -EBADMSG;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, &lo) < 0 ||
                        lo < 0xdc00 || lo > 0xdfff)
                        return -EBADMSG;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp == 0) return -EBADMSG;
                if (cp < 0x80)
                    enc[0] = (char)cp;
                else if (cp < 0x800) {
                    enc[0] = (char)(0xc0 | (cp >> 6));
                    enc[1] = (char)(0x80 | (cp & 0x3f));
                    l = 2;
                } else if (cp < 0x10000) {
                    enc[0] = (char)(0xe0 | (cp >> 12));
                    enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    enc[2] = (char)(0x80 | (cp & 0x3f));
                    l = 3;
                } else {
                    enc[0] = (char)(0xf0 | (cp >> 18));
                    enc[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                    enc[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    enc[3] = (char)(0x80 | (cp & 0x3f));
                    l = 4;
                }
                break;
            }
            default:
                return -EBADMSG;
            }
        }
        if (dst) {
            if (l >= size - o) return -EBADMSG;
            memcpy(dst + o, enc, l);
        }
        o += l;
    }
    if (dst) dst[o] = 0;
    return 0;
}

/* Checks the value at token *i and everything below it, including the
 * separators between tokens, and advances *i past it. */
static int json_check_value(const Json *j, int *i, int depth)
{
    const jsmntok_t *t;
    int r;

    if (*i >= j->ntok || depth > PROTO_JSON_DEPTH_MAX) return -EBADMSG;
    t = &j->tok[*i];
    if (t->start < 0 || t->end < t->start) return -EBADMSG;

    switch (t->type) {
    case JSMN_STRING:
        (*i)++;
        return json_string_decode(j, t, NULL, 0);
    case JSMN_PRIMITIVE: {
        const char *s = j->js + t->start;
        size_t n = (size_t)(t->end - t->start);
        (*i)++;
        if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
            (n == 4 && memcmp(s, "null", 4) == 0) || json_number_valid(s, n))
            return 0;
        return -EBADMSG;
    }
    case JSMN_OBJECT:
    case JSMN_ARRAY: {
        bool object = t->type == JSMN_OBJECT;
        int self = *i;
        size_t pos = (size_t)t->start + 1;

        (*i)++;
        for (int k = 0; k < t->size; k++) {
            pos = skip_ws(j, pos);
            if (k > 0) {
                if (pos >= j->len || j->js[pos] != ',') return -EBADMSG;
                pos = skip_ws(j, pos + 1);
            }
            if (*i >= j->ntok || j->tok[*i].parent != self) return -EBADMSG;
            if (object) {
                const jsmntok_t *key = &j->tok[*i];
                if (key->type != JSMN_STRING || key->size != 1 || tok_begin(key) != pos)
                    return -EBADMSG;
                r = json_string_decode(j, key, NULL, 0);
                if (r < 0) return r;
                pos = skip_ws(j, tok_end(key));
                if (pos >= j->len || j->js[pos] != ':') return -EBADMSG;
                pos = skip_ws(j, pos + 1);
                (*i)++;
                if (*i >= j->ntok || j->tok[*i].parent != *i - 1) return -EBADMSG;
            }
            const jsmntok_t *v = &j->tok[*i];
            if (v->start < 0 || tok_begin(v) != pos) return -EBADMSG;
            if (v->size != 0 && v->type != JSMN_OBJECT && v->type != JSMN_ARRAY) return -EBADMSG;
            r = json_check_value(j, i, depth + 1);
            if (r < 0) return r;
            pos = tok_end(v);
        }
        pos = skip_ws(j, pos);
        if ((size_t)t->end != pos + 1 || j->js[pos] != (object ? '}' : ']')) return -EBADMSG;
        return 0;
    }
    default:
        return -EBADMSG;
    }
}

/* Index of the token after the value at i, counting children recursively. */
static int json_skip(const Json *j, int i)
{
    const jsmntok_t *t = &j->tok[i];
    int next = i + 1;
    if (t->type == JSMN_OBJECT)
        for (int k = 0; k < t->size; k++)
            next = json_skip(j, next + 1); /* the key is one string token */
    else if (t->type == JSMN_ARRAY)
        for (int k = 0; k < t->size; k++)
            next = json_skip(j, next);
    return next;
}

static int json_get_string(const Json *j, int i, char *dst, size_t size)
{
    if (j->tok[i].type != JSMN_STRING) return -EBADMSG;
    return json_string_decode(j, &j->tok[i], dst, size);
}

static int json_get_u64(const Json *j, int i, uint64_t max, uint64_t *ret)
{
    const jsmntok_t *t = &j->tok[i];
    const char *s = j->js + t->start;
    size_t n = (size_t)(t->end - t->start);
    uint64_t v = 0;

    if (t->type != JSMN_PRIMITIVE || n == 0 || (n > 1 && s[0] == '0')) return -EBADMSG;
    for (size_t k = 0; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') return -EBADMSG;
        if (v > (max - (uint64_t)(s[k] - '0')) / 10) return -EBADMSG;
        v = v * 10 + (uint64_t)(s[k] - '0');
    }
    *ret = v;
    return 0;
}

static int json_get_bool(const Json *j, int i, bool *ret)
{
    const jsmntok_t *t = &j->tok[i];
    size_t n = (size_t)(t->end - t->start);
    if (t->type != JSMN_PRIMITIVE) return -EBADMSG;
    if (n == 4 && memcmp(j->js + t->start, "true", 4) == 0)
        *ret = true;
    else if (n == 5 && memcmp(j->js + t->start, "false", 5) == 0)
        *ret = false;
    else
        return -EBADMSG;
    return 0;
}

enum {
    F_PROTO,
    F_TYPE,
    F_NAMESPACE,
    F_ELECTION,
    F_IDENTITY,
    F_HOSTNAME,
    F_LEADER,
    F_IS_LEADER,
    F_TERM,
    F_SINCE,
    F_VALID_MS,
    F_STATE,
    F_REASON,
    F_ERROR,
    F_MESSAGE,
    F_VERB,
    F_BOOTTIME_MS,
    F_HEALTH,
    _F_MAX,
};

static const char *const field_names[_F_MAX] = {
    [F_PROTO] = "proto",
    [F_TYPE] = "type",
    [F_NAMESPACE] = "namespace",
    [F_ELECTION] = "election",
    [F_IDENTITY] = "identity",
    [F_HOSTNAME] = "hostname",
    [F_LEADER] = "leader",
    [F_IS_LEADER] = "is_leader",
    [F_TERM] = "term",
    [F_SINCE] = "since",
    [F_VALID_MS] = "valid_ms",
    [F_STATE] = "state",
    [F_REASON] = "reason",
    [F_ERROR] = "error",
    [F_MESSAGE] = "message",
    [F_VERB] = "verb",
    [F_BOOTTIME_MS] = "boottime_ms",
    [F_HEALTH] = "health",
};

#define FIELD_BIT(f) (1u << (f))
#define STATUS_REQUIRED                                                                            \
    (FIELD_BIT(F_NAMESPACE) | FIELD_BIT(F_ELECTION) | FIELD_BIT(F_IDENTITY) |                      \
     FIELD_BIT(F_HOSTNAME) | FIELD_BIT(F_LEADER) | FIELD_BIT(F_IS_LEADER) | FIELD_BIT(F_TERM) |    \
     FIELD_BIT(F_SINCE) | FIELD_BIT(F_VALID_MS) | FIELD_BIT(F_STATE))

int proto_reply_parse(const char *line, size_t len, ProtoReply *ret)
{
    /* About 10 KiB: on the stack, as the probe has no heap. */
    Json j;
    jsmn_parser parser;
    int value_of[_F_MAX];
    unsigned seen = 0;
    int r, i;

    if (len > PROTO_REPLY_MAX) return -EMSGSIZE;
    if (len > 0 && line[len - 1] == '\n') len--;
    /* One line: no other newline, and no NUL (jsmn would stop there). */
    if (memchr(line, '\n', len) || memchr(line, 0, len)) return -EBADMSG;

    j.js = line;
    j.len = len;
    jsmn_init(&parser);
    r = jsmn_parse(&parser, line, len, j.tok, PROTO_JSON_TOKENS_MAX);
    if (r < 1) return -EBADMSG;
    j.ntok = r;

    if (j.tok[0].type != JSMN_OBJECT || (size_t)j.tok[0].start != skip_ws(&j, 0) ||
        skip_ws(&j, (size_t)j.tok[0].end) != len)
        return -EBADMSG;
    i = 0;
    r = json_check_value(&j, &i, 0);
    if (r < 0) return r;
    if (i != j.ntok) return -EBADMSG;

    /* Collect the known top-level fields; a known field twice is refused,
     * so that a hostile line cannot say is_leader twice. */
    i = 1;
    for (int k = 0; k < j.tok[0].size; k++) {
        char key[16];
        int f;

        if (json_string_decode(&j, &j.tok[i], key, sizeof(key)) < 0)
            f = _F_MAX; /* too long for any known key */
        else
            for (f = 0; f < _F_MAX; f++)
                if (strcmp(key, field_names[f]) == 0) break;
        if (f < _F_MAX) {
            if (seen & FIELD_BIT(f)) return -EBADMSG;
            seen |= FIELD_BIT(f);
            value_of[f] = i + 1;
        }
        i = json_skip(&j, i + 1);
    }

    uint64_t version;
    if (!(seen & FIELD_BIT(F_PROTO)) ||
        json_get_u64(&j, value_of[F_PROTO], UINT64_MAX, &version) < 0)
        return -EBADMSG;
    if (version != PROTO_VERSION) return -EPROTONOSUPPORT;

    char type[8] = {0}; /* zeroed: gcc compares it to constants in whole words */
    if (!(seen & FIELD_BIT(F_TYPE)) ||
        json_get_string(&j, value_of[F_TYPE], type, sizeof(type)) < 0)
        return -EBADMSG;

    /* Decode into a local copy, so that *ret is untouched on failure. */
    ProtoReply rep = {0};
    if (strcmp(type, "status") == 0) {
        ProtoStatus *s = &rep.status;
        char state[24] = {0};

        rep.type = PROTO_REPLY_STATUS;
        if ((seen & STATUS_REQUIRED) != STATUS_REQUIRED) return -EBADMSG;
        if (json_get_string(&j, value_of[F_NAMESPACE], s->namespace_, sizeof(s->namespace_)) < 0 ||
            json_get_string(&j, value_of[F_ELECTION], s->election, sizeof(s->election)) < 0 ||
            json_get_string(&j, value_of[F_IDENTITY], s->identity, sizeof(s->identity)) < 0 ||
            json_get_string(&j, value_of[F_HOSTNAME], s->hostname, sizeof(s->hostname)) < 0 ||
            json_get_string(&j, value_of[F_LEADER], s->leader, sizeof(s->leader)) < 0 ||
            json_get_bool(&j, value_of[F_IS_LEADER], &s->is_leader) < 0 ||
            json_get_u64(&j, value_of[F_TERM], PROTO_TERM_MAX, &s->term) < 0 ||
            json_get_string(&j, value_of[F_SINCE], s->since, sizeof(s->since)) < 0 ||
            json_get_u64(&j, value_of[F_VALID_MS], PROTO_VALID_MS_MAX, &s->valid_ms) < 0)
            return -EBADMSG;
        /* A state of a later version is kept as UNKNOWN; a string too long
         * for any state is still one. */
        if (j.tok[value_of[F_STATE]].type != JSMN_STRING) return -EBADMSG;
        if (json_get_string(&j, value_of[F_STATE], state, sizeof(state)) < 0)
            s->state = PROTO_STATE_UNKNOWN;
        else
            s->state = proto_state_from_string(state);
        if ((seen & FIELD_BIT(F_REASON)) &&
            json_get_string(&j, value_of[F_REASON], s->reason, sizeof(s->reason)) < 0)
            return -EBADMSG;
        if ((seen & FIELD_BIT(F_BOOTTIME_MS)) &&
            json_get_u64(&j, value_of[F_BOOTTIME_MS], PROTO_VALID_MS_MAX, &s->boottime_ms) < 0)
            return -EBADMSG;
        /* Informative only (never decides leadership): a value this version cannot hold is
         * dropped, not an error. */
        if ((seen & FIELD_BIT(F_HEALTH)) &&
            json_get_string(&j, value_of[F_HEALTH], s->health, sizeof(s->health)) < 0)
            s->health[0] = 0;
    } else if (strcmp(type, "error") == 0) {
        rep.type = PROTO_REPLY_ERROR;
        if (!(seen & FIELD_BIT(F_ERROR)) ||
            json_get_string(&j, value_of[F_ERROR], rep.error_name, sizeof(rep.error_name)) < 0)
            return -EBADMSG;
        rep.error = proto_error_from_string(rep.error_name);
    } else if (strcmp(type, "ok") == 0) {
        char verb[16];
        rep.type = PROTO_REPLY_OK;
        if (seen & FIELD_BIT(F_VERB)) {
            if (j.tok[value_of[F_VERB]].type != JSMN_STRING) return -EBADMSG;
            if (json_get_string(&j, value_of[F_VERB], verb, sizeof(verb)) == 0)
                for (unsigned v = PROTO_VERB_STATUS; v <= PROTO_VERB_RESIGN; v++)
                    if (strcmp(verb, proto_verb_to_string((ProtoVerb)v)) == 0)
                        rep.verb = (ProtoVerb)v;
        }
    } else
        return -EBADMSG;

    if (rep.type != PROTO_REPLY_STATUS && (seen & FIELD_BIT(F_MESSAGE)) &&
        json_get_string(&j, value_of[F_MESSAGE], rep.message, sizeof(rep.message)) < 0)
        return -EBADMSG;

    *ret = rep;
    return 0;
}
