/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * daemon-timejump: notices when the wall clock is set (an NTP step, a manual
 * `date -s`, resume from suspend on machines whose RTC is read back), so the
 * daemon can re-arm its CLOCK_REALTIME timers and recompute what is due.
 *
 * A timerfd on CLOCK_REALTIME armed far in the future (it never expires)
 * with TFD_TIMER_CANCEL_ON_SET: when the clock is set, reading it fails with
 * ECANCELED and the watcher calls back, then re-arms. The fd is watched by
 * sd-event; there is no periodic wake-up.
 */
#include <systemd/sd-event.h>

#include "basic/macro.h"

typedef struct daemon_timejump daemon_timejump;

/*
 * Called on the loop after the wall clock was set. error is 0, or -errno when
 * the timer could not be re-armed: this was the last call, later changes go
 * unnoticed (the caller logs it; its timers are still right for this change).
 */
typedef void (*daemon_timejump_handler)(daemon_timejump *t, int error, void *userdata);

/*
 * Creates the watcher on loop e (a reference on e is taken); cb(t,
 * error, userdata) runs once per notification of a clock change (several changes
 * between two loop iterations give one call). Returns 0 and sets *ret;
 * -ENOMEM; -errno from timerfd_create/timerfd_settime or sd-event.
 */
int daemon_timejump_new(sd_event *e, daemon_timejump_handler cb, void *userdata, daemon_timejump **ret);

/* Frees (closes the timerfd). Accepts NULL; returns NULL. */
daemon_timejump *daemon_timejump_free(daemon_timejump *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(daemon_timejump *, daemon_timejump_free);

/* The timerfd (for tests). */
int daemon_timejump_fd(const daemon_timejump *t);
