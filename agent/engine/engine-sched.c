/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <string.h>

#include "basic/macro.h"
#include "engine/engine-sched.h"

const char *sched_action_to_string(sched_action a) {
        static const char *const names[_SCHED_ACTION_MAX] = {
                [SCHED_NONE] = "none",
                [SCHED_ISSUE] = "issue",
                [SCHED_RENEW] = "renew",
                [SCHED_RESUME] = "resume",
        };
        return a >= 0 && a < _SCHED_ACTION_MAX ? names[a] : NULL;
}

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

time_t sched_retry_at(const conf_schedule *s, unsigned failures, time_t now, uint64_t rnd) {
        uint64_t lo = s->retry_min > 0 ? s->retry_min : 300;
        uint64_t hi = s->retry_max >= lo ? s->retry_max : lo;
        uint64_t d = lo;

        for (unsigned i = 1; i < failures && d < hi; i++)
                d = d > hi / 2 ? hi : d * 2;
        if (d > hi)
                d = hi;
        d -= (d / 4 > 0) ? rnd % (d / 4 + 1) : 0;
        return now + (time_t) d;
}

bool sched_in_flight(const cert_state *st) {
        /* an issued certificate not fetched yet (e.g. the poll deadline
         * passed): fetch it rather than wait until the old one is due */
        if (st->pending_arn)
                return true;
        switch (st->phase) {
        case STATE_KEY_PENDING:
        case STATE_REQUESTING:
        case STATE_AWAITING_VALIDATION:
        case STATE_ISSUING:
        case STATE_AWAITING_ISSUE:
        case STATE_DEPLOYING:
                return true;
        default:
                return false;
        }
}

sched_action sched_decide(const conf_schedule *s, const cert_state *st, bool have_current, time_t now,
                          uint64_t hash, bool force, time_t *ret_when) {
        time_t when;

        if (sched_in_flight(st)) {
                *ret_when = 0;
                return SCHED_RESUME;
        }
        if (!st->serial || st->not_after <= 0 || !have_current) {
                *ret_when = 0;
                return SCHED_ISSUE;
        }
        when = sched_renew_at(s, st->not_before, st->not_after, hash);
        *ret_when = when;
        if (force || st->force_renewal || now >= when || now >= st->not_after)
                return SCHED_RENEW;
        return SCHED_NONE;
}
