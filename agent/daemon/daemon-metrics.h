/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * daemon-metrics: the Prometheus textfile for node_exporter's textfile
 * collector (text exposition format 0.0.4), written atomically to
 * daemon.metrics_textfile.
 *
 * Families (every one has HELP and TYPE; label values escaped):
 *   acm_agent_build_info{version}                                     gauge, 1
 *   acm_agent_metrics_write_timestamp_seconds                         gauge
 *   acm_agent_certificates                                            gauge
 *   acm_agent_certificate_info{name,issuer,serial}                    gauge, 1
 *   acm_agent_certificate_state{name,state}                           gauge, 0/1
 *   acm_agent_certificate_not_after_timestamp_seconds{name}           gauge
 *   acm_agent_certificate_next_renewal_timestamp_seconds{name}        gauge
 *   acm_agent_certificate_last_success_timestamp_seconds{name}        gauge
 *   acm_agent_certificate_consecutive_failures{name}                  gauge
 *   acm_agent_certificate_in_danger{name}                             gauge, 0/1
 *   acm_agent_certificate_acm_renewal_status{name,status}             gauge, 0/1
 *   acm_agent_aws_requests_total{service,operation}                   counter
 *   acm_agent_aws_request_errors_total{service,operation}             counter
 *   acm_agent_aws_throttles_total{service,operation}                  counter
 *
 * The state is a state set (OpenMetrics' StateSet, written as a gauge): one
 * series per possible state, 1 for the current one and 0 for the others, so
 * every series exists for the certificate's whole life (an alert on
 * state="failed" == 1 never meets a missing series, and a state change is not
 * a series that vanishes and one that appears). ACM's RenewalSummary status
 * is a state set over its four values, for certificates that have one. The
 * serial, which changes at every renewal, is a label of the _info series
 * only. Unknown times (never issued, never succeeded) have no series rather
 * than a 0 that would read as "expired in 1970".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct daemon_metrics_cert {
        const char *name;
        const char *issuer;  /* "pca", "acm", "import" */
        const char *state;   /* one of daemon_metrics.states (else an extra series) */
        const char *serial;  /* NULL: none yet */
        time_t not_after;    /* 0: no certificate */
        time_t next_renewal; /* 0: unknown */
        time_t last_success; /* 0: never */
        unsigned consecutive_failures;
        const char *acm_renewal_status; /* RenewalSummary.RenewalStatus, NULL: none */
        bool in_danger;                 /* expires before the agent can renew it */
} daemon_metrics_cert;

typedef struct daemon_metrics_aws {
        const char *service;   /* "acm", "acm-pca", "route53", "sts" */
        const char *operation; /* "IssueCertificate" */
        uint64_t calls, errors, throttles;
} daemon_metrics_aws;

typedef struct daemon_metrics {
        const daemon_metrics_cert *certs;
        size_t n_certs;
        const daemon_metrics_aws *aws;
        size_t n_aws;
        /* Every state a certificate can be in, NULL-terminated; NULL: the
         * store's phases (state_phase_to_string: idle .. failed). */
        const char *const *states;
        const char *version; /* build_info; NULL: PACKAGE_VERSION */
        time_t now;          /* the write timestamp */
} daemon_metrics;

/*
 * Formats m as the text exposition format. Returns 0 and sets *ret (caller
 * frees) and *ret_len; -EINVAL when a certificate or AWS record lacks a name,
 * issuer, state, service or operation; -ENOMEM.
 */
int daemon_metrics_format(const daemon_metrics *m, char **ret, size_t *ret_len);

/*
 * Formats m and replaces path with it atomically: a temporary file beside it
 * ("<path>.tmp-<random>", which the textfile collector ignores: it reads
 * *.prom only), mode 0644, fsync'd, renamed over path. Returns 0; -errno of
 * daemon_metrics_format or the write (path untouched then).
 */
int daemon_metrics_write(const char *path, const daemon_metrics *m);
