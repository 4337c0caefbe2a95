#!/bin/bash
# qtl_qtltools.sh - `promise qtl` against QTLtools `cis` (Debian qtltools
# 1.3.1) and R lm, on real genotypes.
#
# Data (named, real where it exists):
#   genotypes   1000 Genomes phase 3 subset, chr22 (1126 samples, ~1.1k
#               variants; $PM_TEST_DATA/1kg-phase3-subset-uwgac), IDs set to
#               CHROM:POS:REF:ALT and 0.5% of the calls (every 200th, in a
#               fixed pattern) set to missing, to exercise mean imputation.
#   covariates  real: sex, BMI and platelet count of the CINECA synthetic
#               cohort UK1 ($PM_TEST_DATA/cineca-uk1, keyed to the 1000G
#               IDs); BMI and platelets are loaded as omics features of the
#               assay and used as --covar omics:expr:BMI,omics:expr:PLT.
#               Individuals without them drop out of the analysis (and of
#               QTLtools' input files).
#   features    there is no real omics data on 1000G samples: 30 features
#               along chr22 are SIMULATED (R, seed 5) on the real genotypes,
#               up to 20 with a planted cis effect (those with a common variant within 200 kb), 10
#               null, plus the covariates' effects and noise; 1% of values
#               missing (NA). Values are rounded to 2^-12 so that float32
#               storage is exact.
#
# Checks:
#   1. --model qtltools vs QTLtools cis --nominal 1 (same VCF, phenotype
#      BED, covariates): every pair QTLtools tests is in ours (QTLtools
#      drops multi-allelic records; we test each ALT) with the same
#      distance, and slope and p agree to QTLtools' printed precision (it
#      prints 6 significant digits and computes in float: |diff| <= 2 units
#      of the 6th digit).
#   2. --model lm vs R lm(y ~ sex + BMI + PLT + g) with the same mean
#      imputation, every pair: slope, SE, t, p within 1e-6 relative.
#   3. best.tsv vs QTLtools cis --permute 1000: the same best variant per
#      feature; the beta-approximated p of both correlate (-log10, > 0.95)
#      and the planted features are found (p_beta < 1e-4) by both.
#   4. n per pair = individuals with a value and a call (computed in R).
set -euo pipefail
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PM_BUILD_DIR=${PM_BUILD_DIR:-$PM_SOURCE_DIR/build}
PROMISE=${PROMISE:-$PM_BUILD_DIR/promise}
PM_TEST_DATA=${PM_TEST_DATA:-$PM_SOURCE_DIR/../shared/test-data}
export PROMISE PM_TEST_DATA
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"

need_cmd keygen init ingest qtl
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed"; exit 0; }
QTLTOOLS=$(command -v QTLtools || true)
[ -n "$QTLTOOLS" ] || { echo "SKIP: QTLtools not installed"; exit 0; }
command -v tabix >/dev/null || { echo "SKIP: tabix not installed"; exit 0; }
KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac/1KG_phase3_subset_chr22.vcf.gz
UK1=$PM_TEST_DATA/cineca-uk1/uk1.tsv
[ -r "$KG" ] && [ -r "$UK1" ] || { echo "SKIP: 1000G subset or CINECA UK1 missing"; exit 0; }

cd "$W"
say "genotypes: $KG (IDs CHROM:POS:REF:ALT, every 200th call missing)"
bcftools annotate --set-id '%CHROM:%POS:%REF:%FIRST_ALT' "$KG" -Ov |
    awk -F'\t' -v OFS='\t' '/^#/ { print; next }
        { for (i = 10; i <= NF; i++) if ((++c) % 200 == 0) $i = "./."; print }' |
    bgzip -c >g.vcf.gz
tabix -f -p vcf g.vcf.gz
bcftools query -l g.vcf.gz >samples.txt
mk_store st samples.txt --sex-table "$UK1" >/dev/null 2>mk.err || { cat mk.err; fail "mk_store"; oracle_done; }
# one omics sample per individual (assay expr), same person as the genotype sample
awk -F'\t' -v OFS='\t' 'NR == 1 { print; next } { $1 = "E_" $1; $4 = "expr"; print }' \
    st.tables/samples.tsv >esamples.tsv
"$PROMISE" ingest samples st esamples.tsv --key st.key >/dev/null
"$PROMISE" ingest vcf st g.vcf.gz >/dev/null 2>&1

say "features: simulated in R on the real genotypes; covariates from CINECA UK1"
cat >gen.R <<'EOF'
set.seed(5)
ids <- readLines("samples.txt")
uk <- read.delim("UK1", check.names = FALSE, colClasses = "character", quote = "")
uk <- uk[match(ids, uk[["Subject id"]]), ]
num <- function(x) suppressWarnings(as.numeric(x))
# rounded so that the store's float32 holds them exactly
bmi <- round(num(uk[["Body mass index (BMI)-0.0"]]) * 1024) / 1024
plt <- round(num(uk[["Platelet count-0.0"]]) * 256) / 256
sex <- ifelse(tolower(substr(uk[["Sex"]], 1, 1)) == "m", 1, 0)
sex[is.na(uk[["Sex"]])] <- NA
v <- read.delim(gzfile("g.vcf.gz"), comment.char = "#", header = FALSE, colClasses = "character")
v <- v[!grepl(",", v[, 5]), ]
gt <- as.matrix(v[, -(1:9)])
G <- matrix(NA_real_, nrow(gt), ncol(gt))
G[gt == "0|0" | gt == "0/0"] <- 0; G[gt %in% c("0|1", "1|0", "0/1")] <- 1; G[gt == "1|1" | gt == "1/1"] <- 2
pos <- as.integer(v[, 2])
maf <- rowMeans(G, na.rm = TRUE) / 2
nf <- 30
tss <- as.integer(seq(17.2e6, 50.5e6, length.out = nf))
Y <- matrix(NA_real_, nf, length(ids)); causal <- rep(NA, nf)
cz <- function(x) { x <- x - mean(x, na.rm = TRUE); x[is.na(x)] <- 0; x }
for (f in 1:nf) {
  y <- 0.3 * cz(sex) + 0.02 * cz(bmi) + 0.002 * cz(plt) + rnorm(length(ids))
  if (f <= 20) {
    cand <- which(abs(pos - tss[f]) < 2e5 & maf > 0.1 & maf < 0.9)
    if (length(cand)) { j <- cand[1 + (f %% length(cand))]; causal[f] <- v[j, 3]
      y <- y + 0.35 * cz(G[j, ]) }
  }
  y[sample(length(ids), round(0.01 * length(ids)))] <- NA
  Y[f, ] <- round(y * 4096) / 4096
}
fid <- sprintf("F%02d", 1:nf)
strand <- ifelse(1:nf %% 3 == 0, "-", "+")
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
# the omics matrix: features and the two covariates, one column per E_ sample
M <- rbind(Y, BMI = bmi, PLT = plt)
writeLines(c(paste(c("feature_id", paste0("E_", ids)), collapse = "\t"),
             sapply(1:nrow(M), function(i) paste(c(c(fid, "BMI", "PLT")[i], fmt(M[i, ])), collapse = "\t"))),
           "omics.tsv")
writeLines(sprintf("22\t%d\t%d\t%s\t%s", tss - 1, tss, fid, strand), "features.bed")
# QTLtools inputs: the analysis individuals only (every covariate, some value)
keep <- !is.na(sex) & !is.na(bmi) & !is.na(plt) & colSums(!is.na(Y)) > 0
k <- which(keep)
hdr <- paste(c("#chr", "start", "end", "id", "gid", "strand", ids[k]), collapse = "\t")
rows <- sapply(1:nf, function(f) paste(c("22", tss[f] - 1, tss[f], fid[f], fid[f], strand[f], fmt(Y[f, k])), collapse = "\t"))
writeLines(c(hdr, rows), "pheno.bed")
writeLines(c(paste(c("id", ids[k]), collapse = "\t"),
             paste(c("sex", fmt(sex[k])), collapse = "\t"),
             paste(c("BMI", fmt(bmi[k])), collapse = "\t"),
             paste(c("PLT", fmt(plt[k])), collapse = "\t")), "cov.txt")
writeLines(ids[k], "keep.txt")
writeLines(paste(fid, ifelse(is.na(causal), "NA", causal)), "causal.txt")
EOF
sed -i "s#\"UK1\"#\"$UK1\"#" gen.R
Rscript gen.R
"$PROMISE" ingest omics st omics.tsv --assay expr >/dev/null
bgzip -f pheno.bed && tabix -f -p bed pheno.bed.gz
say "analysis individuals: $(wc -l <keep.txt) of $(wc -l <samples.txt)"

say "promise qtl (--model qtltools, --model lm, --permute 1000)"
COV=sex,omics:expr:BMI,omics:expr:PLT
"$PROMISE" qtl st --assay expr --features-bed features.bed --covar $COV --model qtltools \
    -o qq 2>qq.err || { cat qq.err; fail "promise qtl --model qtltools failed"; oracle_done; }
cat qq.err
"$PROMISE" qtl st --assay expr --features-bed features.bed --covar $COV --permute 1000 \
    -o lm 2>lm.err || { cat lm.err; fail "promise qtl --model lm failed"; oracle_done; }
cat lm.err
"$PROMISE" qtl st --assay expr --features-bed features.bed --covar $COV --model qtltools \
    --permute 1000 -o qp 2>qp.err || { cat qp.err; fail "promise qtl --permute failed"; oracle_done; }

say "QTLtools cis --nominal 1 and --permute 1000"
"$QTLTOOLS" cis --vcf g.vcf.gz --bed pheno.bed.gz --cov cov.txt --nominal 1 --out qt.nom \
    --silent >qt.log 2>&1 || { tail -5 qt.log; fail "QTLtools --nominal failed"; oracle_done; }
"$QTLTOOLS" cis --vcf g.vcf.gz --bed pheno.bed.gz --cov cov.txt --permute 1000 --out qt.perm \
    --silent >>qt.log 2>&1 || { tail -5 qt.log; fail "QTLtools --permute failed"; oracle_done; }

cat >cmp.R <<'EOF'
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
u6 <- function(ours, qt) ifelse(qt == 0, abs(ours), abs(ours - qt) / (10^(floor(log10(abs(qt))) - 5)))
rd <- function(f) read.delim(f, check.names = FALSE, colClasses = c(ref = "character", alt = "character"))
qq <- rd("qq.nominal.tsv"); lm <- rd("lm.nominal.tsv")
names(qq)[1] <- names(lm)[1] <- "feature"
qt <- read.table("qt.nom", colClasses = c(V8 = "character"))
names(qt) <- c("feature", "chr", "start", "end", "strand", "ncis", "dist", "id", "vchr", "vstart", "vend", "p", "r2", "slope", "top")
m <- match(paste(qt$feature, qt$id), paste(qq$feature, qq$variant))
cat(sprintf("QTLtools pairs: %d; ours (--model qtltools): %d (extra = ALTs of multi-allelic records: %d)\n",
            nrow(qt), nrow(qq), sum(!paste(qq$feature, qq$variant) %in% paste(qt$feature, qt$id))))
miss <- sum(is.na(m))
o <- qq[m[!is.na(m)], ]; q <- qt[!is.na(m), ]
dist_bad <- sum(o$distance != q$dist)
# a variant constant over the individuals: QTLtools prints r2 0, slope 0, p 1; we print NA
na_bad <- sum(is.na(o$slope) != (q$r2 == 0 & q$slope == 0 & q$p == 1))
ok2 <- !is.na(o$slope)
# QTLtools computes in float32: r is good to ~1e-7 absolute, so a slope
# near 0 may differ beyond 6 digits; allow 1e-5 standard errors there
us <- pmin(u6(o$slope, q$slope), abs(o$slope - q$slope) / (1e-5 * o$se) * 2)[ok2]
up <- u6(o$p, q$p)[ok2]
cat(sprintf("constant variants: %d pairs (ours NA, QTLtools slope 0, p 1); other NA mismatches %d\n",
            sum(!ok2), na_bad))
cat(sprintf("vs QTLtools: max slope diff %.3g, max p diff %.3g units of the 6th digit; max rel slope %.3g, p %.3g\n",
            max(us), max(up), max(rel(o$slope, q$slope)[ok2]), max(rel(o$p, q$p)[ok2])))
# R lm with the same imputation
ids <- readLines("keep.txt")
cv <- read.delim("cov.txt", row.names = 1, check.names = FALSE)
C <- t(as.matrix(cv[, ids]))
ph <- read.delim(gzfile("pheno.bed.gz"), check.names = FALSE)
v <- read.delim(gzfile("g.vcf.gz"), comment.char = "#", header = FALSE, colClasses = "character")
hdr <- readLines(gzfile("g.vcf.gz")); hdr <- strsplit(hdr[grepl("^#CHROM", hdr)][1], "\t")[[1]]
gt <- as.matrix(v[, -(1:9)]); colnames(gt) <- hdr[-(1:9)]; gt <- gt[, ids]
alts <- strsplit(v[, 5], ",")
dose <- function(i, a) { x <- strsplit(gt[i, ], "[/|]"); sapply(x, function(y) if (any(y == ".")) NA else sum(y == as.character(a))) }
worst <- 0; nbad <- 0; nn <- 0
for (i in seq_len(nrow(lm))) {
  r <- lm[i, ]
  vi <- which(v[, 2] == r$pos & v[, 4] == r$ref & sapply(alts, function(a) r$alt %in% a))[1]
  g <- dose(vi, match(r$alt, alts[[vi]]))
  y <- as.numeric(ph[ph$id == r$feature, ids])
  nobs <- sum(!is.na(g) & !is.na(y))
  if (nobs != r$n) nbad <- nbad + 1
  g[is.na(g)] <- mean(g, na.rm = TRUE); y[is.na(y)] <- mean(y, na.rm = TRUE)
  if (is.na(r$p)) next
  s <- summary(lm(y ~ C + g))$coefficients
  worst <- max(worst, rel(c(r$slope, r$se, r$t, r$p), s[nrow(s), ])); nn <- nn + 1
}
cat(sprintf("--model lm vs R lm: %d pairs, max rel slope/se/t/p %.3g; n mismatches %d\n", nn, worst, nbad))
# permutations
qp <- read.table("qt.perm", colClasses = c(V8 = "character"))
names(qp) <- c("feature", "chr", "start", "end", "strand", "ncis", "dist", "id", "vchr", "vstart", "vend",
               "dof1", "dof2", "bml1", "bml2", "p", "r2", "slope", "p_emp", "p_beta")
ob <- read.delim("qp.best.tsv", check.names = FALSE, colClasses = c(ref = "character", alt = "character", variant = "character"))
names(ob)[1] <- "feature"
mb <- match(qp$feature, ob$feature)
# QTLtools drops multi-allelic records, we test each ALT: compare the best
# among the pairs both test (from our nominal output, ties by distance)
qn <- rd("qp.nominal.tsv"); names(qn)[1] <- "feature"
qn <- qn[paste(qn$feature, qn$variant) %in% paste(qt$feature, qt$id) & !is.na(qn$t), ]
qn <- qn[order(qn$feature, -abs(qn$t), abs(qn$distance)), ]
bb <- qn[!duplicated(qn$feature), ]
same_best <- sum(qp$id == bb$variant[match(qp$feature, bb$feature)])
multi_best <- sum(qp$id != ob$variant[mb])
ok <- !is.na(qp$p_beta) & !is.na(ob$p_beta[mb])
cb <- cor(-log10(qp$p_beta[ok]), -log10(ob$p_beta[mb][ok]))
ratio <- max(abs(log10(pmax(qp$p_beta[ok], 1e-300) / pmax(ob$p_beta[mb][ok], 1e-300))[qp$p_beta[ok] > 1e-3]))
causal <- read.table("causal.txt", col.names = c("feature", "var"), colClasses = "character")
planted <- causal$feature[!is.na(causal$var) & causal$var != "NA"]
found_q <- sum(qp$p_beta[match(planted, qp$feature)] < 1e-4)
found_o <- sum(ob$p_beta[match(planted, ob$feature)] < 1e-4)
cat(sprintf("best variant is an ALT of a multi-allelic record (QTLtools skips those): %d features\n", multi_best))
cat(sprintf("permutations: best variant (among pairs both test) equal for %d of %d features; cor(-log10 p_beta) %.4f; max |log10 ratio| where p_beta > 1e-3: %.3f; planted found %d (QTLtools) %d (ours) of %d\n",
            same_best, nrow(qp), cb, ratio, found_q, found_o, length(planted)))
ol <- read.delim("lm.best.tsv", check.names = FALSE); names(ol)[1] <- "feature"
cat(sprintf("--model lm best: planted found %d of %d; null features with p_beta < 0.01: %d\n",
            sum(ol$p_beta[match(planted, ol$feature)] < 1e-4), length(planted),
            sum(ol$p_beta[!(ol$feature %in% planted)] < 0.01, na.rm = TRUE)))
qk <- function(ok, what) cat(if (isTRUE(ok)) "ok     " else "FAILED ", what, "\n")
qk(nrow(qt) > 1000 && miss == 0, "every pair QTLtools tests is in promise's nominal output")
qk(dist_bad == 0, "distances equal QTLtools'")
qk(na_bad == 0 && max(us) <= 2 && max(up) <= 2, "slope and p equal QTLtools' to its printed precision (6 digits)")
qk(nn > 1000 && worst < 1e-6 && nbad == 0, "--model lm: slope, SE, t, p within 1e-6 relative of R lm; n right")
qk(same_best == nrow(qp), "the best variant per feature equals QTLtools'")
qk(cb > 0.95, "beta-approximated p correlates with QTLtools'")
qk(found_q == length(planted) && found_o == length(planted), "the planted cis effects are found by both")
EOF
Rscript cmp.R >cmp.out 2>&1 || fail "cmp.R: $(tail -3 cmp.out)"
grep -v -E '^(ok |FAILED )' cmp.out || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <cmp.out

say "no covariates: --model lm and --model qtltools give the same numbers"
"$PROMISE" qtl st --assay expr --features-bed features.bed -o n1 2>/dev/null
"$PROMISE" qtl st --assay expr --features-bed features.bed --model qtltools -o n2 2>/dev/null
cmp -s n1.nominal.tsv n2.nominal.tsv && ok "identical without covariates" || fail "lm and qtltools differ without covariates"

say "registered tier withholds pairs with few carriers and accounts for them"
"$PROMISE" qtl st --assay expr --features-bed features.bed --covar $COV --as-tier registered \
    -o reg 2>reg.err || fail "qtl --as-tier registered failed: $(cat reg.err)"
nall=$(($(wc -l <lm.nominal.tsv) - 1))
nreg=$(($(wc -l <reg.nominal.tsv) - 1))
wh=$(grep -o '[0-9]* pairs withheld' reg.err | cut -d' ' -f1 || true)
[ -n "$wh" ] && [ "$wh" -gt 0 ] && [ $((nreg + wh)) -eq "$nall" ] &&
    ok "registered: $nreg released + $wh withheld = $nall" || fail "registered: $nreg + ${wh:-?} != $nall"
[ -n "${QTL_KEEP:-}" ] && cp -r "$W" "$QTL_KEEP"
oracle_done
