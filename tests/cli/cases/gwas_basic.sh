# promise gwas on a tiny deterministic store: 60 people, 40 with a WGS
# sample (sources SCAPIS and LifeGene), 20 of them with an olink sample
# carrying a quantitative feature; MI events for 12. Usage errors, the
# output files, header, row counts and TEST per row; numbers are checked
# against plink2 and R in tests/oracle/gwas_plink2.sh, not here.
alph=abcdefghijklmnopqrstuvwxyz234567
pseud() { printf 'abcdef-%s%saaaaaaaaaaaaaaaaaaaaaaaa' "${alph:$(($1 / 32)):1}" "${alph:$(($1 % 32)):1}"; }
{
    printf 'pseudonym\tsex\tbirth_date\tcounty\n'
    for i in $(seq 0 59); do
        sex=F; [ $((i % 2)) = 0 ] && sex=M
        printf '%s\t%s\t19%02d-06-01\t01\n' "$(pseud "$i")" $sex $((30 + (i * 7) % 60))
    done
} > pop.tsv
{
    printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
    for i in $(seq 0 39); do
        src=SCAPIS; [ $((i % 3)) = 0 ] && src=LifeGene
        printf 'W%d\t%s\t%s\twgs\t2015-01-01\n' "$i" "$(pseud "$i")" $src
    done
    for i in $(seq 0 19); do printf 'O%d\t%s\tSCAPIS\tolink\t2016-01-01\n' "$i" "$(pseud "$i")"; done
} > samples.tsv
{
    printf 'pseudonym\tdate\tregister\tcode\n'
    for i in 1 4 6 9 12 15 17 20 23 28 31 36; do printf '%s\t2018-01-01\tpatient\tI21.9\n' "$(pseud "$i")"; done
} > events.tsv
{
    printf 'feature_id'; for i in $(seq 0 19); do printf '\tO%d' "$i"; done; printf '\n'
    printf 'IL6'; for i in $(seq 0 19); do printf '\t%d.%d' $(((i * 7) % 5)) $(((i * 3) % 10)); done; printf '\n'
} > olink.tsv
# six sites, one multi-allelic; genotypes from a fixed pattern, a few missing
{
    printf '##fileformat=VCFv4.2\n##contig=<ID=22,length=50818468>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT'
    for i in $(seq 0 39); do printf '\tW%d' "$i"; done
    printf '\n'
    for v in 1 2 3 4 5; do
        printf '22\t%d\trs%d\tA\tG\t.\tPASS\t.\tGT' $((16050000 + v * 100)) $v
        for i in $(seq 0 39); do
            x=$(((i * (v + 3) + v * v) % 7))
            g=0/0; [ $x = 1 ] && g=0/1; [ $x = 2 ] && g=0/1; [ $x = 3 ] && g=1/1
            [ $v = 5 ] && [ $x = 4 ] && g=./.
            [ $v = 4 ] && g=0/0 && [ "$i" = 7 ] && g=0/1
            printf '\t%s' $g
        done
        printf '\n'
    done
    printf '22\t16051000\t.\tC\tT,G\t.\tPASS\t.\tGT'
    for i in $(seq 0 39); do
        g=0/0; [ $((i % 5)) = 1 ] && g=0/1; [ $((i % 7)) = 2 ] && g=0/2
        printf '\t%s' $g
    done
    printf '\n'
} > gt.vcf
promise init st >/dev/null
promise ingest population st pop.tsv >/dev/null
promise ingest samples st samples.tsv >/dev/null
promise ingest registry st events.tsv >/dev/null
promise ingest omics st olink.tsv --assay olink >/dev/null
promise ingest vcf st gt.vcf >/dev/null 2>&1
# usage and input errors
run promise gwas
run promise gwas st --covar age -o out
run promise gwas st --pheno icd10:I21 -o out
run promise gwas st --pheno icd10:I21 --covar age
run promise gwas st --pheno icd10:I21 --covar age,height -o out
run promise gwas st --pheno icd10:I21 --covar age,age -o out
run promise gwas st --pheno icd10:I21 --covar pc1,pc2 -o out
run promise gwas st --pheno endpoint:NOPE --covar age -o out
run promise gwas st --pheno 'icd10:I21 and (' --covar age -o out
run promise gwas st --pheno omics:olink:NOPE --covar age -o out
run promise gwas st --pheno 'sex=M or sex=F' --covar age -o out
run promise gwas st --pheno icd10:I21 --pheno icd10:I21 --covar age -o out
run promise gwas st --pheno icd10:I21 --covar age --threads 0 -o out
run promise gwas st --pheno icd10:I21 --covar age --as-tier public -o out
# a binary phenotype: SCORE or FIRTH per row, timing masked
gw() { promise gwas "$@" 2>&1 | sed -E 's/, [0-9.]+ s( \([0-9]+ variants\/s\))?$/, (time)/'; return "${PIPESTATUS[0]}"; }
export -f gw
run gw st --pheno endpoint:I9_MI --covar age,sex,source --ref-date 2026-01-01 -o mi
check "one .tsv, two plots and a log" test -s mi.tsv -a -s mi.manhattan.svg -a -s mi.qq.svg -a -s mi.log
run cut -f1-8 mi.tsv
run grep -c '<circle' mi.manhattan.svg
run grep -E '^(covariates|variants|pheno)' mi.log
# two phenotypes in one pass: one file per phenotype
run gw st --pheno omics:olink:IL6 --pheno icd10:I21 --covar sex --threads 2 --no-plots -o two
run ls
run cut -f1-8 two.olink_IL6.tsv
check "the I21 cohort expression gives the same rows as endpoint I9_MI without covariates age, source" test "$(wc -l < two.pheno2.tsv)" = "$(wc -l < mi.tsv)"
# a cohort and a region
run gw st --pheno icd10:I21 --covar '' --cohort source:SCAPIS --region 22:16050200-16050400 --no-plots -o sub
run cut -f1-8 sub.tsv
# registered tier: rows with 1..4 case or control carriers are withheld
run gw st --pheno icd10:I21 --covar sex --as-tier registered --no-plots -o reg
run cut -f1-8 reg.tsv
