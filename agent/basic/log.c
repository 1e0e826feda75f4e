/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "basic/log.h"
#include "basic/util.h"

/* Longest message (bytes before escaping) a log line carries; "..." marks a cut. */
#define LOG_MESSAGE_MAX 16384

static int max_level = LOG_INFO;
static int use_journal = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "error",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",     [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = LOG_ERR; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (streq(s, "err"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

/* stderr is the journal when JOURNAL_STREAM's device:inode matches fd 2. */
static int stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return st.st_dev == dev && st.st_ino == ino;
}

/* "KEY=value" with the value's control characters escaped. */
static char *field_escaped(const char *f) {
        const char *eq = strchr(f, '=');
        _cleanup_(freep) char *v = NULL;

        if (!eq)
                return strdup(f);
        v = escape_control(eq + 1, LOG_MESSAGE_MAX);
        return v ? strprintf("%.*s=%s", (int) (eq - f), f, v) : NULL;
}

static void log_emit(int level, int error, const char *cert, const char *const *fields, const char *msg) {
        if (use_journal < 0)
                use_journal = stderr_is_journal();
        if (use_journal) {
                struct iovec iov[16];
                char *bufs[16] = {};
                size_t n = 0;

                bufs[n] = strprintf("MESSAGE=%s%s%s", cert ? cert : "", cert ? ": " : "", msg);
                bufs[++n] = strprintf("PRIORITY=%d", level);
                if (cert)
                        bufs[++n] = strprintf("CERT_NAME=%s", cert);
                if (error)
                        bufs[++n] = strprintf("ERRNO=%d", error);
                bufs[++n] = strdup("SYSLOG_IDENTIFIER=acm-agent");
                for (size_t i = 0; fields && fields[i] && n + 1 < ELEMENTSOF(bufs); i++)
                        bufs[++n] = field_escaped(fields[i]);
                n++;
                for (size_t i = 0; i < n; i++) {
                        if (!bufs[i]) {
                                n = i;
                                break;
                        }
                        iov[i].iov_base = bufs[i];
                        iov[i].iov_len = strlen(bufs[i]);
                }
                if (n > 0)
                        (void) sd_journal_sendv(iov, (int) n);
                for (size_t i = 0; i < ELEMENTSOF(bufs); i++)
                        free(bufs[i]);
                return;
        }
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "acm-agent: %s: %s%s%s\n", level_names[level & 7], cert ? cert : "", cert ? ": " : "", msg);
        fflush(stderr);
        pthread_mutex_unlock(&log_lock);
}

static int log_va(int level, int error, const char *cert, const char *const *fields, const char *fmt, va_list ap) {
        char *msg = NULL;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level <= max_level) {
                /* %m in messages refers to the error passed in. */
                errno = error;
                if (vasprintf(&msg, fmt, ap) >= 0) {
                        /* The sink escapes: a message may quote AWS, a hook or
                         * a file, and none of them may forge a line or drive
                         * the terminal. */
                        _cleanup_(freep) char *m = escape_control(msg, LOG_MESSAGE_MAX);
                        _cleanup_(freep) char *c = cert ? escape_control(cert, 256) : NULL;

                        if (m && (!cert || c))
                                log_emit(level, error, c, fields, m);
                        else  /* never the raw text: it may carry the escapes */
                                log_emit(level, error, NULL, NULL, "(a message was lost: out of memory while escaping it)");
                        free(msg);
                }
        }
        errno = saved;
        return -error;
}

int log_internal(int level, int error, const char *cert, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_va(level, error, cert, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int log_struct(int level, const char *cert, const char *const *fields, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_va(level, 0, cert, fields, fmt, ap);
        va_end(ap);
        return r;
}
