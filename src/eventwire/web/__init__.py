"""The dashboard and REST API (``eventwire serve``), read-only over a store.

Needs the ``web`` extra (FastAPI and uvicorn)::

    pip install 'eventwire[web]'

:func:`create_app` builds the ASGI application; :mod:`eventwire.web.queries` holds the
queries it runs, usable without FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import EventwireError

if TYPE_CHECKING:
    from .app import create_app as create_app

INSTALL_HINT = "pip install 'eventwire[web]'"


class WebExtraMissing(EventwireError):
    """FastAPI or uvicorn is not installed."""


def require_web() -> None:
    """Check that the ``web`` extra is installed.

    Raises:
        WebExtraMissing: FastAPI or uvicorn cannot be imported; the message says how to install.
    """
    missing = []
    for module in ("fastapi", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise WebExtraMissing(
            f"the dashboard and REST API need {' and '.join(missing)}, which are not installed; "
            f"install the web extra with: {INSTALL_HINT}"
        )


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_web()
        from .app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["INSTALL_HINT", "WebExtraMissing", "create_app", "require_web"]
