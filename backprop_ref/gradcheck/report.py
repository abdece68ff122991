"""The report of a check: the first line that must read on its own, the worst entries, the steps, the
seed, the bound's terms, and for a check of several arguments one line per argument then each
failing argument's own report. `GradCheckResult.__str__` renders it; nothing here judges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from backprop_ref._numeric import relative_error
from backprop_ref.gradcheck.error_model import param

if TYPE_CHECKING:
    from backprop_ref.gradcheck.result import GradCheckResult

__all__ = ["WHAT", "UNIT", "render", "entry_name", "worst_argument"]


WHAT = {"gradient": "gradient", "jacobian": "Jacobian", "vjp": "VJP", "jvp": "JVP", "adjoint": "adjoint",
        "elementwise": "elementwise derivative"}
UNIT = {"full": "entries", "directional": "directions", "adjoint": "pairs (u, v)"}


def entry_name(label: str, index: tuple[int, ...], x_shape: tuple[int, ...], mode: str, kind: str) -> str:
    """An entry as the report names it: W2[3, 1]; x[1] (output [0]) of a Jacobian; output [2] of a JVP;
    direction 3 in directional mode."""
    idx = list(index)
    if mode == "adjoint":
        return f"{label} pair {idx[0]}" if label != "x" else f"pair {idx[0]}"
    if mode == "directional":
        return ((f"{label} " if label != "x" else "") + f"direction {idx[0]}"
                + (f" (output {idx[1:]})" if len(idx) > 1 else ""))
    if kind == "jvp":
        return f"output {idx}" + (f" along {label}" if label != "x" else "")
    n_out = len(idx) - len(x_shape)
    own = f"{label}{idx[n_out:]}" if x_shape else label
    return own + (f" (output {idx[:n_out]})" if n_out > 0 else "")


def worst_argument(by: dict[str, GradCheckResult]) -> str:
    """The argument that decides: the failing one with the largest err/tol, else an inconclusive one,
    else the one closest to its bound."""
    def key(k: str) -> tuple[int, float]:
        r = by[k]
        rank = {"fail": 2, "inconclusive": 1, "pass": 0}[r.verdict]
        worst = float(np.nanmax(r.ratio)) if r.ratio is not None and np.isfinite(r.ratio).any() else 0.0
        return rank, worst
    return max(by, key=key)


# ---- the report -------------------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v: .6e}" if np.isfinite(v) else f"{v!s:>13}"


def _step_line(r: GradCheckResult) -> list[str]:
    if r.step is None:
        return []
    st = np.asarray(r.step, dtype=np.float64)
    if not st.size:
        return []
    span = f"{float(st.min()):.3g}" + (f"…{float(st.max()):.3g}" if st.max() > st.min() else "")
    per = " per direction (unit directions)" if r.mode == "directional" else " per entry"
    return [f"  step: {span}{per}"]


def _seed_line(r: GradCheckResult) -> str:
    drawn = {"vjp": "the cotangent u", "jvp": "the tangent v", "adjoint": "u and v"}.get(r.kind)
    if drawn and r.seed is not None:
        also = " and the random directions" if r.mode == "directional" else ""
        return (f"  seed {r.seed}: {drawn}{also} drawn from it; replay with the same call and seed={r.seed}"
                + (f"; {r.localised_note}" if r.localised_note else ""))
    if r.mode == "directional":
        return (f"  seed {r.seed}: replay with the same call and seed={r.seed}"
                + (f"; {r.localised_note}" if r.localised_note else ""))
    if r.seed is not None:
        return f"  seed {r.seed} (full mode draws no random numbers)"
    return "  seed: none needed (full mode draws no random numbers)"


def _worst_rows(r: GradCheckResult) -> list[str]:
    ratio = r.ratio
    if ratio is None or not ratio.size:
        return []
    flat = ratio.ravel()
    order = np.argsort(-np.where(np.isnan(flat), -1.0, flat), kind="stable")   # NaN: not judged, last
    judged = [int(i) for i in order if not np.isnan(flat[i])]
    if not judged:
        return []
    if r.verdict != "fail":
        shown = judged[:3]
    else:
        shown = [i for i in judged[:10] if flat[i] > 1.0] or judged[:1]
    label = "worst entries" if r.mode == "full" else "worst directions"
    lines = [f"  {label} (error/tolerance > 1 fails):",
             f"    {'index':<14}{'analytic':>14}{'numerical':>14}{'abs err':>11}{'rel err':>11}"
             f"{'tolerance':>11}{'err/tol':>9}"]
    A, N, T = r.analytic.ravel(), r.numerical.ravel(), r.tolerance.ravel()
    rel = relative_error(A, N)
    shape = r.analytic.shape
    prefix = r.label if r.label != "x" and r.mode == "full" and r.kind != "jvp" else ""
    for i in shown:
        idx = prefix + (str([int(v) for v in np.unravel_index(i, shape)]) if shape else "[]")
        lines.append(f"    {idx:<14}{_fmt(A[i]):>14}{_fmt(N[i]):>14}{abs(A[i] - N[i]):>11.3g}{rel[i]:>11.3g}"
                     f"{T[i]:>11.3g}{flat[i]:>9.3g}")
    return lines


def _first_line(r: GradCheckResult) -> str:
    """The line that must read on its own: verdict, for which arguments, counts, method, mode and cost;
    on a failure the worst entry with both values, and the diagnosis."""
    unit = "output entries" if r.kind == "jvp" else UNIT[r.mode]
    head = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[r.verdict]
    if r.by_argument:
        named = [k for k, v in r.by_argument.items() if v.verdict == r.verdict] if r.verdict != "pass" else []
        whom = f" for {', '.join(named)}" if named else ""
    else:
        whom = f" for {r.label}" if r.label != "x" else ""
    undecided = f", {r.n_inconclusive} could not be judged" if r.n_inconclusive else ""
    line = (f"{WHAT[r.kind]} check {head}{whom}: {r.n_failed} of {r.n_checked} {unit} outside tolerance"
            f"{undecided} (method {r.method}, {r.mode} mode, {r.n_evals} evaluations of f)")
    if r.verdict == "fail" and r.n_failed:
        w = r.by_argument[worst_argument(r.by_argument)] if r.by_argument else r
        a, n = float(w.analytic[w.worst_index]), float(w.numerical[w.worst_index])
        line += f"; worst {w.worst}: analytic {a:.6g} vs numerical {n:.6g}"
    if r.diagnosis:
        line += f" ({r.diagnosis})"
    return line


def render(r: GradCheckResult) -> str:
    if r.by_argument:
        return _structured_report(r)
    lines = [_first_line(r)]
    if r.verdict == "inconclusive":   # (a failure's sentence is the first line's, a pass has none)
        lines.append(f"  inconclusive: {r.reason}")
    lines += _step_line(r)
    lines.append(_seed_line(r))
    lines.append(f"  max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g} "
                 "(relative: |a − n| / max(|a|, |n|))")
    lines += [f"  NOT FINITE: {p}" for p in r.problems[:10]]
    if len(r.problems) > 10:
        lines.append(f"  … and {len(r.problems) - 10} more non-finite values")
    lines += [f"  note: {p}" for p in r.notes[:10]]
    lines += [f"  NOT JUDGED: {p}" for p in r.inconclusive[:10]]
    if len(r.inconclusive) > 10:
        lines.append(f"  … and {len(r.inconclusive) - 10} more entries not judged")
    lines += _worst_rows(r)
    if r.localised:
        lines.append("  bisection localised the wrong entries to: "
                     + ", ".join(str(list(i)) for i in r.localised))
    if r.kinks:
        lines.append(f"  kinks ({len(r.kinks)}): the one-sided derivatives differ; a claim between them "
                     "(a subgradient) passes")
        lines += [f"    {k}" for k in r.kinks[:8]]
    if r.mode == "directional" and r.miss_probability is not None:
        lines.append(f"  miss probability: an error above {r.detectable_error:.3g} in any one entry is seen "
                     f"by each random direction with probability ≥ 1/2, so slips through all "
                     f"with probability ≤ {r.miss_probability:.3g}; a lone wrong entry that large, "
                     "or a scale error along the claimed gradient, is seen with certainty")
    lines.append(f"  tolerance: {r.tolerance_reason}")
    if r.terms is not None and r.n_checked and not r.user_tolerance:
        w = r.worst_index
        wt, wr, wa = (float(t[w]) for t in r.terms)
        s = param("safety")
        lines.append(f"    at {r.worst}: {s:g}×truncation {wt:.2g} + {s:g}×rounding {wr:.2g} + "
                     f"claimed rounding {wa:.2g}")
    if r.taylor is not None and r.verdict != "inconclusive":
        t = r.taylor
        if r.verdict == "fail" and t.conclusive and t.passed:
            lines.append("  second opinion (verdict marginal): the Taylor test observes order "
                         f"{t.order:.2f}; it cannot see an error this close to the bound, so the "
                         "verdict stands")
        else:
            lines.append(f"  second opinion (verdict marginal): {t}")
    return "\n".join(lines)


def _structured_report(r: GradCheckResult) -> str:
    """A check of several arguments: the first line, one line per argument, then the report of each
    argument that did not pass."""
    lines = [_first_line(r)]
    if r.seed is not None:
        lines.append(f"  seed {r.seed}: replay with the same call and seed={r.seed}")
    lines.append("  by argument:")
    for label, sub in r.by_argument.items():
        head = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[sub.verdict]
        ratio = sub.ratio
        worst = (f", worst err/tol {float(np.nanmax(ratio)):.3g} at {sub.worst}"
                 if ratio is not None and np.isfinite(ratio).any() else "")
        unit = UNIT[sub.mode]
        undecided = f", {sub.n_inconclusive} could not be judged" if sub.n_inconclusive else ""
        shape = f" {tuple(sub.x_shape)}" if sub.kind in ("gradient", "jacobian", "vjp") else ""
        lines.append(f"    {label}{shape}: {head}, {sub.n_failed} of {sub.n_checked} {unit} "
                     f"outside tolerance{undecided}{worst}")
    for sub in r.by_argument.values():
        if sub.verdict != "pass":
            lines += ["  " + ln for ln in str(sub).splitlines()]
    return "\n".join(lines)
