/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "basic/log.h"
#include "daemon/daemon-timejump.h"

/* The largest time_t: the timer never expires by itself. */
#define TIME_T_MAX ((time_t) ((UINTMAX_C(1) << ((sizeof(time_t) << 3) - 1)) - 1))

struct daemon_timejump {
        sd_event_source *source;
        int fd;
        daemon_timejump_handler cb;
        void *userdata;
};

/* (Re-)arms the timer: after a cancellation it stays cancelled until set again. */
static int arm(int fd) {
        const struct itimerspec its = {.it_value = {.tv_sec = TIME_T_MAX}};

        if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
                return -errno;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        daemon_timejump *t = userdata;
        bool changed = false;
        uint64_t ticks;
        int r;

        if (read(fd, &ticks, sizeof ticks) < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0; /* spurious wake-up */
                if (errno == ECANCELED)
                        changed = true;
                else
                        log_debug_errno(errno, "reading the clock-change timerfd: %m");
        }
        /* Re-arm in every case: a cancelled timer stays cancelled, and one
         * that expired (not in this universe) would no longer be armed. */
        r = arm(fd);
        if (r < 0) {
                /* Without a re-armed timer the fd could stay readable: stop
                 * watching rather than spin, and say so. */
                log_debug_errno(
                        r,
                        "cannot re-arm the clock-change timerfd, clock changes are no longer noticed: %m");
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                changed = true;
        }
        if (changed)
                t->cb(t, r < 0 ? r : 0, t->userdata);
        return 0;
}

int daemon_timejump_new(sd_event *e, daemon_timejump_handler cb, void *userdata, daemon_timejump **ret) {
        _cleanup_(daemon_timejump_freep) daemon_timejump *t = NULL;
        int r;

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->cb = cb;
        t->userdata = userdata;
        t->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
        if (t->fd < 0)
                return -errno;
        r = arm(t->fd);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &t->source, t->fd, EPOLLIN, on_io, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->source, "clock-change");
        *ret = TAKE_PTR(t);
        return 0;
}

daemon_timejump *daemon_timejump_free(daemon_timejump *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->source);
        if (t->fd >= 0)
                safe_close(t->fd);
        free(t);
        return NULL;
}

int daemon_timejump_fd(const daemon_timejump *t) {
        return t->fd;
}
