/* SPDX-License-Identifier: Apache-2.0 */
/* Validation records (names, de-duplication, ACM's options, zone lines,
 * JSON), the exec provider through real processes, the dispatcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/util.h"
#include "issuer/issuer-dns.h"

/* argv tables below are string literals; exec never writes to them. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

static void test_name_normalize(void **state _unused_) {
        char *s = NULL;
        char l63[64], l64[65], long_name[300];

        assert_int_equal(dns_name_normalize("_X1.Example.COM", &s), 0);
        assert_string_equal(s, "_x1.example.com.");
        free(s);
        assert_int_equal(dns_name_normalize("_y2.acm-validations.aws.", &s), 0);
        assert_string_equal(s, "_y2.acm-validations.aws.");
        free(s);
        memset(l63, 'a', 63);
        l63[63] = 0;
        memset(l64, 'a', 64);
        l64[64] = 0;
        assert_int_equal(dns_name_normalize(l63, &s), 0);
        free(s);
        s = NULL;
        /* 253 characters without the dot is the most a name has. */
        snprintf(long_name, sizeof long_name, "%s.%s.%s.%.61s", l63, l63, l63, l63);
        assert_int_equal(strlen(long_name), 253);
        assert_int_equal(dns_name_normalize(long_name, &s), 0);
        assert_int_equal(strlen(s), 254);
        free(s);
        s = NULL;
        strcat(long_name, "a");
        const char *bad[] = { "", ".", "..", "a..b", ".a", l64, long_name, "*.example.com", "a b.com",
                              "a\n.com", "a;b.com", "caf\xc3\xa9.com", "a/b" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(dns_name_normalize(bad[i], &s), -EINVAL);
        assert_int_equal(dns_name_normalize(NULL, &s), -EINVAL);
        assert_null(s);
}

static void test_name_compare(void **state _unused_) {
        assert_true(dns_name_equal("a.Example.com", "A.example.COM."));
        assert_false(dns_name_equal("a.example.com", "a.example.co"));
        assert_false(dns_name_equal("a.example.com", NULL));
        assert_true(dns_name_in_zone("_x.Example.com.", "example.COM"));
        assert_true(dns_name_in_zone("example.com", "example.com."));
        assert_false(dns_name_in_zone("_x.xexample.com.", "example.com."));
        assert_false(dns_name_in_zone("com.", "example.com."));
        assert_true(dns_name_in_zone("a.b.", "."));
}

static void test_records_dedup(void **state _unused_) {
        dns_records l = {};
        char name[64];

        /* example.com and *.example.com: ACM gives both the same record. */
        assert_int_equal(dns_records_add(&l, "_a.example.com.", "_v.acm-validations.aws."), 0);
        assert_int_equal(dns_records_add(&l, "_A.EXAMPLE.com", "_v.ACM-validations.aws"), 1);
        assert_int_equal(l.n, 1);
        assert_int_equal(dns_records_add(&l, "_a.example.com", "_w.acm-validations.aws"), -EEXIST);
        assert_int_equal(dns_records_add(&l, "bad name", "_w.acm-validations.aws"), -EINVAL);
        assert_int_equal(dns_records_add(&l, "_b.example.com", "bad value"), -EINVAL);
        assert_int_equal(l.n, 1);
        assert_non_null(dns_records_find(&l, "_A.example.COM"));
        assert_null(dns_records_find(&l, "_b.example.com."));
        for (int i = 1; i < DNS_RECORDS_MAX; i++) {
                snprintf(name, sizeof name, "_r%d.example.com", i);
                assert_int_equal(dns_records_add(&l, name, "_v.acm-validations.aws"), 0);
        }
        assert_int_equal(dns_records_add(&l, "_one-too-many.example.com", "_v.acm-validations.aws"), -E2BIG);
        dns_records c = { .n = 99 };
        assert_int_equal(dns_records_copy(&l, &c), 0);
        assert_int_equal(c.n, DNS_RECORDS_MAX);
        assert_string_equal(c.items[5].name, l.items[5].name);
        dns_records_done(&c);
        dns_records_done(&l);
        assert_int_equal(l.n, 0);
        assert_null(l.items);
}

static const char *DVOS =
        "[{\"DomainName\": \"example.com\", \"ValidationMethod\": \"DNS\", \"ValidationStatus\": \"PENDING_VALIDATION\","
        "  \"ResourceRecord\": {\"Name\": \"_A1.example.com.\", \"Type\": \"CNAME\", \"Value\": \"_b1.acm-validations.aws.\"}},"
        " {\"DomainName\": \"*.example.com\", \"ValidationMethod\": \"DNS\","
        "  \"ResourceRecord\": {\"Name\": \"_a1.example.com.\", \"Type\": \"CNAME\", \"Value\": \"_b1.acm-validations.aws.\"}},"
        " {\"DomainName\": \"www.example.org\", \"ValidationMethod\": \"DNS\"},"
        " {\"DomainName\": \"mail.example.net\", \"ValidationMethod\": \"EMAIL\"},"
        " {\"DomainName\": \"api.example.org\","
        "  \"ResourceRecord\": {\"Name\": \"_c3.api.example.org.\", \"Type\": \"CNAME\", \"Value\": \"_d3.acm-validations.aws.\"}}]";

static void test_validation_options(void **state _unused_) {
        json_t *j = json_loads(DVOS, 0, NULL);
        dns_records l = {};
        size_t waiting = 99;

        assert_non_null(j);
        assert_int_equal(dns_records_from_validation_options(j, &l, &waiting), 0);
        assert_int_equal(waiting, 1);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.items[0].name, "_a1.example.com.");
        assert_string_equal(l.items[0].value, "_b1.acm-validations.aws.");
        assert_string_equal(l.items[1].name, "_c3.api.example.org.");
        dns_records_done(&l);
        json_decref(j);

        const char *bad[] = {
                "{}",
                "[{\"ResourceRecord\": {\"Name\": \"_a.example.com.\", \"Type\": \"TXT\", \"Value\": \"x\"}}]",
                "[{\"ResourceRecord\": {\"Name\": \"_a.example.com.\", \"Type\": \"CNAME\", \"Value\": \"_b.aws.\"}},"
                " {\"ResourceRecord\": {\"Name\": \"_a.example.com.\", \"Type\": \"CNAME\", \"Value\": \"_c.aws.\"}}]",
                "[{\"ResourceRecord\": {\"Name\": \"_a.example.com.\\nx\", \"Type\": \"CNAME\", \"Value\": \"_b.aws.\"}}]",
                "[{\"ResourceRecord\": {\"Type\": \"CNAME\", \"Value\": \"_b.aws.\"}}]",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                j = json_loads(bad[i], 0, NULL);
                assert_non_null(j);
                l.n = 42;
                assert_int_equal(dns_records_from_validation_options(j, &l, &waiting), -EBADMSG);
                assert_int_equal(l.n, 42);
                json_decref(j);
        }
}

static void test_format_and_json(void **state _unused_) {
        dns_records l = {}, back = {};
        json_t *j = NULL;
        char *z;

        z = dns_records_format_zone(&l, 300);
        assert_string_equal(z, "");
        free(z);
        assert_int_equal(dns_records_add(&l, "_a.example.com", "_b.acm-validations.aws"), 0);
        assert_int_equal(dns_records_add(&l, "_c.www.example.com", "_d.acm-validations.aws"), 0);
        z = dns_records_format_zone(&l, 300);
        assert_string_equal(z, "_a.example.com. 300 IN CNAME _b.acm-validations.aws.\n"
                               "_c.www.example.com. 300 IN CNAME _d.acm-validations.aws.\n");
        free(z);

        assert_int_equal(dns_records_to_json(&l, &j), 0);
        char *s = json_dumps(j, JSON_COMPACT);
        assert_string_equal(s, "[{\"name\":\"_a.example.com.\",\"type\":\"CNAME\",\"value\":\"_b.acm-validations.aws.\"},"
                               "{\"name\":\"_c.www.example.com.\",\"type\":\"CNAME\",\"value\":\"_d.acm-validations.aws.\"}]");
        free(s);
        assert_int_equal(dns_records_from_json(j, &back), 0);
        assert_int_equal(back.n, 2);
        assert_string_equal(back.items[1].value, "_d.acm-validations.aws.");
        dns_records_done(&back);
        json_decref(j);

        const char *bad[] = { "{}", "[{\"name\": \"_a.example.com.\", \"value\": \"_b.aws.\"}]",
                              "[{\"name\": \"_a.example.com.\", \"type\": \"A\", \"value\": \"_b.aws.\"}]",
                              "[{\"name\": \"a b\", \"type\": \"CNAME\", \"value\": \"_b.aws.\"}]" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                j = json_loads(bad[i], 0, NULL);
                assert_int_equal(dns_records_from_json(j, &back), -EBADMSG);
                json_decref(j);
        }
        dns_records_done(&l);
}

static void test_exec_build(void **state _unused_) {
        char *cmd[] = { "/usr/lib/acm-agent/hooks/dns/nsupdate", "--zone", "example.com", NULL };
        dns_record rec = { .name = "_a.example.com.", .value = "_b.acm-validations.aws." };
        char **argv = NULL, **env = NULL;

        assert_int_equal(dns_exec_build(cmd, &rec, DNS_ACTION_DELETE, 600, "web", &argv, &env), 0);
        const char *want_argv[] = { cmd[0], "--zone", "example.com", "delete", "_a.example.com.", "CNAME",
                                    "_b.acm-validations.aws.", "600", NULL };
        const char *want_env[] = { "ACM_AGENT_DNS_ACTION=delete", "ACM_AGENT_DNS_NAME=_a.example.com.",
                                   "ACM_AGENT_DNS_TYPE=CNAME", "ACM_AGENT_DNS_VALUE=_b.acm-validations.aws.",
                                   "ACM_AGENT_DNS_TTL=600", "ACM_AGENT_CERT_NAME=web", NULL };
        for (size_t i = 0; i < ELEMENTSOF(want_argv); i++)
                want_argv[i] ? assert_string_equal(argv[i], want_argv[i]) : assert_null(argv[i]);
        for (size_t i = 0; i < ELEMENTSOF(want_env); i++)
                want_env[i] ? assert_string_equal(env[i], want_env[i]) : assert_null(env[i]);
        strv_free(argv);
        strv_free(env);
        assert_int_equal(dns_exec_build(cmd, &rec, DNS_ACTION_CREATE, 300, NULL, &argv, &env), 0);
        assert_string_equal(argv[3], "create");
        assert_null(env[5]);
        strv_free(argv);
        strv_free(env);
        char *empty[] = { NULL };
        argv = NULL;
        assert_int_equal(dns_exec_build(empty, &rec, DNS_ACTION_CREATE, 300, NULL, &argv, &env), -EINVAL);
        assert_int_equal(dns_exec_build(cmd, &rec, _DNS_ACTION_MAX, 300, NULL, &argv, &env), -EINVAL);
        assert_null(argv);
}

typedef struct outcome {
        unsigned calls;
        int error;
        char kind[32];
        char message[1024];
} outcome;

static void on_done(const dns_result *res, void *userdata) {
        outcome *o = userdata;
        o->calls++;
        o->error = res->error;
        snprintf(o->kind, sizeof o->kind, "%s", res->kind ? res->kind : "");
        snprintf(o->message, sizeof o->message, "%s", res->message ? res->message : "");
}

static char tmpdir[] = "/tmp/test-issuer-dns-XXXXXX";

/* Runs the exec provider with a shell script on a fresh loop until done. */
static outcome exec(const char *script, dns_action action, uint64_t timeout_usec, size_t n_records) {
        char *cmd[] = { "/bin/sh", "-c", (char *) script, "hook", NULL };
        dns_records l = {};
        sd_event *e = NULL;
        outcome o = {};
        char name[64];

        for (size_t i = 0; i < n_records; i++) {
                snprintf(name, sizeof name, "_r%zu.example.com", i);
                assert_int_equal(dns_records_add(&l, name, "_v.acm-validations.aws"), 0);
        }
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dns_exec_run(e, cmd, &l, action, 300, timeout_usec, "web", on_done, &o, NULL), 0);
        assert_int_equal(o.calls, 0); /* never from inside the call */
        while (o.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(o.calls, 1);
        sd_event_unref(e);
        dns_records_done(&l);
        return o;
}

static char *slurp(const char *path) {
        char *s = NULL;
        assert_int_equal(read_full_file(path, 1 << 20, &s, NULL), 0);
        return s;
}

static void test_exec_run(void **state _unused_) {
        char script[512], *log = path_join(tmpdir, "log"), *s;
        outcome o;

        /* argv and environment reach the command; one run per record. */
        snprintf(script, sizeof script,
                 "echo \"$# $1 $2 $3 $4 $5|$ACM_AGENT_DNS_ACTION $ACM_AGENT_DNS_NAME $ACM_AGENT_DNS_TYPE "
                 "$ACM_AGENT_DNS_VALUE $ACM_AGENT_DNS_TTL $ACM_AGENT_CERT_NAME\" >> %s",
                 log);
        o = exec(script, DNS_ACTION_CREATE, 0, 2);
        assert_int_equal(o.error, 0);
        s = slurp(log);
        assert_string_equal(s, "5 create _r0.example.com. CNAME _v.acm-validations.aws. 300|create _r0.example.com. "
                               "CNAME _v.acm-validations.aws. 300 web\n"
                               "5 create _r1.example.com. CNAME _v.acm-validations.aws. 300|create _r1.example.com. "
                               "CNAME _v.acm-validations.aws. 300 web\n");
        free(s);
        unlink(log);

        /* A failure names the command, the record and the exit status;
         * creation stops at the first failure ... */
        snprintf(script, sizeof script, "echo \"$2\" >> %s; echo 'bad key' >&2; exit 3", log);
        o = exec(script, DNS_ACTION_CREATE, 0, 3);
        assert_int_equal(o.error, -EIO);
        assert_string_equal(o.kind, "dns-exec");
        assert_non_null(strstr(o.message, "/bin/sh failed to create _r0.example.com. CNAME _v.acm-validations.aws.: "
                                          "exit status 3"));
        s = slurp(log);
        assert_string_equal(s, "_r0.example.com.\n");
        free(s);
        unlink(log);
        /* ... deletion goes on for every record and reports the first. */
        snprintf(script, sizeof script, "echo \"$2\" >> %s; [ \"$2\" = _r1.example.com. ] && exit 4; exit 0", log);
        o = exec(script, DNS_ACTION_DELETE, 0, 3);
        assert_int_equal(o.error, -EIO);
        assert_non_null(strstr(o.message, "failed to delete _r1.example.com. CNAME _v.acm-validations.aws.: exit "
                                          "status 4"));
        s = slurp(log);
        assert_string_equal(s, "_r0.example.com.\n_r1.example.com.\n_r2.example.com.\n");
        free(s);
        unlink(log);

        /* A command that hangs is killed at the timeout. */
        o = exec("exec sleep 60", DNS_ACTION_CREATE, 200 * USEC_PER_MSEC, 1);
        assert_int_equal(o.error, -ETIMEDOUT);
        assert_non_null(strstr(o.message, "timed out"));

        /* Not executable: reported, not crashed. */
        char *missing[] = { "/nonexistent/dns-hook", NULL };
        dns_records l = {};
        sd_event *e = NULL;
        outcome o2 = {};
        assert_int_equal(dns_records_add(&l, "_a.example.com", "_v.acm-validations.aws"), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dns_exec_run(e, missing, &l, DNS_ACTION_CREATE, 300, 0, NULL, on_done, &o2, NULL), 0);
        while (o2.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(o2.error, -EIO);
        assert_non_null(strstr(o2.message, "exec failed"));
        sd_event_unref(e);
        dns_records_done(&l);
        free(log);
}

static void test_exec_cancel(void **state _unused_) {
        char *cmd[] = { "/bin/sh", "-c", "exec sleep 60", NULL };
        dns_records l = {};
        sd_event *e = NULL;
        dns_job *job = NULL;
        outcome o = {};

        assert_int_equal(dns_records_add(&l, "_a.example.com", "_v.acm-validations.aws"), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dns_exec_run(e, cmd, &l, DNS_ACTION_CREATE, 300, 0, NULL, on_done, &o, &job), 0);
        assert_non_null(job);
        assert_null(dns_job_cancel(job));
        /* Everything that could be dispatched now is; nothing called back. */
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(o.calls, 0);
        sd_event_unref(e);
        dns_records_done(&l);
}

static void test_publish_dispatch(void **state _unused_) {
        char *cmd[] = { "/bin/true", NULL };
        dns_records l = {}, empty = {};
        sd_event *e = NULL;
        outcome o = {};
        dns_publish_params p = { .provider = CONF_DNS_MANUAL, .ttl = 300 };

        assert_int_equal(dns_records_add(&l, "_a.example.com", "_v.acm-validations.aws"), 0);
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), DNS_PUBLISH_MANUAL);
        p.provider = CONF_DNS_NONE;
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), -EINVAL);
        p.provider = CONF_DNS_ROUTE53; /* no publisher */
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), -EINVAL);
        p.provider = CONF_DNS_EXEC; /* no command */
        p.event = e;
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), -EINVAL);
        p.command = cmd;
        p.ttl = 0;
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), -EINVAL);
        p.ttl = 300;
        assert_int_equal(o.calls, 0);
        /* An empty list succeeds, from the loop. */
        assert_int_equal(dns_publish(&p, &empty, DNS_ACTION_CREATE, on_done, &o, NULL), 0);
        assert_int_equal(o.calls, 0);
        while (o.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(o.error, 0);
        o = (outcome) {};
        assert_int_equal(dns_publish(&p, &l, DNS_ACTION_CREATE, on_done, &o, NULL), 0);
        while (o.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(o.error, 0);
        sd_event_unref(e);
        dns_records_done(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_normalize),
                cmocka_unit_test(test_name_compare),
                cmocka_unit_test(test_records_dedup),
                cmocka_unit_test(test_validation_options),
                cmocka_unit_test(test_format_and_json),
                cmocka_unit_test(test_exec_build),
                cmocka_unit_test(test_exec_run),
                cmocka_unit_test(test_exec_cancel),
                cmocka_unit_test(test_publish_dispatch),
        };
        /* As in the agent: child processes are reaped by the loop. */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if (!mkdtemp(tmpdir))
                return 1;
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        (void) rmdir(tmpdir);
        return r;
}
