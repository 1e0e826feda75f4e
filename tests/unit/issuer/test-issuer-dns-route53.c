/* SPDX-License-Identifier: Apache-2.0 */
/* The Route 53 publisher's pure parts: what fits a batch, which zone a
 * record goes to, the zone list, which records an error names. The
 * publisher against the emulator: tests/integration/test-dns-route53.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "issuer/issuer-dns-route53.h"

/* Zone tables below are string literals; nothing writes to them. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

static void test_batch_fit(void **state _unused_) {
        static size_t lens[2000];
        /* An ACM value: "_" + 32 hex + "." + 10 letters + ".acm-validations.aws." */
        const size_t acm = strlen("_3e2f8c1e5a8b4f0c9d7e6a5b4c3d2e1f.hkmpvcwbzw.acm-validations.aws.");

        assert_int_equal(acm, 65);
        for (size_t i = 0; i < 2000; i++)
                lens[i] = acm;
        /* UPSERT counts twice: 32000 / (2 * 65) = 246 values. */
        assert_int_equal(dns_route53_batch_fit(lens, 1000, DNS_ACTION_CREATE), 246);
        assert_int_equal(dns_route53_batch_fit(lens, 1000, DNS_ACTION_DELETE), 492);
        assert_int_equal(dns_route53_batch_fit(lens, 100, DNS_ACTION_CREATE), 100);
        for (size_t i = 0; i < 2000; i++)
                lens[i] = 10;
        /* 1000 ResourceRecord elements, an UPSERT counting twice. */
        assert_int_equal(dns_route53_batch_fit(lens, 2000, DNS_ACTION_CREATE), 500);
        assert_int_equal(dns_route53_batch_fit(lens, 2000, DNS_ACTION_DELETE), 1000);
        assert_int_equal(dns_route53_batch_fit(lens, 0, DNS_ACTION_CREATE), 0);
        /* A record too large for any batch still goes alone (Route 53 says why). */
        lens[0] = 40000;
        assert_int_equal(dns_route53_batch_fit(lens, 5, DNS_ACTION_CREATE), 1);
        /* The benchmark's promise: 1000 ACM records take at most 5 calls. */
        for (size_t i = 0; i < 1000; i++)
                lens[i] = acm;
        size_t calls = 0;
        for (size_t done = 0; done < 1000; calls++)
                done += dns_route53_batch_fit(lens + done, 1000 - done, DNS_ACTION_CREATE);
        assert_int_equal(calls, 5);
}

static void test_pick_zone(void **state _unused_) {
        dns_route53_zone zones[] = {
                { "Z1", "example.com.", false },
                { "Z2", "example.com.", true },
                { "Z3", "sub.example.com.", true },
                { "Z4", "example.org.", false },
                { "Z5", "www.example.org.", false },
                { "Z6", "internal.example.net.", true },
        };
        size_t n = ELEMENTSOF(zones), k = 99;
        char *notice = NULL;

        /* Public over private of the same name, and said so. */
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.example.com.", &k, &notice), 0);
        assert_int_equal(k, 0);
        assert_non_null(notice);
        assert_non_null(strstr(notice, "public hosted zone example.com. (Z1)"));
        assert_non_null(strstr(notice, "private zone example.com. (Z2)"));
        free(notice);
        /* A longer private zone does not win either. */
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.x.sub.EXAMPLE.com", &k, &notice), 0);
        assert_int_equal(k, 0);
        assert_non_null(strstr(notice, "sub.example.com. (Z3)"));
        free(notice);
        /* Longest public suffix, no notice. */
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.www.example.org.", &k, &notice), 0);
        assert_int_equal(k, 4);
        assert_null(notice);
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.api.example.org.", &k, &notice), 0);
        assert_int_equal(k, 3);
        assert_null(notice);
        /* Nothing, and only a private zone. */
        k = 99;
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.xexample.com.", &k, &notice), -ENOENT);
        assert_null(notice);
        assert_int_equal(k, 99);
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.internal.example.net.", &k, &notice), -ENOENT);
        assert_non_null(strstr(notice, "private hosted zone internal.example.net. (Z6)"));
        free(notice);
        assert_int_equal(dns_route53_pick_zone(zones, n, "_a.internal.example.net.", &k, NULL), -ENOENT);
}

static void test_parse_zones(void **state _unused_) {
        json_t *page1 = json_loads("{\"HostedZones\": {\"HostedZone\": ["
                                   "{\"Id\": \"/hostedzone/Z1\", \"Name\": \"example.com.\", \"Config\": {\"PrivateZone\": \"false\"}},"
                                   "{\"Id\": \"/hostedzone/Z2\", \"Name\": \"example.com.\", \"Config\": {\"PrivateZone\": \"true\"}}]},"
                                   "\"IsTruncated\": \"true\", \"NextDNSName\": \"example.org.\", \"NextHostedZoneId\": \"Z3\"}",
                                   0, NULL);
        json_t *page2 = json_loads("{\"HostedZones\": {\"HostedZone\": "
                                   "{\"Id\": \"/hostedzone/Z3\", \"Name\": \"example.org.\"}}, \"IsTruncated\": \"false\"}",
                                   0, NULL);
        json_t *bad1 = json_loads("{\"HostedZones\": {\"HostedZone\": {\"Name\": \"x.\"}}}", 0, NULL);
        json_t *bad2 = json_loads("{\"HostedZones\": \"\", \"IsTruncated\": \"true\"}", 0, NULL);
        json_t *empty = json_loads("{\"HostedZones\": \"\", \"IsTruncated\": \"false\"}", 0, NULL);
        dns_route53_zone *z = NULL;
        size_t n = 0;
        const char *nn = NULL, *ni = NULL;

        assert_int_equal(dns_route53_parse_zones(page1, &z, &n, &nn, &ni), 0);
        assert_int_equal(n, 2);
        assert_string_equal(nn, "example.org.");
        assert_string_equal(ni, "Z3");
        assert_int_equal(dns_route53_parse_zones(page2, &z, &n, &nn, &ni), 0);
        assert_int_equal(n, 3);
        assert_null(nn);
        assert_string_equal(z[0].id, "Z1");
        assert_false(z[0].private_zone);
        assert_true(z[1].private_zone);
        assert_string_equal(z[2].name, "example.org.");
        assert_int_equal(dns_route53_parse_zones(empty, &z, &n, &nn, &ni), 0);
        assert_int_equal(n, 3);
        assert_int_equal(dns_route53_parse_zones(bad1, &z, &n, &nn, &ni), -EBADMSG);
        assert_int_equal(dns_route53_parse_zones(bad2, &z, &n, &nn, &ni), -EBADMSG);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
                free(z[i].id);
                free(z[i].name);
        }
        free(z);
        json_decref(page1);
        json_decref(page2);
        json_decref(bad1);
        json_decref(bad2);
        json_decref(empty);
}

static void test_message_names(void **state _unused_) {
        const char *m = "[RRSet with DNS name _a.example.com. is not permitted in zone example.com., "
                        "Tried to delete resource record set [name='_B.EXAMPLE.com.', type='CNAME'] but it was not found]";
        assert_true(dns_route53_message_names(m, "_a.example.com."));
        assert_true(dns_route53_message_names(m, "_a.example.com"));
        assert_true(dns_route53_message_names(m, "_b.example.com."));
        assert_false(dns_route53_message_names(m, "a.example.com."));       /* preceded by '_' */
        assert_false(dns_route53_message_names(m, "example.co."));
        assert_false(dns_route53_message_names(m, "_a.example.com.x."));
        assert_false(dns_route53_message_names(m, "com."));                 /* part of a longer name */
        assert_false(dns_route53_message_names("[_a.example.comx]", "_a.example.com."));
        assert_true(dns_route53_message_names("_a.example.com", "_a.example.com."));
        assert_false(dns_route53_message_names(NULL, "_a.example.com."));
        assert_false(dns_route53_message_names(m, NULL));
}

typedef struct outcome {
        unsigned calls;
        int error;
} outcome;

static dns_route53 *freeing;

static void on_done_free(const dns_result *res, void *userdata) {
        outcome *o = userdata;
        o->calls++;
        o->error = res->error;
        freeing = dns_route53_free(freeing);
}

static void on_done(const dns_result *res, void *userdata) {
        outcome *o = userdata;
        o->calls++;
        o->error = res->error;
}

/* The publisher's life without AWS: nothing is sent for an empty list, a
 * callback may free the publisher, freeing it drops pending jobs silently. */
static void test_publisher_life(void **state _unused_) {
        sd_event *e = NULL;
        aws_client *client = NULL;
        conf_aws cfg = { .region = "us-east-1" };
        dns_records none = {}, l = {};
        outcome o = {};
        dns_job *job = NULL;

        /* Nowhere to send to: nothing must be sent anyway. */
        setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &client), 0);
        assert_int_equal(dns_route53_new(e, client, NULL, &freeing), 0);
        assert_int_equal(dns_route53_submit(freeing, &none, DNS_ACTION_CREATE, NULL, 300, 0, "a", on_done_free, &o,
                                            NULL), 0);
        assert_int_equal(o.calls, 0);
        while (o.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(o.error, 0);
        assert_null(freeing);

        dns_route53 *p = NULL;
        o = (outcome) {};
        assert_int_equal(dns_route53_new(e, client, NULL, &p), 0);
        assert_int_equal(dns_records_add(&l, "_a.example.com", "_v.acm-validations.aws"), 0);
        assert_int_equal(dns_route53_submit(p, &l, DNS_ACTION_CREATE, "Z1", 0, 0, "a", on_done, &o, NULL), -EINVAL);
        assert_int_equal(dns_route53_submit(p, &l, DNS_ACTION_CREATE, "/hostedzone/bad id", 300, 0, "a", on_done, &o,
                                            NULL), -EINVAL);
        /* Queued behind the window: a job cancelled, another dropped with the publisher. */
        assert_int_equal(dns_route53_submit(p, &l, DNS_ACTION_CREATE, "Z1", 300, 0, "a", on_done, &o, &job), 0);
        assert_null(dns_job_cancel(job));
        assert_int_equal(dns_route53_submit(p, &l, DNS_ACTION_DELETE, NULL, 300, 0, "b", on_done, &o, NULL), 0);
        assert_int_equal(dns_route53_submit(p, &l, DNS_ACTION_CREATE, "Z1", 300, 0, "c", on_done, &o, NULL), 0);
        dns_route53_free(p);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(o.calls, 0);
        assert_int_equal(aws_client_pending(client), 0);
        dns_records_done(&l);
        aws_client_unref(client);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_batch_fit),
                cmocka_unit_test(test_pick_zone),
                cmocka_unit_test(test_parse_zones),
                cmocka_unit_test(test_message_names),
                cmocka_unit_test(test_publisher_life),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
