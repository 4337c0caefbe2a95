# registry_swereg: the fake Swedish register extracts of swereg (NPR with
# ICD-9 codes such as "591,99", LMED, cause of death), whose person id is a
# running number (lopnr). The key holder's step is simulated: each lopnr
# becomes a pseudonym-shaped id of tag "swereg", in the population and in
# every extract, then the extracts load with --id-column.
D=$DATA/swereg-fake-registry
cat > conv.awk <<'X'
function pseudo(n,   s) {
    s = sprintf("%025d", n)
    gsub(/0/, "a", s); gsub(/1/, "b", s); gsub(/2/, "c", s); gsub(/3/, "d", s); gsub(/4/, "e", s)
    gsub(/5/, "f", s); gsub(/6/, "g", s); gsub(/7/, "h", s); gsub(/8/, "i", s); gsub(/9/, "j", s)
    return "swereg-" s "a"
}
# replaces CSV field F (1 or 2; no quoted commas before it) by its pseudonym
NR == 1 { print; next }
F == 1 { i = index($0, ","); if (!i) i = length($0) + 1; print pseudo(substr($0, 1, i - 1)) substr($0, i); next }
{ i = index($0, ","); rest = substr($0, i + 1); j = index(rest, ",")
  print substr($0, 1, i) pseudo(substr(rest, 1, j - 1)) substr(rest, j) }
X
{ echo pseudonym; awk -v F=1 -f conv.awk "$D/fake_person_ids.csv" | tail -n +2; } > pop.tsv
awk -v F=2 -f conv.awk "$D/fake_diagnoses.csv" > npr.csv
awk -v F=1 -f conv.awk "$D/fake_prescriptions.csv" > lmed.csv
awk -v F=1 -f conv.awk "$D/fake_cod.csv" > dors.csv
promise init s >/dev/null
run promise ingest population s pop.tsv
run promise ingest registry s npr.csv --layout npr --id-column LopNr
run promise ingest registry s lmed.csv --layout lmed --id-column p444_lopnr_personnr --ignore-extra
run promise ingest registry s dors.csv --layout dors --id-column lopnr
run sqlite3 -separator ' ' s/catalog.db "SELECT d.register, d.system, e.position, count(*), count(DISTINCT e.individual) FROM event e JOIN event_domain d ON d.id = e.domain GROUP BY e.domain, e.position ORDER BY e.domain, e.position"
# spot checks against the CSV: person 854 (idx 853) has ICD-9 591,99 on 1989-09-10
run sqlite3 -separator ' ' s/catalog.db "SELECT domain, code, date, position FROM event WHERE individual = 853 AND date = 19890910"
e11=$(awk -F, 'NR > 1 && /"E11"/' "$D/fake_diagnoses.csv" | awk -F, '{print $2}' | sort -u | wc -l)
got=$(sqlite3 s/catalog.db "SELECT count(DISTINCT individual) FROM event WHERE domain = 1 AND code >= 'E11' AND code < 'E12'")
echo "people with E11: $got in the store, $e11 in the CSV"
check "E11 people agree with the CSV" test "$got" = "$e11"
run promise ingest registry s npr.csv --layout npr --id-column LopNr
