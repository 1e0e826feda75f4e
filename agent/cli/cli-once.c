/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent --once / renew: one pass of the engine, results on stdout
 * (a line per certificate, or one JSON document with --json).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "basic/clock.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "daemon/daemon.h"
#include "issuer/issuer.h"
#include "basic/log.h"

static json_t *result_json(const engine_result *r, bool dry_run) {
        char na[21], ra[21], nx[21], wu[21];
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?}", "name", r->name, "issuer",
                              r->issuer, "action", engine_action_to_string(r->action), "changed", r->changed,
                              "state", r->phase, "serial", r->serial,
                              "not_after", r->not_after ? clock_format_rfc3339(r->not_after, na) : NULL,
                              "next_renewal", r->renew_at ? clock_format_rfc3339(r->renew_at, ra) : NULL,
                              "next_attempt", r->next_attempt ? clock_format_rfc3339(r->next_attempt, nx) : NULL,
                              "waiting_for", r->wait_reason,
                              "waiting_until", r->waiting_until ? clock_format_rfc3339(r->waiting_until, wu) : NULL,
                              "error", r->error);
        if (o && dry_run)
                json_object_set_new(o, "plan", json_string(r->plan ? r->plan : ""));
        return o;
}

/* Prints v as it stands depth levels deep in a document: byte for byte what
 * json_dumpf(JSON_INDENT(2)) of the whole document prints there. */
static int print_nested(json_t *v, unsigned depth) {
        _cleanup_(freep) char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        if (!s)
                return -ENOMEM;
        /* string values escape their newlines: each one here ends a line */
        for (const char *p = s; *p; p++) {
                putchar(*p);
                if (*p == '\n')
                        printf("%*s", (int) depth * 2, "");
        }
        return 0;
}

/* --json: one document, {"certificates": [...], "summary": {...}}, written
 * one certificate at a time: a thousand results held as JSON at once were
 * 1.3 MiB at the end of a pass. */
static int print_results_json(const engine *e, const cli_options *o, const size_t counts[static _ENGINE_ACTION_MAX]) {
        _cleanup_(json_decrefp) json_t *summary = json_object();
        size_t n = engine_n_results(e);
        int r;

        if (!summary)
                return log_error_errno(-ENOMEM, "out of memory");
        fputs("{\n  \"certificates\": [", stdout);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(json_decrefp) json_t *c = result_json(engine_result_get(e, i), o->dry_run);
                printf("%s\n    ", i > 0 ? "," : "");
                r = print_nested(c, 2);
                if (r < 0)
                        return log_error_errno(r, "out of memory");
        }
        fputs(n > 0 ? "\n  ],\n  \"summary\": " : "],\n  \"summary\": ", stdout);
        json_object_set_new(summary, "total", json_integer((json_int_t) n));
        for (int a = 0; a < _ENGINE_ACTION_MAX; a++)
                json_object_set_new(summary, engine_action_to_string(a), json_integer((json_int_t) counts[a]));
        json_object_set_new(summary, "dry_run", json_boolean(o->dry_run));
        json_object_set_new(summary, "exit_code", json_integer(engine_exit_code(e)));
        json_object_set_new(summary, "aws", engine_aws_stats_json(e));
        r = print_nested(summary, 1);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        fputs("\n}\n", stdout);
        return ferror(stdout) ? -EIO : 0;
}

static int print_results(const engine *e, const cli_options *o) {
        size_t counts[_ENGINE_ACTION_MAX] = {};
        size_t n = engine_n_results(e);
        char na[21];

        for (size_t i = 0; i < n; i++)
                counts[engine_result_get(e, i)->action]++;

        if (o->json)
                return print_results_json(e, o, counts);
        for (size_t i = 0; i < n; i++) {
                const engine_result *r = engine_result_get(e, i);
                if (o->dry_run) {
                        printf("%s: %s\n", r->name, r->plan ? r->plan : "?");
                        continue;
                }
                printf("%s: %s", r->name, engine_action_to_string(r->action));
                if (r->serial)
                        printf(" serial %s", r->serial);
                if (r->not_after)
                        printf(" until %s", clock_format_rfc3339(r->not_after, na));
                if (r->error)
                        printf(": %s", r->error);
                else if (r->wait_reason) {
                        printf(": %s", r->wait_reason);
                        if (r->waiting_until)
                                printf(" (looked at again at %s)", clock_format_rfc3339(r->waiting_until, na));
                }
                putchar('\n');
        }
        if (!o->dry_run)
                printf("%zu certificate%s: %zu issued, %zu renewed, %zu unchanged, %zu failed, %zu locked, %zu waiting, "
                       "%zu revoked\n", n, n == 1 ? "" : "s", counts[ENGINE_ACTION_ISSUED], counts[ENGINE_ACTION_RENEWED],
                       counts[ENGINE_ACTION_NONE], counts[ENGINE_ACTION_FAILED], counts[ENGINE_ACTION_LOCKED],
                       counts[ENGINE_ACTION_WAITING], counts[ENGINE_ACTION_REVOKED]);
        return 0;
}

/*
 * One pass of the engine for --once, renew and revoke; prints the results
 * and returns the exit code.
 */
int cli_run_pass(const cli_options *o, const engine_options *eo_in) {
        _cleanup_(store_readahead_freep) store_readahead *ra = NULL;
        _cleanup_(engine_freep) engine *e = NULL;
        engine_options eo = *eo_in;
        conf *c = NULL;
        char err[512] = "";
        int r;

        (void) engine_raise_fd_limit();
        /* OpenSSL starts up meanwhile (the fingerprints need it) */
        (void) engine_warm_up();
        /* a pass over every certificate reads their states meanwhile too */
        if (eo.command == ENGINE_CMD_CONVERGE && !eo.only)
                r = cli_conf_load_reading_states(o, &c, &ra);
        else
                r = cli_conf_load(o, &c);
        engine_warm_up_wait();
        if (r < 0)
                return EXIT_USAGE;
        eo.readahead = ra;
        eo.mode = ENGINE_ONCE;
        eo.dry_run = o->dry_run;
        eo.issuer_lookup = issuer_lookup;
        r = engine_new(NULL, c, &eo, &e, err, sizeof(err));  /* takes c */
        if (r == -ESRCH) {
                log_error("no certificate named '%s' in %s", eo.only, o->config_path);
                return EXIT_USAGE;
        }
        if (r < 0) {
                log_error("cannot start: %s", err[0] ? err : strerror(-r));
                return EXIT_FAILED;
        }
        r = engine_run_once(e);
        if (r < 0) {
                log_error("the event loop failed: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (print_results(e, o) < 0)
                return EXIT_FAILED;
        /* the Prometheus textfile, as the daemon keeps it (not for a dry run) */
        const char *metrics = engine_conf(e)->daemon.metrics_textfile;
        if (metrics && !o->dry_run) {
                r = daemon_metrics_write_engine(e, metrics);
                if (r < 0)
                        log_warning("cannot write the metrics file %s: %s", metrics, strerror(-r));
        }
        if (eo.command == ENGINE_CMD_RENEW && !eo.force && !o->json && !o->dry_run && engine_n_results(e) == 1) {
                const engine_result *res = engine_result_get(e, 0);
                char t[21];
                if (res->action == ENGINE_ACTION_NONE && res->renew_at)
                        printf("%s is not due for renewal until %s; use --force to renew now\n", res->name,
                               clock_format_rfc3339(res->renew_at, t));
        }
        fflush(stdout);
        return engine_exit_code(e);
}

int cmd_once(const cli_options *o, int argc, char **argv) {
        if (argc > 1) {
                log_error("--once takes no arguments (got '%s')", argv[1]);
                return EXIT_USAGE;
        }
        return cli_run_pass(o, &(engine_options) { .command = ENGINE_CMD_CONVERGE });
}

int cmd_renew(const cli_options *o, int argc, char **argv) {
        if (argc != 2) {
                log_error("usage: acm-agent renew NAME [--force]");
                return EXIT_USAGE;
        }
        return cli_run_pass(o, &(engine_options) { .command = ENGINE_CMD_RENEW, .only = argv[1], .force = o->force });
}
