#!/bin/bash
# pca_plink2.sh - `promise pca` and `promise gwas --covar pcN` against
# plink2 on the real 1000 Genomes subset (1126 samples, chr1-22).
#
#   1. A store with one individual per sample (plus one "qpheno" sample
#      each, to carry a quantitative phenotype); the 22 autosome VCFs as
#      one batch.
#   2. `promise pca -k 10 -o ours` (approximate, the stored run) and
#      `--exact`; plink2 --pca 10 and --pca 10 approx on exactly the
#      variants we kept (--extract ours.variants). Checks: per component
#      |correlation| with plink2's (by sample) >= 0.99 for the leading
#      components whose eigenvalue is at least 5% above the next one (the
#      others are printed), eigenvalues within 1% (all ten).
#   3. Pruning: plink2 --indep-pairwise 50 5 0.2 on the same candidates
#      (--maf 0.01, biallelic ACGT SNPs, autosomes): the candidate counts
#      must be equal; the overlap of the kept sets is printed (the greedy
#      order differs from plink2's, so the sets are not identical).
#   4. A quantitative phenotype that depends on ancestry (PC1, PC2), sex
#      and one variant; `promise gwas --covar sex,pc1,pc2` vs plink2 --glm
#      with the same PCs (from PREFIX.eigenvec) as covariates: BETA SE P at
#      plink2's printed precision on biallelic rows (BETA near 0: or within
#      1e-6 SE), and R lm within 1e-6
#      relative on 400 random rows.
set -euo pipefail
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PM_BUILD_DIR=${PM_BUILD_DIR:-$PM_SOURCE_DIR/build}
PROMISE=${PROMISE:-$PM_BUILD_DIR/promise}
PM_TEST_DATA=${PM_TEST_DATA:-$PM_SOURCE_DIR/../shared/test-data}
export PROMISE PM_TEST_DATA
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"

need_cmd keygen init ingest pca gwas pseudonymize
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed"; exit 0; }
PLINK2=""
if [ -x /usr/lib/plink2/plink2-avx2 ] && /usr/lib/plink2/plink2-avx2 --version >/dev/null 2>&1; then
    PLINK2=/usr/lib/plink2/plink2-avx2
elif command -v plink2 >/dev/null; then
    PLINK2=plink2
fi
[ -n "$PLINK2" ] || { echo "SKIP: plink2 not installed"; exit 0; }
KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac
[ -r "$KG/1KG_phase3_subset_chr1.vcf.gz" ] || { echo "SKIP: no $KG"; exit 0; }

cd "$W"
say "store: 1000 Genomes subset chr1-22"
bcftools query -l "$KG/1KG_phase3_subset_chr1.vcf.gz" >samples.txt
files=()
for c in $(seq 1 22); do files+=("$KG/1KG_phase3_subset_chr$c.vcf.gz"); done
bcftools concat -Oz -o auto.vcf.gz "${files[@]}" 2>/dev/null
mkdir -p st.tables
awk -f "$ORACLE_LIB/mktables.awk" -v out=st.tables samples.txt
awk -F'\t' -v OFS='\t' 'NR == 1 { print; next } { print; $1 = "Q" $1; $4 = "qpheno"; print }' \
    st.tables/samples.tsv >samples2.tsv
"$PROMISE" keygen st.key >/dev/null
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st st.tables/population.tsv --key st.key >/dev/null
"$PROMISE" ingest samples st samples2.tsv --key st.key >/dev/null
"$PROMISE" ingest vcf st auto.vcf.gz >/dev/null 2>&1
# sample_id -> pseudonym, and the sex of each sample
"$PROMISE" pseudonymize --key st.key st.tables/samples.tsv >ids.tsv
"$PROMISE" pseudonymize --key st.key st.tables/population.tsv >pop.tsv

say "promise pca -k 10 --exact, then approx (the stored run)"
"$PROMISE" pca st -k 10 --exact -o ex >ex.out 2>ex.err || { cat ex.err; fail "promise pca --exact failed"; oracle_done; }
"$PROMISE" pca st -k 10 -o ours >ours.out 2>ours.err || { cat ours.err; fail "promise pca failed"; oracle_done; }
cat ours.err
for f in ours.eigenvec ours.eigenval ours.variants; do
    [ -s "$f" ] && ok "wrote $f" || fail "no $f"
done

say "plink2: $PLINK2 --pca 10 [approx] --extract ours.variants"
"$PLINK2" --vcf auto.vcf.gz --set-all-var-ids '@:#:$r:$a' --new-id-max-allele-len 1000 \
    --make-pgen --out g >plink2.log 2>&1 || { fail "plink2 --make-pgen: $(tail -3 plink2.log)"; oracle_done; }
"$PLINK2" --pfile g --extract ours.variants --pca 10 --threads 2 --out pl >>plink2.log 2>&1 ||
    { fail "plink2 --pca: $(tail -3 plink2.log)"; oracle_done; }
"$PLINK2" --pfile g --extract ours.variants --pca 10 approx --threads 2 --out pla >>plink2.log 2>&1 ||
    { fail "plink2 --pca approx: $(tail -3 plink2.log)"; oracle_done; }
"$PLINK2" --pfile g --autosome --snps-only just-acgt --max-alleles 2 --maf 0.01 \
    --write-snplist --out cand >>plink2.log 2>&1 || fail "plink2 --write-snplist"
"$PLINK2" --pfile g --autosome --snps-only just-acgt --max-alleles 2 --maf 0.01 \
    --indep-pairwise 50 5 0.2 --threads 2 --out prune >>plink2.log 2>&1 || fail "plink2 --indep-pairwise"

cat >cmp_pca.R <<'EOF'
ids <- read.delim("ids.tsv", colClasses = "character")
rdv <- function(f) { x <- read.delim(f, check.names = FALSE, colClasses = c("character", rep("numeric", 10)))
                     names(x)[1] <- "IID"; x }
ours <- rdv("ours.eigenvec"); ex <- rdv("ex.eigenvec"); pl <- rdv("pl.eigenvec"); pla <- rdv("pla.eigenvec")
ours$IID <- ids$sample_id[match(ours$IID, ids$pseudonym)]
ex$IID <- ids$sample_id[match(ex$IID, ids$pseudonym)]
if (any(is.na(ours$IID))) stop("an eigenvec row without a sample")
ev <- scan("pl.eigenval", quiet = TRUE); eva <- scan("pla.eigenval", quiet = TRUE)
eo <- scan("ours.eigenval", quiet = TRUE); ee <- scan("ex.eigenval", quiet = TRUE)
cors <- function(a, b) { m <- match(b$IID, a$IID); sapply(1:10, function(j) abs(cor(a[m, j + 1], b[[j + 1]]))) }
c_ap <- cors(ours, pl); c_ex <- cors(ex, pl); c_apa <- cors(ours, pla)
gap <- c((ev[-10] - ev[-1]) / ev[-10], 0)
lead <- seq_len(max(which(cumprod(gap >= 0.05) == 1), 1))
rel <- function(a, b) abs(a - b) / abs(b)
cat(sprintf("PC%-2d eigenvalue ours %.5g exact %.5g plink2 %.5g (approx %.5g); gap to next %4.1f%%; |cor| approx %.6f exact %.6f (vs plink2 approx %.6f)\n",
            1:10, eo, ee, ev, eva, 100 * gap, c_ap, c_ex, c_apa), sep = "")
cat(sprintf("well-separated leading components: PC1..PC%d\n", max(lead)))
cat(sprintf("max relative eigenvalue difference: approx %.3g, exact %.3g\n", max(rel(eo, ev)), max(rel(ee, ev))))
n_ours <- length(readLines("ours.variants")); cand <- readLines("cand.snplist"); pin <- readLines("prune.prune.in")
ov <- length(intersect(readLines("ours.variants"), pin))
cat(sprintf("pruning: plink2 candidates %d; kept ours %d, plink2 %d, both %d (Jaccard %.3f)\n",
            length(cand), n_ours, length(pin), ov, ov / (n_ours + length(pin) - ov)))
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(length(lead) >= 2 && all(c_ap[lead] >= 0.99), sprintf("approx PC1..PC%d |cor| >= 0.99 with plink2 --pca", max(lead)))
q(all(c_ex[lead] >= 0.999), sprintf("exact PC1..PC%d |cor| >= 0.999 with plink2 --pca", max(lead)))
q(max(rel(eo, ev)) < 0.01 && max(rel(ee, ev)) < 0.01, "eigenvalues within 1% of plink2 (all ten)")
q(all(readLines("ours.variants") %in% cand), "every variant we kept is a plink2 candidate")
writeLines(as.character(length(cand)), "n_cand.txt")
EOF
Rscript cmp_pca.R >cmp_pca.out 2>&1 || fail "cmp_pca.R: $(tail -3 cmp_pca.out)"
grep -v -E '^(ok |FAILED )' cmp_pca.out || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <cmp_pca.out
ours_cand=$(sed -nE 's/.* of ([0-9]+) common biallelic.*/\1/p' ours.err)
pl_cand=$(cat n_cand.txt 2>/dev/null || echo "?")
[ "$ours_cand" = "$pl_cand" ] && ok "candidates before pruning: $ours_cand, as plink2" ||
    fail "candidates before pruning: ours $ours_cand, plink2 $pl_cand"

say "phenotype: R (depends on PC1, PC2, sex and one variant)"
bcftools view -m2 -M2 -v snps auto.vcf.gz 2>/dev/null |
    bcftools query -f '%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n' >bi.tsv
cat >gen.R <<'EOF'
set.seed(11)
ids <- read.delim("ids.tsv", colClasses = "character")
pop <- read.delim("pop.tsv", colClasses = "character")
ev <- read.delim("ours.eigenvec", check.names = FALSE, colClasses = c("character", rep("numeric", 10)))
names(ev)[1] <- "IID"
smp <- readLines("samples.txt")
ps <- ids$pseudonym[match(smp, ids$sample_id)]
sex <- ifelse(pop$sex[match(ps, pop$pseudonym)] == "M", 1, 0)
e <- ev[match(ps, ev$IID), ]
pc1 <- e$PC1; pc2 <- e$PC2
con <- file("bi.tsv"); l <- readLines(con); close(con)
cand <- sample(which(sapply(strsplit(l[seq(1, length(l), 50)], "\t"), function(x) {
  g <- x[-(1:4)]; mean(g %in% c("0|1", "1|0", "1|1")) > 0.2 })), 1)
x <- strsplit(l[(cand - 1) * 50 + 1], "\t")[[1]]
g1 <- sapply(strsplit(x[-(1:4)], "[|/]"), function(a) sum(a == "1"))
y <- 30 * pc1 - 20 * pc2 + 0.4 * sex + 0.5 * g1 + rnorm(length(smp))
y <- round(y * 2^16) / 2^16
writeLines(c(paste(c("feature_id", paste0("Q", smp)), collapse = "\t"),
             paste(c("Y1", sprintf("%.17g", y)), collapse = "\t")), "omics.tsv")
d <- data.frame(IID = smp, y = y, sex = sex, PC1 = pc1, PC2 = pc2)
write.table(d, "data.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(`#IID` = smp, y = y, check.names = FALSE), "pheno.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(`#IID` = smp, sex = sex, PC1 = sprintf("%.10g", pc1), PC2 = sprintf("%.10g", pc2), check.names = FALSE),
            "covar.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(paste(x[1], x[2]), "causal.txt")
EOF
Rscript gen.R
"$PROMISE" ingest omics st omics.tsv --assay qpheno >/dev/null

say "promise gwas --covar sex,pc1,pc2"
"$PROMISE" gwas st --pheno omics:qpheno:Y1 --covar sex,pc1,pc2 --threads 2 --no-plots -o gw 2>gw.err ||
    { cat gw.err; fail "promise gwas --covar sex,pc1,pc2 failed"; oracle_done; }
cat gw.err
grep -q $'^covariates\tsex,pc1,pc2$' gw.log && ok "covariates sex,pc1,pc2 in gw.log" || fail "covariates not in gw.log"
"$PLINK2" --pfile g --pheno pheno.tsv --covar covar.tsv --covar-variance-standardize \
    --glm hide-covar cols=+a1count,+beta --threads 1 --out plg >>plink2.log 2>&1 ||
    { fail "plink2 --glm: $(tail -3 plink2.log)"; oracle_done; }
"$PROMISE" gwas st --pheno omics:qpheno:Y1 --covar sex,pc1 --no-plots -o gw1 2>/dev/null || fail "gwas pc1 only"
"$PROMISE" gwas st --pheno omics:qpheno:Y1 --covar sex,pc11 --no-plots -o gw11 2>pc11.err &&
    fail "gwas --covar pc11 with k = 10 succeeded" || {
    grep -q "has 10 components" pc11.err && ok "pc11 refused: $(cat pc11.err)" || fail "pc11: $(cat pc11.err)"
}

cat >cmp_gw.R <<'EOF'
d <- read.delim("data.tsv")
rd <- function(f) { x <- read.delim(f, check.names = FALSE, colClasses = c(REF = "character", ALT = "character", A1 = "character"))
                    names(x)[1] <- "CHROM"; x }
o <- rd("gw.tsv"); p <- rd("plg.y.glm.linear")
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
u6 <- function(ours, pl) abs(ours - pl) / (10^(floor(log10(abs(pl))) - 5))
p$key <- paste(p$CHROM, p$POS, p$REF, ifelse(p$A1 == p$REF, p$ALT, p$A1)); sg <- ifelse(p$A1 == p$REF, -1, 1)
m <- match(paste(o$CHROM, o$POS, o$REF, o$ALT), p$key)
ok <- !is.na(m) & !grepl(",", p$ALT[m]) & !is.na(o$P) & !is.na(p$P[m])
b <- sg[m][ok] * p$BETA[m][ok]
# a BETA near 0 loses digits to cancellation in both tools: at most 1e-6 SE off there
ub <- pmin(u6(o$BETA[ok], b), abs(o$BETA[ok] - b) / (1e-6 * p$SE[m][ok]))
u <- max(ub, u6(o$SE[ok], p$SE[m][ok]), u6(o$P[ok], p$P[m][ok]))
r <- max(rel(o$BETA[ok], b), rel(o$SE[ok], p$SE[m][ok]), rel(o$P[ok], p$P[m][ok]))
# R lm on 400 random biallelic rows
bi <- read.delim("bi.tsv", header = FALSE, colClasses = "character")
bk <- paste(bi[, 1], bi[, 2], bi[, 3], bi[, 4])
set.seed(3)
rows <- sample(which(!is.na(o$P) & paste(o$CHROM, o$POS, o$REF, o$ALT) %in% bk), 400)
wl <- 0
for (i in rows) {
  x <- bi[match(paste(o$CHROM[i], o$POS[i], o$REF[i], o$ALT[i]), bk), -(1:4)]
  g <- sapply(strsplit(unlist(x), "[|/]"), function(a) if (any(a == ".")) NA else sum(a == "1"))
  okg <- !is.na(g)
  s <- summary(lm(d$y[okg] ~ d$sex[okg] + d$PC1[okg] + d$PC2[okg] + g[okg]))$coefficients
  wl <- max(wl, rel(c(o$BETA[i], o$SE[i], o$T_OR_Z[i], o$P[i]), s[nrow(s), ]))
}
causal <- scan("causal.txt", what = "", quiet = TRUE)
pc <- o$P[o$CHROM == causal[1] & o$POS == as.integer(causal[2])]
g1 <- read.delim("gw1.tsv", check.names = FALSE)
lam <- function(pv) median(qchisq(pv, 1, lower.tail = FALSE), na.rm = TRUE) / qchisq(0.5, 1)
cat(sprintf("gwas vs plink2 --glm (covariates sex, PC1, PC2): %d rows, max rel %.3g, max diff %.3g units of plink2's 6th digit\n",
            sum(ok), r, u))
uu <- cbind(BETA = ub, SE = u6(o$SE[ok], p$SE[m][ok]), P = u6(o$P[ok], p$P[m][ok]))
w <- which(uu == max(uu), arr.ind = TRUE)[1, ]
i <- which(ok)[w[1]]
cat(sprintf("  worst: %s:%d %s>%s %s: ours BETA %.9g SE %.9g P %.9g; plink2 BETA %s SE %s P %s\n", o$CHROM[i], o$POS[i],
            o$REF[i], o$ALT[i], colnames(uu)[w[2]], o$BETA[i], o$SE[i], o$P[i], format(sg[m][i] * p$BETA[m][i], digits = 7),
            format(p$SE[m][i], digits = 7), format(p$P[m][i], digits = 7)))
cat(sprintf("gwas vs R lm: %d rows, max rel BETA/SE/T/P %.3g\n", length(rows), wl))
cat(sprintf("causal variant p %.3g; lambda with sex,pc1,pc2 %.3f, with sex,pc1 only %.3f\n", pc, lam(o$P), lam(g1$P)))
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(sum(ok) > 20000 && u <= 1, "gwas with PCs: BETA SE P equal plink2 --glm at its printed precision")
q(wl < 1e-6, "gwas with PCs: within 1e-6 relative of R lm")
q(pc < 1e-6, "the causal variant stands out")
EOF
Rscript cmp_gw.R >cmp_gw.out 2>&1 || fail "cmp_gw.R: $(tail -3 cmp_gw.out)"
grep -v -E '^(ok |FAILED )' cmp_gw.out || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <cmp_gw.out

say "policy: the registered tier may not compute or see components"
"$PROMISE" pca st --as-tier registered -o reg >/dev/null 2>reg.err && fail "pca --as-tier registered succeeded" || {
    rc=$?
    [ "$rc" = 3 ] && [ ! -e reg.eigenvec ] && ok "pca --as-tier registered refused (exit 3, nothing written)" ||
        fail "pca --as-tier registered: exit $rc: $(cat reg.err)"
}
oracle_done
