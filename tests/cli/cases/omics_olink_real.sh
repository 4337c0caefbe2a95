# The real Olink NPX example (OlinkAnalyze npx_data1: 158 samples x 184
# assays in two panels, ';'-separated, gzipped): every subject becomes an
# individual and every sample a dated sample (Baseline, Week.6, Week.12),
# so the data are longitudinal. Values round-trip, and the below-LOD and
# QC-warning counts equal those computed from the file with awk.

F=$DATA/olink-npx-example/npx_data1.long.csv.gz
# columns: 1 SampleID 3 OlinkID 5 Assay 8 PlateID 9 QC_Warning 10 LOD 11 NPX 12 Subject 15 Time
zcat "$F" | awk -F';' 'NR > 1 && $12 != "NA" { print $1 "\t" $12 "\t" $15 }' | sort -u >samp.txt
cut -f2 samp.txt | sort -u | awk '{
    n = substr($1, 3); p = n
    for (d = 0; d <= 9; d++) gsub(d, substr("abcdefghij", d + 1, 1), p)
    s = sprintf("%-25s", p); gsub(/ /, "z", s)
    print $1 "\taaaaaa-" s "a" }' >subj.txt
(echo pseudonym; cut -f2 subj.txt) >pop.tsv
(printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
 awk -F'\t' 'NR == FNR { ps[$1] = $2; next }
    { d = $3 == "Baseline" ? "2020-01-01" : $3 == "Week.6" ? "2020-02-12" : "2020-03-25"
      print $1 "\t" ps[$2] "\tOLINKEX\tolink\t" d }' subj.txt samp.txt) >samples.tsv
promise init st
run promise ingest population st pop.tsv
run promise ingest samples st samples.tsv

run promise ingest omics st "$F" --assay olink
run promise ingest omics st "$F" --assay olink --skip-unknown-samples
cp "$T/.stderr" ingest.msg
run ls st/omics

# flags: counts from the file (real samples only: the controls were skipped)
real() { zcat "$F" | awk -F';' 'NR > 1 && $1 !~ /^CONTROL/'; }
lod() { awk -F';' '$11 != "NA" && $10 != "NA" && $11 + 0 < $10 + 0'; }
lod_file=$(real | lod | wc -l)
qc_file=$(real | awk -F';' '$9 == "Warning"' | wc -l)
check "the ingest counted the file's below-LOD values ($lod_file) and QC warnings ($qc_file)" \
    grep -q "(0 missing, $lod_file below LOD, $qc_file with a QC warning)" ingest.msg
# the stored flags, feature by feature, for the ten features with most values below LOD
real | lod | awk -F';' '{ n[$3]++ } END { for (f in n) print n[f], f }' | sort -k1,1nr -k2 | head -10 >top.txt
stored_flags() {
    local n f got qc
    while read -r n f; do
        promise omics st --assay olink --feature "$f" >vals.txt
        got=$(grep -c below_lod vals.txt)
        qc=$(real | awk -F';' -v f="$f" '$3 == f && $9 == "Warning"' | wc -l)
        [ "$got" = "$n" ] && [ "$(grep -c qc_warning vals.txt)" = "$qc" ] &&
            [ "$(wc -l <vals.txt)" = 157 ] || { echo "$f: $got of $n below LOD"; return 1; }
    done <top.txt
}
check "stored below-LOD and QC flags equal the file's, feature by feature" stored_flags

# values round-trip (float32): every 1999th row of the file
real | awk -F';' 'NR % 1999 == 1 { print $1 "\t" $3 "\t" $11 }' >probe.txt
run wc -l probe.txt
roundtrip() {
    local s f want got
    while IFS=$'\t' read -r s f want; do
        got=$(promise omics st --assay olink --feature "$f" | awk -F'\t' -v s="$s" '$2 == s { print $4 }')
        awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d;
            m = b < 0 ? -b : b; exit !(d <= 1e-6 * (m > 1 ? m : 1)) }' || {
            echo "sample $s feature $f: stored '$got', file '$want'"; return 1; }
    done <probe.txt
}
check "NPX values equal the input (to float precision)" roundtrip

run bash -c 'promise omics st --assay olink --list-features | sed -n "1,3p;$p"'
run promise omics st --assay olink --feature IL8 --trajectory --cohort 'omics:olink:IL8>14'
run promise omics st --assay olink --feature IL8 --summary
run promise omics st --assay olink --feature IL8 --summary --sample first --as-tier registered
il8_mean=$(real | awk -F';' '$5 == "IL8" { s += $11; n++ } END { printf "%.6g", s / n }')
check "IL8 mean equals awk's ($il8_mean)" \
    test "$(promise omics st --assay olink --feature IL8 --summary | awk -F'\t' 'NR == 2 { printf "%.6g", $9 }')" = "$il8_mean"

# cohort terms against awk: subjects with any IL8 NPX above 8
want=$(real | awk -F';' '$5 == "IL8" && $11 > 8 { print $12 }' | sort -u | wc -l)
run promise count st --cohort 'omics:olink:IL8>8'
check "omics:olink:IL8>8 counts the subjects awk finds ($want)" \
    test "$(promise count st --cohort 'omics:olink:IL8>8')" = "$want"
run promise count st --cohort 'omics:olink:OID00471<0 and omics:olink:IL6>3'
