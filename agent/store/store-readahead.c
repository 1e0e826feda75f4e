/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "store/store-readahead.h"
#include "store/store.h"

typedef struct entry {
        int r;
        cert_state *st;
        char *err;
        bool taken;
} entry;

struct store_readahead {
        char *state_dir;
        pthread_t thread;
        bool running;              /* a thread was started and not joined (the caller's) */
        atomic_bool stop;          /* read no further */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done_reading;         /* lock: the thread read all it will */
        bool end;                  /* lock: the caller wants the thread to end */
        void (*then)(void *arg);   /* lock: what the thread runs after reading, once */
        void *then_arg;
        char **names;              /* store_list_candidates(), sorted (written before n_read grows) */
        entry *entries;            /* per name; [0, n_read) were read */
        size_t n_names;
        atomic_size_t n_read;      /* release: entries[0, n_read) and names are complete */
};

static void read_states(store_readahead *ra) {
        _cleanup_(closep) int certs_fd = -1;

        if (store_list_candidates(ra->state_dir, &ra->names) < 0)
                return;
        ra->n_names = strv_length(ra->names);
        if (ra->n_names == 0 || (certs_fd = store_certs_open(ra->state_dir)) < 0)
                return;
        ra->entries = calloc(ra->n_names, sizeof(entry));
        if (!ra->entries)
                return;
        for (size_t i = 0; i < ra->n_names; i++) {
                entry *e = &ra->entries[i];
                if (atomic_load_explicit(&ra->stop, memory_order_relaxed))
                        break;
                e->r = store_load_at(certs_fd, ra->state_dir, ra->names[i], &e->st, &e->err);
                atomic_store_explicit(&ra->n_read, i + 1, memory_order_release);
        }
}

static void *readahead_main(void *userdata) {
        store_readahead *ra = userdata;
        void (*then)(void *) = NULL;

        read_states(ra);
        /* Then wait for the caller: the end, or more work on this thread
         * (which is running already, where a new one would have to be
         * started and scheduled). */
        pthread_mutex_lock(&ra->lock);
        ra->done_reading = true;
        pthread_cond_broadcast(&ra->cond);
        while (!ra->end && !ra->then)
                pthread_cond_wait(&ra->cond, &ra->lock);
        then = ra->then;
        pthread_mutex_unlock(&ra->lock);
        if (then)
                then(ra->then_arg);
        return NULL;
}

static int cmp_name(const void *key, const void *elem) {
        return strcmp(key, *(char *const *) elem);
}

store_readahead *store_readahead_start(const char *state_dir) {
        store_readahead *ra = calloc(1, sizeof(*ra));
        sigset_t all, old;
        int r;

        if (!ra)
                return NULL;
        atomic_init(&ra->stop, false);
        atomic_init(&ra->n_read, 0);
        pthread_mutex_init(&ra->lock, NULL);
        pthread_cond_init(&ra->cond, NULL);
        ra->state_dir = strdup(state_dir);
        if (!ra->state_dir)
                return store_readahead_free(ra);
        sigfillset(&all);
        if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
                return store_readahead_free(ra);
        r = pthread_create(&ra->thread, NULL, readahead_main, ra);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return store_readahead_free(ra);
        ra->running = true;
        return ra;
}

const char *store_readahead_dir(const store_readahead *ra) {
        return ra->state_dir;
}

void store_readahead_wait(store_readahead *ra) {
        if (!ra->running)
                return;
        pthread_mutex_lock(&ra->lock);
        while (!ra->done_reading)
                pthread_cond_wait(&ra->cond, &ra->lock);
        pthread_mutex_unlock(&ra->lock);
}

void store_readahead_stop(store_readahead *ra) {
        if (!ra->running)
                return;
        atomic_store_explicit(&ra->stop, true, memory_order_relaxed);
        pthread_mutex_lock(&ra->lock);
        ra->end = true;
        pthread_cond_broadcast(&ra->cond);
        pthread_mutex_unlock(&ra->lock);
        (void) pthread_join(ra->thread, NULL);
        ra->running = false;
}

bool store_readahead_then(store_readahead *ra, void (*fn)(void *arg), void *arg) {
        bool ok;

        if (!ra->running || !fn)
                return false;
        atomic_store_explicit(&ra->stop, true, memory_order_relaxed);
        pthread_mutex_lock(&ra->lock);
        ok = !ra->end && !ra->then;
        if (ok) {
                ra->then = fn;
                ra->then_arg = arg;
                pthread_cond_broadcast(&ra->cond);
        }
        pthread_mutex_unlock(&ra->lock);
        return ok;
}

bool store_readahead_take(store_readahead *ra, const char *name, int *ret_r, cert_state **ret_state, char **ret_error) {
        size_t n = atomic_load_explicit(&ra->n_read, memory_order_acquire);
        char **at;
        entry *e;

        if (n == 0 || !(at = bsearch(name, ra->names, n, sizeof(char *), cmp_name)))
                return false;
        e = &ra->entries[at - ra->names];
        if (e->taken)
                return false;
        e->taken = true;
        *ret_r = e->r;
        *ret_state = TAKE_PTR(e->st);
        *ret_error = TAKE_PTR(e->err);
        return true;
}

store_readahead *store_readahead_free(store_readahead *ra) {
        if (!ra)
                return NULL;
        store_readahead_stop(ra);
        for (size_t i = 0; i < atomic_load_explicit(&ra->n_read, memory_order_relaxed); i++) {
                cert_state_free(ra->entries[i].st);
                free(ra->entries[i].err);
        }
        free(ra->entries);
        strv_free(ra->names);
        free(ra->state_dir);
        pthread_cond_destroy(&ra->cond);
        pthread_mutex_destroy(&ra->lock);
        free(ra);
        return NULL;
}
