/* store.c - creating, opening and locking a store (see promise/store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/cat_cohort.h"
#include "catalog/cat_genotype.h"
#include "catalog/catalog.h"
#include "core/fileio.h"

/* Data folders created in every store; each data type owns one. */
static const char *const store_dirs[] = {"gt", "omics", "events", "audit"};

static int is_empty_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

static int open_db(pm_store_t *st, const char *dir, int create)
{
    char path[PATH_MAX];
    if (pm_path(st->ctx, path, sizeof path, "%s/%s", dir, PM_STORE_CATALOG) < 0)
        return PM_ELIMIT;
    int flags = st->writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        int rc = pm_err(st->ctx, PM_EIO, "cannot open catalog '%s': %s", path,
                        st->db ? sqlite3_errmsg(st->db) : "out of memory");
        sqlite3_close(st->db);
        st->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(st->db, 60000);
    const char *pragmas = st->writable
                              ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA foreign_keys=ON;"
                              : "PRAGMA foreign_keys=ON;";
    char *err = NULL;
    if (sqlite3_exec(st->db, pragmas, NULL, NULL, &err) != SQLITE_OK) {
        int rc = pm_err(st->ctx, PM_EIO, "cannot set up catalog '%s': %s", path, err);
        sqlite3_free(err);
        return rc;
    }
    return 0;
}

void **pm_store_module_slot(pm_store_t *st, int which, void (*free_fn)(void *cache))
{
    st->slot_free[which] = free_fn;
    return &st->slot[which];
}

static void store_free(pm_store_t *st)
{
    if (!st)
        return;
    for (int i = 0; i < PM_SLOTS; i++)
        if (st->slot_free[i])
            st->slot_free[i](st->slot[i]);
    pm_catgt_free(st->gt_cache);
    pm_cat_demo_free(st->demo_cache);
    free(st->withdrawn);
    pm_catgt_segcache_free(st);
    pm_catalog_strv_free(st->meta, 2 * st->n_meta);
    sqlite3_finalize(st->dv_q); /* before the close, which fails with statements open */
    if (st->db)
        sqlite3_close(st->db);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    free(st->path);
    free(st);
}

int pm_store_init(pm_ctx_t *ctx, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && !(S_ISDIR(sb.st_mode) && is_empty_dir(path)))
        return pm_err(ctx, PM_EEXIST, "'%s' already exists", path);

    char tmp[PATH_MAX], sub[PATH_MAX];
    if (pm_path(ctx, tmp, sizeof tmp, "%s.init-%ld", path, (long)getpid()) < 0)
        return PM_ELIMIT;
    if (mkdir(tmp, 0750) < 0)
        return pm_err(ctx, PM_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    int rc = 0;
    for (size_t i = 0; i < sizeof store_dirs / sizeof *store_dirs && rc == 0; i++) {
        if ((rc = pm_path(ctx, sub, sizeof sub, "%s/%s", tmp, store_dirs[i])) < 0)
            break;
        if (mkdir(sub, 0750) < 0)
            rc = pm_err(ctx, PM_EIO, "cannot create '%s': %s", sub, strerror(errno));
    }
    pm_store_t *st = NULL;
    if (rc == 0) {
        st = calloc(1, sizeof *st);
        if (!st)
            rc = pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        st->ctx = ctx;
        st->lock_fd = -1;
        st->data_version = -1;
        st->writable = 1;
        st->path = strdup(path);
        rc = st->path ? open_db(st, tmp, 1) : pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    if (rc == 0)
        rc = pm_catalog_migrate(st);
    if (rc == 0)
        rc = pm_catalog_meta_set(st, "k", "5");
    if (rc == 0) {
        char *err = NULL;
        if (sqlite3_exec(st->db,
                         "INSERT INTO meta(key,value) VALUES('created',"
                         "strftime('%Y-%m-%dT%H:%M:%SZ','now'));"
                         "PRAGMA wal_checkpoint(TRUNCATE);",
                         NULL, NULL, &err) != SQLITE_OK) {
            rc = pm_err(ctx, PM_EIO, "cannot initialise catalog: %s", err);
            sqlite3_free(err);
        }
    }
    store_free(st);
    if (rc == 0 && (rc = pm_path(ctx, sub, sizeof sub, "%s/%s", tmp, PM_STORE_MARKER)) == 0) {
        char marker[64];
        int n = snprintf(marker, sizeof marker, "promise store, schema %d\n",
                         PM_STORE_SCHEMA_VERSION);
        rc = pm_write_atomic(ctx, sub, marker, (size_t)n, 0640);
    }
    if (rc == 0 && (rc = pm_fsync_dir(ctx, tmp)) == 0) {
        if (rename(tmp, path) < 0)
            rc = pm_err(ctx, errno == ENOTEMPTY || errno == EEXIST ? PM_EEXIST : PM_EIO,
                        "cannot create '%s': %s", path, strerror(errno));
        else
            rc = pm_fsync_parent(ctx, path);
    }
    if (rc < 0) {
        /* best effort: remove the half-built temporary store */
        char cmd[PATH_MAX];
        const char *names[] = {PM_STORE_CATALOG, PM_STORE_CATALOG "-wal", PM_STORE_CATALOG "-shm",
                               PM_STORE_MARKER};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (snprintf(cmd, sizeof cmd, "%s/%s", tmp, names[i]) < (int)sizeof cmd)
                unlink(cmd);
        for (size_t i = 0; i < sizeof store_dirs / sizeof *store_dirs; i++)
            if (snprintf(cmd, sizeof cmd, "%s/%s", tmp, store_dirs[i]) < (int)sizeof cmd)
                rmdir(cmd);
        rmdir(tmp);
    }
    return rc;
}

int pm_store_open(pm_ctx_t *ctx, const char *path, int flags, pm_store_t **out)
{
    *out = NULL;
    char marker[PATH_MAX];
    if (pm_path(ctx, marker, sizeof marker, "%s/%s", path, PM_STORE_MARKER) < 0)
        return PM_ELIMIT;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return pm_err(ctx, PM_ENOTFOUND, "cannot open store '%s': %s", path, strerror(errno));
    if (stat(marker, &sb) < 0)
        return pm_err(ctx, PM_EINPUT, "'%s' is not a promise store", path);

    pm_store_t *st = calloc(1, sizeof *st);
    if (!st)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    st->ctx = ctx;
    st->lock_fd = -1;
    st->data_version = -1;
    st->writable = (flags & PM_STORE_RDWR) != 0;
    st->path = strdup(path);
    if (!st->path) {
        store_free(st);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    int rc = 0;
    if (st->writable) {
        char lock[PATH_MAX];
        if ((rc = pm_path(ctx, lock, sizeof lock, "%s/%s", path, PM_STORE_LOCK)) == 0) {
            st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
            if (st->lock_fd < 0)
                rc = pm_err(ctx, PM_EIO, "cannot open '%s': %s", lock, strerror(errno));
            else if (flock(st->lock_fd, LOCK_EX) < 0)
                rc = pm_err(ctx, PM_EIO, "cannot lock store '%s': %s", path, strerror(errno));
        }
    }
    if (rc == 0)
        rc = open_db(st, path, 0);
    if (rc == 0)
        rc = pm_catalog_migrate(st);
    if (rc < 0) {
        store_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

void pm_store_close(pm_store_t *st)
{
    if (st && st->in_txn)
        pm_catalog_rollback(st);
    store_free(st);
}

pm_ctx_t *pm_store_ctx(pm_store_t *st) { return st->ctx; }

const char *pm_store_path(const pm_store_t *st) { return st->path; }

sqlite3 *pm_catalog_db(pm_store_t *st) { return st->db; }

int pm_catalog_sqlerr(pm_store_t *st, const char *what)
{
    return pm_err(st->ctx, PM_EIO, "catalog of '%s': %s: %s", st->path, what,
                  sqlite3_errmsg(st->db));
}

int pm_catalog_begin(pm_store_t *st)
{
    if (!st->writable)
        return pm_err(st->ctx, PM_EINTERNAL, "store '%s' is open read-only", st->path);
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "begin");
    st->in_txn = 1;
    return 0;
}

int pm_catalog_commit(pm_store_t *st)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = pm_catalog_sqlerr(st, "commit");
        pm_catalog_rollback(st);
        return rc;
    }
    st->in_txn = 0;
    return 0;
}

void pm_catalog_rollback(pm_store_t *st)
{
    if (sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_txn = 0;
    st->gen++; /* nothing read before the rollback is reused */
}

void pm_store_pin(pm_store_t *st, int on) { st->pinned = on ? 1 : 0; }

uint64_t pm_catalog_generation(pm_store_t *st)
{
    if (!st->db || sqlite3_get_autocommit(st->db) == 0) {
        st->gen++;
        return 0;
    }
    if (!st->dv_q && sqlite3_prepare_v3(st->db, "PRAGMA data_version", -1,
                                        SQLITE_PREPARE_PERSISTENT, &st->dv_q, NULL) != SQLITE_OK) {
        st->dv_q = NULL;
        return 0;
    }
    int64_t dv = -1;
    if (st->pinned == 2 && st->gen) {
        dv = st->data_version; /* pinned: read once for the whole request */
    } else {
        if (sqlite3_step(st->dv_q) == SQLITE_ROW)
            dv = sqlite3_column_int64(st->dv_q, 0);
        sqlite3_reset(st->dv_q);
        if (st->pinned && dv >= 0)
            st->pinned = 2;
    }
    if (dv < 0) {
        st->gen++;
        return 0;
    }
    int64_t tc = sqlite3_total_changes64(st->db);
    if (dv != st->data_version || tc != st->total_changes || st->gen == 0) {
        st->data_version = dv;
        st->total_changes = tc;
        st->gen++;
    }
    return st->gen;
}

/* Reads the whole meta table (a few dozen settings) into st->meta. */
static int meta_read(pm_store_t *st)
{
    pm_catalog_strv_free(st->meta, 2 * st->n_meta);
    st->meta = NULL;
    st->n_meta = 0;
    st->meta_gen = 0;
    sqlite3_stmt *q;
    int rc = pm_catalog_prepare(st, "SELECT key, value FROM meta", &q, "read settings");
    if (rc < 0)
        return rc;
    char **v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len + 2 > cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        for (int c = 0; c < 2 && rc == 0; c++) {
            const unsigned char *t = sqlite3_column_text(q, c);
            if ((v[len] = strdup(t ? (const char *)t : "")))
                len++;
            else
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, "read settings");
    sqlite3_finalize(q);
    if (rc < 0) {
        pm_catalog_strv_free(v, len);
        return rc;
    }
    st->meta = v;
    st->n_meta = len / 2;
    return 0;
}

/* Served from the cached table while the generation holds (policy
 * settings are read on every query); read directly inside transactions. */
int pm_catalog_meta_get(pm_store_t *st, const char *key, char *buf, size_t cap)
{
    uint64_t gen = pm_catalog_generation(st);
    if (gen && st->meta_gen != gen && meta_read(st) == 0)
        st->meta_gen = gen;
    if (gen && st->meta_gen == gen) {
        for (size_t i = 0; i < st->n_meta; i++)
            if (strcmp(st->meta[2 * i], key) == 0) {
                if (buf && cap)
                    snprintf(buf, cap, "%s", st->meta[2 * i + 1]);
                return 1;
            }
        return 0;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key=?1", -1, &q, NULL) !=
        SQLITE_OK)
        return pm_catalog_sqlerr(st, "read setting");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int found = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (buf && cap)
            snprintf(buf, cap, "%s", v ? v : "");
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = pm_catalog_sqlerr(st, "read setting");
    }
    sqlite3_finalize(q);
    return found;
}

int pm_catalog_meta_set(pm_store_t *st, const char *key, const char *value)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)", -1,
                           &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "write setting");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : pm_catalog_sqlerr(st, "write setting");
    sqlite3_finalize(q);
    return rc;
}

int pm_store_setting(pm_store_t *st, const char *key, char *buf, size_t cap)
{
    return pm_catalog_meta_get(st, key, buf, cap);
}

int64_t pm_store_n_individuals(pm_store_t *st)
{
    uint64_t gen = pm_catalog_generation(st);
    if (gen && st->n_ind_gen == gen)
        return st->n_ind;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM individual", -1, &q, NULL) != SQLITE_OK)
        return pm_catalog_sqlerr(st, "count individuals");
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                                              : pm_catalog_sqlerr(st, "count individuals");
    sqlite3_finalize(q);
    if (gen && n >= 0) {
        st->n_ind = n;
        st->n_ind_gen = gen;
    }
    return n;
}

int pm_catalog_prepare(pm_store_t *st, const char *sql, sqlite3_stmt **q, const char *what)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return pm_catalog_sqlerr(st, what);
    }
    return 0;
}

void pm_catalog_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int pm_catalog_strings(pm_store_t *st, const char *sql, const char *what, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    sqlite3_stmt *q;
    int rc = pm_catalog_prepare(st, sql, &q, what);
    if (rc < 0)
        return rc;
    char **v = NULL;
    size_t len = 0, cap = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        const unsigned char *t = sqlite3_column_text(q, 0);
        if (!(v[len] = strdup(t ? (const char *)t : ""))) {
            rc = pm_err(st->ctx, PM_ENOMEM, "out of memory");
            break;
        }
        len++;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = pm_catalog_sqlerr(st, what);
    sqlite3_finalize(q);
    if (rc < 0) {
        pm_catalog_strv_free(v, len);
        return rc;
    }
    *names = v;
    *n = len;
    return 0;
}

int pm_catalog_int64(pm_store_t *st, const char *sql, const char *what, int64_t *out)
{
    sqlite3_stmt *q;
    int rc = pm_catalog_prepare(st, sql, &q, what);
    if (rc < 0)
        return rc;
    if (sqlite3_step(q) == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else
        rc = pm_catalog_sqlerr(st, what);
    sqlite3_finalize(q);
    return rc;
}
