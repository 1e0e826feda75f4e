libacmagent_a_SOURCES += agent/cli.h agent/cmd-check.c agent/conf.h
