/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS check: c-ares channels driven by the sd-event loop. */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/log.h"
#include "basic/util.h"
#include "issuer/issuer-dns-check.h"
#include "issuer/issuer-dns-internal.h"

#define TIMEOUT_DEFAULT_USEC (2 * USEC_PER_SEC)
#define TRIES_DEFAULT 2
#define INFLIGHT_DEFAULT 64
#define ZONE_SERVERS_MAX 8
#define CUT_STEPS_MAX 16
#define ANSWER_TARGETS_MAX 64
#define T_CNAME_ 5
#define T_NS_ 2
#define T_SOA_ 6
#define C_IN_ 1

typedef struct check_channel check_channel;
typedef struct zone_info zone_info;
typedef struct query query;

/* One c-ares channel (one server, or the resolvers) and its loop sources. */
struct check_channel {
        dns_checker *c;
        ares_channel ch;
        bool recurse;
        dns_server server;
        struct {
                int fd;
                sd_event_source *src;
        } *fds;
        size_t n_fds, cap_fds;
        sd_event_source *timer;
};

typedef enum zone_state {
        ZONE_RESOLVING,   /* addresses of its NS hosts asked */
        ZONE_READY,
        ZONE_FAILED,
} zone_state;

/* A zone cut found by the look-up: its authoritative servers. */
struct zone_info {
        char *name;
        zone_state state;
        char **ns;                    /* NS host names (at most ZONE_SERVERS_MAX) */
        size_t n_ns, addr_pending;
        dns_server servers[ZONE_SERVERS_MAX];
        char *labels[ZONE_SERVERS_MAX];   /* "192.0.2.1:53 (ns1.example.com.)" */
        size_t n_servers;
        char *error;                  /* FAILED: why */
        struct rec_state **waiters;
        size_t n_waiters, cap_waiters;
};

/* The name → zone answers of the look-up (for the records that follow). */
typedef struct cut_cache {
        char *name;
        zone_info *zone;
} cut_cache;

typedef struct rec_state {
        dns_check_job *job;
        size_t idx;
        char *cut;                    /* the name whose NS records are asked */
        char *first_cut;              /* the record's parent: cached → zone */
        unsigned steps;
        zone_info *waiting;           /* waits for this zone's servers */
        const dns_server *servers;
        char *const *labels;
        size_t n_servers, answered;
        bool done;
        dns_check_status status;
        int rank;                     /* of the verdict so far; -1 none */
        char *seen, *server, *detail;
} rec_state;

struct dns_check_job {
        dns_checker *c;
        dns_records records;
        rec_state *recs;
        size_t n_done;
        dns_server *ns;               /* configured servers */
        char **ns_labels;
        size_t n_ns;
        sd_event_source *defer;
        dns_check_callback cb;
        void *userdata;
        dns_check_job *next, *prev;
};

typedef enum query_kind {
        QUERY_CHECK,   /* the record's CNAME at one server */
        QUERY_CUT,     /* NS of a name, at the resolvers */
        QUERY_ADDR,    /* addresses of an NS host, at the resolvers */
} query_kind;

struct query {
        dns_checker *c;
        check_channel *chan;
        query_kind kind;
        dns_check_job *job;           /* CHECK, CUT; NULL once the job is gone */
        size_t rec, server;
        zone_info *zone;              /* ADDR; NULL once gone */
        size_t ns_idx;
        char *name;
        int qtype;
        bool started;
        query *next, *prev;           /* every query of the checker */
        query *pnext;                 /* the queue of queries not started yet */
};

struct dns_checker {
        sd_event *event;
        check_channel *bootstrap;
        check_channel **chans;
        size_t n_chans, cap_chans;
        int timeout_ms, tries;
        unsigned max_inflight, inflight;
        query *queries;
        query *pending_head, *pending_tail;
        zone_info **zones;
        size_t n_zones, cap_zones;
        cut_cache *cuts;
        size_t n_cuts, cap_cuts;
        dns_check_job *jobs;
        bool freeing;
};

/* ---------------------------------------------------------------- small helpers */

const char *dns_check_status_to_string(dns_check_status s) {
        static const char *const names[_DNS_CHECK_STATUS_MAX] = {
                [DNS_CHECK_OK] = "ok",
                [DNS_CHECK_MISSING] = "missing",
                [DNS_CHECK_WRONG] = "wrong",
                [DNS_CHECK_ERROR] = "error",
        };
        return (unsigned) s < _DNS_CHECK_STATUS_MAX ? names[s] : NULL;
}

int dns_server_parse(const char *s, dns_server *ret) {
        char host[INET6_ADDRSTRLEN + 1];
        const char *port = NULL;
        dns_server srv = {};
        uint32_t p = 53;
        size_t n;

        if (isempty(s) || !ret || strlen(s) > INET6_ADDRSTRLEN + 8)
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || (end[1] && end[1] != ':'))
                        return -EINVAL;
                n = (size_t) (end - s - 1);
                if (end[1] == ':')
                        port = end + 2;
                if (n == 0 || n >= sizeof host)
                        return -EINVAL;
                memcpy(host, s + 1, n);
                host[n] = 0;
                if (!strchr(host, ':'))
                        return -EINVAL;
        } else {
                const char *colon = strchr(s, ':');
                if (colon && strchr(colon + 1, ':'))
                        colon = NULL;  /* a bare IPv6 address: no port */
                n = colon ? (size_t) (colon - s) : strlen(s);
                if (n == 0 || n >= sizeof host)
                        return -EINVAL;
                memcpy(host, s, n);
                host[n] = 0;
                if (colon)
                        port = colon + 1;
        }
        if (port && (parse_uint32(port, &p) < 0 || p < 1 || p > 65535))
                return -EINVAL;
        struct sockaddr_in *a4 = (struct sockaddr_in *) &srv.addr;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) &srv.addr;
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t) p);
                srv.addr_len = sizeof *a4;
        } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t) p);
                srv.addr_len = sizeof *a6;
        } else
                return -EINVAL;
        *ret = srv;
        return 0;
}

const char *dns_server_format(const dns_server *s, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN] = "?";
        if (s->addr.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *) &s->addr;
                inet_ntop(AF_INET6, &a6->sin6_addr, a, sizeof a);
                snprintf(buf, size, "[%s]:%u", a, ntohs(a6->sin6_port));
        } else {
                const struct sockaddr_in *a4 = (const struct sockaddr_in *) &s->addr;
                inet_ntop(AF_INET, &a4->sin_addr, a, sizeof a);
                snprintf(buf, size, "%s:%u", a, ntohs(a4->sin_port));
        }
        return buf;
}

static bool server_equal(const dns_server *a, const dns_server *b) {
        if (a->addr.ss_family != b->addr.ss_family)
                return false;
        if (a->addr.ss_family == AF_INET6) {
                const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) &a->addr, *y = (const void *) &b->addr;
                return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
        }
        const struct sockaddr_in *x = (const struct sockaddr_in *) &a->addr, *y = (const void *) &b->addr;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* The parent of an absolute name ("example.com." of "_x.example.com."),
 * NULL for a single label (its parent is the root). */
static const char *parent_name(const char *name) {
        const char *dot = strchr(name, '.');
        return dot && dot[1] ? dot + 1 : NULL;
}

/* ---------------------------------------------------------------- DNS messages */

void dns_answer_done(dns_answer *a) {
        if (!a)
                return;
        strv_free(a->targets);
        free(a->soa_zone);
        *a = (dns_answer) {};
}

static int read_u16(const unsigned char *b, size_t len, size_t off, unsigned *ret) {
        if (off + 2 > len)
                return -EBADMSG;
        *ret = (unsigned) b[off] << 8 | b[off + 1];
        return 0;
}

/* Expands the name at off; *ret (malloc'd, absolute) and the bytes it used. */
static int read_name(const unsigned char *b, size_t len, size_t off, char **ret, size_t *ret_used) {
        char *s = NULL;
        long used = 0;
        if (off >= len || ares_expand_name(b + off, b, (int) len, &s, &used) != ARES_SUCCESS || used <= 0)
                return -EBADMSG;
        char *abs = strprintf("%s.", s);
        ares_free_string(s);
        if (!abs)
                return -ENOMEM;
        if (ret)
                *ret = abs;
        else
                free(abs);
        *ret_used = (size_t) used;
        return 0;
}

int dns_answer_parse(const unsigned char *b, size_t len, const char *name, int qtype, dns_answer *ret) {
        _cleanup_(dns_answer_done) dns_answer a = {};
        unsigned qd, an, ns, type, rdlen;
        size_t off = 12, used, nt = 0;
        int r;

        if (!b || len < 12 || len > 65535 || !name || !ret)
                return -EBADMSG;
        a.rcode = b[3] & 0x0f;
        a.truncated = b[2] & 0x02;
        qd = (unsigned) b[4] << 8 | b[5];
        an = (unsigned) b[6] << 8 | b[7];
        ns = (unsigned) b[8] << 8 | b[9];
        if (!(a.targets = calloc(1, sizeof(char *))))
                return -ENOMEM;
        for (unsigned i = 0; i < qd; i++) {
                if ((r = read_name(b, len, off, NULL, &used)) < 0)
                        return r;
                off += used + 4;
                if (off > len)
                        return -EBADMSG;
        }
        for (unsigned i = 0; i < an + ns; i++) {
                _cleanup_(freep) char *owner = NULL;
                if ((r = read_name(b, len, off, &owner, &used)) < 0)
                        return r;
                off += used;
                if ((r = read_u16(b, len, off, &type)) < 0 || (r = read_u16(b, len, off + 8, &rdlen)) < 0)
                        return r;
                off += 10;
                if (off + rdlen > len)
                        return -EBADMSG;
                bool mine = dns_name_equal(owner, name);
                if (i < an && mine && (int) type == qtype && (type == T_CNAME_ || type == T_NS_) &&
                    nt < (type == T_CNAME_ ? 1 : ANSWER_TARGETS_MAX)) {
                        char *t = NULL, **l;
                        if ((r = read_name(b, len, off, &t, &used)) < 0)
                                return r;
                        if (!(l = reallocarray(a.targets, nt + 2, sizeof(char *)))) {
                                free(t);
                                return -ENOMEM;
                        }
                        a.targets = l;
                        a.targets[nt++] = t;
                        a.targets[nt] = NULL;
                } else if (i < an && mine && type == T_CNAME_)
                        a.cname_elsewhere = true;
                else if (i >= an && type == T_SOA_ && !a.soa_zone)
                        a.soa_zone = TAKE_PTR(owner);
                off += rdlen;
        }
        *ret = a;
        a = (dns_answer) {};
        return 0;
}

/* ---------------------------------------------------------------- c-ares on the loop */

static void chan_rearm(check_channel *k) {
        struct timeval tv;
        if (!ares_timeout(k->ch, NULL, &tv)) {
                if (k->timer)
                        (void) sd_event_source_set_enabled(k->timer, SD_EVENT_OFF);
                return;
        }
        uint64_t usec = (uint64_t) tv.tv_sec * USEC_PER_SEC + (uint64_t) tv.tv_usec, now = 0;
        (void) sd_event_now(k->c->event, CLOCK_MONOTONIC, &now);
        if (k->timer) {
                (void) sd_event_source_set_time(k->timer, now + usec);
                (void) sd_event_source_set_enabled(k->timer, SD_EVENT_ONESHOT);
        }
}

static int on_chan_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        check_channel *k = userdata;
        ares_process_fd(k->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        chan_rearm(k);
        return 0;
}

static int on_chan_io(sd_event_source *s _unused_, int fd, uint32_t revents, void *userdata) {
        check_channel *k = userdata;
        ares_process_fd(k->ch, revents & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
                        revents & EPOLLOUT ? fd : ARES_SOCKET_BAD);
        chan_rearm(k);
        return 0;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable) {
        check_channel *k = data;
        size_t i;
        for (i = 0; i < k->n_fds && k->fds[i].fd != fd; i++)
                ;
        if (!readable && !writable) {
                if (i < k->n_fds) {
                        sd_event_source_disable_unref(k->fds[i].src);
                        k->fds[i] = k->fds[--k->n_fds];
                }
                return;
        }
        uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
        if (i < k->n_fds) {
                (void) sd_event_source_set_io_events(k->fds[i].src, ev);
                return;
        }
        /* Without a source the query times out (the channel's timer still
         * runs), so a failure here cannot hang a check. */
        if (dns_grow((void **) &k->fds, &k->cap_fds, k->n_fds + 1, sizeof *k->fds) < 0)
                return;
        if (sd_event_add_io(k->c->event, &k->fds[k->n_fds].src, fd, ev, on_chan_io, k) < 0)
                return;
        k->fds[k->n_fds++].fd = fd;
}

static void chan_free(check_channel *k) {
        if (!k)
                return;
        /* Calls back every query of the channel with ARES_EDESTRUCTION. */
        if (k->ch)
                ares_destroy(k->ch);
        for (size_t i = 0; i < k->n_fds; i++)
                sd_event_source_disable_unref(k->fds[i].src);
        free(k->fds);
        sd_event_source_disable_unref(k->timer);
        free(k);
}

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status;
static void ares_init_once(void) {
        ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int set_servers(ares_channel ch, const dns_server *s, size_t n) {
        _cleanup_(freep) struct ares_addr_port_node *nodes = calloc(n, sizeof *nodes);
        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct ares_addr_port_node *x = &nodes[i];
                x->next = i + 1 < n ? &nodes[i + 1] : NULL;
                x->family = s[i].addr.ss_family;
                if (x->family == AF_INET6) {
                        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) &s[i].addr;
                        memcpy(&x->addr.addr6, &a->sin6_addr, 16);
                        x->udp_port = x->tcp_port = ntohs(a->sin6_port);
                } else {
                        const struct sockaddr_in *a = (const struct sockaddr_in *) &s[i].addr;
                        x->addr.addr4 = a->sin_addr;
                        x->udp_port = x->tcp_port = ntohs(a->sin_port);
                }
        }
        return ares_set_servers_ports(ch, nodes) == ARES_SUCCESS ? 0 : -ENOMEM;
}

/* A channel for servers s (n of them; n == 0: /etc/resolv.conf). */
static int chan_new(dns_checker *c, const dns_server *s, size_t n, bool recurse, bool bootstrap,
                    check_channel **ret) {
        /* The resolvers (bootstrap) may skip a server that answers SERVFAIL
         * or REFUSED; a checked server's answer is taken as it is. */
        struct ares_options o = {
                .flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | (recurse ? 0 : ARES_FLAG_NORECURSE) |
                         (bootstrap ? 0 : ARES_FLAG_NOCHECKRESP),
                .timeout = c->timeout_ms,
                .tries = c->tries,
                .ednspsz = 1232,
                .sock_state_cb = on_sock_state,
        };
        int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_EDNSPSZ;
        int r;

        (void) pthread_once(&ares_once, ares_init_once);
        if (ares_init_status != ARES_SUCCESS)
                return -EIO;
        check_channel *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        k->c = c;
        k->recurse = recurse;
        if (n == 1)
                k->server = s[0];
        o.sock_state_cb_data = k;
        r = ares_init_options(&k->ch, &o, mask);
        if (r != ARES_SUCCESS) {
                k->ch = NULL;
                chan_free(k);
                return r == ARES_ENOMEM ? -ENOMEM : -EIO;
        }
        if (n > 0 && (r = set_servers(k->ch, s, n)) < 0) {
                chan_free(k);
                return r;
        }
        r = sd_event_add_time(c->event, &k->timer, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_MSEC, on_chan_timer, k);
        if (r < 0) {
                chan_free(k);
                return r;
        }
        (void) sd_event_source_set_enabled(k->timer, SD_EVENT_OFF);
        *ret = k;
        return 0;
}

static check_channel *chan_get(dns_checker *c, const dns_server *s, bool recurse) {
        for (size_t i = 0; i < c->n_chans; i++)
                if (c->chans[i]->recurse == recurse && server_equal(&c->chans[i]->server, s))
                        return c->chans[i];
        check_channel *k;
        if (dns_grow((void **) &c->chans, &c->cap_chans, c->n_chans + 1, sizeof(check_channel *)) < 0 ||
            chan_new(c, s, 1, recurse, false, &k) < 0)
                return NULL;
        c->chans[c->n_chans++] = k;
        return k;
}

/* ---------------------------------------------------------------- queries */

static void on_query_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);
static void on_addr_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res);

static void query_free(query *q) {
        dns_checker *c = q->c;
        if (q->prev)
                q->prev->next = q->next;
        else if (c->queries == q)
                c->queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        free(q->name);
        free(q);
}

static bool query_dead(const query *q) {
        return q->kind == QUERY_ADDR ? !q->zone : !q->job;
}

static void query_start(query *q) {
        dns_checker *c = q->c;
        q->started = true;
        c->inflight++;
        if (q->kind == QUERY_ADDR) {
                struct ares_addrinfo_hints h = { .ai_family = AF_UNSPEC, .ai_flags = ARES_AI_NOSORT };
                ares_getaddrinfo(q->chan->ch, q->name, NULL, &h, on_addr_answer, q);
        } else
                ares_query(q->chan->ch, q->name, C_IN_, q->qtype, on_query_answer, q);
        /* q may be gone: the answer can come at once (no server, out of memory). */
}

/* Starts queued queries while there is room. */
static void queue_run(dns_checker *c) {
        while (c->pending_head && c->inflight < c->max_inflight && !c->freeing) {
                query *q = c->pending_head;
                c->pending_head = q->pnext;
                if (!c->pending_head)
                        c->pending_tail = NULL;
                if (query_dead(q)) {
                        query_free(q);
                        continue;
                }
                check_channel *k = q->chan;
                query_start(q);
                chan_rearm(k);
        }
}

static int query_submit(dns_checker *c, check_channel *k, query_kind kind, const char *name, int qtype,
                        dns_check_job *job, size_t rec, size_t server, zone_info *zone, size_t ns_idx) {
        query *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        *q = (query) { .c = c, .chan = k, .kind = kind, .job = job, .rec = rec, .server = server, .zone = zone,
                       .ns_idx = ns_idx, .qtype = qtype };
        if (!(q->name = strdup(name))) {
                free(q);
                return -ENOMEM;
        }
        q->next = c->queries;
        if (c->queries)
                c->queries->prev = q;
        c->queries = q;
        if (c->pending_tail)
                c->pending_tail->pnext = q;
        else
                c->pending_head = q;
        c->pending_tail = q;
        queue_run(c);
        return 0;
}

/* ---------------------------------------------------------------- verdicts */

static int on_job_defer(sd_event_source *s, void *userdata);

static void job_maybe_done(dns_check_job *j) {
        if (j->n_done < j->records.n || j->defer)
                return;
        if (sd_event_add_defer(j->c->event, &j->defer, on_job_defer, j) < 0)
                on_job_defer(NULL, j);
}

static void rec_finish(rec_state *r) {
        if (r->done)
                return;
        r->done = true;
        r->job->n_done++;
        job_maybe_done(r->job);
}

/* Verdict ranks: a later answer replaces the verdict when it ranks higher. */
static int rank_of(dns_check_status s) {
        switch (s) {
        case DNS_CHECK_WRONG:
                return 3;
        case DNS_CHECK_MISSING:
                return 2;
        case DNS_CHECK_OK:
                return 1;
        default:
                return 0;
        }
}

static void rec_verdict(rec_state *r, dns_check_status s, const char *server, const char *seen, const char *detail) {
        if (rank_of(s) <= r->rank)
                return;
        r->rank = rank_of(s);
        r->status = s;
        free(r->seen);
        free(r->server);
        free(r->detail);
        r->seen = seen ? dns_escape(seen, 512) : NULL;
        r->server = server ? strdup(server) : NULL;
        r->detail = detail ? strdup(detail) : NULL;
}

/* The record cannot be checked at all. */
static void rec_error(rec_state *r, const char *server, const char *detail) {
        rec_verdict(r, DNS_CHECK_ERROR, server, NULL, detail);
        rec_finish(r);
}

static const char *status_detail(int status) {
        switch (status) {
        case ARES_ENODATA:
                return "NODATA";
        case ARES_ENOTFOUND:
                return "NXDOMAIN";
        case ARES_ETIMEOUT:
                return "timeout";
        case ARES_EREFUSED:
                return "REFUSED";
        case ARES_ESERVFAIL:
                return "SERVFAIL";
        case ARES_ENOTIMP:
                return "NOTIMP";
        case ARES_EFORMERR:
                return "FORMERR";
        case ARES_ECONNREFUSED:
                return "connection refused";
        case ARES_EBADRESP:
                return "malformed answer";
        default:
                return ares_strerror(status);
        }
}

static void rec_start_servers(rec_state *r, const dns_server *servers, char *const *labels, size_t n, bool recurse) {
        dns_check_job *j = r->job;
        r->servers = servers;
        r->labels = labels;
        r->n_servers = n;
        if (n == 0)
                return rec_error(r, NULL, "no server to ask");
        for (size_t i = 0; i < n; i++) {
                check_channel *k = chan_get(j->c, &servers[i], recurse);
                if (!k || query_submit(j->c, k, QUERY_CHECK, j->records.items[r->idx].name, T_CNAME_, j, r->idx, i,
                                       NULL, 0) < 0) {
                        r->answered++;
                        rec_verdict(r, DNS_CHECK_ERROR, labels[i], NULL, "out of memory");
                        if (r->answered == r->n_servers)
                                rec_finish(r);
                }
                if (r->done)
                        return;
        }
}

static void check_answer(rec_state *r, query *q, int status, unsigned char *abuf, int alen) {
        const dns_record *rec = &r->job->records.items[r->idx];
        const char *label = r->labels[q->server];

        r->answered++;
        if (status == ARES_SUCCESS) {
                _cleanup_(dns_answer_done) dns_answer a = {};
                int k = dns_answer_parse(abuf, (size_t) alen, rec->name, T_CNAME_, &a);
                if (k < 0)
                        rec_verdict(r, DNS_CHECK_ERROR, label, NULL, k == -ENOMEM ? "out of memory" : "malformed answer");
                else if (!a.targets[0])
                        rec_verdict(r, DNS_CHECK_MISSING, label, NULL, "no CNAME in the answer");
                else if (dns_name_equal(a.targets[0], rec->value))
                        rec_verdict(r, DNS_CHECK_OK, label, NULL, NULL);
                else
                        rec_verdict(r, DNS_CHECK_WRONG, label, a.targets[0], NULL);
        } else if (status == ARES_ENODATA || status == ARES_ENOTFOUND)
                rec_verdict(r, DNS_CHECK_MISSING, label, NULL, status_detail(status));
        else
                rec_verdict(r, DNS_CHECK_ERROR, label, NULL, status_detail(status));
        if (r->answered >= r->n_servers)
                rec_finish(r);
}

/* ---------------------------------------------------------------- zone cuts */

static void rec_walk(rec_state *r);

static zone_info *zone_find(dns_checker *c, const char *name) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (dns_name_equal(c->zones[i]->name, name))
                        return c->zones[i];
        return NULL;
}

static void zone_free(zone_info *z) {
        if (!z)
                return;
        free(z->name);
        strv_free(z->ns);
        for (size_t i = 0; i < z->n_servers; i++)
                free(z->labels[i]);
        free(z->error);
        free(z->waiters);
        free(z);
}

static void rec_use_zone(rec_state *r, zone_info *z) {
        if (z->state == ZONE_READY)
                return rec_start_servers(r, z->servers, z->labels, z->n_servers, false);
        if (z->state == ZONE_FAILED)
                return rec_error(r, NULL, z->error ? z->error : "out of memory");
        if (dns_grow((void **) &z->waiters, &z->cap_waiters, z->n_waiters + 1, sizeof(rec_state *)) < 0)
                return rec_error(r, NULL, "out of memory");
        z->waiters[z->n_waiters++] = r;
        r->waiting = z;
}

static void zone_settle(zone_info *z) {
        if (z->addr_pending > 0)
                return;
        if (z->n_servers > 0)
                z->state = ZONE_READY;
        else {
                z->state = ZONE_FAILED;
                if (!z->error)
                        z->error = strprintf("none of the name servers of %s (%s%s) has an address", z->name,
                                             z->ns[0], z->n_ns > 1 ? ", …" : "");
        }
        while (z->n_waiters > 0) {
                rec_state *r = z->waiters[--z->n_waiters];
                r->waiting = NULL;
                rec_use_zone(r, z);
        }
}

/* The zone named name with NS hosts ns: created once, its hosts' addresses
 * asked. */
static zone_info *zone_get(dns_checker *c, const char *name, char **ns) {
        zone_info *z = zone_find(c, name);
        if (z)
                return z;
        if (dns_grow((void **) &c->zones, &c->cap_zones, c->n_zones + 1, sizeof(zone_info *)) < 0)
                return NULL;
        z = calloc(1, sizeof *z);
        if (!z || !(z->name = strdup(name)) || !(z->ns = calloc(ZONE_SERVERS_MAX + 1, sizeof(char *)))) {
                zone_free(z);
                return NULL;
        }
        for (size_t i = 0; ns[i] && z->n_ns < ZONE_SERVERS_MAX; i++)
                if (!(z->ns[z->n_ns++] = strdup(ns[i]))) {
                        zone_free(z);
                        return NULL;
                }
        c->zones[c->n_zones++] = z;
        z->state = ZONE_RESOLVING;
        z->addr_pending = z->n_ns;
        for (size_t i = 0; i < z->n_ns; i++)
                if (query_submit(c, c->bootstrap, QUERY_ADDR, z->ns[i], 0, NULL, 0, 0, z, i) < 0)
                        z->addr_pending--;
        if (z->addr_pending == 0)
                zone_settle(z);
        return z;
}

static void on_addr(query *q, int status, struct ares_addrinfo *res) {
        zone_info *z = q->zone;
        const struct sockaddr *pick = NULL;

        /* One address per NS host: IPv4 first (IPv6 may have no route). */
        for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next)
                if (n->ai_family == AF_INET || (!pick && n->ai_family == AF_INET6)) {
                        pick = n->ai_addr;
                        if (n->ai_family == AF_INET)
                                break;
                }
        if (status == ARES_SUCCESS && pick && z->n_servers < ZONE_SERVERS_MAX) {
                dns_server *s = &z->servers[z->n_servers];
                char buf[64];
                *s = (dns_server) {};
                if (pick->sa_family == AF_INET) {
                        memcpy(&s->addr, pick, sizeof(struct sockaddr_in));
                        ((struct sockaddr_in *) &s->addr)->sin_port = htons(53);
                        s->addr_len = sizeof(struct sockaddr_in);
                } else {
                        memcpy(&s->addr, pick, sizeof(struct sockaddr_in6));
                        ((struct sockaddr_in6 *) &s->addr)->sin6_port = htons(53);
                        s->addr_len = sizeof(struct sockaddr_in6);
                }
                z->labels[z->n_servers] = strprintf("%s (%s)", dns_server_format(s, buf, sizeof buf), q->name);
                if (z->labels[z->n_servers])
                        z->n_servers++;
        } else if (!z->error)
                z->error = strprintf("the name server %s of %s has no address (%s)", q->name, z->name,
                                     status == ARES_SUCCESS ? "no A or AAAA record" : status_detail(status));
        z->addr_pending--;
        zone_settle(z);
}

static void cut_cache_put(dns_checker *c, const char *name, zone_info *z) {
        for (size_t i = 0; i < c->n_cuts; i++)
                if (dns_name_equal(c->cuts[i].name, name))
                        return;
        char *n = strdup(name);
        if (!n || dns_grow((void **) &c->cuts, &c->cap_cuts, c->n_cuts + 1, sizeof *c->cuts) < 0) {
                free(n);
                return;  /* only a cache */
        }
        c->cuts[c->n_cuts++] = (cut_cache) { .name = n, .zone = z };
}

static void on_cut(rec_state *r, int status, unsigned char *abuf, int alen) {
        dns_checker *c = r->job->c;
        _cleanup_(dns_answer_done) dns_answer a = {};
        bool parsed = abuf && alen > 0 && dns_answer_parse(abuf, (size_t) alen, r->cut, T_NS_, &a) >= 0;

        if (status != ARES_SUCCESS && status != ARES_ENODATA && status != ARES_ENOTFOUND) {
                _cleanup_(freep) char *m = strprintf("cannot find the zone of %s: asking the resolvers for the NS "
                                                     "records of %s failed (%s)",
                                                     r->job->records.items[r->idx].name, r->cut,
                                                     status_detail(status));
                return rec_error(r, NULL, m ? m : "out of memory");
        }
        if (status == ARES_SUCCESS && parsed && a.targets[0]) {
                zone_info *z = zone_get(c, r->cut, a.targets);
                if (!z)
                        return rec_error(r, NULL, "out of memory");
                cut_cache_put(c, r->first_cut, z);
                return rec_use_zone(r, z);
        }
        char *next = NULL;
        if (parsed && a.soa_zone && dns_name_in_zone(r->cut, a.soa_zone) && !dns_name_equal(r->cut, a.soa_zone))
                next = strdup(a.soa_zone);  /* a negative answer names the zone */
        else if (parent_name(r->cut))
                next = strdup(parent_name(r->cut));
        else {
                _cleanup_(freep) char *m = strprintf("cannot find the zone of %s: no NS records above it",
                                                     r->job->records.items[r->idx].name);
                return rec_error(r, NULL, m ? m : "out of memory");
        }
        if (!next)
                return rec_error(r, NULL, "out of memory");
        free(r->cut);
        r->cut = next;
        rec_walk(r);
}

static void rec_walk(rec_state *r) {
        dns_checker *c = r->job->c;

        for (size_t i = 0; i < c->n_cuts; i++)
                if (dns_name_equal(c->cuts[i].name, r->cut)) {
                        cut_cache_put(c, r->first_cut, c->cuts[i].zone);
                        return rec_use_zone(r, c->cuts[i].zone);
                }
        zone_info *z = zone_find(c, r->cut);
        if (z) {
                cut_cache_put(c, r->first_cut, z);
                return rec_use_zone(r, z);
        }
        if (++r->steps > CUT_STEPS_MAX)
                return rec_error(r, NULL, "cannot find the zone: too many steps");
        if (query_submit(c, c->bootstrap, QUERY_CUT, r->cut, T_NS_, r->job, r->idx, 0, NULL, 0) < 0)
                rec_error(r, NULL, "out of memory");
}

/* ---------------------------------------------------------------- answers */

static void on_query_answer(void *arg, int status, int timeouts _unused_, unsigned char *abuf, int alen) {
        query *q = arg;
        dns_checker *c = q->c;

        c->inflight--;
        if (!query_dead(q) && status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
                rec_state *r = &q->job->recs[q->rec];
                if (q->kind == QUERY_CHECK)
                        check_answer(r, q, status, abuf, alen);
                else
                        on_cut(r, status, abuf, alen);
        }
        query_free(q);
        queue_run(c);
}

static void on_addr_answer(void *arg, int status, int timeouts _unused_, struct ares_addrinfo *res) {
        query *q = arg;
        dns_checker *c = q->c;

        c->inflight--;
        if (!query_dead(q) && status != ARES_EDESTRUCTION && status != ARES_ECANCELLED)
                on_addr(q, status, res);
        if (res)
                ares_freeaddrinfo(res);
        query_free(q);
        queue_run(c);
}

/* ---------------------------------------------------------------- jobs */

/* Takes j out of its checker (which j does not touch afterwards): no
 * query, zone or list refers to it any more. */
static void job_unlink(dns_check_job *j) {
        dns_checker *c = j->c;
        if (!c)
                return;
        for (query *q = c->queries; q; q = q->next)
                if (q->job == j)
                        q->job = NULL;
        for (size_t i = 0; i < j->records.n && j->recs; i++) {
                rec_state *r = &j->recs[i];
                zone_info *z = r->waiting;
                for (size_t k = 0; z && k < z->n_waiters; k++)
                        if (z->waiters[k] == r) {
                                z->waiters[k] = z->waiters[--z->n_waiters];
                                break;
                        }
                r->waiting = NULL;
        }
        if (j->prev)
                j->prev->next = j->next;
        else if (c->jobs == j)
                c->jobs = j->next;
        if (j->next)
                j->next->prev = j->prev;
        j->c = NULL;
}

static void job_free(dns_check_job *j) {
        if (!j)
                return;
        job_unlink(j);
        for (size_t i = 0; i < j->records.n && j->recs; i++) {
                rec_state *r = &j->recs[i];
                free(r->cut);
                free(r->first_cut);
                free(r->seen);
                free(r->server);
                free(r->detail);
        }
        sd_event_source_disable_unref(j->defer);
        free(j->recs);
        free(j->ns);
        strv_free(j->ns_labels);
        dns_records_done(&j->records);
        free(j);
}

unsigned dns_checker_inflight(const dns_checker *c) {
        return c ? c->inflight : 0;
}

dns_check_job *dns_check_job_cancel(dns_check_job *j) {
        job_free(j);
        return NULL;
}

static int on_job_defer(sd_event_source *s _unused_, void *userdata) {
        dns_check_job *j = userdata;
        _cleanup_(freep) dns_check_result *res = calloc(j->records.n ? j->records.n : 1, sizeof *res);

        if (!res) {
                /* Tell the caller something rather than nothing. */
                dns_check_result one = { .name = "?", .expected = "?", .status = DNS_CHECK_ERROR,
                                         .detail = "out of memory" };
                job_unlink(j);
                j->cb(&one, 0, j->userdata);
        } else {
                for (size_t i = 0; i < j->records.n; i++) {
                        rec_state *r = &j->recs[i];
                        res[i] = (dns_check_result) {
                                .name = j->records.items[i].name,
                                .expected = j->records.items[i].value,
                                .status = r->rank < 0 ? DNS_CHECK_ERROR : r->status,
                                .seen = r->seen,
                                .server = r->server,
                                .detail = r->rank < 0 ? "no answer" : r->detail,
                        };
                }
                /* The callback may free the checker: j leaves it first. */
                job_unlink(j);
                j->cb(res, j->records.n, j->userdata);
        }
        job_free(j);
        return 0;
}

int dns_check_records(dns_checker *c, const dns_records *records, char *const *nameservers, dns_check_callback cb,
                      void *userdata, dns_check_job **ret) {
        dns_check_job *j;
        size_t n_ns = nameservers ? strv_length(nameservers) : 0;
        int r;

        if (!c || !records || !cb)
                return -EINVAL;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (dns_check_job) { .c = c, .cb = cb, .userdata = userdata };
        j->next = c->jobs;
        if (c->jobs)
                c->jobs->prev = j;
        c->jobs = j;
        if ((r = dns_records_copy(records, &j->records)) < 0 ||
            !(j->recs = calloc(j->records.n ? j->records.n : 1, sizeof *j->recs)) ||
            (n_ns > 0 && (!(j->ns = calloc(n_ns, sizeof *j->ns)) ||
                          !(j->ns_labels = calloc(n_ns + 1, sizeof(char *)))))) {
                job_free(j);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_ns; i++) {
                char buf[64];
                if ((r = dns_server_parse(nameservers[i], &j->ns[i])) < 0) {
                        job_free(j);
                        return r;
                }
                if (!(j->ns_labels[i] = strdup(dns_server_format(&j->ns[i], buf, sizeof buf)))) {
                        job_free(j);
                        return -ENOMEM;
                }
        }
        j->n_ns = n_ns;
        for (size_t i = 0; i < j->records.n; i++)
                j->recs[i] = (rec_state) { .job = j, .idx = i, .rank = -1 };
        for (size_t i = 0; i < j->records.n; i++) {
                const char *parent = parent_name(j->records.items[i].name);
                if (!parent) {
                        rec_error(&j->recs[i], NULL, "a single-label name has no zone to ask");
                        continue;
                }
                if (!(j->recs[i].cut = strdup(parent)) || !(j->recs[i].first_cut = strdup(parent))) {
                        job_free(j);
                        return -ENOMEM;
                }
        }
        /* Nothing below calls back synchronously: verdicts are delivered
         * from a deferred event. */
        if (ret)
                *ret = j;
        for (size_t i = 0; i < j->records.n; i++) {
                rec_state *rs = &j->recs[i];
                if (rs->done)
                        continue;
                if (j->n_ns > 0)
                        rec_start_servers(rs, j->ns, j->ns_labels, j->n_ns, true);
                else
                        rec_walk(rs);
        }
        job_maybe_done(j);
        return 0;
}

char *dns_check_result_format(const dns_check_result *r) {
        const char *srv = r->server ? r->server : "the servers asked";
        switch (r->status) {
        case DNS_CHECK_OK:
                return strprintf("%s CNAME %s is published (%s)", r->name, r->expected, srv);
        case DNS_CHECK_MISSING:
                return strprintf("%s CNAME %s is missing at %s (%s)", r->name, r->expected, srv,
                                 r->detail ? r->detail : "not found");
        case DNS_CHECK_WRONG:
                return strprintf("%s CNAME is %s at %s, not %s", r->name, r->seen ? r->seen : "?", srv, r->expected);
        default:
                return strprintf("%s could not be checked%s%s: %s", r->name, r->server ? " at " : "",
                                 r->server ? r->server : "", r->detail ? r->detail : "no answer");
        }
}

/* ---------------------------------------------------------------- the checker */

int dns_checker_new(sd_event *e, const dns_check_options *o, dns_checker **ret) {
        _cleanup_(freep) dns_server *res = NULL;
        size_t n = o && o->resolvers ? strv_length(o->resolvers) : 0;
        dns_checker *c;
        int r;

        if (!e || !ret)
                return -EINVAL;
        if (n > 0 && !(res = calloc(n, sizeof *res)))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if ((r = dns_server_parse(o->resolvers[i], &res[i])) < 0)
                        return r;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        uint64_t t = o && o->timeout_usec ? o->timeout_usec : TIMEOUT_DEFAULT_USEC;
        c->event = sd_event_ref(e);
        c->timeout_ms = t / USEC_PER_MSEC > 600000 ? 600000 : t / USEC_PER_MSEC < 1 ? 1 : (int) (t / USEC_PER_MSEC);
        c->tries = o && o->tries ? (o->tries > 10 ? 10 : (int) o->tries) : TRIES_DEFAULT;
        c->max_inflight = o && o->max_inflight ? o->max_inflight : INFLIGHT_DEFAULT;
        if ((r = chan_new(c, res, n, true, true, &c->bootstrap)) < 0) {
                dns_checker_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

dns_checker *dns_checker_free(dns_checker *c) {
        if (!c)
                return NULL;
        c->freeing = true;
        while (c->jobs)
                job_free(c->jobs);
        for (query *q = c->queries; q; q = q->next)
                q->zone = NULL;
        /* Queries not started are freed here, started ones by their
         * channel's destruction (ARES_EDESTRUCTION, ignored). */
        for (query *q = c->pending_head, *next; q; q = next) {
                next = q->pnext;
                query_free(q);
        }
        c->pending_head = c->pending_tail = NULL;
        for (size_t i = 0; i < c->n_chans; i++)
                chan_free(c->chans[i]);
        free(c->chans);
        chan_free(c->bootstrap);
        for (size_t i = 0; i < c->n_zones; i++)
                zone_free(c->zones[i]);
        free(c->zones);
        for (size_t i = 0; i < c->n_cuts; i++)
                free(c->cuts[i].name);
        free(c->cuts);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
