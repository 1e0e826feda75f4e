/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Shared by the issuer-dns*.c modules only. */
#include <stddef.h>

#include "issuer/issuer-dns.h"

/* Every provider's job starts with this; dns_job_cancel() calls cancel,
 * which frees the job without calling back. */
struct dns_job {
        void (*cancel)(dns_job *j);
};

/*
 * Copies at most max bytes of s with control characters (C0, DEL) written
 * as \n, \r, \t or \xNN, so text from outside (AWS messages, DNS answers)
 * cannot forge a log line; "..." marks a cut. Returns a malloc'd string,
 * NULL on OOM or when s is NULL.
 */
char *dns_escape(const char *s, size_t max);

/*
 * Makes room for need elements of size bytes in *p (capacity *cap):
 * doubled, at least 8, so n appends cost O(n). 0, or -ENOMEM with *p and
 * *cap untouched. (basic/'s array_reserve() does the same once it lands.)
 */
int dns_grow(void **p, size_t *cap, size_t need, size_t size);
