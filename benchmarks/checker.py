"""Measure the gradient checker (issue 4, "Measured, not claimed"): sensitivity, false alarms, cost.

Regenerate benchmarks/RESULTS.md with:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        /work/venv/bin/python benchmarks/checker.py --write benchmarks/RESULTS.md

Options: --overhead (only the directional check's time ÷ its evaluations of f), --quick (1,000
false-alarm checks per method instead of 10,000), --catalogue (draw the false-alarm problems from
backprop_ref.catalogue as well), --peers-python PATH (a Python with torch and jax for their columns;
default /work/venv-peers/bin/python when it exists).

Problems are written inline (smooth, saturated and kinked functions, an MLP loss) so the benchmark
stands without the formulas; `catalogue_problems` plugs the catalogue in (see its docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backprop_ref.gradcheck import check_grad, check_jacobian

METHODS = ("central", "richardson", "complex")
DELTAS = [10.0 ** -k for k in np.arange(2, 14.5, 0.5)]
HERE = Path(__file__).resolve().parent


@dataclass
class Problem:
    """One check: scalar (or vector, jacobian=True) f at x and its correct derivative."""

    label: str
    f: Callable[[Any], Any]
    x: np.ndarray
    claimed: np.ndarray
    jacobian: bool = False
    smooth: bool = True     # complex step applies


# ---- inline problems: functions that accept complex input, with their derivatives --------------

def _sigmoid(v):
    s = np.where(np.real(v) >= 0, 1.0, -1.0)
    e = np.exp(-s * v)
    return np.where(s > 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_grad(v):
    e = np.exp(-np.abs(v))
    return e / (1.0 + e) ** 2


def _lse(v):
    m = np.max(np.real(v))
    return m + np.log(np.sum(np.exp(v - m)))


def _softmax(v):
    e = np.exp(v - np.max(np.real(v)))
    return e / np.sum(e)


def _cross_entropy(y: np.ndarray) -> Callable[[Any], Any]:
    return lambda v: -np.sum(y * (v - _lse(v)))


def _mse(t: np.ndarray) -> Callable[[Any], Any]:
    return lambda v: 0.5 * np.sum((v - t) ** 2) / t.size


def _mlp(rng: np.random.Generator, scale: float = 1.0) -> Problem:
    X = rng.normal(size=(5, 3)) * scale
    T = rng.uniform(size=(5, 2))
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    sizes = [int(np.prod(s)) for s in shapes]
    theta = rng.normal(size=sum(sizes)) * 0.7

    def unpack(th):
        parts = np.split(th, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes)]

    def loss(th):
        W1, b1, W2, b2 = unpack(th)
        h = np.tanh(X @ W1 + b1)
        o = _sigmoid(h @ W2 + b2)
        return 0.5 * np.sum((o - T) ** 2) / X.shape[0]

    W1, b1, W2, b2 = unpack(theta)
    h = np.tanh(X @ W1 + b1)
    o = _sigmoid(h @ W2 + b2)
    d2 = (o - T) / X.shape[0] * o * (1 - o)
    d1 = (d2 @ W2.T) * (1 - h**2)
    g = np.concatenate([(X.T @ d1).ravel(), d1.sum(0), (h.T @ d2).ravel(), d2.sum(0)])
    return Problem("MLP 3-4-2 (tanh, sigmoid, MSE)", loss, theta, g)


def sensitivity_problems() -> list[Problem]:
    """Smooth float64 problems for the planted-error table."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=6)
    t = rng.uniform(size=6)
    z = rng.normal(size=6) * 2
    return [
        Problem("Σ sigmoid", lambda v: np.sum(_sigmoid(v)), x, _sigmoid_grad(x)),
        Problem("log-sum-exp (softmax)", _lse, z, _softmax(z)),
        Problem("MSE ½Σ(o − t)²/N", lambda v: 0.5 * np.sum((v - t) ** 2) / 6, x, (x - t) / 6),
        Problem("Σ sin(x)·e^{x/3}", lambda v: np.sum(np.sin(v) * np.exp(v / 3)), x,
                np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3),
        _mlp(rng),
    ]


def inline_problems(rng: np.random.Generator) -> Iterator[Problem]:
    """Correct gradients over full domains, saturated regimes included (false-alarm run)."""
    kinds = ["sigmoid", "sigmoid_saturated", "softmax", "softmax_spread", "lse", "mse", "large", "mlp",
             "mlp_wide", "relu", "abs", "softmax_jacobian", "tanh_jacobian"]
    while True:
        kind = kinds[int(rng.integers(len(kinds)))]
        n = int(rng.integers(1, 7))
        if kind == "sigmoid":
            x = rng.uniform(-10, 10, n)
            yield Problem(kind, lambda v: np.sum(_sigmoid(v)), x, _sigmoid_grad(x))
        elif kind == "sigmoid_saturated":
            x = rng.choice([-1.0, 1.0], n) * rng.uniform(25, 40, n)
            if rng.random() < 0.3:
                x = rng.choice([-1e4, -745.0, 745.0, 1e4], n)
            yield Problem(kind, lambda v: np.sum(_sigmoid(v)), x, _sigmoid_grad(x))
        elif kind in ("softmax", "softmax_spread"):
            z = rng.normal(size=n) * (3 if kind == "softmax" else 1.0)
            if kind == "softmax_spread":
                z = z + rng.choice([-1e4, 0.0, 1e4], n)   # logits spread 1e4
            y = rng.dirichlet(np.ones(n))
            f = _cross_entropy(y)
            yield Problem(kind, f, z, _softmax(z) * y.sum() - y)
        elif kind == "lse":
            z = rng.uniform(-50, 50, n)
            yield Problem(kind, _lse, z, _softmax(z))
        elif kind == "mse":
            o = rng.uniform(-1e4, 1e4, n) if rng.random() < 0.3 else rng.normal(size=n)
            t = rng.normal(size=n)
            f = _mse(t)
            yield Problem(kind, f, o, (o - t) / n)
        elif kind == "large":
            x = rng.uniform(-1e5, 1e5, n)
            g = np.cos(x / 1e4) * x / 1e4 + np.sin(x / 1e4)
            yield Problem(kind, lambda v: np.sum(np.sin(v / 1e4) * v), x, g)
        elif kind in ("mlp", "mlp_wide"):
            yield _mlp(rng, 1.0 if kind == "mlp" else 5.0)
        elif kind == "relu":
            x = rng.normal(size=n)
            x[rng.random(n) < 0.3] = 0.0           # exactly on the kink
            near = rng.random(n) < 0.2
            x[near] = rng.uniform(-2e-5, 2e-5, int(near.sum()))   # within a step of it
            g = (x >= 0).astype(float)
            yield Problem(kind, lambda v: float(np.sum(np.maximum(v, 0.0))), x, g, smooth=False)
        elif kind == "abs":
            x = rng.normal(size=n)
            x[rng.random(n) < 0.3] = 0.0
            yield Problem(kind, lambda v: float(np.sum(np.abs(v))), x, np.sign(x), smooth=False)
        elif kind == "softmax_jacobian":
            z = rng.normal(size=n) * 5
            p = _softmax(z)
            yield Problem(kind, _softmax, z, np.diag(p) - np.outer(p, p), jacobian=True)
        else:
            x = rng.normal(size=n) * 3
            yield Problem(kind, np.tanh, x, np.diag(1 - np.tanh(x) ** 2), jacobian=True)


def catalogue_problems(rng: np.random.Generator) -> Iterator[Problem]:
    """The catalogue hook: problems drawn from every record of backprop_ref.catalogue.

    Needs from the catalogue: `CATALOGUE` (records with `.name`, `.smooth`, `.domain.sample(rng)`
    returning a case over the record's full domain) and `check_tasks(record, case)` returning objects
    with `.label`, `.f`, `.x`, `.claimed` (correct derivative) and `.jacobian`. Records are drawn in
    turn; a case whose forward raises (a domain edge within a step) is skipped and counted by the caller.
    """
    from backprop_ref.catalogue import CATALOGUE, check_tasks

    while True:
        for record in CATALOGUE:
            case = record.domain.sample(rng)
            for p in check_tasks(record, case):
                if isinstance(p.x, dict):   # a backward pass over several arguments (check_vjp): not
                    continue                # a Problem's one array
                yield Problem(f"{record.name} {p.label}", p.f, np.asarray(p.x, float), np.asarray(p.claimed),
                              p.jacobian, record.smooth)


# ---- measurements ----------------------------------------------------------------------------

def _check(p: Problem, claimed: np.ndarray, method: str, **kw: Any):
    fn = check_jacobian if p.jacobian else check_grad
    return fn(p.f, p.x, claimed, method=method, **kw)


def smallest_detected(p: Problem, method: str, where: str) -> float | None:
    """Smallest δ on the grid such that it and every larger δ are detected (None: none detected)."""
    entry = int(np.argsort(np.abs(p.claimed))[len(p.claimed) // 2])   # a typical (median) entry
    found = None
    for d in DELTAS:
        g = p.claimed.copy()
        if where == "one":
            g[entry] *= 1 + d
        else:
            g = g * (1 + d)
        if _check(p, g, method).passed:
            break
        found = d
    return found


def sensitivity_table() -> str:
    rows = ["| problem | " + " | ".join(f"{m}: one entry | {m}: all entries" for m in METHODS) + " |",
            "| --- |" + " --- | --- |" * len(METHODS)]
    for p in sensitivity_problems():
        cells = []
        for m in METHODS:
            for where in ("one", "all"):
                d = smallest_detected(p, m, where)
                cells.append("none" if d is None else f"{d:.0e}")
        rows.append(f"| {p.label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def false_alarms(n_checks: int, use_catalogue: bool) -> str:
    # A false alarm is a correct gradient FAILED. An inconclusive verdict (an entry no finite
    # difference can judge: σ′ at 34 moves Σσ by less than its rounding) is counted on its own, with
    # the first few reasons: it neither passes nor fails the claim.
    rows = ["| source | method | mode | checks | false alarms | inconclusive | skipped (f raised) | "
            "kinks reported |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    sources = [("inline", inline_problems)]
    if use_catalogue:
        sources.append(("catalogue", catalogue_problems))
    examples: list[str] = []
    undecided: list[str] = []
    for name, gen in sources:
        for method in METHODS:
            for mode, kw in (("full", {}), ("directional k=8", {"directions": 8})):
                if mode != "full" and method == "richardson":
                    continue
                rng = np.random.default_rng(12345)
                it = gen(rng)
                done = alarms = skipped = kinks = inconclusive = 0
                while done < (n_checks if mode == "full" else n_checks // 5):
                    p = next(it)
                    if method == "complex" and not p.smooth:
                        continue
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            r = _check(p, p.claimed, method, seed=done, **kw)
                    except (ValueError, TypeError, FloatingPointError):
                        skipped += 1
                        continue
                    done += 1
                    kinks += len(r.kinks)
                    if r.verdict == "inconclusive":
                        inconclusive += 1
                        if len(undecided) < 4:
                            where = np.array2string(p.x, precision=4)
                            undecided.append(f"{name}/{method}/{mode}: {p.label} at x = {where}: "
                                             + r.inconclusive[0])
                    elif not r.passed:
                        alarms += 1
                        if len(examples) < 6:
                            where = np.array2string(p.x, precision=4)
                            examples.append(f"{name}/{method}/{mode}: {p.label} at x = {where}: "
                                            + str(r).splitlines()[0])
                rows.append(f"| {name} | {method} | {mode} | {done} | {alarms} | {inconclusive} | {skipped} "
                            f"| {kinks} |")
    out = "\n".join(rows)
    if undecided:
        out += "\n\nFirst inconclusive checks:\n\n" + "\n".join(f"- {e}" for e in undecided)
    if examples:
        out += "\n\nFirst false alarms:\n\n" + "\n".join(f"- {e}" for e in examples)
    return out


# ---- the dense layer: cost, scale error, peers -------------------------------------------------

def layer(n_out: int = 256, seed: int = 0):
    rng = np.random.default_rng(seed)
    N, n_in = 64, 784
    X = rng.normal(size=(N, n_in))
    W = rng.normal(0, np.sqrt(2 / (n_in + n_out)), (n_in, n_out))
    Y = rng.uniform(size=(N, n_out))

    def f(W):
        a = 1 / (1 + np.exp(-(X @ W)))
        return 0.5 * np.sum((a - Y) ** 2) / N

    def lg(W):
        a = 1 / (1 + np.exp(-(X @ W)))
        r = a - Y
        return 0.5 * np.sum(r**2) / N, X.T @ (r * a * (1 - a) / N)

    return X, W, Y, f, lg


def best_of(fn: Callable[[], Any], repeat: int = 15, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


def _bare_directional(f: Callable[[Any], Any], W: np.ndarray, g: np.ndarray,
                      k: int = 8) -> Callable[[], None]:
    """The same 2k + 3 evaluations of f with only the passes over n-vectors that NumPy needs to form
    each point (x ∓ c once; per direction its signs as 2c·b, ⟨g, 2c·b⟩, (x − c) + 2c·b and
    (x + c) − 2c·b; the own direction's ±t·g/‖g‖) and nothing else: no error model, no verdict."""
    x, G = W.ravel(), g.reshape(1, -1)
    n = x.size
    point, v, x_lo, x_hi = (np.empty(n) for _ in range(4))
    c = 2.0**-26

    def run() -> None:
        rng = np.random.default_rng(1)
        f(W)
        np.subtract(x, c, out=x_lo)
        np.add(x, c, out=x_hi)
        for _ in range(k):
            np.multiply(np.unpackbits(np.frombuffer(rng.bytes((n + 7) // 8), dtype=np.uint8), count=n),
                        2 * c, out=v)
            G @ v
            f(np.add(x_lo, v, out=point).reshape(W.shape))
            f(np.subtract(x_hi, v, out=point).reshape(W.shape))
        np.multiply(np.divide(G[0], np.linalg.norm(G[0]), out=v), c, out=v)
        f(np.add(x, v, out=point).reshape(W.shape))
        f(np.subtract(x, v, out=point).reshape(W.shape))
    return run


def directional_overhead(rounds: int = 40) -> dict[str, float]:
    """The directional check's wall time ÷ (its evaluations × one f), on the 784×256 layer, beside the
    same ratio for `_bare_directional` (the floor of forming the points with NumPy).

    Measured in one run, interleaved so that all three see the same load: each round times f three
    times, the check once and the bare loop once, after a warm-up of three of each; the ratio of the
    bests and the median of the per-round ratios are reported. 1 would be a checker that costs
    nothing beyond calling f.
    """
    _X, W, _Y, f, lg = layer()
    _, g = lg(W)
    r = check_grad(f, W, g, directions=8, seed=1)
    bare = _bare_directional(f, W, g)
    for _ in range(3):
        check_grad(f, W, g, directions=8, seed=1)
        bare()
    tf, tc, tb, per_round, per_round_bare = [], [], [], [], []
    for _ in range(rounds):
        fs = []
        for _ in range(3):
            t0 = time.perf_counter()
            f(W)
            fs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        check_grad(f, W, g, directions=8, seed=1)
        tc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare()
        tb.append(time.perf_counter() - t0)
        tf.append(min(fs))
        per_round.append(tc[-1] / (r.n_evals * tf[-1]))
        per_round_bare.append(tb[-1] / (r.n_evals * tf[-1]))
    return {"n_evals": r.n_evals, "f_ms": min(tf) * 1e3, "check_ms": min(tc) * 1e3,
            "ratio_best": min(tc) / (r.n_evals * min(tf)), "ratio_median": float(np.median(per_round)),
            "bare_ms": min(tb) * 1e3, "bare_ratio_best": min(tb) / (r.n_evals * min(tf)),
            "bare_ratio_median": float(np.median(per_round_bare))}


def cost_table(peers: dict[str, Any]) -> str:
    import scipy.optimize

    _X, W, _Y, f, lg = layer()
    _, g = lg(W)
    t_lg = best_of(lambda: lg(W), 40)
    t_f = best_of(lambda: f(W), 40)
    rows = ["| check on the 784×256 sigmoid layer (batch 64, MSE, ∂L/∂W) | best (ms) | median (ms) | "
            "÷ one loss-and-gradient (best) | f evaluations | how measured |",
            "| --- | --- | --- | --- | --- | --- |"]

    def row(name, t, evals, how):
        rows.append(f"| {name} | {t[0] * 1e3:.2f} | {t[1] * 1e3:.2f} | {t[0] / t_lg[0]:.1f}× | {evals} "
                    f"| {how} |")

    row("one loss-and-gradient evaluation", t_lg, "—", "measured")
    row("one loss evaluation f", t_f, 1, "measured")
    r = check_grad(f, W, g, directions=8, seed=1)
    t_dir = best_of(lambda: check_grad(f, W, g, directions=8, seed=1), 10)
    row("ours, directional k = 8 (central) + own direction", t_dir, r.n_evals, "measured")

    # O(n) checks: timed on a 784×4 slice of the same layer, scaled by the number of entries (×64)
    Xs, Ws, Ys, fs, lgs = layer(4)
    _, gs = lgs(Ws)
    scale = W.size / Ws.size
    full_t = best_of(lambda: check_grad(fs, Ws, gs), 1, 0)
    rf = check_grad(fs, Ws, gs)
    row("ours, full (central, every entry)", (full_t[0] * scale, full_t[1] * scale), rf.n_evals * int(scale),
        "784×4 slice × 64")
    sc = best_of(lambda: scipy.optimize.check_grad(lambda w: fs(w.reshape(Ws.shape)),
                                                   lambda w: lgs(w.reshape(Ws.shape))[1].ravel(),
                                                   Ws.ravel()), 1, 0)
    row("scipy.optimize.check_grad (forward differences)", (sc[0] * scale, sc[1] * scale),
        (Ws.size + 1) * int(scale), "784×4 slice × 64")
    tf_t = _tf_compute_gradient_time(Xs, Ws, Ys)
    if tf_t is not None:
        row("tf.test.compute_gradient", (tf_t[0] * scale, tf_t[1] * scale), 2 * W.size, "784×4 slice × 64")
    for name, res in peers.get("cost", {}).items():
        t = (res["best"], res["median"])
        if res.get("scaled"):
            t = (t[0] * scale, t[1] * scale)
        row(name, t, res["evals"], res["how"])
    ov = directional_overhead()
    return "\n".join(rows) + (f"\n\nf ÷ loss-and-gradient = {t_f[0] / t_lg[0]:.2f} (best of 40)."
                              f" Peers in their own framework are timed against that framework's own "
                              "loss-and-gradient where stated.\n\n"
                              f"Directional check ÷ its own evaluations of f (k = 8, {ov['n_evals']} "
                              f"evaluations; f and the check timed in turn, 40 rounds): "
                              f"{ov['ratio_best']:.2f}× (best {ov['check_ms']:.2f} ms against "
                              f"{ov['n_evals']} × {ov['f_ms']:.3f} ms), median of the rounds "
                              f"{ov['ratio_median']:.2f}×. The same evaluations with only the NumPy "
                              f"passes that form the points (no error model, no verdict): "
                              f"{ov['bare_ratio_best']:.2f}× (best {ov['bare_ms']:.2f} ms), median "
                              f"{ov['bare_ratio_median']:.2f}×.")


def _tf_compute_gradient_time(X, W, Y):
    try:
        import tensorflow as tf
    except ImportError:
        return None
    Xt, Yt = tf.constant(X, dtype=tf.float64), tf.constant(Y, dtype=tf.float64)

    def loss(w):
        a = tf.math.sigmoid(tf.matmul(Xt, w))
        return 0.5 * tf.reduce_sum((a - Yt) ** 2) / X.shape[0]

    w0 = tf.constant(W, dtype=tf.float64)
    return best_of(lambda: tf.test.compute_gradient(loss, [w0]), 1, 1)


def scale_error_table() -> str:
    _X, W, _Y, f, lg = layer()
    _, g = lg(W)
    seeds = range(20)
    rej = sum(not check_grad(f, W, g * (1 + 1e-5), directions=8, seed=s).passed for s in seeds)
    ok = sum(check_grad(f, W, g, directions=8, seed=s).passed for s in seeds)
    rand_only = 0
    for s in seeds:
        r = check_grad(f, W, g * (1 + 1e-5), directions=8, seed=s)
        ratio = np.abs(r.analytic - r.numerical) / r.tolerance
        rand_only += bool(np.any(ratio[:8] > 1))
    return ("| claim | seeds | rejected by k = 8 | of which the 8 random directions alone |\n"
            "| --- | --- | --- | --- |\n"
            f"| g·(1 + 1e-5) | {len(seeds)} | {rej} | {rand_only} |\n| g (correct) | {len(seeds)} | "
            f"{len(seeds) - ok} (false alarms) | — |")


# ---- peers' planted-error table -------------------------------------------------------------

def _peer_problem():
    """The peers' shared problem: Σ sin(x)·e^{x/3} at 6 points (written again in each framework)."""
    x = np.random.default_rng(1).normal(size=6)
    g = np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3
    return x, g


def peers_in_this_python() -> dict[str, dict[str, float | None]]:
    import scipy.optimize

    x, g = _peer_problem()
    f = lambda v: np.sum(np.sin(v) * np.exp(v / 3))  # noqa: E731
    entry = int(np.argsort(np.abs(g))[len(g) // 2])
    out: dict[str, dict[str, float | None]] = {}

    def scan(passes: Callable[[np.ndarray], bool]) -> dict[str, float | None]:
        res: dict[str, float | None] = {}
        for where in ("one", "all"):
            found = None
            for d in DELTAS:
                gg = g.copy()
                if where == "one":
                    gg[entry] *= 1 + d
                else:
                    gg = gg * (1 + d)
                if passes(gg):
                    break
                found = d
            res[where] = found
        return res

    # scipy returns ‖analytic − numerical‖₂; its docs' example compares it with a threshold: 1e-6 here
    out["scipy.optimize.check_grad (‖·‖ < 1e-6)"] = scan(
        lambda gg: scipy.optimize.check_grad(f, lambda v: gg, x) < 1e-6)
    try:
        import tensorflow as tf

        def tf_pass(gg):
            def fx(v):
                return tf.reduce_sum(tf.sin(v) * tf.exp(v / 3))
            _, num = tf.test.compute_gradient(fx, [tf.constant(x, dtype=tf.float64)])
            # tf.test.TestCase.assertAllClose defaults for float64: rtol = atol = 1e-6
            return bool(np.allclose(gg, num[0].ravel(), rtol=1e-6, atol=1e-6))
        out["tf.test.compute_gradient + assertAllClose (1e-6)"] = scan(tf_pass)
    except ImportError:
        pass
    return out


def run_peers_venv(python: str) -> dict[str, Any]:
    script = HERE / "peers.py"
    try:
        proc = subprocess.run([python, str(script)], capture_output=True, text=True, timeout=1800,
                              env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                   "MKL_NUM_THREADS": "1", "JAX_PLATFORMS": "cpu"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": str(exc)}
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peers_table(peers: dict[str, Any]) -> str:
    x, g = _peer_problem()
    p = Problem("Σ sin(x)·e^{x/3}", lambda v: np.sum(np.sin(v) * np.exp(v / 3)), x, g)
    rows = ["| checker (on Σ sin(x)·e^{x/3}, 6 entries, float64) | one entry wrong by δ: smallest δ caught | "
            "all entries: smallest δ caught |", "| --- | --- | --- |"]
    for m in METHODS:
        one, every = smallest_detected(p, m, "one"), smallest_detected(p, m, "all")
        rows.append(f"| ours, {m} | {_fmt(one)} | {_fmt(every)} |")
    entries = dict(peers_in_this_python())
    entries.update(peers.get("planted", {}))
    for name, res in entries.items():
        rows.append(f"| {name} | {_fmt(res.get('one'))} | {_fmt(res.get('all'))} |")
    return "\n".join(rows)


def _fmt(d: float | None) -> str:
    return "none ≥ 1e-2" if d is None else f"{d:.0e}"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=HERE, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--catalogue", action="store_true")
    ap.add_argument("--write", type=Path)
    ap.add_argument("--peers-python", default="/work/venv-peers/bin/python")
    ap.add_argument("--overhead", action="store_true", help="only the directional check ÷ its f evaluations")
    args = ap.parse_args()
    if args.overhead:
        print(json.dumps(directional_overhead()))
        return
    t0 = time.time()
    peers: dict[str, Any] = {}
    if Path(args.peers_python).exists():
        peers = run_peers_venv(args.peers_python)
    parts = [
        "# Gradient checker benchmark (issue 4)",
        "",
        "Regenerate: `OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
        "python benchmarks/checker.py --catalogue --write benchmarks/RESULTS.md`",
        "",
        f"Machine: {os.cpu_count()} cores, BLAS held to one thread; numpy {np.__version__}. Run "
        f"{time.strftime('%Y-%m-%d')} at commit {_commit()}.",
        "",
        "## Sensitivity: smallest planted relative error δ detected (full mode, float64)",
        "",
        "δ on a grid of half-decades 1e-2 … 1e-14; 'one entry' plants it in the median-magnitude entry.",
        "Targets (one entry): central ≤ 1e-6, richardson ≤ 1e-8, complex ≤ 1e-10.",
        "",
        sensitivity_table(),
        "",
        "## False alarms: correct gradients, full domains including saturation, kinks and logits spread 1e4",
        "",
        false_alarms(1000 if args.quick else 10_000, args.catalogue),
        "",
        "## Cost on the 784×256 sigmoid dense layer",
        "",
        cost_table(peers),
        "",
        "## Scale error 1 + 1e-5 on that layer, directional k = 8",
        "",
        scale_error_table(),
        "",
        "## Planted errors: ours beside the peers (default tolerances)",
        "",
        peers_table(peers),
    ]
    if "error" in peers:
        parts += ["", f"Peers' venv failed: {peers['error'][:500]}"]
    parts += ["", f"Total benchmark time {time.time() - t0:.0f} s."]
    text = "\n".join(parts) + "\n"
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
