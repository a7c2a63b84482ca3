# milter/spf/: SPF evaluation that is right (libspf2 plus the RFC 7208 layer)
SPF_SRCS = \
	milter/spf/spf.c \
	milter/spf/spf_cache.c \
	milter/spf/spf_dns.c \
	milter/spf/spf_eval.c \
	milter/spf/spf_explain.c \
	milter/spf/spf_libspf2.c \
	milter/spf/spf_macro.c \
	milter/spf/spf_record.c
