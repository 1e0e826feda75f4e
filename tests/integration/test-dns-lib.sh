# Sourced by the tests/integration/test-dns-*.sh tests; not a test itself.
# named_start ZONE [KEYNAME]: a real BIND authoritative for ZONE on
# 127.0.0.1:$NAMED_PORT (a free port), zone file $TMP/named/db.ZONE with
# its own SOA/NS plus the lines read from stdin. With KEYNAME, a TSIG key
# (hmac-sha256) is generated into $TMP/named/KEYNAME.key and only it may
# update the zone (RFC 2136); without, nobody may. Stopped at exit.
# Skips the test (exit 77) when named is not installed.
DNS_DRIVER=$ABS_TOP_BUILDDIR/tests/integration/dns-driver
NAMED=$(command -v named || echo /usr/sbin/named)
named_start() {
	[ -x "$NAMED" ] || { echo "# skip: named is not installed (bind9)"; exit 77; }
	zone=$1 keyname=${2:-}
	NAMED_PORT=$("${PYTHON3:-/usr/bin/python3}" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$TMP/named"
	{
		printf '$TTL 60\n@ IN SOA ns.%s. hostmaster.%s. 1 60 60 600 60\n@ IN NS ns.%s.\nns IN A 127.0.0.1\n' \
			"$zone" "$zone" "$zone"
		cat
	} >"$TMP/named/db.$zone"
	update="none;"
	include=""
	if [ -n "$keyname" ]; then
		command -v tsig-keygen >/dev/null || { echo "# skip: tsig-keygen is not installed (bind9-utils)"; exit 77; }
		tsig-keygen -a hmac-sha256 "$keyname" >"$TMP/named/$keyname.key"
		include="include \"$TMP/named/$keyname.key\";"
		update="key $keyname;"
	fi
	cat >"$TMP/named/named.conf" <<CONF
$include
options { directory "$TMP/named"; listen-on port $NAMED_PORT { 127.0.0.1; }; listen-on-v6 { none; };
	pid-file "$TMP/named/pid"; recursion no; dnssec-validation no; notify no; };
controls { };
zone "$zone" { type master; file "$TMP/named/db.$zone"; allow-update { $update }; };
CONF
	chmod -R a+rwX "$TMP/named"
	on_exit named_stop
	"$NAMED" -c "$TMP/named/named.conf" -u "$(id -un)" -4 >"$TMP/named.log" 2>&1 ||
		{ echo "# skip: named failed to start"; cat "$TMP/named.log"; exit 77; }
	# Ready when it answers (the SOA of the zone).
	i=0
	until "$DNS_DRIVER" check --timeout-ms 200 --tries 1 --nameserver "127.0.0.1:$NAMED_PORT" \
		"_probe.$zone=_probe.invalid" 2>/dev/null | grep -q '^missing'; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "# skip: named does not answer"; cat "$TMP/named.log"; exit 77; }
		sleep 0.1
	done
}
named_stop() {
	[ -s "$TMP/named/pid" ] || return 0
	pid=$(cat "$TMP/named/pid")
	kill "$pid" 2>/dev/null
	# Gone when signal 0 fails (bounded: 10 s).
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	rm -f "$TMP/named/pid"
}
