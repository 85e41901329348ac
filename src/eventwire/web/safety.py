"""Safety rules of the server that need no web framework: who may connect, what the page loads.

Kept free of FastAPI so ``eventwire serve`` can refuse an unsafe command line (and name the
missing extra) before anything heavy is imported.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import OptionsError


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to bind or a Host header value) is loopback only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def content_security_policy(tiles_url: str | None = None) -> str:
    """The dashboard's CSP: own origin only; images also from the tile server, if any."""
    img = "'self' data:"
    if tiles_url:
        parts = urlsplit(tiles_url)
        img += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; font-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def check_tiles_url(url: str | None) -> str | None:
    """Validate an optional tile URL template such as ``https://tile.example/{z}/{x}/{y}.png``.

    Raises:
        OptionsError: Not an http(s) URL with ``{z}``, ``{x}`` and ``{y}`` placeholders.
    """
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionsError(f"--tiles-url {url!r}: must be an http:// or https:// URL")
    if not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise OptionsError(
            f"--tiles-url {url!r}: must contain {{z}}, {{x}} and {{y}}, for example "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        )
    if any(c in url for c in "\"'<> \\"):
        raise OptionsError(f"--tiles-url {url!r}: must not contain quotes, spaces or <>")
    return url
