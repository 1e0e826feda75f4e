/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * sched: what a certificate needs and when. Pure functions of their
 * arguments (no clock, no I/O), shared by the engine and `status`, so the
 * two never disagree, and tested exhaustively.
 *
 * Renewal: at not_after - before - jitter, where before is renew_before when
 * set and shorter than the lifetime, else renew_fraction of the lifetime
 * (not_after - not_before); the jitter is deterministic per host and
 * certificate (a hash of the machine id and the name) in
 * [0, min(schedule.jitter, lifetime / 10)), and only ever makes the renewal
 * earlier.
 *
 * Danger: a certificate whose renewal is overdue is in danger when it has
 * less than a tenth of its lifetime or less than 7 days left (warning), and
 * critical under a day (or a twentieth of its lifetime, if shorter) or once
 * expired.
 *
 * Failures: the n-th consecutive failure waits a delay drawn uniformly from
 * [retry_min, min(retry_max, retry_min * 2^(n-1))] (exponential backoff with
 * jitter above a floor, never a tight loop); while the certificate is in
 * danger the cap is at most an hour.
 */
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"
#include "engine/engine-issuer.h"
#include "store/store-state.h"

#define SCHED_DANGER_DAYS 7
/* A renewed certificate is held for the maintenance window unless the
 * served one expires before the window opens plus this. */
#define SCHED_WINDOW_MARGIN 86400
#define SCHED_DANGER_RETRY_CAP 3600

/* Deterministic 64-bit hash of machine_id (may be NULL or empty) and name. */
uint64_t sched_hash(const char *machine_id, const char *name);

/* The jitter (seconds) for a certificate of the given lifetime. */
uint64_t sched_jitter(const conf_schedule *s, uint64_t hash, time_t lifetime);

/* True when renew_before is set but not shorter than the lifetime
 * not_after - not_before: sched_renew_at then uses renew_fraction instead. */
bool sched_renew_before_ignored(const conf_schedule *s, time_t not_before, time_t not_after);

/* When a certificate valid from not_before to not_after is due for renewal.
 * not_after == 0 (nothing issued) gives 0 (due now). */
time_t sched_renew_at(const conf_schedule *s, time_t not_before, time_t not_after, uint64_t hash);

typedef enum sched_danger {
        SCHED_SAFE,
        SCHED_WARNING,
        SCHED_CRITICAL,
        SCHED_EXPIRED,
} sched_danger;

/* "safe", "warning", "critical", "expired". */
const char *sched_danger_to_string(sched_danger d);

/* How much danger a served certificate is in at now (renew_at from
 * sched_renew_at). not_after == 0: SCHED_SAFE (nothing served). */
sched_danger sched_danger_at(time_t not_before, time_t not_after, time_t renew_at, time_t now);

/* When to retry after the failures-th consecutive failure (>= 1) that
 * happened at now; rnd any random number (the jitter source); danger tightens
 * the cap as described above. */
time_t sched_retry_at(const conf_schedule *s, unsigned failures, time_t now, uint64_t rnd, sched_danger danger);

typedef enum sched_action {
        SCHED_NONE,       /* nothing now; wake at `when` (0: never on its own) */
        SCHED_ISSUE,      /* obtain a certificate (reason says why) */
        SCHED_DEPLOY,     /* deploy the verified pending certificate (no AWS) */
        SCHED_REDEPLOY,   /* deploy the served certificate again (output/reload changed, files gone) */
        SCHED_RELOAD,     /* deployed, the reload is pending */
        SCHED_WATCH,      /* the issuer's watch is due */
        SCHED_REVOKE,     /* revoke the served certificate (revoke command) */
        SCHED_BACKOFF,    /* failed; retried at `when` */
        SCHED_WAIT,       /* waiting on something outside until `when` */
        SCHED_REVOKED,    /* revoked, no replacement until an operator renews it */
        _SCHED_ACTION_MAX,
} sched_action;

/* "none", "issue", "deploy", "redeploy", "reload", "watch", "revoke",
 * "backoff", "wait", "revoked". */
const char *sched_action_to_string(sched_action a);

typedef struct sched_input {
        const conf_schedule *schedule;
        const cert_state *st;
        uint64_t hash;                /* sched_hash(machine id, name) */
        time_t now;
        bool renews;                  /* the issuer renews on the engine's schedule */
        bool watches;                 /* the issuer has a watch operation */
        bool deploys;                 /* the certificate is written to an output directory */
        bool have_current;            /* deploys: the output directory serves st->served.version */
        bool issuer_in_flight;        /* the issuer's typed state has an issuance to resume */
        bool issued_for_changed;      /* names / key / issuer settings differ from the served certificate's */
        bool deployed_for_changed;    /* output / reload settings differ from the last deploy's */
        bool force;                   /* renew --force: a new certificate now */
        bool ignore_backoff;          /* renew NAME: act before the backoff ends */
        bool revoke;                  /* the revoke command (one a killed run saved: st->revoke_request) */
        bool watch_now;               /* poked (import source changed, operator): watch before its time */
        time_t window_opens;          /* reload_window: its next opening when it is closed now, else 0 */
        bool served_pem;              /* the served certificate is kept by the store (can be redeployed) */
} sched_input;

typedef struct sched_decision {
        sched_action action;
        issue_reason reason;          /* SCHED_ISSUE */
        time_t when;                  /* NONE / BACKOFF / WAIT: the next wake, 0 none */
        time_t renew_at;              /* the served certificate's renewal time, 0 none */
        const char *why;              /* a static phrase for plans and logs */
} sched_decision;

/* Decides what the certificate needs now. */
void sched_decide(const sched_input *in, sched_decision *ret);

/* The deploy of a renewed certificate waits for the maintenance window
 * (window_opens > now) unless nothing is served, the served certificate
 * expires before the opening plus SCHED_WINDOW_MARGIN, or it was forced. */
bool sched_window_holds(const sched_input *in);

/* True when st's served certificate is the one `revoke` revoked. */
bool sched_served_revoked(const cert_state *st);
