/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

/*
 * A map from NUL-terminated strings to pointers, for finding a certificate
 * by name among a thousand without comparing it to each (open addressing,
 * FNV-1a, grown at 1/2 load). Keys are not copied: each must outlive its
 * entry. No removal: maps are built, read and freed.
 */
typedef struct strmap strmap;

/* An empty map, or NULL when out of memory. */
strmap *strmap_new(void);

/* Frees the map (not the keys or values). NULL is fine. */
void strmap_free(strmap *m);

/* Adds key -> value. Returns 0, -EEXIST (the key is there: nothing
 * changed, *ret_old if not NULL is the value it has) or -ENOMEM. value must
 * not be NULL. */
int strmap_put(strmap *m, const char *key, void *value, void **ret_old);

/* The value of key, or NULL. */
void *strmap_get(const strmap *m, const char *key);

/* The number of entries. */
size_t strmap_size(const strmap *m);
