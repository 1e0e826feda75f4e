# Configuration: YAML nodes with locations and error-reporting accessors
# (conf-node.c), value validators (conf-check.c), ApiPassthrough against the
# acm-pca model (conf-passthrough.c), the schema, files and structures
# (conf.c), JSON output (conf-json.c), and `acm-agent check`.
libacmagent_a_SOURCES += agent/cli.h agent/cmd-check.c agent/conf.h \
	agent/conf-internal.h agent/conf-node.c \
	agent/conf-check.h agent/conf-check.c \
	agent/conf-passthrough.c agent/conf.c agent/conf-json.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-conf
TESTS += tests/unit/test-conf
tests_unit_test_conf_SOURCES = tests/unit/test-conf.c
tests_unit_test_conf_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
endif

TESTS += tests/integration/test-check.sh tests/integration/test-check-online.sh
EXTRA_DIST += tests/integration/test-check.sh tests/integration/test-check-online.sh \
	conf/acm-agent.yaml conf/REFERENCE.md \
	conf/certs.d/10-internal-pca.yaml conf/certs.d/20-public-acm.yaml conf/certs.d/30-import.yaml

# The example configuration; never overwrites a real one.
confexampledir = $(sysconfdir)/acm-agent
install-data-local: install-conf-example
install-conf-example:
	$(MKDIR_P) '$(DESTDIR)$(confexampledir)'
	$(INSTALL_DATA) '$(srcdir)/conf/acm-agent.yaml' '$(DESTDIR)$(confexampledir)/acm-agent.yaml.example'
uninstall-local: uninstall-conf-example
uninstall-conf-example:
	rm -f '$(DESTDIR)$(confexampledir)/acm-agent.yaml.example'
.PHONY: install-conf-example uninstall-conf-example
