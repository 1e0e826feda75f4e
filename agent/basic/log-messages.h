/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * log-messages: the fixed journal MESSAGE_IDs of acm-agent's events.
 * Each has an entry in units/acm-agent.catalog (installed to
 * $(prefix)/lib/systemd/catalog) that says what happened and what to do;
 * `journalctl -x` shows it, `journalctl MESSAGE_ID=<id>` finds every event
 * of a kind. The IDs never change once released (monitoring matches them).
 *
 * Use with log_struct(), as the first field:
 *   const char *f[] = { LOG_MESSAGE_RENEWED, "SERIAL=...", "NOT_AFTER=...", NULL };
 *   log_struct(LOG_NOTICE, name, f, "renewed, serial %s", serial);
 *
 * The catalog text substitutes these fields; the lines below say which
 * fields each message must carry (CERT_NAME= comes from log_struct's cert
 * argument). Times are RFC 3339 UTC (clock_format_rfc3339).
 */

/* A first certificate was issued and deployed.
 * CERT_NAME, ISSUER (pca|acm|import), SERIAL, NOT_AFTER, CERT_ARN (when known) */
#define LOG_MESSAGE_ISSUED_STR "620602d4c0df483b9f778b60f8d6d9fd"
#define LOG_MESSAGE_ISSUED "MESSAGE_ID=" LOG_MESSAGE_ISSUED_STR

/* A certificate was renewed and the new one deployed and reloaded.
 * CERT_NAME, ISSUER, SERIAL, NOT_AFTER, OLD_SERIAL, CERT_ARN (when known) */
#define LOG_MESSAGE_RENEWED_STR "ff5c825b35d64d7aa289a65902ba1e2b"
#define LOG_MESSAGE_RENEWED "MESSAGE_ID=" LOG_MESSAGE_RENEWED_STR

/* An attempt to issue, renew, deploy or reload failed; the agent retries.
 * CERT_NAME, ISSUER, ERROR_KIND (aws|validation|deploy|reload|io|config),
 * ERROR (one line, control characters escaped), AWS_ERROR (AWS's __type,
 * when from AWS), FAILURES (consecutive), NEXT_ATTEMPT, NOT_AFTER (of the
 * certificate still served, empty when none) */
#define LOG_MESSAGE_FAILED_STR "7f1329eab1b444988ada6e344a619683"
#define LOG_MESSAGE_FAILED "MESSAGE_ID=" LOG_MESSAGE_FAILED_STR

/* The served certificate expires soon and renewal has not succeeded
 * (in_danger). CERT_NAME, ISSUER, SERIAL, NOT_AFTER, DAYS_LEFT, ERROR (the
 * last failure, when any) */
#define LOG_MESSAGE_EXPIRING_STR "1853016b588c4d3281ee00faeb0cb303"
#define LOG_MESSAGE_EXPIRING "MESSAGE_ID=" LOG_MESSAGE_EXPIRING_STR

/* An ACM certificate waits for DNS validation (records not published or not
 * yet seen by ACM). CERT_NAME, CERT_ARN, DNS_PROVIDER (route53|exec|manual),
 * VALIDATION_RECORDS (one "NAME CNAME VALUE" per record, '; '-separated) */
#define LOG_MESSAGE_VALIDATION_PENDING_STR "367c703f445446d0b59ed5bb775f1f61"
#define LOG_MESSAGE_VALIDATION_PENDING "MESSAGE_ID=" LOG_MESSAGE_VALIDATION_PENDING_STR

/* A certificate was revoked (acm-agent revoke). CERT_NAME, ISSUER, SERIAL,
 * CERT_ARN, REVOKE_REASON */
#define LOG_MESSAGE_REVOKED_STR "2113bec19e084ed2b7e66308851f61fe"
#define LOG_MESSAGE_REVOKED "MESSAGE_ID=" LOG_MESSAGE_REVOKED_STR

/* A changed configuration was rejected; the running one stays. CONFIG_FILE
 * (the main file), CONFIG_ERRORS (count), ERROR (the first error as
 * FILE:LINE:COLUMN: message) */
#define LOG_MESSAGE_CONFIG_REJECTED_STR "a4cbcfe430c241a2b95eee9f3ba7455a"
#define LOG_MESSAGE_CONFIG_REJECTED "MESSAGE_ID=" LOG_MESSAGE_CONFIG_REJECTED_STR

/* A changed configuration was loaded. CONFIG_FILE, TRIGGER (inotify|sighup),
 * CERTS_ADDED, CERTS_REMOVED, CERTS_CHANGED (counts), CERTS (the total) */
#define LOG_MESSAGE_CONFIG_RELOADED_STR "b0dc18a67a97452c9cb6469b494ced67"
#define LOG_MESSAGE_CONFIG_RELOADED "MESSAGE_ID=" LOG_MESSAGE_CONFIG_RELOADED_STR
