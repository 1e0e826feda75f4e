/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The Route 53 publisher: one per engine and per credentials, shared by
 * every certificate validated through Route 53 with those credentials.
 *
 * Certificates submit their records (dns_route53_submit()) and get one
 * callback when all of them are INSYNC, or when one failed. Records of
 * every certificate pending in the same hosted zone within the batch
 * window go into one ChangeResourceRecordSets (sent at once when a full
 * batch is queued; see dns_route53_batch_fit() for what fits), at most
 * one ChangeResourceRecordSets in flight per zone; each change is then
 * polled with GetChange, first after poll_first, doubling up to poll_max,
 * until INSYNC. A record already published (INSYNC) by this publisher with
 * the same value and TTL is not sent again; a record in flight is waited
 * for, not sent twice.
 *
 * Zones: a certificate's hosted_zone_id is used as given. Without one,
 * the account's zones are listed once (ListHostedZonesByName, 100 per
 * page, listed again when a record matches none and the list is older
 * than 5 minutes) and each record goes to the public zone with the
 * longest matching suffix (dns_route53_pick_zone()).
 *
 * Failures: Throttling and PriorRequestNotComplete that remain after the
 * AWS client's own retries, 5xx and network errors are retried with
 * exponential backoff (2 s doubling to 30 s) while a certificate waits;
 * InvalidChangeBatch fails the records it names (the others are sent
 * again without them; a DELETE of a record that is not there counts as
 * done); NoSuchHostedZone, AccessDenied and other errors fail every
 * record of the batch. A certificate that is not INSYNC within its
 * timeout fails with -ETIMEDOUT and what is still pending.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "aws/aws.h"
#include "issuer/issuer-dns.h"

/* Route 53's limits on one ChangeResourceRecordSets request; an UPSERT
 * counts twice towards both. */
#define DNS_ROUTE53_BATCH_RECORDS 1000
#define DNS_ROUTE53_BATCH_VALUE_CHARS 32000

typedef struct dns_route53_options {
        uint64_t batch_window_usec;  /* wait this long for more records; 0 = default 2 s */
        uint64_t poll_first_usec;    /* first GetChange after the change; 0 = default 2 s */
        uint64_t poll_max_usec;      /* GetChange interval cap; 0 = default 30 s */
} dns_route53_options;

/*
 * A publisher on loop e sending with client (a reference is taken). o may
 * be NULL (defaults). Nothing is sent here. Returns 0 and sets *ret,
 * -EINVAL, -ENOMEM.
 */
int dns_route53_new(sd_event *e, aws_client *client, const dns_route53_options *o, dns_route53 **ret);

/*
 * A publisher with its own AWS client for Route 53 only: base (the
 * agent's aws: settings, which must outlive the publisher) with
 * aws.role_arn replaced by role_arn (dns.role_arn of the certificate).
 * Returns 0 and sets *ret, -ENOMEM, or an error of aws_client_new() (bad
 * settings, libcurl not loadable: aws_client_strerror() says why).
 */
int dns_route53_new_for_role(sd_event *e, const conf_aws *base, const char *role_arn,
                             const dns_route53_options *o, dns_route53 **ret);

/* Frees p: every pending job is dropped without its callback, every AWS
 * request cancelled. Accepts NULL; returns NULL. */
dns_route53 *dns_route53_free(dns_route53 *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(dns_route53 *, dns_route53_free);

/* The client the publisher sends with (borrowed; for counters). */
aws_client *dns_route53_client(dns_route53 *p);

/*
 * Submits records of certificate cert_name (may be NULL) for action into
 * zone_id ("Z…" or "/hostedzone/Z…"; NULL = found by name) with ttl
 * (1..2147483647). cb is called once from the loop when every record is
 * INSYNC (error 0) or when the first one failed (the other records still
 * go on for the certificates sharing them), or at timeout_usec after the
 * submission (0 = no limit) with -ETIMEDOUT; see dns_result for the
 * errors. A DELETE of a record that another certificate published or
 * queued in this publisher's life fails with -EBUSY and nothing is
 * deleted; so does a CREATE of a record in flight with another value.
 * *ret (may be NULL) is the handle for dns_job_cancel(). Returns 0,
 * -EINVAL (bad zone id, ttl, action or duplicate names with different
 * values), -ENOMEM.
 */
int dns_route53_submit(dns_route53 *p, const dns_records *records, dns_action action, const char *zone_id,
                       uint64_t ttl, uint64_t timeout_usec, const char *cert_name, dns_callback cb, void *userdata,
                       dns_job **ret);

/*
 * How many of the n records at the head of a queue fit into one
 * ChangeResourceRecordSets: value_len[i] is the length of record i's
 * value. At most DNS_ROUTE53_BATCH_RECORDS resource records and
 * DNS_ROUTE53_BATCH_VALUE_CHARS value characters, an UPSERT (CREATE)
 * counting twice towards both: 500 records of up to 32 characters, 246 of
 * ACM's 65-character values (1000 ACM records: 5 calls); a DELETE twice
 * as many. At least 1 when
 * n > 0 (a single record always goes).
 */
size_t dns_route53_batch_fit(const size_t *value_len, size_t n, dns_action action);

/* One hosted zone, as ListHostedZonesByName describes it. */
typedef struct dns_route53_zone {
        char *id;            /* "Z0EMULATOREXAMPLE01" (without "/hostedzone/") */
        char *name;          /* "example.com." */
        bool private_zone;
} dns_route53_zone;

/*
 * Picks the zone for name among zones: the public zone with the longest
 * name that name is in (ACM validates through public DNS). When a private
 * zone of the same or a longer matching name was passed over, *ret_notice
 * (may be NULL) receives a malloc'd sentence saying so, else NULL.
 * Returns 0 and sets *ret_index; -ENOENT when no public zone matches
 * (*ret_notice then names any private zone that did); -ENOMEM.
 */
int dns_route53_pick_zone(const dns_route53_zone *zones, size_t n, const char *name, size_t *ret_index,
                          char **ret_notice);

/*
 * From a ListHostedZonesByName answer: appends its zones to *zones / *n
 * (realloc'd) and sets *ret_next_name / *ret_next_id (borrowed from resp)
 * when IsTruncated, else NULL. Returns 0, -EBADMSG (a zone without Id or
 * Name, a truncated page without NextDNSName), -ENOMEM; on error *zones
 * and *n keep the zones appended before.
 */
int dns_route53_parse_zones(json_t *resp, dns_route53_zone **zones, size_t *n, const char **ret_next_name,
                            const char **ret_next_id);

/* True when Route 53's error message (InvalidChangeBatch) names the
 * record name ("name." or "name", case-insensitive, whole name). */
bool dns_route53_message_names(const char *message, const char *name);
