# milter/spf/: SPF evaluation that is right (libspf2 plus the RFC 7208 layer)
SPF_SRCS = \
	milter/spf/spf.c
