#!/bin/bash
# vcf_edge_cases.sh - every VCF of the htslib and bcftools test suites (and
# its BCF conversion, where bcftools can make one) either loads or is
# refused cleanly:
#   loaded  -> `promise view` gives back the same genotypes as
#              bcftools query -f '[%GT ]\n' of the input (and the same
#              POS/REF/ALT), samples matched by name;
#   refused -> exit 2 and a message naming the file and (for VCF text) a
#              line number.
# Never a crash (exit >= 128, a sanitizer report with the _asan build), never
# a hang (timeout 20 s per command), bounded memory (ulimit -v 4 GB).
# Prints a table of the outcome per file.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest view

EDGE=$PM_TEST_DATA/vcf-edge-cases
ASAN=${PROMISE_ASAN:-}
if [ -z "$ASAN" ] && [ -n "${PM_BUILD_DIR:-}" ] && [ -x "$PM_BUILD_DIR/promise_asan" ]; then
    ASAN=$PM_BUILD_DIR/promise_asan
fi
TIMEOUT=20
MEMKB=$((4 * 1024 * 1024))
[ -n "$ASAN" ] && say "also running every ingest and view under $ASAN"

# run_limited OUT ERR CMD...: timeout + memory limit; prints the exit status
run_limited() {
    local out=$1 err=$2
    shift 2
    local rc=0
    (ulimit -v $MEMKB && exec timeout -k 5 $TIMEOUT "$@") >"$out" 2>"$err" </dev/null || rc=$?
    echo $rc
}
run_asan() {
    local out=$1 err=$2
    shift 2
    local rc=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        timeout -k 5 $((TIMEOUT * 3)) "$@" >"$out" 2>"$err" </dev/null || rc=$?
    echo $rc
}
sanitizer_report() { grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$1"; }

sample_names() { # FILE -> names, one per line (bcftools, else the #CHROM line)
    if ! bcftools query -l "$1" 2>/dev/null; then
        (gzip -cdf "$1" 2>/dev/null || true) | grep -m1 '^#CHROM' | cut -f10- | tr '\t' '\n' | sed '/^$/d'
    fi
}

declare -a TABLE
row() { TABLE+=("$(printf '%-52s %7s %7s  %s' "$1" "$2" "$3" "$4")"); }

# check_file LABEL FILE ORIGINAL_VCF: one input through one binary
check_file() {
    local label=$1 f=$2 orig=$3
    local d=$W/case
    rm -rf "$d"
    mkdir -p "$d"
    sample_names "$orig" | awk '!seen[$0]++' >"$d/samples.txt"
    local ns nrec
    ns=$(wc -l <"$d/samples.txt")
    nrec=$( (bcftools view -H "$orig" 2>/dev/null || true) | wc -l)
    cp -a "$BASE" "$d/store"
    local rc
    rc=$(run_limited "$d/out" "$d/err" "$PROMISE" ingest vcf "$d/store" "$f")
    local base
    base=$(basename "$f")
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        fail "$label: promise ingest vcf hung (killed after ${TIMEOUT}s)"
        row "$label" "$ns" "$nrec" "FAIL hang"
        return 0
    fi
    if [ "$rc" -ge 128 ]; then
        fail "$label: promise ingest vcf crashed (exit $rc): $(tail -c 300 "$d/err")"
        row "$label" "$ns" "$nrec" "FAIL crash ($rc)"
        return 0
    fi
    if [ "$rc" = 2 ]; then
        local msg
        msg=$(head -n 3 "$d/err" | tr '\n' ' ')
        local need_line=1
        case $f in *.bcf) need_line=0 ;; esac
        if ! grep -qF "$base" "$d/err"; then
            fail "$label: refused, but the message does not name the file: $msg"
            row "$label" "$ns" "$nrec" "FAIL refused without file name"
        elif [ $need_line = 1 ] && ! grep -qE "$base:[0-9]+|line [0-9]+" "$d/err"; then
            fail "$label: refused, but the message has no line number: $msg"
            row "$label" "$ns" "$nrec" "FAIL refused without line"
        else
            ok "$label: refused: $(head -c 160 "$d/err" | head -n1)"
            row "$label" "$ns" "$nrec" "refused: $(head -n1 "$d/err" | sed "s#$d/##g; s#$EDGE/##g" | cut -c1-90)"
        fi
        return 0
    fi
    if [ "$rc" != 0 ]; then
        fail "$label: promise ingest vcf exited $rc (neither 0 nor 2): $(head -c 300 "$d/err")"
        row "$label" "$ns" "$nrec" "FAIL exit $rc"
        return 0
    fi
    # loaded: view it back
    rc=$(run_limited "$d/view.vcf" "$d/verr" "$PROMISE" view "$d/store" -O v)
    if [ "$rc" != 0 ]; then
        fail "$label: loaded, but promise view exited $rc: $(head -c 300 "$d/verr")"
        row "$label" "$ns" "$nrec" "FAIL view exit $rc"
        return 0
    fi
    if ! bcftools query -l "$orig" >/dev/null 2>&1; then
        ok "$label: loaded (bcftools cannot read the input: nothing to compare with)"
        row "$label" "$ns" "$nrec" "loaded, no oracle"
        return 0
    fi
    if [ "$ns" = 0 ]; then
        ok "$label: loaded (no samples: no genotypes to compare)"
        row "$label" "$ns" "$nrec" "loaded (no samples)"
        return 0
    fi
    local sel=(-S "$d/samples.txt" --force-samples) q='%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n'
    bcftools query -f "$q" "${sel[@]}" "$orig" 2>/dev/null | strip_chr >"$d/exp"
    if ! bcftools query -f "$q" "${sel[@]}" "$d/view.vcf" 2>"$d/qerr" | strip_chr >"$d/got"; then
        fail "$label: loaded, but bcftools cannot read promise's output: $(head -c 300 "$d/qerr")"
        row "$label" "$ns" "$nrec" "FAIL view output unreadable"
        return 0
    fi
    cut -f5- "$d/exp" >"$d/exp.gt"
    cut -f5- "$d/got" >"$d/got.gt"
    if cmp -s "$d/exp" "$d/got"; then
        ok "$label: loaded, $(wc -l <"$d/exp") records round-trip"
        row "$label" "$ns" "$nrec" "loaded, view == bcftools"
    elif cmp -s <(sort "$d/exp") <(sort "$d/got"); then
        ok "$label: loaded, $(wc -l <"$d/exp") records round-trip (records at one position in another order)"
        row "$label" "$ns" "$nrec" "loaded, view == bcftools (same-position records reordered)"
    elif cmp -s <(sort "$d/exp.gt") <(sort "$d/got.gt"); then
        fail "$label: loaded, genotypes equal but CHROM/POS/REF/ALT differ (< input, > promise view):"
        first_diff "$d/exp" "$d/got" 6
        row "$label" "$ns" "$nrec" "FAIL sites differ"
    else
        fail "$label: loaded, but genotypes differ (< input, > promise view):"
        first_diff "$d/exp" "$d/got" 6
        row "$label" "$ns" "$nrec" "FAIL genotypes differ"
    fi
}

# asan_file LABEL FILE: the sanitizer build must not report anything
asan_file() {
    local label=$1 f=$2 d=$W/asan
    rm -rf "$d"
    mkdir -p "$d"
    cp -a "$BASE" "$d/store"
    local rc
    rc=$(run_asan "$d/out" "$d/err" "$ASAN" ingest vcf "$d/store" "$f")
    if sanitizer_report "$d/err" || [ "$rc" -ge 124 ]; then
        fail "$label [asan]: ingest exit $rc: $(grep -m2 -E 'Sanitizer|runtime error|SUMMARY' "$d/err" | tr '\n' ' ')"
        return 0
    fi
    if [ "$rc" = 0 ]; then
        rc=$(run_asan "$d/view.vcf" "$d/verr" "$ASAN" view "$d/store" -O v)
        if sanitizer_report "$d/verr" || [ "$rc" -ge 124 ]; then
            fail "$label [asan]: view exit $rc: $(grep -m2 -E 'Sanitizer|runtime error|SUMMARY' "$d/verr" | tr '\n' ' ')"
            return 0
        fi
    fi
    ok "$label [asan]: no sanitizer report (ingest exit $rc)"
}

shopt -s nullglob
files=()
for f in "$EDGE"/htslib/* "$EDGE"/bcftools/*; do
    case $f in *.vcf | *.vcf.gz | *.bcf) files+=("$f") ;; esac
done
[ ${#files[@]} -gt 0 ] || { fail "no VCF files under $EDGE"; oracle_done; }
say "== ${#files[@]} files from $EDGE"

# one base store holds an individual for every sample name of every file;
# each case loads its file into a copy of it
for f in "${files[@]}"; do sample_names "$f"; done | awk '!seen[$0]++' >"$W/all_samples.txt"
BASE=$W/base
if ! mk_store "$BASE" "$W/all_samples.txt" 2>"$W/mkerr"; then
    fail "cannot build the base store for $(wc -l <"$W/all_samples.txt") sample names: $(head -c 300 "$W/mkerr")"
    oracle_done
fi
say "   base store: $(wc -l <"$W/all_samples.txt") individuals and samples"

for f in "${files[@]}"; do
    label=${f#"$EDGE"/}
    check_file "$label" "$f" "$f"
    if [ -n "$ASAN" ]; then asan_file "$label" "$f"; fi
    # the same file as BCF, when bcftools can convert it
    case $f in *.bcf) continue ;; esac
    b=$W/$(basename "${f%.gz}").bcf
    if bcftools view -Ob -o "$b" "$f" 2>/dev/null; then
        check_file "$label (as BCF)" "$b" "$f"
    fi
done

say ""
say "$(printf '%-52s %7s %7s  %s' file samples records outcome)"
for r in "${TABLE[@]}"; do say "$r"; done
count_rows() { printf '%s\n' "${TABLE[@]}" | grep -c "  $1" || true; }
say "$(count_rows loaded) loaded, $(count_rows refused:) refused, $(count_rows FAIL) failed"
oracle_done
