"""What the command-line tests share: running `main` in-process, and the one-line error it must print."""

from __future__ import annotations

import io

from backprop_ref.cli import main


def run(*argv):
    """(exit status, stdout, stderr) of `backprop-ref *argv`, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line_error(err):
    """The error's one line; fails unless stderr holds exactly one line and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
