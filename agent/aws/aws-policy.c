/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <string.h>

#include "aws/aws-policy.h"
#include "basic/macro.h"

static bool type_in(const char *type, const char *const *list) {
        if (!type)
                return false;
        for (; *list; list++)
                if (streq(type, *list))
                        return true;
        return false;
}

bool aws_policy_is_throttle(long http_status, const char *type) {
        static const char *const throttles[] = {
                "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
                "TooManyRequestsException", "ProvisionedThroughputExceededException",
                "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
                "LimitExceededException_Throttle", "RequestThrottled", "SlowDown",
                "PriorRequestNotComplete", "EC2ThrottledException", NULL
        };
        return http_status == 429 || type_in(type, throttles);
}

aws_error_kind aws_policy_classify(long http_status, const char *type, aws_net_failure net, bool *ret_retryable) {
        static const char *const auth[] = {
                "AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
                "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
                "IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken",
                "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException",
                "RequestExpired", "AuthFailure", "NotAuthorized", "InvalidAccessKeyId",
                "UnauthorizedOperation", "ExpiredTokenException", NULL
        };
        static const char *const not_found[] = {
                "ResourceNotFoundException", "NoSuchHostedZone", "NoSuchChange", "HostedZoneNotFound",
                "NoSuchEntity", "NotFoundException", NULL
        };
        static const char *const invalid[] = {
                "ValidationException", "ValidationError", "InvalidArgsException", "InvalidArnException",
                "InvalidParameterException", "InvalidParameterValue", "InvalidRequestException",
                "InvalidStateException", "InvalidDomainValidationOptionsException", "InvalidTagException",
                "MalformedCSRException", "MalformedCertificateException", "InvalidInput",
                "InvalidChangeBatch", "InvalidPolicyException", "SerializationException",
                "ConflictException", "ResourceInUseException", "TagPolicyException",
                "InvalidIdentityToken", "IDPRejectedClaim", "MalformedPolicyDocument",
                "InvalidAction", "MissingParameter", NULL
        };
        static const char *const server[] = {
                "InternalFailure", "InternalError", "InternalServerError", "InternalServiceError",
                "ServiceUnavailable", "ServiceUnavailableException", "InternalServerException", NULL
        };
        bool retryable = false;
        aws_error_kind k;

        if (net != AWS_NET_NONE) {
                k = AWS_ERROR_NETWORK;
                retryable = true;
        } else if (aws_policy_is_throttle(http_status, type)) {
                k = AWS_ERROR_THROTTLED;
                retryable = true;
        } else if (type && streq(type, "RequestInProgressException"))
                k = AWS_ERROR_IN_PROGRESS;
        else if (type && streq(type, "LimitExceededException"))
                k = AWS_ERROR_LIMIT;
        else if (type_in(type, auth))
                k = AWS_ERROR_AUTH;
        else if (type_in(type, not_found))
                k = AWS_ERROR_NOT_FOUND;
        else if (type_in(type, invalid))
                k = AWS_ERROR_INVALID;
        else if (type_in(type, server) || http_status >= 500) {
                k = AWS_ERROR_SERVER;
                /* 501 Not Implemented will not change on retry. */
                retryable = http_status != 501;
        } else if (http_status == 401 || http_status == 403)
                k = AWS_ERROR_AUTH;
        else if (http_status == 404)
                k = AWS_ERROR_NOT_FOUND;
        else if (http_status == 400 && !type)
                k = AWS_ERROR_INVALID;
        else
                k = AWS_ERROR_OTHER;

        if (ret_retryable)
                *ret_retryable = retryable;
        return k;
}

bool aws_policy_operation_is_mutating(const char *operation) {
        /* RevokeCertificate (ACM since 2025, and ACM-PCA) is permanent: a
         * repeat of one that worked fails (ACM: ConflictException or
         * ResourceInUse, ACM-PCA: RequestAlreadyProcessedException), and
         * neither API takes a token. SearchCertificates is a read, and ACM
         * RenewCertificate only starts the renewal of one ARN (a repeat
         * answers RequestInProgressException): both are safe to repeat. */
        static const char *const ops[] = {
                "RequestCertificate", "IssueCertificate", "ImportCertificate", "ChangeResourceRecordSets",
                "CreateCertificateAuthority", "RevokeCertificate", NULL
        };
        return type_in(operation, ops);
}

bool aws_policy_should_retry(aws_error_kind kind, bool retryable, bool throttled, aws_net_failure net,
                             bool idempotent, unsigned attempt, unsigned max_attempts) {
        if (!retryable || attempt >= max_attempts)
                return false;
        if (idempotent)
                return true;
        /* A throttled request was refused before any work was done. */
        return throttled || net == AWS_NET_NOT_SENT;
}

uint64_t aws_policy_backoff_usec(unsigned attempt, uint64_t base_usec, uint64_t cap_usec, uint64_t rnd) {
        uint64_t ceiling = base_usec;
        if (attempt == 0)
                return 0;
        for (unsigned i = 1; i < attempt && ceiling < cap_usec; i++)
                ceiling = ceiling > UINT64_MAX / 2 ? UINT64_MAX : ceiling * 2;
        if (ceiling > cap_usec)
                ceiling = cap_usec;
        if (ceiling == 0)
                return 0;
        return rnd % (ceiling + 1);
}

bool aws_policy_shared_bucket(const char *service) {
        return service && streq(service, "route53");
}

double aws_policy_default_rate(const char *service, const char *operation) {
        static const struct {
                const char *service, *operation;
                double rate;
        } table[] = {
                /* AWS's published per-account, per-region quotas (requests
                 * per second), as in the 2026 quota pages the design names.
                 * RevokeCertificate and SearchCertificates (ACM, 2025) have no
                 * documented rate in the references we hold: 1/s, the lowest
                 * ACM quota, is the conservative choice; the adaptive bucket
                 * never lets them run faster than AWS answers anyway. */
                { "acm", "DescribeCertificate", 10 },
                { "acm", "RequestCertificate", 5 },
                { "acm", "ExportCertificate", 10 },
                { "acm", "ImportCertificate", 1 },
                { "acm", "GetCertificate", 10 },
                { "acm", "ListCertificates", 8 },
                { "acm", "RevokeCertificate", 1 },
                { "acm", "SearchCertificates", 1 },
                { "acm", "RenewCertificate", 5 },
                { "acm", "AddTagsToCertificate", 5 },
                { "acm", "DeleteCertificate", 10 },
                { "acm-pca", "IssueCertificate", 25 },
                { "acm-pca", "GetCertificate", 75 },
                { "acm-pca", "DescribeCertificateAuthority", 20 },
                { "acm-pca", "GetCertificateAuthorityCertificate", 20 },
                { "acm-pca", "RevokeCertificate", 20 },
                { "sts", "AssumeRole", 10 },
                { "sts", "GetCallerIdentity", 10 },
        };
        if (!service || !operation)
                return 5;
        /* Route 53: one quota for every call of the account. */
        if (aws_policy_shared_bucket(service))
                return 10;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].service, service) && streq(table[i].operation, operation))
                        return table[i].rate;
        return 5;
}

double aws_policy_default_burst(const char *service, const char *operation) {
        if (aws_policy_shared_bucket(service))
                return 50;
        double r = aws_policy_default_rate(service, operation);
        return r < 1 ? 1 : r;
}

#define MIN_RATE 0.1

void aws_bucket_init_burst(aws_bucket *b, double max_rate, double max_burst, uint64_t now_usec) {
        if (!(max_rate > 0))
                max_rate = 1;
        if (!(max_burst >= 1))
                max_burst = 1;
        *b = (aws_bucket) {
                .max_rate = max_rate,
                .max_burst = max_burst,
                .rate = max_rate,
                .burst = max_burst,
                .tokens = max_burst,
                .last_usec = now_usec,
        };
}

void aws_bucket_init(aws_bucket *b, double max_rate, uint64_t now_usec) {
        aws_bucket_init_burst(b, max_rate, max_rate, now_usec);
}

uint64_t aws_bucket_take(aws_bucket *b, uint64_t now_usec) {
        if (now_usec > b->last_usec) {
                b->tokens += (double) (now_usec - b->last_usec) / 1e6 * b->rate;
                if (b->tokens > b->burst)
                        b->tokens = b->burst;
                b->last_usec = now_usec;
        }
        if (b->tokens >= 1) {
                b->tokens -= 1;
                return 0;
        }
        double wait = (1 - b->tokens) / b->rate * 1e6;
        return wait < 1 ? 1 : (uint64_t) ceil(wait);
}

void aws_bucket_on_throttle(aws_bucket *b, uint64_t now_usec) {
        /* Drop the burst: the account is saturated right now. */
        b->tokens = 0;
        b->last_usec = now_usec > b->last_usec ? now_usec : b->last_usec;
        /* Requests throttled together (within one token interval, at most a
         * second) are one signal, not many: decrease once. */
        double window = 1e6 / b->rate;
        if (window > 1e6)
                window = 1e6;
        if (b->last_throttle_usec != 0 && now_usec < b->last_throttle_usec + (uint64_t) window)
                return;
        b->last_throttle_usec = now_usec;
        b->rate /= 2;
        if (b->rate < MIN_RATE)
                b->rate = MIN_RATE;
        b->burst = b->rate < 1 ? 1 : b->rate;
}

void aws_bucket_on_success(aws_bucket *b) {
        b->rate += b->max_rate / 20;
        if (b->rate >= b->max_rate) {
                b->rate = b->max_rate;
                b->burst = b->max_burst;
        } else
                b->burst = b->rate < 1 ? 1 : b->rate;
}
