/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One certificate's machine: the only code that changes its cert_state.
 *
 * A wake decides (sched_decide) from the persisted state and the
 * configuration what is due, and starts it; every step ends in one of the
 * transitions below, which change the state, save it (on a worker) before
 * the side effect that follows, and either start the next step or settle
 * the machine (stable, lock released, wake time computed):
 *
 *   wake ──► issue ──► issued ──► [DEPLOY saved] deploy ──► deployed
 *     │        │                                              │
 *     │        ├──► wait ──► [WAITING saved] settle           ├──► [RELOAD saved] reload batch ──► reloaded
 *     │        └──► fail ──► [BACKOFF saved] failure hook     │                                     │
 *     ├──► watch ──► watched [VALID saved] / renewal_ready ──► issue
 *     ├──► revoke ──► revoked [saved] ──► issue (replace) / [REVOKED saved]
 *     └──► deploy / redeploy / reload (resumed)               └──► [VALID saved] deploy hook ──► settle
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/clock.h"
#include "basic/log-messages.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "deploy/deploy-build.h"
#include "deploy/deploy.h"
#include "engine/engine-internal.h"
#include "store/store-keys.h"
#include "store/store.h"

static void settle(machine *m);
static void fail(machine *m, const char *kind, const char *msg);
static void finish_valid(machine *m);
static void start_issue(machine *m, issue_reason reason);

/* ---- small helpers ---- */

static const char *state_dir(machine *m) {
        return m->cref->c->state_dir;
}

static void set_owned(char **field, char *v) {
        free(*field);
        *field = v;
}

static bool deploys(machine *m) {
        return !m->ops || !m->ops->deploys || m->ops->deploys(m->cert);
}

static bool has_reload(machine *m) {
        return m->cert->reload && m->cert->reload[0];
}

const char *machine_name(machine *m) {
        return m->name;
}

const conf_cert *machine_cert(machine *m) {
        return m->cert;
}

const conf *machine_conf(machine *m) {
        return m->cref->c;
}

bool machine_operator_forced(machine *m) {
        return m->forced && m->e->opts.command != ENGINE_CMD_CONVERGE;
}

const cert_state *machine_state(machine *m) {
        return m->st;
}

void *machine_issuer_state(machine *m) {
        return m->istate;
}

void *machine_get_data(machine *m) {
        return m->issuer_data;
}

void machine_set_data(machine *m, void *data) {
        m->issuer_data = data;
}

sd_event *machine_loop(machine *m) {
        return m->e->loop;
}

const char *machine_state_dir(machine *m) {
        return state_dir(m);
}

const char *machine_host_id(machine *m) {
        return m->e->host_id;
}

time_t machine_now(machine *m _unused_) {
        return clock_now();
}

int machine_workers(machine *m, worker_pool **ret) {
        return engine_workers(m->e, ret);
}

int machine_aws(machine *m, aws_client **ret) {
        conf_gen *ec = m->cref;
        int r;

        if (!ec->aws) {
                r = aws_client_new(m->e->loop, &ec->c->aws, &ec->aws);
                if (r < 0)
                        return log_error_errno(
                                r, "cannot create the AWS client: %s%s", aws_client_strerror(r),
                                r == -ELIBACC ? "" : " (check aws.endpoints and aws.ca_bundle)");
        }
        *ret = ec->aws;
        return 0;
}

void cert_expect_done(cert_expect *e) {
        for (size_t i = 0; i < ELEMENTSOF(e->owned); i++)
                e->owned[i] = (free(e->owned[i]), NULL);
}

/* ---- issuance slots (ENGINE_ISSUE_SLOTS) ---- */

static void queue_push(engine *e, machine *m) {
        m->queue_next = NULL;
        if (e->queue_tail)
                e->queue_tail->queue_next = m;
        else
                e->queue_head = m;
        e->queue_tail = m;
}

static void queue_remove(engine *e, machine *m) {
        machine *prev = NULL;

        for (machine *i = e->queue_head; i; prev = i, i = i->queue_next)
                if (i == m) {
                        if (prev)
                                prev->queue_next = m->queue_next;
                        else
                                e->queue_head = m->queue_next;
                        if (e->queue_tail == m)
                                e->queue_tail = prev;
                        m->queue_next = NULL;
                        return;
                }
}

/* Starts queued machines while slots are free, first due first. Called from
 * the loop (admit_defer): a start that fails at once frees its slot for the
 * next one here, not by recursion. */
static void admit(engine *e) {
        while (!e->stopping && e->queue_head && e->n_issuing < ENGINE_ISSUE_SLOTS) {
                machine *m = e->queue_head;
                queue_remove(e, m);
                m->busy = BUSY_NONE;
                if (m->removed) {
                        /* no longer configured while it waited: never started */
                        settle(m);
                        continue;
                }
                m->issue_slot = true;
                e->n_issuing++;
                start_issue(m, m->reason);
        }
}

static int on_admit(sd_event_source *s _unused_, void *userdata) {
        admit(userdata);
        return 0;
}

/* A slot may be free for the first queued machine: admit it from the loop. */
static void admit_soon(engine *e) {
        if (!e->queue_head || e->n_issuing >= ENGINE_ISSUE_SLOTS)
                return;
        if (e->admit_defer) {
                if (sd_event_source_set_enabled(e->admit_defer, SD_EVENT_ONESHOT) >= 0)
                        return;
        } else if (sd_event_add_defer(e->loop, &e->admit_defer, on_admit, e) >= 0) {
                (void) sd_event_source_set_description(e->admit_defer, "engine-admit");
                return;
        }
        admit(e);  /* no event source: not lost, started from here */
}

/* True when m may start its issuance now (it holds a slot); false when it is
 * queued (BUSY_QUEUED, reason kept) and start_issue() runs again once a
 * slot is free. */
static bool slot_take(machine *m, issue_reason reason) {
        engine *e = m->e;

        if (m->issue_slot)
                return true;
        if (!e->queue_head && e->n_issuing < ENGINE_ISSUE_SLOTS) {
                m->issue_slot = true;
                e->n_issuing++;
                return true;
        }
        m->reason = reason;
        m->busy = BUSY_QUEUED;
        queue_push(e, m);
        return false;
}

/* m's request is answered, or its issuance ended: its slot goes to the next. */
static void slot_release(machine *m) {
        if (!m->issue_slot)
                return;
        m->issue_slot = false;
        m->e->n_issuing--;
        admit_soon(m->e);
}

void machine_queue_drop(engine *e) {
        e->queue_head = e->queue_tail = NULL;
        e->admit_defer = sd_event_source_disable_unref(e->admit_defer);
}

/* Drops the issuer's operation (timers, requests, jobs). */
static void cancel_op(machine *m) {
        if (m->key_job) {
                store_key_job_cancel(m->key_job);
                m->key_job = NULL;
        }
        if (m->op != OP_NONE && m->ops && m->ops->cancel)
                m->ops->cancel(m);
        m->issuer_data = NULL;
        m->op = OP_NONE;
        slot_release(m);
}


/* Logs one of the fixed events (log-messages.h) with its fields: kv holds
 * "KEY", value pairs, NULL-terminated; a NULL value leaves its field out.
 * ISSUER= is added for every event. */
static void log_event(machine *m, int level, const char *msgid, const char *const *kv, const char *fmt, ...)
        _printf_(5, 6);
static void log_event(machine *m, int level, const char *msgid, const char *const *kv, const char *fmt, ...) {
        char *fields[16] = {}, *msg = NULL;
        size_t n = 0;
        va_list ap;

        fields[n++] = strdup(msgid);
        fields[n++] = strprintf("ISSUER=%s", conf_issuer_type_to_string(m->cert->issuer_type));
        for (size_t i = 0; kv && kv[i] && n + 1 < ELEMENTSOF(fields); i += 2)
                if (kv[i + 1])
                        fields[n++] = strprintf("%s=%s", kv[i], kv[i + 1]);
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        /* a field that could not be allocated ends the list there */
        for (size_t i = 0; i < n; i++)
                if (!fields[i]) {
                        for (size_t k = i + 1; k < n; k++)
                                fields[k] = (free(fields[k]), NULL);
                        break;
                }
        log_struct(level, m->name, (const char *const *) fields, "%s", msg ? msg : "out of memory");
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
        free(msg);
}

const char *machine_fingerprint(machine *m, bool deploy) {
        if (m->fp_for != m->cert) {
                if (engine_fingerprint(m->cert, false, m->fp_issue) < 0 ||
                    engine_fingerprint(m->cert, true, m->fp_deploy) < 0)
                        return NULL;
                m->fp_for = m->cert;
        }
        return deploy ? m->fp_deploy : m->fp_issue;
}

/* ---- loading ---- */

static void pre_cur_drop(machine *m) {
        m->pre_cur_ready = false;
        m->pre_cur_id = (free(m->pre_cur_id), NULL);
}

int machine_load(machine *m, char **ret_error) {
        _cleanup_(cert_state_freep) cert_state *st = NULL;
        void *is = NULL;
        int r;

        *ret_error = NULL;
        if (m->pre_ready) {
                m->pre_ready = false;
                r = m->pre_r;
                st = TAKE_PTR(m->pre_st);
                *ret_error = TAKE_PTR(m->pre_err);
        } else {
                /* what was read ahead goes with the state read ahead only */
                pre_cur_drop(m);
                r = store_load(state_dir(m), m->name, &st, ret_error);
        }
        if (r == -ENOENT) {
                st = cert_state_new();
                if (!st)
                        return -ENOMEM;
        } else if (r < 0)
                return r;
        if (m->ops) {
                json_t *part = st->issuer;
                if (st->issuer_type && !streq(st->issuer_type, m->ops->name)) {
                        log_cert(LOG_NOTICE, m->name, "the issuer changed from %s to %s: the %s issuer's progress is "
                                 "dropped", st->issuer_type, m->ops->name, st->issuer_type);
                        part = NULL;
                }
                r = m->ops->state_load(part, &is, ret_error);
                if (r < 0) {
                        if (*ret_error) {
                                char *e = strprintf("%s/certs/%s/state.json: the %s issuer's part is invalid (%s); move "
                                                    "the file aside to start this certificate afresh",
                                                    state_dir(m), m->name, m->ops->name, *ret_error);
                                free(*ret_error);
                                *ret_error = e;
                        }
                        return r;
                }
        }
        /* A state from before the digests (acm-agent 0.1): the served
         * certificate is taken as made for the configuration as it is. */
        if (st->served.serial && !st->issued_for && machine_fingerprint(m, false))
                (void) state_set_string(&st->issued_for, machine_fingerprint(m, false));
        if (st->served.serial && !st->deployed_for && machine_fingerprint(m, true))
                (void) state_set_string(&st->deployed_for, machine_fingerprint(m, true));
        if (m->istate && m->ops)
                m->ops->state_free(m->istate);
        m->istate = is;
        cert_state_free(m->st);
        m->st = TAKE_PTR(st);
        return 0;
}

/* ---- deciding ---- */

static void decide(machine *m, sched_decision *d) {
        engine *e = m->e;
        cert_state *st = m->st;
        const char *fp;
        bool have_current = false;

        sched_input in = {
                .schedule = &m->cert->schedule,
                .st = st,
                .hash = sched_hash(e->machine_id, m->name),
                .now = clock_now(),
                .renews = !m->ops || m->ops->renews,
                .watches = m->ops && m->ops->watch,
                .deploys = deploys(m),
                .issuer_in_flight = m->ops && m->istate && m->ops->state_in_flight(m->istate),
                .force = e->opts.command == ENGINE_CMD_RENEW && e->opts.force && !m->forced,
                .ignore_backoff = e->opts.command == ENGINE_CMD_RENEW && !m->forced,
                .revoke = e->opts.command == ENGINE_CMD_REVOKE && !m->forced,
                .watch_now = m->watch_now || (m->ops && m->ops->watch_each_pass && e->opts.mode == ENGINE_ONCE),
        };
        if (st->served.serial && in.deploys) {
                _cleanup_(freep) char *id = NULL;
                int r;
                if (m->pre_cur_ready) {
                        /* read on a worker right after the state this
                         * decision is made on (engine_run_once) */
                        m->pre_cur_ready = false;
                        r = m->pre_cur_r;
                        id = TAKE_PTR(m->pre_cur_id);
                } else
                        r = deploy_current_peek(&m->cert->output, &id);
                have_current = r >= 0 && (!st->served.version || streq(id, st->served.version));
        }
        in.have_current = have_current;
        if (st->served.serial && st->issued_for && (fp = machine_fingerprint(m, false)))
                in.issued_for_changed = !streq(fp, st->issued_for);
        if (st->served.serial && st->deployed_for && (fp = machine_fingerprint(m, true)))
                in.deployed_for_changed = !streq(fp, st->deployed_for);
        /* can the served certificate be deployed again without AWS? */
        if (st->served.serial && in.deploys && (!have_current || in.deployed_for_changed))
                in.served_pem = st->served.cert_pem || store_pem_exists(state_dir(m), m->name, st->served.serial);
        if (m->cert->n_reload_window > 0) {
                time_t open = 0, close = 0;
                if (conf_window_next(m->cert->reload_window, m->cert->n_reload_window, in.now, &open, &close) >= 0 &&
                    open > in.now)
                        in.window_opens = open;
        }
        sched_decide(&in, d);
}

time_t machine_next_wake(machine *m) {
        sched_decision d;

        if (!m->st)
                return 0;
        decide(m, &d);
        switch (d.action) {
        case SCHED_NONE:
        case SCHED_BACKOFF:
        case SCHED_WAIT:
                return d.when;
        case SCHED_REVOKED:
                return 0;
        default:
                return clock_now();
        }
}

static char *describe_plan(machine *m, const sched_decision *d) {
        const cert_state *st = m->st;
        char t[21], u[21];

        switch (d->action) {
        case SCHED_ISSUE:
                if (d->reason == ISSUE_NEW)
                        return strprintf("issue: no certificate deployed in %s yet", m->cert->output.dir);
                if (d->reason == ISSUE_RESUME)
                        return strprintf("resume: an interrupted issuance (%s) is finished",
                                         cert_phase_to_string(st->phase));
                if (d->renew_at && clock_now() >= d->renew_at && !st->force_renewal)
                        return strprintf("renew: serial %s is due since %s", st->served.serial,
                                         clock_format_rfc3339(d->renew_at, t));
                return strprintf("renew: %s (serial %s)", d->why, st->served.serial);
        case SCHED_DEPLOY:
                return strprintf("deploy: the verified certificate %s is written", st->pending.serial);
        case SCHED_REDEPLOY:
                return strprintf("redeploy: %s (serial %s)", d->why, st->served.serial);
        case SCHED_RELOAD:
                return strprintf("resume: an interrupted deploy/reload (%s) is finished", st->served.serial);
        case SCHED_WATCH:
                return strprintf("check: %s (serial %s)", d->why, st->served.serial);
        case SCHED_REVOKE:
                return strprintf("revoke: serial %s", st->served.serial);
        case SCHED_BACKOFF:
                return strprintf("backoff: %s (%s); next attempt at %s", d->why,
                                 st->last_error ? st->last_error : "?", clock_format_rfc3339(d->when, t));
        case SCHED_WAIT:
                return strprintf("waiting: %s; checked again at %s", st->wait_reason ? st->wait_reason : "?",
                                 clock_format_rfc3339(d->when, t));
        case SCHED_REVOKED:
                return strprintf("revoked: serial %s was revoked; run 'acm-agent renew %s' to issue a replacement",
                                 st->revoked_serial ? st->revoked_serial : "?", m->name);
        default:
                return strprintf("nothing to do: serial %s valid until %s, renewal at %s", st->served.serial,
                                 clock_format_rfc3339(st->served.not_after, u),
                                 d->renew_at ? clock_format_rfc3339(d->renew_at, t) : "never (renewed elsewhere)");
        }
}

/* ---- results ---- */

void machine_result_refresh(machine *m) {
        engine_result *r = &m->res;
        const cert_state *st = m->st;

        r->name = m->name;
        r->issuer = conf_issuer_type_to_string(m->cert->issuer_type);
        r->action = m->action;
        r->changed = m->changed;
        r->phase = st ? cert_phase_to_string(st->phase) : NULL;
        r->serial = st ? st->served.serial : NULL;
        r->arn = st ? st->served.arn : NULL;
        r->not_after = st ? st->served.not_after : 0;
        r->renew_at = st && st->served.serial && (!m->ops || m->ops->renews)
                              ? sched_renew_at(&m->cert->schedule, st->served.not_before, st->served.not_after,
                                               sched_hash(m->e->machine_id, m->name))
                              : 0;
        r->next_attempt = st && (st->phase == PHASE_BACKOFF || st->phase == PHASE_RELOAD) ? st->wake_at : 0;
        r->wake_at = m->wake_at;
        r->error = m->error;
        r->wait_reason = st && (st->phase == PHASE_WAITING || st->phase == PHASE_DEPLOY) ? st->wait_reason : NULL;
        r->waiting_until = r->wait_reason ? st->wake_at : 0;
        r->plan = m->plan;
        r->last_success = st ? st->last_success : 0;
        r->last_attempt = st ? st->last_attempt : 0;
        r->failures = st ? st->failures : 0;
        r->last_error = st ? st->last_error : NULL;
        r->last_error_kind = st && st->last_error ? st->last_error_kind : NULL;
        r->danger = sched_danger_to_string(st ? sched_danger_at(st->served.not_before, st->served.not_after,
                                                                r->renew_at, clock_now()) : SCHED_SAFE);
        r->revoked_serial = st ? st->revoked_serial : NULL;
        r->revoke_reason = st ? st->revoke_reason : NULL;
        r->revoked_at = st ? st->revoked_at : 0;
        r->in_flight = st && (cert_phase_in_flight(st->phase) || st->pending.serial || st->revoke_request ||
                              (m->ops && m->istate && m->ops->state_in_flight(m->istate)));
        r->issuer_state = st ? st->issuer : NULL;
}

static void set_error(machine *m, const char *msg) {
        set_owned(&m->error, msg ? strdup(msg) : NULL);
}

/* ---- settling ---- */

static void unlock(machine *m) {
        m->lock_fd = safe_close(m->lock_fd);
}

/* Settled, a machine needs none of its certificates in memory: its next
 * wake reads the state again (machine_load(), without them), and a step
 * that needs one reads it from the store (version_pem()). Kept, a pass
 * that issued a thousand held 2 MiB of PEM to its end. */
static void drop_pems(cert_state *st) {
        cert_version *vs[] = { &st->served, &st->previous, &st->pending };

        for (size_t i = 0; i < ELEMENTSOF(vs); i++) {
                vs[i]->cert_pem = (free(vs[i]->cert_pem), NULL);
                vs[i]->chain_pem = (free(vs[i]->chain_pem), NULL);
        }
}

static void settle(machine *m) {
        if (m->e->opts.mode == ENGINE_ONCE && m->validation_hook) {
                /* the pass ends when every machine has settled, and its end
                 * would kill the pending_validation hook: it finishes first
                 * (it has its timeout) */
                m->busy = BUSY_HOOK;
                m->settle_after_hook = true;
                return;
        }
        m->busy = BUSY_NONE;
        m->op = OP_NONE;
        slot_release(m);
        m->sleep_timer = sd_event_source_disable_unref(m->sleep_timer);
        if (m->st)
                drop_pems(m->st);
        unlock(m);
        if (m->e->opts.mode != ENGINE_DAEMON)
                m->wake_at = 0;
        else if (m->action == ENGINE_ACTION_LOCKED)
                m->wake_at = clock_now() + ENGINE_LOCKED_RETRY_SEC;  /* another process works on it */
        else
                m->wake_at = machine_next_wake(m);
        machine_result_refresh(m);
        engine_machine_settled(m->e, m);
}

static void on_hook_done(hook_process *p _unused_, const hook_result *r, void *userdata);

static void on_hook_error_saved(machine *m, int r) {
        if (r < 0)
                log_cert(LOG_ERR, m->name, "cannot save the state after the hook failed: %s", strerror(-r));
        settle(m);
}

static void on_hook_done(hook_process *p _unused_, const hook_result *r, void *userdata) {
        machine *m = userdata;
        char buf[128];

        m->hook = hook_process_unref(m->hook);
        if (r->outcome == HOOK_EXITED && r->status == 0)
                return settle(m);
        log_cert(LOG_WARNING, m->name, "hook failed: %s", hook_result_describe(r, buf, sizeof(buf)));
        /* hooks/README.md: a failed deploy hook is shown in `status` and
         * leaves the certificate valid (its last error, cleared by the next
         * success); a failed failure hook is logged only. */
        if (m->action == ENGINE_ACTION_FAILED)
                return settle(m);
        _cleanup_(freep) char *msg = strprintf("deploy hook failed: %s", buf);
        (void) state_set_string(&m->st->last_error, msg ? msg : "deploy hook failed");
        (void) state_set_string(&m->st->last_error_kind, "hook");
        engine_persist(m, NULL, on_hook_error_saved);
}

/* Runs the hook for ev (if configured), then settles. */
static void hook_then_settle(machine *m, hook_event ev) {
        cert_state *st = m->st;
        char na[21] = "";
        hook_cert_info info = {
                .serial = st->served.serial,
                .not_after = st->served.not_after ? clock_format_rfc3339(st->served.not_after, na) : NULL,
                .arn = st->served.arn,
                .issuer = conf_issuer_type_to_string(m->cert->issuer_type),
                .error = ev == HOOK_EVENT_FAILED ? m->error : NULL,
        };
        int r;

        r = hook_run_event(m->e->loop, ev, m->cert, &info, on_hook_done, m, &m->hook);
        if (r < 0)
                log_cert(LOG_WARNING, m->name, "cannot run the %s hook: %s", hook_event_to_string(ev), strerror(-r));
        if (r < 0 || !m->hook)
                return settle(m);
        m->busy = BUSY_HOOK;
}

static void on_validation_hook_done(hook_process *p _unused_, const hook_result *r, void *userdata) {
        machine *m = userdata;
        char buf[128];

        if (r->outcome != HOOK_EXITED || r->status != 0)
                log_cert(LOG_WARNING, m->name, "the pending_validation hook failed: %s",
                         hook_result_describe(r, buf, sizeof(buf)));
        m->validation_hook = hook_process_unref(m->validation_hook);
        if (m->settle_after_hook) {
                m->settle_after_hook = false;
                settle(m);
        }
}

void machine_hook_pending_validation(machine *m, const char *arn, const char *records) {
        hook_cert_info info = {
                .arn = arn ? arn : m->st->served.arn,
                .issuer = conf_issuer_type_to_string(m->cert->issuer_type),
                .validation = records,
        };
        int r;

        _cleanup_(freep) char *flat = strdup(records ? records : "");
        for (char *p = flat; p && *p; p++)
                if (*p == '\n')
                        *p = p[1] ? ';' : 0;
        log_event(m, LOG_NOTICE, LOG_MESSAGE_VALIDATION_PENDING,
                  (const char *const[]) { "CERT_ARN", m->st->served.arn, "DNS_PROVIDER",
                                          m->cert->dns.provider == CONF_DNS_ROUTE53 ? "route53" :
                                          m->cert->dns.provider == CONF_DNS_EXEC ? "exec" :
                                          m->cert->dns.provider == CONF_DNS_MANUAL ? "manual" : NULL,
                                          "VALIDATION_RECORDS", flat, NULL },
                  "waiting for DNS validation of %s", flat && flat[0] ? flat : "its records");
        if (m->validation_hook) {
                log_cert(LOG_INFO, m->name, "the pending_validation hook is still running; not started again");
                return;
        }
        r = hook_run_event(m->e->loop, HOOK_EVENT_PENDING_VALIDATION, m->cert, &info, on_validation_hook_done, m,
                           &m->validation_hook);
        if (r < 0)
                log_cert(LOG_WARNING, m->name, "cannot run the pending_validation hook: %s", strerror(-r));
}

/* ---- failures ---- */

static void on_fail_saved(machine *m, int r) {
        if (r < 0)
                log_cert(LOG_ERR, m->name, "cannot save the state after the failure: %s", strerror(-r));
        hook_then_settle(m, HOOK_EVENT_FAILED);
}

static void fail(machine *m, const char *kind, const char *msg) {
        cert_state *st = m->st;
        time_t now = clock_now();
        uint64_t rnd = 0;
        sched_danger danger;
        time_t renew_at;
        char left[32], t[21];

        /* a revoke from its saved request to AWS's answer */
        bool revoking = st->revoke_request != NULL;

        cancel_op(m);
        set_error(m, msg);
        m->action = ENGINE_ACTION_FAILED;
        if (revoking && m->e->opts.command == ENGINE_CMD_REVOKE)
                /* the operator saw this revoke fail: later runs do not
                 * retry it on their own (revoke again once fixed); a saved
                 * revoke resumed by a later run stays, retried with backoff */
                (void) state_set_string(&st->revoke_request, NULL);
        st->failures++;
        st->last_attempt = now;
        (void) state_set_string(&st->last_error, msg);
        (void) state_set_string(&st->last_error_kind, kind);
        (void) state_set_string(&st->wait_reason, NULL);
        renew_at = sched_renew_at(&m->cert->schedule, st->served.not_before, st->served.not_after,
                                  sched_hash(m->e->machine_id, m->name));
        danger = sched_danger_at(st->served.not_before, st->served.not_after, renew_at, now);
        (void) random_bytes(&rnd, sizeof(rnd));
        st->wake_at = sched_retry_at(&m->cert->schedule, st->failures, now, rnd, danger);
        if (st->phase != PHASE_RELOAD)
                st->phase = PHASE_BACKOFF;
        /* a failed revoke asks for no renewal: with key.reuse it would
         * serve the key the revoke was for */
        if (m->forced && !revoking)
                st->force_renewal = true;
        format_duration(st->served.not_after > now ? (uint64_t) (st->served.not_after - now) : 0, left, sizeof(left));
        char fl[16], na[21] = "";
        snprintf(fl, sizeof(fl), "%u", st->failures);
        if (st->served.not_after)
                clock_format_rfc3339(st->served.not_after, na);
        const char *const kv[] = {
                "ERROR_KIND", kind, "ERROR", msg, "FAILURES", fl, "NEXT_ATTEMPT", clock_format_rfc3339(st->wake_at, t),
                "NOT_AFTER", na[0] ? na : NULL, "AWS_OPERATION", m->aws_operation, "AWS_ERROR", m->aws_error,
                "AWS_REQUEST_ID", m->aws_request_id, NULL,
        };
        log_event(m, danger == SCHED_SAFE || danger == SCHED_WARNING ? LOG_ERR : LOG_CRIT, LOG_MESSAGE_FAILED, kv,
                  "%s (next attempt at %s)", msg, t);
        if (danger != SCHED_SAFE) {
                char days[24]; /* a long long in decimal: 20 characters and the NUL */
                snprintf(days, sizeof(days), "%lld",
                         (long long) (st->served.not_after > now ? (st->served.not_after - now) / 86400 : 0));
                log_event(m, danger == SCHED_WARNING ? LOG_WARNING : LOG_CRIT, LOG_MESSAGE_EXPIRING,
                          (const char *const[]) { "SERIAL", st->served.serial, "NOT_AFTER", na, "DAYS_LEFT", days,
                                                  "ERROR", msg, NULL },
                          "%s: the served certificate %s%s and its renewal keeps failing",
                          danger == SCHED_WARNING ? "WARNING" : "CRITICAL",
                          danger == SCHED_EXPIRED ? "has EXPIRED" : "expires in ",
                          danger == SCHED_EXPIRED ? "" : left);
        }
        m->aws_operation = (free(m->aws_operation), NULL);
        m->aws_error = (free(m->aws_error), NULL);
        m->aws_request_id = (free(m->aws_request_id), NULL);
        engine_persist(m, NULL, on_fail_saved);
}

void machine_fail(machine *m, const char *kind, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        fail(m, kind, msg ? msg : "out of memory");
}

void machine_fail_aws(machine *m, const aws_error *err, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        char kind[64];
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        set_owned(&m->aws_operation, strprintf("%s:%s", err->service, err->operation));
        set_owned(&m->aws_error, strdup(err->type));
        set_owned(&m->aws_request_id, err->request_id ? strdup(err->request_id) : NULL);
        snprintf(kind, sizeof(kind), "aws:%s", aws_error_kind_to_string(err->kind));
        fail(m, kind, msg ? msg : "out of memory");
}

/* ---- persisting for issuers ---- */

static void on_issuer_persisted(machine *m, int r) {
        void (*then)(machine *, void *) = m->persist_then;
        void *ud = m->persist_userdata;

        m->busy = BUSY_ISSUER;
        m->persist_then = NULL;
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot save the state in %s/certs/%s: %s", state_dir(m),
                                                       m->name, strerror(-r));
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        if (m->e->stopping) {
                /* the progress is on disk: the next start resumes from it */
                cancel_op(m);
                return settle(m);
        }
        then(m, ud);
}

void machine_persist(machine *m, cert_phase phase, void (*then)(machine *m, void *userdata), void *userdata) {
        if (phase != PHASE_KEY && phase != PHASE_REQUEST)
                slot_release(m);  /* the request is answered */
        m->st->phase = phase;
        m->persist_then = then;
        m->persist_userdata = userdata;
        engine_persist(m, NULL, on_issuer_persisted);
}

/* ---- keys for issuers ---- */

static void on_key(int r, EVP_PKEY *key, bool fresh, const char *what, void *userdata) {
        machine *m = userdata;
        void (*then)(machine *, EVP_PKEY *, void *) = m->key_then;

        m->key_job = NULL;
        m->busy = BUSY_ISSUER;
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("%s failed: %s", what ? what : "the key", strerror(-r));
                return fail(m, "key", msg ? msg : "key failed");
        }
        if (fresh)
                testpoint_hit("key-generated", m->name);
        if (m->e->stopping) {
                EVP_PKEY_free(key);
                cancel_op(m);
                return settle(m);
        }
        then(m, key, m->key_userdata);
}

void machine_key(machine *m, void (*then)(machine *m, EVP_PKEY *key, void *userdata), void *userdata) {
        worker_pool *pool;
        int r;

        m->key_then = then;
        m->key_userdata = userdata;
        r = engine_workers(m->e, &pool);
        if (r >= 0)
                r = store_key_acquire(pool, state_dir(m), m->name, &m->cert->key, m->cert->key.reuse, on_key, m,
                                      &m->key_job);
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot start the key generation: %s", strerror(-r));
                return fail(m, "key", msg ? msg : "key failed");
        }
        m->busy = BUSY_KEY;
}

/* ---- finishing ---- */

static void on_valid_saved(machine *m, int r) {
        cert_state *st = m->st;
        char na[21];

        if (r < 0) {
                /* the disk still says deploy/reload pending: the next run
                 * reloads again, so this is no success */
                _cleanup_(freep) char *msg = strprintf(
                        "serial %s is deployed and reloaded, but the state file %s/certs/%s/state.json cannot be "
                        "saved: %s", st->served.serial ? st->served.serial : "?", state_dir(m), m->name, strerror(-r));
                m->changed = true;
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        testpoint_hit("valid-saved", m->name);
        m->action = m->had_cert ? ENGINE_ACTION_RENEWED : ENGINE_ACTION_ISSUED;
        m->changed = true;
        set_error(m, NULL);
        if (st->served.not_after)
                clock_format_rfc3339(st->served.not_after, na);
        else
                na[0] = 0;
        log_event(m, LOG_NOTICE, m->had_cert ? LOG_MESSAGE_RENEWED : LOG_MESSAGE_ISSUED,
                  (const char *const[]) { "SERIAL", st->served.serial, "NOT_AFTER", na[0] ? na : NULL,
                                          "CERT_ARN", st->served.arn, "OLD_SERIAL", m->old_serial, NULL },
                  "%s serial %s, valid until %s", m->had_cert ? "renewed:" : "issued:",
                  st->served.serial ? st->served.serial : "?", na[0] ? na : "?");
        hook_then_settle(m, HOOK_EVENT_DEPLOYED);
}

static void finish_valid(machine *m) {
        cert_state *st = m->st;
        persist_request req = { .promote = true, .gc_pems = true, .fail_point = "final-save" };
        _cleanup_(freep) char *revoked_version = NULL;

        /* the revoked version leaves the output directory once its
         * replacement is served (on the worker, before the state that
         * forgets it), also when the run that revoked was killed */
        if (st->revoked_version && !(st->served.version && streq(st->revoked_version, st->served.version))) {
                revoked_version = TAKE_PTR(st->revoked_version);
                if (deploys(m))
                        req.remove_version = revoked_version;
        }

        st->phase = PHASE_VALID;
        st->failures = 0;
        st->last_success = clock_now();
        st->force_renewal = false;
        st->wake_at = m->watch_at;
        m->watch_at = 0;
        (void) state_set_string(&st->last_error, NULL);
        (void) state_set_string(&st->last_error_kind, NULL);
        (void) state_set_string(&st->wait_reason, NULL);
        cert_version_done(&st->previous);
        engine_persist(m, &req, on_valid_saved);
}

/* ---- reload ---- */

void machine_reloaded(machine *m, int r, const char *reason, bool rolled_back) {
        _cleanup_(freep) char *msg = NULL;

        m->busy = BUSY_NONE;
        if (r >= 0)
                return finish_valid(m);
        if (rolled_back)
                /* the state describes what is served again (saved by machine_rollback) */
                msg = strprintf("reload failed, rolled back to version %s: %s",
                                m->st->served.version ? m->st->served.version : "?", reason ? reason : "unknown reason");
        else {
                /* nothing to roll back to: the new files stay and the reload
                 * is retried (the phase stays RELOAD) */
                msg = strprintf("the new certificate is deployed but the reload failed (retried later): %s",
                                reason ? reason : "unknown reason");
                m->changed = true;
        }
        fail(m, "reload", msg ? msg : "reload failed");
}

int machine_rollback(machine *m, const char *version, char *err, size_t errlen) {
        cert_state *st = m->st;
        int r;

        r = deploy_rollback(&m->cert->output, version, err, errlen);
        if (r < 0)
                return r;
        /* saved at once (a rare path: the loop may wait for the disk here), so
         * a kill before the batch ends does not leave the new serial recorded
         * as served */
        if (st->previous.serial) {
                cert_version_move(&st->served, &st->previous);
                (void) state_set_string(&st->deployed_for, NULL);
        }
        st->phase = PHASE_BACKOFF;
        r = store_save(state_dir(m), m->name, st);
        if (r < 0)
                log_cert(LOG_ERR, m->name, "cannot save the state after the rollback to %s: %s", version, strerror(-r));
        testpoint_hit("rolled-back", m->name);
        return 0;
}

static void on_reload_pending_saved(machine *m, int r) {
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf(
                        "cannot save the state after deploying %s: %s; the reload is retried at the next attempt",
                        m->st->served.version ? m->st->served.version : "?", strerror(-r));
                m->changed = true;
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        r = engine_reload_enqueue(m->e, m);
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot queue the reload (retried later): %s", strerror(-r));
                return fail(m, "reload", msg ? msg : "cannot queue the reload");
        }
}

/* ---- deploy ---- */

static void on_deployed(machine *m, int r, const char *version, const char *previous, const char *error) {
        cert_state *st = m->st;

        m->busy = BUSY_NONE;
        if (r < 0) {
                /* the verified certificate stays pending: the next attempt
                 * deploys it without asking AWS again */
                _cleanup_(freep) char *msg = strprintf("deploy failed: %s", error ? error : strerror(-r));
                return fail(m, "deploy", msg ? msg : "deploy failed");
        }
        log_cert(LOG_INFO, m->name, "deployed version %s (serial %s)", version, st->pending.serial);
        free(m->old_serial);
        m->old_serial = st->served.serial ? strdup(st->served.serial) : NULL;
        /* a revoked certificate is never a rollback target: read from the
         * saved state, so a deploy resumed by a later run decides alike */
        if (sched_served_revoked(st) || !st->served.serial)
                cert_version_done(&st->previous);
        else {
                cert_version_move(&st->previous, &st->served);
                (void) state_set_string(&st->previous.version, previous);
        }
        cert_version_move(&st->served, &st->pending);
        (void) state_set_string(&st->served.version, version);
        (void) state_set_string(&st->deployed_for, machine_fingerprint(m, true));
        if (!has_reload(m))
                return finish_valid(m);
        st->phase = PHASE_RELOAD;
        st->wake_at = 0;
        persist_request req = { .fail_point = "deploy-save", .kill_point = "reload-pending" };
        engine_persist(m, &req, on_reload_pending_saved);
}

/* Deploys st->pending with key. */
static void deploy_pending(machine *m, EVP_PKEY *key) {
        const cert_version *p = &m->st->pending;
        deploy_request req = { .key = key, .cert_pem = p->cert_pem, .chain_pem = p->chain_pem, .serial = p->serial };

        engine_deploy(m, &req, on_deployed);
}

/* True when key belongs to the certificate cert_pem. */
static bool key_fits(EVP_PKEY *key, const char *cert_pem) {
        return crypto_key_matches_cert(key, cert_pem) > 0;
}

/* Loads v's certificate from the store when it is not in memory. */
static int version_pem(machine *m, cert_version *v) {
        if (v->cert_pem)
                return 0;
        return store_pem_load(state_dir(m), m->name, v->serial, &v->cert_pem, &v->chain_pem);
}

static void start_deploy(machine *m) {
        _cleanup_(crypto_pkey_freep) EVP_PKEY *key = NULL;
        int r;

        r = version_pem(m, &m->st->pending);
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("the verified certificate %s is missing from %s/certs/%s (%s); "
                                                       "a new one will be requested", m->st->pending.serial,
                                                       state_dir(m), m->name, strerror(-r));
                cert_version_done(&m->st->pending);
                return fail(m, "state", msg ? msg : "the pending certificate is missing");
        }
        r = store_key_load(state_dir(m), m->name, STORE_KEY_PENDING, &key);
        if (r < 0 || !key_fits(key, m->st->pending.cert_pem)) {
                /* promoted already (a kill between promotion and the save) */
                EVP_PKEY_free(TAKE_PTR(key));
                r = store_key_load(state_dir(m), m->name, STORE_KEY_SERVED, &key);
                if (r >= 0 && !key_fits(key, m->st->pending.cert_pem))
                        r = -EKEYREJECTED;
        }
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf(
                        "the key of the pending certificate %s is missing or unusable (%s); the certificate is "
                        "abandoned and a new one will be requested", m->st->pending.serial, strerror(-r));
                cert_version_done(&m->st->pending);
                return fail(m, "key", msg ? msg : "key missing");
        }
        log_cert(LOG_INFO, m->name, "deploying the verified certificate %s", m->st->pending.serial);
        deploy_pending(m, key);
}

typedef struct issued_ctx {
        EVP_PKEY *key;
} issued_ctx;

static void on_hold_saved(machine *m, int r) {
        if (r < 0)
                log_cert(LOG_ERR, m->name, "cannot save the state: %s", strerror(-r));
        m->action = ENGINE_ACTION_WAITING;
        set_error(m, NULL);
        settle(m);
}

/* The maintenance window: a renewed certificate verified and saved waits
 * for the next opening (the DEPLOY phase with its reason); when the served
 * one expires too soon it goes now, and the log says why. Returns true when
 * held (the machine settles). */
static bool window_holds(machine *m) {
        sched_decision d;
        char t[21];

        if (m->cert->n_reload_window == 0 || m->forced)
                return false;  /* an operator's renew or revoke deploys at once */
        decide(m, &d);
        if (d.action == SCHED_WAIT) {
                _cleanup_(freep) char *why = strprintf("the renewed certificate %s is held for the maintenance "
                                                       "window, which opens at %s", m->st->pending.serial,
                                                       clock_format_rfc3339(d.when, t));
                log_cert(LOG_NOTICE, m->name, "%s", why ? why : "held for the maintenance window");
                (void) state_set_string(&m->st->wait_reason, why);
                engine_persist(m, NULL, on_hold_saved);
                return true;
        }
        if (m->st->served.serial) {
                time_t open = 0, close = 0;
                if (conf_window_next(m->cert->reload_window, m->cert->n_reload_window, clock_now(), &open, &close) >= 0 &&
                    open > clock_now())
                        log_cert(LOG_NOTICE, m->name, "deploying outside the maintenance window (it opens at %s): the "
                                 "served certificate expires %s, before the window opens plus a day",
                                 clock_format_rfc3339(open, t),
                                 clock_format_rfc3339(m->st->served.not_after, (char[21]) {}));
        }
        return false;
}

static void on_deploy_saved(machine *m, int r) {
        EVP_PKEY *key = TAKE_PTR(m->deploy_key);  /* held across the save */

        if (r < 0) {
                EVP_PKEY_free(key);
                _cleanup_(freep) char *msg = strprintf("cannot save the verified certificate %s in the state: %s",
                                                       m->st->pending.serial, strerror(-r));
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        testpoint_hit("deploy-saved", m->name);
        if (m->e->stopping) {
                EVP_PKEY_free(key);
                return settle(m);  /* resumed from DEPLOY at the next start */
        }
        if (window_holds(m)) {
                EVP_PKEY_free(key);
                return;
        }
        deploy_pending(m, key);
        EVP_PKEY_free(key);
}

void machine_issued(machine *m, const issued_cert *ic) {
        _cleanup_(freep) char *reason = NULL;
        cert_state *st = m->st;
        cert_expect want = {};
        deploy_verified v = {};
        int r;

        r = m->ops->expect(m->cert, m->istate, &want);
        if (r >= 0)
                r = deploy_verify(&want.want, ic->key, ic->cert_pem, ic->chain_pem, ic->anchor_pem, ic->trust_store,
                                  clock_now(), &v, &reason);
        cert_expect_done(&want);
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf(
                        "certificate %s failed verification: %s; not deployed, the current files stay",
                        ic->arn ? ic->arn : "?", reason ? reason : strerror(-r));
                /* that certificate is unusable: its request is not resumed */
                cancel_op(m);
                m->ops->state_reset(m->istate);
                return fail(m, "verify", msg ? msg : "verification failed");
        }
        m->watch_at = ic->watch_at;
        EVP_PKEY_up_ref(ic->key);
        EVP_PKEY_free(m->deploy_key);
        m->deploy_key = ic->key;
        persist_request req = { .save_pending_key = ic->key_is_pending ? NULL : ic->key };
        cert_version_done(&st->pending);
        st->pending = (cert_version) {
                .serial = TAKE_PTR(v.serial),
                .arn = ic->arn ? strdup(ic->arn) : NULL,
                .not_before = v.not_before,
                .not_after = v.not_after,
                .cert_pem = TAKE_PTR(v.cert_pem),
                .chain_pem = TAKE_PTR(v.chain_pem),
        };
        deploy_verified_done(&v);
        (void) state_set_string(&st->issued_for, machine_fingerprint(m, false));
        /* the issuer's request is done: from here on the pending certificate
         * (and its key) is what a restart resumes with */
        cancel_op(m);
        m->ops->state_reset(m->istate);
        st->phase = PHASE_DEPLOY;
        engine_persist(m, &req, on_deploy_saved);
}

void machine_served(machine *m, const char *serial, const char *arn, time_t not_before, time_t not_after) {
        cert_state *st = m->st;

        cancel_op(m);
        cert_version_done(&st->served);
        st->served.serial = serial ? strdup(serial) : NULL;
        st->served.arn = arn ? strdup(arn) : NULL;
        st->served.not_before = not_before;
        st->served.not_after = not_after;
        (void) state_set_string(&st->issued_for, machine_fingerprint(m, false));
        m->ops->state_reset(m->istate);
        finish_valid(m);
}

/* ---- waiting and watching ---- */

static int on_sleep_done(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        machine *m = userdata;

        m->sleep_timer = sd_event_source_disable_unref(m->sleep_timer);
        m->busy = BUSY_NONE;
        machine_wake(m);
        return 0;
}

static void on_wait_saved(machine *m, int r) {
        engine *e = m->e;
        time_t now = clock_now(), until = m->st->wake_at;
        uint64_t max = e->opts.once_wait_max ? e->opts.once_wait_max : ENGINE_ONCE_WAIT_MAX_DEFAULT;

        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot save the state: %s", strerror(-r));
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        uint64_t wait = until > now ? (uint64_t) (until - now) : 0;
        if (e->opts.mode == ENGINE_ONCE && !e->stopping && m->once_waited + (wait ? wait : 1) <= max) {
                /* a short wait: this pass sits it out (the lock is kept), up
                 * to once_wait_max in all, so a pass always ends */
                uint64_t mono;
                m->once_waited += wait ? wait : 1;
                (void) sd_event_now(e->loop, CLOCK_MONOTONIC, &mono);
                r = sd_event_add_time(e->loop, &m->sleep_timer, CLOCK_MONOTONIC,
                                      mono + (uint64_t) (until > now ? until - now : 0) * USEC_PER_SEC,
                                      USEC_PER_MSEC * 100, on_sleep_done, m);
                if (r >= 0) {
                        m->busy = BUSY_SLEEP;
                        return;
                }
        }
        m->action = ENGINE_ACTION_WAITING;
        set_error(m, NULL);
        settle(m);
}

void machine_wait(machine *m, time_t until, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        cert_state *st = m->st;
        char t[21];
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        cancel_op(m);
        st->phase = PHASE_WAITING;
        st->wake_at = until;
        (void) state_set_string(&st->wait_reason, msg ? msg : "waiting");
        log_cert(LOG_INFO, m->name, "waiting until %s: %s", clock_format_rfc3339(until, t), msg ? msg : "?");
        engine_persist(m, NULL, on_wait_saved);
}

static void on_watched_saved(machine *m, int r) {
        if (r < 0)
                log_cert(LOG_ERR, m->name, "cannot save the state after the check: %s", strerror(-r));
        if (m->action != ENGINE_ACTION_FAILED)
                m->action = ENGINE_ACTION_NONE;
        settle(m);
}

void machine_watched(machine *m, time_t next_check) {
        cert_state *st = m->st;

        cancel_op(m);
        st->phase = PHASE_VALID;
        st->wake_at = next_check;
        st->failures = 0;
        (void) state_set_string(&st->last_error, NULL);
        (void) state_set_string(&st->last_error_kind, NULL);
        (void) state_set_string(&st->wait_reason, NULL);
        engine_persist(m, NULL, on_watched_saved);
}

void machine_renewal_ready(machine *m, const char *why) {
        log_cert(LOG_NOTICE, m->name, "a new certificate is ready: %s", why ? why : "?");
        cancel_op(m);
        start_issue(m, ISSUE_RENEW);
}

/* ---- revoking ---- */

static void on_revoked_saved(machine *m, int r) {
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("revoked, but the state cannot be saved (%s): run "
                                                       "'acm-agent renew %s --force'", strerror(-r), m->name);
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        if (m->st->phase == PHASE_REVOKED) {
                m->action = ENGINE_ACTION_REVOKED;
                _cleanup_(freep) char *msg = strprintf("serial %s is revoked and still served; run 'acm-agent renew %s' "
                                                       "to issue a replacement", m->st->revoked_serial, m->name);
                set_error(m, msg);
                return settle(m);
        }
        start_issue(m, ISSUE_REPLACE);
}

void machine_revoked(machine *m, bool already) {
        cert_state *st = m->st;
        persist_request req = { .delete_keys = true };
        bool no_replace = st->revoke_request_no_replace;

        testpoint_hit("revoke-answered", m->name);
        cancel_op(m);
        /* the request becomes the record of what was revoked */
        free(st->revoke_reason);
        st->revoke_reason = TAKE_PTR(st->revoke_request);
        st->revoke_request_no_replace = false;
        (void) state_set_string(&st->revoked_serial, st->served.serial);
        (void) state_set_string(&st->revoked_version, st->served.version);
        st->revoked_at = clock_now();
        log_event(m, LOG_NOTICE, LOG_MESSAGE_REVOKED,
                  (const char *const[]) { "SERIAL", st->served.serial, "CERT_ARN", st->served.arn, "REVOKE_REASON",
                                          st->revoke_reason, NULL },
                  "serial %s %s (%s); its key is discarded%s", st->served.serial,
                  already ? "was already revoked" : "revoked", st->revoke_reason ? st->revoke_reason : "?",
                  no_replace ? "" : "; issuing a replacement with a new key");
        if (no_replace) {
                st->phase = PHASE_REVOKED;
                st->wake_at = 0;
        } else {
                /* a crash before the replacement is served leaves a state the
                 * next run replaces at once */
                st->phase = PHASE_BACKOFF;
                st->wake_at = 0;
                st->force_renewal = true;
        }
        engine_persist(m, &req, on_revoked_saved);
}

/* ---- starting ---- */

static void issue_now(machine *m) {
        int r = m->ops->issue(m, m->reason);

        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot start the %s issuer: %s", m->ops->name, strerror(-r));
                fail(m, "internal", msg ? msg : "cannot start");
        }
}

static void on_issue_start_saved(machine *m, int r) {
        m->busy = BUSY_ISSUER;
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot save the state in %s/certs/%s: %s", state_dir(m),
                                                       m->name, strerror(-r));
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        testpoint_hit("issue-started", m->name);
        if (m->e->stopping)
                return settle(m);
        issue_now(m);
}

static void start_issue(machine *m, issue_reason reason) {
        cert_state *st = m->st;
        bool resumed = cert_phase_in_flight(st->phase) && st->phase != PHASE_RELOAD && st->phase != PHASE_DEPLOY;

        /* up to its request's answer an issuance holds a slot; one resumed
         * past it (validating, issuing, fetching) needs none */
        if ((!resumed || st->phase == PHASE_KEY || st->phase == PHASE_REQUEST) && !slot_take(m, reason))
                return;
        m->had_cert = st->served.serial != NULL;
        if (reason == ISSUE_REPLACE || m->e->opts.command == ENGINE_CMD_RENEW)
                m->forced = true;
        m->reason = reason;
        m->op = OP_ISSUE;
        m->busy = BUSY_ISSUER;
        st->last_attempt = clock_now();
        if (resumed)
                return issue_now(m);  /* resumed: the intent is on disk already */
        /* the intent before its first side effect (a key, a request): a kill
         * from here on resumes this issuance, forced or not */
        st->phase = PHASE_KEY;
        st->wake_at = 0;
        if (m->forced)
                st->force_renewal = true;
        engine_persist(m, NULL, on_issue_start_saved);
}

int engine_preflight(const conf_cert *cert, const issuer_ops *ops, char **ret_reason) {
        int r;

        *ret_reason = NULL;
        if (!ops || !ops->deploys || ops->deploys(cert)) {
                r = deploy_preflight(cert, ret_reason);
                if (r < 0)
                        return r;
        }
        if (ops && ops->preflight)
                return ops->preflight(cert, ret_reason);
        return 0;
}

static void revoke_now(machine *m) {
        int r = m->ops->revoke(m, m->st->revoke_request);

        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot start the revocation: %s", strerror(-r));
                fail(m, "internal", msg ? msg : "cannot start");
        }
}

static void on_revoke_intent_saved(machine *m, int r) {
        m->busy = BUSY_ISSUER;
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot save the state in %s/certs/%s: %s; nothing was revoked",
                                                       state_dir(m), m->name, strerror(-r));
                return fail(m, "io", msg ? msg : "cannot save the state");
        }
        testpoint_hit("revoke-intent", m->name);
        if (m->e->stopping)
                return settle(m);
        revoke_now(m);
}

static int preflight(machine *m, char **ret_reason) {
        return engine_preflight(m->cert, m->ops, ret_reason);
}

static void start(machine *m, const sched_decision *d) {
        cert_state *st = m->st;
        _cleanup_(freep) char *why = NULL;
        int r;

        switch (d->action) {
        case SCHED_ISSUE:
                r = preflight(m, &why);
                if (r < 0) {
                        _cleanup_(freep) char *msg = strprintf("%s; nothing was requested from AWS", why ? why : strerror(-r));
                        return fail(m, "config", msg ? msg : "preflight failed");
                }
                log_cert(LOG_INFO, m->name, "%s", d->reason == ISSUE_NEW ? "issuing a certificate" :
                         d->reason == ISSUE_RESUME ? "resuming an interrupted issuance" :
                         d->reason == ISSUE_REPLACE ? "replacing the revoked certificate" : d->why);
                if (d->reason == ISSUE_RENEW && !streq(d->why, "due for renewal"))
                        log_cert(LOG_INFO, m->name, "renewing: %s", d->why);
                return start_issue(m, d->reason);
        case SCHED_DEPLOY:
                m->had_cert = st->served.serial != NULL;
                return start_deploy(m);
        case SCHED_REDEPLOY: {
                _cleanup_(crypto_pkey_freep) EVP_PKEY *key = NULL;
                r = preflight(m, &why);
                if (r >= 0)
                        r = version_pem(m, &st->served);
                if (r >= 0)
                        r = store_key_load(state_dir(m), m->name, STORE_KEY_SERVED, &key);
                if (r < 0 || cert_version_copy(&st->pending, &st->served) < 0) {
                        _cleanup_(freep) char *msg = strprintf("cannot deploy the served certificate again: %s",
                                                               why ? why : strerror(r < 0 ? -r : ENOMEM));
                        return fail(m, r == -ENOENT ? "key" : "config", msg ? msg : "redeploy failed");
                }
                log_cert(LOG_INFO, m->name, "deploying the served certificate %s again: %s", st->served.serial, d->why);
                m->had_cert = true;
                EVP_PKEY_free(m->deploy_key);
                m->deploy_key = TAKE_PTR(key);
                persist_request req = {};
                st->phase = PHASE_DEPLOY;
                return engine_persist(m, &req, on_deploy_saved);
        }
        case SCHED_RELOAD:
                log_cert(LOG_INFO, m->name, "resuming: the reload after deploying %s", st->served.version);
                /* served before this deploy: a previous version, or one
                 * that left no rollback target (a revoked one) */
                m->had_cert = st->previous.serial != NULL || st->last_success != 0;
                r = engine_reload_enqueue(m->e, m);
                if (r < 0) {
                        _cleanup_(freep) char *msg = strprintf("cannot queue the reload (retried later): %s", strerror(-r));
                        return fail(m, "reload", msg ? msg : "cannot queue the reload");
                }
                return;
        case SCHED_WATCH:
                m->watch_now = false;
                m->op = OP_WATCH;
                m->busy = BUSY_ISSUER;
                r = m->ops->watch(m);
                if (r < 0) {
                        _cleanup_(freep) char *msg = strprintf("cannot start the check: %s", strerror(-r));
                        return fail(m, "internal", msg ? msg : "cannot start");
                }
                return;
        case SCHED_REVOKE:
                m->forced = true;
                if (!m->ops->revoke) {
                        _cleanup_(freep) char *msg = strprintf("certificates of the %s issuer cannot be revoked by the agent",
                                                               m->ops->name);
                        m->action = ENGINE_ACTION_FAILED;
                        set_error(m, msg);
                        return settle(m);
                }
                /* the operator's revoke command, or one a killed run
                 * saved and did not finish */
                const char *reason = m->e->opts.command == ENGINE_CMD_REVOKE ? m->e->opts.revoke_reason
                                                                              : st->revoke_request;
                bool no_replace = m->e->opts.command == ENGINE_CMD_REVOKE ? m->e->opts.revoke_no_replace
                                                                          : st->revoke_request_no_replace;
                if (!reason) {
                        m->action = ENGINE_ACTION_FAILED;
                        set_error(m, "revoke: no reason given");
                        return settle(m);
                }
                if (!no_replace) {
                        /* the replacement must be deployable before the
                         * served certificate is revoked: else the host
                         * would serve a revoked certificate */
                        r = preflight(m, &why);
                        if (r < 0) {
                                _cleanup_(freep) char *msg = strprintf(
                                        "%s; nothing was revoked (fix it, or revoke with --no-replace and "
                                        "renew once fixed)", why ? why : strerror(-r));
                                if (st->revoke_request)
                                        /* a saved revoke, resumed: retried
                                         * with backoff until it can finish */
                                        return fail(m, "config", msg ? msg : "preflight failed");
                                /* the operator's command: the served
                                 * certificate and its state stay as they were */
                                m->action = ENGINE_ACTION_FAILED;
                                set_error(m, msg ? msg : "preflight failed");
                                return settle(m);
                        }
                }
                m->op = OP_REVOKE;
                m->busy = BUSY_ISSUER;
                if (st->revoke_request && streq(st->revoke_request, reason) &&
                    st->revoke_request_no_replace == no_replace)
                        return revoke_now(m);  /* resumed: the intent is on disk already */
                /* the intent before the RevokeCertificate call: a kill from
                 * here on finishes this revocation at the next run */
                if (state_set_string(&st->revoke_request, reason) < 0)
                        return fail(m, "internal", "out of memory");
                st->revoke_request_no_replace = no_replace;
                return engine_persist(m, NULL, on_revoke_intent_saved);
        default:
                return settle(m);
        }
}

/* A stable outcome: no lock, no AWS. */
static void settle_stable(machine *m, const sched_decision *d) {
        const cert_state *st = m->st;
        char t[21];

        switch (d->action) {
        case SCHED_BACKOFF: {
                _cleanup_(freep) char *msg = strprintf("%s (%u consecutive failure%s; next attempt at %s)",
                                                       st->last_error ? st->last_error : "the last attempt failed",
                                                       st->failures, st->failures == 1 ? "" : "s",
                                                       clock_format_rfc3339(d->when, t));
                m->action = ENGINE_ACTION_FAILED;
                set_error(m, msg);
                break;
        }
        case SCHED_WAIT:
                m->action = ENGINE_ACTION_WAITING;
                set_error(m, NULL);
                break;
        case SCHED_REVOKED: {
                _cleanup_(freep) char *msg = strprintf("serial %s was revoked; run 'acm-agent renew %s' to issue a "
                                                       "replacement", st->revoked_serial ? st->revoked_serial : "?",
                                                       m->name);
                m->action = ENGINE_ACTION_REVOKED;
                set_error(m, msg);
                break;
        }
        default:
                if (m->e->opts.command == ENGINE_CMD_REVOKE)
                        set_error(m, d->why);
                m->action = m->e->opts.command == ENGINE_CMD_REVOKE ? ENGINE_ACTION_FAILED : ENGINE_ACTION_NONE;
                break;
        }
        settle(m);
}

static bool is_stable(sched_action a) {
        return a == SCHED_NONE || a == SCHED_BACKOFF || a == SCHED_WAIT || a == SCHED_REVOKED;
}

static void fail_load(machine *m, int r, const char *err) {
        _cleanup_(freep) char *msg = strprintf("cannot read the state: %s", err ? err : strerror(-r));

        m->action = ENGINE_ACTION_FAILED;
        set_error(m, msg ? msg : "cannot read the state");
        log_cert(LOG_ERR, m->name, "%s", m->error);
        unlock(m);
        m->busy = BUSY_NONE;
        machine_result_refresh(m);
        engine_machine_settled(m->e, m);
}

void machine_wake(machine *m) {
        engine *e = m->e;
        _cleanup_(freep) char *err = NULL;
        sched_decision d;
        int r;

        if (m->busy != BUSY_NONE) {
                m->poked = true;
                return;
        }
        if (e->stopping || m->removed)
                return settle(m);
        m->settled = false;
        if (!m->ops) {
                _cleanup_(freep) char *msg = strprintf("issuer %s is not supported by this build",
                                                       conf_issuer_type_to_string(m->cert->issuer_type));
                m->action = ENGINE_ACTION_FAILED;
                set_error(m, msg);
                return settle(m);
        }
        r = machine_load(m, &err);
        if (r < 0)
                return fail_load(m, r, err);
        if (sched_renew_before_ignored(&m->cert->schedule, m->st->served.not_before, m->st->served.not_after)) {
                char b[32], l[32];
                log_cert(LOG_WARNING, m->name,
                         "renew_before %s is not shorter than the certificate's lifetime %s; renewing at "
                         "renew_fraction %.2f of the lifetime instead (set a shorter renew_before)",
                         format_duration(m->cert->schedule.renew_before, b, sizeof(b)),
                         format_duration((uint64_t) (m->st->served.not_after - m->st->served.not_before), l, sizeof(l)),
                         m->cert->schedule.renew_fraction > 0 && m->cert->schedule.renew_fraction <= 1
                                 ? m->cert->schedule.renew_fraction : 0.33);
        }
        decide(m, &d);
        pre_cur_drop(m);  /* not asked for: a later decision reads for itself */
        if (e->opts.dry_run) {
                set_owned(&m->plan, describe_plan(m, &d));
                m->action = ENGINE_ACTION_NONE;
                return settle(m);
        }
        if (is_stable(d.action))
                return settle_stable(m, &d);

        if (m->lock_fd < 0) {
                r = store_lock(state_dir(m), m->name, false, &m->lock_fd);
                if (r == -EWOULDBLOCK || r == -EAGAIN) {
                        pid_t pid = 0;
                        _cleanup_(freep) char *msg = NULL;
                        (void) store_lock_holder(state_dir(m), m->name, &pid);
                        msg = strprintf("locked by another acm-agent (pid %d); skipped", (int) pid);
                        m->action = ENGINE_ACTION_LOCKED;
                        set_error(m, msg);
                        log_cert(LOG_NOTICE, m->name, "%s", m->error);
                        return settle(m);
                }
                if (r < 0) {
                        _cleanup_(freep) char *msg = strprintf("cannot take the lock in %s/certs/%s: %s", state_dir(m),
                                                               m->name, strerror(-r));
                        m->action = ENGINE_ACTION_FAILED;
                        set_error(m, msg);
                        log_cert(LOG_ERR, m->name, "%s", m->error);
                        return settle(m);
                }
                /* with the lock: finish a migration, clean a killed run's
                 * temporary files, and read the state again (another process
                 * may have moved on while we decided) */
                char merr[512] = "";
                r = store_migrate(state_dir(m), m->name, merr, sizeof(merr));
                if (r < 0)
                        return fail_load(m, r, merr);
                if (r > 0)
                        log_cert(LOG_INFO, m->name, "state migrated to %s/certs/%s/", state_dir(m), m->name);
                (void) store_clean_temp(state_dir(m), m->name);
                err = (free(err), NULL);
                r = machine_load(m, &err);
                if (r < 0)
                        return fail_load(m, r, err);
                decide(m, &d);
                if (is_stable(d.action))
                        return settle_stable(m, &d);
        }
        start(m, &d);
}

/* ---- lifecycle ---- */

machine *machine_new(engine *e, conf_gen *cref, const conf_cert *cert) {
        machine *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->name = strdup(cert->name);
        if (!m->name) {
                free(m);
                return NULL;
        }
        m->e = e;
        m->cref = conf_gen_ref(cref);
        m->cert = cert;
        m->ops = e->opts.issuer_lookup ? e->opts.issuer_lookup(cert->issuer_type) : NULL;
        m->lock_fd = -1;
        m->settled = true;
        return m;
}

bool machine_stop(machine *m) {
        switch (m->busy) {
        case BUSY_NONE:
                return true;
        case BUSY_ISSUER:
        case BUSY_KEY:
                /* its progress up to the last save is on disk */
                cancel_op(m);
                settle(m);
                return true;
        case BUSY_SLEEP:
                settle(m);
                return true;
        case BUSY_QUEUED:
                /* never started: nothing of this issuance is on disk */
                queue_remove(m->e, m);
                settle(m);
                return true;
        default:
                return false;  /* a save, a deploy, a reload or a hook finishes */
        }
}

machine *machine_free(machine *m) {
        if (!m)
                return NULL;
        if (m->busy == BUSY_QUEUED)
                queue_remove(m->e, m);
        cancel_op(m);
        engine_reload_forget(m->e, m);
        hook_process_unref(m->hook);
        sd_event_source_disable_unref(m->sleep_timer);
        safe_close(m->lock_fd);
        if (m->istate && m->ops)
                m->ops->state_free(m->istate);
        EVP_PKEY_free(m->deploy_key);
        hook_process_unref(m->validation_hook);
        cert_state_free(m->st);
        cert_state_free(m->pre_st);
        free(m->pre_err);
        free(m->pre_cur_id);
        conf_gen_unref(m->cref);
        conf_gen_unref(m->next_cref);
        free(m->old_serial);
        free(m->aws_operation);
        free(m->aws_error);
        free(m->aws_request_id);
        free(m->error);
        free(m->plan);
        free(m->name);
        free(m);
        return NULL;
}
