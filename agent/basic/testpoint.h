/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/*
 * Test-only crash points: when the environment variable
 * ACM_AGENT_TEST_KILL_AT is "<point>" or "<point>:<cert name>", the agent
 * raise(SIGKILL)s itself the first time it reaches that point (for that
 * certificate). ACM_AGENT_TEST_KILL_AFTER=N kills it at the N-th point it
 * reaches, whichever it is (seeded random kills that need no timing);
 * ACM_AGENT_TEST_TRACE=FILE appends "<point> <name>" for every point reached
 * (to learn how many an undisturbed run has). The variables are read once;
 * unset, each call costs one comparison. Points, in flow order:
 * issue-started (the intent saved), key-generated, token-persisted,
 * issue-answered, arn-persisted, polling, deploy-saved (the verified
 * certificate saved), deploy-written, deploy-switched, reload-pending,
 * rolled-back (a failed reload rolled back and the state saved, the reload
 * batch not finished), valid-saved; for revoke: revoke-intent (the request
 * saved, RevokeCertificate not sent), revoke-answered (AWS revoked it, the
 * answer not saved).
 */

/* Kills the process when point (and name, if the variable names one) match.
 * Returns normally otherwise. name may be NULL. */
void testpoint_hit(const char *point, const char *name);

/*
 * Test-only failure points (the same kind of hook): when ACM_AGENT_TEST_FAIL_AT
 * is "<point>" or "<point>:<cert name>", the first call for that point (and
 * certificate) returns true and the caller fails the step as if the disk had
 * refused it (EIO). Points: deploy-save (the state save right after a
 * deploy), final-save (the state save that marks a certificate valid after
 * its reload), curl-load (the loader of libcurl, aws/aws-curl.c, asks the
 * dynamic loader for a soname that does not exist, as on a host without
 * libcurl).
 */

/* True once, the first time point (and name) match the variable; false
 * otherwise. name may be NULL. Thread-safe. */
bool testpoint_fail(const char *point, const char *name);
