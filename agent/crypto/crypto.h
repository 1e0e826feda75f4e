/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Keys, CSRs and verification of issued certificates. Pure, synchronous and
 * thread-safe (no global state; OpenSSL 3 is thread-safe); logs at debug only.
 * All functions return 0 or a negative errno and set outputs only on success:
 *   -EINVAL  bad argument / configuration value
 *   -EBADMSG unparsable PEM/DER, junk between PEM blocks
 *   -E2BIG   input over the bounds below
 *   -EKEYREJECTED  certificate/key mismatch or verification failure
 *   -ENOMEM
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>

#include "conf/conf.h"

#define CRYPTO_PEM_MAX      (64u * 1024u)  /* any one PEM input */
#define CRYPTO_CHAIN_MAX    10u            /* certificates in a chain */
#define CRYPTO_SKEW_SEC     300            /* allowed not_before in the future */

/* Frees a secret buffer after OPENSSL_cleanse over its strlen. NULL is fine. */
void crypto_secret_free(char *p);
static inline void crypto_secret_freep(char **p) { crypto_secret_free(*p); }
static inline void crypto_pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }

/* Generates a key per k (RSA 2048/3072/4096, EC P-256/384/521). Slow for RSA:
 * call from a worker thread. */
int crypto_key_generate(const conf_key *k, EVP_PKEY **ret);
/* Unencrypted PKCS#8 PEM; *ret_pem is secret: free with crypto_secret_free(). */
int crypto_key_to_pem(EVP_PKEY *key, char **ret_pem);
/* Parses an unencrypted private key PEM (PKCS#8, traditional RSA/EC). */
int crypto_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret);
/* Loads a private key file; refuses (-EPERM) a file readable by group or
 * others, since that means the key has already leaked or is misconfigured. */
int crypto_key_load_file(const char *path, EVP_PKEY **ret);
/* True when key is of the type/size/curve k asks for. */
bool crypto_key_matches_conf(EVP_PKEY *key, const conf_key *k);
/* 1 when key is the private key of the (first) certificate in cert_pem, 0
 * when not, -EBADMSG when cert_pem holds no certificate. */
int crypto_key_matches_cert(EVP_PKEY *key, const char *cert_pem);

/* CSR (PEM) with c->subject (CN defaults to dns_names[0]) and SANs from
 * dns_names, ip_addresses (v4/v6), email_addresses, uris; SHA-256. */
int crypto_csr_build(const conf_cert *c, EVP_PKEY *key, char **ret_pem);

typedef struct crypto_cert_info {
        char *serial_hex;        /* "0A1B..." uppercase, no colons */
        char *serial_colon;      /* "0a:1b:..." ACM style (lowercase) */
        time_t not_before;
        time_t not_after;
        char *subject_cn;        /* NULL if none */
        char *subject;           /* RFC 2253 one-line */
        char *issuer;            /* RFC 2253 one-line */
        char **dns_names;        /* NULL-terminated, never NULL */
        char **ip_addresses;
        char **email_addresses;
        char **uris;
        char fingerprint_sha256[65];  /* lowercase hex */
        char key_type[16];       /* "RSA", "EC" */
        unsigned key_bits;       /* 2048.., or 256/384/521 */
} crypto_cert_info;

/* Parses the first certificate of pem. */
int crypto_cert_info_get(const char *pem, size_t len, crypto_cert_info **ret);
void crypto_cert_info_free(crypto_cert_info *i);
static inline void crypto_cert_info_freep(crypto_cert_info **i) { crypto_cert_info_free(*i); }

/*
 * Checks an issued certificate before deploying: the public key is key's,
 * every requested SAN is present, the CN matches, not_after > now and
 * not_before <= now + CRYPTO_SKEW_SEC, and OpenSSL builds and verifies a path
 * at `now` from the certificate through the certificates of chain_pem (may be
 * NULL or empty) to a trust anchor:
 *   - ca_cert_pem (the Private CA's certificate) when not NULL: trusted even
 *     when it is a subordinate (partial chain); trust_store is then unused;
 *   - else the PEM bundle at trust_store (ACM public certificates), or the
 *     system's default verify paths when trust_store is NULL.
 * A root that chain_pem brings along is never trusted because it is there.
 * A certificate that anchors itself is refused ("its own trust anchor"),
 * unless ca_cert_pem is that very certificate alone (a self-signed
 * certificate given as its own anchor, as import does): the chain is empty.
 * Every certificate of chain_pem must be on that path (or be a
 * cross-certificate of a certificate on it, or have issued one: those are
 * accepted but not written); anything else is refused (-EKEYREJECTED, "chain:
 * certificate N (...) is not on the path ..."), so a chain that does not
 * belong to the certificate is never deployed.
 * On success, when ret_chain is not NULL, sets *ret_chain (malloc'd,
 * normalised PEM) to the chain actually verified: the path without the leaf,
 * including the anchor (with a subordinate ca_cert_pem, also the given
 * certificates above it, each checked by signature) — what chain.pem and
 * fullchain.pem must hold. With no chain_pem it is the anchor path alone.
 * On failure returns -EKEYREJECTED (-EBADMSG/-E2BIG for bad input, -EINVAL
 * for an unreadable trust store) and, if ret_reason, a one-line reason
 * (malloc'd) naming what is wrong.
 */
int crypto_verify_issued(const conf_cert *want, EVP_PKEY *key, const char *cert_pem,
                         const char *chain_pem, const char *ca_cert_pem, const char *trust_store,
                         time_t now, char **ret_chain, char **ret_reason);

/* Normalises a PEM list of certificates: each block ends in exactly one
 * newline, nothing but whitespace between blocks, at most max certificates. */
int crypto_pem_normalize_certs(const char *pem, size_t max, char **ret);
/* cert + chain, normalised. chain may be NULL. */
int crypto_build_fullchain(const char *cert_pem, const char *chain_pem, char **ret);
/* fullchain then key (secret: crypto_secret_free). */
int crypto_build_haproxy_bundle(const char *cert_pem, const char *chain_pem, EVP_PKEY *key,
                                char **ret);
/* PKCS#12 with AES-256-CBC/PBKDF2 and SHA-256 MAC (readable by OpenSSL 3). */
int crypto_build_pkcs12(const char *cert_pem, const char *chain_pem, EVP_PKEY *key,
                        const char *passphrase, unsigned char **ret_der, size_t *ret_len);

/* Decrypts an encrypted PKCS#8 PEM (ACM ExportCertificate). Wrong passphrase:
 * -EKEYREJECTED; a key-derivation iteration count over CRYPTO_PKCS8_ITER_MAX
 * (the cost comes with the input): -E2BIG, before any derivation. */
#define CRYPTO_PKCS8_ITER_MAX 1000000
int crypto_decrypt_pkcs8(const char *pem, const char *passphrase, EVP_PKEY **ret);

/*
 * SHA-256, fetched from the default provider once per process (thread-safe);
 * NULL when OpenSSL has none. EVP_sha256() fetches again on every digest it
 * starts (OpenSSL 3's implicit fetch); this one is fetched once.
 */
const EVP_MD *crypto_sha256(void);
