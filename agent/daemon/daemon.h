/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * daemon: `acm-agent` as a long-lived service on the engine (engine.h,
 * ENGINE_DAEMON). One sd-event loop carries everything: the machines' wake
 * timer (only the next due action), curl's sockets, inotify on the
 * configuration and on imported files, signals (SIGHUP reload, SIGTERM /
 * SIGINT stop), hook and reload children, worker completions, the
 * watchdog. Nothing wakes when nothing is due.
 *
 * A configuration change (inotify, debounced, or SIGHUP) is validated and,
 * when valid, reconciled certificate by certificate; an invalid one is
 * logged with its FILE:LINE:COLUMN (LOG_MESSAGE_CONFIG_REJECTED) and the
 * running configuration stays. SIGTERM/SIGINT: stop starting work, let the
 * atomic steps in progress finish (extending systemd's stop timeout while
 * they do), exit 0. systemd hears READY=1 once every state is loaded,
 * STATUS= lines, WATCHDOG=1, RELOADING=1/READY=1 around a reload,
 * STOPPING=1. The Prometheus textfile (daemon.metrics_textfile) is
 * rewritten after every change.
 */
#include "engine/engine.h"

/*
 * Runs the daemon on the configuration at config_path until it is stopped.
 * Returns the process exit code: 0 after a clean stop, 2 when the
 * configuration is invalid at start, 1 for other start-up failures.
 */
int daemon_run(const char *config_path);

/*
 * Writes the Prometheus textfile for the engine's certificates and AWS
 * counters to path (atomically). Used by the daemon after each change and
 * by --once after its pass. Returns 0 or -errno.
 */
int daemon_metrics_write_engine(const engine *e, const char *path);
