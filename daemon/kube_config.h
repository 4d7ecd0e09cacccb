/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the API server is and how to authenticate, filled by the daemon's
 * flag parser (--server, --token-file, --ca-file, --namespace, --kubeconfig)
 * and completed by kube_config_resolve() from a kubeconfig file or the
 * in-cluster environment. All strings are
 * owned (malloc'ed) by the struct; NULL (or "") means "not given". */

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct KubeConfig {
    char *server;     /* "https://host:port" or "http://127.0.0.1:8001" (kubectl proxy) */
    char *token_file; /* bearer token, re-read periodically and after a 401 */
    char *ca_file;    /* PEM bundle to verify the server; NULL: system CAs */
    char *namespace_; /* default namespace for requests that name none */
    char *user_agent; /* NULL: "leader-elector/<version>" */
    char *kubeconfig; /* --kubeconfig FILE */
    /* From a kubeconfig (daemon/kubeconfig.h): an inline token (never logged),
     * the CA and a client certificate as PEM bytes or files. */
    char *token;
    unsigned char *ca_data;
    size_t ca_data_len;
    char *cert_file;
    char *key_file;
    unsigned char *cert_data;
    size_t cert_data_len;
    unsigned char *key_data;
    size_t key_data_len;
    char error[320]; /* why kube_config_resolve() failed, when it says */
    /* With an explicit server, use the service-account token and CA anyway. */
    bool use_cluster_credentials;
    uint64_t token_reload_usec; /* 0: 60 s */
    size_t max_response_bytes;  /* 0: 1 MiB; also bounds one watch event */
} KubeConfig;

void kube_config_done(KubeConfig *c);

/* Completes c. Precedence: the flags (--server, --token-file, --ca-file,
 * --namespace) win field by field; then the kubeconfig (c->kubeconfig, else
 * $KUBECONFIG's first file when no --server is given and
 * KUBERNETES_SERVICE_HOST is not set: not in a cluster), its current
 * context; then the in-cluster service account. A kubeconfig that cannot be
 * used is -EINVAL with the reason in c->error.
 * - server NULL and no kubeconfig: in-cluster, "https://" + KUBERNETES_SERVICE_HOST (IPv6
 *   bracketed) + ":" + KUBERNETES_SERVICE_PORT, with the token and CA of
 *   sa_dir (NULL: KUBE_SA_DIR) unless given; -ENXIO if those variables are
 *   not set (not in a cluster, and no --server).
 * - namespace NULL: $POD_NAMESPACE, else sa_dir/namespace, else "default".
 * Checks that the server URL is http:// or https:// (-EINVAL otherwise).
 * Returns 0, -ENXIO, -EINVAL, -ENOMEM. */
int kube_config_resolve(KubeConfig *c, const char *sa_dir);
