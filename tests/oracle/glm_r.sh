#!/bin/bash
# glm_r.sh - the association kernels (src/stats) against R and plink2 on
# random data generated here (no stored fixtures).
#
#   1. R writes a TSV: 3 covariates (age-like, sex, a PC), quantitative
#      phenotypes y_full (complete) and y_na (10% NA), binary phenotypes
#      b_common (~30% cases) and b_rare (~6% cases), and 40 variants
#      g_* from singletons to common, with 0%, 0.5% and 5% missing calls.
#   2. The unit-test binary in driver mode (`test_stats glm FILE`) prints
#      BETA SE T_OR_Z P per variant and phenotype, once with dense input
#      and once with carrier lists (--sparse), and once with Firth for
#      every binary row (--firth-all).
#   3. R's lm (refit on the samples with a call) must match the linear
#      rows within 1e-6 relative; R's Rao score test (anova(..., test =
#      "Rao"), tight glm.control) must match the SCORE rows of variants
#      without missing calls within 1e-6.
#   4. plink2 --glm firth on a VCF of the same genotypes must match the
#      linear rows (plink2 prints 6 significant digits: 1e-4) and every
#      Firth row within 1e-4 relative (BETA, SE) and the P values within
#      1e-3 relative.
# Reports the largest relative differences. Needs Rscript; the plink2 part
# is skipped when plink2 is not installed.
set -euo pipefail
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PM_BUILD_DIR=${PM_BUILD_DIR:-$PM_SOURCE_DIR/build}
PROMISE=${PROMISE:-$PM_BUILD_DIR/promise}
PM_TEST_DATA=${PM_TEST_DATA:-$PM_SOURCE_DIR/../shared/test-data}
export PROMISE PM_TEST_DATA
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"

DRIVER=${PM_STATS_DRIVER:-$PM_BUILD_DIR/test_stats}
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed"; exit 0; }
[ -x "$DRIVER" ] || { echo "SKIP: $DRIVER not built"; exit 0; }
PLINK2=""
if [ -x /usr/lib/plink2/plink2-avx2 ] && /usr/lib/plink2/plink2-avx2 --version >/dev/null 2>&1; then
    PLINK2=/usr/lib/plink2/plink2-avx2
elif command -v plink2 >/dev/null; then
    PLINK2=plink2
fi

say "data: R, seed 20240611"
cat >"$W/gen.R" <<'EOF'
set.seed(20240611)
n <- 600
age <- round(runif(n, 20, 80), 1); sex <- rbinom(n, 1, 0.5); pc1 <- rnorm(n)
afs <- c(rep(0.001, 4), rep(0.005, 6), rep(0.02, 8), rep(0.1, 8), rep(0.3, 8), rep(0.5, 6))
G <- sapply(afs, function(a) rbinom(n, 2, a))
for (j in seq_along(afs)) if (sum(G[, j]) == 0) G[sample(n, 1), j] <- 1   # no monomorphic
mrate <- rep(c(0, 0.005, 0.05), length.out = length(afs))
for (j in seq_along(afs)) G[runif(n) < mrate[j], j] <- NA
lin <- 0.02 * (age - 50) + 0.3 * sex + 0.2 * pc1
y_full <- lin + 0.5 * ifelse(is.na(G[, 20]), 0, G[, 20]) + rnorm(n)
y_na <- 100 + 3 * lin + rnorm(n, 0, 2); y_na[runif(n) < 0.1] <- NA
b_common <- rbinom(n, 1, plogis(-1 + lin + 0.6 * ifelse(is.na(G[, 22]), 0, G[, 22])))
b_rare <- rbinom(n, 1, plogis(-3 + lin + 1.5 * ifelse(is.na(G[, 12]), 0, G[, 12])))
d <- data.frame(y_full, y_na, b_common, b_rare, c_age = age, c_sex = sex, c_pc1 = pc1)
colnames(G) <- sprintf("g_%02d", seq_along(afs))
d <- cbind(d, G)
write.table(d, "data.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
EOF
(cd "$W" && Rscript gen.R)

say "driver: $DRIVER"
"$DRIVER" glm "$W/data.tsv" >"$W/ours.tsv"
"$DRIVER" glm "$W/data.tsv" --sparse >"$W/ours_sparse.tsv"
"$DRIVER" glm "$W/data.tsv" --firth-all >"$W/ours_firth.tsv"

cat >"$W/cmp_r.R" <<'EOF'
d <- read.delim("data.tsv")
o <- read.delim("ours.tsv"); os <- read.delim("ours_sparse.tsv")
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
gs <- grep("^g_", names(d), value = TRUE)
ctl <- glm.control(epsilon = 1e-15, maxit = 100)
worst_lin <- 0; worst_score <- 0; n_lin <- 0; n_score <- 0
for (g in gs) {
  x <- d[[g]]
  for (y in c("y_full", "y_na")) {
    ok <- !is.na(x) & !is.na(d[[y]])
    f <- lm(d[[y]][ok] ~ d$c_age[ok] + d$c_sex[ok] + d$c_pc1[ok] + x[ok])
    s <- summary(f)$coefficients
    r <- o[o$VARIANT == g & o$PHENO == y, ]
    if (nrow(s) < 5) { if (r$ERRCODE == ".") stop(paste("R drops", g, y, "we do not")); next }
    if (r$OBS_CT != sum(ok)) stop(paste("OBS_CT", g, y, r$OBS_CT, sum(ok)))
    e <- max(rel(c(r$BETA, r$SE, r$T_OR_Z, r$P), s[5, ]))
    worst_lin <- max(worst_lin, e); n_lin <- n_lin + 1
  }
  for (b in c("b_common", "b_rare")) {
    if (any(is.na(x))) next        # with missing calls the score test is approximate
    f0 <- glm(d[[b]] ~ d$c_age + d$c_sex + d$c_pc1, family = binomial, control = ctl)
    f1 <- glm(d[[b]] ~ d$c_age + d$c_sex + d$c_pc1 + x, family = binomial, control = ctl)
    a <- anova(f0, f1, test = "Rao")
    r <- o[o$VARIANT == g & o$PHENO == b, ]
    if (r$ERRCODE != ".") next
    e <- max(rel(c(r$SCORE_P, r$SCORE_P), c(a[2, "Pr(>Chi)"], a[2, "Pr(>Chi)"])))
    if (r$TEST == "SCORE") e <- max(e, rel(r$T_OR_Z^2, a$Rao[2]))
    worst_score <- max(worst_score, e); n_score <- n_score + 1
  }
}
num <- c("BETA", "SE", "T_OR_Z", "P")
e_sp <- max(sapply(num, function(cn) max(rel(o[[cn]], os[[cn]]), na.rm = TRUE)))
cat(sprintf("linear vs R lm: %d rows, max rel %.3g\n", n_lin, worst_lin))
cat(sprintf("score vs R Rao: %d rows, max rel %.3g\n", n_score, worst_score))
cat(sprintf("sparse vs dense input: max rel %.3g\n", e_sp))
cat(sprintf("firth rows in the default run: %d of %d binary rows\n",
            sum(o$TEST == "FIRTH"), sum(o$PHENO %in% c("b_common", "b_rare"))))
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(worst_lin < 1e-6, "linear BETA SE T P within 1e-6 of R lm (refit on the called samples)")
q(worst_score < 1e-6, "score statistic and p within 1e-6 of R anova(test = 'Rao')")
q(e_sp < 1e-10, "carrier-list input equals dense input")
EOF
(cd "$W" && Rscript cmp_r.R 2>&1) >"$W/cmp_r.out"
grep -v -E '^(ok |FAILED |Warning|[0-9]+: glm.fit)' "$W/cmp_r.out" || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <"$W/cmp_r.out"

if [ -z "$PLINK2" ]; then
    say "SKIP: plink2 not installed (Firth comparison)"
    oracle_done
fi

say "plink2: $PLINK2 --glm firth"
cat >"$W/vcf.R" <<'EOF'
d <- read.delim("data.tsv")
gs <- grep("^g_", names(d), value = TRUE)
ids <- sprintf("S%04d", seq_len(nrow(d)))
con <- file("data.vcf", "w")
writeLines(c("##fileformat=VCFv4.2", "##contig=<ID=1,length=1000000>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             paste(c("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", ids),
                   collapse = "\t")), con)
code <- c("0/0", "0/1", "1/1")
for (j in seq_along(gs)) {
  x <- d[[gs[j]]]
  gt <- ifelse(is.na(x), "./.", code[x + 1])
  writeLines(paste(c("1", 1000 * j, gs[j], "A", "G", ".", ".", ".", "GT", gt), collapse = "\t"), con)
}
close(con)
ph <- data.frame(`#IID` = ids, y_full = d$y_full, y_na = d$y_na,
                 b_common = d$b_common + 1, b_rare = d$b_rare + 1, check.names = FALSE)
write.table(ph, "pheno.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
cv <- data.frame(`#IID` = ids, age = d$c_age, sex = d$c_sex, pc1 = d$c_pc1, check.names = FALSE)
write.table(cv, "covar.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
EOF
(cd "$W" && Rscript vcf.R)
(cd "$W" && "$PLINK2" --vcf data.vcf --make-pgen --out geno >plink2.log 2>&1) || {
    fail "plink2 --make-pgen failed: $(tail -3 "$W/plink2.log")"
    oracle_done
}
PLARGS=(--pheno pheno.tsv --covar covar.tsv --covar-variance-standardize
    --glm firth hide-covar cols=+a1count,+beta --threads 1)
(cd "$W" && "$PLINK2" --pfile geno "${PLARGS[@]}" --out pl >>plink2.log 2>&1) || {
    fail "plink2 --glm failed: $(tail -3 "$W/plink2.log")"
    oracle_done
}
# Variants with missing calls once more, each with its uncalled samples
# removed up front (--remove): plink2 2.00a3.5's Firth rows for variants
# with missing calls differ from its own result on exactly the called
# samples (and from R); the latter is the definition implemented here.
(cd "$W" && Rscript -e 'd <- read.delim("data.tsv"); ids <- sprintf("S%04d", seq_len(nrow(d)))
  for (g in grep("^g_", names(d), value = TRUE)) if (any(is.na(d[[g]])))
    writeLines(ids[is.na(d[[g]])], sprintf("rm_%s.txt", g))')
for f in "$W"/rm_g_*.txt; do
    g=$(basename "$f" .txt)
    g=${g#rm_}
    (cd "$W" && "$PLINK2" --pfile geno "${PLARGS[@]}" --snp "$g" --remove "$f" --out "rm_$g" \
        >>plink2.log 2>&1) || fail "plink2 on $g without its uncalled samples"
done
cat >"$W/cmp_p.R" <<'EOF'
d <- read.delim("data.tsv")
o <- read.delim("ours.tsv"); of <- read.delim("ours_firth.tsv")
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
rd <- function(f) {
  x <- read.delim(f, check.names = FALSE,
                  colClasses = c(REF = "character", ALT = "character", A1 = "character"))
  names(x)[1] <- "CHROM"
  if (!is.null(x[["LOG(OR)_SE"]])) x$SE <- x[["LOG(OR)_SE"]]
  x
}
# plink2 2.00a3 tests the minor allele (A1) when ALT is the major one:
# BETA changes sign (linear, and Firth by its equivariance), SE and P do not
sgn <- function(p, i) if (p$A1[i] == p$ALT[i]) 1 else if (p$A1[i] == p$REF[i]) -1 else stop("A1")
# the textbook Firth fit (Heinze & Schemper 2002), tightly converged
firth <- function(X, y) {
  b <- rep(0, ncol(X))
  for (it in 1:500) {
    mu <- as.vector(plogis(X %*% b)); w <- mu * (1 - mu)
    Ii <- solve(crossprod(X, X * w))
    h <- rowSums((X %*% Ii) * X) * w
    delta <- Ii %*% crossprod(X, y - mu + h * (0.5 - mu))
    b <- b + delta
    if (max(abs(delta)) < 1e-11) break
  }
  mu <- as.vector(plogis(X %*% b))
  c(b[ncol(X)], sqrt(solve(crossprod(X, X * mu * (1 - mu)))[ncol(X), ncol(X)]))
}
worst <- c(lin = 0, lin_p = 0, firth = 0, firth_p = 0, firth_tol = 0, def = 0, rfirth = 0)
n <- c(lin = 0, firth = 0, def = 0, rfirth = 0, removed = 0)
na_mismatch <- 0
for (y in c("y_full", "y_na")) {
  p <- rd(sprintf("pl.%s.glm.linear", y))
  for (i in seq_len(nrow(p))) {
    r <- o[o$VARIANT == p$ID[i] & o$PHENO == y, ]
    if (p$P[i] == "NA" || is.na(p$P[i])) { na_mismatch <- na_mismatch + (r$ERRCODE == "."); next }
    if (r$OBS_CT != p$OBS_CT[i]) stop(paste("OBS_CT", p$ID[i], y))
    worst["lin"] <- max(worst["lin"], rel(r$BETA, sgn(p, i) * as.numeric(p$BETA[i])),
                        rel(r$SE, as.numeric(p$SE[i])))
    worst["lin_p"] <- max(worst["lin_p"], rel(r$P, as.numeric(p$P[i])))
    n["lin"] <- n["lin"] + 1
  }
}
for (b in c("b_common", "b_rare")) {
  p <- rd(sprintf("pl.%s.glm.firth", b))
  for (i in seq_len(nrow(p))) {
    g <- p$ID[i]
    pp <- p[i, ]
    rmf <- sprintf("rm_%s.%s.glm.firth", g, b)
    if (file.exists(rmf)) { pp <- rd(rmf); n["removed"] <- n["removed"] + 1 }
    if (pp$P[1] == "NA" || is.na(pp$P[1])) next
    r <- of[of$VARIANT == g & of$PHENO == b, ]
    if (r$ERRCODE != ".") { na_mismatch <- na_mismatch + 1; next }
    if (r$OBS_CT != pp$OBS_CT[1]) stop(paste("OBS_CT", g, b))
    pb <- sgn(pp, 1) * as.numeric(pp$BETA[1]); ps <- as.numeric(pp$SE[1])
    worst["firth"] <- max(worst["firth"], rel(r$BETA, pb), rel(r$SE, ps))
    worst["firth_p"] <- max(worst["firth_p"], rel(r$P, as.numeric(pp$P[1])))
    # plink2 2.00a3.5 stops its Firth iterations early (up to ~5e-4 on
    # slowly converging rare variants): within 1e-4 relative or 1e-3 SE
    e <- max(abs(r$BETA - pb) / max(1e-4 * abs(pb), 1e-3 * ps),
             abs(r$SE - ps) / max(1e-4 * ps, 1e-3 * ps))
    worst["firth_tol"] <- max(worst["firth_tol"], e)
    n["firth"] <- n["firth"] + 1
    dd <- o[o$VARIANT == g & o$PHENO == b, ]
    if (dd$TEST == "FIRTH") {
      worst["def"] <- max(worst["def"], rel(dd$BETA, r$BETA), rel(dd$SE, r$SE))
      n["def"] <- n["def"] + 1
    }
    x <- d[[g]]; ok <- !is.na(x)
    rf <- firth(cbind(1, d$c_age, d$c_sex, d$c_pc1, x)[ok, ], d[[b]][ok])
    worst["rfirth"] <- max(worst["rfirth"], rel(r$BETA, rf[1]), rel(r$SE, rf[2]))
    n["rfirth"] <- n["rfirth"] + 1
  }
}
cat(sprintf("linear vs plink2: %d rows, max rel BETA/SE %.3g, P %.3g\n",
            n["lin"], worst["lin"], worst["lin_p"]))
cat(sprintf(paste("firth vs plink2: %d rows (%d with uncalled samples removed for plink2),",
                  "max rel BETA/SE %.3g, P %.3g; worst in units of the tolerance %.3g\n"),
            n["firth"], n["removed"], worst["firth"], worst["firth_p"], worst["firth_tol"]))
cat(sprintf("firth vs a textbook Firth fit in R: %d rows, max rel BETA/SE %.3g\n",
            n["rfirth"], worst["rfirth"]))
cat(sprintf("score-then-Firth run: %d FIRTH rows, max rel to the all-Firth run %.3g\n",
            n["def"], worst["def"]))
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(na_mismatch == 0, "rows plink2 reports as NA are error rows here too, and vice versa")
q(n["lin"] > 50 && worst["lin"] < 1e-4 && worst["lin_p"] < 1e-4,
  "linear BETA SE P within plink2's printed precision (1e-4)")
q(n["firth"] > 50 && worst["firth_tol"] <= 1,
  "Firth BETA and SE within 1e-4 relative (or 1e-3 SE) of plink2 --glm firth")
q(worst["firth_p"] < 1e-3, "Firth P within 1e-3 relative of plink2")
q(n["rfirth"] > 50 && worst["rfirth"] < 1e-6, "Firth BETA and SE within 1e-6 of a textbook Firth fit in R")
q(worst["def"] < 1e-9, "FIRTH rows of the score-then-Firth run equal the all-Firth run")
EOF
(cd "$W" && Rscript cmp_p.R 2>&1) >"$W/cmp_p.out"
grep -v -E '^(ok |FAILED |Warning|[0-9]+: glm.fit)' "$W/cmp_p.out" || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <"$W/cmp_p.out"
oracle_done
