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


_INGEST = """
import gc, sys, tempfile, weakref
from pathlib import Path
from eventwire.config import resolve_options
from eventwire.memory import freeze_loaded
from eventwire.model import Article
from eventwire.store import Store

class Cycle:
    def __init__(self):
        self.me = self

class Runner:  # a batch's results left in reference cycles, as spaCy's parses are
    version = "test"
    def __init__(self):
        self.alive = []
    def run_many(self, articles):
        for article in articles:
            garbage = Cycle()
            self.alive.append(weakref.ref(garbage))
            del garbage
            yield article, []

with tempfile.TemporaryDirectory() as tmp:
    options = resolve_options(env={}, config_file=None, db=Path(tmp) / "x.duckdb")
    with Store(options.db, options=options) as store:
        if sys.argv[1] == "frozen":
            freeze_loaded()
        gc.disable()  # only an explicit collection frees a cycle now
        runner = Runner()
        freed = []
        def progress(report):
            freed.append(sum(ref() is None for ref in runner.alive))
        articles = [Article(f"Article number {i}.") for i in range(6)]
        store.ingest(articles, runner, write_batch=3, progress=progress)
        print(freed[-1], len(runner.alive))
"""


def test_ingest_collects_each_write_batch_only_in_a_process_that_froze_its_loaded_state() -> None:
    # In a subprocess: freezing is process-wide. Frozen (as `eventwire ingest` does): each
    # batch's cycles are freed after its write; not frozen: left to Python's schedule,
    # since a collection would walk the whole loaded model.
    def freed(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", _INGEST, mode], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip

    assert freed("frozen") == "6 6"
    assert freed("unfrozen") == "0 6"
