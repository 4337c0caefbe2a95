# promise pseudonymize: the personnummer column becomes a pseudonym column.
# Test numbers only: the personnummer/meta conformance cases and series 98x.
# Pseudonyms depend on a random key, so they are checked as properties.
promise keygen k.key >k.out
promise keygen other.key >/dev/null
tag=$(sed -n 's/^tag //p' k.out)
printf 'id\tpersonnummer\tage\n' >in.tsv
printf 'p1\t19821105-9954\t44\n' >>in.tsv
printf 'p2\t8211059954\t44\n' >>in.tsv
printf 'p3\t570574-9959\t69\n' >>in.tsv
printf 'p4\t791221+9990\t146\n' >>in.tsv
printf 'p5\t199012119948\t35\n' >>in.tsv
printf 'p6\t20000229-9824\t26\n' >>in.tsv

# usage errors: exit 1
run promise pseudonymize
run promise pseudonymize in.tsv
run promise pseudonymize --key k.key
run promise pseudonymize --key
run promise pseudonymize --key k.key in.tsv extra.tsv
run promise pseudonymize --bogus --key k.key in.tsv

# success, to a file and to stdout
run promise pseudonymize --key k.key -o out.tsv in.tsv
promise pseudonymize --key k.key in.tsv >stdout.tsv
promise pseudonymize in.tsv --key k.key >again.tsv
check "stdout and -o give the same table" cmp -s out.tsv stdout.tsv
check "same input and key give the same output" cmp -s out.tsv again.tsv
check "header has 'pseudonym' in the personnummer position" \
    test "$(head -1 out.tsv)" = "$(printf 'id\tpseudonym\tage')"
check "other columns unchanged" cmp -s <(cut -f1,3 in.tsv) <(cut -f1,3 out.tsv)
check "one output row per input row" test "$(wc -l <out.tsv)" -eq 7
check "every pseudonym is <tag>-<26 base32>" \
    test "$(tail -n +2 out.tsv | cut -f2 | grep -cxE "$tag-[a-z2-7]{26}")" -eq 6
check "no personnummer digits in the output" \
    test "$(grep -cE '821105|9954|570574|791221|901211|000229' out.tsv)" -eq 0
p1=$(sed -n 2p out.tsv | cut -f2)
check "two spellings of one number give one pseudonym" \
    test -n "$p1" -a "$p1" = "$(sed -n 3p out.tsv | cut -f2)"
check "different people get different pseudonyms" \
    test "$(tail -n +2 out.tsv | cut -f2 | sort -u | wc -l)" -eq 5
promise pseudonymize --key other.key in.tsv >other.tsv
check "the other key's table is complete" test "$(wc -l <other.tsv)" -eq 7
check "another key gives other pseudonyms" \
    test "$(comm -12 <(cut -f2 out.tsv | sort) <(cut -f2 other.tsv | sort) | grep -vc pseudonym)" -eq 0

# gzip input and stdin
gzip -c in.tsv >in.tsv.gz
promise pseudonymize --key k.key in.tsv.gz >gz.tsv
check "gzip input gives the same table" cmp -s out.tsv gz.tsv
promise pseudonymize --key k.key - <in.tsv >stdin.tsv
check "stdin input gives the same table" cmp -s out.tsv stdin.tsv

# a bad number (wrong check digit on line 4): exit 2, file:line:col, no number, no output
printf 'id\tpersonnummer\n' >bad.tsv
printf 'p1\t19821105-9954\n' >>bad.tsv
printf 'p2\t19901211-9948\n' >>bad.tsv
printf 'p333\t19870704-9996\n' >>bad.tsv
printf 'p4\t19570574-9959\n' >>bad.tsv
run promise pseudonymize --key k.key bad.tsv
promise pseudonymize --key k.key bad.tsv >bad.out 2>bad.err
check "no output at all for a bad input" test ! -s bad.out
check "the message does not contain the number" test "$(grep -c '870704\|9996' bad.err)" -eq 0
cp out.tsv keep.tsv
run promise pseudonymize --key k.key -o keep.tsv bad.tsv
check "an existing -o file is left untouched on error" cmp -s out.tsv keep.tsv
check "no temporary output left behind" test "$(ls -A | grep -c '\.tmp-')" -eq 0

# other refused numbers: each reason, never the number
printf 'personnummer\n19821105-T954\n' >reserve.tsv
run promise pseudonymize --key k.key reserve.tsv
printf 'personnummer\n20150916-0006\n' >zero.tsv
run promise pseudonymize --key k.key zero.tsv
printf 'personnummer\n19230229-9820\n' >date.tsv
run promise pseudonymize --key k.key date.tsv
printf 'personnummer\n821105 9954\n' >space.tsv
run promise pseudonymize --key k.key space.tsv
printf 'personnummer\n\n\n19821105-9954\n\n' >blank.tsv
run promise pseudonymize --key k.key -o blank.out blank.tsv
check "blank lines are skipped" test "$(wc -l <blank.out)" -eq 2

# missing personnummer column; input already pseudonymised: exit 2
printf 'id\tpnr\np1\t19821105-9954\n' >nocol.tsv
run promise pseudonymize --key k.key nocol.tsv
run promise pseudonymize --key k.key out.tsv
printf 'personnummer\tpseudonym\n19821105-9954\tx\n' >both.tsv
run promise pseudonymize --key k.key both.tsv

# missing input, missing key, a malformed key: exit 2
run promise pseudonymize --key k.key missing.tsv
run promise pseudonymize --key missing.key in.tsv
printf 'not a key\n' >bad.key
chmod 600 bad.key
run promise pseudonymize --key bad.key in.tsv

# a key file open to group or others: exit 3
cp k.key open.key
chmod 640 open.key
run promise pseudonymize --key open.key in.tsv
chmod 604 open.key
run promise pseudonymize --key open.key in.tsv
