/* test_access.c - users, projects, grants, token hashing and
 * authentication (valid, invalid, expired, revoked, expired projects),
 * project pseudonyms, person lookup and withdrawal. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/cat_registry.h"
#include "catalog/catalog.h"
#include "catalog/individual.h"
#include "check.h"
#include "promise/access.h"
#include "promise/promise.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* Rows of the token table whose hash column equals or contains text. */
static int token_rows_with(pm_store_t *st, const char *text)
{
    sqlite3_stmt *q;
    int n = -1;
    if (sqlite3_prepare_v2(pm_catalog_db(st),
                           "SELECT count(*) FROM token WHERE hash=?1 OR instr(hash, ?1) > 0",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    return n;
}

static int count_users(void *ud, const pm_user_info_t *u)
{
    (void)u;
    ++*(int *)ud;
    return 0;
}

static void test_users_projects_grants(pm_store_t *st)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    CHECK(pm_access_user_add(st, "alice", PM_TIER_PROJECT) == 0);
    CHECK(pm_access_user_add(st, "bob", PM_TIER_REGISTERED) == 0);
    CHECK(pm_access_user_add(st, "carol.s-1", PM_TIER_STEWARD) == 0);
    CHECK(pm_access_user_add(st, "alice", PM_TIER_PUBLIC) == PM_EEXIST);
    CHECK(pm_access_user_add(st, "", PM_TIER_PUBLIC) == PM_EUSAGE);
    CHECK(pm_access_user_add(st, "a b", PM_TIER_PUBLIC) == PM_EUSAGE);
    CHECK(pm_access_user_add(st, "x'; DROP TABLE app_user; --", PM_TIER_PUBLIC) == PM_EUSAGE);
    CHECK(pm_access_user_add(st, "dave", 7) == PM_EUSAGE);
    int n = 0;
    CHECK(pm_access_user_each(st, count_users, &n) == 0);
    CHECK(n == 3);

    pm_project_spec_t p = {"cardio", "SCAPIS,GMS-Stockholm,SCAPIS", "genotypes,registry",
                           "DUO:0000006", 20991231};
    CHECK(pm_access_project_add(st, &p) == 0);
    pm_project_info_t info;
    CHECK(pm_access_project_get(st, "cardio", &info) == 1);
    CHECK_STR(info.sources, "SCAPIS,GMS-Stockholm"); /* duplicate dropped */
    CHECK_STR(info.data_types, "genotypes,registry");
    CHECK(info.expires == 20991231);
    CHECK(pm_access_project_get(st, "nope", &info) == 0);
    CHECK(pm_access_project_add(st, &p) == PM_EEXIST);
    pm_project_spec_t bad = p;
    bad.name = "b1";
    bad.purpose = "health";
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    bad.purpose = "DUO:000006";
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    bad.purpose = "DUO:0000006";
    bad.data_types = "genotypes,vcf";
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    bad.data_types = "genotypes,,omics";
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    bad.data_types = "omics";
    bad.sources = "";
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    bad.sources = "A";
    bad.expires = 20230230;
    CHECK(pm_access_project_add(st, &bad) == PM_EUSAGE);
    CHECK(strstr(pm_ctx_errmsg(ctx), "expiry") != NULL);
    CHECK(pm_duo_label("DUO:0000006") != NULL);
    CHECK(pm_duo_label("DUO:9999999") == NULL);

    pm_project_spec_t old = {"old", "SCAPIS", "registry", "DUO:0000042,DUO:0000018", 20200101};
    CHECK(pm_access_project_add(st, &old) == 0);
    pm_project_spec_t gen = {"gen", "SCAPIS", "genotypes", "DUO:0000042", 20991231};
    CHECK(pm_access_project_add(st, &gen) == 0);

    CHECK(pm_access_grant(st, "alice", "cardio") == 0);
    CHECK(pm_access_grant(st, "alice", "old") == 0);
    CHECK(pm_access_grant(st, "alice", "cardio") == PM_EEXIST);
    CHECK(pm_access_grant(st, "bob", "cardio") == PM_EUSAGE); /* registered tier */
    CHECK(pm_access_grant(st, "zed", "cardio") == PM_ENOTFOUND);
    CHECK(pm_access_grant(st, "alice", "zed") == PM_ENOTFOUND);
    CHECK(pm_access_grant(st, "carol.s-1", "gen") == 0);

    /* project pseudonyms: stable per project, different across projects */
    char a1[160], a2[160], b1[160];
    CHECK(pm_access_project_pseudonym(st, "cardio", "aaaaaa-x", a1, sizeof a1) == 0);
    CHECK(pm_access_project_pseudonym(st, "cardio", "aaaaaa-x", a2, sizeof a2) == 0);
    CHECK(pm_access_project_pseudonym(st, "gen", "aaaaaa-x", b1, sizeof b1) == 0);
    CHECK_STR(a1, a2);
    CHECK(strcmp(a1 + strlen("cardio:"), b1 + strlen("gen:")) != 0);
    CHECK(strncmp(a1, "cardio:", 7) == 0 && strlen(a1) == 7 + 26);
    CHECK(pm_access_project_pseudonym(st, "zed", "aaaaaa-x", b1, sizeof b1) == PM_ENOTFOUND);
}

static void test_tokens(pm_store_t *st)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    char tok[PM_TOKEN_MAX], tok2[PM_TOKEN_MAX], old[PM_TOKEN_MAX];
    int64_t id = 0, id2 = 0, idold = 0;
    CHECK(pm_access_token_new(st, "alice", 20991231, tok, &id) == 0);
    CHECK(pm_access_token_new(st, "carol.s-1", 20991231, tok2, &id2) == 0);
    CHECK(pm_access_token_new(st, "bob", 20200101, old, &idold) == 0);
    char none[PM_TOKEN_MAX];
    int64_t idnone = 0;
    CHECK(pm_access_token_new(st, "nobody", 20991231, none, &idnone) == PM_ENOTFOUND);
    CHECK(none[0] == '\0');
    CHECK(strncmp(tok, "pmt_", 4) == 0 && strlen(tok) == 68);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK(id > 0 && id2 == id + 1);
    /* never stored in clear, not even a part of it */
    CHECK(token_rows_with(st, tok) == 0);
    CHECK(token_rows_with(st, tok + 4) == 0);
    /* what is stored is hex(SHA-256(token)) */
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    crypto_hash_sha256(h, (const unsigned char *)tok, strlen(tok));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    CHECK(token_rows_with(st, hex) == 1);

    pm_principal_t p;
    CHECK(pm_access_authenticate(st, tok, &p) == 0);
    CHECK_STR(p.user, "alice");
    CHECK(p.tier == PM_TIER_PROJECT);
    CHECK(p.token_id == id);
    CHECK(p.n_projects == 1); /* "old" has expired */
    CHECK(pm_principal_project(&p, "cardio") != NULL);
    CHECK(pm_principal_project(&p, "old") == NULL);
    CHECK(pm_principal_project(&p, "gen") == NULL);
    /* on 2019-12-31 the old project still counts */
    CHECK(pm_access_authenticate_at(st, tok, 20191231, &p) == 0 && p.n_projects == 2);

    CHECK(pm_access_authenticate(st, tok2, &p) == 0);
    CHECK(p.tier == PM_TIER_STEWARD && p.n_projects == 1);

    /* invalid: one character changed, truncated, garbage, empty, NULL */
    char bad[PM_TOKEN_MAX];
    snprintf(bad, sizeof bad, "%s", tok);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    CHECK(pm_access_authenticate(st, bad, &p) == PM_EACCES);
    CHECK_STR(pm_ctx_errmsg(ctx), "invalid token");
    CHECK(p.user[0] == '\0' && p.tier == 0);
    bad[10] = tok[10];
    bad[67] = '\0';
    CHECK(pm_access_authenticate(st, bad, &p) == PM_EACCES);
    CHECK(pm_access_authenticate(st, "Bearer xyz", &p) == PM_EACCES);
    CHECK(pm_access_authenticate(st, "", &p) == PM_EACCES);
    CHECK(pm_access_authenticate(st, NULL, &p) == PM_EACCES);
    snprintf(bad, sizeof bad, "%s", tok);
    bad[20] = 'G';
    CHECK(pm_access_authenticate(st, bad, &p) == PM_EACCES);
    CHECK(strstr(pm_ctx_errmsg(ctx), tok + 4) == NULL);

    /* expired: valid through its date, refused the day after */
    CHECK(pm_access_authenticate(st, old, &p) == PM_EACCES);
    CHECK_STR(pm_ctx_errmsg(ctx), "token expired");
    CHECK(pm_access_authenticate_at(st, old, 20200101, &p) == 0);
    CHECK(pm_access_authenticate_at(st, old, 20200102, &p) == PM_EACCES);

    /* revoked: also on a second (read-only) handle that had resolved the
     * token before, as a server's handle keeps resolved tokens */
    pm_ctx_t *ctx2 = pm_ctx_new();
    pm_store_t *ro = NULL;
    CHECK(pm_store_open(ctx2, pm_store_path(st), PM_STORE_RDONLY, &ro) == 0);
    CHECK(ro && pm_access_authenticate(ro, tok, &p) == 0);
    CHECK(ro && pm_access_authenticate(ro, tok, &p) == 0 && strcmp(p.user, "alice") == 0);
    int changed = -1;
    CHECK(pm_access_token_revoke(st, id, &changed) == 0 && changed == 1);
    CHECK(ro && pm_access_authenticate(ro, tok, &p) == PM_EACCES);
    pm_store_close(ro);
    pm_ctx_free(ctx2);
    CHECK(pm_access_authenticate(st, tok, &p) == PM_EACCES);
    CHECK_STR(pm_ctx_errmsg(ctx), "token revoked");
    CHECK(pm_access_token_revoke(st, id, &changed) == 0 && changed == 0);
    CHECK(pm_access_token_revoke(st, 9999, &changed) == PM_ENOTFOUND);
    /* revoking one token leaves the others working */
    CHECK(pm_access_authenticate(st, tok2, &p) == 0);
}

static void test_person(pm_store_t *st)
{
    pm_ctx_t *ctx = pm_store_ctx(st);
    pm_key_t *key = NULL, *other = NULL;
    CHECK(pm_key_generate(ctx, tmp_path("a.key")) == 0);
    CHECK(pm_key_generate(ctx, tmp_path("b.key")) == 0);
    CHECK(pm_key_load(ctx, tmp_path("a.key"), &key) == 0);
    CHECK(pm_key_load(ctx, tmp_path("b.key"), &other) == 0);
    if (!key || !other)
        return;
    const char *pnr = "19800101-9820"; /* valid: Luhn digit 0 */
    pm_pnr_t parsed;
    CHECK(pm_pnr_parse(pnr, 0, &parsed) == PM_PNR_OK);
    char ps[PM_PSEUDONYM_MAX];
    pm_pseudonym(key, &parsed, ps);
    int64_t idx = -1;
    /* an unbound store holds nobody */
    CHECK(pm_access_person(st, key, pnr, &idx, NULL) == PM_ENOTFOUND);
    char fp[PM_FINGERPRINT_HEX + 1], tag[PM_KEY_TAG_LEN + 1];
    pm_key_fingerprint(key, fp);
    pm_key_tag(key, tag);
    CHECK(pm_catalog_meta_set(st, "key_fingerprint", fp) == 0);
    CHECK(pm_catalog_meta_set(st, "key_tag", tag) == 0);
    CHECK(pm_catreg_test_add_individual(st, "aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa", 'M', NULL) == 0);
    CHECK(pm_catreg_test_add_individual(st, ps, 'F', NULL) == 0);
    CHECK(pm_access_person(st, other, pnr, &idx, NULL) == PM_EACCES);
    CHECK(pm_access_person(st, key, "19800101-9821", &idx, NULL) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "9821") == NULL);
    CHECK(pm_access_person(st, key, "19850615-9915", &idx, NULL) == PM_ENOTFOUND);
    char got[PM_PSEUDONYM_MAX] = "";
    CHECK(pm_access_person(st, key, "800101-9820", &idx, got) == 0);
    CHECK(idx == 1);
    CHECK_STR(got, ps);

    int changed = -1;
    CHECK(pm_access_withdraw(st, idx, &changed) == 0 && changed == 1);
    pm_individual_row_t row;
    int64_t i2;
    CHECK(pm_individual_find(st, ps, &i2, &row) == 1 && row.withdrawn == 1);
    CHECK(pm_access_withdraw(st, idx, &changed) == 0 && changed == 0);
    CHECK(pm_access_withdraw(st, 42, &changed) == PM_ENOTFOUND);
    CHECK(pm_individual_find(st, "aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa", &i2, &row) == 1 &&
          row.withdrawn == 0);
    pm_key_free(key);
    pm_key_free(other);
}

/* pm_access_scope: who may work in which project, with what consent */
static void test_scope(pm_store_t *st)
{
    pm_access_scope_t sc;
    pm_principal_t alice, bob, carol;
    CHECK(pm_access_principal(st, "alice", &alice) == 0);
    CHECK(alice.tier == PM_TIER_PROJECT && alice.n_projects == 1); /* "old" expired */
    CHECK(pm_access_principal(st, "bob", &bob) == 0);
    CHECK(pm_access_principal(st, "carol.s-1", &carol) == 0);
    CHECK(pm_access_principal(st, "zed", &bob) == PM_ENOTFOUND);
    CHECK(pm_access_principal(st, "bob", &bob) == 0);
    /* the local steward: no project, or any existing one */
    CHECK(pm_access_scope(st, NULL, NULL, &sc) == 0);
    CHECK(sc.tier == PM_TIER_STEWARD && !sc.has_project && sc.purpose[0] == 0);
    CHECK(pm_access_scope(st, NULL, "gen", &sc) == 0);
    CHECK(sc.has_project && strcmp(sc.project.name, "gen") == 0);
    CHECK_STR(sc.purpose, "commercial"); /* DUO:0000042 only: not non-profit */
    CHECK(pm_access_scope(st, NULL, "nope", &sc) == PM_ENOTFOUND);
    CHECK(pm_access_scope(st, NULL, "old", &sc) == PM_EACCES); /* expired */
    /* a project user: their one grant by default, nothing else */
    CHECK(pm_access_scope(st, &alice, NULL, &sc) == 0);
    CHECK(sc.tier == PM_TIER_PROJECT && sc.has_project && !strcmp(sc.project.name, "cardio"));
    CHECK(pm_access_scope(st, &alice, "gen", &sc) == PM_EACCES);
    CHECK(pm_access_scope(st, &alice, "old", &sc) == PM_EACCES);
    /* registered: no project at all */
    CHECK(pm_access_scope(st, &bob, NULL, &sc) == 0 && sc.tier == PM_TIER_REGISTERED);
    CHECK(pm_access_scope(st, &bob, "cardio", &sc) == PM_EACCES);
    /* a steward user may name any project */
    CHECK(pm_access_scope(st, &carol, "cardio", &sc) == 0 && sc.tier == PM_TIER_STEWARD);
    /* sources as a cohort, data types */
    char buf[128];
    CHECK(pm_access_project_cohort(pm_store_ctx(st), &sc.project, buf, sizeof buf) == 0);
    CHECK_STR(buf, "source:SCAPIS or source:GMS-Stockholm");
    CHECK(pm_access_project_cohort(pm_store_ctx(st), &sc.project, buf, 10) == PM_ELIMIT);
    CHECK(pm_access_project_allows(pm_store_ctx(st), &sc.project, "registry") == 0);
    CHECK(pm_access_project_allows(pm_store_ctx(st), &sc.project, "omics") == PM_EACCES);
    CHECK(pm_access_project_allows(pm_store_ctx(st), &sc.project, "geno") == PM_EACCES);
    /* a not-for-profit project honours research opt-outs only */
    pm_project_spec_t np = {"np", "SCAPIS", "genotypes", "DUO:0000006,DUO:0000018", 20991231};
    CHECK(pm_access_project_add(st, &np) == 0);
    CHECK(pm_access_scope(st, NULL, "np", &sc) == 0);
    CHECK_STR(sc.purpose, "research");
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pm_access_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    pm_ctx_t *ctx = pm_ctx_new();
    pm_store_t *st = NULL;
    CHECK(pm_store_init(ctx, tmp_path("s")) == 0);
    CHECK(pm_store_open(ctx, tmp_path("s"), PM_STORE_RDWR, &st) == 0);
    if (st) {
        test_users_projects_grants(st);
        test_tokens(st);
        test_scope(st);
        test_person(st);
        pm_store_close(st);
        /* a read-only handle authenticates too */
        pm_store_t *ro = NULL;
        CHECK(pm_store_open(ctx, tmp_path("s"), PM_STORE_RDONLY, &ro) == 0);
        pm_principal_t p;
        CHECK(ro && pm_access_authenticate(ro, "pmt_0", &p) == PM_EACCES);
        pm_store_close(ro);
    }
    pm_ctx_free(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return check_summary("test_access");
}
