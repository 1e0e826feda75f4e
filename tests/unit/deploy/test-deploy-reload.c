/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy-reload.h"
#include "basic/util.h"

/* Fake targets: commands that append a word to a log file. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

typedef struct ctx {
        unsigned n_rollback;
        unsigned n_ok, n_failed, n_rolled_back;
        char last_reason[512];
        char rollback_versions[20][32];
        bool done;
        unsigned pass_failed;
} ctx;

static int cb_rollback(const conf_cert *cert _unused_, const char *previous_version, void *userdata) {
        ctx *c = userdata;
        if (c->n_rollback < 20)
                snprintf(c->rollback_versions[c->n_rollback], 32, "%s", previous_version);
        c->n_rollback++;
        return 0;
}

static void cb_cert_done(const conf_cert *cert _unused_, int r, const char *reason, bool rolled_back, void *userdata) {
        ctx *c = userdata;
        if (r >= 0)
                c->n_ok++;
        else {
                c->n_failed++;
                assert_non_null(reason);
                snprintf(c->last_reason, sizeof c->last_reason, "%s", reason);
        }
        if (rolled_back)
                c->n_rolled_back++;
}

static void cb_pass_done(reload_pass *pass _unused_, unsigned n_failed, void *userdata) {
        ctx *c = userdata;
        c->done = true;
        c->pass_failed = n_failed;
}

static char logpath[64];

static char *log_read(void) {
        char *data = NULL;
        size_t len;
        if (read_full_file(logpath, 1 << 20, &data, &len) < 0)
                return strdup("");
        return data;
}

static int setup(void **state _unused_) {
        snprintf(logpath, sizeof logpath, "/tmp/test-reload-XXXXXX");
        int fd = mkstemp(logpath);
        assert_true(fd >= 0);
        close(fd);
        return 0;
}

static int teardown(void **state _unused_) {
        unlink(logpath);
        return 0;
}

static void run_pass(reload_pass *pass, sd_event *e, ctx *c) {
        reload_callbacks cb = { .rollback = cb_rollback, .cert_done = cb_cert_done, .pass_done = cb_pass_done,
                                .userdata = c };
        assert_int_equal(reload_pass_run(pass, &cb), 0);
        assert_int_equal(reload_pass_run(pass, &cb), -EBUSY);
        while (!c->done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
}

#define SH(word, code) { "/bin/sh", "-c", "echo " word " >> \"$0\"; exit " code, logpath, NULL }

static void test_dedup_20_certs(void **state _unused_) {
        char *test[] = SH("test", "0");
        char *rl[] = SH("reload", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test, .reload_command = rl,
                              .timeout = 30 };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert certs[20];
        char names[20][16];
        sd_event *e = NULL;
        ctx c = {};

        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        for (int i = 0; i < 20; i++) {
                snprintf(names[i], sizeof names[i], "cert%d", i);
                certs[i] = (conf_cert) { .name = names[i], .reload = targets };
                assert_int_equal(reload_pass_add(pass, &certs[i], "v1"), 0);
        }
        assert_int_equal(reload_pass_add(pass, &certs[0], "v1"), -EEXIST);
        assert_int_equal(reload_pass_n_targets(pass), 1);
        run_pass(pass, e, &c);
        char *log = log_read();
        assert_string_equal(log, "test\nreload\n");
        free(log);
        assert_int_equal(c.n_ok, 20);
        assert_int_equal(c.n_failed, 0);
        assert_int_equal(c.n_rollback, 0);
        reload_pass_free(pass);
        sd_event_unref(e);
}

static void test_config_test_fails(void **state _unused_) {
        char *test[] = SH("test", "1");
        char *rl[] = SH("reload", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test, .reload_command = rl };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert certs[3] = { { .name = "a", .reload = targets }, { .name = "b", .reload = targets },
                               { .name = "c", .reload = targets } };
        sd_event *e = NULL;
        ctx c = {};

        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &certs[0], "v7"), 0);
        assert_int_equal(reload_pass_add(pass, &certs[1], "v7"), 0);
        assert_int_equal(reload_pass_add(pass, &certs[2], NULL), 0); /* first deploy: nothing to roll back */
        run_pass(pass, e, &c);
        char *log = log_read();
        assert_string_equal(log, "test\n"); /* no reload, no re-apply */
        free(log);
        assert_int_equal(c.n_rollback, 2);
        assert_string_equal(c.rollback_versions[0], "v7");
        assert_int_equal(c.n_failed, 3);
        assert_int_equal(c.n_rolled_back, 2);
        assert_int_equal(c.pass_failed, 3);
        assert_non_null(strstr(c.last_reason, "configuration test exit status 1"));
        reload_pass_free(pass);
        sd_event_unref(e);
}

static void test_reload_fails_reapply(void **state _unused_) {
        /* cert a: behind ok and bad; cert b: behind ok only. bad fails its
         * reload: a is rolled back, bad and ok are reloaded once more. */
        char *ok_cmd[] = SH("ok", "0");
        char *bad_cmd[] = SH("bad", "2");
        conf_reload ok = { .kind = CONF_RELOAD_COMMAND, .id = "command:ok", .command = ok_cmd };
        conf_reload bad = { .kind = CONF_RELOAD_COMMAND, .id = "command:bad", .command = bad_cmd };
        conf_reload *ta[] = { &ok, &bad, NULL };
        conf_reload *tb[] = { &ok, NULL };
        conf_cert a = { .name = "a", .reload = ta }, b = { .name = "b", .reload = tb };
        sd_event *e = NULL;
        ctx c = {};

        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &a, "v1"), 0);
        assert_int_equal(reload_pass_add(pass, &b, "v1"), 0);
        assert_int_equal(reload_pass_n_targets(pass), 2);
        run_pass(pass, e, &c);
        char *log = log_read();
        assert_string_equal(log, "ok\nbad\nok\nbad\n");
        free(log);
        assert_int_equal(c.n_rollback, 1);
        assert_int_equal(c.n_ok, 1);
        assert_int_equal(c.n_failed, 1);
        assert_non_null(strstr(c.last_reason, "reload command:bad: reload exit status 2"));
        reload_pass_free(pass);
        sd_event_unref(e);
}

static void test_empty_pass(void **state _unused_) {
        sd_event *e = NULL;
        ctx c = {};
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_n_targets(pass), 0);
        run_pass(pass, e, &c);
        assert_int_equal(c.pass_failed, 0);
        reload_pass_free(pass);
        sd_event_unref(e);
}

static void test_debounce(void **state _unused_) {
        char *rl[] = SH("reload", "0");
        conf_reload cmd = { .kind = CONF_RELOAD_COMMAND, .id = "command:x", .command = rl };
        conf_reload *targets[] = { &cmd, NULL };
        conf_cert certs[5] = { { .name = "a", .reload = targets }, { .name = "b", .reload = targets },
                               { .name = "c", .reload = targets }, { .name = "d", .reload = targets },
                               { .name = "e", .reload = targets } };
        reload_callbacks cb = { .rollback = cb_rollback, .cert_done = cb_cert_done, .pass_done = cb_pass_done };
        sd_event *e = NULL;
        ctx c = {};

        cb.userdata = &c;
        assert_int_equal(sd_event_new(&e), 0);
        reload_debounce *d = reload_debounce_new(e, 200 * USEC_PER_MSEC, &cb);
        assert_non_null(d);
        for (int i = 0; i < 5; i++)
                assert_int_equal(reload_debounce_add(d, &certs[i], "v1"), 0);
        assert_int_equal(reload_debounce_add(d, &certs[0], "v2"), 0);
        while (!c.done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        char *log = log_read();
        assert_string_equal(log, "reload\n");
        free(log);
        assert_int_equal(c.n_ok, 5);
        reload_debounce_free(d);
        sd_event_unref(e);
}

/* Which unit a master runs in decides between systemctl and a signal. */
static void test_cgroup_has_unit(void **state _unused_) {
        char path[] = "/tmp/test-reload-cgroup-XXXXXX";
        int fd = mkstemp(path);
        const char *v2 = "0::/system.slice/nginx.service\n";
        const char *v1 = "12:pids:/user.slice/user-0.slice/session-3.scope\n"
                         "1:name=systemd:/system.slice/haproxy.service/worker\n";

        assert_true(fd >= 0);
        assert_int_equal(write(fd, v2, strlen(v2)), (ssize_t) strlen(v2));
        close(fd);
        assert_int_equal(reload_cgroup_has_unit(path, "nginx"), 1);
        assert_int_equal(reload_cgroup_has_unit(path, "nginx.service"), 1);
        assert_int_equal(reload_cgroup_has_unit(path, "nginx-debug"), 0);
        assert_int_equal(reload_cgroup_has_unit(path, "ginx.service"), 0);
        assert_int_equal(reload_cgroup_has_unit(path, "haproxy"), 0);

        assert_int_equal(write_file_atomic(path, v1, strlen(v1), 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(reload_cgroup_has_unit(path, "haproxy.service"), 1);
        assert_int_equal(reload_cgroup_has_unit(path, "nginx"), 0);
        /* started by hand in a login session: not in the unit */
        assert_int_equal(reload_cgroup_has_unit(path, "session-3.scope"), 1);
        unlink(path);
        assert_int_equal(reload_cgroup_has_unit(path, "nginx"), -ENOENT);
}

int main(void) {
        sigset_t ss;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgroup_has_unit),
                cmocka_unit_test_setup_teardown(test_dedup_20_certs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_test_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_fails_reapply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(test_debounce, setup, teardown),
        };
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
