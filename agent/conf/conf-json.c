/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf_to_json(): the configuration after defaults as JSON whose keys are
 * the configuration's own keys, so the output loads again (JSON is YAML)
 * to the same JSON. Only settings that the loader would accept together
 * are written (a tracked ACM arn hides the request settings).
 */
#include <inttypes.h>

#include "conf/conf.h"
#include "basic/macro.h"
#include "basic/util.h"

typedef struct jctx {
        bool oom;
} jctx;

static void set(jctx *j, json_t *o, const char *key, json_t *v) {
        if (!v || json_object_set_new(o, key, v) < 0)
                j->oom = true;
}

static void set_str(jctx *j, json_t *o, const char *key, const char *s) {
        if (s)
                set(j, o, key, json_string(s));
}

static void set_dur(jctx *j, json_t *o, const char *key, uint64_t sec) {
        char buf[64];
        if (sec == 0)
                set(j, o, key, json_string("0s"));
        else
                set(j, o, key, json_string(format_duration(sec, buf, sizeof buf)));
}

static json_t *strv_json(jctx *j, char *const *v) {
        json_t *a = json_array();
        if (!a) {
                j->oom = true;
                return NULL;
        }
        for (size_t i = 0; v && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0)
                        j->oom = true;
        return a;
}

static void set_strv(jctx *j, json_t *o, const char *key, char *const *v) {
        if (v)
                set(j, o, key, strv_json(j, v));
}

static json_t *tags_json(jctx *j, const conf_tag *t, size_t n) {
        json_t *o = json_object();
        if (!o) {
                j->oom = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                set_str(j, o, t[i].key, t[i].value);
        return o;
}

static json_t *validity_json(jctx *j, const conf_validity *v) {
        static const char *const names[] = { [CONF_VALIDITY_DAYS] = "DAYS", [CONF_VALIDITY_MONTHS] = "MONTHS",
                                             [CONF_VALIDITY_YEARS] = "YEARS", [CONF_VALIDITY_ABSOLUTE] = "ABSOLUTE",
                                             [CONF_VALIDITY_END_DATE] = "END_DATE" };
        char buf[64];
        json_t *o;
        if (v->type == CONF_VALIDITY_DURATION)
                return json_string(format_duration((uint64_t) v->value, buf, sizeof buf));
        o = json_object();
        if (!o)
                return NULL;
        set_str(j, o, "type", names[v->type]);
        set(j, o, "value", json_integer(v->value));
        return o;
}

static json_t *issuer_json(jctx *j, const conf_cert *c) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        set_str(j, o, "type", conf_issuer_type_to_string(c->issuer_type));
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA: {
                const conf_issuer_pca *p = &c->issuer.pca;
                set_str(j, o, "ca_arn", p->ca_arn);
                set_str(j, o, "template_arn", p->template_arn);
                set_str(j, o, "signing_algorithm", p->signing_algorithm ? p->signing_algorithm : "auto");
                if (p->validity.type != CONF_VALIDITY_NONE)
                        set(j, o, "validity", validity_json(j, &p->validity));
                if (p->validity_not_before.type != CONF_VALIDITY_NONE)
                        set(j, o, "validity_not_before", validity_json(j, &p->validity_not_before));
                if (p->api_passthrough)
                        set(j, o, "api_passthrough", json_deep_copy(p->api_passthrough));
                break;
        }
        case CONF_ISSUER_ACM: {
                const conf_issuer_acm *a = &c->issuer.acm;
                if (a->arn)
                        set_str(j, o, "arn", a->arn);
                else {
                        set_str(j, o, "validation", a->validation == CONF_VALIDATION_EMAIL ? "email" : "dns");
                        set_str(j, o, "key_algorithm", a->key_algorithm);
                        set_str(j, o, "certificate_authority_arn", a->certificate_authority_arn);
                        /* deprecated: written only when the configuration sets it */
                        if (a->transparency_logging_set)
                                set_str(j, o, "transparency_logging", a->transparency_logging ? "enabled" : "disabled");
                        set_str(j, o, "validation_domain", a->validation_domain);
                        set_str(j, o, "on_validation_timeout", a->on_validation_timeout == CONF_ACM_TIMEOUT_FAIL ? "fail" : "rerequest");
                }
                set_str(j, o, "on_renewal_failure", a->on_renewal_failure == CONF_ACM_RENEWAL_REISSUE ? "reissue" : "report");
                set(j, o, "export", json_boolean(a->export));
                set_str(j, o, "trust_store", a->trust_store);
                if (a->n_tags)
                        set(j, o, "tags", tags_json(j, a->tags, a->n_tags));
                break;
        }
        case CONF_ISSUER_IMPORT: {
                const conf_issuer_import *im = &c->issuer.import;
                set_str(j, o, "cert", im->cert);
                set_str(j, o, "key", im->key);
                set_str(j, o, "chain", im->chain);
                set_str(j, o, "arn", im->arn);
                if (im->n_tags)
                        set(j, o, "tags", tags_json(j, im->tags, im->n_tags));
                break;
        }
        }
        return o;
}

static json_t *subject_json(jctx *j, const conf_subject *s) {
        const char *keys[] = { "common_name", "country", "organization", "organizational_unit",
                               "distinguished_name_qualifier", "state", "serial_number", "locality", "title",
                               "surname", "given_name", "initials", "pseudonym", "generation_qualifier" };
        const char *vals[] = { s->common_name, s->country, s->organization, s->organizational_unit,
                               s->distinguished_name_qualifier, s->state, s->serial_number, s->locality, s->title,
                               s->surname, s->given_name, s->initials, s->pseudonym, s->generation_qualifier };
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                set_str(j, o, keys[i], vals[i]);
        if (s->n_custom_attributes) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < s->n_custom_attributes; i++)
                        if (json_array_append_new(a, json_pack("{s:s,s:s}", "oid", s->custom_attributes[i].oid, "value",
                                                               s->custom_attributes[i].value)) < 0)
                                j->oom = true;
                set(j, o, "custom_attributes", a);
        }
        return o;
}

static json_t *reload_json(jctx *j, const conf_reload *r) {
        char buf[64];
        switch (r->kind) {
        case CONF_RELOAD_NGINX:
        case CONF_RELOAD_HAPROXY:
                return json_string(r->id);
        case CONF_RELOAD_SYSTEMD:
                return json_pack("{s:s,s:s}", "systemd", r->unit, "timeout", format_duration(r->timeout, buf, sizeof buf));
        case CONF_RELOAD_COMMAND:
                return json_pack("{s:o,s:s}", "command", strv_json(j, r->command), "timeout",
                                 format_duration(r->timeout, buf, sizeof buf));
        }
        return NULL;
}

static json_t *cert_json(jctx *j, const conf_cert *c) {
        static const char *const files[] = { "cert", "chain", "fullchain", "key", "haproxy_bundle", "pkcs12" };
        static const char *const curves[] = { "P-256", "P-384", "P-521" };
        static const char *const providers[] = { "none", "route53", "exec", "manual" };
        char mode[16];
        json_t *o = json_object(), *x;
        if (!o)
                return NULL;
        set_str(j, o, "name", c->name);
        set(j, o, "issuer", issuer_json(j, c));
        set(j, o, "subject", subject_json(j, &c->subject));
        set(j, o, "dns_names", strv_json(j, c->dns_names));
        set(j, o, "ip_addresses", strv_json(j, c->ip_addresses));
        set(j, o, "email_addresses", strv_json(j, c->email_addresses));
        set(j, o, "uris", strv_json(j, c->uris));

        x = json_object();
        set(j, o, "key", x);
        if (x) {
                set_str(j, x, "type", c->key.type == CONF_KEY_RSA ? "rsa" : "ec");
                if (c->key.type == CONF_KEY_RSA)
                        set(j, x, "bits", json_integer(c->key.bits));
                else
                        set_str(j, x, "curve", curves[c->key.curve]);
                set(j, x, "reuse", json_boolean(c->key.reuse));
        }

        if (c->dns.provider != CONF_DNS_NONE) {
                x = json_object();
                set(j, o, "dns", x);
                if (x) {
                        set_str(j, x, "provider", providers[c->dns.provider]);
                        set_str(j, x, "hosted_zone_id", c->dns.hosted_zone_id);
                        set_str(j, x, "role_arn", c->dns.role_arn);
                        set_strv(j, x, "command", c->dns.command);
                        set_dur(j, x, "propagation_timeout", c->dns.propagation_timeout);
                        set(j, x, "ttl", json_integer((json_int_t) c->dns.ttl));
                        if (c->dns.n_nameservers) {
                                json_t *ns = json_array();
                                for (size_t i = 0; ns && i < c->dns.n_nameservers; i++) {
                                        const conf_nameserver *m = &c->dns.nameservers[i];
                                        char buf[80];
                                        if (strchr(m->address, ':'))
                                                snprintf(buf, sizeof buf, "[%s]:%u", m->address, (unsigned) m->port);
                                        else
                                                snprintf(buf, sizeof buf, "%s:%u", m->address, (unsigned) m->port);
                                        if (json_array_append_new(ns, json_string(buf)) < 0)
                                                j->oom = true;
                                }
                                set(j, x, "nameservers", ns);
                        }
                }
        }

        /* an import certificate without its own output: is not copied
         * anywhere: writing the defaults would make it so */
        bool copied = c->issuer_type != CONF_ISSUER_IMPORT || c->output.configured;
        x = copied ? json_object() : NULL;
        if (copied)
                set(j, o, "output", x);
        if (x) {
                json_t *fl = json_array();
                set_str(j, x, "dir", c->output.dir);
                if (c->output.owner_name)
                        set_str(j, x, "owner", c->output.owner_name);
                else
                        set(j, x, "owner", json_integer((json_int_t) c->output.owner));
                if (c->output.group_name)
                        set_str(j, x, "group", c->output.group_name);
                else
                        set(j, x, "group", json_integer((json_int_t) c->output.group));
                snprintf(mode, sizeof mode, "%04o", (unsigned) c->output.mode);
                set_str(j, x, "mode", mode);
                snprintf(mode, sizeof mode, "%04o", (unsigned) c->output.key_mode);
                set_str(j, x, "key_mode", mode);
                for (size_t i = 0; fl && i < ELEMENTSOF(files); i++)
                        if (c->output.files & (1u << i))
                                json_array_append_new(fl, json_string(files[i]));
                set(j, x, "files", fl);
                set_str(j, x, "pkcs12_passphrase_file", c->output.pkcs12_passphrase_file);
                set(j, x, "keep_versions", json_integer(c->output.keep_versions));
        }

        x = json_array();
        set(j, o, "reload", x);
        for (conf_reload **r = c->reload; x && r && *r; r++)
                if (json_array_append_new(x, reload_json(j, *r)) < 0)
                        j->oom = true;

        x = json_object();
        set(j, o, "hooks", x);
        if (x) {
                set_strv(j, x, "deploy", c->hooks.deploy);
                set_strv(j, x, "failure", c->hooks.failure);
                set_strv(j, x, "pending_validation", c->hooks.pending_validation);
                set_dur(j, x, "timeout", c->hooks.timeout);
        }

        set(j, o, "renew_fraction", json_real(c->schedule.renew_fraction));
        if (c->schedule.renew_before)
                set_dur(j, o, "renew_before", c->schedule.renew_before);
        set_dur(j, o, "jitter", c->schedule.jitter);
        set_dur(j, o, "retry_min", c->schedule.retry_min);
        set_dur(j, o, "retry_max", c->schedule.retry_max);
        if (c->n_reload_window) {
                json_t *w = json_array();
                for (size_t i = 0; w && i < c->n_reload_window; i++) {
                        char buf[64];
                        if (json_array_append_new(w, json_string(conf_window_format(&c->reload_window[i], buf, sizeof buf))) < 0)
                                j->oom = true;
                }
                set(j, o, "reload_window", w);
        }
        return o;
}

json_t *conf_to_json(const conf *c) {
        jctx j = {};
        json_t *o = json_object(), *x;
        if (!o)
                return NULL;

        x = json_object();
        set(&j, o, "aws", x);
        if (x) {
                const conf_aws *a = &c->aws;
                set_str(&j, x, "region", a->region);
                set_str(&j, x, "profile", a->profile);
                set_str(&j, x, "role_arn", a->role_arn);
                set_str(&j, x, "role_session_name", a->role_session_name);
                set_str(&j, x, "external_id", a->external_id);
                if (a->n_endpoints) {
                        json_t *e = json_object();
                        for (size_t i = 0; e && i < a->n_endpoints; i++)
                                set_str(&j, e, a->endpoints[i].service, a->endpoints[i].url);
                        set(&j, x, "endpoints", e);
                }
                set_str(&j, x, "ca_bundle", a->ca_bundle);
                set(&j, x, "use_fips", json_boolean(a->use_fips));
                set_dur(&j, x, "connect_timeout", a->connect_timeout);
                set_dur(&j, x, "request_timeout", a->request_timeout);
                set(&j, x, "max_attempts", json_integer(a->max_attempts));
                if (a->n_rate_limits) {
                        json_t *e = json_object();
                        for (size_t i = 0; e && i < a->n_rate_limits; i++)
                                set(&j, e, a->rate_limits[i].operation, json_real(a->rate_limits[i].per_second));
                        set(&j, x, "rate_limits", e);
                }
        }
        set_str(&j, o, "state_dir", c->state_dir);
        set_str(&j, o, "output_root", c->output_root);

        x = json_object();
        set(&j, o, "daemon", x);
        if (x) {
                set_dur(&j, x, "reload_debounce", c->daemon.reload_debounce);
                set_dur(&j, x, "acm_poll_interval", c->daemon.acm_poll_interval);
                set_str(&j, x, "metrics_textfile", c->daemon.metrics_textfile);
                set_str(&j, x, "on_remove", c->daemon.on_remove == CONF_ON_REMOVE_DELETE ? "delete" : "keep");
                set_dur(&j, x, "dns_recheck_interval", c->daemon.dns_recheck_interval);
        }

        x = json_object();
        set(&j, o, "reloaders", x);
        for (conf_reload **r = c->reloaders; x && r && *r; r++) {
                json_t *e;
                char buf[64];
                if ((*r)->kind != CONF_RELOAD_NGINX && (*r)->kind != CONF_RELOAD_HAPROXY)
                        continue;
                e = json_object();
                set(&j, x, (*r)->id, e);
                if (!e)
                        continue;
                set_strv(&j, e, "test_command", (*r)->test_command);
                set_strv(&j, e, "reload_command", (*r)->reload_command);
                set_str(&j, e, "pid_file", (*r)->pid_file);
                set_str(&j, e, "unit", (*r)->unit);
                if ((*r)->kind == CONF_RELOAD_HAPROXY) {
                        set_str(&j, e, "config", (*r)->config);
                        set_str(&j, e, "runtime_socket", (*r)->runtime_socket);
                }
                set_str(&j, e, "timeout", format_duration((*r)->timeout, buf, sizeof buf));
        }

        x = json_array();
        set(&j, o, "certificates", x);
        for (conf_cert **i = c->certs; x && i && *i; i++)
                if (json_array_append_new(x, cert_json(&j, *i)) < 0)
                        j.oom = true;
        if (j.oom) {
                json_decref(o);
                return NULL;
        }
        return o;
}
