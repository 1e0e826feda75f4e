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
#include <time.h>

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

/* What the acm issuer does when a request ends in VALIDATION_TIMED_OUT (72 h without validation). */
typedef enum conf_acm_on_validation_timeout {
        CONF_ACM_TIMEOUT_REREQUEST,   /* default: one new RequestCertificate; a second timeout fails */
        CONF_ACM_TIMEOUT_FAIL,        /* fail the certificate (FailureReason to the operator) */
} conf_acm_on_validation_timeout;

/* What the acm issuer does when ACM's managed renewal reports RenewalStatus FAILED. */
typedef enum conf_acm_on_renewal_failure {
        CONF_ACM_RENEWAL_REPORT,      /* default: report RenewalStatusReason, keep serving the current certificate */
        CONF_ACM_RENEWAL_REISSUE,     /* request a new certificate with the same settings and deploy it */
} conf_acm_on_renewal_failure;

typedef struct conf_issuer_acm {
        char *arn;                         /* track an existing certificate instead of requesting */
        conf_validation validation;        /* default dns */
        char *key_algorithm;               /* ACM KeyAlgorithm enum, default RSA_2048 */
        bool export;                       /* export cert + key to the host (default true) */
        char *certificate_authority_arn;   /* private ACM certificate; NULL = public */
        bool transparency_logging;         /* default true (ENABLED) */
        bool transparency_logging_set;     /* written in the configuration (deprecated by AWS in 2026: a warning;
                                            * send Options.CertificateTransparencyLoggingPreference only when set) */
        char *validation_domain;           /* email validation / DomainValidationOptions */
        conf_tag *tags;
        size_t n_tags;
        conf_acm_on_validation_timeout on_validation_timeout;  /* requests only (never with arn) */
        conf_acm_on_renewal_failure on_renewal_failure;        /* reissue never with arn */
        char *trust_store;                 /* PEM bundle public chains are verified against; NULL = the system's */
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

/* A DNS server to ask when confirming validation CNAMEs. */
typedef struct conf_nameserver {
        char *address;             /* numeric IPv4 or IPv6 (without brackets) */
        uint16_t port;             /* default 53 */
} conf_nameserver;

typedef struct conf_dns {
        conf_dns_provider provider;
        char *hosted_zone_id;      /* route53; NULL = find by name */
        char *role_arn;            /* route53: IAM role assumed (AssumeRole) for the Route 53 calls only; NULL = the agent's credentials */
        char **command;            /* exec: argv, NULL-terminated */
        uint64_t propagation_timeout;  /* seconds, default 600 */
        uint64_t ttl;              /* default 300 */
        conf_nameserver *nameservers;  /* servers asked to confirm the CNAMEs; none = the zone's authoritative servers */
        size_t n_nameservers;
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
        char *dir;                 /* default output_root/name; lexically normalised (no "//", ".", "..", trailing '/') */
        uid_t owner;               /* default root (0); (uid_t)-1 never */
        gid_t group;               /* default root (0) */
        char *owner_name, *group_name;  /* as written, for messages */
        mode_t mode;               /* public files, default 0644 */
        mode_t key_mode;           /* key, haproxy bundle, pkcs12; default 0600 */
        unsigned files;            /* conf_output_file bits; default cert|chain|fullchain|key */
        char *pkcs12_passphrase_file;  /* required when pkcs12 is selected */
        unsigned keep_versions;    /* previous versions kept for rollback, default 2 */
        bool configured;           /* the certificate's own entry has output: (defaults: alone does not
                                    * count); an import certificate is copied into dir only then */
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

/*
 * A maintenance window in the host's local time (TZ): on each day in days,
 * from start_min to end_min minutes after midnight. end_min <= start_min
 * wraps past midnight into the next day ("Fri 22:00-02:00" ends Saturday
 * 02:00); end_min 1440 is 24:00. start_min != end_min.
 */
typedef struct conf_window {
        uint8_t days;              /* bit 0 = Sunday .. 6 = Saturday */
        uint16_t start_min, end_min;
} conf_window;

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
        conf_window *reload_window;  /* deploy + reload only inside these windows; NULL/0 = any time */
        size_t n_reload_window;
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

/* What happens to a certificate that disappears from the configuration. */
typedef enum conf_on_remove {
        CONF_ON_REMOVE_KEEP,       /* default: no longer managed; its files and state stay */
        CONF_ON_REMOVE_DELETE,     /* its output directory and its state are removed */
} conf_on_remove;

typedef struct conf_daemon {
        uint64_t reload_debounce;  /* seconds, default 5: deploys this close share one reload */
        uint64_t acm_poll_interval;  /* seconds, default 6h: DescribeCertificate of tracked ACM certs */
        char *metrics_textfile;    /* Prometheus textfile path, NULL = off */
        conf_on_remove on_remove;  /* default keep */
        uint64_t dns_recheck_interval;  /* seconds, default 1d (1h-30d): validation CNAMEs of tracked ACM certs re-checked */
} conf_daemon;

/* One diagnostic (an error or a warning). In a conf_errors list, loc.file is owned by the error (a copy). */
typedef struct conf_error {
        conf_loc loc;
        char *klass;               /* short stable id: "syntax", "unknown-key", "type", "missing",
                                    * "duration", "mode", "user", "group", "name", "dns-name",
                                    * "arn", "enum", "conflict", "io", "too-large", "alias",
                                    * "duplicate", "range", "path", "misplaced", "region", "url",
                                    * "ip", "email", "uri", "oid", "tag", "window"; warnings: "deprecated"
                                    * (conf/REFERENCE.md) */
        char *message;             /* what is wrong */
        char *hint;                /* how to fix it, may be NULL */
} conf_error;

typedef struct conf_errors {
        conf_error *items;
        size_t n;
} conf_errors;

typedef struct conf {
        char *path;                /* the main file */
        char **files;              /* every file read, in order (main first) */
        char **include_patterns;   /* the include: globs made absolute, NULL-terminated; NULL when none
                                    * (what a daemon watches for new files) */
        conf_aws aws;
        char *state_dir;           /* default /var/lib/acm-agent */
        char *output_root;
        conf_daemon daemon;
        conf_reload **reloaders;   /* NULL-terminated, every distinct target */
        conf_cert **certs;         /* NULL-terminated, in file order */
        size_t n_certs;
        conf_errors warnings;      /* accepted but worth changing (deprecated keys), in file/line order */
} conf;

/*
 * Loads the main file at path, its drop-ins (certs.d/ *.yaml beside it and
 * any `include:` globs, in sorted order), validates everything and returns
 * the configuration. Returns 0 and sets *ret on success. On invalid
 * configuration returns -EINVAL and, when errs is not NULL, fills it with
 * every error found (all files, all errors, in file/line order); other
 * failures (OOM) return -errno. errs is always initialised.
 */
int conf_load(const char *path, conf **ret, conf_errors *errs);

/* What conf_load_with() does beyond conf_load(). */
typedef struct conf_load_options {
        /*
         * check --drop-in FILE: validate FILE as a drop-in in the context of
         * the main file. Without drop_in_as it is read after certs.d/ (in
         * its place when it is one of the files a drop-in pattern matches,
         * never twice); with drop_in_as it is read in place of the drop-in
         * drop_in_as, whether that file exists or not (an error when
         * drop_in_as is not matched by certs.d/ *.yaml or an include:
         * pattern: the agent would never read it there). Errors in it name
         * drop_in as given. NULL = none.
         */
        const char *drop_in;
        const char *drop_in_as;
        /*
         * A hint for reading ahead while the rest loads: called once, on
         * the loading thread, with the state directory as the configuration
         * will have it (normalised) -- as soon as the main file's top-level
         * state_dir is read, or, when it sets none, with the default once
         * the main file is read. The configuration may still fail to load,
         * and the main file may set state_dir twice (an error): compare
         * with (*ret)->state_dir before using anything read there. NULL =
         * no hint.
         */
        void (*on_state_dir)(const char *dir, void *userdata);
        void *userdata;
} conf_load_options;

/*
 * conf_load() with options (o may be NULL). Warnings (deprecated keys) go to
 * (*ret)->warnings on success; on -EINVAL they go to *warnings when
 * warnings is not NULL (always initialised, empty on success).
 */
int conf_load_with(const char *path, const conf_load_options *o, conf **ret, conf_errors *errs, conf_errors *warnings);

/* Frees a conf; accepts NULL; returns NULL. */
conf *conf_free(conf *c);

/*
 * A deep copy of src into *dst (owned by the caller, freed with
 * conf_aws_done()), for an object that outlives the configuration it was
 * made from. 0, or -ENOMEM with *dst left empty.
 */
int conf_aws_copy(const conf_aws *src, conf_aws *dst);

/* Frees what a conf_aws holds (not a itself) and empties it. */
void conf_aws_done(conf_aws *a);

/* Frees the contents of errs (not errs itself). */
void conf_errors_done(conf_errors *errs);

/* Prints errors as "FILE:LINE:COLUMN: message\n  hint: ..." to f. */
void conf_errors_print(const conf_errors *errs, FILE *f);

/* Prints warnings as "FILE:LINE:COLUMN: warning: message\n  hint: ..." to f. */
void conf_warnings_print(const conf_errors *warnings, FILE *f);

/*
 * The next maintenance window among w[0..n): when now is inside one (or a
 * run of windows that touch or overlap), *ret_open = now and *ret_close =
 * its end; else the next opening and its end. Local time of the host (TZ)
 * through localtime_r/mktime, so a window keeps its wall-clock times across
 * a DST change (a time in the spring-forward gap moves forward by the gap,
 * as mktime does). Windows that are open without a break for more than a
 * week (daily 00:00-24:00) close, here, at the end of the 8th day ahead:
 * ask again then. Deterministic: now is given, no clock is read (mktime
 * reads the time zone). Returns 0, -ENOENT when n == 0, -EINVAL for a
 * malformed window or when mktime fails, -ENOMEM. Outputs are set only on
 * success.
 */
int conf_window_next(const conf_window *w, size_t n, time_t now, time_t *ret_open, time_t *ret_close);

/*
 * Formats a window in the configuration's syntax ("Mon-Fri 22:00-02:00",
 * "daily 01:00-05:00") into buf (at least 64 bytes). Returns buf.
 */
char *conf_window_format(const conf_window *w, char *buf, size_t len);

/*
 * Every key path the loader accepts, one string each, for documentation
 * checks: "aws.region", "certificates[].issuer(acm).on_renewal_failure",
 * "defaults.jitter". Mappings whose keys are data (aws.endpoints,
 * aws.rate_limits, tags, api_passthrough) appear as their own path only.
 * Returns 0 and a NULL-terminated list the caller frees with strv_free(),
 * or -ENOMEM.
 */
int conf_key_paths(char ***ret);

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
