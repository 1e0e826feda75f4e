/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "conf/conf.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

typedef struct command {
        const char *name;
        int (*run)(const cli_options *o, int argc, char **argv);
        const char *usage;
} command;

static const command commands[] = {
        { "check", cmd_check, "check [--json] [--online]  validate the configuration (and AWS access) and print what is managed\n"
                              "  check --drop-in FILE [--as PATH]  validate one drop-in with the configuration (config management)" },
        { "status", cmd_status, "status [--json]            state, serial, expiry, next renewal, last error of each certificate" },
        { "renew", cmd_renew, "renew NAME [--force]       renew one certificate now if due (or always with --force)" },
        { "revoke", cmd_revoke, "revoke NAME --reason R [--no-replace]\n"
                                "                             revoke the served certificate and replace it at once (new key)" },
        { "dns", cmd_dns, "dns NAME [--json]           the validation CNAMEs of ACM certificate NAME, as zone-file lines" },
};

static void help(void) {
        printf("Usage: acm-agent [OPTION]... [COMMAND [ARG]...]\n"
               "Without --once or a command acm-agent runs as the service (systemd Type=notify).\n"
               "Keep this host's TLS certificates from AWS Certificate Manager and AWS Private CA\n"
               "issued, deployed and renewed.\n"
               "\n"
               "Options:\n"
               "  -c, --config=PATH      configuration file (default %s)\n"
               "      --once             converge every certificate once, then exit\n"
               "      --dry-run          print what would be done, change nothing\n"
               "      --json             machine-readable output\n"
               "      --log-level=LEVEL  error, warning, notice, info (default) or debug\n"
               "  -h, --help             display this help and exit\n"
               "  -V, --version          output version information and exit\n"
               "\n"
               "Commands:\n",
               CONF_DEFAULT_PATH);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                printf("  %s\n", commands[i].usage);
        printf("\n"
               "Exit status: 0 ok, 1 a certificate or check failed, 2 usage or configuration\n"
               "error, 3 waiting on something outside the agent.\n"
               "\n"
               "Report bugs to: %s\n",
               PACKAGE_BUGREPORT);
}

static void version(void) {
        printf("acm-agent %s\n"
               "Copyright (C) 2026 the acm-agent authors.\n"
               "License Apache-2.0: <https://www.apache.org/licenses/LICENSE-2.0>.\n"
               "This is free software: you are free to change and redistribute it.\n"
               "There is NO WARRANTY, to the extent permitted by law.\n",
               PACKAGE_VERSION);
}

enum {
        ARG_ONCE = 0x100,
        ARG_DRY_RUN,
        ARG_JSON,
        ARG_LOG_LEVEL,
        ARG_ONLINE,
        ARG_FORCE,
        ARG_REASON,
        ARG_NO_REPLACE,
        ARG_DROP_IN,
        ARG_AS,
};

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "json", no_argument, NULL, ARG_JSON },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "online", no_argument, NULL, ARG_ONLINE },
                { "force", no_argument, NULL, ARG_FORCE },
                { "reason", required_argument, NULL, ARG_REASON },
                { "no-replace", no_argument, NULL, ARG_NO_REPLACE },
                { "drop-in", required_argument, NULL, ARG_DROP_IN },
                { "as", required_argument, NULL, ARG_AS },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        cli_options o = { .config_path = CONF_DEFAULT_PATH };
        int c, level, r;

        /* Before anything holds a key: no core dump, no ptrace by others,
         * umask 077 (every file and directory gets its mode explicitly). */
        r = harden_process();
        if (r < 0)
                log_warning_errno(r, "cannot fully harden the process (core dumps may hold keys): %m");

        /* Options may come before or after the command ("check --json"). */
        while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        o.config_path = optarg;
                        break;
                case ARG_ONCE:
                        o.once = true;
                        break;
                case ARG_DRY_RUN:
                        o.dry_run = true;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr, "acm-agent: invalid log level '%s' (use error, warning, notice, info or debug)\n", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_ONLINE:
                        o.online = true;
                        break;
                case ARG_FORCE:
                        o.force = true;
                        break;
                case ARG_REASON:
                        o.reason = optarg;
                        break;
                case ARG_NO_REPLACE:
                        o.no_replace = true;
                        break;
                case ARG_DROP_IN:
                        o.drop_in = optarg;
                        break;
                case ARG_AS:
                        o.drop_in_as = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case 'V':
                        version();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'acm-agent --help' for more information.\n");
                        return EXIT_USAGE;
                }
        }

        if (optind >= argc) {
                if (o.once)
                        return cmd_once(&o, 1, (char *[]) { (char *) "--once", NULL });
                if (o.dry_run || o.json) {
                        fprintf(stderr, "acm-agent: --dry-run and --json go with --once or a command, not with the "
                                        "daemon\nTry 'acm-agent --help' for more information.\n");
                        return EXIT_USAGE;
                }
                return daemon_run(o.config_path);
        }
        if (o.once) {
                fprintf(stderr, "acm-agent: --once does not take a command ('%s')\n", argv[optind]);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name))
                        return commands[i].run(&o, argc - optind, argv + optind);

        fprintf(stderr, "acm-agent: unknown command '%s'\nTry 'acm-agent --help' for more information.\n", argv[optind]);
        return EXIT_USAGE;
}
