"""Shared by the tests: the fixture files, their ``# expect:`` annotations, and lossling's own check and fix."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from lossling.config import Settings
from lossling.engine import check_source
from lossling.fixer import fix_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
RULE_PAGES = ROOT / "rules"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>LOSS\d{3}(?:\s*,\s*LOSS\d{3})*)")


def fixture_files() -> list[Path]:
    """Every sample source under fixtures/ that carries expectations (proofs are checked by their own test)."""
    return sorted(p for p in FIXTURES.rglob("*.py") if not p.name.startswith("proof_"))


def expected(text: str) -> Counter:
    """(line, code) pairs announced by ``# expect: LOSS102`` or ``# expect: LOSS102, LOSS301`` comments."""
    found: Counter = Counter()
    for number, line in enumerate(text.splitlines(), 1):
        match = EXPECT.search(line)
        if match:
            for code in re.findall(r"LOSS\d{3}", match.group("codes")):
                found[(number, code)] += 1
    return found


def check(text: str, path: str = "fixture.py", settings: Settings | None = None):
    return check_source(text, path, settings or Settings())


def fix(text: str, unsafe: bool = False, path: str = "fixture.py", settings: Settings | None = None) -> str:
    return fix_source(text, path, settings or Settings(), unsafe).text
