/* SPDX-License-Identifier: Apache-2.0 */
/* What AWS answers mean, without the network: aws_answer_parse() for JSON
 * 1.1, STS query and Route 53 REST-XML; aws_escape(); the XML converter's
 * limits; the metadata credentials JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-answer.h"
#include "aws/aws-creds-file.h"
#include "aws/aws-internal.h"
#include "aws/aws-xml.h"
#include "aws/aws.h"
#include "basic/macro.h"

static void assert_no_controls(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                assert_true(*p >= 0x20 && *p != 0x7f);
}

/* Parses and checks the invariant: exactly one of result and error. */
static void parse(aws_service svc, const char *op, long status, const aws_answer_headers *h, const char *body,
                  size_t len, aws_answer *a) {
        assert_int_equal(aws_answer_parse(svc, op, status, h, body, len, a), 0);
        assert_true((a->result != NULL) != (a->error != NULL));
        if (a->error) {
                assert_non_null(a->error->type);
                assert_non_null(a->error->message);
                assert_string_equal(a->error->operation, op);
                assert_string_equal(a->error->service, aws_service_to_string(svc));
                assert_int_equal(a->error->http_status, status);
                assert_no_controls(a->error->type);
                assert_no_controls(a->error->message);
                if (a->error->request_id)
                        assert_no_controls(a->error->request_id);
        }
}

static void parse_str(aws_service svc, const char *op, long status, const aws_answer_headers *h, const char *body,
                      aws_answer *a) {
        parse(svc, op, status, h, body, strlen(body), a);
}

static void test_escape(void **state) {
        static const struct {
                const char *in;
                size_t max;
                const char *out;
        } cases[] = {
                { "plain text", 100, "plain text" },
                { "a\nb\rc\td", 100, "a\\nb\\rc\\td" },
                { "\x1b[31mred\x1b[0m", 100, "\\x1b[31mred\\x1b[0m" },
                { "nul\x01 del\x7f bel\a", 100, "nul\\x01 del\\x7f bel\\x07" },
                /* UTF-8 stays; C1 controls (CSI U+009B) and broken bytes do not. */
                { "caf\xc3\xa9 \xe2\x80\x94 ok", 100, "caf\xc3\xa9 \xe2\x80\x94 ok" },
                { "csi\xc2\x9b" "2J", 100, "csi\\xc2\\x9b2J" },
                { "bad\xff\xc3(", 100, "bad\\xff\\xc3(" },
                { "overlong\xc0\xaf", 100, "overlong\\xc0\\xaf" },
                { "surrogate\xed\xa0\x80", 100, "surrogate\\xed\\xa0\\x80" },
                /* Backslashes stay: escaping twice changes nothing. */
                { "regex [\\w+=/,.@-]+", 100, "regex [\\w+=/,.@-]+" },
                /* Bounded, never inside a UTF-8 sequence. */
                { "abcdefgh", 4, "abcd..." },
                { "ab\xc3\xa9", 3, "ab..." },
                { "abc", 3, "abc" },
                { "", 10, "" },
                { "x", 0, "..." },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *s = aws_escape(cases[i].in, cases[i].max);
                assert_non_null(s);
                assert_string_equal(s, cases[i].out);
                /* Idempotent. */
                char *t = aws_escape(s, strlen(s));
                assert_string_equal(t, s);
                assert_no_controls(s);
                free(t);
                free(s);
        }
        char *n = aws_escape(NULL, 10);
        assert_string_equal(n, "");
        free(n);
        /* NUL bytes inside a body. */
        char *m = aws_escape_mem("a\0b", 3, 10);
        assert_string_equal(m, "a\\x00b");
        free(m);
        /* Every byte value: no control character ever comes out. */
        char all[256];
        for (int i = 0; i < 256; i++)
                all[i] = (char) i;
        m = aws_escape_mem(all, sizeof all, sizeof all);
        assert_no_controls(m);
        free(m);
}

static void test_error_format_escapes(void **state) {
        aws_error e = {
                .kind = AWS_ERROR_OTHER, .service = "acm", .operation = "DescribeCertificate",
                .type = "Odd\x1b]0;title\a", .message = "line one\n2026-01-01 [ERROR] forged\r\x1b[2J",
                .request_id = "id\n1", .principal = "arn\x7f", .http_status = 400, .attempts = 1,
        };
        char *s = aws_error_format(&e);
        assert_non_null(s);
        assert_no_controls(s);
        assert_string_equal(s, "Odd\\x1b]0;title\\x07 on acm:DescribeCertificate for arn\\x7f: line one\\n2026-01-01 "
                               "[ERROR] forged\\r\\x1b[2J (HTTP 400, request id id\\n1, 1 attempt)");
        free(s);
}

static void test_json_success(void **state) {
        aws_answer a = {};
        parse_str(AWS_SERVICE_ACM, "DescribeCertificate", 200, NULL, "{\"Certificate\": {\"Status\": \"ISSUED\"}}", &a);
        assert_string_equal(json_string_value(json_object_get(json_object_get(a.result, "Certificate"), "Status")),
                            "ISSUED");
        aws_answer_done(&a);
        assert_null(a.result);
        /* An empty body is an empty result. */
        parse(AWS_SERVICE_ACM_PCA, "RevokeCertificate", 200, NULL, NULL, 0, &a);
        assert_true(json_is_object(a.result) && json_object_size(a.result) == 0);
        aws_answer_done(&a);
}

static void test_json_unusable(void **state) {
        aws_answer a = {};
        /* Truncated, with control characters: line and column, the size, the
         * first bytes escaped; never jansson's text ("near ..."). */
        parse_str(AWS_SERVICE_ACM, "DescribeCertificate", 200, NULL, "{\"Certificate\":\n {\"Status\": \"ISS\x1b[2J", &a);
        assert_string_equal(a.error->type, "MalformedResponse");
        assert_int_equal(a.error->kind, AWS_ERROR_NETWORK);
        assert_true(a.retryable);
        assert_int_equal(a.net, AWS_NET_MAYBE_SENT);
        assert_string_equal(a.error->message, "HTTP 200 answer is not valid JSON (line 2, column 16); 36 bytes: "
                                              "{\"Certificate\":\\n {\"Status\": \"ISS\\x1b[2J");
        assert_null(strstr(a.error->message, "near"));
        aws_answer_done(&a);

        /* A long body: at most 120 bytes of it. */
        char big[400];
        memset(big, 'x', sizeof big - 1);
        big[0] = '<';
        big[sizeof big - 1] = 0;
        parse_str(AWS_SERVICE_ACM, "GetCertificate", 200, NULL, big, &a);
        assert_non_null(strstr(a.error->message, "(line 1, column 1); 399 bytes: <xxx"));
        const char *x = strstr(a.error->message, "bytes: ") + strlen("bytes: ");
        assert_int_equal(strlen(x), 120 + 3);
        assert_string_equal(x + 120, "...");
        aws_answer_done(&a);

        /* JSON, but not an object. */
        parse_str(AWS_SERVICE_ACM, "ListCertificates", 200, NULL, "[1, 2]", &a);
        assert_string_equal(a.error->message, "HTTP 200 answer is JSON but not an object (an array); 6 bytes: [1, 2]");
        aws_answer_done(&a);

        /* A proxy's HTML error page: classified by its status, retryable. */
        aws_answer_headers h = { .request_id = "rid\r\nInjected: yes" };
        parse_str(AWS_SERVICE_ACM_PCA, "IssueCertificate", 502, &h, "<html><body>Bad Gateway</body></html>\n", &a);
        assert_string_equal(a.error->type, "HttpError");
        assert_int_equal(a.error->kind, AWS_ERROR_SERVER);
        assert_true(a.retryable);
        assert_int_equal(a.net, AWS_NET_NONE);
        assert_string_equal(a.error->request_id, "rid\\r\\nInjected: yes");
        assert_string_equal(a.error->message, "HTTP 502 answer is not valid JSON (line 1, column 1); 38 bytes: "
                                              "<html><body>Bad Gateway</body></html>\\n");
        aws_answer_done(&a);

        /* An error status with an empty body. */
        parse(AWS_SERVICE_ACM, "DescribeCertificate", 503, NULL, "", 0, &a);
        assert_int_equal(a.error->kind, AWS_ERROR_SERVER);
        assert_string_equal(a.error->message, "HTTP 503 answer has no AWS error; the body is empty");
        aws_answer_done(&a);

        /* A 4xx object without __type or message. */
        parse_str(AWS_SERVICE_ACM, "DescribeCertificate", 403, NULL, "{\"x\": 1}", &a);
        assert_string_equal(a.error->type, "HttpError");
        assert_int_equal(a.error->kind, AWS_ERROR_AUTH);
        assert_string_equal(a.error->message, "HTTP 403 answer has no AWS error (__type); 8 bytes: {\"x\": 1}");
        aws_answer_done(&a);

        /* NUL bytes in a body. */
        parse(AWS_SERVICE_ACM, "DescribeCertificate", 200, NULL, "{\"a\"\0}", 6, &a);
        assert_string_equal(a.error->type, "MalformedResponse");
        assert_non_null(strstr(a.error->message, "6 bytes: {\"a\"\\x00}"));
        aws_answer_done(&a);
}

static void test_json_errors(void **state) {
        aws_answer a = {};
        aws_answer_headers h = { .request_id = "1111-2222" };

        parse_str(AWS_SERVICE_ACM_PCA, "IssueCertificate", 400, &h,
                  "{\"__type\": \"com.amazonaws.acmpca#ResourceNotFoundException\", \"Message\": \"no CA\\nhere\"}",
                  &a);
        assert_string_equal(a.error->type, "ResourceNotFoundException");
        assert_int_equal(a.error->kind, AWS_ERROR_NOT_FOUND);
        assert_false(a.retryable);
        assert_string_equal(a.error->message, "no CA\\nhere");
        assert_string_equal(a.error->request_id, "1111-2222");
        aws_answer_done(&a);

        /* The type from x-amzn-ErrorType when the body has none. */
        aws_answer_headers he = { .error_type = "AccessDeniedException:http://internal.amazon.com/coral/" };
        parse_str(AWS_SERVICE_ACM, "ListCertificates", 400, &he, "{\"message\": \"denied\"}", &a);
        assert_string_equal(a.error->type, "AccessDeniedException");
        assert_int_equal(a.error->kind, AWS_ERROR_AUTH);
        aws_answer_done(&a);
        parse(AWS_SERVICE_ACM, "ListCertificates", 400, &he, "", 0, &a);
        assert_string_equal(a.error->type, "AccessDeniedException");
        assert_string_equal(a.error->message, "HTTP 400 answer with an empty body");
        aws_answer_done(&a);

        /* 2026 ACM: ThrottlingException with throttlingReasons. */
        parse_str(AWS_SERVICE_ACM, "DescribeCertificate", 400, NULL,
                  "{\"__type\": \"ThrottlingException\", \"message\": \"Rate exceeded\", \"throttlingReasons\": "
                  "[{\"reason\": \"ACCOUNT_LEVEL\", \"resource\": \"arn:aws:acm:us-east-1:1:certificate/x\"}, "
                  "{\"resource\": \"r2\"}, {\"reason\": \"R3\"}, {}, {\"reason\": \"R5\"}, {\"reason\": \"R6\"}]}",
                  &a);
        assert_string_equal(a.error->type, "ThrottlingException");
        assert_int_equal(a.error->kind, AWS_ERROR_THROTTLED);
        assert_true(a.retryable);
        assert_string_equal(a.error->message,
                            "Rate exceeded (throttling reasons: ACCOUNT_LEVEL on arn:aws:acm:us-east-1:1:certificate/x; "
                            "unspecified on r2; R3; unspecified; R5 and 1 more)");
        aws_answer_done(&a);
        /* Without them, the message is AWS's. */
        parse_str(AWS_SERVICE_ACM, "DescribeCertificate", 400, NULL,
                  "{\"__type\": \"ThrottlingException\", \"message\": \"Rate exceeded\", \"throttlingReasons\": []}",
                  &a);
        assert_string_equal(a.error->message, "Rate exceeded");
        aws_answer_done(&a);

        /* HTTP 200 with an error document: the error, said so. */
        parse_str(AWS_SERVICE_ACM, "ExportCertificate", 200, NULL,
                  "{\"__type\": \"InternalFailure\", \"message\": \"boom\"}", &a);
        assert_string_equal(a.error->type, "InternalFailure");
        assert_int_equal(a.error->kind, AWS_ERROR_SERVER);
        assert_true(a.retryable);
        assert_string_equal(a.error->message, "the HTTP 200 answer carries an error: boom");
        aws_answer_done(&a);

        /* A long message is bounded (1024 bytes of it). */
        char big[3000];
        int n = snprintf(big, sizeof big, "{\"__type\": \"ValidationException\", \"message\": \"");
        memset(big + n, 'm', 2000);
        strcpy(big + n + 2000, "\"}");
        parse_str(AWS_SERVICE_ACM, "RequestCertificate", 400, NULL, big, &a);
        assert_int_equal(strlen(a.error->message), 1024 + 3);
        aws_answer_done(&a);

        assert_int_equal(aws_answer_parse(_AWS_SERVICE_MAX, "X", 200, NULL, "{}", 2, &a), -EINVAL);
        assert_int_equal(aws_answer_parse(AWS_SERVICE_ACM, NULL, 200, NULL, "{}", 2, &a), -EINVAL);
        assert_int_equal(aws_answer_parse(AWS_SERVICE_ACM, "X", 200, NULL, NULL, 2, &a), -EINVAL);
}

static void test_sts(void **state) {
        aws_answer a = {};
        parse_str(AWS_SERVICE_STS, "AssumeRole", 200, NULL,
                  "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                  "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
                  "<SessionToken>t</SessionToken><Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>"
                  "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
                  "</AssumeRoleResponse>",
                  &a);
        assert_string_equal(json_string_value(json_object_get(json_object_get(a.result, "Credentials"), "AccessKeyId")),
                            "ASIA");
        aws_answer_done(&a);
        /* No result element: an empty result. */
        parse_str(AWS_SERVICE_STS, "GetCallerIdentity", 200, NULL,
                  "<GetCallerIdentityResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
                  "</GetCallerIdentityResponse>",
                  &a);
        assert_int_equal(json_object_size(a.result), 0);
        aws_answer_done(&a);
        /* The wrong root is not a result. */
        parse_str(AWS_SERVICE_STS, "AssumeRole", 200, NULL, "<Other><x>1</x></Other>", &a);
        assert_string_equal(a.error->type, "MalformedResponse");
        assert_string_equal(a.error->message, "HTTP 200 answer has the root element <Other>, not <AssumeRoleResponse>; "
                                              "23 bytes: <Other><x>1</x></Other>");
        aws_answer_done(&a);
        /* Errors, also with HTTP 200; the request id from the body. */
        parse_str(AWS_SERVICE_STS, "AssumeRole", 403, NULL,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not\tallowed</Message>"
                  "</Error><RequestId>sts-&#10;1</RequestId></ErrorResponse>",
                  &a);
        assert_string_equal(a.error->type, "AccessDenied");
        assert_int_equal(a.error->kind, AWS_ERROR_AUTH);
        assert_string_equal(a.error->message, "not\\tallowed");
        assert_string_equal(a.error->request_id, "sts-\\n1");
        aws_answer_done(&a);
        parse_str(AWS_SERVICE_STS, "AssumeRole", 200, NULL,
                  "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                  "</ErrorResponse>",
                  &a);
        assert_int_equal(a.error->kind, AWS_ERROR_THROTTLED);
        assert_string_equal(a.error->message, "the HTTP 200 answer carries an error: Rate exceeded");
        aws_answer_done(&a);
        /* Broken XML: line and column. */
        parse_str(AWS_SERVICE_STS, "AssumeRole", 200, NULL, "<AssumeRoleResponse>\n<a></b>", &a);
        assert_string_equal(a.error->type, "MalformedResponse");
        assert_non_null(strstr(a.error->message, "is not well-formed XML (line 2, column "));
        assert_non_null(strstr(a.error->message, "mismatched tag"));
        aws_answer_done(&a);
        parse(AWS_SERVICE_STS, "AssumeRole", 200, NULL, "", 0, &a);
        assert_string_equal(a.error->message, "HTTP 200 answer is empty, XML expected; the body is empty");
        aws_answer_done(&a);
}

static void test_route53(void **state) {
        aws_answer a = {};
        parse_str(AWS_SERVICE_ROUTE53, "GetChange", 200, NULL,
                  "<?xml version=\"1.0\"?>\n<GetChangeResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                  "<ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status></ChangeInfo></GetChangeResponse>",
                  &a);
        assert_string_equal(json_string_value(json_object_get(json_object_get(a.result, "ChangeInfo"), "Status")),
                            "PENDING");
        aws_answer_done(&a);
        parse_str(AWS_SERVICE_ROUTE53, "DeleteSomething", 200, NULL, "<DeleteSomethingResponse/>", &a);
        assert_int_equal(json_object_size(a.result), 0);
        aws_answer_done(&a);
        parse_str(AWS_SERVICE_ROUTE53, "ChangeResourceRecordSets", 400, NULL,
                  "<InvalidChangeBatch xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages>"
                  "<Message>Tried to create resource record set x but it already exists</Message>"
                  "<Message>second</Message></Messages><RequestId>r53-1</RequestId></InvalidChangeBatch>",
                  &a);
        assert_string_equal(a.error->type, "InvalidChangeBatch");
        assert_int_equal(a.error->kind, AWS_ERROR_INVALID);
        assert_string_equal(a.error->message, "Tried to create resource record set x but it already exists");
        assert_string_equal(a.error->request_id, "r53-1");
        aws_answer_done(&a);
        parse_str(AWS_SERVICE_ROUTE53, "GetChange", 404, NULL,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchChange</Code><Message>x</Message></Error>"
                  "<RequestId>r</RequestId></ErrorResponse>",
                  &a);
        assert_string_equal(a.error->type, "NoSuchChange");
        assert_int_equal(a.error->kind, AWS_ERROR_NOT_FOUND);
        aws_answer_done(&a);
        /* A 5xx page that is XML but no AWS error. */
        parse_str(AWS_SERVICE_ROUTE53, "GetChange", 503, NULL, "<html><body>down</body></html>", &a);
        assert_string_equal(a.error->type, "HttpError");
        assert_int_equal(a.error->kind, AWS_ERROR_SERVER);
        assert_string_equal(a.error->message, "HTTP 503 answer has no AWS error (root element <html>); 30 bytes: "
                                              "<html><body>down</body></html>");
        aws_answer_done(&a);
        /* A DTD (entity expansion) is refused. */
        parse_str(AWS_SERVICE_ROUTE53, "GetChange", 200, NULL,
                  "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><GetChangeResponse>&b;"
                  "</GetChangeResponse>",
                  &a);
        assert_string_equal(a.error->type, "MalformedResponse");
        assert_non_null(strstr(a.error->message, "document type declaration (DTD) is not accepted"));
        aws_answer_done(&a);
}

static void test_xml_limits(void **state) {
        json_t *j = NULL;
        aws_xml_error err = {};
        char deep[33 * 3 + 33 * 4 + 1] = "";
        for (int i = 0; i < 33; i++)
                strcat(deep, "<a>");
        for (int i = 0; i < 33; i++)
                strcat(deep, "</a>");
        assert_int_equal(aws_xml_parse(deep, strlen(deep), &j, &err), -E2BIG);
        assert_string_equal(err.what, "elements nested deeper than 32 levels");
        /* Text in many pieces (entity references) is joined. */
        char text[5000] = "<r>";
        for (int i = 0; i < 800; i++)
                strcat(text, "&amp;");
        strcat(text, "</r>");
        assert_int_equal(aws_xml_parse(text, strlen(text), &j, &err), 0);
        assert_int_equal(strlen(json_string_value(json_object_get(j, "r"))), 800);
        json_decref(j);
        /* Repeated elements become an array. */
        assert_int_equal(aws_xml_to_json("<r><m>1</m><m>2</m><m>3</m></r>", 31, &j), 0);
        assert_int_equal(json_array_size(json_object_get(json_object_get(j, "r"), "m")), 3);
        json_decref(j);
        assert_int_equal(aws_xml_parse("", 0, &j, &err), -EBADMSG);
}

static void test_metadata_creds(void **state) {
        creds_value v = {};
        char *msg = NULL;
        const char *ok = "{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAX\", \"SecretAccessKey\": \"s3cr3t\", "
                         "\"Token\": \"tok\", \"Expiration\": \"2026-11-23T00:00:00Z\"}";
        assert_int_equal(creds_metadata_parse(ok, strlen(ok), &v, &msg), 0);
        assert_string_equal(v.access_key_id, "ASIAX");
        assert_string_equal(v.session_token, "tok");
        assert_true(v.expiration_usec > 0);
        creds_value_done(&v);

        static const struct {
                const char *text, *msg;
        } bad[] = {
                { "{\"AccessKeyId\": \"s3cr3t-", "the answer is not JSON (line 1, column 24)" },
                { "[]", "the answer is not a JSON object" },
                { "{\"Code\": \"Fail\\u001b[2J\\n\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s3cr3t\"}",
                  "the answer's Code is Fail\\x1b[2J\\n, not Success" },
                { "{\"AccessKeyId\": \"A\"}", "the answer has no usable AccessKeyId and SecretAccessKey" },
                { "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s3cr3t\", \"Expiration\": \"soon\"}",
                  "the answer's Expiration is not an RFC 3339 time" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(creds_metadata_parse(bad[i].text, strlen(bad[i].text), &v, &msg), -EBADMSG);
                assert_string_equal(msg, bad[i].msg);
                assert_null(strstr(msg, "s3cr3t"));
                free(msg);
                msg = NULL;
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_error_format_escapes),
                cmocka_unit_test(test_json_success),
                cmocka_unit_test(test_json_unusable),
                cmocka_unit_test(test_json_errors),
                cmocka_unit_test(test_sts),
                cmocka_unit_test(test_route53),
                cmocka_unit_test(test_xml_limits),
                cmocka_unit_test(test_metadata_creds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
