/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * AWS Signature Version 4 for header-signed requests, on OpenSSL's SHA-256
 * and HMAC. We sign ourselves rather than through CURLOPT_AWS_SIGV4 because
 * libcurl 7.88 does not canonicalize an unsorted query string, signs removal
 * headers (Expect:) it then does not send, sends a caller-set X-Amz-Date
 * twice and only hashes CURLOPT_POSTFIELDS bodies; here the exact bytes that
 * are signed are the bytes curl sends, and the result is checked against
 * known answers produced by botocore's SigV4Auth (tests/fixtures/sigv4/).
 *
 * The canonical form follows botocore: path with dot segments and empty
 * segments removed, then percent-encoded (everything but unreserved and
 * '/'); query pairs sorted as given; header names lower-cased, values
 * trimmed with inner whitespace runs collapsed, repeated names joined with
 * ','; User-Agent, Expect and X-Amzn-Trace-Id are never signed.
 */
#include <stddef.h>
#include <time.h>

typedef struct sigv4_header {
        const char *name;
        const char *value;
} sigv4_header;

typedef struct sigv4_credentials {
        const char *access_key_id;
        const char *secret_access_key;
        const char *session_token;   /* NULL when not temporary */
} sigv4_credentials;

typedef struct sigv4_input {
        const char *method;           /* "POST" */
        const char *host;             /* Host header value ("acm.eu-west-1.amazonaws.com", "127.0.0.1:8443") */
        const char *path;             /* as sent on the request line, without query; NULL/"" = "/" */
        const char *query;            /* as sent after '?', may be NULL */
        const sigv4_header *headers;  /* other headers sent (Content-Type, X-Amz-Target…); not Host */
        size_t n_headers;
        const void *payload;
        size_t payload_len;
        const char *region;           /* "us-east-1" */
        const char *service;          /* signing name: "acm", "acm-pca", "sts", "route53" */
        time_t time;                  /* signing time (UTC seconds) */
} sigv4_input;

typedef struct sigv4_result {
        char amz_date[17];            /* "20150830T123600Z": send as X-Amz-Date */
        char *authorization;          /* the Authorization header value */
        char *canonical_request;      /* for tests and debug logs (holds no secret) */
        char *string_to_sign;
} sigv4_result;

/*
 * Signs in with cr. The caller sends Host, X-Amz-Date = amz_date,
 * X-Amz-Security-Token = cr->session_token (when set), Authorization, and
 * exactly the headers in in->headers, with exactly in->payload as body.
 * Returns 0 and fills *ret (free with sigv4_result_done()), -EINVAL for a
 * missing field or a header value with a line break, -ENOMEM, -EIO when
 * OpenSSL fails.
 */
int sigv4_sign(const sigv4_input *in, const sigv4_credentials *cr, sigv4_result *ret);

/* Frees the strings of r (not r itself); safe on a zeroed or done result. */
void sigv4_result_done(sigv4_result *r);

/*
 * Percent-encodes s as AWS wants for query keys and values (RFC 3986:
 * everything but A-Z a-z 0-9 - _ . ~). Returns a malloc'd string or NULL on
 * OOM.
 */
char *sigv4_uri_encode(const char *s);
