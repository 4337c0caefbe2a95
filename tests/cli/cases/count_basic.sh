# promise count: cohort expressions, --by breakdowns, tiers, errors.
# A 30-person population with pseudonyms (one key tag), samples from three
# sources, one withdrawal; --ref-date keeps ages stable.
alph=abcdefghijklmnopqrstuvwxyz234567
pseud() { printf 'abcdef-%s%saaaaaaaaaaaaaaaaaaaaaaaa' "${alph:$(($1 / 32)):1}" "${alph:$(($1 % 32)):1}"; }
{
    printf 'pseudonym\tsex\tbirth_date\tcounty\tdeath_date\temigration_date\n'
    for i in $(seq 0 29); do
        sex=F; [ $((i % 3)) = 0 ] && sex=M
        county=01; [ "$i" -ge 12 ] && county=12; [ "$i" -ge 27 ] && county=25; [ "$i" = 29 ] && county=
        death=; [ "$i" = 5 ] && death=2020-01-01
        emig=; [ "$i" = 6 ] && emig=2010-01-01
        printf '%s\t%s\t%d-%02d-15\t%s\t%s\t%s\n' "$(pseud "$i")" $sex $((1940 + (i * 7) % 70)) $((1 + i % 12)) "$county" "$death" "$emig"
    done
} > pop.tsv
{
    printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
    for i in $(seq 0 14); do printf 'W%d\t%s\tSCAPIS\twgs\t2015-03-01\n' "$i" "$(pseud "$i")"; done
    for i in 20 21 22; do printf 'G%d\t%s\tGMS-Stockholm\twgs\t2019-05-05\n' "$i" "$(pseud "$i")"; done
    for i in $(seq 0 4 29); do printf 'O%d\t%s\tLifeGene\tolink\t2015-09-01\n' "$i" "$(pseud "$i")"; done
} > samples.tsv
printf 'pseudonym\tpurpose\tstatus\tdate\n%s\tall\twithdrawn\t2024-01-01\n' "$(pseud 3)" > consent.tsv
run promise init st
run promise ingest population st pop.tsv
run promise ingest samples st samples.tsv
run promise ingest consent st consent.tsv

# counts (individual 3, a man with a SCAPIS sample, is withdrawn)
run promise count st
run promise count st --cohort 'sex=F'
run promise count st --cohort 'sex=M'
run promise count st --cohort 'not sex=F'
run promise count st --cohort 'SEX = f AND source:scapis'
run promise count st --cohort 'not (sex=M or not source:SCAPIS)'
run promise count st --cohort 'source:SCAPIS or source:GMS-Stockholm and sex=M'
run promise count st --cohort '(source:SCAPIS or source:GMS-Stockholm) and sex=M'
run promise count st --cohort 'assay:olink and not source:SCAPIS'
run promise count st --cohort 'alive' --ref-date 2026-01-01
run promise count st --cohort 'alive' --ref-date 2019-12-31
run promise count st --cohort 'age>=65' --ref-date 2026-01-01
run promise count st --cohort 'age>=18 and age<65' --ref-date 2026-01-01
run promise count st --cohort 'born:1950..1969'
run promise count st --cohort 'county:1 or county:25'
run promise count st --cohort 'assay:olink within 1 year after first source:SCAPIS'
run promise count st --cohort 'source:SCAPIS within 6 months before assay:olink'
run promise count st --cohort 'icd10:I21'
run promise count st --cohort 'sex=F and source:SCAPSI'

# breakdowns, steward (exact) and lower tiers
run promise count st --by sex
run promise count st --by county
run promise count st --by county --as-tier registered
run promise count st --by source --as-tier registered
run promise count st --by county,sex
run promise count st --by county,sex --as-tier registered
run promise count st --by age-band --ref-date 2026-01-01
run promise count st --cohort 'county:25' --as-tier registered
run promise count st --cohort 'county:07' --as-tier public
run promise count st --cohort 'sex=F' --by sex --json --as-tier registered --ref-date 2026-01-01
run promise count st --cohort 'county:25' --json --as-tier public --ref-date 2026-01-01
run promise count st --cohort 'sex=F' --as-tier steward

# errors
run promise count st --cohort 'sex=F and (alive or'
run promise count st --cohort 'age>50'
run promise count st --cohort 'sex=F && alive'
run promise count st --cohort 'omics:olink:IL6>'
run promise count st --by height
run promise count st --by sex,county,source
run promise count st --as-tier admin
run promise count st --as-tier project
run promise count st --ref-date 2026-02-30
run promise count st --ref-date yesterday
run promise count
run promise count st extra
run promise count nostore --cohort alive
