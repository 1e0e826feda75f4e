/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEST DOUBLE of the commands' configuration loading, linked only into
 * tests/integration/acm-agent-json (the real CLI, agent/main.c, with this
 * loader): cli_conf_load() reads a JSON file whose shape mirrors conf.h, so
 * the engine's integration tests run the real commands before the YAML
 * loader (conf.c) is part of the build. It replaces cmd-common.o (both of
 * its symbols are defined here, so the archive member is not pulled) and
 * defines no conf_* symbol, so it links with or without conf.c. Only what
 * the engine tests use is read; anything else keeps conf.h's default.
 *
 * {"state_dir": D, "certs": [{"name", "ca_arn", "template_arn",
 *   "signing_algorithm", "validity": {"type": "DAYS|MONTHS|YEARS|ABSOLUTE|
 *   END_DATE|DURATION", "value": N}, "validity_not_before": {...},
 *   "api_passthrough": {...}, "dns_names": [..], "ip_addresses": [..],
 *   "email_addresses": [..], "uris": [..], "common_name", "organization",
 *   "key": {"type": "ec|rsa", "bits", "curve": "P-256|P-384|P-521", "reuse"},
 *   "output": {"dir", "mode": "0644", "key_mode", "files": [..],
 *   "owner": uid, "group": gid, "keep_versions", "pkcs12_passphrase_file"},
 *   "reload": [[argv...]], "hooks": {"deploy": [argv], "failure": [argv]},
 *   "renew_before": seconds}]}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "macro.h"
#include "util.h"

static char *dupstr(json_t *o, const char *k) {
        const char *s = json_string_value(json_object_get(o, k));
        return s ? strdup(s) : NULL;
}

static char **dupv(json_t *a) {
        size_t n = json_array_size(a), i;
        char **v = calloc(n + 1, sizeof(char *));
        json_t *x;
        if (!v)
                return NULL;
        json_array_foreach(a, i, x)
                v[i] = strdup(json_string_value(x) ? json_string_value(x) : "");
        return v;
}

static conf_validity validity(json_t *o) {
        static const char *const names[] = { "", "DAYS", "MONTHS", "YEARS", "ABSOLUTE", "END_DATE", "DURATION" };
        conf_validity v = {};
        const char *t = json_string_value(json_object_get(o, "type"));
        for (size_t i = 1; t && i < ELEMENTSOF(names); i++)
                if (streq(t, names[i]))
                        v.type = (conf_validity_type) i;
        v.value = json_integer_value(json_object_get(o, "value"));
        return v;
}

static mode_t mode(json_t *o, const char *k, mode_t def) {
        mode_t m;
        const char *s = json_string_value(json_object_get(o, k));
        return s && parse_mode(s, &m) >= 0 ? m : def;
}

static int json_conf_load(const char *path, conf **ret) {
        json_error_t jerr;
        json_t *root = json_load_file(path, 0, &jerr), *certs, *jc;
        conf *c;
        size_t i;

        if (!root) {
                fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
                return -EINVAL;
        }
        c = calloc(1, sizeof(*c));
        c->path = strdup(path);
        c->state_dir = dupstr(root, "state_dir");
        c->aws.max_attempts = 5;
        c->aws.connect_timeout = 10;
        c->aws.request_timeout = 60;
        certs = json_object_get(root, "certs");
        c->n_certs = json_array_size(certs);
        c->certs = calloc(c->n_certs + 1, sizeof(conf_cert *));
        size_t n_reload = 0;
        c->reloaders = calloc(1, sizeof(conf_reload *));
        json_array_foreach(certs, i, jc) {
                conf_cert *x = calloc(1, sizeof(*x));
                json_t *k = json_object_get(jc, "key"), *out = json_object_get(jc, "output"), *a, *h;
                size_t j;
                x->name = dupstr(jc, "name");
                x->issuer_type = CONF_ISSUER_PCA;
                x->issuer.pca.ca_arn = dupstr(jc, "ca_arn");
                x->issuer.pca.template_arn = dupstr(jc, "template_arn");
                x->issuer.pca.signing_algorithm = dupstr(jc, "signing_algorithm");
                x->issuer.pca.validity = validity(json_object_get(jc, "validity"));
                x->issuer.pca.validity_not_before = validity(json_object_get(jc, "validity_not_before"));
                x->issuer.pca.api_passthrough = json_incref(json_object_get(jc, "api_passthrough"));
                x->dns_names = dupv(json_object_get(jc, "dns_names"));
                x->ip_addresses = dupv(json_object_get(jc, "ip_addresses"));
                x->email_addresses = dupv(json_object_get(jc, "email_addresses"));
                x->uris = dupv(json_object_get(jc, "uris"));
                x->subject.common_name = dupstr(jc, "common_name");
                if (!x->subject.common_name && x->dns_names[0])
                        x->subject.common_name = strdup(x->dns_names[0]);
                x->subject.organization = dupstr(jc, "organization");
                x->key.type = json_is_string(json_object_get(k, "type")) &&
                                streq(json_string_value(json_object_get(k, "type")), "rsa") ? CONF_KEY_RSA : CONF_KEY_EC;
                x->key.bits = (unsigned) json_integer_value(json_object_get(k, "bits"));
                const char *cv = json_string_value(json_object_get(k, "curve"));
                x->key.curve = cv && streq(cv, "P-384") ? CONF_CURVE_P384 : cv && streq(cv, "P-521") ? CONF_CURVE_P521
                                                                                                     : CONF_CURVE_P256;
                x->key.reuse = json_is_true(json_object_get(k, "reuse"));
                x->output.dir = dupstr(out, "dir");
                x->output.owner = json_is_integer(json_object_get(out, "owner")) ?
                        (uid_t) json_integer_value(json_object_get(out, "owner")) : (uid_t) -1;
                x->output.group = json_is_integer(json_object_get(out, "group")) ?
                        (gid_t) json_integer_value(json_object_get(out, "group")) : (gid_t) -1;
                x->output.mode = mode(out, "mode", 0644);
                x->output.key_mode = mode(out, "key_mode", 0600);
                x->output.keep_versions = json_is_integer(json_object_get(out, "keep_versions")) ?
                        (unsigned) json_integer_value(json_object_get(out, "keep_versions")) : 2;
                x->output.pkcs12_passphrase_file = dupstr(out, "pkcs12_passphrase_file");
                a = json_object_get(out, "files");
                if (!a)
                        x->output.files = CONF_OUT_CERT | CONF_OUT_CHAIN | CONF_OUT_FULLCHAIN | CONF_OUT_KEY;
                json_array_foreach(a, j, h) {
                        static const char *const fn[] = { "cert", "chain", "fullchain", "key", "haproxy_bundle", "pkcs12" };
                        for (size_t b = 0; b < ELEMENTSOF(fn); b++)
                                if (json_string_value(h) && streq(json_string_value(h), fn[b]))
                                        x->output.files |= 1u << b;
                }
                a = json_object_get(jc, "reload");
                x->reload = calloc(json_array_size(a) + 1, sizeof(conf_reload *));
                json_array_foreach(a, j, h) {
                        conf_reload *r = calloc(1, sizeof(*r));
                        r->kind = CONF_RELOAD_COMMAND;
                        r->command = dupv(h);
                        r->id = strprintf("command:%s", r->command[0] ? r->command[0] : "");
                        r->timeout = 60;
                        x->reload[j] = r;
                        c->reloaders = realloc(c->reloaders, (n_reload + 2) * sizeof(conf_reload *));
                        c->reloaders[n_reload++] = r;
                        c->reloaders[n_reload] = NULL;
                }
                h = json_object_get(jc, "hooks");
                if (json_object_get(h, "deploy"))
                        x->hooks.deploy = dupv(json_object_get(h, "deploy"));
                if (json_object_get(h, "failure"))
                        x->hooks.failure = dupv(json_object_get(h, "failure"));
                x->hooks.timeout = 60;
                x->schedule.renew_fraction = 0.33;
                x->schedule.renew_before = (uint64_t) json_integer_value(json_object_get(jc, "renew_before"));
                x->schedule.jitter = 12 * 3600;
                x->schedule.retry_min = 300;
                x->schedule.retry_max = 6 * 3600;
                c->certs[i] = x;
        }
        json_decref(root);
        *ret = c;
        return 0;
}

static void freev(char **v) {
        strv_free(v);
}

static void json_conf_free(conf *c) {
        if (!c)
                return;
        for (conf_cert **p = c->certs; p && *p; p++) {
                conf_cert *x = *p;
                free(x->name);
                free(x->issuer.pca.ca_arn);
                free(x->issuer.pca.template_arn);
                free(x->issuer.pca.signing_algorithm);
                json_decref(x->issuer.pca.api_passthrough);
                freev(x->dns_names);
                freev(x->ip_addresses);
                freev(x->email_addresses);
                freev(x->uris);
                free(x->subject.common_name);
                free(x->subject.organization);
                free(x->output.dir);
                free(x->output.pkcs12_passphrase_file);
                free(x->reload);
                freev(x->hooks.deploy);
                freev(x->hooks.failure);
                free(x);
        }
        for (conf_reload **r = c->reloaders; r && *r; r++) {
                freev((*r)->command);
                free((*r)->id);
                free(*r);
        }
        free(c->reloaders);
        free(c->certs);
        free(c->state_dir);
        free(c->path);
        free(c);
}

int cli_conf_load(const cli_options *o, conf **ret) {
        return json_conf_load(o->config_path, ret);
}

void cli_conf_free(conf *c) {
        json_conf_free(c);
}
