# Fragment owned by the crypto area; see Makefile.am.
