/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A kubeconfig file (what kubectl reads), reduced to its current context:
 * the cluster's server and CA, the user's credentials, the namespace. Pure:
 * kubeconfig_parse() reads no file; kubeconfig_load() reads the one file.
 * Relative paths are resolved against the kubeconfig's directory, as kubectl
 * does. TLS verification is always on: insecure-skip-tls-verify is refused;
 * exec plugins, auth-providers and username/password are refused by name. */

typedef struct Kubeconfig {
    char *server;
    char *ca_file;          /* certificate-authority */
    unsigned char *ca_data; /* certificate-authority-data, decoded */
    size_t ca_data_len;
    char *token;              /* inline bearer token: never logged */
    char *token_file;         /* tokenFile */
    char *cert_file;          /* client-certificate */
    char *key_file;           /* client-key */
    unsigned char *cert_data; /* client-certificate-data, decoded */
    size_t cert_data_len;
    unsigned char *key_data; /* client-key-data, decoded: secret */
    size_t key_data_len;
    char *namespace_; /* the context's namespace, NULL if none */
} Kubeconfig;

#define KUBECONFIG_MAX_BYTES (1024 * 1024)

void kubeconfig_done(Kubeconfig *k);

/* Parses text (len bytes, need not be NUL-terminated); dir (may be NULL: ".")
 * resolves relative paths. On error returns -EINVAL (or -ENOMEM) and writes a
 * one-line reason into err (never a secret). */
int kubeconfig_parse(const char *text, size_t len, const char *dir, Kubeconfig *ret, char *err,
                     size_t err_size);

/* Reads path (at most KUBECONFIG_MAX_BYTES) and parses it. */
int kubeconfig_load(const char *path, Kubeconfig *ret, char *err, size_t err_size);

/* Standard base64 with padding (line breaks ignored), as Go's []byte in
 * YAML. Returns 0 or -EINVAL/-ENOMEM. */
int kubeconfig_base64_decode(const char *s, unsigned char **ret, size_t *ret_len);

/* The kubeconfig to read: flag if given, else $KUBECONFIG's first file
 * (copied into buf) when no --server is given and KUBERNETES_SERVICE_HOST is
 * not set (not in a cluster), else NULL (in-cluster or the flags alone). */
const char *kubeconfig_select_path(const char *flag, bool server_given, char *buf, size_t size);
