# shellcheck shell=bash
# bench/data.sh - the simulated data of a benchmark tier, shared by
# bench/run.sh and bench/gwas.sh (sourced, not run).
#
#   bench_tier TIER     sets NSAMP, NVAR (returns 1 for an unknown tier)
#   bench_data          simulates into $DATA unless the data there were made
#                       by the same simulator sources with the same
#                       parameters (DATA/STAMP); needs P (the promise
#                       binary), TIER, NSAMP, NVAR, SEED, ROOT, DATA
#
# Individuals are scaled so that about NSAMP samples are genotyped (the
# simulated population has samples of many assays).

bench_tier() {
    case $1 in
    S) NSAMP=2000 NVAR=20000 ;;
    M) NSAMP=10000 NVAR=100000 ;;
    L) NSAMP=50000 NVAR=200000 ;;
    *) return 1 ;;
    esac
}

bench_data() {
    local sim_stamp stamp pilot nind t0
    mkdir -p "$DATA"
    sim_stamp=$(cat "$ROOT"/src/sim/*.c 2>/dev/null | md5sum | cut -c1-12)
    stamp="tier=$TIER samples=$NSAMP variants=$NVAR seed=$SEED sim=$sim_stamp"
    if [ "$(cat "$DATA/STAMP" 2>/dev/null)" != "$stamp" ] || [ ! -s "$DATA/genotypes.vcf.gz" ]; then
        printf 'bench: simulating tier %s into %s\n' "$TIER" "$DATA" >&2
        rm -rf "$DATA/pilot"
        "$P" simulate "$DATA/pilot" --individuals 20000 --seed "$SEED" >/dev/null 2>&1
        pilot=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
            $c["assay"] == "wgs" || $c["assay"] == "wes" || $c["assay"] == "array"' "$DATA/pilot/samples.tsv" | wc -l)
        rm -rf "$DATA/pilot"
        nind=$(((NSAMP * 20000 + pilot - 1) / pilot))
        t0=$(date +%s.%N)
        "$P" simulate "$DATA" --individuals $nind --variants "$NVAR" --seed "$SEED" >&2
        printf 'bench: simulated in %s s\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" >&2
        echo "$stamp" >"$DATA/STAMP"
    fi
}
