/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/util.h"
#include "daemon/daemon-metrics.h"
#include "store/store-state.h"

static const char *const acm_renewal_statuses[] = {
        "PENDING_AUTO_RENEWAL", "PENDING_VALIDATION", "SUCCESS", "FAILED", NULL,
};

/* A label value: backslash, double quote and line feed escaped. */
static void put_label(FILE *f, const char *v) {
        for (const char *p = v; *p; p++)
                switch (*p) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*p, f);
                }
}

static void family(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{name="<cert>"} value */
static void cert_sample(FILE *f, const char *metric, const daemon_metrics_cert *c, const char *extra_label,
                        const char *extra_value, intmax_t value) {
        fprintf(f, "%s{name=\"", metric);
        put_label(f, c->name);
        if (extra_label) {
                fprintf(f, "\",%s=\"", extra_label);
                put_label(f, extra_value);
        }
        fprintf(f, "\"} %jd\n", value);
}

static bool in_list(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static void state_set(FILE *f, const char *metric, const char *label, const daemon_metrics_cert *c,
                      const char *const *states, const char *current) {
        for (const char *const *s = states; *s; s++)
                cert_sample(f, metric, c, label, *s, streq(*s, current));
        /* A state the list does not know is shown, not lost. */
        if (!in_list(states, current))
                cert_sample(f, metric, c, label, current, 1);
}

static void times(FILE *f, const daemon_metrics *m, const char *metric, const char *help, size_t offset) {
        family(f, metric, "gauge", help);
        for (size_t i = 0; i < m->n_certs; i++) {
                time_t t = *(const time_t *) ((const char *) &m->certs[i] + offset);
                if (t != 0)
                        cert_sample(f, metric, &m->certs[i], NULL, NULL, (intmax_t) t);
        }
}

static void aws_counter(FILE *f, const daemon_metrics *m, const char *metric, const char *help,
                        size_t offset) {
        family(f, metric, "counter", help);
        for (size_t i = 0; i < m->n_aws; i++) {
                const daemon_metrics_aws *a = &m->aws[i];
                fprintf(f, "%s{service=\"", metric);
                put_label(f, a->service);
                fputs("\",operation=\"", f);
                put_label(f, a->operation);
                fprintf(f, "\"} %" PRIu64 "\n", *(const uint64_t *) ((const char *) a + offset));
        }
}

int daemon_metrics_format(const daemon_metrics *m, char **ret, size_t *ret_len) {
        const char *phases[_PHASE_MAX + 1];
        const char *const *states = m->states;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        for (size_t i = 0; i < m->n_certs; i++) {
                const daemon_metrics_cert *c = &m->certs[i];
                if (!c->name || !c->issuer || !c->state)
                        return -EINVAL;
        }
        for (size_t i = 0; i < m->n_aws; i++)
                if (!m->aws[i].service || !m->aws[i].operation)
                        return -EINVAL;
        if (!states) {
                for (int p = 0; p < _PHASE_MAX; p++)
                        phases[p] = cert_phase_to_string((cert_phase) p);
                phases[_PHASE_MAX] = NULL;
                states = phases;
        }

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;

        family(f, "acm_agent_build_info", "gauge", "acm-agent build; the value is always 1.");
        fputs("acm_agent_build_info{version=\"", f);
        put_label(f, m->version ? m->version : PACKAGE_VERSION);
        fputs("\"} 1\n", f);

        family(f, "acm_agent_metrics_write_timestamp_seconds", "gauge",
               "When acm-agent wrote this file (it rewrites it when something changes).");
        fprintf(f, "acm_agent_metrics_write_timestamp_seconds %jd\n", (intmax_t) m->now);

        family(f, "acm_agent_certificates", "gauge", "Certificates in the running configuration.");
        fprintf(f, "acm_agent_certificates %zu\n", m->n_certs);

        family(f, "acm_agent_certificate_info", "gauge",
               "Issuer and serial (uppercase hex, empty before the first issue) of each certificate; always "
               "1.");
        for (size_t i = 0; i < m->n_certs; i++) {
                const daemon_metrics_cert *c = &m->certs[i];
                fputs("acm_agent_certificate_info{name=\"", f);
                put_label(f, c->name);
                fputs("\",issuer=\"", f);
                put_label(f, c->issuer);
                fputs("\",serial=\"", f);
                put_label(f, c->serial ? c->serial : "");
                fputs("\"} 1\n", f);
        }

        family(f, "acm_agent_certificate_state", "gauge",
               "State of each certificate's machine: 1 for the current state, 0 for the others.");
        for (size_t i = 0; i < m->n_certs; i++)
                state_set(f, "acm_agent_certificate_state", "state", &m->certs[i], states,
                          m->certs[i].state);

        times(f, m, "acm_agent_certificate_not_after_timestamp_seconds",
              "Expiry (notAfter) of the certificate being served.",
              offsetof(daemon_metrics_cert, not_after));
        times(f, m, "acm_agent_certificate_next_renewal_timestamp_seconds",
              "When the agent next acts on the certificate (renewal, retry or check).",
              offsetof(daemon_metrics_cert, next_renewal));
        times(f, m, "acm_agent_certificate_last_success_timestamp_seconds",
              "When the certificate was last issued, renewed or confirmed valid.",
              offsetof(daemon_metrics_cert, last_success));

        family(f, "acm_agent_certificate_consecutive_failures", "gauge",
               "Failed attempts since the last success (0 when the last attempt succeeded).");
        for (size_t i = 0; i < m->n_certs; i++)
                cert_sample(f, "acm_agent_certificate_consecutive_failures", &m->certs[i], NULL, NULL,
                            (intmax_t) m->certs[i].consecutive_failures);

        family(f, "acm_agent_certificate_in_danger", "gauge",
               "1 when the certificate expires before the agent can renew it: act now.");
        for (size_t i = 0; i < m->n_certs; i++)
                cert_sample(f, "acm_agent_certificate_in_danger", &m->certs[i], NULL, NULL,
                            m->certs[i].in_danger);

        family(f, "acm_agent_certificate_acm_renewal_status", "gauge",
               "ACM managed renewal status (RenewalSummary) of ACM certificates: 1 for the current status.");
        for (size_t i = 0; i < m->n_certs; i++)
                if (m->certs[i].acm_renewal_status)
                        state_set(f, "acm_agent_certificate_acm_renewal_status", "status", &m->certs[i],
                                  acm_renewal_statuses, m->certs[i].acm_renewal_status);

        aws_counter(f, m, "acm_agent_aws_requests_total",
                    "AWS API requests sent (every attempt, retries included).",
                    offsetof(daemon_metrics_aws, calls));
        aws_counter(f, m, "acm_agent_aws_request_errors_total",
                    "AWS API requests that failed (error answer, network or timeout), throttling included.",
                    offsetof(daemon_metrics_aws, errors));
        aws_counter(f, m, "acm_agent_aws_throttles_total",
                    "AWS API requests answered with a throttling error.",
                    offsetof(daemon_metrics_aws, throttles));

        r = ferror(f) ? -ENOMEM : 0;
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int daemon_metrics_write(const char *path, const daemon_metrics *m) {
        _cleanup_(freep) char *text = NULL;
        size_t len;
        int r;

        r = daemon_metrics_format(m, &text, &len);
        if (r < 0)
                return r;
        /* made again at every change: no fsync (the event loop writes it) */
        r = write_file_replace(path, text, len, 0644);
        if (r < 0)
                return log_debug_errno(r, "writing the metrics textfile %s: %m", path);
        return 0;
}
