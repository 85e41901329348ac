"""Fetching GeoNames country dumps for users who are online (``eventwire gazetteer download``).

Nothing else in eventwire touches the network for data: this is an explicit user command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .config import Options
from .errors import OptionsError
from .fetch import Fetcher

#: Where GeoNames publishes its per-country dumps (``{base}/SY.zip``).
GEONAMES_DUMP_URL = "https://download.geonames.org/export/dump"
_CODE = re.compile(r"^[A-Z]{2}$")


def download_countries(
    codes: Sequence[str],
    target: Path,
    *,
    options: Options,
    base_url: str = GEONAMES_DUMP_URL,
    fetcher: Fetcher | None = None,
) -> list[Path]:
    """Download GeoNames dumps for ISO alpha-2 country codes into ``target``.

    Args:
        codes: Country codes such as ``SY`` or ``IQ`` (case-insensitive).
        target: Folder for the ``.zip`` files (created).
        options: Resolved options (timeouts, size cap, User-Agent).
        base_url: Dump folder URL; tests point it at a local server.
        fetcher: HTTP seam; one is made from ``options`` when omitted.

    Returns:
        The paths written, in the order of ``codes``.

    Raises:
        OptionsError: A code is not two letters.
        FetchError: A download failed (nothing partial is left behind).
    """
    wanted = [c.strip().upper() for c in codes]
    for code in wanted:
        if not _CODE.match(code):
            raise OptionsError(f"country code {code!r}: give ISO 3166 alpha-2 codes such as SY IQ")
    # Country dumps are larger than article pages: allow up to 400 MB per file.
    own = fetcher is None
    http = fetcher or Fetcher(_for_dumps(options))
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for code in wanted:
            result = http.get(f"{base_url.rstrip('/')}/{code}.zip")
            path = target / f"{code}.zip"
            partial = path.with_suffix(".zip.part")
            partial.write_bytes(result.content)
            partial.replace(path)
            written.append(path)
    finally:
        if own:
            http.close()
    return written


def _for_dumps(options: Options) -> Options:
    from dataclasses import replace

    return replace(
        options,
        fetch_max_bytes=max(options.fetch_max_bytes, 400_000_000),
        fetch_timeout=max(options.fetch_timeout, 120.0),
    )
