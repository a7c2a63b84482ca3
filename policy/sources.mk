# policy/: sources of the library and of mxdock-policy
POLICY_SRCS =
POLICY_MAIN = \
	policy/mxdock-policy.c
