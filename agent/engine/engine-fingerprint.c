/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a served certificate was made for, as a short digest of the settings
 * that matter: the issue digest covers what ends up in the certificate or
 * decides who issues it (names, subject, key, issuer settings), the deploy
 * digest covers where and how it is written and who reloads (output and
 * reload targets). A change of the first needs a new certificate, of the
 * second a new deploy of the served one. Each field goes into SHA-256 as
 * "key=value" followed by a 0 byte (an unset value as "key" alone), so no
 * two settings hash alike by accident.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "engine/engine-internal.h"

typedef struct fp {
        EVP_MD_CTX *ctx;
        bool ok;
} fp;

static void put(fp *f, const char *k, const char *v) {
        static const unsigned char zero = 0;

        f->ok = f->ok && EVP_DigestUpdate(f->ctx, k, strlen(k)) == 1;
        if (v)
                f->ok = f->ok && EVP_DigestUpdate(f->ctx, "=", 1) == 1 && EVP_DigestUpdate(f->ctx, v, strlen(v)) == 1;
        f->ok = f->ok && EVP_DigestUpdate(f->ctx, &zero, 1) == 1;
}

static void put_int(fp *f, const char *k, long long v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        put(f, k, buf);
}

static void put_strv(fp *f, const char *k, char **l) {
        put(f, k, NULL);
        for (char **i = l; i && *i; i++)
                put(f, "-", *i);
}

static void issue_fields(fp *f, const conf_cert *c) {
        const conf_subject *s = &c->subject;
        const char *const subject[][2] = {
                { "cn", s->common_name }, { "c", s->country }, { "o", s->organization },
                { "ou", s->organizational_unit }, { "dnq", s->distinguished_name_qualifier }, { "st", s->state },
                { "sn", s->serial_number }, { "l", s->locality }, { "t", s->title }, { "surname", s->surname },
                { "gn", s->given_name }, { "i", s->initials }, { "pseudonym", s->pseudonym },
                { "gq", s->generation_qualifier },
        };

        for (size_t i = 0; i < ELEMENTSOF(subject); i++)
                put(f, subject[i][0], subject[i][1]);
        for (size_t i = 0; i < s->n_custom_attributes; i++)
                put(f, s->custom_attributes[i].oid, s->custom_attributes[i].value);
        put_strv(f, "dns", c->dns_names);
        put_strv(f, "ip", c->ip_addresses);
        put_strv(f, "email", c->email_addresses);
        put_strv(f, "uri", c->uris);
        put_int(f, "key_type", c->key.type);
        put_int(f, "key_size", c->key.type == CONF_KEY_RSA ? (long long) c->key.bits : (long long) c->key.curve);
        put(f, "issuer", conf_issuer_type_to_string(c->issuer_type));
        switch (c->issuer_type) {
        case CONF_ISSUER_PCA: {
                put(f, "ca", c->issuer.pca.ca_arn);
                put(f, "template", c->issuer.pca.template_arn);
                put(f, "signing", c->issuer.pca.signing_algorithm);
                _cleanup_(freep) char *pt = c->issuer.pca.api_passthrough
                                                    ? json_dumps(c->issuer.pca.api_passthrough, JSON_COMPACT | JSON_SORT_KEYS)
                                                    : NULL;
                if (c->issuer.pca.api_passthrough && !pt)
                        f->ok = false;
                put(f, "passthrough", pt);
                break;
        }
        case CONF_ISSUER_ACM:
                put(f, "arn", c->issuer.acm.arn);
                put(f, "key_algorithm", c->issuer.acm.key_algorithm);
                put(f, "ca", c->issuer.acm.certificate_authority_arn);
                put_int(f, "validation", c->issuer.acm.validation);
                put_int(f, "export", c->issuer.acm.export);
                break;
        case CONF_ISSUER_IMPORT:
                put(f, "cert", c->issuer.import.cert);
                put(f, "key", c->issuer.import.key);
                put(f, "chain", c->issuer.import.chain);
                put(f, "arn", c->issuer.import.arn);
                break;
        }
}

static void deploy_fields(fp *f, const conf_cert *c) {
        const conf_output *out = &c->output;

        put(f, "reload", NULL);
        for (conf_reload **t = c->reload; t && *t; t++)
                put(f, "-", (*t)->id);
        put(f, "dir", out->dir);
        put_int(f, "owner", (long long) out->owner);
        put_int(f, "group", (long long) out->group);
        put_int(f, "mode", out->mode);
        put_int(f, "key_mode", out->key_mode);
        put_int(f, "files", out->files);
        put(f, "p12pass", out->pkcs12_passphrase_file);
}

int engine_fingerprint(const conf_cert *c, bool deploy, char ret[static 33]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        fp f = { .ctx = EVP_MD_CTX_new(), .ok = true };

        if (!f.ctx)
                return -ENOMEM;
        f.ok = EVP_DigestInit_ex(f.ctx, EVP_sha256(), NULL) == 1;
        if (deploy)
                deploy_fields(&f, c);
        else
                issue_fields(&f, c);
        f.ok = f.ok && EVP_DigestFinal_ex(f.ctx, md, &len) == 1 && len >= 16;
        EVP_MD_CTX_free(f.ctx);
        if (!f.ok)
                return -EIO;
        hex_encode(md, 16, ret);
        return 0;
}
