#!/usr/bin/python3
"""linsim's Python package side by side with its own CLI and C++ calls, and with the route a Python
user writes today, on the same data; prints markdown tables (results: bench/README.md, "Python
package"). Every measurement runs in a fresh process (this script started again with a task).

  fit    `linsim fit` (its own GEMM choice; LINSIM_GEMM=eigen; OPENBLAS_NUM_THREADS=1) against
         linsim.read_interactions + fit + save, and the fit alone (as imported; after
         linsim.configure_gemm(); with OPENBLAS_CORETYPE set before Python starts, then
         configure_gemm()): eq2 rank 50 (lambda 100, the default of both) and EASE lambda 500, on
         ML100K (u.data) and on the paper's simulated set (`linsim simulate --seed 42`: 20,000 x
         1,000, ~6.7M interactions)
  call   per-call cost of model.similar_items(one id, N=10) against the C++ top_neighbors call
         (linsim_bench BM_SimilarItemsOneQuery) on the same 943 x 1,682 simulated draw (the shape
         of ML100K, ~100k interactions), and on ML100K itself; eq2 rank 50, lambda 10
  peers  scipy svds(k=50) + numpy cosine + argpartition (one item, all items) against linsim's EQ2
         + similar_items / similar_items_all (cosine, projected) on ML100K; and whether the
         neighbour lists of svds factors and of eq2 with lambda = 0 agree (a correctness check)

This VM is shared: two-thread timings collapse under others' load, so each section prints the
1-minute load average before and after; run it on a quiet machine.

Usage: bench/python.sh [fit] [call] [peers]   (default: all three)
Environment: LINSIM_DATA_DIR  folder holding ml-100k/u.data (ML100K rows are skipped without it)
             LINSIM_CLI       the CLI (default build/release/linsim)
             LINSIM_BENCH     linsim_bench with BM_SimilarItemsOneQuery (default build/release/bench/linsim_bench)
             RUNS (5: runs per fit, batches per call loop), CALLS (20000), THREADS (2),
             WORK (kept; default a temporary folder, removed at the end)
Needs the package on PYTHONPATH (bench/python.sh sets build/release/python), numpy, scipy.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", "5"))
CALLS = int(os.environ.get("CALLS", "20000"))
THREADS = int(os.environ.get("THREADS", "2"))
CLI = os.environ.get("LINSIM_CLI", os.path.join(ROOT, "build/release/linsim"))
BENCH = os.environ.get("LINSIM_BENCH", os.path.join(ROOT, "build/release/bench/linsim_bench"))
# The 943 x 1,682 draw BM_SimilarItemsOneQuery fits (bench/bench_kernels.cc): keep both in step.
SIM943 = dict(users=943, items=1682, activity_scale=333, seed=1)
# eq2's lambda for the one-query timings: the default (100) keeps one of the 50 dimensions on both
# 943 x 1,682 sets (sigma_2 = 60 and 67), 10 keeps all (sigma_50 = 17.1 and 15.6).
CALL_LAMBDA = 10.0
TOP = 10


def report(**fields):
    print(json.dumps(fields), flush=True)


def load():
    """The 1-minute load average: this VM is shared, and every timing here depends on it."""
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def best_coretype():
    """The OPENBLAS_CORETYPE linsim's configure_gemm would choose from the CPU flags."""
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


# --- tasks (each in its own process) -----------------------------------------------------------

def task_fit_py(path, kind, out, gemm):
    """RUNS x (read_interactions, fit, save) in one process, as imported or after configure_gemm()."""
    import linsim
    before = linsim.gemm_backend()
    if gemm.startswith("configured"):
        linsim.configure_gemm()
    make = {"eq2": lambda: linsim.EQ2(rank=50, threads=THREADS, progress=False),
            "ease": lambda: linsim.EASE(lam=500, threads=THREADS, progress=False)}[kind]
    read_s, fit_s, save_s = [], [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        data = linsim.read_interactions(path)
        t1 = time.perf_counter()
        model = make().fit(data)
        t2 = time.perf_counter()
        model.save(out, force=True)
        t3 = time.perf_counter()
        read_s.append(t1 - t0)
        fit_s.append(t2 - t1)
        save_s.append(t3 - t2)
    report(read_s=read_s, fit_s=fit_s, save_s=save_s, backend_at_import=before, backend=linsim.gemm_backend(),
           shape=list(data.shape), nnz=int(data.X.nnz), solver=model.info.get("solver"))


def load_data(source):
    """(Interactions or CSR, query id) for 'sim943' or a path to ML100K's u.data."""
    import linsim
    if source == "sim943":
        X, _ = linsim.simulate(threads=THREADS, **SIM943)
        return X, 0
    return linsim.read_interactions(source), "50"  # item 50: Star Wars, the most rated


def time_calls(fn):
    """Per-call µs of fn(): after 200 warm-up calls, RUNS batches of CALLS calls (fewer when a
    batch would take over ~2 s, never under 1,000); the median batch."""
    t = time.perf_counter_ns()
    for _ in range(200):
        fn()
    rough = (time.perf_counter_ns() - t) / 200 / 1e9
    calls = min(CALLS, max(1000, int(2.0 / rough)))
    per_call = []
    for _ in range(RUNS):
        t = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        per_call.append((time.perf_counter_ns() - t) / calls / 1e3)
    return statistics.median(per_call)


def time_runs(fn):
    """(median seconds of RUNS calls of fn(), fn's last result)."""
    seconds = []
    for _ in range(RUNS):
        t = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), result


def task_call(source):
    import numpy as np

    import linsim
    data, query = load_data(source)
    model = linsim.EQ2(rank=50, lam=CALL_LAMBDA, threads=THREADS, progress=False).fit(data)
    X = data.X if hasattr(data, "X") else data
    m = model._m  # the extension's model: what similar_items calls after the id lookup
    row = np.array([list(model.item_ids).index(query) if source != "sim943" else query], dtype=np.int64)
    out = dict(shape=list(X.shape), nnz=int(X.nnz), crossing_us=time_calls(linsim.max_threads))
    first = {}
    for measure in ("projected", "cosine"):  # the model builds a measure's space on its first query
        t = time.perf_counter_ns()
        model.similar_items(query, N=TOP, measure=measure)
        first[measure] = (time.perf_counter_ns() - t) / 1e3
    for measure in ("projected", "cosine"):
        out[measure] = dict(first_us=first[measure],
            similar_items_us=time_calls(lambda: model.similar_items(query, N=TOP, measure=measure)),
            binding_us=time_calls(lambda: m.neighbors(True, measure, row, TOP, False, False, THREADS)))
    report(**out)


def task_numpy(path, save):
    """The route a Python user writes today: svds, cosine of the item factors, argpartition."""
    import numpy as np
    import scipy.sparse.linalg as sla

    import linsim  # only its reader, so that both routes start from the same CSR matrix
    data = linsim.read_interactions(path)
    X, item = data.X, data.item_ids.tolist().index("50")
    svds_s, (_, s, vt) = time_runs(lambda: sla.svds(X, k=50))
    order = np.argsort(-s)
    s, V = s[order], vt[order].T
    # eq2 with lambda = 0 has B = V dMat(sqrt(sigma)) (docs/math.md M2); its projected vectors are
    # C = B L with L Lᵀ = PᵀP = dMat(sigma), i.e. rows of V dMat(sigma) up to a rotation (M4).
    spaces = {"cosine": V * np.sqrt(s), "projected": V * s}
    result = {}
    for name, F in spaces.items():
        def unit_rows(F=F):
            norms = np.linalg.norm(F, axis=1, keepdims=True)
            return F / np.where(norms > 0, norms, 1.0)

        Fn = unit_rows()

        def one(i=item, Fn=Fn):
            scores = Fn @ Fn[i]
            scores[i] = -np.inf
            top = np.argpartition(-scores, TOP)[:TOP]
            return top[np.argsort(-scores[top])]

        def every(F=F):
            Fn = unit_rows(F)
            S = Fn @ Fn.T
            np.fill_diagonal(S, -np.inf)
            top = np.argpartition(-S, TOP, axis=1)[:, :TOP]
            part = np.take_along_axis(S, top, axis=1)
            return np.take_along_axis(top, np.argsort(-part, axis=1), axis=1)

        all_s, lists = time_runs(every)
        result[name] = dict(one_us=time_calls(one), all_s=all_s)
        np.save(f"{save}-{name}-lists.npy", lists)
        np.save(f"{save}-{name}-factors.npy", Fn)
    report(items=int(X.shape[1]), svds_s=svds_s, **result)


def task_linsim(path, save):
    """linsim's route on the same matrix: EQ2 fit (lambda = 0, the model svds computes),
    similar_items (one item) and similar_items_all."""
    import numpy as np

    import linsim
    data = linsim.read_interactions(path)
    position = {key: i for i, key in enumerate(data.item_ids.tolist())}
    fit_s, model = time_runs(lambda: linsim.EQ2(rank=50, lam=0.0, threads=THREADS, progress=False).fit(data))
    out = dict(fit_s=fit_s, solver=model.info.get("solver"))
    for measure in ("cosine", "projected"):
        all_s, (ids, scores) = time_runs(lambda: model.similar_items_all(N=TOP, measure=measure))
        out[measure] = dict(all_s=all_s, one_us=time_calls(lambda: model.similar_items("50", N=TOP, measure=measure)))
        np.save(f"{save}-{measure}-lists.npy", np.vectorize(position.get, otypes=[np.int64])(ids))
        np.save(f"{save}-{measure}-scores.npy", scores)
    report(**out)


def task_agree(numpy_prefix, linsim_prefix, measure):
    """Do the top-10 lists agree? Exactly, as sets, and up to ties: every linsim neighbour scores
    (by the svds factors) within 1e-7 of numpy's 10th score (the two solvers' scores differ by
    ~1e-7); `shortfall` is the largest amount by which one falls below it."""
    import numpy as np
    mine = np.load(f"{linsim_prefix}-{measure}-lists.npy")
    theirs = np.load(f"{numpy_prefix}-{measure}-lists.npy")
    Fn = np.load(f"{numpy_prefix}-{measure}-factors.npy")
    scores = np.load(f"{linsim_prefix}-{measure}-scores.npy")
    S = Fn @ Fn.T
    rows = np.arange(len(S))[:, None]
    kth = S[rows[:, 0], theirs[:, -1]]
    same_order = int((mine == theirs).all(axis=1).sum())
    same_set = int(sum(set(a) == set(b) for a, b in zip(mine.tolist(), theirs.tolist())))
    up_to_ties = int((S[rows, mine] >= kth[:, None] - 1e-7).all(axis=1).sum())
    shortfall = float(np.max(np.maximum(kth - S[rows, mine].min(axis=1), 0.0)))
    score_diff = float(np.max(np.abs(scores - S[rows, theirs])))
    report(items=len(S), same_order=same_order, same_set=same_set, up_to_ties=up_to_ties, shortfall=shortfall,
           max_score_diff=score_diff)


# --- the driver --------------------------------------------------------------------------------

def run_task(*args, env=None):
    full = dict(os.environ, **(env or {}))
    done = subprocess.run([sys.executable, os.path.abspath(__file__), *args], env=full, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"task {' '.join(args)} failed:\n{done.stderr}")
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


def wall(command, env=None):
    full = dict(os.environ, **(env or {}))
    t = time.perf_counter()
    subprocess.run(command, env=full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def cell(values):
    """median (min–max) in ms, or s above 10 s."""
    lo, mid, hi = min(values), statistics.median(values), max(values)
    if mid >= 10:
        return f"{mid:.1f} s ({lo:.1f}–{hi:.1f})"
    return f"{1e3 * mid:.0f} ms ({1e3 * lo:.0f}–{1e3 * hi:.0f})" if mid >= 0.1 else \
        f"{1e3 * mid:.1f} ms ({1e3 * lo:.1f}–{1e3 * hi:.1f})"


def section_fit(work, datasets):
    print(f"\n### Fit: Python against the CLI (median of {RUNS}, (min–max); threads = {THREADS})\n")
    columns, cells, notes = [], {}, []
    coretype = best_coretype()
    start = [wall([CLI, "--version"]) for _ in range(RUNS)]
    for name, path in datasets:
        for kind, args in (("eq2", ["--model", "eq2", "--rank", "50"]),
                           ("ease", ["--model", "ease", "--lambda", "500"])):
            col = f"{name} {kind}"
            columns.append(col)
            out = os.path.join(work, f"cli-{name}-{kind}")
            for label, env in (("cli", None), ("cli-eigen", {"LINSIM_GEMM": "eigen"}),
                               ("cli-one", {"OPENBLAS_NUM_THREADS": "1"})):
                cmd = [CLI, "fit", "--input", path, *args, "--threads", str(THREADS), "--out", out, "--force"]
                cells[(label, col)] = cell([wall(cmd, env) for _ in range(RUNS)])
                if kind == "ease":
                    with open(os.path.join(out, "model.json")) as f:
                        reason = json.load(f).get("solver_reason", "")
                    notes.append(f"{label} on {name}: GEMM {reason.split('GEMM: ')[-1]}")
            for gemm in ("import", "configured", "configured-env"):
                env = {"OPENBLAS_CORETYPE": coretype} if gemm == "configured-env" and coretype else None
                r = run_task("task-fit", path, kind, os.path.join(work, f"py-{name}-{kind}"), gemm, env=env)
                total = [a + b + c for a, b, c in zip(r["read_s"], r["fit_s"], r["save_s"])]
                cells[(f"py-{gemm}-total", col)] = cell(total)
                cells[(f"py-{gemm}-fit", col)] = cell(r["fit_s"])
                if gemm == "import":
                    cells[("py-read", col)] = cell(r["read_s"])
                    cells[("py-save", col)] = cell(r["save_s"])
                    notes.append(f"{name}: {r['shape'][0]} x {r['shape'][1]}, {r['nnz']} interactions")
                notes.append(f"python ({gemm}) {col}: gemm_backend() at import {r['backend_at_import']!r}, "
                             f"then {r['backend']!r}; solver {r['solver']}")
    rows = [("cli", "`linsim fit` (wall: process, read, fit, write the model directory)"),
            ("cli-eigen", "`LINSIM_GEMM=eigen linsim fit`"),
            ("cli-one", "`OPENBLAS_NUM_THREADS=1 linsim fit` (OpenBLAS starts no worker thread)"),
            ("py-import-total", "Python `read_interactions` + `fit` + `save` (as imported)"),
            ("py-read", "  of which `read_interactions`"),
            ("py-import-fit", "  of which `fit`"),
            ("py-save", "  of which `save`"),
            ("py-configured-total", "Python read + fit + save after `configure_gemm()` (fresh process)"),
            ("py-configured-fit", "  of which `fit`"),
            ("py-configured-env-total", f"Python read + fit + save, `OPENBLAS_CORETYPE={coretype}` set before "
                                        "Python starts, then `configure_gemm()`"),
            ("py-configured-env-fit", "  of which `fit`")]
    print("| route | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for key, label in rows:
        print(f"| {label} | " + " | ".join(cells.get((key, c), "—") for c in columns) + " |")
    print(f"\nCLI process start alone (`linsim --version`): {cell(start)}.")
    for line in dict.fromkeys(notes):
        print(f"- {line}")


def section_call(datasets):
    print(f"\n### One query: `similar_items(id, N={TOP})` per call "
          f"(µs; Python: median of {RUNS} batches of {CALLS:,} calls)\n")
    cpp = {}
    if os.access(BENCH, os.X_OK):
        done = subprocess.run([BENCH, "--benchmark_filter=BM_SimilarItemsOneQuery", "--benchmark_format=json",
                               "--benchmark_repetitions=" + str(RUNS), "--benchmark_report_aggregates_only=true"],
                              capture_output=True, text=True, check=True)
        for b in json.loads(done.stdout)["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue  # with one repetition (RUNS=1) there are no aggregates: the run itself
            name = b["run_name"]
            measure = "cosine" if "cosine:1" in name else "projected"
            cpp[(measure, "space_per_call:1" in name)] = b["real_time"]  # µs (the case's unit)
            cpp["nnz"] = int(b["nnz"])
    else:
        print(f"(no C++ benchmark at {BENCH}: build the linsim_bench target, see bench/README.md)\n")
    print("| data | measure | C++ `top_neighbors` (space built once) | Python `model.similar_items` | Python − C++ "
          "| Python, the extension's `neighbors` alone | first Python call (builds the space) "
          "| C++ `make_similarity_space` + `top_neighbors` |")
    print("|---|---|---|---|---|---|---|---|")
    crossing = []

    def fmt(v):
        return "—" if v is None else f"{v:.1f}"

    for name, source in datasets:
        r = run_task("task-call", source)
        crossing.append(r["crossing_us"])
        same = source == "sim943"  # the C++ case's data
        for measure in ("projected", "cosine"):
            py = r[measure]
            bare = cpp.get((measure, False)) if same else None
            built = cpp.get((measure, True)) if same else None
            print(f"| {name} ({r['shape'][0]} x {r['shape'][1]}, {r['nnz']:,} nnz) | {measure} | {fmt(bare)} "
                  f"| {fmt(py['similar_items_us'])} | {fmt(None if bare is None else py['similar_items_us'] - bare)} "
                  f"| {fmt(py['binding_us'])} | {fmt(py['first_us'])} | {fmt(built)} |")
    if "nnz" in cpp:
        print(f"\nC++: `linsim_bench --benchmark_filter=BM_SimilarItemsOneQuery`, median of {RUNS} repetitions, "
              f"{cpp['nnz']:,} nnz (the same draw). ", end="")
    print(f"A no-op call into the extension (`linsim.max_threads()`): {statistics.median(crossing):.2f} µs.")


def section_peers(work, path):
    print(f"\n### ML100K: scipy + numpy against linsim (median of {RUNS}; linsim threads = {THREADS}; "
          "both start from the same CSR matrix)\n")
    coretype = best_coretype()
    prefix_np, prefix_ls = os.path.join(work, "numpy"), os.path.join(work, "linsim")
    plain = run_task("task-numpy", path, prefix_np)
    best = run_task("task-numpy", path, prefix_np + "-best", env={"OPENBLAS_CORETYPE": coretype}) if coretype else None
    d = run_task("task-linsim", path, prefix_ls)

    def col(r, f):
        return "—" if r is None else f(r)

    def ms(seconds):
        return f"{1e3 * seconds:.0f} ms" if seconds >= 0.1 else f"{1e3 * seconds:.1f} ms"

    print(f"| step | scipy/numpy as it comes | scipy/numpy, OPENBLAS_CORETYPE={coretype} | linsim |")
    print("|---|---|---|---|")
    print(f"| rank-50 factors: `svds(X, k=50)` / `EQ2(rank=50, lam=0).fit(X)` | {ms(plain['svds_s'])} "
          f"| {col(best, lambda r: ms(r['svds_s']))} | {ms(d['fit_s'])} (solver: {d['solver']}) |")
    for measure, what in (("cosine", "cosine (numpy: unit rows of V·dMat(√σ))"),
                          ("projected", "projected (numpy: unit rows of V·dMat(σ), the same for eq2)")):
        one = lambda r: "{:.1f} µs".format(r[measure]["one_us"])  # noqa: E731
        every = lambda r: ms(r[measure]["all_s"])  # noqa: E731
        print(f"| one item's top-{TOP}, {what}, per call | {one(plain)} | {col(best, one)} "
              f"| {d[measure]['one_us']:.1f} µs |")
        print(f"| all {plain['items']:,} items' top-{TOP}, {measure} (numpy: normalise, one GEMM, argpartition) "
              f"| {every(plain)} | {col(best, every)} | {ms(d[measure]['all_s'])} |")
    print("\nAgreement of the top-10 lists, svds factors (numpy) against linsim eq2 with λ = 0, all items:\n")
    print("| measure | same order | same set | same up to ties (every linsim neighbour within 1e-7 of numpy's 10th "
          "score) | largest shortfall below numpy's 10th score | max score difference, rank by rank |")
    print("|---|---|---|---|---|---|")
    for measure in ("cosine", "projected"):
        a = run_task("task-agree", prefix_np, prefix_ls, measure)
        n = a["items"]
        print(f"| {measure} | {a['same_order']:,} / {n:,} | {a['same_set']:,} / {n:,} | {a['up_to_ties']:,} / {n:,} "
              f"| {a['shortfall']:.1e} | {a['max_score_diff']:.1e} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] in TASKS:
        TASKS[sys.argv[1]](*sys.argv[2:])
        return
    sections = sys.argv[1:] or ["fit", "call", "peers"]
    for s in sections:
        if s not in ("fit", "call", "peers"):
            sys.exit(f"unknown section {s!r} (fit, call, peers)")
    try:
        import linsim  # noqa: F401 (whether it imports; the sections import it again)
    except ImportError as e:
        sys.exit(f"cannot import linsim ({e}): build the release preset (the package in build/release/python) "
                 "and set PYTHONPATH, or use bench/python.sh")
    if not os.access(CLI, os.X_OK):
        sys.exit(f"no CLI at {CLI} (set LINSIM_CLI)")
    work = os.environ.get("WORK")
    if work:
        os.makedirs(work, exist_ok=True)
        run_sections(sections, work)
    else:  # a folder of our own: nothing in it can be found by a later run, so it goes at the end
        with tempfile.TemporaryDirectory(prefix="linsim-pybench-") as work:
            run_sections(sections, work)


def run_sections(sections, work):
    import linsim
    data_dir = os.environ.get("LINSIM_DATA_DIR")
    ml100k = os.path.join(data_dir, "ml-100k", "u.data") if data_dir else None
    if ml100k is None:
        print("SKIP ML100K: LINSIM_DATA_DIR is not set (set it to the folder holding ml-100k/)")
    elif not os.path.exists(ml100k):
        print(f"SKIP ML100K: {ml100k} is missing")
        ml100k = None
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")
    print(f"machine: {os.cpu_count()} cores, {cpu}")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"commit: {commit or 'unknown'}; linsim {linsim.__version__}; python {sys.version.split()[0]}; "
          f"numpy {__import__('numpy').__version__}, scipy {__import__('scipy').__version__}")
    if "fit" in sections:
        sim = os.path.join(work, "sim.tsv")
        if not os.path.exists(sim):
            subprocess.run([CLI, "simulate", "--users", "20000", "--items", "1000", "--seed", "42", "--threads",
                            str(THREADS), "--out", sim, "--force"], check=True, stderr=subprocess.DEVNULL)
        datasets = ([("ML100K", ml100k)] if ml100k else []) + [("simulated 20,000 x 1,000", sim)]
        start = load()
        section_fit(work, datasets)
        print(f"\n(load average over 1 min: {start} before, {load()} after)")
    if "call" in sections:
        start = load()
        section_call([("simulated", "sim943")] + ([("ML100K", ml100k)] if ml100k else []))
        print(f"\n(load average over 1 min: {start} before, {load()} after)")
    if "peers" in sections:
        if ml100k:
            start = load()
            section_peers(work, ml100k)
            print(f"\n(load average over 1 min: {start} before, {load()} after)")
        else:
            print("\nSKIP peers: needs ML100K (LINSIM_DATA_DIR)")


TASKS = {"task-fit": task_fit_py, "task-call": task_call, "task-numpy": task_numpy, "task-linsim": task_linsim,
         "task-agree": task_agree}

if __name__ == "__main__":
    main()
