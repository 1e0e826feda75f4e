/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * engine: every configured certificate is one machine (engine-machine.c)
 * with one persisted state (store-state.h) and its own wake time, all on
 * one sd-event loop. The same engine serves two modes:
 *
 *   ENGINE_ONCE    `--once`, `renew`, `revoke`: every machine is woken once
 *                  (honouring backoff unless forced), runs until it is
 *                  stable (valid, backoff, waiting, revoked), and the loop
 *                  exits; waits shorter than once_wait_max are waited for in
 *                  the process.
 *   ENGINE_DAEMON  the service: machines wake on their own timers for as long
 *                  as the loop runs; the configuration can be swapped
 *                  (engine_reconfigure) while machines are in flight;
 *                  engine_stop() finishes the atomic steps and stops.
 *
 * A machine that has something to do takes its certificate's lock (another
 * process holding it gives "locked"), asks its issuer (engine-issuer.h) for a
 * certificate, verifies it (the issuer says what it must carry), deploys it
 * (deploy.h), and joins the next reload batch: every certificate deployed
 * within the batch window shares one reload per server (--once: one batch
 * when every machine has settled; daemon: daemon.reload_debounce after the
 * last deploy). Each state is saved before the side effect that follows it,
 * and saved on worker threads, so a kill anywhere resumes without a second
 * issuance and the loop never waits for the disk.
 *
 * Threads: machines change only on the loop thread; workers compute (keys,
 * deploys, state writes) and hand results back. engine_free() joins the
 * workers before freeing machines.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "basic/macro.h"
#include "conf/conf.h"
#include "engine/engine-issuer.h"
#include "store/store-readahead.h"

typedef struct engine engine;

/*
 * At most this many certificates of an engine are between the start of an
 * issuance and the answer to the issuer's request (phases KEY and REQUEST:
 * a key made, a CSR and a request built and queued for AWS's rate limit);
 * the others due wait for a slot, lock held, in the order they were due.
 * What a certificate holds before its request is answered then stays
 * bounded whatever their number (1000 due at once made 1000 keys and
 * requests in the first seconds, to wait up to 40 s for IssueCertificate's
 * 25/s), and the slots still keep the rate limit busy: a slot is free again
 * at the answer, and the steps before the request take milliseconds. An
 * issuance resumed past its request (validation, issuing, fetching) takes
 * no slot.
 */
#define ENGINE_ISSUE_SLOTS 32

typedef enum engine_mode {
        ENGINE_ONCE,
        ENGINE_DAEMON,
} engine_mode;

/* The outcome of one certificate in a --once pass (or its latest in the
 * daemon). */
typedef enum engine_action {
        ENGINE_ACTION_NONE,       /* nothing was due */
        ENGINE_ACTION_ISSUED,     /* a first certificate is served */
        ENGINE_ACTION_RENEWED,    /* a new certificate replaced the served one */
        ENGINE_ACTION_FAILED,     /* failed now, or backing off after a failure (no AWS call) */
        ENGINE_ACTION_WAITING,    /* waiting on something outside the agent */
        ENGINE_ACTION_LOCKED,     /* another acm-agent process holds the lock */
        ENGINE_ACTION_REVOKED,    /* revoked (revoke --no-replace, or left revoked) */
        _ENGINE_ACTION_MAX,
} engine_action;

/* "none", "issued", "renewed", "failed", "waiting", "locked", "revoked". */
const char *engine_action_to_string(engine_action a);

typedef enum engine_command {
        ENGINE_CMD_CONVERGE,      /* --once / daemon: do what is due */
        ENGINE_CMD_RENEW,         /* renew NAME: due or not (force), and before a backoff ends */
        ENGINE_CMD_REVOKE,        /* revoke NAME: revoke the served certificate, then replace it */
} engine_command;

typedef struct engine_options {
        engine_mode mode;
        engine_command command;
        bool dry_run;               /* decide and describe only: no lock, no AWS, no write */
        bool force;                 /* RENEW: renew even when not due */
        const char *only;           /* restrict to this certificate (NULL: all) */
        const char *revoke_reason;  /* REVOKE: AWS's RevocationReason spelling */
        bool revoke_no_replace;     /* REVOKE: mark revoked, issue no replacement */
        uint64_t once_wait_max;     /* ONCE: a wait ending within this many seconds is waited for (0: 300) */
        unsigned load_threads;      /* ONCE: threads that read the states ahead (0: one per CPU, at most
                                     * 4; 1: the loop alone); used from 64 certificates on */
        /* ONCE: states read while the configuration loaded (borrowed; when
         * it read the configuration's state_dir, the engine takes what it
         * read for its machines and has its thread read the rest with the
         * helpers; stopped either way before engine_run_once() returns);
         * NULL = none */
        store_readahead *readahead;
        /* The issuer for a type (issuer/issuer.h: issuer_lookup). Required. */
        const issuer_ops *(*issuer_lookup)(conf_issuer_type type);
} engine_options;

/* The result / latest view of one certificate. Strings owned by the engine,
 * valid until the next engine call that runs the loop or reconfigures. */
typedef struct engine_result {
        const char *name;
        const char *issuer;         /* "pca", "acm", "import" */
        engine_action action;
        bool changed;               /* a new certificate is being served */
        const char *phase;          /* cert_phase_to_string() */
        const char *serial;         /* served, uppercase hex, NULL when none */
        const char *arn;
        time_t not_after;           /* served, 0 when none */
        time_t renew_at;            /* next renewal of the served certificate, 0 unknown */
        time_t next_attempt;        /* backoff: when it is retried, else 0 */
        time_t wake_at;             /* when the machine acts next on its own, 0 never */
        const char *error;          /* NULL when fine */
        const char *wait_reason;    /* WAITING: why */
        time_t waiting_until;       /* WAITING: when the agent looks again (0 unknown) */
        const char *plan;           /* dry run: what would be done and why */
        /* details for status */
        time_t last_success;
        time_t last_attempt;        /* the last issuance started or failed, 0 never */
        unsigned failures;
        const char *last_error;     /* the persisted last error (this or an earlier run) */
        const char *last_error_kind;  /* its class: "aws", "deploy", "reload", "config", ... */
        const char *danger;         /* sched_danger_to_string() of the served certificate */
        const char *revoked_serial; /* the last certificate revoke revoked, NULL none */
        const char *revoke_reason;  /* its RevocationReason */
        time_t revoked_at;
        bool in_flight;             /* an issuance / deploy / reload is in progress or interrupted */
        json_t *issuer_state;       /* the issuer's saved part (borrowed), NULL none */
} engine_result;

/*
 * What an issuance of cert checks before its first AWS call (`check` runs
 * it too): the deploy can finish (output directory safe, PKCS#12 passphrase
 * file readable, owner and group known; not for issuers that deploy
 * nothing) and the issuer's own checks (ops may be NULL). Reads only.
 * 0, or -errno with *ret_reason (malloc'd, may be NULL on ENOMEM) for the
 * operator.
 */
int engine_preflight(const conf_cert *cert, const issuer_ops *ops, char **ret_reason);

/*
 * Creates an engine for configuration c on loop (NULL: the engine creates
 * its own). Takes ownership of c (freed with the engine, or when a later
 * configuration replaced it and no machine uses it any more). Prepares and
 * checks the state directory (not in dry-run mode; err gets the reason).
 * Returns 0 and *ret; -ESRCH when o->only names no certificate; -EINVAL;
 * -ENOMEM; -errno from the state directory or sd-event.
 */
int engine_new(sd_event *loop, conf *c, const engine_options *o, engine **ret, char *err, size_t errlen);

/*
 * ONCE: runs the pass to completion (runs the loop). Afterwards the results
 * are available. Returns 0 when the pass ran (failures are in the results),
 * -errno when the loop failed.
 */
int engine_run_once(engine *e);

/*
 * DAEMON: loads every state, resumes in-flight machines, arms the timers.
 * The caller runs the loop. Returns 0 or -errno.
 */
int engine_start(engine *e);

/*
 * DAEMON: reconciles with a new configuration c (ownership taken):
 * certificates added start; removed ones stop being managed (their work in
 * progress is finished first; daemon.on_remove decides about their files);
 * changed ones are reconciled when they are next stable: names, key or
 * issuer changed → a new certificate; output or reload changed → the served
 * certificate is deployed again; schedule changed → a new wake time.
 * Sets *ret_report (may be NULL) to what changed. Returns 0 or -ENOMEM
 * (then the running configuration stays and c is freed).
 */
typedef struct engine_reconfigure_report {
        size_t added, removed, changed, total;
} engine_reconfigure_report;
int engine_reconfigure(engine *e, conf *c, engine_reconfigure_report *ret_report);

/* DAEMON: the wall clock jumped (suspend/resume, NTP step) or a test moved
 * the agent's clock: every wake time is looked at again. */
void engine_clock_changed(engine *e);

/* The configuration in force (borrowed). */
const conf *engine_conf(const engine *e);

/*
 * DAEMON: stops starting work; machines in the middle of an atomic step
 * (a request whose answer must be persisted, a deploy, a state write, a
 * reload) finish it and save; then done(userdata) is called from the loop.
 * Waiting timers are dropped (a restart resumes from the saved states).
 */
void engine_stop(engine *e, void (*done)(void *userdata), void *userdata);

/* Wakes name now (e.g. the import source changed, `renew` through the
 * daemon). -ENOENT when unknown. */
int engine_poke(engine *e, const char *name);

/* Number of machines, and the i-th result/view (configuration order). */
size_t engine_n_results(const engine *e);
const engine_result *engine_result_get(const engine *e, size_t i);

/* The process exit code for the results: 0 all valid, 1 any failed or
 * revoked, 3 any locked/waiting (and none failed). */
int engine_exit_code(const engine *e);

/* The earliest wake time of any machine (0: none), and its name. */
time_t engine_next_wake(const engine *e, const char **ret_name);

/* Counts by state for a daemon's status line. */
typedef struct engine_counts {
        size_t total, valid, busy, waiting, failed, revoked, in_danger;
        size_t queued;  /* of busy: due, waiting for an issuance slot (ENGINE_ISSUE_SLOTS) */
} engine_counts;
void engine_get_counts(const engine *e, engine_counts *ret);

/*
 * Called (on the loop) whenever a machine's state or result changed, after
 * it was saved; name is the certificate. For the daemon's metrics, status
 * line and journal. NULL to remove.
 */
void engine_set_observer(engine *e, void (*changed)(engine *e, const char *name, void *userdata), void *userdata);

/* AWS request counters of the engine's client, as a JSON object
 * {"calls": {"acm-pca:IssueCertificate": N, ...}, "throttles": N,
 *  "errors": {...}}. A new reference, or NULL on OOM. */
json_t *engine_aws_stats_json(const engine *e);

/* Per-operation AWS counters (for metrics); NULL client → 0. The pointer is
 * valid until the next engine call. */
size_t engine_aws_n_stats(const engine *e);
const struct aws_op_stats *engine_aws_stats(const engine *e, size_t i);

/* Frees: cancels what runs, joins the workers, then frees the machines.
 * Accepts NULL; returns NULL. */
engine *engine_free(engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(engine *, engine_free);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit (1000 certificates
 * need locks, state files and connections). Returns 0 or -errno. */
int engine_raise_fd_limit(void);

/*
 * Starts, on a thread of its own, what the first digest of a pass would
 * otherwise do on the loop before any state can be judged: OpenSSL's
 * initialisation (its configuration file, the default provider) and the
 * fetch of SHA-256 that fingerprints and the host id use (a few ms). Call
 * it before reading the configuration and engine_warm_up_wait() after,
 * whatever came of the reading, from the same thread; the thread has every
 * signal blocked. Returns 0, or -errno when no thread could be started
 * (nothing is lost: the first digest does the work then).
 */
int engine_warm_up(void);
/* Waits for the thread engine_warm_up() started; nothing when none runs. */
void engine_warm_up_wait(void);
