/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading: the main file, certs.d/ drop-ins and include: globs (with their
 * limits), the top level of the main file, certificates of every file in
 * file order, and the sorted error list. Sections are parsed in
 * conf-top.c (aws, daemon), conf-cert.c, conf-issuer.c and conf-reload.c.
 */
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#include "conf/conf-internal.h"
#include "basic/strmap.h"
#include "basic/util.h"

typedef conf_loader L_t;

const char *const conf_keys_top[] = { "aws", "state_dir", "output_root", "daemon", "reloaders", "defaults", "certificates",
                                      "include", NULL };
const char *const conf_keys_reloaders[] = { "nginx", "haproxy", NULL };

typedef struct file_doc {
        const char *file;     /* interned: the name errors use */
        cnode *root;
        const cnode *ref;     /* the include: entry that named it, NULL for main/certs.d */
} file_doc;

/* A file a drop-in pattern matched, before it is read. */
typedef struct entry {
        char *path;           /* as glob named it (the --as place holder: where it would be) */
        const cnode *ref;     /* the include: entry, NULL for certs.d/ */
        bool is_as;           /* the place of --as PATH: read o->drop_in there */
} entry;

typedef struct loader {
        L_t *L;
        const conf_load_options *o;
        const char *mainpath;
        const char *mainf;          /* interned */
        file_doc docs[CONF_MAX_FILES];
        size_t n_docs;
        struct stat *ids;           /* identity of each file read, for "never twice" */
        bool *have_id;
        entry *entries;
        size_t n_entries, alloc_entries;
        char *as_canon;             /* canonical --as PATH */
        bool as_placed;             /* a pattern matches --as PATH */
        char **patterns;            /* the include: globs, absolute (conf->include_patterns) */
        size_t n_patterns, alloc_patterns;
} loader;

static void entries_free(loader *ld) {
        for (size_t i = 0; i < ld->n_entries; i++)
                free(ld->entries[i].path);
        free(ld->entries);
        ld->entries = NULL;
        ld->n_entries = ld->alloc_entries = 0;
}

/* Reads the file at path (named name in messages) and parses it; NULL after errors. */
static cnode *read_doc(L_t *L, const char *path, const char *name, const cnode *ref) {
        _cleanup_(closep) int fd = -1;
        const char *why = "not a regular file";
        cnode *root = NULL;
        int r;
        const char *f = conf_loader_intern(L, name);
        conf_loc loc = { .file = f, .line = 1, .column = 1 };

        if (!f)
                return NULL;
        r = fd = conf_open_regular_file(path, CONF_MAX_FILE_SIZE, &why);
        if (r >= 0) {
                root = conf_node_parse(L, f, fd, CONF_MAX_FILE_SIZE, &r);
                if (r == 0)
                        return root;
        }
        if (r == -EFBIG) {
                conf_loader_error(L, ref ? &ref->loc : &loc, "too-large", "split it into drop-in files under certs.d/",
                                  "%s is larger than %d bytes", name, CONF_MAX_FILE_SIZE);
                return NULL;
        }
        if (r == -ENOMEM)
                return L->oom = true, NULL;
        if (r == -EISDIR || r == -ENODEV) {
                conf_loader_error(L, ref ? &ref->loc : &loc, "io",
                                  "name a regular file: a directory, FIFO, socket or device is never read as configuration",
                                  "cannot read %s: it is %s", name, why);
                return NULL;
        }
        conf_loader_error(L, ref ? &ref->loc : &loc, "io",
                          r == -ENOENT   ? "create the file or fix the path"
                          : r == -EACCES ? "check the file's permissions (the agent runs as root)"
                                         : "check the file and the file system",
                          "cannot read %s: %s", name, strerror(-r));
        return NULL;
}

/* Reads one file into the next doc, remembering its identity. */
static void add_doc(loader *ld, const char *path, const char *name, const cnode *ref) {
        struct stat st;
        size_t d = ld->n_docs++;
        ld->have_id[d] = stat(path, &st) == 0;
        if (ld->have_id[d])
                ld->ids[d] = st;
        ld->docs[d] = (file_doc) { .root = read_doc(ld->L, path, name, ref), .ref = ref };
        ld->docs[d].file = conf_loader_intern(ld->L, name);
}

/* true when a file with st's identity was read already. */
static bool already_read(const loader *ld, const struct stat *st) {
        for (size_t d = 0; d < ld->n_docs; d++)
                if (ld->have_id[d] && ld->ids[d].st_dev == st->st_dev && ld->ids[d].st_ino == st->st_ino)
                        return true;
        return false;
}

static int path_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* glob(3) reports a directory it cannot open only through this callback
 * (it has no user data: the loader runs on one thread at a time). */
static __thread int glob_errno;
static __thread char glob_errpath[256];

static int on_glob_error(const char *epath, int eerrno) {
        if (eerrno == ENOENT || eerrno == ENOTDIR)
                return 0;  /* no such directory: nothing to read */
        glob_errno = eerrno;
        snprintf(glob_errpath, sizeof(glob_errpath), "%s", epath);
        return 1;
}

/* Would the pattern full match the (canonical) path as_canon? */
static bool pattern_matches(const char *full, const char *as_canon) {
        _cleanup_(freep) char *pdir = strdup(full), *canon_dir = NULL, *norm = NULL;
        const char *slash = strrchr(full, '/'), *as_slash = strrchr(as_canon, '/');

        if (!pdir || !slash || !as_slash)
                return false;
        pdir[slash - full] = 0;
        if (!strpbrk(pdir, "*?[")) {
                /* the usual case: a directory written out, a pattern for the names in it */
                if (conf_path_canonical(*pdir ? pdir : "/", &canon_dir) < 0)
                        return false;
                return strlen(canon_dir) == (size_t) (as_slash - as_canon) + (as_slash == as_canon) &&
                       strneq(canon_dir, as_canon, strlen(canon_dir)) && fnmatch(slash + 1, as_slash + 1, FNM_PERIOD) == 0;
        }
        return conf_path_normalize(full, &norm) >= 0 && fnmatch(norm, as_canon, FNM_PATHNAME | FNM_PERIOD) == 0;
}

/*
 * Lists the files the absolute pattern full matches, sorted, as entries
 * (with the place of --as PATH when the pattern matches it). e is the
 * include: entry that named the pattern; NULL for certs.d/ beside the main
 * file, whose errors point at the main file.
 */
static void list_glob(loader *ld, const char *full, const cnode *e) {
        L_t *L = ld->L;
        conf_loc at = { .file = ld->mainf, .line = 1, .column = 1 };
        _cleanup_(freep) char **names = NULL;
        _cleanup_(freep) char *as_name = NULL;
        size_t n = 0;
        glob_t g = {};
        int gr;

        if (e)
                at = e->loc;
        glob_errno = 0;
        gr = glob(full, 0, on_glob_error, &g);
        if (gr == GLOB_NOSPACE)
                L->oom = true;
        else if (gr == GLOB_ABORTED)
                conf_loader_error(L, &at, "io", "make the directory readable by the agent (it runs as root)",
                                  "%s: cannot read the directory %s: %s", full, glob_errpath, strerror(glob_errno ?: EIO));
        if (gr != 0 && gr != GLOB_NOMATCH) {
                globfree(&g);
                return;
        }
        names = calloc(g.gl_pathc + 1, sizeof(char *));
        if (!names) {
                globfree(&g);
                L->oom = true;
                return;
        }
        for (size_t k = 0; k < g.gl_pathc; k++)
                names[n++] = g.gl_pathv[k];
        /* --as PATH: its place among the matches, whether it exists or not */
        bool as_here = ld->as_canon && !ld->as_placed && pattern_matches(full, ld->as_canon);
        if (as_here) {
                bool exists = false;
                for (size_t k = 0; k < n && !exists; k++) {
                        _cleanup_(freep) char *cn = NULL;
                        exists = conf_path_canonical(names[k], &cn) >= 0 && streq(cn, ld->as_canon);
                        if (exists)
                                as_name = strdup(names[k]);
                }
                if (!exists) {
                        const char *slash = strrchr(full, '/');
                        as_name = strprintf("%.*s%s", (int) (slash - full + 1), full, strrchr(ld->as_canon, '/') + 1);
                        if (as_name)
                                names[n++] = as_name;
                }
                if (!as_name) {
                        globfree(&g);
                        L->oom = true;
                        return;
                }
                ld->as_placed = true;
        }
        qsort(names, n, sizeof(char *), path_cmp);
        if (CONF_GROW(ld->entries, ld->alloc_entries, ld->n_entries + n) < 0) {
                globfree(&g);
                L->oom = true;
                return;
        }
        for (size_t k = 0; k < n; k++) {
                char *p = strdup(names[k]);
                if (!p) {
                        L->oom = true;
                        break;
                }
                ld->entries[ld->n_entries++] = (entry) { .path = p, .ref = e, .is_as = as_here && streq(names[k], as_name) };
        }
        globfree(&g);
}

static void list_include(loader *ld, const cnode *e, const char *dir) {
        const char *pat = conf_nonempty(ld->L, e, "include");
        _cleanup_(freep) char *full = NULL;

        if (!pat)
                return;
        full = pat[0] == '/' ? strdup(pat) : path_join(dir, pat);
        if (!full || CONF_GROW(ld->patterns, ld->alloc_patterns, ld->n_patterns + 2) < 0) {
                ld->L->oom = true;
                return;
        }
        list_glob(ld, full, e);
        ld->patterns[ld->n_patterns++] = TAKE_PTR(full);
        ld->patterns[ld->n_patterns] = NULL;
}

/*
 * Reads the drop-ins in order: entries[0..n_certsd) are certs.d/, the rest
 * include: matches. The file of --drop-in is read in the place of --as
 * PATH, or else in its own place when a pattern matches it, or else right
 * after certs.d/.
 */
static void read_dropins(loader *ld, size_t n_certsd) {
        L_t *L = ld->L;
        const char *drop_in = ld->o ? ld->o->drop_in : NULL;
        struct stat drop_st;
        bool drop_id = drop_in && stat(drop_in, &drop_st) == 0, extra_at_end_of_certsd = false;

        if (drop_id && !ld->as_canon && already_read(ld, &drop_st)) {
                const char *f = conf_loader_intern(L, drop_in);
                conf_loc at = { .file = f ? f : drop_in, .line = 1, .column = 1 };
                conf_loader_error(L, &at, "misplaced", "check the main file itself with: acm-agent -c PATH check",
                                  "--drop-in %s is the main configuration file, not a drop-in", drop_in);
                drop_in = NULL;
                drop_id = false;
        }
        if (drop_in && !ld->as_placed) {
                /* no place of its own? then it is an extra drop-in after certs.d/ */
                extra_at_end_of_certsd = true;
                for (size_t i = 0; i < ld->n_entries && drop_id && !ld->as_canon; i++) {
                        struct stat st;
                        if (stat(ld->entries[i].path, &st) == 0 && st.st_dev == drop_st.st_dev && st.st_ino == drop_st.st_ino)
                                extra_at_end_of_certsd = false;
                }
        }
        for (size_t i = 0; i <= ld->n_entries; i++) {
                struct stat st;
                bool have;
                if (i == n_certsd && extra_at_end_of_certsd) {
                        if (ld->n_docs >= CONF_MAX_FILES)
                                goto too_many;
                        add_doc(ld, drop_in, drop_in, NULL);
                }
                if (i == ld->n_entries)
                        break;
                const entry *en = &ld->entries[i];
                have = stat(en->path, &st) == 0;
                if (!en->is_as && have && already_read(ld, &st))
                        continue;
                if (!en->is_as && ld->as_canon && have) {
                        /* PATH matched by a second pattern: FILE took its place already */
                        _cleanup_(freep) char *cn = NULL;
                        if (conf_path_canonical(en->path, &cn) >= 0 && streq(cn, ld->as_canon))
                                continue;
                }
                if (ld->n_docs >= CONF_MAX_FILES)
                        goto too_many;
                if (en->is_as)
                        add_doc(ld, drop_in, drop_in, en->ref);
                else if (drop_id && !ld->as_canon && have && st.st_dev == drop_st.st_dev && st.st_ino == drop_st.st_ino)
                        add_doc(ld, drop_in, drop_in, en->ref);   /* FILE is this drop-in: once, under its own name */
                else
                        add_doc(ld, en->path, en->path, en->ref);
        }
        return;

too_many:;
        conf_loc at = { .file = ld->mainf, .line = 1, .column = 1 };
        conf_loader_error(L, &at, "too-large", "merge drop-in files", "more than %d configuration files", CONF_MAX_FILES);
}

/* state_dir: normalised; not "/", not in /proc, /sys, /dev, not an existing non-directory. */
static void check_state_dir(L_t *L, const cnode *n, char **dir) {
        _cleanup_(freep) char *norm = NULL, *canon = NULL;
        const char *virt, *at;
        struct stat st;
        int r;

        r = conf_path_normalize(*dir, &norm);
        if (r < 0) {
                L->oom = true;
                return;
        }
        r = conf_path_canonical(norm, &canon);
        if (r == -ENOMEM) {
                L->oom = true;
                return;
        }
        at = canon ? canon : norm;
        if (streq(at, "/") || streq(norm, "/"))
                conf_err_at(L, n, "path", "use a directory of its own, such as /var/lib/acm-agent",
                            "state_dir is the root directory '/'");
        else if ((virt = conf_path_virtual(at)) || (virt = conf_path_virtual(norm)))
                conf_err_at(L, n, "path", "use a directory on a real file system, such as /var/lib/acm-agent",
                            "state_dir %s is inside %s (a virtual file system)", *dir, virt);
        else if (stat(at, &st) == 0 && !S_ISDIR(st.st_mode))
                conf_err_at(L, n, "path", "name a directory (it is created when missing)",
                            "state_dir %s exists and is %s, not a directory", *dir, file_kind_string(st.st_mode));
        else if (stat(at, &st) < 0 && errno == ENOTDIR)
                conf_err_at(L, n, "path", "name a directory whose parents are directories",
                            "state_dir %s cannot be created: a parent of it is not a directory", *dir);
        free(*dir);
        *dir = TAKE_PTR(norm);
}

int conf_load(const char *path, conf **ret, conf_errors *errs) {
        return conf_load_with(path, NULL, ret, errs, NULL);
}

/* o->on_state_dir, once: fired records that it was called. */
typedef struct state_dir_hint {
        const conf_load_options *o;
        bool fired;
} state_dir_hint;

static void hint_state_dir(state_dir_hint *h, const char *dir) {
        _cleanup_(freep) char *norm = NULL;

        if (h->fired || !h->o || !h->o->on_state_dir)
                return;
        h->fired = true;
        /* as conf_get_path() and check_state_dir() will take it */
        if (dir[0] != '/' || strlen(dir) >= 4096 || conf_path_normalize(dir, &norm) < 0)
                return;
        h->o->on_state_dir(norm, h->o->userdata);
}

static void on_top_scalar(const char *key, const char *value, void *userdata) {
        if (streq(key, "state_dir"))
                hint_state_dir(userdata, value);
}

int conf_load_with(const char *path, const conf_load_options *o, conf **ret, conf_errors *errs, conf_errors *warnings) {
        L_t L = {};
        _cleanup_(freep) loader *ld = NULL;
        _cleanup_(freep) struct stat *ids = NULL;
        _cleanup_(freep) bool *have_id = NULL;
        _cleanup_(freep) char *pcopy = NULL;
        char **canon = NULL;   /* canonical output dir of each certificate */
        strmap *by_name = NULL, *by_dir = NULL;
        conf_path_cache pcache = {};
        conf *c = NULL;
        cnode *root;
        int r;

        if (errs)
                *errs = (conf_errors) {};
        if (warnings)
                *warnings = (conf_errors) {};
        if (o && o->drop_in_as && !o->drop_in)
                return -EINVAL;
        ld = calloc(1, sizeof(loader));
        ids = calloc(CONF_MAX_FILES, sizeof(struct stat));
        have_id = calloc(CONF_MAX_FILES, sizeof(bool));
        canon = calloc(CONF_MAX_CERTS, sizeof(char *));
        pcopy = strdup(path);
        c = calloc(1, sizeof(conf));
        by_name = strmap_new();
        by_dir = strmap_new();
        if (!ld || !ids || !have_id || !canon || !pcopy || !c || !by_name || !by_dir || !(c->path = strdup(path))) {
                free(canon);
                strmap_free(by_name);
                strmap_free(by_dir);
                conf_free(c);
                return -ENOMEM;
        }
        *ld = (loader) { .L = &L, .o = o, .mainpath = path, .ids = ids, .have_id = have_id };

        state_dir_hint sd_hint = { .o = o };
        L.on_top_scalar = on_top_scalar;
        L.top_userdata = &sd_hint;
        add_doc(ld, path, path, NULL);
        L.on_top_scalar = NULL;
        root = ld->docs[0].root;
        const char *mainf = ld->mainf = L.n_files ? L.files[0] : path;
        _cleanup_(freep) char *output_canon = NULL;
        conf_ctx x = { .L = &L, .c = c, .paths = &pcache, .output_canon = &output_canon };
        c->daemon = (conf_daemon) { .reload_debounce = 5, .acm_poll_interval = 6 * 3600, .dns_recheck_interval = 86400 };

        /* Top-level sections of the main file. */
        if (root && root->kind != CNODE_NULL && conf_want_map(&L, root, "the configuration file")) {
                cnode *v;
                conf_check_keys(&L, root, conf_keys_top, "the main configuration");
                if ((v = conf_get(root, "aws")))
                        conf_aws_parse(&L, &c->aws, v);
                else
                        conf_aws_parse(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = root->loc });
                if (conf_get_path(&L, root, "state_dir", &c->state_dir))
                        check_state_dir(&L, conf_get(root, "state_dir"), &c->state_dir);
                if (conf_get_path(&L, root, "output_root", &c->output_root))
                        x.output_root = conf_get(root, "output_root");
                if ((v = conf_get(root, "daemon")))
                        conf_daemon_parse(&L, &c->daemon, v);
                if ((v = conf_get(root, "reloaders")) && conf_want_map(&L, v, "reloaders")) {
                        conf_check_keys(&L, v, conf_keys_reloaders, "reloaders");
                        x.reloaders = v;
                        for (size_t i = 0; i < v->n_pairs; i++)
                                if (v->pairs[i].key->kind == CNODE_SCALAR &&
                                    (streq(v->pairs[i].key->str, "nginx") || streq(v->pairs[i].key->str, "haproxy")))
                                        conf_reloader_named(&x, v->pairs[i].key->str);
                }
                if ((v = conf_get(root, "defaults")) && conf_want_map(&L, v, "defaults")) {
                        const char *dk[64];
                        size_t k = 0;
                        for (size_t i = 0; conf_cert_keys[i] && k < ELEMENTSOF(dk) - 3; i++)
                                if (!streq(conf_cert_keys[i], "name"))
                                        dk[k++] = conf_cert_keys[i];
                        dk[k++] = "output_root";
                        dk[k++] = "name";   /* reported below with a better hint */
                        dk[k] = NULL;
                        conf_check_keys(&L, v, dk, "defaults");
                        if (conf_get(v, "name"))
                                conf_err_at(&L, conf_get(v, "name"), "conflict", "names are per certificate: remove it from defaults",
                                       "'name' cannot be a default");
                        x.defaults = v;
                        if (conf_get(v, "output_root")) {
                                if (conf_get(root, "output_root"))
                                        conf_err_at(&L, conf_get(v, "output_root"), "conflict", "set output_root in one place",
                                               "output_root is set both at the top level and in defaults");
                                if (conf_get_path(&L, v, "output_root", &c->output_root))
                                        x.output_root = conf_get(v, "output_root");
                        }
                }
        }
        if (!c->aws.role_session_name) {
                /* No (valid) aws: section: the defaults. */
                conf_aws_parse(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = { .file = mainf, .line = 1, .column = 1 } });
        }
        if (!c->state_dir)
                c->state_dir = conf_strdup(&L, CONF_DEFAULT_STATE_DIR);
        if (c->state_dir && !sd_hint.fired)
                hint_state_dir(&sd_hint, c->state_dir);
        if (!c->output_root)
                c->output_root = conf_strdup(&L, CONF_DEFAULT_OUTPUT_ROOT);
        else {
                _cleanup_(freep) char *norm = NULL;
                if (conf_path_normalize(c->output_root, &norm) < 0)
                        L.oom = true;
                else {
                        free(c->output_root);
                        c->output_root = TAKE_PTR(norm);
                }
        }

        /* check --drop-in FILE --as PATH: where PATH goes. */
        if (o && o->drop_in_as) {
                _cleanup_(freep) char *main_canon = NULL;
                r = conf_path_canonical(o->drop_in_as, &ld->as_canon);
                if (r == -ENOMEM || (r < 0 && conf_path_normalize(o->drop_in_as, &ld->as_canon) < 0))
                        L.oom = true;
                else if (conf_path_canonical(path, &main_canon) >= 0 && streq(main_canon, ld->as_canon)) {
                        const char *f = conf_loader_intern(&L, o->drop_in);
                        conf_loc at = { .file = f ? f : o->drop_in, .line = 1, .column = 1 };
                        conf_loader_error(&L, &at, "misplaced", "check the main file itself with: acm-agent -c PATH check",
                                          "--as %s names the main configuration file, not a drop-in", o->drop_in_as);
                        free(ld->as_canon);
                        ld->as_canon = NULL;
                        ld->as_placed = true;   /* read FILE nowhere else */
                }
        }

        /* Drop-ins: certs.d/ *.yaml beside the main file, then include: globs. */
        const char *dir = dirname(pcopy);
        size_t n_certsd;
        {
                _cleanup_(freep) char *pattern = strprintf("%s/certs.d/*.yaml", dir);
                if (pattern)
                        list_glob(ld, pattern, NULL);
                else
                        L.oom = true;
        }
        n_certsd = ld->n_entries;
        cnode *inc = root && root->kind == CNODE_MAP ? conf_get(root, "include") : NULL;
        if (inc && inc->kind == CNODE_SCALAR)
                list_include(ld, inc, dir);
        else if (inc && inc->kind == CNODE_SEQ)
                for (size_t ii = 0; ii < inc->n_items; ii++)
                        list_include(ld, inc->items[ii], dir);
        else if (inc)
                conf_err_at(&L, inc, "type", "write include: [\"extra/*.yaml\"]", "include must be a glob or a list of globs");
        if (o && o->drop_in_as && ld->as_canon && !ld->as_placed) {
                /* The agent would never read PATH: say so, and still check FILE (after certs.d/). */
                const char *f = conf_loader_intern(&L, o->drop_in);
                conf_loc at = { .file = f ? f : o->drop_in, .line = 1, .column = 1 };
                char hint[PATH_MAX + 128];
                snprintf(hint, sizeof hint, "install it as %s/certs.d/NAME.yaml, or add its directory to include:", dir);
                conf_loader_error(&L, &at, "misplaced", hint,
                                  "--as %s is not a drop-in of %s: it matches neither certs.d/*.yaml nor an include: pattern",
                                  o->drop_in_as, path);
                free(ld->as_canon);
                ld->as_canon = NULL;
        }
        read_dropins(ld, n_certsd);

        /* Certificates of every file, in file order. */
        size_t cap = 0;
        for (size_t d = 0; d < ld->n_docs; d++) {
                cnode *dr = ld->docs[d].root, *list;
                if (!dr || dr->kind == CNODE_NULL)
                        continue;
                if (d > 0) {
                        if (!conf_want_map(&L, dr, "a drop-in file"))
                                continue;
                        for (size_t i = 0; i < dr->n_pairs; i++) {
                                const cnode *k = dr->pairs[i].key;
                                if (k->kind != CNODE_SCALAR || streq(k->str, "certificates"))
                                        continue;
                                bool top = false;
                                for (const char *const *t = conf_keys_top; *t; t++)
                                        top |= streq(*t, k->str);
                                if (top)
                                        conf_err_at(&L, k, "misplaced", "move it to the main configuration file",
                                               "'%s' belongs in the main file (%s), not in a drop-in", k->str, mainf);
                                else {
                                        static conf_keylist dk = { "certificates", NULL };
                                        cnode tmp = { .kind = CNODE_MAP, .pairs = &dr->pairs[i], .n_pairs = 1 };
                                        conf_check_keys(&L, &tmp, dk, "a drop-in file");
                                }
                        }
                }
                if (!(list = conf_get(dr, "certificates")))
                        continue;
                if (list->kind != CNODE_SEQ) {
                        conf_err_at(&L, list, "type", "write a list: one '- name: ...' entry per certificate",
                               "certificates must be a list, not %s", conf_node_type_name(list));
                        continue;
                }
                for (size_t i = 0; i < list->n_items; i++) {
                        if (c->n_certs >= CONF_MAX_CERTS) {
                                conf_err_at(&L, list->items[i], "too-large", "split the certificates over several agents",
                                       "more than %d certificates", CONF_MAX_CERTS);
                                break;
                        }
                        output_canon = (free(output_canon), NULL);
                        conf_cert *cert = conf_cert_parse(&x, list->items[i]);
                        if (!cert)
                                continue;
                        if (CONF_GROW(c->certs, cap, c->n_certs + 2) < 0) {
                                conf_cert_free(cert);
                                L.oom = true;
                                break;
                        }
                        /* Output directories are compared in their canonical form: /X/a, /X/a/, /X/./a,
                         * /X/b/../a and /L/a where /L links to /X are one directory. */
                        const char *cn = NULL;
                        if (cert->output.dir) {
                                if (output_canon)
                                        /* what the certificate's own checks found */
                                        canon[c->n_certs] = TAKE_PTR(output_canon);
                                else {
                                        r = conf_path_canonical_cached(cert->output.dir, &pcache, &canon[c->n_certs]);
                                        if (r == -ENOMEM)
                                                L.oom = true;
                                        else if (r < 0)
                                                canon[c->n_certs] = strdup(cert->output.dir);
                                }
                                cn = canon[c->n_certs];
                        }
                        /* names and output directories are unique: the
                         * first certificate that has one is "the other" */
                        void *prev = NULL;
                        const conf_cert *oc;
                        int rn = cert->name ? strmap_put(by_name, cert->name, cert, &prev) : 0, rd = 0;
                        if (rn == -EEXIST) {
                                char hint[512];
                                oc = prev;
                                snprintf(hint, sizeof hint, "rename one of them (the other is at %s:%u:%u)", oc->loc.file,
                                         oc->loc.line, oc->loc.column);
                                conf_err_at(&L, list->items[i], "duplicate", hint,
                                       "certificate name '%s' is also defined at %s:%u:%u", cert->name, oc->loc.file,
                                       oc->loc.line, oc->loc.column);
                        } else if (cert->name && cn)
                                rd = strmap_put(by_dir, cn, cert, &prev);
                        if (rd == -EEXIST) {
                                char hint[512];
                                oc = prev;
                                snprintf(hint, sizeof hint, "give each certificate its own output.dir (the other is '%s' at %s:%u:%u)",
                                         oc->name ? oc->name : "?", oc->loc.file, oc->loc.line, oc->loc.column);
                                conf_err_at(&L, list->items[i], "duplicate", hint,
                                       "certificate '%s' writes to %s, as does '%s' at %s:%u:%u (%s)", cert->name,
                                       cert->output.dir, oc->name ? oc->name : "?", oc->loc.file, oc->loc.line,
                                       oc->loc.column, oc->output.dir);
                        }
                        if (rn == -ENOMEM || rd == -ENOMEM)
                                L.oom = true;
                        c->certs[c->n_certs++] = cert;
                        c->certs[c->n_certs] = NULL;
                }
        }
        if (!c->certs) {
                c->certs = calloc(1, sizeof(conf_cert *));
                if (!c->certs)
                        L.oom = true;
        }
        if (!c->reloaders) {
                c->reloaders = calloc(1, sizeof(conf_reload *));
                if (!c->reloaders)
                        L.oom = true;
        }

        free(ld->as_canon);
        entries_free(ld);
        strmap_free(by_name);
        strmap_free(by_dir);
        conf_path_cache_done(&pcache);
        for (size_t i = 0; i < c->n_certs; i++)
                free(canon[i]);
        free(canon);
        if (L.oom) {
                r = -ENOMEM;
                goto fail;
        }
        if (L.n_errs > 0) {
                r = -EINVAL;
                goto fail;
        }
        if (conf_loader_take(&L, true, &c->warnings) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        c->files = TAKE_PTR(L.files);
        L.n_files = L.alloc_files = 0;
        c->include_patterns = TAKE_PTR(ld->patterns);
        conf_loader_done(&L);
        *ret = c;
        return 0;

fail:
        if (ld)
                strv_free(TAKE_PTR(ld->patterns));
        if (r == -EINVAL && errs && conf_loader_take(&L, false, errs) < 0)
                r = -ENOMEM;
        if (r == -EINVAL && warnings && conf_loader_take(&L, true, warnings) < 0) {
                conf_errors_done(errs);
                r = -ENOMEM;
        }
        conf_loader_done(&L);
        conf_free(c);
        return r;
}

conf *conf_free(conf *c) {
        if (!c)
                return NULL;
        free(c->path);
        strv_free(c->files);
        strv_free(c->include_patterns);
        conf_aws_done(&c->aws);
        free(c->state_dir);
        free(c->output_root);
        free(c->daemon.metrics_textfile);
        conf_reloaders_free(c->reloaders);
        conf_errors_done(&c->warnings);
        for (conf_cert **i = c->certs; i && *i; i++)
                conf_cert_free(*i);
        free(c->certs);
        free(c);
        return NULL;
}

void conf_errors_done(conf_errors *errs) {
        if (!errs)
                return;
        for (size_t i = 0; i < errs->n; i++) {
                free((char *) errs->items[i].loc.file);
                free(errs->items[i].klass);
                free(errs->items[i].message);
                free(errs->items[i].hint);
        }
        free(errs->items);
        *errs = (conf_errors) {};
}

void conf_errors_print(const conf_errors *errs, FILE *f) {
        for (size_t i = 0; errs && i < errs->n; i++) {
                const conf_error *e = &errs->items[i];
                fprintf(f, "%s:%u:%u: %s\n", e->loc.file, e->loc.line, e->loc.column, e->message);
                if (e->hint)
                        fprintf(f, "  hint: %s\n", e->hint);
        }
}

void conf_warnings_print(const conf_errors *warnings, FILE *f) {
        for (size_t i = 0; warnings && i < warnings->n; i++) {
                const conf_error *e = &warnings->items[i];
                fprintf(f, "%s:%u:%u: warning: %s\n", e->loc.file, e->loc.line, e->loc.column, e->message);
                if (e->hint)
                        fprintf(f, "  hint: %s\n", e->hint);
        }
}
