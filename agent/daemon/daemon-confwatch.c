/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/util.h"
#include "daemon/daemon-confwatch.h"

/* What a directory watch reports: every way a file in it can change, and
 * the directory itself going away. Reads (IN_ACCESS, IN_CLOSE_NOWRITE) are
 * not asked for: the agent reading its configuration wakes nothing. */
#define DIR_MASK                                                                                            \
        (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |                 \
         IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define SELF_GONE (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)
#define MAX_HOPS 40

/* ---- the shared core: an inotify fd, its directory watches, the debounce ---- */

typedef struct wentry {
        int wd;
        char *path; /* the directory as we spelled it when adding the watch */
} wentry;

typedef struct want {
        char *path;
        bool fallback; /* missing: watch the nearest existing ancestor instead */
} want;

typedef struct wantlist {
        want *items;
        size_t n;
} wantlist;

typedef struct watchset watchset;
struct watchset {
        int fd;
        sd_event_source *io, *timer;
        wentry *entries;
        size_t n_entries;
        uint64_t debounce;
        uint64_t first; /* monotonic time of the burst's first relevant event */
        bool pending;
        int error; /* first watch failure since the last callback */
        /* The owner: directories wanted now, what an event means, the callback. */
        int (*collect)(watchset *ws, wantlist *l);
        bool (*event)(watchset *ws, const char *dir, const char *name, uint32_t mask);
        void (*fire)(watchset *ws, int error);
};

static void wantlist_done(wantlist *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].path);
        free(l->items);
        *l = (wantlist){};
}

static int wantlist_add(wantlist *l, const char *path, bool fallback) {
        want *n;

        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].path, path)) {
                        l->items[i].fallback |= fallback;
                        return 0;
                }
        if (l->n >= DAEMON_CONFWATCH_MAX_DIRS)
                return -E2BIG;
        n = reallocarray(l->items, l->n + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        l->items = n;
        n[l->n].path = strdup(path);
        if (!n[l->n].path)
                return -ENOMEM;
        n[l->n++].fallback = fallback;
        return 0;
}

static void entries_free(wentry *e, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(e[i].path);
        free(e);
}

static bool entries_have_wd(const wentry *e, size_t n, int wd) {
        for (size_t i = 0; i < n; i++)
                if (e[i].wd == wd)
                        return true;
        return false;
}

static bool entries_have(const wentry *e, size_t n, int wd, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (e[i].wd == wd && streq(e[i].path, path))
                        return true;
        return false;
}

/* The parent of an absolute path, in place ("/a/b" -> "/a", "/a" -> "/").
 * Returns false at the root. */
static bool parent_dir(char *p) {
        char *s = strrchr(p, '/');

        if (!s || streq(p, "/"))
                return false;
        if (s == p)
                s[1] = '\0';
        else
                *s = '\0';
        return true;
}

/* A malloc'd dirname of an absolute path. */
static char *dir_of(const char *path) {
        char *d = strdup(path);

        if (d)
                (void) parent_dir(d);
        return d;
}

/*
 * Makes the watches match what the owner wants now, all or nothing: on
 * failure the watches added here are removed and the previous set stays.
 * Sets *ret_added when a (wd, directory) pair is new.
 */
static int watchset_sync(watchset *ws, bool *ret_added) {
        _cleanup_(wantlist_done) wantlist l = {};
        wentry *ne = NULL;
        size_t nn = 0;
        bool added = false;
        int r;

        r = ws->collect(ws, &l);
        if (r < 0)
                return r;
        ne = calloc(l.n ?: 1, sizeof *ne);
        if (!ne)
                return -ENOMEM;
        for (size_t i = 0; i < l.n && r >= 0; i++) {
                _cleanup_(freep) char *p = strdup(l.items[i].path);
                int wd;

                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                for (;;) {
                        wd = inotify_add_watch(ws->fd, p, DIR_MASK);
                        if (wd >= 0)
                                break;
                        if (errno != ENOENT && errno != ENOTDIR) {
                                r = log_debug_errno(errno, "inotify_add_watch(%s): %m", p);
                                break;
                        }
                        if (!l.items[i].fallback || !parent_dir(p))
                                break;
                }
                if (wd < 0)
                        continue;
                if (entries_have(ne, nn, wd, p))
                        continue;
                ne[nn++] = (wentry){.wd = wd, .path = TAKE_PTR(p)};
                if (!entries_have(ws->entries, ws->n_entries, wd, ne[nn - 1].path))
                        added = true;
        }
        if (r < 0) {
                for (size_t i = 0; i < nn; i++)
                        if (!entries_have_wd(ws->entries, ws->n_entries, ne[i].wd) &&
                            !entries_have_wd(ne, i, ne[i].wd))
                                (void) inotify_rm_watch(ws->fd, ne[i].wd);
                entries_free(ne, nn);
                return r;
        }
        for (size_t i = 0; i < ws->n_entries; i++)
                if (!entries_have_wd(ne, nn, ws->entries[i].wd) &&
                    !entries_have_wd(ws->entries, i, ws->entries[i].wd))
                        /* EINVAL when the kernel dropped it already (directory gone). */
                        (void) inotify_rm_watch(ws->fd, ws->entries[i].wd);
        entries_free(ws->entries, ws->n_entries);
        ws->entries = ne;
        ws->n_entries = nn;
        if (ret_added)
                *ret_added = added;
        return 0;
}

static void watchset_bump(watchset *ws) {
        uint64_t now = 0, deadline;
        int r;

        (void) sd_event_now(sd_event_source_get_event(ws->timer), CLOCK_MONOTONIC, &now);
        if (!ws->pending) {
                ws->pending = true;
                ws->first = now;
        }
        deadline = now + ws->debounce;
        if (deadline > ws->first + 10 * ws->debounce)
                deadline = ws->first + 10 * ws->debounce;
        r = sd_event_source_set_time(ws->timer, deadline);
        if (r >= 0)
                r = sd_event_source_set_enabled(ws->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "cannot arm the debounce timer: %m");
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        watchset *ws = userdata;
        int error = ws->error;

        ws->pending = false;
        ws->error = 0;
        /* Last: the callback may free the watcher. */
        ws->fire(ws, error);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        watchset *ws = userdata;
        bool relevant = false;
        union {
                struct inotify_event ev;
                char raw[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
        } buf;

        for (;;) {
                ssize_t k = read(fd, &buf, sizeof buf);

                if (k < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_debug_errno(errno, "reading inotify events: %m");
                        break;
                }
                for (char *p = buf.raw; p < buf.raw + k;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        const char *name = ev->len > 0 && ev->name[0] ? ev->name : NULL;

                        p += sizeof(struct inotify_event) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                relevant |= ws->event(ws, NULL, NULL, ev->mask);
                                continue;
                        }
                        /* A directory may be watched under several spellings
                         * (symlinks); the owner judges each. Events of watches
                         * removed already find no entry. */
                        for (size_t i = 0; i < ws->n_entries; i++)
                                if (ws->entries[i].wd == ev->wd)
                                        relevant |= ws->event(ws, ws->entries[i].path, name, ev->mask);
                }
        }
        if (relevant) {
                /* Something changed: symlinks, directories created or gone. */
                int r = watchset_sync(ws, NULL);
                if (r < 0 && ws->error == 0)
                        ws->error = r;
                watchset_bump(ws);
        }
        return 0;
}

static int watchset_init(watchset *ws, sd_event *e, uint64_t debounce) {
        int r;

        ws->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ws->fd < 0)
                return -errno;
        if (debounce == 0)
                debounce = DAEMON_CONFWATCH_DEBOUNCE_DEFAULT;
        ws->debounce = debounce > DAEMON_CONFWATCH_DEBOUNCE_MAX ? DAEMON_CONFWATCH_DEBOUNCE_MAX : debounce;
        r = sd_event_add_io(e, &ws->io, ws->fd, EPOLLIN, on_inotify, ws);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(ws->io, "confwatch-inotify");
        r = sd_event_add_time(e, &ws->timer, CLOCK_MONOTONIC, UINT64_MAX, ws->debounce / 10 ?: 1, on_timer,
                              ws);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(ws->timer, "confwatch-debounce");
        return sd_event_source_set_enabled(ws->timer, SD_EVENT_OFF);
}

static void watchset_done(watchset *ws) {
        sd_event_source_disable_unref(ws->io);
        sd_event_source_disable_unref(ws->timer);
        entries_free(ws->entries, ws->n_entries);
        safe_close(ws->fd);
}

/* ---- paths ---- */

static bool has_glob(const char *s) {
        return strpbrk(s, "*?[") != NULL;
}

/* A copy of an absolute path with "//" collapsed and no trailing '/'. NULL
 * on OOM; sets *ret_invalid for a relative path. */
static char *normalize(const char *s, bool *ret_invalid) {
        char *n, *o;

        if (!s || s[0] != '/') {
                *ret_invalid = true;
                return NULL;
        }
        n = o = strdup(s);
        if (!n)
                return NULL;
        for (const char *i = s; *i; i++)
                if (!(*i == '/' && o > n && o[-1] == '/'))
                        *o++ = *i;
        while (o > n + 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return n;
}

/* The symlink chain of path: path itself, then each link's target (relative
 * targets joined to the link's directory, spelled as such, never
 * normalized: the directory strings are watched as they are). */
static int resolve_chain(const char *path, char ***ret) {
        _cleanup_(strv_freep) char **hops = NULL;
        size_t n = 0;

        hops = calloc(MAX_HOPS + 1, sizeof(char *));
        if (!hops)
                return -ENOMEM;
        hops[n] = strdup(path);
        if (!hops[n])
                return -ENOMEM;
        for (n = 1; n < MAX_HOPS; n++) {
                char target[PATH_MAX];
                ssize_t k = readlink(hops[n - 1], target, sizeof target - 1);

                if (k < 0)
                        break; /* not a link, missing, unreadable: the chain ends here */
                target[k] = '\0';
                if (target[0] == '/')
                        hops[n] = strdup(target);
                else {
                        _cleanup_(freep) char *d = dir_of(hops[n - 1]);
                        hops[n] = d ? path_join(d, target) : NULL;
                }
                if (!hops[n])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(hops);
        return 0;
}

/* Whether dir/name names a strict ancestor directory of path (literal). */
static bool literal_ancestor(const char *path, const char *p) {
        size_t l = strlen(p);

        return strneq(path, p, l) && path[l] == '/';
}

/* Whether p matches the first components of pattern (as many as p has), and
 * pattern has more: p is a directory on the way to what pattern names. */
static bool glob_ancestor(const char *pattern, const char *p) {
        size_t comps = 0, i;
        char prefix[PATH_MAX];

        for (const char *c = p; *c; c++)
                comps += *c == '/';
        for (i = 0; pattern[i]; i++)
                if (pattern[i] == '/' && i > 0 && comps-- == 1)
                        break;
        if (!pattern[i] || i >= sizeof prefix)
                return false;
        memcpy(prefix, pattern, i);
        prefix[i] = '\0';
        return fnmatch(prefix, p, FNM_PATHNAME | FNM_PERIOD) == 0;
}

bool daemon_confwatch_ignored_name(const char *name) {
        size_t l = strlen(name);

        if (l == 0)
                return true;
        if (name[l - 1] == '~' || strneq(name, ".#", 2) || (name[0] == '#' && name[l - 1] == '#' && l > 1))
                return true;
        /* vim: .swp, then .swo, .swn ... down to .swa; .swx is its probe */
        if (l > 4 && name[l - 4] == '.' && name[l - 3] == 's' && name[l - 2] == 'w' && name[l - 1] >= 'a' &&
            name[l - 1] <= 'z')
                return true;
        return false;
}

/* ---- the configuration watcher ---- */

typedef struct target {
        char *pattern;
        bool literal;
} target;

struct daemon_confwatch {
        watchset ws;     /* first: the core's callbacks cast back */
        target *targets; /* main, certs.d/ *.yaml, include globs */
        size_t n_targets;
        char **files; /* files read, literal */
        char **hops;  /* their symlink chains, recomputed at each sync */
        daemon_confwatch_handler cb;
        void *userdata;
};

static void targets_free(target *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(t[i].pattern);
        free(t);
}

static int targets_add(target **t, size_t *n, const char *s, bool literal) {
        bool invalid = false;
        target *nt;
        char *p;

        p = normalize(s, &invalid);
        if (!p)
                return invalid ? -EINVAL : -ENOMEM;
        nt = reallocarray(*t, *n + 1, sizeof *nt);
        if (!nt) {
                free(p);
                return -ENOMEM;
        }
        *t = nt;
        nt[(*n)++] = (target){.pattern = p, .literal = literal || !has_glob(p)};
        return 0;
}

static int spec_targets(const daemon_confwatch_spec *spec, target **ret, size_t *ret_n, char ***ret_files) {
        _cleanup_(strv_freep) char **files = NULL;
        target *t = NULL;
        size_t n = 0, nf = 0;
        int r;

        if (!spec || !spec->main_path)
                return -EINVAL;
        r = targets_add(&t, &n, spec->main_path, true);
        if (r >= 0 && spec->certs_dir) {
                _cleanup_(freep) char *pat = NULL;
                if (spec->certs_dir[0] != '/')
                        r = -EINVAL;
                else if (!(pat = path_join(spec->certs_dir, "*.yaml")))
                        r = -ENOMEM;
                else
                        r = targets_add(&t, &n, pat, false);
        }
        for (size_t i = 0; r >= 0 && spec->include_globs && spec->include_globs[i]; i++)
                r = targets_add(&t, &n, spec->include_globs[i], false);
        for (size_t i = 0; spec->files && spec->files[i]; i++)
                nf++;
        if (r >= 0) {
                files = calloc(nf + 1, sizeof(char *));
                if (!files)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < nf; i++) {
                bool invalid = false;
                files[i] = normalize(spec->files[i], &invalid);
                if (!files[i])
                        r = invalid ? -EINVAL : -ENOMEM;
        }
        if (r < 0) {
                targets_free(t, n);
                return r;
        }
        *ret = t;
        *ret_n = n;
        *ret_files = TAKE_PTR(files);
        return 0;
}

/* Directories of a pattern: its literal part (or the nearest existing
 * ancestor), and the existing matches of every wildcard level below. */
static int collect_pattern(const target *t, wantlist *l) {
        _cleanup_(freep) char *dir = dir_of(t->pattern);
        char *wild;
        int r;

        if (!dir)
                return -ENOMEM;
        if (!has_glob(dir))
                return wantlist_add(l, dir, true);
        /* The literal prefix: the components before the first wildcard. */
        wild = dir + strcspn(dir, "*?[");
        while (wild > dir && *wild != '/')
                wild--;
        {
                _cleanup_(freep) char *lit = strndup(dir, wild > dir ? (size_t) (wild - dir) : 1);
                if (!lit)
                        return -ENOMEM;
                r = wantlist_add(l, lit, true);
                if (r < 0)
                        return r;
        }
        /* Each wildcard level: /a/ * then /a/ * /b for /a/ * /b/x.yaml. */
        for (char *c = wild + 1;; c++) {
                if (*c != '/' && *c != '\0')
                        continue;
                char save = *c;
                glob_t g = {};

                *c = '\0';
                r = glob(dir, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g);
                *c = save;
                if (r == GLOB_NOSPACE) {
                        globfree(&g);
                        return -ENOMEM;
                }
                for (size_t i = 0; r == 0 && i < g.gl_pathc; i++) {
                        int q = wantlist_add(l, g.gl_pathv[i], false);
                        if (q < 0) {
                                globfree(&g);
                                return q;
                        }
                }
                globfree(&g);
                if (save == '\0')
                        break;
        }
        return 0;
}

static int confwatch_collect(watchset *ws, wantlist *l) {
        daemon_confwatch *w = (daemon_confwatch *) ws;
        _cleanup_(strv_freep) char **hops = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < w->n_targets; i++) {
                r = collect_pattern(&w->targets[i], l);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; w->files && w->files[i]; i++) {
                _cleanup_(strv_freep) char **chain = NULL;
                char **nh;
                size_t k = 0;

                r = resolve_chain(w->files[i], &chain);
                if (r < 0)
                        return r;
                while (chain[k])
                        k++;
                nh = reallocarray(hops, n + k + 1, sizeof(char *));
                if (!nh)
                        return -ENOMEM;
                hops = nh;
                for (size_t j = 0; j < k; j++) {
                        _cleanup_(freep) char *d = dir_of(chain[j]);
                        if (!d)
                                return -ENOMEM;
                        r = wantlist_add(l, d, true);
                        if (r < 0)
                                return r;
                        hops[n++] = TAKE_PTR(chain[j]);
                }
                hops[n] = NULL;
        }
        strv_free(w->hops);
        w->hops = TAKE_PTR(hops);
        return 0;
}

static bool confwatch_matters(const daemon_confwatch *w, const char *p) {
        for (size_t i = 0; i < w->n_targets; i++) {
                const target *t = &w->targets[i];
                if (t->literal ? (streq(t->pattern, p) || literal_ancestor(t->pattern, p))
                               : (fnmatch(t->pattern, p, FNM_PATHNAME | FNM_PERIOD) == 0 ||
                                  glob_ancestor(t->pattern, p)))
                        return true;
        }
        for (size_t i = 0; w->hops && w->hops[i]; i++)
                if (streq(w->hops[i], p) || literal_ancestor(w->hops[i], p))
                        return true;
        return false;
}

static bool confwatch_event(watchset *ws, const char *dir, const char *name, uint32_t mask) {
        daemon_confwatch *w = (daemon_confwatch *) ws;
        char p[PATH_MAX];

        if (mask & IN_Q_OVERFLOW)
                return true; /* events were lost: reload everything */
        if (!name)
                /* The directory itself deleted, moved or unmounted: what was in
                 * it is gone; the sync watches its ancestor instead. */
                return (mask & SELF_GONE) != 0;
        if (daemon_confwatch_ignored_name(name))
                return false;
        if ((size_t) snprintf(p, sizeof p, "%s%s%s", dir, streq(dir, "/") ? "" : "/", name) >= sizeof p)
                return true; /* cannot judge a path that long: better reload */
        return confwatch_matters(w, p);
}

static void confwatch_fire(watchset *ws, int error) {
        daemon_confwatch *w = (daemon_confwatch *) ws;

        w->cb(w, error, w->userdata);
}

int daemon_confwatch_new(sd_event *e, const daemon_confwatch_spec *spec, uint64_t debounce_usec,
                         daemon_confwatch_handler cb, void *userdata, daemon_confwatch **ret) {
        _cleanup_(daemon_confwatch_freep) daemon_confwatch *w = NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->ws.fd = -1;
        w->ws.collect = confwatch_collect;
        w->ws.event = confwatch_event;
        w->ws.fire = confwatch_fire;
        w->cb = cb;
        w->userdata = userdata;
        r = spec_targets(spec, &w->targets, &w->n_targets, &w->files);
        if (r < 0)
                return r;
        r = watchset_init(&w->ws, e, debounce_usec);
        if (r < 0)
                return r;
        r = watchset_sync(&w->ws, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

int daemon_confwatch_rearm(daemon_confwatch *w, const daemon_confwatch_spec *spec) {
        target *old_t = w->targets, *t = NULL;
        size_t old_n = w->n_targets, n = 0;
        char **old_files = w->files, **files = NULL;
        bool added = false;
        int r;

        r = spec_targets(spec, &t, &n, &files);
        if (r < 0)
                return r;
        w->targets = t;
        w->n_targets = n;
        w->files = files;
        r = watchset_sync(&w->ws, &added);
        if (r < 0) {
                w->targets = old_t;
                w->n_targets = old_n;
                w->files = old_files;
                targets_free(t, n);
                strv_free(files);
                /* The hops of the old files: recomputed by the next sync. */
                return r;
        }
        targets_free(old_t, old_n);
        strv_free(old_files);
        if (added)
                watchset_bump(&w->ws);
        return added ? 1 : 0;
}

bool daemon_confwatch_pending(const daemon_confwatch *w) {
        return w->ws.pending;
}

size_t daemon_confwatch_n_dirs(const daemon_confwatch *w) {
        return w->ws.n_entries;
}

daemon_confwatch *daemon_confwatch_free(daemon_confwatch *w) {
        if (!w)
                return NULL;
        watchset_done(&w->ws);
        targets_free(w->targets, w->n_targets);
        strv_free(w->files);
        strv_free(w->hops);
        free(w);
        return NULL;
}

/* ---- the file watcher ---- */

typedef struct fwpath {
        char *path;
        char **hops; /* symlink chain, recomputed at each sync */
        bool dirty;
} fwpath;

struct daemon_filewatch {
        watchset ws; /* first */
        fwpath *paths;
        size_t n_paths;
        daemon_filewatch_handler cb;
        void *userdata;
};

static int filewatch_collect(watchset *ws, wantlist *l) {
        daemon_filewatch *w = (daemon_filewatch *) ws;
        int r;

        for (size_t i = 0; i < w->n_paths; i++) {
                char **chain = NULL;

                r = resolve_chain(w->paths[i].path, &chain);
                if (r < 0)
                        return r;
                strv_free(w->paths[i].hops);
                w->paths[i].hops = chain;
                for (size_t j = 0; chain[j]; j++) {
                        _cleanup_(freep) char *d = dir_of(chain[j]);
                        if (!d)
                                return -ENOMEM;
                        r = wantlist_add(l, d, true);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static bool filewatch_event(watchset *ws, const char *dir, const char *name, uint32_t mask) {
        daemon_filewatch *w = (daemon_filewatch *) ws;
        bool any = false;
        char p[PATH_MAX];

        if (!(mask & IN_Q_OVERFLOW) && !name && !(mask & SELF_GONE))
                return false;
        if (name &&
            (size_t) snprintf(p, sizeof p, "%s%s%s", dir, streq(dir, "/") ? "" : "/", name) >= sizeof p)
                return false;
        for (size_t i = 0; i < w->n_paths; i++) {
                fwpath *f = &w->paths[i];
                bool hit = (mask & IN_Q_OVERFLOW) != 0;

                for (size_t j = 0; !hit && f->hops && f->hops[j]; j++)
                        hit = name ? (streq(f->hops[j], p) || literal_ancestor(f->hops[j], p))
                                   : literal_ancestor(f->hops[j], dir);
                if (hit) {
                        f->dirty = true;
                        any = true;
                }
        }
        return any;
}

static void filewatch_fire(watchset *ws, int error) {
        daemon_filewatch *w = (daemon_filewatch *) ws;
        _cleanup_(strv_freep) char **due = NULL;
        size_t n = 0;

        /* A snapshot first: the callback may add or remove paths. A watch
         * that failed may have missed anything: then every path is due. */
        due = calloc(w->n_paths + 1, sizeof(char *));
        for (size_t i = 0; due && i < w->n_paths; i++)
                if (error < 0 || w->paths[i].dirty)
                        if (!(due[n++] = strdup(w->paths[i].path)))
                                due = (strv_free(due), NULL);
        if (!due) {
                /* Out of memory: keep everything due and try again later. */
                for (size_t i = 0; i < w->n_paths; i++)
                        w->paths[i].dirty = true;
                if (ws->error == 0)
                        ws->error = error;
                watchset_bump(ws);
                return;
        }
        for (size_t i = 0; i < w->n_paths; i++)
                w->paths[i].dirty = false;
        for (size_t i = 0; i < n; i++) {
                bool still = false;
                for (size_t j = 0; j < w->n_paths && !still; j++)
                        still = streq(w->paths[j].path, due[i]);
                if (still)
                        w->cb(w, due[i], error, w->userdata);
        }
}

int daemon_filewatch_new(sd_event *e, uint64_t debounce_usec, daemon_filewatch_handler cb, void *userdata,
                         daemon_filewatch **ret) {
        _cleanup_(daemon_filewatch_freep) daemon_filewatch *w = NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->ws.fd = -1;
        w->ws.collect = filewatch_collect;
        w->ws.event = filewatch_event;
        w->ws.fire = filewatch_fire;
        w->cb = cb;
        w->userdata = userdata;
        r = watchset_init(&w->ws, e, debounce_usec);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

static void fwpath_done(fwpath *f) {
        free(f->path);
        strv_free(f->hops);
}

int daemon_filewatch_add(daemon_filewatch *w, const char *path) {
        bool invalid = false;
        fwpath *np;
        char *p;
        int r;

        p = normalize(path, &invalid);
        if (!p)
                return invalid ? -EINVAL : -ENOMEM;
        for (size_t i = 0; i < w->n_paths; i++)
                if (streq(w->paths[i].path, p)) {
                        free(p);
                        return 0;
                }
        np = reallocarray(w->paths, w->n_paths + 1, sizeof *np);
        if (!np) {
                free(p);
                return -ENOMEM;
        }
        w->paths = np;
        np[w->n_paths++] = (fwpath){.path = p};
        r = watchset_sync(&w->ws, NULL);
        if (r < 0) {
                fwpath_done(&w->paths[--w->n_paths]);
                return r;
        }
        return 0;
}

int daemon_filewatch_remove(daemon_filewatch *w, const char *path) {
        bool invalid = false;
        _cleanup_(freep) char *p = normalize(path, &invalid);

        if (!p)
                return invalid ? -ENOENT : -ENOMEM;
        for (size_t i = 0; i < w->n_paths; i++)
                if (streq(w->paths[i].path, p)) {
                        fwpath_done(&w->paths[i]);
                        memmove(&w->paths[i], &w->paths[i + 1], (w->n_paths - i - 1) * sizeof *w->paths);
                        w->n_paths--;
                        /* Fewer directories: the sync only removes watches, a
                         * failure leaves extra ones (harmless: no path matches). */
                        (void) watchset_sync(&w->ws, NULL);
                        return 0;
                }
        return -ENOENT;
}

bool daemon_filewatch_pending(const daemon_filewatch *w) {
        return w->ws.pending;
}

size_t daemon_filewatch_n_dirs(const daemon_filewatch *w) {
        return w->ws.n_entries;
}

daemon_filewatch *daemon_filewatch_free(daemon_filewatch *w) {
        if (!w)
                return NULL;
        watchset_done(&w->ws);
        for (size_t i = 0; i < w->n_paths; i++)
                fwpath_done(&w->paths[i]);
        free(w->paths);
        free(w);
        return NULL;
}
