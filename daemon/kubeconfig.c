/* SPDX-License-Identifier: MIT */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

void kubeconfig_done(Kubeconfig *k)
{
    if (!k) return;
    free(k->server);
    free(k->ca_file);
    free(k->ca_data);
    if (k->token) explicit_bzero(k->token, strlen(k->token));
    free(k->token);
    free(k->token_file);
    free(k->cert_file);
    free(k->key_file);
    free(k->cert_data);
    if (k->key_data) explicit_bzero(k->key_data, k->key_data_len);
    free(k->key_data);
    free(k->namespace_);
    *k = (Kubeconfig){0};
}

static int fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (err && size) {
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int kubeconfig_base64_decode(const char *s, unsigned char **ret, size_t *ret_len)
{
    size_t n = strlen(s), o = 0, q = 0, pad = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    uint32_t acc = 0;

    if (!out) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n') continue;
        if (c == '=') {
            if (q < 2) goto bad;
            pad++;
            acc <<= 6;
            if (++q == 4) goto group;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || pad) goto bad;
        acc = acc << 6 | (uint32_t)v;
        if (++q < 4) continue;
    group:
        out[o++] = (unsigned char)(acc >> 16);
        if (pad < 2) out[o++] = (unsigned char)(acc >> 8);
        if (pad < 1) out[o++] = (unsigned char)acc;
        q = 0;
        acc = 0;
        if (pad) {
            /* nothing but line breaks after the padding */
            for (i++; i < n; i++)
                if (s[i] != '\r' && s[i] != '\n') goto bad;
            break;
        }
    }
    if (q != 0 || o == 0) goto bad;
    *ret = out;
    *ret_len = o;
    return 0;
bad:
    explicit_bzero(out, n / 4 * 3 + 3);
    free(out);
    return -EINVAL;
}

/* ---- the YAML tree ---- */

typedef struct Doc {
    yaml_document_t d;
} Doc;

static yaml_node_t *node(Doc *doc, int id)
{
    return id ? yaml_document_get_node(&doc->d, id) : NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping m, NULL if absent (or m is not a mapping). */
static yaml_node_t *get(Doc *doc, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(doc, p->key));
        if (k && strcmp(k, key) == 0) return node(doc, p->value);
    }
    return NULL;
}

static const char *get_str(Doc *doc, yaml_node_t *m, const char *key)
{
    const char *s = scalar(get(doc, m, key));
    return s && *s ? s : NULL;
}

/* clusters/users/contexts: a list of {name: N, <what>: {...}}. */
static yaml_node_t *named(Doc *doc, yaml_node_t *root, const char *list, const char *what,
                          const char *name)
{
    yaml_node_t *l = get(doc, root, list);
    if (!l || l->type != YAML_SEQUENCE_NODE) return NULL;
    for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
        yaml_node_t *e = node(doc, *i);
        const char *n = get_str(doc, e, "name");
        if (n && strcmp(n, name) == 0) {
            yaml_node_t *v = get(doc, e, what);
            return v && v->type == YAML_MAPPING_NODE ? v : NULL;
        }
    }
    return NULL;
}

static int path_in(const char *dir, const char *p, char **ret)
{
    if (p[0] == '/' || !dir || !*dir)
        *ret = strdup(p);
    else if (asprintf(ret, "%s/%s", dir, p) < 0)
        *ret = NULL;
    return *ret ? 0 : -ENOMEM;
}

static bool truthy(const char *s)
{
    return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0 ||
                 strcmp(s, "yes") == 0 || strcmp(s, "on") == 0);
}

static int fill(Doc *doc, const char *dir, Kubeconfig *k, char *err, size_t es)
{
    yaml_node_t *root = yaml_document_get_root_node(&doc->d), *ctx, *cl, *u;
    const char *cur, *cname, *uname, *s;
    int r;

    if (!root || root->type != YAML_MAPPING_NODE)
        return fail(err, es, "kubeconfig: not a YAML mapping");
    cur = get_str(doc, root, "current-context");
    if (!cur) return fail(err, es, "kubeconfig: no current-context (kubectl config use-context)");
    ctx = named(doc, root, "contexts", "context", cur);
    if (!ctx) return fail(err, es, "kubeconfig: context '%s' not found", cur);
    cname = get_str(doc, ctx, "cluster");
    if (!cname) return fail(err, es, "kubeconfig: context '%s' names no cluster", cur);
    cl = named(doc, root, "clusters", "cluster", cname);
    if (!cl) return fail(err, es, "kubeconfig: cluster '%s' not found", cname);

    s = get_str(doc, cl, "server");
    if (!s) return fail(err, es, "kubeconfig: cluster '%s' has no server", cname);
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return fail(err, es, "kubeconfig: cluster '%s': server must start with https:// or http://",
                    cname);
    if (!(k->server = strdup(s))) return -ENOMEM;
    if (truthy(scalar(get(doc, cl, "insecure-skip-tls-verify"))))
        return fail(err, es,
                    "kubeconfig: cluster '%s': insecure-skip-tls-verify is not supported "
                    "(TLS verification is always on)",
                    cname);
    if ((s = get_str(doc, cl, "certificate-authority-data"))) {
        r = kubeconfig_base64_decode(s, &k->ca_data, &k->ca_data_len);
        if (r == -ENOMEM) return r;
        if (r < 0)
            return fail(err, es,
                        "kubeconfig: cluster '%s': certificate-authority-data is not "
                        "valid base64",
                        cname);
    } else if ((s = get_str(doc, cl, "certificate-authority"))) {
        if (path_in(dir, s, &k->ca_file) < 0) return -ENOMEM;
    }

    if ((s = get_str(doc, ctx, "namespace")) && !(k->namespace_ = strdup(s))) return -ENOMEM;

    uname = get_str(doc, ctx, "user");
    if (!uname) return 0; /* no credentials: e.g. kubectl proxy */
    u = named(doc, root, "users", "user", uname);
    if (!u) return fail(err, es, "kubeconfig: user '%s' not found", uname);
    if (get(doc, u, "exec"))
        return fail(err, es,
                    "kubeconfig: user '%s': exec credential plugins are not supported "
                    "(give a token, tokenFile or client certificate)",
                    uname);
    if (get(doc, u, "auth-provider"))
        return fail(err, es,
                    "kubeconfig: user '%s': auth-provider is not supported "
                    "(give a token, tokenFile or client certificate)",
                    uname);
    if (get_str(doc, u, "username") || get_str(doc, u, "password"))
        return fail(err, es,
                    "kubeconfig: user '%s': username/password (basic auth) is not "
                    "supported (give a token, tokenFile or client certificate)",
                    uname);
    if ((s = get_str(doc, u, "token"))) {
        if (strpbrk(s, "\r\n"))
            return fail(err, es, "kubeconfig: user '%s': the token has a line break", uname);
        if (!(k->token = strdup(s))) return -ENOMEM;
    } else if ((s = get_str(doc, u, "tokenFile"))) {
        if (path_in(dir, s, &k->token_file) < 0) return -ENOMEM;
    }
    if ((s = get_str(doc, u, "client-certificate-data"))) {
        r = kubeconfig_base64_decode(s, &k->cert_data, &k->cert_data_len);
        if (r == -ENOMEM) return r;
        if (r < 0)
            return fail(err, es,
                        "kubeconfig: user '%s': client-certificate-data is not valid "
                        "base64",
                        uname);
    } else if ((s = get_str(doc, u, "client-certificate"))) {
        if (path_in(dir, s, &k->cert_file) < 0) return -ENOMEM;
    }
    if ((s = get_str(doc, u, "client-key-data"))) {
        r = kubeconfig_base64_decode(s, &k->key_data, &k->key_data_len);
        if (r == -ENOMEM) return r;
        if (r < 0)
            return fail(err, es, "kubeconfig: user '%s': client-key-data is not valid base64",
                        uname);
    } else if ((s = get_str(doc, u, "client-key"))) {
        if (path_in(dir, s, &k->key_file) < 0) return -ENOMEM;
    }
    if (!(k->cert_data || k->cert_file) != !(k->key_data || k->key_file))
        return fail(err, es,
                    "kubeconfig: user '%s': a client certificate needs its key and a "
                    "key its certificate",
                    uname);
    return 0;
}

int kubeconfig_parse(const char *text, size_t len, const char *dir, Kubeconfig *ret, char *err,
                     size_t err_size)
{
    yaml_parser_t p;
    Doc doc;
    Kubeconfig k = {0};
    int r;

    if (err && err_size) err[0] = 0;
    if (!yaml_parser_initialize(&p)) return -ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc.d)) {
        r = fail(err, err_size, "kubeconfig: bad YAML at line %zu: %s", p.problem_mark.line + 1,
                 p.problem ? p.problem : "parse error");
        yaml_parser_delete(&p);
        return r;
    }
    yaml_parser_delete(&p);
    r = fill(&doc, dir, &k, err, err_size);
    yaml_document_delete(&doc.d);
    if (r < 0) {
        if (r == -ENOMEM) fail(err, err_size, "kubeconfig: out of memory");
        kubeconfig_done(&k);
        return r;
    }
    *ret = k;
    return 0;
}

int kubeconfig_load(const char *path, Kubeconfig *ret, char *err, size_t err_size)
{
    char *buf = NULL, *dir = NULL, *slash;
    size_t n = 0;
    ssize_t m;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r = -errno;
        snprintf(err, err_size, "cannot read kubeconfig %s: %s", path, strerror(-r));
        return r;
    }
    buf = malloc(KUBECONFIG_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (n <= KUBECONFIG_MAX_BYTES &&
           (m = read(fd, buf + n, KUBECONFIG_MAX_BYTES + 1 - n)) != 0) {
        if (m < 0) {
            if (errno == EINTR) continue;
            r = -errno;
            snprintf(err, err_size, "cannot read kubeconfig %s: %s", path, strerror(-r));
            goto out;
        }
        n += (size_t)m;
    }
    if (n > KUBECONFIG_MAX_BYTES) {
        r = fail(err, err_size, "kubeconfig %s: larger than %d bytes", path, KUBECONFIG_MAX_BYTES);
        goto out;
    }
    dir = strdup(path);
    if (!dir) {
        r = -ENOMEM;
        goto out;
    }
    slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        strcpy(dir, ".");
    r = kubeconfig_parse(buf, n, dir, ret, err, err_size);
out:
    if (buf) explicit_bzero(buf, n);
    free(buf);
    free(dir);
    close(fd);
    return r;
}

const char *kubeconfig_select_path(const char *flag, bool server_given, char *buf, size_t size)
{
    const char *host = secure_getenv("KUBERNETES_SERVICE_HOST");
    const char *env = secure_getenv("KUBECONFIG");

    if (flag && *flag) return flag;
    if (server_given || (host && *host) || !env || !*env) return NULL;
    /* kubectl merges a list; the first file is the one that names the context. */
    size_t n = strcspn(env, ":");
    if (n == 0 || n >= size) return NULL;
    memcpy(buf, env, n);
    buf[n] = 0;
    return buf;
}
