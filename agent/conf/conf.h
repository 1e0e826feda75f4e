/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The configuration, parsed once from YAML into immutable structures. Nothing
 * outside conf*.c touches YAML. Every structure here is owned by the conf
 * object and lives until conf_free(); other modules only read it.
 *
 * Defaults from `defaults:` are already merged into each certificate, and
 * every derived default (output dir = output_root/name, reload targets
 * resolved against `reloaders:`) is filled in, so consumers never re-derive.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONF_DEFAULT_PATH SYSCONFDIR "/acm-agent/acm-agent.yaml"
#define CONF_DEFAULT_STATE_DIR LOCALSTATEDIR "/lib/acm-agent"
#define CONF_DEFAULT_OUTPUT_ROOT SYSCONFDIR "/ssl/acm-agent"

/* Where a value came from, for messages that point back at the config. */
typedef struct conf_loc {
        const char *file; /* owned by the conf (interned) */
        unsigned line;    /* 1-based */
        unsigned column;  /* 1-based */
} conf_loc;

typedef enum conf_issuer_type {
        CONF_ISSUER_PCA,
        CONF_ISSUER_ACM,
        CONF_ISSUER_IMPORT,
} conf_issuer_type;

typedef enum conf_key_type {
        CONF_KEY_EC,  /* default: P-256 */
        CONF_KEY_RSA,
} conf_key_type;

typedef enum conf_curve {
        CONF_CURVE_P256,
        CONF_CURVE_P384,
        CONF_CURVE_P521,
} conf_curve;

typedef struct conf_key {
        conf_key_type type;
        unsigned bits;      /* RSA: 2048, 3072 or 4096 */
        conf_curve curve;   /* EC */
        bool reuse;         /* keep the key across renewals (default false) */
} conf_key;

typedef struct conf_attr {
        char *oid;          /* dotted decimal */
        char *value;
} conf_attr;

/*
 * A distinguished name with every ASN1Subject attribute of ACM-PCA.
 * YAML keys are snake_case: common_name, country, organization,
 * organizational_unit, distinguished_name_qualifier, state, serial_number,
 * locality, title, surname, given_name, initials, pseudonym,
 * generation_qualifier, custom_attributes: [{oid, value}].
 */
typedef struct conf_subject {
        char *common_name;
        char *country;
        char *organization;
        char *organizational_unit;
        char *distinguished_name_qualifier;
        char *state;
        char *serial_number;
        char *locality;
        char *title;
        char *surname;
        char *given_name;
        char *initials;
        char *pseudonym;
        char *generation_qualifier;
        conf_attr *custom_attributes;
        size_t n_custom_attributes;
} conf_subject;

typedef enum conf_validity_type {
        CONF_VALIDITY_NONE,    /* not set: the template / CA default applies */
        CONF_VALIDITY_DAYS,
        CONF_VALIDITY_MONTHS,
        CONF_VALIDITY_YEARS,
        CONF_VALIDITY_ABSOLUTE,  /* value = unix seconds */
        CONF_VALIDITY_END_DATE,  /* value = YYYYMMDDHHMMSS as a number */
        CONF_VALIDITY_DURATION,  /* value = seconds from issuance ("36h"); sent as END_DATE
                                  * (or DAYS when a whole number of days) at issue time */
} conf_validity_type;

typedef struct conf_validity {
        conf_validity_type type;
        int64_t value;
} conf_validity;

typedef struct conf_issuer_pca {
        char *ca_arn;                 /* required */
        char *template_arn;           /* optional */
        char *signing_algorithm;      /* NULL = auto (SHA256 of the CA's family) */
        conf_validity validity;       /* required (IssueCertificate requires it): "30d" or {type, value} */
        conf_validity validity_not_before;
        json_t *api_passthrough;      /* ApiPassthrough in AWS's JSON shape (the config writes it in
                                       * AWS's PascalCase), validated against the acm-pca model; NULL if unset */
} conf_issuer_pca;

typedef enum conf_validation {
        CONF_VALIDATION_DNS,
        CONF_VALIDATION_EMAIL,
} conf_validation;

typedef struct conf_tag {
        char *key;
        char *value;
} conf_tag;

typedef struct conf_issuer_acm {
        char *arn;                         /* track an existing certificate instead of requesting */
        conf_validation validation;        /* default dns */
        char *key_algorithm;               /* ACM KeyAlgorithm enum, default RSA_2048 */
        bool export;                       /* export cert + key to the host (default true) */
        char *certificate_authority_arn;   /* private ACM certificate; NULL = public */
        bool transparency_logging;         /* default true (ENABLED) */
        char *validation_domain;           /* email validation / DomainValidationOptions */
        conf_tag *tags;
        size_t n_tags;
} conf_issuer_acm;

typedef struct conf_issuer_import {
        char *cert;                /* path, required */
        char *key;                 /* path, required */
        char *chain;               /* path, optional */
        char *arn;                 /* re-import over this ARN, optional */
        conf_tag *tags;
        size_t n_tags;
} conf_issuer_import;

typedef enum conf_dns_provider {
        CONF_DNS_NONE,     /* not configured (only valid when validation isn't dns) */
        CONF_DNS_ROUTE53,
        CONF_DNS_EXEC,
        CONF_DNS_MANUAL,
} conf_dns_provider;

typedef struct conf_dns {
        conf_dns_provider provider;
        char *hosted_zone_id;      /* route53; NULL = find by name */
        char **command;            /* exec: argv, NULL-terminated */
        uint64_t propagation_timeout;  /* seconds, default 600 */
        uint64_t ttl;              /* default 300 */
} conf_dns;

typedef enum conf_output_file {
        CONF_OUT_CERT = 1 << 0,            /* cert.pem */
        CONF_OUT_CHAIN = 1 << 1,           /* chain.pem */
        CONF_OUT_FULLCHAIN = 1 << 2,       /* fullchain.pem */
        CONF_OUT_KEY = 1 << 3,             /* key.pem */
        CONF_OUT_HAPROXY_BUNDLE = 1 << 4,  /* haproxy.pem: fullchain then key */
        CONF_OUT_PKCS12 = 1 << 5,          /* cert.p12 */
} conf_output_file;

typedef struct conf_output {
        char *dir;                 /* default output_root/name */
        uid_t owner;               /* default root (0); (uid_t)-1 never */
        gid_t group;               /* default root (0) */
        char *owner_name, *group_name;  /* as written, for messages */
        mode_t mode;               /* public files, default 0644 */
        mode_t key_mode;           /* key, haproxy bundle, pkcs12; default 0600 */
        unsigned files;            /* conf_output_file bits; default cert|chain|fullchain|key */
        char *pkcs12_passphrase_file;  /* required when pkcs12 is selected */
        unsigned keep_versions;    /* previous versions kept for rollback, default 2 */
} conf_output;

typedef enum conf_reload_kind {
        CONF_RELOAD_NGINX,
        CONF_RELOAD_HAPROXY,
        CONF_RELOAD_SYSTEMD,
        CONF_RELOAD_COMMAND,
} conf_reload_kind;

/*
 * A reload target. `reload: [nginx]` refers to the global `reloaders.nginx`
 * settings; `{systemd: UNIT}` and `{command: [argv]}` are self-contained.
 * Targets are shared: two certificates naming nginx point at the same
 * conf_reload object (compare pointers to de-duplicate).
 */
typedef struct conf_reload {
        conf_reload_kind kind;
        char *id;                  /* "nginx", "haproxy", "systemd:UNIT", "command:argv0 ..." */
        /* nginx / haproxy */
        char **test_command;       /* default [nginx, -t] / [haproxy, -c, -f, CONFIG] */
        char **reload_command;     /* NULL = systemctl reload UNIT when systemd runs, else SIGHUP to pid_file */
        char *pid_file;            /* default /run/nginx.pid, /run/haproxy.pid */
        char *unit;                /* nginx.service / haproxy.service / {systemd: UNIT} */
        char *config;              /* haproxy: -f CONFIG, default /etc/haproxy/haproxy.cfg */
        char *runtime_socket;      /* haproxy: stats/master socket for `set ssl cert`; NULL = reload */
        /* command */
        char **command;
        uint64_t timeout;          /* seconds, default 60 */
} conf_reload;

typedef struct conf_hooks {
        char **deploy;             /* argv; a path string is argv[0] */
        char **failure;
        char **pending_validation; /* ACM: CNAMEs published / renewal pending validation */
        uint64_t timeout;          /* seconds, default 60 */
} conf_hooks;

typedef struct conf_schedule {
        double renew_fraction;     /* default 0.33 of the lifetime left */
        uint64_t renew_before;     /* seconds before expiry; 0 = use renew_fraction */
        uint64_t jitter;           /* seconds, default 12h, capped to a tenth of the lifetime */
        uint64_t retry_min;        /* backoff after a failure, default 5m */
        uint64_t retry_max;        /* cap, default 6h */
} conf_schedule;

typedef struct conf_cert {
        conf_loc loc;              /* where `- name:` is */
        char *name;                /* [A-Za-z0-9._-], no leading dot */
        conf_issuer_type issuer_type;
        union {
                conf_issuer_pca pca;
                conf_issuer_acm acm;
                conf_issuer_import import;
        } issuer;
        conf_subject subject;      /* common_name defaults to dns_names[0] */
        char **dns_names;          /* NULL-terminated, may be empty, never NULL */
        char **ip_addresses;       /* validated with inet_pton, as written */
        char **email_addresses;
        char **uris;
        conf_key key;
        conf_dns dns;
        conf_output output;
        conf_reload **reload;      /* NULL-terminated, pointers into conf->reloaders; NULL when none */
        conf_hooks hooks;
        conf_schedule schedule;
} conf_cert;

typedef struct conf_endpoint {
        char *service;             /* "acm", "acm-pca", "route53", "sts" */
        char *url;
} conf_endpoint;

typedef struct conf_rate_limit {
        char *operation;           /* "acm:DescribeCertificate", "acm-pca:IssueCertificate" */
        double per_second;
} conf_rate_limit;

typedef struct conf_aws {
        char *region;
        char *profile;
        char *role_arn;
        char *role_session_name;   /* default "acm-agent" */
        char *external_id;
        conf_endpoint *endpoints;
        size_t n_endpoints;
        char *ca_bundle;
        bool use_fips;
        uint64_t connect_timeout;  /* seconds, default 10 */
        uint64_t request_timeout;  /* seconds, default 60 */
        unsigned max_attempts;     /* default 5 (standard retry mode: 3) */
        conf_rate_limit *rate_limits;
        size_t n_rate_limits;
} conf_aws;

typedef struct conf_daemon {
        uint64_t reload_debounce;  /* seconds, default 5: deploys this close share one reload */
        uint64_t acm_poll_interval;  /* seconds, default 6h: DescribeCertificate of tracked ACM certs */
        char *metrics_textfile;    /* Prometheus textfile path, NULL = off */
} conf_daemon;

typedef struct conf {
        char *path;                /* the main file */
        char **files;              /* every file read, in order (main first) */
        conf_aws aws;
        char *state_dir;           /* default /var/lib/acm-agent */
        char *output_root;
        conf_daemon daemon;
        conf_reload **reloaders;   /* NULL-terminated, every distinct target */
        conf_cert **certs;         /* NULL-terminated, in file order */
        size_t n_certs;
} conf;

/* One diagnostic. In a conf_errors list, loc.file is owned by the error (a copy). */
typedef struct conf_error {
        conf_loc loc;
        char *klass;               /* short stable id: "syntax", "unknown-key", "type", "missing",
                                    * "duration", "mode", "user", "group", "name", "dns-name",
                                    * "arn", "enum", "conflict", "io", "too-large", "alias",
                                    * "duplicate", "range", "path", "misplaced", "region", "url",
                                    * "ip", "email", "uri", "oid", "tag" (conf/REFERENCE.md) */
        char *message;             /* what is wrong */
        char *hint;                /* how to fix it, may be NULL */
} conf_error;

typedef struct conf_errors {
        conf_error *items;
        size_t n;
} conf_errors;

/*
 * Loads the main file at path, its drop-ins (certs.d/ *.yaml beside it and
 * any `include:` globs, in sorted order), validates everything and returns
 * the configuration. Returns 0 and sets *ret on success. On invalid
 * configuration returns -EINVAL and, when errs is not NULL, fills it with
 * every error found (all files, all errors, in file/line order); other
 * failures (OOM) return -errno. errs is always initialised.
 */
int conf_load(const char *path, conf **ret, conf_errors *errs);

/* Frees a conf; accepts NULL; returns NULL. */
conf *conf_free(conf *c);

/* Frees the contents of errs (not errs itself). */
void conf_errors_done(conf_errors *errs);

/* Prints errors as "FILE:LINE:COLUMN: message\n  hint: ..." to f. */
void conf_errors_print(const conf_errors *errs, FILE *f);

/*
 * A certificate name that is safe as a file name: 1-128 of [A-Za-z0-9._-],
 * not starting with '.'. The same rule names state files and output
 * directories.
 */
bool conf_cert_name_valid(const char *name);

/* Finds a certificate by name, NULL if absent. */
const conf_cert *conf_find_cert(const conf *c, const char *name);

/* Stable names for enums (for JSON/status/logs). */
const char *conf_issuer_type_to_string(conf_issuer_type t);
const char *conf_key_describe(const conf_key *k, char *buf, size_t len);  /* "ec-P-256", "rsa-2048" */

/*
 * The machine-readable description used by `check --json`: every setting of
 * the configuration after defaults, as a JSON object. Returns a new reference
 * or NULL on OOM.
 */
json_t *conf_to_json(const conf *c);
