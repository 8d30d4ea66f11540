"""Shared by the tests: the fixture files, their ``# expect:`` annotations, and lossling's own check and fix."""

from __future__ import annotations

import io
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lossling.config import Settings
from lossling.discovery import kind_of
from lossling.document import FileResult, FixOutcome, PythonSource, fix_document
from lossling.engine import check_source
from lossling.finding import Finding, Safety
from lossling.rule import Rule
from lossling.runner import Target, check_file, fix_file

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


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (folders made as needed) and return ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def every_rule() -> Settings:
    """Settings that select every rule by its code, the opt-in ones too (fixtures and proofs cover them all)."""
    from lossling.rule import all_rules

    return Settings(select=tuple(rule.code for rule in all_rules()))


def check(text: str, path: str = "fixture.py", settings: Settings | None = None,
          rules: list[Rule] | None = None) -> list[Finding]:
    """The findings of ``rules`` (default: those the settings enable) in ``text``; raises SourceError."""
    return check_source(text, path, (settings or every_rule()).rules(path) if rules is None else rules).findings


def fixed(text: str, unsafe: bool = False, path: str = "fixture.py", settings: Settings | None = None,
          rules: list[Rule] | None = None) -> FixOutcome:
    """lossling's fix of ``text`` (nothing written); a file it cannot fix raises the outcome's error."""
    rules = (settings or every_rule()).rules(path) if rules is None else rules
    outcome = fix_document(PythonSource(path, text), rules, unsafe)
    if outcome.error is not None:
        raise outcome.error
    return outcome


def fix(text: str, unsafe: bool = False, path: str = "fixture.py", settings: Settings | None = None,
        rules: list[Rule] | None = None) -> str:
    return fixed(text, unsafe, path, settings, rules).after


def target(path: str | Path, settings: Settings | None = None) -> Target:
    return Target(str(path), kind_of(str(path)), settings or Settings())


def check_path(path: str | Path, settings: Settings | None = None) -> FileResult:
    return check_file(target(path, settings))


def fix_path(path: str | Path, settings: Settings | None = None, write: bool = True) -> FixOutcome:
    return fix_file(target(path, settings), write)


@dataclass
class Run:
    code: int
    out: str
    err: str
    stdout: bytes


def run(*argv: str, stdin: bytes = b"", cwd: str | Path | None = None) -> Run:
    """``lossling ARGV`` in this process, so that monkeypatches apply (one job unless ``-j`` is given)."""
    from lossling.cli import main

    argv = list(argv)
    if argv and argv[0] in ("check", "fix") and not any(a.startswith(("-j", "--jobs")) for a in argv):
        argv[1:1] = ["-j", "1"]
    if argv and argv[0] in ("check", "fix") and not any(a.startswith(("--cache-dir", "--no-cache")) for a in argv):
        argv[1:1] = ["--no-cache"]  # hermetic: tests/test_cache.py covers the cache with its own folder
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", newline="", write_through=True)
    try:
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        os.chdir(saved[3])
    return Run(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), stdout)


class UnsafeEps(Rule):
    """A stand-in rule whose fix is unsafe: ``torch.log(p)`` -> ``torch.log(p + 1e-12)`` (no real rule has exactly
    this behaviour, and tests of the fix machinery should not depend on one)."""

    code = "LOSS102"
    name = "test-eps"
    summary = "test"
    fix_safety = Safety.UNSAFE

    def check(self, module):
        for log in module.ops("log"):
            if module.text(log.input) == "p":
                yield self.finding(module, log.node, "log of p; add an eps",
                                   self.replace(module, log.node, "torch.log(p + 1e-12)"))
