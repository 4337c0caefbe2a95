# promise qtl on a tiny deterministic store: 40 people with a WGS sample
# and an "expr" sample (features G1..G3 and a covariate C1; G1 missing for
# two people). Usage and input errors, the output files and their
# columns, the cis windows (G3 has no variant in reach), strand-signed
# distances, --permute, --as-tier registered. One slope, SE and p are
# checked against a closed form computed here with awk; the numbers are
# checked against QTLtools and R in tests/oracle/qtl_qtltools.sh.
alph=abcdefghijklmnopqrstuvwxyz234567
pseud() { printf 'abcdef-%s%saaaaaaaaaaaaaaaaaaaaaaaa' "${alph:$(($1 / 32)):1}" "${alph:$(($1 % 32)):1}"; }
{
    printf 'pseudonym\tsex\tbirth_date\tcounty\n'
    for i in $(seq 0 39); do
        sex=F; [ $((i % 2)) = 0 ] && sex=M
        printf '%s\t%s\t19%02d-06-01\t01\n' "$(pseud "$i")" $sex $((30 + (i * 7) % 60))
    done
} > pop.tsv
{
    printf 'sample_id\tpseudonym\tsource\tassay\tcollection_date\n'
    for i in $(seq 0 39); do printf 'W%d\t%s\tSCAPIS\twgs\t2015-01-01\n' "$i" "$(pseud "$i")"; done
    for i in $(seq 0 39); do printf 'E%d\t%s\tSCAPIS\texpr\t2016-01-01\n' "$i" "$(pseud "$i")"; done
} > samples.tsv
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
# G1 = 0.5 x dosage of rs1 + a pattern; G2 a pattern; C1 a covariate
awk -F'\t' '$1 == "22" && $2 == 16050100 { for (i = 10; i <= NF; i++) d[i - 10] = ($i == "0/1") + 2 * ($i == "1/1") }
    END {
        printf "feature_id"; for (i = 0; i < 40; i++) printf "\tE%d", i; printf "\n"
        printf "G1"; for (i = 0; i < 40; i++) printf "\t%s", (i == 3 || i == 11) ? "NA" : sprintf("%.4f", 0.5 * d[i] + ((i * 13) % 9) / 8); printf "\n"
        printf "G2"; for (i = 0; i < 40; i++) printf "\t%.4f", ((i * 7) % 11) / 4; printf "\n"
        printf "G3"; for (i = 0; i < 40; i++) printf "\t%.4f", ((i * 5) % 13) / 4; printf "\n"
        printf "C1"; for (i = 0; i < 40; i++) printf "\t%.4f", ((i * 3) % 17) / 8; printf "\n"
    }' gt.vcf > expr.tsv
printf '22\t16050149\t16050150\tG1\t+\nchr22\t16051199\t16051200\tG2\t-\n22\t29999999\t30000000\tG3\t+\n' > f.bed
promise init st >/dev/null
promise ingest population st pop.tsv >/dev/null
promise ingest samples st samples.tsv >/dev/null
promise ingest omics st expr.tsv --assay expr >/dev/null
promise ingest vcf st gt.vcf >/dev/null 2>&1
# usage and input errors
run promise qtl
run promise qtl st --features-bed f.bed -o out
run promise qtl st --assay expr -o out
run promise qtl st --assay expr --features-bed f.bed
run promise qtl st --assay expr --features-bed f.bed --cis-window -5 -o out
run promise qtl st --assay expr --features-bed f.bed --normalize zscore -o out
run promise qtl st --assay expr --features-bed f.bed --sample all -o out
run promise qtl st --assay expr --features-bed f.bed --model glm -o out
run promise qtl st --assay expr --features-bed f.bed --permute 0 -o out
run promise qtl st --assay expr --features-bed f.bed --covar height -o out
run promise qtl st --assay expr --features-bed f.bed --covar sex,sex -o out
run promise qtl st --assay expr --features-bed nope.bed -o out
printf '22\t100\t50\tX1\n' > bad1.bed
run promise qtl st --assay expr --features-bed bad1.bed -o out
printf '22\t100\t150\tX1\t*\n' > bad2.bed
run promise qtl st --assay expr --features-bed bad2.bed -o out
printf '22\t100\t150\tG1\n22\t200\t250\tG1\n' > bad3.bed
run promise qtl st --assay expr --features-bed bad3.bed -o out
printf '22\t100\t150\tNOPE\n' > bad4.bed
run promise qtl st --assay expr --features-bed bad4.bed -o out
run promise qtl st --assay nope --features-bed f.bed -o out
run promise qtl st --assay expr --features-bed f.bed --covar omics:expr:C1 --as-tier public -o out
# a run: timing masked
qt() { promise qtl "$@" 2>&1 | sed -E 's/ in [0-9.]+ s( \([0-9]+ pairs\/s\))?$/ (time)/'; return "${PIPESTATUS[0]}"; }
export -f qt
run qt st --assay expr --features-bed f.bed --cis-window 1000 -o a
run cat a.best.tsv
run cut -f1-8 a.nominal.tsv
# closed form for G1 x rs1 (no covariates; missing G1 values mean-imputed)
awk -F'\t' 'NR == FNR { if ($1 == "22" && $2 == 16050100) for (i = 10; i <= NF; i++) g[i - 10] = ($i == "0/1") + 2 * ($i == "1/1"); next }
    $1 == "G1" { for (i = 2; i <= NF; i++) if ($i != "NA") { s += $i; c++ }
        for (i = 2; i <= NF; i++) y[i - 2] = $i == "NA" ? s / c : $i
        n = NF - 1; for (i = 0; i < n; i++) { mg += g[i] / n; my += y[i] / n }
        for (i = 0; i < n; i++) { sxx += (g[i] - mg)^2; sxy += (g[i] - mg) * (y[i] - my); syy += (y[i] - my)^2 }
        b = sxy / sxx; se = sqrt((syy - b * sxy) / (n - 2) / sxx)
        printf "%.6g\t%.6g\t%.6g\n", b, se, b / se }' gt.vcf expr.tsv > want.txt
awk -F'\t' '$1 == "G1" && $2 == "rs1" { printf "%.6g\t%.6g\t%.6g\n", $9, $10, $11 }' a.nominal.tsv > got.txt
check "G1 x rs1 slope, SE and t equal the closed form" cmp -s want.txt got.txt
check "n of G1 x rs1 is 38 (two values missing)" test "$(awk -F'\t' '$1 == "G1" && $2 == "rs1" { print $8 }' a.nominal.tsv)" = 38
# covariates, the QTLtools model, transforms, permutations
run qt st --assay expr --features-bed f.bed --covar sex,omics:expr:C1 --normalize int --permute 50 --seed 3 -o b
run cut -f1,6-8,13,18 b.best.tsv
check "p_emp and p_beta are probabilities" awk -F'\t' 'NR > 1 && $6 > 0 { if (!($22 > 0 && $22 <= 1 && $23 >= 0 && $23 <= 1)) exit 1 }' b.best.tsv
run qt st --assay expr --features-bed f.bed --covar omics:expr:C1 --model qtltools --cis-window 0 -o c
run cut -f1-8 c.nominal.tsv
# registered tier: pairs whose variant has 1..4 carriers are withheld
run qt st --assay expr --features-bed f.bed --as-tier registered -o r
run cut -f1-2 r.nominal.tsv
