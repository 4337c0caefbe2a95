/* fuzz_tsv.c - libFuzzer target for the table reader (core/tsv.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/pm_fuzz_tsv.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    pm_ctx_t *ctx = pm_ctx_new();
    for (int mode = 0; mode < 2; mode++) {
        pm_tsv_opts_t o = {.sep = mode ? ',' : '\t', .quotes = mode, .max_line = 4096};
        pm_tsv_t *t;
        if (pm_tsv_open(ctx, path, &o, &t) == 0) {
            int n = 0;
            while (pm_tsv_next(t) > 0 && n++ < 10000)
                for (int i = 0; i < pm_tsv_nfields(t); i++)
                    (void)pm_tsv_field_len(t, i);
            pm_tsv_close(t);
        }
    }
    pm_ctx_free(ctx);
    unlink(path);
    return 0;
}
