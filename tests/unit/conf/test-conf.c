/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration loader: every error class at its exact file, line,
 * column; several errors reported together; valid configurations parsed to
 * the expected values (defaults merge, drop-in order, include globs, every
 * issuer and reload form); conf_to_json round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "conf/conf.h"
#include "conf/conf-internal.h"
#include "basic/util.h"

static char tmp_root[] = "/tmp/test-conf.XXXXXX";
static unsigned case_no;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void) st;
        (void) flag;
        (void) f;
        return remove(p);
}

/* A fresh directory per case. */
static char *new_dir(void) {
        char *d = strprintf("%s/case%u", tmp_root, case_no++);
        assert_non_null(d);
        assert_int_equal(mkdir(d, 0755), 0);
        return d;
}

static void write_at(const char *dir, const char *rel, const char *text) {
        _cleanup_(freep) char *p = path_join(dir, rel);
        char *slash;
        assert_non_null(p);
        slash = strrchr(p, '/');
        *slash = 0;
        (void) mkdir(p, 0755);
        *slash = '/';
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

#define CA "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555"
#define ACM_ARN "arn:aws:acm:eu-west-1:111122223333:certificate/abcdef01-2345-6789-abcd-ef0123456789"
/* 6 lines; a certificate's further keys start on line 7 with 4 spaces. */
#define BASE0 "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: 30d\n"
/* 7 lines; extras on line 8. */
#define BASE BASE0 "    dns_names: [www.example.com]\n"
/* An acm issuer: lines 3-5; extras on line 6 (inside the issuer at 6 spaces, or the cert at 4). */
#define ACM0 "certificates:\n  - name: api\n    issuer:\n      type: acm\n      key_algorithm: RSA_2048\n"
#define L40 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define W4 "daily 01:00-02:00, daily 01:00-02:00, daily 01:00-02:00, daily 01:00-02:00, "
#define W32 W4 W4 W4 W4 W4 W4 W4 W4

typedef struct ecase {
        const char *name;
        const char *main;
        const char *dropin;        /* certs.d/50-drop.yaml */
        const char *file;          /* "main", "dropin" or a relative path */
        unsigned line, column;
        const char *klass;
        size_t n;                  /* errors expected in total (0 means 1) */
        const char *hint_has;      /* substring of the hint or the message */
} ecase;

static const ecase cases[] = {
        /* syntax and YAML layer */
        { "syntax-tab", "certificates:\n\t- name: web\n", NULL, "main", 2, 1, "syntax", 0, NULL },
        { "syntax-two-documents", "certificates: []\n---\ncertificates: []\n", NULL, "main", 2, 1, "syntax", 0, NULL },
        { "syntax-unclosed-flow", "state_dir: [/a\nfoo: bar\n", NULL, "main", 2, 4, "syntax", 0, NULL },
        { "alias-refused", "defaults:\n  jitter: &j 1h\n  retry_min: *j\n", NULL, "main", 3, 14, "alias", 0, "write the value out" },
        { "too-deep", "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n", NULL, "main", 1, 67, "too-large", 0, NULL },
        { "duplicate-key", "state_dir: /a\nstate_dir: /b\n", NULL, "main", 2, 1, "duplicate", 0, "line 1" },
        /* top level */
        { "unknown-top-key", "certificats: []\n", NULL, "main", 1, 1, "unknown-key", 0, "did you mean 'certificates'?" },
        { "certificates-not-list", "certificates: {}\n", NULL, "main", 1, 15, "type", 0, NULL },
        { "cert-not-mapping", "certificates:\n  - web\n", NULL, "main", 2, 5, "type", 0, NULL },
        { "state-dir-list", "state_dir: [a]\n", NULL, "main", 1, 12, "type", 0, NULL },
        { "state-dir-relative", "state_dir: var/lib\n", NULL, "main", 1, 12, "path", 0, "absolute" },
        { "include-type", "include: {a: b}\n", NULL, "main", 1, 10, "type", 0, NULL },
        { "empty-string", "aws: {profile: \"\"}\n", NULL, "main", 1, 16, "type", 0, NULL },
        /* aws */
        { "aws-region", "aws: {region: Ireland}\n", NULL, "main", 1, 15, "region", 0, "eu-west-1" },
        { "aws-endpoint-http", "aws:\n  endpoints: {acm: \"http://example.com\"}\n", NULL, "main", 2, 20, "url", 0, "loopback" },
        { "aws-endpoint-userinfo", "aws:\n  endpoints: {acm: \"http://localhost:x@evil.example/\"}\n", NULL, "main", 2, 20, "url", 0, "user name" },
        { "aws-endpoint-v6-near", "aws:\n  endpoints: {acm: \"http://[::2]/\"}\n", NULL, "main", 2, 20, "url", 0, "loopback" },
        { "aws-endpoint-service", "aws:\n  endpoints: {s3: \"https://x\"}\n", NULL, "main", 2, 15, "enum", 0, "acm-pca" },
        { "aws-ca-bundle", "aws:\n  ca_bundle: /nonexistent/ca.pem\n", NULL, "main", 2, 14, "io", 0, NULL },
        { "aws-role-arn", "aws:\n  role_arn: arn:aws:iam::12345:role/x\n", NULL, "main", 2, 13, "arn", 0, "12 digits" },
        { "aws-max-attempts", "aws:\n  max_attempts: 0\n", NULL, "main", 2, 17, "range", 0, NULL },
        { "aws-rate-key", "aws:\n  rate_limits: {\"acm:describe\": 5}\n", NULL, "main", 2, 17, "enum", 0, "service:Operation" },
        { "aws-rate-value", "aws:\n  rate_limits:\n    acm:DescribeCertificate: -1\n", NULL, "main", 3, 30, "range", 0, NULL },
        { "aws-timeout", "aws:\n  connect_timeout: 10\n", NULL, "main", 2, 20, "duration", 0, "30d, 12h, 90m or 45s" },
        /* daemon, reloaders */
        { "daemon-typo", "daemon: {reload_debounc: 5s}\n", NULL, "main", 1, 10, "unknown-key", 0, "did you mean 'reload_debounce'?" },
        { "reloaders-unknown", "reloaders: {apache: {}}\n", NULL, "main", 1, 13, "unknown-key", 0, NULL },
        { "reloaders-timeout", "reloaders:\n  nginx: {timeout: 5}\n", NULL, "main", 2, 20, "duration", 0, NULL },
        /* defaults */
        { "defaults-location", "defaults:\n  renew_before: 3 days\n" BASE "  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n",
          NULL, "main", 2, 17, "duration", 0, NULL },
        { "defaults-name", "defaults:\n  name: x\n", NULL, "main", 2, 9, "conflict", 0, NULL },
        { "defaults-typo", "defaults:\n  jiter: 1h\n", NULL, "main", 2, 3, "unknown-key", 0, "did you mean 'jitter'?" },
        /* certificate keys */
        { "cert-unknown-key", BASE "    renew_befor: 30d\n", NULL, "main", 8, 5, "unknown-key", 0, "did you mean 'renew_before'?" },
        { "cert-name-missing", "certificates:\n  - issuer: {type: import, cert: /c, key: /k}\n", NULL, "main", 2, 5, "missing", 0, NULL },
        { "cert-name-unsafe", "certificates:\n  - name: ../etc\n    issuer: {type: import, cert: /c, key: /k}\n", NULL, "main", 2, 11, "name", 0, NULL },
        { "cert-issuer-missing", "certificates:\n  - name: web\n    dns_names: [a.example.com]\n", NULL, "main", 2, 5, "missing", 0, NULL },
        { "cert-no-names", BASE0, NULL, "main", 2, 5, "missing", 0, "dns_names" },
        { "renew-before-bad", BASE "    renew_before: 30x\n", NULL, "main", 8, 19, "duration", 0, "30d, 12h, 90m or 45s" },
        { "renew-fraction-range", BASE "    renew_fraction: 1.5\n", NULL, "main", 8, 21, "range", 0, NULL },
        { "renew-fraction-type", BASE "    renew_fraction: lots\n", NULL, "main", 8, 21, "type", 0, NULL },
        { "dns-zone-exec", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: exec, command: [/x], hosted_zone_id: Z1}\n", NULL, "main", 7, 58, "conflict", 0, "route53" },
        { "jitter-range", BASE "    jitter: 30d\n", NULL, "main", 8, 13, "range", 0, NULL },
        { "retry-order", BASE "    retry_min: 2h\n    retry_max: 1h\n", NULL, "main", 8, 16, "range", 0, NULL },
        /* names */
        { "dns-underscore", BASE0 "    dns_names: [www.example.com, bad_name.example.com]\n", NULL, "main", 7, 34, "dns-name", 0, NULL },
        { "dns-wildcard-middle", BASE0 "    dns_names: [a.*.example.com]\n", NULL, "main", 7, 17, "dns-name", 0, "leftmost" },
        { "dns-label-64", BASE0 "    dns_names: [" L64 ".example.com]\n", NULL, "main", 7, 17, "dns-name", 0, "63" },
        { "dns-is-ip", BASE0 "    dns_names: [192.0.2.1]\n", NULL, "main", 7, 17, "dns-name", 0, "ip_addresses" },
        { "dns-duplicate", BASE0 "    dns_names: [a.example.com, A.example.com]\n", NULL, "main", 7, 32, "duplicate", 0, NULL },
        { "dns-not-list", BASE0 "    dns_names: www.example.com\n", NULL, "main", 7, 16, "type", 0, NULL },
        { "ip-bad", BASE0 "    ip_addresses: [300.1.1.1]\n", NULL, "main", 7, 20, "ip", 0, NULL },
        { "email-bad", BASE0 "    email_addresses: [not-an-email]\n", NULL, "main", 7, 23, "email", 0, NULL },
        { "uri-bad", BASE0 "    uris: [no scheme]\n", NULL, "main", 7, 12, "uri", 0, NULL },
        /* subject */
        { "subject-country", BASE "    subject: {country: Germany}\n", NULL, "main", 8, 24, "range", 0, NULL },
        { "subject-cn-long", BASE "    subject: {common_name: " L64 "x}\n", NULL, "main", 8, 28, "range", 0, "64" },
        { "subject-oid", BASE "    subject: {custom_attributes: [{oid: 9.9, value: x}]}\n", NULL, "main", 8, 41, "oid", 0, NULL },
        /* key */
        { "key-rsa-curve", BASE "    key: {type: rsa, curve: P-256}\n", NULL, "main", 8, 29, "conflict", 0, NULL },
        { "key-rsa-bits", BASE "    key: {type: rsa, bits: 1024}\n", NULL, "main", 8, 28, "enum", 0, "2048" },
        { "key-type", BASE "    key: {type: dsa}\n", NULL, "main", 8, 17, "enum", 0, "ec, rsa" },
        { "key-curve", BASE "    key: {curve: P-192}\n", NULL, "main", 8, 18, "enum", 0, "P-256" },
        { "key-reuse-bool", BASE "    key: {reuse: yes}\n", NULL, "main", 8, 18, "type", 0, "true or false" },
        /* output */
        { "output-mode", BASE "    output: {mode: \"999\"}\n", NULL, "main", 8, 20, "mode", 0, "octal" },
        { "output-key-mode-world", BASE "    output: {key_mode: \"0644\"}\n", NULL, "main", 8, 24, "mode", 0, NULL },
        { "output-owner", BASE "    output: {owner: no-such-user-xyz}\n", NULL, "main", 8, 21, "user", 0, NULL },
        { "output-group", BASE "    output: {group: no-such-group-xyz}\n", NULL, "main", 8, 21, "group", 0, NULL },
        { "output-pkcs12", BASE "    output: {files: [cert, pkcs12]}\n", NULL, "main", 8, 13, "conflict", 0, "pkcs12_passphrase_file" },
        { "output-file-enum", BASE "    output: {files: [cert, pem]}\n", NULL, "main", 8, 28, "enum", 0, "haproxy_bundle" },
        { "output-dir-relative", BASE "    output: {dir: relative/dir}\n", NULL, "main", 8, 19, "path", 0, NULL },
        { "output-keep-versions", BASE "    output: {keep_versions: 99}\n", NULL, "main", 8, 29, "range", 0, NULL },
        /* hooks, reload */
        /* a program is an absolute path or a bare name (searched in the fixed HOOK_PATH), never relative with a '/' */
        { "hook-relative", BASE "    hooks: {deploy: bin/notify.sh}\n", NULL, "main", 8, 21, "path", 0, "relative" },
        { "hook-dot-relative", BASE "    hooks: {failure: [./page, x]}\n", NULL, "main", 8, 23, "path", 0, "bare program name" },
        { "reload-command-relative", BASE "    reload: [{command: [bin/reload]}]\n", NULL, "main", 8, 25, "path", 0, NULL },
        { "dns-command-relative", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: exec, command: [x/y]}\n", NULL, "main", 7, 37, "path", 0, NULL },
        { "hook-empty", BASE "    hooks: {failure: []}\n", NULL, "main", 8, 22, "type", 0, NULL },
        { "reload-unknown", BASE "    reload: [apache]\n", NULL, "main", 8, 14, "enum", 0, "systemd" },
        { "reload-both", BASE "    reload: [{systemd: a.service, command: [x]}]\n", NULL, "main", 8, 14, "conflict", 0, NULL },
        { "reload-not-list", BASE "    reload: nginx\n", NULL, "main", 8, 13, "type", 0, NULL },
        { "reload-unit", BASE "    reload: [{systemd: \"bad unit\"}]\n", NULL, "main", 8, 24, "range", 0, NULL },
        /* pca issuer */
        { "issuer-type", "certificates:\n  - name: web\n    issuer: {type: digicert}\n", NULL, "main", 3, 20, "enum", 0, "pca, acm, import" },
        { "pca-validity-missing", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n    dns_names: [a.b]\n",
          NULL, "main", 4, 7, "missing", 0, "validity" },
        { "pca-ca-arn-service", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " ACM_ARN "\n      validity: 1d\n    dns_names: [a.b]\n",
          NULL, "main", 5, 15, "arn", 0, "certificate-authority" },
        { "pca-partition", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: arn:aws-xx:acm-pca:eu-west-1:111122223333:certificate-authority/1\n      validity: 1d\n    dns_names: [a.b]\n",
          NULL, "main", 5, 15, "arn", 0, "partition" },
        { "pca-template-region", BASE0 "      template_arn: arn:aws:acm-pca:eu-west-1::template/EndEntityCertificate/V1\n    dns_names: [a.b]\n",
          NULL, "main", 7, 21, "arn", 0, NULL },
        { "pca-signing", BASE0 "      signing_algorithm: SHA1WITHRSA\n    dns_names: [a.b]\n", NULL, "main", 7, 26, "enum", 0, "SHA256WITHRSA" },
        { "pca-validity-type", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: {type: WEEKS, value: 2}\n    dns_names: [a.b]\n",
          NULL, "main", 6, 24, "enum", 0, "END_DATE" },
        { "pca-validity-duration", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: 30 days\n    dns_names: [a.b]\n",
          NULL, "main", 6, 17, "duration", 0, NULL },
        { "pca-end-date", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: {type: END_DATE, value: 20301340000000}\n    dns_names: [a.b]\n",
          NULL, "main", 6, 41, "range", 0, NULL },
        { "passthrough-typo", BASE0 "      api_passthrough: {Extension: {}}\n    dns_names: [a.b]\n", NULL, "main", 7, 25, "unknown-key", 0, "did you mean 'Extensions'?" },
        { "passthrough-eku", BASE0 "      api_passthrough: {Extensions: {ExtendedKeyUsage: [{ExtendedKeyUsageType: WEB}]}}\n    dns_names: [a.b]\n",
          NULL, "main", 7, 80, "enum", 0, "SERVER_AUTH" },
        { "passthrough-required", BASE0 "      api_passthrough: {Extensions: {CustomExtensions: [{ObjectIdentifier: 1.2.3}]}}\n    dns_names: [a.b]\n",
          NULL, "main", 7, 57, "missing", 0, "Value" },
        { "passthrough-length", BASE0 "      api_passthrough: {Subject: {Country: DEU}}\n    dns_names: [a.b]\n",
          NULL, "main", 7, 44, "range", 0, "shorten it to 2" },
        /* acm issuer */
        { "acm-arn-conflict", "certificates:\n  - name: api\n    issuer:\n      type: acm\n      arn: " ACM_ARN "\n      validation: dns\n",
          NULL, "main", 6, 7, "conflict", 0, NULL },
        { "cert-duplicate-issuer", ACM0 "      validation: email\n      validation_domain: example.com\n    dns_names: [a.example.com]\n    issuer: {}\n",
          NULL, "main", 9, 5, "duplicate", 2, "twice" },
        { "acm-key-algorithm-enum", "certificates:\n  - name: api\n    issuer:\n      type: acm\n      key_algorithm: RSA_512\n      validation: email\n    dns_names: [a.example.com]\n",
          NULL, "main", 5, 22, "enum", 0, "EC_prime256v1" },
        { "acm-no-dns-provider", ACM0 "    dns_names: [a.example.com]\n", NULL, "main", 2, 5, "missing", 0, "route53" },
        { "acm-tag-reserved", ACM0 "      validation: email\n      tags: {\"aws:x\": y}\n    dns_names: [a.example.com]\n", NULL, "main", 7, 14, "tag", 0, "reserved" },
        { "acm-ip", ACM0 "      validation: email\n    dns_names: [a.example.com]\n    ip_addresses: [192.0.2.1]\n", NULL, "main", 2, 5, "conflict", 0, NULL },
        { "acm-cn-64", ACM0 "      validation: email\n    dns_names: [" L40 "." L40 ".example.com]\n", NULL, "main", 7, 17, "dns-name", 0, "64 octets" },
        { "dns-exec-command", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: exec}\n", NULL, "main", 7, 10, "missing", 0, "command" },
        { "dns-provider-enum", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: godaddy}\n", NULL, "main", 7, 21, "enum", 0, "route53" },
        /* import issuer */
        { "import-key-missing", "certificates:\n  - name: x\n    issuer:\n      type: import\n      cert: /c.pem\n", NULL, "main", 4, 7, "missing", 0, NULL },
        /* files */
        { "dropin-top-key", "", "aws: {region: eu-west-1}\n", "dropin", 1, 1, "misplaced", 0, "main file" },
        { "dropin-unknown", "", "certficates: []\n", "dropin", 1, 1, "unknown-key", 0, "did you mean 'certificates'?" },
        { "dropin-duplicate-name", BASE, "certificates:\n  - name: web\n    issuer: {type: import, cert: /c, key: /k}\n",
          "dropin", 2, 5, "duplicate", 0, "acm-agent.yaml:2:5" },
        { "duplicate-output-dir", "output_root: /srv\n" BASE "  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n    output: {dir: /srv/web}\n",
          NULL, "main", 9, 5, "duplicate", 0, "web" },
        /* reload_window */
        { "window-day", BASE "    reload_window: \"Mon-Fry 22:00-02:00\"\n", NULL, "main", 8, 20, "window", 0, "Mon, Tue" },
        { "window-hour", BASE "    reload_window: \"Mon 24:30-02:00\"\n", NULL, "main", 8, 20, "window", 0, "24:00" },
        { "window-minute", BASE "    reload_window: \"Mon 22:5-23:00\"\n", NULL, "main", 8, 20, "window", 0, "HH:MM" },
        { "window-empty", BASE "    reload_window: [daily 01:00-05:00, \"Sat 03:00-03:00\"]\n", NULL, "main", 8, 40, "window", 0, "00:00-24:00" },
        { "window-no-times", BASE "    reload_window: Sat\n", NULL, "main", 8, 20, "window", 0, NULL },
        { "window-empty-day", BASE "    reload_window: \"Sat,,Sun 01:00-02:00\"\n", NULL, "main", 8, 20, "window", 0, "empty day" },
        { "window-type", BASE "    reload_window: {Sat: 1}\n", NULL, "main", 8, 20, "type", 0, NULL },
        { "window-empty-list", BASE "    reload_window: []\n", NULL, "main", 8, 20, "type", 0, NULL },
        { "window-too-many", BASE "    reload_window: [" W32 "daily 01:00-02:00]\n", NULL, "main", 8, 20, "too-large", 0, NULL },
        { "window-in-defaults", "defaults:\n  reload_window: \"Sun-Mon 1:00-2:00x\"\n" BASE "  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n",
          NULL, "main", 2, 18, "window", 0, NULL },
        /* acm issuer: behaviour keys and RequestCertificate's rules (2026 model) */
        { "acm-on-validation-timeout", ACM0 "      on_validation_timeout: retry\n      validation: email\n    dns_names: [a.example.com]\n", NULL, "main", 6, 30, "enum", 0, "rerequest, fail" },
        { "acm-on-renewal-failure", ACM0 "      on_renewal_failure: often\n      validation: email\n    dns_names: [a.example.com]\n", NULL, "main", 6, 27, "enum", 0, "report, reissue" },
        { "acm-timeout-with-arn", "certificates:\n  - name: api\n    issuer:\n      type: acm\n      arn: " ACM_ARN "\n      on_validation_timeout: fail\n",
          NULL, "main", 6, 7, "conflict", 0, NULL },
        { "acm-reissue-with-arn", "certificates:\n  - name: api\n    issuer:\n      type: acm\n      arn: " ACM_ARN "\n      on_renewal_failure: reissue\n",
          NULL, "main", 6, 27, "conflict", 0, "report" },
        { "acm-key-algorithm-import-only", "certificates:\n  - name: api\n    issuer:\n      type: acm\n      key_algorithm: rsa_4096\n      validation: email\n    dns_names: [a.example.com]\n",
          NULL, "main", 5, 22, "enum", 0, "imported certificates only" },
        { "acm-single-label", ACM0 "      validation: email\n    dns_names: [a.example.com, localhost]\n", NULL, "main", 7, 32, "dns-name", 0, "two labels" },
        { "acm-short-tld", ACM0 "      validation: email\n    dns_names: [a.example.c]\n", NULL, "main", 7, 17, "dns-name", 0, "2 characters" },
        { "acm-tags-empty", ACM0 "      validation: email\n      tags: {}\n    dns_names: [a.example.com]\n", NULL, "main", 7, 13, "tag", 0, "1 to 50" },
        { "acm-tag-symbol", ACM0 "      validation: email\n      tags: {\"cost\xe2\x82\xac\": x}\n    dns_names: [a.example.com]\n", NULL, "main", 7, 14, "tag", 0, "letters" },
        { "acm-tag-control", ACM0 "      validation: email\n      tags: {team: \"a\\x07b\"}\n    dns_names: [a.example.com]\n", NULL, "main", 7, 14, "tag", 0, "tag value may hold" },
        { "acm-tag-key-long", ACM0 "      validation: email\n      tags: {" L64 L64 "x: y}\n    dns_names: [a.example.com]\n", NULL, "main", 7, 14, "tag", 0, "1 to 128" },
        { "acm-validation-domain-dns", ACM0 "      validation_domain: example.com\n    dns_names: [a.example.com]\n    dns: {provider: manual}\n", NULL, "main", 6, 26, "conflict", 0, "email" },
        { "acm-validation-domain-parent", ACM0 "      validation: email\n      validation_domain: example.org\n    dns_names: [www.example.com]\n", NULL, "main", 7, 26, "conflict", 0, "parent domain" },
        /* issuer.trust_store (acm) and the tags the agent reserves for itself */
        { "acm-trust-store-missing", ACM0 "      validation: email\n      trust_store: /nonexistent/roots.pem\n    dns_names: [a.example.com]\n",
          NULL, "main", 7, 20, "io", 0, "system's trusted roots" },
        { "acm-trust-store-device", ACM0 "      validation: email\n      trust_store: /dev/null\n    dns_names: [a.example.com]\n",
          NULL, "main", 7, 20, "io", 0, "not a regular file" },
        { "acm-trust-store-private", ACM0 "      certificate_authority_arn: " CA "\n      trust_store: /etc/hostname\n    dns_names: [a.example.com]\n",
          NULL, "main", 7, 20, "conflict", 0, "certificate of its CA" },
        { "acm-trust-store-no-export", ACM0 "      validation: email\n      export: false\n      trust_store: /etc/hostname\n    dns_names: [a.example.com]\n",
          NULL, "main", 8, 20, "conflict", 0, "export: true" },
        { "acm-tag-agent-reserved", ACM0 "      validation: email\n      tags: {team: a, \"acm-agent:host\": x}\n    dns_names: [a.example.com]\n",
          NULL, "main", 7, 13, "tag", 0, "acm-agent:host" },
        { "acm-validation-domain-label", ACM0 "      validation: email\n      validation_domain: com\n    dns_names: [www.example.com]\n", NULL, "main", 7, 26, "dns-name", 0, "two labels" },
        /* dns: role_arn, nameservers */
        { "dns-role-arn-exec", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: exec, command: [/x], role_arn: \"arn:aws:iam::111122223333:role/r\"}\n",
          NULL, "main", 7, 52, "conflict", 0, "route53" },
        { "dns-role-arn-bad", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: route53, role_arn: \"arn:aws:iam::1:role/r\"}\n", NULL, "main", 7, 40, "arn", 0, "12 digits" },
        { "nameserver-name", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: manual, nameservers: [ns1.example.com]}\n", NULL, "main", 7, 43, "ip", 0, "by address" },
        { "nameserver-port", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: manual, nameservers: [\"192.0.2.1:70000\"]}\n", NULL, "main", 7, 43, "ip", 0, "65535" },
        { "nameserver-v4-brackets", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: manual, nameservers: [\"[192.0.2.1]:53\"]}\n", NULL, "main", 7, 43, "ip", 0, "IPv6" },
        { "nameserver-duplicate", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: manual, nameservers: [192.0.2.1, \"192.0.2.1:53\"]}\n", NULL, "main", 7, 54, "duplicate", 0, NULL },
        { "nameservers-not-list", ACM0 "    dns_names: [a.example.com]\n    dns: {provider: manual, nameservers: 192.0.2.1}\n", NULL, "main", 7, 42, "type", 0, NULL },
        /* daemon */
        { "daemon-on-remove", "daemon: {on_remove: purge}\n", NULL, "main", 1, 21, "enum", 0, "keep, delete" },
        { "daemon-dns-recheck-min", "daemon: {dns_recheck_interval: 30m}\n", NULL, "main", 1, 32, "range", 0, "between 1h and 30d" },
        { "daemon-dns-recheck-max", "daemon: {dns_recheck_interval: 31d}\n", NULL, "main", 1, 32, "range", 0, NULL },
        /* values that check used to accept but that cannot work */
        { "pca-validity-short", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: 30m\n    dns_names: [a.b]\n",
          NULL, "main", 6, 17, "range", 0, "minimum is 1h" },
        { "pca-validity-end-past", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: {type: END_DATE, value: 20010101000000}\n    dns_names: [a.b]\n",
          NULL, "main", 6, 41, "range", 0, "in the past" },
        { "pca-validity-absolute-past", "certificates:\n  - name: web\n    issuer:\n      type: pca\n      ca_arn: " CA "\n      validity: {type: ABSOLUTE, value: 1000}\n    dns_names: [a.b]\n",
          NULL, "main", 6, 41, "range", 0, "1h" },
        { "output-dir-root", BASE "    output: {dir: /}\n", NULL, "main", 8, 19, "path", 0, "root directory" },
        { "output-dir-dotdot-root", BASE "    output: {dir: /etc/../}\n", NULL, "main", 8, 19, "path", 0, "root directory" },
        { "output-dir-proc", BASE "    output: {dir: /proc/self/x}\n", NULL, "main", 8, 19, "path", 0, "/proc" },
        { "output-dir-sys", BASE "    output: {dir: /sys}\n", NULL, "main", 8, 19, "path", 0, "/sys" },
        { "output-dir-dev-null", BASE "    output: {dir: /dev/null}\n", NULL, "main", 8, 19, "path", 0, "/dev" },
        { "output-dir-file", BASE "    output: {dir: /etc/passwd}\n", NULL, "main", 8, 19, "path", 0, "regular file, not a directory" },
        { "output-dir-under-file", BASE "    output: {dir: /etc/passwd/web}\n", NULL, "main", 8, 19, "path", 0, "parent of it is not a directory" },
        { "state-dir-under-file", "state_dir: /etc/passwd/state\n", NULL, "main", 1, 12, "path", 0, "parent of it is not a directory" },
        { "output-root-proc", "output_root: /proc/acm\n" BASE, NULL, "main", 1, 14, "path", 0, "/proc" },
        { "state-dir-root", "state_dir: /\n", NULL, "main", 1, 12, "path", 0, "root directory" },
        { "state-dir-file", "state_dir: /etc/passwd\n", NULL, "main", 1, 12, "path", 0, "not a directory" },
        { "state-dir-dev", "state_dir: /dev/shm/acm\n", NULL, "main", 1, 12, "path", 0, "/dev" },
        { "ca-bundle-device", "aws:\n  ca_bundle: /dev/zero\n", NULL, "main", 2, 14, "io", 0, "character device" },
        { "ca-bundle-dir", "aws:\n  ca_bundle: /etc\n", NULL, "main", 2, 14, "io", 0, "a directory" },
        { "ca-bundle-not-pem", "aws:\n  ca_bundle: /etc/passwd\n", NULL, "main", 2, 14, "io", 0, "no PEM certificate" },
        { "aws-rate-unknown-op", "aws:\n  rate_limits: {\"acm:DescribeCertificates\": 5}\n", NULL, "main", 2, 17, "enum", 0, "did you mean 'acm:DescribeCertificate'?" },
        { "aws-rate-service", "aws:\n  rate_limits: {\"s3:GetObject\": 5}\n", NULL, "main", 2, 17, "enum", 0, "acm-pca" },
        { "aws-rate-duplicate", "aws:\n  rate_limits: {\"acm:DescribeCertificate\": 5, \"acm:describecertificate\": 1}\n", NULL, "main", 2, 47, "duplicate", 0, NULL },
        { "output-uid-missing", BASE "    output: {owner: \"3999999\"}\n", NULL, "main", 8, 21, "user", 0, "uid 3999999" },
        { "output-gid-missing", BASE "    output: {group: 3999999}\n", NULL, "main", 8, 21, "group", 0, "gid 3999999" },
        /* one output directory written differently is still one directory */
        { "output-dir-trailing-slash", "output_root: /srv\n" BASE "  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n    output: {dir: /srv/web/}\n",
          NULL, "main", 9, 5, "duplicate", 0, "web" },
        { "output-dir-dot-slashes", BASE "    output: {dir: /srv/shared}\n  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n    output: {dir: //srv/./shared//}\n",
          NULL, "main", 9, 5, "duplicate", 0, NULL },
        { "output-dir-dotdot", BASE "    output: {dir: /srv/shared}\n  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n    output: {dir: /srv/other/../shared}\n",
          NULL, "main", 9, 5, "duplicate", 0, NULL },
        { "several-errors", "state_dir: rel\ndaemon: {reload_debounce: x}\naws: {region: nowhere}\n", NULL, "main", 1, 12, "path", 3, NULL },
};

static void test_error_case(void **state) {
        const ecase *c = *state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *mainp = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *want = NULL;
        conf_errors errs;
        conf *cf = NULL;

        write_at(dir, "acm-agent.yaml", c->main);
        if (c->dropin)
                write_at(dir, "certs.d/50-drop.yaml", c->dropin);
        want = streq(c->file, "main") ? strdup(mainp) : streq(c->file, "dropin") ? path_join(dir, "certs.d/50-drop.yaml") : path_join(dir, c->file);
        assert_int_equal(conf_load(mainp, &cf, &errs), -EINVAL);
        assert_null(cf);
        if (errs.n != (c->n ? c->n : 1) || !streq(errs.items[0].loc.file, want) || errs.items[0].loc.line != c->line ||
            errs.items[0].loc.column != c->column || !streq(errs.items[0].klass, c->klass)) {
                print_message("case %s: want %s:%u:%u [%s] (%zu errors), got:\n", c->name, want, c->line, c->column, c->klass,
                              c->n ? c->n : 1);
                for (size_t i = 0; i < errs.n; i++)
                        print_message("  %s:%u:%u [%s] %s\n", errs.items[i].loc.file, errs.items[i].loc.line,
                                      errs.items[i].loc.column, errs.items[i].klass, errs.items[i].message);
                fail();
        }
        if (c->hint_has) {
                const conf_error *e = &errs.items[0];
                if (!strstr(e->message, c->hint_has) && !(e->hint && strstr(e->hint, c->hint_has))) {
                        print_message("case %s: '%s' not in message '%s' / hint '%s'\n", c->name, c->hint_has, e->message,
                                      e->hint ? e->hint : "");
                        fail();
                }
        }
        conf_errors_done(&errs);
}

/* ---- errors not expressible as a table row ---- */

static void expect_one(const char *path, const char *file, unsigned line, unsigned col, const char *klass) {
        conf_errors errs;
        conf *cf = NULL;
        assert_int_equal(conf_load(path, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].loc.file, file);
        assert_int_equal(errs.items[0].loc.line, line);
        assert_int_equal(errs.items[0].loc.column, col);
        assert_string_equal(errs.items[0].klass, klass);
        conf_errors_done(&errs);
}

static void test_missing_file(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "nope.yaml");
        expect_one(p, p, 1, 1, "io");
}

static void test_unreadable_dropin(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *sub = path_join(dir, "certs.d/x.yaml");
        write_at(dir, "acm-agent.yaml", "certificates: []\n");
        write_at(dir, "certs.d/keep", "");
        assert_int_equal(mkdir(sub, 0755), 0);   /* matches *.yaml but cannot be read as a file */
        expect_one(p, sub, 1, 1, "io");
}

/* A drop-in directory that cannot be listed is an error, never "no drop-ins"
 * (its certificates would silently vanish): for certs.d/ at the main file,
 * for an include: at its entry. A symlink loop fails opendir even for root. */
static void test_unlistable_dropin_dir(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *certsd = path_join(dir, "certs.d");
        _cleanup_(freep) char *loop = path_join(dir, "loop");
        conf_errors errs;
        conf *cf = NULL;

        write_at(dir, "acm-agent.yaml", "certificates: []\n");
        assert_int_equal(symlink("certs.d", certsd), 0);
        expect_one(p, p, 1, 1, "io");
        assert_int_equal(unlink(certsd), 0);

        write_at(dir, "acm-agent.yaml", "certificates: []\ninclude: [\"loop/*.yaml\"]\n");
        assert_int_equal(symlink("loop", loop), 0);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].loc.file, p);
        assert_int_equal(errs.items[0].loc.line, 2);
        assert_int_equal(errs.items[0].loc.column, 11);
        assert_string_equal(errs.items[0].klass, "io");
        assert_non_null(strstr(errs.items[0].message, "cannot read the directory"));
        conf_errors_done(&errs);
}

static void test_too_large_file(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        size_t n = 1024 * 1024 + 10;
        char *big = malloc(n + 1);
        assert_non_null(big);
        memset(big, '#', n);
        big[n] = 0;
        write_at(dir, "acm-agent.yaml", big);
        free(big);
        expect_one(p, p, 1, 1, "too-large");
}

static void test_too_many_nodes(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        size_t items = 100005;
        char *y = malloc(4 + items * 2 + 3);
        size_t o = 0;
        assert_non_null(y);
        o += (size_t) sprintf(y, "x: [");
        for (size_t i = 0; i < items; i++)
                o += (size_t) sprintf(y + o, "1,");
        sprintf(y + o - 1, "]\n");
        write_at(dir, "acm-agent.yaml", y);
        free(y);
        /* root map, key, list = 3 nodes; item k is node 3+k: the 99998th item is too many */
        expect_one(p, p, 1, 5 + 2 * (99998 - 1), "too-large");
}

static void test_too_many_files(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", "# main\n");
        for (unsigned i = 0; i < 256; i++) {
                char name[64];
                snprintf(name, sizeof name, "certs.d/%03u.yaml", i);
                write_at(dir, name, "# empty\n");
        }
        expect_one(p, p, 1, 1, "too-large");
}

static void test_too_many_certs(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        size_t n = 4097, o = 0;
        char *y = malloc(16 + n * 80);
        assert_non_null(y);
        o += (size_t) sprintf(y, "certificates:\n");
        for (size_t i = 0; i < n; i++)
                o += (size_t) sprintf(y + o, "  - {name: c%zu, issuer: {type: import, cert: /c, key: /k}}\n", i);
        write_at(dir, "acm-agent.yaml", y);
        free(y);
        /* the 4097th entry, on line 4098 */
        expect_one(p, p, 4098, 5, "too-large");
}

static void test_include_error_and_order(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *inc = path_join(dir, "extra/a.yaml");
        _cleanup_(freep) char *drop = path_join(dir, "certs.d/10.yaml");
        conf_errors errs;
        conf *cf = NULL;

        write_at(dir, "acm-agent.yaml", "include: [\"extra/*.yaml\"]\nstate_dir: rel\n");
        write_at(dir, "extra/a.yaml", "certificates:\n  - name: x\n    bogus: 1\n    issuer: {type: import, cert: /c, key: /k}\n");
        write_at(dir, "certs.d/10.yaml", "certificates:\n  - name: y\n    issuer: {type: import, cert: c, key: /k}\n");
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        /* every file's errors, in file order: main, certs.d, include */
        assert_int_equal(errs.n, 3);
        assert_string_equal(errs.items[0].loc.file, p);
        assert_int_equal(errs.items[0].loc.line, 2);
        assert_string_equal(errs.items[0].klass, "path");
        assert_string_equal(errs.items[1].loc.file, drop);
        assert_int_equal(errs.items[1].loc.line, 3);
        assert_int_equal(errs.items[1].loc.column, 34);
        assert_string_equal(errs.items[1].klass, "path");
        assert_string_equal(errs.items[2].loc.file, inc);
        assert_int_equal(errs.items[2].loc.line, 3);
        assert_int_equal(errs.items[2].loc.column, 5);
        assert_string_equal(errs.items[2].klass, "unknown-key");
        conf_errors_done(&errs);
}

static void test_several_in_one_file(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        conf_errors errs;
        conf *cf = NULL;

        write_at(dir, "acm-agent.yaml", BASE "    jitter: 1x\n    key: {type: rsa, bits: 1000}\n    output: {mode: abc, owner: no-such-user-xyz}\n");
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 4);
        unsigned want[4][2] = { { 8, 13 }, { 9, 28 }, { 10, 20 }, { 10, 32 } };
        const char *klass[4] = { "duration", "enum", "mode", "user" };
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(errs.items[i].loc.line, want[i][0]);
                assert_int_equal(errs.items[i].loc.column, want[i][1]);
                assert_string_equal(errs.items[i].klass, klass[i]);
        }
        /* the printed form */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        conf_errors_print(&errs, f);
        fclose(f);
        _cleanup_(freep) char *first = strprintf("%s:8:13: jitter: '1x' is not a duration\n  hint: use a duration such as 30d, 12h, 90m or 45s\n", p);
        assert_true(strneq(buf, first, strlen(first)));
        free(buf);
        conf_errors_done(&errs);
}

/* ---- valid configurations ---- */

static conf *load_ok(const char *path) {
        conf_errors errs;
        conf *cf = NULL;
        int r = conf_load(path, &cf, &errs);
        if (r < 0) {
                conf_errors_print(&errs, stdout);
                conf_errors_done(&errs);
        }
        assert_int_equal(r, 0);
        assert_int_equal(errs.n, 0);
        return cf;
}

static void test_defaults_merge(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml",
                 "output_root: /srv/certs\n"
                 "defaults:\n"
                 "  issuer: {type: pca, ca_arn: " CA ", validity: 7d}\n"
                 "  output: {group: root, mode: \"0640\", files: [cert, key]}\n"
                 "  renew_before: 10d\n"
                 "  jitter: 1h\n"
                 "  key: {type: rsa, bits: 3072}\n"
                 "certificates:\n"
                 "  - name: a\n"
                 "    dns_names: [a.example.com, b.example.com]\n"
                 "    output: {mode: \"0600\"}\n"
                 "    jitter: 0s\n"
                 "  - name: b\n"
                 "    issuer: {type: pca, validity: {type: DAYS, value: 3}}\n"
                 "    dns_names: [\"*.example.com\"]\n"
                 "    renew_before: null\n"
                 "    renew_fraction: 0.5\n"
                 "    key: {type: ec}\n"
                 "  - name: c\n"
                 "    issuer: {type: import, cert: /c.pem, key: /k.pem}\n");
        conf *c = load_ok(p);
        assert_int_equal(c->n_certs, 3);
        const conf_cert *a = conf_find_cert(c, "a"), *b = conf_find_cert(c, "b"), *ci = conf_find_cert(c, "c");
        assert_non_null(a);
        assert_int_equal(a->issuer_type, CONF_ISSUER_PCA);
        assert_string_equal(a->issuer.pca.ca_arn, CA);
        assert_int_equal(a->issuer.pca.validity.type, CONF_VALIDITY_DURATION);
        assert_int_equal(a->issuer.pca.validity.value, 7 * 86400);
        assert_string_equal(a->output.dir, "/srv/certs/a");
        assert_int_equal(a->output.mode, 0600);           /* own value wins */
        assert_int_equal(a->output.key_mode, 0600);       /* built-in default */
        assert_int_equal(a->output.group, 0);
        assert_int_equal(a->output.files, CONF_OUT_CERT | CONF_OUT_KEY);
        assert_int_equal(a->schedule.renew_before, 10 * 86400);
        assert_true(a->schedule.renew_fraction > 0.32 && a->schedule.renew_fraction < 0.34);
        assert_int_equal(a->schedule.jitter, 0);
        assert_int_equal(a->key.type, CONF_KEY_RSA);
        assert_int_equal(a->key.bits, 3072);
        assert_string_equal(a->subject.common_name, "a.example.com");
        /* b: per-key merge inside issuer keeps ca_arn; null clears the default renew_before */
        assert_string_equal(b->issuer.pca.ca_arn, CA);
        assert_int_equal(b->issuer.pca.validity.type, CONF_VALIDITY_DAYS);
        assert_int_equal(b->issuer.pca.validity.value, 3);
        assert_int_equal(b->schedule.renew_before, 0);
        assert_true(b->schedule.renew_fraction > 0.49 && b->schedule.renew_fraction < 0.51);
        assert_int_equal(b->key.type, CONF_KEY_EC);       /* another type replaces the default key */
        assert_int_equal(b->key.curve, CONF_CURVE_P256);
        assert_int_equal(b->schedule.jitter, 3600);
        /* c: another issuer type replaces the default issuer */
        assert_int_equal(ci->issuer_type, CONF_ISSUER_IMPORT);
        assert_string_equal(ci->issuer.import.cert, "/c.pem");
        assert_null(ci->issuer.import.arn);
        assert_non_null(ci->dns_names);           /* empty lists are never NULL */
        assert_null(ci->dns_names[0]);
        assert_non_null(ci->uris);
        assert_null(ci->reload);
        assert_int_equal(ci->schedule.retry_min, 300);
        assert_int_equal(ci->schedule.retry_max, 6 * 3600);
        /* output: written in the certificate's own entry, not from defaults: */
        assert_true(a->output.configured);
        assert_false(b->output.configured);
        assert_false(ci->output.configured);
        assert_int_equal(ci->output.files, CONF_OUT_CERT | CONF_OUT_KEY);  /* the defaults still apply */
        conf_free(c);
}

static void test_dropins_and_includes(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", "include: [\"more/*.yaml\", \"none/*.yaml\"]\ncertificates:\n  - name: m\n    issuer: {type: import, cert: /c, key: /k}\n");
        write_at(dir, "certs.d/20-b.yaml", "certificates:\n  - name: b\n    issuer: {type: import, cert: /c, key: /k}\n");
        write_at(dir, "certs.d/10-a.yaml", "certificates:\n  - name: a\n    issuer: {type: import, cert: /c, key: /k}\n");
        write_at(dir, "certs.d/ignored.txt", "not yaml: [\n");
        write_at(dir, "more/x.yaml", "certificates:\n  - name: x\n    issuer: {type: import, cert: /c, key: /k}\n");
        write_at(dir, "more/empty.yaml", "# nothing yet\n");
        conf *c = load_ok(p);
        assert_int_equal(c->n_certs, 4);
        assert_string_equal(c->certs[0]->name, "m");
        assert_string_equal(c->certs[1]->name, "a");
        assert_string_equal(c->certs[2]->name, "b");
        assert_string_equal(c->certs[3]->name, "x");
        assert_null(c->certs[4]);
        assert_int_equal(strv_length(c->files), 5);
        assert_string_equal(c->files[0], p);
        assert_non_null(strstr(c->files[1], "certs.d/10-a.yaml"));
        assert_non_null(strstr(c->files[4], "more/x.yaml"));
        assert_string_equal(c->certs[3]->loc.file, c->files[4]);
        assert_int_equal(c->certs[3]->loc.line, 2);
        assert_int_equal(c->certs[3]->loc.column, 5);
        assert_string_equal(c->state_dir, CONF_DEFAULT_STATE_DIR);
        conf_free(c);
}

static const char *full_config =
        "aws:\n"
        "  region: us-gov-west-1\n"
        "  profile: ops\n"
        "  role_arn: arn:aws-us-gov:iam::111122223333:role/path/cert-agent\n"
        "  external_id: xyz123\n"
        "  endpoints: {acm: \"https://acm.example\", acm-pca: \"http://127.0.0.1:4566\"}\n"
        "  use_fips: true\n"
        "  max_attempts: 3\n"
        "  rate_limits:\n"
        "    acm-pca:IssueCertificate: 2.5\n"
        "state_dir: /var/lib/x\n"
        "daemon: {reload_debounce: 0s, acm_poll_interval: 1h, metrics_textfile: /var/lib/node/acm.prom, on_remove: delete,\n"
        "         dns_recheck_interval: 12h}\n"
        "reloaders:\n"
        "  haproxy: {runtime_socket: /run/haproxy/admin.sock, config: /etc/haproxy/h.cfg, timeout: 30s}\n"
        "certificates:\n"
        "  - name: web\n"
        "    issuer:\n"
        "      type: pca\n"
        "      ca_arn: " CA "\n"
        "      template_arn: arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1\n"
        "      signing_algorithm: sha384withecdsa\n"
        "      validity: {type: END_DATE, value: 20301231235959}\n"
        "      validity_not_before: {type: ABSOLUTE, value: 1700000000}\n"
        "      api_passthrough:\n"
        "        Subject: {Country: DE, CustomAttributes: [{ObjectIdentifier: 1.3.6.1.4.1.99999.1, Value: x}]}\n"
        "        Extensions:\n"
        "          KeyUsage: {DigitalSignature: true}\n"
        "          CertificatePolicies: [{CertPolicyId: 2.23.140.1.2.1, PolicyQualifiers: [{PolicyQualifierId: CPS, Qualifier: {CpsUri: \"https://cps\"}}]}]\n"
        "          SubjectAlternativeNames: [{DnsName: alt.example.com}, {IpAddress: 10.0.0.1}]\n"
        "          CustomExtensions: [{ObjectIdentifier: 1.2.3.4, Value: AQID, Critical: false}]\n"
        "    subject: {common_name: web, organization: Example, custom_attributes: [{oid: 2.5.4.45, value: u1}]}\n"
        "    dns_names: [web.example.com]\n"
        "    ip_addresses: [10.0.0.1, \"2001:db8::1\"]\n"
        "    email_addresses: [ops@example.com]\n"
        "    uris: [\"spiffe://example.org/web\"]\n"
        "    key: {type: ec, curve: P-521, reuse: true}\n"
        "    output: {owner: 0, group: root, files: [cert, fullchain, key, pkcs12, haproxy_bundle], pkcs12_passphrase_file: /etc/p12, keep_versions: 5}\n"
        "    reload: [nginx, haproxy, {systemd: app.service}, {command: [/usr/bin/kill, -HUP, \"1\"], timeout: 10s}]\n"
        "    hooks: {deploy: /bin/true, failure: [/bin/echo, failed], pending_validation: /bin/true, timeout: 2m}\n"
        "    renew_fraction: 0.25\n"
        "    reload_window: [\"Fri 22:00-02:00\", \"sat,SUN 1:30-24:00\", \"Fri-Mon 03:00-04:00\"]\n"
        "  - name: api\n"
        "    issuer: {type: acm, validation: dns, key_algorithm: ec_secp384r1, export: false, transparency_logging: disabled,\n"
        "             certificate_authority_arn: " CA ", tags: {team: api, \"cost center\": \"42\"}}\n"
        "    dns_names: [api.example.com]\n"
        "    dns: {provider: exec, command: [/usr/local/bin/dns, set], propagation_timeout: 5m, ttl: 60,\n"
        "          nameservers: [192.0.2.53, \"192.0.2.54:5353\", \"[2001:db8::53]:53\", \"2001:db8::54\"]}\n"
        "    reload: [nginx, {systemd: app.service}]\n"
        "    renew_before: 20d\n"
        "    reload_window: daily 00:00-24:00\n"
        "  - name: tracked\n"
        "    issuer: {type: acm, arn: " ACM_ARN ", on_renewal_failure: report}\n"
        "  - name: mail\n"
        "    issuer: {type: acm, validation: email, validation_domain: example.com, on_validation_timeout: fail,\n"
        "             on_renewal_failure: reissue, tags: {\"\xc3\xa9quipe\": \"Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac\"}}\n"
        "    dns_names: [mail.example.com]\n"
        "  - name: r53\n"
        "    issuer: {type: acm}\n"
        "    dns_names: [r53.example.com]\n"
        "    dns: {provider: route53, hosted_zone_id: Z123ABC, role_arn: \"arn:aws:iam::444455556666:role/dns\"}\n"
        "  - name: imp\n"
        "    issuer: {type: import, cert: /c.pem, key: /k.pem, chain: /ch.pem, arn: " ACM_ARN ", tags: {a: b}}\n"
        "    output: {dir: /srv/imp}\n";

/* conf_aws_copy: a deep copy that outlives its configuration (the Route 53
 * publisher of a dns.role_arn keeps one across a reload). */
static void test_aws_copy(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        conf_aws a;

        write_at(dir, "acm-agent.yaml", full_config);
        conf *c = load_ok(p);
        assert_int_equal(conf_aws_copy(&c->aws, &a), 0);
        assert_ptr_not_equal(a.region, c->aws.region);
        assert_ptr_not_equal(a.endpoints, c->aws.endpoints);
        conf_free(c);  /* the copy owns everything it points to */
        assert_string_equal(a.region, "us-gov-west-1");
        assert_string_equal(a.profile, "ops");
        assert_string_equal(a.role_arn, "arn:aws-us-gov:iam::111122223333:role/path/cert-agent");
        assert_string_equal(a.role_session_name, "acm-agent");
        assert_string_equal(a.external_id, "xyz123");
        assert_null(a.ca_bundle);
        assert_int_equal(a.n_endpoints, 2);
        assert_string_equal(a.endpoints[0].service, "acm");
        assert_string_equal(a.endpoints[0].url, "https://acm.example");
        assert_string_equal(a.endpoints[1].url, "http://127.0.0.1:4566");
        assert_true(a.use_fips);
        assert_int_equal(a.max_attempts, 3);
        assert_int_equal(a.n_rate_limits, 1);
        assert_string_equal(a.rate_limits[0].operation, "acm-pca:IssueCertificate");
        assert_true(a.rate_limits[0].per_second == 2.5);
        conf_aws_done(&a);
        assert_null(a.region);
        assert_int_equal(a.n_endpoints, 0);
}

static void test_every_issuer_and_reload(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", full_config);
        conf *c = load_ok(p);
        const conf_cert *w = conf_find_cert(c, "web"), *api = conf_find_cert(c, "api"), *t = conf_find_cert(c, "tracked");
        const conf_cert *mail = conf_find_cert(c, "mail"), *r53 = conf_find_cert(c, "r53"), *imp = conf_find_cert(c, "imp");
        char buf[32];

        assert_string_equal(c->aws.region, "us-gov-west-1");
        assert_string_equal(c->aws.role_session_name, "acm-agent");
        assert_int_equal(c->aws.n_endpoints, 2);
        assert_string_equal(c->aws.endpoints[1].service, "acm-pca");
        assert_true(c->aws.use_fips);
        assert_int_equal(c->aws.max_attempts, 3);
        assert_int_equal(c->aws.connect_timeout, 10);
        assert_string_equal(c->aws.rate_limits[0].operation, "acm-pca:IssueCertificate");
        assert_true(c->aws.rate_limits[0].per_second == 2.5);
        assert_int_equal(c->daemon.reload_debounce, 0);
        assert_int_equal(c->daemon.acm_poll_interval, 3600);
        assert_int_equal(c->daemon.on_remove, CONF_ON_REMOVE_DELETE);
        assert_int_equal(c->daemon.dns_recheck_interval, 12 * 3600);

        assert_string_equal(w->issuer.pca.signing_algorithm, "SHA384WITHECDSA");
        assert_int_equal(w->issuer.pca.validity.type, CONF_VALIDITY_END_DATE);
        assert_int_equal(w->issuer.pca.validity.value, 20301231235959LL);
        assert_int_equal(w->issuer.pca.validity_not_before.type, CONF_VALIDITY_ABSOLUTE);
        json_t *ap = w->issuer.pca.api_passthrough;
        assert_non_null(ap);
        assert_string_equal(json_string_value(json_object_get(json_object_get(ap, "Subject"), "Country")), "DE");
        assert_true(json_is_true(json_object_get(json_object_get(json_object_get(ap, "Extensions"), "KeyUsage"), "DigitalSignature")));
        assert_int_equal(json_array_size(json_object_get(json_object_get(ap, "Extensions"), "SubjectAlternativeNames")), 2);
        assert_string_equal(w->subject.common_name, "web");
        assert_string_equal(w->subject.custom_attributes[0].oid, "2.5.4.45");
        assert_string_equal(w->ip_addresses[1], "2001:db8::1");
        assert_string_equal(conf_key_describe(&w->key, buf, sizeof buf), "ec-P-521");
        assert_true(w->key.reuse);
        assert_int_equal(w->output.owner, 0);
        assert_string_equal(w->output.group_name, "root");
        assert_int_equal(w->output.files, CONF_OUT_CERT | CONF_OUT_FULLCHAIN | CONF_OUT_KEY | CONF_OUT_PKCS12 | CONF_OUT_HAPROXY_BUNDLE);
        assert_int_equal(w->output.keep_versions, 5);
        assert_string_equal(w->hooks.deploy[0], "/bin/true");
        assert_null(w->hooks.deploy[1]);
        assert_string_equal(w->hooks.failure[1], "failed");
        assert_int_equal(w->hooks.timeout, 120);
        /* reload_window: Fri 22:00-02:00 wraps; Sat,Sun 01:30-24:00; Fri-Mon wraps the week */
        assert_int_equal(w->n_reload_window, 3);
        assert_int_equal(w->reload_window[0].days, 1 << 5);
        assert_int_equal(w->reload_window[0].start_min, 22 * 60);
        assert_int_equal(w->reload_window[0].end_min, 2 * 60);
        assert_int_equal(w->reload_window[1].days, (1 << 6) | (1 << 0));
        assert_int_equal(w->reload_window[1].start_min, 90);
        assert_int_equal(w->reload_window[1].end_min, 1440);
        assert_int_equal(w->reload_window[2].days, (1 << 5) | (1 << 6) | (1 << 0) | (1 << 1));

        /* reload targets: resolved, shared between certificates */
        assert_int_equal(strv_length((char **) w->reload), 4);
        assert_int_equal(w->reload[0]->kind, CONF_RELOAD_NGINX);
        assert_string_equal(w->reload[0]->test_command[0], "nginx");
        assert_string_equal(w->reload[0]->pid_file, "/run/nginx.pid");
        assert_int_equal(w->reload[1]->kind, CONF_RELOAD_HAPROXY);
        assert_string_equal(w->reload[1]->runtime_socket, "/run/haproxy/admin.sock");
        assert_string_equal(w->reload[1]->test_command[3], "/etc/haproxy/h.cfg");
        assert_int_equal(w->reload[1]->timeout, 30);
        assert_int_equal(w->reload[2]->kind, CONF_RELOAD_SYSTEMD);
        assert_string_equal(w->reload[2]->id, "systemd:app.service");
        assert_string_equal(w->reload[2]->unit, "app.service");
        assert_int_equal(w->reload[3]->kind, CONF_RELOAD_COMMAND);
        assert_string_equal(w->reload[3]->id, "command:/usr/bin/kill -HUP 1");
        assert_int_equal(w->reload[3]->timeout, 10);
        assert_ptr_equal(api->reload[0], w->reload[0]);
        assert_ptr_equal(api->reload[1], w->reload[2]);
        assert_int_equal(strv_length((char **) c->reloaders), 4);

        assert_int_equal(api->issuer_type, CONF_ISSUER_ACM);
        assert_string_equal(api->issuer.acm.key_algorithm, "EC_secp384r1");
        assert_false(api->issuer.acm.export);
        assert_false(api->issuer.acm.transparency_logging);
        assert_int_equal(api->issuer.acm.n_tags, 2);
        assert_string_equal(api->issuer.acm.tags[1].key, "cost center");
        assert_int_equal(api->dns.provider, CONF_DNS_EXEC);
        assert_string_equal(api->dns.command[1], "set");
        assert_int_equal(api->dns.ttl, 60);
        assert_int_equal(api->dns.n_nameservers, 4);
        assert_string_equal(api->dns.nameservers[0].address, "192.0.2.53");
        assert_int_equal(api->dns.nameservers[0].port, 53);
        assert_int_equal(api->dns.nameservers[1].port, 5353);
        assert_string_equal(api->dns.nameservers[2].address, "2001:db8::53");
        assert_string_equal(api->dns.nameservers[3].address, "2001:db8::54");
        assert_int_equal(api->dns.nameservers[3].port, 53);
        assert_null(api->dns.role_arn);
        assert_int_equal(api->n_reload_window, 1);
        assert_int_equal(api->reload_window[0].days, 0x7f);
        assert_true(api->issuer.acm.transparency_logging_set);
        assert_int_equal(api->issuer.acm.on_validation_timeout, CONF_ACM_TIMEOUT_REREQUEST);
        assert_int_equal(api->issuer.acm.on_renewal_failure, CONF_ACM_RENEWAL_REPORT);
        assert_int_equal(api->schedule.renew_before, 20 * 86400);
        assert_string_equal(t->issuer.acm.arn, ACM_ARN);
        assert_true(t->issuer.acm.export);
        assert_int_equal(mail->issuer.acm.validation, CONF_VALIDATION_EMAIL);
        assert_string_equal(mail->issuer.acm.validation_domain, "example.com");
        assert_string_equal(mail->issuer.acm.key_algorithm, "RSA_2048");
        assert_true(mail->issuer.acm.transparency_logging);
        assert_false(mail->issuer.acm.transparency_logging_set);
        assert_int_equal(mail->issuer.acm.on_validation_timeout, CONF_ACM_TIMEOUT_FAIL);
        assert_int_equal(mail->issuer.acm.on_renewal_failure, CONF_ACM_RENEWAL_REISSUE);
        assert_string_equal(mail->issuer.acm.tags[0].key, "\xc3\xa9quipe");
        assert_int_equal(mail->n_reload_window, 0);
        assert_null(mail->reload_window);
        assert_int_equal(r53->dns.provider, CONF_DNS_ROUTE53);
        assert_string_equal(r53->dns.hosted_zone_id, "Z123ABC");
        assert_string_equal(r53->dns.role_arn, "arn:aws:iam::444455556666:role/dns");
        assert_int_equal(r53->dns.n_nameservers, 0);
        assert_int_equal(t->issuer.acm.on_renewal_failure, CONF_ACM_RENEWAL_REPORT);
        /* the deprecated transparency_logging of api is a warning at its place, not an error */
        assert_int_equal(c->warnings.n, 1);
        assert_string_equal(c->warnings.items[0].klass, "deprecated");
        assert_int_equal(c->warnings.items[0].loc.line, 44);
        assert_int_equal(c->warnings.items[0].loc.column, 108);
        assert_int_equal(r53->dns.propagation_timeout, 600);
        assert_string_equal(imp->issuer.import.chain, "/ch.pem");
        assert_string_equal(imp->issuer.import.arn, ACM_ARN);
        assert_string_equal(imp->output.dir, "/srv/imp");
        assert_string_equal(conf_issuer_type_to_string(imp->issuer_type), "import");
        conf_free(c);
}

static void test_round_trip(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *dir2 = new_dir();
        _cleanup_(freep) char *p2 = path_join(dir2, "from-json.yaml");
        write_at(dir, "acm-agent.yaml", full_config);
        write_at(dir, "certs.d/x.yaml", "certificates:\n  - name: dropped\n    issuer: {type: pca, ca_arn: " CA ", validity: 36h}\n    dns_names: [d.example.com]\n"
                                        "  - name: imported\n    issuer: {type: import, cert: /c.pem, key: /k.pem}\n");
        conf *c = load_ok(p);
        json_t *j1 = conf_to_json(c);
        assert_non_null(j1);
        /* an import certificate without output: has none in the JSON (its
         * loaded form would copy it), one with output: keeps it */
        json_t *cl = json_object_get(j1, "certificates");
        for (size_t i = 0; i < json_array_size(cl); i++) {
                const char *nm = json_string_value(json_object_get(json_array_get(cl, i), "name"));
                if (streq(nm, "imported"))
                        assert_null(json_object_get(json_array_get(cl, i), "output"));
                if (streq(nm, "imp"))
                        assert_non_null(json_object_get(json_array_get(cl, i), "output"));
        }
        char *text = json_dumps(j1, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        assert_non_null(text);
        write_at(dir2, "from-json.yaml", text);
        free(text);
        conf *c2 = load_ok(p2);
        json_t *j2 = conf_to_json(c2);
        assert_non_null(j2);
        if (!json_equal(j1, j2)) {
                char *a = json_dumps(j1, JSON_INDENT(1) | JSON_PRESERVE_ORDER), *b = json_dumps(j2, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
                print_message("first:\n%s\nsecond:\n%s\n", a, b);
                free(a);
                free(b);
                fail();
        }
        assert_int_equal(c2->n_certs, 8);
        assert_int_equal(conf_find_cert(c2, "dropped")->issuer.pca.validity.value, 36 * 3600);
        assert_false(conf_find_cert(c2, "imported")->output.configured);
        assert_true(conf_find_cert(c2, "imp")->output.configured);
        /* the renew_fraction of web survives, renew_before of api survives */
        assert_true(conf_find_cert(c2, "web")->schedule.renew_fraction == 0.25);
        assert_int_equal(conf_find_cert(c2, "api")->schedule.renew_before, 20 * 86400);
        json_decref(j1);
        json_decref(j2);
        conf_free(c);
        conf_free(c2);
}

/* The JSON uses the configuration's keys and spellings (not only self-consistent). */
static void test_json_shape(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", full_config);
        conf *c = load_ok(p);
        json_t *j = conf_to_json(c);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "aws"), "region")), "us-gov-west-1");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "aws"), "endpoints"), "acm-pca")),
                            "http://127.0.0.1:4566");
        assert_true(json_real_value(json_object_get(json_object_get(json_object_get(j, "aws"), "rate_limits"), "acm-pca:IssueCertificate")) == 2.5);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "daemon"), "acm_poll_interval")), "1h");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "reloaders"), "haproxy"), "runtime_socket")),
                            "/run/haproxy/admin.sock");
        json_t *certs = json_object_get(j, "certificates");
        assert_int_equal(json_array_size(certs), 6);
        json_t *w = json_array_get(certs, 0);
        assert_string_equal(json_string_value(json_object_get(w, "name")), "web");
        json_t *is = json_object_get(w, "issuer");
        assert_string_equal(json_string_value(json_object_get(is, "type")), "pca");
        assert_string_equal(json_string_value(json_object_get(is, "signing_algorithm")), "SHA384WITHECDSA");
        assert_string_equal(json_string_value(json_object_get(json_object_get(is, "validity"), "type")), "END_DATE");
        assert_true(json_object_get(json_object_get(json_object_get(is, "api_passthrough"), "Extensions"), "CustomExtensions") != NULL);
        assert_string_equal(json_string_value(json_object_get(json_object_get(w, "key"), "curve")), "P-521");
        json_t *out = json_object_get(w, "output");
        assert_string_equal(json_string_value(json_object_get(out, "mode")), "0644");
        assert_string_equal(json_string_value(json_object_get(out, "key_mode")), "0600");
        assert_string_equal(json_string_value(json_object_get(out, "group")), "root");
        assert_int_equal(json_integer_value(json_object_get(out, "owner")), 0);
        assert_string_equal(json_string_value(json_array_get(json_object_get(out, "files"), 4)), "pkcs12");
        json_t *rl = json_object_get(w, "reload");
        assert_string_equal(json_string_value(json_array_get(rl, 0)), "nginx");
        assert_string_equal(json_string_value(json_object_get(json_array_get(rl, 2), "systemd")), "app.service");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(rl, 3), "command"), 2)), "1");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(w, "hooks"), "failure"), 1)), "failed");
        assert_true(json_real_value(json_object_get(w, "renew_fraction")) == 0.25);
        assert_null(json_object_get(w, "renew_before"));
        json_t *api = json_array_get(certs, 1);
        assert_string_equal(json_string_value(json_object_get(json_object_get(api, "issuer"), "transparency_logging")), "disabled");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(api, "issuer"), "tags"), "cost center")), "42");
        assert_string_equal(json_string_value(json_object_get(api, "renew_before")), "20d");
        assert_string_equal(json_string_value(json_object_get(json_object_get(api, "dns"), "provider")), "exec");
        /* a tracked ACM certificate: the request settings are not written (they would conflict with arn) */
        json_t *t = json_object_get(json_array_get(certs, 2), "issuer");
        assert_string_equal(json_string_value(json_object_get(t, "arn")), ACM_ARN);
        assert_null(json_object_get(t, "key_algorithm"));
        assert_null(json_object_get(t, "validation"));
        assert_string_equal(json_string_value(json_object_get(t, "on_renewal_failure")), "report");
        assert_null(json_object_get(t, "on_validation_timeout"));
        /* the new keys in the configuration's own spelling */
        json_t *d = json_object_get(j, "daemon");
        assert_string_equal(json_string_value(json_object_get(d, "on_remove")), "delete");
        assert_string_equal(json_string_value(json_object_get(d, "dns_recheck_interval")), "12h");
        json_t *rw = json_object_get(w, "reload_window");
        assert_int_equal(json_array_size(rw), 3);
        assert_string_equal(json_string_value(json_array_get(rw, 0)), "Fri 22:00-02:00");
        assert_string_equal(json_string_value(json_array_get(rw, 1)), "Sat-Sun 01:30-24:00");
        assert_string_equal(json_string_value(json_array_get(rw, 2)), "Mon,Fri-Sun 03:00-04:00");
        json_t *ns = json_object_get(json_object_get(api, "dns"), "nameservers");
        assert_string_equal(json_string_value(json_array_get(ns, 0)), "192.0.2.53:53");
        assert_string_equal(json_string_value(json_array_get(ns, 2)), "[2001:db8::53]:53");
        assert_string_equal(json_string_value(json_array_get(json_object_get(api, "reload_window"), 0)), "daily 00:00-24:00");
        json_t *mail = json_object_get(json_array_get(certs, 3), "issuer");
        assert_string_equal(json_string_value(json_object_get(mail, "on_validation_timeout")), "fail");
        assert_string_equal(json_string_value(json_object_get(mail, "on_renewal_failure")), "reissue");
        assert_null(json_object_get(mail, "transparency_logging"));   /* deprecated: only when written */
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(certs, 4), "dns"), "role_arn")),
                            "arn:aws:iam::444455556666:role/dns");
        json_decref(j);
        conf_free(c);
}

static void test_empty_main(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", "# nothing\n");
        conf *c = load_ok(p);
        assert_int_equal(c->n_certs, 0);
        assert_non_null(c->certs);
        assert_null(c->certs[0]);
        assert_non_null(c->reloaders);
        assert_string_equal(c->output_root, CONF_DEFAULT_OUTPUT_ROOT);
        assert_int_equal(c->aws.max_attempts, 5);
        assert_int_equal(c->daemon.reload_debounce, 5);
        assert_null(conf_find_cert(c, "x"));
        conf_free(c);
}

/* ---- reload_window: parsing and conf_window_next() ---- */

static void test_window_parse(void **state) {
        (void) state;
        static const struct {
                const char *in;
                unsigned days, start, end;
                const char *canonical;
        } ok[] = {
                { "daily 01:00-04:00", 0x7f, 60, 240, "daily 01:00-04:00" },
                { "Mon-Fri 22:00-02:00", 0x3e, 1320, 120, "Mon-Fri 22:00-02:00" },
                { "sat,sun 0:00-24:00", 0x41, 0, 1440, "Sat-Sun 00:00-24:00" },
                { "Fri-Mon 03:00-04:00", 0x63, 180, 240, "Mon,Fri-Sun 03:00-04:00" },
                { "Mon,Wed,Fri   9:05-17:30", 0x2a, 545, 1050, "Mon,Wed,Fri 09:05-17:30" },
                { "Sun-Sat 23:59-00:00", 0x7f, 1439, 0, "daily 23:59-00:00" },
                { "DAILY 12:00-12:01", 0x7f, 720, 721, "daily 12:00-12:01" },
        };
        static const struct {
                const char *in, *why;
        } bad[] = {
                { "Mon", "DAYS HH:MM-HH:MM" },
                { "Mon ", "no times" },
                { "Mon 01:00", "HH:MM-HH:MM" },
                { "Mon 01:00-", "HH:MM-HH:MM" },
                { "Mon 1:0-2:00", "HH:MM-HH:MM" },
                { "Mon 24:00-01:00", "24:00" },
                { "Mon 01:60-02:00", "HH:MM" },
                { "Mon 01:00-02:00x", "HH:MM" },
                { "Mo 01:00-02:00", "days are" },
                { "Monday 01:00-02:00", "days are" },
                { "Mon,,Tue 01:00-02:00", "empty day" },
                { "Mon, 01:00-02:00", "empty day" },
                { ",Mon 01:00-02:00", "empty day" },
                { "Mon-Fri-Sat 01:00-02:00", "days are" },
                { "Mon 01:00-01:00", "empty" },
                { "weekly 01:00-02:00", "days are" },
                { " 01:00-02:00", "DAYS HH:MM-HH:MM" },
                { "", "DAYS HH:MM-HH:MM" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                conf_window w = {};
                char buf[64];
                const char *why = conf_window_parse(ok[i].in, &w);
                if (why)
                        print_message("'%s': %s\n", ok[i].in, why);
                assert_null(why);
                assert_int_equal(w.days, ok[i].days);
                assert_int_equal(w.start_min, ok[i].start);
                assert_int_equal(w.end_min, ok[i].end);
                assert_string_equal(conf_window_format(&w, buf, sizeof buf), ok[i].canonical);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                conf_window w = { .days = 0x55, .start_min = 7, .end_min = 9 };
                const char *why = conf_window_parse(bad[i].in, &w);
                if (!why || !strstr(why, bad[i].why))
                        print_message("'%s': want '%s', got '%s'\n", bad[i].in, bad[i].why, why ? why : "(accepted)");
                assert_non_null(why);
                assert_non_null(strstr(why, bad[i].why));
                assert_int_equal(w.days, 0x55);   /* untouched on error */
                assert_int_equal(w.start_min, 7);
        }
}

static time_t utc(int y, int mo, int d, int h, int mi) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
        return timegm(&tm);
}

static conf_window win(const char *s) {
        conf_window w = {};
        assert_null(conf_window_parse(s, &w));
        return w;
}

static void expect_next(const conf_window *w, size_t n, time_t now, time_t open, time_t close) {
        time_t o = 0, c = 0;
        assert_int_equal(conf_window_next(w, n, now, &o, &c), 0);
        if (o != open || c != close)
                print_message("now %lld: want [%lld, %lld), got [%lld, %lld)\n", (long long) now, (long long) open, (long long) close,
                              (long long) o, (long long) c);
        assert_true(o == open);
        assert_true(c == close);
}

/* Local time of the host (TZ), DST-correct: Europe/Berlin changes on 2026-03-29 (02:00 CET -> 03:00 CEST)
 * and 2026-10-25 (03:00 CEST -> 02:00 CET). Expected instants are written in UTC. */
static void test_window_next(void **state) {
        (void) state;
        char *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        conf_window daily = win("daily 01:00-04:00"), w[2];
        time_t o = 7, c = 9;

        assert_int_equal(setenv("TZ", "Europe/Berlin", 1), 0);
        tzset();

        assert_int_equal(conf_window_next(&daily, 0, utc(2026, 1, 1, 0, 0), &o, &c), -ENOENT);
        assert_int_equal(o, 7);
        w[0] = (conf_window) { .days = 0, .start_min = 60, .end_min = 120 };
        assert_int_equal(conf_window_next(w, 1, utc(2026, 1, 1, 0, 0), &o, &c), -EINVAL);
        assert_int_equal(c, 9);

        /* an ordinary winter night: 01:00-04:00 CET = 00:00-03:00 UTC */
        expect_next(&daily, 1, utc(2026, 1, 6, 12, 0), utc(2026, 1, 7, 0, 0), utc(2026, 1, 7, 3, 0));
        /* the spring night has only 2 hours between 01:00 CET and 04:00 CEST */
        expect_next(&daily, 1, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0));
        /* the autumn night has 4: 01:00 CEST = 23:00 UTC, 04:00 CET = 03:00 UTC */
        expect_next(&daily, 1, utc(2026, 10, 24, 12, 0), utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0));
        /* Saturday noon CET to Sunday noon CEST is 23 hours, not 24 */
        w[0] = win("Sun 12:00-13:00");
        expect_next(w, 1, utc(2026, 3, 28, 11, 0), utc(2026, 3, 29, 10, 0), utc(2026, 3, 29, 11, 0));
        /* a time in the spring-forward gap moves forward by the gap (02:30 -> 03:30 CEST) */
        w[0] = win("daily 02:30-05:00");
        expect_next(w, 1, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 3, 0));
        /* inside a window that wrapped midnight: open now, closes Saturday 02:00 CET */
        w[0] = win("Fri 22:00-02:00");
        expect_next(w, 1, utc(2026, 1, 3, 0, 30), utc(2026, 1, 3, 0, 30), utc(2026, 1, 3, 1, 0));
        /* at the opening instant it is open; at the closing instant it is not */
        expect_next(&daily, 1, utc(2026, 1, 7, 0, 0), utc(2026, 1, 7, 0, 0), utc(2026, 1, 7, 3, 0));
        expect_next(&daily, 1, utc(2026, 1, 7, 3, 0), utc(2026, 1, 8, 0, 0), utc(2026, 1, 8, 3, 0));
        /* a weekly window from the day after: next week */
        w[0] = win("Mon 03:00-04:00");
        expect_next(w, 1, utc(2026, 1, 6, 12, 0), utc(2026, 1, 12, 2, 0), utc(2026, 1, 12, 3, 0));
        /* windows that touch are one opening */
        w[0] = win("Sat 22:00-24:00");
        w[1] = win("Sun 00:00-01:00");
        expect_next(w, 2, utc(2026, 1, 3, 22, 30), utc(2026, 1, 3, 22, 30), utc(2026, 1, 4, 0, 0));
        /* the earliest of several */
        w[0] = win("Wed 05:00-06:00");
        w[1] = win("Tue 23:00-23:30");
        expect_next(w, 2, utc(2026, 1, 5, 12, 0), utc(2026, 1, 6, 22, 0), utc(2026, 1, 6, 22, 30));

        if (old_tz)
                setenv("TZ", old_tz, 1);
        else
                unsetenv("TZ");
        tzset();
        free(old_tz);
}

/* ---- warnings ---- */

static void test_warnings(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        conf_errors errs, warns;
        conf *c;

        /* from defaults: reported once, at the default, for both certificates */
        write_at(dir, "acm-agent.yaml",
                 "defaults:\n"
                 "  issuer: {type: acm, validation: email, transparency_logging: enabled}\n"
                 "certificates:\n"
                 "  - name: a\n"
                 "    dns_names: [a.example.com]\n"
                 "  - name: b\n"
                 "    dns_names: [b.example.com]\n");
        c = load_ok(p);
        assert_int_equal(c->warnings.n, 1);
        assert_string_equal(c->warnings.items[0].loc.file, p);
        assert_int_equal(c->warnings.items[0].loc.line, 2);
        assert_int_equal(c->warnings.items[0].loc.column, 64);
        assert_string_equal(c->warnings.items[0].klass, "deprecated");
        assert_non_null(strstr(c->warnings.items[0].message, "deprecated"));
        assert_non_null(strstr(c->warnings.items[0].hint, "remove transparency_logging"));
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        conf_warnings_print(&c->warnings, f);
        fclose(f);
        _cleanup_(freep) char *want = strprintf("%s:2:64: warning: transparency_logging is deprecated", p);
        assert_true(strneq(buf, want, strlen(want)));
        free(buf);
        conf_free(c);

        /* with an error too: -EINVAL, and the warnings come back beside the errors */
        write_at(dir, "acm-agent.yaml",
                 "state_dir: rel\n"
                 "certificates:\n"
                 "  - name: a\n"
                 "    issuer: {type: acm, validation: email, transparency_logging: false}\n"
                 "    dns_names: [a.example.com]\n");
        c = NULL;
        assert_int_equal(conf_load_with(p, NULL, &c, &errs, &warns), -EINVAL);
        assert_null(c);
        assert_int_equal(errs.n, 1);
        assert_int_equal(warns.n, 1);
        assert_int_equal(warns.items[0].loc.line, 4);
        conf_errors_done(&errs);
        conf_errors_done(&warns);

        /* none: the list is empty */
        write_at(dir, "acm-agent.yaml", "certificates: []\n");
        assert_int_equal(conf_load_with(p, NULL, &c, &errs, &warns), 0);
        assert_int_equal(c->warnings.n, 0);
        assert_int_equal(warns.n, 0);
        conf_free(c);
}

/* ---- files that are not regular files: refused, never read (a FIFO would block forever) ---- */

static void on_alarm(int sig) {
        (void) sig;
        static const char m[] = "test-conf: blocked on a special file\n";
        (void) !write(2, m, sizeof m - 1);
        _exit(1);
}

static void test_special_files(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *fifo = path_join(dir, "certs.d/f.yaml");
        _cleanup_(freep) char *mainfifo = path_join(dir, "fifo.yaml");
        _cleanup_(freep) char *sub = path_join(dir, "sub");
        conf_errors errs;
        conf *cf = NULL;

        signal(SIGALRM, on_alarm);
        alarm(30);   /* a hang is a failure, not a stuck test run */

        /* the main file */
        assert_int_equal(mkfifo(mainfifo, 0600), 0);
        expect_one(mainfifo, mainfifo, 1, 1, "io");
        assert_int_equal(mkdir(sub, 0755), 0);
        expect_one(sub, sub, 1, 1, "io");

        /* a drop-in */
        write_at(dir, "acm-agent.yaml", "certificates: []\n");
        write_at(dir, "certs.d/keep", "");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].loc.file, fifo);
        assert_string_equal(errs.items[0].klass, "io");
        assert_non_null(strstr(errs.items[0].message, "FIFO"));
        conf_errors_done(&errs);
        assert_int_equal(unlink(fifo), 0);

        /* an include: a device, reported at the include: entry */
        write_at(dir, "acm-agent.yaml", "certificates: []\ninclude: [\"/dev/nul[l]\"]\n");
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_int_equal(errs.items[0].loc.line, 2);
        assert_int_equal(errs.items[0].loc.column, 11);
        assert_non_null(strstr(errs.items[0].message, "character device"));
        conf_errors_done(&errs);

        /* aws.ca_bundle */
        _cleanup_(freep) char *text = strprintf("aws: {ca_bundle: %s}\n", mainfifo);
        write_at(dir, "acm-agent.yaml", text);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_int_equal(errs.items[0].loc.column, 18);
        assert_non_null(strstr(errs.items[0].message, "a FIFO (named pipe), not a regular file"));
        conf_errors_done(&errs);

        alarm(0);
        signal(SIGALRM, SIG_DFL);
}

/* A readable PEM bundle is accepted (the reader bounds and types it, it does not refuse good files). */
static void test_ca_bundle_ok(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *ca = path_join(dir, "ca.pem");
        _cleanup_(freep) char *text = strprintf("aws: {ca_bundle: %s}\n", ca);
        write_at(dir, "ca.pem", "# a comment\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        write_at(dir, "acm-agent.yaml", text);
        conf *c = load_ok(p);
        assert_string_equal(c->aws.ca_bundle, ca);
        conf_free(c);
}

/* The bundle check reads only as far as the first PEM header, in 16 KiB
 * chunks: a header across two chunks is found, one past the end of a
 * large file is not missed, a file without one is refused, and the size
 * bound and the kind of file are checked as for a whole read. */
static void test_regular_file_contains(void **state) {
        (void) state;
        static const char hdr[] = "-----BEGIN CERTIFICATE-----";
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "bundle.pem");
        const char *why = NULL;
        size_t n = 3 * 16384 + 100;
        char *text = malloc(n + sizeof(hdr));

        assert_non_null(p);
        assert_non_null(text);
        /* at every offset around the first and second chunk boundaries, and at the very end */
        const size_t at[] = { 0, 16384 - 27, 16384 - 13, 16384 - 1, 16384, 2 * 16384 - 5, n - 1, n };
        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                memset(text, '#', n);
                memcpy(text + at[i], hdr, sizeof(hdr) - 1);
                text[at[i] + sizeof(hdr) - 1 > n ? at[i] + sizeof(hdr) - 1 : n] = 0;
                write_at(dir, "bundle.pem", text);
                assert_int_equal(conf_regular_file_contains(p, 1 << 20, hdr, &why), 1);
        }
        /* split across reads but one byte short of the header: not found */
        memset(text, '#', n);
        memcpy(text + 16384 - 10, hdr, sizeof(hdr) - 2);
        text[n] = 0;
        write_at(dir, "bundle.pem", text);
        assert_int_equal(conf_regular_file_contains(p, 1 << 20, hdr, &why), 0);
        write_at(dir, "bundle.pem", "");
        assert_int_equal(conf_regular_file_contains(p, 1 << 20, hdr, &why), 0);
        /* the bound holds, whether or not the header comes first */
        memset(text, '#', n);
        memcpy(text, hdr, sizeof(hdr) - 1);
        text[n] = 0;
        write_at(dir, "bundle.pem", text);
        assert_int_equal(conf_regular_file_contains(p, 16384, hdr, &why), -EFBIG);
        free(text);
        /* kinds of file, named */
        why = NULL;
        assert_int_equal(conf_regular_file_contains(dir, 1 << 20, hdr, &why), -EISDIR);
        assert_string_equal(why, "a directory");
        why = NULL;
        assert_int_equal(conf_regular_file_contains("/dev/null", 1 << 20, hdr, &why), -ENODEV);
        assert_non_null(why);
        assert_int_equal(conf_regular_file_contains("/nonexistent/bundle.pem", 1 << 20, hdr, &why), -ENOENT);
}

/* ---- output directories: stored normalised, compared canonically (symlinked ancestors too) ---- */

static void test_output_dir_canonical(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *real = path_join(dir, "real");
        _cleanup_(freep) char *link = path_join(dir, "link");
        _cleanup_(freep) char *text = NULL, *want = NULL;
        conf_errors errs;
        conf *cf = NULL;

        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(symlink("real", link), 0);
        text = strprintf("certificates:\n"
                         "  - name: a\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: \"%s//x/./y/\"}\n"
                         "  - name: b\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: \"%s/shared\"}\n",
                         link, real);
        write_at(dir, "acm-agent.yaml", text);
        conf *c = load_ok(p);
        want = strprintf("%s/x/y", link);   /* lexical: the symlink is kept as written */
        assert_string_equal(conf_find_cert(c, "a")->output.dir, want);
        conf_free(c);

        /* the same directory through the symlinked ancestor */
        free(text);
        text = strprintf("certificates:\n"
                         "  - name: a\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: %s/shared}\n"
                         "  - name: b\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: %s/shared}\n",
                         real, link);
        write_at(dir, "acm-agent.yaml", text);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_int_equal(errs.items[0].loc.line, 5);
        assert_string_equal(errs.items[0].klass, "duplicate");
        conf_errors_done(&errs);

        /* output_root/NAME against an explicit dir written differently */
        free(text);
        text = strprintf("output_root: %s/\n"
                         "certificates:\n"
                         "  - name: a\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "  - name: b\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: %s/sub/../a}\n",
                         link, real);
        write_at(dir, "acm-agent.yaml", text);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_int_equal(errs.items[0].loc.line, 5);
        assert_non_null(strstr(errs.items[0].message, "as does 'a'"));
        conf_errors_done(&errs);

        /* the last component a symlink to a sibling: the same directory */
        _cleanup_(freep) char *tx = path_join(real, "tx"), *ty = path_join(real, "ty");
        assert_int_equal(mkdir(tx, 0755), 0);
        assert_int_equal(symlink("tx", ty), 0);
        free(text);
        text = strprintf("certificates:\n"
                         "  - name: a\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: %s}\n"
                         "  - name: b\n"
                         "    issuer: {type: import, cert: /c, key: /k}\n"
                         "    output: {dir: %s}\n",
                         tx, ty);
        write_at(dir, "acm-agent.yaml", text);
        assert_int_equal(conf_load(p, &cf, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_int_equal(errs.items[0].loc.line, 5);
        assert_non_null(strstr(errs.items[0].message, "as does 'a'"));
        conf_errors_done(&errs);
}

/* The cached form (one parent kept) gives what conf_path_canonical() gives,
 * whatever the order: a symlinked parent, a symlink as the last component,
 * parts that do not exist, a child of "/", a parent that changes; and
 * conf_path_canonical_stat() says what stat(2) of that path says (from the
 * parent's listing once a second child of it is looked up: a directory, a
 * file, a missing entry, a symlink to either, a child of a file). */
static void test_path_canonical_cached(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *real = path_join(dir, "real"), *link = path_join(dir, "link");
        _cleanup_(freep) char *x = path_join(real, "x"), *y = path_join(real, "y");
        conf_path_cache cache = {};

        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(mkdir(x, 0755), 0);
        assert_int_equal(symlink("real", link), 0);
        assert_int_equal(symlink("x", y), 0);
        _cleanup_(freep) char *file = path_join(real, "file"), *flink = path_join(real, "flink");
        _cleanup_(fclosep) FILE *f = fopen(file, "w");
        assert_non_null(f);
        assert_int_equal(symlink("file", flink), 0);
        const char *rel[] = { "real/x", "real/y", "real/none", "link/x", "link/y", "link/none/deeper", "real/x/",
                              "real//x/../y", "none/a", "none/b", "real/x", "real/file", "real/flink",
                              "real/file/below", "link/flink" };
        for (size_t i = 0; i < ELEMENTSOF(rel); i++) {
                _cleanup_(freep) char *p = strprintf("%s/%s", dir, rel[i]), *a = NULL, *b = NULL, *c = NULL;
                struct stat sa;
                mode_t tc = 0;
                int ra, rc = 1;
                assert_int_equal(conf_path_canonical(p, &a), 0);
                assert_int_equal(conf_path_canonical_cached(p, &cache, &b), 0);
                assert_string_equal(a, b);
                /* the stat that comes with it is stat(2) of the canonical path */
                assert_int_equal(conf_path_canonical_stat(p, &cache, &c, &tc, &rc), 0);
                assert_string_equal(a, c);
                ra = stat(a, &sa) < 0 ? -errno : 0;
                assert_int_equal(rc, ra);
                if (ra == 0)
                        assert_int_equal(tc, sa.st_mode & S_IFMT);
        }
        for (const char *const *p = (const char *const[]) { "/", "/tmp", "/nonexistent-acm-agent", NULL }; *p; p++) {
                _cleanup_(freep) char *a = NULL, *b = NULL, *c = NULL;
                struct stat sa;
                mode_t tc = 0;
                int rc = 1;
                assert_int_equal(conf_path_canonical(*p, &a), 0);
                assert_int_equal(conf_path_canonical_cached(*p, &cache, &b), 0);
                assert_string_equal(a, b);
                assert_int_equal(conf_path_canonical_stat(*p, &cache, &c, &tc, &rc), 0);
                assert_string_equal(a, c);
                assert_int_equal(rc, stat(a, &sa) < 0 ? -errno : 0);
        }
        conf_path_cache_done(&cache);
}

/* ---- check --drop-in FILE [--as PATH] ---- */

#define IMP(n) "certificates:\n  - name: " n "\n    issuer: {type: import, cert: /c, key: /k}\n"

static conf *load_with_ok(const char *path, const conf_load_options *o) {
        conf_errors errs;
        conf *cf = NULL;
        int r = conf_load_with(path, o, &cf, &errs, NULL);
        if (r < 0)
                conf_errors_print(&errs, stdout);
        conf_errors_done(&errs);
        assert_int_equal(r, 0);
        return cf;
}

/* conf_load_options.on_state_dir: the state directory as soon as the main
 * file's top level names it (a syntax error further down does not stop
 * it: it was called before the parser got there), normalised as the
 * configuration will have it; the default when the main file names none;
 * once; never for a state_dir key below the top level or a path the
 * configuration refuses. */
typedef struct hint_seen {
        unsigned calls;
        char dir[256];
} hint_seen;

static void on_state_dir_seen(const char *dir, void *userdata) {
        hint_seen *h = userdata;
        h->calls++;
        snprintf(h->dir, sizeof(h->dir), "%s", dir);
}

static void test_state_dir_hint(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        hint_seen h = {};
        const conf_load_options o = { .on_state_dir = on_state_dir_seen, .userdata = &h };
        conf_errors errs;
        conf *c;

        write_at(dir, "acm-agent.yaml", "state_dir: \"/var/lib//acm-agent-test/./x/\"\n" IMP("a"));
        c = load_with_ok(p, &o);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.dir, "/var/lib/acm-agent-test/x");
        assert_string_equal(h.dir, c->state_dir);
        conf_free(c);

        /* named after the certificates: still once, with that */
        h = (hint_seen) {};
        write_at(dir, "acm-agent.yaml", IMP("a") "state_dir: /srv/state\n");
        c = load_with_ok(p, &o);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.dir, "/srv/state");
        conf_free(c);

        /* none: the default, once the main file is read */
        h = (hint_seen) {};
        write_at(dir, "acm-agent.yaml", IMP("a"));
        c = load_with_ok(p, &o);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.dir, CONF_DEFAULT_STATE_DIR);
        conf_free(c);

        /* read before a syntax error further down the file */
        h = (hint_seen) {};
        write_at(dir, "acm-agent.yaml", "state_dir: /srv/early\n" IMP("a") "  - name: [unclosed\n");
        c = NULL;
        assert_int_equal(conf_load_with(p, &o, &c, &errs, NULL), -EINVAL);
        conf_errors_done(&errs);
        assert_null(c);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.dir, "/srv/early");

        /* a state_dir key below the top level is not the state directory */
        h = (hint_seen) {};
        write_at(dir, "acm-agent.yaml", "aws: {state_dir: /nested}\nstate_dir: /srv/top\n" IMP("a"));
        assert_int_equal(conf_load_with(p, &o, &c, &errs, NULL), -EINVAL);  /* aws.state_dir is unknown */
        conf_errors_done(&errs);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.dir, "/srv/top");

        /* a relative state_dir is refused: no directory to read ahead */
        h = (hint_seen) {};
        write_at(dir, "acm-agent.yaml", "state_dir: relative/dir\n" IMP("a"));
        assert_int_equal(conf_load_with(p, &o, &c, &errs, NULL), -EINVAL);
        conf_errors_done(&errs);
        assert_int_equal(h.calls, 0);
}

/* The nodes and their text live in the loader's chunks: a scalar larger
 * than a chunk's quarter gets one of its own and the nodes read after it
 * still go on in the current one; every value arrives intact. */
static void test_large_scalars(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        const size_t sizes[] = { 15000, 17000, 40000, 65536 };
        char *text = malloc(8 * 65536 + 4096), *at = text;
        conf *c;

        assert_non_null(text);
        at += sprintf(at, "certificates:\n");
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                at += sprintf(at, "  - name: c%zu\n    issuer: {type: import, cert: /c, key: /k}\n"
                                  "    hooks: {deploy: [/bin/echo, \"", i);
                memset(at, 'a' + (int) i, sizes[i]);
                at += sizes[i];
                at += sprintf(at, "\"]}\n");
        }
        *at = 0;
        write_at(dir, "acm-agent.yaml", text);
        free(text);
        c = load_with_ok(p, NULL);
        assert_int_equal(c->n_certs, ELEMENTSOF(sizes));
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char name[8];
                snprintf(name, sizeof(name), "c%zu", i);
                assert_string_equal(c->certs[i]->name, name);
                assert_string_equal(c->certs[i]->hooks.deploy[0], "/bin/echo");
                assert_int_equal(strlen(c->certs[i]->hooks.deploy[1]), sizes[i]);
                assert_int_equal(c->certs[i]->hooks.deploy[1][0], 'a' + (int) i);
                assert_int_equal(c->certs[i]->hooks.deploy[1][sizes[i] - 1], 'a' + (int) i);
        }
        conf_free(c);
}

static void test_drop_in(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *other = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *file = path_join(other, "tmpXYZ");
        _cleanup_(freep) char *a = path_join(dir, "certs.d/10-a.yaml");
        _cleanup_(freep) char *a_other_spelling = path_join(dir, "certs.d/./10-a.yaml");
        _cleanup_(freep) char *b = path_join(dir, "certs.d/20-b.yaml");
        _cleanup_(freep) char *inc_new = path_join(dir, "extra/05-n.yaml");
        conf_errors errs, warns;
        conf *c;

        write_at(dir, "acm-agent.yaml", IMP("m") "include: [\"extra/*.yaml\"]\n");
        write_at(dir, "certs.d/10-a.yaml", IMP("a"));
        write_at(dir, "certs.d/30-c.yaml", IMP("c"));
        write_at(dir, "extra/10-x.yaml", IMP("x"));

        /* an extra drop-in: after certs.d/, before the includes */
        write_at(other, "tmpXYZ", IMP("n"));
        c = load_with_ok(p, &(conf_load_options) { .drop_in = file });
        assert_int_equal(c->n_certs, 5);
        assert_string_equal(c->certs[3]->name, "n");
        assert_string_equal(c->certs[3]->loc.file, file);
        assert_string_equal(c->certs[4]->name, "x");
        conf_free(c);

        /* ... that collides with a drop-in: the error names FILE */
        write_at(other, "tmpXYZ", IMP("a") "    bogus: 1\n");
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in = file }, &c, &errs, NULL), -EINVAL);
        assert_int_equal(errs.n, 2);
        assert_string_equal(errs.items[0].loc.file, file);
        assert_int_equal(errs.items[0].loc.line, 2);
        assert_string_equal(errs.items[0].klass, "duplicate");
        assert_string_equal(errs.items[1].loc.file, file);
        assert_int_equal(errs.items[1].loc.line, 4);
        assert_string_equal(errs.items[1].klass, "unknown-key");
        conf_errors_done(&errs);

        /* FILE is one of the drop-ins (written another way): read once, in its place, under FILE's name */
        c = load_with_ok(p, &(conf_load_options) { .drop_in = a_other_spelling });
        assert_int_equal(c->n_certs, 4);
        assert_string_equal(c->certs[1]->name, "a");
        assert_string_equal(c->certs[1]->loc.file, a_other_spelling);
        conf_free(c);

        /* --as an existing drop-in: FILE replaces it (no collision with its old version) */
        write_at(other, "tmpXYZ", IMP("a") "    output: {dir: /srv/a2}\n");
        c = load_with_ok(p, &(conf_load_options) { .drop_in = file, .drop_in_as = a });
        assert_int_equal(c->n_certs, 4);
        assert_string_equal(c->certs[1]->name, "a");
        assert_string_equal(c->certs[1]->output.dir, "/srv/a2");
        assert_string_equal(c->certs[1]->loc.file, file);
        for (char **f = c->files; *f; f++)
                assert_false(streq(*f, a));
        conf_free(c);

        /* ... also when a second pattern matches the same drop-in */
        write_at(dir, "acm-agent.yaml", IMP("m") "include: [\"extra/*.yaml\", \"certs.d/1*.yaml\"]\n");
        c = load_with_ok(p, &(conf_load_options) { .drop_in = file, .drop_in_as = a });
        assert_int_equal(c->n_certs, 4);
        conf_free(c);
        write_at(dir, "acm-agent.yaml", IMP("m") "include: [\"extra/*.yaml\"]\n");

        /* --as a drop-in that does not exist yet: in its sorted place (20-b between 10-a and 30-c) */
        write_at(other, "tmpXYZ", IMP("b"));
        c = load_with_ok(p, &(conf_load_options) { .drop_in = file, .drop_in_as = b });
        assert_int_equal(c->n_certs, 5);
        assert_string_equal(c->certs[1]->name, "a");
        assert_string_equal(c->certs[2]->name, "b");
        assert_string_equal(c->certs[3]->name, "c");
        conf_free(c);

        /* --as a new file of an include: pattern: in the include's order */
        c = load_with_ok(p, &(conf_load_options) { .drop_in = file, .drop_in_as = inc_new });
        assert_int_equal(c->n_certs, 5);
        assert_string_equal(c->certs[3]->name, "b");
        assert_string_equal(c->certs[4]->name, "x");
        conf_free(c);

        /* --as a path no pattern matches: the agent would never read it there */
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in = file, .drop_in_as = "/etc/elsewhere.yaml" }, &c, &errs,
                                        &warns), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].loc.file, file);
        assert_int_equal(errs.items[0].loc.line, 1);
        assert_string_equal(errs.items[0].klass, "misplaced");
        assert_non_null(strstr(errs.items[0].message, "/etc/elsewhere.yaml"));
        conf_errors_done(&errs);
        conf_errors_done(&warns);

        /* the main file is not a drop-in, as FILE or as PATH */
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in = p }, &c, &errs, NULL), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].klass, "misplaced");
        conf_errors_done(&errs);
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in = file, .drop_in_as = p }, &c, &errs, NULL), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].klass, "misplaced");
        conf_errors_done(&errs);

        /* a missing FILE */
        _cleanup_(freep) char *missing = path_join(other, "nope");
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in = missing }, &c, &errs, NULL), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.items[0].loc.file, missing);
        assert_string_equal(errs.items[0].klass, "io");
        conf_errors_done(&errs);

        /* --as without --drop-in is a caller error, not a configuration error */
        assert_int_equal(conf_load_with(p, &(conf_load_options) { .drop_in_as = a }, &c, &errs, NULL), -EINVAL);
        assert_int_equal(errs.n, 0);
}

/* ---- smaller behaviours ---- */

static void test_hook_bare_name(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        write_at(dir, "acm-agent.yaml", BASE "    hooks: {deploy: notify-cert, failure: [logger, -t, acm-agent]}\n"
                                            "    reload: [{command: [my-reload, now]}]\n");
        conf *c = load_ok(p);
        const conf_cert *w = conf_find_cert(c, "web");
        assert_string_equal(w->hooks.deploy[0], "notify-cert");
        assert_string_equal(w->hooks.failure[0], "logger");
        assert_string_equal(w->reload[0]->command[0], "my-reload");
        conf_free(c);
}

static void test_acm_names_limit(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        char y[8192];
        size_t o = (size_t) snprintf(y, sizeof y, ACM0 "      validation: email\n    dns_names: [");
        for (int i = 0; i < 101; i++)
                o += (size_t) snprintf(y + o, sizeof y - o, "%sn%d.example.com", i ? ", " : "", i);
        snprintf(y + o, sizeof y - o, "]\n");
        write_at(dir, "acm-agent.yaml", y);
        /* SubjectAlternativeNames takes 1-100 */
        expect_one(p, p, 7, 16, "too-large");
}

/* ACM takes 50 tags and the agent adds acm-agent:name and acm-agent:host:
 * 48 configured ones are the most; a tracked certificate (arn) is not
 * tagged by the agent. A readable PEM trust_store is kept. */
static void test_acm_tags_and_trust_store(void **state) {
        (void) state;
        _cleanup_(freep) char *dir = new_dir();
        _cleanup_(freep) char *p = path_join(dir, "acm-agent.yaml");
        _cleanup_(freep) char *roots = path_join(dir, "roots.pem");
        char y[8192];
        size_t o;
        conf *c;

        for (int n = 48; n <= 49; n++) {
                o = (size_t) snprintf(y, sizeof y, ACM0 "      validation: email\n      tags: {");
                for (int i = 0; i < n; i++)
                        o += (size_t) snprintf(y + o, sizeof y - o, "%st%d: v", i ? ", " : "", i);
                snprintf(y + o, sizeof y - o, "}\n    dns_names: [a.example.com]\n");
                write_at(dir, "acm-agent.yaml", y);
                if (n == 49) {
                        expect_one(p, p, 7, 13, "too-large");
                        continue;
                }
                c = load_ok(p);
                assert_int_equal(conf_find_cert(c, "api")->issuer.acm.n_tags, 48);
                conf_free(c);
        }
        write_at(dir, "roots.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        snprintf(y, sizeof y, ACM0 "      validation: email\n      trust_store: %s\n    dns_names: [a.example.com]\n", roots);
        write_at(dir, "acm-agent.yaml", y);
        c = load_ok(p);
        assert_string_equal(conf_find_cert(c, "api")->issuer.acm.trust_store, roots);
        json_t *j = conf_to_json(c);
        json_t *certs = json_object_get(j, "certificates");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(certs, 0), "issuer"), "trust_store")), roots);
        json_decref(j);
        conf_free(c);
}

static void test_key_paths(void **state) {
        (void) state;
        char **l = NULL;
        static const char *const must[] = {
                "aws.region", "aws.rate_limits", "daemon.on_remove", "daemon.dns_recheck_interval", "reloaders.haproxy.runtime_socket",
                "certificates[].name", "certificates[].reload_window", "certificates[].issuer(acm).on_renewal_failure",
                "certificates[].issuer(acm).on_validation_timeout", "certificates[].issuer(acm).transparency_logging",
                "certificates[].issuer(pca).validity.type", "certificates[].dns.role_arn", "certificates[].dns.nameservers",
                "certificates[].subject.custom_attributes[].oid", "certificates[].reload[].systemd", "defaults.reload_window",
                "defaults.issuer(import).chain", "defaults.output_root", "include",
        };
        assert_int_equal(conf_key_paths(&l), 0);
        for (size_t i = 0; i < ELEMENTSOF(must); i++) {
                bool found = false;
                for (char **k = l; *k && !found; k++)
                        found = streq(*k, must[i]);
                if (!found)
                        print_message("missing %s\n", must[i]);
                assert_true(found);
        }
        for (char **k = l; *k; k++) {
                assert_false(streq(*k, "defaults.name"));
                for (char **m = k + 1; *m; m++)
                        assert_false(streq(*k, *m));
        }
        strv_free(l);
}

static int setup(void **state) {
        (void) state;
        return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown(void **state) {
        (void) state;
        return nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
        const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_unreadable_dropin),
                cmocka_unit_test(test_unlistable_dropin_dir),
                cmocka_unit_test(test_too_large_file),
                cmocka_unit_test(test_too_many_nodes),
                cmocka_unit_test(test_too_many_files),
                cmocka_unit_test(test_too_many_certs),
                cmocka_unit_test(test_include_error_and_order),
                cmocka_unit_test(test_several_in_one_file),
                cmocka_unit_test(test_defaults_merge),
                cmocka_unit_test(test_dropins_and_includes),
                cmocka_unit_test(test_every_issuer_and_reload),
                cmocka_unit_test(test_aws_copy),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_json_shape),
                cmocka_unit_test(test_empty_main),
                cmocka_unit_test(test_window_parse),
                cmocka_unit_test(test_window_next),
                cmocka_unit_test(test_warnings),
                cmocka_unit_test(test_special_files),
                cmocka_unit_test(test_ca_bundle_ok),
                cmocka_unit_test(test_regular_file_contains),
                cmocka_unit_test(test_output_dir_canonical),
                cmocka_unit_test(test_path_canonical_cached),
                cmocka_unit_test(test_state_dir_hint),
                cmocka_unit_test(test_large_scalars),
                cmocka_unit_test(test_drop_in),
                cmocka_unit_test(test_hook_bare_name),
                cmocka_unit_test(test_acm_names_limit),
                cmocka_unit_test(test_acm_tags_and_trust_store),
                cmocka_unit_test(test_key_paths),
        };
        size_t n = ELEMENTSOF(cases) + ELEMENTSOF(fixed);
        struct CMUnitTest *tests = calloc(n, sizeof(struct CMUnitTest));
        if (!tests)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[i] = (struct CMUnitTest) { .name = cases[i].name, .test_func = test_error_case,
                                                 .initial_state = (void *) &cases[i] };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                tests[ELEMENTSOF(cases) + i] = fixed[i];
        int r = _cmocka_run_group_tests("conf", tests, n, setup, teardown);
        free(tests);
        return r;
}
