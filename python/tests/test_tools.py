"""simulate, reproduce and audit: the same content as the CLI's files."""
import json
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import linsim
from conftest import write_triplets


def test_simulate_draws_what_the_cli_draws(cli, tmp_path):
    X, truth = linsim.simulate(users=400, items=80, clusters=3, seed=11)
    cli("simulate", "--users", 400, "--items", 80, "--clusters", 3, "--seed", 11, "--out", tmp_path / "sim.tsv")
    theirs = linsim.read_interactions(tmp_path / "sim.tsv")
    rows = [int(u) for u in theirs.user_ids]
    cols = [int(i) for i in theirs.item_ids]
    ours = X[rows][:, cols]
    assert (ours != theirs.X).nnz == 0
    assert truth["cluster"].shape == (80,) and set(truth["cluster"]) <= {0, 1, 2}
    assert truth["activity"].sum() == X.nnz


def test_reproduce_returns_results_json(cli, tmp_path):
    args = dict(users=1500, items=120, clusters=3, seeds=1, rank=8)
    ours = linsim.reproduce(**args, out=tmp_path / "py", progress=False)
    cli("reproduce", "--users", 1500, "--items", 120, "--clusters", 3, "--seeds", 1, "--rank", 8,
        "--out", tmp_path / "cli")
    theirs = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert ours == theirs
    assert ours == json.loads((tmp_path / "py" / "results.json").read_text())
    assert (tmp_path / "py" / "figure1.png").exists()


def vectors_with_a_scale(seed=3):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(200, 6)) * np.array([5.0, 3.0, 1.0, 1.0, 0.5, 0.2])
    return B


def test_audit_of_an_array_equals_the_cli_audit_of_the_same_npy(cli, tmp_path):
    B = vectors_with_a_scale()
    np.save(tmp_path / "items.npy", B)
    ours = linsim.audit(B, html=tmp_path / "report.html", progress=False)
    cli("audit", "--items", tmp_path / "items.npy", "--out", tmp_path / "cli")
    theirs = json.loads((tmp_path / "cli" / "audit.json").read_text())
    ours.pop("input", None), theirs.pop("input", None)
    assert ours == theirs
    assert "<html" in (tmp_path / "report.html").read_text()[:200].lower()


def test_audit_is_the_same_for_float32_fortran_and_c_order():
    B = vectors_with_a_scale()
    reference = linsim.audit(B, progress=False)
    reference.pop("input")
    fortran = linsim.audit(np.asfortranarray(B), progress=False)
    fortran.pop("input")
    assert fortran == reference
    # float32 input: read as the same float32 values in float64
    rounded = linsim.audit(B.astype(np.float32).astype(np.float64), progress=False)
    as32 = linsim.audit(B.astype(np.float32), progress=False)
    rounded.pop("input"), as32.pop("input")
    assert as32 == rounded


def test_audit_of_a_model_with_interactions_and_clusters(simulated):
    X, truth = simulated
    m = linsim.EQ1(rank=8, lam=100.0, progress=False).fit(X)
    report = linsim.audit(m, interactions=X, truth=truth["cluster"], progress=False)
    by_dict = linsim.audit(m.item_factors, truth={i: int(c) for i, c in enumerate(truth["cluster"])},
                           progress=False)
    # The same truth given as an array or as a dict by item gives the same AUCs, and they are
    # those of clusters the vectors do separate (a shuffled truth gives ~0.5).
    for measure in ("cosine", "dot"):
        assert by_dict["truth"]["auc"][measure] == report["truth"]["auc"][measure], measure
        assert report["truth"]["auc"][measure] > 0.7, (measure, report["truth"]["auc"][measure])
    shuffled = np.random.default_rng(0).permutation(truth["cluster"])
    assert linsim.audit(m.item_factors, truth=shuffled, progress=False)["truth"]["auc"]["cosine"] < 0.6
    # A model alone brings its training interactions, as `linsim audit --items DIR` (was: none, and
    # the popularity check read "Needs --interactions.").
    alone = linsim.audit(m, truth=truth["cluster"], progress=False)
    assert alone["popularity"]["norm_spearman"] is not None
    assert alone["popularity"] == report["popularity"]
    assert alone["projected_overlap"] == report["projected_overlap"]


def test_audit_paths_that_are_not_utf8_as_str_or_bytes(simulated, tmp_path):
    X, truth = simulated
    m = linsim.EQ1(rank=8, lam=100.0, progress=False).fit(X)
    folder = os.fsencode(tmp_path)
    truth_path = os.path.join(folder, b"v\xe9rit\xe9.tsv")
    with open(truth_path, "wb") as f:
        f.write("".join(f"{i}\t{c}\n" for i, c in enumerate(truth["cluster"])).encode())
    by_array = linsim.audit(m, truth=truth["cluster"], progress=False)
    for given in (truth_path, os.fsdecode(truth_path)):
        out = os.path.join(folder, b"r\xe9sultat")
        report = linsim.audit(m, truth=given, out=os.fsdecode(out) if isinstance(given, str) else out, force=True,
                              progress=False)
        assert report["truth"] == by_array["truth"]
        assert report["input"]["truth"].endswith("v\\xe9rit\\xe9.tsv")  # as the CLI names it
        with open(os.path.join(out, b"audit.json"), "rb") as f:
            assert json.loads(f.read()) == report


def test_audit_input_errors(tmp_path):
    B = vectors_with_a_scale()
    with pytest.raises(ValueError, match="dimension"):
        linsim.audit(B, user_vectors=np.ones((5, 3)))
    with pytest.raises(ValueError, match="item columns"):
        linsim.audit(B, interactions=sp.csr_matrix((4, 10)))
    with pytest.raises(ValueError, match="cluster labels"):
        linsim.audit(B, truth=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="top"):
        linsim.audit(B, top=0)
    with pytest.raises(FileNotFoundError):
        linsim.audit(B, truth="no-such-truth-file.tsv")
    with pytest.raises(ValueError, match="unknown truth_kind 'bogus'"):  # was: accepted without a truth
        linsim.audit(B, truth_kind="bogus")
    with pytest.raises(ValueError, match="needs a truth"):
        linsim.audit(B, truth_kind="pairs")
    calls = []
    with pytest.raises(RuntimeError, match="cannot"):  # refused before the audit starts
        linsim.audit(B, html="/no-such-dir/report.html", progress=calls.append)
    assert calls == []
    # out= (audit.json and audit.html): a directory whose parent is missing, or whose parent is a
    # file; refused naming the path before the audit starts, nothing left beside it.
    (tmp_path / "a-file").write_text("not a directory")
    for out in (tmp_path / "no-such-dir" / "audit", tmp_path / "a-file" / "audit"):
        with pytest.raises(RuntimeError, match="cannot") as e:
            linsim.audit(B, out=out, progress=calls.append)
        assert str(out) in str(e.value)
    assert calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert (tmp_path / "a-file").read_text() == "not a directory"


def test_audit_of_gensim_vectors():
    gensim = pytest.importorskip("gensim", reason="gensim (python3-gensim) not installed")
    B = vectors_with_a_scale()
    kv = gensim.models.KeyedVectors(vector_size=6)
    kv.add_vectors([f"w{i}" for i in range(200)], B.astype(np.float32))
    pairs = [("w1", "w2", 3.0), ("w3", "w4", 1.0), ("w5", "w9", 2.0), ("w7", "nope", 1.0)]
    report = linsim.audit(kv, truth=pairs, progress=False)
    assert report["truth"]["pairs_found"] == 3 and report["truth"]["pairs_in_file"] == 4


def test_evaluate_returns_what_the_cli_writes(cli, simulated, tmp_path):
    X, _ = simulated
    write_triplets(tmp_path / "data.tsv", X)
    ours = linsim.evaluate(linsim.read_interactions(tmp_path / "data.tsv"), models=["popularity", "eq2"],
                           grid="rank=5,10 eq2.lambda=1", heldout_users=200, out=tmp_path / "py", progress=False)
    cli("evaluate", "--input", tmp_path / "data.tsv", "--models", "popularity,eq2", "--grid", "rank=5,10 eq2.lambda=1",
        "--heldout-users", 200, "--out", tmp_path / "cli")
    theirs = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert theirs["protocol"].pop("input").endswith("data.tsv") and ours["protocol"].pop("input") is None
    assert ours == theirs
    assert json.loads((tmp_path / "py" / "results.json").read_text())["models"] == ours["models"]
    assert (tmp_path / "py" / "results.md").read_text().startswith("# Top-N evaluation")
    with pytest.raises(ValueError, match="unknown"):
        linsim.evaluate(X, models=["nonsense"], progress=False)


def test_evaluate_input_errors(simulated, tmp_path):
    X, _ = simulated
    calls = []
    with pytest.raises(ValueError, match="cannot hold out"):  # too few training users would be left
        linsim.evaluate(X, models="popularity", heldout_users=0.5, progress=calls.append)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("kept")
    with pytest.raises(ValueError, match="refusing to replace .*taken': it has no results.json"):
        linsim.evaluate(X, models="popularity", out=tmp_path / "taken", progress=calls.append)
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="already exists"):
        linsim.evaluate(X, models="popularity", out=tmp_path / "ours", progress=calls.append)
    with pytest.raises(RuntimeError, match="cannot create output directory") as e:
        linsim.evaluate(X, models="popularity", out=tmp_path / "no-such-dir" / "results", progress=calls.append)
    assert str(tmp_path / "no-such-dir" / "results") in str(e.value)
    assert calls == []  # every refusal came before the work
    # An unknown model name is refused before any model is evaluated, and nothing is left behind.
    with pytest.raises(ValueError, match="unknown model 'nonsense'"):
        linsim.evaluate(X, models=["popularity", "nonsense"], out=tmp_path / "partial", progress=calls.append)
    assert not any("popularity" in message for message in calls), calls
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours", "taken"]
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["mine.txt"]
    # Arguments named as evaluate()'s own, not as an internal helper's or pybind's signature dump.
    with pytest.raises(TypeError, match=r"evaluate\(\) got unexpected keyword argument\(s\) 'binarize'"):
        linsim.evaluate(X, models="popularity", binarize=True)
    with pytest.raises(TypeError, match="grid must be a str"):
        linsim.evaluate(X, models="popularity", grid=None)
    with pytest.raises(ValueError, match="--grid: eq2 rank 5000 exceeds the"):  # refused, never dropped
        linsim.evaluate(X, models="eq2", grid="rank=5,5000 lambda=1")


def test_audit_takes_dense_interactions_and_refuses_an_ease_model(simulated):
    X, _ = simulated
    m = linsim.EQ2(rank=4, lam=1.0, progress=False).fit(X)
    dense = linsim.audit(m, interactions=X.toarray(), top=5, queries=50)
    sparse = linsim.audit(m, interactions=X, top=5, queries=50)
    assert dense["input"]["interactions"] == sparse["input"]["interactions"]
    assert dense["popularity"] == sparse["popularity"]
    with pytest.raises(ValueError, match="an EASE model has no embeddings to audit"):
        linsim.audit(linsim.EASE(lam=10.0, progress=False).fit(X))


def test_reproduce_warns_as_fit_does_and_one_seed_has_no_sd():
    X, _ = linsim.simulate(users=300, items=40, clusters=3, seed=42)
    s = np.linalg.svd(X.toarray(), compute_uv=False)
    between = 0.5 * (s[0] + s[1])  # eq2 keeps σ_1 only
    with pytest.warns(RuntimeWarning, match=r"seed 42, eq2: λ = .* leaves 1 of the 3 dimensions"):
        result = linsim.reproduce(users=300, items=40, clusters=3, seeds=1, rank=3, lambda_eq1=1,
                                  lambda_eq2=between, progress=False)
    assert any(w.startswith("seed 42, eq2: ") for w in result["warnings"])
    assert all(v["auc"]["sd"] is None for v in result["variants"])  # one seed: undefined, not 0


def test_evaluate_warns_of_a_chosen_point_with_one_dimension():
    # Nine in ten entries set: σ_1 near 0.9 sqrt(n p), the rest noise an order of magnitude below,
    # so λ = 30 lies between σ_2 and σ_1 of any split's training users (eq2 keeps σ_i > λ).
    # 250 items, so that every test user keeps more than 50 unseen (no protocol warning).
    rng = np.random.default_rng(5)
    X = sp.csr_matrix((rng.random((300, 250)) < 0.9).astype(float))
    s = np.linalg.svd(X.toarray(), compute_uv=False)
    assert s[1] < 15 and s[0] > 60
    with pytest.warns(RuntimeWarning, match=r"eq2 at the chosen grid point lambda=30 rank=3: λ = 30 leaves 1 of the 3"):
        result = linsim.evaluate(X, models=["eq2"], grid="rank=3 lambda=30", heldout_users=30, progress=False)
    assert len(result["models"][0]["warnings"]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # λ = 1 keeps all three: no warning
        result = linsim.evaluate(X, models=["eq2"], grid="rank=3 lambda=1", heldout_users=30, progress=False)
    assert result["models"][0]["warnings"] == [] and result["protocol"]["warnings"] == []


def test_evaluate_warns_of_recalls_the_split_decides():
    # 40 items, nine in ten held by each user: every test user has at most 40 - 28 unseen items,
    # all in its top 20, so its Recall@20 and @50 are 1 whatever the model.
    rng = np.random.default_rng(5)
    X = sp.csr_matrix((rng.random((300, 40)) < 0.9).astype(float))
    with pytest.warns(RuntimeWarning, match=r"Recall@20 is 1 for 30 of the 30 test users whatever the model"):
        result = linsim.evaluate(X, models=["popularity"], heldout_users=30, progress=False)
    assert len(result["protocol"]["warnings"]) == 2
    assert result["models"][0]["test"]["recall@20"]["mean"] == 1.0


def test_audit_outputs_that_are_one_file_or_the_truth_are_refused(tmp_path):
    B = vectors_with_a_scale()
    truth = tmp_path / "truth.tsv"
    truth.write_text("".join(f"{i}\t{i % 3}\n" for i in range(200)))
    for html, out in ((tmp_path / "out" / "audit.html", tmp_path / "out"),  # inside the directory
                      (truth, None)):  # would replace the truth it reads
        with pytest.raises(ValueError, match="html|out"):
            linsim.audit(B, truth=truth, html=html, out=out, force=True, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truth.tsv"]
    assert truth.read_text().startswith("0\t0\n")
