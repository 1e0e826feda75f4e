/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Deploy transaction: versioned output directories switched by one symlink
 * rename.
 *
 * Layout inside output->dir (names fixed, write them nowhere else):
 *
 *   .versions/<id>/cert.pem       CONF_OUT_CERT            mode
 *   .versions/<id>/chain.pem      CONF_OUT_CHAIN           mode
 *   .versions/<id>/fullchain.pem  CONF_OUT_FULLCHAIN       mode
 *   .versions/<id>/key.pem        CONF_OUT_KEY             key_mode (secret)
 *   .versions/<id>/haproxy.pem    CONF_OUT_HAPROXY_BUNDLE  key_mode (secret)
 *   .versions/<id>/cert.p12       CONF_OUT_PKCS12          key_mode (secret)
 *   current -> .versions/<id>     relative symlink, replaced by rename(2)
 *   cert.pem -> current/cert.pem  (etc.) stable names, relative symlinks,
 *                                 created once and never rewritten
 *
 * Version ids: "<YYYYMMDDTHHMMSSZ>-<hint>" in UTC from clock_now(); hint is
 * the caller's version_hint reduced to [A-Za-z0-9] and at most 16 chars
 * (e.g. a serial prefix), or random hex when NULL/empty; a "-N" suffix is
 * added on collision. Ids therefore sort by time with strcmp().
 *
 * Directory rule: output->dir and missing parents are created 0755 root.
 * Every existing ancestor of output->dir up to "/" must not be a symlink
 * for the last component (output->dir itself is opened O_NOFOLLOW), and
 * must not be group- or world-writable unless it is sticky and root-owned
 * (e.g. /tmp); output->dir itself must be owned by root or the current
 * euid and not group/world-writable. ".versions" and "current" must be a
 * real directory / a symlink pointing to ".versions/<valid id>"; anything
 * else (a symlink planted to /tmp/evil, a regular file) is refused and
 * nothing is written through it. A stable name that exists as a regular
 * file (left by a previous tool) is replaced by an atomic rename; a
 * stable name that is a directory or a symlink to anything other than
 * "current/<file>" is refused.
 *
 * Errors: every function returns 0 or -errno and, when err/errlen is given,
 * writes a one-line operator message naming the path and the fix (e.g.
 * "/etc/ssl/x: no space left on device (ENOSPC) while writing key.pem").
 * On failure the previous version keeps serving and the half-written
 * version directory is removed best-effort.
 */

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"

#define DEPLOY_VERSIONS_DIR ".versions"
#define DEPLOY_CURRENT_LINK "current"
#define DEPLOY_ID_MAX 64

typedef struct deploy_file {
        conf_output_file kind;     /* exactly one bit */
        const void *data;
        size_t len;
        bool secret;               /* key_mode and wiped copies; forced for KEY/HAPROXY_BUNDLE/PKCS12 */
} deploy_file;

typedef struct deploy_result {
        char version[DEPLOY_ID_MAX];   /* the new current version */
        char previous[DEPLOY_ID_MAX];  /* "" when there was none */
} deploy_result;

/* The file name for one conf_output_file bit ("cert.pem"...), NULL if invalid. */
const char *deploy_file_name(conf_output_file kind);

/*
 * Installs a new version holding files[0..n) (kinds must be distinct) and
 * switches output->dir/current to it, then prunes versions beyond
 * output->keep_versions previous ones (never current or the one it
 * replaced). name is the certificate name, for messages only.
 * Sets *ret on success. Returns 0, -EINVAL (bad arguments), -EPERM/-ELOOP
 * (unsafe directory or planted symlink), -ENOSPC, -errno.
 */
int deploy_install(const conf_output *out, const char *name,
                   const deploy_file *files, size_t n, const char *version_hint,
                   deploy_result *ret, char *err, size_t errlen);

/*
 * Switches current back to to_version (NULL: the newest version older than
 * the current one). Returns 0, -ENOENT when no such version, -errno.
 */
int deploy_rollback(const conf_output *out, const char *to_version, char *err, size_t errlen);

/* Sets *ret_id (caller frees) to the current version id. -ENOENT when none. */
int deploy_current(const conf_output *out, char **ret_id);

/*
 * Sets *ret (NULL-terminated strv, oldest first, caller frees with
 * strv_free) to the version ids present. Empty list when none.
 */
int deploy_list_versions(const conf_output *out, char ***ret);

/*
 * Checks what deploy_install() would check about out->dir (every existing
 * ancestor, the directory itself) without creating or writing anything: for
 * a preflight before the first AWS call, and for `check`. Returns 0,
 * -EPERM/-ELOOP/-ENOTDIR (unsafe) or -errno, with err naming the path and
 * the fix.
 */
int deploy_check_dir(const conf_output *out, char *err, size_t errlen);

/*
 * Removes version id (its files and directory) unless it is current
 * (-EBUSY): a revoked version must never be a rollback target. 0 also when
 * it does not exist. -errno otherwise.
 */
int deploy_version_remove(const conf_output *out, const char *id, char *err, size_t errlen);

/*
 * Removes what the agent deployed in out->dir (daemon.on_remove: delete):
 * the stable names that are its symlinks, current, every version, and the
 * directory itself when nothing else is left in it (an operator's own files
 * stay). 0 also when there is nothing; -errno with err otherwise.
 */
int deploy_remove_all(const conf_output *out, char *err, size_t errlen);
