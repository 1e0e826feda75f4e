/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include "cli/cli.h"
#include "conf/conf.h"

/*
 * `acm-agent check --online`: with the loaded configuration c, resolves the
 * AWS credentials (prints their source and, via STS GetCallerIdentity, the
 * identity), then checks every Private CA named by a pca certificate with
 * DescribeCertificateAuthority (exists, ACTIVE, key family matching a
 * configured signing_algorithm), every tracked ACM ARN with
 * DescribeCertificate, and the Route 53 zone of every certificate with
 * dns.provider route53 (a hosted_zone_id: exists and its records are
 * readable, ListResourceRecordSets; no id: a zone for the first DNS name
 * is found with ListHostedZonesByName). The credentials are resolved first;
 * when that fails the other checks are not run (one "skip" line each). The
 * rest run concurrently on its own event loop. Prints one line per check on
 * stdout, in that order whatever order the answers come in ("ok", "FAIL"
 * with the AWS error line and a hint, or "skip"); a failure with the same
 * AWS error as an earlier one names its type and refers to it instead of
 * repeating the message. Returns the exit code: 0 every check passed, 1 a
 * check failed or was not run, 2 the AWS client cannot be set up from the
 * configuration.
 */
int check_online(const conf *c, const cli_options *o);
