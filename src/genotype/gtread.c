/*
 * gtread.c - the genotype segment reader (see gtstore.h for the API and
 * docs/internals/genotype.md for the layout).
 *
 * Blocks are read whole with pread into a buffer and their checksum is
 * verified before anything in them is trusted. pm_gtr_next parses only the
 * site section; a record's genotype data is parsed on the first count,
 * carriers or decode call for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/cat_genotype.h"
#include "catalog/catalog.h"
#include "core/fileio.h"
#include "genotype/gtcodec.h"
#include "genotype/gtformat.h"
#include "genotype/gtstore.h"

typedef struct gt_ientry {
    int64_t first_pos, last_pos;
    uint64_t offset;
    uint32_t payload_len, crc, n_records, n_variants;
    uint64_t first_record;
} gt_ientry_t;

typedef struct gt_split {
    uint32_t ref_d;       /* 0: plain sets; d: XOR with split ord - d */
    uint32_t kh;          /* hets of this split (LD coded: only when phased) */
    gt_set_t het, hom;    /* the sets, or their XOR with the reference */
    const uint8_t *phase; /* kh bits when the record is phased */
} gt_split_t;

typedef struct gt_parsed {
    int P, pmode, hkind, hform;
    size_t h_rec_off; /* gt offset of the record holding the explicit H set */
    gt_set_t miss, exc;
    const uint8_t *excv, *excv_end;
} gt_parsed_t;

/* A reader maps its file and checks a block's checksum when it first
 * reads it, and again when it reads it GT_RECHECK_S seconds or more
 * later: a reader kept open by pm_gtr_put serves point queries all over
 * its segment without copying or checksumming a block each time. Without
 * a mapping (mmap failed) blocks are read into buf and always checked. */
#define GT_RECHECK_S 60

struct pm_gtr {
    pm_ctx_t *ctx;
    char *path;
    int fd;
    const uint8_t *map; /* the whole file, or NULL */
    uint32_t *checked;  /* per block: monotonic second of the last check + 1, 0 never */
    const uint8_t *bp;  /* the current block (header first): in map or buf */
    uint64_t fsize;
    uint32_t n;
    size_t nw;
    char *chrom;
    uint32_t n_blocks;
    gt_ientry_t *idx;

    int64_t beg, end;
    int at_end;
    uint32_t next_blk;

    /* the loaded block */
    long blk;
    uint8_t *buf;
    size_t cap;
    uint32_t b_nrec, b_i;
    const uint8_t *site_p, *site_end, *gt_base;
    size_t gt_len, gt_off;
    int64_t b_pos;
    int b_active; /* iterating the loaded block */

    /* the current record */
    int have_rec;
    int64_t pos;
    uint64_t index;
    size_t rgt_off, rgt_len;
    int n_alt;
    char *str;
    size_t str_cap;
    const char **alts;
    size_t alts_cap;
    int parsed;
    gt_parsed_t pr;
    gt_split_t *sp;
    size_t sp_cap;

    /* per-record offsets of the loaded block, for LD references */
    size_t *rec_off;     /* gt offset of record i; [b_i] = end of the last parsed */
    uint32_t *rec_split; /* first split ordinal of record i */
    size_t rec_cap;
    uint32_t cur_split0;
    /* materialised splits: GT_RING slots of het and hom bitmaps */
    uint64_t *ring;
    int64_t ring_ord[GT_RING];
    long ring_blk;
    gt_split_t *sp2;
    int64_t *chain_ord;
    gt_split_t *chain_sp;
    size_t chain_cap;

    /* caches and scratch */
    uint64_t *allmask;
    uint64_t *hbits;
    long h_blk;
    size_t h_off;
    uint32_t *s1;
    const uint64_t *mask_ptr; /* pm_gtr_set_mask() */
    int64_t mask_M;
    const int16_t *st_ptr;
    int st_n;
    uint64_t *st_masks;
    int64_t *st_M;
    int64_t *acc; /* 6 * n_strata */
    size_t acc_cap;
    uint64_t *spbits; /* pm_gtr_decode_sparse: columns listed */
    uint32_t *slot;   /* pm_gtr_decode_sparse: column -> list index */
};

/* ---- popcount kernels (dispatched at load time) ---- */

#if defined(__x86_64__) && !defined(PM_NO_CLONES)
#define GT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define GT_CLONES
#endif

GT_CLONES static int64_t pc_and(const uint8_t *a, const uint64_t *m, size_t nw)
{
    int64_t c = 0;
    for (size_t w = 0; w < nw; w++)
        c += __builtin_popcountll(gt_load64(a + 8 * w) & m[w]);
    return c;
}

GT_CLONES static int64_t pc_and3(const uint8_t *a, const uint64_t *b, const uint64_t *m, size_t nw)
{
    int64_t c = 0;
    for (size_t w = 0; w < nw; w++)
        c += __builtin_popcountll(gt_load64(a + 8 * w) & b[w] & m[w]);
    return c;
}

GT_CLONES static int64_t pc_words(const uint64_t *a, const uint64_t *m, size_t nw)
{
    int64_t c = 0;
    for (size_t w = 0; w < nw; w++)
        c += __builtin_popcountll(a[w] & m[w]);
    return c;
}

/* ---- errors ---- */

static int corrupt(pm_gtr_t *r, const char *what)
{
    if (r->blk >= 0)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': block %ld: %s", r->path, r->blk, what);
    return pm_err(r->ctx, PM_ECORRUPT, "'%s': %s", r->path, what);
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int pread_full(pm_gtr_t *r, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t g = pread(r->fd, p, len, (off_t)off);
        if (g < 0) {
            if (errno == EINTR)
                continue;
            return pm_err(r->ctx, PM_EIO, "cannot read '%s': %s", r->path, strerror(errno));
        }
        if (g == 0)
            return pm_err(r->ctx, PM_ECORRUPT, "'%s': truncated", r->path);
        p += g;
        len -= (size_t)g;
        off += (uint64_t)g;
    }
    return 0;
}

/* ---- open / close ---- */

static int open_index(pm_gtr_t *r)
{
    uint8_t hdr[GT_HEADER_FIXED];
    if (r->fsize < GT_HEADER_FIXED + GT_TRAILER)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': truncated genotype segment", r->path);
    int rc = pread_full(r, hdr, sizeof hdr, 0);
    if (rc < 0)
        return rc;
    if (memcmp(hdr, GT_MAGIC, 7) != 0)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': not a genotype segment", r->path);
    if (memcmp(hdr, GT_MAGIC, 8) != 0 || rd32(hdr + 8) != GT_VERSION)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': unsupported genotype segment version", r->path);
    r->n = rd32(hdr + 12);
    uint32_t cl = rd32(hdr + 16);
    if (cl == 0 || cl > GT_MAX_CHROM || r->n > (UINT32_MAX >> 4))
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': bad header", r->path);
    uint64_t data_start = (GT_HEADER_FIXED + cl + 7) & ~(uint64_t)7;
    if (data_start + GT_TRAILER > r->fsize)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': truncated genotype segment", r->path);
    r->chrom = malloc(cl + 1);
    if (!r->chrom)
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    if ((rc = pread_full(r, r->chrom, cl, GT_HEADER_FIXED)) < 0)
        return rc;
    r->chrom[cl] = '\0';
    uint32_t crc = pm_gt_crc32c(pm_gt_crc32c(0, hdr, 20), r->chrom, cl);
    if (crc != rd32(hdr + 20))
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': header checksum mismatch", r->path);

    uint8_t tr[GT_TRAILER];
    if ((rc = pread_full(r, tr, sizeof tr, r->fsize - GT_TRAILER)) < 0)
        return rc;
    if (memcmp(tr + 24, GT_TRAILER_MAGIC, 8) != 0)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': truncated or unfinished genotype segment (no trailer)", r->path);
    if (pm_gt_crc32c(0, tr, 20) != rd32(tr + 20))
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': trailer checksum mismatch", r->path);
    uint64_t ioff = rd64(tr), ilen = rd64(tr + 8);
    if (ilen < 8 || ioff < data_start || ioff > r->fsize || ilen != r->fsize - GT_TRAILER - ioff)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': bad index location", r->path);
    if (ilen > ((uint64_t)1 << 34))
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': index too large", r->path);
    uint8_t *ib = malloc(ilen);
    if (!ib)
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    if ((rc = pread_full(r, ib, ilen, ioff)) < 0) {
        free(ib);
        return rc;
    }
    if (pm_gt_crc32c(0, ib, ilen) != rd32(tr + 16)) {
        free(ib);
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': index checksum mismatch", r->path);
    }
    uint32_t nb = rd32(ib);
    if ((uint64_t)nb * GT_INDEX_ENTRY + 8 != ilen) {
        free(ib);
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': bad index size", r->path);
    }
    r->idx = calloc(nb ? nb : 1, sizeof *r->idx);
    if (!r->idx) {
        free(ib);
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    }
    r->n_blocks = nb;
    uint64_t expect_off = data_start, expect_rec = 0;
    int64_t prev_last = INT64_MIN;
    for (uint32_t b = 0; b < nb; b++) {
        const uint8_t *p = ib + 8 + (size_t)b * GT_INDEX_ENTRY;
        gt_ientry_t *e = &r->idx[b];
        e->first_pos = (int64_t)rd64(p);
        e->last_pos = (int64_t)rd64(p + 8);
        e->offset = rd64(p + 16);
        e->payload_len = rd32(p + 24);
        e->crc = rd32(p + 28);
        e->n_records = rd32(p + 32);
        e->n_variants = rd32(p + 36);
        e->first_record = rd64(p + 40);
        uint64_t end = e->offset + GT_BLOCK_HEADER + e->payload_len;
        if (e->offset != expect_off || e->payload_len < GT_PAYLOAD_HEADER || e->payload_len > GT_MAX_PAYLOAD ||
            end > ioff || e->first_pos > e->last_pos || e->first_pos < prev_last || e->n_records == 0 ||
            e->first_record != expect_rec) {
            free(ib);
            return pm_err(r->ctx, PM_ECORRUPT, "'%s': index entry %u is inconsistent", r->path, b);
        }
        expect_off = (end + 7) & ~(uint64_t)7;
        expect_rec += e->n_records;
        prev_last = e->last_pos;
    }
    free(ib);
    if (expect_off != ioff)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': index does not cover the file", r->path);
    return 0;
}

int pm_gtr_open(pm_ctx_t *ctx, const char *path, pm_gtr_t **out)
{
    *out = NULL;
    pm_gtr_t *r = calloc(1, sizeof *r);
    if (!r)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    r->ctx = ctx;
    r->fd = -1;
    r->blk = -1;
    r->h_blk = -1;
    r->beg = -1;
    r->end = -1;
    r->path = strdup(path);
    if (!r->path) {
        pm_gtr_close(r);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        int rc = pm_err(ctx, errno == ENOENT ? PM_ENOTFOUND : PM_EIO, "cannot open '%s': %s", path,
                        strerror(errno));
        pm_gtr_close(r);
        return rc;
    }
    struct stat st;
    if (fstat(r->fd, &st) < 0) {
        int rc = pm_err(ctx, PM_EIO, "cannot stat '%s': %s", path, strerror(errno));
        pm_gtr_close(r);
        return rc;
    }
    r->fsize = (uint64_t)st.st_size;
    int rc = open_index(r);
    if (rc < 0) {
        pm_gtr_close(r);
        return rc;
    }
    if (!(r->checked = calloc(r->n_blocks ? r->n_blocks : 1, sizeof *r->checked))) {
        pm_gtr_close(r);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    void *m = mmap(NULL, (size_t)r->fsize, PROT_READ, MAP_SHARED, r->fd, 0);
    r->map = m == MAP_FAILED ? NULL : m; /* else blocks are read with pread */
    size_t n1 = r->n ? r->n : 1;
    r->nw = (r->n + 63) / 64;
    size_t nw1 = r->nw ? r->nw : 1;
    r->allmask = malloc(nw1 * 8);
    r->hbits = calloc(nw1, 8);
    r->s1 = malloc(2 * n1 * sizeof *r->s1); /* het then hom lists in decode */
    r->ring = malloc(GT_RING * 2 * nw1 * 8);
    r->sp2 = malloc(GT_MAX_ALT * sizeof *r->sp2);
    r->ring_blk = -1;
    if (!r->allmask || !r->hbits || !r->s1 || !r->ring || !r->sp2) {
        pm_gtr_close(r);
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    }
    memset(r->allmask, 0xff, nw1 * 8);
    if (r->n & 63)
        r->allmask[r->nw - 1] = ((uint64_t)1 << (r->n & 63)) - 1;
    if (r->n == 0)
        r->allmask[0] = 0;
    *out = r;
    return 0;
}

void pm_gtr_close(pm_gtr_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->chrom);
    free(r->idx);
    free(r->buf);
    if (r->map)
        munmap((void *)r->map, r->fsize);
    free(r->checked);
    free(r->str);
    free(r->alts);
    free(r->sp);
    free(r->allmask);
    free(r->hbits);
    free(r->s1);
    free(r->ring);
    free(r->sp2);
    free(r->rec_off);
    free(r->rec_split);
    free(r->chain_ord);
    free(r->chain_sp);
    free(r->st_masks);
    free(r->st_M);
    free(r->acc);
    free(r->spbits);
    free(r->slot);
    free(r);
}

/* ---- readers kept open per store handle ---- */

#define GTR_CACHE_SLOTS 16
#define GTR_CACHE_BYTES ((size_t)96 << 20)

typedef struct gtr_cache {
    struct {
        pm_gtr_t *r;
        char *file;
        uint64_t tick;
    } slot[GTR_CACHE_SLOTS];
    uint64_t gen, tick;
} gtr_cache_t;

/* What a reader holds in memory (its buffers), for the cache's bound. */
static size_t gtr_bytes(const pm_gtr_t *r)
{
    size_t nw1 = r->nw ? r->nw : 1;
    return r->cap + (size_t)r->n_blocks * sizeof *r->checked + (size_t)r->n_blocks * sizeof *r->idx + (2 + 2 * GT_RING) * nw1 * 8 +
           2 * (size_t)r->n * sizeof *r->s1 + r->str_cap + r->rec_cap * 12;
}

static void gtr_cache_clear(gtr_cache_t *c)
{
    for (int i = 0; i < GTR_CACHE_SLOTS; i++) {
        pm_gtr_close(c->slot[i].r);
        free(c->slot[i].file);
        c->slot[i].r = NULL;
        c->slot[i].file = NULL;
    }
}

static void gtr_cache_free(void *p)
{
    if (p) {
        gtr_cache_clear(p);
        free(p);
    }
}

int pm_gtr_get(struct pm_store *st, const char *file, pm_gtr_t **out)
{
    *out = NULL;
    void **slot = pm_store_module_slot(st, PM_SLOT_GTR, gtr_cache_free);
    gtr_cache_t *c = *slot;
    uint64_t gen = pm_catalog_generation(st);
    if (c && c->gen != gen)
        gtr_cache_clear(c);
    if (c) {
        c->gen = gen;
        for (int i = 0; i < GTR_CACHE_SLOTS; i++)
            if (c->slot[i].r && strcmp(c->slot[i].file, file) == 0) {
                *out = c->slot[i].r;
                c->slot[i].r = NULL;
                free(c->slot[i].file);
                c->slot[i].file = NULL;
                return 0;
            }
    }
    char path[PATH_MAX];
    int rc = pm_path(st->ctx, path, sizeof path, "%s/gt/%s", st->path, file);
    return rc < 0 ? rc : pm_gtr_open(st->ctx, path, out);
}

void pm_gtr_put(struct pm_store *st, pm_gtr_t *r)
{
    if (!r)
        return;
    void **slot = pm_store_module_slot(st, PM_SLOT_GTR, gtr_cache_free);
    gtr_cache_t *c = *slot;
    uint64_t gen = pm_catalog_generation(st);
    if (!c && gen && (c = calloc(1, sizeof *c)) != NULL) {
        c->gen = gen;
        *slot = c;
    }
    const char *base = strrchr(r->path, '/');
    char *file = base ? strdup(base + 1) : NULL;
    if (!c || !gen || c->gen != gen || !file) {
        free(file);
        pm_gtr_close(r); /* inside a transaction, or the catalog moved on */
        return;
    }
    /* the query's borrowed state goes; the reader and its loaded block stay */
    r->mask_ptr = NULL;
    r->mask_M = 0;
    r->st_ptr = NULL;
    r->st_n = 0;
    r->beg = r->end = -1;
    r->have_rec = 0;
    r->b_active = 0;
    r->next_blk = 0;
    r->at_end = 0;
    /* a free slot, else the least recently used; then keep within bytes */
    int free_i = -1;
    for (int i = 0; i < GTR_CACHE_SLOTS; i++)
        if (!c->slot[i].r && (free_i < 0))
            free_i = i;
    if (free_i < 0) {
        free_i = 0;
        for (int i = 1; i < GTR_CACHE_SLOTS; i++)
            if (c->slot[i].tick < c->slot[free_i].tick)
                free_i = i;
        pm_gtr_close(c->slot[free_i].r);
        free(c->slot[free_i].file);
    }
    c->slot[free_i].r = r;
    c->slot[free_i].file = file;
    c->slot[free_i].tick = ++c->tick;
    size_t total = 0;
    for (int i = 0; i < GTR_CACHE_SLOTS; i++)
        if (c->slot[i].r)
            total += gtr_bytes(c->slot[i].r);
    while (total > GTR_CACHE_BYTES) {
        int old = -1;
        for (int i = 0; i < GTR_CACHE_SLOTS; i++)
            if (c->slot[i].r && i != free_i && (old < 0 || c->slot[i].tick < c->slot[old].tick))
                old = i;
        if (old < 0)
            old = free_i; /* this one alone is too big to keep */
        total -= gtr_bytes(c->slot[old].r);
        pm_gtr_close(c->slot[old].r);
        free(c->slot[old].file);
        c->slot[old].r = NULL;
        c->slot[old].file = NULL;
        if (old == free_i)
            break;
    }
}

uint32_t pm_gtr_n_samples(const pm_gtr_t *r) { return r->n; }
const char *pm_gtr_chrom(const pm_gtr_t *r) { return r->chrom; }

uint64_t pm_gtr_n_records(const pm_gtr_t *r)
{
    return r->n_blocks ? r->idx[r->n_blocks - 1].first_record + r->idx[r->n_blocks - 1].n_records : 0;
}

/* ---- blocks and sites ---- */

static uint32_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

/* Checks block b's header, checksum (see GT_RECHECK_S) and payload header
 * at r->bp against the index. */
static int check_block(pm_gtr_t *r, uint32_t b)
{
    const gt_ientry_t *e = &r->idx[b];
    const uint8_t *h = r->bp;
    if (rd32(h) != GT_BLOCK_MAGIC || rd32(h + 4) != e->payload_len || rd32(h + 12) != e->n_records)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': block %u: bad block header", r->path, b);
    const uint8_t *pl = h + GT_BLOCK_HEADER;
    uint32_t now = r->map ? now_s() : 0;
    if (!r->map || !r->checked[b] || now - (r->checked[b] - 1) >= GT_RECHECK_S) {
        if (rd32(h + 8) != e->crc || pm_gt_crc32c(0, pl, e->payload_len) != e->crc)
            return pm_err(r->ctx, PM_ECORRUPT, "'%s': block %u: checksum mismatch", r->path, b);
        if (r->map)
            r->checked[b] = now + 1;
    }
    uint32_t site_len = rd32(pl + 16);
    if (rd32(pl) != e->n_records || rd32(pl + 4) != e->n_variants ||
        (int64_t)rd64(pl + 8) != e->first_pos || site_len > e->payload_len - GT_PAYLOAD_HEADER)
        return pm_err(r->ctx, PM_ECORRUPT, "'%s': block %u: header disagrees with the index", r->path, b);
    return 0;
}

static int load_block(pm_gtr_t *r, uint32_t b)
{
    const gt_ientry_t *e = &r->idx[b];
    if (r->blk != (long)b) {
        r->blk = -1;
        r->b_active = 0;
        if (r->map) {
            /* open_index checked that the block, and PM_GT_PAD bytes of
             * index and trailer after it, lie inside the file */
            r->bp = r->map + e->offset;
        } else {
            size_t need = GT_BLOCK_HEADER + (size_t)e->payload_len + PM_GT_PAD;
            if (need > r->cap) {
                uint8_t *p = realloc(r->buf, need);
                if (!p)
                    return pm_err(r->ctx, PM_ENOMEM, "out of memory");
                r->buf = p;
                r->cap = need;
            }
            int rc = pread_full(r, r->buf, GT_BLOCK_HEADER + (size_t)e->payload_len, e->offset);
            if (rc < 0)
                return rc;
            memset(r->buf + GT_BLOCK_HEADER + e->payload_len, 0, PM_GT_PAD);
            r->bp = r->buf;
        }
        r->blk = (long)b; /* for the messages */
        int rc = check_block(r, b);
        if (rc < 0) {
            r->blk = -1;
            return rc;
        }
    }
    if ((size_t)e->n_records + 1 > r->rec_cap) {
        size_t c = (size_t)e->n_records + 1;
        size_t *o = realloc(r->rec_off, c * sizeof *o);
        if (o)
            r->rec_off = o;
        uint32_t *sp = realloc(r->rec_split, c * sizeof *sp);
        if (sp)
            r->rec_split = sp;
        if (!o || !sp)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        r->rec_cap = c;
    }
    r->rec_off[0] = 0;
    r->rec_split[0] = 0;
    const uint8_t *pl = r->bp + GT_BLOCK_HEADER;
    uint32_t site_len = rd32(pl + 16);
    r->site_p = pl + GT_PAYLOAD_HEADER;
    r->site_end = r->site_p + site_len;
    r->gt_base = r->site_end;
    r->gt_len = e->payload_len - GT_PAYLOAD_HEADER - site_len;
    r->gt_off = 0;
    r->b_nrec = e->n_records;
    r->b_i = 0;
    r->b_pos = e->first_pos;
    r->b_active = 1;
    return 0;
}

int pm_gtr_seek(pm_gtr_t *r, int64_t beg, int64_t end)
{
    r->beg = beg;
    r->end = end < 0 ? -1 : end;
    r->have_rec = 0;
    r->b_active = 0;
    r->at_end = (end >= 0 && beg > end);
    /* first block whose last position reaches beg */
    uint32_t lo = 0, hi = r->n_blocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->idx[mid].last_pos < beg)
            lo = mid + 1;
        else
            hi = mid;
    }
    r->next_blk = lo;
    return 0;
}

static int get_str(pm_gtr_t *r, const uint8_t **p, size_t *len)
{
    uint64_t l;
    if (gt_get_varint(p, r->site_end, &l) < 0 || l > GT_MAX_STRING || l > (uint64_t)(r->site_end - *p))
        return corrupt(r, "bad site record");
    *len = (size_t)l;
    return 0;
}

/* Parses the next site of the loaded block into the current record. */
static int parse_site(pm_gtr_t *r)
{
    const uint8_t *p = r->site_p;
    uint64_t d, na, gl;
    size_t lid, lref;
    int rc;
    if (gt_get_varint(&p, r->site_end, &d) < 0 || d > (uint64_t)INT64_MAX - (uint64_t)r->b_pos)
        return corrupt(r, "bad site record");
    if ((rc = get_str(r, &p, &lid)) < 0)
        return rc;
    const uint8_t *id = p;
    p += lid;
    if ((rc = get_str(r, &p, &lref)) < 0)
        return rc;
    const uint8_t *ref = p;
    p += lref;
    if (gt_get_varint(&p, r->site_end, &na) < 0 || na < 1 || na > GT_MAX_ALT)
        return corrupt(r, "bad site record");
    const uint8_t *alts = p;
    size_t total = lid + lref + 2;
    for (uint64_t a = 0; a < na; a++) {
        size_t la;
        if ((rc = get_str(r, &p, &la)) < 0)
            return rc;
        p += la;
        total += la + 1;
    }
    if (gt_get_varint(&p, r->site_end, &gl) < 0 || gl > r->gt_len - r->gt_off)
        return corrupt(r, "bad site record");
    if (total > r->str_cap) {
        char *s = realloc(r->str, total);
        if (!s)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        r->str = s;
        r->str_cap = total;
    }
    if (na > r->alts_cap) {
        const char **a = realloc(r->alts, na * sizeof *a);
        gt_split_t *sp = realloc(r->sp, na * sizeof *sp);
        if (a)
            r->alts = a;
        if (sp)
            r->sp = sp;
        if (!a || !sp)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        r->alts_cap = r->sp_cap = na;
    }
    char *s = r->str;
    memcpy(s, id, lid);
    s[lid] = '\0';
    s += lid + 1;
    memcpy(s, ref, lref);
    s[lref] = '\0';
    s += lref + 1;
    const uint8_t *q = alts;
    for (uint64_t a = 0; a < na; a++) {
        uint64_t la = 0;
        gt_get_varint(&q, r->site_end, &la); /* validated above */
        memcpy(s, q, la);
        s[la] = '\0';
        r->alts[a] = s;
        s += la + 1;
        q += la;
    }
    r->pos = r->b_pos + (int64_t)d;
    r->b_pos = r->pos;
    r->n_alt = (int)na;
    r->rgt_off = r->gt_off;
    r->rgt_len = (size_t)gl;
    r->gt_off += gl;
    r->cur_split0 = r->rec_split[r->b_i];
    if ((uint64_t)r->cur_split0 + na > UINT32_MAX)
        return corrupt(r, "too many variants in block");
    r->rec_off[r->b_i + 1] = r->gt_off;
    r->rec_split[r->b_i + 1] = r->cur_split0 + (uint32_t)na;
    r->index = r->idx[r->blk].first_record + r->b_i;
    r->b_i++;
    r->site_p = p;
    r->parsed = 0;
    return 0;
}

/* Steps over the next site when it lies before the seek range (1), with
 * the checks of parse_site but without copying its strings: point lookups
 * walk a block up to their position. 0 (nothing done) when the site is in
 * range. */
static int skip_site(pm_gtr_t *r)
{
    const uint8_t *p = r->site_p;
    uint64_t d, na, gl;
    size_t len;
    int rc;
    if (gt_get_varint(&p, r->site_end, &d) < 0 || d > (uint64_t)INT64_MAX - (uint64_t)r->b_pos)
        return corrupt(r, "bad site record");
    if (r->b_pos + (int64_t)d >= r->beg)
        return 0;
    for (int k = 0; k < 2; k++) { /* ID, REF */
        if ((rc = get_str(r, &p, &len)) < 0)
            return rc;
        p += len;
    }
    if (gt_get_varint(&p, r->site_end, &na) < 0 || na < 1 || na > GT_MAX_ALT)
        return corrupt(r, "bad site record");
    for (uint64_t a = 0; a < na; a++) {
        if ((rc = get_str(r, &p, &len)) < 0)
            return rc;
        p += len;
    }
    if (gt_get_varint(&p, r->site_end, &gl) < 0 || gl > r->gt_len - r->gt_off)
        return corrupt(r, "bad site record");
    uint32_t split0 = r->rec_split[r->b_i];
    if ((uint64_t)split0 + na > UINT32_MAX)
        return corrupt(r, "too many variants in block");
    r->b_pos += (int64_t)d;
    r->gt_off += gl;
    r->rec_off[r->b_i + 1] = r->gt_off;
    r->rec_split[r->b_i + 1] = split0 + (uint32_t)na;
    r->b_i++;
    r->site_p = p;
    r->parsed = 0;
    return 1;
}

int pm_gtr_next(pm_gtr_t *r, pm_gtr_rec_t *rec)
{
    for (;;) {
        if (r->at_end)
            return 0;
        if (!r->b_active || r->b_i == r->b_nrec) {
            r->have_rec = 0;
            if (r->next_blk >= r->n_blocks || (r->end >= 0 && r->idx[r->next_blk].first_pos > r->end)) {
                r->at_end = 1;
                return 0;
            }
            int rc = load_block(r, r->next_blk);
            if (rc < 0)
                return rc;
            r->next_blk++;
        }
        int rc = r->beg > 0 ? skip_site(r) : 0;
        if (rc == 1)
            continue;
        if (rc == 0)
            rc = parse_site(r);
        if (rc < 0) {
            r->b_active = 0;
            r->have_rec = 0;
            return rc;
        }
        if (r->pos < r->beg)
            continue;
        if (r->end >= 0 && r->pos > r->end) {
            r->at_end = 1;
            r->have_rec = 0;
            return 0;
        }
        r->have_rec = 1;
        rec->pos = r->pos;
        rec->id = r->str;
        rec->ref = r->str + strlen(r->str) + 1;
        rec->alt = r->alts;
        rec->n_alt = r->n_alt;
        rec->index = r->index;
        return 1;
    }
}

/* ---- genotype data ---- */

/* Parses the genotype data of the record at gt offset off (len bytes,
 * n_alt splits) into g and sp. */
static int parse_gt_at(pm_gtr_t *r, size_t off, size_t len, int n_alt, gt_parsed_t *g, gt_split_t *sp)
{
    const uint8_t *p = r->gt_base + off, *end = p + len;
    memset(g, 0, sizeof *g);
    uint64_t P;
    if (p >= end)
        return corrupt(r, "empty genotype record");
    uint8_t flags = *p++;
    if (gt_get_varint(&p, end, &P) < 0 || P > GT_MAX_PLOIDY || (flags & 0xf0))
        return corrupt(r, "bad genotype record");
    g->P = (int)P;
    g->pmode = flags & GT_F_PHASED;
    g->hkind = (flags >> GT_F_H_SHIFT) & 3;
    if (P == 0) {
        memset(sp, 0, (size_t)n_alt * sizeof *sp);
        return 0;
    }
    if ((P == 1) != (g->hkind == GT_H_ALL))
        return corrupt(r, "bad genotype record");
    if (g->hkind == GT_H_EXPLICIT || g->hkind == GT_H_REF) {
        if (p >= end || *p > GT_HFORM_MISSP)
            return corrupt(r, "bad genotype record");
        g->hform = *p++;
        if (g->hkind == GT_H_EXPLICIT) {
            gt_set_t hs;
            if (gt_set_read(&p, end, r->n, &hs) < 0)
                return corrupt(r, "bad genotype record");
            g->h_rec_off = off;
        } else {
            uint64_t back;
            if (gt_get_varint(&p, end, &back) < 0 || back == 0 || back > off)
                return corrupt(r, "bad genotype record");
            g->h_rec_off = off - back;
        }
    }
    if (gt_set_read(&p, end, r->n, &g->miss) < 0)
        return corrupt(r, "bad genotype record");
    if (flags & GT_F_EXC) {
        uint64_t vl;
        if (gt_set_read(&p, end, r->n, &g->exc) < 0 || gt_get_varint(&p, end, &vl) < 0 ||
            vl > (uint64_t)(end - p))
            return corrupt(r, "bad genotype record");
        g->excv = p;
        g->excv_end = p + vl;
        p += vl;
    }
    for (int a = 0; a < n_alt; a++) {
        gt_split_t *s = &sp[a];
        uint64_t d, kh;
        if (gt_get_varint(&p, end, &d) < 0 || d > GT_LD_WINDOW || gt_set_read(&p, end, r->n, &s->het) < 0 ||
            gt_set_read(&p, end, r->n, &s->hom) < 0)
            return corrupt(r, "bad genotype record");
        s->ref_d = (uint32_t)d;
        kh = s->het.k;
        if (d && g->pmode && (gt_get_varint(&p, end, &kh) < 0 || kh > r->n))
            return corrupt(r, "bad genotype record");
        s->kh = (uint32_t)kh;
        s->phase = NULL;
        if (g->pmode && kh) {
            size_t nb = (kh + 7) / 8;
            if ((size_t)(end - p) < nb)
                return corrupt(r, "bad genotype record");
            s->phase = p;
            p += nb;
        }
    }
    return 0;
}

static int parse_gt(pm_gtr_t *r)
{
    if (r->parsed)
        return 0;
    if (!r->have_rec)
        return pm_err(r->ctx, PM_EUSAGE, "'%s': no current record", r->path);
    int rc = parse_gt_at(r, r->rgt_off, r->rgt_len, r->n_alt, &r->pr, r->sp);
    if (rc < 0)
        return rc;
    r->parsed = 1;
    return 0;
}

/* The split with block ordinal ord (of the current or an earlier record). */
static int split_info(pm_gtr_t *r, int64_t ord, gt_split_t *out)
{
    if (ord >= r->cur_split0) {
        int rc = parse_gt(r);
        if (rc < 0)
            return rc;
        *out = r->sp[ord - r->cur_split0];
        return 0;
    }
    /* binary search among the records before the current one */
    uint32_t lo = 0, hi = r->b_i - 1; /* record hi is the current one */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->rec_split[mid] <= ord)
            lo = mid;
        else
            hi = mid;
    }
    gt_parsed_t g;
    int na = (int)(r->rec_split[lo + 1] - r->rec_split[lo]);
    int rc = parse_gt_at(r, r->rec_off[lo], r->rec_off[lo + 1] - r->rec_off[lo], na, &g, r->sp2);
    if (rc < 0)
        return rc;
    *out = r->sp2[ord - r->rec_split[lo]];
    return 0;
}

/* XORs (or, for a plain split, sets) the elements of s into bm. */
static int apply_set(pm_gtr_t *r, const gt_set_t *s, uint64_t *bm)
{
    if (!s->k)
        return 0;
    if (s->bitmap) {
        for (size_t w = 0; w < r->nw; w++)
            bm[w] ^= gt_load64(s->p + 8 * w) & r->allmask[w];
        return 0;
    }
    if (gt_ef_decode(s, r->n, r->s1) < 0)
        return corrupt(r, "bad sample list");
    for (uint32_t i = 0; i < s->k; i++)
        bm[r->s1[i] >> 6] ^= (uint64_t)1 << (r->s1[i] & 63);
    return 0;
}

/* Makes *out point at the het bitmap of split ord of the loaded block
 * (the hom bitmap follows after nw words), following LD references. */
static int materialize(pm_gtr_t *r, int64_t ord, const uint64_t **out)
{
    const size_t nw = r->nw;
    if (r->ring_blk != r->blk) {
        for (int i = 0; i < GT_RING; i++)
            r->ring_ord[i] = -1;
        r->ring_blk = r->blk;
    }
    size_t ns = 0;
    int64_t o = ord;
    int rc;
    while (r->ring_ord[o % GT_RING] != o) {
        if (ns == r->chain_cap) {
            size_t c = r->chain_cap ? 2 * r->chain_cap : 64;
            int64_t *co = realloc(r->chain_ord, c * sizeof *co);
            if (co)
                r->chain_ord = co;
            gt_split_t *cs = realloc(r->chain_sp, c * sizeof *cs);
            if (cs)
                r->chain_sp = cs;
            if (!co || !cs)
                return pm_err(r->ctx, PM_ENOMEM, "out of memory");
            r->chain_cap = c;
        }
        gt_split_t info;
        if ((rc = split_info(r, o, &info)) < 0)
            return rc;
        r->chain_ord[ns] = o;
        r->chain_sp[ns++] = info;
        if (!info.ref_d)
            break;
        if (info.ref_d > o)
            return corrupt(r, "bad LD reference");
        o -= info.ref_d;
    }
    while (ns-- > 0) {
        o = r->chain_ord[ns];
        const gt_split_t *sp = &r->chain_sp[ns];
        uint64_t *hb = r->ring + (size_t)(o % GT_RING) * 2 * nw;
        r->ring_ord[o % GT_RING] = -1;
        if (!sp->ref_d) {
            memset(hb, 0, 2 * nw * 8);
        } else {
            int64_t u = o - sp->ref_d;
            if (r->ring_ord[u % GT_RING] != u)
                return pm_err(r->ctx, PM_EINTERNAL, "LD reference not materialised");
            memcpy(hb, r->ring + (size_t)(u % GT_RING) * 2 * nw, 2 * nw * 8);
        }
        if ((rc = apply_set(r, &sp->het, hb)) < 0 || (rc = apply_set(r, &sp->hom, hb + nw)) < 0)
            return rc;
        r->ring_ord[o % GT_RING] = o;
    }
    *out = r->ring + (size_t)(ord % GT_RING) * 2 * nw;
    return 0;
}

/* Makes r->hbits the haploid-form set of the current record. */
static int load_hbits(pm_gtr_t *r)
{
    gt_parsed_t *g = &r->pr;
    if (r->h_blk == r->blk && r->h_off == g->h_rec_off)
        return 0;
    const uint8_t *p = r->gt_base + g->h_rec_off, *end = r->gt_base + r->gt_len;
    uint64_t P;
    gt_set_t hs;
    if (p >= end || ((*p >> GT_F_H_SHIFT) & 3) != GT_H_EXPLICIT)
        return corrupt(r, "bad haploid-set reference");
    p++;
    if (gt_get_varint(&p, end, &P) < 0 || p >= end)
        return corrupt(r, "bad haploid-set reference");
    p++; /* hform */
    if (gt_set_read(&p, end, r->n, &hs) < 0)
        return corrupt(r, "bad haploid-set reference");
    r->h_blk = -1;
    memset(r->hbits, 0, (r->nw ? r->nw : 1) * 8);
    if (hs.bitmap) {
        memcpy(r->hbits, hs.p, r->nw * 8);
        if (r->n & 63)
            r->hbits[r->nw - 1] &= ((uint64_t)1 << (r->n & 63)) - 1;
    } else {
        if (gt_set_decode(&hs, r->n, r->s1) < 0)
            return corrupt(r, "bad haploid set");
        for (uint32_t i = 0; i < hs.k; i++)
            r->hbits[r->s1[i] >> 6] |= (uint64_t)1 << (r->s1[i] & 63);
    }
    r->h_blk = r->blk;
    r->h_off = g->h_rec_off;
    return 0;
}

static inline int has_h(const gt_parsed_t *g) { return g->hkind == GT_H_EXPLICIT || g->hkind == GT_H_REF; }

static inline int bit(const uint64_t *m, uint32_t i) { return (int)((m[i >> 6] >> (i & 63)) & 1); }

/* The samples counted: ns masks (ns == 1: a plain mask; otherwise the
 * per-stratum masks with stratum[] giving each sample's stratum). */
typedef struct gt_sel {
    int ns;
    const uint64_t *masks; /* ns * nw words */
    const int16_t *stratum;
} gt_sel_t;

static inline int sel_of(const gt_sel_t *s, uint32_t i)
{
    if (s->stratum) {
        int v = s->stratum[i];
        return v < s->ns ? v : -1;
    }
    return bit(s->masks, i) ? 0 : -1;
}

/* Adds |set ∩ stratum s| to acc[s] for every s. */
static int count_set(pm_gtr_t *r, const gt_set_t *set, const gt_sel_t *sel, int64_t *acc)
{
    if (!set->k)
        return 0;
    if (set->bitmap) {
        for (int s = 0; s < sel->ns; s++)
            acc[s] += pc_and(set->p, sel->masks + (size_t)s * r->nw, r->nw);
        return 0;
    }
    if (!sel->stratum) {
        int64_t c = gt_ef_count_mask(set, r->n, sel->masks);
        if (c < 0)
            return corrupt(r, "bad sample list");
        acc[0] += c;
        return 0;
    }
    if (gt_ef_decode(set, r->n, r->s1) < 0)
        return corrupt(r, "bad sample list");
    const uint32_t *x = r->s1;
    {
        for (uint32_t i = 0; i < set->k; i++) {
            int s = sel->stratum[x[i]];
            if (s >= 0 && s < sel->ns)
                acc[s]++;
        }
    }
    return 0;
}

/* Decodes exception j's vector from *p into v[P]; -1 when malformed. */
static int exc_vec(const uint8_t **p, const uint8_t *end, int P, int32_t *v)
{
    for (int j = 0; j < P; j++) {
        uint64_t c;
        if (gt_get_varint(p, end, &c) < 0 || c > (uint64_t)INT32_MAX + 1)
            return -1;
        v[j] = c == 0 ? PM_GT_VECTOR_END : (int32_t)(c - 1);
    }
    return 0;
}

static int count_core(pm_gtr_t *r, const gt_sel_t *sel, pm_gt_counts_t *out)
{
    int rc = parse_gt(r);
    if (rc < 0)
        return rc;
    const int ns = sel->ns, A = r->n_alt;
    gt_parsed_t *g = &r->pr;
    for (int i = 0; i < A * ns; i++)
        out[i].ac = out[i].an = out[i].nhomalt = 0;
    if (g->P == 0 || r->n == 0)
        return 0;
    if ((size_t)ns * 6 > r->acc_cap) {
        int64_t *a = realloc(r->acc, (size_t)ns * 6 * sizeof *a);
        if (!a)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        r->acc = a;
        r->acc_cap = (size_t)ns * 6;
    }
    int64_t *M = r->acc, *nE = M + ns, *nMi = nE + ns, *nH = nMi + ns, *nHMi = nH + ns, *anE = nHMi + ns;
    memset(nE, 0, (size_t)ns * 5 * sizeof *nE);
    if (sel->stratum)
        memcpy(M, r->st_M, (size_t)ns * sizeof *M);
    else if (sel->masks == r->mask_ptr)
        M[0] = r->mask_M;
    else
        M[0] = pc_words(sel->masks, r->allmask, r->nw);

    int hh = has_h(g);
    if (hh && (rc = load_hbits(r)) < 0)
        return rc;
    /* missing calls, and those of them in haploid form */
    if (g->miss.k) {
        if (g->miss.bitmap) {
            for (int s = 0; s < ns; s++) {
                const uint64_t *m = sel->masks + (size_t)s * r->nw;
                nMi[s] += pc_and(g->miss.p, m, r->nw);
                if (hh)
                    nHMi[s] += pc_and3(g->miss.p, r->hbits, m, r->nw);
            }
        } else {
            if (gt_ef_decode(&g->miss, r->n, r->s1) < 0)
                return corrupt(r, "bad sample list");
            for (uint32_t i = 0; i < g->miss.k; i++) {
                uint32_t x = r->s1[i];
                int s = sel_of(sel, x);
                if (s < 0)
                    continue;
                nMi[s]++;
                if (hh)
                    nHMi[s] += bit(r->hbits, x);
            }
        }
    }
    if (hh)
        for (int s = 0; s < ns; s++)
            nH[s] = pc_words(r->hbits, sel->masks + (size_t)s * r->nw, r->nw);
    /* exceptions */
    if (g->exc.k) {
        if (gt_set_decode(&g->exc, r->n, r->s1) < 0)
            return corrupt(r, "bad exception list");
        const uint8_t *p = g->excv;
        int32_t v[GT_MAX_PLOIDY];
        for (uint32_t i = 0; i < g->exc.k; i++) {
            if (exc_vec(&p, g->excv_end, g->P, v) < 0)
                return corrupt(r, "bad exception vector");
            int s = sel_of(sel, r->s1[i]);
            if (s < 0)
                continue;
            nE[s]++;
            int nals = 0, ial = 0, first = -1, same = 1;
            for (ial = 0; ial < g->P; ial++) {
                int32_t e = v[ial];
                if (e == PM_GT_VECTOR_END)
                    break;
                if ((e >> 1) == 0)
                    continue;
                int b = (e >> 1) - 1;
                if (b > A)
                    return corrupt(r, "allele index out of range");
                nals++;
                anE[s]++;
                if (b >= 1)
                    out[(size_t)(b - 1) * ns + s].ac++;
                if (first < 0)
                    first = b;
                else if (b != first)
                    same = 0;
            }
            if (nals == ial && nals >= 2 && same && first >= 1)
                out[(size_t)(first - 1) * ns + s].nhomalt++;
        }
    }
    /* regular calls, per ALT */
    int64_t c1[64], c2[64];
    int64_t *h1 = ns <= 64 ? c1 : NULL, *h2 = ns <= 64 ? c2 : NULL;
    int64_t *heap = NULL;
    if (!h1) {
        heap = malloc((size_t)ns * 2 * sizeof *heap);
        if (!heap)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        h1 = heap;
        h2 = heap + ns;
    }
    for (int a = 0; a < A; a++) {
        memset(h1, 0, (size_t)ns * sizeof *h1);
        memset(h2, 0, (size_t)ns * sizeof *h2);
        if (r->sp[a].ref_d) {
            const uint64_t *hb;
            if ((rc = materialize(r, (int64_t)r->cur_split0 + a, &hb)) < 0) {
                free(heap);
                return rc;
            }
            for (int s = 0; s < ns; s++) {
                h1[s] = pc_words(hb, sel->masks + (size_t)s * r->nw, r->nw);
                h2[s] = pc_words(hb + r->nw, sel->masks + (size_t)s * r->nw, r->nw);
            }
        } else if ((rc = count_set(r, &r->sp[a].het, sel, h1)) < 0 ||
                   (rc = count_set(r, &r->sp[a].hom, sel, h2)) < 0) {
            free(heap);
            return rc;
        }
        for (int s = 0; s < ns; s++) {
            pm_gt_counts_t *o = &out[(size_t)a * ns + s];
            o->ac += h1[s] + 2 * h2[s];
            o->nhomalt += h2[s];
        }
    }
    free(heap);
    for (int s = 0; s < ns; s++) {
        int64_t called = M[s] - nE[s] - nMi[s];
        int64_t an = g->P == 1 ? called + anE[s] : 2 * called - (nH[s] - nHMi[s]) + anE[s];
        for (int a = 0; a < A; a++)
            out[(size_t)a * ns + s].an = an;
    }
    return 0;
}

int pm_gtr_count(pm_gtr_t *r, const uint64_t *mask, pm_gt_counts_t *out)
{
    gt_sel_t sel = {1, mask ? mask : r->allmask, NULL};
    return count_core(r, &sel, out);
}

int pm_gtr_set_mask(pm_gtr_t *r, const uint64_t *mask)
{
    r->mask_ptr = mask;
    r->mask_M = mask ? pc_words(mask, r->allmask, r->nw) : 0;
    return 0;
}

int pm_gtr_set_strata(pm_gtr_t *r, const int16_t *stratum, int n_strata)
{
    if (n_strata < 1 || n_strata > 32767 || !stratum)
        return pm_err(r->ctx, PM_EUSAGE, "bad strata (%d)", n_strata);
    size_t nw1 = r->nw ? r->nw : 1;
    uint64_t *m = calloc((size_t)n_strata * nw1, 8);
    int64_t *M = calloc((size_t)n_strata, sizeof *M);
    if (!m || !M) {
        free(m);
        free(M);
        return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < r->n; i++) {
        int s = stratum[i];
        if (s < -1 || s >= n_strata) {
            free(m);
            free(M);
            return pm_err(r->ctx, PM_EUSAGE, "sample %u: stratum %d out of range", i, s);
        }
        if (s >= 0) {
            m[(size_t)s * r->nw + (i >> 6)] |= (uint64_t)1 << (i & 63);
            M[s]++;
        }
    }
    free(r->st_masks);
    free(r->st_M);
    r->st_masks = m;
    r->st_M = M;
    r->st_ptr = stratum;
    r->st_n = n_strata;
    return 0;
}

int pm_gtr_count_strata(pm_gtr_t *r, const int16_t *stratum, int n_strata, pm_gt_counts_t *out)
{
    if (stratum != r->st_ptr || n_strata != r->st_n || !r->st_masks) {
        int rc = pm_gtr_set_strata(r, stratum, n_strata);
        if (rc < 0)
            return rc;
    }
    gt_sel_t sel = {n_strata, r->st_masks, stratum};
    return count_core(r, &sel, out);
}

static void set_or(pm_gtr_t *r, const gt_set_t *s, uint64_t *out)
{
    if (s->bitmap) {
        for (size_t w = 0; w < r->nw; w++)
            out[w] |= gt_load64(s->p + 8 * w) & r->allmask[w];
    } else {
        for (uint32_t i = 0; i < s->k; i++)
            out[r->s1[i] >> 6] |= (uint64_t)1 << (r->s1[i] & 63);
    }
}

int pm_gtr_carriers(pm_gtr_t *r, int a, uint64_t *out_mask)
{
    int rc = parse_gt(r);
    if (rc < 0)
        return rc;
    if (a < 1 || a > r->n_alt)
        return pm_err(r->ctx, PM_EUSAGE, "'%s': ALT %d out of range (1 to %d)", r->path, a, r->n_alt);
    gt_parsed_t *g = &r->pr;
    if (g->P == 0 || r->n == 0)
        return 0;
    const gt_split_t *sp = &r->sp[a - 1];
    if (sp->ref_d) {
        const uint64_t *hb;
        if ((rc = materialize(r, (int64_t)r->cur_split0 + a - 1, &hb)) < 0)
            return rc;
        for (size_t w = 0; w < r->nw; w++)
            out_mask[w] |= hb[w] | hb[r->nw + w];
    } else {
        if (!sp->het.bitmap && gt_ef_decode(&sp->het, r->n, r->s1) < 0)
            return corrupt(r, "bad sample list");
        set_or(r, &sp->het, out_mask);
        if (!sp->hom.bitmap && gt_ef_decode(&sp->hom, r->n, r->s1) < 0)
            return corrupt(r, "bad sample list");
        set_or(r, &sp->hom, out_mask);
    }
    if (g->exc.k) {
        if (gt_set_decode(&g->exc, r->n, r->s1) < 0)
            return corrupt(r, "bad exception list");
        const uint8_t *p = g->excv;
        int32_t v[GT_MAX_PLOIDY];
        for (uint32_t i = 0; i < g->exc.k; i++) {
            if (exc_vec(&p, g->excv_end, g->P, v) < 0)
                return corrupt(r, "bad exception vector");
            for (int j = 0; j < g->P && v[j] != PM_GT_VECTOR_END; j++)
                if ((v[j] >> 1) - 1 == a) {
                    out_mask[r->s1[i] >> 6] |= (uint64_t)1 << (r->s1[i] & 63);
                    break;
                }
        }
    }
    return 0;
}

static const int32_t hform_val[3] = {PM_GT_VECTOR_END, 0, 1};

int pm_gtr_decode(pm_gtr_t *r, int32_t **buf, size_t *cap, int *ploidy)
{
    int rc = parse_gt(r);
    if (rc < 0)
        return rc;
    gt_parsed_t *g = &r->pr;
    const int P = g->P;
    const uint32_t n = r->n;
    *ploidy = P;
    size_t need = (size_t)n * P;
    if (need > *cap || !*buf) {
        size_t c = need ? need : 1;
        int32_t *b = realloc(*buf, c * sizeof *b);
        if (!b)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        *buf = b;
        *cap = c;
    }
    if (P == 0 || n == 0)
        return 0;
    int32_t *o = *buf;
    int hh = has_h(g);
    if (hh && (rc = load_hbits(r)) < 0)
        return rc;
    const int32_t pm = g->pmode, hf = hh ? hform_val[g->hform] : 0;
    /* everyone hom-ref (or haploid ref) first */
    for (uint32_t i = 0; i < n; i++) {
        int32_t *e = o + (size_t)i * P;
        e[0] = 2;
        if (P >= 2) {
            e[1] = (hh && bit(r->hbits, i)) ? hf : (2 | pm);
            for (int j = 2; j < P; j++)
                e[j] = PM_GT_VECTOR_END;
        }
    }
    if (g->miss.k) {
        if (gt_set_decode(&g->miss, n, r->s1) < 0)
            return corrupt(r, "bad sample list");
        for (uint32_t k = 0; k < g->miss.k; k++) {
            uint32_t i = r->s1[k];
            int32_t *e = o + (size_t)i * P;
            e[0] = 0;
            if (P >= 2)
                e[1] = (hh && bit(r->hbits, i)) ? hf : pm;
        }
    }
    for (int a = 0; a < r->n_alt; a++) {
        const gt_split_t *sp = &r->sp[a];
        const int32_t va = (a + 2) << 1;
        uint32_t kh = sp->het.k, km = sp->hom.k;
        const uint32_t *het = r->s1, *hom = r->s1;
        if (sp->ref_d) {
            const uint64_t *hb;
            if ((rc = materialize(r, (int64_t)r->cur_split0 + a, &hb)) < 0)
                return rc;
            gt_set_t bs = {(const uint8_t *)hb, 0, 1};
            bs.k = (uint32_t)pc_words(hb, r->allmask, r->nw);
            if (g->pmode && bs.k != sp->kh)
                return corrupt(r, "LD-coded split disagrees with its het count");
            if (gt_set_decode(&bs, n, r->s1) < 0)
                return corrupt(r, "bad sample list");
            kh = bs.k;
            bs.p = (const uint8_t *)(hb + r->nw);
            bs.k = km = (uint32_t)pc_words(hb + r->nw, r->allmask, r->nw);
            if (gt_set_decode(&bs, n, r->s1 + kh) < 0)
                return corrupt(r, "bad sample list");
            hom = r->s1 + kh;
        } else {
            if (gt_set_decode(&sp->het, n, r->s1) < 0 || gt_set_decode(&sp->hom, n, r->s1 + kh) < 0)
                return corrupt(r, "bad sample list");
            hom = r->s1 + kh;
        }
        for (uint32_t k = 0; k < kh; k++) {
            uint32_t i = het[k];
            int32_t *e = o + (size_t)i * P;
            if (P == 1 || (hh && bit(r->hbits, i))) {
                e[0] = va;
            } else if (sp->phase && (sp->phase[k >> 3] >> (k & 7) & 1)) {
                e[0] = va;
                e[1] = 2 | 1;
            } else {
                e[1] = va | pm;
            }
        }
        for (uint32_t k = 0; k < km; k++) {
            int32_t *e = o + (size_t)hom[k] * P;
            e[0] = va;
            if (P >= 2)
                e[1] = va | pm;
        }
    }
    if (g->exc.k) {
        if (gt_set_decode(&g->exc, n, r->s1) < 0)
            return corrupt(r, "bad exception list");
        const uint8_t *p = g->excv;
        for (uint32_t k = 0; k < g->exc.k; k++)
            if (exc_vec(&p, g->excv_end, P, o + (size_t)r->s1[k] * P) < 0)
                return corrupt(r, "bad exception vector");
    }
    return 0;
}

/* ---- sparse decode ----
 *
 * The same genotypes as pm_gtr_decode, written only for the columns in
 * some set of the record (missing, H, het/hom of any ALT, exceptions);
 * every other column holds the default call. The listed columns are the
 * union of the sets, taken as a bitmap (bitmap sets by word, lists by
 * element) and read back by word with ctz, so the cost is per listed
 * column and per 64 samples. The calls are then written in decode's order
 * (default, missing, per ALT het and hom, exceptions) through slot[]. */

/* Marks the elements of s in r->spbits; list elements come from r->s1. */
static int sparse_mark(pm_gtr_t *r, const gt_set_t *s)
{
    if (!s->k)
        return 0;
    if (s->bitmap) {
        for (size_t w = 0; w < r->nw; w++)
            r->spbits[w] |= gt_load64(s->p + 8 * w) & r->allmask[w];
        return 0;
    }
    if (gt_ef_decode(s, r->n, r->s1) < 0)
        return corrupt(r, "bad sample list");
    for (uint32_t i = 0; i < s->k; i++)
        r->spbits[r->s1[i] >> 6] |= (uint64_t)1 << (r->s1[i] & 63);
    return 0;
}

/* The het and hom lists of split a of the current record into r->s1
 * (hom after the hets), as pm_gtr_decode reads them. */
static int split_lists(pm_gtr_t *r, int a, uint32_t *kh_out, uint32_t *km_out)
{
    const gt_split_t *sp = &r->sp[a];
    const uint32_t n = r->n;
    uint32_t kh = sp->het.k, km = sp->hom.k;
    int rc;
    if (sp->ref_d) {
        const uint64_t *hb;
        if ((rc = materialize(r, (int64_t)r->cur_split0 + a, &hb)) < 0)
            return rc;
        gt_set_t bs = {(const uint8_t *)hb, 0, 1};
        bs.k = (uint32_t)pc_words(hb, r->allmask, r->nw);
        if (r->pr.pmode && bs.k != sp->kh)
            return corrupt(r, "LD-coded split disagrees with its het count");
        if (gt_set_decode(&bs, n, r->s1) < 0)
            return corrupt(r, "bad sample list");
        kh = bs.k;
        bs.p = (const uint8_t *)(hb + r->nw);
        bs.k = km = (uint32_t)pc_words(hb + r->nw, r->allmask, r->nw);
        if (gt_set_decode(&bs, n, r->s1 + kh) < 0)
            return corrupt(r, "bad sample list");
    } else if (gt_set_decode(&sp->het, n, r->s1) < 0 || gt_set_decode(&sp->hom, n, r->s1 + kh) < 0) {
        return corrupt(r, "bad sample list");
    }
    *kh_out = kh;
    *km_out = km;
    return 0;
}

int pm_gtr_decode_sparse(pm_gtr_t *r, pm_gtr_sparse_t *out)
{
    int rc = parse_gt(r);
    if (rc < 0)
        return rc;
    gt_parsed_t *g = &r->pr;
    const int P = g->P;
    const uint32_t n = r->n;
    const size_t nw1 = r->nw ? r->nw : 1;
    out->ploidy = P;
    out->pmode = g->pmode;
    out->n = 0;
    if (P == 0 || n == 0)
        return 0;
    if (!r->spbits) {
        r->spbits = malloc(nw1 * 8);
        r->slot = malloc((size_t)n * sizeof *r->slot);
        if (!r->spbits || !r->slot)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
    }
    int hh = has_h(g);
    if (hh && (rc = load_hbits(r)) < 0)
        return rc;
    /* the listed columns */
    memset(r->spbits, 0, nw1 * 8);
    if (hh)
        for (size_t w = 0; w < r->nw; w++)
            r->spbits[w] |= r->hbits[w];
    if ((rc = sparse_mark(r, &g->miss)) < 0 || (rc = sparse_mark(r, &g->exc)) < 0)
        return rc;
    for (int a = 0; a < r->n_alt; a++) {
        const gt_split_t *sp = &r->sp[a];
        if (sp->ref_d) {
            const uint64_t *hb;
            if ((rc = materialize(r, (int64_t)r->cur_split0 + a, &hb)) < 0)
                return rc;
            for (size_t w = 0; w < r->nw; w++)
                r->spbits[w] |= (hb[w] | hb[r->nw + w]) & r->allmask[w];
        } else if ((rc = sparse_mark(r, &sp->het)) < 0 || (rc = sparse_mark(r, &sp->hom)) < 0) {
            return rc;
        }
    }
    uint32_t k = (uint32_t)pc_words(r->spbits, r->allmask, r->nw);
    if (k > out->cap_cols || !out->cols) {
        size_t c = k ? k : 1;
        uint32_t *nc = realloc(out->cols, c * sizeof *nc);
        if (!nc)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        out->cols = nc;
        out->cap_cols = c;
    }
    if ((size_t)k * P > out->cap_vecs || !out->vecs) {
        size_t c = (size_t)k * (size_t)P > 0 ? (size_t)k * (size_t)P : 1;
        int32_t *nv = realloc(out->vecs, c * sizeof *nv);
        if (!nv)
            return pm_err(r->ctx, PM_ENOMEM, "out of memory");
        out->vecs = nv;
        out->cap_vecs = c;
    }
    const int32_t pm = g->pmode, hf = hh ? hform_val[g->hform] : 0;
    uint32_t *cols = out->cols, *slot = r->slot;
    int32_t *vec = out->vecs;
    uint32_t j = 0;
    for (size_t w = 0; w < r->nw; w++) {
        uint64_t word = r->spbits[w];
        while (word) {
            uint32_t i = (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(word));
            word &= word - 1;
            cols[j] = i;
            slot[i] = j;
            int32_t *e = vec + (size_t)j * P;
            e[0] = 2;
            if (P >= 2) {
                e[1] = (hh && bit(r->hbits, i)) ? hf : (2 | pm);
                for (int l = 2; l < P; l++)
                    e[l] = PM_GT_VECTOR_END;
            }
            j++;
        }
    }
    out->n = k;
    if (g->miss.k) {
        if (gt_set_decode(&g->miss, n, r->s1) < 0)
            return corrupt(r, "bad sample list");
        for (uint32_t m = 0; m < g->miss.k; m++) {
            uint32_t i = r->s1[m];
            int32_t *e = vec + (size_t)slot[i] * P;
            e[0] = 0;
            if (P >= 2)
                e[1] = (hh && bit(r->hbits, i)) ? hf : pm;
        }
    }
    for (int a = 0; a < r->n_alt; a++) {
        const gt_split_t *sp = &r->sp[a];
        const int32_t va = (a + 2) << 1;
        uint32_t kh = 0, km = 0;
        if ((rc = split_lists(r, a, &kh, &km)) < 0)
            return rc;
        const uint32_t *het = r->s1, *hom = r->s1 + kh;
        for (uint32_t m = 0; m < kh; m++) {
            uint32_t i = het[m];
            int32_t *e = vec + (size_t)slot[i] * P;
            if (P == 1 || (hh && bit(r->hbits, i))) {
                e[0] = va;
            } else if (sp->phase && (sp->phase[m >> 3] >> (m & 7) & 1)) {
                e[0] = va;
                e[1] = 2 | 1;
            } else {
                e[1] = va | pm;
            }
        }
        for (uint32_t m = 0; m < km; m++) {
            int32_t *e = vec + (size_t)slot[hom[m]] * P;
            e[0] = va;
            if (P >= 2)
                e[1] = va | pm;
        }
    }
    if (g->exc.k) {
        if (gt_set_decode(&g->exc, n, r->s1) < 0)
            return corrupt(r, "bad exception list");
        const uint8_t *p = g->excv;
        for (uint32_t m = 0; m < g->exc.k; m++)
            if (exc_vec(&p, g->excv_end, P, vec + (size_t)slot[r->s1[m]] * P) < 0)
                return corrupt(r, "bad exception vector");
    }
    return 0;
}
