# milter/: sources of the library and of mxdock-milter
MILTER_SRCS = \
	milter/authres.c \
	milter/callbacks.c \
	milter/decide.c \
	milter/dmarc_glue.c \
	milter/eom.c \
	milter/gen.c \
	milter/metrics.c \
	milter/metrics_serve.c \
	milter/rawbody.c
MILTER_MAIN = \
	milter/mxdock-milter.c
