# compact: the withdrawn's genotype calls, omics values and registry events
# physically removed; every answer unchanged (docs/access.md). The bytes
# check is black-box: a copy of the store in which the withdrawal flag is
# flipped back by hand (sqlite3) shows the person's data before compact --
# equal to the ingested VCF by bcftools -- and nothing after it.
promise simulate data --individuals 300 --variants 300 --seed 5 >/dev/null 2>&1
promise init s >/dev/null
promise keygen k.key >/dev/null 2>&1
promise ingest population s data/population.tsv --key k.key 2>/dev/null
promise ingest samples s data/samples.tsv --key k.key 2>/dev/null
promise ingest registry s data/registry.tsv --key k.key 2>/dev/null
promise ingest vcf s data/genotypes.vcf.gz 2>/dev/null
promise ingest omics s data/olink.tsv --assay olink 2>/dev/null
promise project add s p --sources "$(cut -f3 data/samples.tsv | sed 1d | sort -u | paste -sd,)" \
    --data-types genotypes,registry,omics --purpose DUO:0000018 --expires 2099-12-31 >/dev/null
# X has an array sample (genotypes) and an olink sample (omics)
X=$(awk -F'\t' 'NR>1{a[$2]=a[$2]" "$4} END{for(p in a) if(a[p]~/array/ && a[p]~/olink/) print p}' data/samples.tsv | sort | head -1)
XS=$(awk -F'\t' -v p="$X" '$2==p && $4=="array"{print $1}' data/samples.tsv)
FEAT=$(promise omics s --assay olink --list-features 2>/dev/null | awk 'NR==2{print $1}')
printf '%s\n' "$X" > x.pnr

answers() { # answers DIR [STORE]: every answer a user can get, into DIR/
    local st=${2:-s}
    mkdir -p "$1"
    promise count $st > "$1/count"
    promise count $st --cohort 'icd10:I or atc:C' --by sex > "$1/count_by"
    promise freq $st > "$1/freq"
    promise view $st 2>/dev/null | grep -v '^##' > "$1/view"
    promise omics $st --assay olink --feature "$FEAT" > "$1/omics"
    promise gwas $st --pheno 'sex=F' --covar '' -o "$1/gwas" >/dev/null 2>&1
    rm -rf "$1/export"
    promise export $st --project p -o "$1/export" >/dev/null
    rm -f "$1/export/MANIFEST.tsv" "$1/gwas.log"
}
export -f answers
# resurrect DIR: a copy of s with every withdrawal undone by hand, exported
resurrect() {
    rm -rf "$1" && cp -r s "$1" && rm -f "$1/write.lock"
    sqlite3 "$1/catalog.db" "UPDATE individual SET withdrawn = 0; DELETE FROM withdrawal;"
    promise export "$1" --project p -o "$1.x" >/dev/null
    promise view "$1" 2>/dev/null > "$1.vcf"
}
export -f resurrect
# xdata DIR: what the resurrected copy holds of X
xdata() {
    local id
    id=$(comm -13 <(cut -f1 ans1/export/individuals.tsv | sort) <(cut -f1 "$1.x/individuals.tsv" | sort))
    echo "registry events: $(awk -F'\t' -v i="$id" '$1==i' "$1.x/registry.tsv" | wc -l)"
    echo "omics values: $(awk -F'\t' -v i="$id" '$1==i && $5!="NA"' "$1.x/omics.tsv" | wc -l)"
    echo "called genotypes: $(bcftools query -s "$XS" -f '[%GT\n]' "$1.vcf" | grep -cv '^\./\.$')"
}
export -f xdata

run bash -c 'promise forget s --key k.key "$(cat x.pnr)"'
answers ans1
cp -r s s0
resurrect before
run xdata before
check "before compact the bytes are there, equal to the ingested VCF" bash -c \
    "diff <(bcftools query -s $XS -f '%CHROM:%POS:%REF:%ALT [%GT]\n' data/genotypes.vcf.gz | sed 's/|/\//g') \
          <(bcftools query -s $XS -f '%CHROM:%POS:%REF:%ALT [%GT]\n' before.vcf | sed 's/|/\//g')"
ls s/gt s/omics | sort > files0

run promise compact s
run bash -c 'ls s/gt s/omics | grep -c "\.c[0-9]*\."'
check "the old files are gone" bash -c '! ls s/gt s/omics | grep -qxFf <(grep -E "gts|pmo" files0)'
answers ans2
check "every answer is unchanged" diff -r ans1 ans2
resurrect after
run xdata after
check "after compact the withdrawal flag alone brings nothing back" bash -c \
    "[ \$(bcftools query -s $XS -f '[%GT\n]' after.vcf | sort -u) = './.' ]"
check "other people's calls are untouched" bash -c \
    "diff <(bcftools view -s ^$XS before.vcf | grep -v '^##') <(bcftools view -s ^$XS after.vcf | grep -v '^##')"
run sqlite3 s/catalog.db "SELECT individual, compacted FROM withdrawal"
run promise compact s

# a kill -9 at any moment leaves the store before or after, and answers unchanged
kill_check() {
    local d n=0
    # crash points 1-5 of src/access/compact.c (PM_TEST_CRASH_AT), then
    # kill -9 after a delay
    for d in point:1 point:2 point:3 point:4 point:5 0.05 0.15 0.3; do
        rm -rf k && cp -r s0 k
        if [ "${d#point:}" != "$d" ]; then
            (PM_TEST_CRASH_AT=compact:${d#point:} "$PROMISE" compact k >/dev/null 2>&1) 2>/dev/null
        else
            "$PROMISE" compact k >/dev/null 2>&1 &
            sleep $d
            kill -9 $! 2>/dev/null
            wait $! 2>/dev/null
        fi 2>/dev/null
        local c
        c=$(sqlite3 k/catalog.db "SELECT compacted FROM withdrawal")
        answers ansk k
        diff -r ans1 ansk >/dev/null || { echo "answers differ after kill at $d s (compacted=$c)"; return 1; }
        # before: the old files are referenced; after: the new ones
        local ref
        ref=$(sqlite3 k/catalog.db "SELECT file FROM gt_segment UNION ALL SELECT file FROM omics_batch" | grep -c '\.c[0-9]*\.')
        { [ "$c" = 0 ] && [ "$ref" = 0 ]; } || { [ "$c" = 1 ] && [ "$ref" -gt 0 ]; } ||
            { echo "half-compacted after kill at $d s: compacted=$c, $ref new files"; return 1; }
        [ "$c" = 1 ] && n=$((n + 1))
        promise compact k >/dev/null 2>&1 || { echo "compact after kill at $d s failed"; return 1; }
        answers ansk k
        diff -r ans1 ansk >/dev/null || { echo "answers differ after re-compaction"; return 1; }
        diff <(ls k/gt k/omics | grep -E 'gts|pmo' | sort) \
             <(sqlite3 k/catalog.db "SELECT file FROM gt_segment UNION ALL SELECT file FROM omics_batch" | sort) >/dev/null ||
            { echo "files left behind after kill at $d s"; return 1; }
    done
    echo "$n of 8 kills came after the commit" >kills.txt
    [ "$n" -ge 2 ] || { echo "only $n crashes after the commit"; return 1; }
}
export -f kill_check
check "kill -9 during compact: before or after, never between; the next compact finishes" kill_check
run bash -c "promise audit list s --last 4 | cut -f3,4,5,6,7,8 | sed -E 's/local:[^\t]+/local:USER/; s/ref=[0-9]+ //'"
run promise audit verify s
