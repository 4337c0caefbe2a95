# view output formats (-O v|z|b, -o), cohorts and withdrawn individuals in view
# and freq.
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
##contig=<ID=22,length=51304566>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	A	B	C	D
22	16050075	rs1	A	G	.	PASS	.	GT	0|1	1|1	0|0	0|1
22	16050115	.	G	A,T	.	PASS	.	GT	0|2	1|0	0|0	2|2
22	16050213	.	C	T	.	PASS	.	GT	0|0	0|0	0|1	.|.
VCF
mkstore st A:S1:M:01 B:S1:F:02 C:S2:F: D:S2:M:03
run promise ingest vcf st in.vcf
run promise view st -O z -o out.vcf.gz
run promise view st -O b -o out.bcf
run promise view st -O v -o out.vcf
check "bgzipped VCF" bash -c "bcftools query -f '[%GT ]\n' out.vcf.gz | cmp -s - <(bcftools query -f '[%GT ]\n' in.vcf)"
check "BCF" bash -c "bcftools query -f '[%GT ]\n' out.bcf | cmp -s - <(bcftools query -f '[%GT ]\n' in.vcf)"
check "VCF" bash -c "bcftools query -f '[%GT ]\n' out.vcf | cmp -s - <(bcftools query -f '[%GT ]\n' in.vcf)"
run bcftools view -H out.bcf
run promise view st --region chr22:16050100-16050200 --cohort sex=F
run promise freq st --cohort sex=F
run promise freq st --cohort 'not sex=F'
# a withdrawn individual disappears from every answer
sqlite3 st/catalog.db "UPDATE individual SET withdrawn = 1 WHERE idx = 1"
run promise freq st
run promise view st --region 22:16050075
run promise view st -O x
run promise freq st --by colour
run promise freq st --region 22:200-100
