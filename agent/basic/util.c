/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/util.h"

int parse_int64(const char *s, int64_t *ret) {
        char *end;
        long long v;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = parse_uint64(s, &v);

        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_duration(const char *s, uint64_t *ret) {
        uint64_t total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        while (*p) {
                uint64_t v = 0, mult;

                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p)) {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*p - '0');
                        p++;
                }
                switch (*p) {
                case 's': mult = 1; break;
                case 'm': mult = 60; break;
                case 'h': mult = 3600; break;
                case 'd': mult = 86400; break;
                case 'w': mult = 7 * 86400; break;
                default: return -EINVAL;
                }
                p++;
                if (v > (UINT64_MAX - total) / mult)
                        return -ERANGE;
                total += v * mult;
        }
        if (total == 0)
                return -EINVAL;
        *ret = total;
        return 0;
}

char *format_duration(uint64_t sec, char *buf, size_t len) {
        static const struct {
                uint64_t n;
                char unit;
        } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
        size_t off = 0;

        if (len == 0)
                return buf;
        buf[0] = 0;
        if (sec == 0) {
                snprintf(buf, len, "0s");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && sec > 0; i++) {
                int k;

                if (sec < units[i].n)
                        continue;
                k = snprintf(buf + off, len - off, "%" PRIu64 "%c", sec / units[i].n, units[i].unit);
                if (k < 0 || (size_t) k >= len - off)
                        break;
                off += (size_t) k;
                sec %= units[i].n;
        }
        return buf;
}

int parse_mode(const char *s, mode_t *ret) {
        unsigned v = 0;
        size_t n;

        if (isempty(s))
                return -EINVAL;
        n = strlen(s);
        if (n > 4)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                v = v * 8 + (unsigned) (*p - '0');
        }
        if (v > 07777)
                return -EINVAL;
        *ret = (mode_t) v;
        return 0;
}

const char *file_kind_string(mode_t m) {
        if (S_ISREG(m))
                return "a regular file";
        if (S_ISDIR(m))
                return "a directory";
        if (S_ISFIFO(m))
                return "a FIFO (named pipe)";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        if (S_ISSOCK(m))
                return "a socket";
        if (S_ISLNK(m))
                return "a symbolic link";
        return "not a regular file";
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        return read_full_file_at(AT_FDCWD, path, max, ret, ret_len);
}

int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -1;
        _cleanup_(freep) char *buf = NULL;
        struct stat st;
        size_t len = 0, cap, limit;

        if (!path || !ret || max >= SIZE_MAX - 2)
                return -EINVAL;
        /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
        fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return READ_FULL_FILE_NOT_REGULAR;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        /* O_NONBLOCK stays: reads of a regular file never return EAGAIN
         * (two fcntl calls less for each of a thousand state files) */
        /* Never hold more than max + 1 bytes (+ the NUL): one byte over max
         * is enough to know the file is too large, whatever st_size said
         * (/proc files say 0, a file may grow while we read). */
        limit = max + 2;
        /* What fstat says, and the NUL: a small file (a state) comes in one
         * read, into a chunk malloc keeps per thread for the next one; a
         * file that says 0 (/proc) starts from a page. */
        cap = st.st_size > 0 ? (size_t) st.st_size + 2 : 4096;
        if (cap > limit)
                cap = limit;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (len + 1 >= cap) {
                        char *nb;
                        size_t ncap;

                        if (cap >= limit)
                                return -EFBIG;
                        ncap = cap > limit / 2 ? limit : cap * 2;
                        nb = realloc(buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                size_t want = cap - len - 1;
                k = read(fd, buf + len, want);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
                /* A short read that brings the size to what fstat said is
                 * the end: no read(2) only to be told so (a thousand state
                 * files a pass). A file that grew meanwhile is read on. */
                if ((size_t) k < want && st.st_size > 0 && len == (size_t) st.st_size)
                        break;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

bool is_temp_file_name(const char *name) {
        return name && strneq(name, TEMP_FILE_PREFIX, sizeof(TEMP_FILE_PREFIX) - 1);
}

int clean_temp_files(int dirfd) {
        DIR *d;
        struct dirent *de;
        int fd, n = 0;

        /* A fresh descriptor: fdopendir takes it over and reads from offset 0. */
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        int r = -errno;
                        closedir(d);
                        return r < 0 ? r : n;
                }
                if (!is_temp_file_name(de->d_name))
                        continue;
                /* flags 0: a directory of that name fails with EISDIR and stays. */
                if (unlinkat(dirfd, de->d_name, 0) >= 0 && n < INT_MAX)
                        n++;
        }
}

int mkdirat_mode(int dirfd, const char *name, mode_t mode) {
        _cleanup_(closep) int fd = -1;
        int r;

        if (!name || (mode & ~07777))
                return -EINVAL;
        /* Created with at most mode (the umask may only narrow it), then set
         * to exactly mode: no window in which it is wider than asked. */
        if (mkdirat(dirfd, name, mode & 0700) < 0)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, mode) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, name, AT_REMOVEDIR);
                return r;
        }
        return 0;
}

int array_reserve(void **p, size_t *cap, size_t need, size_t size) {
        size_t n;
        void *q;

        if (!p || !cap || size == 0)
                return -EINVAL;
        if (need <= *cap)
                return 0;
        n = *cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2;
        if (n < need)
                n = need;
        if (n < 8)
                n = 8;
        if (n > SIZE_MAX / size)
                return -ENOMEM;
        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}

/* Appends the escaped form of byte c (and, for a C1 control, its UTF-8 lead
 * byte 0xc2 already seen) to out; returns its length (at most 8). */
static size_t escape_one(const unsigned char *s, size_t avail, char out[static 9], size_t *consumed) {
        unsigned char c = s[0];

        *consumed = 1;
        switch (c) {
        case '\n': memcpy(out, "\\n", 3); return 2;
        case '\r': memcpy(out, "\\r", 3); return 2;
        case '\t': memcpy(out, "\\t", 3); return 2;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
                snprintf(out, 9, "\\x%02x", c);
                return 4;
        }
        if (c == 0xc2 && avail >= 2 && s[1] >= 0x80 && s[1] <= 0x9f) {
                snprintf(out, 9, "\\xc2\\x%02x", s[1]);
                *consumed = 2;
                return 8;
        }
        out[0] = (char) c;
        out[1] = 0;
        return 1;
}

char *escape_control(const char *s, size_t max) {
        size_t n, o = 0;
        char *r;
        bool cut;

        if (!s)
                return NULL;
        n = strnlen(s, max);
        cut = s[n] != 0;
        if (n > (SIZE_MAX - 4) / 4)
                return NULL;
        /* Each byte becomes at most 4 (a C1 pair, 8 for 2 bytes). */
        r = malloc(n * 4 + 4);
        if (!r)
                return NULL;
        for (size_t i = 0; i < n;) {
                char e[9];
                size_t used, k = escape_one((const unsigned char *) s + i, n - i, e, &used);

                memcpy(r + o, e, k);
                o += k;
                i += used;
        }
        if (cut) {
                memcpy(r + o, "...", 3);
                o += 3;
        }
        r[o] = 0;
        return r;
}

char *escape_control_buf(const char *s, char *buf, size_t size) {
        size_t o = 0, dots = 0, n;

        if (!buf || size == 0)
                return buf;
        buf[0] = 0;
        if (!s)
                return buf;
        n = strlen(s);
        for (size_t i = 0; i < n;) {
                char e[9];
                size_t used, k = escape_one((const unsigned char *) s + i, n - i, e, &used);

                /* the last piece boundary that still leaves room for "..." and the NUL */
                if (o + 3 < size)
                        dots = o;
                if (o + k >= size) {
                        if (size >= 4) {
                                memcpy(buf + dots, "...", 3);
                                o = dots + 3;
                        }
                        break;
                }
                memcpy(buf + o, e, k);
                o += k;
                i += used;
        }
        buf[o] = 0;
        return buf;
}

int harden_process(void) {
        struct rlimit rl = { 0, 0 };
        int r = 0;

        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                r = -errno;
        if (setrlimit(RLIMIT_CORE, &rl) < 0 && r == 0)
                r = -errno;
        (void) umask(077);
        return r;
}

int write_all(int fd, const void *data, size_t len) {
        const char *p = data;

        while (len > 0) {
                ssize_t k = write(fd, p, len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int fsync_parent_dir(const char *path) {
        _cleanup_(freep) char *dir = strdup(path);
        _cleanup_(closep) int fd = -1;
        char *slash;
        struct stat st;

        if (!dir)
                return -ENOMEM;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                slash = strrchr(dir, '/');
                if (!slash)
                        strcpy(dir, ".");
                else if (slash == dir)
                        dir[1] = 0;
                else
                        *slash = 0;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
                              bool sync) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -1;
        uint8_t rnd[8];
        char hex[17];
        int r;

        r = random_bytes(rnd, sizeof rnd);
        if (r < 0)
                return r;
        hex_encode(rnd, sizeof rnd, hex);
        {
                const char *slash = strrchr(path, '/');
                const char *base = slash ? slash + 1 : path;
                int dl = slash ? (int) (slash - path + 1) : 0;

                if (isempty(base))
                        return -EINVAL;
                /* dir/.acm-agent-tmp-<name>-<hex>, the name cut to stay under NAME_MAX */
                tmp = strprintf("%.*s" TEMP_FILE_PREFIX "%.200s-%s", dl, path, base, hex);
        }
        if (!tmp)
                return -ENOMEM;
        /* umask must not widen or narrow the mode we were asked for: fchmod
         * before any data is written, so there is no window with wrong bits. */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0600);
        if (fd < 0)
                return -errno;
        if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0)
                goto fail;
        if (fchmod(fd, mode) < 0)
                goto fail;
        r = write_all(fd, data, len);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        if (sync && fsync(fd) < 0)
                goto fail;
        if (close(TAKE_FD(fd)) < 0)
                goto fail;
        if (rename(tmp, path) < 0)
                goto fail;
        return sync ? fsync_parent_dir(path) : 0;
fail:
        r = -errno;
        (void) unlink(tmp);
        return r;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        return write_file_renamed(path, data, len, mode, uid, gid, true);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode) {
        return write_file_renamed(path, data, len, mode, (uid_t) -1, (gid_t) -1, false);
}

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);

        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        return strprintf("%.*s/%s", (int) la, a, b);
}

char *strprintf(const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
        }
        return c;
}

void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

int random_bytes(void *buf, size_t n) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = 0;
}

static bool host_is(const char *host, url_http_hosts hosts) {
        struct in6_addr a6;
        struct in_addr a4;
        size_t n = strlen(host);

        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
                char buf[INET6_ADDRSTRLEN + 1];
                if (n - 2 >= sizeof buf)
                        return false;
                memcpy(buf, host + 1, n - 2);
                buf[n - 2] = 0;
                if (inet_pton(AF_INET6, buf, &a6) != 1)
                        return false;
                if (IN6_IS_ADDR_LOOPBACK(&a6))
                        return true;
                static const uint8_t eks[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };
                return hosts == URL_HTTP_ECS && memcmp(&a6, eks, 16) == 0;
        }
        if (inet_pton(AF_INET, host, &a4) != 1)
                return false;
        uint32_t ip = ntohl(a4.s_addr);
        if ((ip >> 24) == 127)
                return true;
        return hosts == URL_HTTP_ECS && (ip == 0xa9feaa02 || ip == 0xa9feaa17);
}

/* Letters, digits and '.', '-', '_' (in any locale): a host name that
 * every URL parser reads the same way (no percent-encoding, no '@', no IDN). */
static bool host_name_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
                    ch != '.' && ch != '-' && ch != '_')
                        return false;
        }
        return n > 0;
}

const char *url_check_host(const char *url, url_http_hosts hosts) {
        const char *auth, *end, *hend;
        char host[256];
        bool http;

        if (!url || strlen(url) > 2048)
                return "URL missing or longer than 2048 characters";
        for (const char *p = url; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f || *p == '\\')
                        return "the URL contains spaces, control characters, backslashes or non-ASCII bytes";
        if (strneq(url, "https://", 8))
                auth = url + 8, http = false;
        else if (strneq(url, "http://", 7))
                auth = url + 7, http = true;
        else
                return "not an https:// URL";
        /* The authority ends where libcurl (and RFC 3986) end it. An '@' in
         * it makes what precedes a user name: curl would connect to what
         * follows. */
        end = auth + strcspn(auth, "/?#");
        if (memchr(auth, '@', (size_t) (end - auth)))
                return "the URL has a user name or password part (user@host): not allowed";
        if (auth[0] == '[') {
                hend = memchr(auth, ']', (size_t) (end - auth));
                hend = hend ? hend + 1 : end;
        } else {
                hend = memchr(auth, ':', (size_t) (end - auth));
                hend = hend ? hend : end;
        }
        size_t hl = (size_t) (hend - auth);
        if (hl == 0)
                return "the URL has no host";
        if (hl >= sizeof host)
                return "the host is longer than 255 characters";
        memcpy(host, auth, hl);
        host[hl] = 0;
        if (hend < end) {
                /* ":PORT", 1 to 65535, written plainly (no sign, no leading zero). */
                const char *port = hend + 1;
                size_t pl = (size_t) (end - port);
                unsigned long v = 0;
                if (hend[0] != ':' || pl == 0 || pl > 5 || port[0] == '0')
                        return "write the port as :NUMBER (1 to 65535) right after the host";
                for (size_t i = 0; i < pl; i++) {
                        if (port[i] < '0' || port[i] > '9')
                                return "write the port as :NUMBER (1 to 65535) right after the host";
                        v = v * 10 + (unsigned long) (port[i] - '0');
                }
                if (v > 65535)
                        return "write the port as :NUMBER (1 to 65535) right after the host";
        }
        if (host[0] == '[') {
                struct in6_addr a6;
                char buf[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
                if (hl < 3 || host[hl - 1] != ']' || hl - 2 >= sizeof buf)
                        return "not an IPv6 address in [ ]";
                memcpy(buf, host + 1, hl - 2);
                buf[hl - 2] = 0;
                if (inet_pton(AF_INET6, buf, &a6) != 1)
                        return "not an IPv6 address in [ ]";
                /* libcurl rewrites the address in its short form (and would
                 * send that as Host, not what was signed). */
                if (!inet_ntop(AF_INET6, &a6, canon, sizeof canon) || strcasecmp(canon, buf) != 0)
                        return "write the IPv6 address in its short form ([::1], not [0:0:0:0:0:0:0:1])";
        } else {
                struct in_addr a4;
                const char *last = strrchr(host, '.');
                if (!host_name_chars(host, hl))
                        return "the host may have letters, digits, '.', '-' and '_' only";
                /* No top-level domain starts with a digit; a host that ends
                 * in one is an IPv4 address, which libcurl would read in
                 * any of its forms (127.1, 0x7f.1, 2130706433): only the
                 * dotted decimal one is accepted, so both read the same. */
                last = last ? last + 1 : host;
                if (last[0] >= '0' && last[0] <= '9' && inet_pton(AF_INET, host, &a4) != 1)
                        return "write an IPv4 address as four decimal numbers (a.b.c.d)";
        }
        if (http && !host_is(host, hosts))
                return hosts == URL_HTTP_ECS ? "plain http is allowed only to the loopback address (127.0.0.0/8, ::1, "
                                               "localhost) or 169.254.170.2, 169.254.170.23, fd00:ec2::23"
                                             : "plain http is allowed only to the loopback address (127.0.0.0/8, ::1, "
                                               "localhost)";
        return NULL;
}
