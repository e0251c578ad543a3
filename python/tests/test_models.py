"""The models' contract, checked against dense oracles (numpy) and identities of docs/math.md."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import linsim


def brute_top(S, row, N, exclude=()):
    """Top-N of one row of a dense score matrix: higher first, ties by the lower index."""
    s = S[row].astype(float).copy()
    for j in exclude:
        s[j] = -np.inf
    order = np.lexsort((np.arange(len(s)), -s))[:N]
    return order, S[row, order]


@pytest.fixture(scope="module")
def eq2(simulated):
    X, _ = simulated
    return linsim.EQ2(rank=12, lam=5.0, progress=False).fit(X)


def test_attributes_are_read_only_views_and_satisfy_p_equals_xa(simulated, eq2):
    X, _ = simulated
    B, P, A = eq2.item_factors, eq2.user_factors, eq2.encoder
    assert B.shape == (300, 12) and P.shape == (1500, 12) and A.shape == (300, 12)
    for a in (B, P, A, eq2.singular_values):
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 0
    assert np.shares_memory(eq2.item_factors, eq2.item_factors)  # a view of the model, not a copy
    np.testing.assert_allclose(P, X @ A, rtol=0, atol=1e-10 * np.abs(P).max())
    assert np.all(np.diff(eq2.singular_values) <= 0)
    assert eq2.weights is None


def test_ids_are_the_models_own_and_read_only(tmp_path):
    """Changing the Interactions' id arrays after a fit changes nothing the model answers or saves
    (was: the model held the caller's writable array, so its answers changed and no longer matched
    its saved directory)."""
    data = linsim.Interactions(sp.csr_matrix(np.eye(6)[[0, 1, 2, 3, 4, 5, 0, 1]] + np.eye(6)[[1, 2, 3, 4, 5, 0, 2, 3]]),
                               user_ids=np.array([f"u{i}" for i in range(8)], dtype=object),
                               item_ids=np.array([f"i{j}" for j in range(6)], dtype=object))
    model = linsim.EQ2(rank=2, lam=0.1, progress=False).fit(data)
    for ids in (model.item_ids, model.user_ids):
        assert not ids.flags.writeable
        with pytest.raises(ValueError):
            ids[0] = "x"
    before = model.similar_items("i1", N=3)[0].tolist()
    data.item_ids[:] = "x"
    assert model.similar_items("i1", N=3)[0].tolist() == before
    model.save(tmp_path / "m")
    assert linsim.load(tmp_path / "m").item_ids.tolist() == [f"i{j}" for j in range(6)]


def test_similar_items_dot_and_cosine_equal_brute_force(eq2):
    B = np.asarray(eq2.item_factors)
    for measure, F in (("dot", B), ("cosine", B / np.linalg.norm(B, axis=1, keepdims=True))):
        S = F @ F.T
        ids, scores = eq2.similar_items(5, N=8, measure=measure)
        order, expected = brute_top(S, 5, 8, exclude=[5])
        assert ids.shape == (8,) and list(ids) == list(order)
        np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-13)


def test_batches_and_the_all_items_kernel_agree_with_single_queries(eq2):
    ids, scores = eq2.similar_items([3, 4, 5], N=6)
    assert ids.shape == (3, 6) and scores.shape == (3, 6)
    one_ids, one_scores = eq2.similar_items(4, N=6)
    assert list(ids[1]) == list(one_ids)
    all_ids, all_scores = eq2.similar_items_all(N=6)
    assert all_ids.shape == (300, 6)
    assert list(all_ids[4]) == list(one_ids)
    np.testing.assert_allclose(all_scores[4], one_scores, rtol=1e-12)


def test_projected_is_the_same_for_every_eq1_gauge_and_cosine_is_not(simulated):
    X, _ = simulated
    models = [linsim.EQ1(rank=10, lam=50.0, gauge=g, progress=False).fit(X)
              for g in ("balanced", "item-orthonormal", "input-orthonormal")]
    reference = models[0].similar_items(range(40), N=5, measure="projected")
    for m in models[1:]:
        ids, scores = m.similar_items(range(40), N=5, measure="projected")
        assert (ids == reference[0]).all()
        np.testing.assert_allclose(scores, reference[1], atol=1e-9)
    cosine = [m.similar_items(range(40), N=5, measure="cosine")[0] for m in models]
    assert any((c != cosine[0]).any() for c in cosine[1:])


def test_export_gives_the_measures_vectors(eq2):
    C = eq2.export("projected")
    assert C.flags.c_contiguous and C.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(C, axis=1), 1.0, atol=1e-12)
    ids, scores = eq2.similar_items(7, N=5, measure="projected")
    np.testing.assert_allclose(scores, C[ids] @ C[7], atol=1e-12)
    np.testing.assert_array_equal(eq2.export("dot"), eq2.item_factors)
    assert eq2.export("projected", side="users").shape == (1500, 12)


def test_recommend_equals_brute_force_and_folding_in_the_same_rows(simulated, eq2):
    X, _ = simulated
    S = np.asarray(eq2.user_factors) @ np.asarray(eq2.item_factors).T
    ids, scores = eq2.recommend(11, N=10)
    order, expected = brute_top(S, 11, 10, exclude=X[11].indices)
    assert list(ids) == list(order)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    rows = [11, 12, 13]
    trained = eq2.recommend(rows, N=10)
    folded = eq2.recommend(["a", "b", "c"], X[rows], N=10)
    assert (trained[0] == folded[0]).all()
    np.testing.assert_allclose(trained[1], folded[1], rtol=1e-10)
    seen = eq2.recommend(11, N=5, filter_already_liked_items=False)[0]
    assert list(seen) == list(brute_top(S, 11, 5)[0])
    np.testing.assert_allclose(eq2.user_vectors(X[rows]), eq2.user_factors[rows], atol=1e-10)
    np.testing.assert_allclose(eq2.score(X[rows]), S[rows], atol=1e-9)


def test_ids_of_any_type_and_lookup_by_string(simulated):
    X, _ = simulated
    import pandas as pd
    C = X.tocoo()
    df = pd.DataFrame({"user": [f"user-{u}" for u in C.row], "item": C.col * 10})
    m = linsim.EQ2(rank=5, lam=5.0, progress=False).fit(df)
    ids, _ = m.similar_items(30, N=3)
    assert ids.dtype.kind == "i" and 30 not in ids
    assert list(m.similar_items("30", N=3)[0]) == list(ids)  # str(id) is tried too
    with pytest.raises(ValueError, match="unknown item id '31'"):
        m.similar_items(31)
    with pytest.raises(ValueError, match="unknown user id"):
        m.recommend("nobody")


@pytest.mark.parametrize("make, options", [
    (lambda: linsim.EQ2(rank=0), ["--rank", "0"]),
    (lambda: linsim.EQ2(rank=400), ["--rank", "400"]),
    (lambda: linsim.EQ2(rank=5, lam=-1.0), ["--rank", "5", "--lambda", "-1"]),
    (lambda: linsim.EQ1(rank=5, gauge="sideways"), ["--model", "eq1", "--rank", "5", "--gauge", "sideways"]),
    (lambda: linsim.EASE(dtype="float16"), ["--model", "ease", "--dtype", "float16"]),
    (lambda: linsim.SPPMI(rank=5, negatives=0.5), ["--model", "sppmi", "--rank", "5", "--negatives", "0.5"]),
    (lambda: linsim.EQ2(rank=5, threads=-1), ["--rank", "5", "--threads", "-1"]),
    (lambda: linsim.EASE(solver="gram"), ["--model", "ease", "--solver", "gram"]),
    (lambda: linsim.SPPMI(rank=5, solver="randomized"), ["--model", "sppmi", "--rank", "5", "--solver", "randomized"]),
])
def test_bad_parameters_raise_value_errors_with_the_clis_words(simulated, cli, tmp_path, make, options):
    X, _ = simulated
    model = make()
    with pytest.raises(ValueError) as raised:
        model.fit(X)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.similar_items(0)
    # The CLI on the same data: a usage error (exit 2) in the same words, nothing written.
    C = X.tocoo()
    data = tmp_path / "x.tsv"
    data.write_text("".join(f"{u}\t{i}\n" for u, i in zip(C.row, C.col)))
    result = cli("fit", "--input", data, "--out", tmp_path / "m", *options, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"linsim: error: {raised.value}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.tsv"]


def test_max_threads_is_the_bound_a_model_accepts(simulated):
    # 4 x the cores this process may run on (src/core/context.cc); one more is refused by name.
    import os

    X, _ = simulated
    bound = linsim.max_threads()
    assert bound == 4 * len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match=rf"threads must be in \[0, {bound}\].*got {bound + 1}"):
        linsim.EQ2(rank=2, lam=1.0, threads=bound + 1, progress=False).fit(X)
    assert linsim.EQ2(rank=2, lam=1.0, threads=bound, progress=False).fit(X).item_factors.shape[1] == 2


def test_bad_queries(eq2):
    with pytest.raises(ValueError, match="N must be >= 1"):
        eq2.similar_items(0, N=0)
    with pytest.raises(ValueError, match="measure"):
        eq2.similar_items(0, measure="euclid")
    with pytest.raises(ValueError, match="user_items has 2 rows for 3"):
        eq2.recommend([1, 2, 3], sp.csr_matrix((2, 300)))
    ids, scores = eq2.similar_items(0, N=1000)  # more than there are: every other item
    assert ids.shape == (299,)


def test_ease_weights_and_its_measures(simulated):
    X, _ = simulated
    m = linsim.EASE(lam=20.0, progress=False).fit(X)
    W = m.weights
    assert W.shape == (300, 300) and not W.flags.writeable
    np.testing.assert_array_equal(np.diag(W), 0.0)
    G = (X.T @ X).toarray() + 20.0 * np.eye(300)
    P = np.linalg.inv(G)
    np.testing.assert_allclose(W, np.eye(300) - P / np.diag(P), atol=1e-10)
    ids, scores = m.similar_items(3, N=5, measure="dot")
    assert list(ids) == list(brute_top(np.asarray(W), 3, 5, exclude=[3])[0])
    with pytest.raises(AttributeError):
        m.item_factors
    assert linsim.EASE(lam=20.0, dtype="float32", progress=False).fit(X).weights.dtype == np.float32


def test_sppmi_cosine_trained_and_weighting_fit(simulated):
    X, _ = simulated
    s = linsim.SPPMI(rank=8, progress=False).fit(X)
    assert s.item_factors.shape == (300, 8)
    c = linsim.CosineTrained(rank=6, lam=5.0, epochs=5, progress=False).fit(X)
    np.testing.assert_allclose(np.linalg.norm(c.item_factors, axis=1), 1.0, atol=1e-12)
    w = linsim.EQ2(rank=6, lam=0.01, progress=False).fit(X, weighting="ips:0.5,user-norm:0.5")
    assert w.info["weighting"] == "ips:0.5,user-norm:0.5"
    assert "EQ2(rank=6" in repr(w) and "1500 users x 300 items" in repr(w)


def test_info_holds_the_keys_docs_python_md_lists(simulated):
    X, _ = simulated
    common = {"kind", "rank", "lam", "gauge", "dtype", "weighting", "solver", "solver_reason", "scale", "warnings"}
    for model, extra in ((linsim.EQ1(rank=4, lam=10.0, progress=False), set()),
                         (linsim.EASE(lam=100.0, progress=False), set()),
                         (linsim.SPPMI(rank=4, progress=False), {"negatives", "smoothing", "eigen_power"}),
                         (linsim.CosineTrained(rank=4, lam=5.0, epochs=2, progress=False),
                          {"epochs", "tol", "iterations", "converged"})):
        info = model.fit(X).info
        assert set(info) == common | extra, (info["kind"], set(info) ^ (common | extra))
        assert (info["rank"] is None) == (info["kind"] == "ease")
        assert (info["lam"] is None) == (info["kind"] == "sppmi")
        assert (info["gauge"] is None) == (info["kind"] != "eq1")


def test_sppmi_weighting_of_word_counts_equals_the_svd_of_numpy_sppmi():
    """Word x context counts (symmetric) through weighting="sppmi:k:alpha": the singular values are
    those of the shifted positive PMI matrix computed in numpy (docs/words.md)."""
    rng = np.random.default_rng(3)
    C = rng.poisson(2.0, size=(40, 40)).astype(float)
    C = C + C.T
    k, alpha = 2.0, 0.75
    r, c = C.sum(axis=1), C.sum(axis=0)
    Z = (c ** alpha).sum()
    with np.errstate(divide="ignore"):
        S = np.maximum(0.0, np.log(C * Z / np.outer(r, c ** alpha)) - np.log(k))
    S[C == 0] = 0.0
    m = linsim.EQ2(rank=10, lam=0.0, progress=False).fit(sp.csr_matrix(C), weighting="sppmi:2:0.75")
    assert m.info["weighting"] == "sppmi:2:0.75"
    np.testing.assert_allclose(m.singular_values, np.linalg.svd(S, compute_uv=False)[:10], rtol=1e-9)


def test_results_do_not_depend_on_threads(simulated):
    X, _ = simulated
    one = linsim.EQ2(rank=8, lam=5.0, threads=1, progress=False).fit(X)
    two = linsim.EQ2(rank=8, lam=5.0, threads=2, progress=False).fit(X)
    np.testing.assert_array_equal(one.item_factors, two.item_factors)


def test_direct_writes_are_the_programs_switch_and_write_the_same_bytes(monkeypatch, tmp_path):
    # EASE at p = 3,000 has 72 MB of weights: past the 4 MiB from which arrays go around the page cache.
    X = sp.random(4000, 3000, density=0.01, random_state=np.random.default_rng(5), format="csr",
                  data_rvs=lambda k: np.ones(k))
    model = linsim.EASE(lam=50.0).fit(X)
    try:
        assert linsim.configure_direct_writes(False) is False
        model.save(tmp_path / "cached")
        assert linsim.configure_direct_writes(True) is True
        model.save(tmp_path / "direct")
        for name in ("weights.npy", "interactions_indptr.npy"):
            assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
        np.testing.assert_array_equal(np.load(tmp_path / "direct" / "weights.npy"), model.weights)
        monkeypatch.setenv("LINSIM_DIRECT_WRITES", "no")
        assert linsim.configure_direct_writes() is False
        monkeypatch.delenv("LINSIM_DIRECT_WRITES")
        assert linsim.configure_direct_writes() is True
    finally:
        linsim.configure_direct_writes(True)


def test_huge_page_advice_is_the_programs_setting_and_changes_no_result(monkeypatch):
    # Large enough that the solver's blocks hold whole 2 MiB pages (advised when on).
    X = sp.random(20000, 3000, density=0.005, random_state=np.random.default_rng(3), format="csr",
                  data_rvs=lambda k: np.ones(k))
    try:
        assert linsim.configure_huge_pages(False) == "off"
        off = linsim.EQ2(rank=20, lam=5.0, solver="randomized", progress=False).fit(X)
        assert linsim.configure_huge_pages("gathered") == "gathered"
        gathered = linsim.EQ2(rank=20, lam=5.0, solver="randomized", progress=False).fit(X)
        assert linsim.configure_huge_pages(True) == "all"
        every = linsim.EQ2(rank=20, lam=5.0, solver="randomized", progress=False).fit(X)
        np.testing.assert_array_equal(off.item_factors, gathered.item_factors)
        np.testing.assert_array_equal(off.item_factors, every.item_factors)
        with pytest.raises(ValueError, match="expected 'off', 'gathered' or 'all'"):
            linsim.configure_huge_pages("some")
        for number in (0, 1, 2, 0.5):  # not levels, and not truth values
            with pytest.raises(TypeError, match="expected 'off', 'gathered', 'all', True or False"):
                linsim.configure_huge_pages(number)
        assert linsim.configure_huge_pages("off") == "off"
        monkeypatch.setenv("LINSIM_HUGE_PAGES", "gathered")
        assert linsim.configure_huge_pages() == "gathered"
        monkeypatch.setenv("LINSIM_HUGE_PAGES", "off")
        assert linsim.configure_huge_pages() == "off"
        monkeypatch.setenv("LINSIM_HUGE_PAGES", "all")
        assert linsim.configure_huge_pages() == "all"
        monkeypatch.delenv("LINSIM_HUGE_PAGES")
        assert linsim.configure_huge_pages() == "gathered"
    finally:
        linsim.configure_huge_pages("gathered")


def test_a_lambda_that_zeroes_dimensions_warns(simulated):
    X, _ = simulated
    with pytest.warns(RuntimeWarning, match="zero"):
        m = linsim.EQ2(rank=10, lam=float(linsim.EQ2(rank=10, lam=0.0, progress=False).fit(X).singular_values[3]),
                       progress=False).fit(X)
    assert m.warnings


def test_exported_vectors_in_a_faiss_index_give_the_same_neighbours(eq2):
    faiss = pytest.importorskip("faiss", reason="faiss (python3-faiss) not installed")
    C = eq2.export("projected")
    index = faiss.IndexFlatIP(C.shape[1])
    index.add(C.astype(np.float32))
    scores, found = index.search(C[:20].astype(np.float32), 6)
    ids, ours = eq2.similar_items(range(20), N=5)
    for q in range(20):
        theirs = [j for j in found[q] if j != q][:5]
        # float32 in faiss: neighbours whose scores differ by less than its rounding may swap
        close = np.abs(np.sort(ours[q])[::-1] - np.sort(scores[q][found[q] != q][:5])[::-1]) < 1e-5
        assert close.all()
        assert set(theirs) == set(ids[q]) or not np.all(np.diff(ours[q]) < -1e-5)


@pytest.mark.parametrize("make, words", [
    (lambda: linsim.EQ2(rank=5.0, progress=False), "model option 'rank' must be an integer within range, got 5.0"),
    (lambda: linsim.EQ2(rank=5, lam="1", progress=False), "model option 'lam' must be a number, got '1'"),
    (lambda: linsim.EQ2(rank=5, threads=0, progress=False, solver=3), "model option 'solver' must be a string, got 3"),
])
def test_options_of_the_wrong_type_are_named(simulated, make, words):
    X, _ = simulated
    with pytest.raises(TypeError) as raised:
        make().fit(X)
    assert str(raised.value) == words


def test_query_flags_of_the_wrong_type_are_named(eq2, tmp_path):
    # Was: the extension's "incompatible function arguments" with its signature, naming no
    # parameter; a string such as "no" would be true.
    item = eq2.item_ids[0]
    for call, words in ((lambda: eq2.similar_items(item, N=3, float32="yes"), "float32 must be True or False, got 'yes'"),
                        (lambda: eq2.similar_items(item, N=3, include_self=1), "include_self must be True or False, got 1"),
                        (lambda: eq2.similar_items_all(N=3, float32="no"), "float32 must be True or False"),
                        (lambda: eq2.similar_users(eq2.user_ids[0], N=3, measure=3), "measure must be a str, got 3"),
                        (lambda: eq2.recommend(eq2.user_ids[0], N=3, filter_already_liked_items="x"),
                         "filter_already_liked_items must be True or False, got 'x'"),
                        (lambda: eq2.recommend_all(N=3, filter_already_liked_items=None),
                         "filter_already_liked_items must be True or False, got None"),
                        (lambda: eq2.export(measure=None), "measure must be a str, got None"),
                        (lambda: eq2.save(tmp_path / "m", force="yes"), "force must be True or False, got 'yes'")):
        with pytest.raises(TypeError) as raised:
            call()
        assert str(raised.value) == words or str(raised.value).startswith(words), str(raised.value)
    assert not (tmp_path / "m").exists()
    # numpy's bools are bools.
    ids, _ = eq2.similar_items(item, N=3, float32=np.bool_(False), include_self=np.bool_(True))
    assert ids[0] == item


def test_float32_is_honoured_for_named_queries(eq2):
    # Was: similar_items(id, float32=True) was scored in float64 without a word (only the
    # all-items search had a single-precision path).
    items = list(eq2.item_ids[:5])
    for measure in ("cosine", "projected", "dot"):
        _, s64 = eq2.similar_items(items, N=8, measure=measure)
        _, s32 = eq2.similar_items(items, N=8, measure=measure, float32=True)
        assert s32.dtype == np.float64 and s32.shape == s64.shape
        assert np.array_equal(s32.astype(np.float32).astype(np.float64), s32)  # single-precision values
        assert np.abs(s32 - s64).max() <= 1e-5 * np.abs(s64).max()
        assert (s32 != s64).any()
        _, one = eq2.similar_items(items[0], N=8, measure=measure, float32=True)
        assert one.shape == (8,)
        assert np.abs(one - s64[0]).max() <= 1e-5 * np.abs(s64).max()
    with pytest.raises(ValueError, match="embeddings"):
        eq2.similar_items(items[0], N=3, measure="raw", float32=True)


def test_scores_that_cannot_fit_are_refused_up_front(eq2):
    # Empty rows over 300 items whose scores (and their copy into the array) need four times the
    # memory available (was: a bare MemoryError from inside the extension, or the system's kill).
    try:
        with open("/proc/meminfo") as f:
            available = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        pytest.skip("no /proc/meminfo: the memory available is not known here")
    rows = 4 * available // (16 * 300) + 1
    if rows > 2**31 - 1:
        pytest.skip(f"{available} bytes available: the rows that exceed them do not fit a 32-bit index")
    many = sp.csr_matrix((rows, 300))
    with pytest.raises(MemoryError, match=rf"scores for {rows} rows x 300 items need about .*; pass fewer rows"):
        eq2.score(many)
    assert eq2.score(many[:3]).shape == (3, 300)


def test_a_tuple_id_is_one_query_and_a_tuple_of_ids_a_list(simulated, tmp_path):
    X, _ = simulated
    C = X.tocoo()
    users = pd.Series([(f"u{u}", u % 2) for u in C.row])
    items = pd.Series([(f"i{i}", "x") if i < 5 else f"i{i}" for i in C.col])
    m = linsim.EQ2(rank=5, lam=5.0, progress=False).fit(pd.DataFrame({"user": users, "item": items}))
    ids, scores = m.similar_items(("i0", "x"), N=3)
    assert ids.shape == (3,) and scores.shape == (3,)
    many, _ = m.similar_items((("i0", "x"), "i7"), N=3)  # a tuple that is no id: two queries
    assert many.shape == (2, 3) and list(many[0]) == list(ids)
    items_for_one, _ = m.recommend(("u0", 0), N=4)
    assert items_for_one.shape == (4,)
    # Loaded from a directory the ids are their strings, and the tuple finds its string.
    m.save(tmp_path / "m")
    loaded = linsim.load(tmp_path / "m")
    assert list(loaded.similar_items(("i0", "x"), N=3)[0]) == [str(i) for i in ids]
    assert list(loaded.recommend(("u0", 0), N=4)[0]) == [str(i) for i in items_for_one]
