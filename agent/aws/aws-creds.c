/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credentials chain: the environment, web identity, the shared files
 * and their profiles (aws-creds-file.c; credential_process through
 * aws-proc.c), the container and instance metadata (aws-metadata.c), then
 * the roles to assume through STS. Cached, refreshed before expiry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws-internal.h"
#include "basic/clock.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

#define PROCESS_OUTPUT_MAX (64 * 1024)
#define PROCESS_TIMEOUT_SEC 60

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static const char *strempty(const char *s) {
        return s ? s : "";
}

const char *aws_creds_profile_name(aws_client *c) {
        const char *p = c->cfg ? c->cfg->profile : NULL;
        if (isempty(p))
                p = getenv("AWS_PROFILE");
        if (isempty(p))
                p = "default";
        return p;
}

int aws_creds_files_load(creds_files **ret) {
        const char *home = getenv("HOME");
        _cleanup_(freep) char *cfg = NULL, *cred = NULL;
        const char *e;

        e = getenv("AWS_CONFIG_FILE");
        cfg = !isempty(e) ? strdup(e) : home ? path_join(home, ".aws/config") : NULL;
        e = getenv("AWS_SHARED_CREDENTIALS_FILE");
        cred = !isempty(e) ? strdup(e) : home ? path_join(home, ".aws/credentials") : NULL;
        return creds_files_load(cfg, cred, ret);
}

bool aws_creds_fresh(aws_client *c) {
        uint64_t now = clock_now_usec(), exp = c->creds.v.expiration_usec;
        if (!c->creds.valid)
                return false;
        if (exp == 0 || exp > now + AWS_CREDS_REFRESH_USEC)
                return true;
        /* In the refresh window: after a failed refresh, keep using the
         * old credentials for a while as long as they still work. */
        return exp > now + AWS_CREDS_MIN_LEFT_USEC && now < c->refresh_after_usec;
}

int aws_client_resolve_credentials(aws_client *c, aws_credentials_callback cb, void *userdata, aws_request **ret_req) {
        aws_request *r;
        int k;
        if (!c || !cb)
                return -EINVAL;
        k = aws_request_new(c, AWS_SERVICE_STS, "ResolveCredentials", NULL, 0, &r);
        if (k < 0)
                return k;
        r->creds_cb = cb;
        r->userdata = userdata;
        if (ret_req)
                *ret_req = r;
        return 0;
}

static void creds_finish(aws_client *c, const aws_error *err) {
        c->resolving = false;
        creds_chain_done(&c->chain);
        c->files = creds_files_free(c->files);
        c->base_profile = mfree(c->base_profile);
        c->proc_cmd = mfree(c->proc_cmd);
        /* Wake every request waiting for credentials; callbacks may cancel
         * others, so look again from the head each time. */
        aws_client_ref(c);
        for (;;) {
                aws_request *r = c->requests;
                while (r && !r->waiting_creds)
                        r = r->next;
                if (!r || c->resolving)
                        break;
                r->waiting_creds = false;
                if (err) {
                        aws_error e = *err;
                        aws_request_fail(r, &e);
                } else {
                        r->creds_checked = true;
                        aws_request_start(r);
                }
        }
        aws_client_unref(c);
}

void aws_creds_fail(aws_client *c, const char *type, const char *message) {
        aws_error e = { .kind = AWS_ERROR_CREDENTIALS, .type = type, .message = message, .error = -ENOKEY };
        uint64_t now = clock_now_usec();
        creds_value_done(&c->pending);
        c->pending_source = mfree(c->pending_source);
        if (c->creds.valid && c->creds.v.expiration_usec > now + AWS_CREDS_MIN_LEFT_USEC) {
                /* A refresh failed but the current credentials still work:
                 * keep them, try again later. */
                log_debug("aws: refreshing the credentials failed (%s: %s); the current ones stay in use", type,
                          message);
                c->refresh_after_usec = now + AWS_CREDS_RETRY_USEC;
                return creds_finish(c, NULL);
        }
        creds_finish(c, &e);
}

static void creds_roles_next(aws_client *c);
static int creds_take_sts(aws_client *c, json_t *resp, const char *source);

static void on_web_identity(const aws_error *err, json_t *resp, void *userdata) {
        aws_client *c = userdata;
        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                _cleanup_(freep) char *m = strprintf("web identity: %s", line ? line : err->type);
                return aws_creds_fail(c, err->type, m ? m : err->message);
        }
        if (creds_take_sts(c, resp, c->chain.web_role_arn ? c->chain.web_role_arn : "?") < 0)
                return aws_creds_fail(c, "MalformedResponse", "STS answered without usable Credentials");
        c->chain.web_role_arn = NULL;
        creds_roles_next(c);
}

static int creds_take_sts(aws_client *c, json_t *resp, const char *source) {
        json_t *cr = json_object_get(resp, "Credentials");
        const char *a = json_string_value(json_object_get(cr, "AccessKeyId"));
        const char *s = json_string_value(json_object_get(cr, "SecretAccessKey"));
        const char *t = json_string_value(json_object_get(cr, "SessionToken"));
        const char *x = json_string_value(json_object_get(cr, "Expiration"));
        time_t exp = 0;
        if (!a || !s || !t || (x && clock_parse_rfc3339(x, &exp) < 0))
                return -EBADMSG;
        creds_value v = { strdup(a), strdup(s), strdup(t), (uint64_t) exp * USEC_PER_SEC };
        if (!v.access_key_id || !v.secret_access_key || !v.session_token) {
                creds_value_done(&v);
                return -ENOMEM;
        }
        creds_value_done(&c->pending);
        c->pending = v;
        char *ns = strprintf("%s + assumed role %s", c->pending_source ? c->pending_source : "?", source);
        if (ns) {
                free(c->pending_source);
                c->pending_source = ns;
        }
        return 0;
}

static void on_assume_role(const aws_error *err, json_t *resp, void *userdata) {
        aws_client *c = userdata;
        if (err) {
                _cleanup_(freep) char *line = aws_error_format(err);
                _cleanup_(freep) char *m = strprintf("assuming a role for credentials failed: %s (source: %s)",
                                                     line ? line : err->type,
                                                     c->pending_source ? c->pending_source : "?");
                return aws_creds_fail(c, err->type, m ? m : err->message);
        }
        const char *arn = c->chain_step < c->chain.n_roles ? c->chain.roles[c->chain_step].role_arn
                          : c->cfg && c->cfg->role_arn ? c->cfg->role_arn : c->chain.web_role_arn;
        if (creds_take_sts(c, resp, arn ? arn : "?") < 0)
                return aws_creds_fail(c, "MalformedResponse", "STS answered without usable Credentials");
        c->chain_step++;
        creds_roles_next(c);
}

static int creds_internal_call(aws_client *c, const char *op, json_t *params, bool unsigned_req) {
        aws_request *r;
        int k = aws_request_new(c, AWS_SERVICE_STS, op, params, AWS_CALL_NO_RATE_LIMIT, &r);
        json_decref(params);
        if (k < 0)
                return k;
        r->internal = true;
        r->unsigned_req = unsigned_req;
        r->creds = &c->pending;
        r->cb = on_assume_role;
        r->userdata = c;
        return 0;
}

static const char *session_name(aws_client *c, const char *name) {
        if (!isempty(name))
                return name;
        if (c->cfg && !isempty(c->cfg->role_session_name))
                return c->cfg->role_session_name;
        return "acm-agent";
}

/* Assumes the chain's roles from the base up, then aws.role_arn. */
static void creds_roles_next(aws_client *c) {
        size_t n = c->chain.n_roles + (c->cfg && !isempty(c->cfg->role_arn) ? 1 : 0);
        if (c->chain_step >= n) {
                uint64_t now = clock_now_usec();
                if (c->pending.expiration_usec != 0 && c->pending.expiration_usec <= now) {
                        char when[21];
                        _cleanup_(freep) char *m = strprintf(
                                "the credentials from %s expired at %s; the source must hand out current ones",
                                strempty(c->pending_source),
                                clock_format_rfc3339((time_t) (c->pending.expiration_usec / USEC_PER_SEC), when));
                        return aws_creds_fail(c, "ExpiredCredentials", m ? m : "the credentials are expired");
                }
                creds_value_done(&c->creds.v);
                free(c->creds.source);
                c->creds.v = c->pending;
                c->pending = (creds_value) {};
                c->creds.source = c->pending_source;
                c->pending_source = NULL;
                c->creds.valid = true;
                /* Credentials that already expire within the refresh window
                 * (IMDS during a rotation) are used until the retry time,
                 * not fetched again for every request. */
                c->refresh_after_usec = c->creds.v.expiration_usec != 0 &&
                                                        c->creds.v.expiration_usec <= now + AWS_CREDS_REFRESH_USEC
                                                ? now + AWS_CREDS_RETRY_USEC
                                                : 0;
                log_debug("aws: credentials from %s", c->creds.source ? c->creds.source : "?");
                return creds_finish(c, NULL);
        }
        json_t *p;
        if (c->chain_step < c->chain.n_roles) {
                const creds_role *role = &c->chain.roles[c->chain_step];
                p = json_pack("{s:s, s:s}", "RoleArn", role->role_arn, "RoleSessionName",
                              session_name(c, role->role_session_name));
                if (p && role->external_id)
                        json_object_set_new(p, "ExternalId", json_string(role->external_id));
                if (p && role->duration_seconds)
                        json_object_set_new(p, "DurationSeconds", json_integer((json_int_t) role->duration_seconds));
        } else {
                p = json_pack("{s:s, s:s}", "RoleArn", c->cfg->role_arn, "RoleSessionName", session_name(c, NULL));
                if (p && !isempty(c->cfg->external_id))
                        json_object_set_new(p, "ExternalId", json_string(c->cfg->external_id));
        }
        if (!p || creds_internal_call(c, "AssumeRole", p, false) < 0)
                aws_creds_fail(c, "OutOfMemory", "out of memory");
}

void aws_creds_base_done(aws_client *c, creds_value *v, char *source) {
        creds_value_done(&c->pending);
        c->pending = *v;
        *v = (creds_value) {};
        free(c->pending_source);
        c->pending_source = source;
        creds_roles_next(c);
}

static int pending_set(aws_client *c, const char *a, const char *s, const char *t, const char *source) {
        creds_value_done(&c->pending);
        c->pending = (creds_value) { strdup(a), strdup(s), t ? strdup(t) : NULL, 0 };
        free(c->pending_source);
        c->pending_source = strdup(source);
        if (!c->pending.access_key_id || !c->pending.secret_access_key || (t && !c->pending.session_token) ||
            !c->pending_source)
                return -ENOMEM;
        return 0;
}

/* The sources tried when nothing gave credentials, for the operator. */
static char *tried_sources(aws_client *c, const char *imds) {
        return strprintf("no AWS credentials found; tried: the environment (AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY: not set), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and "
                         "AWS_ROLE_ARN: not set), the shared files (profile '%s': not in AWS_CONFIG_FILE / "
                         "AWS_SHARED_CREDENTIALS_FILE / ~/.aws), container credentials "
                         "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI: not set), EC2 instance metadata "
                         "(%s). Configure one of them for the agent",
                         aws_creds_profile_name(c), imds);
}

void aws_creds_base_fail(aws_client *c, const char *type, const char *what, const char *detail) {
        _cleanup_(freep) char *m = NULL;
        if (c->base_profile)
                m = strprintf("profile '%s': %s: %s", c->base_profile, what, detail);
        else if (streq(type, "NoCredentials"))
                m = tried_sources(c, detail);
        else
                m = strprintf("%s: %s", what, detail);
        aws_creds_fail(c, type, m ? m : detail);
}

/* ---- credential_process ---- */

static uint64_t process_timeout_usec(void) {
        const char *e = getenv("ACM_AGENT_CREDENTIAL_PROCESS_TIMEOUT");
        uint64_t t;
        if (!isempty(e) && parse_uint64(e, &t) >= 0 && t > 0 && t <= 3600)
                return t * USEC_PER_SEC;
        return PROCESS_TIMEOUT_SEC * USEC_PER_SEC;
}

static void process_fail(aws_client *c, const char *fmt_detail) {
        _cleanup_(freep) char *m = strprintf("credential_process of profile '%s' (%s) %s", strempty(c->base_profile),
                                             strempty(c->proc_cmd), fmt_detail);
        aws_creds_fail(c, "CredentialProcessFailed", m ? m : fmt_detail);
}

static void on_process(aws_proc *p, const aws_proc_result *res, void *userdata) {
        aws_client *c = userdata;
        _cleanup_(freep) char *d = NULL, *msg = NULL, *src = NULL, *line = NULL;
        creds_value v = {};
        /* Failure is this flag, never whether a message could be formatted:
         * an out-of-memory message must not turn into empty credentials. */
        bool failed = true;

        /* The helper's stderr is text from outside: escaped before it
         * reaches a message. */
        line = aws_escape(res->err_line, 512);
        if (res->exec_errno)
                d = strprintf("cannot be started: %s", strerror(res->exec_errno));
        else if (res->timed_out)
                d = strprintf("did not finish within %" PRIu64 " s and was killed",
                              process_timeout_usec() / USEC_PER_SEC);
        else if (res->too_large)
                d = strprintf("printed more than %d KiB and was killed", PROCESS_OUTPUT_MAX / 1024);
        else if (!res->exited)
                d = strprintf("was killed by signal %d%s%s", res->signal, !isempty(line) ? ": " : "", strempty(line));
        else if (res->exit_status != 0)
                d = strprintf("exited with status %d%s%s", res->exit_status, !isempty(line) ? ": " : "",
                              !isempty(line) ? line : " (no message on stderr)");
        else if (creds_process_parse_output(res->out, res->out_len, &v, &msg) < 0)
                d = strprintf("printed unusable credentials: %s", msg ? msg : "out of memory");
        else
                failed = false;
        c->proc = aws_proc_free(c->proc);
        if (failed) {
                creds_value_done(&v);
                return process_fail(c, d ? d : "failed (out of memory while describing how)");
        }
        src = strprintf("profile '%s' (credential_process)", strempty(c->base_profile));
        if (!src) {
                creds_value_done(&v);
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        }
        aws_creds_base_done(c, &v, TAKE_PTR(src));
}

static void creds_from_process(aws_client *c, const char *cmd) {
        _cleanup_(strv_freep) char **argv = NULL;
        int k;

        free(c->proc_cmd);
        c->proc_cmd = aws_escape(cmd, 1024);
        if (!c->proc_cmd)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        k = creds_split_command(cmd, &argv);
        if (k == -ENOMEM)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        if (k < 0)
                return process_fail(c, "cannot be split into words: an unterminated quote or an empty command");
        c->proc = aws_proc_free(c->proc);
        k = aws_proc_run(c->event, argv, process_timeout_usec(), PROCESS_OUTPUT_MAX, on_process, c, &c->proc);
        if (k < 0) {
                _cleanup_(freep) char *d = strprintf("cannot be started: %s", strerror(-k));
                return process_fail(c, d ? d : "cannot be started");
        }
        log_debug("aws: running the credential_process of profile '%s'", strempty(c->base_profile));
}

/* ---- web identity ---- */

static void creds_web_identity(aws_client *c, const char *token_file, const char *role, const char *session) {
        _cleanup_(freep) char *token = NULL, *src = NULL;
        size_t len = 0;
        int k;

        k = read_full_file(token_file, 64 * 1024, &token, &len);
        if (k < 0) {
                _cleanup_(freep) char *m = strprintf("cannot read the web identity token %s: %s", token_file,
                                                     strerror(-k));
                return aws_creds_base_fail(c, "WebIdentityTokenUnreadable", "web identity",
                                           m ? m : "cannot read the token");
        }
        while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
                token[--len] = 0;
        src = c->base_profile ? strprintf("profile '%s' (web identity token %s)", c->base_profile, token_file)
                              : strprintf("web identity token %s", token_file);
        creds_value_done(&c->pending);
        free(c->pending_source);
        c->pending_source = TAKE_PTR(src);
        json_t *p = json_pack("{s:s, s:s, s:s}", "RoleArn", role, "RoleSessionName", session_name(c, session),
                              "WebIdentityToken", token);
        explicit_bzero(token, len);
        c->chain.web_role_arn = role;
        c->chain_step = 0;
        if (!p || !c->pending_source) {
                json_decref(p);
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        }
        aws_request *r;
        k = aws_request_new(c, AWS_SERVICE_STS, "AssumeRoleWithWebIdentity", p, AWS_CALL_NO_RATE_LIMIT, &r);
        json_decref(p);
        if (k < 0)
                return aws_creds_fail(c, "OutOfMemory", "out of memory");
        r->internal = true;
        r->unsigned_req = true;
        r->creds = &c->pending;
        r->cb = on_web_identity;
        r->userdata = c;
}

void aws_creds_resolve(aws_client *c) {
        const char *a, *s, *t, *token_file, *role;
        int k;

        if (c->resolving)
                return;
        c->resolving = true;
        c->chain_step = 0;
        creds_chain_done(&c->chain);
        c->base_profile = mfree(c->base_profile);

        /* 1. Environment. */
        a = getenv("AWS_ACCESS_KEY_ID");
        s = getenv("AWS_SECRET_ACCESS_KEY");
        t = getenv("AWS_SESSION_TOKEN");
        if (!isempty(a) && !isempty(s)) {
                if (pending_set(c, a, s, isempty(t) ? NULL : t, "environment (AWS_ACCESS_KEY_ID)") < 0)
                        return aws_creds_fail(c, "OutOfMemory", "out of memory");
                return creds_roles_next(c);
        }
        if (!isempty(a) || !isempty(s))
                return aws_creds_fail(c, "IncompleteEnvironment",
                                      "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or neither");

        /* 2. Web identity. */
        token_file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        role = getenv("AWS_ROLE_ARN");
        if (!isempty(token_file) && !isempty(role))
                return creds_web_identity(c, token_file, role, getenv("AWS_ROLE_SESSION_NAME"));

        /* 3. Shared files. */
        c->files = creds_files_free(c->files);
        k = aws_creds_files_load(&c->files);
        if (k < 0)
                return aws_creds_fail(c, "SharedFilesUnreadable", "the AWS shared config/credentials file cannot be read");
        const char *profile = aws_creds_profile_name(c);
        bool explicit_profile = (c->cfg && !isempty(c->cfg->profile)) || !isempty(getenv("AWS_PROFILE"));
        if (creds_files_has_profile(c->files, profile)) {
                _cleanup_(freep) char *msg = NULL;
                k = creds_files_resolve(c->files, profile, &c->chain, &msg);
                if (k < 0)
                        return aws_creds_fail(c, "InvalidProfile", msg ? msg : "the profile cannot be used");
                c->base_profile = strdup(c->chain.base_profile ? c->chain.base_profile : profile);
                _cleanup_(freep) char *src = strprintf("profile '%s' (shared files)", profile);
                if (!src || !c->base_profile)
                        return aws_creds_fail(c, "OutOfMemory", "out of memory");
                switch (c->chain.base) {
                case CREDS_BASE_STATIC:
                        if (pending_set(c, c->chain.access_key_id, c->chain.secret_access_key, c->chain.session_token,
                                        src) < 0)
                                return aws_creds_fail(c, "OutOfMemory", "out of memory");
                        return creds_roles_next(c);
                case CREDS_BASE_PROCESS:
                        return creds_from_process(c, c->chain.process);
                case CREDS_BASE_WEB_IDENTITY:
                        return creds_web_identity(c, c->chain.token_file, c->chain.web_role_arn,
                                                  c->chain.web_session_name);
                case CREDS_BASE_ENVIRONMENT:
                        return aws_creds_base_fail(c, "CredentialsError", "credential_source Environment",
                                                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
                case CREDS_BASE_ECS:
                        return aws_metadata_creds_ecs(c);
                case CREDS_BASE_IMDS:
                        if (aws_metadata_imds_disabled())
                                return aws_creds_base_fail(c, "CredentialsError",
                                                           "credential_source Ec2InstanceMetadata",
                                                           "disabled by AWS_EC2_METADATA_DISABLED");
                        return aws_metadata_creds_imds(c);
                }
                return aws_creds_fail(c, "InvalidProfile", "the profile has an unknown credential source");
        } else if (explicit_profile) {
                _cleanup_(freep) char *m = strprintf("profile '%s' is not in the AWS config or credentials file; "
                                                     "add it, or fix aws.profile / AWS_PROFILE", profile);
                return aws_creds_fail(c, "ProfileNotFound", m ? m : "profile not found");
        }

        /* 4. ECS / EKS container credentials. */
        if (aws_metadata_ecs_configured())
                return aws_metadata_creds_ecs(c);

        /* 5. EC2 instance metadata (IMDSv2). */
        aws_metadata_creds_imds(c);
}
