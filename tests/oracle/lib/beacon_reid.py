#!/usr/bin/env python3
"""beacon_reid.py - the Shringarpure-Bustamante likelihood-ratio attack
(AJHG 97:631, 2015) against a running `promise serve`, for
tests/oracle/beacon_reid.sh. Python 3 standard library only.

  beacon_reid.py split VCF.GZ SAMPLES.TSV OUTDIR N_BEACON N_OUT N_TARGETS SEED
      Splits the genotyped individuals of one simulated population into the
      beacon (N_BEACON individuals: OUTDIR/beacon.samples, the VCF sample ids
      to ingest), N_OUT out-of-beacon targets and a reference panel (the
      rest), written to OUTDIR/split.json, with N_TARGETS targets drawn
      from each side (OUTDIR/targets.samples, OUTDIR/panel.samples).

  beacon_reid.py plan OUTDIR MAX_QUERIES
      Computes each target's questions (below) into
      OUTDIR/plans-MAX_QUERIES.json, once for the attacks that follow.

  beacon_reid.py attack OUTDIR URL MODE N_TARGETS MAX_QUERIES [TOKENS]
      Reads OUTDIR/panel.tsv (CHROM POS REF ALT, then the panel's GTs
      run together) and OUTDIR/targets.tsv (CHROM POS REF ALT, then one GT
      column per target: OUTDIR/targets.samples, in-beacon targets first),
      both made by bcftools from the same VCF; each target's questions are
      cached in OUTDIR/plans-MAX_QUERIES.json.
      MODE "open": one anonymous attacker (answers do not depend on who
      asks, so every distinct question is asked once). Any other MODE (a
      name for the serving, e.g. "default"): one user per target (TOKENS:
      a file of bearer tokens, one a line, 2 * N_TARGETS of them), so that
      no target's budget is spent by another target's attack. For the
      first N_TARGETS targets in the beacon and as many out of it, the
      attacker knows the target's genotypes and allele frequencies from
      the reference panel, and asks the target's alternate alleles rarest
      first. Prints the attack's power at a false-positive rate of 0.05
      after n queries with a bootstrap 95% interval, and writes
      OUTDIR/power-MODE.json.

The statistic (Shringarpure & Bustamante's LRT with per-site frequencies:
per query i with answer x_i, panel frequency f_i, N beacon individuals,
D_i = (1-f_i)^(2N), D'_i = (1-f_i)^(2N-2), error rate delta):
    LLR = sum_i x_i log((1 - delta D'_i)/(1 - D_i)) + (1-x_i) log(delta D'_i / D_i)
large values say "in the beacon". The threshold is calibrated on the
out-of-beacon targets' LLR after the same number of queries: their
k-th smallest, k = ceil(0.95 (n + 1)), which bounds the false-positive
rate by 0.05 (see threshold()). The power is the share of in-beacon
targets above it.
"""
import concurrent.futures
import gzip
import json
import math
import os
import random
import sys
import urllib.error
import urllib.request

DELTA = 1e-3
FPR = 0.05
BOOT = 1000
PERM = 2000


def individuals(samples_tsv, vcf_samples):
    """VCF sample id -> personnummer, for the genotyped samples."""
    want = set(vcf_samples)
    out = {}
    with open(samples_tsv) as fh:
        head = fh.readline().rstrip("\n").split("\t")
        si, pi = head.index("sample_id"), head.index("personnummer")
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[si] in want:
                out[f[si]] = f[pi]
    return out


def split(vcf, samples_tsv, outdir, n_beacon, n_out, n_targets, seed):
    samples, _ = read_vcf_header_only(vcf)
    who = individuals(samples_tsv, samples)
    by_person = {}
    for s in samples:
        by_person.setdefault(who.get(s, s), []).append(s)
    people = sorted(by_person)
    random.Random(seed).shuffle(people)
    if len(people) < n_beacon + n_out + 100 or n_targets > min(n_beacon, n_out):
        sys.exit("beacon_reid: only %d genotyped individuals" % len(people))
    beacon, out, panel = people[:n_beacon], people[n_beacon:n_beacon + n_out], people[n_beacon + n_out:]
    # one sample per person (the first), so every column is one individual
    pick = lambda ps: [by_person[p][0] for p in ps]
    sp = {"beacon": pick(beacon), "out": pick(out), "panel": pick(panel)}
    rng = random.Random(seed + 1)
    sp["targets_in"] = rng.sample(sp["beacon"], n_targets)
    sp["targets_out"] = rng.sample(sp["out"], n_targets)
    for name, ids in (("beacon", sp["beacon"]), ("panel", sp["panel"]),
                      ("targets", sp["targets_in"] + sp["targets_out"])):
        with open(os.path.join(outdir, name + ".samples"), "w") as fh:
            fh.write("".join(s + "\n" for s in ids))
    with open(os.path.join(outdir, "split.json"), "w") as fh:
        json.dump(sp, fh)
    print("beacon %d, out-of-beacon %d, reference panel %d individuals; %d + %d targets" %
          (len(beacon), len(out), len(panel), n_targets, n_targets))


def read_vcf_header_only(path):
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith("#CHROM"):
                return line.rstrip("\n").split("\t")[9:], None
    return [], None


def ask(url, site, token):
    chrom, pos, ref, alt = site
    q = "%s/api/beacon/v2/g_variants?referenceName=%s&start=%d&referenceBases=%s&alternateBases=%s" % (
        url, chrom, pos - 1, ref, alt)
    req = urllib.request.Request(q)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return 1 if json.load(r)["responseSummary"]["exists"] else 0
        except urllib.error.HTTPError as e:
            if e.code != 429 or attempt == 4:
                raise
    raise RuntimeError("unreachable")


def llr_terms(freqs, n_beacon):
    """per site: (LLR of a yes, LLR of a no)."""
    out = []
    for f in freqs:
        d = (1 - f) ** (2 * n_beacon)
        d1 = (1 - f) ** (2 * n_beacon - 2)
        yes = math.log((1 - DELTA * d1) / max(1 - d, 1e-300))
        no = math.log(max(DELTA * d1, 1e-300) / max(d, 1e-300))
        out.append((yes, no))
    return out


def threshold(out_scores, fpr=FPR):
    """The test's threshold from a null sample: its k-th smallest value with
    k = ceil((1 - fpr)(n + 1)). A new null score exceeds the k-th of n
    exchangeable ones with probability (n + 1 - k)/(n + 1) <= fpr, so the
    false-positive rate is at most fpr whatever the null distribution
    (the plain 95th percentile, k = ceil(0.95 n), gives 6/101 for n = 100).
    None when n is too small for that."""
    o = sorted(out_scores)
    k = int(math.ceil((1 - fpr) * (len(o) + 1) - 1e-9))
    return o[k - 1] if 1 <= k <= len(o) else None


def power_at(in_scores, out_scores, fpr=FPR):
    """share of in-beacon scores above the threshold (ties are misses)."""
    thr = threshold(out_scores, fpr)
    if thr is None:
        return 0.0
    return sum(s > thr for s in in_scores) / len(in_scores)


def bootstrap_ci(in_scores, out_scores, rng, reps=BOOT, level=0.95):
    """percentile interval of the power over resampled targets (both sides)."""
    ni, no = len(in_scores), len(out_scores)
    ps = sorted(power_at([in_scores[rng.randrange(ni)] for _ in range(ni)],
                         [out_scores[rng.randrange(no)] for _ in range(no)])
                for _ in range(reps))
    a = (1 - level) / 2
    return ps[int(a * reps)], ps[min(reps - 1, int((1 - a) * reps))]


def permutation(in_scores, out_scores, rng, reps=PERM):
    """The power under random in/out labels of the same targets: what the
    statistic shows when it knows nothing of membership. A permutation
    test, exact when in and out targets are exchangeable (as they are for
    a beacon that leaks nothing: the split is random, every target has its
    own user). -> (p-value of the observed power, 99th percentile of the
    relabelled powers)."""
    obs = power_at(in_scores, out_scores)
    s, n = list(in_scores) + list(out_scores), len(in_scores)
    ps = []
    for _ in range(reps):
        rng.shuffle(s)
        ps.append(power_at(s[:n], s[n:]))
    ps.sort()
    return (1 + sum(p >= obs for p in ps)) / (reps + 1), ps[int(0.99 * reps)]


def read_tables(outdir):
    """-> sites [(chrom, pos, ref, alt)], panel frequencies, target dosages per site."""
    freq = {}
    with open(os.path.join(outdir, "panel.tsv")) as fh:
        for line in fh:
            c, p, r, a, gts = line.split()
            if "," in a or len(r) != 1 or len(a) != 1:
                continue
            # biallelic: every '1' is an alternate allele; '.' a missing one
            ac, an = gts.count("1"), len(gts) // 3 * 2 - gts.count(".")
            freq[(c, int(p), r, a)] = (ac + 0.5) / (an + 1)
    sites, freqs, dos = [], [], []
    with open(os.path.join(outdir, "targets.tsv")) as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            key = (f[0], int(f[1]), f[2], f[3])
            if key not in freq:
                continue
            sites.append(key)
            freqs.append(freq[key])
            dos.append([(g[:1] == "1") + (g[2:3] == "1") for g in f[4:]])
    return sites, freqs, dos


def read_plans(outdir, max_q):
    """each target column's questions, rarest in the panel first:
    [[chrom, pos, ref, alt, panel frequency], ...], cached in OUTDIR."""
    cache = os.path.join(outdir, "plans-%d.json" % max_q)
    if os.path.exists(cache):
        with open(cache) as fh:
            return json.load(fh)
    sites, freqs, dos = read_tables(outdir)
    ncols = len(dos[0]) if dos else 0
    carried = [[] for _ in range(ncols)]
    for i, row in enumerate(dos):
        for c, g in enumerate(row):
            if g > 0:
                carried[c].append(i)
    plans = []
    for c in range(ncols):
        # the order depends on the target's genotype and the panel only
        q = sorted(carried[c], key=lambda i: (freqs[i], i))[:max_q]
        plans.append([list(sites[i]) + [freqs[i]] for i in q])
    with open(cache, "w") as fh:
        json.dump(plans, fh)
    return plans


def attack(outdir, url, mode, n_targets, max_q, tokens_file=None):
    with open(os.path.join(outdir, "split.json")) as fh:
        sp = json.load(fh)
    all_plans = read_plans(outdir, max_q)
    n_beacon = len(sp["beacon"])
    targets = [(s, 1) for s in sp["targets_in"][:n_targets]] + \
              [(s, 0) for s in sp["targets_out"][:n_targets]]
    ncols = len(sp["targets_in"])
    cols = list(range(n_targets)) + [ncols + t for t in range(n_targets)]
    plans = [all_plans[c] for c in cols]
    # the questions as site ids, their panel frequencies and LLR terms
    site_id = {}
    for p in plans:
        for q in p:
            site_id.setdefault(tuple(q[:4]), len(site_id))
    sites = [None] * len(site_id)
    freqs = [0.0] * len(site_id)
    for p in plans:
        for q in p:
            i = site_id[tuple(q[:4])]
            sites[i], freqs[i] = (q[0], int(q[1]), q[2], q[3]), q[4]
    terms = llr_terms(freqs, n_beacon)
    plans = [[site_id[tuple(q[:4])] for q in p] for p in plans]
    tokens = [None] * len(targets)
    if mode != "open":
        with open(tokens_file) as fh:
            tokens = [t.strip() for t in fh if t.strip()]
        if len(tokens) < len(targets):
            sys.exit("beacon_reid: %d tokens for %d targets" % (len(tokens), len(targets)))

    answers = [dict() for _ in targets]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    n_requests = 0
    if mode == "open":
        distinct = sorted({i for p in plans for i in p})
        got = dict(zip(distinct, pool.map(lambda i: ask(url, sites[i], None), distinct)))
        n_requests = len(distinct)
        for t, p in enumerate(plans):
            answers[t] = {i: got[i] for i in p}
    else:
        # one attacker per target; each attacker asks in order (its budget
        # state matters), the attackers run side by side
        def run(t):
            return {i: ask(url, sites[i], tokens[t]) for i in plans[t]}
        for t, a in enumerate(pool.map(run, range(len(targets)))):
            answers[t] = a
            n_requests += len(a)
    pool.shutdown()

    checkpoints = [n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if n < max_q]
    checkpoints.append(max_q)
    # Per target after n queries:
    #   llr    the S-B statistic above, on the beacon's answers: the test
    #          statistic, whose power is asserted;
    #   floor  the same statistic on an all-no transcript (a beacon that
    #          says nothing), for the record. It depends on the target's
    #          genotype and the panel only, not on membership, so in and
    #          out of the beacon it has one distribution and its power is
    #          chance: ~0.05, off by the sampling noise of the targets drawn.
    rng = random.Random(20151001)
    rows = []
    for n in checkpoints:
        sc = {"llr": ([], []), "floor": ([], [])}
        yes_in = yes_out = 0
        for t, (s, inside) in enumerate(targets):
            llr = floor = 0.0
            for i in plans[t][:n]:
                x = answers[t][i]
                llr += terms[i][0] if x else terms[i][1]
                floor += terms[i][1]
                if inside:
                    yes_in += x
                else:
                    yes_out += x
            side = 0 if inside else 1
            sc["llr"][side].append(llr)
            sc["floor"][side].append(floor)
        lo, hi = bootstrap_ci(*sc["llr"], rng)
        perm_p, chance99 = permutation(*sc["llr"], rng)
        rows.append({"queries": n, "power": power_at(*sc["llr"]), "ci95": [lo, hi],
                     "perm_p": perm_p, "chance_p99": chance99,
                     "power_floor": power_at(*sc["floor"]),
                     "yes_in": yes_in / n_targets, "yes_out": yes_out / n_targets})
    res = {"mode": mode, "beacon": n_beacon, "targets_in": n_targets, "targets_out": n_targets,
           "fpr": FPR, "max_queries": max_q, "requests": n_requests,
           "mean_queries": sum(len(p) for p in plans) / len(plans), "rows": rows}
    with open(os.path.join(outdir, "power-%s.json" % mode), "w") as fh:
        json.dump(res, fh)
    print("%s: %d requests; %d + %d targets, %.0f queries each on average" %
          (mode, n_requests, n_targets, n_targets, res["mean_queries"]))
    print("queries\tpower\t95% CI\t\tperm. p\tchance p99\tfloor\tyes/target in\tout")
    for r in rows:
        print("%d\t%.3f\t%.3f-%.3f\t%.4f\t%.3f\t\t%.3f\t%.2f\t\t%.2f" % (
            r["queries"], r["power"], r["ci95"][0], r["ci95"][1], r["perm_p"],
            r["chance_p99"], r["power_floor"], r["yes_in"], r["yes_out"]))


def main(argv):
    if len(argv) == 9 and argv[1] == "split":
        split(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), int(argv[7]), int(argv[8]))
    elif len(argv) == 4 and argv[1] == "plan":
        plans = read_plans(argv[2], int(argv[3]))
        print("%d targets' questions, %d at most each" % (len(plans), int(argv[3])))
    elif len(argv) >= 7 and argv[1] == "attack":
        attack(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]),
               argv[7] if len(argv) > 7 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
