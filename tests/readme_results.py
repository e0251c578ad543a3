#!/usr/bin/python3
"""The README's reproduction numbers against a run of the main job: `linsim reproduce --seeds 5`
with the defaults the README states. Its table and the gauge spread must be the run's results.md
line for line, and every number of the prose under them must be what the run's results.json
rounds to: the eq1 gauges' AUC range, the best remedy, IPS on eq1's symmetric gauge, the
popularity percentiles of dot products and item-kNN, the remedies' distance from the 50th
percentile, and the cosine-trained model on seed 42.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def table_and_spread(text):
    """The lines of the first table whose header starts '| variant |', and the spread line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variant | same-cluster AUC"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    spread = next(line for line in lines if line.startswith("Spread of the AUC across the eq1 gauges"))
    return lines[start:end], spread


def ordinal(x):
    """65 -> '65th', 71 -> '71st' (x rounded to a whole number)."""
    n = int(round(x))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--linsim", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    out = os.path.join(args.work, "reproduction")
    subprocess.run([args.linsim, "reproduce", "--out", out, "--seeds", "5"], check=True)

    readme = open(args.readme, encoding="utf-8").read()
    run_table, run_spread = table_and_spread(open(os.path.join(out, "results.md"), encoding="utf-8").read())
    readme_table, readme_spread = table_and_spread(readme)
    for line in readme_table:
        check(line in run_table, f"README row '{line}' is a row of the run's results.md")
    check(len(readme_table) == len(run_table), f"README's table has the run's {len(run_table)} lines")
    check(readme_spread == run_spread, f"'{readme_spread}' is the run's '{run_spread}'")

    # The prose, each number from results.json rounded as the README prints it (line breaks and
    # indentation read as single spaces).
    readme = " ".join(readme.split())
    results = json.load(open(os.path.join(out, "results.json")))
    variants = {v["name"]: v for v in results["variants"]}
    auc = {name: v["auc"]["mean"] for name, v in variants.items()}
    percentile = {name: v["popularity_percentile_at_k"]["mean"] for name, v in variants.items()}
    gauges = [auc[f"eq1 {g} cosine"] for g in ("item-orthonormal", "symmetric", "input-orthonormal", "balanced")]
    claim = f"ranges from {min(gauges):.3f} to {max(gauges):.3f}"
    check(claim in readme, f"the eq1 gauges' AUC: '{claim}'")
    remedies = ["eq1 ips symmetric cosine", "eq2 ips cosine", "eq2 standardize cosine", "sppmi cosine",
                "cosine-trained cosine"]
    best = max((name for name in auc if name != "ground truth"), key=auc.get)
    check(best == "eq2 standardize cosine" and f"gives the best mean AUC here, {auc[best]:.2f}" in readme,
          f"the best mean AUC: {best}, {auc[best]:.2f}")
    claim = (f"lifts eq1's symmetric gauge from {auc['eq1 symmetric cosine']:.2f} to "
             f"{auc['eq1 ips symmetric cosine']:.2f}")
    check(claim in readme, f"IPS on eq1's symmetric gauge: '{claim}'")
    check(round(auc["eq2 ips cosine"], 2) == round(auc["eq2 cosine"], 2),
          f"IPS leaves eq2 where it was: {auc['eq2 ips cosine']:.3f} against {auc['eq2 cosine']:.3f}")
    check(max(auc["sppmi cosine"], auc["cosine-trained cosine"]) < auc["eq2 cosine"],
          "SPPMI and the cosine-trained model do not beat eq2's plain cosine on average")
    low, high = sorted([percentile["eq2 dot"], percentile["raw (item-kNN)"]])
    claim = f"at the {ordinal(low)}–{ordinal(high)}"
    check(claim in readme, f"the popularity of dot products and item-kNN: '{claim}'")
    worst = max(abs(percentile[name] - 50) for name in remedies)
    check(worst <= 3 and "all stay within 3 points of the 50th percentile" in readme,
          f"the remedies' popularity percentiles are within {worst:.2f} of 50")
    seed42 = variants["cosine-trained cosine"]["per_seed"]["auc"][results["seeds"].index(42)]
    claim = f"({seed42:.2f} on seed 42 after {results['options']['cosine_epochs']} L-BFGS iterations"
    check(claim in readme, f"the cosine-trained model on seed 42: '{claim}'")

    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
