/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths and files for the loader: lexical normalisation and the canonical
 * form in which output directories and drop-ins are compared, and a reader
 * that refuses anything but a regular file without ever blocking (a FIFO)
 * or opening a device.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

int conf_path_normalize(const char *p, char **ret) {
        _cleanup_(freep) char *abs = NULL, *out = NULL;
        size_t o = 0;

        if (!p || !*p)
                return -EINVAL;
        if (p[0] != '/') {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return -errno;
                abs = path_join(cwd, p);
        } else
                abs = strdup(p);
        if (!abs)
                return -ENOMEM;
        out = malloc(strlen(abs) + 2);
        if (!out)
                return -ENOMEM;

        /* Components one by one: "" and "." vanish, ".." drops the previous one. */
        for (const char *s = abs; *s;) {
                size_t l;
                while (*s == '/')
                        s++;
                l = strcspn(s, "/");
                if (l == 0)
                        break;
                if (l == 1 && s[0] == '.')
                        ;
                else if (l == 2 && s[0] == '.' && s[1] == '.') {
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;   /* the '/' before it */
                } else {
                        out[o++] = '/';
                        memcpy(out + o, s, l);
                        o += l;
                }
                s += l;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int conf_path_canonical(const char *p, char **ret) {
        _cleanup_(freep) char *n = NULL;
        size_t cut;
        int r;

        r = conf_path_normalize(p, &n);
        if (r < 0)
                return r;
        /* The longest existing prefix, resolved; the rest as written. */
        cut = strlen(n);
        for (;;) {
                char saved = n[cut];
                char resolved[PATH_MAX];
                n[cut] = 0;
                bool ok = realpath(cut == 0 ? "/" : n, resolved) != NULL;
                n[cut] = saved;
                if (ok) {
                        char *out;
                        const char *rest = n + cut;
                        if (streq(resolved, "/") && *rest)
                                out = strdup(rest);
                        else
                                out = strprintf("%s%s", resolved, rest);
                        if (!out)
                                return -ENOMEM;
                        *ret = out;
                        return 0;
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                if (cut == 0)
                        return -ENOENT;
                while (cut > 0 && n[cut - 1] != '/')
                        cut--;
                if (cut > 0)
                        cut--;   /* drop the '/' too */
        }
}

int conf_path_canonical_cached(const char *p, conf_path_cache *cache, char **ret) {
        mode_t type;
        int sr;

        return conf_path_canonical_stat(p, cache, ret, &type, &sr);
}

/* stat(2) of p as 0 or -errno, its file type into *type. */
static int stat_type(const char *p, mode_t *type) {
        struct stat st;

        if (stat(p, &st) < 0)
                return -errno;
        *type = st.st_mode & S_IFMT;
        return 0;
}

struct conf_dir_entry {
        char *name;
        unsigned char d_type;
};

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const conf_dir_entry *) a)->name, ((const conf_dir_entry *) b)->name);
}

/* cache->canon's entries into cache->entries, sorted; listed = 1, or -1
 * when it cannot be read (then every child is lstat'ed, as before). */
static int list_parent(conf_path_cache *cache) {
        DIR *d = opendir(cache->canon);
        struct dirent *de;
        size_t cap = 0;

        cache->listed = -1;
        if (!d)
                return errno == ENOMEM ? -ENOMEM : 0;
        while ((errno = 0, de = readdir(d))) {
                if (cache->n_entries == cap) {
                        size_t n = cap ? cap * 2 : 64;
                        conf_dir_entry *e = realloc(cache->entries, n * sizeof(*e));
                        if (!e)
                                break;
                        cache->entries = e;
                        cap = n;
                }
                char *name = strdup(de->d_name);
                if (!name)
                        break;
                cache->entries[cache->n_entries++] = (conf_dir_entry) { .name = name, .d_type = de->d_type };
        }
        if (de || errno != 0) {  /* out of memory, or a read error: lstat each */
                closedir(d);
                return 0;
        }
        closedir(d);
        qsort(cache->entries, cache->n_entries, sizeof(conf_dir_entry), entry_cmp);
        cache->listed = 1;
        return 0;
}

/* The type of canon/name from the listing: 0 with *type, -ENOENT when it
 * is not there, 1 when the listing cannot tell (a symlink, or a file
 * system that leaves the type out): lstat(2) it. */
static int listed_type(const conf_path_cache *cache, const char *name, mode_t *type) {
        const conf_dir_entry key = { .name = (char *) name }, *e;

        e = bsearch(&key, cache->entries, cache->n_entries, sizeof(conf_dir_entry), entry_cmp);
        if (!e)
                return -ENOENT;
        switch (e->d_type) {
        case DT_DIR: *type = S_IFDIR; return 0;
        case DT_REG: *type = S_IFREG; return 0;
        case DT_FIFO: *type = S_IFIFO; return 0;
        case DT_SOCK: *type = S_IFSOCK; return 0;
        case DT_CHR: *type = S_IFCHR; return 0;
        case DT_BLK: *type = S_IFBLK; return 0;
        default: return 1;
        }
}

int conf_path_canonical_stat(const char *p, conf_path_cache *cache, char **ret, mode_t *ret_type, int *ret_stat_r) {
        _cleanup_(freep) char *n = NULL, *full = NULL;
        struct stat st;
        mode_t type = 0;
        char *slash;
        int r;

        r = conf_path_normalize(p, &n);
        if (r < 0)
                return r;
        slash = strrchr(n, '/');
        if (!slash || slash == n) {
                /* "/" or "/x": nothing to share */
                r = conf_path_canonical(n, &full);
                if (r < 0)
                        return r;
                *ret_stat_r = stat_type(full, ret_type);
                *ret = TAKE_PTR(full);
                return 0;
        }
        *slash = 0;
        if (!cache->parent || !streq(cache->parent, n)) {
                _cleanup_(freep) char *parent = strdup(n), *canon = NULL;
                if (!parent)
                        return -ENOMEM;
                r = conf_path_canonical(parent, &canon);
                if (r < 0)
                        return r;
                conf_path_cache_done(cache);
                cache->parent = TAKE_PTR(parent);
                cache->canon = TAKE_PTR(canon);
        }
        *slash = '/';
        full = strprintf("%s/%s", streq(cache->canon, "/") ? "" : cache->canon, slash + 1);
        if (!full)
                return -ENOMEM;
        /* the parent's symlinks are resolved; the last component only
         * matters when it is a symlink itself */
        if (cache->listed == 0 && ++cache->lookups >= 2) {
                r = list_parent(cache);
                if (r < 0)
                        return r;
        }
        r = cache->listed > 0 ? listed_type(cache, slash + 1, &type) : 1;
        if (r == 1) {
                r = lstat(full, &st) < 0 ? -errno : 0;
                type = st.st_mode & S_IFMT;
        }
        if (r == 0 && S_ISLNK(type)) {
                free(full);
                full = NULL;
                r = conf_path_canonical(n, &full);
                if (r < 0)
                        return r;
                r = stat_type(full, &type);
        }
        *ret_stat_r = r;
        if (r == 0)
                *ret_type = type;
        *ret = TAKE_PTR(full);
        return 0;
}

void conf_path_cache_done(conf_path_cache *cache) {
        cache->parent = (free(cache->parent), NULL);
        cache->canon = (free(cache->canon), NULL);
        for (size_t i = 0; i < cache->n_entries; i++)
                free(cache->entries[i].name);
        cache->entries = (free(cache->entries), NULL);
        cache->n_entries = 0;
        cache->lookups = 0;
        cache->listed = 0;
}

const char *conf_path_virtual(const char *p) {
        static const char *const roots[] = { "/proc", "/sys", "/dev" };
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                size_t l = strlen(roots[i]);
                if (strneq(p, roots[i], l) && (p[l] == 0 || p[l] == '/'))
                        return roots[i];
        }
        return NULL;
}

/* 0 for a regular file; else -EISDIR or -ENODEV, and *why names the kind. */
static int regular_or_why(const struct stat *st, const char **why) {
        if (S_ISREG(st->st_mode))
                return 0;
        *why = file_kind_string(st->st_mode);
        return S_ISDIR(st->st_mode) ? -EISDIR : -ENODEV;
}

int conf_open_regular_file(const char *path, size_t max, const char **why) {
        _cleanup_(closep) int fd = -1;
        struct stat st;
        int r;

        /* stat first: opening a device can have effects (a tape rewinds). */
        if (stat(path, &st) < 0)
                return -errno;
        r = regular_or_why(&st, why);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        /* It may have been replaced between stat and open. */
        if (fstat(fd, &st) < 0)
                return -errno;
        r = regular_or_why(&st, why);
        if (r < 0)
                return r;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        return TAKE_FD(fd);
}

int conf_regular_file_contains(const char *path, size_t max, const char *needle, const char **why) {
        _cleanup_(closep) int fd = -1;
        char buf[16384];
        size_t n = strlen(needle), keep = 0, total = 0;

        if (n == 0 || n >= sizeof(buf) / 2)
                return -EINVAL;
        fd = conf_open_regular_file(path, max, why);
        if (fd < 0)
                return fd;
        /* Chunk by chunk, the last n - 1 bytes of one kept before the
         * next: a needle across two reads is found too. */
        for (;;) {
                ssize_t k = read(fd, buf + keep, sizeof(buf) - keep);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return 0;
                total += (size_t) k;
                if (total > max)
                        return -EFBIG;
                size_t len = keep + (size_t) k;
                if (memmem(buf, len, needle, n))
                        return 1;
                keep = len < n - 1 ? len : n - 1;
                memmove(buf, buf + len - keep, keep);
        }
}
