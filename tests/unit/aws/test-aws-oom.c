/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS client when a message cannot be formatted (out of memory): linked
 * with -Wl,--wrap=strprintf, so chosen strprintf() calls inside the client
 * return NULL. A failure must stay a failure, never empty credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws.h"
#include "basic/macro.h"
#include "basic/util.h"

/* strprintf() calls whose format starts with this prefix fail. */
static const char *fail_prefix;
static unsigned n_failed;

char *__wrap_strprintf(const char *fmt, ...);
char *__wrap_strprintf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (fail_prefix && strneq(fmt, fail_prefix, strlen(fail_prefix))) {
                n_failed++;
                return NULL;
        }
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

typedef struct result {
        bool done, failed;
        char *type;
        bool have_key;
} result;

static void on_creds(const aws_error *err, const aws_credentials_info *info, void *userdata) {
        result *r = userdata;
        assert_false(r->done);
        r->done = true;
        r->failed = err != NULL;
        if (err)
                r->type = strdup(err->type ? err->type : "");
        else
                r->have_key = info && info->access_key_id;
}

static void test_process_message_oom(void **state) {
        static const char *const prefixes[] = { "cannot be started: ", "exited with status ",
                                                "printed unusable credentials: " };
        static const char *const commands[] = { "/nonexistent/acm-agent-test-helper", "sh -c 'exit 3'",
                                                "echo '{\"Version\": 1}'" };
        char dir[] = "/tmp/test-aws-oom.XXXXXX", path[600], buf[600];

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/config", dir);
        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        unsetenv("AWS_SESSION_TOKEN");
        unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        setenv("AWS_REGION", "us-east-1", 1);
        setenv("AWS_CONFIG_FILE", path, 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
        setenv("AWS_PROFILE", "p", 1);
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                sd_event *e = NULL;
                aws_client *c = NULL;
                result r = {};

                snprintf(buf, sizeof buf, "[profile p]\ncredential_process = %s\n", commands[i]);
                assert_int_equal(write_file_atomic(path, buf, strlen(buf), 0600, (uid_t) -1, (gid_t) -1), 0);
                fail_prefix = prefixes[i];
                n_failed = 0;
                assert_int_equal(sd_event_new(&e), 0);
                assert_int_equal(aws_client_new(e, NULL, &c), 0);
                assert_int_equal(aws_client_resolve_credentials(c, on_creds, &r, NULL), 0);
                time_t deadline = time(NULL) + 30;
                while (!r.done) {
                        assert_true(time(NULL) < deadline);
                        assert_true(sd_event_run(e, 1000 * USEC_PER_MSEC) >= 0);
                }
                fail_prefix = NULL;
                print_message("%s: failed=%d type=%s\n", commands[i], r.failed, r.type ? r.type : "-");
                assert_int_equal(n_failed, 1);
                assert_true(r.failed);
                assert_false(r.have_key);
                free(r.type);
                aws_client_unref(c);
                sd_event_unref(e);
        }
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_process_message_oom),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
