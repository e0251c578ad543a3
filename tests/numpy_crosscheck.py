#!/usr/bin/python3
"""Cross-check linsim against an independent numpy implementation of MATH.md M1, M2 and M4.

Reads MovieLens 100K (u.data) itself, binarises it, computes the closed forms with a dense
eigen-decomposition of XᵀX, and compares with `linsim fit` + `linsim similar-items`:
item–item scores to 1e-6 relative, neighbour lists identical up to exact ties, and the model
files loaded with numpy.load unchanged. Exit 77 (skipped) when the data or numpy is missing.
"""
import argparse
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not available to /usr/bin/python3")
    sys.exit(77)

SKIP = 77


def load_ml100k(path, user_ids, item_ids):
    users = {u: i for i, u in enumerate(user_ids)}
    items = {t: i for i, t in enumerate(item_ids)}
    X = np.zeros((len(user_ids), len(item_ids)))
    with open(path) as f:
        for line in f:
            u, i, r, _ = line.rstrip("\n").split("\t")
            if float(r) > 0:
                X[users[u], items[i]] = 1.0
    return X


def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def top_k(S, k):
    """Top-k per row excluding the diagonal; higher score first, ties by lower index."""
    S = S.copy()
    np.fill_diagonal(S, -np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(S.shape[1]), S.shape), -S), axis=1)
    return order[:, :k]


def cosine(F):
    norms = np.linalg.norm(F, axis=1)
    floor = 1e-10 * norms.max()
    inv = np.where(norms > floor, 1.0 / np.where(norms > floor, norms, 1.0), 0.0)
    N = F * inv[:, None]
    return N @ N.T


def compare_neighbours(name, table, S, item_ids, k):
    index = {t: i for i, t in enumerate(item_ids)}
    lines = table.strip("\n").split("\n")
    assert lines[0] == "query\trank\tneighbor\tscore", lines[0]
    got = {}
    for line in lines[1:]:
        q, r, nb, s = line.split("\t")
        got.setdefault(index[q], []).append((int(r), index[nb], float(s)))
    want = top_k(S, k)
    scale = np.abs(S).max()
    worst = 0.0
    for q in range(S.shape[0]):
        row = got[q]
        assert [r for r, _, _ in row] == list(range(1, k + 1)), f"{name}: ranks of query {q}"
        for r, (_, j, s) in enumerate(row):
            worst = max(worst, abs(s - S[q, j]) / scale)
            w = want[q, r]
            if j != w and abs(S[q, j] - S[q, w]) > 1e-9 * scale:
                raise AssertionError(f"{name}: query {item_ids[q]} rank {r + 1}: linsim {item_ids[j]} "
                                     f"({S[q, j]!r}) vs numpy {item_ids[w]} ({S[q, w]!r})")
    assert worst < 1e-6, f"{name}: worst relative score difference {worst:.3g}"
    print(f"  {name}: {S.shape[0]} queries x top-{k} agree (worst relative score difference {worst:.2e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--linsim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", default=os.environ.get("LINSIM_DATA_DIR", ""))
    ap.add_argument("--rank", type=int, default=50)
    args = ap.parse_args()
    data = os.path.join(args.data, "ml-100k", "u.data") if args.data else ""
    if not data or not os.path.exists(data):
        print("SKIP: MovieLens 100K not found; set LINSIM_DATA_DIR to the folder holding ml-100k/")
        return SKIP
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    k = args.rank
    X = None
    V = sigma = None

    def fit(name, *options):
        out = os.path.join(args.work, name)
        subprocess.run([args.linsim, "fit", "--input", data, "--rank", str(k), "--out", out, *options], check=True)
        return out

    def similar(model, measure):
        return subprocess.run([args.linsim, "similar-items", "--model", model, "--measure", measure, "--all",
                               "--top", "10"], check=True, capture_output=True, text=True).stdout

    # M2 (eq2), λ = 10: B = V_k dMat(sqrt((σ − λ)_+)); projected C = V_k dMat(σ s).
    lam2 = 10.0
    m = fit("eq2", "--model", "eq2", "--lambda", str(lam2))
    item_ids = read_lines(os.path.join(m, "item_ids.tsv"))
    user_ids = read_lines(os.path.join(m, "user_ids.tsv"))
    X = load_ml100k(data, user_ids, item_ids)
    G = X.T @ X
    eig, vecs = np.linalg.eigh(G)
    sigma = np.sqrt(np.maximum(eig[::-1][:k], 0))
    V = vecs[:, ::-1][:, :k]
    for f in ["item_embeddings", "user_embeddings", "encoder", "singular_values", "interactions_data"]:
        np.load(os.path.join(m, f + ".npy"))  # loads unchanged
    got_sigma = np.load(os.path.join(m, "singular_values.npy"))
    assert np.allclose(got_sigma, sigma, rtol=1e-9), "singular values differ"
    s2 = np.maximum(1 - lam2 / sigma, 0)
    B2 = V * np.sqrt(np.maximum(sigma - lam2, 0))
    Bl = np.load(os.path.join(m, "item_embeddings.npy"))
    assert np.abs(Bl @ Bl.T - B2 @ B2.T).max() < 1e-6 * np.abs(B2 @ B2.T).max(), "eq2: B Bᵀ differs"
    indptr = np.load(os.path.join(m, "interactions_indptr.npy"))
    assert indptr[-1] == X.sum(), "stored interactions differ"
    print("eq2 (lambda 10):")
    compare_neighbours("eq2 projected", similar(m, "projected"), cosine(V * (sigma * s2)), item_ids, 10)
    compare_neighbours("eq2 cosine", similar(m, "cosine"), cosine(B2), item_ids, 10)
    compare_neighbours("raw", similar(m, "raw"), cosine(X.T), item_ids, 10)

    # M1 (eq1), each gauge: g = σ²/(σ² + λ).
    lam1 = 1000.0
    g = sigma**2 / (sigma**2 + lam1)
    gauges = {
        "symmetric": V * np.sqrt(g),
        "item-orthonormal": V,
        "input-orthonormal": V * g,
        "balanced": V * np.sqrt(sigma * g),
    }
    print("eq1 (lambda 1000):")
    for gauge, B in gauges.items():
        m = fit("eq1-" + gauge, "--model", "eq1", "--gauge", gauge, "--lambda", str(lam1))
        Bl = np.load(os.path.join(m, "item_embeddings.npy"))
        ref = B @ B.T
        diff = np.abs(Bl @ Bl.T - ref).max() / np.abs(ref).max()
        assert diff < 1e-6, f"eq1 {gauge}: B Bᵀ differs by {diff:.3g}"
        print(f"  eq1 {gauge}: B B^T agrees (relative difference {diff:.2e})")
        compare_neighbours(f"eq1 {gauge} cosine", similar(m, "cosine"), cosine(B), item_ids, 10)
        compare_neighbours(f"eq1 {gauge} projected", similar(m, "projected"), cosine(V * (sigma * g)), item_ids, 10)
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
