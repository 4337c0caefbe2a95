#!/usr/bin/env python3
"""iter_check.py ITER FREQ VIEW SAMPLE=IND... - cross-checks the site iterator
(promise freq --iter-debug) against promise freq (AC, AN, NHOMALT) and promise
view (carriers with dosages, missing individuals) for every site and ALT.
A sample's call for an ALT is the first non-missing call among the view
records that list that ALT (view's record order), else missing."""
import sys

it_path, freq_path, view_path = sys.argv[1:4]
ind_of = dict(a.split("=") for a in sys.argv[4:])
errors = 0


def err(msg):
    global errors
    errors += 1
    print("MISMATCH", msg)


freq = {}
for line in open(freq_path):
    if line.startswith("#"):
        continue
    f = line.rstrip("\n").split("\t")
    freq[(f[0], f[1], f[3], f[4])] = (f[5], f[6], f[8])

calls = {}  # (chrom,pos,ref,alt) -> {ind: gt alleles}
samples = []
for line in open(view_path):
    if line.startswith("##"):
        continue
    f = line.rstrip("\n").split("\t")
    if line.startswith("#"):
        samples = f[9:]
        continue
    alts = f[4].split(",")
    for ai, alt in enumerate(alts, 1):
        d = calls.setdefault((f[0], f[1], f[3], alt), {})
        for s, gt in zip(samples, f[9:]):
            al = gt.replace("|", "/").split("/")
            ind = ind_of[s]
            called = any(a != "." for a in al)
            if ind in d and d[ind] is not None:
                continue
            d[ind] = sum(1 for a in al if a == str(ai)) if called else None

n = None
sites = 0
for line in open(it_path):
    if line.startswith("#n="):
        n = int(line[3:])
        continue
    f = line.rstrip("\n").split("\t")
    key = (f[0], f[1], f[3], f[4])
    sites += 1
    if key not in freq:
        err("%s not in freq" % (key,))
    elif freq[key] != (f[6], f[7], f[8]):
        err("%s counts iter %s freq %s" % (key, (f[6], f[7], f[8]), freq[key]))
    car = {} if f[9] == "." else dict(x.split(":") for x in f[9].split(","))
    miss = set() if f[10] == "." else set(f[10].split(","))
    exp = calls.get(key)
    if exp is None:
        err("%s not in view" % (key,))
        continue
    if len(exp) != n:
        err("%s: view has %d individuals, iter %d" % (key, len(exp), n))
    ecar = {i: str(d) for i, d in exp.items() if d}
    emiss = {i for i, d in exp.items() if d is None}
    if car != ecar:
        err("%s carriers iter %s view %s" % (key, car, ecar))
    if miss != emiss:
        err("%s missing iter %s view %s" % (key, sorted(miss), sorted(emiss)))
if sites != len(freq):
    err("iter has %d sites, freq %d" % (sites, len(freq)))
print("sites %d, individuals %d, mismatches %d" % (sites, n, errors))
sys.exit(1 if errors else 0)
