/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 against known answers made by botocore's SigV4Auth
 * (tests/fixtures/sigv4/generate.py), AWS's published suite included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <time.h>

#include "basic/macro.h"
#include "aws/aws-sigv4.h"

static time_t parse_amz_time(const char *s) {
        struct tm tm = {};
        assert_non_null(strptime(s, "%Y%m%dT%H%M%SZ", &tm));
        return timegm(&tm);
}

static const char *opt_str(json_t *o, const char *k) {
        json_t *v = json_object_get(o, k);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_vectors(void **state) {
        json_error_t jerr;
        json_t *all = json_load_file(ABS_TOP_SRCDIR "/tests/fixtures/sigv4/vectors.json", 0, &jerr);
        size_t i, n = 0;
        json_t *v;

        assert_non_null(all);
        assert_true(json_array_size(all) >= 15);
        json_array_foreach(all, i, v) {
                json_t *hs = json_object_get(v, "headers");
                sigv4_header h[8] = {};
                size_t nh = json_array_size(hs);
                assert_true(nh <= ELEMENTSOF(h));
                for (size_t j = 0; j < nh; j++) {
                        h[j].name = json_string_value(json_array_get(json_array_get(hs, j), 0));
                        h[j].value = json_string_value(json_array_get(json_array_get(hs, j), 1));
                }
                const char *body = opt_str(v, "body");
                sigv4_input in = {
                        .method = opt_str(v, "method"),
                        .host = opt_str(v, "host"),
                        .path = opt_str(v, "path"),
                        .query = opt_str(v, "query"),
                        .headers = h,
                        .n_headers = nh,
                        .payload = body,
                        .payload_len = strlen(body),
                        .region = opt_str(v, "region"),
                        .service = opt_str(v, "service"),
                        .time = parse_amz_time(opt_str(v, "time")),
                };
                sigv4_credentials cr = {
                        .access_key_id = opt_str(v, "access_key_id"),
                        .secret_access_key = opt_str(v, "secret_access_key"),
                        .session_token = opt_str(v, "session_token"),
                };
                sigv4_result r = {};
                print_message("vector %s\n", opt_str(v, "name"));
                assert_int_equal(sigv4_sign(&in, &cr, &r), 0);
                assert_string_equal(r.canonical_request, opt_str(v, "canonical_request"));
                assert_string_equal(r.string_to_sign, opt_str(v, "string_to_sign"));
                assert_string_equal(r.authorization, opt_str(v, "authorization"));
                assert_string_equal(r.amz_date, opt_str(v, "time"));
                sigv4_result_done(&r);
                n++;
        }
        assert_true(n >= 15);
        json_decref(all);
}

static void test_published_get_vanilla(void **state) {
        /* Independent of the fixture file: AWS's published answer. */
        sigv4_input in = {
                .method = "GET", .host = "example.amazonaws.com", .path = "/",
                .region = "us-east-1", .service = "service", .time = 1440938160,
        };
        sigv4_credentials cr = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
        sigv4_result r = {};
        assert_int_equal(sigv4_sign(&in, &cr, &r), 0);
        assert_string_equal(r.authorization,
                            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                            "SignedHeaders=host;x-amz-date, "
                            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        sigv4_result_done(&r);

        /* A different secret gives a different signature. */
        cr.secret_access_key = "wrong";
        assert_int_equal(sigv4_sign(&in, &cr, &r), 0);
        assert_null(strstr(r.authorization, "5fa00fa31553b73e"));
        sigv4_result_done(&r);
}

static void test_rejects(void **state) {
        sigv4_header bad[] = { { "X-Test", "a\r\nInjected: 1" } };
        sigv4_header host[] = { { "Host", "evil" } };
        sigv4_input in = {
                .method = "GET", .host = "example.amazonaws.com", .path = "/",
                .region = "us-east-1", .service = "service", .time = 1440938160,
                .headers = bad, .n_headers = 1,
        };
        sigv4_credentials cr = { "AKID", "secret", NULL };
        sigv4_result r = {};
        assert_int_equal(sigv4_sign(&in, &cr, &r), -EINVAL);
        in.headers = host;
        assert_int_equal(sigv4_sign(&in, &cr, &r), -EINVAL);
        in.headers = NULL;
        in.n_headers = 0;
        cr.secret_access_key = "";
        assert_int_equal(sigv4_sign(&in, &cr, &r), -EINVAL);
        assert_null(r.authorization);
}

static void test_uri_encode(void **state) {
        char *s = sigv4_uri_encode("a b/c~d_e.f-g=h&i+é");
        assert_string_equal(s, "a%20b%2Fc~d_e.f-g%3Dh%26i%2B%C3%A9");
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vectors),
                cmocka_unit_test(test_published_get_vanilla),
                cmocka_unit_test(test_rejects),
                cmocka_unit_test(test_uri_encode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
