"""The rest of the tool: simulation, the paper's reproduction, the audit (docs/python.md)."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _linsim
from ._inputs import (COUNT, SEED, THREADS, IdLookup, Interactions, as_csr, checked_int, csr_from_arrays,
                      from_dataframe, id_bytes)
from ._models import Model, Progress, _progress_callback, _warn_undeleted


def simulate(users: int = 20000, items: int = 1000, clusters: int = 5, *, seed: int = 42, threads: int = 0,
             **options: Any) -> Tuple[Any, dict]:
    """The paper's simulated data (docs/math.md M8), as ``linsim simulate`` draws it for the same
    seed. Returns (X, truth): X a binary users x items ``scipy.sparse.csr_matrix``; truth a dict
    of numpy arrays ``cluster`` and ``popularity`` (per item), ``cluster_probability``,
    ``cluster_beta`` (per cluster) and ``activity`` (per user). More options: beta_min, beta_max,
    user_beta, cluster_concentration, preference_concentration, activity_scale,
    max_items_per_user."""
    options.update(users=users, items=items, clusters=clusters)
    arrays, truth = _linsim.simulate(options, checked_int(threads, "threads", THREADS), checked_int(seed, "seed", SEED))
    return csr_from_arrays(arrays), truth


def reproduce(*, seeds: int = 5, rank: int = 50, lambda_eq1: float = 10000, lambda_eq2: float = 100, top: int = 10,
              users: int = 20000, items: int = 1000, clusters: int = 5, seed: int = 42, out=None,
              force: bool = False, threads: int = 0, progress: Progress = None) -> dict:
    """The paper's experiment on simulated data (``linsim reproduce``): returns results.json's
    content as a dict; with ``out``, also writes the figures, results.json and results.md into
    that directory (atomically). What the user must know about the fits (its "warnings", e.g. a
    λ that leaves one dimension) is also issued as a ``RuntimeWarning``."""
    options = dict(seeds=seeds, rank=rank, lambda_eq1=lambda_eq1, lambda_eq2=lambda_eq2, top=top, seed=seed)
    simulation = dict(users=users, items=items, clusters=clusters)
    try:
        text = _linsim.reproduce(options, simulation, None if out is None else os.fsencode(out), bool(force),
                                 checked_int(threads, "threads", THREADS),
                                 _progress_callback(progress))
    finally:
        _warn_undeleted()
    result = json.loads(text)
    for message in result["warnings"]:  # as Model.fit warns: e.g. a λ that leaves one dimension
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return result


def evaluate(X, models=("popularity", "itemknn", "eq1", "eq2", "ease"), grid: str = "", *,
             heldout_users: float = 0.1, min_interactions: int = 5, fold_in: float = 0.8, seed: int = 42,
             out=None, force: bool = False, threads: int = 0, progress: Progress = None, **columns) -> dict:
    """Top-N evaluation with strong generalisation (``linsim evaluate``, docs/math.md M7): held-out
    users are never trained on; each model's grid point with the best validation NDCG@100 is
    scored on the test users (Recall@20, Recall@50, NDCG@100, mean and standard error).

    X: interactions as :meth:`Model.fit` takes them (binarised: the protocol is defined on binary
    data; ``user=``/``item=`` name DataFrame columns). ``models``: popularity, itemknn, eq1, eq2,
    ease, sppmi, cosine. ``grid``: the CLI's ``--grid`` ("rank=50,100 eq2.lambda=10,100").
    ``heldout_users``: a fraction (< 1) or a count per held-out set. Returns results.json's
    content; with ``out``, results.json and results.md are written there too."""
    from ._inputs import as_interactions

    # **columns names the DataFrame's columns only: anything else is this function's mistake to name.
    unknown = sorted(set(columns) - {"user", "item", "value", "allow_negative"})
    if unknown:
        raise TypeError(f"evaluate() got unexpected keyword argument(s) {', '.join(map(repr, unknown))} "
                        "(DataFrame columns are named with user=, item=, value=; the protocol binarises)")
    if not isinstance(grid, str):
        raise TypeError(f"grid must be a str such as \"rank=50,100 eq2.lambda=10\" ('' for the defaults), "
                        f"got {type(grid).__name__}")
    data = as_interactions(X, binarize=True, **columns)
    csr = as_csr(data.X)
    names = [models] if isinstance(models, str) else list(models)
    try:
        text = _linsim.evaluate(csr.handle, names, grid, float(heldout_users),
                                checked_int(min_interactions, "min_interactions", COUNT), float(fold_in),
                                checked_int(seed, "seed", SEED), None if out is None else os.fsencode(out),
                                bool(force), checked_int(threads, "threads", THREADS),
                                _progress_callback(progress))
    finally:
        _warn_undeleted()
    result = json.loads(text)
    # As linsim evaluate warns: recalls the split makes 1 for every model; a chosen λ that leaves
    # one dimension.
    for message in result["protocol"]["warnings"] + [m for model in result["models"] for m in model["warnings"]]:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return result


def _vectors(x, what: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """A 2-D array of vectors and their ids when the object carries them (gensim KeyedVectors)."""
    if hasattr(x, "vectors") and hasattr(x, "index_to_key"):  # gensim KeyedVectors
        return np.asarray(x.vectors), np.asarray(x.index_to_key, dtype=object)
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D array of vectors, got {a.ndim} dimensions")
    if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{what}: expected numbers, got dtype {a.dtype}")
    return a, None


def audit(item_vectors, user_vectors=None, interactions=None, truth=None, html=None, *, out=None,
          item_ids: Optional[Sequence] = None, user_ids: Optional[Sequence] = None, truth_kind: str = "auto",
          force: bool = False, top: int = 10, queries: int = 1000, random_gauges: int = 8,
          random_spread: float = 0.5, random_pairs: int = 100000, hubness_exact_limit: int = 20000,
          hubness_queries: int = 10000, seed: int = 42, threads: int = 0, progress: Progress = None) -> dict:
    """Is cosine similarity meaningful on these vectors? (``linsim audit``, docs/audit.md.)

    ``item_vectors``: any 2-D array (float32 or float64, C or Fortran order: a sentence
    encoder's output, PyTorch weights via ``.numpy()``, scikit-learn factors), gensim
    ``KeyedVectors`` (ids from its vocabulary) or a fitted :class:`linsim.Model` (its item and
    user factors and interactions). ``user_vectors``: the other side's vectors, same dimension.
    ``interactions``: a scipy.sparse users x items matrix whose columns are the item rows (rows
    are the user rows when ``user_vectors`` is given), or a DataFrame of (user, item) rows naming
    items by ``item_ids``. ``truth``: item clusters (an array with one label per item, -1 for
    none, or a dict id -> label), word pairs with human scores (a DataFrame or a list of
    (id, id, score)), or a truth file as the CLI reads it. ``html``: write the report there;
    ``out``: a directory for audit.json and audit.html. Returns audit.json's content."""
    # As the CLI: checked whether or not a truth is given, and only meaningful with one.
    if truth_kind not in ("auto", "clusters", "pairs"):
        raise ValueError(f"unknown truth_kind {truth_kind!r} (valid: auto, clusters, pairs)")
    if truth is None and truth_kind != "auto":
        raise ValueError(f"truth_kind={truth_kind!r} needs a truth")
    description: dict = {}
    interaction_csr = None
    interaction_users: list = []
    if isinstance(item_vectors, Model):
        model = item_vectors
        if model.info.get("kind") == "ease":
            raise ValueError("an EASE model has no embeddings to audit: its similarities are its weights "
                             "(docs/audit.md audits embedding models)")
        items = model.item_factors
        ids = model.item_ids
        if user_vectors is None:
            if interactions is None:  # the model's own training interactions, as `linsim audit --items DIR`
                interactions = Interactions(csr_from_arrays(model._fitted().interactions), model.user_ids,
                                            model.item_ids)
            user_vectors = model.user_factors
            user_ids = model.user_ids if user_ids is None else user_ids
        description["items"] = repr(model)
    else:
        items, ids = _vectors(item_vectors, "item_vectors")
        description["items"] = f"{type(item_vectors).__module__}.{type(item_vectors).__name__} {items.shape[0]} x {items.shape[1]}"
    if item_ids is not None:
        ids = np.asarray(item_ids)
        if len(ids) != items.shape[0]:
            raise ValueError(f"{len(ids)} item ids for {items.shape[0]} item vectors")
    if ids is None:
        ids = np.arange(items.shape[0])
    users = None
    user_keys: list = []
    if user_vectors is not None:
        users, found = _vectors(user_vectors, "user_vectors")
        if users.shape[1] != items.shape[1]:
            raise ValueError(f"user vectors have dimension {users.shape[1]}, item vectors {items.shape[1]}")
        uids = np.asarray(user_ids) if user_ids is not None else (found if found is not None else np.arange(users.shape[0]))
        if len(uids) != users.shape[0]:
            raise ValueError(f"{len(uids)} user ids for {users.shape[0]} user vectors")
        user_keys = [str(u) for u in uids.tolist()]
        description["users"] = f"{users.shape[0]} x {users.shape[1]}"
    if interactions is not None:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover
            pd = None
        if pd is not None and isinstance(interactions, pd.DataFrame):
            data = from_dataframe(interactions, item_ids=ids)
            if users is not None:
                lookup = IdLookup(np.asarray(user_keys, dtype=object), "user")
                order = lookup.indices([str(u) for u in data.user_ids.tolist()])
                import scipy.sparse as sp

                X = (sp.csr_matrix((np.ones(len(order)), (order, np.arange(len(order)))),
                                   shape=(users.shape[0], len(order))) @ data.X).tocsr()
                interaction_users = user_keys
            else:
                X = data.X
                interaction_users = [str(u) for u in data.user_ids.tolist()]
        elif isinstance(interactions, Interactions):
            X = interactions.X
            interaction_users = [str(u) for u in interactions.user_ids.tolist()]
        else:  # a scipy matrix or a dense array, checked and in CSR
            X = as_csr(interactions, what="interactions").matrix
            interaction_users = user_keys if users is not None else [str(u) for u in range(X.shape[0])]
        if X.shape[1] != items.shape[0]:
            raise ValueError(f"interactions have {X.shape[1]} item columns for {items.shape[0]} item vectors")
        if users is not None and X.shape[0] != users.shape[0]:
            raise ValueError(f"interactions have {X.shape[0]} rows for {users.shape[0]} user vectors "
                             "(with user_vectors, row u of the interactions is user u)")
        interaction_csr = as_csr(X, what="interactions").handle
        description["interactions"] = f"{X.shape[0]} x {X.shape[1]}, {X.nnz} interactions"
    clusters = pairs = path = None
    if truth is not None:
        clusters, pairs, path = _truth(truth, ids)
        # A path's bytes that are not UTF-8 are shown as \xNN, as in the CLI's audit.json.
        description["truth"] = (os.fsencode(path).decode("utf-8", "backslashreplace") if path is not None
                                 else "clusters" if clusters is not None else "pairs")
    options = dict(top=top, queries=queries, random_gauges=random_gauges, random_spread=random_spread,
                   random_pairs=random_pairs, hubness_exact_limit=hubness_exact_limit,
                   hubness_queries=hubness_queries, seed=seed)
    try:
        text = _linsim.audit(items, id_bytes(ids.tolist(), "item"), users, id_bytes(user_keys, "user"),
                             interaction_csr, id_bytes(interaction_users, "user"), clusters, pairs,
                             None if path is None else os.fsencode(path), truth_kind, options, description,
                             None if html is None else os.fsencode(html), None if out is None else os.fsencode(out),
                             bool(force), checked_int(threads, "threads", THREADS), _progress_callback(progress))
    finally:
        _warn_undeleted()
    return json.loads(text)


def _truth(truth, ids: np.ndarray):
    """(clusters, pairs, path) from the forms ``audit`` accepts."""
    if isinstance(truth, (str, bytes, os.PathLike)):
        path = os.fspath(truth)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        return None, None, path
    lookup = IdLookup(ids, "item")
    if isinstance(truth, dict):
        clusters = np.full(len(ids), -1, dtype=np.int64)
        for key, label in truth.items():
            clusters[lookup.index(key)] = int(label)
        return clusters.tolist(), None, None
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(truth, pd.DataFrame):
        rows = list(truth.itertuples(index=False, name=None))
    else:
        array = np.asarray(truth, dtype=object)
        if array.ndim == 1:
            labels = np.asarray(truth)
            if len(labels) != len(ids):
                raise ValueError(f"{len(labels)} cluster labels for {len(ids)} items")
            if not np.issubdtype(labels.dtype, np.integer):
                raise ValueError("cluster labels must be integers (-1: none)")
            return labels.astype(np.int64).tolist(), None, None
        rows = [tuple(r) for r in truth]
    pairs = []
    for r in rows:
        if len(r) < 3:
            raise ValueError(f"a truth pair needs (id, id, score), got {r!r}")
        score = float(r[2])
        if not np.isfinite(score):
            raise ValueError(f"truth pair {r!r}: score is not finite")
        try:
            pairs.append((lookup.index(r[0]), lookup.index(r[1]), score))
        except ValueError:
            pairs.append((-1, -1, score))  # an unknown word: counted as not found, as in the CLI
    return None, pairs, None
