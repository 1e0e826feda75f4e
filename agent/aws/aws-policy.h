/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The client's politeness rules, kept free of I/O so they are unit-tested:
 * error classification, retry decisions in AWS's "standard" mode, backoff
 * with full jitter, and the adaptive per-operation token bucket.
 */
#include <stdbool.h>
#include <stdint.h>

#include "aws/aws.h"

/* How the transport failed before any HTTP answer. */
typedef enum aws_net_failure {
        AWS_NET_NONE,           /* an HTTP response arrived */
        AWS_NET_NOT_SENT,       /* surely not sent: resolve / connect / TLS handshake failed */
        AWS_NET_MAYBE_SENT,     /* reset, timeout, truncated: the request may have arrived */
} aws_net_failure;

/*
 * Classifies an answer. type is the AWS error type without namespace (NULL
 * if the body had none), http_status the status (0 if net != NONE).
 * Returns the kind; *ret_retryable says whether the standard retry mode
 * retries it (throttling, 5xx, transient network failures, expired
 * credentials are NOT retried here).
 */
aws_error_kind aws_policy_classify(long http_status, const char *type, aws_net_failure net, bool *ret_retryable);

/* True for throttling error types (ThrottlingException, Throttling,
 * TooManyRequestsException, RequestLimitExceeded, PriorRequestNotComplete,
 * SlowDown, RequestThrottled…) and HTTP 429. */
bool aws_policy_is_throttle(long http_status, const char *type);

/*
 * Whether a failed attempt may be retried. idempotent: the operation is safe
 * to repeat (reads, or a request carrying an idempotency token).
 * Non-idempotent requests are retried only when they surely did not arrive
 * (not sent, or throttled: AWS rejects those before doing anything).
 */
bool aws_policy_should_retry(aws_error_kind kind, bool retryable, bool throttled, aws_net_failure net,
                             bool idempotent, unsigned attempt, unsigned max_attempts);

/* True when the operation is non-idempotent without a token: repeating it
 * after it took effect does something again or answers an error although
 * it worked (RequestCertificate, IssueCertificate, ImportCertificate,
 * ChangeResourceRecordSets, RevokeCertificate of ACM and ACM-PCA,
 * CreateCertificateAuthority). False for reads (SearchCertificates,
 * Describe*, Get*, List*) and for ACM RenewCertificate, which acts on one
 * ARN: a repeat only answers RequestInProgressException. */
bool aws_policy_operation_is_mutating(const char *operation);

/*
 * Backoff before attempt number `attempt` (1 = first retry) with full
 * jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. rnd is a uniform
 * random 64-bit value (the caller supplies it so tests are deterministic).
 */
uint64_t aws_policy_backoff_usec(unsigned attempt, uint64_t base_usec, uint64_t cap_usec, uint64_t rnd);

/* AWS's published default rate (requests/s) for an operation ("acm",
 * "DescribeCertificate" → 10); a conservative default (5) for others. For
 * a service whose quota is per account (Route 53, aws_policy_shared_bucket())
 * it is the rate of that one quota, whatever the operation. */
double aws_policy_default_rate(const char *service, const char *operation);

/* The burst (tokens the bucket holds when full) that goes with
 * aws_policy_default_rate(): 50 for Route 53, else the rate (at least 1). */
double aws_policy_default_burst(const char *service, const char *operation);

/* True when every operation of the service shares one rate quota per
 * account, so a client must draw them all from one bucket (Route 53: 10
 * requests/s, burst 50, for all its API calls together). */
bool aws_policy_shared_bucket(const char *service);

/*
 * A token bucket whose rate adapts: throttling halves it (down to a floor),
 * each success raises it additively back towards the configured maximum.
 */
typedef struct aws_bucket {
        double max_rate;      /* configured/default requests per second */
        double max_burst;     /* configured/default burst */
        double rate;          /* current */
        double tokens;
        double burst;         /* current: max_burst at full rate, else max(1, rate) */
        uint64_t last_usec;   /* last refill */
        uint64_t last_throttle_usec;  /* last rate decrease */
} aws_bucket;

/* A full bucket of max_rate requests/s whose burst is the rate (at least 1). */
void aws_bucket_init(aws_bucket *b, double max_rate, uint64_t now_usec);
/* The same with its own burst (at least 1). */
void aws_bucket_init_burst(aws_bucket *b, double max_rate, double max_burst, uint64_t now_usec);

/* Takes a token when one is available and returns 0; otherwise returns the
 * microseconds to wait before trying again (> 0). */
uint64_t aws_bucket_take(aws_bucket *b, uint64_t now_usec);

/* A throttling answer: empties the bucket and halves the rate, at most once
 * per token interval (1/rate, capped at 1 s): requests throttled together
 * count once. The burst shrinks to the rate. */
void aws_bucket_on_throttle(aws_bucket *b, uint64_t now_usec);
/* A success: the rate grows by a twentieth of max_rate, up to max_rate,
 * where the burst is max_burst again. */
void aws_bucket_on_success(aws_bucket *b);
