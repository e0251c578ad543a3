"""Shared fixtures: small simulated data (no data set needed), the CLI beside the package (set by
ctest as LINSIM_CLI) and helpers that run it and read its tables."""
import csv
import os
import subprocess

import numpy as np
import pytest

import linsim


@pytest.fixture(scope="session")
def simulated():
    """A 1,500 x 300 binary matrix with 4 clusters, and its truth."""
    X, truth = linsim.simulate(users=1500, items=300, clusters=4, seed=7)
    return X, truth


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("LINSIM_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("LINSIM_CLI is not set to the linsim program (ctest sets it): CLI comparisons skipped")

    # The CLI configures OpenBLAS for its dense kernels; this process keeps Eigen's unless
    # configure_gemm() switched it. Results agree up to rounding across backends (and auto's
    # route may differ, docs/python.md); the comparisons here are exact, so the CLI runs on the
    # same backend as the package.
    env = dict(os.environ)
    if linsim.gemm_backend().startswith("eigen"):
        env["LINSIM_GEMM"] = "eigen"

    def run(*args, check=True):
        result = subprocess.run([path, *map(str, args)], capture_output=True, text=True, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"linsim {' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
        return result

    return run


def read_table(path):
    """A neighbour table (query, rank, neighbor, score) as {query: ([neighbors], [scores])}."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            ids, scores = out.setdefault(row["query"], ([], []))
            ids.append(row["neighbor"])
            scores.append(float(row["score"]))
    return out


def write_triplets(path, X, user_ids=None, item_ids=None):
    """X as a "user<TAB>item<TAB>value" file with a header, rows in CSR order."""
    C = X.tocoo()
    order = np.lexsort((C.col, C.row))
    users = user_ids if user_ids is not None else np.arange(X.shape[0])
    items = item_ids if item_ids is not None else np.arange(X.shape[1])
    with open(path, "w") as f:
        f.write("user\titem\tvalue\n")
        for r, c, v in zip(C.row[order], C.col[order], C.data[order]):
            f.write(f"{users[r]}\t{items[c]}\t{v:g}\n")
