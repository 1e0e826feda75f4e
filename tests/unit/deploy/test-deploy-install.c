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
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
        /* the peek (no walk) sees the same version; a link that is not ours
         * (nor a version) counts as none */
        _cleanup_(freep) char *peek = NULL, *curlink = strprintf("%s/current", outdir);
        assert_int_equal(deploy_current_peek(&out, &peek), 0);
        assert_string_equal(peek, r2.version);
        free(TAKE_PTR(peek));
        /* and through a kept parent directory: the same answers, for
         * another output of that parent too, and after the parent changed */
        {
                deploy_peek_dir pd = DEPLOY_PEEK_DIR_INIT;
                conf_output other = { .dir = strprintf("%s-other", outdir) }, rel = { .dir = (char *) "relative" };
                assert_non_null(other.dir);
                assert_int_equal(deploy_current_peek_in(&pd, &out, &peek), 0);
                assert_string_equal(peek, r2.version);
                free(TAKE_PTR(peek));
                assert_true(pd.fd >= 0);
                assert_int_equal(deploy_current_peek_in(&pd, &other, &peek), -ENOENT);
                assert_null(peek);
                assert_int_equal(deploy_current_peek_in(&pd, &out, &peek), 0);
                assert_string_equal(peek, r2.version);
                free(TAKE_PTR(peek));
                assert_int_equal(deploy_current_peek_in(&pd, &rel, &peek), -ENOENT);
                assert_int_equal(deploy_current_peek_in(&pd, &out, &peek), 0);
                free(TAKE_PTR(peek));
                deploy_peek_dir_done(&pd);
                assert_null(pd.parent);
                assert_int_equal(pd.fd, -1);
                free(other.dir);
        }
        assert_int_equal(rename(curlink, lp), 0);     /* current moved aside as cert.pem */
        assert_int_equal(symlink("/etc", curlink), 0);
        assert_int_equal(deploy_current_peek(&out, &peek), -ENOENT);
        assert_int_equal(unlink(curlink), 0);
        assert_int_equal(deploy_current_peek(&out, &peek), -ENOENT);
        assert_null(peek);
        assert_int_equal(rename(lp, curlink), 0);
        assert_int_equal(symlink("current/cert.pem", lp), 0);
        assert_int_equal(deploy_current_peek(&out, &peek), 0);
        assert_string_equal(peek, r2.version);

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

        /* a regular file from an earlier tool is replaced (and kept aside: test_operator_files) */
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

static void mkdir_p(const char *a) {
        _cleanup_(freep) char *cmd = strprintf("mkdir -p '%s'", a);
        assert_int_equal(system(cmd), 0);
}

/* uid/gid of an unprivileged user, or skip when the test is not root. */
static bool unprivileged(uid_t *uid, gid_t *gid) {
        struct passwd *pw = getpwnam("nobody");
        if (geteuid() != 0 || !pw)
                return false;
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
        return true;
}

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

/* .versions, a version directory or current that someone else could write or
 * owns is refused: the live version cannot be swapped under the agent. */
static void test_tree_modes_and_owners(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *v = strprintf("%s/.versions", outdir), *cur = strprintf("%s/current", outdir);
        _cleanup_(freep) char *c = NULL;
        uid_t nob;
        gid_t nobg;
        (void) st;

        assert_int_equal(install("C1", "K1", "ff01", &r, err, sizeof(err)), 0);
        _cleanup_(freep) char *vd = strprintf("%s/%s", v, r.version);

        assert_int_equal(chmod(v, 0777), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, v));
        assert_non_null(strstr(err, "chmod go-w"));
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), -EPERM);
        assert_int_equal(chmod(v, 0755), 0);

        /* a version directory writable by others (the current one) */
        assert_int_equal(chmod(vd, 0757), 0);
        err[0] = 0;
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, vd));
        assert_int_equal(chmod(vd, 0755), 0);

        /* the output directory itself */
        assert_int_equal(chmod(outdir, 0775), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, outdir));
        assert_int_equal(chmod(outdir, 0755), 0);
        c = rd("cert.pem");
        assert_string_equal(c, "C1");

        if (!unprivileged(&nob, &nobg)) {
                print_message("not root: ownership cases skipped\n");
                return;
        }
        /* owned by an unprivileged user, even with safe mode bits */
        assert_int_equal(chown(v, nob, nobg), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "not by root"));
        assert_non_null(strstr(err, v));
        assert_int_equal(chown(v, 0, 0), 0);
        assert_int_equal(chown(vd, nob, nobg), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, vd));
        assert_int_equal(deploy_rollback(&out, r.version, err, sizeof err), -EPERM);
        assert_int_equal(chown(vd, 0, 0), 0);
        assert_int_equal(lchown(cur, nob, nobg), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "current"));
        assert_int_equal(lchown(cur, 0, 0), 0);
        assert_int_equal(install("C2", "K2", "ff02", &r, err, sizeof(err)), 0);
}

/* An ancestor owned by an unprivileged user, or a symlink on the way, is
 * never followed: root would write wherever it points. */
static void test_ancestors(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *user = strprintf("%s/user", base), *target = strprintf("%s/target", base);
        _cleanup_(freep) char *lnk = strprintf("%s/user/link", base), *rootlnk = strprintf("%s/rootlink", base);
        _cleanup_(freep) char *d1 = strprintf("%s/user/link/web", base), *d2 = strprintf("%s/rootlink/web", base);
        _cleanup_(freep) char *d3 = strprintf("%s/user/web", base);
        _cleanup_(freep) char *t1 = strprintf("%s/target/web", base);
        uid_t nob;
        gid_t nobg;
        (void) st;

        assert_int_equal(mkdir(target, 0755), 0);
        /* a root-owned symlink among the ancestors: refused, the real path suggested */
        assert_int_equal(symlink(target, rootlnk), 0);
        out.dir = d2;
        assert_int_equal(install("C", "K", "gg", &r, err, sizeof(err)), -ELOOP);
        assert_non_null(strstr(err, rootlnk));
        assert_non_null(strstr(err, "symlink"));
        assert_non_null(strstr(err, target));
        assert_false(exists(t1));
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), -ELOOP);
        assert_int_equal(deploy_clean_temp(&out, err, sizeof err), -ELOOP);

        if (!unprivileged(&nob, &nobg)) {
                print_message("not root: ownership cases skipped\n");
                out.dir = outdir;
                return;
        }
        assert_int_equal(mkdir(user, 0755), 0);
        assert_int_equal(chown(user, nob, nobg), 0);
        assert_int_equal(symlink(target, lnk), 0);
        assert_int_equal(lchown(lnk, nob, nobg), 0);
        out.dir = d1;
        err[0] = 0;
        assert_int_equal(install("C", "K", "gg", &r, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, user));
        assert_non_null(strstr(err, "chown root"));
        assert_false(exists(t1));
        /* no symlink at all: the owner alone is enough to refuse */
        out.dir = d3;
        assert_int_equal(install("C", "K", "gg", &r, err, sizeof(err)), -EPERM);
        assert_false(exists(d3));
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), -EPERM);
        /* a sticky root-owned world-writable ancestor (like /tmp) is fine */
        assert_int_equal(chown(user, 0, 0), 0);
        assert_int_equal(chmod(user, 01777), 0);
        assert_int_equal(install("C", "K", "gg", &r, err, sizeof(err)), 0);
        /* ... unless it is not root's */
        assert_int_equal(chown(user, nob, nobg), 0);
        assert_int_equal(install("C", "K", "gh", &r, err, sizeof(err)), -EPERM);
        out.dir = outdir;
}

/* An operator's own key.pem / cert.pem is kept aside, never destroyed. */
static void test_operator_files(void **st) {
        deploy_result r = {};
        char err[512] = "", hint[8];
        _cleanup_(freep) char *kp = strprintf("%s/key.pem", outdir), *cp = strprintf("%s/cert.pem", outdir);
        _cleanup_(strv_freep) char **l = NULL;
        (void) st;

        mkdir_p(outdir);
        assert_int_equal(write_file_atomic(kp, "OPERATOR KEY", 12, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic(cp, "OPERATOR CERT", 13, 0644, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), 0);
        assert_int_equal(install("C1", "K1", "hh01", &r, err, sizeof(err)), 0);
        print_message("%s\n", r.notice);
        assert_non_null(strstr(r.notice, "kept the existing cert.pem, key.pem aside"));
        assert_non_null(strstr(r.notice, "-operator/"));
        _cleanup_(freep) char *k = rd("key.pem");
        assert_string_equal(k, "K1");

        /* the kept directory: named in the notice, holds the originals, 0700 */
        const char *start = strstr(r.notice, "/.versions/");
        assert_non_null(start);
        start += strlen("/.versions/");
        const char *end = strchr(start, '/');
        _cleanup_(freep) char *id = strndup(start, (size_t) (end - start));
        _cleanup_(freep) char *kept = strprintf("%s/.versions/%s", outdir, id);
        _cleanup_(freep) char *keptk = strprintf("%s/key.pem", kept), *keptc = strprintf("%s/cert.pem", kept);
        _cleanup_(freep) char *ok = NULL, *oc = NULL;
        struct stat sb;
        assert_int_equal(read_full_file(keptk, 100, &ok, NULL), 0);
        assert_int_equal(read_full_file(keptc, 100, &oc, NULL), 0);
        assert_string_equal(ok, "OPERATOR KEY");
        assert_string_equal(oc, "OPERATOR CERT");
        assert_int_equal(stat(kept, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0700);

        /* not a version: not listed, not pruned, not a rollback target */
        for (int i = 2; i < 7; i++) {
                snprintf(hint, sizeof(hint), "hh%02d", i);
                assert_int_equal(install("C", "K", hint, &r, err, sizeof(err)), 0);
                assert_string_equal(r.notice, "");
        }
        assert_int_equal(deploy_list_versions(&out, &l), 0);
        assert_int_equal(strv_length(l), 3);
        for (char **i = l; *i; i++)
                assert_null(strstr(*i, "operator"));
        assert_int_equal(stat(keptk, &sb), 0);
        assert_int_equal(deploy_rollback(&out, id, err, sizeof err), -ENOENT);
        /* a version hint "operator" does not make a version look kept aside */
        assert_int_equal(install("C", "K", "operator", &r, err, sizeof(err)), 0);
        assert_null(strstr(r.version, "-operator"));
}

static void tree_modes(const char *dir, const char *version, mode_t m[6]) {
        const char *pre[] = { "", "/.versions", "/.versions/", "/.versions/", "/.versions/", "/.." };
        const char *post[] = { "", "", "", "/cert.pem", "/key.pem", "" };
        for (size_t i = 0; i < ELEMENTSOF(pre); i++) {
                bool v = i >= 2 && i <= 4;
                _cleanup_(freep) char *p = strprintf("%s%s%s%s", dir, pre[i], v ? version : "", post[i]);
                struct stat sb;
                assert_int_equal(stat(p, &sb), 0);
                m[i] = sb.st_mode & 07777;
        }
}

/* The same tree whatever the umask of the caller. */
static void test_umask(void **st) {
        deploy_result r1 = {}, r2 = {};
        char err[512] = "";
        _cleanup_(freep) char *d1 = strprintf("%s/a/b/web", base), *d2 = strprintf("%s/c/d/web", base);
        mode_t m1[6], m2[6];
        mode_t old = umask(077);
        (void) st;

        out.dir = d1;
        assert_int_equal(install("C", "K", "ii", &r1, err, sizeof(err)), 0);
        umask(0);
        out.dir = d2;
        assert_int_equal(install("C", "K", "ii", &r2, err, sizeof(err)), 0);
        umask(old);
        out.dir = outdir;
        tree_modes(d1, r1.version, m1);
        tree_modes(d2, r2.version, m2);
        for (int i = 0; i < 6; i++) {
                print_message("%o %o\n", m1[i], m2[i]);
                assert_int_equal(m1[i], m2[i]);
        }
        assert_int_equal(m1[0], 0755);
        assert_int_equal(m1[1], 0755);
        assert_int_equal(m1[2], 0755);
        assert_int_equal(m1[3], 0644);
        assert_int_equal(m1[4], 0600);
        assert_int_equal(m1[5], 0755);  /* a parent created on the way */
}

/* What a kill leaves (temporaries, a half-written version) goes; nothing else does. */
static void test_clean_temp(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(strv_freep) char **before = NULL, **after = NULL;
        (void) st;

        assert_int_equal(deploy_clean_temp(&out, err, sizeof err), 0);  /* nothing there yet */
        assert_false(exists(outdir));
        assert_int_equal(install("C1", "K1", "jj01", &r, err, sizeof(err)), 0);
        _cleanup_(freep) char *tl = strprintf("%s/.acm-agent-tmp-current-0a0b0c", outdir);
        _cleanup_(freep) char *tv = strprintf("%s/.versions/.acm-agent-tmp-20270101T000000Z-jj02-00", outdir);
        _cleanup_(freep) char *tvk = strprintf("%s/key.pem", tv);
        _cleanup_(freep) char *tin = strprintf("%s/.versions/%s/.acm-agent-tmp-x", outdir, r.version);
        _cleanup_(freep) char *other = strprintf("%s/.hidden", outdir), *readme = strprintf("%s/README", outdir);
        assert_int_equal(symlink(".versions/x", tl), 0);
        assert_int_equal(mkdir(tv, 0755), 0);
        assert_int_equal(write_file_atomic(tvk, "HALF A KEY", 10, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic(tin, "x", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic(other, "x", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic(readme, "x", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(deploy_list_versions(&out, &before), 0);
        assert_int_equal(strv_length(before), 1);  /* a temporary is not a version */

        assert_int_equal(deploy_clean_temp(&out, err, sizeof err), 3);
        assert_false(exists(tl));
        assert_false(exists(tv));
        assert_false(exists(tin));
        assert_true(exists(other));
        assert_true(exists(readme));
        assert_int_equal(deploy_list_versions(&out, &after), 0);
        assert_int_equal(strv_length(after), 1);
        assert_string_equal(after[0], r.version);
        _cleanup_(freep) char *c = rd("cert.pem"), *k = rd("key.pem");
        assert_string_equal(c, "C1");
        assert_string_equal(k, "K1");
        assert_int_equal(deploy_clean_temp(&out, err, sizeof err), 0);
}

static void test_version_remove(void **st) {
        deploy_result r1 = {}, r2 = {}, r3 = {};
        char err[512] = "";
        _cleanup_(strv_freep) char **l = NULL;
        (void) st;

        assert_int_equal(install("C1", "K1", "kk01", &r1, err, sizeof(err)), 0);
        assert_int_equal(install("C2", "K2", "kk02", &r2, err, sizeof(err)), 0);
        assert_int_equal(install("C3", "K3", "kk03", &r3, err, sizeof(err)), 0);
        assert_int_equal(deploy_version_remove(&out, r3.version, err, sizeof err), -EBUSY);
        assert_non_null(strstr(err, "current"));
        assert_int_equal(deploy_version_remove(&out, r2.version, err, sizeof err), 0);
        assert_int_equal(deploy_version_remove(&out, r2.version, err, sizeof err), -ENOENT);
        assert_int_equal(deploy_version_remove(&out, "../x", err, sizeof err), -EINVAL);
        assert_int_equal(deploy_version_remove(&out, ".versions", err, sizeof err), -EINVAL);
        assert_int_equal(deploy_list_versions(&out, &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], r1.version);
        assert_string_equal(l[1], r3.version);
        /* the removed version is no rollback target: the older one is */
        assert_int_equal(deploy_rollback(&out, NULL, err, sizeof(err)), 0);
        _cleanup_(freep) char *c = rd("cert.pem");
        assert_string_equal(c, "C1");
}

static void test_check_dir(void **st) {
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *kp = strprintf("%s/key.pem", outdir), *v = strprintf("%s/.versions", outdir);
        (void) st;

        /* nothing exists yet: fine, and nothing is created */
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), 0);
        assert_false(exists(outdir));
        assert_int_equal(install("C1", "K1", "ll01", &r, err, sizeof(err)), 0);
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), 0);
        assert_int_equal(unlink(kp), 0);
        assert_int_equal(symlink("/etc/passwd", kp), 0);
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), -ELOOP);
        assert_non_null(strstr(err, kp));
        assert_int_equal(unlink(kp), 0);
        assert_int_equal(symlink("current/key.pem", kp), 0);
        assert_int_equal(chmod(v, 0777), 0);
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), -EPERM);
        struct stat sb;
        assert_int_equal(stat(v, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0777);  /* checked, not changed */
        assert_int_equal(chmod(v, 0755), 0);
        assert_int_equal(deploy_check_dir(&out, err, sizeof err), 0);
}

/* Where openat2 is missing (ENOSYS, e.g. an old kernel or a seccomp filter),
 * the walk falls back to O_NOFOLLOW and refuses the same things. */
static int child_without_openat2(void) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(f), .filter = f };
        deploy_result r = {};
        char err[512] = "";
        _cleanup_(freep) char *target = strprintf("%s/t", base), *lnk = strprintf("%s/l", base);
        _cleanup_(freep) char *evil = strprintf("%s/l/web", base);

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return 10;
        if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) >= 0 || errno != ENOSYS)
                return 11;
        if (install("C1", "K1", "mm01", &r, err, sizeof(err)) != 0)
                return 12;
        if (install("C2", "K2", "mm02", &r, err, sizeof(err)) != 0 || strcmp(r.previous, "") == 0)
                return 13;
        if (mkdir(target, 0755) < 0 || symlink(target, lnk) < 0)
                return 14;
        out.dir = evil;
        if (install("C", "K", "mm03", &r, err, sizeof(err)) != -ELOOP)
                return 15;
        return 0;
}

static void test_openat2_enosys(void **st) {
        int status;
        pid_t pid;
        (void) st;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child_without_openat2());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        _cleanup_(freep) char *c = rd("cert.pem");
        assert_string_equal(c, "C2");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_install, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
                cmocka_unit_test_setup_teardown(test_planted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_world_writable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tree_modes_and_owners, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ancestors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_operator_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_umask, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clean_temp, setup, teardown),
                cmocka_unit_test_setup_teardown(test_version_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_openat2_enosys, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
