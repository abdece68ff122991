"""Input domains: one declaration per formula, read by a NumPy sampler here and by hypothesis.

A domain says which arrays a formula takes, how their shapes are tied together and which values
each may hold. `Domain.sample(rng)` draws a `Case` with NumPy (the audit uses it);
`backprop_ref.strategies.cases(domain)` turns the same declaration into a hypothesis strategy
(the test suite uses that). Neither interpreter knows a formula; the catalogue pairs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Case", "Reals", "Targets", "Arg", "Domain", "MLPDomain", "AnyDomain", "push_away",
    "mlp_pack", "mlp_unpack",
]


@dataclass(frozen=True)
class Case:
    """One input to a formula: positional arrays, keyword constants, and which args are differentiated."""

    args: tuple[NDArray[np.float64], ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    wrt: tuple[int, ...] = (0,)
    label: str = "random"


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


Values = Reals | Targets


@dataclass(frozen=True)
class Arg:
    """A positional array argument: its name, its dimension names, the values it may hold.

    A dimension written "N?" is optional: per case it is either present for every arg that names
    it, or absent from all (so a loss sees both one example (K,) and a batch (N, K)).
    """

    name: str
    dims: tuple[str, ...]
    values: Values


@dataclass(frozen=True)
class Domain:
    """Arrays with shapes tied by named dimensions; `sizes` gives each dimension's range."""

    args: tuple[Arg, ...]
    sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    kwargs: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    wrt: tuple[int, ...] = (0,)

    def optional_dims(self) -> tuple[str, ...]:
        names = {d for a in self.args for d in a.dims if d.endswith("?")}
        return tuple(sorted(d[:-1] for d in names))

    def shape_of(self, arg: Arg, sizes: Mapping[str, int], present: Mapping[str, bool]) -> tuple[int, ...]:
        shape = []
        for d in arg.dims:
            name = d.rstrip("?")
            if d.endswith("?") and not present[name]:
                continue
            shape.append(sizes[name])
        return tuple(shape)

    def sample(self, rng: np.random.Generator) -> Case:
        sizes = {name: int(rng.integers(lo, hi + 1)) for name, (lo, hi) in self.sizes.items()}
        present = {name: bool(rng.integers(2)) for name in self.optional_dims()}
        args = tuple(a.values.sample(rng, self.shape_of(a, sizes, present)) for a in self.args)
        kwargs = {k: options[int(rng.integers(len(options)))] for k, options in self.kwargs.items()}
        return Case(args, kwargs, self.wrt)


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
