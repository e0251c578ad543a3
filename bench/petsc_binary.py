#!/usr/bin/python3
"""Interaction TSV -> PETSc binary AIJ matrix (what MatLoad reads), for bench/slepc_svd.c.

Usage: bench/petsc_binary.py INPUT.tsv OUTPUT.petsc [--binarize] [--header | --no-header]

INPUT: user<TAB>item[<TAB>value] per line. Ids are arbitrary strings, numbered in order of first
appearance (as linsim numbers them); a missing value is 1; duplicate (user, item) pairs are summed
(--binarize: every stored entry becomes 1, after summing). The first line is a header when told
so, or by default when it reads "user<TAB>item..." or its value field is not a number.

OUTPUT, all big-endian: int32 MAT_FILE_CLASSID (1211216), rows M, columns N, nonzeros nnz; then M
int32 row lengths; then nnz int32 column indices (sorted within each row); then nnz float64 values.

Prints one JSON line: {"rows", "cols", "nnz", "seconds_read", "seconds_write"}.
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

MAT_FILE_CLASSID = 1211216


def first_line_is_header(path):
    with open(path, "rb") as f:
        fields = f.readline().rstrip(b"\r\n").split(b"\t")
    if len(fields) >= 2 and fields[0].strip().lower() in (b"user", b"user_id", b"userid") and \
            fields[1].strip().lower() in (b"item", b"item_id", b"itemid"):
        return True
    if len(fields) >= 3:
        try:
            float(fields[2])
        except ValueError:
            return True
    return False


def first_appearance_codes(column):
    # Categorical parsing keeps one string per distinct id (not one per line); its codes follow the
    # sorted categories, so renumber them in order of first appearance.
    codes = column.cat.codes.to_numpy()
    if (codes < 0).any():
        raise SystemExit("petsc_binary.py: a line has an empty user or item id")
    order, _ = pd.factorize(codes, sort=False)
    return order.astype(np.int64), int(order.max()) + 1 if len(order) else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--binarize", action="store_true", help="every stored entry becomes 1 (after summing)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--header", dest="header", action="store_true", default=None)
    group.add_argument("--no-header", dest="header", action="store_false")
    args = ap.parse_args()

    start = time.perf_counter()
    header = first_line_is_header(args.input) if args.header is None else args.header
    with open(args.input, "rb") as f:
        if header:
            f.readline()
        width = len(f.readline().rstrip(b"\r\n").split(b"\t"))
    if width < 2:
        raise SystemExit(f"petsc_binary.py: {args.input}: expected user<TAB>item[<TAB>value] lines")
    names = ["user", "item", "value"][:min(width, 3)]
    dtypes = {"user": "category", "item": "category"}
    if width >= 3:
        dtypes["value"] = np.float64
    table = pd.read_csv(args.input, sep="\t", header=None, names=names, usecols=range(len(names)),
                        skiprows=1 if header else 0, dtype=dtypes, engine="c", na_filter=width >= 3,
                        keep_default_na=False, na_values={"value": [""]} if width >= 3 else None,
                        quoting=3)  # csv.QUOTE_NONE: ids are taken as they are
    rows, m = first_appearance_codes(table["user"])
    cols, n = first_appearance_codes(table["item"])
    if width >= 3:
        values = table["value"].to_numpy(dtype=np.float64, copy=True)
        values[np.isnan(values)] = 1.0
    else:
        values = np.ones(len(rows))
    del table
    X = sp.csr_matrix((values, (rows, cols)), shape=(m, n))  # duplicates summed
    del rows, cols, values
    X.sum_duplicates()
    X.sort_indices()
    if args.binarize:
        X.data[:] = 1.0
    if X.nnz >= 2**31 or m >= 2**31 or n >= 2**31:
        raise SystemExit("petsc_binary.py: the matrix needs 64-bit indices (PETSc's 32-bit binary format)")
    seconds_read = time.perf_counter() - start

    start = time.perf_counter()
    with open(args.output, "wb") as f:
        f.write(np.array([MAT_FILE_CLASSID, m, n, X.nnz], dtype=">i4").tobytes())
        f.write(np.diff(X.indptr).astype(">i4").tobytes())
        f.write(X.indices.astype(">i4").tobytes())
        f.write(X.data.astype(">f8").tobytes())
    seconds_write = time.perf_counter() - start
    print(json.dumps({"rows": m, "cols": n, "nnz": int(X.nnz), "seconds_read": round(seconds_read, 3),
                      "seconds_write": round(seconds_write, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
