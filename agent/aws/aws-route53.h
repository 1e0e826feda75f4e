/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Route 53 (REST-XML) on top of the AWS client (aws_call_rest()): what DNS
 * validation of ACM certificates and `check --online` need. Answers come
 * as aws_xml_to_json() made them (a repeated element is an array, a single
 * one an object: walk lists with route53_list_n()/route53_list_get()).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"

typedef enum route53_action {
        ROUTE53_CREATE,
        ROUTE53_UPSERT,
        ROUTE53_DELETE,
} route53_action;

/* One record set change (one value; CNAME for validation records). */
typedef struct route53_change {
        route53_action action;
        const char *name;       /* "_x1.example.com." */
        const char *type;       /* "CNAME" */
        uint64_t ttl;           /* seconds (1..2147483647) */
        const char *value;      /* "_y2.acm-validations.aws." */
} route53_change;

/* "CREATE", "UPSERT", "DELETE"; NULL when out of range. */
const char *route53_action_to_string(route53_action a);

/*
 * XML-escapes s for element content (& < > " '). Returns a malloc'd string,
 * NULL on OOM or when s holds a character XML 1.0 cannot carry (control
 * characters other than tab/newline/CR) — check s with
 * route53_text_valid() first to tell the two apart.
 */
char *route53_xml_escape(const char *s);
bool route53_text_valid(const char *s);

/*
 * Builds the ChangeResourceRecordSetsRequest document for n (1..1000)
 * changes with an optional comment (≤ 256 bytes). Returns 0 and sets *ret
 * (malloc'd), -EINVAL for an empty batch, a bad type/TTL, or a name, value
 * or comment that is empty/too long/unrepresentable, -ENOMEM.
 */
int route53_change_batch_xml(const route53_change *changes, size_t n, const char *comment, char **ret);

/*
 * A hosted zone id as the API wants it in paths: "Z123…" from "Z123…" or
 * "/hostedzone/Z123…"; letters and digits only, ≤ 32. Returns 0 and sets
 * *ret (malloc'd), -EINVAL, -ENOMEM. Same for change ids ("/change/C…").
 */
int route53_zone_id_normalize(const char *id, char **ret);
int route53_change_id_normalize(const char *id, char **ret);

/*
 * ListHostedZonesByName from dns_name (may be NULL; a trailing dot is
 * added), optionally starting at hosted_zone_id, max_items 0 = AWS default.
 * Answer: {"HostedZones": {"HostedZone": … }, "IsTruncated", …}.
 * Returns 0, -EINVAL, -ENOMEM; the callback as for aws_call().
 */
int route53_list_hosted_zones_by_name(aws_client *c, const char *dns_name, const char *hosted_zone_id,
                                      unsigned max_items, aws_callback cb, void *userdata, aws_request **ret_req);

/*
 * ChangeResourceRecordSets on zone_id. A batch of only UPSERTs is retried
 * like an idempotent call; one with CREATE/DELETE only when it surely did
 * not arrive. Answer: {"ChangeInfo": {"Id": "/change/C…", "Status":
 * "PENDING", …}} (see route53_change_info()). Returns 0, -EINVAL, -ENOMEM.
 */
int route53_change_resource_record_sets(aws_client *c, const char *zone_id, const route53_change *changes, size_t n,
                                        const char *comment, aws_callback cb, void *userdata,
                                        aws_request **ret_req);

/* GetChange (change_id with or without "/change/"). Answer as above. */
int route53_get_change(aws_client *c, const char *change_id, aws_callback cb, void *userdata,
                       aws_request **ret_req);

/*
 * ListResourceRecordSets of zone_id, starting at start_name/start_type
 * (both may be NULL), max_items 0 = AWS default. Answer:
 * {"ResourceRecordSets": {"ResourceRecordSet": …}, "IsTruncated",
 * "NextRecordName", "NextRecordType", …}.
 */
int route53_list_resource_record_sets(aws_client *c, const char *zone_id, const char *start_name,
                                      const char *start_type, unsigned max_items, aws_callback cb, void *userdata,
                                      aws_request **ret_req);

/* From a ChangeResourceRecordSets/GetChange answer: the change id without
 * "/change/" and the status ("PENDING", "INSYNC"). Borrowed pointers
 * (into resp, except the id which is within the same string). Returns 0 or
 * -EBADMSG. */
int route53_change_info(json_t *resp, const char **ret_id, const char **ret_status);

/* Lists in answers: v may be NULL (0 items), an object (1) or an array. */
size_t route53_list_n(json_t *v);
json_t *route53_list_get(json_t *v, size_t i);
