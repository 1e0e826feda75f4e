/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a served certificate was made for, as a short digest of the settings
 * that matter: the issue digest covers what ends up in the certificate or
 * decides who issues it (names, subject, key, issuer settings), the deploy
 * digest covers where and how it is written and who reloads (output and
 * reload targets). A change of the first needs a new certificate, of the
 * second a new deploy of the served one.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "engine/engine-internal.h"

static int add_str(json_t *o, const char *k, const char *v) {
        return json_object_set_new(o, k, v ? json_string(v) : json_null()) < 0 ? -ENOMEM : 0;
}

static int add_strv(json_t *o, const char *k, char **l) {
        json_t *a = json_array();

        if (!a)
                return -ENOMEM;
        for (char **i = l; i && *i; i++)
                if (json_array_append_new(a, json_string(*i)) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
        return json_object_set_new(o, k, a) < 0 ? -ENOMEM : 0;
}

static int add_int(json_t *o, const char *k, json_int_t v) {
        return json_object_set_new(o, k, json_integer(v)) < 0 ? -ENOMEM : 0;
}

static int issue_json(const conf_cert *c, json_t *o) {
        const conf_subject *s = &c->subject;
        json_t *subj = json_object(), *is = json_object();
        int r = 0;

        if (!subj || !is || json_object_set_new(o, "subject", subj) < 0 || json_object_set_new(o, "issuer", is) < 0) {
                json_decref(subj);
                json_decref(is);
                return -ENOMEM;
        }
        const char *const fields[][2] = {
                { "cn", s->common_name }, { "c", s->country }, { "o", s->organization },
                { "ou", s->organizational_unit }, { "dnq", s->distinguished_name_qualifier }, { "st", s->state },
                { "sn", s->serial_number }, { "l", s->locality }, { "t", s->title }, { "surname", s->surname },
                { "gn", s->given_name }, { "i", s->initials }, { "pseudonym", s->pseudonym },
                { "gq", s->generation_qualifier },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields) && r >= 0; i++)
                r = add_str(subj, fields[i][0], fields[i][1]);
        for (size_t i = 0; i < s->n_custom_attributes && r >= 0; i++)
                r = add_str(subj, s->custom_attributes[i].oid, s->custom_attributes[i].value);
        if (r >= 0)
                r = add_strv(o, "dns", c->dns_names);
        if (r >= 0)
                r = add_strv(o, "ip", c->ip_addresses);
        if (r >= 0)
                r = add_strv(o, "email", c->email_addresses);
        if (r >= 0)
                r = add_strv(o, "uri", c->uris);
        if (r >= 0)
                r = add_int(o, "key_type", c->key.type);
        if (r >= 0)
                r = add_int(o, "key_size", c->key.type == CONF_KEY_RSA ? (json_int_t) c->key.bits : (json_int_t) c->key.curve);
        if (r >= 0)
                r = add_str(is, "type", conf_issuer_type_to_string(c->issuer_type));
        if (r < 0)
                return r;
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA:
                if ((r = add_str(is, "ca", c->issuer.pca.ca_arn)) < 0 ||
                    (r = add_str(is, "template", c->issuer.pca.template_arn)) < 0 ||
                    (r = add_str(is, "signing", c->issuer.pca.signing_algorithm)) < 0)
                        return r;
                if (c->issuer.pca.api_passthrough &&
                    json_object_set(is, "passthrough", c->issuer.pca.api_passthrough) < 0)
                        return -ENOMEM;
                break;
        case CONF_ISSUER_ACM:
                if ((r = add_str(is, "arn", c->issuer.acm.arn)) < 0 ||
                    (r = add_str(is, "key_algorithm", c->issuer.acm.key_algorithm)) < 0 ||
                    (r = add_str(is, "ca", c->issuer.acm.certificate_authority_arn)) < 0 ||
                    (r = add_int(is, "validation", c->issuer.acm.validation)) < 0 ||
                    (r = add_int(is, "export", c->issuer.acm.export)) < 0)
                        return r;
                break;
        case CONF_ISSUER_IMPORT:
                if ((r = add_str(is, "cert", c->issuer.import.cert)) < 0 ||
                    (r = add_str(is, "key", c->issuer.import.key)) < 0 ||
                    (r = add_str(is, "chain", c->issuer.import.chain)) < 0 ||
                    (r = add_str(is, "arn", c->issuer.import.arn)) < 0)
                        return r;
                break;
        }
        return 0;
}

static int deploy_json(const conf_cert *c, json_t *o) {
        const conf_output *out = &c->output;
        json_t *rl = json_array();
        int r;

        if (!rl || json_object_set_new(o, "reload", rl) < 0) {
                json_decref(rl);
                return -ENOMEM;
        }
        for (conf_reload **t = c->reload; t && *t; t++)
                if (json_array_append_new(rl, json_string((*t)->id)) < 0)
                        return -ENOMEM;
        if ((r = add_str(o, "dir", out->dir)) < 0 || (r = add_int(o, "owner", (json_int_t) out->owner)) < 0 ||
            (r = add_int(o, "group", (json_int_t) out->group)) < 0 || (r = add_int(o, "mode", out->mode)) < 0 ||
            (r = add_int(o, "key_mode", out->key_mode)) < 0 || (r = add_int(o, "files", out->files)) < 0 ||
            (r = add_str(o, "p12pass", out->pkcs12_passphrase_file)) < 0)
                return r;
        return 0;
}

int engine_fingerprint(const conf_cert *c, bool deploy, char ret[static 33]) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        _cleanup_(freep) char *txt = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        int r;

        if (!o)
                return -ENOMEM;
        r = deploy ? deploy_json(c, o) : issue_json(c, o);
        if (r < 0)
                return r;
        txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (!txt)
                return -ENOMEM;
        if (EVP_Digest(txt, strlen(txt), md, &len, EVP_sha256(), NULL) != 1 || len < 16)
                return -EIO;
        hex_encode(md, 16, ret);
        return 0;
}
