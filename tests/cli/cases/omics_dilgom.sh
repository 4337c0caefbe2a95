# The real DILGOM serum NMR metabolomics table (512 samples x 134 measures,
# samples as rows, no sample ids): with synthetic sample ids D0001..D0512
# it loads with --layout samples-by-features. Values round-trip and the
# summary and the inverse-normal transform agree with awk.

F=$DATA/dilgom-metabolomics/metab.txt.gz
zcat "$F" | awk 'NR == 1 { print "sample_id\t" $0; next } { printf "D%04d\t%s\n", NR - 1, $0 }' >metab.tsv
# one individual per sample; pseudonyms from the sample number (digits -> letters)
awk 'NR > 1 { p = substr($1, 2); for (d = 0; d <= 9; d++) gsub(d, substr("abcdefghij", d + 1, 1), p)
    s = sprintf("%-25s", p); gsub(/ /, "z", s); print $1 "\taaaaaa-" s "a" }' metab.tsv >ids.txt
(echo pseudonym; cut -f2 ids.txt) >pop.tsv
(printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
 awk '{ print $1 "\t" $2 "\tDILGOM\tmetabolomics\t2007-01-01" }' ids.txt) >samples.tsv
promise init st
promise ingest population st pop.tsv 2>/dev/null
promise ingest samples st samples.tsv 2>/dev/null

run promise ingest omics st metab.tsv --assay metabolomics
run promise ingest omics st metab.tsv --assay metabolomics --layout samples-by-features
run bash -c 'promise omics st --assay metabolomics --list-features | head -4'

# a few values: rows 1, 100 and 512 of columns 1 (Total_C), 10 (DHA) and 134 (last)
probe() {
    local row col name want got
    for row in 1 100 512; do
        for col in 1 10 134; do
            name=$(awk -v c="$col" 'NR == 1 { print $(c + 1) }' metab.tsv)
            want=$(awk -v r="$row" -v c="$col" 'NR == r + 1 { print $(c + 1) }' metab.tsv)
            got=$(promise omics st --assay metabolomics --feature "$name" |
                  awk -F'\t' -v s="$(printf 'D%04d' "$row")" '$2 == s { print $4 }')
            awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d;
                m = b < 0 ? -b : b; exit !(d <= 1e-6 * (m > 1 ? m : 1)) }' || {
                echo "row $row $name: stored '$got', file '$want'"; return 1; }
        done
    done
}
check "values equal the input (to float precision)" probe

# mean and sd against awk (the measures are standardised: the mean is ~0)
awk 'NR > 1 { x[NR] = $2; s += $2; n++ } END { m = s / n; for (i in x) ss += (x[i] - m) ^ 2
    printf "%.10g %.10g\n", m, sqrt(ss / (n - 1)) }' metab.tsv >awk.txt
promise omics st --assay metabolomics --feature Total_C --summary |
    awk -F'\t' 'NR == 2 { print $9, $10 }' >ours.txt
check "mean and sd of Total_C equal awk's" awk 'NR == FNR { m = $1; s = $2; next }
    { d = $1 - m; e = $2 - s; exit !(d < 1e-6 && d > -1e-6 && e < 1e-6 && e > -1e-6) }' awk.txt ours.txt
# inverse-normal transform: 512 distinct values give qnorm((r - 3/8) / 512.25)
promise omics st --assay metabolomics --feature Total_C --transform int |
    awk -F'\t' 'NR > 1 { print $4 }' | sort -g >int.txt
check "INT: the extremes are -/+ qnorm(0.625 / 512.25) = 3.030658" \
    test "$(head -1 int.txt) $(tail -1 int.txt)" = "-3.030658 3.030658"
check "INT: 512 distinct values" test "$(sort -u int.txt | wc -l)" = 512
