# audit: the hash-chained log and `promise audit verify` against edited,
# deleted, reordered and truncated entries (docs/access.md). Each attack
# runs on its own copy of the store, with the sqlite3 CLI, after dropping
# the guard triggers as an attacker holding the file would.
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
A=$(pnr 800101 982); B=$(pnr 850615 991)
printf 'personnummer\n%s\n%s\n' $A $B > pop.tsv
promise init s >/dev/null
run promise audit verify s
promise ingest population s pop.tsv --key a.key 2>/dev/null
# eight entries: four requests, each with its result
promise audit person s --key a.key $A >/dev/null
promise forget s --key a.key $A >/dev/null
promise forget s --key b.key $B 2>/dev/null
promise audit person s --key a.key $A >/dev/null
run promise audit verify s
run bash -c 'promise audit list s | mask'
run bash -c 'promise audit list s --last 2 | mask'

# usage
run promise audit
run promise audit frob s
run promise audit verify
run promise audit list s --last x
run promise audit person s $A
run promise audit verify nostore

# the guards refuse plain edits
run bash -c "sqlite3 s/audit/audit.db \"UPDATE audit SET who='eve' WHERE id=1\" 2>&1 | grep -o 'the audit log is append-only'"
run bash -c "sqlite3 s/audit/audit.db 'DELETE FROM audit WHERE id=8' 2>&1 | grep -o 'the audit log is append-only'"
run promise audit verify s

attack() {
    local name=$1 sql=$2
    rm -rf t && cp -r s t
    sqlite3 t/audit/audit.db "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $sql"
    echo "# $name"
    run promise audit verify t
}
attack "edit the user" "UPDATE audit SET who='eve' WHERE id=3"
attack "edit the query" "UPDATE audit SET query='' WHERE id=5"
attack "edit the outcome" "UPDATE audit SET outcome='ok' WHERE id=6"
attack "edit the individual count" "UPDATE audit SET n_individuals=0 WHERE id=4"
attack "drop the art. 15 list" "UPDATE audit SET used=NULL, n_used=0 WHERE id=4"
attack "edit the time" "UPDATE audit SET at='2000-01-01T00:00:00.000Z' WHERE id=1"
attack "edit a hash" "UPDATE audit SET hash=prev WHERE id=2"
attack "delete the first" "DELETE FROM audit WHERE id=1"
attack "delete one in the middle" "DELETE FROM audit WHERE id=5"
attack "delete and renumber" "DELETE FROM audit WHERE id=5; UPDATE audit SET id=id-1 WHERE id>5"
attack "reorder two" "UPDATE audit SET id=-3 WHERE id=3; UPDATE audit SET id=3 WHERE id=4; UPDATE audit SET id=4 WHERE id=-3"
attack "truncate the tail" "DELETE FROM audit WHERE id>6"
attack "truncate the last" "DELETE FROM audit WHERE id=8"
attack "truncate everything" "DELETE FROM audit"
rm -rf t && cp -r s t && rm t/audit/head
echo "# remove the head witness"
run promise audit verify t
rm -rf t && cp -r s t && sqlite3 t/audit/audit.db "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id>6" && printf 'promise-audit-head v1 6 %s\n' "$(sqlite3 t/audit/audit.db 'SELECT hash FROM audit WHERE id=6')" > t/audit/head
echo "# truncate and rewrite the witness too: only a head kept outside the store catches it"
run promise audit verify t
export HEAD=$(promise audit head s)
check "audit head prints N:HASH" bash -c '[[ $HEAD =~ ^8:[0-9a-f]{64}$ ]]'
run bash -c 'promise audit verify t --head "$HEAD"'
run bash -c 'promise audit verify s --head "$HEAD"'
run bash -c 'promise audit verify s --head "3:${HEAD#8:}"'
run promise audit verify s --head 8:abc
# the log grows; an old published head still verifies
promise audit person s --key a.key $B >/dev/null
run bash -c 'promise audit verify s --head "$HEAD"'
run promise audit verify s

# a store from before the log had its own file kept it in the catalog:
# the first open copies it into audit/audit.db, chain and all
rm -rf t && cp -r s t
sqlite3 t/catalog.db "ATTACH 't/audit/audit.db' AS a; CREATE TABLE audit AS SELECT * FROM a.audit;"
rm t/audit/audit.db*
echo "# legacy store: log in the catalog"
run promise audit verify t
run bash -c 'ls t/audit'
run bash -c 'promise audit list t --last 1 | mask'
