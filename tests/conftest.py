"""Shared fixtures: small, exact, real (real spaCy model, real DuckDB files, real gazetteer)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eventwire.config import Options, resolve_options


def _shared() -> Path:
    """The shared folder (seed article, labelled data): $EVENTWIRE_SHARED, ../shared, /work/shared.

    A clone outside the workspace (CI, /tmp/fresh) still finds it; when none exists the tests
    that need it fail naming the folder, never pass silently.
    """
    candidates = [os.environ.get("EVENTWIRE_SHARED"),
                  str(Path(__file__).resolve().parents[2] / "shared"), "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared"


SHARED = _shared()
# Library defaults (eventwire eval, evaluation loaders) read the data folder from the options,
# which take it from $EVENTWIRE_DATA: point it at the folder found above.
os.environ.setdefault("EVENTWIRE_DATA", str(SHARED / "data"))
SEED = SHARED / "seed" / "syria-sitrep.txt"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def gazetteer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default gazetteer index per test session (built on first use by whoever opens it)."""
    return tmp_path_factory.mktemp("gazetteer") / "gazetteer.sqlite"


@pytest.fixture(scope="session")
def session_options(gazetteer_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Options:
    """Options shared by the whole session: the session gazetteer, no user config file."""
    db = tmp_path_factory.mktemp("db") / "session.duckdb"
    return resolve_options(env={}, config_file=None, gazetteer=gazetteer_path, db=db)


@pytest.fixture
def options(session_options: Options, tmp_path: Path) -> Options:
    """Session options with a fresh database path of this test's own."""
    from dataclasses import replace

    return replace(session_options, db=tmp_path / "test.duckdb")


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The reference article."""
    return SEED.read_text(encoding="utf-8")
