/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent revoke NAME --reason REASON [--no-replace]: the engine revokes
 * the served certificate through its issuer, discards its key and, in the
 * same command, issues, deploys and reloads a replacement with a new key
 * (the revoked version is removed and never a rollback target). With
 * --no-replace the certificate is only revoked and marked so (status says
 * revoked, exit 1) until `renew NAME` replaces it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "basic/log.h"
#include "engine/engine.h"
#include "basic/util.h"

static const char *const reasons[] = {
        "UNSPECIFIED", "KEY_COMPROMISE", "CERTIFICATE_AUTHORITY_COMPROMISE", "AFFILIATION_CHANGED",
        "SUPERSEDED", "CESSATION_OF_OPERATION", "PRIVILEGE_WITHDRAWN", "A_A_COMPROMISE",
};

/* Accepts KEY_COMPROMISE and key-compromise. Returns the enum or NULL. */
static const char *reason_parse(const char *s) {
        char buf[64];
        size_t n = strlen(s);

        if (n == 0 || n >= sizeof(buf))
                return NULL;
        for (size_t i = 0; i <= n; i++)
                buf[i] = s[i] == '-' ? '_' : (char) toupper((unsigned char) s[i]);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (streq(buf, reasons[i]))
                        return reasons[i];
        return NULL;
}

static void list_reasons(void) {
        fprintf(stderr, "reasons:");
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                char buf[64];
                size_t n = strlen(reasons[i]);
                for (size_t k = 0; k <= n; k++)
                        buf[k] = reasons[i][k] == '_' ? '-' : (char) tolower((unsigned char) reasons[i][k]);
                fprintf(stderr, " %s", buf);
        }
        fprintf(stderr, " (or the same in UPPER_CASE)\n");
}

int cmd_revoke(const cli_options *o, int argc, char **argv) {
        const char *reason;

        if (argc != 2) {
                log_error("usage: acm-agent revoke NAME --reason REASON [--no-replace]");
                return EXIT_USAGE;
        }
        if (!o->reason) {
                log_error("revoke %s: --reason is required (RevokeCertificate needs a RevocationReason)", argv[1]);
                list_reasons();
                return EXIT_USAGE;
        }
        reason = reason_parse(o->reason);
        if (!reason) {
                log_error("revoke %s: unknown reason '%s'", argv[1], o->reason);
                list_reasons();
                return EXIT_USAGE;
        }
        return cli_run_pass(o, &(engine_options) {
                .command = ENGINE_CMD_REVOKE,
                .only = argv[1],
                .revoke_reason = reason,
                .revoke_no_replace = o->no_replace,
        });
}
