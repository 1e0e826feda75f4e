/* SPDX-License-Identifier: Apache-2.0 */
/* Retry classification, backoff bounds, the adaptive token bucket, and the
 * operator's error line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws/aws-policy.h"
#include "aws/aws.h"
#include "basic/macro.h"

static void test_classify(void **state) {
        bool r;
        assert_int_equal(aws_policy_classify(400, "ThrottlingException", AWS_NET_NONE, &r), AWS_ERROR_THROTTLED);
        assert_true(r);
        assert_int_equal(aws_policy_classify(429, NULL, AWS_NET_NONE, &r), AWS_ERROR_THROTTLED);
        assert_true(r);
        assert_int_equal(aws_policy_classify(400, "Throttling", AWS_NET_NONE, &r), AWS_ERROR_THROTTLED);
        assert_int_equal(aws_policy_classify(400, "PriorRequestNotComplete", AWS_NET_NONE, &r), AWS_ERROR_THROTTLED);
        assert_int_equal(aws_policy_classify(500, NULL, AWS_NET_NONE, &r), AWS_ERROR_SERVER);
        assert_true(r);
        assert_int_equal(aws_policy_classify(503, "ServiceUnavailable", AWS_NET_NONE, &r), AWS_ERROR_SERVER);
        assert_true(r);
        assert_int_equal(aws_policy_classify(501, NULL, AWS_NET_NONE, &r), AWS_ERROR_SERVER);
        assert_false(r);
        assert_int_equal(aws_policy_classify(0, NULL, AWS_NET_MAYBE_SENT, &r), AWS_ERROR_NETWORK);
        assert_true(r);
        assert_int_equal(aws_policy_classify(400, "AccessDeniedException", AWS_NET_NONE, &r), AWS_ERROR_AUTH);
        assert_false(r);
        assert_int_equal(aws_policy_classify(403, "InvalidSignatureException", AWS_NET_NONE, &r), AWS_ERROR_AUTH);
        assert_false(r);
        assert_int_equal(aws_policy_classify(400, "UnrecognizedClientException", AWS_NET_NONE, &r), AWS_ERROR_AUTH);
        assert_int_equal(aws_policy_classify(400, "ExpiredTokenException", AWS_NET_NONE, &r), AWS_ERROR_AUTH);
        assert_int_equal(aws_policy_classify(400, "ResourceNotFoundException", AWS_NET_NONE, &r), AWS_ERROR_NOT_FOUND);
        assert_int_equal(aws_policy_classify(404, "NoSuchHostedZone", AWS_NET_NONE, &r), AWS_ERROR_NOT_FOUND);
        assert_int_equal(aws_policy_classify(400, "ValidationException", AWS_NET_NONE, &r), AWS_ERROR_INVALID);
        assert_false(r);
        assert_int_equal(aws_policy_classify(400, "InvalidStateException", AWS_NET_NONE, &r), AWS_ERROR_INVALID);
        assert_int_equal(aws_policy_classify(400, "RequestInProgressException", AWS_NET_NONE, &r), AWS_ERROR_IN_PROGRESS);
        assert_false(r);
        assert_int_equal(aws_policy_classify(400, "LimitExceededException", AWS_NET_NONE, &r), AWS_ERROR_LIMIT);
        assert_false(r);
        assert_int_equal(aws_policy_classify(400, "SomethingNew", AWS_NET_NONE, &r), AWS_ERROR_OTHER);
        assert_false(r);
        assert_int_equal(aws_policy_classify(403, NULL, AWS_NET_NONE, &r), AWS_ERROR_AUTH);
}

static void test_should_retry(void **state) {
        /* Idempotent reads: every retryable failure, up to max_attempts. */
        assert_true(aws_policy_should_retry(AWS_ERROR_SERVER, true, false, AWS_NET_NONE, true, 1, 3));
        assert_true(aws_policy_should_retry(AWS_ERROR_NETWORK, true, false, AWS_NET_MAYBE_SENT, true, 2, 3));
        assert_false(aws_policy_should_retry(AWS_ERROR_SERVER, true, false, AWS_NET_NONE, true, 3, 3));
        assert_false(aws_policy_should_retry(AWS_ERROR_AUTH, false, false, AWS_NET_NONE, true, 1, 3));
        /* Non-idempotent without a token: only when it surely did not arrive. */
        assert_false(aws_policy_should_retry(AWS_ERROR_SERVER, true, false, AWS_NET_NONE, false, 1, 3));
        assert_false(aws_policy_should_retry(AWS_ERROR_NETWORK, true, false, AWS_NET_MAYBE_SENT, false, 1, 3));
        assert_true(aws_policy_should_retry(AWS_ERROR_NETWORK, true, false, AWS_NET_NOT_SENT, false, 1, 3));
        assert_true(aws_policy_should_retry(AWS_ERROR_THROTTLED, true, true, AWS_NET_NONE, false, 1, 3));
        assert_true(aws_policy_operation_is_mutating("IssueCertificate"));
        assert_true(aws_policy_operation_is_mutating("RequestCertificate"));
        assert_true(aws_policy_operation_is_mutating("ImportCertificate"));
        assert_false(aws_policy_operation_is_mutating("DescribeCertificate"));
        assert_false(aws_policy_operation_is_mutating("GetCertificate"));
}

static void test_backoff_bounds(void **state) {
        const uint64_t base = 100 * USEC_PER_MSEC, cap = 20 * USEC_PER_SEC;
        assert_int_equal(aws_policy_backoff_usec(0, base, cap, 12345), 0);
        for (unsigned attempt = 1; attempt < 80; attempt++) {
                uint64_t ceiling = attempt >= 40 ? cap : base << (attempt - 1);
                if (ceiling > cap)
                        ceiling = cap;
                /* Extremes of the random input reach the bounds, never beyond. */
                assert_int_equal(aws_policy_backoff_usec(attempt, base, cap, 0), 0);
                assert_int_equal(aws_policy_backoff_usec(attempt, base, cap, ceiling), ceiling);
                assert_true(aws_policy_backoff_usec(attempt, base, cap, UINT64_MAX) <= ceiling);
                for (uint64_t rnd = 1; rnd < UINT64_MAX / 3; rnd = rnd * 7 + 13)
                        assert_true(aws_policy_backoff_usec(attempt, base, cap, rnd) <= ceiling);
        }
        /* Full jitter: the first retry waits at most base. */
        assert_true(aws_policy_backoff_usec(1, base, cap, UINT64_MAX - 1) <= base);
}

static void test_bucket(void **state) {
        aws_bucket b;
        uint64_t now = 1000 * USEC_PER_SEC, w;
        unsigned taken = 0;

        assert_true(aws_policy_default_rate("acm", "DescribeCertificate") == 10);
        assert_true(aws_policy_default_rate("acm", "ImportCertificate") == 1);
        aws_bucket_init(&b, 2, now);
        /* The burst (2) goes at once, then one token every 0.5 s. */
        while (aws_bucket_take(&b, now) == 0)
                taken++;
        assert_int_equal(taken, 2);
        w = aws_bucket_take(&b, now);
        assert_true(w > 400 * USEC_PER_MSEC && w <= 500 * USEC_PER_MSEC);
        assert_int_equal(aws_bucket_take(&b, now + w), 0);

        /* Throttling halves the rate, down to a floor; successes restore it. */
        aws_bucket_on_throttle(&b, now);
        assert_true(b.rate == 1);
        /* Throttles in the same second (concurrent requests) count once. */
        aws_bucket_on_throttle(&b, now + 10);
        aws_bucket_on_throttle(&b, now + 900 * USEC_PER_MSEC);
        assert_true(b.rate == 1);
        for (int i = 0; i < 20; i++) {
                now += USEC_PER_SEC;
                aws_bucket_on_throttle(&b, now);
        }
        assert_true(b.rate >= 0.1 && b.rate < 0.2);
        now += 100 * USEC_PER_SEC;
        assert_int_equal(aws_bucket_take(&b, now), 0);
        w = aws_bucket_take(&b, now);
        assert_true(w >= 5 * USEC_PER_SEC);
        for (int i = 0; i < 100; i++)
                aws_bucket_on_success(&b);
        assert_true(b.rate == 2);
}

static void test_error_format(void **state) {
        aws_error e = {
                .kind = AWS_ERROR_AUTH, .service = "acm-pca", .operation = "IssueCertificate",
                .type = "AccessDeniedException", .message = "User is not authorized",
                .request_id = "abcd-1234", .principal = "arn:aws:iam::111122223333:role/cert-agent",
                .http_status = 400, .attempts = 1,
        };
        char *s = aws_error_format(&e);
        assert_string_equal(s, "AccessDeniedException on acm-pca:IssueCertificate for "
                               "arn:aws:iam::111122223333:role/cert-agent: User is not authorized "
                               "(HTTP 400, request id abcd-1234, 1 attempt)");
        free(s);
        aws_error *c = aws_error_copy(&e);
        assert_non_null(c);
        assert_string_equal(c->type, "AccessDeniedException");
        assert_string_equal(c->request_id, "abcd-1234");
        aws_error_free(c);
        e.request_id = NULL;
        e.principal = NULL;
        e.http_status = 0;
        e.attempts = 3;
        e.kind = AWS_ERROR_NETWORK;
        e.type = "ConnectionError";
        e.message = "Connection reset by peer";
        s = aws_error_format(&e);
        assert_string_equal(s, "ConnectionError on acm-pca:IssueCertificate: Connection reset by peer "
                               "(no HTTP response, 3 attempts)");
        free(s);
        assert_string_equal(aws_error_kind_to_string(AWS_ERROR_NOT_FOUND), "not-found");
        assert_string_equal(aws_service_to_string(AWS_SERVICE_ACM_PCA), "acm-pca");
        assert_null(aws_service_to_string(_AWS_SERVICE_MAX));
}

/* The 2026 quotas: ACM and ACM-PCA per operation, Route 53 one bucket for
 * the whole account. */
static void test_default_rates(void **state) {
        static const struct {
                const char *service, *operation;
                double rate, burst;
        } want[] = {
                { "acm", "DescribeCertificate", 10, 10 },
                { "acm", "RequestCertificate", 5, 5 },
                { "acm", "ExportCertificate", 10, 10 },
                { "acm", "ImportCertificate", 1, 1 },
                { "acm", "GetCertificate", 10, 10 },
                { "acm", "ListCertificates", 8, 8 },
                { "acm", "RevokeCertificate", 1, 1 },
                { "acm", "SearchCertificates", 1, 1 },
                { "acm-pca", "IssueCertificate", 25, 25 },
                { "acm-pca", "GetCertificate", 75, 75 },
                { "route53", "ChangeResourceRecordSets", 10, 50 },
                { "route53", "GetChange", 10, 50 },
                { "route53", "ListResourceRecordSets", 10, 50 },
                { "route53", "ListHostedZonesByName", 10, 50 },
                { "route53", "AnyFutureOperation", 10, 50 },
                { "acm", "SomethingNew", 5, 5 },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                print_message("%s:%s\n", want[i].service, want[i].operation);
                assert_true(aws_policy_default_rate(want[i].service, want[i].operation) == want[i].rate);
                assert_true(aws_policy_default_burst(want[i].service, want[i].operation) == want[i].burst);
        }
        assert_true(aws_policy_shared_bucket("route53"));
        assert_false(aws_policy_shared_bucket("acm"));
        assert_false(aws_policy_shared_bucket("acm-pca"));
        assert_false(aws_policy_shared_bucket(NULL));
}

static void test_mutating_2026(void **state) {
        /* Permanent, no token: a repeat of one that worked fails. */
        assert_true(aws_policy_operation_is_mutating("RevokeCertificate"));
        assert_true(aws_policy_operation_is_mutating("ChangeResourceRecordSets"));
        /* A read, and a renewal of one ARN (a repeat answers
         * RequestInProgressException): safe to retry. */
        assert_false(aws_policy_operation_is_mutating("SearchCertificates"));
        assert_false(aws_policy_operation_is_mutating("RenewCertificate"));
        assert_false(aws_policy_operation_is_mutating("ExportCertificate"));
        /* Throttled requests are retried even when mutating: refused before
         * any work was done. */
        assert_true(aws_policy_should_retry(AWS_ERROR_THROTTLED, true, true, AWS_NET_NONE,
                                            !aws_policy_operation_is_mutating("RevokeCertificate"), 1, 3));
        assert_false(aws_policy_should_retry(AWS_ERROR_SERVER, true, false, AWS_NET_NONE,
                                             !aws_policy_operation_is_mutating("RevokeCertificate"), 1, 3));
        assert_true(aws_policy_should_retry(AWS_ERROR_SERVER, true, false, AWS_NET_NONE,
                                            !aws_policy_operation_is_mutating("SearchCertificates"), 1, 3));
}

/* Route 53's bucket: 50 at once, then 10 a second; a throttle drops the
 * burst to the rate until the rate is back at its maximum. */
static void test_bucket_burst(void **state) {
        aws_bucket b;
        uint64_t now = 1000 * USEC_PER_SEC, w;
        unsigned taken = 0;

        aws_bucket_init_burst(&b, aws_policy_default_rate("route53", "GetChange"),
                              aws_policy_default_burst("route53", "GetChange"), now);
        while (aws_bucket_take(&b, now) == 0)
                taken++;
        assert_int_equal(taken, 50);
        w = aws_bucket_take(&b, now);
        assert_true(w > 90 * USEC_PER_MSEC && w <= 100 * USEC_PER_MSEC);
        /* A long pause refills to 50, not more. */
        now += 3600 * USEC_PER_SEC;
        for (taken = 0; aws_bucket_take(&b, now) == 0;)
                taken++;
        assert_int_equal(taken, 50);
        aws_bucket_on_throttle(&b, now);
        assert_true(b.rate == 5);
        assert_true(b.burst == 5);
        now += 3600 * USEC_PER_SEC;
        for (taken = 0; aws_bucket_take(&b, now) == 0;)
                taken++;
        assert_int_equal(taken, 5);
        for (int i = 0; i < 9; i++)
                aws_bucket_on_success(&b);
        assert_true(b.rate == 9.5 && b.burst == 9.5);
        aws_bucket_on_success(&b);
        assert_true(b.rate == 10 && b.burst == 50);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classify),
                cmocka_unit_test(test_should_retry),
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_bucket),
                cmocka_unit_test(test_error_format),
                cmocka_unit_test(test_default_rates),
                cmocka_unit_test(test_mutating_2026),
                cmocka_unit_test(test_bucket_burst),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
