"""Event dates relative to the publication date, and the dates.relative.v1 stage."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from eventwire.config import Options
from eventwire.eventdates import resolve_date, sentence_date
from eventwire.model import Article
from eventwire.pipeline import Pipeline

THURSDAY = date(2020, 12, 10)


@pytest.mark.parametrize(
    ("phrase", "expected", "precision"),
    [
        ("in the past few hours", date(2020, 12, 10), "day"),
        ("earlier today", date(2020, 12, 10), "day"),
        ("yesterday", date(2020, 12, 9), "day"),
        ("last night", date(2020, 12, 9), "day"),
        ("three days ago", date(2020, 12, 7), "day"),
        ("on Tuesday", date(2020, 12, 8), "day"),
        ("Thursday", date(2020, 12, 10), "day"),
        ("last Thursday", date(2020, 12, 3), "day"),
        ("October 23", date(2020, 10, 23), "day"),
        ("23 October", date(2020, 10, 23), "day"),
        ("December 23", date(2019, 12, 23), "day"),  # would be in the future: last year
        ("9 May 2019", date(2019, 5, 9), "day"),
        ("Around 9 May 2020 (as reported)", date(2020, 5, 9), "day"),
        ("last week", date(2020, 11, 30), "week"),
        ("earlier this week", date(2020, 12, 7), "week"),
        ("earlier this month", date(2020, 12, 1), "month"),
        ("last month", date(2020, 11, 1), "month"),
        ("in May", date(2020, 5, 1), "month"),
        ("May 2019", date(2019, 5, 1), "month"),
        ("2020-05-01", date(2020, 5, 1), "day"),
    ],
)
def test_resolve_date(phrase: str, expected: date, precision: str) -> None:
    assert resolve_date(phrase, THURSDAY) == (expected, precision)


def test_resolve_date_accepts_datetimes() -> None:
    published = datetime(2020, 12, 10, 23, 0, tzinfo=UTC)
    assert resolve_date("yesterday", published) == (date(2020, 12, 9), "day")


@pytest.mark.parametrize("phrase", ["the 20-year-old", "for three years", "", "soon"])
def test_phrases_that_are_not_dates(phrase: str) -> None:
    assert resolve_date(phrase, THURSDAY) is None


def test_without_publication_date_there_is_no_date() -> None:
    assert resolve_date("yesterday", None) is None
    assert sentence_date(["yesterday"], None) == (None, None)


def test_without_expression_the_publication_day() -> None:
    assert sentence_date([], THURSDAY) == (THURSDAY, "day")
    assert sentence_date(["soon", "on Tuesday"], THURSDAY) == (date(2020, 12, 8), "day")


@pytest.fixture(scope="module")
def pipeline(session_options: Options) -> Pipeline:
    stages = ("parse.spacy.v1", "actors.aliases.v1", "events.lexicon.v1", "dates.relative.v1")
    return Pipeline(session_options, stages=stages)


def _dates(pipeline: Pipeline, text: str, published: datetime | None) -> list[tuple]:
    return [(e.event_type, e.event_date, e.date_precision)
            for e in pipeline.run(Article(text, published=published))]  # fmt: skip


def test_stage_dates_each_event_from_its_sentence(pipeline: Pipeline) -> None:
    published = datetime(2020, 12, 10, 9, tzinfo=UTC)
    text = (
        "On Tuesday, rebels attacked an army post near the town. "
        "Police later detained two suspects.\n\n"
        "Earlier this month, police arrested three journalists."
    )
    assert _dates(pipeline, text, published) == [
        ("ASSAULT", date(2020, 12, 8), "day"),
        ("COERCE", date(2020, 12, 8), "day"),  # carried from the sentence before
        ("COERCE", date(2020, 12, 1), "month"),
    ]


def test_stage_skips_dates_that_name_something_else(pipeline: Pipeline) -> None:
    published = datetime(2020, 12, 10, tzinfo=UTC)
    text = "Turkey accused Russia of violating the October 23 agreement."
    assert _dates(pipeline, text, published) == [("ACCUSE", date(2020, 12, 10), "day")]


def test_stage_without_publication_date(pipeline: Pipeline) -> None:
    assert _dates(pipeline, "Rebels attacked an army post yesterday.", None) == [
        ("ASSAULT", None, None)
    ]


def test_a_bare_year_is_not_the_event_day() -> None:
    from datetime import date as _date

    from eventwire.eventdates import sentence_date

    published = _date(2021, 2, 20)
    assert sentence_date(["2016"], published) == (published, "day")
    assert sentence_date(["the 2016"], published) == (published, "day")
