/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "election.h"
#include "endpointslice.h"
#include "health.h"
#include "lock.h"

/* Everything the command line and the environment say, validated. */

#define OPTIONS_NAME_MAX 253 /* DNS subdomain: Lease names, identities */

typedef enum {
    LOG_FORMAT_TEXT,
    LOG_FORMAT_JSON,
} LogFormat;

typedef struct Options {
    char election[OPTIONS_NAME_MAX + 1];
    char namespace_[OPTIONS_NAME_MAX + 1]; /* never "" after options_parse() */
    char id[OPTIONS_NAME_MAX + 1];
    char hostname[65];
    char socket_path[108]; /* sun_path */
    mode_t socket_mode;
    gid_t socket_group; /* (gid_t)-1: none */
    bool socket_group_set;
    unsigned max_clients;

    uint64_t lease_duration_usec;
    uint64_t renew_deadline_usec;
    uint64_t retry_period_usec;
    uint64_t resign_holdoff_usec; /* 0: one lease duration */

    /* API access; all empty means in-cluster. */
    char server[512];
    char token_file[4096];
    char ca_file[4096];
    char kubeconfig[4096]; /* --kubeconfig FILE */
    bool use_cluster_credentials;

    LockType lock; /* --lock: leases (default), endpoints, endpointsleases */
    bool events;   /* --events: post core/v1 Events on leadership transitions */

    char http_addr[128];    /* --http, "" = off */
    char metrics_addr[128]; /* --metrics-addr, "" = off; a valid address (http_listen_parse()) */
    char install_probe[4096];

    /* The application's health (--health-http / --health-tcp): none by default. */
    HealthKind health_kind;
    char health_target[HEALTH_URL_MAX];
    uint64_t health_period_usec;
    uint64_t health_timeout_usec;
    unsigned health_failures;
    unsigned health_successes;

    /* EndpointSlice mode (--endpointslice SERVICE), "" = off. */
    char endpointslice[ENDPOINTSLICE_SERVICE_MAX + 1];
    char pod_ip[46]; /* $POD_IP, canonical text; required by --endpointslice */
    EndpointSlicePort endpoint_ports[ENDPOINTSLICE_PORTS_MAX];
    size_t n_endpoint_ports;

    LogFormat log_format;
    int log_level; /* syslog level (LOG_ERR ... LOG_DEBUG), log.h */
} Options;

/* What options_parse() decided; main() turns it into what to do and the exit status. The values
 * are those of the plain ints it used to return. */
typedef enum {
    OPTIONS_USAGE_ERROR = -EINVAL,  /* one line on stderr said why: exit 64 (EX_USAGE) */
    OPTIONS_OK = 0,                 /* run the daemon */
    OPTIONS_EXIT_HELP = 1,          /* --help or --version printed on stdout: exit 0 */
    OPTIONS_INSTALL_PROBE_ONLY = 2, /* --install-probe without --election: install, exit */
} OptionsResult;

/* Parses argv (and the environment, the hostname and the service account's namespace file for
 * defaults), and validates the result. */
OptionsResult options_parse(Options *o, int argc, char **argv);

/* The election engine's configuration for these options: identity, timings, start_unhealthy
 * (with a health check), the lock's time precision, check_peer_lease_duration (the Endpoints
 * modes). The one place it is built: options_parse() validates with it, elector_new() runs with
 * it after adding the seed (left 0 here). Returns 0, or election_config_init()'s -EINVAL or
 * -ENAMETOOLONG for the identity. */
int options_election_config(const Options *o, ElectionConfig *ret);

/* The flags' integers: digits only (no sign, space or 0x prefix) in base (2 to 10; 8 for
 * --socket-mode), from min to max. Returns 0, -EINVAL when s is not such a number, -ERANGE
 * when it is outside [min, max] or beyond 64 bits; *ret untouched on failure. */
int options_parse_uint(const char *s, unsigned base, uint64_t min, uint64_t max, uint64_t *ret);

/* The flags' booleans: "true" or "1", "false" or "0" (a subset of Go's strconv.ParseBool).
 * Returns 0, or -EINVAL for anything else (NULL included); *ret untouched on failure. */
int options_parse_bool(const char *s, bool *ret);

/* The usage text of --help. */
void options_help(const char *argv0);
