# registry_endpoint: the built-in endpoint library and endpoint files.
run promise endpoint list
run promise endpoint show T2D
run promise endpoint show C3_BREAST
run promise endpoint show NOPE
run promise endpoint frob
cp "$SRC/share/endpoints/starter.tsv" lib.tsv
run promise endpoint list --file lib.tsv
check "the built-in library is the shipped file" diff <(promise endpoint list) <(promise endpoint list --file lib.tsv)
printf '#promise-endpoints 1\nname\tversion\tdescription\tsex\tmin_age\tmax_age\tmin_events\tinclude\texclude\nX\t1\tx\tW\t\t\t1\ticd10:E11\t\n' > bad1.tsv
run promise endpoint list --file bad1.tsv
printf '#promise-endpoints 1\nname\tversion\tdescription\tsex\tmin_age\tmax_age\tmin_events\tinclude\texclude\nX\t1\tx\t\t\t\t1\ticd11:E11\t\n' > bad2.tsv
run promise endpoint list --file bad2.tsv
printf '#promise-endpoints 1\nname\tversion\tdescription\tsex\tmin_age\tmax_age\tmin_events\tinclude\texclude\nX\t1\tx\t\t50\t40\t1\ticd10:E11\t\n' > bad3.tsv
run promise endpoint list --file bad3.tsv
printf 'name\tversion\n' > bad4.tsv
run promise endpoint list --file bad4.tsv
