# The audit hook of the data commands: count, omics and gwas log their
# request before any work and a result entry (outcome, individuals,
# bytes, art. 15 list for record-level omics) before the answer; refusals
# and errors are logged too; a log that cannot be written means no
# answer. endpoint reads only the endpoint library (no store): not logged.
# Store: the tiny one of gwas_basic.sh (60 people, 40 WGS, 20 olink).
mask() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/local:[^\t]+/local:USER/g'; }
export -f mask
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
gw() { promise gwas "$@" 2>&1 | sed -E 's/, [0-9.]+ s( \([0-9]+ variants\/s\))?$/, (time)/'; return "${PIPESTATUS[0]}"; }
export -f gw
run promise audit list st

run promise count st --cohort 'icd10:I21' --by sex
run promise omics st --assay olink --feature IL6 --sample first --cohort 'sex=F'
run promise omics st --assay olink --feature IL6 --summary
run promise omics st --assay olink --feature IL6 --trajectory --as-tier registered
run promise omics st --assay olink --feature NOPE
run promise omics st --assay olink --list-features
run gw st --pheno endpoint:I9_MI --covar sex --no-plots -o mi
run gw st --pheno icd10:I21 --covar age --as-tier public -o pub
run promise endpoint show I9_MI
run bash -c 'promise audit list st | mask'
run promise audit verify st

# the log cannot take the result entry: no answer, no output files
cp -r st r
sqlite3 r/audit/audit.db "CREATE TRIGGER t_no_result BEFORE INSERT ON audit WHEN NEW.kind = 'result' BEGIN SELECT RAISE(ABORT, 'audit disk full'); END"
run promise omics r --assay olink --feature IL6 --sample first
run promise count r --cohort 'icd10:I21'
run gw r --pheno endpoint:I9_MI --covar sex -o nolog
check "no gwas output without a result entry" bash -c '! ls nolog* 2>/dev/null | grep -q .'
# ... nor the request entry: nothing is computed
sqlite3 r/audit/audit.db "DROP TRIGGER t_no_result; CREATE TRIGGER t_no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit disk full'); END"
run promise omics r --assay olink --feature IL6 --summary
run gw r --pheno endpoint:I9_MI --covar sex -o nolog2
check "no gwas output without a request entry" bash -c '! ls nolog2* 2>/dev/null | grep -q .'
