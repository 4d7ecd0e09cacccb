/* SPDX-License-Identifier: MIT */
/* The EndpointSlice mode's flag parsers and checks (see endpointslice_flags.h). */
#include "endpointslice_flags.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- parsing and validation ---- */

static bool port_name_valid(const char *s, size_t n)
{
    bool letter = false;

    if (n == 0 || n > ENDPOINTSLICE_PORT_NAME_MAX || s[0] == '-' || s[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            letter = true;
        else if (c == '-') {
            if (i > 0 && s[i - 1] == '-') return false;
        } else if (!(c >= '0' && c <= '9'))
            return false;
    }
    return letter;
}

int endpointslice_port_parse(const char *s, EndpointSlicePort *ret)
{
    EndpointSlicePort p = {0};
    const char *colon, *num, *slash;
    char *end;
    unsigned long port;

    if (!s || !*s || strlen(s) > 64) return -EINVAL;
    colon = strchr(s, ':');
    if (colon) {
        if (!port_name_valid(s, (size_t)(colon - s))) return -EINVAL;
        memcpy(p.name, s, (size_t)(colon - s));
        num = colon + 1;
    } else {
        num = s;
    }
    if (!isdigit((unsigned char)*num)) return -EINVAL;
    errno = 0;
    port = strtoul(num, &end, 10);
    if (errno || port < 1 || port > 65535) return -EINVAL;
    p.port = (uint16_t)port;
    slash = end;
    if (*slash == 0)
        strcpy(p.protocol, "TCP");
    else if (*slash != '/')
        return -EINVAL;
    else if (strcasecmp(slash + 1, "TCP") == 0)
        strcpy(p.protocol, "TCP");
    else if (strcasecmp(slash + 1, "UDP") == 0)
        strcpy(p.protocol, "UDP");
    else if (strcasecmp(slash + 1, "SCTP") == 0)
        strcpy(p.protocol, "SCTP");
    else
        return -EINVAL;
    *ret = p;
    return 0;
}

bool endpointslice_service_valid(const char *s)
{
    size_t n;

    if (!s) return false;
    n = strlen(s);
    if (n == 0 || n > ENDPOINTSLICE_SERVICE_MAX || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool endpointslice_label_value_valid(const char *s)
{
    size_t n;

    if (!s) return false;
    n = strlen(s);
    if (n == 0) return true;
    if (n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

const char *endpointslice_address_type(const char *ip, char *canon, size_t canon_size)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (!ip) return NULL;
    if (inet_pton(AF_INET, ip, buf) == 1) {
        if (canon && !inet_ntop(AF_INET, buf, canon, (socklen_t)canon_size)) return NULL;
        return "IPv4";
    }
    if (inet_pton(AF_INET6, ip, buf) == 1) {
        if (canon && !inet_ntop(AF_INET6, buf, canon, (socklen_t)canon_size)) return NULL;
        return "IPv6";
    }
    return NULL;
}
