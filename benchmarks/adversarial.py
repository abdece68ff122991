"""Adversarial cases for the gradient checker (issue 11, "Measured, not claimed").

Regenerate benchmarks/ADVERSARIAL.md with:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        /work/venv/bin/python benchmarks/adversarial.py --write benchmarks/ADVERSARIAL.md

Every case is one f at one x with two claims: a RIGHT gradient (derived by hand, in its docstring
or comment) and a WRONG twin, wrong by the amount stated in the case. Each claim is judged by
backprop_ref (`check_grad` / `check_jacobian` with method="central", method="complex" where f accepts
complex input, and directions=8 where x has 16 entries or more), by torch.autograd.gradcheck (in the
peers' venv, through benchmarks/adversarial_peers.py: a torch.autograd.Function whose forward calls
the NumPy f and whose backward returns the claim) and by scipy.optimize.check_grad.

Scoring, the same for every checker: on a right claim "pass" is correct and "fail" a FALSE ALARM; on
a wrong twin "fail" is correct and "pass" a FALSE PASS. "inconclusive" is correct only where the case
says why no finite difference could decide (a jump, a tie that leaves the derivative undefined, an
entry below f's rounding, the complex step on an f that is not complex-analytic); elsewhere it is a
miss. Where f has no derivative at x (a jump) the "right" claim is the value autodiff reports (the
derivative almost everywhere), and passing it is a false pass too. An error raised by a checker counts
as a rejection (a false alarm on a right claim); where the case expects one (f modifies its input),
anything else is a miss. backprop_ref's cells are misses as well when its report contradicts its
verdict ("pass" beside a Taylor test saying "the gradient is WRONG"), when it changes the caller's
arrays, or when a directional failure does not localise every planted entry. A directional check states
its resolution (`detectable_error`: an error that large in any one entry is seen by each random
direction with probability ≥ 1/2): its pass or inconclusive on a wrong twin whose error, in every
entry, lies below that is counted apart ("pass, below its stated resolution", acceptable), as a
justified inconclusive verdict is; full mode judges such twins.

Options: --write PATH (the markdown report), --peers-python PATH (a Python with torch 2.13; default
/work/venv-peers/bin/python when it exists; without it the torch column reads "not installed"),
--only SUBSTRING (run only the cases whose name contains it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261211
K_DIRECTIONS = 8
DIRECTIONAL_FROM = 16          # x.size from which the directional mode is run
SCIPY_RTOL = 1e-6              # scipy.optimize.check_grad passes when ‖g − ĝ‖₂ ≤ 1e-6·‖g‖₂
TORCH_FULL_MAX = 4096          # above this x.size torch runs gradcheck(fast_mode=True)
NOISE_SEEDS = 5                # a noisy f is judged with this many streams of noise, every one counted
CELLS = ("central", "complex", "directional")


@dataclass
class Case:
    """One f at one x with a right claim and its wrong twin."""

    name: str
    cls: str
    f: Callable[[Any], Any]
    x: np.ndarray
    right: np.ndarray
    wrong: np.ndarray
    what: str                       # what is wrong in the twin, and by how much
    undecided: str = ""             # why no finite difference can decide ("" : inconclusive is a miss)
    undecided_in: tuple[str, ...] = CELLS + ("torch", "scipy")   # the checkers that reason covers
    wrong_decidable: bool = False   # the twin's error lies in an entry that can be judged: it must fail
    no_derivative: bool = False     # f has no derivative at x: passing any claim is a false pass
    complex_step: bool = True       # f accepts complex input: run method="complex"
    directional: bool | None = None  # None: when x.size ≥ DIRECTIONAL_FROM
    full: bool = True               # False: x too big for per-entry checks (full mode, scipy, torch slow)
    jacobian: bool = False
    expect_error: str = ""          # the right outcome is an error whose message contains this
    planted: tuple[tuple[int, ...], ...] = ()   # entries directional bisection must localise
    kwargs: dict[str, Any] = field(default_factory=dict)   # e.g. claim_dtype
    make_f: Callable[[int], Callable[[Any], Any]] | None = None   # a noisy f: one per noise seed

    def functions(self) -> list[Callable[[Any], Any]]:
        """f, or for a noisy f a fresh one per noise seed (each its own stream of noise)."""
        return [self.f] if self.make_f is None else [self.make_f(s) for s in range(NOISE_SEEDS)]

    def runs(self, cell: str) -> bool:
        if cell == "complex":
            return self.complex_step and self.full
        if cell == "directional":
            return self.x.size >= DIRECTIONAL_FROM if self.directional is None else self.directional
        return self.full


# ---- building blocks ---------------------------------------------------------------------------

def bump(g: np.ndarray, rel: float, at: tuple[int, ...] | None = None) -> np.ndarray:
    """g with one entry (default: the largest in magnitude) multiplied by 1 + rel, in g's dtype."""
    out = g.copy()
    i = np.unravel_index(int(np.argmax(np.abs(g))), g.shape) if at is None else at
    out[i] = out[i] * (1 + rel)
    return out


def put(g: np.ndarray, at: tuple[int, ...], value: float) -> np.ndarray:
    out = np.array(g, dtype=float)
    out[at] = value
    return out


def low(v: np.ndarray, real: Any) -> np.ndarray:
    """v cast to a lower precision, to its complex counterpart when v is complex (complex step)."""
    if np.iscomplexobj(v):
        return v.astype(np.complex64)
    return v.astype(real)


def relu(v):
    return np.where(np.real(v) > 0, v, 0.0)


def noisy(base: Callable[[Any], Any], rel: float, seed: int) -> Callable[[Any], Any]:
    """base(v)·(1 + rel·ξ), ξ standard normal drawn afresh at every call (nondeterministic sums)."""
    rng = np.random.default_rng(seed)
    return lambda v: base(v) * (1 + rel * rng.standard_normal())


def sin_exp(v):
    return np.sum(np.sin(v) * np.exp(v / 3))


def sin_exp_grad(x):
    return np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3


def sum_math_log(v):
    # pure-Python user code: math.log raises ValueError outside (0, ∞)
    return sum(math.log(t) for t in np.asarray(v).ravel())


def normalise_in_place(v):
    v -= v.mean()               # the bug: the caller's (the checker's) array changes
    return np.sum(v**2)


def sigmoid_layer(n_in: int, n_out: int, n: int, seed: int):
    """½ Σ (σ(XW) − Y)² / N and its gradient Xᵀ((a − Y)·a(1 − a))/N."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    W = rng.normal(0, np.sqrt(2 / (n_in + n_out)), (n_in, n_out))
    Y = rng.uniform(size=(n, n_out))

    def f(w):
        a = 1 / (1 + np.exp(-(X @ w)))
        return 0.5 * np.sum((a - Y) ** 2) / n

    a = 1 / (1 + np.exp(-(X @ W)))
    return f, W, X.T @ ((a - Y) * a * (1 - a) / n)


def three_equal_errors(g: np.ndarray, delta: float, seed: int):
    """g with three entries (drawn from seed) each increased by the same delta."""
    flat = np.random.default_rng(seed).choice(g.size, 3, replace=False)
    idx = tuple(tuple(int(t) for t in np.unravel_index(int(i), g.shape)) for i in flat)
    out = g.copy()
    for i in idx:
        out[i] += delta
    return out, idx


# ---- the cases ---------------------------------------------------------------------------------

def cases() -> list[Case]:
    rng = np.random.default_rng(SEED)
    out: list[Case] = []
    add = out.append
    x6 = rng.normal(size=6)

    # 1. f computed in float32 or float16. Steps below f's resolution see f(x ± h) == f(x).
    add(Case("float32 Σ sin x", "float32 forward", lambda v: np.sum(np.sin(low(v, np.float32))), x6,
             np.cos(x6), bump(np.cos(x6), 1e-3), "largest entry × (1 + 1e-3) (issue 11's float32 target)"))
    X = rng.normal(size=(16, 8))
    W = rng.normal(size=(8, 8)) * 0.4
    a = np.tanh(X @ W)
    g_tanh = X.T @ (a * (1 - a**2))                       # ∂/∂W ½Σ tanh(XW)² = Xᵀ(a ⊙ (1 − a²))
    add(Case("float32 ½Σ tanh(XW)², 8×8", "float32 forward",
             lambda w: 0.5 * np.sum(np.tanh(low(X, np.float32) @ low(w, np.float32)) ** 2), W, g_tanh,
             bump(g_tanh, 1e-2), "largest entry × 1.01 (f's float32 rounding ≈ 7e-6 and f‴ ≈ 50: central "
             "differences resolve ≈ 1.5e-3 at their best step)"))
    add(Case("float32 Σ e^{x/3} returned as a Python float", "float32 forward",
             lambda v: float(np.sum(np.exp(v.astype(np.float32) / 3))), x6, np.exp(x6 / 3) / 3,
             bump(np.exp(x6 / 3) / 3, 1e-3), "largest entry × (1 + 1e-3)", complex_step=False))
    x16 = rng.uniform(-1.5, 1.5, 6)
    add(Case("float16 Σ sin x", "float16 forward", lambda v: np.sum(np.sin(v.astype(np.float16))), x16,
             np.cos(x16), bump(np.cos(x16), 0.1),
             "largest entry × 1.1 (float16 eps 9.8e-4: differences resolve ≈ eps^(2/3) ≈ 1e-2)",
             complex_step=False))
    add(Case("float32 1e4 + Σ sin x", "float32 forward",
             lambda v: np.float32(1e4) + np.sum(np.sin(low(v, np.float32))), x6,
             np.cos(x6), bump(np.cos(x6), 0.1),
             "largest entry × 1.1 (f's rounding 6e-4 over steps ≤ 0.1 resolves ≈ 1e-2)"))

    # 2. The claim's own precision: its rounding scales with the gradient, not with |f|.
    g32 = np.cos(x6).astype(np.float32)
    add(Case("float32 claim, f = 1e6 + Σ sin x", "claim precision", lambda v: 1e6 + np.sum(np.sin(v)), x6,
             g32, bump(g32, 0.1), "largest entry × 1.1, in float32 (issue 11's example)"))
    Xc = rng.normal(size=(32, 8))
    Wc = rng.normal(size=(8, 4)) * 0.5
    Yc = rng.uniform(-1, 1, size=(32, 4))
    a32 = np.tanh(Xc.astype(np.float32) @ Wc.astype(np.float32))
    # ∂/∂W ½Σ(tanh(XW) − Y)²/N = Xᵀ((a − Y)(1 − a²))/N, accumulated in float32, held in float64
    g_acc = (Xc.astype(np.float32).T @ ((a32 - Yc.astype(np.float32)) * (1 - a32**2)) / 32).astype(np.float64)
    add(Case("float32-accurate claim in float64, claim_dtype=float32", "claim precision",
             lambda w: 0.5 * np.sum((np.tanh(Xc @ w) - Yc) ** 2) / 32, Wc, g_acc, bump(g_acc, 1e-4),
             "largest entry × (1 + 1e-4) (the claim's float32 rounding is ≈ 1e-7)",
             kwargs={"claim_dtype": np.float32}))
    g16 = (x6**2).astype(np.float16)
    add(Case("float16 claim, f = 1e6 + Σ x³/3", "claim precision", lambda v: 1e6 + np.sum(v**3) / 3, x6,
             g16, bump(g16, 0.05), "largest entry × 1.05, in float16 (its rounding is ≈ 5e-4)"))
    g16d = (x6**2).astype(np.float16).astype(np.float64)
    add(Case("float16-accurate claim in float64, claim_dtype=float16", "claim precision",
             lambda v: np.sum(v**3) / 3, x6, g16d, bump(g16d, 0.05), "largest entry × 1.05",
             kwargs={"claim_dtype": np.float16}))

    # 3. Scale: verdicts must not change when f is multiplied by c.
    # at c = 1e-12 the twin's error, 1e-16·|cos x|, lies within the rounding a claim computed from O(1)
    # intermediates may carry (analytic_rounding·eps·1 = 1.8e-15), which f's scale cannot show: full
    # mode calls that inconclusive (ERROR_MODEL intermediate_band); it must never pass
    band = ("the twin's error, 1e-4·1e-12·|cos x| ≈ 1e-16, lies within the rounding (8·eps·1 = 1.8e-15) a "
            "claim computed from O(1) intermediates may carry (p − y at a confident prediction), which f's "
            "scale (1e-12) cannot show")
    for c in (1e-12, 1e-6, 1.0, 1e6, 1e12):
        add(Case(f"{c:g}·Σ sin x", "scale", lambda v, c=c: c * np.sum(np.sin(v)), x6, c * np.cos(x6),
                 bump(c * np.cos(x6), 1e-4), "largest entry × (1 + 1e-4) (float64 resolves ≈ 1e-8)",
                 **({"undecided": band, "undecided_in": ("central", "complex")} if c == 1e-12 else {})))
    flip = bump(np.cos(x6), -2.0)                    # × (1 − 2): the sign flipped
    add(Case("1e-12·Σ sin x, a sign flipped", "scale", lambda v: 1e-12 * np.sum(np.sin(v)), x6,
             1e-12 * np.cos(x6), 1e-12 * flip, "largest entry's sign flipped (issue 11's example)"))
    add(Case("1e10 + Σ sin x, a sign flipped", "scale", lambda v: 1e10 + np.sum(np.sin(v)), x6, np.cos(x6),
             flip, "largest entry's sign flipped (issue 11's example)"))
    add(Case("1e10 + Σ sin x, 1e-2", "scale", lambda v: 1e10 + np.sum(np.sin(v)), x6, np.cos(x6),
             bump(np.cos(x6), 1e-2), "largest entry × 1.01 (f's rounding 2e-6 over steps ≈ 1e-2: ≈ 1e-4)"))
    xs = np.array([1e-8, 1e8])
    real_fd = ("central", "directional", "torch", "scipy")     # the complex step is free of f's rounding
    buried = ("x[0] = 1e-8 moves Σx² ≈ 1e16 by 2e-8·h, below f's rounding (≈ 2) at every step "
              "h that keeps x[0]'s stencil local")
    add(Case("Σ x² at [1e-8, 1e8], small entry wrong", "scale", lambda v: np.sum(v**2), xs, 2 * xs,
             put(2 * xs, (0,), -2e-8), "x[0]'s sign flipped (buried in f's rounding, not the complex step's)",
             undecided=buried + "; the complex step's exact 2e-8 stands within the rounding a claim may "
             "carry at the gradient's scale (8·eps·max|g| ≈ 3.5e-7: one computed along with its 2e8 "
             "entry), so a sign error there cannot be told from rounding either (the wrong twin)",
             undecided_in=real_fd + ("complex",)))
    add(Case("Σ x² at [1e-8, 1e8], large entry wrong", "scale", lambda v: np.sum(v**2), xs, 2 * xs,
             bump(2 * xs, 1e-6, (1,)), "x[1] × (1 + 1e-6)", undecided=buried, undecided_in=real_fd,
             wrong_decidable=True))

    # 4. Domain edges: a stencil point outside f's domain (NaN, or f raises).
    p = np.array([1e-5, 0.3, 0.7])
    add(Case("−Σ log p at p = 1e-5", "domain edge", lambda v: -np.sum(np.log(v)), p, -1 / p,
             bump(-1 / p, 1e-4, (0,)), "the edge entry × (1 + 1e-4)"))
    q = np.array([1e-10, 0.5, 2.0])
    add(Case("Σ √x at x = 1e-10 (NaN below 0)", "domain edge", lambda v: np.sum(np.sqrt(v)), q,
             0.5 / np.sqrt(q), bump(0.5 / np.sqrt(q), 1e-4, (0,)), "the edge entry × (1 + 1e-4)"))
    r = np.array([1e-6, 2.0, 0.5])
    add(Case("Σ math.log x at 1e-6 (raises below 0)", "domain edge", sum_math_log, r, 1 / r,
             bump(1 / r, 1e-4, (0,)), "the edge entry × (1 + 1e-4)", complex_step=False))
    s = np.array([1 - 1e-9, 0.2])
    # d/dx arcsin x = 1/√(1 − x²), with 1 − x² = (1 − x)(1 + x) formed exactly
    g_as = 1 / np.sqrt((1 - s) * (1 + s))
    add(Case("Σ arcsin x at 1 − 1e-9 (NaN above 1)", "domain edge", lambda v: np.sum(np.arcsin(v)), s, g_as,
             bump(g_as, 1e-3, (0,)), "the edge entry × (1 + 1e-3) (f‴ ≈ 1.7e22 there: central differences "
             "resolve ≈ 5e-5 at their best step)"))
    t = np.array([-1 + 1e-7, 0.5])
    add(Case("Σ log1p x at −1 + 1e-7 (NaN below −1)", "domain edge", lambda v: np.sum(np.log1p(v)), t,
             1 / (1 + t), bump(1 / (1 + t), 1e-4, (0,)), "the edge entry × (1 + 1e-4)"))

    # 5. Jumps: no derivative exists at the jump; the "right" claim is autodiff's a.e. value 0.
    xj = np.array([0.0, 0.4, -0.3])
    wj = np.array([1.0, 2.0, 3.0])
    jump = "f jumps at x[0]: there is no derivative to check"
    add(Case("Heaviside Σ w·(x > 0) at 0", "jump", lambda v: np.sum(wj * (v > 0)), xj, np.zeros(3),
             put(np.zeros(3), (0,), 1e6), "10⁶ at the jump (issue 11's example)", undecided=jump,
             no_derivative=True, complex_step=False))
    add(Case("ReLU″ at 0 (Jacobian of ReLU′)", "jump", lambda v: (v > 0).astype(float), xj, np.zeros((3, 3)),
             put(np.zeros((3, 3)), (0, 0), 1e3), "1e3 at the jump", undecided=jump, no_derivative=True,
             complex_step=False, jacobian=True))
    add(Case("ReLU″ at 0, an error off the jump", "jump", lambda v: (v > 0).astype(float), xj,
             np.zeros((3, 3)), put(np.zeros((3, 3)), (1, 1), 1.0), "1 at [1, 1] (x = 0.4, true 0)",
             undecided=jump, no_derivative=True, wrong_decidable=True, complex_step=False, jacobian=True))
    xf = np.array([2.0, 0.5])
    add(Case("Σ floor x at an integer", "jump", lambda v: np.sum(np.floor(v)), xf, np.zeros(2),
             put(np.zeros(2), (0,), 1.0), "1 at the jump (the slope floor follows on average)",
             undecided="f jumps at x[0] = 2", no_derivative=True, complex_step=False))
    xn = np.array([1e-9, 0.5])
    add(Case("Heaviside 1e-9 from its jump", "jump", lambda v: np.sum(v > 0).astype(float), xn, np.zeros(2),
             put(np.zeros(2), (0,), 1.0), "1 at x[0] (f is flat within 1e-9 of x: the derivative is 0)",
             complex_step=False))

    # 6. Kinks at and near x: a claim between the one-sided slopes is valid at the kink.
    wk = np.array([1.5, -2.0, 0.5])
    xk = np.array([0.0, 0.7, -1.2])
    relu_sum = lambda v: np.sum(wk * relu(v))  # noqa: E731
    add(Case("ReLU at 0, claim 1 (the seed's ReLU′(0))", "kink", relu_sum, xk, wk * (xk >= 0),
             put(wk * (xk >= 0), (0,), 3.0), "x[0]: 2·w₀ = 3, outside the slopes [0, 1.5]",
             complex_step=False))
    add(Case("ReLU at 0, claim 0 (TensorFlow's)", "kink", relu_sum, xk, wk * (xk > 0),
             put(wk * (xk > 0), (0,), -0.75), "x[0]: −w₀/2 = −0.75, below both slopes", complex_step=False))
    xk9 = np.array([1e-9, 0.7, -1.2])
    add(Case("ReLU at 1e-9, claim 0", "kink", relu_sum, xk9, wk * (xk9 > 0), put(wk * (xk9 > 0), (0,), 0.0),
             "x[0]: 0 (the inactive side; f is linear within 1e-9) (issue 11's example)", complex_step=False))
    xa = np.array([0.0, 0.3, -2.0])
    abs_sum = lambda v: np.sum(wk * np.abs(v))  # noqa: E731
    add(Case("|x| at 0", "kink", abs_sum, xa, wk * np.sign(xa), put(wk * np.sign(xa), (0,), 2.25),
             "x[0]: 1.5·w₀, outside the slopes ±w₀", complex_step=False))
    xa9 = np.array([-1e-9, 0.3, -2.0])
    add(Case("|x| at −1e-9", "kink", abs_sum, xa9, wk * np.sign(xa9), put(wk * np.sign(xa9), (0,), 1.5),
             "x[0]: +w₀ (the other side's slope)", complex_step=False))
    xm = np.array([1.0, 1.0 + 1e-9])
    add(Case("3·max(x₀, x₁), x₁ − x₀ = 1e-9", "kink", lambda v: 3 * np.max(v), xm, np.array([0.0, 3.0]),
             np.array([1.5, 1.5]), "the tie's average (1.5, 1.5); f is differentiable at x",
             complex_step=False))
    xl = np.array([0.0, 1.0, -1.0])
    add(Case("LeakyReLU (0.01) at 0", "kink", lambda v: np.sum(np.where(v >= 0, v, 0.01 * v)), xl,
             np.array([1.0, 1.0, 0.01]), np.array([1.5, 1.0, 0.01]), "x[0]: 1.5, outside [0.01, 1]",
             complex_step=False))
    xz = np.array([0.0, 0.0, 0.0, 0.8, -0.6])
    wz = rng.normal(size=5)
    add(Case("Σ w·relu(x), three entries at 0", "kink", lambda v: np.sum(wz * relu(v)), xz, wz * (xz >= 0),
             put(wz * (xz >= 0), (1,), 2 * wz[1]), "x[1]: 2·w₁, outside its slopes [0, w₁] (f is separable)",
             complex_step=False))
    xr = np.array([1e-7, -3e-7, 2e-6, -1e-5, 0.5, -0.5, 4e-8, 1.0])
    wr = rng.normal(size=8)
    add(Case("8 ReLUs 4e-8…1e-5 from their kinks", "kink", lambda v: np.sum(wr * relu(v)), xr, wr * (xr > 0),
             put(wr * (xr > 0), (1,), wr[1]), "x[1] = −3e-7 claimed active (w₁ instead of 0)",
             complex_step=False))

    # 6. Ties: several kinks in one output. A valid claim is a limit of gradients near x.
    tie = "a tie: f has no derivative at x, and several limiting gradients"
    add(Case("−2·max(x₀, x₁) + max(x₁, x₂) at (1, 1, 1)", "tie",
             lambda v: -2 * max(v[0], v[1]) + max(v[1], v[2]), np.ones(3), np.array([-2.0, 1.0, 0.0]),
             np.array([-2.0, 0.0, 0.0]), "(−2, 0, 0): entries sum to −2, every limiting gradient to −1",
             undecided=tie, complex_step=False))
    xp = rng.normal(size=(4, 4))
    xp[:2, :2] = 0.5                               # a pool of four equal values
    xp[0, 2] = xp[1, 3] = xp[:2, 2:].max() + 1     # a pool with two equal maxima
    wp = rng.normal(size=(2, 2))

    def maxpool(v):
        return np.sum(wp * v.reshape(2, 2, 2, 2).max(axis=(1, 3)))

    g_first, g_all = np.zeros((4, 4)), np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            block = xp[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            hits = np.argwhere(block == block.max())
            g_first[2 * i + hits[0][0], 2 * j + hits[0][1]] = wp[i, j]     # first maximum (argmax)
            for a_, b_ in hits:
                g_all[2 * i + a_, 2 * j + b_] = wp[i, j]
    add(Case("2×2 max-pooling over equal entries", "tie", maxpool, xp, g_first, g_all,
             "every tied entry gets the pool's weight (4× and 2× the total)", undecided=tie,
             complex_step=False))
    add(Case("2·max x over three equal values", "tie", lambda v: 2 * np.max(v), np.array([2.0, 2, 2, -1]),
             np.array([2.0, 0, 0, 0]), np.array([2.0, 2, 2, 0]), "(2, 2, 2, 0): each tied entry gets 2",
             undecided=tie, complex_step=False))
    add(Case("relu(t) − relu(−t) at 0 (= t)", "tie", lambda v: np.sum(relu(v) - relu(-v)), np.zeros(1),
             np.ones(1), np.array([2.0]), "2 (the chain rule with ReLU′(0) = 1 on both ReLUs); f = t",
             complex_step=False))
    add(Case("relu(a + b) + relu(a − b) at (0, 0)", "tie", lambda v: relu(v[0] + v[1]) + relu(v[0] - v[1]),
             np.zeros(2), np.array([2.0, 0.0]), np.array([2.0, 2.0]),
             "(2, 2), outside the hull of the pieces (2, 0), (1, ±1), (0, 0)", undecided=tie,
             complex_step=False))
    xq = rng.uniform(-2, 2, 64)
    xq[:8] = np.array([1, -1, 1, -1, 1, 1, -1, -1.0])          # eight entries on the clip bounds
    vq = rng.normal(size=64)
    g_clip = vq * (np.abs(xq) < 1)                              # 0 on the bounds: the outer slope
    inside = int(np.flatnonzero(np.abs(xq) < 1)[0])
    add(Case("Σ v·clip(x, −1, 1), 8 entries on the bounds", "tie",
             lambda u: np.sum(vq * np.clip(u, -1, 1)), xq, g_clip,
             put(g_clip, (inside,), g_clip[inside] + 0.5),
             f"an inside entry (x[{inside}]) + 0.5", complex_step=False))

    # 7. The complex step on an f that is not complex-analytic; central can judge it.
    not_analytic = "f is not complex-analytic: the complex step cannot judge it (central can)"
    xa6 = np.where(np.abs(x6) < 0.1, 0.5, x6)
    wa = rng.normal(size=6)
    add(Case("Σ w·|x| away from 0 (np.abs)", "not complex-analytic", lambda v: np.sum(wa * np.abs(v)), xa6,
             wa * np.sign(xa6), bump(wa * np.sign(xa6), 1e-3), "largest entry × (1 + 1e-3)",
             undecided=not_analytic, undecided_in=("complex",)))
    add(Case("Σ w·(Re x)² (np.real)", "not complex-analytic", lambda v: np.sum(wa * np.real(v) ** 2), x6,
             2 * wa * x6, bump(2 * wa * x6, 1e-3), "largest entry × (1 + 1e-3)", undecided=not_analytic,
             undecided_in=("complex",)))
    xb = rng.normal(size=8) * 2
    wb = rng.normal(size=8)

    def batchnorm(v):
        d = v - np.mean(v)
        return np.sum(wb * d / np.sqrt(np.var(v) + 1e-5))

    d = xb - xb.mean()
    sb = np.sqrt(np.mean(d**2) + 1e-5)
    # y = d/s, s = √(var + ε): ∂Σw·y/∂x_k = (w_k − mean w)/s − d_k·Σ(w·d)/(n·s³)
    g_bn = (wb - wb.mean()) / sb - d * np.sum(wb * d) / (8 * sb**3)
    add(Case("batch norm Σ w·(x − μ)/√(var + 1e-5) (np.var)", "not complex-analytic", batchnorm, xb, g_bn,
             bump(g_bn, 1e-3), "largest entry × (1 + 1e-3)", undecided=not_analytic,
             undecided_in=("complex",)))
    add(Case("Re Σ w·x·conj(x) (np.conj)", "not complex-analytic",
             lambda v: np.real(np.sum(wa * v * np.conj(v))), x6, 2 * wa * x6, bump(2 * wa * x6, 1e-3),
             "largest entry × (1 + 1e-3)", undecided=not_analytic, undecided_in=("complex",)))

    # 7. Ill-conditioned f: the rounding of x/1e-3 is amplified 1e3 times.
    g_ill = np.cos(x6 / 1e-3) / 1e-3
    add(Case("Σ sin(x/1e-3)", "ill-conditioned", lambda v: np.sum(np.sin(v / 1e-3)), x6, g_ill,
             bump(g_ill, 1e-6), "largest entry × (1 + 1e-6)"))
    xi = 100 + rng.normal(size=6)
    g_ill2 = 1e3 * np.cos(1e3 * xi)
    add(Case("Σ sin(1e3·x) at x ≈ 100", "ill-conditioned", lambda v: np.sum(np.sin(1e3 * v)), xi, g_ill2,
             bump(g_ill2, 1e-5), "largest entry × (1 + 1e-5) (the argument ≈ 1e5 carries rounding 1e-11: "
             "central differences resolve ≈ 2.5e-7 at their best step)"))

    # 8. Noise: f's value carries relative noise, fresh at every call.
    noise12 = lambda s: noisy(sin_exp, 1e-12, s)  # noqa: E731
    noise8 = lambda s: noisy(sin_exp, 1e-8, s)  # noqa: E731
    add(Case("Σ sin x·e^{x/3}, relative noise 1e-12", "noise", noise12(0), x6,
             sin_exp_grad(x6), bump(sin_exp_grad(x6), 1e-4), "largest entry × (1 + 1e-4)", make_f=noise12))
    x256 = rng.normal(size=256)
    add(Case("Σ sin x·e^{x/3}, 256 entries, noise 1e-12", "noise", noise12(0), x256,
             sin_exp_grad(x256), bump(sin_exp_grad(x256), 1e-3), "largest entry × (1 + 1e-3)",
             make_f=noise12))
    add(Case("Σ sin x·e^{x/3}, relative noise 1e-8", "noise", noise8(0), x6,
             sin_exp_grad(x6), bump(sin_exp_grad(x6), 1e-2),
             "largest entry × 1.01 (noise 1e-8 resolves ≈ 1e-8^(2/3) ≈ 5e-6)", make_f=noise8))

    # 9. f that modifies its input: the checker must say so, and leave the caller's x alone.
    add(Case("f subtracts the mean from its input in place", "f modifies its input", normalise_in_place, x6,
             2 * (x6 - x6.mean()), bump(2 * (x6 - x6.mean()), 1e-3), "largest entry × (1 + 1e-3)",
             expect_error="modified its input"))

    # 11. Bisection: three equal errors in one gradient, every one to be localised.
    f_big, W_big, g_big = sigmoid_layer(784, 256, 64, 0)
    delta = 1e-2 * float(np.max(np.abs(g_big)))
    for s in range(3):
        g_bad, idx = three_equal_errors(g_big, delta, s)
        add(Case(f"784×256 sigmoid layer, 3 equal errors (seed {s})", "bisection", f_big, W_big, g_big, g_bad,
                 f"3 entries + 1e-2·max|g| each ({delta:.1e}), all to be localised", full=False,
                 directional=True, planted=idx))
    f_s, W_s, g_s = sigmoid_layer(64, 32, 16, 1)
    g_bad, idx = three_equal_errors(g_s, 1e-2 * float(np.max(np.abs(g_s))), 3)
    add(Case("64×32 sigmoid layer, 3 equal errors", "bisection", f_s, W_s, g_s, g_bad,
             "3 entries + 1e-2·max|g| each, all to be localised", planted=idx))
    return out


# ---- backprop_ref's side -----------------------------------------------------------------------

@dataclass
class Cell:
    verdict: str            # "pass", "fail", "inconclusive", "error", "—" (not run), "not installed"
    ok: bool | None = None  # None: not counted
    miss: str = ""          # "false alarm", "false pass", "unjustified inconclusive", ...
    reason: str = ""


def score(case: Case, twin: str, checker: str, verdict: str, error: str = "") -> Cell:
    """The outcome of one checker on one claim, by the rules in the module docstring."""
    if case.expect_error:
        if verdict == "error" and case.expect_error in error:
            return Cell("error", True, reason=error)
        return Cell(verdict, False, "no error for a mutating f", error)
    undecided_ok = bool(case.undecided) and checker in case.undecided_in and not (
        twin == "wrong" and case.wrong_decidable)
    if verdict == "error":
        # a rejection; on a right claim acceptable only where an inconclusive verdict would be (a refusal)
        if twin == "right" and undecided_ok:
            return Cell("refused", True, reason=error)
        ok = twin == "wrong"
        return Cell("error", ok, "" if ok else "false alarm (error)", error)
    if verdict == "inconclusive":
        return Cell(verdict, undecided_ok, "" if undecided_ok else "unjustified inconclusive")
    if verdict == "pass":
        if twin == "wrong" or case.no_derivative:
            return Cell(verdict, False, "false pass")
        return Cell(verdict, True)
    if twin == "right" and not case.no_derivative:
        return Cell(verdict, False, "false alarm")
    return Cell(verdict, True)


def combine(cells: list[Cell]) -> Cell:
    """One cell for a noisy f judged once per noise seed: a miss if any judgement missed."""
    if len(cells) == 1:
        return cells[0]
    counts = Counter(c.verdict for c in cells)
    worst_first = ("false pass", "false alarm", "false alarm (error)")
    bad = sorted((c for c in cells if c.ok is False),
                 key=lambda c: worst_first.index(c.miss) if c.miss in worst_first else len(worst_first))
    head = bad[0] if bad else cells[0]
    mixed = ", ".join(f"{v} {n}/{len(cells)}" for v, n in counts.items())
    verdict = head.verdict if len(counts) == 1 else mixed
    return Cell(verdict, None if head.ok is None else not bad, head.miss, head.reason)


def run_ours(case: Case, cell: str, twin: str) -> Cell:
    return combine([judge_ours(case, f, cell, twin) for f in case.functions()])


def judge_ours(case: Case, f: Callable[[Any], Any], cell: str, twin: str) -> Cell:
    from backprop_ref import check_grad, check_jacobian

    claim = (case.right if twin == "right" else case.wrong).copy()
    x = case.x.copy()
    x_before, claim_before = x.copy(), claim.copy()
    kw: dict[str, Any] = dict(case.kwargs)
    if cell == "directional":
        kw.update(directions=K_DIRECTIONS, seed=0)
    else:
        kw["method"] = cell
    fn = check_jacobian if case.jacobian else check_grad
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn(f, x, claim, **kw)
    except Exception as exc:
        out = score(case, twin, cell, "error", f"{type(exc).__name__}: {exc}")
        if not np.array_equal(x, x_before):
            out.ok, out.miss = False, "changed the caller's x"
        return out
    out = score(case, twin, cell, r.verdict)
    out.reason = r.reason
    err = float(np.max(np.abs(np.asarray(case.wrong, float) - np.asarray(case.right, float))))
    if (cell == "directional" and twin == "wrong" and r.verdict in ("pass", "inconclusive")
            and err < r.detectable_error):
        out = Cell(f"{r.verdict}, below its stated resolution", True, reason=(
            f"the twin's error ({err:.2g} in one entry) lies below the resolution the report states "
            f"({r.detectable_error:.3g} in any one entry): {r.reason or 'passed'}"))
    report = str(r)
    if not np.array_equal(x, x_before) or not np.array_equal(claim, claim_before):
        out.ok, out.miss = False, "changed the caller's arrays"
    elif r.verdict == "pass" and "WRONG" in report:
        out.ok, out.miss = False, "report contradicts its verdict"
    elif cell == "directional" and twin == "wrong" and case.planted and r.verdict == "fail":
        found = sum(tuple(i) in {tuple(t) for t in r.localised} for i in case.planted)
        out.verdict = f"fail ({found}/{len(case.planted)} found)"
        if found < len(case.planted):
            out.ok, out.miss = False, f"bisection localised {found} of {len(case.planted)}"
    return out


# ---- the peers ---------------------------------------------------------------------------------

def run_scipy(case: Case, twin: str) -> Cell:
    return combine([judge_scipy(case, f, twin) for f in case.functions()])


def judge_scipy(case: Case, f: Callable[[Any], Any], twin: str) -> Cell:
    if case.jacobian or not case.full:
        return Cell("—", reason="scalar f only" if case.jacobian else f"{case.x.size + 1:,} evaluations of f")
    try:
        import scipy.optimize
    except ImportError:
        return Cell("not installed")
    claim = np.asarray(case.right if twin == "right" else case.wrong, dtype=float)
    shape = case.x.shape
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            err = scipy.optimize.check_grad(lambda v: float(np.real(f(v.reshape(shape)))),
                                            lambda v: claim.ravel(), case.x.ravel().copy())
    except Exception as exc:
        return score(case, twin, "scipy", "error", f"{type(exc).__name__}: {exc}")
    passed = bool(err <= SCIPY_RTOL * np.linalg.norm(claim))
    out = score(case, twin, "scipy", "pass" if passed else "fail")
    out.reason = f"‖g − ĝ‖₂ = {err:.2g}"
    return out


def run_torch(python: str, only: str) -> dict[str, Any]:
    """The peers' verdicts from adversarial_peers.py in the peers' venv: {case name: [right, wrong]}."""
    if not Path(python).exists():
        return {"error": "not installed"}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        proc = subprocess.run([python, str(HERE / "adversarial_peers.py"), "--only", only],
                              capture_output=True, text=True, timeout=1800, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- the report --------------------------------------------------------------------------------

CHECKERS = CELLS + ("torch", "scipy")
HEADERS = {"central": "ours central", "complex": "ours complex", "directional": f"ours k = {K_DIRECTIONS}",
           "torch": "torch gradcheck", "scipy": "scipy check_grad"}
SHORT = {"pass": "pass", "fail": "fail", "inconclusive": "inconcl.", "error": "error", "refused": "refused"}


def fmt(c: Cell) -> str:
    first, _, rest = c.verdict.partition(" ")
    text = SHORT[first] + (" " + rest if rest else "") if first in SHORT else c.verdict
    return f"**{text} ✗**" if c.ok is False else text


def evaluate(all_cases: list[Case], torch_out: dict[str, Any]) -> dict[str, dict[str, tuple[Cell, Cell]]]:
    results: dict[str, dict[str, tuple[Cell, Cell]]] = {}
    times: Counter[str] = Counter()
    for case in all_cases:
        row: dict[str, tuple[Cell, Cell]] = {}
        for cell in CELLS:
            t0 = time.perf_counter()
            row[cell] = ((run_ours(case, cell, "right"), run_ours(case, cell, "wrong")) if case.runs(cell)
                         else (Cell("—"), Cell("—")))
            times[cell] += time.perf_counter() - t0
        t0 = time.perf_counter()
        row["scipy"] = (run_scipy(case, "right"), run_scipy(case, "wrong"))
        times["scipy"] += time.perf_counter() - t0
        if "error" in torch_out:
            row["torch"] = (Cell("not installed" if torch_out["error"] == "not installed" else "error"),) * 2
        else:
            pair = torch_out["cases"].get(case.name, [[{"verdict": "—"}]] * 2)
            row["torch"] = tuple(combine([
                score(case, twin, "torch", v["verdict"], v.get("error", "")) if v["verdict"] in
                ("pass", "fail", "error") else Cell(v["verdict"], reason=v.get("error", "")) for v in runs])
                for twin, runs in zip(("right", "wrong"), pair))  # type: ignore[assignment]
        results[case.name] = row
        print(f"  {case.name}: " + "  ".join(f"{k} {fmt(a)}/{fmt(b)}" for k, (a, b) in row.items()),
              file=sys.stderr)
    results["_times"] = times  # type: ignore[assignment]
    return results


def totals(all_cases: list[Case], results: dict[str, Any]) -> str:
    rows = ["| checker | claims judged | correct | false alarms | false passes "
            "| inconclusive, refused or below a stated resolution: acceptable "
            "| inconclusive, unjustified | other misses | not run |", "| --- |" + " --- |" * 8]
    for ch in CHECKERS:
        counted = [c for case in all_cases for c in results[case.name][ch]]
        judged = [c for c in counted if c.ok is not None]
        misses = Counter(c.miss for c in judged if c.ok is False)
        ok_inc = sum(c.ok is True and (c.verdict in ("inconclusive", "refused")
                                       or c.verdict.endswith("below its stated resolution")) for c in judged)
        alarms = misses["false alarm"] + misses["false alarm (error)"]
        other = sum(misses.values()) - alarms - misses["false pass"] - misses["unjustified inconclusive"]
        rows.append(f"| {HEADERS[ch]} | {len(judged)} | {sum(c.ok is True for c in judged)} | {alarms} | "
                    f"{misses['false pass']} | {ok_inc} | {misses['unjustified inconclusive']} | {other} | "
                    f"{len(counted) - len(judged)} |")
    return "\n".join(rows)


def table(all_cases: list[Case], results: dict[str, Any]) -> str:
    rows = ["| # | case | class | wrong twin | inconclusive acceptable | "
            + " | ".join(HEADERS[c] for c in CHECKERS) + " |", "| --- |" + " --- |" * (4 + len(CHECKERS))]
    for n, case in enumerate(all_cases, 1):
        if case.expect_error:
            inc = f"no: expects an error ('{case.expect_error}')"
        elif not case.undecided:
            inc = "no"
        else:
            where = "" if set(case.undecided_in) >= set(CHECKERS) else f" ({', '.join(case.undecided_in)})"
            inc = f"yes{where}: {case.undecided}" + ("; not for the twin" if case.wrong_decidable else "")
        if case.no_derivative:
            inc += "; no derivative: a pass is a false pass"
        cells = " | ".join(f"{fmt(a)} / {fmt(b)}" for a, b in (results[case.name][c] for c in CHECKERS))
        rows.append(f"| {n} | {case.name} | {case.cls} | {case.what} | {inc} | {cells} |")
    return "\n".join(rows)


def details(all_cases: list[Case], results: dict[str, Any]) -> str:
    lines = []
    for n, case in enumerate(all_cases, 1):
        for ch in CHECKERS:
            for twin, c in zip(("right", "wrong"), results[case.name][ch]):
                if c.ok is False or (ch in CELLS and (c.verdict in ("inconclusive", "refused")
                                                      or c.verdict.endswith("below its stated resolution"))):
                    tag = f"MISS ({c.miss})" if c.ok is False else "acceptable"
                    reason = " ".join(c.reason.split())
                    reason = reason if len(reason) <= 300 else reason[:297] + "…"
                    lines.append(f"- #{n} {case.name}, {HEADERS[ch]}, {twin} claim: {c.verdict}, {tag}. "
                                 f"{reason}")
    return "\n".join(lines) if lines else "(none)"


def _provenance() -> str:
    """Which backprop_ref was measured: its commit, and whether its tree differs from that commit."""
    import backprop_ref

    root = Path(backprop_ref.__file__).resolve().parent.parent

    def git(*cmd: str) -> str:
        try:
            out = subprocess.run(["git", *cmd], capture_output=True, text=True, cwd=root, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "backprop_ref")
    return f"commit {commit}" + (" plus uncommitted changes to backprop_ref/" if dirty else
                                 " (backprop_ref/ as committed)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", type=Path)
    ap.add_argument("--peers-python", default="/work/venv-peers/bin/python")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    args = ap.parse_args()
    t0 = time.time()
    all_cases = [c for c in cases() if args.only in c.name]
    torch_out = run_torch(args.peers_python, args.only)
    t_torch = time.time() - t0
    results = evaluate(all_cases, torch_out)
    times = results.pop("_times")
    times["torch"] = t_torch
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = "not installed"
    torch_version = torch_out.get("torch", torch_out.get("error", "?"))
    classes = list(dict.fromkeys(c.cls for c in all_cases))
    text = "\n".join([
        "# Adversarial cases for the gradient checker (issue 11)",
        "",
        "Regenerate: `OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
        "python benchmarks/adversarial.py --write benchmarks/ADVERSARIAL.md`",
        "",
        f"Run {time.strftime('%Y-%m-%d')} at {_provenance()}; numpy {np.__version__}, "
        f"scipy {scipy_version}, "
        f"torch {torch_version}; {len(all_cases)} cases in {len(classes)} classes ({', '.join(classes)}), "
        "each a right claim and a wrong twin on the same f and x.",
        "",
        "Each cell reads *right claim / wrong twin*. Correct: pass / fail. A **bold ✗** is a miss: a fail "
        "on a right claim (false alarm), a pass on a wrong one (false pass), an inconclusive where the case "
        "does not say why no finite difference could decide, an error where none was due (an error naming "
        "why counts as an inconclusive: the complex step refusing an f that drops the imaginary part). "
        "Where f has no derivative "
        "(a jump) the right claim is autodiff's value there and a pass on it is a false pass. — : not run "
        "(complex: f rejects complex input or the case is only directional; directional: x has fewer than "
        f"{DIRECTIONAL_FROM} entries; full modes and scipy on 200,704 entries). Ours: `check_grad` / "
        f"`check_jacobian` at their defaults, directional with `directions={K_DIRECTIONS}, seed=0`. "
        "torch: `torch.autograd.gradcheck` at its defaults (eps 1e-6, atol 1e-5, rtol 1e-3) on float64 "
        "tensors, the NumPy f inside a `torch.autograd.Function` whose backward returns the claim; "
        f"`fast_mode=True` above {TORCH_FULL_MAX} entries. scipy: `scipy.optimize.check_grad` (forward "
        f"differences, step 1.49e-8) passes when ‖g − ĝ‖₂ ≤ {SCIPY_RTOL:g}·‖g‖₂. Every one of our results "
        "is also a miss if its report contradicts its verdict (a pass beside a Taylor test saying the "
        "gradient is WRONG), if the check changed the caller's x or claim, or if a directional failure "
        "does not localise every planted entry (bisection).",
        "",
        "## Totals",
        "",
        totals(all_cases, results),
        "",
        "## Cases",
        "",
        table(all_cases, results),
        "",
        "## backprop_ref's inconclusive verdicts and every miss, with the reason the checker gave",
        "",
        details(all_cases, results),
        "",
        "Time: " + ", ".join(f"{HEADERS[k]} {times[k]:.0f} s" for k in CHECKERS)
        + f"; total {time.time() - t0:.0f} s on {os.cpu_count()} cores, BLAS held to one thread.",
        "",
    ])
    print(text)
    if args.write:
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
