# access_users: users, projects, grants and bearer tokens (docs/access.md):
# what is accepted, what is refused with which exit status, and that a
# token is shown once and stored only hashed.
mask() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/pmt_[0-9a-f]{64}/pmt_TOKEN/g'; }
export -f mask
promise init s >/dev/null

# users
run promise user
run promise user frob s
run promise user add s alice
run promise user add s alice --tier root
run promise user add s 'a b' --tier public
run promise user add nostore alice --tier public
run promise user add s alice --tier project
run promise user add s bob --tier registered
run promise user add s carol --tier steward
run promise user add s alice --tier public
run bash -c 'promise user list s | mask'

# projects
run promise project add s cardio --sources SCAPIS --data-types genotypes --purpose DUO:0000006
run promise project add s cardio --sources SCAPIS --data-types genotypes --purpose DUO:0000006 --expires 2099-02-30
run promise project add s cardio --sources SCAPIS --data-types vcf --purpose DUO:0000006 --expires 2099-12-31
run promise project add s cardio --sources SCAPIS --data-types genotypes --purpose HMB --expires 2099-12-31
run promise project add s cardio --sources SCAPIS,,GMS --data-types genotypes --purpose DUO:0000006 --expires 2099-12-31
run promise project add s cardio --sources SCAPIS,GMS-Stockholm,SCAPIS --data-types genotypes,registry --purpose DUO:0000006 --expires 2099-12-31
run promise project add s old --sources SCAPIS --data-types registry --purpose DUO:0000042,DUO:0000018 --expires 2020-01-01
run promise project add s cardio --sources X --data-types omics --purpose DUO:0000042 --expires 2099-12-31
run promise project list s

# grants
run promise grant s alice
run promise grant s alice cardio
run promise grant s alice old
run promise grant s alice cardio
run promise grant s bob cardio
run promise grant s zed cardio
run promise grant s alice zed

# tokens: shown once on stdout, id on stderr
run bash -c 'promise token new s alice --expires 2099-12-31 | mask'
run promise token new s zed --expires 2099-12-31
run promise token new s alice --expires 2001-01-01
run promise token new s alice --expires tomorrow
run bash -c 'promise token new s bob 2>&1 | mask | sed -E "s/valid through [0-9-]+/valid through DATE/"'
export TA=$(promise token new s alice --expires 2099-12-31 2>/dev/null)
export TC=$(promise token new s carol --expires 2099-12-31 2>/dev/null)
check "a token is pmt_ and 64 hex digits" bash -c '[[ $TA =~ ^pmt_[0-9a-f]{64}$ ]]'
check "tokens are never stored in clear" bash -c '! grep -rq "${TA#pmt_}" s'
check "the store holds the token's SHA-256" bash -c \
    '[ "$(sqlite3 s/catalog.db "SELECT hash FROM token WHERE id=3")" = "$(printf %s "$TA" | sha256sum | cut -d" " -f1)" ]'
run bash -c 'promise token check s - <<<"$TA"'
run bash -c 'promise token check s - <<<"$TC"'
# one hex digit changed
run bash -c '[ "${TA: -1}" = 0 ] && x=1 || x=0; promise token check s - <<<"${TA%?}$x"'
run bash -c 'promise token check s - <<<"${TA%?}"'
run promise token check s not-a-token
# revoked (alice's second token, id 3) and expired (carol's, id 4)
run promise token revoke s 3
run promise token revoke s 3
run bash -c 'promise token check s - <<<"$TA"'
run bash -c 'promise token check s - <<<"$TC"'
run promise token revoke s 99
run promise token revoke s four
sqlite3 s/catalog.db "UPDATE token SET expires=20200101 WHERE id=4"
run bash -c 'promise token check s - <<<"$TC"'
run bash -c 'promise token list s | mask | sed -E "s/\t[0-9]{4}-[0-9]{2}-[0-9]{2}\tvalid/\tDATE\tvalid/"'
check "no token in the audit log" bash -c '! sqlite3 s/audit/audit.db "SELECT * FROM audit" | grep -q pmt_'
run promise audit verify s
