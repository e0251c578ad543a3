#!/usr/bin/python3
"""An independent numpy implementation of the paper's simulation (math.md M8), the closed forms
(M1, M2), the similarity measures (M4) and the cluster metrics (M7), with the same documented
choices as linsim but its own random numbers. Runs `linsim reproduce` and checks that every
variant's mean metric agrees within sampling error (3 standard errors of the difference of the
two means, plus 0.01). Exit 77 (skipped) without numpy/scipy.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    from scipy.stats import rankdata
except ImportError:
    print("SKIP: numpy/scipy are not available to /usr/bin/python3")
    sys.exit(77)


def simulate(rng, n, p, C, beta_min, beta_max, user_beta):
    pc = rng.dirichlet(np.ones(C))
    beta = rng.uniform(beta_min, beta_max, C)
    cluster = rng.choice(C, size=p, p=pc)
    pop = rng.power(beta[cluster])  # density β x^(β−1) on (0, 1]
    X = np.zeros((n, p), dtype=np.float32)
    for u in range(n):
        pref = rng.dirichlet(np.ones(C))
        k = int(min(p, max(1, math.ceil(p * rng.power(user_beta)))))
        w = pref[cluster] * pop
        X[u, rng.choice(p, size=k, replace=False, p=w / w.sum())] = 1.0
    return X, cluster, pop


def cosine(F):
    norms = np.linalg.norm(F, axis=1)
    floor = 1e-10 * norms.max()
    inv = np.where(norms > floor, 1.0 / np.where(norms > floor, norms, 1.0), 0.0)
    N = F * inv[:, None]
    return N @ N.T


def metrics(S, cluster, popularity, top):
    p = S.shape[0]
    same = cluster[:, None] == cluster[None, :]
    pct = 100.0 * (rankdata(popularity) - 0.5) / p
    aucs, precisions, pops = [], [], []
    for i in range(p):
        mask = np.ones(p, dtype=bool)
        mask[i] = False
        s, pos = S[i, mask], same[i, mask]
        n_pos, n_neg = pos.sum(), (~pos).sum()
        ranks = rankdata(s)
        order = np.lexsort((np.arange(p), -S[i]))
        order = order[order != i][:top]
        pops.append(pct[order].mean())
        if n_pos == 0 or n_neg == 0:
            continue
        aucs.append((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
        precisions.append(same[i, order].mean())
    return np.mean(aucs), np.mean(precisions), np.mean(pops)


def run_seed(seed, o):
    rng = np.random.default_rng(seed)
    X, cluster, pop = simulate(rng, o.users, o.items, o.clusters, 0.25, 1.5, 0.5)
    G = (X.T @ X).astype(np.float64)
    eig, vecs = np.linalg.eigh(G)
    sigma = np.sqrt(np.maximum(eig[::-1][: o.rank], 0))
    V = vecs[:, ::-1][:, : o.rank]
    g = sigma**2 / (sigma**2 + o.lambda_eq1)  # M1 shrinkage
    s2 = np.maximum(1 - o.lambda_eq2 / sigma, 0)  # M2 shrinkage
    B2 = V * np.sqrt(np.maximum(sigma - o.lambda_eq2, 0))
    observed = X.sum(axis=0)
    onehot = np.eye(o.clusters)[cluster]
    raw_cos = G / np.sqrt(np.outer(np.diag(G), np.diag(G)))
    variants = {
        "ground truth": onehot @ onehot.T,
        "eq1 item-orthonormal cosine": cosine(V),
        "eq1 symmetric cosine": cosine(V * np.sqrt(g)),
        "eq1 input-orthonormal cosine": cosine(V * g),
        "eq2 cosine": cosine(B2),
        "eq1 balanced cosine": cosine(V * np.sqrt(sigma * g)),
        "eq1 projected": cosine(V * (sigma * g)),
        "eq2 projected": cosine(V * (sigma * s2)),
        "eq2 dot": B2 @ B2.T,
        "raw (item-kNN)": raw_cos,
    }
    return {name: metrics(S, cluster, observed, o.top) for name, S in variants.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--linsim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--clusters", type=int, default=5)
    ap.add_argument("--rank", type=int, default=50)
    ap.add_argument("--lambda-eq1", type=float, default=10000)
    ap.add_argument("--lambda-eq2", type=float, default=100)
    ap.add_argument("--top", type=int, default=10)
    o = ap.parse_args()
    shutil.rmtree(o.work, ignore_errors=True)
    os.makedirs(o.work)
    out = os.path.join(o.work, "linsim")
    subprocess.run([o.linsim, "reproduce", "--out", out, "--seeds", str(o.seeds), "--users", str(o.users),
                    "--items", str(o.items), "--clusters", str(o.clusters), "--rank", str(o.rank),
                    "--lambda-eq1", str(o.lambda_eq1), "--lambda-eq2", str(o.lambda_eq2), "--top", str(o.top)],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "results.json")) as f:
        ours = {v["name"]: v for v in json.load(f)["variants"]}
    runs = [run_seed(1000 + s, o) for s in range(o.seeds)]
    failures = 0
    keys = [("auc", 0), ("precision_at_10", 1), ("popularity_percentile_at_10", 2)]
    print(f"{'variant':32s} {'metric':28s} {'linsim':>16s} {'numpy':>16s}")
    for name, v in ours.items():
        for key, idx in keys:
            values = np.array([r[name][idx] for r in runs])
            m, sd = values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0
            lm, lsd = v[key]["mean"], v[key]["sd"]
            scale = 100.0 if "percentile" in key else 1.0
            allowed = 3 * math.sqrt(lsd**2 / o.seeds + sd**2 / o.seeds) + 0.01 * scale
            ok = abs(lm - m) <= allowed
            failures += not ok
            print(f"{name:32s} {key:28s} {lm:8.3f}±{lsd:6.3f} {m:8.3f}±{sd:6.3f} {'ok' if ok else 'DIFFERENT'}")
    print("all variants agree within sampling error" if failures == 0 else f"{failures} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
