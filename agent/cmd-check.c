/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent check.
 *
 * STOPGAP: the configuration loader (conf_load() and friends, agent/conf*.c)
 * is not implemented on this branch yet. Until it is, `check` must not
 * report a configuration as valid: it refuses with exit 2 and says why,
 * instead of the previous placeholder that returned 0 (a silent false
 * "valid").
 */
#include <stdio.h>

#include "cli.h"
#include "log.h"

int cmd_check(const cli_options *o, int argc, char **argv) {
        (void) argc;
        (void) argv;

        if (o->online) {
                /* The coordinator hooks check_online() (AWS engineer) in here,
                 * after a successful local load. Not available yet. */
                log_error("check --online: not available in this build.");
                return EXIT_USAGE;
        }

        log_error("%s: cannot validate: the configuration loader is not implemented in this build; "
                  "nothing was checked.", o->config_path ? o->config_path : "(default config)");
        return EXIT_USAGE;
}
