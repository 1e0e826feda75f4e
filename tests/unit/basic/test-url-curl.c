/* SPDX-License-Identifier: Apache-2.0 */
/*
 * url_check_host() against libcurl's URL parser, the one that connects.
 * The agent checks endpoint URLs without libcurl (it is loaded only for an
 * AWS call), so the check must never accept a URL that libcurl reads
 * differently: for every URL it accepts, libcurl must parse it too, with the
 * same scheme, the same host and port (the authority SigV4 signs as Host,
 * letter case aside)
 * and no user name, password or zone id. The URLs are built from pieces
 * known to split parsers (userinfo, backslashes, encodings, IPv4 forms,
 * brackets, ports) and from a seeded random generator. This test links
 * libcurl; the agent does not.
 */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "basic/util.h"

static unsigned n_accepted, n_checked;

/* What the agent takes as the host and port: the authority between "://"
 * and the first '/', '?' or '#' (as aws-request.c's split_url() does). */
static void authority(const char *url, char *buf, size_t size) {
        const char *a = strstr(url, "://");
        assert_non_null(a);
        a += 3;
        size_t n = strcspn(a, "/?#");
        assert_true(n < size);
        memcpy(buf, a, n);
        buf[n] = 0;
}

static void check_one(const char *url) {
        char want[2100], got[2100];
        char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL, *zone = NULL;
        CURLU *u;
        CURLUcode rc;

        n_checked++;
        if (url_check_host(url, URL_HTTP_ECS) != NULL) {
                /* What the ECS rule refuses, the loopback rule refuses too. */
                assert_non_null(url_check_host(url, URL_HTTP_LOOPBACK));
                return;
        }
        n_accepted++;
        u = curl_url();
        assert_non_null(u);
        rc = curl_url_set(u, CURLUPART_URL, url, 0);
        if (rc != CURLUE_OK)
                fail_msg("accepted, but libcurl refuses it (%s): %s", curl_url_strerror(rc), url);
        assert_int_equal(curl_url_get(u, CURLUPART_SCHEME, &scheme, 0), CURLUE_OK);
        assert_true(strneq(url, scheme, strlen(scheme)) && strneq(url + strlen(scheme), "://", 3));
        assert_int_equal(curl_url_get(u, CURLUPART_HOST, &host, 0), CURLUE_OK);
        rc = curl_url_get(u, CURLUPART_PORT, &port, 0);
        assert_true(rc == CURLUE_OK || rc == CURLUE_NO_PORT);
        authority(url, want, sizeof want);
        snprintf(got, sizeof got, "%s%s%s", host, port ? ":" : "", port ? port : "");
        /* Letters may change case (libcurl writes IPv6 in lowercase): the
         * same address, the same host. */
        if (strcasecmp(want, got) != 0)
                fail_msg("accepted, but libcurl reads the authority as '%s', not '%s': %s", got, want, url);
        if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
            curl_url_get(u, CURLUPART_PASSWORD, &password, 0) != CURLUE_NO_PASSWORD ||
            curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_NO_ZONEID)
                fail_msg("accepted, but libcurl finds a user, password or zone id: %s", url);
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
}

static void test_pieces(void **state) {
        static const char *const schemes[] = { "https://", "http://", "HTTP://", "https:/", "https:///" };
        static const char *const hosts[] = {
                "127.0.0.1", "localhost", "LocalHost", "[::1]", "[0:0:0:0:0:0:0:1]", "169.254.170.2",
                "169.254.170.23", "[fd00:ec2::23]", "[FD00:EC2::23]", "[::ffff:127.0.0.1]", "acm.example",
                "acm.example.", "a_b-c.example", "127.1", "0x7f.1", "0177.0.0.1", "2130706433", "127.0.0.1.",
                "1.2.3.4.example", "example.42", "[fe80::1%25eth0]", "[fe80::1%eth0]", "acm%2eexample", "",
                ".", "-", "_", "[::1", "::1", "x",
        };
        static const char *const mids[] = {
                "", ":80", ":443", ":1", ":65535", ":0", ":080", ":65536", ":", ":x", ":+1", ":-1",
                "@evil.example", ":x@evil.example", ":80@evil.example", "\\@evil.example", "%40evil.example",
                "@", ":@", ".evil.example", "]", "[", "\\", "\\\\evil.example", ";@evil.example", "&@x",
                "%00", "%20", ":80:80", "#@evil.example", "?@evil.example", "/@evil.example",
        };
        static const char *const tails[] = { "", "/", "/v2/credentials/x", "?a=b", "#f", "/a@b", "/%2e%2e/", "/\\x" };
        char url[512];

        for (size_t a = 0; a < ELEMENTSOF(schemes); a++)
                for (size_t b = 0; b < ELEMENTSOF(hosts); b++)
                        for (size_t c = 0; c < ELEMENTSOF(mids); c++)
                                for (size_t d = 0; d < ELEMENTSOF(tails); d++) {
                                        snprintf(url, sizeof url, "%s%s%s%s", schemes[a], hosts[b], mids[c],
                                                 tails[d]);
                                        check_one(url);
                                }
}

static uint64_t rng = 0x9e3779b97f4a7c15;

static unsigned rnd(unsigned n) {
        /* xorshift64: reproducible across runs and hosts */
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned) (rng % n);
}

static void test_random(void **state) {
        static const char alphabet[] = "aZ09.-_:[]@/?#%\\;&=+!$'()*,~1fx";
        static const char *const pieces[] = { "127", "0", "1", "255", "localhost", "::", "ffff", "ec2", "fd00",
                                              "169", "254", "170", "23", "2", "example", "evil", "%2e", "%40" };
        char url[256];

        for (int i = 0; i < 200000; i++) {
                size_t n = (size_t) snprintf(url, sizeof url, "%s", rnd(2) ? "https://" : "http://");
                unsigned parts = 1 + rnd(8);
                for (unsigned p = 0; p < parts && n < sizeof url - 16; p++) {
                        if (rnd(3) == 0)
                                n += (size_t) snprintf(url + n, sizeof url - n, "%s", pieces[rnd(ELEMENTSOF(pieces))]);
                        else
                                url[n++] = alphabet[rnd(sizeof alphabet - 1)];
                        url[n] = 0;
                }
                check_one(url);
        }
}

static void test_summary(void **state) {
        /* The corpus must exercise the property: a good share accepted. */
        print_message("%u URLs, %u accepted by url_check_host() and read alike by libcurl %s\n", n_checked,
                      n_accepted, curl_version_info(CURLVERSION_NOW)->version);
        assert_true(n_accepted > 1000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pieces),
                cmocka_unit_test(test_random),
                cmocka_unit_test(test_summary),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
