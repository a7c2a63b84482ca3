# policy/: sources of the library and of mxdock-policy
POLICY_SRCS = \
	policy/authfail.c \
	policy/cli.c \
	policy/cli_authfail.c \
	policy/cli_quota.c \
	policy/dmarc_report.c \
	policy/dmarc_report_fail.c \
	policy/dmarc_report_out.c \
	policy/dmarc_report_send.c \
	policy/dmarc_report_sent.c \
	policy/http_conn.c \
	policy/http_dovecot.c \
	policy/http_main.c \
	policy/http_metrics.c \
	policy/http_serve.c \
	policy/http_stalwart.c \
	policy/logscan.c \
	policy/logwatch.c \
	policy/policy.c \
	policy/quota.c \
	policy/schema.c
POLICY_MAIN = \
	policy/cli_help.c \
	policy/mxdock-policy.c
