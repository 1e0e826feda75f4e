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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "engine/engine-internal.h"

/* The fields are gathered in one buffer and hashed once: one digest call
 * instead of a provider dispatch per field (1000 certificates are
 * fingerprinted on every pass). */
typedef struct fp {
        char *buf;
        size_t len, cap;
        bool ok;
} fp;

static void add(fp *f, const void *p, size_t n) {
        if (!f->ok)
                return;
        if (f->len + n > f->cap) {
                size_t cap = f->cap * 2 > f->len + n + 256 ? f->cap * 2 : f->len + n + 256;
                char *b = realloc(f->buf, cap);
                if (!b) {
                        f->ok = false;
                        return;
                }
                f->buf = b;
                f->cap = cap;
        }
        memcpy(f->buf + f->len, p, n);
        f->len += n;
}

static void put(fp *f, const char *k, const char *v) {
        add(f, k, strlen(k));
        if (v) {
                add(f, "=", 1);
                add(f, v, strlen(v));
        }
        add(f, "", 1);
}

/* v in decimal, as "%lld" writes it (without snprintf: a pass
 * fingerprints seven numbers per certificate) */
static void put_int(fp *f, const char *k, long long v) {
        char buf[24], *p = buf + sizeof(buf);
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;

        *--p = 0;
        do
                *--p = (char) ('0' + u % 10);
        while ((u /= 10) > 0);
        if (v < 0)
                *--p = '-';
        put(f, k, p);
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

static pthread_t warm_thread;
static bool warm_running;

static void *warm_main(void *userdata _unused_) {
        (void) crypto_sha256();
        return NULL;
}

int engine_warm_up(void) {
        sigset_t all, old;
        int r;

        if (warm_running)
                return 0;
        sigfillset(&all);
        r = -pthread_sigmask(SIG_SETMASK, &all, &old);
        if (r < 0)
                return r;
        r = -pthread_create(&warm_thread, NULL, warm_main, NULL);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        warm_running = true;
        return 0;
}

void engine_warm_up_wait(void) {
        if (!warm_running)
                return;
        (void) pthread_join(warm_thread, NULL);
        warm_running = false;
}

int engine_fingerprint(const conf_cert *c, bool deploy, char ret[static 33]) {
        const EVP_MD *md_sha256 = crypto_sha256();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        fp f = { .ok = true };

        if (!md_sha256)
                return -EIO;
        if (deploy)
                deploy_fields(&f, c);
        else
                issue_fields(&f, c);
        if (!f.ok) {
                free(f.buf);
                return -ENOMEM;
        }
        f.ok = EVP_Digest(f.buf, f.len, md, &len, md_sha256, NULL) == 1 && len >= 16;
        free(f.buf);
        if (!f.ok)
                return -EIO;
        hex_encode(md, 16, ret);
        return 0;
}
