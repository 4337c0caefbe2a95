#!/bin/bash
# consent_purpose.sh - consent per purpose filters individuals at query time:
# an opt-out of commercial use removes the person from an industry project's
# answers, not from an academic project's (docs/access.md).
#
# Store: 1000 Genomes chr22 (1126 samples, one individual each, source KG).
# Consent: every 29th sample opted out of commercial use (set C), every 97th
# of research (set R; the two sets are disjoint), one more person withdrew.
# Projects on source KG: "industry" (DUO:0000006: commercial purpose) and
# "academic" (DUO:0000006,DUO:0000018: not for profit, research purpose),
# users ind and aca (project tier) granted one each.
# Checks, against bcftools on the input VCF:
#   freq   steward --project industry  = bcftools view -s ^(C+W) | +fill-tags
#          steward --project academic  = bcftools view -s ^(R+W)
#          --as ind --project industry: AN of every row and AC of every row
#          the policy shows exactly, as above; --cohort sex=F as well
#          steward, no project          = bcftools view -s ^W
#   view   --project industry: sample list = input minus C and W, genotypes
#          equal bcftools query of the input for those samples
#   gwas   --as ind / --as aca: genotyped individuals = all - |C| - 1 and
#          all - |R| - 1; cases (sex=F) drop by the women among them
#   pca    --as ind --project industry: eigenvec rows = all - |C| - 1
#   HTTP   GET /api/v1/omics/values?trajectories=1 for each project (a
#          simulated store with longitudinal omics): the project's opted-out
#          have no trajectory
#   qtl    --as ind / --as aca on that store: the analysis set loses the
#          genotyped among each project's opted-out
#   phewas the same for its genotyped individuals
#   every command answers (exit 0): none is refused for consent
set -euo pipefail
# shellcheck source=lib/common.bash
source "$(dirname "$0")/lib/common.bash"
need_cmd keygen init ingest freq view gwas user project grant

KG=$PM_TEST_DATA/1kg-phase3-subset-uwgac
VCF=$KG/1KG_phase3_subset_chr22.vcf.gz
QFMT='%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n'
cd "$W"

bcftools query -l "$VCF" >samples.txt
N=$(wc -l <samples.txt)
mk_store st samples.txt >/dev/null 2>&1 || { fail "cannot make the store"; oracle_done; }
"$PROMISE" ingest vcf st "$VCF" >/dev/null 2>&1 || { fail "cannot ingest $VCF"; oracle_done; }

# the opted-out (by sample name) and their personnummer from the tables
awk 'NR % 29 == 5' samples.txt >C.txt
awk 'NR % 97 == 11' samples.txt | grep -vxFf C.txt >R.txt || true
WD=$(awk 'NR == 500' samples.txt)
grep -qxF "$WD" C.txt R.txt && { fail "withdrawn sample is also opted out: pick another"; oracle_done; }
echo "$WD" >W.txt
NC=$(wc -l <C.txt)
NR_=$(wc -l <R.txt)
pnr() { awk -F'\t' 'NR == FNR { want[$1] = 1; next } FNR > 1 && ($1 in want) { print $2 }' "$1" st.tables/samples.tsv; }
{
    printf 'personnummer\tpurpose\tstatus\tdate\n'
    pnr C.txt | awk '{ print $1 "\tcommercial\topt-out\t2024-01-01" }'
    pnr R.txt | awk '{ print $1 "\tresearch\topt-out\t2024-02-01" }'
    pnr W.txt | awk '{ print $1 "\tall\twithdrawn\t2024-03-01" }'
} >consent.tsv
[ "$(sed 1d consent.tsv | wc -l)" = $((NC + NR_ + 1)) ] || fail "consent file: $(sed 1d consent.tsv | wc -l) rows, want $((NC + NR_ + 1))"
"$PROMISE" ingest consent st consent.tsv --key st.key >/dev/null 2>&1 || fail "ingest consent"
say "store: $N samples; $NC opted out of commercial use, $NR_ of research, 1 withdrawn"

P() { "$PROMISE" "$@" >/dev/null 2>&1 || fail "promise $*"; }
P user add st ind --tier project
P user add st aca --tier project
P project add st industry --sources KG --data-types genotypes --purpose DUO:0000006 \
    --expires 2099-12-31
P project add st academic --sources KG --data-types genotypes --purpose DUO:0000006,DUO:0000018 \
    --expires 2099-12-31
P grant st ind industry
P grant st aca academic

# expected FILE_OF_SAMPLES_TO_KEEP -> CHROM POS REF ALT AC AN NHOMALT per ALT, sorted
expected() {
    bcftools view -Ou -S "$1" "$VCF" 2>/dev/null |
        bcftools +fill-tags -Ou -- -t AC,AN,AC_Hom |
        bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\t%AC_Hom\n' |
        awk -F'\t' -v OFS='\t' '{
            sub(/^chr/, "", $1)
            n = split($4, alt, ","); split($5, ac, ","); split($7, hom, ",")
            for (i = 1; i <= n; i++) if (alt[i] != ".") print $1, $2, $3, alt[i], ac[i], $6, hom[i] / 2
        }' | sort
}
ours() {
    awk -F'\t' -v OFS='\t' '
        /^##/ { next }
        /^#CHROM/ { for (i = 1; i <= NF; i++) c[$i] = i; hdr = 1; next }
        !hdr { next }
        { ch = $c["#CHROM"]; sub(/^chr/, "", ch)
          if ($c["ALT"] != ".") print ch, $c["POS"], $c["REF"], $c["ALT"], $c["AC"], $c["AN"], $c["NHOMALT"] }
    ' "$1" | sort
}
keep_minus() { # keep_minus OUT FILE... : samples.txt without the names in FILE...
    local out=$1
    shift
    cat "$@" >drop.tmp
    grep -vxFf drop.tmp samples.txt >"$out" || true
}
keep_minus keep_ind.txt C.txt W.txt
keep_minus keep_aca.txt R.txt W.txt
keep_minus keep_all.txt W.txt
expected keep_ind.txt >exp_ind.tsv
expected keep_aca.txt >exp_aca.tsv
expected keep_all.txt >exp_all.tsv
cmp -s exp_ind.tsv exp_aca.tsv && fail "the two projects' expected tables are equal: the test cannot tell them apart"

# run NAME OUT promise-args...: runs promise, fails the check on a non-zero exit
run() {
    local name=$1 out=$2
    shift 2
    set +e
    "$PROMISE" "$@" >"$out" 2>err.txt
    local x=$?
    set -e
    if [ "$x" != 0 ]; then
        fail "$name: promise $* exited $x: $(head -c 300 err.txt)"
        return 1
    fi
}
# cmp_freq NAME EXPECTED promise-args...
cmp_freq() {
    local name=$1 exp=$2
    shift 2
    run "$name" f.out "$@" || return 0
    ours f.out >f.norm
    if cmp -s "$exp" f.norm; then
        ok "$name: $(wc -l <"$exp") allele rows equal bcftools (AC, AN, NHOMALT)"
    else
        fail "$name: differs from bcftools (< bcftools, > promise):"
        first_diff "$exp" f.norm
    fi
}

# ---- freq ----
cmp_freq "freq steward --project industry" exp_ind.tsv freq st --project industry
cmp_freq "freq steward --project academic" exp_aca.tsv freq st --project academic
cmp_freq "freq steward, no project (only the withdrawn left out)" exp_all.tsv freq st

# a project user gets the released table: AN always, AC where shown exactly
check_released() {
    local name=$1 exp=$2
    shift 2
    run "$name" r.out "$@" || return 0
    ours r.out >r.norm
    local bad
    bad=$(awk -F'\t' 'NR == FNR { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; an[k] = $6; ac[k] = $5; next }
        { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; seen++
          if (!(k in an) || an[k] != $6 || ($5 ~ /^[0-9]+$/ && ac[k] != $5)) b++ }
        END { if (seen != length(an)) b++; print b + 0 }' "$exp" r.norm)
    local exact
    exact=$(awk -F'\t' '$5 ~ /^[0-9]+$/' r.norm | wc -l)
    if [ "$bad" = 0 ] && [ "$exact" -gt 0 ]; then
        ok "$name: $(wc -l <r.norm) rows, AN and $exact exact ACs equal bcftools"
    else
        fail "$name: $bad rows differ from bcftools ($exact exact ACs)"
    fi
}
check_released "freq --as ind --project industry" exp_ind.tsv freq st --as ind --project industry
check_released "freq --as aca --project academic" exp_aca.tsv freq st --as aca --project academic

# with a cohort expression: the women of the store, minus the project's opted-out
awk -F'\t' 'NR == FNR { if (FNR > 1) sex[$1] = $2; next } FNR > 1 { print $1 "\t" sex[$2] }' \
    st.tables/population.tsv st.tables/samples.tsv >sample_sex.tsv
awk -F'\t' '$2 == "F" { print $1 }' sample_sex.tsv >F.txt
grep -xFf F.txt keep_ind.txt >keep_ind_F.txt || true
expected keep_ind_F.txt >exp_ind_F.tsv
cmp_freq "freq steward --project industry --cohort sex=F" exp_ind_F.tsv \
    freq st --project industry --cohort sex=F

# ---- view ----
if run "view --project industry" view.vcf view st --project industry; then
    bcftools query -l view.vcf >view_samples.txt
    if cmp -s <(sort keep_ind.txt) <(sort view_samples.txt); then
        ok "view --project industry: $(wc -l <view_samples.txt) samples, the input's minus the $NC opted out and the withdrawn"
    else
        fail "view --project industry: sample list differs (< expected, > promise):"
        first_diff <(sort keep_ind.txt) <(sort view_samples.txt)
    fi
    bcftools query -f "$QFMT" -S keep_ind.txt "$VCF" | strip_chr >view_exp.q
    if bcftools query -f "$QFMT" -S keep_ind.txt view.vcf 2>/dev/null | strip_chr >view_got.q &&
        cmp -s view_exp.q view_got.q; then
        ok "view --project industry: $(wc -l <view_exp.q) records, genotypes equal the input's"
    else
        fail "view --project industry: genotypes differ (< input, > promise):"
        first_diff view_exp.q view_got.q 4
    fi
    if grep -qxFf C.txt view_samples.txt; then fail "view: an opted-out sample is in the output"; fi
fi
if run "view --project academic" view_a.vcf view st --project academic; then
    bcftools query -l view_a.vcf | sort >view_a_samples.txt
    if cmp -s <(sort keep_aca.txt) view_a_samples.txt; then
        ok "view --project academic: keeps the commercial opt-outs, drops the research opt-outs"
    else
        fail "view --project academic: sample list differs"
        first_diff <(sort keep_aca.txt) view_a_samples.txt
    fi
fi

# ---- gwas ----
gw_field() { awk -F'\t' -v k="$2" '$1 == k { print $2 }' "$1.log"; }
gw_cases() { sed -n 's/.*\tcases=\([0-9]*\).*/\1/p' "$1.log" | head -n 1; }
nF_all=$(grep -cxFf F.txt keep_all.txt || true)
nF_ind=$(grep -cxFf F.txt keep_ind.txt || true)
nF_aca=$(grep -cxFf F.txt keep_aca.txt || true)
for who in steward ind aca; do
    case $who in
    steward) args=(); want=$((N - 1)); wantF=$nF_all wantP= ;;
    ind) args=(--as ind --project industry); want=$((N - NC - 1)); wantF=$nF_ind wantP=commercial ;;
    aca) args=(--as aca --project academic); want=$((N - NR_ - 1)); wantF=$nF_aca wantP=research ;;
    esac
    run "gwas as $who" /dev/null gwas st "${args[@]}" --pheno sex=F --covar '' --no-plots \
        -o "g_$who" || continue
    got=$(gw_field "g_$who" genotyped_individuals)
    cases=$(gw_cases "g_$who")
    purp=$(gw_field "g_$who" consent_purpose)
    if [ "$got" = "$want" ] && [ "$cases" = "$wantF" ] && [ "$purp" = "$wantP" ]; then
        ok "gwas as $who: $got genotyped individuals, $cases cases (sex=F), as the consent file says${purp:+ (log: consent_purpose $purp)}"
    else
        fail "gwas as $who: $got genotyped individuals (want $want), $cases cases (want $wantF), log consent_purpose '$purp' (want '$wantP')"
    fi
done

# ---- pca (project tier: individual-level components) ----
if have_cmd pca; then
    if run "pca --as ind --project industry" /dev/null pca st --as ind --project industry -k 2 \
        -o pc_ind; then
        rows=$(grep -vc '^#' pc_ind.eigenvec || true)
        if [ "$rows" = $((N - NC - 1)) ]; then
            ok "pca --as ind --project industry: $rows individuals"
        else
            fail "pca --as ind --project industry: $rows individuals, want $((N - NC - 1))"
        fi
    fi
fi

# ---- HTTP: a project's omics trajectories (GET /api/v1/omics/values); qtl ----
# Individuals with two or more dated IL6 values in a simulated store; three
# of them opt out of commercial use, one of research. The industry project's
# answer must hold T - 3 trajectories, the academic one's T - 1, where T is
# counted from the simulated tables.
if have_cmd simulate serve token && command -v curl >/dev/null; then
    mkdir om && cd om
    "$PROMISE" simulate sim --individuals 2000 --variants 50 --seed 5 >/dev/null 2>&1
    "$PROMISE" keygen key >/dev/null 2>&1
    "$PROMISE" init st >/dev/null
    P ingest population st sim/population.tsv --key key
    P ingest samples st sim/samples.tsv --key key
    P ingest omics st sim/olink.tsv --assay olink
    P ingest vcf st sim/genotypes.vcf.gz
    P ingest registry st sim/registry.tsv --key key
    # personnummer of everyone with >= 2 dated, valued IL6 samples
    awk -F'\t' 'NR == FNR { if (FNR > 1 && $4 == "olink" && $7 != "") pn[$1] = $2; next }
        FNR == 1 { for (i = 2; i <= NF; i++) col[i] = $i; next }
        $1 == "IL6" { for (i = 2; i <= NF; i++) if ((col[i] in pn) && $i != "NA" && $i != "") n[pn[col[i]]]++ }
        END { for (p in n) if (n[p] >= 2) print p }' sim/samples.tsv sim/olink.tsv | sort >traj.txt
    T=$(wc -l <traj.txt)
    if [ "$T" -lt 5 ]; then
        fail "HTTP: only $T individuals with trajectories in the simulated store"
    else
        {
            printf 'personnummer\tpurpose\tstatus\tdate\n'
            sed -n 1,3p traj.txt | awk '{ print $1 "\tcommercial\topt-out\t2024-01-01" }'
            sed -n 4p traj.txt | awk '{ print $1 "\tresearch\topt-out\t2024-01-01" }'
        } >consent.tsv
        P ingest consent st consent.tsv --key key
        SRC=$(awk -F'\t' 'NR > 1 { print $3 }' sim/samples.tsv | sort -u | paste -sd, -)
        P user add st ind --tier project
        P user add st aca --tier project
        P project add st industry --sources "$SRC" --data-types genotypes,omics \
            --purpose DUO:0000006 --expires 2099-12-31
        P project add st academic --sources "$SRC" --data-types genotypes,omics \
            --purpose DUO:0000006,DUO:0000018 --expires 2099-12-31
        P grant st ind industry
        P grant st aca academic
        T_ind=$("$PROMISE" token new st ind 2>/dev/null)
        T_aca=$("$PROMISE" token new st aca 2>/dev/null)
        "$PROMISE" serve st --listen 127.0.0.1:0 2>serve.err &
        SERVER=$!
        trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$W"' EXIT
        port=$(serve_port serve.err)
        ntraj() {
            curl -s -H "Authorization: Bearer $1" \
                "http://127.0.0.1:$port/api/v1/omics/values?assay=olink&feature=IL6&trajectories=1&project=$2" |
                python3 -c 'import json, sys; print(len(json.load(sys.stdin).get("trajectories", [])))' 2>/dev/null ||
                echo "no answer"
        }
        if [ -z "$port" ]; then
            fail "HTTP: the server did not start: $(head -c 300 serve.err)"
        else
            got_ind=$(ntraj "$T_ind" industry)
            got_aca=$(ntraj "$T_aca" academic)
            if [ "$got_ind" = $((T - 3)) ] && [ "$got_aca" = $((T - 1)) ]; then
                ok "HTTP omics trajectories: industry $got_ind, academic $got_aca of $T (3 commercial, 1 research opt-out)"
            else
                fail "HTTP omics trajectories: industry $got_ind (want $((T - 3))), academic $got_aca (want $((T - 1))) of $T"
            fi
        fi
        # Beacon individuals at record granularity: the project's sources
        # minus the opted-out of its purpose
        nrec() {
            curl -s -H "Authorization: Bearer $1" \
                "http://127.0.0.1:$port/api/beacon/v2/individuals?requestedGranularity=record&project=$2" |
                python3 -c 'import json, sys; print(json.load(sys.stdin)["responseSummary"]["numTotalResults"])' 2>/dev/null ||
                echo "no answer"
        }
        SRC_EXPR=$(echo "$SRC" | sed 's/,/ or source:/g; s/^/source:/')
        base=$("$PROMISE" count st --cohort "$SRC_EXPR" 2>/dev/null | awk '{ print $NF }' | tail -n 1)
        if [ -n "$port" ]; then
            rec_ind=$(nrec "$T_ind" industry)
            rec_aca=$(nrec "$T_aca" academic)
            if [ -n "$base" ] && [ "$rec_ind" = $((base - 3)) ] && [ "$rec_aca" = $((base - 1)) ]; then
                ok "HTTP Beacon individuals (records): industry $rec_ind, academic $rec_aca of $base in the sources"
            else
                fail "HTTP Beacon individuals (records): industry $rec_ind (want $base - 3), academic $rec_aca (want $base - 1)"
            fi
        fi
        # /api/v1/variants: a project principal's AN is the CLI's for the
        # same user and project (the opted-out of its purpose left out)
        van() {
            curl -s -H "Authorization: Bearer $1" "http://127.0.0.1:$port/api/v1/variants/$2?project=$3" |
                python3 -c 'import json, sys; print(json.load(sys.stdin)["AN"])' 2>/dev/null || echo "no answer"
        }
        if [ -n "$port" ]; then
            vbad=0 vn=0
            "$PROMISE" freq st --as ind --project industry 2>/dev/null | awk -F'\t' 'NR > 1 { print $1 "-" $2 "-" $4 "-" $5 "\t" $7 }' |
                head -n 8 >van_ind.txt
            "$PROMISE" freq st --as aca --project academic 2>/dev/null | awk -F'\t' 'NR > 1 { print $1 "-" $2 "-" $4 "-" $5 "\t" $7 }' |
                head -n 8 >van_aca.txt
            while IFS=$'\t' read -r vid an; do
                vn=$((vn + 1))
                [ "$(van "$T_ind" "$vid" industry)" = "$an" ] || vbad=$((vbad + 1))
            done <van_ind.txt
            while IFS=$'\t' read -r vid an; do
                vn=$((vn + 1))
                [ "$(van "$T_aca" "$vid" academic)" = "$an" ] || vbad=$((vbad + 1))
            done <van_aca.txt
            if [ "$vn" -ge 10 ] && [ "$vbad" = 0 ] && ! cmp -s van_ind.txt van_aca.txt; then
                ok "HTTP /api/v1/variants: AN equals the CLI's for both projects at $vn variants (and differs between them)"
            else
                fail "HTTP /api/v1/variants: $vbad of $vn answers differ from the CLI's (or the projects agree: consent not applied)"
            fi
        fi
        kill $SERVER 2>/dev/null || true
        wait $SERVER 2>/dev/null || true

        # qtl (CLI): IL6 against the variants of the first contig; the
        # analysis set loses exactly the opted-out who are genotyped
        bcftools query -f '%CHROM\t%POS\n' sim/genotypes.vcf.gz |
            awk -F'\t' 'NR == 1 { c = $1; lo = $2 } $1 == c { hi = $2 } END { print c "\t" lo - 1 "\t" hi "\tIL6" }' >f.bed
        bcftools query -l sim/genotypes.vcf.gz >gsamples.txt
        awk -F'\t' 'NR == FNR { g[$1] = 1; next } FNR > 1 && ($1 in g) { print $2 }' gsamples.txt \
            sim/samples.tsv | sort -u >genotyped.txt
        dC=$(sed -n 1,3p traj.txt | grep -cxFf genotyped.txt || true)
        dR=$(sed -n 4p traj.txt | grep -cxFf genotyped.txt || true)
        qn() { sed -n 's/.* \([0-9]*\) individuals, .*/\1/p' "$1" | head -n 1; }
        if run "qtl steward" /dev/null qtl st --assay olink --features-bed f.bed -o q0 &&
            cp err.txt q0.err && run "qtl --as ind" /dev/null qtl st --assay olink \
            --features-bed f.bed -o q1 --as ind --project industry && cp err.txt q1.err &&
            run "qtl --as aca" /dev/null qtl st --assay olink --features-bed f.bed -o q2 \
                --as aca --project academic && cp err.txt q2.err; then
            n0=$(qn q0.err) n1=$(qn q1.err) n2=$(qn q2.err)
            if [ -n "$n0" ] && [ "$n1" = $((n0 - dC)) ] && [ "$n2" = $((n0 - dR)) ] && [ $((dC + dR)) -gt 0 ]; then
                ok "qtl: $n0 individuals for the steward, $n1 for industry (-$dC), $n2 for academic (-$dR)"
            else
                fail "qtl: steward $n0, industry $n1 (want n - $dC), academic $n2 (want n - $dR)"
            fi
        fi
        # phewas (CLI): its genotyped individuals lose the same people
        if have_cmd phewas; then
            V=$(bcftools query -f '%CHROM:%POS:%REF:%ALT\n' sim/genotypes.vcf.gz | awk -F: '$4 !~ /,/' | head -n 1)
            pn() { sed -n 's/.* of \([0-9]*\) genotyped individuals.*/\1/p' "$1" | head -n 1; }
            if run "phewas steward" /dev/null phewas st --variant "$V" --covar '' -o p0 &&
                cp err.txt p0.err && run "phewas --as ind" /dev/null phewas st --variant "$V" \
                --covar '' -o p1 --as ind --project industry && cp err.txt p1.err &&
                run "phewas --as aca" /dev/null phewas st --variant "$V" --covar '' -o p2 \
                    --as aca --project academic && cp err.txt p2.err; then
                n0=$(pn p0.err) n1=$(pn p1.err) n2=$(pn p2.err)
                if [ -n "$n0" ] && [ "$n1" = $((n0 - dC)) ] && [ "$n2" = $((n0 - dR)) ]; then
                    ok "phewas $V: $n0 genotyped individuals for the steward, $n1 for industry, $n2 for academic"
                else
                    fail "phewas $V: steward $n0, industry $n1 (want n - $dC), academic $n2 (want n - $dR)"
                fi
            fi
        fi
    fi
    cd "$W"
fi

oracle_done
