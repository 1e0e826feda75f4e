/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's disk work, off the loop: state writes (fsync'd file and
 * directory) and deploys (build the files, write a version, switch). The
 * loop serialises the state first, so a worker never reads a machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "deploy/deploy-build.h"
#include "engine/engine-internal.h"
#include "store/store-keys.h"
#include "store/store.h"

typedef struct persist_job {
        machine *m;
        char *state_dir, *name, *text;
        EVP_PKEY *save_pending_key;
        char *promote_for;
        bool delete_keys;
        const char *fail_point, *kill_point;
        const char *what;           /* what failed, for the message */
        int r_key;                  /* a key step after the state: logged, not fatal */
        void (*done)(machine *m, int r);
} persist_job;

static void persist_job_free(persist_job *j) {
        EVP_PKEY_free(j->save_pending_key);
        free(j->promote_for);
        free(j->state_dir);
        free(j->name);
        free(j->text);
        free(j);
}

static int persist_run(void *arg) {
        persist_job *j = arg;
        int r;

        if (j->save_pending_key) {
                j->what = "saving the key";
                r = store_key_save(j->state_dir, j->name, STORE_KEY_PENDING, j->save_pending_key);
                if (r < 0)
                        return r;
        }
        if (j->promote_for) {
                /* before the state: a kill in between leaves the served key
                 * in place and the state one step behind (redone), never a
                 * valid state whose key is still "pending" */
                _cleanup_(crypto_pkey_freep) EVP_PKEY *k = NULL;
                if (store_key_load(j->state_dir, j->name, STORE_KEY_PENDING, &k) >= 0 &&
                    crypto_key_matches_cert(k, j->promote_for) > 0)
                        j->r_key = store_key_promote(j->state_dir, j->name);
        }
        j->what = "writing the state file";
        if (j->fail_point && testpoint_fail(j->fail_point, j->name))
                return -EIO;
        r = store_save_text(j->state_dir, j->name, j->text);
        if (r < 0)
                return r;
        if (j->kill_point)
                testpoint_hit(j->kill_point, j->name);
        if (j->delete_keys) {
                j->r_key = store_key_delete(j->state_dir, j->name, STORE_KEY_SERVED);
                if (j->r_key >= 0)
                        j->r_key = store_key_delete(j->state_dir, j->name, STORE_KEY_PENDING);
        }
        return 0;
}

static void persist_done(int r, void *arg) {
        persist_job *j = arg;
        machine *m = j->m;

        if (r == -ECANCELED) {
                /* the engine is being freed: nobody waits for this any more */
                persist_job_free(j);
                return;
        }
        if (j->r_key < 0)
                log_cert(LOG_WARNING, j->name, "the state is saved, but %s the key failed: %s",
                         j->promote_for ? "promoting" : "deleting", strerror(-j->r_key));
        if (r < 0)
                log_cert(LOG_ERR, j->name, "%s in %s/certs/%s failed: %s", j->what, j->state_dir, j->name, strerror(-r));
        void (*done)(machine *, int) = j->done;
        persist_job_free(j);
        done(m, r);
}

void engine_persist(machine *m, const persist_request *req, void (*done)(machine *m, int r)) {
        _cleanup_(json_decrefp) json_t *is = NULL;
        persist_job *j;
        worker_pool *pool;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j) {
                done(m, -ENOMEM);
                return;
        }
        j->m = m;
        j->done = done;
        j->state_dir = strdup(m->cref->c->state_dir);
        j->name = strdup(m->name);
        r = j->state_dir && j->name ? 0 : -ENOMEM;
        /* the issuer's part, typed in memory, JSON on disk */
        json_decref(m->st->issuer);
        m->st->issuer = NULL;
        if (r >= 0 && m->istate && m->ops) {
                r = m->ops->state_save(m->istate, &is);
                if (r >= 0) {
                        m->st->issuer = json_incref(is);
                        r = state_set_string(&m->st->issuer_type, m->ops->name);
                }
        }
        if (r >= 0)
                r = cert_state_to_text(m->st, &j->text);
        if (r >= 0 && req) {
                if (req->save_pending_key) {
                        EVP_PKEY_up_ref(req->save_pending_key);
                        j->save_pending_key = req->save_pending_key;
                }
                if (req->promote_for && !(j->promote_for = strdup(req->promote_for)))
                        r = -ENOMEM;
                j->delete_keys = req->delete_keys;
                j->fail_point = req->fail_point;
                j->kill_point = req->kill_point;
        }
        if (r >= 0)
                r = engine_workers(m->e, &pool);
        if (r >= 0)
                r = worker_pool_submit(pool, persist_run, persist_done, j);
        if (r < 0) {
                persist_job_free(j);
                done(m, r);
                return;
        }
        m->busy = BUSY_SAVE;
}

typedef struct deploy_job {
        machine *m;
        const conf_cert *cert;      /* kept alive by the machine's configuration reference */
        char *name;
        EVP_PKEY *key;
        char *cert_pem, *chain_pem, *serial;
        deploy_result dr;
        char err[1024];
        void (*done)(machine *m, int r, const char *version, const char *previous, const char *error);
} deploy_job;

static void deploy_job_free(deploy_job *j) {
        EVP_PKEY_free(j->key);
        free(j->name);
        free(j->cert_pem);
        free(j->chain_pem);
        free(j->serial);
        free(j);
}

/* Worker thread: the certificate's output directory only. */
static int deploy_run(void *arg) {
        deploy_job *j = arg;
        _cleanup_(freep) char *reason = NULL;
        deploy_files f = {};
        char hint[24];
        int r;

        r = deploy_files_build(j->cert, j->key, j->cert_pem, j->chain_pem, &f, &reason);
        if (r < 0) {
                snprintf(j->err, sizeof(j->err), "%s", reason ? reason : strerror(-r));
                return r;
        }
        snprintf(hint, sizeof(hint), "%.16s", j->serial);
        r = deploy_install(&j->cert->output, j->name, f.files, f.n, hint, &j->dr, j->err, sizeof(j->err));
        deploy_files_done(&f);
        if (r < 0)
                return r;
        testpoint_hit("deploy-switched", j->name);
        return 0;
}

static void deploy_done(int r, void *arg) {
        deploy_job *j = arg;
        machine *m = j->m;
        void (*done)(machine *, int, const char *, const char *, const char *) = j->done;
        char version[DEPLOY_ID_MAX], previous[DEPLOY_ID_MAX], err[sizeof(j->err)];

        if (r == -ECANCELED) {
                deploy_job_free(j);
                return;
        }
        snprintf(version, sizeof(version), "%s", r >= 0 ? j->dr.version : "");
        snprintf(previous, sizeof(previous), "%s", r >= 0 ? j->dr.previous : "");
        snprintf(err, sizeof(err), "%s", j->err[0] ? j->err : r < 0 ? strerror(-r) : "");
        deploy_job_free(j);
        done(m, r, version, previous[0] ? previous : NULL, err);
}

void engine_deploy(machine *m, const deploy_request *req,
                   void (*done)(machine *m, int r, const char *version, const char *previous, const char *error)) {
        deploy_job *j = calloc(1, sizeof(*j));
        worker_pool *pool;
        int r = -ENOMEM;

        if (j) {
                j->m = m;
                j->cert = m->cert;
                j->done = done;
                EVP_PKEY_up_ref(req->key);
                j->key = req->key;
                j->name = strdup(m->name);
                j->cert_pem = strdup(req->cert_pem);
                j->chain_pem = req->chain_pem ? strdup(req->chain_pem) : NULL;
                j->serial = strdup(req->serial ? req->serial : "");
                if (j->name && j->cert_pem && j->serial && (!req->chain_pem || j->chain_pem))
                        r = engine_workers(m->e, &pool);
                if (r >= 0)
                        r = worker_pool_submit(pool, deploy_run, deploy_done, j);
        }
        if (r < 0) {
                if (j)
                        deploy_job_free(j);
                done(m, r, NULL, NULL, strerror(-r));
                return;
        }
        m->busy = BUSY_DEPLOY;
}
