# two batches from different sources with overlapping sites; the second comes
# with --callable regions, so its samples are hom-ref where it has no record.
# Run on VCF and BCF input (same transcript).
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
{ hdr $'A\tB'
  printf 'chr1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'
  printf 'chr1\t200\t.\tC\tT,G\t.\t.\t.\tGT\t1/2\t0/0\n'
  printf 'chr1\t400\t.\tT\tC\t.\t.\t.\tGT\t0/1\t./.\n'
  printf 'chr2\t10\t.\tG\tA\t.\t.\t.\tGT\t0/1\t0/0\n'; } >a.vcf
{ hdr $'C\tD'
  printf 'chr1\t100\trs1\tA\tG\t.\t.\t.\tGT\t1/1\t0/1\n'
  printf 'chr1\t150\t.\tA\tC\t.\t.\t.\tGT\t0/1\t0/1\n'
  printf 'chr1\t200\t.\tC\tT\t.\t.\t.\tGT\t0/1\t0/0\n'
  printf 'chr2\t20\t.\tG\tC\t.\t.\t.\tGT\t1|0\t0|0\n'; } >b.vcf
printf 'chr1\t0\t300\nchr1\t350\t450\n' >b.bed
bcftools view -Ob -o a.bcf a.vcf
bcftools view -Ob -o b.bcf b.vcf
for fmt in vcf bcf; do
    echo "## input: $fmt"
    rm -rf st a.gt b.gt
    ln -s "a.$fmt" a.gt
    ln -s "b.$fmt" b.gt
    mkstore st A:S1:M:01 B:S1:F:02 C:S2:F:01 D:S2:M:
    run promise ingest vcf st a.gt --source S1
    run promise ingest vcf st b.gt --source S2 --callable b.bed
    run promise freq st
    run promise freq st --by source
    run promise freq st --by county --region chr1:100-200
    run promise view st
done
