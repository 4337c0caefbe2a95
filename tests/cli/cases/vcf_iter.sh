# site iterator (pm_gt_iter_*, via the test-only freq --iter-debug) against
# freq and view on a three-batch store: a sample in two batches (missing in
# one), callable regions, multi-allelic records with different ALT lists,
# haploid calls; everyone and a cohort. Run on VCF and BCF input.
mkstore() { # STORE SAMPLE:SOURCE:SEX:COUNTY...: one individual per sample (direct catalog rows)
    local st=$1 sql="BEGIN;" i=0 sid src sex county
    shift
    promise init "$st" >/dev/null || return 1
    for spec in "$@"; do
        IFS=: read -r sid src sex county <<<"$spec"
        sql+="INSERT OR IGNORE INTO source(name) VALUES('$src');INSERT OR IGNORE INTO assay(name) VALUES('wgs');"
        sex=${sex:+\'$sex\'} county=${county:+\'$county\'}
        sql+="INSERT INTO individual(idx,pseudonym,sex,county) VALUES($i,'p$i',${sex:-NULL},${county:-NULL});"
        sql+="INSERT INTO sample(sample_id,individual,source,assay) SELECT '$sid',$i,s.id,a.id FROM source s, assay a WHERE s.name='$src' AND a.name='wgs';"
        i=$((i + 1))
    done
    printf '%s COMMIT;\n' "$sql" | sqlite3 "$st/catalog.db"
}
hdr() {
    printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##contig=<ID=chr2,length=1000>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t%s\n' "$1"
}
cd "$T" || exit 1
{ hdr $'A\tB\tE'
  printf 'chr1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t./.\n'
  printf 'chr1\t200\t.\tC\tT,G\t.\t.\t.\tGT\t1/2\t0/0\t0/1\n'
  printf 'chr1\t300\t.\tG\tA\t.\t.\t.\tGT\t./.\t0/1\t1\n'
  printf 'chr1\t400\t.\tT\tC\t.\t.\t.\tGT\t0/1\t./.\t1|1\n'
  printf 'chr2\t10\t.\tG\tA\t.\t.\t.\tGT\t0/1\t0/0\t.\n'; } >a.vcf
{ hdr $'C\tD'
  printf 'chr1\t100\trs1\tA\tG\t.\t.\t.\tGT\t1/1\t0/1\n'
  printf 'chr1\t150\t.\tA\tC\t.\t.\t.\tGT\t0/1\t./.\n'
  printf 'chr1\t400\t.\tT\tC\t.\t.\t.\tGT\t1/1\t0/1\n'
  printf 'chr2\t20\t.\tG\tC\t.\t.\t.\tGT\t1|0\t0|0\n'; } >b.vcf
{ hdr $'A\tE'
  printf 'chr1\t100\trs1\tA\tG\t.\t.\t.\tGT\t1/1\t0/1\n'
  printf 'chr1\t200\t.\tC\tT\t.\t.\t.\tGT\t0/0\t1/1\n'
  printf 'chr1\t300\t.\tG\tA\t.\t.\t.\tGT\t0/1\t./.\n'
  printf 'chr1\t500\t.\tA\tT\t.\t.\t.\tGT\t0/1\t0/0\n'; } >c.vcf
printf 'chr1\t0\t450\n' >b.bed
for f in a b c; do bcftools view -Ob -o $f.bcf $f.vcf; done
map="A=0 B=1 C=2 D=3 E=4"
for fmt in vcf bcf; do
    echo "## input: $fmt"
    rm -rf st
    mkstore st A:S1:M:01 B:S1:F:02 C:S2:F:01 D:S2:M: E:S1:F:03
    run promise ingest vcf st a.$fmt --source S1
    run promise ingest vcf st b.$fmt --source S2 --callable b.bed
    run promise ingest vcf st c.$fmt --source S1
    run promise freq st --iter-debug
    promise freq st >f.tsv
    promise view st >v.vcf
    promise freq st --iter-debug >i.tsv
    check "iterator agrees with freq and view" python3 "$SRC/tests/cli/iter_check.py" i.tsv f.tsv v.vcf $map
    run promise freq st --iter-debug --cohort sex=F --region chr1:150-450
    promise freq st --cohort sex=F --region chr1:150-450 >f.tsv
    promise view st --cohort sex=F --region chr1:150-450 >v.vcf
    promise freq st --iter-debug --cohort sex=F --region chr1:150-450 >i.tsv
    check "iterator agrees with freq and view (cohort, region)" python3 "$SRC/tests/cli/iter_check.py" i.tsv f.tsv v.vcf $map
done
