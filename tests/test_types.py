"""The type hints hold: mypy (configured in pyproject.toml) finds no error in the lossling package."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_mypy_passes_over_the_package() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "lossling"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
