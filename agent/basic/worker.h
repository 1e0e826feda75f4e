/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * worker: run slow CPU work (RSA key generation) off the event loop.
 *
 * A pool of threads (started lazily at the first job, so a pass with nothing
 * to do creates none) takes jobs from a FIFO; each job's fn runs on a worker
 * thread, and its done callback runs later on the loop thread, delivered
 * through one eventfd watched by sd-event. fn must not touch loop state.
 */
#include <stddef.h>
#include <systemd/sd-event.h>

typedef struct worker_pool worker_pool;

/* Runs on a worker thread; returns 0 or -errno, which done receives. */
typedef int (*worker_fn)(void *arg);
/* Runs on the loop thread after fn returned r. */
typedef void (*worker_done)(int r, void *arg);

/*
 * Creates a pool on loop e with at most n_threads threads (0 = number of
 * online CPUs, at least 1). Returns 0 and sets *ret, -ENOMEM, or -errno from
 * eventfd/sd-event.
 */
int worker_pool_new(sd_event *e, unsigned n_threads, worker_pool **ret);

/*
 * Queues fn(arg); done(r, arg) is called exactly once: on the loop with fn's
 * result, or, when the pool is freed first, from worker_pool_free() with
 * -ECANCELED (fn ran or never will; a running fn is waited for) so that the
 * owner can wipe and free what the job holds. Returns 0, -ENOMEM, or -errno
 * from pthread_create.
 */
int worker_pool_submit(worker_pool *p, worker_fn fn, worker_done done, void *arg);

/* Stops the threads (waiting for running jobs), then calls done(-ECANCELED)
 * for every job finished or queued but not delivered. Accepts NULL; returns
 * NULL. */
worker_pool *worker_pool_free(worker_pool *p);

/* Number of threads started so far (for tests). */
unsigned worker_pool_n_threads(const worker_pool *p);
