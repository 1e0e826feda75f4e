# Fragment owned by the engine area; see Makefile.am.
