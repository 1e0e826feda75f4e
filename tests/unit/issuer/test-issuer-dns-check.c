/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS check: server strings, answer parsing, and whole checks against
 * small DNS responders on the same sd-event loop (UDP on 127.0.0.1). The
 * same against a real BIND: tests/integration/test-dns-check.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "basic/util.h"
#include "issuer/issuer-dns-check.h"

/* argv-like tables below are string literals; nothing writes to them. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* ---------------------------------------------------------------- a responder */

typedef enum action {
        A_CNAME,      /* data: the target */
        A_NS,         /* data: target, data2: second target or NULL */
        A_A,          /* data: an IPv4 address */
        A_NXDOMAIN,   /* data: SOA owner in the authority section, or NULL */
        A_NODATA,     /* data: SOA owner, or NULL */
        A_SERVFAIL,
        A_REFUSED,
        A_DROP,
} action;

typedef struct rule {
        const char *name;   /* absolute, lowercase */
        int qtype;          /* 0: any */
        action act;
        const char *data, *data2;
} rule;

typedef struct responder {
        int fd;
        sd_event_source *src;
        char addr[64];      /* "127.0.0.1:PORT" */
        const rule *rules;
        size_t n_rules;
        unsigned queries, rd_queries, ns_queries;
        /* hold > 0: answer nothing until hold queries wait, then all. */
        unsigned hold, held, max_held, received;
        struct {
                unsigned char q[512];
                ssize_t n;
                struct sockaddr_storage from;
                socklen_t fl;
        } waiting[8];
} responder;

/* Appends name in wire form; returns the new length. */
static size_t put_name(unsigned char *b, size_t off, const char *name) {
        while (*name && !streq(name, ".")) {
                const char *dot = strchr(name, '.');
                size_t l = dot ? (size_t) (dot - name) : strlen(name);
                b[off++] = (unsigned char) l;
                memcpy(b + off, name, l);
                off += l;
                name += l + (dot ? 1 : 0);
        }
        b[off++] = 0;
        return off;
}

static size_t put_u16(unsigned char *b, size_t off, unsigned v) {
        b[off] = (unsigned char) (v >> 8);
        b[off + 1] = (unsigned char) v;
        return off + 2;
}

/* An RR owned by the question name (compression pointer to offset 12). */
static size_t put_rr(unsigned char *b, size_t off, int type, const unsigned char *rdata, size_t rdlen) {
        off = put_u16(b, off, 0xc00c);
        off = put_u16(b, off, (unsigned) type);
        off = put_u16(b, off, 1);
        off = put_u16(b, off, 0);
        off = put_u16(b, off, 60);
        off = put_u16(b, off, (unsigned) rdlen);
        memcpy(b + off, rdata, rdlen);
        return off + rdlen;
}

static size_t put_soa(unsigned char *b, size_t off, const char *owner) {
        unsigned char rd[300];
        size_t n = put_name(rd, 0, "ns.invalid.");
        n = put_name(rd, n, "hostmaster.invalid.");
        memset(rd + n, 0, 20);
        rd[n + 3] = 1;
        n += 20;
        off = put_name(b, off, owner);
        off = put_u16(b, off, 6);
        off = put_u16(b, off, 1);
        off = put_u16(b, off, 0);
        off = put_u16(b, off, 60);
        off = put_u16(b, off, (unsigned) n);
        memcpy(b + off, rd, n);
        return off + n;
}

static void answer(responder *r, const unsigned char *q, ssize_t n, struct sockaddr_storage *from, socklen_t fl) {
        unsigned char a[1024], rd[300];
        int fd = r->fd;
        char qname[256] = "";
        size_t off = 12, ql = 0;

        while (off < (size_t) n && q[off] && ql < 200) {
                memcpy(qname + ql, q + off + 1, q[off]);
                ql += q[off];
                qname[ql++] = '.';
                off += q[off] + 1;
        }
        qname[ql] = 0;
        if (ql == 0)
                strcpy(qname, ".");
        off++;
        int qtype = q[off] << 8 | q[off + 1];
        size_t qend = off + 4;
        r->queries++;
        if (q[2] & 0x01)
                r->rd_queries++;
        if (qtype == 2)
                r->ns_queries++;

        const rule *m = NULL;
        for (size_t i = 0; i < r->n_rules && !m; i++)
                if (strcasecmp(r->rules[i].name, qname) == 0 && (!r->rules[i].qtype || r->rules[i].qtype == qtype))
                        m = &r->rules[i];
        if (m && m->act == A_DROP)
                return;
        int rcode = !m ? 3 : m->act == A_NXDOMAIN ? 3 : m->act == A_SERVFAIL ? 2 : m->act == A_REFUSED ? 5 : 0;
        memcpy(a, q, qend);
        a[2] = (unsigned char) (0x84 | (q[2] & 0x01)); /* QR, AA, RD copied */
        a[3] = (unsigned char) rcode;
        memset(a + 6, 0, 6);
        size_t o = qend;
        unsigned an = 0, ns = 0;
        if (m && m->act == A_CNAME && (qtype == 5 || qtype == 255)) {
                o = put_rr(a, o, 5, rd, put_name(rd, 0, m->data));
                an++;
        } else if (m && m->act == A_NS && qtype == 2) {
                o = put_rr(a, o, 2, rd, put_name(rd, 0, m->data));
                an++;
                if (m->data2) {
                        o = put_rr(a, o, 2, rd, put_name(rd, 0, m->data2));
                        an++;
                }
        } else if (m && m->act == A_A && qtype == 1) {
                struct in_addr in;
                assert_int_equal(inet_pton(AF_INET, m->data, &in), 1);
                o = put_rr(a, o, 1, (unsigned char *) &in, 4);
                an++;
        } else if (m && (m->act == A_NXDOMAIN || m->act == A_NODATA) && m->data) {
                o = put_soa(a, o, m->data);
                ns++;
        }
        a[7] = (unsigned char) an;
        a[9] = (unsigned char) ns;
        (void) sendto(fd, a, o, 0, (struct sockaddr *) from, fl);
}

static int on_packet(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        responder *r = userdata;
        unsigned char q[512];
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *) &from, &fl);

        if (n < 17)
                return 0;
        r->received++;
        if (r->hold == 0) {
                answer(r, q, n, &from, fl);
                return 0;
        }
        assert_true(r->held < ELEMENTSOF(r->waiting));
        memcpy(r->waiting[r->held].q, q, (size_t) n);
        r->waiting[r->held].n = n;
        r->waiting[r->held].from = from;
        r->waiting[r->held].fl = fl;
        if (++r->held > r->max_held)
                r->max_held = r->held;
        if (r->held >= r->hold) {
                for (unsigned i = 0; i < r->held; i++)
                        answer(r, r->waiting[i].q, r->waiting[i].n, &r->waiting[i].from, r->waiting[i].fl);
                r->held = 0;
        }
        return 0;
}

/* A responder on ip:port (port 0: any). Returns false when it cannot bind. */
static bool responder_start(sd_event *e, responder *r, const char *ip, uint16_t port, const rule *rules, size_t n) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        socklen_t l = sizeof sa;

        *r = (responder) { .rules = rules, .n_rules = n };
        assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
        r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(r->fd >= 0);
        if (bind(r->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                close(r->fd);
                return false;
        }
        assert_int_equal(getsockname(r->fd, (struct sockaddr *) &sa, &l), 0);
        snprintf(r->addr, sizeof r->addr, "%s:%u", ip, ntohs(sa.sin_port));
        assert_int_equal(sd_event_add_io(e, &r->src, r->fd, EPOLLIN, on_packet, r), 0);
        return true;
}

static void responder_stop(responder *r) {
        sd_event_source_disable_unref(r->src);
        close(r->fd);
}

/* ---------------------------------------------------------------- checks */

typedef struct verdicts {
        unsigned calls;
        size_t n;
        dns_check_result r[8];
        char seen[8][128], server[8][128], detail[8][256];
} verdicts;

static void on_results(const dns_check_result *res, size_t n, void *userdata) {
        verdicts *v = userdata;
        v->calls++;
        v->n = n;
        for (size_t i = 0; i < n && i < 8; i++) {
                v->r[i] = res[i];
                v->r[i].name = v->r[i].expected = NULL;
                snprintf(v->seen[i], sizeof v->seen[i], "%s", res[i].seen ? res[i].seen : "");
                snprintf(v->server[i], sizeof v->server[i], "%s", res[i].server ? res[i].server : "");
                snprintf(v->detail[i], sizeof v->detail[i], "%s", res[i].detail ? res[i].detail : "");
        }
}

static dns_checker *freeing_checker;

static void on_results_free(const dns_check_result *res, size_t n, void *userdata) {
        on_results(res, n, userdata);
        freeing_checker = dns_checker_free(freeing_checker);
}

static void add(dns_records *l, const char *name, const char *value) {
        assert_int_equal(dns_records_add(l, name, value), 0);
}

/* Checks l against nameservers (NULL: the authoritative servers) and runs
 * the loop until the one callback. */
static verdicts check(sd_event *e, dns_checker *c, const dns_records *l, char **nameservers) {
        verdicts v = {};
        assert_int_equal(dns_check_records(c, l, nameservers, on_results, &v, NULL), 0);
        assert_int_equal(v.calls, 0);
        while (v.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_int_equal(v.calls, 1);
        return v;
}

static void test_server_parse(void **state _unused_) {
        dns_server s;
        char buf[64];

        assert_int_equal(dns_server_parse("192.0.2.1", &s), 0);
        assert_string_equal(dns_server_format(&s, buf, sizeof buf), "192.0.2.1:53");
        assert_int_equal(dns_server_parse("192.0.2.1:5353", &s), 0);
        assert_string_equal(dns_server_format(&s, buf, sizeof buf), "192.0.2.1:5353");
        assert_int_equal(dns_server_parse("[2001:db8::1]:5353", &s), 0);
        assert_string_equal(dns_server_format(&s, buf, sizeof buf), "[2001:db8::1]:5353");
        assert_int_equal(dns_server_parse("2001:db8::1", &s), 0);
        assert_string_equal(dns_server_format(&s, buf, sizeof buf), "[2001:db8::1]:53");
        assert_int_equal(dns_server_parse("[::1]", &s), 0);
        assert_string_equal(dns_server_format(&s, buf, sizeof buf), "[::1]:53");
        const char *bad[] = { "", "ns1.example.com", "ns1.example.com:53", "192.0.2.1:0", "192.0.2.1:65536",
                              "192.0.2.1:", "192.0.2.1:x", "[::1", "[::1]x", "[::1]:", "[192.0.2.1]:53", " 192.0.2.1",
                              "192.0.2.1:53 ", "192.0.2.256", "[]:53" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(dns_server_parse(bad[i], &s), -EINVAL);
}

static void test_answer_parse(void **state _unused_) {
        unsigned char b[512], rd[256];
        dns_answer a = {};
        size_t o;

        /* Question _a.example.com. CNAME, answer with a compressed owner. */
        memset(b, 0, 12);
        b[2] = 0x84;
        b[5] = 1;
        o = put_name(b, 12, "_a.example.com.");
        o = put_u16(b, o, 5);
        o = put_u16(b, o, 1);
        o = put_rr(b, o, 5, rd, put_name(rd, 0, "_V.acm-validations.aws."));
        b[7] = 1;
        assert_int_equal(dns_answer_parse(b, o, "_A.example.COM.", 5, &a), 0);
        assert_int_equal(a.rcode, 0);
        assert_string_equal(a.targets[0], "_V.acm-validations.aws.");
        assert_null(a.targets[1]);
        assert_null(a.soa_zone);
        dns_answer_done(&a);
        /* Another owner is not ours. */
        assert_int_equal(dns_answer_parse(b, o, "_b.example.com.", 5, &a), 0);
        assert_null(a.targets[0]);
        dns_answer_done(&a);
        /* Every cut-off point is refused, never read beyond. */
        for (size_t cut = 0; cut < o; cut++) {
                int r = dns_answer_parse(b, cut, "_a.example.com.", 5, &a);
                assert_true(r == -EBADMSG || r == 0);
                if (r == 0)
                        dns_answer_done(&a);
        }
        assert_int_equal(dns_answer_parse(b, o - 1, "_a.example.com.", 5, &a), -EBADMSG);

        /* NXDOMAIN with the zone's SOA in the authority section. */
        memset(b, 0, 12);
        b[2] = 0x84;
        b[3] = 3;
        b[5] = 1;
        b[9] = 1;
        o = put_name(b, 12, "www.example.com.");
        o = put_u16(b, o, 2);
        o = put_u16(b, o, 1);
        o = put_soa(b, o, "example.com.");
        assert_int_equal(dns_answer_parse(b, o, "www.example.com.", 2, &a), 0);
        assert_int_equal(a.rcode, 3);
        assert_null(a.targets[0]);
        assert_string_equal(a.soa_zone, "example.com.");
        dns_answer_done(&a);

        /* A compression pointer to itself. */
        memset(b, 0, 12);
        b[5] = 1;
        b[12] = 0xc0;
        b[13] = 12;
        assert_int_equal(dns_answer_parse(b, 18, "x.", 5, &a), -EBADMSG);
}

static const rule RULES[] = {
        { "_ok.example.com.", 5, A_CNAME, "_v.acm-validations.aws." },
        { "_upper.example.com.", 5, A_CNAME, "_V.ACM-Validations.AWS." },
        { "_wrong.example.com.", 5, A_CNAME, "_other.acm-validations.aws." },
        { "_nx.example.com.", 0, A_NXDOMAIN, "example.com." },
        { "_nodata.example.com.", 0, A_NODATA, "example.com." },
        { "_servfail.example.com.", 0, A_SERVFAIL },
        { "_refused.example.com.", 0, A_REFUSED },
        { "_drop.example.com.", 0, A_DROP },
};

static void test_check_verdicts(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder r;
        dns_records l = {}, l2 = {};
        /* Answers get all the time a loaded machine (or valgrind) needs;
         * only the silent server's query runs out (a checker of its own). */
        dns_check_options o = { .timeout_usec = 5 * USEC_PER_SEC, .tries = 1 };
        dns_check_options quick = { .timeout_usec = 100 * USEC_PER_MSEC, .tries = 1 };
        dns_checker *c2 = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_true(responder_start(e, &r, "127.0.0.1", 0, RULES, ELEMENTSOF(RULES)));
        char *ns[] = { r.addr, NULL };
        assert_int_equal(dns_checker_new(e, &o, &c), 0);
        assert_int_equal(dns_checker_new(e, &quick, &c2), 0);
        add(&l, "_ok.example.com", "_v.acm-validations.aws");
        add(&l, "_upper.example.com", "_v.acm-validations.aws");
        add(&l, "_wrong.example.com", "_v.acm-validations.aws");
        add(&l, "_nx.example.com", "_v.acm-validations.aws");
        add(&l, "_nodata.example.com", "_v.acm-validations.aws");
        add(&l, "_servfail.example.com", "_v.acm-validations.aws");
        add(&l, "_refused.example.com", "_v.acm-validations.aws");
        verdicts v = check(e, c, &l, ns);
        assert_int_equal(v.n, 7);
        assert_int_equal(v.r[0].status, DNS_CHECK_OK);
        assert_string_equal(v.server[0], r.addr);
        assert_int_equal(v.r[1].status, DNS_CHECK_OK);   /* case-insensitive */
        assert_int_equal(v.r[2].status, DNS_CHECK_WRONG);
        assert_string_equal(v.seen[2], "_other.acm-validations.aws.");
        assert_int_equal(v.r[3].status, DNS_CHECK_MISSING);
        assert_string_equal(v.detail[3], "NXDOMAIN");
        assert_int_equal(v.r[4].status, DNS_CHECK_MISSING);
        assert_string_equal(v.detail[4], "NODATA");
        assert_int_equal(v.r[5].status, DNS_CHECK_ERROR);
        assert_string_equal(v.detail[5], "SERVFAIL");
        assert_string_equal(v.server[5], r.addr);
        assert_int_equal(v.r[6].status, DNS_CHECK_ERROR);
        assert_string_equal(v.detail[6], "REFUSED");
        /* Configured servers are asked with recursion desired, once per try. */
        assert_int_equal(r.queries, 7);
        assert_int_equal(r.rd_queries, 7);
        add(&l2, "_drop.example.com", "_v.acm-validations.aws");
        v = check(e, c2, &l2, ns);
        assert_int_equal(v.r[0].status, DNS_CHECK_ERROR);
        assert_string_equal(v.detail[0], "timeout");
        assert_string_equal(v.server[0], r.addr);
        dns_checker_free(c2);
        dns_records_done(&l2);

        /* The operator's lines. */
        dns_check_result x = { .name = "_w.example.com.", .expected = "_v.aws.", .status = DNS_CHECK_WRONG,
                               .seen = "_z.aws.", .server = "192.0.2.1:53" };
        char *s = dns_check_result_format(&x);
        assert_string_equal(s, "_w.example.com. CNAME is _z.aws. at 192.0.2.1:53, not _v.aws.");
        free(s);
        x = (dns_check_result) { .name = "_m.example.com.", .expected = "_v.aws.", .status = DNS_CHECK_MISSING,
                                 .server = "192.0.2.1:53", .detail = "NXDOMAIN" };
        s = dns_check_result_format(&x);
        assert_string_equal(s, "_m.example.com. CNAME _v.aws. is missing at 192.0.2.1:53 (NXDOMAIN)");
        free(s);

        dns_checker_free(c);
        responder_stop(&r);
        dns_records_done(&l);
        sd_event_unref(e);
}

static void test_check_server_down(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder r;
        dns_records l = {};

        assert_int_equal(sd_event_new(&e), 0);
        /* A port nobody listens on: bound, then closed. */
        assert_true(responder_start(e, &r, "127.0.0.1", 0, RULES, 0));
        char addr[64];
        snprintf(addr, sizeof addr, "%s", r.addr);
        responder_stop(&r);
        char *ns[] = { addr, NULL };
        assert_int_equal(dns_checker_new(e, NULL, &c), 0);
        add(&l, "_ok.example.com", "_v.acm-validations.aws");
        verdicts v = check(e, c, &l, ns);
        assert_int_equal(v.r[0].status, DNS_CHECK_ERROR);
        assert_string_equal(v.detail[0], "connection refused");
        assert_string_equal(v.server[0], addr);
        /* A configured server that does not parse. */
        char *bad[] = { "ns1.example.com", NULL };
        assert_int_equal(dns_check_records(c, &l, bad, on_results, &v, NULL), -EINVAL);
        dns_checker_free(c);
        dns_records_done(&l);
        sd_event_unref(e);
}

static const rule RULES_B[] = {
        { "_ok.example.com.", 5, A_CNAME, "_stale.acm-validations.aws." },
        { "_m.example.com.", 0, A_NXDOMAIN },
        { "_e.example.com.", 0, A_DROP },
};
static const rule RULES_A[] = {
        { "_ok.example.com.", 5, A_CNAME, "_v.acm-validations.aws." },
        { "_m.example.com.", 5, A_CNAME, "_v.acm-validations.aws." },
        { "_e.example.com.", 5, A_CNAME, "_v.acm-validations.aws." },
};

static void test_check_servers_disagree(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder a, b;
        dns_records l = {};
        /* The silent server's query runs out after 1 s; the others answer
         * well within it, even on a loaded machine. */
        dns_check_options o = { .timeout_usec = 1 * USEC_PER_SEC, .tries = 1 };

        assert_int_equal(sd_event_new(&e), 0);
        assert_true(responder_start(e, &a, "127.0.0.1", 0, RULES_A, ELEMENTSOF(RULES_A)));
        assert_true(responder_start(e, &b, "127.0.0.1", 0, RULES_B, ELEMENTSOF(RULES_B)));
        char *ns[] = { a.addr, b.addr, NULL };
        assert_int_equal(dns_checker_new(e, &o, &c), 0);
        add(&l, "_ok.example.com", "_v.acm-validations.aws");
        add(&l, "_m.example.com", "_v.acm-validations.aws");
        add(&l, "_e.example.com", "_v.acm-validations.aws");
        verdicts v = check(e, c, &l, ns);
        /* One server with another value: WRONG, naming that server. */
        assert_int_equal(v.r[0].status, DNS_CHECK_WRONG);
        assert_string_equal(v.server[0], b.addr);
        assert_string_equal(v.seen[0], "_stale.acm-validations.aws.");
        /* One server without it: MISSING there. */
        assert_int_equal(v.r[1].status, DNS_CHECK_MISSING);
        assert_string_equal(v.server[1], b.addr);
        /* One server silent, the other right: OK. */
        assert_int_equal(v.r[2].status, DNS_CHECK_OK);
        assert_string_equal(v.server[2], a.addr);
        assert_int_equal(a.queries, 3);
        assert_int_equal(b.queries, 3);
        dns_checker_free(c);
        responder_stop(&a);
        responder_stop(&b);
        dns_records_done(&l);
        sd_event_unref(e);
}

static void test_check_cancel(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder r;
        dns_records l = {}, l2 = {};
        dns_check_job *job = NULL;
        verdicts cancelled = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_true(responder_start(e, &r, "127.0.0.1", 0, RULES, ELEMENTSOF(RULES)));
        char *ns[] = { r.addr, NULL };
        assert_int_equal(dns_checker_new(e, NULL, &c), 0);
        add(&l, "_ok.example.com", "_v.acm-validations.aws");
        add(&l2, "_wrong.example.com", "_v.acm-validations.aws");
        assert_int_equal(dns_check_records(c, &l, ns, on_results, &cancelled, &job), 0);
        assert_null(dns_check_job_cancel(job));
        /* The second check's query goes after the first's on the same
         * socket: when it is answered, the first answer was read too. */
        verdicts v = check(e, c, &l2, ns);
        assert_int_equal(v.r[0].status, DNS_CHECK_WRONG);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(r.queries, 2);
        assert_int_equal(cancelled.calls, 0);

        /* Cancelled while nothing answers, then the checker goes: no call. */
        dns_records_done(&l);
        add(&l, "_drop.example.com", "_v.acm-validations.aws");
        assert_int_equal(dns_check_records(c, &l, ns, on_results, &cancelled, &job), 0);
        assert_null(dns_check_job_cancel(job));
        dns_checker_free(c);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(cancelled.calls, 0);

        /* A pending check dropped with its checker is not called back either. */
        assert_int_equal(dns_checker_new(e, NULL, &c), 0);
        assert_int_equal(dns_check_records(c, &l, ns, on_results, &cancelled, NULL), 0);
        dns_checker_free(c);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(cancelled.calls, 0);

        /* The callback may free the checker. */
        assert_int_equal(dns_checker_new(e, NULL, &c), 0);
        freeing_checker = c;
        assert_int_equal(dns_check_records(c, &l2, ns, on_results_free, &cancelled, NULL), 0);
        while (cancelled.calls == 0)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        assert_null(freeing_checker);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(cancelled.calls, 1);

        /* An empty list is answered from the loop, with no result. */
        dns_records none = {};
        assert_int_equal(dns_checker_new(e, NULL, &c), 0);
        v = check(e, c, &none, ns);
        assert_int_equal(v.n, 0);
        dns_checker_free(c);
        responder_stop(&r);
        dns_records_done(&l);
        dns_records_done(&l2);
        sd_event_unref(e);
}

/* The zone's authoritative servers: the resolver answers the zone-cut
 * questions, two "authoritative" responders listen on port 53 of
 * 127.53.0.1 and 127.53.0.2 (needs the right to bind port 53). */
static const rule RESOLVER[] = {
        { "host.example.test.", 2, A_NXDOMAIN, "example.test." },   /* negative: SOA names the zone */
        { "other.example.test.", 2, A_NODATA },                       /* no SOA: walk up */
        { "example.test.", 2, A_NS, "ns1.example.test.", "ns2.example.test." },
        { "ns1.example.test.", 1, A_A, "127.53.0.1" },
        { "ns2.example.test.", 1, A_A, "127.53.0.2" },
        { "ns1.example.test.", 28, A_NODATA, "example.test." },
        { "ns2.example.test.", 28, A_NODATA, "example.test." },
        { "gone.test.", 2, A_NS, "ns.gone.test." },
        { "ns.gone.test.", 0, A_NXDOMAIN, "test." },
};
static const rule AUTH1[] = {
        { "_a.host.example.test.", 5, A_CNAME, "_v.acm-validations.aws." },
        { "_b.other.example.test.", 5, A_CNAME, "_v.acm-validations.aws." },
};
static const rule AUTH2[] = {
        { "_a.host.example.test.", 5, A_CNAME, "_v.acm-validations.aws." },
        { "_b.other.example.test.", 5, A_CNAME, "_old.acm-validations.aws." },
};

static void test_check_authoritative(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder res, ns1, ns2;
        dns_records l = {};

        assert_int_equal(sd_event_new(&e), 0);
        if (!responder_start(e, &ns1, "127.53.0.1", 53, AUTH1, ELEMENTSOF(AUTH1))) {
                sd_event_unref(e);
                skip();
        }
        if (!responder_start(e, &ns2, "127.53.0.2", 53, AUTH2, ELEMENTSOF(AUTH2))) {
                responder_stop(&ns1);
                sd_event_unref(e);
                skip();
        }
        assert_true(responder_start(e, &res, "127.0.0.1", 0, RESOLVER, ELEMENTSOF(RESOLVER)));
        char *resolvers[] = { res.addr, NULL };
        dns_check_options o = { .resolvers = resolvers, .timeout_usec = 5 * USEC_PER_SEC, .tries = 1 };
        assert_int_equal(dns_checker_new(e, &o, &c), 0);

        add(&l, "_a.host.example.test", "_v.acm-validations.aws");
        verdicts v = check(e, c, &l, NULL);
        assert_int_equal(v.r[0].status, DNS_CHECK_OK);
        assert_non_null(strstr(v.server[0], "(ns"));
        /* Authoritative servers are asked without recursion, each once. */
        assert_int_equal(ns1.queries, 1);
        assert_int_equal(ns2.queries, 1);
        assert_int_equal(ns1.rd_queries + ns2.rd_queries, 0);
        /* NS host.example.test (negative, SOA example.test), NS example.test. */
        assert_int_equal(res.ns_queries, 2);

        /* A second name of the zone reuses its servers: one more NS
         * question (other.example.test, no SOA), then example.test is known. */
        dns_records_done(&l);
        add(&l, "_b.other.example.test", "_v.acm-validations.aws");
        unsigned before = res.queries;
        v = check(e, c, &l, NULL);
        assert_int_equal(v.r[0].status, DNS_CHECK_WRONG);
        assert_string_equal(v.server[0], "127.53.0.2:53 (ns2.example.test.)");
        assert_string_equal(v.seen[0], "_old.acm-validations.aws.");
        assert_int_equal(res.queries - before, 1);
        assert_int_equal(res.ns_queries, 3);

        /* The same names again: no question to the resolver at all. */
        before = res.queries;
        v = check(e, c, &l, NULL);
        assert_int_equal(res.queries, before);

        /* A zone whose name servers have no address. */
        dns_records_done(&l);
        add(&l, "_c.gone.test", "_v.acm-validations.aws");
        v = check(e, c, &l, NULL);
        assert_int_equal(v.r[0].status, DNS_CHECK_ERROR);
        assert_non_null(strstr(v.detail[0], "ns.gone.test."));

        /* No zone above a name at all: the resolver knows nothing. */
        dns_records_done(&l);
        add(&l, "_d.nowhere.invalid", "_v.acm-validations.aws");
        v = check(e, c, &l, NULL);
        assert_int_equal(v.r[0].status, DNS_CHECK_ERROR);
        assert_non_null(strstr(v.detail[0], "cannot find the zone of _d.nowhere.invalid."));

        dns_checker_free(c);
        responder_stop(&res);
        responder_stop(&ns1);
        responder_stop(&ns2);
        dns_records_done(&l);
        sd_event_unref(e);
}

static void test_check_bounded(void **state _unused_) {
        sd_event *e = NULL;
        dns_checker *c = NULL;
        responder r;
        dns_records l = {};
        char name[64];
        unsigned most = 0;
        dns_check_options o = { .max_inflight = 3, .timeout_usec = 50 * USEC_PER_MSEC, .tries = 1 };
        static const rule drop[] = { { "", 0, A_DROP } };

        assert_int_equal(sd_event_new(&e), 0);
        assert_true(responder_start(e, &r, "127.0.0.1", 0, drop, 0));
        r.hold = 1000; /* never answers */
        char *ns[] = { r.addr, NULL };
        assert_int_equal(dns_checker_new(e, &o, &c), 0);
        for (int i = 0; i < 8; i++) {
                snprintf(name, sizeof name, "_%d.example.com", i);
                add(&l, name, "_v.acm-validations.aws");
        }
        verdicts v = {};
        assert_int_equal(dns_check_records(c, &l, ns, on_results, &v, NULL), 0);
        while (v.calls == 0) {
                unsigned k = dns_checker_inflight(c);
                assert_true(k <= 3);
                most = k > most ? k : most;
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
        }
        assert_int_equal(most, 3);
        assert_int_equal(v.n, 8);
        for (size_t i = 0; i < 8; i++)
                assert_string_equal(v.detail[i], "timeout");
        assert_int_equal(r.received, 8);
        assert_int_equal(dns_checker_inflight(c), 0);
        dns_checker_free(c);
        responder_stop(&r);
        dns_records_done(&l);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_server_parse),
                cmocka_unit_test(test_answer_parse),
                cmocka_unit_test(test_check_verdicts),
                cmocka_unit_test(test_check_server_down),
                cmocka_unit_test(test_check_servers_disagree),
                cmocka_unit_test(test_check_cancel),
                cmocka_unit_test(test_check_authoritative),
                cmocka_unit_test(test_check_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
