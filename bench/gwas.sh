#!/bin/bash
# bench/gwas.sh [S|M|L] - `promise gwas` side by side with plink2 --glm on
# the genotype benchmark's simulated tier (bench/data.sh), in one run
# (docs/gwas.md, "Threads and speed", has the results).
#
# Data (derived once per tier into DATA/gwas, reused while the tier's data
# are unchanged):
#   - the tier's VCF (0.1% missing calls) and a copy without missing calls
#     (every ./. set to 0/0);
#   - one analysis sample per individual: its first genotype column (the
#     one promise uses); plink2 gets the same list with --keep;
#   - an omics assay "qpheno" with one sample per genotyped individual:
#     quantitative phenotypes Y1..Y4, a case indicator B1 (about 20%
#     cases; the binary phenotype is the cohort expression
#     omics:qpheno:B1>0.5) and six quantitative covariates C1..C6 (standing
#     in for principal components);
#   - 8 covariates: age, sex, omics:qpheno:C1..C6; plink2 gets the same
#     values (age at --ref-date 2026-01-01, age at death for the dead).
# Timed (whole process, wall time, median of PM_BENCH_REPS; a run over
# 10 s is not repeated), with PM_BENCH_THREADS threads for both tools:
#   (a) linear, copy without missing calls   promise vs plink2 --glm
#   (b) linear, 0.1% missing calls           promise vs plink2 --glm
#   (c) logistic                             promise (score test, Firth
#       where p < 0.05) vs plink2 --glm no-firth
#   (d) 1 vs 4 quantitative phenotypes in one promise pass
# Agreement, same run: linear rows (biallelic) vs plink2 (max relative
# difference of BETA, SE, P); logistic -log10 p correlation of our rows
# (SCORE and FIRTH) with plink2's Wald p.
#
# Environment: PROMISE (default build/promise), PM_BENCH_DATA,
# PM_BENCH_WORK (default bench/work/TIER-gwas), PM_BENCH_REPS (3),
# PM_BENCH_THREADS (2), PM_BENCH_REUSE=1 (keep the stores and .pgen
# files of a previous run in PM_BENCH_WORK), PM_BENCH_SKIP_SLOW=1 (leave
# out the logistic runs and plink2's run with missing calls, for smoke
# tests).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIER=${1:-M}
# shellcheck source=data.sh
source "$ROOT/bench/data.sh"
bench_tier "$TIER" || { echo "usage: bench/gwas.sh [S|M|L]" >&2; exit 1; }
P=${PROMISE:-$ROOT/build/promise}
[ -x "$P" ] || { echo "bench: no promise binary at '$P' (build first, or set PROMISE)" >&2; exit 1; }
P=$(cd "$(dirname "$P")" && pwd)/$(basename "$P")
DATA=${PM_BENCH_DATA:-$ROOT/bench/data/$TIER}
WORK=${PM_BENCH_WORK:-$ROOT/bench/work/$TIER-gwas}
REPS=${PM_BENCH_REPS:-3}
TH=${PM_BENCH_THREADS:-2}
SEED=42
REF_DATE=2026-01-01
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
PLINK2=plink2
[ -x /usr/lib/plink2/plink2-avx2 ] && PLINK2=/usr/lib/plink2/plink2-avx2
command -v "$PLINK2" >/dev/null || PLINK2=
log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }

mkdir -p "$WORK"
[ "${PM_BENCH_REUSE:-0}" = 1 ] || rm -rf "${WORK:?}"/*

# ---- data ------------------------------------------------------------------
bench_data
VCF=$DATA/genotypes.vcf.gz
G=$DATA/gwas
stamp="$(cat "$DATA/STAMP") gwas=3"
if [ "$(cat "$G/STAMP" 2>/dev/null)" != "$stamp" ]; then
    log "bench: deriving the GWAS data into $G"
    rm -rf "$G"
    mkdir -p "$G"
    zcat "$VCF" | sed -e '/^#/!s#\./\.#0/0#g' | bgzip -@ "$TH" -l 1 >"$G/nomiss.vcf.gz"
    bcftools query -l "$VCF" >"$G/vcf_samples.txt"
    python3 - "$DATA" "$G" "$REF_DATE" "$SEED" <<'EOF'
import datetime, math, random, sys
d, g, ref, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
ref = datetime.date.fromisoformat(ref)
def table(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            yield dict(zip(head, line.rstrip("\n").split("\t")))
pop = {}
for r in table(d + "/population.tsv"):
    pop[r["personnummer"]] = r
owner, srows = {}, []
with open(d + "/samples.tsv") as f:
    shead = f.readline()
    for line in f:
        row = line.rstrip("\n").split("\t")
        owner[row[0]] = row[1]
        srows.append(row)
def years(b, e):
    return e.year - b.year - ((e.month, e.day) < (b.month, b.day))
def q(x):  # exact in the store's values
    return round(x * 65536) / 65536
seen, keep = set(), []
for s in open(g + "/vcf_samples.txt"):
    s = s.strip()
    who = owner.get(s)
    if s and who not in seen:
        seen.add(who)
        keep.append(s)
samp = {r[0]: r for r in srows}
feats = ["Y1", "Y2", "Y3", "Y4", "B1", "C1", "C2", "C3", "C4", "C5", "C6"]
vals = {f: [] for f in feats}
age, sex = [], []
for s in keep:
    p = pop[owner[s]]
    b = datetime.date.fromisoformat(p["birth_date"])
    e = ref
    if p.get("death_date"):
        e = min(ref, datetime.date.fromisoformat(p["death_date"]))
    a = years(b, e)
    x = p.get("sex", "")
    if not x:
        x = "M" if int(owner[s].replace("-", "").replace("+", "")[-2]) % 2 else "F"
    sx = 1 if x == "M" else 0
    age.append(a)
    sex.append(sx)
    c = [q(rng.gauss(0, 1)) for _ in range(6)]
    for k in range(6):
        vals["C%d" % (k + 1)].append(c[k])
    base = 0.02 * (a - 50) + 0.3 * sx + 0.2 * c[0] - 0.1 * c[1]
    for k in range(4):
        vals["Y%d" % (k + 1)].append(q(base + rng.gauss(0, 1)))
    lp = -1.6 + 0.01 * (a - 50) + 0.2 * sx + 0.2 * c[0]
    vals["B1"].append(1.0 if rng.random() < 1 / (1 + math.exp(-lp)) else 0.0)
with open(g + "/keep.txt", "w") as f:
    f.write("".join(s + "\n" for s in keep))
with open(g + "/samples.tsv", "w") as f:  # the tier's samples plus one qpheno sample each
    f.write(shead)
    for r in srows:
        f.write("\t".join(r) + "\n")
    for s in keep:
        r = list(samp[s])
        r[0] = "Q" + s
        r[3] = "qpheno"
        f.write("\t".join(r) + "\n")
with open(g + "/qpheno.tsv", "w") as f:
    f.write("\t".join(["feature_id"] + ["Q" + s for s in keep]) + "\n")
    for ft in feats:
        f.write("\t".join([ft] + ["%.17g" % v for v in vals[ft]]) + "\n")
with open(g + "/pheno.tsv", "w") as f:
    f.write("#IID\tY1\tY2\tY3\tY4\tB1\n")
    for i, s in enumerate(keep):
        f.write("%s\t%s\t%s\t%s\t%s\t%d\n" % (s, *("%.17g" % vals["Y%d" % k][i] for k in range(1, 5)),
                                           int(vals["B1"][i]) + 1))
with open(g + "/covar.tsv", "w") as f:
    f.write("#IID\tage\tsex\tC1\tC2\tC3\tC4\tC5\tC6\n")
    for i, s in enumerate(keep):
        f.write("%s\t%d\t%d\t%s\n" % (s, age[i], sex[i], "\t".join("%.17g" % vals["C%d" % k][i] for k in range(1, 7))))
EOF
    echo "$stamp" >"$G/STAMP"
fi
NKEEP=$(wc -l <"$G/keep.txt")
NCASE=$(awk -F'\t' 'NR > 1 && $6 == 2' "$G/pheno.tsv" | wc -l)
M=$NVAR
log "bench: tier $TIER: $NKEEP individuals (one genotype column each) x $M variants; $NCASE cases"

# ---- stores and .pgen (untimed; bench/run.sh times ingest) --------------------
KEY=$WORK/key
make_store() { # DIR VCF
    [ -s "$1/.built" ] && return 0
    rm -rf "$1"
    [ -s "$KEY" ] || "$P" keygen "$KEY" >/dev/null
    "$P" init "$1" >/dev/null
    "$P" ingest population "$1" "$DATA/population.tsv" --key "$KEY" >/dev/null
    "$P" ingest samples "$1" "$G/samples.tsv" --key "$KEY" >/dev/null
    "$P" ingest vcf "$1" "$2" --threads "$TH" >/dev/null 2>&1 || "$P" ingest vcf "$1" "$2" >/dev/null
    "$P" ingest omics "$1" "$G/qpheno.tsv" --assay qpheno >/dev/null
    echo ok >"$1/.built"
}
make_pgen() { # OUT VCF
    [ -s "$1.pgen" ] && return 0
    "$PLINK2" --vcf "$2" --make-pgen --out "$1" --threads "$TH" --memory 4000 >/dev/null
}
t0=$(now)
make_store "$WORK/st" "$VCF"
make_store "$WORK/stnm" "$G/nomiss.vcf.gz"
if [ -n "$PLINK2" ]; then
    make_pgen "$WORK/p2" "$VCF"
    make_pgen "$WORK/p2nm" "$G/nomiss.vcf.gz"
fi
log "bench: stores and .pgen ready in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"

# ---- timing -----------------------------------------------------------------
declare -A T C
TIMEFORMAT='%R %U %S'
timeit() { # KEY CMD...: median wall seconds into T[KEY], its CPU seconds (user + sys) into C[KEY]
    local key=$1
    shift
    local times=() r rc tm
    for ((r = 1; r <= REPS; r++)); do
        rc=0
        { time "$@" >"$WORK/last.out" 2>"$WORK/last.err" || rc=$?; } 2>"$WORK/last.time"
        if [ $rc != 0 ]; then
            T[$key]=fail
            log "bench: $key failed (exit $rc): $(head -c 400 "$WORK/last.err")"
            return 0
        fi
        tm=$(tail -1 "$WORK/last.time")
        times+=("$(awk '{ printf "%.4f:%.2f", $1, $2 + $3 }' <<<"$tm")")
        awk -v t="${times[-1]%%:*}" 'BEGIN { exit !(t > 10) }' && break
    done
    local med
    med=$(printf '%s\n' "${times[@]}" | sort -t: -k1,1g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    T[$key]=${med%%:*}
    C[$key]=${med##*:}
    log "bench: $(printf '%-22s %8.3f s wall %8.2f s cpu  (%s)' "$key" "${T[$key]}" "${C[$key]}" "${times[*]}")"
}
COV=age,sex,omics:qpheno:C1,omics:qpheno:C2,omics:qpheno:C3,omics:qpheno:C4,omics:qpheno:C5,omics:qpheno:C6
ours() { # STORE PREFIX --pheno ...
    local st=$1 out=$2
    shift 2
    "$P" gwas "$st" "$@" --covar "$COV" --ref-date $REF_DATE --threads "$TH" --no-plots -o "$out"
}
pass_s() { awk -F'\t' '$1 == "seconds" { print $2 }' "$1.log"; }
plink() { # PFILE OUT PHENO [glm modifiers]
    local pf=$1 out=$2 ph=$3
    shift 3
    "$PLINK2" --pfile "$pf" --keep "$G/keep.txt" --pheno "$G/pheno.tsv" --pheno-name "$ph" \
        --covar "$G/covar.tsv" --covar-variance-standardize --glm hide-covar "$@" \
        --threads "$TH" --memory 4000 --out "$out"
}
YB='omics:qpheno:B1>0.5'
timeit "ours lin nomiss" ours "$WORK/stnm" "$WORK/o_lin_nm" --pheno omics:qpheno:Y1
PS_LIN_NM=$(pass_s "$WORK/o_lin_nm")
timeit "ours lin miss" ours "$WORK/st" "$WORK/o_lin" --pheno omics:qpheno:Y1
PS_LIN=$(pass_s "$WORK/o_lin")
timeit "ours lin miss x4" ours "$WORK/st" "$WORK/o_lin4" --pheno omics:qpheno:Y1 --pheno omics:qpheno:Y2 \
    --pheno omics:qpheno:Y3 --pheno omics:qpheno:Y4
PS_LIN4=$(pass_s "$WORK/o_lin4")
PS_LOG=- NFIRTH=-
if [ "${PM_BENCH_SKIP_SLOW:-0}" != 1 ]; then
    timeit "ours logistic" ours "$WORK/st" "$WORK/o_log" --pheno "$YB"
    PS_LOG=$(pass_s "$WORK/o_log")
    NFIRTH=$(awk -F'\t' '$7 == "FIRTH"' "$WORK/o_log.tsv" | wc -l)
fi
if [ -n "$PLINK2" ]; then
    timeit "plink2 lin nomiss" plink "$WORK/p2nm" "$WORK/p_lin_nm" Y1
    if [ "${PM_BENCH_SKIP_SLOW:-0}" != 1 ]; then
        timeit "plink2 lin miss" plink "$WORK/p2" "$WORK/p_lin" Y1
        timeit "plink2 logistic" plink "$WORK/p2" "$WORK/p_log" B1 no-firth
    fi
fi

# ---- agreement -----------------------------------------------------------------
AGREE=$WORK/agree.txt
python3 - "$WORK" >"$AGREE" <<'EOF'
import math, os, sys
w = sys.argv[1]
def rows(path):
    if not os.path.exists(path):
        return None
    out = []
    with open(path) as f:
        head = f.readline().rstrip("\n").lstrip("#").split("\t")
        for line in f:
            out.append(dict(zip(head, line.rstrip("\n").split("\t"))))
    return out
def num(x):
    try:
        v = float(x)
        return v if math.isfinite(v) else None
    except ValueError:
        return None
def keyed_plink(pl):
    m = {}
    for r in pl:
        if "," in r["ALT"]:
            continue  # plink2 fits a multi-allelic record's other ALTs as covariates
        m[(r["CHROM"], r["POS"], r["REF"], r["ALT"])] = r
    return m
def rel(a, b):
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))
def linear(name, ours, pl):
    o, p = rows(ours), rows(pl)
    if o is None or p is None:
        print("%s: not run" % name)
        return
    pm = keyed_plink(p)
    n = nna = nobs = 0
    worst = {"BETA": 0.0, "SE": 0.0, "P": 0.0}
    u6 = 0.0
    for r in o:
        q = pm.get((r["CHROM"], r["POS"], r["REF"], r["ALT"]))
        if q is None:
            continue
        ob, pb = num(r["BETA"]), num(q["BETA"])
        if (ob is None) != (pb is None):
            nna += 1
            continue
        if ob is None:
            continue
        n += 1
        nobs += r["OBS_CT"] != q["OBS_CT"]
        sg = 1.0 if q["A1"] == r["ALT"] else -1.0
        for k, a, b in (("BETA", ob, sg * pb), ("SE", num(r["SE"]), num(q["SE"])), ("P", num(r["P"]), num(q["P"]))):
            worst[k] = max(worst[k], rel(a, b))
            if b != 0:
                u6 = max(u6, abs(a - b) / 10 ** (math.floor(math.log10(abs(b))) - 5))
    print("%s: %d biallelic rows; max relative difference BETA %.2g, SE %.2g, P %.2g "
          "(%.2f units of plink2's 6th printed digit); OBS_CT differs in %d; NA in one tool only: %d"
          % (name, n, worst["BETA"], worst["SE"], worst["P"], u6, nobs, nna))
def corr(x, y):
    n = len(x)
    if n < 3:
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)
def logistic(ours, pl):
    o, p = rows(ours), rows(pl)
    if o is None or p is None:
        print("logistic: not run")
        return
    pm = keyed_plink(p)
    sets = {"all": ([], []), "SCORE": ([], []), "FIRTH": ([], []), "p<1e-3": ([], [])}
    for r in o:
        q = pm.get((r["CHROM"], r["POS"], r["REF"], r["ALT"]))
        if q is None:
            continue
        a, b = num(r["P"]), num(q["P"])
        if a is None or b is None or a <= 0 or b <= 0:
            continue
        la, lb = -math.log10(a), -math.log10(b)
        for k in ("all", r["TEST"]) + (("p<1e-3",) if min(a, b) < 1e-3 else ()):
            if k in sets:
                sets[k][0].append(la)
                sets[k][1].append(lb)
    print("logistic: correlation of -log10 p, ours vs plink2 no-firth Wald: " +
          "; ".join("%s %.4f (%d rows)" % (k, corr(*v), len(v[0])) for k, v in sets.items()))
linear("linear without missing calls", w + "/o_lin_nm.tsv", w + "/p_lin_nm.Y1.glm.linear")
linear("linear with 0.1% missing calls", w + "/o_lin.tsv", w + "/p_lin.Y1.glm.linear")
logistic(w + "/o_log.tsv", w + "/p_log.B1.glm.logistic")
EOF

# ---- report ---------------------------------------------------------------------
ratio() { # PEER OURS: wall ratio (cpu ratio)
    awk -v a="${T[$1]:-}" -v b="${T[$2]:-}" -v c="${C[$1]:-}" -v d="${C[$2]:-}" \
        'BEGIN { if (a == "" || b == "" || a == "fail" || b == "fail" || b <= 0) print "-"; else printf "%.2f (%.2f)", a / b, (d > 0 ? c / d : 0) }'
}
sec() { local v=${T[$1]:-}; [ -n "$v" ] && [ "$v" != fail ] && printf '%s (%s)' "$v" "${C[$1]}" || echo "${v:--}"; }
EXTRA=$(awk -v a="${T[ours lin miss x4]:-}" -v b="${T[ours lin miss]:-}" \
    'BEGIN { if (a == "" || b == "" || a == "fail" || b == "fail") print "-"; else printf "%.1f%%", 100 * (a - b) / 3 / b }')
EXTRA_CPU=$(awk -v a="${C[ours lin miss x4]:-}" -v b="${C[ours lin miss]:-}" \
    'BEGIN { if (a == "" || b == "" || b <= 0) print "-"; else printf "%.1f%%", 100 * (a - b) / 3 / b }')
EXTRA_PASS=$(awk -v a="$PS_LIN4" -v b="$PS_LIN" 'BEGIN { if (a == "" || b == "" || b <= 0) print "-"; else printf "%.1f%%", 100 * (a - b) / 3 / b }')
REPORT=$WORK/report.md
{
    printf 'GWAS, tier %s: %s individuals (one genotype column each) x %s variants; 8 covariates (age, sex, 6 simulated quantitative covariates through omics:qpheno:C1..C6); binary phenotype %s cases; %s threads for both tools; median of up to %s runs (a run over 10 s once); whole-process wall time (promise with --no-plots). Pass = the genotype pass alone (PREFIX.log seconds).\n\n' \
        "$TIER" "$NKEEP" "$M" "$NCASE" "$TH" "$REPS"
    printf 'Seconds are wall (CPU = user + sys in parentheses); ratios are wall (CPU). On a shared machine the CPU ratio is the steadier one.\n\n'
    printf '| task | promise s | promise pass s | plink2 s | plink2/promise | goal |\n|---|---:|---:|---:|---:|---|\n'
    printf '| (a) linear, no missing calls | %s | %s | %s | %s | >= 2 |\n' "$(sec 'ours lin nomiss')" "$PS_LIN_NM" \
        "$(sec 'plink2 lin nomiss')" "$(ratio 'plink2 lin nomiss' 'ours lin nomiss')"
    printf '| (b) linear, 0.1%% missing calls | %s | %s | %s | %s | >= 150 |\n' "$(sec 'ours lin miss')" "$PS_LIN" \
        "$(sec 'plink2 lin miss')" "$(ratio 'plink2 lin miss' 'ours lin miss')"
    printf '| (c) logistic (ours: score + Firth where p < 0.05, %s Firth rows; plink2: no-firth) | %s | %s | %s | %s | >= 15 |\n' \
        "$NFIRTH" "$(sec 'ours logistic')" "$PS_LOG" "$(sec 'plink2 logistic')" "$(ratio 'plink2 logistic' 'ours logistic')"
    printf '| (d) 4 quantitative phenotypes in one pass (0.1%% missing) | %s | %s | | | |\n' "$(sec 'ours lin miss x4')" "$PS_LIN4"
    printf '\n(d) each extra phenotype costs %s of the single-phenotype wall time (%s of its CPU time; %s of the pass); goal <= 5%%.\n\n' "$EXTRA" "$EXTRA_CPU" "$EXTRA_PASS"
    sed 's/^/Agreement, /' "$AGREE"
} >"$REPORT"
cat "$REPORT"
log "bench: machine $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), $(nproc) cores; load at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg); $("$PLINK2" --version 2>/dev/null | head -1)"
