# Fragment owned by the hook area; see Makefile.am.
# Public headers of the hook runner and the reload pass (implementations follow).
libacmagent_a_SOURCES += agent/hook.h agent/reload.h
