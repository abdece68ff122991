"""Input domains: one declaration per formula, read by a NumPy sampler here and by hypothesis.

A domain says which arrays a formula takes, how their shapes are tied together and which values
each may hold. `Domain.sample(rng)` draws a `Case` with NumPy (the audit uses it);
`backprop_ref.strategies.cases(domain)` turns the same declaration into a hypothesis strategy
(the test suite uses that). Neither interpreter knows a formula; the catalogue pairs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Case", "Reals", "Targets", "Grid", "Ids", "Masks", "Paired", "Arg", "Cotangent", "Domain", "MLPDomain",
    "AnyDomain", "push_away", "mlp_pack", "mlp_unpack",
]


@dataclass(frozen=True)
class Case:
    """One input to a formula: positional arrays, keyword constants, and which args are differentiated.

    `cotangent` is the dy of a backward pass (a "vjp" record's case): the derivative under test is
    ∂⟨dy, forward(*args)⟩ with respect to the wrt arguments."""

    args: tuple[NDArray[Any], ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    wrt: tuple[int, ...] = (0,)
    label: str = "random"
    cotangent: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Reals:
    """Finite reals in [lo, hi], kept at least `margin` away from each of `kinks`.

    The sampler mixes uniform draws with log-uniform magnitudes (from `tiny` up), so that
    tiny, ordinary and saturating values all occur.
    """

    lo: float
    hi: float
    kinks: tuple[float, ...] = ()
    margin: float = 0.0
    tiny: float = 1e-6

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
        uniform = rng.uniform(self.lo, self.hi, size=shape)
        top = max(abs(self.lo), abs(self.hi))
        low = min(max(self.tiny, self.lo), top)   # a positive lo bounds the magnitudes too
        magnitude = np.exp(rng.uniform(np.log(low), np.log(top), size=shape))
        sign = rng.choice([-1.0, 1.0], size=shape) if self.lo < 0 else 1.0
        logscale = np.clip(sign * magnitude, self.lo, self.hi)
        return push_away(np.where(rng.random(shape) < 0.5, uniform, logscale), self)


def push_away(x: NDArray[np.float64], values: Reals) -> NDArray[np.float64]:
    """Move entries closer than `values.margin` to a kink out to kink ± margin (inside [lo, hi])."""
    x = np.array(x, dtype=np.float64)
    for k in values.kinks:
        near = np.abs(x - k) < values.margin
        side = np.where(x >= k, 1.0, -1.0)
        side = np.where(k + side * values.margin > values.hi, -1.0, side)
        side = np.where(k + side * values.margin < values.lo, 1.0, side)
        x = np.where(near, k + side * values.margin, x)
    return x


@dataclass(frozen=True)
class Targets:
    """Non-negative targets along the last axis: "onehot", "soft" (rows sum to 1) or "counts"
    (unnormalised, zeros allowed). Each row is drawn as one kind from `kinds`."""

    kinds: tuple[str, ...] = ("onehot", "soft", "counts")

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
        rows = int(np.prod(shape[:-1], dtype=np.int64))
        k = shape[-1]
        out = np.zeros((rows, k))
        for r in range(rows):
            kind = self.kinds[rng.integers(len(self.kinds))]
            if kind == "onehot":
                out[r, rng.integers(k)] = 1.0
            elif kind == "soft":
                out[r] = rng.dirichlet(np.ones(k))
            else:
                out[r] = rng.integers(0, 4, size=k) * rng.uniform(0.0, 2.0)
        return out.reshape(shape)


@dataclass(frozen=True)
class Grid:
    """Reals on `levels` evenly spaced values from lo to hi (both included): equal entries are common.

    For the hard parts that need ties, which continuous draws almost never give: two equal maxima in
    a pooling window. A 0/1 mask is Grid(0, 1, 2).
    """

    lo: float
    hi: float
    levels: int

    def points(self) -> NDArray[np.float64]:
        return np.linspace(self.lo, self.hi, self.levels)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
        return self.points()[rng.integers(self.levels, size=shape)]


@dataclass(frozen=True)
class Ids:
    """Integers in [0, size of the dimension `bound`): class labels (bound = the classes' dimension) and
    embedding ids (bound = the table's rows). With a bound smaller than the number of entries drawn,
    repeated ids are the rule, not the exception. Drawn as int64 arrays."""

    bound: str

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...], upper: int) -> NDArray[np.int64]:
        return rng.integers(upper, size=shape, dtype=np.int64)


@dataclass(frozen=True)
class Masks:
    """Boolean masks over the last axis (True where allowed), each row of one kind from `kinds`: "all"
    (every position), "random" (each position with probability ½), "one" (a single position: the row is
    blocked except there) or "none" (a fully masked row)."""

    kinds: tuple[str, ...] = ("all", "random", "one", "none")

    def row(self, kind: str, width: int, rng: np.random.Generator) -> NDArray[np.bool_]:
        if kind == "all":
            return np.ones(width, dtype=bool)
        if kind == "none":
            return np.zeros(width, dtype=bool)
        if kind == "one":
            return np.arange(width) == rng.integers(width)
        return rng.random(width) < 0.5

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.bool_]:
        rows = int(np.prod(shape[:-1], dtype=np.int64))
        out = [self.row(self.kinds[rng.integers(len(self.kinds))], shape[-1], rng) for _ in range(rows)]
        return np.array(out, dtype=bool).reshape(shape)


@dataclass(frozen=True)
class Paired:
    """Distinct reals in which, along the last axis, entry j + 1 repeats entry j (j even) with
    probability `rate`: ties of exactly two equal neighbours, never more (the other entries all differ).

    For pooling: a two-way tie at a window's maximum is a kink finite differences can judge (the claim
    lies between the one-sided slopes 0 and dy); a tie of three or more equal maxima leaves the claim
    one vertex of a hull of many pieces, which they cannot (the checker answers inconclusive, after
    thousands of evaluations of f).
    """

    values: Reals
    rate: float = 0.5

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
        return self.pair(self.values.sample(rng, shape), rng.random(shape) < self.rate)

    @staticmethod
    def pair(x: NDArray[np.float64], repeat: NDArray[np.bool_]) -> NDArray[np.float64]:
        """x with x[..., j + 1] = x[..., j] for the even j where repeat[..., j + 1]."""
        out = np.array(x, dtype=np.float64)
        if out.ndim and out.shape[-1] > 1:
            odd = np.arange(1, out.shape[-1], 2)
            out[..., odd] = np.where(repeat[..., odd], out[..., odd - 1], out[..., odd])
        return out


Values = Reals | Targets | Grid | Ids | Masks | Paired


@dataclass(frozen=True)
class Arg:
    """A positional array argument: its name, its dimension names, the values it may hold.

    A dimension written "N?" is optional: per case it is either present for every arg that names
    it, or absent from all (so a loss sees both one example (K,) and a batch (N, K)). A dimension
    written with a leading integer, "4H", is that multiple of H (an LSTM's four gates side by side).
    """

    name: str
    dims: tuple[str, ...]
    values: Values


SizeRule = Callable[[Mapping[str, int], Mapping[str, Any]], int]


@dataclass(frozen=True)
class Cotangent:
    """The dy of a backward pass: its dimensions and values, drawn after the arguments and keywords.

    `derived` gives dimensions that are functions of the drawn sizes and keyword constants (a
    convolution's output rows ⌊(H + 2P − K)/S⌋ + 1), for outputs whose shape no drawn size names.

    `distinct` (the default) draws entries that differ from each other: hypothesis draws them unique
    (the NumPy sampler's continuous draws are, almost surely). Hypothesis otherwise favours arrays of
    one repeated value, and such a dy probes nothing (all zeros: ⟨dy, y⟩ ≡ 0, every entry left
    undecided at great cost) or, for a layer invariant along an axis (a normalisation's shift of x),
    makes ⟨dy, y⟩ constant in x by an exact cancellation, where finite differences see only rounding
    (the checker's false alarm pinned in tests/test_layers_norm.py)."""

    dims: tuple[str, ...]
    values: Reals
    derived: Mapping[str, SizeRule] = field(default_factory=dict)
    distinct: bool = True


def _dim(d: str, sizes: Mapping[str, int]) -> int:
    """The size of dimension `d` ("4H" is 4 × H)."""
    name = d.rstrip("?")
    digits = len(name) - len(name.lstrip("0123456789"))
    return (int(name[:digits]) if digits else 1) * sizes[name[digits:]]


@dataclass(frozen=True)
class Domain:
    """Arrays with shapes tied by named dimensions; `sizes` gives each dimension's range; `cotangent`,
    for a backward pass, the dy its case carries."""

    args: tuple[Arg, ...]
    sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    kwargs: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    wrt: tuple[int, ...] = (0,)
    cotangent: Cotangent | None = None

    def optional_dims(self) -> tuple[str, ...]:
        dims = [d for a in self.args for d in a.dims] + list(self.cotangent.dims if self.cotangent else ())
        return tuple(sorted({d[:-1] for d in dims if d.endswith("?")}))

    def shape_of(self, arg: Arg | Cotangent, sizes: Mapping[str, int],
                 present: Mapping[str, bool]) -> tuple[int, ...]:
        return tuple(_dim(d, sizes) for d in arg.dims if not (d.endswith("?") and not present[d[:-1]]))

    def cotangent_sizes(self, sizes: Mapping[str, int], kwargs: Mapping[str, Any]) -> dict[str, int]:
        """The drawn sizes with the cotangent's derived dimensions added."""
        assert self.cotangent is not None
        return {**sizes, **{name: rule(sizes, kwargs) for name, rule in self.cotangent.derived.items()}}

    def sample(self, rng: np.random.Generator) -> Case:
        sizes = {name: int(rng.integers(lo, hi + 1)) for name, (lo, hi) in self.sizes.items()}
        present = {name: bool(rng.integers(2)) for name in self.optional_dims()}
        args = tuple(a.values.sample(rng, self.shape_of(a, sizes, present), sizes[a.values.bound])
                     if isinstance(a.values, Ids) else a.values.sample(rng, self.shape_of(a, sizes, present))
                     for a in self.args)
        kwargs = {k: options[int(rng.integers(len(options)))] for k, options in self.kwargs.items()}
        dy = None
        if self.cotangent is not None:   # drawn last: the draws of domains without one are unchanged
            shape = self.shape_of(self.cotangent, self.cotangent_sizes(sizes, kwargs), present)
            dy = self.cotangent.values.sample(rng, shape)
        return Case(args, kwargs, self.wrt, cotangent=dy)


ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


# The MLP argument layout: Case.args = (W1, b1, …, WL, bL, X, Y), the parameters first (they are
# what is differentiated, case.wrt = 0 … 2L − 1) and the data after them.

def mlp_pack(layers: Sequence[tuple[Any, Any]], *data: Any) -> tuple[Any, ...]:
    """[(W1, b1), …, (WL, bL)] and X, Y laid out as an MLP case's args, (W1, b1, …, WL, bL, X, Y).

    Without `data`, the parameters alone in that order: also the order of their gradients, one per
    index of case.wrt.
    """
    return tuple(p for layer in layers for p in layer) + data


def mlp_unpack(args: Sequence[Any]) -> tuple[list[tuple[Any, Any]], Any, Any]:
    """An MLP case's args (W1, b1, …, WL, bL, X, Y) as ([(W1, b1), …, (WL, bL)], X, Y)."""
    params = args[:-2]
    return [(params[i], params[i + 1]) for i in range(0, len(params), 2)], args[-2], args[-1]


@dataclass(frozen=True)
class MLPDomain:
    """Random MLPs: depth, widths, batch, one activation per layer, the loss; weights, X and Y.

    Case.args is (W1, b1, …, WL, bL, X, Y) (see `mlp_pack`, `mlp_unpack`) with every W and b
    differentiated; kwargs carry `activations` and `loss`. The values each array may hold are
    declared here once (`weights`, `biases`, `inputs`, `mse_targets`; softmax cross-entropy targets
    are one-hot): the NumPy sampler draws uniformly within them, hypothesis anywhere within them.
    Weights are Glorot-uniform, whose variance 2/(n_in + n_out) keeps activations from saturating
    or vanishing in a typical draw, and whose bound is one hypothesis can draw within. A ReLU
    pre-activation may land within a finite-difference step of its kink; the checker's kink
    handling, not the domain, deals with that.
    """

    depth: tuple[int, int] = (1, 4)
    width: tuple[int, int] = (1, 8)
    batch: tuple[int, int] = (1, 8)
    losses: tuple[str, ...] = ("mse", "softmax_cross_entropy")
    activations: tuple[str, ...] = ACTIVATION_NAMES
    biases: Reals = Reals(-0.5, 0.5)
    inputs: Reals = Reals(-3.0, 3.0)
    mse_targets: Reals = Reals(0.0, 1.0)

    @staticmethod
    def weights(n_in: int, n_out: int) -> Reals:
        """Glorot-uniform: U(±√(6/(n_in + n_out))), variance 2/(n_in + n_out)."""
        bound = float(np.sqrt(6.0 / (n_in + n_out)))
        return Reals(-bound, bound)

    @staticmethod
    def build(acts: list[str], loss: str, layers: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
              X: NDArray[np.float64], Y: NDArray[np.float64]) -> Case:
        """Assemble a Case from drawn parts, `layers` as [(W1, b1), …] (shared by the NumPy sampler and
        hypothesis)."""
        if loss == "softmax_cross_entropy":
            acts = acts[:-1] + ["linear"]  # the loss takes logits: a linear last layer
        return Case(mlp_pack(layers, X, Y), {"activations": tuple(acts), "loss": loss},
                    tuple(range(2 * len(layers))))

    def sample(self, rng: np.random.Generator) -> Case:
        def uniform(values: Reals, shape: tuple[int, ...]) -> NDArray[np.float64]:
            return rng.uniform(values.lo, values.hi, shape)

        depth = int(rng.integers(self.depth[0], self.depth[1] + 1))
        widths = [int(rng.integers(self.width[0], self.width[1] + 1)) for _ in range(depth + 1)]
        batch = int(rng.integers(self.batch[0], self.batch[1] + 1))
        acts = [self.activations[int(rng.integers(len(self.activations)))] for _ in range(depth)]
        loss = self.losses[int(rng.integers(len(self.losses)))]
        layers = [(uniform(self.weights(n_in, n_out), (n_in, n_out)), uniform(self.biases, (n_out,)))
                  for n_in, n_out in zip(widths[:-1], widths[1:])]
        X = uniform(self.inputs, (batch, widths[0]))
        if loss == "mse":
            Y = uniform(self.mse_targets, (batch, widths[-1]))
        else:
            Y = Targets(("onehot",)).sample(rng, (batch, widths[-1]))
        return self.build(acts, loss, layers, X, Y)


AnyDomain = Domain | MLPDomain
