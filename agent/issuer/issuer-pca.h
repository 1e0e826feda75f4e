/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The AWS Private CA issuer's pure parts, exported for tests: the
 * IssueCertificate request, the signing algorithm and what an issued
 * certificate must carry.
 */
#include <jansson.h>
#include <time.h>

#include "conf/conf.h"
#include "engine/engine-issuer.h"

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
 * What a certificate issued for cert must carry. AWS applies ApiPassthrough
 * over the CSR (template > API > CSR): a passthrough Subject.CommonName
 * replaces the common name we asked for, and passthrough
 * Extensions.SubjectAlternativeNames replace the CSR's names. ret->want is a
 * shallow copy of cert with those overrides; its strings are borrowed from
 * cert (which must outlive ret). Free with cert_expect_done().
 * Returns 0 or -ENOMEM.
 */
int issuer_pca_expect(const conf_cert *cert, cert_expect *ret);
