"""The models: one contract for all (docs/python.md, "Models").

``fit`` reads the interactions in place where their layout allows (see ``_inputs.as_csr``) and
keeps a copy of them in the model (raw similarities, EASE's projected measure, the training
users' rows and ``save`` need them). Every attribute is a read-only numpy view of the model's own
memory; ``export`` returns a new array the caller owns.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np

from . import _linsim
from ._inputs import (COUNT, SEED, THREADS, IdLookup, as_csr, as_interactions, checked_bool, checked_int,
                      checked_str, library_ids)

Progress = Union[None, bool, Callable[[str], None]]

MEASURES = ("projected", "cosine", "dot", "raw")


def _warn_undeleted(stacklevel: int = 3) -> None:
    """What a forced replacement moved aside and could not delete (a file inside it this process
    may not remove): the new output is in place, the old copy stays beside it. The CLI warns too."""
    import warnings
    for message in _linsim.take_undeleted_replacements():
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)


def _progress_callback(progress: Progress):
    """None: the CLI's progress lines on stderr when it is a terminal; False: none; a callable:
    called with each message."""
    if progress is False:
        return None
    if progress is None or progress is True:
        stream = sys.stderr
        if progress is None and not (hasattr(stream, "isatty") and stream.isatty()):
            return None
        return lambda message: print(f"linsim: {message}", file=stream, flush=True)
    if not callable(progress):
        raise TypeError("progress must be None, True, False or a callable taking a str")
    return progress


def _ids_of(array: np.ndarray, index: np.ndarray):
    """External ids for an index array; padding (-1, fewer neighbours than N) becomes None."""
    if (index >= 0).all():
        return array[index]
    out = np.empty(index.shape, dtype=object)
    valid = index >= 0
    out[valid] = array[index[valid]]
    out[~valid] = None
    return out


class Model:
    """Common contract of every linsim model (see the subclasses for their parameters).

    After :meth:`fit` (or :func:`linsim.load`): ``item_factors`` (B, items x k), ``user_factors``
    (P = X A, users x k), ``encoder`` (A), ``singular_values``, ``weights`` (EASE's W), ``item_ids``
    and ``user_ids``; :meth:`similar_items`, :meth:`similar_users`, :meth:`recommend`,
    :meth:`export`, :meth:`save`.
    """

    kind: str = ""

    def __init__(self, *, threads: int = 0, seed: int = 42, progress: Progress = None, **options: Any):
        self.threads = threads
        self.seed = seed
        self.progress = progress
        self._options = options
        self._m = None  # the fitted _linsim.Model
        self._user_ids = None
        self._item_ids = None
        self._users = None
        self._items = None

    # threads and seed may be set again between calls (implicit's models allow it); checked each time.
    @property
    def threads(self) -> int:
        return self._threads

    @threads.setter
    def threads(self, value) -> None:
        self._threads = checked_int(value, "threads", THREADS)

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value) -> None:
        self._seed = checked_int(value, "seed", SEED)

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, X, weighting: str = "none", *, user=None, item=None, value=None, binarize: bool = False,
            allow_negative: bool = False, show_progress: Progress = None) -> "Model":
        """Fits the model to interactions X: a scipy.sparse matrix (any format; rows are users,
        columns items), a dense array, a pandas DataFrame of (user, item[, value]) rows (columns
        by name or position; ids of any type) or :class:`linsim.Interactions`. ``weighting`` is
        the CLI's ``--weighting`` (``"ips:0.5,user-norm:0.5"``, ``"bm25"``, ...). Returns self.
        The GIL is released while fitting; Ctrl-C interrupts it (KeyboardInterrupt) and leaves the
        model as it was."""
        data = as_interactions(X, user=user, item=item, value=value, binarize=binarize,
                               allow_negative=allow_negative)
        csr = as_csr(data.X, allow_negative=allow_negative)
        options = dict(self._options)
        options["weighting"] = weighting
        progress = _progress_callback(self.progress if show_progress is None else show_progress)
        user_keys = library_ids(data.user_ids, "user")
        item_keys = library_ids(data.item_ids, "item")
        fitted = _linsim.fit(self.kind, options, csr.handle, user_keys, item_keys, self.threads, self.seed, progress)
        self._set(fitted, np.asarray(data.user_ids), np.asarray(data.item_ids))
        for message in fitted.info["warnings"]:
            import warnings

            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return self

    def _set(self, fitted, user_ids: np.ndarray, item_ids: np.ndarray) -> None:
        self._m = fitted
        # The model's own read-only copies: the caller's arrays (an Interactions' ids) may change
        # after the fit, and the ids answered with must stay those the model was fitted and is
        # saved with (docs/python.md, "Attributes after fit").
        user_ids, item_ids = np.array(user_ids, copy=True), np.array(item_ids, copy=True)
        user_ids.flags.writeable = False
        item_ids.flags.writeable = False
        self._user_ids = user_ids
        self._item_ids = item_ids
        self._users = IdLookup(user_ids, "user")
        self._items = IdLookup(item_ids, "item")

    def _fitted(self):
        if self._m is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit() or linsim.load()")
        return self._m

    # --- attributes ----------------------------------------------------------------------------

    @property
    def item_factors(self) -> np.ndarray:
        """B (items x k), read-only view; the cosine-trained model's rows are unit vectors."""
        return self._embeddings("item_embeddings")

    @property
    def user_factors(self) -> np.ndarray:
        """P = X A (training users x k), read-only view."""
        return self._embeddings("user_embeddings")

    @property
    def encoder(self) -> np.ndarray:
        """A (items x k): a user's embedding is the sum of the rows of A of its items (after the
        weighting); read-only view."""
        return self._embeddings("encoder")

    def _embeddings(self, name: str) -> np.ndarray:
        m = self._fitted()
        if m.info["kind"] == "ease":
            raise AttributeError(f"an EASE model has no {name.replace('_', ' ')}: see weights")
        return getattr(m, name)

    @property
    def singular_values(self) -> np.ndarray:
        """Top-k singular values of the (weighted) X; SPPMI: its eigenvalues."""
        return self._fitted().singular_values

    @property
    def weights(self) -> Optional[np.ndarray]:
        """EASE's item-item weights W (items x items; float32 when dtype="float32"); None for the
        low-rank models. Read-only view."""
        return self._fitted().weights

    @property
    def item_ids(self) -> np.ndarray:
        self._fitted()
        return self._item_ids

    @property
    def user_ids(self) -> np.ndarray:
        self._fitted()
        return self._user_ids

    @property
    def warnings(self):
        """What the fit found that a user must know (dimensions λ shrank to zero, ...)."""
        return list(self._fitted().info["warnings"])

    @property
    def info(self) -> dict:
        """The fitted options and the solver's report (as model.json records them)."""
        return dict(self._fitted().info)

    # --- similarities --------------------------------------------------------------------------

    def similar_items(self, itemid, N: int = 10, measure: str = "projected", *, include_self: bool = False,
                      float32: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """The N most similar items to ``itemid`` (one id → arrays of shape (N,)) or to each of a
        list of ids (→ (len, N)), as (ids, scores), best first, the query itself excluded unless
        ``include_self``. ``measure``: "projected" (gauge-free: cosine between columns of
        X A Bᵀ, docs/math.md M4), "cosine", "dot" or "raw" (cosine of X's columns)."""
        return self._similar(True, itemid, N, measure, include_self, float32)

    def similar_users(self, userid, N: int = 10, measure: str = "projected", *, include_self: bool = False,
                      float32: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """As :meth:`similar_items`, between the training users."""
        return self._similar(False, userid, N, measure, include_self, float32)

    def similar_items_all(self, N: int = 10, measure: str = "projected", *, include_self: bool = False,
                          float32: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """Every item's N neighbours at once (items x N arrays of ids and scores), by the symmetric
        all-items kernel where the measure has factors."""
        m = self._fitted()
        index, scores = m.neighbors(True, checked_str(measure, "measure"), np.arange(m.n_items, dtype=np.int64),
                                    checked_int(N, "N", COUNT), checked_bool(include_self, "include_self"),
                                    checked_bool(float32, "float32"), self.threads)
        return _ids_of(self._item_ids, index), scores

    def _similar(self, items: bool, ids, N, measure, include_self, float32):
        m = self._fitted()
        lookup = self._items if items else self._users
        single = lookup.is_one(ids)
        keys = [ids] if single else list(ids)
        rows = lookup.indices(keys)
        index, scores = m.neighbors(items, checked_str(measure, "measure"), rows, checked_int(N, "N", COUNT),
                                    checked_bool(include_self, "include_self"), checked_bool(float32, "float32"),
                                    self.threads)
        out = _ids_of(self._item_ids if items else self._user_ids, index)
        return (out[0], scores[0]) if single else (out, scores)

    def recommend(self, userid, user_items=None, N: int = 10, filter_already_liked_items: bool = True
                  ) -> Tuple[np.ndarray, np.ndarray]:
        """Top-N items for users, scored by the model (P Bᵀ, or X W for EASE).

        Without ``user_items``, ``userid`` names training users (one id or a list). With it,
        ``user_items`` holds one row per user in ``userid`` over the model's items (a scipy.sparse
        matrix or a dense array; ``userid`` then only labels the rows): those users are folded in
        through the model without refitting. Their own items are excluded unless
        ``filter_already_liked_items=False``. Returns (item ids, scores), shape (N,) for one
        user and (len, N) for a list."""
        m = self._fitted()
        # With user_items the ids only label its rows; without, they name training users.
        single = self._users.is_one(userid) if user_items is None else np.ndim(userid) == 0
        count = 1 if single else len(userid)
        N = checked_int(N, "N", COUNT)
        filter_already_liked_items = checked_bool(filter_already_liked_items, "filter_already_liked_items")
        if user_items is None:
            rows = self._users.indices([userid] if single else list(userid))
            index, scores = m.recommend(rows, None, N, filter_already_liked_items, self.threads)
        else:
            csr = as_csr(user_items, what="user_items")
            if csr.matrix.shape[0] != count:
                raise ValueError(f"user_items has {csr.matrix.shape[0]} rows for {count} user ids")
            rows = np.arange(count, dtype=np.int64)
            index, scores = m.recommend(rows, csr.handle, N, filter_already_liked_items, self.threads)
            empty = np.flatnonzero(np.diff(csr.matrix.indptr) == 0)
            if empty.size:
                import warnings

                labels = [userid] if single else list(userid)
                named = ", ".join(repr(labels[int(r)]) for r in empty[:3]) + (", ..." if empty.size > 3 else "")
                # A weighting that centres the columns (standardize) turns an empty row into minus the
                # centre, whose scores are not 0: the same list for every empty row, not a personal one.
                if np.all(scores[empty] == 0):
                    what = "so every score is 0 and the list is the first items by position"
                else:
                    what = ("so the scores are those of an empty row after the weighting's centring, the same "
                            "for every such row")
                warnings.warn(f"{empty.size} row(s) of user_items have no interactions ({named}): nothing to fold "
                              f"in, {what}, not a recommendation", RuntimeWarning, stacklevel=2)
        out = _ids_of(self._item_ids, index)
        return (out[0], scores[0]) if single else (out, scores)

    def recommend_all(self, N: int = 10, filter_already_liked_items: bool = True) -> Tuple[np.ndarray, np.ndarray]:
        """Top-N items for every training user (users x N)."""
        m = self._fitted()
        index, scores = m.recommend(np.arange(m.n_users, dtype=np.int64), None, checked_int(N, "N", COUNT),
                                    checked_bool(filter_already_liked_items, "filter_already_liked_items"),
                                    self.threads)
        return _ids_of(self._item_ids, index), scores

    def user_vectors(self, user_items) -> np.ndarray:
        """Embeddings of new users (rows of ``user_items`` over the model's items), folded in
        through the encoder after the model's weighting: x A (cosine model: s N(x A))."""
        return self._fitted().score_rows(as_csr(user_items, what="user_items").handle, True, self.threads)

    def score(self, user_items) -> np.ndarray:
        """Scores of every item for the rows of ``user_items`` (users x items)."""
        return self._fitted().score_rows(as_csr(user_items, what="user_items").handle, False, self.threads)

    def export(self, measure: str = "projected", side: str = "items") -> np.ndarray:
        """Vectors whose plain inner products are ``measure``'s similarity (docs/math.md M4):
        "projected" gives the canonical, gauge-free vectors (unit rows of C = B L, L Lᵀ = PᵀP),
        "cosine" the unit rows of B, "dot" B itself. A new C-ordered float64 array, ready for an
        inner-product index (faiss IndexFlatIP) or ``KeyedVectors``."""
        if checked_str(side, "side") not in ("items", "users"):
            raise ValueError(f"side must be 'items' or 'users', got {side!r}")
        return self._fitted().export(side == "items", checked_str(measure, "measure"))

    # --- files ---------------------------------------------------------------------------------

    def save(self, path, force: bool = False) -> None:
        """Writes the CLI's model directory (docs/formats.md), atomically: ``linsim
        similar-items --model PATH`` reads it, and so does :func:`linsim.load`. Ids are written as
        ``str(id)``. An existing directory is replaced only with ``force=True`` (and only if it
        is a model directory)."""
        try:
            self._fitted().save(os.fsencode(path), checked_bool(force, "force"))
        finally:
            _warn_undeleted()

    # --- display -------------------------------------------------------------------------------

    def _parameters(self) -> str:
        shown = {k: v for k, v in self._options.items() if v is not None}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items())

    def __repr__(self) -> str:
        text = f"{type(self).__name__}({self._parameters()})"
        if self._m is not None:
            text += f" fitted on {self._m.n_users} users x {self._m.n_items} items"
        return text


class EQ1(Model):
    """The paper's eq. (1): λ on the product, ‖X − X A Bᵀ‖² + λ‖A Bᵀ‖² (docs/math.md M1). Its
    embeddings are defined only up to a diagonal rescaling: ``gauge`` picks one ("balanced",
    "symmetric", "item-orthonormal", "input-orthonormal", "power:t"); cosines differ per gauge,
    predictions and the projected measure do not. ``lam`` defaults to 10000 (compared with σ²)."""

    kind = "eq1"

    def __init__(self, rank: int = 50, lam: Optional[float] = None, gauge: str = "balanced", *,
                 solver: str = "auto", solver_tol: Optional[float] = None, **kw):
        super().__init__(rank=rank, lam=lam, gauge=gauge, solver=solver, solver_tol=solver_tol, **kw)


class EQ2(Model):
    """The paper's eq. (2): λ on each factor, ‖X − X A Bᵀ‖² + λ(‖A‖² + ‖B‖²) (docs/math.md M2);
    unique embeddings. ``lam`` defaults to 100 (compared with σ)."""

    kind = "eq2"

    def __init__(self, rank: int = 50, lam: Optional[float] = None, *, solver: str = "auto",
                 solver_tol: Optional[float] = None, **kw):
        super().__init__(rank=rank, lam=lam, solver=solver, solver_tol=solver_tol, **kw)


class EASE(Model):
    """Full-rank EASE, W = I − P dMat(1/diag P), P = (XᵀX + λI)⁻¹ (docs/math.md M3). ``dtype``
    "float32" halves memory and time. ``lam`` defaults to 500."""

    kind = "ease"

    def __init__(self, lam: Optional[float] = None, dtype: str = "float64", **kw):
        super().__init__(lam=lam, dtype=dtype, **kw)


class SPPMI(Model):
    """Embeddings from the shifted positive PMI of item co-occurrences (docs/math.md M6):
    ``negatives`` k (shift log k), context ``smoothing`` α, ``eigen_power`` t."""

    kind = "sppmi"

    def __init__(self, rank: int = 50, negatives: float = 1.0, smoothing: float = 0.75, eigen_power: float = 0.5,
                 **kw):
        super().__init__(rank=rank, negatives=negatives, smoothing=smoothing, eigen_power=eigen_power, **kw)


class CosineTrained(Model):
    """Trained with cosine in the objective (the paper's remedy, docs/math.md M5): L-BFGS from the
    eq. (2) solution with the same rank and ``lam``; ``epochs`` iterations at most, stop below
    relative decrease ``tol``."""

    kind = "cosine"

    def __init__(self, rank: int = 50, lam: Optional[float] = None, epochs: int = 200, tol: float = 1e-6, **kw):
        super().__init__(rank=rank, lam=lam, epochs=epochs, tol=tol, **kw)


_KINDS = {cls.kind: cls for cls in (EQ1, EQ2, EASE, SPPMI, CosineTrained)}


def load(path, *, threads: int = 0, progress: Progress = None) -> Model:
    """Reads a model directory written by ``linsim fit`` or :meth:`Model.save` and returns the
    model of its kind (ids are the directory's strings; lookups also accept ``50`` for "50")."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    fitted = _linsim.load(os.fsencode(path))
    info = fitted.info
    cls = _KINDS[info["kind"]]
    model = cls.__new__(cls)
    options = {k: info[k] for k in ("rank", "lam", "gauge", "dtype", "negatives", "smoothing", "eigen_power",
                                    "epochs", "tol") if info.get(k) is not None}
    if cls is not EASE:
        options.pop("dtype", None)
    Model.__init__(model, threads=threads, progress=progress, **options)
    model._set(fitted, np.array(fitted.user_ids, dtype=object), np.array(fitted.item_ids, dtype=object))
    return model
