/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * DNS validation records of ACM certificates: the CNAMEs ACM asks for, and
 * how they are published — Route 53 (issuer-dns-route53.h, batched per
 * zone), an exec command (hooks/dns/nsupdate and the contract in
 * hooks/dns/README.md) or by the operator (manual) — and then confirmed by
 * a DNS query (issuer-dns-check.h).
 *
 * How the ACM issuer uses it, per certificate:
 *   1. DescribeCertificate → dns_records_from_validation_options(); while
 *      *waiting > 0 ACM has not produced every record yet: poll again.
 *   2. dns_publish(CREATE) with the certificate's provider. It returns
 *      DNS_PUBLISH_MANUAL for manual (nothing published: show
 *      dns_records_format_zone() to the operator and go to step 3), else
 *      the callback comes once: error 0 = published (Route 53: INSYNC;
 *      exec: every command exited 0).
 *   3. dns_check_records() (issuer-dns-check.h) until every record is OK,
 *      then DescribeCertificate until ISSUED.
 *   4. Later (watch, PENDING_VALIDATION) steps 2-3 again: publishing the
 *      same records again is harmless (UPSERT / the hook replaces them).
 *   5. on_remove: delete → dns_publish(DELETE) with the records kept in
 *      the state (dns_records_to_json()/dns_records_from_json()).
 * Cancel a pending step with dns_job_cancel() / dns_check_job_cancel():
 * nothing is called back after that.
 *
 * All callbacks run from the sd-event loop, never from inside the call
 * that started the work. Nothing here logs above debug: the caller logs
 * the dns_result's message once.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "conf/conf.h"

/* An absolute name with its trailing dot: 253 characters + "." */
#define DNS_NAME_MAX 254
/* ACM certificates carry at most 100 names, hence at most 100 records. */
#define DNS_RECORDS_MAX 100

/* One validation record: name CNAME value. Both are normalised by
 * dns_name_normalize() (lowercase, absolute with the trailing dot). */
typedef struct dns_record {
        char *name;   /* "_x1.example.com." */
        char *value;  /* "_y2.acm-validations.aws." */
} dns_record;

/* A de-duplicated list of records (one per name). Initialise with {}. */
typedef struct dns_records {
        dns_record *items;
        size_t n;
        size_t cap;
} dns_records;

/*
 * Normalises a DNS name: lowercase, one trailing dot added when absent.
 * Labels are 1..63 characters of letters, digits, '_' and '-' (what ACM
 * record names and values and host names use; no wildcard, no escapes, no
 * spaces or control characters), at most 253 characters in all. Returns 0
 * and sets *ret (malloc'd), -EINVAL for anything else, -ENOMEM.
 */
int dns_name_normalize(const char *name, char **ret);

/* Compares two names case-insensitively, a trailing dot on either side
 * ignored. NULL equals nothing. */
bool dns_name_equal(const char *a, const char *b);

/* True when name is zone or below it (label boundary: "xexample.com." is
 * not in "example.com."); case-insensitive, trailing dots ignored. The root
 * zone ("." or "") contains every name. */
bool dns_name_in_zone(const char *name, const char *zone);

/*
 * Adds name CNAME value to l, both normalised. ACM gives example.com and
 * *.example.com the same record: the same name with the same value again
 * is not added and returns 1. Returns 0 when added, 1 for a duplicate,
 * -EEXIST when the name is already in l with another value, -EINVAL for a
 * bad name or value (see dns_name_normalize()), -E2BIG beyond
 * DNS_RECORDS_MAX, -ENOMEM. l is unchanged on errors.
 */
int dns_records_add(dns_records *l, const char *name, const char *value);

/* Frees the contents of l and resets it to {}. Accepts NULL. */
void dns_records_done(dns_records *l);

/* Deep copy of from into *ret (which is overwritten). 0 or -ENOMEM. */
int dns_records_copy(const dns_records *from, dns_records *ret);

/* The record named name (case-insensitive), or NULL. */
const dns_record *dns_records_find(const dns_records *l, const char *name);

/*
 * From DescribeCertificate's Certificate.DomainValidationOptions (an array
 * of {DomainName, ValidationMethod, ResourceRecord: {Name, Type, Value}}):
 * the de-duplicated CNAMEs into *ret (overwritten), and in *ret_waiting
 * (may be NULL) the number of DNS options whose ResourceRecord ACM has not
 * produced yet. Options with another ValidationMethod (EMAIL) are skipped.
 * Returns 0; -EBADMSG when dvos is not an array, a record is not a CNAME,
 * a name or value is not a usable DNS name, or one name has two values;
 * -E2BIG, -ENOMEM. Outputs are set only on success.
 */
int dns_records_from_validation_options(json_t *dvos, dns_records *ret, size_t *ret_waiting);

/*
 * The records as zone-file lines, one per record, for the manual provider,
 * `status` and `acm-agent dns NAME`:
 *   "_x1.example.com. 300 IN CNAME _y2.acm-validations.aws.\n"
 * An empty list gives "". Returns a malloc'd string, NULL on OOM.
 */
char *dns_records_format_zone(const dns_records *l, uint64_t ttl);

/*
 * For the certificate's state file and `status --json`: an array of
 * {"name", "type": "CNAME", "value"}, and back. from_json checks every
 * entry as dns_records_add() does and returns -EBADMSG for anything else
 * (not an array, missing members, another type, more than
 * DNS_RECORDS_MAX). Both return 0, or -ENOMEM; outputs set only on
 * success (*ret of from_json is overwritten).
 */
int dns_records_to_json(const dns_records *l, json_t **ret);
int dns_records_from_json(json_t *a, dns_records *ret);

/* What the caller is told when a publish step ends. */
typedef struct dns_result {
        int error;            /* 0 on success, else -errno: -ENOENT (no hosted zone for a
                               * record, the zone does not exist), -EINVAL (Route 53 refused
                               * the change: InvalidChangeBatch, InvalidInput), -EACCES
                               * (AWS denied it), -EBUSY (another certificate has this record
                               * in flight with another value), -ETIMEDOUT (not in sync within
                               * the timeout; a command timed out), -EIO (AWS or a command
                               * failed), -ENOMEM */
        const char *kind;     /* short stable id for the failure: "dns-route53", "dns-zone",
                               * "dns-conflict", "dns-timeout", "dns-exec"; NULL on success */
        const char *message;  /* the operator's line: the record, the zone or command, the
                               * cause and the fix; NULL on success */
        const char *notice;   /* something the operator should know either way (a public zone
                               * chosen over a private one of the same name), or NULL */
} dns_result;

/* Called once from the loop when a publish step ends. res and its strings
 * are valid during the call only. The job handle is freed right after the
 * callback returns. */
typedef void (*dns_callback)(const dns_result *res, void *userdata);

typedef struct dns_job dns_job;

/* Cancels a pending publish step: its callback is not called, the handle is
 * freed. Route 53 changes already sent stay (and finish for the other
 * certificates that share them). Accepts NULL; returns NULL. */
dns_job *dns_job_cancel(dns_job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(dns_job *, dns_job_cancel);

typedef enum dns_action {
        DNS_ACTION_CREATE,   /* create or replace (Route 53 UPSERT) */
        DNS_ACTION_DELETE,
        _DNS_ACTION_MAX,
} dns_action;

/* "create", "delete"; NULL when out of range. */
const char *dns_action_to_string(dns_action a);

typedef struct dns_route53 dns_route53;

/* How one certificate's records are published: the certificate's dns:
 * settings in plain form. */
typedef struct dns_publish_params {
        conf_dns_provider provider;  /* CONF_DNS_ROUTE53, CONF_DNS_EXEC or CONF_DNS_MANUAL */
        const char *cert_name;       /* for messages, the batch comment and the command's environment */
        uint64_t ttl;                /* seconds, 1..2147483647 */
        uint64_t timeout_usec;       /* route53: until INSYNC (dns.propagation_timeout);
                                      * exec: each command run; 0 = none */
        dns_route53 *route53;        /* route53: the engine's publisher for these credentials */
        const char *hosted_zone_id;  /* route53: NULL = the longest matching public zone */
        sd_event *event;             /* exec: the loop */
        char *const *command;        /* exec: argv, NULL-terminated */
} dns_publish_params;

/* dns_publish()'s answer for the manual provider. */
#define DNS_PUBLISH_MANUAL 1

/*
 * Publishes (CREATE) or removes (DELETE) records through p->provider.
 * Returns DNS_PUBLISH_MANUAL for the manual provider: nothing is done and
 * nothing is called back (tell the operator the records). Otherwise 0: the
 * callback comes later from the loop, exactly once unless the job is
 * cancelled; *ret (may be NULL: then it cannot be cancelled) is the
 * handle, valid until the callback returns or dns_job_cancel().
 * Route 53: dns_route53_submit(); exec: dns_exec_run(). An empty list
 * succeeds (callback with error 0). Errors: -EINVAL (provider none or
 * unknown, missing route53/event/command, bad ttl or action), -ENOMEM.
 */
int dns_publish(const dns_publish_params *p, const dns_records *records, dns_action action, dns_callback cb,
                void *userdata, dns_job **ret);

/*
 * The exec provider: runs command once per record, one after the other,
 * each on the loop through hook_run() (clean environment, output logged
 * with the certificate's name, killed at timeout_usec, 0 = none) with
 * argv = command + ACTION NAME TYPE VALUE TTL and the environment of
 * dns_exec_build(). Creation stops at the first failure; deletion runs
 * for every record and reports the first failure. A failure (non-zero
 * exit, signal, timeout, not executable) ends the job with kind
 * "dns-exec", -EIO (-ETIMEDOUT for a timeout) and a message naming the
 * command, the record, the action and the exit status. SIGCHLD must be
 * blocked (the agent blocks it; see hook_run()). Returns 0 (the first
 * command may already run), -EINVAL, -ENOMEM, -errno of hook_run()
 * (-EBUSY when SIGCHLD is not blocked).
 */
int dns_exec_run(sd_event *e, char *const *command, const dns_records *records, dns_action action, uint64_t ttl,
                 uint64_t timeout_usec, const char *cert_name, dns_callback cb, void *userdata, dns_job **ret);

/*
 * The argv and environment of one command run (hooks/dns/README.md):
 * argv = command + [ACTION, NAME, "CNAME", VALUE, TTL]; env =
 * ACM_AGENT_DNS_ACTION=create|delete, ACM_AGENT_DNS_NAME,
 * ACM_AGENT_DNS_TYPE=CNAME, ACM_AGENT_DNS_VALUE, ACM_AGENT_DNS_TTL and
 * ACM_AGENT_CERT_NAME (when cert_name is set). Both NULL-terminated,
 * freed with strv_free(). Returns 0, -EINVAL (empty command, bad action),
 * -ENOMEM; outputs set only on success.
 */
int dns_exec_build(char *const *command, const dns_record *rec, dns_action action, uint64_t ttl,
                   const char *cert_name, char ***ret_argv, char ***ret_env);
