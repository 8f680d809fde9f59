"""The Python examples of the project's README run as written (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert python_blocks(), "the README shows Python"


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(python_blocks()[index], f"README.md python block {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "USD" in out and "line 1" in out, out
