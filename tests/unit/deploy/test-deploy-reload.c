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
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

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
        unsigned n_notes;
        char last_note[1024];
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

static void cb_note(const char *target, const char *message, void *userdata) {
        ctx *c = userdata;
        c->n_notes++;
        snprintf(c->last_note, sizeof c->last_note, "%s: %s", target, message);
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
        reload_callbacks cb = { .rollback = cb_rollback, .cert_done = cb_cert_done, .note = cb_note,
                                .pass_done = cb_pass_done, .userdata = c };
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

/* A pid file path in a fresh directory; content NULL: no file. */
static char piddir[64], pidfile[96];

static void pidfile_write(const char *content) {
        if (!piddir[0]) {
                snprintf(piddir, sizeof piddir, "/tmp/test-reload-pid-XXXXXX");
                assert_non_null(mkdtemp(piddir));
                snprintf(pidfile, sizeof pidfile, "%s/server.pid", piddir);
        }
        (void) unlink(pidfile);
        if (content)
                assert_int_equal(write_file_atomic(pidfile, content, strlen(content), 0644, (uid_t) -1, (gid_t) -1), 0);
}

static void pidfile_cleanup(void) {
        if (!piddir[0])
                return;
        (void) unlink(pidfile);
        (void) rmdir(piddir);
        piddir[0] = 0;
}

/* A child running `sleep 60`, which is not nginx. */
static pid_t spawn_sleep(void) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl("/bin/sleep", "sleep", "60", (char *) NULL);
                _exit(127);
        }
        /* until the exec happened, comm is still ours */
        for (int i = 0; i < 1000; i++) {
                char path[64], *comm = NULL;
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                if (read_full_file(path, 64, &comm, NULL) >= 0 && strneq(comm, "sleep", 5)) {
                        free(comm);
                        return pid;
                }
                free(comm);
                usleep(10000);
        }
        fail_msg("sleep did not start");
        return -1;
}

static void reap(pid_t pid, bool expect_alive) {
        int status;
        assert_int_equal(waitpid(pid, &status, WNOHANG), expect_alive ? 0 : pid);
        if (expect_alive) {
                kill(pid, SIGKILL);
                assert_int_equal(waitpid(pid, &status, 0), pid);
        }
}

static char *own_comm(void) {
        char *comm = NULL;
        assert_int_equal(read_full_file("/proc/self/comm", 64, &comm, NULL), 0);
        comm[strcspn(comm, "\n")] = 0;
        return comm;
}

/* Which pid file contents mean "not running", "running" or "cannot tell". */
static void test_server_running(void **state _unused_) {
        char why[512], buf[64];
        pid_t pid = 0;

        pidfile_write(NULL);
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), 0);
        assert_non_null(strstr(why, "no pid file "));
        assert_int_equal(pid, 0);

        pidfile_write("");
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), 0);
        assert_non_null(strstr(why, "is empty"));
        pidfile_write(" \n\t\n");
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), 0);
        assert_non_null(strstr(why, "is empty"));

        /* a dead process */
        pid_t dead = fork();
        assert_true(dead >= 0);
        if (dead == 0)
                _exit(0);
        assert_int_equal(waitpid(dead, NULL, 0), dead);
        snprintf(buf, sizeof buf, "%d\n", (int) dead);
        pidfile_write(buf);
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), 0);
        assert_non_null(strstr(why, "is not running"));
        assert_int_equal(pid, 0);

        /* the pid now belongs to another program */
        pid_t other = spawn_sleep();
        snprintf(buf, sizeof buf, "%d\n", (int) other);
        pidfile_write(buf);
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), 0);
        assert_non_null(strstr(why, "is sleep, not nginx"));
        reap(other, true);

        /* a live server: this process, named by its own command name */
        _cleanup_(freep) char *comm = own_comm();
        snprintf(buf, sizeof buf, "  %d \n", (int) getpid());
        pidfile_write(buf);
        assert_int_equal(reload_server_running(pidfile, comm, &pid, why, sizeof why), 1);
        assert_int_equal(pid, getpid());

        /* cannot tell: a failure, not "not running" */
        pidfile_write("nginx\x01\n");
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "holds \"nginx?\", not a process id"));
        pidfile_write("1\n");
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), -ERANGE);
        pidfile_write(NULL);
        assert_int_equal(write_file_atomic(pidfile, "123\0" "45\n", 7, 0644, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(reload_server_running(pidfile, "nginx", &pid, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "holds a NUL byte"));
        pidfile_cleanup();
        assert_true(mkdtemp(strcpy(buf, "/tmp/test-reload-dir-XXXXXX")) != NULL);
        assert_int_equal(reload_server_running(buf, "nginx", &pid, why, sizeof why), -EISDIR);
        assert_non_null(strstr(why, "cannot read pid file"));
        rmdir(buf);
        assert_int_equal(pid, getpid()); /* untouched by the failures */
}

/* nginx not running: the config test runs, no reload, success, one note. */
static void test_not_running_succeeds(void **state _unused_) {
        char *test[] = SH("test", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test, .timeout = 30 };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert certs[3] = { { .name = "a", .reload = targets }, { .name = "b", .reload = targets },
                               { .name = "c", .reload = targets } };
        const char *contents[] = { NULL, "", "\n" };
        const char *whys[] = { "no pid file ", "is empty", "is empty" };

        for (size_t k = 0; k < ELEMENTSOF(contents); k++) {
                sd_event *e = NULL;
                ctx c = {};
                pidfile_write(contents[k]);
                nginx.pid_file = pidfile;
                assert_int_equal(sd_event_new(&e), 0);
                reload_pass *pass = reload_pass_new(e);
                for (int i = 0; i < 3; i++)
                        assert_int_equal(reload_pass_add(pass, &certs[i], "v1"), 0);
                run_pass(pass, e, &c);
                char *log = log_read();
                assert_string_equal(log, "test\n");
                free(log);
                assert_int_equal(truncate(logpath, 0), 0);
                assert_int_equal(c.n_ok, 3);
                assert_int_equal(c.n_failed, 0);
                assert_int_equal(c.n_rollback, 0);
                assert_int_equal(c.n_notes, 1);
                assert_non_null(strstr(c.last_note, "nginx: nginx is not running ("));
                assert_non_null(strstr(c.last_note, whys[k]));
                assert_non_null(strstr(c.last_note, "): configuration test passed, nothing to reload"));
                reload_pass_free(pass);
                sd_event_unref(e);
        }
        pidfile_cleanup();
}

/* A stale pid file naming another program: that program gets no signal. */
static void test_not_running_other_program(void **state _unused_) {
        char *test[] = SH("test", "0");
        conf_reload haproxy = { .kind = CONF_RELOAD_HAPROXY, .id = "haproxy", .test_command = test };
        conf_reload *targets[] = { &haproxy, NULL };
        conf_cert cert = { .name = "a", .reload = targets };
        sd_event *e = NULL;
        ctx c = {};
        char buf[32];

        pid_t other = spawn_sleep();
        snprintf(buf, sizeof buf, "%d\n", (int) other);
        pidfile_write(buf);
        haproxy.pid_file = pidfile;
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &cert, "v1"), 0);
        run_pass(pass, e, &c);
        assert_int_equal(c.n_ok, 1);
        assert_int_equal(c.n_notes, 1);
        assert_non_null(strstr(c.last_note, "haproxy: haproxy is not running (pid "));
        assert_non_null(strstr(c.last_note, "is sleep, not haproxy"));
        reap(other, true); /* still alive: no SIGUSR2 reached it */
        reload_pass_free(pass);
        sd_event_unref(e);
        pidfile_cleanup();
}

/* Not running, but the configuration is broken: fail and roll back, as the
 * next start of the server would fail with the new files. */
static void test_not_running_test_fails(void **state _unused_) {
        char *test[] = SH("test", "1");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert cert = { .name = "a", .reload = targets };
        sd_event *e = NULL;
        ctx c = {};

        pidfile_write("");
        nginx.pid_file = pidfile;
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &cert, "v4"), 0);
        run_pass(pass, e, &c);
        assert_int_equal(c.n_failed, 1);
        assert_int_equal(c.n_rollback, 1);
        assert_int_equal(c.n_notes, 0);
        assert_non_null(strstr(c.last_reason, "configuration test exit status 1"));
        reload_pass_free(pass);
        sd_event_unref(e);
        pidfile_cleanup();
}

/* A pid file that holds no pid: the reloader cannot tell, so it fails and
 * says which file and what to set. */
static void test_pid_file_garbage_fails(void **state _unused_) {
        char *test[] = SH("test", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert cert = { .name = "a", .reload = targets };
        sd_event *e = NULL;
        ctx c = {};

        pidfile_write("<html>\n");
        nginx.pid_file = pidfile;
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &cert, "v4"), 0);
        run_pass(pass, e, &c);
        assert_int_equal(c.n_failed, 1);
        assert_int_equal(c.n_rollback, 1);
        assert_non_null(strstr(c.last_reason, "reload nginx: pid file "));
        assert_non_null(strstr(c.last_reason, "holds \"<html>\", not a process id (set reloaders.nginx.pid_file, "
                                              "or reload_command)"));
        reload_pass_free(pass);
        sd_event_unref(e);
        pidfile_cleanup();
}

/* With systemd as PID 1 a unit that is not active is asked about and named;
 * without systemd the unit is not consulted. Either way: nothing to reload. */
static void test_not_running_unit(void **state _unused_) {
        char *test[] = SH("test", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test,
                              .unit = "acm-agent-test-no-such-unit.service" };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert cert = { .name = "a", .reload = targets };
        sd_event *e = NULL;
        ctx c = {};

        pidfile_write(NULL);
        nginx.pid_file = pidfile;
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &cert, NULL), 0);
        run_pass(pass, e, &c);
        assert_int_equal(c.n_ok, 1);
        assert_int_equal(c.n_notes, 1);
        if (sd_booted() > 0)
                assert_non_null(strstr(c.last_note, "; unit acm-agent-test-no-such-unit.service is not active: "
                                                    "systemctl is-active exit status"));
        else
                assert_null(strstr(c.last_note, "unit"));
        reload_pass_free(pass);
        sd_event_unref(e);
        pidfile_cleanup();
}

/* Without a note callback the pass logs the line itself (notice). */
static void test_not_running_logged(void **state _unused_) {
        char *test[] = SH("test", "0");
        conf_reload nginx = { .kind = CONF_RELOAD_NGINX, .id = "nginx", .test_command = test };
        conf_reload *targets[] = { &nginx, NULL };
        conf_cert cert = { .name = "a", .reload = targets };
        char errpath[] = "/tmp/test-reload-stderr-XXXXXX";
        sd_event *e = NULL;
        ctx c = {};

        pidfile_write("");
        nginx.pid_file = pidfile;
        int fd = mkstemp(errpath);
        assert_true(fd >= 0);
        int saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        assert_int_equal(sd_event_new(&e), 0);
        reload_pass *pass = reload_pass_new(e);
        assert_int_equal(reload_pass_add(pass, &cert, "v1"), 0);
        reload_callbacks cb = { .rollback = cb_rollback, .cert_done = cb_cert_done, .pass_done = cb_pass_done,
                                .userdata = &c };
        assert_int_equal(reload_pass_run(pass, &cb), 0);
        while (!c.done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        close(fd);
        _cleanup_(freep) char *err = NULL;
        assert_int_equal(read_full_file(errpath, 1 << 16, &err, NULL), 0);
        unlink(errpath);
        assert_non_null(strstr(err, "reload nginx: nginx is not running (pid file "));
        assert_int_equal(c.n_ok, 1);
        reload_pass_free(pass);
        sd_event_unref(e);
        pidfile_cleanup();
}

int main(void) {
        sigset_t ss;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgroup_has_unit),
                cmocka_unit_test_setup_teardown(test_dedup_20_certs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_test_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_fails_reapply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_pass, setup, teardown),
                cmocka_unit_test(test_server_running),
                cmocka_unit_test_setup_teardown(test_not_running_succeeds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_running_other_program, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_running_test_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pid_file_garbage_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_running_unit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_running_logged, setup, teardown),
        };
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
