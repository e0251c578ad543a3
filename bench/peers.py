#!/usr/bin/python3
"""The Python routes linsim is measured against (bench/peers.sh runs them side by side).

Each task prints one JSON line with its timings; peak memory comes from GNU time around the
process. Tasks:
  svds    FILE K OUT   read the TSV, build CSR, scipy svds top-K singular values (saved to OUT)
  eigsh   FILE K       read the TSV, X.T @ X (sparse), eigsh top-K of it
  rsvd    FILE K REF   read the TSV, scikit-learn randomized_svd (defaults), error against REF
  ease    FILE LAMBDA [DTYPE]
                       read the TSV, G = X.T @ X dense, numpy inv, EASE weights, in DTYPE
                       (float64, the default, or float32)
  topn    P K TOP      all-items top-TOP cosine neighbours of P random K-dim vectors, blocked
                       float32 matmul + argpartition
  powerlaw USERS ITEMS INTERACTIONS SEED OUT
                       a second generator, independent of linsim's simulator: each interaction
                       draws its user and its item independently from Zipf-like laws
                       (P(user i) ∝ (i + 10)^-0.6, P(item j) ∝ (j + 10)^-0.9 over shuffled ids),
                       duplicates dropped, written as a user<TAB>item TSV with a header
  compare A B          max relative difference of two singular-value files (.npy), both sorted
                       largest first; fails when their counts differ
  weights A B          relative Frobenius difference of two weight matrices (.npy)
"""
import json
import os
import sys
import time

import numpy as np


def read_tsv(path):
    import scipy.sparse as sp
    t = time.perf_counter()
    pairs = np.loadtxt(path, dtype=np.int64, skiprows=1, delimiter="\t", usecols=(0, 1))
    users, items = np.unique(pairs[:, 0], return_inverse=True)[1], np.unique(pairs[:, 1], return_inverse=True)[1]
    X = sp.csr_matrix((np.ones(len(users)), (users, items)))
    X.sum_duplicates()
    X.data[:] = 1.0
    return X, time.perf_counter() - t


def report(**fields):
    print(json.dumps(fields), flush=True)


def main():
    task = sys.argv[1]
    if task == "svds":
        import scipy.sparse.linalg as sla
        X, read_s = read_tsv(sys.argv[2])
        k = int(sys.argv[3])
        t = time.perf_counter()
        sigma = np.sort(sla.svds(X, k=k, return_singular_vectors=False))[::-1]
        np.save(sys.argv[4], sigma)
        report(task=task, read_s=read_s, solve_s=time.perf_counter() - t, shape=X.shape, nnz=int(X.nnz))
    elif task == "eigsh":
        import scipy.sparse.linalg as sla
        X, read_s = read_tsv(sys.argv[2])
        k = int(sys.argv[3])
        t = time.perf_counter()
        G = (X.T @ X).tocsr()
        gram_s = time.perf_counter() - t
        values = sla.eigsh(G, k=k, return_eigenvectors=False)
        report(task=task, read_s=read_s, gram_s=gram_s, solve_s=time.perf_counter() - t, largest=float(values.max()))
    elif task == "rsvd":
        from sklearn.utils.extmath import randomized_svd
        X, read_s = read_tsv(sys.argv[2])
        k = int(sys.argv[3])
        t = time.perf_counter()
        _, sigma, _ = randomized_svd(X, n_components=k, random_state=0)
        solve_s = time.perf_counter() - t
        ref = np.load(sys.argv[4])
        report(task=task, read_s=read_s, solve_s=solve_s, max_rel_err=float(np.max(np.abs(sigma - ref) / ref)))
    elif task == "ease":
        X, read_s = read_tsv(sys.argv[2])
        lam = float(sys.argv[3])
        dtype = np.dtype(sys.argv[4] if len(sys.argv) > 4 else "float64")
        X = X.astype(dtype)
        t = time.perf_counter()
        G = (X.T @ X).toarray()
        gram_s = time.perf_counter() - t
        G[np.diag_indices_from(G)] += lam
        P = np.linalg.inv(G)
        del G
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0.0
        report(task=task, read_s=read_s, gram_s=gram_s, solve_s=time.perf_counter() - t, p=int(B.shape[0]),
               dtype=str(B.dtype))
    elif task == "topn":
        p, k, top = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        rng = np.random.default_rng(7)
        E = rng.standard_normal((p, k)).astype(np.float32)
        E /= np.linalg.norm(E, axis=1, keepdims=True)
        t = time.perf_counter()
        block = 2048
        out = np.empty((p, top), dtype=np.int64)
        for q0 in range(0, p, block):
            S = E[q0:q0 + block] @ E.T
            idx = np.argpartition(-S, top, axis=1)[:, :top]
            part = np.take_along_axis(S, idx, axis=1)
            order = np.argsort(-part, axis=1)
            out[q0:q0 + block] = np.take_along_axis(idx, order, axis=1)
        solve_s = time.perf_counter() - t
        report(task=task, solve_s=solve_s, gflops=2.0 * p * p * k / solve_s / 1e9)
    elif task == "powerlaw":
        users, items, count, seed = (int(a) for a in sys.argv[2:6])
        rng = np.random.default_rng(seed)
        t = time.perf_counter()

        def law(size, exponent):
            weight = (np.arange(size) + 10.0) ** -exponent
            return rng.permutation(size), np.cumsum(weight / weight.sum())

        user_ids, user_cdf = law(users, 0.6)
        item_ids, item_cdf = law(items, 0.9)
        u = user_ids[np.minimum(np.searchsorted(user_cdf, rng.random(count)), users - 1)]
        i = item_ids[np.minimum(np.searchsorted(item_cdf, rng.random(count)), items - 1)]
        pairs = np.unique(u.astype(np.int64) * items + i)  # sorted by user, duplicates dropped
        # Written aside and renamed when complete: bench/peers.sh reuses a file that is there.
        path = sys.argv[6]
        with open(path + ".part", "w") as out:
            out.write("user\titem\n")
            for start in range(0, len(pairs), 1 << 20):
                part = pairs[start:start + (1 << 20)]
                out.write("\n".join(f"{a}\t{b}" for a, b in zip((part // items).tolist(), (part % items).tolist())))
                out.write("\n")
        os.replace(path + ".part", path)
        report(task=task, lines=int(len(pairs)), seconds=time.perf_counter() - t)
    elif task == "compare":
        # Largest first in both, whatever order each solver saved them in; a different count is a
        # failure, not a comparison of the first few.
        a, b = (np.sort(np.load(f))[::-1] for f in sys.argv[2:4])
        if len(a) != len(b) or len(a) == 0:
            sys.exit(f"compare: {len(a)} vs {len(b)} singular values")
        report(task=task, max_rel_diff=float(np.max(np.abs(a - b) / np.abs(b))), values=int(len(a)))
    elif task == "weights":
        # Two weight matrices of the same shape (memory-mapped, compared 1,000 columns at a time).
        a, b = np.load(sys.argv[2], mmap_mode="r"), np.load(sys.argv[3], mmap_mode="r")
        diff = ref = 0.0
        for c in range(0, b.shape[1], 1000):
            x, y = np.asarray(a[:, c:c + 1000], dtype=np.float64), np.asarray(b[:, c:c + 1000], dtype=np.float64)
            diff += float(np.sum((x - y) ** 2))
            ref += float(np.sum(y ** 2))
        report(task=task, rel_frobenius_diff=(diff / ref) ** 0.5, dtypes=[str(a.dtype), str(b.dtype)])
    else:
        sys.exit(f"unknown task {task}")


if __name__ == "__main__":
    main()
