/* dnsq.c - placeholder; see dnsq.h */
#include "dnsq.h"
