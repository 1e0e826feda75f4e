/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "deploy/deploy.h"
#include "basic/macro.h"
#include "basic/util.h"

static char base[64], outdir[128];
static conf_output out;

static int setup(void **st) {
        (void) st;
        strcpy(base, "/tmp/test-deploy-XXXXXX");
        assert_non_null(mkdtemp(base));
        snprintf(outdir, sizeof(outdir), "%s/out/web", base);
        out = (conf_output) {
                .dir = outdir, .owner = 0, .group = 0, .mode = 0644, .key_mode = 0600,
                .files = CONF_OUT_CERT | CONF_OUT_KEY, .keep_versions = 2,
        };
        if (geteuid() == 0) {
                out.owner = 1;
                out.group = 2;
        } else {
                out.owner = geteuid();
                out.group = getegid();
        }
        return 0;
}

static int teardown(void **st) {
        char cmd[128];
        (void) st;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

static int install(const char *cert, const char *key, const char *hint, deploy_result *res, char *err, size_t errlen) {
        deploy_file f[] = {
                { CONF_OUT_CERT, cert, strlen(cert), false },
                { CONF_OUT_KEY, key, strlen(key), true },
        };
        return deploy_install(&out, "web", f, 2, hint, res, err, errlen);
}

static char *rd(const char *name) {
        _cleanup_(freep) char *p = path_join(outdir, name);
        char *c = NULL;
        if (read_full_file(p, 65536, &c, NULL) < 0)
                return NULL;
        return c;
}

static void test_install(void **st) {
        deploy_result r1 = {}, r2 = {};
        char err[512] = "", lnk[256];
        struct stat sb;
        ssize_t n;
        (void) st;

        assert_int_equal(install("CERT1", "KEY1", "aa01", &r1, err, sizeof(err)), 0);
        assert_string_equal(r1.previous, "");
        assert_non_null(strstr(r1.version, "-aa01"));
        _cleanup_(freep) char *c = rd("cert.pem"), *k = rd("key.pem");
        assert_string_equal(c, "CERT1");
        assert_string_equal(k, "KEY1");

        _cleanup_(freep) char *kp = strprintf("%s/.versions/%s/key.pem", outdir, r1.version);
        _cleanup_(freep) char *cp = strprintf("%s/.versions/%s/cert.pem", outdir, r1.version);
        assert_int_equal(lstat(kp, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0600);
        assert_int_equal(sb.st_uid, out.owner);
        assert_int_equal(sb.st_gid, out.group);
        assert_int_equal(lstat(cp, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0644);

        _cleanup_(freep) char *lp = strprintf("%s/cert.pem", outdir);
        n = readlink(lp, lnk, sizeof(lnk) - 1);
        assert_true(n > 0);
        lnk[n] = 0;
        assert_string_equal(lnk, "current/cert.pem");

        assert_int_equal(install("CERT2", "KEY2", "aa02", &r2, err, sizeof(err)), 0);
        assert_string_equal(r2.previous, r1.version);
        free(c);
        free(k);
        c = rd("cert.pem");
        k = rd("key.pem");
        assert_string_equal(c, "CERT2");
        assert_string_equal(k, "KEY2");

        _cleanup_(freep) char *cur = NULL;
        assert_int_equal(deploy_current(&out, &cur), 0);
        assert_string_equal(cur, r2.version);

        assert_int_equal(deploy_rollback(&out, NULL, err, sizeof(err)), 0);
        free(c);
        c = rd("cert.pem");
        assert_string_equal(c, "CERT1");
        assert_int_equal(deploy_rollback(&out, r2.version, err, sizeof(err)), 0);
        free(c);
        c = rd("cert.pem");
        assert_string_equal(c, "CERT2");
        assert_int_equal(deploy_rollback(&out, "nonexistent", err, sizeof(err)), -ENOENT);
}

static void test_prune(void **st) {
        deploy_result r = {};
        char err[512] = "", hint[8];
        _cleanup_(strv_freep) char **l = NULL;
        (void) st;

        for (int i = 0; i < 5; i++) {
                snprintf(hint, sizeof(hint), "bb%02d", i);
                assert_int_equal(install("C", "K", hint, &r, err, sizeof(err)), 0);
        }
        assert_int_equal(deploy_list_versions(&out, &l), 0);
        assert_int_equal(strv_length(l), 3); /* current + keep_versions (2) */
        assert_string_equal(l[2], r.version);
        assert_string_equal(l[1], r.previous);
        assert_non_null(strstr(l[0], "bb02"));
}

static void test_planted(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *evil = strprintf("%s/evil", base);
        _cleanup_(freep) char *v = strprintf("%s/.versions", outdir);
        _cleanup_(freep) char *cur = strprintf("%s/current", outdir);
        _cleanup_(strv_freep) char **l = NULL;
        (void) st;

        assert_int_equal(mkdir(evil, 0755), 0);
        assert_int_equal(system(NULL) != 0, 1);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", outdir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(symlink(evil, v), 0);
        assert_int_equal(install("C", "K", "cc", &r, err, sizeof(err)), -ELOOP);
        assert_non_null(strstr(err, ".versions"));
        assert_int_equal(deploy_list_versions(&out, &l), -ELOOP);
        assert_int_equal(rmdir(evil), 0); /* still empty: nothing written through it */
        assert_int_equal(unlink(v), 0);

        assert_int_equal(mkdir(evil, 0755), 0);
        assert_int_equal(symlink(evil, cur), 0);
        err[0] = 0;
        assert_int_equal(install("C", "K", "cc", &r, err, sizeof(err)), -ELOOP);
        assert_non_null(strstr(err, "current"));
        assert_int_equal(rmdir(evil), 0);
        assert_int_equal(unlink(cur), 0);

        /* stable name planted as a symlink elsewhere */
        _cleanup_(freep) char *kp = strprintf("%s/key.pem", outdir);
        assert_int_equal(symlink("/etc/passwd", kp), 0);
        assert_int_equal(install("C", "K", "cc", &r, err, sizeof(err)), -ELOOP);
        assert_int_equal(unlink(kp), 0);

        /* a regular file from an earlier tool is replaced */
        assert_int_equal(write_file_atomic(kp, "OLD", 3, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(install("C", "K", "cc", &r, err, sizeof(err)), 0);
        _cleanup_(freep) char *k = rd("key.pem");
        assert_string_equal(k, "K");
}

static void test_world_writable(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *ww = strprintf("%s/out", base);
        (void) st;

        assert_int_equal(mkdir(ww, 0755), 0);
        assert_int_equal(chmod(ww, 0777), 0);
        assert_int_equal(install("C", "K", "dd", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, ww));
        assert_int_equal(access(outdir, F_OK), -1);
}

static void test_write_failure(void **st) {
        deploy_result r1 = {}, r2 = {};
        char err[512] = "";
        struct rlimit old, lim;
        _cleanup_(strv_freep) char **l = NULL;
        char big[8192];
        int ret;
        (void) st;

        assert_int_equal(install("CERT1", "KEY1", "ee01", &r1, err, sizeof(err)), 0);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 4096;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        ret = install("C2", big, "ee02", &r2, err, sizeof(err));
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(ret, -EFBIG);
        assert_non_null(strstr(err, "key.pem"));
        _cleanup_(freep) char *c = rd("cert.pem");
        assert_string_equal(c, "CERT1");
        assert_int_equal(deploy_list_versions(&out, &l), 0);
        assert_int_equal(strv_length(l), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_install, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
                cmocka_unit_test_setup_teardown(test_planted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_world_writable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
