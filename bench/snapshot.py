"""Run benchmarks against a frozen copy of the package source.

In a working tree where the stages change while a benchmark runs, worker processes started
minutes apart would otherwise import different code than the process they are compared with.
:func:`freeze` copies ``src/eventwire`` once into a temporary folder and puts it first on
``sys.path`` (which spawned workers inherit); subprocesses get it through ``PYTHONPATH``.
Call it before anything imports eventwire.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
_ENV = "EVENTWIRE_BENCH_SNAPSHOT"


def freeze() -> Path:
    """Put a frozen copy of the package first on sys.path; returns its folder."""
    folder = os.environ.get(_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="eventwire-bench-src-")
        shutil.copytree(SRC / "eventwire", Path(folder) / "eventwire",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        os.environ[_ENV] = folder
        atexit.register(shutil.rmtree, folder, True)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (folder, os.environ.get("PYTHONPATH")) if p
        )
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return Path(folder)
