/* SPDX-License-Identifier: MIT */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

/* libcurl's multi interface driven by an sd-event loop, after systemd's
 * curl-util.c: one object owns the CURLM, one timer (CLOCK_BOOTTIME) for
 * curl's timeouts, one io source per socket curl asks to watch (kept with
 * curl_multi_assign), and a defer source that reads finished transfers and
 * reports them a few per loop iteration. Generic: any HTTP(S) transfer (the
 * API client, health checks) runs through it.
 *
 * Rules that keep libcurl happy:
 * - libcurl is never re-entered from its own callbacks: the done callback
 *   runs from the defer source, where the caller may add, remove or free
 *   handles freely. Write/header callbacks of the easy handles must not call
 *   curl_event_*() either (defer work to the loop; see kube_client.c).
 * - After curl_event_remove() the handle's done callback is never called.
 * - curl_event_free() removes every handle still running without calling
 *   their callbacks (the handles remain the caller's to clean up), then
 *   drops the loop sources: the shutdown guard, no callback fires once
 *   teardown started.
 * - curl_event_add() refuses (-ESHUTDOWN) once the loop has finished; a
 *   socket curl opens then fails its transfer instead of waiting forever. */

typedef struct CurlEvent CurlEvent;

/* result: CURLE_OK or the transfer's error. The handle is already removed
 * from the multi when this runs; the callee owns it again. */
typedef void (*curl_event_done_fn)(CurlEvent *ce, CURL *easy, CURLcode result, void *userdata);

int curl_event_new(sd_event *event, CurlEvent **ret);
CurlEvent *curl_event_free(CurlEvent *ce);
static inline void curl_event_freep(CurlEvent **ce)
{
    curl_event_free(*ce);
}

/* Starts a transfer. Uses CURLOPT_PRIVATE of the handle. Returns 0, -ENOMEM,
 * -EIO if libcurl refuses, -ESHUTDOWN if the loop has finished. */
int curl_event_add(CurlEvent *ce, CURL *easy, curl_event_done_fn done, void *userdata);
/* Stops a transfer without calling its done callback; the caller still owns
 * (and frees) the handle. Returns 0 or -ENOENT if it was not running. */
int curl_event_remove(CurlEvent *ce, CURL *easy);

/* Number of running transfers. */
unsigned curl_event_count(const CurlEvent *ce);
sd_event *curl_event_get_event(const CurlEvent *ce);
CURLM *curl_event_get_multi(const CurlEvent *ce); /* for curl_multi_setopt() tuning */
