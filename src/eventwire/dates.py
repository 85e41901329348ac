"""Parsing publication dates given by users, feeds and pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from .errors import OptionsError


def parse_published(value: str | date | datetime | None) -> datetime | None:
    """A timezone-aware datetime from an ISO string, a date or a datetime.

    Naive values are taken as UTC.

    Raises:
        OptionsError: The string is not an ISO 8601 date or datetime.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    else:
        text = str(value).strip()
        try:
            result = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise OptionsError(
                f"invalid date {text!r}: use ISO 8601, for example 2020-12-10 or 2020-12-10T08:00"
            ) from None
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result
