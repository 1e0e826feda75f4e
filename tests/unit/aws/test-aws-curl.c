/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libcurl loader (aws/aws-curl.c). This program links the agent's
 * library the way acm-agent does, so libcurl is not mapped until
 * aws_curl_load() runs. The failure runs first, in a child process (the
 * load is decided once per process): the curl-load test point makes the
 * dlopen() fail as on a host without libcurl, and the client refuses to be
 * created with the loader's message. Then the real load, raced by several
 * threads: every function of AWS_CURL_FUNCTIONS is resolved to libcurl's
 * own symbol.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/aws-curl.h"
#include "aws/aws.h"
#include "basic/macro.h"
#include "basic/util.h"

/* Whether libcurl is mapped into this process (without loading it). */
static bool curl_mapped(void) {
        void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_NOLOAD);
        if (!h)
                return false;
        dlclose(h);
        return true;
}

#define CHILD_CHECK(x)                                                                                      \
        do {                                                                                                \
                if (!(x)) {                                                                                 \
                        fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #x);                      \
                        _exit(1);                                                                           \
                }                                                                                           \
        } while (0)

static void child_without_curl(void) {
        sd_event *e = NULL;
        aws_client *c = (aws_client *) (uintptr_t) 1;
        const char *m;

        CHILD_CHECK(setenv("ACM_AGENT_TEST_FAIL_AT", "curl-load", 1) == 0);
        CHILD_CHECK(aws_curl_load_error() == NULL);
        CHILD_CHECK(aws_curl_load() == -ELIBACC);
        m = aws_curl_load_error();
        CHILD_CHECK(m != NULL);
        fprintf(stderr, "child: %s\n", m);
        /* names the library and carries the dynamic loader's reason */
        CHILD_CHECK(strstr(m, "AWS calls need libcurl (" CURL_SONAME ")") != NULL);
        CHILD_CHECK(strstr(m, "cannot open shared object file") != NULL);
        /* says how to fix it, on one line (it ends up in one log line) */
        CHILD_CHECK(strstr(m, "apt-get install libcurl4") != NULL);
        CHILD_CHECK(strstr(m, "dnf install libcurl") != NULL);
        CHILD_CHECK(strchr(m, '\n') == NULL);
        CHILD_CHECK(aws_curl.easy_init == NULL && aws_curl.global_init == NULL);
        /* decided once */
        CHILD_CHECK(aws_curl_load() == -ELIBACC && aws_curl_load_error() == m);
        /* the client says the same, writes nothing, and nothing crashes */
        CHILD_CHECK(sd_event_new(&e) >= 0);
        CHILD_CHECK(aws_client_new(e, NULL, &c) == -ELIBACC);
        CHILD_CHECK(c == (aws_client *) (uintptr_t) 1);
        CHILD_CHECK(streq(aws_client_strerror(-ELIBACC), m));
        CHILD_CHECK(streq(aws_client_strerror(-EINVAL), strerror(EINVAL)));
        CHILD_CHECK(!curl_mapped());
        sd_event_unref(e);
        _exit(0);
}

static void test_load_fails(void **state) {
        int status;
        pid_t pid;

        assert_false(curl_mapped()); /* the agent's library does not link libcurl */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                child_without_curl();
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_false(curl_mapped());
}

static void *load_thread(void *arg) {
        *(int *) arg = aws_curl_load();
        return NULL;
}

static void test_load(void **state) {
        pthread_t threads[4];
        int results[ELEMENTSOF(threads)];
        void *h;

        assert_false(curl_mapped());
        assert_null(aws_curl_load_error());
        for (size_t i = 0; i < ELEMENTSOF(threads); i++)
                assert_int_equal(pthread_create(&threads[i], NULL, load_thread, &results[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(threads); i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                assert_int_equal(results[i], 0);
        }
        assert_int_equal(aws_curl_load(), 0);
        assert_null(aws_curl_load_error());
        assert_true(curl_mapped());

        /* every member is libcurl's own function of that name */
        h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_NOLOAD);
        assert_non_null(h);
        size_t n = 0;
#define SAME(name)                                                                                          \
        do {                                                                                                \
                void *want = dlsym(h, "curl_" #name);                                                       \
                assert_non_null(want);                                                                      \
                assert_ptr_equal((void *) aws_curl.name, want);                                             \
                n++;                                                                                        \
        } while (0);
        AWS_CURL_FUNCTIONS(SAME)
#undef SAME
        assert_int_equal(n * sizeof(void (*)(void)), sizeof(aws_curl_api));
        dlclose(h);

        assert_true(aws_curl.version_info(CURLVERSION_NOW)->version_num >= CURL_MIN_VERSION_NUM);
        /* and they work (curl_global_init() has run) */
        CURL *easy = aws_curl.easy_init();
        assert_non_null(easy);
        char errbuf[CURL_ERROR_SIZE];
        long status = -1;
        assert_int_equal(aws_curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf), CURLE_OK);
        assert_int_equal(aws_curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
        assert_int_equal(aws_curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
        assert_int_equal(status, 0);
        aws_curl.easy_cleanup(easy);
        struct curl_slist *l = aws_curl.slist_append(NULL, "X-Test: 1");
        assert_non_null(l);
        aws_curl.slist_free_all(l);
        assert_string_equal(aws_curl.easy_strerror(CURLE_OK), "No error");
}

static void test_client(void **state) {
        sd_event *e = NULL;
        aws_client *c = NULL;

        assert_true(sd_event_new(&e) >= 0);
        assert_int_equal(aws_client_new(e, NULL, &c), 0);
        assert_non_null(c);
        aws_client_unref(c);
        sd_event_unref(e);
        assert_string_equal(aws_client_strerror(-ELIBACC), strerror(ELIBACC)); /* loaded: no message */
}

int main(void) {
        /* In this order: the failure must run before this process loads libcurl. */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_fails),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_client),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
