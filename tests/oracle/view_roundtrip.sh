#!/bin/bash
# view_roundtrip.sh - what `promise view` writes back equals what went in.
#
# For each input (1000 Genomes chr22 and chrX: phased, multi-allelic, males
# "0/."; the GRCh38 Beacon file with "chr22" names; a hand-written file of
# multi-allelic and mixed-ploidy records; a small `promise simulate` file),
# loaded from VCF and from BCF, `promise view -O v|z|b` is read with
#   bcftools query -f '%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n' -s <input samples>
# and must equal the same query of the input (chr prefix removed on both
# sides: promise names chr22 "22"). A store holding chr21+chr22+chrX from three
# files must give back all three in order. A phase-only difference is
# reported as such.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest view

KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac
B2=$PM_TEST_DATA/beacon2-1kg-test
QFMT='%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n'

# the hand-written multi-allelic file
MULTI=$W/multi.vcf
{
    printf '##fileformat=VCFv4.2\n##reference=GRCh38\n'
    printf '##contig=<ID=21,length=46709983>\n##contig=<ID=22,length=50818468>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tM1\tM2\tM3\tM4\tM5\tM6\n'
    printf '21\t9411239\trs1\tA\tC,G\t.\tPASS\t.\tGT\t0/1\t1/2\t2/2\t./.\t0|2\t1/1\n'
    printf '22\t16050075\t.\tAT\tA,ATT,C\t50\tPASS\t.\tGT\t1/3\t3/3\t0/0\t2/.\t0/0\t0/1\n'
    printf '22\t16050300\t.\tG\tT\t.\t.\t.\tGT\t0\t1\t./.\t0/1\t1|0\t.\n'
    printf '22\t16050300\t.\tG\tGA\t.\t.\t.\tGT\t0/0\t0/1\t0/0\t0/0\t0/0\t0/0\n'
    printf '22\t16050408\trs2\tC\tA,T,G,CT\t.\tPASS\t.\tGT\t4/4\t1/4\t2/3\t0/0\t./1\t0|4\n'
    printf '22\t16050500\t.\tCAA\tC\t.\tPASS\t.\tGT\t0/0\t0/0\t0/0\t0/0\t0/0\t0/0\n'
    printf '22\t16050600\t.\tT\tC\t.\tPASS\t.\tGT\t1|1\t0|1\t1|0\t./.\t0/0\t1/1\n'
} >"$MULTI"

inputs=("$KG/1KG_phase3_subset_chr22.vcf.gz" "$KG/1KG_phase3_subset_chrX.vcf.gz"
    "$B2/test_1000G_hg38.vcf.gz" "$MULTI")
if have_cmd simulate; then
    "$PROMISE" simulate "$W/sim" --individuals 400 --variants 600 --seed 7 >/dev/null 2>&1 &&
        [ -f "$W/sim/genotypes.vcf.gz" ] && inputs+=("$W/sim/genotypes.vcf.gz")
fi

# compare NAME EXPECTED PROMISE_OUTPUT SAMPLES
compare() {
    local name=$1 exp=$2 got=$3 samples=$4
    if ! bcftools query -f "$QFMT" -S "$samples" "$got" 2>"$W/qerr" | strip_chr >"$got.q"; then
        fail "$name: bcftools cannot read promise's output: $(head -c 300 "$W/qerr")"
        return 0
    fi
    if cmp -s "$exp" "$got.q"; then
        ok "$name: $(wc -l <"$exp") records identical"
    elif cmp -s <(sort "$exp") <(sort "$got.q"); then
        ok "$name: $(wc -l <"$exp") records identical (records at one position in another order)"
    elif cmp -s <(tr '|' '/' <"$exp") <(tr '|' '/' <"$got.q"); then
        fail "$name: genotypes equal but phasing differs; first differences (< input, > promise):"
        first_diff "$exp" "$got.q" 6
    else
        fail "$name: $(wc -l <"$got.q") records from promise vs $(wc -l <"$exp") in the input; first differences (< input, > promise):"
        first_diff "$exp" "$got.q" 6
    fi
}

# roundtrip NAME STORE EXPECTED SAMPLES
roundtrip() {
    local name=$1 store=$2 exp=$3 samples=$4 o ext
    for o in v z b; do
        case $o in v) ext=vcf ;; z) ext=vcf.gz ;; b) ext=bcf ;; esac
        local out=$W/view.$o.$ext
        rm -f "$out"
        if ! timeout 120 "$PROMISE" view "$store" -O $o -o "$out" 2>"$W/err"; then
            fail "$name -O $o: promise view failed: $(head -c 300 "$W/err")"
            continue
        fi
        compare "$name -O $o" "$exp" "$out" "$samples"
    done
    # plain VCF on stdout, the default
    if timeout 120 "$PROMISE" view "$store" >"$W/view.stdout.vcf" 2>"$W/err"; then
        compare "$name (stdout)" "$exp" "$W/view.stdout.vcf" "$samples"
    else
        fail "$name (stdout): promise view failed: $(head -c 300 "$W/err")"
    fi
}

n=0
for f in "${inputs[@]}"; do
    n=$((n + 1))
    d=$W/in$n
    mkdir -p "$d"
    base=$(basename "$f")
    say "== $base"
    bcftools query -l "$f" >"$d/samples.txt"
    bcftools query -f "$QFMT" "$f" | strip_chr >"$d/expected"
    bcftools view -Ob -o "$d/input.bcf" "$f"
    for fmt in vcf bcf; do
        store=$d/store.$fmt
        if [ $fmt = vcf ]; then src=$f; else src=$d/input.bcf; fi
        if ! mk_store "$store" "$d/samples.txt" 2>"$d/err"; then
            fail "$base/$fmt: building the store failed: $(head -c 300 "$d/err")"
            continue
        fi
        if ! "$PROMISE" ingest vcf "$store" "$src" >/dev/null 2>"$d/err"; then
            fail "$base/$fmt: promise ingest vcf failed: $(head -c 300 "$d/err")"
            continue
        fi
        roundtrip "$base/$fmt" "$store" "$d/expected" "$d/samples.txt"
    done
done

# one store, three files (chr21, chr22, chrX), given back in contig order
say "== chr21 + chr22 + chrX in one store"
d=$W/combined
mkdir -p "$d"
bcftools query -l "$KG/1KG_phase3_subset_chr22.vcf.gz" >"$d/samples.txt"
: >"$d/expected"
if mk_store "$d/store" "$d/samples.txt" 2>"$d/err"; then
    loaded=1
    for c in 21 22 X; do
        f=$KG/1KG_phase3_subset_chr$c.vcf.gz
        bcftools query -f "$QFMT" "$f" | strip_chr >>"$d/expected"
        "$PROMISE" ingest vcf "$d/store" "$f" >/dev/null 2>"$d/err" ||
            { fail "combined: promise ingest vcf chr$c failed: $(head -c 300 "$d/err")"; loaded=0; }
    done
    [ $loaded = 1 ] && roundtrip "combined chr21+22+X" "$d/store" "$d/expected" "$d/samples.txt"
else
    fail "combined: building the store failed: $(head -c 300 "$d/err")"
fi
oracle_done
