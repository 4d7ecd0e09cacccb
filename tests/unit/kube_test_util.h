/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared helpers of the API client's integration tests: waiting on the loop
 * for a callback, capturing the client's log (to prove the token never shows
 * up), and the test server's admin API over libcurl's easy interface (tests
 * only: blocking is fine here). */

#include <curl/curl.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "kube_client.h"

#include "check.h"

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- captured log ---- */
static char *logbuf;
static size_t loglen;

static void test_log(int level, const char *msg, void *ud)
{
    size_t n = strlen(msg);
    char *b = realloc(logbuf, loglen + n + 2);
    if (!b) abort();
    logbuf = b;
    memcpy(logbuf + loglen, msg, n);
    loglen += n;
    logbuf[loglen++] = '\n';
    logbuf[loglen] = 0;
    fprintf(stderr, "[kube %d] %s\n", level, msg);
}

static bool log_contains(const char *s)
{
    return logbuf && s && *s && strstr(logbuf, s);
}

/* ---- one outcome ---- */
typedef struct Outcome {
    bool done;
    int result;
    long http;
    uint64_t retry_after;
    uint64_t at; /* when the callback ran */
    char *body;
    char *error;
    char *status_message;
    KubeLease lease;
    bool has_lease;
} Outcome;

static void outcome_reset(Outcome *o)
{
    free(o->body);
    free(o->error);
    free(o->status_message);
    kube_lease_done(&o->lease);
    *o = (Outcome){.lease = KUBE_LEASE_INIT};
}

static void on_done(KubeClient *c, const KubeResponse *r, void *ud)
{
    Outcome *o = ud;
    if (o->done) {
        fprintf(stderr, "callback called twice\n");
        failures++;
    }
    o->done = true;
    o->at = mono_usec();
    o->result = r->result;
    o->http = r->http_status;
    o->retry_after = r->retry_after_usec;
    o->body = strndup(r->body ? r->body : "", r->body_len);
    o->error = r->error ? strdup(r->error) : NULL;
    o->status_message = r->status && r->status->message ? strdup(r->status->message) : NULL;
    if (r->lease) {
        if (kube_lease_copy(r->lease, &o->lease) < 0) abort();
        o->has_lease = true;
    }
    /* Everything a caller may log must be free of the token. */
    if (r->error && r->result != KUBE_OK) test_log(-1, r->error, NULL);
}

static void run_until(sd_event *e, const bool *flag, uint64_t timeout_usec)
{
    uint64_t end = mono_usec() + timeout_usec;
    while (!*flag && mono_usec() < end)
        if (sd_event_run(e, 50000) < 0) abort();
}

static void run_for(sd_event *e, uint64_t usec)
{
    uint64_t end = mono_usec() + usec;
    while (mono_usec() < end)
        if (sd_event_run(e, end - mono_usec()) < 0) abort();
}

/* ---- file helpers ---- */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    char tmp[4096];
    if (!f) return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        buf = realloc(buf, cap = len + n + 1);
        memcpy(buf + len, tmp, n);
        len += n;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    buf[len] = 0;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = 0;
    (void)cap;
    return buf;
}

static int write_file_atomic(const char *path, const char *content)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "we");
    if (!f) return -errno;
    fputs(content, f);
    fputs("\n", f);
    if (fclose(f) != 0) return -EIO;
    return rename(tmp, path) < 0 ? -errno : 0;
}

/* ---- admin API of the test server ---- */
typedef struct Buf {
    char *p;
    size_t n;
} Buf;

static size_t buf_write(char *d, size_t s, size_t m, void *ud)
{
    Buf *b = ud;
    b->p = realloc(b->p, b->n + s * m + 1);
    memcpy(b->p + b->n, d, s * m);
    b->n += s * m;
    b->p[b->n] = 0;
    return s * m;
}

/* Blocking request with the admin token (or `token` if non-NULL). */
static long http_call(const char *method, const char *path, const char *body, const char *token,
                      char **ret)
{
    const char *url = getenv("KUBEAPI_URL"), *ca = getenv("KUBEAPI_CA");
    const char *admin = getenv("KUBEAPI_ADMIN_TOKEN");
    char full[4096], auth[1024];
    struct curl_slist *h = NULL;
    Buf b = {};
    long code = 0;
    CURL *e = curl_easy_init();

    snprintf(full, sizeof(full), "%s%s", url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : admin);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, full);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (ca && strncmp(url, "https", 5) == 0) curl_easy_setopt(e, CURLOPT_CAINFO, ca);
    if (body) curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (ret)
        *ret = b.p ? b.p : strdup("");
    else
        free(b.p);
    return code;
}

static long admin(const char *method, const char *path, const char *body)
{
    char *out = NULL;
    long code = http_call(method, path, body, NULL, &out);
    if (code < 200 || code >= 300)
        fprintf(stderr, "admin %s %s: %ld %s\n", method, path, code, out);
    free(out);
    return code;
}

/* A number from a JSON text by a naive key search (test use only). */
static long long json_number_after(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    if (!p) return -1;
    p += strlen(key);
    while (*p == '"' || *p == ':' || *p == ' ')
        p++;
    return strtoll(p, NULL, 10);
}
