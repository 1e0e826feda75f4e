/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The AWS client: everything the agent says to AWS goes through here.
 *
 * One aws_client per process, bound to the agent's sd-event loop. Calls are
 * asynchronous (libcurl multi driven by the loop; many in flight, no threads):
 * aws_call() queues a request and returns at once; the callback runs later
 * from the loop, exactly once, unless the request is cancelled first.
 *
 * The client resolves credentials (environment → web identity → shared
 * files/profiles/credential_process → ECS → IMDSv2, then aws.role_arn on
 * top; details below at aws_client_resolve_credentials()), signs with
 * SigV4, retries in AWS's "standard" mode (exponential backoff with full
 * jitter, capped) within a time limit per call, and rate-limits itself with
 * token buckets (one per operation, one for all of Route 53, whose quota is
 * per account) that slow further on ThrottlingException.
 *
 * JSON 1.1 services (ACM, ACM-PCA, STS) are called with aws_call(); Route 53
 * (REST-XML) has its typed API in aws-route53.h on top of the same client.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"
#include "basic/macro.h"

typedef struct aws_client aws_client;
typedef struct aws_request aws_request;

typedef enum aws_service {
        AWS_SERVICE_ACM,      /* "acm"      JSON 1.1, target CertificateManager.<Op> */
        AWS_SERVICE_ACM_PCA,  /* "acm-pca"  JSON 1.1, target ACMPrivateCA.<Op> */
        AWS_SERVICE_STS,      /* "sts"      query protocol: the JSON request is sent as form
                               * parameters, the XML <…Result> comes back as a JSON object */
        AWS_SERVICE_ROUTE53,  /* "route53"  REST-XML, global (us-east-1 signing) */
        _AWS_SERVICE_MAX,
} aws_service;

/* What kind of failure, for the operator and for the caller's decision. */
typedef enum aws_error_kind {
        AWS_ERROR_AUTH,         /* AccessDenied, UnrecognizedClient, InvalidSignature, ExpiredToken… */
        AWS_ERROR_CREDENTIALS,  /* no credentials could be resolved (type says which source failed) */
        AWS_ERROR_THROTTLED,    /* Throttling/TooManyRequests after every retry */
        AWS_ERROR_NOT_FOUND,    /* ResourceNotFoundException, NoSuchHostedZone… */
        AWS_ERROR_INVALID,      /* ValidationException, InvalidArgs, InvalidState, Malformed… */
        AWS_ERROR_LIMIT,        /* LimitExceededException: an account quota, not a rate */
        AWS_ERROR_IN_PROGRESS,  /* RequestInProgressException: not retried; poll again later */
        AWS_ERROR_SERVER,       /* 5xx / InternalFailure / ServiceUnavailable after every retry */
        AWS_ERROR_NETWORK,      /* no answer: DNS, connect, TLS, reset, timeout, malformed body */
        AWS_ERROR_OTHER,        /* any other AWS error type: look at type */
        _AWS_ERROR_KIND_MAX,
} aws_error_kind;

/*
 * A failed call. Every string is valid during the callback only (copy with
 * aws_error_copy() to keep it). Strings are never NULL except request_id and
 * principal, which may be.
 */
typedef struct aws_error {
        aws_error_kind kind;
        const char *service;     /* "acm-pca" */
        const char *operation;   /* "IssueCertificate" */
        const char *type;        /* AWS __type without namespace ("AccessDeniedException"),
                                  * or for local failures a short id: "ConnectionError",
                                  * "Timeout", "TLSError", "MalformedResponse", "NoCredentials",
                                  * "CredentialProcessFailed", … */
        const char *message;     /* AWS's message or a local description; "" if none.
                                  * Text from outside (AWS's message, type and
                                  * request id, a body excerpt, a helper's
                                  * stderr) arrives escaped (aws_escape()). */
        const char *request_id;  /* x-amzn-RequestId / RequestId, NULL if none */
        const char *principal;   /* who we were: role ARN or credential source, may be NULL */
        long http_status;        /* 0 when no HTTP response */
        int error;               /* negative errno for local failures, else 0 */
        unsigned attempts;       /* HTTP attempts made */
} aws_error;

/*
 * Completion callback. err is NULL on success; response is the parsed JSON
 * body (an empty object for an empty body), borrowed: json_incref() to keep
 * it. On failure response is NULL. The request handle is freed right after
 * the callback returns: forget it there.
 */
typedef void (*aws_callback)(const aws_error *err, json_t *response, void *userdata);

enum {
        /* The request carries an idempotency token (IdempotencyToken,
         * ClientRequestToken…), so retrying it is safe even for operations
         * that are otherwise retried only when the request surely did not
         * arrive (RequestCertificate, IssueCertificate, ImportCertificate,
         * Route 53 ChangeResourceRecordSets). */
        AWS_CALL_IDEMPOTENT_TOKEN = 1 << 0,
        /* Never retry (one attempt). */
        AWS_CALL_NO_RETRY = 1 << 1,
        /* Do not wait for the client-side rate limiter (for preflight checks). */
        AWS_CALL_NO_RATE_LIMIT = 1 << 2,
};

/*
 * Creates a client on event loop e (a reference is taken) for the settings in
 * cfg, which must outlive the client (it belongs to the conf). Region and
 * endpoints are resolved here from cfg → AWS_REGION → AWS_DEFAULT_REGION →
 * the profile; when none gives a region, IMDS is asked lazily before the
 * first call. Credentials are resolved lazily at the first call. Nothing is
 * sent over the network here. The first client of the process loads
 * libcurl (aws-curl.h): the agent does not link it, so a run that makes no
 * AWS call never maps it. Returns 0 and sets *ret, -ENOMEM, -EINVAL for an
 * unusable setting (bad endpoint URL), -errno of access() for an unreadable
 * CA bundle, or -ELIBACC when libcurl cannot be loaded (not installed, too
 * old): aws_client_strerror() says why.
 */
int aws_client_new(sd_event *e, const conf_aws *cfg, aws_client **ret);

/*
 * Points c at cfg instead of the settings it was created with, which the
 * caller is about to free: a configuration reload whose aws: settings are
 * equal to the old ones (same values, another copy) keeps the client, its
 * credentials, rate limits and connections. The client reads its settings
 * through this pointer for as long as it lives, so cfg must outlive it or
 * be replaced again.
 */
void aws_client_set_config(aws_client *c, const conf_aws *cfg);

/* One sentence for an error aws_client_new() returned, for the operator:
 * for -ELIBACC the loader's reason (naming libcurl's soname and what the
 * dynamic loader said), otherwise strerror(). Static storage; call it in a
 * thread that called aws_client_new(). */
const char *aws_client_strerror(int r);

/* Reference counting; unref of the last reference cancels every pending
 * request without calling callbacks. Both accept NULL; unref returns NULL. */
aws_client *aws_client_ref(aws_client *c);
aws_client *aws_client_unref(aws_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(aws_client *, aws_client_unref);

/*
 * Calls operation (the AWS name, "IssueCertificate") of a JSON service (ACM,
 * ACM_PCA, STS) with request as the JSON body (borrowed; NULL means {}).
 * flags are AWS_CALL_*. cb is called exactly once from the event loop (never
 * from inside aws_call) unless the request is cancelled. When ret_req is not
 * NULL it receives a handle that stays valid until the callback returns or
 * aws_request_cancel() is called; when NULL the request cannot be cancelled
 * except by dropping the client. Returns 0, -ENOMEM, or -EINVAL (unknown
 * service for JSON, empty operation).
 *
 * Time: each HTTP attempt is cut at aws.request_timeout (default 60 s,
 * connection included, so a server that trickles its answer cannot hold
 * it longer) and ends as a Timeout error. A call, its attempts and the
 * backoff and rate-limit waits between them together, ends at the latest
 * 2 × aws.request_timeout after its first attempt was sent (120 s with the
 * defaults), whatever aws.max_attempts allows: a retry that would start
 * later is not made, and the error says so. Time queued before the first
 * attempt (rate limiter, credentials, region) is not counted.
 *
 * Answers: a 2xx answer whose body is not the expected JSON/XML is a
 * MalformedResponse (retried like a network failure when safe); a 2xx
 * answer that carries an AWS error document is that error; a non-2xx
 * answer without an AWS error document is HttpError, classified by its
 * status. Such messages give the HTTP status, what is wrong (line and
 * column for JSON) and the first 120 bytes of the body, escaped. A
 * ThrottlingException's throttlingReasons (ACM) are in its message.
 */
int aws_call(aws_client *c, aws_service svc, const char *operation, json_t *request, unsigned flags,
             aws_callback cb, void *userdata, aws_request **ret_req);

/*
 * Calls operation of a REST-XML service (only ROUTE53): method "GET",
 * "POST" or "DELETE"; path the request path as sent (already
 * percent-encoded, starting with "/2013-04-01/"); query the query string
 * without '?' (keys and values encoded with sigv4_uri_encode(), may be
 * NULL); body the XML document (may be NULL). Signed for the service's
 * signing name in us-east-1; retried, rate-limited and reported like
 * aws_call(). On success the callback gets the answer's root element
 * converted by aws_xml_to_json() (the object under the root name: for
 * <GetChangeResponse><ChangeInfo>… it is {"ChangeInfo": {…}}); a repeated
 * element is an array, a single one an object. AWS errors come from
 * <ErrorResponse> (or Route 53's <InvalidChangeBatch>). Returns 0, -ENOMEM,
 * or -EINVAL (not a REST service, bad method, path or query).
 */
int aws_call_rest(aws_client *c, aws_service svc, const char *operation, const char *method, const char *path,
                  const char *query, const char *body, unsigned flags, aws_callback cb, void *userdata,
                  aws_request **ret_req);

/* Cancels a pending request: its callback is not called, the handle is freed.
 * Accepts NULL; returns NULL. */
aws_request *aws_request_cancel(aws_request *r);

/*
 * Where the credentials came from, for `check --online` and logs. Never holds
 * the secret. source is a human phrase ("environment", "profile 'prod' in
 * /root/.aws/credentials (credential_process)", "web identity token
 * /var/run/token for arn:…", "EC2 instance metadata (IMDSv2)", plus
 * " + assumed role arn:…" when aws.role_arn is set).
 */
typedef struct aws_credentials_info {
        const char *source;
        const char *access_key_id;   /* the key id (not secret); may be shown */
        bool temporary;              /* has a session token */
        uint64_t expiration_usec;    /* 0 = does not expire */
} aws_credentials_info;

typedef void (*aws_credentials_callback)(const aws_error *err, const aws_credentials_info *info, void *userdata);

/*
 * Resolves (or returns the cached) credentials without making an AWS API
 * call other than those the chain needs (STS AssumeRole*, IMDS, ECS). The
 * callback runs from the loop, exactly once unless cancelled via *ret_req.
 * Returns 0 or -ENOMEM.
 *
 * The chain, first match wins:
 *  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN];
 *  2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]
 *     (AssumeRoleWithWebIdentity, unsigned);
 *  3. the profile (aws.profile, AWS_PROFILE, "default") in AWS_CONFIG_FILE /
 *     AWS_SHARED_CREDENTIALS_FILE (~/.aws/config, ~/.aws/credentials):
 *     static keys, credential_process, web_identity_token_file, or
 *     credential_source (Environment, EcsContainer, Ec2InstanceMetadata),
 *     then role_arn through source_profile chains; a named profile that
 *     does not exist is an error, not a fall-through;
 *  4. AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2 + uri)
 *     or _FULL_URI (https, or http to loopback / 169.254.170.2 / .23), with
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN as Authorization;
 *  5. EC2 IMDSv2 (PUT /latest/api/token first; AWS_EC2_METADATA_SERVICE_ENDPOINT,
 *     AWS_EC2_METADATA_DISABLED=true; 1 s connect, 2 attempts);
 * then aws.role_arn (AssumeRole) on top. When nothing matches, the error
 * (NoCredentials) lists every source tried.
 *
 * credential_process runs without a shell (argv split like a POSIX
 * shell), inherits the agent's environment, stdout bounded to 64 KiB,
 * killed after ACM_AGENT_CREDENTIAL_PROCESS_TIMEOUT seconds (default 60);
 * its errors (CredentialProcessFailed) name the profile and the command
 * and carry the first stderr line (escaped: aws_escape()).
 *
 * Credentials are cached and refreshed 5 minutes before they expire;
 * requests arriving during a refresh wait for that one refresh. When a
 * refresh fails while the cached credentials are still valid (more than
 * 10 s left), those stay in use and the refresh is retried 30 s later.
 * Credentials that already come with less than 5 minutes left (IMDS during
 * a rotation) are likewise used and asked for again 30 s later, not once
 * per request.
 * Credentials that are already expired when handed out are an error
 * (ExpiredCredentials). Secrets are never logged.
 */
int aws_client_resolve_credentials(aws_client *c, aws_credentials_callback cb, void *userdata,
                                   aws_request **ret_req);

/* The region in use, or NULL while it still has to come from IMDS (asked
 * at the first call that needs a region: every service but Route 53). When
 * IMDS cannot tell, those calls fail with NoRegion naming the settings for
 * 30 s; the first call after that asks IMDS again. */
const char *aws_client_region(aws_client *c);

/* The endpoint base URL for svc ("https://acm-pca.eu-west-1.amazonaws.com"),
 * or NULL while the region is unknown. In order: aws.endpoints for the
 * service, AWS_ENDPOINT_URL_<SERVICE> (ACM, ACM_PCA, STS, ROUTE_53),
 * AWS_ENDPOINT_URL, else the standard regional name ("-fips" with
 * aws.use_fips; ".amazonaws.com.cn" in cn- regions; Route 53 is global). */
const char *aws_client_endpoint(aws_client *c, aws_service svc);

/* Per-operation counters, for metrics and benchmarks. */
typedef struct aws_op_stats {
        const char *service;        /* "acm-pca" */
        const char *operation;      /* "IssueCertificate" */
        uint64_t calls;             /* aws_call()s completed (success or failure) */
        uint64_t http_requests;     /* HTTP attempts sent */
        uint64_t errors;            /* calls that ended in an error */
        uint64_t throttled;         /* throttling answers received (each attempt) */
        uint64_t retries;           /* attempts beyond the first */
        double rate;                /* the rate limiter's current rate (requests/s) */
} aws_op_stats;

/* Number of operations with counters, and the i-th (0 ≤ i < n). The pointer
 * is valid until the next call on the client. */
size_t aws_client_n_stats(aws_client *c);
const aws_op_stats *aws_client_stats(aws_client *c, size_t i);

/* Total throttling answers received by this client (all operations). */
uint64_t aws_client_throttle_count(aws_client *c);

/* Number of requests queued or in flight. */
size_t aws_client_pending(aws_client *c);

/* "acm", "acm-pca", "sts", "route53"; NULL when out of range. */
const char *aws_service_to_string(aws_service s);

/* "auth", "credentials", "throttled", "not-found", "invalid", "limit",
 * "in-progress", "server", "network", "other". */
const char *aws_error_kind_to_string(aws_error_kind k);

/*
 * The operator's line for an error, e.g.
 *   "AccessDeniedException on acm-pca:IssueCertificate for arn:aws:iam::1:role/x:
 *    User is not authorized … (HTTP 400, request id 1234-…)"
 * Every part is passed through aws_escape() (the message up to 4096
 * bytes, the others up to 256, the principal up to 1024), so the line
 * holds no control character whatever the error carries. Returns a
 * malloc'd string or NULL on OOM.
 */
char *aws_error_format(const aws_error *e);

/*
 * A copy of s that is safe in a log line or on a terminal: \n, \r and \t
 * become those two-character escapes; every other byte below 0x20, 0x7f,
 * each byte of a C1 control character (U+0080-U+009F, which terminals obey
 * like ESC) and each byte that is not part of valid UTF-8 becomes \xNN
 * (ESC is \x1b). Valid UTF-8 text and backslashes stay as they are, so
 * escaping twice changes nothing. At most max bytes of s are taken (never
 * cutting a UTF-8 sequence); "..." follows when s was longer. s NULL is
 * "". Returns a malloc'd string, NULL only on OOM.
 */
char *aws_escape(const char *s, size_t max);

/* Deep copy of an error (to keep it past the callback); free with
 * aws_error_free(). Returns NULL on OOM. */
aws_error *aws_error_copy(const aws_error *e);
aws_error *aws_error_free(aws_error *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(aws_error *, aws_error_free);
