# Fuzzing the parsers of outside input (tests/fuzz/, libFuzzer).
#
# Each harness NAME is tests/fuzz/fuzz-NAME.c (LLVMFuzzerTestOneInput) with
# its corpus in tests/fuzz/NAME/: seed inputs and every crash ever found.
# Two programs are built from each harness:
#   tests/fuzz/replay-NAME  plain program (replay-main.c): `make check` runs
#                           it over the corpus, with any compiler;
#   tests/fuzz/fuzz-NAME    libFuzzer program, built on demand (`make
#                           fuzz-build`) in the clang build tools/fuzz.sh makes.
# Harnesses of other areas are listed as "NAME SOURCE-FILE" lines in
# tests/fuzz/aws/harnesses.txt (corpus in tests/fuzz/aws/NAME/); they are
# built by the rules below from that list, so adding one needs no change here.
#
#   make fuzz                      every harness FUZZ_SECONDS seconds (tools/fuzz.sh)
#   make fuzz FUZZ_SECONDS=600     longer
FUZZ_HARNESSES = conf aws-creds-file pem-cert pem-key pkcs8
FUZZ_SECONDS = 60
FUZZ_LINK = -fsanitize=fuzzer
FUZZ_EXTRA_LIST = $(srcdir)/tests/fuzz/aws/harnesses.txt

check_PROGRAMS += tests/fuzz/replay-conf tests/fuzz/replay-aws-creds-file tests/fuzz/replay-pem-cert \
	tests/fuzz/replay-pem-key tests/fuzz/replay-pkcs8
FUZZ_REPLAY_COMMON = tests/fuzz/replay-main.c tests/fuzz/fuzz.h
tests_fuzz_replay_conf_SOURCES = tests/fuzz/fuzz-conf.c $(FUZZ_REPLAY_COMMON)
tests_fuzz_replay_conf_LDADD = $(AGENT_LIBS)
tests_fuzz_replay_aws_creds_file_SOURCES = tests/fuzz/fuzz-aws-creds-file.c $(FUZZ_REPLAY_COMMON)
tests_fuzz_replay_aws_creds_file_LDADD = $(AGENT_LIBS)
tests_fuzz_replay_pem_cert_SOURCES = tests/fuzz/fuzz-pem-cert.c $(FUZZ_REPLAY_COMMON)
tests_fuzz_replay_pem_cert_LDADD = $(AGENT_LIBS)
tests_fuzz_replay_pem_key_SOURCES = tests/fuzz/fuzz-pem-key.c $(FUZZ_REPLAY_COMMON)
tests_fuzz_replay_pem_key_LDADD = $(AGENT_LIBS)
tests_fuzz_replay_pkcs8_SOURCES = tests/fuzz/fuzz-pkcs8.c $(FUZZ_REPLAY_COMMON)
tests_fuzz_replay_pkcs8_LDADD = $(AGENT_LIBS)

# libFuzzer programs: only in a clang build configured by tools/fuzz.sh.
fuzz_programs = tests/fuzz/fuzz-conf tests/fuzz/fuzz-aws-creds-file tests/fuzz/fuzz-pem-cert \
	tests/fuzz/fuzz-pem-key tests/fuzz/fuzz-pkcs8
EXTRA_PROGRAMS = $(fuzz_programs)
CLEANFILES += $(fuzz_programs)
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_conf_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_aws_creds_file_SOURCES = tests/fuzz/fuzz-aws-creds-file.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_aws_creds_file_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_aws_creds_file_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_pem_cert_SOURCES = tests/fuzz/fuzz-pem-cert.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_pem_cert_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_pem_cert_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_pem_key_SOURCES = tests/fuzz/fuzz-pem-key.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_pem_key_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_pem_key_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_pkcs8_SOURCES = tests/fuzz/fuzz-pkcs8.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_pkcs8_LDADD = $(AGENT_LIBS)
tests_fuzz_fuzz_pkcs8_LDFLAGS = $(FUZZ_LINK)

# The listed harnesses of other areas: replay programs for `make check`
# (rebuilt when the source, replay-main.c or the library is newer), and with
# KIND=fuzz the libFuzzer programs.
FUZZ_EXTRA_BUILD = \
	test -f '$(FUZZ_EXTRA_LIST)' || exit 0; \
	$(MKDIR_P) tests/fuzz; \
	while read -r name src rest; do \
	  case "$$name" in ''|'\#'*) continue;; esac; \
	  out="tests/fuzz/$$KIND-$$name"; \
	  if test "$$KIND" = replay; then extra='$(srcdir)/tests/fuzz/replay-main.c'; link=''; \
	  else extra=''; link='$(FUZZ_LINK)'; fi; \
	  if test -f "$$out" && test "$$out" -nt "$(srcdir)/$$src" && test "$$out" -nt libacmagent.a \
	     && test "$$out" -nt '$(FUZZ_EXTRA_LIST)' && test "$$out" -nt '$(srcdir)/tests/fuzz/replay-main.c'; then continue; fi; \
	  echo "  CCLD     $$out"; \
	  $(COMPILE) -I$(srcdir)/tests/fuzz $(LDFLAGS) $$link -o "$$out" "$(srcdir)/$$src" $$extra \
	    $(AGENT_LIBS) $(LIBS) || exit 1; \
	done < '$(FUZZ_EXTRA_LIST)'

check_DATA = fuzz-replay-extra
fuzz-replay-extra: libacmagent.a
	@KIND=replay; $(FUZZ_EXTRA_BUILD)

fuzz-build: $(fuzz_programs) libacmagent.a
	@KIND=fuzz; $(FUZZ_EXTRA_BUILD)

fuzz:
	FUZZ_SECONDS='$(FUZZ_SECONDS)' $(SHELL) '$(srcdir)/tools/fuzz.sh'

clean-local: clean-fuzz-extra
clean-fuzz-extra:
	-test ! -f '$(FUZZ_EXTRA_LIST)' || while read -r name src rest; do \
	  case "$$name" in ''|'\#'*|*/*) continue;; esac; \
	  rm -f "tests/fuzz/replay-$$name" "tests/fuzz/fuzz-$$name"; \
	done < '$(FUZZ_EXTRA_LIST)'

.PHONY: fuzz fuzz-build fuzz-replay-extra clean-fuzz-extra

TESTS += tests/fuzz/test-fuzz-replay.sh
EXTRA_DIST += tests/fuzz/test-fuzz-replay.sh tools/fuzz.sh \
	tests/fuzz/conf tests/fuzz/aws-creds-file tests/fuzz/pem-cert tests/fuzz/pem-key tests/fuzz/pkcs8
