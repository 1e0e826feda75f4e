/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed values of the configuration loader: strings, paths, booleans,
 * durations, numbers, lists, commands, users and groups, ARNs. Each getter
 * reports its own errors at the value's location and writes its output
 * only when the value is valid.
 */
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>

#include "conf/conf-check.h"
#include "conf/conf-internal.h"
#include "basic/util.h"

#define DURATION_HINT "use a duration such as 30d, 12h, 90m or 45s"

typedef conf_loader L_t;

char *conf_strdup(L_t *L, const char *s) {
        char *r;
        if (!s)
                return NULL;
        r = strdup(s);
        if (!r)
                L->oom = true;
        return r;
}

const cpair *conf_get_pair(const cnode *map, const char *key) {
        const cpair *p = NULL;
        cnode *v = conf_node_get(map, key, &p);
        return v && v->kind != CNODE_NULL ? p : NULL;
}

const char *conf_nonempty(L_t *L, const cnode *n, const char *what) {
        const char *s = conf_scalar(L, n, what);
        if (s && !*s) {
                conf_err_at(L, n, "type", "write a value or remove the key", "%s is empty", what);
                return NULL;
        }
        return s;
}

bool conf_get_bool(L_t *L, const cnode *map, const char *key, bool *out) {
        cnode *n = conf_get(map, key);
        const char *s;
        if (!n || !(s = conf_scalar(L, n, key)))
                return false;
        if (n->plain && (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))) {
                *out = true;
                return true;
        }
        if (n->plain && (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))) {
                *out = false;
                return true;
        }
        conf_err_at(L, n, "type", "use true or false", "%s must be true or false, not '%s'", key, s);
        return false;
}

bool conf_get_str(L_t *L, const cnode *map, const char *key, char **out) {
        cnode *n = conf_get(map, key);
        const char *s;
        if (!n || !(s = conf_nonempty(L, n, key)))
                return false;
        free(*out);
        *out = conf_strdup(L, s);
        return true;
}

bool conf_get_path(L_t *L, const cnode *map, const char *key, char **out) {
        cnode *n = conf_get(map, key);
        const char *s;
        if (!n || !(s = conf_nonempty(L, n, key)))
                return false;
        if (s[0] != '/') {
                conf_err_at(L, n, "path", "write an absolute path starting with '/'", "%s must be an absolute path: '%s'", key, s);
                return false;
        }
        if (strlen(s) >= 4096) {
                conf_err_at(L, n, "too-large", "use a shorter path", "%s is longer than PATH_MAX", key);
                return false;
        }
        free(*out);
        *out = conf_strdup(L, s);
        return true;
}

bool conf_get_duration(L_t *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max) {
        cnode *n = conf_get(map, key);
        const char *s;
        uint64_t v;
        char a[32], b[32];
        if (!n || !(s = conf_scalar(L, n, key)))
                return false;
        size_t z = strspn(s, "0");
        if (min == 0 && z > 0 && (s[z] == 0 || (strchr("smhdw", s[z]) && s[z + 1] == 0)))
                v = 0;   /* "0s": allowed where zero means off */
        else if (parse_duration(s, &v) < 0) {
                conf_err_at(L, n, "duration", DURATION_HINT, "%s: '%s' is not a duration", key, s);
                return false;
        }
        if (v < min || v > max) {
                char hint[96];
                snprintf(hint, sizeof hint, "use a value between %s and %s", format_duration(min, a, sizeof a),
                         format_duration(max, b, sizeof b));
                conf_err_at(L, n, "range", hint, "%s: %s is out of range", key, s);
                return false;
        }
        *out = v;
        return true;
}

bool conf_get_uint(L_t *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max) {
        cnode *n = conf_get(map, key);
        const char *s;
        uint64_t v;
        if (!n || !(s = conf_scalar(L, n, key)))
                return false;
        if (parse_uint64(s, &v) < 0) {
                conf_err_at(L, n, "type", "write a whole number", "%s must be a whole number, not '%s'", key, s);
                return false;
        }
        if (v < min || v > max) {
                char hint[96];
                snprintf(hint, sizeof hint, "use a number from %" PRIu64 " to %" PRIu64, min, max);
                conf_err_at(L, n, "range", hint, "%s: %" PRIu64 " is out of range", key, v);
                return false;
        }
        *out = v;
        return true;
}

/* A list of non-empty strings; a single scalar is refused. Returns NULL-terminated. */
char **conf_get_strv(L_t *L, const cnode *n, const char *what, size_t max) {
        char **v;
        if (n->kind != CNODE_SEQ) {
                conf_err_at(L, n, "type", "write a list: [a, b] or one '- item' per line", "%s must be a list, not %s", what,
                       conf_node_type_name(n));
                return NULL;
        }
        if (n->n_items > max) {
                conf_err_at(L, n, "too-large", "shorten the list", "%s has more than %zu entries", what, max);
                return NULL;
        }
        v = calloc(n->n_items + 1, sizeof(char *));
        if (!v) {
                L->oom = true;
                return NULL;
        }
        for (size_t i = 0; i < n->n_items; i++) {
                const char *s = conf_nonempty(L, n->items[i], what);
                if (!s) {
                        strv_free(v);
                        return NULL;
                }
                v[i] = conf_strdup(L, s);
        }
        return v;
}

/*
 * A program is an absolute path or a bare name, which is searched at run
 * time in the fixed PATH of hooks and reloads (HOOK_PATH of deploy-hook.h,
 * never the agent's environment). A relative path with a '/' would depend
 * on the agent's working directory.
 */
static bool program_ok(L_t *L, const cnode *n, const char *what, const char *prog) {
        if (prog[0] == '/' || (!strchr(prog, '/') && !streq(prog, ".") && !streq(prog, "..")))
                return true;
        conf_err_at(L, n, "path",
                    "write an absolute path (/usr/local/bin/x) or a bare program name searched in "
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "%s: '%s' is a relative path", what, prog);
        return false;
}

/* A command: an argv list, or (when allow_string) one program string. */
char **conf_get_argv(L_t *L, const cnode *n, const char *what, bool allow_string) {
        char **v;
        if (allow_string && n->kind == CNODE_SCALAR) {
                const char *s = conf_nonempty(L, n, what);
                if (!s || !program_ok(L, n, what, s))
                        return NULL;
                v = calloc(2, sizeof(char *));
                if (!v) {
                        L->oom = true;
                        return NULL;
                }
                v[0] = conf_strdup(L, s);
                return v;
        }
        if (n->kind == CNODE_SEQ && n->n_items == 0) {
                conf_err_at(L, n, "type", "write the program and its arguments: [/path/to/program, arg]", "%s is an empty command", what);
                return NULL;
        }
        v = conf_get_strv(L, n, what, 256);
        if (v && !program_ok(L, n->items[0], what, v[0])) {
                strv_free(v);
                return NULL;
        }
        return v;
}

/* Looks up a user (group false) or group through NSS, by name s or, when
 * s is NULL, by the numeric id. Returns 1 and sets *ret_id when found, 0
 * when there is no such user or group, -errno when the lookup itself
 * failed (NSS/LDAP unreachable...), so that the operator is not told
 * "unknown user" for an outage. ERANGE grows the buffer. */
static int lookup_id(const char *s, uint32_t id, bool group, uint32_t *ret_id) {
        for (size_t size = 16384; size <= 4 * 1024 * 1024; size *= 4) {
                _cleanup_(freep) char *buf = malloc(size);
                int r;
                if (!buf)
                        return -ENOMEM;
                if (group) {
                        struct group gr, *res = NULL;
                        r = s ? getgrnam_r(s, &gr, buf, size, &res) : getgrgid_r((gid_t) id, &gr, buf, size, &res);
                        if (r == 0 && res) {
                                *ret_id = res->gr_gid;
                                return 1;
                        }
                } else {
                        struct passwd pw, *res = NULL;
                        r = s ? getpwnam_r(s, &pw, buf, size, &res) : getpwuid_r((uid_t) id, &pw, buf, size, &res);
                        if (r == 0 && res) {
                                *ret_id = res->pw_uid;
                                return 1;
                        }
                }
                /* glibc reports "no such name" as 0 or, from some NSS
                 * modules, as one of these */
                if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
                        return 0;
                if (r != ERANGE)
                        return -r;
        }
        return -ERANGE;
}

/* owner: / group: as a name or a numeric id. */
void conf_lookup_owner(L_t *L, const cnode *n, bool group, uint32_t *id, char **name) {
        const char *what = group ? "group" : "user";
        const char *s = conf_nonempty(L, n, group ? "group" : "owner");
        uint32_t v;
        int r;

        if (!s)
                return;
        if (parse_uint32(s, &v) >= 0 && v != UINT32_MAX) {
                /* A numeric id must exist too: files owned by a deleted account's id are a trap. */
                uint32_t found;
                r = lookup_id(NULL, v, group, &found);
                if (r == 0)
                        conf_err_at(L, n, what, group ? "create the group first or name an existing one (getent group GID)"
                                                      : "create the user first or name an existing one (getent passwd UID)",
                                    "no %s with %s %s on this host", what, group ? "gid" : "uid", s);
                else if (r < 0)
                        conf_err_at(L, n, what, "check the name service (nsswitch.conf, LDAP/SSSD)",
                                    "cannot look up %s %s: %s", group ? "gid" : "uid", s, strerror(-r));
                else {
                        *id = v;
                        free(*name);
                        *name = NULL;
                }
                return;
        }
        r = lookup_id(s, 0, group, &v);
        if (r == 0) {
                conf_err_at(L, n, what, group ? "create the group first or name an existing one (getent group NAME)"
                                              : "create the user first or name an existing one (getent passwd NAME)",
                            "unknown %s '%s'", what, s);
                return;
        }
        if (r < 0) {
                conf_err_at(L, n, what, "check the name service (nsswitch.conf, LDAP/SSSD) or use a numeric id",
                            "cannot look up %s '%s': %s", what, s, strerror(-r));
                return;
        }
        *id = v;
        free(*name);
        *name = conf_strdup(L, s);
}

bool conf_get_arn(L_t *L, const cnode *map, const char *key, conf_arn_kind kind, char **out) {
        cnode *n = conf_get(map, key);
        const char *s, *why;
        if (!n || !(s = conf_nonempty(L, n, key)))
                return false;
        if ((why = conf_check_arn(s, kind))) {
                char hint[160];
                snprintf(hint, sizeof hint, "expected %s", conf_arn_example(kind));
                conf_err_at(L, n, "arn", hint, "%s: malformed ARN '%s': %s", key, s, why);
                return false;
        }
        free(*out);
        *out = conf_strdup(L, s);
        return true;
}

/* Both keys set in the same mapping (not one of them from defaults). */
bool conf_conflict(L_t *L, const cnode *map, const char *a, const char *b, const char *hint) {
        const cpair *pa = conf_get_pair(map, a), *pb = conf_get_pair(map, b);
        if (!pa || !pb || pa->from_defaults != pb->from_defaults)
                return false;
        const cpair *later = pa->key->loc.line > pb->key->loc.line ||
                                             (pa->key->loc.line == pb->key->loc.line && pa->key->loc.column > pb->key->loc.column)
                                     ? pa : pb;
        conf_err_at(L, later->key, "conflict", hint, "'%s' and '%s' cannot both be set", a, b);
        return true;
}

