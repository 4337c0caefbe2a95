# promise count with registry terms, time windows over events and samples,
# carrier(...) from an ingested VCF, consent purposes.
alph=abcdefghijklmnopqrstuvwxyz234567
pseud() { printf 'abcdef-%s%saaaaaaaaaaaaaaaaaaaaaaaa' "${alph:$(($1 / 32)):1}" "${alph:$(($1 % 32)):1}"; }
{
    printf 'pseudonym\tsex\tbirth_date\tcounty\n'
    for i in $(seq 0 11); do
        sex=F; [ $((i % 2)) = 0 ] && sex=M
        printf '%s\t%s\t19%02d-06-01\t01\n' "$(pseud "$i")" $sex $((40 + i * 3))
    done
} > pop.tsv
{
    printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
    for i in $(seq 0 7); do printf 'W%d\t%s\tSCAPIS\twgs\t2015-01-01\n' "$i" "$(pseud "$i")"; done
    for i in 0 1 2 3; do printf 'O%d\t%s\tSCAPIS\tolink\t2016-01-01\n' "$i" "$(pseud "$i")"; done
} > samples.tsv
# events: 0 I21 six months after olink (first I21), 1 I21 five years after,
# 2 I21 before olink and again one year after (first is before), 4 E11.9
# and metformin, 5 E11 and a death from I21
{
    printf 'pseudonym\tdate\tregister\tcode\n'
    printf '%s\t2016-07-01\tpatient\tI21.0\n' "$(pseud 0)"
    printf '%s\t2021-01-01\tpatient\tI21\n' "$(pseud 1)"
    printf '%s\t2014-01-01\tpatient\tI21.4\n' "$(pseud 2)"
    printf '%s\t2017-01-01\tpatient\tI21.4\n' "$(pseud 2)"
    printf '%s\t2018-03-03\tpatient\tE11.9\n' "$(pseud 4)"
    printf '%s\t2018-04-04\tdrug\tA10BA02\n' "$(pseud 4)"
    printf '%s\t2019-01-01\tpatient\tE11\n' "$(pseud 5)"
    printf '%s\t2020-02-02\tdeath\tI21.9\n' "$(pseud 5)"
} > events.tsv
{
    printf '##fileformat=VCFv4.2\n##contig=<ID=22,length=50818468>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT'
    for i in $(seq 0 7); do printf '\tW%d' "$i"; done
    printf '\n22\t16050075\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t0/0\t1/1\t0/0\t./.\t0/0\t0/1\t0/0\n'
    printf '22\t16050115\t.\tG\tA\t.\tPASS\t.\tGT\t0/0\t0/0\t0/0\t0/0\t0/0\t0/0\t0/0\t0/1\n'
} > gt.vcf
# consent: 6 (a man) opted out of commercial use, 3 (a woman) of research; nobody withdrew
{
    printf 'pseudonym\tpurpose\tstatus\tdate\n'
    printf '%s\tcommercial\topt-out\t2024-01-01\n' "$(pseud 6)"
    printf '%s\tresearch\topt-out\t2024-01-01\n' "$(pseud 3)"
} > consent.tsv
run promise init st
run promise ingest population st pop.tsv
run promise ingest samples st samples.tsv
run promise ingest registry st events.tsv
run promise ingest vcf st gt.vcf
run promise ingest consent st consent.tsv

run promise count st --cohort 'icd10:I21'
run promise count st --cohort 'icd10:E11'
run promise count st --cohort 'icd10:E11 and not atc:A10'
run promise count st --cohort 'death:I21'
run promise count st --cohort 'icd10:I21 within 2 years after assay:olink'
run promise count st --cohort 'first icd10:I21 within 2 years after assay:olink'
run promise count st --cohort 'icd10:I21 within 2y before first assay:olink'
run promise count st --cohort 'atc:A10 within 30 days after icd10:E11'
run promise count st --cohort 'atc:A10 within 32 days after icd10:E11'
run promise count st --cohort 'carrier(22:16050075:A:G)'
run promise count st --cohort 'carrier(chr22:16050075:a:g) and sex=M'
run promise count st --cohort 'not carrier(22:16050075:A:G) and source:SCAPIS'
run promise count st --cohort 'carrier(22:16050075:A:T)'
run promise count st --cohort 'source:SCAPIS'
run promise count st --cohort 'source:SCAPIS' --purpose commercial
run promise count st --cohort 'source:SCAPIS' --purpose research
# commercial use drops 6 (commercial opt-out) but not 3 (research opt-out)
run promise count st --cohort 'source:SCAPIS' --by sex --purpose commercial
run promise count st --cohort 'source:SCAPIS' --by sex --purpose research
run promise count st --cohort 'source:SCAPIS' --purpose gardening
run promise count st --cohort 'icd10:I21 or carrier(22:16050115:G:A)' --by sex --as-tier registered
run promise count st --cohort 'icd10:I21' --json --as-tier registered --ref-date 2026-01-01
run promise count st --cohort 'sex=M within 1y after assay:olink'
