/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state record and its file: round trip, the schema-1 files acm-agent
 * 0.1 wrote (tests/fixtures/state-v1/, made by that release at each point of
 * its flow), corrupt and newer files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "store/store-state.h"

static cert_state *parse(const char *text, char **err) {
        cert_state *s = NULL;
        int r;

        free(*err);
        *err = NULL;
        r = cert_state_from_text(text, strlen(text), &s, err);
        if (r < 0)
                return NULL;
        return s;
}

static cert_state *fixture(const char *name) {
        _cleanup_(freep) char *path = strprintf("%s/tests/fixtures/state-v1/%s.json", ABS_TOP_SRCDIR, name);
        _cleanup_(freep) char *buf = NULL, *err = NULL;
        cert_state *s = NULL;
        size_t len;

        assert_non_null(path);
        assert_int_equal(read_full_file(path, 1 << 20, &buf, &len), 0);
        assert_int_equal(cert_state_from_text(buf, len, &s, &err), 0);
        assert_null(err);
        return s;
}

static void test_roundtrip(void **st _unused_) {
        _cleanup_(cert_state_freep) cert_state *s = cert_state_new(), *l = NULL;
        _cleanup_(freep) char *txt = NULL, *txt2 = NULL, *err = NULL;

        assert_non_null(s);
        s->phase = PHASE_RELOAD;
        s->wake_at = 1795393800;
        s->served = (cert_version) { strdup("0A"), strdup("arn:x"), strdup("v2"), 1795000000, 1797000000,
                                     strdup("CERT\n"), strdup("CHAIN\n") };
        s->previous = (cert_version) { strdup("09"), NULL, strdup("v1"), 1794000000, 1796000000, NULL, NULL };
        s->issued_for = strdup("abc");
        s->deployed_for = strdup("def");
        s->last_success = 1795000001;
        s->failures = 3;
        s->last_error = strdup("it broke\nbadly");
        s->last_error_kind = strdup("aws:server");
        s->force_renewal = true;
        s->revoked_serial = strdup("08");
        s->revoke_reason = strdup("KEY_COMPROMISE");
        s->revoked_at = 1795000002;
        s->revoked_version = strdup("20261101T000000Z-08");
        s->revoke_request = strdup("SUPERSEDED");
        s->revoke_request_no_replace = true;
        s->issuer_type = strdup("pca");
        s->issuer = json_pack("{s:s,s:s}", "token", "tok", "arn", "arn:y");
        assert_int_equal(cert_state_to_text(s, &txt), 0);
        l = parse(txt, &err);
        if (!l) {
                fail_msg("round trip: %s", err ? err : "?");
                abort();
        }
        assert_int_equal(l->phase, PHASE_RELOAD);
        assert_int_equal(l->wake_at, 1795393800);
        assert_string_equal(l->served.serial, "0A");
        /* the certificates themselves are not in the text (store_pem_*) */
        assert_null(l->served.cert_pem);
        assert_null(l->served.chain_pem);
        assert_null(strstr(txt, "CERT"));
        assert_string_equal(l->previous.version, "v1");
        assert_null(l->previous.arn);
        assert_null(l->pending.serial);
        assert_int_equal(l->failures, 3);
        assert_string_equal(l->last_error, "it broke\nbadly");
        assert_true(l->force_renewal);
        assert_string_equal(l->revoke_reason, "KEY_COMPROMISE");
        assert_int_equal(l->revoked_at, 1795000002);
        assert_string_equal(l->revoked_version, "20261101T000000Z-08");
        assert_string_equal(l->revoke_request, "SUPERSEDED");
        assert_true(l->revoke_request_no_replace);
        assert_string_equal(l->issuer_type, "pca");
        assert_string_equal(json_string_value(json_object_get(l->issuer, "token")), "tok");
        assert_null(json_object_get(l->issuer, "type"));
        /* stable text: what is read writes the same */
        assert_int_equal(cert_state_to_text(l, &txt2), 0);
        assert_string_equal(txt, txt2);
        /* a copy is deep */
        _cleanup_(cert_state_freep) cert_state *c = cert_state_copy(l);
        assert_non_null(c);
        assert_ptr_not_equal(c->served.serial, l->served.serial);
        assert_string_equal(c->served.version, "v2");
}

/* The files 0.1 wrote load and resume at the step they were at. */
static void test_v1_fixtures(void **st _unused_) {
        cert_state *s;

        s = fixture("valid");
        assert_int_equal(s->phase, PHASE_VALID);
        assert_string_equal(s->served.serial, "1103088537215527FE7B8B6CD513B808");
        assert_string_equal(s->served.version, "20261201T220403Z-1103088537215527");
        assert_non_null(s->served.arn);
        assert_true(s->served.not_after > s->served.not_before);
        assert_null(s->issuer_type);
        cert_state_free(s);

        /* killed after the ARN was saved: the pca part resumes the fetch */
        s = fixture("arn");
        assert_int_equal(s->phase, PHASE_ISSUE);
        assert_null(s->served.serial);
        assert_string_equal(s->issuer_type, "pca");
        assert_non_null(strstr(json_string_value(json_object_get(s->issuer, "arn")), "/certificate/7b9ce766"));
        assert_string_equal(json_string_value(json_object_get(s->issuer, "token")), "132e8ec27a56e2a239ff0059ca43aa2b");
        assert_string_equal(json_string_value(json_object_get(s->issuer, "token_time")), "2026-12-01T22:04:04Z");
        assert_non_null(strstr(json_string_value(json_object_get(s->issuer, "csr")), "BEGIN CERTIFICATE REQUEST"));
        cert_state_free(s);

        /* killed after the token was saved, before IssueCertificate */
        s = fixture("token");
        assert_int_equal(s->phase, PHASE_REQUEST);
        assert_null(json_object_get(s->issuer, "arn"));
        assert_string_equal(json_string_value(json_object_get(s->issuer, "token")), "d12638639889ed208d9228f422795777");
        cert_state_free(s);

        /* killed with the reload pending: RELOAD with the rollback target */
        s = fixture("reload");
        assert_int_equal(s->phase, PHASE_RELOAD);
        assert_int_equal(s->wake_at, 0);
        assert_string_equal(s->served.serial, "47E14BCC2DCE7BB6E73FCE818D8D71E8");
        assert_string_equal(s->previous.serial, "496AAF6C0747C07E5C65666D7C48A66B");
        assert_string_equal(s->previous.version, "20261201T220406Z-496AAF6C0747C07E");
        cert_state_free(s);

        /* a first deploy whose reload failed: nothing to roll back to, retried later */
        s = fixture("failed");
        assert_int_equal(s->phase, PHASE_RELOAD);
        assert_null(s->previous.serial);
        assert_int_equal(s->failures, 1);
        assert_string_equal(s->last_error_kind, "reload");
        assert_true(s->wake_at > 0);
        cert_state_free(s);

        /* failed (CA disabled) during a forced renewal: backoff, still forced */
        s = fixture("cafail");
        assert_int_equal(s->phase, PHASE_BACKOFF);
        assert_true(s->wake_at > 0);
        assert_true(s->force_renewal);
        assert_string_equal(s->last_error_kind, "ca");
        assert_non_null(s->served.serial);
        cert_state_free(s);
}

static void test_corrupt(void **st _unused_) {
        _cleanup_(freep) char *err = NULL;
        cert_state *s = NULL;

        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"secret\": tru", &err));
        assert_non_null(strstr(err, "line 1"));
        assert_null(strstr(err, "secret"));  /* never quotes the input */
        assert_null(parse("[]", &err));
        assert_null(parse("{\"phase\": \"valid\"}", &err));
        assert_non_null(strstr(err, "schema"));
        assert_null(parse("{\"schema\": 2, \"phase\": \"sleeping\"}", &err));
        assert_non_null(strstr(err, "phase"));
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"failures\": -1}", &err));
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"wake_at\": \"tomorrow\"}", &err));
        assert_non_null(strstr(err, "wake_at"));
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"served\": {\"version\": \"v\"}}", &err));
        assert_non_null(strstr(err, "serial"));
        assert_null(parse("{\"schema\": 2, \"phase\": \"deploy\"}", &err));
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"issuer\": {\"token\": \"x\"}}", &err));
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"force_renewal\": 1}", &err));
        assert_null(parse("{\"schema\": 1, \"phase\": \"flying\"}", &err));
        err = (free(err), NULL);
        assert_int_equal(cert_state_from_text("{\"schema\": 3, \"phase\": \"valid\"}", 31, &s, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err, "newer"));
        assert_null(s);
        /* a duplicate key is refused, not resolved silently */
        assert_null(parse("{\"schema\": 2, \"phase\": \"valid\", \"phase\": \"new\"}", &err));
}

static void test_phases(void **st _unused_) {
        for (int p = 0; p < _PHASE_MAX; p++) {
                assert_non_null(cert_phase_to_string((cert_phase) p));
                assert_int_equal(cert_phase_from_string(cert_phase_to_string((cert_phase) p)), p);
        }
        assert_int_equal(cert_phase_from_string("nope"), _PHASE_INVALID);
        assert_null(cert_phase_to_string(_PHASE_MAX));
        assert_false(cert_phase_in_flight(PHASE_VALID));
        assert_false(cert_phase_in_flight(PHASE_WAITING));
        assert_true(cert_phase_in_flight(PHASE_KEY));
        assert_true(cert_phase_in_flight(PHASE_RELOAD));
}

/* The readers of the issuers' parts: absent and null leave the field
 * alone, a bad value names its key and what it must be. */
static void test_part_readers(void **st) {
        (void) st;
        json_t *o = json_pack("{s:s,s:s,s:n,s:i,s:s,s:s}", "arn", "arn:x", "empty", "", "none", "num", 7, "at",
                              "2027-01-15T08:00:00Z", "bad_at", "yesterday");
        char *field = strdup("old"), *err = NULL;
        time_t t = 5;

        assert_non_null(o);
        assert_int_equal(state_part_string(o, "missing", 1, 10, &field, &err), 0);
        assert_int_equal(state_part_string(o, "none", 1, 10, &field, &err), 0);
        assert_string_equal(field, "old");
        assert_int_equal(state_part_string(o, "arn", 1, 10, &field, &err), 0);
        assert_string_equal(field, "arn:x");
        assert_int_equal(state_part_string(o, "empty", 0, 10, &field, &err), 0);
        assert_string_equal(field, "");
        assert_int_equal(state_part_string(o, "empty", 1, 10, &field, &err), -EBADMSG);
        assert_string_equal(err, "\"empty\" is not a string of 1 to 10 characters");
        err = (free(err), NULL);
        assert_int_equal(state_part_string(o, "arn", 1, 4, &field, &err), -EBADMSG);
        err = (free(err), NULL);
        assert_int_equal(state_part_string(o, "num", 0, 10, &field, &err), -EBADMSG);
        assert_string_equal(err, "\"num\" is not a string of 0 to 10 characters");
        err = (free(err), NULL);
        assert_string_equal(field, "");
        assert_int_equal(state_part_time(o, "missing", &t, &err), 0);
        assert_int_equal(t, 5);
        assert_int_equal(state_part_time(o, "at", &t, &err), 0);
        assert_int_equal(t, 1800000000);
        assert_int_equal(state_part_time(o, "bad_at", &t, &err), -EBADMSG);
        assert_string_equal(err, "\"bad_at\" is not an RFC 3339 time");
        err = (free(err), NULL);
        assert_int_equal(state_part_time(o, "num", &t, &err), -EBADMSG);
        free(err);
        free(field);
        json_decref(o);
}

/* state_parse_time takes exactly what state_format_time writes, gives what
 * timegm gives for it, and refuses what strptime let through. */
static void test_parse_time(void **st _unused_) {
        static const char *const bad[] = {
                "", "2026-12-02T06:00:38", "2026-12-02T06:00:38z", "2026-12-02 06:00:38Z", "2026-12-02T06:00:38Z ",
                " 2026-12-02T06:00:38Z", "2026-12-2T06:00:38Z", "2026-1-02T06:00:38Z", "2026-12-02T6:00:38Z",
                "2026-12-02T06:00:38.5Z", "2026-12-02T06:00:38+00:00", "+026-12-02T06:00:38Z", "2026-00-02T06:00:38Z",
                "2026-13-02T06:00:38Z", "2026-12-00T06:00:38Z", "2026-12-32T06:00:38Z", "2026-04-31T06:00:38Z",
                "2026-02-29T06:00:38Z", "2100-02-29T06:00:38Z", "2026-12-02T24:00:00Z", "2026-12-02T06:60:00Z",
                "2026-12-02T06:00:60Z", "2026-12-02T06:00:3aZ", "2026-12-02T06-00-38Z", "2026/12/02T06:00:38Z",
        };
        time_t t = 42;
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(state_parse_time(bad[i], &t), -EINVAL);
                assert_int_equal(t, 42);
        }
        assert_int_equal(state_parse_time(NULL, &t), -EINVAL);
        assert_int_equal(state_parse_time("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(state_parse_time("2024-02-29T23:59:59Z", &t), 0);
        assert_int_equal(t, 1709251199);
        assert_int_equal(state_parse_time("2000-02-29T00:00:00Z", &t), 0);
        assert_int_equal(t, 951782400);
        assert_int_equal(state_parse_time("1969-12-31T23:59:59Z", &t), 0);
        assert_int_equal(t, -1);
        assert_int_equal(state_parse_time("9999-12-31T23:59:59Z", &t), 0);
        assert_int_equal(t, (time_t) INT64_C(253402300799));
        /* every day from 1900 to 2400 at a changing time of day, as
         * state_format_time writes it and timegm reads it */
        for (time_t u = -2208988800; u < INT64_C(13569465600); u += 86400 + 3607) {
                struct tm tm = {};
                assert_non_null(state_format_time(u, buf, sizeof(buf)));
                assert_int_equal(state_parse_time(buf, &t), 0);
                assert_int_equal(t, u);
                assert_non_null(gmtime_r(&u, &tm));
                assert_int_equal(timegm(&tm), t);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_v1_fixtures),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test(test_phases),
                cmocka_unit_test(test_part_readers),
                cmocka_unit_test(test_parse_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
