/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the answer of a JSON 1.1 service (ACM, ACM-PCA) through
 * aws_answer_parse(). Input: 2 bytes status, 1 byte service/header choice,
 * then the body. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const ops[] = { "DescribeCertificate", "ExportCertificate", "IssueCertificate",
                                           "GetCertificate" };
        static const char *const types[] = { NULL, "ThrottlingException:http://internal.amazon.com/coral/",
                                             "com.amazonaws.acm#AccessDeniedException", "\x1b[2J\n" };
        aws_answer a = {};

        if (size < 3)
                return 0;
        long status = fuzz_status(data);
        uint8_t sel = data[2];
        aws_answer_headers h = { .request_id = (sel & 0x10) ? "req-\x1b\n1" : NULL, .error_type = types[(sel >> 2) & 3] };
        aws_service svc = (sel & 1) ? AWS_SERVICE_ACM_PCA : AWS_SERVICE_ACM;
        int k = aws_answer_parse(svc, ops[(sel >> 5) & 3], status, (sel & 2) ? &h : NULL, (const char *) data + 3,
                                 size - 3, &a);
        fuzz_check_answer(k, &a, status);
        aws_answer_done(&a);
        return 0;
}
