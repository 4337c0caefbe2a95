# registry_layouts: the layouts of the Swedish register holders (npr, lmed,
# dors, cancer) on small CSV fixtures with their quirks: quoted fields,
# yyyymmdd and ISO dates, NA and empty strings, ICD-9 codes with commas,
# partial death dates, Swedish decimal commas.
promise init s >/dev/null
A=aaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaa
B=aaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbba
C=aaaaaa-ccccccccccccccccccccccccca
printf 'pseudonym\tsex\n%s\tF\n%s\tM\n%s\tF\n' $A $B $C > pop.tsv
promise ingest population s pop.tsv 2>/dev/null
q() { sqlite3 -separator ' ' s/catalog.db "SELECT d.register, d.system, e.code, e.individual, e.date, e.position, coalesce(e.value,'-') FROM event e JOIN event_domain d ON d.id = e.domain WHERE e.ingest = (SELECT max(id) FROM ingest) ORDER BY e.domain, e.code, e.individual, e.date, e.position"; }

cat > npr.csv <<X
"SOURCE","LopNr","AR","INDATUMA","INDATUM","HDIA","ICDO3","DIA1","DIA2","DIA3","EKOD1","EKOD2","OP","UTDATUMA","UTDATUM"
"inpatient",$A,2008,"20080906",2008-09-06,"I21.9","","E11","NA","","X60","","JDF00 TJD10","20080910",2008-09-10
"outpatient",$B,1989,"19890910",1989-09-10,"591,99","","250A","","","","",NA,,
"outpatient",$B,2001,"",2001-01-02,"j45","","","","","","","","",
"cancer",$C,2005,"20050103",,"C50","8500/3","F32","","","","","","",
"inpatient",$C,2006,,,"","","","","","","","","",
X
run promise ingest registry s npr.csv --layout npr --id-column LopNr
run q

cat > lmed.csv <<X
"lopnr","EDATUM","ATC","ANTAL","FORPDDD","produkt"
$A,2009-06-29,"G03AA05",3,"28","Product A"
$A,20090701,"C10AA01",NA,NA,""
$B,2010-01-01,"A10BA02",2,"22,5",""
$B,2010-01-01,"",1,1,""
X
run promise ingest registry s lmed.csv --layout lmed --id-column lopnr
run promise ingest registry s lmed.csv --layout lmed --id-column lopnr --ignore-extra
run q

cat > dors.csv <<X
"lopnr","dodsdat","ulorsak","morsak1","morsak2"
$A,2013-01-13,"K720","C800",""
$B,19950800,"410,99","",""
$C,20100000,"I21.9","NA","E11.9"
X
run promise ingest registry s dors.csv --layout dors --id-column lopnr
run q

cat > cancer.csv <<X
lopnr,DIADAT,TOPOGRAFI,MORFOLOGI,ICDO10
$A,19991231,C50.9,85003,C50.9
$C,2001-02-03,C61.9,M-8140/3,
X
run promise ingest registry s cancer.csv --layout cancer --id-column lopnr
run q

# errors name the file, line and column
printf '"LopNr","INDATUMA","INDATUM","HDIA"\n%s,"20080906",2008-09-07,"I21"\n' $A > e1.csv
run promise ingest registry s e1.csv --layout npr --id-column LopNr
printf '"SOURCE","LopNr","INDATUM","HDIA"\n"dental",%s,2008-09-07,"I21"\n' $A > e2.csv
run promise ingest registry s e2.csv --layout npr --id-column LopNr
printf '"LopNr","INDATUM","HDIA"\n%s,2008-09-07,"I21"\n%s,,"I22"\n' $A $A > e3.csv
run promise ingest registry s e3.csv --layout npr --id-column LopNr
printf 'lopnr,EDATUM,ATC\n%s,2008-09-07,"E11.9"\n' $A > e4.csv
run promise ingest registry s e4.csv --layout lmed --id-column lopnr
printf 'lopnr,DODSDAT,ULORSAK\n%s,19951300,I21\n' $A > e5.csv
run promise ingest registry s e5.csv --layout dors --id-column lopnr
printf 'lopnr,DIADAT,TOPOGRAFI\n%s,2001-01-01,8500/3\n' $A > e6.csv
run promise ingest registry s e6.csv --layout cancer --id-column lopnr
printf 'lopnr,EDATUM\n%s,2008-09-07\n' $A > e7.csv
run promise ingest registry s e7.csv --layout lmed --id-column lopnr
run promise ingest registry s e7.csv --layout lmed --id-column LopNummer
run promise ingest registry s e7.csv --layout lmed
printf 'lopnr,EDATUM,ATC\n1,2008-09-07,A10\n' > e8.csv
run promise ingest registry s e8.csv --layout lmed --id-column lopnr
