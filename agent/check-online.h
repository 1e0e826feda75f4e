/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include "cli.h"
#include "conf.h"

/*
 * `acm-agent check --online`: with the loaded configuration c, resolves the
 * AWS credentials (prints their source and, via STS GetCallerIdentity, the
 * identity), then checks every Private CA named by a pca certificate with
 * DescribeCertificateAuthority (exists, ACTIVE, key family matching a
 * configured signing_algorithm) and every tracked ACM ARN with
 * DescribeCertificate. Prints one line per check on stdout ("ok" / "FAIL"
 * with the AWS error line and a hint) and runs its own event loop. Returns
 * the exit code: 0 every check passed, 1 a check failed, 2 the AWS client
 * cannot be set up from the configuration.
 */
int check_online(const conf *c, const cli_options *o);
