/* SPDX-License-Identifier: Apache-2.0 */
/*
 * issuer.api_passthrough: ACM-PCA's ApiPassthrough, written in AWS's own
 * JSON shape (PascalCase keys) and validated against the acm-pca API model
 * (botocore acm-pca 2017-08-22: members, required members, enums, string
 * lengths, list sizes, OID and base64 patterns). Stored as the JSON to send.
 */
#include <ctype.h>
#include <stdio.h>

#include "conf/conf-check.h"
#include "conf/conf-internal.h"



typedef enum ap_type { AP_STR, AP_BOOL, AP_OID, AP_B64, AP_COUNTRY, AP_EKU_TYPE, AP_CPS, AP_OBJ, AP_LIST } ap_type;

typedef struct ap_field ap_field;
typedef struct ap_shape {
        const ap_field *fields;
        const char *const *required;
} ap_shape;
struct ap_field {
        const char *name;
        ap_type type;
        unsigned max;             /* string length or list entries */
        const ap_shape *shape;    /* AP_OBJ, or the member of AP_LIST */
        ap_type member;           /* AP_LIST of scalars */
};

static const ap_field f_custom_attr[] = { { "ObjectIdentifier", AP_OID, 64, NULL, 0 }, { "Value", AP_STR, 256, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_custom_attr[] = { "ObjectIdentifier", "Value", NULL };
static const ap_shape s_custom_attr = { f_custom_attr, r_custom_attr };
static const ap_field f_subject[] = {
        { "Country", AP_COUNTRY, 2, NULL, 0 }, { "Organization", AP_STR, 64, NULL, 0 },
        { "OrganizationalUnit", AP_STR, 64, NULL, 0 }, { "DistinguishedNameQualifier", AP_STR, 64, NULL, 0 },
        { "State", AP_STR, 128, NULL, 0 }, { "CommonName", AP_STR, 64, NULL, 0 }, { "SerialNumber", AP_STR, 64, NULL, 0 },
        { "Locality", AP_STR, 128, NULL, 0 }, { "Title", AP_STR, 64, NULL, 0 }, { "Surname", AP_STR, 40, NULL, 0 },
        { "GivenName", AP_STR, 16, NULL, 0 }, { "Initials", AP_STR, 5, NULL, 0 }, { "Pseudonym", AP_STR, 128, NULL, 0 },
        { "GenerationQualifier", AP_STR, 3, NULL, 0 }, { "CustomAttributes", AP_LIST, 150, &s_custom_attr, 0 },
        { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_subject = { f_subject, NULL };
static const ap_field f_qualifier[] = { { "CpsUri", AP_STR, 256, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_qualifier[] = { "CpsUri", NULL };
static const ap_shape s_qualifier = { f_qualifier, r_qualifier };
static const ap_field f_pqi[] = { { "PolicyQualifierId", AP_CPS, 0, NULL, 0 }, { "Qualifier", AP_OBJ, 0, &s_qualifier, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_pqi[] = { "PolicyQualifierId", "Qualifier", NULL };
static const ap_shape s_pqi = { f_pqi, r_pqi };
static const ap_field f_policy[] = { { "CertPolicyId", AP_OID, 64, NULL, 0 }, { "PolicyQualifiers", AP_LIST, 20, &s_pqi, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_policy[] = { "CertPolicyId", NULL };
static const ap_shape s_policy = { f_policy, r_policy };
static const ap_field f_eku[] = { { "ExtendedKeyUsageType", AP_EKU_TYPE, 0, NULL, 0 },
                                  { "ExtendedKeyUsageObjectIdentifier", AP_OID, 64, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_eku = { f_eku, NULL };
static const ap_field f_ku[] = { { "DigitalSignature", AP_BOOL, 0, NULL, 0 }, { "NonRepudiation", AP_BOOL, 0, NULL, 0 },
                                 { "KeyEncipherment", AP_BOOL, 0, NULL, 0 }, { "DataEncipherment", AP_BOOL, 0, NULL, 0 },
                                 { "KeyAgreement", AP_BOOL, 0, NULL, 0 }, { "KeyCertSign", AP_BOOL, 0, NULL, 0 },
                                 { "CRLSign", AP_BOOL, 0, NULL, 0 }, { "EncipherOnly", AP_BOOL, 0, NULL, 0 },
                                 { "DecipherOnly", AP_BOOL, 0, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_ku = { f_ku, NULL };
static const ap_field f_other[] = { { "TypeId", AP_OID, 64, NULL, 0 }, { "Value", AP_STR, 256, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_other[] = { "TypeId", "Value", NULL };
static const ap_shape s_other = { f_other, r_other };
static const ap_field f_edi[] = { { "PartyName", AP_STR, 256, NULL, 0 }, { "NameAssigner", AP_STR, 256, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_edi[] = { "PartyName", NULL };
static const ap_shape s_edi = { f_edi, r_edi };
static const ap_field f_gn[] = { { "OtherName", AP_OBJ, 0, &s_other, 0 }, { "Rfc822Name", AP_STR, 256, NULL, 0 },
                                 { "DnsName", AP_STR, 253, NULL, 0 }, { "DirectoryName", AP_OBJ, 0, &s_subject, 0 },
                                 { "EdiPartyName", AP_OBJ, 0, &s_edi, 0 }, { "UniformResourceIdentifier", AP_STR, 253, NULL, 0 },
                                 { "IpAddress", AP_STR, 39, NULL, 0 }, { "RegisteredId", AP_OID, 64, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_gn = { f_gn, NULL };
static const ap_field f_cext[] = { { "ObjectIdentifier", AP_OID, 64, NULL, 0 }, { "Value", AP_B64, 4096, NULL, 0 },
                                   { "Critical", AP_BOOL, 0, NULL, 0 }, { NULL, 0, 0, NULL, 0 } };
static const char *const r_cext[] = { "ObjectIdentifier", "Value", NULL };
static const ap_shape s_cext = { f_cext, r_cext };
static const ap_field f_ext[] = { { "CertificatePolicies", AP_LIST, 20, &s_policy, 0 }, { "ExtendedKeyUsage", AP_LIST, 20, &s_eku, 0 },
                                  { "KeyUsage", AP_OBJ, 0, &s_ku, 0 }, { "SubjectAlternativeNames", AP_LIST, 20, &s_gn, 0 },
                                  { "CustomExtensions", AP_LIST, 20, &s_cext, 0 }, { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_ext = { f_ext, NULL };
static const ap_field f_ap[] = { { "Extensions", AP_OBJ, 0, &s_ext, 0 }, { "Subject", AP_OBJ, 0, &s_subject, 0 }, { NULL, 0, 0, NULL, 0 } };
static const ap_shape s_ap = { f_ap, NULL };

static const char *const eku_types[] = { "SERVER_AUTH", "CLIENT_AUTH", "CODE_SIGNING", "EMAIL_PROTECTION", "TIME_STAMPING",
                                         "OCSP_SIGNING", "SMART_CARD_LOGIN", "DOCUMENT_SIGNING", "CERTIFICATE_TRANSPARENCY", NULL };
static const char *const cps_ids[] = { "CPS", NULL };

static json_t *ap_value(conf_loader *L, const cnode *n, const ap_field *f);

static json_t *ap_object(conf_loader *L, const cnode *n, const ap_shape *s, const char *what) {
        const char *keys[24];
        size_t nk = 0;
        json_t *o;

        if (!conf_want_map(L, n, what))
                return NULL;
        for (const ap_field *f = s->fields; f->name && nk < ELEMENTSOF(keys) - 1; f++)
                keys[nk++] = f->name;
        keys[nk] = NULL;
        conf_check_keys(L, n, keys, what);
        o = json_object();
        if (!o) {
                L->oom = true;
                return NULL;
        }
        for (const char *const *r = s->required; r && *r; r++)
                if (!conf_get(n, *r))
                        conf_err_at(L, n, "missing", "see the ApiPassthrough shape in the ACM-PCA API reference",
                               "%s: required key '%s' is missing", what, *r);
        for (const ap_field *f = s->fields; f->name; f++) {
                cnode *v = conf_get(n, f->name);
                json_t *j;
                if (!v)
                        continue;
                j = ap_value(L, v, f);
                if (j && json_object_set_new(o, f->name, j) < 0)
                        L->oom = true;
        }
        if (json_object_size(o) == 0 && n->n_pairs > 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *ap_value(conf_loader *L, const cnode *n, const ap_field *f) {
        const char *s, *why = NULL;

        switch (f->type) {
        case AP_OBJ:
                return ap_object(L, n, f->shape, f->name);
        case AP_LIST: {
                json_t *a;
                if (n->kind != CNODE_SEQ) {
                        conf_err_at(L, n, "type", "write a list", "%s must be a list, not %s", f->name, conf_node_type_name(n));
                        return NULL;
                }
                if (n->n_items < 1 || n->n_items > f->max) {
                        char hint[64];
                        snprintf(hint, sizeof hint, "give 1 to %u entries", f->max);
                        conf_err_at(L, n, "range", hint, "%s has %zu entries", f->name, n->n_items);
                        return NULL;
                }
                a = json_array();
                if (!a)
                        return L->oom = true, NULL;
                for (size_t i = 0; i < n->n_items; i++) {
                        json_t *j = ap_object(L, n->items[i], f->shape, f->name);
                        if (j && json_array_append_new(a, j) < 0)
                                L->oom = true;
                }
                return a;
        }
        case AP_BOOL:
                if (n->kind == CNODE_SCALAR && n->plain && (streq(n->str, "true") || streq(n->str, "false")))
                        return json_boolean(streq(n->str, "true"));
                conf_err_at(L, n, "type", "use true or false", "%s must be true or false", f->name);
                return NULL;
        case AP_EKU_TYPE: {
                int i = conf_get_enum(L, n, f->name, eku_types);
                return i < 0 ? NULL : json_string(eku_types[i]);
        }
        case AP_CPS: {
                int i = conf_get_enum(L, n, f->name, cps_ids);
                return i < 0 ? NULL : json_string(cps_ids[i]);
        }
        default:
                break;
        }
        if (!(s = conf_scalar(L, n, f->name)))
                return NULL;
        /* the model's length bound first, for every string member */
        if (f->max > 0 && strlen(s) > f->max) {
                char hint[64];
                snprintf(hint, sizeof hint, "shorten it to %u characters", f->max);
                conf_err_at(L, n, "range", hint, "%s is longer than %u characters", f->name, f->max);
                return NULL;
        }
        if (f->type == AP_OID)
                why = conf_check_oid(s);
        else if (f->type == AP_B64)
                why = conf_check_base64(s);
        else if (f->type == AP_COUNTRY && (strlen(s) != 2 || !isalpha((unsigned char) s[0]) || !isalpha((unsigned char) s[1])))
                why = "a country is a two-letter code such as DE or US";
        if (why) {
                conf_err_at(L, n, f->type == AP_OID ? "oid" : "type", "see the ApiPassthrough shape in the ACM-PCA API reference",
                       "%s: %s", f->name, why);
                return NULL;
        }
        json_t *j = json_string(s);
        if (!j)
                L->oom = true;
        return j;
}

json_t *conf_api_passthrough_parse(conf_loader *L, const cnode *n) {
        return ap_object(L, n, &s_ap, "api_passthrough");
}
