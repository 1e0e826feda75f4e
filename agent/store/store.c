/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "store/store-keys.h"
#include "store/store.h"

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"

static void seterr(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;

        if (!err || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

bool store_name_valid(const char *name) {
        return conf_cert_name_valid(name);
}

/* mkdir that does not depend on the umask: the mode is set explicitly. A
 * directory that exists is left as it is (checked by the caller). */
static int mkdir_mode(const char *p, mode_t mode) {
        if (mkdir(p, mode) < 0)
                return errno == EEXIST ? 0 : -errno;
        if (chmod(p, mode) < 0)
                return -errno;
        return 0;
}

/* A directory of ours: real (no symlink), owned by the euid, no write for
 * group or others. */
static int check_own_dir(const char *p, char *err, size_t errlen) {
        struct stat st;

        if (lstat(p, &st) < 0) {
                int r = -errno;
                seterr(err, errlen, "%s: %s", p, strerror(errno));
                return r;
        }
        if (S_ISLNK(st.st_mode)) {
                seterr(err, errlen, "%s: is a symlink; the state directory must be a real directory (remove the link)", p);
                return -ELOOP;
        }
        if (!S_ISDIR(st.st_mode)) {
                seterr(err, errlen, "%s: is not a directory (state_dir must name a directory)", p);
                return -ENOTDIR;
        }
        if (st.st_uid != geteuid()) {
                seterr(err, errlen, "%s: is owned by uid %u, not by the agent (uid %u): someone else could change "
                       "the state or the keys (chown %u %s)", p, (unsigned) st.st_uid, (unsigned) geteuid(),
                       (unsigned) geteuid(), p);
                return -EPERM;
        }
        if (st.st_mode & 0022) {
                seterr(err, errlen, "%s: is writable by group or others (mode %04o); refusing to keep keys there "
                       "(chmod 0700 %s)", p, (unsigned) (st.st_mode & 07777), p);
                return -EPERM;
        }
        return 0;
}

int store_prepare(const char *state_dir, char *err, size_t errlen) {
        _cleanup_(freep) char *certs = NULL, *parent = NULL;
        struct stat st;
        char *slash;
        int r;

        if (isempty(state_dir) || state_dir[0] != '/') {
                seterr(err, errlen, "state_dir \"%s\" must be an absolute path", state_dir ? state_dir : "");
                return -EINVAL;
        }
        if (streq(state_dir, "/") || strspn(state_dir, "/") == strlen(state_dir)) {
                seterr(err, errlen, "state_dir \"/\" is refused: point it at a directory of its own (e.g. /var/lib/acm-agent)");
                return -EINVAL;
        }
        /* the parent must not let others swap the directory */
        parent = strdup(state_dir);
        if (!parent)
                return -ENOMEM;
        while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
                parent[strlen(parent) - 1] = 0;
        slash = strrchr(parent, '/');
        if (slash == parent)
                parent[1] = 0;
        else if (slash)
                *slash = 0;
        if (stat(parent, &st) == 0 && (st.st_mode & 0002) && !(st.st_mode & S_ISVTX)) {
                seterr(err, errlen, "%s: the parent of state_dir is writable by everyone (mode %04o): anyone could "
                       "replace the state directory (chmod o-w %s)", parent, (unsigned) (st.st_mode & 07777), parent);
                return -EPERM;
        }
        r = mkdir_mode(state_dir, 0700);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot create the state directory: %s", state_dir, strerror(-r));
                return r;
        }
        r = check_own_dir(state_dir, err, errlen);
        if (r < 0)
                return r;
        certs = path_join(state_dir, "certs");
        if (!certs)
                return -ENOMEM;
        r = mkdir_mode(certs, 0700);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot create: %s", certs, strerror(-r));
                return r;
        }
        return check_own_dir(certs, err, errlen);
}

char *store_cert_dir(const char *state_dir, const char *name) {
        if (!store_name_valid(name) || isempty(state_dir))
                return NULL;
        return strprintf("%s/certs/%s", state_dir, name);
}

static char *cert_file(const char *state_dir, const char *name, const char *file) {
        if (!store_name_valid(name) || isempty(state_dir))
                return NULL;
        return strprintf("%s/certs/%s/%s", state_dir, name, file);
}

/* Creates certs/<name>/ (0700) when missing. */
static int cert_dir_create(const char *state_dir, const char *name) {
        _cleanup_(freep) char *certs = path_join(state_dir, "certs"), *d = store_cert_dir(state_dir, name);
        struct stat st;
        int r;

        if (!certs || !d)
                return d || !store_name_valid(name) ? -ENOMEM : -EINVAL;
        r = mkdir_mode(certs, 0700);
        if (r < 0)
                return r;
        r = mkdir_mode(d, 0700);
        if (r < 0)
                return r;
        if (lstat(d, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return 0;
}

/* ---- layout 1 ---- */

static char *v1_file(const char *state_dir, const char *sub, const char *name, const char *suffix) {
        if (!store_name_valid(name) || isempty(state_dir))
                return NULL;
        return strprintf("%s/%s/%s%s", state_dir, sub, name, suffix);
}

/* The state file certs/REL of state_dir: opened relative to certs_fd,
 * or by its full path (AT_FDCWD); messages name the full path. */
static int load_text(int certs_fd, const char *state_dir, const char *rel, cert_state **ret, char **ret_error) {
        _cleanup_(freep) char *buf = NULL, *why = NULL, *full = NULL;
        size_t len;
        int r, k;

        if (certs_fd == AT_FDCWD && !(full = strprintf("%s/certs/%s", state_dir, rel)))
                return -ENOMEM;
        r = read_full_file_at(certs_fd, full ? full : rel, STORE_STATE_MAX, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r >= 0) {
                r = cert_state_from_text(buf, len, ret, &why);
                if (r != -EBADMSG && r != -EPROTONOSUPPORT)
                        return r;
        }
        if (!ret_error)
                return r;
        /* the full path for the message, built only now */
        if (!full && !(full = strprintf("%s/certs/%s", state_dir, rel)))
                return r;  /* no memory for a message: the error stands without one */
        if (r == -EBADMSG)
                k = asprintf(ret_error, "%s: corrupt state file (%s); move it aside to start this certificate afresh",
                             full, why ? why : "out of memory");
        else if (r == -EPROTONOSUPPORT)
                k = asprintf(ret_error, "%s: %s", full, why ? why : "newer schema");
        else
                k = asprintf(ret_error, "%s: cannot read the state file: %s", full,
                             r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        if (k < 0)
                *ret_error = NULL;
        return r;
}

int store_load(const char *state_dir, const char *name, cert_state **ret, char **ret_error) {
        return store_load_at(AT_FDCWD, state_dir, name, ret, ret_error);
}

int store_certs_open(const char *state_dir) {
        _cleanup_(freep) char *c = path_join(state_dir, "certs");
        int fd;

        if (!c)
                return -ENOMEM;
        fd = open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int store_load_at(int certs_fd, const char *state_dir, const char *name, cert_state **ret, char **ret_error) {
        _cleanup_(freep) char *rel = NULL;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!store_name_valid(name) || isempty(state_dir))
                return -EINVAL;
        /* relative to certs_fd: the state directory's path is not walked
         * again for each of a thousand certificates */
        if (!(rel = strprintf("%s/" STATE_FILE, name)))
                return -ENOMEM;
        r = load_text(certs_fd, state_dir, rel, ret, ret_error);
        if (r != -ENOENT)
                return r;
        free(rel);
        if (!(rel = strprintf("%s.json", name)))  /* layout 1 */
                return -ENOMEM;
        return load_text(certs_fd, state_dir, rel, ret, ret_error);
}

int store_save_text(const char *state_dir, const char *name, const char *text) {
        _cleanup_(freep) char *p = cert_file(state_dir, name, STATE_FILE);
        int r;

        if (!p || !text)
                return -EINVAL;
        r = cert_dir_create(state_dir, name);
        if (r < 0)
                return r;
        return write_file_atomic(p, text, strlen(text), 0600, (uid_t) -1, (gid_t) -1);
}

int store_save(const char *state_dir, const char *name, const cert_state *s) {
        _cleanup_(freep) char *text = NULL;
        int r = cert_state_to_text(s, &text);

        if (r < 0)
                return r;
        return store_save_text(state_dir, name, text);
}

int store_lock(const char *state_dir, const char *name, bool wait, int *ret_fd) {
        _cleanup_(freep) char *p = cert_file(state_dir, name, LOCK_FILE);
        _cleanup_(closep) int fd = -1;
        char buf[32];
        int r, n;

        if (!p)
                return -EINVAL;
        r = cert_dir_create(state_dir, name);
        if (r < 0)
                return r;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
                return errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
        n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_lock_holder(const char *state_dir, const char *name, pid_t *ret_pid) {
        _cleanup_(freep) char *p = cert_file(state_dir, name, LOCK_FILE), *buf = NULL;
        int64_t v;
        size_t len;
        int r;

        if (!p)
                return -EINVAL;
        r = read_full_file(p, 64, &buf, &len);
        if (r < 0)
                return r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        if (parse_int64(buf, &v) < 0 || v <= 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret_pid = (pid_t) v;
        return 0;
}

/* Moves a layout-1 key file into the certificate's directory. */
static int move_key(const char *from, const char *to) {
        if (rename(from, to) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int store_migrate(const char *state_dir, const char *name, char *err, size_t errlen) {
        _cleanup_(freep) char *old = NULL, *oldlock = NULL, *okey = NULL, *opend = NULL, *nkey = NULL,
                              *npend = NULL, *why = NULL, *p = NULL, *d = NULL;
        _cleanup_(cert_state_freep) cert_state *s = NULL;
        _cleanup_(json_decrefp) json_t *o = NULL;
        _cleanup_(freep) char *buf = NULL;
        bool had_pending;
        size_t len;
        int r;

        p = cert_file(state_dir, name, STATE_FILE);
        old = v1_file(state_dir, "certs", name, ".json");
        oldlock = v1_file(state_dir, "certs", name, ".lock");
        okey = v1_file(state_dir, "keys", name, ".pem");
        opend = v1_file(state_dir, "keys", name, ".pending.pem");
        nkey = cert_file(state_dir, name, "key.pem");
        npend = cert_file(state_dir, name, "key.pending.pem");
        d = store_cert_dir(state_dir, name);
        if (!p || !old || !oldlock || !okey || !opend || !nkey || !npend || !d)
                return store_name_valid(name) ? -ENOMEM : -EINVAL;
        if (access(p, F_OK) == 0)
                return 0;
        r = read_full_file(old, STORE_STATE_MAX, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                seterr(err, errlen, "%s: cannot read the old state file: %s", old, strerror(-r));
                return r;
        }
        r = cert_state_from_text(buf, len, &s, &why);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot migrate the state file: %s; move it aside to start this certificate "
                       "afresh", old, why ? why : strerror(-r));
                return r;
        }
        /* the pending key belongs to this certificate only when its state
         * said so (keys/web.pending.pem is also the key of "web.pending") */
        o = json_loadb(buf, len, 0, NULL);
        had_pending = o && json_is_string(json_object_get(o, "pending_key_path"));
        r = cert_dir_create(state_dir, name);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot create: %s", d, strerror(-r));
                return r;
        }
        r = move_key(okey, nkey);
        if (r >= 0 && had_pending)
                r = move_key(opend, npend);
        if (r < 0) {
                seterr(err, errlen, "cannot move the keys of %s into %s: %s", name, d, strerror(-r));
                return r;
        }
        r = store_save(state_dir, name, s);
        if (r < 0) {
                seterr(err, errlen, "%s: cannot write the migrated state: %s", p, strerror(-r));
                return r;
        }
        (void) unlink(old);
        (void) unlink(oldlock);
        (void) fsync_parent_dir(old);
        return 1;
}

static bool temp_name(const char *n) {
        return strneq(n, STORE_TEMP_PREFIX, strlen(STORE_TEMP_PREFIX)) || strstr(n, ".tmp-") != NULL;
}

int store_clean_temp(const char *state_dir, const char *name) {
        _cleanup_(freep) char *d = store_cert_dir(state_dir, name);
        DIR *dir;
        struct dirent *de;
        int n = 0, dfd;

        if (!d)
                return -EINVAL;
        dir = opendir(d);
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        dfd = dirfd(dir);
        while ((de = readdir(dir))) {
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || !temp_name(de->d_name))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) == 0)
                        n++;
        }
        closedir(dir);
        return n;
}

static bool serial_valid(const char *serial) {
        size_t n = serial ? strlen(serial) : 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((serial[i] >= '0' && serial[i] <= '9') || (serial[i] >= 'A' && serial[i] <= 'F')))
                        return false;
        return true;
}

static char *pem_path(const char *state_dir, const char *name, const char *serial) {
        _cleanup_(freep) char *f = serial_valid(serial) ? strprintf("%s.crt", serial) : NULL;
        return f ? cert_file(state_dir, name, f) : NULL;
}

int store_pem_save(const char *state_dir, const char *name, const char *serial, const char *cert_pem,
                   const char *chain_pem) {
        _cleanup_(freep) char *p = pem_path(state_dir, name, serial), *text = NULL;
        int r;

        if (!p || !cert_pem)
                return -EINVAL;
        if (access(p, F_OK) == 0)
                return 0;
        r = cert_dir_create(state_dir, name);
        if (r < 0)
                return r;
        text = strprintf("%s%s", cert_pem, chain_pem ? chain_pem : "");
        if (!text)
                return -ENOMEM;
        return write_file_atomic(p, text, strlen(text), 0644, (uid_t) -1, (gid_t) -1);
}

int store_pem_load(const char *state_dir, const char *name, const char *serial, char **ret_cert, char **ret_chain) {
        _cleanup_(freep) char *p = pem_path(state_dir, name, serial), *buf = NULL, *cert = NULL, *chain = NULL;
        static const char end[] = "-----END CERTIFICATE-----";
        char *e;
        int r;

        if (!p)
                return -EINVAL;
        r = read_full_file(p, 256 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        e = strstr(buf, end);
        if (!e)
                return -EBADMSG;
        e += strlen(end);
        if (*e == '\n')
                e++;
        cert = strndup(buf, (size_t) (e - buf));
        if (!cert)
                return -ENOMEM;
        if (*e && !(chain = strdup(e)))
                return -ENOMEM;
        *ret_cert = TAKE_PTR(cert);
        *ret_chain = TAKE_PTR(chain);
        return 0;
}

bool store_pem_exists(const char *state_dir, const char *name, const char *serial) {
        _cleanup_(freep) char *p = pem_path(state_dir, name, serial);
        return p && access(p, F_OK) == 0;
}

int store_pem_gc(const char *state_dir, const char *name, const char *const *keep, size_t n_keep) {
        _cleanup_(freep) char *d = store_cert_dir(state_dir, name);
        DIR *dir;
        struct dirent *de;
        int n = 0, dfd;

        if (!d)
                return -EINVAL;
        dir = opendir(d);
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        dfd = dirfd(dir);
        while ((de = readdir(dir))) {
                size_t len = strlen(de->d_name);
                bool kept = false;
                if (len < 5 || !streq(de->d_name + len - 4, ".crt"))
                        continue;
                for (size_t i = 0; i < n_keep && !kept; i++)
                        kept = keep[i] && strlen(keep[i]) == len - 4 && strneq(keep[i], de->d_name, len - 4);
                if (!kept && unlinkat(dfd, de->d_name, 0) == 0)
                        n++;
        }
        closedir(dir);
        return n;
}

int store_remove(const char *state_dir, const char *name) {
        static const char *const files[] = { STATE_FILE, LOCK_FILE };
        _cleanup_(freep) char *d = store_cert_dir(state_dir, name);
        int r;

        if (!d)
                return -EINVAL;
        r = store_clean_temp(state_dir, name);
        if (r < 0 && r != -ENOENT)
                return r;
        r = store_pem_gc(state_dir, name, NULL, 0);
        if (r < 0)
                return r;
        /* the keys through the keystore, which wipes them */
        if ((r = store_key_delete(state_dir, name, STORE_KEY_PENDING)) < 0 ||
            (r = store_key_delete(state_dir, name, STORE_KEY_SERVED)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(freep) char *f = cert_file(state_dir, name, files[i]);
                if (!f)
                        return -ENOMEM;
                if (unlink(f) < 0 && errno != ENOENT)
                        return -errno;
        }
        if (rmdir(d) < 0 && errno != ENOENT)
                return -errno;
        return fsync_parent_dir(d);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* store_list(); checked: a directory counts only when it holds a state file. */
static int list_names(const char *state_dir, bool checked, char ***ret) {
        _cleanup_(freep) char *c = path_join(state_dir, "certs");
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0, cap = 8;
        DIR *d;
        struct dirent *de;

        if (!c)
                return -ENOMEM;
        l = calloc(cap, sizeof(char *));
        if (!l)
                return -ENOMEM;
        d = opendir(c);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_(freep) char *name = NULL;
                size_t len = strlen(de->d_name);

                if ((de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) && !checked)
                        name = strdup(de->d_name);
                else if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
                        _cleanup_(freep) char *f = strprintf("%s/%s/" STATE_FILE, c, de->d_name);
                        if (!f) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        if (access(f, F_OK) == 0)
                                name = strdup(de->d_name);
                }
                if (!name && len > 5 && streq(de->d_name + len - 5, ".json"))
                        name = strndup(de->d_name, len - 5);
                if (!name || !store_name_valid(name))
                        continue;
                if (n + 1 >= cap) {
                        char **nl = realloc(l, cap * 2 * sizeof(char *));
                        if (!nl) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        l = nl;
                        cap *= 2;
                }
                l[n++] = TAKE_PTR(name);
                l[n] = NULL;
        }
        closedir(d);
        qsort(l, n, sizeof(char *), cmp_str);
        /* a name with a state in both layouts is listed once */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && streq(l[k - 1], l[i])) {
                        free(l[i]);
                        continue;
                }
                l[k++] = l[i];
        }
        l[k] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

int store_list(const char *state_dir, char ***ret) {
        return list_names(state_dir, true, ret);
}

int store_list_candidates(const char *state_dir, char ***ret) {
        return list_names(state_dir, false, ret);
}
