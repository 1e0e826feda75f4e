/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>

/* Exit codes of acm-agent (documented in README and acm-agent(8)). */
enum {
        EXIT_OK = 0,         /* every certificate valid / config valid */
        EXIT_FAILED = 1,     /* some certificate failed / online check failed */
        EXIT_USAGE = 2,      /* usage or configuration error */
        EXIT_WAITING = 3,    /* waiting on something outside the agent (DNS validation, ...) */
};

/* Global options, parsed by main.c before the command. */
typedef struct cli_options {
        const char *config_path;   /* -c/--config, default CONF_DEFAULT_PATH */
        bool once;                 /* --once */
        bool dry_run;              /* --dry-run */
        bool json;                 /* --json */
        bool online;               /* --online (check) */
        bool force;                /* --force (renew) */
        const char *reason;        /* --reason (revoke) */
        bool no_replace;           /* --no-replace (revoke) */
        const char *drop_in;       /* --drop-in FILE (check) */
        const char *drop_in_as;    /* --as PATH (check --drop-in) */
} cli_options;

/*
 * Commands. Each takes the global options and its positional arguments
 * (argv[0] is the command name) and returns an exit code above.
 */
int cmd_check(const cli_options *o, int argc, char **argv);
int cmd_once(const cli_options *o, int argc, char **argv);     /* --once, also without a command */
int cmd_status(const cli_options *o, int argc, char **argv);
int cmd_renew(const cli_options *o, int argc, char **argv);
int cmd_revoke(const cli_options *o, int argc, char **argv);
int cmd_dns(const cli_options *o, int argc, char **argv);       /* dns NAME: an ACM certificate's validation CNAMEs */

struct conf;
/*
 * Loads o->config_path for a command. Returns 0 and sets *ret; on failure
 * prints every configuration error on stderr and returns -EINVAL (or
 * -errno), for which the command exits EXIT_USAGE.
 */
int cli_conf_load(const cli_options *o, struct conf **ret);
struct store_readahead;
/*
 * cli_conf_load() for a pass that reads every certificate's state: as soon
 * as the configuration names its state directory, a thread starts reading
 * the states there (store-readahead.h) while the rest is parsed. *ret_ra
 * is that thread (the caller frees it with store_readahead_free() once
 * the engine took what it read), NULL when none started; always NULL on
 * failure.
 */
int cli_conf_load_reading_states(const cli_options *o, struct conf **ret, struct store_readahead **ret_ra);
/* Frees a configuration from cli_conf_load(); accepts NULL. */
void cli_conf_free(struct conf *c);
static inline void cli_conf_freep(struct conf **c) { cli_conf_free(*c); }

struct engine_options;
/* Runs one engine pass (--once, renew, revoke) with the given command
 * options on the configuration of o; prints the results (a line per
 * certificate and a summary, or JSON) and returns the exit code. */
int cli_run_pass(const cli_options *o, const struct engine_options *eo);
