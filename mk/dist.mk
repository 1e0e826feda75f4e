# What is installed besides the binary: units, manual page, configuration
# reference and example, hooks documentation.

# systemd units (@bindir@ and @sysconfdir@ substituted at build time) and
# the journal catalog of the agent's MESSAGE_IDs. After installing the
# catalog, `journalctl --update-catalog` (the packages' triggers do it).
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = units/acm-agent.service units/acm-agent-once.service
dist_systemdsystemunit_DATA = units/acm-agent-once.timer
EXTRA_DIST += units/acm-agent.service.in units/acm-agent-once.service.in
CLEANFILES += units/acm-agent.service units/acm-agent-once.service
UNITS_SUBST = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g'
units/acm-agent.service: $(srcdir)/units/acm-agent.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && $(UNITS_SUBST) $(srcdir)/units/acm-agent.service.in > $@
units/acm-agent-once.service: $(srcdir)/units/acm-agent-once.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && $(UNITS_SUBST) $(srcdir)/units/acm-agent-once.service.in > $@
journalcatalogdir = $(prefix)/lib/systemd/catalog
dist_journalcatalog_DATA = units/acm-agent.catalog

# Manual page and the configuration reference.
dist_man_MANS = man/acm-agent.8
dist_doc_DATA = conf/REFERENCE.md

EXTRA_DIST += conf/acm-agent.yaml \
	conf/certs.d/10-internal-pca.yaml conf/certs.d/20-public-acm.yaml conf/certs.d/30-import.yaml \
	hooks/README.md hooks/nginx-reload hooks/haproxy-reload hooks/notify-webhook

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
