/* SPDX-License-Identifier: MIT */
#include "kube_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig.h"
#include "util.h"

void kube_config_done(KubeConfig *c)
{
    if (!c) return;
    free(c->server);
    free(c->token_file);
    free(c->ca_file);
    free(c->namespace_);
    free(c->user_agent);
    free(c->kubeconfig);
    if (c->token) explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c->ca_data);
    free(c->cert_file);
    free(c->key_file);
    free(c->cert_data);
    if (c->key_data) explicit_bzero(c->key_data, c->key_data_len);
    free(c->key_data);
    *c = (KubeConfig){};
}

static int set_path(char **field, const char *dir, const char *name)
{
    if (*field) return 0;
    if (asprintf(field, "%s/%s", dir, name) < 0) {
        *field = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* First line of a small file, trimmed; NULL if unreadable or empty. */
static char *read_small(const char *path)
{
    char buf[256];
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f) return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    while (n > 0 && buf[0] && isspace((unsigned char)buf[strlen(buf) - 1]))
        buf[strlen(buf) - 1] = 0;
    return buf[0] ? strdup(buf) : NULL;
}

#define TAKE(dst, src)                                                                             \
    do {                                                                                           \
        if (!(dst)) {                                                                              \
            (dst) = (src);                                                                         \
            (src) = NULL;                                                                          \
        }                                                                                          \
    } while (0)

static int apply_kubeconfig(KubeConfig *c, const char *path)
{
    Kubeconfig k = {0};
    int r = kubeconfig_load(path, &k, c->error, sizeof c->error);
    if (r < 0) return r == -ENOMEM ? r : -EINVAL;
    TAKE(c->server, k.server);
    /* A --ca-file or --token-file given replaces the kubeconfig's. */
    if (!c->ca_file) {
        TAKE(c->ca_file, k.ca_file);
        if (!c->ca_file && k.ca_data) {
            c->ca_data = k.ca_data;
            c->ca_data_len = k.ca_data_len;
            k.ca_data = NULL;
        }
    }
    if (!c->token_file) {
        TAKE(c->token_file, k.token_file);
        if (!c->token_file) TAKE(c->token, k.token);
    }
    TAKE(c->cert_file, k.cert_file);
    TAKE(c->key_file, k.key_file);
    if (k.cert_data) {
        c->cert_data = k.cert_data;
        c->cert_data_len = k.cert_data_len;
        k.cert_data = NULL;
    }
    if (k.key_data) {
        c->key_data = k.key_data;
        c->key_data_len = k.key_data_len;
        k.key_data = NULL;
    }
    TAKE(c->namespace_, k.namespace_);
    kubeconfig_done(&k);
    return 0;
}

int kube_config_resolve(KubeConfig *c, const char *sa_dir)
{
    bool in_cluster = false;
    char kbuf[4096];
    const char *kpath;

    if (!c) return -EINVAL;
    if (!sa_dir) sa_dir = KUBE_SA_DIR;
    /* A flag given as "" means "not given". */
    char **fields[] = {&c->server,     &c->token_file, &c->ca_file,
                       &c->namespace_, &c->user_agent, &c->kubeconfig};
    for (size_t i = 0; i < ELEMENTSOF(fields); i++)
        if (*fields[i] && !**fields[i]) {
            free(*fields[i]);
            *fields[i] = NULL;
        }
    c->error[0] = 0;

    kpath = kubeconfig_select_path(c->kubeconfig, c->server != NULL, kbuf, sizeof kbuf);
    if (kpath) {
        int r = apply_kubeconfig(c, kpath);
        if (r < 0) return r;
    }

    if (!c->server) {
        const char *host = secure_getenv("KUBERNETES_SERVICE_HOST");
        const char *port = secure_getenv("KUBERNETES_SERVICE_PORT");
        if (!host || !*host || !port || !*port) return -ENXIO;
        /* net.JoinHostPort: an IPv6 literal goes in brackets. */
        bool v6 = strchr(host, ':') && host[0] != '[';
        if (asprintf(&c->server, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) <
            0) {
            c->server = NULL;
            return -ENOMEM;
        }
        in_cluster = true;
    }
    if (strncmp(c->server, "https://", 8) != 0 && strncmp(c->server, "http://", 7) != 0)
        return -EINVAL;
    /* "https://host:443/" and "https://host:443" name the same server. */
    size_t n = strlen(c->server);
    while (n > 8 && c->server[n - 1] == '/')
        c->server[--n] = 0;

    if (in_cluster || c->use_cluster_credentials) {
        if (set_path(&c->token_file, sa_dir, "token") < 0 ||
            set_path(&c->ca_file, sa_dir, "ca.crt") < 0)
            return -ENOMEM;
    }

    if (!c->namespace_) {
        const char *ns = secure_getenv("POD_NAMESPACE");
        if (ns && *ns)
            c->namespace_ = strdup(ns);
        else {
            _cleanup_free_ char *path = NULL;
            if (asprintf(&path, "%s/namespace", sa_dir) < 0) return -ENOMEM;
            c->namespace_ = read_small(path);
            if (!c->namespace_) c->namespace_ = strdup("default");
        }
        if (!c->namespace_) return -ENOMEM;
    }
    return 0;
}
