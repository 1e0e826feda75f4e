/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The persisted state of one certificate: the record the engine's machine
 * changes (engine-machine.c is the only writer) and `status` reads.
 *
 * A certificate is always in exactly one phase. Stable phases wait for
 * their wake time; in-flight phases were interrupted in the middle of a step
 * and are resumed at start-up:
 *
 *   stable     NEW       nothing issued, nothing in flight
 *              VALID     served; wake_at is the issuer's next watch (0: none);
 *                        the renewal time is derived (engine-sched.h)
 *              BACKOFF   the last attempt failed; wake_at is the next attempt
 *              WAITING   waiting on something outside the agent (DNS,
 *                        validation, an operator): wake_at and wait_reason
 *              REVOKED   revoked without a replacement (`revoke --no-replace`);
 *                        only an operator's `renew NAME` acts on it
 *   in flight  KEY       a key is being made for a new request
 *              REQUEST   the request's idempotency token is persisted; the
 *                        request may have reached AWS
 *              VALIDATE  the request is accepted; domain validation runs (acm)
 *              ISSUE     the CA is issuing (pca RequestInProgress, acm PENDING)
 *              FETCH     fetching / exporting the issued certificate
 *              DEPLOY    a verified certificate (pending) is being written
 *              RELOAD    deployed (served = new, previous = rollback target);
 *                        the servers' reload is pending. wake_at > 0 here
 *                        means a failed reload is retried at that time.
 *
 * What an issuer needs to resume (tokens, ARNs, validation records) is in
 * its own typed part, which the store keeps as an opaque JSON object
 * (`issuer`); the issuer (engine-issuer.h) parses and writes it.
 *
 * Times are time_t (0 = unset), RFC 3339 UTC strings in the file.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "basic/macro.h"

/* 1: the single-file layout up to 0.1 (certs/<name>.json, keys/<name>.pem);
 * 2: one directory per certificate, phases above, typed issuer part. */
#define STORE_SCHEMA_VERSION 2
#define STORE_STATE_MAX (1024u * 1024u)

typedef enum cert_phase {
        PHASE_NEW,
        PHASE_VALID,
        PHASE_BACKOFF,
        PHASE_WAITING,
        PHASE_REVOKED,
        PHASE_KEY,
        PHASE_REQUEST,
        PHASE_VALIDATE,
        PHASE_ISSUE,
        PHASE_FETCH,
        PHASE_DEPLOY,
        PHASE_RELOAD,
        _PHASE_MAX,
        _PHASE_INVALID = -EINVAL,
} cert_phase;

/* "new", "valid", "backoff", "waiting", "revoked", "key", "request",
 * "validate", "issue", "fetch", "deploy", "reload"; NULL out of range. */
const char *cert_phase_to_string(cert_phase p);
cert_phase cert_phase_from_string(const char *s);
/* True for KEY .. RELOAD. */
bool cert_phase_in_flight(cert_phase p);

/* One certificate as deployed (served / previous) or about to be (pending). */
typedef struct cert_version {
        char *serial;            /* uppercase hex, no colons; NULL = empty record */
        char *arn;               /* the issuer's ARN of this certificate, may be NULL */
        char *version;           /* the output directory's version id, NULL when not deployed */
        time_t not_before, not_after;
        /* The certificate and its verified chain (anchor included; NULL when
         * none), in memory only when known or loaded: the store keeps them
         * in a file of their own per serial (store_pem_*), not in the state
         * text, so reading a state stays cheap. */
        char *cert_pem;
        char *chain_pem;
} cert_version;

typedef struct cert_state {
        cert_phase phase;
        time_t wake_at;
        char *wait_reason;       /* WAITING: why, for the operator */

        cert_version served;     /* what the output directory serves */
        cert_version previous;   /* RELOAD: the rollback target (serial NULL: none) */
        cert_version pending;    /* DEPLOY: verified, not yet written */

        /* What the served (or pending) certificate was made for: hex digests
         * of the settings that need a new certificate (names, key, issuer)
         * or a new deploy (output, reload targets) when they change. */
        char *issued_for;
        char *deployed_for;

        time_t last_success, last_attempt;
        unsigned failures;
        char *last_error, *last_error_kind;
        bool force_renewal;      /* an operator asked for a renewal that has not succeeded yet */

        char *revoked_serial;    /* the last certificate revoked by `revoke`, for status */
        char *revoke_reason;     /* AWS's RevocationReason, for status */
        time_t revoked_at;
        char *revoked_version;   /* its version in the output directory: removed once replaced */
        char *revoke_request;    /* revoke asked with this reason, AWS's answer not saved yet */
        bool revoke_request_no_replace;  /* ... with --no-replace */

        char *issuer_type;       /* "pca", "acm", "import": whose part `issuer` is */
        json_t *issuer;          /* the issuer's typed part as JSON, owned; NULL when none */
} cert_state;

/* A new NEW state. NULL on OOM. */
cert_state *cert_state_new(void);
cert_state *cert_state_free(cert_state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(cert_state *, cert_state_free);
/* Deep copy. NULL on OOM. */
cert_state *cert_state_copy(const cert_state *s);

void cert_version_done(cert_version *v);
/* Deep copy of src into *dst (dst's old contents freed). 0 or -ENOMEM. */
int cert_version_copy(cert_version *dst, const cert_version *src);
/* Moves src into *dst (dst's old contents freed) and empties src. */
void cert_version_move(cert_version *dst, cert_version *src);

/* Sets a string field: frees the old value, copies v (NULL clears). 0 or -ENOMEM. */
int state_set_string(char **field, const char *v);

/*
 * Serialises s as the state file's JSON text (schema STORE_SCHEMA_VERSION,
 * keys sorted, 2-space indent). Returns 0 and a malloc'd string, -EINVAL
 * for an invalid phase, -ENOMEM.
 */
int cert_state_to_text(const cert_state *s, char **ret);

/*
 * Parses a state file's text (len bytes, need not be NUL-terminated) of
 * schema 1 or 2 into a new state. A schema-1 document (what acm-agent 0.1
 * wrote) is migrated: its phases map to the new ones, its PCA fields
 * (idempotency_token, token_created, pending_csr, pending_arn) become the
 * "pca" issuer part, extra.reload_pending/extra.previous become RELOAD with
 * its previous version. Unknown fields are ignored.
 * Errors: -EBADMSG (not JSON, wrong type or value; *ret_error says which
 * field, with line and column for syntax errors, never quoting the input),
 * -EPROTONOSUPPORT (a newer schema), -ENOMEM. ret_error may be NULL;
 * otherwise it is set (malloc'd) on -EBADMSG/-EPROTONOSUPPORT.
 */
int cert_state_from_text(const char *text, size_t len, cert_state **ret, char **ret_error);

/* RFC 3339 UTC helpers ("2026-11-23T00:30:00Z"). format: buf >= 21 bytes,
 * returns buf or NULL. parse takes exactly the form format writes (20
 * bytes, two-digit fields, "T" and "Z", a real date, seconds 00-59) and
 * returns 0, or -EINVAL for anything else (*ret is not touched). */
char *state_format_time(time_t t, char *buf, size_t len);
int state_parse_time(const char *s, time_t *ret);

/*
 * For the issuers' parts of a state (issuer_ops.state_load): reads
 * o[key] into *field when it is present and not null, else leaves *field
 * alone and returns 0. A string must be of min to max bytes (the old value
 * of *field is freed); a time an RFC 3339 string. Otherwise -EBADMSG and
 * *ret_error (malloc'd) says which key and what it must be:
 * "\"KEY\" is not a string of MIN to MAX characters", "\"KEY\" is not an
 * RFC 3339 time". -ENOMEM.
 */
#define STATE_PART_MAX (64u * 1024u) /* a string of an issuer's part: tokens, ARNs, a CSR */
int state_part_string(json_t *o, const char *key, size_t min, size_t max, char **field, char **ret_error);
int state_part_time(json_t *o, const char *key, time_t *field, char **ret_error);
