# Fragment owned by the hook area; see Makefile.am.
