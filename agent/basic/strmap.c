/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strmap.h"

typedef struct slot {
        const char *key;
        void *value;
} slot;

struct strmap {
        slot *slots;
        size_t cap;   /* a power of two, or 0 */
        size_t n;
};

static uint64_t hash(const char *s) {
        uint64_t h = 14695981039346656037ULL;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 1099511628211ULL;
        }
        return h;
}

/* The slot of key, or the empty slot where it would go. */
static slot *find(const strmap *m, const char *key) {
        size_t i = (size_t) hash(key) & (m->cap - 1);
        while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
                i = (i + 1) & (m->cap - 1);
        return &m->slots[i];
}

strmap *strmap_new(void) {
        return calloc(1, sizeof(strmap));
}

void strmap_free(strmap *m) {
        if (!m)
                return;
        free(m->slots);
        free(m);
}

static int grow(strmap *m) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        slot *old = m->slots;
        size_t old_cap = m->cap;

        if (cap < m->cap)
                return -ENOMEM;
        m->slots = calloc(cap, sizeof(slot));
        if (!m->slots) {
                m->slots = old;
                return -ENOMEM;
        }
        m->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].key)
                        *find(m, old[i].key) = old[i];
        free(old);
        return 0;
}

int strmap_put(strmap *m, const char *key, void *value, void **ret_old) {
        slot *s;

        if (!m || !key || !value)
                return -EINVAL;
        if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
                return -ENOMEM;
        s = find(m, key);
        if (s->key) {
                if (ret_old)
                        *ret_old = s->value;
                return -EEXIST;
        }
        *s = (slot) { .key = key, .value = value };
        m->n++;
        return 0;
}

void *strmap_get(const strmap *m, const char *key) {
        if (!m || !key || m->cap == 0)
                return NULL;
        return find(m, key)->value;
}

size_t strmap_size(const strmap *m) {
        return m ? m->n : 0;
}
