/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The common deploy step's first two parts, the same for every issuer:
 *   verify  — a certificate obtained for a key is what the configuration
 *             asked for (key match, names, validity window) and its chain
 *             builds up to the trust anchor; the chain written is the one
 *             verified, never bytes taken on trust;
 *   build   — the selected output files (cert, chain, fullchain, key,
 *             haproxy bundle, PKCS#12) in memory, ready for deploy_install().
 * Plus the preflight: what a deploy will need, checked before an issuance
 * starts (and by `check`), so no certificate is billed that cannot be
 * deployed.
 *
 * Pure CPU and small file reads; thread-safe; logs nothing.
 */
#include <openssl/evp.h>
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"
#include "deploy/deploy.h"

typedef struct deploy_verified {
        char *cert_pem;          /* normalised */
        char *chain_pem;         /* the verified chain, anchor included; NULL when the
                                  * certificate is itself the anchor's only link */
        char *serial;            /* uppercase hex */
        time_t not_before, not_after;
} deploy_verified;

void deploy_verified_done(deploy_verified *v);

/*
 * Verifies cert_pem (+ chain_pem as the CA sent it) for key against want
 * (names, subject CN), at now, up to anchor_pem (the CA certificate) or,
 * when NULL, the PEM bundle trust_store (NULL: the system's default verify
 * paths). Returns 0 and fills *ret; -EKEYREJECTED / -EBADMSG / -E2BIG with
 * *ret_reason (malloc'd, one line naming what is wrong); -ENOMEM.
 */
int deploy_verify(const conf_cert *want, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                  const char *anchor_pem, const char *trust_store, time_t now, deploy_verified *ret,
                  char **ret_reason);

/* The output files of one version, built in memory; secrets wiped by
 * deploy_files_done(). */
typedef struct deploy_files {
        deploy_file files[6];
        size_t n;
        char *chain, *fullchain;        /* public */
        char *key_pem, *bundle;         /* secret */
        unsigned char *p12;             /* secret */
        size_t p12_len;
} deploy_files;

void deploy_files_done(deploy_files *f);

/*
 * Builds the files cert->output.files selects from the certificate, its
 * verified chain (may be NULL: then chain.pem is empty and fullchain holds
 * the certificate alone) and the key. Reads the PKCS#12 passphrase file.
 * cert_pem/chain_pem must outlive *ret (cert.pem points into cert_pem).
 * Returns 0; -EINVAL (nothing selected, no passphrase file) or -errno with
 * *ret_reason (malloc'd).
 */
int deploy_files_build(const conf_cert *cert, EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                       deploy_files *ret, char **ret_reason);

/*
 * What a deploy of cert needs that can be known before an issuance starts:
 * output files selected, the PKCS#12 passphrase file readable and not empty,
 * owner and group still resolvable, the output directory safe to write
 * (deploy_check_dir). Returns 0, or -errno with *ret_reason (malloc'd).
 */
int deploy_preflight(const conf_cert *cert, char **ret_reason);
