/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Kept-aside directories (an operator's files found where a stable name
 * goes) are named "<timestamp>-operator": never listed as versions, never
 * pruned, never a rollback target. */
#define OPERATOR_SUFFIX "-operator"

static bool id_is_operator(const char *id) {
        size_t n = strlen(id), k = strlen(OPERATOR_SUFFIX);
        return n > k && streq(id + n - k, OPERATOR_SUFFIX);
}

/* ---- the safe walk ---- */

/* 1 when openat2 works, 0 when the kernel said ENOSYS, -1 before the first try. */
static int have_openat2 = -1;

/*
 * Opens the directory name (one component, no '/') below dirfd, never
 * through a symlink: openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH) where the
 * kernel has it, else openat(O_NOFOLLOW|O_DIRECTORY). Returns the fd or -errno
 * (-ELOOP for a symlink, -ENOTDIR for something else).
 */
static int open_dir_at(int dirfd, const char *name) {
        int fd;

        if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED) != 0) {
                struct open_how how = {
                        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
                };
                fd = (int) syscall(SYS_openat2, dirfd, name, &how, sizeof how);
                if (fd >= 0) {
                        __atomic_store_n(&have_openat2, 1, __ATOMIC_RELAXED);
                        return fd;
                }
                if (errno != ENOSYS)
                        return -errno;
                __atomic_store_n(&have_openat2, 0, __ATOMIC_RELAXED);
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Who may own a directory of the tree: root or the agent's euid. */
static bool owner_trusted(uid_t uid) {
        return uid == 0 || uid == geteuid();
}

/*
 * sshd's StrictModes for one directory (or the current symlink) at path:
 * owned by root or the agent's euid, and not group/world-writable unless
 * sticky and root-owned (an ancestor like /tmp; never the tree's own
 * directories, where sticky_ok is false).
 */
static int check_owner_mode(const struct stat *st, const char *path, bool sticky_ok, char *err, size_t errlen) {
        if (!owner_trusted(st->st_uid)) {
                seterr(err, errlen, "%s: owned by uid %u, not by root or the agent (uid %u): anyone with that uid "
                       "could swap what is deployed; refusing (chown root %s, or choose another output.dir)",
                       path, (unsigned) st->st_uid, (unsigned) geteuid(), path);
                return -EPERM;
        }
        if (S_ISLNK(st->st_mode))
                return 0;
        if ((st->st_mode & 0022) && !(sticky_ok && (st->st_mode & S_ISVTX) && st->st_uid == 0)) {
                seterr(err, errlen, "%s: group/world-writable (mode %04o): others could swap what is deployed; "
                       "refusing (chmod go-w %s)", path, (unsigned) (st->st_mode & 07777), path);
                return -EPERM;
        }
        return 0;
}

/* The type check before opening, for a message that says what is wrong. */
static int check_is_dir(int parent, const char *name, const char *path, struct stat *st, char *err, size_t errlen) {
        if (fstatat(parent, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                if (r != -ENOENT)
                        seterr(err, errlen, "%s: %s", path, strerror(-r));
                return r;
        }
        if (S_ISLNK(st->st_mode)) {
                _cleanup_(freep) char *real = realpath(path, NULL);
                seterr(err, errlen, "%s: is a symlink; the agent never follows one on the way to its files "
                       "(someone who can change it could redirect root's writes); refusing (set output.dir to "
                       "the real path%s%s)", path, real ? ", " : "", real ? real : "");
                return -ELOOP;
        }
        if (!S_ISDIR(st->st_mode)) {
                seterr(err, errlen, "%s: not a directory; refusing (remove it or choose another output.dir)", path);
                return -ENOTDIR;
        }
        return 0;
}

/*
 * Walks from "/" to output->dir one component at a time (open_dir_at: no
 * symlink is ever followed), checking each ancestor (sticky root-owned
 * directories allowed) and output->dir itself (strict). With create, missing
 * components are made 0755 (exactly, whatever the umask). Sets *ret_fd to
 * output->dir. Returns 0, -ENOENT (a component is missing and !create; err
 * untouched), or -errno with err set.
 */
static int open_output_dir(const char *dir, bool create, int *ret_fd, char *err, size_t errlen) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int fd = -1;
        struct stat st;
        int r;

        if (isempty(dir) || dir[0] != '/') {
                seterr(err, errlen, "output dir \"%s\" must be an absolute path", dir ? dir : "");
                return -EINVAL;
        }
        p = strdup(dir);
        if (!p)
                return -ENOMEM;
        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = check_owner_mode(&st, "/", true, err, errlen);
        if (r < 0)
                return r;
        /* p is cut at each '/' in turn, so p names the path walked so far */
        for (char *c = p + 1; *c;) {
                char *slash = strchr(c, '/'), *next;
                bool last;
                int nfd;

                if (slash)
                        *slash = 0;
                next = slash ? slash + 1 : c + strlen(c);
                while (*next == '/')
                        next++;
                last = *next == 0;
                if (*c == 0)
                        break;  /* trailing slash */
                if (streq(c, ".") || streq(c, "..")) {
                        seterr(err, errlen, "output dir \"%s\" must not contain \".\" or \"..\"", dir);
                        return -EINVAL;
                }
                r = check_is_dir(fd, c, p, &st, err, errlen);
                if (r == -ENOENT) {
                        if (!create)
                                return -ENOENT;
                        r = mkdirat_mode(fd, c, 0755);
                        if (r < 0 && r != -EEXIST) {
                                seterr(err, errlen, "%s: cannot create directory: %s", p, strerror(-r));
                                return r;
                        }
                        r = check_is_dir(fd, c, p, &st, err, errlen);
                }
                if (r < 0)
                        return r;
                nfd = open_dir_at(fd, c);
                if (nfd < 0) {
                        seterr(err, errlen, "%s: cannot open: %s%s", p, strerror(-nfd),
                               nfd == -ELOOP || nfd == -ENOTDIR ? " (replaced by a symlink meanwhile?); refusing" : "");
                        return nfd;
                }
                safe_close(fd);
                fd = nfd;
                if (fstat(fd, &st) < 0)
                        return -errno;
                r = check_owner_mode(&st, p, !last, err, errlen);
                if (r < 0)
                        return r;
                if (slash)
                        *slash = '/';
                c = next;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Opens (creating it when asked, exactly 0755) .versions below dfd and checks it. */
static int open_versions_dir(int dfd, const char *dir, bool create, int *ret_fd, char *err, size_t errlen) {
        _cleanup_(freep) char *path = strprintf("%s/" DEPLOY_VERSIONS_DIR, dir);
        _cleanup_(closep) int vfd = -1;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        r = check_is_dir(dfd, DEPLOY_VERSIONS_DIR, path, &st, err, errlen);
        if (r == -ENOENT && create) {
                r = mkdirat_mode(dfd, DEPLOY_VERSIONS_DIR, 0755);
                if (r < 0 && r != -EEXIST) {
                        seterr(err, errlen, "%s: cannot create: %s", path, strerror(-r));
                        return r;
                }
                r = check_is_dir(dfd, DEPLOY_VERSIONS_DIR, path, &st, err, errlen);
        }
        if (r == -ELOOP || r == -ENOTDIR)
                seterr(err, errlen, "%s: is not a real directory (planted symlink?); refusing, remove it", path);
        if (r < 0)
                return r;
        vfd = open_dir_at(dfd, DEPLOY_VERSIONS_DIR);
        if (vfd < 0) {
                seterr(err, errlen, "%s: cannot open: %s", path, strerror(-vfd));
                return vfd;
        }
        if (fstat(vfd, &st) < 0)
                return -errno;
        r = check_owner_mode(&st, path, false, err, errlen);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(vfd);
        return 0;
}

static int open_dirs(const conf_output *out, bool create, int *ret_dfd, int *ret_vfd, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        int r;

        if (!out)
                return -EINVAL;
        r = open_output_dir(out->dir, create, &dfd, err, errlen);
        if (r == -ENOENT)
                seterr(err, errlen, "%s: does not exist", out->dir);
        if (r < 0)
                return r;
        r = open_versions_dir(dfd, out->dir, create, &vfd, err, errlen);
        if (r == -ENOENT)
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": does not exist", out->dir);
        if (r < 0)
                return r;
        *ret_dfd = TAKE_FD(dfd);
        *ret_vfd = TAKE_FD(vfd);
        return 0;
}

/* Checks the version directory id below vfd: a real directory, safe owner and mode. */
static int check_version_dir(int vfd, const char *dir, const char *id, char *err, size_t errlen) {
        _cleanup_(freep) char *path = strprintf("%s/" DEPLOY_VERSIONS_DIR "/%s", dir, id);
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        r = check_is_dir(vfd, id, path, &st, err, errlen);
        if (r == -ENOENT)
                seterr(err, errlen, "%s: missing", path);
        if (r < 0)
                return r;
        return check_owner_mode(&st, path, false, err, errlen);
}

/* Reads current; buf gets the id, "" when absent. -ELOOP if it is not our symlink. */
static int read_current(int dfd, const char *dir, char id[static DEPLOY_ID_MAX], char *err, size_t errlen) {
        char buf[DEPLOY_ID_MAX + sizeof(DEPLOY_VERSIONS_DIR) + 2];
        struct stat st;
        ssize_t n;
        const char *pfx = DEPLOY_VERSIONS_DIR "/";

        if (fstatat(dfd, DEPLOY_CURRENT_LINK, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT) {
                        id[0] = 0;
                        return 0;
                }
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": %s", dir, strerror(errno));
                return -errno;
        }
        if (S_ISLNK(st.st_mode) && !owner_trusted(st.st_uid)) {
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": owned by uid %u, not by root or the agent; refusing, "
                       "remove it", dir, (unsigned) st.st_uid);
                return -EPERM;
        }
        n = readlinkat(dfd, DEPLOY_CURRENT_LINK, buf, sizeof(buf) - 1);
        if (n < 0 || (size_t) n >= sizeof(buf) - 1) {
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": is not a symlink made by acm-agent; refusing, remove it", dir);
                return -ELOOP;
        }
        buf[n] = 0;
        if (!strneq(buf, pfx, strlen(pfx)) || !id_valid(buf + strlen(pfx)) || id_is_operator(buf + strlen(pfx))) {
                seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": points to \"%s\", not into " DEPLOY_VERSIONS_DIR "; refusing, remove it",
                       dir, buf);
                return -ELOOP;
        }
        strcpy(id, buf + strlen(pfx));
        return 0;
}

static int symlink_replace(int dfd, const char *target, const char *name) {
        char tmp[128];
        uint8_t rnd[6];
        char hex[13];
        int r;

        r = random_bytes(rnd, sizeof(rnd));
        if (r < 0)
                return r;
        hex_encode(rnd, sizeof(rnd), hex);
        snprintf(tmp, sizeof(tmp), TEMP_FILE_PREFIX "%s-%s", name, hex);
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

typedef enum stable_state {
        STABLE_OK,        /* our symlink, nothing to do */
        STABLE_MISSING,   /* to be created */
        STABLE_OPERATOR,  /* a regular file someone left: kept aside, then our symlink */
} stable_state;

/* Checks a stable name. */
static int check_stable(int dfd, const char *dir, const char *fname, stable_state *ret, char *err, size_t errlen) {
        char want[64], buf[128];
        struct stat st;
        ssize_t n;

        snprintf(want, sizeof(want), DEPLOY_CURRENT_LINK "/%s", fname);
        if (fstatat(dfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT) {
                        seterr(err, errlen, "%s/%s: %s", dir, fname, strerror(errno));
                        return -errno;
                }
                *ret = STABLE_MISSING;
                return 0;
        }
        if (S_ISREG(st.st_mode)) {
                *ret = STABLE_OPERATOR;
                return 0;
        }
        if (S_ISLNK(st.st_mode)) {
                n = readlinkat(dfd, fname, buf, sizeof(buf) - 1);
                if (n >= 0 && (size_t) n < sizeof(buf) - 1) {
                        buf[n] = 0;
                        if (streq(buf, want)) {
                                *ret = STABLE_OK;
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
        int r;

        /* mode 0000 at creation, then the owner, then the final mode: no
         * window with wider bits, whatever the umask */
        fd = openat(ifd, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0)
                return -errno;
        if (fchown(fd, out->owner, out->group) < 0)
                return -errno;
        if (fchmod(fd, secret ? out->key_mode : out->mode) < 0)
                return -errno;
        r = write_all(fd, f->data, f->len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Removes the directory name below vfd and every file and symlink in it
 * (never following one; a subdirectory makes the rmdir fail: -ENOTEMPTY). */
static int remove_version(int vfd, const char *name) {
        int ifd = open_dir_at(vfd, name);
        DIR *d;
        struct dirent *de;

        if (ifd < 0)
                return ifd;
        d = fdopendir(ifd);
        if (!d) {
                int r = -errno;
                safe_close(ifd);
                return r;
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return unlinkat(vfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The version ids below vfd, sorted (oldest first); kept-aside directories
 * and temporaries are not versions. */
static int list_versions_fd(int vfd, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0, cap = 0;
        DIR *d;
        struct dirent *de;
        int fd;

        fd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        if (ARRAY_RESERVE(l, cap, 1) < 0) {
                closedir(d);
                return -ENOMEM;
        }
        l[0] = NULL;
        while ((de = readdir(d))) {
                struct stat st;

                if (!id_valid(de->d_name) || id_is_operator(de->d_name))
                        continue;
                if (de->d_type == DT_UNKNOWN) {
                        if (fstatat(vfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                                continue;
                } else if (de->d_type != DT_DIR)
                        continue;
                if (ARRAY_RESERVE(l, cap, n + 2) < 0 || !(l[n] = strdup(de->d_name))) {
                        closedir(d);
                        return -ENOMEM;
                }
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
                (void) remove_version(vfd, l[i]);
                others--;
        }
}

static void utc_stamp(char ts[static 32]) {
        time_t now = clock_now();
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(ts, 32, "%Y%m%dT%H%M%SZ", &tm);
}

static void make_id(const char *hint, char *buf, size_t len) {
        char h[17] = "", ts[32];
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
        utc_stamp(ts);
        /* a hint of "operator" must not make a version look kept aside */
        snprintf(buf, len, "%s-%s%s", ts, strcasecmp(h, "operator") == 0 ? "v" : "", h);
}

/*
 * Keeps the operator's regular files found at stable names aside: each is
 * hard-linked (renamed when a link is impossible) into a new
 * .versions/<timestamp>-operator/ directory (0700, never pruned), so the
 * stable symlink can then replace the name atomically. Appends what was done
 * to notice.
 */
static int keep_aside(int dfd, int vfd, const char *dir, const bool *aside, char *notice, size_t nlen, char *err,
                      size_t errlen) {
        _cleanup_(closep) int ofd = -1;
        char ts[32], id[DEPLOY_ID_MAX], names[256] = "";
        int r;

        utc_stamp(ts);
        snprintf(id, sizeof id, "%s" OPERATOR_SUFFIX, ts);
        for (unsigned k = 2;; k++) {
                r = mkdirat_mode(vfd, id, 0700);
                if (r >= 0)
                        break;
                if (r != -EEXIST || k > 1000) {
                        seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: cannot create: %s", dir, id, strerror(-r));
                        return r;
                }
                snprintf(id, sizeof id, "%s-%u" OPERATOR_SUFFIX, ts, k);
        }
        ofd = open_dir_at(vfd, id);
        if (ofd < 0)
                return ofd;
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                const char *f = file_table[i].name;

                if (!aside[i])
                        continue;
                if (linkat(dfd, f, ofd, f, 0) < 0) {
                        if (renameat(dfd, f, ofd, f) < 0) {
                                r = -errno;
                                seterr(err, errlen, "%s/%s: cannot keep the existing file aside in %s/"
                                       DEPLOY_VERSIONS_DIR "/%s: %s; nothing replaced", dir, f, dir, id, strerror(-r));
                                return r;
                        }
                }
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", f);
        }
        if (fsync(ofd) < 0 || fsync(vfd) < 0)
                return -errno;
        snprintf(notice, nlen, "%s: kept the existing %s aside in %s/" DEPLOY_VERSIONS_DIR "/%s/ (regular files where "
                 "the agent's symlinks go; never pruned: remove that directory when no longer needed)",
                 dir, names, dir, id);
        return 0;
}

int deploy_install(const conf_output *out, const char *name,
                   const deploy_file *files, size_t n, const char *version_hint,
                   deploy_result *ret, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1, ifd = -1;
        char prev[DEPLOY_ID_MAX], id[DEPLOY_ID_MAX], base[DEPLOY_ID_MAX - 8], tmp[DEPLOY_ID_MAX + 32];
        char notice[sizeof(ret->notice)] = "";
        stable_state state[ELEMENTSOF(file_table)] = {};
        bool aside[ELEMENTSOF(file_table)] = {}, any_aside = false;
        uint8_t rnd[6];
        char hex[13];
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
        if (prev[0]) {
                r = check_version_dir(vfd, out->dir, prev, err, errlen);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                if (!(seen & file_table[i].kind))
                        continue;
                r = check_stable(dfd, out->dir, file_table[i].name, &state[i], err, errlen);
                if (r < 0)
                        return r;
                aside[i] = state[i] == STABLE_OPERATOR;
                any_aside = any_aside || aside[i];
        }

        /* The new version is written under a temporary name and renamed to its
         * id once complete: a kill half-way leaves a temporary
         * (deploy_clean_temp), never an incomplete version to roll back to. */
        r = random_bytes(rnd, sizeof rnd);
        if (r < 0)
                return r;
        hex_encode(rnd, sizeof rnd, hex);
        make_id(version_hint, base, sizeof(base));
        snprintf(tmp, sizeof tmp, TEMP_FILE_PREFIX "%s-%s", base, hex);
        r = mkdirat_mode(vfd, tmp, 0755);
        if (r < 0) {
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: cannot create: %s", out->dir, tmp, strerror(-r));
                return r;
        }
        snprintf(id, sizeof(id), "%s", base);
        ifd = open_dir_at(vfd, tmp);
        if (ifd < 0) {
                r = ifd;
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
        if (fsync(ifd) < 0) {
                r = -errno;
                goto fail_errno;
        }
        for (unsigned k = 2;; k++) {
                if (renameat2(vfd, tmp, vfd, id, RENAME_NOREPLACE) >= 0)
                        break;
                if (errno != EEXIST || k > 1000) {
                        r = -errno;
                        goto fail_errno;
                }
                (void) snprintf(id, sizeof(id), "%.*s-%u", (int) (sizeof(base) - 1), base, k % 1000);
        }
        snprintf(tmp, sizeof tmp, "%s", id);  /* from here on, the failure path removes the version */
        if (fsync(vfd) < 0) {
                r = -errno;
                goto fail_errno;
        }
        testpoint_hit("deploy-written", name);
        if (any_aside) {
                r = keep_aside(dfd, vfd, out->dir, aside, notice, sizeof notice, err, errlen);
                if (r < 0)
                        goto fail;
        }
        r = switch_current(dfd, id);
        if (r < 0)
                goto fail_errno;

        /* stable names, after current points at a version holding the files */
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                char target[64];
                if (!(seen & file_table[i].kind) || state[i] == STABLE_OK)
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
        snprintf(ret->notice, sizeof(ret->notice), "%s", notice);
        return 0;

fail_errno:
        seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: %s; previous version keeps serving", out->dir, id, strerror(-r));
fail:
        ifd = safe_close(ifd);
        (void) remove_version(vfd, tmp);
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
        r = check_version_dir(vfd, out->dir, target, err, errlen);
        if (r < 0)
                return r;
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

        if (!out || !out->dir || !ret_id)
                return -EINVAL;
        r = open_output_dir(out->dir, false, &dfd, NULL, 0);
        if (r < 0)
                return r;
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

/* The peek of the output directory dir, relative to dirfd (or AT_FDCWD). */
static int current_peek_at(int dirfd, const char *dir, char **ret_id) {
        char buf[DEPLOY_ID_MAX + sizeof(DEPLOY_VERSIONS_DIR) + 2];
        const char *pfx = DEPLOY_VERSIONS_DIR "/";
        _cleanup_(freep) char *link = NULL;
        ssize_t n;

        if (!dir || !ret_id)
                return -EINVAL;
        link = strprintf("%s/" DEPLOY_CURRENT_LINK, dir);
        if (!link)
                return -ENOMEM;
        n = readlinkat(dirfd, link, buf, sizeof(buf) - 1);
        if (n < 0)
                return errno == EINVAL ? -ENOENT : -errno;
        if ((size_t) n >= sizeof(buf) - 1)
                return -ENOENT;
        buf[n] = 0;
        if (!strneq(buf, pfx, strlen(pfx)) || !id_valid(buf + strlen(pfx)) || id_is_operator(buf + strlen(pfx)))
                return -ENOENT;
        *ret_id = strdup(buf + strlen(pfx));
        return *ret_id ? 0 : -ENOMEM;
}

int deploy_current_peek(const conf_output *out, char **ret_id) {
        if (!out || !out->dir)
                return -EINVAL;
        return current_peek_at(AT_FDCWD, out->dir, ret_id);
}

int deploy_current_peek_in(deploy_peek_dir *d, const conf_output *out, char **ret_id) {
        const char *slash;
        size_t plen;

        if (!d || !out || !out->dir)
                return -EINVAL;
        slash = strrchr(out->dir, '/');
        if (!slash || slash == out->dir || !slash[1])
                return current_peek_at(AT_FDCWD, out->dir, ret_id);
        plen = (size_t) (slash - out->dir);
        if (!d->parent || strlen(d->parent) != plen || !strneq(d->parent, out->dir, plen)) {
                deploy_peek_dir_done(d);
                d->parent = strndup(out->dir, plen);
                if (!d->parent)
                        return -ENOMEM;
                /* a parent that cannot be opened: the whole path, each time */
                d->fd = open(d->parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (d->fd < 0)
                return current_peek_at(AT_FDCWD, out->dir, ret_id);
        return current_peek_at(d->fd, slash + 1, ret_id);
}

void deploy_peek_dir_done(deploy_peek_dir *d) {
        if (!d)
                return;
        d->parent = (free(d->parent), NULL);
        d->fd = safe_close(d->fd);
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

int deploy_version_remove(const conf_output *out, const char *id, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        char cur[DEPLOY_ID_MAX];
        int r;

        if (!out || !id || !id_valid(id)) {
                seterr(err, errlen, "deploy: \"%s\" is not a version id", id ? id : "");
                return -EINVAL;
        }
        r = open_dirs(out, false, &dfd, &vfd, err, errlen);
        if (r < 0)
                return r;
        r = read_current(dfd, out->dir, cur, err, errlen);
        if (r < 0)
                return r;
        if (streq(cur, id)) {
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: is the current version; not removed (deploy or roll "
                       "back to another one first)", out->dir, id);
                return -EBUSY;
        }
        r = check_version_dir(vfd, out->dir, id, err, errlen);
        if (r < 0)
                return r;
        r = remove_version(vfd, id);
        if (r < 0) {
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR "/%s: cannot remove: %s", out->dir, id, strerror(-r));
                return r;
        }
        if (fsync(vfd) < 0) {
                r = -errno;
                seterr(err, errlen, "%s/" DEPLOY_VERSIONS_DIR ": fsync: %s", out->dir, strerror(errno));
                return r;
        }
        return 0;
}

int deploy_check_dir(const conf_output *out, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        _cleanup_(strv_freep) char **l = NULL;
        char cur[DEPLOY_ID_MAX];
        int r;

        if (!out || !out->dir) {
                seterr(err, errlen, "deploy: invalid arguments");
                return -EINVAL;
        }
        r = open_output_dir(out->dir, false, &dfd, err, errlen);
        if (r == -ENOENT)
                return 0;  /* what exists was checked; the rest will be created */
        if (r < 0)
                return r;
        r = open_versions_dir(dfd, out->dir, false, &vfd, err, errlen);
        if (r < 0 && r != -ENOENT)
                return r;
        r = read_current(dfd, out->dir, cur, err, errlen);
        if (r < 0)
                return r;
        if (vfd >= 0) {
                r = list_versions_fd(vfd, &l);
                if (r < 0)
                        return r;
                for (char **i = l; *i; i++) {
                        r = check_version_dir(vfd, out->dir, *i, err, errlen);
                        if (r < 0)
                                return r;
                }
        }
        if (cur[0]) {
                if (vfd < 0) {
                        seterr(err, errlen, "%s/" DEPLOY_CURRENT_LINK ": points into a missing " DEPLOY_VERSIONS_DIR
                               "; refusing, remove it", out->dir);
                        return -ENOENT;
                }
                r = check_version_dir(vfd, out->dir, cur, err, errlen);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                stable_state st;

                if (!(out->files & file_table[i].kind))
                        continue;
                r = check_stable(dfd, out->dir, file_table[i].name, &st, err, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

int deploy_clean_temp(const conf_output *out, char *err, size_t errlen) {
        _cleanup_(closep) int dfd = -1, vfd = -1;
        _cleanup_(strv_freep) char **l = NULL;
        DIR *d;
        struct dirent *de;
        int r, n = 0, fd;

        if (!out || !out->dir) {
                seterr(err, errlen, "deploy: invalid arguments");
                return -EINVAL;
        }
        r = open_output_dir(out->dir, false, &dfd, err, errlen);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = clean_temp_files(dfd);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot clean temporary files: %s", out->dir, strerror(-r));
                return r;
        }
        n += r;
        r = open_versions_dir(dfd, out->dir, false, &vfd, err, errlen);
        if (r == -ENOENT)
                return n;
        if (r < 0)
                return r;
        /* half-written version directories, then temporaries inside versions */
        fd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (is_temp_file_name(de->d_name)) {
                        if (remove_version(vfd, de->d_name) >= 0 || unlinkat(vfd, de->d_name, 0) >= 0)
                                n++;
                }
        closedir(d);
        r = list_versions_fd(vfd, &l);
        if (r < 0)
                return r;
        for (char **i = l; *i; i++) {
                _cleanup_(closep) int ifd = open_dir_at(vfd, *i);
                if (ifd < 0)
                        continue;
                r = clean_temp_files(ifd);
                if (r > 0)
                        n += r;
        }
        return n;
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
         * every version: a reader sees the files go, never a mix; the
         * operator's own files and the ones kept aside stay */
        for (size_t i = 0; i < ELEMENTSOF(file_table); i++) {
                stable_state s;
                if (check_stable(dfd, out->dir, file_table[i].name, &s, NULL, 0) >= 0 && s == STABLE_OK)
                        (void) unlinkat(dfd, file_table[i].name, 0);
        }
        if (cur[0])
                (void) unlinkat(dfd, DEPLOY_CURRENT_LINK, 0);
        r = list_versions_fd(vfd, &l);
        if (r < 0)
                return r;
        for (char **v = l; *v; v++)
                (void) remove_version(vfd, *v);
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
