/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "deploy/deploy-hook.h"
#include "basic/log.h"
#include "basic/util.h"

/* argv tables below are string literals; exec never writes to them. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

typedef struct run_state {
        bool done;
        hook_result result;
} run_state;

static void on_done(hook_process *p _unused_, const hook_result *r, void *userdata) {
        run_state *s = userdata;
        s->done = true;
        s->result = *r;
}

/* Runs argv on a fresh loop until it completes; returns the result. */
static hook_result run(char *const argv[], char *const env[], uint64_t timeout_usec) {
        sd_event *e = NULL;
        hook_process *p = NULL;
        run_state s = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(hook_run(e, argv, env, timeout_usec, "test-cert", on_done, &s, &p), 0);
        assert_non_null(p);
        assert_true(hook_process_pid(p) > 0);
        while (!s.done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        hook_process_unref(p);
        sd_event_unref(e);
        return s.result;
}

static char *tmpfile_path(void) {
        char tmpl[] = "/tmp/test-hook-XXXXXX";
        int fd = mkstemp(tmpl);
        assert_true(fd >= 0);
        close(fd);
        return strdup(tmpl);
}

static void test_exit_codes(void **state _unused_) {
        char *ok[] = { "true", NULL };
        char *three[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
        hook_result r;
        char buf[128];

        r = run(ok, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 0);
        r = run(three, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 3);
        assert_string_equal(hook_result_describe(&r, buf, sizeof buf), "exit status 3");
}

static void test_exec_failure(void **state _unused_) {
        char *missing[] = { "/nonexistent/hook", NULL };
        char *missing_path[] = { "no-such-hook-anywhere", NULL };
        hook_result r;

        r = run(missing, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXEC_FAILED);
        assert_int_equal(r.status, ENOENT);
        r = run(missing_path, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXEC_FAILED);
        assert_int_equal(r.status, ENOENT);
}

static void test_signaled(void **state _unused_) {
        char *argv[] = { "/bin/sh", "-c", "kill -USR1 $$", NULL };
        hook_result r = run(argv, NULL, 0);
        assert_int_equal(r.outcome, HOOK_SIGNALED);
        assert_int_equal(r.status, SIGUSR1);
}

static void test_timeout_term(void **state _unused_) {
        char *argv[] = { "sleep", "100", NULL };
        hook_result r = run(argv, NULL, 300 * USEC_PER_MSEC);
        assert_int_equal(r.outcome, HOOK_TIMED_OUT);
        assert_int_equal(r.status, SIGTERM);
        assert_true(r.runtime_usec < 30 * USEC_PER_SEC);
}

static void test_timeout_kill(void **state _unused_) {
        /* Ignores SIGTERM: killed with SIGKILL after the grace period. */
        char *argv[] = { "/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL };
        hook_result r = run(argv, NULL, 300 * USEC_PER_MSEC);
        assert_int_equal(r.outcome, HOOK_TIMED_OUT);
        assert_int_equal(r.status, SIGKILL);
        assert_true(r.runtime_usec >= HOOK_KILL_GRACE_USEC);
}

static void test_clean_env(void **state _unused_) {
        char *out = tmpfile_path();
        char *argv[] = { "/bin/sh", "-c", "env > \"$1\"", "sh", out, NULL };
        char *env[] = { "ACM_AGENT_EVENT=deployed", NULL };
        char *data = NULL;
        size_t len;

        assert_int_equal(setenv("ACM_TEST_LEAK", "secret", 1), 0);
        hook_result r = run(argv, env, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 0);
        assert_int_equal(read_full_file(out, 1 << 20, &data, &len), 0);
        assert_non_null(strstr(data, "ACM_AGENT_EVENT=deployed\n"));
        assert_non_null(strstr(data, "PATH=" HOOK_PATH "\n"));
        assert_null(strstr(data, "ACM_TEST_LEAK"));
        free(data);
        unlink(out);
        free(out);
}

static void test_fds_and_signals(void **state _unused_) {
        char *out = tmpfile_path();
        /* The shell's own redirection would add fds: list them from ls. */
        char *argv[] = { "/bin/sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status > \"$1\"; "
                                          "ls /proc/self/fd >> \"$1\"", "sh", out, NULL };
        char *data = NULL;
        size_t len;
        sigset_t ss;

        /* A leaked fd and an agent-style mask and disposition. */
        int leak = open("/dev/null", O_RDONLY);
        assert_true(leak >= 0);
        assert_int_equal(dup2(leak, 42), 42);
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGHUP);
        assert_int_equal(sigprocmask(SIG_BLOCK, &ss, NULL), 0);
        signal(SIGPIPE, SIG_IGN);

        hook_result r = run(argv, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 0);
        assert_int_equal(read_full_file(out, 1 << 20, &data, &len), 0);
        assert_non_null(strstr(data, "SigBlk:\t0000000000000000\n"));
        if (!strstr(data, "SigIgn:\t0000000000000000\n")) print_message("%s", data);
        assert_non_null(strstr(data, "SigIgn:\t0000000000000000\n"));
        assert_null(strstr(data, "\n42\n"));
        /* 0, 1, 2 and ls's directory handle. */
        assert_non_null(strstr(data, "\n0\n1\n2\n3\n"));
        assert_null(strstr(data, "\n4\n"));

        assert_int_equal(sigprocmask(SIG_UNBLOCK, &ss, NULL), 0);
        signal(SIGPIPE, SIG_DFL);
        close(42);
        close(leak);
        free(data);
        unlink(out);
        free(out);
}

static long maxrss_kb(void) {
        struct rusage ru;
        assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
        return ru.ru_maxrss;
}

static void test_flood(void **state _unused_) {
        /* 10 MB in one line and 10 MB in short lines: streamed, not kept. */
        char *one_line[] = { "/bin/sh", "-c", "head -c 10485760 /dev/zero | tr '\\0' a", NULL };
        char *lines[] = { "/bin/sh", "-c", "yes 0123456789abcdef | head -c 10485760", NULL };
        long before, after;
        int level = log_get_max_level();
        hook_result r;

        log_set_max_level(LOG_WARNING); /* 600k info lines would only slow the test */
        before = maxrss_kb();
        r = run(one_line, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 0);
        r = run(lines, NULL, 0);
        assert_int_equal(r.outcome, HOOK_EXITED);
        assert_int_equal(r.status, 0);
        after = maxrss_kb();
        log_set_max_level(level);
        print_message("peak RSS before %ld kB, after 2x10 MB flood %ld kB\n", before, after);
        assert_true(after - before < 4096);
}

static void test_unref_kills(void **state _unused_) {
        char *argv[] = { "sleep", "100", NULL };
        sd_event *e = NULL;
        hook_process *p = NULL;
        run_state s = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(hook_run(e, argv, NULL, 0, NULL, on_done, &s, &p), 0);
        pid_t pid = hook_process_pid(p);
        assert_true(pid > 0);
        hook_process_unref(p);
        /* Killed and reaped: the pid is gone. */
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
        assert_false(s.done);
        sd_event_unref(e);
}

static void test_env_build(void **state _unused_) {
        conf_cert cert = { .name = (char *) "www", .output = { .dir = (char *) "/etc/acm-agent/certs/www" } };
        hook_cert_info info = { .serial = "0a1b", .error = "nginx -t failed" };
        char **env = NULL;

        assert_int_equal(hook_env_build(HOOK_EVENT_FAILED, &cert, &info, &env), 0);
        assert_string_equal(env[0], "ACM_AGENT_EVENT=failed");
        assert_string_equal(env[1], "ACM_AGENT_CERT_NAME=www");
        assert_string_equal(env[2], "ACM_AGENT_OUTPUT_DIR=/etc/acm-agent/certs/www");
        assert_string_equal(env[3], "ACM_AGENT_CERT=/etc/acm-agent/certs/www/cert.pem");
        assert_string_equal(env[7], "ACM_AGENT_HAPROXY_BUNDLE=/etc/acm-agent/certs/www/haproxy.pem");
        assert_string_equal(env[8], "ACM_AGENT_SERIAL=0a1b");
        assert_string_equal(env[9], "ACM_AGENT_ERROR=nginx -t failed");
        assert_null(env[10]);
        strv_free(env);
        assert_int_equal(hook_env_build(_HOOK_EVENT_MAX, &cert, &info, &env), -EINVAL);
}

int main(void) {
        sigset_t ss;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_codes),   cmocka_unit_test(test_exec_failure),
                cmocka_unit_test(test_signaled),     cmocka_unit_test(test_timeout_term),
                cmocka_unit_test(test_timeout_kill), cmocka_unit_test(test_clean_env),
                cmocka_unit_test(test_fds_and_signals), cmocka_unit_test(test_flood),
                cmocka_unit_test(test_unref_kills),  cmocka_unit_test(test_env_build),
        };

        /* As in the agent: SIGCHLD is handled by the loop. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
