/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/worker.h"

#define WORKER_MAX_THREADS 64u

typedef struct job {
        struct job *next;
        worker_fn fn;
        worker_done done;
        void *arg;
        int r;
} job;

struct worker_pool {
        sd_event *loop;
        sd_event_source *source;
        int efd;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        job *queue_head, *queue_tail;  /* waiting to run */
        job *done_head, *done_tail;    /* finished, waiting for the loop */
        unsigned n_idle;
        unsigned max_threads;
        unsigned n_threads;
        pthread_t threads[WORKER_MAX_THREADS];
        bool stop;
};

static void push(job **head, job **tail, job *j) {
        j->next = NULL;
        if (*tail)
                (*tail)->next = j;
        else
                *head = j;
        *tail = j;
}

static void *thread_main(void *userdata) {
        worker_pool *p = userdata;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                job *j;

                while (!p->stop && !p->queue_head) {
                        p->n_idle++;
                        pthread_cond_wait(&p->cond, &p->lock);
                        p->n_idle--;
                }
                if (p->stop)
                        break;
                j = p->queue_head;
                p->queue_head = j->next;
                if (!p->queue_head)
                        p->queue_tail = NULL;
                pthread_mutex_unlock(&p->lock);

                j->r = j->fn(j->arg);

                pthread_mutex_lock(&p->lock);
                push(&p->done_head, &p->done_tail, j);
                (void) eventfd_write(p->efd, 1);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

static int on_event(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        worker_pool *p = userdata;
        eventfd_t v;
        job *list;

        (void) eventfd_read(p->efd, &v);
        pthread_mutex_lock(&p->lock);
        list = p->done_head;
        p->done_head = p->done_tail = NULL;
        pthread_mutex_unlock(&p->lock);

        while (list) {
                job *j = list;
                list = j->next;
                j->done(j->r, j->arg);
                free(j);
        }
        return 0;
}

int worker_pool_new(sd_event *e, unsigned n_threads, worker_pool **ret) {
        worker_pool *p;
        int r;

        if (!e || !ret)
                return -EINVAL;
        if (n_threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                n_threads = n > 0 ? (unsigned) n : 1;
        }
        if (n_threads > WORKER_MAX_THREADS)
                n_threads = WORKER_MAX_THREADS;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->max_threads = n_threads;
        p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->efd < 0) {
                r = -errno;
                free(p);
                return r;
        }
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        p->loop = sd_event_ref(e);
        r = sd_event_add_io(e, &p->source, p->efd, EPOLLIN, on_event, p);
        if (r < 0) {
                worker_pool_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int worker_pool_submit(worker_pool *p, worker_fn fn, worker_done done, void *arg) {
        job *j;
        int r = 0;

        if (!p || !fn || !done)
                return -EINVAL;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->fn = fn;
        j->done = done;
        j->arg = arg;

        pthread_mutex_lock(&p->lock);
        push(&p->queue_head, &p->queue_tail, j);
        if (p->n_idle == 0 && p->n_threads < p->max_threads) {
                r = -pthread_create(&p->threads[p->n_threads], NULL, thread_main, p);
                if (r == 0)
                        p->n_threads++;
                else if (p->n_threads > 0)
                        r = 0;  /* the running threads will get to it */
                else {
                        /* nobody will run it: take it back */
                        p->queue_head = p->queue_tail = NULL;
                        free(j);
                }
        }
        if (r == 0)
                pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        return r;
}

worker_pool *worker_pool_free(worker_pool *p) {
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        /* every job gets its done callback exactly once, so its owner can
         * wipe and free what it holds: queued ones were never run */
        for (job *j = p->done_head, *n; j; j = n) {
                n = j->next;
                j->done(-ECANCELED, j->arg);
                free(j);
        }
        for (job *j = p->queue_head, *n; j; j = n) {
                n = j->next;
                j->done(-ECANCELED, j->arg);
                free(j);
        }
        sd_event_source_disable_unref(p->source);
        sd_event_unref(p->loop);
        safe_close(p->efd);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

unsigned worker_pool_n_threads(const worker_pool *p) {
        return p ? p->n_threads : 0;
}
