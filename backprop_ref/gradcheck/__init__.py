"""The gradient checker: numerical derivatives, a verdict from an error model, and a readable report.

Public names: `check_grad`, `assert_grad`, `check_jacobian`, `assert_jacobian`, `numerical_grad`,
`numerical_jacobian`, `taylor_test`, `GradCheckResult`, `InconclusiveCheck`, `Kink`, `TaylorResult`,
`ERROR_MODEL`, `METHODS`.

How a verdict is reached (every number below lives in `ERROR_MODEL`, with its reason):

- Three verdicts: "fail" when an entry (or direction) lies outside its bound or a value is not finite;
  else "inconclusive" when some entries could not be judged at any admissible step (listed, with why);
  else "pass". `assert_*` raise AssertionError on fail and InconclusiveCheck (a subclass) otherwise.
- f's precision: eps_f is that of the dtype f returns, or float32's (float16's) when every value it
  returns is a float32 (float16) number; steps and f's rounding follow eps_f.
- Full mode (``directions=None``) probes every entry i with steps ±h, ±2h (and ±4h for Richardson),
  h = step·max(|x_i|, 1) (step = eps_f^(1/3) for central). The central estimate D(h) errs by truncation
  T ≈ |D(h) − D(2h)|/3 (the two step sizes measure it) plus rounding R = e_f/h, where e_f is f's own
  rounding: f_rounding·eps·max(|f|, max_i max(|x_i|, 1)·|g_i|) for a well-conditioned f, or the noise
  seen in the fourth difference of f when that is larger. An entry passes when |analytic − numerical| ≤
  safety·(T + R) + A, A being the claimed gradient's own rounding: analytic_rounding·(eps_g·(|g_i| +
  max|g|) + eps·max(|f|, max_s|g_si|)), its own entries in its dtype; an entry that would fail adds
  conditioning·eps·max(|x_i|, 1)·|∂g_i/∂x_i| (intermediates of x's scale rounded, amplified by an
  ill-conditioned f). No term has an absolute floor but the smallest normal number: multiplying f by
  any c multiplies every bound by c, and leaves the verdicts as they were.
- Where the stencil leaves f's domain (non-finite, or f raises) the step shrinks 16× at a time until it
  stays inside (noted in the report); where f's rounding swamps the step (R > T and the bound above
  eps_f^(1/2) of the gradient's scale) it grows 4× at a time while T + R falls. An entry whose bound at
  the best step still exceeds its own value and eps_f^(1/3) of the gradient's scale (at a stationary
  point: of how much it moves over x's scale, |f″|·max(|x_i|, 1)) moves f by less than its rounding: it
  is not judged. Nor is a jump: a one-sided difference that keeps its size as the step
  shrinks, down to 64 spacings of x_i (f has no derivative there; a jump 1e-9 from x leaves the stencil).
- Noise: where an output has no entry its first step resolves, or a claim fails or sits at a kink, f(x)
  is evaluated twice more; where it scatters above f's rounding, noise_cover times that noise joins
  e_f (the entries re-probed with it) and the report states it.
- Kinks: the one-sided slopes F = (f(x+h) − f(x))/h and B = (f(x) − f(x−h))/h differ by h·f″ on a
  smooth function (the gap doubles with the step) and by a constant jump at a kink. An entry whose gap
  does not scale with the step is re-probed with steps 16, 256 and 4096 times smaller, and further
  while its slopes still move: a kink within the step moves out of it, a kink at x keeps its gap. At a
  kink the entry passes when the analytic value lies between the one-sided slopes (a subgradient); the
  report lists left and right.
- Directional mode (``directions=k``) compares k directional derivatives along random Rademacher unit
  directions (plus the claimed gradient's own direction) at 2 evaluations each, with steps and f's
  rounding in eps_f; the truncation along a direction is bounded by its curvature, t·|φ″|/6, seen in
  the second difference with f(x). A direction whose stencil leaves f's domain shrinks its step until
  it stays inside; where rounding swamps the step it grows as in full mode (its truncation then
  measured from two steps); a direction no step resolves is not judged. A direction that fails, or
  passes only by that bound, is probed again at a 16× smaller step: a one-sided gap that keeps its
  size is a kink at x, judged by the kink rule with the slopes' own error (the curvature bound would
  count the jump as truncation); a claim outside those slopes is split into blocks, and passes where
  each block holds within its own and f adds up over the blocks (separate kinks). A failing
  direction is localised by bisection over blocks of entries.
- Complex step: Im f(x + ih·e_i)/h has no subtractive cancellation; its error is that of an analytic
  derivative, complex_rounding·eps·(|n_i| + max|n| + max(|f|, max_s|n_si|)) + tiny/h; an entry (or
  direction) it would fail adds the conditioning term, its slope read from the complex step at x ± δ.
  An entry within its bound only by the rounding allowed at the gradient's and f's scale, a bound above
  the entry itself, is not judged (a sign error could hide there).
- The verdict: one rule (`verdict.judge`) decides every entry or direction in both modes: the smooth
  bound, or at a kink the interval between the one-sided slopes; the user's atol + rtol·|numerical|
  replaces the model's bound when given. A marginal verdict asks the Taylor test for a second opinion.

The layout, one module per step of the algorithm; each imports only the ones above it:

    error_model   ERROR_MODEL, param(), the functions that turn its terms into a bound (NumPy only)
    evaluation    Evaluator (calls f: copies, real or complex, counts calls), the claim, the user's
                  tolerance (UserTolerance), the seed
    kinks         KinkEvidence, the gap, suspect, steady-slopes and interval rules, for both modes
    verdict       judge(): the one pass/fail rule; Verdict
    stencils      one probe level of central or Richardson differences and its statistics; keeping a
                  coordinate's stencil inside f's domain
    report        the report: the first line that stands alone, the worst entries, by argument
    diagnosis     what a failure's pattern says (a factor, a sign, a transpose, a swap, ...)
    result        GradCheckResult, Kink, TaylorResult (frozen), Judged → build_result(), combine()
    ties          where several kinks meet in one output: do they interact, is the claim in the hull
    complex_step  the complex step's probes: its noise, its conditioning slope, the not-analytic recheck
    full          full mode: refinement, judge_full()
    bisection     localising a failing direction's wrong entries
    directions    replay(seed, j, n), the random directions and the probes along them
    directional_steps  where the first step does not do: f's domain, a swamped step, no step at all
    directional   judge_directional(): f's noise, kinks along a direction, localising
    taylor        taylor_test() and the marginal verdict's second opinion
    arguments     structured x (a tuple called as f(*x), a dict as f(x)), wrt, the arguments' labels
    api           check_grad, assert_grad, check_jacobian, assert_jacobian, numerical_grad/jacobian:
                  each checked argument judged on its own, combined (result.by_argument)
    rules         check_vjp, check_jvp, check_adjoint: the user's backward and forward passes
    elementwise   check_elementwise: every entry of an elementwise f moved at once, full mode's rules
"""

from backprop_ref.gradcheck.api import (
    assert_grad,
    assert_jacobian,
    check_grad,
    check_jacobian,
    numerical_grad,
    numerical_jacobian,
)
from backprop_ref.gradcheck.elementwise import assert_elementwise, check_elementwise
from backprop_ref.gradcheck.error_model import ERROR_MODEL, METHODS
from backprop_ref.gradcheck.result import GradCheckResult, InconclusiveCheck, Kink, TaylorResult
from backprop_ref.gradcheck.rules import (
    assert_adjoint,
    assert_jvp,
    assert_vjp,
    check_adjoint,
    check_jvp,
    check_vjp,
)
from backprop_ref.gradcheck.taylor import taylor_test

__all__ = [
    "ERROR_MODEL", "METHODS", "Kink", "TaylorResult", "GradCheckResult",
    "numerical_grad", "numerical_jacobian", "check_grad", "assert_grad",
    "check_jacobian", "assert_jacobian", "taylor_test", "InconclusiveCheck",
    "check_vjp", "assert_vjp", "check_jvp", "assert_jvp", "check_adjoint", "assert_adjoint",
    "check_elementwise", "assert_elementwise",
]
