#!/bin/bash
# dns_errors_mysql.sh - dns_errors.sh against PowerDNS with the gmysql
# backend on a real MariaDB.
DNS_BACKEND=mysql exec bash "$(dirname "$0")/dns_errors.sh"
