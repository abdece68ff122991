"""Peers' side of benchmarks/checker.py, run in a separate venv with torch and jax (prints JSON).

    OPENBLAS_NUM_THREADS=1 /work/venv-peers/bin/python benchmarks/peers.py
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np

DELTAS = [10.0 ** -k for k in np.arange(2, 14.5, 0.5)]


def problem():
    x = np.random.default_rng(1).normal(size=6)
    g = np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3
    return x, g


def scan(passes):
    _x, g = problem()
    entry = int(np.argsort(np.abs(g))[len(g) // 2])
    res = {}
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


def best_of(fn, repeat=10, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


def layer(n_out=256):
    rng = np.random.default_rng(0)
    N, n_in = 64, 784
    X = rng.normal(size=(N, n_in))
    W = rng.normal(0, np.sqrt(2 / (n_in + n_out)), (n_in, n_out))
    Y = rng.uniform(size=(N, n_out))
    return X, W, Y


def torch_part(out):
    import torch

    torch.set_num_threads(1)
    x, _ = problem()

    def passes(gg):
        # gradcheck compares against autograd: wrap the claimed gradient in a custom Function
        gt = torch.tensor(gg)

        class F(torch.autograd.Function):
            @staticmethod
            def forward(ctx, v):
                return torch.sum(torch.sin(v) * torch.exp(v / 3))

            @staticmethod
            def backward(ctx, go):
                return go * gt

        v = torch.tensor(x, requires_grad=True)
        return torch.autograd.gradcheck(F.apply, (v,), raise_exception=False)

    out["planted"]["torch.autograd.gradcheck (eps 1e-6, atol 1e-5, rtol 1e-3)"] = scan(passes)

    def passes_fast(gg):
        gt = torch.tensor(gg)

        class F(torch.autograd.Function):
            @staticmethod
            def forward(ctx, v):
                return torch.sum(torch.sin(v) * torch.exp(v / 3))

            @staticmethod
            def backward(ctx, go):
                return go * gt

        v = torch.tensor(x, requires_grad=True)
        return torch.autograd.gradcheck(F.apply, (v,), raise_exception=False, fast_mode=True)

    out["planted"]["torch.autograd.gradcheck fast_mode"] = scan(passes_fast)

    X, W, Y = layer()
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    def loss(w):
        a = torch.sigmoid(Xt @ w)
        return 0.5 * torch.sum((a - Yt) ** 2) / X.shape[0]

    w = torch.tensor(W, requires_grad=True)

    def lg():
        w.grad = None
        loss(w).backward()

    t_lg = best_of(lg, 30)
    t_fast = best_of(lambda: torch.autograd.gradcheck(loss, (w,), fast_mode=True), 5, 1)
    out["cost"]["torch.autograd.gradcheck fast_mode (full W)"] = {
        "best": t_fast[0], "median": t_fast[1], "evals": "≈ 2 + autograd", "scaled": False,
        "how": f"measured; {t_fast[0] / t_lg[0]:.1f}× torch's own loss-and-gradient"}
    Xs, Ws, Ys = layer(4)
    Xst, Yst = torch.tensor(Xs), torch.tensor(Ys)

    def loss_s(w):
        return 0.5 * torch.sum((torch.sigmoid(Xst @ w) - Yst) ** 2) / Xs.shape[0]

    ws = torch.tensor(Ws, requires_grad=True)
    t_full = best_of(lambda: torch.autograd.gradcheck(loss_s, (ws,)), 1, 1)
    out["cost"]["torch.autograd.gradcheck (full)"] = {
        "best": t_full[0], "median": t_full[1], "evals": 2 * W.size, "scaled": True,
        "how": "784×4 slice × 64"}


def jax_part(out):
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    x, _ = problem()

    def passes(gg):
        ggj = jnp.asarray(gg)

        @jax.custom_vjp
        def f(v):
            return jnp.sum(jnp.sin(v) * jnp.exp(v / 3))

        f.defvjp(lambda v: (f(v), None), lambda _, go: (go * ggj,))
        try:
            check_grads(f, (jnp.asarray(x),), order=1, modes=["rev"])
            return True
        except AssertionError:
            return False

    out["planted"]["jax check_grads (order 1, rev; default eps and tolerances)"] = scan(passes)
    X, W, Y = layer()
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def loss(w):
        return 0.5 * jnp.sum((jax.nn.sigmoid(Xj @ w) - Yj) ** 2) / X.shape[0]

    vg = jax.jit(jax.value_and_grad(loss))
    wj = jnp.asarray(W)
    t_lg = best_of(lambda: jax.block_until_ready(vg(wj)), 30)
    verdicts = []

    def run():
        try:
            check_grads(loss, (wj,), order=1, modes=["rev"])
            verdicts.append(True)
        except AssertionError:
            verdicts.append(False)

    t = best_of(run, 5, 1)
    alarm = ("" if all(verdicts) else
             f"; it FAILED the correct gradient in {verdicts.count(False)} of {len(verdicts)} runs")
    out["cost"]["jax check_grads (order 1, rev)"] = {
        "best": t[0], "median": t[1], "evals": "1 direction", "scaled": False,
        "how": f"measured (un-jitted f); {t[0] / t_lg[0]:.1f}× jax's own jitted loss-and-gradient{alarm}"}


def main():
    warnings.simplefilter("ignore")
    out = {"planted": {}, "cost": {}, "errors": []}
    for part in (torch_part, jax_part):
        try:
            part(out)
        except Exception as exc:  # a peer missing or failing must not sink the other
            out["errors"].append(f"{part.__name__}: {type(exc).__name__}: {exc}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
