"""torch's side of benchmarks/adversarial.py, run in the peers' venv (torch 2.13, numpy); prints JSON.

    OPENBLAS_NUM_THREADS=1 /work/venv-peers/bin/python benchmarks/adversarial_peers.py [--only SUBSTRING]

The cases come from adversarial.py itself (its case records import only NumPy). Each claim is judged by
torch.autograd.gradcheck at its defaults on float64 tensors: the NumPy f runs inside a
torch.autograd.Function whose backward returns the claim (J·v for a Jacobian), so gradcheck compares
its finite differences with the claim. Above TORCH_FULL_MAX entries it runs with fast_mode=True.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adversarial import TORCH_FULL_MAX, Case, cases


def verdict(case: Case, f, claim: np.ndarray) -> dict[str, str]:
    import torch

    g = torch.as_tensor(np.asarray(claim, dtype=np.float64))

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            # detach().numpy() shares v's memory, as user code wrapping a NumPy f usually does
            return torch.as_tensor(np.asarray(f(v.detach().numpy()), dtype=np.float64))

        @staticmethod
        def backward(ctx, go):
            return torch.tensordot(go, g, dims=go.dim()) if case.jacobian else go * g

    v = torch.tensor(case.x, dtype=torch.float64, requires_grad=True)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ok = torch.autograd.gradcheck(F.apply, (v,), raise_exception=False,
                                          fast_mode=case.x.size > TORCH_FULL_MAX)
    except Exception as exc:  # an error is an outcome here
        return {"verdict": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"verdict": "pass" if ok else "fail"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "cases": {}}
    for case in cases():
        if args.only in case.name:
            # one verdict per f: a noisy f is judged once per noise seed
            out["cases"][case.name] = [[verdict(case, f, claim) for f in case.functions()]
                                       for claim in (case.right, case.wrong)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
