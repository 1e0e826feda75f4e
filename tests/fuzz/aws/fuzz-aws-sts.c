/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: an STS query-protocol (XML) answer through aws_answer_parse(),
 * then what the credentials chain reads from AssumeRole*. Input: 2 bytes
 * status, 1 byte operation, then the body. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/clock.h"
#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const ops[] = { "AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity",
                                           "AssumeRole" };
        aws_answer a = {};

        if (size < 3)
                return 0;
        long status = fuzz_status(data);
        int k = aws_answer_parse(AWS_SERVICE_STS, ops[data[2] & 3], status, NULL, (const char *) data + 3, size - 3,
                                 &a);
        fuzz_check_answer(k, &a, status);
        if (k >= 0 && a.result) {
                /* The fields the chain takes (aws-creds.c creds_take_sts()). */
                json_t *cr = json_object_get(a.result, "Credentials");
                const char *x = json_string_value(json_object_get(cr, "Expiration"));
                time_t t;
                if (x)
                        (void) clock_parse_rfc3339(x, &t);
                (void) json_string_value(json_object_get(cr, "AccessKeyId"));
        }
        aws_answer_done(&a);
        return 0;
}
