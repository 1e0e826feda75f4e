/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: a Route 53 REST-XML answer — aws_xml_to_json() on the raw
 * bytes, aws_answer_parse(), and the typed readers of aws-route53.h on the
 * result. Input: 2 bytes status, 1 byte operation, then the body. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws-route53.h"
#include "aws/aws-xml.h"
#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const ops[] = { "GetChange", "ChangeResourceRecordSets", "ListResourceRecordSets",
                                           "ListHostedZonesByName" };
        aws_answer a = {};
        json_t *j = NULL;
        aws_xml_error xe = {};

        if (size < 3)
                return 0;
        const char *body = (const char *) data + 3;
        size_t len = size - 3;
        int k = aws_xml_parse(body, len, &j, &xe);
        if (k >= 0) {
                FUZZ_CHECK(json_object_size(j) == 1);
                json_decref(j);
        } else {
                FUZZ_CHECK(k == -EBADMSG || k == -E2BIG || k == -ENOMEM);
                FUZZ_CHECK(xe.what);
        }
        long status = fuzz_status(data);
        k = aws_answer_parse(AWS_SERVICE_ROUTE53, ops[data[2] & 3], status, NULL, body, len, &a);
        fuzz_check_answer(k, &a, status);
        if (k >= 0 && a.result) {
                const char *id = NULL, *st = NULL;
                if (route53_change_info(a.result, &id, &st) >= 0) {
                        FUZZ_CHECK(id && st);
                }
                json_t *sets = json_object_get(json_object_get(a.result, "ResourceRecordSets"), "ResourceRecordSet");
                for (size_t i = 0; i < route53_list_n(sets); i++)
                        FUZZ_CHECK(route53_list_get(sets, i));
                json_t *zones = json_object_get(json_object_get(a.result, "HostedZones"), "HostedZone");
                for (size_t i = 0; i < route53_list_n(zones); i++)
                        FUZZ_CHECK(route53_list_get(zones, i));
        }
        aws_answer_done(&a);
        return 0;
}
