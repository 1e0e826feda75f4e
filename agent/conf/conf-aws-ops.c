/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operations aws.rate_limits may name: every operation of the API models
 * of the services the agent talks to. acm (2015-12-08), acm-pca (2017-08-22)
 * and route53 (2013-04-01) from the 2026 models, sts (2011-06-15) from
 * botocore. Regenerate with:
 *   python3 -c 'import json,sys; [print(f"{s}:{o}") for s,f in (a.split("=") for a in sys.argv[1:])
 *              for o in sorted(json.load(open(f))["operations"])]' acm=acm.json acm-pca=acm-pca.json ...
 */
#include "conf/conf-internal.h"

const char *const conf_aws_operations[] = {
        "acm:AddTagsToCertificate", "acm:CreateAcmeDomainValidation", "acm:CreateAcmeEndpoint",
        "acm:CreateAcmeExternalAccountBinding", "acm:DeleteAcmeDomainValidation", "acm:DeleteAcmeEndpoint",
        "acm:DeleteAcmeExternalAccountBinding", "acm:DeleteCertificate", "acm:DescribeAcmeAccount",
        "acm:DescribeAcmeDomainValidation", "acm:DescribeAcmeEndpoint", "acm:DescribeAcmeExternalAccountBinding",
        "acm:DescribeCertificate", "acm:ExportCertificate", "acm:GetAccountConfiguration",
        "acm:GetAcmeExternalAccountBindingCredentials", "acm:GetCertificate", "acm:ImportCertificate",
        "acm:ListAcmeAccounts", "acm:ListAcmeDomainValidations", "acm:ListAcmeEndpoints",
        "acm:ListAcmeExternalAccountBindings", "acm:ListCertificates", "acm:ListTagsForCertificate",
        "acm:ListTagsForResource", "acm:PutAccountConfiguration", "acm:RemoveTagsFromCertificate",
        "acm:RenewCertificate", "acm:RequestCertificate", "acm:ResendValidationEmail", "acm:RevokeAcmeAccount",
        "acm:RevokeAcmeExternalAccountBinding", "acm:RevokeCertificate", "acm:SearchCertificates", "acm:TagResource",
        "acm:UntagResource", "acm:UpdateAcmeDomainValidation", "acm:UpdateAcmeEndpoint", "acm:UpdateCertificateOptions",
        "acm-pca:CreateCertificateAuthority", "acm-pca:CreateCertificateAuthorityAuditReport",
        "acm-pca:CreatePermission", "acm-pca:DeleteCertificateAuthority", "acm-pca:DeletePermission",
        "acm-pca:DeletePolicy", "acm-pca:DescribeCertificateAuthority",
        "acm-pca:DescribeCertificateAuthorityAuditReport", "acm-pca:GetCertificate",
        "acm-pca:GetCertificateAuthorityCertificate", "acm-pca:GetCertificateAuthorityCsr", "acm-pca:GetPolicy",
        "acm-pca:ImportCertificateAuthorityCertificate", "acm-pca:IssueCertificate",
        "acm-pca:ListCertificateAuthorities", "acm-pca:ListPermissions", "acm-pca:ListTags", "acm-pca:PutPolicy",
        "acm-pca:RestoreCertificateAuthority", "acm-pca:RevokeCertificate", "acm-pca:TagCertificateAuthority",
        "acm-pca:UntagCertificateAuthority", "acm-pca:UpdateCertificateAuthority", "route53:ActivateKeySigningKey",
        "route53:AssociateVPCWithHostedZone", "route53:ChangeCidrCollection", "route53:ChangeResourceRecordSets",
        "route53:ChangeTagsForResource", "route53:CreateCidrCollection", "route53:CreateHealthCheck",
        "route53:CreateHostedZone", "route53:CreateKeySigningKey", "route53:CreateQueryLoggingConfig",
        "route53:CreateReusableDelegationSet", "route53:CreateTrafficPolicy", "route53:CreateTrafficPolicyInstance",
        "route53:CreateTrafficPolicyVersion", "route53:CreateVPCAssociationAuthorization",
        "route53:DeactivateKeySigningKey", "route53:DeleteCidrCollection", "route53:DeleteHealthCheck",
        "route53:DeleteHostedZone", "route53:DeleteKeySigningKey", "route53:DeleteQueryLoggingConfig",
        "route53:DeleteReusableDelegationSet", "route53:DeleteTrafficPolicy", "route53:DeleteTrafficPolicyInstance",
        "route53:DeleteVPCAssociationAuthorization", "route53:DisableHostedZoneDNSSEC",
        "route53:DisassociateVPCFromHostedZone", "route53:EnableHostedZoneDNSSEC", "route53:GetAccountLimit",
        "route53:GetChange", "route53:GetCheckerIpRanges", "route53:GetDNSSEC", "route53:GetGeoLocation",
        "route53:GetHealthCheck", "route53:GetHealthCheckCount", "route53:GetHealthCheckLastFailureReason",
        "route53:GetHealthCheckStatus", "route53:GetHostedZone", "route53:GetHostedZoneCount",
        "route53:GetHostedZoneLimit", "route53:GetQueryLoggingConfig", "route53:GetReusableDelegationSet",
        "route53:GetReusableDelegationSetLimit", "route53:GetTrafficPolicy", "route53:GetTrafficPolicyInstance",
        "route53:GetTrafficPolicyInstanceCount", "route53:ListCidrBlocks", "route53:ListCidrCollections",
        "route53:ListCidrLocations", "route53:ListGeoLocations", "route53:ListHealthChecks", "route53:ListHostedZones",
        "route53:ListHostedZonesByName", "route53:ListHostedZonesByVPC", "route53:ListQueryLoggingConfigs",
        "route53:ListResourceRecordSets", "route53:ListReusableDelegationSets", "route53:ListTagsForResource",
        "route53:ListTagsForResources", "route53:ListTrafficPolicies", "route53:ListTrafficPolicyInstances",
        "route53:ListTrafficPolicyInstancesByHostedZone", "route53:ListTrafficPolicyInstancesByPolicy",
        "route53:ListTrafficPolicyVersions", "route53:ListVPCAssociationAuthorizations", "route53:TestDNSAnswer",
        "route53:UpdateHealthCheck", "route53:UpdateHostedZoneComment", "route53:UpdateHostedZoneFeatures",
        "route53:UpdateTrafficPolicyComment", "route53:UpdateTrafficPolicyInstance", "sts:AssumeRole",
        "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:DecodeAuthorizationMessage",
        "sts:GetAccessKeyInfo", "sts:GetCallerIdentity", "sts:GetFederationToken", "sts:GetSessionToken",
        NULL,
};
