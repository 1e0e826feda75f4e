/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Value validators of the configuration loader (conf-check.c). Each returns
 * NULL when the value is valid, else a static message saying what is wrong.
 * Internal to conf*.c.
 */
#include <stdbool.h>
#include <stddef.h>

typedef enum conf_arn_kind {
        CONF_ARN_ACM_CERT,
        CONF_ARN_PCA_CA,
        CONF_ARN_PCA_TEMPLATE,
        CONF_ARN_IAM_ROLE,
} conf_arn_kind;

const char *conf_check_dns_name(const char *s, bool allow_wildcard);
const char *conf_check_email(const char *s);
const char *conf_check_uri(const char *s);
const char *conf_check_ip(const char *s);
const char *conf_check_arn(const char *s, conf_arn_kind kind);
const char *conf_check_region(const char *s);
const char *conf_check_endpoint_url(const char *s);
const char *conf_check_oid(const char *s);
/* A DNS name as ACM's DomainNameString takes it: conf_check_dns_name() plus at least two labels, the last of 2-63. */
const char *conf_check_acm_domain(const char *s, bool allow_wildcard);
/* An ACM tag: key 1-128, value 0-256 characters (UTF-8 code points) of \p{L}\p{Z}\p{N} and _ . : / = + - @; no "aws:" keys. */
const char *conf_check_tag(const char *key, const char *value);
const char *conf_check_base64(const char *s);
const char *conf_check_end_date(const char *s);
/* An example of the expected shape of an ARN kind, for hints. */
const char *conf_arn_example(conf_arn_kind kind);
