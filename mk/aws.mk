# Fragment owned by the aws area; see Makefile.am.
