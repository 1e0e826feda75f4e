/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration schema: files (main, certs.d/, include:), defaults
 * merge, validation of every key, and the immutable conf structures.
 * YAML parsing lives in conf-node.c, value validators in conf-check.c,
 * JSON output in conf-json.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <inttypes.h>
#include <grp.h>
#include <libgen.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "conf/conf-check.h"
#include "conf/conf-internal.h"
#include "basic/util.h"

bool conf_cert_name_valid(const char *name) {
        size_t n;

        if (isempty(name) || name[0] == '.')
                return false;
        n = strlen(name);
        if (n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

#define DURATION_HINT "use a duration such as 30d, 12h, 90m or 45s"

typedef conf_loader L_t;

/* ---- generic accessors ------------------------------------------------ */


static char *xstrdup(L_t *L, const char *s) {
        char *r;
        if (!s)
                return NULL;
        r = strdup(s);
        if (!r)
                L->oom = true;
        return r;
}

/* A key list for conf_check_keys(); NULL-terminated. */
typedef const char *const keylist[];



static const cpair *get_pair(const cnode *map, const char *key) {
        const cpair *p = NULL;
        cnode *v = conf_node_get(map, key, &p);
        return v && v->kind != CNODE_NULL ? p : NULL;
}



static const char *nonempty(L_t *L, const cnode *n, const char *what) {
        const char *s = conf_scalar(L, n, what);
        if (s && !*s) {
                conf_err_at(L, n, "type", "write a value or remove the key", "%s is empty", what);
                return NULL;
        }
        return s;
}

static bool get_bool(L_t *L, const cnode *map, const char *key, bool *out) {
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

static bool get_str(L_t *L, const cnode *map, const char *key, char **out) {
        cnode *n = conf_get(map, key);
        const char *s;
        if (!n || !(s = nonempty(L, n, key)))
                return false;
        free(*out);
        *out = xstrdup(L, s);
        return true;
}

static bool get_path(L_t *L, const cnode *map, const char *key, char **out) {
        cnode *n = conf_get(map, key);
        const char *s;
        if (!n || !(s = nonempty(L, n, key)))
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
        *out = xstrdup(L, s);
        return true;
}

static bool get_duration(L_t *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max) {
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

static bool get_uint(L_t *L, const cnode *map, const char *key, uint64_t *out, uint64_t min, uint64_t max) {
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
static char **get_strv(L_t *L, const cnode *n, const char *what, size_t max) {
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
                const char *s = nonempty(L, n->items[i], what);
                if (!s) {
                        strv_free(v);
                        return NULL;
                }
                v[i] = xstrdup(L, s);
        }
        return v;
}

/* A command: an argv list, or (when allow_string) one path string. */
static char **get_argv(L_t *L, const cnode *n, const char *what, bool allow_string) {
        if (allow_string && n->kind == CNODE_SCALAR) {
                const char *s = nonempty(L, n, what);
                char **v;
                if (!s)
                        return NULL;
                v = calloc(2, sizeof(char *));
                if (!v) {
                        L->oom = true;
                        return NULL;
                }
                v[0] = xstrdup(L, s);
                return v;
        }
        if (n->kind == CNODE_SEQ && n->n_items == 0) {
                conf_err_at(L, n, "type", "write the program and its arguments: [/path/to/program, arg]", "%s is an empty command", what);
                return NULL;
        }
        return get_strv(L, n, what, 256);
}

/* Looks up a user (group false) or group name through NSS. Returns 1 and
 * sets *ret_id when found, 0 when there is no such name, -errno when the
 * lookup itself failed (NSS/LDAP unreachable...), so that the operator is
 * not told "unknown user" for an outage. ERANGE grows the buffer. */
static int lookup_id(const char *s, bool group, uint32_t *ret_id) {
        for (size_t size = 16384; size <= 4 * 1024 * 1024; size *= 4) {
                _cleanup_(freep) char *buf = malloc(size);
                int r;
                if (!buf)
                        return -ENOMEM;
                if (group) {
                        struct group gr, *res = NULL;
                        r = getgrnam_r(s, &gr, buf, size, &res);
                        if (r == 0 && res) {
                                *ret_id = res->gr_gid;
                                return 1;
                        }
                } else {
                        struct passwd pw, *res = NULL;
                        r = getpwnam_r(s, &pw, buf, size, &res);
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
static void lookup_owner(L_t *L, const cnode *n, bool group, uint32_t *id, char **name) {
        const char *what = group ? "group" : "user";
        const char *s = nonempty(L, n, group ? "group" : "owner");
        uint32_t v;
        int r;

        if (!s)
                return;
        if (parse_uint32(s, &v) >= 0 && v != UINT32_MAX) {
                *id = v;
                return;
        }
        r = lookup_id(s, group, &v);
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
        *name = xstrdup(L, s);
}

static bool get_arn(L_t *L, const cnode *map, const char *key, conf_arn_kind kind, char **out) {
        cnode *n = conf_get(map, key);
        const char *s, *why;
        if (!n || !(s = nonempty(L, n, key)))
                return false;
        if ((why = conf_check_arn(s, kind))) {
                char hint[160];
                snprintf(hint, sizeof hint, "expected %s", conf_arn_example(kind));
                conf_err_at(L, n, "arn", hint, "%s: malformed ARN '%s': %s", key, s, why);
                return false;
        }
        free(*out);
        *out = xstrdup(L, s);
        return true;
}

/* Both keys set in the same mapping (not one of them from defaults). */
static bool conflict(L_t *L, const cnode *map, const char *a, const char *b, const char *hint) {
        const cpair *pa = get_pair(map, a), *pb = get_pair(map, b);
        if (!pa || !pb || pa->from_defaults != pb->from_defaults)
                return false;
        const cpair *later = pa->key->loc.line > pb->key->loc.line ||
                                             (pa->key->loc.line == pb->key->loc.line && pa->key->loc.column > pb->key->loc.column)
                                     ? pa : pb;
        conf_err_at(L, later->key, "conflict", hint, "'%s' and '%s' cannot both be set", a, b);
        return true;
}

/* ---- pieces of a certificate ------------------------------------------ */

static const char *const acm_key_algorithms[] = { "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1",
                                                  "EC_secp384r1", "EC_secp521r1", NULL };
static const char *const pca_signing_algorithms[] = { "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA",
                                                      "SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", NULL };
static const char *const validity_types[] = { "DAYS", "MONTHS", "YEARS", "ABSOLUTE", "END_DATE", NULL };

static void parse_validity(L_t *L, const cnode *n, const char *what, bool not_before, conf_validity *out) {
        if (n->kind == CNODE_SCALAR) {
                uint64_t v;
                if (not_before) {
                        conf_err_at(L, n, "type", "write {type: ABSOLUTE, value: UNIX_SECONDS} or {type: END_DATE, value: YYYYMMDDHHMMSS}",
                               "%s must be a {type, value} mapping", what);
                        return;
                }
                if (parse_duration(n->str, &v) < 0 || v == 0) {
                        conf_err_at(L, n, "duration", "use a duration such as 30d, 12h, 90m or 45s, or {type: DAYS, value: 30}",
                               "%s: '%s' is not a duration", what, n->str);
                        return;
                }
                *out = (conf_validity) { .type = CONF_VALIDITY_DURATION, .value = (int64_t) v };
                return;
        }
        if (!conf_want_map(L, n, what))
                return;
        static keylist keys = { "type", "value", NULL };
        conf_check_keys(L, n, keys, what);
        cnode *t = conf_get(n, "type"), *v = conf_get(n, "value");
        if (!t || !v) {
                conf_err_at(L, n, "missing", "write {type: DAYS, value: 30}", "%s needs both 'type' and 'value'", what);
                return;
        }
        int ti = conf_get_enum(L, t, "validity type", validity_types);
        if (ti < 0)
                return;
        if (not_before && ti < 3) {
                conf_err_at(L, t, "enum", "use ABSOLUTE or END_DATE", "%s: type %s is not allowed here", what, validity_types[ti]);
                return;
        }
        const char *vs = conf_scalar(L, v, "value");
        if (!vs)
                return;
        if (ti == 4) {
                const char *why = conf_check_end_date(vs);
                if (why) {
                        conf_err_at(L, v, "range", "write YYYYMMDDHHMMSS, for example 20301231235959", "%s: %s", what, why);
                        return;
                }
        }
        uint64_t val;
        if (parse_uint64(vs, &val) < 0 || val == 0 || val > (uint64_t) INT64_MAX) {
                conf_err_at(L, v, "range", "write a positive whole number", "%s: value '%s' is not a positive whole number", what, vs);
                return;
        }
        *out = (conf_validity) { .type = (conf_validity_type) (CONF_VALIDITY_DAYS + ti), .value = (int64_t) val };
}

/* ---- issuers ------------------------------------------------------------ */

static void parse_tags(L_t *L, const cnode *n, conf_tag **ret, size_t *ret_n) {
        if (!conf_want_map(L, n, "tags"))
                return;
        if (n->n_pairs > 50) {
                conf_err_at(L, n, "too-large", "ACM allows at most 50 tags", "%zu tags", n->n_pairs);
                return;
        }
        conf_tag *t = calloc(n->n_pairs ? n->n_pairs : 1, sizeof(conf_tag));
        size_t k = 0;
        if (!t) {
                L->oom = true;
                return;
        }
        for (size_t i = 0; i < n->n_pairs; i++) {
                const cpair *p = &n->pairs[i];
                const char *key = conf_scalar(L, p->key, "tag key");
                const char *val = p->value->kind == CNODE_NULL ? "" : conf_scalar(L, p->value, "tag value");
                const char *why;
                if (!key || !val)
                        continue;
                if ((why = conf_check_tag(key, val))) {
                        conf_err_at(L, p->key, "tag", "ACM tag keys: 1-128, values: 0-256 letters, digits, spaces and _ . : / = + - @",
                               "tag '%s': %s", key, why);
                        continue;
                }
                for (size_t j = 0; j < k; j++)
                        if (streq(t[j].key, key))
                                conf_err_at(L, p->key, "duplicate", "remove one of them", "tag '%s' appears twice", key);
                t[k].key = xstrdup(L, key);
                t[k].value = xstrdup(L, val);
                k++;
        }
        *ret = t;
        *ret_n = k;
}

static void parse_issuer(L_t *L, conf_cert *c, const cnode *n) {
        static const char *const types[] = { "pca", "acm", "import", NULL };
        static keylist pca_keys = { "type", "ca_arn", "template_arn", "signing_algorithm", "validity",
                                    "validity_not_before", "api_passthrough", NULL };
        static keylist acm_keys = { "type", "arn", "validation", "key_algorithm", "export", "certificate_authority_arn",
                                    "transparency_logging", "validation_domain", "tags", NULL };
        static keylist import_keys = { "type", "cert", "key", "chain", "arn", "tags", NULL };
        cnode *t, *v;
        int ti;

        if (!conf_want_map(L, n, "issuer"))
                return;
        t = conf_get(n, "type");
        if (!t) {
                conf_err_at(L, n, "missing", "add type: pca, acm or import", "issuer: required key 'type' is missing");
                return;
        }
        ti = conf_get_enum(L, t, "issuer type", types);
        if (ti < 0)
                return;
        c->issuer_type = (conf_issuer_type) ti;
        if (c->issuer_type == CONF_ISSUER_PCA) {
                conf_issuer_pca *p = &c->issuer.pca;
                conf_check_keys(L, n, pca_keys, "a pca issuer");
                if (!get_arn(L, n, "ca_arn", CONF_ARN_PCA_CA, &p->ca_arn) && !conf_get(n, "ca_arn"))
                        conf_err_at(L, n, "missing", "add ca_arn: arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID",
                               "pca issuer: required key 'ca_arn' is missing");
                get_arn(L, n, "template_arn", CONF_ARN_PCA_TEMPLATE, &p->template_arn);
                if ((v = conf_get(n, "signing_algorithm")) && v->kind == CNODE_SCALAR && strcasecmp(v->str, "auto") == 0)
                        ;
                else if (v) {
                        static const char *const with_auto[] = { "auto", "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA",
                                                                 "SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", NULL };
                        int i = conf_get_enum(L, v, "signing_algorithm", with_auto);
                        if (i > 0)
                                p->signing_algorithm = xstrdup(L, pca_signing_algorithms[i - 1]);
                }
                if ((v = conf_get(n, "validity")))
                        parse_validity(L, v, "validity", false, &p->validity);
                else
                        conf_err_at(L, n, "missing", "add validity: 30d (or {type: DAYS, value: 30})",
                               "pca issuer: required key 'validity' is missing");
                if ((v = conf_get(n, "validity_not_before")))
                        parse_validity(L, v, "validity_not_before", true, &p->validity_not_before);
                if ((v = conf_get(n, "api_passthrough")))
                        p->api_passthrough = conf_api_passthrough_parse(L, v);
        } else if (c->issuer_type == CONF_ISSUER_ACM) {
                conf_issuer_acm *a = &c->issuer.acm;
                static const char *const validations[] = { "dns", "email", NULL };
                static const char *const tl[] = { "enabled", "disabled", NULL };
                conf_check_keys(L, n, acm_keys, "an acm issuer");
                a->export = true;
                a->transparency_logging = true;
                get_arn(L, n, "arn", CONF_ARN_ACM_CERT, &a->arn);
                if (conf_get(n, "arn")) {
                        static const char *const request_only[] = { "validation", "key_algorithm", "certificate_authority_arn",
                                                                    "transparency_logging", "validation_domain", NULL };
                        for (const char *const *k = request_only; *k; k++)
                                conflict(L, n, "arn", *k,
                                         "'arn' tracks an existing certificate; request settings apply only when the agent requests one: remove one of them");
                }
                if ((v = conf_get(n, "validation"))) {
                        int i = conf_get_enum(L, v, "validation", validations);
                        if (i >= 0)
                                a->validation = (conf_validation) i;
                }
                if ((v = conf_get(n, "key_algorithm"))) {
                        int i = conf_get_enum(L, v, "key_algorithm", acm_key_algorithms);
                        if (i >= 0)
                                a->key_algorithm = xstrdup(L, acm_key_algorithms[i]);
                } else
                        a->key_algorithm = xstrdup(L, "RSA_2048");
                get_bool(L, n, "export", &a->export);
                get_arn(L, n, "certificate_authority_arn", CONF_ARN_PCA_CA, &a->certificate_authority_arn);
                if ((v = conf_get(n, "transparency_logging"))) {
                        if (v->kind == CNODE_SCALAR && v->plain && (streq(v->str, "true") || streq(v->str, "false")))
                                a->transparency_logging = streq(v->str, "true");
                        else {
                                int i = conf_get_enum(L, v, "transparency_logging", tl);
                                if (i >= 0)
                                        a->transparency_logging = i == 0;
                        }
                }
                if ((v = conf_get(n, "validation_domain"))) {
                        const char *s = nonempty(L, v, "validation_domain"), *why;
                        if (s && (why = conf_check_dns_name(s, false)))
                                conf_err_at(L, v, "dns-name", "write a domain such as example.com", "validation_domain '%s': %s", s, why);
                        else if (s)
                                a->validation_domain = xstrdup(L, s);
                }
                if ((v = conf_get(n, "tags")))
                        parse_tags(L, v, &a->tags, &a->n_tags);
        } else {
                conf_issuer_import *im = &c->issuer.import;
                conf_check_keys(L, n, import_keys, "an import issuer");
                if (!get_path(L, n, "cert", &im->cert) && !conf_get(n, "cert"))
                        conf_err_at(L, n, "missing", "add cert: /path/to/cert.pem", "import issuer: required key 'cert' is missing");
                if (!get_path(L, n, "key", &im->key) && !conf_get(n, "key"))
                        conf_err_at(L, n, "missing", "add key: /path/to/key.pem", "import issuer: required key 'key' is missing");
                get_path(L, n, "chain", &im->chain);
                get_arn(L, n, "arn", CONF_ARN_ACM_CERT, &im->arn);
                if ((v = conf_get(n, "tags")))
                        parse_tags(L, v, &im->tags, &im->n_tags);
        }
}

/* ---- the other sections of a certificate ------------------------------- */

static const char *const subject_keys[] = { "common_name", "country", "organization", "organizational_unit",
                                            "distinguished_name_qualifier", "state", "serial_number", "locality", "title",
                                            "surname", "given_name", "initials", "pseudonym", "generation_qualifier",
                                            "custom_attributes", NULL };
static const unsigned subject_max[] = { 64, 2, 64, 64, 64, 128, 64, 128, 64, 40, 16, 5, 128, 3 };

static char **subject_field(conf_subject *s, size_t i) {
        char **f[] = { &s->common_name, &s->country, &s->organization, &s->organizational_unit,
                       &s->distinguished_name_qualifier, &s->state, &s->serial_number, &s->locality, &s->title,
                       &s->surname, &s->given_name, &s->initials, &s->pseudonym, &s->generation_qualifier };
        return f[i];
}

static void parse_subject(L_t *L, conf_subject *s, const cnode *n) {
        cnode *v;
        if (!conf_want_map(L, n, "subject"))
                return;
        conf_check_keys(L, n, subject_keys, "subject");
        for (size_t i = 0; i < ELEMENTSOF(subject_max); i++) {
                if (!(v = conf_get(n, subject_keys[i])))
                        continue;
                const char *str = nonempty(L, v, subject_keys[i]);
                if (!str)
                        continue;
                if (strlen(str) > subject_max[i]) {
                        char hint[64];
                        snprintf(hint, sizeof hint, "shorten it to %u characters", subject_max[i]);
                        conf_err_at(L, v, "range", hint, "subject.%s is longer than %u characters", subject_keys[i], subject_max[i]);
                        continue;
                }
                if (i == 1 && (strlen(str) != 2 || !isalpha((unsigned char) str[0]) || !isalpha((unsigned char) str[1]))) {
                        conf_err_at(L, v, "range", "use a two-letter ISO 3166 code such as DE or US", "subject.country '%s' is not a two-letter code", str);
                        continue;
                }
                *subject_field(s, i) = xstrdup(L, str);
        }
        if ((v = conf_get(n, "custom_attributes"))) {
                if (v->kind != CNODE_SEQ) {
                        conf_err_at(L, v, "type", "write a list of {oid, value}", "custom_attributes must be a list");
                        return;
                }
                s->custom_attributes = calloc(v->n_items ? v->n_items : 1, sizeof(conf_attr));
                if (!s->custom_attributes) {
                        L->oom = true;
                        return;
                }
                for (size_t i = 0; i < v->n_items; i++) {
                        const cnode *a = v->items[i];
                        static keylist ak = { "oid", "value", NULL };
                        cnode *o, *val;
                        const char *os, *vs, *why;
                        if (!conf_want_map(L, a, "a custom attribute"))
                                continue;
                        conf_check_keys(L, a, ak, "a custom attribute");
                        o = conf_get(a, "oid");
                        val = conf_get(a, "value");
                        if (!o || !val) {
                                conf_err_at(L, a, "missing", "write {oid: 1.2.3.4, value: text}", "a custom attribute needs 'oid' and 'value'");
                                continue;
                        }
                        if (!(os = nonempty(L, o, "oid")) || !(vs = nonempty(L, val, "value")))
                                continue;
                        if ((why = conf_check_oid(os))) {
                                conf_err_at(L, o, "oid", "write a dotted OID such as 1.3.6.1.4.1.99999.1", "oid '%s': %s", os, why);
                                continue;
                        }
                        if (strlen(vs) > 256) {
                                conf_err_at(L, val, "range", "shorten it to 256 characters", "custom attribute value longer than 256 characters");
                                continue;
                        }
                        s->custom_attributes[s->n_custom_attributes].oid = xstrdup(L, os);
                        s->custom_attributes[s->n_custom_attributes++].value = xstrdup(L, vs);
                }
        }
}

typedef enum name_kind { NAME_DNS, NAME_IP, NAME_EMAIL, NAME_URI } name_kind;

static char **parse_names(L_t *L, const cnode *n, const char *what, name_kind kind) {
        char **v = get_strv(L, n, what, 100);
        if (!v)
                return NULL;
        for (size_t i = 0; v[i]; i++) {
                const char *why = kind == NAME_DNS ? conf_check_dns_name(v[i], true)
                                  : kind == NAME_IP ? conf_check_ip(v[i])
                                  : kind == NAME_EMAIL ? conf_check_email(v[i])
                                                       : conf_check_uri(v[i]);
                const char *klass = kind == NAME_DNS ? "dns-name" : kind == NAME_IP ? "ip" : kind == NAME_EMAIL ? "email" : "uri";
                const char *hint = kind == NAME_DNS ? (conf_check_ip(v[i]) ? "write a name such as www.example.com or *.example.com"
                                                                           : "put IP addresses under ip_addresses")
                                   : kind == NAME_IP ? "write an IPv4 (192.0.2.1) or IPv6 (2001:db8::1) address"
                                   : kind == NAME_EMAIL ? "write an address such as ops@example.com"
                                                        : "write a URI such as spiffe://example.org/web";
                if (why) {
                        conf_err_at(L, n->items[i], klass, hint, "%s: '%s': %s", what, v[i], why);
                        continue;
                }
                for (size_t j = 0; j < i; j++)
                        if (strcasecmp(v[j], v[i]) == 0) {
                                conf_err_at(L, n->items[i], "duplicate", "list each name once", "%s: '%s' is listed twice", what, v[i]);
                                break;
                        }
        }
        return v;
}

static void parse_key(L_t *L, conf_key *k, const cnode *n) {
        static keylist keys = { "type", "curve", "bits", "reuse", NULL };
        static const char *const types[] = { "ec", "rsa", NULL };
        static const char *const curves[] = { "P-256", "P-384", "P-521", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "key"))
                return;
        conf_check_keys(L, n, keys, "key");
        if ((v = conf_get(n, "type"))) {
                int i = conf_get_enum(L, v, "key type", types);
                if (i >= 0)
                        k->type = (conf_key_type) i;
        }
        if (k->type == CONF_KEY_RSA) {
                uint64_t bits;
                if (conf_get(n, "curve"))
                        conf_err_at(L, conf_get(n, "curve"), "conflict", "remove curve (it is for EC keys) or use type: ec",
                               "'curve' is set for an RSA key");
                if (get_uint(L, n, "bits", &bits, 0, UINT32_MAX)) {
                        if (bits != 2048 && bits != 3072 && bits != 4096)
                                conf_err_at(L, conf_get(n, "bits"), "enum", "use one of: 2048, 3072, 4096", "RSA key size %" PRIu64 " is not supported", bits);
                        else
                                k->bits = (unsigned) bits;
                }
        } else {
                if (conf_get(n, "bits"))
                        conf_err_at(L, conf_get(n, "bits"), "conflict", "remove bits (it is for RSA keys) or use type: rsa",
                               "'bits' is set for an EC key");
                if ((v = conf_get(n, "curve"))) {
                        int i = conf_get_enum(L, v, "curve", curves);
                        if (i >= 0)
                                k->curve = (conf_curve) i;
                }
        }
        get_bool(L, n, "reuse", &k->reuse);
}

static void parse_dns(L_t *L, conf_dns *d, const cnode *n) {
        static keylist keys = { "provider", "hosted_zone_id", "command", "propagation_timeout", "ttl", NULL };
        static const char *const providers[] = { "none", "route53", "exec", "manual", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "dns"))
                return;
        conf_check_keys(L, n, keys, "dns");
        if ((v = conf_get(n, "provider"))) {
                int i = conf_get_enum(L, v, "dns provider", providers);
                if (i >= 0)
                        d->provider = (conf_dns_provider) i;
        } else
                conf_err_at(L, n, "missing", "add provider: route53, exec or manual", "dns: required key 'provider' is missing");
        if ((v = conf_get(n, "hosted_zone_id"))) {
                const char *s = nonempty(L, v, "hosted_zone_id");
                if (s && (strlen(s) > 32 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(s)))
                        conf_err_at(L, v, "range", "write the zone id as Route 53 shows it, such as Z0123456789ABCDEFGHIJ",
                               "hosted_zone_id '%s' is not a Route 53 zone id", s);
                else if (s) {
                        if (d->provider != CONF_DNS_ROUTE53)
                                conf_err_at(L, v, "conflict", "hosted_zone_id is for provider: route53", "hosted_zone_id is set but the provider is not route53");
                        d->hosted_zone_id = xstrdup(L, s);
                }
        }
        if ((v = conf_get(n, "command"))) {
                if (d->provider != CONF_DNS_EXEC)
                        conf_err_at(L, v, "conflict", "command is for provider: exec", "dns command is set but the provider is not exec");
                d->command = get_argv(L, v, "dns command", false);
        } else if (d->provider == CONF_DNS_EXEC)
                conf_err_at(L, n, "missing", "add command: [/path/to/dns-hook]", "dns provider exec needs 'command'");
        get_duration(L, n, "propagation_timeout", &d->propagation_timeout, 1, 86400);
        if ((v = conf_get(n, "ttl"))) {
                uint64_t t;
                if (v->kind == CNODE_SCALAR && parse_uint64(v->str, &t) >= 0) {
                        if (t < 1 || t > 604800)
                                conf_err_at(L, v, "range", "use 1 to 604800 seconds", "dns ttl %" PRIu64 " is out of range", t);
                        else
                                d->ttl = t;
                } else
                        get_duration(L, n, "ttl", &d->ttl, 1, 604800);
        }
}

static const char *const file_names[] = { "cert", "chain", "fullchain", "key", "haproxy_bundle", "pkcs12", NULL };

static void parse_output(L_t *L, conf_output *o, const cnode *n) {
        static keylist keys = { "dir", "owner", "group", "mode", "key_mode", "files", "pkcs12_passphrase_file",
                                "keep_versions", NULL };
        cnode *v;
        if (!conf_want_map(L, n, "output"))
                return;
        conf_check_keys(L, n, keys, "output");
        get_path(L, n, "dir", &o->dir);
        uint32_t id;
        if ((v = conf_get(n, "owner"))) {
                id = o->owner;
                lookup_owner(L, v, false, &id, &o->owner_name);
                o->owner = (uid_t) id;
        }
        if ((v = conf_get(n, "group"))) {
                id = o->group;
                lookup_owner(L, v, true, &id, &o->group_name);
                o->group = (gid_t) id;
        }
        const char *mk[] = { "mode", "key_mode" };
        mode_t *mp[] = { &o->mode, &o->key_mode };
        for (size_t i = 0; i < 2; i++) {
                const char *s;
                mode_t m;
                if (!(v = conf_get(n, mk[i])) || !(s = conf_scalar(L, v, mk[i])))
                        continue;
                if (parse_mode(s, &m) < 0 || (m & ~(mode_t) 0777)) {
                        conf_err_at(L, v, "mode", "write an octal mode such as \"0640\" (quoted)", "%s: '%s' is not a file mode", mk[i], s);
                        continue;
                }
                if (i == 1 && (m & 0007)) {
                        conf_err_at(L, v, "mode", "keys must not be world-accessible: use 0600 or 0640", "key_mode %s gives others access to the private key", s);
                        continue;
                }
                *mp[i] = m;
        }
        if ((v = conf_get(n, "files"))) {
                if (v->kind != CNODE_SEQ || v->n_items == 0)
                        conf_err_at(L, v, "type", "write a list such as [cert, chain, fullchain, key]", "output.files must be a non-empty list");
                else {
                        unsigned bits = 0;
                        for (size_t i = 0; i < v->n_items; i++) {
                                int fi = conf_get_enum(L, v->items[i], "output file", file_names);
                                if (fi < 0)
                                        continue;
                                if (bits & (1u << fi))
                                        conf_err_at(L, v->items[i], "duplicate", "list each file once", "output file '%s' is listed twice", file_names[fi]);
                                bits |= 1u << fi;
                        }
                        if (bits)
                                o->files = bits;
                }
        }
        get_path(L, n, "pkcs12_passphrase_file", &o->pkcs12_passphrase_file);
        uint64_t kv;
        if (get_uint(L, n, "keep_versions", &kv, 0, 50))
                o->keep_versions = (unsigned) kv;
}

static void parse_hooks(L_t *L, conf_hooks *h, const cnode *n) {
        static keylist keys = { "deploy", "failure", "pending_validation", "timeout", NULL };
        cnode *v;
        char ***dst[] = { &h->deploy, &h->failure, &h->pending_validation };
        if (!conf_want_map(L, n, "hooks"))
                return;
        conf_check_keys(L, n, keys, "hooks");
        for (size_t i = 0; i < 3; i++)
                if ((v = conf_get(n, keys[i]))) {
                        *dst[i] = get_argv(L, v, keys[i], true);
                        if (*dst[i] && (*dst[i])[0][0] != '/')
                                conf_err_at(L, v, "path", "hooks run without a search path: write the absolute path of the program",
                                       "hook %s: '%s' is not an absolute path", keys[i], (*dst[i])[0]);
                }
        get_duration(L, n, "timeout", &h->timeout, 1, 86400);
}

/* ---- reload targets ------------------------------------------------------ */

typedef struct loadctx {
        L_t *L;
        conf *c;
        const cnode *reloaders;   /* the `reloaders:` mapping or NULL */
        const cnode *defaults;
        bool main_file;
} loadctx;

static int reloaders_add(L_t *L, conf *c, conf_reload *r) {
        size_t n = strv_length((char **) c->reloaders);
        conf_reload **v = realloc(c->reloaders, (n + 2) * sizeof(conf_reload *));
        if (!v)
                return L->oom = true, -ENOMEM;
        c->reloaders = v;
        v[n] = r;
        v[n + 1] = NULL;
        return 0;
}

static conf_reload *reloader_find(conf *c, const char *id) {
        for (conf_reload **r = c->reloaders; r && *r; r++)
                if (streq((*r)->id, id))
                        return *r;
        return NULL;
}

static char **argv_of(L_t *L, const char *a, const char *b, const char *c2, const char *d) {
        char **v = calloc(5, sizeof(char *));
        const char *src[] = { a, b, c2, d };
        if (!v)
                return L->oom = true, NULL;
        for (size_t i = 0; i < 4 && src[i]; i++)
                v[i] = xstrdup(L, src[i]);
        return v;
}

/* nginx / haproxy from `reloaders:` with defaults filled in. */
static conf_reload *reloader_named(loadctx *x, const char *name) {
        L_t *L = x->L;
        conf_reload *r = reloader_find(x->c, name);
        if (r)
                return r;
        bool haproxy = streq(name, "haproxy");
        static keylist nginx_keys = { "test_command", "reload_command", "pid_file", "unit", "timeout", NULL };
        static keylist haproxy_keys = { "test_command", "reload_command", "pid_file", "unit", "config", "runtime_socket",
                                        "timeout", NULL };
        const cnode *n = x->reloaders ? conf_get(x->reloaders, name) : NULL;
        cnode *v;

        r = calloc(1, sizeof(conf_reload));
        if (!r)
                return L->oom = true, NULL;
        r->kind = haproxy ? CONF_RELOAD_HAPROXY : CONF_RELOAD_NGINX;
        r->id = xstrdup(L, name);
        r->timeout = 60;
        if (n && conf_want_map(L, n, name)) {
                conf_check_keys(L, n, haproxy ? haproxy_keys : nginx_keys, haproxy ? "reloaders.haproxy" : "reloaders.nginx");
                if ((v = conf_get(n, "test_command")))
                        r->test_command = get_argv(L, v, "test_command", false);
                if ((v = conf_get(n, "reload_command")))
                        r->reload_command = get_argv(L, v, "reload_command", false);
                get_path(L, n, "pid_file", &r->pid_file);
                get_str(L, n, "unit", &r->unit);
                if (haproxy) {
                        get_path(L, n, "config", &r->config);
                        get_path(L, n, "runtime_socket", &r->runtime_socket);
                }
                get_duration(L, n, "timeout", &r->timeout, 1, 3600);
        }
        if (!r->pid_file)
                r->pid_file = xstrdup(L, haproxy ? "/run/haproxy.pid" : "/run/nginx.pid");
        if (!r->unit)
                r->unit = xstrdup(L, haproxy ? "haproxy.service" : "nginx.service");
        if (haproxy && !r->config)
                r->config = xstrdup(L, "/etc/haproxy/haproxy.cfg");
        if (!r->test_command)
                r->test_command = haproxy ? argv_of(L, "haproxy", "-c", "-f", r->config) : argv_of(L, "nginx", "-t", NULL, NULL);
        if (reloaders_add(L, x->c, r) < 0) {
                free(r->id);
                free(r);
                return NULL;
        }
        return r;
}

static conf_reload *reload_target(loadctx *x, const cnode *n) {
        L_t *L = x->L;
        if (n->kind == CNODE_SCALAR) {
                if (streq(n->str, "nginx") || streq(n->str, "haproxy"))
                        return reloader_named(x, n->str);
                conf_err_at(L, n, "enum", "use nginx, haproxy, {systemd: UNIT} or {command: [program, args]}",
                       "unknown reload target '%s'", n->str);
                return NULL;
        }
        if (n->kind != CNODE_MAP) {
                conf_err_at(L, n, "type", "use nginx, haproxy, {systemd: UNIT} or {command: [program, args]}",
                       "a reload target must be a name or a mapping, not %s", conf_node_type_name(n));
                return NULL;
        }
        static keylist keys = { "systemd", "command", "timeout", NULL };
        conf_check_keys(L, n, keys, "a reload target");
        cnode *sd = conf_get(n, "systemd"), *cmd = conf_get(n, "command");
        if ((sd && cmd) || (!sd && !cmd)) {
                conf_err_at(L, n, sd ? "conflict" : "missing", "write {systemd: UNIT} or {command: [program, args]}",
                       "a reload target needs exactly one of 'systemd' and 'command'");
                return NULL;
        }
        conf_reload tmp = { .timeout = 60 };
        if (sd) {
                const char *u = nonempty(L, sd, "systemd");
                if (!u)
                        return NULL;
                if (strlen(u) > 256 || strspn(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\@") != strlen(u)) {
                        conf_err_at(L, sd, "range", "write a unit name such as myapp.service", "'%s' is not a systemd unit name", u);
                        return NULL;
                }
                tmp.kind = CONF_RELOAD_SYSTEMD;
                tmp.unit = (char *) u;
                tmp.id = strprintf("systemd:%s", u);
        } else {
                char **argv = get_argv(L, cmd, "reload command", false);
                if (!argv)
                        return NULL;
                tmp.kind = CONF_RELOAD_COMMAND;
                tmp.command = argv;
                size_t len = 9;
                for (char **a = argv; *a; a++)
                        len += strlen(*a) + 1;
                tmp.id = malloc(len);
                if (tmp.id) {
                        strcpy(tmp.id, "command:");
                        for (char **a = argv; *a; a++) {
                                strcat(tmp.id, *a);
                                if (a[1])
                                        strcat(tmp.id, " ");
                        }
                }
        }
        get_duration(L, n, "timeout", &tmp.timeout, 1, 3600);
        if (!tmp.id) {
                strv_free(tmp.command);
                return L->oom = true, NULL;
        }
        conf_reload *r = reloader_find(x->c, tmp.id);
        if (r) {
                if (r->timeout != tmp.timeout)
                        conf_err_at(L, n, "conflict", "use the same timeout for every use of this target",
                               "reload target '%s' is used with different timeouts", tmp.id);
                free(tmp.id);
                strv_free(tmp.command);
                return r;
        }
        r = calloc(1, sizeof(conf_reload));
        if (!r) {
                free(tmp.id);
                strv_free(tmp.command);
                return L->oom = true, NULL;
        }
        *r = tmp;
        if (tmp.kind == CONF_RELOAD_SYSTEMD)
                r->unit = xstrdup(L, tmp.unit);
        if (reloaders_add(L, x->c, r) < 0) {
                free(r->id);
                free(r->unit);
                strv_free(r->command);
                free(r);
                return NULL;
        }
        return r;
}

/* ---- defaults merge -------------------------------------------------------- */

/* Keys whose mapping values merge per key (cert's value wins per key). */
static bool mergeable(const char *key) {
        return streq(key, "issuer") || streq(key, "subject") || streq(key, "key") || streq(key, "dns") ||
               streq(key, "output") || streq(key, "hooks");
}

/* A discriminator that, when different, makes the cert's mapping replace the default's. */
static const char *discriminator(const char *key) {
        return streq(key, "issuer") || streq(key, "key") ? "type" : streq(key, "dns") ? "provider" : NULL;
}

static cnode *merge_map(L_t *L, cnode *over, const cnode *def, bool nested) {
        cnode *m;
        if (!def || def->kind != CNODE_MAP || over->kind != CNODE_MAP)
                return over;
        m = conf_node_new(L, CNODE_MAP, &over->loc);
        if (!m)
                return over;
        m->pairs = calloc(over->n_pairs + def->n_pairs + 1, sizeof(cpair));
        if (!m->pairs) {
                L->oom = true;
                return over;
        }
        for (size_t i = 0; i < over->n_pairs; i++) {
                cpair p = over->pairs[i];
                p.from_defaults = false;
                if (!nested && p.key->kind == CNODE_SCALAR && mergeable(p.key->str) && p.value->kind == CNODE_MAP) {
                        const cnode *dv = conf_node_get(def, p.key->str, NULL);
                        const char *disc = discriminator(p.key->str);
                        if (dv && dv->kind == CNODE_MAP) {
                                cnode *a = disc ? conf_get(p.value, disc) : NULL, *b = disc ? conf_get(dv, disc) : NULL;
                                bool differ = a && b && (a->kind != CNODE_SCALAR || b->kind != CNODE_SCALAR ||
                                                         strcasecmp(a->str, b->str) != 0);
                                if (!differ)
                                        p.value = merge_map(L, p.value, dv, true);
                        }
                }
                m->pairs[m->n_pairs++] = p;
        }
        for (size_t i = 0; i < def->n_pairs; i++) {
                cpair p = def->pairs[i];
                if (p.key->kind != CNODE_SCALAR || conf_node_get(over, p.key->str, NULL))
                        continue;
                if (!nested && (streq(p.key->str, "name") || streq(p.key->str, "output_root")))
                        continue;
                p.from_defaults = true;
                m->pairs[m->n_pairs++] = p;
        }
        return m;
}

/* ---- certificates ------------------------------------------------------------ */

static const char *const cert_keys[] = { "name", "issuer", "subject", "dns_names", "ip_addresses", "email_addresses",
                                         "uris", "key", "dns", "output", "reload", "hooks", "renew_fraction",
                                         "renew_before", "jitter", "retry_min", "retry_max", NULL };

static void conf_cert_free(conf_cert *c);

static const char *top_keys[] = { "aws", "state_dir", "output_root", "daemon", "reloaders", "defaults", "certificates",
                                  "include", NULL };

static const cnode *first_item(const cnode *list, const cnode *fallback) {
        return list && list->kind == CNODE_SEQ && list->n_items > 0 ? list->items[0] : fallback;
}

static void cert_finish(L_t *L, conf *c, conf_cert *cert, const cnode *n, bool issuer_ok) {
        /* Derived defaults. */
        if (!cert->output.dir && cert->name && c->output_root)
                cert->output.dir = path_join(c->output_root, cert->name);
        if (!cert->subject.common_name && cert->dns_names && cert->dns_names[0] && cert->dns_names[0][0] != '*' &&
            strlen(cert->dns_names[0]) <= 64)
                cert->subject.common_name = xstrdup(L, cert->dns_names[0]);
        else if (!cert->subject.common_name && cert->dns_names && cert->dns_names[0] && strlen(cert->dns_names[0]) <= 64)
                cert->subject.common_name = xstrdup(L, cert->dns_names[0]);

        /* Consumers may walk the name lists without a NULL check. */
        char ***lists[] = { &cert->dns_names, &cert->ip_addresses, &cert->email_addresses, &cert->uris };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (!*lists[i] && !(*lists[i] = calloc(1, sizeof(char *))))
                        L->oom = true;

        /* A names key that is present but invalid was reported already. */
        bool names_written = conf_get(n, "dns_names") || conf_get(n, "ip_addresses") || conf_get(n, "email_addresses") || conf_get(n, "uris");
        bool any_name = names_written || (cert->dns_names && cert->dns_names[0]) || (cert->ip_addresses && cert->ip_addresses[0]) ||
                        (cert->email_addresses && cert->email_addresses[0]) || (cert->uris && cert->uris[0]);
        switch (issuer_ok ? cert->issuer_type : CONF_ISSUER_IMPORT) {
        case CONF_ISSUER_PCA:
                if (!any_name && !cert->subject.common_name && !cert->issuer.pca.api_passthrough)
                        conf_err_at(L, n, "missing", "add dns_names: [www.example.com] (or ip_addresses, email_addresses, uris)",
                               "certificate '%s' names nothing", cert->name ? cert->name : "?");
                break;
        case CONF_ISSUER_ACM:
                if (cert->issuer.acm.arn)
                        break;
                if (!names_written)
                        conf_err_at(L, n, "missing", "add dns_names: [www.example.com]",
                               "an ACM certificate needs dns_names (ACM issues DNS names only)");
                else if (cert->dns_names && cert->dns_names[0] && strlen(cert->dns_names[0]) > 64)
                        conf_err_at(L, first_item(conf_get(n, "dns_names"), n), "dns-name",
                               "put a name of at most 64 octets first (it becomes the common name)",
                               "'%s' is longer than 64 octets; ACM requires the first name (the CN) to be at most 64",
                               cert->dns_names[0]);
                if ((cert->ip_addresses && cert->ip_addresses[0]) || (cert->email_addresses && cert->email_addresses[0]) ||
                    (cert->uris && cert->uris[0]))
                        conf_err_at(L, n, "conflict", "remove ip_addresses, email_addresses and uris (or use a pca issuer)",
                               "ACM certificates carry DNS names only");
                if (cert->issuer.acm.validation == CONF_VALIDATION_DNS && !cert->issuer.acm.certificate_authority_arn &&
                    cert->dns.provider == CONF_DNS_NONE && !conf_get(n, "dns"))
                        conf_err_at(L, n, "missing", "add dns: {provider: route53} (or exec with a command, or manual)",
                               "certificate '%s' uses DNS validation but has no dns provider", cert->name ? cert->name : "?");
                break;
        case CONF_ISSUER_IMPORT:
                break;
        }
        if ((cert->output.files & CONF_OUT_PKCS12) && !cert->output.pkcs12_passphrase_file) {
                cnode *o = conf_get(n, "output");
                conf_err_at(L, o ? o : n, "conflict", "add output.pkcs12_passphrase_file: /etc/acm-agent/p12.pass (a file holding the passphrase)",
                       "output file pkcs12 is selected without pkcs12_passphrase_file");
        }
        if (cert->schedule.retry_min > cert->schedule.retry_max) {
                const cnode *r = conf_get(n, "retry_min") ? conf_get(n, "retry_min") : n;
                conf_err_at(L, r, "range", "make retry_min at most retry_max", "retry_min is larger than retry_max");
        }
}

static conf_cert *cert_parse(loadctx *x, cnode *raw) {
        L_t *L = x->L;
        bool issuer_ok = false;
        conf_cert *cert;
        cnode *n, *v;

        if (!conf_want_map(L, raw, "a certificate"))
                return NULL;
        conf_check_keys(L, raw, cert_keys, "a certificate");
        n = merge_map(L, raw, x->defaults, false);

        cert = calloc(1, sizeof(conf_cert));
        if (!cert)
                return L->oom = true, NULL;
        cert->loc = raw->loc;
        cert->key = (conf_key) { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256, .bits = 0 };
        cert->dns = (conf_dns) { .provider = CONF_DNS_NONE, .propagation_timeout = 600, .ttl = 300 };
        cert->output = (conf_output) { .mode = 0644, .key_mode = 0600,
                                       .files = CONF_OUT_CERT | CONF_OUT_CHAIN | CONF_OUT_FULLCHAIN | CONF_OUT_KEY,
                                       .keep_versions = 2 };
        cert->hooks.timeout = 60;
        cert->schedule = (conf_schedule) { .renew_fraction = 0.33, .jitter = 12 * 3600, .retry_min = 300, .retry_max = 6 * 3600 };

        if ((v = conf_get(raw, "name"))) {
                const char *s = conf_scalar(L, v, "name");
                if (s && !conf_cert_name_valid(s))
                        conf_err_at(L, v, "name", "use 1-128 letters, digits, '.', '_' or '-', not starting with '.'",
                               "certificate name '%s' is not a safe file name", s);
                else if (s)
                        cert->name = xstrdup(L, s);
        } else
                conf_err_at(L, raw, "missing", "add name: web (a stable id for files, state and logs)",
                       "a certificate needs a 'name'");

        if ((v = conf_get(n, "issuer"))) {
                size_t before = L->n_errs;
                parse_issuer(L, cert, v);
                issuer_ok = L->n_errs == before;
        }
        else
                conf_err_at(L, raw, "missing", "add issuer: {type: pca, ca_arn: ..., validity: 30d} (or acm, import)",
                       "certificate '%s' has no issuer", cert->name ? cert->name : "?");
        if ((v = conf_get(n, "subject")))
                parse_subject(L, &cert->subject, v);
        if ((v = conf_get(n, "dns_names")))
                cert->dns_names = parse_names(L, v, "dns_names", NAME_DNS);
        if ((v = conf_get(n, "ip_addresses")))
                cert->ip_addresses = parse_names(L, v, "ip_addresses", NAME_IP);
        if ((v = conf_get(n, "email_addresses")))
                cert->email_addresses = parse_names(L, v, "email_addresses", NAME_EMAIL);
        if ((v = conf_get(n, "uris")))
                cert->uris = parse_names(L, v, "uris", NAME_URI);
        if ((v = conf_get(n, "key")))
                parse_key(L, &cert->key, v);
        if (cert->key.type == CONF_KEY_RSA && !cert->key.bits)
                cert->key.bits = 2048;
        if ((v = conf_get(n, "dns")))
                parse_dns(L, &cert->dns, v);
        if ((v = conf_get(n, "output")))
                parse_output(L, &cert->output, v);
        if ((v = conf_get(n, "reload"))) {
                if (v->kind != CNODE_SEQ)
                        conf_err_at(L, v, "type", "write a list such as [nginx] or [{systemd: myapp.service}]",
                               "reload must be a list, not %s", conf_node_type_name(v));
                else if (v->n_items > 32)
                        conf_err_at(L, v, "too-large", "use at most 32 reload targets", "too many reload targets");
                else {
                        cert->reload = calloc(v->n_items + 1, sizeof(conf_reload *));
                        if (!cert->reload)
                                L->oom = true;
                        size_t k = 0;
                        for (size_t i = 0; cert->reload && i < v->n_items; i++) {
                                conf_reload *r = reload_target(x, v->items[i]);
                                bool dup = false;
                                if (!r)
                                        continue;
                                for (size_t j = 0; j < k; j++)
                                        dup |= cert->reload[j] == r;
                                if (dup)
                                        conf_err_at(L, v->items[i], "duplicate", "list each target once", "reload target '%s' is listed twice", r->id);
                                else
                                        cert->reload[k++] = r;
                        }
                }
        }
        if ((v = conf_get(n, "hooks")))
                parse_hooks(L, &cert->hooks, v);

        /* renew_before and renew_fraction may both be set (DESIGN §2's example does): renew_before wins. */
        if ((v = conf_get(n, "renew_fraction"))) {
                const char *s = conf_scalar(L, v, "renew_fraction");
                char *end = NULL;
                double d = 0;
                if (s) {
                        errno = 0;
                        d = strtod(s, &end);
                        if (errno || end == s || *end || !isfinite(d))
                                conf_err_at(L, v, "type", "write a number between 0 and 1, such as 0.33", "renew_fraction '%s' is not a number", s);
                        else if (d <= 0 || d >= 1)
                                conf_err_at(L, v, "range", "write a number between 0 and 1 (exclusive), such as 0.33", "renew_fraction %s is not between 0 and 1", s);
                        else
                                cert->schedule.renew_fraction = d;
                }
        }
        get_duration(L, n, "renew_before", &cert->schedule.renew_before, 60, 10 * 365 * 86400ULL);
        get_duration(L, n, "jitter", &cert->schedule.jitter, 0, 7 * 86400);
        get_duration(L, n, "retry_min", &cert->schedule.retry_min, 1, 86400);
        get_duration(L, n, "retry_max", &cert->schedule.retry_max, 1, 7 * 86400);

        cert_finish(L, x->c, cert, n, issuer_ok);
        return cert;
}

/* ---- top level -------------------------------------------------------------- */

static void parse_aws(L_t *L, conf_aws *a, const cnode *n) {
        static keylist keys = { "region", "profile", "role_arn", "role_session_name", "external_id", "endpoints", "ca_bundle",
                                "use_fips", "connect_timeout", "request_timeout", "max_attempts", "rate_limits", NULL };
        static const char *const services[] = { "acm", "acm-pca", "route53", "sts", NULL };
        cnode *v;
        const char *why;
        if (!conf_want_map(L, n, "aws"))
                return;
        conf_check_keys(L, n, keys, "aws");
        if ((v = conf_get(n, "region")) && nonempty(L, v, "region")) {
                if ((why = conf_check_region(v->str)))
                        conf_err_at(L, v, "region", "write a region such as eu-west-1", "region '%s': %s", v->str, why);
                else
                        a->region = xstrdup(L, v->str);
        }
        get_str(L, n, "profile", &a->profile);
        get_arn(L, n, "role_arn", CONF_ARN_IAM_ROLE, &a->role_arn);
        if ((v = conf_get(n, "role_session_name")) && nonempty(L, v, "role_session_name")) {
                size_t l = strlen(v->str);
                if (l < 2 || l > 64 || strspn(v->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") != l)
                        conf_err_at(L, v, "range", "use 2-64 letters, digits and + = , . @ _ -", "role_session_name '%s' is not valid", v->str);
                else
                        a->role_session_name = xstrdup(L, v->str);
        }
        if (!a->role_session_name)
                a->role_session_name = xstrdup(L, "acm-agent");
        if ((v = conf_get(n, "external_id")) && nonempty(L, v, "external_id")) {
                size_t l = strlen(v->str);
                if (l < 2 || l > 1224)
                        conf_err_at(L, v, "range", "use 2 to 1224 characters", "external_id has %zu characters", l);
                else
                        a->external_id = xstrdup(L, v->str);
        }
        if ((v = conf_get(n, "endpoints")) && conf_want_map(L, v, "endpoints")) {
                a->endpoints = calloc(v->n_pairs ? v->n_pairs : 1, sizeof(conf_endpoint));
                if (!a->endpoints)
                        L->oom = true;
                for (size_t i = 0; a->endpoints && i < v->n_pairs; i++) {
                        const cpair *p = &v->pairs[i];
                        int si = conf_get_enum(L, p->key, "endpoint service", services);
                        const char *url = nonempty(L, p->value, "endpoint URL");
                        if (si < 0 || !url)
                                continue;
                        if ((why = conf_check_endpoint_url(url))) {
                                conf_err_at(L, p->value, "url", "write https://HOST[:PORT] (http only to 127.0.0.1, localhost or [::1])",
                                       "endpoint %s '%s': %s", services[si], url, why);
                                continue;
                        }
                        for (size_t j = 0; j < a->n_endpoints; j++)
                                if (streq(a->endpoints[j].service, services[si]))
                                        conf_err_at(L, p->key, "duplicate", "give each service one endpoint", "endpoint for %s is set twice", services[si]);
                        a->endpoints[a->n_endpoints].service = xstrdup(L, services[si]);
                        a->endpoints[a->n_endpoints++].url = xstrdup(L, url);
                }
        }
        if (get_path(L, n, "ca_bundle", &a->ca_bundle) && access(a->ca_bundle, R_OK) < 0) {
                conf_err_at(L, conf_get(n, "ca_bundle"), "io", "install the bundle (ca-certificates) or fix the path",
                       "ca_bundle %s is not readable: %s", a->ca_bundle, strerror(errno));
        }
        get_bool(L, n, "use_fips", &a->use_fips);
        a->connect_timeout = 10;
        a->request_timeout = 60;
        a->max_attempts = 5;
        get_duration(L, n, "connect_timeout", &a->connect_timeout, 1, 600);
        get_duration(L, n, "request_timeout", &a->request_timeout, 1, 3600);
        uint64_t ma;
        if (get_uint(L, n, "max_attempts", &ma, 1, 20))
                a->max_attempts = (unsigned) ma;
        if ((v = conf_get(n, "rate_limits")) && conf_want_map(L, v, "rate_limits")) {
                a->rate_limits = calloc(v->n_pairs ? v->n_pairs : 1, sizeof(conf_rate_limit));
                if (!a->rate_limits)
                        L->oom = true;
                for (size_t i = 0; a->rate_limits && i < v->n_pairs; i++) {
                        const cpair *p = &v->pairs[i];
                        const char *op = conf_scalar(L, p->key, "rate limit operation"), *val, *colon;
                        if (!op || !(val = conf_scalar(L, p->value, "rate limit")))
                                continue;
                        colon = strchr(op, ':');
                        bool svc_ok = false;
                        if (colon)
                                for (const char *const *s = services; *s; s++)
                                        svc_ok |= strlen(*s) == (size_t) (colon - op) && strneq(*s, op, (size_t) (colon - op));
                        if (!colon || !svc_ok || !isupper((unsigned char) colon[1]) || strlen(colon + 1) > 64 ||
                            strspn(colon + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(colon + 1)) {
                                conf_err_at(L, p->key, "enum", "write service:Operation, such as acm-pca:IssueCertificate (services: acm, acm-pca, route53, sts)",
                                       "rate limit key '%s' is not service:Operation", op);
                                continue;
                        }
                        char *end = NULL;
                        errno = 0;
                        double d = strtod(val, &end);
                        if (errno || end == val || *end || !isfinite(d) || d <= 0 || d > 1000) {
                                conf_err_at(L, p->value, "range", "write requests per second, a number above 0 and at most 1000",
                                       "rate limit for %s: '%s' is not a rate", op, val);
                                continue;
                        }
                        a->rate_limits[a->n_rate_limits].operation = xstrdup(L, op);
                        a->rate_limits[a->n_rate_limits++].per_second = d;
                }
        }
}

static void parse_daemon(L_t *L, conf_daemon *d, const cnode *n) {
        static keylist keys = { "reload_debounce", "acm_poll_interval", "metrics_textfile", NULL };
        if (!conf_want_map(L, n, "daemon"))
                return;
        conf_check_keys(L, n, keys, "daemon");
        get_duration(L, n, "reload_debounce", &d->reload_debounce, 0, 3600);
        get_duration(L, n, "acm_poll_interval", &d->acm_poll_interval, 60, 7 * 86400);
        get_path(L, n, "metrics_textfile", &d->metrics_textfile);
}

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
        const char *pat = nonempty(L, e, "include");
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
        loadctx x = { .L = &L, .c = c };
        c->daemon = (conf_daemon) { .reload_debounce = 5, .acm_poll_interval = 6 * 3600 };

        /* Top-level sections of the main file. */
        if (root && root->kind != CNODE_NULL && conf_want_map(&L, root, "the configuration file")) {
                cnode *v;
                conf_check_keys(&L, root, top_keys, "the main configuration");
                if ((v = conf_get(root, "aws")))
                        parse_aws(&L, &c->aws, v);
                else
                        parse_aws(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = root->loc });
                get_path(&L, root, "state_dir", &c->state_dir);
                get_path(&L, root, "output_root", &c->output_root);
                if ((v = conf_get(root, "daemon")))
                        parse_daemon(&L, &c->daemon, v);
                if ((v = conf_get(root, "reloaders")) && conf_want_map(&L, v, "reloaders")) {
                        static keylist rk = { "nginx", "haproxy", NULL };
                        conf_check_keys(&L, v, rk, "reloaders");
                        x.reloaders = v;
                        for (size_t i = 0; i < v->n_pairs; i++)
                                if (v->pairs[i].key->kind == CNODE_SCALAR &&
                                    (streq(v->pairs[i].key->str, "nginx") || streq(v->pairs[i].key->str, "haproxy")))
                                        reloader_named(&x, v->pairs[i].key->str);
                }
                if ((v = conf_get(root, "defaults")) && conf_want_map(&L, v, "defaults")) {
                        const char *dk[ELEMENTSOF(cert_keys) + 1];
                        size_t k = 0;
                        for (size_t i = 0; cert_keys[i]; i++)
                                if (!streq(cert_keys[i], "name"))
                                        dk[k++] = cert_keys[i];
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
                                get_path(&L, v, "output_root", &c->output_root);
                        }
                }
        }
        if (!c->aws.role_session_name) {
                /* No (valid) aws: section: the defaults. */
                parse_aws(&L, &c->aws, &(cnode) { .kind = CNODE_MAP, .loc = { .file = mainf, .line = 1, .column = 1 } });
        }
        if (!c->state_dir)
                c->state_dir = xstrdup(&L, CONF_DEFAULT_STATE_DIR);
        if (!c->output_root)
                c->output_root = xstrdup(&L, CONF_DEFAULT_OUTPUT_ROOT);

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
                                for (const char **t = top_keys; *t; t++)
                                        top |= streq(*t, k->str);
                                if (top)
                                        conf_err_at(&L, k, "misplaced", "move it to the main configuration file",
                                               "'%s' belongs in the main file (%s), not in a drop-in", k->str, mainf);
                                else {
                                        static keylist dk = { "certificates", NULL };
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
                        conf_cert *cert = cert_parse(&x, list->items[i]);
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

/* ---- freeing and small accessors -------------------------------------------- */

static void tags_free(conf_tag *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(t[i].key);
                free(t[i].value);
        }
        free(t);
}

static void conf_cert_free(conf_cert *c) {
        if (!c)
                return;
        free(c->name);
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA:
                free(c->issuer.pca.ca_arn);
                free(c->issuer.pca.template_arn);
                free(c->issuer.pca.signing_algorithm);
                json_decref(c->issuer.pca.api_passthrough);
                break;
        case CONF_ISSUER_ACM:
                free(c->issuer.acm.arn);
                free(c->issuer.acm.key_algorithm);
                free(c->issuer.acm.certificate_authority_arn);
                free(c->issuer.acm.validation_domain);
                tags_free(c->issuer.acm.tags, c->issuer.acm.n_tags);
                break;
        case CONF_ISSUER_IMPORT:
                free(c->issuer.import.cert);
                free(c->issuer.import.key);
                free(c->issuer.import.chain);
                free(c->issuer.import.arn);
                tags_free(c->issuer.import.tags, c->issuer.import.n_tags);
                break;
        }
        for (size_t i = 0; i < ELEMENTSOF(subject_max); i++)
                free(*subject_field(&c->subject, i));
        for (size_t i = 0; i < c->subject.n_custom_attributes; i++) {
                free(c->subject.custom_attributes[i].oid);
                free(c->subject.custom_attributes[i].value);
        }
        free(c->subject.custom_attributes);
        strv_free(c->dns_names);
        strv_free(c->ip_addresses);
        strv_free(c->email_addresses);
        strv_free(c->uris);
        free(c->dns.hosted_zone_id);
        strv_free(c->dns.command);
        free(c->output.dir);
        free(c->output.owner_name);
        free(c->output.group_name);
        free(c->output.pkcs12_passphrase_file);
        free(c->reload);
        strv_free(c->hooks.deploy);
        strv_free(c->hooks.failure);
        strv_free(c->hooks.pending_validation);
        free(c);
}

conf *conf_free(conf *c) {
        if (!c)
                return NULL;
        free(c->path);
        strv_free(c->files);
        free(c->aws.region);
        free(c->aws.profile);
        free(c->aws.role_arn);
        free(c->aws.role_session_name);
        free(c->aws.external_id);
        for (size_t i = 0; i < c->aws.n_endpoints; i++) {
                free(c->aws.endpoints[i].service);
                free(c->aws.endpoints[i].url);
        }
        free(c->aws.endpoints);
        free(c->aws.ca_bundle);
        for (size_t i = 0; i < c->aws.n_rate_limits; i++)
                free(c->aws.rate_limits[i].operation);
        free(c->aws.rate_limits);
        free(c->state_dir);
        free(c->output_root);
        free(c->daemon.metrics_textfile);
        for (conf_reload **r = c->reloaders; r && *r; r++) {
                free((*r)->id);
                strv_free((*r)->test_command);
                strv_free((*r)->reload_command);
                free((*r)->pid_file);
                free((*r)->unit);
                free((*r)->config);
                free((*r)->runtime_socket);
                strv_free((*r)->command);
                free(*r);
        }
        free(c->reloaders);
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

const conf_cert *conf_find_cert(const conf *c, const char *name) {
        for (conf_cert **i = c ? c->certs : NULL; i && *i; i++)
                if (streq((*i)->name, name))
                        return *i;
        return NULL;
}

const char *conf_issuer_type_to_string(conf_issuer_type t) {
        switch (t) {
        case CONF_ISSUER_PCA:
                return "pca";
        case CONF_ISSUER_ACM:
                return "acm";
        case CONF_ISSUER_IMPORT:
                return "import";
        }
        return "?";
}

const char *conf_key_describe(const conf_key *k, char *buf, size_t len) {
        static const char *const curves[] = { "P-256", "P-384", "P-521" };
        if (k->type == CONF_KEY_RSA)
                snprintf(buf, len, "rsa-%u", k->bits);
        else
                snprintf(buf, len, "ec-%s", k->curve <= CONF_CURVE_P521 ? curves[k->curve] : "?");
        return buf;
}
