# forget: a withdrawal by personnummer takes the person out of every later
# answer, is queued for compaction and audited by index; the number is
# never stored, logged or printed (docs/access.md).
pnr() {
    local d="$1$2" sum=0 i v
    for i in 0 1 2 3 4 5 6 7 8; do
        v=$(( ${d:i:1} * (i % 2 == 0 ? 2 : 1) ))
        sum=$(( sum + (v > 9 ? v - 9 : v) ))
    done
    printf '%s%s%s%d' "$1" "${3:--}" "$2" $(( (10 - sum % 10) % 10 ))
}
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
mask() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/local:[^\t]+/local:USER/g'; }
export -f mask
key a.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
key b.key fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
A=$(pnr 800101 982); B=$(pnr 850615 991); C=$(pnr 200229 983 +); X=$(pnr 900101 123)
printf 'personnummer\n%s\n%s\n%s\n' $A $B $C > pop.tsv
promise init s >/dev/null
promise init empty >/dev/null
promise ingest population s pop.tsv --key a.key 2>/dev/null
run promise count s

# usage, bad input, refused
run promise forget s $A
run promise forget s --key a.key
run promise forget s --key a.key $A $B
run promise forget s --frob a.key $A
run promise forget nostore --key a.key $A
run promise forget empty --key a.key $A
run promise forget s --key b.key $A
run promise forget s --key a.key 800101-9821
run promise forget s --key a.key $X
run promise forget s --key missing.key $A
run promise count s

# the withdrawal, and again
run promise forget s --key a.key $A
run promise count s
run promise forget s --key a.key ${A/-/}
run promise forget s --key a.key 19${A}
run promise count s
# loading the population again does not bring them back
promise ingest population s pop.tsv --key a.key 2>/dev/null
run promise count s
run sqlite3 s/catalog.db "SELECT idx, withdrawn FROM individual ORDER BY idx"
run sqlite3 s/catalog.db "SELECT individual, compacted FROM withdrawal"

# art. 15: the withdrawal itself used the person's record
run bash -c "promise audit person s --key a.key $A | mask"
run bash -c "promise audit person s --key a.key $B | mask"
run bash -c 'promise audit list s --last 6 | mask'
run promise audit verify s

for n in $A ${A/-/} 19${A/-/} $B ${B/-/} $X; do
    check "no personnummer $n in the store" bash -c "! grep -rqF -- '$n' s"
done
check "no personnummer-shaped query in the audit log" bash -c \
    "! sqlite3 s/audit/audit.db 'SELECT who, project, command, query FROM audit' | grep -qE '[0-9]{6}[-+]?[0-9]{4}'"
