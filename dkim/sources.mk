# dkim/: key store, lifecycle, TXT rendering, sign/verify wrappers; mxdock-dkim
DKIM_SRCS = \
	dkim/dkim_msg.c
DKIM_MAIN = \
	dkim/mxdock-dkim.c
