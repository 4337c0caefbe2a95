/*
 * routes_beacon.c - GA4GH Beacon v2 (framework schemas v2.0.0) over the
 * store: informational endpoints, g_variants (sequence and range queries)
 * and individuals (ICD-10 and sex filters).
 *
 * Granularity follows the tier: public callers get boolean answers,
 * registered callers counts, project and steward callers records. Below
 * the project tier g_variants answers come from pm_policy_beacon_answer
 * (allele threshold beacon_min_ac, per-user per-individual budget,
 * cached answers; docs/privacy.md); individuals answers need cohorts of
 * at least k people (a registered count in 1..k-1 falls back to a
 * boolean answer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promise/cohort.h"
#include "promise/genotype.h"
#include "promise/policy.h"
#include "catalog/individual.h"
#include "server/server_int.h"

/* Records in one page at most (limit=0 asks for "all"). */
#define SRV_MAX_RECORDS 1000

#define BEACON_ID "se.promise.beacon"
#define API_VERSION "v2.0.0"

static const char *const gran_name[] = {"boolean", "count", "record"};

static json_t *schemas(const char *entity, const char *schema)
{
    return json_pack("[{s:s,s:s}]", "entityType", entity, "schema", schema);
}

static json_t *info_meta(void)
{
    return json_pack("{s:s,s:s,s:o}", "beaconId", BEACON_ID, "apiVersion", API_VERSION,
                     "returnedSchemas", json_array());
}

static json_t *response_meta(const pm_beacon_req_t *q, int granularity, const char *entity,
                             const char *schema)
{
    json_t *filters = json_array();
    for (size_t i = 0; i < q->nfilters; i++)
        json_array_append_new(filters, json_string(q->filter[i]));
    return json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:o,s:{s:I,s:I},s:s,s:o}}", "beaconId", BEACON_ID,
                     "apiVersion", API_VERSION, "returnedSchemas", schemas(entity, schema),
                     "returnedGranularity", gran_name[granularity], "receivedRequestSummary",
                     "apiVersion", API_VERSION, "requestedSchemas", json_array(), "pagination",
                     "skip", (json_int_t)q->skip, "limit", (json_int_t)q->limit,
                     "requestedGranularity", gran_name[q->granularity], "filters", filters);
}

/* The most a tier may see. */
static int tier_granularity(int tier)
{
    return tier >= PM_TIER_PROJECT ? PM_GRAN_RECORD
           : tier >= PM_TIER_REGISTERED ? PM_GRAN_COUNT
                                        : PM_GRAN_BOOLEAN;
}

static int read_request(srv_req_t *r, pm_beacon_req_t *q)
{
    int rc = strcmp(r->method, "POST") == 0
                 ? pm_beacon_req_from_json(r->ctx, r->body, r->body_len, q)
                 : pm_beacon_req_from_query(r->ctx, r->q, q);
    if (rc < 0)
        srv_error(r, 400, "%s", pm_ctx_errmsg(r->ctx));
    return rc;
}

/* ---- informational ---- */

static json_t *info_results(void)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "id", BEACON_ID, "name",
                     "promise national precision-omics Beacon", "apiVersion", API_VERSION,
                     "environment", "prod", "description",
                     "Allele frequencies and cohort discovery over a national store; public "
                     "answers are boolean with rare-allele protection.",
                     "organization", "id", "se.promise", "name", "promise national node",
                     "welcomeUrl", "/");
}

int srv_beacon_info(srv_req_t *r)
{
    r->json = json_pack("{s:o,s:o}", "meta", info_meta(), "response", info_results());
    return r->json ? 0 : -1;
}

int srv_beacon_service_info(srv_req_t *r)
{
    r->json = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:s,s:{s:s,s:s},s:s,s:s}", "id", BEACON_ID,
                        "name", "promise Beacon", "type", "group", "org.ga4gh", "artifact",
                        "beacon", "version", API_VERSION, "description",
                        "GA4GH Beacon v2 over a promise store", "organization", "name",
                        "promise national node", "url", "https://example.org/promise",
                        "version", "0.1.0", "environment", "prod");
    return r->json ? 0 : -1;
}

static json_t *entry_types(void)
{
    return json_pack(
        "{s:{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:b},"
        "s:{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:b}}",
        "genomicVariation", "id", "genomicVariation", "name", "Genomic variation", "description",
        "An allele at a position of the reference, with its frequency in the store",
        "partOfSpecification", "Beacon v2.0.0", "ontologyTermForThisType", "id", "ENSGLOSSARY:0000092",
        "label", "Variant", "defaultSchema", "id", "ga4gh-beacon-variant-v2.0.0", "name",
        "Default schema for a genomic variation", "referenceToSchemaDefinition",
        "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/"
        "beacon-v2-default-model/genomicVariations/defaultSchema.json",
        "nonFilteredQueriesAllowed", 1, "individual", "id", "individual", "name", "Individual",
        "description", "A person of the national population", "partOfSpecification",
        "Beacon v2.0.0", "ontologyTermForThisType", "id", "NCIT:C25190", "label", "Person",
        "defaultSchema", "id", "ga4gh-beacon-individual-v2.0.0", "name",
        "Default schema for an individual", "referenceToSchemaDefinition",
        "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/"
        "beacon-v2-default-model/individuals/defaultSchema.json",
        "nonFilteredQueriesAllowed", 1);
}

int srv_beacon_configuration(srv_req_t *r)
{
    r->json = json_pack("{s:o,s:{s:s,s:{s:s},s:{s:s,s:[s,s,s]},s:o}}", "meta", info_meta(),
                        "response", "$schema", "beaconConfigurationSchema.json",
                        "maturityAttributes", "productionStatus", "DEV", "securityAttributes",
                        "defaultGranularity", "boolean", "securityLevels", "PUBLIC",
                        "REGISTERED", "CONTROLLED", "entryTypes", entry_types());
    return r->json ? 0 : -1;
}

int srv_beacon_map(srv_req_t *r)
{
    r->json = json_pack(
        "{s:o,s:{s:s,s:{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}}}", "meta", info_meta(), "response",
        "$schema", "beaconMapSchema.json", "endpointSets", "genomicVariation", "entryType",
        "genomicVariation", "rootUrl", "/api/beacon/v2/g_variants", "openAPIEndpointsDefinition",
        "/api/v1/openapi.json", "individual", "entryType", "individual", "rootUrl",
        "/api/beacon/v2/individuals", "openAPIEndpointsDefinition", "/api/v1/openapi.json");
    return r->json ? 0 : -1;
}

int srv_beacon_entry_types(srv_req_t *r)
{
    r->json = json_pack("{s:o,s:{s:o}}", "meta", info_meta(), "response", "entryTypes",
                        entry_types());
    return r->json ? 0 : -1;
}

/* Filters the individuals endpoint understands; any ICD-10 code works,
 * these are examples. */
static const struct {
    const char *id, *label;
} known_terms[] = {
    {"NCIT:C16576", "female"},
    {"NCIT:C20197", "male"},
    {"ICD10:E11", "Type 2 diabetes mellitus"},
    {"ICD10:I21", "Acute myocardial infarction"},
    {"ICD10:I10", "Essential (primary) hypertension"},
    {"ICD10:C50", "Malignant neoplasm of breast"},
    {"ICD10:J45", "Asthma"},
    {"ICD10:F32", "Depressive episode"},
};

int srv_beacon_filtering_terms(srv_req_t *r)
{
    json_t *terms = json_array();
    for (size_t i = 0; i < sizeof known_terms / sizeof *known_terms; i++)
        json_array_append_new(terms, json_pack("{s:s,s:s,s:s,s:[s]}", "type", "ontologyTerm",
                                               "id", known_terms[i].id, "label",
                                               known_terms[i].label, "scopes", "individual"));
    r->json = json_pack(
        "{s:o,s:{s:o,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]}}", "meta", info_meta(), "response",
        "filteringTerms", terms, "resources", "id", "ICD10", "name",
        "International Classification of Diseases, 10th revision", "url",
        "https://icd.who.int/browse10", "nameSpacePrefix", "ICD10", "id", "NCIT", "name",
        "NCI Thesaurus", "url", "https://ncit.nci.nih.gov", "nameSpacePrefix", "NCIT");
    return r->json ? 0 : -1;
}

/* ---- answers with a summary ---- */

/* Builds the response for granularity g: boolean, count, or a result set
 * holding results (stolen; NULL below record). */
static int summary_answer(srv_req_t *r, const pm_beacon_req_t *q, int g, int exists,
                          int64_t count, json_t *results, const char *entity,
                          const char *schema, const char *set_type)
{
    json_t *j = json_pack("{s:o,s:{s:b}}", "meta", response_meta(q, g, entity, schema),
                          "responseSummary", "exists", exists);
    if (!j) {
        json_decref(results);
        return -1;
    }
    if (g >= PM_GRAN_COUNT)
        json_object_set_new(json_object_get(j, "responseSummary"), "numTotalResults",
                            json_integer(count));
    if (g == PM_GRAN_RECORD)
        json_object_set_new(j, "response",
                            json_pack("{s:[{s:s,s:s,s:b,s:I,s:o}]}", "resultSets", "id",
                                      "promise", "setType", set_type, "exists", exists,
                                      "resultsCount", (json_int_t)count, "results",
                                      results ? results : json_array()));
    else
        json_decref(results);
    r->json = j;
    return 0;
}

/* ---- g_variants ---- */

typedef struct gv {
    srv_req_t *r;
    const pm_beacon_req_t *q;
    const pm_policy_t *pol;
    pm_bitset_t *carriers; /* below the project tier: carriers of the rows counted */
    int64_t n;             /* matching variants */
    int record;
    json_t *results;
} gv_t;

static int on_gv_row(void *ud, const srv_freq_row_t *row)
{
    gv_t *g = ud;
    if (g->q->alt[0] && (strcmp(row->ref, g->q->ref) != 0 || strcmp(row->alt, g->q->alt) != 0))
        return 0;
    if (row->ac <= 0)
        return 0;
    if (g->carriers) {
        /* below the project tier an allele with an AC under the tier's
         * threshold does not exist (pm_policy_freq_release); the rest
         * contribute their carriers to pm_policy_beacon_answer */
        pm_freq_cell_t f = pm_policy_freq_release(g->pol, row->ac, row->an);
        if (f.ac.state == PM_CELL_SMALL)
            return 0;
        int rc = pm_genotype_carriers(g->r->st, row->chrom, row->pos, row->ref, row->alt,
                                      g->carriers);
        if (rc < 0)
            return rc;
    }
    int64_t i = g->n++;
    if (!g->record || i < g->q->skip * g->q->limit ||
        (g->q->limit && i >= (g->q->skip + 1) * g->q->limit))
        return 0;
    char id[PM_HTTP_CONTIG_MAX + 2 * PM_HTTP_ALLELE_MAX + 32];
    snprintf(id, sizeof id, "%s-%lld-%s-%s", row->chrom, (long long)row->pos, row->ref, row->alt);
    int snv = strlen(row->ref) == 1 && strlen(row->alt) == 1;
    json_array_append_new(
        g->results,
        json_pack("{s:s,s:{s:s,s:s,s:s,s:{s:s,s:s,s:{s:s,s:{s:s,s:I},s:{s:s,s:I}}}},"
                  "s:[{s:s,s:[{s:s,s:I,s:I,s:f}]}]}",
                  "variantInternalId", id, "variation", "variantType", snv ? "SNP" : "INDEL",
                  "referenceBases", row->ref, "alternateBases", row->alt, "location", "type",
                  "SequenceLocation", "sequence_id", row->chrom, "interval", "type",
                  "SequenceInterval", "start", "type", "Number", "value",
                  (json_int_t)(row->pos - 1), "end", "type", "Number", "value",
                  (json_int_t)(row->pos - 1 + (int64_t)strlen(row->ref)),
                  "frequencyInPopulations", "source", "promise", "frequencies", "population",
                  "all", "alleleCount", (json_int_t)row->ac, "alleleNumber", (json_int_t)row->an,
                  "alleleFrequency", row->an ? (double)row->ac / (double)row->an : 0.0));
    return 0;
}

/* The question in its canonical spelling, the cache key of
 * pm_policy_beacon_answer: "g_variants:[BUILD:]CHR:POS:REF:ALT" for a
 * sequence query (POS 1-based), "g_variants:[BUILD:]CHR:BEG-END" for a
 * range (1-based, inclusive), then ":filters=COHORT" when filtered.
 * region is "CHR:BEG-END" with CHR normalised. */
static int gv_question(srv_req_t *r, const pm_beacon_req_t *q, const char *region,
                       const char *cohort, char *out, size_t cap)
{
    char build[32] = "";
    int rc = pm_store_setting(r->st, "reference_build", build, sizeof build);
    if (rc < 0)
        return rc;
    if (rc == 0 || strcmp(build, "unknown") == 0)
        build[0] = 0;
    char contig[PM_HTTP_CONTIG_MAX];
    const char *colon = strrchr(region, ':');
    snprintf(contig, sizeof contig, "%.*s", (int)(colon - region), region);
    int n;
    if (q->alt[0]) {
        char ref[PM_HTTP_ALLELE_MAX], alt[PM_HTTP_ALLELE_MAX];
        size_t i;
        for (i = 0; q->ref[i] && i + 1 < sizeof ref; i++)
            ref[i] = (char)(q->ref[i] >= 'a' && q->ref[i] <= 'z' ? q->ref[i] - 32 : q->ref[i]);
        ref[i] = 0;
        for (i = 0; q->alt[i] && i + 1 < sizeof alt; i++)
            alt[i] = (char)(q->alt[i] >= 'a' && q->alt[i] <= 'z' ? q->alt[i] - 32 : q->alt[i]);
        alt[i] = 0;
        n = snprintf(out, cap, "g_variants:%s%s%s:%lld:%s:%s", build, build[0] ? ":" : "",
                     contig, (long long)(q->start + 1), ref, alt);
    } else {
        n = snprintf(out, cap, "g_variants:%s%s%s", build, build[0] ? ":" : "", region);
    }
    if (n >= 0 && (size_t)n < cap && cohort[0])
        n += snprintf(out + n, cap - (size_t)n, ":filters=%s", cohort);
    if (n < 0 || (size_t)n >= cap)
        return pm_err(r->ctx, PM_EINPUT, "Beacon question too long");
    return 0;
}

int srv_beacon_g_variants(srv_req_t *r)
{
    pm_beacon_req_t q;
    if (read_request(r, &q) < 0)
        return 0;
    char region[PM_HTTP_CONTIG_MAX + 48], cohort[2048], contig[PM_HTTP_CONTIG_MAX];
    if (pm_beacon_variant_region(r->ctx, &q, region, sizeof region) < 0 ||
        pm_beacon_filters_cohort(r->ctx, &q, cohort, sizeof cohort) < 0)
        return srv_error(r, 400, "%s", pm_ctx_errmsg(r->ctx));
    if (pm_contig_normalise(q.reference_name, contig, sizeof contig) < 0)
        return srv_error(r, 400, "bad referenceName");
    snprintf(region, sizeof region, "%s:%s", contig, strchr(region, ':') + 1);
    int g = q.granularity < tier_granularity(r->tier) ? q.granularity : tier_granularity(r->tier);
    pm_policy_t pol;
    int rc = pm_policy_for_store(r->st, r->tier, &pol);
    if (rc == 0)
        rc = pm_policy_allows(r->ctx, &pol, PM_RELEASE_BEACON);
    if (rc < 0)
        return srv_fail(r, rc);
    int protect = r->tier < PM_TIER_PROJECT;
    char question[PM_POLICY_QUERY_MAX + 1];
    if (protect && (rc = gv_question(r, &q, region, cohort, question, sizeof question)) < 0)
        return srv_fail(r, rc);
    gv_t st = {.r = r, .q = &q, .pol = &pol, .record = g == PM_GRAN_RECORD,
               .results = json_array()};
    int64_t nind = pm_store_n_individuals(r->st);
    if (protect && (nind < 0 || !(st.carriers = pm_bitset_new((size_t)nind)))) {
        json_decref(st.results);
        return srv_fail(r, nind < 0 ? (int)nind : pm_err(r->ctx, PM_ENOMEM, "out of memory"));
    }
    rc = srv_freq_each(r, region, cohort[0] ? cohort : NULL, NULL, on_gv_row, &st);
    if ((rc < 0 && rc != PM_EINPUT) || (rc == PM_EINPUT && cohort[0])) {
        json_decref(st.results);
        pm_bitset_free(st.carriers);
        return srv_fail(r, rc);
    }
    /* An unknown contig is a region with no variants. */
    int exists = st.n > 0;
    if (protect) {
        /* carriers outside the filtered population do not count */
        pm_bitset_t *in = NULL;
        rc = 0;
        if (cohort[0] && st.n > 0 && (rc = pm_cohort_eval(r->st, cohort, &in)) == 0)
            pm_bitset_and(st.carriers, in);
        pm_bitset_free(in);
        int cached = 0;
        if (rc == 0)
            rc = pm_beacon_ledger_answer(r->ledger, r->st, &pol, r->who ? r->who->user : "-",
                                         question, st.carriers, &exists, &cached);
        pm_bitset_free(st.carriers);
        if (rc < 0) {
            json_decref(st.results);
            return srv_fail(r, rc);
        }
        if (!exists)
            st.n = 0;
    }
    return summary_answer(r, &q, g, exists, st.n, st.results, "genomicVariation",
                          "ga4gh-beacon-variant-v2.0.0", "dataset");
}

/* ---- individuals ---- */

/* Keeps in set only the individuals of the project's approved sources
 * (individual-level answers stay inside the grant); *n is the new size. */
static int restrict_to_project(srv_req_t *r, const char *project, pm_bitset_t *set, int64_t *n)
{
    /* the same scope as the CLI's: an unexpired grant, the approved
     * sources, and the consent purpose (an industry project does not see
     * those who opted out of commercial use) */
    pm_access_scope_t sc;
    int rc = pm_access_scope(r->st, r->who, project, &sc);
    if (rc < 0)
        return rc;
    if (!sc.has_project)
        return pm_err(r->ctx, PM_EACCES, "no grant for project '%.64s'", project);
    char expr[PM_ACCESS_LIST_MAX * 2 + 64];
    if ((rc = pm_access_project_cohort(r->ctx, &sc.project, expr, sizeof expr)) < 0)
        return rc;
    pm_cohort_opts_t co = {.purpose = sc.purpose[0] ? sc.purpose : NULL};
    pm_bitset_t *allowed = NULL;
    if ((rc = pm_cohort_eval_opts(r->st, expr, &co, &allowed)) < 0)
        return rc;
    pm_bitset_and(set, allowed);
    pm_bitset_free(allowed);
    *n = (int64_t)pm_bitset_count(set);
    return 0;
}

int srv_beacon_individuals(srv_req_t *r)
{
    pm_beacon_req_t q;
    if (read_request(r, &q) < 0)
        return 0;
    char cohort[2048];
    if (pm_beacon_filters_cohort(r->ctx, &q, cohort, sizeof cohort) < 0)
        return srv_error(r, 400, "%s", pm_ctx_errmsg(r->ctx));
    pm_bitset_t *set = NULL;
    int rc = pm_cohort_eval(r->st, cohort, &set);
    if (rc < 0)
        return srv_fail(r, rc);
    int64_t n = (int64_t)pm_bitset_count(set);
    r->n_individuals = n;
    int g = q.granularity < tier_granularity(r->tier) ? q.granularity : tier_granularity(r->tier);
    pm_policy_t pol;
    if ((rc = pm_policy_for_store(r->st, r->tier, &pol)) < 0) {
        pm_bitset_free(set);
        return srv_fail(r, rc);
    }
    pm_cell_t cell = pm_policy_release_count(&pol, n);
    int exists = cell.state == PM_CELL_EXACT ? cell.value > 0 : r->tier >= PM_TIER_REGISTERED;
    if (g == PM_GRAN_COUNT && cell.state != PM_CELL_EXACT)
        g = PM_GRAN_BOOLEAN; /* a count in 1..k-1 is not released */
    /* Records name people: under the project's own pseudonyms (two
     * projects cannot link their answers), or the store's for a steward
     * who names no project. */
    const char *project = pm_http_query_get(r->q, "project");
    if (g == PM_GRAN_RECORD && r->who) {
        if (project && !pm_principal_project(r->who, project)) {
            pm_bitset_free(set);
            return srv_error(r, 403, "no grant for project '%.64s'", project);
        }
        if (!project && r->who->n_projects == 1)
            project = r->who->projects[0].name;
        if (!project && r->tier < PM_TIER_STEWARD) {
            if (r->who->n_projects > 1) {
                pm_bitset_free(set);
                return srv_error(r, 400, "name the project the records are for (project=NAME)");
            }
            g = PM_GRAN_COUNT; /* no grant: no records */
        }
    }
    if (g == PM_GRAN_RECORD && project && (rc = restrict_to_project(r, project, set, &n)) < 0) {
        pm_bitset_free(set);
        return srv_fail(r, rc);
    }
    if (g == PM_GRAN_RECORD) {
        exists = n > 0;
        r->n_individuals = n;
    }
    json_t *results = NULL;
    if (g == PM_GRAN_RECORD) {
        pm_bitset_t *female = NULL, *male = NULL;
        if ((rc = pm_cohort_eval(r->st, "sex=F", &female)) < 0 ||
            (rc = pm_cohort_eval(r->st, "sex=M", &male)) < 0) {
            pm_bitset_free(female);
            pm_bitset_free(set);
            return srv_fail(r, rc);
        }
        results = json_array();
        int64_t limit = q.limit && q.limit < SRV_MAX_RECORDS ? q.limit : SRV_MAX_RECORDS;
        int64_t from = q.skip * limit, i = 0;
        for (size_t b = pm_bitset_next(set, 0); b < set->n && rc >= 0;
             b = pm_bitset_next(set, b + 1), i++) {
            if (i < from)
                continue;
            if (i >= from + limit)
                break;
            char pseudo[PM_PSEUDONYM_MAX], id[PM_ACCESS_NAME_MAX + PM_PSEUDONYM_MAX];
            if ((rc = pm_individual_pseudonym(r->st, (int64_t)b, pseudo)) <= 0)
                break;
            if (project)
                rc = pm_access_project_pseudonym(r->st, project, pseudo, id, sizeof id);
            else
                snprintf(id, sizeof id, "%s", pseudo);
            memset(pseudo, 0, sizeof pseudo);
            if (rc < 0)
                break;
            json_t *rec = json_pack("{s:s}", "id", id);
            if (pm_bitset_get(female, b) || pm_bitset_get(male, b)) {
                int f = pm_bitset_get(female, b);
                json_object_set_new(rec, "sex",
                                    json_pack("{s:s,s:s}", "id", f ? "NCIT:C16576" : "NCIT:C20197",
                                              "label", f ? "female" : "male"));
            }
            json_array_append_new(results, rec);
        }
        pm_bitset_free(female);
        pm_bitset_free(male);
        if (rc < 0) {
            json_decref(results);
            pm_bitset_free(set);
            return srv_fail(r, rc);
        }
        r->used = set; /* individual-level: recorded for art. 15 */
        set = NULL;
    }
    pm_bitset_free(set);
    return summary_answer(r, &q, g, exists, n, results, "individual",
                          "ga4gh-beacon-individual-v2.0.0", "individual");
}
