/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-event.h>

#include "aws/aws.h"
#include "basic/clock.h"
#include "crypto/crypto.h"
#include "deploy/deploy.h"
#include "engine/engine.h"
#include "deploy/deploy-hook.h"
#include "engine/engine-issuer.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "deploy/deploy-reload.h"
#include "engine/engine-sched.h"
#include "store/store-state.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "basic/worker.h"

/* Threads for key generation (CPU) and deploys (fsync waits). */
#define ENGINE_WORKERS 8

typedef enum stage {
        STAGE_IDLE,       /* decided, nothing running */
        STAGE_ISSUING,    /* the issuer runs */
        STAGE_RELOAD,     /* deployed, waiting for the pass's reload */
        STAGE_HOOK,       /* a hook runs */
        STAGE_DONE,
} stage;

typedef struct previous {
        char *serial, *arn, *version;
        time_t not_before, not_after;
} previous;

typedef struct mach {
        machine m;                /* first: issuers see this */
        engine_result res;
        char *serial, *error, *plan;
        stage stage;
        int lock_fd;
        const issuer_ops *ops;
        previous prev;
        bool had_cert;
        hook_process *hook;
} mach;

typedef struct cache_item {
        char *key;
        void *value;
        void (*free_fn)(void *);
} cache_item;

struct engine {
        const conf *conf;
        engine_options opts;
        sd_event *loop;
        aws_client *aws;
        worker_pool *workers;
        mach **machines;
        size_t n_machines;
        cache_item *cache;
        size_t n_cache;
        reload_pass *pass;
        size_t n_pass;            /* certificates added to the pass */
        bool pass_started, pass_done;
        size_t n_busy;            /* machines issuing + hooks running */
        bool running;
        char machine_id[64];
};

const char *engine_action_to_string(engine_action a) {
        static const char *const names[_ENGINE_ACTION_MAX] = {
                [ENGINE_ACTION_NONE] = "none",
                [ENGINE_ACTION_ISSUED] = "issued",
                [ENGINE_ACTION_RENEWED] = "renewed",
                [ENGINE_ACTION_FAILED] = "failed",
                [ENGINE_ACTION_WAITING] = "waiting",
                [ENGINE_ACTION_LOCKED] = "locked",
        };
        return a >= 0 && a < _ENGINE_ACTION_MAX ? names[a] : NULL;
}

int engine_raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur >= rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        return 0;
}

static void previous_done(previous *p) {
        free(p->serial);
        free(p->arn);
        free(p->version);
        *p = (previous) {};
}

static void mach_free(mach *x) {
        if (!x)
                return;
        if (x->ops && x->ops->cancel)
                x->ops->cancel(&x->m);
        hook_process_unref(x->hook);
        safe_close(x->lock_fd);
        state_free(x->m.st);
        previous_done(&x->prev);
        free(x->serial);
        free(x->error);
        free(x->plan);
        free(x);
}

engine *engine_free(engine *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_machines; i++)
                mach_free(e->machines[i]);
        free(e->machines);
        reload_pass_free(e->pass);
        for (size_t i = 0; i < e->n_cache; i++) {
                if (e->cache[i].free_fn)
                        e->cache[i].free_fn(e->cache[i].value);
                free(e->cache[i].key);
        }
        free(e->cache);
        worker_pool_free(e->workers);
        aws_client_unref(e->aws);
        sd_event_unref(e->loop);
        free(e);
        return NULL;
}

void engine_machine_id(char *buf, size_t len) {
        _cleanup_(freep) char *s = NULL;

        if (len == 0)
                return;
        buf[0] = 0;
        if (read_full_file("/etc/machine-id", 128, &s, NULL) < 0)
                return;  /* no machine id: the name alone spreads the jitter */
        s[strcspn(s, "\r\n")] = 0;
        snprintf(buf, len, "%s", s);
}

int engine_new(const conf *c, const engine_options *o, engine **ret) {
        _cleanup_(engine_freep) engine *e = NULL;
        int r;

        if (!c || !ret)
                return -EINVAL;
        if (o && o->only) {
                bool found = false;
                for (conf_cert **i = c->certs; i && *i && !found; i++)
                        found = streq((*i)->name, o->only);
                if (!found)
                        return -ENOENT;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->conf = c;
        /* sd-event child sources (hooks, reload commands) need SIGCHLD
         * blocked, in every thread: block it before any worker starts */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        r = -pthread_sigmask(SIG_BLOCK, &ss, NULL);
        if (r < 0)
                return r;
        /* a full file system / file size limit must be an error we report
         * (EFBIG, EPIPE), never a signal that kills the agent mid-deploy */
        (void) signal(SIGXFSZ, SIG_IGN);
        (void) signal(SIGPIPE, SIG_IGN);
        if (o)
                e->opts = *o;
        r = sd_event_new(&e->loop);
        if (r < 0)
                return r;
        if (!e->opts.dry_run) {
                r = state_dir_prepare(c->state_dir);
                if (r < 0)
                        return r;
        }
        engine_machine_id(e->machine_id, sizeof(e->machine_id));
        *ret = TAKE_PTR(e);
        return 0;
}

size_t engine_n_results(const engine *e) {
        return e ? e->n_machines : 0;
}

const engine_result *engine_result_get(const engine *e, size_t i) {
        return e && i < e->n_machines ? &e->machines[i]->res : NULL;
}

int engine_exit_code(const engine *e) {
        bool waiting = false;

        for (size_t i = 0; i < e->n_machines; i++) {
                engine_action a = e->machines[i]->res.action;
                if (a == ENGINE_ACTION_FAILED)
                        return 1;
                if (a == ENGINE_ACTION_LOCKED || a == ENGINE_ACTION_WAITING)
                        waiting = true;
        }
        return waiting ? 3 : 0;
}

json_t *engine_aws_stats_json(const engine *e) {
        json_t *o = json_object(), *calls = json_object();

        if (!o || !calls) {
                json_decref(o);
                json_decref(calls);
                return NULL;
        }
        json_object_set_new(o, "calls", calls);
        json_object_set_new(o, "throttles", json_integer(e->aws ? (json_int_t) aws_client_throttle_count(e->aws) : 0));
        for (size_t i = 0; e->aws && i < aws_client_n_stats(e->aws); i++) {
                const aws_op_stats *s = aws_client_stats(e->aws, i);
                char key[128];
                snprintf(key, sizeof(key), "%s:%s", s->service, s->operation);
                json_object_set_new(calls, key, json_integer((json_int_t) s->calls));
        }
        return o;
}

/* ---- services for issuers ---- */

sd_event *machine_loop(machine *m) {
        return m->engine->loop;
}

int machine_workers(machine *m, worker_pool **ret) {
        engine *e = m->engine;
        if (!e->workers) {
                int r = worker_pool_new(e->loop, ENGINE_WORKERS, &e->workers);
                if (r < 0)
                        return r;
        }
        *ret = e->workers;
        return 0;
}

int machine_aws(machine *m, aws_client **ret) {
        engine *e = m->engine;
        int r;

        if (!e->aws) {
                r = aws_client_new(e->loop, &e->conf->aws, &e->aws);
                if (r < 0)
                        return log_error_errno(r, "cannot create the AWS client: %s (check aws.endpoints and aws.ca_bundle)",
                                               strerror(-r));
        }
        *ret = e->aws;
        return 0;
}

int machine_save(machine *m) {
        return state_save(m->state_dir, m->cert->name, m->st);
}

void *machine_cache_get(machine *m, const char *key) {
        engine *e = m->engine;
        for (size_t i = 0; i < e->n_cache; i++)
                if (streq(e->cache[i].key, key))
                        return e->cache[i].value;
        return NULL;
}

int machine_cache_put(machine *m, const char *key, void *value, void (*free_fn)(void *)) {
        engine *e = m->engine;
        cache_item *n;

        if (machine_cache_get(m, key))
                return -EEXIST;
        n = realloc(e->cache, (e->n_cache + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        e->cache = n;
        n[e->n_cache].key = strdup(key);
        if (!n[e->n_cache].key)
                return -ENOMEM;
        n[e->n_cache].value = value;
        n[e->n_cache].free_fn = free_fn;
        e->n_cache++;
        return 0;
}

/* ---- pass bookkeeping ---- */

static void pass_start(engine *e);

static void check_done(engine *e) {
        if (e->n_busy > 0)
                return;
        if (e->n_pass > 0 && !e->pass_started) {
                pass_start(e);
                return;
        }
        if (e->n_pass > 0 && !e->pass_done)
                return;
        if (e->running) {
                e->running = false;
                (void) sd_event_exit(e->loop, 0);
        }
}

static void set_result_cert(mach *x) {
        free(x->serial);
        x->serial = x->m.st->serial ? strdup(x->m.st->serial) : NULL;
        x->res.serial = x->serial;
        x->res.not_after = x->m.st->not_after;
        x->res.renew_at = x->m.st->serial ? sched_renew_at(&x->m.cert->schedule, x->m.st->not_before, x->m.st->not_after,
                                                           sched_hash(x->m.engine->machine_id, x->m.cert->name)) : 0;
}

static void set_error(mach *x, const char *msg) {
        free(x->error);
        x->error = msg ? strdup(msg) : NULL;
        x->res.error = x->error ? x->error : msg ? "out of memory" : NULL;
}

static void unlock(mach *x) {
        x->lock_fd = safe_close(x->lock_fd);
}

static void on_hook_done(hook_process *p _unused_, const hook_result *r, void *userdata) {
        mach *x = userdata;
        engine *e = x->m.engine;
        char buf[128];

        if (r->outcome != HOOK_EXITED || r->status != 0) {
                log_cert(LOG_WARNING, x->m.cert->name, "hook failed: %s", hook_result_describe(r, buf, sizeof(buf)));
                /* hooks/README.md: a failed hook is shown in `status`. A
                 * failed deploy hook leaves the certificate valid; keep the
                 * reason as its last error (cleared by the next success). A
                 * failed failure hook is logged only: the failure itself
                 * stays the last error. */
                if (x->res.action != ENGINE_ACTION_FAILED) {
                        _cleanup_(freep) char *msg = strprintf("deploy hook failed: %s", buf);
                        int k;

                        (void) state_set_string(&x->m.st->last_error, msg ? msg : "deploy hook failed");
                        (void) state_set_string(&x->m.st->last_error_kind, "hook");
                        k = machine_save(&x->m);
                        if (k < 0)
                                log_cert(LOG_ERR, x->m.cert->name, "cannot save the state: %s", strerror(-k));
                }
        }
        x->hook = hook_process_unref(x->hook);
        x->stage = STAGE_DONE;
        unlock(x);
        e->n_busy--;
        check_done(e);
}

/* Runs the hook for ev (if any), then the machine is done. Called with the
 * machine counted in n_busy; releases that count when finished. */
static void run_hook_then_done(mach *x, hook_event ev) {
        engine *e = x->m.engine;
        cert_state *st = x->m.st;
        char na[21] = "";
        hook_cert_info info = {
                .serial = st->serial,
                .not_after = st->not_after ? clock_format_rfc3339(st->not_after, na) : NULL,
                .arn = st->arn,
                .issuer = conf_issuer_type_to_string(x->m.cert->issuer_type),
                .error = ev == HOOK_EVENT_FAILED ? x->res.error : NULL,
        };
        int r;

        r = hook_run_event(e->loop, ev, x->m.cert, &info, on_hook_done, x, &x->hook);
        if (r < 0)
                log_cert(LOG_WARNING, x->m.cert->name, "cannot run the %s hook: %s", hook_event_to_string(ev), strerror(-r));
        if (r < 0 || !x->hook) {
                x->stage = STAGE_DONE;
                unlock(x);
                e->n_busy--;
                check_done(e);
                return;
        }
        x->stage = STAGE_HOOK;
}

/* The machine failed at any stage: the state says so (what is served stays
 * described), next attempt with backoff, failure hook. */
static void finish_failed_phase(mach *x, const char *kind, const char *msg, state_phase phase) {
        cert_state *st = x->m.st;
        time_t now = clock_now();
        uint64_t rnd = 0;
        int r;

        log_cert(LOG_ERR, x->m.cert->name, "%s", msg);
        set_error(x, msg);
        x->res.action = ENGINE_ACTION_FAILED;
        st->phase = phase;
        st->failures++;
        (void) state_set_string(&st->last_error, msg);
        (void) state_set_string(&st->last_error_kind, kind);
        (void) random_bytes(&rnd, sizeof(rnd));
        st->next_attempt = sched_retry_at(&x->m.cert->schedule, st->failures, now, rnd);
        /* A forced renewal (renew --force) that failed stays wanted: the
         * next pass retries it even though the old certificate is not due
         * (hooks/README.md: "retried later with backoff"). mark_valid()
         * clears the flag once a renewal succeeds. */
        if (x->m.engine->opts.force)
                st->force_renewal = true;
        r = machine_save(&x->m);
        if (r < 0)
                log_cert(LOG_ERR, x->m.cert->name, "cannot save the state: %s", strerror(-r));
        set_result_cert(x);
        run_hook_then_done(x, HOOK_EVENT_FAILED);
}

static void finish_failed(mach *x, const char *kind, const char *msg) {
        finish_failed_phase(x, kind, msg, STATE_FAILED);
}

void machine_fail(machine *m, const char *kind, const char *fmt, ...) {
        mach *x = (mach *) m;
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (x->ops && x->ops->cancel)
                x->ops->cancel(m);
        x->stage = STAGE_IDLE;
        finish_failed(x, kind, msg ? msg : "out of memory");
}

/* The state of a certificate served and reloaded. Pure (thread-safe). */
static void mark_valid(cert_state *st) {
        st->phase = STATE_VALID;
        st->failures = 0;
        st->last_success = clock_now();
        st->force_renewal = false;
        st->next_attempt = 0;
        (void) state_set_string(&st->last_error, NULL);
        (void) state_set_string(&st->last_error_kind, NULL);
        if (st->extra) {
                json_object_del(st->extra, "reload_pending");
                json_object_del(st->extra, "previous");
        }
}

static void finish_valid(mach *x) {
        cert_state *st = x->m.st;
        int r;

        if (st->phase != STATE_VALID) {  /* else the deploy worker saved it valid already */
                mark_valid(st);
                r = testpoint_fail("final-save", x->m.cert->name) ? -EIO : machine_save(&x->m);
                if (r < 0) {
                        /* the disk still says "reload pending": the next run
                         * would reload and report again, so this is no success */
                        _cleanup_(freep) char *msg = strprintf(
                                "serial %s is deployed and reloaded, but the state file %s/certs/%s.json cannot be "
                                "saved: %s", st->serial ? st->serial : "?", x->m.state_dir, x->m.cert->name,
                                strerror(-r));
                        x->res.changed = true;
                        return finish_failed(x, "io", msg ? msg : "cannot save the state");
                }
        }
        set_result_cert(x);
        x->res.action = x->had_cert ? ENGINE_ACTION_RENEWED : ENGINE_ACTION_ISSUED;
        x->res.changed = true;
        log_cert(LOG_NOTICE, x->m.cert->name, "%s serial %s, valid until %s", x->had_cert ? "renewed:" : "issued:",
                 st->serial ? st->serial : "?", x->res.not_after ? clock_format_rfc3339(x->res.not_after, (char[21]) {}) : "?");
        run_hook_then_done(x, HOOK_EVENT_DEPLOYED);
}

static mach *find_mach(engine *e, const conf_cert *cert) {
        for (size_t i = 0; i < e->n_machines; i++)
                if (e->machines[i]->m.cert == cert)
                        return e->machines[i];
        return NULL;
}

/* The state describes what is served again after a rollback: the previous
 * certificate, no reload pending. */
static void restore_previous(mach *x) {
        cert_state *st = x->m.st;

        (void) state_set_string(&st->serial, x->prev.serial);
        (void) state_set_string(&st->arn, x->prev.arn);
        (void) state_set_string(&st->current_version, x->prev.version);
        st->not_before = x->prev.not_before;
        st->not_after = x->prev.not_after;
        if (st->extra) {
                json_object_del(st->extra, "reload_pending");
                json_object_del(st->extra, "previous");
        }
}

static int on_rollback(const conf_cert *cert, const char *previous_version, void *userdata) {
        engine *e = userdata;
        mach *x = find_mach(e, cert);
        char err[512] = "";
        int r = deploy_rollback(&cert->output, previous_version, err, sizeof(err));
        if (r < 0) {
                log_cert(LOG_ERR, cert->name, "rollback to %s failed: %s", previous_version, err);
                return r;
        }
        if (x && x->stage == STAGE_RELOAD) {
                /* saved at once: a kill before the pass ends must not leave
                 * the new serial recorded as served (with its reload pending) */
                int k;
                restore_previous(x);
                x->m.st->phase = STATE_FAILED;
                k = machine_save(&x->m);
                if (k < 0)
                        log_cert(LOG_ERR, cert->name, "cannot save the state after the rollback to %s: %s",
                                 previous_version, strerror(-k));
        }
        testpoint_hit("rolled-back", cert->name);
        return 0;
}

static void on_cert_reloaded(const conf_cert *cert, int r, const char *reason, bool rolled_back, void *userdata) {
        engine *e = userdata;
        mach *x = find_mach(e, cert);
        _cleanup_(freep) char *msg = NULL;

        if (!x || x->stage != STAGE_RELOAD)
                return;
        e->n_busy++;  /* released by the hook */
        if (r >= 0)
                return finish_valid(x);

        if (rolled_back) {
                /* the state describes what is served again (on_rollback
                 * saved it already) */
                restore_previous(x);
                msg = strprintf("reload failed, rolled back to version %s: %s", x->prev.version ? x->prev.version : "?",
                                reason ? reason : "unknown reason");
        } else {
                /* nothing to roll back to: the new files stay, and the next
                 * run tries the reload again (the reload stays pending) */
                msg = strprintf("the new certificate is deployed but the reload failed (retried at the next run): %s",
                                reason ? reason : "unknown reason");
                x->res.changed = true;
                return finish_failed_phase(x, "reload", msg ? msg : "reload failed", STATE_DEPLOYING);
        }
        finish_failed(x, "reload", msg ? msg : "reload failed");
}

static void on_pass_done(reload_pass *pass _unused_, unsigned n_failed _unused_, void *userdata) {
        engine *e = userdata;
        e->pass_done = true;
        check_done(e);
}

static void pass_start(engine *e) {
        reload_callbacks cb = {
                .rollback = on_rollback,
                .cert_done = on_cert_reloaded,
                .pass_done = on_pass_done,
                .userdata = e,
        };
        int r;

        e->pass_started = true;
        r = reload_pass_run(e->pass, &cb);
        if (r < 0) {
                log_error("cannot run the reload pass: %s", strerror(-r));
                e->pass_done = true;
                for (size_t i = 0; i < e->n_machines; i++)
                        if (e->machines[i]->stage == STAGE_RELOAD)
                                on_cert_reloaded(e->machines[i]->m.cert, r, "the reload pass could not start", false, e);
                check_done(e);
        }
}

/* Queues the machine for the pass's reload (or finishes at once when the
 * certificate has no reload target). The machine leaves n_busy. */
static void await_reload(mach *x) {
        engine *e = x->m.engine;
        int r;

        if (!x->m.cert->reload || !x->m.cert->reload[0]) {
                finish_valid(x);  /* keeps its n_busy count until the hook ends */
                return;
        }
        if (!e->pass) {
                e->pass = reload_pass_new(e->loop);
                if (!e->pass)  /* the reload stays pending for the next run */
                        return finish_failed_phase(x, "oom", "out of memory", STATE_DEPLOYING);
        }
        r = reload_pass_add(e->pass, x->m.cert, x->prev.version);
        if (r < 0) {
                _cleanup_(freep) char *m = strprintf("cannot queue the reload (retried at the next run): %s",
                                                     strerror(-r));
                return finish_failed_phase(x, "reload", m ? m : "cannot queue the reload", STATE_DEPLOYING);
        }
        e->n_pass++;
        x->stage = STAGE_RELOAD;
        e->n_busy--;
        check_done(e);
}

static int previous_to_json(const previous *p, json_t **ret) {
        char nb[21], na[21];
        json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s,s:s}", "serial", p->serial, "arn", p->arn, "version", p->version,
                              "not_before", clock_format_rfc3339(p->not_before, nb), "not_after",
                              clock_format_rfc3339(p->not_after, na));
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

static void previous_from_json(previous *p, json_t *o) {
        const char *s;
        previous_done(p);
        if ((s = json_string_value(json_object_get(o, "serial"))))
                p->serial = strdup(s);
        if ((s = json_string_value(json_object_get(o, "arn"))))
                p->arn = strdup(s);
        if ((s = json_string_value(json_object_get(o, "version"))) && s[0])
                p->version = strdup(s);
        if ((s = json_string_value(json_object_get(o, "not_before"))))
                (void) clock_parse_rfc3339(s, &p->not_before);
        if ((s = json_string_value(json_object_get(o, "not_after"))))
                (void) clock_parse_rfc3339(s, &p->not_after);
}


/* The common deploy step for every issuer: the files are built on the loop,
 * written (deploy_install, fsyncs) and the state saved on a worker thread so
 * that disk waits never hold back the requests of other certificates. */
typedef struct deploy_job {
        mach *x;
        EVP_PKEY *key;
        char *cert_pem, *chain_pem, *fullchain, *key_pem, *bundle;
        unsigned char *p12;
        size_t p12_len;
        crypto_cert_info *info;
        deploy_file files[6];
        size_t n;
        deploy_result dr;
        bool reload;
        char err[1024];
        int r;             /* deploy_install */
        int r_save;        /* state_save afterwards */
} deploy_job;

static void deploy_job_free(deploy_job *j) {
        if (!j)
                return;
        EVP_PKEY_free(j->key);
        free(j->cert_pem);
        free(j->chain_pem);
        free(j->fullchain);
        crypto_secret_free(j->key_pem);
        crypto_secret_free(j->bundle);
        if (j->p12)
                OPENSSL_cleanse(j->p12, j->p12_len);
        free(j->p12);
        crypto_cert_info_free(j->info);
        free(j);
}

/* Worker thread: only the machine's own state and files are touched; the
 * machine is idle on the loop until deploy_done. */
static int deploy_run(void *arg) {
        deploy_job *j = arg;
        mach *x = j->x;
        const conf_cert *cert = x->m.cert;
        cert_state *st = x->m.st;
        char hint[24];
        int r;

        snprintf(hint, sizeof(hint), "%.16s", j->info->serial_hex);
        j->r = deploy_install(&cert->output, cert->name, j->files, j->n, hint, &j->dr, j->err, sizeof(j->err));
        if (j->r < 0)
                return j->r;
        testpoint_hit("deploy-switched", cert->name);

        /* the key in use is now keys/<name>.pem (reused on renewal with key.reuse) */
        r = state_key_promote(x->m.state_dir, cert->name);
        if (r < 0 && r != -ENOENT)
                log_cert(LOG_WARNING, cert->name, "cannot promote the pending key: %s", strerror(-r));

        /* what was served before, for rollback and for the state after a rollback */
        previous_done(&x->prev);
        x->prev.serial = st->serial ? strdup(st->serial) : NULL;
        x->prev.arn = st->arn ? strdup(st->arn) : NULL;
        x->prev.version = j->dr.previous[0] ? strdup(j->dr.previous) : NULL;
        x->prev.not_before = st->not_before;
        x->prev.not_after = st->not_after;

        (void) state_set_string(&st->arn, st->pending_arn);
        (void) state_set_string(&st->serial, j->info->serial_hex);
        st->not_before = j->info->not_before;
        st->not_after = j->info->not_after;
        (void) state_set_string(&st->current_version, j->dr.version);
        (void) state_set_string(&st->previous_version, j->dr.previous[0] ? j->dr.previous : NULL);
        st->pending_arn = (free(st->pending_arn), NULL);
        st->pending_key_path = (free(st->pending_key_path), NULL);
        st->pending_csr = (free(st->pending_csr), NULL);
        st->idempotency_token = (free(st->idempotency_token), NULL);
        st->token_created = 0;
        if (j->reload) {
                json_t *prev = NULL;
                if (!st->extra)
                        st->extra = json_object();
                if (!st->extra || previous_to_json(&x->prev, &prev) < 0 ||
                    json_object_set_new(st->extra, "previous", prev) < 0 ||
                    json_object_set_new(st->extra, "reload_pending", json_true()) < 0) {
                        j->r_save = -ENOMEM;
                        return 0;
                }
                st->phase = STATE_DEPLOYING;
        } else
                mark_valid(st);
        j->r_save = testpoint_fail("deploy-save", cert->name) ? -EIO : machine_save(&x->m);
        if (j->r_save >= 0 && j->reload)
                testpoint_hit("reload-pending", cert->name);
        return 0;
}

static void deploy_done(int r, void *arg) {
        deploy_job *j = arg;
        mach *x = j->x;
        const conf_cert *cert = x->m.cert;

        if (r < 0) {
                _cleanup_(freep) char *msg = strdup(j->err[0] ? j->err : strerror(-r));
                deploy_job_free(j);
                return finish_failed(x, "deploy", msg ? msg : "deploy failed");
        }
        if (j->r_save < 0) {
                /* The new files are in place. With a reload still to run the
                 * state must stay in flight (DEPLOYING, reload_pending) so the
                 * next run redoes the reload: a plain FAILED that names the
                 * new serial would make it think nothing is left to do while
                 * the server still serves the old certificate. */
                bool pending = j->reload && json_is_true(json_object_get(x->m.st->extra, "reload_pending"));
                _cleanup_(freep) char *msg = strprintf("cannot save the state after deploying %s: %s%s", j->dr.version,
                                                       strerror(-j->r_save),
                                                       pending ? "; the reload runs at the next run" : "");
                deploy_job_free(j);
                x->res.changed = true;
                return finish_failed_phase(x, "io", msg ? msg : "cannot save the state",
                                           pending ? STATE_DEPLOYING : STATE_FAILED);
        }
        log_cert(LOG_INFO, cert->name, "deployed version %s (serial %s)", j->dr.version, j->info->serial_hex);
        deploy_job_free(j);
        await_reload(x);
}

static int read_passphrase(const char *path, char **ret) {
        char *s = NULL;
        size_t len;
        int r = read_full_file(path, 4096, &s, &len);
        if (r < 0)
                return r;
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
                s[--len] = 0;
        if (len == 0) {
                crypto_secret_free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

void machine_issued(machine *m, EVP_PKEY *key_in, const char *cert_in, const char *chain_in) {
        mach *x = (mach *) m;
        const conf_cert *cert = m->cert;
        _cleanup_(crypto_secret_freep) char *pass = NULL;
        deploy_job *j;
        unsigned want = cert->output.files;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j) {
                if (x->ops && x->ops->cancel)
                        x->ops->cancel(m);
                return machine_fail(m, "oom", "out of memory");
        }
        j->x = x;
        EVP_PKEY_up_ref(key_in);
        j->key = key_in;
        r = crypto_pem_normalize_certs(cert_in, 1, &j->cert_pem);
        if (r >= 0 && chain_in && chain_in[0])
                r = crypto_pem_normalize_certs(chain_in, CRYPTO_CHAIN_MAX, &j->chain_pem);
        if (x->ops && x->ops->cancel)
                x->ops->cancel(m);  /* from here on the engine owns everything */
        if (r < 0) {
                deploy_job_free(j);
                return machine_fail(m, "verify", "the issued certificate or chain is not valid PEM: %s", strerror(-r));
        }
        r = crypto_cert_info_get(j->cert_pem, strlen(j->cert_pem), &j->info);
        if (r < 0) {
                deploy_job_free(j);
                return machine_fail(m, "verify", "cannot read the issued certificate: %s", strerror(-r));
        }

        if (want & CONF_OUT_CERT)
                j->files[j->n++] = (deploy_file) { CONF_OUT_CERT, j->cert_pem, strlen(j->cert_pem), false };
        if ((want & CONF_OUT_CHAIN) && j->chain_pem)
                j->files[j->n++] = (deploy_file) { CONF_OUT_CHAIN, j->chain_pem, strlen(j->chain_pem), false };
        if (want & CONF_OUT_FULLCHAIN) {
                r = crypto_build_fullchain(j->cert_pem, j->chain_pem, &j->fullchain);
                if (r < 0)
                        goto fail_build;
                j->files[j->n++] = (deploy_file) { CONF_OUT_FULLCHAIN, j->fullchain, strlen(j->fullchain), false };
        }
        if (want & CONF_OUT_KEY) {
                r = crypto_key_to_pem(j->key, &j->key_pem);
                if (r < 0)
                        goto fail_build;
                j->files[j->n++] = (deploy_file) { CONF_OUT_KEY, j->key_pem, strlen(j->key_pem), true };
        }
        if (want & CONF_OUT_HAPROXY_BUNDLE) {
                r = crypto_build_haproxy_bundle(j->cert_pem, j->chain_pem, j->key, &j->bundle);
                if (r < 0)
                        goto fail_build;
                j->files[j->n++] = (deploy_file) { CONF_OUT_HAPROXY_BUNDLE, j->bundle, strlen(j->bundle), true };
        }
        if (want & CONF_OUT_PKCS12) {
                if (!cert->output.pkcs12_passphrase_file) {
                        deploy_job_free(j);
                        return machine_fail(m, "config", "output.files has pkcs12 but no pkcs12_passphrase_file");
                }
                r = read_passphrase(cert->output.pkcs12_passphrase_file, &pass);
                if (r < 0) {
                        deploy_job_free(j);
                        return machine_fail(m, "config", "cannot read the PKCS#12 passphrase from %s: %s",
                                            cert->output.pkcs12_passphrase_file,
                                            r == -EINVAL ? "the file is empty" : strerror(-r));
                }
                r = crypto_build_pkcs12(j->cert_pem, j->chain_pem, j->key, pass, &j->p12, &j->p12_len);
                if (r < 0)
                        goto fail_build;
                j->files[j->n++] = (deploy_file) { CONF_OUT_PKCS12, j->p12, j->p12_len, true };
        }
        if (j->n == 0) {
                deploy_job_free(j);
                return machine_fail(m, "config", "output.files selects nothing to write");
        }
        j->reload = cert->reload && cert->reload[0];
        worker_pool *pool;
        r = machine_workers(m, &pool);
        if (r < 0) {
                deploy_job_free(j);
                return machine_fail(m, "deploy", "cannot start worker threads: %s", strerror(-r));
        }
        r = worker_pool_submit(pool, deploy_run, deploy_done, j);
        if (r < 0) {
                deploy_job_free(j);
                return machine_fail(m, "deploy", "cannot start the deploy: %s", strerror(-r));
        }
        return;

fail_build:
        deploy_job_free(j);
        machine_fail(m, "deploy", "cannot build the output files: %s", strerror(-r));
}

/* ---- deciding and starting ---- */

static const issuer_ops *ops_for(const conf_cert *c) {
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA:
                return &issuer_pca_ops;
        default:
                return NULL;
        }
}

static bool have_current(const conf_cert *c) {
        _cleanup_(freep) char *id = NULL;
        return deploy_current(&c->output, &id) >= 0;
}

static char *describe_plan(mach *x, sched_action a, time_t when) {
        cert_state *st = x->m.st;
        char t[21];

        switch (a) {
        case SCHED_ISSUE:
                return strprintf("issue: no certificate deployed in %s yet", x->m.cert->output.dir);
        case SCHED_RENEW:
                if (x->m.engine->opts.force || st->force_renewal)
                        return strprintf("renew: forced%s (serial %s)", st->force_renewal ? " (marked by revoke)" : "",
                                         st->serial);
                return strprintf("renew: serial %s is due since %s", st->serial, clock_format_rfc3339(when, t));
        case SCHED_RESUME:
                return strprintf("resume: an interrupted %s (%s) is finished",
                                 st->phase == STATE_DEPLOYING ? "deploy/reload" : "issuance", state_phase_to_string(st->phase));
        default:
                return strprintf("nothing to do: serial %s valid until %s, renewal at %s", st->serial,
                                 clock_format_rfc3339(st->not_after, (char[21]) {}), clock_format_rfc3339(when, t));
        }
}

static int load_state(mach *x, char *err, size_t errlen) {
        cert_state *st = NULL;
        int r = state_load(x->m.state_dir, x->m.cert->name, &st, err, errlen);
        if (r == -ENOENT) {
                st = state_new();
                r = st ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        state_free(x->m.st);
        x->m.st = st;
        return 0;
}

static void start_machine(mach *x) {
        engine *e = x->m.engine;
        const conf_cert *cert = x->m.cert;
        uint64_t hash = sched_hash(e->machine_id, cert->name);
        sched_action a;
        time_t when;
        char err[512] = "";
        int r;

        r = load_state(x, err, sizeof(err));
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot read the state: %s", err[0] ? err : strerror(-r));
                set_error(x, msg ? msg : "cannot read the state");
                x->res.action = ENGINE_ACTION_FAILED;
                log_cert(LOG_ERR, cert->name, "%s", x->res.error);
                return;
        }
        if (sched_renew_before_ignored(&cert->schedule, x->m.st->not_before, x->m.st->not_after)) {
                char b[32], l[32];
                log_cert(LOG_WARNING, cert->name,
                         "renew_before %s is not shorter than the certificate's lifetime %s; renewing at "
                         "renew_fraction %.2f of the lifetime instead (set a shorter renew_before)",
                         format_duration(cert->schedule.renew_before, b, sizeof(b)),
                         format_duration((uint64_t) (x->m.st->not_after - x->m.st->not_before), l, sizeof(l)),
                         cert->schedule.renew_fraction > 0 && cert->schedule.renew_fraction <= 1
                                 ? cert->schedule.renew_fraction : 0.33);
        }
        a = sched_decide(&cert->schedule, x->m.st, have_current(cert), clock_now(), hash, e->opts.force, &when);
        set_result_cert(x);
        if (e->opts.dry_run) {
                x->plan = describe_plan(x, a, when);
                x->res.plan = x->plan;
                x->res.action = ENGINE_ACTION_NONE;
                return;
        }
        if (a == SCHED_NONE) {
                x->res.action = ENGINE_ACTION_NONE;
                return;
        }

        r = state_lock(x->m.state_dir, cert->name, false, &x->lock_fd);
        if (r == -EWOULDBLOCK || r == -EAGAIN) {
                pid_t pid = 0;
                _cleanup_(freep) char *msg = NULL;
                (void) state_lock_holder(x->m.state_dir, cert->name, &pid);
                msg = strprintf("locked by another acm-agent (pid %d); skipped", (int) pid);
                set_error(x, msg ? msg : "locked");
                x->res.action = ENGINE_ACTION_LOCKED;
                log_cert(LOG_NOTICE, cert->name, "%s", x->res.error);
                return;
        }
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot take the lock in %s/certs: %s", x->m.state_dir, strerror(-r));
                set_error(x, msg ? msg : "cannot lock");
                x->res.action = ENGINE_ACTION_FAILED;
                log_cert(LOG_ERR, cert->name, "%s", x->res.error);
                return;
        }
        /* another process may have finished while we decided: decide again */
        r = load_state(x, err, sizeof(err));
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot read the state: %s", err[0] ? err : strerror(-r));
                set_error(x, msg ? msg : "cannot read the state");
                x->res.action = ENGINE_ACTION_FAILED;
                unlock(x);
                return;
        }
        a = sched_decide(&cert->schedule, x->m.st, have_current(cert), clock_now(), hash, e->opts.force, &when);
        set_result_cert(x);
        if (a == SCHED_NONE) {
                x->res.action = ENGINE_ACTION_NONE;
                unlock(x);
                return;
        }
        x->had_cert = x->m.st->serial != NULL;
        x->m.st->last_attempt = clock_now();
        e->n_busy++;

        if (x->m.st->phase == STATE_DEPLOYING && json_is_true(json_object_get(x->m.st->extra, "reload_pending"))) {
                log_cert(LOG_INFO, cert->name, "resuming: the reload after deploying %s", x->m.st->current_version);
                previous_from_json(&x->prev, json_object_get(x->m.st->extra, "previous"));
                x->had_cert = x->prev.serial != NULL;
                await_reload(x);
                return;
        }
        x->ops = ops_for(cert);
        if (!x->ops) {
                _cleanup_(freep) char *msg = strprintf("issuer %s is not supported by this build yet",
                                                       conf_issuer_type_to_string(cert->issuer_type));
                return finish_failed(x, "config", msg ? msg : "unsupported issuer");
        }
        if (sched_in_flight(x->m.st))
                log_cert(LOG_INFO, cert->name, "resuming an interrupted issuance (%s)", state_phase_to_string(x->m.st->phase));
        else
                log_cert(LOG_INFO, cert->name, "%s", a == SCHED_ISSUE ? "issuing a certificate" :
                         (e->opts.force || x->m.st->force_renewal) ? "renewing (forced)" : "renewing: due");
        x->stage = STAGE_ISSUING;
        r = x->ops->start(&x->m);
        if (r < 0) {
                _cleanup_(freep) char *msg = strprintf("cannot start: %s", strerror(-r));
                x->ops = NULL;
                finish_failed(x, "internal", msg ? msg : "cannot start");
        }
}

int engine_run_once(engine *e) {
        size_t n = 0;
        int r;

        for (conf_cert **c = e->conf->certs; c && *c; c++)
                n++;
        e->machines = calloc(n ? n : 1, sizeof(*e->machines));
        if (!e->machines)
                return -ENOMEM;
        for (conf_cert **c = e->conf->certs; c && *c; c++) {
                mach *x;
                if (e->opts.only && !streq((*c)->name, e->opts.only))
                        continue;
                x = calloc(1, sizeof(*x));
                if (!x)
                        return -ENOMEM;
                x->m.engine = e;
                x->m.cert = *c;
                x->m.state_dir = e->conf->state_dir;
                x->lock_fd = -1;
                x->res.name = (*c)->name;
                x->res.issuer = conf_issuer_type_to_string((*c)->issuer_type);
                e->machines[e->n_machines++] = x;
        }

        e->running = true;
        for (size_t i = 0; i < e->n_machines; i++)
                start_machine(e->machines[i]);
        if (e->n_busy == 0 && e->n_pass == 0) {
                e->running = false;
                return 0;  /* nothing to wait for: no loop, no AWS, no thread */
        }
        check_done(e);
        if (!e->running)
                return 0;
        r = sd_event_loop(e->loop);
        return r < 0 ? r : 0;
}
