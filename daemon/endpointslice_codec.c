/* SPDX-License-Identifier: MIT */
/* The EndpointSlice's codec (see endpointslice_codec.h). */
#include "endpointslice_codec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* ---- the configuration ---- */

int endpointslice_config_validate(const EndpointSliceConfig *cfg)
{
    if (!cfg || !dns_subdomain_valid(cfg->name) || !endpointslice_service_valid(cfg->service) ||
        !endpointslice_address_type(cfg->pod_ip, NULL, 0) || !cfg->ports || cfg->n_ports == 0 ||
        cfg->n_ports > ENDPOINTSLICE_PORTS_MAX)
        return -EINVAL;
    if (cfg->node_name && cfg->node_name[0] && !dns_subdomain_valid(cfg->node_name)) return -EINVAL;
    if (cfg->zone && !endpointslice_label_value_valid(cfg->zone)) return -EINVAL;
    for (size_t i = 0; i < cfg->n_ports; i++) {
        if (cfg->ports[i].port == 0) return -EINVAL;
        if (cfg->n_ports > 1 && !cfg->ports[i].name[0])
            return -EINVAL; /* the API requires names when there are several */
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->ports[i].name, cfg->ports[j].name) == 0) return -EINVAL;
    }
    return 0;
}

/* ---- bodies ---- */

static const char *pod_namespace(const EndpointSliceConfig *cfg, const char *ns)
{
    return cfg->pod_namespace && cfg->pod_namespace[0] ? cfg->pod_namespace : ns;
}

static void write_endpoints(JsonWriter *w, const EndpointSliceConfig *cfg, const char *ns,
                            bool publish)
{
    char ip[INET6_ADDRSTRLEN];

    json_writer_begin_array(w);
    if (publish && endpointslice_address_type(cfg->pod_ip, ip, sizeof ip)) {
        json_writer_begin_object(w);
        json_writer_key(w, "addresses");
        json_writer_begin_array(w);
        json_writer_value_string(w, ip);
        json_writer_end_array(w);
        json_writer_key(w, "conditions");
        json_writer_begin_object(w);
        json_writer_key(w, "ready");
        json_writer_value_bool(w, true);
        json_writer_key(w, "serving");
        json_writer_value_bool(w, true);
        json_writer_key(w, "terminating");
        json_writer_value_bool(w, false);
        json_writer_end_object(w);
        if (cfg->pod_name && cfg->pod_name[0]) {
            const char *pns = pod_namespace(cfg, ns);
            json_writer_key(w, "targetRef");
            json_writer_begin_object(w);
            json_writer_key(w, "kind");
            json_writer_value_string(w, "Pod");
            if (pns && pns[0]) {
                json_writer_key(w, "namespace");
                json_writer_value_string(w, pns);
            }
            json_writer_key(w, "name");
            json_writer_value_string(w, cfg->pod_name);
            if (cfg->pod_uid && cfg->pod_uid[0]) {
                json_writer_key(w, "uid");
                json_writer_value_string(w, cfg->pod_uid);
            }
            json_writer_end_object(w);
        }
        if (cfg->node_name && cfg->node_name[0]) {
            json_writer_key(w, "nodeName");
            json_writer_value_string(w, cfg->node_name);
        }
        if (cfg->zone && cfg->zone[0]) {
            json_writer_key(w, "zone");
            json_writer_value_string(w, cfg->zone);
        }
        json_writer_end_object(w);
    }
    json_writer_end_array(w);
}

static void write_ports(JsonWriter *w, const EndpointSliceConfig *cfg)
{
    json_writer_begin_array(w);
    for (size_t i = 0; i < cfg->n_ports; i++) {
        json_writer_begin_object(w);
        if (cfg->ports[i].name[0]) {
            json_writer_key(w, "name");
            json_writer_value_string(w, cfg->ports[i].name);
        }
        json_writer_key(w, "port");
        json_writer_value_int(w, cfg->ports[i].port);
        json_writer_key(w, "protocol");
        json_writer_value_string(w, cfg->ports[i].protocol);
        json_writer_end_object(w);
    }
    json_writer_end_array(w);
}

int endpointslice_endpoints_json(const EndpointSliceConfig *cfg, bool publish, char **ret)
{
    JsonWriter w = JSON_WRITER_INIT(ENDPOINTSLICE_BODY_MAX);

    write_endpoints(&w, cfg, cfg->namespace_, publish);
    return json_writer_finish(&w, ret, NULL);
}

int endpointslice_ports_json(const EndpointSliceConfig *cfg, char **ret)
{
    JsonWriter w = JSON_WRITER_INIT(ENDPOINTSLICE_BODY_MAX);

    write_ports(&w, cfg);
    return json_writer_finish(&w, ret, NULL);
}

int endpointslice_new_json(const EndpointSliceConfig *cfg, const char *ns, bool publish, char **ret,
                           size_t *ret_len)
{
    JsonWriter w = JSON_WRITER_INIT(ENDPOINTSLICE_BODY_MAX);

    json_writer_begin_object(&w);
    json_writer_key(&w, "apiVersion");
    json_writer_value_string(&w, "discovery.k8s.io/v1");
    json_writer_key(&w, "kind");
    json_writer_value_string(&w, "EndpointSlice");
    json_writer_key(&w, "metadata");
    json_writer_begin_object(&w);
    json_writer_key(&w, "name");
    json_writer_value_string(&w, cfg->name);
    if (ns && ns[0]) {
        json_writer_key(&w, "namespace");
        json_writer_value_string(&w, ns);
    }
    json_writer_key(&w, "labels");
    json_writer_begin_object(&w);
    json_writer_key(&w, ENDPOINTSLICE_LABEL_SERVICE);
    json_writer_value_string(&w, cfg->service);
    json_writer_key(&w, ENDPOINTSLICE_LABEL_MANAGED_BY);
    json_writer_value_string(&w, ENDPOINTSLICE_MANAGED_BY);
    json_writer_end_object(&w);
    json_writer_end_object(&w);
    json_writer_key(&w, "addressType");
    json_writer_value_string(&w, endpointslice_address_type(cfg->pod_ip, NULL, 0));
    json_writer_key(&w, "endpoints");
    write_endpoints(&w, cfg, ns, publish);
    json_writer_key(&w, "ports");
    write_ports(&w, cfg);
    json_writer_end_object(&w);
    return json_writer_finish(&w, ret, ret_len);
}

int endpointslice_edit_json(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len,
                            bool publish, char **ret, size_t *ret_len)
{
    static const char *const p_service[] = {"metadata", "labels", ENDPOINTSLICE_LABEL_SERVICE,
                                            NULL};
    static const char *const p_managed[] = {"metadata", "labels", ENDPOINTSLICE_LABEL_MANAGED_BY,
                                            NULL};
    static const char *const p_type[] = {"addressType", NULL};
    static const char *const p_endpoints[] = {"endpoints", NULL};
    static const char *const p_ports[] = {"ports", NULL};
    char service[2 * ENDPOINTSLICE_SERVICE_MAX + 8], managed[64], type[16];
    char *endpoints = NULL, *ports = NULL;
    JsonWriter w = JSON_WRITER_INIT(ENDPOINTSLICE_BODY_MAX);
    int r;

    if (json_escape(cfg->service, strlen(cfg->service), service, sizeof service) < 0 ||
        json_escape(ENDPOINTSLICE_MANAGED_BY, strlen(ENDPOINTSLICE_MANAGED_BY), managed,
                    sizeof managed) < 0)
        return -EINVAL;
    snprintf(type, sizeof type, "\"%s\"", endpointslice_address_type(cfg->pod_ip, NULL, 0));
    write_endpoints(&w, cfg, cfg->namespace_, publish);
    r = json_writer_finish(&w, &endpoints, NULL);
    if (r < 0) return r;
    r = endpointslice_ports_json(cfg, &ports);
    if (r < 0) {
        free(endpoints);
        return r;
    }
    {
        const JsonEdit edits[] = {
            {p_service, service},     {p_managed, managed}, {p_type, type},
            {p_endpoints, endpoints}, {p_ports, ports},
        };
        r = json_edit_many(raw, raw_len, edits, sizeof edits / sizeof edits[0],
                           ENDPOINTSLICE_BODY_MAX, ret, ret_len);
    }
    free(endpoints);
    free(ports);
    return r;
}

/* ---- classification ---- */

static bool array_has_string(const JsonDoc *d, int arr, const char *s)
{
    if (json_type(d, arr) != JSON_ARRAY) return false;
    for (int i = json_first(d, arr); i >= 0; i = json_next(d, i))
        if (json_string_eq(d, i, s)) return true;
    return false;
}

static bool string_or_empty_eq(const JsonDoc *d, int t, const char *s)
{
    if (!s) s = "";
    if (t < 0 || json_type(d, t) == JSON_NULL) return s[0] == 0;
    return json_string_eq(d, t, s);
}

static bool ports_match(const EndpointSliceConfig *cfg, const JsonDoc *d, int ports)
{
    size_t k = 0;

    if (json_type(d, ports) != JSON_ARRAY || json_count(d, ports) != (int)cfg->n_ports)
        return false;
    for (int i = json_first(d, ports); i >= 0; i = json_next(d, i), k++) {
        const EndpointSlicePort *p = &cfg->ports[k];
        int proto = json_get(d, i, "protocol");
        int64_t v;

        if (json_type(d, i) != JSON_OBJECT) return false;
        if (!string_or_empty_eq(d, json_get(d, i, "name"), p->name)) return false;
        if (json_int64(d, json_get(d, i, "port"), &v) < 0 || v != p->port) return false;
        if (proto < 0 ? strcmp(p->protocol, "TCP") != 0 : !json_string_eq(d, proto, p->protocol))
            return false;
    }
    return true;
}

int endpointslice_classify(const EndpointSliceConfig *cfg, const char *raw, size_t raw_len)
{
    JsonDoc *d = NULL;
    char ip[INET6_ADDRSTRLEN];
    const char *type = endpointslice_address_type(cfg->pod_ip, ip, sizeof ip);
    int eps, ep, r;
    bool lists = false, ready;

    if (!type) return -EINVAL;
    r = json_parse(raw, raw_len, 0, &d);
    if (r < 0) return -EBADMSG;
    if (json_type(d, 0) != JSON_OBJECT) {
        json_free(d);
        return -EBADMSG;
    }
    eps = json_get(d, 0, "endpoints");
    if (json_type(d, eps) == JSON_ARRAY)
        for (int i = json_first(d, eps); i >= 0; i = json_next(d, i))
            if (array_has_string(d, json_get(d, i, "addresses"), ip) ||
                array_has_string(d, json_get(d, i, "addresses"), cfg->pod_ip))
                lists = true;
    if (!lists) {
        json_free(d);
        return ENDPOINTSLICE_CONTENT_OTHER;
    }
    r = ENDPOINTSLICE_CONTENT_LISTS_US;
    ep = json_first(d, eps);
    if (json_count(d, eps) == 1 && json_count(d, json_get(d, ep, "addresses")) == 1 &&
        json_bool(d, json_get_path(d, ep, "conditions", "ready", NULL), &ready) == 0 && ready &&
        /* A slice written without our nodeName or zone (by a daemon started without
         * $NODE_NAME) is rewritten: kube-proxy's Local traffic policies need the nodeName. */
        string_or_empty_eq(d, json_get(d, ep, "nodeName"), cfg->node_name) &&
        string_or_empty_eq(d, json_get(d, ep, "zone"), cfg->zone) &&
        json_string_eq(d, json_get(d, 0, "addressType"), type) &&
        json_string_eq(d,
                       json_get_path(d, 0, "metadata", "labels", ENDPOINTSLICE_LABEL_SERVICE, NULL),
                       cfg->service) &&
        json_string_eq(
            d, json_get_path(d, 0, "metadata", "labels", ENDPOINTSLICE_LABEL_MANAGED_BY, NULL),
            ENDPOINTSLICE_MANAGED_BY) &&
        ports_match(cfg, d, json_get(d, 0, "ports")))
        r = ENDPOINTSLICE_CONTENT_OURS;
    json_free(d);
    return r;
}
