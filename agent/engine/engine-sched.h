/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * sched: when a certificate is due. Pure functions of their arguments (no
 * clock, no I/O) so they can be tested exhaustively.
 *
 * Renewal: at not_after - before - jitter, where before is renew_before when
 * set and shorter than the lifetime, else renew_fraction of the lifetime
 * (not_after - not_before); jitter
 * is deterministic per host and certificate (hash of the machine id and the
 * name) in [0, min(schedule.jitter, lifetime / 10)), and only ever makes the
 * renewal earlier, never later.
 * Failures: the n-th consecutive failure waits
 * d = min(retry_max, retry_min * 2^(n-1)), jittered into [d - d/4, d].
 */
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "store/store-state.h"

typedef enum sched_action {
        SCHED_NONE,       /* valid and not due: nothing to do */
        SCHED_ISSUE,      /* nothing served yet */
        SCHED_RENEW,      /* due (or forced) */
        SCHED_RESUME,     /* an in-flight issuance / deploy / reload to finish */
        _SCHED_ACTION_MAX,
} sched_action;

/* "none", "issue", "renew", "resume". */
const char *sched_action_to_string(sched_action a);

/* Deterministic 64-bit hash of machine_id (may be NULL or empty) and name. */
uint64_t sched_hash(const char *machine_id, const char *name);

/* The jitter (seconds) for a certificate of the given lifetime. */
uint64_t sched_jitter(const conf_schedule *s, uint64_t hash, time_t lifetime);

/* True when renew_before is set but not shorter than the lifetime
 * not_after - not_before: sched_renew_at then uses renew_fraction instead. */
bool sched_renew_before_ignored(const conf_schedule *s, time_t not_before, time_t not_after);

/* When a certificate valid from not_before to not_after is due for renewal.
 * not_after == 0 (nothing issued) gives 0 (due now). A renew_before that is
 * not shorter than the lifetime is ignored (renew_fraction applies). */
time_t sched_renew_at(const conf_schedule *s, time_t not_before, time_t not_after, uint64_t hash);

/* When to retry after the failures-th consecutive failure (failures >= 1)
 * that happened at now; rnd is any random number (the jitter source). */
time_t sched_retry_at(const conf_schedule *s, unsigned failures, time_t now, uint64_t rnd);

/*
 * What to do with a certificate now. have_current tells whether the output
 * directory has a current version. force: renew even if not due. Sets
 * *ret_when to the renewal time (0 when due now / unknown).
 */
sched_action sched_decide(const conf_schedule *s, const cert_state *st, bool have_current, time_t now,
                          uint64_t hash, bool force, time_t *ret_when);

/* True when st is in an in-flight phase (an issuance, deploy or reload was
 * started and must be resumed rather than restarted), or holds the ARN of
 * an issued certificate not deployed yet (whatever the phase). */
bool sched_in_flight(const cert_state *st);
