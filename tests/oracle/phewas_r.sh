#!/bin/bash
# phewas_r.sh - `promise phewas` against R on a simulated store with
# planted effects.
#
#   1. `promise simulate` (12000 individuals, 300 variants, seed 5); one
#      genotype column per individual; `promise pca -k 2`.
#   2. R picks a common biallelic variant without missing calls and plants
#      extra patient-register events: I21.9 (endpoint I9_MI) with log-odds
#      +1.0 per ALT copy, J45.9 (J10_ASTHMA) with -0.8.
#      And SEP_TEST (an extra endpoint, icd10:Q90): the cases are exactly
#      the ALT homozygotes (complete separation: no finite maximum-
#      likelihood estimate).
#   3. `promise phewas --variant V --covar age,sex,pc1,pc2`, default and
#      --firth, on the starter library plus SEP_TEST.
#   4. R recomputes, independently of promise, the case status of five
#      endpoints from the registry files (I9_MI, J10_ASTHMA, I9_CHD,
#      I9_HYPTENS, F5_DEPRESSIO: patient or death-register codes by their
#      first three characters), age, sex and
#      the dosages, and fits R's glm (binomial, tight convergence) and
#      Firth (the textbook Heinze & Schemper iteration, tightly converged).
#      N_CASES and N_CONTROLS must be equal; LOGISTIC rows must match glm
#      (BETA SE Z P within 1e-6 relative); SEP_TEST must fall back to
#      FIRTH, and every --firth row must match the R Firth fit, within
#      1e-6.
#   5. The planted endpoints stand out (I9_CHD contains I9_MI, so it is
#      not "the second"); --as-tier registered: rows written + rows
#      withheld = endpoints tested.
set -euo pipefail
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PM_BUILD_DIR=${PM_BUILD_DIR:-$PM_SOURCE_DIR/build}
PROMISE=${PROMISE:-$PM_BUILD_DIR/promise}
PM_TEST_DATA=${PM_TEST_DATA:-$PM_SOURCE_DIR/../shared/test-data}
export PROMISE PM_TEST_DATA
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"

need_cmd simulate keygen init ingest view pca phewas pseudonymize
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed"; exit 0; }

cd "$W"
say "store: promise simulate D --individuals 12000 --variants 300 --seed 5"
"$PROMISE" simulate D --individuals 12000 --variants 300 --seed 5 2>/dev/null
"$PROMISE" keygen k.key >/dev/null
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st D/population.tsv --key k.key >/dev/null
"$PROMISE" ingest samples st D/samples.tsv --key k.key >/dev/null
"$PROMISE" ingest registry st D/registry.tsv --key k.key >/dev/null
bcftools query -l D/genotypes.vcf.gz >cols.txt
awk -F'\t' 'NR == FNR { if (FNR > 1) pn[$1] = $2; next } !seen[pn[$1]]++' D/samples.tsv cols.txt >keep.txt
bcftools view -S keep.txt -Oz -o g.vcf.gz D/genotypes.vcf.gz
"$PROMISE" ingest vcf st g.vcf.gz >/dev/null 2>&1
"$PROMISE" pca st -k 2 -o pc >/dev/null 2>pca.err || { cat pca.err; fail "promise pca failed"; oracle_done; }
"$PROMISE" pseudonymize --key k.key D/samples.tsv >ids.tsv
"$PROMISE" view st -o all.vcf

say "planted effects: R"
cat >gen.R <<'EOF'
set.seed(5)
v <- read.delim("all.vcf", comment.char = "#", header = FALSE, colClasses = "character")
hdr <- readLines("all.vcf", n = 200); hdr <- hdr[grepl("^#CHROM", hdr)]
ids <- strsplit(hdr, "\t")[[1]][-(1:9)]
code <- function(x) ifelse(x %in% c("0/0", "0|0"), 0, ifelse(x %in% c("0/1", "1/0", "0|1", "1|0"), 1,
               ifelse(x %in% c("1/1", "1|1"), 2, NA)))
bi <- which(!grepl(",", v[, 5]) & nchar(v[, 4]) == 1 & nchar(v[, 5]) == 1)
G <- t(apply(as.matrix(v[bi, -(1:9)]), 1, code))
af <- rowMeans(G) / 2
j <- which(!is.na(af) & af > 0.2 & af < 0.5)[1]
g <- G[j, ]
smp <- read.delim("D/samples.tsv", colClasses = "character")
pn <- smp$personnummer[match(ids, smp$sample_id)]
mi <- rbinom(length(g), 1, plogis(-2.5 + 1.0 * g))
as <- rbinom(length(g), 1, plogis(-2.0 - 0.8 * g))
sep <- which(g == 2)   # cases exactly the homozygous carriers: complete separation
ev <- rbind(data.frame(personnummer = pn[mi == 1], date = "2020-03-01", register = "patient", code = "I21.9"),
            data.frame(personnummer = pn[as == 1], date = "2019-05-01", register = "patient", code = "J45.9"),
            data.frame(personnummer = pn[sep], date = "2018-01-01", register = "patient", code = "Q90.9"))
write.table(ev, "planted.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(sprintf("%s:%s:%s:%s", v[bi[j], 1], v[bi[j], 2], v[bi[j], 4], v[bi[j], 5]), "variant.txt")
write.table(data.frame(sample_id = ids, g = g), "geno.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
EOF
Rscript gen.R
"$PROMISE" ingest registry st planted.tsv --key k.key >/dev/null
V=$(cat variant.txt)

# the starter library plus an endpoint whose cases all carry the ALT
{ cat "$PM_SOURCE_DIR/share/endpoints/starter.tsv"
  printf 'SEP_TEST\t1\tPlanted: cases among carriers only\t\t\t\t1\ticd10:Q90\t\n'; } >ep.tsv
say "promise phewas --variant $V --covar age,sex,pc1,pc2 (default, and --firth)"
"$PROMISE" phewas st --variant "$V" --covar age,sex,pc1,pc2 --ref-date 2026-01-01 --endpoints ep.tsv \
    -o pw 2>pw.err || { cat pw.err; fail "promise phewas failed"; oracle_done; }
cat pw.err
"$PROMISE" phewas st --variant "$V" --covar age,sex,pc1,pc2 --ref-date 2026-01-01 --endpoints ep.tsv \
    --firth --no-plot -o pwf 2>pwf.err || { cat pwf.err; fail "promise phewas --firth failed"; oracle_done; }
[ -s pw.tsv ] && ok "wrote pw.tsv" || fail "no pw.tsv"
[ -s pw.svg ] && grep -q '</svg>' pw.svg && ok "wrote pw.svg" || fail "no pw.svg"

cat >cmp.R <<'EOF'
o <- read.delim("pw.tsv", check.names = FALSE, na.strings = "NA"); names(o)[1] <- "ENDPOINT"
ge <- read.delim("geno.tsv", colClasses = c("character", "numeric"))
smp <- read.delim("D/samples.tsv", colClasses = "character")
pop <- read.delim("D/population.tsv", colClasses = "character")
idt <- read.delim("ids.tsv", colClasses = "character")
pn <- smp$personnummer[match(ge$sample_id, smp$sample_id)]
p <- pop[match(pn, pop$personnummer), ]
ref <- as.Date("2026-01-01"); b <- as.Date(p$birth_date)
end <- rep(ref, nrow(p)); dd <- p$death_date != "" & !is.na(p$death_date)
end[dd] <- pmin(ref, as.Date(p$death_date[dd]))
ym <- function(d) as.integer(format(d, "%m")) * 100 + as.integer(format(d, "%d"))
age <- as.integer(format(end, "%Y")) - as.integer(format(b, "%Y")) - (ym(end) < ym(b))
sex <- ifelse(p$sex == "M", 1, 0)
ev <- rbind(read.delim("D/registry.tsv", colClasses = "character")[, 1:4],
            read.delim("planted.tsv", colClasses = "character"))
ev$c3 <- substr(gsub("[.]", "", ev$code), 1, 3)
pc <- read.delim("pc.eigenvec", check.names = FALSE); names(pc)[1] <- "IID"
ps <- idt$pseudonym[match(ge$sample_id, idt$sample_id)]
pc1 <- pc$PC1[match(ps, pc$IID)]; pc2 <- pc$PC2[match(ps, pc$IID)]
rng <- function(l, a, b) sprintf("%s%02d", l, a:b)
# endpoint -> ICD-10 3-character codes, and whether death-register causes count (starter.tsv)
defs <- list(I9_MI = list(rng("I", 21, 22), TRUE), J10_ASTHMA = list(rng("J", 45, 46), TRUE),
             I9_CHD = list(rng("I", 20, 25), TRUE), I9_HYPTENS = list(rng("I", 10, 15), TRUE),
             F5_DEPRESSIO = list(rng("F", 32, 33), FALSE), SEP_TEST = list("Q90", FALSE))
of <- read.delim("pwf.tsv", check.names = FALSE, na.strings = "NA"); names(of)[1] <- "ENDPOINT"
firth <- function(X, y) {
  b <- rep(0, ncol(X))
  for (it in 1:500) {
    mu <- as.vector(plogis(X %*% b)); w <- mu * (1 - mu)
    Ii <- solve(crossprod(X, X * w))
    h <- rowSums((X %*% Ii) * X) * w
    delta <- Ii %*% crossprod(X, y - mu + h * (0.5 - mu))
    b <- b + delta
    if (max(abs(delta)) < 1e-12) break
  }
  mu <- as.vector(plogis(X %*% b))
  se <- sqrt(solve(crossprod(X, X * mu * (1 - mu)))[ncol(X), ncol(X)])
  c(b[ncol(X)], se, 2 * pnorm(-abs(b[ncol(X)] / se)))
}
rel <- function(a, b) ifelse(a == b, 0, abs(a - b) / pmax(abs(a), abs(b)))
worst <- c(lg = 0, fb = 0, ff = 0); n <- c(lg = 0, fb = 0, ff = 0); cnt_bad <- 0
for (e in names(defs)) {
  regs <- if (defs[[e]][[2]]) c("patient", "death") else "patient"
  cases <- unique(ev$personnummer[ev$register %in% regs & ev$c3 %in% defs[[e]][[1]]])
  y <- as.integer(pn %in% cases)
  r <- o[o$ENDPOINT == e, ]; rf <- of[of$ENDPOINT == e, ]
  if (nrow(r) != 1 || nrow(rf) != 1) { cat(sprintf("%s: not in pw.tsv (%d cases in R)\n", e, sum(y))); cnt_bad <- cnt_bad + 1; next }
  if (r$N_CASES != sum(y) || r$N_CONTROLS != sum(1 - y)) {
    cat(sprintf("%s: cases/controls ours %d/%d, R %d/%d\n", e, r$N_CASES, r$N_CONTROLS, sum(y), sum(1 - y)))
    cnt_bad <- cnt_bad + 1
  }
  X <- cbind(1, age, sex, pc1, pc2, ge$g)
  f <- firth(X, y)
  fit <- suppressWarnings(glm(y ~ age + sex + pc1 + pc2 + ge$g, family = binomial,
                              control = glm.control(epsilon = 1e-14, maxit = 100)))
  # restarted at its own solution, so that the SE comes from the weights
  # at the converged coefficients (glm.fit takes them from the last step)
  if (fit$converged && all(abs(coef(fit)) < 10))
    fit <- suppressWarnings(glm(y ~ age + sex + pc1 + pc2 + ge$g, family = binomial, start = coef(fit),
                                control = glm.control(epsilon = 1e-14, maxit = 100)))
  ml <- summary(fit)$coefficients[6, ]
  d_ff <- max(rel(c(rf$BETA, rf$SE, rf$P), f)); worst["ff"] <- max(worst["ff"], d_ff); n["ff"] <- n["ff"] + 1
  if (r$TEST == "LOGISTIC") {
    d <- max(rel(c(r$BETA, r$SE, r$Z, r$P), ml)); worst["lg"] <- max(worst["lg"], d); n["lg"] <- n["lg"] + 1
  } else {
    d <- max(rel(c(r$BETA, r$SE, r$P), f)); worst["fb"] <- max(worst["fb"], d); n["fb"] <- n["fb"] + 1
  }
  cat(sprintf("%-12s cases %4d controls %5d  %-8s BETA %.8f SE %.8f P %.6g (max rel %.2g) | R glm BETA %.6f SE %.6f P %.4g (converged %s) | --firth BETA %.8f vs R Firth %.8f (max rel %.2g)\n",
              e, r$N_CASES, r$N_CONTROLS, r$TEST, r$BETA, r$SE, r$P, d, ml[1], ml[2], ml[4],
              fit$converged && abs(ml[1]) < 10, rf$BETA, f[1], d_ff))
}
top <- o$ENDPOINT[order(o$P)][1:2]
cat(sprintf("smallest p: %s\n", paste(top, collapse = ", ")))
ch <- o$CHAPTER
q <- function(ok, what) cat(if (ok) "ok     " else "FAILED ", what, "\n")
q(cnt_bad == 0, sprintf("N_CASES and N_CONTROLS equal R's from the registry files (%d endpoints)", length(defs)))
q(n["lg"] == length(defs) - 1 && worst["lg"] < 1e-6, sprintf("LOGISTIC rows: BETA SE Z P within 1e-6 relative of R glm (%d endpoints)", n["lg"]))
q(n["fb"] == 1 && o$TEST[o$ENDPOINT == "SEP_TEST"] == "FIRTH" && worst["fb"] < 1e-6,
  "the separated endpoint falls back to FIRTH, within 1e-6 of a Firth fit in R")
q(n["ff"] == length(defs) && worst["ff"] < 1e-6 && all(of$TEST == "FIRTH"),
  sprintf("--firth: every row FIRTH, BETA SE P within 1e-6 relative of a Firth fit in R (%d endpoints)", n["ff"]))
pa <- o$P[o$ENDPOINT == "J10_ASTHMA"]
q(top[1] == "I9_MI" && length(pa) == 1 && pa < 0.01, "the planted endpoints stand out (I9_MI smallest p, J10_ASTHMA p < 0.01)")
q(!is.unsorted(match(ch, c("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
                           "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", "other"))),
  "rows grouped by ICD-10 chapter in chapter order")
q(o$BETA[o$ENDPOINT == "I9_MI"] > 0 && o$BETA[o$ENDPOINT == "J10_ASTHMA"] < 0, "planted effects have the planted signs")
EOF
Rscript cmp.R >cmp.out 2>&1 || fail "cmp.R: $(tail -3 cmp.out)"
grep -v -E '^(ok |FAILED )' cmp.out || true
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok "${line#ok     }" ;;
    "FAILED "*) fail "${line#FAILED }" ;;
    esac
done <cmp.out

say "registered tier"
"$PROMISE" phewas st --variant "$V" --covar age,sex --ref-date 2026-01-01 --as-tier registered -o reg 2>reg.err ||
    fail "phewas --as-tier registered failed: $(cat reg.err)"
nrow=$(($(wc -l <reg.tsv) - 1))
withheld=$(sed -nE 's/.*, ([0-9]+) rows withheld.*/\1/p' reg.err)
tested=$(sed -nE 's/.*; ([0-9]+) of [0-9]+ endpoints with enough cases.*/\1/p' reg.err)
[ "$((nrow + ${withheld:-0}))" = "$tested" ] && ok "registered: $nrow rows + ${withheld:-0} withheld = $tested tested" ||
    fail "registered: $nrow rows, ${withheld:-0} withheld, $tested tested"
oracle_done
