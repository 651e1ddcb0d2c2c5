"""A usage error or an interrupt ends a bundle run with one line and exit code 2 or 130; other errors keep their
traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lungseg_monai.run_errors import UsageError, require_file, usage_error_behind


def test_the_usage_error_behind_monai_wrapping_is_found():
    try:
        try:
            raise UsageError("--dataset_dir /x: no such folder")
        except UsageError as inner:
            raise RuntimeError("Failed to evaluate ConfigExpression") from inner
    except RuntimeError as wrapped:
        assert str(usage_error_behind(wrapped)) == "--dataset_dir /x: no such folder"
    assert usage_error_behind(ValueError("not a user's mistake")) is None


def test_require_file(tmp_path):
    weights = tmp_path / "model.pt"
    with pytest.raises(UsageError, match=f"^--ckpt_path {weights}: no such file$"):
        require_file(weights, "--ckpt_path")
    weights.write_bytes(b"")
    assert require_file(weights, "--ckpt_path") == str(weights)


def _python(code: str, error_exit: int | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` after installing the hook twice (as two configs of one process would)."""
    install = "lungseg_monai.report_usage_errors"
    prelude = f"import lungseg_monai; {install}(); {install}({error_exit})\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("code", "exit_code", "stderr"),
    [
        (
            "raise RuntimeError('Failed') from lungseg_monai.UsageError('--input_dir /x:\\n no such folder')",
            2,
            "error: --input_dir /x: no such folder\n",
        ),
        ("raise KeyboardInterrupt", 130, "interrupted\n"),
    ],
)
def test_the_hook_ends_the_process_with_one_line(code, exit_code, stderr):
    result = _python(code)
    assert (result.returncode, result.stderr) == (exit_code, stderr)


@pytest.mark.parametrize("error_exit", [None, 3])
def test_other_errors_keep_their_traceback(error_exit):
    result = _python("print('logged before', flush=True)\nraise ValueError('a bug')", error_exit)
    assert result.returncode == (error_exit or 1)
    assert result.stdout == "logged before\n"
    assert result.stderr.count("Traceback") == 1 and result.stderr.endswith("ValueError: a bug\n")
