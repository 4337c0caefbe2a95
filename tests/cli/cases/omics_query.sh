# promise omics: per-sample values with dates, the sample choice for
# longitudinal data (first, last, nearest a date, all), trajectories,
# summaries with small-cell suppression for lower tiers, transforms, and
# omics terms in cohort expressions (promise count).

ps() { printf 'aaaaaa-'; printf '%025d' 0 | tr 0 "$1"; echo a; }
tsv() { local f=$1; shift; printf '%s\n' "$@" | tr '|' '\t' >"$f"; }
A=$(ps b); B=$(ps c); C=$(ps d); D=$(ps e); E=$(ps f); F=$(ps g)
promise init st
tsv pop.tsv "pseudonym|sex|birth_date" "$A|F|1960-01-01" "$B|M|1970-05-05" "$C|F|1980-01-01" \
    "$D|M|1950-01-01" "$E|F|1955-01-01" "$F|M|1990-01-01"
promise ingest population st pop.tsv 2>/dev/null
# A has three olink samples (one undated), B and C one each, D two, E one, F none
tsv s.tsv "sample_id|pseudonym|source|assay|collection_date" \
    "S1|$A|SCAPIS|olink|2015-03-01" "S2|$A|SCAPIS|olink|2020-03-01" "S3|$A|SCAPIS|olink|" \
    "S4|$B|SCAPIS|olink|2016-01-01" "S5|$C|SCAPIS|olink|" \
    "S6|$D|SCAPIS|olink|2014-06-01" "S7|$D|SCAPIS|olink|2019-06-01" "S8|$E|SCAPIS|olink|2018-01-01"
promise ingest samples st s.tsv 2>/dev/null
tsv m.tsv "feature_id|feature_name|S1|S2|S3|S4|S5|S6|S7|S8" \
    "OID1|IL6|1.5|2.5|9|NA|-0.25|4|8|16" "OID2|TNF|10||3e2|4|0.001|NA|NA|7.125"
promise ingest omics st m.tsv --assay olink 2>/dev/null

run promise omics st
run promise omics st --assay olink
run promise omics st --assay olink --feature IL6 --sample latest
run promise omics st --assay olink --feature IL6 --trajectory --sample last
run promise omics st --assay olink --feature IL7
run promise omics st --assay rna --feature IL6

run promise omics st --assay olink --list-features
run promise omics st --assay olink --feature IL6
run promise omics st --assay OLINK --feature oid1 --sample first
run promise omics st --assay olink --feature IL6 --sample last
run promise omics st --assay olink --feature IL6 --sample nearest:2017-01-01
run promise omics st --assay olink --feature TNF --sample last --cohort 'sex=F'
run promise omics st --assay olink --feature TNF --trajectory
run promise omics st --assay olink --feature IL6 --summary
run promise omics st --assay olink --feature IL6 --summary --sample last
run promise omics st --assay olink --feature IL6 --transform log2 --sample first
run promise omics st --assay olink --feature IL6 --transform int --sample first

# lower tiers get the summary only, without extremes; fewer than k people: nothing
run promise omics st --assay olink --feature IL6 --as-tier registered
run promise omics st --assay olink --feature IL6 --as-tier registered --cohort 'sex=M'
run promise omics st --assay olink --feature IL6 --as-tier registered --trajectory
run promise omics st --assay olink --feature IL6 --as-tier project
sqlite3 st/catalog.db "UPDATE meta SET value = '3' WHERE key = 'k'"
run promise omics st --assay olink --feature IL6 --as-tier public --cohort 'sex=M'
run promise omics st --assay olink --feature IL6 --as-tier registered --sample last

# cohort terms: any sample above / below the threshold
run promise count st --cohort 'omics:olink:IL6>8'
run promise count st --cohort 'omics:olink:IL6>8 or omics:olink:TNF<1'
run promise count st --cohort 'omics:olink:IL6>3 and not omics:olink:IL6>10'
run promise count st --cohort 'omics:olink:CRP>1'
