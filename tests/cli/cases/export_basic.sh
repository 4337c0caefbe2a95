# export: a project's extract under project pseudonyms (docs/access.md).
# Checked against independent computations: the pseudonyms against
# HMAC-SHA-256 in Python from the catalog's project key and the store
# pseudonym; the genotypes against bcftools on the VCF that was ingested;
# the people against the consent file and the project's sources.
promise simulate data --individuals 300 --variants 300 --seed 7 >/dev/null 2>&1
promise init s >/dev/null
promise keygen k.key >/dev/null 2>&1
promise ingest population s data/population.tsv --key k.key 2>/dev/null
promise ingest samples s data/samples.tsv --key k.key 2>/dev/null
promise ingest registry s data/registry.tsv --key k.key 2>/dev/null
promise ingest vcf s data/genotypes.vcf.gz 2>/dev/null
promise ingest omics s data/olink.tsv --assay olink 2>/dev/null
# the first two LifeGene samples' people: one opts out of commercial use,
# the other is forgotten
A=$(awk -F'\t' '$3=="LifeGene"{print $2}' data/samples.tsv | sed -n 1p)
B=$(awk -F'\t' '$3=="LifeGene"{print $2}' data/samples.tsv | sed -n 2p)
printf 'personnummer\tpurpose\tstatus\tdate\n%s\tcommercial\topt-out\t2020-01-01\n' "$A" > consent.tsv
promise ingest consent s consent.tsv --key k.key 2>/dev/null
promise user add s alice --tier project >/dev/null
promise user add s bob --tier project >/dev/null
promise user add s reg --tier registered >/dev/null
promise project add s acad --sources LifeGene,TwinGene,SCAPIS --data-types genotypes,registry,omics \
    --purpose DUO:0000006,DUO:0000018 --expires 2099-12-31 >/dev/null
promise project add s pharma --sources LifeGene,TwinGene,SCAPIS --data-types genotypes,registry,omics \
    --purpose DUO:0000006 --expires 2099-12-31 >/dev/null
promise project add s geno --sources LifeGene --data-types genotypes --purpose DUO:0000006 \
    --expires 2099-12-31 >/dev/null
promise project add s old --sources LifeGene --data-types genotypes --purpose DUO:0000006 \
    --expires 2020-01-01 >/dev/null
promise grant s alice acad >/dev/null
promise grant s bob pharma >/dev/null
promise token new s alice >alice.tok 2>/dev/null
promise token new s reg >reg.tok 2>/dev/null

# usage, bad input, refused
run promise export s -o x
run promise export s --project acad
run promise export s --project acad -o x --what phenotypes,dna
run promise export s --project nosuch -o x
run promise export s --project old -o x
run promise export s --project geno -o x --what registry
run bash -c 'promise export s --project acad -o x --token "$(cat reg.tok)"'
run bash -c 'promise export s --project pharma -o x --token "$(cat alice.tok)"' 
run promise export s --project pharma -o x --as alice
run promise export s --project acad -o data
check "refusals leave no directory" test ! -e x

# the steward exports for acad, alice (granted) for acad, bob for pharma
run promise export s --project acad -o acad1
run bash -c 'promise export s --project acad -o acad2 --token "$(cat alice.tok)"' 
run promise export s --as bob --project pharma -o pharma
run promise export s --project geno -o geno --cohort 'sex=F'
run bash -c "sed 1,3d acad1/MANIFEST.tsv | cut -f1,2"
run bash -c "sed -n 1p acad1/MANIFEST.tsv; sed -n 1p pharma/MANIFEST.tsv"
run ls geno
check "same project, same extract" diff -r -x MANIFEST.tsv acad1 acad2
check "manifest checksums hold" bash -c \
    'cd acad1 && sed 1,4d MANIFEST.tsv | awk -F"\t" "{print \$4\"  \"\$1}" | sha256sum -c --quiet'
check "manifest byte counts hold" bash -c \
    'cd acad1 && sed 1,4d MANIFEST.tsv | while IFS=$(printf "\t") read f r b h; do [ "$(wc -c <$f)" = "$b" ] || exit 1; done'
check "no temporary directory is left" bash -c '! ls -d *.tmp-* 2>/dev/null'

# the pseudonyms: HMAC-SHA-256(project key, store pseudonym), base32 of
# the first 16 bytes, computed independently
promise pseudonymize --key k.key data/samples.tsv >samples.pseudo.tsv 2>/dev/null
sqlite3 s/catalog.db "SELECT name, key_hex FROM project" > keys.txt
sqlite3 s/catalog.db "SELECT pseudonym FROM individual" > store_pseudonyms.txt
cat > expect.py <<'PY'
import base64, hashlib, hmac, sys
keys = dict(l.strip().split('|') for l in open('keys.txt'))
def pid(project, pseudo):
    h = hmac.new(bytes.fromhex(keys[project]), pseudo.encode(), hashlib.sha256).digest()
    return project + ':' + base64.b32encode(h[:16]).decode().lower().rstrip('=')
project, sources = sys.argv[1], sys.argv[2].split(',')
# sample -> (pseudonym, source)
rows = [l.rstrip('\n').split('\t') for l in open('samples.pseudo.tsv')][1:]
for sid, ps, src, *_ in rows:
    if src in sources:
        print(sid, ps, pid(project, ps))
PY
python3 expect.py acad LifeGene,TwinGene,SCAPIS > acad.map
python3 expect.py pharma LifeGene,TwinGene,SCAPIS > pharma.map
ids() { cut -f1 "$1"/individuals.tsv | sed 1d; }
export -f ids
check "acad ids are the HMAC of the store pseudonyms" bash -c \
    'diff <(ids acad1) <(cut -d" " -f3 acad.map | sort -u)'
PA=$(awk -v p="$(promise pseudonymize --key k.key <(printf "personnummer\n%s\n" "$A") 2>/dev/null | sed 1d)" '$2==p{print $3}' pharma.map | sort -u)
check "pharma leaves out who opted out of commercial use, and only them" bash -c \
    "diff <(ids pharma) <(cut -d' ' -f3 pharma.map | sort -u | grep -vxF '$PA')"
run bash -c 'echo "acad $(ids acad1 | wc -l), pharma $(ids pharma | wc -l), in both: $(comm -12 <(ids acad1 | sed s/^acad://) <(ids pharma | sed s/^pharma://) | wc -l)"'
check "no store pseudonym, sample id or other project's id in any extract" bash -c \
    '! grep -rqFf <(cat store_pseudonyms.txt; cut -f1 data/samples.tsv | sed 1d; ids pharma) acad1 &&
     ! grep -rqFf <(cat store_pseudonyms.txt; cut -f1 data/samples.tsv | sed 1d; ids acad1) pharma'
check "rows come sorted by pseudonym, not store order" bash -c \
    'for f in acad1/*.tsv pharma/*.tsv; do case $f in *MANIFEST*) continue;; esac; sed 1d $f | cut -f1 | sort -c || exit 1; done'

# genotypes: every exported call equals the ingested VCF's (bcftools, split
# per ALT, phasing dropped)
bcftools norm -m- data/genotypes.vcf.gz 2>/dev/null | bcftools query -H -f '%CHROM\t%POS\t%REF\t%ALT[\t%GT]\n' > truth.tsv
cat > cmpgt.py <<'PY'
import sys
m = {}                                       # project id -> its samples
for l in open(sys.argv[2]):
    m.setdefault(l.split()[2], []).append(l.split()[0])
truth = {}
lines = open('truth.tsv').read().split('\n')
hdr = [h.split(']')[-1].split(':')[0] for h in lines[0].lstrip('# ').split('\t')]
def norm(g):
    g = g.replace('|', '/')
    if '.' in g: return './.'
    a = sorted(g.split('/'))
    return '/'.join(a) if len(a) == 2 else '0/' + a[0] if a[0] != '0' else '0/0'
for l in lines[1:]:
    if not l: continue
    f = l.split('\t')
    truth[(f[0], f[1], f[2], f[3])] = dict(zip(hdr[4:], f[4:]))
n = bad = 0
for l in open(sys.argv[1] + '/genotypes.vcf'):
    if l.startswith('##'): continue
    f = l.rstrip('\n').split('\t')
    if l.startswith('#'):
        cols = [[s for s in m[c] if s in hdr][0] for c in f[9:]]; continue
    t = truth[(f[0], f[1], f[3], f[4])]
    for s, g in zip(cols, f[9:]):
        n += 1
        if norm(t[s]) != g: bad += 1
print(n > 0 and bad == 0 and 'calls equal' or 'calls differ: %d of %d' % (bad, n))
PY
run python3 cmpgt.py acad1 acad.map
run python3 cmpgt.py pharma pharma.map

# registry: every event of the exported people, none of anyone else's
run bash -c "echo \$(( \$(wc -l <acad1/registry.tsv) - 1 )) events; sed 1d acad1/registry.tsv | cut -f3,4 | sort | uniq -c"

# forget: B leaves the next extract
printf '%s\n' "$B" > b.pnr
run bash -c 'promise forget s --key k.key "$(cat b.pnr)"' 
run promise export s --project acad -o acad3
PB=$(awk -v p="$(promise pseudonymize --key k.key <(printf "personnummer\n%s\n" "$B") 2>/dev/null | sed 1d)" '$2==p{print $3}' acad.map | sort -u)
check "the forgotten person is gone from the new extract" bash -c "! grep -rqF '$PB' acad3"
check "and was in the one before" grep -qF "$PB" acad1/individuals.tsv

# the audit log names the user and project and lists the people exported
run bash -c "promise audit list s --last 6 | cut -f3-7 | sed -E 's/local:[^ \t]+/local:USER/'"
run promise audit verify s
