/* SPDX-License-Identifier: Apache-2.0 */
/* The credential_process runner on a real sd-event loop: output and the
 * first stderr line, exit status, the bound on output, the timeout, an
 * unstartable program, the inherited environment, freeing a running one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws-proc.h"
#include "basic/macro.h"
#include "basic/util.h"

static uint64_t now_usec_monotonic_for_test(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

typedef struct got {
        bool done;
        int exec_errno, exit_status, signal;
        bool exited, timed_out, too_large;
        char out[256];
        size_t out_len;
        char err[600];
} got;

static void on_done(aws_proc *p, const aws_proc_result *res, void *userdata) {
        got *g = userdata;
        assert_false(g->done);
        g->done = true;
        g->exec_errno = res->exec_errno;
        g->exited = res->exited;
        g->exit_status = res->exit_status;
        g->signal = res->signal;
        g->timed_out = res->timed_out;
        g->too_large = res->too_large;
        g->out_len = res->out_len;
        snprintf(g->out, sizeof g->out, "%s", res->out);
        snprintf(g->err, sizeof g->err, "%s", res->err_line);
        aws_proc_free(p);
}

static void run(char *const argv[], uint64_t timeout_usec, size_t max_out, got *g) {
        sd_event *e = NULL;
        aws_proc *p = NULL;
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_proc_run(e, argv, timeout_usec, max_out, on_done, g, &p), 0);
        while (!g->done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        sd_event_unref(e);
}

static void test_output(void **state) {
        got g = {};
        char *argv[] = { (char *) "sh", (char *) "-c",
                         (char *) "printf 'out put'; printf '\\n  \\n  first line\\nsecond\\n' >&2; exit 4", NULL };
        setenv("ACM_TEST_INHERITED", "yes", 1);
        run(argv, 5 * USEC_PER_SEC, 1024, &g);
        assert_int_equal(g.exec_errno, 0);
        assert_true(g.exited);
        assert_int_equal(g.exit_status, 4);
        assert_string_equal(g.out, "out put");
        assert_string_equal(g.err, "first line");

        got h = {};
        char *argv2[] = { (char *) "sh", (char *) "-c", (char *) "printf %s \"$ACM_TEST_INHERITED\"", NULL };
        run(argv2, 0, 1024, &h);
        assert_true(h.exited);
        assert_int_equal(h.exit_status, 0);
        assert_string_equal(h.out, "yes");
}

static void test_limits(void **state) {
        got g = {};
        char *big[] = { (char *) "head", (char *) "-c", (char *) "100000", (char *) "/dev/zero", NULL };
        run(big, 5 * USEC_PER_SEC, 4096, &g);
        assert_true(g.too_large);
        assert_true(g.out_len <= 4096);

        got t = {};
        char *slow[] = { (char *) "sleep", (char *) "30", NULL };
        uint64_t start = now_usec_monotonic_for_test();
        run(slow, 200 * USEC_PER_MSEC, 1024, &t);
        assert_true(t.timed_out);
        assert_false(t.exited);
        assert_int_equal(t.signal, SIGKILL);
        assert_true(now_usec_monotonic_for_test() - start < 5 * USEC_PER_SEC);

        got x = {};
        char *missing[] = { (char *) "/nonexistent/acm-agent-test", NULL };
        run(missing, 0, 1024, &x);
        assert_int_equal(x.exec_errno, ENOENT);

        got y = {};
        char *nopath[] = { (char *) "acm-agent-no-such-program", NULL };
        run(nopath, 0, 1024, &y);
        assert_int_equal(y.exec_errno, ENOENT);
}

static void test_free_running(void **state) {
        sd_event *e = NULL;
        aws_proc *p = NULL;
        got g = {};
        char *slow[] = { (char *) "sleep", (char *) "30", NULL };
        char *empty[] = { NULL };
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(aws_proc_run(e, empty, 0, 1024, on_done, &g, &p), -EINVAL);
        assert_int_equal(aws_proc_run(e, slow, 0, 1024, on_done, &g, &p), 0);
        /* Freed while running: killed and reaped, no callback. */
        assert_null(aws_proc_free(p));
        assert_int_equal(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0, 1);
        assert_false(g.done);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_free_running),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
