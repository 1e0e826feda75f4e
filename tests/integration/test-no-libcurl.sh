#!/bin/sh
# Without libcurl (the curl-load test point makes the loader ask for a soname
# that does not exist, as on a host without the package): the commands that
# need no AWS call work, and every one that needs AWS (check --online, a
# --once pass with PCA, ACM and import certificates, renew) fails at once
# with one line naming the library and the package to install: no crash, no
# hang. No emulator: nothing reaches the network.
. "$ABS_TOP_SRCDIR/tests/integration/lib.sh"

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_EC2_METADATA_DISABLED=true
export ACM_AGENT_TEST_FAIL_AT=curl-load
mkdir -p "$TMP/imp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/imp/key.pem" \
	-out "$TMP/imp/cert.pem" -days 30 -subj /CN=imp.example.com -addext subjectAltName=DNS:imp.example.com \
	>/dev/null 2>&1 || { not_ok "openssl made the import certificate"; finish; }
CA=arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-1111-4111-8111-111111111111
cat >"$TMP/acm-agent.yaml" <<EOT
aws:
  region: us-east-1
  endpoints: {acm: "http://127.0.0.1:9", acm-pca: "http://127.0.0.1:9", sts: "http://127.0.0.1:9", route53: "http://127.0.0.1:9"}
output_root: $TMP/certs
state_dir: $TMP/state
certificates:
  - name: p
    issuer: {type: pca, ca_arn: "$CA", validity: 7d}
    dns_names: [p.example.com]
  - name: a
    issuer: {type: acm, key_algorithm: EC_prime256v1}
    dns_names: [a.example.com]
    dns: {provider: route53}
  - name: i
    issuer: {type: import, cert: "$TMP/imp/cert.pem", key: "$TMP/imp/key.pem"}
EOT
LINE='AWS calls need libcurl \(libcurl\.so\.4\), which cannot be loaded \(.*cannot open shared object file.*\): install or upgrade it \(apt-get install libcurl4, or dnf install libcurl\)$'
run() { timeout 60 "$ACM_AGENT" -c "$TMP/acm-agent.yaml" "$@"; }

expect_rc 0 "check works without libcurl" -- run check
expect_rc 1 "check --online fails" -- run check --online
expect_grep "^acm-agent: $LINE" "check --online says which library and how to install it"
expect_rc 1 "--once fails every AWS certificate (and ends)" -- run --once
for c in p a i; do
	expect_grep "^$c: failed: cannot set up the AWS client: $LINE" "--once: $c fails with the reason"
done
expect_grep "^3 certificates: .* 3 failed" "--once: the summary counts them"
if grep -qiE 'segmentation|abort|sanitizer' "$TMP/out"; then not_ok "--once: no crash"; else ok "--once: no crash"; fi
expect_rc 1 "status shows the failure" -- run status
expect_grep "last error: +cannot set up the AWS client: AWS calls need libcurl" "status: the last error names libcurl"
expect_rc 1 "renew --force fails the same way" -- run renew p --force
expect_grep "^p: failed: cannot set up the AWS client: $LINE" "renew: the reason"
finish
