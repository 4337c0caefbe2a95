/* fuzz_pnr.c - libFuzzer target for the personnummer parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promise/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[64];
    if (size >= sizeof buf)
        size = sizeof buf - 1;
    memcpy(buf, data, size);
    buf[size] = '\0';
    pm_pnr_t p;
    int rc = pm_pnr_parse(buf, 20261128, &p);
    if (rc == PM_PNR_OK) {
        /* a valid number's canonical form must parse to itself */
        pm_pnr_t q;
        if (pm_pnr_parse(p.canon, 20261128, &q) != PM_PNR_OK || strcmp(p.canon, q.canon) != 0)
            abort();
    } else {
        (void)pm_pnr_strerror(rc);
    }
    return 0;
}
