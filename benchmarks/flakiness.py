"""Run the full suite N times with fresh random hypothesis seeds and record every seed.

The suite is measured at a commit, not at a work tree: the script clones the repository at
`--rev` into a temporary directory and runs there, so uncommitted edits and a stale example
database cannot make a run pass or fail. Each run uses the `dev` profile (not derandomised),
an empty example database (a failure found in run 3 must not be replayed in run 4: the runs are
independent draws) and its own `--hypothesis-seed`, so any failure replays with

    BACKPROP_REF_PROFILE=dev python -m pytest --hypothesis-seed=SEED

Usage:  python benchmarks/flakiness.py [--runs 20] [--workers 0] [--rev HEAD] [--out FILE] [-- PYTEST ARGS]

Arguments after `--` go to pytest (e.g. test modules to run instead of the whole suite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^(?:=+ )?(\d+ (?:passed|failed|error).*?) in [\d.]+s", re.MULTILINE)
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def clone(rev: str, into: Path) -> str:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", rev], check=True)
    out = subprocess.run(["git", "-C", str(into), "rev-parse", "--short", "HEAD"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def run_once(where: Path, seed: int, workers: int, log: Path,
             extra: list[str]) -> tuple[int, str, list[str], float]:
    shutil.rmtree(where / ".hypothesis", ignore_errors=True)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}"]
    if workers:
        cmd += ["-n", str(workers)]
    cmd += extra
    env = {**os.environ, "BACKPROP_REF_PROFILE": "dev", "BACKPROP_REF_REQUIRE_TF": "1",
           "OPENBLAS_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=where, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    log.write_text(proc.stdout + proc.stderr)
    summary = SUMMARY.findall(proc.stdout)
    last = summary[-1] if summary else "no summary line"
    return proc.returncode, last, FAILED.findall(proc.stdout), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="pytest-xdist workers (0: none)")
    parser.add_argument("--rev", default="HEAD", help="the commit to measure")
    parser.add_argument("--out", type=Path, help="append the markdown result to this file")
    parser.add_argument("--logs", type=Path, default=Path(tempfile.gettempdir()) / "backprop-ref-flakiness")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args(argv)

    args.logs.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows, failures = [], 0
    with tempfile.TemporaryDirectory(prefix="backprop-ref-flaky-") as tmp:
        commit = clone(args.rev, Path(tmp))
        for i in range(1, args.runs + 1):
            seed = secrets.randbelow(2**32)
            log = args.logs / f"run{i:02d}.log"
            code, summary, failed, secs = run_once(Path(tmp), seed, args.workers, log, args.pytest_args)
            failures += code != 0
            rows.append(f"| {i} | {seed} | {code} | {summary} | {secs:.0f} s | {', '.join(failed) or '—'} |")
            print(rows[-1], flush=True)

    workers = f" -n {args.workers}" if args.workers else ""
    extra = (" " + " ".join(args.pytest_args)) if args.pytest_args else ""
    report = "\n".join([
        f"### {started}, commit {commit}: {args.runs} runs, {failures} failed",
        "",
        f"Command: `python benchmarks/flakiness.py --runs {args.runs} --workers {args.workers}"
        f"{' --' + extra if extra else ''}` (each run: `BACKPROP_REF_PROFILE=dev BACKPROP_REF_REQUIRE_TF=1 "
        f"python -m pytest -q -p no:cacheprovider --hypothesis-seed=SEED{workers}{extra}` in a fresh clone "
        f"of {commit}, empty example database).",
        "",
        "| run | seed | exit | pytest summary | time | failed tests |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])
    print(report)
    if args.out:
        with args.out.open("a") as fh:
            fh.write("\n" + report)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
