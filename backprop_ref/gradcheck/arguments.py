"""Structured arguments: x as one array, a tuple of arrays called as f(*x), or a dict called as f(x).

A `Layout` records every argument with its label (its dict key; else f's parameter name where
`inspect` can read it; else "arg i"), which of them are checked (`wrt`; by default every argument of a
floating dtype, the others being data passed through unchanged), and how to call f, or a claim
callable, with one checked argument replaced. Claims come back split per checked argument, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_ref._validate import as_array, require_finite

__all__ = ["Layout", "Slot", "layout"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Slot:
    """One argument: its key (position or dict key), label, the value as given, and its checked array."""

    key: int | str
    label: str
    value: Any
    array: Array | None   # float64, when the argument is checked


@dataclass(frozen=True)
class Layout:
    """How x is structured, which arguments are checked, and how f is called."""

    kind: str                     # "array", "tuple" or "dict"
    slots: tuple[Slot, ...]       # every argument, in x's order
    order: tuple[int | str, ...]  # the checked ones' keys, in wrt's order (else x's)

    @property
    def checked(self) -> list[Slot]:
        by_key = {s.key: s for s in self.slots}
        return [by_key[k] for k in self.order]

    @property
    def structured(self) -> bool:
        return self.kind != "array"

    def args(self, replace: Mapping[int | str, Any] | None = None) -> Any:
        """x rebuilt with the given arguments replaced: what f is called with (an array, tuple, dict)."""
        rep = replace or {}
        vals = [rep.get(s.key, s.array if s.array is not None else s.value) for s in self.slots]
        if self.kind == "array":
            return vals[0]
        if self.kind == "tuple":
            return tuple(vals)
        return {s.key: v for s, v in zip(self.slots, vals)}

    def call(self, fn: Callable[..., Any], replace: Mapping[int | str, Any] | None = None) -> Any:
        """fn called as f would be: fn(x), fn(*x) for a tuple, fn(x) for a dict."""
        a = self.args(replace)
        return fn(*a) if self.kind == "tuple" else fn(a)

    def copy_args(self) -> Any:
        """x with every checked array copied: what a claim callable gets (it may not modify the point)."""
        return self.args({s.key: s.array.copy() for s in self.checked if s.array is not None})

    def restricted(self, fn: Callable[..., Any], key: int | str) -> Callable[[Any], Any]:
        """fn as a function of one checked argument, the others held at their values."""
        def of_one(v: Any) -> Any:
            return self.call(fn, {key: v})
        return of_one

    def split(self, claim: Any, name: str) -> list[Any]:
        """A claim in x's structure (over the checked arguments) as one value per checked argument.

        For a tuple x the claim is a tuple holding the checked arguments in `wrt` order (or every
        argument, of which the checked ones are taken); with one checked argument it may also be that
        argument's array alone (a list is array_like, as for x). For a dict x it is a dict holding at
        least the checked keys (keys of unchecked arguments are ignored, unknown keys are an error).
        """
        checked = self.checked
        if self.kind == "array":
            return [claim]
        if self.kind == "dict":
            if not isinstance(claim, Mapping):
                if len(checked) == 1:
                    return [claim]
                raise TypeError(f"{name} must be a dict with keys {[s.key for s in checked]} (x is a dict); "
                                f"got {type(claim).__name__}")
            unknown = [k for k in claim if k not in {s.key for s in self.slots}]
            if unknown:
                raise ValueError(f"{name} has keys {unknown} that are not arguments of x "
                                 f"(x's keys are {[s.key for s in self.slots]})")
            missing = [s.key for s in checked if s.key not in claim]
            if missing:
                raise ValueError(f"{name} lacks the checked argument(s) {missing}")
            return [claim[s.key] for s in checked]
        if isinstance(claim, tuple):
            if len(claim) == len(checked):
                return list(claim)
            if len(claim) == len(self.slots):
                return [claim[int(s.key)] for s in checked]
        elif len(checked) == 1:
            return [claim]
        got = f"a tuple of {len(claim)}" if isinstance(claim, tuple) else type(claim).__name__
        raise ValueError(f"{name} must be a tuple of {len(checked)} arrays, one per checked argument "
                         f"({', '.join(s.label for s in checked)}) in that order; got {got}")



def _labels(f: Callable[..., Any], n: int) -> list[str]:
    """f's positional parameter names for n positional arguments, "arg i" where none can be read."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names: list[str] = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            break
    return [names[i] if i < len(names) else f"arg {i}" for i in range(n)]


def _floating(value: Any) -> bool:
    try:
        return np.asarray(value).dtype.kind == "f"
    except (TypeError, ValueError):
        return False


def _wrt_keys(wrt: Any, kind: str, keys: Sequence[int | str]) -> list[int | str] | None:
    if wrt is None:
        return None
    items = [wrt] if isinstance(wrt, (int, str, np.integer)) else list(wrt)
    out: list[int | str] = []
    for w in items:
        if kind == "tuple":
            if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)):
                raise TypeError(f"wrt must hold positions (int) for a tuple x; got {w!r}")
            if not -len(keys) <= int(w) < len(keys):
                raise ValueError(f"wrt position {int(w)} is out of range for x of {len(keys)} arguments")
            out.append(int(w) % len(keys))
        else:
            if w not in keys:
                raise ValueError(f"wrt key {w!r} is not a key of x (its keys are {keys})")
            out.append(str(w))
    if not out:
        raise ValueError("wrt must select at least one argument")
    if len(set(out)) != len(out):
        raise ValueError(f"wrt names an argument twice: {items}")
    return out


def _checked_array(value: Any, label: str) -> Array:
    arr = as_array(value, label, complex_ok=False)
    require_finite(arr, label)
    return arr


def layout(f: Callable[..., Any], x: Any, wrt: Any = None) -> Layout:
    """The structure of x: its arguments, their labels and which are checked (see the module doc).

    Raises ValueError (TypeError) naming the argument for a checked argument that is not a finite real
    array, for a bad `wrt`, and when nothing is left to check.
    """
    if isinstance(x, tuple):
        kind, keys, values = "tuple", list(range(len(x))), list(x)
        labels = _labels(f, len(x))
    elif isinstance(x, Mapping):
        kind = "dict"
        keys = list(x.keys())
        values = [x[k] for k in keys]
        bad = [k for k in keys if not isinstance(k, str)]
        if bad:
            raise TypeError(f"a dict x must have str keys (they name the arguments); got {bad[0]!r}")
        labels = [str(k) for k in keys]
    else:
        if wrt is not None:
            raise ValueError("wrt selects arguments of a tuple or dict x; x is a single array "
                             "(leave wrt=None)")
        return Layout("array", (Slot(0, "x", x, _checked_array(x, "x")),), (0,))
    if not keys:
        raise ValueError(f"x is an empty {kind}: there is nothing to check")
    chosen = _wrt_keys(wrt, kind, keys)
    if chosen is None:
        chosen = [k for k, v in zip(keys, values) if _floating(v)]
        if not chosen:
            raise ValueError(f"no argument of x has a floating dtype (arguments {labels}): name the ones "
                             "to check with wrt")
    slots = tuple(Slot(k, lab, v, _checked_array(v, lab) if k in chosen else None)
                  for k, lab, v in zip(keys, labels, values))
    return Layout(kind, slots, tuple(chosen))
