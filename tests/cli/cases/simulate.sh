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

# every simulated personnummer and sample loads
promise init st
run promise ingest population st sim1/population.tsv --key a.key
run promise ingest samples st sim1/samples.tsv --key a.key
check "all samples loaded" \
    test "$(sqlite3 st/catalog.db 'SELECT count(*) FROM sample')" -eq "$(tail -n +2 sim1/samples.tsv | wc -l)"
run promise ingest population st sim1/population.tsv --key a.key

# a national-size population in seconds
start=$SECONDS
promise simulate big --individuals 500000 --seed 1 2>/dev/null
check "500,000 individuals in under a minute" test $((SECONDS - start)) -lt 60
check "500,000 unique personnummer" test "$(tail -n +2 big/population.tsv | cut -f1 | sort -u | wc -l)" -eq 500000
