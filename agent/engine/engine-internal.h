/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared between the engine's files only:
 *   engine.c          the driver: machines by name, configurations, the wake
 *                     timer, --once settling, reconfigure, stop, results
 *   engine-machine.c  one certificate's transitions (the only writer of its
 *                     cert_state) and the services issuers call
 *   engine-reload.c   the reload batch (one reload per server per batch)
 *   engine-persist.c  state writes and deploys on worker threads
 */
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "aws/aws.h"
#include "basic/worker.h"
#include "deploy/deploy-hook.h"
#include "deploy/deploy-reload.h"
#include "engine/engine-issuer.h"
#include "engine/engine-sched.h"
#include "engine/engine.h"
#include "store/store-keys.h"
#include "store/store-state.h"

/* Worker threads: one per online CPU, within these bounds (engine.c:
 * engine_workers()). */
#define ENGINE_WORKERS_MIN 4
#define ENGINE_WORKERS_MAX 8
#define ENGINE_ONCE_WAIT_MAX_DEFAULT 300
#define ENGINE_LOCKED_RETRY_SEC 60

/* A configuration generation, shared by the machines created or
 * reconciled with it; freed when nothing refers to it any more. Its AWS
 * client (created at first use) lives as long as it does. */
typedef struct conf_gen {
        unsigned n_ref;
        conf *c;
        aws_client *aws;
} conf_gen;

conf_gen *conf_gen_ref(conf_gen *ec);
conf_gen *conf_gen_unref(conf_gen *ec);

typedef enum machine_busy {
        BUSY_NONE,        /* stable: at most its wake time is pending */
        BUSY_ISSUER,      /* an issuer operation runs (op says which) */
        BUSY_KEY,         /* the keystore makes/loads a key for the issuer */
        BUSY_SAVE,        /* a state write runs on a worker */
        BUSY_DEPLOY,      /* a deploy runs on a worker */
        BUSY_RELOAD,      /* queued for, or inside, a reload batch */
        BUSY_HOOK,        /* a deploy/failure hook runs */
        BUSY_SLEEP,       /* --once: a short wait the pass sits out */
        BUSY_LOAD,        /* --once: its state is read ahead on a worker (engine_run_once) */
        BUSY_QUEUED,      /* due for an issuance, waiting for a slot (ENGINE_ISSUE_SLOTS) */
} machine_busy;

typedef enum issuer_op {
        OP_NONE,
        OP_ISSUE,
        OP_WATCH,
        OP_REVOKE,
} issuer_op;

struct machine {
        engine *e;
        char *name;
        conf_gen *cref;          /* the generation cert belongs to (a reference) */
        const conf_cert *cert;
        const issuer_ops *ops;
        cert_state *st;             /* the persisted record; NULL until loaded */
        void *istate;               /* the issuer's typed state (ops->state_load) */
        void *issuer_data;          /* the issuer's runtime data (freed by ops->cancel) */
        int lock_fd;

        machine_busy busy;
        issuer_op op;
        issue_reason reason;

        /* continuations */
        void (*persist_then)(machine *m, void *userdata);
        void *persist_userdata;
        void (*key_then)(machine *m, EVP_PKEY *key, void *userdata);
        void *key_userdata;
        store_key_job *key_job;
        hook_process *hook;
        hook_process *validation_hook; /* pending_validation: runs on its own */
        bool settle_after_hook;     /* --once: settled, but its pending_validation hook runs */
        sd_event_source *sleep_timer;
        EVP_PKEY *deploy_key;       /* the key of the certificate being deployed */

        /* scheduling */
        time_t wake_at;             /* when the machine acts next on its own (daemon), 0 never */
        bool settled;               /* --once: done for this pass */
        bool poked;                 /* woken while busy: decide again when settled */
        bool watch_now;             /* engine_poke(): the issuer's watch runs before its time */
        bool removed;               /* daemon: no longer configured; dropped when settled */
        conf_gen *next_cref;     /* daemon: a newer configuration, applied when settled */
        const conf_cert *next_cert;

        /* this operation */
        bool had_cert;              /* a certificate was served when it started */
        bool forced;                /* renew --force / revoke replacement: stays wanted on failure */
        time_t watch_at;            /* the issuer's first watch of what is being deployed */
        uint64_t once_waited;       /* --once: seconds of waits sat out so far (each counts >= 1) */
        const conf_cert *fp_for;    /* the settings fp_issue / fp_deploy were computed from */
        char fp_issue[33], fp_deploy[33];
        char *old_serial;           /* the serial a deploy replaced, for the renewed event */
        char *aws_operation, *aws_error, *aws_request_id;  /* machine_fail_aws: journal fields */

        /* the result (--once output, daemon view) */
        engine_result res;
        engine_action action;
        bool changed;
        char *error;
        char *plan;

        /* issuance slots (ENGINE_ISSUE_SLOTS) */
        bool issue_slot;            /* holds one: its issuance has not had its request answered */
        machine *queue_next;        /* BUSY_QUEUED: the next in the engine's queue */

        /* a state read ahead on a worker, taken by the next machine_load() */
        bool pre_ready;
        int pre_r;
        cert_state *pre_st;
        char *pre_err;
        /* and which version was current just after (deploy_current_peek()),
         * taken by the decision that follows that load, dropped after it */
        bool pre_cur_ready;
        int pre_cur_r;
        char *pre_cur_id;
};

struct engine {
        sd_event *loop;
        engine_options opts;
        conf_gen *cref;          /* the configuration in force */
        conf_gen **old_crefs;    /* earlier generations whose AWS client still has requests */
        size_t n_old_crefs;

        machine **machines;         /* configuration order */
        size_t n_machines, n_alloc;

        worker_pool *workers;
        struct cache_item *cache;
        size_t n_cache, n_cache_alloc;

        /* the reload batch */
        machine **reload_queue;
        size_t n_reload_queue, n_reload_alloc;
        reload_pass *reload_running;
        machine **reload_members;   /* the machines of the running batch */
        size_t n_reload_members;
        sd_event_source *reload_timer;
        uint64_t reload_first_usec;

        sd_event_source *wake_timer;   /* daemon: the earliest machine wake */

        /* issuance slots (engine-machine.c) */
        size_t n_issuing;              /* machines holding one */
        machine *queue_head, *queue_tail;  /* BUSY_QUEUED machines, first due first */
        sd_event_source *admit_defer;  /* starts queued machines when slots are free */

        void (*observer)(engine *e, const char *name, void *userdata);
        void *observer_userdata;

        /* --once */
        bool running;
        size_t n_unsettled;
        /* daemon stop */
        bool stopping;
        void (*stop_done)(void *userdata);
        void *stop_userdata;
        sd_event_source *stop_defer;

        char machine_id[64];
        char host_id[17];
};

/* engine.c */
void engine_machine_settled(engine *e, machine *m);
void engine_notify(engine *e, machine *m);
int engine_workers(engine *e, worker_pool **ret);
void engine_rearm(engine *e);

/* engine-machine.c */
machine *machine_new(engine *e, conf_gen *cref, const conf_cert *cert);
machine *machine_free(machine *m);
/* Wakes the machine: decides (sched) and starts what is due; settles when
 * nothing is. */
void machine_wake(machine *m);
/* Refreshes m->res from the state. */
void machine_result_refresh(machine *m);
/* The reload batch's verdict for m (engine-reload.c). */
void machine_reloaded(machine *m, int r, const char *reason, bool rolled_back);
/* Switches m to version (a rollback), saving the state at once. */
int machine_rollback(machine *m, const char *version, char *err, size_t errlen);
/* The engine is being freed: the queued machines are forgotten (they never
 * started) and no queued machine starts any more. */
void machine_queue_drop(engine *e);
/* Stops what m runs for an engine stop: an issuer operation is cancelled
 * (its progress is on disk), atomic steps finish. Returns true when m is
 * idle now. */
bool machine_stop(machine *m);
/* Loads (or reloads) m's state from disk into m->st / m->istate.
 * 0 or -errno with *ret_error. */
int machine_load(machine *m, char **ret_error);
/* The wake time the schedule gives m now (0: none). */
time_t machine_next_wake(machine *m);

/* engine-reload.c */
/* Queues m (deployed; previous version in m->st->previous) for the next
 * reload batch. --once: the batch runs when every other machine has
 * settled; daemon: reload_debounce after the last deploy. */
int engine_reload_enqueue(engine *e, machine *m);
/* --once: runs the batch if every unsettled machine waits for it. */
void engine_reload_maybe_run(engine *e);
/* Drops m from the queue / the running batch (m is being freed). */
void engine_reload_forget(engine *e, machine *m);
void engine_reload_free(engine *e);

/* The machine's cached digests of its settings (recomputed when they change). */
const char *machine_fingerprint(machine *m, bool deploy);

/* engine-fingerprint.c: a 32-hex-digit digest of the settings that need a
 * new certificate (deploy = false: names, subject, key, issuer) or a new
 * deploy (deploy = true: output, reload targets) when they change. */
int engine_fingerprint(const conf_cert *c, bool deploy, char ret[static 33]);

/* engine-persist.c */
typedef struct persist_request {
        EVP_PKEY *save_pending_key;   /* stored as the pending key before the state */
        bool gc_pems;                 /* after the state: drop certificate files no version refers to */
        bool promote;                 /* before the state: the pending key becomes the served key if it
                                       * belongs to the served certificate */
        bool delete_keys;             /* both keys deleted after the state (revoked) */
        const char *remove_version;   /* before the state: this (revoked) version leaves the output
                                       * directory; a failure is logged and it is kept in the state */
        const char *fail_point;       /* testpoint_fail() name that simulates a failed write */
        const char *kill_point;       /* testpoint_hit() name after a successful write */
} persist_request;
/* Serialises m's state (with its issuer part) on the loop and writes it on a
 * worker, then done(m, r) on the loop. m->busy is BUSY_SAVE meanwhile. */
void engine_persist(machine *m, const persist_request *req, void (*done)(machine *m, int r));

typedef struct deploy_request {
        EVP_PKEY *key;                /* a reference is taken */
        const char *cert_pem, *chain_pem;
        const char *serial;
} deploy_request;
/* Builds the output files and installs them as a new version on a worker,
 * then done(m, r, version, previous, error) on the loop. */
void engine_deploy(machine *m, const deploy_request *req,
                   void (*done)(machine *m, int r, const char *version, const char *previous, const char *error));
