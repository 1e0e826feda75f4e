# agent/cli/: main and one file per command.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/cli/cli.h \
	agent/cli/cli-common.c \
	agent/cli/cli-check.c \
	agent/cli/cli-check-online.c \
	agent/cli/cli-check-online.h \
	agent/cli/cli-once.c \
	agent/cli/cli-status.c \
	agent/cli/cli-revoke.c \
	agent/cli/cli-dns.c
