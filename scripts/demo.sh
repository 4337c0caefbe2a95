#!/bin/bash
# demo.sh - installs what is missing, builds, creates a demo store from
# promise's own synthetic data and runs a few example queries.
set -euo pipefail
cd "$(dirname "$0")/.."
# PROMISE=/path/to/promise skips the setup and the build (a ready binary).
if [ -z "${PROMISE:-}" ]; then
    bash scripts/setup.sh
    bash scripts/build.sh build
fi
P=${PROMISE:-$PWD/build/promise}
D=${DEMO_DIR:-$PWD/demo}
rm -rf "$D"
mkdir -p "$D"
OUT=$D/out.txt

# show TEXT CMD...: a short explanation, the command, the first lines of its
# output (written to a file first: no SIGPIPE from head under pipefail).
show() {
    local text=$1
    shift
    echo
    echo "== $text"
    local shown='$' a
    for a in "$@"; do
        if [ "$a" = "$P" ]; then a=promise; fi
        a=${a#"$D/"}
        case $a in *[!A-Za-z0-9_.:/=,-]*) a="'$a'" ;; esac
        shown="$shown $a"
    done
    echo "$shown"
    "$@" >"$OUT"
    head -n "${LINES_SHOWN:-12}" "$OUT" | cut -c1-150
    local n
    n=$(wc -l <"$OUT")
    if [ "$n" -gt "${LINES_SHOWN:-12}" ]; then echo "... ($n lines)"; fi
}

echo "== simulate a synthetic national data set in $D/data"
"$P" simulate "$D/data" --individuals 2000 --variants 5000 --seed 1

echo "== create the store and a pseudonymisation key (the key holder keeps it)"
"$P" init "$D/store"
"$P" keygen "$D/demo.key"

echo "== load the population, the samples, the registers and the genotypes"
"$P" ingest population "$D/store" "$D/data/population.tsv" --key "$D/demo.key"
"$P" ingest samples "$D/store" "$D/data/samples.tsv" --key "$D/demo.key"
"$P" ingest registry "$D/store" "$D/data/registry.tsv" --key "$D/demo.key"
for v in "$D"/data/genotypes*.vcf.gz; do
    if [ -e "$v" ]; then "$P" ingest vcf "$D/store" "$v"; fi
done
# Olink proteomics: optional, the demo goes on without it
OMICS=0
if [ -s "$D/data/olink.tsv" ] &&
    "$P" ingest omics "$D/store" "$D/data/olink.tsv" --assay olink; then
    OMICS=1
else
    echo "(olink omics not loaded; skipping the omics examples)"
fi

REGION=22:16000000-17000000 # the simulated sites are on 21 and 22 (from 16 Mb)

show "type 2 diabetics aged 50 or more, by sex (the steward sees exact counts)" \
    "$P" count "$D/store" --cohort 'icd10:E11 and age>=50' --by sex
show "the same as a registered researcher sees it: small cells suppressed" \
    "$P" count "$D/store" --cohort 'icd10:E11 and age>=50' --by sex --as-tier registered
show "a time window: metformin (A10BA02) dispensed within a year after a first E11 diagnosis" \
    "$P" count "$D/store" --cohort 'atc:A10BA02 within 1y after first icd10:E11' --by sex
show "a time window: an anticoagulant (apixaban) within 90 days after a first atrial fibrillation" \
    "$P" count "$D/store" --cohort 'atc:B01AF01 within 90d after first icd10:I48'
show "a breakdown with small cells: '<5' is 1 to 4, 'x' hidden so that no small count follows" \
    "$P" count "$D/store" --cohort 'icd10:E11' --by age-band --as-tier registered
if [ "$OMICS" = 1 ]; then
    show "an omics threshold: high IL6 (NPX > 4) among the Olink samples, by sex" \
        "$P" count "$D/store" --cohort 'omics:olink:IL6>4' --by sex
fi
show "the built-in FinnGen-style endpoints" \
    "$P" endpoint list
show "allele frequencies in $REGION" \
    "$P" freq "$D/store" --region "$REGION"
show "allele frequencies among type 2 diabetics" \
    "$P" freq "$D/store" --cohort 'icd10:E11' --region "$REGION"
"$P" view "$D/store" --region "$REGION" -o "$D/view.vcf"
LINES_SHOWN=8 show "genotypes back out as VCF: promise view STORE --region $REGION -o view.vcf (wide lines cut)" \
    grep -v '^##' "$D/view.vcf"
show "principal components of the genotypes (LD-pruned, approximate), stored for gwas covariates" \
    "$P" pca "$D/store" -k 4
"$P" gwas "$D/store" --pheno endpoint:T2D --covar age,sex,pc1,pc2 -o "$D/t2d" 2>/dev/null
{ head -n 1 "$D/t2d.tsv"; awk -F '\t' 'NR > 1 && $12 != "NA"' "$D/t2d.tsv" | sort -t "$(printf '\t')" -g -k12,12; } >"$D/t2d.top.tsv"
LINES_SHOWN=6 show "a GWAS of type 2 diabetes (score test, Firth where p < 0.05): promise gwas STORE --pheno endpoint:T2D --covar age,sex,pc1,pc2 -o t2d; the smallest p-values" \
    cat "$D/t2d.top.tsv"
show "serving it: promise serve STORE --listen 127.0.0.1:8080 gives the browser UI at /, the JSON API and Beacon v2" \
    "$P" help serve
show "the audit log's hash chain verifies (every query above was logged before it was answered)" \
    "$P" audit verify "$D/store"
rm -f "$OUT"
echo
echo "== done: the store is in $D/store, the data in $D/data"
