# promise simulate: deterministic synthetic population and samples whose
# test personnummer all load with promise ingest.
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
key a.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

run promise simulate
run promise simulate out
run promise simulate out --individuals 0
run promise simulate out --individuals many
run promise simulate out --individuals 10 --seed -1
run promise simulate out --individuals 10 --ref-date 2026-02-30
run promise simulate out --individuals 10 --bogus
run promise simulate out1 out2 --individuals 10
run promise simulate out --individuals 10 --events-per-person -3

run promise simulate sim1 --individuals 3000 --seed 42
promise simulate sim2 --individuals 3000 --seed 42 2>/dev/null
promise simulate sim3 --individuals 3000 --seed 43 2>/dev/null
check "same seed, same population" cmp -s sim1/population.tsv sim2/population.tsv
check "same seed, same samples" cmp -s sim1/samples.tsv sim2/samples.tsv
check "another seed, another population" bash -c "! cmp -s sim1/population.tsv sim3/population.tsv"
run head -1 sim1/population.tsv
run head -1 sim1/samples.tsv
check "3000 individuals" test "$(tail -n +2 sim1/population.tsv | wc -l)" -eq 3000
check "test birth numbers 980-999 only" \
    test "$(tail -n +2 sim1/population.tsv | cut -f1 | grep -cvE '^[0-9]{6}[-+]9[89][0-9]{2}$')" -eq 0
check "no personnummer twice" test "$(tail -n +2 sim1/population.tsv | cut -f1 | sort | uniq -d | wc -l)" -eq 0
check "both sexes, roughly half each" \
    bash -c "n=\$(cut -f2 sim1/population.tsv | grep -c F); test \$n -gt 1300 -a \$n -lt 1700"
check "sex follows the birth number parity" \
    test "$(tail -n +2 sim1/population.tsv | awk -F'\t' '{o = substr($1, 10, 1) % 2; if ((o && $2 != "M") || (!o && $2 != "F")) n++} END {print n + 0}')" -eq 0
check "every county code is one of the 21" \
    test "$(tail -n +2 sim1/population.tsv | cut -f4 | grep -cvxE '0[1345679]|08|1[0234789]|2[0-5]')" -eq 0
check "Stockholm (01) is the largest county" \
    test "$(tail -n +2 sim1/population.tsv | cut -f4 | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')" = 01
check "some people have died, some emigrated" \
    bash -c "test \$(cut -f5 sim1/population.tsv | grep -c .) -gt 10 -a \$(cut -f6 sim1/population.tsv | grep -c .) -gt 10"
check "research and clinical sources" \
    bash -c "cut -f3 sim1/samples.tsv | grep -q SCAPIS && cut -f3,5 sim1/samples.tsv | grep -q 'GMS-.*	clinical'"
check "someone has repeated olink samples" \
    test "$(awk -F'\t' '$4 == "olink" {print $2}' sim1/samples.tsv | sort | uniq -d | wc -l)" -gt 0
check "sample ids S000001..." test "$(sed -n 2p sim1/samples.tsv | cut -f1)" = S000001

# register events and the olink matrix
check "same seed, same registry" cmp -s sim1/registry.tsv sim2/registry.tsv
check "same seed, same olink matrix" cmp -s sim1/olink.tsv sim2/olink.tsv
check "another seed, another registry" bash -c "! cmp -s sim1/registry.tsv sim3/registry.tsv"
run head -1 sim1/registry.tsv
run bash -c "tail -n +2 sim1/registry.tsv | wc -l"
run bash -c "sha256sum <sim1/registry.tsv | cut -c1-16; sha256sum <sim1/olink.tsv | cut -c1-16"
run bash -c "tail -n +2 sim1/registry.tsv | cut -f3,6 | sort -u"
check "10-30 events per person on average" \
    bash -c "n=\$(tail -n +2 sim1/registry.tsv | wc -l); test \$n -gt 30000 -a \$n -lt 90000"
check "every event between birth and death or emigration" \
    test "$(awk -F'\t' 'NR == FNR {b[$1] = $3; e[$1] = $5 != "" ? $5 : $6 != "" ? $6 : "9999"; next}
        FNR > 1 && ($2 < b[$1] || $2 > e[$1]) {n++} END {print n + 0}' sim1/population.tsv sim1/registry.tsv)" -eq 0
check "every dead person has one main cause of death on the death date" \
    test "$(awk -F'\t' 'NR == FNR {if (FNR > 1 && $5 != "") d[$1] = $5; next}
        $3 == "death" && $6 == "main" {if (d[$1] == $2) ok[$1]++; else n++}
        END {for (p in d) if (ok[p] != 1) n++; print n + 0}' sim1/population.tsv sim1/registry.tsv)" -eq 0
check "type 2 diabetes (E11) in 3-9% of adults" \
    bash -c "a=\$(awk -F'\t' 'NR > 1 && \$3 < \"2008\"' sim1/population.tsv | wc -l)
             e=\$(awk -F'\t' '\$3 == \"patient\" && \$4 ~ /^E11/ {print \$1}' sim1/registry.tsv | sort -u | wc -l)
             test \$((e * 100)) -gt \$((a * 3)) -a \$((e * 100)) -lt \$((a * 9))"
check "most E11 patients get A10B" \
    bash -c "e=\$(awk -F'\t' '\$4 ~ /^E11/ {print \$1}' sim1/registry.tsv | sort -u)
             a=\$(awk -F'\t' '\$4 ~ /^A10B/ {print \$1}' sim1/registry.tsv | sort -u)
             n=\$(comm -12 <(echo \"\$e\") <(echo \"\$a\") | wc -l)
             test \$((n * 2)) -gt \$(echo \"\$e\" | wc -l)"
check "breast cancer in women, prostate cancer in men" \
    test "$(awk -F'\t' 'NR == FNR {s[$1] = $2; next}
        ($4 == "C509" && s[$1] != "F") || ($4 ~ /^C61/ && s[$1] != "M") {n++} END {print n + 0}' \
        sim1/population.tsv sim1/registry.tsv)" -le 1
check "olink matrix: 50 features, one column per olink sample" \
    bash -c "test \$(tail -n +2 sim1/olink.tsv | wc -l) -eq 50 -a \$(head -1 sim1/olink.tsv | awk -F'\t' '{print NF - 1}') -eq \$(awk -F'\t' '\$4 == \"olink\"' sim1/samples.tsv | wc -l)"
check "olink values NPX-like with some NA" \
    bash -c "grep -q 'IL6	' sim1/olink.tsv && grep -q '	NA' sim1/olink.tsv"
run promise simulate sim4 --individuals 50 --seed 42 --events-per-person 0
check "--events-per-person 0: no registry" test ! -e sim4/registry.tsv -a ! -e sim4/olink.tsv

# every simulated personnummer and sample loads
promise init st
run promise ingest population st sim1/population.tsv --key a.key
run promise ingest samples st sim1/samples.tsv --key a.key
run promise ingest registry st sim1/registry.tsv --key a.key
run promise ingest omics st sim1/olink.tsv --assay olink
run promise count st --cohort 'icd10:E11 and age>=50' --by sex
check "all samples loaded" \
    test "$(sqlite3 st/catalog.db 'SELECT count(*) FROM sample')" -eq "$(tail -n +2 sim1/samples.tsv | wc -l)"
run promise ingest population st sim1/population.tsv --key a.key

# a national-size population in seconds
start=$SECONDS
promise simulate big --individuals 500000 --seed 1 2>/dev/null
check "500,000 individuals in under a minute" test $((SECONDS - start)) -lt 60
check "500,000 people's register events" test -s big/registry.tsv -a -s big/olink.tsv
check "500,000 unique personnummer" test "$(tail -n +2 big/population.tsv | cut -f1 | sort -u | wc -l)" -eq 500000
