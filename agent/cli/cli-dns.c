/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent dns NAME [--json]: the validation CNAMEs of ACM certificate
 * NAME as zone-file lines (what to publish by hand with dns: {provider:
 * manual}, or to check), from its state file alone: no lock, no AWS call,
 * so it works while a daemon or another --once runs.
 *
 * Exit status: 0 records printed; 3 none known yet (the certificate was not
 * requested yet, or ACM has not produced them: run acm-agent --once); 2 NAME
 * is unknown, not an ACM certificate or not validated through DNS; 1 the
 * state cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "issuer/issuer-dns.h"
#include "store/store.h"

int cmd_dns(const cli_options *o, int argc, char **argv) {
        _cleanup_(cli_conf_freep) conf *c = NULL;
        _cleanup_(cert_state_freep) cert_state *st = NULL;
        _cleanup_(freep) char *err = NULL, *zone = NULL;
        dns_records recs = {};
        const conf_cert *cert;
        uint64_t ttl;
        int r;

        if (argc != 2) {
                log_error("usage: acm-agent dns NAME [--json]");
                return EXIT_USAGE;
        }
        if (cli_conf_load(o, &c) < 0)
                return EXIT_USAGE;
        cert = conf_find_cert(c, argv[1]);
        if (!cert) {
                log_error("dns %s: no certificate of that name in %s", argv[1], o->config_path);
                return EXIT_USAGE;
        }
        if (cert->issuer_type != CONF_ISSUER_ACM) {
                log_error("dns %s: the certificate comes from the %s issuer; only ACM certificates have "
                          "validation records",
                          argv[1], conf_issuer_type_to_string(cert->issuer_type));
                return EXIT_USAGE;
        }
        if (cert->issuer.acm.certificate_authority_arn ||
            cert->issuer.acm.validation != CONF_VALIDATION_DNS) {
                log_error("dns %s: the certificate is %s, without DNS records", argv[1],
                          cert->issuer.acm.certificate_authority_arn ? "private (no validation)"
                                                                     : "validated by e-mail");
                return EXIT_USAGE;
        }
        ttl = cert->dns.ttl ? cert->dns.ttl : 300;
        r = store_load(c->state_dir, cert->name, &st, &err);
        if (r == -ENOENT) {
                log_notice("dns %s: nothing requested yet: run 'acm-agent --once' (ACM gives the records "
                           "after the request)",
                           argv[1]);
                return EXIT_WAITING;
        }
        if (r < 0) {
                log_error("dns %s: cannot read the state: %s", argv[1], err ? err : strerror(-r));
                return EXIT_FAILED;
        }
        if (st->issuer && st->issuer_type && streq(st->issuer_type, "acm")) {
                json_t *a = json_object_get(st->issuer, "records");
                if (a && dns_records_from_json(a, &recs) < 0) {
                        log_error("dns %s: %s/certs/%s/state.json holds unusable records", argv[1],
                                  c->state_dir, cert->name);
                        return EXIT_FAILED;
                }
        }
        if (recs.n == 0) {
                log_notice("dns %s: ACM has not given the validation records yet: run 'acm-agent --once'",
                           argv[1]);
                return EXIT_WAITING;
        }
        if (o->json) {
                json_t *list = NULL, *doc;
                if (dns_records_to_json(&recs, &list) < 0 ||
                    !(doc = json_pack("{s:s,s:I,s:o}", "name", cert->name, "ttl", (json_int_t) ttl,
                                      "records", list))) {
                        dns_records_done(&recs);
                        return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;
                }
                dns_records_done(&recs);
                r = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                json_decref(doc);
                if (r < 0)
                        return EXIT_FAILED;
                putchar('\n');
                return EXIT_OK;
        }
        zone = dns_records_format_zone(&recs, ttl);
        dns_records_done(&recs);
        if (!zone)
                return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;
        fputs(zone, stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}
