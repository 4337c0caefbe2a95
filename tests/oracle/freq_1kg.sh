#!/bin/bash
# freq_1kg.sh - `promise freq` AC, AN and NHOMALT against bcftools +fill-tags
# on real 1000 Genomes data.
#
# Data sets (one store each: the Beacon files are other builds / sample sets):
#   kg37    1kg-phase3-subset-uwgac chr21, chr22, chrX (GRCh37, 1126 samples,
#           phased, multi-allelic sites, chrX males as "0/.")
#   b37     beacon2-1kg-test/test_1000G.vcf.gz (GRCh37 chr1, 2504 samples)
#   b38     beacon2-1kg-test/test_1000G_hg38.vcf.gz (GRCh38 "chr22", 2548 samples)
# Each data set is loaded twice, from VCF and from BCF input (bcftools view
# -Ob), and both stores must give the same answer as bcftools.
# Cohorts: everyone; a half given its own source (--cohort source:SUBSET);
# sex=F (sex from cineca-uk1); for kg37 and b38 also a --region.
# Expected rows: bcftools view [-S samples] | +fill-tags -t AC,AN,AC_Hom,
# one row per ALT allele, NHOMALT = AC_Hom/2, chr prefix removed.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest freq

KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac
B2=$PM_TEST_DATA/beacon2-1kg-test
UK1=$PM_TEST_DATA/cineca-uk1/uk1.tsv

# expected FILE... with env SAMPLES (file or empty) and REGION (or empty):
# CHROM POS REF ALT AC AN NHOMALT per ALT allele, sorted.
expected() {
    local f
    for f in "$@"; do
        local view=(bcftools view -Ou)
        [ -n "${SAMPLES:-}" ] && view+=(-S "$SAMPLES" --force-samples)
        [ -n "${REGION:-}" ] && view+=(-r "$REGION")
        "${view[@]}" "$f" 2>/dev/null |
            bcftools +fill-tags -Ou -- -t AC,AN,AC_Hom |
            bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\t%AC_Hom\n'
    done | awk -F'\t' -v OFS='\t' '{
        sub(/^chr/, "", $1)
        n = split($4, alt, ","); split($5, ac, ","); split($7, hom, ",")
        for (i = 1; i <= n; i++) if (alt[i] != ".") print $1, $2, $3, alt[i], ac[i], $6, hom[i] / 2
    }' | sort
}

# ours FREQ_OUTPUT: the same columns, found by name in the header.
ours() {
    awk -F'\t' -v OFS='\t' '
        /^##/ { next }
        /^#CHROM/ { for (i = 1; i <= NF; i++) c[$i] = i; hdr = 1; next }
        !hdr { next }
        { ch = $c["#CHROM"]; sub(/^chr/, "", ch)
          if ($c["ALT"] != ".") print ch, $c["POS"], $c["REF"], $c["ALT"], $c["AC"], $c["AN"], $c["NHOMALT"] }
    ' "$1" | sort
}

# check_case NAME STORE EXPECTED [freq options...]
check_case() {
    local name=$1 store=$2 exp=$3
    shift 3
    local out=$W/out.$$.tsv err=$W/err.txt
    if ! "$PROMISE" freq "$store" "$@" >"$out" 2>"$err"; then
        fail "$name: promise freq $* exited non-zero: $(head -c 300 "$err")"
        return 0
    fi
    ours "$out" >"$out.norm"
    local n_exp n_ours
    n_exp=$(wc -l <"$exp")
    n_ours=$(wc -l <"$out.norm")
    if cmp -s "$exp" "$out.norm"; then
        ok "$name: $n_exp allele rows identical (AC, AN, NHOMALT)"
    else
        fail "$name: $n_ours rows from promise vs $n_exp from bcftools; first differences (< bcftools, > promise):"
        first_diff "$exp" "$out.norm"
    fi
    # AF must be AC/AN (to 4 significant digits)
    local badaf
    badaf=$(awk -F'\t' '/^#CHROM/ { for (i = 1; i <= NF; i++) c[$i] = i; next } /^#/ { next }
        $c["AN"] > 0 && $c["AC"] ~ /^[0-9]+$/ { e = $c["AC"] / $c["AN"]; d = $c["AF"] - e; if (d < 0) d = -d
          if (d > 1e-4 * (e > 1e-3 ? e : 1e-3) + 1e-6) n++ } END { print n + 0 }' "$out")
    [ "$badaf" = 0 ] || fail "$name: $badaf rows with AF != AC/AN"
}

# run_dataset NAME "FILES..." SAMPLE_SOURCE_FILE [REGION]
run_dataset() {
    local name=$1 files=$2 region=${3:-}
    local d=$W/$name
    mkdir -p "$d"
    read -r -a fv <<<"$files"
    say "== $name: ${fv[*]##*/}"

    bcftools query -l "${fv[0]}" >"$d/samples.txt"
    # a deterministic half: every other sample
    awk 'NR % 2 == 0' "$d/samples.txt" >"$d/subset.txt"
    # females according to CINECA (the same rule mktables.awk applies)
    awk -F'\t' 'FNR == NR { if (FNR == 1) { for (i = 1; i <= NF; i++) c[$i] = i; next }
            sx[$c["Subject id"]] = tolower(substr($c["Sex"], 1, 1)) == "m" ? "M" : "F"; next }
        $0 != "" { s = ($0 in sx) ? sx[$0] : (n % 2 ? "M" : "F"); n++; if (s == "F") print }' \
        "$UK1" "$d/samples.txt" >"$d/females.txt"

    # BCF copies (indexed, also used for the region oracle)
    local bcfs=()
    local f
    for f in "${fv[@]}"; do
        local b=$d/$(basename "${f%.vcf.gz}").bcf
        bcftools view -Ob -o "$b" "$f"
        bcftools index -f "$b"
        bcfs+=("$b")
    done

    SAMPLES='' REGION='' expected "${bcfs[@]}" >"$d/exp.all"
    SAMPLES=$d/subset.txt REGION='' expected "${bcfs[@]}" >"$d/exp.subset"
    SAMPLES=$d/females.txt REGION='' expected "${bcfs[@]}" >"$d/exp.female"
    if [ -n "$region" ]; then
        SAMPLES='' REGION=$region expected "${bcfs[@]}" >"$d/exp.region"
        SAMPLES=$d/subset.txt REGION=$region expected "${bcfs[@]}" >"$d/exp.region.subset"
    fi
    say "   bcftools: $(wc -l <"$d/exp.all") allele rows, $(wc -l <"$d/samples.txt") samples," \
        "$(wc -l <"$d/subset.txt") in SUBSET, $(wc -l <"$d/females.txt") female"

    local fmt
    for fmt in vcf bcf; do
        local store=$d/store.$fmt inputs
        if [ $fmt = vcf ]; then inputs=("${fv[@]}"); else inputs=("${bcfs[@]}"); fi
        if ! mk_store "$store" "$d/samples.txt" --sex-table "$UK1" --source KG \
            --subset "$d/subset.txt" --subset-source SUBSET 2>"$d/err"; then
            fail "$name/$fmt: building the store failed: $(head -c 300 "$d/err")"
            continue
        fi
        local loaded=1
        for f in "${inputs[@]}"; do
            if ! "$PROMISE" ingest vcf "$store" "$f" >/dev/null 2>"$d/err"; then
                fail "$name/$fmt: promise ingest vcf ${f##*/} failed: $(head -c 300 "$d/err")"
                loaded=0
            fi
        done
        [ $loaded = 1 ] || continue
        check_case "$name/$fmt all samples" "$store" "$d/exp.all"
        check_case "$name/$fmt --cohort source:SUBSET" "$store" "$d/exp.subset" --cohort source:SUBSET
        check_case "$name/$fmt --cohort sex=F" "$store" "$d/exp.female" --cohort sex=F
        if [ -n "$region" ]; then
            local qr=${region#chr}
            check_case "$name/$fmt --region $qr" "$store" "$d/exp.region" --region "$qr"
            check_case "$name/$fmt --region $qr --cohort source:SUBSET" "$store" \
                "$d/exp.region.subset" --region "$qr" --cohort source:SUBSET
        fi
    done
}

run_dataset kg37 "$KG/1KG_phase3_subset_chr21.vcf.gz $KG/1KG_phase3_subset_chr22.vcf.gz $KG/1KG_phase3_subset_chrX.vcf.gz" \
    22:20000000-30000000
run_dataset b37 "$B2/test_1000G.vcf.gz" 1:50000-120000
run_dataset b38 "$B2/test_1000G_hg38.vcf.gz" chr22:10600000-10800000
oracle_done
