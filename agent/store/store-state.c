/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "store/store-state.h"

static const char *const phase_names[_PHASE_MAX] = {
        [PHASE_NEW] = "new",
        [PHASE_VALID] = "valid",
        [PHASE_BACKOFF] = "backoff",
        [PHASE_WAITING] = "waiting",
        [PHASE_REVOKED] = "revoked",
        [PHASE_KEY] = "key",
        [PHASE_REQUEST] = "request",
        [PHASE_VALIDATE] = "validate",
        [PHASE_ISSUE] = "issue",
        [PHASE_FETCH] = "fetch",
        [PHASE_DEPLOY] = "deploy",
        [PHASE_RELOAD] = "reload",
};

const char *cert_phase_to_string(cert_phase p) {
        if ((unsigned) p >= _PHASE_MAX)
                return NULL;
        return phase_names[p];
}

cert_phase cert_phase_from_string(const char *s) {
        if (!s)
                return _PHASE_INVALID;
        for (int i = 0; i < _PHASE_MAX; i++)
                if (streq(s, phase_names[i]))
                        return (cert_phase) i;
        return _PHASE_INVALID;
}

bool cert_phase_in_flight(cert_phase p) {
        return p >= PHASE_KEY && p < _PHASE_MAX;
}

cert_state *cert_state_new(void) {
        cert_state *s = calloc(1, sizeof(*s));
        if (s)
                s->phase = PHASE_NEW;
        return s;
}

void cert_version_done(cert_version *v) {
        free(v->serial);
        free(v->arn);
        free(v->version);
        free(v->cert_pem);
        free(v->chain_pem);
        *v = (cert_version) {};
}

void cert_version_move(cert_version *dst, cert_version *src) {
        if (dst == src)
                return;
        cert_version_done(dst);
        *dst = *src;
        *src = (cert_version) {};
}

static int dup_str(char **dst, const char *src) {
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int cert_version_copy(cert_version *dst, const cert_version *src) {
        cert_version n = { .not_before = src->not_before, .not_after = src->not_after };

        if (dup_str(&n.serial, src->serial) < 0 || dup_str(&n.arn, src->arn) < 0 ||
            dup_str(&n.version, src->version) < 0 || dup_str(&n.cert_pem, src->cert_pem) < 0 ||
            dup_str(&n.chain_pem, src->chain_pem) < 0) {
                cert_version_done(&n);
                return -ENOMEM;
        }
        cert_version_done(dst);
        *dst = n;
        return 0;
}

cert_state *cert_state_free(cert_state *s) {
        if (!s)
                return NULL;
        free(s->wait_reason);
        cert_version_done(&s->served);
        cert_version_done(&s->previous);
        cert_version_done(&s->pending);
        free(s->issued_for);
        free(s->deployed_for);
        free(s->last_error);
        free(s->last_error_kind);
        free(s->revoked_serial);
        free(s->revoke_reason);
        free(s->revoked_version);
        free(s->revoke_request);
        free(s->issuer_type);
        json_decref(s->issuer);
        free(s);
        return NULL;
}

cert_state *cert_state_copy(const cert_state *s) {
        _cleanup_(cert_state_freep) cert_state *n = cert_state_new();

        if (!n)
                return NULL;
        n->phase = s->phase;
        n->wake_at = s->wake_at;
        n->last_success = s->last_success;
        n->last_attempt = s->last_attempt;
        n->failures = s->failures;
        n->force_renewal = s->force_renewal;
        n->revoked_at = s->revoked_at;
        n->revoke_request_no_replace = s->revoke_request_no_replace;
        if (dup_str(&n->wait_reason, s->wait_reason) < 0 || cert_version_copy(&n->served, &s->served) < 0 ||
            cert_version_copy(&n->previous, &s->previous) < 0 || cert_version_copy(&n->pending, &s->pending) < 0 ||
            dup_str(&n->issued_for, s->issued_for) < 0 || dup_str(&n->deployed_for, s->deployed_for) < 0 ||
            dup_str(&n->last_error, s->last_error) < 0 || dup_str(&n->last_error_kind, s->last_error_kind) < 0 ||
            dup_str(&n->revoked_serial, s->revoked_serial) < 0 || dup_str(&n->revoke_reason, s->revoke_reason) < 0 ||
            dup_str(&n->revoked_version, s->revoked_version) < 0 || dup_str(&n->revoke_request, s->revoke_request) < 0 ||
            dup_str(&n->issuer_type, s->issuer_type) < 0)
                return NULL;
        if (s->issuer) {
                n->issuer = json_deep_copy(s->issuer);
                if (!n->issuer)
                        return NULL;
        }
        return TAKE_PTR(n);
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

/* The n decimal digits at s, or -1 when one of them is not a digit. */
static int digits(const char *s, unsigned n) {
        int v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static bool leap_year(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (the
 * civil-from-days inverse of H. Hinnant's date algorithms). */
static int64_t days_from_civil(int y, int m, int d) {
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* Exactly what state_format_time() writes, "YYYY-MM-DDTHH:MM:SSZ", with
 * every field in its range (no 30 February, no leap second): a thousand
 * states hold a few times each and strptime() with timegm() was a tenth of
 * reading them. */
int state_parse_time(const char *s, time_t *ret) {
        static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, mo, d, h, mi, sec;

        if (!s || strnlen(s, 21) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z')
                return -EINVAL;
        y = digits(s, 4);
        mo = digits(s + 5, 2);
        d = digits(s + 8, 2);
        h = digits(s + 11, 2);
        mi = digits(s + 14, 2);
        sec = digits(s + 17, 2);
        if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
                return -EINVAL;
        if (d > mdays[mo - 1] + (mo == 2 && leap_year(y)))
                return -EINVAL;
        *ret = (time_t) (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
        return 0;
}

int state_part_string(json_t *o, const char *key, size_t min, size_t max, char **field, char **ret_error) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v) || json_string_length(v) < min || json_string_length(v) > max) {
                *ret_error = strprintf("\"%s\" is not a string of %zu to %zu characters", key, min, max);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        return state_set_string(field, json_string_value(v));
}

int state_part_time(json_t *o, const char *key, time_t *field, char **ret_error) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v) || state_parse_time(json_string_value(v), field) < 0) {
                *ret_error = strprintf("\"%s\" is not an RFC 3339 time", key);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        return 0;
}

/* ---- writing ---- */

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

static int put_version(json_t *o, const char *k, const cert_version *v) {
        json_t *x;
        int r = 0;

        if (!v->serial)
                return 0;
        x = json_object();
        if (!x)
                return -ENOMEM;
        if ((r = put_str(x, "serial", v->serial)) < 0 || (r = put_str(x, "arn", v->arn)) < 0 ||
            (r = put_str(x, "version", v->version)) < 0 || (r = put_time(x, "not_before", v->not_before)) < 0 ||
            (r = put_time(x, "not_after", v->not_after)) < 0) {
                json_decref(x);
                return r;
        }
        return json_object_set_new(o, k, x) < 0 ? -ENOMEM : 0;
}

int cert_state_to_text(const cert_state *s, char **ret) {
        _cleanup_(json_decrefp) json_t *o = NULL;
        char *txt;
        int r;

        if (!s || !cert_phase_to_string(s->phase))
                return -EINVAL;
        o = json_object();
        if (!o)
                return -ENOMEM;
        if (json_object_set_new(o, "schema", json_integer(STORE_SCHEMA_VERSION)) < 0 ||
            json_object_set_new(o, "phase", json_string(cert_phase_to_string(s->phase))) < 0 ||
            json_object_set_new(o, "failures", json_integer(s->failures)) < 0 ||
            json_object_set_new(o, "force_renewal", json_boolean(s->force_renewal)) < 0)
                return -ENOMEM;
        if ((r = put_time(o, "wake_at", s->wake_at)) < 0 || (r = put_str(o, "wait_reason", s->wait_reason)) < 0 ||
            (r = put_version(o, "served", &s->served)) < 0 || (r = put_version(o, "previous", &s->previous)) < 0 ||
            (r = put_version(o, "pending", &s->pending)) < 0 || (r = put_str(o, "issued_for", s->issued_for)) < 0 ||
            (r = put_str(o, "deployed_for", s->deployed_for)) < 0 ||
            (r = put_time(o, "last_success", s->last_success)) < 0 ||
            (r = put_time(o, "last_attempt", s->last_attempt)) < 0 ||
            (r = put_str(o, "last_error", s->last_error)) < 0 ||
            (r = put_str(o, "last_error_kind", s->last_error_kind)) < 0)
                return r;
        if (s->revoked_serial) {
                json_t *rv = json_object();
                if (!rv || json_object_set_new(o, "revoked", rv) < 0)
                        return -ENOMEM;
                if ((r = put_str(rv, "serial", s->revoked_serial)) < 0 || (r = put_str(rv, "reason", s->revoke_reason)) < 0 ||
                    (r = put_time(rv, "at", s->revoked_at)) < 0 || (r = put_str(rv, "version", s->revoked_version)) < 0)
                        return r;
        }
        if (s->revoke_request) {
                json_t *rq = json_object();
                if (!rq || json_object_set_new(o, "revoke_request", rq) < 0 ||
                    json_object_set_new(rq, "no_replace", json_boolean(s->revoke_request_no_replace)) < 0)
                        return -ENOMEM;
                if ((r = put_str(rq, "reason", s->revoke_request)) < 0)
                        return r;
        }
        if (s->issuer_type) {
                json_t *is = s->issuer ? json_deep_copy(s->issuer) : json_object();
                if (!is || json_object_set_new(is, "type", json_string(s->issuer_type)) < 0 ||
                    json_object_set_new(o, "issuer", is) < 0)
                        return -ENOMEM;
        }
        txt = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!txt)
                return -ENOMEM;
        *ret = txt;
        return 0;
}

/* ---- reading ---- */

typedef struct reader {
        char *error;    /* first error, malloc'd */
} reader;

static int bad(reader *rd, const char *fmt, ...) _printf_(2, 3);
static int bad(reader *rd, const char *fmt, ...) {
        va_list ap;

        if (!rd->error) {
                va_start(ap, fmt);
                if (vasprintf(&rd->error, fmt, ap) < 0)
                        rd->error = NULL;
                va_end(ap);
        }
        return -EBADMSG;
}

static int get_str(reader *rd, json_t *o, const char *k, char **field) {
        json_t *v = json_object_get(o, k);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return bad(rd, "field \"%s\" is not a string", k);
        return state_set_string(field, json_string_value(v));
}

static int get_time(reader *rd, json_t *o, const char *k, time_t *field) {
        json_t *v = json_object_get(o, k);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v) || state_parse_time(json_string_value(v), field) < 0)
                return bad(rd, "field \"%s\" is not an RFC 3339 UTC time", k);
        return 0;
}

static int get_uint(reader *rd, json_t *o, const char *k, unsigned *field) {
        json_t *v = json_object_get(o, k);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                return bad(rd, "field \"%s\" is not a count", k);
        *field = (unsigned) json_integer_value(v);
        return 0;
}

static int get_bool(reader *rd, json_t *o, const char *k, bool *field) {
        json_t *v = json_object_get(o, k);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return bad(rd, "field \"%s\" is not a boolean", k);
        *field = json_is_true(v);
        return 0;
}

static int get_version(reader *rd, json_t *o, const char *k, cert_version *v) {
        json_t *x = json_object_get(o, k);
        int r;

        if (!x || json_is_null(x))
                return 0;
        if (!json_is_object(x))
                return bad(rd, "field \"%s\" is not an object", k);
        if ((r = get_str(rd, x, "serial", &v->serial)) < 0 || (r = get_str(rd, x, "arn", &v->arn)) < 0 ||
            (r = get_str(rd, x, "version", &v->version)) < 0 || (r = get_time(rd, x, "not_before", &v->not_before)) < 0 ||
            (r = get_time(rd, x, "not_after", &v->not_after)) < 0)
                return r;
        if (!v->serial)
                return bad(rd, "field \"%s\" has no serial", k);
        return 0;
}

static int parse_v2(reader *rd, json_t *o, cert_state *s) {
        json_t *v;
        int r;

        v = json_object_get(o, "phase");
        if (!json_is_string(v) || (int) (s->phase = cert_phase_from_string(json_string_value(v))) < 0)
                return bad(rd, "field \"phase\" is missing or not a known phase");
        if ((r = get_time(rd, o, "wake_at", &s->wake_at)) < 0 || (r = get_str(rd, o, "wait_reason", &s->wait_reason)) < 0 ||
            (r = get_version(rd, o, "served", &s->served)) < 0 || (r = get_version(rd, o, "previous", &s->previous)) < 0 ||
            (r = get_version(rd, o, "pending", &s->pending)) < 0 ||
            (r = get_str(rd, o, "issued_for", &s->issued_for)) < 0 ||
            (r = get_str(rd, o, "deployed_for", &s->deployed_for)) < 0 ||
            (r = get_time(rd, o, "last_success", &s->last_success)) < 0 ||
            (r = get_time(rd, o, "last_attempt", &s->last_attempt)) < 0 ||
            (r = get_uint(rd, o, "failures", &s->failures)) < 0 ||
            (r = get_str(rd, o, "last_error", &s->last_error)) < 0 ||
            (r = get_str(rd, o, "last_error_kind", &s->last_error_kind)) < 0 ||
            (r = get_bool(rd, o, "force_renewal", &s->force_renewal)) < 0)
                return r;
        v = json_object_get(o, "revoked");
        if (v && !json_is_null(v)) {
                if (!json_is_object(v))
                        return bad(rd, "field \"revoked\" is not an object");
                if ((r = get_str(rd, v, "serial", &s->revoked_serial)) < 0 ||
                    (r = get_str(rd, v, "reason", &s->revoke_reason)) < 0 || (r = get_time(rd, v, "at", &s->revoked_at)) < 0 ||
                    (r = get_str(rd, v, "version", &s->revoked_version)) < 0)
                        return r;
        }
        v = json_object_get(o, "revoke_request");
        if (v && !json_is_null(v)) {
                if (!json_is_object(v) || !json_is_string(json_object_get(v, "reason")))
                        return bad(rd, "field \"revoke_request\" is not an object with a \"reason\"");
                if ((r = get_str(rd, v, "reason", &s->revoke_request)) < 0 ||
                    (r = get_bool(rd, v, "no_replace", &s->revoke_request_no_replace)) < 0)
                        return r;
        }
        v = json_object_get(o, "issuer");
        if (v && !json_is_null(v)) {
                if (!json_is_object(v) || !json_is_string(json_object_get(v, "type")))
                        return bad(rd, "field \"issuer\" is not an object with a \"type\"");
                if (state_set_string(&s->issuer_type, json_string_value(json_object_get(v, "type"))) < 0)
                        return -ENOMEM;
                /* the part itself, not a copy: the document is dropped
                 * once read */
                s->issuer = json_incref(v);
                (void) json_object_del(s->issuer, "type");
        }
        if (s->phase == PHASE_DEPLOY && !s->pending.serial)
                return bad(rd, "phase \"deploy\" without a pending certificate");
        return 0;
}

/* Schema 1 (acm-agent 0.1): a flat object, PCA fields at the top. */
static int parse_v1(reader *rd, json_t *o, cert_state *s) {
        _cleanup_(freep) char *phase = NULL, *token = NULL, *csr = NULL, *arn = NULL;
        time_t token_time = 0, next_attempt = 0;
        json_t *extra;
        int r;

        if ((r = get_str(rd, o, "phase", &phase)) < 0)
                return r;
        if (!phase)
                return bad(rd, "field \"phase\" is missing");
        if ((r = get_str(rd, o, "idempotency_token", &token)) < 0 ||
            (r = get_time(rd, o, "token_created", &token_time)) < 0 || (r = get_str(rd, o, "pending_csr", &csr)) < 0 ||
            (r = get_str(rd, o, "pending_arn", &arn)) < 0 || (r = get_str(rd, o, "serial", &s->served.serial)) < 0 ||
            (r = get_str(rd, o, "arn", &s->served.arn)) < 0 ||
            (r = get_str(rd, o, "current_version", &s->served.version)) < 0 ||
            (r = get_time(rd, o, "not_before", &s->served.not_before)) < 0 ||
            (r = get_time(rd, o, "not_after", &s->served.not_after)) < 0 ||
            (r = get_time(rd, o, "last_success", &s->last_success)) < 0 ||
            (r = get_time(rd, o, "last_attempt", &s->last_attempt)) < 0 ||
            (r = get_time(rd, o, "next_attempt", &next_attempt)) < 0 ||
            (r = get_uint(rd, o, "failures", &s->failures)) < 0 ||
            (r = get_str(rd, o, "last_error", &s->last_error)) < 0 ||
            (r = get_str(rd, o, "last_error_kind", &s->last_error_kind)) < 0 ||
            (r = get_bool(rd, o, "force_renewal", &s->force_renewal)) < 0)
                return r;
        if (!s->served.serial) {
                /* nothing was served: the other served fields mean nothing */
                cert_version_done(&s->served);
        }
        extra = json_object_get(o, "extra");
        if (streq(phase, "idle"))
                s->phase = s->served.serial ? PHASE_VALID : PHASE_NEW;
        else if (streq(phase, "key_pending"))
                s->phase = PHASE_KEY;
        else if (streq(phase, "requesting") || streq(phase, "issuing"))
                s->phase = PHASE_REQUEST;
        else if (streq(phase, "awaiting_validation"))
                s->phase = PHASE_VALIDATE;
        else if (streq(phase, "awaiting_issue"))
                s->phase = PHASE_ISSUE;
        else if (streq(phase, "valid"))
                s->phase = PHASE_VALID;
        else if (streq(phase, "failed")) {
                s->phase = PHASE_BACKOFF;
                s->wake_at = next_attempt;
        } else if (streq(phase, "deploying")) {
                if (json_is_true(json_object_get(extra, "reload_pending"))) {
                        json_t *p = json_object_get(extra, "previous");
                        s->phase = PHASE_RELOAD;
                        s->wake_at = next_attempt;
                        if (json_is_object(p) && json_is_string(json_object_get(p, "serial")) &&
                            ((r = get_version(rd, extra, "previous", &s->previous)) < 0))
                                return r;
                } else
                        /* 0.1 never left this without a reload pending; the
                         * issuance is resumed from the PCA part below */
                        s->phase = PHASE_BACKOFF;
        } else
                return bad(rd, "field \"phase\" is not a known phase (\"%s\")", phase);

        if (token || arn || csr) {
                json_t *p = json_object();
                char t[32];

                if (!p)
                        return -ENOMEM;
                s->issuer = p;
                if (state_set_string(&s->issuer_type, "pca") < 0 ||
                    (token && json_object_set_new(p, "token", json_string(token)) < 0) ||
                    (token_time && state_format_time(token_time, t, sizeof(t)) &&
                     json_object_set_new(p, "token_time", json_string(t)) < 0) ||
                    (csr && json_object_set_new(p, "csr", json_string(csr)) < 0) ||
                    (arn && json_object_set_new(p, "arn", json_string(arn)) < 0))
                        return -ENOMEM;
        }
        return 0;
}

int cert_state_from_text(const char *text, size_t len, cert_state **ret, char **ret_error) {
        _cleanup_(cert_state_freep) cert_state *s = NULL;
        _cleanup_(json_decrefp) json_t *o = NULL;
        reader rd = {};
        json_error_t je;
        json_t *v;
        int r;

        o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
                /* line and column only: jansson's text may quote the input */
                r = bad(&rd, "not valid JSON (line %d, column %d)", je.line, je.column);
                goto fail;
        }
        if (!json_is_object(o)) {
                r = bad(&rd, "not a JSON object");
                goto fail;
        }
        s = cert_state_new();
        if (!s)
                return -ENOMEM;
        v = json_object_get(o, "schema");
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
                r = bad(&rd, "field \"schema\" is missing or not a positive integer");
                goto fail;
        }
        if (json_integer_value(v) > STORE_SCHEMA_VERSION) {
                if (ret_error && asprintf(ret_error, "state schema %lld is newer than this agent supports (%d): "
                                          "a newer acm-agent wrote it", (long long) json_integer_value(v),
                                          STORE_SCHEMA_VERSION) < 0)
                        *ret_error = NULL;
                return -EPROTONOSUPPORT;
        }
        r = json_integer_value(v) == 1 ? parse_v1(&rd, o, s) : parse_v2(&rd, o, s);
        if (r < 0)
                goto fail;
        *ret = TAKE_PTR(s);
        return 0;
fail:
        if (ret_error)
                *ret_error = TAKE_PTR(rd.error);
        free(rd.error);
        return r;
}
