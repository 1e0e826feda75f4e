/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wall clock of the machine is never set here. A time namespace does not
 * help either: it offsets CLOCK_MONOTONIC and CLOCK_BOOTTIME only, never
 * CLOCK_REALTIME. So the test checks what it can check for real: the timerfd
 * is armed with TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET (the kernel's own
 * account in /proc/self/fdinfo), and what the module does with the
 * ECANCELED that read() gives after the clock was set, handed to it through
 * a wrapped read() (this program is linked with -Wl,--wrap=read, which only
 * affects the statically linked agent objects and this file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "daemon/daemon-timejump.h"

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);

static int inject_fd = -1;
static unsigned inject_ecanceled;
static unsigned reads;

ssize_t __wrap_read(int fd, void *buf, size_t n) {
        if (fd == inject_fd) {
                reads++;
                if (inject_ecanceled > 0) {
                        inject_ecanceled--;
                        /* What the kernel does: the expiry count is consumed too. */
                        (void) __real_read(fd, buf, n);
                        errno = ECANCELED;
                        return -1;
                }
        }
        return __real_read(fd, buf, n);
}

typedef struct fx {
        sd_event *e;
        daemon_timejump *t;
        unsigned calls;
        int last_error;
} fx;

static void on_jump(daemon_timejump *t, int error, void *userdata) {
        fx *f = userdata;
        f->calls++;
        f->last_error = error;
}

static int setup(void **state) {
        fx *f = calloc(1, sizeof *f);

        assert_non_null(f);
        assert_int_equal(sd_event_new(&f->e), 0);
        assert_int_equal(daemon_timejump_new(f->e, on_jump, f, &f->t), 0);
        inject_fd = daemon_timejump_fd(f->t);
        inject_ecanceled = 0;
        reads = 0;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        fx *f = *state;

        daemon_timejump_free(f->t);
        sd_event_unref(f->e);
        inject_fd = -1;
        free(f);
        return 0;
}

/* The "settime flags" line of the timerfd's fdinfo (kernel >= 3.17). */
static int settime_flags(int fd) {
        char path[64], line[256];
        int flags = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "settime flags: %o", &flags) == 1)
                        break;
        fclose(f);
        return flags;
}

static void assert_armed(int fd) {
        struct itimerspec its;

        assert_int_equal(settime_flags(fd), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
        assert_int_equal(timerfd_gettime(fd, &its), 0);
        /* Far away: decades at least (it is set at the largest time_t). */
        assert_true(its.it_value.tv_sec > (time_t) 100 * 365 * 86400);
}

/* Makes the fd readable the only way a test can without setting the
 * clock: a near expiry (replacing the module's arming). */
static void make_readable(int fd) {
        struct itimerspec its = {.it_value = {.tv_nsec = 1000}};

        assert_int_equal(timerfd_settime(fd, 0, &its, NULL), 0);
}

static void run_until_read(fx *f, unsigned want_reads) {
        for (int i = 0; i < 1000 && reads < want_reads; i++)
                assert_true(sd_event_run(f->e, 100 * USEC_PER_MSEC) >= 0);
        assert_int_equal(reads, want_reads);
        while (sd_event_run(f->e, 0) > 0)
                ;
}

static void test_armed_for_cancel_on_set(void **state) {
        fx *f = *state;

        assert_armed(daemon_timejump_fd(f->t));
        /* Idle: nothing to dispatch, nothing read. */
        assert_int_equal(sd_event_run(f->e, 0), 0);
        assert_int_equal(reads, 0);
        assert_int_equal(f->calls, 0);
}

static void test_clock_set_calls_back_and_rearms(void **state) {
        fx *f = *state;
        int fd = daemon_timejump_fd(f->t);

        make_readable(fd);
        inject_ecanceled = 1;
        run_until_read(f, 1);
        assert_int_equal(f->calls, 1);
        assert_int_equal(f->last_error, 0);
        /* Re-armed, so the next change is seen too. */
        assert_armed(fd);

        make_readable(fd);
        inject_ecanceled = 1;
        run_until_read(f, 2);
        assert_int_equal(f->calls, 2);
        assert_armed(fd);
}

static void test_plain_expiry_is_not_a_jump(void **state) {
        fx *f = *state;
        int fd = daemon_timejump_fd(f->t);

        make_readable(fd);
        run_until_read(f, 1);
        assert_int_equal(f->calls, 0);
        /* Re-armed for cancel-on-set after it, all the same. */
        assert_armed(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_armed_for_cancel_on_set, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clock_set_calls_back_and_rearms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plain_expiry_is_not_a_jump, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
