/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-creds-file.h"
#include "aws/aws.h"
#include "basic/clock.h"
#include "basic/macro.h"
#include "basic/util.h"

#define CREDS_FILE_MAX (1024 * 1024)
#define CREDS_CHAIN_MAX 16

typedef struct entry {
        char *section;   /* profile name */
        char *key;       /* lower case */
        char *value;
        bool from_credentials;
} entry;

struct creds_files {
        entry *items;
        size_t n;
};

creds_files *creds_files_free(creds_files *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n; i++) {
                free(f->items[i].section);
                free(f->items[i].key);
                if (f->items[i].value) {
                        explicit_bzero(f->items[i].value, strlen(f->items[i].value));
                        free(f->items[i].value);
                }
        }
        free(f->items);
        free(f);
        return NULL;
}


static char *strip(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        return s;
}

static int add_entry(creds_files *f, const char *section, const char *key, const char *value, bool cred) {
        entry *n = realloc(f->items, (f->n + 1) * sizeof(entry));
        if (!n)
                return -ENOMEM;
        f->items = n;
        entry e = { strdup(section), strdup(key), strdup(value), cred };
        if (!e.section || !e.key || !e.value) {
                free(e.section);
                free(e.key);
                free(e.value);
                return -ENOMEM;
        }
        for (char *p = e.key; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        f->items[f->n++] = e;
        return 0;
}

static int parse_text(creds_files *f, const char *text, bool cred) {
        _cleanup_(freep) char *copy = NULL, *section = NULL;
        char *save = NULL;

        if (!text)
                return 0;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                bool indented = isspace((unsigned char) line[0]);
                char *l = strip(line);
                if (!*l || *l == '#' || *l == ';')
                        continue;
                if (*l == '[') {
                        char *end = strchr(l, ']');
                        free(section);
                        section = NULL;
                        if (!end)
                                continue;
                        *end = 0;
                        char *name = strip(l + 1);
                        if (!cred) {
                                /* config: [default] or [profile NAME]; other sections (sso-session…) ignored. */
                                if (strneq(name, "profile", 7) && isspace((unsigned char) name[7]))
                                        name = strip(name + 8);
                                else if (!streq(name, "default"))
                                        continue;
                        }
                        section = strdup(name);
                        if (!section)
                                return -ENOMEM;
                        continue;
                }
                /* Indented lines are sub-keys of a nested block (s3 = …): ignored. */
                if (!section || indented)
                        continue;
                char *eq = strchr(l, '=');
                if (!eq)
                        continue;
                *eq = 0;
                char *key = strip(l), *value = strip(eq + 1);
                /* Inline comments need whitespace before them, as in botocore. */
                for (char *p = value; *p; p++)
                        if ((*p == '#' || *p == ';') && p > value && isspace((unsigned char) p[-1])) {
                                *p = 0;
                                value = strip(value);
                                break;
                        }
                int r = add_entry(f, section, key, value, cred);
                if (r < 0)
                        return r;
        }
        explicit_bzero(copy, strlen(text));
        return 0;
}

int creds_files_parse(const char *config_text, const char *credentials_text, creds_files **ret) {
        _cleanup_(creds_files_freep) creds_files *f = calloc(1, sizeof(creds_files));
        int r;
        if (!f)
                return -ENOMEM;
        r = parse_text(f, credentials_text, true);
        if (r < 0)
                return r;
        r = parse_text(f, config_text, false);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

static int read_optional(const char *path, char **ret) {
        char *s = NULL;
        if (isempty(path)) {
                *ret = NULL;
                return 0;
        }
        int r = read_full_file(path, CREDS_FILE_MAX, &s, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int creds_files_load(const char *config_path, const char *credentials_path, creds_files **ret) {
        _cleanup_(freep) char *a = NULL, *b = NULL;
        int r = read_optional(config_path, &a);
        if (r < 0)
                return r;
        r = read_optional(credentials_path, &b);
        if (r < 0)
                return r;
        r = creds_files_parse(a, b, ret);
        if (b)
                explicit_bzero(b, strlen(b));
        return r;
}

const char *creds_files_get(const creds_files *f, const char *profile, const char *key) {
        const char *from_config = NULL;
        if (!f || !profile)
                return NULL;
        /* The last occurrence wins within a file; the credentials file wins over config. */
        const char *from_cred = NULL;
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->items[i].section, profile) && streq(f->items[i].key, key)) {
                        if (f->items[i].from_credentials)
                                from_cred = f->items[i].value;
                        else
                                from_config = f->items[i].value;
                }
        return from_cred ? from_cred : from_config;
}

bool creds_files_has_profile(const creds_files *f, const char *profile) {
        if (!f || !profile)
                return false;
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->items[i].section, profile))
                        return true;
        /* An empty section still counts: look again for a bare header is not
         * recorded; a profile without keys is unusable anyway. */
        return false;
}

void creds_chain_done(creds_chain *c) {
        if (!c)
                return;
        free(c->roles);
        *c = (creds_chain) {};
}

_printf_(3, 4) static int fail(char **ret_msg, int r, const char *fmt, ...) {
        va_list ap;
        if (ret_msg) {
                va_start(ap, fmt);
                if (vasprintf(ret_msg, fmt, ap) < 0)
                        *ret_msg = NULL;
                va_end(ap);
        }
        return r;
}

static const char *nonempty(const char *s) {
        return isempty(s) ? NULL : s;
}

int creds_files_resolve(const creds_files *f, const char *profile, creds_chain *ret, char **ret_msg) {
        creds_chain c = {};
        const char *visited[CREDS_CHAIN_MAX];
        size_t n_visited = 0;
        const char *p = profile;
        creds_role roles[CREDS_CHAIN_MAX];
        size_t n_roles = 0;

        if (ret_msg)
                *ret_msg = NULL;
        if (isempty(profile))
                return -EINVAL;
        if (!creds_files_has_profile(f, profile))
                return fail(ret_msg, -ENOENT,
                            "profile '%s' is not in the AWS config or credentials file; "
                            "add it, or set aws.profile / AWS_PROFILE to an existing one", profile);

        for (;;) {
                for (size_t i = 0; i < n_visited; i++)
                        if (streq(visited[i], p))
                                return fail(ret_msg, -ELOOP,
                                            "profile '%s': source_profile loop through '%s'; "
                                            "make the chain end in a profile with credentials", profile, p);
                if (n_visited >= CREDS_CHAIN_MAX)
                        return fail(ret_msg, -ELOOP, "profile '%s': source_profile chain longer than 16",
                                    profile);
                visited[n_visited++] = p;
                if (!creds_files_has_profile(f, p))
                        return fail(ret_msg, -ENOENT,
                                    "source_profile '%s' (named by profile '%s') does not exist", p,
                                    visited[n_visited > 1 ? n_visited - 2 : 0]);

                const char *role_arn = nonempty(creds_files_get(f, p, "role_arn"));
                const char *source_profile = nonempty(creds_files_get(f, p, "source_profile"));
                const char *credential_source = nonempty(creds_files_get(f, p, "credential_source"));
                const char *token_file = nonempty(creds_files_get(f, p, "web_identity_token_file"));
                const char *akid = nonempty(creds_files_get(f, p, "aws_access_key_id"));
                const char *secret = nonempty(creds_files_get(f, p, "aws_secret_access_key"));
                const char *process = nonempty(creds_files_get(f, p, "credential_process"));

                if (role_arn && token_file && !source_profile) {
                        c.base = CREDS_BASE_WEB_IDENTITY;
                        c.base_profile = p;
                        c.token_file = token_file;
                        c.web_role_arn = role_arn;
                        c.web_session_name = nonempty(creds_files_get(f, p, "role_session_name"));
                        break;
                }
                if (role_arn) {
                        if (source_profile && credential_source)
                                return fail(ret_msg, -EINVAL,
                                            "profile '%s' sets both source_profile and credential_source; keep one", p);
                        if (!source_profile && !credential_source)
                                return fail(ret_msg, -EINVAL,
                                            "profile '%s' has role_arn but neither source_profile nor "
                                            "credential_source; add one", p);
                        if (n_roles >= CREDS_CHAIN_MAX)
                                return -ELOOP;
                        uint64_t duration = 0;
                        const char *ds = nonempty(creds_files_get(f, p, "duration_seconds"));
                        if (ds && parse_uint64(ds, &duration) < 0)
                                return fail(ret_msg, -EINVAL, "profile '%s': duration_seconds '%s' is not a number",
                                            p, ds);
                        roles[n_roles++] = (creds_role) {
                                .profile = p,
                                .role_arn = role_arn,
                                .external_id = nonempty(creds_files_get(f, p, "external_id")),
                                .role_session_name = nonempty(creds_files_get(f, p, "role_session_name")),
                                .duration_seconds = duration,
                        };
                        if (credential_source) {
                                c.base_profile = p;
                                if (streq(credential_source, "Environment"))
                                        c.base = CREDS_BASE_ENVIRONMENT;
                                else if (streq(credential_source, "Ec2InstanceMetadata"))
                                        c.base = CREDS_BASE_IMDS;
                                else if (streq(credential_source, "EcsContainer"))
                                        c.base = CREDS_BASE_ECS;
                                else
                                        return fail(ret_msg, -EINVAL,
                                                    "profile '%s': credential_source '%s' is not one of "
                                                    "Environment, Ec2InstanceMetadata, EcsContainer", p,
                                                    credential_source);
                                break;
                        }
                        if (streq(source_profile, p)) {
                                /* A profile may be its own source: its keys assume its role. */
                                if (!akid || !secret)
                                        return fail(ret_msg, -EINVAL,
                                                    "profile '%s' is its own source_profile but has no "
                                                    "aws_access_key_id/aws_secret_access_key", p);
                                c.base = CREDS_BASE_STATIC;
                                c.base_profile = p;
                                c.access_key_id = akid;
                                c.secret_access_key = secret;
                                c.session_token = nonempty(creds_files_get(f, p, "aws_session_token"));
                                break;
                        }
                        p = source_profile;
                        continue;
                }
                if (akid || secret) {
                        if (!akid || !secret)
                                return fail(ret_msg, -EINVAL,
                                            "profile '%s' has only one of aws_access_key_id and "
                                            "aws_secret_access_key; set both", p);
                        c.base = CREDS_BASE_STATIC;
                        c.base_profile = p;
                        c.access_key_id = akid;
                        c.secret_access_key = secret;
                        c.session_token = nonempty(creds_files_get(f, p, "aws_session_token"));
                        break;
                }
                if (process) {
                        c.base = CREDS_BASE_PROCESS;
                        c.base_profile = p;
                        c.process = process;
                        break;
                }
                return fail(ret_msg, -EINVAL,
                            "profile '%s' has no credentials (no aws_access_key_id, credential_process, "
                            "role_arn or web_identity_token_file)", p);
        }

        if (n_roles > 0) {
                c.roles = calloc(n_roles, sizeof(creds_role));
                if (!c.roles)
                        return -ENOMEM;
                /* Collected from the top down; assumed from the base up. */
                for (size_t i = 0; i < n_roles; i++)
                        c.roles[i] = roles[n_roles - 1 - i];
                c.n_roles = n_roles;
        }
        *ret = c;
        return 0;
}

void creds_value_done(creds_value *v) {
        if (!v)
                return;
        free(v->access_key_id);
        if (v->secret_access_key) {
                explicit_bzero(v->secret_access_key, strlen(v->secret_access_key));
                free(v->secret_access_key);
        }
        if (v->session_token) {
                explicit_bzero(v->session_token, strlen(v->session_token));
                free(v->session_token);
        }
        *v = (creds_value) {};
}

static int msg(char **ret_msg, const char *s) {
        if (ret_msg)
                *ret_msg = strdup(s);
        return -EINVAL;
}

int creds_process_parse_output(const char *text, size_t len, creds_value *ret, char **ret_msg) {
        json_error_t jerr;
        json_t *j, *v;
        creds_value cv = {};
        int r = -EINVAL;

        if (ret_msg)
                *ret_msg = NULL;
        j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                if (ret_msg)
                        /* Line and column only: jansson's text can quote the
                         * input (a secret). */
                        *ret_msg = strprintf("output is not JSON (line %d, column %d)", jerr.line, jerr.column);
                return -EINVAL;
        }
        if (!json_is_object(j)) {
                r = msg(ret_msg, "output is not a JSON object");
                goto out;
        }
        v = json_object_get(j, "Version");
        if (!json_is_integer(v) || json_integer_value(v) != 1) {
                r = msg(ret_msg, "output has no \"Version\": 1");
                goto out;
        }
        v = json_object_get(j, "AccessKeyId");
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 128) {
                r = msg(ret_msg, "output has no AccessKeyId string");
                goto out;
        }
        cv.access_key_id = strdup(json_string_value(v));
        v = json_object_get(j, "SecretAccessKey");
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256) {
                r = msg(ret_msg, "output has no SecretAccessKey string");
                goto out;
        }
        cv.secret_access_key = strdup(json_string_value(v));
        v = json_object_get(j, "SessionToken");
        if (v && !json_is_null(v)) {
                if (!json_is_string(v) || json_string_length(v) > 8192) {
                        r = msg(ret_msg, "SessionToken is not a string");
                        goto out;
                }
                cv.session_token = strdup(json_string_value(v));
                if (!cv.session_token) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        v = json_object_get(j, "Expiration");
        if (v && !json_is_null(v)) {
                time_t t;
                if (!json_is_string(v) || clock_parse_rfc3339(json_string_value(v), &t) < 0 || t <= 0) {
                        r = msg(ret_msg, "Expiration is not an RFC 3339 time (2026-11-23T00:00:00Z)");
                        goto out;
                }
                cv.expiration_usec = (uint64_t) t * USEC_PER_SEC;
        }
        if (!cv.access_key_id || !cv.secret_access_key) {
                r = -ENOMEM;
                goto out;
        }
        *ret = cv;
        cv = (creds_value) {};
        r = 0;
out:
        creds_value_done(&cv);
        json_decref(j);
        return r;
}

int creds_metadata_parse(const char *text, size_t len, creds_value *ret, char **ret_msg) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *j = NULL;
        creds_value cv = {};
        time_t exp = 0;

        if (ret_msg)
                *ret_msg = NULL;
        if (!text && len > 0)
                return -EINVAL;
        j = json_loadb(text ? text : "", len, 0, &jerr);
        if (!j) {
                /* Line and column only: jansson's text can quote the input. */
                if (ret_msg && !(*ret_msg = strprintf("the answer is not JSON (line %d, column %d)", jerr.line,
                                                      jerr.column)))
                        return -ENOMEM;
                return -EBADMSG;
        }
        const char *a = json_string_value(json_object_get(j, "AccessKeyId"));
        const char *s = json_string_value(json_object_get(j, "SecretAccessKey"));
        const char *t = json_string_value(json_object_get(j, "Token"));
        const char *x = json_string_value(json_object_get(j, "Expiration"));
        const char *code = json_string_value(json_object_get(j, "Code"));
        const char *why = NULL;
        if (!json_is_object(j))
                why = "the answer is not a JSON object";
        else if (code && !streq(code, "Success")) {
                if (ret_msg) {
                        _cleanup_(freep) char *ec = aws_escape(code, 64);
                        if (!ec || !(*ret_msg = strprintf("the answer's Code is %s, not Success", ec)))
                                return -ENOMEM;
                }
                return -EBADMSG;
        } else if (isempty(a) || isempty(s) || strlen(a) > 128 || strlen(s) > 256 || (t && strlen(t) > 8192))
                why = "the answer has no usable AccessKeyId and SecretAccessKey";
        else if (x && clock_parse_rfc3339(x, &exp) < 0)
                why = "the answer's Expiration is not an RFC 3339 time";
        if (why) {
                if (ret_msg && !(*ret_msg = strdup(why)))
                        return -ENOMEM;
                return -EBADMSG;
        }
        cv = (creds_value) { strdup(a), strdup(s), isempty(t) ? NULL : strdup(t), (uint64_t) exp * USEC_PER_SEC };
        if (!cv.access_key_id || !cv.secret_access_key || (!isempty(t) && !cv.session_token)) {
                creds_value_done(&cv);
                return -ENOMEM;
        }
        *ret = cv;
        return 0;
}

int creds_split_command(const char *cmd, char ***ret) {
        _cleanup_(strv_freep) char **argv = NULL;
        size_t n = 0;
        const char *p = cmd;

        if (!cmd)
                return -EINVAL;
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                        p++;
                if (!*p)
                        break;
                _cleanup_(freep) char *w = malloc(strlen(p) + 1);
                size_t k = 0;
                if (!w)
                        return -ENOMEM;
                while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                        if (*p == '\'') {
                                const char *e = strchr(p + 1, '\'');
                                if (!e)
                                        return -EINVAL;
                                memcpy(w + k, p + 1, (size_t) (e - p - 1));
                                k += (size_t) (e - p - 1);
                                p = e + 1;
                        } else if (*p == '"') {
                                p++;
                                while (*p && *p != '"') {
                                        /* As Python's shlex.split (botocore): only \" and \\. */
                                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                                p++;
                                        w[k++] = *p++;
                                }
                                if (*p != '"')
                                        return -EINVAL;
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1])
                                        return -EINVAL;
                                w[k++] = p[1];
                                p += 2;
                        } else
                                w[k++] = *p++;
                }
                w[k] = 0;
                char **nv = realloc(argv, (n + 2) * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                argv = nv;
                argv[n++] = TAKE_PTR(w);
                argv[n] = NULL;
        }
        if (n == 0)
                return -EINVAL;
        *ret = TAKE_PTR(argv);
        return 0;
}
