# registry_consent: opt-outs per purpose and withdrawals; a withdrawal
# marks the individual withdrawn, and their later events are not loaded.
promise init s >/dev/null
A=aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa
B=aaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbba
C=aaaaaa-ccccccccccccccccccccccccca
printf 'pseudonym\n%s\n%s\n%s\n' $A $B $C > pop.tsv
promise ingest population s pop.tsv 2>/dev/null
printf 'pseudonym\tpurpose\tstatus\tdate\n%s\tcommercial\topt-out\t2020-01-01\n%s\tcommercial\topt-out\t2019-01-01\n%s\trecontact\topt-out\t2021-05-05\n%s\tall\twithdrawn\t2022-02-02\n' $A $A $B $C > consent.tsv
run promise ingest consent s consent.tsv
run sqlite3 s/catalog.db "SELECT individual, purpose, status, date FROM consent ORDER BY 1, 2"
run sqlite3 s/catalog.db "SELECT idx, withdrawn FROM individual ORDER BY idx"
sqlite3 s/catalog.db .dump > before.sql
run promise ingest consent s consent.tsv
# a later opt-out does not undo a withdrawal
printf 'pseudonym\tpurpose\tstatus\tdate\n%s\tall\topt-out\t2023-01-01\n' $C > later.tsv
run promise ingest consent s later.tsv
sqlite3 s/catalog.db .dump > after.sql
check "repeat and weaker consent leave the store unchanged" cmp -s before.sql after.sql

bad() {
    printf 'pseudonym\tpurpose\tstatus\tdate\n%s\tresearch\topt-out\t2020-01-01\n%s\n' $A "$1" > bad.tsv
    run promise ingest consent s bad.tsv
}
bad "$(printf '%s\tresearch\topt-in\t2020-01-01' $B)"
bad "$(printf '%s\tmarketing\topt-out\t2020-01-01' $B)"
bad "$(printf '%s\tresearch\topt-out\t2020-13-01' $B)"
bad "$(printf '%s\tresearch\topt-out\t' $B)"
bad "$(printf 'aaaaaa-zzzzzzzzzzzzzzzzzzzzzzzzza\tresearch\topt-out\t2020-01-01')"
bad "$(printf 'bbbbbb-zzzzzzzzzzzzzzzzzzzzzzzzza\tresearch\topt-out\t2020-01-01')"
printf 'pseudonym\tpurpose\tstatus\n%s\tresearch\topt-out\n' $A > nodate.tsv
run promise ingest consent s nodate.tsv
sqlite3 s/catalog.db .dump > after.sql
check "failed consent loads leave the store unchanged" cmp -s before.sql after.sql

printf 'pseudonym\tdate\tregister\tcode\n%s\t2010-01-01\tpatient\tJ45\n%s\t2010-01-01\tpatient\tJ45\n' $A $C > ev.tsv
run promise ingest registry s ev.tsv
run sqlite3 s/catalog.db "SELECT individual, code FROM event"
