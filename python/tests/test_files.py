"""One model format for the CLI and Python: save/load round trips both ways, and the same
neighbours and scores from either (the CLI prints scores that read back as the same double)."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

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


def test_a_replaced_model_that_cannot_be_deleted_is_a_warning():
    """save(force=True) over a model holding a directory its owner may not empty (mode 0555): the
    new model is in place, the old copy stays beside it, and a RuntimeWarning names it. Root may
    delete anything, so as root the script runs as the unprivileged user 65534."""
    script = """
import os, sys, warnings
import numpy as np, scipy.sparse as sp
import linsim
X = sp.random(30, 12, density=0.4, format="csr", random_state=1)
X.data[:] = 1
target = os.path.join(sys.argv[1], "model")
linsim.EQ2(rank=3, lam=1.0, progress=False).fit(X).save(target)
os.mkdir(os.path.join(target, "locked"))
open(os.path.join(target, "locked", "f"), "w").close()
os.chmod(os.path.join(target, "locked"), 0o555)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    linsim.EQ2(rank=2, lam=1.0, progress=False).fit(X).save(target, force=True)
print(linsim.load(target).item_factors.shape[1])
for w in caught:
    print(w.category.__name__, w.message)
"""
    # A directory of its own in the system's temporary directory: pytest's are private to root.
    where = pathlib.Path(tempfile.mkdtemp(prefix="linsim-undeleted-"))
    try:
        prefix = []
        if os.geteuid() == 0:
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            os.chmod(where, 0o777)
        result = subprocess.run(prefix + [sys.executable, "-c", script, str(where)], capture_output=True, text=True,
                                timeout=120, env=os.environ)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "2"  # the new model
        assert len(lines) == 2 and lines[1].startswith(f"RuntimeWarning '{where / 'model'}' was replaced, but its "
                                                       f"previous contents, moved to '{where / '.model.old-'}"), lines
        assert "could not be deleted (Permission denied); delete them by hand" in lines[1]
        left = [name for name in os.listdir(where) if name.startswith(".model.old-")]
        assert len(left) == 1
        os.chmod(where / left[0] / "locked", 0o755)  # for the clean-up
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        linsim.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="model.json"):
        linsim.load(tmp_path / "empty")


def test_input_whose_content_is_wrong_is_a_value_error(simulated, tmp_path):
    """Malformed input is a ValueError (docs/python.md, "Errors"), not only a bad line: a damaged
    model directory, a truncated .gz, a file with a header and no data (each was a RuntimeError)."""
    model = linsim.EQ2(rank=3, lam=1, progress=False).fit(simulated[0])
    good = tmp_path / "model"
    model.save(good)
    garbled = tmp_path / "garbled"
    shutil.copytree(good, garbled)
    (garbled / "model.json").write_text("{garbage")
    with pytest.raises(ValueError, match="invalid JSON"):
        linsim.load(garbled)
    reshaped = tmp_path / "reshaped"
    shutil.copytree(good, reshaped)
    np.save(reshaped / "item_embeddings.npy", np.zeros((4, 3)))
    with pytest.raises(ValueError, match="shape"):
        linsim.load(reshaped)
    lines = "".join(f"u{u}\ti{(u * 7 + j) % 50}\t1\n" for u in range(400) for j in range(5)).encode()
    import gzip
    packed = gzip.compress(lines)
    (tmp_path / "cut.tsv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="stops before its end"):
        linsim.read_interactions(str(tmp_path / "cut.tsv.gz"))
    (tmp_path / "header.tsv").write_text("user\titem\tvalue\n")
    with pytest.raises(ValueError, match="no interactions"):
        linsim.read_interactions(str(tmp_path / "header.tsv"))
    # The values themselves: too large to square, or negative where a weighting needs counts.
    with pytest.raises(ValueError, match="too large"):
        linsim.EQ2(rank=1, lam=1, progress=False).fit(np.full((5, 4), 1e300))
    missing = tmp_path / "missing_array"
    shutil.copytree(good, missing)
    os.remove(missing / "encoder.npy")
    with pytest.raises(ValueError, match="encoder.npy' is missing from the model directory"):
        linsim.load(missing)
    # A failure of the machine, not of the content, stays a RuntimeError.
    with pytest.raises(RuntimeError) as e:
        model.save(tmp_path / "missing" / "deeper" / "model")
    assert not isinstance(e.value, ValueError)


def test_ids_and_paths_that_are_not_utf8_survive_every_round_trip(cli, tmp_path):
    # A Latin-1 data file in a directory whose name is Latin-1 too: its ids are bytes that are not
    # UTF-8. Python sees them as str with escaped bytes (PEP 383, as it sees such file names), and
    # every way back to bytes gives the same bytes.
    folder = os.path.join(os.fsencode(tmp_path), b"donn\xe9es")
    os.mkdir(folder)
    data = os.path.join(folder, b"caf\xe9.tsv")
    items = [b"caf\xe9", b"th\xe9", b"item", b"\xef\xbb\xbfmark", b"na\xefve"]
    with open(data, "wb") as f:
        for u in range(40):
            for j, item in enumerate(items):
                if (u + j) % 3:
                    f.write(b"user%d\t%s\n" % (u, item))
    read = linsim.read_interactions(os.fsdecode(data))
    assert "caf\udce9" in set(read.item_ids)
    assert {i.encode("utf-8", "surrogateescape") for i in read.item_ids} == set(items)
    model = linsim.EQ2(rank=2, lam=1, progress=False).fit(read)
    ids, _ = model.similar_items("caf\udce9", N=2)
    assert len(ids) == 2
    # Saved by Python into a Latin-1 path (str or bytes) and read by the CLI: the same id bytes.
    saved = os.path.join(folder, b"mod\xe8le")
    model.save(os.fsdecode(saved))
    with open(os.path.join(saved, b"item_ids.tsv"), "rb") as f:
        assert f.read().splitlines() == [i.encode("utf-8", "surrogateescape") for i in read.item_ids]
    # The CLI fits the same file; Python loads its model and gets its ids and neighbours.
    cli_model = os.path.join(folder, b"cli")
    result = subprocess.run([os.environ["LINSIM_CLI"].encode(), b"fit", b"--input", data, b"--rank", b"2",
                             b"--lambda", b"1", b"--out", cli_model], capture_output=True)
    assert result.returncode == 0, result.stderr
    loaded = linsim.load(cli_model)
    assert list(loaded.item_ids) == list(read.item_ids)
    assert list(loaded.similar_items("caf\udce9", N=2)[0]) == list(ids)
    # and back: saved from the loaded model, the bytes are the CLI's.
    loaded.save(os.path.join(folder, b"again"))
    for name in (b"item_ids.tsv", b"user_ids.tsv"):
        with open(os.path.join(cli_model, name), "rb") as a, open(os.path.join(folder, b"again", name), "rb") as b:
            assert a.read() == b.read()
    # model.json names the input with its bytes escaped: still JSON.
    with open(os.path.join(cli_model, b"model.json"), "rb") as f:
        assert "caf\\xe9.tsv" in json.loads(f.read())["input"]["path"]


def test_a_first_id_that_begins_with_a_byte_order_mark_keeps_it(tmp_path):
    X = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    users = ["\ufeffu0", "u1", "u2", "u3"]
    items = ["\ufeff", "\ufeff\ufeffi1", "i2"]
    model = linsim.EQ2(rank=2, lam=0.1, progress=False).fit(
        linsim.Interactions(sp.csr_matrix(X), np.array(users, dtype=object), np.array(items, dtype=object)))
    model.save(tmp_path / "m")
    back = linsim.load(tmp_path / "m")
    assert list(back.user_ids) == users and list(back.item_ids) == items


def test_an_id_that_no_bytes_can_stand_for_is_refused_by_name():
    frame = pd.DataFrame({"u": ["a", "b\ud800", "c"], "i": ["x", "y", "z"]})
    with pytest.raises(ValueError, match=r"user id 'b\\ud800' cannot be stored: character 1 is a lone surrogate"):
        linsim.EQ2(rank=1, lam=0.1, progress=False).fit(frame)
