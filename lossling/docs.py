"""The README's rules table, generated from the rule classes.

``python -m lossling.docs`` rewrites the table between the markers in README.md (or the file given);
``python -m lossling.docs --check`` exits 1 when it is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .rule import all_rules

BEGIN, END = "<!-- rules-table -->", "<!-- /rules-table -->"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_table() -> str:
    """A Markdown table: code (linked to its page in rules/), name, severity, whether it runs by default, fix
    safety, summary, and the options with their defaults when any rule has options."""
    rules = all_rules()
    with_options = any(rule.options for rule in rules)
    rows = ["| code | name | severity | default | fix | summary |" + (" options (default) |" if with_options else ""),
            "|---|---|---|---|---|---|" + ("---|" if with_options else "")]
    for rule in rules:
        row = (f"| [{rule.code}](rules/{rule.code}.md) | {rule.name} | {rule.severity} | "
               f"{'yes' if rule.default else 'opt-in'} | {rule.fix_safety.value} | {_cell(rule.summary)} |")
        if with_options:
            row += " " + ", ".join(f"`{name} = {toml_value(value)}`" for name, value in rule.options.items()) + " |"
        rows.append(row)
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README needs the markers {BEGIN} and {END}")
    return readme[:start + len(BEGIN)] + "\n" + rules_table() + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lossling.docs", description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", default="README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is out of date; write nothing")
    args = parser.parse_args(argv)
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    updated = with_table(text)
    if args.check:
        if updated != text:
            print(f"{path}: the rules table is out of date; run python -m lossling.docs", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"{path}: rules table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
