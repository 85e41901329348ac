"""Event dates from date expressions, relative to the publication date.

``resolve_date("on Tuesday", published)`` gives the most recent Tuesday on or before the
publication day. Phrases dateparser reads badly or not at all ("in the past few hours",
"earlier this month", "last week", bare weekdays, "October 23" without a year) are handled
by the rules in :data:`RULES` first; anything else goes to dateparser with the publication
date as base, preferring the past. Every result has a precision: day, week or month.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

__all__ = ["RULES", "date_expressions", "event_date", "own_date", "resolve_date", "sentence_date"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")]
    )
    for m in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

#: Phrase rules tried before dateparser: (pattern, what it means). Offsets are relative to
#: the publication date; "week" and "month" results start that week (Monday) or month.
RULES: tuple[tuple[str, str, int], ...] = (
    (r"\b(?:the\s+)?(?:past|last)\s+(?:few|several|couple of|24|48|\d+)?\s*hours?\b", "day", 0),
    (r"\bhours?\s+ago\b|\bearlier\s+today\b|\btoday\b|\bthis\s+(?:morning|afternoon|evening)\b"
     r"|\btonight\b|\bon\s+the\s+same\s+day\b", "day", 0),
    (r"\bthe\s+day\s+before\s+yesterday\b", "day", -2),
    (r"\byesterday\b|\blast\s+night\b|\bovernight\b", "day", -1),
    (r"\b(?:earlier\s+)?this\s+week\b|\bin\s+recent\s+days\b|\bthe\s+past\s+(?:few\s+)?days\b",
     "week", 0),
    (r"\blast\s+week\b|\ba\s+week\s+ago\b|\bthe\s+previous\s+week\b", "week", -1),
    (r"\b(?:earlier\s+)?this\s+month\b|\bin\s+recent\s+weeks\b", "month", 0),
    (r"\blast\s+month\b|\ba\s+month\s+ago\b|\bthe\s+previous\s+month\b", "month", -1),
)  # fmt: skip
_COMPILED = tuple((re.compile(p, re.I), unit, n) for p, unit, n in RULES)
#: Any of the rules: one search tells whether a sentence needs the eight.
_ANY_RULE = re.compile("|".join(f"(?:{p})" for p, _, _ in RULES), re.I)
_AGO = re.compile(r"\b(\d+|a|one|two|three|four|five|six|seven|ten)\s+(day|week|month)s?\s+ago\b",
                  re.I)  # fmt: skip
_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "ten": 10}  # fmt: skip
_WEEKDAY = re.compile(r"\b(?:(last|this|on|early|late)\s+)?(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s*-\s*\d{{1,2}})?\s+(?:of\s+)?({_MONTH_RE})\.?"
    rf"(?:,?\s+(\d{{4}}))?\b", re.I)  # fmt: skip
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.I
)
_MONTH_ONLY = re.compile(
    rf"\b(?:in|during|since|early|late|mid-?)\s+({_MONTH_RE})\b(?:\s+(\d{{4}}))?", re.I
)
_MONTH_YEAR = re.compile(rf"(?:in\s+|during\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})", re.I)
_YEAR_ONLY = re.compile(r"(?:in\s+|since\s+|the\s+)?(?:19|20)\d\d", re.I)
_NOT_A_DATE = re.compile(r"year-old|years? old|\bage[ds]?\b|anniversary|\d+\s*years?\b", re.I)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _past(candidate: date, base: date) -> date:
    """``candidate`` in the publication year, or the year before when it would be later."""
    if candidate > base:
        try:
            return candidate.replace(year=candidate.year - 1)
        except ValueError:  # 29 February
            return candidate - timedelta(days=365)
    return candidate


def _month_start(base: date, offset: int) -> date:
    year, month = base.year, base.month + offset
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def resolve_date(expression: str, published: date | datetime | None) -> tuple[date, str] | None:
    """The date a time expression refers to, with its precision.

    Args:
        expression: A phrase such as "on Tuesday", "last week", "23 October 2020".
        published: Publication date or datetime the phrase is relative to.

    Returns:
        ``(date, precision)`` with precision "day", "week" or "month"; None when
        ``published`` is None or the phrase names no date.
    """
    if published is None or not expression.strip():
        return None
    return _resolve(expression.strip(), _as_date(published))


@lru_cache(maxsize=4096)
def _resolve(text: str, base: date) -> tuple[date, str] | None:
    if _NOT_A_DATE.search(text) and not (_DAY_MONTH.search(text) or _MONTH_DAY.search(text)):
        return None
    for pattern, unit, offset in _COMPILED:
        if pattern.search(text):
            if unit == "day":
                return base + timedelta(days=offset), "day"
            if unit == "week":
                monday = base - timedelta(days=base.weekday())
                return monday + timedelta(weeks=offset), "week"
            return _month_start(base, offset), "month"
    if m := _AGO.search(text):
        n = int(m.group(1)) if m.group(1).isdigit() else _SMALL[m.group(1).lower()]
        unit = m.group(2).lower()
        if unit == "day":
            return base - timedelta(days=n), "day"
        if unit == "week":
            day = base - timedelta(weeks=n)
            return day - timedelta(days=day.weekday()), "week"
        return _month_start(base, -n), "month"
    if m := _DAY_MONTH.search(text):
        return _explicit(int(m.group(1)), _MONTHS[m.group(2).lower()], m.group(3), base)
    if m := _MONTH_DAY.search(text):
        return _explicit(int(m.group(2)), _MONTHS[m.group(1).lower()], m.group(3), base)
    if m := _WEEKDAY.search(text):
        target = _WEEKDAYS.index(m.group(2).lower())
        back = (base.weekday() - target) % 7
        if back == 0 and (m.group(1) or "").lower() == "last":
            back = 7
        return base - timedelta(days=back), "day"
    if m := _MONTH_YEAR.fullmatch(text.strip()):
        return date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1), "month"
    if m := _MONTH_ONLY.search(text):
        month = _MONTHS[m.group(1).lower()]
        year = int(m.group(2)) if m.group(2) else base.year
        start = date(year, month, 1)
        if not m.group(2) and start > base:
            start = date(year - 1, month, 1)
        return start, "month"
    return _dateparser(text, base)


def _explicit(day: int, month: int, year: str | None, base: date) -> tuple[date, str] | None:
    try:
        candidate = date(int(year) if year else base.year, month, day)
    except ValueError:
        return None
    return (candidate if year else _past(candidate, base)), "day"


def _dateparser(text: str, base: date) -> tuple[date, str] | None:
    import dateparser  # type: ignore[import-untyped]

    if not re.search(r"\d|" + _MONTH_RE, text, re.I):
        return None  # durations and vague phrases: dateparser would guess
    if _YEAR_ONLY.fullmatch(text.strip()):
        return None  # "the 2016 peace deal": a year names a reference, not the event's day
    settings: dict[str, Any] = {
        "RELATIVE_BASE": datetime(base.year, base.month, base.day, 12),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)  # type: ignore[arg-type]
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    return parsed.date(), "day"


def sentence_date(
    expressions: list[str], published: date | datetime | None
) -> tuple[date | None, str | None]:
    """The event date from the date expressions of its sentence.

    The first expression that resolves wins; with none, the publication day (precision
    day); without a publication date, ``(None, None)``.
    """
    if published is None:
        return None, None
    for text in expressions:
        resolved = resolve_date(text, published)
        if resolved is not None:
            return resolved
    return _as_date(published), "day"


def event_date(span: Any, published: date | datetime | None) -> tuple[date | None, str | None]:
    """The event date of a sentence span: its DATE/TIME entities (and weekday or relative
    phrases the model misses), resolved against ``published``.

    Date entities that only name something else ("the October 23 agreement") are skipped.
    """
    return sentence_date(date_expressions(span), published)


def date_expressions(
    span: Any, ents: list[Any] | None = None, text: str | None = None
) -> list[str]:
    """Date phrases of a sentence span that can date its events, in text order.

    Args:
        span: A spaCy span (one sentence).
        ents: Its DATE/TIME entities when the caller already has them (``span.ents`` walks
            every entity of the document).
        text: ``span.text`` when the caller has it (spaCy joins the tokens on each access).
    """
    expressions: list[str] = []
    for ent in span.ents if ents is None else ents:
        if ent.label_ not in ("DATE", "TIME"):
            continue
        root = ent.root
        if (
            root.dep_ in ("compound", "nmod", "amod")
            and root.head.pos_ in ("NOUN", "PROPN")
            and (root.head.ent_type_ not in ("DATE", "TIME"))
        ):
            continue
        start = ent.start
        doc = span.doc
        if start > span.start and doc[start - 1].like_num:
            start -= 1  # the model often leaves the day out: "8 [May 2020]"
        expressions.append(doc[start : ent.end].text)
    text = span.text if text is None else text
    if _ANY_RULE.search(text) is None:
        return expressions
    for pattern, _, _ in _COMPILED:
        m = pattern.search(text)
        if m and not any(m.group(0).lower() in e.lower() for e in expressions):
            expressions.append(m.group(0))
    return expressions


def own_date(
    span: Any,
    published: date | datetime | None,
    ents: list[Any] | None = None,
    text: str | None = None,
) -> tuple[date, str] | None:
    """The date a sentence gives itself, or None when none of its phrases resolves (``ents``
    and ``text`` as for :func:`date_expressions`)."""
    for phrase in date_expressions(span, ents, text):
        resolved = resolve_date(phrase, published)
        if resolved is not None:
            return resolved
    return None
