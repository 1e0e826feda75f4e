/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "store/store-state.h"
#include "basic/util.h"

#define STATE_FILE_MAX (1024 * 1024)

static const char *const phase_names[_STATE_PHASE_MAX] = {
        [STATE_IDLE] = "idle",
        [STATE_KEY_PENDING] = "key_pending",
        [STATE_REQUESTING] = "requesting",
        [STATE_AWAITING_VALIDATION] = "awaiting_validation",
        [STATE_ISSUING] = "issuing",
        [STATE_AWAITING_ISSUE] = "awaiting_issue",
        [STATE_DEPLOYING] = "deploying",
        [STATE_VALID] = "valid",
        [STATE_FAILED] = "failed",
};

const char *state_phase_to_string(state_phase p) {
        if ((unsigned) p >= _STATE_PHASE_MAX)
                return NULL;
        return phase_names[p];
}

int state_phase_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _STATE_PHASE_MAX; i++)
                if (streq(s, phase_names[i]))
                        return i;
        return -EINVAL;
}

bool state_name_valid(const char *name) {
        size_t n;

        if (isempty(name) || name[0] == '.')
                return false;
        n = strlen(name);
        if (n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

cert_state *state_new(void) {
        cert_state *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->schema = STATE_SCHEMA_VERSION;
        s->phase = STATE_IDLE;
        return s;
}

void state_free(cert_state *s) {
        if (!s)
                return;
        free(s->idempotency_token);
        free(s->pending_arn);
        free(s->pending_key_path);
        free(s->pending_csr);
        free(s->arn);
        free(s->serial);
        free(s->current_version);
        free(s->previous_version);
        free(s->last_error);
        free(s->last_error_kind);
        json_decref(s->extra);
        free(s);
}

int state_set_string(char **field, const char *v) {
        char *c = NULL;

        if (v) {
                c = strdup(v);
                if (!c)
                        return -ENOMEM;
        }
        free(*field);
        *field = c;
        return 0;
}

char *state_format_time(time_t t, char *buf, size_t len) {
        struct tm tm;

        if (len < 21 || !gmtime_r(&t, &tm))
                return NULL;
        if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return buf;
}

int state_parse_time(const char *s, time_t *ret) {
        struct tm tm = {};
        const char *e;
        time_t t;

        if (!s)
                return -EINVAL;
        e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!e || *e)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t;
        return 0;
}

static int mkdir_0700(const char *p) {
        struct stat st;

        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (lstat(p, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return 0;
}

int state_dir_prepare(const char *state_dir) {
        _cleanup_(freep) char *c = NULL, *k = NULL;
        int r;

        if (isempty(state_dir))
                return -EINVAL;
        r = mkdir_0700(state_dir);
        if (r < 0)
                return r;
        c = path_join(state_dir, "certs");
        k = path_join(state_dir, "keys");
        if (!c || !k)
                return -ENOMEM;
        r = mkdir_0700(c);
        if (r < 0)
                return r;
        return mkdir_0700(k);
}

static char *state_file(const char *state_dir, const char *name, const char *sub, const char *suffix) {
        if (!state_name_valid(name) || isempty(state_dir))
                return NULL;
        return strprintf("%s/%s/%s%s", state_dir, sub, name, suffix);
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) _printf_(3, 4);
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
        va_list ap;
        if (!err || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

static int get_str(json_t *o, const char *k, char **field) {
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EBADMSG;
        return state_set_string(field, json_string_value(v));
}

static int get_time(json_t *o, const char *k, time_t *field) {
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EBADMSG;
        return state_parse_time(json_string_value(v), field) < 0 ? -EBADMSG : 0;
}

int state_load(const char *state_dir, const char *name, cert_state **ret, char *err, size_t errlen) {
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        _cleanup_(state_freep) cert_state *s = NULL;
        json_error_t je;
        json_t *o, *v;
        size_t len;
        int r;

        path = state_file(state_dir, name, "certs", ".json");
        if (!path)
                return -EINVAL;
        r = read_full_file(path, STATE_FILE_MAX, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                seterr(err, errlen, "%s: cannot read state file: %s", path, strerror(-r));
                return r;
        }
        o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
                seterr(err, errlen, "%s:%d:%d: corrupt state file (%s); move it aside to start this certificate afresh",
                       path, je.line, je.column, je.text);
                return -EBADMSG;
        }
        s = state_new();
        if (!s) {
                json_decref(o);
                return -ENOMEM;
        }
        r = -EBADMSG;
        if (!json_is_object(o))
                goto bad;
        v = json_object_get(o, "schema");
        if (!json_is_integer(v) || json_integer_value(v) < 1)
                goto bad;
        if (json_integer_value(v) > STATE_SCHEMA_VERSION) {
                seterr(err, errlen, "%s: state schema %lld is newer than this agent supports (%d)", path,
                       (long long) json_integer_value(v), STATE_SCHEMA_VERSION);
                json_decref(o);
                return -EPROTONOSUPPORT;
        }
        v = json_object_get(o, "phase");
        if (!json_is_string(v) || (r = state_phase_from_string(json_string_value(v))) < 0) {
                r = -EBADMSG;
                goto bad;
        }
        s->phase = r;
        r = -EBADMSG;
        if (get_str(o, "idempotency_token", &s->idempotency_token) < 0 ||
            get_time(o, "token_created", &s->token_created) < 0 ||
            get_str(o, "pending_arn", &s->pending_arn) < 0 ||
            get_str(o, "pending_key_path", &s->pending_key_path) < 0 ||
            get_str(o, "pending_csr", &s->pending_csr) < 0 ||
            get_str(o, "arn", &s->arn) < 0 ||
            get_str(o, "serial", &s->serial) < 0 ||
            get_time(o, "not_before", &s->not_before) < 0 ||
            get_time(o, "not_after", &s->not_after) < 0 ||
            get_str(o, "current_version", &s->current_version) < 0 ||
            get_str(o, "previous_version", &s->previous_version) < 0 ||
            get_time(o, "last_success", &s->last_success) < 0 ||
            get_time(o, "last_attempt", &s->last_attempt) < 0 ||
            get_time(o, "next_attempt", &s->next_attempt) < 0 ||
            get_str(o, "last_error", &s->last_error) < 0 ||
            get_str(o, "last_error_kind", &s->last_error_kind) < 0)
                goto bad;
        v = json_object_get(o, "failures");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                        goto bad;
                s->failures = (unsigned) json_integer_value(v);
        }
        v = json_object_get(o, "force_renewal");
        if (v) {
                if (!json_is_boolean(v))
                        goto bad;
                s->force_renewal = json_is_true(v);
        }
        v = json_object_get(o, "extra");
        if (v && !json_is_null(v))
                s->extra = json_incref(v);
        json_decref(o);
        *ret = TAKE_PTR(s);
        return 0;
bad:
        json_decref(o);
        seterr(err, errlen, "%s: corrupt state file (a field has the wrong type or value); move it aside to start this certificate afresh",
               path);
        return -EBADMSG;
}

static int put_str(json_t *o, const char *k, const char *v) {
        if (!v)
                return 0;
        return json_object_set_new(o, k, json_string(v)) < 0 ? -ENOMEM : 0;
}

static int put_time(json_t *o, const char *k, time_t t) {
        char buf[32];
        if (t == 0)
                return 0;
        if (!state_format_time(t, buf, sizeof(buf)))
                return -EINVAL;
        return json_object_set_new(o, k, json_string(buf)) < 0 ? -ENOMEM : 0;
}

int state_save(const char *state_dir, const char *name, const cert_state *s) {
        _cleanup_(freep) char *path = NULL, *txt = NULL;
        json_t *o;
        int r = 0;

        if (!s || !state_phase_to_string(s->phase))
                return -EINVAL;
        path = state_file(state_dir, name, "certs", ".json");
        if (!path)
                return -EINVAL;
        r = state_dir_prepare(state_dir);
        if (r < 0)
                return r;
        o = json_object();
        if (!o)
                return -ENOMEM;
        if (json_object_set_new(o, "schema", json_integer(STATE_SCHEMA_VERSION)) < 0 ||
            json_object_set_new(o, "phase", json_string(state_phase_to_string(s->phase))) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = put_str(o, "idempotency_token", s->idempotency_token);
        if (r >= 0) r = put_time(o, "token_created", s->token_created);
        if (r >= 0) r = put_str(o, "pending_arn", s->pending_arn);
        if (r >= 0) r = put_str(o, "pending_key_path", s->pending_key_path);
        if (r >= 0) r = put_str(o, "pending_csr", s->pending_csr);
        if (r >= 0) r = put_str(o, "arn", s->arn);
        if (r >= 0) r = put_str(o, "serial", s->serial);
        if (r >= 0) r = put_time(o, "not_before", s->not_before);
        if (r >= 0) r = put_time(o, "not_after", s->not_after);
        if (r >= 0) r = put_str(o, "current_version", s->current_version);
        if (r >= 0) r = put_str(o, "previous_version", s->previous_version);
        if (r >= 0) r = put_time(o, "last_success", s->last_success);
        if (r >= 0) r = put_time(o, "last_attempt", s->last_attempt);
        if (r >= 0) r = put_time(o, "next_attempt", s->next_attempt);
        if (r >= 0) r = put_str(o, "last_error", s->last_error);
        if (r >= 0) r = put_str(o, "last_error_kind", s->last_error_kind);
        if (r >= 0 && (json_object_set_new(o, "failures", json_integer(s->failures)) < 0 ||
                       json_object_set_new(o, "force_renewal", json_boolean(s->force_renewal)) < 0))
                r = -ENOMEM;
        if (r >= 0 && s->extra && json_object_set(o, "extra", s->extra) < 0)
                r = -ENOMEM;
        if (r >= 0) {
                txt = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
                if (!txt)
                        r = -ENOMEM;
        }
        json_decref(o);
        if (r < 0)
                return r;
        return write_file_atomic(path, txt, strlen(txt), 0600, (uid_t) -1, (gid_t) -1);
}

int state_remove(const char *state_dir, const char *name) {
        _cleanup_(freep) char *path = state_file(state_dir, name, "certs", ".json");
        if (!path)
                return -EINVAL;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int state_list(const char *state_dir, char ***ret) {
        _cleanup_(freep) char *c = NULL;
        _cleanup_(strv_freep) char **l = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        c = path_join(state_dir, "certs");
        if (!c)
                return -ENOMEM;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        d = opendir(c);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **nl;
                if (len <= 5 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl) {
                        closedir(d);
                        return -ENOMEM;
                }
                l = nl;
                l[n] = strndup(de->d_name, len - 5);
                if (!l[n]) {
                        closedir(d);
                        return -ENOMEM;
                }
                if (!state_name_valid(l[n])) {
                        free(l[n]);
                        l[n] = NULL;
                        continue;
                }
                l[++n] = NULL;
        }
        closedir(d);
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

char *state_key_path(const char *state_dir, const char *name, bool current) {
        return state_file(state_dir, name, "keys", current ? ".pem" : ".pending.pem");
}

int state_key_write(const char *state_dir, const char *name, bool current, const void *pem, size_t len) {
        _cleanup_(freep) char *p = state_key_path(state_dir, name, current);
        int r;
        if (!p || !pem)
                return -EINVAL;
        r = state_dir_prepare(state_dir);
        if (r < 0)
                return r;
        return write_file_atomic(p, pem, len, 0600, (uid_t) -1, (gid_t) -1);
}

int state_key_read(const char *state_dir, const char *name, bool current, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *p = state_key_path(state_dir, name, current);
        if (!p)
                return -EINVAL;
        return read_full_file(p, 1024 * 1024, ret, ret_len);
}

int state_key_promote(const char *state_dir, const char *name) {
        _cleanup_(freep) char *a = state_key_path(state_dir, name, false);
        _cleanup_(freep) char *b = state_key_path(state_dir, name, true);
        if (!a || !b)
                return -EINVAL;
        if (rename(a, b) < 0)
                return -errno;
        return fsync_parent_dir(b);
}

int state_key_delete(const char *state_dir, const char *name, bool current) {
        _cleanup_(freep) char *p = state_key_path(state_dir, name, current);
        if (!p)
                return -EINVAL;
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int state_lock(const char *state_dir, const char *name, bool wait, int *ret_fd) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(closep) int fd = -1;
        char buf[32];
        int r, n;

        p = state_file(state_dir, name, "certs", ".lock");
        if (!p)
                return -EINVAL;
        r = state_dir_prepare(state_dir);
        if (r < 0)
                return r;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
                return errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
        n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int state_lock_holder(const char *state_dir, const char *name, pid_t *ret_pid) {
        _cleanup_(freep) char *p = NULL, *buf = NULL;
        int64_t v;
        size_t len;
        int r;

        p = state_file(state_dir, name, "certs", ".lock");
        if (!p)
                return -EINVAL;
        r = read_full_file(p, 64, &buf, &len);
        if (r < 0)
                return r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        if (parse_int64(buf, &v) < 0 || v <= 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret_pid = (pid_t) v;
        return 0;
}
