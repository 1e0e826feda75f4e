/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent status [--json]: what every configured certificate looks like,
 * from the state files alone (no lock taken, so it works while a daemon or
 * another --once runs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "basic/clock.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "basic/log.h"
#include "engine/engine-sched.h"
#include "store/store-state.h"
#include "basic/util.h"

static const char *fmt_time(time_t t, char buf[static 21]) {
        return t ? clock_format_rfc3339(t, buf) : NULL;
}

int cmd_status(const cli_options *o, int argc, char **argv) {
        _cleanup_(cli_conf_freep) conf *c = NULL;
        char machine_id[64];
        json_t *list = NULL;
        int r, rc = EXIT_OK;

        if (argc > 1) {
                log_error("status takes no arguments (got '%s')", argv[1]);
                return EXIT_USAGE;
        }
        r = cli_conf_load(o, &c);
        if (r < 0)
                return EXIT_USAGE;
        engine_machine_id(machine_id, sizeof(machine_id));
        if (o->json && !(list = json_array()))
                return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;

        for (conf_cert **i = c->certs; i && *i; i++) {
                const conf_cert *cert = *i;
                _cleanup_(state_freep) cert_state *st = NULL;
                char err[512] = "", na[21], nr[21], ls[21], nx[21];
                time_t renew_at = 0;
                const char *phase;

                r = state_load(c->state_dir, cert->name, &st, err, sizeof(err));
                if (r == -ENOENT) {
                        st = state_new();
                        if (!st)
                                return EXIT_FAILED;
                        phase = "new";
                } else if (r < 0) {
                        log_error("%s: %s", cert->name, err[0] ? err : strerror(-r));
                        rc = EXIT_FAILED;
                        continue;
                } else
                        phase = state_phase_to_string(st->phase);
                if (st->serial)
                        renew_at = sched_renew_at(&cert->schedule, st->not_before, st->not_after,
                                                  sched_hash(machine_id, cert->name));
                if (st->phase == STATE_FAILED && st->next_attempt)
                        renew_at = st->next_attempt;
                if (st->phase == STATE_FAILED || (st->not_after && st->not_after <= clock_now()))
                        rc = EXIT_FAILED;

                if (o->json) {
                        json_t *e = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:i,s:b}", "name", cert->name,
                                              "issuer", conf_issuer_type_to_string(cert->issuer_type), "state", phase,
                                              "serial", st->serial, "arn", st->arn,
                                              "not_after", fmt_time(st->not_after, na),
                                              "next_renewal", fmt_time(renew_at, nr),
                                              "last_success", fmt_time(st->last_success, ls),
                                              "last_error", st->last_error, "failures", (int) st->failures,
                                              "force_renewal", st->force_renewal);
                        if (e && st->phase == STATE_FAILED)
                                json_object_set_new(e, "next_attempt", st->next_attempt ?
                                                    json_string(clock_format_rfc3339(st->next_attempt, nx)) : json_null());
                        if (!e || json_array_append_new(list, e) < 0)
                                return EXIT_FAILED;
                        continue;
                }
                printf("%s (%s): %s\n", cert->name, conf_issuer_type_to_string(cert->issuer_type), phase);
                if (st->serial)
                        printf("  serial:       %s\n  not after:    %s\n", st->serial, fmt_time(st->not_after, na));
                if (st->arn)
                        printf("  arn:          %s\n", st->arn);
                if (renew_at)
                        printf("  next renewal: %s%s\n", fmt_time(renew_at, nr),
                               st->phase == STATE_FAILED ? " (retry after failure)" : "");
                printf("  last success: %s\n", st->last_success ? fmt_time(st->last_success, ls) : "never");
                if (st->last_error)
                        printf("  last error:   %s (%u consecutive failure%s)\n", st->last_error, st->failures,
                               st->failures == 1 ? "" : "s");
                if (st->force_renewal)
                        printf("  renewal forced at the next run (revoked)\n");
                if (st->pending_arn)
                        printf("  pending:      %s\n", st->pending_arn);
        }
        if (o->json) {
                json_t *doc = json_pack("{s:o}", "certificates", list);
                if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                        return EXIT_FAILED;
                putchar('\n');
                json_decref(doc);
        }
        return rc;
}
