# dkim/: key store, lifecycle, TXT rendering, sign/verify wrappers; mxdock-dkim
DKIM_SRCS = \
	dkim/dkim_canon.c \
	dkim/dkim_db.c \
	dkim/dkim_db_keys.c \
	dkim/dkim_db_tx.c \
	dkim/dkim_dirio.c \
	dkim/dkim_eng_key.c \
	dkim/dkim_eng_sign.c \
	dkim/dkim_eng_tags.c \
	dkim/dkim_eng_verify.c \
	dkim/dkim_import.c \
	dkim/dkim_key.c \
	dkim/dkim_lifecycle.c \
	dkim/dkim_migrate.c \
	dkim/dkim_msg.c \
	dkim/dkim_msg_dns.c \
	dkim/dkim_msg_keys.c \
	dkim/dkim_seal.c \
	dkim/dkim_state.c \
	dkim/dkim_tags.c \
	dkim/dkim_store.c \
	dkim/dkim_txt.c \
	dkim/dkim_update.c
DKIM_MAIN = \
	dkim/dkim_help.c \
	dkim/mxdock-dkim.c
