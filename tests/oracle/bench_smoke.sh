#!/bin/bash
# bench_smoke.sh - bench/run.sh S end to end (CI smoke test): simulates the
# small tier into a temporary folder, times promise against plink2,
# plink1.9 and bcftools, and checks that the run completes, that every
# promise task produced a time, that the report carries peer/ours ratios,
# and that promise and plink2 agree on AC/AN for the sex=F cohort.
# bench/RESULTS.md is not touched (PM_BENCH_NO_RESULTS=1).
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest freq view simulate

out=$W/bench.out
t0=$SECONDS
if PM_BENCH_NO_RESULTS=1 PM_BENCH_DATA=$W/data PM_BENCH_WORK=$W/work PM_BENCH_REPS=${PM_BENCH_REPS:-1} \
    bash "$PM_SOURCE_DIR/bench/run.sh" S >"$out" 2>"$W/bench.err"; then
    ok "bench/run.sh S completed in $((SECONDS - t0)) s"
else
    fail "bench/run.sh S failed; last lines of its log:"
    tail -n 15 "$W/bench.err" | sed 's/^/        /'
    oracle_done
fi
cat "$out"
if grep -q 'peer/ours' "$out"; then ok "the report has a peer/ours column"; else fail "no peer/ours column in the report"; fi
nratio=$(awk -F'|' '$3 ~ /plink|bcftools/ && $5 ~ /[0-9]\.[0-9]/' "$out" | wc -l)
if [ "$nratio" -gt 0 ]; then ok "$nratio peer/ours ratios printed"; else fail "no peer/ours ratios printed"; fi
for task in "ingest" "freq sex=F" "region -> BCF" "region freq" "region matrix text"; do
    if grep -qE "^\| $task \| promise \| [0-9]" "$out"; then
        ok "promise timed for '$task'"
    else
        fail "no promise time for '$task': $(grep -E "^\| $task \| promise" "$out" || echo missing)"
    fi
done
if grep -q 'AC/AN check (sex=F): MISMATCH' "$out"; then
    fail "promise and plink2 disagree on AC/AN: $(grep 'AC/AN check' "$out")"
elif grep -q 'AC/AN check (sex=F): not run' "$out"; then
    say "note    AC/AN check not run (plink2 missing?)"
else
    ok "$(grep 'AC/AN check' "$out")"
fi
[ "$((SECONDS - t0))" -lt 180 ] || fail "tier S took $((SECONDS - t0)) s (the smoke budget is 180 s)"

# bench/gwas.sh S on the same data, without plink2's slow runs (missing
# calls, logistic): the run completes, prints ratio (a), and the linear
# rows agree with plink2 at its printed precision.
if have_cmd gwas; then
    t1=$SECONDS
    gout=$W/gwas.out
    if PM_BENCH_DATA=$W/data PM_BENCH_WORK=$W/gwaswork PM_BENCH_REPS=1 PM_BENCH_SKIP_SLOW=1 \
        bash "$PM_SOURCE_DIR/bench/gwas.sh" S >"$gout" 2>"$W/gwas.err"; then
        ok "bench/gwas.sh S completed in $((SECONDS - t1)) s"
        cat "$gout"
        if grep -qE '^\| \(a\) linear, no missing calls \|.*\| [0-9.]+ \([0-9.]+\) \| >= 2 \|$' "$gout"; then
            ok "ratio (a) printed"
        elif ! command -v plink2 >/dev/null && [ ! -x /usr/lib/plink2/plink2-avx2 ]; then
            say "note    no plink2: ratio (a) not computed"
        else
            fail "no ratio (a): $(grep '(a)' "$gout" || echo missing)"
        fi
        agree=$(grep 'Agreement, linear without missing calls' "$gout" || true)
        if [ -z "$agree" ] || [[ $agree == *"not run"* ]]; then
            say "note    linear agreement not run (plink2 missing?)"
        elif awk '{ for (i = 1; i <= NF; i++) if ($i == "units") { u = $(i - 1); gsub(/[()]/, "", u) } }
            END { exit !(u != "" && u + 0 <= 1) }' <<<"$agree"; then
            ok "$agree"
        else
            fail "linear rows disagree with plink2 beyond its printed precision: $agree"
        fi
    else
        fail "bench/gwas.sh S failed; last lines of its log:"
        tail -n 15 "$W/gwas.err" | sed 's/^/        /'
    fi
fi
oracle_done
