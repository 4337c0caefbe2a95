# promise pca on `promise simulate` data (4000 people, 1500 variants, seed
# 3): usage errors, refusal below the project tier, a small run, the
# stored run as gwas covariates pc1..pck. Numbers are checked against
# plink2 in tests/oracle/pca_plink2.sh, not here.
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
key k.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
promise simulate D --individuals 4000 --variants 1500 --seed 3 2>/dev/null
promise init st >/dev/null
promise ingest population st D/population.tsv --key k.key >/dev/null
promise ingest samples st D/samples.tsv --key k.key >/dev/null
promise ingest vcf st D/genotypes.vcf.gz >/dev/null 2>&1
# usage and input errors
run promise pca
run promise pca st -k 0
run promise pca st -k 101
run promise pca st --maf 0.6
run promise pca st --ld-r2 0
run promise pca st --ld-window 1
run promise pca st -o ''
run promise pca st extra
run promise pca nostore
run promise pca st --cohort 'sex=' -k 2
run promise pca st --cohort 'age>=200' -k 2
run promise pca st -k 50 --maf 0.45
# pcN before any PCA
run promise gwas st --pheno sex=M --covar pc1 --no-plots -o g0
# refused below the project tier: nothing computed, nothing written
run promise pca st --as-tier registered -o reg
check "no eigenvec at the registered tier" test ! -e reg.eigenvec
# a run (time masked)
pc() { promise pca "$@" 2>&1 | sed -E 's/, [0-9.]+ s$/, (time)/'; return "${PIPESTATUS[0]}"; }
export -f pc
run pc st -k 3 --seed 7 -o pc
run head -c 40 pc.eigenvec
# genotyped individuals, counted from the simulated files
bcftools query -l D/genotypes.vcf.gz >cols.txt
n_ind=$(awk -F'\t' 'NR == FNR { if (FNR > 1) pn[$1] = $2; next } !seen[pn[$1]]++' D/samples.tsv cols.txt | wc -l)
check "eigenvec: a header and one row per genotyped individual" test "$(wc -l <pc.eigenvec)" = $((n_ind + 1))
check "eigenvec: 4 columns" test "$(awk -F'\t' '{ print NF }' pc.eigenvec | sort -u)" = 4
check "eigenval: 3 lines" test "$(wc -l <pc.eigenval)" = 3
check "variants: as many as the run reports" test "$(wc -l <pc.variants)" -gt 100
check "no pseudonym-free rows" test "$(cut -f1 pc.eigenvec | grep -vc -- '-')" = 1
# exact and approximate agree on the eigenvalues printed
run pc st -k 3 --exact --no-prune
# the stored run (the latest: k = 3) gives gwas covariates pc1..pc3
gw() { promise gwas "$@" 2>&1 | sed -E 's/, [0-9.]+ s( \([0-9]+ variants\/s\))?$/, (time)/'; return "${PIPESTATUS[0]}"; }
export -f gw
run gw st --pheno sex=M --covar pc1,pc2,pc3 --no-plots -o g1
run grep '^covariates' g1.log
run promise gwas st --pheno sex=M --covar pc4 --no-plots -o g2
