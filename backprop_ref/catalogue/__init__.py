"""The catalogue: every derived formula declared once, the single source of truth.

A `Formula` record names the NumPy forward, the analytic derivative under test, the forward
written in TensorFlow ops (the twin: TensorFlow derives its own gradient with the tape; no TF
gradient is ever hand-coded), the input domain, the special values, and whether complex-step
differentiation applies at the special values too. The test suite and the audit iterate over
`CATALOGUE`; a formula added to it is checked everywhere with no new test code.

Your own records are built the same way, with keywords, and audited by `backprop-ref audit
--catalogue MODULE:NAME`, `backprop_ref.audit.run_audit(records)` or, in pytest,
`backprop_ref.testing.catalogue_tests(records)`:

    Formula(name="student_b", section="HW2 Q3", equation="∂L/∂z = σ(z)", kind="gradient",
            forward=loss, derivative=loss_grad,
            domain=Domain(args=(Arg("z", ("n",), Reals(-5.0, 5.0)),), sizes={"n": (2, 4)}))

The fields (required: name, kind, forward, derivative, domain):
- `name`: a non-empty str, unique within a catalogue; what reports, `--only` and the replay line use.
- `section`: where the formula is derived ("Backward Propagation Algorithm §7.3.1", "HW2 Q3"); "".
- `equation`: the formula as the reports print it ("σ′(x) = σ(x)(1 − σ(x))"); "".
- `kind`: one of `KINDS`, what `derivative` returns (below).
- `forward(*args, **kwargs)`: the function whose derivative is claimed, in NumPy. The complex-step
  oracle needs a forward that carries complex input through; one that rejects it or drops the imaginary
  part (float(), math.exp, np.real) has that column skipped with the checker's reason
  (`ComplexStepRefused`), and the central column judges it.
- `derivative(*args, **kwargs)`: the claim under test; for "vjp", `derivative(*args, dy, **kwargs)`.
- `twin(tf, *args, **kwargs)`: the forward in TensorFlow ops, or None (the default): no tape column.
- `domain`: a `backprop_ref.domains.Domain` (named arrays `Arg(name, dims, values)`, the dimensions'
  `sizes`, keyword constants `kwargs`, the differentiated arguments `wrt` — (0,), the first one, by
  default: name every argument checked — and, for "vjp", the `Cotangent` dy) or an `MLPDomain`.
  A derivative returns one array per wrt argument: a layer's backward that returns dx, dW, db under
  the default wrt is an error naming the wrt to give, and every report names the arguments each
  record checked (`Formula.differentiated`: "∂/∂(x, W, b)").
- `specials`: `Case`s checked besides the random draws (saturation, kinks, a worked example); ().
- `kinks`, `smooth`, `tape_scale`: see `Formula`.
A record is checked as it is built: a wrong field is a TypeError or ValueError naming the record and the
field.

Kinds of derivative:
- "elementwise": derivative(x) = f′(x), x's shape; its Jacobian is diagonal.
- "jacobian": derivative(z) has shape z.shape + (K,), one K×K block per row (softmax).
- "gradient": forward returns a scalar; derivative returns ∂f/∂args[i] for each i in case.wrt
  (a tuple aligned with wrt, or one array when wrt names one argument).
- "vjp": a layer's backward pass. forward(*args) returns an array y; derivative(*args, dy) returns
  ∂⟨dy, y⟩/∂args[i] for each i in case.wrt (aligned as for "gradient"), dy being the case's
  cotangent, drawn in the domain (`Domain.cotangent`). Checked by `check_vjp` with that cotangent,
  every wrt argument at once and each named; the tape computes tape.gradient(y, args,
  output_gradients=dy) on the twin. A dense layer: forward(x, W, b) = x @ W + b, derivative(x, W, b,
  dy) = (dy @ W.T, x.T @ dy, dy.sum(axis=0)), wrt=(0, 1, 2).

backprop_ref's records live in one module per part, each a tuple `RECORDS` built from the machinery
here:
- `chapter`: the source documents' formulas (Backward Propagation Algorithm §7.1–§7.8; Further into
  Backpropagation; Backpropagation step by step);
- `beyond`: the activations and losses that came after the chapter (GELU, softplus, ELU, ...);
- `layers`: the layers (batch norm, convolution, pooling, recurrent cells, attention).
`CATALOGUE` is their concatenation, in that order.

Twins are written as `lambda tf, *args, **kwargs: …` so that this package never imports
TensorFlow: `backprop_ref.tf_twins` passes the module in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref import network
from backprop_ref._validate import choose, function
from backprop_ref.domains import AnyDomain, Case, Domain, MLPDomain, Reals, mlp_pack, mlp_unpack

__all__ = [
    "Formula", "KINDS", "CheckTask", "ComplexStepRefused", "CATALOGUE", "BY_NAME", "get", "check_tasks",
    "derivatives", "arg_names", "at_kink",
]

Array = NDArray[Any]


KINDS = ("gradient", "elementwise", "jacobian", "vjp")


@dataclass(frozen=True, kw_only=True)
class Formula:
    """One derived formula: what it computes, where it is derived, and how to check it.

    Built with keywords only; `name`, `kind`, `forward`, `derivative` and `domain` are required, the rest
    have defaults (see the module docstring for each field). Checked as it is built: a field of the
    wrong type or value is a TypeError or ValueError naming the record and the field. `specials` may be
    given as a list; it is kept as a tuple, as `kinks` is.

    `kinks` are the points where an elementwise formula is not differentiable (the domain keeps
    random draws away from them; the specials sit on them). `smooth` is False for formulas with
    kinks: complex step still applies to the random draws (each lies on one linear piece) but not
    at the specials, where only the kink-aware central difference can judge. `tape_scale` is a
    tolerance override with its reason: a floor on the scale the tape comparison's absolute bound is
    relative to, for twins whose ops round at a larger scale than their result.
    """

    name: str
    section: str = ""
    equation: str = ""
    kind: str
    forward: Callable[..., Any]
    derivative: Callable[..., Any]
    twin: Callable[..., Any] | None = None
    domain: AnyDomain
    specials: tuple[Case, ...] = ()
    kinks: tuple[float, ...] = ()
    smooth: bool = True
    tape_scale: tuple[float, str] = (0.0, "")

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"Formula: name must be a str, got {type(self.name).__name__} {self.name!r}")
        if not self.name:
            raise ValueError("Formula: name must be a non-empty str, got ''")
        try:
            _check_fields(self)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"Formula {self.name!r}: {exc}") from None

    @property
    def derivative_name(self) -> str:
        return getattr(self.derivative, "__name__", self.name + " derivative")

    @property
    def differentiated(self) -> tuple[str, ...]:
        """The names of the arguments whose derivatives the record claims, in argument order: those of
        the domain's wrt and of its specials'; an MLP's every weight and bias, whatever the depth drawn."""
        if isinstance(self.domain, MLPDomain):
            return ("W1", "b1", "…", "WL", "bL")
        names = [a.name for a in self.domain.args]
        wrt = set(self.domain.wrt).union(*(c.wrt for c in self.specials))
        return tuple(names[i] for i in sorted(wrt) if i < len(names))


def _check_fields(r: Formula) -> None:
    """Each field of `r` but its name, as `Formula` declares it; lists of specials and kinks as tuples."""
    for field in ("section", "equation"):
        if not isinstance(getattr(r, field), str):
            raise TypeError(f"{field} must be a str, got {type(getattr(r, field)).__name__}")
    choose(r.kind, "kind", KINDS)
    for field in ("forward", "derivative"):
        function(getattr(r, field), field)
    function(r.twin, "twin", or_none="no TensorFlow twin: the tape column is skipped")
    if not isinstance(r.domain, (Domain, MLPDomain)):
        raise TypeError(f"domain must be a backprop_ref.domains.Domain or MLPDomain, got "
                        f"{type(r.domain).__name__}")
    if isinstance(r.domain, Domain):
        _check_wrt(r.domain)
    if r.kind == "vjp" and not (isinstance(r.domain, Domain) and r.domain.cotangent is not None):
        raise ValueError('kind "vjp" needs a domain with a cotangent: Domain(..., cotangent=Cotangent(...))')
    for field in ("specials", "kinks"):
        value = getattr(r, field)
        if isinstance(value, list):
            object.__setattr__(r, field, tuple(value))   # frozen: the one place a field is set
        elif not isinstance(value, tuple):
            raise TypeError(f"{field} must be a tuple (or list), got {type(value).__name__}")
    for i, case in enumerate(r.specials):
        if not isinstance(case, Case):
            raise TypeError(f"specials[{i}] must be a backprop_ref.domains.Case, got {type(case).__name__}")


class ComplexStepRefused(TypeError):
    """The complex step does not apply: the record's forward rejects complex input or drops its imaginary
    part (float(), math.exp, np.real). Raised by `CheckTask.check` with the checker's reason; the audit
    skips the complex column with it and the test templates skip the test, since no derivative is at
    fault for an oracle that cannot see through its forward (the central column still judges it)."""


# how the checker's TypeError begins when f cannot carry the complex step (gradcheck's evaluation)
_REFUSAL = "method='complex' needs an f that"


def _complex(x: Any) -> bool:
    """Whether the checker called f at a complex point (x an array, or a dict of them for a VJP)."""
    return any(np.iscomplexobj(v) for v in (x.values() if isinstance(x, dict) else (x,)))


def _check_wrt(domain: Domain) -> None:
    """The domain's wrt names each of its arguments at most once, and at least one."""
    names = [a.name for a in domain.args]
    wrt = domain.wrt

    def index(i: Any) -> bool:
        return isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= int(i) < len(names)

    if not (isinstance(wrt, (tuple, list)) and all(index(i) for i in wrt)):
        where = ", ".join(f"{i} {n}" for i, n in enumerate(names))
        raise ValueError(f"domain.wrt must be indices of the domain's {len(names)} arguments ({where}), "
                         f"got {wrt!r}")
    if not wrt:
        raise ValueError("domain.wrt must name at least one argument, got ()")
    twice = [names[i] for i in wrt if list(wrt).count(i) > 1]
    if twice:
        raise ValueError(f"domain.wrt names {twice[0]} twice: {tuple(wrt)}")


@dataclass(frozen=True)
class CheckTask:
    """One task for the gradient checker: f at x, the claimed derivative, and its form.

    `claimed` is a gradient, or a Jacobian when `jacobian` (an elementwise formula's is diagonal);
    `fprime`, for an elementwise formula, is its derivative entry by entry, which `check` judges
    with `check_elementwise` (every entry moved at once) rather than the n × n Jacobian. For a
    backward pass, `cotangent` is its dy: x and `claimed` are then dicts keyed by argument name
    (f takes the dict), and `check` judges them with `check_vjp`."""

    label: str
    f: Callable[[Any], Any]
    x: Any
    claimed: Any
    jacobian: bool
    fprime: Array | None = None
    cotangent: Array | None = None

    def check(self, method: str = "central", seed: int | None = None) -> Any:
        """The checker's result for this task (`check_elementwise`, `check_vjp`, `check_jacobian` or
        `check_grad`); `ComplexStepRefused` when method is "complex" and f cannot carry it."""
        if method != "complex":
            return self._check(self.f, method, seed)
        refusals: list[BaseException] = []

        def f(x: Any) -> Any:
            try:
                return self.f(x)
            except (TypeError, ValueError) as exc:
                if _complex(x):   # f's own refusal: check_elementwise passes it on unworded
                    refusals.append(exc)
                raise

        try:
            return self._check(f, method, seed)
        except (TypeError, ValueError) as exc:
            if str(exc).startswith(_REFUSAL):
                raise ComplexStepRefused(str(exc)) from exc
            if exc in refusals:
                raise ComplexStepRefused(f"{_REFUSAL} accepts complex input; f raised {type(exc).__name__}: "
                                         f"{exc}. Use method='central'.") from exc
            raise

    def _check(self, f: Callable[[Any], Any], method: str, seed: int | None) -> Any:
        from backprop_ref.gradcheck import check_elementwise, check_grad, check_jacobian, check_vjp

        if self.fprime is not None:
            return check_elementwise(f, self.fprime, self.x, method=method)
        if self.cotangent is not None:   # the case's own dy: no seed draws anything (full mode)
            claimed = self.claimed
            return check_vjp(f, self.x, lambda u: claimed, cotangent=self.cotangent, method=method)
        check = check_jacobian if self.jacobian else check_grad
        return check(f, self.x, self.claimed, method=method, seed=seed)


def derivatives(formula: Formula, case: Case) -> tuple[Array, ...]:
    """The analytic derivative(s) under test at `case`, always as a tuple aligned with case.wrt."""
    if formula.kind == "vjp":
        if case.cotangent is None:
            raise ValueError(f"{formula.name} is a backward pass: its case needs a cotangent dy")
        out = formula.derivative(*case.args, case.cotangent, **case.kwargs)
    else:
        out = formula.derivative(*case.args, **case.kwargs)
    claimed = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(claimed) != len(case.wrt):   # zip would check the first len(wrt) and drop the rest unseen
        raise ValueError(_misaligned(formula, case, len(claimed)))
    return claimed


def _misaligned(formula: Formula, case: Case, returned: int) -> str:
    """Why a derivative that returned `returned` arrays does not align with the case's wrt."""
    names = arg_names(formula, case)
    checked = ", ".join(names[i] for i in case.wrt)
    n = len(case.wrt)
    text = (f"{formula.name}: {formula.derivative_name} returned {returned} arrays, but the case "
            f"differentiates {n} argument{'' if n == 1 else 's'}, {checked} (wrt={tuple(case.wrt)})")
    if returned == len(names):   # one array per argument: the domain meant every one
        return text + f"; give the domain wrt={tuple(range(returned))} to check {', '.join(names)}"
    return text + "; a derivative returns one array per argument in the domain's wrt"


# A ReLU pre-activation within 1e-6 of 0 counts as at the kink: the central steps (6e-6·max(|θ|, 1))
# move z further than that, so the stencil straddles the kink unless the checker's re-probes shrink
# it enough (4096× at most), and with several such units no re-probe helps. It also covers
# subnormal z, which TensorFlow flushes to 0.
KINK_MARGIN = 1e-6


def at_kink(formula: Formula, case: Case) -> bool:
    """True when an MLP case has a ReLU-type pre-activation within KINK_MARGIN of 0.

    There the chain rule with a fixed ReLU′(0) need not be a derivative along any direction the
    stencil can resolve: with two units at 0, relu(t) − relu(−t) = t has slope 1 where the chain
    rule claims 2, and no one-sided slope brackets the claim. Neither finite differences nor the
    tape can judge such a case (TensorFlow's value at 0 differs by convention, and it flushes
    subnormal z to 0); a single kink is checked, one-sided slopes and all, at the specials.
    """
    if not isinstance(formula.domain, MLPDomain):
        return False
    layers, a, _ = mlp_unpack(case.args)
    for (W, b), name in zip(layers, case.kwargs["activations"]):
        z = network.dense_forward(a, W, b)
        if name in ("relu", "leaky_relu") and np.any(np.abs(z) < KINK_MARGIN):
            return True
        a = network.ACTIVATIONS[name][0](z)
    return False


def _substitute(formula: Formula, case: Case, i: int) -> Callable[[Array], Any]:
    def f(v: Array) -> Any:
        args = list(case.args)
        args[i] = v
        return formula.forward(*args, **case.kwargs)

    return f


def _block_jacobian(blocks: Array) -> Array:
    """(…, K, K) per-row Jacobians → the full Jacobian of shape z.shape + z.shape."""
    k = blocks.shape[-1]
    rows = blocks.reshape(-1, k, k)
    n = rows.shape[0]
    full = np.zeros((n, k, n, k), dtype=blocks.dtype)
    full[np.arange(n), :, np.arange(n), :] = rows
    lead = blocks.shape[:-2]
    return full.reshape(lead + (k,) + lead + (k,))


def check_tasks(formula: Formula, case: Case) -> list[CheckTask]:
    """The checker tasks that verify `formula`'s derivative at `case`, one per wrt argument."""
    claimed = derivatives(formula, case)
    names = arg_names(formula, case)
    if formula.kind in ("elementwise", "jacobian"):   # the derivative named, and the argument (x's entries)
        label = f"{formula.derivative_name} (∂/∂{names[0]})"
        x = case.args[0]
        if formula.kind == "jacobian":
            full = _block_jacobian(np.asarray(claimed[0]))
            return [CheckTask(label, _substitute(formula, case, 0), x, full, True)]
        diag = np.diagflat(np.ravel(claimed[0])).reshape(x.shape + x.shape)
        return [CheckTask(label, _substitute(formula, case, 0), x, diag, True, np.asarray(claimed[0]))]
    if formula.kind == "vjp":
        point = {names[i]: case.args[i] for i in case.wrt}

        def f(x: dict[str, Array]) -> Any:
            args = list(case.args)
            for i in case.wrt:
                args[i] = x[names[i]]
            return formula.forward(*args, **case.kwargs)

        claims = {names[i]: np.asarray(g) for i, g in zip(case.wrt, claimed)}
        return [CheckTask(f"{formula.derivative_name}: ∂⟨dy, y⟩/∂({', '.join(point)})", f, point, claims,
                          False, cotangent=case.cotangent)]
    return [
        CheckTask(f"∂/∂{names[i]}", _substitute(formula, case, i), case.args[i], np.asarray(g), False)
        for i, g in zip(case.wrt, claimed)
    ]


def arg_names(formula: Formula, case: Case) -> list[str]:
    """The names of `case`'s positional arguments, as the domain declares them (W1, b1, …, X, Y for an
    MLP): how reports name the argument a derivative is taken by."""
    if isinstance(formula.domain, Domain):
        return [a.name for a in formula.domain.args]
    layers, _, _ = mlp_unpack(case.args)
    return list(mlp_pack([(f"W{i}", f"b{i}") for i in range(1, len(layers) + 1)], "X", "Y"))


# ---- what the record modules share: shapes, value ranges, specials, TensorFlow helpers ------

ANY_SHAPE = ("A?", "B?")          # elementwise formulas see 0-d, 1-d and 2-d arrays
SHAPE_SIZES = {"A": (1, 5), "B": (1, 5)}
ROWS = ("N?", "K")                # one example (K,) or a batch (N, K)
ROW_SIZES = {"N": (1, 6), "K": (1, 6)}
WIDE = Reals(-1e4, 1e4)           # the extreme inputs: ±1e4, logit spread 1e4
# 1e-3 keeps every finite-difference step (≤ 6e-6·max(|x|, 1)) on one side of a kink; the
# kinks themselves are checked at the special values below.
KINKED = Reals(-1e4, 1e4, kinks=(0.0,), margin=1e-3)


def _elementwise(*x: float, label: str) -> Case:
    return Case((np.array(x, dtype=np.float64),), {}, (0,), label)


SATURATION = _elementwise(-1e4, -745.0, -40.0, -1.0, 0.0, 1.0, 40.0, 745.0, 1e4, label="saturation")
AT_KINK = _elementwise(0.0, -0.0, 1e-300, -1e-300, 2.5, -2.5, label="kink at 0")
# TensorFlow's log_softmax is z − max − log Σ e^{z − max} and its log σ is log of a number near 1:
# the log of a sum ≥ 1 errs by eps absolute, so a confident loss (z = [14, 0] gives 8.3e-7) is off
# by 1.3e-10 relative on the tape's side. Its rounding scale is 1 per unit of target mass, not |L|.
LOG_OF_SUM = (1.0, "TensorFlow takes the log of a sum ≥ 1 (log_softmax, log σ): eps absolute, not relative")


def _at(label: str, x: Any, *constants: Any, **kwargs: Any) -> Case:
    """An elementwise special: x and the function's constants (each broadcast against x), d/dx only."""
    return Case(tuple(np.array(v, dtype=np.float64) for v in (x, *constants)), kwargs, (0,), label)


def _tf_mean_rows(tf: Any, per_row: Any) -> Any:
    """Mean over rows for a batch, the value itself for one example (the losses' reduction)."""
    return tf.reduce_mean(per_row) if per_row.shape.rank == 1 else per_row


# ---- the records: one module per part, each importing the machinery above ------------------

from backprop_ref.catalogue import beyond, chapter, layers  # noqa: E402  (they need Formula, defined above)

CATALOGUE: tuple[Formula, ...] = chapter.RECORDS + beyond.RECORDS + layers.RECORDS


BY_NAME: dict[str, Formula] = {f.name: f for f in CATALOGUE}


def get(name: str) -> Formula:
    """The record called `name`; ValueError listing the valid names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown formula {name!r}; valid names are {', '.join(BY_NAME)}") from None
