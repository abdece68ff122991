"""The source documents' worked examples, reproduced: each a function returning its numbers.

- `himmelblau`   Backward Propagation Algorithm §7.8: gradient descent from Table 7.1's four starts.
- `single_layer` Further into Backpropagation (and its Chinese edition): the 3→2 sigmoid layer with
                 cross-entropy on its outputs, one step.
- `two_layer`    Backpropagation step by step: Linear+Sigmoid then Linear+Softmax with cross-entropy,
                 one step.
- `moons`        Backward Propagation Algorithm §7.9: the 2-25-50-25-2 sigmoid MLP with MSE on
                 two-moons points.
- `plot`         Backward Propagation Algorithm Figures 7.2–7.5: each activation, its derivative,
                 finite-difference points.

The last two train and draw, and live in `backprop_ref.demo_figures` (the one module that imports
matplotlib); their names are importable from here as well. Each returns a result object (its
`passed` says whether the demo showed what it claims) and `format_result` renders it as the text the
CLI prints. Nothing here prints.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref import tf_twins, worked
from backprop_ref.catalogue import BY_NAME, check_tasks
from backprop_ref.demo_figures import (
    MOONS_BATCH,
    MOONS_EPOCHS,
    MOONS_LR,
    MOONS_SIZES,
    MOONS_TARGET,
    MissingRequirement,
    MoonsResult,
    PlotResult,
    Progress,
    format_moons,
    format_plot,
    make_moons,
    moons,
    plot,
    worst_verdict,
)
from backprop_ref.domains import Case
from backprop_ref.gradcheck import check_grad
from backprop_ref.tolerances import agree

__all__ = [
    "MissingRequirement", "DEMOS", "run", "format_result",
    "HIMMELBLAU_STARTS", "HIMMELBLAU_BOOK", "HIMMELBLAU_MINIMA_BOOK", "HIMMELBLAU_TOL",
    "himmelblau_minima", "himmelblau", "single_layer", "two_layer", "make_moons", "moons", "plot",
    "HimmelblauResult", "LayerStepResult", "MoonsResult", "PlotResult",
    "MOONS_SIZES", "MOONS_LR", "MOONS_EPOCHS", "MOONS_BATCH", "MOONS_TARGET",
]

Array = NDArray[np.float64]


def _use_tf(use_tf: bool) -> bool:
    return use_tf and tf_twins.available()


def _tf_version(used: bool) -> str | None:
    return str(tf_twins.tensorflow().__version__) if used else None


# ---- Backward Propagation Algorithm §7.8: Himmelblau ----------------------------------------------

HIMMELBLAU_STARTS = ((4.0, 0.0), (1.0, 0.0), (-4.0, 0.0), (-2.0, 2.0))
# Table 7.1's "numerical solution" column, as printed.
HIMMELBLAU_BOOK = ((3.58, -1.84), (3.0, 1.99), (-3.77, -3.28), (-2.80, 3.13))
# §7.8's analytic minima, to the three decimals the book gives.
HIMMELBLAU_MINIMA_BOOK = ((3.0, 2.0), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848))
HIMMELBLAU_LR = 0.01
HIMMELBLAU_STEPS = 200
# Near each minimum the Hessian's eigenvalues lie in [≈8, ≈80] and lr·λ ≤ 0.8 < 2: the iteration
# contracts by ≤ 0.92 per step, so 200 steps shrink the distance by ≥ 1e-7 from any start within
# the basin; 1e-6 is well inside what that guarantees and far below the book's two decimals.
HIMMELBLAU_TOL = 1e-6


def himmelblau_minima() -> tuple[Array, ...]:
    """The four minima to float64 precision: the book's three-decimal values polished by Newton's
    method on ∇f = 0, with the Hessian [[12x² + 4y − 42, 4(x + y)], [4(x + y), 12y² + 4x − 26]]."""
    out = []
    for m in HIMMELBLAU_MINIMA_BOOK:
        p = np.array(m, dtype=np.float64)
        for _ in range(8):  # quadratic convergence from 1e-3 away: 1e-6, 1e-12, then rounding
            x, y = p
            hessian = np.array([[12 * x**2 + 4 * y - 42, 4 * (x + y)], [4 * (x + y), 12 * y**2 + 4 * x - 26]])
            p = p - np.linalg.solve(hessian, worked.himmelblau_grad(p))
        out.append(p)
    return tuple(out)


@dataclass(frozen=True)
class HimmelblauRow:
    start: tuple[float, float]
    book: tuple[float, float]
    endpoint: Array
    f_endpoint: float
    minimum: Array
    distance: float
    steps_to_tol: int | None
    tape_endpoint: Array | None
    tape_max_diff: float | None


@dataclass(frozen=True)
class HimmelblauResult:
    rows: tuple[HimmelblauRow, ...]
    lr: float
    steps: int
    tolerance: float
    tf_version: str | None
    book_row_step: int | None  # first step at which (1, 0)'s iterate is within 0.005 of (3, 1.99)

    @property
    def passed(self) -> bool:
        tape_ok = all(r.tape_max_diff is None or r.tape_max_diff <= 1e-9 for r in self.rows)
        return tape_ok and all(r.distance <= self.tolerance for r in self.rows)


def _descend(grad: Callable[[Array], Array], start: Array, lr: float, steps: int) -> Array:
    path = [start]
    x = start
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x)
    return np.array(path)


def himmelblau(*, use_tf: bool = True, lr: float = HIMMELBLAU_LR, steps: int = HIMMELBLAU_STEPS,
               progress: Progress | None = None) -> HimmelblauResult:
    """Backward Propagation Algorithm §7.8: x ← x − lr·∇f(x) for `steps` steps from each of Table 7.1's
    starts, with the reference gradient and (when installed) the tape's gradient of the TensorFlow twin."""
    tape = _use_tf(use_tf)
    minima = himmelblau_minima()
    record = BY_NAME["himmelblau"]

    def tape_grad(x: Array) -> Array:
        return tf_twins.tape_derivatives(record, Case((x,)))[0]

    rows = []
    book_row_step = None
    for k, (start, book) in enumerate(zip(HIMMELBLAU_STARTS, HIMMELBLAU_BOOK)):
        if progress is not None:
            progress(k, len(HIMMELBLAU_STARTS), f"start {start}")
        path = _descend(worked.himmelblau_grad, np.array(start), lr, steps)
        end = path[-1]
        minimum = min(minima, key=lambda m: float(np.linalg.norm(end - m)))
        dists = np.linalg.norm(path - minimum, axis=1)
        within = np.flatnonzero(dists <= HIMMELBLAU_TOL)
        tape_end = tape_diff = None
        if tape:
            tape_path = _descend(tape_grad, np.array(start), lr, steps)
            tape_end = tape_path[-1]
            tape_diff = float(np.max(np.abs(tape_path - path)))
        if start == (1.0, 0.0):
            near = np.flatnonzero(np.linalg.norm(path - np.array(book), axis=1) <= 0.005)
            book_row_step = int(near[0]) if near.size else None
        rows.append(HimmelblauRow(start, book, end, float(worked.himmelblau(end)), minimum,
                                  float(dists[-1]), int(within[0]) if within.size else None,
                                  tape_end, tape_diff))
    if progress is not None:
        progress(len(HIMMELBLAU_STARTS), len(HIMMELBLAU_STARTS), "done")
    return HimmelblauResult(tuple(rows), lr, steps, HIMMELBLAU_TOL, _tf_version(tape), book_row_step)


def _xy(p: Any, digits: int = 6) -> str:
    return "(" + ", ".join(f"{float(v):.{digits}f}" for v in p) + ")"


def _format_himmelblau(r: HimmelblauResult) -> str:
    lines = [f"Himmelblau [Backward Propagation Algorithm §7.8]: gradient descent, lr {r.lr}, "
             f"{r.steps} steps, reference gradient"
             + (f" and tf.GradientTape (TensorFlow {r.tf_version})" if r.tf_version else ""), ""]
    head = ("start", "book (Table 7.1)", f"ours after {r.steps} steps", "f", "analytic minimum",
            "distance", "steps to 1e-6")
    table = [head]
    for row in r.rows:
        table.append((_xy(row.start, 0), _xy(row.book, 2), _xy(row.endpoint), f"{row.f_endpoint:.1e}",
                      _xy(row.minimum), f"{row.distance:.1e}",
                      "—" if row.steps_to_tol is None else str(row.steps_to_tol)))
    widths = [max(len(t[i]) for t in table) for i in range(len(head))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip() for t in table]
    lines.append("")
    if r.tf_version:
        worst = max(row.tape_max_diff or 0.0 for row in r.rows)
        lines.append(f"tape trajectories: the largest difference from ours over all steps is {worst:.1e}")
    book = r.rows[HIMMELBLAU_STARTS.index((1.0, 0.0))]
    when = (f"our iterate is within 0.005 of it at step {r.book_row_step}"
            if r.book_row_step is not None else "our iterate never comes within 0.005 of it")
    lines.append(f"the book's (1, 0) → (3, 1.99) row: {when}; after {r.steps} steps it is at "
                 f"{_xy(book.endpoint)}, {book.distance:.1e} from (3, 2), so the book's row reads "
                 "as rounded (or from fewer steps), not as a different minimum")
    lines.append(("PASS" if r.passed else "FAIL") + f": every start ends within {r.tolerance:g} of the "
                 "analytic minimum Table 7.1 pairs it with")
    return "\n".join(lines)


# ---- Further into Backpropagation and Backpropagation step by step: one gradient step on the worked layers

@dataclass(frozen=True)
class GradCheck:
    """One derivative compared with central differences and, when available, the tape."""

    name: str
    analytic: Array
    central_verdict: str         # the checker's: "pass", "fail" or "inconclusive"
    central_rel_err: float
    tape_passed: bool | None
    tape_rel_err: float | None
    report: str
    central_reason: str = ""     # why, when the check is inconclusive (the checker's sentence)

    @property
    def central_passed(self) -> bool:
        return self.central_verdict == "pass"

    @property
    def verdict(self) -> str:
        """"fail" when the central check or the tape disagrees, else the central check's verdict."""
        return worst_verdict([self.central_verdict, "fail" if self.tape_passed is False else "pass"])

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


@dataclass(frozen=True)
class LayerStepResult:
    """One gradient step on a worked network: the numbers, the checks, the loss before and after."""

    title: str
    inputs: dict[str, Array]
    intermediates: dict[str, Array]
    grads: tuple[GradCheck, ...]
    lr: float
    loss_before: float
    loss_after: float
    tf_version: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> str:
        """"fail" when the loss does not fall or a check fails; else "inconclusive" when a check could
        not be decided; else "pass"."""
        falls = "pass" if self.loss_after < self.loss_before else "fail"
        return worst_verdict([falls] + [g.verdict for g in self.grads])

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def _check_all(record_name: str, case: Case, names: tuple[str, ...], tape: bool) -> tuple[GradCheck, ...]:
    from backprop_ref.catalogue import derivatives

    record = BY_NAME[record_name]
    analytic = derivatives(record, case)
    theirs = tf_twins.tape_derivatives(record, case) if tape else (None,) * len(analytic)
    forward = record.forward(*case.args, **case.kwargs)
    out = []
    for name, ours, task, their in zip(names, analytic, check_tasks(record, case), theirs):
        result = check_grad(task.f, task.x, task.claimed, method="central", seed=0)
        verdict = agree(ours, their, forward_scale=forward) if their is not None else None
        out.append(GradCheck(name, np.asarray(ours), result.verdict, float(result.max_rel_err),
                             None if verdict is None else verdict.passed,
                             None if verdict is None else verdict.max_rel_err, str(result), result.reason))
    return tuple(out)


def single_layer(*, seed: int = 0, use_tf: bool = True, lr: float = 0.01) -> LayerStepResult:
    """Further into Backpropagation (and its Chinese edition): X = [2, 4, −2] through a random 3×2 W,
    sigmoid outputs, cross-entropy on them for class 0; ∂C/∂W = Xᵀ(∂C/∂y_o ⊙ σ′(y)) checked, then W ←
    W − h·∂C/∂W with h = 0.01."""
    from backprop_ref.activations import sigmoid, sigmoid_grad

    tape = _use_tf(use_tf)
    # Further into Backpropagation: W = np.random.normal(size=(3, 2))
    W = np.random.default_rng(seed).normal(size=(3, 2))
    x = np.array([2.0, 4.0, -2.0])
    p = np.array([1.0, 0.0])
    y = x @ W
    y_o = sigmoid(y)
    dC_dyo = -p / y_o
    grads = _check_all("one_layer", Case((W, x, p), {}, (0,)), ("∂C/∂W",), tape)
    before = float(worked.one_layer_loss(W, x, p))
    after = float(worked.one_layer_loss(W - lr * grads[0].analytic, x, p))
    return LayerStepResult(
        "Single layer [Further into Backpropagation]: 3→2, sigmoid outputs, cross-entropy C = −Σ p log y_o, "
        "class 0",
        {"X": x, "W": W, "p": p},
        {"y = XW": y, "y_o = σ(y)": y_o, "∂C/∂y_o = −p/y_o": dC_dyo, "σ′(y)": sigmoid_grad(y),
         "Xᵀ(∂C/∂y_o ⊙ σ′(y)), by hand": np.outer(x, dC_dyo * sigmoid_grad(y))},
        grads, lr, before, after, _tf_version(tape),
        ("Further into Backpropagation's run went 7.87 → 7.63 and its Chinese edition's 3.68 → 3.45 from "
         f"their own random W; ours is W ~ N(0, 1) with seed {seed}",),
    )


def two_layer(*, seed: int = 0, use_tf: bool = True, lr: float = 0.02) -> LayerStepResult:
    """Backpropagation step by step: one example with two features, Linear(2→3)+Sigmoid then
    Linear(3→2)+Softmax with cross-entropy; both layers' gradients by the chain rule, checked, then one step
    with lr 0.02. (The blog post's figures, with its numbers and the hidden width, were lost; the widths
    here are ours.)"""
    from backprop_ref.activations import sigmoid
    from backprop_ref.softmax import softmax

    tape = _use_tf(use_tf)
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(2, 3)), rng.normal(size=3)
    W2, b2 = rng.normal(size=(3, 2)), rng.normal(size=2)
    x = rng.uniform(-1.0, 1.0, size=2)
    y = np.array([1.0, 0.0])
    h = sigmoid(x @ W1 + b1)
    p = softmax(h @ W2 + b2)
    case = Case((W1, b1, W2, b2, x, y), {}, (0, 1, 2, 3))
    grads = _check_all("two_layer", case, ("∂L/∂W1", "∂L/∂b1", "∂L/∂W2", "∂L/∂b2"), tape)
    before = float(worked.two_layer_loss(W1, b1, W2, b2, x, y))
    dW1, db1, dW2, db2 = (g.analytic for g in grads)
    after = float(worked.two_layer_loss(W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2, x, y))
    return LayerStepResult(
        "Two layers [Backpropagation step by step]: Linear(2→3)+Sigmoid, Linear(3→2)+Softmax, cross-entropy, "
        "one example",
        {"x": x, "y": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2},
        {"h = σ(xW1 + b1)": h, "p = softmax(hW2 + b2)": p, "δ2 = p − y": p - y,
         "δ1 = (δ2 W2ᵀ) ⊙ h(1 − h)": ((p - y) @ W2.T) * h * (1 - h)},
        grads, lr, before, after, _tf_version(tape),
        ("Backpropagation step by step remarks that sigmoid gradients vanish: |δ1| ≤ ¼·|δ2 W2ᵀ| entrywise, "
         "since σ′ ≤ ¼",),
    )


def _arr(label: str, a: Array) -> str:
    """`label = a`, the continuation rows of a matrix aligned under its first row."""
    head = f"{label} = "
    # + 0.0 turns −0.0 (from −p/y_o with p = 0) into 0.0 for display
    return head + np.array2string(np.asarray(a) + 0.0, precision=4, suppress_small=False, separator=", ",
                                  max_line_width=100, prefix=head)


def _format_layer_step(r: LayerStepResult) -> str:
    lines = [r.title, ""]
    for k, v in {**r.inputs, **r.intermediates}.items():
        lines.append(_arr(k, v))
    lines.append("")
    for g in r.grads:
        tape = ("" if g.tape_passed is None else
                f"; tape {'agrees' if g.tape_passed else 'DISAGREES'} (max rel err {g.tape_rel_err:.1e})")
        central = {"pass": "agree", "fail": "DISAGREE"}.get(g.central_verdict, "cannot decide (inconclusive)")
        lines.append(_arr(g.name, g.analytic))
        lines.append(f"    central differences {central} (max rel err {g.central_rel_err:.1e}){tape}")
        if not g.passed:
            lines.extend("    " + s for s in g.report.splitlines())
    lines.append("")
    lines.append(f"loss before the step {r.loss_before:.6f}, after one step with lr {r.lr}: "
                 f"{r.loss_after:.6f} ({'falls' if r.loss_after < r.loss_before else 'DOES NOT FALL'})")
    lines.extend(r.notes)
    undecided = "; ".join(f"{g.name}: {g.central_reason}" for g in r.grads if g.verdict == "inconclusive")
    lines.append(f"INCONCLUSIVE: {undecided}" if r.verdict == "inconclusive" else r.verdict.upper())
    return "\n".join(lines)


# ---- dispatch ----------------------------------------------------------------------------------

DEMOS = {"himmelblau": "Backward Propagation Algorithm §7.8", "single-layer": "Further into Backpropagation",
         "two-layer": "Backpropagation step by step", "moons": "Backward Propagation Algorithm §7.9"}


def run(name: str, *, seed: int = 0, use_tf: bool = True, out_dir: Path | str | None = None,
        progress: Progress | None = None) -> Any:
    """Run the demo called `name` (a key of DEMOS) and return its result object."""
    if name == "himmelblau":
        return himmelblau(use_tf=use_tf, progress=progress)
    if name == "single-layer":
        return single_layer(seed=seed, use_tf=use_tf)
    if name == "two-layer":
        return two_layer(seed=seed, use_tf=use_tf)
    if name == "moons":
        return moons(seed=seed, out_dir=out_dir, progress=progress)
    raise ValueError(f"unknown demo {name!r}; valid demos are {', '.join(DEMOS)}")


def format_result(result: Any) -> str:
    """The text the CLI prints for any demo's result."""
    if isinstance(result, HimmelblauResult):
        return _format_himmelblau(result)
    if isinstance(result, LayerStepResult):
        return _format_layer_step(result)
    if isinstance(result, MoonsResult):
        return format_moons(result)
    if isinstance(result, PlotResult):
        return format_plot(result)
    raise TypeError(f"no formatter for {type(result).__name__}")
