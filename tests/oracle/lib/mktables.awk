# mktables.awk - population.tsv and samples.tsv for a list of VCF sample names.
#
# usage: awk -f mktables.awk -v out=DIR [-v source=KG] [-v subset_source=SUBSET]
#            [-v assay=wgs] [SEX_TABLE] [SUBSET_FILE] SAMPLES.txt
# with -v sexfile=PATH / -v subsetfile=PATH naming which input is which.
#
# Every sample becomes one individual with a valid test personnummer (birth
# numbers 980-999, which Skatteverket reserves for test persons; odd = man)
# whose sex comes from the CINECA-style SEX_TABLE ("Subject id", "Sex"
# columns) when the sample is there, else alternates. Samples listed in
# SUBSET_FILE get source subset_source, the others source. Writes
# DIR/population.tsv and DIR/samples.tsv with a personnummer column (ingest
# them with --key).
BEGIN {
    FS = "\t"
    if (source == "") source = "KG"
    if (subset_source == "") subset_source = "SUBSET"
    if (assay == "") assay = "wgs"
    pop = out "/population.tsv"
    smp = out "/samples.tsv"
    print "personnummer\tsex" > pop
    print "sample_id\tpersonnummer\tsource\tassay" > smp
}
function luhn(s,    i, v, t) {
    t = 0
    for (i = 1; i <= length(s); i++) {
        v = substr(s, i, 1) * (i % 2 == 1 ? 2 : 1)
        t += int(v / 10) + v % 10
    }
    return (10 - t % 10) % 10
}
# the k-th test number of one sex: 10 per birth date, dates 1950-01-01 on
# (days 1-28 only, so every date exists)
function pnr(k, male,    d, y, m, dd, num, ten) {
    d = int(k / 10)
    dd = 1 + d % 28
    m = 1 + int(d / 28) % 12
    y = 1950 + int(d / 336)
    num = (male ? 981 : 980) + 2 * (k % 10)
    ten = sprintf("%02d%02d%02d%03d", y % 100, m, dd, num)
    return sprintf("%04d%02d%02d-%03d%d", y, m, dd, num, luhn(ten))
}
FILENAME == sexfile {
    if (FNR == 1) { for (i = 1; i <= NF; i++) col[$i] = i; next }
    sx[$col["Subject id"]] = (tolower(substr($col["Sex"], 1, 1)) == "m") ? "M" : "F"
    next
}
FILENAME == subsetfile { if ($0 != "") sub_[$0] = 1; next }
$0 != "" && !($0 in seen) {
    seen[$0] = 1
    s = ($0 in sx) ? sx[$0] : (n % 2 ? "M" : "F")
    n++
    if (s == "M") p = pnr(nm++, 1); else p = pnr(nf++, 0)
    print p "\t" s > pop
    print $0 "\t" p "\t" (($0 in sub_) ? subset_source : source) "\t" assay > smp
}
