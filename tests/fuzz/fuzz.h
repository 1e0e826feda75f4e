/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * libFuzzer harnesses for the parsers of outside input. Each harness is one
 * file defining LLVMFuzzerTestOneInput(); it is linked twice: with
 * -fsanitize=fuzzer by tools/fuzz.sh (the clang build in build-fuzz/), and
 * with replay-main.c into a plain program that `make check` runs over the
 * harness's corpus in tests/fuzz/NAME/ (seeds and every crash ever found),
 * so a regression is caught without clang. A harness aborts on a broken
 * invariant so the fuzzer reports it as a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                      \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                              \
                }                                                                             \
        } while (0)

/* Splits data at the first line "marker" (with its newline): the text before
 * goes to a, the text after to b (NULL when absent). Copies are NUL-terminated
 * (caller frees). */
static inline int fuzz_split(const uint8_t *data, size_t size, const char *marker, char **a, char **b) {
        size_t ml = 0, cut = size, rest = size;

        while (marker[ml])
                ml++;
        for (size_t i = 0; i + ml <= size; i++) {
                size_t k = 0;
                while (k < ml && data[i + k] == (uint8_t) marker[k])
                        k++;
                if (k == ml) {
                        cut = i;
                        rest = i + ml;
                        break;
                }
        }
        *a = malloc(cut + 1);
        *b = cut < size ? malloc(size - rest + 1) : NULL;
        if (!*a || (cut < size && !*b)) {
                free(*a);
                free(*b);
                return -1;
        }
        for (size_t i = 0; i < cut; i++)
                (*a)[i] = (char) data[i];
        (*a)[cut] = 0;
        if (*b) {
                for (size_t i = rest; i < size; i++)
                        (*b)[i - rest] = (char) data[i];
                (*b)[size - rest] = 0;
        }
        return 0;
}
