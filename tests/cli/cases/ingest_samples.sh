# promise ingest samples: samples belong to individuals of the population;
# sources and assays are recorded; FILE:LINE:COL errors leave the store as
# it was; a repeated load changes nothing; updates follow docs/ingest.md.

pnr() {
    local d="$1$2" sum=0 i v
    for i in 0 1 2 3 4 5 6 7 8; do
        v=$(( ${d:i:1} * (i % 2 == 0 ? 2 : 1) ))
        sum=$(( sum + (v > 9 ? v - 9 : v) ))
    done
    printf '%s%s%s%d' "$1" "${3:--}" "$2" $(( (10 - sum % 10) % 10 ))
}
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
key a.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
key b.key fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
dump() { sqlite3 st/catalog.db .dump; }
tsv() { local f=$1; shift; printf '%s\n' "$@" | tr '|' '\t' >"$f"; }
samples() { sqlite3 -separator ' ' st/catalog.db \
    "SELECT s.sample_id, s.individual, so.name, a.name, ifnull(s.grade,'-'), ifnull(s.tissue,'-'), ifnull(s.collection_date,'-')
     FROM sample s JOIN source so ON so.id = s.source JOIN assay a ON a.id = s.assay ORDER BY s.id"; }

A=$(pnr 800101 982); B=$(pnr 850615 991); X=$(pnr 700707 993)
promise init st
tsv pop.tsv "personnummer" "$A" "$B"
promise ingest population st pop.tsv --key a.key 2>/dev/null

run promise ingest samples st
run promise ingest samples st s.tsv --bogus

# longitudinal omics: A has two olink samples years apart
tsv s.tsv "sample_id|personnummer|source|assay|grade|tissue|collection_date" \
    "S000001|$A|SCAPIS|olink|research|plasma|2015-03-01" \
    "S000002|$A|SCAPIS|olink|research|plasma|2020-03-01" \
    "S000003|$A|SCAPIS|array|research|blood|2015-03-01" \
    "S000004|$B|GMS-Skane|wgs|clinical|blood|2022-01-01" \
    "S000005|$B|GMS-Skane|wgs|clinical|tumour|"
run promise ingest samples st s.tsv --key a.key
run samples
run sqlite3 st/catalog.db "SELECT name FROM source ORDER BY id; SELECT name FROM assay ORDER BY id"

dump >before.sql
run promise ingest samples st s.tsv --key a.key
dump >after.sql
check "second load leaves the store byte-for-byte the same" cmp -s before.sql after.sql

bad() { run promise ingest samples st "$@"; dump >after.sql; check "store unchanged" cmp -s before.sql after.sql; }
H="sample_id|personnummer|source|assay|collection_date"
# an individual that is not in the population
tsv bad.tsv "$H" "S000006|$A|SCAPIS|olink|" "S000007|$X|SCAPIS|olink|"
bad bad.tsv --key a.key
check "the message does not contain the number" bash -c "! promise ingest samples st bad.tsv --key a.key 2>&1 | grep -q 700707"
# the same sample twice
tsv bad.tsv "$H" "S000006|$A|SCAPIS|olink|" "S000006|$A|SCAPIS|olink|"
bad bad.tsv --key a.key
# a known sample cannot move to another individual
tsv bad.tsv "$H" "S000001|$B|SCAPIS|olink|"
bad bad.tsv --key a.key
# field checks
tsv bad.tsv "$H" "S000006|$A|SCAPIS|olink|2021-02-29"
bad bad.tsv --key a.key
tsv bad.tsv "$H" "S000006|$A|SCAPIS|olink|1979-12-31"
bad bad.tsv --key a.key
tsv bad.tsv "$H" "S 6|$A|SCAPIS|olink|"
bad bad.tsv --key a.key
tsv bad.tsv "$H" "S000006|$A||olink|"
bad bad.tsv --key a.key
tsv bad.tsv "sample_id|personnummer|source|assay|grade" "S000006|$A|SCAPIS|olink|super"
bad bad.tsv --key a.key
tsv bad.tsv "sample_id|personnummer|source" "S000006|$A|SCAPIS"
bad bad.tsv --key a.key
tsv bad.tsv "sample_id|personnummer|source|assay|batch" "S000006|$A|SCAPIS|olink|7"
bad bad.tsv --key a.key
run promise ingest samples st bad.tsv --key a.key --ignore-extra
dump >before.sql
# keys: none for a personnummer column (exit 1), another key (exit 3)
tsv bad.tsv "$H" "S000006|$A|SCAPIS|olink|"
bad bad.tsv
bad bad.tsv --key b.key

# updates: other fields change, an empty field keeps the stored value
tsv upd.tsv "personnummer|sample_id|source|assay|tissue|collection_date" \
    "$A|S000003|SCAPIS|wgs||" "$B|S000005|GMS-Skane|wgs|tumour|2022-01-02" "$B|S000004|GMS-Skane|wgs||"
run promise ingest samples st upd.tsv --key a.key
run samples

# pseudonym input
promise pseudonymize --key a.key upd.tsv >upd-pseudo.tsv
run promise ingest samples st upd-pseudo.tsv
run sqlite3 st/catalog.db "SELECT kind, rows FROM ingest ORDER BY id"
