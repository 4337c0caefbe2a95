/*
 * suppress.c - small-cell and complementary suppression of count tables
 * (pm_policy_suppress; the rules are in docs/cohort.md).
 *
 * 1. Primary: every cell with a count in 1..k-1 is released as "<k".
 * 2. Margins are released exactly as the one-dimensional table of their
 *    field would release them (the grand total as the plain count), so a
 *    breakdown never contradicts, or adds to, a smaller query about the
 *    same set. Only inner cells are ever hidden further.
 * 3. Audit: an attacker knows every released cell, that a "<k" cell lies
 *    in 1..k-1, that a cell hidden to protect another ("x") lies in k..inf
 *    (it would otherwise have been "<k"), and that each additive line
 *    (the cells of a row or column) sums to its margin. Interval
 *    propagation over all lines to a fixpoint gives the range the
 *    attacker can derive for every hidden cell.
 * 4. While the range of some small count (1..k-1) is a single value:
 *    a. if hiding every released inner cell of the table would still
 *       leave it pinned (the margins alone give it away, e.g. a row of
 *       two people split 1 + 1), it is shown as "x" instead of "<k":
 *       "x" promises no range (0..inf), so the "<k" bound no longer
 *       helps; the audit goes on to protect it like any other small
 *       count, which step b does;
 *    b. otherwise hide the smallest non-zero released inner cell of a
 *       line through it; if those lines have none, of the lines through
 *       their hidden cells, ring by ring; failing that, every released
 *       inner cell of its lines, zeros included.
 *    Each round hides at least one cell, so this ends.
 *
 * With k = 2, "<2" means exactly 1 by itself; there is nothing for
 * complementary suppression to protect, so only step 1 applies.
 *
 * Deterministic: ties go to the lowest cell index. Limits: propagation
 * is interval reasoning per line, not the full linear program over all
 * lines at once, so in two dimensions combining lines can occasionally
 * narrow a hidden cell's range further than the audit sees (to a range,
 * not to a value, in practice); a hidden zero is modelled as "0..inf"
 * although "x" cells are otherwise >= k. What several tables or queries
 * reveal together is for the query budget.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promise/policy.h"

typedef struct line {
    size_t *idx; /* member cells; the last is the line's margin */
    size_t n;
} line_t;

typedef struct grid {
    const int64_t *v;
    int *state;
    const unsigned char *fixed; /* margins: never hidden here */
    size_t ncell;
    int k;
    line_t *lines;
    size_t nlines;
    double *lo, *hi;
} grid_t;

static void set_bounds(grid_t *g)
{
    for (size_t c = 0; c < g->ncell; c++) {
        switch (g->state[c]) {
        case PM_CELL_EXACT: g->lo[c] = g->hi[c] = (double)g->v[c]; break;
        case PM_CELL_SMALL:
            g->lo[c] = 1;
            g->hi[c] = g->k - 1;
            break;
        default:
            /* hidden to protect another cell: >= k, since it would
             * otherwise be "<k"; a zero or small cell hidden as a last
             * resort is modelled as >= 0 */
            g->lo[c] = g->v[c] >= g->k ? g->k : 0;
            g->hi[c] = INFINITY;
            break;
        }
    }
}

/* One pass over every line; returns 1 when some bound moved. A line is
 * sum(inner) - margin = 0, so an inner cell is margin - (other inner)
 * and the margin is the sum of the inner cells. Lines are short (one per
 * category), so the quadratic loop is cheaper than being clever. */
static int propagate_once(grid_t *g)
{
    int moved = 0;
    for (size_t l = 0; l < g->nlines; l++) {
        const line_t *ln = &g->lines[l];
        for (size_t m = 0; m < ln->n; m++) {
            size_t c = ln->idx[m];
            if (g->state[c] == PM_CELL_EXACT)
                continue;
            /* range of (sum of the other members with sign: +inner, -margin) */
            double olo = 0, ohi = 0;
            for (size_t j = 0; j < ln->n; j++) {
                if (j == m)
                    continue;
                size_t d = ln->idx[j];
                if (j + 1 < ln->n) {
                    olo += g->lo[d];
                    ohi += g->hi[d];
                } else {
                    olo -= g->hi[d];
                    ohi -= g->lo[d];
                }
            }
            /* inner: x + others = 0 -> x in [-ohi, -olo]; margin: x = others */
            int inner = m + 1 < ln->n;
            double nlo = inner ? -ohi : olo, nhi = inner ? -olo : ohi;
            if (nlo > g->lo[c]) {
                g->lo[c] = nlo;
                moved = 1;
            }
            if (nhi < g->hi[c]) {
                g->hi[c] = nhi;
                moved = 1;
            }
        }
    }
    return moved;
}

static void propagate(grid_t *g)
{
    set_bounds(g);
    for (int round = 0; round < 64 && propagate_once(g); round++)
        ;
}

/* A count in 1..k-1 (shown "<k", or "x" after step 4a) whose range
 * collapsed to one value. */
static int pinned(const grid_t *g, size_t c)
{
    return g->state[c] != PM_CELL_EXACT && g->v[c] >= 1 && g->v[c] < g->k &&
           g->hi[c] - g->lo[c] < 1;
}

static int line_has(const line_t *ln, size_t c)
{
    for (size_t m = 0; m < ln->n; m++)
        if (ln->idx[m] == c)
            return 1;
    return 0;
}

static int hideable(const grid_t *g, size_t d)
{
    return !g->fixed[d] && g->state[d] == PM_CELL_EXACT;
}

/* Hides every released inner cell of the lines through c; returns how many. */
static int hide_lines(grid_t *g, size_t c)
{
    int hid = 0;
    for (size_t l = 0; l < g->nlines; l++) {
        const line_t *ln = &g->lines[l];
        if (!line_has(ln, c))
            continue;
        for (size_t m = 0; m < ln->n; m++)
            if (hideable(g, ln->idx[m])) {
                g->state[ln->idx[m]] = PM_CELL_MASKED;
                hid++;
            }
    }
    return hid;
}

/* Step 4a: would c stay pinned with every other inner cell hidden? */
static int hopeless(grid_t *g, size_t c, int *scratch)
{
    int *saved = g->state;
    memcpy(scratch, saved, g->ncell * sizeof *scratch);
    g->state = scratch;
    for (size_t d = 0; d < g->ncell; d++)
        if (hideable(g, d))
            scratch[d] = PM_CELL_MASKED;
    propagate(g);
    int r = pinned(g, c);
    g->state = saved;
    return r;
}

/* Step 4b: the smallest non-zero released inner cell near c, ring by ring. */
static size_t candidate(const grid_t *g, size_t c)
{
    size_t best = (size_t)-1;
    size_t nl = g->nlines ? g->nlines : 1;
    unsigned char *seen = calloc(nl, 1), *front = calloc(nl, 1), *nf = calloc(nl, 1);
    if (!seen || !front || !nf)
        goto out;
    for (size_t l = 0; l < g->nlines; l++)
        seen[l] = front[l] = (unsigned char)line_has(&g->lines[l], c);
    for (;;) {
        int any = 0;
        for (size_t l = 0; l < g->nlines; l++) {
            if (!front[l])
                continue;
            any = 1;
            const line_t *ln = &g->lines[l];
            for (size_t m = 0; m < ln->n; m++) {
                size_t d = ln->idx[m];
                if (!hideable(g, d) || g->v[d] == 0)
                    continue;
                if (best == (size_t)-1 || g->v[d] < g->v[best] ||
                    (g->v[d] == g->v[best] && d < best))
                    best = d;
            }
        }
        if (best != (size_t)-1 || !any)
            break;
        /* next ring: unseen lines through a hidden cell of this ring */
        memset(nf, 0, nl);
        for (size_t l = 0; l < g->nlines; l++) {
            if (!front[l])
                continue;
            const line_t *ln = &g->lines[l];
            for (size_t m = 0; m < ln->n; m++) {
                size_t d = ln->idx[m];
                if (g->state[d] == PM_CELL_EXACT)
                    continue;
                for (size_t l2 = 0; l2 < g->nlines; l2++)
                    if (!seen[l2] && line_has(&g->lines[l2], d))
                        seen[l2] = nf[l2] = 1;
            }
        }
        unsigned char *t = front;
        front = nf;
        nf = t;
    }
out:
    free(seen);
    free(front);
    free(nf);
    return best;
}

static int add_line(grid_t *g, size_t first, size_t step, size_t count)
{
    size_t *idx = malloc(count * sizeof *idx);
    if (!idx)
        return PM_ENOMEM;
    for (size_t i = 0; i < count; i++)
        idx[i] = first + i * step;
    g->lines[g->nlines].idx = idx;
    g->lines[g->nlines].n = count;
    g->nlines++;
    return 0;
}

int pm_policy_suppress(const int64_t *cell, size_t R, size_t C, int row_additive,
                       int col_additive, int k, int *state)
{
    size_t ncell = R * C;
    for (size_t c = 0; c < ncell; c++)
        state[c] = (k > 1 && cell[c] >= 1 && cell[c] < k) ? PM_CELL_SMALL : PM_CELL_EXACT;
    if (k <= 2 || ncell <= 1)
        return 0;
    int rc = 0;
    unsigned char *fixed = calloc(ncell, 1);
    int *scratch = malloc(ncell * sizeof *scratch);
    int64_t *mv = calloc(R > C ? R : C, sizeof *mv);
    int *ms = malloc((R > C ? R : C) * sizeof *ms);
    grid_t g = {.v = cell, .state = state, .fixed = fixed, .ncell = ncell, .k = k};
    g.lines = calloc(R + C, sizeof *g.lines);
    g.lo = malloc(ncell * sizeof *g.lo);
    g.hi = malloc(ncell * sizeof *g.hi);
    if (!fixed || !scratch || !mv || !ms || !g.lines || !g.lo || !g.hi) {
        rc = PM_ENOMEM;
        goto out;
    }
    fixed[ncell - 1] = 1; /* the grand total is the plain count */
    if (C > 1) {
        /* margins as the one-dimensional tables release them */
        for (size_t i = 0; i < R; i++)
            mv[i] = cell[i * C + C - 1];
        if ((rc = pm_policy_suppress(mv, R, 1, row_additive, 0, k, ms)) < 0)
            goto out;
        for (size_t i = 0; i < R; i++) {
            state[i * C + C - 1] = ms[i];
            fixed[i * C + C - 1] = 1;
        }
        for (size_t j = 0; j < C; j++)
            mv[j] = cell[(R - 1) * C + j];
        if ((rc = pm_policy_suppress(mv, C, 1, col_additive, 0, k, ms)) < 0)
            goto out;
        for (size_t j = 0; j < C; j++) {
            state[(R - 1) * C + j] = ms[j];
            fixed[(R - 1) * C + j] = 1;
        }
    }
    if (row_additive && R > 1)
        for (size_t j = 0; j < C && rc == 0; j++)
            rc = add_line(&g, j, C, R); /* column j top to bottom, margin last */
    if (col_additive && C > 1)
        for (size_t i = 0; i < R && rc == 0; i++)
            rc = add_line(&g, i * C, 1, C); /* row i left to right, margin last */
    for (size_t round = 0; rc == 0 && round <= 2 * ncell + 2; round++) {
        propagate(&g);
        int changed = 0;
        /* root causes first: a small cell its margins alone give away */
        for (size_t c = 0; c < ncell && !changed; c++)
            if (!fixed[c] && state[c] == PM_CELL_SMALL && pinned(&g, c) &&
                hopeless(&g, c, scratch)) {
                state[c] = PM_CELL_MASKED;
                changed = 1;
            }
        if (!changed)
            propagate(&g); /* hopeless() left the bounds of its what-if */
        for (size_t c = 0; c < ncell && !changed; c++) {
            if (fixed[c] || !pinned(&g, c))
                continue;
            size_t d = candidate(&g, c);
            if (d != (size_t)-1) {
                state[d] = PM_CELL_MASKED;
                changed = 1;
            } else if (hide_lines(&g, c)) {
                changed = 1;
            } else if (state[c] == PM_CELL_SMALL) {
                state[c] = PM_CELL_MASKED;
                changed = 1;
            } /* else nothing more can be done here: try the next cell */
        }
        if (!changed)
            break;
    }
out:
    for (size_t l = 0; l < g.nlines; l++)
        free(g.lines[l].idx);
    free(g.lines);
    free(g.lo);
    free(g.hi);
    free(fixed);
    free(scratch);
    free(mv);
    free(ms);
    return rc;
}
