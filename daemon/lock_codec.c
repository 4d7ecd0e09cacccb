/* SPDX-License-Identifier: MIT */
/* The lock's codecs (see lock_codec.h). */
#include "lock_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kube_time.h"
#include "util.h"

#define RECORD_MAX 4096

/* ---- names ---- */

static const char *const lock_type_names[_LOCK_TYPE_MAX] = {
    [LOCK_LEASES] = "leases",
    [LOCK_ENDPOINTS] = "endpoints",
    [LOCK_ENDPOINTS_LEASES] = "endpointsleases",
};

const char *lock_type_to_string(LockType t)
{
    return (unsigned)t < _LOCK_TYPE_MAX ? lock_type_names[t] : NULL;
}

int lock_type_from_string(const char *s, LockType *ret)
{
    if (!s) return -EINVAL;
    for (unsigned i = 0; i < _LOCK_TYPE_MAX; i++)
        if (strcmp(s, lock_type_names[i]) == 0) {
            *ret = (LockType)i;
            return 0;
        }
    return -EINVAL;
}

uint64_t lock_time_precision_usec(LockType t)
{
    return t == LOCK_LEASES ? 1 : USEC_PER_SEC;
}

uint64_t lock_revision_of(const char *rv)
{
    char *end;
    unsigned long long v;

    if (!rv || !*rv) return 0;
    errno = 0;
    v = strtoull(rv, &end, 10);
    return errno || *end ? 0 : (uint64_t)v;
}

/* ---- the annotation record ---- */

static int rec_time(const JsonDoc *d, int obj, const char *key, int64_t *ret)
{
    char buf[64];
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);

    *ret = 0;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (json_string_buf(d, t, buf, sizeof buf) < 0) return -EBADMSG;
    /* Go's zero time, as an old writer may have stored it: absent. */
    if (strncmp(buf, "0001-01-01T00:00:00", 19) == 0) return 0;
    return kube_time_parse(buf, strlen(buf), ret) < 0 ? -EBADMSG : 0;
}

static int rec_int(const JsonDoc *d, int obj, const char *key, int32_t *ret)
{
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);
    int64_t v;

    *ret = 0;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (json_int64(d, t, &v) < 0 || v < INT32_MIN || v > INT32_MAX) return -EBADMSG;
    *ret = (int32_t)v;
    return 0;
}

int lock_record_parse(const char *text, size_t len, ElectionRecord *ret)
{
    _cleanup_(json_freep) JsonDoc *d = NULL;
    ElectionRecord r = {0};
    int t, k;

    k = json_parse(text, len, 256, &d);
    if (k < 0) return k == -ENOMEM ? k : -EBADMSG;
    if (json_type(d, 0) != JSON_OBJECT) return -EBADMSG;
    t = json_get(d, 0, "holderIdentity");
    if (json_type(d, t) == JSON_STRING) {
        k = json_string_buf(d, t, r.holder, sizeof r.holder);
        if (k < 0) return -EBADMSG; /* longer than any identity, or a bad escape */
    } else if (json_type(d, t) != JSON_NONE && json_type(d, t) != JSON_NULL) {
        return -EBADMSG;
    }
    if (rec_int(d, 0, "leaseDurationSeconds", &r.lease_duration_seconds) < 0 ||
        rec_time(d, 0, "acquireTime", &r.acquire_time_usec) < 0 ||
        rec_time(d, 0, "renewTime", &r.renew_time_usec) < 0 ||
        rec_int(d, 0, "leaderTransitions", &r.lease_transitions) < 0)
        return -EBADMSG;
    if (r.lease_duration_seconds < 0) r.lease_duration_seconds = 0;
    if (r.lease_transitions < 0) r.lease_transitions = 0;
    *ret = r;
    return 0;
}

static void writer_time(JsonWriter *w, int64_t usec, int *err)
{
    char buf[KUBE_TIME_BUF];

    if (usec == 0) {
        json_writer_value_raw(w, "null"); /* metav1.Time's zero value */
        return;
    }
    if (kube_time_format(usec, buf) < 0) {
        *err = -ERANGE;
        return;
    }
    json_writer_value_string(w, buf);
}

int lock_record_format(const ElectionRecord *r, char **ret, size_t *ret_len)
{
    JsonWriter w = JSON_WRITER_INIT(RECORD_MAX);
    int err = 0, k;

    /* Go's json.Marshal of LeaderElectionRecord: struct order, no omitempty. */
    json_writer_begin_object(&w);
    json_writer_key(&w, "holderIdentity");
    json_writer_value_string(&w, r->holder);
    json_writer_key(&w, "leaseDurationSeconds");
    json_writer_value_int(&w, r->lease_duration_seconds);
    json_writer_key(&w, "acquireTime");
    writer_time(&w, r->acquire_time_usec, &err);
    json_writer_key(&w, "renewTime");
    writer_time(&w, r->renew_time_usec, &err);
    json_writer_key(&w, "leaderTransitions");
    json_writer_value_int(&w, r->lease_transitions);
    json_writer_end_object(&w);
    if (err < 0) {
        json_writer_deinit(&w);
        return err;
    }
    k = json_writer_finish(&w, ret, ret_len);
    return k;
}

/* ---- Endpoints ---- */

void lock_endpoints_done(LockEndpoints *e)
{
    if (!e) return;
    free(e->name);
    free(e->namespace_);
    free(e->uid);
    free(e->resource_version);
    free(e->raw);
    *e = (LockEndpoints){0};
}

static int opt_string(const JsonDoc *d, int obj, const char *key, char **ret)
{
    int t = json_get(d, obj, key);
    JsonType y = json_type(d, t);
    int k;

    *ret = NULL;
    if (y == JSON_NONE || y == JSON_NULL) return 0;
    if (y != JSON_STRING) return -EBADMSG;
    k = json_string(d, t, ret);
    return k == -ENOMEM ? k : k < 0 ? -EBADMSG : 0;
}

int lock_endpoints_parse(const char *text, size_t len, LockEndpoints *ret)
{
    _cleanup_(json_freep) JsonDoc *d = NULL;
    _cleanup_free_ char *value = NULL;
    LockEndpoints e = {0};
    int meta, ann, k;

    k = json_parse(text, len, 0, &d);
    if (k < 0) return k == -ENOMEM ? k : -EBADMSG;
    if (json_type(d, 0) != JSON_OBJECT || !json_string_eq(d, json_get(d, 0, "kind"), "Endpoints"))
        return -EBADMSG;
    meta = json_get(d, 0, "metadata");
    if (meta >= 0 && json_type(d, meta) != JSON_OBJECT) return -EBADMSG;
    ann = json_get(d, meta, "annotations");
    if (ann >= 0 && json_type(d, ann) != JSON_OBJECT && json_type(d, ann) != JSON_NULL)
        return -EBADMSG;
    if ((k = opt_string(d, meta, "name", &e.name)) < 0 ||
        (k = opt_string(d, meta, "namespace", &e.namespace_)) < 0 ||
        (k = opt_string(d, meta, "uid", &e.uid)) < 0 ||
        (k = opt_string(d, meta, "resourceVersion", &e.resource_version)) < 0 ||
        (k = opt_string(d, ann, LOCK_ANNOTATION, &value)) < 0)
        goto fail;
    if (value) {
        k = lock_record_parse(value, strlen(value), &e.record);
        if (k < 0) goto fail;
        e.has_record = true;
    }
    e.record.revision = lock_revision_of(e.resource_version);
    e.raw = malloc(len + 1);
    if (!e.raw) {
        k = -ENOMEM;
        goto fail;
    }
    memcpy(e.raw, text, len);
    e.raw[len] = 0;
    e.raw_len = len;
    *ret = e;
    return 0;
fail:
    lock_endpoints_done(&e);
    return k;
}

static int quoted(const char *s, char **ret)
{
    JsonWriter w = JSON_WRITER_INIT(2 * RECORD_MAX);
    json_writer_string(&w, s);
    return json_writer_finish(&w, ret, NULL);
}

static const char *const P_ANNOTATION[] = {"metadata", "annotations", LOCK_ANNOTATION, NULL};
static const char *const P_RV[] = {"metadata", "resourceVersion", NULL};

int lock_endpoints_update_body(const LockEndpoints *e, const ElectionRecord *r, size_t max_len,
                               char **ret, size_t *ret_len)
{
    _cleanup_free_ char *value = NULL, *qvalue = NULL, *qrv = NULL;
    int k;

    if (!e || !e->raw || !e->resource_version) return -EINVAL;
    k = lock_record_format(r, &value, NULL);
    if (k < 0) return k;
    if ((k = quoted(value, &qvalue)) < 0 || (k = quoted(e->resource_version, &qrv)) < 0) return k;
    {
        /* "annotations": null would stop the edit (not an object): drop it first. */
        _cleanup_(json_freep) JsonDoc *d = NULL;
        const JsonEdit edits[] = {
            {P_ANNOTATION, qvalue},
            {P_RV, qrv},
        };
        if (json_parse(e->raw, e->raw_len, 0, &d) == 0 &&
            json_type(d, json_get_path(d, 0, "metadata", "annotations", NULL)) == JSON_NULL) {
            static const char *const P_ANNS[] = {"metadata", "annotations", NULL};
            _cleanup_free_ char *tmp = NULL;
            size_t tmp_len;
            k = json_edit(e->raw, e->raw_len, P_ANNS, NULL, max_len, &tmp, &tmp_len);
            if (k < 0) return k;
            return json_edit_many(tmp, tmp_len, edits, ELEMENTSOF(edits), max_len, ret, ret_len);
        }
        return json_edit_many(e->raw, e->raw_len, edits, ELEMENTSOF(edits), max_len, ret, ret_len);
    }
}

int lock_endpoints_create_body(const char *ns, const char *name, const ElectionRecord *r,
                               size_t max_len, char **ret, size_t *ret_len)
{
    _cleanup_free_ char *value = NULL;
    JsonWriter w = JSON_WRITER_INIT(max_len);
    int k;

    if (!ns || !name) return -EINVAL;
    k = lock_record_format(r, &value, NULL);
    if (k < 0) return k;
    json_writer_begin_object(&w);
    json_writer_key(&w, "kind");
    json_writer_value_string(&w, "Endpoints");
    json_writer_key(&w, "apiVersion");
    json_writer_value_string(&w, "v1");
    json_writer_key(&w, "metadata");
    json_writer_begin_object(&w);
    json_writer_key(&w, "name");
    json_writer_value_string(&w, name);
    json_writer_key(&w, "namespace");
    json_writer_value_string(&w, ns);
    json_writer_key(&w, "annotations");
    json_writer_begin_object(&w);
    json_writer_key(&w, LOCK_ANNOTATION);
    json_writer_value_string(&w, value);
    json_writer_end_object(&w);
    json_writer_end_object(&w);
    json_writer_end_object(&w);
    return json_writer_finish(&w, ret, ret_len);
}

/* ---- MultiLock ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t record_digest(const ElectionRecord *r)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    h = fnv(h, r->holder, strlen(r->holder) + 1);
    h = fnv(h, &r->lease_duration_seconds, sizeof r->lease_duration_seconds);
    h = fnv(h, &r->acquire_time_usec, sizeof r->acquire_time_usec);
    h = fnv(h, &r->renew_time_usec, sizeof r->renew_time_usec);
    h = fnv(h, &r->lease_transitions, sizeof r->lease_transitions);
    return h | 1; /* never 0: 0 is "no Lease" */
}

void lock_multi_combine(const ElectionRecord *primary, const ElectionRecord *secondary,
                        const char *identity, ElectionRecord *ret, uint64_t *ret_aux)
{
    ElectionRecord r = *primary;

    if (!secondary) {
        /* Held by an old client (client-go: the primary as it is). One naming us without its
         * Lease is not a claim we may confirm: nobody reading only the Lease knows of it. */
        if (r.holder[0] && identity && strcmp(r.holder, identity) == 0)
            snprintf(r.holder, sizeof r.holder, "%s", LOCK_UNKNOWN_LEADER);
    } else if (strcmp(primary->holder, secondary->holder) != 0) {
        snprintf(r.holder, sizeof r.holder, "%s", LOCK_UNKNOWN_LEADER);
        /* A released Endpoints record whose Lease write failed (a release cut short by API
         * errors): its leaseDurationSeconds is the release marker (1), not a holder's timing.
         * Absent, so the engine waits out its own lease duration and the unsafe-peer check
         * (check_peer_lease_duration) does not take the marker for a peer's short lease,
         * which would stop every candidate from competing for good. */
        if (!primary->holder[0]) r.lease_duration_seconds = 0;
    } else if (secondary->renew_time_usec < r.renew_time_usec) {
        /* Both name the same holder: the claim stands as far as both objects were written. */
        r.renew_time_usec = secondary->renew_time_usec;
    }
    r.revision = primary->revision;
    *ret = r;
    if (ret_aux) *ret_aux = secondary ? record_digest(secondary) : 0;
}

/* ---- Lease <-> record ---- */

void lock_record_from_lease(const KubeLease *l, ElectionRecord *r)
{
    *r = (ElectionRecord){0};
    if (l->holder_identity) snprintf(r->holder, sizeof r->holder, "%s", l->holder_identity);
    if (l->lease_duration_seconds != KUBE_INT_UNSET && l->lease_duration_seconds > 0 &&
        l->lease_duration_seconds <= INT32_MAX)
        r->lease_duration_seconds = (int32_t)l->lease_duration_seconds;
    if (l->acquire_time_usec != KUBE_TIME_UNSET) r->acquire_time_usec = l->acquire_time_usec;
    if (l->renew_time_usec != KUBE_TIME_UNSET) r->renew_time_usec = l->renew_time_usec;
    if (l->lease_transitions != KUBE_INT_UNSET && l->lease_transitions >= 0 &&
        l->lease_transitions <= INT32_MAX)
        r->lease_transitions = (int32_t)l->lease_transitions;
    r->revision = lock_revision_of(l->resource_version);
}

int lock_record_to_lease(KubeLease *l, const ElectionRecord *r)
{
    free(l->holder_identity);
    l->holder_identity = strdup(r->holder);
    l->lease_duration_seconds = r->lease_duration_seconds;
    l->acquire_time_usec = r->acquire_time_usec ? r->acquire_time_usec : KUBE_TIME_UNSET;
    l->renew_time_usec = r->renew_time_usec ? r->renew_time_usec : KUBE_TIME_UNSET;
    l->lease_transitions = r->lease_transitions;
    return l->holder_identity ? 0 : -ENOMEM;
}
