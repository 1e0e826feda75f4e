/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Internal to the configuration loader (agent/conf/conf-*.c): the YAML node
 * layer with locations, the error and warning lists, typed values, paths,
 * windows, key lists and the parsers of each section. Nothing outside
 * agent/conf/ includes this except the loader's own unit tests.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "conf/conf-check.h"
#include "basic/macro.h"

#define CONF_MAX_FILE_SIZE (1024 * 1024)   /* bytes per file */
#define CONF_MAX_FILES 256                 /* main + drop-ins + includes */
#define CONF_MAX_CERTS 4096
#define CONF_MAX_NODES 100000              /* YAML nodes per file */
#define CONF_MAX_DEPTH 64                  /* nesting of mappings/lists */
#define CONF_MAX_SCALAR 65536              /* bytes in one scalar */
#define CONF_MAX_CA_BUNDLE (16 * 1024 * 1024)  /* bytes of aws.ca_bundle */
#define CONF_MAX_WINDOWS 32                /* reload_window entries */
#define CONF_MAX_NAMESERVERS 16

typedef enum cnode_kind {
        CNODE_NULL,     /* null, ~ or an empty value */
        CNODE_SCALAR,
        CNODE_SEQ,
        CNODE_MAP,
} cnode_kind;

typedef struct cnode cnode;

typedef struct cpair {
        cnode *key;
        cnode *value;
        bool from_defaults;  /* merged in from `defaults:` */
} cpair;

/* A node, its text and its items or pairs live on the loader's arena
 * (conf_arena_alloc()) and are freed together by conf_loader_done(). */
struct cnode {
        cnode_kind kind;
        bool plain;         /* plain (unquoted) scalar */
        conf_loc loc;
        char *str;          /* scalar text (NUL-terminated), NULL otherwise */
        size_t len;
        cnode **items;      /* sequence */
        size_t n_items;
        cpair *pairs;       /* mapping */
        size_t n_pairs;
};

typedef struct conf_chunk conf_chunk;

typedef struct conf_loader {
        conf_chunk *chunks;  /* the arena: nodes, their text and children (conf_arena_alloc) */
        char *bump, *bump_end;
        char **files;        /* interned file names, in read order, NULL-terminated */
        size_t n_files, alloc_files;
        conf_error *errs;
        size_t n_errs, alloc_errs;
        conf_error *warns;   /* warnings: accepted, but the operator should change something */
        size_t n_warns, alloc_warns;
        bool oom;
        /* conf_node_parse(): called with each pair of the document's
         * top-level mapping whose key and value are scalars, as soon as
         * it is read (before the rest of the document); NULL = none */
        void (*on_top_scalar)(const char *key, const char *value, void *userdata);
        void *top_userdata;
} conf_loader;

/*
 * Makes room for need elements of size bytes in *p (capacity *cap),
 * growing geometrically. Returns 0, or -ENOMEM with *p and *cap unchanged.
 */
int conf_grow(void **p, size_t *cap, size_t need, size_t size);
#define CONF_GROW(p, cap, need) conf_grow((void **) &(p), &(cap), (need), sizeof(*(p)))

/* Interns a file name; returns the stable pointer or NULL on OOM. */
const char *conf_loader_intern(conf_loader *L, const char *file);

/* Records an error at loc (loc may be NULL: the file-less case is not used). */
void conf_loader_error(conf_loader *L, const conf_loc *loc, const char *klass, const char *hint,
                       const char *fmt, ...) _printf_(5, 6);

/* Records a warning at node n (it does not make the configuration invalid). */
void conf_warn_at(conf_loader *L, const cnode *n, const char *klass, const char *hint, const char *fmt, ...) _printf_(5, 6);

/*
 * Moves the loader's errors (warnings when warnings is true) into out,
 * sorted by file (in read order), line and column, exact repeats dropped
 * (a default is reported once per certificate). Returns 0 or -ENOMEM (out
 * is then empty).
 */
int conf_loader_take(conf_loader *L, bool warnings, conf_errors *out);

/* size bytes (aligned for any type) on the loader's arena, freed with it
 * by conf_loader_done(); NULL on OOM (and sets L->oom). */
void *conf_arena_alloc(conf_loader *L, size_t size);

/* Allocates a node on the loader's arena. Returns NULL on OOM (and sets
 * L->oom). */
cnode *conf_node_new(conf_loader *L, cnode_kind kind, const conf_loc *loc);

/*
 * Parses the YAML read from fd (file is the interned name) into a node
 * tree, reading as the parser goes. Syntax errors, aliases, too deep or too
 * many nodes are recorded on L; the returned root is then NULL. When
 * reading fails, or fd yields more than max bytes, nothing is recorded:
 * NULL, and *ret_read_error is -EFBIG or -errno for the caller to report
 * (else 0). An empty document yields a CNODE_NULL root.
 */
cnode *conf_node_parse(conf_loader *L, const char *file, int fd, size_t max, int *ret_read_error);

/* Frees every node, file name and error of the loader. */
void conf_loader_done(conf_loader *L);

/* Human name of a node's type for messages ("a mapping", "a list", "a string", "null"). */
const char *conf_node_type_name(const cnode *n);

/* The value of key in a mapping (NULL when absent); *ret_pair gets the pair when not NULL. */
cnode *conf_node_get(const cnode *map, const char *key, const cpair **ret_pair);

/* Levenshtein distance of two short strings (bounded to 64 chars each, else SIZE_MAX). */
size_t conf_edit_distance(const char *a, const char *b);

/* Records an error at node n. */
void conf_err_at(conf_loader *L, const cnode *n, const char *klass, const char *hint, const char *fmt, ...) _printf_(5, 6);

/*
 * Reports every key of map that is not in keys (NULL-terminated) as
 * "unknown-key" with the nearest valid key as the hint, non-string keys as
 * "type", and a key written twice (from the same origin) as "duplicate".
 */
void conf_check_keys(conf_loader *L, const cnode *map, const char *const *keys, const char *what);

/* The value of key when present and not null, else NULL. */
cnode *conf_get(const cnode *map, const char *key);

/* true when n is a mapping, else reports a "type" error. */
bool conf_want_map(conf_loader *L, const cnode *n, const char *what);

/* The text of a scalar, else NULL after a "type" error. */
const char *conf_scalar(conf_loader *L, const cnode *n, const char *what);

/* Case-insensitive index of n's text in values (NULL-terminated), else -1 after an "enum" error. */
int conf_get_enum(conf_loader *L, const cnode *n, const char *what, const char *const *values);

/* Validates issuer.api_passthrough; returns the JSON to send (new reference) or NULL after errors. */
json_t *conf_api_passthrough_parse(conf_loader *L, const cnode *n);

/* ---- typed values (conf-value.c) ------------------------------------------
 * Each getter looks key up in map (absent or null: returns false and
 * reports nothing), reports a wrong value at its location and returns false,
 * or stores the value in *out and returns true. */

/* A key list for conf_check_keys(); NULL-terminated. */
typedef const char *const conf_keylist[];

/* strdup that records OOM on L; NULL in, NULL out. */
char *conf_strdup(conf_loader *L, const char *s);

/* The pair of key in map when present and not null, else NULL. */
const cpair *conf_get_pair(const cnode *map, const char *key);

/* The text of a scalar that is not empty, else NULL after an error. */
const char *conf_nonempty(conf_loader *L, const cnode *n, const char *what);

bool conf_get_bool(conf_loader *L, const cnode *map, const char *key, bool *out);
bool conf_get_str(conf_loader *L, const cnode *map, const char *key, char **out);
/* An absolute path shorter than PATH_MAX. */
bool conf_get_path(conf_loader *L, const cnode *map, const char *key, char **out);
/* A duration within [min, max] seconds; "0s" only when min is 0. */
bool conf_get_duration(conf_loader *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max);
bool conf_get_uint(conf_loader *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max);
bool conf_get_arn(conf_loader *L, const cnode *map, const char *key, conf_arn_kind kind, char **out);

/* A list of at most max non-empty strings (a single scalar is refused); NULL-terminated, or NULL after errors. */
char **conf_get_strv(conf_loader *L, const cnode *n, const char *what, size_t max);

/* A command: an argv list, or (when allow_string) one program string. NULL after errors. */
char **conf_get_argv(conf_loader *L, const cnode *n, const char *what, bool allow_string);

/* owner: / group: n as a name or a numeric id: sets *id (and *name for a name) when it exists on this host. */
void conf_lookup_owner(conf_loader *L, const cnode *n, bool group, uint32_t *id, char **name);

/* Reports a "conflict" when keys a and b are both set in map from the same origin; returns true then. */
bool conf_conflict(conf_loader *L, const cnode *map, const char *a, const char *b, const char *hint);

/* ---- the sections (conf-top.c, conf-cert.c, conf-issuer.c, conf-reload.c) ---- */

/* What the parsers of one load share. */
typedef struct conf_dir_entry conf_dir_entry;

typedef struct conf_path_cache {
        char *parent, *canon;
        /* canon's entries, sorted by name: listed at the second child looked
         * up in it (one directory read instead of an lstat(2) per child);
         * listed < 0: it could not be read, each child is lstat'ed */
        unsigned lookups;
        int listed;
        conf_dir_entry *entries;
        size_t n_entries;
} conf_path_cache;

typedef struct conf_ctx {
        conf_loader *L;
        conf *c;                   /* the configuration being built */
        const cnode *reloaders;    /* the `reloaders:` mapping of the main file, or NULL */
        const cnode *defaults;     /* the `defaults:` mapping of the main file, or NULL */
        const cnode *output_root;  /* where output_root was set (top level or defaults), or NULL */
        size_t n_reloaders, alloc_reloaders;   /* of c->reloaders */
        conf_path_cache *paths;    /* output directories' parents, resolved once */
        char **output_canon;       /* when not NULL: the canonical output.dir of the certificate
                                    * conf_cert_parse() just made, or NULL (the caller frees it) */
} conf_ctx;

/* The keys of a certificate entry (also what `defaults:` may hold, except name). */
extern const char *const conf_cert_keys[];

/* `aws:` into *a (defaults filled in; call it with an empty mapping when absent). */
void conf_aws_parse(conf_loader *L, conf_aws *a, const cnode *n);

/* `daemon:` into *d, over the defaults already in *d. */
void conf_daemon_parse(conf_loader *L, conf_daemon *d, const cnode *n);

/* One `certificates:` entry, merged with x->defaults. NULL when raw is not a mapping or on OOM. */
conf_cert *conf_cert_parse(conf_ctx *x, cnode *raw);
/* Frees a certificate; accepts NULL; returns NULL. */
conf_cert *conf_cert_free(conf_cert *c);

/* `issuer:` of c (sets c->issuer_type and the matching union member). */
void conf_issuer_parse(conf_loader *L, conf_cert *c, const cnode *n);
/*
 * The checks of a parsed issuer that need the certificate's names (ACM:
 * RequestCertificate's DomainName / SubjectAlternativeNames /
 * ValidationDomain rules; pca: something to name). names_written: a names
 * key is set (its errors were reported already).
 */
void conf_issuer_check_names(conf_loader *L, conf_cert *cert, const cnode *n, bool names_written);
/* Frees the issuer part of c. */
void conf_issuer_done(conf_cert *c);

/* `hooks:` into *h. */
void conf_hooks_parse(conf_loader *L, conf_hooks *h, const cnode *n);

/* The nginx/haproxy target of that name, created from `reloaders:` on first use (shared). NULL after OOM. */
conf_reload *conf_reloader_named(conf_ctx *x, const char *name);
/* A `reload:` entry: the shared target it names, or NULL after errors. */
conf_reload *conf_reload_target(conf_ctx *x, const cnode *n);
/* Frees a NULL-terminated list of targets and the targets. */
void conf_reloaders_free(conf_reload **l);

/* Reports a "window" error unless n is a reload_window string or list; stores the windows. */
void conf_window_parse_node(conf_loader *L, const cnode *n, conf_window **ret, size_t *ret_n);

/*
 * Parses one "DAYS HH:MM-HH:MM" window (DAYS: daily, Mon..Sun, ranges
 * Mon-Fri, comma lists Sat,Sun). Returns NULL and sets *ret, or a static
 * message saying what is wrong.
 */
const char *conf_window_parse(const char *s, conf_window *ret);

/* ---- paths and files (conf-path.c) ---- */

/*
 * The lexically normalised form of p, made absolute against the working
 * directory when relative: no empty, "." or ".." components ("/.." is "/"),
 * no trailing '/'. Returns 0 and *ret, or -ENOMEM / -errno of getcwd.
 */
int conf_path_normalize(const char *p, char **ret);

/*
 * The form in which two paths are compared: conf_path_normalize(), then
 * the longest prefix that exists resolved with realpath(3) (symlinks of
 * existing ancestors), the rest appended. Returns 0 and *ret or -errno.
 */
int conf_path_canonical(const char *p, char **ret);

/*
 * conf_path_canonical() for many paths that share their parent directory
 * (a thousand output directories under one output_root): the parent's
 * canonical form is kept in *cache (the last one asked), so each further
 * path costs one lstat(2) of its last component instead of a realpath(3)
 * walk. Same result as conf_path_canonical(). conf_path_cache_done() frees
 * the cache.
 */
int conf_path_canonical_cached(const char *p, conf_path_cache *cache, char **ret);

/*
 * conf_path_canonical_cached(), and what stat(2) of the canonical path
 * says, in *ret_stat_r: 0 with the file type (st_mode & S_IFMT) in
 * *ret_type, or -errno (-ENOENT: it does not exist, -ENOTDIR: a parent is
 * not a directory). When the last component is no symlink that is what the
 * lookup found (the parents are resolved: the entry in the parent's listing,
 * or an lstat(2)); a symlink is followed by a stat(2) of its own. Both
 * outputs are set only when 0 is returned.
 */
int conf_path_canonical_stat(const char *p, conf_path_cache *cache, char **ret, mode_t *ret_type, int *ret_stat_r);
void conf_path_cache_done(conf_path_cache *cache);

/* "/proc", "/sys" or "/dev" when normalised path p is that or below it; NULL otherwise. */
const char *conf_path_virtual(const char *p);

/* "a regular file", "a directory", "a FIFO", "a character device", "a block device", "a socket", "a symbolic link" or "not a regular file". */

/*
 * Opens the regular file at path, of at most max bytes, for reading
 * (O_RDONLY, O_NONBLOCK, O_CLOEXEC): the descriptor. The type is checked
 * with stat before the file is opened (a device is never opened) and
 * again with fstat on the descriptor (a FIFO never blocks). -EFBIG when
 * larger than max; -EISDIR or -ENODEV (another kind of file, *why names
 * it) when not a regular file; -errno otherwise (*why is then not
 * touched). A reader still bounds what it reads: the file may grow.
 */
int conf_open_regular_file(const char *path, size_t max, const char **why);

/*
 * Whether the regular file at path (checked as conf_open_regular_file()
 * checks it: at most max bytes, never a device or a FIFO) contains needle
 * (shorter than 8 KiB): 1 yes, 0 no, or that function's errors. Reads only
 * as far as the first occurrence: a CA bundle of 200 KiB is known to hold
 * a PEM certificate after its first 16 KiB.
 */
int conf_regular_file_contains(const char *path, size_t max, const char *needle, const char **why);

/* ---- key lists, one per mapping (conf-keys.c lists every path for documentation checks) ---- */

extern const char *const conf_keys_top[];
extern const char *const conf_keys_aws[];
extern const char *const conf_keys_daemon[];
extern const char *const conf_keys_reloaders[];
extern const char *const conf_keys_nginx[];
extern const char *const conf_keys_haproxy[];
extern const char *const conf_keys_pca[];
extern const char *const conf_keys_validity[];
extern const char *const conf_keys_acm[];
extern const char *const conf_keys_import[];
extern const char *const conf_keys_subject[];
extern const char *const conf_keys_custom_attribute[];
extern const char *const conf_keys_key[];
extern const char *const conf_keys_dns[];
extern const char *const conf_keys_output[];
extern const char *const conf_keys_hooks[];
extern const char *const conf_keys_reload_target[];

/* "service:Operation" of the acm, acm-pca, route53 and sts models, NULL-terminated (conf-aws-ops.c). */
extern const char *const conf_aws_operations[];
