"""The PLOVER event ontology and its mappings to ACLED and CAMEO (data in ``data/plover.json``).

PLOVER types are the ``event_type`` of every eventwire event; each type has modes
(ASSAULT: ``aerial``, ``heavy-weapons``, ``explosives``...). ACLED's ``event_type`` and
``sub_event_type`` follow from the type and mode; the CAMEO root code from the type (and,
for violence, the mode).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import OptionsError

__all__ = [
    "ACLED_SUB_EVENT_TYPES",
    "PLOVER_TYPES",
    "modes",
    "normalise_type",
    "to_acled",
    "to_cameo",
]


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("eventwire").joinpath("data/plover.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


#: The sixteen PLOVER event types, in the order of the ontology.
PLOVER_TYPES: tuple[str, ...] = tuple(_data()["types"])

#: ACLED event_type -> its sub_event_types.
ACLED_SUB_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _data()["acled_sub_event_types"].items()
}


def _type(event_type: str) -> dict[str, Any]:
    types = _data()["types"]
    name = normalise_type(event_type)
    if name not in types:
        raise OptionsError(
            f"unknown PLOVER event type {event_type!r}; allowed: {', '.join(PLOVER_TYPES)}"
        )
    entry: dict[str, Any] = types[name]
    return entry


def normalise_type(event_type: str) -> str:
    """The current PLOVER name of ``event_type`` (upper case; older labels such as DISAPPROVE
    or FIGHT mapped to ACCUSE or ASSAULT)."""
    name = event_type.strip().upper()
    legacy: dict[str, str] = _data()["legacy"]
    return legacy.get(name, name)


def modes(event_type: str) -> tuple[str, ...]:
    """The modes eventwire knows for ``event_type``.

    Raises:
        OptionsError: Unknown event type.
    """
    return tuple(_type(event_type)["modes"])


def to_acled(event_type: str, mode: str | None = None) -> tuple[str, str]:
    """ACLED ``(event_type, sub_event_type)`` of a PLOVER type and mode.

    Args:
        event_type: A PLOVER type such as "ASSAULT".
        mode: Its mode, such as "aerial"; None or an unknown mode gives the type's default.

    Raises:
        OptionsError: Unknown event type.
    """
    entry = _type(event_type)
    mapped = entry["modes"].get(mode or "", {}).get("acled") or entry["acled"]
    return mapped[0], mapped[1]


def to_cameo(event_type: str, mode: str | None = None) -> str:
    """CAMEO root code (two digits) of a PLOVER type, refined by mode where CAMEO splits it.

    Raises:
        OptionsError: Unknown event type.
    """
    entry = _type(event_type)
    code: str = entry["modes"].get(mode or "", {}).get("cameo") or entry["cameo"]
    return code
