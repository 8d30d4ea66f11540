"""``lossling server`` with two changes for the end-to-end tests: one more rule, LOSS999, that raises on every file
mentioning ``log`` (its error must be logged and the other rules' findings still arrive), and severities on two
real rules (LOSS110 an error, LOSS101 info; the others keep the default, warning)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lossling import config  # noqa: E402
from lossling.rule import Rule, all_rules, rule_by_code  # noqa: E402
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
rule_by_code()["LOSS110"].severity = "error"  # type: ignore[misc]
rule_by_code()["LOSS101"].severity = "info"  # type: ignore[misc]

if __name__ == "__main__":
    sys.exit(main())
