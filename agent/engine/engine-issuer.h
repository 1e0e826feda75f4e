/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * issuer: the interface between the engine and one issuer type (pca today;
 * acm and import slot in with their own ops table). The engine owns the
 * machine (state, lock, key, results) and the common deploy step; an issuer
 * owns the steps between "decided to (re)issue" and "a verified certificate
 * and chain for this key", persisting its progress in m->st through
 * machine_save() before each side effect.
 *
 * Contract for an issuer: start() begins (or resumes, from m->st) the steps;
 * eventually exactly one of machine_issued() or machine_fail() is called
 * (possibly from inside start()); the issuer must not touch its data after
 * calling either, since the engine cancels it there. cancel() drops
 * everything pending (timers, AWS requests, worker jobs) without calling
 * back and frees m->issuer_data.
 */
#include <openssl/evp.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "aws/aws.h"
#include "conf/conf.h"
#include "store/store-state.h"
#include "basic/worker.h"

typedef struct engine engine;
typedef struct machine machine;

typedef struct issuer_ops {
        const char *name;                       /* "pca" */
        int (*start)(machine *m);               /* 0, or -errno with machine_fail not called */
        void (*cancel)(machine *m);
} issuer_ops;

extern const issuer_ops issuer_pca_ops;

/* Engine services for issuers. */
struct machine {
        engine *engine;
        const conf_cert *cert;
        const char *state_dir;
        cert_state *st;
        void *issuer_data;                      /* the issuer's, freed by its cancel() */
};

sd_event *machine_loop(machine *m);
/* The pass's worker pool, created at first use. 0 or -errno (e.g. no
 * eventfd: -EMFILE); *ret set only on success. */
int machine_workers(machine *m, worker_pool **ret);
/* The pass's AWS client, created at first use. 0 or -errno (logged). */
int machine_aws(machine *m, aws_client **ret);
/* Saves m->st atomically. 0 or -errno. */
int machine_save(machine *m);
/* A per-pass cache shared by the machines of an engine, keyed by string
 * (the pca issuer keeps one entry per CA ARN: its description, certificate
 * and the machines waiting for them). get returns the borrowed value or
 * NULL; put takes ownership of value (freed with free_fn at the end of the
 * engine), -EEXIST when key is present, -ENOMEM. */
void *machine_cache_get(machine *m, const char *key);
int machine_cache_put(machine *m, const char *key, void *value, void (*free_fn)(void *));

/* The issuer's success: cert_pem + chain_pem (copied) for key (a reference
 * is taken). Continues with the common deploy step. */
void machine_issued(machine *m, EVP_PKEY *key, const char *cert_pem, const char *chain_pem);
/* The issuer's failure: the message (printf) is the operator's line; kind
 * is a short id ("aws:throttled", "verify", "io", "ca-state"...). */
void machine_fail(machine *m, const char *kind, const char *fmt, ...) _printf_(3, 4);

/*
 * The IssueCertificate request for cert: CertificateAuthorityArn, Csr (the
 * PEM, base64 as the JSON protocol carries blobs), SigningAlgorithm,
 * IdempotencyToken, and from the configuration TemplateArn, Validity,
 * ValidityNotBefore (a DURATION is sent as DAYS when a whole number of days,
 * else as END_DATE = now + duration) and ApiPassthrough as configured.
 * Returns 0 and a new reference in *ret, -EINVAL, -ENOMEM.
 */
int issuer_pca_build_request(const conf_cert *cert, const char *csr_pem, const char *signing_algorithm,
                             const char *token, time_t now, json_t **ret);

/* "SHA256WITHRSA" / "SHA256WITHECDSA" for the CA's KeyAlgorithm when
 * configured is NULL (auto); configured itself when its family fits;
 * NULL when it does not fit or the family is unknown. */
const char *issuer_pca_signing_algorithm(const char *ca_key_algorithm, const char *configured);

/*
 * What a certificate issued for cert must carry, for verification. AWS
 * applies ApiPassthrough over the CSR (template > API > CSR): a passthrough
 * Subject.CommonName replaces the common name we asked for, and passthrough
 * Extensions.SubjectAlternativeNames replace the CSR's names. ret->want is a
 * shallow copy of cert with those overrides; its strings are borrowed from
 * cert (which must outlive ret). Free with issuer_pca_expect_done().
 * Returns 0 or -ENOMEM.
 */
typedef struct pca_expect {
        conf_cert want;
        char **names[4];  /* owned pointer arrays: dns, ip, email, uri overrides */
} pca_expect;
int issuer_pca_expect(const conf_cert *cert, pca_expect *ret);
void issuer_pca_expect_done(pca_expect *e);
