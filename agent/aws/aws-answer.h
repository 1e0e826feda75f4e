/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * What an HTTP answer of AWS means, without any I/O: the parsed result of a
 * call, or the error it carries. The request code calls it for every
 * answer; tests and the fuzzing harnesses (tests/fuzz/aws/) call it
 * directly.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "aws/aws-policy.h"
#include "aws/aws.h"

/* The headers that matter, as received (NULL when absent). */
typedef struct aws_answer_headers {
        const char *request_id;       /* x-amzn-RequestId / x-amz-request-id */
        const char *error_type;       /* x-amzn-ErrorType (JSON services) */
} aws_answer_headers;

/* Exactly one of result and error is set. */
typedef struct aws_answer {
        json_t *result;               /* success: the result object (owned) */
        aws_error *error;             /* failure (owned, aws_error_free()): kind, type, message,
                                       * request_id, http_status, service and operation set; every
                                       * string taken from the answer has its control characters
                                       * escaped (aws_escape()) and is bounded */
        bool retryable;               /* failure: the standard retry mode may retry it */
        aws_net_failure net;          /* failure: AWS_NET_MAYBE_SENT when a 2xx answer was unusable
                                       * (the request arrived; its result was lost), else NONE */
} aws_answer;

/*
 * Interprets the answer of operation (the AWS name) of svc: http_status,
 * the headers h (may be NULL), and len bytes of body (need not be
 * NUL-terminated; may contain NUL bytes; len 0 is an empty body).
 *
 *  - JSON 1.1 (ACM, ACM-PCA): a 2xx object is the result (an empty body is
 *    {}); a 2xx object with "__type" is the error it names; any other
 *    status is an error with __type (namespace dropped) or x-amzn-ErrorType,
 *    "message"/"Message", and for a ThrottlingException the
 *    throttlingReasons (2026 ACM model) appended to the message.
 *  - STS (query protocol): the root element must be <OperationResponse>;
 *    the result is its <OperationResult> (an empty object when there is
 *    none). <ErrorResponse><Error><Code>/<Message> is an error, whatever
 *    the status.
 *  - Route 53 (REST-XML): the result is the root element's content (an
 *    empty object when it has none); <ErrorResponse> and
 *    <InvalidChangeBatch> are errors, whatever the status.
 *
 * An unusable 2xx body (not JSON / XML, not an object, wrong root) gives
 * MalformedResponse (kind network, retryable, net MAYBE_SENT); an unusable
 * non-2xx body gives HttpError classified by the status. Their message
 * says the HTTP status, what is wrong (for JSON the line and column of the
 * syntax error, never jansson's text, which may quote the input), the
 * body's size and at most its first 120 bytes, escaped. The operation is in
 * error->operation (aws_error_format() prints it).
 *
 * Returns 0 and fills *ret (free with aws_answer_done()); -EINVAL for an
 * unknown service or a NULL argument; -ENOMEM. *ret is untouched on error.
 */
int aws_answer_parse(aws_service svc, const char *operation, long http_status, const aws_answer_headers *h,
                     const char *body, size_t len, aws_answer *ret);

/* Frees what *a holds and empties it. Accepts an empty answer. */
void aws_answer_done(aws_answer *a);
