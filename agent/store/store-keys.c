/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "store/store-keys.h"
#include "store/store.h"

static char *key_path(const char *state_dir, const char *name, store_key_slot slot) {
        if (!store_name_valid(name) || isempty(state_dir))
                return NULL;
        return strprintf("%s/certs/%s/%s", state_dir, name, slot == STORE_KEY_SERVED ? "key.pem" : "key.pending.pem");
}

int store_key_load(const char *state_dir, const char *name, store_key_slot slot, EVP_PKEY **ret) {
        _cleanup_(freep) char *p = key_path(state_dir, name, slot);
        int r;

        if (!p)
                return -EINVAL;
        r = crypto_key_load_file(p, ret);
        return r == -EINVAL ? -EBADMSG : r;
}

int store_key_save(const char *state_dir, const char *name, store_key_slot slot, EVP_PKEY *key) {
        _cleanup_(freep) char *p = key_path(state_dir, name, slot), *d = store_cert_dir(state_dir, name);
        _cleanup_(crypto_secret_freep) char *pem = NULL;
        int r;

        if (!p || !d || !key)
                return -EINVAL;
        if (mkdir(d, 0700) < 0 && errno != EEXIST)
                return -errno;
        r = crypto_key_to_pem(key, &pem);
        if (r < 0)
                return r;
        return write_file_atomic(p, pem, strlen(pem), 0600, (uid_t) -1, (gid_t) -1);
}

int store_key_promote(const char *state_dir, const char *name) {
        _cleanup_(freep) char *a = key_path(state_dir, name, STORE_KEY_PENDING);
        _cleanup_(freep) char *b = key_path(state_dir, name, STORE_KEY_SERVED);

        if (!a || !b)
                return -EINVAL;
        if (rename(a, b) < 0)
                return -errno;
        return fsync_parent_dir(b);
}

/* Overwrites the regular file at p with zeros and syncs them, so a key's
 * bytes do not stay in the freed blocks of a filesystem that writes in
 * place (ext4, xfs; a copy-on-write or log-structured one may keep them:
 * there only disk encryption helps). 0, -ENOENT, -errno. */
static int overwrite_file(const char *p) {
        static const char zeros[4096];
        /* O_NONBLOCK: a FIFO planted there does not hang the agent */
        _cleanup_(closep) int fd = open(p, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        for (off_t left = st.st_size; left > 0;) {
                size_t n = (size_t) left < sizeof(zeros) ? (size_t) left : sizeof(zeros);
                int r = write_all(fd, zeros, n);
                if (r < 0)
                        return r;
                left -= (off_t) n;
        }
        return fdatasync(fd) < 0 ? -errno : 0;
}

int store_key_delete(const char *state_dir, const char *name, store_key_slot slot) {
        _cleanup_(freep) char *p = key_path(state_dir, name, slot);
        int r;

        if (!p)
                return -EINVAL;
        r = overwrite_file(p);
        if (r == -ENOENT)
                return 0;
        /* a file that cannot be overwritten (not a regular file, a full
         * disk) is still removed: the key must not stay usable */
        if (unlink(p) < 0) {
                if (errno == ENOENT)
                        return 0;
                return -errno;
        }
        return fsync_parent_dir(p);
}

struct store_key_job {
        /* input, read by the worker */
        char *state_dir, *name;
        conf_key spec;
        bool allow_served;
        /* output */
        EVP_PKEY *key;
        bool fresh;
        const char *what;
        /* owner, loop thread only */
        store_key_cb cb;
        void *userdata;
        bool cancelled;
};

static void job_free(store_key_job *j) {
        EVP_PKEY_free(j->key);  /* OpenSSL wipes private key material on free */
        free(j->state_dir);
        free(j->name);
        free(j);
}

/* Worker thread: only the job and the certificate's key files. */
static int acquire_run(void *arg) {
        store_key_job *j = arg;
        EVP_PKEY *k = NULL;
        int r;

        r = store_key_load(j->state_dir, j->name, STORE_KEY_PENDING, &k);
        if (r >= 0 && crypto_key_matches_conf(k, &j->spec)) {
                j->key = k;
                return 0;
        }
        EVP_PKEY_free(k);
        k = NULL;
        if (j->allow_served) {
                r = store_key_load(j->state_dir, j->name, STORE_KEY_SERVED, &k);
                if (r >= 0 && crypto_key_matches_conf(k, &j->spec)) {
                        j->key = k;
                        return 0;
                }
                EVP_PKEY_free(k);
                k = NULL;
        }
        j->what = "generating the key";
        r = crypto_key_generate(&j->spec, &k);
        if (r < 0)
                return r;
        j->what = "saving the new key in the state directory";
        r = store_key_save(j->state_dir, j->name, STORE_KEY_PENDING, k);
        if (r < 0) {
                EVP_PKEY_free(k);
                return r;
        }
        j->key = k;
        j->fresh = true;
        return 0;
}

/* Loop thread (or the pool's shutdown with -ECANCELED). */
static void acquire_done(int r, void *arg) {
        store_key_job *j = arg;

        if (!j->cancelled && r != -ECANCELED) {
                EVP_PKEY *k = r >= 0 ? TAKE_PTR(j->key) : NULL;
                j->cb(r, k, j->fresh, j->what, j->userdata);
        }
        job_free(j);
}

int store_key_acquire(worker_pool *pool, const char *state_dir, const char *name, const conf_key *spec,
                      bool allow_served, store_key_cb cb, void *userdata, store_key_job **ret_job) {
        store_key_job *j;
        int r;

        if (!pool || !spec || !cb || !store_name_valid(name))
                return -EINVAL;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->state_dir = strdup(state_dir);
        j->name = strdup(name);
        if (!j->state_dir || !j->name) {
                job_free(j);
                return -ENOMEM;
        }
        j->spec = *spec;
        j->allow_served = allow_served;
        j->cb = cb;
        j->userdata = userdata;
        j->what = "loading the key";
        r = worker_pool_submit(pool, acquire_run, acquire_done, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        if (ret_job)
                *ret_job = j;
        return 0;
}

void store_key_job_cancel(store_key_job *j) {
        if (j)
                j->cancelled = true;
}
