/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The keystore: the one owner of a certificate's private keys, from
 * generation to pending to promotion to deletion.
 *
 *   key.pending.pem  a key made (or received, acm export) for a request whose
 *                    certificate is not served yet; an interrupted request is
 *                    resumed with it, so a key is never orphaned
 *   key.pem          the key of the served certificate; reused for the next
 *                    request when key.reuse is set
 *
 * Both 0600 in the certificate's directory (store.h), written atomically,
 * wiped from memory after use. Generation (RSA takes tens of ms) runs on a
 * worker thread and the key file is written there too; callbacks run on the
 * loop thread.
 */

#include <openssl/evp.h>
#include <stdbool.h>

#include "basic/worker.h"
#include "conf/conf.h"

typedef enum store_key_slot {
        STORE_KEY_PENDING,
        STORE_KEY_SERVED,
} store_key_slot;

/* Loads a key file. 0 and *ret (a new reference); -ENOENT; -EPERM when the
 * file is readable by others; -EBADMSG when it is not a key. */
int store_key_load(const char *state_dir, const char *name, store_key_slot slot, EVP_PKEY **ret);

/* Writes key into slot atomically (0600, fsync'd). Thread-safe. 0 or -errno. */
int store_key_save(const char *state_dir, const char *name, store_key_slot slot, EVP_PKEY *key);

/* The pending key becomes the served key (rename, directory fsync'd).
 * 0, -ENOENT when there is no pending key, -errno. */
int store_key_promote(const char *state_dir, const char *name);

/* Deletes a slot's key: its bytes overwritten with zeros and synced first
 * (best effort: see overwrite_file), then unlinked, the directory synced.
 * 0 also when absent; -errno when it cannot be unlinked. Thread-safe. */
int store_key_delete(const char *state_dir, const char *name, store_key_slot slot);

typedef struct store_key_job store_key_job;

/* The key for a request: key is a new reference the callee owns (NULL on
 * failure); fresh tells whether it was generated now; r is 0 or -errno;
 * what (on failure) is a phrase for the operator ("generating the key",
 * "saving the key"). */
typedef void (*store_key_cb)(int r, EVP_PKEY *key, bool fresh, const char *what, void *userdata);

/*
 * Gets the key for a new request of name with settings spec:
 *   1. the pending key when it exists and fits spec (an interrupted
 *      request's: resumed with the same key);
 *   2. else with allow_served (key.reuse) the served key when it fits;
 *   3. else a new key generated on pool and saved as pending (both on the
 *      worker) before cb runs.
 * A pending key that does not fit spec any more (the settings changed) is
 * replaced. cb runs exactly once on the loop, never from inside this call,
 * unless the job is cancelled first. Returns 0 and *ret_job (valid until
 * cb runs or the job is cancelled), -ENOMEM.
 */
int store_key_acquire(worker_pool *pool, const char *state_dir, const char *name, const conf_key *spec,
                      bool allow_served, store_key_cb cb, void *userdata, store_key_job **ret_job);

/* Cancels: cb is never called; a key the worker is still making is freed
 * (wiped) when it returns, or when the pool shuts down (-ECANCELED).
 * Accepts NULL. */
void store_key_job_cancel(store_key_job *j);
