"""`backprop-ref`: the audit, a check of the user's own gradient, the worked demos, the plots.

Exit status (`EXIT_STATUS`): 0 everything passed, 1 a check failed, 2 a usage error or a missing
requirement (unknown formula, non-positive --samples, unimportable MODULE:FUNCTION, an output directory
that does not exist, TensorFlow absent under --require-tf, matplotlib absent for plots), 3 inconclusive:
nothing failed but the checker could not decide some check (f jumps at x, or an entry moves f by less
than its rounding at every admissible step); a failure outweighs it. Not 0, since nothing was shown
right; not 1, which keeps meaning that a derivative was shown wrong.
Errors are one line on stderr; progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from backprop_ref._validate import integer

__all__ = ["main", "UsageError", "ProgressLine", "EXIT_STATUS"]

PROG = "backprop-ref"

EXIT_STATUS = {"pass": 0, "fail": 1, "usage": 2, "inconclusive": 3}
EPILOG = ("exit status: 0 pass, 1 a check failed, 2 usage error or missing requirement, "
          "3 inconclusive (nothing failed, but the checker could not decide some check)")


class UsageError(Exception):
    """A usage error or missing requirement: one line on stderr, exit status 2 (EXIT_STATUS["usage"])."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


class ProgressLine:
    """Progress on a stream: an in-place bar on a terminal, a line every `every` seconds otherwise."""

    def __init__(self, stream: TextIO, *, every: float = 2.0, width: int = 24) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.every = every
        self.width = width
        self.last = -float("inf")
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int, label: str) -> None:
        now = time.perf_counter()
        elapsed = now - self.start
        if self.tty:
            filled = self.width * done // max(total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {elapsed:5.1f}s {label[:40]:<40}")
            if done >= total:
                self.stream.write("\r" + " " * (self.width + 60) + "\r")
            self.stream.flush()
            self.shown = True
        elif done >= total or now - self.last >= self.every:
            self.stream.write(f"{PROG}: {done}/{total} {label} ({elapsed:.1f} s)\n")
            self.stream.flush()
            self.last = now


# ---- argument types -------------------------------------------------------------------------

def _integer(metavar: str, minimum: int) -> Callable[[str], int]:
    """An argparse type: the text as an integer ≥ `minimum`, checked and worded by _validate.integer
    (named by its metavar; argparse names the option)."""
    def parse(text: str) -> int:
        try:
            value: Any = int(text)
        except ValueError:
            value = text   # not an integer: integer() says so
        try:
            return integer(value, metavar, minimum=minimum)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _shape(text: str) -> tuple[int, ...]:
    text = text.strip().strip("()[]")
    if not text:
        return ()
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected dimensions like 3,4 (or 3x4; empty for a scalar), got {text!r}") from None
    if any(d < 1 for d in shape):
        raise argparse.ArgumentTypeError(f"dimensions must be positive, got {text!r}")
    return shape


def _output_path(text: str) -> Path:
    path = Path(text)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {str(parent)!r} does not exist (for {text!r})")
    return path


def _output_dir(text: str) -> Path:
    """A directory to write into: created (with its parents) when it does not exist yet; an error when
    the path is a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory")
    return path


def _make_dir(path: Path, command: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{PROG} {command}: --out: cannot create directory {str(path)!r} "
                         f"({exc.strerror or exc})") from None


def _build_parser() -> _Parser:
    from backprop_ref import demos
    from backprop_ref.audit import DEFAULT_SAMPLES, DEFAULT_SEED

    parser = _Parser(prog=PROG, description="Audit backpropagation formulas against numerical oracles.",
                     epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    audit = sub.add_parser("audit", help="check every catalogue formula against every oracle",
                           description="Check every catalogue formula against central differences, the "
                           "complex step and (when installed) tf.GradientTape.", epilog=EPILOG)
    audit.add_argument("--catalogue", action="append", metavar="MODULE:NAME",
                       help="audit your own records instead of backprop_ref's: NAME a sequence of "
                       "backprop_ref.catalogue.Formula records in an importable module (the current "
                       "directory is on the path); repeatable")
    audit.add_argument("--only", nargs="+", metavar="NAME", help="audit only these formulas")
    audit.add_argument("--samples", type=_integer("N", 1), default=DEFAULT_SAMPLES, metavar="N",
                       help=f"random draws per formula, besides its specials (default {DEFAULT_SAMPLES})")
    audit.add_argument("--seed", type=_integer("S", 0), default=DEFAULT_SEED, metavar="S",
                       help=f"seed of the draws; the same seed replays a failure (default {DEFAULT_SEED})")
    tf = audit.add_mutually_exclusive_group()
    tf.add_argument("--require-tf", action="store_true",
                    help="fail (exit 2) instead of skipping the tape column when TensorFlow is absent")
    tf.add_argument("--no-tf", action="store_true",
                    help="skip the tape column even when TensorFlow is installed")
    audit.add_argument("--json", type=_output_path, metavar="PATH", help="write a JSON report")
    audit.add_argument("--markdown", type=_output_path, metavar="PATH", help="write a Markdown report")
    audit.add_argument("--junit-xml", type=_output_path, metavar="PATH",
                       help="write JUnit XML (one test case per formula × oracle)")
    audit.add_argument("--list", action="store_true", help="list the formula names and exit")
    audit.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    check = sub.add_parser("check", help="check your own gradient: MODULE:FUNCTION --grad MODULE:GRAD",
                           description="Run the gradient checker on your code: FUNCTION(x) returns a scalar "
                           "(or an array with --jacobian or --vjp), GRAD(x) your derivative of it, or with "
                           "--vjp GRAD(u) its backward pass for a cotangent u. x is drawn from a standard "
                           "normal with --shape, or loaded with --x FILE.npy, or --x FILE.npz: a dict of "
                           "named arrays, passed as f(x), or as f(*x) in f's parameter order with "
                           "--unpack; GRAD returns a dict (a tuple) over the checked arguments (--wrt). "
                           "Prints the report and PASS, FAIL or INCONCLUSIVE: the reason; a claim of the "
                           "wrong shape is a FAIL naming the argument.", epilog=EPILOG)
    check.add_argument("function", metavar="MODULE:FUNCTION")
    check.add_argument("--grad", required=True, metavar="MODULE:GRAD")
    where = check.add_mutually_exclusive_group(required=True)
    where.add_argument("--shape", type=_shape, metavar="D1,D2,…",
                       help="shape of x: 3,4 or 3x4 (empty for a scalar)")
    where.add_argument("--x", type=Path, metavar="FILE", help="load x from a .npy (one array) or .npz file "
                       "(named arrays)")
    check.add_argument("--unpack", action="store_true",
                       help="with an .npz x: call FUNCTION(*x) with its arrays in FUNCTION's parameter order")
    check.add_argument("--wrt", type=lambda s: [w for w in s.split(",") if w], metavar="NAME,…",
                       help="with an .npz x: the arrays to check (default: every floating one)")
    kind = check.add_mutually_exclusive_group()
    kind.add_argument("--jacobian", action="store_true", help="GRAD returns the Jacobian f.shape + x.shape")
    kind.add_argument("--vjp", action="store_true",
                      help="GRAD(u) is FUNCTION's backward pass: ∂⟨u, FUNCTION(x)⟩/∂x for a cotangent u")
    check.add_argument("--method", choices=("central", "richardson", "complex"), default="central")
    check.add_argument("--directions", type=_integer("K", 1), metavar="K",
                       help="check K random directional derivatives instead of every entry")
    check.add_argument("--rtol", type=float)
    check.add_argument("--atol", type=float)
    check.add_argument("--seed", type=_integer("S", 0), default=0, metavar="S")

    demo = sub.add_parser("demo", help="run one of the source documents' worked examples",
                          description="The source documents' worked examples, reproduced and checked.")
    demo.add_argument("name", choices=tuple(demos.DEMOS), metavar="NAME",
                      help="one of: " + ", ".join(demos.DEMOS))
    demo.add_argument("--seed", type=_integer("S", 0), default=0, metavar="S")
    demo.add_argument("--no-tf", action="store_true", help="do not use TensorFlow's tape as a second oracle")
    demo.add_argument("--out", type=_output_dir, metavar="DIR",
                      help="moons: write the figures (Figures 7.14–7.16) as PNGs here (needs matplotlib)")

    plot = sub.add_parser("plot", help="plot each activation and its derivative with finite differences",
                          description="Each activation and its analytic derivative with central-difference "
                          "points over it (Backward Propagation Algorithm Figures 7.2–7.5), as PNG files. "
                          "Needs matplotlib.")
    plot.add_argument("--out", type=_output_dir, default=Path("."), metavar="DIR",
                      help="directory for the PNG files (default: the current directory)")
    return parser


# ---- commands -------------------------------------------------------------------------------

def _write(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")


def _audit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from backprop_ref.audit_report import error_json, error_junit_xml

    try:
        return _run_audit(args, out, err)
    except UsageError as exc:   # the report files still appear, holding the error, for CI's report step
        _write(args.json, error_json(str(exc)))
        _write(args.junit_xml, error_junit_xml(str(exc)))
        raise


def _user_catalogue(spec: str) -> list[Any]:
    """The records named by --catalogue MODULE:NAME, each checked to be a Formula (whose fields Formula
    checked as the module built it: a malformed record fails the import, with the record and the field)."""
    from backprop_ref.catalogue import Formula

    where = f"{PROG} audit: --catalogue {spec}"
    obj = _resolve(spec, where if ":" in spec else f"{PROG} audit: --catalogue", "MODULE:NAME")
    if isinstance(obj, (str, bytes)) or not hasattr(obj, "__iter__"):
        raise UsageError(f"{where}: it is a {type(obj).__name__}, not a sequence of Formula records")
    records = list(obj)
    for i, r in enumerate(records):
        if not isinstance(r, Formula):
            raise UsageError(f"{where}: item {i} is a {type(r).__name__}, not a "
                             "backprop_ref.catalogue.Formula")
    if not records:
        raise UsageError(f"{where}: it holds no records")
    return records


def _run_audit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from backprop_ref import tf_twins
    from backprop_ref.audit import format_table, run_audit, to_json, to_junit_xml, to_markdown
    from backprop_ref.audit_report import count_of
    from backprop_ref.catalogue import CATALOGUE

    pool = ([r for spec in args.catalogue for r in _user_catalogue(spec)] if args.catalogue
            else list(CATALOGUE))
    by_name = {r.name: r for r in pool}
    if len(by_name) != len(pool):
        twice = sorted({r.name for r in pool if sum(q.name == r.name for q in pool) > 1})
        raise UsageError(f"{PROG} audit: two records share the name {twice[0]!r}")
    if args.list:
        for f in pool:
            out.write(f"{f.name:<26} {f.section:<11} {f.equation}\n")
        return 0
    unknown = [n for n in args.only or () if n not in by_name]
    if unknown:
        raise UsageError(f"{PROG} audit: --only: unknown formula {unknown[0]!r}; valid names are "
                         f"{', '.join(by_name)}")
    formulas = [by_name[n] for n in dict.fromkeys(args.only)] if args.only else pool
    if args.require_tf and not tf_twins.available():
        raise UsageError(f"{PROG} audit: --require-tf: TensorFlow is not installed; "
                         "install it with: pip install 'backprop-ref[tf]'")
    use_tf = False if args.no_tf else None
    if not args.no_tf and tf_twins.available():
        try:
            tf_twins.tensorflow()   # quietly: no oneDNN or absl lines on stderr
        except ImportError as exc:  # installed but broken: say so rather than crash
            if args.require_tf:
                raise UsageError(f"{PROG} audit: --require-tf: TensorFlow fails to import ({exc})") from None
            err.write(f"{PROG} audit: TensorFlow fails to import ({exc}); skipping the tape column\n")
            use_tf = False
    if not args.quiet:
        err.write(f"{PROG} audit: seed {args.seed}, {count_of(args.samples, 'sample')} per formula, "
                  f"{count_of(len(formulas), 'formula')}\n")
    progress = None if args.quiet else ProgressLine(err)
    report = run_audit(formulas, samples=args.samples, seed=args.seed, use_tf=use_tf, progress=progress)
    report = dataclasses.replace(report, catalogues=tuple(args.catalogue or ()))
    out.write(format_table(report) + "\n")
    _write(args.json, to_json(report))
    _write(args.markdown, to_markdown(report))
    _write(args.junit_xml, to_junit_xml(report))
    return EXIT_STATUS[report.verdict]


def _resolve(spec: str, where: str, form: str) -> Any:
    """The object MODULE:NAME names (the current directory on the path); a UsageError prefixed by
    `where` ("backprop-ref check: FUNCTION") for a malformed spec, an unimportable module or a
    missing attribute."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{where} must be {form}, got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(f"{where}: cannot import module {module_name!r} "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{where}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _import(spec: str, what: str) -> Callable[..., Any]:
    obj = _resolve(spec, f"{PROG} check: {what}", "MODULE:FUNCTION")
    if not callable(obj):
        raise UsageError(f"{PROG} check: {spec} is not callable")
    return obj


def _load_x(args: argparse.Namespace, f: Callable[..., Any]) -> tuple[Any, Any, str]:
    """x (an array, a dict or a tuple), the wrt to check it by, and how it reads in the header."""
    if args.x is None:
        if args.unpack or args.wrt:
            raise UsageError(f"{PROG} check: --unpack and --wrt need an .npz --x of named arrays")
        x = np.random.default_rng(args.seed).standard_normal(args.shape)
        return x, None, f"x of shape {x.shape}"
    try:
        loaded = np.load(args.x)
        if isinstance(loaded, np.ndarray):
            if args.unpack or args.wrt:
                raise UsageError(f"{PROG} check: --unpack and --wrt need an .npz --x of named arrays")
            x = np.asarray(loaded, dtype=np.float64)
            return x, None, f"x of shape {x.shape}"
        arrays = {k: loaded[k] for k in loaded.files}
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"{PROG} check: cannot load --x {str(args.x)!r} "
                         f"({type(exc).__name__}: {exc})") from None
    shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
    unknown = [w for w in args.wrt or () if w not in arrays]
    if unknown:
        raise UsageError(f"{PROG} check: --wrt names {unknown}, which {args.x} does not hold "
                         f"(it holds {', '.join(arrays)})")
    if not args.unpack:
        return arrays, args.wrt, f"x = {{{shapes}}}"
    names = [p.name for p in inspect.signature(f).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    missing = [n for n in names if n not in arrays]
    if missing:
        raise UsageError(f"{PROG} check: --unpack: {args.function} takes {missing}, which {args.x} does not "
                         f"hold (it holds {', '.join(arrays)})")
    wrt = None if args.wrt is None else [names.index(w) for w in args.wrt if w in names]
    return tuple(arrays[n] for n in names), wrt, f"x = ({shapes})"


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from backprop_ref.gradcheck import check_grad, check_jacobian, check_vjp

    f = _import(args.function, "FUNCTION")
    grad = _import(args.grad, "--grad")
    x, wrt, where = _load_x(args, f)
    options = {"wrt": wrt, "method": args.method, "directions": args.directions, "rtol": args.rtol,
               "atol": args.atol, "seed": args.seed}
    if args.vjp:
        claimed: Any = grad   # called by check_vjp, right after FUNCTION at x
    else:
        try:
            # As returned, not cast: the checker judges a float32 claim at float32's precision.
            copies = {k: np.copy(v) for k, v in x.items()} if isinstance(x, dict) else (
                tuple(np.copy(v) for v in x) if isinstance(x, tuple) else x.copy())
            claimed = grad(*copies) if isinstance(copies, tuple) else grad(copies)
        except Exception as exc:
            raise UsageError(f"{PROG} check: calling {args.grad} raised {type(exc).__name__}: "
                             f"{exc}") from None
    checker = check_vjp if args.vjp else (check_jacobian if args.jacobian else check_grad)
    out.write(f"{PROG} check {args.function} against {args.grad} at {where} "
              f"(seed {args.seed}, method {args.method})\n")
    try:
        result = checker(f, x, claimed, **options)
    except ValueError as exc:
        if " must have shape " not in str(exc):
            raise UsageError(f"{PROG} check: could not check {args.function}: ValueError: {exc}") from None
        # a claim of the wrong shape is a wrong claim, not a wrong command
        out.write(f"FAIL: {exc}\n")
        return EXIT_STATUS["fail"]
    except Exception as exc:
        raise UsageError(f"{PROG} check: could not check {args.function}: "
                         f"{type(exc).__name__}: {exc}") from None
    out.write(str(result) + "\n")
    verdict = result.verdict.upper()
    out.write((f"{verdict}: {result.reason}" if result.verdict == "inconclusive" else verdict) + "\n")
    return EXIT_STATUS[result.verdict]


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from backprop_ref import demos

    if args.out is not None and args.name != "moons":
        raise UsageError(f"{PROG} demo {args.name}: --out: this demo writes no files (only moons draws "
                         "figures)")
    if args.out is not None:
        _make_dir(args.out, "demo")
    progress = ProgressLine(err, every=1.0)
    try:
        result = demos.run(args.name, seed=args.seed, use_tf=not args.no_tf, out_dir=args.out,
                           progress=progress)
    except demos.MissingRequirement as exc:
        raise UsageError(f"{PROG} demo {args.name}: {exc}") from None
    out.write(demos.format_result(result) + "\n")
    return EXIT_STATUS[getattr(result, "verdict", "pass" if result.passed else "fail")]


def _plot(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from backprop_ref import demos

    _make_dir(args.out, "plot")
    try:
        result = demos.plot(args.out)
    except demos.MissingRequirement as exc:
        raise UsageError(f"{PROG} plot: {exc}") from None
    out.write(demos.format_result(result) + "\n")
    return EXIT_STATUS[result.verdict]


COMMANDS = {"audit": _audit, "check": _check, "demo": _demo, "plot": _plot}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backprop-ref")
    except PackageNotFoundError:   # run from a source tree that was never installed
        return "(not installed)"


def _option_values(argv: Sequence[str]) -> list[str]:
    """argv with `--shape -1,2` joined as `--shape=-1,2`: argparse takes a value that starts with "-"
    for an option (and says "expected one argument"); joined, the shape's own check words the error."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        if a == "--shape":
            nxt = next(it, None)
            out.append(a if nxt is None else f"{a}={nxt}")
        else:
            out.append(a)
    return out


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run the command line; return the exit status (0 pass, 1 a check failed, 2 usage error,
    3 inconclusive: see `EXIT_STATUS`)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = _build_parser().parse_args(_option_values(sys.argv[1:] if argv is None else argv))
        return COMMANDS[args.command](args, out, err)
    except UsageError as exc:
        err.write(f"{exc}\n")
        return EXIT_STATUS["usage"]
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130
