/* SPDX-License-Identifier: MIT */
#include "kube_status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const result_names[_KUBE_RESULT_MAX] = {
    [KUBE_OK] = "ok",
    [KUBE_E_CONFLICT] = "conflict",
    [KUBE_E_ALREADY_EXISTS] = "already-exists",
    [KUBE_E_NOT_FOUND] = "not-found",
    [KUBE_E_UNAUTHORIZED] = "unauthorized",
    [KUBE_E_FORBIDDEN] = "forbidden",
    [KUBE_E_TOO_MANY_REQUESTS] = "too-many-requests",
    [KUBE_E_INVALID] = "invalid",
    [KUBE_E_BAD_REQUEST] = "bad-request",
    [KUBE_E_EXPIRED] = "expired",
    [KUBE_E_SERVER_ERROR] = "server-error",
    [KUBE_E_TIMEOUT] = "timeout",
    [KUBE_E_TRANSPORT] = "transport-error",
    [KUBE_E_PROTOCOL] = "protocol-error",
    [KUBE_E_TOO_LARGE] = "response-too-large",
};

const char *kube_result_to_string(int result)
{
    if (result < 0) return "error";
    if (result >= _KUBE_RESULT_MAX) return "unknown";
    return result_names[result];
}

void kube_status_done(KubeStatus *s)
{
    if (!s) return;
    free(s->status);
    free(s->message);
    free(s->reason);
    free(s->details_name);
    free(s->details_group);
    free(s->details_kind);
    free(s->cause_reason);
    free(s->cause_field);
    free(s->cause_message);
    *s = KUBE_STATUS_INIT;
}

int kube_status_from_json(const JsonDoc *d, int t, KubeStatus *ret)
{
    KubeStatus s = KUBE_STATUS_INIT;
    int details, cause;

    if (json_type(d, t) != JSON_OBJECT || !json_string_eq(d, json_get(d, t, "kind"), "Status"))
        return -EBADMSG;

    (void)json_int64(d, json_get(d, t, "code"), &s.code);
    s.status = json_get_string_dup(d, t, "status");
    s.message = json_get_string_dup(d, t, "message");
    s.reason = json_get_string_dup(d, t, "reason");
    details = json_get(d, t, "details");
    s.details_name = json_get_string_dup(d, details, "name");
    s.details_group = json_get_string_dup(d, details, "group");
    s.details_kind = json_get_string_dup(d, details, "kind");
    if (json_int64(d, json_get(d, details, "retryAfterSeconds"), &s.retry_after_seconds) < 0 ||
        s.retry_after_seconds < 0)
        s.retry_after_seconds = -1;
    cause = json_first(d, json_get(d, details, "causes"));
    s.cause_reason = json_get_string_dup(d, cause, "reason");
    s.cause_field = json_get_string_dup(d, cause, "field");
    s.cause_message = json_get_string_dup(d, cause, "message");

    /* A string that failed to unescape is left NULL; only memory matters. */
    *ret = s;
    return 0;
}

int kube_status_parse(const char *text, size_t len, KubeStatus *ret)
{
    JsonDoc *d = NULL;
    int r;

    r = json_parse(text, len, 0, &d);
    if (r < 0) return r == -ENOMEM ? r : -EBADMSG;
    r = kube_status_from_json(d, 0, ret);
    json_free(d);
    return r;
}

int kube_result_from_http(long code, const KubeStatus *st)
{
    const char *reason = st ? st->reason : NULL;

    if (code >= 200 && code < 300) return KUBE_OK;
    switch (code) {
    case 400:
        return KUBE_E_BAD_REQUEST;
    case 401:
        return KUBE_E_UNAUTHORIZED;
    case 403:
        return KUBE_E_FORBIDDEN;
    case 404:
        return KUBE_E_NOT_FOUND;
    case 409:
        /* A POST answered without a Status body is an AlreadyExists as far as
         * client-go is concerned; a PUT's is a Conflict. Trust the reason. */
        if (reason && strcmp(reason, "AlreadyExists") == 0) return KUBE_E_ALREADY_EXISTS;
        return KUBE_E_CONFLICT;
    case 410:
        return KUBE_E_EXPIRED;
    case 422:
        return KUBE_E_INVALID;
    case 429:
        return KUBE_E_TOO_MANY_REQUESTS;
    case 504:
        return KUBE_E_TIMEOUT; /* the server's own request timeout */
    default:
        break;
    }
    if (code >= 500 && code < 600) return KUBE_E_SERVER_ERROR;
    if (code >= 400 && code < 500) return KUBE_E_BAD_REQUEST;
    return KUBE_E_PROTOCOL; /* 1xx/3xx: we follow no redirects */
}

/* Copies the quoted word at *p ("…") into buf, advancing *p past it. */
static int take_quoted(const char **p, char *buf, size_t size)
{
    const char *s = *p, *e;
    size_t n;

    if (*s != '"') return -EBADMSG;
    s++;
    e = strchr(s, '"');
    if (!e) return -EBADMSG;
    n = (size_t)(e - s);
    if (n >= size) n = size - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    *p = e + 1;
    return 0;
}

static int take_word(const char **p, char *buf, size_t size)
{
    const char *s = *p;
    size_t n = strcspn(s, " ");
    if (n == 0 || n >= size) return -EBADMSG;
    memcpy(buf, s, n);
    buf[n] = 0;
    *p = s + n;
    return 0;
}

static int expect(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n) != 0) return -EBADMSG;
    *p += n;
    return 0;
}

int kube_status_denial(const KubeStatus *st, KubeDenial *ret)
{
    KubeDenial r = {};
    const char *p;

    if (!st || !st->message) return -EBADMSG;
    p = strstr(st->message, "User \"");
    if (!p) return -EBADMSG;
    p += 5;
    if (take_quoted(&p, r.user, sizeof(r.user)) < 0 || expect(&p, " cannot ") < 0 ||
        take_word(&p, r.verb, sizeof(r.verb)) < 0)
        return -EBADMSG;
    if (expect(&p, " path ") == 0) {
        if (take_quoted(&p, r.resource, sizeof(r.resource)) < 0) return -EBADMSG;
        r.nonresource = 1;
    } else {
        if (expect(&p, " resource ") < 0 || take_quoted(&p, r.resource, sizeof(r.resource)) < 0 ||
            expect(&p, " in API group ") < 0 || take_quoted(&p, r.group, sizeof(r.group)) < 0)
            return -EBADMSG;
        if (expect(&p, " in the namespace ") == 0) {
            if (take_quoted(&p, r.namespace_, sizeof(r.namespace_)) < 0) return -EBADMSG;
        } else if (expect(&p, " at the cluster scope") == 0)
            r.cluster_scope = 1;
        else
            return -EBADMSG;
    }
    if (st->details_name) snprintf(r.name, sizeof(r.name), "%s", st->details_name);
    *ret = r;
    return 0;
}
