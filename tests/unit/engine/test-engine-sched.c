/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "engine/engine-sched.h"
#include "store/store-state.h"

#define DAY 86400

static const conf_schedule defaults = {
        .renew_fraction = 0.33, .renew_before = 0, .jitter = 12 * 3600, .retry_min = 300, .retry_max = 6 * 3600,
};

static void test_hash_deterministic(void **s _unused_) {
        assert_true(sched_hash("abc", "web") == sched_hash("abc", "web"));
        assert_true(sched_hash("abc", "web") != sched_hash("abd", "web"));
        assert_true(sched_hash("abc", "web") != sched_hash("abc", "web2"));
        /* the separator keeps ("ab","c") and ("a","bc") apart */
        assert_true(sched_hash("ab", "c") != sched_hash("a", "bc"));
        assert_true(sched_hash(NULL, "web") == sched_hash("", "web"));
}

static void test_jitter_bounds(void **s _unused_) {
        /* capped to a tenth of the lifetime */
        for (uint64_t h = 0; h < 100000; h += 7919) {
                uint64_t j = sched_jitter(&defaults, sched_hash("m", "c") + h, DAY);
                assert_true(j < DAY / 10);
                j = sched_jitter(&defaults, h * 0x9e3779b97f4a7c15ULL, 90 * DAY);
                assert_true(j < 12 * 3600);
        }
        assert_int_equal(sched_jitter(&defaults, 12345, 0), 0);
        conf_schedule nj = defaults;
        nj.jitter = 0;
        assert_int_equal(sched_jitter(&nj, 12345, 90 * DAY), 0);
}

static void test_jitter_spreads(void **s _unused_) {
        /* a fleet spreads: 200 hosts give many distinct offsets */
        uint64_t seen_lo = 0, seen_hi = 0;
        char id[32];
        for (int i = 0; i < 200; i++) {
                snprintf(id, sizeof(id), "host-%d", i);
                uint64_t j = sched_jitter(&defaults, sched_hash(id, "web"), 90 * DAY);
                if (j < 6 * 3600)
                        seen_lo++;
                else
                        seen_hi++;
        }
        assert_true(seen_lo > 50 && seen_hi > 50);
}

static void test_renew_at_fraction(void **s _unused_) {
        conf_schedule nj = defaults;
        nj.jitter = 0;
        time_t nb = 1800000000, na = nb + 90 * DAY;
        /* 0.33 of 90 days before expiry */
        assert_int_equal(sched_renew_at(&nj, nb, na, 1), na - (time_t) (0.33 * 90 * DAY + 0.5));
        /* jitter only makes it earlier, by less than the cap */
        time_t t = sched_renew_at(&defaults, nb, na, sched_hash("m", "web"));
        assert_true(t <= na - (time_t) (0.33 * 90 * DAY + 0.5));
        assert_true(t > na - (time_t) (0.33 * 90 * DAY + 0.5) - 12 * 3600);
        /* deterministic */
        assert_int_equal(t, sched_renew_at(&defaults, nb, na, sched_hash("m", "web")));
        assert_int_equal(sched_renew_at(&defaults, 0, 0, 1), 0);
}

static void test_renew_at_before(void **s _unused_) {
        conf_schedule c = defaults;
        c.renew_before = 30 * DAY;
        c.jitter = 0;
        time_t nb = 1800000000, na = nb + 90 * DAY;
        assert_int_equal(sched_renew_at(&c, nb, na, 99), na - 30 * DAY);
        /* short lifetime: jitter capped to lifetime/10 */
        c.renew_before = 3600;
        c.jitter = 12 * 3600;
        na = nb + 2 * 3600;
        time_t t = sched_renew_at(&c, nb, na, 0xffffffffffffULL);
        assert_true(t <= na - 3600 && t > na - 3600 - 720);
}

static void test_renew_before_not_shorter_than_lifetime(void **s _unused_) {
        /* renew_before: 30d with 1-day certificates: renew_fraction applies,
         * not "due at once" (a new billed certificate on every run) */
        conf_schedule c = defaults;
        c.renew_before = 30 * DAY;
        c.jitter = 0;
        time_t nb = 1800000000, na = nb + DAY, when = -1;
        cert_state st = { .phase = STATE_VALID, .serial = (char *) "01", .not_before = nb, .not_after = na };

        assert_true(sched_renew_before_ignored(&c, nb, na));
        assert_int_equal(sched_renew_at(&c, nb, na, 99), na - (time_t) llround(DAY * 0.33));
        assert_int_equal(sched_decide(&c, &st, true, nb + 60, 99, false, &when), SCHED_NONE);
        assert_int_equal(when, na - (time_t) llround(DAY * 0.33));
        assert_int_equal(sched_decide(&c, &st, true, na - 3600, 99, false, &when), SCHED_RENEW);
        /* exactly the lifetime: ignored too */
        c.renew_before = DAY;
        assert_true(sched_renew_before_ignored(&c, nb, na));
        assert_int_equal(sched_decide(&c, &st, true, nb + 60, 99, false, &when), SCHED_NONE);
        /* a second shorter: used as configured */
        c.renew_before = DAY - 1;
        assert_false(sched_renew_before_ignored(&c, nb, na));
        assert_int_equal(sched_renew_at(&c, nb, na, 99), na - (DAY - 1));
        /* an invalid fraction falls back to 0.33 here as well */
        c.renew_before = 30 * DAY;
        c.renew_fraction = 0;
        assert_int_equal(sched_renew_at(&c, nb, na, 99), na - (time_t) llround(DAY * 0.33));
        /* unset renew_before is never "ignored" */
        c.renew_before = 0;
        assert_false(sched_renew_before_ignored(&c, nb, na));
}

static void test_retry_bounds(void **s _unused_) {
        time_t now = 1800000000;
        for (uint64_t rnd = 0; rnd < 5000; rnd += 13) {
                time_t t1 = sched_retry_at(&defaults, 1, now, rnd);
                assert_true(t1 - now <= 300 && t1 - now >= 300 - 75);
                time_t t3 = sched_retry_at(&defaults, 3, now, rnd);
                assert_true(t3 - now <= 1200 && t3 - now >= 900);
                time_t t30 = sched_retry_at(&defaults, 30, now, rnd);
                assert_true(t30 - now <= 6 * 3600 && t30 - now >= 6 * 3600 * 3 / 4);
        }
        /* grows monotonically up to the cap (upper bound without jitter) */
        time_t prev = 0;
        for (unsigned f = 1; f < 40; f++) {
                time_t t = sched_retry_at(&defaults, f, now, 0);
                assert_true(t >= prev);
                prev = t;
        }
        assert_int_equal(prev - now, 6 * 3600);
        assert_true(sched_retry_at(&defaults, UINT32_MAX, now, 7) - now <= 6 * 3600);
}

static void test_decide(void **s _unused_) {
        _cleanup_(state_freep) cert_state *st = state_new();
        time_t when, nb = 1800000000, na = nb + 90 * DAY;
        conf_schedule nj = defaults;
        nj.jitter = 0;

        assert_int_equal(sched_decide(&nj, st, false, nb, 1, false, &when), SCHED_ISSUE);
        st->serial = strdup("0A");
        st->not_before = nb;
        st->not_after = na;
        st->phase = STATE_VALID;
        assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, false, &when), SCHED_NONE);
        assert_int_equal(when, na - (time_t) (0.33 * 90 * DAY + 0.5));
        time_t due = when;
        assert_int_equal(sched_decide(&nj, st, true, due - 1, 1, false, &when), SCHED_NONE);
        assert_int_equal(sched_decide(&nj, st, true, due, 1, false, &when), SCHED_RENEW);
        /* the files are gone: issue again */
        assert_int_equal(sched_decide(&nj, st, false, nb + DAY, 1, false, &when), SCHED_ISSUE);
        assert_int_equal(when, 0);
        assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, true, &when), SCHED_RENEW);
        st->force_renewal = true;
        assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, false, &when), SCHED_RENEW);
        st->force_renewal = false;
        /* in-flight phases resume whatever the dates */
        for (state_phase p = STATE_KEY_PENDING; p <= STATE_DEPLOYING; p++) {
                st->phase = p;
                assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, false, &when), SCHED_RESUME);
        }
        st->phase = STATE_FAILED;
        assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, false, &when), SCHED_NONE);
        /* failed while the issued certificate was still in progress: fetch it next time */
        st->pending_arn = strdup("arn:aws:acm-pca:x/certificate/y");
        assert_int_equal(sched_decide(&nj, st, true, nb + DAY, 1, false, &when), SCHED_RESUME);
        free(st->pending_arn);
        st->pending_arn = NULL;
        assert_int_equal(sched_decide(&nj, st, true, na + 1, 1, false, &when), SCHED_RENEW);
        assert_string_equal(sched_action_to_string(SCHED_RESUME), "resume");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash_deterministic),
                cmocka_unit_test(test_jitter_bounds),
                cmocka_unit_test(test_jitter_spreads),
                cmocka_unit_test(test_renew_at_fraction),
                cmocka_unit_test(test_renew_at_before),
                cmocka_unit_test(test_renew_before_not_shorter_than_lifetime),
                cmocka_unit_test(test_retry_bounds),
                cmocka_unit_test(test_decide),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
