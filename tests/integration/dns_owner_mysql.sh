#!/bin/bash
# dns_owner_mysql.sh - dns_owner.sh against PowerDNS with the gmysql backend
# on a real MariaDB.
DNS_BACKEND=mysql exec bash "$(dirname "$0")/dns_owner.sh"
