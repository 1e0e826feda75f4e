/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The DNS check: before waiting on ACM, confirm each validation CNAME by
 * asking DNS servers directly, asynchronously on the sd-event loop
 * (c-ares, sockets and timers of the loop; never a blocking resolver call).
 *
 * Which servers: the certificate's configured nameservers ("IP",
 * "IP:PORT", "[IPv6]:PORT"; asked with recursion desired, so they may be
 * resolvers or authoritative servers), or else the zone's authoritative
 * servers: the zone cut is found by asking the resolvers (/etc/resolv.conf
 * or dns_check_options.resolvers) for NS records from the record's parent
 * name upwards (a negative answer's SOA names the zone at once), the NS
 * host names are resolved to addresses, and each address is asked with
 * recursion not desired. Zones and their servers are cached for the
 * checker's life.
 *
 * Each record is asked of every server; the verdict is the worst answer:
 * WRONG (some server has another value) before MISSING (NXDOMAIN or
 * NODATA somewhere) before OK (at least one server answered with the
 * value) before ERROR (no server could answer: timeout, refused,
 * SERVFAIL, unreachable, or the zone's servers could not be found).
 *
 * Bounded: every query has a timeout and a number of tries, at most
 * max_inflight queries are outstanding per checker, at most 8 servers per
 * zone and 16 zone-cut steps per name.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "issuer/issuer-dns.h"

/* One server address. */
typedef struct dns_server {
        struct sockaddr_storage addr;  /* AF_INET or AF_INET6, port set (53 by default) */
        socklen_t addr_len;
} dns_server;

/*
 * Parses "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare IPv6 address
 * has no port); port 1..65535, default 53. Host names are refused: the
 * check must not depend on the resolver it checks. Returns 0 and sets
 * *ret, -EINVAL.
 */
int dns_server_parse(const char *s, dns_server *ret);

/* "192.0.2.1:53", "[2001:db8::1]:5353" into buf (≥ 64 bytes). Returns buf. */
const char *dns_server_format(const dns_server *s, char *buf, size_t size);

typedef struct dns_check_options {
        char *const *resolvers;   /* NULL-terminated "IP[:PORT]" list for the zone-cut look-up;
                                   * NULL = /etc/resolv.conf */
        uint64_t timeout_usec;    /* per try; 0 = 2 s */
        unsigned tries;           /* per query and server; 0 = 2 (each try doubles the timeout) */
        unsigned max_inflight;    /* outstanding queries per checker; 0 = 64 */
} dns_check_options;

typedef struct dns_checker dns_checker;
typedef struct dns_check_job dns_check_job;

/*
 * A checker on loop e (one per engine: it caches zones and servers). o may
 * be NULL. Returns 0 and sets *ret, -EINVAL (a resolver that does not
 * parse), -ENOMEM, -EIO (c-ares could not initialise).
 */
int dns_checker_new(sd_event *e, const dns_check_options *o, dns_checker **ret);

/* Frees c: pending jobs are dropped without their callbacks. Accepts NULL;
 * returns NULL. */
dns_checker *dns_checker_free(dns_checker *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(dns_checker *, dns_checker_free);

typedef enum dns_check_status {
        DNS_CHECK_OK,
        DNS_CHECK_MISSING,   /* NXDOMAIN or NODATA */
        DNS_CHECK_WRONG,     /* a CNAME with another value */
        DNS_CHECK_ERROR,     /* no answer: timeout, refused, SERVFAIL, unreachable, no zone */
        _DNS_CHECK_STATUS_MAX,
} dns_check_status;

/* "ok", "missing", "wrong", "error"; NULL when out of range. */
const char *dns_check_status_to_string(dns_check_status s);

/* The verdict on one record. Strings valid during the callback only. */
typedef struct dns_check_result {
        const char *name;          /* the record */
        const char *expected;      /* its value */
        dns_check_status status;
        const char *seen;          /* WRONG: the value a server has (escaped); else NULL */
        const char *server;        /* the server that gave the verdict ("192.0.2.1:53"), NULL if none */
        const char *detail;        /* "NXDOMAIN", "NODATA", "timeout", "REFUSED", "SERVFAIL",
                                    * "connection refused", "no NS records for …", …; NULL for OK */
} dns_check_result;

/* Called once from the loop with one result per record, in the order of
 * the records. */
typedef void (*dns_check_callback)(const dns_check_result *results, size_t n, void *userdata);

/*
 * Checks every record of records. nameservers (NULL-terminated, may be
 * NULL or empty) are the certificate's configured servers; without them
 * the zone's authoritative servers are asked. *ret (may be NULL) is the
 * handle for dns_check_job_cancel(), valid until the callback returns.
 * Returns 0 (the callback comes later, also for an empty list), -EINVAL (a
 * nameserver that does not parse), -ENOMEM.
 */
int dns_check_records(dns_checker *c, const dns_records *records, char *const *nameservers, dns_check_callback cb,
                      void *userdata, dns_check_job **ret);

/* Queries sent and not answered yet (never more than max_inflight), for
 * metrics and tests. */
unsigned dns_checker_inflight(const dns_checker *c);

/* Cancels a pending check: its callback is not called. Accepts NULL;
 * returns NULL. */
dns_check_job *dns_check_job_cancel(dns_check_job *j);

/* The operator's line for one result, e.g.
 *   "_x.example.com. CNAME is _z.other.aws. at 192.0.2.1:53, not _y.acm-validations.aws."
 *   "_x.example.com. is missing at 192.0.2.1:53 (NXDOMAIN)"
 * Returns a malloc'd string, NULL on OOM. */
char *dns_check_result_format(const dns_check_result *r);

/*
 * What a DNS answer says about name, for the checker and its tests.
 * Parses the message abuf (alen bytes) and returns in *ret the target of
 * the first CNAME (qtype 5) or NS targets (qtype 2) in the answer section
 * owned by name (case-insensitive), and in *ret_soa the owner of the SOA
 * in the authority section (the zone of a negative answer), when asked.
 */
typedef struct dns_answer {
        int rcode;           /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED… */
        bool truncated;
        bool cname_elsewhere; /* the answer holds a CNAME for name but qtype was NS */
        char **targets;      /* NULL-terminated (CNAME: at most one), possibly empty */
        char *soa_zone;      /* owner of an authority SOA, or NULL */
} dns_answer;

/* Returns 0 and fills *ret (free with dns_answer_done()), -EBADMSG for a
 * malformed message, -ENOMEM. */
int dns_answer_parse(const unsigned char *abuf, size_t alen, const char *name, int qtype, dns_answer *ret);
void dns_answer_done(dns_answer *a);
