/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "election.h"
#include "log.h"
#include "options.h"
#include "proto.h"
#include "util.h"

#define SA_NAMESPACE_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

enum {
    OPT_ELECTION = 0x100,
    OPT_NAMESPACE,
    OPT_ELECTION_NAMESPACE,
    OPT_ID,
    OPT_SOCKET,
    OPT_SOCKET_MODE,
    OPT_SOCKET_GROUP,
    OPT_MAX_CLIENTS,
    OPT_LEASE_DURATION,
    OPT_RENEW_DEADLINE,
    OPT_RETRY_PERIOD,
    OPT_TTL,
    OPT_RESIGN_HOLDOFF,
    OPT_SERVER,
    OPT_TOKEN_FILE,
    OPT_CA_FILE,
    OPT_USE_CLUSTER_CREDENTIALS,
    OPT_HTTP,
    OPT_LOCK,
    OPT_EVENTS,
    OPT_INSTALL_PROBE,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_VERSION,
    OPT_HEALTH_HTTP,
    OPT_HEALTH_TCP,
    OPT_HEALTH_PERIOD,
    OPT_HEALTH_TIMEOUT,
    OPT_HEALTH_FAILURES,
    OPT_HEALTH_SUCCESSES,
    OPT_ENDPOINTSLICE,
    OPT_ENDPOINT_PORT,
};

void options_help(const char *argv0)
{
    printf("Usage: %s --election NAME [OPTIONS]\n"
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
           "                           (on the pod with $POD_NAME/$POD_NAMESPACE, else on the\n"
           "                           lock object); best effort, never delays the election\n"
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
           "                           into the shared emptyDir) atomically at start; without\n"
           "                           --election: only that, then exit (an init container)\n"
           "\n"
           "Kubernetes API (default: in-cluster service account):\n"
           "  --server URL             API server URL, e.g. https://10.0.0.1:443 or\n"
           "                           http://127.0.0.1:8001 (kubectl proxy)\n"
           "  --token-file FILE        bearer token file (re-read periodically and after a 401)\n"
           "  --ca-file FILE           CA bundle to verify the server (https is always verified)\n"
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
           "HTTP (the old sidecar's endpoint, optional):\n"
           "  --http ADDR:PORT         serve GET / {\"name\": leader}, /status, /healthz, /readyz\n"
           "                           and /metrics, e.g. 0.0.0.0:4040 or [::1]:4040\n"
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
    if (n >= size)
        return usage_error("%s: value too long (at most %zu bytes)", flag, size - 1);
    memcpy(dst, src, n + 1);
    return OPTIONS_OK;
}

static OptionsResult parse_duration_flag(const char *arg, const char *flag, uint64_t *ret)
{
    int r = duration_parse(arg, ret);
    if (r < 0)
        return usage_error("%s: '%s' is not a duration (e.g. 15s, 1m30s, 500ms)", flag, arg);
    return OPTIONS_OK;
}

int options_parse_uint(const char *s, unsigned base, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    bool overflow = false;

    if (!s || !*s || base < 2 || base > 10)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d >= base)
            return -EINVAL; /* signs, spaces and prefixes included: digits only */
        if (v > (UINT64_MAX - d) / base)
            overflow = true; /* keep going: garbage after the digits is still -EINVAL */
        else
            v = v * base + d;
    }
    if (overflow || v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int options_parse_bool(const char *s, bool *ret)
{
    if (!s)
        return -EINVAL;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *ret = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *ret = false;
    else
        return -EINVAL;
    return 0;
}

int options_election_config(const Options *o, ElectionConfig *ret)
{
    ElectionConfig c;
    int r = election_config_init(&c, o->id);
    if (r < 0)
        return r;
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

static void read_sa_namespace(char *buf, size_t size)
{
    FILE *f = fopen(SA_NAMESPACE_FILE, "re");
    if (!f)
        return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\r\n \t")] = '\0';
    else
        buf[0] = '\0';
    fclose(f);
}

OptionsResult options_parse(Options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"election", required_argument, NULL, OPT_ELECTION},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"election-namespace", required_argument, NULL, OPT_ELECTION_NAMESPACE},
        {"id", required_argument, NULL, OPT_ID},
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
        {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
        {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
        {"lease-duration", required_argument, NULL, OPT_LEASE_DURATION},
        {"renew-deadline", required_argument, NULL, OPT_RENEW_DEADLINE},
        {"retry-period", required_argument, NULL, OPT_RETRY_PERIOD},
        {"ttl", required_argument, NULL, OPT_TTL},
        {"resign-holdoff", required_argument, NULL, OPT_RESIGN_HOLDOFF},
        {"server", required_argument, NULL, OPT_SERVER},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"use-cluster-credentials", optional_argument, NULL, OPT_USE_CLUSTER_CREDENTIALS},
        {"http", required_argument, NULL, OPT_HTTP},
        {"lock", required_argument, NULL, OPT_LOCK},
        {"events", optional_argument, NULL, OPT_EVENTS},
        {"install-probe", required_argument, NULL, OPT_INSTALL_PROBE},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"health-http", required_argument, NULL, OPT_HEALTH_HTTP},
        {"health-tcp", required_argument, NULL, OPT_HEALTH_TCP},
        {"health-period", required_argument, NULL, OPT_HEALTH_PERIOD},
        {"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
        {"health-failures", required_argument, NULL, OPT_HEALTH_FAILURES},
        {"health-successes", required_argument, NULL, OPT_HEALTH_SUCCESSES},
        {"endpointslice", required_argument, NULL, OPT_ENDPOINTSLICE},
        {"endpoint-port", required_argument, NULL, OPT_ENDPOINT_PORT},
        {},
    };
    const char *ns_flag = NULL, *ns_value = NULL;
    bool timing_set = false, ttl_set = false, health_tuning_set = false, mode_set = false;
    bool health_timeout_set = false;
    uint64_t ttl = 0;
    const char *e;
    int c, r;

    *o = (Options){
        .socket_mode = 0666,
        .socket_group = (gid_t)-1,
        .max_clients = 1024,
        .lease_duration_usec = 15 * UINT64_C(1000000),
        .renew_deadline_usec = 10 * UINT64_C(1000000),
        .retry_period_usec = 2 * UINT64_C(1000000),
        .log_format = LOG_FORMAT_TEXT,
        .log_level = LOG_LEVEL_INFO,
        .health_period_usec = HEALTH_DEFAULT_PERIOD_USEC,
        .health_timeout_usec = HEALTH_DEFAULT_TIMEOUT_USEC,
        .health_failures = HEALTH_DEFAULT_FAILURES,
        .health_successes = HEALTH_DEFAULT_SUCCESSES,
    };

    optind = 0; /* reset: also re-entrant in tests */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
        switch (c) {
        case OPT_ELECTION:
            if ((r = copy_arg(o->election, sizeof o->election, optarg, "--election")) < 0)
                return r;
            break;
        case OPT_NAMESPACE:
        case OPT_ELECTION_NAMESPACE: {
            const char *flag = c == OPT_NAMESPACE ? "--namespace" : "--election-namespace";
            if (ns_value && strcmp(ns_value, optarg) != 0)
                return usage_error("%s=%s conflicts with %s=%s", flag, optarg, ns_flag, ns_value);
            ns_flag = flag;
            ns_value = optarg;
            if ((r = copy_arg(o->namespace_, sizeof o->namespace_, optarg, flag)) < 0)
                return r;
            break;
        }
        case OPT_ID:
            if ((r = copy_arg(o->id, sizeof o->id, optarg, "--id")) < 0)
                return r;
            break;
        case OPT_SOCKET:
            if ((r = copy_arg(o->socket_path, sizeof o->socket_path, optarg, "--socket")) < 0)
                return r;
            break;
        case OPT_SOCKET_MODE: {
            uint64_t m;
            if (options_parse_uint(optarg, 8, 0, 0777, &m) < 0)
                return usage_error("--socket-mode: '%s' is not an octal mode like 0660", optarg);
            o->socket_mode = (mode_t)m;
            break;
        }
        case OPT_SOCKET_GROUP: {
            struct group *g = getgrnam(optarg);
            uint64_t gid;
            if (g) {
                o->socket_group = g->gr_gid;
            } else {
                /* a number below (gid_t)-1: Options and chown() take that one as "none" */
                if (options_parse_uint(optarg, 10, 0, (gid_t)-1 - 1, &gid) < 0)
                    return usage_error("--socket-group: no group '%s'", optarg);
                o->socket_group = (gid_t)gid;
            }
            o->socket_group_set = true;
            break;
        }
        case OPT_MAX_CLIENTS: {
            uint64_t n;
            if (options_parse_uint(optarg, 10, 1, 65536, &n) < 0)
                return usage_error("--max-clients: '%s' is not a number from 1 to 65536", optarg);
            o->max_clients = (unsigned)n;
            break;
        }
        case OPT_LEASE_DURATION:
            timing_set = true;
            if ((r = parse_duration_flag(optarg, "--lease-duration", &o->lease_duration_usec)) < 0)
                return r;
            break;
        case OPT_RENEW_DEADLINE:
            timing_set = true;
            if ((r = parse_duration_flag(optarg, "--renew-deadline", &o->renew_deadline_usec)) < 0)
                return r;
            break;
        case OPT_RETRY_PERIOD:
            timing_set = true;
            if ((r = parse_duration_flag(optarg, "--retry-period", &o->retry_period_usec)) < 0)
                return r;
            break;
        case OPT_TTL:
            ttl_set = true;
            if ((r = parse_duration_flag(optarg, "--ttl", &ttl)) < 0)
                return r;
            break;
        case OPT_RESIGN_HOLDOFF:
            if ((r = parse_duration_flag(optarg, "--resign-holdoff", &o->resign_holdoff_usec)) < 0)
                return r;
            break;
        case OPT_SERVER:
            if ((r = copy_arg(o->server, sizeof o->server, optarg, "--server")) < 0)
                return r;
            if (strncmp(optarg, "https://", 8) != 0 && strncmp(optarg, "http://", 7) != 0)
                return usage_error("--server: '%s' must start with https:// or http://", optarg);
            break;
        case OPT_TOKEN_FILE:
            if ((r = copy_arg(o->token_file, sizeof o->token_file, optarg, "--token-file")) < 0)
                return r;
            break;
        case OPT_CA_FILE:
            if ((r = copy_arg(o->ca_file, sizeof o->ca_file, optarg, "--ca-file")) < 0)
                return r;
            break;
        case OPT_USE_CLUSTER_CREDENTIALS:
            /* Go's boolean flag syntax: --flag alone means true */
            if (!optarg)
                o->use_cluster_credentials = true;
            else if (options_parse_bool(optarg, &o->use_cluster_credentials) < 0)
                return usage_error("--use-cluster-credentials: '%s' is not true or false", optarg);
            break;
        case OPT_HTTP:
            if ((r = copy_arg(o->http_addr, sizeof o->http_addr, optarg, "--http")) < 0)
                return r;
            break;
        case OPT_LOCK:
            if (lock_type_from_string(optarg, &o->lock) < 0)
                return usage_error("--lock: '%s' is not leases, endpoints or endpointsleases",
                                   optarg);
            break;
        case OPT_EVENTS:
            if (!optarg)
                o->events = true;
            else if (options_parse_bool(optarg, &o->events) < 0)
                return usage_error("--events: '%s' is not true or false", optarg);
            break;
        case OPT_INSTALL_PROBE:
            if ((r = copy_arg(o->install_probe, sizeof o->install_probe, optarg,
                              "--install-probe")) < 0)
                return r;
            break;
        case OPT_LOG_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o->log_format = LOG_FORMAT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->log_format = LOG_FORMAT_JSON;
            else
                return usage_error("--log-format: '%s' is not text or json", optarg);
            break;
        case OPT_LOG_LEVEL:
            r = log_level_from_string(optarg);
            if (r < 0)
                return usage_error("--log-level: '%s' is not debug, info, warn or error", optarg);
            o->log_level = r;
            break;
        case 'h':
            options_help(argv[0]);
            return OPTIONS_EXIT_HELP;
        case OPT_VERSION:
            printf("leader-elector %s\n", LE_VERSION);
            return OPTIONS_EXIT_HELP;
        case OPT_HEALTH_HTTP:
        case OPT_HEALTH_TCP: {
            HealthKind k = c == OPT_HEALTH_HTTP ? HEALTH_CHECK_HTTP : HEALTH_CHECK_TCP;
            mode_set = true;
            if (o->health_kind != HEALTH_CHECK_NONE && o->health_kind != k)
                return usage_error("--health-http conflicts with --health-tcp: one health check");
            if (k == HEALTH_CHECK_HTTP && health_http_url_validate(optarg) < 0)
                return usage_error("--health-http: '%s' is not an http:// or https:// URL", optarg);
            if (k == HEALTH_CHECK_TCP && health_tcp_parse(optarg, NULL, NULL) < 0)
                return usage_error("--health-tcp: '%s' is not HOST:PORT with a numeric address "
                                   "or localhost (e.g. 127.0.0.1:5432, [::1]:5432)",
                                   optarg);
            o->health_kind = k;
            if ((r = copy_arg(o->health_target, sizeof o->health_target, optarg,
                              k == HEALTH_CHECK_HTTP ? "--health-http" : "--health-tcp")) < 0)
                return r;
            break;
        }
        case OPT_HEALTH_PERIOD:
        case OPT_HEALTH_TIMEOUT: {
            const char *flag = c == OPT_HEALTH_PERIOD ? "--health-period" : "--health-timeout";
            uint64_t *v = c == OPT_HEALTH_PERIOD ? &o->health_period_usec : &o->health_timeout_usec;
            health_tuning_set = true;
            health_timeout_set |= c == OPT_HEALTH_TIMEOUT;
            if ((r = parse_duration_flag(optarg, flag, v)) < 0)
                return r;
            if (*v < 1000)
                return usage_error("%s: must be at least 1ms", flag);
            break;
        }
        case OPT_HEALTH_FAILURES:
        case OPT_HEALTH_SUCCESSES: {
            const char *flag = c == OPT_HEALTH_FAILURES ? "--health-failures" : "--health-successes";
            uint64_t n;
            health_tuning_set = true;
            if (options_parse_uint(optarg, 10, 1, HEALTH_THRESHOLD_MAX, &n) < 0)
                return usage_error("%s: '%s' is not a number from 1 to %u", flag, optarg,
                                   HEALTH_THRESHOLD_MAX);
            if (c == OPT_HEALTH_FAILURES)
                o->health_failures = (unsigned)n;
            else
                o->health_successes = (unsigned)n;
            break;
        }
        case OPT_ENDPOINTSLICE:
            mode_set = true;
            if (!endpointslice_service_valid(optarg))
                return usage_error("--endpointslice: '%s' is not a Service name (lower case "
                                   "letters, digits and '-', at most 63)",
                                   optarg);
            if ((r = copy_arg(o->endpointslice, sizeof o->endpointslice, optarg,
                              "--endpointslice")) < 0)
                return r;
            break;
        case OPT_ENDPOINT_PORT: {
            EndpointSlicePort p;
            mode_set = true;
            if (endpointslice_port_parse(optarg, &p) < 0)
                return usage_error("--endpoint-port: '%s' is not NAME:PORT[/TCP|UDP|SCTP] "
                                   "(e.g. http:8080/TCP)",
                                   optarg);
            if (o->n_endpoint_ports >= ENDPOINTSLICE_PORTS_MAX)
                return usage_error("--endpoint-port: at most %d ports", ENDPOINTSLICE_PORTS_MAX);
            for (size_t i = 0; i < o->n_endpoint_ports; i++)
                if (strcmp(o->endpoint_ports[i].name, p.name) == 0)
                    return usage_error("--endpoint-port: the name '%s' is used twice", p.name);
            o->endpoint_ports[o->n_endpoint_ports++] = p;
            break;
        }
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);

    if (o->election[0] == '\0' && o->install_probe[0] && !timing_set && !ttl_set && !mode_set &&
        !health_tuning_set)
        return OPTIONS_INSTALL_PROBE_ONLY; /* an init container's job */
    if (o->election[0] == '\0')
        return usage_error("--election NAME is required");
    if (!dns_subdomain_valid(o->election))
        return usage_error("--election: '%s' is not a valid Kubernetes name (lower case "
                           "letters, digits, '-' and '.')",
                           o->election);

    if (o->lock != LOCK_LEASES && !ttl_set && !timing_set) {
        /* The old sidecar's timings (--ttl 10s): a leader's renew deadline must stay below the
         * lease duration of every candidate sharing the lock, old ones included. */
        ttl_set = true;
        ttl = 10 * UINT64_C(1000000);
    }
    if (ttl_set) {
        if (timing_set)
            return usage_error("--ttl conflicts with --lease-duration/--renew-deadline/"
                               "--retry-period: use one or the other");
        o->lease_duration_usec = ttl;
        o->renew_deadline_usec = ttl / 2;
        o->retry_period_usec = ttl / 4;
    }
    if (o->resign_holdoff_usec == 0)
        o->resign_holdoff_usec = o->lease_duration_usec;

    if (health_tuning_set && o->health_kind == HEALTH_CHECK_NONE)
        return usage_error("--health-period/--health-timeout/--health-failures/"
                           "--health-successes need --health-http or --health-tcp");
    if (o->health_timeout_usec > o->health_period_usec) {
        if (health_timeout_set)
            return usage_error("--health-timeout must not be longer than --health-period");
        o->health_timeout_usec = o->health_period_usec; /* the default, for a short period */
    }
    if (o->n_endpoint_ports > 0 && !o->endpointslice[0])
        return usage_error("--endpoint-port needs --endpointslice SERVICE");
    if (o->endpointslice[0]) {
        e = getenv("POD_IP");
        if (o->n_endpoint_ports == 0)
            return usage_error("--endpointslice needs at least one --endpoint-port NAME:PORT");
        if (o->n_endpoint_ports > 1)
            for (size_t i = 0; i < o->n_endpoint_ports; i++)
                if (!o->endpoint_ports[i].name[0])
                    return usage_error("--endpoint-port: with several ports, each needs a name");
        if (!e || !*e)
            return usage_error("--endpointslice needs $POD_IP (the pod's IP, from the downward "
                               "API: status.podIP)");
        if (!endpointslice_address_type(e, o->pod_ip, sizeof o->pod_ip))
            return usage_error("$POD_IP: '%s' is not an IPv4 or IPv6 address", e);
    }

    if (gethostname(o->hostname, sizeof o->hostname) < 0)
        return usage_error("cannot read the hostname: %s", strerror(errno));
    o->hostname[sizeof o->hostname - 1] = '\0';

    if (o->id[0] == '\0') {
        e = getenv("POD_NAME");
        if (copy_arg(o->id, sizeof o->id, e && *e ? e : o->hostname, "$POD_NAME") < 0)
            return OPTIONS_USAGE_ERROR;
    }

    if (o->namespace_[0] == '\0' && o->lock != LOCK_LEASES)
        strcpy(o->namespace_, "default"); /* the old sidecar's --election-namespace default */
    if (o->namespace_[0] == '\0') {
        e = getenv("POD_NAMESPACE");
        if (e && *e) {
            if (copy_arg(o->namespace_, sizeof o->namespace_, e, "$POD_NAMESPACE") < 0)
                return OPTIONS_USAGE_ERROR;
        } else {
            read_sa_namespace(o->namespace_, sizeof o->namespace_);
        }
        if (o->namespace_[0] == '\0')
            strcpy(o->namespace_, "default");
    }
    if (!dns_subdomain_valid(o->namespace_) || strchr(o->namespace_, '.') ||
        strlen(o->namespace_) > 63)
        return usage_error("namespace '%s' is not a valid Kubernetes namespace", o->namespace_);

    if (o->socket_path[0] == '\0') {
        e = getenv(PROTO_SOCKET_ENV);
        if (copy_arg(o->socket_path, sizeof o->socket_path, e && *e ? e : PROTO_SOCKET_DEFAULT,
                     "$" PROTO_SOCKET_ENV) < 0)
            return OPTIONS_USAGE_ERROR;
    }

    {
        /* The engine owns the timing rules (client-go's): ask it. */
        ElectionConfig ec;
        const char *why;
        if (options_election_config(o, &ec) < 0)
            return usage_error("--id: '%s' is not a valid identity", o->id);
        why = election_config_validate(&ec);
        if (why)
            return usage_error("%s", why);
        /* Whole-second times: renews less than a second apart would run ahead of the clock. */
        if (o->retry_period_usec < lock_time_precision_usec(o->lock))
            return usage_error("--lock %s stores whole seconds: the retry period must be at "
                               "least 1s",
                               lock_type_to_string(o->lock));
    }

    if (o->use_cluster_credentials && o->server[0])
        return usage_error("--use-cluster-credentials conflicts with --server");
    return OPTIONS_OK;
}
