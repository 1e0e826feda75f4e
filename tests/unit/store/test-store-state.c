/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "store/store-state.h"
#include "basic/util.h"

static char tmpl[64];

static int setup(void **st) {
        (void) st;
        strcpy(tmpl, "/tmp/test-state-XXXXXX");
        assert_non_null(mkdtemp(tmpl));
        strcat(tmpl, "/s");
        return 0;
}

static int teardown(void **st) {
        char cmd[128];
        (void) st;
        snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int) (strlen(tmpl) - 2), tmpl);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_roundtrip(void **st) {
        _cleanup_(state_freep) cert_state *s = state_new(), *l = NULL;
        char err[512] = "";
        struct stat sb;
        (void) st;

        assert_non_null(s);
        s->phase = STATE_AWAITING_ISSUE;
        assert_int_equal(state_set_string(&s->idempotency_token, "tok123"), 0);
        assert_int_equal(state_set_string(&s->pending_arn, "arn:aws:acm-pca:x"), 0);
        s->token_created = 1795393800;
        s->not_after = 1800000000;
        s->failures = 3;
        s->force_renewal = true;
        s->extra = json_pack("{s:s}", "renewal_status", "PENDING");
        assert_int_equal(state_save(tmpl, "web", s), 0);
        assert_int_equal(state_load(tmpl, "web", &l, err, sizeof(err)), 0);
        assert_int_equal(l->phase, STATE_AWAITING_ISSUE);
        assert_string_equal(l->idempotency_token, "tok123");
        assert_string_equal(l->pending_arn, "arn:aws:acm-pca:x");
        assert_int_equal(l->token_created, 1795393800);
        assert_int_equal(l->not_after, 1800000000);
        assert_int_equal(l->failures, 3);
        assert_true(l->force_renewal);
        assert_null(l->arn);
        assert_string_equal(json_string_value(json_object_get(l->extra, "renewal_status")), "PENDING");
        assert_int_equal(stat(tmpl, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);

        _cleanup_(freep) char *p = strprintf("%s/certs/web.json", tmpl);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);

        /* unknown fields ignored */
        const char *j = "{\"schema\":1,\"phase\":\"valid\",\"future\":[1,2],\"serial\":\"ab\"}";
        assert_int_equal(write_file_atomic(p, j, strlen(j), 0600, (uid_t) -1, (gid_t) -1), 0);
        state_free(l);
        l = NULL;
        assert_int_equal(state_load(tmpl, "web", &l, err, sizeof(err)), 0);
        assert_int_equal(l->phase, STATE_VALID);
        assert_string_equal(l->serial, "ab");

        _cleanup_(strv_freep) char **names = NULL;
        assert_int_equal(state_save(tmpl, "api", s), 0);
        assert_int_equal(state_list(tmpl, &names), 0);
        assert_int_equal(strv_length(names), 2);
        assert_string_equal(names[0], "api");
        assert_string_equal(names[1], "web");
}

static void test_corrupt(void **st) {
        _cleanup_(state_freep) cert_state *l = NULL, *s = state_new();
        char err[512] = "";
        (void) st;

        assert_int_equal(state_load(tmpl, "none", &l, err, sizeof(err)), -ENOENT);
        assert_int_equal(state_save(tmpl, "ok", s), 0);
        _cleanup_(freep) char *p = strprintf("%s/certs/bad.json", tmpl);
        assert_int_equal(write_file_atomic(p, "{\"schema\":1,", 12, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(state_load(tmpl, "bad", &l, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, p));
        assert_null(l);
        err[0] = 0;
        const char *j = "{\"schema\":1,\"phase\":\"bogus\"}";
        assert_int_equal(write_file_atomic(p, j, strlen(j), 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(state_load(tmpl, "bad", &l, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "bad.json"));
        /* file untouched, other cert still loads */
        _cleanup_(freep) char *c = NULL;
        assert_int_equal(read_full_file(p, 4096, &c, NULL), 0);
        assert_string_equal(c, j);
        assert_int_equal(state_load(tmpl, "ok", &l, err, sizeof(err)), 0);
        assert_int_equal(state_load(tmpl, "../x", &l, err, sizeof(err)), -EINVAL);
}

static void test_keys(void **st) {
        _cleanup_(freep) char *k = NULL;
        size_t len;
        (void) st;
        assert_int_equal(state_key_write(tmpl, "web", false, "KEY", 3), 0);
        assert_int_equal(state_key_read(tmpl, "web", true, &k, &len), -ENOENT);
        assert_int_equal(state_key_promote(tmpl, "web"), 0);
        assert_int_equal(state_key_read(tmpl, "web", true, &k, &len), 0);
        assert_int_equal(len, 3);
        assert_memory_equal(k, "KEY", 3);
        assert_int_equal(state_key_promote(tmpl, "web"), -ENOENT);
        assert_int_equal(state_key_delete(tmpl, "web", true), 0);
        assert_int_equal(state_key_delete(tmpl, "web", true), 0);
}

static void test_lock(void **st) {
        int fd = -1, p[2];
        pid_t pid, holder = 0;
        char c;
        (void) st;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int cfd;
                if (state_lock(tmpl, "web", false, &cfd) < 0)
                        _exit(1);
                if (write(p[1], "x", 1) != 1)
                        _exit(2);
                pause();
                _exit(0);
        }
        assert_int_equal(read(p[0], &c, 1), 1);
        assert_int_equal(state_lock(tmpl, "web", false, &fd), -EWOULDBLOCK);
        assert_int_equal(state_lock_holder(tmpl, "web", &holder), 0);
        assert_int_equal(holder, pid);
        /* another certificate is independent */
        assert_int_equal(state_lock(tmpl, "api", false, &fd), 0);
        close(fd);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        assert_int_equal(state_lock(tmpl, "web", false, &fd), 0);
        assert_int_equal(state_lock_holder(tmpl, "web", &holder), 0);
        assert_int_equal(holder, getpid());
        close(fd);
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
