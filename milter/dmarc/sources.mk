# milter/dmarc/: DMARC evaluation of inbound mail (pure: no libmilter)
DMARC_SRCS = \
	milter/dmarc/dmarc_decide.c \
	milter/dmarc/dmarc_dns.c \
	milter/dmarc/dmarc_eval.c \
	milter/dmarc/dmarc_from.c \
	milter/dmarc/dmarc_record.c \
	milter/dmarc/dmarc_walk.c
