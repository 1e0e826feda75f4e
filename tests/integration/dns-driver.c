/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for the DNS validation modules (integration tests and
 * measurements), through the real event loop:
 *
 *   dns-driver check [--nameserver S]... [--resolver S]... [--timeout-ms N]
 *              [--tries N] [--max-inflight N] NAME=VALUE...
 *     One line per record: "STATUS NAME server=… detail=… seen=…", then
 *     the operator's line ("# …"); every 100 records are one check (as a
 *     certificate's), all on one checker. Exit 0 when every record is OK.
 *
 *   dns-driver publish --provider route53|exec|manual [--delete]
 *              [--zone-id Z] [--role-arn ARN] [--ttl N] [--timeout-s N]
 *              [--window-ms N] [--poll-ms N] [--poll-max-ms N]
 *              [--jobs N] [--share] [--again] [--cancel K]
 *              [--command ARG]... NAME=VALUE...
 *     Record i goes to certificate "cert<i mod N>" (--share: every
 *     certificate gets every record); each certificate is one submission.
 *     --again submits everything once more after the first round (records
 *     published in this run are not sent again). --cancel K cancels the
 *     submission of cert<K> right after submitting. Prints "ok certK",
 *     "fail certK KIND: MESSAGE", "notice certK: …", "manual" + zone lines,
 *     then "calls OP=N …" (AWS calls completed) on stderr. Exit 0 when every
 *     (not cancelled) submission succeeded.
 *
 * AWS settings come from the environment (AWS_ENDPOINT_URL, AWS_CA_BUNDLE, …).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "basic/util.h"
#include "issuer/issuer-dns-check.h"
#include "issuer/issuer-dns-route53.h"
#include "issuer/issuer-dns.h"

#define MAX_JOBS 4096

static unsigned pending, failed;

static void on_check(const dns_check_result *res, size_t n, void *userdata) {
        pending--;
        for (size_t i = 0; i < n; i++) {
                char *line = dns_check_result_format(&res[i]);
                printf("%s %s server=%s detail=%s seen=%s\n# %s\n", dns_check_status_to_string(res[i].status),
                       res[i].name, res[i].server ? res[i].server : "-", res[i].detail ? res[i].detail : "-",
                       res[i].seen ? res[i].seen : "-", line ? line : "?");
                free(line);
                if (res[i].status != DNS_CHECK_OK)
                        failed++;
        }
}

typedef struct job_ctx {
        char name[32];
        dns_records records;
        dns_job *job;
} job_ctx;

static void on_published(const dns_result *res, void *userdata) {
        job_ctx *c = userdata;
        pending--;
        c->job = NULL;
        if (res->notice)
                printf("notice %s: %s\n", c->name, res->notice);
        if (res->error) {
                printf("fail %s %s: %s\n", c->name, res->kind, res->message);
                failed++;
        } else
                printf("ok %s\n", c->name);
}

static int usage(void) {
        fprintf(stderr, "usage: dns-driver check|publish [OPTIONS] NAME=VALUE...\n");
        return 2;
}

static int add_record(dns_records *l, char *arg) {
        char *eq = strchr(arg, '=');
        if (!eq)
                return -EINVAL;
        *eq = 0;
        int r = dns_records_add(l, arg, eq + 1);
        *eq = '=';
        return r < 0 ? r : 0;
}

static int run(sd_event *e) {
        while (pending > 0)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        return -1;
        return 0;
}

static int do_check(sd_event *e, int argc, char **argv) {
        char *ns[16] = {}, *res[16] = {};
        size_t n_ns = 0, n_res = 0, n_jobs = 0;
        dns_check_options o = {};
        static dns_records recs[MAX_JOBS];
        dns_checker *c = NULL;
        uint32_t v;
        int i, r;

        for (i = 0; i < argc && strneq(argv[i], "--", 2); i++) {
                if (streq(argv[i], "--nameserver") && i + 1 < argc && n_ns < 15)
                        ns[n_ns++] = argv[++i];
                else if (streq(argv[i], "--resolver") && i + 1 < argc && n_res < 15)
                        res[n_res++] = argv[++i];
                else if (streq(argv[i], "--timeout-ms") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.timeout_usec = (uint64_t) v * USEC_PER_MSEC;
                else if (streq(argv[i], "--tries") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.tries = v;
                else if (streq(argv[i], "--max-inflight") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.max_inflight = v;
                else
                        return usage();
        }
        /* DNS_RECORDS_MAX records per check, as per certificate. */
        for (; i < argc; i++) {
                if (n_jobs == 0 || recs[n_jobs - 1].n == DNS_RECORDS_MAX) {
                        if (n_jobs == MAX_JOBS)
                                return usage();
                        n_jobs++;
                }
                if (add_record(&recs[n_jobs - 1], argv[i]) < 0) {
                        fprintf(stderr, "bad record %s\n", argv[i]);
                        return 2;
                }
        }
        if (n_res > 0)
                o.resolvers = res;
        if ((r = dns_checker_new(e, &o, &c)) < 0) {
                fprintf(stderr, "dns_checker_new: %s\n", strerror(-r));
                return 2;
        }
        for (size_t k = 0; k < n_jobs; k++) {
                if ((r = dns_check_records(c, &recs[k], n_ns ? ns : NULL, on_check, NULL, NULL)) < 0) {
                        fprintf(stderr, "dns_check_records: %s\n", strerror(-r));
                        return 2;
                }
                pending++;
        }
        if (run(e) < 0)
                return 1;
        dns_checker_free(c);
        for (size_t k = 0; k < n_jobs; k++)
                dns_records_done(&recs[k]);
        return failed ? 1 : 0;
}

static void print_calls(aws_client *c) {
        fprintf(stderr, "calls");
        for (size_t k = 0; c && k < aws_client_n_stats(c); k++) {
                const aws_op_stats *s = aws_client_stats(c, k);
                fprintf(stderr, " %s=%llu", s->operation, (unsigned long long) s->calls);
        }
        fprintf(stderr, " throttles=%llu\n", (unsigned long long) aws_client_throttle_count(c));
}

static int do_publish(sd_event *e, int argc, char **argv) {
        static job_ctx jobs[MAX_JOBS];
        static char *command[64];
        dns_publish_params p = { .ttl = 300 };
        dns_route53_options o = {};
        dns_action action = DNS_ACTION_CREATE;
        const char *role_arn = NULL, *provider = NULL;
        uint32_t n_jobs = 1, v, cancel = UINT32_MAX;
        size_t n_cmd = 0;
        bool share = false, again = false;
        conf_aws cfg = {};
        aws_client *client = NULL;
        dns_route53 *r53 = NULL;
        int i, r;

        for (i = 0; i < argc && strneq(argv[i], "--", 2); i++) {
                if (streq(argv[i], "--provider") && i + 1 < argc)
                        provider = argv[++i];
                else if (streq(argv[i], "--delete"))
                        action = DNS_ACTION_DELETE;
                else if (streq(argv[i], "--zone-id") && i + 1 < argc)
                        p.hosted_zone_id = argv[++i];
                else if (streq(argv[i], "--role-arn") && i + 1 < argc)
                        role_arn = argv[++i];
                else if (streq(argv[i], "--ttl") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        p.ttl = v;
                else if (streq(argv[i], "--timeout-s") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        p.timeout_usec = (uint64_t) v * USEC_PER_SEC;
                else if (streq(argv[i], "--window-ms") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.batch_window_usec = (uint64_t) v * USEC_PER_MSEC;
                else if (streq(argv[i], "--poll-ms") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.poll_first_usec = (uint64_t) v * USEC_PER_MSEC;
                else if (streq(argv[i], "--poll-max-ms") && i + 1 < argc && parse_uint32(argv[++i], &v) >= 0)
                        o.poll_max_usec = (uint64_t) v * USEC_PER_MSEC;
                else if (streq(argv[i], "--jobs") && i + 1 < argc && parse_uint32(argv[++i], &n_jobs) >= 0 &&
                         n_jobs >= 1 && n_jobs <= MAX_JOBS)
                        ;
                else if (streq(argv[i], "--share"))
                        share = true;
                else if (streq(argv[i], "--again"))
                        again = true;
                else if (streq(argv[i], "--cancel") && i + 1 < argc && parse_uint32(argv[++i], &cancel) >= 0)
                        ;
                else if (streq(argv[i], "--command") && i + 1 < argc && n_cmd < 62)
                        command[n_cmd++] = argv[++i];
                else
                        return usage();
        }
        if (!provider)
                return usage();
        for (uint32_t k = 0; k < n_jobs; k++)
                snprintf(jobs[k].name, sizeof jobs[k].name, "cert%u", k);
        for (int k = 0; i < argc; i++, k++) {
                for (uint32_t j = 0; j < n_jobs; j++) {
                        if (!share && (uint32_t) k % n_jobs != j)
                                continue;
                        if ((r = add_record(&jobs[j].records, argv[i])) < 0) {
                                fprintf(stderr, "bad record %s: %s\n", argv[i], strerror(-r));
                                return 2;
                        }
                }
        }
        p.event = e;
        if (streq(provider, "route53")) {
                p.provider = CONF_DNS_ROUTE53;
                if (role_arn)
                        r = dns_route53_new_for_role(e, &cfg, role_arn, &o, &r53);
                else if ((r = aws_client_new(e, &cfg, &client)) >= 0)
                        r = dns_route53_new(e, client, &o, &r53);
                if (r < 0) {
                        fprintf(stderr, "cannot create the publisher: %s\n", strerror(-r));
                        return 1;
                }
                p.route53 = r53;
        } else if (streq(provider, "exec")) {
                p.provider = CONF_DNS_EXEC;
                p.command = command;
        } else if (streq(provider, "manual"))
                p.provider = CONF_DNS_MANUAL;
        else
                return usage();

        for (int round = 0; round < (again ? 2 : 1); round++) {
                for (uint32_t k = 0; k < n_jobs; k++) {
                        p.cert_name = jobs[k].name;
                        r = dns_publish(&p, &jobs[k].records, action, on_published, &jobs[k], &jobs[k].job);
                        if (r == DNS_PUBLISH_MANUAL) {
                                char *z = dns_records_format_zone(&jobs[k].records, p.ttl);
                                printf("manual %s\n%s", jobs[k].name, z ? z : "?");
                                free(z);
                                continue;
                        }
                        if (r < 0) {
                                fprintf(stderr, "dns_publish %s: %s\n", jobs[k].name, strerror(-r));
                                return 1;
                        }
                        pending++;
                        if (k == cancel) {
                                jobs[k].job = dns_job_cancel(jobs[k].job);
                                pending--;
                                printf("cancelled %s\n", jobs[k].name);
                        }
                }
                if (run(e) < 0)
                        return 1;
                if (r53)
                        fprintf(stderr, "round %d: ", round + 1), print_calls(dns_route53_client(r53));
        }
        dns_route53_free(r53);
        aws_client_unref(client);
        for (uint32_t k = 0; k < n_jobs; k++)
                dns_records_done(&jobs[k].records);
        return failed ? 1 : 0;
}

int main(int argc, char **argv) {
        sd_event *e = NULL;
        int r;

        if (argc < 2)
                return usage();
        /* Lines in order with stderr's when both go to one file. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* As in the agent: child processes are reaped by the loop. */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if (sd_event_default(&e) < 0)
                return 1;
        if (streq(argv[1], "check"))
                r = do_check(e, argc - 2, argv + 2);
        else if (streq(argv[1], "publish"))
                r = do_publish(e, argc - 2, argv + 2);
        else
                r = usage();
        sd_event_unref(e);
        return r;
}
