/* SPDX-License-Identifier: MIT */
#pragma once

/* The EndpointSlice mode's flag parsers and checks (--endpointslice SERVICE,
 * --endpoint-port, $POD_IP): pure, what the daemon's flags and the
 * EndpointSlice codec (endpointslice_codec.h) share. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENDPOINTSLICE_PORTS_MAX 32
#define ENDPOINTSLICE_PORT_NAME_MAX 15 /* an IANA service name */
#define ENDPOINTSLICE_SERVICE_MAX 63   /* a DNS-1035 label */

typedef struct EndpointSlicePort {
    char name[ENDPOINTSLICE_PORT_NAME_MAX + 1]; /* "" allowed when there is one port */
    uint16_t port;
    char protocol[5]; /* "TCP", "UDP", "SCTP" */
} EndpointSlicePort;

/* --endpoint-port: "name:port[/proto]" or "port[/proto]"; proto TCP (the
 * default), UDP or SCTP, case-insensitive; name lower-case letters, digits
 * and '-', at most 15, at least one letter, no leading/trailing/double '-'
 * (a Service port name). Returns 0, or -EINVAL with *ret untouched. */
int endpointslice_port_parse(const char *s, EndpointSlicePort *ret);

/* A Service name: a DNS-1035 label. */
bool endpointslice_service_valid(const char *s);

/* A label value (what a zone is: the node's topology.kubernetes.io/zone label): at most 63
 * characters, alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric;
 * "" is one too. */
bool endpointslice_label_value_valid(const char *s);

/* "IPv4" or "IPv6" for a numeric address, NULL if it is not one. With canon
 * (INET6_ADDRSTRLEN bytes), the canonical text of the address is written. */
const char *endpointslice_address_type(const char *ip, char *canon, size_t canon_size);
