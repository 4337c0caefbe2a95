/* cmd_compact.c - promise compact STORE: the withdrawn's data physically removed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

static int run(int argc, char **argv)
{
    static const char *cmd = "compact";
    if (argc != 2 || argv[1][0] == '-')
        return pm_cli_usage(cmd, argc < 2 ? "missing STORE" : "expected STORE only");
    pm_ctx_t *ctx = pm_cli_ctx(cmd);
    pm_store_t *st = NULL;
    pm_compact_result_t r;
    memset(&r, 0, sizeof r);
    int64_t aid = -1;
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDWR, &st);
    if (rc == 0 && (rc = pm_cli_audit(st, cmd, argc, argv, NULL, &aid)) == 0) {
        rc = pm_access_compact(st, &r);
        rc = pm_cli_audit_done(st, aid, rc, rc >= 0 ? r.individuals : 0, 0, NULL);
    }
    int x = PM_EXIT_OK;
    if (rc < 0)
        x = pm_cli_fail(cmd, ctx, rc);
    else
        printf("compacted %" PRId64 " withdrawn individuals: %" PRId64
               " genotype segments rewritten (%" PRIu64 " calls removed), %" PRId64
               " omics files rewritten (%" PRIu64 " values removed), %" PRId64
               " registry events deleted; %" PRId64 " stale files removed\n",
               r.individuals, r.gt_files, r.gt_calls, r.omics_files, r.omics_values, r.events,
               r.stale_files);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return x;
}

const pm_cli_cmd_t pm_cmd_compact = {
    "compact",
    "physically remove forgotten individuals",
    "usage: promise compact STORE\n"
    "\n"
    "Physically removes the data of everyone withdrawn ('promise forget', or a\n"
    "consent file's 'withdrawn') since the last compaction: every genotype\n"
    "segment and omics file holding a column of theirs is rewritten with that\n"
    "column's calls and values cleared, and their registry events and consent\n"
    "rows are deleted. Answers do not change (forget already took them out of\n"
    "every answer); the bytes go.\n"
    "\n"
    "All or nothing: the new files are written and synced first, then one\n"
    "catalog transaction switches to them, then the old files are deleted. A\n"
    "crash leaves the store as before or as after; files a crash left behind\n"
    "are deleted by the next compaction. The individual's row stays (withdrawn,\n"
    "pseudonym only) so that a later re-ingest keeps them withdrawn. Needs the\n"
    "store's writer lock. Audited.\n",
    run,
};
