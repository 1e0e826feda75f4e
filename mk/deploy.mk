# Fragment owned by the deploy area; see Makefile.am.
