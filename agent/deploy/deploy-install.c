/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/clock.h"
#include "deploy/deploy.h"
#include "basic/testpoint.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

static const struct {
        conf_output_file kind;
        const char *name;
        bool secret;
} file_table[] = {
        { CONF_OUT_CERT, "cert.pem", false },
        { CONF_OUT_CHAIN, "chain.pem", false },
        { CONF_OUT_FULLCHAIN, "fullchain.pem", false },
        { CONF_OUT_KEY, "key.pem", true },
        { CONF_OUT_HAPROXY_BUNDLE, "haproxy.pem", true },
        { CONF_OUT_PKCS12, "cert.p12", true },
};

const char *deploy_file_name(conf_output_file kind) {
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++)
                if (file_table[i].kind == kind)
                        return file_table[i].name;
        return NULL;
}

static bool kind_secret(conf_output_file kind) {
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++)
                if (file_table[i].kind == kind)
                        return file_table[i].secret;
        return true;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;
        if (!err || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

static bool id_valid(const char *id) {
        size_t n = strlen(id);
        if (n == 0 || n >= DEPLOY_ID_MAX || id[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
        }
        return true;
}

/* Checks one existing ancestor: not group/world-writable unless sticky and root-owned. */
static int check_ancestor(const char *p, char *err, size_t errlen) {
        struct stat st;
        if (stat(p, &st) < 0) {
                int r = -errno;
                seterr(err, errlen, "%s: cannot stat: %s", p, strerror(errno));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, errlen, "%s: not a directory", p);
                return -ENOTDIR;
        }
        if ((st.st_mode & 0022) && !((st.st_mode & S_ISVTX) && st.st_uid == 0)) {
                seterr(err, errlen, "%s: directory is group/world-writable (mode %04o); refusing to deploy below it (chmod go-w it)",
                       p, (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* Creates missing components of dir (0755) and checks every ancestor and dir itself. */
static int prepare_dir(const char *dir, char *err, size_t errlen) {
        _cleanup_(freep) char *p = NULL;
        struct stat st;
        size_t n;
        int r;

        if (isempty(dir) || dir[0] != '/') {
                seterr(err, errlen, "output dir \"%s\" must be an absolute path", dir ? dir : "");
                return -EINVAL;
        }
        p = strdup(dir);
        if (!p)
                return -ENOMEM;
        n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = 0;
        r = check_ancestor("/", err, errlen);
        if (r < 0)
                return r;
        for (char *s = p + 1;; s++) {
                bool last = (*s == 0);
                if (*s != '/' && !last)
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        seterr(err, errlen, "%s: cannot create directory: %s", p, strerror(errno));
                        return r;
                }
                if (last)
                        break;
                r = check_ancestor(p, err, errlen);
                if (r < 0)
                        return r;
                *s = '/';
        }
        if (lstat(p, &st) < 0) {
                r = -errno;
                seterr(err, errlen, "%s: %s", p, strerror(errno));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, errlen, "%s: output dir is not a directory (a symlink?); refusing", p);
                return -ELOOP;
        }
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022)) {
                seterr(err, errlen, "%s: output dir must be owned by root and not group/world-writable", p);
                return -EPERM;
        }
        return 0;
}

static int open_dirs(const conf_output *out, bool create, int *ret_dfd, int *ret_vfd, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        struct stat st;
        int r;

        if (create) {
                r = prepare_dir(out->dir, err, errlen);
                if (r < 0)
                        return r;
        }
        dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                r = -errno;
                seterr(err, errlen, "%s: cannot open output dir: %s", out->dir, strerror(errno));
                return r;
        }
        if (create && mkdirat(dfd, DEPLOY_VERSIONS_DIR, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": cannot create: %s", out->dir, strerror(errno));
                return r;
        }
        if (fstatat(dfd, DEPLOY_VERSIONS_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": %s", out->dir, strerror(errno));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": is not a real directory (planted symlink?); refusing, remove it",
                       out->dir);
                return -ELOOP;
        }
        vfd = openat(dfd, DEPLOY_VERSIONS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vfd < 0) {
                r = -errno;
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": %s", out->dir, strerror(errno));
                return r;
        }
        *ret_dfd = TAKE_FD(dfd);
        *ret_vfd = TAKE_FD(vfd);
        return 0;
}

/* Reads current; buf gets the id, "" when absent. -ELOOP if it is not our symlink. */
static int read_current(int dfd, const char *dir, char id[static DEPLOY_ID_MAX], char *err, size_t errlen) {
        char buf[DEPLOY_ID_MAX + sizeof(DEPLOY_VERSIONS_DIR) + 2];
        ssize_t n;
        const char *pfx = DEPLOY_VERSIONS_DIR "/";

        n = readlinkat(dfd, DEPLOY_CURRENT_LINK, buf, sizeof(buf) - 1);
        if (n < 0 && errno == ENOENT) {
                id[0] = 0;
                return 0;
        }
        if (n < 0 || (size_t) n >= sizeof(buf) - 1) {
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": is not a symlink made by acm-agent; refusing, remove it", dir);
                return -ELOOP;
        }
        buf[n] = 0;
        if (!strneq(buf, pfx, strlen(pfx)) || !id_valid(buf + strlen(pfx))) {
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": points to \"%s\", not into " DEPLOY_VERSIONS_DIR "; refusing, remove it",
                       dir, buf);
                return -ELOOP;
        }
        strcpy(id, buf + strlen(pfx));
        return 0;
}

static int symlink_replace(int dfd, const char *target, const char *name) {
        char tmp[64];
        uint8_t rnd[6];
        char hex[13];
        int r;

        r = random_bytes(rnd, sizeof(rnd));
        if (r < 0)
                return r;
        hex_encode(rnd, sizeof(rnd), hex);
        snprintf(tmp, sizeof(tmp), ".%s.tmp-%s", name, hex);
        if (symlinkat(target, dfd, tmp) < 0)
                return -errno;
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static int switch_current(int dfd, const char *id) {
        _cleanup_(freep) char *target = strprintf(DEPLOY_VERSIONS_DIR "/%s", id);
        int r;
        if (!target)
                return -ENOMEM;
        r = symlink_replace(dfd, target, DEPLOY_CURRENT_LINK);
        if (r < 0)
                return r;
        return fsync(dfd) < 0 ? -errno : 0;
}

/* Checks a stable name; *ret_need = true when it must be (re)created. */
static int check_stable(int dfd, const char *dir, const char *fname, bool *ret_need, char *err, size_t errlen) {
        char want[64], buf[128];
        struct stat st;
        ssize_t n;

        snprintf(want, sizeof(want), DEPLOY_CURRENT_LINK "/%s", fname);
        if (fstatat(dfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret_need = true;
                return 0;
        }
        if (S_ISREG(st.st_mode)) {
                *ret_need = true;
                return 0;
        }
        if (S_ISLNK(st.st_mode)) {
                n = readlinkat(dfd, fname, buf, sizeof(buf) - 1);
                if (n >= 0 && (size_t) n < sizeof(buf) - 1) {
                        buf[n] = 0;
                        if (streq(buf, want)) {
                                *ret_need = false;
                                return 0;
                        }
                }
                seterr(err, errlen, "%s/%s: is a symlink not pointing to %s; refusing, remove it", dir, fname, want);
                return -ELOOP;
        }
        seterr(err, errlen, "%s/%s: exists and is not a regular file or our symlink; refusing, remove it", dir, fname);
        return -EEXIST;
}

static int write_one(int ifd, const char *fname, const deploy_file *f, const conf_output *out) {
        _cleanup_(closep) int fd = -1;
        bool secret = f->secret || kind_secret(f->kind);
        const uint8_t *p = f->data;
        size_t left = f->len;

        fd = openat(ifd, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0)
                return -errno;
        if (fchown(fd, out->owner, out->group) < 0)
                return -errno;
        if (fchmod(fd, secret ? out->key_mode : out->mode) < 0)
                return -errno;
        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                left -= (size_t) k;
        }
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

static void remove_version(int vfd, const char *id) {
        _cleanup_(closep) int ifd = openat(vfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ifd >= 0)
                for (size_t i = 0; i < ELEMENTSOF(file_table); i++)
                        (void) unlinkat(ifd, file_table[i].name, 0);
        (void) unlinkat(vfd, id, AT_REMOVEDIR);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int list_versions_fd(int vfd, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0;
        int fd;

        fd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        l = calloc(1, sizeof(char *));
        if (!l) {
                closedir(d);
                return -ENOMEM;
        }
        while ((de = readdir(d))) {
                char **nl;
                if (!id_valid(de->d_name) || de->d_type != DT_DIR)
                        continue;
                nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl || !(nl[n] = strdup(de->d_name))) {
                        if (nl)
                                l = nl;
                        closedir(d);
                        return -ENOMEM;
                }
                l = nl;
                l[++n] = NULL;
        }
        closedir(d);
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

static void prune(int vfd, const char *cur, const char *prev, unsigned keep) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n, others;

        if (list_versions_fd(vfd, &l) < 0)
                return;
        n = strv_length(l);
        others = 0;
        for (size_t i = 0; i < n; i++)
                if (!streq(l[i], cur))
                        others++;
        for (size_t i = 0; i < n && others > keep; i++) {
                if (streq(l[i], cur) || streq(l[i], prev))
                        continue;
                remove_version(vfd, l[i]);
                others--;
        }
}

static void make_id(const char *hint, char *buf, size_t len) {
        char h[17] = "", ts[32];
        time_t now = clock_now();
        struct tm tm;
        size_t k = 0;

        for (const char *s = hint; s && *s && k < 16; s++)
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
                        h[k++] = *s;
        h[k] = 0;
        if (k == 0) {
                uint8_t rnd[4];
                if (random_bytes(rnd, sizeof(rnd)) < 0)
                        memset(rnd, 0, sizeof(rnd));
                hex_encode(rnd, sizeof(rnd), h);
        }
        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(buf, len, "%s-%s", ts, h);
}

int deploy_install(const conf_output *out, const char *name,
                   const deploy_file *files, size_t n, const char *version_hint,
                   deploy_result *ret, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1, ifd = -1;
        char prev[DEPLOY_ID_MAX], id[DEPLOY_ID_MAX], base[DEPLOY_ID_MAX - 8];
        bool need[ELEMENTSOF(file_table)] = {};
        unsigned seen = 0;
        int r;

        if (!out || !files || n == 0 || !ret) {
                seterr(err, errlen, "deploy: invalid arguments");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                if (!deploy_file_name(files[i].kind) || (seen & files[i].kind) || (!files[i].data && files[i].len)) {
                        seterr(err, errlen, "deploy %s: invalid or duplicate file kind %u", name ? name : "", files[i].kind);
                        return -EINVAL;
                }
                seen |= files[i].kind;
        }

        r = open_dirs(out, true, &dfd, &vfd, err, errlen);
        if (r < 0)
                return r;
        r = read_current(dfd, out->dir, prev, err, errlen);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                if (!(seen & file_table[i].kind))
                        continue;
                r = check_stable(dfd, out->dir, file_table[i].name, &need[i], err, errlen);
                if (r < 0)
                        return r;
        }

        make_id(version_hint, base, sizeof(base));
        snprintf(id, sizeof(id), "%s", base);
        for (unsigned k = 2;; k++) {
                if (mkdirat(vfd, id, 0755) >= 0)
                        break;
                if (errno != EEXIST || k > 1000) {
                        r = -errno;
                        seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: cannot create: %s", out->dir, id, strerror(errno));
                        return r;
                }
                (void) snprintf(id, sizeof(id), "%.*s-%u", (int) (sizeof(base) - 1), base, k % 1000);
        }
        ifd = openat(vfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ifd < 0) {
                r = -errno;
                goto fail_errno;
        }
        for (size_t i = 0; i < n; i++) {
                const char *fname = deploy_file_name(files[i].kind);
                r = write_one(ifd, fname, &files[i], out);
                if (r < 0) {
                        seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s/%s: cannot write: %s%s; previous version keeps serving",
                               out->dir, id, fname, strerror(-r),
                               r == -ENOSPC ? " (file system full: free space and retry)" :
                               r == -EFBIG ? " (file size limit)" : "");
                        goto fail;
                }
        }
        if (fsync(ifd) < 0 || fsync(vfd) < 0) {
                r = -errno;
                goto fail_errno;
        }
        testpoint_hit("deploy-written", name);
        r = switch_current(dfd, id);
        if (r < 0)
                goto fail_errno;

        /* stable names, after current points at a version holding the files */
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                char target[64];
                if (!need[i])
                        continue;
                snprintf(target, sizeof(target), DEPLOY_CURRENT_LINK "/%s", file_table[i].name);
                r = symlink_replace(dfd, target, file_table[i].name);
                if (r < 0) {
                        seterr(err, errlen, "%s/%s: cannot create stable symlink: %s", out->dir, file_table[i].name,
                               strerror(-r));
                        /* roll back to the previous version; the new one is left for inspection */
                        if (prev[0])
                                (void) switch_current(dfd, prev);
                        return r;
                }
        }
        if (fsync(dfd) < 0) {
                r = -errno;
                seterr(err, errlen, "%s: fsync: %s", out->dir, strerror(errno));
                return r;
        }
        prune(vfd, id, prev, out->keep_versions);
        log_debug("deploy %s: %s now current (previous %s)", name ? name : "", id, prev[0] ? prev : "none");
        snprintf(ret->version, sizeof(ret->version), "%s", id);
        snprintf(ret->previous, sizeof(ret->previous), "%s", prev);
        return 0;

fail_errno:
        seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: %s; previous version keeps serving", out->dir, id, strerror(-r));
fail:
        ifd = safe_close(ifd);
        remove_version(vfd, id);
        return r;
}

int deploy_rollback(const conf_output *out, const char *to_version, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        _cleanup_(strv_freep) char **l = NULL;
        char cur[DEPLOY_ID_MAX];
        const char *target = NULL;
        int r;

        if (!out)
                return -EINVAL;
        r = open_dirs(out, false, &dfd, &vfd, err, errlen);
        if (r < 0)
                return r;
        r = read_current(dfd, out->dir, cur, err, errlen);
        if (r < 0)
                return r;
        r = list_versions_fd(vfd, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                if (to_version ? streq(*i, to_version) : (cur[0] && strcmp(*i, cur) < 0))
                        target = *i;
        }
        if (!target) {
                seterr(err, errlen, "%s: no version %s to roll back to", out->dir, to_version ? to_version : "older than the current one");
                return -ENOENT;
        }
        r = switch_current(dfd, target);
        if (r < 0)
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": cannot switch to %s: %s", out->dir, target, strerror(-r));
        return r;
}

int deploy_current(const conf_output *out, char **ret_id) {
        _cleanup_(closep) int dfd = -1;
        char id[DEPLOY_ID_MAX];
        char *s;
        int r;

        if (!out || !out->dir)
                return -EINVAL;
        dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        r = read_current(dfd, out->dir, id, NULL, 0);
        if (r < 0)
                return r;
        if (!id[0])
                return -ENOENT;
        s = strdup(id);
        if (!s)
                return -ENOMEM;
        *ret_id = s;
        return 0;
}

int deploy_list_versions(const conf_output *out, char ***ret) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        if (!out || !ret)
                return -EINVAL;
        int r = open_dirs(out, false, &dfd, &vfd, NULL, 0);
        if (r == -ENOENT) {
                char **l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
                *ret = l;
                return 0;
        }
        if (r < 0)
                return r;
        return list_versions_fd(vfd, ret);
}

int deploy_check_dir(const conf_output *out, char *err, size_t errlen) {
        _cleanup_(freep) char *p = NULL;
        struct stat st;
        size_t n;
        int r;

        if (!out || isempty(out->dir) || out->dir[0] != '/') {
                seterr(err, errlen, "output dir \"%s\" must be an absolute path", out && out->dir ? out->dir : "");
                return -EINVAL;
        }
        p = strdup(out->dir);
        if (!p)
                return -ENOMEM;
        n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = 0;
        r = check_ancestor("/", err, errlen);
        if (r < 0)
                return r;
        /* every existing ancestor; the first missing one ends the walk (the
         * install creates the rest 0755) */
        for (char *s = p + 1;; s++) {
                bool last = (*s == 0);
                if (*s != '/' && !last)
                        continue;
                *s = 0;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                return 0;
                        r = -errno;
                        seterr(err, errlen, "%s: %s", p, strerror(errno));
                        return r;
                }
                if (last)
                        break;
                r = check_ancestor(p, err, errlen);
                if (r < 0)
                        return r;
                *s = '/';
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, errlen, "%s: output dir is not a directory (a symlink?); refusing", p);
                return -ELOOP;
        }
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022)) {
                seterr(err, errlen, "%s: output dir must be owned by root and not group/world-writable", p);
                return -EPERM;
        }
        return 0;
}

int deploy_version_remove(const conf_output *out, const char *id, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        char cur[DEPLOY_ID_MAX];
        int r;

        if (!out || !id || !id_valid(id)) {
                seterr(err, errlen, "deploy: invalid version id");
                return -EINVAL;
        }
        r = open_dirs(out, false, &dfd, &vfd, err, errlen);
        if (r < 0)
                return r;
        r = read_current(dfd, out->dir, cur, err, errlen);
        if (r < 0)
                return r;
        if (streq(cur, id)) {
                seterr(err, errlen, "%s: version %s is current; not removed", out->dir, id);
                return -EBUSY;
        }
        remove_version(vfd, id);
        return fsync(vfd) < 0 ? -errno : 0;
}

int deploy_remove_all(const conf_output *out, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        _cleanup_(strv_freep) char **l = NULL;
        char cur[DEPLOY_ID_MAX];
        int r;

        r = open_dirs(out, false, &dfd, &vfd, err, errlen);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = read_current(dfd, out->dir, cur, err, errlen);
        if (r < 0)
                return r;
        /* the stable names first (only our symlinks), then current, then
         * every version: a reader sees the files go, never a mix */
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                bool need = false;
                if (check_stable(dfd, out->dir, file_table[i].name, &need, NULL, 0) >= 0 && !need)
                        (void) unlinkat(dfd, file_table[i].name, 0);
        }
        if (cur[0])
                (void) unlinkat(dfd, DEPLOY_CURRENT_LINK, 0);
        r = list_versions_fd(vfd, &l);
        if (r < 0)
                return r;
        for (char **v = l; *v; v++)
                remove_version(vfd, *v);
        (void) unlinkat(dfd, DEPLOY_VERSIONS_DIR, AT_REMOVEDIR);
        (void) fsync(dfd);
        /* the directory itself only when nothing else is left in it */
        if (rmdir(out->dir) < 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
                r = -errno;
                seterr(err, errlen, "%s: cannot remove: %s", out->dir, strerror(errno));
                return r;
        }
        return 0;
}
