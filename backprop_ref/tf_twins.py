"""The one module that imports TensorFlow, and only when a twin is evaluated.

`import backprop_ref` never imports TensorFlow. Here the catalogue's twins (forwards written in
TensorFlow ops) are run in float64 under `tf.GradientTape`, and TensorFlow derives the
derivative itself: the independent oracle the analytic derivatives are compared against.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref.catalogue import Formula, arg_names, derivatives
from backprop_ref.domains import Case
from backprop_ref.tolerances import Agreement, agree

__all__ = ["available", "tensorflow", "forward", "tape_derivatives", "Comparison", "compare", "check_tape"]


def available() -> bool:
    """True when TensorFlow can be imported (without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


@contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """The process's stderr (file descriptor 2, which C++ writes to) sent to os.devnull meanwhile."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (AttributeError, OSError, ValueError):   # no real stderr (embedded): nothing to hide
        yield
        return
    sys.stderr.flush()
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@cache
def tensorflow() -> Any:
    """Import TensorFlow once, quietly; ImportError with the install hint when it is absent.

    Quietly, when this call is the one that imports it: its C++ start-up lines (oneDNN's "custom
    operations are on", absl's "All log messages before absl::InitializeLog()"), which reach stderr
    before TF_CPP_MIN_LOG_LEVEL applies, go to os.devnull, and its Python logger is turned down to
    errors (pfor's retracing warnings inside tape.jacobian). The CLI and the Python API share this; a
    TensorFlow the caller imported first is left as they configured it.
    """
    first = "tensorflow" not in sys.modules
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ start-up banner in reports
    try:
        with _stderr_to_devnull() if first else nullcontext():
            import tensorflow as tf
    except ImportError as exc:
        raise ImportError(
            "TensorFlow is not installed; install the extra: pip install 'backprop-ref[tf]'"
        ) from exc
    if first:
        tf.get_logger().setLevel("ERROR")
    return tf


def _constant(a: Any) -> Any:
    """A case's array as TensorFlow holds it: bool masks as tf.bool, integer ids and labels as tf.int64,
    everything else as tf.float64 (never TensorFlow's default float32)."""
    tf = tensorflow()
    arr = np.asarray(a)
    dtype = tf.bool if arr.dtype.kind == "b" else tf.int64 if arr.dtype.kind in "iu" else tf.float64
    return tf.constant(arr, dtype=dtype)


def _constants(case: Case) -> list[Any]:
    return [_constant(a) for a in case.args]


def forward(formula: Formula, case: Case) -> NDArray[np.float64]:
    """The twin's forward value at `case`, as a float64 array."""
    if formula.twin is None:
        raise ValueError(f"{formula.name} has no TensorFlow twin")
    tf = tensorflow()
    return np.asarray(formula.twin(tf, *_constants(case), **case.kwargs), dtype=np.float64)


def tape_derivatives(formula: Formula, case: Case) -> tuple[NDArray[np.float64], ...]:
    """What tf.GradientTape derives from the twin, shaped like `catalogue.derivatives`.

    elementwise: the gradient of Σ f(x), which is f′(x) because the Jacobian is diagonal;
    jacobian: `batch_jacobian` for a batch of rows, `jacobian` for one row;
    gradient: the gradient of the scalar with respect to each argument in case.wrt;
    vjp: tape.gradient(y, args, output_gradients=dy) with the case's cotangent dy, each wrt argument
    (a gather's sparse IndexedSlices summed into a dense array, repeated ids added).
    """
    if formula.twin is None:
        raise ValueError(f"{formula.name} has no TensorFlow twin")
    tf = tensorflow()
    tensors = _constants(case)
    watched = [tensors[i] for i in case.wrt]
    with tf.GradientTape(persistent=formula.kind == "jacobian") as tape:
        tape.watch(watched)
        y = formula.twin(tf, *tensors, **case.kwargs)
        if formula.kind == "elementwise":
            y = tf.reduce_sum(y)
    if formula.kind == "jacobian":
        z = watched[0]
        out = tape.batch_jacobian(y, z) if z.shape.rank == 2 else tape.jacobian(y, z)
        return (np.asarray(out, dtype=np.float64),)
    dy = None if formula.kind != "vjp" else tf.constant(np.asarray(case.cotangent), dtype=tf.float64)
    grads = tape.gradient(y, watched, output_gradients=dy, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return tuple(np.asarray(tf.convert_to_tensor(g), dtype=np.float64) for g in grads)



@dataclass(frozen=True)
class Comparison:
    """One comparison of ours against the tape: what was compared, both sides, the verdict."""

    label: str
    ours: NDArray[np.float64]
    theirs: NDArray[np.float64]
    mask: NDArray[np.bool_] | None
    agreement: Agreement


def compare(formula: Formula, case: Case) -> list[Comparison]:
    """Our forward against the twin's, then each analytic derivative against the tape's.

    Entries exactly at one of the formula's kinks are left out of the derivative comparisons: the
    conventions differ there by design (tests/test_kink_conventions.py pins both). The absolute
    bound's scale is the forward's size, floored by the record's `tape_scale` override; for a backward
    pass ("vjp") also the cotangent's, whose entries are the terms a VJP sums (db = Σ_t dy_t cancels to
    a rounding of their size where every value of the case is 0).
    """
    ours_f = np.asarray(formula.forward(*case.args, **case.kwargs), dtype=np.float64)
    scale = np.maximum(np.abs(ours_f), formula.tape_scale[0])
    theirs_f = forward(formula, case)
    out = [Comparison("forward vs twin forward", ours_f, theirs_f, None,
                      agree(ours_f, theirs_f, forward_scale=scale))]
    mask = ~np.isin(case.args[0], formula.kinks) if formula.kinks else None
    names = arg_names(formula, case)
    if formula.kind == "vjp" and case.cotangent is not None:
        dy = np.abs(np.asarray(case.cotangent, dtype=np.float64))
        scale = np.maximum(np.max(scale, initial=0.0), np.max(dy[np.isfinite(dy)], initial=0.0))
    for i, ours, theirs in zip(case.wrt, derivatives(formula, case), tape_derivatives(formula, case)):
        ours = np.asarray(ours, dtype=np.float64)
        out.append(Comparison(f"{formula.derivative_name} ∂/∂{names[i]} vs tape", ours, theirs, mask,
                              agree(ours, theirs, forward_scale=scale, mask=mask)))
    return out


def check_tape(fn: Any, x: Any, *, wrt: Any = None, cotangent: Any = None, method: str = "central",
               directions: int | None = None, rtol: float | None = None, atol: float | None = None,
               seed: int | None = None) -> Any:
    """Check what `tf.GradientTape` returns for `fn`, a Python function of TensorFlow tensors (a
    hand-written `tf.custom_gradient` among them), against the checker's finite differences of fn.

    Parameters
    ----------
    fn : callable
        fn(x) (or fn(*x) for a tuple, fn(x) with a dict of tensors for a dict) in TensorFlow ops;
        called with float64 constants.
    x, wrt, method, directions, rtol, atol, seed
        As for `backprop_ref.check_grad`: x is NumPy arrays (a tuple or dict of them), converted to
        tf.float64 constants for fn.
    cotangent : array_like, optional
        For an fn whose output is not a scalar, the u of the VJP the tape computes,
        ``tape.gradient(y, x, output_gradients=u)``; None draws it from the seed.

    Returns
    -------
    GradCheckResult
        kind "gradient" for a scalar fn, else "vjp"; per argument in ``by_argument``. A gradient the
        tape leaves unconnected (None) is claimed as zeros.

    Raises
    ------
    ImportError
        TensorFlow is not installed (with the install hint).
    """
    from backprop_ref.gradcheck.api import check_arguments
    from backprop_ref.gradcheck.arguments import layout
    from backprop_ref.gradcheck.evaluation import draw_seed, quiet

    tf = tensorflow()
    lay = layout(fn, x, wrt)

    def to_tf(a: Any) -> Any:
        arr = np.asarray(a)
        return tf.constant(arr, dtype=tf.complex128 if np.iscomplexobj(arr) else tf.float64)

    def numeric(*args: Any) -> Any:
        converted = [to_tf(a) if isinstance(a, np.ndarray) else a for a in args]
        if lay.kind == "dict":
            converted = [{k: to_tf(v) if isinstance(v, np.ndarray) else v for k, v in args[0].items()}]
        return np.asarray(fn(*converted))

    with quiet():
        tensors = {s.key: to_tf(s.array) for s in lay.checked}
        with tf.GradientTape() as tape:
            for t in tensors.values():
                tape.watch(t)
            y = lay.call(fn, tensors)
        u = None
        if np.ndim(y) != 0:
            rec = draw_seed(seed) if cotangent is None else seed
            shape = tuple(y.shape)
            u = (np.random.default_rng(rec).standard_normal(shape) if cotangent is None
                 else np.asarray(cotangent, dtype=np.float64))
            if u.shape != shape:
                raise ValueError(f"cotangent has shape {u.shape} but must have shape {shape}")
            seed = rec
        grads = tape.gradient(y, list(tensors.values()),
                              output_gradients=None if u is None else tf.constant(u, dtype=tf.float64))
        claim = tuple(np.zeros(s.array.shape) if g is None else np.asarray(tf.convert_to_tensor(g))
                      for s, g in zip(lay.checked, grads) if s.array is not None)
        structured = claim if lay.kind == "tuple" else (
            {s.key: c for s, c in zip(lay.checked, claim)} if lay.kind == "dict" else claim[0])
        if u is None:
            return check_arguments(numeric, x, structured, jacobian=False, wrt=wrt, names=fn, method=method,
                                   directions=directions, rtol=rtol, atol=atol, seed=seed)
        cot = u

        def phi(*args: Any) -> Any:
            return np.sum(cot * numeric(*args))
        return check_arguments(phi, x, structured, jacobian=False, wrt=wrt, kind="vjp", names=fn,
                               extra_dims={"y": cot.shape}, method=method, directions=directions,
                               rtol=rtol, atol=atol, seed=seed)
