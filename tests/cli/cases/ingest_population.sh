# promise ingest population: validation with FILE:LINE:COL, key binding,
# all-or-nothing, repeated loads, the update policy (docs/ingest.md).
# Keys are fixed test keys, so the transcript is stable.

# pnr YYMMDD NNN [SEP]: a test personnummer with its Luhn check digit
pnr() {
    local d="$1$2" sum=0 i v
    for i in 0 1 2 3 4 5 6 7 8; do
        v=$(( ${d:i:1} * (i % 2 == 0 ? 2 : 1) ))
        sum=$(( sum + (v > 9 ? v - 9 : v) ))
    done
    printf '%s%s%s%d' "$1" "${3:--}" "$2" $(( (10 - sum % 10) % 10 ))
}
key() { printf 'promise-key v1 %s\n' "$2" >"$1"; chmod 600 "$1"; }
key a.key 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
key b.key fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
dump() { sqlite3 st/catalog.db .dump; }
tsv() { local f=$1; shift; printf '%s\n' "$@" | tr '|' '\t' >"$f"; }
people() { sqlite3 -separator ' ' st/catalog.db \
    "SELECT idx, sex, birth_date, ifnull(county,'-'), ifnull(death_date,'-'), ifnull(emigration_date,'-') FROM individual ORDER BY idx"; }

A=$(pnr 800101 982); B=$(pnr 850615 991); C=$(pnr 200229 983 +); D=$(pnr 010161 996); E=$(pnr 991231 988)
promise init st

# usage errors: exit 1
run promise ingest population
run promise ingest population st
run promise ingest population st pop.tsv --frobnicate
run promise ingest population st pop.tsv --key

# a population: sex and birth date derived from the personnummer when
# absent; '+' for a centenarian; D is a samordningsnummer (day + 60)
tsv pop.tsv "personnummer|county|sex|birth_date|death_date|emigration_date" \
    "$A|01||||" "$B|12|M|1985-06-15||2010-01-01" "$C|25|M||2021-03-04|" "$D|14|F|||" "$E|03||1999-12-31||"
run promise ingest population st pop.tsv --key a.key
run people
check "the store records the key's fingerprint and tag" \
    test "$(sqlite3 st/catalog.db "SELECT count(*) FROM meta WHERE key IN ('key_fingerprint','key_tag')")" = 2
check "no personnummer anywhere in the catalog" bash -c "! sqlite3 st/catalog.db .dump | grep -qE '800101|850615|200229|010161|991231'"
check "every pseudonym carries the key's tag" \
    test "$(sqlite3 st/catalog.db "SELECT count(DISTINCT substr(pseudonym,1,6)) FROM individual")" = 1

# the same file again changes nothing, not even the ingest log
dump >before.sql
run promise ingest population st pop.tsv --key a.key
dump >after.sql
check "second load leaves the store byte-for-byte the same" cmp -s before.sql after.sql

# bad rows: exit 2, FILE:LINE:COL, the store exactly as before
bad() { run promise ingest population st "$@"; dump >after.sql; check "store unchanged" cmp -s before.sql after.sql; }
tsv bad.tsv "personnummer|birth_date" "$(pnr 900101 984)|" "$A|1980-13-01"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|death_date" "$(pnr 900101 984)|" "$A|1980-02-30"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|death_date" "$A|2020/01/01"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|death_date" "$A|1979-12-31"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|birth_date" "$A|1980-01-02"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|county" "$A|02"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|county" "$A|1"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|sex" "$A|K"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|sex" "$A|M"
bad bad.tsv --key a.key
# a wrong check digit, a wrong date, a bad separator: never echoed
WRONG=${A%?}$(( (${A: -1} + 1) % 10 ))
tsv bad.tsv "personnummer" "$(pnr 900101 984)" "$WRONG"
bad bad.tsv --key a.key
check "the message does not contain the number" bash -c "! promise ingest population st bad.tsv --key a.key 2>&1 | grep -qE '800101|${WRONG:7}'"
tsv bad.tsv "personnummer" "800230-9826"
bad bad.tsv --key a.key
check "the message does not contain the number" bash -c "! promise ingest population st bad.tsv --key a.key 2>&1 | grep -q 800230"
tsv bad.tsv "personnummer" "19${A:0:6}+${A:7}"
bad bad.tsv --key a.key
# the same person twice in one file
tsv bad.tsv "personnummer|county" "$(pnr 900101 984)|01" "$A|01" "${A:0:6}${A:7}|03"
bad bad.tsv --key a.key
# header problems
tsv bad.tsv "county|sex" "01|M"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|shoe_size" "$A|42"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|pseudonym" "$A|x"
bad bad.tsv --key a.key
tsv bad.tsv "personnummer|sex" "$A"
bad bad.tsv --key a.key
# a personnummer column needs --key: exit 1
tsv bad.tsv "personnummer" "$A"
bad bad.tsv
# another key is refused: exit 3
bad pop.tsv --key b.key
run promise ingest population st nonexistent.tsv --key a.key
run promise ingest population nostore pop.tsv --key a.key
cp b.key open.key
chmod 644 open.key
run promise ingest population st pop.tsv --key open.key

# --ignore-extra skips unknown columns
tsv extra.tsv "personnummer|shoe_size|county" "$(pnr 900101 984)|42|05"
run promise ingest population st extra.tsv --key a.key --ignore-extra

# updates: county, death and emigration dates replace earlier ones; an
# empty field keeps what is stored; a known sex or birth date must agree
tsv upd.tsv "personnummer|county|death_date|emigration_date" \
    "$A|03||" "$B||2025-01-01|" "$(pnr 120512 989)|21||" "$C|25||"
run promise ingest population st upd.tsv --key a.key
run people

# pseudonym input (made by the key holder): no key needed, same people
promise pseudonymize --key a.key upd.tsv >upd-pseudo.tsv
run promise ingest population st upd-pseudo.tsv
promise pseudonymize --key a.key pop.tsv | cut -f1 | sed '1!s/$/\tM/;1s/$/\tsex/' | sed -n '1p;2p' >conflict-pseudo.tsv
dump >before.sql
bad conflict-pseudo.tsv
printf 'pseudonym\nnot-a-pseudonym\n' >bad.tsv
bad bad.tsv
# pseudonyms made under another key are refused: exit 3
promise pseudonymize --key b.key upd.tsv >foreign.tsv
bad foreign.tsv

# a fresh store bound by pseudonym input refuses a different key later
promise init st2
promise ingest population st2 upd-pseudo.tsv 2>/dev/null
run sqlite3 st2/catalog.db "SELECT key FROM meta WHERE key LIKE 'key%' ORDER BY key"
run promise ingest population st2 pop.tsv --key b.key
run promise ingest population st2 pop.tsv --key a.key
run sqlite3 st2/catalog.db "SELECT key FROM meta WHERE key LIKE 'key%' ORDER BY key"
run sqlite3 st2/catalog.db "SELECT kind, rows FROM ingest ORDER BY id"
