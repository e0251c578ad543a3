#!/usr/bin/env python3
"""linsim-mpi against linsim: the same model directories from 1, 2, 3 and 4 ranks.

Oracle: the single-process programme on the same input (itself checked against dense
decompositions and numpy elsewhere). Checked: ids and training interactions byte for byte,
model.json equal but for "processes", singular values to 1e-10 relative, item embeddings up to
sign (B Bᵀ to 1e-9), user embeddings up to column signs, EASE weights to 1e-10 (float32: as close
to the float64 weights as linsim fit's float32 weights are), all-rows neighbour and recommendation
tables equal up to ties; inputs as one file (split by byte ranges mid-line), as a directory of parts (headers, Spark's _SUCCESS/.crc files, a gzip
part) and a glob; the weightings, sppmi, --min-item-users, --strict. Failures: a malformed line
in the part of the last rank, a missing input, a glob matching nothing, a directory without parts,
an unwritable output, a write that fails on one rank, a rank that dies — every rank non-zero, the
rank and file named, no model directory or table left; memory limits on some ranks refused alike on
every rank, naming the rank; a rank out of memory stops the job;
--model cosine and --solver lanczos refused.

Exit 77 (skipped) when mpirun or linsim-mpi is missing, saying so.
"""
import argparse
import gzip
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def run(cmd, expect_ok=True, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if expect_ok and r.returncode != 0:
        sys.stderr.write(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}\n")
        raise SystemExit(1)
    return r


def mpirun(args, np_, *rest, expect_ok=True):
    cmd = [args.mpirun, "--oversubscribe", "-np", str(np_), args.linsim_mpi, *rest]
    return run(cmd, expect_ok=expect_ok, env=MPI_ENV)


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def column_signs(reference, other):
    s = np.sign(np.sum(reference * other, axis=0))
    s[s == 0] = 1
    return other * s


def compare_models(single, multi, label, ease_tol=1e-10, reference=None):
    ok = True
    for f in ["item_ids.tsv", "user_ids.tsv", "interactions_indptr.npy", "interactions_indices.npy",
              "interactions_data.npy"]:
        if not same_bytes(os.path.join(single, f), os.path.join(multi, f)):
            check(False, f"{label}: {f} differs from linsim fit's")
            ok = False
    a = json.load(open(os.path.join(single, "model.json")))
    b = json.load(open(os.path.join(multi, "model.json")))
    processes = b.pop("processes", None)
    a.pop("solver_reason"), b.pop("solver_reason")  # says how the solver ran (ranks, grid)
    a["input"].pop("path"), b["input"].pop("path")  # the parts' name, or the concatenation's
    if a != b:
        diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        check(False, f"{label}: model.json differs: {diff}")
        ok = False
    if processes is None:
        check(False, f"{label}: model.json does not record the processes")
        ok = False
    if a["model"] == "ease":
        wa = np.load(os.path.join(single, "weights.npy"))
        wb = np.load(os.path.join(multi, "weights.npy"))
        if reference is not None:
            # float32: as close to the float64 weights as linsim fit's float32 weights are (both
            # carry rounding of order κ·u, summed in different orders).
            w64 = np.load(os.path.join(reference, "weights.npy"))
            scale = np.abs(w64).max()
            ease_tol = 4 * np.abs(wa - w64).max() / scale + 1e-6
            err = np.abs(wb - w64).max() / scale
        else:
            err = np.abs(wa - wb).max() / np.abs(wa).max()
        if wa.shape != wb.shape or wa.dtype != wb.dtype or not err <= ease_tol:
            check(False, f"{label}: EASE weights differ by {err:.2e} (tol {ease_tol:.2e})")
            ok = False
    else:
        sa = np.load(os.path.join(single, "singular_values.npy"))
        sb = np.load(os.path.join(multi, "singular_values.npy"))
        err = np.max(np.abs(sa - sb) / np.abs(sa))
        if not err <= 1e-10:
            check(False, f"{label}: singular values differ by {err:.2e} relative")
            ok = False
        Ba = np.load(os.path.join(single, "item_embeddings.npy"))
        Bb = np.load(os.path.join(multi, "item_embeddings.npy"))
        gram_err = np.abs(Ba @ Ba.T - Bb @ Bb.T).max() / max(np.abs(Ba @ Ba.T).max(), 1e-300)
        if not gram_err <= 1e-9:
            check(False, f"{label}: B Bᵀ differs by {gram_err:.2e}")
            ok = False
        Pa = np.load(os.path.join(single, "user_embeddings.npy"))
        Pb = column_signs(Pa, np.load(os.path.join(multi, "user_embeddings.npy")))
        perr = np.abs(Pa - Pb).max() / np.abs(Pa).max()
        if Pa.shape != Pb.shape or not perr <= 1e-8:
            check(False, f"{label}: user embeddings differ by {perr:.2e}")
            ok = False
    if ok:
        check(True, f"{label}: same model as linsim fit")


def read_table(path):
    rows = {}
    with open(path) as f:
        header = f.readline()
        assert header == "query\trank\tneighbor\tscore\n", header
        for line in f:
            q, r, n, s = line.rstrip("\n").split("\t")
            rows.setdefault(q, []).append((n, float(s)))
    return rows


def same_tables(a, b, tol=1e-12):
    """Equal up to ties: the same queries, the same scores to `tol`, the same neighbours wherever
    a score is not tied (to `tol`) with another one of the list."""
    ta, tb = read_table(a), read_table(b)
    if list(ta) != list(tb):
        return False
    for q in ta:
        la, lb = ta[q], tb[q]
        if len(la) != len(lb):
            return False
        sa = np.array([s for _, s in la])
        sb = np.array([s for _, s in lb])
        if not np.allclose(sa, sb, rtol=tol, atol=tol):
            return False
        for i, ((na, s), (nb, _)) in enumerate(zip(la, lb)):
            tied = np.sum(np.abs(sa - s) <= tol * max(1.0, abs(s))) > 1
            if na != nb and not tied:
                return False
    return True


def write_messy_input(path, rng):
    """String ids, users scattered over the file (so their rows span ranks), duplicates, comments,
    blank lines, CRLF endings and a header; zeros, among them five users with nothing else (no row,
    counted as users_without_entries) scattered over the file too; comment lines that read as
    interactions (counted as commented_data_lines, and warned of)."""
    users = [f"user-{rng.integers(1 << 40):x}" for _ in range(300)]
    items = [f"it{j}:{rng.integers(1000)}" for j in range(120)]
    lines = ["user\titem\tvalue"]
    for t in range(5000):
        u = users[int(rng.zipf(1.3)) % len(users)] if t % 3 else users[rng.integers(len(users))]
        i = items[int(rng.zipf(1.5)) % len(items)] if t % 2 else items[rng.integers(len(items))]
        lines.append(f"{u}\t{i}\t{rng.integers(1, 6)}")
        if t % 997 == 0:
            lines.append("# a comment")
        if t % 401 == 0:
            lines.append(f"cold-{t % 5}\t{i}\t0")
        if t % 613 == 0:
            lines.append(f"{u}\t{i}\t0")
        if t % 1499 == 0:
            lines.append("")
        if t % 1201 == 5:
            lines.append(f"#{u}\t{i}\t1")
    with open(path, "w", newline="") as f:
        for k, line in enumerate(lines):
            f.write(line + ("\r\n" if k % 7 == 0 else "\n"))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--linsim", required=True)
    ap.add_argument("--linsim-mpi", required=True)
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if not args.mpirun or not os.path.exists(args.mpirun):
        print("mpirun not found: the MPI tests need openmpi-bin (scripts/install-deps.sh installs it); skipped")
        return 77
    if not os.path.exists(args.linsim_mpi):
        print(f"{args.linsim_mpi} not built (needs libopenmpi-dev and libscalapack-openmpi-dev); skipped")
        return 77
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    os.chdir(args.work)
    rng = np.random.default_rng(7)
    L = args.linsim

    # Inputs: a simulated file; a messy file; the messy file's lines as parts of a directory.
    run([L, "simulate", "--users", "1500", "--items", "250", "--out", "sim.tsv"])
    lines = write_messy_input("messy.tsv", rng)
    os.makedirs("parts")
    body = lines[1:]
    cuts = [0, 700, 701, 2600, 4000, len(body)]
    for k in range(5):
        chunk = body[cuts[k]:cuts[k + 1]]
        text = ("user\titem\tvalue\n" if k == 0 else "") + "".join(l + "\n" for l in chunk)
        if k == 3:
            with gzip.open(f"parts/part-{k:05d}.gz", "wt") as f:
                f.write(text)
        else:
            open(f"parts/part-{k:05d}", "w").write(text)
    open("parts/_SUCCESS", "w").close()
    open("parts/.part-00000.crc", "w").write("not data")
    open("concatenated.tsv", "w").write("user\titem\tvalue\n" + "".join(l + "\n" for l in body))

    def fit_both(label, input_single, input_mpi, ranks, *options, reference=None):
        single = f"single-{label}"
        run([L, "fit", "-i", input_single, *options, "-o", single])
        if reference is not None:  # the same fit in float64
            run([L, "fit", "-i", input_single, *reference, "-o", f"{single}-float64"])
        for np_ in ranks:
            out = f"mpi-{label}-{np_}"
            mpirun(args, np_, "fit", "-i", input_mpi, *options, "-o", out)
            compare_models(single, out, f"{label}, {np_} rank(s)",
                           reference=None if reference is None else f"{single}-float64")
        return single

    eq2 = fit_both("eq2-randomized", "sim.tsv", "sim.tsv", [1, 2, 3, 4], "--model", "eq2", "--rank", "8",
                   "--lambda", "5", "--solver", "randomized", "--solver-tol", "1e-10")
    messy = fit_both("eq1-gram-weighted", "messy.tsv", "messy.tsv", [2, 3], "--model", "eq1", "--rank", "6", "--lambda",
                     "20", "--solver", "gram", "--no-binarize", "--weighting", "ips:0.5,user-norm:0.5")
    without = json.load(open(os.path.join(messy, "model.json")))["input"]["users_without_entries"]
    check(without == 5, f"messy.tsv: users_without_entries {without}, expected the 5 users whose entries are all 0")
    commented = json.load(open(os.path.join(messy, "model.json")))["input"]["commented_data_lines"]
    check(commented == 5, f"messy.tsv: commented_data_lines {commented}, expected the 5 lines '#user...'")
    # Their warning, naming the first such line, from linsim fit and from linsim-mpi on 3 ranks.
    said = []
    for r in (run([L, "fit", "-i", "messy.tsv", "--rank", "2", "-o", "hash-single"]),
              mpirun(args, 3, "fit", "-i", "messy.tsv", "--rank", "2", "-o", "hash-mpi")):
        said.append([l.split("warning: ", 1)[1] for l in r.stderr.splitlines() if "begin with '#'" in l])
    check(len(said[0]) == 1 and said[0] == said[1] and "(the first: messy.tsv:" in said[0][0],
          f"messy.tsv: the same warning of its '#' lines from linsim and linsim-mpi: {said}")
    fit_both("eq2-standardize-parts", "concatenated.tsv", "parts", [2, 3, 4], "--model", "eq2", "--rank", "5",
             "--lambda", "1", "--solver", "randomized", "--solver-tol", "1e-10", "--weighting", "standardize")
    fit_both("eq2-glob", "concatenated.tsv", "parts/part-*", [3], "--model", "eq2", "--rank", "5", "--lambda", "1",
             "--solver", "gram", "--weighting", "bm25")
    fit_both("eq2-tfidf", "messy.tsv", "messy.tsv", [2, 3], "--model", "eq2", "--rank", "5", "--lambda", "1",
             "--solver", "gram", "--no-binarize", "--weighting", "tfidf")
    fit_both("sppmi", "sim.tsv", "sim.tsv", [2, 3], "--model", "sppmi", "--rank", "6")
    fit_both("eq2-sppmi-weighting", "sim.tsv", "sim.tsv", [2, 3], "--model", "eq2", "--rank", "6", "--lambda", "0.5",
             "--solver", "gram", "--weighting", "sppmi:2:0.75")
    fit_both("ease", "messy.tsv", "messy.tsv", [1, 2, 3, 4], "--model", "ease", "--lambda", "10", "--no-binarize")
    fit_both("ease-float32-min-item-users", "sim.tsv", "sim.tsv", [3], "--model", "ease", "--dtype", "float32",
             "--lambda", "30", "--min-item-users", "3",
             reference=["--model", "ease", "--lambda", "30", "--min-item-users", "3"])
    data_dir = os.environ.get("LINSIM_DATA_DIR", "")
    ml = os.path.join(data_dir, "ml-100k", "u.data")
    if data_dir and os.path.exists(ml):
        fit_both("ml100k-eq2", ml, ml, [2, 3], "--model", "eq2", "--rank", "20", "--lambda", "10",
                 "--solver", "randomized", "--solver-tol", "1e-10")
        fit_both("ml100k-ease", ml, ml, [3], "--model", "ease", "--lambda", "200")
    elif data_dir:
        check(False, f"LINSIM_DATA_DIR is set but {ml} is missing")
    else:
        print("LINSIM_DATA_DIR unset: the MovieLens 100K cases are skipped")

    # A λ between σ_k and σ_1 zeroes some dimensions: the warning linsim fit gives, under
    # linsim-mpi's own name.
    sigma = np.load(os.path.join(eq2, "singular_values.npy"))
    middle = repr(float(np.sqrt(sigma[0] * sigma[-1])))
    r = mpirun(args, 2, "fit", "-i", "sim.tsv", "--model", "eq2", "--rank", "8", "--lambda", middle, "-o", "warned")
    check("linsim-mpi: warning: λ = " in r.stderr and "linsim: warning" not in r.stderr,
          f"a λ that zeroes dimensions: '{r.stderr.strip()[:160]}'")

    # The all-rows searches, split over the ranks, against linsim's tables.
    for command, extra in (("similar-items", ["--measure", "projected"]), ("similar-users", ["--measure", "cosine"]),
                           ("recommend", [])):
        run([L, command, "-m", eq2, "--all", "-n", "7", *extra, "--output", f"{command}-single.tsv"])
        for np_ in (2, 3):
            mpirun(args, np_, command, "-m", eq2, "--all", "-n", "7", *extra, "--output", f"{command}-{np_}.tsv")
            check(same_tables(f"{command}-single.tsv", f"{command}-{np_}.tsv"),
                  f"{command} --all on {np_} ranks: the table of linsim {command} --all (up to ties)")
    # --float32: each rank scores its range of queries in single precision (they were scored in
    # double on more than one rank), equal to linsim's float32 table up to float rounding.
    run([L, "similar-items", "-m", eq2, "--all", "-n", "7", "--float32", "--output", "float32-single.tsv"])
    mpirun(args, 2, "similar-items", "-m", eq2, "--all", "-n", "7", "--float32", "--output", "float32-2.tsv")
    check(same_tables("float32-single.tsv", "float32-2.tsv", tol=1e-6)
          and not same_tables("similar-items-single.tsv", "float32-2.tsv"),
          "similar-items --all --float32 on 2 ranks: linsim's float32 table up to float rounding, not the float64 one")

    # More ranks than lines: ranks with nothing to parse and ranks without users.
    open("tiny.tsv", "w").write("u1\ta\nu2\tb\nu1\tb\n")
    fit_both("tiny-4-ranks", "tiny.tsv", "tiny.tsv", [4], "--model", "eq2", "--rank", "1", "--lambda", "0.1",
             "--solver", "gram")

    # Comments at a file's start that fill the byte ranges of the first ranks: the header after
    # them is still the file's first data line, checked as linsim checks it, never parsed as data
    # (it lies in rank 1's range of 2, rank 2's of 3); so in a part after the first.
    head = open("sim.tsv").read().splitlines()[:2001]  # the header line and 2,000 interactions
    data = "".join(l + "\n" for l in head)
    preamble = ("# " + "c" * 98 + "\n") * (2 * len(data) // 100 + 1)
    open("late-header.tsv", "w").write(preamble + data)
    late = fit_both("late-header", "late-header.tsv", "late-header.tsv", [2, 3], "--model", "eq2", "--rank", "3",
                    "--lambda", "1", "--solver", "gram")
    check(json.load(open(os.path.join(late, "model.json")))["input"]["header"] is True,
          "a header after long comments is found")
    os.makedirs("late-parts")
    open("late-parts/part-0", "w").write("".join(l + "\n" for l in head[:1001]))
    open("late-parts/part-1", "w").write(preamble + head[0] + "\n" + "".join(l + "\n" for l in head[1001:]))
    fit_both("late-header-parts", "late-header.tsv", "late-parts", [2, 3], "--model", "eq2", "--rank", "3",
             "--lambda", "1", "--solver", "gram")

    # A first user id that begins with a byte-order mark (the file starts with two: the reader
    # skips one): the id file holds one more before it, written by the rank that holds that user.
    with open("bom.tsv", "wb") as f:
        f.write(b"\xef\xbb\xbf\xef\xbb\xbfu1\ta\nu2\tb\nu1\tb\nu3\ta\nu4\tc\nu3\tc\n")
    bom = fit_both("bom-first-id", "bom.tsv", "bom.tsv", [2, 3], "--model", "eq2", "--rank", "1", "--lambda", "0.1",
                   "--solver", "gram")
    check(open(os.path.join(bom, "user_ids.tsv"), "rb").read().startswith(b"\xef\xbb\xbf\xef\xbb\xbfu1\n"),
          "a first user id that begins with a byte-order mark is written after one more")

    # Values far from 1 (docs/math.md M0, "Scale"): the first half of the lines are 2^-300, the rest
    # 2^-297, so the ranks hold different largest values and must agree on the one power of two of
    # the copy every one of them solves on.
    pairs = [l.split("\t")[:2] for l in open("sim.tsv").read().splitlines()[1:] if l]
    open("scaled.tsv", "w").write("".join(f"{u}\t{i}\t{2.0 ** (-300 if n < len(pairs) // 2 else -297)!r}\n"
                                          for n, (u, i) in enumerate(pairs)))
    scaled = fit_both("eq2-scaled", "scaled.tsv", "scaled.tsv", [2, 3], "--model", "eq2", "--rank", "6",
                      "--lambda", repr(2.0 ** -300), "--no-binarize", "--solver", "randomized", "--solver-tol", "1e-10")
    reason = json.load(open(os.path.join(scaled, "model.json")))["solver_reason"]
    check("scaled by 2^" in reason, f"values of 2^-300: solved on a scaled copy ('{reason[-90:]}')")

    # Nothing is left of a refused run: neither the output nor its temporary.
    def no_leftovers(target):
        return not os.path.exists(target) and not any(n.startswith(f".{target}.tmp") for n in os.listdir("."))

    # Bad input, refused alike on every rank: nothing but comments; standard input; Matrix Market.
    open("comments.tsv", "w").write("# nothing\n" * 50)
    r = mpirun(args, 3, "fit", "-i", "comments.tsv", "-o", "empty-model", expect_ok=False)
    check(r.returncode == 1 and "has no interactions: no data lines" in r.stderr and no_leftovers("empty-model"),
          f"only comments: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # Rank 0 decides the input's files and format for every rank: its refusals name no rank.
    r = mpirun(args, 2, "fit", "-i", "-", "-o", "stdin-model", expect_ok=False)
    check(r.returncode == 2 and "linsim-mpi: error: standard input cannot be split" in r.stderr
          and no_leftovers("stdin-model"),
          f"-i -: exit {r.returncode}")
    open("m.mtx", "w").write("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n")
    r = mpirun(args, 2, "fit", "-i", "m.mtx", "-o", "mtx-model", expect_ok=False)
    check(r.returncode == 2 and "linsim-mpi: error: 'm.mtx': Matrix Market input is read by one process" in r.stderr
          and no_leftovers("mtx-model"),
          f"Matrix Market: exit {r.returncode}")

    # An output that is the input, however spelled: refused before any work, the input kept.
    before = open("sim.tsv", "rb").read()
    r = mpirun(args, 2, "fit", "-i", "sim.tsv", "-o", "./sim.tsv", "--force", expect_ok=False)
    check(r.returncode == 2 and "linsim-mpi: error: --out './sim.tsv' would replace the input --input 'sim.tsv'"
          in r.stderr and open("sim.tsv", "rb").read() == before,
          f"-o the input: exit {r.returncode}, '{r.stderr.strip()[:160]}'")

    # Ranks started with other arguments (an MPMD launch): refused on every rank before any work
    # (was: each rank fitted its own options, or failed apart while the others waited).
    r = run([args.mpirun, "--oversubscribe", "-np", "1", args.linsim_mpi, "fit", "-i", "sim.tsv", "--rank", "3",
             "-o", "mpmd-model", ":", "-np", "1", args.linsim_mpi, "fit", "-i", "sim.tsv", "--rank", "4", "-o",
             "mpmd-model"], expect_ok=False, env=MPI_ENV)
    check(r.returncode == 2 and "linsim-mpi: error: rank 1 of 2 was started with other arguments than rank 0"
          in r.stderr and no_leftovers("mpmd-model"),
          f"MPMD with other options: exit {r.returncode}, '{r.stderr.strip()[:160]}'")

    # --strict: a duplicate whose two lines went to different ranks.
    open("dup.tsv", "w").write("a\tx\n" + "".join(f"u{k}\ti{k % 9}\n" for k in range(200)) + "a\tx\n")
    r = mpirun(args, 3, "fit", "-i", "dup.tsv", "--strict", "--rank", "2", "-o", "dup-model", expect_ok=False)
    check(r.returncode == 1 and "duplicate entry for user 'a', item 'x'" in r.stderr and not os.path.exists("dup-model"),
          f"--strict across ranks: exit {r.returncode}, '{r.stderr.strip()[:160]}'")

    # Failures: every rank exits non-zero, the message names the rank and the file, nothing is left.
    shutil.copytree("parts", "bad-parts")
    bad_line = sum(1 for _ in open("bad-parts/part-00004")) + 1
    with open("bad-parts/part-00004", "a") as f:
        f.write("only-one-field\n")
    r = mpirun(args, 3, "fit", "-i", "bad-parts", "--rank", "4", "-o", "bad-model", expect_ok=False)
    check(r.returncode == 1 and "rank 2 of 3" in r.stderr and "bad-parts/part-00004" in r.stderr
          and f"part-00004:{bad_line}: expected " in r.stderr and no_leftovers("bad-model"),
          f"malformed line in the last rank's part: exit {r.returncode}, '{r.stderr.strip()[:200]}'")
    # Inputs that name no file: a missing path, a glob matching nothing, a directory holding only
    # files that are not parts (names starting with '_' or '.').
    os.makedirs("no-parts")
    open("no-parts/_SUCCESS", "w").close()
    open("no-parts/.part-00000.crc", "w").write("not data")
    for label, given, words in (("missing input", "missing.tsv", "cannot open 'missing.tsv'"),
                                ("glob matching nothing", "nothing-*.tsv", "no file matches 'nothing-*.tsv'"),
                                ("directory without parts", "no-parts", "'no-parts' is a directory without part files")):
        r = mpirun(args, 2, "fit", "-i", given, "-o", "missing-model", expect_ok=False)
        check(r.returncode == 1 and words in r.stderr and no_leftovers("missing-model"),
              f"{label}: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # What runs in one process only: the cosine model's L-BFGS, the Lanczos solver.
    for label, option in (("cosine", ["--model", "cosine"]), ("lanczos", ["--solver", "lanczos"])):
        r = mpirun(args, 2, "fit", "-i", "sim.tsv", *option, "-o", "one-process-model", expect_ok=False)
        check(r.returncode == 2 and f"{' '.join(option)} runs in one process" in r.stderr
              and no_leftovers("one-process-model"),
              f"{label} refused: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # ... and the help offers neither, nor the cosine model's options or Matrix Market input.
    r = mpirun(args, 1, "fit", "--help")
    offered = r.stdout
    format_line = next((line for line in offered.splitlines() if "--format" in line), "")
    check(r.returncode == 0 and "--epochs" not in offered and "--tol " not in offered and "lastfm" in format_line
          and "mtx" not in format_line and "cosine runs in 'linsim fit' only" in offered
          and "lanczos runs in 'linsim fit' only" in offered, "fit --help offers only what runs across ranks")
    r = mpirun(args, 2, "fit", "-i", "sim.tsv", "--epochs", "5", "-o", "one-process-model", expect_ok=False)
    check(r.returncode == 2 and "--epochs applies to --model cosine only" in r.stderr and no_leftovers("one-process-model"),
          f"--epochs refused: exit {r.returncode}, '{r.stderr.strip()[:120]}'")
    # EASE goes through the fit's shared checks too (λ, values whose squares overflow).
    for bad, words in ((["--lambda", "-1"], "--lambda must be a finite number >= 0"),
                       (["--lambda", "inf"], "--lambda must be a finite number >= 0"),
                       (["--lambda", "nan"], "--lambda must be a finite number >= 0"),
                       # numbers the option parser would read in another base
                       (["--lambda", "0x10"], "'0x10' is not a decimal number"),
                       (["--lambda", "1", "--rank", "010"], "'010' has a leading 0"),
                       # a number no double holds (was: 1e-400 fitted as λ = 0)
                       (["--lambda", "1e-400"], "'1e-400' is beyond the range of a double")):
        r = mpirun(args, 2, "fit", "-i", "sim.tsv", "--model", "ease", *bad, "-o", "bad-lambda", expect_ok=False)
        check(r.returncode == 2 and words in r.stderr and no_leftovers("bad-lambda"),
              f"ease {' '.join(bad)}: exit {r.returncode}, '{r.stderr.strip()[:120]}'")
    # A λ so large that every weight underflows to 0 although items co-occur: linsim fit's refusal,
    # word for word, in float64 and float32, on every rank count.
    for dtype, huge in (("float64", "1e200"), ("float32", "1e30")):
        fit_huge = ["fit", "-i", "sim.tsv", "--model", "ease", "--dtype", dtype, "--lambda", huge, "-o", "zero-ease"]
        single = run([args.linsim, *fit_huge], expect_ok=False)
        words = single.stderr.strip().split("error: ", 1)[-1]
        check(single.returncode == 2 and "makes every EASE weight 0" in words,
              f"ease {dtype} λ {huge}: linsim fit says '{words[:160]}'")
        for ranks in (1, 2, 3):
            r = mpirun(args, ranks, *fit_huge, expect_ok=False)
            check(r.returncode == 2 and words in r.stderr and no_leftovers("zero-ease"),
                  f"ease {dtype} λ {huge} on {ranks} ranks: exit {r.returncode}, '{r.stderr.strip()[:200]}'")
    # Values whose squares overflow or underflow: linsim fit's message word for word, naming the
    # largest |value| of all ranks, which here lies in the last line, rank 1's part.
    for label, most, largest in (("overflow", "1e300", "5e+300"), ("underflow", "1e-140", "3e-140")):
        open("extreme.tsv", "w").write("".join(f"u{k}\ti{k % 7}\t{most}\n" for k in range(200)) +
                                       f"v\ti0\t{largest}\n")
        fit_extreme = ["fit", "-i", "extreme.tsv", "--model", "ease", "--no-binarize", "-o", "extreme-model"]
        single = run([args.linsim, *fit_extreme], expect_ok=False)
        words = single.stderr.strip().split("error: ", 1)[-1]
        r = mpirun(args, 2, *fit_extreme, expect_ok=False)
        check(single.returncode == 1 and (f"|value| {largest}" in words or f"|value| is {largest}" in words),
              f"ease on values whose squares {label}: linsim fit says '{words[:160]}'")
        check(r.returncode == 1 and words in r.stderr and no_leftovers("extreme-model"),
              f"ease on values whose squares {label}: exit {r.returncode}, '{r.stderr.strip()[:200]}'")
    # --progress and --stats: rank 0's progress, and one line per rank.
    r = mpirun(args, 2, "--progress", "--stats", "fit", "-i", "sim.tsv", "--rank", "2", "--lambda", "5", "-o",
               "stats-model")
    check("fitting eq2" in r.stderr and "rank 0 of 2:" in r.stderr and "rank 1 of 2:" in r.stderr
          and "inside MPI" in r.stderr, f"--progress --stats: '{r.stderr.strip()[:200]}'")
    r = mpirun(args, 2, "fit", "-i", "sim.tsv", "--rank", "2", "-o", "no-such-dir/model", expect_ok=False)
    check(r.returncode == 1 and "cannot create output directory 'no-such-dir/model'" in r.stderr
          and not os.path.exists("no-such-dir"), f"unwritable output: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # "-" is standard output, which holds neither a model directory nor the table the ranks write
    # together: refused on every rank (was: a directory or file named "-").
    r = mpirun(args, 2, "fit", "-i", "sim.tsv", "--rank", "2", "-o", "-", expect_ok=False)
    check(r.returncode == 2 and "--out names a directory to create: '-' (standard output) cannot hold one" in r.stderr
          and not os.path.exists("-"), f"fit -o -: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    r = mpirun(args, 2, "similar-items", "-m", eq2, "--all", "--output", "-", expect_ok=False)
    check(r.returncode == 2 and "--output '-': the ranks write one file together" in r.stderr
          and not os.path.exists("-"), f"similar-items --output -: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # An all-rows table over a file of the model it reads (was: exit 0, m/item_ids.tsv replaced by
    # the table); an output the input's glob names only after expansion (was: '?/ratings.tsv' let
    # --force delete it); a named pipe as the input (was: rank 0 waited for ever in open()).
    r = mpirun(args, 2, "similar-items", "-m", eq2, "--all", "--output", os.path.join(eq2, "item_ids.tsv"), "--force",
               expect_ok=False)
    check(r.returncode == 2 and "would replace a file of the input --model" in r.stderr,
          f"similar-items --all --output into the model: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    os.makedirs("globbed", exist_ok=True)
    shutil.copy("sim.tsv", os.path.join("globbed", "ratings.tsv"))
    r = mpirun(args, 2, "fit", "-i", "globbe?/ratings.tsv", "--rank", "2", "-o", "globbed", "--force", expect_ok=False)
    check(r.returncode == 2 and "would replace the input --input 'globbed/ratings.tsv'" in r.stderr
          and os.path.exists(os.path.join("globbed", "ratings.tsv")),
          f"fit -i GLOB -o the glob's folder: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    os.mkfifo("input.fifo")
    writer = subprocess.Popen(["sh", "-c", "exec cat sim.tsv > input.fifo"])
    try:
        r = run(["timeout", "120", args.mpirun, "--oversubscribe", "-np", "2", args.linsim_mpi, "fit", "-i",
                 "input.fifo", "--rank", "2", "-o", "fifo-model"], expect_ok=False, env=MPI_ENV)
    finally:
        writer.kill()
        writer.wait()
    check(r.returncode == 1 and "'input.fifo' is not a regular file" in r.stderr and no_leftovers("fifo-model"),
          f"a named pipe as the input: exit {r.returncode}, '{r.stderr.strip()[:160]}'")
    # A write that fails on one rank only: rank 1 under a 16 KiB file-size limit (its writes beyond
    # it fail with EFBIG, as on a full disk), rank 0 free; the ranks talk over TCP, as Open MPI's
    # shared-memory transport cannot size its segments under that limit. Every rank ends 1, the
    # failing rank, "cannot write" and the output named, and the model directory or table rank 0
    # would commit is not left. (Open MPI 4.1's OMPIO returns MPI_SUCCESS for a failed pwrite and
    # says so only in the status's count, so the count has to be checked.)
    # EASE on wide data: the interactions fit under the limit, the p × p weights (about 660 KB,
    # each rank writing its own block-cyclic share) do not.
    own = np.random.default_rng(11)  # its own draws: the cases after it see the same data as before
    with open("wide-ease.tsv", "w") as f:
        for u, i in zip(own.integers(0, 200, 1000), own.integers(0, 300, 1000)):
            f.write(f"u{u}\ti{i}\n")
    ease_wide = ["fit", "-i", "wide-ease.tsv", "--model", "ease", "--lambda", "30", "-o"]
    limited = "trap '' XFSZ; ulimit -f 16; exec "
    for label, command, target, failing in (
            ("fit", ["fit", "-i", "sim.tsv", "--rank", "2", "--lambda", "5", "-o"], "short-model", "short-model"),
            ("ease weights", ease_wide, "short-ease", "weights.npy"),
            ("similar-items --all", ["similar-items", "-m", eq2, "--all", "-n", "7", "--output"], "short-table.tsv",
             "short-table.tsv")):
        cmd = [args.mpirun, "--oversubscribe", "--mca", "btl", "self,tcp", "-np", "1", args.linsim_mpi, *command,
               target, ":", "-np", "1", "bash", "-c", limited + shlex.join([args.linsim_mpi, *command, target])]
        r = run(cmd, expect_ok=False, env=MPI_ENV)
        refused = (r.returncode == 1 and "rank 1 of 2: cannot write" in r.stderr and target in r.stderr
                   and failing in r.stderr and no_leftovers(target))
        check(refused, f"{label}: a write that fails on one rank: exit {r.returncode}, '{r.stderr.strip()[:200]}'")
    # A rank that dies while the others work: rank 1 (a shell that records its process id, then
    # becomes linsim-mpi) is killed as soon as rank 0 says it is fitting, inside an EASE fit of
    # p = 6,000 (about 14 s on two cores, XᵀX's accumulation alone over 2 s), so that the kill
    # lands inside the fit; rank 0's signal handling must then remove its temporary.
    own = np.random.default_rng(13)  # its own draws: the cases after it see the same data as before
    with open("slow-ease.tsv", "w") as f:
        for u, i in zip(own.integers(0, 4000, 60000), own.integers(0, 6000, 60000)):
            f.write(f"u{u}\ti{i}\n")
    fit_slow = ["fit", "-i", "slow-ease.tsv", "--model", "ease", "--lambda", "30", "-o", "dead-model"]
    with open("dying.err", "w") as err_file:
        dying = subprocess.Popen([args.mpirun, "--oversubscribe", "-np", "1", args.linsim_mpi, "--progress", *fit_slow,
                                  ":", "-np", "1", "bash", "-c",
                                  "echo $$ > rank1.pid; exec " + shlex.join([args.linsim_mpi, *fit_slow])],
                                 stdout=subprocess.DEVNULL, stderr=err_file, text=True, env=MPI_ENV)
        fitting, killed, begun = False, False, time.monotonic()
        while not fitting and dying.poll() is None and time.monotonic() - begun < 120:
            fitting = ("fitting ease" in open("dying.err").read() and os.path.exists("rank1.pid")
                       and open("rank1.pid").read().strip() != "")
            time.sleep(0.02)
        temporary = any(n.startswith(".dead-model.tmp") for n in os.listdir("."))
        if fitting and dying.poll() is None:
            try:
                os.kill(int(open("rank1.pid").read()), signal.SIGKILL)
                killed = True
            except ProcessLookupError:
                pass
        try:
            dying.wait(timeout=300)
        except subprocess.TimeoutExpired:
            dying.kill()
            dying.wait()
    err = open("dying.err").read()
    check(killed and temporary and dying.returncode not in (0, None) and no_leftovers("dead-model"),
          f"a rank killed inside the fit: killed {killed} (the fit had begun, its temporary there: {temporary}), "
          f"mpirun exit {dying.returncode}, left {sorted(n for n in os.listdir('.') if 'dead-model' in n)}, "
          f"'{err.strip()[-160:]}'")
    # EASE whose share per rank exceeds the memory available: refused before allocating, with the
    # estimate (400,000 items: ~640 GB per rank on 2 ranks).
    with open("wide-items.tsv", "w") as f:
        f.write("".join(f"u{k % 100}\ti{k}\n" for k in range(400000)))
    r = mpirun(args, 2, "fit", "-i", "wide-items.tsv", "--model", "ease", "--lambda", "30", "-o", "too-wide",
               expect_ok=False)
    check(r.returncode == 1 and "EASE on 400000 items needs about" in r.stderr and "on each of the 2 ranks" in r.stderr
          and no_leftovers("too-wide"), f"EASE beyond each rank's memory: exit {r.returncode}, '{r.stderr.strip()[:200]}'")
    # Memory limits below the machine's (a batch job's ulimit -v; rank 1's far tighter than rank
    # 0's): the ranks agree on the refusal before any of them allocates, and it names rank 1 and its
    # limit (was: each rank checked its own memory for EASE, so a rank whose share fitted went on into
    # ScaLAPACK while the other stopped). A limit on some ranks only also makes every rank run
    # Eigen's dense kernels, as the limited rank must (agree_on_dense_kernels), and rank 0 says so.
    with open("wide.tsv", "w") as f:
        for u, i in zip(rng.integers(0, 3000, 30000), rng.integers(0, 6000, 30000)):
            f.write(f"u{u}\ti{i}\n")

    def limited(rank0, rank1, fit):
        def under(kib):
            return ["bash", "-c", (f"ulimit -v {kib}; " if kib else "") + "exec " + shlex.join([args.linsim_mpi, *fit])]
        # Stopped after 120 s (exit 124): a run that hangs fails its check instead of the whole test.
        return ["timeout", "120", args.mpirun, "--oversubscribe", "-np", "1", *under(rank0), ":", "-np", "1",
                *under(rank1)]

    # Rank 1's limits are set from what a small fit needs under a limit on this machine (linsim-mpi,
    # Open MPI and the threads: ~128 MiB here), found by bisection in steps of 16 MiB; rank 0's is
    # 8 GB. No run may hang (a timeout's exit 124), as one did inside OpenBLAS.
    with open("limit-probe.tsv", "w") as f:
        f.write("".join(f"u{k % 20}\ti{k % 50}\n" for k in range(200)))

    def small_fit_runs(mib):
        r = run(limited(8000000, mib * 1024, ["fit", "-i", "limit-probe.tsv", "--rank", "2", "--lambda", "1", "-o",
                                              "probe-model"]), expect_ok=False, env=MPI_ENV)
        shutil.rmtree("probe-model", ignore_errors=True)
        check(r.returncode != 124, f"a small fit under ulimit -v {mib} MiB on rank 1 ends")
        return r.returncode == 0

    low, high = 2, 128  # 32 MiB fails, 2 GiB must run
    if not small_fit_runs(high * 16):
        check(False, "a small fit runs on 2 ranks with rank 1 under ulimit -v 2 GiB")
        high = None
    while high is not None and high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if small_fit_runs(middle * 16) else (middle, high)
    floor_mib = (high or 128) * 16

    def format_bytes(b):  # core/memory.h's
        return f"{b / 1e9:.1f} GB" if b >= 1e9 else f"{b / 1e6:.0f} MB" if b >= 1e6 else f"{b / 1e3:.0f} KB"

    # EASE under a limit first maps OpenBLAS's work buffer (134 MB), which ScaLAPACK would otherwise
    # wait for without end where the limit refuses it (map_blas_work_buffer: room for 201 MB needed),
    # then checks its estimate (~240 MB at p = 6,000 on 2 ranks) against the room left.
    ease = ["fit", "-i", "wide.tsv", "--model", "ease", "--lambda", "1", "-o", "limited-model"]
    for what, rank0, rank1_mib, fit, words in [
            ("EASE, rank 1 alone limited", None, floor_mib + 288, ease, "needs about"),
            ("EASE, no room for the BLAS's buffer on rank 1", 8000000, floor_mib + 48, ease,
             "maps a work buffer of about 134 MB on its first call and waits for ever where that is refused"),
            ("the Gram route, both ranks limited", 8000000, floor_mib + 48,
             ["fit", "-i", "wide.tsv", "--rank", "4", "--lambda", "1", "--solver", "gram", "-o", "limited-model"],
             "needs about")]:
        tight = rank1_mib
        r = run(limited(rank0, tight * 1024, fit), expect_ok=False, env=MPI_ENV)
        message = [line for line in r.stderr.splitlines() if line.startswith("linsim-mpi: error:")]
        note = "every rank runs Eigen's" in r.stderr
        limit = f"available under this process's address-space limit of {format_bytes(tight * 2**20)} (ulimit -v) on rank 1 of 2"
        check(r.returncode == 1 and len(message) == 1 and words in message[0] and limit in message[0]
              and note == (rank0 is None) and no_leftovers("limited-model"),
              f"{what}, rank 1 under {tight} MiB: exit {r.returncode}, the kernels' note {note}, "
              f"'{' '.join(message)[:260]}'")
    # A rank that runs out of memory where no estimate exists, inside a collective step (reading and
    # exchanging its share of 6,000,000 lines, ~60 MB beyond the small fit's, with 16 MiB to spare):
    # it stops the job, naming its limit.
    with open("many.tsv", "w") as f:
        f.write("".join(f"{k % 100000}\t{(k * 7919) % 20000}\n" for k in range(6000000)))
    r = run(limited(8000000, (floor_mib + 16) * 1024,
                    ["fit", "-i", "many.tsv", "--rank", "2", "--lambda", "1", "-o", "oom-model"]),
            expect_ok=False, env=MPI_ENV)
    check(r.returncode != 0 and "rank 1 of 2: out of memory: the computation needs more memory than this process's "
          f"address-space limit of {format_bytes((floor_mib + 16) * 2**20)} (ulimit -v) allows" in r.stderr
          and no_leftovers("oom-model"),
          f"a rank out of memory: mpirun exit {r.returncode}, '{r.stderr.strip()[:240]}'")
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all checks passed")
    return 0


MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")

if __name__ == "__main__":
    sys.exit(main())
