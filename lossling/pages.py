"""Where the rule pages are: ``lossling/pages`` in an installed package, ``rules/`` in a checkout."""

from __future__ import annotations

from pathlib import Path


def pages_folder() -> Path | None:
    here = Path(__file__).resolve().parent
    for folder in (here / "pages", here.parent / "rules"):
        if folder.is_dir():
            return folder
    return None


def page_path(code: str) -> Path | None:
    """A rule's page, or None when it has none."""
    folder = pages_folder()
    candidate = folder / f"{code}.md" if folder else None
    return candidate if candidate is not None and candidate.is_file() else None
