/* SPDX-License-Identifier: MIT */
/* The kubeconfig parser (daemon/kubeconfig.c) on real kubeconfigs: one written
 * by `kubectl config set-cluster/set-credentials/set-context/use-context`
 * (tests/data/kubeconfig/kubectl-written.yaml, and a fresh one when $KUBECTL
 * names kubectl), one with -data fields, and malformed ones, each refused
 * with a reason; then kube_config_resolve()'s precedence (flags, then the
 * kubeconfig, $KUBECONFIG only out of a cluster). argv[1]: the fixture
 * directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube_config.h"
#include "kubeconfig.h"

#include "check.h"

static char err[320];

static int parse(const char *text, Kubeconfig *k)
{
    *k = (Kubeconfig){0};
    return kubeconfig_parse(text, strlen(text), "/etc/kube", k, err, sizeof err);
}

/* A malformed kubeconfig: -EINVAL, a reason containing want, no secret in it. */
static void refused(const char *text, const char *want)
{
    Kubeconfig k;
    CHECK_EQ_INT(parse(text, &k), -EINVAL);
    if (!strstr(err, want)) {
        fprintf(stderr, "error '%s' does not say '%s'\n", err, want);
        failures++;
    }
    CHECK(!strstr(err, "s3cr3t"));
}

static void check_kubectl_written(const char *path, const char *dir)
{
    Kubeconfig k;
    char ca[4200];
    int r = kubeconfig_load(path, &k, err, sizeof err);
    CHECK_EQ_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return;
    }
    CHECK_EQ_STR(k.server, "https://127.0.0.1:6443");
    snprintf(ca, sizeof ca, "%s/pki/ca.crt", dir);
    CHECK_EQ_STR(k.ca_file, ca); /* relative to the kubeconfig's directory, as kubectl does */
    CHECK_EQ_STR(k.token, "s3cr3t-token");
    CHECK(!k.token_file && !k.cert_file && !k.cert_data && !k.ca_data);
    CHECK_EQ_STR(k.namespace_, "team-a");
    kubeconfig_done(&k);
}

/* Writes a kubeconfig with kubectl itself into a temporary directory. */
static void check_fresh_kubectl(const char *kubectl)
{
    char dir[] = "/tmp/test-kubeconfig-XXXXXX", path[128], cmd[1024];
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/config", dir);
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; export KUBECONFIG='%s'; k='%s';"
             "$k config set-cluster test --server=https://127.0.0.1:6443 "
             "--certificate-authority=pki/ca.crt >/dev/null;"
             "$k config set-credentials elector --token=s3cr3t-token >/dev/null;"
             "$k config set-context elector@test --cluster=test --user=elector "
             "--namespace=team-a >/dev/null;"
             "$k config use-context elector@test >/dev/null",
             dir, path, kubectl);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    check_kubectl_written(path, dir);
    unlink(path);
    rmdir(dir);
}

static const char DATA[] = "apiVersion: v1\n"
                           "kind: Config\n"
                           "current-context: c\n"
                           "clusters:\n"
                           "- name: other\n"
                           "  cluster: {server: 'https://wrong:1'}\n"
                           "- name: k\n"
                           "  cluster:\n"
                           "    server: https://[::1]:8443/\n"
                           "    certificate-authority-data: UEVNIENB\n" /* "PEM CA" */
                           "contexts:\n"
                           "- name: c\n"
                           "  context: {cluster: k, user: u}\n"
                           "users:\n"
                           "- name: u\n"
                           "  user:\n"
                           "    client-certificate-data: Y2VydA==\n" /* "cert" */
                           "    client-key-data: a2V5\n";            /* "key" */

static void check_data(void)
{
    Kubeconfig k;
    int r = parse(DATA, &k);
    CHECK_EQ_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_STR(k.server, "https://[::1]:8443/");
    CHECK(k.ca_data_len == 6 && memcmp(k.ca_data, "PEM CA", 6) == 0);
    CHECK(k.cert_data_len == 4 && memcmp(k.cert_data, "cert", 4) == 0);
    CHECK(k.key_data_len == 3 && memcmp(k.key_data, "key", 3) == 0);
    CHECK(!k.token && !k.ca_file && !k.namespace_);
    kubeconfig_done(&k);

    /* files, tokenFile, absolute paths kept */
    r = parse("current-context: c\n"
              "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:8001'}}]\n"
              "contexts: [{name: c, context: {cluster: k, user: u, namespace: ns}}]\n"
              "users: [{name: u, user: {tokenFile: tok, client-certificate: /abs/c.pem,"
              " client-key: k.pem}}]\n",
              &k);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_STR(k.token_file, "/etc/kube/tok");
    CHECK_EQ_STR(k.cert_file, "/abs/c.pem");
    CHECK_EQ_STR(k.key_file, "/etc/kube/k.pem");
    CHECK_EQ_STR(k.namespace_, "ns");
    kubeconfig_done(&k);
}

#define HEAD "clusters: [{name: k, cluster: {server: 'https://h:1'}}]\n"
#define CTX "contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n"

static void check_malformed(void)
{
    refused("", "not a YAML mapping");
    refused("a: [1, 2\n", "bad YAML");
    refused(HEAD "contexts: [{name: c, context: {cluster: k}}]\n", "no current-context");
    refused(HEAD "current-context: x\ncontexts: [{name: c, context: {cluster: k}}]\n",
            "context 'x' not found");
    refused("current-context: c\ncontexts: [{name: c, context: {cluster: nope}}]\n",
            "cluster 'nope' not found");
    refused("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
            "clusters: [{name: k, cluster: {certificate-authority: ca}}]\n",
            "has no server");
    refused("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
            "clusters: [{name: k, cluster: {server: 'ftp://x'}}]\n",
            "must start with https://");
    refused("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
            "clusters: [{name: k, cluster: {server: 'https://x', certificate-authority-data: "
            "'not base64!'}}]\n",
            "certificate-authority-data is not valid base64");
    refused("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
            "clusters: [{name: k, cluster: {server: 'https://x', insecure-skip-tls-verify: "
            "true}}]\n",
            "insecure-skip-tls-verify is not supported");
    refused(HEAD CTX "users: [{name: u, user: {exec: {apiVersion: "
                     "client.authentication.k8s.io/v1, command: aws}}}]\n",
            "exec credential plugins are not supported");
    refused(HEAD CTX "users: [{name: u, user: {auth-provider: {name: oidc}}}]\n",
            "auth-provider is not supported");
    refused(HEAD CTX "users: [{name: u, user: {username: a, password: s3cr3t}}]\n",
            "username/password");
    refused(HEAD CTX "users: [{name: v, user: {token: s3cr3t}}]\n", "user 'u' not found");
    refused(HEAD CTX "users: [{name: u, user: {client-key-data: 's3cr3t!'}}]\n",
            "client-key-data is not valid base64");
    refused(HEAD CTX "users: [{name: u, user: {client-certificate: c.pem}}]\n", "needs its key");
    refused(HEAD CTX "users: [{name: u, user: {token: \"s3cr3t\\nx\"}}]\n", "line break");
    /* anchors and aliases, even recursive ones, are only walked along fixed paths */
    refused("&a {current-context: *a}\n", "no current-context");

    unsigned char *b;
    size_t n;
    CHECK_EQ_INT(kubeconfig_base64_decode("YQ=", &b, &n), -EINVAL);
    CHECK_EQ_INT(kubeconfig_base64_decode("YQ==YQ==", &b, &n), -EINVAL);
    CHECK_EQ_INT(kubeconfig_base64_decode("", &b, &n), -EINVAL);
    CHECK_EQ_INT(kubeconfig_base64_decode("YW\nJj\n", &b, &n), 0);
    CHECK(n == 3 && memcmp(b, "abc", 3) == 0);
    free(b);
}

/* kube_config_resolve(): --server/--token-file/--ca-file/--namespace win field by field;
 * --kubeconfig is read anyway; $KUBECONFIG only out of a cluster and without --server. */
static void check_resolve(const char *fixtures)
{
    char path[4200];
    KubeConfig c = {0};
    snprintf(path, sizeof path, "%s/kubectl-written.yaml", fixtures);

    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
    unsetenv("KUBECONFIG");
    c.kubeconfig = strdup(path);
    CHECK_EQ_INT(kube_config_resolve(&c, "/nonexistent"), 0);
    CHECK_EQ_STR(c.server, "https://127.0.0.1:6443");
    CHECK_EQ_STR(c.token, "s3cr3t-token");
    CHECK_EQ_STR(c.namespace_, "team-a");
    kube_config_done(&c);

    c = (KubeConfig){0};
    c.kubeconfig = strdup(path);
    c.server = strdup("https://10.0.0.1:443");
    c.token_file = strdup("/run/tok");
    c.ca_file = strdup("/run/ca");
    c.namespace_ = strdup("mine");
    CHECK_EQ_INT(kube_config_resolve(&c, "/nonexistent"), 0);
    CHECK_EQ_STR(c.server, "https://10.0.0.1:443");
    CHECK_EQ_STR(c.token_file, "/run/tok");
    CHECK(!c.token);
    CHECK_EQ_STR(c.ca_file, "/run/ca");
    CHECK_EQ_STR(c.namespace_, "mine");
    kube_config_done(&c);

    /* $KUBECONFIG out of a cluster: read (its first file) */
    char env[4300];
    snprintf(env, sizeof env, "%s:/nonexistent/other", path);
    setenv("KUBECONFIG", env, 1);
    c = (KubeConfig){0};
    CHECK_EQ_INT(kube_config_resolve(&c, "/nonexistent"), 0);
    CHECK_EQ_STR(c.server, "https://127.0.0.1:6443");
    kube_config_done(&c);
    /* in a cluster: ignored, the service account wins */
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    c = (KubeConfig){0};
    CHECK_EQ_INT(kube_config_resolve(&c, "/nonexistent"), 0);
    CHECK_EQ_STR(c.server, "https://10.96.0.1:443");
    CHECK(!c.token);
    kube_config_done(&c);
    /* an explicit --kubeconfig wins over the cluster; its errors are reported */
    c = (KubeConfig){0};
    c.kubeconfig = strdup("/nonexistent/kubeconfig");
    CHECK(kube_config_resolve(&c, "/nonexistent") < 0);
    CHECK(strstr(c.error, "/nonexistent/kubeconfig") != NULL);
    kube_config_done(&c);
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
}

int main(int argc, char **argv)
{
    char path[4200];
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/kubectl-written.yaml", argv[1]);
    check_kubectl_written(path, argv[1]);
    const char *kubectl = getenv("KUBECTL");
    if (kubectl && *kubectl && access(kubectl, X_OK) == 0)
        check_fresh_kubectl(kubectl);
    else
        printf("no $KUBECTL: the committed kubectl-written fixture only\n");
    check_data();
    check_malformed();
    check_resolve(argv[1]);
    return check_report("kubeconfig.unit");
}
