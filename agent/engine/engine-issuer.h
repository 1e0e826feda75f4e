/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The interface between the engine and an issuer (issuer/: pca, acm, import).
 *
 * The engine owns the machine: the common state (store-state.h), the lock,
 * the keystore, verification, deploy, reload, hooks, backoff and timers.
 * An issuer owns the steps between "a certificate is needed" and "here is a
 * certificate for this key", plus watching a served certificate and revoking
 * it, and a small typed state of its own that the engine saves inside the
 * state file (load/save below). Exactly one operation runs per machine at a
 * time.
 *
 * Every operation (issue, watch, revoke) ends in exactly one of the
 * machine_*() completion calls below, called on the loop thread, possibly
 * from inside the operation itself. After that call the issuer must not
 * touch the machine; the engine calls cancel() to drop what may be left
 * (timers, AWS requests, worker jobs) and then the next operation may start.
 *
 * Persisting: an issuer changes its typed state and calls
 * machine_persist(m, phase, then): the whole state is saved (on a worker)
 * before `then` runs on the loop; if the save fails the machine fails
 * (kind "io") and `then` is not called. Use it before every side effect
 * that must survive a crash (a token before a request, an ARN after it).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "aws/aws.h"
#include "basic/macro.h"
#include "basic/worker.h"
#include "conf/conf.h"
#include "store/store-state.h"

typedef struct machine machine;

typedef enum issue_reason {
        ISSUE_NEW,        /* nothing served yet */
        ISSUE_RENEW,      /* the served certificate is due (or forced) */
        ISSUE_RESUME,     /* an interrupted issuance is resumed (typed state says where) */
        ISSUE_REPLACE,    /* the served certificate was revoked or does not fit the
                           * configuration any more: a new certificate, a new key */
} issue_reason;

/* What the certificate an issuer delivers must carry; the engine verifies it
 * (key match, names, validity window, the chain up to the anchor). */
typedef struct cert_expect {
        conf_cert want;           /* names and subject to verify (shallow copy of the configured
                                   * certificate with the issuer's overrides; strings borrowed) */
        char **owned[4];          /* arrays the issuer allocated for overrides (freed by cert_expect_done) */
} cert_expect;
void cert_expect_done(cert_expect *e);

/* A certificate an issuer obtained. Borrowed during machine_issued(). */
typedef struct issued_cert {
        EVP_PKEY *key;            /* the private key (pca: from machine_key(); acm: exported) */
        const char *cert_pem;     /* the certificate */
        const char *chain_pem;    /* as the CA sent it (may be NULL); never deployed as such: the
                                   * chain deployed is the one verification builds */
        const char *anchor_pem;   /* trust anchor (pca: the CA's certificate); NULL: the trust store */
        const char *trust_store;  /* PEM bundle path when anchor_pem is NULL; NULL: system default */
        const char *arn;          /* the issuer's ARN of this certificate, may be NULL */
        bool key_is_pending;      /* key came from machine_key() and is already in the keystore;
                                   * false: the engine stores it as the pending key first */
        time_t watch_at;          /* when the issuer wants to watch it first (0: at once, or never
                                   * without a watch operation) */
} issued_cert;

typedef struct issuer_ops {
        const char *name;                                /* "pca", "acm", "import" */

        /* Typed state. load: o is the saved object or NULL (none); *ret is a
         * new state (never NULL on success). -EBADMSG with *ret_error
         * (malloc'd) for a bad object. save: a new JSON object. */
        int (*state_load)(json_t *o, void **ret, char **ret_error);
        int (*state_save)(const void *state, json_t **ret);
        void (*state_free)(void *state);
        /* True when an issuance is in flight in state (a token or request to
         * resume rather than start over). */
        bool (*state_in_flight)(const void *state);
        /* Forget the issuance in flight (after the served certificate was
         * replaced, or the request was abandoned). */
        void (*state_reset)(void *state);

        /* What a certificate for cert must carry (cert must outlive ret). */
        int (*expect)(const conf_cert *cert, const void *state, cert_expect *ret);

        /* Optional: checks that need no network before the first AWS call
         * of an issuance (e.g. import: the source files are readable).
         * 0, or -errno with *ret_error (malloc'd) for the operator. */
        int (*preflight)(const conf_cert *cert, char **ret_error);

        /* Obtain a certificate: ends in machine_issued(), machine_served(),
         * machine_wait() or machine_fail(). 0, or -errno before anything
         * started (the engine fails the machine). */
        int (*issue)(machine *m, issue_reason reason);

        /* Optional (NULL: nothing to watch): check the served certificate
         * (acm RenewalSummary, import sources). Ends in machine_watched(),
         * machine_renewal_ready(), machine_wait() or machine_fail(). */
        int (*watch)(machine *m);

        /* Optional (NULL: cannot revoke): revoke the served certificate
         * (serial and ARN in machine_state(m)->served). Ends in
         * machine_revoked() or machine_fail(). */
        int (*revoke)(machine *m, const char *reason);

        /* Drops whatever runs (timers, requests, jobs) without calling back. */
        void (*cancel)(machine *m);

        /* Optional (NULL: always): whether certificates of cert are written
         * to its output directory (import without output:, acm without
         * export: no). */
        bool (*deploys)(const conf_cert *cert);

        /* True when the engine's renewal schedule applies (pca); false when
         * the certificate is renewed elsewhere and only watched (acm: ACM's
         * managed renewal, the issuer's watch fetches the result; import). */
        bool renews;

        /* True when the watch is local and cheap (import: a fingerprint of
         * the source files, no AWS call on most runs): every --once pass
         * runs it whatever the wake time it returned, since nothing else
         * tells a one-shot run that the files changed. The daemon keeps the
         * wake time (and engine_poke()). */
        bool watch_each_pass;
} issuer_ops;

/* ---- machine services for issuers (all on the loop thread) ---- */

const char *machine_name(machine *m);
const conf_cert *machine_cert(machine *m);
/* The configuration the certificate belongs to (daemon: and aws: settings),
 * borrowed: valid until the operation ends. */
const conf *machine_conf(machine *m);
/* True when this operation runs because an operator asked for it in this
 * process (`renew NAME [--force]`, the replacement after `revoke NAME`),
 * false for scheduled work: lets an issuer take a step it must never take
 * on its own again and again (a new request after a refusal that only the
 * operator can fix). */
bool machine_operator_forced(machine *m);
/* The common state, read-only for issuers. */
const cert_state *machine_state(machine *m);
/* The issuer's typed state (from its state_load). */
void *machine_issuer_state(machine *m);
/* The issuer's runtime data for the operation in progress (its cancel()
 * frees it and sets it back to NULL with machine_set_data). */
void *machine_get_data(machine *m);
void machine_set_data(machine *m, void *data);
sd_event *machine_loop(machine *m);
const char *machine_state_dir(machine *m);
/* A stable, non-secret id of this host for tags (hex of a hash of the
 * machine id), "" when unknown. */
const char *machine_host_id(machine *m);
/* Wall clock (clock.h), for the issuer's own decisions. */
time_t machine_now(machine *m);
/* The engine's AWS client, created at first use (which loads libcurl).
 * 0 or -errno of aws_client_new(): aws_client_strerror() says why. */
int machine_aws(machine *m, aws_client **ret);
/* The engine's worker pool. 0 or -errno. */
int machine_workers(machine *m, worker_pool **ret);
/*
 * A cache shared by the machines of an engine, keyed by string, entries
 * expiring after ttl seconds (0: until the engine is freed). get returns
 * the borrowed value or NULL; put takes ownership of value (free_fn frees
 * it), -EEXIST when present, -ENOMEM.
 */
void *machine_cache_get(machine *m, const char *key);
int machine_cache_put(machine *m, const char *key, void *value, void (*free_fn)(void *), uint64_t ttl);

/* Saves the whole state with phase (an in-flight phase the issuer is in:
 * KEY, REQUEST, VALIDATE, ISSUE, FETCH), then calls then(m, userdata) on the
 * loop. On a failed save the machine fails and then is not called. */
void machine_persist(machine *m, cert_phase phase, void (*then)(machine *m, void *userdata), void *userdata);

/* The key for a new request (keystore: pending, or served with key.reuse,
 * or generated off the loop and saved as pending), then then(m, key, userdata)
 * with a new reference. On failure the machine fails. */
void machine_key(machine *m, void (*then)(machine *m, EVP_PKEY *key, void *userdata), void *userdata);

/* Runs the pending_validation hook (acm) for the certificate arn (may be
 * NULL) with the records as text ("NAME CNAME VALUE" lines); fire and
 * forget, logged. In --once the machine's pass ends only when the hook
 * has (the end of the pass would kill it). */
void machine_hook_pending_validation(machine *m, const char *arn, const char *records);

/* ---- completions: exactly one per operation ---- */

/* A certificate for the key: the engine verifies, stores the key as pending
 * (unless key_is_pending), persists DEPLOY, deploys, reloads. */
void machine_issued(machine *m, const issued_cert *ic);

/* The issuer put a certificate in service without a deploy (import: the
 * files are the operator's and stay where they are; output.dir empty):
 * the state records it as served (serial, arn, not_before, not_after). */
void machine_served(machine *m, const char *serial, const char *arn, time_t not_before, time_t not_after);

/* Nothing to do until `until` because of the reason (printf): the daemon
 * arms a timer; --once waits when it is soon, else reports "waiting". */
void machine_wait(machine *m, time_t until, const char *fmt, ...) _printf_(3, 4);

/* The operation failed: the message (printf) is the operator's line; kind a
 * short id ("aws:throttled", "verify", "io", "ca-state", "config"...).
 * The engine backs off (sched_retry_at) and runs the failure hook. */
void machine_fail(machine *m, const char *kind, const char *fmt, ...) _printf_(3, 4);

/* machine_fail for an AWS error: the kind is "aws:<kind>" and the journal
 * entry carries AWS_OPERATION, AWS_ERROR and AWS_REQUEST_ID. */
void machine_fail_aws(machine *m, const aws_error *err, const char *fmt, ...) _printf_(3, 4);

/* watch: the served certificate is fine; check again at next_check. */
void machine_watched(machine *m, time_t next_check);

/* watch: a new certificate is ready to be fetched (acm renewed it, the
 * import source changed): the engine starts issue(ISSUE_RENEW) at once. */
void machine_renewal_ready(machine *m, const char *why);

/* revoke: done; already is true when AWS says it was revoked before. */
void machine_revoked(machine *m, bool already);
