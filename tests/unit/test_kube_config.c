/* SPDX-License-Identifier: MIT */
/* kube_config_resolve(): in-cluster discovery (IPv6 bracketing, service-
 * account files), explicit configuration, namespace precedence; and what
 * kube_client_new() refuses. The service-account directory is a temporary
 * one passed in, never the real path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube_client.h"
#include "kube_config.h"

#include "check.h"

static char sa[64];

static void put(const char *name, const char *content)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", sa, name);
    FILE *f = fopen(p, "we");
    if (!f) abort();
    fputs(content, f);
    fclose(f);
}

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool ends(const char *a, const char *suffix)
{
    return a && strlen(a) >= strlen(suffix) && strcmp(a + strlen(a) - strlen(suffix), suffix) == 0;
}

static void clear_env(void)
{
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("POD_NAMESPACE");
}

int main(void)
{
    KubeConfig c = {};

    snprintf(sa, sizeof(sa), "/tmp/kube-config-test-XXXXXX");
    if (!mkdtemp(sa)) abort();
    clear_env();

    /* Not in a cluster and no --server. */
    CHECK(kube_config_resolve(&c, sa) == -ENXIO);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    CHECK(kube_config_resolve(&c, sa) == -ENXIO); /* port missing */
    kube_config_done(&c);

    /* In-cluster, IPv4; namespace from the service-account file. */
    put("namespace", "team-a\n");
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(eq(c.server, "https://10.96.0.1:443"));
    CHECK(ends(c.token_file, "/token") && strncmp(c.token_file, sa, strlen(sa)) == 0);
    CHECK(ends(c.ca_file, "/ca.crt"));
    CHECK(eq(c.namespace_, "team-a"));
    kube_config_done(&c);

    /* IPv6 service address in brackets; POD_NAMESPACE wins over the file. */
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    setenv("POD_NAMESPACE", "from-env", 1);
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(eq(c.server, "https://[fd00:10:96::1]:6443"));
    CHECK(eq(c.namespace_, "from-env"));
    kube_config_done(&c);

    /* Flags win over everything. */
    c.server = strdup("https://api.example.test:6443/");
    c.token_file = strdup("/some/token");
    c.namespace_ = strdup("flag-ns");
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(eq(c.server, "https://api.example.test:6443"));
    CHECK(eq(c.token_file, "/some/token") && c.ca_file == NULL && eq(c.namespace_, "flag-ns"));
    kube_config_done(&c);

    /* kubectl proxy: plain http, no credentials; "default" namespace. */
    clear_env();
    char nsfile[256];
    snprintf(nsfile, sizeof(nsfile), "%s/namespace", sa);
    unlink(nsfile);
    c.server = strdup("http://127.0.0.1:8001");
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(c.token_file == NULL && c.ca_file == NULL && eq(c.namespace_, "default"));
    kube_config_done(&c);

    /* Explicit server with the cluster's credentials. */
    c.server = strdup("https://10.0.0.1:443");
    c.use_cluster_credentials = true;
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(ends(c.token_file, "/token") && ends(c.ca_file, "/ca.crt"));
    kube_config_done(&c);

    /* Empty strings from a flag parser mean "not given". */
    c.server = strdup("http://127.0.0.1:8001");
    c.namespace_ = strdup("");
    c.token_file = strdup("");
    setenv("POD_NAMESPACE", "env-ns", 1);
    CHECK(kube_config_resolve(&c, sa) == 0);
    CHECK(eq(c.namespace_, "env-ns") && c.token_file == NULL);
    unsetenv("POD_NAMESPACE");
    kube_config_done(&c);

    /* Only http and https. */
    c.server = strdup("ftp://10.0.0.1/");
    CHECK(kube_config_resolve(&c, sa) == -EINVAL);
    kube_config_done(&c);

    /* The client refuses what it cannot use, with the reason. */
    sd_event *e = NULL;
    KubeClient *k = NULL;
    if (sd_event_new(&e) < 0) abort();
    KubeConfig bad = {.server = (char *)"unix:///x"};
    CHECK(kube_client_new(e, &bad, &k) == -EINVAL && !k);
    KubeConfig notoken = {.server = (char *)"http://127.0.0.1:1",
                          .token_file = (char *)"/nonexistent/t"};
    CHECK(kube_client_new(e, &notoken, &k) == -ENOENT && !k);
    put("empty-token", "\n");
    char tp[256];
    snprintf(tp, sizeof(tp), "%s/empty-token", sa);
    KubeConfig empty = {.server = (char *)"http://127.0.0.1:1", .token_file = tp};
    CHECK(kube_client_new(e, &empty, &k) == -ENODATA && !k);
    KubeConfig noca = {.server = (char *)"https://127.0.0.1:1",
                       .ca_file = (char *)"/nonexistent/ca"};
    CHECK(kube_client_new(e, &noca, &k) == -ENOENT && !k);
    put("token", "abc\n");
    snprintf(tp, sizeof(tp), "%s/token", sa);
    KubeConfig ok = {.server = (char *)"http://127.0.0.1:1/", .token_file = tp};
    CHECK(kube_client_new(e, &ok, &k) == 0 && k);
    CHECK(eq(kube_client_namespace(k), "default"));
    /* Requests without a deadline or with bad names are refused up front. */
    CHECK(kube_lease_get(k, NULL, "x", 0, (kube_done_fn)abort, NULL, NULL) == -EINVAL);
    CHECK(kube_lease_get(k, NULL, "", 1000, (kube_done_fn)abort, NULL, NULL) == -EINVAL);
    CHECK(kube_lease_get(k, NULL, "..", 1000, (kube_done_fn)abort, NULL, NULL) == -EINVAL);
    CHECK(kube_client_in_flight(k) == 0);
    kube_client_free(k);
    sd_event_unref(e);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sa);
    if (system(cmd) != 0) failures++;
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_kube_config: ok\n");
    return 0;
}
