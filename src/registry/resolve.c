/*
 * resolve.c - from a row's identity column to the individual's dense
 * index, for the registry and consent ingests.
 *
 * A registry file has ~100 rows per person, so the individual table is
 * read once into a hash table (pseudonym -> idx, withdrawn) instead of one
 * catalog lookup per row: 500,000 people cost ~30 MB for the duration of
 * the ingest.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog.h"
#include "catalog/cat_registry.h"
#include "registry/registry_int.h"

struct pm_idmap {
    char *keys;       /* arena of NUL-terminated pseudonyms */
    size_t keys_len, keys_cap;
    size_t *slot_key; /* offset + 1 into keys; 0 = empty slot */
    int64_t *slot_idx;
    uint8_t *slot_wd;
    size_t nslots, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void idmap_free(pm_idmap_t *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->slot_key);
    free(m->slot_idx);
    free(m->slot_wd);
    free(m);
}

static int idmap_grow(pm_idmap_t *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1024;
    size_t *k = calloc(ns, sizeof *k);
    int64_t *ix = malloc(ns * sizeof *ix);
    uint8_t *wd = malloc(ns);
    if (!k || !ix || !wd) {
        free(k);
        free(ix);
        free(wd);
        return PM_ENOMEM;
    }
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->slot_key[i])
            continue;
        size_t j = hash_str(m->keys + m->slot_key[i] - 1) & (ns - 1);
        while (k[j])
            j = (j + 1) & (ns - 1);
        k[j] = m->slot_key[i];
        ix[j] = m->slot_idx[i];
        wd[j] = m->slot_wd[i];
    }
    free(m->slot_key);
    free(m->slot_idx);
    free(m->slot_wd);
    m->slot_key = k;
    m->slot_idx = ix;
    m->slot_wd = wd;
    m->nslots = ns;
    return 0;
}

static int idmap_add(void *ud, int64_t idx, const char *pseudo, int withdrawn)
{
    pm_idmap_t *m = ud;
    if ((m->n + 1) * 2 > m->nslots && idmap_grow(m) < 0)
        return PM_ENOMEM;
    size_t len = strlen(pseudo) + 1;
    if (m->keys_len + len > m->keys_cap) {
        size_t cap = m->keys_cap ? m->keys_cap * 2 : 65536;
        while (cap < m->keys_len + len)
            cap *= 2;
        char *p = realloc(m->keys, cap);
        if (!p)
            return PM_ENOMEM;
        m->keys = p;
        m->keys_cap = cap;
    }
    memcpy(m->keys + m->keys_len, pseudo, len);
    size_t j = hash_str(pseudo) & (m->nslots - 1);
    while (m->slot_key[j])
        j = (j + 1) & (m->nslots - 1);
    m->slot_key[j] = m->keys_len + 1;
    m->slot_idx[j] = idx;
    m->slot_wd[j] = (uint8_t)(withdrawn != 0);
    m->keys_len += len;
    m->n++;
    return 0;
}

static int idmap_find(const pm_idmap_t *m, const char *pseudo, int64_t *idx, int *wd)
{
    if (!m->nslots)
        return 0;
    size_t j = hash_str(pseudo) & (m->nslots - 1);
    while (m->slot_key[j]) {
        if (strcmp(m->keys + m->slot_key[j] - 1, pseudo) == 0) {
            *idx = m->slot_idx[j];
            *wd = m->slot_wd[j];
            return 1;
        }
        j = (j + 1) & (m->nslots - 1);
    }
    return 0;
}

int pm_registry_findcol(pm_tsv_t *t, const char *name)
{
    for (int i = 0; i < pm_tsv_ncols(t); i++)
        if (strcasecmp(pm_tsv_colname(t, i), name) == 0)
            return i;
    return -1;
}

int pm_registry_missing(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return 1;
    if (s[0] == 'N' && s[1] == 'A') {
        const char *p = s + 2;
        while (*p == ' ' || *p == '\t')
            p++;
        return *p == '\0';
    }
    return 0;
}

int pm_resolver_init(pm_resolver_t *r, pm_store_t *st, pm_tsv_t *t,
                     const pm_registry_opts_t *o, int *col)
{
    memset(r, 0, sizeof *r);
    int rc = o->id_column
                 ? pm_idcol_init_named(&r->ic, st, t, o->id_column, o->key, o->ref_date)
                 : pm_idcol_init(&r->ic, st, t, o->key, o->ref_date);
    if (rc < 0)
        return rc;
    *col = r->ic.col;
    r->map = calloc(1, sizeof *r->map);
    if (!r->map)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory");
    rc = pm_catreg_individuals_each(st, idmap_add, r->map);
    if (rc == PM_ENOMEM)
        return pm_err(pm_store_ctx(st), PM_ENOMEM, "out of memory reading individuals");
    return rc;
}

int pm_resolver_get(pm_resolver_t *r, int64_t *idx, int *withdrawn)
{
    char pseudo[PM_PSEUDONYM_MAX];
    int rc = pm_idcol_read(&r->ic, pseudo, NULL);
    if (rc < 0)
        return rc;
    int found = idmap_find(r->map, pseudo, idx, withdrawn);
    memset(pseudo, 0, sizeof pseudo);
    return found;
}

void pm_resolver_free(pm_resolver_t *r)
{
    pm_idcol_finish(&r->ic);
    idmap_free(r->map);
    r->map = NULL;
}
