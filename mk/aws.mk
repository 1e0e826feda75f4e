# Fragment owned by the aws area; see Makefile.am.
# AWS client: transport (curl multi on sd-event), SigV4, credentials, JSON 1.1,
# STS query, Route 53 REST-XML, and the online preflight.
libacmagent_a_SOURCES += \
	agent/aws.h
