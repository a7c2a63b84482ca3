# dkim/: sources of the library and of mxdock-dkim
DKIM_SRCS =
DKIM_MAIN = \
	dkim/mxdock-dkim.c
