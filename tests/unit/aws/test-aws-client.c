/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS client end to end against tests/integration/aws-stub.py, which
 * verifies every signature with botocore and scripts throttling, 5xx,
 * connection resets and access denial. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "aws/aws.h"
#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/util.h"

static pid_t stub_pid, imds_pid;
static char stub_url[256];
static char tmpdir[] = "/tmp/test-aws-client.XXXXXX";

typedef struct result {
        bool done;
        aws_error *err;
        json_t *resp;
} result;

static void on_done(const aws_error *err, json_t *resp, void *userdata) {
        result *r = userdata;
        assert_false(r->done);
        r->done = true;
        r->err = err ? aws_error_copy(err) : NULL;
        r->resp = resp ? json_incref(resp) : NULL;
        if (err) {
                char *s = aws_error_format(err);
                print_message("error: %s\n", s);
                free(s);
        }
}

static void result_done(result *r) {
        aws_error_free(r->err);
        json_decref(r->resp);
        *r = (result) {};
}

static void run_until(sd_event *e, result *r, unsigned n) {
        time_t deadline = time(NULL) + 90;
        for (;;) {
                unsigned done = 0;
                for (unsigned i = 0; i < n; i++)
                        done += r[i].done;
                if (done == n)
                        return;
                assert_true(time(NULL) < deadline);
                assert_true(sd_event_run(e, 1000 * USEC_PER_MSEC) >= 0);
        }
}

static int setup(void **state) {
        const char *py = getenv("PYTHON3");
        char ready[512], script[512];
        assert_non_null(mkdtemp(tmpdir));
        snprintf(ready, sizeof ready, "%s/ready.json", tmpdir);
        snprintf(script, sizeof script, "%s/tests/integration/aws-stub.py", ABS_TOP_SRCDIR);
        stub_pid = fork();
        assert_true(stub_pid >= 0);
        if (stub_pid == 0) {
                execl(py ? py : "/usr/bin/python3", "python3", script, ready, "AKIDSTUB", "stub/secret+key", NULL);
                _exit(127);
        }
        for (int i = 0; i < 600; i++) {
                json_t *j = json_load_file(ready, 0, NULL);
                if (j) {
                        snprintf(stub_url, sizeof stub_url, "%s", json_string_value(json_object_get(j, "url")));
                        json_decref(j);
                        break;
                }
                struct timespec ts = { 0, 100 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        assert_true(stub_url[0]);
        setenv("AWS_ENDPOINT_URL", stub_url, 1);
        setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "stub/secret+key", 1);
        setenv("AWS_REGION", "us-east-1", 1);
        setenv("HOME", tmpdir, 1);
        unsetenv("AWS_SESSION_TOKEN");
        unsetenv("AWS_PROFILE");
        unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        return 0;
}

static int teardown(void **state) {
        char cmd[600];
        if (stub_pid > 0) {
                kill(stub_pid, SIGTERM);
                waitpid(stub_pid, NULL, 0);
        }
        if (imds_pid > 0) {
                kill(imds_pid, SIGTERM);
                waitpid(imds_pid, NULL, 0);
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                return -1;
        return 0;
}

static void test_calls(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = {};
        result r[7] = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_string_equal(aws_client_region(c), "us-east-1");
        assert_string_equal(aws_client_endpoint(c, AWS_SERVICE_ACM_PCA), stub_url);

        json_t *req = json_pack("{s:s}", "CertificateArn", "arn:aws:acm:us-east-1:111122223333:certificate/x");
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_done, &r[0], NULL), 0);
        json_t *issue = json_pack("{s:s, s:s}", "Csr", "LS0t", "IdempotencyToken", "tok-1");
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM_PCA, "IssueCertificate", issue, 0, on_done, &r[1], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM_PCA, "GetCertificate", req, 0, on_done, &r[2], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "ListCertificates", NULL, 0, on_done, &r[3], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "RequestCertificate", req, 0, on_done, &r[4], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_STS, "GetCallerIdentity", NULL, 0, on_done, &r[5], NULL), 0);
        /* Callbacks never run from inside aws_call(). */
        for (int i = 0; i < 6; i++)
                assert_false(r[i].done);
        /* A cancelled request never calls back. */
        aws_request *cancel = NULL;
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", req, 0, on_done, &r[6], &cancel), 0);
        aws_request_cancel(cancel);
        run_until(e, r, 6);
        assert_false(r[6].done);

        /* Plain success, signature verified by botocore in the stub. */
        assert_null(r[0].err);
        assert_string_equal(json_string_value(json_object_get(r[0].resp, "Target")),
                            "CertificateManager.DescribeCertificate");
        assert_true(json_equal(json_object_get(r[0].resp, "Echo"), req));
        /* Throttled twice, then issued (it carries an idempotency token). */
        assert_null(r[1].err);
        assert_int_equal(json_integer_value(json_object_get(r[1].resp, "Count")), 3);
        assert_int_equal(aws_client_throttle_count(c), 2);
        /* 500, then a connection reset, then success. */
        assert_null(r[2].err);
        assert_int_equal(json_integer_value(json_object_get(r[2].resp, "Count")), 3);
        /* Access denied: not retried, type without namespace, message kept. */
        assert_non_null(r[3].err);
        assert_int_equal(r[3].err->kind, AWS_ERROR_AUTH);
        assert_string_equal(r[3].err->type, "AccessDeniedException");
        assert_non_null(strstr(r[3].err->message, "not authorized"));
        assert_non_null(r[3].err->request_id);
        assert_int_equal(r[3].err->attempts, 1);
        assert_int_equal(r[3].err->http_status, 400);
        /* RequestCertificate without a token is not retried after a 500. */
        assert_non_null(r[4].err);
        assert_int_equal(r[4].err->kind, AWS_ERROR_SERVER);
        assert_int_equal(r[4].err->attempts, 1);
        /* STS query protocol, XML answer as JSON. */
        assert_null(r[5].err);
        assert_string_equal(json_string_value(json_object_get(r[5].resp, "Arn")), "arn:aws:iam::111122223333:user/test");

        bool found = false;
        for (size_t i = 0; i < aws_client_n_stats(c); i++) {
                const aws_op_stats *s = aws_client_stats(c, i);
                if (streq(s->operation, "IssueCertificate")) {
                        assert_int_equal(s->http_requests, 3);
                        assert_int_equal(s->retries, 2);
                        assert_int_equal(s->throttled, 2);
                        assert_int_equal(s->calls, 1);
                        assert_true(s->rate < 25);
                        found = true;
                }
        }
        assert_true(found);
        assert_int_equal(aws_client_pending(c), 0);

        for (int i = 0; i < 7; i++)
                result_done(&r[i]);
        json_decref(req);
        json_decref(issue);
        aws_client_unref(c);
        sd_event_unref(e);
}

static void test_wrong_secret(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = {};
        result r = {};

        setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, AWS_ERROR_AUTH);
        assert_string_equal(r.err->type, "InvalidSignatureException");
        assert_int_equal(r.err->attempts, 1);
        char *line = aws_error_format(r.err);
        assert_non_null(strstr(line, "InvalidSignatureException on acm:DescribeCertificate"));
        assert_null(strstr(line, "not-the-secret"));
        free(line);
        result_done(&r);
        setenv("AWS_SECRET_ACCESS_KEY", "stub/secret+key", 1);
        aws_client_unref(c);
        sd_event_unref(e);
}

static void test_no_credentials(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = {};
        result r = {};

        /* Half an environment pair is an error that says so. */
        unsetenv("AWS_ACCESS_KEY_ID");
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, AWS_ERROR_CREDENTIALS);
        assert_string_equal(r.err->type, "IncompleteEnvironment");
        result_done(&r);
        aws_client_unref(c);

        /* Nothing at all. */
        unsetenv("AWS_SECRET_ACCESS_KEY");
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, AWS_ERROR_CREDENTIALS);
        assert_string_equal(r.err->type, "NoCredentials");
        result_done(&r);
        aws_client_unref(c);

        /* A profile in the shared credentials file. */
        char path[600], buf[300];
        snprintf(path, sizeof path, "%s/credentials", tmpdir);
        snprintf(buf, sizeof buf, "[ops]\naws_access_key_id = AKIDSTUB\naws_secret_access_key = stub/secret+key\n");
        assert_int_equal(write_file_atomic(path, buf, strlen(buf), 0600, (uid_t) -1, (gid_t) -1), 0);
        setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
        cfg.profile = (char *) "ops";
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_STS, "GetCallerIdentity", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_null(r.err);
        result_done(&r);
        aws_client_unref(c);
        unsetenv("AWS_SHARED_CREDENTIALS_FILE");
        setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "stub/secret+key", 1);
        sd_event_unref(e);
}

static void test_connection_refused(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_endpoint ep = { (char *) "acm", (char *) "http://127.0.0.1:1" };
        conf_aws cfg = { .endpoints = &ep, .n_endpoints = 1, .max_attempts = 3 };
        result r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_string_equal(aws_client_endpoint(c, AWS_SERVICE_ACM), "http://127.0.0.1:1");
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, AWS_ERROR_NETWORK);
        assert_string_equal(r.err->type, "ConnectionError");
        assert_int_equal(r.err->attempts, 3);
        assert_int_equal(r.err->http_status, 0);
        result_done(&r);
        aws_client_unref(c);
        sd_event_unref(e);
}

/* A minimal IMDSv2 (token, then placement/region) on 127.0.0.1. */
static const char imds_py[] =
        "import http.server, json, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def answer(self, code, body):\n"
        "        self.send_response(code)\n"
        "        self.send_header('Content-Length', str(len(body)))\n"
        "        self.end_headers()\n"
        "        self.wfile.write(body.encode())\n"
        "    def do_PUT(self):\n"
        "        self.answer(200, 'tok' if self.path == '/latest/api/token' else '')\n"
        "    def do_GET(self):\n"
        "        ok = self.headers.get('X-aws-ec2-metadata-token') == 'tok'\n"
        "        ok = ok and self.path == '/latest/meta-data/placement/region'\n"
        "        self.answer(200 if ok else 404, 'eu-west-3' if ok else '')\n"
        "    def log_message(self, *a):\n"
        "        pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "open(sys.argv[1] + '.tmp', 'w').write(str(s.server_address[1]))\n"
        "import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
        "s.serve_forever()\n";

/* One IMDS failure must not break a long-lived client: calls fail fast with
 * NoRegion for a while, then the region is asked again. */
static void test_region_retry(void **state) {
        const char *py = getenv("PYTHON3");
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_endpoint ep = { (char *) "acm", (char *) "http://127.0.0.1:1" };
        conf_aws cfg = { .endpoints = &ep, .n_endpoints = 1, .max_attempts = 1 };
        result r = {};
        char portfile[600], url[64];

        snprintf(portfile, sizeof portfile, "%s/imds-port", tmpdir);
        pid_t pid = imds_pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl(py ? py : "/usr/bin/python3", "python3", "-c", imds_py, portfile, NULL);
                _exit(127);
        }
        _cleanup_(freep) char *port = NULL;
        for (int i = 0; i < 600 && read_full_file(portfile, 64, &port, NULL) < 0; i++) {
                struct timespec ts = { 0, 100 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        assert_non_null(port);
        snprintf(url, sizeof url, "http://127.0.0.1:%s", port);

        unsetenv("AWS_REGION");
        unsetenv("AWS_DEFAULT_REGION");
        unsetenv("AWS_EC2_METADATA_DISABLED");
        /* First IMDS is unreachable. */
        setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_null(aws_client_region(c));
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_string_equal(r.err->type, "NoRegion");
        result_done(&r);

        /* IMDS is back, but within the retry time calls still fail fast. */
        setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_string_equal(r.err->type, "NoRegion");
        assert_null(aws_client_region(c));
        result_done(&r);

        /* After it, the region is asked again and found: the call goes on to
         * the (refused) ACM endpoint. */
        clock_set_offset(31);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        clock_set_offset(0);
        assert_non_null(aws_client_region(c));
        assert_string_equal(aws_client_region(c), "eu-west-3");
        assert_non_null(r.err);
        assert_string_equal(r.err->type, "ConnectionError");
        result_done(&r);
        aws_client_unref(c);
        sd_event_unref(e);

        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        imds_pid = 0;
        unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        setenv("AWS_REGION", "us-east-1", 1);
}

/* No byte of s is a control character (the escaping worked). */
static void assert_no_controls(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                assert_true(*p >= 0x20 && *p != 0x7f);
}

static const aws_op_stats *stats_of(aws_client *c, const char *operation) {
        for (size_t i = 0; i < aws_client_n_stats(c); i++)
                if (streq(aws_client_stats(c, i)->operation, operation))
                        return aws_client_stats(c, i);
        return NULL;
}

/* A server that sends its headers, then a byte a second: each attempt is cut
 * at aws.request_timeout, and the call ends within 2 x request_timeout with
 * a Timeout, whatever max_attempts allows (5 here: before, 5 x 60 s). */
static void test_slow_server(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = { .request_timeout = 1, .connect_timeout = 1, .max_attempts = 5 };
        result r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "GetCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_int_equal(r.err->kind, AWS_ERROR_NETWORK);
        assert_string_equal(r.err->type, "Timeout");
        assert_int_equal(r.err->http_status, 0);
        /* The first attempt takes the 1 s of request_timeout; the second is
         * cut at the call's limit (2 s); no third is started. */
        assert_int_equal(r.err->attempts, 2);
        assert_non_null(strstr(r.err->message, "the call's limit of 2 s (2 x aws.request_timeout) is used up"));
        const aws_op_stats *st = stats_of(c, "GetCertificate");
        assert_non_null(st);
        assert_int_equal(st->http_requests, 2);
        assert_int_equal(st->errors, 1);
        result_done(&r);
        aws_client_unref(c);
        sd_event_unref(e);
}

/* A retry that would have to wait for the rate limiter past the call's
 * limit is not made: the call ends with the last error at once, saying why. */
static void test_time_limit_rate_wait(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_rate_limit rl = { (char *) "acm:ListTagsForResource", 0.1 };
        conf_aws cfg = { .request_timeout = 1, .max_attempts = 5, .rate_limits = &rl, .n_rate_limits = 1 };
        result r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "ListTagsForResource", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        /* Throttled once; the bucket (0.05/s after the throttle) would make
         * the retry wait 20 s, beyond the call's 2 s. */
        assert_string_equal(r.err->type, "ThrottlingException");
        assert_int_equal(r.err->kind, AWS_ERROR_THROTTLED);
        assert_int_equal(r.err->attempts, 1);
        assert_int_equal(r.err->http_status, 400);
        assert_string_equal(r.err->message, "Rate exceeded; no time left for another attempt within the call's "
                                            "limit of 2 s (2 x aws.request_timeout)");
        assert_non_null(r.err->request_id);
        result_done(&r);
        aws_client_unref(c);
        sd_event_unref(e);
}

/* HTTP 200 with a broken body or an error document, and a throttling answer
 * with reasons: precise messages, control characters escaped. */
static void test_unusable_answers(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = { .max_attempts = 2 };
        result r[4] = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "GetAccountConfiguration", NULL, AWS_CALL_NO_RETRY, on_done,
                                  &r[3], NULL),
                         0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "ExportCertificate", NULL, 0, on_done, &r[0], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "ListTagsForCertificate", NULL, 0, on_done, &r[1], NULL), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "SearchCertificates", NULL, AWS_CALL_NO_RETRY, on_done, &r[2],
                                  NULL),
                         0);
        run_until(e, r, 4);

        /* Truncated JSON: the status, line and column, size and the start
         * of the body, escaped; retried like a lost answer. */
        assert_non_null(r[0].err);
        assert_string_equal(r[0].err->type, "MalformedResponse");
        assert_int_equal(r[0].err->kind, AWS_ERROR_NETWORK);
        assert_int_equal(r[0].err->http_status, 200);
        assert_int_equal(r[0].err->attempts, 2);
        assert_non_null(strstr(r[0].err->message, "HTTP 200 answer is not valid JSON (line 1, column "));
        assert_non_null(strstr(r[0].err->message, "; 39 bytes: {\"__type\": \"Internal\\x1b[31m\\nFAKE LOG LINE"));
        assert_no_controls(r[0].err->message);
        /* An error document with HTTP 200: that error, flagged as such. */
        assert_non_null(r[1].err);
        assert_string_equal(r[1].err->type, "InternalFailure");
        assert_int_equal(r[1].err->kind, AWS_ERROR_SERVER);
        assert_int_equal(r[1].err->http_status, 200);
        assert_int_equal(r[1].err->attempts, 2);
        assert_string_equal(r[1].err->message,
                            "the HTTP 200 answer carries an error: oops\\r\\n[ERROR] forged line \\x1b[2J");
        char *line = aws_error_format(r[1].err);
        assert_non_null(line);
        assert_no_controls(line);
        assert_non_null(strstr(line, "InternalFailure on acm:ListTagsForCertificate"));
        assert_non_null(strstr(line, "(HTTP 200, request id req-"));
        free(line);
        /* The 2026 ThrottlingException: its reasons are in the message. */
        assert_non_null(r[2].err);
        assert_string_equal(r[2].err->type, "ThrottlingException");
        assert_int_equal(r[2].err->kind, AWS_ERROR_THROTTLED);
        assert_int_equal(r[2].err->attempts, 1);
        assert_string_equal(r[2].err->message,
                            "Rate exceeded (throttling reasons: ACCOUNT_RATE on SearchCertificates; REGION\\nLIMIT)");

        /* An answer beyond the bound (4 MiB) is refused, not buffered. */
        assert_non_null(r[3].err);
        assert_string_equal(r[3].err->type, "MalformedResponse");
        assert_int_equal(r[3].err->kind, AWS_ERROR_NETWORK);
        assert_int_equal(r[3].err->attempts, 1);
        assert_int_equal(r[3].err->http_status, 200);
        assert_non_null(strstr(r[3].err->message, "the HTTP 200 answer is larger than 4 MiB"));

        for (int i = 0; i < 4; i++)
                result_done(&r[i]);
        aws_client_unref(c);
        sd_event_unref(e);
}

/* Route 53's quota is per account: all its operations draw from one bucket,
 * so a throttled GetChange slows ListResourceRecordSets too, and a
 * rate_limits entry for one Route 53 operation sets the rate of all. */
static void test_route53_shared_bucket(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = { .max_attempts = 3 };
        result r = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call_rest(c, AWS_SERVICE_ROUTE53, "GetChange", "GET", "/2013-04-01/change/C1", NULL,
                                       NULL, 0, on_done, &r, NULL),
                         0);
        run_until(e, &r, 1);
        assert_null(r.err);
        assert_string_equal(json_string_value(json_object_get(json_object_get(r.resp, "ChangeInfo"), "Status")),
                            "INSYNC");
        result_done(&r);
        assert_int_equal(aws_client_throttle_count(c), 1);
        assert_int_equal(aws_call_rest(c, AWS_SERVICE_ROUTE53, "ListResourceRecordSets", "GET",
                                       "/2013-04-01/hostedzone/Z1/rrset", "maxitems=100", NULL, 0, on_done, &r, NULL),
                         0);
        run_until(e, &r, 1);
        assert_null(r.err);
        result_done(&r);
        const aws_op_stats *gc = stats_of(c, "GetChange"), *lr = stats_of(c, "ListResourceRecordSets");
        assert_non_null(gc);
        assert_non_null(lr);
        assert_int_equal(gc->throttled, 1);
        assert_int_equal(lr->throttled, 0);
        /* 10/s halved by the throttle, then two successes (+0.5 each): one
         * bucket, so both operations show the same rate. */
        assert_true(gc->rate == 6);
        assert_true(lr->rate == 6);
        aws_client_unref(c);

        conf_rate_limit rl = { (char *) "route53:GetChange", 2 };
        conf_aws cfg2 = { .max_attempts = 3, .rate_limits = &rl, .n_rate_limits = 1 };
        assert_int_equal(aws_client_new(e, &cfg2, &c), 0);
        assert_int_equal(aws_call_rest(c, AWS_SERVICE_ROUTE53, "ListResourceRecordSets", "GET",
                                       "/2013-04-01/hostedzone/Z1/rrset", NULL, NULL, 0, on_done, &r, NULL),
                         0);
        run_until(e, &r, 1);
        assert_null(r.err);
        result_done(&r);
        assert_true(stats_of(c, "ListResourceRecordSets")->rate == 2);
        aws_client_unref(c);
        sd_event_unref(e);
}

/* A credential helper's stderr line (a terminal escape, a carriage return)
 * reaches the error message escaped. */
static void test_process_stderr_escaped(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;
        conf_aws cfg = {};
        result r = {};
        char path[600], buf[300];

        snprintf(path, sizeof path, "%s/config-proc", tmpdir);
        snprintf(buf, sizeof buf,
                 "[profile esc]\ncredential_process = sh -c \"printf '\\033[2J\\rforged line' >&2; exit 4\"\n");
        assert_int_equal(write_file_atomic(path, buf, strlen(buf), 0600, (uid_t) -1, (gid_t) -1), 0);
        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        setenv("AWS_CONFIG_FILE", path, 1);
        setenv("AWS_PROFILE", "esc", 1);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_client_new(e, &cfg, &c), 0);
        assert_int_equal(aws_call(c, AWS_SERVICE_ACM, "DescribeCertificate", NULL, 0, on_done, &r, NULL), 0);
        run_until(e, &r, 1);
        assert_non_null(r.err);
        assert_string_equal(r.err->type, "CredentialProcessFailed");
        assert_non_null(strstr(r.err->message, "exited with status 4: \\x1b[2J\\rforged line"));
        assert_no_controls(r.err->message);
        result_done(&r);
        aws_client_unref(c);
        sd_event_unref(e);
        unsetenv("AWS_CONFIG_FILE");
        unsetenv("AWS_PROFILE");
        setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
        setenv("AWS_SECRET_ACCESS_KEY", "stub/secret+key", 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_calls),
                cmocka_unit_test(test_wrong_secret),
                cmocka_unit_test(test_no_credentials),
                cmocka_unit_test(test_connection_refused),
                cmocka_unit_test(test_region_retry),
                cmocka_unit_test(test_slow_server),
                cmocka_unit_test(test_time_limit_rate_wait),
                cmocka_unit_test(test_unusable_answers),
                cmocka_unit_test(test_route53_shared_bucket),
                cmocka_unit_test(test_process_stderr_escaped),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
