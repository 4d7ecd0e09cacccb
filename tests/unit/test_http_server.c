/* SPDX-License-Identifier: MIT */
/* The HTTP endpoint on a real sd-event loop with a fake provider, driven by
 * tests/integration/test_http.py over stdin/stdout:
 *
 *   test_http_server [--http ADDR:PORT] [--connections N] [--per-ip N] [--timeout S]
 *                    [--deadline S] [--routes legacy|metrics]
 *
 * prints "PORT <n>" once listening, then reads one command per line on stdin
 * and answers one line ("OK ..." or "ERR ...") on stdout:
 *   leader NAME MS      the known leader is NAME, its claim valid for MS ms
 *                       from now (real time: it lapses on its own)
 *   self MS             this daemon (SELF) is leader for MS ms
 *   none                no leader known
 *   api up|down         readiness callback
 *   wedge REASON|unwedge  liveness callback
 *   status-fail         get_status fails from now on (-EIO)
 *   renew               metrics: a renew now, an API request, a transition
 *   lateness            "OK <max ms> <ticks>": the worst lateness of a 20 ms
 *                       timer on the same loop since the last query
 *   quit
 * The timer proves the loop is never stalled by HTTP clients: a stuck loop
 * shows as lateness. EOF on stdin also quits. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "election_metrics.h"
#include "http_server.h"
#include "proto.h"
#include "util.h"

/* Not a substring of {"name":"..."}: the old probe greps for it. */
#define SELF "elector-7f9c"
#define TICK_USEC (20 * USEC_PER_MSEC)

typedef struct Fake {
    sd_event *event;
    char leader[PROTO_IDENTITY_MAX + 1];
    uint64_t deadline; /* CLOCK_MONOTONIC usec */
    bool api_up;
    bool wedged;
    char wedge_reason[128];
    bool status_fail;
    ElectionMetrics *metrics;
    char line[512];
    size_t line_len;
    uint64_t next_tick;
    uint64_t max_late;
    uint64_t ticks;
} Fake;

static uint64_t now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_to_usec(&ts);
}

static int fake_status(void *userdata, uint64_t now_usec, ProtoStatus *ret)
{
    Fake *f = userdata;
    uint64_t now = now_mono();

    if (f->status_fail) return -EIO;
    (void)proto_strcpy(ret->namespace_, sizeof ret->namespace_, "default");
    (void)proto_strcpy(ret->election, sizeof ret->election, "example");
    (void)proto_strcpy(ret->identity, sizeof ret->identity, SELF);
    (void)proto_strcpy(ret->hostname, sizeof ret->hostname, SELF "-host");
    (void)proto_strcpy(ret->leader, sizeof ret->leader, f->leader);
    ret->valid_ms = f->deadline > now ? (f->deadline - now) / USEC_PER_MSEC : 0;
    ret->is_leader = strcmp(f->leader, SELF) == 0 && ret->valid_ms > 0;
    ret->term = 7;
    ret->state = ret->is_leader ? PROTO_STATE_LEADING
                 : f->api_up    ? PROTO_STATE_FOLLOWING
                                : PROTO_STATE_API_UNREACHABLE;
    return 0;
}

static int fake_alive(void *userdata, const char **ret_reason)
{
    Fake *f = userdata;
    if (!f->wedged) return 0;
    *ret_reason = f->wedge_reason;
    return 1;
}

static int fake_ready(void *userdata, const char **ret_reason)
{
    Fake *f = userdata;
    if (f->api_up) return 0;
    *ret_reason = "kubernetes API not reached for 12s";
    return 1;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void command(Fake *f, char *line)
{
    char *arg = strchr(line, ' ');
    if (arg) *arg++ = 0;

    if (strcmp(line, "leader") == 0 || strcmp(line, "self") == 0) {
        const char *name = SELF;
        char *ms;
        if (!arg) {
            reply("ERR usage");
            return;
        }
        if (strcmp(line, "leader") == 0) {
            ms = strrchr(arg, ' ');
            if (!ms) {
                reply("ERR usage");
                return;
            }
            *ms++ = 0;
            name = arg;
        } else
            ms = arg;
        if (proto_strcpy(f->leader, sizeof f->leader, name) < 0) {
            reply("ERR too long");
            return;
        }
        f->deadline = now_mono() + strtoull(ms, NULL, 10) * USEC_PER_MSEC;
        reply("OK");
    } else if (strcmp(line, "none") == 0) {
        f->leader[0] = 0;
        f->deadline = 0;
        reply("OK");
    } else if (strcmp(line, "api") == 0 && arg) {
        f->api_up = strcmp(arg, "up") == 0;
        reply("OK");
    } else if (strcmp(line, "wedge") == 0 && arg) {
        f->wedged = true;
        snprintf(f->wedge_reason, sizeof f->wedge_reason, "%s", arg);
        reply("OK");
    } else if (strcmp(line, "unwedge") == 0) {
        f->wedged = false;
        reply("OK");
    } else if (strcmp(line, "status-fail") == 0) {
        f->status_fail = true;
        reply("OK");
    } else if (strcmp(line, "renew") == 0) {
        election_metrics_renewed(f->metrics, now_boot_usec());
        election_metrics_transition(f->metrics);
        election_metrics_api_request(f->metrics, "update", 200, 12000);
        election_metrics_api_request(f->metrics, "get", 0, 2500000);
        election_metrics_socket_request(f->metrics, "STATUS");
        election_metrics_set_socket_clients(f->metrics, 2);
        reply("OK");
    } else if (strcmp(line, "lateness") == 0) {
        reply("OK %.3f %" PRIu64, (double)f->max_late / 1000.0, f->ticks);
        f->max_late = 0;
        f->ticks = 0;
    } else if (strcmp(line, "quit") == 0) {
        reply("OK");
        sd_event_exit(f->event, 0);
    } else
        reply("ERR unknown command");
}

static int on_stdin(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    Fake *f = userdata;
    ssize_t n = read(fd, f->line + f->line_len, sizeof f->line - 1 - f->line_len);

    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        return sd_event_exit(f->event, 0);
    }
    f->line_len += (size_t)n;
    for (;;) {
        char *nl = memchr(f->line, '\n', f->line_len);
        size_t used;
        if (!nl) break;
        *nl = 0;
        used = (size_t)(nl - f->line) + 1;
        command(f, f->line);
        memmove(f->line, f->line + used, f->line_len - used);
        f->line_len -= used;
    }
    if (f->line_len == sizeof f->line - 1) f->line_len = 0; /* an overlong line: drop it */
    return 0;
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
    Fake *f = userdata;
    uint64_t now = now_mono();

    if (now > f->next_tick && now - f->next_tick > f->max_late) f->max_late = now - f->next_tick;
    f->ticks++;
    f->next_tick = now + TICK_USEC;
    (void)sd_event_source_set_time(src, f->next_tick);
    return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

int main(int argc, char **argv)
{
    HttpServerConfig config = {.listen = "127.0.0.1:0"};
    HttpProvider provider = {
        .get_status = fake_status, .check_alive = fake_alive, .check_ready = fake_ready};
    _cleanup_(http_server_freep) HttpServer *server = NULL;
    _cleanup_(election_metrics_freep) ElectionMetrics *metrics = NULL;
    sd_event_source *stdin_source = NULL, *tick = NULL;
    Fake f = {.api_up = true};
    int r, c;

    static const struct option options[] = {
        {"http", required_argument, NULL, 'h'},
        {"connections", required_argument, NULL, 'c'},
        {"per-ip", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"deadline", required_argument, NULL, 'd'},
        {"routes", required_argument, NULL, 'r'},
        {},
    };
    while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
        switch (c) {
        case 'h':
            config.listen = optarg;
            break;
        case 'c':
            config.connection_limit = (unsigned)atoi(optarg);
            break;
        case 'p':
            config.per_ip_limit = (unsigned)atoi(optarg);
            break;
        case 't':
            config.timeout_sec = (unsigned)atoi(optarg);
            break;
        case 'd':
            config.deadline_sec = (unsigned)atoi(optarg);
            break;
        case 'r':
            config.routes =
                strcmp(optarg, "metrics") == 0 ? HTTP_ROUTES_METRICS : HTTP_ROUTES_LEGACY;
            break;
        default:
            return 2;
        }
    }

    r = sd_event_default(&f.event);
    if (r < 0) return fprintf(stderr, "sd_event_default: %s\n", strerror(-r)), 1;
    r = election_metrics_new("example", &metrics);
    if (r < 0) return fprintf(stderr, "election_metrics_new: %s\n", strerror(-r)), 1;
    f.metrics = metrics;
    election_metrics_set_status(metrics, fake_status, &f);
    r = http_server_new(f.event, &config, &provider, &f, metrics, &server);
    if (r < 0) return fprintf(stderr, "http_server_new(%s): %s\n", config.listen, strerror(-r)), 1;
    r = sd_event_add_io(f.event, &stdin_source, STDIN_FILENO, EPOLLIN, on_stdin, &f);
    if (r < 0) return fprintf(stderr, "stdin: %s\n", strerror(-r)), 1;
    f.next_tick = now_mono() + TICK_USEC;
    r = sd_event_add_time(f.event, &tick, CLOCK_MONOTONIC, f.next_tick, 1, on_tick, &f);
    if (r < 0) return fprintf(stderr, "timer: %s\n", strerror(-r)), 1;

    printf("PORT %d\n", http_server_get_port(server));
    fflush(stdout);
    r = sd_event_loop(f.event);

    sd_event_source_disable_unref(stdin_source);
    sd_event_source_disable_unref(tick);
    server = http_server_free(server);
    sd_event_unref(f.event);
    return r < 0 ? 1 : 0;
}
