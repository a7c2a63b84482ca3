/*
 * dns_cli.h - the commands of mxdock-dns and what they share: argument
 * parsing, the domain argument, the API client, the desired model.
 *
 * Every command returns a sysexits code and writes its one-line error to
 * stderr itself (through cli_err).
 */
#ifndef MX_DNS_CLI_H
#define MX_DNS_CLI_H

#include <stddef.h>

#include "pdns.h"

#define CLI_MAXARGS 32

struct cli_args {
    int     npos;
    const char *pos[CLI_MAXARGS];
    int     nopt;
    const char *optname[CLI_MAXARGS];       /* without the leading -- */
    size_t  optlen[CLI_MAXARGS];
    const char *optval[CLI_MAXARGS];        /* NULL for a bare flag */
};

struct cli {
    const char *prog;
    const char *conf_path;
    struct mx_conf *conf;
    struct cli_args a;
};

/* cli_parse - split ARGV into positionals and --name[=value] options;
 * ALLOWED is "name=,flag,..." ("name=" takes a value).  EX_USAGE on an
 * unknown option, with the error written. */
int     cli_parse(struct cli *, int argc, char **argv, const char *allowed);
const char *cli_opt(const struct cli *, const char *name);      /* last value or NULL */
int     cli_flag(const struct cli *, const char *name);
/* cli_opt_all - every value of a repeated option into OUT; count. */
size_t  cli_opt_all(const struct cli *, const char *name, const char **out, size_t max);

void    cli_err(const struct cli *, const char *fmt, ...) MX_PRINTF(2, 3);

/* cli_domain - ARG as a normalised domain into OUT; EX_DATAERR when bad. */
int     cli_domain(const struct cli *, const char *arg, char *out, size_t outlen);

/* cli_check_ips - every --ip an address; EX_USAGE (written) if not. */
int     cli_check_ips(const struct cli *);

/* cli_api - the configured client; NULL (error written) when it cannot be. */
struct pdns_api *cli_api(const struct cli *);

/* what create records in a zone (dns_meta.c) */
#define DNS_MAXIPS 16
struct dns_recorded {
    char    tmpl[64];                   /* "" = none */
    size_t  nips;                       /* 0 = dns_server_ipv4/ipv6 */
    char    ips[DNS_MAXIPS][64];
    int     lost;                       /* account says metadata, none there */
};

int     dns_recorded_get(const struct cli *, struct pdns_api *, const char *domain,
                         const struct pdns_zone *, struct dns_recorded *);
void    dns_recorded_merge(const struct cli *, const struct dns_recorded *old,
                           struct dns_recorded *out);
const char *dns_recorded_account(const struct dns_recorded *);
int     dns_recorded_put(const struct cli *, struct pdns_api *, const char *domain,
                         const char *account, const struct dns_recorded *old,
                         const struct dns_recorded *want);

/* cli_model - desired rrsets of DOMAIN: keys from the store (KEYS, caller
 * frees with dkim_domain_free), the recorded template and addresses (REC,
 * NULL = none).  0 or a sysexits code (error written). */
int     cli_model(const struct cli *, const char *domain, const struct dns_recorded *rec,
                  int zone_signed, struct pdns_rrsets *out, struct dkim_domain **keys);

/* the commands */
int     cmd_create(struct cli *);
int     cmd_sync(struct cli *);
int     cmd_diff(struct cli *);
int     cmd_delete(struct cli *);
int     cmd_list(struct cli *);
int     cmd_records(struct cli *);
int     cmd_add(struct cli *);
int     cmd_delete_record(struct cli *);
int     cmd_check(struct cli *);
int     cmd_mta_sts_policy(struct cli *);
int     cmd_template(struct cli *);
int     cmd_dnssec(struct cli *);

/* add's own checks (dns_add_check.c); each writes its error */
int     dns_add_type(const struct cli *, const char *in, char *out, size_t len);
int     dns_add_name(const struct cli *, const char *name, const char *domain,
                     struct strbuf *out);
int     dns_add_content(const struct cli *, const char *type, const char *content, int prio);

/* templates (dns_template.c): 0, EX_DATAERR (bad name or line) or
 * EX_NOINPUT (no such template) with WHY */
int     dns_template_load(const struct mx_conf *, const char *name, const char *domain,
                          struct pdns_tmpl_rec **recs, size_t *n, char *why, size_t whylen);
void    dns_template_free(struct pdns_tmpl_rec *, size_t n);

/* mta-sts policy file (dns_check.c) */
int     dns_mta_sts_write(const struct mx_conf *, const char *domain, char *why, size_t whylen);

/* undo after a failed create, clean up after delete (dns_undo.c) */
struct dns_keys_snap {
    char    dir[1100], state_path[1200];
    int     existed;
    char  **files;
    size_t  n;
    char   *state;                      /* the state file's bytes, or NULL */
    size_t  state_len;
    unsigned state_mode;
};
void    dns_keys_snap(const struct mx_conf *, const char *domain, struct dns_keys_snap *);
void    dns_keys_undo(const char *prog, const struct dns_keys_snap *);
void    dns_keys_snap_free(struct dns_keys_snap *);
void    dns_mta_sts_remove(const struct cli *, const char *domain);

/* DKIM activation after publishing (dns_check.c) */
void    dns_dkim_activate(const struct cli *, const char *domain);

#endif
