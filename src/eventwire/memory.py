"""Keeping the memory of a long run flat: garbage collected per batch, free pages returned.

Two things make the resident set of a long ingest grow although nothing of a finished batch
is kept:

- **Cyclic garbage.** A parsed batch ends up in reference cycles (spaCy's parser step model
  refers to itself through a ``functools.partial`` and holds the batch's documents; the
  pipeline keeps a stage error without its traceback, which would be another such cycle), so it
  is freed only
  by Python's cyclic garbage collector, not when the batch is done. Full collections are
  rare in a process holding a loaded model (a full collection runs once the survivors of
  younger collections reach a quarter of the ~120,000 objects the model and its tables hold),
  so several batches of parsed documents pile up between two. :func:`release_after_batch`
  collects once per batch; :func:`freeze_loaded`, called once after the model and every
  lazily loaded table are in, moves what is loaded out of the collector's sight
  (``gc.freeze``), so a collection looks only at what a batch allocated (~0.5 s -> a few ms)
  and the process exits without sweeping the model (about 2 s less at the end of a worker).
- **Free memory kept by glibc.** ``malloc`` keeps freed blocks in its heaps for reuse, and a
  heap only shrinks from its top. :func:`release_free_memory` calls ``malloc_trim(0)``, which
  returns the free pages inside the heaps to the system without moving anything in use.

Both are for processes that load one pipeline and keep it until they exit (worker
processes, a command-line ingest): frozen objects are never collected, so a program that
builds and drops pipelines should not call :func:`freeze_loaded`. A process that has called
it gets the collection after every write batch of ``Store.ingest`` (:func:`frozen`); one that
has not is left to Python's schedule.

On C libraries other than glibc (macOS, musl, Windows) the allocator functions do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import lru_cache
from typing import Any

__all__ = [
    "freeze_loaded",
    "frozen",
    "malloc_stats",
    "release_after_batch",
    "release_free_memory",
]


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )  # fmt: skip
    ]


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim"):  # not glibc
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    if hasattr(libc, "mallinfo2"):
        libc.mallinfo2.restype = _MallInfo2
    return libc


def release_free_memory() -> bool:
    """Return the free memory glibc keeps in its heaps to the system.

    Returns:
        True when memory was released; False when none could be, or not on glibc.
    """
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def malloc_stats() -> dict[str, int]:
    """Bytes glibc's allocator holds, over all its arenas: ``used`` (allocated blocks in the
    heaps), ``free`` (freed blocks kept in the heaps) and ``mmapped`` (large blocks, mapped
    apart). Zeros where ``mallinfo2`` is not available."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {"used": 0, "free": 0, "mmapped": 0}
    info = libc.mallinfo2()
    return {"used": info.uordblks, "free": info.fordblks, "mmapped": info.hblkhd}


def freeze_loaded() -> None:
    """Collect the garbage of loading, then exempt everything alive from later collections.

    Call once, after the pipeline and its lazily loaded resources are loaded (a warm-up
    article run), in a process that keeps them until it exits.
    """
    gc.collect()
    gc.freeze()


def frozen() -> bool:
    """Whether this process has frozen what it loaded (:func:`freeze_loaded`).

    :meth:`Store.ingest <eventwire.store.Store.ingest>` collects after every write batch only
    then: with the model in the collector's sight, each collection would walk its ~120,000
    objects (~0.5 s), more than the batch's garbage costs to keep until Python's own schedule.
    """
    return gc.get_freeze_count() > 0


def release_after_batch() -> None:
    """Free the cyclic garbage a finished batch left, and return free heap pages (glibc)."""
    gc.collect()
    release_free_memory()
