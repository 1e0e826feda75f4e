/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The import issuer's pure parts, exported for tests: reading the source
 * files (bounded, regular files only, never blocking), their content
 * fingerprint, ACM's import rules checked locally, and the ImportCertificate
 * request.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"

/* The bounds of ImportCertificate (2026 acm model): CertificateBodyBlob,
 * PrivateKeyBlob (the documented 5 KB); the chain is bounded by the agent's
 * own PEM limit (the model allows 2 MiB), the OCSP URL by the documented
 * rule; TagList holds at most 50 tags. */
#define IMPORT_CERT_MAX 32768u
#define IMPORT_KEY_MAX 5120u
#define IMPORT_CHAIN_MAX (64u * 1024u)
#define IMPORT_OCSP_URL_MAX 1000u
#define IMPORT_TAGS_MAX 50u

/* The tags the agent adds to a first import (and looks for when it must
 * find a certificate an interrupted import may have created). */
#define IMPORT_TAG_NAME "acm-agent:name"
#define IMPORT_TAG_HOST "acm-agent:host"

typedef enum import_file {
        IMPORT_FILE_CERT,
        IMPORT_FILE_KEY,
        IMPORT_FILE_CHAIN,
        _IMPORT_FILE_MAX,
} import_file;

/* The source files of an import certificate, as read, then as checked. */
typedef struct import_source {
        /* issuer_import_read() */
        char fingerprint[65];      /* SHA-256 (lowercase hex) of cert + key + chain contents */
        time_t changed_at;         /* the newest mtime/ctime of the files and of the links to them */
        char *raw[_IMPORT_FILE_MAX];   /* contents (the key's is secret), NULL: no chain */
        size_t raw_len[_IMPORT_FILE_MAX];
        /* issuer_import_check() */
        bool checked;
        char *cert_pem;            /* the certificate, one PEM block */
        char *chain_pem;           /* the chain's certificates, PEM; NULL without a chain file */
        char *key_pem;             /* the key as unencrypted PKCS#8 PEM: what ACM gets (secret) */
        EVP_PKEY *key;
        char *serial;              /* uppercase hex */
        char *serial_colon;        /* "0a:1b:..." as ACM writes it */
        time_t not_before, not_after;
        const char *key_algorithm; /* ACM's KeyAlgorithm: "RSA_2048", "EC_prime256v1", ... */
        char *anchor_pem;          /* the trust anchor a copy into output.dir is verified against:
                                    * the self-signed root that ends the given chain (or the
                                    * self-signed certificate itself); NULL: the system's store */
} import_source;

import_source *issuer_import_source_free(import_source *s);
static inline void issuer_import_source_freep(import_source **s) {
        issuer_import_source_free(*s);
}

/*
 * Reads the cert, key and chain files of c (symbolic links followed, as
 * certbot's live/ directory needs): each must be a regular file — a FIFO, a
 * device, a socket or a directory is refused before it is opened, so
 * nothing can block — of at most its bound (cert 32768, key 5120, chain
 * 65536 bytes). Computes the fingerprint and changed_at. Returns 0 and
 * *ret, or -errno with *ret_error (malloc'd, naming the file and what is
 * wrong, with the fix); -ENOMEM.
 */
int issuer_import_read(const conf_issuer_import *c, import_source **ret, char **ret_error);

/*
 * Checks s (from issuer_import_read) against ACM's import rules at now and
 * fills its checked fields: the files are PEM only (whitespace outside the
 * blocks, no binary); cert holds exactly one certificate, X.509 version 3,
 * with a non-empty Issuer, valid at now (Not Before <= now < Not After),
 * whose key is one ACM imports (RSA 1024/2048/3072/4096, EC P-256/384/521)
 * and of the family its issuer signed it with; an OCSP URL in its AIA of
 * at most 1000 characters; key holds one unencrypted private key (an EC
 * PARAMETERS block before it is allowed) that matches the certificate;
 * chain holds PEM certificates only (at most 10), and they are this
 * certificate's chain (the path from it up to the chain's last certificate
 * verifies). When cert->output.configured, also that the copy would pass
 * the deploy's verification: names, and the chain up to the system's trust
 * store or the self-signed root the chain ends in. The raw key is wiped.
 * Returns 0, -EKEYREJECTED/-EBADMSG with *ret_error (malloc'd: the file,
 * what is wrong, the rule it breaks and the fix), -ENOMEM.
 */
int issuer_import_check(import_source *s, const conf_cert *cert, time_t now, char **ret_error);

/* The tags of a first import: the configured ones plus acm-agent:name and
 * (when host_id is not empty) acm-agent:host. Refuses (-EINVAL with
 * *ret_error) more than 50 in all or a configured key the agent sets. */
int issuer_import_tags(const conf_cert *cert, const char *host_id, json_t **ret, char **ret_error);

/*
 * The ImportCertificate request for s: Certificate, PrivateKey and
 * CertificateChain as base64 blobs; CertificateArn when arn is not NULL
 * (a re-import: no tags, ACM refuses them), else the tags. Returns 0 and a
 * new reference (it holds the key: wipe it with issuer_import_request_wipe
 * before dropping it), -EINVAL with *ret_error for bad tags, -ENOMEM.
 */
int issuer_import_request(const import_source *s, const conf_cert *cert, const char *arn, const char *host_id,
                          json_t **ret, char **ret_error);

/* Overwrites the PrivateKey member of an ImportCertificate request in place
 * and drops the reference. Accepts NULL; returns NULL. */
json_t *issuer_import_request_wipe(json_t *req);

/* The delay (seconds) before retrying an ImportCertificate that answered
 * ConflictException for the n-th time (n >= 1): 2, 4, 8, ... up to 30;
 * 0 when no retry is left (more than IMPORT_CONFLICT_RETRIES). */
#define IMPORT_CONFLICT_RETRIES 4u
unsigned issuer_import_conflict_delay(unsigned n);
