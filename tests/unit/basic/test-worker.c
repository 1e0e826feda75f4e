/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/worker.h"

typedef struct ctx {
        sd_event *loop;
        int done;
        int want;
        int sum;
        pthread_t loop_thread;
} ctx;

typedef struct item {
        ctx *c;
        int in;
        int out;
        pthread_t ran_on;
} item;

static int square(void *arg) {
        item *i = arg;
        i->ran_on = pthread_self();
        usleep(1000);
        i->out = i->in * i->in;
        return i->in == 13 ? -EIO : 0;
}

static void collect(int r, void *arg) {
        item *i = arg;
        /* done runs on the loop thread */
        assert_true(pthread_equal(pthread_self(), i->c->loop_thread));
        assert_false(pthread_equal(i->ran_on, i->c->loop_thread));
        if (i->in == 13)
                assert_int_equal(r, -EIO);
        else
                assert_int_equal(r, 0);
        i->c->sum += i->out;
        if (++i->c->done == i->c->want)
                sd_event_exit(i->c->loop, 0);
}

static void test_runs_off_loop(void **s _unused_) {
        ctx c = { .want = 50, .loop_thread = pthread_self() };
        item items[50];
        worker_pool *p = NULL;
        int expect = 0;

        assert_int_equal(sd_event_new(&c.loop), 0);
        assert_int_equal(worker_pool_new(c.loop, 4, &p), 0);
        assert_int_equal(worker_pool_n_threads(p), 0);  /* lazy */
        for (int i = 0; i < 50; i++) {
                items[i] = (item) { .c = &c, .in = i };
                expect += i * i;
                assert_int_equal(worker_pool_submit(p, square, collect, &items[i]), 0);
        }
        assert_true(worker_pool_n_threads(p) >= 1 && worker_pool_n_threads(p) <= 4);
        assert_int_equal(sd_event_loop(c.loop), 0);
        assert_int_equal(c.done, 50);
        assert_int_equal(c.sum, expect);
        worker_pool_free(p);
        sd_event_unref(c.loop);
}

static void never(int r _unused_, void *arg _unused_) {
        fail_msg("done called for an invalid submit");
}

typedef struct cancel_count {
        int cancelled, other;
} cancel_count;

static void count_cancel(int r, void *arg) {
        cancel_count *cc = arg;
        if (r == -ECANCELED)
                cc->cancelled++;
        else
                cc->other++;
}

static int slow(void *arg _unused_) {
        usleep(1000);
        return 0;
}

/* A freed pool still calls every job's done exactly once, with -ECANCELED,
 * so owners can wipe what the job holds (a key): queued jobs that never ran
 * and finished jobs whose result the loop never delivered. */
static void test_free_cancels_pending(void **s _unused_) {
        sd_event *loop = NULL;
        worker_pool *p = NULL;
        cancel_count cc = {};

        assert_int_equal(sd_event_new(&loop), 0);
        assert_int_equal(worker_pool_new(loop, 1, &p), 0);
        for (int i = 0; i < 20; i++)
                assert_int_equal(worker_pool_submit(p, slow, count_cancel, &cc), 0);
        worker_pool_free(p);
        assert_int_equal(cc.cancelled, 20);
        assert_int_equal(cc.other, 0);
        /* nothing is left for the loop to deliver */
        assert_int_equal(sd_event_run(loop, 0), 0);
        assert_int_equal(cc.cancelled, 20);
        sd_event_unref(loop);
        assert_null(worker_pool_free(NULL));
}

static void test_invalid(void **s _unused_) {
        sd_event *loop = NULL;
        worker_pool *p = NULL;
        assert_int_equal(sd_event_new(&loop), 0);
        assert_int_equal(worker_pool_new(NULL, 1, &p), -EINVAL);
        assert_int_equal(worker_pool_new(loop, 0, &p), 0);
        assert_int_equal(worker_pool_submit(p, NULL, never, NULL), -EINVAL);
        worker_pool_free(p);
        sd_event_unref(loop);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runs_off_loop),
                cmocka_unit_test(test_free_cancels_pending),
                cmocka_unit_test(test_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
