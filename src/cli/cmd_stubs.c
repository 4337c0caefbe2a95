/*
 * cmd_stubs.c - weak fallbacks for subcommands whose implementation is
 * not in this build yet. A real cmd_<name>.c defines the same symbol
 * without `weak`, which replaces the fallback at link time. Each fallback
 * says plainly that the command is not available and exits 1.
 */
#include "cli/cli.h"

#define PM_WEAK __attribute__((weak))

#define STUB_CMD(sym, name, syn, issue)                                                   \
    static int sym##_run(int argc, char **argv)                                           \
    {                                                                                     \
        (void)argc;                                                                       \
        (void)argv;                                                                       \
        return pm_cli_not_available(name, issue);                                         \
    }                                                                                     \
    PM_WEAK const pm_cli_cmd_t sym = {name, syn " (not available yet)",                   \
                                      "usage: promise " name "\n\nNot available in this " \
                                      "build yet (" issue ").\n",                         \
                                      sym##_run};

STUB_CMD(pm_cmd_keygen, "keygen", "create a pseudonymisation key", "issue 2")
STUB_CMD(pm_cmd_pseudonymize, "pseudonymize", "personnummer column -> pseudonym column", "issue 2")
STUB_CMD(pm_cmd_count, "count", "count a cohort (with disclosure control)", "issue 4")
STUB_CMD(pm_cmd_freq, "freq", "allele frequencies for a cohort", "issue 3")
STUB_CMD(pm_cmd_view, "view", "genotypes back out as VCF/BCF", "issue 3")
STUB_CMD(pm_cmd_gwas, "gwas", "genome-wide association", "issue 7")
STUB_CMD(pm_cmd_phewas, "phewas", "one variant against every endpoint", "issue 7")
STUB_CMD(pm_cmd_pca, "pca", "principal components of the genotypes", "issue 7")
STUB_CMD(pm_cmd_qtl, "qtl", "cis-QTL mapping of an omics assay", "issue 5")
STUB_CMD(pm_cmd_export, "export", "a project's extract under project pseudonyms", "issue 6")
STUB_CMD(pm_cmd_compact, "compact", "physically remove forgotten individuals", "issue 6")
STUB_CMD(pm_cmd_forget, "forget", "withdraw a person from every answer", "issue 6")
STUB_CMD(pm_cmd_serve, "serve", "HTTP API, Beacon v2 and browser UI", "issue 6")
STUB_CMD(pm_cmd_audit, "audit", "verify the audit log", "issue 6")
STUB_CMD(pm_cmd_simulate, "simulate", "write a synthetic national data set", "issue 2")

#define STUB_INGEST(fn, kind, issue)                                                   \
    PM_WEAK int fn(int argc, char **argv)                                              \
    {                                                                                  \
        (void)argc;                                                                    \
        (void)argv;                                                                    \
        return pm_cli_not_available("ingest " kind, issue);                           \
    }

STUB_INGEST(pm_cli_ingest_population, "population", "issue 2")
STUB_INGEST(pm_cli_ingest_samples, "samples", "issue 2")
STUB_INGEST(pm_cli_ingest_registry, "registry", "issue 4")
STUB_INGEST(pm_cli_ingest_consent, "consent", "issue 4")
STUB_INGEST(pm_cli_ingest_vcf, "vcf", "issue 3")
STUB_INGEST(pm_cli_ingest_omics, "omics", "issue 5")
