/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading: the main file, certs.d/ drop-ins and include: globs (with their
 * limits), the top level of the main file, certificates of every file in
 * file order, and the sorted error list. Sections are parsed in
 * conf-top.c (aws, daemon), conf-cert.c, conf-issuer.c and conf-reload.c.
 */
#include <glob.h>
#include <libgen.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

typedef conf_loader L_t;

static const char *const top_keys[] = { "aws", "state_dir", "output_root", "daemon", "reloaders", "defaults", "certificates",
                                        "include", NULL };

typedef struct file_doc {
        const char *file;     /* interned */
        cnode *root;
        const cnode *ref;     /* the include: entry that named it, NULL for main/certs.d */
} file_doc;

static cnode *read_doc(L_t *L, const char *file, const cnode *ref) {
        _cleanup_(freep) char *data = NULL;
        size_t len = 0;
        int r;
        const char *f = conf_loader_intern(L, file);
        conf_loc loc = { .file = f, .line = 1, .column = 1 };

        if (!f)
                return NULL;
        r = read_full_file(file, CONF_MAX_FILE_SIZE, &data, &len);
        if (r == -EFBIG) {
                conf_loader_error(L, ref ? &ref->loc : &loc, "too-large", "split it into drop-in files under certs.d/",
                                  "%s is larger than %d bytes", file, CONF_MAX_FILE_SIZE);
                return NULL;
        }
        if (r == -ENOMEM)
                return L->oom = true, NULL;
        if (r < 0) {
                conf_loader_error(L, ref ? &ref->loc : &loc, "io",
                                  r == -ENOENT   ? "create the file or fix the path"
                                  : r == -EISDIR ? "name a regular file, not a directory"
                                  : r == -EACCES ? "check the file's permissions (the agent runs as root)"
                                                 : "check the file and the file system",
                                  "cannot read %s: %s", file, strerror(-r));
                return NULL;
        }
        return conf_node_parse(L, f, data, len);
}

static int path_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Reads the files one include: pattern matches (relative to dir), sorted, skipping files already read. */
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

/*
 * Reads every file matching the absolute pattern full, in sorted order,
 * skipping the main file and files already read. e is the include: entry
 * that named the pattern; NULL for certs.d/ beside the main file, whose
 * errors point at the main file.
 */
static void read_glob(L_t *L, const char *full, const cnode *e, const char *mainf, const char *mainpath,
                      file_doc *docs, size_t *n_docs) {
        conf_loc at = { .file = mainf, .line = 1, .column = 1 };
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
                                  "%s: cannot read the directory %s: %s", full, glob_errpath,
                                  strerror(glob_errno ?: EIO));
        else if (gr == 0) {
                qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), path_cmp);
                for (size_t k = 0; k < g.gl_pathc; k++) {
                        bool seen = streq(g.gl_pathv[k], mainpath);
                        for (size_t d = 0; d < *n_docs && !seen; d++)
                                seen = docs[d].file && streq(docs[d].file, g.gl_pathv[k]);
                        if (seen)
                                continue;
                        if (*n_docs >= CONF_MAX_FILES) {
                                conf_loader_error(L, &at, "too-large", "merge drop-in files",
                                                  "more than %d configuration files", CONF_MAX_FILES);
                                break;
                        }
                        cnode *d = read_doc(L, g.gl_pathv[k], e);
                        docs[(*n_docs)++] = (file_doc) { .file = conf_loader_intern(L, g.gl_pathv[k]), .root = d, .ref = e };
                }
        }
        globfree(&g);
}

static void include_glob(L_t *L, const cnode *e, const char *dir, const char *mainpath, file_doc *docs, size_t *n_docs) {
        const char *pat = conf_nonempty(L, e, "include");
        _cleanup_(freep) char *full = NULL;

        if (!pat)
                return;
        full = pat[0] == '/' ? strdup(pat) : path_join(dir, pat);
        if (!full) {
                L->oom = true;
                return;
        }
        read_glob(L, full, e, NULL, mainpath, docs, n_docs);
}

int conf_load(const char *path, conf **ret, conf_errors *errs) {
        L_t L = {};
        conf *c = NULL;
        file_doc docs[CONF_MAX_FILES];
        size_t n_docs = 0;
        cnode *root;
        int r;

        if (errs)
                *errs = (conf_errors) {};
        c = calloc(1, sizeof(conf));
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        if (!c->path) {
                free(c);
                return -ENOMEM;
        }

        root = read_doc(&L, path, NULL);
        const char *mainf = L.n_files ? L.files[0] : path;
        conf_ctx x = { .L = &L, .c = c };
        c->daemon = (conf_daemon) { .reload_debounce = 5, .acm_poll_interval = 6 * 3600 };

        /* Top-level sections of the main file. */
        if (root && root->kind != CNODE_NULL && conf_want_map(&L, root, "the configuration file")) {
                cnode *v;
                conf_check_keys(&L, root, top_keys, "the main configuration");
                if ((v = conf_get(root, "aws")))
                        conf_aws_parse(&L, &c->aws, v);
                else
                        conf_aws_parse(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = root->loc });
                conf_get_path(&L, root, "state_dir", &c->state_dir);
                conf_get_path(&L, root, "output_root", &c->output_root);
                if ((v = conf_get(root, "daemon")))
                        conf_daemon_parse(&L, &c->daemon, v);
                if ((v = conf_get(root, "reloaders")) && conf_want_map(&L, v, "reloaders")) {
                        static conf_keylist rk = { "nginx", "haproxy", NULL };
                        conf_check_keys(&L, v, rk, "reloaders");
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
                                conf_get_path(&L, v, "output_root", &c->output_root);
                        }
                }
        }
        if (!c->aws.role_session_name) {
                /* No (valid) aws: section: the defaults. */
                conf_aws_parse(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = { .file = mainf, .line = 1, .column = 1 } });
        }
        if (!c->state_dir)
                c->state_dir = conf_strdup(&L, CONF_DEFAULT_STATE_DIR);
        if (!c->output_root)
                c->output_root = conf_strdup(&L, CONF_DEFAULT_OUTPUT_ROOT);

        docs[n_docs++] = (file_doc) { .file = mainf, .root = root };

        /* Drop-ins: certs.d/ *.yaml beside the main file, then include: globs. */
        _cleanup_(freep) char *pcopy = strdup(path);
        if (!pcopy) {
                conf_loader_done(&L);
                conf_free(c);
                return -ENOMEM;
        }
        const char *dir = dirname(pcopy);
        {
                _cleanup_(freep) char *pattern = strprintf("%s/certs.d/*.yaml", dir);
                if (pattern)
                        read_glob(&L, pattern, NULL, mainf, path, docs, &n_docs);
                else
                        L.oom = true;
        }
        cnode *inc = root && root->kind == CNODE_MAP ? conf_get(root, "include") : NULL;
        if (inc && inc->kind == CNODE_SCALAR)
                include_glob(&L, inc, dir, path, docs, &n_docs);
        else if (inc && inc->kind == CNODE_SEQ)
                for (size_t ii = 0; ii < inc->n_items; ii++)
                        include_glob(&L, inc->items[ii], dir, path, docs, &n_docs);
        else if (inc)
                conf_err_at(&L, inc, "type", "write include: [\"extra/*.yaml\"]", "include must be a glob or a list of globs");

        /* Certificates of every file, in file order. */
        size_t cap = 0;
        for (size_t d = 0; d < n_docs; d++) {
                cnode *dr = docs[d].root, *list;
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
                                for (const char *const *t = top_keys; *t; t++)
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
                        conf_cert *cert = conf_cert_parse(&x, list->items[i]);
                        if (!cert)
                                continue;
                        if (c->n_certs + 2 > cap) {
                                size_t ncap = cap ? cap * 2 : 16;
                                conf_cert **nv = realloc(c->certs, ncap * sizeof(conf_cert *));
                                if (!nv) {
                                        conf_cert_free(cert);
                                        L.oom = true;
                                        break;
                                }
                                c->certs = nv;
                                cap = ncap;
                        }
                        for (size_t j = 0; j < c->n_certs && cert->name; j++) {
                                const conf_cert *o = c->certs[j];
                                if (o->name && streq(o->name, cert->name)) {
                                        char hint[512];
                                        snprintf(hint, sizeof hint, "rename one of them (the other is at %s:%u:%u)", o->loc.file,
                                                 o->loc.line, o->loc.column);
                                        conf_err_at(&L, list->items[i], "duplicate", hint,
                                               "certificate name '%s' is also defined at %s:%u:%u", cert->name, o->loc.file,
                                               o->loc.line, o->loc.column);
                                        break;
                                }
                                if (o->output.dir && cert->output.dir && streq(o->output.dir, cert->output.dir)) {
                                        char hint[512];
                                        snprintf(hint, sizeof hint, "give each certificate its own output.dir (the other is '%s' at %s:%u:%u)",
                                                 o->name ? o->name : "?", o->loc.file, o->loc.line, o->loc.column);
                                        conf_err_at(&L, list->items[i], "duplicate", hint,
                                               "certificate '%s' writes to %s, as does '%s' at %s:%u:%u", cert->name,
                                               cert->output.dir, o->name ? o->name : "?", o->loc.file, o->loc.line, o->loc.column);
                                        break;
                                }
                        }
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

        if (L.oom) {
                r = -ENOMEM;
                goto fail;
        }
        if (L.n_errs > 0) {
                r = -EINVAL;
                goto fail;
        }
        c->files = TAKE_PTR(L.files);
        L.n_files = 0;
        conf_loader_done(&L);
        *ret = c;
        return 0;

fail:
        if (errs && r == -EINVAL) {
                /* Sort by file order, line, column; drop exact repeats (a default reported per certificate). */
                size_t nf = L.n_files;
                for (size_t i = 1; i < L.n_errs; i++)
                        for (size_t j = i; j > 0; j--) {
                                conf_error *a = &L.errs[j - 1], *b = &L.errs[j];
                                size_t fa = nf, fb = nf;
                                for (size_t k = 0; k < nf; k++) {
                                        if (L.files[k] == a->loc.file)
                                                fa = k;
                                        if (L.files[k] == b->loc.file)
                                                fb = k;
                                }
                                bool swap = fa > fb || (fa == fb && (a->loc.line > b->loc.line ||
                                                                     (a->loc.line == b->loc.line && a->loc.column > b->loc.column)));
                                if (!swap)
                                        break;
                                conf_error t = *a;
                                *a = *b;
                                *b = t;
                        }
                errs->items = calloc(L.n_errs, sizeof(conf_error));
                if (!errs->items)
                        r = -ENOMEM;
                for (size_t i = 0; errs->items && i < L.n_errs; i++) {
                        conf_error *e = &L.errs[i];
                        bool dup = false;
                        for (size_t j = 0; j < errs->n && !dup; j++) {
                                conf_error *o = &errs->items[j];
                                dup = streq(o->loc.file, e->loc.file) && o->loc.line == e->loc.line &&
                                      o->loc.column == e->loc.column && streq(o->message, e->message);
                        }
                        if (dup)
                                continue;
                        conf_error *o = &errs->items[errs->n++];
                        o->loc = e->loc;
                        o->loc.file = strdup(e->loc.file);
                        o->klass = TAKE_PTR(e->klass);
                        o->message = TAKE_PTR(e->message);
                        o->hint = TAKE_PTR(e->hint);
                        if (!o->loc.file || !o->klass || !o->message)
                                r = -ENOMEM;
                }
                if (r == -ENOMEM)
                        conf_errors_done(errs);
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
        conf_aws_done(&c->aws);
        free(c->state_dir);
        free(c->output_root);
        free(c->daemon.metrics_textfile);
        conf_reloaders_free(c->reloaders);
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
