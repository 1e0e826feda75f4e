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
 * Directory rule (sshd's StrictModes): the path to output->dir is walked
 * from "/" one component at a time and no symlink is ever followed
 * (openat2(RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH) where the kernel has it,
 * O_NOFOLLOW|O_DIRECTORY otherwise, the same checks either way); missing
 * components are created 0755 (exactly: the umask never matters). Every
 * ancestor must be owned by root or the agent's euid and not group- or
 * world-writable unless it is sticky and root-owned (e.g. /tmp);
 * output->dir, ".versions", every version directory and the "current"
 * symlink must be owned by root or the euid and not group/world-writable.
 * "current" must point to ".versions/<valid id>"; anything else (a symlink
 * planted to /tmp/evil, a regular file, a directory owned by an unprivileged
 * user) is refused with -EPERM/-ELOOP/-ENOTDIR and a message naming the path
 * and the fix, and nothing is written through it. A stable name that is a
 * symlink to anything other than "current/<file>", or a directory, is
 * refused.
 *
 * An operator's file: a regular file found where a stable name goes (left
 * by hand or by another tool) is never destroyed: it is kept aside in a
 * directory of its own, ".versions/<YYYYMMDDTHHMMSSZ>-operator/" (0700,
 * hard-linked, renamed when a link is impossible), before the stable
 * symlink replaces the name atomically; deploy_result.notice says so (the
 * caller logs it). Kept-aside directories are not versions: never listed,
 * pruned or rolled back to.
 *
 * Temporary names: every temporary (a new version directory while it is
 * written, a symlink before its rename) is named TEMP_FILE_PREFIX
 * (".acm-agent-tmp-") + something; a new version appears under its id only
 * once complete (renameat2 RENAME_NOREPLACE), so a kill leaves temporaries
 * that deploy_clean_temp() removes, never a half version.
 *
 * Modes never depend on the caller's umask: directories are made with
 * mkdirat_mode(), files created 0000 then fchown'ed and fchmod'ed before any
 * byte is written.
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
        char notice[1024];             /* "" or a sentence for the caller to log at notice level:
                                        * the operator's files kept aside, and where */
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

/* Sets *ret_id (caller frees) to the current version id. -ENOENT when none.
 * The tree is walked and checked as for an install. */
int deploy_current(const conf_output *out, char **ret_id);

/*
 * deploy_current() without the walk: one readlink(2) of out->dir/current,
 * for deciding whether anything needs doing (a thousand certificates on
 * every pass). A link that is not "<versions>/<id>" counts as none
 * (-ENOENT). Nothing is written on the strength of this answer: every
 * write goes through deploy_install(), which checks the tree.
 */
int deploy_current_peek(const conf_output *out, char **ret_id);

/*
 * deploy_current_peek() for a caller that peeks into many outputs in a row
 * (a thousand in a pass, most of them under one output_root): d keeps the
 * last output's parent directory open, and an output in the same parent
 * is read as "NAME/current" relative to it, not walked from "/" again.
 * Start d with DEPLOY_PEEK_DIR_INIT, end it with deploy_peek_dir_done()
 * once the run of peeks is over (a directory renamed later is not seen
 * through a stale descriptor). One thread per d.
 */
typedef struct deploy_peek_dir {
        char *parent;  /* the directory fd is open on (fd < 0: it could not be opened) */
        int fd;
} deploy_peek_dir;
#define DEPLOY_PEEK_DIR_INIT { .parent = NULL, .fd = -1 }
int deploy_current_peek_in(deploy_peek_dir *d, const conf_output *out, char **ret_id);
void deploy_peek_dir_done(deploy_peek_dir *d);

/*
 * Sets *ret (NULL-terminated strv, oldest first, caller frees with
 * strv_free) to the version ids present (kept-aside "-operator" directories
 * and temporaries are not versions). Empty list when none.
 */
int deploy_list_versions(const conf_output *out, char ***ret);

/*
 * Removes version id (its directory and the files in it) when it is not the
 * current one, e.g. a revoked certificate's version, so it can never be a
 * rollback target. The tree is checked as for an install. Returns 0,
 * -EBUSY (id is current: nothing removed), -ENOENT (no such version),
 * -EINVAL (not a version id), -EPERM/-ELOOP (unsafe tree), -errno; err
 * names the path.
 */
int deploy_version_remove(const conf_output *out, const char *id, char *err, size_t errlen);

/*
 * The safety checks of deploy_install() without creating or writing
 * anything: every existing component of output->dir (owners, modes, no
 * symlink), .versions, every version directory, current, and the stable
 * names output->files selects (a regular file there is fine: it would be
 * kept aside). Missing parts are fine (an install creates them). For a
 * preflight before the first AWS call and for `check`. Returns 0, or the
 * error deploy_install() would return, with the same message in err.
 */
int deploy_check_dir(const conf_output *out, char *err, size_t errlen);

/*
 * Removes what the agent deployed in out->dir (daemon.on_remove: delete):
 * the stable names that are its symlinks, current, every version, and the
 * directory itself when nothing else is left in it (an operator's own files
 * and the ones kept aside stay). 0 also when there is nothing; -errno with
 * err otherwise.
 */
int deploy_remove_all(const conf_output *out, char *err, size_t errlen);

/*
 * Removes the temporaries a kill may have left in output->dir (symlinks),
 * in .versions (half-written version directories) and in each version
 * directory: only names starting with TEMP_FILE_PREFIX, which no real file
 * of the tree has. The tree is checked first (nothing is removed through a
 * planted symlink). Returns the number of entries removed (0 when
 * output->dir does not exist), or -errno with err set.
 */
int deploy_clean_temp(const conf_output *out, char *err, size_t errlen);
