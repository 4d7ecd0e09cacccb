/* SPDX-License-Identifier: MIT */
#include "kube_watch_event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [KUBE_WATCH_ADDED] = "ADDED",     [KUBE_WATCH_MODIFIED] = "MODIFIED",
    [KUBE_WATCH_DELETED] = "DELETED", [KUBE_WATCH_BOOKMARK] = "BOOKMARK",
    [KUBE_WATCH_ERROR] = "ERROR",
};

const char *kube_watch_type_to_string(KubeWatchType t)
{
    if (t < KUBE_WATCH_ADDED || t > KUBE_WATCH_ERROR) return "?";
    return type_names[t];
}

void kube_watch_event_done(KubeWatchEvent *e)
{
    if (!e) return;
    free(e->resource_version);
    free(e->object);
    kube_status_done(&e->status);
    kube_lease_done(&e->lease);
    *e = KUBE_WATCH_EVENT_INIT;
}

bool kube_watch_event_is_expired(const KubeWatchEvent *e)
{
    if (!e || e->type != KUBE_WATCH_ERROR) return false;
    return e->status.code == 410 ||
           (e->status.reason &&
            (strcmp(e->status.reason, "Expired") == 0 || strcmp(e->status.reason, "Gone") == 0));
}

int kube_watch_event_parse(const char *line, size_t len, bool as_lease, KubeWatchEvent *ret)
{
    KubeWatchEvent e = KUBE_WATCH_EVENT_INIT;
    JsonDoc *d = NULL;
    int type, obj, r;
    size_t a, b;

    r = json_parse(line, len, 0, &d);
    if (r < 0) return r == -ENOMEM ? r : -EBADMSG;
    r = -EBADMSG;
    if (json_type(d, 0) != JSON_OBJECT) goto out;
    type = json_get(d, 0, "type");
    obj = json_get(d, 0, "object");
    if (json_type(d, obj) != JSON_OBJECT) goto out;
    for (int i = KUBE_WATCH_ADDED; i <= KUBE_WATCH_ERROR; i++)
        if (json_string_eq(d, type, type_names[i])) e.type = (KubeWatchType)i;
    if (e.type == 0) goto out;

    if (e.type == KUBE_WATCH_ERROR) {
        r = kube_status_from_json(d, obj, &e.status);
        if (r < 0) goto out;
    } else {
        r = json_string(d, json_get_path(d, obj, "metadata", "resourceVersion", NULL),
                        &e.resource_version);
        if (r < 0) {
            if (r != -ENOMEM) r = -EBADMSG;
            goto out;
        }
        if (as_lease && e.type != KUBE_WATCH_BOOKMARK) {
            r = kube_lease_from_json(d, obj, &e.lease);
            if (r < 0) goto out;
            e.has_lease = true;
        }
    }

    a = json_start(d, obj);
    b = json_end(d, obj);
    e.object = malloc(b - a + 1);
    if (!e.object) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(e.object, line + a, b - a);
    e.object[b - a] = 0;
    e.object_len = b - a;
    *ret = e;
    e = KUBE_WATCH_EVENT_INIT;
    r = 0;
out:
    kube_watch_event_done(&e);
    json_free(d);
    return r;
}
