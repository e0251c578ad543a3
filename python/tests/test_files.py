"""One model format for the CLI and Python: save/load round trips both ways, and the same
neighbours and scores from either (the CLI prints scores that read back as the same double)."""
import os

import numpy as np
import pandas as pd
import pytest

import linsim
from conftest import read_table, write_triplets


def python_table(model, queries, N, measure, items=True):
    find = model.similar_items if items else model.similar_users
    ids, scores = find(queries, N=N, measure=measure)
    return {str(q): ([str(i) for i in row], list(s)) for q, row, s in zip(queries, ids, scores)}


def assert_same_tables(ours, theirs):
    assert ours.keys() == theirs.keys()
    for q in ours:
        assert ours[q][0] == theirs[q][0], q
        np.testing.assert_allclose(ours[q][1], theirs[q][1], rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def triplets(simulated, tmp_path_factory):
    X, _ = simulated
    path = tmp_path_factory.mktemp("data") / "interactions.tsv"
    write_triplets(path, X)
    return path


def test_a_cli_model_gives_the_same_answers_in_python(cli, triplets, tmp_path):
    model_dir = tmp_path / "eq1"
    cli("fit", "--input", triplets, "--model", "eq1", "--rank", 10, "--lambda", 500, "--gauge", "symmetric",
        "--out", model_dir)
    m = linsim.load(model_dir)
    assert isinstance(m, linsim.EQ1) and m.info["gauge"] == "symmetric"
    queries = [str(q) for q in m.item_ids[:25]]
    for measure in linsim.MEASURES:
        out = tmp_path / f"{measure}.tsv"
        cli("similar-items", "--model", model_dir, "--items", ",".join(queries), "--top", 7, "--measure", measure,
            "--output", out)
        assert_same_tables(python_table(m, queries, 7, measure), read_table(out))
    out = tmp_path / "users.tsv"
    users = [str(u) for u in m.user_ids[:10]]
    cli("similar-users", "--model", model_dir, "--users", ",".join(users), "--top", 5, "--output", out)
    assert_same_tables(python_table(m, users, 5, "projected", items=False), read_table(out))
    out = tmp_path / "recommend.tsv"
    cli("recommend", "--model", model_dir, "--users", ",".join(users), "--top", 5, "--output", out)
    ids, scores = m.recommend(users, N=5)
    assert_same_tables({u: ([str(i) for i in r], list(s)) for u, r, s in zip(users, ids, scores)}, read_table(out))


def test_a_python_fit_equals_the_cli_fit_of_the_same_file(cli, triplets, tmp_path):
    df = pd.read_csv(triplets, sep="\t")
    for model, args in ((linsim.EQ2(rank=10, lam=5.0, progress=False), ["--model", "eq2", "--rank", 10, "--lambda", 5]),
                        (linsim.EASE(lam=50.0, progress=False), ["--model", "ease", "--lambda", 50])):
        model.fit(df)
        cli("fit", "--input", triplets, *args, "--out", tmp_path / model.kind)
        theirs = linsim.load(tmp_path / model.kind)
        assert [str(i) for i in model.item_ids] == list(theirs.item_ids)
        queries = list(model.item_ids[:30])
        ours = python_table(model, queries, 6, "projected")
        assert_same_tables(ours, python_table(theirs, [str(q) for q in queries], 6, "projected"))


def test_a_python_model_is_used_by_the_cli(cli, simulated, tmp_path):
    X, _ = simulated
    m = linsim.EQ2(rank=8, lam=5.0, progress=False).fit(X)
    m.save(tmp_path / "model")
    out = tmp_path / "cli.tsv"
    cli("similar-items", "--model", tmp_path / "model", "--items", "0,1,2,3", "--top", 6, "--output", out)
    assert_same_tables(python_table(m, [0, 1, 2, 3], 6, "projected"), read_table(out))
    again = linsim.load(tmp_path / "model")
    np.testing.assert_array_equal(again.item_factors, m.item_factors)
    np.testing.assert_array_equal(again.user_factors, m.user_factors)
    assert list(again.similar_items(5, N=4)[0]) == [str(i) for i in m.similar_items(5, N=4)[0]]


def test_save_never_overwrites_without_force_and_leaves_nothing_half_written(simulated, tmp_path):
    X, _ = simulated
    m = linsim.EQ2(rank=4, lam=5.0, progress=False).fit(X)
    target = tmp_path / "model"
    m.save(target)
    # A different model refused without force: the saved one stays, file for file.
    saved = {f.name: f.read_bytes() for f in target.iterdir()}
    different = linsim.EQ2(rank=3, lam=5.0, progress=False).fit(X)
    with pytest.raises(ValueError, match="exists"):
        different.save(target)
    assert {f.name: f.read_bytes() for f in target.iterdir()} == saved
    different.save(target, force=True)
    assert linsim.load(target).item_factors.shape[1] == 3
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError):
        m.save(other, force=True)  # not a model directory: never replaced
    assert (other / "mine.txt").read_text() == "keep me"
    assert os.listdir(other) == ["mine.txt"]
    with pytest.raises(RuntimeError):
        m.save(tmp_path / "missing" / "deeper" / "model")
    assert sorted(os.listdir(tmp_path)) == ["model", "notes"]


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        linsim.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match="model.json"):
        linsim.load(tmp_path / "empty")
