# The real Olink NPX example in Olink's "NPX wide" spreadsheet layout
# (OlinkAnalyze npx_data1.xlsx: title rows, Panel / Assay / Uniprot ID /
# OlinkID rows, one row per sample with Plate ID and QC Warning columns
# per panel, then LOD and Missing Data freq. footer rows), saved as
# ';'-separated text with a stdlib-only Python reader of the xlsx. The
# same data in the long layout (npx_data1.long.csv.gz) go into a second
# store: the flag counts, and every sample's value and flags of every 8th
# feature, must agree between the two. Then the wide layout's errors.

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 0; }
X=$DATA/olink-npx-example/npx_data1.xlsx
L=$DATA/olink-npx-example/npx_data1.long.csv.gz
python3 - "$X" >wide.csv <<'PY'
import re, sys, zipfile, xml.etree.ElementTree as ET
M = '{http://schemas.openxmlformats.org/spreadsheetml/2006/main}'
z = zipfile.ZipFile(sys.argv[1])
ss = [''.join(t.text or '' for t in si.iter(M + 't'))
      for si in ET.fromstring(z.read('xl/sharedStrings.xml')).iter(M + 'si')]
def col(ref):
    n = 0
    for ch in re.match(r'[A-Z]+', ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1
rows = []
for r in ET.fromstring(z.read('xl/worksheets/sheet1.xml')).iter(M + 'row'):
    cells = {}
    for c in r.iter(M + 'c'):
        v = c.find(M + 'v')
        cells[col(c.get('r'))] = '' if v is None else ss[int(v.text)] if c.get('t') == 's' else v.text
    rows.append((int(r.get('r')), cells))
w = max(max(c) + 1 for _, c in rows if c)
last = 0
for rn, cells in rows:  # Excel pads every row to the full width
    while last + 1 < rn:
        print(';' * (w - 1)); last += 1
    print(';'.join(cells.get(i, '') for i in range(w))); last = rn
PY
run head -c 120 wide.csv
# one individual per sample of either file; the control samples ("CONTROL_SAMPLE_AS 1")
# are not valid sample ids and are skipped (--skip-unknown-samples)
{ awk -F';' 'NR > 7 && $1 != "" && $1 != "LOD" && $1 !~ /^Missing/ { print $1 }' wide.csv
  zcat "$L" | awk -F';' 'NR > 1 { print $1 }'; } | grep -v ' ' | sort -u | awk -F'\t' '{
    p = sprintf("%06d", NR); for (d = 0; d <= 9; d++) gsub(d, substr("abcdefghij", d + 1, 1), p)
    print $1 "\taaaaaa-" p "zzzzzzzzzzzzzzzzzzza" }' >ids.txt
(echo pseudonym; cut -f2 ids.txt) >pop.tsv
(printf 'sample_id\tpseudonym\tsource\tassay\n'; awk -F'\t' '{ print $1 "\t" $2 "\tOLINKEX\tolink" }' ids.txt) >samples.tsv
for s in w l; do
    promise init $s >/dev/null
    promise ingest population $s pop.tsv >/dev/null 2>&1
    promise ingest samples $s samples.tsv >/dev/null 2>&1
done
run promise ingest omics w wide.csv --assay olink --skip-unknown-samples
run promise ingest omics l "$L" --assay olink --skip-unknown-samples
run promise omics w --assay olink --list-features
# every 8th feature (23 of 184, both panels; the flag counts above cover
# all): the wide store's values and flags equal the long store's
n_diff=0
promise omics w --assay olink --list-features | awk -F'\t' 'NR > 1 { print $1 }' >feats.txt
awk 'NR % 8 == 1' feats.txt >some.txt
while read -r f; do
    promise omics w --assay olink --feature "$f" | cut -f2,4,5 | sort >a.txt
    promise omics l --assay olink --feature "$f" | cut -f2,4,5 | sort >b.txt
    join -t "$(printf '\t')" a.txt b.txt | awk -F'\t' '$2 != $4 || $3 != $5' >d.txt
    [ -s d.txt ] && n_diff=$((n_diff + 1))
    [ "$(join -t "$(printf '\t')" a.txt b.txt | wc -l)" -ge 150 ] || n_diff=$((n_diff + 1))
done <some.txt
check "184 features read from the wide layout" test "$(wc -l <feats.txt)" = 184
check "values and flags of 23 features equal the long layout's ($n_diff differ)" test "$n_diff" = 0 -a "$(wc -l <some.txt)" = 23
# --format olink-wide explicitly, gzipped, tab-separated
tr ';' '\t' <wide.csv | gzip >wide.tsv.gz
promise init w2 >/dev/null; promise ingest population w2 pop.tsv >/dev/null 2>&1
promise ingest samples w2 samples.tsv >/dev/null 2>&1
run promise ingest omics w2 wide.tsv.gz --assay olink --format olink-wide --skip-unknown-samples
# errors
run promise ingest omics w2 pop.tsv --assay olink --format olink-wide
sed '12s/;Pass;Pass$/;Pass;Maybe/' wide.csv >bad_qc.csv
promise init w3 >/dev/null; promise ingest population w3 pop.tsv >/dev/null 2>&1
promise ingest samples w3 samples.tsv >/dev/null 2>&1
run promise ingest omics w3 bad_qc.csv --assay olink --skip-unknown-samples
sed '9s/^A2;[^;]*;/A2;high;/' wide.csv >bad_npx.csv
run promise ingest omics w3 bad_npx.csv --assay olink --skip-unknown-samples
awk 'NR == 9 { print; print } NR != 9' wide.csv >dup.csv
run promise ingest omics w3 dup.csv --assay olink --skip-unknown-samples
run promise ingest omics w3 wide.csv --assay olink --layout samples-by-features
run promise omics w3 --assay olink --list-features
