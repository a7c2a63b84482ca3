#!/bin/bash
# dns_dnssec_mysql.sh - dns_dnssec.sh against PowerDNS with the gmysql
# backend on a real MariaDB.
DNS_BACKEND=mysql exec bash "$(dirname "$0")/dns_dnssec.sh"
