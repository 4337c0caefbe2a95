#!/bin/bash
# forget_paths.sh - `promise forget` takes a person out of every path:
# count, freq, the GWAS inputs, a project extract and Beacon over HTTP
# (`promise serve` + curl), each checked before and after. The person is
# the only carrier of an allele (found with bcftools on the ingested VCF),
# so each path has a visible, independently predicted change.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest simulate count freq gwas serve forget export
command -v curl >/dev/null || { say "SKIP: curl not installed"; exit 0; }

cd "$W"
"$PROMISE" simulate sim --individuals 400 --variants 400 --seed 11 >/dev/null 2>&1
"$PROMISE" keygen key >/dev/null 2>&1
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st sim/population.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest samples st sim/samples.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest vcf st sim/genotypes.vcf.gz >/dev/null 2>&1
"$PROMISE" config st beacon_min_ac 1 >/dev/null 2>&1
"$PROMISE" config st beacon_edge_band 0 >/dev/null 2>&1 # the exact threshold: this test follows one allele's answer
"$PROMISE" user add st stew --tier steward >/dev/null 2>&1
"$PROMISE" project add st all --sources "$(cut -f3 sim/samples.tsv | sed 1d | sort -u | paste -sd,)" \
    --data-types genotypes --purpose DUO:0000006,DUO:0000018 --expires 2099-12-31 >/dev/null 2>&1
TOK=$("$PROMISE" token new st stew 2>/dev/null)

# a biallelic SNV with exactly one carrier sample (a heterozygote), by bcftools
read -r CHR POS REF ALT SAMPLE GT < <(bcftools view -m2 -M2 -v snps sim/genotypes.vcf.gz 2>/dev/null |
    bcftools query -f '%CHROM %POS %REF %ALT[ %SAMPLE=%GT]\n' |
    awk '{n=0; for(i=5;i<=NF;i++){split($i,a,"="); if(a[2]~/1/){n++; s=a[1]; g=a[2]}}
          if(n==1 && g!~/1.1/){print $1,$2,$3,$4,s,g; exit}}') || true
[ -n "${SAMPLE:-}" ] || { fail "no singleton allele in the simulated VCF"; oracle_done; }
CHR=${CHR#chr}
PNR=$(awk -F'\t' -v s="$SAMPLE" '$1==s{print $2}' sim/samples.tsv)
AN_PERSON=$(printf '%s' "$GT" | tr -cd '01' | wc -c) # their called alleles there
say "person: the one carrier ($SAMPLE, $GT) of $CHR:$POS:$REF:$ALT"
C="carrier($CHR:$POS:$REF:$ALT)"

"$PROMISE" serve st --listen 127.0.0.1:0 --rate-limit 100000 2>serve.err &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
port=$(serve_port serve.err)
[ -n "$port" ] || { cat serve.err; fail "server did not start"; oracle_done; }
G="http://127.0.0.1:$port/api/beacon/v2/g_variants?referenceName=$CHR&start=$((POS - 1))&referenceBases=$REF&alternateBases=$ALT"
beacon() { # beacon [TOKEN] -> true|false
    local h=()
    [ -n "${1:-}" ] && h=(-H "Authorization: Bearer $1")
    curl -s "${h[@]}" "$G" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["responseSummary"]["exists"]).lower())'
}
measure() { # -> N CARRIERS AC AN GWAS_N EXPORT_N BEACON_PUBLIC BEACON_STEWARD
    local n car row gn
    n=$("$PROMISE" count st 2>/dev/null)
    car=$("$PROMISE" count st --cohort "$C" 2>/dev/null)
    row=$("$PROMISE" freq st --region "$CHR:$POS-$POS" 2>/dev/null | awk -v r="$REF" -v a="$ALT" '$4==r && $5==a{print $6, $7}')
    "$PROMISE" gwas st --pheno sex=F --covar '' --region "$CHR:$POS-$POS" -o gw >/dev/null 2>&1
    gn=$(awk -F'\t' '$1=="genotyped_individuals"{print $2}' gw.log)
    rm -rf ex
    "$PROMISE" export st --project all -o ex >/dev/null 2>&1
    echo "$n $car $row $gn $(($(wc -l <ex/individuals.tsv) - 1)) $(beacon) $(beacon "$TOK")"
}
read -r N0 CAR0 AC0 AN0 GN0 EX0 BP0 BS0 < <(measure)
say "before: count $N0, carriers $CAR0, AC $AC0 AN $AN0, gwas n $GN0, export $EX0, beacon public $BP0 steward $BS0"
cp ex/individuals.tsv before.tsv
"$PROMISE" forget st --key key "$PNR" >/dev/null 2>&1 || fail "forget failed"
read -r N1 CAR1 AC1 AN1 GN1 EX1 BP1 BS1 < <(measure)
say "after:  count $N1, carriers $CAR1, AC $AC1 AN $AN1, gwas n $GN1, export $EX1, beacon public $BP1 steward $BS1"

[ "$N1" = $((N0 - 1)) ] && ok "count: $N0 -> $N1" || fail "count: $N0 -> $N1"
[ "$CAR0" = 1 ] && [ "$CAR1" = 0 ] && ok "count of carriers: 1 -> 0" || fail "carriers: $CAR0 -> $CAR1"
[ "$AC0" = 1 ] && [ "$AC1" = 0 ] && ok "freq AC: 1 -> 0" || fail "freq AC: $AC0 -> $AC1"
[ "$AN1" = $((AN0 - AN_PERSON)) ] && ok "freq AN: $AN0 -> $AN1 (their $AN_PERSON alleles)" ||
    fail "freq AN: $AN0 -> $AN1, expected minus $AN_PERSON"
[ "$GN1" = $((GN0 - 1)) ] && ok "gwas inputs: $GN0 -> $GN1 genotyped individuals" || fail "gwas n: $GN0 -> $GN1"
[ "$EX1" = $((EX0 - 1)) ] && ok "export: $EX0 -> $EX1 individuals" || fail "export: $EX0 -> $EX1"
gone=$(comm -23 <(cut -f1 before.tsv | sort) <(cut -f1 ex/individuals.tsv | sort) | wc -l)
[ "$gone" = 1 ] && ok "export: exactly one pseudonym left the extract" || fail "export: $gone pseudonyms left"
[ "$BP0" = true ] && [ "$BP1" = false ] && ok "Beacon (public, cached before): true -> false" ||
    fail "Beacon public: $BP0 -> $BP1"
[ "$BS0" = true ] && [ "$BS1" = false ] && ok "Beacon (steward token): true -> false" ||
    fail "Beacon steward: $BS0 -> $BS1"
oracle_done
