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
#include "deploy/deploy.h"
#include "engine/engine-internal.h"
#include "store/store-keys.h"
#include "store/store.h"

typedef struct pem_copy {
        char *serial, *cert, *chain;
} pem_copy;

typedef struct persist_job {
        machine *m;
        char *state_dir, *name, *text;
        EVP_PKEY *save_pending_key;
        pem_copy pems[3];             /* certificates to keep before the state refers to them */
        char *keep[3];                /* gc: the serials the state refers to */
        bool promote, gc, delete_keys;
        const conf_output *out;       /* remove_version's: kept alive by the machine's configuration */
        char *remove_version;
        bool version_tried;
        int r_version;
        char version_err[512];
        const char *fail_point, *kill_point;
        const char *what;           /* what failed, for the message */
        int r_key;                  /* a key step after the state: logged, not fatal */
        void (*done)(machine *m, int r);
} persist_job;

static void persist_job_free(persist_job *j) {
        EVP_PKEY_free(j->save_pending_key);
        for (size_t i = 0; i < ELEMENTSOF(j->pems); i++) {
                free(j->pems[i].serial);
                free(j->pems[i].cert);
                free(j->pems[i].chain);
                free(j->keep[i]);
        }
        free(j->state_dir);
        free(j->name);
        free(j->text);
        free(j->remove_version);
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
        j->what = "saving the certificate";
        for (size_t i = 0; i < ELEMENTSOF(j->pems); i++)
                if (j->pems[i].serial) {
                        r = store_pem_save(j->state_dir, j->name, j->pems[i].serial, j->pems[i].cert,
                                           j->pems[i].chain);
                        if (r < 0)
                                return r;
                }
        if (j->promote && j->keep[0]) {
                /* before the state: a kill in between leaves the served key
                 * in place and the state one step behind (redone), never a
                 * valid state whose key is still "pending"; only the key of
                 * the certificate now served (after a redeploy of the
                 * served key a pending key may be another request's) */
                _cleanup_(crypto_pkey_freep) EVP_PKEY *k = NULL;
                _cleanup_(freep) char *cert = NULL, *chain = NULL;
                if (store_pem_load(j->state_dir, j->name, j->keep[0], &cert, &chain) >= 0 &&
                    store_key_load(j->state_dir, j->name, STORE_KEY_PENDING, &k) >= 0 &&
                    crypto_key_matches_cert(k, cert) > 0)
                        j->r_key = store_key_promote(j->state_dir, j->name);
        }
        if (j->remove_version) {
                /* before the state that forgets it: a kill in between
                 * leaves it named there, and the next removal finds it gone */
                j->version_tried = true;
                j->r_version = deploy_version_remove(j->out, j->remove_version, j->version_err,
                                                     sizeof(j->version_err));
        }
        j->what = "writing the state file";
        if (j->fail_point && testpoint_fail(j->fail_point, j->name))
                return -EIO;
        r = store_save_text(j->state_dir, j->name, j->text);
        if (r < 0)
                return r;
        if (j->kill_point)
                testpoint_hit(j->kill_point, j->name);
        if (j->gc)
                (void) store_pem_gc(j->state_dir, j->name, (const char *const *) j->keep, ELEMENTSOF(j->keep));
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
                log_cert(LOG_WARNING, j->name, "%s the key failed: %s", j->promote ? "promoting" : "deleting",
                         strerror(-j->r_key));
        if (j->remove_version && (!j->version_tried || (j->r_version < 0 && j->r_version != -ENOENT))) {
                if (j->version_tried)
                        log_cert(LOG_WARNING, j->name, "cannot remove the revoked version %s (tried again after the "
                                 "next renewal): %s", j->remove_version,
                                 j->version_err[0] ? j->version_err : strerror(-j->r_version));
                /* kept for the next try (saved with the next state) */
                (void) state_set_string(&m->st->revoked_version, j->remove_version);
        } else if (j->remove_version && j->r_version >= 0)
                log_cert(LOG_INFO, j->name, "removed the revoked version %s", j->remove_version);
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
        /* the certificates the state refers to, in files of their own: the
         * ones known in memory are written (once) before the state; the
         * served one is first, for the key promotion */
        const cert_version *vs[] = { &m->st->served, &m->st->previous, &m->st->pending };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(vs); i++) {
                if (!vs[i]->serial)
                        continue;
                if (!(j->keep[i] = strdup(vs[i]->serial)))
                        r = -ENOMEM;
                else if (vs[i]->cert_pem &&
                         (!(j->pems[i].serial = strdup(vs[i]->serial)) || !(j->pems[i].cert = strdup(vs[i]->cert_pem)) ||
                          (vs[i]->chain_pem && !(j->pems[i].chain = strdup(vs[i]->chain_pem)))))
                        r = -ENOMEM;
        }
        if (r >= 0 && req) {
                if (req->save_pending_key) {
                        EVP_PKEY_up_ref(req->save_pending_key);
                        j->save_pending_key = req->save_pending_key;
                }
                j->promote = req->promote;
                j->gc = req->gc_pems;
                j->delete_keys = req->delete_keys;
                if (req->remove_version && !(j->remove_version = strdup(req->remove_version)))
                        r = -ENOMEM;
                j->out = &m->cert->output;
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
        /* a killed run's half-written version or temporary symlink first
         * (it is never a rollback target; this only frees the space) */
        if (deploy_clean_temp(&j->cert->output, j->err, sizeof(j->err)) < 0)
                j->err[0] = 0; /* the install checks the tree again and says why */
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
        if (r >= 0 && j->dr.notice[0])
                log_cert(LOG_NOTICE, m->name, "%s", j->dr.notice);
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
