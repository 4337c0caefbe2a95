# promise phewas on `promise simulate` data (6000 people, 300 variants,
# seed 4): usage and input errors, a small run (rows grouped by ICD-10
# chapter, endpoints below --min-cases left out), the registered tier, a
# custom endpoint file, pcN covariates. Numbers are checked against R in
# tests/oracle/phewas_r.sh, not here.
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
key k.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
promise simulate D --individuals 6000 --variants 300 --seed 4 2>/dev/null
promise init st >/dev/null
promise ingest population st D/population.tsv --key k.key >/dev/null
promise ingest samples st D/samples.tsv --key k.key >/dev/null
promise ingest registry st D/registry.tsv --key k.key >/dev/null
promise ingest vcf st D/genotypes.vcf.gz >/dev/null 2>&1
# a common biallelic SNP of the simulated VCF
V=$(bcftools view -H -m2 -M2 -v snps -q 0.2:minor D/genotypes.vcf.gz | awk '{ print $1 ":" $2 ":" $4 ":" $5; exit }')
# usage and input errors
run promise phewas
run promise phewas st -o out
run promise phewas st --variant "$V"
run promise phewas st --variant 22:abc:A:G -o out
run promise phewas st --variant 22:100 -o out
run promise phewas st --variant 22:1:A:G -o out
run promise phewas st --variant "$V" --min-cases 0 -o out
run promise phewas st --variant "$V" --covar height -o out
run promise phewas st --variant "$V" --covar pc1 -o out
run promise phewas st --variant "$V" --as-tier public -o out
run promise phewas st --variant "$V" --endpoints nofile.tsv -o out
check "nothing written on errors" test ! -e out.tsv
# a run: rows grouped by chapter, with counts and TEST
run promise phewas st --variant "$V" --covar age,sex --ref-date 2026-01-01 --min-cases 15 -o pw
check "a table, a plot and a log" test -s pw.tsv -a -s pw.svg -a -s pw.log
run grep -E '^(variant|covariates|test|tier|tested)' pw.log
run cut -f1-5,11 pw.tsv
check "one triangle per row" test "$(grep -c '<path' pw.svg)" = "$(($(wc -l <pw.tsv) - 1))"
# registered tier: rows with 1..4 cases or carriers withheld
run promise phewas st --variant "$V" --covar sex --min-cases 3 --as-tier registered --no-plot -o reg
run cut -f1-5 reg.tsv
run grep -E '^(tier|withhold_below|withheld)' reg.log
check "no plot with --no-plot" test ! -e reg.svg
# a custom endpoint library (format of docs/registry.md)
promise endpoint list > /dev/null 2>&1
printf '#promise-endpoints 1\nname\tversion\tdescription\tsex\tmin_age\tmax_age\tmin_events\tinclude\texclude\nANY_I\t1\tAny circulatory diagnosis\t\t\t\t1\ticd10:I00-I99\t\nDRUG_N02\t1\tAnalgesics\t\t\t\t1\tatc:N02\t\n' >ep.tsv
run promise phewas st --variant "$V" --endpoints ep.tsv --no-plot -o custom
run cut -f1-5,11,12 custom.tsv
# principal components as covariates
promise pca st -k 2 >/dev/null 2>&1
run promise phewas st --variant "$V" --covar sex,pc1,pc2 --min-cases 15 --no-plot -o withpc
check "same endpoints with PCs" test "$(cut -f1 withpc.tsv)" = "$(cut -f1 pw.tsv)"
# --firth: Firth-penalised regression on every row
run promise phewas st --variant "$V" --covar age,sex --ref-date 2026-01-01 --min-cases 15 --firth --no-plot -o fi
run cut -f1,11 fi.tsv
check "--firth changes BETA, not the endpoints" test "$(cut -f1 fi.tsv)" = "$(cut -f1 pw.tsv)" -a "$(cut -f6 fi.tsv)" != "$(cut -f6 pw.tsv)"
