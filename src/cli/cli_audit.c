/* cli_audit.c - the audit hook of the command-line tool (see cli_audit.h). */
#include "cli/cli_audit.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "promise/identity.h"
#include "promise/policy.h"

static int plain(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,:=/@+-", *s))
            return 0;
    return 1;
}

static int looks_like_pnr(const char *s)
{
    /* anything the parser accepts, and any 10/12 digits with or without a
     * separator even when invalid (a mistyped number is still personal) */
    if (pm_pnr_parse(s, 0, NULL) == PM_PNR_OK)
        return 1;
    size_t digits = 0, other = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p != '-' && *p != '+')
            other++;
    }
    return other == 0 && (digits == 10 || digits == 12);
}

/* Appends n bytes of s to buf (cap bytes, NUL-terminated); 0, or -1 when
 * it does not fit (buf then ends before the cut-off item). */
static int put(char *buf, size_t cap, size_t *o, const char *s, size_t n)
{
    if (*o + n + 1 > cap)
        return -1;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = '\0';
    return 0;
}

void pm_cli_audit_query(int argc, char **argv, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    int after_token = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *shown = a;
        if (after_token || strncmp(a, "pmt_", 4) == 0 || strncmp(a, "--token=", 8) == 0)
            shown = "<token>";
        else if (looks_like_pnr(a))
            shown = "<personnummer>";
        after_token = strcmp(a, "--token") == 0;
        size_t mark = o;
        int rc = i > 1 ? put(buf, cap, &o, " ", 1) : 0;
        if (shown != a || plain(a)) {
            rc |= put(buf, cap, &o, shown, strlen(shown));
        } else {
            rc |= put(buf, cap, &o, "'", 1);
            for (const char *p = a; *p && rc == 0; p++) {
                if (*p == '\'')
                    rc |= put(buf, cap, &o, "'\\''", 4);
                else if ((unsigned char)*p < 0x20)
                    rc |= put(buf, cap, &o, "?", 1);
                else
                    rc |= put(buf, cap, &o, p, 1);
            }
            rc |= put(buf, cap, &o, "'", 1);
        }
        if (rc) {
            buf[mark] = '\0';
            put(buf, cap, &mark, " ...", 4);
            break;
        }
    }
}

int pm_cli_audit(pm_store_t *st, const char *command, int argc, char **argv,
                 const char *project, int64_t *entry_id)
{
    char query[PM_AUDIT_FIELD_MAX];
    pm_cli_audit_query(argc, argv, query, sizeof query);
    /* who asks: the local steward, or the user of --token / --as (cli.h);
     * a refused identity is logged, then refused */
    int irc = pm_cli_identity(st);
    const pm_access_scope_t *sc = pm_cli_scope();
    char saved[512] = "";
    if (irc < 0)
        snprintf(saved, sizeof saved, "%s", pm_ctx_errmsg(pm_store_ctx(st)));
    if (!project)
        project = sc->has_project ? sc->project.name : pm_cli_project_arg();
    pm_audit_entry_t e = {pm_cli_who(), sc->tier, project, command, query};
    int rc = pm_audit_append(st, &e, entry_id);
    if (rc < 0 || irc >= 0)
        return rc;
    pm_cli_audit_done(st, *entry_id, irc, 0, 0, NULL);
    *entry_id = -1;
    return pm_err(pm_store_ctx(st), irc, "%s", saved);
}

int pm_cli_audit_done(pm_store_t *st, int64_t entry_id, int rc, int64_t n_individuals,
                      int64_t result_size, const pm_bitset_t *used)
{
    const char *outcome = rc >= 0 ? "ok" : rc == PM_EACCES ? "refused" : "error";
    pm_ctx_t *ctx = pm_store_ctx(st);
    /* keep the command's own error message: the audit failure matters only
     * when the command succeeded */
    char saved[512] = "";
    if (rc < 0)
        snprintf(saved, sizeof saved, "%s", pm_ctx_errmsg(ctx));
    int arc = pm_audit_complete_ex(st, entry_id, outcome, n_individuals, result_size, used, NULL);
    if (rc < 0) {
        pm_err(ctx, rc, "%s", saved);
        return rc;
    }
    return arc;
}
