# promise config: show and change store settings; validation; the settings
# take effect (k in promise count).
alph=abcdefghijklmnopqrstuvwxyz234567
pseud() { printf 'abcdef-%s%saaaaaaaaaaaaaaaaaaaaaaaa' "${alph:$(($1 / 32)):1}" "${alph:$(($1 % 32)):1}"; }
{
    printf 'pseudonym\tsex\tbirth_date\tcounty\n'
    for i in $(seq 0 7); do printf '%s\tF\t1970-01-01\t01\n' "$(pseud "$i")"; done
} > pop.tsv
# the creation time varies: mask it
config_list() { promise config "$@" | sed -E 's/^created\t[^\t]*\t/created\tTIME\t/'; }
run promise init st
run promise ingest population st pop.tsv
run config_list st
run promise config st k
run promise config st beacon_budget
run promise config st reference_date
run promise count st --as-tier registered
run promise config st k 10
run promise config st k
run promise count st --as-tier registered
run promise config st beacon_min_ac 3
run promise config st beacon_budget 50
run promise config st beacon_edge_band 0
run promise config st reference_date 2025-06-30
run config_list st

# refused
run promise config st k 1
run promise config st k 5.5
run promise config st k ''
run promise config st beacon_budget 0
run promise config st beacon_edge_band 1001
run promise config st beacon_min_ac many
run promise config st reference_date 2025-02-30
run promise config st reference_date 30/06/2025
run promise config st schema_version 2
run promise config st key_fingerprint abc
run promise config st created now
run promise config st reference_build GRCh37
run promise config st colour red
run promise config st colour
run promise config st k 5 extra
run promise config st --force
run promise config
run promise config nostore
run promise config nostore k 7
run promise config st k
