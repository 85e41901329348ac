"""Docs check themselves: README commands, CLI reference in sync, public API documented."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import eventwire

ROOT = Path(__file__).resolve().parents[1]


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:2500]
    assert "make demo" in head and "make test" in head
    assert "eventwire.extract(" in readme and "eventwire.open(" in readme


def test_readme_cli_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from eventwire.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert command.help, f"command {name} has no help"
        assert f"### `eventwire {name}`" in readme, f"command {name} missing from README"


def test_all_is_complete_and_documented() -> None:
    for name in eventwire.__all__:
        assert hasattr(eventwire, name), name
        obj = getattr(eventwire, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"{name} has no docstring"
    public = {n for n in vars(eventwire) if not n.startswith("_") and
              (inspect.isfunction(getattr(eventwire, n)) or inspect.isclass(getattr(eventwire, n)))}
    assert public <= set(eventwire.__all__), public - set(eventwire.__all__)


def test_package_ships_type_marker() -> None:
    assert (Path(eventwire.__file__).parent / "py.typed").exists()
