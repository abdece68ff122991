"""Hypothesis strategies: the catalogue's domains read as hypothesis search strategies.

Public for users who test their own derivations with hypothesis (it is a test dependency, not a
runtime one: importing this module needs hypothesis installed). The building blocks:

- `reals(values, shape)`: finite float64 arrays within a `Reals` declaration, pushed off its kinks
  by its margin (hypothesis shrinks floats toward 0.0, exactly ReLU's kink);
- `logits(...)`, `onehot(...)`, `soft_targets(...)`, `targets(values, shape)`;
- `grid(values, shape)`, `paired(values, shape)`, `ids(upper, shape)`, `masks(values, shape)`: ties
  (any, or exactly two-way), integer labels and ids, and boolean attention masks (the layers' hard parts);
- `cases(domain)`: whole `Case`s for a `Domain` or `MLPDomain`, shapes tied as declared;
- `mlp_architectures()`: (widths, activations, loss) triples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from backprop_ref.domains import Case, Domain, Grid, Ids, Masks, MLPDomain, Paired, Reals, Targets, push_away

__all__ = [
    "reals", "logits", "onehot", "soft_targets", "targets", "grid", "ids", "masks", "paired", "cases",
    "mlp_architectures",
]


def reals(values: Reals, shape: tuple[int, ...],
          unique: bool = False) -> st.SearchStrategy[NDArray[np.float64]]:
    """Finite float64 arrays of `shape` in [values.lo, values.hi], kept off values.kinks; `unique`: no two
    entries equal."""
    elements = st.floats(values.lo, values.hi, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique).map(lambda a: push_away(a, values))


def logits(shape: tuple[int, ...], spread: float = 1e4) -> st.SearchStrategy[NDArray[np.float64]]:
    """Logits in [−spread, spread] (the default spread 1e4 is the issue's extreme)."""
    return reals(Reals(-spread, spread), shape)


def onehot(shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.float64]]:
    """One-hot rows along the last axis."""
    return targets(Targets(("onehot",)), shape)


def soft_targets(shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.float64]]:
    """Non-negative rows that sum to 1 along the last axis."""
    return targets(Targets(("soft",)), shape)


def _row(kind: str, k: int) -> st.SearchStrategy[NDArray[np.float64]]:
    if kind == "onehot":
        return st.integers(0, k - 1).map(lambda i: np.eye(k)[i])
    weights = hnp.arrays(np.float64, (k,), elements=st.floats(0.0, 10.0))
    if kind == "soft":
        return weights.filter(lambda w: w.sum() > 0).map(lambda w: w / w.sum())
    return weights


def targets(values: Targets, shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.float64]]:
    """Rows of the kinds `values.kinds` (one-hot, soft, unnormalised counts), `shape` overall."""
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    row = st.sampled_from(values.kinds).flatmap(lambda kind: _row(kind, shape[-1]))
    return st.lists(row, min_size=rows, max_size=rows).map(
        lambda rs: np.array(rs, dtype=np.float64).reshape(shape))


def grid(values: Grid, shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.float64]]:
    """Arrays of `shape` on the grid's points (equal entries common: ties)."""
    points = values.points()
    return hnp.arrays(np.int64, shape, elements=st.integers(0, values.levels - 1)).map(lambda i: points[i])


def ids(upper: int, shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.int64]]:
    """int64 arrays of `shape` with entries in [0, upper): labels or embedding ids (repeats allowed)."""
    return hnp.arrays(np.int64, shape, elements=st.integers(0, upper - 1))


def masks(values: Masks, shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.bool_]]:
    """Boolean masks of `shape`, each row along the last axis of one of `values.kinds`."""
    width = shape[-1]
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    kind_rows = {
        "all": st.just(np.ones(width, dtype=bool)),
        "none": st.just(np.zeros(width, dtype=bool)),
        "one": st.integers(0, width - 1).map(lambda j: np.arange(width) == j),
        "random": hnp.arrays(np.bool_, (width,)),
    }
    row = st.sampled_from(values.kinds).flatmap(lambda kind: kind_rows[kind])
    return st.lists(row, min_size=rows, max_size=rows).map(
        lambda rs: np.array(rs, dtype=bool).reshape(shape))


def paired(values: Paired, shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.float64]]:
    """Distinct reals with two-way ties of neighbours along the last axis (see `domains.Paired`)."""
    return st.tuples(reals(values.values, shape, unique=True), hnp.arrays(np.bool_, shape)).map(
        lambda pair: Paired.pair(*pair))


def _values(values: Any, shape: tuple[int, ...], sizes: dict[str, int]) -> st.SearchStrategy[NDArray[Any]]:
    if isinstance(values, Reals):
        return reals(values, shape)
    if isinstance(values, Paired):
        return paired(values, shape)
    if isinstance(values, Grid):
        return grid(values, shape)
    if isinstance(values, Ids):
        return ids(sizes[values.bound], shape)
    if isinstance(values, Masks):
        return masks(values, shape)
    return targets(values, shape)


@st.composite
def _domain_case(draw: Any, domain: Domain) -> Case:
    sizes = {name: draw(st.integers(lo, hi)) for name, (lo, hi) in domain.sizes.items()}
    present = {name: draw(st.booleans()) for name in domain.optional_dims()}
    args = tuple(draw(_values(a.values, domain.shape_of(a, sizes, present), sizes)) for a in domain.args)
    kwargs = {k: draw(st.sampled_from(options)) for k, options in domain.kwargs.items()}
    dy = None
    if domain.cotangent is not None:
        full = domain.cotangent_sizes(sizes, kwargs)
        shape = domain.shape_of(domain.cotangent, full, present)
        dy = draw(reals(domain.cotangent.values, shape, unique=domain.cotangent.distinct))
    return Case(args, kwargs, domain.wrt, "hypothesis", cotangent=dy)


def mlp_architectures(domain: MLPDomain = MLPDomain()) -> st.SearchStrategy[tuple[list[int], list[str], str]]:
    """(widths, activations, loss): depth, widths and names drawn from `domain`'s ranges."""
    depth = st.integers(*domain.depth)
    return depth.flatmap(lambda n: st.tuples(
        st.lists(st.integers(*domain.width), min_size=n + 1, max_size=n + 1),
        st.lists(st.sampled_from(domain.activations), min_size=n, max_size=n),
        st.sampled_from(domain.losses),
    ))


@st.composite
def _mlp_case(draw: Any, domain: MLPDomain) -> Case:
    widths, acts, loss = draw(mlp_architectures(domain))
    batch = draw(st.integers(*domain.batch))
    layers = [(draw(reals(domain.weights(n_in, n_out), (n_in, n_out))), draw(reals(domain.biases, (n_out,))))
              for n_in, n_out in zip(widths[:-1], widths[1:])]
    X = draw(reals(domain.inputs, (batch, widths[0])))
    if loss == "mse":
        Y = draw(reals(domain.mse_targets, (batch, widths[-1])))
    else:
        Y = draw(onehot((batch, widths[-1])))
    return MLPDomain.build(list(acts), loss, layers, X, Y)


def cases(domain: Domain | MLPDomain) -> st.SearchStrategy[Case]:
    """Whole cases for a catalogue domain, shapes tied by its named dimensions."""
    if isinstance(domain, MLPDomain):
        return _mlp_case(domain)
    return _domain_case(domain)

