/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Per-certificate state, pending keys and locks, under state_dir (0700):
 *
 *   <state_dir>/certs/<name>.json          state, replaced atomically (0600)
 *   <state_dir>/certs/<name>.lock          flock target (stable file: the
 *                                          JSON is replaced by rename so it
 *                                          cannot carry the lock); holds
 *                                          the holder's pid as text
 *   <state_dir>/keys/<name>.pending.pem    key generated, not yet deployed
 *   <state_dir>/keys/<name>.pem            key in use (reused on renewal)
 *
 * Names must match [A-Za-z0-9._-]{1,128} and not start with '.'.
 * Times are RFC 3339 UTC strings in the file ("2026-11-23T00:30:00Z"),
 * time_t in C, 0 = unset. Unknown fields are ignored on load; a corrupt
 * file is an error naming the file (-EBADMSG), never silently reset.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define STATE_SCHEMA_VERSION 1

typedef enum state_phase {
        STATE_IDLE,
        STATE_KEY_PENDING,
        STATE_REQUESTING,
        STATE_AWAITING_VALIDATION,
        STATE_ISSUING,
        STATE_AWAITING_ISSUE,
        STATE_DEPLOYING,
        STATE_VALID,
        STATE_FAILED,
        _STATE_PHASE_MAX,
} state_phase;

typedef struct cert_state {
        unsigned schema;
        state_phase phase;
        /* in-flight issuance */
        char *idempotency_token;
        time_t token_created;
        char *pending_arn;
        char *pending_key_path;
        char *pending_csr;         /* PEM */
        /* what is deployed */
        char *arn;
        char *serial;
        time_t not_before, not_after;
        char *current_version, *previous_version;
        /* scheduling */
        time_t last_success, last_attempt, next_attempt;
        char *last_error;
        char *last_error_kind;
        unsigned failures;
        bool force_renewal;
        json_t *extra;             /* opaque (ACM renewal_status, DNS records...), owned */
} cert_state;

const char *state_phase_to_string(state_phase p);
/* Returns the phase or -EINVAL. */
int state_phase_from_string(const char *s);

/* Returns true if name is a valid certificate name for file names. */
bool state_name_valid(const char *name);

/* Allocates an empty (idle) state. Returns NULL on OOM. */
cert_state *state_new(void);
void state_free(cert_state *s);
static inline void state_freep(cert_state **s) { state_free(*s); *s = NULL; }

/* Creates state_dir (0700), certs/ and keys/ (0700) when missing. Returns 0/-errno. */
int state_dir_prepare(const char *state_dir);

/*
 * Loads <state_dir>/certs/<name>.json into *ret. Returns 0; -ENOENT when
 * there is none (caller starts with state_new()); -EBADMSG when corrupt
 * (err names the file and the problem); -errno.
 */
int state_load(const char *state_dir, const char *name, cert_state **ret, char *err, size_t errlen);

/* Writes the state atomically (0600, fsync'd). Returns 0/-errno. */
int state_save(const char *state_dir, const char *name, const cert_state *s);

/* Removes the state file. Returns 0 (also when absent)/-errno. */
int state_remove(const char *state_dir, const char *name);

/*
 * Sets *ret to the NULL-terminated strv of certificate names with a state
 * file, sorted. Returns 0/-errno.
 */
int state_list(const char *state_dir, char ***ret);

/* Sets a string field: frees the old value, copies v (NULL clears). Returns 0/-ENOMEM. */
int state_set_string(char **field, const char *v);

/* RFC 3339 helpers. format: buf >= 21 bytes. parse returns 0/-EINVAL. */
char *state_format_time(time_t t, char *buf, size_t len);
int state_parse_time(const char *s, time_t *ret);

/* Keys. which: false = pending, true = current. */
char *state_key_path(const char *state_dir, const char *name, bool current);
/* Writes the key atomically 0600; caller's buffer untouched. Returns 0/-errno. */
int state_key_write(const char *state_dir, const char *name, bool current, const void *pem, size_t len);
/* Reads the key; *ret must be wiped (explicit_bzero) and freed by the caller. */
int state_key_read(const char *state_dir, const char *name, bool current, char **ret, size_t *ret_len);
/* Renames pending -> current (atomic, dir fsync'd). Returns 0/-ENOENT/-errno. */
int state_key_promote(const char *state_dir, const char *name);
/* Deletes a key file; 0 also when absent. */
int state_key_delete(const char *state_dir, const char *name, bool current);

/*
 * Takes the per-certificate lock (flock LOCK_EX on certs/<name>.lock,
 * created 0600). wait=false: -EWOULDBLOCK when another process holds it.
 * On success writes our pid into the file and sets *ret_fd (close it to
 * release). Returns 0/-errno.
 */
int state_lock(const char *state_dir, const char *name, bool wait, int *ret_fd);

/* Sets *ret_pid to the pid written by the current holder. 0/-ENOENT/-EBADMSG. */
int state_lock_holder(const char *state_dir, const char *name, pid_t *ret_pid);
