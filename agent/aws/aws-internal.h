/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Private to agent/aws/: the structures the files of the client share, and
 * the functions they call in each other. Nothing outside agent/aws/ (and its
 * unit tests) includes this header.
 *
 *   aws-client.c     the client's life: new, ref/unref, counters
 *   aws-transport.c  libcurl multi on sd-event, easy handles, plain HTTP for
 *                    the metadata endpoints
 *   aws-request.c    aws_call()/aws_call_rest(): signing, rate limiting,
 *                    retries with backoff, the call's time limit
 *   aws-answer.c     an HTTP answer -> result or aws_error (pure)
 *   aws-endpoint.c   endpoints and the region (from IMDS when needed)
 *   aws-metadata.c   EC2 IMDSv2 and ECS container credentials
 *   aws-creds.c      the credentials chain: environment, web identity,
 *                    profiles, credential_process, STS AssumeRole
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "aws/aws-creds-file.h"
#include "aws/aws-policy.h"
#include "aws/aws-proc.h"
#include "aws/aws.h"

#define AWS_RESPONSE_MAX (4 * 1024 * 1024)
#define AWS_METADATA_MAX (64 * 1024)
/* Credentials are refreshed this long before they expire. */
#define AWS_CREDS_REFRESH_USEC (5 * 60 * USEC_PER_SEC)
/* A refresh that fails while the old credentials still work is retried
 * after this long (the old ones are used meanwhile); a failed region look-up
 * likewise. */
#define AWS_CREDS_RETRY_USEC (30 * USEC_PER_SEC)
#define AWS_CREDS_MIN_LEFT_USEC (10 * USEC_PER_SEC)
#define AWS_BACKOFF_BASE_USEC (100 * USEC_PER_MSEC)
#define AWS_BACKOFF_CAP_USEC (20 * USEC_PER_SEC)
/* Defaults of aws.connect_timeout and aws.request_timeout (seconds) when the
 * client runs without a configuration. */
#define AWS_CONNECT_TIMEOUT_DEFAULT 10
#define AWS_REQUEST_TIMEOUT_DEFAULT 60
/* A call ends at the latest this many request timeouts after its first
 * attempt was sent, whatever max_attempts says. */
#define AWS_CALL_TIMEOUT_FACTOR 2
/* Body bytes quoted in an error message about an unusable answer. */
#define AWS_EXCERPT_MAX 120

/* A plain HTTP answer (IMDS, ECS): code is curl's result, status 0 when no
 * HTTP answer came. */
typedef void (*aws_raw_callback)(aws_client *c, CURLcode code, long status, const char *body, size_t len,
                                 const char *errbuf, void *userdata);

/* The answer of an IMDSv2 GET: error (a sentence) or body. */
typedef void (*aws_imds_callback)(aws_client *c, const char *error, const char *body, size_t len);

/* One IMDSv2 GET in progress (token first), for the credentials or the region. */
typedef struct aws_imds_op {
        char *path;
        aws_imds_callback cb;
        unsigned attempt;
        bool retried_token;
} aws_imds_op;

/* A token bucket of the rate limiter: one per operation, or one for a whole
 * service whose quota is per account (Route 53). */
typedef struct aws_limiter {
        char *key;                     /* "acm:DescribeCertificate", "route53" */
        aws_bucket bucket;
} aws_limiter;

/* Counters of one operation; limiter indexes c->limiters (stable across
 * reallocations, unlike a pointer). */
typedef struct aws_op_entry {
        aws_op_stats stats;
        aws_service service;
        char *operation;
        size_t limiter;
} aws_op_entry;

typedef struct aws_creds_state {
        creds_value v;
        char *source;
        bool valid;
} aws_creds_state;

struct aws_request {
        aws_client *client;
        aws_request *next, *prev;      /* client's list */
        aws_service service;
        char *operation;
        json_t *request;
        unsigned flags;
        aws_callback cb;
        void *userdata;
        aws_credentials_callback creds_cb;  /* a credentials query instead of a call */
        unsigned attempt;
        bool waiting_creds;
        const creds_value *creds;      /* explicit credentials (internal STS calls), else the client's */
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        char *url;
        char *response;                /* the body, NUL-terminated */
        size_t response_len, response_allocated;
        bool too_large;
        char request_id[128];
        char error_type[128];          /* x-amzn-ErrorType */
        char errbuf[CURL_ERROR_SIZE];
        sd_event_source *timer;
        bool internal;                 /* the client's own (credentials) request */
        bool unsigned_req;             /* AssumeRoleWithWebIdentity: no signature */
        bool creds_checked;            /* credentials just resolved: do not check freshness again */
        bool waiting_region;
        /* The call's time limit (CLOCK_MONOTONIC, 0 until the first attempt
         * is sent), whether the running attempt was cut to fit it, and the
         * error of the previous attempt while a retry waits. */
        uint64_t deadline_usec;
        bool cut_by_deadline;
        aws_error *last_error;
        /* Plain HTTP (IMDS, ECS): no signature, no AWS error parsing. */
        aws_raw_callback raw_cb;
        char *raw_method;
        long raw_connect_ms, raw_timeout_ms;
        /* REST-XML (Route 53). */
        char *rest_method, *rest_path, *rest_query, *rest_body;
};

struct aws_client {
        unsigned n_ref;
        sd_event *event;
        const conf_aws *cfg;
        CURLM *multi;
        sd_event_source *curl_timer;
        char *region;
        char *endpoints[_AWS_SERVICE_MAX];
        char *ca_bundle;
        char *user_agent;
        aws_request *requests;
        aws_op_entry *ops;
        size_t n_ops, n_ops_allocated;
        aws_limiter *limiters;
        size_t n_limiters, n_limiters_allocated;
        uint64_t throttles;
        aws_creds_state creds;
        bool resolving;
        char *principal;
        /* Credentials resolution in progress */
        creds_files *files;
        creds_chain chain;
        size_t chain_step;
        creds_value pending;
        char *pending_source;
        uint64_t refresh_after_usec;   /* a failed refresh: retry after this */
        aws_proc *proc;                /* a running credential_process */
        char *proc_cmd;                /* its command line, for messages */
        char *base_profile;            /* the profile of a shared-files chain, NULL otherwise */
        aws_imds_op imds_creds, imds_region;
        char *imds_token;
        uint64_t imds_token_expiry_usec;
        unsigned ecs_attempt;
        char *ecs_url, *ecs_auth;
        /* Region from IMDS: after a failure, calls fail fast with
         * region_error until region_retry_after_usec, then it is asked again. */
        bool region_resolving, region_failed;
        uint64_t region_retry_after_usec;
        char *region_error;
};

/* ---- aws-transport.c ---- */

/* Binds c->multi to c->event (socket and timer callbacks). Returns 0 or -ENOMEM. */
int aws_transport_init(aws_client *c);

/* Removes r's easy handle from the multi handle and frees it (if any). */
void aws_transport_drop(aws_request *r);

/* Replaces r's easy handle with a fresh one and empties the answer buffers.
 * Returns 0 or -ENOMEM. */
int aws_transport_reset(aws_request *r);

/* Sets what every request sets (headers r->headers, user agent, body sink,
 * TLS verification, the timeouts given in milliseconds) and starts the
 * transfer. The URL, method and body are set by the caller before. Returns
 * 0 or -EIO. */
int aws_transport_start(aws_request *r, long connect_ms, long timeout_ms);

/* How a transfer failed before any HTTP answer (curl's code). */
aws_net_failure aws_transport_net_failure(CURLcode code);

/* Queues a plain HTTP request (no signature, no proxy; header lines are
 * copied); cb runs once from the loop. Returns 0 or -ENOMEM. */
int aws_transport_raw_new(aws_client *c, const char *method, const char *url, const char *const *headers,
                          size_t n_headers, long connect_ms, long timeout_ms, aws_raw_callback cb);

/* Sends a plain HTTP request queued by aws_transport_raw_new(). */
void aws_transport_raw_send(aws_request *r);

/* A one-line description of a failed plain HTTP request (malloc'd, NULL on OOM). */
char *aws_transport_raw_describe(CURLcode code, long status, const char *errbuf, const char *url);

/* ---- aws-request.c ---- */

/* A new request on c's list, started from a defer source. Returns 0 or -ENOMEM. */
int aws_request_new(aws_client *c, aws_service svc, const char *operation, json_t *request, unsigned flags,
                    aws_request **ret);
/* Frees r (its handle, timer, buffers) and unlinks it. Accepts NULL. */
void aws_request_free(aws_request *r);
/* (Re)starts r: region, credentials, rate limiter, then the HTTP attempt. */
void aws_request_start(aws_request *r);
/* Ends r with e (service, operation, attempts, principal filled in here),
 * calls back and frees r. */
void aws_request_fail(aws_request *r, aws_error *e);
/* A transfer of r ended with code (from the transport). */
void aws_request_done(aws_request *r, CURLcode code);
/* The counters of an operation, created on first use. NULL on OOM. */
aws_op_entry *aws_request_op(aws_client *c, aws_service svc, const char *operation);

/* ---- aws-endpoint.c ---- */

/* The region from cfg, AWS_REGION, AWS_DEFAULT_REGION or the profile, and
 * every endpoint. Returns 0, -ENOMEM or -EINVAL (unusable endpoint URL). */
int aws_endpoint_init(aws_client *c);
/* Asks IMDS for the region (once at a time); waiting requests restart when
 * it is known or has failed. */
void aws_endpoint_resolve_region(aws_client *c);

/* ---- aws-metadata.c ---- */

/* True when AWS_EC2_METADATA_DISABLED=true. */
bool aws_metadata_imds_disabled(void);
/* GETs path from IMDSv2 (token first, retried); cb runs exactly once. The
 * region and the credentials have one operation slot each. */
void aws_metadata_imds_get(aws_client *c, bool region, const char *path, aws_imds_callback cb);
/* The credentials of the instance's role; ends in aws_creds_base_done() or
 * a failure. */
void aws_metadata_creds_imds(aws_client *c);
/* The ECS/EKS container credentials; ends in aws_creds_base_done() or a
 * failure. */
void aws_metadata_creds_ecs(aws_client *c);
/* True when the container credentials variables are set. */
bool aws_metadata_ecs_configured(void);

/* ---- aws-creds.c ---- */

/* The profile in use: aws.profile, AWS_PROFILE, "default". */
const char *aws_creds_profile_name(aws_client *c);
/* Loads the shared files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws). */
int aws_creds_files_load(creds_files **ret);
/* Whether the cached credentials can sign a request now. */
bool aws_creds_fresh(aws_client *c);
/* Starts resolving the credentials (once at a time); waiting requests
 * restart or fail when done. */
void aws_creds_resolve(aws_client *c);
/* The base credentials are v (taken over) from source (taken over): the
 * roles of the chain follow. */
void aws_creds_base_done(aws_client *c, creds_value *v, char *source);
/* A base source failed: inside a profile the message names the profile;
 * as the last resort (NoCredentials) it lists every source tried. */
void aws_creds_base_fail(aws_client *c, const char *type, const char *what, const char *detail);
/* Resolution failed (or, when the cached credentials still work, the
 * refresh is retried later). */
void aws_creds_fail(aws_client *c, const char *type, const char *message);

/* ---- aws-error.c ---- */

/* aws_escape() of len bytes at p (NUL bytes included, escaped as \x00). */
char *aws_escape_mem(const char *p, size_t len, size_t max);
