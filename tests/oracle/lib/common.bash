# common.bash - helpers sourced by the oracle tests in tests/oracle/*.sh.
#
# Environment (set by ctest, see CMakeLists.txt):
#   PROMISE        the promise binary under test
#   PM_TEST_DATA   the real test data (read-only)
#   PM_SOURCE_DIR  the source tree
#   PM_BUILD_DIR   the build tree (optional)
# Provides:
#   $W             a fresh work directory, removed on exit
#   say MSG        progress line
#   fail MSG       records a failure (the script exits 1 at the end)
#   oracle_done    prints the summary and exits 0 or 1
#   have_cmd NAME  true when `promise NAME` is built (not a stub)
#   need_cmd NAME  skips the whole test (exit 0 with a SKIP line) when it is not
#   mk_store DIR SAMPLES.txt [mktables options]  init + keygen + population + samples
#   strip_chr      filter: chr22 -> 22 in the first column (header lines kept)
#   first_diff A B prints the first differing lines of two files

: "${PROMISE:?PROMISE must name the promise binary}"
: "${PM_TEST_DATA:?PM_TEST_DATA must name the test data folder}"
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
ORACLE_LIB=$PM_SOURCE_DIR/tests/oracle/lib
export LC_ALL=C

W=$(mktemp -d "${TMPDIR:-/tmp}/pmoracle.XXXXXX")
cleanup_w() { rm -rf "$W"; }
trap cleanup_w EXIT
trap 'exit 143' INT TERM

ORACLE_FAILS=0
ORACLE_CHECKS=0
say() { printf '%s\n' "$*"; }
ok() {
    ORACLE_CHECKS=$((ORACLE_CHECKS + 1))
    printf 'ok      %s\n' "$*"
}
fail() {
    ORACLE_CHECKS=$((ORACLE_CHECKS + 1))
    ORACLE_FAILS=$((ORACLE_FAILS + 1))
    printf 'FAILED  %s\n' "$*"
}
oracle_done() {
    say "---"
    if [ "$ORACLE_FAILS" -gt 0 ]; then
        say "$ORACLE_FAILS of $ORACLE_CHECKS checks FAILED"
        exit 1
    fi
    say "all $ORACLE_CHECKS checks passed"
    exit 0
}

for tool in bcftools bgzip; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done

have_cmd() {
    local out
    out=$("$PROMISE" help 2>&1) || true
    printf '%s\n' "$out" | grep -E "^  $1 " | grep -qv 'not available'
}
need_cmd() {
    local c
    for c in "$@"; do
        if ! have_cmd "$c"; then
            say "SKIP: 'promise $c' is not available in this build yet"
            exit 0
        fi
    done
}

# mk_store STORE SAMPLES.txt [--sex-table FILE] [--source NAME]
#          [--subset FILE --subset-source NAME]: an initialised store with one
# individual per sample name, keyed under a fresh key STORE.key.
mk_store() {
    local store=$1 samples=$2
    shift 2
    local tdir=$store.tables sexfile=/dev/null/none subsetfile=/dev/null/none
    local args=(-v source=KG) files=()
    while [ $# -gt 0 ]; do
        case $1 in
        --sex-table) sexfile=$2; files+=("$2") ;;
        --source) args+=(-v "source=$2") ;;
        --subset) subsetfile=$2; files+=("$2") ;;
        --subset-source) args+=(-v "subset_source=$2") ;;
        *) echo "mk_store: unknown option $1" >&2; return 1 ;;
        esac
        shift 2
    done
    mkdir -p "$tdir" &&
        awk -f "$ORACLE_LIB/mktables.awk" -v out="$tdir" -v sexfile="$sexfile" \
            -v subsetfile="$subsetfile" "${args[@]}" "${files[@]}" "$samples" &&
        "$PROMISE" keygen "$store.key" >/dev/null &&
        "$PROMISE" init "$store" >/dev/null &&
        "$PROMISE" ingest population "$store" "$tdir/population.tsv" --key "$store.key" &&
        "$PROMISE" ingest samples "$store" "$tdir/samples.tsv" --key "$store.key"
}

strip_chr() { sed -E 's/^chr//; s/^(#CHROM)/\1/'; }

first_diff() {
    diff "$1" "$2" | head -n "${3:-10}" | sed 's/^/        /' || true
}

# serve_port ERRFILE: the port `promise serve --listen 127.0.0.1:0` chose,
# read from its stderr (waits up to 10 s); empty when it did not start.
serve_port() {
    local i port=
    for i in $(seq 1 100); do
        port=$(sed -n 's|^promise serve: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$1")
        [ -n "$port" ] && break
        sleep 0.1
    done
    printf '%s' "$port"
}
