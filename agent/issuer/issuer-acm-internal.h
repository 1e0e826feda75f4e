/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared between issuer-acm.c (the flow of one certificate) and
 * issuer-acm-shared.c (what the certificates of one engine share): the
 * objects a machine waits on, kept in the engine's cache (machine_cache_*)
 * per configuration generation (the key carries machine_conf()), so a
 * configuration swapped by the daemon never shares an object — or an AWS
 * client — with the one before.
 *
 * Lifetime: every shared object is reference counted; the cache holds one
 * reference and every waiter one more, so the engine dropping its cache (a
 * reconfiguration) never frees an object a machine still waits on. An
 * object makes its AWS calls with the client of a machine that waits on it
 * (machine_aws()), and cancels its call when the last waiter leaves: no
 * call outlives the machines (and configuration) it is made for.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "engine/engine-issuer.h"
#include "issuer/issuer-dns-check.h"
#include "issuer/issuer-dns-route53.h"

typedef struct acm_shared acm_shared;
typedef struct acm_wait acm_wait;

/* A machine's place in a shared object's queue. Embed it; it is linked
 * while waiting (owner set) and unlinked before done() is called. */
struct acm_wait {
        acm_wait *prev, *next;
        acm_shared *owner;         /* the object waited on, NULL when not waiting */
        machine *m;                /* whose AWS client the object's calls use */
        void (*done)(acm_wait *w); /* called once from the loop, unlinked already */
        /* the poller's */
        const char *arn; /* borrowed from the waiter */
        time_t created;  /* its CreatedAt (emulator or AWS clock), 0 unknown */
        uint64_t since;  /* set by the poller: when it started waiting (CLOCK_MONOTONIC) */
        /* results, valid during done() only */
        const char *status; /* poller: the certificate's Status; NULL on error */
        const char *error;  /* any object: why it failed (the operator's line), else NULL */
        bool no_client;     /* finder: error is that the AWS client cannot be set up (no call made) */
        json_t *summaries;  /* finder: the candidate summaries (borrowed) */
        const char *pem;    /* CA: the CA's certificate and its chain */
};

/* Leaves the queue (no done() call). Accepts an unlinked waiter. */
void acm_wait_cancel(acm_wait *w);

/*
 * The account's certificates the agent may have requested, listed once per
 * engine (ListCertificates: PENDING_VALIDATION and ISSUED, every key type —
 * EC ones are hidden by default — all pages), kept for 10 minutes. done()
 * gets w->summaries (CertificateSummary objects) or w->error. Returns 0
 * (done() comes later from the loop) or -ENOMEM.
 */
int acm_finder_wait(machine *m, acm_wait *w);

/*
 * Tells w when certificate w->arn (created at w->created) leaves
 * PENDING_VALIDATION: one ListCertificates for every waiting certificate
 * of the engine (every status but PENDING_VALIDATION, newest first, pages
 * only back to the oldest waiter), every third of the time the newest
 * waiter has waited, 2 s to 20 s (a fresh certificate is looked for soon, a
 * long wait sparsely), instead of a DescribeCertificate per certificate
 * (DescribeCertificate: 10/s for the whole account). done() gets
 * w->status, or w->error when listing failed (then describe it yourself).
 * Returns 0 or -ENOMEM.
 */
int acm_poller_wait(machine *m, acm_wait *w);

/* A reference to a shared object that is not waited on (DNS publisher,
 * checker). */
typedef struct acm_ref acm_ref;
acm_ref *acm_ref_unref(acm_ref *r);

/*
 * The engine's Route 53 publisher for cert's dns.role_arn (one per role),
 * batching the records of every certificate: its batch window grows with
 * the number of Route 53-validated certificates of the configuration (200
 * ms each, 0.5 s to 12 s), so a fleet's records go in few
 * ChangeResourceRecordSets. *ret_ref keeps it alive (acm_ref_unref).
 * Returns 0, -errno (AWS client, role settings).
 */
int acm_route53_get(machine *m, dns_route53 **ret, acm_ref **ret_ref);

/* The engine's DNS checker (issuer-dns-check.h). Returns 0 or -errno. */
int acm_checker_get(machine *m, dns_checker **ret, acm_ref **ret_ref);

/*
 * The certificate of Private CA ca_arn and its chain
 * (GetCertificateAuthorityCertificate), asked once per engine and kept for
 * 10 minutes: the anchor private ACM certificates are verified against.
 * done() gets w->pem or w->error. Returns 0 or -ENOMEM.
 */
int acm_ca_wait(machine *m, const char *ca_arn, acm_wait *w);
