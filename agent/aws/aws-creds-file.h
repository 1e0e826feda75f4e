/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The shared AWS config and credentials files (~/.aws/config,
 * ~/.aws/credentials), as the SDKs read them: [default], [profile NAME] in
 * config and [NAME] in credentials (credentials wins per key), `#`/`;`
 * comments, indented sub-keys ignored. A profile is resolved into a chain:
 * one source of base credentials (static keys, credential_process, web
 * identity, or credential_source) followed by zero or more roles to assume
 * (role_arn, following source_profile), with loops detected.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

typedef struct creds_files creds_files;

typedef enum creds_base_kind {
        CREDS_BASE_STATIC,            /* aws_access_key_id / aws_secret_access_key [/ aws_session_token] */
        CREDS_BASE_PROCESS,           /* credential_process */
        CREDS_BASE_WEB_IDENTITY,      /* web_identity_token_file + role_arn */
        CREDS_BASE_ENVIRONMENT,       /* credential_source = Environment */
        CREDS_BASE_IMDS,              /* credential_source = Ec2InstanceMetadata */
        CREDS_BASE_ECS,               /* credential_source = EcsContainer */
} creds_base_kind;

typedef struct creds_role {
        const char *profile;          /* the profile that named it */
        const char *role_arn;
        const char *external_id;      /* may be NULL */
        const char *role_session_name;  /* may be NULL */
        uint64_t duration_seconds;    /* 0 = default */
} creds_role;

/* Pointers borrow from the creds_files the chain was resolved from. */
typedef struct creds_chain {
        creds_base_kind base;
        const char *base_profile;     /* the profile holding the base */
        const char *access_key_id, *secret_access_key, *session_token;  /* STATIC */
        const char *process;          /* PROCESS: the command line */
        const char *token_file;       /* WEB_IDENTITY */
        const char *web_role_arn;     /* WEB_IDENTITY */
        const char *web_session_name; /* WEB_IDENTITY, may be NULL */
        creds_role *roles;            /* assumed in order, base first */
        size_t n_roles;
} creds_chain;

/*
 * Reads the two files (either path may be NULL or name a missing file: that
 * file is then empty). Each file is bounded to 1 MiB. Returns 0 and sets
 * *ret; -EFBIG, -ENOMEM, or -errno when a present file cannot be read.
 */
int creds_files_load(const char *config_path, const char *credentials_path, creds_files **ret);

/* Parses from memory (for tests); either text may be NULL. */
int creds_files_parse(const char *config_text, const char *credentials_text, creds_files **ret);

creds_files *creds_files_free(creds_files *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(creds_files *, creds_files_free);

/* A key of a profile (credentials file first, then config), or NULL. */
const char *creds_files_get(const creds_files *f, const char *profile, const char *key);

/* True when the profile appears in either file. */
bool creds_files_has_profile(const creds_files *f, const char *profile);

/*
 * Resolves profile into a chain. Returns 0 and fills *ret (free with
 * creds_chain_done()); -ENOENT when the profile does not exist, -ELOOP on a
 * source_profile loop, -EINVAL when a profile has no usable credentials or
 * contradicting settings; on error *ret_msg (when not NULL) receives a
 * malloc'd sentence naming the profile and the fix.
 */
int creds_files_resolve(const creds_files *f, const char *profile, creds_chain *ret, char **ret_msg);

void creds_chain_done(creds_chain *c);

/* Credentials as the process protocol returns them. */
typedef struct creds_value {
        char *access_key_id;
        char *secret_access_key;      /* wiped on free */
        char *session_token;
        uint64_t expiration_usec;     /* 0 = never */
} creds_value;

void creds_value_done(creds_value *v);

/*
 * Parses the JSON a credential_process printed (Version 1, AccessKeyId,
 * SecretAccessKey, optional SessionToken and Expiration in RFC 3339).
 * Returns 0 and fills *ret, or -EINVAL with *ret_msg saying what is wrong
 * (never quoting the secret).
 */
int creds_process_parse_output(const char *text, size_t len, creds_value *ret, char **ret_msg);

/*
 * Parses the credentials JSON of the metadata endpoints (EC2 IMDS
 * security-credentials/ROLE, ECS/EKS container credentials):
 * {"Code": "Success" (optional), "AccessKeyId", "SecretAccessKey",
 * "Token" (optional), "Expiration" (optional, RFC 3339)}. Bounded: key id
 * 128, secret 256, token 8192 bytes. Returns 0 and fills *ret; -EBADMSG with
 * *ret_msg (when not NULL) saying what is wrong, by line and column for a
 * syntax error, never quoting the answer (it holds secrets) except an
 * escaped Code of at most 64 bytes; -ENOMEM (*ret_msg NULL).
 */
int creds_metadata_parse(const char *text, size_t len, creds_value *ret, char **ret_msg);

/*
 * Splits a credential_process command line into argv the way botocore
 * does (Python's shlex.split in POSIX mode: whitespace, '…' literal, "…"
 * where only \" and \\ are escapes, backslash outside quotes; no
 * expansion, no comments). Returns 0 and sets
 * *ret (NULL-terminated, strv_free), -EINVAL for an unterminated quote or an
 * empty command.
 */
int creds_split_command(const char *cmd, char ***ret);
