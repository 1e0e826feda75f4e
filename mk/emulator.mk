# Fragment owned by the emulator area; see Makefile.am.
