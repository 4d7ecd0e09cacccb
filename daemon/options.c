/* SPDX-License-Identifier: MIT */
/* The daemon's flags, in the order options_parse() handles them:
 *   1. argv: one row per flag in FLAGS (its name, whether it takes a value, its handler), each
 *      handler checking and storing its own value;
 *   2. the checks across flags, in the order their errors have always been reported (--election,
 *      the timings, the health check, EndpointSlice mode), then the defaults from the environment,
 *      the hostname and the service account's files, then the engine's own validation of the
 *      election settings, and last the API flags' one conflict.
 * Every usage error prints one line on stderr (usage_error()) and ends the parse. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "election.h"
#include "http_server.h"
#include "kubeconfig.h"
#include "log.h"
#include "options.h"
#include "proto.h"
#include "util.h"

#define SA_NAMESPACE_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

void options_help(const char *argv0)
{
    printf(
        "Usage: %s --election NAME [OPTIONS]\n"
        "\n"
        "Holds a leader election on a Kubernetes Lease (coordination.k8s.io/v1, the\n"
        "fields as client-go's LeaseLock writes them) and publishes the leader state on\n"
        "a Unix socket for the other containers of the pod (see leader-probe(1)).\n"
        "\n"
        "Election:\n"
        "  --election NAME          name of the Lease (required)\n"
        "  --namespace NS           namespace of the Lease (synonym: --election-namespace);\n"
        "                           default $POD_NAMESPACE, else the service account's\n"
        "                           namespace, else \"default\"\n"
        "  --id ID                  this candidate's identity; default $POD_NAME, else the\n"
        "                           hostname. Must be unique among the candidates.\n"
        "  --lease-duration D       how long followers wait after the last renew they saw\n"
        "                           before taking over (default 15s)\n"
        "  --renew-deadline D       how long a leader keeps claiming after the send time of\n"
        "                           its last successful renew (default 10s)\n"
        "  --retry-period D         renew and retry interval (default 2s)\n"
        "                           Rule, as client-go: 1.2 x retry < renew deadline < lease.\n"
        "  --ttl D                  the old sidecar's timing flag: lease D, renew deadline D/2,\n"
        "                           retry D/4 (conflicts with the three above)\n"
        "  --resign-holdoff D       after RESIGN, stay follower this long (default: one lease\n"
        "                           duration)\n"
        "  --lock TYPE              leases (default); endpoints: the old sidecar's lock (the\n"
        "                           annotation control-plane.alpha.kubernetes.io/leader on the\n"
        "                           Endpoints NAME); endpointsleases: both, the Endpoints\n"
        "                           deciding (client-go's MultiLock), to migrate from the old\n"
        "                           sidecar with a rolling update. In the endpoints modes the\n"
        "                           namespace defaults to \"default\" and the timings to the\n"
        "                           old sidecar's (--ttl 10s), and the daemon does not compete\n"
        "                           while the holder's leaseDurationSeconds is not above its\n"
        "                           renew deadline\n"
        "  --events                 post a Kubernetes Event on every leadership transition\n"
        "                           on the lock object, as client-go does (and on the pod when\n"
        "                           $POD_UID is set); best effort, never delays the election\n"
        "\n"
        "Socket (what leader-probe and applications ask):\n"
        "  --socket PATH            default $" PROTO_SOCKET_ENV ", else\n"
        "                           " PROTO_SOCKET_DEFAULT "\n"
        "  --socket-mode MODE       octal permissions of the socket (default 0666: the\n"
        "                           volume is private to the pod; RESIGN is checked\n"
        "                           separately, by peer credentials)\n"
        "  --socket-group GROUP     group owning the socket; its members may RESIGN\n"
        "  --max-clients N          concurrent socket clients (default 1024)\n"
        "  --install-probe PATH     copy the leader-probe beside this binary to PATH (e.g.\n"
        "                           into the shared emptyDir) atomically at start, and\n"
        "                           leader-run into the same directory; without\n"
        "                           --election: only that, then exit (an init container)\n"
        "\n"
        "Kubernetes API (default: in-cluster service account):\n"
        "  --server URL             API server URL, e.g. https://10.0.0.1:443 or\n"
        "                           http://127.0.0.1:8001 (kubectl proxy)\n"
        "  --token-file FILE        bearer token file (re-read periodically and after a 401)\n"
        "  --ca-file FILE           CA bundle to verify the server (https is always verified)\n"
        "  --kubeconfig FILE        out of a cluster: the current context of a kubeconfig\n"
        "                           (server, CA, token/tokenFile/client certificate,\n"
        "                           namespace); also $KUBECONFIG when neither --server\n"
        "                           nor KUBERNETES_SERVICE_HOST is set. --server,\n"
        "                           --token-file, --ca-file, --namespace win over it\n"
        "  --use-cluster-credentials  the old sidecar's flag: use the in-cluster service\n"
        "                           account (the default anyway)\n"
        "\n"
        "Application health (optional; leadership follows it):\n"
        "  --health-http URL        GET this URL (http:// or https://, in this pod, e.g.\n"
        "                           http://127.0.0.1:8080/healthz); 2xx/3xx is healthy\n"
        "  --health-tcp HOST:PORT   connect to a numeric address or localhost, e.g.\n"
        "                           127.0.0.1:5432 or [::1]:5432\n"
        "  --health-period D        between two checks (default 2s)\n"
        "  --health-timeout D       one check (default 1s, at most the period)\n"
        "  --health-failures N      consecutive failures that make it unhealthy (default 3)\n"
        "  --health-successes N     consecutive successes that make it healthy (default 1)\n"
        "                           Unhealthy (or not checked yet): never leads; a leader\n"
        "                           that becomes unhealthy releases the Lease.\n"
        "\n"
        "EndpointSlice mode (route a selector-less Service to the leader):\n"
        "  --endpointslice SERVICE  the leader writes its $POD_IP as the one endpoint of\n"
        "                           the EndpointSlice named after the election, labelled\n"
        "                           kubernetes.io/service-name=SERVICE\n"
        "  --endpoint-port NAME:PORT[/PROTO]  a port of that slice (repeatable; PROTO TCP,\n"
        "                           UDP or SCTP, default TCP), e.g. http:8080/TCP\n"
        "\n"
        "HTTP (optional):\n"
        "  --http ADDR:PORT         the old sidecar's endpoint: serve GET / {\"name\": leader},\n"
        "                           /status, /healthz, /readyz and /metrics, e.g.\n"
        "                           0.0.0.0:4040 or [::1]:4040\n"
        "  --metrics-addr ADDR:PORT  a listener of its own for /metrics, /healthz, /readyz\n"
        "                           and /leader (200 while this pod leads, else 503: a\n"
        "                           readinessProbe.httpGet), nothing else (404), e.g.\n"
        "                           0.0.0.0:9090. For the sidecar's liveness use\n"
        "                           leader-probe --alive: other pods can fill this port\n"
        "\n"
        "Logging and misc:\n"
        "  --log-format text|json   (default text)\n"
        "  --log-level debug|info|warn|error  (default info)\n"
        "  -h, --help               this help\n"
        "  --version                print the version\n"
        "\n"
        "Durations take Go's syntax (15s, 1m30s, 500ms) or plain seconds.\n"
        "Exit status: 0 after a clean shutdown (SIGTERM/SIGINT release the Lease first),\n"
        "1 on a fatal runtime error, 64 on a usage error.\n",
        argv0);
}

/* ---- values ------------------------------------------------------------------------------- */

static OptionsResult usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static OptionsResult usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("leader-elector: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (try --help)\n", stderr);
    return OPTIONS_USAGE_ERROR;
}

static OptionsResult copy_arg(char *dst, size_t size, const char *src, const char *flag)
{
    size_t n = strlen(src);
    if (n >= size) return usage_error("%s: value too long (at most %zu bytes)", flag, size - 1);
    memcpy(dst, src, n + 1);
    return OPTIONS_OK;
}

int options_parse_uint(const char *s, unsigned base, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    bool overflow = false;

    if (!s || !*s || base < 2 || base > 10) return -EINVAL;
    for (const char *p = s; *p; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d >= base) return -EINVAL; /* signs, spaces and prefixes included: digits only */
        if (v > (UINT64_MAX - d) / base)
            overflow = true; /* keep going: garbage after the digits is still -EINVAL */
        else
            v = v * base + d;
    }
    if (overflow || v < min || v > max) return -ERANGE;
    *ret = v;
    return 0;
}

int options_parse_bool(const char *s, bool *ret)
{
    if (!s) return -EINVAL;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *ret = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

static OptionsResult parse_duration_flag(const char *flag, const char *arg, uint64_t *ret)
{
    if (duration_parse(arg, ret) < 0)
        return usage_error("%s: '%s' is not a duration (e.g. 15s, 1m30s, 500ms)", flag, arg);
    return OPTIONS_OK;
}

static OptionsResult parse_number_flag(const char *flag, const char *arg, unsigned min,
                                       unsigned max, unsigned *ret)
{
    uint64_t n;
    if (options_parse_uint(arg, 10, min, max, &n) < 0)
        return usage_error("%s: '%s' is not a number from %u to %u", flag, arg, min, max);
    *ret = (unsigned)n;
    return OPTIONS_OK;
}

/* Go's boolean flag syntax: --flag alone means true, else --flag=VALUE. */
static OptionsResult parse_bool_flag(const char *flag, const char *arg, bool *ret)
{
    if (!arg)
        *ret = true;
    else if (options_parse_bool(arg, ret) < 0)
        return usage_error("%s: '%s' is not true or false", flag, arg);
    return OPTIONS_OK;
}

/* ---- argv: one handler per flag ---------------------------------------------------------- */

/* Flags whose presence the checks after argv look at. */
enum {
    SEEN_TIMING = 1u << 0,         /* --lease-duration, --renew-deadline, --retry-period */
    SEEN_TTL = 1u << 1,            /* --ttl */
    SEEN_HEALTH_TUNING = 1u << 2,  /* --health-period, -timeout, -failures, -successes */
    SEEN_HEALTH_TIMEOUT = 1u << 3, /* --health-timeout */
    SEEN_MODE = 1u << 4,           /* --health-http, -tcp, --endpointslice, --endpoint-port */
};

/* What the parse carries besides the Options. */
typedef struct ParseState {
    Options *o;
    const char *argv0;              /* for --help */
    unsigned seen;                  /* SEEN_* */
    uint64_t ttl;                   /* --ttl, applied by resolve_timings() */
    const char *ns_flag, *ns_value; /* the last --namespace or --election-namespace */
} ParseState;

/* Stores the value of one flag (NULL for an optional value not given), or prints why not. */
typedef OptionsResult FlagParser(ParseState *s, const char *flag, const char *arg);

/* Flags that store their value as it is, or as a duration. */
#define STRING_FLAG(fn, field)                                                                     \
    static OptionsResult fn(ParseState *s, const char *flag, const char *arg)                      \
    {                                                                                              \
        return copy_arg(s->o->field, sizeof s->o->field, arg, flag);                               \
    }
#define DURATION_FLAG(fn, field)                                                                   \
    static OptionsResult fn(ParseState *s, const char *flag, const char *arg)                      \
    {                                                                                              \
        return parse_duration_flag(flag, arg, &s->o->field);                                       \
    }

/* Election. */

STRING_FLAG(flag_election, election)
STRING_FLAG(flag_id, id)

/* --namespace and the old sidecar's --election-namespace: synonyms, both fine if they agree. */
static OptionsResult flag_namespace(ParseState *s, const char *flag, const char *arg)
{
    if (s->ns_value && strcmp(s->ns_value, arg) != 0)
        return usage_error("%s=%s conflicts with %s=%s", flag, arg, s->ns_flag, s->ns_value);
    s->ns_flag = flag;
    s->ns_value = arg;
    return copy_arg(s->o->namespace_, sizeof s->o->namespace_, arg, flag);
}

static OptionsResult flag_lock(ParseState *s, const char *flag, const char *arg)
{
    if (lock_type_from_string(arg, &s->o->lock) < 0)
        return usage_error("%s: '%s' is not leases, endpoints or endpointsleases", flag, arg);
    return OPTIONS_OK;
}

static OptionsResult flag_events(ParseState *s, const char *flag, const char *arg)
{
    return parse_bool_flag(flag, arg, &s->o->events);
}

/* Timings (resolve_timings() applies --ttl and checks it against the others). */

DURATION_FLAG(flag_lease_duration, lease_duration_usec)
DURATION_FLAG(flag_renew_deadline, renew_deadline_usec)
DURATION_FLAG(flag_retry_period, retry_period_usec)
DURATION_FLAG(flag_resign_holdoff, resign_holdoff_usec)

static OptionsResult flag_ttl(ParseState *s, const char *flag, const char *arg)
{
    return parse_duration_flag(flag, arg, &s->ttl);
}

/* Socket. */

STRING_FLAG(flag_socket, socket_path)
STRING_FLAG(flag_install_probe, install_probe)

static OptionsResult flag_socket_mode(ParseState *s, const char *flag, const char *arg)
{
    uint64_t m;
    if (options_parse_uint(arg, 8, 0, 0777, &m) < 0)
        return usage_error("%s: '%s' is not an octal mode like 0660", flag, arg);
    s->o->socket_mode = (mode_t)m;
    return OPTIONS_OK;
}

/* A group name, else a number below (gid_t)-1: Options and chown() take that one as "none". */
static OptionsResult flag_socket_group(ParseState *s, const char *flag, const char *arg)
{
    struct group *g = getgrnam(arg);
    uint64_t gid;
    if (g)
        s->o->socket_group = g->gr_gid;
    else if (options_parse_uint(arg, 10, 0, (gid_t)-1 - 1, &gid) == 0)
        s->o->socket_group = (gid_t)gid;
    else
        return usage_error("%s: no group '%s'", flag, arg);
    s->o->socket_group_set = true;
    return OPTIONS_OK;
}

static OptionsResult flag_max_clients(ParseState *s, const char *flag, const char *arg)
{
    return parse_number_flag(flag, arg, 1, 65536, &s->o->max_clients);
}

/* Kubernetes API (check_api_flags() checks them against each other). */

STRING_FLAG(flag_token_file, token_file)
STRING_FLAG(flag_ca_file, ca_file)
STRING_FLAG(flag_kubeconfig, kubeconfig)

static OptionsResult flag_server(ParseState *s, const char *flag, const char *arg)
{
    OptionsResult r = copy_arg(s->o->server, sizeof s->o->server, arg, flag);
    if (r != OPTIONS_OK) return r;
    if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0)
        return usage_error("%s: '%s' must start with https:// or http://", flag, arg);
    return OPTIONS_OK;
}

static OptionsResult flag_use_cluster_credentials(ParseState *s, const char *flag, const char *arg)
{
    return parse_bool_flag(flag, arg, &s->o->use_cluster_credentials);
}

/* Application health (resolve_health() checks them against each other). */

static OptionsResult health_check_flag(ParseState *s, HealthKind kind, const char *flag,
                                       const char *arg)
{
    Options *o = s->o;
    if (o->health_kind != HEALTH_CHECK_NONE && o->health_kind != kind)
        return usage_error("--health-http conflicts with --health-tcp: one health check");
    if (kind == HEALTH_CHECK_HTTP && health_http_url_validate(arg) < 0)
        return usage_error("%s: '%s' is not an http:// or https:// URL", flag, arg);
    if (kind == HEALTH_CHECK_TCP && health_tcp_parse(arg, NULL, NULL) < 0)
        return usage_error("%s: '%s' is not HOST:PORT with a numeric address or localhost "
                           "(e.g. 127.0.0.1:5432, [::1]:5432)",
                           flag, arg);
    o->health_kind = kind;
    return copy_arg(o->health_target, sizeof o->health_target, arg, flag);
}

static OptionsResult flag_health_http(ParseState *s, const char *flag, const char *arg)
{
    return health_check_flag(s, HEALTH_CHECK_HTTP, flag, arg);
}

static OptionsResult flag_health_tcp(ParseState *s, const char *flag, const char *arg)
{
    return health_check_flag(s, HEALTH_CHECK_TCP, flag, arg);
}

static OptionsResult health_duration_flag(const char *flag, const char *arg, uint64_t *ret)
{
    OptionsResult r = parse_duration_flag(flag, arg, ret);
    if (r != OPTIONS_OK) return r;
    if (*ret < 1000) return usage_error("%s: must be at least 1ms", flag);
    return OPTIONS_OK;
}

static OptionsResult flag_health_period(ParseState *s, const char *flag, const char *arg)
{
    return health_duration_flag(flag, arg, &s->o->health_period_usec);
}

static OptionsResult flag_health_timeout(ParseState *s, const char *flag, const char *arg)
{
    return health_duration_flag(flag, arg, &s->o->health_timeout_usec);
}

static OptionsResult flag_health_failures(ParseState *s, const char *flag, const char *arg)
{
    return parse_number_flag(flag, arg, 1, HEALTH_THRESHOLD_MAX, &s->o->health_failures);
}

static OptionsResult flag_health_successes(ParseState *s, const char *flag, const char *arg)
{
    return parse_number_flag(flag, arg, 1, HEALTH_THRESHOLD_MAX, &s->o->health_successes);
}

/* EndpointSlice mode (resolve_endpointslice() checks them against each other). */

static OptionsResult flag_endpointslice(ParseState *s, const char *flag, const char *arg)
{
    if (!endpointslice_service_valid(arg))
        return usage_error("%s: '%s' is not a Service name (lower case letters, digits and '-', "
                           "at most 63)",
                           flag, arg);
    return copy_arg(s->o->endpointslice, sizeof s->o->endpointslice, arg, flag);
}

static OptionsResult flag_endpoint_port(ParseState *s, const char *flag, const char *arg)
{
    Options *o = s->o;
    EndpointSlicePort p;
    if (endpointslice_port_parse(arg, &p) < 0)
        return usage_error("%s: '%s' is not NAME:PORT[/TCP|UDP|SCTP] (e.g. http:8080/TCP)", flag,
                           arg);
    if (o->n_endpoint_ports >= ENDPOINTSLICE_PORTS_MAX)
        return usage_error("%s: at most %d ports", flag, ENDPOINTSLICE_PORTS_MAX);
    for (size_t i = 0; i < o->n_endpoint_ports; i++)
        if (strcmp(o->endpoint_ports[i].name, p.name) == 0)
            return usage_error("%s: the name '%s' is used twice", flag, p.name);
    o->endpoint_ports[o->n_endpoint_ports++] = p;
    return OPTIONS_OK;
}

/* HTTP, logging and misc. */

STRING_FLAG(flag_http, http_addr)

static OptionsResult flag_metrics_addr(ParseState *s, const char *flag, const char *arg)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (http_listen_parse(arg, &ss, &len, NULL) < 0)
        return usage_error("%s: '%s' is not ADDR:PORT (an IPv4 address, [IPv6], localhost or "
                           "nothing before the colon, e.g. 0.0.0.0:9090)",
                           flag, arg);
    return copy_arg(s->o->metrics_addr, sizeof s->o->metrics_addr, arg, flag);
}

static OptionsResult flag_log_format(ParseState *s, const char *flag, const char *arg)
{
    if (strcmp(arg, "text") == 0)
        s->o->log_format = LOG_FORMAT_TEXT;
    else if (strcmp(arg, "json") == 0)
        s->o->log_format = LOG_FORMAT_JSON;
    else
        return usage_error("%s: '%s' is not text or json", flag, arg);
    return OPTIONS_OK;
}

static OptionsResult flag_log_level(ParseState *s, const char *flag, const char *arg)
{
    int level = log_level_from_string(arg);
    if (level < 0) return usage_error("%s: '%s' is not debug, info, warn or error", flag, arg);
    s->o->log_level = level;
    return OPTIONS_OK;
}

static OptionsResult flag_help(ParseState *s, const char *flag, const char *arg)
{
    (void)flag, (void)arg;
    options_help(s->argv0);
    return OPTIONS_EXIT_HELP;
}

static OptionsResult flag_version(ParseState *s, const char *flag, const char *arg)
{
    (void)s, (void)flag, (void)arg;
    printf("leader-elector %s\n", LE_VERSION);
    return OPTIONS_EXIT_HELP;
}

#undef STRING_FLAG
#undef DURATION_FLAG

typedef struct Flag {
    const char *name; /* as typed: getopt_long matches name + 2 (and unambiguous prefixes) */
    int has_arg;      /* required_argument; optional_argument for a Go-style boolean */
    unsigned seen;    /* SEEN_* bits it sets */
    FlagParser *parse;
} Flag;

static const Flag FLAGS[] = {
    {"--election", required_argument, 0, flag_election},
    {"--namespace", required_argument, 0, flag_namespace},
    {"--election-namespace", required_argument, 0, flag_namespace},
    {"--id", required_argument, 0, flag_id},
    {"--socket", required_argument, 0, flag_socket},
    {"--socket-mode", required_argument, 0, flag_socket_mode},
    {"--socket-group", required_argument, 0, flag_socket_group},
    {"--max-clients", required_argument, 0, flag_max_clients},
    {"--lease-duration", required_argument, SEEN_TIMING, flag_lease_duration},
    {"--renew-deadline", required_argument, SEEN_TIMING, flag_renew_deadline},
    {"--retry-period", required_argument, SEEN_TIMING, flag_retry_period},
    {"--ttl", required_argument, SEEN_TTL, flag_ttl},
    {"--resign-holdoff", required_argument, 0, flag_resign_holdoff},
    {"--server", required_argument, 0, flag_server},
    {"--token-file", required_argument, 0, flag_token_file},
    {"--ca-file", required_argument, 0, flag_ca_file},
    {"--kubeconfig", required_argument, 0, flag_kubeconfig},
    {"--use-cluster-credentials", optional_argument, 0, flag_use_cluster_credentials},
    {"--http", required_argument, 0, flag_http},
    {"--metrics-addr", required_argument, 0, flag_metrics_addr},
    {"--lock", required_argument, 0, flag_lock},
    {"--events", optional_argument, 0, flag_events},
    {"--install-probe", required_argument, 0, flag_install_probe},
    {"--log-format", required_argument, 0, flag_log_format},
    {"--log-level", required_argument, 0, flag_log_level},
    {"--help", no_argument, 0, flag_help},
    {"--version", no_argument, 0, flag_version},
    {"--health-http", required_argument, SEEN_MODE, flag_health_http},
    {"--health-tcp", required_argument, SEEN_MODE, flag_health_tcp},
    {"--health-period", required_argument, SEEN_HEALTH_TUNING, flag_health_period},
    {"--health-timeout", required_argument, SEEN_HEALTH_TUNING | SEEN_HEALTH_TIMEOUT,
     flag_health_timeout},
    {"--health-failures", required_argument, SEEN_HEALTH_TUNING, flag_health_failures},
    {"--health-successes", required_argument, SEEN_HEALTH_TUNING, flag_health_successes},
    {"--endpointslice", required_argument, SEEN_MODE, flag_endpointslice},
    {"--endpoint-port", required_argument, SEEN_MODE, flag_endpoint_port},
};

/* getopt_long's answer for a flag: -h, the one short flag, answers 'h' for --help too; the others
 * 0x100 + their row, beyond any character. */
static int flag_value(const Flag *f)
{
    return f->parse == flag_help ? 'h' : 0x100 + (int)(f - FLAGS);
}

static const Flag *flag_of_value(int c)
{
    for (size_t i = 0; i < ELEMENTSOF(FLAGS); i++)
        if (flag_value(&FLAGS[i]) == c) return &FLAGS[i];
    return NULL;
}

/* Hands each flag to its handler, in the order given; stops at the first that does not say
 * OPTIONS_OK (a usage error, or --help/--version printed). */
static OptionsResult parse_argv(ParseState *s, int argc, char **argv)
{
    struct option longopts[ELEMENTSOF(FLAGS) + 1] = {0};
    int c;

    for (size_t i = 0; i < ELEMENTSOF(FLAGS); i++)
        longopts[i] =
            (struct option){FLAGS[i].name + 2, FLAGS[i].has_arg, NULL, flag_value(&FLAGS[i])};

    optind = 0; /* reset: also re-entrant in tests */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
        const Flag *f = c == ':' ? NULL : flag_of_value(c);
        OptionsResult r;

        if (c == ':') return usage_error("%s needs a value", argv[optind - 1]);
        /* An unknown short option: getopt_long stays on its argument while a cluster (-xh) has
         * more letters, so name the letter. optopt is also set for a long flag given a value it
         * does not take (--help=1, --version=1): to 'h' or a value beyond any character. */
        if (!f && optopt > 0 && optopt < 0x100 && optopt != 'h')
            return usage_error("unknown option '-%c'", optopt);
        if (!f) return usage_error("unknown option '%s'", argv[optind - 1]);
        s->seen |= f->seen;
        r = f->parse(s, f->name, optarg);
        if (r != OPTIONS_OK) return r;
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    return OPTIONS_OK;
}

/* ---- after argv: checks across flags, defaults, the engine's validation ------------------ */

static void set_defaults(Options *o)
{
    *o = (Options){
        .socket_mode = 0666,
        .socket_group = (gid_t)-1,
        .max_clients = 1024,
        .lease_duration_usec = ELECTION_DEFAULT_LEASE_DURATION_USEC,
        .renew_deadline_usec = ELECTION_DEFAULT_RENEW_DEADLINE_USEC,
        .retry_period_usec = ELECTION_DEFAULT_RETRY_PERIOD_USEC,
        .log_format = LOG_FORMAT_TEXT,
        .log_level = LOG_INFO,
        .health_period_usec = HEALTH_DEFAULT_PERIOD_USEC,
        .health_timeout_usec = HEALTH_DEFAULT_TIMEOUT_USEC,
        .health_failures = HEALTH_DEFAULT_FAILURES,
        .health_successes = HEALTH_DEFAULT_SUCCESSES,
    };
}

/* --install-probe without --election nor any flag that only an election uses: an init
 * container's job (install, then exit). Flags such as --id or --socket are ignored then. */
static bool install_probe_only(const ParseState *s)
{
    return s->o->election[0] == '\0' && s->o->install_probe[0] &&
           !(s->seen & (SEEN_TIMING | SEEN_TTL | SEEN_MODE | SEEN_HEALTH_TUNING));
}

static OptionsResult check_election_name(const Options *o)
{
    if (o->election[0] == '\0') return usage_error("--election NAME is required");
    if (!dns_subdomain_valid(o->election))
        return usage_error("--election: '%s' is not a valid Kubernetes name (lower case "
                           "letters, digits, '-' and '.')",
                           o->election);
    return OPTIONS_OK;
}

/* --ttl, or the old sidecar's timings in the Endpoints modes, sets the three timings; the
 * RESIGN hold-off defaults to the lease duration. */
static OptionsResult resolve_timings(ParseState *s)
{
    Options *o = s->o;
    bool ttl_set = s->seen & SEEN_TTL, timing_set = s->seen & SEEN_TIMING;
    uint64_t ttl = s->ttl;

    if (o->lock != LOCK_LEASES && !ttl_set && !timing_set) {
        /* The old sidecar's timings (--ttl 10s): a leader's renew deadline must stay below the
         * lease duration of every candidate sharing the lock, old ones included. */
        ttl_set = true;
        ttl = 10 * USEC_PER_SEC;
    }
    if (ttl_set) {
        if (timing_set)
            return usage_error("--ttl conflicts with --lease-duration/--renew-deadline/"
                               "--retry-period: use one or the other");
        o->lease_duration_usec = ttl;
        o->renew_deadline_usec = ttl / 2;
        o->retry_period_usec = ttl / 4;
    }
    if (o->resign_holdoff_usec == 0) o->resign_holdoff_usec = o->lease_duration_usec;
    return OPTIONS_OK;
}

/* The tuning flags need a check; the default timeout shrinks to a shorter period. */
static OptionsResult resolve_health(const ParseState *s)
{
    Options *o = s->o;

    if ((s->seen & SEEN_HEALTH_TUNING) && o->health_kind == HEALTH_CHECK_NONE)
        return usage_error("--health-period/--health-timeout/--health-failures/"
                           "--health-successes need --health-http or --health-tcp");
    if (o->health_timeout_usec > o->health_period_usec) {
        if (s->seen & SEEN_HEALTH_TIMEOUT)
            return usage_error("--health-timeout must not be longer than --health-period");
        o->health_timeout_usec = o->health_period_usec;
    }
    return OPTIONS_OK;
}

/* --endpointslice and --endpoint-port go together, and need the pod's IP from $POD_IP. */
static OptionsResult resolve_endpointslice(Options *o)
{
    const char *ip;

    if (o->n_endpoint_ports > 0 && !o->endpointslice[0])
        return usage_error("--endpoint-port needs --endpointslice SERVICE");
    if (!o->endpointslice[0]) return OPTIONS_OK;
    if (o->n_endpoint_ports == 0)
        return usage_error("--endpointslice needs at least one --endpoint-port NAME:PORT");
    if (o->n_endpoint_ports > 1)
        for (size_t i = 0; i < o->n_endpoint_ports; i++)
            if (!o->endpoint_ports[i].name[0])
                return usage_error("--endpoint-port: with several ports, each needs a name");
    ip = getenv("POD_IP");
    if (!ip || !*ip)
        return usage_error("--endpointslice needs $POD_IP (the pod's IP, from the downward "
                           "API: status.podIP)");
    if (!endpointslice_address_type(ip, o->pod_ip, sizeof o->pod_ip))
        return usage_error("$POD_IP: '%s' is not an IPv4 or IPv6 address", ip);
    return OPTIONS_OK;
}

/* The hostname; --id defaults to $POD_NAME, else the hostname. */
static OptionsResult resolve_identity(Options *o)
{
    const char *e;

    if (gethostname(o->hostname, sizeof o->hostname) < 0)
        return usage_error("cannot read the hostname: %s", strerror(errno));
    o->hostname[sizeof o->hostname - 1] = '\0';
    if (o->id[0]) return OPTIONS_OK;
    e = getenv("POD_NAME");
    return copy_arg(o->id, sizeof o->id, e && *e ? e : o->hostname, "$POD_NAME");
}

static void read_sa_namespace(char *buf, size_t size)
{
    FILE *f = fopen(SA_NAMESPACE_FILE, "re");
    if (!f) return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\r\n \t")] = '\0';
    else
        buf[0] = '\0';
    fclose(f);
}

/* --namespace defaults to the kubeconfig context's namespace, then "default" in the Endpoints
 * modes (the old sidecar's), else to
 * $POD_NAMESPACE, the service account's namespace, "default"; whichever it is must be valid. */
static OptionsResult resolve_namespace(Options *o)
{
    const char *e;
    OptionsResult r;

    /* A kubeconfig is read now: its errors are usage errors, its context names the namespace. */
    char kbuf[4096];
    const char *kpath =
        kubeconfig_select_path(o->kubeconfig, o->server[0] != '\0', kbuf, sizeof kbuf);
    if (kpath) {
        Kubeconfig k = {0};
        char why[320];
        if (kubeconfig_load(kpath, &k, why, sizeof why) < 0)
            return usage_error("%s", why[0] ? why : "cannot read the kubeconfig");
        if (o->namespace_[0] == '\0' && k.namespace_)
            r = copy_arg(o->namespace_, sizeof o->namespace_, k.namespace_,
                         "the kubeconfig's namespace");
        else
            r = OPTIONS_OK;
        kubeconfig_done(&k);
        if (r != OPTIONS_OK) return r;
    }
    if (o->namespace_[0] == '\0' && o->lock != LOCK_LEASES)
        strcpy(o->namespace_, "default"); /* the old sidecar's --election-namespace default */
    if (o->namespace_[0] == '\0') {
        e = getenv("POD_NAMESPACE");
        if (e && *e) {
            r = copy_arg(o->namespace_, sizeof o->namespace_, e, "$POD_NAMESPACE");
            if (r != OPTIONS_OK) return r;
        } else {
            read_sa_namespace(o->namespace_, sizeof o->namespace_);
        }
        if (o->namespace_[0] == '\0') strcpy(o->namespace_, "default");
    }
    if (!dns_subdomain_valid(o->namespace_) || strchr(o->namespace_, '.') ||
        strlen(o->namespace_) > 63)
        return usage_error("namespace '%s' is not a valid Kubernetes namespace", o->namespace_);
    return OPTIONS_OK;
}

/* --socket defaults to $LEADER_ELECTION_SOCKET, else the path leader-probe asks by default. */
static OptionsResult resolve_socket(Options *o)
{
    const char *e;

    if (o->socket_path[0]) return OPTIONS_OK;
    e = getenv(PROTO_SOCKET_ENV);
    return copy_arg(o->socket_path, sizeof o->socket_path, e && *e ? e : PROTO_SOCKET_DEFAULT,
                    "$" PROTO_SOCKET_ENV);
}

int options_election_config(const Options *o, ElectionConfig *ret)
{
    ElectionConfig c;
    int r = election_config_init(&c, o->id);
    if (r < 0) return r;
    c.lease_duration_usec = o->lease_duration_usec;
    c.renew_deadline_usec = o->renew_deadline_usec;
    c.retry_period_usec = o->retry_period_usec;
    c.resign_holdoff_usec = o->resign_holdoff_usec;
    c.start_unhealthy = o->health_kind != HEALTH_CHECK_NONE;
    c.time_precision_usec = lock_time_precision_usec(o->lock);
    /* Old sidecars share the Endpoints lock with their own timings. */
    c.check_peer_lease_duration = o->lock != LOCK_LEASES;
    *ret = c;
    return 0;
}

/* The engine owns the timing rules (client-go's): ask it, with the configuration the daemon
 * will run with. */
static OptionsResult check_election_config(const Options *o)
{
    ElectionConfig ec;
    const char *why;

    if (options_election_config(o, &ec) < 0)
        return usage_error("--id: '%s' is not a valid identity", o->id);
    why = election_config_validate(&ec);
    if (why) return usage_error("%s", why);
    /* Whole-second times: renews less than a second apart would run ahead of the clock. */
    if (o->retry_period_usec < lock_time_precision_usec(o->lock))
        return usage_error("--lock %s stores whole seconds: the retry period must be at "
                           "least 1s",
                           lock_type_to_string(o->lock));
    return OPTIONS_OK;
}

static OptionsResult check_api_flags(const Options *o)
{
    if (o->use_cluster_credentials && o->server[0])
        return usage_error("--use-cluster-credentials conflicts with --server");
    return OPTIONS_OK;
}

/* The steps after argv, in this order: each error message has always won over the ones of the
 * steps after it. */
static OptionsResult finish(ParseState *s)
{
    Options *o = s->o;
    OptionsResult r;

    if ((r = check_election_name(o)) != OPTIONS_OK) return r;
    /* checks across flags */
    if ((r = resolve_timings(s)) != OPTIONS_OK) return r;
    if ((r = resolve_health(s)) != OPTIONS_OK) return r;
    if ((r = resolve_endpointslice(o)) != OPTIONS_OK) return r;
    /* defaults from the environment, the hostname, the service account */
    if ((r = resolve_identity(o)) != OPTIONS_OK) return r;
    if ((r = resolve_namespace(o)) != OPTIONS_OK) return r;
    if ((r = resolve_socket(o)) != OPTIONS_OK) return r;
    /* the engine's validation, then the one check across flags that has always come last */
    if ((r = check_election_config(o)) != OPTIONS_OK) return r;
    return check_api_flags(o);
}

OptionsResult options_parse(Options *o, int argc, char **argv)
{
    ParseState s = {.o = o, .argv0 = argv[0]};
    OptionsResult r;

    set_defaults(o);
    r = parse_argv(&s, argc, argv);
    if (r != OPTIONS_OK) return r;
    if (install_probe_only(&s)) return OPTIONS_INSTALL_PROBE_ONLY;
    return finish(&s);
}
