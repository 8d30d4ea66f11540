"""What checking keeps between files is moved out of the cyclic collector's view, and still freed when dropped."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from lossling import collector
from lossling.semantic import module as semantic


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_file_that_keeps_nothing_freezes_nothing():
    with collector.collector_paused():
        [[] for _ in range(100)]
    assert gc.get_freeze_count() == 0


def test_what_a_file_keeps_is_frozen_after_it():
    with collector.collector_paused():
        assert not gc.isenabled()
        collector.keep()
        assert gc.get_freeze_count() == 0  # not while the file is checked: its own objects are not kept
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_a_paused_collector_stays_paused():
    gc.disable()
    try:
        with collector.collector_paused():
            collector.keep()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_thaw_hands_the_kept_objects_back():
    with collector.collector_paused():
        collector.keep()
    collector.thaw()
    assert gc.get_freeze_count() == 0


def test_project_modules_past_the_last_few_are_dropped_and_freed(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(semantic, "_PROJECT_MODULES", {})
    paths = []
    for index in range(semantic._KEEP + 1):
        path = tmp_path / f"m{index}.py"
        path.write_text(f"EPS = 1e-{index + 3}\ndef f(x):\n    return x + EPS\n")
        paths.append(str(path))
    with collector.collector_paused():
        first = semantic.load_project_module(paths[0])
        assert first is not None
        first.facts.value(first.nodes(semantic.ast.BinOp)[0])  # a value analysis, which refers back to it
    alive = weakref.ref(first)
    del first
    assert gc.get_freeze_count() > 0  # kept, and frozen
    assert semantic.load_project_module(paths[0]) is alive()  # asked again: the same module, not parsed again
    for path in paths[1:]:
        with collector.collector_paused():
            semantic.load_project_module(path)
    assert paths[0] not in semantic._PROJECT_MODULES
    assert alive() is None  # frozen, yet freed by reference counting once dropped
