"""The public entry points: argument handling, the mode's judgement, the second opinion, the result."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backprop_ref._validate import as_array, choose, integer
from backprop_ref.gradcheck.arguments import Layout, Slot, layout
from backprop_ref.gradcheck.complex_step import probe_complex
from backprop_ref.gradcheck.diagnosis import swapped
from backprop_ref.gradcheck.directional import judge_directional
from backprop_ref.gradcheck.error_model import METHODS
from backprop_ref.gradcheck.evaluation import (
    Evaluator,
    check_x,
    draw_seed,
    parse_claim,
    quiet,
    user_tolerance,
)
from backprop_ref.gradcheck.full import judge_full, probe_real
from backprop_ref.gradcheck.result import GradCheckResult, Judged, build_result, combine
from backprop_ref.gradcheck.taylor import second_opinion

__all__ = ["check_grad", "assert_grad", "check_jacobian", "assert_jacobian", "numerical_grad",
           "numerical_jacobian"]

Array = NDArray[np.float64]


def _check(f: Callable[[Any], Any], x_in: ArrayLike, claimed: Any, *, jacobian: bool, method: str,
           directions: int | None, rtol: float | None, atol: float | None,
           seed: int | None, claim_dtype: Any = None, label: str = "x", kind: str | None = None,
           dims: dict[str, tuple[int, ...]] | None = None) -> GradCheckResult:
    """One array checked: the mode's judgement, the Taylor test's second opinion, the result."""
    method = choose(method, "method", METHODS)
    x_arr = check_x(x_in)
    x_shape = x_arr.shape
    k = None if directions is None else integer(directions, "directions", minimum=1, or_none="every entry")
    user = user_tolerance(rtol, atol)
    x = x_arr.ravel()
    ev = Evaluator(f, x_shape, scalar=not jacobian)
    f0 = ev.real(x)
    out_shape = ev.out_shape
    name = ("jac" if jacobian else "grad") + (f" for {label}" if label != "x" else "")
    g_arr, eps_g = parse_claim(claimed, x_arr, out_shape + x_shape, name)
    if claim_dtype is not None:
        eps_g = max(eps_g, _claim_eps(claim_dtype))
    G = g_arr.reshape(f0.size, x.size)
    problems: list[str] = []
    if not np.isfinite(f0).all():
        i = int(np.flatnonzero(~np.isfinite(f0))[0])
        where = "" if not jacobian else f" (output {[int(v) for v in np.unravel_index(i, out_shape)]})"
        problems.append(f"f(x) = {f0[i]}{where}: f is not finite at x itself, nothing can be judged")
    if not np.isfinite(G).all():
        bad = tuple(int(v) for v in np.argwhere(~np.isfinite(g_arr))[0])
        problems.append(f"the claimed {name} is {g_arr[bad]} at index {list(bad)}")
    rec_seed = None if k is None and seed is None else draw_seed(seed)
    if k is None:
        judged = judge_full(ev, x, f0, G, eps_g, method, user, problems, out_shape, x_shape)
    else:
        assert rec_seed is not None
        judged = judge_directional(ev, x, f0, G, eps_g, method, user, problems, out_shape, x_shape, k,
                                   rec_seed, jacobian)
    if label != "x":
        judged = _relabel(judged, label)
    taylor = None
    if not jacobian and user is None and not judged.problems and judged.analytic.size:
        taylor = second_opinion(judged, f, x_arr, g_arr, rec_seed)
    n_evals = ev.n_evals + (0 if taylor is None else len(taylor.steps) + 1)
    return build_result(judged, method=method, seed=rec_seed, n_evals=n_evals, jacobian=jacobian, user=user,
                        x_shape=x_shape, taylor=taylor, label=label, kind=kind, dims=dims)


_ENTRY = re.compile(r"\bx\[|(?<=entry )\[")


def _relabel(judged: Judged, label: str) -> Judged:
    """The modes name an entry of the one array they probe x[3, 1] (and a note's "entry [3, 1]"): in
    a check of several arguments it is that argument's, W2[3, 1]."""
    def named(lines: list[str]) -> list[str]:
        return [_ENTRY.sub(lambda m: f"{label}[", line) for line in lines]
    return replace(judged, inconclusive=named(judged.inconclusive), notes=named(judged.notes),
                   problems=named(judged.problems))


def _snapshot(lay: Layout) -> list[tuple[Slot, Any]]:
    """Copies of the data arguments (passed through unchecked), to find an f that modifies them."""
    out = []
    for s in lay.slots:
        if s.array is None and isinstance(s.value, np.ndarray):
            out.append((s, s.value.copy()))
    return out


def _unchanged(snap: list[tuple[Slot, Any]]) -> None:
    for s, before in snap:
        if not np.array_equal(s.value, before, equal_nan=True):
            raise ValueError(f"f modified its argument {s.label} in place; the checker cannot judge "
                             "such an f (give it a copy)")


def check_arguments(f: Callable[..., Any], x: Any, claimed: Any, *, jacobian: bool, wrt: Any = None,
                    kind: str | None = None, extra_dims: dict[str, tuple[int, ...]] | None = None,
                    names: Callable[..., Any] | None = None, **options: Any) -> GradCheckResult:
    """A check of x as one array, or of each checked argument of a tuple or dict x on its own (f
    restricted to it, the others held), combined: every argument judged and named. In directional
    mode each argument gets its own k directions (from one recorded seed): a direction spanning
    several arguments would measure them all at the scale of the largest gradient, and a wrong
    gradient of a small one (a bias next to a weight matrix) could hide under it. `names`: the
    function whose parameter names label the arguments (f's own by default)."""
    lay = layout(names or f, x, wrt)
    if not lay.structured:
        arr = lay.slots[0].array
        assert arr is not None
        return _check(f, arr, claimed, jacobian=jacobian, kind=kind,
                      dims=None if extra_dims is None else {"x": arr.shape, **extra_dims}, **options)
    seed = options.pop("seed", None)
    if options.get("directions") is not None or seed is not None:
        seed = draw_seed(seed)
    name = "jac" if jacobian else "grad"
    claims = lay.split(_call_claim(lay, claimed) if callable(claimed) else claimed, name)
    dims = {s.label: np.shape(s.value) for s in lay.slots if np.ndim(s.value) > 0}
    dims.update(extra_dims or {})
    snap = _snapshot(lay)
    by = {}
    for s, c in zip(lay.checked, claims):
        assert s.array is not None
        by[s.label] = _check(lay.restricted(f, s.key), s.array, c, jacobian=jacobian, seed=seed,
                             label=s.label, kind=kind, dims=dims, **options)
    _unchanged(snap)
    return combine(by, diagnosis=swapped(by))


def _call_claim(lay: Layout, claimed: Callable[..., Any]) -> Any:
    """A claim callable called as f is, on copies of the checked arguments."""
    a = lay.copy_args()
    return claimed(*a) if lay.kind == "tuple" else claimed(a)


def _claim_eps(claim_dtype: Any) -> float:
    """The eps of the precision a claim was computed in, declared by the user (`claim_dtype`)."""
    try:
        dt = np.dtype(claim_dtype)
    except TypeError:
        raise TypeError(f"claim_dtype must be a float dtype (np.float32, 'float16', ...), got "
                        f"{claim_dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"claim_dtype must be a float dtype (np.float32, 'float16', ...), got {dt}")
    return float(np.finfo(dt).eps)


def check_grad(f: Callable[..., Any], x: Any, grad: Any, *, wrt: Any = None, method: str = "central",
               directions: int | None = None, rtol: float | None = None, atol: float | None = None,
               seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """Check a claimed gradient ∂f/∂x against finite differences, with a verdict from an error model.

    Parameters
    ----------
    f : callable
        Maps x to a scalar: f(x) for an array or a dict x, f(*x) for a tuple x. For
        ``method="complex"`` it must accept complex input.
    x : array_like, tuple or dict
        The point; real, finite; computed in float64 (f may work in float32 or float16: its precision
        is read from what it returns, and its steps and bounds follow). A tuple of arrays is f's
        positional arguments, a dict its one argument (a list is array_like). Each checked argument
        is judged on its own and named in the report: by its dict key, else by f's parameter name,
        else "arg i".
    grad : array_like, tuple, dict or callable
        The claimed gradient (x's shape; float32 is judged at float32 precision) or a callable
        returning it at x (called as f is). For a tuple x, a tuple with one array per checked
        argument in `wrt`'s order (or one per argument, of which the checked ones are read); for a
        dict x, a dict holding the checked keys.
    wrt : int, str or sequence of them, optional
        The arguments of a tuple (positions) or dict (keys) x to check; the others are data passed
        through unchanged. None checks every argument of a floating dtype (integer, bool and other
        arguments are data).
    method : {"central", "richardson", "complex"}
        Central differences with the step from the error model; Richardson extrapolation of central
        differences (h, 2h, 4h) with an error estimate; or the complex step Im f(x + ih)/h.
    directions : int, optional
        None compares every entry (about 4 evaluations per entry for central). An int k compares k
        directional derivatives along random Rademacher unit directions drawn from `seed`, plus the
        claimed gradient's own direction: 2k + 3 evaluations for central whatever x.size, and 2k + 2
        more per finer step when a direction fails or sits on a kink (2 more for f's noise, 2k + 2 per
        grown step where f is noisy, 2 per block where several kinks lie along a direction); a
        failure is localised by bisection.
    rtol, atol : float, optional
        When either is given it replaces the error model: an entry passes when
        |analytic − numerical| ≤ atol + rtol·|numerical| (a missing one counts as 0).
    seed : int, optional
        Seed of the random directions; None draws one and records it in the result.
    claim_dtype : float dtype, optional
        The precision the claimed gradient was computed in, when it sits in a float64 array
        (libraries often accumulate float32-accurate values in float64): its rounding allowance is
        that dtype's. A float32 array declares itself.

    Returns
    -------
    GradCheckResult
        ``.verdict`` ("pass", "fail" or "inconclusive", with ``.reason``), ``.passed`` and the report
        ``str(result)``; for a tuple or dict x, ``.by_argument`` holds each argument's own result.
        NaN or inf from f, the claim or the numerical gradient makes a failed result naming where;
        it is never raised, nor is an error f raises at a stencil point (it is f's domain
        ending: the step shrinks to stay inside, and fails only where no step does). Entries no
        admissible step can judge (f jumps there, or they move f by less than its rounding) make the
        check inconclusive, listed with why; a failure elsewhere still fails it.

    Raises
    ------
    ValueError
        The claimed gradient's shape differs from x's, an unknown method, f returns a non-scalar,
        x is not finite, or f modifies its input (f(x) itself is called on a copy: the caller's
        array is never changed).
    TypeError
        x (or the claim) is not numeric, directions or seed is not an integer, or f rejects complex
        input under ``method="complex"``.
    """
    with quiet():
        return check_arguments(f, x, grad, jacobian=False, wrt=wrt, method=method, directions=directions,
                               rtol=rtol, atol=atol, seed=seed, claim_dtype=claim_dtype)


def assert_grad(f: Callable[..., Any], x: Any, grad: Any, *, wrt: Any = None, method: str = "central",
                directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """`check_grad`, raising AssertionError with the report when the check fails, InconclusiveCheck (an
    AssertionError) when it could not decide; else the result."""
    __tracebackhide__ = True
    return check_grad(f, x, grad, wrt=wrt, method=method, directions=directions, rtol=rtol, atol=atol,
                      seed=seed, claim_dtype=claim_dtype).assert_passed()


def check_jacobian(f: Callable[..., Any], x: Any, jac: Any, *, wrt: Any = None, method: str = "central",
                   directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                   seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """Check a claimed Jacobian ∂f/∂x of a vector-valued f; `jac` has shape f(x).shape + x.shape (per
    checked argument for a tuple or dict x: f(x).shape + that argument's shape).

    Same arguments and verdict as `check_grad`, entry by entry of the Jacobian; in directional mode
    each direction compares a whole Jacobian-vector product J·d, output by output. A second
    derivative is the Jacobian of a gradient: ``check_jacobian(grad_f, x, hessian)``.
    """
    with quiet():
        return check_arguments(f, x, jac, jacobian=True, wrt=wrt, method=method, directions=directions,
                               rtol=rtol, atol=atol, seed=seed, claim_dtype=claim_dtype)


def assert_jacobian(f: Callable[..., Any], x: Any, jac: Any, *, wrt: Any = None, method: str = "central",
                    directions: int | None = None, rtol: float | None = None, atol: float | None = None,
                    seed: int | None = None, claim_dtype: Any = None) -> GradCheckResult:
    """`check_jacobian`, raising AssertionError with the report when the check fails, InconclusiveCheck
    (an AssertionError) when it could not decide."""
    __tracebackhide__ = True
    return check_jacobian(f, x, jac, wrt=wrt, method=method, directions=directions, rtol=rtol, atol=atol,
                          seed=seed, claim_dtype=claim_dtype).assert_passed()


def _numerical(f: Callable[[Any], Any], x_in: ArrayLike, method: str, jacobian: bool) -> Array:
    method = choose(method, "method", METHODS)
    x_arr = as_array(x_in, "x", complex_ok=False)
    x = x_arr.ravel().copy()
    ev = Evaluator(f, x_arr.shape, scalar=not jacobian)
    f0 = ev.real(x)
    if method == "complex":
        num = probe_complex(ev, x, f0)[0]
    else:
        pr = probe_real(ev, x, f0, method)
        # At a kink there is no derivative: NaN, never the mean of the one-sided slopes.
        num = np.where(pr.kink, np.nan, pr.numerical)
        for i in pr.problems:
            num[i] = np.nan
    return num.T.reshape(ev.out_shape + x_arr.shape)


def numerical_grad(f: Callable[[Any], Any], x: ArrayLike, method: str = "central") -> Array:
    """The numerical gradient of scalar f at x (x's shape), by the checker's error-model steps.

    Entries where f has a kink are NaN (there is no derivative; `check_grad` reports the one-sided
    ones), as are entries where f was not finite on the stencil.
    """
    with quiet():
        return _numerical(f, x, method, jacobian=False)


def numerical_jacobian(f: Callable[[Any], Any], x: ArrayLike, method: str = "central") -> Array:
    """The numerical Jacobian of f at x, shape f(x).shape + x.shape (kinks and non-finite: NaN)."""
    with quiet():
        return _numerical(f, x, method, jacobian=True)
