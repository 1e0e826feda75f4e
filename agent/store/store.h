/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * store: everything the agent keeps under state_dir, one directory per
 * certificate so that no two certificates' files can collide whatever
 * their names (names are [A-Za-z0-9._-]{1,128}, never starting with '.'):
 *
 *   <state_dir>/                      0700, a real directory owned by the
 *                                     agent's euid (refused otherwise)
 *   <state_dir>/certs/                0700
 *   <state_dir>/certs/<name>/         0700
 *   <state_dir>/certs/<name>/state.json       the state (store-state.h), 0600,
 *                                             replaced atomically
 *   <state_dir>/certs/<name>/lock             flock target, 0600; the
 *                                             holder's pid as text
 *   <state_dir>/certs/<name>/key.pem          the key served (store-keys.h)
 *   <state_dir>/certs/<name>/key.pending.pem  a key made for a request
 *   <state_dir>/certs/<name>/<SERIAL>.crt     a certificate the state refers to
 *                                             (served, previous, pending) with
 *                                             its verified chain, 0644; written
 *                                             once, removed when no longer
 *                                             referred to
 *
 * Temporary files are named ".acm-agent-tmp-*" inside the directory of their
 * target; a name starting with '.' is never a store file, so
 * store_clean_temp() may remove such leftovers of a killed run.
 *
 * Layout 1 (acm-agent 0.1: certs/<name>.json, certs/<name>.lock,
 * keys/<name>.pem, keys/<name>.pending.pem) is migrated by store_migrate().
 *
 * Functions that write fsync the file and its directory and may block on
 * the disk: the engine calls them from worker threads (they touch nothing
 * but the files). Errors: 0 or -errno; where an err buffer is taken, a
 * one-line operator message naming the path is written to it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "store/store-state.h"

#define STORE_TEMP_PREFIX ".acm-agent-tmp-"

/* True when name can be a certificate's directory name (conf_cert_name_valid). */
bool store_name_valid(const char *name);

/*
 * Creates (0700) or checks state_dir and state_dir/certs: each must be a
 * real directory (not a symlink), owned by the euid, and not group- or
 * world-writable; the parent of state_dir must not be writable by others
 * unless sticky. Refuses a state_dir that is "/" or a regular file.
 * Returns 0, -ENOTDIR, -EPERM, -ELOOP, -errno; err gets the reason and the
 * fix ("chmod 0700 /var/lib/acm-agent").
 */
int store_prepare(const char *state_dir, char *err, size_t errlen);

/* "<state_dir>/certs/<name>" (malloc'd), NULL on OOM or an invalid name. */
char *store_cert_dir(const char *state_dir, const char *name);

/*
 * Loads the state of name. Returns 0 and *ret; -ENOENT when there is none
 * (neither layout); -EBADMSG / -EPROTONOSUPPORT with *ret_error (malloc'd,
 * naming the file and the fix); -errno for I/O (also with *ret_error).
 * A state that exists only in layout 1 is read from there (and converted
 * in memory) so `status` works before the first run migrated it.
 * Takes no lock: readers see either the old or the new file.
 */
int store_load(const char *state_dir, const char *name, cert_state **ret, char **ret_error);

/* Writes text (from cert_state_to_text()) as name's state.json atomically
 * (0600, fsync'd, directory fsync'd), creating the certificate directory.
 * Thread-safe. Returns 0 or -errno. */
int store_save_text(const char *state_dir, const char *name, const char *text);

/* Serialises and saves (both steps above) on the calling thread. */
int store_save(const char *state_dir, const char *name, const cert_state *s);

/*
 * Takes name's lock (flock LOCK_EX on certs/<name>/lock, creating the
 * directory). wait=false: -EWOULDBLOCK when another process holds it.
 * Writes our pid into the file. Sets *ret_fd (close it to release).
 */
int store_lock(const char *state_dir, const char *name, bool wait, int *ret_fd);

/* The pid written by the current holder. 0, -ENOENT, -EBADMSG. */
int store_lock_holder(const char *state_dir, const char *name, pid_t *ret_pid);

/*
 * Migrates name from layout 1 when only layout 1 exists: creates the
 * directory, moves the keys and rewrites the state in schema 2, then
 * removes the old files. The caller holds name's (new) lock. In layout 1
 * keys/<name>.pending.pem of "web" is also the served key of a certificate
 * named "web.pending": the pending key is taken only when the old state
 * records one (pending_key_path). Returns 1 when migrated, 0 when there
 * was nothing to migrate, -errno (err says what and where).
 */
int store_migrate(const char *state_dir, const char *name, char *err, size_t errlen);

/* Removes leftover temporary files (STORE_TEMP_PREFIX, and the ".tmp-"
 * files of layout 1) from name's directory; the caller holds the lock.
 * Returns the number removed or -errno. */
int store_clean_temp(const char *state_dir, const char *name);

/*
 * The certificate of serial (uppercase hex) with its verified chain:
 * pem_save writes <SERIAL>.crt (cert then chain) atomically unless it
 * exists (the content of a serial never changes); pem_load reads it back
 * (*ret_chain NULL when there was no chain); pem_exists tells without
 * reading. pem_gc removes every <SERIAL>.crt whose serial is not in keep
 * (NULL-terminated; NULL entries skipped). Thread-safe. 0 or -errno
 * (-ENOENT: none; -EINVAL: not a serial).
 */
int store_pem_save(const char *state_dir, const char *name, const char *serial, const char *cert_pem,
                   const char *chain_pem);
int store_pem_load(const char *state_dir, const char *name, const char *serial, char **ret_cert, char **ret_chain);
bool store_pem_exists(const char *state_dir, const char *name, const char *serial);
int store_pem_gc(const char *state_dir, const char *name, const char *const *keep, size_t n_keep);

/* Removes everything the store keeps for name (its directory, keys
 * included, wiped before unlinking). The caller holds the lock. 0 or -errno. */
int store_remove(const char *state_dir, const char *name);

/* The names that have a state (either layout), sorted, NULL-terminated
 * (free with strv_free). Returns 0 or -errno. */
int store_list(const char *state_dir, char ***ret);

/* A descriptor of state_dir/certs for store_load_at() (O_DIRECTORY,
 * O_CLOEXEC; the caller closes it), or -errno. */
int store_certs_open(const char *state_dir);

/* store_load() with the state file opened relative to certs_fd
 * (store_certs_open() of state_dir; AT_FDCWD: as store_load()). Messages
 * name the full path. */
int store_load_at(int certs_fd, const char *state_dir, const char *name, cert_state **ret, char **ret_error);

/* store_list() without looking into each directory for a state file: the
 * names that may have one, for a reader that calls store_load() on each
 * (and learns that anyway). */
int store_list_candidates(const char *state_dir, char ***ret);
