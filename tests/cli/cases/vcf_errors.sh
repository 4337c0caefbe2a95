# ingest vcf refusals: each names FILE:LINE (text) or FILE: record N (BCF) and a
# reason, exits 2, and leaves the store exactly as it was.
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
    printf '##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=1,length=248956422>\n##contig=<ID=2>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t%s\n' "$1"
}
mkstore st A:S1:M:01 B:S1:F:02 C:S2:F:
hdr $'A\tB' >ok.vcf
printf '1\t100\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n' >>ok.vcf
run promise ingest vcf st ok.vcf
# unsorted positions, and a contig that comes back
{ hdr $'A\tB'; printf '1\t200\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n1\t100\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'; } >unsorted.vcf
run promise ingest vcf st unsorted.vcf
{ hdr $'A\tB'; printf '1\t200\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n2\t100\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\nchr1\t300\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'; } >contigs.vcf
run promise ingest vcf st contigs.vcf
sed 's/^chr1/1/' contigs.vcf | bcftools view -Ob -o contigs.bcf
run promise ingest vcf st contigs.bcf
# a GT allele the record does not have; a malformed GT; too few columns
{ hdr $'A\tB'; printf '1\t300\t.\tA\tG\t.\t.\t.\tGT\t0/2\t1/1\n'; } >allele.vcf
run promise ingest vcf st allele.vcf
{ hdr $'A\tB'; printf '1\t300\t.\tA\tG\t.\t.\t.\tGT\t0/x\t1/1\n'; } >badgt.vcf
run promise ingest vcf st badgt.vcf
{ hdr $'A\tB'; printf '1\t300\t.\tA\tG\t.\t.\t.\tGT\t0/1\n'; } >cols.vcf
run promise ingest vcf st cols.vcf
# the same variant twice
{ hdr $'A\tB'; printf '1\t300\t.\tA\tG,T\t.\t.\t.\tGT\t0/1\t1/1\n1\t300\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'; } >dup.vcf
run promise ingest vcf st dup.vcf
# no GT in the header; sites only; not a VCF; missing file
{ printf '##fileformat=VCFv4.2\n##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\n1\t5\t.\tA\tG\t.\t.\t.\tDP\t3\n'; } >nogt.vcf
run promise ingest vcf st nogt.vcf
{ printf '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t5\t.\tA\tG\t.\t.\t.\n'; } >sites.vcf
run promise ingest vcf st sites.vcf
printf 'sample_id\tsex\nA\tM\n' >table.tsv
run promise ingest vcf st table.tsv
run promise ingest vcf st missing.vcf
# unknown samples (up to 5 named), --skip-unknown-samples, --source
hdr $'A\tX1\tX2\tX3\tX4\tX5\tX6' >unknown.vcf
printf '1\t400\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\t0/0\t0/0\t0/0\t0/0\n' >>unknown.vcf
run promise ingest vcf st unknown.vcf
run promise ingest vcf st unknown.vcf --skip-unknown-samples
{ hdr $'B\tC'; printf '1\t500\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'; } >src.vcf
run promise ingest vcf st src.vcf --source S1
run promise ingest vcf st src.vcf --source NOPE
# another reference build
{ hdr 'C' | sed 's/GRCh38/GRCh37/'; printf '1\t600\t.\tA\tG\t.\t.\t.\tGT\t0/1\n'; } >b37.vcf
run promise ingest vcf st b37.vcf
# usage errors
run promise ingest vcf st
run promise ingest vcf st ok.vcf --threads 0
# what a crashed ingest left behind is removed by the next one
touch st/gt/b000003-00000.gts.tmp-999-0 st/gt/b000003-00001.gts
{ hdr 'C'; printf '1\t700\t.\tA\tG\t.\t.\t.\tGT\t1/1\n'; } >c.vcf
run promise ingest vcf st c.vcf --source S2
# the store holds the good batches only
run promise freq st
run sqlite3 st/catalog.db "SELECT id, file, n_samples, n_records FROM gt_batch"
run ls st/gt
