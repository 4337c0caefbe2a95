#!/bin/bash
# http_beacon.sh - `promise serve` end to end on loopback: every Beacon v2
# response validates against the framework schemas (python3-jsonschema,
# local $refs only), error statuses mean what they say (400/401/403/404/
# 405/413/429), and the HTTP answers equal the CLI's: /api/v1/count vs
# `promise count --json` for the same cohort and tier, and a variant's
# AC/AN vs `promise freq --region`.
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest simulate count freq serve
command -v curl >/dev/null || { say "SKIP: curl not installed"; exit 0; }
python3 -c 'import jsonschema, referencing' 2>/dev/null ||
    { say "SKIP: python3-jsonschema not installed"; exit 0; }
SCHEMAS=$PM_TEST_DATA/beacon-v2-schemas
VALIDATE=$PM_SOURCE_DIR/tests/http/validate_beacon.py

cd "$W"
"$PROMISE" simulate sim --individuals 300 --variants 500 >/dev/null 2>&1
"$PROMISE" keygen key >/dev/null 2>&1
"$PROMISE" init st >/dev/null
"$PROMISE" ingest population st sim/population.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest samples st sim/samples.tsv --key key >/dev/null 2>&1
"$PROMISE" ingest vcf st sim/genotypes.vcf.gz >/dev/null 2>&1
# ~20 genomes: every allele the checks below use has 5..14 carriers, inside
# the public edge band (beacon_edge_band, default 10) where a yes comes 1
# time in 1024 to 1 in 2. This test checks the deterministic rules
# (threshold, budget "yes, yes, yes, no", cache) with the band off; the band
# is tested in tests/unit/test_policy.c and tests/oracle/beacon_reid.sh
"$PROMISE" config st beacon_edge_band 0 >/dev/null || fail "promise config st beacon_edge_band 0"

PIDS=()
stop_servers() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap stop_servers EXIT

# start_server NAME [serve options]: sets URL_<NAME>
start_server() {
    local name=$1
    shift
    "$PROMISE" serve st --listen 127.0.0.1:0 "$@" 2>"$W/$name.err" &
    PIDS+=($!)
    local port=$(serve_port "$W/$name.err")
    [ -n "$port" ] || { cat "$W/$name.err"; fail "server $name did not start"; oracle_done; }
    printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"
}
start_server pub
start_server reg --anonymous-tier registered
start_server slow --rate-limit 3
B=$URL_pub/api/beacon/v2

# get NAME EXPECTED_STATUS CURL_ARGS...: body in $W/r/NAME.json
mkdir -p r
: >validate.list
get() {
    local name=$1 want=$2 code
    shift 2
    code=$(curl -s -o "r/$name.json" -w '%{http_code}' "$@")
    if [ "$code" = "$want" ]; then ok "$name: HTTP $code"; else fail "$name: HTTP $code, expected $want: $(head -c 300 "r/$name.json")"; fi
}
# beacon NAME STATUS SCHEMA CURL_ARGS...: also queued for schema validation
beacon() {
    local name=$1 want=$2 schema=$3
    shift 3
    get "$name" "$want" "$@"
    printf '%s %s\n' "$schema" "r/$name.json" >>validate.list
}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

say "== Beacon informational endpoints"
beacon root 200 responses/beaconInfoResponse.json "$B"
beacon root_slash 200 responses/beaconInfoResponse.json "$B/"
beacon info 200 responses/beaconInfoResponse.json "$B/info"
beacon service_info 200 responses/ga4gh-service-info-1-0-0-schema.json "$B/service-info"
beacon configuration 200 responses/beaconConfigurationResponse.json "$B/configuration"
beacon map 200 responses/beaconMapResponse.json "$B/map"
beacon entry_types 200 responses/beaconEntryTypesResponse.json "$B/entry_types"
beacon filtering_terms 200 responses/beaconFilteringTermsResponse.json "$B/filtering_terms"

# variants: one common (AC >= k = 5) and one rare (1..4) from the CLI
"$PROMISE" freq st >freq.tsv
common=$(awk -F'\t' 'NR>1 && $6>=5 && length($4)==1 && length($5)==1 {print; exit}' freq.tsv)
rare=$(awk -F'\t' 'NR>1 && $6>=1 && $6<5 && length($4)==1 && length($5)==1 {print; exit}' freq.tsv)
[ -n "$common" ] && [ -n "$rare" ] || fail "simulated data has no common and rare SNV"
IFS=$'\t' read -r cchr cpos _ cref calt cac can _ <<<"$common"
IFS=$'\t' read -r rchr rpos _ rref ralt rac ran _ <<<"$rare"

say "== g_variants"
beacon gv_seq 200 responses/beaconBooleanResponse.json \
    "$B/g_variants?referenceName=$cchr&start=$((cpos - 1))&referenceBases=$cref&alternateBases=$calt"
[ "$(jq_ r/gv_seq.json 'd["responseSummary"]["exists"]')" = True ] && ok "common allele exists for public" || fail "common allele not found"
beacon gv_rare 200 responses/beaconBooleanResponse.json \
    "$B/g_variants?referenceName=$rchr&start=$((rpos - 1))&referenceBases=$rref&alternateBases=$ralt"
[ "$(jq_ r/gv_rare.json 'd["responseSummary"]["exists"]')" = False ] && ok "rare allele (AC $rac < beacon_min_ac 5) answers exists=false publicly" || fail "rare allele disclosed to public"
beacon gv_absent 200 responses/beaconBooleanResponse.json \
    "$B/g_variants?referenceName=$cchr&start=1&referenceBases=A&alternateBases=T"
beacon gv_range 200 responses/beaconBooleanResponse.json \
    "$B/g_variants?referenceName=$cchr&start=$((cpos - 1000))&end=$((cpos + 1000))"
beacon gv_post 200 responses/beaconBooleanResponse.json -X POST -H 'Content-Type: application/json' \
    -d "{\"meta\":{\"apiVersion\":\"v2.0.0\"},\"query\":{\"requestParameters\":{\"referenceName\":\"$cchr\",\"start\":$((cpos - 1)),\"referenceBases\":\"$cref\",\"alternateBases\":\"$calt\"}}}" \
    "$B/g_variants"
[ "$(jq_ r/gv_post.json 'd["responseSummary"]["exists"]')" = True ] && ok "POST g_variants agrees with GET" || fail "POST g_variants disagrees"
beacon gv_count_reg 200 responses/beaconCountResponse.json \
    "$URL_reg/api/beacon/v2/g_variants?referenceName=$cchr&start=$((cpos - 1000))&end=$((cpos + 1000))&requestedGranularity=count"
beacon gv_unknown_contig 200 responses/beaconBooleanResponse.json \
    "$B/g_variants?referenceName=chrUn&start=10&end=20"
beacon gv_no_start 400 responses/beaconErrorResponse.json "$B/g_variants?referenceName=21"
beacon gv_bad_bases 400 responses/beaconErrorResponse.json \
    "$B/g_variants?referenceName=21&start=5&referenceBases=A&alternateBases=XYZ"
beacon gv_bad_json 400 responses/beaconErrorResponse.json -X POST -d '{"query":' "$B/g_variants"
beacon gv_bad_granularity 400 responses/beaconErrorResponse.json \
    "$B/g_variants?referenceName=21&start=5&end=10&requestedGranularity=everything"

say "== individuals"
beacon ind_all 200 responses/beaconBooleanResponse.json "$B/individuals"
beacon ind_female 200 responses/beaconBooleanResponse.json "$B/individuals?filters=NCIT:C16576"
beacon ind_post 200 responses/beaconBooleanResponse.json -X POST \
    -d '{"query":{"filters":[{"id":"NCIT:C20197"}],"requestedGranularity":"count"}}' "$B/individuals"
beacon ind_icd 200 responses/beaconBooleanResponse.json "$B/individuals?filters=ICD10:E11,NCIT:C16576"
beacon ind_count_reg 200 responses/beaconCountResponse.json \
    "$URL_reg/api/beacon/v2/individuals?filters=NCIT:C16576&requestedGranularity=count"
beacon ind_unknown_filter 400 responses/beaconErrorResponse.json "$B/individuals?filters=HP:0000001"
beacon ind_bad_icd 400 responses/beaconErrorResponse.json "$B/individuals?filters=icd10:%2B%2B"
beacon beacon_404 404 responses/beaconErrorResponse.json "$B/biosamples"
beacon beacon_405 405 responses/beaconErrorResponse.json -X DELETE "$B/individuals"

females=$("$PROMISE" count st --cohort 'sex=F' --as-tier registered)
[ "$(jq_ r/ind_count_reg.json 'd["responseSummary"]["numTotalResults"]')" = "$females" ] &&
    ok "Beacon individuals count = promise count ($females)" || fail "Beacon individuals count differs from promise count ($females)"

say "== schema validation"
if python3 "$VALIDATE" "$SCHEMAS" validate.list >validate.out 2>&1; then
    ok "$(tail -1 validate.out)"
else
    cat validate.out
    fail "Beacon responses do not validate"
fi

say "== /api/v1"
get openapi 200 "$URL_pub/api/v1/openapi.json"
python3 - "$PM_SOURCE_DIR/src/server/server.c" r/openapi.json <<'PY' && ok "openapi.json describes every route" || fail "openapi.json is missing routes"
import json, re, sys
doc = json.load(open(sys.argv[2]))
assert doc["openapi"].startswith("3.0")
src = open(sys.argv[1]).read()
routes = re.findall(r'\{"(GET|POST)", (BEACON )?"([^"]*)"', src)
for method, beacon, path in routes:
    p = ("/api/beacon/v2" if beacon else "") + path
    p = p.replace("{}", "{variant}") or "/"
    if p == "/api/beacon/v2":
        p = "/api/beacon/v2/"
    assert p in doc["paths"], p
    assert method.lower() in doc["paths"][p], (method, p)
PY
get endpoints 200 "$URL_pub/api/v1/endpoints"
get count_public 401 "$URL_pub/api/v1/count?cohort=sex=F"
get count_badtoken 401 -H 'Authorization: Bearer pmt_nope' "$URL_pub/api/v1/count?cohort=sex=F"
get count_badauth 401 -H 'Authorization: Basic abc' "$URL_pub/api/v1/count?cohort=sex=F"
get count_nocohort 400 "$URL_reg/api/v1/count"
get count_syntax 400 "$URL_reg/api/v1/count?cohort=sex%3DF%20and%20("
get count_badby 400 "$URL_reg/api/v1/count?cohort=&by=shoe_size"
get unknown 404 "$URL_pub/api/v1/nothing"
get method 405 -X POST "$URL_pub/api/v1/endpoints"
get badescape 400 "$URL_pub/api/v1/count?cohort=%zz"
head -c 100000 /dev/zero | tr '\0' 'a' >big.json
get too_big 413 -X POST -H 'Content-Type: application/json' --data-binary @big.json "$B/g_variants"
big=$(head -c 40000 /dev/zero | tr '\0' 'a')
get big_header 431 -H "X-Big: $big" "$URL_pub/api/v1/endpoints"
get too_big_chunked 413 -X POST -H 'Transfer-Encoding: chunked' --data-binary @big.json "$B/individuals"

for cohort in '' 'sex=F' 'age>=40 and sex=M' 'not sex=F'; do
    for by in '' 'sex' 'sex,county'; do
        enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$cohort")
        curl -s "$URL_reg/api/v1/count?cohort=$enc&by=$by" >http.json
        args=(count st --cohort "$cohort" --as-tier registered --json)
        [ -n "$by" ] && args+=(--by "$by")
        "$PROMISE" "${args[@]}" >cli.json
        if python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a!=b)' http.json cli.json; then
            ok "count '$cohort' by '$by': HTTP = CLI"
        else
            fail "count '$cohort' by '$by': HTTP $(head -c 200 http.json) vs CLI $(head -c 200 cli.json)"
        fi
    done
done

# registered callers see exact AC/AN for a common allele; a rare AC (1..k-1)
# is "<k" for them too (pm_policy_freq_release), AN still exact
for v in "$cchr-$cpos-$cref-$calt:$cac:$can" "$rchr-$rpos-$rref-$ralt:<5:$ran"; do
    IFS=: read -r id ac an <<<"$v"
    get "variant_$id" 200 "$URL_reg/api/v1/variants/$id"
    got=$(jq_ "r/variant_$id.json" 'd["AC"], d["AN"]')
    [ "$got" = "$ac $an" ] && ok "variant $id: registered AC/AN = promise freq, released ($ac $an)" || fail "variant $id: HTTP $got vs freq $ac $an"
done
get variant_public_rare 200 "$URL_pub/api/v1/variants/$rchr-$rpos-$rref-$ralt"
[ "$(jq_ r/variant_public_rare.json 'd["AC"]')" = "<5" ] && ok "public rare AC shown as <5" || fail "public rare AC disclosed"
get variant_missing 404 "$URL_pub/api/v1/variants/$cchr-1-A-T"
get variant_bad 400 "$URL_pub/api/v1/variants/22-x-A-T"

say "== rate limit"
urls=()
for i in $(seq 1 20); do urls+=(-o /dev/null "$URL_slow/api/beacon/v2/info"); done
codes=$(curl -s -Z --parallel-max 20 -w '%{http_code} ' "${urls[@]}")
case "$codes" in *429*) ok "rate limit: $codes" ;; *) fail "no 429 for 20 parallel requests past 3/s: $codes" ;; esac

say "== tokens and tiers"
# mktoken USER TIER: prints a new token for a new user
mktoken() {
    "$PROMISE" user add st "$1" --tier "$2" >/dev/null 2>&1 || true
    "$PROMISE" token new st "$1" 2>/dev/null | grep -o 'pmt_[0-9a-f]*' | head -1 || true
}
if have_cmd user && have_cmd token; then
    ptok=$(mktoken pat public)
    rtok=$(mktoken reggie registered)
    stok=$(mktoken stella steward)
    if [ -n "$ptok" ] && [ -n "$rtok" ] && [ -n "$stok" ]; then
        get count_public_token 403 -H "Authorization: Bearer $ptok" "$URL_pub/api/v1/count?cohort=sex=F"
        get count_registered_token 200 -H "Authorization: Bearer $rtok" "$URL_pub/api/v1/count?cohort=sex%3DF&by=county"
        "$PROMISE" count st --cohort 'sex=F' --by county --as-tier registered --json >cli.json
        python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
            r/count_registered_token.json cli.json && ok "registered token: HTTP count = CLI" ||
            fail "registered token: HTTP count differs from CLI"
        get count_steward_token 200 -H "Authorization: Bearer $stok" "$URL_pub/api/v1/count?cohort=sex%3DF&by=county"
        "$PROMISE" count st --cohort 'sex=F' --by county --json >cli.json
        python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
            r/count_steward_token.json cli.json && ok "steward token: exact counts = CLI" ||
            fail "steward token: HTTP count differs from CLI"
        beacon ind_count_token 200 responses/beaconCountResponse.json -H "Authorization: Bearer $rtok" \
            "$B/individuals?filters=NCIT:C16576&requestedGranularity=count"
        beacon ind_record_steward 200 responses/beaconResultsetsResponse.json -H "Authorization: Bearer $stok" \
            "$B/individuals?filters=NCIT:C16576&requestedGranularity=record&limit=3"
        python3 "$VALIDATE" "$SCHEMAS" <(tail -2 validate.list) >validate2.out 2>&1 &&
            ok "token-tier Beacon responses validate" || { cat validate2.out; fail "token-tier responses invalid"; }
        if have_cmd project && have_cmd grant; then
            atok=$(mktoken alice project)
            "$PROMISE" project add st cardio --sources SCAPIS --data-types genotypes,registry \
                --purpose DUO:0000006 --expires 2099-12-31 >/dev/null 2>&1 || true
            "$PROMISE" grant st alice cardio >/dev/null 2>&1 || true
            beacon ind_record_project 200 responses/beaconResultsetsResponse.json \
                -H "Authorization: Bearer $atok" "$B/individuals?filters=NCIT:C16576&requestedGranularity=record"
            want=$("$PROMISE" count st --cohort 'sex=F and source:SCAPIS')
            got=$(jq_ r/ind_record_project.json 'd["responseSummary"]["numTotalResults"], all(x["id"].startswith("cardio:") for x in d["response"]["resultSets"][0]["results"])')
            [ "$got" = "$want True" ] && ok "project records: the project's sources only, project pseudonyms ($want)" ||
                fail "project records: got '$got', want '$want True'"
            get ind_other_project 403 -H "Authorization: Bearer $atok" \
                "$B/individuals?filters=NCIT:C16576&requestedGranularity=record&project=onco"
        fi
        if have_cmd token; then
            id=$("$PROMISE" token list st 2>/dev/null | awk -F'\t' '$2 == "reggie" {print $1; exit}')
            if [ -n "$id" ] && "$PROMISE" token revoke st "$id" >/dev/null 2>&1; then
                get count_revoked_token 401 -H "Authorization: Bearer $rtok" "$URL_pub/api/v1/count?cohort=sex=F"
            fi
        fi
    else
        say "note: could not make tokens with 'promise token new'; token paths not tested"
    fi
else
    say "note: 'promise user'/'promise token' not built; token paths not tested"
fi
say "== Beacon re-identification defence (budget, cache, allele threshold)"
if have_cmd config && have_cmd user && have_cmd token; then
    # variants with exactly beacon_min_ac (5) carrying individuals, and four
    # of them sharing one individual X (steward counts: exact)
    python3 - "$PROMISE" freq.tsv >defence.txt <<'PY' || true
import subprocess, sys
promise, freq = sys.argv[1], sys.argv[2]
def count(expr):
    out = subprocess.run([promise, "count", "st", "--cohort", expr], capture_output=True, text=True)
    return int(out.stdout.strip()) if out.returncode == 0 else -1
cands = []
for line in open(freq):
    f = line.rstrip("\n").split("\t")
    if line.startswith("#") or len(f) < 6 or len(f[3]) != 1 or len(f[4]) != 1 or "," in f[4]:
        continue
    if not 5 <= int(f[5]) <= 10:
        continue
    term = "carrier(%s:%s:%s:%s)" % (f[0], f[1], f[3], f[4])
    if count(term) == 5:
        cands.append((term, "%s\t%s\t%s\t%s" % (f[0], f[1], f[3], f[4])))
for i, (t1, v1) in enumerate(cands):
    pick = [(t1, v1)]
    for t, v in cands[i + 1:]:
        if count(" and ".join(x[0] for x in pick + [(t, v)])) >= 1:
            pick.append((t, v))
        if len(pick) == 4:
            for _, v in pick:
                print(v)
            sys.exit(0)
sys.exit(1)
PY
    if [ "$(wc -l <defence.txt)" = 4 ]; then
        "$PROMISE" config st beacon_budget 3 >/dev/null && ok "promise config st beacon_budget 3" ||
            fail "promise config beacon_budget"
        etok=$(mktoken eve public)
        ftok=$(mktoken frank public)
        stok2=$(mktoken sten steward)
        gvq() { # gvq NAME TOKEN CHR POS REF ALT
            beacon "$1" 200 responses/beaconBooleanResponse.json -H "Authorization: Bearer $2" \
                "$B/g_variants?referenceName=$3&start=$(($4 - 1))&referenceBases=$5&alternateBases=$6"
        }
        exists() { jq_ "r/$1.json" 'd["responseSummary"]["exists"]'; }
        i=0
        answers=
        while IFS=$'\t' read -r dchr dpos dref dalt; do
            i=$((i + 1))
            gvq "defence_eve_$i" "$etok" "$dchr" "$dpos" "$dref" "$dalt"
            answers="$answers $(exists "defence_eve_$i")"
            last="$dchr $dpos $dref $dalt"
            [ $i = 1 ] && first="$dchr $dpos $dref $dalt"
        done <defence.txt
        [ "$answers" = " True True True False" ] &&
            ok "budget 3: one individual's 4th positive answer is refused for that user ($answers)" ||
            fail "budget 3: answers for four alleles of one individual:$answers, want True True True False"
        # shellcheck disable=SC2086
        gvq defence_frank_4 "$ftok" $last
        [ "$(exists defence_frank_4)" = True ] && ok "another user still gets the answer (budgets are per user)" ||
            fail "another user's answer was degraded by eve's queries"
        # shellcheck disable=SC2086
        gvq defence_eve_1_again "$etok" $first
        cmp -s r/defence_eve_1.json r/defence_eve_1_again.json &&
            ok "a repeated identical query returns the identical cached answer" ||
            fail "repeated query answered differently: $(head -c 200 r/defence_eve_1_again.json)"
        gvq defence_eve_rare "$etok" "$rchr" "$rpos" "$rref" "$ralt"
        [ "$(exists defence_eve_rare)" = False ] && ok "allele below beacon_min_ac: exists=false for a public user" ||
            fail "allele below beacon_min_ac disclosed to a public user"
        gvq defence_steward_rare "$stok2" "$rchr" "$rpos" "$rref" "$ralt"
        [ "$(exists defence_steward_rare)" = True ] && ok "the steward gets the plain answer for the rare allele" ||
            fail "steward's answer for the rare allele is not exists=true"
        python3 "$VALIDATE" "$SCHEMAS" <(grep 'r/defence_' validate.list) >validate3.out 2>&1 &&
            ok "defence responses validate" || { cat validate3.out; fail "defence responses invalid"; }
    else
        fail "simulated data has no four 5-carrier SNVs sharing an individual: $(cat defence.txt)"
    fi
else
    say "note: 'promise config'/'user'/'token' not built; Beacon defence not tested"
fi
if have_cmd audit; then
    "$PROMISE" audit verify st >audit.out 2>&1 && ok "audit log verifies after the requests" || fail "audit verify: $(cat audit.out)"
fi

kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null && ok "SIGTERM stops the server cleanly" || fail "server exit status after SIGTERM"
grep -q 'stopping' "$W/pub.err" && ok "shutdown message" || fail "no shutdown message"
PIDS=("${PIDS[@]:1}")
oracle_done
