"""The cyclic garbage collector around checking a file.

Checking a file allocates ~10^5 objects that all stay alive until the file is done, so the collector is paused
meanwhile (its passes would only re-traverse them) and one young-generation pass runs after. A few things are
kept from one file to the next: the project modules a value was read from, astroid's model of the builtins
(~10^5 objects, built on its first use). Every full pass of the collector would traverse them again, in
flake8's process beside flake8's own objects (that was most of the plugin's cost), so once a file has made such
objects they are moved out of the collector's view (``gc.freeze``). Frozen objects are still freed by reference
counting when dropped; what holds reference cycles is unfrozen before it is dropped (``thaw``).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_kept = [False]


def keep() -> None:
    """Say that the file being checked made objects that later files use."""
    _kept[0] = True


def thaw() -> None:
    """Before dropping kept objects that refer to each other in cycles: hand the kept objects back to the
    collector (they are frozen again after the next file that keeps something)."""
    gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Check a file with the cyclic collector paused, then collect its young generation (the file's own cyclic
    garbage) and freeze what it kept."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
        gc.collect(0)
        if _kept[0]:
            _kept[0] = False
            gc.freeze()
