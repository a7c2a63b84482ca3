# conf/: the ground floor - configuration table and loader, logging, helpers,
# the DNS client and the MariaDB connection pool (pdb*.c)
CONF_SRCS = \
	conf/conf.c \
	conf/conf_table.c \
	conf/cidr.c \
	conf/dnsq.c \
	conf/dnsq_send.c \
	conf/domain.c \
	conf/fileio.c \
	conf/hostlist.c \
	conf/log.c \
	conf/pdb.c \
	conf/pdb_node.c \
	conf/pdb_stmt.c \
	conf/pdb_tx.c \
	conf/strbuf.c
