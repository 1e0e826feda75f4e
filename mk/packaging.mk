# Fragment owned by the packaging area; see Makefile.am and packaging/README.md.
# The .deb (packaging/deb/debian, copied into an unpacked dist tarball) and the
# .rpm (packaging/rpm/acm-agent.spec) both ship packaging/acm-agent.yaml as
# the main configuration: no certificates, so a timer pass exits 0.
EXTRA_DIST += packaging/README.md packaging/acm-agent.yaml \
	packaging/deb/debian/changelog packaging/deb/debian/control \
	packaging/deb/debian/copyright packaging/deb/debian/rules \
	packaging/deb/debian/source/format packaging/deb/debian/acm-agent.docs \
	packaging/deb/debian/acm-agent.examples packaging/deb/debian/postrm \
	packaging/deb/debian/acm-agent.lintian-overrides \
	packaging/rpm/acm-agent.spec packaging/rpm/macros.debian

# Builds both packages from a dist tree and checks their contents; skips (77)
# without dpkg-buildpackage/debhelper and rpmbuild.
TESTS += tests/integration/test-packaging.sh
EXTRA_DIST += tests/integration/test-packaging.sh

# `make check-unit`: only the cmocka unit tests (what the packages' own build
# runs; the integration tests need nginx, haproxy, bind9 and the emulator).
check-unit:
	@units=''; for t in $(TESTS); do case $$t in tests/unit/*) units="$$units $$t";; esac; done; \
	test -n "$$units" || { echo "check-unit: no unit tests (cmocka missing?)" >&2; exit 1; }; \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$units"
.PHONY: check-unit
