/* SPDX-License-Identifier: MIT */
/* leader-run: runs a command only while this pod is the leader, for applications that cannot
 * be changed to follow the daemon's socket themselves. Keeps a WATCH open (proto/PROTOCOL.md),
 * starts the command when this pod leads, stops it (SIGTERM, then SIGKILL) when leadership is
 * lost, the claim runs out or the daemon goes away, and starts it again when leadership
 * returns.
 *
 * The command is dead before the claim it ran under runs out: its SIGKILL deadline is never
 * later than the end of the last leader line's valid_ms (on CLOCK_BOOTTIME, which the lines'
 * boottime_ms share) minus a margin. And the handoff waits for it: status lines are read with
 * MSG_PEEK, and a "not leader" line is consumed only once the command has exited. The daemon
 * releases the Lease after a voluntary step-down only once every WATCH client has read that
 * line (daemon/sock_server.c, sock_server_claims_until()), so no other pod starts leading
 * while the command still runs.
 *
 * Built static with musl like leader-probe (probe/leader-probe.c): no heap, no threads, one
 * poll() loop over a signalfd and the socket. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "proto.h"
#include "time_units.h"

#ifndef LE_VERSION
#define LE_VERSION "unknown"
#endif

enum {
    EXIT_CLEAN = 0,       /* stopped by SIGTERM/SIGINT, the command exited in time */
    EXIT_FAILURE_ = 1,    /* the command had to be SIGKILLed on the way out; a system error */
    EXIT_UNREACHABLE = 2, /* --no-wait: no daemon at start */
    EXIT_USAGE = 64,
    EXIT_NOEXEC = 126,
    EXIT_NOTFOUND = 127,
};

#define DEFAULT_GRACE_USEC (10 * USEC_PER_SEC)
/* The command is SIGKILLed this long before its claim ends: time for the kill to take effect
 * and for the daemon's clock reading, rounded down to the millisecond, to be behind ours. */
#define MARGIN_USEC (100 * USEC_PER_MSEC)
#define RECONNECT_USEC (200 * USEC_PER_MSEC)
/* While the command is dead but other processes of its group are still exiting. */
#define GROUP_RECHECK_USEC (5 * USEC_PER_MSEC)
/* A boottime_ms further ahead of our clock than this is no reading of this kernel's clock. */
#define BOOTTIME_SLACK_USEC (100 * USEC_PER_MSEC)
#define NEVER UINT64_MAX

static const char *program = "leader-run";

static void help(void)
{
    printf("Usage: %s [OPTIONS] -- COMMAND [ARGS...]\n"
           "\n"
           "Runs COMMAND only while this pod is the leader, for an application that cannot\n"
           "follow the leader-elector daemon's socket itself. Keeps a WATCH open on the\n"
           "socket; starts COMMAND when the daemon says this pod leads (its hostname equals\n"
           "this host's name, or with --id its identity equals NAME: the rule of leader-probe);\n"
           "stops it when leadership is lost, when the daemon sends no fresh leader line in time,\n"
           "when the connection drops or the daemon goes away; starts it again when this pod\n"
           "leads again.\n"
           "\n"
           "Stopping: SIGTERM to COMMAND, then SIGKILL to its process group at the earlier of\n"
           "the grace period and the end of the claim it ran under (the last leader line's\n"
           "boottime_ms + valid_ms, less %llu ms): COMMAND is dead before that claim runs out.\n"
           "Without a fresh leader line (the daemon renews every retry period), SIGTERM comes\n"
           "once half of the claim's time, at most the grace period, is left.\n"
           "Handoff: status lines are read with MSG_PEEK, and a \"not leader\" line is consumed\n"
           "only once COMMAND has exited; the daemon releases the Lease only after every WATCH\n"
           "client has read that line, so another pod starts leading only after COMMAND here is\n"
           "dead.\n"
           "\n"
           "SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to COMMAND. SIGTERM and SIGINT\n"
           "are forwarded too, and leader-run exits once COMMAND has stopped (SIGKILL at the same\n"
           "deadline). leader-run reaps every process that ends up as its child (it is a child\n"
           "subreaper, and can run as PID 1). While the daemon is unreachable it retries every\n"
           "%llu ms (COMMAND does not run meanwhile).\n"
           "\n"
           "Options:\n"
           "  -s, --socket PATH      the daemon's socket (default: $%s, else\n"
           "                         %s)\n"
           "  -i, --id NAME          compare the daemon's identity with NAME instead of\n"
           "                         comparing its hostname with this host's name\n"
           "  -g, --grace DURATION   time between SIGTERM and SIGKILL (Go syntax: 10s, 500ms,\n"
           "                         1m; or plain seconds); default 10s. The end of the claim\n"
           "                         may come first\n"
           "  -n, --no-wait          exit 2 when no daemon answers at start instead of waiting\n"
           "  -h, --help             show this help\n"
           "  -V, --version          show the version\n"
           "\n"
           "Exit status:\n"
           "  0    stopped by SIGTERM or SIGINT, and COMMAND (if it ran) exited before SIGKILL\n"
           "  1    stopped by SIGTERM or SIGINT, but COMMAND had to be SIGKILLed; or a system\n"
           "       call failed (one line on stderr)\n"
           "  2    --no-wait and no daemon answered on the socket at start\n"
           "  64   usage error\n"
           "  126  COMMAND is not executable; 127: not found (checked at start)\n"
           "  N    COMMAND exited on its own with status N (128+S when killed by signal S)\n"
           "       while this pod led: leader-run exits with it, and the container's restart\n"
           "       policy decides what comes next\n"
           "\n"
           "Example (the application container's command, the volume shared with the daemon):\n"
           "  command: [\"/shared/leader-run\", \"--grace\", \"20s\", \"--\", \"/app/server\"]\n",
           program, (unsigned long long)(MARGIN_USEC / USEC_PER_MSEC),
           (unsigned long long)(RECONNECT_USEC / USEC_PER_MSEC), PROTO_SOCKET_ENV,
           PROTO_SOCKET_DEFAULT);
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

typedef struct Run {
    const char *socket_path;
    const char *id; /* --id, or NULL */
    char hostname[PROTO_HOSTNAME_MAX + 1];
    uint64_t grace;
    bool no_wait;
    char **argv; /* COMMAND ARGS... */
    sigset_t saved_mask;

    int sfd;                        /* signalfd */
    int fd;                         /* the WATCH connection, or -1 */
    uint64_t next_connect;          /* when fd < 0 */
    bool connected_once;            /* some connection sent WATCH */
    bool said_waiting;              /* logged that the daemon is unreachable */
    char pend[PROTO_REPLY_MAX + 1]; /* consumed bytes of an incomplete line */
    size_t pend_n;
    bool holding;    /* a "not leader" line is peeked and left unread */
    size_t hold_len; /* its bytes still in the socket */

    bool leading;       /* the last line said this pod leads, and its claim is fresh */
    uint64_t term;      /* of that line */
    uint64_t claim_end; /* boot usec: end of the last leader line's valid_ms */
    uint64_t stale_at;  /* boot usec: no fresh line by then -> stop */

    pid_t child;        /* COMMAND, 0 when none */
    pid_t pgid;         /* its process group while some member may live, else 0 */
    bool stopping;      /* SIGTERM sent, waiting */
    bool killed;        /* SIGKILL sent */
    bool group_termed;  /* SIGTERM sent to what is left of the group */
    uint64_t grace_end; /* boot usec: the stop began + grace */
    uint64_t kill_at;   /* boot usec: min(grace_end, claim_end - margin) */
    bool exiting;       /* SIGTERM/SIGINT received, or COMMAND exited on its own */
    bool signalled;     /* SIGTERM/SIGINT received */
    int exit_code;
} Run;

static void say(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, fmt, program, a ? a : "", b ? b : "");
}

/* v in decimal into buf (at least 21 bytes); returns a pointer into buf. */
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

/* Is name (execvp's rules) runnable? 0, or EXIT_NOTFOUND / EXIT_NOEXEC. */
static int check_command(const char *name)
{
    char path[4096];
    struct stat st;
    bool denied = false;

    if (!*name) return EXIT_NOTFOUND;
    if (strchr(name, '/')) {
        if (stat(name, &st) < 0) return errno == EACCES ? EXIT_NOEXEC : EXIT_NOTFOUND;
        return S_ISREG(st.st_mode) && access(name, X_OK) == 0 ? 0 : EXIT_NOEXEC;
    }
    const char *p = getenv("PATH");
    if (!p) p = "/usr/local/bin:/bin:/usr/bin";
    for (;;) {
        const char *end = strchr(p, ':');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l + 1 + strlen(name) + 1 <= sizeof(path)) {
            memcpy(path, p, l);
            if (l == 0) path[l++] = '.';
            path[l] = '/';
            strcpy(path + l + 1, name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(path, X_OK) == 0) return 0;
                denied = true;
            }
        }
        if (!end) break;
        p = end + 1;
    }
    return denied ? EXIT_NOEXEC : EXIT_NOTFOUND;
}

/* -- the command -------------------------------------------------------------------------- */

static int start_child(Run *r)
{
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        /* Its own process group, so that SIGKILL reaches what it started too. */
        (void)setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &r->saved_mask, NULL);
        execvp(r->argv[0], r->argv);
        int e = errno;
        fprintf(stderr, "%s: cannot run %s: %s\n", program, r->argv[0], strerror(e));
        _exit(e == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
    }
    (void)setpgid(pid, pid); /* either side may come first */
    r->child = pid;
    r->pgid = pid;
    r->stopping = r->killed = r->group_termed = false;
    char a[21], b[21];
    fprintf(stderr, "%s: this pod leads (term %s): started %s (pid %s)\n", program,
            u64_str(r->term, a), r->argv[0], u64_str((uint64_t)pid, b));
    return 0;
}

/* Starts stopping the command: sig (SIGTERM or what we received) now, SIGKILL at the
 * earlier of now + grace and the end of the claim it ran under, less the margin. */
static void stop_child(Run *r, int sig, const char *why)
{
    uint64_t now = now_usec();
    uint64_t end = r->claim_end > MARGIN_USEC ? r->claim_end - MARGIN_USEC : 0;

    if (!r->child && !r->pgid) return;
    if (r->stopping) {
        if (r->child && sig != SIGTERM) (void)kill(r->child, sig);
        return;
    }
    r->stopping = true;
    r->grace_end = now + r->grace;
    r->kill_at = min_u64(r->grace_end, end);
    if (r->child) {
        fprintf(stderr, "%s: %s: stopping %s (pid %d)\n", program, why, r->argv[0], (int)r->child);
        (void)kill(r->child, sig);
    }
}

static void check_group(Run *r)
{
    if (r->child || !r->pgid) return;
    if (kill(-r->pgid, 0) < 0 && errno == ESRCH) {
        r->pgid = 0;
        return;
    }
    /* The command is dead but processes it started in its group are not: they go too. */
    if (!r->group_termed) {
        r->group_termed = true;
        (void)kill(-r->pgid, r->killed ? SIGKILL : SIGTERM);
    }
}

static void reap(Run *r)
{
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) break;
        if (pid != r->child) continue; /* an orphan we adopted */
        r->child = 0;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        char a[21];
        fprintf(stderr, "%s: %s (pid %d) %s %s\n", program, r->argv[0], (int)pid,
                WIFEXITED(st) ? "exited with status" : "was killed by signal",
                u64_str((uint64_t)(WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st)), a));
        if (!r->stopping && !r->exiting) {
            /* On its own, while leading: leader-run ends with it. */
            r->exiting = true;
            r->exit_code = code;
            stop_child(r, SIGTERM, "the command exited");
        }
    }
    check_group(r);
}

/* -- the socket --------------------------------------------------------------------------- */

static void disconnect(Run *r, const char *why)
{
    if (r->fd < 0) return;
    close(r->fd);
    r->fd = -1;
    r->pend_n = 0;
    r->holding = false;
    r->leading = false; /* a claim lapses when the connection closes */
    r->next_connect = now_usec() + RECONNECT_USEC;
    say("%s: the daemon's connection ended: %s%s\n", why, NULL);
    stop_child(r, SIGTERM, "connection to the daemon lost");
}

static int try_connect(Run *r)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t l = strlen(r->socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) return -errno;
    memcpy(sa.sun_path, r->socket_path, l);
    if (connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + 1)) < 0 ||
        send(fd, "WATCH\n", 6, MSG_NOSIGNAL) != 6) {
        int e = errno ? errno : EIO;
        close(fd);
        return -e;
    }
    r->fd = fd;
    r->pend_n = 0;
    r->holding = false;
    if (r->said_waiting || !r->connected_once) say("%s: watching %s%s\n", r->socket_path, NULL);
    r->connected_once = true;
    r->said_waiting = false;
    return 0;
}

/* Is this line "this pod leads, with time left"? Sets the claim when it is. */
static bool judge(Run *r, const char *line, size_t len, uint64_t now)
{
    ProtoReply reply;
    int k = proto_reply_parse(line, len, &reply);
    if (k < 0 || reply.type != PROTO_REPLY_STATUS) return false;

    const ProtoStatus *s = &reply.status;
    if (!s->is_leader || s->valid_ms == 0 || strcmp(s->leader, s->identity) != 0) return false;
    if (r->id ? strcmp(s->identity, r->id) != 0 : strcmp(s->hostname, r->hostname) != 0)
        return false;
    /* The claim ends valid_ms after the daemon wrote the line, on the CLOCK_BOOTTIME the
     * containers of a pod share (PROTOCOL.md, "Validity"); without boottime_ms, after arrival. */
    uint64_t base = now;
    if (s->boottime_ms > 0) {
        uint64_t b = s->boottime_ms * USEC_PER_MSEC;
        if (b > now + BOOTTIME_SLACK_USEC) return false; /* not this kernel's clock */
        if (b < base) base = b;
    }
    if (s->valid_ms > PROTO_VALID_MS_MAX) return false;
    uint64_t end = base + s->valid_ms * USEC_PER_MSEC;
    if (end <= now + MARGIN_USEC) return false;
    /* Without a fresh line, SIGTERM when half the claim's usable time, at most the grace
     * period, is left: the SIGKILL deadline then still falls before the end. */
    uint64_t usable = end - MARGIN_USEC - base;
    r->claim_end = end;
    r->stale_at = end - MARGIN_USEC - min_u64(r->grace, usable / 2);
    r->term = s->term;
    /* Stopping (we received SIGTERM) while the daemon still renews: each fresh claim may
     * leave the command more of its grace period. */
    if (r->stopping && !r->killed) r->kill_at = min_u64(r->grace_end, end - MARGIN_USEC);
    return true;
}

/* Consumes n bytes that a peek has shown to be there. */
static int consume(Run *r, size_t n)
{
    char sink[PROTO_REPLY_MAX];
    while (n > 0) {
        ssize_t k = recv(r->fd, sink, n < sizeof(sink) ? n : sizeof(sink), MSG_DONTWAIT);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -EIO;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads what the socket has: leader lines are consumed at once; a line that is not this
 * pod's claim is left unread (holding) while the command runs. */
static void read_lines(Run *r)
{
    for (;;) {
        char buf[PROTO_REPLY_MAX];
        size_t room = PROTO_REPLY_MAX - r->pend_n;
        ssize_t n = recv(r->fd, buf, room, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            disconnect(r, n == 0 ? "closed by the daemon" : strerror(errno));
            return;
        }
        char *nl = memchr(buf, '\n', (size_t)n);
        if (!nl) {
            /* Part of a line: keep it; its '\n' stays unread until we decide. */
            if (r->pend_n + (size_t)n >= PROTO_REPLY_MAX || consume(r, (size_t)n) < 0) {
                disconnect(r, "a line longer than the protocol allows");
                return;
            }
            memcpy(r->pend + r->pend_n, buf, (size_t)n);
            r->pend_n += (size_t)n;
            continue;
        }
        size_t k = (size_t)(nl - buf) + 1;
        memcpy(r->pend + r->pend_n, buf, k);
        size_t len = r->pend_n + k;
        uint64_t now = now_usec();
        bool was = r->leading;
        r->leading = judge(r, r->pend, len, now);
        if (was && !r->leading) stop_child(r, SIGTERM, "this pod no longer leads");
#ifndef LE_RUN_CONSUME_FIRST
        if (!r->leading && (r->child || r->pgid)) {
            r->holding = true;
            r->hold_len = k;
            return;
        }
#endif
        /* (Built with LE_RUN_CONSUME_FIRST, every line is consumed at once: the negative
         * control of tests/integration/test_leader_run.py, where the daemon may then hand
         * over while the command still runs.) */
        if (consume(r, k) < 0) {
            disconnect(r, "reading failed");
            return;
        }
        r->pend_n = 0;
    }
}

/* -- the loop ----------------------------------------------------------------------------- */

static int signal_setup(Run *r)
{
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, &r->saved_mask) < 0) return -errno;
    signal(SIGPIPE, SIG_IGN);
    r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return r->sfd < 0 ? -errno : 0;
}

static void handle_signals(Run *r)
{
    struct signalfd_siginfo si;
    while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) continue; /* reap() runs every round */
        if (sig == SIGTERM || sig == SIGINT) {
            if (!r->exiting) {
                r->exiting = r->signalled = true;
                r->exit_code = EXIT_CLEAN;
            }
            if (r->child && !r->stopping) {
                stop_child(r, sig, sig == SIGTERM ? "SIGTERM" : "SIGINT");
            } else if (r->child) {
                (void)kill(r->child, sig);
            }
            continue;
        }
        if (r->child) (void)kill(r->child, sig);
    }
}

static int poll_ms(uint64_t deadline, uint64_t now)
{
    if (deadline == NEVER) return -1;
    if (deadline <= now) return 0;
    uint64_t ms = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
    return ms > 1000000 ? 1000000 : (int)ms;
}

static int run(Run *r)
{
    for (;;) {
        uint64_t now = now_usec();
        uint64_t wake = NEVER;

        reap(r);
        /* No fresh leader line in time: the claim is going stale. */
        if (r->leading && now >= r->stale_at) {
            r->leading = false;
            stop_child(r, SIGTERM, "no fresh leader line from the daemon");
        }
        if (r->exiting) stop_child(r, SIGTERM, "exiting");
        if (r->stopping && !r->killed && now >= r->kill_at) {
            r->killed = true;
            if (r->child || r->pgid) {
                fprintf(stderr, "%s: %s did not stop in time: SIGKILL\n", program, r->argv[0]);
                if (r->signalled && r->child) r->exit_code = EXIT_FAILURE_;
                (void)kill(-r->pgid, SIGKILL);
                if (r->child) (void)kill(r->child, SIGKILL);
            }
        }
        if (!r->child && !r->pgid) {
            r->stopping = false;
            if (r->exiting) return r->exit_code;
            if (r->holding) {
                /* Dead: now the daemon may learn that we read "not leader". */
                r->holding = false;
                if (consume(r, r->hold_len) < 0) {
                    disconnect(r, "reading failed");
                    continue;
                }
                r->pend_n = 0;
                if (r->fd >= 0) read_lines(r);
                continue;
            }
            if (r->leading) {
                int k = start_child(r);
                if (k < 0) {
                    say("%s: fork failed: %s%s\n", strerror(-k), NULL);
                    return EXIT_FAILURE_;
                }
                continue;
            }
        }
        if (r->fd < 0 && !r->exiting) {
            if (now >= r->next_connect) {
                int k = try_connect(r);
                if (k < 0) {
                    if (!r->connected_once && r->no_wait) {
                        fprintf(stderr, "%s: %s: %s\n", program, r->socket_path, strerror(-k));
                        return EXIT_UNREACHABLE;
                    }
                    if (!r->said_waiting)
                        fprintf(stderr, "%s: %s: %s; retrying every %llu ms\n", program,
                                r->socket_path, strerror(-k),
                                (unsigned long long)(RECONNECT_USEC / USEC_PER_MSEC));
                    r->said_waiting = true;
                    r->next_connect = now + RECONNECT_USEC;
                }
            }
            if (r->fd < 0) wake = min_u64(wake, r->next_connect);
        }
        if (r->leading) wake = min_u64(wake, r->stale_at);
        if (r->stopping && !r->killed) wake = min_u64(wake, r->kill_at);
        if (!r->child && r->pgid) wake = min_u64(wake, now + GROUP_RECHECK_USEC);

        struct pollfd p[2] = {{.fd = r->sfd, .events = POLLIN}, {.fd = r->fd, .events = 0}};
        if (!r->holding) p[1].events = POLLIN;
        int k = poll(p, r->fd >= 0 ? 2 : 1, poll_ms(wake, now));
        if (k < 0 && errno != EINTR) {
            say("%s: poll: %s%s\n", strerror(errno), NULL);
            return EXIT_FAILURE_;
        }
        if (k <= 0) continue;
        if (p[0].revents) handle_signals(r);
        if (r->fd >= 0 && p[1].revents) {
            if (r->holding) {
                /* Only a hang-up can wake us here: the daemon is gone. */
                if (p[1].revents & (POLLHUP | POLLERR)) disconnect(r, "closed by the daemon");
            } else {
                read_lines(r);
            }
        }
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
        {"socket", required_argument, NULL, 's'},
        {"id", required_argument, NULL, 'i'},
        {"grace", required_argument, NULL, 'g'},
        {"no-wait", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static Run r = {.fd = -1, .sfd = -1, .grace = DEFAULT_GRACE_USEC};
    int c, k;

    opterr = 0;
    /* '+': stop at COMMAND, whose own options are not ours. */
    while ((c = getopt_long(argc, argv, "+:s:i:g:nhV", options, NULL)) >= 0) {
        switch (c) {
        case 's':
            r.socket_path = optarg;
            break;
        case 'i':
            if (!*optarg || strlen(optarg) > PROTO_IDENTITY_MAX)
                return usage_error("--id must be 1 to 253 bytes", NULL);
            r.id = optarg;
            break;
        case 'g':
            if (duration_parse_max(optarg, 100000 * USEC_PER_HOUR, &r.grace) < 0)
                return usage_error("invalid --grace (e.g. 10s, 500ms, 1m)", optarg);
            break;
        case 'n':
            r.no_wait = true;
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
    if (optind >= argc)
        return usage_error("no COMMAND given (leader-run [OPTIONS] -- COMMAND)", NULL);
    r.argv = argv + optind;

    if (!r.socket_path) {
        const char *e = getenv(PROTO_SOCKET_ENV);
        r.socket_path = e && *e ? e : PROTO_SOCKET_DEFAULT;
    }
    if (!*r.socket_path || strlen(r.socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return usage_error("socket path empty or longer than 107 bytes", r.socket_path);
    if (!r.id) {
        struct utsname u;
        if (uname(&u) < 0 || proto_strcpy(r.hostname, sizeof(r.hostname), u.nodename) < 0) {
            fprintf(stderr, "%s: cannot read this host's name\n", program);
            return EXIT_FAILURE_;
        }
    }
    k = check_command(r.argv[0]);
    if (k) {
        fprintf(stderr, "%s: %s: %s\n", program, r.argv[0],
                k == EXIT_NOTFOUND ? "command not found" : "not executable");
        return k;
    }
    k = signal_setup(&r);
    if (k < 0) {
        say("%s: signals: %s%s\n", strerror(-k), NULL);
        return EXIT_FAILURE_;
    }
    /* Orphans of the command's processes come to us, as to an init, and are reaped. */
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return run(&r);
}
