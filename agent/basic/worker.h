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
 * Queues fn(arg); done(r, arg) is called once on the loop unless the pool is
 * freed first (then done is never called; fn may still be running and is
 * waited for). Returns 0, -ENOMEM, or -errno from pthread_create.
 */
int worker_pool_submit(worker_pool *p, worker_fn fn, worker_done done, void *arg);

/* Stops the threads (waiting for running jobs), drops queued and finished
 * jobs without calling done. Accepts NULL; returns NULL. */
worker_pool *worker_pool_free(worker_pool *p);

/* Number of threads started so far (for tests). */
unsigned worker_pool_n_threads(const worker_pool *p);
