"""The rule catalog: one module per rule, found by ``lossling.rule.all_rules``."""
