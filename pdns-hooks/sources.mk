# pdns-hooks/: sources of the library and of mxdock-dns
PDNS_SRCS =
PDNS_MAIN = \
	pdns-hooks/mxdock-dns.c
