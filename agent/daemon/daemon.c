/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/clock.h"
#include "basic/log-messages.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "conf/conf.h"
#include "daemon/daemon-confwatch.h"
#include "daemon/daemon-metrics.h"
#include "daemon/daemon-notify.h"
#include "daemon/daemon-timejump.h"
#include "daemon/daemon.h"
#include "issuer/issuer.h"

/* Metrics and the status line follow a burst of changes this much later. */
#define DAEMON_REPORT_DELAY_USEC (500 * USEC_PER_MSEC)
/* While stopping, systemd is told every so often to wait this much longer. */
#define DAEMON_EXTEND_USEC (20 * USEC_PER_SEC)
#define DAEMON_EXTEND_EVERY_USEC (5 * USEC_PER_SEC)

typedef struct daemon_ctx {
        sd_event *loop;
        const char *config_path;
        engine *e;
        daemon_notify *notify;
        daemon_confwatch *cw;
        daemon_filewatch *fw;
        daemon_timejump *tj;
        sd_event_source *signals[3];
        sd_event_source *report_timer;
        sd_event_source *extend_timer;
        char status[256];
        bool stopping;
} daemon_ctx;

/* ---- metrics ---- */

int daemon_metrics_write_engine(const engine *e, const char *path) {
        size_t n = engine_n_results(e), n_aws = engine_aws_n_stats(e);
        _cleanup_(freep) daemon_metrics_cert *certs = calloc(n ? n : 1, sizeof(*certs));
        _cleanup_(freep) daemon_metrics_aws *aws = calloc(n_aws ? n_aws : 1, sizeof(*aws));
        daemon_metrics m;

        if (!certs || !aws)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const engine_result *r = engine_result_get(e, i);
                certs[i] = (daemon_metrics_cert) {
                        .name = r->name,
                        .issuer = r->issuer,
                        .state = r->phase ? r->phase : "new",
                        .serial = r->serial,
                        .not_after = r->not_after,
                        .next_renewal = r->renew_at,
                        .last_success = r->last_success,
                        .consecutive_failures = r->failures,
                        .acm_renewal_status = json_string_value(json_object_get(r->issuer_state, "renewal_status")),
                        .in_danger = r->danger && !streq(r->danger, "safe"),
                };
        }
        for (size_t i = 0; i < n_aws; i++) {
                const aws_op_stats *s = engine_aws_stats(e, i);
                aws[i] = (daemon_metrics_aws) {
                        .service = s->service,
                        .operation = s->operation,
                        .calls = s->calls,
                        .errors = s->errors,
                        .throttles = s->throttled,
                };
        }
        m = (daemon_metrics) { .certs = certs, .n_certs = n, .aws = aws, .n_aws = n_aws, .now = clock_now() };
        return daemon_metrics_write(path, &m);
}

/* ---- status line and metrics after changes ---- */

static void report_now(daemon_ctx *d) {
        const conf *c = engine_conf(d->e);
        engine_counts counts;
        const char *next_name = NULL;
        time_t next = engine_next_wake(d->e, &next_name);
        char line[256];
        int r;

        engine_get_counts(d->e, &counts);
        daemon_status st = {
                .n_certs = counts.total,
                .n_renewing = counts.busy,
                .n_waiting = counts.waiting,
                .n_failing = counts.failed,
                .next_name = next_name,
                .next_usec = next > 0 ? (uint64_t) next * USEC_PER_SEC : 0,
                .now_usec = clock_now_usec(),
        };
        daemon_status_format(&st, line, sizeof(line));
        if (!streq(line, d->status)) {
                snprintf(d->status, sizeof(d->status), "%s", line);
                if (!d->stopping)
                        (void) daemon_notify_status(d->notify, line);
        }
        if (c->daemon.metrics_textfile) {
                r = daemon_metrics_write_engine(d->e, c->daemon.metrics_textfile);
                if (r < 0)
                        log_warning("cannot write the metrics file %s: %s", c->daemon.metrics_textfile, strerror(-r));
        }
}

static int on_report_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        report_now(userdata);
        return 0;
}

static void report_soon(daemon_ctx *d) {
        uint64_t now;

        if (d->report_timer && sd_event_source_get_enabled(d->report_timer, NULL) > 0)
                return;  /* already due: one write for the burst */
        (void) sd_event_now(d->loop, CLOCK_MONOTONIC, &now);
        if (d->report_timer) {
                (void) sd_event_source_set_time(d->report_timer, now + DAEMON_REPORT_DELAY_USEC);
                (void) sd_event_source_set_enabled(d->report_timer, SD_EVENT_ONESHOT);
        } else if (sd_event_add_time(d->loop, &d->report_timer, CLOCK_MONOTONIC, now + DAEMON_REPORT_DELAY_USEC,
                                     100 * USEC_PER_MSEC, on_report_timer, d) < 0)
                report_now(d);
}

static void on_engine_change(engine *e _unused_, const char *name _unused_, void *userdata) {
        report_soon(userdata);
}

/* ---- watching ---- */

static void on_config_change(daemon_confwatch *w, int error, void *userdata);
static void on_source_change(daemon_filewatch *w, const char *path, int error, void *userdata);

static int watch_config(daemon_ctx *d) {
        const conf *c = engine_conf(d->e);
        _cleanup_(freep) char *copy = strdup(c->path), *certs_d = NULL;
        daemon_confwatch_spec spec;

        if (!copy)
                return -ENOMEM;
        certs_d = path_join(dirname(copy), "certs.d");
        if (!certs_d)
                return -ENOMEM;
        spec = (daemon_confwatch_spec) {
                .main_path = c->path,
                .certs_dir = certs_d,
                .include_globs = (const char *const *) c->include_patterns,
                .files = (const char *const *) c->files,
        };
        if (d->cw)
                return daemon_confwatch_rearm(d->cw, &spec);
        return daemon_confwatch_new(d->loop, &spec, 0, on_config_change, d, &d->cw);
}

/* The import issuer's source files: a change pokes the certificates that
 * read them (their watch compares fingerprints). */
static int watch_sources(daemon_ctx *d) {
        const conf *c = engine_conf(d->e);
        int r;

        d->fw = daemon_filewatch_free(d->fw);
        for (conf_cert **i = c->certs; i && *i; i++) {
                const conf_issuer_import *im = &(*i)->issuer.import;
                const char *paths[] = { im->cert, im->key, im->chain };
                if ((*i)->issuer_type != CONF_ISSUER_IMPORT)
                        continue;
                if (!d->fw) {
                        r = daemon_filewatch_new(d->loop, 0, on_source_change, d, &d->fw);
                        if (r < 0)
                                return r;
                }
                for (size_t k = 0; k < ELEMENTSOF(paths); k++)
                        if (paths[k] && (r = daemon_filewatch_add(d->fw, paths[k])) < 0)
                                log_cert(LOG_WARNING, (*i)->name, "cannot watch %s: %s (its changes are seen at the "
                                         "next check only)", paths[k], strerror(-r));
        }
        return 0;
}

static void on_source_change(daemon_filewatch *w _unused_, const char *path, int error, void *userdata) {
        daemon_ctx *d = userdata;
        const conf *c = engine_conf(d->e);

        if (error < 0)
                log_warning("watching imported files: %s (changes may be seen late)", strerror(-error));
        for (conf_cert **i = c->certs; i && *i; i++) {
                const conf_issuer_import *im = &(*i)->issuer.import;
                if ((*i)->issuer_type != CONF_ISSUER_IMPORT)
                        continue;
                if ((im->cert && streq(im->cert, path)) || (im->key && streq(im->key, path)) ||
                    (im->chain && streq(im->chain, path))) {
                        log_cert(LOG_INFO, (*i)->name, "%s changed: checking it", path);
                        (void) engine_poke(d->e, (*i)->name);
                }
        }
}

/* ---- reloading the configuration ---- */

static void reload_config(daemon_ctx *d, const char *trigger) {
        conf_errors errs = {}, warnings = {};
        engine_reconfigure_report rep = {};
        conf *c = NULL;
        int r;

        (void) daemon_notify_reloading(d->notify, "reloading the configuration");
        r = conf_load_with(d->config_path, NULL, &c, &errs, &warnings);
        if (r < 0) {
                char count[16], first[1024] = "";
                snprintf(count, sizeof(count), "%zu", errs.n);
                for (size_t i = 0; i < errs.n; i++) {
                        const conf_error *x = &errs.items[i];
                        if (i == 0)
                                snprintf(first, sizeof(first), "%s:%u:%u: %s", x->loc.file ? x->loc.file : "?",
                                         x->loc.line, x->loc.column, x->message);
                        log_error("%s:%u:%u: %s%s%s%s", x->loc.file ? x->loc.file : "?", x->loc.line, x->loc.column,
                                  x->message, x->hint ? " (hint: " : "", x->hint ? x->hint : "", x->hint ? ")" : "");
                }
                if (errs.n == 0)
                        snprintf(first, sizeof(first), "%s: %s", d->config_path, strerror(-r));
                log_struct(LOG_ERR, NULL,
                           (const char *const[]) { LOG_MESSAGE_CONFIG_REJECTED, "CONFIG_FILE", d->config_path, NULL },
                           "the changed configuration is rejected (%s error%s, first: %s); the running one stays",
                           count, errs.n == 1 ? "" : "s", first);
                conf_errors_done(&errs);
                conf_errors_done(&warnings);
                (void) daemon_notify_ready(d->notify, d->status);
                return;
        }
        for (size_t i = 0; i < warnings.n; i++)
                log_warning("%s:%u:%u: warning: %s", warnings.items[i].loc.file, warnings.items[i].loc.line,
                            warnings.items[i].loc.column, warnings.items[i].message);
        conf_errors_done(&errs);
        conf_errors_done(&warnings);
        r = engine_reconfigure(d->e, c, &rep);  /* takes c */
        if (r < 0) {
                log_error("cannot apply the changed configuration: %s; the running one stays", strerror(-r));
                (void) daemon_notify_ready(d->notify, d->status);
                return;
        }
        {
                char f[5][64];
                snprintf(f[0], sizeof(f[0]), "CONFIG_FILE=%s", d->config_path);
                snprintf(f[1], sizeof(f[1]), "TRIGGER=%s", trigger);
                snprintf(f[2], sizeof(f[2]), "CERTS_ADDED=%zu", rep.added);
                snprintf(f[3], sizeof(f[3]), "CERTS_REMOVED=%zu", rep.removed);
                snprintf(f[4], sizeof(f[4]), "CERTS_CHANGED=%zu", rep.changed);
                char total[32];
                snprintf(total, sizeof(total), "CERTS=%zu", rep.total);
                log_struct(LOG_NOTICE, NULL,
                           (const char *const[]) { LOG_MESSAGE_CONFIG_RELOADED, f[0], f[1], f[2], f[3], f[4], total,
                                                   NULL },
                           "configuration reloaded (%s): %zu added, %zu removed, %zu changed, %zu in all", trigger,
                           rep.added, rep.removed, rep.changed, rep.total);
        }
        r = watch_config(d);
        if (r < 0)
                log_warning("cannot watch the configuration files: %s (reload with SIGHUP)", strerror(-r));
        r = watch_sources(d);
        if (r < 0)
                log_warning("cannot watch the imported files: %s", strerror(-r));
        report_now(d);
        (void) daemon_notify_ready(d->notify, d->status);
}

static void on_config_change(daemon_confwatch *w _unused_, int error, void *userdata) {
        daemon_ctx *d = userdata;

        if (error < 0)
                log_warning("watching the configuration: %s (changes there may go unseen; reload with SIGHUP)",
                            strerror(-error));
        if (!d->stopping)
                reload_config(d, "inotify");
}

/* ---- time ---- */

static void on_timejump(daemon_timejump *t _unused_, int error, void *userdata) {
        daemon_ctx *d = userdata;

        if (error < 0) {
                log_warning("cannot notice wall-clock jumps any more: %s", strerror(-error));
                return;
        }
        log_info("the wall clock was set: wake times are looked at again");
        engine_clock_changed(d->e);
        report_soon(d);
}

/* ---- signals and stopping ---- */

static int on_extend(sd_event_source *s, uint64_t usec, void *userdata) {
        daemon_ctx *d = userdata;

        (void) daemon_notify_extend_timeout(d->notify, DAEMON_EXTEND_USEC);
        (void) sd_event_source_set_time(s, usec + DAEMON_EXTEND_EVERY_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void on_stopped(void *userdata) {
        daemon_ctx *d = userdata;

        log_info("stopped; every state is saved");
        (void) sd_event_exit(d->loop, 0);
}

static int on_signal(sd_event_source *s _unused_, const struct signalfd_siginfo *si, void *userdata) {
        daemon_ctx *d = userdata;
        uint64_t now;

        if (si->ssi_signo == SIGHUP) {
                if (!d->stopping)
                        reload_config(d, "sighup");
                return 0;
        }
        if (d->stopping) {
                log_notice("stopping already: waiting for the steps in progress to finish");
                return 0;
        }
        d->stopping = true;
        log_info("%s: stopping (the steps in progress finish first)", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        (void) daemon_notify_stopping(d->notify, "stopping");
        (void) sd_event_now(d->loop, CLOCK_MONOTONIC, &now);
        (void) sd_event_add_time(d->loop, &d->extend_timer, CLOCK_MONOTONIC, now + DAEMON_EXTEND_EVERY_USEC, 0,
                                 on_extend, d);
        d->cw = daemon_confwatch_free(d->cw);
        d->fw = daemon_filewatch_free(d->fw);
        engine_stop(d->e, on_stopped, d);
        return 0;
}

static void ctx_done(daemon_ctx *d) {
        for (size_t i = 0; i < ELEMENTSOF(d->signals); i++)
                sd_event_source_disable_unref(d->signals[i]);
        sd_event_source_disable_unref(d->report_timer);
        sd_event_source_disable_unref(d->extend_timer);
        daemon_confwatch_free(d->cw);
        daemon_filewatch_free(d->fw);
        daemon_timejump_free(d->tj);
        engine_free(d->e);
        daemon_notify_free(d->notify);
        sd_event_unref(d->loop);
}

int daemon_run(const char *config_path) {
        static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
        daemon_ctx d = { .config_path = config_path };
        engine_options eo = { .mode = ENGINE_DAEMON, .issuer_lookup = issuer_lookup };
        conf_errors errs = {}, warnings = {};
        char err[512] = "";
        sigset_t ss;
        conf *c = NULL;
        int r, rc = 1;

        (void) engine_raise_fd_limit();
        sigemptyset(&ss);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&ss, sigs[i]);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "cannot block the signals: %m"), 1;
        r = sd_event_new(&d.loop);
        if (r < 0) {
                log_error("cannot create the event loop: %s", strerror(-r));
                return 1;
        }
        r = daemon_notify_new(d.loop, &d.notify);
        if (r < 0) {
                log_error("cannot talk to systemd (NOTIFY_SOCKET): %s", strerror(-r));
                goto out;
        }
        r = conf_load_with(config_path, NULL, &c, &errs, &warnings);
        if (r < 0) {
                if (errs.n > 0)
                        conf_errors_print(&errs, stderr);
                else
                        log_error("%s: cannot load the configuration: %s", config_path, strerror(-r));
                conf_errors_done(&errs);
                conf_errors_done(&warnings);
                rc = 2;
                goto out;
        }
        conf_warnings_print(&warnings, stderr);
        conf_errors_done(&warnings);
        r = engine_new(d.loop, c, &eo, &d.e, err, sizeof(err));  /* takes c */
        if (r < 0) {
                log_error("cannot start: %s", err[0] ? err : strerror(-r));
                goto out;
        }
        engine_set_observer(d.e, on_engine_change, &d);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                r = sd_event_add_signal(d.loop, &d.signals[i], sigs[i], on_signal, &d);
                if (r < 0) {
                        log_error("cannot watch signal %d: %s", sigs[i], strerror(-r));
                        goto out;
                }
        }
        r = watch_config(&d);
        if (r < 0)
                log_warning("cannot watch the configuration files: %s (reload with SIGHUP)", strerror(-r));
        r = watch_sources(&d);
        if (r < 0)
                log_warning("cannot watch the imported files: %s", strerror(-r));
        r = daemon_timejump_new(d.loop, on_timejump, &d, &d.tj);
        if (r < 0)
                log_warning("cannot notice wall-clock jumps: %s", strerror(-r));
        /* every state loaded, in-flight certificates resumed, timers armed */
        r = engine_start(d.e);
        if (r < 0) {
                log_error("cannot start the certificates: %s", strerror(-r));
                goto out;
        }
        report_now(&d);
        (void) daemon_notify_ready(d.notify, d.status);
        log_info("running: %s", d.status);
        r = sd_event_loop(d.loop);
        rc = r < 0 ? 1 : 0;
        if (r < 0)
                log_error("the event loop failed: %s", strerror(-r));
out:
        ctx_done(&d);
        return rc;
}
