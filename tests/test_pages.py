"""Every rule has its page in rules/, in the one shape, and the page's examples are true."""

from __future__ import annotations

import re

import pytest

from helpers import RULE_PAGES, check, fix
from lossling.finding import Safety
from lossling.rule import all_rules

SECTIONS = ["What it finds", "Why it is bad", "Example", "Fixed example", "Fix safety", "Known limits"]
RULES = all_rules()


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def code_block(section: str) -> str:
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "section has no ```python block"
    return match.group(1)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_shape(rule):
    page = RULE_PAGES / f"{rule.code}.md"
    assert page.is_file(), f"rules/{rule.code}.md is missing"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule.code} {rule.name}\n")
    assert list(sections(text)) == SECTIONS


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_examples(rule):
    parts = sections((RULE_PAGES / f"{rule.code}.md").read_text(encoding="utf-8"))
    bad, good = code_block(parts["Example"]), code_block(parts["Fixed example"])
    assert rule.code in {f.code for f in check(bad)}, "the example is not flagged"
    assert rule.code not in {f.code for f in check(good)}, "the fixed example is flagged"
    if rule.fix_safety is not Safety.NONE:
        assert fix(bad, unsafe=rule.fix_safety is Safety.UNSAFE) == good, "fixing the example gives another text"


def test_no_page_without_rule():
    codes = {rule.code for rule in RULES}
    assert {p.stem for p in RULE_PAGES.glob("LOSS*.md")} <= codes
