"""Interaction data from the formats the ecosystem already has (docs/python.md, "Inputs").

Everything ends as linsim's matrix layout: CSR with int32 indptr and indices and float64 values,
column indices sorted and unique in each row, no stored zeros. A scipy CSR matrix that already
has that layout is read in place (no copy); anything else is converted once (a copy), which the
``copied`` flag of :func:`as_csr` reports.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import warnings
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _linsim

_INT32_MAX = np.iinfo(np.int32).max


def _sparse():
    try:
        import scipy.sparse as sp
    except ImportError as e:  # pragma: no cover - scipy is a dependency
        raise ImportError("linsim needs scipy (Debian: python3-scipy)") from e
    return sp


def csr_from_arrays(arrays):
    """The scipy CSR matrix of the extension's (indptr, indices, data, shape), without a copy."""
    indptr, indices, data, shape = arrays
    return _sparse().csr_matrix((data, indices, indptr), shape=shape, copy=False)


@dataclasses.dataclass
class Interactions:
    """A users x items interaction matrix with the external ids of its rows and columns.

    ``X`` is a ``scipy.sparse.csr_matrix``; ``user_ids[u]`` and ``item_ids[i]`` name row u and
    column i (numpy arrays of the ids' own type: ints stay ints, strings are an object array).
    """

    X: Any
    user_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def shape(self) -> Tuple[int, int]:
        return self.X.shape

    def __repr__(self) -> str:
        n, p = self.X.shape
        return f"Interactions({n} users x {p} items, {self.X.nnz} interactions)"


@dataclasses.dataclass
class CsrInput:
    """The checked CSR arrays handed to the extension, and whether they are a copy."""

    handle: Any  # _linsim.Csr: views of the arrays below
    matrix: Any  # the scipy.sparse.csr_matrix they belong to
    copied: bool


def _real(dtype) -> bool:
    """Integers, floats and booleans: what converts to float64 without losing a part (a complex
    value would lose its imaginary part with no more than numpy's warning)."""
    return np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating) or dtype == np.bool_


# The scipy.sparse formats that can hold one (row, column) pair more than once.
_WITH_DUPLICATES = ("coo", "csr", "csc", "bsr")


def _first_negative_entry(M):
    """(row, column, value) of the first negative entry of a sparse matrix in one of the formats
    _WITH_DUPLICATES, as given (COO keeps duplicates), so that a -1 beside a 3 of the same pair is
    found; None if there is none or the values are not real numbers (as_csr names those)."""
    data = np.asarray(M.data)
    if not _real(data.dtype) or not data.size or not (data < 0).any():
        return None
    C = M.tocoo()
    q = int(np.flatnonzero(np.asarray(C.data) < 0)[0])
    return int(C.row[q]), int(C.col[q]), float(C.data[q])


def _check_structure(M, what: str) -> None:
    """Refuses a sparse matrix whose index arrays contradict its shape, before any scipy method
    reads them: scipy's compiled conversions, sorting and summing trust them (an offset of 10**9,
    offsets that decrease or an index beyond the shape made them write out of bounds: a crash or a
    corrupt heap), and a cast to int32 would wrap an int64 index into range (2**32 + 5 became 5)."""
    fmt = M.format
    if fmt not in _WITH_DUPLICATES:
        return  # lil, dok and dia hold no such arrays of their own
    n, p = M.shape
    data = np.asarray(M.data)

    def indices_in(name, values, bound):
        values = np.asarray(values)
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{what}: the {fmt} matrix's {name} array is not a 1-D array of integers")
        if values.size:
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= bound:
                bad = low if low < 0 else high
                raise ValueError(f"{what}: the {fmt} matrix's {name} array holds {bad}, outside [0, {bound}) "
                                 f"for its shape {n} x {p}")
        return values

    if fmt == "coo":
        row, col = np.asarray(M.row), np.asarray(M.col)
        if row.shape != data.shape[:1] or col.shape != data.shape[:1]:
            raise ValueError(f"{what}: the coo matrix has {row.size} rows, {col.size} columns and {data.shape[0]} "
                             "values: they must be as many")
        indices_in("row", row, n)
        indices_in("col", col, p)
        return
    if fmt == "bsr":
        R, C = M.blocksize
        major, minor = n // R, p // C
    elif fmt == "csr":
        major, minor = n, p
    else:  # csc
        major, minor = p, n
    indptr = indices_in("indptr", M.indptr, np.iinfo(np.int64).max)
    indices = np.asarray(M.indices)
    if indptr.size != major + 1:
        raise ValueError(f"{what}: the {fmt} matrix has {indptr.size} offsets (indptr) for {major} "
                         f"{'columns' if fmt == 'csc' else 'rows'}; expected {major + 1}")
    if indptr[0] != 0 or int(indptr[-1]) != indices.size or data.shape[0] != indices.size:
        raise ValueError(f"{what}: the {fmt} matrix's offsets (indptr) run from {int(indptr[0])} to "
                         f"{int(indptr[-1])} over {indices.size} indices and {data.shape[0]} values; they must run "
                         "from 0 to the number of indices, which the values must match")
    steps = np.diff(indptr)
    if steps.size and steps.min() < 0:
        q = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"{what}: the {fmt} matrix's offsets (indptr) decrease at position {q + 1} "
                         f"({int(indptr[q])} to {int(indptr[q + 1])})")
    indices_in("indices", indices, minor)


def as_csr(X, *, allow_negative: bool = False, what: str = "X") -> CsrInput:
    """Checks and, where needed, converts a matrix to linsim's CSR layout.

    Accepts any ``scipy.sparse`` matrix or array (CSR, CSC, COO, ...; any numeric dtype; int32
    or int64 indices) and dense 2-D numpy arrays. Duplicates are summed and stored zeros dropped
    (as the file readers do). Values must be finite, and non-negative unless ``allow_negative``.
    No copy is made when X is CSR, float64, int32-indexed and canonical (sorted, no duplicates,
    no stored zeros).
    """
    sp = _sparse()
    copied = False
    if sp.issparse(X):
        _check_structure(X, what)
    if sp.issparse(X) and X.format in _WITH_DUPLICATES and not allow_negative:
        # Checked as given, before duplicates are summed (here or by the conversion to CSR): a
        # negative entry beside a positive one of the same pair would hide in their sum.
        negative = _first_negative_entry(X)
        if negative is not None:
            r, c, v = negative
            raise ValueError(f"{what}: value {v!r} at row {r}, column {c} (negative; pass allow_negative=True if intended)")
    if not sp.issparse(X):
        if hasattr(X, "toarray") or isinstance(X, (list, tuple)) or isinstance(X, np.ndarray):
            A = np.asarray(X)
        else:
            raise TypeError(f"{what}: expected a scipy.sparse matrix or a 2-D numpy array, got {type(X).__name__}")
        if A.ndim != 2:
            raise ValueError(f"{what}: expected a 2-D array, got {A.ndim} dimensions")
        if not _real(A.dtype):
            raise ValueError(f"{what}: expected real numbers, got dtype {A.dtype}")
        X = sp.csr_matrix(A.astype(np.float64, copy=False))
        copied = True
    if X.format != "csr":
        X = X.tocsr()
        copied = True
    if X.dtype != np.float64:
        if not _real(X.dtype):
            raise ValueError(f"{what}: expected real numbers, got dtype {X.dtype}")
        X = X.astype(np.float64)
        copied = True
    if not X.has_canonical_format:
        if not copied:
            X = X.copy()
            copied = True
        X.sum_duplicates()
    if X.nnz and not X.data.all():  # stored zeros
        if not copied:
            X = X.copy()
            copied = True
        X.eliminate_zeros()
    n, p = X.shape
    if n > _INT32_MAX or p > _INT32_MAX or X.nnz > _INT32_MAX:
        raise ValueError(f"{what}: {n} x {p} with {X.nnz} values; linsim supports at most 2^31 - 1 of each")
    indptr, indices = X.indptr, X.indices
    if indptr.dtype != np.int32 or indices.dtype != np.int32:
        indptr = indptr.astype(np.int32)
        indices = indices.astype(np.int32)
        X = sp.csr_matrix((X.data, indices, indptr), shape=X.shape, copy=False)
        copied = True
    handle = _linsim.check_csr(indptr, indices, X.data, n, p, allow_negative, what)
    return CsrInput(handle, X, copied)


def _positional(df, given, position: int, role: str):
    if given is not None:
        if given not in df.columns:
            raise ValueError(f"no column {given!r} for the {role}s (columns: {list(df.columns)})")
        return given
    if position >= len(df.columns):
        return None
    return df.columns[position]


def from_dataframe(df, user=None, item=None, value=None, *, binarize: bool = False,
                   allow_negative: bool = False, item_ids: Optional[Sequence] = None) -> Interactions:
    """Interactions from a pandas DataFrame of (user, item[, value]) rows.

    Columns are chosen by name, or, with none named, by position like the CLI's triplet reader:
    users first, items second, values third when the third column is numeric (else every pair
    counts 1). Once the user or item column is named, values come from ``value=`` only (a numeric
    third column may be a timestamp); a column named for one role and taken by position for the
    other is an error. Ids of
    any hashable type get rows and columns in order of first appearance, as the CLI's readers
    number them; duplicate pairs are summed, zeros dropped, ``binarize`` sets every value to 1.
    Values must be finite, and non-negative unless ``allow_negative``; a missing id is an error.
    With ``item_ids`` (a model's), items are mapped onto those columns and an unknown item is an
    error.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if len(df.columns) < 2:
        raise ValueError("the DataFrame needs a user and an item column")
    ucol = _positional(df, user, 0, "user")
    icol = _positional(df, item, 1, "item")
    if ucol == icol:
        raise ValueError(f"the user and the item column are both {ucol!r}: name the other one too")
    vcol = value
    # Values by position only for a frame laid out by position (no column named): once a column is
    # named, a numeric third column may be anything (a timestamp, a numeric id), so values come
    # from value= alone and otherwise every pair counts 1.
    if vcol is None and user is None and item is None and len(df.columns) > 2:
        third = df.columns[2]
        if pd.api.types.is_numeric_dtype(df[third]):
            vcol = third
    elif vcol is not None and vcol not in df.columns:
        raise ValueError(f"no column {vcol!r} for the values (columns: {list(df.columns)})")
    if len(df) == 0:
        raise ValueError("the DataFrame has no rows: no interactions")
    ucodes, users = pd.factorize(df[ucol], sort=False)
    if (ucodes < 0).any():
        row = df.index[int(np.argmax(ucodes < 0))]
        raise ValueError(f"row {row!r}: missing user id in column {ucol!r}")
    if item_ids is None:
        icodes, items = pd.factorize(df[icol], sort=False)
        if (icodes < 0).any():
            row = df.index[int(np.argmax(icodes < 0))]
            raise ValueError(f"row {row!r}: missing item id in column {icol!r}")
        item_array = np.asarray(items)
    else:
        item_array = np.asarray(item_ids)
        lookup = IdLookup(item_array, "item")
        icodes = lookup.indices(df[icol].to_numpy())
    if vcol is None:
        values = np.ones(len(df), dtype=np.float64)
    else:
        if pd.api.types.is_complex_dtype(df[vcol].dtype):
            raise ValueError(f"column {vcol!r}: values must be real numbers, got dtype {df[vcol].dtype}")
        try:
            values = df[vcol].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"column {vcol!r}: values must be numbers ({e})") from None
        # Binarising makes every kept value 1: a negative one (a dislike) would become an
        # interaction, so it is refused as the file reader refuses it, row by row, before
        # duplicates are summed (a -1 beside a 3 of the same pair would hide in their sum).
        bad = ~np.isfinite(values) | ((not allow_negative or binarize) & (values < 0))
        if bad.any():
            i = int(np.argmax(bad))
            why = ("not finite" if not np.isfinite(values[i]) else
                   "negative; pass allow_negative=True if intended" if not allow_negative else
                   "negative: binarising would make it 1, an interaction; drop such rows first")
            raise ValueError(f"row {df.index[i]!r}: value {values[i]!r} in column {vcol!r} ({why})")
    sp = _sparse()
    X = sp.coo_matrix((values, (ucodes, icodes)), shape=(len(users), len(item_array))).tocsr()
    X.sum_duplicates()
    X.eliminate_zeros()
    if binarize:
        X.data[:] = 1.0
    if X.nnz == 0:
        raise ValueError("no interaction left (every value is zero)")
    # Ids a model cannot hold (dates, text with a tab or line break) are refused here, where the
    # DataFrame is named, not later in fit or save.
    library_ids(np.asarray(users), "user")
    if item_ids is None:
        library_ids(item_array, "item")
    return Interactions(X, np.asarray(users), item_array)


def as_interactions(X, *, user=None, item=None, value=None, binarize: bool = False,
                    allow_negative: bool = False) -> Interactions:
    """Interactions from a DataFrame, an :class:`Interactions`, a scipy.sparse matrix or a dense
    array (ids 0..n-1 and 0..p-1 for the last two). ``binarize`` sets every value to 1 after the
    values are checked (finite; non-negative unless ``allow_negative``), duplicates summed and
    zeros dropped, whatever the input's type."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(X, pd.DataFrame):
        return from_dataframe(X, user, item, value, binarize=binarize, allow_negative=allow_negative)
    if any(v is not None for v in (user, item, value)):
        raise ValueError("user=, item= and value= name DataFrame columns; X is not a DataFrame")
    if isinstance(X, Interactions):
        if not binarize:
            return X
        return Interactions(_binarized(X.X, allow_negative), X.user_ids, X.item_ids)
    sp = _sparse()
    if not sp.issparse(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D matrix, got {X.ndim} dimensions")
    n, p = X.shape
    if n > _INT32_MAX or p > _INT32_MAX:  # before ids are made for every row and column
        raise ValueError(f"X: {n} x {p}; linsim supports at most 2^31 - 1 users and items")
    if binarize:
        X = _binarized(X, allow_negative)
    return Interactions(X, np.arange(n), np.arange(p))


def _binarized(X, allow_negative: bool):
    """X in linsim's layout with every value 1: checked, duplicates summed and zeros dropped
    first (as_csr), so that a duplicated entry is 1, not 2, and a negative value an error."""
    M = as_csr(X, allow_negative=allow_negative).matrix  # checked (types, finite, signs)
    # Binarising makes every kept value 1, so a negative one (a dislike, allowed by allow_negative)
    # would become an interaction: refused at its place, as the file reader refuses it.
    as_given = _sparse().issparse(X) and X.format in _WITH_DUPLICATES
    negative = _first_negative_entry(X if as_given else M) if allow_negative else None
    if negative is not None:
        r, c, v = negative
        raise ValueError(f"row {r}, column {c}: negative value {v!r} would be binarised to 1, an interaction; "
                         "drop negative entries first")
    # A new values array always: M may share the caller's (as_csr's copies can keep data in place).
    return _sparse().csr_matrix((np.ones(M.nnz), M.indices, M.indptr), shape=M.shape, copy=False)


def read_interactions(path, *, format: str = "auto", separator: Optional[str] = None, header: Optional[bool] = None,
                      binarize: Optional[bool] = None, min_value: Optional[float] = None, strict: bool = False,
                      allow_negative: bool = False, min_item_users: int = 0, threads: int = 0) -> Interactions:
    """Reads an interaction file exactly as ``linsim fit --input`` does (triplets, MovieLens,
    Last.fm, Matrix Market; gzip detected; docs/formats.md). Ids are strings, as in the file.
    A large plain triplet file is parsed on up to ``threads`` threads (0: all cores; ranges of at
    least 4 MiB, at most one per core); the result does not depend on the count. What the CLI
    warns of while reading (comment lines that read as interactions) is a RuntimeWarning."""
    path = os.fspath(path)
    if os.fsdecode(path) != "-" and not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    options = dict(format=format, separator=separator, header=header, binarize=binarize, min_value=min_value,
                   strict=strict, allow_negative=allow_negative, min_item_users=min_item_users)
    arrays, users, items, warned = _linsim.read_interactions(os.fsencode(path), options,
                                                             checked_int(threads, "threads", THREADS))
    for message in warned:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return Interactions(csr_from_arrays(arrays), np.array(users, dtype=object), np.array(items, dtype=object))


# The ranges of the extension's integer parameters (C int, int64, uint64); the library checks what
# is meaningful within them, in the CLI's words (threads in [0, max_threads()], N >= 1).
THREADS = (-(2**31), 2**31 - 1)
COUNT = (-(2**63), 2**63 - 1)
SEED = (0, 2**64 - 1)


def checked_bool(value, name: str) -> bool:
    """value as a bool: True, False or a numpy bool; anything else (a string such as "no", which
    is true, or a number) is a TypeError naming the parameter, not the extension's signature."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def checked_str(value, name: str) -> str:
    """value as a str (a measure's or a side's name); anything else is a TypeError naming the
    parameter."""
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str, got {value!r}")


def checked_int(value, name: str, bounds) -> int:
    """value as an int within bounds (the C++ parameter's range): a float or a string is a
    TypeError and a value out of range a ValueError, each naming the parameter (the extension's own
    refusal lists the function's signature and names neither)."""
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    low, high = bounds
    if not low <= number <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {number}")
    return number


def id_bytes(ids, what: str) -> list:
    """Ids as the library stores them: bytes, each id's ``str()`` in UTF-8 with the surrogateescape
    handler (PEP 383). Ids that came from a file that is not UTF-8 were decoded the same way, so
    they go back to their own bytes; any other str is plain UTF-8."""
    out = []
    for key in ids:
        text = str(key)
        try:
            out.append(text.encode("utf-8", "surrogateescape"))
        except UnicodeEncodeError as e:
            raise ValueError(f"{what} id {text!r} cannot be stored: character {e.start} is a lone surrogate "
                             "(only U+DC80..U+DCFF, an escaped byte, can be)") from None
    return out


def library_ids(ids, what: str):
    """Ids for the extension: None for the row or column numbers 0..n-1 (it makes those itself,
    once the fit's memory estimate has passed), else id_bytes."""
    ids = np.asarray(ids) if not isinstance(ids, np.ndarray) else ids
    if ids.dtype.kind in "mM":
        # numpy turns datetime64 and timedelta64 ids into integers (nanoseconds) on the way to
        # str(): stored so, they could not be queried by the dates they were.
        raise TypeError(f"{what} ids of dtype {ids.dtype} are not supported: convert them to strings first "
                        "(for a DataFrame column: df[col].astype(str))")
    if ids.ndim == 1 and ids.dtype.kind in "iu":
        count = len(ids)
        if count == 0 or (ids[0] == 0 and ids[-1] == count - 1 and bool(np.all(np.diff(ids) == 1))):
            return None
    keys = id_bytes(ids.tolist(), what)
    for key in keys:
        # As the CLI's readers and the model's id files: one id per line, fields split at tabs.
        if b"\t" in key or b"\n" in key or b"\r" in key:
            raise ValueError(f"{what} id {key.decode('utf-8', 'surrogateescape')!r} contains a tab, newline or "
                             "carriage return, which a model's id files cannot hold")
    return keys


class IdLookup:
    """External id -> index. An id is looked up as given, then by its string form (a model read
    from a directory has string ids: ``50`` finds ``"50"``, and ``"50"`` finds ``50``)."""

    def __init__(self, ids: np.ndarray, what: str):
        self.ids = ids
        self.what = what
        self._index = None
        self._by_text = None

    def _table(self):
        if self._index is None:
            table = {}
            for i, key in enumerate(self.ids.tolist()):
                table.setdefault(key, i)
            self._index = table
        return self._index

    def _text_table(self):
        if self._by_text is None:
            by_text = {}
            for i, k in enumerate(self.ids.tolist()):
                by_text.setdefault(str(k), i)
            self._by_text = by_text
        return self._by_text

    def index(self, key) -> int:
        table = self._table()
        if isinstance(key, np.generic):
            key = key.item()
        try:
            return table[key]
        except (KeyError, TypeError):
            pass
        try:
            return self._text_table()[str(key)]
        except KeyError:
            raise ValueError(f"unknown {self.what} id '{key}'") from None

    def is_one(self, key) -> bool:
        """Whether a query names one id: a scalar, or a tuple that is itself an id (a DataFrame of
        tuple ids); any other sequence is a list of ids."""
        if isinstance(key, tuple):
            try:
                if key in self._table():
                    return True
            except TypeError:  # a tuple holding something unhashable is no id
                pass
            if str(key) in self._text_table():  # a loaded model's ids are the strings
                return True
        try:
            return np.ndim(key) == 0
        except ValueError:  # ids of different shapes (tuples and strings): a list
            return False

    def indices(self, keys) -> np.ndarray:
        return np.fromiter((self.index(k) for k in keys), dtype=np.int64, count=len(keys))
