/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "basic/clock.h"
#include "basic/log.h"
#include "basic/spawn.h"
#include "basic/util.h"

static void rm_rf(const char *p) {
        _cleanup_(freep) char *cmd = strprintf("rm -rf '%s'", p);
        assert_int_equal(system(cmd), 0);
}

/* A hang is a failure, not a stuck test run: the watchdog kills the test. */
static void watchdog(unsigned sec) {
        signal(SIGALRM, SIG_DFL);
        alarm(sec);
}

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

/* write_file_replace: the same replacement by rename (exact mode whatever
 * the umask, no temporary left, a symlink at the path replaced, never
 * followed), without the fsyncs. */
static void test_replace_write(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        _cleanup_(freep) char *path = NULL, *target = NULL, *data = NULL;
        struct stat st;
        size_t len;
        mode_t old = umask(077);

        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "metrics.prom");
        target = path_join(dir, "elsewhere");
        assert_int_equal(write_file_replace(path, "a 1\n", 4, 0644), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(write_file_atomic(target, "keep", 4, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(write_file_replace(path, "a 2\n", 4, 0644), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(read_full_file(path, 100, &data, &len), 0);
        assert_string_equal(data, "a 2\n");
        free(TAKE_PTR(data));
        assert_int_equal(read_full_file(target, 100, &data, &len), 0);
        assert_string_equal(data, "keep");
        DIR *d = opendir(dir);
        assert_non_null(d);
        int n = 0;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        assert_int_equal(n, 2);  /* metrics.prom and elsewhere: no temporary */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(target), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(write_file_replace(path, "x", 1, 0644), -ENOENT);
        umask(old);
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
                "https://acm.example.", "https://vpce-0a1_b.acm.us-east-1.vpce.amazonaws.com:65535/p?q=1#f",
                "https://192.0.2.10/", "https://[2001:db8::1]:443", "http://127.0.0.1?x", "http://127.0.0.1#x",
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
                /* what the narrower grammar refuses: other IPv4 forms curl
                 * reads as 127.0.0.1, ports written oddly, encodings,
                 * backslashes, an uppercase scheme */
                "http://127.1/", "http://0x7f.0.0.1/", "http://2130706433/", "http://0177.0.0.1/",
                "https://acm.example:0443/", "https://acm.example:0/", "https://acm.example:65536/",
                "https://acm.example:/", "https://acm.example:443:443/", "https://acm.example:+443/",
                "http://127.0.0.1\\@evil.example/", "https://acm%2eexample/", "https://[::1", "https://[::1]x/",
                "https://[fe80::1%25eth0]/", "https://[]/", "https://:443/", "HTTPS://acm.example/",
                "https://acm example/", "https://acm.example/\x01", "https://b\xc3\xbc" "cher.example/",
                "https://1.2.3/", "https://acm.example.42/", "http://[0:0:0:0:0:0:0:1]/", "http://[::0001]/",
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

/* Every size reads whole, whether the first buffer is fstat's size or a
 * page, and a file whose size fstat does not know (/proc) is read to its
 * end. */
static void test_read_full_file_sizes(void **state) {
        (void) state;
        static const size_t sizes[] = { 0, 1, 667, 4093, 4094, 4095, 4096, 4097, 10000, 70000 };
        char dir[] = "/tmp/acm-test-XXXXXX";
        _cleanup_(freep) char *path = NULL, *want = malloc(70000);
        char *data = NULL;
        size_t len;

        assert_non_null(want);
        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "f");
        for (size_t i = 0; i < 70000; i++)
                want[i] = (char) ('a' + i % 26);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                assert_int_equal(write_file_atomic(path, want, sizes[i], 0600, (uid_t) -1, (gid_t) -1), 0);
                assert_int_equal(read_full_file(path, 1 << 20, &data, &len), 0);
                assert_int_equal(len, sizes[i]);
                assert_memory_equal(data, want, sizes[i]);
                assert_int_equal(data[len], 0);
                free(TAKE_PTR(data));
                assert_int_equal(read_full_file(path, sizes[i], &data, &len), 0);
                free(TAKE_PTR(data));
        }
        assert_int_equal(read_full_file("/proc/self/status", 1 << 20, &data, &len), 0);
        assert_true(len > 0 && strlen(data) == len && data[len - 1] == '\n');
        free(data);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_read_full_file_special(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        _cleanup_(freep) char *fifo = NULL, *sock = NULL, *reg = NULL, *data = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int s;
        size_t len;

        assert_non_null(mkdtemp(dir));
        fifo = path_join(dir, "fifo");
        sock = path_join(dir, "sock");
        reg = path_join(dir, "reg");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        /* Without O_NONBLOCK the open waits for a writer forever. */
        watchdog(20);
        assert_int_equal(read_full_file(fifo, 100, &data, &len), READ_FULL_FILE_NOT_REGULAR);
        assert_int_equal(READ_FULL_FILE_NOT_REGULAR, -EBADFD);
        assert_int_equal(read_full_file("/dev/null", 100, &data, &len), -EBADFD);
        assert_int_equal(read_full_file("/dev/zero", 100, &data, &len), -EBADFD);
        assert_int_equal(read_full_file(dir, 100, &data, &len), -EISDIR);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
        assert_int_equal(bind(s, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(read_full_file(sock, 100, &data, &len), -ENXIO);
        close(s);
        alarm(0);
        assert_null(data);

        /* Exactly max bytes is fine, one more is -EFBIG; /proc files (st_size 0) are read. */
        assert_int_equal(write_file_atomic(reg, "12345", 5, 0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(read_full_file(reg, 5, &data, &len), 0);
        assert_int_equal(len, 5);
        assert_string_equal(data, "12345");
        free(TAKE_PTR(data));
        assert_int_equal(read_full_file(reg, 4, &data, &len), -EFBIG);
        assert_int_equal(read_full_file("/proc/self/status", 1024 * 1024, &data, &len), 0);
        assert_non_null(strstr(data, "Umask:"));
        free(TAKE_PTR(data));
        assert_int_equal(read_full_file("/proc/self/status", 10, &data, &len), -EFBIG);
        rm_rf(dir);
}

static void test_modes_ignore_umask(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        static const mode_t masks[] = { 077, 022, 0, 0777 };
        struct stat st;
        mode_t old = umask(022);

        assert_non_null(mkdtemp(dir));
        for (size_t i = 0; i < ELEMENTSOF(masks); i++) {
                _cleanup_(freep) char *f = strprintf("%s/f%zu", dir, i);
                _cleanup_(freep) char *d = strprintf("d%zu", i);
                _cleanup_(closep) int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                assert_true(dfd >= 0);
                umask(masks[i]);
                assert_int_equal(write_file_atomic(f, "x", 1, 0644, (uid_t) -1, (gid_t) -1), 0);
                assert_int_equal(mkdirat_mode(dfd, d, 0755), 0);
                assert_int_equal(mkdirat_mode(dfd, d, 0755), -EEXIST);
                umask(022);
                assert_int_equal(stat(f, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);
                assert_int_equal(fstatat(dfd, d, &st, 0), 0);
                assert_int_equal(st.st_mode & 07777, 0755);
        }
        umask(old);
        rm_rf(dir);
}

static void test_temp_files(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        static const char *const keep[] = { "key.pem", ".hidden", "acm-agent-tmp-x", ".acm-agent-tm", "web.json" };
        static const char *const gone[] = { ".acm-agent-tmp-key.pem-0123456789abcdef", ".acm-agent-tmp-", ".acm-agent-tmp-web.json-aa" };
        _cleanup_(closep) int dfd = -1;
        _cleanup_(freep) char *path = NULL, *tmpdir = NULL, *lnk = NULL;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                _cleanup_(freep) char *p = path_join(dir, keep[i]);
                assert_int_equal(write_file_atomic(p, "k", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(gone); i++) {
                _cleanup_(closep) int fd = openat(dfd, gone[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
        }
        /* a leftover symlink goes, its target stays; a directory of that name stays */
        lnk = path_join(dir, ".acm-agent-tmp-current-01");
        assert_int_equal(symlink("key.pem", lnk), 0);
        tmpdir = path_join(dir, ".acm-agent-tmp-dir");
        assert_int_equal(mkdir(tmpdir, 0700), 0);

        assert_int_equal(clean_temp_files(dfd), (int) ELEMENTSOF(gone) + 1);
        for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                assert_int_equal(fstatat(dfd, keep[i], &st, AT_SYMLINK_NOFOLLOW), 0);
        for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                assert_int_equal(fstatat(dfd, gone[i], &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(lstat(lnk, &st), -1);
        assert_int_equal(stat(tmpdir, &st), 0);
        /* nothing left to do the second time; the descriptor is still usable */
        assert_int_equal(clean_temp_files(dfd), 0);
        assert_int_equal(clean_temp_files(-1), -EBADF);

        /* write_file_atomic's temporary carries the prefix (the name is what makes cleaning safe) */
        path = path_join(dir, "state.json");
        assert_true(is_temp_file_name(".acm-agent-tmp-state.json-00"));
        assert_false(is_temp_file_name("state.json"));
        assert_false(is_temp_file_name(".state.json.tmp-00"));
        rm_rf(dir);
}

/* write_file_atomic names its temporary with the prefix, so what a kill
 * between create and rename leaves is what clean_temp_files() removes: the
 * names created in the directory are watched with inotify. */
static void test_atomic_write_temp_name(void **state) {
        char dir[] = "/tmp/acm-test-XXXXXX";
        _cleanup_(freep) char *target = NULL;
        _cleanup_(closep) int ifd = -1;
        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        unsigned created = 0;
        ssize_t k;

        assert_non_null(mkdtemp(dir));
        target = path_join(dir, "web.json");
        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        assert_true(ifd >= 0);
        assert_true(inotify_add_watch(ifd, dir, IN_CREATE) >= 0);
        assert_int_equal(write_file_atomic(target, "x", 1, 0600, (uid_t) -1, (gid_t) -1), 0);
        k = read(ifd, ev, sizeof ev);
        assert_true(k > 0);
        for (char *p = ev; p < ev + k;) {
                struct inotify_event *e = (struct inotify_event *) p;
                assert_true(e->len > 0);
                print_message("created %s\n", e->name);
                assert_true(is_temp_file_name(e->name));
                assert_non_null(strstr(e->name, "web.json"));
                created++;
                p += sizeof *e + e->len;
        }
        assert_int_equal(created, 1);
        rm_rf(dir);
}

static void test_array_reserve(void **state) {
        _cleanup_(freep) int *a = NULL;
        size_t cap = 0;
        unsigned grows = 0;

        for (size_t i = 0; i < 60000; i++) {
                size_t before = cap;
                assert_int_equal(ARRAY_RESERVE(a, cap, i + 1), 0);
                if (cap != before)
                        grows++;
                assert_true(cap >= i + 1);
                a[i] = (int) i;
        }
        /* geometric: about log2(60000 / 8) reallocations, not 60000 */
        assert_true(grows <= 16);
        assert_int_equal(a[59999], 59999);
        size_t cap2 = 0;
        void *p = NULL;
        assert_int_equal(array_reserve(&p, &cap2, SIZE_MAX / 2, 16), -ENOMEM);
        assert_null(p);
        assert_int_equal(cap2, 0);
}

static void test_escape_control(void **state) {
        char buf[16];
        _cleanup_(freep) char *a = escape_control("ok\nfake: issued\r\t\x1b[2J\x7f\x01 \\ caf\xc3\xa9 \xc2\x9b" "1m", 1000);

        assert_string_equal(a, "ok\\nfake: issued\\r\\t\\x1b[2J\\x7f\\x01 \\ caf\xc3\xa9 \\xc2\\x9b" "1m");
        free(a);
        a = escape_control("abcdef", 3);
        assert_string_equal(a, "abc...");
        free(a);
        a = escape_control("", 3);
        assert_string_equal(a, "");
        assert_null(escape_control(NULL, 3));

        assert_string_equal(escape_control_buf("a\nb", buf, sizeof buf), "a\\nb");
        /* never half an escape: 15 usable bytes */
        assert_string_equal(escape_control_buf("0123456789\x1b\x1b\x1b", buf, sizeof buf), "0123456789...");
        assert_string_equal(escape_control_buf("0123456789abcd\n", buf, sizeof buf), "0123456789ab...");
        assert_string_equal(escape_control_buf("0123456789ab\n", buf, sizeof buf), "0123456789ab\\n");
        assert_string_equal(escape_control_buf("0123456789abcd", buf, sizeof buf), "0123456789abcd");
        assert_string_equal(escape_control_buf("0123456789abcdef", buf, sizeof buf), "0123456789ab...");
        assert_string_equal(escape_control_buf("0123456789abcde", buf, sizeof buf), "0123456789abcde");
        assert_string_equal(escape_control_buf("\n\n", buf, 3), "\\n");
        assert_string_equal(escape_control_buf("abc", buf, 1), "");
}

/* A message quoting AWS cannot forge a second log line or clear the screen. */
static void test_log_escapes(void **state) {
        char path[] = "/tmp/acm-test-log-XXXXXX";
        _cleanup_(freep) char *data = NULL;
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);
        size_t n = 0;

        assert_true(fd >= 0 && saved >= 0);
        unsetenv("JOURNAL_STREAM");
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        log_error("AccessDenied: %s", "no\nacm-agent: notice: web: issued\x1b[2J");
        log_cert(LOG_ERR, "we\nb", "x\ty");
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
        close(fd);
        assert_int_equal(read_full_file(path, 4096, &data, NULL), 0);
        unlink(path);
        for (const char *p = data; *p; p++)
                n += *p == '\n';
        assert_int_equal(n, 2);
        assert_non_null(strstr(data, "acm-agent: error: AccessDenied: no\\nacm-agent: notice: web: issued\\x1b[2J\n"));
        assert_non_null(strstr(data, "acm-agent: error: we\\nb: x\\ty\n"));
        assert_null(strchr(data, '\x1b'));
}

/* Hooks and reload commands get umask 022 even when the agent runs with 077. */
static void test_spawn_umask(void **state) {
        char *const argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "umask", NULL };
        char buf[64] = "";
        pid_t pid;
        int out, err, ex, status;
        ssize_t k;
        size_t len = 0;
        mode_t old = umask(077);

        assert_int_equal(spawn_child(argv, NULL, NULL, &pid, &out, &err, &ex), 0);
        umask(old);
        while ((k = read(out, buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t) k;
        buf[len] = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(out);
        close(err);
        close(ex);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_string_equal(buf, "0022\n");
}

static void test_file_kind(void **st) {
        (void) st;
        assert_string_equal(file_kind_string(S_IFREG | 0644), "a regular file");
        assert_string_equal(file_kind_string(S_IFDIR | 0755), "a directory");
        assert_string_equal(file_kind_string(S_IFIFO | 0600), "a FIFO (named pipe)");
        assert_string_equal(file_kind_string(S_IFCHR), "a character device");
        assert_string_equal(file_kind_string(S_IFSOCK), "a socket");
        assert_string_equal(file_kind_string(S_IFLNK | 0777), "a symbolic link");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_parse_mode),     cmocka_unit_test(test_parse_numbers),
                cmocka_unit_test(test_atomic_write),   cmocka_unit_test(test_replace_write),
                cmocka_unit_test(test_clock),
                cmocka_unit_test(test_url_check_host), cmocka_unit_test(test_read_full_file_special),
                cmocka_unit_test(test_read_full_file_sizes),
                cmocka_unit_test(test_modes_ignore_umask), cmocka_unit_test(test_temp_files),
                cmocka_unit_test(test_atomic_write_temp_name), cmocka_unit_test(test_array_reserve),
                cmocka_unit_test(test_escape_control), cmocka_unit_test(test_log_escapes),
                cmocka_unit_test(test_spawn_umask),
                cmocka_unit_test(test_file_kind),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
