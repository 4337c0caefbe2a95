/* cmd_ingest.c - promise ingest KIND STORE FILE [...]: dispatch per kind. */
#include <string.h>

#include "cli/cli.h"

/* Each kind's entry point gets argv starting at KIND. */
int pm_cli_ingest_population(int argc, char **argv);
int pm_cli_ingest_samples(int argc, char **argv);
int pm_cli_ingest_registry(int argc, char **argv);
int pm_cli_ingest_consent(int argc, char **argv);
int pm_cli_ingest_vcf(int argc, char **argv);
int pm_cli_ingest_omics(int argc, char **argv);

static const struct {
    const char *kind;
    int (*run)(int, char **);
} kinds[] = {
    {"population", pm_cli_ingest_population}, {"samples", pm_cli_ingest_samples},
    {"registry", pm_cli_ingest_registry},     {"consent", pm_cli_ingest_consent},
    {"vcf", pm_cli_ingest_vcf},               {"omics", pm_cli_ingest_omics},
};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return pm_cli_usage("ingest", "missing KIND (population, samples, registry, consent, "
                                      "vcf or omics)");
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].kind, argv[1]) == 0)
            return kinds[i].run(argc - 1, argv + 1);
    return pm_cli_usage("ingest", "unknown kind '%s'", argv[1]);
}

const pm_cli_cmd_t pm_cmd_ingest = {
    "ingest",
    "load population, samples, registry, consent, genotypes or omics",
    "usage: promise ingest population STORE FILE [--key KEYFILE] [--ignore-extra]\n"
    "       promise ingest samples    STORE FILE [--key KEYFILE] [--ignore-extra]\n"
    "       promise ingest registry   STORE FILE [--key KEYFILE] [--layout L]\n"
    "                                            [--id-column NAME] [--ignore-extra] [--skip-unknown]\n"
    "       promise ingest consent    STORE FILE [--key KEYFILE] [--id-column NAME]\n"
    "                                            [--ignore-extra] [--skip-unknown]\n"
    "       promise ingest vcf        STORE FILE [--source NAME] [--callable BED]\n"
    "                                            [--skip-unknown-samples] [--threads N]\n"
    "       promise ingest omics      STORE FILE --assay NAME [--format matrix|olink|olink-wide]\n"
    "\n"
    "Every ingest is one transaction: a bad row anywhere exits 2 with\n"
    "FILE:LINE:COL and leaves the store exactly as it was.\n"
    "\n"
    "Tables are tab-separated with a header line; columns are found by name,\n"
    "in any order; an unknown column is an error unless --ignore-extra.\n"
    "The identity column is either 'personnummer' (needs --key KEYFILE; the\n"
    "number is pseudonymised in memory and never stored) or 'pseudonym'\n"
    "(already pseudonymised by the key holder with 'promise pseudonymize').\n"
    "\n"
    "The store is bound to the first key it sees; input under another key\n"
    "is refused (exit 3).\n"
    "\n"
    "population: identity, optional sex (M/F, derived from the personnummer\n"
    "  when absent), birth_date (likewise), county (two-digit lan code),\n"
    "  death_date, emigration_date. Dates are YYYY-MM-DD.\n"
    "samples: sample_id, identity, source, assay, optional grade\n"
    "  (research/clinical), tissue, collection_date. The individual must\n"
    "  already be in the population.\n"
    "Loading a file again changes nothing; a later file updates county,\n"
    "death and emigration dates, and a sample's other fields; a different\n"
    "sex or birth date for a known person is an error (docs/ingest.md).\n"
    "registry: --layout long (default: identity, date, register, code, value,\n"
    "  position), npr (patient register: INDATUM, HDIA, DIA1..DIA30, OP, EKOD),\n"
    "  lmed (drugs: EDATUM, ATC, DDD), dors (causes of death: DODSDAT, ULORSAK,\n"
    "  MORSAK1..), cancer (ICD-O-3). See docs/registry.md.\n"
    "consent: identity, purpose, status (opt-out or withdrawn), date.\n"
    "vcf: VCF or BCF, plain or bgzipped; sample names are sample_ids.\n",
    run,
};
