# agent/conf/: The only code that reads YAML: nodes with locations (conf-node.c), value
# validators (conf-check.c), typed values (conf-value.c), ApiPassthrough against the
# acm-pca model (conf-passthrough.c), files and drop-ins (conf-load.c), aws: and
# daemon: (conf-top.c), certificates and defaults (conf-cert.c), issuers
# (conf-issuer.c), reload targets and hooks (conf-reload.c), JSON output (conf-json.c).
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/conf/conf.h \
	agent/conf/conf-internal.h \
	agent/conf/conf-node.c \
	agent/conf/conf-check.h \
	agent/conf/conf-check.c \
	agent/conf/conf-passthrough.c \
	agent/conf/conf-value.c \
	agent/conf/conf-path.c \
	agent/conf/conf-window.c \
	agent/conf/conf-keys.c \
	agent/conf/conf-aws-ops.c \
	agent/conf/conf-load.c \
	agent/conf/conf-top.c \
	agent/conf/conf-cert.c \
	agent/conf/conf-issuer.c \
	agent/conf/conf-reload.c \
	agent/conf/conf-json.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/conf/test-conf
TESTS += tests/unit/conf/test-conf
tests_unit_conf_test_conf_SOURCES = tests/unit/conf/test-conf.c
tests_unit_conf_test_conf_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_conf_test_conf_LDADD = $(UNIT_LDADD)
endif

# acm-agent.yaml(5) is generated from conf/REFERENCE.md (the one source) by
# man/reference-to-man.py and committed, so a build from git or from the
# tarball needs no generator and the page is reviewed with the change that
# made it. `make update-man` regenerates it; test-reference.sh fails when it
# is stale or when REFERENCE.md and the loader's keys differ.
dist_man5_MANS = man/acm-agent.yaml.5
EXTRA_DIST += man/reference-to-man.py tests/unit/conf/test-reference.sh
check_PROGRAMS += tests/unit/conf/test-key-paths-dump
tests_unit_conf_test_key_paths_dump_SOURCES = tests/unit/conf/test-key-paths-dump.c
tests_unit_conf_test_key_paths_dump_LDADD = $(AGENT_LIBS)
TESTS += tests/unit/conf/test-reference.sh

update-man:
	$(AM_V_GEN)$(PYTHON3) $(srcdir)/man/reference-to-man.py $(srcdir)/conf/REFERENCE.md > $(srcdir)/man/acm-agent.yaml.5.tmp && \
	mv $(srcdir)/man/acm-agent.yaml.5.tmp $(srcdir)/man/acm-agent.yaml.5
.PHONY: update-man
