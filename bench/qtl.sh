#!/bin/bash
# bench/qtl.sh - `promise qtl` side by side with QTLtools `cis --nominal 1`
# on the same genotypes, phenotypes and covariates, in one run.
#
# Data (made once into PM_BENCH_WORK, default bench/work/qtl):
#   - genotypes: the real 1000 Genomes phase 3 subset of $PM_TEST_DATA
#     (1126 samples, chr1-22, ~24.6k variants), IDs set to
#     CHROM:POS:REF:ALT, one bgzipped VCF for QTLtools and one store;
#   - PM_BENCH_QTL_FEATURES (default 5000) simulated features spread evenly
#     over chr1-22 (random normal values, one omics sample per
#     individual), and 3 simulated covariates C1..C3;
#   - cis window PM_BENCH_QTL_WINDOW bp (default 1000000).
# Timed: the whole process, wall clock, median of PM_BENCH_REPS (3):
#   promise qtl --model qtltools    vs  QTLtools cis --nominal 1
# and, with PM_BENCH_QTL_PERM=N (default 100), the permutation pass of
# both (--permute N). Prints pairs per second and the ratio ours/theirs
# (> 1: promise is faster), a markdown section for bench/RESULTS.md, and
# the agreement of the two nominal outputs (max difference in units of
# QTLtools' 6th printed digit, over the pairs both test).
#
# Environment: PROMISE (default build/promise), PM_TEST_DATA,
# PM_BENCH_WORK, PM_BENCH_REPS, PM_BENCH_QTL_FEATURES, PM_BENCH_QTL_WINDOW,
# PM_BENCH_QTL_PERM (0 = skip the permutation rows).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=${PROMISE:-$ROOT/build/promise}
[ -x "$P" ] || { echo "bench: no promise binary at '$P' (build first, or set PROMISE)" >&2; exit 1; }
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
PM_TEST_DATA=${PM_TEST_DATA:-$ROOT/../shared/test-data}
KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac
WORK=${PM_BENCH_WORK:-$ROOT/bench/work/qtl}
REPS=${PM_BENCH_REPS:-3}
NF=${PM_BENCH_QTL_FEATURES:-5000}
WIN=${PM_BENCH_QTL_WINDOW:-1000000}
NPERM=${PM_BENCH_QTL_PERM:-100}
QT=$(command -v QTLtools || true)
[ -n "$QT" ] || { echo "bench: QTLtools not installed" >&2; exit 1; }
for t in bcftools bgzip tabix Rscript; do
    command -v $t >/dev/null || { echo "bench: $t not installed" >&2; exit 1; }
done
log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

mkdir -p "$WORK"
cd "$WORK"
stamp="features=$NF kg=$(ls -l "$KG"/*.vcf.gz | md5sum | cut -c1-8)"
if [ "$(cat STAMP 2>/dev/null)" != "$stamp" ] || [ ! -d st ]; then
    log "bench: preparing data in $WORK"
    rm -rf st st.* ./*.vcf.gz* ./*.bed* ./*.tsv cov.txt samples.txt
    for c in $(seq 1 22); do
        bcftools annotate --set-id '%CHROM:%POS:%REF:%FIRST_ALT' "$KG/1KG_phase3_subset_chr$c.vcf.gz" -Oz -o "g$c.vcf.gz"
    done
    bcftools concat -Oz -o g.vcf.gz $(for c in $(seq 1 22); do echo "g$c.vcf.gz"; done) 2>/dev/null
    rm -f g[0-9]*.vcf.gz
    tabix -f -p vcf g.vcf.gz
    bcftools query -l g.vcf.gz >samples.txt
    # tables: the oracle helper makes valid test personnummer
    PROMISE=$P PM_TEST_DATA=$PM_TEST_DATA bash -c '
        source "'"$ROOT"'/tests/oracle/lib/common.bash" >/dev/null
        trap - EXIT; rm -rf "$W"
        mk_store st samples.txt >/dev/null'
    awk -F'\t' -v OFS='\t' 'NR == 1 { print; next } { $1 = "E_" $1; $4 = "expr"; print }' \
        st.tables/samples.tsv >esamples.tsv
    "$P" ingest samples st esamples.tsv --key st.key >/dev/null
    "$P" ingest vcf st g.vcf.gz >/dev/null 2>&1
    NF=$NF Rscript - <<'EOF'
set.seed(11)
ids <- readLines("samples.txt"); n <- length(ids); nf <- as.integer(Sys.getenv("NF"))
v <- read.delim(gzfile("g.vcf.gz"), comment.char = "#", header = FALSE, colClasses = c("character", "integer", rep("NULL", 9 + n - 2)))
rng <- do.call(rbind, lapply(split(v[, 2], v[, 1]), range))
chr <- rep(rownames(rng), length.out = nf); chr <- sort(as.integer(chr))
pos <- integer(nf)
for (c in unique(chr)) { i <- which(chr == c); r <- rng[as.character(c), ]
  pos[i] <- as.integer(seq(r[1], r[2], length.out = length(i) + 2)[-c(1, length(i) + 2)]) }
fid <- sprintf("F%05d", seq_len(nf))
Y <- matrix(round(rnorm(nf * n) * 4096) / 4096, nf)
C <- matrix(round(rnorm(3 * n) * 4096) / 4096, 3)
f17 <- function(x) sprintf("%.17g", x)
con <- file("omics.tsv", "w")
writeLines(paste(c("feature_id", paste0("E_", ids)), collapse = "\t"), con)
for (i in 1:nf) writeLines(paste(c(fid[i], f17(Y[i, ])), collapse = "\t"), con)
for (j in 1:3) writeLines(paste(c(paste0("C", j), f17(C[j, ])), collapse = "\t"), con)
close(con)
writeLines(sprintf("%d\t%d\t%d\t%s\t+", chr, pos - 1, pos, fid), "features.bed")
con <- file("pheno.bed", "w")
writeLines(paste(c("#chr", "start", "end", "id", "gid", "strand", ids), collapse = "\t"), con)
for (i in 1:nf) writeLines(paste(c(chr[i], pos[i] - 1, pos[i], fid[i], fid[i], "+", f17(Y[i, ])), collapse = "\t"), con)
close(con)
writeLines(c(paste(c("id", ids), collapse = "\t"),
             sapply(1:3, function(j) paste(c(paste0("C", j), f17(C[j, ])), collapse = "\t"))), "cov.txt")
EOF
    "$P" ingest omics st omics.tsv --assay expr >/dev/null
    bgzip -f pheno.bed && tabix -f -p bed pheno.bed.gz
    echo "$stamp" >STAMP
fi
NVAR=$(bcftools index -n g.vcf.gz 2>/dev/null || zcat g.vcf.gz | grep -vc '^#')

# median wall time of REPS runs of "$@"
timeit() {
    local ts=() i t0
    for ((i = 0; i < REPS; i++)); do
        t0=$(now)
        "$@" >/dev/null 2>last.err || { log "bench: failed: $*"; cat last.err >&2; return 1; }
        ts+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
    done
    printf '%s\n' "${ts[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

COV=omics:expr:C1,omics:expr:C2,omics:expr:C3
log "bench: promise qtl --model qtltools ($NF features, window $WIN, $REPS runs)"
t_ours=$(timeit "$P" qtl st --assay expr --features-bed features.bed --cis-window "$WIN" --covar $COV --model qtltools -o ours)
# the genotype pass alone (promise reports it): the rest is loading the feature values
pass=$(grep -o 'pairs in [0-9.]* s' last.err | awk '{ print $3 }' | tail -1)
log "bench: QTLtools cis --nominal 1"
t_qt=$(timeit "$QT" cis --vcf g.vcf.gz --bed pheno.bed.gz --cov cov.txt --window "$WIN" --nominal 1 --out qt.nom --silent)
pairs_ours=$(($(wc -l <ours.nominal.tsv) - 1))
pairs_qt=$(wc -l <qt.nom)
if [ "$NPERM" -gt 0 ]; then
    log "bench: --permute $NPERM (both)"
    t_ours_p=$(timeit "$P" qtl st --assay expr --features-bed features.bed --cis-window "$WIN" --covar $COV --model qtltools --permute "$NPERM" -o oursp)
    t_qt_p=$(timeit "$QT" cis --vcf g.vcf.gz --bed pheno.bed.gz --cov cov.txt --window "$WIN" --permute "$NPERM" --out qt.perm --silent)
fi
agree=$(Rscript - <<'EOF' 2>/dev/null
o <- read.delim("ours.nominal.tsv", colClasses = c(ref = "character", alt = "character")); names(o)[1] <- "feature"
q <- read.table("qt.nom", colClasses = c(V8 = "character"))
m <- match(paste(q$V1, q$V8), paste(o$feature, o$variant))
ok <- !is.na(m) & !is.na(o$p[m])
u6 <- function(a, b) ifelse(b == 0, abs(a), abs(a - b) / (10^(floor(log10(abs(b))) - 5)))
cat(sprintf("%d of %d QTLtools pairs found; max |p diff| %.2f units of the 6th digit", sum(!is.na(m)), nrow(q), max(u6(o$p[m][ok], q$V12[ok]))))
EOF
)
rate() { awk -v p="$1" -v t="$2" 'BEGIN { printf "%.0f", p / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
cat <<EOF

## cis-QTL (bench/qtl.sh)

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $(nproc) cores; load average before/after: $LOAD0 / $LOAD1
- tools: $("$P" --version 2>/dev/null | head -1 || echo '?'); QTLtools 1.3.1 (Debian)
- data: 1000 Genomes phase 3 subset, chr1-22, 1126 samples, $NVAR variants (real);
  $NF simulated features, 3 covariates, cis window $WIN bp; whole process, wall clock,
  median of $REPS runs. Ratio = QTLtools seconds / promise seconds (> 1: promise faster).

| task | tool | pairs | seconds | pairs/s | ratio |
|---|---|---:|---:|---:|---:|
| nominal | promise qtl --model qtltools | $pairs_ours | $t_ours | $(rate "$pairs_ours" "$t_ours") | $(ratio "$t_qt" "$t_ours") |
| nominal | QTLtools cis --nominal 1 | $pairs_qt | $t_qt | $(rate "$pairs_qt" "$t_qt") | 1.00 |
EOF
if [ "$NPERM" -gt 0 ]; then
    cat <<EOF
| permute $NPERM | promise qtl --permute $NPERM | $pairs_ours | $t_ours_p | $(rate "$pairs_ours" "$t_ours_p") | $(ratio "$t_qt_p" "$t_ours_p") |
| permute $NPERM | QTLtools cis --permute $NPERM | $pairs_qt | $t_qt_p | $(rate "$pairs_qt" "$t_qt_p") | 1.00 |
EOF
fi
cat <<EOF

promise's genotype pass alone (decode, project, test, write): ${pass:-?} s of the
$t_ours s ($(rate "$pairs_ours" "${pass:-1}") pairs/s); the rest is reading the
$NF features' values through the omics catalog, one lookup per feature.

Agreement (same run): $agree. promise tests each ALT of a multi-allelic record
(QTLtools skips those records), hence more pairs.
EOF
