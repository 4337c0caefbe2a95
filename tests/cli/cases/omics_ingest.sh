# promise ingest omics: the matrix format (and its samples-by-features
# layout) and the Olink NPX long format. Errors name FILE:LINE:COL and leave
# the store exactly as it was (catalog dump and data file listing); unknown
# samples are listed or skipped; values already stored are never replaced;
# files left by an interrupted ingest are removed by the next one.

ps() { printf 'aaaaaa-'; printf '%025d' 0 | tr 0 "$1"; echo a; }
tsv() { local f=$1; shift; printf '%s\n' "$@" | tr '|' '\t' >"$f"; }
state() {
    sqlite3 st/catalog.db .dump
    (cd st/omics && for f in $(ls -A); do echo "omics/$f $(stat -c %s "$f")"; done)
}
A=$(ps b); B=$(ps c); C=$(ps d)
promise init st
tsv pop.tsv "pseudonym|sex|birth_date" "$A|F|1960-01-01" "$B|M|1970-05-05" "$C|F|1980-01-01"
promise ingest population st pop.tsv 2>/dev/null
tsv s.tsv "sample_id|pseudonym|source|assay|collection_date" \
    "S1|$A|SCAPIS|olink|2015-03-01" "S2|$A|SCAPIS|olink|2020-03-01" \
    "S3|$B|SCAPIS|olink|2016-01-01" "S4|$C|SCAPIS|olink|" "W1|$C|SCAPIS|wgs|" \
    "M1|$A|DILGOM|metabolomics|2007-01-01" "M2|$B|DILGOM|metabolomics|2007-01-01"
promise ingest samples st s.tsv 2>/dev/null

run promise ingest omics st m.tsv
run promise ingest omics st m.tsv --assay olink --format xml
run promise ingest omics st m.tsv --assay olink --layout sideways
run promise ingest omics st --assay olink

state >before.txt
bad() { run promise ingest omics st "$@"; state >after.txt; check "store unchanged" cmp -s before.txt after.txt; }
tsv bad.tsv "feature_id|S1|S2" "IL6|1.5|2" "TNF|1.5|1,5"
bad bad.tsv --assay olink
tsv bad.tsv "feature_id|S1|X1|S2|X2|X3" "IL6|1|2|3|4|5"
bad bad.tsv --assay olink
tsv bad.tsv "feature_id|S1|W1" "IL6|1|2"
bad bad.tsv --assay olink
tsv bad.tsv "feature_id|S1" "IL6|1" "IL6|2"
bad bad.tsv --assay olink
tsv bad.tsv "feature_id|S1" "IL6|1|2"
bad bad.tsv --assay olink
bad bad.tsv --assay proteomics
printf 'SampleID;OlinkID;NPX\nS1;OID1;2\n' >bad.csv
bad bad.csv --assay olink --format olink
printf 'SampleID;OlinkID;UniProt;Assay;Panel;PlateID;QC_Warning;LOD;NPX\nS1;OID1;P1;IL6;Inf;PL1;Pass;1;2\nS1;OID1;P1;IL6;Inf;PL2;Pass;1;3\n' >bad.csv
bad bad.csv --assay olink
printf 'SampleID;OlinkID;UniProt;Assay;Panel;PlateID;QC_Warning;LOD;NPX\nS1;OID1;P1;IL6;Inf;PL1;Pass;1;high\n' >bad.csv
bad bad.csv --assay olink

# a matrix: NA and empty are missing; metadata columns describe features
tsv m.tsv "feature_id|uniprot|S1|S2|S3|S4|chrom|pos" \
    "IL6|P05231|1.5|2.5|NA|-0.25|7|22727147" "TNF|P01375|10||3e2|4||"
run promise ingest omics st m.tsv --assay olink
run sqlite3 -separator ' ' st/catalog.db "SELECT id, feature_id, ifnull(uniprot,'-'), ifnull(chrom,'-'), ifnull(pos,'-') FROM omics_feature ORDER BY id;
  SELECT id, file, format, ifnull(panel,'-'), n_samples, n_features FROM omics_batch ORDER BY id;
  SELECT batch, col, sample FROM omics_column ORDER BY batch, col;
  SELECT kind, file, rows FROM ingest ORDER BY id"
run ls st/omics

# the same values again are refused, and nothing changes
state >before.txt
bad m.tsv --assay olink

# Olink long format, ';'-separated: the control sample is not in the sample table
printf '%s\n' 'SampleID;Index;OlinkID;UniProt;Assay;Panel;PlateID;QC_Warning;LOD;NPX;Subject' \
    'S1;1;OID01;P1;KIM1;Cardiometabolic;P1.csv;Pass;2;1.5;x' \
    'S2;2;OID01;P1;KIM1;Cardiometabolic;P1.csv;Warning;2;3.25;x' \
    'CONTROL 1;3;OID01;P1;KIM1;Cardiometabolic;P1.csv;Pass;2;9;NA' \
    'S3;4;OID01;P1;KIM1;Cardiometabolic;P1.csv;Pass;2;NA;x' \
    'S1;5;OID02;P2;CCL2;Inflammation;P9.csv;Pass;NA;-1;x' \
    'CONTROL 2;6;OID02;P2;CCL2;Inflammation;P9.csv;Pass;NA;-1;x' | gzip >npx.csv.gz
bad npx.csv.gz --assay olink
run promise ingest omics st npx.csv.gz --assay OLINK --skip-unknown-samples
run sqlite3 -separator ' ' st/catalog.db "SELECT id, file, format, ifnull(panel,'-'), n_samples, n_features FROM omics_batch ORDER BY id;
  SELECT b.panel, c.col, s.sample_id, ifnull(c.plate,'-') FROM omics_column c JOIN omics_batch b ON b.id = c.batch JOIN sample s ON s.id = c.sample WHERE b.format = 'olink' ORDER BY b.id, c.col;
  SELECT feature_id, name, uniprot, panel FROM omics_feature WHERE name IS NOT NULL ORDER BY id"

# samples as rows (e.g. a metabolomics table); a leftover of a crashed ingest goes
tsv t.tsv "sample_id|Total_C|LDL_C" "M1|-1.5|0.25" "M2|NA|3"
state >before.txt
bad t.tsv --assay metabolomics
echo junk >st/omics/b000042.pmo
echo junk >st/omics/b000005.pmo.tmp-123-0
run promise ingest omics st t.tsv --assay metabolomics --layout samples-by-features
run ls st/omics
