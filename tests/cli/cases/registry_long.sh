# registry_long: the long registry format with every register, personnummer
# with --key and pseudonyms, normalisation, repeat loads, and errors that
# leave the store exactly as it was.
promise init s >/dev/null
promise keygen k.key >/dev/null
printf 'personnummer\tbirth_date\n195001011237\t1950-01-01\n196006152349\t1960-06-15\n199001013458\t1990-01-01\n194001014564\t1940-01-01\n' > pop.tsv
run promise ingest population s pop.tsv --key k.key

cat > ev.tsv <<'X'
personnummer	date	register	code	value	position
195001011237	2010-01-01	patient	E11.9		main
195001011237	20120505	patient	e110		secondary
196006152349	2011-03-01	patient	591,99		
196006152349	2011-03-01	patient	X60		external
199001013458	2015-01-01	drug	A10BA02	30	
199001013458	2015-01-01	drug	A10BA02	30	
199001013458	2015-02-01	procedure	JDF00		
194001014564	2013-01-01	cancer	C50.9		
194001014564	2013-01-01	cancer	8500/3		
194001014564	2017-01-01	death	I21.9		main
194001014564	2017-01-01	death	E11.9		secondary
X
run promise ingest registry s ev.tsv --key k.key
q() { sqlite3 -separator ' ' s/catalog.db "SELECT d.register, d.system, e.code, e.individual, e.date, e.position, e.occurrence, coalesce(e.value,'-') FROM event e JOIN event_domain d ON d.id = e.domain ORDER BY e.domain, e.code, e.individual, e.date, e.position, e.occurrence"; }
run q

# the same file again: nothing new, not even an ingest row
sqlite3 s/catalog.db .dump > before.sql
run promise ingest registry s ev.tsv --key k.key
sqlite3 s/catalog.db .dump > after.sql
check "repeat load leaves the store unchanged" cmp -s before.sql after.sql

# pseudonymised by the key holder first
promise pseudonymize --key k.key ev.tsv > ev_pseudo.tsv 2>/dev/null
run promise ingest registry s ev_pseudo.tsv

# errors: FILE:LINE:COL, exit 2, and the store unchanged
bad() {
    printf 'personnummer\tdate\tregister\tcode\n195001011237\t2019-01-01\tpatient\tJ45\n%s\n' "$1" > bad.tsv
    run promise ingest registry s bad.tsv --key k.key "${@:2}"
}
bad "$(printf '195001011237\t2019-01-01\tregistry\tJ45')"
bad "$(printf '195001011237\t2019-02-30\tpatient\tJ45')"
bad "$(printf '195001011237\t2019/01/01\tpatient\tJ45')"
bad "$(printf '195001011237\t\tpatient\tJ45')"
bad "$(printf '195001011237\t2019-01-01\tpatient\t')"
bad "$(printf '195001011237\t2019-01-01\tpatient\tJ4')"
bad "$(printf '195001011237\t2019-01-01\tdrug\tE11.9')"
bad "$(printf '195001011232\t2019-01-01\tpatient\tJ45')"
bad "$(printf '197707077892\t2019-01-01\tpatient\tJ45')"
bad "$(printf '195001011237\t2019-01-01\tpatient\tJ45\textra')"
printf 'personnummer\tdate\tregister\tcode\tnote\n195001011237\t2019-01-01\tpatient\tJ45\tx\n' > extra.tsv
run promise ingest registry s extra.tsv --key k.key
run promise ingest registry s ev.tsv
sqlite3 s/catalog.db .dump > after.sql
check "failed loads leave the store unchanged" cmp -s before.sql after.sql

# people outside the population can be skipped on request
bad "$(printf '197707077892\t2019-01-01\tpatient\tJ45')" --skip-unknown
run promise ingest registry s extra.tsv --key k.key --ignore-extra
run sqlite3 s/catalog.db "SELECT kind, file, rows FROM ingest ORDER BY id"
run promise ingest registry s ev.tsv --key k.key --layout nope
run promise ingest registry s
