# milter/: sources of the library and of mxdock-milter
MILTER_SRCS =
MILTER_MAIN = \
	milter/mxdock-milter.c
