/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * store-readahead: the states under a state directory, read on a thread of
 * their own while the caller does something else first. A pass that reads
 * every state (--once) starts it as soon as it knows the state directory,
 * before the rest of the configuration is parsed, so that the two halves
 * of a pass that finds nothing to do run on two CPUs instead of one after
 * the other.
 *
 * What it hands over is exactly what store_load() returned for a name when
 * the thread read it: no decision is taken on it (a machine that has
 * something to do takes its lock and reads the state again, as with any
 * state it read without the lock).
 */

#include <stdbool.h>

#include "store/store-state.h"

typedef struct store_readahead store_readahead;

/*
 * Starts a thread (every signal blocked) that lists state_dir/certs/ and
 * reads each certificate's state there as store_load() does, in name
 * order, until it has read them all or is told to stop; then it waits for
 * store_readahead_then() or _stop(). NULL when it cannot start (out of
 * memory, no thread): the caller then reads for itself. A state_dir that
 * does not exist yet reads nothing.
 */
store_readahead *store_readahead_start(const char *state_dir);

/* The state directory it reads. */
const char *store_readahead_dir(const store_readahead *ra);

/* Stops the thread after the state it is reading (or after what
 * store_readahead_then() gave it to run), and waits for it to end.
 * Calling it again does nothing. */
void store_readahead_stop(store_readahead *ra);

/* Waits until the thread has read every state there (or was stopped
 * before), for a caller that wants them all. */
void store_readahead_wait(store_readahead *ra);

/*
 * Stops the reading after the state being read and has the thread run
 * fn(arg) then, once, instead of ending: a caller with more work for a
 * second CPU (reading the rest itself, say) gets a thread that is running
 * already. fn may take states (store_readahead_take()) while the caller
 * does. store_readahead_stop() waits for fn to return. false (fn will not
 * run) when the thread has ended or was given something already.
 */
bool store_readahead_then(store_readahead *ra, void (*fn)(void *arg), void *arg);

/*
 * true when the thread has read name's state (at any time: what it read
 * is complete), with store_load()'s return value in *ret_r and its state
 * and error message (either may be NULL; the caller owns them) -- taken,
 * so a second call for the same name returns false; false when it has
 * not read it. Threads may take different names at the same time, never
 * the same name.
 */
bool store_readahead_take(store_readahead *ra, const char *name, int *ret_r, cert_state **ret_state, char **ret_error);

/* Stops, frees what was not taken; accepts NULL; returns NULL. */
store_readahead *store_readahead_free(store_readahead *ra);
static inline void store_readahead_freep(store_readahead **ra) {
        store_readahead_free(*ra);
}
