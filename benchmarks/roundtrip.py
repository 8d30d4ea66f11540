"""Round trip on real code: ``lossling fix --unsafe-fixes`` over a copy of a corpus, then proof that nothing broke.

    python benchmarks/roundtrip.py [CORPUS_DIR]     # default: the pinned corpus of benchmarks/bench.py

For every file the fixer changed: it still parses and compiles, and every line the diff touches lies inside an
expression a finding reported in the original (or is an import the fix added). Prints the counts; exits 1 on
any broken file.
"""

from __future__ import annotations

import ast
import difflib
import shutil
import sys
import tempfile
from pathlib import Path

from bench import CORPUS, fetch

from lossling.config import Settings
from lossling.document import PythonSource, check_document, fix_document, read_document
from lossling.engine import SourceError
from lossling.files import read_bytes


def changed_lines(before: str, after: str) -> tuple[set[int], list[str]]:
    """Original line numbers the diff replaces or deletes, and the lines it inserts."""
    touched: set[int] = set()
    inserted: list[str] = []
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            touched.update(range(a1 + 1, a2 + 1))
        if tag == "insert":
            inserted.extend(after.splitlines()[b1:b2])
    return touched, inserted


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else fetch(CORPUS, Path.home() / ".cache" / "lossling-bench")
    settings = Settings(unsafe_fixes=True)
    counts = {"files": 0, "changed": 0, "fixes": 0, "broken": 0, "outside": 0, "errors": 0}
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "corpus"
        shutil.copytree(corpus, copy)
        for path in sorted(copy.rglob("*.py")):
            counts["files"] += 1
            rules = settings.rules(str(path))
            try:
                document = read_document(PythonSource, read_bytes(str(path)), str(path))
            except SourceError as error:
                counts["errors"] += 1
                print(f"{path.relative_to(copy)}: not checked: {error}")
                continue
            checked, result = check_document(document, rules), fix_document(document, rules, unsafe=True)
            if checked.error or result.error:
                counts["errors"] += 1
                print(f"{path.relative_to(copy)}: not checked: {checked.error or result.error}")
                continue
            reported, text = checked.findings, document.text()
            if result.after == text:
                continue
            counts["changed"] += 1
            counts["fixes"] += len(result.fixed)
            try:
                compile(ast.parse(result.after), str(path), "exec")
            except SyntaxError as error:
                counts["broken"] += 1
                print(f"{path.relative_to(copy)}: BROKEN by the fix: {error}")
                continue
            allowed = {line for f in reported for line in range(f.span.line, f.span.end_line + 1)}
            touched, inserted = changed_lines(text, result.after)
            stray = sorted(touched - allowed)
            stray_inserts = [line for line in inserted if not line.lstrip().startswith(("import ", "from "))]
            if stray or stray_inserts:
                counts["outside"] += 1
                print(f"{path.relative_to(copy)}: diff outside reported expressions: lines {stray} {stray_inserts}")
    print(", ".join(f"{key}={value}" for key, value in counts.items()))
    return 1 if counts["broken"] or counts["outside"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
