/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * daemon-confwatch: inotify on the configuration, and on the files the
 * import issuer serves.
 *
 * Both watch DIRECTORIES, never the files themselves, so every way a file
 * changes is seen: written in place, replaced by rename (editors,
 * config management, `sed -i`), created empty then written, deleted, a
 * symlink re-pointed (certbot's live/NAME/). A watched directory that is
 * deleted is replaced by a watch on its nearest existing ancestor until it
 * comes back, so a directory deleted and recreated keeps working. Events are
 * debounced: the callback runs once, `debounce` after the last relevant
 * event, and at the latest 10 x debounce after the first one of a burst (a
 * file that never stops changing still gets reloaded). An inotify queue
 * overflow counts as a change of everything.
 *
 * Names that are never configuration are ignored: editor swap, backup and
 * lock files (*.swp, *.swo, *.swx, *~, .#*, #*#).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"

#define DAEMON_CONFWATCH_DEBOUNCE_DEFAULT (500 * USEC_PER_MSEC)
#define DAEMON_CONFWATCH_DEBOUNCE_MAX (10 * USEC_PER_SEC)
/* At most this many directory watches per watcher (-E2BIG beyond). */
#define DAEMON_CONFWATCH_MAX_DIRS 1024

/*
 * What the configuration is made of. Paths and patterns are absolute. The
 * relevant files are: main_path, certs_dir/ *.yaml, whatever matches an
 * include glob (glob(3) syntax, as conf_load expands it: a leading dot is
 * never matched by a wildcard), and files (every file read: their symlink
 * chains are followed, so a configuration file that is a symlink into another
 * directory is watched at its target too).
 */
typedef struct daemon_confwatch_spec {
        const char *main_path;
        const char *certs_dir;            /* NULL: none */
        const char *const *include_globs; /* NULL-terminated; NULL: none */
        const char *const *files;         /* NULL-terminated; NULL: none (conf->files) */
} daemon_confwatch_spec;

typedef struct daemon_confwatch daemon_confwatch;

/*
 * Called on the loop once per debounced burst of relevant changes: reload
 * the configuration, then daemon_confwatch_rearm() with its new spec. error
 * is 0, or -errno when a directory could not be watched since the last call
 * (e.g. -ENOSPC: fs.inotify.max_user_watches): changes there may go unseen;
 * the caller logs it (the call is still a reason to reload).
 */
typedef void (*daemon_confwatch_handler)(daemon_confwatch *w, int error, void *userdata);

/*
 * Starts watching spec's directories on loop e. debounce_usec 0 means
 * DAEMON_CONFWATCH_DEBOUNCE_DEFAULT; larger than DAEMON_CONFWATCH_DEBOUNCE_MAX
 * is capped. Nothing is called back for the files as they are now. Returns 0
 * and sets *ret; -EINVAL (spec without an absolute main_path, a relative
 * path or pattern); -E2BIG (more than DAEMON_CONFWATCH_MAX_DIRS
 * directories); -ENOMEM; -errno from inotify or sd-event.
 */
int daemon_confwatch_new(sd_event *e, const daemon_confwatch_spec *spec, uint64_t debounce_usec,
                         daemon_confwatch_handler cb, void *userdata, daemon_confwatch **ret);

/*
 * Replaces the spec (after each reload: the include set may have changed)
 * and the watched directories to match. A callback already scheduled stays
 * scheduled. When a directory that was not watched before is watched now, a
 * callback is scheduled too: a file written there between the reload's read
 * and this call would otherwise go unseen. Returns 0 (same directories), 1
 * (new directories, callback scheduled), or -errno as daemon_confwatch_new()
 * (the previous spec stays then).
 */
int daemon_confwatch_rearm(daemon_confwatch *w, const daemon_confwatch_spec *spec);

/* True while a callback is scheduled (events seen, debounce running). */
bool daemon_confwatch_pending(const daemon_confwatch *w);

/* Number of directories watched (for tests and status). */
size_t daemon_confwatch_n_dirs(const daemon_confwatch *w);

/* Frees; no callback after this. Accepts NULL; returns NULL. */
daemon_confwatch *daemon_confwatch_free(daemon_confwatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(daemon_confwatch *, daemon_confwatch_free);

/* True for names that are never configuration (editor temp/backup files). */
bool daemon_confwatch_ignored_name(const char *name);

/*
 * The file watcher for the import issuer: any number of files by path.
 * Each path is followed along its symlink chain (certbot's
 * live/NAME/cert.pem -> ../../archive/NAME/certN.pem) and the directory of
 * every hop is watched; the chain is resolved again after each change.
 */
typedef struct daemon_filewatch daemon_filewatch;

/* Called once per watched path whose content may have changed in a
 * debounced burst (paths in the order they were added); error as for
 * daemon_confwatch_handler. path is the string given to _add (valid during
 * the call). */
typedef void (*daemon_filewatch_handler)(daemon_filewatch *w, const char *path, int error, void *userdata);

/* Creates an empty watcher on loop e; debounce as daemon_confwatch_new().
 * Returns 0 and sets *ret, -ENOMEM, -errno from inotify or sd-event. */
int daemon_filewatch_new(sd_event *e, uint64_t debounce_usec, daemon_filewatch_handler cb, void *userdata,
                         daemon_filewatch **ret);

/* Watches path (absolute; need not exist yet). Adding a path already
 * watched does nothing. Returns 0; -EINVAL (relative); -E2BIG; -ENOMEM;
 * -errno from inotify (the path is not added then). */
int daemon_filewatch_add(daemon_filewatch *w, const char *path);

/* Stops watching path (no callback for it after this). Returns 0, or
 * -ENOENT when it was not watched. */
int daemon_filewatch_remove(daemon_filewatch *w, const char *path);

/* True while a callback is scheduled. */
bool daemon_filewatch_pending(const daemon_filewatch *w);

/* Number of directories watched. */
size_t daemon_filewatch_n_dirs(const daemon_filewatch *w);

/* Frees; no callback after this. Accepts NULL; returns NULL. */
daemon_filewatch *daemon_filewatch_free(daemon_filewatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(daemon_filewatch *, daemon_filewatch_free);
