"""Behaviour of a good native extension: the GIL is released, Ctrl-C stops long work, progress
reaches the caller, errors are the right Python exceptions, and repeated calls do not leak."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest
import scipy.sparse as sp

import linsim


def wide(n=4000, p=2500, seed=0):
    rng = np.random.default_rng(seed)
    return sp.random(n, p, density=0.02, random_state=rng, format="csr", data_rvs=lambda k: np.ones(k))


def test_the_gil_is_released_during_a_fit():
    # p = 4,000 so that a fit takes about a second: half of it stays far above the scheduler's
    # occasional pauses of this thread even on a fast machine.
    X = wide(p=4000)
    model = linsim.EASE(lam=50.0, threads=1, progress=False)
    start = time.perf_counter()
    model.fit(X)
    alone = time.perf_counter() - start
    # While another thread fits, this one keeps running Python: the longest pause it sees is far
    # below the fit's duration (with the GIL held it would be all of it).
    worker = threading.Thread(target=lambda: linsim.EASE(lam=50.0, threads=1, progress=False).fit(X))
    last = time.perf_counter()
    longest = 0.0
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    assert longest < 0.5 * alone, (longest, alone)


def test_two_threads_fit_at_once_with_their_own_thread_counts():
    X = wide(2000, 800)
    results = {}

    def fit(threads):
        results[threads] = linsim.EQ2(rank=10, lam=5.0, threads=threads, progress=False).fit(X).item_factors

    workers = [threading.Thread(target=fit, args=(t,)) for t in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert not w.is_alive()
    np.testing.assert_array_equal(results[1], results[2])


def test_ctrl_c_stops_a_long_fit_promptly_and_leaves_nothing(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        import numpy as np, scipy.sparse as sp
        import linsim
        X = sp.random(3000, 8000, density=0.01, random_state=np.random.default_rng(0), format="csr",
                      data_rvs=lambda k: np.ones(k))
        # A model fitted before keeps that fit when a new one is interrupted.
        model = linsim.EASE(lam=10.0, progress=False).fit(X[:, :50])
        before = model.weights.copy()
        print("ready", flush=True)
        start = time.perf_counter()
        try:
            model.fit(X)
            print("finished", time.perf_counter() - start, flush=True)
        except KeyboardInterrupt:
            kept = model.weights.shape == (50, 50) and bool(np.array_equal(model.weights, before))
            print("interrupted", time.perf_counter() - start, kept, flush=True)
        try:
            linsim.reproduce(users=4000, items=2000, seeds=3, rank=20, out={str(tmp_path / 'out')!r})
        except KeyboardInterrupt:
            print("interrupted", os.path.exists({str(tmp_path / 'out')!r}), flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ)
    assert proc.stdout.readline().strip() == "ready"
    # The EASE fit at p = 8,000 takes several seconds on two cores: the signal lands inside it.
    time.sleep(0.5)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    first = proc.stdout.readline().split()
    reaction = time.perf_counter() - sent
    assert first[0] == "interrupted", first
    assert first[2] == "True"  # the model keeps its earlier fit
    assert reaction < 3.0, reaction
    time.sleep(1.0)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    second = proc.stdout.readline().split()
    reaction = time.perf_counter() - sent
    assert second == ["interrupted", "False"]  # no output directory left behind
    assert reaction < 3.0, reaction
    proc.wait(timeout=60)
    assert not any(name.startswith(".out") for name in os.listdir(tmp_path))


def test_progress_reaches_a_callback_and_its_exception_stops_the_work():
    X = wide(1500, 600)
    messages = []
    linsim.EQ2(rank=10, lam=5.0, solver="randomized", progress=messages.append).fit(X)
    assert any("block Krylov" in m for m in messages)

    class Stop(Exception):
        pass

    def stop(message):
        raise Stop(message)

    model = linsim.EQ2(rank=10, lam=5.0, solver="randomized", progress=stop)
    with pytest.raises(Stop):
        model.fit(X)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.item_factors


def test_show_progress_overrides_the_models_progress_for_one_fit():
    X = wide(1500, 600)
    for_model, for_fit = [], []
    model = linsim.EQ2(rank=10, lam=5.0, solver="randomized", progress=for_model.append)
    model.fit(X, show_progress=for_fit.append)
    assert for_model == [] and any("block Krylov" in m for m in for_fit)
    model.fit(X, show_progress=False)
    assert for_model == []
    model.fit(X)  # None: the model's own setting again
    assert any("block Krylov" in m for m in for_model)


def test_memory_errors_come_before_allocating():
    X = sp.csr_matrix(([1.0, 1.0], ([0, 1], [0, 199999])), shape=(2, 200000))
    with pytest.raises(MemoryError, match="available"):
        linsim.EASE(lam=1.0, progress=False).fit(X)


def test_a_matrix_too_wide_for_memory_is_refused_before_an_id_is_made_per_column():
    # 3 x 5e7 under an address-space limit 3 GiB above what the imports took: the fit's estimate
    # refuses it, naming the limit. The column numbers are its ids; made as Python strings first,
    # they took ~4.6 GB (and ~20 s), and the limit stopped that with a bare MemoryError.
    script = textwrap.dedent("""
        import resource, numpy as np, scipy.sparse as sp, linsim
        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + 3 * 2**30, resource.RLIM_INFINITY))
        X = sp.csr_matrix((np.ones(3), ([0, 1, 2], [0, 5, 49999999])), shape=(3, 50000000))
        try:
            linsim.EQ2(rank=1, lam=0.1, progress=False).fit(X)
        except MemoryError as e:
            print(repr(e))
        """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fitting eq2 on 50000000 items needs about" in result.stdout, result.stdout
    assert "address-space limit" in result.stdout, result.stdout


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_read_and_simulated_arrays_are_freed_with_their_last_reference(tmp_path):
    # They are handed over without a copy; the storage must go when numpy lets go of it.
    rng = np.random.default_rng(8)
    path = tmp_path / "large.tsv"
    path.write_text("".join(f"u{u}\ti{i}\t1\n" for u, i in zip(rng.integers(0, 2000, 60000),
                                                                 rng.integers(0, 3000, 60000))))

    def calls():
        for _ in range(30):
            assert linsim.read_interactions(path).X.nnz > 0  # ~0.7 MB of arrays each
            assert linsim.simulate(users=2000, items=300, seed=1)[0].nnz > 0

    calls()  # warm-up: allocator pools
    before = resident_bytes()
    calls()
    grown = resident_bytes() - before
    assert grown < 8 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB"


def test_no_leak_over_a_thousand_calls(simulated):
    X, _ = simulated
    m = linsim.EQ2(rank=8, lam=5.0, progress=False).fit(X)

    def calls():
        for i in range(1000):
            m.similar_items(i % 300, N=10)
            m.recommend(i % 1500, N=10)
            m.item_factors.sum()
            try:
                m.similar_items(-1)
            except ValueError:
                pass

    calls()  # warm-up: allocator pools, lazily built tables
    # Every returned array is freed when dropped (a reference the extension kept would leak it).
    ids, scores = m.similar_items(3, N=10)
    alive = [weakref.ref(ids), weakref.ref(scores)]
    items, item_scores = m.recommend(5, N=10)
    alive += [weakref.ref(items), weakref.ref(item_scores)]
    del ids, scores, items, item_scores
    assert all(r() is None for r in alive)
    # Ten thousand rounds of queries: results kept by mistake (~0.4 KB a round) would add ~4 MiB.
    before = resident_bytes()
    for _ in range(10):
        calls()
    grown = resident_bytes() - before
    assert grown < 2 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB over 10,000 rounds of queries"
    before = resident_bytes()
    for _ in range(20):
        linsim.EQ2(rank=4, lam=5.0, progress=False).fit(X)
    grown = resident_bytes() - before
    assert grown < 8 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MiB over 20 fits"
