/* SPDX-License-Identifier: MIT */
#include "curl_event.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util.h"

/* Finished transfers reported per loop iteration: a burst of completions
 * never starves the socket server on the same loop. */
#define DRAIN_PER_ITERATION 8

typedef struct Transfer Transfer;
typedef struct Socket Socket;

struct Transfer {
    CurlEvent *ce;
    CURL *easy;
    curl_event_done_fn done;
    void *userdata;
    Transfer *prev, *next;
};

struct Socket {
    CurlEvent *ce;
    curl_socket_t fd;
    sd_event_source *io;
    Socket *prev, *next;
};

struct CurlEvent {
    sd_event *event;
    CURLM *multi;
    sd_event_source *timer;
    sd_event_source *defer;
    Transfer *transfers;
    Socket *sockets;
    unsigned n_transfers;
    bool freeing;
};

static int on_defer(sd_event_source *s, void *userdata);

static void socket_free(Socket *so)
{
    CurlEvent *ce = so->ce;

    if (so->prev)
        so->prev->next = so->next;
    else
        ce->sockets = so->next;
    if (so->next) so->next->prev = so->prev;
    sd_event_source_disable_unref(so->io);
    free(so);
}

/* Something happened inside libcurl that may have finished transfers: let
 * the defer source look once the current callback has returned. */
static void schedule_drain(CurlEvent *ce)
{
    if (ce->freeing || !ce->defer) return;
    (void)sd_event_source_set_enabled(ce->defer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    Socket *so = userdata;
    CurlEvent *ce = so->ce;
    int action = 0, running = 0;

    if (revents & (EPOLLIN | EPOLLPRI)) action |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT) action |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP)) action |= CURL_CSELECT_ERR;

    /* `so` may be freed by the socket callback inside this call. */
    (void)curl_multi_socket_action(ce->multi, fd, action, &running);
    schedule_drain(ce);
    return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    CurlEvent *ce = userdata;
    int running = 0;

    (void)curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    schedule_drain(ce);
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: only sd-event calls and curl_multi_assign()
 * (which libcurl allows here), never a transfer function. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    CurlEvent *ce = userp;
    Socket *so = socketp;
    uint32_t events = 0;
    int r;

    if (what == CURL_POLL_REMOVE) {
        if (so) {
            if (!ce->freeing) curl_multi_assign(ce->multi, fd, NULL);
            socket_free(so);
        }
        return 0;
    }
    if (ce->freeing) return -1;

    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;

    if (so) {
        r = sd_event_source_set_io_events(so->io, events);
        if (r >= 0) r = sd_event_source_set_enabled(so->io, SD_EVENT_ON);
        return r < 0 ? -1 : 0;
    }

    so = calloc(1, sizeof(*so));
    if (!so) return -1;
    so->ce = ce;
    so->fd = fd;
    /* Fails with -ESTALE once the loop has finished: curl then fails the
     * transfer instead of waiting on a loop that will never run. */
    r = sd_event_add_io(ce->event, &so->io, fd, events, on_io, so);
    if (r < 0) {
        free(so);
        return -1;
    }
    (void)sd_event_source_set_description(so->io, "curl-io");
    if (curl_multi_assign(ce->multi, fd, so) != CURLM_OK) {
        sd_event_source_disable_unref(so->io);
        free(so);
        return -1;
    }
    so->next = ce->sockets;
    if (so->next) so->next->prev = so;
    ce->sockets = so;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "as soon as
 * possible" (from the loop, never by calling back into libcurl here). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    CurlEvent *ce = userp;
    uint64_t now;
    int r;

    if (ce->freeing) return 0;
    if (timeout_ms < 0) {
        if (ce->timer) (void)sd_event_source_set_enabled(ce->timer, SD_EVENT_OFF);
        return 0;
    }
    r = sd_event_now(ce->event, CLOCK_BOOTTIME, &now);
    if (r < 0) return -1;
    now += (uint64_t)timeout_ms * USEC_PER_MSEC;

    if (ce->timer) {
        r = sd_event_source_set_time(ce->timer, now);
        if (r >= 0) r = sd_event_source_set_enabled(ce->timer, SD_EVENT_ONESHOT);
        return r < 0 ? -1 : 0;
    }
    r = sd_event_add_time(ce->event, &ce->timer, CLOCK_BOOTTIME, now, USEC_PER_MSEC, on_timer, ce);
    if (r < 0) return -1;
    (void)sd_event_source_set_description(ce->timer, "curl-timer");
    return 0;
}

static void transfer_unlink(Transfer *t)
{
    CurlEvent *ce = t->ce;

    if (t->prev)
        t->prev->next = t->next;
    else
        ce->transfers = t->next;
    if (t->next) t->next->prev = t->prev;
    ce->n_transfers--;
}

static int on_defer(sd_event_source *s, void *userdata)
{
    CurlEvent *ce = userdata;
    int left = 0;

    for (int i = 0; i < DRAIN_PER_ITERATION; i++) {
        CURLMsg *msg = curl_multi_info_read(ce->multi, &left);
        Transfer *t = NULL;

        if (!msg) return 0;
        if (msg->msg != CURLMSG_DONE) continue;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK || !t)
            continue;
        CURLcode result = msg->data.result;
        CURL *easy = t->easy;
        curl_event_done_fn done = t->done;
        void *ud = t->userdata;

        /* msg is invalid after the remove; everything needed was copied. */
        curl_multi_remove_handle(ce->multi, easy);
        transfer_unlink(t);
        free(t);
        done(ce, easy, result, ud);
    }
    /* More queued: come back on the next iteration. */
    if (left > 0) schedule_drain(ce);
    return 0;
}

int curl_event_new(sd_event *event, CurlEvent **ret)
{
    CurlEvent *ce;
    int r;

    if (!event || !ret) return -EINVAL;
    ce = calloc(1, sizeof(*ce));
    if (!ce) return -ENOMEM;
    ce->event = sd_event_ref(event);
    ce->multi = curl_multi_init();
    if (!ce->multi) {
        r = -ENOMEM;
        goto fail;
    }
    if (curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce) != CURLM_OK ||
        curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce) != CURLM_OK ||
        curl_multi_setopt(ce->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK) {
        r = -EIO;
        goto fail;
    }
    r = sd_event_add_defer(event, &ce->defer, on_defer, ce);
    if (r < 0) goto fail;
    (void)sd_event_source_set_enabled(ce->defer, SD_EVENT_OFF);
    (void)sd_event_source_set_description(ce->defer, "curl-done");
    *ret = ce;
    return 0;
fail:
    curl_event_free(ce);
    return r;
}

CurlEvent *curl_event_free(CurlEvent *ce)
{
    if (!ce) return NULL;
    ce->freeing = true;
    while (ce->transfers) {
        Transfer *t = ce->transfers;
        curl_multi_remove_handle(ce->multi, t->easy);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, NULL);
        transfer_unlink(t);
        free(t);
    }
    /* The cleanup closes cached connections and reports their sockets as
     * removed; socket_cb frees our entries without touching the loop. */
    if (ce->multi) curl_multi_cleanup(ce->multi);
    while (ce->sockets)
        socket_free(ce->sockets);
    sd_event_source_disable_unref(ce->timer);
    sd_event_source_disable_unref(ce->defer);
    sd_event_unref(ce->event);
    free(ce);
    return NULL;
}

int curl_event_add(CurlEvent *ce, CURL *easy, curl_event_done_fn done, void *userdata)
{
    Transfer *t;
    int state;

    if (!ce || !easy || !done) return -EINVAL;
    if (ce->freeing) return -ESHUTDOWN;
    state = sd_event_get_state(ce->event);
    if (state == SD_EVENT_FINISHED || state < 0) return -ESHUTDOWN;

    t = calloc(1, sizeof(*t));
    if (!t) return -ENOMEM;
    t->ce = ce;
    t->easy = easy;
    t->done = done;
    t->userdata = userdata;
    if (curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK) {
        free(t);
        return -EIO;
    }
    if (curl_multi_add_handle(ce->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        return -EIO;
    }
    t->next = ce->transfers;
    if (t->next) t->next->prev = t;
    ce->transfers = t;
    ce->n_transfers++;
    return 0;
}

int curl_event_remove(CurlEvent *ce, CURL *easy)
{
    Transfer *t = NULL;

    if (!ce || !easy) return -EINVAL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK || !t || t->ce != ce)
        return -ENOENT;
    curl_multi_remove_handle(ce->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    transfer_unlink(t);
    free(t);
    return 0;
}

unsigned curl_event_count(const CurlEvent *ce)
{
    return ce ? ce->n_transfers : 0;
}

sd_event *curl_event_get_event(const CurlEvent *ce)
{
    return ce->event;
}

CURLM *curl_event_get_multi(const CurlEvent *ce)
{
    return ce->multi;
}
