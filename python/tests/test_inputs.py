"""Inputs: zero copy where the layout fits, one conversion otherwise, the readers' checks."""
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import linsim


def small():
    return sp.csr_matrix(np.array([[1.0, 0, 2], [0, 3, 0], [4, 5, 0]]))


def int64_indices(X):
    X = X.copy()
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)  # scipy would downcast in the constructor
    return X


def test_canonical_csr_is_read_in_place():
    X = small()
    assert X.indices.dtype == np.int32 and X.dtype == np.float64
    c = linsim.as_csr(X)
    assert not c.copied
    for mine, theirs in ((c.handle.data, X.data), (c.handle.indices, X.indices), (c.handle.indptr, X.indptr)):
        assert np.shares_memory(mine, theirs)
    assert not linsim.as_csr(sp.csr_array(X)).copied  # sparse arrays too


@pytest.mark.parametrize("convert", [
    lambda X: X.tocsc(), lambda X: X.tocoo(), lambda X: X.astype(np.float32), lambda X: X.astype(np.int64),
    lambda X: int64_indices(X),
    lambda X: X.toarray(),
])
def test_other_layouts_are_converted_once_to_the_same_matrix(convert):
    X = small()
    c = linsim.as_csr(convert(X))
    assert c.copied
    assert (c.matrix != X).nnz == 0
    assert c.handle.indices.dtype == np.int32 and c.handle.data.dtype == np.float64


def test_duplicates_are_summed_and_zeros_dropped_like_the_readers():
    X = sp.coo_matrix(([1.0, 2.0, 0.0, 5.0], ([0, 0, 1, 1], [1, 1, 0, 2])), shape=(2, 3))
    c = linsim.as_csr(X)
    assert c.matrix.nnz == 2
    assert c.matrix[0, 1] == 3.0 and c.matrix[1, 2] == 5.0


@pytest.mark.parametrize("value, words", [(np.nan, "not finite"), (np.inf, "not finite"), (-1.0, "negative")])
def test_bad_values_are_refused_with_their_position(value, words):
    X = small()
    X.data[3] = value  # row 2, column 0
    with pytest.raises(ValueError, match=words) as e:
        linsim.as_csr(X)
    assert "row 2, column 0" in str(e.value)
    with pytest.raises(ValueError):
        linsim.EQ2(rank=1).fit(X)


def test_negative_values_pass_when_allowed():
    X = small()
    X.data[0] = -1.0
    assert linsim.as_csr(X, allow_negative=True).matrix[0, 0] == -1.0
    # Binarised, a negative value (a dislike) would become an interaction: refused at its place.
    with pytest.raises(ValueError, match=r"row 0, column \d+: negative value -1.0 would be binarised to 1"):
        linsim.EQ2(rank=1).fit(X, binarize=True, allow_negative=True)
    df = pd.DataFrame({"u": ["a", "a"], "i": ["x", "y"], "v": [1.0, -2.0]})
    with pytest.raises(ValueError, match=r"row 1: value -2.0 in column 'v' \(negative: binarising would make it 1"):
        linsim.from_dataframe(df, binarize=True, allow_negative=True)
    assert linsim.from_dataframe(df, allow_negative=True).X.min() == -2.0
    # Found before duplicates are summed: a -1 beside a 3 of one pair (sum 2), or beside a 1 (sum 0).
    for other in (3.0, 1.0):
        df = pd.DataFrame({"u": ["a", "a"], "i": ["x", "x"], "v": [other, -1.0]})
        with pytest.raises(ValueError, match="row 1: value -1.0"):
            linsim.from_dataframe(df, binarize=True, allow_negative=True)
        coo = sp.coo_matrix(([other, -1.0], ([0, 0], [1, 1])), shape=(2, 3))
        with pytest.raises(ValueError, match="row 0, column 1: negative value -1.0 would be binarised"):
            linsim.EQ2(rank=1).fit(coo, binarize=True, allow_negative=True)
        # Without allow_negative the -1 is refused as any negative value is, not summed away first.
        for binarize in (False, True):
            with pytest.raises(ValueError, match=r"value -1.0 at row 0, column 1 \(negative; pass allow_negative"):
                linsim.EQ2(rank=1).fit(coo, binarize=binarize)


def test_a_broken_structure_is_refused_before_any_computation():
    X = small()
    broken = sp.csr_matrix((X.data, X.indices.copy(), X.indptr), shape=X.shape)
    broken.indices[0] = 7  # column outside the matrix: scipy itself does not check
    with pytest.raises(ValueError, match="outside"):
        linsim.as_csr(broken)
    # A fit refuses it before any computation: its progress callback never hears of any work.
    said = []
    with pytest.raises(ValueError, match="outside"):
        linsim.EQ2(rank=1, progress=said.append).fit(broken)
    assert said == []
    with pytest.raises(TypeError):
        linsim.as_csr("not a matrix")
    with pytest.raises(ValueError, match="2-D"):
        linsim.as_csr(np.ones(3))


def _with_arrays(fmt, **arrays):
    """small() (3 x 3, 5 values) in `fmt`, its index arrays then replaced, as a caller's own code
    may (scipy checks them at construction, not after)."""
    M = small().asformat(fmt)
    for name, values in arrays.items():
        setattr(M, name, np.asarray(values, dtype=getattr(M, name).dtype))
    return M


@pytest.mark.parametrize("fmt, arrays, words", [
    # Offsets far beyond the indices, decreasing, or negative: scipy's compiled sorting and
    # conversions read and wrote out of bounds (a crash, or "double free or corruption").
    ("csr", {"indptr": [0, 10**9, 3, 5]}, "decrease at position 2"),
    ("csr", {"indptr": [0, 3, 1, 5]}, "decrease at position 2"),
    ("csr", {"indptr": [0, -1, 3, 5]}, "holds -1, outside"),
    ("csc", {"indptr": [0, 4, 2, 5]}, "decrease at position 2"),
    ("csr", {"indptr": [0, 2, 5]}, "3 offsets \\(indptr\\) for 3 rows; expected 4"),
    ("coo", {"row": [0, 0, 1, 9, 2]}, "row array holds 9, outside \\[0, 3\\)"),
    ("coo", {"col": [0, 2, 1, -2, 1]}, "col array holds -2"),
])
def test_index_arrays_that_contradict_the_shape_are_refused_before_scipy_reads_them(fmt, arrays, words):
    M = _with_arrays(fmt, **arrays)
    for allow_negative in (False, True):
        with pytest.raises(ValueError, match=words):
            linsim.as_csr(M, allow_negative=allow_negative)


def test_an_int64_index_beyond_int32_is_refused_not_wrapped():
    # 2**32 + 5 cast to int32 is 5, a column inside the matrix: the entry moved there.
    X = sp.csr_matrix((np.ones(4), np.array([0, 2**32 + 5, 1, 2], np.int64), np.array([0, 2, 3, 4], np.int64)),
                      shape=(3, 12))
    with pytest.raises(ValueError, match="indices array holds 4294967301, outside \\[0, 12\\)"):
        linsim.as_csr(X)


def test_unsorted_indices_are_sorted_in_a_copy_unless_scipy_was_told_they_are_sorted():
    # Column indices out of order in a row (scipy builds such a matrix without complaint): sorted,
    # and duplicates summed, in a copy; the caller's matrix is left as it was.
    unsorted = sp.csr_matrix((np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([2, 0, 1, 0, 0]), np.array([0, 3, 5])),
                             shape=(2, 3))
    given = (unsorted.data.copy(), unsorted.indices.copy(), unsorted.indptr.copy())
    c = linsim.as_csr(unsorted)
    assert c.copied
    assert list(c.matrix.indices) == [0, 1, 2, 0] and list(c.matrix.data) == [2.0, 3.0, 1.0, 9.0]  # 4 + 5 summed
    assert list(c.matrix.indptr) == [0, 3, 4]
    for before, after in zip(given, (unsorted.data, unsorted.indices, unsorted.indptr)):
        np.testing.assert_array_equal(after, before)
    # Indices changed in place after scipy recorded the matrix as canonical: the flag is not
    # trusted, the structure is checked and refused naming the row and the two indices.
    stale = small()
    assert stale.has_canonical_format
    stale.indices[0], stale.indices[1] = stale.indices[1], stale.indices[0]  # row 0: 2 then 0
    with pytest.raises(ValueError, match=r"row 0: column indices not strictly increasing \(0 after 2\)"):
        linsim.as_csr(stale)
    with pytest.raises(ValueError, match="not strictly increasing"):
        linsim.EQ2(rank=1).fit(stale)


def test_dataframe_ids_are_numbered_like_the_cli_reader(tmp_path):
    df = pd.DataFrame({"user": ["u9", "u1", "u9", "u5", "u1"], "item": [30, 10, 20, 30, 30],
                       "plays": [1.0, 2.0, 3.0, 4.0, 5.0]})
    data = linsim.from_dataframe(df)
    path = tmp_path / "plays.tsv"
    df.to_csv(path, sep="\t", index=False)
    read = linsim.read_interactions(path)
    assert list(map(str, data.user_ids)) == list(read.user_ids)
    assert list(map(str, data.item_ids)) == list(read.item_ids)
    assert (data.X != read.X).nnz == 0
    assert list(data.item_ids) == [30, 10, 20]  # the ids keep their type


def test_dataframe_columns_by_name_and_duplicates_summed():
    df = pd.DataFrame({"when": [1, 2, 3], "item": ["a", "b", "a"], "who": [7, 7, 7]})
    data = linsim.from_dataframe(df, user="who", item="item")
    assert data.X.shape == (1, 2) and data.X[0, 0] == 2.0
    assert linsim.from_dataframe(df, user="who", item="item", binarize=True).X[0, 0] == 1.0
    with pytest.raises(ValueError, match="no column 'nope'"):
        linsim.from_dataframe(df, user="nope", item="item")
    # Values by position only with no column named; once one is, value= says where they are (a
    # numeric third column may be a timestamp); one column for both roles is refused (was: items
    # read from the user column).
    rated = pd.DataFrame({"u": [1, 1, 2], "i": ["a", "b", "a"], "r": [5.0, 3.0, 4.0]})
    assert linsim.from_dataframe(rated).X.toarray().tolist() == [[5.0, 3.0], [4.0, 0.0]]
    assert linsim.from_dataframe(rated, user="u", value="r").X.toarray().tolist() == [[5.0, 3.0], [4.0, 0.0]]
    assert linsim.from_dataframe(rated, user="u").X.toarray().tolist() == [[1.0, 1.0], [1.0, 0.0]]
    swapped = pd.DataFrame({"i": ["a", "b"], "u": [8, 4]})
    with pytest.raises(ValueError, match="both 'i'"):
        linsim.from_dataframe(swapped, item="i")


def test_dataframe_bad_rows_are_named():
    df = pd.DataFrame({"u": [1, 2, None], "i": [1, 2, 3]})
    with pytest.raises(ValueError, match="row 2: missing user id"):
        linsim.from_dataframe(df)
    # A value is named by its row label (here not the position) and its column.
    for value, why in ((float("nan"), r"nan in column 'v' \(not finite\)"),
                       (float("inf"), r"inf in column 'v' \(not finite\)"),
                       (-1.0, r"-1.0 in column 'v' \(negative; pass allow_negative=True")):
        df = pd.DataFrame({"u": [1, 2, 3], "i": [1, 2, 3], "v": [1.0, value, 1.0]}, index=["a", "b", "c"])
        with pytest.raises(ValueError, match=rf"row 'b': value {why}"):
            linsim.from_dataframe(df)
    df = pd.DataFrame({"u": [1], "i": [1], "v": [0.0]})
    with pytest.raises(ValueError, match="no interaction"):
        linsim.from_dataframe(df)
    with pytest.raises(ValueError, match="row 1: missing item id in column 'i'"):
        linsim.from_dataframe(pd.DataFrame({"u": [1, 2], "i": [1, None]}))
    with pytest.raises(ValueError, match="no rows"):
        linsim.from_dataframe(pd.DataFrame({"u": [], "i": []}))


def test_read_arrays_are_the_callers_own_and_outlive_the_reader(tmp_path):
    # The reader's CSR arrays reach numpy without a copy (a capsule keeps their storage alive): they
    # must equal an independent parse, stay valid once every other reference is gone, and be
    # writable like any array the caller owns.
    rng = np.random.default_rng(5)
    users, items = rng.integers(0, 300, 4000), rng.integers(0, 50, 4000)
    values = rng.integers(1, 5, 4000).astype(float)
    path = tmp_path / "plays.tsv"
    path.write_text("".join(f"u{u}\ti{i}\t{v}\n" for u, i, v in zip(users, items, values)))
    row, col = {}, {}  # ids numbered by first appearance, duplicates summed
    for u, i in zip(users, items):
        row.setdefault(u, len(row))
        col.setdefault(i, len(col))
    expected = sp.coo_matrix((values, ([row[u] for u in users], [col[i] for i in items])),
                             shape=(len(row), len(col))).tocsr()
    read = linsim.read_interactions(path)
    indptr, indices, data, shape = read.X.indptr, read.X.indices, read.X.data, read.X.shape
    del read
    noise = [np.full(indices.size, -1, dtype=np.int32) for _ in range(20)]  # reuses any freed memory
    again = sp.csr_matrix((data, indices, indptr), shape=shape)
    assert (again != expected).nnz == 0
    data *= 2.0
    assert (again != 2 * expected).nnz == 0
    X, _ = linsim.simulate(users=300, items=40, seed=3)
    kept, reference = X.data, X.data.copy()
    del X
    noise = [np.full(kept.size, -1.0) for _ in range(20)]
    assert np.array_equal(kept, reference)


def test_read_interactions_reports_missing_files_and_bad_lines(tmp_path):
    with pytest.raises(FileNotFoundError):
        linsim.read_interactions(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("u1\ti1\t1\nu2\ti2\tnan\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2"):
        linsim.read_interactions(bad)


def test_read_interactions_takes_the_clis_separator_names(tmp_path):
    """separator= takes --sep's names as the CLI does (was: "tab" taken literally, so no line split)."""
    path = tmp_path / "two.tsv"
    path.write_text("u1\ti1 x\t1\nu2\ti2\t1\n")  # an item id with a blank: detection would not matter
    for name in ("tab", "\\t", "\t"):
        read = linsim.read_interactions(path, separator=name)
        assert list(read.item_ids) == ["i1 x", "i2"], name
    commas = tmp_path / "two.csv"
    commas.write_text("u1,i1,2\nu2,i2,1\n")
    assert linsim.read_interactions(commas, separator="comma").X.sum() == 3
    with pytest.raises(TypeError):
        linsim.read_interactions(commas, "triplets")  # the options are keywords, as documented


def test_read_interactions_warns_of_comment_lines_that_read_as_interactions(tmp_path):
    """A '#' line after the first data line that reads as an interaction is skipped, as the CLI
    skips it, with the CLI's warning as a RuntimeWarning naming its place."""
    path = tmp_path / "hash.tsv"
    path.write_text("# made by hand\na\tx\t1\n#b\ty\t1\nc\ty\t1\n")
    with pytest.warns(RuntimeWarning, match=r"hash.tsv:3: this line begins with '#'"):
        read = linsim.read_interactions(path)
    assert list(read.user_ids) == ["a", "c"]
    # A path that is not UTF-8: its bytes shown escaped (was: UnicodeDecodeError instead of the data).
    latin = os.path.join(os.fsencode(tmp_path), b"h\xe9.tsv")
    with open(latin, "wb") as f:
        f.write(b"a\tx\t1\n#b\ty\t1\nc\ty\t1\n")
    with pytest.warns(RuntimeWarning, match=r"h\\xe9.tsv:2: this line begins with '#'"):
        assert linsim.read_interactions(os.fsdecode(latin)).X.nnz == 2
    clean = tmp_path / "clean.tsv"
    clean.write_text("# made by hand\na\tx\t1\n# b\ty\t1\nc\ty\t1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert linsim.read_interactions(clean).X.nnz == 2


def test_read_interactions_gives_the_same_on_any_thread_count(tmp_path):
    # ~9 MB: cut into two byte ranges read side by side on two cores (ranges of at least 4 MiB; on
    # one core it is read in one piece, and the C++ SharedReading tests cover the cutting).
    rng = np.random.default_rng(3)
    users = np.repeat(rng.integers(0, 5000, 60000), rng.integers(1, 30, 60000))
    lines = [f"u{u}\t{i}\t{v}" for u, i, v in zip(users, rng.integers(0, 2000, users.size),
                                                   rng.integers(0, 4, users.size))]
    path = tmp_path / "large.tsv"
    path.write_text("user\titem\tplays\n" + "\n".join(lines) + "\n")
    assert path.stat().st_size > 8 << 20
    one = linsim.read_interactions(path, threads=1)
    for threads in (2, 3):
        many = linsim.read_interactions(path, threads=threads)
        assert list(many.user_ids) == list(one.user_ids) and list(many.item_ids) == list(one.item_ids)
        assert (many.X != one.X).nnz == 0
    lines[len(lines) * 3 // 4] = "justonefield"
    path.write_text("user\titem\tplays\n" + "\n".join(lines) + "\n")
    message = f"large.tsv:{len(lines) * 3 // 4 + 2}"
    for threads in (1, 2):
        with pytest.raises(ValueError, match=message):
            linsim.read_interactions(path, threads=threads)


def binarize_cases():
    """Counts, the same matrix with one count split into two stored duplicates, and its pattern."""
    counts = sp.csr_matrix(np.array([[3.0, 0, 1, 0], [0, 2, 0, 1], [1, 0, 4, 0], [0, 1, 1, 2], [2, 0, 0, 1]]))
    pattern = counts.copy()
    pattern.data[:] = 1.0
    # Row 0's first entry (3) stored as 1 + 2: scipy keeps both until sum_duplicates.
    dup = sp.csr_matrix((np.r_[1.0, 2.0, counts.data[1:]], np.r_[0, 0, counts.indices[1:]].astype(np.int32),
                         (counts.indptr + np.r_[0, np.ones(len(counts.indptr) - 1, dtype=np.int32)]).astype(np.int32)),
                        shape=counts.shape)
    assert not dup.has_canonical_format and dup.nnz == counts.nnz + 1
    return counts, dup, pattern


@pytest.mark.parametrize("form", ["interactions", "duplicates", "dense", "sparse", "int64 indices"])
def test_binarize_applies_to_every_input_type_after_duplicates_are_summed(form):
    # Was: an Interactions object was trained on its counts, and a stored duplicate became 2.
    counts, dup, pattern = binarize_cases()
    X = {"interactions": linsim.Interactions(counts, np.arange(5), np.arange(4)), "duplicates": dup,
         "dense": counts.toarray(), "sparse": counts, "int64 indices": int64_indices(counts)}[form]
    given = (X.X if form == "interactions" else X).copy()
    expected = linsim.EQ2(rank=2, lam=0.0).fit(pattern)
    model = linsim.EQ2(rank=2, lam=0.0).fit(X, binarize=True)
    np.testing.assert_allclose(model.singular_values, expected.singular_values, rtol=1e-12)
    np.testing.assert_array_equal(model.user_factors, expected.user_factors)  # the same data, so the same bits
    after = X.X if form == "interactions" else X  # the caller's matrix is not written to
    np.testing.assert_array_equal(after if form == "dense" else after.data, given if form == "dense" else given.data)
    # A negative value is refused before it could become 1.
    negative = counts.copy()
    negative.data[0] = -3.0
    if form == "interactions":
        negative = linsim.Interactions(negative, np.arange(5), np.arange(4))
    with pytest.raises(ValueError, match="negative"):
        linsim.EQ2(rank=2, lam=0.0).fit(negative if form != "dense" else negative.toarray(), binarize=True)


def test_column_names_are_refused_for_interactions_objects():
    counts, _, _ = binarize_cases()
    given = {"interactions": linsim.Interactions(counts, np.arange(5), np.arange(4)), "sparse": counts,
             "dense": counts.toarray()}
    for form, X in given.items():
        for column in ("user", "item", "value"):
            with pytest.raises(ValueError, match="name DataFrame columns; X is not a DataFrame"):
                linsim.EQ2(rank=2, lam=0.0).fit(X, **{column: "who"})


def test_binarize_drops_stored_zeros_and_evaluate_binarises_too():
    counts, _, pattern = binarize_cases()
    # A stored zero is no interaction: dropped before the values become 1.
    zero = sp.csr_matrix((np.r_[counts.data, 0.0], np.r_[counts.indices, 2].astype(np.int32),
                          np.r_[counts.indptr[:-1], counts.indptr[-1] + 1].astype(np.int32)), shape=counts.shape)
    assert zero.nnz == counts.nnz + 1 and zero[4, 2] == 0
    expected = linsim.EQ2(rank=2, lam=0.0).fit(pattern)
    np.testing.assert_array_equal(linsim.EQ2(rank=2, lam=0.0).fit(zero, binarize=True).user_factors,
                                  expected.user_factors)
    # evaluate binarises whatever it is given: counts and their pattern give the same results.
    rng = np.random.default_rng(3)
    many = sp.random(300, 40, density=0.2, random_state=4, format="csr")
    many.data = rng.integers(1, 6, many.nnz).astype(float)
    on_pattern = many.copy()
    on_pattern.data[:] = 1.0
    kwargs = dict(models=("popularity", "eq2"), grid="rank=5 lambda=1", min_interactions=2, progress=False)
    with pytest.warns(RuntimeWarning, match="Recall@50 is 1"):  # 40 items: each user has at most 40 unseen
        assert linsim.evaluate(many, **kwargs) == linsim.evaluate(on_pattern, **kwargs)


def test_a_repeated_id_is_refused_even_right_after_its_first():
    # 1 and "1" are one id once made text, the second right after the first.
    df = pd.DataFrame({"u": [1, "1", 2, 2], "i": ["a", "b", "a", "c"]})
    with pytest.raises(ValueError, match="user id '1' appears twice"):
        linsim.EQ2(rank=1, lam=0.1, progress=False).fit(df)
    X = sp.random(20, 10, density=0.3, format="csr", random_state=1)
    X.data[:] = 1.0
    same = linsim.Interactions(X, np.zeros(20, dtype=int), np.arange(10))
    with pytest.raises(ValueError, match="user id '0' appears twice"):
        linsim.EQ2(rank=2, lam=0.1, progress=False).fit(same)


@pytest.mark.parametrize("form", ["dense", "sparse", "frame"])
def test_complex_values_are_refused_not_cut_to_their_real_part(form):
    A = np.eye(6) * (1 + 1j)
    X = {"dense": A, "sparse": sp.csr_matrix(A),
         "frame": pd.DataFrame({"u": np.arange(6), "i": np.arange(6), "v": np.diag(A)})}[form]
    with pytest.raises(ValueError, match="real numbers"):
        linsim.EQ2(rank=1, lam=0.1, progress=False).fit(X)


def test_a_message_quoting_bytes_that_are_not_utf8_keeps_them_escaped(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"u1\ti1\nu\xe9\n")
    with pytest.raises(ValueError) as raised:
        linsim.read_interactions(str(path))
    message = str(raised.value)
    assert "latin1.tsv:2" in message and "\\xe9" in message, message


def test_a_matrix_wider_than_supported_is_refused_before_its_ids_are_made():
    X = sp.csr_matrix((np.ones(1), (np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))), shape=(1, 2**31 + 10))
    with pytest.raises(ValueError, match=r"1 x 2147483658; linsim supports at most 2\^31 - 1"):
        linsim.EQ2(rank=1, lam=0.1, progress=False).fit(X)


def test_a_value_column_of_pandas_own_types_is_read():
    df = pd.DataFrame({"u": [0, 1, 2, 2], "i": [0, 1, 1, 2], "v": [1, 2, 3, 4]}).astype({"v": "Int64"})
    X = linsim.from_dataframe(df).X
    assert X.toarray().tolist() == [[1, 0, 0], [0, 2, 0], [0, 3, 4]]
    m = linsim.EQ2(rank=1, lam=0.1, progress=False).fit(df)
    assert m.item_factors.shape == (3, 1)


@pytest.mark.parametrize("call", [
    lambda v: linsim.EQ2(rank=1, lam=0.1, seed=v),
    lambda v: linsim.EQ2(rank=1, lam=0.1, threads=v),
    lambda v: linsim.simulate(users=10, items=5, seed=v),
    lambda v: linsim.simulate(users=10, items=5, threads=v),
    lambda v: linsim.read_interactions(__file__, threads=v),
])
def test_integer_parameters_out_of_range_or_of_another_type_are_named(call):
    for value in (-(2**63), 2**64):
        with pytest.raises(ValueError, match=r"(seed|threads) must be in \[-?\d+, \d+\], got " + str(value)):
            call(value)
    for value in (1.5, "3"):
        with pytest.raises(TypeError, match=r"(seed|threads) must be an integer, got " + repr(value).replace(".", r"\.")):
            call(value)


def test_integer_parameters_take_numpy_integers_to_the_end_of_their_range():
    model = linsim.EQ2(rank=1, lam=0.1, seed=np.uint64(2**64 - 1), threads=np.int32(1))
    assert model.seed == 2**64 - 1 and model.threads == 1
    assert type(model.seed) is int and type(model.threads) is int
    # Set again later, they are checked again.
    with pytest.raises(ValueError, match=r"threads must be in"):
        model.threads = 2**40
    with pytest.raises(TypeError, match=r"seed must be an integer, got 1\.5"):
        model.seed = 1.5
    assert model.seed == 2**64 - 1 and model.threads == 1


def test_n_out_of_range_is_named(simulated):
    X, _ = simulated
    model = linsim.EQ2(rank=2, lam=1, progress=False).fit(X)
    for value in (-(2**63) - 1, 2**63):
        with pytest.raises(ValueError, match=r"N must be in \[-\d+, \d+\], got " + str(value)):
            model.similar_items(0, N=value)
        with pytest.raises(ValueError, match=r"N must be in \[-\d+, \d+\], got " + str(value)):
            model.recommend(0, N=value)
    with pytest.raises(TypeError, match=r"N must be an integer, got 2\.5"):
        model.similar_items(0, N=2.5)


@pytest.mark.parametrize("dash", ["-", b"-"])
def test_a_dash_reads_standard_input(dash):
    import subprocess
    import sys

    script = f"import linsim; r = linsim.read_interactions({dash!r}); print(r.X.shape, r.X.nnz, list(r.item_ids))"
    result = subprocess.run([sys.executable, "-c", script], input="u1\ta\nu2\tb\nu1\tb\n", capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 2) 3 ['a', 'b']"


def test_date_ids_and_ids_a_model_cannot_store_are_refused_at_fit():
    # datetime64 ids became nanosecond integers in item_ids.tsv and could not be queried by date.
    days = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])
    df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": days[[0, 1, 1, 2, 0, 2]]})
    with pytest.raises(TypeError, match="item ids of dtype datetime64.*astype\\(str\\)"):
        linsim.EQ2(rank=1, lam=0.01, progress=False).fit(df)
    assert linsim.EQ2(rank=1, lam=0.01, progress=False).fit(df.astype({"item": str})).item_ids[0] == "2020-01-01"
    # A tab in an id: refused at fit, not by save() naming the model's temporary directory.
    for bad in ("a\tb", "a\nb", "a\rb"):
        tabbed = pd.DataFrame({"user": ["u1", "u1", "u2", "u2"], "item": [bad, "c", "c", "d"]})
        with pytest.raises(ValueError, match="item id .* contains a tab, newline or carriage return"):
            linsim.EQ2(rank=1, lam=0.01, progress=False).fit(tabbed)
    # from_dataframe itself refuses both, as docs/python.md says (was: accepted, refused only later).
    with pytest.raises(TypeError, match="item ids of dtype datetime64"):
        linsim.from_dataframe(df)
    with pytest.raises(ValueError, match="user id .* contains a tab"):
        linsim.from_dataframe(pd.DataFrame({"user": ["a\tb", "c"], "item": ["x", "y"]}))


def test_a_fold_in_row_without_interactions_is_named_in_a_warning():
    X = sp.random(40, 12, density=0.3, random_state=3, format="csr")
    X.data[:] = 1.0
    model = linsim.EQ2(rank=2, lam=0.1, progress=False).fit(X)
    row = X[0].toarray()
    with pytest.warns(RuntimeWarning, match="1 row\\(s\\) of user_items have no interactions \\('new'\\)"):
        ids, scores = model.recommend(["new", "known"], np.vstack([np.zeros(12), row]), N=3)
    assert np.all(scores[0] == 0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.recommend("known", row, N=3)
    # A weighting that centres the columns folds an empty row into minus the centre: its scores
    # are score()'s for that row, not 0, and the warning says so (was: "every score is 0").
    centred = linsim.EQ2(rank=2, lam=0.1, progress=False).fit(X, weighting="standardize")
    with pytest.warns(RuntimeWarning, match="the scores are those of an empty row after the weighting's centring"):
        ids, scores = centred.recommend("new", np.zeros((1, 12)), N=12, filter_already_liked_items=False)
    expected = centred.score(np.zeros((1, 12)))[0]
    assert not np.all(expected == 0)
    np.testing.assert_allclose(scores, np.sort(expected)[::-1], rtol=1e-12, atol=1e-15)
