/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Internal to the configuration loader (conf*.c): the YAML node layer with
 * locations, and the error list. Nothing outside conf*.c includes this.
 */
#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

#include "conf/conf.h"
#include "basic/macro.h"

#define CONF_MAX_FILE_SIZE (1024 * 1024)   /* bytes per file */
#define CONF_MAX_FILES 256                 /* main + drop-ins + includes */
#define CONF_MAX_CERTS 4096
#define CONF_MAX_NODES 100000              /* YAML nodes per file */
#define CONF_MAX_DEPTH 64                  /* nesting of mappings/lists */
#define CONF_MAX_SCALAR 65536              /* bytes in one scalar */

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

struct cnode {
        cnode_kind kind;
        conf_loc loc;
        char *str;          /* scalar text (NUL-terminated), NULL otherwise */
        size_t len;
        bool plain;         /* plain (unquoted) scalar */
        cnode **items;      /* sequence */
        size_t n_items;
        cpair *pairs;       /* mapping */
        size_t n_pairs;
        cnode *arena_next;  /* every node of a load is on one list, freed together */
};

typedef struct conf_loader {
        cnode *arena;
        char **files;        /* interned file names, in read order */
        size_t n_files;
        conf_error *errs;
        size_t n_errs;
        bool oom;
} conf_loader;

/* Interns a file name; returns the stable pointer or NULL on OOM. */
const char *conf_loader_intern(conf_loader *L, const char *file);

/* Records an error at loc (loc may be NULL: the file-less case is not used). */
void conf_loader_error(conf_loader *L, const conf_loc *loc, const char *klass, const char *hint,
                       const char *fmt, ...) _printf_(5, 6);

/* Allocates a node on the loader's arena. Returns NULL on OOM (and sets L->oom). */
cnode *conf_node_new(conf_loader *L, cnode_kind kind, const conf_loc *loc);

/*
 * Parses YAML text (len bytes, file is the interned name) into a node tree.
 * Syntax errors, aliases, too deep or too many nodes are recorded on L; the
 * returned root is then NULL. An empty document yields a CNODE_NULL root.
 */
cnode *conf_node_parse(conf_loader *L, const char *file, const char *data, size_t len);

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
