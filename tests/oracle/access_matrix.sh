#!/bin/bash
# access_matrix.sh - every HTTP endpoint (from /api/v1/openapi.json, whose
# descriptions state each route's minimum tier) x every caller: no token,
# an invalid, an expired and a revoked token, a valid token of each tier
# (public, registered, project, steward) and a project user's token used
# for another project. The expected status of each cell follows from the
# minimum tier alone (401 without a valid token where one is needed or a
# bad token is shown, 403 for a tier below the minimum or a project not
# granted, otherwise anything but 401/403); the table is printed and any
# mismatch fails. Then the same matrix for the CLI query commands with
# --token / --as (exit 3 for refused, 0 for answered).
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest simulate count freq serve user project grant token export
command -v curl >/dev/null || { say "SKIP: curl not installed"; exit 0; }

cd "$W"
"$PROMISE" simulate sim --individuals 300 --variants 300 --seed 3 >/dev/null 2>&1
"$PROMISE" keygen key >/dev/null 2>&1
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st sim/population.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest samples st sim/samples.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest registry st sim/registry.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest vcf st sim/genotypes.vcf.gz >/dev/null 2>&1
"$PROMISE" ingest omics st sim/olink.tsv --assay olink >/dev/null 2>&1
P() { "$PROMISE" "$@" >/dev/null 2>&1; }
P user add st pub --tier public
P user add st reg --tier registered
P user add st alice --tier project
P user add st bob --tier project
P user add st stew --tier steward
P project add st acad --sources LifeGene,TwinGene,SCAPIS,MKC,GMS-Skane \
    --data-types genotypes,registry,omics --purpose DUO:0000006,DUO:0000018 --expires 2099-12-31
P project add st other --sources LifeGene --data-types genotypes --purpose DUO:0000006 \
    --expires 2099-12-31
P grant st alice acad
P grant st bob other
tok() { "$PROMISE" token new st "$1" 2>/dev/null; }
T_public=$(tok pub)
T_registered=$(tok reg)
T_project=$(tok alice)
T_steward=$(tok stew)
T_other=$(tok bob)
T_expired=$(tok reg)
T_revoked=$(tok reg)
T_invalid=pmt_$(printf '%064d' 0)
sqlite3 st/catalog.db "UPDATE token SET expires=20200101 WHERE id=6"
P token revoke st 7
[ "$("$PROMISE" token check st - <<<"$T_expired" 2>&1)" != "${T_expired}" ] || true

"$PROMISE" serve st --listen 127.0.0.1:0 --rate-limit 1000000 2>serve.err &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
port=$(serve_port serve.err)
[ -n "$port" ] || { cat serve.err; fail "server did not start"; oracle_done; }
U=http://127.0.0.1:$port

# a variant of the store, for the routes that take one
V=$("$PROMISE" freq st 2>/dev/null | awk 'NR==2{print $1"-"$2"-"$4"-"$5}')
IFS=- read -r VC VP VR VA <<<"$V"
curl -s "$U/api/v1/openapi.json" >openapi.json
python3 - "$V" >routes.tsv <<'PY'
import json, re, sys
v = sys.argv[1]
c, p, r, a = v.split('-')
d = json.load(open('openapi.json'))
query = {
    '/api/v1/count': 'cohort=sex%3DF',
    '/api/v1/search': 'q=' + c,
    '/api/v1/region': 'region=%s:%s-%d' % (c, p, int(p) + 100000),
    '/api/beacon/v2/g_variants': 'referenceName=%s&start=%d&referenceBases=%s&alternateBases=%s'
                                 % (c, int(p) - 1, r, a),
    '/api/beacon/v2/individuals': 'filters=NCIT:C16576&requestedGranularity=record',
    '/api/v1/omics/values': 'assay=olink&feature=x',
}
for path, ms in d['paths'].items():
    for m, op in ms.items():
        if m not in ('get', 'post'):
            continue
        t = re.findall(r'Minimum tier: (\w+)', op.get('description', ''))
        target = re.sub(r'\{[^}]*\}', v, path)
        print('\t'.join([m.upper(), path, t[0] if t else '?', target, query.get(path, '')]))
PY
[ -s routes.tsv ] || fail "no routes in the OpenAPI document"
if grep -q $'\t?\t' routes.tsv; then fail "routes without a stated minimum tier: $(grep $'\t?\t' routes.tsv | cut -f1,2 | tr '\n' ' ')"; fi

rank() { case $1 in public) echo 0;; registered) echo 1;; project) echo 2;; steward) echo 3;; *) echo 9;; esac; }
COLS="none invalid expired revoked public registered project steward other"
# project-scoped routes: a project user naming a project they hold no grant for
# (frequencies too: a project principal's leave out its consent opt-outs)
scoped() {
    case $1 in
    /api/v1/cohorts | /api/beacon/v2/individuals | /api/v1/variants/* | /api/beacon/v2/g_variants) return 0 ;;
    *) return 1 ;;
    esac
}

printf '%-6s %-32s %-10s' METHOD ROUTE MIN >matrix.txt
for c in $COLS; do printf ' %-10s' "$c" >>matrix.txt; done
echo >>matrix.txt
mismatch=0 cells=0
while IFS=$'\t' read -r method path min target qs; do
    printf '%-6s %-32s %-10s' "$method" "$path" "$min" >>matrix.txt
    for c in $COLS; do
        args=(-s -o /dev/null -w '%{http_code}' -X "$method")
        q=$qs
        case $method$path in
        POST/api/v1/cohorts) body='{"name":"m","expression":"sex=F","project":"acad"}' ;;
        POST/api/beacon/v2/individuals)
            body='{"query":{"filters":[{"id":"NCIT:C16576"}],"requestedGranularity":"record"}}' ;;
        POST/api/beacon/v2/g_variants)
            body="{\"query\":{\"requestParameters\":{\"referenceName\":\"$VC\",\"start\":[$((VP - 1))],\"referenceBases\":\"$VR\",\"alternateBases\":\"$VA\"}}}" ;;
        *) body='{}' ;;
        esac
        [ "$method" = POST ] && args+=(-H 'Content-Type: application/json' --data "$body")
        case $c in
        none) ;;
        *) tv=T_$c; args+=(-H "Authorization: Bearer ${!tv}") ;;
        esac
        if [ "$c" = other ] || [ "$c" = project ]; then q="${q:+$q&}project=acad"; fi
        got=$(curl "${args[@]}" "$U$target${q:+?$q}")
        case $c in
        none) if [ "$(rank "$min")" -le 0 ]; then want=ok; else want=401; fi ;;
        invalid | expired | revoked) want=401 ;;
        other)
            if [ "$(rank "$min")" -gt 2 ] || scoped "$path"; then want=403; else want=ok; fi ;;
        *) if [ "$(rank "$c")" -ge "$(rank "$min")" ]; then want=ok; else want=403; fi ;;
        esac
        cells=$((cells + 1))
        if { [ "$want" = ok ] && [ "$got" != 401 ] && [ "$got" != 403 ]; } || [ "$want" = "$got" ]; then
            printf ' %-10s' "$got" >>matrix.txt
        else
            printf ' %-10s' "$got!$want" >>matrix.txt
            mismatch=$((mismatch + 1))
        fi
    done
    echo >>matrix.txt
done <routes.tsv
cat matrix.txt
if [ "$mismatch" = 0 ]; then ok "HTTP: $cells cells as the minimum tiers say"; else fail "HTTP: $mismatch of $cells cells differ (shown as got!want)"; fi

# ---- the CLI: the same callers through --token / --as ----
FEAT=$("$PROMISE" omics st --assay olink --list-features 2>/dev/null | awk 'NR==2{print $1}')
declare -A CMDS=(
    [count]="count st --cohort sex=F"
    [freq]="freq st --region $VC"
    [view]="view st --region $VC -o view.vcf"
    [omics]="omics st --assay olink --feature $FEAT"
    [gwas]="gwas st --pheno sex=F --covar age -o g"
    [export]="export st -o ex"
)
# omics: registered and up on both the CLI and GET /api/v1/omics/values
# (PRODUCT.md section 7: the public tier gets frequencies and Beacon only)
declare -A CMIN=([count]=registered [freq]=public [view]=steward [omics]=registered
    [gwas]=registered [export]=project)
CCOLS="local invalid expired revoked public registered project steward other as-project"
printf '%-8s %-10s' COMMAND MIN >cli.txt
for c in $CCOLS; do printf ' %-10s' "$c" >>cli.txt; done
echo >>cli.txt
mismatch=0 cells=0
for cmd in count freq view omics gwas export; do
    printf '%-8s %-10s' "$cmd" "${CMIN[$cmd]}" >>cli.txt
    for c in $CCOLS; do
        rm -rf ex
        # shellcheck disable=SC2206
        a=(${CMDS[$cmd]})
        case $c in
        local) [ "$cmd" = export ] && a+=(--project acad) ;;
        as-project) a+=(--as alice) ;;
        *) tv=T_$c; a+=(--token "${!tv}") ;;
        esac
        if [ "$c" = other ] || { [ "$cmd" = export ] && [ "$c" != local ]; }; then a+=(--project acad); fi
        set +e
        "$PROMISE" "${a[@]}" >/dev/null 2>cli.err
        got=$?
        set -e
        min=${CMIN[$cmd]}
        case $c in
        local) want=0 ;;
        invalid | expired | revoked | other) want=3 ;;
        as-project) if [ "$(rank project)" -ge "$(rank "$min")" ]; then want=0; else want=3; fi ;;
        *)
            if [ "$(rank "$c")" -ge "$(rank "$min")" ]; then want=0; else want=3; fi
            # a registered or public user cannot name a project
            ;;
        esac
        cells=$((cells + 1))
        if [ "$got" = "$want" ]; then
            printf ' %-10s' "$got" >>cli.txt
        else
            printf ' %-10s' "$got!$want" >>cli.txt
            mismatch=$((mismatch + 1))
            say "  $cmd as $c: $(cat cli.err)"
        fi
    done
    echo >>cli.txt
done
cat cli.txt
if [ "$mismatch" = 0 ]; then ok "CLI: $cells cells as the minimum tiers say"; else fail "CLI: $mismatch of $cells cells differ (got!want)"; fi

# every refusal above is in the audit log, with the user named
"$PROMISE" audit verify st >/dev/null 2>&1 && ok "audit log verifies after the matrix" || fail "audit verify"
kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true
"$PROMISE" audit list st >audit.txt 2>/dev/null || true
refused=$(grep -c 'outcome=refused' audit.txt || true)
[ "$refused" -gt 0 ] && ok "$refused refusals logged" || fail "no refusal in the audit log"
grep -q $'\talice\tproject\tacad\tcount' audit.txt &&
    ok "a CLI query with alice's token is logged as alice, project acad" ||
    fail "no audit entry naming alice and acad"
grep -q $'\tunauthenticated\tpublic\t-\tcount\tref=[0-9]* outcome=refused' audit.txt &&
    ok "a CLI query with a bad token is logged as refused" ||
    fail "no refused entry for the CLI's bad tokens"
oracle_done
