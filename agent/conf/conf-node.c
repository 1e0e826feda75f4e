/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML layer of the configuration loader: libyaml events to a small
 * node tree where every node knows its file, line and column. Aliases are
 * refused (no expansion, so no alias bombs); depth, node count and scalar
 * length are bounded.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <yaml.h>

#include "conf/conf-internal.h"
#include "basic/util.h"

int conf_grow(void **p, size_t *cap, size_t need, size_t size) {
        size_t n = *cap ? *cap : 8;
        void *q;

        if (need <= *cap)
                return 0;
        while (n < need) {
                if (n > SIZE_MAX / 2)
                        return -ENOMEM;
                n *= 2;
        }
        if (n > SIZE_MAX / size)
                return -ENOMEM;
        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}

const char *conf_loader_intern(conf_loader *L, const char *file) {
        for (size_t i = 0; i < L->n_files; i++)
                if (streq(L->files[i], file))
                        return L->files[i];
        if (CONF_GROW(L->files, L->alloc_files, L->n_files + 2) < 0) {
                L->oom = true;
                return NULL;
        }
        L->files[L->n_files] = strdup(file);
        if (!L->files[L->n_files]) {
                L->oom = true;
                return NULL;
        }
        L->files[++L->n_files] = NULL;
        return L->files[L->n_files - 1];
}

/* Appends one diagnostic (msg is taken over) to an error or warning list. */
static void add_diag(conf_loader *L, bool warning, const conf_loc *loc, const char *klass, const char *hint, char *msg) {
        conf_error **list = warning ? &L->warns : &L->errs;
        size_t *n = warning ? &L->n_warns : &L->n_errs, *alloc = warning ? &L->alloc_warns : &L->alloc_errs;
        conf_error *e;

        if (!msg || conf_grow((void **) list, alloc, *n + 1, sizeof(conf_error)) < 0) {
                free(msg);
                L->oom = true;
                return;
        }
        e = &(*list)[(*n)++];
        *e = (conf_error) {
                .loc = loc ? *loc : (conf_loc) { .file = L->n_files ? L->files[0] : "?", .line = 1, .column = 1 },
                .klass = strdup(klass),
                .message = msg,
                .hint = hint ? strdup(hint) : NULL,
        };
        if (!e->klass || (hint && !e->hint))
                L->oom = true;
}

void conf_loader_error(conf_loader *L, const conf_loc *loc, const char *klass, const char *hint,
                       const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        add_diag(L, false, loc, klass, hint, msg);
}

void conf_warn_at(conf_loader *L, const cnode *n, const char *klass, const char *hint, const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        add_diag(L, true, &n->loc, klass, hint, msg);
}

static size_t file_index(const conf_loader *L, const char *f) {
        for (size_t k = 0; k < L->n_files; k++)
                if (L->files[k] == f)
                        return k;
        return L->n_files;
}

int conf_loader_take(conf_loader *L, bool warnings, conf_errors *out) {
        conf_error *list = warnings ? L->warns : L->errs;
        size_t n = warnings ? L->n_warns : L->n_errs;

        *out = (conf_errors) {};
        if (n == 0)
                return 0;
        /* Insertion sort by file order, line, column: stable, and the lists are short and nearly sorted. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0; j--) {
                        conf_error *a = &list[j - 1], *b = &list[j];
                        size_t fa = file_index(L, a->loc.file), fb = file_index(L, b->loc.file);
                        bool swap = fa > fb || (fa == fb && (a->loc.line > b->loc.line ||
                                                             (a->loc.line == b->loc.line && a->loc.column > b->loc.column)));
                        if (!swap)
                                break;
                        conf_error t = *a;
                        *a = *b;
                        *b = t;
                }
        out->items = calloc(n, sizeof(conf_error));
        if (!out->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                conf_error *e = &list[i];
                bool dup = false;
                for (size_t j = 0; j < out->n && !dup; j++) {
                        conf_error *o = &out->items[j];
                        dup = streq(o->loc.file, e->loc.file) && o->loc.line == e->loc.line &&
                              o->loc.column == e->loc.column && streq(o->message, e->message);
                }
                if (dup)
                        continue;
                conf_error *o = &out->items[out->n++];
                o->loc = e->loc;
                o->loc.file = strdup(e->loc.file);
                o->klass = TAKE_PTR(e->klass);
                o->message = TAKE_PTR(e->message);
                o->hint = TAKE_PTR(e->hint);
                if (!o->loc.file || !o->klass || !o->message) {
                        conf_errors_done(out);
                        return -ENOMEM;
                }
        }
        return 0;
}

/*
 * The nodes of a load, their text and their children's arrays come from
 * chunks of CHUNK_SIZE bytes that conf_loader_done() frees together: a
 * configuration of a thousand certificates has some twenty thousand nodes,
 * and a malloc() and a free() for each node, scalar and array were a tenth
 * of the time it took to load. (An array is made once, at its exact size,
 * when its sequence or mapping ends: see conf_node_parse().)
 */
#define CHUNK_SIZE (64 * 1024)

struct conf_chunk {
        conf_chunk *next;
        max_align_t data[];
};

/*
 * A chunk is filled right away, page after page: its pages are asked for
 * in one madvise(MADV_POPULATE_WRITE) call instead of one page fault each
 * (a thousand certificates fill some 30 chunks; on virtual machines a
 * page fault costs several microseconds). Before Linux 5.14 the call
 * fails and the pages come one fault at a time, as without it.
 */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static void populate(void *p, size_t size) {
        uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
        uintptr_t lo = ((uintptr_t) p + page - 1) & ~(page - 1), hi = ((uintptr_t) p + size) & ~(page - 1);

        if (hi > lo)
                (void) madvise((void *) lo, hi - lo, MADV_POPULATE_WRITE);
}

void *conf_arena_alloc(conf_loader *L, size_t size) {
        size_t align = _Alignof(max_align_t), big = CHUNK_SIZE / 4, chunk;
        conf_chunk *c;
        void *p;

        size = (size + align - 1) & ~(align - 1);
        if ((size_t) (L->bump_end - L->bump) >= size) {
                p = L->bump;
                L->bump += size;
                return p;
        }
        chunk = sizeof(conf_chunk) + (size > big ? size : CHUNK_SIZE);
        c = malloc(chunk);
        if (!c) {
                L->oom = true;
                return NULL;
        }
        c->next = L->chunks;
        L->chunks = c;
        populate(c, chunk);
        if (size > big)  /* a chunk of its own; the current one goes on */
                return c->data;
        L->bump = (char *) c->data + size;
        L->bump_end = (char *) c->data + CHUNK_SIZE;
        return c->data;
}

cnode *conf_node_new(conf_loader *L, cnode_kind kind, const conf_loc *loc) {
        cnode *n = conf_arena_alloc(L, sizeof(cnode));
        if (!n)
                return NULL;
        *n = (cnode) { .kind = kind };
        if (loc)
                n->loc = *loc;
        return n;
}

void conf_loader_done(conf_loader *L) {
        while (L->chunks) {
                conf_chunk *c = L->chunks;
                L->chunks = c->next;
                free(c);
        }
        L->bump = L->bump_end = NULL;
        for (size_t i = 0; i < L->n_files; i++)
                free(L->files[i]);
        free(L->files);
        L->files = NULL;
        L->n_files = L->alloc_files = 0;
        for (size_t i = 0; i < L->n_errs; i++) {
                free(L->errs[i].klass);
                free(L->errs[i].message);
                free(L->errs[i].hint);
        }
        free(L->errs);
        L->errs = NULL;
        L->n_errs = L->alloc_errs = 0;
        for (size_t i = 0; i < L->n_warns; i++) {
                free(L->warns[i].klass);
                free(L->warns[i].message);
                free(L->warns[i].hint);
        }
        free(L->warns);
        L->warns = NULL;
        L->n_warns = L->alloc_warns = 0;
}

const char *conf_node_type_name(const cnode *n) {
        if (!n)
                return "nothing";
        switch (n->kind) {
        case CNODE_NULL:
                return "null";
        case CNODE_SCALAR:
                return "a scalar";
        case CNODE_SEQ:
                return "a list";
        case CNODE_MAP:
                return "a mapping";
        }
        return "?";
}

cnode *conf_node_get(const cnode *map, const char *key, const cpair **ret_pair) {
        if (!map || map->kind != CNODE_MAP)
                return NULL;
        /* The last occurrence wins for lookups; duplicates are reported by the schema layer. */
        for (size_t i = map->n_pairs; i > 0; i--) {
                const cpair *p = &map->pairs[i - 1];
                if (p->key->kind == CNODE_SCALAR && streq(p->key->str, key)) {
                        if (ret_pair)
                                *ret_pair = p;
                        return p->value;
                }
        }
        return NULL;
}

size_t conf_edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t prev[65], cur[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
                        cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
                memcpy(prev, cur, sizeof(size_t) * (lb + 1));
        }
        return prev[lb];
}

static bool is_null_text(const char *s) {
        return streq(s, "") || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static conf_loc mark_loc(const char *file, yaml_mark_t m) {
        return (conf_loc) { .file = file, .line = (unsigned) m.line + 1, .column = (unsigned) m.column + 1 };
}

typedef struct frame {
        cnode *node;
        cnode *pending_key;   /* mapping: key waiting for its value */
        size_t n;             /* children collected so far (in the depth's scratch) */
} frame;

/* Per depth, where the children of the open sequence or mapping gather
 * (cap bytes, reused by the next one at that depth) until it ends. */
typedef struct scratch {
        void *p;
        size_t cap;
} scratch;

static int attach(conf_loader *L, frame *stack, scratch *sc, size_t depth, cnode *child, cnode **root) {
        if (depth == 0) {
                *root = child;
                return 0;
        }
        frame *f = &stack[depth - 1];
        scratch *s = &sc[depth - 1];
        bool seq = f->node->kind == CNODE_SEQ;
        if (!seq && !f->pending_key) {
                f->pending_key = child;
                return 0;
        }
        if (conf_grow(&s->p, &s->cap, (f->n + 1) * (seq ? sizeof(cnode *) : sizeof(cpair)), 1) < 0)
                return L->oom = true, -ENOMEM;
        if (seq)
                ((cnode **) s->p)[f->n++] = child;
        else {
                ((cpair *) s->p)[f->n++] = (cpair) { .key = f->pending_key, .value = child };
                f->pending_key = NULL;
        }
        return 0;
}

/* The sequence or mapping of f ends: its children, at their exact size,
 * onto the arena. */
static int close_frame(conf_loader *L, frame *f, const scratch *s) {
        cnode *n = f->node;
        size_t size = n->kind == CNODE_SEQ ? sizeof(cnode *) : sizeof(cpair);
        void *a;

        if (f->n == 0)
                return 0;
        a = conf_arena_alloc(L, f->n * size);
        if (!a)
                return -ENOMEM;
        memcpy(a, s->p, f->n * size);
        if (n->kind == CNODE_SEQ) {
                n->items = a;
                n->n_items = f->n;
        } else {
                n->pairs = a;
                n->n_pairs = f->n;
        }
        return 0;
}

/* The file, read as libyaml asks for more (never more than max bytes in
 * all): no copy of a whole configuration file is ever held. */
typedef struct file_input {
        int fd;
        size_t max, total;
        int error;  /* why the reader failed: -EFBIG or -errno */
} file_input;

static int read_input(void *data, unsigned char *buffer, size_t size, size_t *size_read) {
        file_input *in = data;
        ssize_t k;

        do
                k = read(in->fd, buffer, size);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
                in->error = -errno;
                return 0;
        }
        in->total += (size_t) k;
        if (in->total > in->max) {
                in->error = -EFBIG;
                return 0;
        }
        *size_read = (size_t) k;
        return 1;
}

cnode *conf_node_parse(conf_loader *L, const char *file, int fd, size_t max, int *ret_read_error) {
        file_input in = { .fd = fd, .max = max };
        yaml_parser_t parser;
        frame stack[CONF_MAX_DEPTH];
        scratch sc[CONF_MAX_DEPTH] = {};
        size_t depth = 0, nodes = 0;
        unsigned docs = 0;
        cnode *root = NULL;
        bool failed = false, done = false;

        *ret_read_error = 0;
        if (!yaml_parser_initialize(&parser)) {
                L->oom = true;
                return NULL;
        }
        yaml_parser_set_input(&parser, read_input, &in);

        while (!done && !failed) {
                yaml_event_t ev;
                cnode *n = NULL;

                if (!yaml_parser_parse(&parser, &ev)) {
                        conf_loc loc = mark_loc(file, parser.problem_mark);
                        if (in.error < 0) {
                                *ret_read_error = in.error;  /* the caller says what the file is */
                        } else if (parser.error == YAML_MEMORY_ERROR) {
                                L->oom = true;
                        } else if (parser.context)
                                conf_loader_error(L, &loc, "syntax", "fix the YAML syntax at this place (indent with spaces, quote values containing ': ' or '#')",
                                                  "YAML syntax error: %s %s (line %u)", parser.problem ? parser.problem : "error",
                                                  parser.context, (unsigned) parser.context_mark.line + 1);
                        else
                                conf_loader_error(L, &loc, "syntax", "fix the YAML syntax at this place (indent with spaces, quote values containing ': ' or '#')",
                                                  "YAML syntax error: %s", parser.problem ? parser.problem : "error");
                        failed = true;
                        break;
                }
                conf_loc loc = mark_loc(file, ev.start_mark);
                switch (ev.type) {
                case YAML_STREAM_START_EVENT:
                case YAML_DOCUMENT_END_EVENT:
                        break;
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++docs > 1) {
                                conf_loader_error(L, &loc, "syntax", "put each configuration in its own file (drop-ins go to certs.d/)",
                                                  "more than one YAML document in one file");
                                failed = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        conf_loader_error(L, &loc, "alias", "write the value out (use `defaults:` for shared settings)",
                                          "YAML alias '*%s' is not supported", (const char *) ev.data.alias.anchor);
                        n = conf_node_new(L, CNODE_NULL, &loc);
                        break;
                case YAML_SCALAR_EVENT: {
                        const char *v = (const char *) ev.data.scalar.value;
                        bool plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                        if (ev.data.scalar.length > CONF_MAX_SCALAR) {
                                conf_loader_error(L, &loc, "too-large", "shorten the value",
                                                  "value longer than %d bytes", CONF_MAX_SCALAR);
                                failed = true;
                                break;
                        }
                        if (strlen(v) != ev.data.scalar.length) {
                                conf_loader_error(L, &loc, "syntax", "remove the NUL character", "value contains a NUL character");
                                n = conf_node_new(L, CNODE_NULL, &loc);
                                break;
                        }
                        n = conf_node_new(L, plain && is_null_text(v) ? CNODE_NULL : CNODE_SCALAR, &loc);
                        if (n && n->kind == CNODE_SCALAR) {
                                n->str = conf_arena_alloc(L, ev.data.scalar.length + 1);
                                if (n->str)
                                        memcpy(n->str, v, ev.data.scalar.length + 1);
                                n->len = ev.data.scalar.length;
                                n->plain = plain;
                                if (!n->str)
                                        L->oom = true;
                                else if (depth == 1 && L->on_top_scalar && stack[0].node->kind == CNODE_MAP &&
                                         stack[0].pending_key && stack[0].pending_key->kind == CNODE_SCALAR)
                                        L->on_top_scalar(stack[0].pending_key->str, n->str, L->top_userdata);
                        }
                        break;
                }
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (depth >= CONF_MAX_DEPTH) {
                                conf_loader_error(L, &loc, "too-large", "flatten the structure",
                                                  "nested deeper than %d levels", CONF_MAX_DEPTH);
                                failed = true;
                                break;
                        }
                        n = conf_node_new(L, ev.type == YAML_SEQUENCE_START_EVENT ? CNODE_SEQ : CNODE_MAP, &loc);
                        if (!n)
                                break;
                        if (++nodes > CONF_MAX_NODES) {
                                conf_loader_error(L, &loc, "too-large", "split the configuration into drop-in files",
                                                  "more than %d YAML nodes in one file", CONF_MAX_NODES);
                                failed = true;
                                break;
                        }
                        if (attach(L, stack, sc, depth, n, &root) < 0) {
                                failed = true;
                                break;
                        }
                        stack[depth++] = (frame) { .node = n };
                        n = NULL;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0) {
                                depth--;
                                if (close_frame(L, &stack[depth], &sc[depth]) < 0)
                                        failed = true;
                        }
                        break;
                default:
                        break;
                }
                if (n && !failed) {
                        if (++nodes > CONF_MAX_NODES) {
                                conf_loader_error(L, &loc, "too-large", "split the configuration into drop-in files",
                                                  "more than %d YAML nodes in one file", CONF_MAX_NODES);
                                failed = true;
                        } else if (attach(L, stack, sc, depth, n, &root) < 0)
                                failed = true;
                }
                yaml_event_delete(&ev);
                if (L->oom)
                        failed = true;
        }
        yaml_parser_delete(&parser);
        for (size_t i = 0; i < CONF_MAX_DEPTH; i++)
                free(sc[i].p);
        if (failed)
                return NULL;
        if (!root) {
                conf_loc loc = { .file = file, .line = 1, .column = 1 };
                root = conf_node_new(L, CNODE_NULL, &loc);
        }
        return root;
}

/* ---- accessors that report errors at the node's location ---- */

void conf_err_at(conf_loader *L, const cnode *n, const char *klass, const char *hint, const char *fmt, ...) {
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg) {
                L->oom = true;
                return;
        }
        conf_loader_error(L, &n->loc, klass, hint, "%s", msg);
        free(msg);
}

void conf_check_keys(conf_loader *L, const cnode *map, const char *const *keys, const char *what) {
        for (size_t i = 0; i < map->n_pairs; i++) {
                const cpair *p = &map->pairs[i];
                bool found = false;

                if (p->key->kind != CNODE_SCALAR) {
                        conf_err_at(L, p->key, "type", "keys are plain words", "a key in %s must be a string, not %s", what,
                               conf_node_type_name(p->key));
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        const cpair *q = &map->pairs[j];
                        if (q->from_defaults == p->from_defaults && q->key->kind == CNODE_SCALAR &&
                            streq(q->key->str, p->key->str)) {
                                char hint[128];
                                snprintf(hint, sizeof hint, "remove one of them (the first is at line %u)", q->key->loc.line);
                                conf_err_at(L, p->key, "duplicate", hint, "key '%s' appears twice in %s", p->key->str, what);
                                break;
                        }
                }
                for (const char *const *k = keys; *k; k++)
                        if (streq(*k, p->key->str)) {
                                found = true;
                                break;
                        }
                if (found)
                        continue;

                const char *best = NULL;
                size_t bestd = SIZE_MAX;
                for (const char *const *k = keys; *k; k++) {
                        size_t d = conf_edit_distance(p->key->str, *k);
                        if (d < bestd) {
                                bestd = d;
                                best = *k;
                        }
                }
                size_t limit = strlen(p->key->str) / 3;
                if (limit < 2)
                        limit = 2;
                char hint[512];
                if (best && bestd <= limit)
                        snprintf(hint, sizeof hint, "did you mean '%s'?", best);
                else {
                        size_t o = (size_t) snprintf(hint, sizeof hint, "valid keys here:");
                        for (const char *const *k = keys; *k && o < sizeof hint; k++)
                                o += (size_t) snprintf(hint + o, sizeof hint - o, "%s %s", k == keys ? "" : ",", *k);
                }
                conf_err_at(L, p->key, "unknown-key", hint, "unknown key '%s' in %s", p->key->str, what);
        }
}

/* Returns the node for key when present and not null. */
cnode *conf_get(const cnode *map, const char *key) {
        cnode *v = conf_node_get(map, key, NULL);
        return v && v->kind != CNODE_NULL ? v : NULL;
}

bool conf_want_map(conf_loader *L, const cnode *n, const char *what) {
        if (n->kind == CNODE_MAP)
                return true;
        conf_err_at(L, n, "type", "write it as a mapping of key: value pairs", "%s must be a mapping, not %s", what,
               conf_node_type_name(n));
        return false;
}

/* Scalar text of n or NULL with a type error. */
const char *conf_scalar(conf_loader *L, const cnode *n, const char *what) {
        if (n->kind == CNODE_SCALAR)
                return n->str;
        conf_err_at(L, n, "type", n->kind == CNODE_SEQ ? "write a single value, not a list" : "write a single value",
               "%s must be a single value, not %s", what, conf_node_type_name(n));
        return NULL;
}

/* Case-insensitive enum lookup; returns the index or -1 after an "enum" error. */
int conf_get_enum(conf_loader *L, const cnode *n, const char *what, const char *const *values) {
        const char *s = conf_scalar(L, n, what);
        if (!s)
                return -1;
        for (int i = 0; values[i]; i++)
                if (strcasecmp(values[i], s) == 0)
                        return i;
        char hint[512];
        size_t o = (size_t) snprintf(hint, sizeof hint, "use one of:");
        for (int i = 0; values[i] && o < sizeof hint; i++)
                o += (size_t) snprintf(hint + o, sizeof hint - o, "%s %s", i ? "," : "", values[i]);
        conf_err_at(L, n, "enum", hint, "%s: unknown value '%s'", what, s);
        return -1;
}