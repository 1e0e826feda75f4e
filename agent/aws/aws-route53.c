/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-route53.h"
#include "aws/aws-sigv4.h"
#include "basic/util.h"

#define API "/2013-04-01"
#define NAME_MAX_LEN 1024
#define VALUE_MAX_LEN 4000
#define COMMENT_MAX_LEN 256
#define BATCH_MAX 1000

const char *route53_action_to_string(route53_action a) {
        switch (a) {
        case ROUTE53_CREATE:
                return "CREATE";
        case ROUTE53_UPSERT:
                return "UPSERT";
        case ROUTE53_DELETE:
                return "DELETE";
        }
        return NULL;
}

bool route53_text_valid(const char *s) {
        if (!s)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
                        return false;
        return true;
}

char *route53_xml_escape(const char *s) {
        size_t n = 0;
        if (!route53_text_valid(s))
                return NULL;
        for (const char *p = s; *p; p++)
                n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' || *p == '\'' ? 6 : *p == '\r' ? 5 : 1;
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                                  : *p == '"' ? "&quot;" : *p == '\'' ? "&apos;" : *p == '\r' ? "&#13;" : NULL;
                if (rep) {
                        size_t l = strlen(rep);
                        memcpy(o, rep, l);
                        o += l;
                } else
                        *o++ = *p;
        }
        *o = 0;
        return out;
}

static bool type_valid(const char *t) {
        static const char *const types[] = { "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR",
                                             "SOA", "SPF", "SRV", "TXT", "HTTPS", "SVCB", "TLSA", "SSHFP" };
        for (size_t i = 0; t && i < ELEMENTSOF(types); i++)
                if (streq(t, types[i]))
                        return true;
        return false;
}

static int append(char **buf, size_t *len, const char *s) {
        size_t l = strlen(s);
        char *n = realloc(*buf, *len + l + 1);
        if (!n)
                return -ENOMEM;
        memcpy(n + *len, s, l + 1);
        *buf = n;
        *len += l;
        return 0;
}

static int append_elem(char **buf, size_t *len, const char *tag, const char *text) {
        _cleanup_(freep) char *e = route53_xml_escape(text);
        if (!e)
                return -ENOMEM;
        _cleanup_(freep) char *x = strprintf("<%s>%s</%s>", tag, e, tag);
        return x ? append(buf, len, x) : -ENOMEM;
}

int route53_change_batch_xml(const route53_change *changes, size_t n, const char *comment, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0;
        char ttl[32];
        int r;

        if (!ret || !changes || n == 0 || n > BATCH_MAX)
                return -EINVAL;
        if (comment && (strlen(comment) > COMMENT_MAX_LEN || !route53_text_valid(comment)))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                const route53_change *ch = &changes[i];
                if (!route53_action_to_string(ch->action) || !type_valid(ch->type) || isempty(ch->name) ||
                    strlen(ch->name) > NAME_MAX_LEN || !route53_text_valid(ch->name) || isempty(ch->value) ||
                    strlen(ch->value) > VALUE_MAX_LEN || !route53_text_valid(ch->value) || ch->ttl > 2147483647)
                        return -EINVAL;
        }
        if ((r = append(&buf, &len, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/"
                                    "2013-04-01/\"><ChangeBatch>")) < 0)
                return r;
        if (comment && (r = append_elem(&buf, &len, "Comment", comment)) < 0)
                return r;
        if ((r = append(&buf, &len, "<Changes>")) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const route53_change *ch = &changes[i];
                snprintf(ttl, sizeof ttl, "%" PRIu64, ch->ttl);
                if ((r = append(&buf, &len, "<Change>")) < 0 ||
                    (r = append_elem(&buf, &len, "Action", route53_action_to_string(ch->action))) < 0 ||
                    (r = append(&buf, &len, "<ResourceRecordSet>")) < 0 ||
                    (r = append_elem(&buf, &len, "Name", ch->name)) < 0 ||
                    (r = append_elem(&buf, &len, "Type", ch->type)) < 0 ||
                    (r = append_elem(&buf, &len, "TTL", ttl)) < 0 ||
                    (r = append(&buf, &len, "<ResourceRecords><ResourceRecord>")) < 0 ||
                    (r = append_elem(&buf, &len, "Value", ch->value)) < 0 ||
                    (r = append(&buf, &len, "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>")) < 0)
                        return r;
        }
        if ((r = append(&buf, &len, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>")) < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int id_normalize(const char *id, const char *prefix, char **ret) {
        if (!id || !ret)
                return -EINVAL;
        size_t pl = strlen(prefix);
        if (strneq(id, prefix, pl))
                id += pl;
        size_t n = strlen(id);
        if (n == 0 || n > 32)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
                      (id[i] >= '0' && id[i] <= '9')))
                        return -EINVAL;
        char *s = strdup(id);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int route53_zone_id_normalize(const char *id, char **ret) {
        return id_normalize(id, "/hostedzone/", ret);
}

int route53_change_id_normalize(const char *id, char **ret) {
        return id_normalize(id, "/change/", ret);
}

/* Appends "&key=value" (encoded) to *q. */
static int query_add(char **q, const char *key, const char *value) {
        _cleanup_(freep) char *ev = sigv4_uri_encode(value);
        if (!ev)
                return -ENOMEM;
        char *n = strprintf("%s%s%s=%s", *q ? *q : "", *q ? "&" : "", key, ev);
        if (!n)
                return -ENOMEM;
        free(*q);
        *q = n;
        return 0;
}

/* A DNS name with its trailing dot, bounded and printable. */
static int fqdn(const char *name, char **ret) {
        size_t n = strlen(name);
        if (n == 0 || n > NAME_MAX_LEN || !route53_text_valid(name) || strpbrk(name, " \t\r\n"))
                return -EINVAL;
        char *s = name[n - 1] == '.' ? strdup(name) : strprintf("%s.", name);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int route53_list_hosted_zones_by_name(aws_client *c, const char *dns_name, const char *hosted_zone_id,
                                      unsigned max_items, aws_callback cb, void *userdata, aws_request **ret_req) {
        _cleanup_(freep) char *q = NULL, *name = NULL, *zid = NULL;
        char num[16];
        int r;

        if (dns_name && (r = fqdn(dns_name, &name)) < 0)
                return r;
        if (hosted_zone_id && (r = route53_zone_id_normalize(hosted_zone_id, &zid)) < 0)
                return r;
        if (max_items > 100)
                return -EINVAL;
        /* Sorted by key, as signed. */
        if (name && (r = query_add(&q, "dnsname", name)) < 0)
                return r;
        if (zid && (r = query_add(&q, "hostedzoneid", zid)) < 0)
                return r;
        if (max_items) {
                snprintf(num, sizeof num, "%u", max_items);
                if ((r = query_add(&q, "maxitems", num)) < 0)
                        return r;
        }
        return aws_call_rest(c, AWS_SERVICE_ROUTE53, "ListHostedZonesByName", "GET", API "/hostedzonesbyname", q, NULL,
                             0, cb, userdata, ret_req);
}

int route53_change_resource_record_sets(aws_client *c, const char *zone_id, const route53_change *changes, size_t n,
                                        const char *comment, aws_callback cb, void *userdata,
                                        aws_request **ret_req) {
        _cleanup_(freep) char *zid = NULL, *xml = NULL, *path = NULL;
        unsigned flags = AWS_CALL_IDEMPOTENT_TOKEN;
        int r;

        if ((r = route53_zone_id_normalize(zone_id, &zid)) < 0)
                return r;
        if ((r = route53_change_batch_xml(changes, n, comment, &xml)) < 0)
                return r;
        /* Repeating an UPSERT gives the same records; CREATE and DELETE fail
         * the second time, so those are retried only when surely not sent. */
        for (size_t i = 0; i < n; i++)
                if (changes[i].action != ROUTE53_UPSERT)
                        flags = 0;
        path = strprintf(API "/hostedzone/%s/rrset/", zid);
        if (!path)
                return -ENOMEM;
        return aws_call_rest(c, AWS_SERVICE_ROUTE53, "ChangeResourceRecordSets", "POST", path, NULL, xml, flags, cb,
                             userdata, ret_req);
}

int route53_get_change(aws_client *c, const char *change_id, aws_callback cb, void *userdata,
                       aws_request **ret_req) {
        _cleanup_(freep) char *id = NULL, *path = NULL;
        int r;
        if ((r = route53_change_id_normalize(change_id, &id)) < 0)
                return r;
        path = strprintf(API "/change/%s", id);
        if (!path)
                return -ENOMEM;
        return aws_call_rest(c, AWS_SERVICE_ROUTE53, "GetChange", "GET", path, NULL, NULL, 0, cb, userdata, ret_req);
}

int route53_list_resource_record_sets(aws_client *c, const char *zone_id, const char *start_name,
                                      const char *start_type, unsigned max_items, aws_callback cb, void *userdata,
                                      aws_request **ret_req) {
        _cleanup_(freep) char *zid = NULL, *path = NULL, *q = NULL, *name = NULL;
        char num[16];
        int r;

        if ((r = route53_zone_id_normalize(zone_id, &zid)) < 0)
                return r;
        if (start_name && (r = fqdn(start_name, &name)) < 0)
                return r;
        if ((start_type && (!start_name || !type_valid(start_type))) || max_items > 300)
                return -EINVAL;
        if (max_items) {
                snprintf(num, sizeof num, "%u", max_items);
                if ((r = query_add(&q, "maxitems", num)) < 0)
                        return r;
        }
        if (name && (r = query_add(&q, "name", name)) < 0)
                return r;
        if (start_type && (r = query_add(&q, "type", start_type)) < 0)
                return r;
        path = strprintf(API "/hostedzone/%s/rrset", zid);
        if (!path)
                return -ENOMEM;
        return aws_call_rest(c, AWS_SERVICE_ROUTE53, "ListResourceRecordSets", "GET", path, q, NULL, 0, cb, userdata,
                             ret_req);
}

int route53_change_info(json_t *resp, const char **ret_id, const char **ret_status) {
        json_t *ci = json_object_get(resp, "ChangeInfo");
        const char *id = json_string_value(json_object_get(ci, "Id"));
        const char *st = json_string_value(json_object_get(ci, "Status"));
        if (isempty(id) || isempty(st))
                return -EBADMSG;
        if (strneq(id, "/change/", 8))
                id += 8;
        if (ret_id)
                *ret_id = id;
        if (ret_status)
                *ret_status = st;
        return 0;
}

size_t route53_list_n(json_t *v) {
        if (json_is_array(v))
                return json_array_size(v);
        return json_is_object(v) ? 1 : 0;
}

json_t *route53_list_get(json_t *v, size_t i) {
        if (json_is_array(v))
                return json_array_get(v, i);
        return json_is_object(v) && i == 0 ? v : NULL;
}
