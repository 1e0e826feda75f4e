/* SPDX-License-Identifier: Apache-2.0 */
/* Route 53 request building: XML escaping, change batches (parsed back
 * with the same XML parser the client uses), id normalization, lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "aws/aws-xml.h"
#include "basic/macro.h"
#include "aws/aws-route53.h"
#include "basic/util.h"

static void test_escape(void **state) {
        char *s = route53_xml_escape("a&b<c>d\"e'f\tg");
        assert_string_equal(s, "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg");
        free(s);
        s = route53_xml_escape("");
        assert_string_equal(s, "");
        free(s);
        s = route53_xml_escape("&amp;");
        assert_string_equal(s, "&amp;amp;");
        free(s);
        /* Characters XML 1.0 cannot carry. */
        assert_false(route53_text_valid("a\001b"));
        assert_null(route53_xml_escape("a\001b"));
        assert_false(route53_text_valid("\x7f"));
        assert_true(route53_text_valid("caf\xc3\xa9"));
        assert_false(route53_text_valid(NULL));
}

static void test_batch(void **state) {
        route53_change ch[2] = {
                { ROUTE53_UPSERT, "_a1.example.com.", "CNAME", 300, "_b2.acm-validations.aws." },
                { ROUTE53_DELETE, "_c<&>.example.com.", "CNAME", 60, "x\"y'z" },
        };
        char *xml = NULL;
        json_t *j = NULL;
        assert_int_equal(route53_change_batch_xml(ch, 2, "renewal of <web> & api", &xml), 0);
        assert_non_null(strstr(xml, "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\""));
        assert_non_null(strstr(xml, "<Name>_c&lt;&amp;&gt;.example.com.</Name>"));
        /* Round trip through expat gives back exactly the input. */
        assert_int_equal(aws_xml_to_json(xml, strlen(xml), &j), 0);
        json_t *batch = json_object_get(json_object_get(j, "ChangeResourceRecordSetsRequest"), "ChangeBatch");
        assert_string_equal(json_string_value(json_object_get(batch, "Comment")), "renewal of <web> & api");
        json_t *changes = json_object_get(json_object_get(batch, "Changes"), "Change");
        assert_int_equal(route53_list_n(changes), 2);
        json_t *c0 = route53_list_get(changes, 0), *c1 = route53_list_get(changes, 1);
        assert_string_equal(json_string_value(json_object_get(c0, "Action")), "UPSERT");
        json_t *rrs = json_object_get(c1, "ResourceRecordSet");
        assert_string_equal(json_string_value(json_object_get(c1, "Action")), "DELETE");
        assert_string_equal(json_string_value(json_object_get(rrs, "Name")), "_c<&>.example.com.");
        assert_string_equal(json_string_value(json_object_get(rrs, "TTL")), "60");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(rrs, "ResourceRecords"),
                                                                              "ResourceRecord"), "Value")),
                            "x\"y'z");
        json_decref(j);
        free(xml);

        /* No comment: no element. */
        assert_int_equal(route53_change_batch_xml(ch, 1, NULL, &xml), 0);
        assert_null(strstr(xml, "<Comment>"));
        free(xml);

        /* Refused: empty batch, bad type, empty/unrepresentable name or value, TTL range, long comment. */
        xml = NULL;
        assert_int_equal(route53_change_batch_xml(ch, 0, NULL, &xml), -EINVAL);
        route53_change bad = ch[0];
        bad.type = "cname";
        assert_int_equal(route53_change_batch_xml(&bad, 1, NULL, &xml), -EINVAL);
        bad = ch[0];
        bad.name = "";
        assert_int_equal(route53_change_batch_xml(&bad, 1, NULL, &xml), -EINVAL);
        bad = ch[0];
        bad.value = "a\002";
        assert_int_equal(route53_change_batch_xml(&bad, 1, NULL, &xml), -EINVAL);
        bad = ch[0];
        bad.ttl = UINT64_C(1) << 31;
        assert_int_equal(route53_change_batch_xml(&bad, 1, NULL, &xml), -EINVAL);
        bad = ch[0];
        bad.action = (route53_action) 9;
        assert_int_equal(route53_change_batch_xml(&bad, 1, NULL, &xml), -EINVAL);
        char comment[300];
        memset(comment, 'c', sizeof comment - 1);
        comment[sizeof comment - 1] = 0;
        assert_int_equal(route53_change_batch_xml(ch, 1, comment, &xml), -EINVAL);
        assert_null(xml);
}

static void test_ids(void **state) {
        char *s = NULL;
        assert_int_equal(route53_zone_id_normalize("/hostedzone/Z0EMULATOREXAMPLE01", &s), 0);
        assert_string_equal(s, "Z0EMULATOREXAMPLE01");
        free(s);
        assert_int_equal(route53_zone_id_normalize("Z123", &s), 0);
        assert_string_equal(s, "Z123");
        free(s);
        s = NULL;
        assert_int_equal(route53_zone_id_normalize("Z1/../x", &s), -EINVAL);
        assert_int_equal(route53_zone_id_normalize("", &s), -EINVAL);
        assert_int_equal(route53_zone_id_normalize("/hostedzone/", &s), -EINVAL);
        assert_int_equal(route53_zone_id_normalize("Z12345678901234567890123456789012X", &s), -EINVAL);
        assert_int_equal(route53_zone_id_normalize("Z1?a=b", &s), -EINVAL);
        assert_null(s);
        assert_int_equal(route53_change_id_normalize("/change/C2682N5HXP0BZ4", &s), 0);
        assert_string_equal(s, "C2682N5HXP0BZ4");
        free(s);
}

static void test_change_info(void **state) {
        json_t *j = json_pack("{s:{s:s, s:s}}", "ChangeInfo", "Id", "/change/C1", "Status", "INSYNC");
        const char *id = NULL, *st = NULL;
        assert_int_equal(route53_change_info(j, &id, &st), 0);
        assert_string_equal(id, "C1");
        assert_string_equal(st, "INSYNC");
        json_decref(j);
        j = json_pack("{s:{s:s}}", "ChangeInfo", "Id", "/change/C1");
        assert_int_equal(route53_change_info(j, &id, &st), -EBADMSG);
        json_decref(j);
        assert_int_equal(route53_list_n(NULL), 0);
        j = json_pack("{s:s}", "a", "b");
        assert_int_equal(route53_list_n(j), 1);
        assert_ptr_equal(route53_list_get(j, 0), j);
        assert_null(route53_list_get(j, 1));
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_batch),
                cmocka_unit_test(test_ids),
                cmocka_unit_test(test_change_info),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
