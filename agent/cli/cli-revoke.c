/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acm-agent revoke NAME --reason REASON: RevokeCertificate for the deployed
 * certificate (CA ARN from the configuration, serial from the state), then
 * the state is marked so the next pass replaces the certificate.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "aws/aws.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "basic/log.h"
#include "store/store-state.h"
#include "basic/util.h"

static const char *const reasons[] = {
        "UNSPECIFIED", "KEY_COMPROMISE", "CERTIFICATE_AUTHORITY_COMPROMISE", "AFFILIATION_CHANGED",
        "SUPERSEDED", "CESSATION_OF_OPERATION", "PRIVILEGE_WITHDRAWN", "A_A_COMPROMISE",
};

/* Accepts KEY_COMPROMISE and key-compromise. Returns the enum or NULL. */
static const char *reason_parse(const char *s) {
        char buf[64];
        size_t n = strlen(s);

        if (n == 0 || n >= sizeof(buf))
                return NULL;
        for (size_t i = 0; i <= n; i++)
                buf[i] = s[i] == '-' ? '_' : (char) toupper((unsigned char) s[i]);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (streq(buf, reasons[i]))
                        return reasons[i];
        return NULL;
}

static void list_reasons(void) {
        fprintf(stderr, "reasons:");
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                char buf[64];
                size_t n = strlen(reasons[i]);
                for (size_t k = 0; k <= n; k++)
                        buf[k] = reasons[i][k] == '_' ? '-' : (char) tolower((unsigned char) reasons[i][k]);
                fprintf(stderr, " %s", buf);
        }
        fprintf(stderr, " (or the same in UPPER_CASE)\n");
}

/* "0A1B2C" -> "0a:1b:2c", the form `openssl x509 -text` prints. */
static char *serial_colon(const char *hex) {
        size_t n = strlen(hex), odd = n % 2;
        char *out = malloc(n + n / 2 + 2), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (!isxdigit((unsigned char) hex[i])) {
                        free(out);
                        return NULL;
                }
                if (i == 0 && odd)
                        *p++ = '0';
                if (p != out && (p - out) % 3 == 2)
                        *p++ = ':';
                *p++ = (char) tolower((unsigned char) hex[i]);
        }
        *p = 0;
        return out;
}

typedef struct revoke_ctx {
        int rc;
        bool already;
        char *error;
} revoke_ctx;

static void on_revoked(const aws_error *err, json_t *resp _unused_, void *userdata) {
        revoke_ctx *ctx = userdata;
        if (!err)
                ctx->rc = 0;
        else if (streq(err->type, "RequestAlreadyProcessedException")) {
                ctx->rc = 0;
                ctx->already = true;
        } else {
                ctx->rc = -EIO;
                ctx->error = aws_error_format(err);
        }
}

int cmd_revoke(const cli_options *o, int argc, char **argv) {
        _cleanup_(cli_conf_freep) conf *c = NULL;
        _cleanup_(state_freep) cert_state *st = NULL;
        _cleanup_(closep) int lock_fd = -1;
        _cleanup_(freep) char *serial = NULL;
        sd_event *loop = NULL;
        aws_client *client = NULL;
        const conf_cert *cert = NULL;
        const char *reason;
        revoke_ctx ctx = { .rc = -EINPROGRESS };
        char err[512] = "";
        json_t *req;
        int r;

        if (argc != 2) {
                log_error("usage: acm-agent revoke NAME --reason REASON");
                return EXIT_USAGE;
        }
        if (!o->reason) {
                log_error("revoke %s: --reason is required (RevokeCertificate needs a RevocationReason)", argv[1]);
                list_reasons();
                return EXIT_USAGE;
        }
        reason = reason_parse(o->reason);
        if (!reason) {
                log_error("revoke %s: unknown reason '%s'", argv[1], o->reason);
                list_reasons();
                return EXIT_USAGE;
        }
        r = cli_conf_load(o, &c);
        if (r < 0)
                return EXIT_USAGE;
        for (conf_cert **i = c->certs; i && *i; i++)
                if (streq((*i)->name, argv[1]))
                        cert = *i;
        if (!cert) {
                log_error("no certificate named '%s' in %s", argv[1], o->config_path);
                return EXIT_USAGE;
        }
        if (cert->issuer_type != CONF_ISSUER_PCA) {
                log_error("revoke %s: only certificates issued by a Private CA (issuer pca) can be revoked here", cert->name);
                return EXIT_USAGE;
        }
        r = state_lock(c->state_dir, cert->name, false, &lock_fd);
        if (r == -EWOULDBLOCK || r == -EAGAIN) {
                pid_t pid = 0;
                (void) state_lock_holder(c->state_dir, cert->name, &pid);
                log_error("revoke %s: locked by another acm-agent (pid %d); try again when it is done", cert->name, (int) pid);
                return EXIT_WAITING;
        }
        if (r < 0) {
                log_error("revoke %s: cannot take the lock in %s: %s", cert->name, c->state_dir, strerror(-r));
                return EXIT_FAILED;
        }
        r = state_load(c->state_dir, cert->name, &st, err, sizeof(err));
        if (r < 0 || !st->serial) {
                log_error("revoke %s: no issued certificate is recorded%s%s", cert->name, r < 0 && err[0] ? ": " : "",
                          r < 0 ? err : "");
                return EXIT_FAILED;
        }
        serial = serial_colon(st->serial);
        if (!serial) {
                log_error("revoke %s: the recorded serial '%s' is not hexadecimal", cert->name, st->serial);
                return EXIT_FAILED;
        }
        if (o->dry_run) {
                printf("%s: would revoke serial %s (%s) at %s, discard its key and replace it at the next run\n", cert->name, st->serial,
                       reason, cert->issuer.pca.ca_arn);
                return EXIT_OK;
        }

        r = sd_event_new(&loop);
        if (r >= 0)
                r = aws_client_new(loop, &c->aws, &client);
        req = json_pack("{s:s,s:s,s:s}", "CertificateAuthorityArn", cert->issuer.pca.ca_arn, "CertificateSerial", serial,
                        "RevocationReason", reason);
        if (r >= 0)
                r = req ? aws_call(client, AWS_SERVICE_ACM_PCA, "RevokeCertificate", req, 0, on_revoked, &ctx, NULL) : -ENOMEM;
        json_decref(req);
        if (r >= 0)
                while (ctx.rc == -EINPROGRESS && (r = sd_event_run(loop, UINT64_MAX)) >= 0)
                        ;
        aws_client_unref(client);
        sd_event_unref(loop);
        if (r < 0) {
                log_error("revoke %s: %s", cert->name, strerror(-r));
                return EXIT_FAILED;
        }
        if (ctx.rc < 0) {
                log_error("revoke %s: %s", cert->name, ctx.error ? ctx.error : "RevokeCertificate failed");
                free(ctx.error);
                return EXIT_FAILED;
        }

        /* The key of a revoked certificate is never used again, whatever the
         * reason (after key-compromise it must not be): with key.reuse the
         * replacement would otherwise be issued for keys/<name>.pem. */
        int r_key = state_key_delete(c->state_dir, cert->name, true);
        if (r_key < 0)
                log_error("revoke %s: revoked, but the key %s/keys/%s.pem could not be deleted (%s): delete it before "
                          "the next run, or the replacement may reuse it", cert->name, c->state_dir, cert->name,
                          strerror(-r_key));
        st->force_renewal = true;
        r = state_save(c->state_dir, cert->name, st);
        if (r < 0) {
                log_error("revoke %s: revoked, but the state could not be saved (%s): run 'acm-agent renew %s --force'",
                          cert->name, strerror(-r), cert->name);
                return EXIT_FAILED;
        }
        printf("%s: serial %s %s (%s); its key is discarded and the next run issues a replacement with a new key\n",
               cert->name, st->serial, ctx.already ? "was already revoked" : "revoked", reason);
        return r_key < 0 ? EXIT_FAILED : EXIT_OK;
}
