/* SPDX-License-Identifier: Apache-2.0 */
/* Median key generation time per key type: bench/keygen [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto/crypto.h"

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        int runs = argc > 1 ? (int) strtol(argv[1], NULL, 10) : 7;
        if (runs < 1 || runs > 100)
                runs = 7;
        const conf_key keys[] = {
                { .type = CONF_KEY_RSA, .bits = 2048 }, { .type = CONF_KEY_RSA, .bits = 3072 },
                { .type = CONF_KEY_RSA, .bits = 4096 }, { .type = CONF_KEY_EC, .curve = CONF_CURVE_P256 },
                { .type = CONF_KEY_EC, .curve = CONF_CURVE_P384 }, { .type = CONF_KEY_EC, .curve = CONF_CURVE_P521 },
        };
        const char *names[] = { "rsa-2048", "rsa-3072", "rsa-4096", "ec-P-256", "ec-P-384", "ec-P-521" };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                double t[100];
                for (int r = 0; r < runs; r++) {
                        struct timespec a, b;
                        EVP_PKEY *k = NULL;
                        clock_gettime(CLOCK_MONOTONIC, &a);
                        if (crypto_key_generate(&keys[i], &k) < 0)
                                return 1;
                        clock_gettime(CLOCK_MONOTONIC, &b);
                        EVP_PKEY_free(k);
                        t[r] = (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
                }
                qsort(t, (size_t) runs, sizeof t[0], cmp);
                printf("%-9s median %8.2f ms  min %8.2f  max %8.2f  (%d runs)\n", names[i], t[runs / 2], t[0], t[runs - 1], runs);
        }
        return 0;
}
