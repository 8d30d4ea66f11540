"""``lossling server`` with one more rule, LOSS999, that raises on every file mentioning ``log``: the end-to-end
tests check that its error is logged and the other rules' findings still arrive."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lossling import config  # noqa: E402
from lossling.rule import Rule, all_rules  # noqa: E402
from lossling.server import main  # noqa: E402


class Broken(Rule):
    code = "LOSS999"
    name = "broken"
    summary = "raises"
    triggers = ("log",)

    def check(self, module):
        raise ValueError("a bug in a rule")


rules = (*all_rules(), Broken)
config.all_rules = lambda: rules  # type: ignore[assignment]  # the registry the settings choose rules from

if __name__ == "__main__":
    sys.exit(main())
