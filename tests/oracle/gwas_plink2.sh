#!/bin/bash
# gwas_plink2.sh - `promise gwas` end to end against plink2 --glm and R.
#
#   1. `promise simulate` (3000 individuals, 2000 variants, seed 7); init,
#      ingest population, samples (plus one "qpheno" sample per genotyped
#      individual, to carry a quantitative phenotype) and the VCF.
#   2. `promise view` exports the genotypes; R computes age (at
#      2026-01-01, age at death for the dead), sex and source membership
#      per individual from the simulated tables, draws a quantitative
#      phenotype (omics matrix, assay qpheno, feature Y1) and MI cases
#      (registry events I21, endpoint I9_MI) with known genetic effects.
#   3. `promise gwas --pheno omics:qpheno:Y1 --pheno endpoint:I9_MI
#      --covar age,sex,source` in one pass; plink2 --glm firth on the same
#      VCF, samples, phenotypes and covariates (the source one-hot columns
#      are read back from PREFIX.log, so both use the same levels).
#   4. Checks: linear rows vs R lm (refit on the called samples) within
#      1e-6 relative; vs plink2 at its printed precision (6 significant
#      digits: |diff| <= 1 unit of the 6th digit), biallelic records only
#      (plink2 fits a multi-allelic record's other ALTs as covariates);
#      FIRTH rows vs a textbook Firth fit in R within 1e-6, and vs plink2
#      --glm firth within 5e-4 relative (BETA, SE; or 5e-3 of SE for BETA)
#      and P within 1e-3 relative, on variants without missing calls
#      (plink2's Firth treats uncalled samples differently); SCORE p vs
#      plink2's Firth Wald p as a correlation of -log10 p (printed; > 0.8
#      overall and > 0.95 for ALT count >= 10); causal variants found;
#      lambda in the log and on stderr; plots written; --as-tier
#      registered withholds rows and accounts for all of them.
set -euo pipefail
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PM_BUILD_DIR=${PM_BUILD_DIR:-$PM_SOURCE_DIR/build}
PROMISE=${PROMISE:-$PM_BUILD_DIR/promise}
PM_TEST_DATA=${PM_TEST_DATA:-$PM_SOURCE_DIR/../shared/test-data}
export PROMISE PM_TEST_DATA
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"

need_cmd simulate keygen init ingest view gwas
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed"; exit 0; }
PLINK2=""
if [ -x /usr/lib/plink2/plink2-avx2 ] && /usr/lib/plink2/plink2-avx2 --version >/dev/null 2>&1; then
    PLINK2=/usr/lib/plink2/plink2-avx2
elif command -v plink2 >/dev/null; then
    PLINK2=plink2
fi
[ -n "$PLINK2" ] || { echo "SKIP: plink2 not installed"; exit 0; }

cd "$W"
say "store: promise simulate D --individuals 3000 --variants 2000 --seed 7"
"$PROMISE" simulate D --individuals 3000 --variants 2000 --seed 7 2>/dev/null
"$PROMISE" keygen k.key >/dev/null
"$PROMISE" init st >/dev/null
# one qpheno sample per genotyped individual, same source as its genotype sample
awk -F'\t' -v OFS='\t' 'NR == 1 { print; next } { print }
    $4 == "array" || $4 == "wgs" || $4 == "wes" {
        if (!seen[$2]++) { $1 = "Q" $1; $4 = "qpheno"; print } }' D/samples.tsv >samples.tsv
"$PROMISE" ingest population st D/population.tsv --key k.key >/dev/null
"$PROMISE" ingest samples st samples.tsv --key k.key >/dev/null
# one genotype column per individual (plink2 would count a second one as another sample)
bcftools query -l D/genotypes.vcf.gz >cols.txt
awk -F'\t' 'NR == FNR { if (FNR > 1) pn[$1] = $2; next } !seen[pn[$1]]++' D/samples.tsv cols.txt >keep.txt
bcftools view -S keep.txt -Oz -o g.vcf.gz D/genotypes.vcf.gz
"$PROMISE" ingest vcf st g.vcf.gz >/dev/null 2>&1
"$PROMISE" view st -o all.vcf

say "phenotypes: R"
cat >gen.R <<'EOF'
set.seed(7)
pop <- read.delim("D/population.tsv", colClasses = "character")
smp <- read.delim("samples.tsv", colClasses = "character")
hdr <- readLines("all.vcf", n = 200); hdr <- hdr[grepl("^#CHROM", hdr)]
ids <- strsplit(hdr, "\t")[[1]][-(1:9)]
v <- read.delim("all.vcf", comment.char = "#", header = FALSE, colClasses = "character")
gt <- as.matrix(v[, -(1:9)])
code <- function(x) ifelse(x %in% c("0/0", "0|0", "0"), 0, ifelse(x %in% c("0/1", "1/0", "0|1", "1|0", "1"), 1,
               ifelse(x %in% c("1/1", "1|1"), 2, NA)))
G <- t(apply(gt, 1, code))                       # variants x samples
pn <- smp$personnummer[match(ids, smp$sample_id)]
if (any(duplicated(pn))) stop("an individual with two genotype columns")
p <- pop[match(pn, pop$personnummer), ]
ref <- as.Date("2026-01-01"); b <- as.Date(p$birth_date)
end <- rep(ref, nrow(p)); dd <- p$death_date != "" & !is.na(p$death_date)
end[dd] <- pmin(ref, as.Date(p$death_date[dd]))
ym <- function(d) as.integer(format(d, "%m")) * 100 + as.integer(format(d, "%d"))
age <- as.integer(format(end, "%Y")) - as.integer(format(b, "%Y")) - (ym(end) < ym(b))
sex <- ifelse(p$sex == "M", 1, ifelse(p$sex == "F", 0, NA))
srcs <- sort(unique(smp$source))
S <- sapply(srcs, function(s) as.integer(pn %in% smp$personnummer[smp$source == s]))
colnames(S) <- srcs
maf <- rowMeans(G, na.rm = TRUE) / 2
cand <- which(maf > 0.15 & maf < 0.5 & rowSums(is.na(G)) == 0)
cq <- cand[1]; cb <- cand[length(cand)]
g1 <- G[cq, ]; g2 <- G[cb, ]
y <- 0.03 * (age - 50) + 0.4 * sex + 0.8 * g1 + rnorm(length(ids))
y <- round(y * 2^16) / 2^16   # exact in the store's float values
case <- rbinom(length(ids), 1, plogis(-1.2 + 0.01 * (age - 50) + 0.3 * sex + 1.0 * g2))
qid <- paste0("Q", ids)
writeLines(c(paste(c("feature_id", qid), collapse = "\t"),
             paste(c("Y1", sprintf("%.17g", y)), collapse = "\t")), "omics.tsv")
ev <- data.frame(personnummer = pn[case == 1], date = "2025-06-01", register = "patient", code = "I21.9")
write.table(ev, "events.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
d <- data.frame(IID = ids, y = y, mi = case, age = age, sex = sex, S, check.names = FALSE)
write.table(d, "data.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
writeLines(sprintf("%s\t%s", v[c(cq, cb), 1], v[c(cq, cb), 2]), "causal.txt")
EOF
Rscript gen.R
"$PROMISE" ingest omics st omics.tsv --assay qpheno >/dev/null
"$PROMISE" ingest registry st events.tsv --key k.key >/dev/null

say "promise gwas (two phenotypes, one pass)"
"$PROMISE" gwas st --pheno omics:qpheno:Y1 --pheno endpoint:I9_MI --covar age,sex,source \
    --ref-date 2026-01-01 --threads 2 -o out 2>gwas.err || { cat gwas.err; fail "promise gwas failed"; oracle_done; }
cat gwas.err
for f in out.qpheno_Y1.tsv out.I9_MI.tsv out.log out.qpheno_Y1.manhattan.svg out.qpheno_Y1.qq.svg \
    out.I9_MI.manhattan.svg out.I9_MI.qq.svg; do
    [ -s "$f" ] && ok "wrote $f" || fail "no $f"
done
grep -q "lambda=" out.log && ok "lambda in out.log" || fail "no lambda in out.log"
grep -q "genomic-control lambda" gwas.err && ok "lambda on stderr" || fail "no lambda on stderr"
covars=$(awk -F'\t' '$1 == "covariates" { print $2 }' out.log)
say "covariates: $covars"

say "plink2: $PLINK2 --glm firth"
cat >plfiles.R <<'EOF'
d <- read.delim("data.tsv", check.names = FALSE)
cv <- strsplit(readLines("covars.txt"), ",")[[1]]
cols <- sub("^source=", "", cv)
ph <- data.frame(`#IID` = d$IID, y = d$y, mi = d$mi + 1, check.names = FALSE)
write.table(ph, "pheno.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
X <- d[, cols, drop = FALSE]; names(X) <- make.names(cv)
write.table(cbind(`#IID` = d$IID, X), "covar.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
EOF
printf '%s\n' "$covars" >covars.txt
Rscript plfiles.R
"$PLINK2" --vcf all.vcf --make-pgen --out geno >plink2.log 2>&1 || { fail "plink2 --make-pgen: $(tail -3 plink2.log)"; oracle_done; }
"$PLINK2" --pfile geno --pheno pheno.tsv --covar covar.tsv --covar-variance-standardize \
    --glm firth hide-covar cols=+a1count,+beta --threads 1 --out pl >>plink2.log 2>&1 ||
    { fail "plink2 --glm: $(tail -3 plink2.log)"; oracle_done; }

cat >cmp.R <<'EOF'
d <- read.delim("data.tsv", check.names = FALSE)
cv <- sub("^source=", "", strsplit(readLines("covars.txt"), ",")[[1]])
v <- read.delim("all.vcf", comment.char = "#", header = FALSE, colClasses = "character")
gt <- as.matrix(v[, -(1:9)])
# per-ALT dosage rows: record r, allele k
alts <- strsplit(v[, 5], ",")
rec <- rep(seq_len(nrow(v)), lengths(alts)); al <- unlist(lapply(alts, seq_along))
key <- paste(v[rec, 1], v[rec, 2], v[rec, 4], unlist(alts))
dosage <- function(x, k) {
  a <- strsplit(x, "[/|]")
  sapply(a, function(y) if (any(y == ".")) NA else sum(y == as.character(k)))
}
G <- t(sapply(seq_along(rec), function(i) dosage(gt[rec[i], ], al[i])))
rd <- function(f) read.delim(f, check.names = FALSE, colClasses = c(REF = "character", ALT = "character", A1 = "character"),
                             na.strings = "NA")
oq <- rd("out.qpheno_Y1.tsv"); ob <- rd("out.I9_MI.tsv")
names(oq)[1] <- names(ob)[1] <- "CHROM"
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
# 6 significant digits as plink2 prints: difference in units of the last digit
u6 <- function(ours, pl) abs(ours - pl) / (10^(floor(log10(abs(pl))) - 5))
plkey <- function(p) paste(p$CHROM, p$POS, p$REF, ifelse(p$A1 == p$REF, p$ALT, p$A1))
plsgn <- function(p) ifelse(p$A1 == p$REF, -1, 1)
X <- as.matrix(d[, cv, drop = FALSE])
# R lm on the called samples
wl <- 0; nl <- 0
for (i in seq_len(nrow(oq))) {
  r <- oq[i, ]; if (is.na(r$P)) next
  j <- match(paste(r$CHROM, r$POS, r$REF, r$ALT), key); g <- G[j, ]
  ok <- !is.na(g)
  s <- summary(lm(d$y[ok] ~ X[ok, ] + g[ok]))$coefficients
  k <- nrow(s)
  if (r$OBS_CT != sum(ok)) stop(paste("OBS_CT", i, r$OBS_CT, sum(ok)))
  wl <- max(wl, rel(c(r$BETA, r$SE, r$T_OR_Z, r$P), s[k, ])); nl <- nl + 1
}
# plink2 linear
pl <- rd("pl.y.glm.linear"); names(pl)[1] <- "CHROM"
pk <- plkey(pl)
m <- match(paste(oq$CHROM, oq$POS, oq$REF, oq$ALT), pk)
bi <- !grepl(",", pl$ALT[m])   # plink2 fits the other ALTs of a multi-allelic record as covariates
ok <- !is.na(m) & bi & !is.na(oq$P) & !is.na(pl$P[m])
na_mis <- sum((is.na(oq$P) != is.na(pl$P[m]))[!grepl(",", pl$ALT[m])], na.rm = TRUE)
sg <- plsgn(pl)[m]
b <- sg[ok] * pl$BETA[m][ok]
lin_rel <- max(rel(oq$BETA[ok], b), rel(oq$SE[ok], pl$SE[m][ok]), rel(oq$P[ok], pl$P[m][ok]))
lin_u6 <- max(u6(oq$BETA[ok], b), u6(oq$SE[ok], pl$SE[m][ok]), u6(oq$P[ok], pl$P[m][ok]))
obs_mis <- sum(oq$OBS_CT[ok] != pl$OBS_CT[m][ok])
# plink2 firth
pf <- rd("pl.mi.glm.firth"); names(pf)[1] <- "CHROM"
if (!is.null(pf[["LOG(OR)_SE"]])) pf$SE <- pf[["LOG(OR)_SE"]]
fk <- plkey(pf)
m <- match(paste(ob$CHROM, ob$POS, ob$REF, ob$ALT), fk)
nomiss <- rowSums(is.na(G))[match(paste(ob$CHROM, ob$POS, ob$REF, ob$ALT), key)] == 0
fsg <- plsgn(pf)[m]
fb <- fsg * pf$BETA[m]
fbi <- !grepl(",", pf$ALT[m])
isf <- ob$TEST == "FIRTH" & !is.na(ob$P) & !is.na(pf$P[m]) & nomiss & fbi
fr <- max(c(0, rel(ob$BETA[isf], fb[isf]), rel(ob$SE[isf], pf$SE[m][isf])))
fp <- max(c(0, rel(ob$P[isf], pf$P[m][isf])))
ftol <- max(c(0, abs(ob$BETA[isf] - fb[isf]) / pmax(1e-4 * abs(fb[isf]), 1e-3 * pf$SE[m][isf]),
              abs(ob$SE[isf] - pf$SE[m][isf]) / (1e-4 * pf$SE[m][isf])))
iss <- ob$TEST == "SCORE" & !is.na(ob$P) & !is.na(pf$P[m]) & fbi
cr <- cor(-log10(ob$P[iss]), -log10(pf$P[m][iss]))
mac <- rowSums(G, na.rm = TRUE)[match(paste(ob$CHROM, ob$POS, ob$REF, ob$ALT), key)]
iss10 <- iss & mac >= 10
cr10 <- cor(-log10(ob$P[iss10]), -log10(pf$P[m][iss10]))
# a textbook Firth fit (as in glm_r.sh) on the FIRTH rows
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
rf <- 0; nrf <- 0
for (i in which(ob$TEST == "FIRTH" & !is.na(ob$P))) {
  g <- G[match(paste(ob$CHROM[i], ob$POS[i], ob$REF[i], ob$ALT[i]), key), ]
  okg <- !is.na(g)
  f <- tryCatch(firth(cbind(1, X, g)[okg, ], d$mi[okg]), error = function(e) NULL)
  if (is.null(f)) { cat(sprintf("R Firth fails (singular) on %s:%d %s>%s (ours: BETA %g SE %g)\n",
                                ob$CHROM[i], ob$POS[i], ob$REF[i], ob$ALT[i], ob$BETA[i], ob$SE[i])); next }
  rf <- max(rf, rel(ob$BETA[i], f[1]), rel(ob$SE[i], f[2])); nrf <- nrf + 1
}
causal <- read.delim("causal.txt", header = FALSE, colClasses = "character")
pq <- oq$P[oq$CHROM == causal[1, 1] & oq$POS == causal[1, 2]]
pb <- ob$P[ob$CHROM == causal[2, 1] & ob$POS == causal[2, 2]]
cat(sprintf("linear vs R lm: %d rows, max rel BETA/SE/T/P %.3g\n", nl, wl))
cat(sprintf("multi-allelic rows left out of the plink2 comparisons: %d\n", sum(!bi, na.rm = TRUE)))
cat(sprintf("linear vs plink2: %d rows, max rel %.3g, max diff %.3g units of plink2's 6th digit; OBS_CT mismatches %d; NA mismatches %d\n",
            sum(ok), lin_rel, lin_u6, obs_mis, na_mis))
cat(sprintf("firth vs plink2: %d FIRTH rows (of %d without missing calls), max rel BETA/SE %.3g, P %.3g; worst in units of the tolerance %.3g\n",
            sum(isf), sum(ob$TEST == "FIRTH" & !is.na(ob$P)), fr, fp, ftol))
cat(sprintf("firth vs a textbook Firth fit in R: %d rows, max rel BETA/SE %.3g\n", nrf, rf))
cat(sprintf("score p vs plink2 Firth Wald p: %d rows, correlation of -log10 p %.4f (%d rows with ALT count >= 10: %.4f)\n",
            sum(iss), cr, sum(iss10), cr10))
cat(sprintf("causal variants: quantitative p %.3g, binary p %.3g\n", pq, pb))
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(nl > 1000 && wl < 1e-6, "linear BETA SE T P within 1e-6 relative of R lm")
q(sum(ok) > 1000 && lin_u6 <= 1 && obs_mis == 0 && na_mis == 0, "linear BETA SE P equal plink2 at its printed precision (within 1 unit of the 6th digit)")
q(nrf > 20 && rf < 1e-6, "FIRTH rows within 1e-6 relative of a textbook Firth fit in R")
q(sum(isf) > 20 && ftol <= 5 && fp < 1e-3, "FIRTH rows within 5e-4 (BETA, SE) and 1e-3 (P) relative of plink2 --glm firth")
q(cr > 0.8 && cr10 > 0.95, "score p correlates with plink2's Wald p")
q(pq < 1e-6 && pb < 1e-3, "the causal variants stand out")
EOF
Rscript cmp.R >cmp.out 2>&1 || fail "cmp.R: $(tail -3 cmp.out)"
grep -v -E '^(ok |FAILED )' cmp.out || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <cmp.out

say "registered tier: rows with few carriers withheld"
"$PROMISE" gwas st --pheno endpoint:I9_MI --covar age,sex --ref-date 2026-01-01 --as-tier registered \
    --no-plots -o reg 2>reg.err || fail "gwas --as-tier registered failed: $(cat reg.err)"
nfull=$(awk -F'\t' '$1 == "variants" { print $2 }' out.log)
nreg=$(($(wc -l <reg.tsv) - 1))
withheld=$(grep -o 'withheld=[0-9]*' reg.log | cut -d= -f2)
say "registered: $nreg rows released, $withheld withheld of $nfull"
[ "$withheld" -gt 0 ] && [ $((nreg + withheld)) -eq "$nfull" ] && ok "registered tier withholds rows and accounts for all" ||
    fail "registered tier: $nreg + $withheld != $nfull"
oracle_done
