# agent/issuer/: Issuers: AWS Private CA.
# Fragment of Makefile.am (non-recursive build).
libacmagent_a_SOURCES += \
	agent/issuer/issuer-pca.c
