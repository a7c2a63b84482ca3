# pdns-hooks/: sources of the library and of mxdock-dns
PDNS_SRCS = \
	pdns-hooks/dns_add_check.c \
	pdns-hooks/dns_check.c \
	pdns-hooks/dns_cli.c \
	pdns-hooks/dns_dnssec.c \
	pdns-hooks/dns_meta.c \
	pdns-hooks/dns_records_cmd.c \
	pdns-hooks/dns_template.c \
	pdns-hooks/dns_undo.c \
	pdns-hooks/dns_zone_cmd.c \
	pdns-hooks/pdns_api.c \
	pdns-hooks/pdns_build.c \
	pdns-hooks/pdns_diff.c \
	pdns-hooks/pdns_rrset.c \
	pdns-hooks/pdns_sync.c \
	pdns-hooks/pdns_zone.c
PDNS_MAIN = \
	pdns-hooks/dns_help.c \
	pdns-hooks/mxdock-dns.c
