"""Per-batch memory release (eventwire.memory): cyclic garbage freed, allocator figures read."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

from eventwire.memory import malloc_stats, release_after_batch


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None
        self.payload = bytearray(1 << 20)


def test_a_batch_left_in_a_reference_cycle_is_freed_after_the_batch() -> None:
    was = gc.isenabled()
    gc.disable()  # so only release_after_batch can free the cycle
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        assert alive() is not None
        release_after_batch()
        assert alive() is None
    finally:
        if was:
            gc.enable()


def test_allocator_figures_are_byte_counts() -> None:
    stats = malloc_stats()
    assert set(stats) == {"used", "free", "mmapped"}
    assert all(isinstance(v, int) and v >= 0 for v in stats.values())
    if sys.platform.startswith("linux") and sys.implementation.name == "cpython":
        assert stats["used"] > 0  # glibc: the interpreter has allocated something


def test_what_is_loaded_is_left_out_of_later_collections() -> None:
    # freeze_loaded in a separate interpreter: frozen objects are left out of collections.
    code = (
        "import gc\n"
        "from eventwire.memory import freeze_loaded\n"
        "kept = [[i] for i in range(10000)]\n"
        "freeze_loaded()\n"
        "assert gc.get_freeze_count() >= 10000, gc.get_freeze_count()\n"
        "assert len(gc.get_objects()) < 1000, len(gc.get_objects())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
