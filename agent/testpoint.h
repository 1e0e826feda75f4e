/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Test-only crash points (a test hook, documented in notes/engine-contract):
 * when the environment variable ACM_AGENT_TEST_KILL_AT is "<point>" or
 * "<point>:<cert name>", the agent raise(SIGKILL)s itself the first time it
 * reaches that point (for that certificate). The variable is read once; when
 * it is unset each call costs one comparison. Points, in flow order:
 * key-generated, token-persisted, issue-answered, arn-persisted, polling,
 * deploy-written, deploy-switched, reload-pending.
 */

/* Kills the process when point (and name, if the variable names one) match.
 * Returns normally otherwise. name may be NULL. */
void testpoint_hit(const char *point, const char *name);
