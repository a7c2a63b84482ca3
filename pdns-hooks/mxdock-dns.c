/* mxdock-dns - placeholder until the part lands */
#include <stdio.h>
#include <sysexits.h>

int     main(void)
{
    fprintf(stderr, "mxdock-dns: not built yet\n");
    return EX_SOFTWARE;
}
