/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl on demand (see aws-curl.h): dlopen() once, every function into
 * aws_curl, the version check and curl_global_init(), and an ELF note that
 * tells packaging tools which library the binary loads at run time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aws/aws-curl.h"
#include "basic/macro.h"
#include "basic/testpoint.h"

aws_curl_api aws_curl;

static int load_result;
static char load_error[768];

/* What the curl-load test point loads instead: a soname no system has, so
 * the real dlopen() fails the way it does on a host without libcurl. */
#define MISSING_SONAME CURL_SONAME "-acm-agent-test-missing"

/* How an operator fixes it, ending every load error: the packages that ship
 * CURL_SONAME on Debian/Ubuntu and on Fedora/RHEL. */
#define FIX "install or upgrade it (apt-get install libcurl4, or dnf install libcurl)"

/*
 * The "dlopen metadata" ELF note (https://uapi-group.org/specifications/
 * specs/elf_dlopen_metadata/, as systemd's binaries carry): section
 * .note.dlopen, owner "FDO", type 0x407c0c0a, a JSON array naming the
 * sonames. dpkg-shlibdeps and rpm's dependency generator do not see a
 * dlopen()ed library; tools that read this note (systemd-analyze
 * dlopen-metadata, package build helpers) do. The packages declare the
 * dependency themselves (packaging/).
 */
#define DLOPEN_NOTE_JSON                                                                                    \
        "[{\"feature\":\"aws\",\"description\":\"HTTPS requests to AWS (every AWS "                         \
        "call)\",\"priority\":\"required\","                                                                \
        "\"soname\":[\"" CURL_SONAME "\"]}]"
static const struct {
        uint32_t n_namesz, n_descsz, n_type;
        char name[4];
        _Alignas(4) char desc[sizeof DLOPEN_NOTE_JSON];
} dlopen_note __attribute__((used, section(".note.dlopen"), aligned(4))) = {
        .n_namesz = sizeof "FDO",
        .n_descsz = sizeof DLOPEN_NOTE_JSON,
        .n_type = 0x407c0c0a,
        .name = "FDO",
        .desc = DLOPEN_NOTE_JSON,
};

static void load_fail(const char *fmt, ...) _printf_(1, 2);
static void load_fail(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(load_error, sizeof load_error, fmt, ap);
        va_end(ap);
        load_result = -ELIBACC;
}

static void load_once(void) {
        const char *name = testpoint_fail("curl-load", NULL) ? MISSING_SONAME : CURL_SONAME;
        aws_curl_api t = {};
        const char *e;
        void *dl;

        (void) dlerror();
        dl = dlopen(name, RTLD_NOW | RTLD_NODELETE);
        if (!dl) {
                e = dlerror();
                return load_fail("AWS calls need libcurl (%s), which cannot be loaded (%s): " FIX,
                                 CURL_SONAME, e ? e : "unknown error");
        }
        /* dlsym() returns a data pointer; POSIX guarantees it converts to
         * the function pointer it stands for. */
#define RESOLVE(n)                                                                                          \
        if (!(t.n = (typeof(t.n)) dlsym(dl, "curl_" #n))) {                                                 \
                e = dlerror();                                                                              \
                (void) dlclose(dl);                                                                         \
                return load_fail("AWS calls need libcurl (%s), which has no function curl_" #n              \
                                 " (%s): " FIX,                                                             \
                                 CURL_SONAME, e ? e : "unknown error");                                     \
        }
        AWS_CURL_FUNCTIONS(RESOLVE)
#undef RESOLVE

        const curl_version_info_data *v = t.version_info(CURLVERSION_NOW);
        if (!v || v->version_num < CURL_MIN_VERSION_NUM) {
                (void) dlclose(dl);
                return load_fail("AWS calls need libcurl (%s) %s or newer, this one is %s: " FIX,
                                 CURL_SONAME, CURL_MIN_VERSION,
                                 v && v->version ? v->version : "of unknown version");
        }
        CURLcode code = t.global_init(CURL_GLOBAL_DEFAULT);
        if (code != CURLE_OK) {
                (void) dlclose(dl);
                return load_fail("AWS calls need libcurl (%s), whose curl_global_init() failed (error %d)",
                                 CURL_SONAME, (int) code);
        }
        /* The handle is never closed (RTLD_NODELETE would keep the library
         * anyway): the table stays valid for the process's life. */
        aws_curl = t;
        load_result = 0;
}

int aws_curl_load(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        int r = pthread_once(&once, load_once);

        return r != 0 ? -r : load_result;
}

const char *aws_curl_load_error(void) {
        return load_result < 0 ? load_error : NULL;
}
