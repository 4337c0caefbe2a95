#!/bin/bash
# bench/run.sh [S|M|L] - promise side by side with plink2, plink1.9 and
# bcftools on one simulated data set, in one run (see bench/README.md).
#
#   S  2,000 samples x 20,000 variants    CI smoke tier (< 3 minutes)
#   M  10,000 samples x 100,000 variants  the main tier
#   L  50,000 samples x 200,000 variants  optional
#
# Environment:
#   PROMISE             the promise binary (default: build/promise)
#   PM_BENCH_DATA       data folder (default bench/data/TIER; reused when
#                       the simulator and the parameters are unchanged)
#   PM_BENCH_WORK       scratch folder (default bench/work/TIER)
#   PM_BENCH_REPS       repetitions per timing, median reported (default 3;
#                       a command whose first run takes > 10 s runs once)
#   PM_BENCH_THREADS    threads for every tool (default 2)
#   PM_BENCH_NO_RESULTS=1  do not update bench/RESULTS.md (smoke mode)
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIER=${1:-S}
# shellcheck source=data.sh
source "$ROOT/bench/data.sh"
bench_tier "$TIER" || { echo "usage: bench/run.sh [S|M|L]" >&2; exit 1; }
P=${PROMISE:-$ROOT/build/promise}
[ -x "$P" ] || { echo "bench: no promise binary at '$P' (build first, or set PROMISE)" >&2; exit 1; }
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
DATA=${PM_BENCH_DATA:-$ROOT/bench/data/$TIER}
WORK=${PM_BENCH_WORK:-$ROOT/bench/work/$TIER}
REPS=${PM_BENCH_REPS:-3}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
TH=${PM_BENCH_THREADS:-2}
# shellcheck disable=SC2034 # read by bench_data (bench/data.sh)
SEED=42
PLINK2=plink2
[ -x /usr/lib/plink2/plink2-avx2 ] && PLINK2=/usr/lib/plink2/plink2-avx2
command -v "$PLINK2" >/dev/null || PLINK2=
PLINK1=plink1.9
command -v $PLINK1 >/dev/null || PLINK1=
BCF=bcftools
command -v $BCF >/dev/null || BCF=

log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
HELP=$("$P" help 2>&1 || true)
has_cmd() { printf '%s\n' "$HELP" | grep -E "^  $1 " | grep -v 'not available' >/dev/null; }

mkdir -p "$DATA" "$WORK"
rm -rf "${WORK:?}"/*

# ---- data (bench/data.sh) ------------------------------------------------
bench_data
VCF=$DATA/genotypes.vcf.gz
N=$(bcftools query -l "$VCF" | wc -l)
M=$NVAR
NG=$(awk -v n="$N" -v m="$M" 'BEGIN { printf "%.0f", n * m }')
log "bench: tier $TIER: $N samples x $M variants ($NG genotypes), $(du -h "$VCF" | cut -f1) vcf.gz"

# ---- timing --------------------------------------------------------------
declare -A T        # T[task|tool] = median seconds, or "fail"
declare -A NOTE
TASKS=()
tool_list=(promise plink2 plink1.9 bcftools)

# timeit TASK TOOL PREP CMD...: PREP (a shell snippet, may be "") runs before
# each repetition, untimed; the median over repetitions is recorded.
timeit() {
    local task=$1 tool=$2 prep=$3
    shift 3
    [[ " ${TASKS[*]} " == *" $task "* ]] || TASKS+=("$task")
    local times=() r t0 t1 rc
    for ((r = 1; r <= REPS; r++)); do
        [ -n "$prep" ] && eval "$prep"
        t0=$(now)
        rc=0
        "$@" >"$WORK/last.out" 2>"$WORK/last.err" || rc=$?
        t1=$(now)
        if [ $rc != 0 ]; then
            T["$task|$tool"]=fail
            NOTE["$task|$tool"]="exit $rc: $(head -c 200 "$WORK/last.err" | tr '\n' ' ')"
            log "bench: $task / $tool failed (exit $rc): $(head -c 300 "$WORK/last.err")"
            return 0
        fi
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
        awk -v t="${times[-1]}" 'BEGIN { exit !(t > 10) }' && break
    done
    T["$task|$tool"]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    log "bench: $(printf '%-28s %-9s %8.3f s  (%s)' "$task" "$tool" "${T["$task|$tool"]}" "${times[*]}")"
}

# ---- ours: ingest ----------------------------------------------------------
S=$WORK/store
KEY=$WORK/key
"$P" keygen "$KEY" >/dev/null
VT=()
case $("$P" help ingest 2>&1 || true) in *--threads*) VT=(--threads "$TH") ;; esac
ingest_ours() {
    "$P" init "$S" &&
        "$P" ingest population "$S" "$DATA/population.tsv" --key "$KEY" &&
        "$P" ingest samples "$S" "$DATA/samples.tsv" --key "$KEY" || return 1
    local t0
    t0=$(now)
    "$P" ingest vcf "$S" "$VCF" "${VT[@]}" || return 1
    awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.4f\n", b - a }' >>"$WORK/vcfstep.times"
}
rm -f "$WORK/vcfstep.times"
timeit ingest promise "rm -rf '$S'" ingest_ours
# the VCF step alone (the peers' ingest has no population and samples tables)
if [ -s "$WORK/vcfstep.times" ]; then
    TASKS+=("ingest vcf step")
    T["ingest vcf step|promise"]=$(sort -g "$WORK/vcfstep.times" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
fi

# ---- peers: ingest ---------------------------------------------------------
if [ -n "$PLINK2" ]; then
    timeit ingest plink2 "rm -f '$WORK'/p2.*" "$PLINK2" --vcf "$VCF" --make-pgen --out "$WORK/p2" \
        --threads "$TH" --memory 4000
fi
if [ -n "$PLINK1" ]; then
    timeit ingest plink1.9 "rm -f '$WORK'/p1.*" $PLINK1 --vcf "$VCF" --make-bed --out "$WORK/p1" \
        --threads "$TH" --double-id --allow-extra-chr --memory 4000
fi
bcf_ingest() { $BCF view --threads "$TH" -Ob -o "$WORK/x.bcf" "$VCF" && $BCF index --threads "$TH" -f "$WORK/x.bcf"; }
[ -n "$BCF" ] && timeit ingest bcftools "rm -f '$WORK'/x.bcf*" bcf_ingest

# ---- sizes -------------------------------------------------------------------
size_of() { [ -e "$1" ] && du -sb "$1" | cut -f1 || echo ""; }
GTDIR=$S/gt
[ -d "$GTDIR" ] || GTDIR=$S
SZ_OURS=$(size_of "$GTDIR")
SZ_PGEN=$(size_of "$WORK/p2.pgen")
SZ_BED=$(size_of "$WORK/p1.bed")
SZ_BCF=$(size_of "$WORK/x.bcf")
SZ_VCF=$(size_of "$VCF")

# ---- frequencies over half the samples: the women ---------------------------
# The keep list: the genotyped VCF samples of female individuals
# (population.tsv sex, else the personnummer's birth number); an individual
# with several genotyped samples counts once in promise (its first column in
# the VCF), so the peers keep that sample only.
"$BCF" query -l "$VCF" >"$WORK/vcf_samples.txt"
python3 - "$DATA" "$WORK/vcf_samples.txt" >"$WORK/females.txt" <<'EOF'
import sys
d, vs = sys.argv[1], sys.argv[2]
def table(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            yield dict(zip(head, line.rstrip("\n").split("\t")))
sex = {}
for r in table(d + "/population.tsv"):
    who = r.get("personnummer") or r.get("pseudonym")
    s = r.get("sex", "")
    if not s and r.get("personnummer"):
        digits = r["personnummer"].replace("-", "").replace("+", "")
        s = "M" if int(digits[-2]) % 2 else "F"
    sex[who] = s
owner = {}
for r in table(d + "/samples.tsv"):
    owner[r["sample_id"]] = r.get("personnummer") or r.get("pseudonym")
seen = set()
for s in open(vs):  # promise counts an individual once: its first VCF column
    s = s.strip()
    who = owner.get(s)
    if s and who not in seen and sex.get(who) == "F":
        seen.add(who)
        print(s)
EOF
NF=$(wc -l <"$WORK/females.txt")
log "bench: cohort sex=F: $NF of $N samples"
if has_cmd freq; then
    timeit "freq sex=F" promise "" "$P" freq "$S" --cohort sex=F -o "$WORK/ours.freq"
fi
if [ -n "$PLINK2" ] && [ -e "$WORK/p2.pgen" ]; then
    timeit "freq sex=F" plink2 "" "$PLINK2" --pfile "$WORK/p2" --keep "$WORK/females.txt" --freq counts \
        --out "$WORK/p2f" --threads "$TH" --memory 4000
fi
if [ -n "$PLINK1" ] && [ -e "$WORK/p1.bed" ]; then
    awk '{ print $1, $1 }' "$WORK/females.txt" >"$WORK/females.fam.txt"
    timeit "freq sex=F" plink1.9 "" $PLINK1 --bfile "$WORK/p1" --keep "$WORK/females.fam.txt" --freq \
        --out "$WORK/p1f" --threads "$TH" --allow-extra-chr --memory 4000
fi
bcf_freq() {
    $BCF view --threads "$TH" -S "$WORK/females.txt" -Ou "$WORK/x.bcf" |
        $BCF +fill-tags -Ou -- -t AC,AN | $BCF query -f '%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\n' >"$WORK/bcf.freq"
}
[ -n "$BCF" ] && [ -e "$WORK/x.bcf" ] && timeit "freq sex=F" bcftools "" bcf_freq

# AC/AN agreement: ours vs plink2, per ALT allele. Rows are keyed by the
# site's ordinal (simulated sites have distinct positions; plink2's .acount
# has no POS column), REF and ALT: promise lists a site's ALTs sorted.
CHECK="not run"
if [ -s "$WORK/ours.freq" ] && [ -s "$WORK/p2f.acount" ]; then
    awk -F'\t' -v OFS='\t' '/^#CHROM/ { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next } /^#/ || !h { next }
        { k = $c["#CHROM"] ":" $c["POS"]; if (k != last) { n++; last = k }
          print n, $c["REF"], $c["ALT"], $c["AC"], $c["AN"] }' "$WORK/ours.freq" | sort >"$WORK/ours.acan"
    awk -F'\t' -v OFS='\t' '/^#CHROM/ { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { n++; k = split($c["ALT"], a, ","); split($c["ALT_CTS"], x, ",")
          for (i = 1; i <= k; i++) print n, $c["REF"], a[i], x[i], $c["OBS_CT"] }' "$WORK/p2f.acount" | sort >"$WORK/p2.acan"
    nrow=$(wc -l <"$WORK/p2.acan")
    same=$(comm -12 "$WORK/ours.acan" "$WORK/p2.acan" | wc -l)
    CHECK="$same of $nrow allele rows have the same REF, ALT, AC and AN in promise and plink2"
    if [ "$same" != "$nrow" ] || [ "$(wc -l <"$WORK/ours.acan")" != "$nrow" ]; then
        CHECK="MISMATCH: $CHECK (promise has $(wc -l <"$WORK/ours.acan") rows)"
        log "bench: first AC/AN differences (< promise, > plink2; site ordinal, REF, ALT, AC, AN):"
        diff "$WORK/ours.acan" "$WORK/p2.acan" | head -6 >&2 || true
    fi
fi
log "bench: AC/AN check: $CHECK"

# ---- one 1 Mb region ---------------------------------------------------------
RCHR=22
RBEG=30000001
REND=31000000
REG=$RCHR:$RBEG-$REND
if [ -e "$WORK/x.bcf.csi" ]; then
    MR=$($BCF view -H -r "$REG" "$WORK/x.bcf" | wc -l)
else
    MR=$(zcat -f "$VCF" | awk -F'\t' -v c=$RCHR -v b=$RBEG -v e=$REND '!/^#/ { sub(/^chr/, "", $1) } $1 == c && $2 >= b && $2 <= e' | wc -l)
fi
NGR=$(awk -v n="$N" -v m="$MR" 'BEGIN { printf "%.0f", n * m }')
log "bench: region $REG: $MR variants"
if has_cmd view; then
    timeit "region -> BCF" promise "" "$P" view "$S" --region "$REG" -O b -o "$WORK/ours.region.bcf"
fi
[ -n "$BCF" ] && timeit "region -> BCF" bcftools "" $BCF view -r "$REG" -Ob -o "$WORK/bcf.region.bcf" "$WORK/x.bcf"
[ -n "$PLINK2" ] && timeit "region -> BCF" plink2 "" "$PLINK2" --pfile "$WORK/p2" --chr $RCHR --from-bp $RBEG \
    --to-bp $REND --make-pgen --out "$WORK/p2r" --threads "$TH" --memory 4000
if has_cmd freq; then
    timeit "region freq" promise "" "$P" freq "$S" --region "$REG" -o "$WORK/ours.region.freq"
fi
[ -n "$PLINK2" ] && timeit "region freq" plink2 "" "$PLINK2" --pfile "$WORK/p2" --chr $RCHR --from-bp $RBEG \
    --to-bp $REND --freq counts --out "$WORK/p2rf" --threads "$TH" --memory 4000
bcf_rfreq() {
    $BCF view -r "$REG" -Ou "$WORK/x.bcf" | $BCF +fill-tags -Ou -- -t AC,AN |
        $BCF query -f '%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\n' >"$WORK/bcf.rfreq"
}
[ -n "$BCF" ] && timeit "region freq" bcftools "" bcf_rfreq

# ---- that region's genotype matrix as text ------------------------------------
if has_cmd view; then
    timeit "region matrix text" promise "" "$P" view "$S" --region "$REG" -O v -o "$WORK/ours.region.vcf"
fi
[ -n "$PLINK2" ] && timeit "region matrix text" plink2 "" "$PLINK2" --pfile "$WORK/p2" --chr $RCHR \
    --from-bp $RBEG --to-bp $REND --export A --out "$WORK/p2x" --threads "$TH" --memory 4000
[ -n "$BCF" ] && timeit "region matrix text" bcftools "" $BCF query -r "$REG" -f '[%GT\t]\n' \
    -o "$WORK/bcf.matrix.txt" "$WORK/x.bcf"

# ---- report --------------------------------------------------------------------
table() {
    printf '| task | tool | seconds | peer/ours | ns/genotype |\n'
    printf '|---|---|---:|---:|---:|\n'
    local task tool t o ng
    for task in "${TASKS[@]}"; do
        case $task in region*) ng=$NGR ;; *) ng=$NG ;; esac
        o=${T["$task|promise"]:-}
        for tool in "${tool_list[@]}"; do
            t=${T["$task|$tool"]:-}
            [ -n "$t" ] || continue
            local ratio="" ns=""
            if [ "$t" = fail ]; then
                printf '| %s | %s | failed | | |\n' "$task" "$tool"
                continue
            fi
            ns=$(awk -v t="$t" -v g="$ng" 'BEGIN { if (g > 0) printf "%.3f", t * 1e9 / g }')
            if [ "$tool" != promise ] && [ -n "$o" ] && [ "$o" != fail ]; then
                ratio=$(awk -v t="$t" -v o="$o" 'BEGIN { printf "%.2f", t / o }')
            elif [ "$tool" = promise ]; then
                ratio="1.00"
            fi
            printf '| %s | %s | %.3f | %s | %s |\n' "$task" "$tool" "$t" "$ratio" "$ns"
        done
    done
    printf '\n| on disk | bytes | bits/genotype | vs promise |\n|---|---:|---:|---:|\n'
    local name sz
    for name in "promise gt/:$SZ_OURS" "plink2 .pgen:$SZ_PGEN" "plink1.9 .bed:$SZ_BED" \
        "bcftools .bcf:$SZ_BCF" "input .vcf.gz:$SZ_VCF"; do
        sz=${name##*:}
        [ -n "$sz" ] || continue
        printf '| %s | %s | %s | %s |\n' "${name%:*}" "$sz" \
            "$(awk -v s="$sz" -v g="$NG" 'BEGIN { printf "%.3f", s * 8 / g }')" \
            "$(awk -v s="$sz" -v o="${SZ_OURS:-0}" 'BEGIN { if (o > 0) printf "%.2f", s / o }')"
    done
}
REPORT=$WORK/report.md
{
    printf 'Tier %s: %s samples x %s variants (%s genotypes); cohort sex=F = %s samples; region %s = %s variants.\n' \
        "$TIER" "$N" "$M" "$NG" "$NF" "$REG" "$MR"
    printf 'Threads %s for every tool; median of up to %s runs (warm cache). peer/ours > 1: promise is faster.\n\n' "$TH" "$REPS"
    table
    v=${T["ingest vcf step|promise"]:-}
    if [ -n "$v" ]; then
        printf '\nIngest of the VCF step alone (without init and the population/samples tables): promise %.3f s' "$v"
        for tool in plink2 plink1.9 bcftools; do
            t=${T["ingest|$tool"]:-}
            [ -n "$t" ] && [ "$t" != fail ] && printf '; %s/ours %s' "$tool" "$(awk -v t="$t" -v o="$v" 'BEGIN { printf "%.2f", t / o }')"
        done
        printf '.\n'
    fi
    printf '\nAC/AN check (sex=F): %s\n' "$CHECK"
    for k in "${!NOTE[@]}"; do printf '\nfailed: %s: %s\n' "$k" "${NOTE[$k]}"; done
} >"$REPORT"
cat "$REPORT"

if [ "${PM_BENCH_NO_RESULTS:-0}" != 1 ]; then
    RES=$ROOT/bench/RESULTS.md
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [ -n "$(git -C "$ROOT" status --porcelain -- src include 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"
    cpu=$(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')
    mem=$(free -g | awk '/^Mem:/ { print $2 " GB" }')
    versions="$("$P" --version 2>&1 | head -1); $( [ -n "$PLINK2" ] && "$PLINK2" --version 2>&1 | head -1); $( [ -n "$PLINK1" ] && $PLINK1 --version 2>&1 | head -1); $( [ -n "$BCF" ] && $BCF --version | head -1)"
    section=$WORK/section.md
    {
        echo "<!-- tier $TIER begin -->"
        echo "## Tier $TIER"
        echo
        echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
        echo "- commit: $commit"
        echo "- machine: $cpu, $(nproc) cores, $mem; load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- tools: $versions"
        echo
        cat "$REPORT"
        echo "<!-- tier $TIER end -->"
    } >"$section"
    [ -f "$RES" ] || printf '# Benchmark results\n\nWritten by bench/run.sh; one section per tier, replaced on each run.\n\n' >"$RES"
    python3 - "$RES" "$section" "$TIER" <<'EOF'
import re, sys
res, sec, tier = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(res).read()
new = open(sec).read().rstrip("\n") + "\n"
pat = re.compile(r"<!-- tier %s begin -->.*?<!-- tier %s end -->\n?" % (tier, tier), re.S)
if pat.search(text):
    text = pat.sub(lambda m: new, text)
else:
    text = text.rstrip("\n") + "\n\n" + new
open(res, "w").write(text)
EOF
    log "bench: updated $RES (tier $TIER)"
fi
