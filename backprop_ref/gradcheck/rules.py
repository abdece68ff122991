"""Derivative rules of the user's code: a backward pass (VJP), a forward one (JVP), the two together.

- `check_vjp`: vjp(u) claims ∂⟨u, f(x)⟩/∂x; it is the gradient of the scalar φ(x) = ⟨u, f(x)⟩,
  checked by `check_grad` (every mode and keyword), with u a random cotangent from the seed.
- `check_jvp`: jvp(v) claims J·v; it is the derivative of ψ(t) = f(x + t·v) at t = 0, checked
  output entry by output entry as the Jacobian of ψ (full mode in one variable: kinks, jumps and
  domain edges along v are judged as any entry's).
- `check_adjoint`: ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ for random u and v, no finite differences at all.

f is evaluated at the unperturbed x immediately before each call of the user's vjp or jvp, so a
layer whose backward reads what its forward cached is checked as ``check_vjp(layer.forward, X,
layer.backward)``. A tuple or dict x has each checked argument judged and named (`check_grad`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref._validate import as_array, integer
from backprop_ref.gradcheck.api import _check, _claim_eps, check_arguments
from backprop_ref.gradcheck.arguments import Layout, layout
from backprop_ref.gradcheck.error_model import EPS, param, rms
from backprop_ref.gradcheck.evaluation import draw_seed, quiet, user_tolerance
from backprop_ref.gradcheck.kinks import KinkEvidence
from backprop_ref.gradcheck.result import GradCheckResult, Judged, build_result, combine
from backprop_ref.gradcheck.verdict import judge

__all__ = ["check_vjp", "assert_vjp", "check_jvp", "assert_jvp", "check_adjoint", "assert_adjoint"]

Array = NDArray[np.float64]


def _output(lay: Layout, f: Callable[..., Any]) -> NDArray[Any]:
    """f at the unperturbed x (its checked arguments copied: f may not change the point)."""
    try:
        y = np.asarray(lay.call(f, {s.key: s.array.copy() for s in lay.checked if s.array is not None}))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"f must return an array of numbers; f(x) failed: {exc}") from exc
    if y.dtype.kind not in "biuf":
        raise TypeError(f"f must return real numbers; it returned dtype {y.dtype}")
    return y


def _vector(given: Any, shape: tuple[int, ...], name: str, rng: np.random.Generator | None,
            scale: float = 1.0) -> Array:
    """The user's cotangent (tangent) part, checked against `shape`, or a normal draw of that shape."""
    if given is None:
        assert rng is not None
        return scale * rng.standard_normal(shape)
    arr = as_array(given, name, complex_ok=False)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape} but must have shape {shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    return arr


def _low_precision(y: NDArray[Any]) -> Any:
    """The dtype ⟨u, f(x)⟩ is returned in: f's own when it works below float64 (its precision is read
    from what it returns), else none (float64, or complex under the complex step)."""
    return y.dtype if y.dtype.kind == "f" and y.dtype.itemsize < 8 else None


def check_vjp(f: Callable[..., Any], x: Any, vjp: Callable[[Array], Any], *, wrt: Any = None,
              cotangent: Any = None, method: str = "central", directions: int | None = None,
              rtol: float | None = None, atol: float | None = None, seed: int | None = None,
              claim_dtype: Any = None) -> GradCheckResult:
    """Check a backward pass: vjp(u) claims ∂⟨u, f(x)⟩/∂x, the vector-Jacobian product uᵀJ.

    Parameters
    ----------
    f : callable
        Maps x (an array, a tuple of arrays called as f(*x), or a dict called as f(x)) to an array y.
    x, wrt
        As for `check_grad`: the point, and which arguments of a tuple or dict x are checked.
    vjp : callable
        vjp(u) for a cotangent u of y's shape returns the claimed ∂⟨u, y⟩/∂x in x's structure over
        the checked arguments (a tuple in wrt's order, a dict, or one array). f is evaluated at the
        unperturbed x immediately before it is called, so a backward that reads the forward's cache
        is checked as it is used.
    cotangent : array_like, optional
        u, y's shape; None draws it from the seed (normal entries), recorded in the result.
    method, directions, rtol, atol, seed, claim_dtype
        As for `check_grad`.

    Returns
    -------
    GradCheckResult
        kind "vjp": the check of the gradient of φ(x) = ⟨u, f(x)⟩, per argument in ``by_argument``
        for a tuple or dict x.
    """
    with quiet():
        lay = layout(f, x, wrt)
        y = _output(lay, f)
        rec = None if cotangent is None else seed
        if cotangent is None:
            rec = draw_seed(seed)
        u = _vector(cotangent, y.shape, "cotangent", None if rec is None else np.random.default_rng(rec))
        out_dtype = _low_precision(y)
        _output(lay, f)   # the forward at x, immediately before the backward reads its cache
        claim = vjp(u.copy())

        def phi(*args: Any) -> Any:
            value = np.sum(u * np.asarray(f(*args)))
            return value.astype(out_dtype) if out_dtype is not None else value

        return check_arguments(phi, x, claim, jacobian=False, wrt=wrt, kind="vjp", names=f,
                               extra_dims={"y": y.shape}, method=method, directions=directions,
                               rtol=rtol, atol=atol, seed=rec, claim_dtype=claim_dtype)


def assert_vjp(f: Callable[..., Any], x: Any, vjp: Callable[[Array], Any], **options: Any) -> GradCheckResult:
    """`check_vjp`, raising AssertionError with the report when it fails, InconclusiveCheck when it could
    not decide."""
    __tracebackhide__ = True
    return check_vjp(f, x, vjp, **options).assert_passed()


def _tangent_parts(lay: Layout, tangent: Any, rng: np.random.Generator | None) -> list[Array]:
    """One tangent per checked argument: the user's (split as a claim is) or a normal draw at the
    argument's scale (max(rms, 1) per entry, as full mode's steps are)."""
    given = [None] * len(lay.checked) if tangent is None else lay.split(tangent, "tangent")
    out = []
    for s, g in zip(lay.checked, given):
        assert s.array is not None
        name = "tangent" if not lay.structured else f"tangent for {s.label}"
        out.append(_vector(g, s.array.shape, name, rng, max(rms(s.array.ravel()), 1.0)))
    return out


def _structure(lay: Layout, parts: dict[int | str, Array]) -> Any:
    """Values per checked argument in x's structure over the checked ones (zeros where not given)."""
    vals = [parts.get(s.key, np.zeros(s.array.shape) if s.array is not None else None) for s in lay.checked]
    if lay.kind == "array":
        return vals[0]
    if lay.kind == "tuple":
        return tuple(vals)
    return {s.key: v for s, v in zip(lay.checked, vals)}


def check_jvp(f: Callable[..., Any], x: Any, jvp: Callable[[Any], Any], *, wrt: Any = None,
              tangent: Any = None, method: str = "central", rtol: float | None = None,
              atol: float | None = None, seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """Check a forward-mode derivative: jvp(v) claims J·v, y's shape, for a tangent v in x's structure.

    Each output entry of J·v is judged against the derivative of ψ(t) = f(x + t·v) at t = 0, with
    the error model of full mode in one variable (two to four evaluations of f per step). For a
    tuple or dict x each checked argument is judged on its own, along a tangent that is zero in
    the others, and named (``by_argument``). A Hessian-vector product is the JVP of a gradient:
    ``check_jvp(grad_f, x, hvp)``.

    Parameters
    ----------
    f, x, wrt
        As for `check_vjp`.
    jvp : callable
        jvp(v) returns the claimed J·v (y's shape); v is in x's structure over the checked
        arguments (a tuple in wrt's order, a dict, or one array). f is evaluated at the
        unperturbed x immediately before each call.
    tangent : optional
        v in that structure; None draws each argument's part from the seed (normal entries times
        max(rms(x_a), 1)), recorded in the result.
    method, rtol, atol, seed, claim_dtype
        As for `check_grad`.
    """
    with quiet():
        lay = layout(f, x, wrt)
        y = _output(lay, f)
        rec = draw_seed(seed) if tangent is None else seed
        rng = None if rec is None else np.random.default_rng(rec)
        parts = _tangent_parts(lay, tangent, rng)
        dims = {s.label: s.array.shape for s in lay.checked if s.array is not None}
        dims["y"] = y.shape
        by = {}
        for s, v in zip(lay.checked, parts):
            assert s.array is not None
            _output(lay, f)   # the forward at x, immediately before the user's jvp
            claim = jvp(_structure(lay, {s.key: v.copy()}))
            xa = s.array

            def psi(t: Any, key: int | str = s.key, xa: Array = xa, v: Array = v) -> Any:
                return lay.call(f, {key: xa + t * v})

            by[s.label] = _check(psi, np.zeros(()), claim, jacobian=True, method=method, directions=None,
                                 rtol=rtol, atol=atol, seed=rec, claim_dtype=claim_dtype,
                                 label=s.label if lay.structured else "x", kind="jvp", dims=dims)
        return by[lay.checked[0].label] if not lay.structured else combine(by)


def assert_jvp(f: Callable[..., Any], x: Any, jvp: Callable[[Any], Any], **options: Any) -> GradCheckResult:
    """`check_jvp`, raising AssertionError with the report when it fails, InconclusiveCheck when it could
    not decide."""
    __tracebackhide__ = True
    return check_jvp(f, x, jvp, **options).assert_passed()


@dataclass(frozen=True)
class _Pair:
    """One dot-product test for one argument: ⟨u, J·v⟩, ⟨Jᵀ·u, v⟩ and the rounding bound of the two."""

    forward: float
    backward: float
    bound: float


def _dot_test(u: Array, jv: Array, jtu: Array, v: Array, eps: float) -> _Pair:
    """⟨u, J·v⟩ against ⟨Jᵀ·u, v⟩. Either product's entries are inner products of up to n_x (n_y)
    terms and the dot products sum n_y (n_x) more, so each side errs by at most about
    (n_x + n_y)·eps times the sum of the magnitudes it adds up (Higham's γ_n for an inner product of
    length n); safety × that over both sides is the bound."""
    fw, bw = u.ravel() * jv.ravel(), jtu.ravel() * v.ravel()
    n = u.size + v.size
    scale = float(np.sum(np.abs(fw)) + np.sum(np.abs(bw)))
    return _Pair(float(np.sum(fw)), float(np.sum(bw)), param("safety") * n * eps * scale)


def check_adjoint(f: Callable[..., Any], x: Any, vjp: Callable[[Array], Any], jvp: Callable[[Any], Any], *,
                  wrt: Any = None, pairs: int = 2, rtol: float | None = None, atol: float | None = None,
                  seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """The dot-product test of a forward-mode and a reverse-mode derivative: ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩.

    For `pairs` random u (y's shape) and v (x's structure), with no finite differences at all: a
    vjp that is not the adjoint of the jvp breaks the identity for almost every u, v. For a tuple or
    dict x each checked argument is tested on its own (v zero in the others) and named. The bound
    is the rounding level of the two products: safety × (n_x + n_y) × eps × (Σ|u∘Jv| + Σ|Jᵀu∘v|),
    eps that of the claims' dtype (or `claim_dtype`); `rtol`/`atol` replace it
    (|a − b| ≤ atol + rtol·max(|a|, |b|)). The test says the two agree, not that either is the
    derivative of f: check one of them with `check_vjp` or `check_jvp`.

    Returns
    -------
    GradCheckResult
        kind "adjoint", one entry per pair: ``analytic`` ⟨Jᵀ·u, v⟩, ``numerical`` ⟨u, J·v⟩.
    """
    with quiet():
        lay = layout(f, x, wrt)
        count = integer(pairs, "pairs", minimum=1)
        user = user_tolerance(rtol, atol)
        y = _output(lay, f)
        rec = draw_seed(seed)
        rng = np.random.default_rng(rec)
        per: dict[str, list[_Pair]] = {s.label: [] for s in lay.checked}
        n_evals = 1
        for _ in range(count):
            u = rng.standard_normal(y.shape)
            parts = _tangent_parts(lay, None, rng)
            _output(lay, f)
            back = lay.split(vjp(u.copy()), "vjp(u)")
            n_evals += 1
            for s, v, b in zip(lay.checked, parts, back):
                _output(lay, f)
                n_evals += 1
                jv = as_array(jvp(_structure(lay, {s.key: v.copy()})), "jvp(v)", complex_ok=False)
                name = "vjp(u)" + (f" for {s.label}" if lay.structured else "")
                jtu = as_array(b, name, complex_ok=False)
                if jv.shape != y.shape:
                    raise ValueError(f"jvp(v) has shape {jv.shape} but f(x) has shape {y.shape}")
                if jtu.shape != v.shape:
                    raise ValueError(f"{name} has shape {jtu.shape} but must have shape {v.shape}")
                eps = max(_dtype_eps(jv), _dtype_eps(np.asarray(b)),
                          EPS if claim_dtype is None else _claim_eps(claim_dtype))
                per[s.label].append(_dot_test(u, jv, jtu, v, eps))
        by = {label: _adjoint_result(p, label if lay.structured else "x", user, rec, n_evals)
              for label, p in per.items()}
        return by[lay.checked[0].label] if not lay.structured else combine(by)


def _dtype_eps(a: NDArray[Any]) -> float:
    return float(np.finfo(a.dtype).eps) if a.dtype.kind == "f" else EPS


def _adjoint_result(ps: list[_Pair], label: str, user: Any, seed: int, n_evals: int) -> GradCheckResult:
    """The dot-product tests of one argument as a result (one entry per pair), judged by one rule."""
    fw = np.array([p.forward for p in ps])
    bw = np.array([p.backward for p in ps])
    bound = np.array([p.bound for p in ps])
    if user is not None:   # |a − b| ≤ atol + rtol·max(|a|, |b|): symmetric, neither side is the reference
        bound = user.bound(np.maximum(np.abs(fw), np.abs(bw)))
    v = judge(bw, fw, bound, KinkEvidence.none(fw.shape), None)
    reason = ("the user's tolerance decided: |⟨Jᵀu, v⟩ − ⟨u, Jv⟩| ≤ atol + rtol·max of the two" if user
              is not None else f"rounding of the two products: {param('safety'):g} × (n_x + n_y) × eps × "
              "(Σ|u∘Jv| + Σ|Jᵀu∘v|)")
    j = Judged("adjoint", bw, v, fw.shape, [], [], reason, None, None)
    # (the bound above is already the user's where given: build_result must not reword it, but the
    # result says whose bound decided)
    r = build_result(j, method="dot product", seed=seed, n_evals=n_evals, jacobian=False, user=None,
                     x_shape=fw.shape, taylor=None, label=label, kind="adjoint", dims={})
    return replace(r, user_tolerance=user is not None)


def assert_adjoint(f: Callable[..., Any], x: Any, vjp: Callable[[Array], Any], jvp: Callable[[Any], Any],
                   **options: Any) -> GradCheckResult:
    """`check_adjoint`, raising AssertionError with the report when it fails."""
    __tracebackhide__ = True
    return check_adjoint(f, x, vjp, jvp, **options).assert_passed()
