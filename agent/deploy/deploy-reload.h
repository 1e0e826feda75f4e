/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * reload: apply freshly deployed certificates to the servers using them,
 * once per distinct target per pass.
 *
 * The engine creates a pass, adds every certificate deployed in it with its
 * previous version (for rollback), and runs the pass on the loop. For each
 * distinct conf_reload (compared by pointer), exactly once: config test,
 * then reload
 *   nginx:   reload_command, else `systemctl reload UNIT` when systemd is
 *            PID 1 and the unit is active, else SIGHUP to the master from
 *            pid_file (verified alive);
 *   haproxy: config test, then the runtime API over runtime_socket
 *            (`set ssl cert PATH <<\n PEM\n` + `commit ssl cert PATH` for
 *            each certificate's haproxy.pem); a refused update or no socket
 *            falls back to a reload as for nginx;
 *   systemd: `systemctl reload-or-restart UNIT`;
 *   command: run argv.
 * When a target's test or reload fails, the rollback callback is called
 * for every certificate behind it, the target is re-applied if the first
 * reload took effect (haproxy runtime API: the old PEM is set back), and
 * every certificate of the pass gets a per-certificate result.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf/conf.h"

typedef struct reload_pass reload_pass;

typedef struct reload_callbacks {
        /* Switch cert back to previous_version (the engine calls
         * deploy_rollback()). Return 0 or -errno. Required. */
        int (*rollback)(const conf_cert *cert, const char *previous_version, void *userdata);
        /* One call per certificate added, when its targets are done.
         * r = 0 ok; r < 0 failed, reason is a human-readable message (the
         * certificate has been rolled back if rolled_back is true). */
        void (*cert_done)(const conf_cert *cert, int r, const char *reason, bool rolled_back,
                          void *userdata);
        /* The whole pass is done; the pass may be freed from here. */
        void (*pass_done)(reload_pass *pass, unsigned n_failed, void *userdata);
        void *userdata;
} reload_callbacks;

/* New empty pass on loop e. Returns NULL only on out-of-memory. */
reload_pass *reload_pass_new(sd_event *e);

/* Free; a running pass is abandoned (running children killed, no further
 * callbacks). Accepts NULL, returns NULL. */
reload_pass *reload_pass_free(reload_pass *pass);

/*
 * Add a deployed certificate: its targets are cert->reload. previous_version
 * is the version to roll back to (NULL: first deploy, nothing to roll back
 * to; then a failure only marks the certificate failed). Adding the same
 * cert twice is -EEXIST; adding after run is -EBUSY. Copies what it keeps
 * except cert, which must outlive the pass.
 */
int reload_pass_add(reload_pass *pass, const conf_cert *cert, const char *previous_version);

/* Number of distinct targets in the pass (for logging and tests). */
unsigned reload_pass_n_targets(const reload_pass *pass);

/*
 * Run the pass asynchronously on the loop; callbacks are copied. Returns 0
 * when started (pass_done is always eventually called, also for an empty
 * pass), -EBUSY when already run, -EINVAL without a rollback callback.
 */
int reload_pass_run(reload_pass *pass, const reload_callbacks *cb);

/*
 * Debounce for the daemon: collect deploys for delay_usec after the last
 * one (capped at 4 * delay_usec after the first), then run one pass.
 */
typedef struct reload_debounce reload_debounce;

reload_debounce *reload_debounce_new(sd_event *e, uint64_t delay_usec, const reload_callbacks *cb);
reload_debounce *reload_debounce_free(reload_debounce *d);

/* Queue cert (see reload_pass_add) and (re)arm the timer. A cert queued
 * again before the pass runs keeps its oldest previous_version.
 * Errors: -ENOMEM, -errno from sd-event. */
int reload_debounce_add(reload_debounce *d, const conf_cert *cert, const char *previous_version);

/*
 * Whether the process whose cgroup file is cgroup_path (normally
 * /proc/PID/cgroup) runs inside systemd unit `unit` ("nginx" means
 * "nginx.service"). Used to choose between `systemctl reload UNIT` and a
 * signal to the master: a server started by hand on a systemd host is not
 * reloaded through a unit that is not running it. Returns 1 inside, 0 not
 * inside, -errno when the file cannot be read.
 */
int reload_cgroup_has_unit(const char *cgroup_path, const char *unit);
