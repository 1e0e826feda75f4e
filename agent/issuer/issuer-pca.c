/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS Private CA issuer: key → CSR → DescribeCertificateAuthority (ACTIVE,
 * signing algorithm) → IssueCertificate (token persisted first, ARN right
 * after) → GetCertificate until it stops answering RequestInProgressException
 * → GetCertificateAuthorityCertificate (trust anchor) → verify → the engine's
 * deploy step. Every step resumes from the state after a crash.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/clock.h"
#include "crypto/crypto.h"
#include "engine/engine-issuer.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"

/* IssueCertificate's IdempotencyToken is honoured for one minute (reference);
 * a persisted token older than this is replaced by a fresh one. */
#define PCA_TOKEN_LIFETIME_SEC 55
#define PCA_POLL_FIRST_USEC (200 * USEC_PER_MSEC)
#define PCA_POLL_MAX_USEC (5 * USEC_PER_SEC)
#define PCA_POLL_DEADLINE_SEC 300

typedef enum ca_status {
        CA_PENDING,
        CA_READY,
        CA_FAILED,
} ca_status;

typedef struct pca pca;

/* One per CA ARN per pass, shared by every machine using that CA. */
typedef struct ca_entry {
        char *arn;
        aws_client *client;     /* the engine's, borrowed for the pass */
        ca_status status;
        char *key_algorithm;    /* "EC_prime256v1" */
        char *ca_pem;           /* GetCertificateAuthorityCertificate: Certificate */
        char *error;            /* CA_FAILED */
        pca **waiters;
        size_t n_waiters, n_alloc;
} ca_entry;

struct pca {
        machine *m;
        EVP_PKEY *key;
        char *csr_pem;
        char *signing_algorithm;
        aws_request *req;
        sd_event_source *timer;
        uint64_t poll_delay;
        uint64_t poll_deadline;   /* CLOCK_MONOTONIC usec */
        ca_entry *ca;
        struct keygen_job *keygen;
        char *cert_pem, *chain_pem;
};

typedef struct keygen_job {
        pca *owner;               /* NULL once the machine gave up */
        conf_key spec;
        EVP_PKEY *key;
} keygen_job;

static void step_ca(pca *p);
static void step_after_ca(pca *p);
static void step_issue(pca *p);
static void step_verify(pca *p);
static void step_poll_arm(pca *p, uint64_t delay);

static void ca_entry_free(void *v) {
        ca_entry *c = v;
        if (!c)
                return;
        free(c->arn);
        free(c->key_algorithm);
        free(c->ca_pem);
        free(c->error);
        free(c->waiters);
        free(c);
}

static void pca_fail_va(pca *p, const char *kind, const char *fmt, va_list ap) _printf_(3, 0);
static void pca_fail_va(pca *p, const char *kind, const char *fmt, va_list ap) {
        _cleanup_(freep) char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        machine_fail(p->m, kind, "%s", msg ? msg : "out of memory");
}

static void pca_fail(pca *p, const char *kind, const char *fmt, ...) _printf_(3, 4);
static void pca_fail(pca *p, const char *kind, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        pca_fail_va(p, kind, fmt, ap);
        va_end(ap);
}

static void pca_fail_aws(pca *p, const aws_error *err) {
        _cleanup_(freep) char *line = aws_error_format(err);
        char kind[64];
        snprintf(kind, sizeof(kind), "aws:%s", aws_error_kind_to_string(err->kind));
        pca_fail(p, kind, "%s", line ? line : err->type);
}

static int base64_encode(const char *in, size_t len, char **ret) {
        size_t n = 4 * ((len + 2) / 3) + 1;
        char *out = malloc(n);
        if (!out)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) in, (int) len);
        *ret = out;
        return 0;
}

/* ---- key ---- */

static int load_key_file(machine *m, bool current, EVP_PKEY **ret) {
        _cleanup_(freep) char *path = state_key_path(m->state_dir, m->cert->name, current);
        if (!path)
                return -ENOMEM;
        return crypto_key_load_file(path, ret);
}

static int keygen_run(void *arg) {
        keygen_job *j = arg;
        return crypto_key_generate(&j->spec, &j->key);
}

static void keygen_done(int r, void *arg) {
        keygen_job *j = arg;
        pca *p = j->owner;
        _cleanup_(crypto_secret_freep) char *pem = NULL;

        if (!p) {
                EVP_PKEY_free(j->key);
                free(j);
                return;
        }
        p->keygen = NULL;
        if (r < 0) {
                free(j);
                pca_fail(p, "key", "key generation failed: %s", strerror(-r));
                return;
        }
        p->key = j->key;
        free(j);

        r = crypto_key_to_pem(p->key, &pem);
        if (r >= 0)
                r = state_key_write(p->m->state_dir, p->m->cert->name, false, pem, strlen(pem));
        if (r < 0) {
                pca_fail(p, "io", "cannot store the new key in %s/keys: %s", p->m->state_dir, strerror(-r));
                return;
        }
        free(p->m->st->pending_key_path);
        p->m->st->pending_key_path = state_key_path(p->m->state_dir, p->m->cert->name, false);
        p->m->st->phase = STATE_KEY_PENDING;
        r = machine_save(p->m);
        if (r < 0) {
                pca_fail(p, "io", "cannot save the state: %s", strerror(-r));
                return;
        }
        testpoint_hit("key-generated", p->m->cert->name);
        step_ca(p);
}

/* Picks the key: a pending key (a previous attempt's, never orphaned), the
 * current key when key.reuse, or a fresh one from a worker thread. */
static void step_key(pca *p) {
        machine *m = p->m;
        EVP_PKEY *key = NULL;
        int r;

        r = load_key_file(m, false, &key);
        if (r >= 0 && !crypto_key_matches_conf(key, &m->cert->key) && !m->st->pending_arn) {
                log_cert(LOG_NOTICE, m->cert->name, "pending key does not match key settings any more; generating a new one");
                EVP_PKEY_free(key);
                key = NULL;
                m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
                m->st->pending_csr = (free(m->st->pending_csr), NULL);
        } else if (r < 0 && r != -ENOENT)
                log_cert(LOG_WARNING, m->cert->name, "pending key unusable (%s); generating a new one", strerror(-r));
        if (!key && (m->cert->key.reuse || m->st->pending_arn)) {
                /* an ARN in flight may have been issued for the promoted key */
                r = load_key_file(m, true, &key);
                if (r >= 0 && !m->st->pending_arn && !crypto_key_matches_conf(key, &m->cert->key)) {
                        log_cert(LOG_NOTICE, m->cert->name, "key.reuse: the current key does not match the key settings; generating a new one");
                        EVP_PKEY_free(key);
                        key = NULL;
                } else if (r < 0 && r != -ENOENT)
                        log_cert(LOG_WARNING, m->cert->name, "current key unusable (%s); generating a new one", strerror(-r));
        }
        if (key) {
                p->key = key;
                if (m->st->pending_arn)
                        step_poll_arm(p, 0);
                else
                        step_ca(p);
                return;
        }
        if (m->st->pending_arn) {
                /* The key for the ARN in flight is gone: that certificate is useless. */
                log_cert(LOG_WARNING, m->cert->name, "the key of pending certificate %s is missing; issuing again",
                         m->st->pending_arn);
                m->st->pending_arn = (free(m->st->pending_arn), NULL);
        }
        m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
        m->st->pending_csr = (free(m->st->pending_csr), NULL);

        keygen_job *j = calloc(1, sizeof(*j));
        if (!j) {
                pca_fail(p, "oom", "out of memory");
                return;
        }
        j->owner = p;
        j->spec = m->cert->key;
        worker_pool *pool;
        r = machine_workers(m, &pool);
        if (r < 0) {
                free(j);
                pca_fail(p, "key", "cannot start worker threads: %s", strerror(-r));
                return;
        }
        r = worker_pool_submit(pool, keygen_run, keygen_done, j);
        if (r < 0) {
                free(j);
                pca_fail(p, "key", "cannot start key generation: %s", strerror(-r));
                return;
        }
        p->keygen = j;
}

/* ---- CA description and certificate, once per CA per pass ---- */

static void ca_notify(ca_entry *c) {
        pca **w = c->waiters;
        size_t n = c->n_waiters;

        c->waiters = NULL;
        c->n_waiters = c->n_alloc = 0;
        for (size_t i = 0; i < n; i++) {
                if (!w[i])
                        continue;
                w[i]->ca = NULL;
                if (c->status == CA_FAILED)
                        pca_fail(w[i], "ca", "%s", c->error ? c->error : "out of memory");
                else
                        step_after_ca(w[i]);
        }
        free(w);
}

static void ca_failed(ca_entry *c, const aws_error *err, const char *what) {
        _cleanup_(freep) char *line = err ? aws_error_format(err) : NULL;
        c->status = CA_FAILED;
        c->error = strprintf("%s %s: %s", what, c->arn, line ? line : "failed");
        ca_notify(c);
}

static void on_ca_cert(const aws_error *err, json_t *resp, void *userdata) {
        ca_entry *c = userdata;
        const char *pem;

        if (err) {
                ca_failed(c, err, "cannot fetch the CA certificate of");
                return;
        }
        pem = json_string_value(json_object_get(resp, "Certificate"));
        if (!pem || strlen(pem) > CRYPTO_PEM_MAX) {
                c->status = CA_FAILED;
                c->error = strprintf("GetCertificateAuthorityCertificate for %s: no usable Certificate in the answer", c->arn);
                ca_notify(c);
                return;
        }
        c->ca_pem = strdup(pem);
        c->status = c->ca_pem ? CA_READY : CA_FAILED;
        if (!c->ca_pem)
                c->error = strdup("out of memory");
        ca_notify(c);
}

static void on_describe_ca(const aws_error *err, json_t *resp, void *userdata) {
        ca_entry *c = userdata;
        json_t *ca, *cfg;
        const char *status, *alg;

        if (err) {
                ca_failed(c, err, "cannot describe the CA");
                return;
        }
        ca = json_object_get(resp, "CertificateAuthority");
        cfg = json_object_get(ca, "CertificateAuthorityConfiguration");
        status = json_string_value(json_object_get(ca, "Status"));
        alg = json_string_value(json_object_get(cfg, "KeyAlgorithm"));
        if (!status || !alg) {
                c->status = CA_FAILED;
                c->error = strprintf("DescribeCertificateAuthority %s: answer without Status or KeyAlgorithm", c->arn);
                ca_notify(c);
                return;
        }
        c->key_algorithm = strdup(alg);
        if (!c->key_algorithm) {
                c->status = CA_FAILED;
                c->error = strdup("out of memory");
                ca_notify(c);
                return;
        }
        if (!streq(status, "ACTIVE")) {
                c->status = CA_FAILED;
                c->error = strprintf("CA %s is %s, not ACTIVE: it cannot issue certificates; activate or restore it "
                                     "(or point ca_arn at an active CA); the current certificate stays deployed",
                                     c->arn, status);
                ca_notify(c);
                return;
        }
        /* the trust anchor for verification, fetched once */
        int r = 0;
        json_t *req = json_pack("{s:s}", "CertificateAuthorityArn", c->arn);
        if (req)
                r = aws_call(c->client, AWS_SERVICE_ACM_PCA, "GetCertificateAuthorityCertificate", req, 0, on_ca_cert, c, NULL);
        json_decref(req);
        if (r < 0 || !req) {
                c->status = CA_FAILED;
                c->error = strprintf("GetCertificateAuthorityCertificate %s: %s", c->arn, strerror(r < 0 ? -r : ENOMEM));
                ca_notify(c);
        }
}

static int ca_wait(ca_entry *c, pca *p) {
        if (c->n_waiters == c->n_alloc) {
                size_t n = c->n_alloc ? c->n_alloc * 2 : 8;
                pca **w = realloc(c->waiters, n * sizeof(*w));
                if (!w)
                        return -ENOMEM;
                c->waiters = w;
                c->n_alloc = n;
        }
        c->waiters[c->n_waiters++] = p;
        p->ca = c;
        return 0;
}

static void step_ca(pca *p) {
        machine *m = p->m;
        const char *arn = m->cert->issuer.pca.ca_arn;
        ca_entry *c;
        aws_client *client;
        int r;

        c = machine_cache_get(m, arn);
        if (c) {
                if (c->status == CA_PENDING) {
                        if (ca_wait(c, p) < 0)
                                pca_fail(p, "oom", "out of memory");
                        return;
                }
                if (c->status == CA_FAILED)
                        return pca_fail(p, "ca", "%s", c->error ? c->error : "out of memory");
                return step_after_ca(p);
        }

        r = machine_aws(m, &client);
        if (r < 0)
                return pca_fail(p, "aws", "cannot set up the AWS client: %s", strerror(-r));
        c = calloc(1, sizeof(*c));
        if (c)
                c->client = client;
        if (!c || !(c->arn = strdup(arn)) || ca_wait(c, p) < 0) {
                ca_entry_free(c);
                return pca_fail(p, "oom", "out of memory");
        }
        r = machine_cache_put(m, arn, c, ca_entry_free);
        if (r < 0) {
                ca_entry_free(c);
                p->ca = NULL;
                return pca_fail(p, "oom", "out of memory");
        }
        json_t *req = json_pack("{s:s}", "CertificateAuthorityArn", arn);
        r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "DescribeCertificateAuthority", req, 0, on_describe_ca, c, NULL)
                : -ENOMEM;
        json_decref(req);
        if (r < 0) {
                c->status = CA_FAILED;
                c->error = strprintf("DescribeCertificateAuthority %s: %s", arn, strerror(-r));
                ca_notify(c);
        }
}

/* ---- IssueCertificate ---- */

static void step_after_ca(pca *p) {
        if (p->cert_pem)
                step_verify(p);  /* resumed: the certificate was fetched, the CA was needed for verification */
        else
                step_issue(p);
}

static const char *key_family(const char *key_algorithm) {
        if (strneq(key_algorithm, "RSA", 3))
                return "RSA";
        if (strneq(key_algorithm, "EC_", 3))
                return "ECDSA";
        if (strneq(key_algorithm, "SM2", 3))
                return "SM2";
        return NULL;
}

const char *issuer_pca_signing_algorithm(const char *ca_key_algorithm, const char *configured) {
        const char *family = ca_key_algorithm ? key_family(ca_key_algorithm) : NULL;
        size_t fl, cl;

        if (!family)
                return NULL;
        if (!configured)
                return streq(family, "RSA") ? "SHA256WITHRSA" : streq(family, "ECDSA") ? "SHA256WITHECDSA" : "SM3WITHSM2";
        /* SHA256WITHRSA, SHA512WITHECDSA, SM3WITHSM2: the family is the suffix after WITH */
        fl = strlen(family);
        cl = strlen(configured);
        if (cl > fl + 4 && streq(configured + cl - fl, family) && strneq(configured + cl - fl - 4, "WITH", 4))
                return configured;
        return NULL;
}

static int validity_json(const conf_validity *v, time_t now, json_t **ret) {
        const char *type;
        json_int_t value = v->value;

        switch (v->type) {
        case CONF_VALIDITY_DAYS:
                type = "DAYS";
                break;
        case CONF_VALIDITY_MONTHS:
                type = "MONTHS";
                break;
        case CONF_VALIDITY_YEARS:
                type = "YEARS";
                break;
        case CONF_VALIDITY_ABSOLUTE:
                type = "ABSOLUTE";
                break;
        case CONF_VALIDITY_END_DATE:
                type = "END_DATE";
                break;
        case CONF_VALIDITY_DURATION:
                if (v->value <= 0)
                        return -EINVAL;
                if (v->value % 86400 == 0) {
                        type = "DAYS";
                        value = v->value / 86400;
                } else {
                        time_t end = now + (time_t) v->value;
                        struct tm tm;
                        char buf[32];
                        if (!gmtime_r(&end, &tm) || strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm) == 0)
                                return -EINVAL;
                        int64_t v64;
                        type = "END_DATE";
                        if (parse_int64(buf, &v64) < 0)
                                return -EINVAL;
                        value = (json_int_t) v64;
                }
                break;
        default:
                *ret = NULL;
                return 0;
        }
        *ret = json_pack("{s:s,s:I}", "Type", type, "Value", value);
        return *ret ? 0 : -ENOMEM;
}

int issuer_pca_build_request(const conf_cert *cert, const char *csr_pem, const char *signing_algorithm,
                             const char *token, time_t now, json_t **ret) {
        const conf_issuer_pca *c = &cert->issuer.pca;
        _cleanup_(freep) char *csr64 = NULL;
        json_t *req, *v = NULL;
        int r;

        r = base64_encode(csr_pem, strlen(csr_pem), &csr64);
        if (r < 0)
                return r;
        req = json_pack("{s:s,s:s,s:s,s:s}", "CertificateAuthorityArn", c->ca_arn, "Csr", csr64,
                        "SigningAlgorithm", signing_algorithm, "IdempotencyToken", token);
        if (!req)
                return -ENOMEM;
        if (c->template_arn && json_object_set_new(req, "TemplateArn", json_string(c->template_arn)) < 0)
                goto oom;
        r = validity_json(&c->validity, now, &v);
        if (r < 0)
                goto fail;
        if (v && json_object_set_new(req, "Validity", v) < 0)
                goto oom;
        r = validity_json(&c->validity_not_before, now, &v);
        if (r < 0)
                goto fail;
        if (v && json_object_set_new(req, "ValidityNotBefore", v) < 0)
                goto oom;
        if (c->api_passthrough && json_object_set(req, "ApiPassthrough", c->api_passthrough) < 0)
                goto oom;
        *ret = req;
        return 0;
oom:
        r = -ENOMEM;
fail:
        json_decref(req);
        return r;
}

static void on_issue(const aws_error *err, json_t *resp, void *userdata) {
        pca *p = userdata;
        machine *m = p->m;
        const char *arn;
        int r;

        p->req = NULL;
        if (err) {
                if (err->kind == AWS_ERROR_INVALID || err->kind == AWS_ERROR_AUTH || err->kind == AWS_ERROR_NOT_FOUND) {
                        /* the request was refused: the next attempt starts a fresh one */
                        m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
                        m->st->pending_csr = (free(m->st->pending_csr), NULL);
                }
                return pca_fail_aws(p, err);
        }
        arn = json_string_value(json_object_get(resp, "CertificateArn"));
        if (!arn || strlen(arn) > 2048)
                return pca_fail(p, "aws", "IssueCertificate answered without a CertificateArn");
        testpoint_hit("issue-answered", m->cert->name);
        r = state_set_string(&m->st->pending_arn, arn);
        if (r < 0)
                return pca_fail(p, "oom", "out of memory");
        m->st->phase = STATE_AWAITING_ISSUE;
        r = machine_save(m);
        if (r < 0)
                return pca_fail(p, "io", "cannot save the state after IssueCertificate (ARN %s): %s", arn, strerror(-r));
        testpoint_hit("arn-persisted", m->cert->name);
        log_cert(LOG_INFO, m->cert->name, "issued %s, fetching it", arn);
        step_poll_arm(p, PCA_POLL_FIRST_USEC);
}

static void step_issue(pca *p) {
        machine *m = p->m;
        const conf_issuer_pca *c = &m->cert->issuer.pca;
        ca_entry *ca = machine_cache_get(m, c->ca_arn);
        const char *family, *alg;
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        time_t now = clock_now();
        int r;

        if (!ca || ca->status != CA_READY)
                return pca_fail(p, "ca", "internal error: CA %s not described", c->ca_arn);
        /* A persisted token is re-sent unchanged while AWS still honours it,
         * so a request that may have arrived before a crash is not issued
         * twice. An expired token goes with its CSR: the request is built
         * afresh (same pending key) from the configuration as it is now, so
         * names changed in between are not issued (and billed) only to be
         * rejected by the verification. */
        if (m->st->idempotency_token && m->st->token_created + PCA_TOKEN_LIFETIME_SEC < now) {
                log_cert(LOG_WARNING, m->cert->name,
                         "the idempotency token of the interrupted request is older than a minute; "
                         "a certificate issued by that request (if any) is abandoned and a new one requested");
                m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
                m->st->pending_csr = (free(m->st->pending_csr), NULL);
                p->csr_pem = (free(p->csr_pem), NULL);
        }
        if (!p->csr_pem && m->st->pending_csr && m->st->idempotency_token) {
                /* resumed: re-send the persisted request unchanged */
                p->csr_pem = strdup(m->st->pending_csr);
                if (!p->csr_pem)
                        return pca_fail(p, "oom", "out of memory");
        }
        if (!p->csr_pem) {
                r = crypto_csr_build(m->cert, p->key, &p->csr_pem);
                if (r < 0)
                        return pca_fail(p, "csr", "cannot build the CSR: %s (check subject and SANs)", strerror(-r));
        }
        family = key_family(ca->key_algorithm);
        if (!family)
                return pca_fail(p, "ca", "CA %s has key algorithm %s, which this agent does not know", c->ca_arn,
                                ca->key_algorithm);
        alg = issuer_pca_signing_algorithm(ca->key_algorithm, c->signing_algorithm);
        if (!alg)
                return pca_fail(p, "config",
                                "signing_algorithm %s does not fit CA %s, whose key is %s: use a *WITH%s algorithm "
                                "or signing_algorithm: auto", c->signing_algorithm, c->ca_arn, ca->key_algorithm, family);
        free(p->signing_algorithm);
        p->signing_algorithm = strdup(alg);
        if (!p->signing_algorithm)
                return pca_fail(p, "oom", "out of memory");

        if (!m->st->idempotency_token) {
                uint8_t raw[16];
                char hex[33];
                r = random_bytes(raw, sizeof(raw));
                if (r < 0)
                        return pca_fail(p, "random", "cannot get random bytes: %s", strerror(-r));
                hex_encode(raw, sizeof(raw), hex);
                if (state_set_string(&m->st->idempotency_token, hex) < 0)
                        return pca_fail(p, "oom", "out of memory");
                m->st->token_created = now;
        }
        if (state_set_string(&m->st->pending_csr, p->csr_pem) < 0)
                return pca_fail(p, "oom", "out of memory");
        m->st->phase = STATE_ISSUING;
        r = machine_save(m);
        if (r < 0)
                return pca_fail(p, "io", "cannot save the state before IssueCertificate: %s", strerror(-r));
        testpoint_hit("token-persisted", m->cert->name);

        r = issuer_pca_build_request(m->cert, p->csr_pem, alg, m->st->idempotency_token, now, &req);
        if (r < 0)
                return pca_fail(p, "config", "cannot build IssueCertificate: %s", strerror(-r));
        r = machine_aws(m, &client);
        if (r < 0)
                return pca_fail(p, "aws", "cannot set up the AWS client: %s", strerror(-r));
        r = aws_call(client, AWS_SERVICE_ACM_PCA, "IssueCertificate", req, AWS_CALL_IDEMPOTENT_TOKEN, on_issue, p,
                     &p->req);
        if (r < 0)
                return pca_fail(p, "aws", "cannot send IssueCertificate: %s", strerror(-r));
}

/* ---- GetCertificate ---- */

static uint64_t poll_deadline_sec(void) {
        const char *e = getenv("ACM_AGENT_PCA_POLL_DEADLINE");
        uint64_t v;
        if (e && parse_uint64(e, &v) >= 0 && v > 0)
                return v;
        return PCA_POLL_DEADLINE_SEC;
}

void issuer_pca_expect_done(pca_expect *e) {
        for (size_t i = 0; i < ELEMENTSOF(e->names); i++)
                e->names[i] = (free(e->names[i]), NULL);
}

int issuer_pca_expect(const conf_cert *cert, pca_expect *ret) {
        /* GeneralName members that map to the names we verify, in the
         * order of pca_expect.names */
        static const char *const members[] = { "DnsName", "IpAddress", "Rfc822Name", "UniformResourceIdentifier" };
        pca_expect e = { .want = *cert };
        json_t *pt = cert->issuer.pca.api_passthrough, *sans, *gn;
        const char *cn;
        size_t i;

        cn = json_string_value(json_object_get(json_object_get(pt, "Subject"), "CommonName"));
        if (cn)
                e.want.subject.common_name = (char *) cn;
        sans = json_object_get(json_object_get(pt, "Extensions"), "SubjectAlternativeNames");
        if (json_is_array(sans)) {
                for (size_t k = 0; k < ELEMENTSOF(members); k++) {
                        size_t n = 0;
                        e.names[k] = calloc(json_array_size(sans) + 1, sizeof(char *));
                        if (!e.names[k]) {
                                issuer_pca_expect_done(&e);
                                return -ENOMEM;
                        }
                        json_array_foreach(sans, i, gn) {
                                const char *v = json_string_value(json_object_get(gn, members[k]));
                                if (v)
                                        e.names[k][n++] = (char *) v;
                        }
                }
                e.want.dns_names = e.names[0];
                e.want.ip_addresses = e.names[1];
                e.want.email_addresses = e.names[2];
                e.want.uris = e.names[3];
        }
        *ret = e;
        return 0;
}

static void step_verify(pca *p) {
        machine *m = p->m;
        ca_entry *ca = machine_cache_get(m, m->cert->issuer.pca.ca_arn);
        _cleanup_(freep) char *reason = NULL, *verified = NULL;
        pca_expect want;
        int r;

        r = issuer_pca_expect(m->cert, &want);
        if (r < 0)
                return pca_fail(p, "oom", "cannot verify the certificate: %s", strerror(-r));
        r = crypto_verify_issued(&want.want, p->key, p->cert_pem, p->chain_pem, ca ? ca->ca_pem : NULL, NULL,
                                 clock_now(), &verified, &reason);
        issuer_pca_expect_done(&want);
        if (r < 0) {
                /* that certificate is unusable: do not poll it again */
                _cleanup_(freep) char *arn = TAKE_PTR(m->st->pending_arn);
                m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
                m->st->pending_csr = (free(m->st->pending_csr), NULL);
                return pca_fail(p, "verify", "certificate %s failed verification: %s; not deployed, the current files stay",
                                arn ? arn : "?", reason ? reason : strerror(-r));
        }
        /* deploy the chain that was verified, not the bytes AWS sent */
        free(p->chain_pem);
        p->chain_pem = TAKE_PTR(verified);
        machine_issued(m, p->key, p->cert_pem, p->chain_pem);
}

static void on_get_certificate(const aws_error *err, json_t *resp, void *userdata) {
        pca *p = userdata;
        machine *m = p->m;
        const char *cert, *chain;
        uint64_t now;

        p->req = NULL;
        if (err) {
                if (err->kind == AWS_ERROR_NOT_FOUND || err->kind == AWS_ERROR_INVALID) {
                        /* that ARN can never be fetched: polling it again on
                         * every run would block renewal until the old
                         * certificate expires. Forget the request (the
                         * pending key stays); transient kinds (throttling,
                         * server, network, auth) keep the ARN. */
                        _cleanup_(freep) char *line = aws_error_format(err);
                        _cleanup_(freep) char *arn = TAKE_PTR(m->st->pending_arn);
                        char kind[64];
                        m->st->idempotency_token = (free(m->st->idempotency_token), NULL);
                        m->st->token_created = 0;
                        m->st->pending_csr = (free(m->st->pending_csr), NULL);
                        snprintf(kind, sizeof(kind), "aws:%s", aws_error_kind_to_string(err->kind));
                        return pca_fail(p, kind,
                                        "GetCertificate %s cannot be fetched (%s); the request is abandoned and a new "
                                        "certificate will be requested at the next run",
                                        arn ? arn : "?", line ? line : err->type);
                }
                if (err->kind != AWS_ERROR_IN_PROGRESS)
                        return pca_fail_aws(p, err);
                testpoint_hit("polling", m->cert->name);
                (void) sd_event_now(machine_loop(m), CLOCK_MONOTONIC, &now);
                if (now >= p->poll_deadline)
                        return pca_fail(p, "timeout",
                                        "certificate %s is still being issued after %" PRIu64 " s "
                                        "(RequestInProgressException); the next run polls it again",
                                        m->st->pending_arn, poll_deadline_sec());
                p->poll_delay = p->poll_delay ? p->poll_delay * 2 : PCA_POLL_FIRST_USEC;
                if (p->poll_delay > PCA_POLL_MAX_USEC)
                        p->poll_delay = PCA_POLL_MAX_USEC;
                return step_poll_arm(p, p->poll_delay);
        }
        cert = json_string_value(json_object_get(resp, "Certificate"));
        chain = json_string_value(json_object_get(resp, "CertificateChain"));
        if (!cert || strlen(cert) > CRYPTO_PEM_MAX || (chain && strlen(chain) > CRYPTO_PEM_MAX))
                return pca_fail(p, "aws", "GetCertificate %s: no usable Certificate in the answer", m->st->pending_arn);
        p->cert_pem = strdup(cert);
        p->chain_pem = chain ? strdup(chain) : NULL;
        if (!p->cert_pem || (chain && !p->chain_pem))
                return pca_fail(p, "oom", "out of memory");

        /* the trust anchor comes from the CA (cached per pass) */
        ca_entry *ca = machine_cache_get(m, m->cert->issuer.pca.ca_arn);
        if (!ca)
                return step_ca(p);  /* resumed run: describe the CA, then step_after_ca verifies */
        if (ca->status == CA_PENDING) {
                if (ca_wait(ca, p) < 0)
                        pca_fail(p, "oom", "out of memory");
                return;
        }
        if (ca->status == CA_FAILED)
                return pca_fail(p, "ca", "%s", ca->error ? ca->error : "out of memory");
        step_verify(p);
}

static int on_poll_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        pca *p = userdata;
        machine *m = p->m;
        aws_client *client;
        json_t *req;
        int r;

        p->timer = sd_event_source_unref(p->timer);
        r = machine_aws(m, &client);
        if (r < 0) {
                pca_fail(p, "aws", "cannot set up the AWS client: %s", strerror(-r));
                return 0;
        }
        req = json_pack("{s:s,s:s}", "CertificateAuthorityArn", m->cert->issuer.pca.ca_arn, "CertificateArn",
                        m->st->pending_arn);
        r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "GetCertificate", req, 0, on_get_certificate, p, &p->req)
                : -ENOMEM;
        json_decref(req);
        if (r < 0)
                pca_fail(p, "aws", "cannot send GetCertificate: %s", strerror(-r));
        return 0;
}

static void step_poll_arm(pca *p, uint64_t delay) {
        sd_event *e = machine_loop(p->m);
        uint64_t now;
        int r;

        (void) sd_event_now(e, CLOCK_MONOTONIC, &now);
        if (p->poll_deadline == 0)
                p->poll_deadline = now + poll_deadline_sec() * USEC_PER_SEC;
        r = sd_event_add_time(e, &p->timer, CLOCK_MONOTONIC, now + delay, 10 * USEC_PER_MSEC, on_poll_timer, p);
        if (r < 0)
                pca_fail(p, "event", "cannot arm the poll timer: %s", strerror(-r));
}

/* ---- ops ---- */

static void pca_cancel(machine *m) {
        pca *p = m->issuer_data;

        if (!p)
                return;
        m->issuer_data = NULL;
        if (p->keygen)
                p->keygen->owner = NULL;  /* the worker's result is dropped */
        if (p->ca)
                for (size_t i = 0; i < p->ca->n_waiters; i++)
                        if (p->ca->waiters[i] == p)
                                p->ca->waiters[i] = NULL;
        aws_request_cancel(p->req);
        sd_event_source_disable_unref(p->timer);
        EVP_PKEY_free(p->key);
        free(p->csr_pem);
        free(p->signing_algorithm);
        free(p->cert_pem);
        free(p->chain_pem);
        free(p);
}

static int pca_start(machine *m) {
        pca *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->m = m;
        m->issuer_data = p;
        step_key(p);
        return 0;
}

const issuer_ops issuer_pca_ops = {
        .name = "pca",
        .start = pca_start,
        .cancel = pca_cancel,
};
