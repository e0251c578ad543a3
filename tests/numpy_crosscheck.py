#!/usr/bin/python3
"""Cross-check linsim against an independent numpy implementation of math.md M1, M2 and M4.

Reads the interactions itself (MovieLens 100K's u.data, or data written by `linsim simulate`),
binarises them, computes the closed forms with a dense eigen-decomposition of XᵀX, and compares
with `linsim fit` + `linsim similar-items`: the stored training matrix exactly, the singular
values to 1e-9, the gauge-free products A Bᵀ, B Bᵀ and P = X A to 1e-6, item–item scores to 1e-6
relative, and neighbour lists identical up to exact ties.

--source simulated (the default) needs no data set. --source ml100k reads
$LINSIM_DATA_DIR/ml-100k/u.data (or --data DIR): exit 77 (skipped) when no data folder is given,
exit 1 (failure) when one is given but the file is missing. Exit 77 when numpy is missing.
Every check raises, so the script tests the same under `python3 -O`.
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
SCORE_TOL = 1e-6  # relative, item-item scores and gauge-free products
TIE_TOL = 1e-9  # relative: two neighbours this close may come in either order
ALL_GAUGES = ["symmetric", "item-orthonormal", "input-orthonormal", "balanced"]


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def read_ml100k(path):
    """(user, item) pairs with a rating > 0 (linsim binarises MovieLens ratings by default)."""
    pairs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            check(len(fields) == 4, f"{path}:{n}: expected 4 tab-separated fields, got {line!r}")
            if float(fields[2]) > 0:
                pairs.append((fields[0], fields[1]))
    return pairs


def read_simulated(path):
    """(user, item) pairs of `linsim simulate`'s output: a `user<TAB>item` header, then pairs."""
    with open(path) as f:
        lines = f.read().split("\n")
    check(lines[0] == "user\titem", f"{path}: header {lines[0]!r}, expected 'user\\titem'")
    pairs = []
    for n, line in enumerate(lines[1:], 2):
        if line:
            fields = line.split("\t")
            check(len(fields) == 2, f"{path}:{n}: expected 2 tab-separated fields, got {line!r}")
            pairs.append((fields[0], fields[1]))
    return pairs


def dense(pairs, user_ids, item_ids):
    users = {u: i for i, u in enumerate(user_ids)}
    items = {t: i for i, t in enumerate(item_ids)}
    X = np.zeros((len(user_ids), len(item_ids)))
    for u, i in pairs:
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


def rel_diff(got, want):
    check(got.shape == want.shape, f"shape {got.shape}, expected {want.shape}")
    return np.abs(got - want).max() / np.abs(want).max()


def compare_neighbours(name, table, S, item_ids, k):
    index = {t: i for i, t in enumerate(item_ids)}
    lines = table.strip("\n").split("\n")
    check(lines[0] == "query\trank\tneighbor\tscore", f"{name}: header {lines[0]!r}")
    got = {}
    for line in lines[1:]:
        fields = line.split("\t")
        check(len(fields) == 4, f"{name}: malformed line {line!r}")
        q, r, nb, s = fields
        check(q in index and nb in index, f"{name}: unknown item id in {line!r}")
        got.setdefault(index[q], []).append((int(r), index[nb], float(s)))
    p = S.shape[0]
    check(sorted(got) == list(range(p)), f"{name}: {len(got)} distinct queries in the table, expected all {p} items")
    want = top_k(S, k)
    scale = np.abs(S).max()
    check(scale > 0, f"{name}: the reference scores are all zero")
    worst = 0.0
    for q in range(p):
        row = got[q]
        check([r for r, _, _ in row] == list(range(1, k + 1)), f"{name}: ranks of query {item_ids[q]}: "
              f"{[r for r, _, _ in row]}")
        ids = [j for _, j, _ in row]
        check(q not in ids, f"{name}: query {item_ids[q]} is its own neighbour")
        check(len(set(ids)) == k, f"{name}: query {item_ids[q]} lists a neighbour twice")
        scores = [s for _, _, s in row]
        check(all(a >= b for a, b in zip(scores, scores[1:])), f"{name}: query {item_ids[q]}: scores not "
              f"in decreasing order: {scores}")
        for r, (_, j, s) in enumerate(row):
            worst = max(worst, abs(s - S[q, j]) / scale)
            w = want[q, r]
            check(j == w or abs(S[q, j] - S[q, w]) <= TIE_TOL * scale,
                  f"{name}: query {item_ids[q]} rank {r + 1}: linsim {item_ids[j]} ({S[q, j]!r}) "
                  f"vs numpy {item_ids[w]} ({S[q, w]!r})")
    check(worst < SCORE_TOL, f"{name}: worst relative score difference {worst:.3g}")
    print(f"  {name}: {p} queries x top-{k} agree (worst relative score difference {worst:.2e})")


def check_model(name, m, X, V, shrink, B_want, item_ids, user_ids, k):
    """The model directory against the closed form: ids, shapes, A Bᵀ = V dMat(shrink) Vᵀ (the
    gauge-free fit), P = X A, and B Bᵀ = B_want B_wantᵀ."""
    check(read_lines(os.path.join(m, "item_ids.tsv")) == item_ids, f"{name}: item_ids.tsv differs from the first fit's")
    check(read_lines(os.path.join(m, "user_ids.tsv")) == user_ids, f"{name}: user_ids.tsv differs from the first fit's")
    n, p = X.shape
    B = np.load(os.path.join(m, "item_embeddings.npy"))
    A = np.load(os.path.join(m, "encoder.npy"))
    P = np.load(os.path.join(m, "user_embeddings.npy"))
    for label, arr, shape in [("item_embeddings", B, (p, k)), ("encoder", A, (p, k)), ("user_embeddings", P, (n, k))]:
        check(arr.shape == shape and arr.dtype == np.float64,
              f"{name}: {label}.npy is {arr.dtype} {arr.shape}, expected float64 {shape}")
        check(np.isfinite(arr).all(), f"{name}: {label}.npy has non-finite entries")
    d = rel_diff(A @ B.T, (V * shrink) @ V.T)
    check(d < SCORE_TOL, f"{name}: A Bᵀ differs from V dMat(shrink) Vᵀ by {d:.3g}")
    d_p = rel_diff(P, X @ A)
    check(d_p < 1e-9, f"{name}: user embeddings differ from X A by {d_p:.3g}")
    d_b = rel_diff(B @ B.T, B_want @ B_want.T)
    check(d_b < SCORE_TOL, f"{name}: B Bᵀ differs by {d_b:.3g}")
    print(f"  {name}: A B^T, P = X A and B B^T agree (relative differences {d:.2e}, {d_p:.2e}, {d_b:.2e})")
    return B


def crosscheck_models(args, fit, options, k, lam1, lam2, X, sigma, V, item_ids, user_ids, gauges, with_raw):
    """eq2 and eq1 (the given gauges) fitted with `options` against the closed forms."""
    name = "-".join(options[1::2])

    def similar(model, measure):
        return subprocess.run([args.linsim, "similar-items", "--model", model, "--measure", measure, "--all",
                               "--top", "10"], check=True, capture_output=True, text=True).stdout

    # M2 (eq2): B = V_k dMat(sqrt((σ − λ)_+)), A Bᵀ = V dMat((1 − λ/σ)_+) Vᵀ; projected C = V_k dMat(σ s).
    m = fit(f"eq2-{name}", "--model", "eq2", "--lambda", str(lam2), *options)
    got_sigma = np.load(os.path.join(m, "singular_values.npy"))
    check(got_sigma.shape == (k,), f"singular_values.npy has shape {got_sigma.shape}, expected ({k},)")
    d = np.abs(got_sigma - sigma).max() / sigma[0]
    check(d < 1e-9, f"singular values differ by {d:.3g} relative to sigma_1")
    s2 = np.maximum(1 - lam2 / sigma, 0)
    B2 = V * np.sqrt(np.maximum(sigma - lam2, 0))
    if args.source == "simulated":
        check(0 < (sigma < lam2).sum() < k, f"eq2 lambda {lam2} should zero some but not all of the {k} "
              "components on the simulated data")
    print(f"eq2 (lambda {lam2:g}, {(sigma > lam2).sum()} of {k} components kept; singular values agree to {d:.1e}):")
    check_model("eq2", m, X, V, s2, B2, item_ids, user_ids, k)
    compare_neighbours("eq2 projected", similar(m, "projected"), cosine(V * (sigma * s2)), item_ids, 10)
    compare_neighbours("eq2 cosine", similar(m, "cosine"), cosine(B2), item_ids, 10)
    compare_neighbours("eq2 dot", similar(m, "dot"), B2 @ B2.T, item_ids, 10)
    if with_raw:
        compare_neighbours("raw", similar(m, "raw"), cosine(X.T), item_ids, 10)

    # M1 (eq1), each gauge: g = σ²/(σ² + λ), A Bᵀ = V dMat(g) Vᵀ.
    g = sigma**2 / (sigma**2 + lam1)
    if args.source == "simulated":
        check(g[0] > 0.9 and g[-1] < 0.5, f"eq1 lambda {lam1} should shrink strongly and weakly: g from "
              f"{g[0]:.2f} to {g[-1]:.2f}")
    factors = {
        "symmetric": V * np.sqrt(g),
        "item-orthonormal": V,
        "input-orthonormal": V * g,
        "balanced": V * np.sqrt(sigma * g),
    }
    if gauges:
        print(f"eq1 (lambda {lam1:g}, g from {g[0]:.3f} to {g[-1]:.3f}):")
    for gauge in gauges:
        B = factors[gauge]
        m = fit(f"eq1-{gauge}-{name}", "--model", "eq1", "--gauge", gauge, "--lambda", str(lam1), *options)
        check_model(f"eq1 {gauge}", m, X, V, g, B, item_ids, user_ids, k)
        compare_neighbours(f"eq1 {gauge} cosine", similar(m, "cosine"), cosine(B), item_ids, 10)
        compare_neighbours(f"eq1 {gauge} projected", similar(m, "projected"), cosine(V * (sigma * g)), item_ids, 10)


def run(args):
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    if args.source == "ml100k":
        if not args.data:
            print("SKIP: LINSIM_DATA_DIR is not set (set it to the folder holding ml-100k/, or pass --data)")
            return SKIP
        data = os.path.join(args.data, "ml-100k", "u.data")
        if not os.path.isfile(data):
            print(f"FAIL: LINSIM_DATA_DIR is set to {args.data}, but {data} is missing")
            return 1
        pairs = read_ml100k(data)
        lam1, lam2 = args.lambda_eq1 or 1000.0, args.lambda_eq2 or 10.0
        passes = [("auto", args.rank, ALL_GAUGES)]  # auto: the block Krylov solver at p = 1682
    else:
        data = os.path.join(args.work, "simulated.tsv")
        subprocess.run([args.linsim, "simulate", "--users", str(args.users), "--items", str(args.items),
                        "--seed", str(args.seed), "--out", data], check=True, stdout=subprocess.DEVNULL)
        pairs = read_simulated(data)
        # Chosen against this data's spectrum (seed 11: sigma_1 ≈ 589, sigma_5 ≈ 82, sigma_10 ≈ 30,
        # sigma_50 ≈ 24): eq2 zeroes the smallest components (sigma < lambda) at both ranks, eq1's
        # shrinkage g runs from 0.99 to below 0.5. Both regimes are checked below.
        lam1, lam2 = args.lambda_eq1 or 2000.0, args.lambda_eq2 or 35.0
        # auto is the dense Gram route at p <= 500. The operator solvers are checked with eq2 at
        # rank 10, where the spectrum has gaps of several per cent (at rank 50 it sits in the noise
        # bulk, where single eigenvectors are ill-determined); eq2's cosine depends on them.
        passes = [("auto", args.rank, ALL_GAUGES), ("randomized", 10, []), ("lanczos", 10, [])]
    print(f"data: {data} ({len(pairs)} interactions)")

    def fit(name, *options):
        out = os.path.join(args.work, name)
        subprocess.run([args.linsim, "fit", "--input", data, "--out", out, *options], check=True,
                       stdout=subprocess.DEVNULL)
        return out

    # The data as linsim stored it, against the data as read here.
    m = fit("eq2-ids", "--model", "eq2", "--rank", "2", "--lambda", str(lam2))
    item_ids = read_lines(os.path.join(m, "item_ids.tsv"))
    user_ids = read_lines(os.path.join(m, "user_ids.tsv"))
    check(len(set(item_ids)) == len(item_ids) and set(item_ids) == {i for _, i in pairs},
          "item_ids.tsv is not the set of items in the data")
    check(len(set(user_ids)) == len(user_ids) and set(user_ids) == {u for u, _ in pairs},
          "user_ids.tsv is not the set of users in the data")
    X = dense(pairs, user_ids, item_ids)
    n, p = X.shape
    indptr = np.load(os.path.join(m, "interactions_indptr.npy"))
    indices = np.load(os.path.join(m, "interactions_indices.npy"))
    values = np.load(os.path.join(m, "interactions_data.npy"))
    check(indptr.dtype == np.int32 and indices.dtype == np.int32 and values.dtype == np.float64,
          f"CSR dtypes {indptr.dtype}, {indices.dtype}, {values.dtype}; expected int32, int32, float64 (scipy's own)")
    check(indptr.shape == (n + 1,) and indptr[0] == 0 and indptr[-1] == len(indices) == len(values)
          and (np.diff(indptr) >= 0).all(), "stored interactions: malformed CSR")
    stored = np.zeros_like(X)
    stored[np.repeat(np.arange(n), np.diff(indptr)), indices] = values
    check(np.array_equal(stored, X), f"stored interactions differ from the data ({int(stored.sum())} vs "
          f"{int(X.sum())} ones)")
    eig, vecs = np.linalg.eigh(X.T @ X)
    eig, vecs = eig[::-1], vecs[:, ::-1]
    print(f"X: {n} x {p}, {int(X.sum())} ones, stored interactions identical")
    for solver, k, gauges in passes:
        check(k < p, f"rank {k} is not below the number of items {p}")
        options = ["--rank", str(k), "--solver", solver]
        if solver in ("randomized", "lanczos"):
            # Residuals of 1e-9 make single eigenvectors accurate to ~1e-8 at these gaps.
            options += ["--solver-tol", "1e-9"]
        sigma = np.sqrt(np.maximum(eig[:k], 0))
        V = vecs[:, :k]
        gap = sigma[k - 1] / np.sqrt(max(eig[k], 0)) - 1
        print(f"solver {solver}, rank {k}: sigma_1 {sigma[0]:.1f}, sigma_k {sigma[k - 1]:.2f} "
              f"(relative gap to sigma_k+1 {gap:.2g})")
        crosscheck_models(args, fit, options, k, lam1, lam2, X, sigma, V, item_ids, user_ids, gauges,
                          with_raw=(k, gauges) == passes[0][1:])
    print("all checks passed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--linsim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--source", choices=["simulated", "ml100k"], default="simulated")
    ap.add_argument("--data", default=os.environ.get("LINSIM_DATA_DIR", ""),
                    help="folder holding ml-100k/ (default: $LINSIM_DATA_DIR)")
    ap.add_argument("--rank", type=int, default=50)
    ap.add_argument("--lambda-eq1", type=float, default=None)
    ap.add_argument("--lambda-eq2", type=float, default=None)
    ap.add_argument("--users", type=int, default=3000, help="simulated users")
    ap.add_argument("--items", type=int, default=400, help="simulated items")
    ap.add_argument("--seed", type=int, default=11, help="simulation seed")
    args = ap.parse_args()
    try:
        return run(args)
    except CheckFailed as e:
        print(f"FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
