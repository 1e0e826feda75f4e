/* SPDX-License-Identifier: Apache-2.0 */
/* Shared config/credentials files: profiles, source_profile chains,
 * credential_process output and command lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aws/aws-creds-file.h"
#include "basic/macro.h"
#include "basic/util.h"

static const char config[] =
        "# comment\n"
        "[default]\n"
        "region = eu-west-1\n"
        "s3 =\n"
        "  max_concurrent_requests = 20\n"
        "[profile prod]\n"
        "role_arn = arn:aws:iam::111122223333:role/cert-agent\n"
        "source_profile = base\n"
        "external_id = ext-1\n"
        "region=us-west-2 ; inline comment\n"
        "[profile top]\n"
        "role_arn = arn:aws:iam::444455556666:role/top\n"
        "source_profile = prod\n"
        "role_session_name = host1\n"
        "[profile proc]\n"
        "credential_process = /usr/bin/helper --profile \"a b\" 'c d' e\\ f\n"
        "[profile web]\n"
        "role_arn = arn:aws:iam::111122223333:role/web\n"
        "web_identity_token_file = /var/run/token\n"
        "[profile ec2]\n"
        "role_arn = arn:aws:iam::111122223333:role/ec2\n"
        "credential_source = Ec2InstanceMetadata\n"
        "[profile loop1]\n"
        "role_arn = arn:aws:iam::1:role/a\n"
        "source_profile = loop2\n"
        "[profile loop2]\n"
        "role_arn = arn:aws:iam::1:role/b\n"
        "source_profile = loop1\n"
        "[profile dangling]\n"
        "role_arn = arn:aws:iam::1:role/a\n"
        "source_profile = nowhere\n"
        "[profile half]\n"
        "aws_access_key_id = AKIAHALF\n"
        "[profile norole]\n"
        "source_profile = base\n"
        "region = x\n"
        "[profile self]\n"
        "role_arn = arn:aws:iam::1:role/self\n"
        "source_profile = self\n"
        "aws_access_key_id = AKIASELF\n"
        "aws_secret_access_key = selfsecret\n"
        "[profile both]\n"
        "role_arn = arn:aws:iam::1:role/x\n"
        "source_profile = base\n"
        "credential_source = Environment\n"
        "[sso-session s]\n"
        "sso_region = us-east-1\n";

static const char credentials[] =
        "[default]\n"
        "aws_access_key_id = AKIADEFAULT\n"
        "aws_secret_access_key = defaultsecret\n"
        "[base]\n"
        "aws_access_key_id=AKIABASE\n"
        "aws_secret_access_key=base/secret+key\n"
        "aws_session_token = tok\n"
        "[profile notaprofile]\n"
        "aws_access_key_id = X\n";

static creds_files *load(void) {
        creds_files *f = NULL;
        assert_int_equal(creds_files_parse(config, credentials, &f), 0);
        return f;
}

static void test_static(void **state) {
        creds_files *f = load();
        creds_chain c;
        assert_int_equal(creds_files_resolve(f, "default", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_STATIC);
        assert_string_equal(c.access_key_id, "AKIADEFAULT");
        assert_string_equal(c.secret_access_key, "defaultsecret");
        assert_null(c.session_token);
        assert_int_equal(c.n_roles, 0);
        creds_chain_done(&c);
        assert_string_equal(creds_files_get(f, "default", "region"), "eu-west-1");
        /* Nested sub-keys are not keys of the profile. */
        assert_null(creds_files_get(f, "default", "max_concurrent_requests"));
        assert_string_equal(creds_files_get(f, "prod", "region"), "us-west-2");
        /* [sso-session] is not a profile. */
        assert_false(creds_files_has_profile(f, "s"));
        creds_files_free(f);
}

static void test_chain(void **state) {
        creds_files *f = load();
        creds_chain c;
        assert_int_equal(creds_files_resolve(f, "top", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_STATIC);
        assert_string_equal(c.base_profile, "base");
        assert_string_equal(c.access_key_id, "AKIABASE");
        assert_string_equal(c.session_token, "tok");
        assert_int_equal(c.n_roles, 2);
        assert_string_equal(c.roles[0].role_arn, "arn:aws:iam::111122223333:role/cert-agent");
        assert_string_equal(c.roles[0].external_id, "ext-1");
        assert_string_equal(c.roles[1].role_arn, "arn:aws:iam::444455556666:role/top");
        assert_string_equal(c.roles[1].role_session_name, "host1");
        creds_chain_done(&c);

        assert_int_equal(creds_files_resolve(f, "self", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_STATIC);
        assert_string_equal(c.access_key_id, "AKIASELF");
        assert_int_equal(c.n_roles, 1);
        assert_string_equal(c.roles[0].role_arn, "arn:aws:iam::1:role/self");
        creds_chain_done(&c);

        assert_int_equal(creds_files_resolve(f, "web", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_WEB_IDENTITY);
        assert_string_equal(c.token_file, "/var/run/token");
        assert_string_equal(c.web_role_arn, "arn:aws:iam::111122223333:role/web");
        creds_chain_done(&c);

        assert_int_equal(creds_files_resolve(f, "ec2", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_IMDS);
        assert_int_equal(c.n_roles, 1);
        creds_chain_done(&c);

        assert_int_equal(creds_files_resolve(f, "proc", &c, NULL), 0);
        assert_int_equal(c.base, CREDS_BASE_PROCESS);
        assert_string_equal(c.process, "/usr/bin/helper --profile \"a b\" 'c d' e\\ f");
        creds_chain_done(&c);
        creds_files_free(f);
}

static void expect_error(creds_files *f, const char *profile, int want, const char *needle) {
        creds_chain c = {};
        char *m = NULL;
        assert_int_equal(creds_files_resolve(f, profile, &c, &m), want);
        assert_non_null(m);
        print_message("%s: %s\n", profile, m);
        assert_non_null(strstr(m, needle));
        free(m);
}

static void test_errors(void **state) {
        creds_files *f = load();
        expect_error(f, "missing", -ENOENT, "'missing' is not in the AWS config");
        expect_error(f, "loop1", -ELOOP, "loop");
        expect_error(f, "dangling", -ENOENT, "'nowhere'");
        expect_error(f, "half", -EINVAL, "only one of");
        expect_error(f, "norole", -EINVAL, "no credentials");
        expect_error(f, "both", -EINVAL, "both source_profile and credential_source");
        /* [profile x] in the credentials file is a profile literally named so. */
        assert_false(creds_files_has_profile(f, "notaprofile"));
        creds_files_free(f);
}

static void test_process_output(void **state) {
        creds_value v = {};
        char *m = NULL;
        const char ok[] = "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"s3cr3t\", "
                          "\"SessionToken\": \"tok\", \"Expiration\": \"2030-01-02T03:04:05Z\"}";
        assert_int_equal(creds_process_parse_output(ok, strlen(ok), &v, &m), 0);
        assert_string_equal(v.access_key_id, "ASIAPROC");
        assert_string_equal(v.secret_access_key, "s3cr3t");
        assert_string_equal(v.session_token, "tok");
        assert_true(v.expiration_usec == UINT64_C(1893553445) * USEC_PER_SEC);
        creds_value_done(&v);

        static const struct {
                const char *text, *needle;
        } bad[] = {
                { "not json", "not JSON" },
                { "[]", "not a JSON object" },
                { "{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\"}", "Version" },
                { "{\"Version\": 1, \"SecretAccessKey\": \"topsecret\"}", "AccessKeyId" },
                { "{\"Version\": 1, \"AccessKeyId\": \"A\"}", "SecretAccessKey" },
                { "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"topsecret\", "
                  "\"Expiration\": \"tomorrow\"}", "Expiration" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                m = NULL;
                assert_int_equal(creds_process_parse_output(bad[i].text, strlen(bad[i].text), &v, &m), -EINVAL);
                assert_non_null(m);
                assert_non_null(strstr(m, bad[i].needle));
                /* The secret never appears in the message. */
                assert_null(strstr(m, "topsecret"));
                free(m);
                assert_null(v.access_key_id);
        }
}

static void test_split(void **state) {
        char **argv = NULL;
        assert_int_equal(creds_split_command("/usr/bin/helper --profile \"a b\" 'c d' e\\ f \"q\\\"x\"", &argv), 0);
        assert_int_equal(strv_length(argv), 6);
        assert_string_equal(argv[0], "/usr/bin/helper");
        assert_string_equal(argv[2], "a b");
        assert_string_equal(argv[3], "c d");
        assert_string_equal(argv[4], "e f");
        assert_string_equal(argv[5], "q\"x");
        strv_free(argv);
        /* shlex.split: inside "…" only \" and \\ escape; no expansion; CR is whitespace. */
        assert_int_equal(creds_split_command("h \"a\\$b\\\\c\"\r'$HOME' \"\"", &argv), 0);
        assert_int_equal(strv_length(argv), 4);
        assert_string_equal(argv[1], "a\\$b\\c");
        assert_string_equal(argv[2], "$HOME");
        assert_string_equal(argv[3], "");
        strv_free(argv);
        assert_int_equal(creds_split_command("helper 'unterminated", &argv), -EINVAL);
        assert_int_equal(creds_split_command("helper \"unterminated", &argv), -EINVAL);
        assert_int_equal(creds_split_command("helper trailing\\", &argv), -EINVAL);
        assert_int_equal(creds_split_command("   ", &argv), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_static),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_process_output),
                cmocka_unit_test(test_split),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
