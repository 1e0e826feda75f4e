/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * engine: one pass over the configured certificates, every certificate a
 * small state machine, all of them concurrently on one sd-event loop.
 *
 * A machine reads its state file, decides (sched.h) and, when there is
 * something to do, takes the certificate's lock (never waits: a lock held by
 * another process gives the action "locked"), runs its issuer's steps
 * (issuer.h), then the common deploy step (build the selected files,
 * deploy_install, state saved with the reload pending), then after the
 * pass's single reload (reload.h) the deploy or failure hook, and the final
 * state (valid, or failed with a backoff time). Every transition is saved
 * before its side effect, so a killed agent resumes where it stopped.
 *
 * The AWS client (and so credentials and TLS) is created only when a machine
 * needs AWS; a pass where every certificate is valid makes no network call
 * and starts no thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "conf/conf.h"
#include "basic/macro.h"

typedef struct engine engine;

typedef enum engine_action {
        ENGINE_ACTION_NONE,
        ENGINE_ACTION_ISSUED,
        ENGINE_ACTION_RENEWED,
        ENGINE_ACTION_FAILED,
        ENGINE_ACTION_WAITING,
        ENGINE_ACTION_LOCKED,
        _ENGINE_ACTION_MAX,
} engine_action;

/* "none", "issued", "renewed", "failed", "waiting", "locked". */
const char *engine_action_to_string(engine_action a);

typedef struct engine_options {
        bool dry_run;          /* decide and describe only: no lock, no AWS, no write */
        bool force;            /* renew even when not due */
        const char *only;      /* restrict the pass to this certificate (NULL: all) */
} engine_options;

/* The outcome of one certificate in a pass. Strings owned by the engine. */
typedef struct engine_result {
        const char *name;
        const char *issuer;    /* "pca", "acm", "import" */
        engine_action action;
        bool changed;          /* a new certificate is being served */
        const char *serial;    /* uppercase hex, NULL when none */
        time_t not_after;      /* 0 when none */
        time_t renew_at;       /* next renewal time, 0 unknown */
        const char *error;     /* NULL when fine */
        const char *plan;      /* dry run: what would be done and why */
} engine_result;

/*
 * Creates an engine for configuration c (which must outlive it). Prepares
 * the state directory. Returns 0 and sets *ret; -ENOENT when o->only names
 * no configured certificate; -ENOMEM; -errno (state dir, sd-event).
 */
int engine_new(const conf *c, const engine_options *o, engine **ret);

/*
 * Runs one pass to completion (blocks running the loop; all certificates
 * concurrently). Afterwards the results are available. Returns 0 when the
 * pass ran (individual failures are in the results), -errno when the loop
 * itself failed.
 */
int engine_run_once(engine *e);

size_t engine_n_results(const engine *e);
const engine_result *engine_result_get(const engine *e, size_t i);

/* The process exit code for the results: 0 all valid, 1 any failed, 3 any
 * locked/waiting (and none failed). */
int engine_exit_code(const engine *e);

/* AWS request counters of the pass, as a JSON object (for --json summary and
 * benchmarks): {"calls": {"acm-pca:IssueCertificate": N, ...}, "throttles": N}.
 * Returns a new reference or NULL on OOM. */
json_t *engine_aws_stats_json(const engine *e);

/* The host's machine id (/etc/machine-id, first line, truncated to len - 1)
 * into buf, "" when there is none: the per-host input of the renewal jitter
 * (sched_hash), shared by the engine and status. */
void engine_machine_id(char *buf, size_t len);

/* Frees; accepts NULL; returns NULL. */
engine *engine_free(engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(engine *, engine_free);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit (1000 certificates
 * need locks, state files and connections). Returns 0 or -errno. */
int engine_raise_fd_limit(void);
