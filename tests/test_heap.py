"""A run's heap frozen out of the collector's walks while it lasts, and given back after."""

from __future__ import annotations

import gc

import pytest

from batchtui.core import heap


def test_frozen_while_the_block_runs_and_unfrozen_after_even_on_an_error() -> None:
    before = gc.get_freeze_count()
    with heap.frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), heap.frozen():
        raise RuntimeError("the run failed")
    assert gc.get_freeze_count() == 0
