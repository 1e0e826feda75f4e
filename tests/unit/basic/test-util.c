/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "basic/clock.h"
#include "basic/util.h"

static void test_parse_duration(void **state) {
        uint64_t v;

        assert_int_equal(parse_duration("30d", &v), 0);
        assert_int_equal(v, 30 * 86400);
        assert_int_equal(parse_duration("12h", &v), 0);
        assert_int_equal(v, 12 * 3600);
        assert_int_equal(parse_duration("90m", &v), 0);
        assert_int_equal(v, 90 * 60);
        assert_int_equal(parse_duration("45s", &v), 0);
        assert_int_equal(v, 45);
        assert_int_equal(parse_duration("1d12h", &v), 0);
        assert_int_equal(v, 86400 + 12 * 3600);
        assert_int_equal(parse_duration("2w", &v), 0);
        assert_int_equal(v, 14 * 86400);
        assert_int_equal(parse_duration("", &v), -EINVAL);
        assert_int_equal(parse_duration("30", &v), -EINVAL);
        assert_int_equal(parse_duration("d", &v), -EINVAL);
        assert_int_equal(parse_duration("30x", &v), -EINVAL);
        assert_int_equal(parse_duration("-3d", &v), -EINVAL);
        assert_int_equal(parse_duration("0s", &v), -EINVAL);
        assert_int_equal(parse_duration(" 3d", &v), -EINVAL);
        assert_int_equal(parse_duration("99999999999999999999d", &v), -ERANGE);
}

static void test_format_duration(void **state) {
        char buf[32];

        assert_string_equal(format_duration(30 * 86400, buf, sizeof buf), "30d");
        assert_string_equal(format_duration(86400 + 3600 + 5, buf, sizeof buf), "1d1h5s");
        assert_string_equal(format_duration(0, buf, sizeof buf), "0s");
}

static void test_parse_mode(void **state) {
        mode_t m;

        assert_int_equal(parse_mode("0640", &m), 0);
        assert_int_equal(m, 0640);
        assert_int_equal(parse_mode("600", &m), 0);
        assert_int_equal(m, 0600);
        assert_int_equal(parse_mode("0800", &m), -EINVAL);
        assert_int_equal(parse_mode("12345", &m), -EINVAL);
        assert_int_equal(parse_mode("rw", &m), -EINVAL);
}

static void test_parse_numbers(void **state) {
        int64_t i;
        uint64_t u;
        uint32_t u32;

        assert_int_equal(parse_int64("-42", &i), 0);
        assert_int_equal(i, -42);
        assert_int_equal(parse_int64("42x", &i), -EINVAL);
        assert_int_equal(parse_uint64("-1", &u), -EINVAL);
        assert_int_equal(parse_uint32("4294967296", &u32), -ERANGE);
        assert_int_equal(parse_uint32("4294967295", &u32), 0);
}

static void test_atomic_write(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        _cleanup_(freep) char *path = NULL, *data = NULL;
        struct stat st;
        size_t len;

        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "f");
        assert_int_equal(write_file_atomic(path, "one", 3, 0640, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic(path, "two!", 4, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_full_file(path, 100, &data, &len), 0);
        assert_int_equal(len, 4);
        assert_string_equal(data, "two!");
        free(TAKE_PTR(data));
        assert_int_equal(read_full_file(path, 3, &data, &len), -EFBIG);
        /* A failing write (directory gone) leaves no temporary behind and reports errno. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(write_file_atomic(path, "x", 1, 0600, (uid_t) -1, (gid_t) -1), -ENOENT);
}

static void test_clock(void **state) {
        char buf[21];
        time_t t, now = clock_now();

        clock_set_offset(86400);
        assert_true(clock_now() - now >= 86400);
        clock_set_offset(0);
        assert_string_equal(clock_format_rfc3339(1700000000, buf), "2023-11-14T22:13:20Z");
        assert_int_equal(clock_parse_rfc3339("2023-11-14T22:13:20Z", &t), 0);
        assert_int_equal(t, 1700000000);
        assert_int_equal(clock_parse_rfc3339("2023-11-14T22:13:20.123Z", &t), 0);
        assert_int_equal(t, 1700000000);
        assert_int_equal(clock_parse_rfc3339("2023-11-14 22:13:20", &t), -EINVAL);
}

static void test_url_check_host(void **state) {
        static const char *const good_loopback[] = {
                "https://acm.example", "https://acm.example:8443/x", "http://127.0.0.1:4566", "http://127.8.9.10/",
                "http://localhost", "http://LOCALHOST:80/", "http://[::1]:8080/", "http://127.0.0.1",
        };
        static const char *const good_ecs[] = {
                "http://169.254.170.2/v2/credentials/x", "http://169.254.170.23/v1/credentials",
                "http://[fd00:ec2::23]/v1/credentials", "http://[FD00:EC2::23]:80/", "http://127.0.0.1:9/c",
                "http://localhost/c", "http://[::1]/c", "https://creds.example/c",
        };
        static const char *const bad_both[] = {
                /* userinfo: curl would connect to evil.example */
                "http://localhost:x@evil.example/", "http://169.254.170.2:80@evil.example/",
                "http://127.0.0.1@evil.example/", "http://[::1]:1@evil.example/", "https://user:pw@acm.example/",
                "https://user@acm.example/",
                /* near misses of the allowed hosts */
                "http://[fd00:ec2::2]/", "http://[fd00:ec2::230]/", "http://169.254.170.20/", "http://169.254.170.3/",
                "http://localhost.evil.example/", "http://127.0.0.1.evil.example/", "http://localhostx/",
                "http://128.0.0.1/", "http://[::2]/", "http://example.com/", "http://192.0.2.10/creds",
                /* not http(s), no host */
                "ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1", "https://", "",
        };
        for (size_t i = 0; i < ELEMENTSOF(good_loopback); i++) {
                print_message("%s\n", good_loopback[i]);
                assert_null(url_check_host(good_loopback[i], URL_HTTP_LOOPBACK));
                assert_null(url_check_host(good_loopback[i], URL_HTTP_ECS));
        }
        for (size_t i = 0; i < ELEMENTSOF(good_ecs); i++) {
                print_message("%s\n", good_ecs[i]);
                assert_null(url_check_host(good_ecs[i], URL_HTTP_ECS));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_both); i++) {
                print_message("%s\n", bad_both[i]);
                assert_non_null(url_check_host(bad_both[i], URL_HTTP_LOOPBACK));
                assert_non_null(url_check_host(bad_both[i], URL_HTTP_ECS));
        }
        /* The ECS addresses are not loopback endpoints. */
        assert_non_null(strstr(url_check_host("http://169.254.170.2/", URL_HTTP_LOOPBACK), "loopback"));
        assert_non_null(url_check_host("http://[fd00:ec2::23]/", URL_HTTP_LOOPBACK));
        assert_non_null(strstr(url_check_host("http://localhost:x@evil.example/", URL_HTTP_ECS), "user name"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_parse_mode),     cmocka_unit_test(test_parse_numbers),
                cmocka_unit_test(test_atomic_write),   cmocka_unit_test(test_clock),
                cmocka_unit_test(test_url_check_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
