"""What the editor shows of a rule: the link to its page (rules/LOSSnnn.md, shipped as lossling/pages) and the
hover text drawn from that page."""

from __future__ import annotations

import re
from functools import lru_cache

from ..pages import page_path
from ..finding import Finding
from ..rule import rule_by_code


@lru_cache(maxsize=None)
def page_uri(code: str) -> str | None:
    path = page_path(code)
    return path.as_uri() if path else None


@lru_cache(maxsize=None)
def _sections(code: str) -> dict[str, str]:
    path = page_path(code)
    if path is None:
        return {}
    parts = re.split(r"^## (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def hover(finding: Finding, markdown: bool = True) -> str:
    """The finding, its rule's summary, and the page's account of where the original breaks and what the stable
    form gives ("Why it is bad"), with a link to the whole page."""
    rule = rule_by_code().get(finding.code)
    if rule is None:
        return f"{finding.code} {finding.message}"
    why = _sections(finding.code).get("Why it is bad", "")
    uri = page_uri(finding.code)
    if not markdown:
        return "\n\n".join(part for part in (f"{rule.code} {rule.name}", finding.message, rule.summary, why, uri)
                           if part)
    parts = [f"**{rule.code} {rule.name}** · fix: {rule.fix_safety.value}", finding.message, rule.summary]
    if why:
        parts.append(f"**Why it is bad.** {why}")
    if uri:
        parts.append(f"[{rule.code} explained]({uri})")
    return "\n\n".join(parts)
