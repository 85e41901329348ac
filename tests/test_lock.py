"""The lock file that `make` installs from pins every dependency pyproject.toml names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_pinned_requirement_is_locked_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    lock = (ROOT / "requirements.lock").read_text()
    locked = dict(
        (_canonical(m.group(1)), m.group(2))
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+) \\\n\s+--hash=sha256:", lock, re.M)
    )
    for requirement in wanted:
        name, _, version = requirement.partition("==")
        assert version, f"{requirement} is not pinned exactly"
        name = _canonical(name.split("[")[0])
        assert locked.get(name) == version, f"{requirement} not in requirements.lock"
    assert len(locked) > 50
