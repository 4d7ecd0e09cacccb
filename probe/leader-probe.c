/* SPDX-License-Identifier: MIT */
/* leader-probe: asks the leader-elector daemon of this pod, over its Unix
 * socket, whether this pod is the leader right now. The exec readinessProbe
 * that replaces `curl -s http://localhost:4040/ | grep -q "$HOSTNAME"`.
 *
 * Built static with musl (a scratch or distroless image has no loader), no
 * heap: every buffer is on the stack or static. Fails closed: anything other
 * than a clear, well-formed "this pod leads" is a non-zero exit. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "proto.h"
#include "time_units.h"

#ifndef LE_VERSION
#define LE_VERSION "unknown"
#endif

enum {
    EXIT_LEADER = 0,
    EXIT_NOT_LEADER = 1,
    EXIT_UNREACHABLE = 2,
    EXIT_USAGE = 64,
};

#define DEFAULT_TIMEOUT_USEC (800 * USEC_PER_MSEC)
#define TIMEOUT_MAX_USEC (100000 * USEC_PER_HOUR)
/* While --wait waits for a daemon that is not there yet. */
#define WAIT_RETRY_USEC (200 * USEC_PER_MSEC)
#define NO_DEADLINE UINT64_MAX
/* The daemon reads CLOCK_BOOTTIME before the probe does and both round down
 * to the millisecond, so a boottime_ms ahead of the probe's own reading can
 * only be rounding; more than this cannot be a reading of this kernel's clock. */
#define BOOTTIME_SLACK_MS UINT64_C(100)

static const char *program = "leader-probe";

static void help(void)
{
    printf("Usage: %s [OPTIONS]\n"
           "\n"
           "Asks the leader-elector daemon of this pod, over its Unix socket, whether this pod\n"
           "is the leader right now. Meant as the exec readinessProbe of the application\n"
           "container, so that only the leader receives traffic, and as a start gate.\n"
           "\n"
           "This pod is the leader when the daemon answers that it holds the lease at the\n"
           "moment of the answer (is_leader, with time left on its claim) and the daemon is\n"
           "this pod's: its hostname equals this host's name (every container of a pod shares\n"
           "it), or with --id its identity equals NAME. A socket of another pod, mounted by\n"
           "mistake, never makes this pod ready. Anything unclear fails closed.\n"
           "A line that carries boottime_ms is no claim once it is as old as its valid_ms\n"
           "(its age on CLOCK_BOOTTIME, which the containers of a pod share: exit 1), and a\n"
           "boottime_ms ahead of this kernel's clock fails closed (exit 2).\n"
           "\n"
           "Options:\n"
           "  -s, --socket PATH      the daemon's socket (default: $%s, else\n"
           "                         %s)\n"
           "  -i, --id NAME          compare the daemon's identity with NAME instead of\n"
           "                         comparing its hostname with this host's name\n"
           "  -t, --timeout DURATION give up after DURATION: Go syntax (800ms, 1s, 1m30s) or\n"
           "                         plain seconds (0.5); default 800ms, under the kubelet's\n"
           "                         default probe timeout of 1s. With --wait: no limit unless\n"
           "                         given\n"
           "  -p, --print            print the leader's identity (an empty line when none is\n"
           "                         known), like `curl -s localhost:4040 | jq -r .name`\n"
           "  -j, --json             print the daemon's status line (JSON, see PROTOCOL.md)\n"
           "  -w, --wait             wait until this pod is the leader, then exit 0: watches\n"
           "                         the daemon (WATCH) and waits for it to come up. A start\n"
           "                         gate only: an application that must stop when it loses\n"
           "                         the lease keeps its own WATCH open (PROTOCOL.md)\n"
           "  -a, --alive            the daemon's liveness, not the leadership: exit 0 when\n"
           "                         it answers a well-formed status line within the timeout,\n"
           "                         whether this pod leads or not, 2 when it does not. The\n"
           "                         sidecar's livenessProbe: the socket is private to the pod,\n"
           "                         unlike a port that any pod can fill with connections\n"
           "  -h, --help             show this help\n"
           "  -V, --version          show the version\n"
           "\n"
           "Exit status (the same with --print, --json and --wait):\n"
           "  0   this pod is the leader (with --alive: the daemon answered)\n"
           "  1   it is not (or, with --wait, not yet when the timeout passed; never with\n"
           "      --alive)\n"
           "  2   no usable answer: no daemon on the socket, no answer within the timeout,\n"
           "      an answer that cannot be parsed or an error reply; one line on stderr\n"
           "  64  usage error; one line on stderr\n"
           "\n"
           "Examples:\n"
           "  readinessProbe:\n"
           "    exec:\n"
           "      command: [\"/shared/leader-probe\"]\n"
           "    periodSeconds: 1\n"
           "\n"
           "  %s --print                        # who leads?\n"
           "  %s --json --socket /run/le.sock   # the full status\n"
           "  %s --wait && exec my-app          # start only on the leader\n"
           "  %s --wait --timeout 5m || exit 1\n"
           "  livenessProbe:                     # in the sidecar, whose image has the probe\n"
           "    exec:\n"
           "      command: [\"/usr/bin/leader-probe\", \"--alive\"]\n",
           program, PROTO_SOCKET_ENV, PROTO_SOCKET_DEFAULT, program, program, program, program);
}

/* CLOCK_BOOTTIME in ms: the clock of the status lines' boottime_ms. */
static uint64_t now_boot_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * MSEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_MSEC;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

/* Milliseconds to poll() until deadline, rounded up; -1 for none. */
static int poll_timeout(uint64_t deadline)
{
    uint64_t now;
    if (deadline == NO_DEADLINE) return -1;
    now = now_usec();
    if (now >= deadline) return 0;
    uint64_t ms = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
    return ms > 1000000 ? 1000000 : (int)ms;
}

static void sleep_until(uint64_t t)
{
    for (;;) {
        uint64_t now = now_usec();
        if (now >= t) return;
        struct timespec ts = {.tv_sec = (time_t)((t - now) / USEC_PER_SEC),
                              .tv_nsec = (long)((t - now) % USEC_PER_SEC * NSEC_PER_USEC)};
        nanosleep(&ts, NULL);
    }
}

typedef struct Probe {
    const char *socket_path;
    const char *id; /* --id, or NULL */
    char hostname[PROTO_HOSTNAME_MAX + 1];
    uint64_t deadline; /* CLOCK_MONOTONIC usec, or NO_DEADLINE */
    bool print;
    bool json;
    bool wait;
    bool alive;        /* --alive: any well-formed status line will do */
    bool warned_other; /* said once that the socket is another pod's */
    bool lapsed;       /* the line judged last is older than its valid_ms */
    char why[160];     /* the last reason for exit 2 */
} Probe;

/* Concatenates the n strings of parts (NULL ones skipped) into p->why,
 * truncated. No snprintf: keep the static binary small. */
static void set_why_parts(Probe *p, const char *const *parts, size_t n_parts)
{
    size_t n = 0;
    for (size_t i = 0; i < n_parts; i++) {
        if (!parts[i]) continue;
        size_t l = strlen(parts[i]);
        if (l > sizeof(p->why) - 1 - n) l = sizeof(p->why) - 1 - n;
        memcpy(p->why + n, parts[i], l);
        n += l;
    }
    p->why[n] = 0;
}

static void set_why(Probe *p, const char *what, const char *detail)
{
    const char *parts[] = {what, detail ? ": " : NULL, detail};
    set_why_parts(p, parts, 3);
}

/* v in decimal into buf (at least 21 bytes); returns buf. */
static const char *u64_str(uint64_t v, char *buf)
{
    char *q = buf + 20;
    *q = 0;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return q;
}

/* Connects to the socket before the deadline. Returns the fd, or -errno. */
static int probe_connect(Probe *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t l = strlen(p->socket_path);
    int fd, r;

    memcpy(sa.sun_path, p->socket_path, l);
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        r = connect(fd, (struct sockaddr *)&sa,
                    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + 1));
        if (r == 0) return fd;
        r = -errno;
        close(fd);
        /* EAGAIN: the listen backlog is full; the daemon is alive but busy. */
        if (r != -EAGAIN || poll_timeout(p->deadline) == 0) return r;
        sleep_until(now_usec() + 5000);
    }
}

static int write_all(Probe *p, int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -errno;
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int t = poll_timeout(p->deadline);
            if (t == 0) return -ETIMEDOUT;
            if (poll(&pfd, 1, t) < 0 && errno != EINTR) return -errno;
            continue;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct LineReader {
    char buf[PROTO_REPLY_MAX + 1];
    size_t n;            /* bytes in buf */
    size_t used;         /* bytes of the line handed out last, dropped on the next call */
    uint64_t spin_until; /* see read_line() */
    bool spun;
} LineReader;

/* How long read_line() yields to the daemon before it sleeps for its first reply. */
#define SPIN_USEC 200

/* Reads the next line (its '\n' included, not NUL-terminated). Returns its
 * length, 0 on EOF before a complete line, or -errno (-ETIMEDOUT,
 * -EMSGSIZE for a line longer than PROTO_REPLY_MAX). */
static ssize_t read_line(Probe *p, int fd, LineReader *lr, const char **ret_line)
{
    if (lr->used > 0) {
        memmove(lr->buf, lr->buf + lr->used, lr->n - lr->used);
        lr->n -= lr->used;
        lr->used = 0;
    }
    for (;;) {
        char *nl = memchr(lr->buf, '\n', lr->n);
        if (nl) {
            size_t l = (size_t)(nl - lr->buf) + 1;
            if (l > PROTO_REPLY_MAX) return -EMSGSIZE;
            /* Dropped on the next call; the caller gets (line, length). */
            lr->used = l;
            *ret_line = lr->buf;
            return (ssize_t)l;
        }
        if (lr->n >= PROTO_REPLY_MAX) return -EMSGSIZE;
        ssize_t r = recv(fd, lr->buf + lr->n, PROTO_REPLY_MAX - lr->n, 0);
        if (r == 0) return 0;
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -errno;
            /* The first reply usually comes within microseconds: yield to the daemon for up
             * to SPIN_USEC instead of sleeping in poll(), which costs a wake-up, often on the
             * other CPU (about a third of the probe's time where it was measured). Once per
             * reader: a WATCH stream waiting for news sleeps at once. */
            if (!lr->spun) {
                uint64_t t = now_usec();
                if (!lr->spin_until) lr->spin_until = t + SPIN_USEC;
                if (t < lr->spin_until && t < p->deadline) {
                    sched_yield();
                    continue;
                }
                lr->spun = true;
            }
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int t = poll_timeout(p->deadline);
            if (t == 0) return -ETIMEDOUT;
            if (poll(&pfd, 1, t) < 0 && errno != EINTR) return -errno;
            continue;
        }
        lr->n += (size_t)r;
    }
}

typedef enum Verdict {
    VERDICT_LEADER,
    VERDICT_NOT_LEADER,
    VERDICT_BAD, /* exit 2, p->why says why */
} Verdict;

/* VERDICT_NOT_LEADER when line is a well-formed status line (leadership not
 * judged yet), VERDICT_BAD otherwise. */
static Verdict parse_status(Probe *p, const char *line, size_t len, ProtoReply *reply)
{
    int r = proto_reply_parse(line, len, reply);
    if (r == -EPROTONOSUPPORT) {
        set_why(p, "unsupported protocol version in the reply", NULL);
        return VERDICT_BAD;
    }
    if (r < 0) {
        set_why(p, "unparseable reply", strerror(-r));
        return VERDICT_BAD;
    }
    if (reply->type == PROTO_REPLY_ERROR) {
        set_why(p, "daemon answered with an error", reply->error_name);
        return VERDICT_BAD;
    }
    if (reply->type != PROTO_REPLY_STATUS) {
        set_why(p, "unexpected reply", NULL);
        return VERDICT_BAD;
    }
    return VERDICT_NOT_LEADER;
}

static Verdict judge(Probe *p, const char *line, size_t len, ProtoReply *reply)
{
    if (parse_status(p, line, len, reply) == VERDICT_BAD) return VERDICT_BAD;

    const ProtoStatus *s = &reply->status;
    if (s->is_leader && strcmp(s->leader, s->identity) != 0) {
        set_why(p, "inconsistent reply: is_leader but the leader is another identity", NULL);
        return VERDICT_BAD;
    }
    /* The line's age (PROTOCOL.md, "Validity"): the daemon wrote it at
     * boottime_ms on the CLOCK_BOOTTIME that every container of the pod
     * shares; the line may have waited in the socket since. Without
     * boottime_ms (optional) only valid_ms counts. */
    p->lapsed = false;
    if (s->boottime_ms > 0) {
        uint64_t now = now_boot_ms();
        if (s->boottime_ms > now + BOOTTIME_SLACK_MS) {
            char a[21], b[21];
            const char *parts[] = {"the reply's boottime_ms (", u64_str(s->boottime_ms, a),
                                   ") is in the future of this kernel's CLOCK_BOOTTIME (",
                                   u64_str(now, b), "): not a reading of this pod's clock"};
            set_why_parts(p, parts, 5);
            return VERDICT_BAD;
        }
        p->lapsed = now >= s->boottime_ms && now - s->boottime_ms >= s->valid_ms;
    }
    /* A claim with no time left is no claim. */
    if (!s->is_leader || s->valid_ms == 0 || p->lapsed) return VERDICT_NOT_LEADER;
    if (p->id ? strcmp(s->identity, p->id) != 0 : strcmp(s->hostname, p->hostname) != 0) {
        /* Exit 1, but worth a line: a socket of another pod is mounted here. */
        if (!p->warned_other)
            fprintf(stderr, "%s: the daemon on %s is %s '%s', not '%s'\n", program, p->socket_path,
                    p->id ? "identity" : "host", p->id ? s->identity : s->hostname,
                    p->id ? p->id : p->hostname);
        p->warned_other = true;
        return VERDICT_NOT_LEADER;
    }
    return VERDICT_LEADER;
}

static void output(const Probe *p, const char *line, size_t len, const ProtoReply *reply)
{
    if (p->json) fwrite(line, 1, len, stdout);
    /* A view older than its valid_ms names nobody. */
    if (p->print && reply->type == PROTO_REPLY_STATUS)
        printf("%s\n", p->lapsed ? "" : reply->status.leader);
    fflush(stdout);
}

static int run_status(Probe *p)
{
    LineReader lr = {.n = 0};
    ProtoReply reply;
    const char *line;
    int fd, r;

    fd = probe_connect(p);
    if (fd < 0) {
        set_why(p, p->socket_path, strerror(-fd));
        return EXIT_UNREACHABLE;
    }
    r = write_all(p, fd, "STATUS\n", 7);
    if (r < 0) {
        close(fd);
        set_why(p, r == -ETIMEDOUT ? "no answer within the timeout" : "sending the request",
                r == -ETIMEDOUT ? NULL : strerror(-r));
        return EXIT_UNREACHABLE;
    }
    ssize_t l = read_line(p, fd, &lr, &line);
    close(fd);
    if (l == 0) {
        set_why(p, "the daemon closed the connection without an answer", NULL);
        return EXIT_UNREACHABLE;
    }
    if (l < 0) {
        set_why(p,
                l == -ETIMEDOUT  ? "no answer within the timeout"
                : l == -EMSGSIZE ? "reply longer than the protocol allows"
                                 : "reading the reply",
                l == -ETIMEDOUT || l == -EMSGSIZE ? NULL : strerror((int)-l));
        return EXIT_UNREACHABLE;
    }
    if (p->alive) {
        /* Alive: it answered a status line, whoever leads and however old. */
        if (parse_status(p, line, (size_t)l, &reply) == VERDICT_BAD) return EXIT_UNREACHABLE;
        output(p, line, (size_t)l, &reply);
        return EXIT_LEADER;
    }
    switch (judge(p, line, (size_t)l, &reply)) {
    case VERDICT_LEADER:
        output(p, line, (size_t)l, &reply);
        return EXIT_LEADER;
    case VERDICT_NOT_LEADER:
        output(p, line, (size_t)l, &reply);
        return EXIT_NOT_LEADER;
    default:
        return EXIT_UNREACHABLE;
    }
}

/* --wait: follow WATCH until a status says this pod leads. Reconnects while
 * the daemon is not up (yet) or restarts. */
static int run_wait(Probe *p)
{
    bool answered = false; /* some daemon said "not leader" */

    set_why(p, "no answer within the timeout", NULL);
    for (;;) {
        uint64_t attempt = now_usec();
        int fd = probe_connect(p);

        if (fd < 0) {
            set_why(p, p->socket_path, strerror(-fd));
        } else if (write_all(p, fd, "WATCH\n", 6) < 0) {
            close(fd);
            set_why(p, "sending the request failed", NULL);
        } else {
            LineReader lr = {.n = 0};
            for (;;) {
                ProtoReply reply;
                const char *line;
                ssize_t l = read_line(p, fd, &lr, &line);
                if (l == 0) {
                    set_why(p, "the daemon closed the connection", NULL);
                    break;
                }
                if (l == -ETIMEDOUT) {
                    close(fd);
                    return answered ? EXIT_NOT_LEADER : EXIT_UNREACHABLE;
                }
                if (l < 0) {
                    close(fd);
                    set_why(p,
                            l == -EMSGSIZE ? "reply longer than the protocol allows"
                                           : "reading the reply",
                            l == -EMSGSIZE ? NULL : strerror((int)-l));
                    return EXIT_UNREACHABLE;
                }
                reply.type = 0; /* judge() leaves it untouched on a parse error */
                Verdict v = judge(p, line, (size_t)l, &reply);
                /* A daemon at its client bound: try again like a daemon
                 * that is not up yet. */
                if (v == VERDICT_BAD && reply.type == PROTO_REPLY_ERROR &&
                    reply.error == PROTO_ERROR_BUSY)
                    break;
                if (v == VERDICT_BAD) {
                    close(fd);
                    return EXIT_UNREACHABLE;
                }
                if (v == VERDICT_LEADER) {
                    close(fd);
                    output(p, line, (size_t)l, &reply);
                    return EXIT_LEADER;
                }
                answered = true;
            }
            close(fd);
        }
        if (poll_timeout(p->deadline) == 0) return answered ? EXIT_NOT_LEADER : EXIT_UNREACHABLE;
        uint64_t next = attempt + WAIT_RETRY_USEC;
        if (p->deadline != NO_DEADLINE && next > p->deadline) next = p->deadline;
        sleep_until(next);
    }
}

static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s%s%s (try --help)\n", program, what, detail ? ": " : "",
            detail ? detail : "");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},  {"id", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'}, {"print", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},          {"wait", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {"version", no_argument, NULL, 'V'},
        {"alive", no_argument, NULL, 'a'},         {NULL, 0, NULL, 0},
    };
    Probe p = {.socket_path = NULL};
    uint64_t timeout = DEFAULT_TIMEOUT_USEC;
    bool timeout_given = false;
    int c, r;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:i:t:pjwahV", options, NULL)) >= 0) {
        switch (c) {
        case 's':
            p.socket_path = optarg;
            break;
        case 'i':
            if (!*optarg || strlen(optarg) > PROTO_IDENTITY_MAX)
                return usage_error("--id must be 1 to 253 bytes", NULL);
            p.id = optarg;
            break;
        case 't':
            r = duration_parse_max(optarg, TIMEOUT_MAX_USEC, &timeout);
            if (r < 0 || timeout == 0)
                return usage_error("invalid --timeout (e.g. 800ms, 1s, 2.5)", optarg);
            timeout_given = true;
            break;
        case 'p':
            p.print = true;
            break;
        case 'j':
            p.json = true;
            break;
        case 'w':
            p.wait = true;
            break;
        case 'a':
            p.alive = true;
            break;
        case 'h':
            help();
            return 0;
        case 'V':
            printf("%s %s (protocol %d)\n", program, LE_VERSION, PROTO_VERSION);
            return 0;
        case ':':
            return usage_error("option needs an argument", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("unexpected argument", argv[optind]);
    if (p.print && p.json) return usage_error("--print and --json exclude each other", NULL);
    if (p.alive && p.wait) return usage_error("--alive and --wait exclude each other", NULL);

    if (!p.socket_path) {
        const char *e = getenv(PROTO_SOCKET_ENV);
        p.socket_path = e && *e ? e : PROTO_SOCKET_DEFAULT;
    }
    if (!*p.socket_path || strlen(p.socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return usage_error("socket path empty or longer than 107 bytes", p.socket_path);

    if (!p.id) {
        struct utsname u;
        if (uname(&u) < 0 || proto_strcpy(p.hostname, sizeof(p.hostname), u.nodename) < 0) {
            fprintf(stderr, "%s: cannot read this host's name\n", program);
            return EXIT_UNREACHABLE;
        }
    }

    p.deadline = p.wait && !timeout_given ? NO_DEADLINE : now_usec() + timeout;
    r = p.wait ? run_wait(&p) : run_status(&p);
    if (r == EXIT_UNREACHABLE) fprintf(stderr, "%s: %s\n", program, p.why);
    return r;
}
