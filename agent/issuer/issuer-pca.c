/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS Private CA issuer: key (the engine's keystore) → CSR →
 * DescribeCertificateAuthority (ACTIVE, signing algorithm; cached per CA) →
 * IssueCertificate (token persisted first, ARN right after) → GetCertificate
 * until it stops answering RequestInProgressException →
 * GetCertificateAuthorityCertificate (the trust anchor) → the engine's
 * verify and deploy step. Every step resumes from the saved state after a
 * crash. Revocation: RevokeCertificate at the CA.
 *
 * Typed state ("issuer" in the state file):
 *   token       IssueCertificate's IdempotencyToken of the request in flight
 *   token_time  when it was made (AWS honours it for a minute)
 *   csr         the CSR sent with it (re-sent unchanged while the token holds)
 *   arn         the certificate IssueCertificate answered, not fetched yet
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/testpoint.h"
#include "basic/util.h"
#include "crypto/crypto.h"
#include "issuer/issuer-pca.h"
#include "issuer/issuer.h"
#include "store/store-state.h"

/* IssueCertificate's IdempotencyToken is honoured for one minute (reference);
 * a persisted token older than this is replaced by a fresh one. */
#define PCA_TOKEN_LIFETIME_SEC 55
#define PCA_POLL_FIRST_USEC (200 * USEC_PER_MSEC)
#define PCA_POLL_MAX_USEC (5 * USEC_PER_SEC)
#define PCA_POLL_DEADLINE_SEC 300
/* A certificate still in progress after the poll deadline is asked for
 * again this much later (longer than --once sits out: such a run reports
 * "waiting" and the next run or the daemon's timer fetches it). */
#define PCA_SLOW_RETRY_SEC 900
/* A CA's description and certificate are asked again after this long. */
#define PCA_CA_CACHE_SEC 600
#define PCA_ARN_MAX 2048

/* ---- typed state ---- */

typedef struct pca_state {
        char *token;
        time_t token_time;
        char *csr;
        char *arn;
} pca_state;

static void pca_state_free(void *v) {
        pca_state *s = v;
        if (!s)
                return;
        free(s->token);
        free(s->csr);
        free(s->arn);
        free(s);
}

static void pca_state_reset(void *v) {
        pca_state *s = v;
        s->token = (free(s->token), NULL);
        s->csr = (free(s->csr), NULL);
        s->arn = (free(s->arn), NULL);
        s->token_time = 0;
}

static bool pca_state_in_flight(const void *v) {
        const pca_state *s = v;
        return s->arn || s->token;
}

static int pca_state_load(json_t *o, void **ret, char **ret_error) {
        pca_state *s = calloc(1, sizeof(*s));
        json_t *t;
        int r;

        *ret_error = NULL;
        if (!s)
                return -ENOMEM;
        if ((r = state_part_string(o, "token", 0, STATE_PART_MAX, &s->token, ret_error)) < 0 ||
            (r = state_part_string(o, "csr", 0, STATE_PART_MAX, &s->csr, ret_error)) < 0 || (r = state_part_string(o, "arn", 0, STATE_PART_MAX, &s->arn, ret_error)) < 0) {
                pca_state_free(s);
                return r;
        }
        t = json_object_get(o, "token_time");
        if (t && !json_is_null(t) && (!json_is_string(t) || state_parse_time(json_string_value(t), &s->token_time) < 0)) {
                *ret_error = strdup("\"token_time\" is not an RFC 3339 time");
                pca_state_free(s);
                return -EBADMSG;
        }
        *ret = s;
        return 0;
}

static int pca_state_save(const void *v, json_t **ret) {
        const pca_state *s = v;
        json_t *o = json_object();
        char t[32];

        if (!o)
                return -ENOMEM;
        if ((s->token && json_object_set_new(o, "token", json_string(s->token)) < 0) ||
            (s->token_time && state_format_time(s->token_time, t, sizeof(t)) &&
             json_object_set_new(o, "token_time", json_string(t)) < 0) ||
            (s->csr && json_object_set_new(o, "csr", json_string(s->csr)) < 0) ||
            (s->arn && json_object_set_new(o, "arn", json_string(s->arn)) < 0)) {
                json_decref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* ---- pure parts ---- */

static int base64_encode(const char *in, size_t len, char **ret) {
        size_t n = 4 * ((len + 2) / 3) + 1;
        char *out = malloc(n);
        if (!out)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) in, (int) len);
        *ret = out;
        return 0;
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

int issuer_pca_expect(const conf_cert *cert, cert_expect *ret) {
        /* GeneralName members that map to the names we verify, in the
         * order of cert_expect.owned */
        static const char *const members[] = { "DnsName", "IpAddress", "Rfc822Name", "UniformResourceIdentifier" };
        cert_expect e = { .want = *cert };
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
                        e.owned[k] = calloc(json_array_size(sans) + 1, sizeof(char *));
                        if (!e.owned[k]) {
                                cert_expect_done(&e);
                                return -ENOMEM;
                        }
                        json_array_foreach(sans, i, gn) {
                                const char *v = json_string_value(json_object_get(gn, members[k]));
                                if (v)
                                        e.owned[k][n++] = (char *) v;
                        }
                }
                e.want.dns_names = e.owned[0];
                e.want.ip_addresses = e.owned[1];
                e.want.email_addresses = e.owned[2];
                e.want.uris = e.owned[3];
        }
        *ret = e;
        return 0;
}

static int pca_expect(const conf_cert *cert, const void *state _unused_, cert_expect *ret) {
        return issuer_pca_expect(cert, ret);
}

/* ---- the CA, described once per CA and shared by every machine ---- */

typedef enum ca_status {
        CA_PENDING,
        CA_READY,
        CA_FAILED,
} ca_status;

typedef struct pca pca;

typedef struct ca_entry {
        char *arn;
        aws_client *client;     /* a reference */
        ca_status status;
        char *key_algorithm;    /* "EC_prime256v1" */
        char *ca_pem;           /* GetCertificateAuthorityCertificate: Certificate (+ chain) */
        char *error;            /* CA_FAILED */
        pca **waiters;
        size_t n_waiters, n_alloc;
} ca_entry;

/* The runtime of one operation of one machine. */
struct pca {
        machine *m;
        pca_state *s;           /* the machine's typed state */
        EVP_PKEY *key;
        char *csr_pem;
        aws_request *req;
        sd_event_source *timer;
        uint64_t poll_delay;
        uint64_t poll_deadline;   /* CLOCK_MONOTONIC usec */
        ca_entry *ca;             /* waiting for this entry */
        char *cert_pem, *chain_pem;
        const char *revoke_reason;
};

static void step_ca(pca *p);
static void step_issue(pca *p);
static void step_deliver(pca *p);
static void step_poll_arm(pca *p, uint64_t delay);

static void ca_entry_free(void *v) {
        ca_entry *c = v;
        if (!c)
                return;
        aws_client_unref(c->client);
        free(c->arn);
        free(c->key_algorithm);
        free(c->ca_pem);
        free(c->error);
        free(c->waiters);
        free(c);
}

static void pca_fail(pca *p, const char *kind, const char *fmt, ...) _printf_(3, 4);
static void pca_fail(pca *p, const char *kind, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        machine_fail(p->m, kind, "%s", msg ? msg : "out of memory");
}

static void pca_fail_aws(pca *p, const aws_error *err) {
        _cleanup_(freep) char *line = aws_error_format(err);

        machine_fail_aws(p->m, err, "%s", line ? line : err->type);
}

static void ca_notify(ca_entry *c) {
        pca **w = TAKE_PTR(c->waiters);
        size_t n = c->n_waiters;

        c->n_waiters = c->n_alloc = 0;
        for (size_t i = 0; i < n; i++) {
                if (!w[i])
                        continue;
                w[i]->ca = NULL;
                if (c->status == CA_FAILED)
                        pca_fail(w[i], "ca", "%s", c->error ? c->error : "out of memory");
                else if (w[i]->cert_pem)
                        step_deliver(w[i]);
                else
                        step_issue(w[i]);
        }
        free(w);
}

static void ca_failed(ca_entry *c, const char *fmt, ...) _printf_(2, 3);
static void ca_failed(ca_entry *c, const char *fmt, ...) {
        va_list ap;

        c->status = CA_FAILED;
        free(c->error);
        va_start(ap, fmt);
        if (vasprintf(&c->error, fmt, ap) < 0)
                c->error = NULL;
        va_end(ap);
        ca_notify(c);
}

static void on_ca_cert(const aws_error *err, json_t *resp, void *userdata) {
        ca_entry *c = userdata;
        const char *pem, *chain;

        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                return ca_failed(c, "cannot fetch the CA certificate of %s: %s", c->arn, line ? line : err->type);
        }
        pem = json_string_value(json_object_get(resp, "Certificate"));
        chain = json_string_value(json_object_get(resp, "CertificateChain"));
        if (!pem || strlen(pem) > CRYPTO_PEM_MAX || (chain && strlen(chain) > CRYPTO_PEM_MAX))
                return ca_failed(c, "GetCertificateAuthorityCertificate for %s: no usable Certificate in the answer",
                                 c->arn);
        /* the CA's certificate and the chain above it: the root is the
         * anchor the issued certificates are verified against */
        c->ca_pem = chain ? strprintf("%s%s%s", pem, pem[0] && pem[strlen(pem) - 1] == '\n' ? "" : "\n", chain)
                          : strdup(pem);
        if (!c->ca_pem)
                return ca_failed(c, "out of memory");
        c->status = CA_READY;
        ca_notify(c);
}

static void on_describe_ca(const aws_error *err, json_t *resp, void *userdata) {
        ca_entry *c = userdata;
        json_t *ca, *cfg, *req;
        const char *status, *alg;
        int r;

        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                return ca_failed(c, "cannot describe the CA %s: %s", c->arn, line ? line : err->type);
        }
        ca = json_object_get(resp, "CertificateAuthority");
        cfg = json_object_get(ca, "CertificateAuthorityConfiguration");
        status = json_string_value(json_object_get(ca, "Status"));
        alg = json_string_value(json_object_get(cfg, "KeyAlgorithm"));
        if (!status || !alg)
                return ca_failed(c, "DescribeCertificateAuthority %s: answer without Status or KeyAlgorithm", c->arn);
        c->key_algorithm = strdup(alg);
        if (!c->key_algorithm)
                return ca_failed(c, "out of memory");
        if (!streq(status, "ACTIVE"))
                return ca_failed(c, "CA %s is %s, not ACTIVE: it cannot issue certificates; activate or restore it "
                                 "(or point ca_arn at an active CA); the current certificate stays deployed", c->arn,
                                 status);
        /* the trust anchor for verification, fetched once */
        req = json_pack("{s:s}", "CertificateAuthorityArn", c->arn);
        r = req ? aws_call(c->client, AWS_SERVICE_ACM_PCA, "GetCertificateAuthorityCertificate", req, 0, on_ca_cert, c,
                           NULL)
                : -ENOMEM;
        json_decref(req);
        if (r < 0)
                ca_failed(c, "GetCertificateAuthorityCertificate %s: %s", c->arn, strerror(-r));
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

/* Gets the CA's description and certificate (from the cache, or asking AWS
 * once for every machine of the engine), then continues the operation. */
static void step_ca(pca *p) {
        machine *m = p->m;
        const char *arn = machine_cert(m)->issuer.pca.ca_arn;
        _cleanup_(freep) char *key = strprintf("pca:%s", arn);
        aws_client *client;
        ca_entry *c;
        json_t *req;
        int r;

        if (!key)
                return pca_fail(p, "oom", "out of memory");
        c = machine_cache_get(m, key);
        if (c) {
                if (c->status == CA_PENDING) {
                        if (ca_wait(c, p) < 0)
                                pca_fail(p, "oom", "out of memory");
                        return;
                }
                if (c->status == CA_FAILED)
                        return pca_fail(p, "ca", "%s", c->error ? c->error : "out of memory");
                return p->cert_pem ? step_deliver(p) : step_issue(p);
        }
        r = machine_aws(m, &client);
        if (r < 0)
                return pca_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
        c = calloc(1, sizeof(*c));
        if (c)
                c->client = aws_client_ref(client);
        if (!c || !(c->arn = strdup(arn)) || ca_wait(c, p) < 0) {
                ca_entry_free(c);
                return pca_fail(p, "oom", "out of memory");
        }
        r = machine_cache_put(m, key, c, ca_entry_free, PCA_CA_CACHE_SEC);
        if (r < 0) {
                ca_entry_free(c);
                p->ca = NULL;
                return pca_fail(p, "oom", "out of memory");
        }
        req = json_pack("{s:s}", "CertificateAuthorityArn", arn);
        r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "DescribeCertificateAuthority", req, 0, on_describe_ca, c, NULL)
                : -ENOMEM;
        json_decref(req);
        if (r < 0)
                ca_failed(c, "DescribeCertificateAuthority %s: %s", arn, strerror(-r));
}

static ca_entry *ca_ready(pca *p) {
        _cleanup_(freep) char *key = strprintf("pca:%s", machine_cert(p->m)->issuer.pca.ca_arn);
        ca_entry *c = key ? machine_cache_get(p->m, key) : NULL;
        return c && c->status == CA_READY ? c : NULL;
}

/* ---- IssueCertificate ---- */

static void after_arn_saved(machine *m, void *userdata) {
        pca *p = userdata;

        testpoint_hit("arn-persisted", machine_name(m));
        log_cert(LOG_INFO, machine_name(m), "issued %s, fetching it", p->s->arn);
        step_poll_arm(p, PCA_POLL_FIRST_USEC);
}

static void on_issue(const aws_error *err, json_t *resp, void *userdata) {
        pca *p = userdata;
        machine *m = p->m;
        const char *arn;

        p->req = NULL;
        if (err) {
                if (err->kind == AWS_ERROR_INVALID || err->kind == AWS_ERROR_AUTH || err->kind == AWS_ERROR_NOT_FOUND)
                        /* refused: the next attempt builds a fresh request */
                        pca_state_reset(p->s);
                return pca_fail_aws(p, err);
        }
        arn = json_string_value(json_object_get(resp, "CertificateArn"));
        if (!arn || strlen(arn) > PCA_ARN_MAX)
                return pca_fail(p, "aws", "IssueCertificate answered without a usable CertificateArn");
        testpoint_hit("issue-answered", machine_name(m));
        if (state_set_string(&p->s->arn, arn) < 0)
                return pca_fail(p, "oom", "out of memory");
        machine_persist(m, PHASE_ISSUE, after_arn_saved, p);
}

static void send_issue(machine *m, void *userdata) {
        pca *p = userdata;
        const conf_cert *cert = machine_cert(m);
        ca_entry *ca = ca_ready(p);
        _cleanup_(json_decrefp) json_t *req = NULL;
        aws_client *client;
        const char *alg;
        int r;

        testpoint_hit("token-persisted", machine_name(m));
        if (!ca)
                return pca_fail(p, "ca", "internal error: CA %s not described", cert->issuer.pca.ca_arn);
        alg = issuer_pca_signing_algorithm(ca->key_algorithm, cert->issuer.pca.signing_algorithm);
        r = issuer_pca_build_request(cert, p->csr_pem, alg, p->s->token, machine_now(m), &req);
        if (r < 0)
                return pca_fail(p, "config", "cannot build IssueCertificate: %s", strerror(-r));
        r = machine_aws(m, &client);
        if (r < 0)
                return pca_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
        r = aws_call(client, AWS_SERVICE_ACM_PCA, "IssueCertificate", req, AWS_CALL_IDEMPOTENT_TOKEN, on_issue, p,
                     &p->req);
        if (r < 0)
                return pca_fail(p, "aws", "cannot send IssueCertificate: %s", strerror(-r));
}

static void step_issue(pca *p) {
        machine *m = p->m;
        const conf_issuer_pca *c = &machine_cert(m)->issuer.pca;
        ca_entry *ca = ca_ready(p);
        pca_state *s = p->s;
        time_t now = machine_now(m);
        const char *family, *alg;
        int r;

        if (!ca)
                return pca_fail(p, "ca", "internal error: CA %s not described", c->ca_arn);
        /* A persisted token is re-sent unchanged while AWS still honours it,
         * so a request that may have arrived before a crash is not issued
         * twice. An expired token goes with its CSR: the request is built
         * afresh (same pending key) from the configuration as it is now, so
         * names changed in between are not issued (and billed) only to be
         * rejected by the verification. */
        if (s->token && s->token_time + PCA_TOKEN_LIFETIME_SEC < now) {
                log_cert(LOG_WARNING, machine_name(m),
                         "the idempotency token of the interrupted request is older than a minute; "
                         "a certificate issued by that request (if any) is abandoned and a new one requested");
                pca_state_reset(s);
        }
        if (s->token && s->csr) {
                free(p->csr_pem);
                p->csr_pem = strdup(s->csr);
                if (!p->csr_pem)
                        return pca_fail(p, "oom", "out of memory");
        } else {
                free(p->csr_pem);
                p->csr_pem = NULL;
                r = crypto_csr_build(machine_cert(m), p->key, &p->csr_pem);
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
        if (!s->token) {
                uint8_t raw[16];
                char hex[33];
                r = random_bytes(raw, sizeof(raw));
                if (r < 0)
                        return pca_fail(p, "random", "cannot get random bytes: %s", strerror(-r));
                hex_encode(raw, sizeof(raw), hex);
                if (state_set_string(&s->token, hex) < 0 || state_set_string(&s->csr, p->csr_pem) < 0)
                        return pca_fail(p, "oom", "out of memory");
                s->token_time = now;
        }
        /* the token before the request: a crash after this re-sends it */
        machine_persist(m, PHASE_REQUEST, send_issue, p);
}

/* ---- GetCertificate ---- */

static uint64_t poll_deadline_sec(void) {
        const char *e = getenv("ACM_AGENT_PCA_POLL_DEADLINE");
        uint64_t v;

        if (e && parse_uint64(e, &v) >= 0 && v > 0)
                return v;
        return PCA_POLL_DEADLINE_SEC;
}

/* The certificate and its trust anchor are here: hand them to the engine. */
static void step_deliver(pca *p) {
        ca_entry *ca = ca_ready(p);
        issued_cert ic = {
                .key = p->key,
                .cert_pem = p->cert_pem,
                .chain_pem = p->chain_pem,
                .anchor_pem = ca ? ca->ca_pem : NULL,
                .arn = p->s->arn,
                .key_is_pending = true,
        };

        if (!ca)
                return step_ca(p);
        machine_issued(p->m, &ic);
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
                         * every attempt would block renewal until the old
                         * certificate expires. Forget the request (the
                         * pending key stays); transient kinds keep it. */
                        _cleanup_(freep) char *line = aws_error_format(err);
                        _cleanup_(freep) char *arn = TAKE_PTR(p->s->arn);
                        pca_state_reset(p->s);
                        return machine_fail_aws(p->m, err,
                                                "GetCertificate %s cannot be fetched (%s); the request is abandoned and a new "
                                                "certificate will be requested at the next attempt",
                                                arn ? arn : "?", line ? line : err->type);
                }
                if (err->kind != AWS_ERROR_IN_PROGRESS)
                        return pca_fail_aws(p, err);
                testpoint_hit("polling", machine_name(m));
                (void) sd_event_now(machine_loop(m), CLOCK_MONOTONIC, &now);
                if (now >= p->poll_deadline)
                        /* the CA takes its time: come back later rather than fail */
                        return machine_wait(m, machine_now(m) + PCA_SLOW_RETRY_SEC,
                                            "certificate %s is still being issued after %" PRIu64 " s "
                                            "(RequestInProgressException)", p->s->arn, poll_deadline_sec());
                p->poll_delay = p->poll_delay ? p->poll_delay * 2 : PCA_POLL_FIRST_USEC;
                if (p->poll_delay > PCA_POLL_MAX_USEC)
                        p->poll_delay = PCA_POLL_MAX_USEC;
                return step_poll_arm(p, p->poll_delay);
        }
        cert = json_string_value(json_object_get(resp, "Certificate"));
        chain = json_string_value(json_object_get(resp, "CertificateChain"));
        if (!cert || strlen(cert) > CRYPTO_PEM_MAX || (chain && strlen(chain) > CRYPTO_PEM_MAX))
                return pca_fail(p, "aws", "GetCertificate %s: no usable Certificate in the answer", p->s->arn);
        p->cert_pem = strdup(cert);
        p->chain_pem = chain ? strdup(chain) : NULL;
        if (!p->cert_pem || (chain && !p->chain_pem))
                return pca_fail(p, "oom", "out of memory");
        step_deliver(p);
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
                pca_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
                return 0;
        }
        req = json_pack("{s:s,s:s}", "CertificateAuthorityArn", machine_cert(m)->issuer.pca.ca_arn, "CertificateArn",
                        p->s->arn);
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

/* ---- operations ---- */

static void on_key(machine *m _unused_, EVP_PKEY *key, void *userdata) {
        pca *p = userdata;

        p->key = key;
        if (p->s->arn)
                step_poll_arm(p, 0);  /* an ARN in flight: fetch it */
        else
                step_ca(p);
}

static void pca_cancel(machine *m) {
        pca *p = machine_get_data(m);

        if (!p)
                return;
        machine_set_data(m, NULL);
        if (p->ca)
                for (size_t i = 0; i < p->ca->n_waiters; i++)
                        if (p->ca->waiters[i] == p)
                                p->ca->waiters[i] = NULL;
        aws_request_cancel(p->req);
        sd_event_source_disable_unref(p->timer);
        EVP_PKEY_free(p->key);
        free(p->csr_pem);
        free(p->cert_pem);
        free(p->chain_pem);
        free(p);
}

static pca *pca_new(machine *m) {
        pca *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        p->m = m;
        p->s = machine_issuer_state(m);
        machine_set_data(m, p);
        return p;
}

static int pca_issue(machine *m, issue_reason reason) {
        pca *p = pca_new(m);

        if (!p)
                return -ENOMEM;
        if (reason == ISSUE_REPLACE)
                /* a revoked certificate's request is never resumed */
                pca_state_reset(p->s);
        machine_key(m, on_key, p);
        return 0;
}

/* "0A1B2C" -> "0a:1b:2c", the form RevokeCertificate takes. */
static char *serial_colon(const char *hex) {
        size_t n = strlen(hex), odd = n % 2;
        char *out = malloc(n + n / 2 + 2), *q = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (!isxdigit((unsigned char) hex[i])) {
                        free(out);
                        return NULL;
                }
                if (i == 0 && odd)
                        *q++ = '0';
                if (q != out && (q - out) % 3 == 2)
                        *q++ = ':';
                *q++ = (char) tolower((unsigned char) hex[i]);
        }
        *q = 0;
        return out;
}

static void on_revoked(const aws_error *err, json_t *resp _unused_, void *userdata) {
        pca *p = userdata;

        p->req = NULL;
        if (!err)
                return machine_revoked(p->m, false);
        if (streq(err->type, "RequestAlreadyProcessedException"))
                return machine_revoked(p->m, true);
        pca_fail_aws(p, err);
}

static int pca_revoke(machine *m, const char *reason) {
        const cert_state *st = machine_state(m);
        _cleanup_(freep) char *serial = NULL;
        aws_client *client;
        pca *p;
        json_t *req;
        int r;

        p = pca_new(m);
        if (!p)
                return -ENOMEM;
        serial = st->served.serial ? serial_colon(st->served.serial) : NULL;
        if (!serial) {
                pca_fail(p, "state", "the recorded serial '%s' is not hexadecimal", st->served.serial ? st->served.serial : "");
                return 0;
        }
        r = machine_aws(m, &client);
        if (r < 0) {
                pca_fail(p, "aws", "cannot set up the AWS client: %s", aws_client_strerror(r));
                return 0;
        }
        req = json_pack("{s:s,s:s,s:s}", "CertificateAuthorityArn", machine_cert(m)->issuer.pca.ca_arn,
                        "CertificateSerial", serial, "RevocationReason", reason);
        r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "RevokeCertificate", req, 0, on_revoked, p, &p->req) : -ENOMEM;
        json_decref(req);
        if (r < 0)
                pca_fail(p, "aws", "cannot send RevokeCertificate: %s", strerror(-r));
        return 0;
}

const issuer_ops issuer_pca_ops = {
        .name = "pca",
        .state_load = pca_state_load,
        .state_save = pca_state_save,
        .state_free = pca_state_free,
        .state_in_flight = pca_state_in_flight,
        .state_reset = pca_state_reset,
        .expect = pca_expect,
        .issue = pca_issue,
        .revoke = pca_revoke,
        .cancel = pca_cancel,
        .renews = true,
};
