/* dkim_msg.c - placeholder: libopendkim sign/verify wrappers go here */
#include "dkim.h"
