/*
 * parse.c - tokenizer, recursive-descent parser and normalised printer of
 * cohort expressions (grammar in docs/cohort.md).
 *
 *   or      := and { "or" and }
 *   and     := unary { "and" unary }
 *   unary   := "not" unary | primary
 *   primary := "(" or ")" | window
 *   window  := [quant] term [ "within" N unit ("after"|"before") [quant] term ]
 *
 * Every error names the 1-based character column (UTF-8 characters, not
 * bytes) of the token at fault. Input longer than PM_COHORT_MAX_TEXT or
 * nested deeper than PM_COHORT_MAX_DEPTH fails with PM_ELIMIT: the text
 * may come from the network.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cohort/term.h"

#define PM_COHORT_MAX_TEXT 65536
#define PM_COHORT_MAX_DEPTH 200
#define PM_COHORT_MAX_WORD 512

/* ---- kinds ---- */

static const struct {
    const char *word;   /* as typed, lowercase */
    pm_term_kind_t kind;
} kind_words[] = {
    {"icd10", PM_TERM_ICD10}, {"atc", PM_TERM_ATC},     {"kva", PM_TERM_KVA},
    {"kv\xc3\xa5", PM_TERM_KVA}, {"icdo3", PM_TERM_ICDO3}, {"death", PM_TERM_DEATH},
    {"born", PM_TERM_BORN},   {"county", PM_TERM_COUNTY}, {"source", PM_TERM_SOURCE},
    {"assay", PM_TERM_ASSAY}, {"omics", PM_TERM_OMICS_GT}, {"icd9", PM_TERM_ICD9},
    {"endpoint", PM_TERM_ENDPOINT},
};

const char *pm_term_kind_text(pm_term_kind_t k)
{
    switch (k) {
    case PM_TERM_SEX: return "sex=";
    case PM_TERM_AGE_GE: return "age>=";
    case PM_TERM_AGE_LT: return "age<";
    case PM_TERM_BORN: return "born:";
    case PM_TERM_COUNTY: return "county:";
    case PM_TERM_ALIVE: return "alive";
    case PM_TERM_SOURCE: return "source:";
    case PM_TERM_ASSAY: return "assay:";
    case PM_TERM_ICD10: return "icd10:";
    case PM_TERM_ATC: return "atc:";
    case PM_TERM_KVA: return "kva:";
    case PM_TERM_ICDO3: return "icdo3:";
    case PM_TERM_DEATH: return "death:";
    case PM_TERM_ICD9: return "icd9:";
    case PM_TERM_ENDPOINT: return "endpoint:";
    case PM_TERM_CARRIER: return "carrier(";
    case PM_TERM_OMICS_GT:
    case PM_TERM_OMICS_LT: return "omics:";
    default: return "?";
    }
}

int pm_term_kind_dated(pm_term_kind_t k)
{
    switch (k) {
    case PM_TERM_SOURCE:
    case PM_TERM_ASSAY:
    case PM_TERM_ICD10:
    case PM_TERM_ATC:
    case PM_TERM_KVA:
    case PM_TERM_ICDO3:
    case PM_TERM_ICD9:
    case PM_TERM_DEATH: return 1;
    default: return 0;
    }
}

/* ---- tokens ---- */

enum tok_type { T_EOF, T_WORD, T_QUOTED, T_LP, T_RP, T_COLON, T_OP };

typedef struct tok {
    enum tok_type type;
    size_t off, len; /* bytes into the text (for T_QUOTED: inside the quotes) */
    int col;         /* 1-based character column */
} tok_t;

typedef struct parser {
    pm_ctx_t *ctx;
    const char *s;
    size_t len;
    tok_t *tok;
    size_t ntok, pos;
    int depth;
} parser_t;

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+' || c == '/' || c == '*' ||
           c >= 0x80;
}

static int char_col(const char *s, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static int perr(parser_t *p, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser_t *p, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pm_err(p->ctx, PM_EINPUT, "column %d: %s", col, msg);
}

/* Quoted text of a token for messages, shortened. */
static const char *tok_show(const parser_t *p, const tok_t *t, char *buf, size_t cap)
{
    if (t->type == T_EOF) {
        snprintf(buf, cap, "the end of the expression");
        return buf;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    snprintf(buf, cap, "'%.*s%s'", (int)n, p->s + t->off, t->len > 40 ? "..." : "");
    return buf;
}

static int tokenize(parser_t *p)
{
    size_t cap = 16;
    p->tok = malloc(cap * sizeof *p->tok);
    if (!p->tok)
        return pm_err(p->ctx, PM_ENOMEM, "out of memory");
    size_t i = 0;
    int col = 1;
    for (;;) {
        while (i < p->len && isspace((unsigned char)p->s[i])) {
            i++;
            col++;
        }
        if (p->ntok + 1 >= cap) {
            cap *= 2;
            tok_t *nt = realloc(p->tok, cap * sizeof *nt);
            if (!nt)
                return pm_err(p->ctx, PM_ENOMEM, "out of memory");
            p->tok = nt;
        }
        tok_t *t = &p->tok[p->ntok];
        t->off = i;
        t->col = col;
        t->len = 0;
        if (i >= p->len) {
            t->type = T_EOF;
            p->ntok++;
            return 0;
        }
        unsigned char c = (unsigned char)p->s[i];
        if (c == '(' || c == ')' || c == ':') {
            t->type = c == '(' ? T_LP : c == ')' ? T_RP : T_COLON;
            t->len = 1;
        } else if (c == '>' || c == '<' || c == '=' || c == '!') {
            t->type = T_OP;
            t->len = (i + 1 < p->len && p->s[i + 1] == '=') ? 2 : 1;
            if (c == '=' && t->len == 2)
                t->len = 1; /* "==" is '=' then a stray '=' */
            if (c == '!' && t->len == 1)
                return perr(p, col, "unexpected '!'; use 'not'");
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < p->len && p->s[j] != '"')
                j++;
            if (j >= p->len)
                return perr(p, col, "unterminated '\"'");
            t->type = T_QUOTED;
            t->off = i + 1;
            t->len = j - i - 1;
            if (t->len == 0)
                return perr(p, col, "empty name \"\"");
            if (t->len > PM_COHORT_MAX_WORD)
                return pm_err(p->ctx, PM_ELIMIT, "column %d: name longer than %d bytes", col,
                              PM_COHORT_MAX_WORD);
            col += char_col(p->s + i, j + 1 - i) - 1;
            i = j + 1;
            p->ntok++;
            continue;
        } else if (is_word_byte(c)) {
            size_t j = i;
            while (j < p->len && is_word_byte((unsigned char)p->s[j]))
                j++;
            t->type = T_WORD;
            t->len = j - i;
            if (t->len > PM_COHORT_MAX_WORD)
                return pm_err(p->ctx, PM_ELIMIT, "column %d: word longer than %d bytes", col,
                              PM_COHORT_MAX_WORD);
        } else if (c == '&' || c == '|') {
            return perr(p, col, "unexpected '%c'; use '%s'", c, c == '&' ? "and" : "or");
        } else if (c == ',') {
            return perr(p, col, "unexpected ','; combine terms with 'and' or 'or'");
        } else {
            if (isprint(c))
                return perr(p, col, "unexpected character '%c'", c);
            return perr(p, col, "unexpected character (byte 0x%02x)", c);
        }
        col += char_col(p->s + i, t->len) - 1;
        i += t->len;
        p->ntok++;
    }
}

static tok_t *peek(parser_t *p) { return &p->tok[p->pos]; }
static tok_t *peek2(parser_t *p) { return &p->tok[p->pos + 1 < p->ntok ? p->pos + 1 : p->pos]; }
static tok_t *next(parser_t *p)
{
    tok_t *t = &p->tok[p->pos];
    if (t->type != T_EOF)
        p->pos++;
    return t;
}

static int word_is(const parser_t *p, const tok_t *t, const char *w)
{
    return t->type == T_WORD && t->len == strlen(w) && strncasecmp(p->s + t->off, w, t->len) == 0;
}

static int op_is(const parser_t *p, const tok_t *t, const char *op)
{
    return t->type == T_OP && t->len == strlen(op) && strncmp(p->s + t->off, op, t->len) == 0;
}

static int is_keyword(const parser_t *p, const tok_t *t)
{
    static const char *const kw[] = {"and", "or", "not", "within", "after", "before"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (word_is(p, t, kw[i]))
            return 1;
    return 0;
}

static char *tok_dup(parser_t *p, const tok_t *t)
{
    char *s = strndup(p->s + t->off, t->len);
    if (!s)
        pm_err(p->ctx, PM_ENOMEM, "out of memory");
    return s;
}

/* Parses a whole word as a non-negative decimal integer <= max; -1 if not. */
static long tok_uint(const parser_t *p, const tok_t *t, long max)
{
    if (t->type != T_WORD || t->len == 0 || t->len > 12)
        return -1;
    long v = 0;
    for (size_t i = 0; i < t->len; i++) {
        char c = p->s[t->off + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v <= max ? v : -1;
}

/* ---- nodes ---- */

static void term_clear(pm_cohort_term_t *t)
{
    free(t->name);
    free(t->code);
    free(t->chrom);
    free(t->ref);
    free(t->alt);
    free(t->feature);
    free(t->xtext);
}

void pm_node_free(pm_node_t *n)
{
    if (!n)
        return;
    pm_node_free(n->a);
    pm_node_free(n->b);
    if (n->op == PM_NODE_TERM)
        term_clear(&n->term);
    free(n);
}

static pm_node_t *node_new(parser_t *p, pm_node_op_t op, int col)
{
    pm_node_t *n = calloc(1, sizeof *n);
    if (!n) {
        pm_err(p->ctx, PM_ENOMEM, "out of memory");
        return NULL;
    }
    n->op = op;
    n->col = col;
    n->term.col = col;
    return n;
}

/* ---- terms ---- */

static const char term_list[] =
    "sex=, age>=, age<, born:, county:, alive, source:, assay:, icd10:, atc:, kva:, icdo3:, "
    "death:, icd9:, endpoint:, carrier(...), omics:";

/* Expects a ':' then a word or quoted name; returns the value token. */
static tok_t *expect_arg(parser_t *p, const tok_t *kw, const char *what)
{
    char b[64];
    tok_t *c = peek(p);
    if (c->type != T_COLON) {
        perr(p, c->col, "expected ':' after '%.*s', found %s", (int)kw->len, p->s + kw->off,
             tok_show(p, c, b, sizeof b));
        return NULL;
    }
    next(p);
    tok_t *v = peek(p);
    if (v->type != T_WORD && v->type != T_QUOTED) {
        perr(p, v->col, "expected %s after '%.*s:', found %s", what, (int)kw->len, p->s + kw->off,
             tok_show(p, v, b, sizeof b));
        return NULL;
    }
    return next(p);
}

static int parse_code(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    tok_t *v = expect_arg(p, kw, "a code");
    if (!v)
        return PM_EINPUT;
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)p->s[v->off + i];
        if (!isalnum(c) && c != '.' && c != '/' && c != '-')
            return perr(p, v->col + (int)i, "'%c' cannot appear in a code", c);
    }
    if (!isalnum((unsigned char)p->s[v->off]))
        return perr(p, v->col, "a code starts with a letter or digit");
    if (!(t->code = tok_dup(p, v)))
        return PM_ENOMEM;
    for (char *c = t->code; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return 0;
}

static int parse_born(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    tok_t *v = expect_arg(p, kw, "a year or a range YYYY..YYYY");
    if (!v)
        return PM_EINPUT;
    const char *s = p->s + v->off;
    int ok = v->type == T_WORD && (v->len == 4 || v->len == 10);
    for (size_t i = 0; ok && i < v->len; i++)
        ok = (i >= 4 && i < 6) ? s[i] == '.' : (s[i] >= '0' && s[i] <= '9');
    if (!ok)
        return perr(p, v->col, "born takes a year or a range of years: born:1950 or "
                               "born:1950..1959");
    t->lo = t->hi = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (v->len == 10)
        t->hi = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
    if (t->hi < t->lo)
        return perr(p, v->col, "born range %d..%d is empty (first year after last)", t->lo, t->hi);
    return 0;
}

static int parse_county(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    tok_t *v = expect_arg(p, kw, "a two-digit county code");
    if (!v)
        return PM_EINPUT;
    long c = v->len <= 2 ? tok_uint(p, v, 99) : -1;
    if (c < 0)
        return perr(p, v->col, "county takes a two-digit county (lan) code, e.g. county:01");
    t->lo = (int)c;
    return 0;
}

static int parse_name(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    tok_t *v = expect_arg(p, kw, "a name");
    if (!v)
        return PM_EINPUT;
    if (v->type == T_WORD && is_keyword(p, v))
        return perr(p, v->col, "expected a name after '%.*s:', found '%.*s' (quote a name that "
                               "is a keyword: \"%.*s\")",
                    (int)kw->len, p->s + kw->off, (int)v->len, p->s + v->off, (int)v->len,
                    p->s + v->off);
    return (t->name = tok_dup(p, v)) ? 0 : PM_ENOMEM;
}

static int valid_allele(const parser_t *p, const tok_t *v)
{
    if (v->type != T_WORD || v->len == 0)
        return 0;
    for (size_t i = 0; i < v->len; i++)
        if (!strchr("ACGTNacgtn*", p->s[v->off + i]))
            return 0;
    return 1;
}

static int parse_carrier(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    char b[64];
    tok_t *lp = peek(p);
    if (lp->type != T_LP)
        return perr(p, lp->col, "expected '(' after 'carrier', as in carrier(22:16050075:A:G)");
    next(p);
    tok_t *v[4];
    static const char *const what[4] = {"a contig", "a position", "the REF allele",
                                        "the ALT allele"};
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            tok_t *c = peek(p);
            if (c->type != T_COLON)
                return perr(p, c->col, "expected ':' then %s in carrier(CHR:POS:REF:ALT), found %s",
                            what[i], tok_show(p, c, b, sizeof b));
            next(p);
        }
        v[i] = peek(p);
        if (v[i]->type != T_WORD)
            return perr(p, v[i]->col, "expected %s in carrier(CHR:POS:REF:ALT), found %s",
                        what[i], tok_show(p, v[i], b, sizeof b));
        next(p);
    }
    long pos = tok_uint(p, v[1], 4000000000L);
    if (pos < 1)
        return perr(p, v[1]->col, "position must be a whole number from 1");
    for (int i = 2; i < 4; i++)
        if (!valid_allele(p, v[i]))
            return perr(p, v[i]->col, "%s must be bases (A, C, G, T, N) or '*'", what[i]);
    tok_t *rp = peek(p);
    if (rp->type != T_RP)
        return perr(p, rp->col, "expected ')' to close 'carrier(' at column %d, found %s",
                    kw->col, tok_show(p, rp, b, sizeof b));
    next(p);
    t->pos = pos;
    if (!(t->chrom = tok_dup(p, v[0])) || !(t->ref = tok_dup(p, v[2])) ||
        !(t->alt = tok_dup(p, v[3])))
        return PM_ENOMEM;
    for (char *c = t->ref; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    for (char *c = t->alt; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return 0;
}

static int parse_omics(parser_t *p, pm_cohort_term_t *t, const tok_t *kw)
{
    char b[64];
    tok_t *assay = expect_arg(p, kw, "an assay name");
    if (!assay)
        return PM_EINPUT;
    tok_t *c = peek(p);
    if (c->type != T_COLON)
        return perr(p, c->col, "expected ':' then a feature in omics:ASSAY:FEATURE>X, found %s",
                    tok_show(p, c, b, sizeof b));
    next(p);
    tok_t *feat = peek(p);
    if (feat->type != T_WORD && feat->type != T_QUOTED)
        return perr(p, feat->col, "expected a feature in omics:ASSAY:FEATURE>X, found %s",
                    tok_show(p, feat, b, sizeof b));
    next(p);
    tok_t *op = peek(p);
    if (!op_is(p, op, ">") && !op_is(p, op, "<"))
        return perr(p, op->col, "expected '>' or '<' then a number after the omics feature, "
                                "found %s",
                    tok_show(p, op, b, sizeof b));
    next(p);
    tok_t *num = peek(p);
    char tmp[64];
    char *end = NULL;
    double x = NAN;
    if (num->type == T_WORD && num->len < sizeof tmp) {
        memcpy(tmp, p->s + num->off, num->len);
        tmp[num->len] = '\0';
        errno = 0;
        x = strtod(tmp, &end);
    }
    if (num->type != T_WORD || num->len >= sizeof tmp || !end || *end || errno || !isfinite(x))
        return perr(p, num->col, "expected a number after '%.*s', found %s", (int)op->len,
                    p->s + op->off, tok_show(p, num, b, sizeof b));
    next(p);
    t->kind = op_is(p, op, ">") ? PM_TERM_OMICS_GT : PM_TERM_OMICS_LT;
    t->x = x;
    if (!(t->name = tok_dup(p, assay)) || !(t->feature = tok_dup(p, feat)) ||
        !(t->xtext = strdup(tmp)))
        return pm_err(p->ctx, PM_ENOMEM, "out of memory");
    return 0;
}

static pm_node_t *parse_term(parser_t *p)
{
    char b[64];
    tok_t *kw = peek(p);
    if (kw->type == T_EOF) {
        perr(p, kw->col, "expected a term, but the expression ended");
        return NULL;
    }
    if (kw->type != T_WORD || is_keyword(p, kw)) {
        if (kw->type == T_RP)
            perr(p, kw->col, "unexpected ')' where a term should be");
        else
            perr(p, kw->col, "expected a term, found %s", tok_show(p, kw, b, sizeof b));
        return NULL;
    }
    next(p);
    pm_node_t *n = node_new(p, PM_NODE_TERM, kw->col);
    if (!n)
        return NULL;
    pm_cohort_term_t *t = &n->term;
    int rc = 0;
    if (word_is(p, kw, "alive")) {
        t->kind = PM_TERM_ALIVE;
        tok_t *c = peek(p);
        if (c->type == T_COLON || c->type == T_OP)
            rc = perr(p, c->col, "'alive' takes no argument");
    } else if (word_is(p, kw, "sex")) {
        t->kind = PM_TERM_SEX;
        tok_t *op = peek(p);
        if (!op_is(p, op, "="))
            rc = perr(p, op->col, "expected '=' after 'sex', as in sex=F");
        else {
            next(p);
            tok_t *v = peek(p);
            if (word_is(p, v, "M") || word_is(p, v, "F")) {
                t->sex = (char)toupper((unsigned char)p->s[v->off]);
                next(p);
            } else {
                rc = perr(p, v->col, "sex must be M or F, found %s", tok_show(p, v, b, sizeof b));
            }
        }
    } else if (word_is(p, kw, "age")) {
        tok_t *op = peek(p);
        if (op_is(p, op, ">="))
            t->kind = PM_TERM_AGE_GE;
        else if (op_is(p, op, "<"))
            t->kind = PM_TERM_AGE_LT;
        else if (op->type == T_OP)
            rc = perr(p, op->col, "age takes '>=' or '<' (e.g. age>=18 and age<65), not '%.*s'",
                      (int)op->len, p->s + op->off);
        else
            rc = perr(p, op->col, "expected '>=' or '<' after 'age', as in age>=18");
        if (rc == 0) {
            next(p);
            tok_t *v = peek(p);
            long a = tok_uint(p, v, 200);
            if (a < 0)
                rc = perr(p, v->col, "age must be a whole number of years from 0 to 200, found %s",
                          tok_show(p, v, b, sizeof b));
            else {
                t->lo = (int)a;
                next(p);
            }
        }
    } else if (word_is(p, kw, "carrier")) {
        t->kind = PM_TERM_CARRIER;
        rc = parse_carrier(p, t, kw);
    } else {
        size_t k;
        for (k = 0; k < sizeof kind_words / sizeof *kind_words; k++)
            if (word_is(p, kw, kind_words[k].word))
                break;
        if (k == sizeof kind_words / sizeof *kind_words) {
            rc = perr(p, kw->col, "unknown term '%.*s' (terms: %s)", (int)(kw->len > 40 ? 40 : kw->len),
                      p->s + kw->off, term_list);
        } else {
            t->kind = kind_words[k].kind;
            switch (t->kind) {
            case PM_TERM_BORN: rc = parse_born(p, t, kw); break;
            case PM_TERM_COUNTY: rc = parse_county(p, t, kw); break;
            case PM_TERM_SOURCE:
            case PM_TERM_ASSAY:
            case PM_TERM_ENDPOINT: rc = parse_name(p, t, kw); break;
            case PM_TERM_OMICS_GT: rc = parse_omics(p, t, kw); break;
            default: rc = parse_code(p, t, kw); break;
            }
        }
    }
    if (rc < 0) {
        pm_node_free(n);
        return NULL;
    }
    return n;
}

/* ---- time windows ---- */

static int parse_quant(parser_t *p)
{
    tok_t *t = peek(p);
    /* "first" etc. are quantifiers only when no ':' follows (no term kind has that name) */
    if (peek2(p)->type == T_COLON)
        return -1;
    if (word_is(p, t, "first"))
        return PM_Q_FIRST;
    if (word_is(p, t, "last"))
        return PM_Q_LAST;
    if (word_is(p, t, "any"))
        return PM_Q_ANY;
    return -1;
}

static int unit_of(const char *s, size_t n)
{
    static const struct {
        const char *w;
        int u;
    } units[] = {
        {"d", PM_UNIT_DAYS},   {"day", PM_UNIT_DAYS},     {"days", PM_UNIT_DAYS},
        {"w", PM_UNIT_WEEKS},  {"week", PM_UNIT_WEEKS},   {"weeks", PM_UNIT_WEEKS},
        {"m", PM_UNIT_MONTHS}, {"month", PM_UNIT_MONTHS}, {"months", PM_UNIT_MONTHS},
        {"y", PM_UNIT_YEARS},  {"year", PM_UNIT_YEARS},   {"years", PM_UNIT_YEARS},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strlen(units[i].w) == n && strncasecmp(units[i].w, s, n) == 0)
            return units[i].u;
    return 0;
}

static int check_dated(parser_t *p, const pm_node_t *n, const char *role)
{
    if (pm_term_kind_dated(n->term.kind))
        return 0;
    return perr(p, n->col,
                "'%s' has no date, so it cannot be the %s of a time window (dated terms: "
                "icd10:, icd9:, atc:, kva:, icdo3:, death:, source:, assay:)",
                pm_term_kind_text(n->term.kind), role);
}

static pm_node_t *parse_window(parser_t *p)
{
    char b[64];
    tok_t *start = peek(p);
    int evq = parse_quant(p);
    tok_t *qtok = start;
    if (evq >= 0)
        next(p);
    pm_node_t *ev = parse_term(p);
    if (!ev)
        return NULL;
    tok_t *w = peek(p);
    if (!word_is(p, w, "within")) {
        if (evq >= 0) {
            perr(p, qtok->col, "'%.*s' needs a time window: %.*s TERM within N years after TERM",
                 (int)qtok->len, p->s + qtok->off, (int)qtok->len, p->s + qtok->off);
            pm_node_free(ev);
            return NULL;
        }
        return ev;
    }
    next(p);
    pm_node_t *n = node_new(p, PM_NODE_WINDOW, start->col);
    if (!n) {
        pm_node_free(ev);
        return NULL;
    }
    n->a = ev;
    n->ev_q = evq < 0 ? PM_Q_ANY : evq;
    if (check_dated(p, ev, "event") < 0)
        goto fail;
    /* N UNIT, as "2y", "2 years", "30d" */
    tok_t *num = peek(p);
    if (num->type != T_WORD) {
        perr(p, num->col, "expected a duration after 'within' (e.g. 2 years, 30 days), found %s",
             tok_show(p, num, b, sizeof b));
        goto fail;
    }
    size_t d = 0;
    while (d < num->len && isdigit((unsigned char)p->s[num->off + d]))
        d++;
    if (d == 0 || d > 6) {
        perr(p, num->col, "expected a whole number after 'within', found %s",
             tok_show(p, num, b, sizeof b));
        goto fail;
    }
    n->amount = 0;
    for (size_t i = 0; i < d; i++)
        n->amount = n->amount * 10 + (p->s[num->off + i] - '0');
    next(p);
    if (d < num->len) {
        n->unit = unit_of(p->s + num->off + d, num->len - d);
        if (!n->unit) {
            perr(p, num->col + (int)d, "unknown time unit '%.*s' (days, weeks, months, years)",
                 (int)(num->len - d), p->s + num->off + d);
            goto fail;
        }
    } else {
        tok_t *u = peek(p);
        n->unit = u->type == T_WORD ? unit_of(p->s + u->off, u->len) : 0;
        if (!n->unit) {
            perr(p, u->col, "expected a time unit (days, weeks, months, years), found %s",
                 tok_show(p, u, b, sizeof b));
            goto fail;
        }
        next(p);
    }
    tok_t *dir = peek(p);
    if (word_is(p, dir, "after"))
        n->dir = PM_DIR_AFTER;
    else if (word_is(p, dir, "before"))
        n->dir = PM_DIR_BEFORE;
    else {
        perr(p, dir->col, "expected 'after' or 'before' in the time window, found %s",
             tok_show(p, dir, b, sizeof b));
        goto fail;
    }
    next(p);
    int anq = parse_quant(p);
    if (anq >= 0)
        next(p);
    n->an_q = anq < 0 ? PM_Q_ANY : anq;
    if (!(n->b = parse_term(p)))
        goto fail;
    if (check_dated(p, n->b, "anchor") < 0)
        goto fail;
    if (word_is(p, peek(p), "within")) {
        perr(p, peek(p)->col, "time windows do not chain; combine two windows with 'and'");
        goto fail;
    }
    return n;
fail:
    pm_node_free(n);
    return NULL;
}

/* ---- expressions ---- */

static pm_node_t *parse_or(parser_t *p);

static pm_node_t *parse_primary(parser_t *p)
{
    tok_t *t = peek(p);
    if (t->type == T_LP) {
        next(p);
        if (peek(p)->type == T_RP) {
            perr(p, peek(p)->col, "empty parentheses: expected a term after '(' at column %d",
                 t->col);
            return NULL;
        }
        pm_node_t *n = parse_or(p);
        if (!n)
            return NULL;
        tok_t *r = peek(p);
        if (r->type != T_RP) {
            char b[64];
            if (r->type == T_EOF)
                perr(p, r->col, "expected ')' to close the '(' at column %d, but the expression "
                                "ended",
                     t->col);
            else
                perr(p, r->col, "expected 'and', 'or' or ')' to close the '(' at column %d, "
                                "found %s",
                     t->col, tok_show(p, r, b, sizeof b));
            pm_node_free(n);
            return NULL;
        }
        next(p);
        return n;
    }
    return parse_window(p);
}

static pm_node_t *parse_unary(parser_t *p)
{
    tok_t *t = peek(p);
    if (word_is(p, t, "not")) {
        if (++p->depth > PM_COHORT_MAX_DEPTH) {
            pm_err(p->ctx, PM_ELIMIT, "column %d: expression nested deeper than %d", t->col,
                   PM_COHORT_MAX_DEPTH);
            return NULL;
        }
        next(p);
        pm_node_t *n = node_new(p, PM_NODE_NOT, t->col);
        if (!n)
            return NULL;
        if (!(n->a = parse_unary(p))) {
            pm_node_free(n);
            return NULL;
        }
        p->depth--;
        return n;
    }
    if (t->type == T_LP && ++p->depth > PM_COHORT_MAX_DEPTH) {
        pm_err(p->ctx, PM_ELIMIT, "column %d: expression nested deeper than %d", t->col,
               PM_COHORT_MAX_DEPTH);
        return NULL;
    }
    pm_node_t *n = parse_primary(p);
    if (t->type == T_LP)
        p->depth--;
    return n;
}

static pm_node_t *parse_binary(parser_t *p, int is_or)
{
    pm_node_t *l = is_or ? parse_binary(p, 0) : parse_unary(p);
    if (!l)
        return NULL;
    const char *kw = is_or ? "or" : "and";
    while (word_is(p, peek(p), kw)) {
        tok_t *op = next(p);
        pm_node_t *r = is_or ? parse_binary(p, 0) : parse_unary(p);
        if (!r) {
            pm_node_free(l);
            return NULL;
        }
        pm_node_t *n = node_new(p, is_or ? PM_NODE_OR : PM_NODE_AND, l->col);
        if (!n) {
            pm_node_free(l);
            pm_node_free(r);
            return NULL;
        }
        (void)op;
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static pm_node_t *parse_or(parser_t *p) { return parse_binary(p, 1); }

int pm_cohort_parse(pm_ctx_t *ctx, const char *expr, pm_cohort_t **out)
{
    *out = NULL;
    pm_cohort_t *c = calloc(1, sizeof *c);
    if (!c)
        return pm_err(ctx, PM_ENOMEM, "out of memory");
    if (!expr)
        expr = "";
    parser_t p = {.ctx = ctx, .s = expr, .len = strlen(expr)};
    if (p.len > PM_COHORT_MAX_TEXT) {
        free(c);
        return pm_err(ctx, PM_ELIMIT, "cohort expression longer than %d bytes", PM_COHORT_MAX_TEXT);
    }
    int rc = tokenize(&p);
    if (rc == 0 && p.tok[0].type != T_EOF) {
        c->root = parse_or(&p);
        if (!c->root)
            rc = pm_ctx_errcode(ctx) ? pm_ctx_errcode(ctx) : PM_EINPUT;
        else if (peek(&p)->type != T_EOF) {
            char b[64];
            tok_t *t = peek(&p);
            if (t->type == T_RP)
                rc = perr(&p, t->col, "unexpected ')' without a matching '('");
            else
                rc = perr(&p, t->col, "expected 'and', 'or' or the end of the expression, found %s",
                          tok_show(&p, t, b, sizeof b));
        }
    }
    free(p.tok);
    if (rc < 0) {
        pm_cohort_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void pm_cohort_free(pm_cohort_t *c)
{
    if (!c)
        return;
    pm_node_free(c->root);
    free(c);
}

/* ---- normalised printing ---- */

typedef struct out {
    char *buf;
    size_t cap, len;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (const char *c = s; *c; c++)
        if (!is_word_byte((unsigned char)*c))
            return 1;
    static const char *const kw[] = {"and", "or", "not", "within", "after", "before"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (strcasecmp(s, kw[i]) == 0)
            return 1;
    return 0;
}

static void put_name(out_t *o, const char *s)
{
    if (needs_quotes(s))
        put(o, "\"%s\"", s);
    else
        put(o, "%s", s);
}

static void put_term(out_t *o, const pm_cohort_term_t *t)
{
    switch (t->kind) {
    case PM_TERM_SEX: put(o, "sex=%c", t->sex); break;
    case PM_TERM_AGE_GE: put(o, "age>=%d", t->lo); break;
    case PM_TERM_AGE_LT: put(o, "age<%d", t->lo); break;
    case PM_TERM_BORN:
        if (t->lo == t->hi)
            put(o, "born:%04d", t->lo);
        else
            put(o, "born:%04d..%04d", t->lo, t->hi);
        break;
    case PM_TERM_COUNTY: put(o, "county:%02d", t->lo); break;
    case PM_TERM_ALIVE: put(o, "alive"); break;
    case PM_TERM_SOURCE:
    case PM_TERM_ASSAY:
    case PM_TERM_ENDPOINT:
        put(o, "%s", pm_term_kind_text(t->kind));
        put_name(o, t->name);
        break;
    case PM_TERM_CARRIER:
        put(o, "carrier(%s:%lld:%s:%s)", t->chrom, (long long)t->pos, t->ref, t->alt);
        break;
    case PM_TERM_OMICS_GT:
    case PM_TERM_OMICS_LT:
        put(o, "omics:");
        put_name(o, t->name);
        put(o, ":");
        put_name(o, t->feature);
        put(o, "%c%s", t->kind == PM_TERM_OMICS_GT ? '>' : '<', t->xtext);
        break;
    default: put(o, "%s%s", pm_term_kind_text(t->kind), t->code); break;
    }
}

static int prec(const pm_node_t *n)
{
    switch (n->op) {
    case PM_NODE_OR: return 1;
    case PM_NODE_AND: return 2;
    case PM_NODE_NOT: return 3;
    default: return 4;
    }
}

static void put_node(out_t *o, const pm_node_t *n, int min_prec)
{
    static const char *const q[] = {"", "first ", "last "};
    static const char *const unit[] = {['d'] = "days", ['w'] = "weeks", ['m'] = "months",
                                       ['y'] = "years"};
    int paren = prec(n) < min_prec;
    if (paren)
        put(o, "(");
    switch (n->op) {
    case PM_NODE_TERM: put_term(o, &n->term); break;
    case PM_NODE_NOT:
        put(o, "not ");
        put_node(o, n->a, 3);
        break;
    case PM_NODE_AND:
    case PM_NODE_OR:
        /* left-associative: a right operand of the same precedence needs parentheses */
        put_node(o, n->a, prec(n));
        put(o, n->op == PM_NODE_AND ? " and " : " or ");
        put_node(o, n->b, prec(n) + 1);
        break;
    case PM_NODE_WINDOW:
        put(o, "%s", q[n->ev_q]);
        put_term(o, &n->a->term);
        put(o, " within %d %s %s %s", n->amount, unit[n->unit],
            n->dir == PM_DIR_AFTER ? "after" : "before", q[n->an_q]);
        put_term(o, &n->b->term);
        break;
    }
    if (paren)
        put(o, ")");
}

size_t pm_cohort_format(const pm_cohort_t *c, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    if (c && c->root)
        put_node(&o, c->root, 0);
    return o.len;
}
