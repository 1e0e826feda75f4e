/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <string.h>

#include "basic/macro.h"
#include "engine/engine-sched.h"

/* FNV-1a 64, then a splitmix finaliser so nearby inputs spread. */
uint64_t sched_hash(const char *machine_id, const char *name) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        const char *parts[2] = { machine_id ? machine_id : "", name ? name : "" };

        for (size_t k = 0; k < 2; k++) {
                for (const unsigned char *p = (const unsigned char *) parts[k]; *p; p++) {
                        h ^= *p;
                        h *= UINT64_C(0x100000001b3);
                }
                h ^= 0xff;  /* separator: ("ab","c") != ("a","bc") */
                h *= UINT64_C(0x100000001b3);
        }
        h ^= h >> 30;
        h *= UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 27;
        h *= UINT64_C(0x94d049bb133111eb);
        h ^= h >> 31;
        return h;
}

uint64_t sched_jitter(const conf_schedule *s, uint64_t hash, time_t lifetime) {
        uint64_t cap = s->jitter;

        if (lifetime <= 0)
                return 0;
        if (cap > (uint64_t) lifetime / 10)
                cap = (uint64_t) lifetime / 10;
        if (cap == 0)
                return 0;
        return hash % cap;
}

bool sched_renew_before_ignored(const conf_schedule *s, time_t not_before, time_t not_after) {
        return s->renew_before > 0 && not_after > 0 && not_after > not_before &&
               s->renew_before >= (uint64_t) (not_after - not_before);
}

time_t sched_renew_at(const conf_schedule *s, time_t not_before, time_t not_after, uint64_t hash) {
        time_t lifetime, before;

        if (not_after <= 0)
                return 0;
        lifetime = not_after > not_before ? not_after - not_before : 0;
        /* a renew_before as long as the lifetime would make every new
         * certificate due at once (a new billed certificate on every run) */
        if (s->renew_before > 0 && !sched_renew_before_ignored(s, not_before, not_after))
                before = s->renew_before > (uint64_t) INT32_MAX * 4 ? (time_t) INT32_MAX * 4 : (time_t) s->renew_before;
        else {
                double f = s->renew_fraction;
                if (!(f > 0) || f > 1)
                        f = 0.33;
                before = (time_t) llround((double) lifetime * f);
        }
        return not_after - before - (time_t) sched_jitter(s, hash, lifetime);
}

const char *sched_danger_to_string(sched_danger d) {
        static const char *const names[] = {
                [SCHED_SAFE] = "safe",
                [SCHED_WARNING] = "warning",
                [SCHED_CRITICAL] = "critical",
                [SCHED_EXPIRED] = "expired",
        };
        return (unsigned) d < ELEMENTSOF(names) ? names[d] : NULL;
}

sched_danger sched_danger_at(time_t not_before, time_t not_after, time_t renew_at, time_t now) {
        time_t lifetime, left, critical;

        if (not_after <= 0)
                return SCHED_SAFE;
        if (now >= not_after)
                return SCHED_EXPIRED;
        if (now < renew_at)
                return SCHED_SAFE;  /* not even due: renewing is not late */
        lifetime = not_after > not_before ? not_after - not_before : 0;
        left = not_after - now;
        critical = 86400;
        if (lifetime / 20 < critical)
                critical = lifetime / 20;
        if (left <= critical)
                return SCHED_CRITICAL;
        if (left <= lifetime / 10 || left <= SCHED_DANGER_DAYS * 86400)
                return SCHED_WARNING;
        return SCHED_SAFE;
}

time_t sched_retry_at(const conf_schedule *s, unsigned failures, time_t now, uint64_t rnd, sched_danger danger) {
        uint64_t lo = s->retry_min > 0 ? s->retry_min : 300;
        uint64_t hi = s->retry_max >= lo ? s->retry_max : lo;
        uint64_t d = lo;

        if (danger != SCHED_SAFE && hi > SCHED_DANGER_RETRY_CAP)
                hi = SCHED_DANGER_RETRY_CAP > lo ? SCHED_DANGER_RETRY_CAP : lo;
        for (unsigned i = 1; i < failures && d < hi; i++)
                d = d > hi / 2 ? hi : d * 2;
        if (d > hi)
                d = hi;
        /* uniform in [lo, d]: spread, but never sooner than retry_min */
        if (d > lo)
                d = lo + rnd % (d - lo + 1);
        return now + (time_t) d;
}

const char *sched_action_to_string(sched_action a) {
        static const char *const names[_SCHED_ACTION_MAX] = {
                [SCHED_NONE] = "none",
                [SCHED_ISSUE] = "issue",
                [SCHED_DEPLOY] = "deploy",
                [SCHED_REDEPLOY] = "redeploy",
                [SCHED_RELOAD] = "reload",
                [SCHED_WATCH] = "watch",
                [SCHED_REVOKE] = "revoke",
                [SCHED_BACKOFF] = "backoff",
                [SCHED_WAIT] = "wait",
                [SCHED_REVOKED] = "revoked",
        };
        return (unsigned) a < _SCHED_ACTION_MAX ? names[a] : NULL;
}

bool sched_served_revoked(const cert_state *st) {
        return st->served.serial && st->revoked_serial && streq(st->served.serial, st->revoked_serial);
}

bool sched_window_holds(const sched_input *in) {
        const cert_state *st = in->st;

        if (in->window_opens <= in->now || in->force || in->ignore_backoff || !st->served.serial)
                return false;
        if (sched_served_revoked(st))
                return false;  /* a revoked certificate is replaced at once */
        return st->served.not_after > in->window_opens + SCHED_WINDOW_MARGIN;
}

static void set(sched_decision *d, sched_action a, issue_reason reason, time_t when, const char *why) {
        d->action = a;
        d->reason = reason;
        d->when = when;
        d->why = why;
}

static time_t earliest(time_t a, time_t b) {
        if (a <= 0)
                return b > 0 ? b : 0;
        if (b <= 0)
                return a;
        return a < b ? a : b;
}

void sched_decide(const sched_input *in, sched_decision *ret) {
        const cert_state *st = in->st;
        bool served = st->served.serial != NULL;
        bool urgent = in->force || in->ignore_backoff;
        time_t now = in->now;

        *ret = (sched_decision) {};
        ret->renew_at = served && in->renews ? sched_renew_at(in->schedule, st->served.not_before,
                                                              st->served.not_after, in->hash) : 0;
        if (in->revoke || st->revoke_request) {
                /* a saved revoke that failed is retried at its time; the
                 * operator's command goes at once */
                if (!in->revoke && st->phase == PHASE_BACKOFF && st->wake_at > now && !urgent)
                        return set(ret, SCHED_BACKOFF, ISSUE_NEW, st->wake_at,
                                   "the interrupted revocation failed and is retried later");
                if (served)
                        set(ret, SCHED_REVOKE, ISSUE_REPLACE, 0,
                            st->revoke_request ? "resume: an interrupted revocation" : "revoke requested");
                else
                        set(ret, SCHED_NONE, ISSUE_NEW, 0, "nothing is served, nothing to revoke");
                return;
        }

        switch (st->phase) {
        case PHASE_RELOAD:
                if (st->wake_at > now && !urgent)
                        return set(ret, SCHED_BACKOFF, ISSUE_NEW, st->wake_at, "the reload failed and is retried later");
                return set(ret, SCHED_RELOAD, ISSUE_NEW, 0, "resume: the reload after a deploy");
        case PHASE_DEPLOY:
                if (sched_window_holds(in))
                        return set(ret, SCHED_WAIT, ISSUE_NEW, in->window_opens,
                                   "held for the maintenance window (reload_window)");
                return set(ret, SCHED_DEPLOY, ISSUE_NEW, 0, "resume: deploy the verified certificate");
        case PHASE_KEY:
        case PHASE_REQUEST:
        case PHASE_VALIDATE:
        case PHASE_ISSUE:
        case PHASE_FETCH:
                return set(ret, SCHED_ISSUE, ISSUE_RESUME, 0, "resume: an interrupted issuance");
        case PHASE_BACKOFF:
                if (st->wake_at > now && !urgent)
                        return set(ret, SCHED_BACKOFF, ISSUE_NEW, st->wake_at, "the last attempt failed");
                if (st->pending.serial) {
                        if (sched_window_holds(in))
                                return set(ret, SCHED_WAIT, ISSUE_NEW, in->window_opens,
                                           "held for the maintenance window (reload_window)");
                        return set(ret, SCHED_DEPLOY, ISSUE_NEW, 0, "retry: deploy the verified certificate");
                }
                break;
        case PHASE_WAITING:
                if (st->wake_at > now && !urgent)
                        return set(ret, SCHED_WAIT, ISSUE_NEW, st->wake_at, "waiting");
                break;
        case PHASE_REVOKED:
                if (!urgent)
                        return set(ret, SCHED_REVOKED, ISSUE_NEW, 0, "revoked; renew it to issue a replacement");
                return set(ret, SCHED_ISSUE, ISSUE_REPLACE, 0, "replace the revoked certificate");
        default:
                break;
        }

        if (in->issuer_in_flight)
                return set(ret, SCHED_ISSUE, ISSUE_RESUME, 0, "resume: an issuance in flight");
        if (!served)
                return set(ret, SCHED_ISSUE, ISSUE_NEW, 0, "no certificate served yet");
        if (sched_served_revoked(st))
                return set(ret, SCHED_ISSUE, ISSUE_REPLACE, 0, "the served certificate was revoked");
        if (in->issued_for_changed)
                return set(ret, SCHED_ISSUE, ISSUE_RENEW, 0, "names, key or issuer settings changed");
        if (in->force || st->force_renewal)
                return set(ret, SCHED_ISSUE, ISSUE_RENEW, 0, "renewal forced");
        if (in->deploys && !in->have_current) {
                if (in->served_pem)
                        return set(ret, SCHED_REDEPLOY, ISSUE_NEW, 0, "the output directory does not serve the certificate");
                return set(ret, SCHED_ISSUE, ISSUE_RENEW, 0, "the output directory does not serve the certificate");
        }
        if (in->deploys && in->deployed_for_changed) {
                if (sched_window_holds(in))
                        return set(ret, SCHED_WAIT, ISSUE_NEW, in->window_opens,
                                   "output or reload settings changed; held for the maintenance window (reload_window)");
                return set(ret, SCHED_REDEPLOY, ISSUE_NEW, 0, "output or reload settings changed");
        }
        if (in->renews && now >= ret->renew_at)
                return set(ret, SCHED_ISSUE, ISSUE_RENEW, 0, "due for renewal");
        if (in->watches && (st->phase != PHASE_VALID || st->wake_at <= now || in->watch_now))
                return set(ret, SCHED_WATCH, ISSUE_NEW, 0, "the issuer's check is due");
        set(ret, SCHED_NONE, ISSUE_NEW, earliest(ret->renew_at, in->watches ? st->wake_at : 0), "valid");
}
