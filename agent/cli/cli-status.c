/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent status [--json]: what every configured certificate looks like,
 * from the state files alone (the engine in its dry-run mode: no lock, no
 * AWS, no write), so it works while a daemon or another --once runs, and
 * says exactly what the engine would decide.
 *
 * Exit status, for monitoring: 0 when every certificate is served, valid and
 * not in danger; 1 when any failed, is revoked, is not served, or expires
 * within its danger window (engine-sched.h); 3 when none of that but one is
 * waiting on something outside the agent or in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "issuer/issuer.h"

static const char *fmt_time(time_t t, char buf[static 21]) {
        return t ? clock_format_rfc3339(t, buf) : NULL;
}

/* The exit code one certificate asks for. */
static int cert_rc(const engine_result *r) {
        if (r->action == ENGINE_ACTION_FAILED || streq(r->phase, "revoked") || streq(r->phase, "backoff"))
                return EXIT_FAILED;
        if (!streq(r->danger, "safe"))
                return EXIT_FAILED;
        if (streq(r->phase, "waiting") || r->in_flight)
                return EXIT_WAITING;
        if (!r->serial)
                return EXIT_FAILED;
        return EXIT_OK;
}

static json_t *cert_json(const engine_result *r) {
        char na[21], nr[21], ls[21], nx[21], wk[21], la[21], ra[21];
        json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:i,s:s?,s:s?,s:s?,s:s?,s:b,"
                              "s:s?,s:s?,s:s?}",
                              "name", r->name, "issuer", r->issuer, "state", r->phase ? r->phase : "new",
                              "serial", r->serial, "arn", r->arn, "not_after", fmt_time(r->not_after, na),
                              "next_renewal", fmt_time(r->renew_at, nr), "next_attempt", fmt_time(r->next_attempt, nx),
                              "next_check", fmt_time(r->wake_at, wk), "last_success", fmt_time(r->last_success, ls),
                              "last_attempt", fmt_time(r->last_attempt, la), "failures", (int) r->failures,
                              "last_error", r->last_error, "last_error_kind", r->last_error_kind, "danger", r->danger,
                              "waiting_for", r->wait_reason, "in_flight", r->in_flight,
                              "revoked_serial", r->revoked_serial, "revoke_reason", r->revoke_reason,
                              "revoked_at", fmt_time(r->revoked_at, ra));

        if (o && r->error && !r->next_attempt)
                json_object_set_new(o, "error", json_string(r->error));
        if (o && r->plan)
                json_object_set_new(o, "plan", json_string(r->plan));
        if (o && r->issuer_state)
                json_object_set(o, "issuer_state", r->issuer_state);
        return o;
}

static void cert_text(const engine_result *r) {
        char t[21];

        printf("%s (%s): %s\n", r->name, r->issuer, r->phase ? r->phase : "new");
        if (r->serial)
                printf("  serial:       %s\n  not after:    %s\n", r->serial, fmt_time(r->not_after, t));
        if (r->arn)
                printf("  arn:          %s\n", r->arn);
        if (!streq(r->danger, "safe"))
                printf("  DANGER:       %s: the certificate is overdue for renewal and expires %s\n",
                       r->danger, fmt_time(r->not_after, t));
        if (r->next_attempt)
                printf("  next attempt: %s (retry after failure)\n", fmt_time(r->next_attempt, t));
        if (r->renew_at)
                printf("  next renewal: %s\n", fmt_time(r->renew_at, t));
        if (r->wait_reason)
                printf("  waiting for:  %s\n", r->wait_reason);
        printf("  last success: %s\n", r->last_success ? fmt_time(r->last_success, t) : "never");
        if (r->last_attempt > r->last_success)
                printf("  last attempt: %s\n", fmt_time(r->last_attempt, t));
        if (r->last_error)
                printf("  last error:   %s (%s%s%u consecutive failure%s)\n", r->last_error,
                       r->last_error_kind ? r->last_error_kind : "", r->last_error_kind ? " error, " : "", r->failures,
                       r->failures == 1 ? "" : "s");
        if (r->error && (!r->last_error || !streq(r->error, r->last_error)) && !r->next_attempt)
                printf("  error:        %s\n", r->error);
        if (r->revoked_serial) {
                printf("  revoked:      serial %s", r->revoked_serial);
                if (r->revoke_reason || r->revoked_at)
                        printf(" (%s%s%s)", r->revoke_reason ? r->revoke_reason : "",
                               r->revoke_reason && r->revoked_at ? ", " : "", r->revoked_at ? fmt_time(r->revoked_at, t) : "");
                putchar('\n');
        }
        if (r->plan)
                printf("  next step:    %s\n", r->plan);
}

int cmd_status(const cli_options *o, int argc, char **argv) {
        _cleanup_(engine_freep) engine *e = NULL;
        engine_options eo = { .mode = ENGINE_ONCE, .dry_run = true, .issuer_lookup = issuer_lookup };
        json_t *list = NULL;
        conf *c = NULL;
        int r, rc = EXIT_OK;

        if (argc > 1) {
                log_error("status takes no arguments (got '%s')", argv[1]);
                return EXIT_USAGE;
        }
        r = cli_conf_load(o, &c);
        if (r < 0)
                return EXIT_USAGE;
        r = engine_new(NULL, c, &eo, &e, NULL, 0);
        if (r >= 0)
                r = engine_run_once(e);
        if (r < 0) {
                log_error("cannot read the states: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (o->json && !(list = json_array()))
                return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;
        for (size_t i = 0; i < engine_n_results(e); i++) {
                const engine_result *res = engine_result_get(e, i);
                int k = cert_rc(res);

                if (k == EXIT_FAILED || (k == EXIT_WAITING && rc == EXIT_OK))
                        rc = k;
                if (o->json) {
                        if (json_array_append_new(list, cert_json(res)) < 0)
                                return EXIT_FAILED;
                } else
                        cert_text(res);
        }
        if (o->json) {
                json_t *doc = json_pack("{s:o,s:i}", "certificates", list, "exit_code", rc);
                if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                        return EXIT_FAILED;
                putchar('\n');
                json_decref(doc);
        }
        return rc;
}
