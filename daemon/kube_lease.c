/* SPDX-License-Identifier: MIT */
#include "kube_lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void kube_lease_done(KubeLease *l)
{
    if (!l) return;
    free(l->name);
    free(l->namespace_);
    free(l->uid);
    free(l->resource_version);
    free(l->holder_identity);
    free(l->strategy);
    free(l->preferred_holder);
    free(l->raw);
    *l = KUBE_LEASE_INIT;
}

static int dup_field(const char *s, char **ret)
{
    if (!s) {
        *ret = NULL;
        return 0;
    }
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int kube_lease_copy(const KubeLease *src, KubeLease *ret)
{
    KubeLease l = *src;

    l.name = l.namespace_ = l.uid = l.resource_version = l.holder_identity = NULL;
    l.strategy = l.preferred_holder = l.raw = NULL;
    if (dup_field(src->name, &l.name) < 0 || dup_field(src->namespace_, &l.namespace_) < 0 ||
        dup_field(src->uid, &l.uid) < 0 ||
        dup_field(src->resource_version, &l.resource_version) < 0 ||
        dup_field(src->holder_identity, &l.holder_identity) < 0 ||
        dup_field(src->strategy, &l.strategy) < 0 ||
        dup_field(src->preferred_holder, &l.preferred_holder) < 0)
        goto oom;
    if (src->raw) {
        l.raw = malloc(src->raw_len + 1);
        if (!l.raw) goto oom;
        memcpy(l.raw, src->raw, src->raw_len);
        l.raw[src->raw_len] = 0;
    }
    *ret = l;
    return 0;
oom:
    kube_lease_done(&l);
    return -ENOMEM;
}

/* An optional string member: absent or null is NULL; anything but a string
 * is a malformed object. */
static int opt_string(const JsonDoc *d, int obj, const char *key, char **ret)
{
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);

    *ret = NULL;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (y != JSON_STRING) return -EBADMSG;
    int r = json_string(d, t, ret);
    return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

static int opt_int(const JsonDoc *d, int obj, const char *key, int64_t min, int64_t max,
                   int64_t *ret)
{
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);
    int64_t v;

    *ret = KUBE_INT_UNSET;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (json_int64(d, t, &v) < 0 || v < min || v > max) return -EBADMSG;
    *ret = v;
    return 0;
}

static int opt_time(const JsonDoc *d, int obj, const char *key, int64_t *ret)
{
    char buf[64];
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);

    *ret = KUBE_TIME_UNSET;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (json_string_buf(d, t, buf, sizeof(buf)) < 0) return -EBADMSG;
    if (kube_time_parse(buf, strlen(buf), ret) < 0) return -EBADMSG;
    return 0;
}

int kube_lease_from_json(const JsonDoc *d, int t, KubeLease *ret)
{
    KubeLease l = KUBE_LEASE_INIT;
    int meta, spec, kind, r;
    size_t a, b;

    if (json_type(d, t) != JSON_OBJECT) return -EBADMSG;
    /* The server always names the kind; anything else is not ours to parse. */
    kind = json_get(d, t, "kind");
    if (!json_string_eq(d, kind, "Lease")) return -EBADMSG;
    meta = json_get(d, t, "metadata");
    spec = json_get(d, t, "spec");
    if ((meta >= 0 && json_type(d, meta) != JSON_OBJECT) ||
        (spec >= 0 && json_type(d, spec) != JSON_OBJECT && json_type(d, spec) != JSON_NULL))
        return -EBADMSG;

    if ((r = opt_string(d, meta, "name", &l.name)) < 0 ||
        (r = opt_string(d, meta, "namespace", &l.namespace_)) < 0 ||
        (r = opt_string(d, meta, "uid", &l.uid)) < 0 ||
        (r = opt_string(d, meta, "resourceVersion", &l.resource_version)) < 0 ||
        (r = opt_string(d, spec, "holderIdentity", &l.holder_identity)) < 0 ||
        (r = opt_int(d, spec, "leaseDurationSeconds", INT32_MIN, INT32_MAX,
                     &l.lease_duration_seconds)) < 0 ||
        (r = opt_time(d, spec, "acquireTime", &l.acquire_time_usec)) < 0 ||
        (r = opt_time(d, spec, "renewTime", &l.renew_time_usec)) < 0 ||
        (r = opt_int(d, spec, "leaseTransitions", INT32_MIN, INT32_MAX, &l.lease_transitions)) <
            0 ||
        (r = opt_string(d, spec, "strategy", &l.strategy)) < 0 ||
        (r = opt_string(d, spec, "preferredHolder", &l.preferred_holder)) < 0)
        goto fail;

    a = json_start(d, t);
    b = json_end(d, t);
    l.raw = malloc(b - a + 1);
    if (!l.raw) {
        r = -ENOMEM;
        goto fail;
    }
    memcpy(l.raw, json_text(d) + a, b - a);
    l.raw[b - a] = 0;
    l.raw_len = b - a;
    *ret = l;
    return 0;
fail:
    kube_lease_done(&l);
    return r;
}

int kube_lease_parse(const char *text, size_t len, KubeLease *ret)
{
    JsonDoc *d = NULL;
    int r = json_parse(text, len, 0, &d);
    if (r < 0) return r == -ENOMEM ? r : -EBADMSG;
    r = kube_lease_from_json(d, 0, ret);
    json_free(d);
    return r;
}

/* Raw JSON values of the managed fields; NULL where the field is unset. */
typedef struct Values {
    char *holder, *duration, *acquire, *renew, *transitions, *rv;
} Values;

static void values_done(Values *v)
{
    free(v->holder);
    free(v->duration);
    free(v->acquire);
    free(v->renew);
    free(v->transitions);
    free(v->rv);
}

static int quoted(const char *s, char **ret)
{
    JsonWriter w = JSON_WRITER_INIT(64 * 1024);
    json_writer_string(&w, s);
    return json_writer_finish(&w, ret, NULL);
}

static int values_make(const KubeLease *l, Values *v)
{
    char buf[KUBE_TIME_BUF + 2];

    *v = (Values){};
    if (l->holder_identity && quoted(l->holder_identity, &v->holder) < 0) goto oom;
    if (l->resource_version && quoted(l->resource_version, &v->rv) < 0) goto oom;
    if (l->lease_duration_seconds != KUBE_INT_UNSET &&
        asprintf(&v->duration, "%lld", (long long)l->lease_duration_seconds) < 0)
        goto oom;
    if (l->lease_transitions != KUBE_INT_UNSET &&
        asprintf(&v->transitions, "%lld", (long long)l->lease_transitions) < 0)
        goto oom;
    if (l->acquire_time_usec != KUBE_TIME_UNSET) {
        buf[0] = '"';
        if (kube_microtime_format(l->acquire_time_usec, buf + 1) < 0) goto inval;
        strcat(buf, "\"");
        if (!(v->acquire = strdup(buf))) goto oom;
    }
    if (l->renew_time_usec != KUBE_TIME_UNSET) {
        buf[0] = '"';
        if (kube_microtime_format(l->renew_time_usec, buf + 1) < 0) goto inval;
        strcat(buf, "\"");
        if (!(v->renew = strdup(buf))) goto oom;
    }
    return 0;
oom:
    values_done(v);
    return -ENOMEM;
inval:
    values_done(v);
    return -EINVAL;
}

static const char *const P_HOLDER[] = {"spec", "holderIdentity", NULL};
static const char *const P_DURATION[] = {"spec", "leaseDurationSeconds", NULL};
static const char *const P_ACQUIRE[] = {"spec", "acquireTime", NULL};
static const char *const P_RENEW[] = {"spec", "renewTime", NULL};
static const char *const P_TRANSITIONS[] = {"spec", "leaseTransitions", NULL};
static const char *const P_RV[] = {"metadata", "resourceVersion", NULL};
static const char *const P_UID[] = {"metadata", "uid", NULL};
static const char *const P_CREATED[] = {"metadata", "creationTimestamp", NULL};
static const char *const P_MANAGED[] = {"metadata", "managedFields", NULL};

int kube_lease_to_json(const KubeLease *l, bool for_create, size_t max_len, char **ret,
                       size_t *ret_len)
{
    Values v;
    int r;

    if (!l || !ret) return -EINVAL;
    r = values_make(l, &v);
    if (r < 0) return r;

    if (l->raw) {
        JsonEdit edits[] = {
            {P_HOLDER, v.holder},
            {P_DURATION, v.duration},
            {P_ACQUIRE, v.acquire},
            {P_RENEW, v.renew},
            {P_TRANSITIONS, v.transitions},
            {P_RV, for_create ? NULL : v.rv},
            {P_UID, NULL},
            {P_CREATED, NULL},
            {P_MANAGED, NULL},
        };
        /* An update keeps uid, creationTimestamp and managedFields as they
         * were; a create drops what the server assigns. */
        size_t n = for_create ? sizeof(edits) / sizeof(edits[0]) : 6;
        r = json_edit_many(l->raw, l->raw_len, edits, n, max_len, ret, ret_len);
        values_done(&v);
        return r;
    }

    if (!l->name) {
        values_done(&v);
        return -EINVAL;
    }
    JsonWriter w = JSON_WRITER_INIT(max_len);
    json_writer_begin_object(&w);
    json_writer_key(&w, "apiVersion");
    json_writer_value_string(&w, "coordination.k8s.io/v1");
    json_writer_key(&w, "kind");
    json_writer_value_string(&w, "Lease");
    json_writer_key(&w, "metadata");
    json_writer_begin_object(&w);
    json_writer_key(&w, "name");
    json_writer_value_string(&w, l->name);
    if (l->namespace_) {
        json_writer_key(&w, "namespace");
        json_writer_value_string(&w, l->namespace_);
    }
    if (!for_create && v.rv) {
        json_writer_key(&w, "resourceVersion");
        json_writer_value_raw(&w, v.rv);
    }
    json_writer_end_object(&w);
    json_writer_key(&w, "spec");
    json_writer_begin_object(&w);
    const struct {
        const char *key, *val;
    } f[] = {
        {"holderIdentity", v.holder},        {"leaseDurationSeconds", v.duration},
        {"acquireTime", v.acquire},          {"renewTime", v.renew},
        {"leaseTransitions", v.transitions},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].val) {
            json_writer_key(&w, f[i].key);
            json_writer_value_raw(&w, f[i].val);
        }
    json_writer_end_object(&w);
    json_writer_end_object(&w);
    values_done(&v);
    return json_writer_finish(&w, ret, ret_len);
}
