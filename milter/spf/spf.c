/* spf.c - placeholder; see spf.h */
#include "spf.h"
