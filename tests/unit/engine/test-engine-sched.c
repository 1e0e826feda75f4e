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

/* A valid, served certificate as the engine keeps it. */
static cert_state served_state(time_t nb, time_t na) {
        cert_state st = { .phase = PHASE_VALID };
        st.served.serial = (char *) "0A";
        st.served.version = (char *) "v1";
        st.served.not_before = nb;
        st.served.not_after = na;
        return st;
}

static sched_input input(const conf_schedule *c, const cert_state *st, time_t now) {
        return (sched_input) { .schedule = c, .st = st, .hash = 99, .now = now, .renews = true, .deploys = true,
                               .have_current = true };
}

static sched_action decide(const sched_input *in, sched_decision *d) {
        sched_decide(in, d);
        return d->action;
}

static void test_renew_before_not_shorter_than_lifetime(void **s _unused_) {
        /* renew_before: 30d with 1-day certificates: renew_fraction applies,
         * not "due at once" (a new billed certificate on every run) */
        conf_schedule c = defaults;
        c.renew_before = 30 * DAY;
        c.jitter = 0;
        time_t nb = 1800000000, na = nb + DAY;
        cert_state st = served_state(nb, na);
        sched_input in = input(&c, &st, nb + 60);
        sched_decision d;

        assert_true(sched_renew_before_ignored(&c, nb, na));
        assert_int_equal(sched_renew_at(&c, nb, na, 99), na - (time_t) llround(DAY * 0.33));
        assert_int_equal(decide(&in, &d), SCHED_NONE);
        assert_int_equal(d.when, na - (time_t) llround(DAY * 0.33));
        in.now = na - 3600;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_RENEW);
        /* exactly the lifetime: ignored too */
        c.renew_before = DAY;
        assert_true(sched_renew_before_ignored(&c, nb, na));
        in.now = nb + 60;
        assert_int_equal(decide(&in, &d), SCHED_NONE);
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

/* Backoff: exponential above the floor, jittered, capped; never a tight
 * loop; at most an hour while the certificate is in danger. */
static void test_retry_bounds(void **s _unused_) {
        time_t now = 1800000000;
        for (uint64_t rnd = 0; rnd < 5000; rnd += 13) {
                time_t t1 = sched_retry_at(&defaults, 1, now, rnd, SCHED_SAFE);
                assert_int_equal(t1 - now, 300);
                time_t t3 = sched_retry_at(&defaults, 3, now, rnd, SCHED_SAFE);
                assert_true(t3 - now <= 1200 && t3 - now >= 300);
                time_t t30 = sched_retry_at(&defaults, 30, now, rnd, SCHED_SAFE);
                assert_true(t30 - now <= 6 * 3600 && t30 - now >= 300);
                time_t d30 = sched_retry_at(&defaults, 30, now, rnd, SCHED_WARNING);
                assert_true(d30 - now <= 3600 && d30 - now >= 300);
        }
        /* the spread covers the range: full jitter above the floor */
        time_t lo = now + 6 * 3600, hi = now;
        for (uint64_t rnd = 0; rnd < 20000; rnd += 7) {
                time_t t = sched_retry_at(&defaults, 30, now, rnd * 0x9e3779b97f4a7c15ULL, SCHED_SAFE);
                lo = t < lo ? t : lo;
                hi = t > hi ? t : hi;
        }
        assert_true(lo - now < 3600 && hi - now > 5 * 3600);
        /* the upper bound grows monotonically up to the cap */
        time_t prev = 0;
        for (unsigned f = 1; f < 40; f++) {
                /* rnd = d - lo hits the top of the range [lo, d] */
                time_t t = 0;
                for (uint64_t rnd = 0; rnd <= 6 * 3600; rnd += 300) {
                        time_t x = sched_retry_at(&defaults, f, now, rnd, SCHED_SAFE);
                        t = x > t ? x : t;
                }
                assert_true(t >= prev);
                prev = t;
        }
        assert_int_equal(prev - now, 6 * 3600);
        assert_true(sched_retry_at(&defaults, UINT32_MAX, now, 7, SCHED_SAFE) - now <= 6 * 3600);
        /* a retry_min above an hour stays the floor in danger */
        conf_schedule slow = defaults;
        slow.retry_min = 2 * 3600;
        assert_int_equal(sched_retry_at(&slow, 5, now, 0, SCHED_CRITICAL) - now, 2 * 3600);
}

static void test_danger(void **s _unused_) {
        time_t nb = 1800000000, na = nb + 90 * DAY, renew = na - 30 * DAY;

        assert_int_equal(sched_danger_at(0, 0, 0, nb), SCHED_SAFE);
        assert_int_equal(sched_danger_at(nb, na, renew, nb + DAY), SCHED_SAFE);
        /* overdue but far from expiry: late, not yet dangerous */
        assert_int_equal(sched_danger_at(nb, na, renew, renew + DAY), SCHED_SAFE);
        /* under 9 days (a tenth of 90 days) */
        assert_int_equal(sched_danger_at(nb, na, renew, na - 8 * DAY), SCHED_WARNING);
        assert_int_equal(sched_danger_at(nb, na, renew, na - DAY + 1), SCHED_CRITICAL);
        assert_int_equal(sched_danger_at(nb, na, renew, na), SCHED_EXPIRED);
        /* a 1-day certificate: in danger once its renewal is overdue,
         * critical in its last twentieth */
        na = nb + DAY;
        renew = na - 8 * 3600;
        assert_int_equal(sched_danger_at(nb, na, renew, renew - 1), SCHED_SAFE);
        assert_int_equal(sched_danger_at(nb, na, renew, renew + 1), SCHED_WARNING);
        assert_int_equal(sched_danger_at(nb, na, renew, na - 3600), SCHED_CRITICAL);
        assert_string_equal(sched_danger_to_string(SCHED_EXPIRED), "expired");
}

static void test_decide(void **s _unused_) {
        time_t nb = 1800000000, na = nb + 90 * DAY;
        conf_schedule nj = defaults;
        cert_state empty = { .phase = PHASE_NEW };
        sched_decision d;
        nj.jitter = 0;

        sched_input in = input(&nj, &empty, nb);
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_NEW);

        cert_state st = served_state(nb, na);
        in = input(&nj, &st, nb + DAY);
        assert_int_equal(decide(&in, &d), SCHED_NONE);
        assert_int_equal(d.when, na - (time_t) (0.33 * 90 * DAY + 0.5));
        time_t due = d.when;
        in.now = due - 1;
        assert_int_equal(decide(&in, &d), SCHED_NONE);
        in.now = due;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_RENEW);
        /* the files are gone: deployed again from the state when it has the
         * certificate, else issued again */
        in.now = nb + DAY;
        in.have_current = false;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        in.served_pem = true;
        assert_int_equal(decide(&in, &d), SCHED_REDEPLOY);
        in.have_current = true;
        /* the configuration changed */
        in.deployed_for_changed = true;
        assert_int_equal(decide(&in, &d), SCHED_REDEPLOY);
        in.issued_for_changed = true;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_RENEW);
        in.issued_for_changed = in.deployed_for_changed = false;
        /* forced */
        in.force = true;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        in.force = false;
        st.force_renewal = true;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        st.force_renewal = false;
        /* in-flight phases resume whatever the dates */
        for (cert_phase p = PHASE_KEY; p <= PHASE_FETCH; p++) {
                st.phase = p;
                assert_int_equal(decide(&in, &d), SCHED_ISSUE);
                assert_int_equal(d.reason, ISSUE_RESUME);
        }
        st.phase = PHASE_DEPLOY;
        assert_int_equal(decide(&in, &d), SCHED_DEPLOY);
        st.phase = PHASE_RELOAD;
        assert_int_equal(decide(&in, &d), SCHED_RELOAD);
        /* a failed reload waits for its retry time */
        st.wake_at = nb + 2 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_BACKOFF);
        assert_int_equal(d.when, nb + 2 * DAY);
        in.ignore_backoff = true;
        assert_int_equal(decide(&in, &d), SCHED_RELOAD);
        in.ignore_backoff = false;

        /* backoff is enforced: nothing before the next attempt */
        st.phase = PHASE_BACKOFF;
        assert_int_equal(decide(&in, &d), SCHED_BACKOFF);
        in.now = nb + 2 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_NONE);   /* not due: the failure is over */
        in.now = nb + DAY;
        in.issuer_in_flight = true;                      /* a request to resume: after the backoff */
        assert_int_equal(decide(&in, &d), SCHED_BACKOFF);
        in.ignore_backoff = true;                        /* renew NAME */
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_RESUME);
        in.ignore_backoff = false;
        in.now = nb + 2 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        in.issuer_in_flight = false;
        /* a verified certificate that could not be written: deployed without AWS */
        st.pending.serial = (char *) "0B";
        assert_int_equal(decide(&in, &d), SCHED_DEPLOY);
        st.pending.serial = NULL;

        /* waiting */
        st.phase = PHASE_WAITING;
        st.wake_at = nb + 3 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_WAIT);
        assert_int_equal(d.when, nb + 3 * DAY);
        in.now = nb + 3 * DAY;
        in.issuer_in_flight = true;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_RESUME);
        in.issuer_in_flight = false;

        /* watching (acm, import): due when its time comes */
        st.phase = PHASE_VALID;
        st.wake_at = nb + 4 * DAY;
        in.watches = true;
        in.now = nb + 3 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_NONE);
        assert_int_equal(d.when, nb + 4 * DAY);
        in.now = nb + 4 * DAY;
        assert_int_equal(decide(&in, &d), SCHED_WATCH);
        in.renews = false;  /* renewed elsewhere: no renewal time */
        in.now = na + DAY;
        assert_int_equal(decide(&in, &d), SCHED_WATCH);
        in.watches = false;
        in.renews = true;

        /* revoked */
        st.revoked_serial = (char *) "0A";
        in.now = nb + DAY;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_REPLACE);
        st.phase = PHASE_REVOKED;
        assert_int_equal(decide(&in, &d), SCHED_REVOKED);
        in.ignore_backoff = true;
        assert_int_equal(decide(&in, &d), SCHED_ISSUE);
        assert_int_equal(d.reason, ISSUE_REPLACE);
        in.ignore_backoff = false;
        st.revoked_serial = NULL;
        st.phase = PHASE_VALID;
        in.revoke = true;
        assert_int_equal(decide(&in, &d), SCHED_REVOKE);
        in.revoke = false;
        /* a revoke a killed run saved: resumed by any run, after its
         * backoff when it failed; the operator's command goes at once */
        st.revoke_request = (char *) "KEY_COMPROMISE";
        assert_int_equal(decide(&in, &d), SCHED_REVOKE);
        assert_string_equal(d.why, "resume: an interrupted revocation");
        st.phase = PHASE_BACKOFF;
        st.wake_at = in.now + 3600;
        assert_int_equal(decide(&in, &d), SCHED_BACKOFF);
        assert_int_equal(d.when, in.now + 3600);
        in.revoke = true;
        assert_int_equal(decide(&in, &d), SCHED_REVOKE);
        in.revoke = false;
        in.now += 3600;
        assert_int_equal(decide(&in, &d), SCHED_REVOKE);
        st.revoke_request = NULL;
        st.phase = PHASE_VALID;
        st.wake_at = 0;
        assert_string_equal(sched_action_to_string(SCHED_REDEPLOY), "redeploy");
}

static void test_window(void **s _unused_) {
        time_t nb = 1800000000, na = nb + 30 * DAY;
        conf_schedule nj = defaults;
        cert_state st = served_state(nb, na);
        sched_decision d;
        nj.jitter = 0;

        st.phase = PHASE_DEPLOY;
        st.pending.serial = (char *) "0B";
        sched_input in = input(&nj, &st, nb + 20 * DAY);
        /* the window is open (0): deployed */
        assert_int_equal(decide(&in, &d), SCHED_DEPLOY);
        /* closed, opens in 3 hours: held */
        in.window_opens = in.now + 3 * 3600;
        assert_true(sched_window_holds(&in));
        assert_int_equal(decide(&in, &d), SCHED_WAIT);
        assert_int_equal(d.when, in.now + 3 * 3600);
        /* the served one expires before the opening plus a day: at once */
        in.now = na - DAY;
        in.window_opens = in.now + 3 * 3600;
        assert_false(sched_window_holds(&in));
        assert_int_equal(decide(&in, &d), SCHED_DEPLOY);
        /* forced, nothing served, or a revoked one: at once */
        in.now = nb + 20 * DAY;
        in.window_opens = in.now + 3 * 3600;
        in.force = true;
        assert_false(sched_window_holds(&in));
        in.force = false;
        st.revoked_serial = (char *) "0A";
        assert_false(sched_window_holds(&in));
        st.revoked_serial = NULL;
        cert_state none = { .phase = PHASE_DEPLOY };
        none.pending.serial = (char *) "0B";
        sched_input first = input(&nj, &none, in.now);
        first.window_opens = in.window_opens;
        assert_int_equal(decide(&first, &d), SCHED_DEPLOY);
        /* a changed output waits for the window too */
        st.phase = PHASE_VALID;
        st.pending.serial = NULL;
        in.deployed_for_changed = true;
        assert_int_equal(decide(&in, &d), SCHED_WAIT);
        in.window_opens = 0;
        assert_int_equal(decide(&in, &d), SCHED_REDEPLOY);
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
                cmocka_unit_test(test_danger),
                cmocka_unit_test(test_decide),
                cmocka_unit_test(test_window),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
