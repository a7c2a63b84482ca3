#!/bin/bash
# dns_create_mysql.sh - dns_create.sh against PowerDNS with the gmysql
# backend on a real MariaDB (the seed's production setup).
DNS_BACKEND=mysql exec bash "$(dirname "$0")/dns_create.sh"
