# Fragment owned by the packaging area; see Makefile.am and packaging/README.md.
# The .deb (packaging/deb/debian, copied into an unpacked dist tarball) and the
# .rpm (packaging/rpm/acm-agent.spec) both ship packaging/acm-agent.yaml as
# the main configuration (no certificates, so a timer pass exits 0) and
# everything `make install` installs.
EXTRA_DIST += packaging/README.md packaging/acm-agent.yaml \
	packaging/deb/debian/changelog packaging/deb/debian/control \
	packaging/deb/debian/copyright packaging/deb/debian/rules \
	packaging/deb/debian/source/format \
	packaging/deb/debian/acm-agent.examples packaging/deb/debian/postrm \
	packaging/deb/debian/acm-agent.lintian-overrides \
	packaging/rpm/acm-agent.spec packaging/rpm/macros.debian

# The README next to REFERENCE.md in $(docdir): the units' Documentation=
# and the shipped configuration point at both.
acmdocdir = $(docdir)
acmdoc_DATA = README

# Shell completion. bash-completion loads completions/NAME on demand; zsh
# finds _acm-agent in site-functions (Debian's package: vendor-completions).
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = contrib/completion/bash/acm-agent
zshcompletiondir = $(datadir)/zsh/site-functions
dist_zshcompletion_DATA = contrib/completion/zsh/_acm-agent

# The shipped hooks, where a configuration can name them (/usr/libexec/
# acm-agent/notify-webhook in the packages; hooks/README.md is the contract).
acmhooksdir = $(pkglibexecdir)
acmhooks_SCRIPTS = hooks/nginx-reload hooks/haproxy-reload hooks/notify-webhook
# dns.provider exec's RFC 2136 hook: command: [/usr/libexec/acm-agent/dns/nsupdate, ...]
acmdnshooksdir = $(pkglibexecdir)/dns
acmdnshooks_SCRIPTS = hooks/dns/nsupdate

# Try the agent by hand against the bundled emulator.
EXTRA_DIST += tools/emulator-env.sh

# The Ansible role (contrib/ansible/README.md).
EXTRA_DIST += contrib/ansible/README.md \
	contrib/ansible/roles/acm_agent/defaults/main.yml \
	contrib/ansible/roles/acm_agent/meta/main.yml \
	contrib/ansible/roles/acm_agent/tasks/main.yml \
	contrib/ansible/roles/acm_agent/handlers/main.yml \
	contrib/ansible/roles/acm_agent/templates/drop-in.yaml.j2 \
	contrib/ansible/roles/acm_agent/templates/acm-agent.yaml.j2 \
	contrib/ansible/examples/site.yml

# test-packaging.sh builds both packages from a dist tree and checks their
# contents against `make install`; test-packaging-install.sh installs the
# .deb into a throwaway Debian 12 root (upgrade, remove, purge) and issues a
# certificate from the emulator there; test-packaging-ansible.sh runs the
# role in such a root; test-packaging-deps.sh runs tools/install-deps.sh in
# one; test-tools.sh covers the emulator environment, the demo's work
# directory and the shell completion. The throwaway roots need root and the
# Debian mirror (else they skip, 77); the base tree is cached in
# $(ACM_AGENT_TEST_CACHE) (default /var/cache/acm-agent-tests).
# `make -j4 check` starts the tests in TESTS order, the longest first, so
# that short ones fill the end (tools/test-times.sh): Makefile.am includes
# this fragment first, so test-packaging-deps.sh (apt and a build in a
# fresh root, the longest of all) and test-packaging.sh (the package
# builds) start at once; the tests that install the .deb (Ansible, the
# third longest, and the install test) and test-tools.sh start after the
# Private CA part of the integration suite (mk/integration.mk), when the
# .deb is built and cached: started with test-packaging.sh, they would
# hold a slot waiting for its build.
PACKAGING_TESTS_FIRST = \
	tests/integration/test-packaging-deps.sh \
	tests/integration/test-packaging.sh
PACKAGING_TESTS_LATER = \
	tests/integration/test-packaging-ansible.sh \
	tests/integration/test-packaging-install.sh \
	tests/integration/test-tools.sh
PACKAGING_TESTS = $(PACKAGING_TESTS_FIRST) $(PACKAGING_TESTS_LATER)
TESTS += $(PACKAGING_TESTS_FIRST)
EXTRA_DIST += $(PACKAGING_TESTS) tests/integration/packaging-lib.sh tests/integration/zsh-complete.zsh

# `make check-unit`: only the cmocka unit tests (what the packages' own build
# runs; the integration tests need nginx, haproxy, bind9 and the emulator).
check-unit:
	@units=''; for t in $(TESTS); do case $$t in tests/unit/*) units="$$units $$t";; esac; done; \
	test -n "$$units" || { echo "check-unit: no unit tests (cmocka missing?)" >&2; exit 1; }; \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$units"
.PHONY: check-unit

# Package builds cached by the packaging tests (keyed by the dist tree).
clean-local: clean-packaging-cache
clean-packaging-cache:
	rm -rf tests/pkg-cache
.PHONY: clean-packaging-cache
