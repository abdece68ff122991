"""The `backprop-ref` command line: exit codes, one-line errors, reports, `check` on user code."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line_error, run

from backprop_ref import catalogue, cli, tf_twins
from backprop_ref.cli import ProgressLine, main
from backprop_ref.gradcheck import check_grad

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def planted_sigmoid(monkeypatch):
    sigmoid = catalogue.BY_NAME["sigmoid"]
    wrong = dataclasses.replace(sigmoid, derivative=lambda x: 1.001 * sigmoid.derivative(x))
    monkeypatch.setitem(catalogue.BY_NAME, "sigmoid", wrong)
    monkeypatch.setattr(catalogue, "CATALOGUE",
                        tuple(wrong if f.name == "sigmoid" else f for f in catalogue.CATALOGUE))


@pytest.fixture
def heaviside_record(monkeypatch):
    """A formula the checker cannot decide, honestly (no patched verdict): the Heaviside step in ReLU's
    record, whose derivative 0 is right on each piece, but at ReLU's special x = 0 f jumps."""
    relu = catalogue.BY_NAME["relu"]
    step = dataclasses.replace(relu, name="heaviside", twin=None,
                               forward=lambda x: np.where(np.real(x) > 0, 1.0, 0.0) * np.ones_like(x),
                               derivative=np.zeros_like)
    monkeypatch.setitem(catalogue.BY_NAME, "heaviside", step)
    monkeypatch.setattr(catalogue, "CATALOGUE", (*catalogue.CATALOGUE, step))


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's module with a right and a wrong hand-derived gradient, importable by name."""
    (tmp_path / "mynet.py").write_text(textwrap.dedent("""
        import numpy as np

        def loss(W):
            return 0.5 * np.sum(np.tanh(W) ** 2)

        def loss_grad(W):
            a = np.tanh(W)
            return a * (1 - a ** 2)

        def loss_grad_wrong(W):
            return np.tanh(W)  # forgot the chain rule's tanh′

        def loss_grad_float32(W):
            a = np.tanh(W)
            return (a * (1 - a ** 2)).astype(np.float32)

        def act(x):
            return np.tanh(x)

        def act_jacobian(x):
            return np.diag(1 - np.tanh(x) ** 2)

        def step(x):
            return float(np.sum(x > 0))   # jumps at 0: no derivative there

        def step_grad(x):
            return np.zeros_like(x)

        def dense_loss(W, b, X):      # ½ Σ (XW + b)²: ∂/∂W = Xᵀ(XW + b), ∂/∂b = Σ_rows (XW + b)
            return 0.5 * np.sum((X @ W + b) ** 2)

        def dense_grads(W, b, X):
            z = X @ W + b
            return X.T @ z, z.sum(axis=0)

        def dense_grads_dict(p):
            z = p["X"] @ p["W"] + p["b"]
            return {"W": p["X"].T @ z, "b": z.sum(axis=0)}

        def dense_loss_dict(p):
            return dense_loss(p["W"], p["b"], p["X"])

        def dense_grads_bad_shape(W, b, X):
            z = X @ W + b
            return X.T @ z, z.sum(axis=1)   # summed over the wrong axis: shape (N,), not (H,)

        def layer(X):
            return np.tanh(X @ np.array([[0.5, -1.0], [2.0, 0.25]]))

        def layer_backward(u):            # ∂⟨u, tanh(XA)⟩/∂X = (u ∘ (1 − y²)) Aᵀ at the cached X
            A = np.array([[0.5, -1.0], [2.0, 0.25]])
            return (u * (1 - np.tanh(CACHE["X"] @ A) ** 2)) @ A.T

        CACHE = {}
        _layer = layer
        def layer(X):
            CACHE["X"] = X.copy()
            return _layer(X)
    """))
    np.save(tmp_path / "at_the_jump.npy", np.array([0.0, 1.0]))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "dense.npz", W=rng.normal(size=(3, 2)), b=rng.normal(size=2),
             X=rng.normal(size=(4, 3)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("mynet", None)


# ---- audit ----------------------------------------------------------------------------------

def test_audit_passes_and_prints_the_table_and_the_seed():
    code, out, err = run("audit", "--only", "tanh", "relu", "--samples", "3", "--seed", "4")
    assert code == 0, out + err
    assert "seed 4" in err
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["formula", "section", "checks", "oracle"]
    assert lines[-1].startswith("PASS:") and "seed 4" in lines[-1]
    assert sum(line.startswith("relu ") for line in lines) == 3


def test_planted_wrong_derivative_exits_1_and_names_the_formula(planted_sigmoid, tmp_path):
    code, out, _ = run("audit", "--samples", "2", "--no-tf", "--only", "sigmoid", "tanh",
                       "--json", str(tmp_path / "a.json"))
    assert code == 1
    assert "FAILED sigmoid" in out and "FAILED tanh" not in out
    assert out.strip().splitlines()[-1].startswith("FAIL:")
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["verdict"] == "fail"
    assert {r["formula"] for r in doc["records"] if r["verdict"] == "fail"} == {"sigmoid"}


def test_an_inconclusive_audit_exits_3_and_says_so(heaviside_record, tmp_path):
    code, out, _ = run("audit", "--samples", "2", "--no-tf", "--only", "heaviside", "tanh",
                       "--json", str(tmp_path / "a.json"), "--junit-xml", str(tmp_path / "a.xml"))
    assert code == cli.EXIT_STATUS["inconclusive"] == 3, out
    assert "INCONCLUSIVE heaviside [Backward Propagation Algorithm §7.3.2] by central" in out
    assert "FAILED" not in out
    assert out.strip().splitlines()[-1].startswith("INCONCLUSIVE: 3 passed, 0 failed, 1 inconclusive, ")
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["verdict"] == "inconclusive"
    assert [(r["formula"], r["oracle"]) for r in doc["records"] if r["verdict"] == "inconclusive"] == [
        ("heaviside", "central")]
    xml = (tmp_path / "a.xml").read_text()
    assert '<skipped type="inconclusive" message="inconclusive: 1 of 3 cases' in xml


def test_a_failure_outweighs_an_inconclusive_audit(heaviside_record, planted_sigmoid):
    code, out, _ = run("audit", "--samples", "2", "--no-tf", "--quiet", "--only", "heaviside", "sigmoid")
    assert code == 1
    assert "FAILED sigmoid" in out and "INCONCLUSIVE heaviside" in out
    assert out.strip().splitlines()[-1].startswith("FAIL: ")


def test_planted_error_in_the_full_catalogue_run(planted_sigmoid):
    code, out, _ = run("audit", "--samples", "1", "--no-tf", "--quiet")
    assert code == 1 and "FAILED sigmoid" in out


def test_reports_are_written(tmp_path):
    paths = {flag: tmp_path / name for flag, name in
             (("--json", "a.json"), ("--markdown", "a.md"), ("--junit-xml", "a.xml"))}
    argv = ["audit", "--only", "tanh", "--samples", "2", "--no-tf"]
    for flag, path in paths.items():
        argv += [flag, str(path)]
    code, _, _ = run(*argv)
    assert code == 0
    assert json.loads(paths["--json"].read_text())["verdict"] == "pass"
    assert "| tanh |" in paths["--markdown"].read_text()
    assert "<testcase" in paths["--junit-xml"].read_text()


@pytest.mark.parametrize("argv, needle", [
    (["audit", "--only", "sigmoid", "nosuch"], "unknown formula 'nosuch'"),
    (["audit", "--samples", "0"], "argument --samples: N must be an integer ≥ 1, got 0"),
    (["audit", "--samples", "-3"], "argument --samples: N must be an integer ≥ 1, got -3"),
    (["audit", "--samples", "many"], "argument --samples: N must be an integer, got str 'many'"),
    (["audit", "--samples", "1.5"], "argument --samples: N must be an integer, got str '1.5'"),
    (["audit", "--seed", "-1"], "argument --seed: S must be an integer ≥ 0, got -1"),
    (["check", "m:f", "--grad", "m:g", "--shape", "3", "--directions", "0"],
     "argument --directions: K must be an integer ≥ 1, got 0"),
    (["audit", "--json", "/no/such/dir/report.json"], "does not exist"),
    (["audit", "--markdown", "/no/such/dir/report.md"], "does not exist"),
    (["audit", "--junit-xml", "/no/such/dir/report.xml"], "does not exist"),
    (["audit", "--bogus"], "unrecognized arguments"),
    ([], "required"),
    (["demo", "nosuch"], "invalid choice"),
    (["plot", "--out", "/etc/passwd"], "argument --out: '/etc/passwd' is a file, not a directory"),
    (["plot", "--out", "/etc/passwd/figures"], "--out: cannot create directory '/etc/passwd/figures'"),
    (["demo", "himmelblau", "--out", "figures"], "--out: this demo writes no files (only moons draws"),
    (["check", "m:f", "--grad", "m:g", "--shape", "-1,2"], "argument --shape: dimensions must be positive"),
])
def test_usage_errors_exit_2_with_one_line(argv, needle):
    code, out, err = run(*argv)
    assert code == 2
    assert needle in one_line_error(err)
    assert out == ""


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"backprop-ref {version('backprop-ref')}\n"


def test_quiet_prints_nothing_on_stderr_and_the_header_counts_in_words():
    code, _, err = run("audit", "--only", "tanh", "--samples", "1", "--no-tf", "--quiet")
    assert code == 0 and err == ""
    code, _, err = run("audit", "--only", "tanh", "--samples", "1", "--no-tf")
    assert err.splitlines()[0] == "backprop-ref audit: seed 0, 1 sample per formula, 1 formula"


def test_plot_out_creates_the_directory(tmp_path):
    pytest.importorskip("matplotlib")
    where = tmp_path / "new" / "figures"
    code, out, _ = run("plot", "--out", str(where))
    assert code == 0 and where.is_dir() and any(where.glob("*.png")), out


def test_require_tf_without_tensorflow_exits_2(monkeypatch):
    monkeypatch.setattr(tf_twins, "available", lambda: False)
    code, _, err = run("audit", "--only", "sigmoid", "--require-tf")
    assert code == 2
    assert "TensorFlow is not installed" in one_line_error(err)


def test_without_tensorflow_the_tape_column_reads_not_installed(monkeypatch):
    monkeypatch.setattr(tf_twins, "available", lambda: False)
    code, out, _ = run("audit", "--only", "tanh", "--samples", "2")
    assert code == 0
    assert "skipped (not installed)" in out and "TensorFlow not installed" in out


def test_no_tf_with_tensorflow_installed_reads_disabled(tf, tmp_path):
    code, out, _ = run("audit", "--only", "tanh", "--samples", "1", "--no-tf", "--quiet",
                       "--json", str(tmp_path / "a.json"))
    assert code == 0
    assert "skipped (disabled)" in out and "; TensorFlow disabled; " in out.splitlines()[-1]
    assert "not installed" not in out
    assert json.loads((tmp_path / "a.json").read_text())["tensorflow_status"] == "disabled"


def _samples(page):
    """The audit runs a page shows: (argv, table lines) for each ```text block that starts with
    `$ backprop-ref audit --only ...`."""
    blocks = page.read_text(encoding="utf-8").split("```text\n")[1:]
    out = []
    for block in blocks:
        lines = block.split("```")[0].splitlines()
        if lines and lines[0].startswith("$ backprop-ref audit --only "):
            out.append((lines[0].split()[2:], [line for line in lines[1:] if "  " in line]))
    return out


@pytest.mark.parametrize("page", [ROOT / "README.md", ROOT / "docs" / "audit.md"], ids=lambda p: p.name)
def test_the_pages_audit_samples_are_the_audits_output(page, tf):
    # what each row names and decides; its figures (two digits of an error) are the run's own
    samples = _samples(page)
    assert samples, f"{page.name} shows no audit run"
    for argv, shown in samples:
        _, out, _ = run(*argv, "--quiet")
        table = [line for line in out.splitlines() if "  " in line]
        assert len(table) == len(shown), (argv, out)

        def named(line):
            cells = line.split("  ")
            cells = [c.strip() for c in cells if c.strip()]
            return cells[:5] + cells[-1:]

        assert [named(line) for line in shown] == [named(line) for line in table], argv


def test_audit_output_is_deterministic_for_a_seed():
    def table():
        _, out, _ = run("audit", "--only", "mlp", "softmax", "--samples", "3", "--seed", "9", "--no-tf")
        return out.splitlines()[:-1]   # the summary line last, with the time taken

    assert table() == table()


def test_list_names_every_formula():
    code, out, _ = run("audit", "--list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [f.name for f in catalogue.CATALOGUE]


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "audit" in capsys.readouterr().out


@pytest.mark.parametrize("command", [[], ["audit"], ["check"]])
def test_help_states_every_exit_status(capsys, command):
    assert main([*command, "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert ("exit status: 0 pass, 1 a check failed, 2 usage error or missing requirement, 3 inconclusive "
            "(nothing failed, but the checker could not decide some check)") in help_text
    assert cli.EXIT_STATUS == {"pass": 0, "fail": 1, "usage": 2, "inconclusive": 3}


# ---- check ----------------------------------------------------------------------------------

def test_check_passes_a_correct_gradient(user_module):
    code, out, _ = run("check", "mynet:loss", "--grad", "mynet:loss_grad", "--shape", "3,4")
    assert code == 0, out
    assert out.strip().endswith("PASS") and "(3, 4)" in out


def test_check_fails_a_wrong_gradient_with_the_report(user_module):
    code, out, _ = run("check", "mynet:loss", "--grad", "mynet:loss_grad_wrong", "--shape", "3,4",
                       "--seed", "1")
    assert code == 1
    assert out.strip().endswith("FAIL") and "seed 1" in out


def test_check_that_cannot_decide_exits_3_with_the_reason(user_module):
    code, out, _ = run("check", "mynet:step", "--grad", "mynet:step_grad", "--x", "at_the_jump.npy")
    assert code == 3, out
    assert "gradient check INCONCLUSIVE: 0 of 2 entries outside tolerance, 1 could not be judged" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("INCONCLUSIVE: 1 of 2 entries could not be judged at any admissible step "
                           "(x[0]: f jumps at x[0]")
    assert last.endswith("the rest pass")


def test_check_judges_a_float32_gradient_as_check_grad_does(user_module):
    import mynet

    x = np.random.default_rng(0).standard_normal((3, 4))   # the CLI's x for --shape 3,4 and seed 0
    g = mynet.loss_grad_float32(x)
    # float32's rounding is visible at float64's precision, so only a check at float32's can pass it
    assert not check_grad(mynet.loss, x, g.astype(np.float64), seed=0).passed
    assert check_grad(mynet.loss, x, mynet.loss_grad_float32, seed=0).passed
    code, out, _ = run("check", "mynet:loss", "--grad", "mynet:loss_grad_float32", "--shape", "3,4")
    assert code == 0, out
    assert out.strip().endswith("PASS")


def test_check_jacobian_and_other_methods(user_module):
    assert run("check", "mynet:act", "--grad", "mynet:act_jacobian", "--shape", "4", "--jacobian")[0] == 0
    assert run("check", "mynet:loss", "--grad", "mynet:loss_grad", "--shape", "2x2",
               "--method", "complex")[0] == 0
    assert run("check", "mynet:loss", "--grad", "mynet:loss_grad", "--shape", "20,30",
               "--directions", "4")[0] == 0


def test_check_loads_x_from_a_file(user_module):
    np.save(user_module / "x.npy", np.linspace(-1, 1, 6).reshape(2, 3))
    code, out, _ = run("check", "mynet:loss", "--grad", "mynet:loss_grad", "--x", "x.npy")
    assert code == 0 and "(2, 3)" in out


@pytest.mark.parametrize("function, grad, needle", [
    ("nosuchmodule:f", "mynet:loss_grad", "cannot import module 'nosuchmodule'"),
    ("mynet:nosuch", "mynet:loss_grad", "has no attribute 'nosuch'"),
    ("mynet", "mynet:loss_grad", "MODULE:FUNCTION"),
    ("mynet:loss", "nosuchmodule:g", "cannot import module 'nosuchmodule'"),
])
def test_check_unimportable_function_exits_2(user_module, function, grad, needle):
    code, _, err = run("check", function, "--grad", grad, "--shape", "3")
    assert code == 2
    assert needle in one_line_error(err)


def test_check_takes_named_arrays_from_an_npz_as_a_dict_or_unpacked(user_module):
    code, out, _ = run("check", "mynet:dense_loss_dict", "--grad", "mynet:dense_grads_dict",
                       "--x", "dense.npz", "--wrt", "W,b")
    assert code == 0, out
    assert out.startswith("backprop-ref check mynet:dense_loss_dict against mynet:dense_grads_dict at "
                          "x = {W (3, 2), b (2,), X (4, 3)}")
    assert "    W (3, 2): passed" in out and "    b (2,): passed" in out and out.strip().endswith("PASS")
    code, out, _ = run("check", "mynet:dense_loss", "--grad", "mynet:dense_grads", "--x", "dense.npz",
                       "--unpack", "--wrt", "W,b")
    assert code == 0 and "    W (3, 2): passed" in out, out


def test_check_a_claim_of_the_wrong_shape_is_a_failed_check_naming_the_argument(user_module):
    code, out, _ = run("check", "mynet:dense_loss", "--grad", "mynet:dense_grads_bad_shape",
                       "--x", "dense.npz", "--unpack", "--wrt", "W,b")
    assert code == 1
    assert out.strip().splitlines()[-1].startswith("FAIL: grad for b has shape (4,) but must have shape (2,)")


def test_check_a_layer_backward_with_vjp(user_module):
    code, out, _ = run("check", "mynet:layer", "--grad", "mynet:layer_backward", "--shape", "3,2", "--vjp")
    assert code == 0 and "VJP check passed" in out, out


@pytest.mark.parametrize("extra, says", [
    (["--shape", "3", "--wrt", "W"], "--unpack and --wrt need an .npz --x"),
    (["--x", "dense.npz", "--wrt", "V"], "--wrt names ['V'], which dense.npz does not hold"),
])
def test_check_structured_options_misused_exit_2(user_module, extra, says):
    code, _, err = run("check", "mynet:dense_loss", "--grad", "mynet:dense_grads", *extra)
    assert code == 2 and says in one_line_error(err)


def test_check_needs_a_shape_or_x(user_module):
    code, _, err = run("check", "mynet:loss", "--grad", "mynet:loss_grad")
    assert code == 2 and "--shape" in one_line_error(err)


# ---- progress -------------------------------------------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_an_in_place_bar_on_a_terminal():
    stream = FakeTTY()
    progress = ProgressLine(stream)
    for i in range(3):
        progress(i, 3, f"step {i}")
    progress(3, 3, "done")
    text = stream.getvalue()
    assert "\n" not in text and text.count("\r") >= 4 and "[" in text and "2/3" in text


def test_progress_is_periodic_lines_otherwise():
    stream = io.StringIO()
    progress = ProgressLine(stream, every=3600)
    for i in range(5):
        progress(i, 5, f"step {i}")
    progress(5, 5, "done")
    lines = stream.getvalue().splitlines()
    assert lines == [f"{cli.PROG}: 0/5 step 0 ({lines[0].split('(')[1]}", lines[1]]
    assert lines[1].startswith(f"{cli.PROG}: 5/5 done")


# ---- end to end -----------------------------------------------------------------------------

def _python_m(*argv, cwd=None, env_extra=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), *(env_extra or [])]))}
    return subprocess.run([sys.executable, "-m", "backprop_ref", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_python_m_audit_end_to_end():
    proc = _python_m("audit", "--only", "sigmoid", "--samples", "3")
    assert proc.returncode == 0, proc.stderr
    assert "sigmoid" in proc.stdout and proc.stdout.strip().splitlines()[-1].startswith("PASS")
    assert "seed 0" in proc.stderr and "Traceback" not in proc.stderr


def test_python_m_usage_error_end_to_end():
    proc = _python_m("audit", "--only", "sigmoidd")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown formula 'sigmoidd'" in proc.stderr


@pytest.mark.no_mutmut
def test_python_m_check_end_to_end(user_module):
    ok = _python_m("check", "mynet:loss", "--grad", "mynet:loss_grad", "--shape", "3",
                   cwd=user_module)
    bad = _python_m("check", "mynet:loss", "--grad", "mynet:loss_grad_wrong", "--shape", "3",
                    cwd=user_module)
    undecided = _python_m("check", "mynet:step", "--grad", "mynet:step_grad", "--x", "at_the_jump.npy",
                          cwd=user_module)
    assert (ok.returncode, bad.returncode, undecided.returncode) == (0, 1, 3), (
        ok.stderr + bad.stderr + undecided.stderr)
