/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/util.h"
#include "issuer/issuer-dns-internal.h"
#include "issuer/issuer-dns-route53.h"

static bool label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int dns_name_normalize(const char *name, char **ret) {
        size_t n, label = 0;

        if (!name || !ret)
                return -EINVAL;
        n = strnlen(name, DNS_NAME_MAX + 1);
        if (n > 0 && name[n - 1] == '.')
                n--;
        if (n == 0 || n > DNS_NAME_MAX - 1)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (name[i] == '.') {
                        if (label == 0)
                                return -EINVAL;
                        label = 0;
                        continue;
                }
                if (!label_char(name[i]) || ++label > 63)
                        return -EINVAL;
        }
        char *s = malloc(n + 2);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                s[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char) (name[i] - 'A' + 'a') : name[i];
        s[n] = '.';
        s[n + 1] = 0;
        *ret = s;
        return 0;
}

/* Length without one trailing dot. */
static size_t name_len(const char *s) {
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

bool dns_name_equal(const char *a, const char *b) {
        if (!a || !b)
                return false;
        size_t la = name_len(a), lb = name_len(b);
        return la == lb && strncasecmp(a, b, la) == 0;
}

bool dns_name_in_zone(const char *name, const char *zone) {
        if (!name || !zone)
                return false;
        size_t ln = name_len(name), lz = name_len(zone);
        if (lz == 0)
                return true;
        if (ln < lz || strncasecmp(name + ln - lz, zone, lz) != 0)
                return false;
        return ln == lz || name[ln - lz - 1] == '.';
}

const dns_record *dns_records_find(const dns_records *l, const char *name) {
        for (size_t i = 0; l && i < l->n; i++)
                if (dns_name_equal(l->items[i].name, name))
                        return &l->items[i];
        return NULL;
}

int dns_records_add(dns_records *l, const char *name, const char *value) {
        _cleanup_(freep) char *n = NULL, *v = NULL;
        int r;

        if (!l)
                return -EINVAL;
        if ((r = dns_name_normalize(name, &n)) < 0 || (r = dns_name_normalize(value, &v)) < 0)
                return r;
        const dns_record *have = dns_records_find(l, n);
        if (have)
                return streq(have->value, v) ? 1 : -EEXIST;
        if (l->n >= DNS_RECORDS_MAX)
                return -E2BIG;
        if ((r = dns_grow((void **) &l->items, &l->cap, l->n + 1, sizeof *l->items)) < 0)
                return r;
        l->items[l->n++] = (dns_record) { .name = TAKE_PTR(n), .value = TAKE_PTR(v) };
        return 0;
}

void dns_records_done(dns_records *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].value);
        }
        free(l->items);
        *l = (dns_records) {};
}

int dns_records_copy(const dns_records *from, dns_records *ret) {
        dns_records c = {};
        for (size_t i = 0; from && i < from->n; i++) {
                int r = dns_records_add(&c, from->items[i].name, from->items[i].value);
                if (r < 0) {
                        dns_records_done(&c);
                        return r;
                }
        }
        *ret = c;
        return 0;
}

int dns_records_from_validation_options(json_t *dvos, dns_records *ret, size_t *ret_waiting) {
        dns_records l = {};
        size_t waiting = 0, i;
        json_t *o;
        int r = 0;

        if (!json_is_array(dvos) || !ret)
                return -EBADMSG;
        json_array_foreach(dvos, i, o) {
                const char *method = json_string_value(json_object_get(o, "ValidationMethod"));
                json_t *rr = json_object_get(o, "ResourceRecord");
                if (!json_is_object(o) || (method && !streq(method, "DNS")))
                        continue;
                if (!rr) {
                        waiting++;
                        continue;
                }
                const char *type = json_string_value(json_object_get(rr, "Type"));
                if (!type || !streq(type, "CNAME")) {
                        r = -EBADMSG;
                        break;
                }
                r = dns_records_add(&l, json_string_value(json_object_get(rr, "Name")),
                                    json_string_value(json_object_get(rr, "Value")));
                if (r == -EINVAL || r == -EEXIST)
                        r = -EBADMSG;
                if (r < 0)
                        break;
        }
        if (r < 0) {
                dns_records_done(&l);
                return r;
        }
        *ret = l;
        if (ret_waiting)
                *ret_waiting = waiting;
        return 0;
}

char *dns_records_format_zone(const dns_records *l, uint64_t ttl) {
        size_t len = 0, n = l ? l->n : 0;
        for (size_t i = 0; i < n; i++)
                len += strlen(l->items[i].name) + strlen(l->items[i].value) + 40;
        char *s = malloc(len + 1), *p = s;
        if (!s)
                return NULL;
        *p = 0;
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s %" PRIu64 " IN CNAME %s\n", l->items[i].name, ttl, l->items[i].value);
        return s;
}

int dns_records_to_json(const dns_records *l, json_t **ret) {
        json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; l && i < l->n; i++) {
                json_t *o = json_pack("{s:s, s:s, s:s}", "name", l->items[i].name, "type", "CNAME", "value",
                                      l->items[i].value);
                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

int dns_records_from_json(json_t *a, dns_records *ret) {
        dns_records l = {};
        size_t i;
        json_t *o;
        int r = 0;

        if (!json_is_array(a) || json_array_size(a) > DNS_RECORDS_MAX || !ret)
                return -EBADMSG;
        json_array_foreach(a, i, o) {
                const char *type = json_string_value(json_object_get(o, "type"));
                if (!type || !streq(type, "CNAME")) {
                        r = -EBADMSG;
                        break;
                }
                r = dns_records_add(&l, json_string_value(json_object_get(o, "name")),
                                    json_string_value(json_object_get(o, "value")));
                if (r < 0 && r != -ENOMEM)
                        r = -EBADMSG;
                if (r < 0)
                        break;
        }
        if (r < 0) {
                dns_records_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

const char *dns_action_to_string(dns_action a) {
        switch (a) {
        case DNS_ACTION_CREATE:
                return "create";
        case DNS_ACTION_DELETE:
                return "delete";
        default:
                return NULL;
        }
}

int dns_grow(void **p, size_t *cap, size_t need, size_t size) {
        if (need <= *cap)
                return 0;
        size_t c = *cap ? *cap * 2 : 8;
        if (c < need)
                c = need;
        void *n = reallocarray(*p, c, size);
        if (!n)
                return -ENOMEM;
        *p = n;
        *cap = c;
        return 0;
}

dns_job *dns_job_cancel(dns_job *j) {
        if (j)
                j->cancel(j);
        return NULL;
}

char *dns_escape(const char *s, size_t max) {
        if (!s)
                return NULL;
        size_t n = strnlen(s, max), cut = s[n] != 0;
        char *out = malloc(n * 4 + 4), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\n')
                        o = stpcpy(o, "\\n");
                else if (c == '\r')
                        o = stpcpy(o, "\\r");
                else if (c == '\t')
                        o = stpcpy(o, "\\t");
                else if (c < 0x20 || c == 0x7f)
                        o += sprintf(o, "\\x%02x", c);
                else
                        *o++ = (char) c;
        }
        if (cut)
                o = stpcpy(o, "...");
        *o = 0;
        return out;
}

int dns_publish(const dns_publish_params *p, const dns_records *records, dns_action action, dns_callback cb,
                void *userdata, dns_job **ret) {
        if (!p || !records || !cb || !dns_action_to_string(action) || p->ttl < 1 || p->ttl > 2147483647)
                return -EINVAL;
        switch (p->provider) {
        case CONF_DNS_MANUAL:
                return DNS_PUBLISH_MANUAL;
        case CONF_DNS_ROUTE53:
                if (!p->route53)
                        return -EINVAL;
                return dns_route53_submit(p->route53, records, action, p->hosted_zone_id, p->ttl, p->timeout_usec,
                                          p->cert_name, cb, userdata, ret);
        case CONF_DNS_EXEC:
                if (!p->event || !p->command || !p->command[0])
                        return -EINVAL;
                return dns_exec_run(p->event, p->command, records, action, p->ttl, p->timeout_usec, p->cert_name,
                                    cb, userdata, ret);
        default:
                return -EINVAL;
        }
}
