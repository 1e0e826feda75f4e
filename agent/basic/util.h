/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"

/*
 * Strict number parsing: the whole string must be a number in range (no
 * leading/trailing junk, no sign for the unsigned forms). Returns 0 and sets
 * *ret, -EINVAL for junk, -ERANGE when out of range.
 */
int parse_int64(const char *s, int64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);

/*
 * Parses a duration: a positive integer followed by one unit of s, m, h, d
 * or w ("30d", "12h", "90m", "45s"); combinations ("1d12h") are accepted.
 * Returns 0 and sets *ret (seconds), -EINVAL on syntax, -ERANGE on overflow.
 */
int parse_duration(const char *s, uint64_t *ret);

/* Formats seconds as the largest exact units ("30d", "1d12h", "45s"). */
char *format_duration(uint64_t sec, char *buf, size_t len);

/*
 * Parses an octal file mode "0640" / "640" (at most 4 digits, <= 07777).
 * Returns 0 and sets *ret, -EINVAL otherwise.
 */
int parse_mode(const char *s, mode_t *ret);

/*
 * Reads a whole regular file of at most max bytes into a NUL-terminated
 * buffer. The file is opened O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY so a FIFO
 * or a device cannot block the open, then fstat'd: a directory gives
 * -EISDIR, anything else that is not a regular file (FIFO, socket, character
 * or block device) gives READ_FULL_FILE_NOT_REGULAR (-EBADFD), so callers can
 * say "not a regular file". Every read (O_NONBLOCK is moot for a regular file) is
 * bounded by max + 1 bytes in total; a short read that reaches the size fstat
 * reported ends it (a file that grew since is read on to its end). Returns 0 and sets *ret (caller frees;
 * wiped by the caller if secret) and *ret_len (may be NULL); -EFBIG when
 * larger than max, -errno on I/O errors.
 */
/* What kind of file mode m is, for messages: "a regular file", "a
 * directory", "a FIFO", "a character device", ... ("not a regular file"
 * when unknown). Static strings. */
const char *file_kind_string(mode_t m);

#define READ_FULL_FILE_NOT_REGULAR (-EBADFD)
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* read_full_file() of path relative to the directory dirfd (openat(2);
 * AT_FDCWD: as read_full_file()). */
int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * Every temporary file the agent creates is named TEMP_FILE_PREFIX + something,
 * in the directory of the file it replaces. No real name has this prefix
 * (certificate names, state files and output files never start with '.'), so
 * a leftover after a kill can be removed by name without a second thought.
 */
#define TEMP_FILE_PREFIX ".acm-agent-tmp-"

/* True when name (a file name, no '/') is one of our temporary files. */
bool is_temp_file_name(const char *name);

/*
 * Removes every entry of the directory dirfd whose name starts with
 * TEMP_FILE_PREFIX (files and symlinks; a directory of that name is left
 * alone). dirfd is not closed and its offset is not used. For directories
 * the caller owns (the state directory at start-up, an output directory);
 * nothing else is touched. Returns the number of entries removed, or -errno
 * (from opening or reading the directory; a failed unlink of one entry is
 * skipped and the others are still removed).
 */
int clean_temp_files(int dirfd);

/* Writes all len bytes of data to fd (short writes and EINTR continued).
 * 0, -errno, -EIO when write(2) makes no progress. */
int write_all(int fd, const void *data, size_t len);

/*
 * Replaces path with data atomically: a temporary file in the same directory
 * (named TEMP_FILE_PREFIX...) created O_EXCL, chowned (unless (uid_t)-1 /
 * (gid_t)-1) and fchmod'ed to exactly mode before any byte is written, so the
 * caller's umask never changes the result; written in full, fsync'd, renamed
 * over path, and the directory fsync'd. On failure the temporary is removed
 * and path is untouched. Returns 0 or -errno.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid);

/*
 * write_file_atomic() without the fsyncs, for files that are made again at
 * will (the metrics textfile): a reader sees the old or the new content,
 * never a mix, but after a power loss the file may be older or empty. Costs
 * no disk flush, so the event loop may call it. Returns 0 or -errno.
 */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Creates directory name relative to dirfd (AT_FDCWD or a directory fd) with
 * exactly mode (mkdirat, then fchmod on the new directory opened O_NOFOLLOW,
 * so the umask does not matter). Returns 0 when created, -EEXIST when the name
 * already exists (its mode is not touched: the caller checks it), or -errno.
 */
int mkdirat_mode(int dirfd, const char *name, mode_t mode);

/* fsyncs the directory containing path (or path itself if it is a dir). */
int fsync_parent_dir(const char *path);

/*
 * Makes sure the array *p has room for at least need elements of size bytes:
 * when *cap < need it is reallocated to max(need, 2 * *cap, 8) elements, so n
 * appends cost O(n) in total. On success updates *p and *cap and returns 0;
 * -ENOMEM (on overflow too) leaves both untouched.
 */
int array_reserve(void **p, size_t *cap, size_t need, size_t size);
#define ARRAY_RESERVE(p, cap, need) array_reserve((void **) &(p), &(cap), (need), sizeof(*(p)))

/*
 * Control characters in text from outside (AWS messages, hook output, file
 * contents) must never reach a terminal or a log line as they are: a newline
 * forges a log line, ESC drives the terminal. escape_control() copies s with
 * \n, \r, \t, ESC as \x1b, every other C0 byte and DEL as \xNN, and the C1
 * controls encoded in UTF-8 (U+0080..U+009F, which some terminals obey) as
 * \xc2\xNN; everything else (printable ASCII, backslash, other UTF-8) is kept.
 * At most max bytes of s are read; when s is longer "..." is appended.
 * Returns a malloc'd string, NULL on OOM (or when s is NULL).
 */
char *escape_control(const char *s, size_t max);

/*
 * The same into buf of size bytes (size > 0): as much of s as fits, never
 * cutting an escape in half, always NUL-terminated; "..." ends a truncated
 * result when size allows. Returns buf.
 */
char *escape_control_buf(const char *s, char *buf, size_t size);

/*
 * Hardens the agent process first thing in main(): not dumpable
 * (prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace by other users, /proc
 * entries root-only), RLIMIT_CORE 0 (soft and hard), and umask 077 (files and
 * directories get their modes set explicitly; children set their own umask,
 * see spawn_child). Returns 0, or -errno of the first call that failed (the
 * others are still attempted).
 */
int harden_process(void);

/* Joins a and b with one '/'. Returns NULL on OOM. */
char *path_join(const char *a, const char *b);

/* malloc'd printf; returns NULL on OOM. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);

/* NULL-terminated string vectors. */
size_t strv_length(char *const *l);
char **strv_copy(char *const *l);
void strv_free(char **l);

/* Fills buf with n random bytes from the kernel. Returns 0 or -errno. */
int random_bytes(void *buf, size_t n);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Which plain-http hosts url_check_host() accepts. */
typedef enum url_http_hosts {
        URL_HTTP_LOOPBACK, /* 127.0.0.0/8, ::1, localhost */
        URL_HTTP_ECS,      /* those and the ECS/EKS addresses 169.254.170.2, 169.254.170.23, fd00:ec2::23 */
} url_http_hosts;

/*
 * Checks an endpoint URL: an https:// or http:// URL (lowercase scheme) whose
 * authority is HOST[:PORT] with no user name or password, HOST a name of
 * letters, digits, '.', '-' and '_', a dotted-decimal IPv4 address or an
 * IPv6 address in brackets; plain http only when the host is exactly one of
 * hosts. The grammar is deliberately narrower than RFC 3986 so that libcurl,
 * which connects, and SigV4's Host reads the same host from every URL
 * accepted (tests/unit/basic/test-url-curl.c holds the two parsers against
 * each other); it needs no libcurl, so checking a configuration does not
 * load it. Returns NULL when url is acceptable, else a static one-line
 * reason.
 */
const char *url_check_host(const char *url, url_http_hosts hosts);
