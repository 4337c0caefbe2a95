# ingest vcf + freq + view on a small hand-written VCF, run once on the VCF
# and once on a BCF made from it: both must print the same transcript.
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
cat > in.vcf <<'VCF'
##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chrX,length=156040895>
##contig=<ID=chrM,length=16569>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	A	B	C	D
chr1	100	rs1	A	G	.	PASS	.	GT	0/1	1|1	./.	0/0
chr1	200	.	C	T,G	.	PASS	.	GT	1/2	0/0	2/2	0|2
chr1	200	.	C	CA	.	PASS	.	GT	0/0	0/1	0/0	./.
chr1	300	.	G	.	.	PASS	.	GT	0/0	0/0	0	0/0
chr1	400	.	T	C	.	PASS	.	GT:DP	0/1:3	.:4	1:5	0/.:2
chrX	50	.	A	T	.	.	.	GT	0|.	.|1	1	0
chrX	60	.	AT	A	.	.	.	GT	0/1	1	0/0/1	.
chrM	70	.	A	G	.	.	.	GT	1	0	.	1
VCF
bcftools view -Ob -o in.bcf in.vcf
for fmt in vcf bcf; do
    echo "## input: $fmt"
    rm -rf st input.gt
    ln -s "in.$fmt" input.gt
    mkstore st A:S1:M:01 B:S1:F:02 C:S2:F: D:S2:M:03
    run promise ingest vcf st input.gt
    run promise freq st
    run promise freq st --region chrX
    run promise freq st --region chr1:150-300 --by sex
    run promise freq st --region 1:200 -o f.tsv
    run cat f.tsv
    run promise view st --region chrMT
    promise view st >"out.$fmt.vcf" 2>/dev/null
    bcftools query -f '[%GT ]\n' "in.$fmt" >gt.in
    bcftools query -f '[%GT ]\n' "out.$fmt.vcf" >gt.out
    check "view round-trips GT exactly ($fmt input)" cmp -s gt.in gt.out
done
check "VCF and BCF input give the same view" cmp -s out.vcf.vcf out.bcf.vcf
