/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The AWS Certificate Manager issuer's pure parts, exported for tests: the
 * RequestCertificate request, DescribeCertificate's answer, whether a
 * certificate is the one the configuration asks for, the operator's hints
 * for ACM's failure reasons, the revocation reasons ACM accepts, the
 * export passphrase, and when a served certificate is described again.
 * issuer-acm.c runs the flow (engine-issuer.h is its contract).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"

/* Tags the agent adds to every certificate it requests, to find it again
 * when its state is lost (a new host from the same image, a wiped
 * /var/lib): the certificate's name and machine_host_id(). */
#define ACM_TAG_NAME "acm-agent:name"
#define ACM_TAG_HOST "acm-agent:host"

/* ACM begins managed renewal 60 days before a certificate expires (public
 * and private alike, "Managed certificate renewal"); a certificate that
 * lives less than 180 days gets a third of its lifetime. */
#define ACM_RENEWAL_WINDOW_SEC (60 * 86400)

/* ExportCertificate's passphrase: PassphraseBlob takes 4-128 bytes and the
 * API documentation allows "any ASCII character except #, $, or %". */
#define ACM_PASSPHRASE_LEN 32

/*
 * The RequestCertificate request for cert (an acm issuer without arn):
 * DomainName (the first dns_name), SubjectAlternativeNames (every name),
 * IdempotencyToken (token), KeyAlgorithm; public certificates:
 * ValidationMethod (DNS or EMAIL; EMAIL with validation_domain adds
 * DomainValidationOptions, one per name) and Options.Export (ENABLED when
 * export, else DISABLED); private ones: CertificateAuthorityArn and no
 * validation; Options.CertificateTransparencyLoggingPreference only when
 * the configuration writes the deprecated key; Tags: the configured ones
 * then acm-agent:name = cert->name and, when host_id is not empty,
 * acm-agent:host = host_id. Returns 0 and a new reference in *ret,
 * -EINVAL (no dns_names, a tracked arn), -ENOMEM.
 */
int issuer_acm_build_request(const conf_cert *cert, const char *token, const char *host_id, json_t **ret);

/* DescribeCertificate's Certificate, the parts the agent uses. */
typedef struct acm_detail {
        char *arn;
        char *status; /* CertificateStatus: PENDING_VALIDATION, ISSUED, ... */
        char *type;   /* AMAZON_ISSUED, PRIVATE, IMPORTED; NULL when absent */
        char *domain_name;
        char **sans;  /* SubjectAlternativeNames, NULL-terminated, never NULL */
        char *serial; /* uppercase hex without colons, NULL before issuance */
        char *key_algorithm;
        char *ca_arn;            /* CertificateAuthorityArn (private) */
        char *export_option;     /* Options.Export: ENABLED / DISABLED, NULL when absent */
        char *failure_reason;    /* FAILED */
        char *revocation_reason; /* REVOKED (SUPERCEDED read as SUPERSEDED) */
        char *eligibility;       /* RenewalEligibility */
        bool in_use;             /* InUseBy not empty */
        time_t created_at, not_before, not_after, revoked_at;
        char *renewal_status; /* RenewalSummary, NULL when there is none */
        char *renewal_reason;
        time_t renewal_updated_at;
        json_t *dvos;         /* DomainValidationOptions (a reference), NULL when absent */
        json_t *renewal_dvos; /* RenewalSummary.DomainValidationOptions (a reference) */
} acm_detail;

/*
 * Parses DescribeCertificate's answer (the whole response object) into
 * *ret. Every string is bounded (ARNs 2048, names 253, enums 64 bytes) and
 * every time is an epoch number (AWS JSON) or an RFC 3339 string.
 * Returns 0; -EBADMSG with *ret_error (malloc'd: which member is wrong)
 * when Certificate, its CertificateArn or its Status is missing or a
 * member has the wrong type or size; -ENOMEM. *ret is set only on success.
 */
int issuer_acm_detail_parse(json_t *resp, acm_detail *ret, char **ret_error);
void acm_detail_done(acm_detail *d);

/* "0a:1B:c3" → "AC3": uppercase hex without colons and leading zeros (the
 * engine's serial, BN_bn2hex, may keep one leading zero). True when a and
 * b are the same number; false when either is NULL. */
bool issuer_acm_serial_equal(const char *a, const char *b);

/*
 * Whether the certificate d is the one cert asks for. A requested
 * certificate: DomainName is the first dns_name, SubjectAlternativeNames
 * are exactly dns_names (case-insensitive, any order), the key algorithm,
 * the CA (none for a public one) and, for a public certificate to export,
 * Options.Export ENABLED. A tracked one (arn): every configured dns_name
 * is in the certificate, the first one is its DomainName. Returns true, or
 * false with *ret_why (malloc'd, may be NULL on OOM) naming the
 * difference.
 */
bool issuer_acm_detail_fits(const acm_detail *d, const conf_cert *cert, char **ret_why);

/*
 * Whether a ListCertificates summary (CertificateSummary) can be a
 * certificate the agent requested for cert: PENDING_VALIDATION or ISSUED,
 * DomainName the first dns_name, the configured key algorithm (summaries
 * spell it "EC-prime256v1"), AMAZON_ISSUED or PRIVATE as configured and,
 * for a public certificate to export, ExportOption ENABLED; never
 * exclude_arn (may be NULL). The tags decide (ListTagsForCertificate).
 */
bool issuer_acm_summary_candidate(json_t *summary, const conf_cert *cert, const char *exclude_arn);

/* True when ListTagsForCertificate's Tags carry acm-agent:name = name and
 * acm-agent:host = host_id; when host_id is empty (no machine id), the
 * name and no host tag at all: another host's certificate is never ours. */
bool issuer_acm_tags_match(json_t *tags, const char *name, const char *host_id);

/*
 * What the operator can do about a FailureReason (FAILED) or a
 * RenewalStatusReason: one sentence, e.g. for CAA_ERROR "a CAA record
 * forbids amazon.com ...". Never NULL (an unknown reason gets a pointer to
 * ACM's troubleshooting guide).
 */
const char *issuer_acm_failure_hint(const char *reason);

/* True when a request that ended FAILED for reason is asked again by the
 * agent on its own: a private certificate (no public quota is spent) that
 * failed for a reason on the CA's side that may pass (the CA briefly not
 * ACTIVE, its quota, a failed request, access being granted). Anything
 * else needs the operator first. */
bool issuer_acm_failure_retryable(const char *reason, bool private_ca);

/*
 * The RevocationReason to send for the agent's reason (the CLI's, PCA's
 * spelling: KEY_COMPROMISE, CERTIFICATE_AUTHORITY_COMPROMISE, SUPERSEDED,
 * ...). CERTIFICATE_AUTHORITY_COMPROMISE is ACM's CA_COMPROMISE; the old
 * SUPERCEDED is sent as SUPERSEDED (the 2026 model lists both). A public
 * certificate can be revoked for UNSPECIFIED, AFFILIATION_CHANGED,
 * SUPERSEDED and CESSATION_OF_OPERATION only (ACM user guide, "Revoke a
 * public certificate"). Returns 0 and *ret (static), -EINVAL for a reason
 * ACM does not know, -EPERM for one it refuses for a public certificate.
 */
int issuer_acm_revocation_reason(const char *reason, bool private_ca, const char **ret);

/* The reasons a public certificate can be revoked for, for messages:
 * "unspecified, affiliation-changed, superseded, cessation-of-operation". */
const char *issuer_acm_public_revocation_reasons(void);

/*
 * A fresh passphrase for ExportCertificate into buf (ACM_PASSPHRASE_LEN
 * characters and a NUL): printable ASCII without space, quotes, backslash
 * and the three characters the documentation forbids (#, $, %). Returns 0
 * or -errno from the random source (buf is wiped then).
 */
int issuer_acm_passphrase(char buf[static ACM_PASSPHRASE_LEN + 1]);

/* When ACM begins renewing a certificate valid from not_before to
 * not_after: ACM_RENEWAL_WINDOW_SEC before it expires, or a third of its
 * lifetime before when that is shorter. */
time_t issuer_acm_window_start(time_t not_before, time_t not_after);

#define ACM_PENDING_POLL_SEC 1800

/* What the next description of a served certificate depends on. */
typedef struct acm_watch_input {
        time_t last; /* the last DescribeCertificate (0: never) */
        time_t not_before, not_after;
        uint64_t poll_interval; /* daemon.acm_poll_interval, seconds (0: 6 h) */
        uint64_t hash;          /* a per-host, per-certificate number (issuer_acm_hash) */
        bool renewal_pending;   /* RenewalSummary PENDING_AUTO_RENEWAL or PENDING_VALIDATION */
} acm_watch_input;

/*
 * When the served certificate is described next, after in->last: every
 * poll_interval far from expiry, but not later than the first hour (or
 * poll_interval) of ACM's renewal window, at a moment of that hour that
 * depends on the hash; inside the window (and after expiry) every
 * min(poll_interval, 1 h); while a renewal is pending every
 * min(poll_interval, ACM_PENDING_POLL_SEC = 30 min). Each interval is spread per host and
 * certificate by the hash over [0.8, 1.2) of itself, so a fleet that
 * started together does not describe together (DescribeCertificate: 10/s
 * for the whole account).
 */
time_t issuer_acm_next_describe(const acm_watch_input *in);

/* A per-host, per-certificate number for the spreads above (FNV-1a). */
uint64_t issuer_acm_hash(const char *host_id, const char *name);

/*
 * E-mail validation, for status and the pending_validation hook: from
 * DomainValidationOptions, "DOMAIN EMAIL a@x,b@x" lines (one per domain
 * that has ValidationEmails, addresses as ACM lists them, escaped) into
 * *ret (malloc'd, "" when none). Returns 0 or -ENOMEM.
 */
int issuer_acm_emails_format(json_t *dvos, char **ret);
