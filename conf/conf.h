/*
 * conf.h - the mxdock configuration: one table row per key, one loader.
 *
 * Every binary reads one file, /etc/mxdock/mxdock.conf, or the file named by
 * -c, or $MXDOCK_CONF.  Each key is one row of conf_table[] (conf_table.c):
 * name, type, default, range or allowed values, one line of help, and where
 * its parsed value lives inside struct mx_conf.
 *
 * Ownership: conf_load() returns a struct mx_conf the caller frees with
 * conf_free().  Strings inside it belong to it.
 */
#ifndef MX_CONF_H
#define MX_CONF_H

#include <stddef.h>
#include <stdio.h>

#define MX_CONF_DEFAULT_PATH "/etc/mxdock/mxdock.conf"

enum conf_type {
    CONF_STR,       /* free text */
    CONF_PATH,      /* a file or directory name */
    CONF_INT,       /* integer within min..max */
    CONF_BOOL,      /* yes/no, true/false, on/off, 1/0 */
    CONF_ENUM,      /* one of the '|'-separated allowed values */
    CONF_LIST,      /* comma list; each item one of allowed, if set */
    CONF_DURATION,  /* seconds, with optional s/m/h/d/w suffix; min..max */
    CONF_CIDRLIST,  /* comma list of addresses or prefixes */
    CONF_SECRET,    /* like STR, but never printed */
    CONF_SERVER,    /* empty, IP, IPv4:PORT, [IPv6] or [IPv6]:PORT */
    CONF_IPV4,      /* empty or one IPv4 address */
    CONF_IPV6,      /* empty or one IPv6 address */
    CONF_MODE,      /* octal file mode, e.g. 0660 */
    CONF_HOSTLIST   /* comma list of HOST, HOST:PORT or [IPv6]:PORT */
};

struct mx_conf {
    char   *path;               /* the file it came from, or "" */
    /* PowerDNS */
    char   *pdns_api_url;
    char   *pdns_api_key;       /* after pdns_api_key_file is applied */
    char   *pdns_api_key_file;
    char   *pdns_server_id;
    long    pdns_timeout;
    /* DNS records */
    char   *dns_nameservers;
    char   *dns_mail_host;
    char   *dns_server_ipv4;
    char   *dns_server_ipv6;
    long    dns_ttl;
    char   *dns_check_server;
    char   *dns_resolver;
    long    dns_timeout;
    long    milter_dns_budget;  /* seconds for all lookups of one message */
    char   *dns_publish;
    long    dns_apex_address;
    char   *dns_soa_edit_api;
    char   *dns_soa_contact;
    char   *dns_srv_services;
    char   *dns_srv_disabled;
    char   *dns_template_dir;
    char   *dns_caa;
    char   *dns_tlsa_cert;
    char   *dmarc_policy;
    char   *dmarc_rua;
    char   *tlsrpt_rua;
    char   *mta_sts_mode;
    long    mta_sts_max_age;
    char   *mta_sts_policy_dir;
    char   *dnssec_algorithm;
    /* DKIM */
    char   *dkim_keydir;
    char   *dkim_algorithms;
    long    dkim_rsa_bits;
    char   *dkim_selector_format;
    long    dkim_rotate_after;
    long    dkim_retire_after;
    long    dkim_delete_after;
    char   *dkim_on_key_error;
    char   *dkim_sign_headers;
    char   *dkim_oversign_headers;
    char   *dkim_canonicalization;
    long    dkim_sign_subdomains;
    long    dkim_max_signatures;
    long    dkim_min_key_bits;
    char   *dkim_fail_action;
    char   *dkim_dnserror_action;
    char   *dkim_engine;
    char   *dkim_store;         /* "files" or "mysql" */
    char   *dkim_store_seal_key_file;
    long    dkim_store_poll;
    /* milter */
    char   *milter_socket;
    char   *milter_socket_mode;
    char   *milter_user;
    char   *milter_pidfile;
    char   *milter_metrics_listen;     /* Prometheus text; "" = off */
    char   *milter_internal_hosts;
    char   *milter_authserv_id;
    char   *milter_sign_daemons;
    long    milter_sender_check;
    long    milter_dry_run;
    char   *log_facility;
    /* SPF */
    char   *spf_fail_action;
    char   *spf_engine;
    char   *spf_softfail_action;
    char   *spf_permerror_action;
    char   *spf_temperror_action;
    char   *spf_skip_addresses;
    char   *spf_whitelist_domains;
    /* DMARC of inbound mail (milter/dmarc) and its aggregate reports */
    long    dmarc_check;
    char   *dmarc_reject_action;
    char   *dmarc_quarantine_action;
    char   *dmarc_multifrom_action;
    char   *dmarc_temperror_action;
    long    dmarc_dry_run;
    char   *dmarc_psl_file;
    char   *dmarc_org_domain;       /* "treewalk" (RFC 9989) or "psl" (RFC 7489) */
    long    dmarc_report_enable;
    char   *dmarc_report_org_name;
    char   *dmarc_report_email;
    char   *dmarc_report_smtp_url;
    long    dmarc_report_smtp_starttls;
    char   *dmarc_report_smtp_user;
    char   *dmarc_report_smtp_password_file;
    char   *dmarc_report_smtp_cafile;
    long    dmarc_report_max_size;
    long    dmarc_report_retries;
    long    dmarc_report_retry_delay;
    long    dmarc_report_days;
    long    dmarc_failure_reports;
    long    dmarc_failure_report_limit;
    char   *dmarc_report_dir;
    /* MySQL */
    char   *mysql_host;
    long    mysql_port;
    char   *mysql_socket;
    char   *mysql_user;
    char   *mysql_password;     /* after mysql_password_file is applied */
    char   *mysql_password_file;
    char   *mysql_database;
    long    mysql_timeout;
    long    mysql_node_hold;
    long    mysql_causal_reads;
    /* quota */
    long    quota_enable;
    char   *quota_query;
    char   *quota_reply;
    long    quota_warn_percent;
    long    quota_cache_ttl;
    char   *quota_db_error_action;
    /* auth-attempt policy */
    long    authfail_enable;
    long    authfail_max;
    long    authfail_window;
    long    authfail_ban_time;
    long    authfail_ban_factor;
    char   *authfail_exempt;
    char   *authfail_db_error_action;
    /* mxdock-policy serve (Dovecot's auth policy, Stalwart's webhook) */
    char   *policy_http_listen;
    char   *policy_http_token_file;
    char   *stalwart_webhook_secret_file;
    long    policy_http_max_body;
    long    policy_http_max_connections;
    long    policy_http_timeout;
    long    policy_http_threads;
    long    policy_http_delay_from;
    long    policy_http_delay_max;
};

struct conf_row {
    const char *name;
    enum conf_type type;
    size_t  offset;             /* into struct mx_conf */
    const char *def;            /* default, as it would be written */
    long    min, max;           /* CONF_INT, CONF_DURATION */
    const char *allowed;        /* CONF_ENUM, CONF_LIST: "a|b|c" */
    const char *help;           /* one line */
};

extern const struct conf_row conf_table[];
extern const size_t conf_table_len;

/* conf_load - read and validate PATH; on error write one line to ERR
 * (file, line, key, what) and return NULL.  Caller frees with conf_free. */
struct mx_conf *conf_load(const char *path, char *err, size_t errlen);

/* conf_skip_secrets - set once at start, before any thread, by a program
 * that uses only some secrets: CONF_SECRETS_MILTER reads neither
 * pdns_api_key_file (the milter never calls PowerDNS) nor, when quota,
 * authfail and DMARC reports are all off, mysql_password_file.  A secret
 * not read is not checked either (its mode, its presence). */
#define CONF_SECRETS_MILTER 1
extern int conf_skip_secrets;

/* conf_defaults - a configuration made of the defaults only. */
struct mx_conf *conf_defaults(void);

void    conf_free(struct mx_conf *);

/* conf_path - the file to read: OPT (from -c), else $MXDOCK_CONF, else the
 * built-in default.  Returns a pointer the caller does not free. */
const char *conf_path(const char *opt);

/* conf_load_or_exit - conf_load(conf_path(opt)), printing the error line on
 * stderr with PROG and exiting EX_CONFIG on failure.  For command-line use. */
struct mx_conf *conf_load_or_exit(const char *prog, const char *opt);

/* conf_write_sample - the sample file, every key with default and help. */
void    conf_write_sample(FILE *);

/* conf_write_reference - docs/CONFIG.md, a markdown table of every key. */
void    conf_write_reference(FILE *);

/* conf_write_current - every key with its current value (secrets hidden). */
void    conf_write_current(FILE *, const struct mx_conf *);

/* conf_expand - copy TEMPLATE to OUT replacing %d with DOMAIN and %% with %;
 * returns -1 when OUT is too small. */
int     conf_expand(const char *tmpl, const char *domain, char *out, size_t outlen);

/*
 * List helpers.  conf_list_next walks a comma list: *cursor starts at the
 * list; each call copies the next trimmed item into item and returns 1, or
 * returns 0 at the end.  Items longer than itemlen are truncated and skipped.
 */
int     conf_list_next(const char **cursor, char *item, size_t itemlen);
int     conf_list_has(const char *list, const char *item);   /* case-insensitive */

/* conf_host_next - the next item of a "HOST[:PORT], ..." list (hostlist.c):
 * 1 with HOST (brackets of an IPv6 address removed) and PORT (DEFPORT when
 * the item has none), 0 at the end, -1 on a malformed item (skipped).
 * conf_host_check - 0 when every item is well formed, else -1 and WHY. */
int     conf_host_next(const char **cursor, char *host, size_t hostlen,
                       unsigned *port, unsigned defport);
int     conf_host_check(const char *list, char *why, size_t whylen);

#endif
