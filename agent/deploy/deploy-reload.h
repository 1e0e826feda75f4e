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
 *            PID 1 and the master from pid_file runs in UNIT (or there is no
 *            live master and the unit is active: `systemctl is-active`),
 *            else SIGHUP to the master from pid_file;
 *   haproxy: config test, then the runtime API over runtime_socket
 *            (`set ssl cert PATH <<\n PEM\n` + `commit ssl cert PATH` for
 *            each certificate's haproxy.pem); a refused update or no socket
 *            falls back to a reload as for nginx (SIGUSR2 to the master);
 *   systemd: `systemctl reload-or-restart UNIT`;
 *   command: run argv.
 * A built-in reloader (nginx, haproxy, no reload_command) whose server is not
 * running has nothing to reload (like `systemctl try-reload-or-restart`):
 * no pid file, an empty one, a pid that is not alive or is another program,
 * and (with systemd) a unit that is not active. After a passing configuration
 * test the target succeeds, and the pass says so in one line through the
 * note callback (or, without one, logs it at notice level). A pid file that
 * cannot be read or holds no number is a failure: the reloader cannot tell.
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
        /* Optional: one line about a target that succeeded without a reload
         * ("nginx is not running (no pid file /run/nginx.pid): configuration
         * test passed, nothing to reload"); target is the conf_reload id.
         * NULL: the pass logs the line itself at notice level. */
        void (*note)(const char *target, const char *message, void *userdata);
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
 * Whether the process whose cgroup file is cgroup_path (normally
 * /proc/PID/cgroup) runs inside systemd unit `unit` ("nginx" means
 * "nginx.service"). Used to choose between `systemctl reload UNIT` and a
 * signal to the master: a server started by hand on a systemd host is not
 * reloaded through a unit that is not running it. Returns 1 inside, 0 not
 * inside, -errno when the file cannot be read.
 */
int reload_cgroup_has_unit(const char *cgroup_path, const char *unit);

/*
 * Whether the server whose master's pid is in pid_file runs: the file holds
 * a pid (surrounding whitespace allowed) that is alive and whose command name
 * (/proc/PID/comm) begins with server ("nginx" also matches nginx-debug; an
 * unreadable comm counts as the server). Returns 1 running (*ret_pid set),
 * 0 not running with why set ("no pid file F", "pid file F is empty", "pid N
 * from F is not running", "pid N from F is sleep, not nginx"), or -errno
 * with why set when the file cannot be read or holds no pid (-EINVAL,
 * -ERANGE). why is always NUL-terminated when size > 0.
 */
int reload_server_running(const char *pid_file, const char *server, pid_t *ret_pid, char *why, size_t size);
