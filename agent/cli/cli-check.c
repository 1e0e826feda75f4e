/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent check [--json] [--online] [--drop-in FILE [--as PATH]]: loads
 * and validates the whole configuration (main file, certs.d/, include:),
 * prints one line per certificate and exits 0, or prints every error as
 * FILE:LINE:COLUMN and exits 2. Warnings (FILE:LINE:COLUMN: warning: ...)
 * do not change the exit code; nor do the checks an issuance makes before
 * its first AWS call (engine_preflight: output directory, PKCS#12
 * passphrase file, owner and group, import sources), printed as warnings
 * at each certificate that fails them. --json prints the configuration after
 * defaults (itself a valid configuration; with a "warnings" member when
 * there are warnings; the host's warnings go to stderr) or, when invalid,
 * the errors as JSON. --online then checks credentials, CAs and tracked
 * certificates against AWS, and exits 1 when any check failed, the host's
 * included. --drop-in
 * validates one drop-in file in the context of the main file (for
 * config management: Ansible's validate:), --as PATH in the place of the
 * drop-in PATH it will replace.
 */
#include <stdio.h>

#include "cli/cli-check-online.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"
#include "engine/engine.h"
#include "issuer/issuer.h"

static void print_cert(const conf_cert *c) {
        char key[32];
        size_t n = 0;

        /* The key column says which key the certificate gets: ours (CSR), ACM's, or the imported one. */
        const char *k = c->issuer_type == CONF_ISSUER_PCA ? conf_key_describe(&c->key, key, sizeof key)
                        : c->issuer_type == CONF_ISSUER_ACM ? (c->issuer.acm.arn ? "tracked" : c->issuer.acm.key_algorithm)
                                                            : "imported";
        printf("%-24s %-6s %-13s ", c->name, conf_issuer_type_to_string(c->issuer_type), k);
        char **lists[] = { c->dns_names, c->ip_addresses, c->email_addresses, c->uris };
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (char **i = lists[l]; i && *i; i++)
                        printf("%s%s", n++ ? "," : "", *i);
        if (n == 0)
                printf("%s", c->subject.common_name ? c->subject.common_name : "-");
        printf(" -> %s\n", c->output.dir);
}

/* What each certificate's next issuance checks before its first AWS call
 * (engine_preflight: output directory, PKCS#12 passphrase file, owner and
 * group, an import's source files), on this host, now. Prints each
 * failure to f as a warning at the certificate's "- name:" (the
 * configuration is valid; this host is not ready for it) and returns
 * their number. */
static size_t check_host(const conf *c, FILE *f) {
        size_t bad = 0;

        for (conf_cert **i = c->certs; i && *i; i++) {
                _cleanup_(freep) char *why = NULL;
                int r = engine_preflight(*i, issuer_lookup((*i)->issuer_type), &why);

                if (r >= 0)
                        continue;
                const conf_loc *l = &(*i)->loc;
                bad++;
                fprintf(f, "%s:%u:%u: warning: certificate %s cannot be issued and deployed on this host now: %s\n"
                           "  hint: its next issuance stops here, before any AWS call; fix it before the certificate is due\n",
                        l->file, l->line, l->column, (*i)->name, why ? why : strerror(-r));
        }
        return bad;
}

/* [{file, line, column, class, message, hint}] */
static json_t *errors_json(const conf_errors *errs) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < errs->n; i++) {
                const conf_error *e = &errs->items[i];
                json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s}", "file", e->loc.file, "line", (json_int_t) e->loc.line,
                                      "column", (json_int_t) e->loc.column, "class", e->klass, "message", e->message);
                if (o && e->hint)
                        json_object_set_new(o, "hint", json_string(e->hint));
                if (!o || json_array_append_new(a, o) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int cmd_check(const cli_options *o, int argc, char **argv) {
        const char *path = o->config_path ? o->config_path : CONF_DEFAULT_PATH;
        const conf_load_options lo = { .drop_in = o->drop_in, .drop_in_as = o->drop_in_as };
        conf_errors errs = {}, warns = {};
        conf *c = NULL;
        int r;

        if (argc > 1) {
                log_error("check: unexpected argument '%s'.", argv[1]);
                return EXIT_USAGE;
        }
        if (o->json && o->online) {
                /* the online report is lines for people: mixed into the JSON
                 * document it would break every consumer of --json */
                log_error("check: --json and --online cannot be combined; run 'check --json' and 'check --online' separately.");
                return EXIT_USAGE;
        }
        if (o->drop_in_as && !o->drop_in) {
                log_error("check: --as PATH names the drop-in that --drop-in FILE replaces; give --drop-in FILE too.");
                return EXIT_USAGE;
        }
        if ((o->drop_in && !*o->drop_in) || (o->drop_in_as && !*o->drop_in_as)) {
                log_error("check: --drop-in and --as need a file name.");
                return EXIT_USAGE;
        }
        r = conf_load_with(path, &lo, &c, &errs, &warns);
        if (r == -EINVAL) {
                if (o->json) {
                        json_t *j = json_pack("{s:b,s:o,s:o}", "valid", 0, "errors", errors_json(&errs), "warnings", errors_json(&warns));
                        if (j)
                                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        putchar('\n');
                        json_decref(j);
                } else {
                        conf_errors_print(&errs, stdout);
                        conf_warnings_print(&warns, stdout);
                }
                fflush(stdout);
                fprintf(stderr, "%s: %zu error%s; nothing was changed.\n", o->drop_in ? o->drop_in : path, errs.n,
                        errs.n == 1 ? "" : "s");
                conf_errors_done(&errs);
                conf_errors_done(&warns);
                return EXIT_USAGE;
        }
        if (r < 0) {
                log_error("%s: cannot load the configuration: %s", path, strerror(-r));
                return EXIT_USAGE;
        }

        size_t bad = 0;
        if (o->json) {
                json_t *j = conf_to_json(c);
                /* Warnings ride along; without them the document is itself a valid configuration. */
                if (j && c->warnings.n > 0 && json_object_set_new(j, "warnings", errors_json(&c->warnings)) < 0) {
                        json_decref(j);
                        j = NULL;
                }
                /* what this host lacks is no part of the configuration: on
                 * stderr, so the document still loads as one */
                bad = check_host(c, stderr);
                if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
                        json_decref(j);
                        conf_free(c);
                        log_error("check: out of memory");
                        return EXIT_FAILED;
                }
                putchar('\n');
                json_decref(j);
        } else {
                for (conf_cert **i = c->certs; *i; i++)
                        print_cert(*i);
                conf_warnings_print(&c->warnings, stdout);
                bad = check_host(c, stdout);
                fflush(stdout);
                fprintf(stderr, "%s: valid, %zu certificate%s in %zu file%s", o->drop_in ? o->drop_in : path, c->n_certs,
                        c->n_certs == 1 ? "" : "s", strv_length(c->files), strv_length(c->files) == 1 ? "" : "s");
                if (c->warnings.n > 0)
                        fprintf(stderr, ", %zu warning%s", c->warnings.n, c->warnings.n == 1 ? "" : "s");
                if (bad > 0)
                        fprintf(stderr, "; %zu certificate%s cannot be issued and deployed on this host now", bad,
                                bad == 1 ? "" : "s");
                fprintf(stderr, ".\n");
        }
        /* the configuration is valid (config management may set the host
         * up after installing it): exit 0 with the warnings; --online asks
         * whether this host works now, so there they fail the check */
        r = EXIT_OK;
        if (o->online) {
                r = check_online(c, o);
                if (bad > 0 && r == EXIT_OK)
                        r = EXIT_FAILED;
        }
        conf_free(c);
        return r;
}
