"""The actor alias table and the actors.aliases.v1 stage, with the real spaCy model."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventwire.actors import KINDS, AliasTable, normalise_alias
from eventwire.config import Options
from eventwire.errors import InputError
from eventwire.model import ActorMention, Article, Document
from eventwire.pipeline import Pipeline

STAGES = ("parse.spacy.v1", "actors.aliases.v1")


@pytest.fixture(scope="module")
def table() -> AliasTable:
    return AliasTable.load()


@pytest.fixture(scope="module")
def pipeline(session_options: Options) -> Pipeline:
    return Pipeline(session_options, stages=STAGES)


def mentions(pipeline: Pipeline, text: str) -> list[ActorMention]:
    document = Document(Article(text))
    for st in pipeline.chain:
        st.fn(document, pipeline.context)
    return document.actors


@pytest.mark.parametrize(
    ("alias", "name", "kind"),
    [
        ("Moscow", "Russia", "government"),
        ("the Kremlin", "Russia", "government"),
        ("the Federation", "Russia", "government"),
        ("Russian forces", "Russia", "state military"),
        ("Ankara", "Turkey", "government"),
        ("TAF", "Turkey", "state military"),
        ("the Turkish army", "Turkey", "state military"),
        ("Damascus", "Syria", "government"),
        ("the SAA", "Syria", "state military"),
        ("the Syrian army", "Syria", "state military"),
        ("regime forces", "Syria", "state military"),
        ("Tehran", "Iran", "government"),
        ("the Islamic Republic", "Iran", "government"),
        ("IRGC", "Iran", "state military"),
        ("Washington", "United States", "government"),
        ("the Pentagon", "United States", "state military"),
        ("Kyiv", "Ukraine", "government"),
        ("Beijing", "China", "government"),
        ("IDF", "Israel", "state military"),
    ],
)
def test_states_and_their_metonyms(table: AliasTable, alias: str, name: str, kind: str) -> None:
    entry = table.lookup(alias)
    assert entry is not None, alias
    assert (entry.name, entry.kind) == (name, kind)
    assert entry.country is not None and len(entry.country) == 3


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("SDF", "SDF"), ("YPG", "YPG"), ("HTS", "HTS"), ("Daesh", "Islamic State"),
        ("ISIS", "Islamic State"), ("the Islamic State", "Islamic State"),
        ("Hezbollah", "Hezbollah"), ("Ansar Allah", "Houthis"), ("the Houthis", "Houthis"),
        ("al-Shabaab", "al-Shabaab"), ("Boko Haram", "Boko Haram"), ("JNIM", "JNIM"),
        ("the Wagner Group", "Wagner Group"), ("Hamas", "Hamas"), ("the Taliban", "Taliban"),
        ("FARC", "FARC"), ("ELN", "ELN"),
    ],
)  # fmt: skip
def test_named_armed_groups(table: AliasTable, alias: str, name: str) -> None:
    entry = table.lookup(alias)
    assert entry is not None and entry.name == name
    assert not entry.generic


@pytest.mark.parametrize(
    ("alias", "kind"),
    [
        ("rebels", "rebels"), ("militants", "rebels"), ("militias", "militia"),
        ("militiamen", "militia"), ("insurgents", "rebels"), ("jihadists", "rebels"),
        ("protesters", "protesters"), ("demonstrators", "protesters"), ("civilians", "civilians"),
        ("police", "police"), ("soldiers", "state military"),
        ("unidentified gunmen", "unknown armed group"),
    ],
)  # fmt: skip
def test_generic_actors(table: AliasTable, alias: str, kind: str) -> None:
    entry = table.lookup(alias)
    assert entry is not None and entry.kind == kind and entry.generic


def test_lookup_normalises_case_article_plural_and_possessive(table: AliasTable) -> None:
    assert table.lookup("ANKARA") == table.lookup("Ankara")
    assert table.lookup("Ankara’s") == table.lookup("Ankara")
    assert table.lookup("the rebel") == table.lookup("rebels")
    assert table.lookup("Houthi") == table.lookup("Houthis")
    assert table.lookup("Turkish") == table.lookup("Turkey")  # a demonym names the state
    assert normalise_alias("The Kremlin's") == "kremlin"


def test_acronyms_keep_their_capitals(table: AliasTable) -> None:
    assert table.lookup("IS") is not None
    assert table.lookup("is") is None
    assert table.lookup("us") is None
    assert table.lookup("US") is not None


def test_table_covers_many_states_with_capitals_and_kinds(table: AliasTable) -> None:
    governments = [e for e in table.entries if e.kind == "government" and e.demonyms]
    assert len({e.country for e in governments}) >= 60
    # and at least 60 of them with another form than the name (capital or metonym)
    assert len({e.country for e in governments if len(e.aliases) >= 2}) >= 60
    assert {e.kind for e in table.entries} <= set(KINDS)


def test_bad_table_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "actors.tsv"
    bad.write_text("name\tcountry\tkind\taliases\nX\t\tnot-a-kind\tx\n", encoding="utf-8")
    with pytest.raises(InputError, match="kind"):
        AliasTable.load(bad)


def test_mentions_have_article_offsets(pipeline: Pipeline) -> None:
    text = "Ankara said the SAA shelled villages while Moscow kept silent."
    found = mentions(pipeline, text)
    assert [(m.text, m.name) for m in found] == [
        ("Ankara", "Turkey"), ("SAA", "Syria"), ("Moscow", "Russia"),
    ]  # fmt: skip
    assert all(text[m.start : m.end] == m.text for m in found)


def test_demonym_takes_its_kind_from_the_head_noun(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "Turkish drones hit a convoy as Iranian officials watched.")
    by_text = {m.text: m for m in found}
    assert by_text["Turkish drones"].name == "Turkey"
    assert by_text["Turkish drones"].kind == "state military"
    assert by_text["Iranian officials"].name == "Iran"
    assert by_text["Iranian officials"].kind == "government"


def test_demonym_with_generic_actor_keeps_the_class_and_the_country(pipeline: Pipeline) -> None:
    (rebels,) = [m for m in mentions(pipeline, "Syrian rebels fled.") if "rebels" in m.text]
    assert (rebels.name, rebels.country, rebels.kind) == ("Rebels", "SYR", "rebels")


def test_unknown_organisation_is_kept_with_a_guessed_kind(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "The Free Idlib Brigade attacked an army post near the town.")
    brigade = next(m for m in found if "Brigade" in m.text)
    assert brigade.known is False
    assert brigade.name == "Free Idlib Brigade"
    assert brigade.kind == "rebels"


def test_unknown_organisation_takes_the_kind_of_the_noun_after_it(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "Young members of the ruling UDPS party met in the capital.")
    udps = next(m for m in found if m.text == "UDPS")
    assert (udps.known, udps.kind) == (False, "political party")


def test_titled_person_is_kept(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "General Mark Milley visited the base with President Biden.")
    people = {m.name: m.kind for m in found if not m.known}
    assert people.get("Mark Milley") == "state military"


def test_pro_prefix_does_not_make_the_state_an_actor(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "Jets struck pro-Iranian targets.")
    assert all(m.name != "Iran" for m in found)


def test_plural_generic_actors_are_matched(pipeline: Pipeline, table: AliasTable) -> None:
    assert table.lookup("armies") == table.lookup("army")
    found = mentions(pipeline, "Two mobs attacked the market while militias watched.")
    assert [(m.text, m.kind) for m in found] == [("mobs", "rioters"), ("militias", "militia")]


CODER = ("parse.spacy.v1", "toponyms.gazetteer.v1", "actors.aliases.v1", "events.lexicon.v1",
         "locate.clause.v1")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "holder"),
    [
        ("Turkey threatened to attack Tal Abyad, held by the SDF.", "SDF"),
        ("Turkey threatened to attack Kobani, which is controlled by the YPG.", "YPG"),
        ("Government troops shelled the rebel-held town of Douma on Monday.", "Rebels"),
        ("The army shelled Zabadani, which is held by rebels.", "Rebels"),
        ("Ukrainian drones struck Kherson, held by Russian forces.", "Russia"),
        # a town named with a region that stands for a people is struck with it
        ("Turkey may launch an offensive against Ras al-Ain and Rojava.", "Kurdish forces"),
    ],
)
def test_a_place_held_by_a_group_stands_for_it_as_the_target(
    session_options: Options, text: str, holder: str
) -> None:
    events = Pipeline(session_options, stages=CODER).run(Article(text))
    assert events and events[0].actor2 == holder, [(e.event_type, e.actor2) for e in events]


def test_a_held_place_is_still_where_the_attack_happened(session_options: Options) -> None:
    (event,) = Pipeline(session_options, stages=CODER).run(
        Article("Turkish jets bombed Tal Abyad, held by the SDF, on Monday.")
    )
    assert event.actor2 == "SDF" and event.place_text == "Tal Abyad"


def test_holding_needs_an_agent_and_a_place(pipeline: Pipeline) -> None:
    found = mentions(pipeline, "Police held the suspects in Kano, and Moscow held talks with Kyiv.")
    assert not any(m.text in ("Kano", "suspects", "talks") for m in found)
    # states named side by side keep their own names
    found = mentions(pipeline, "Russian jets bombed Kyiv and Moscow.")
    assert [m.name for m in found if m.text in ("Kyiv", "Moscow")] == ["Ukraine", "Russia"]


def test_an_unknown_organisation_stops_at_an_unclosed_bracket(
    pipeline: Pipeline, table: AliasTable
) -> None:
    from spacy.tokens import Span

    from eventwire.actors import KindRules, find_mentions

    nlp = pipeline.context.nlp
    doc = nlp("About 50 residents of Tembisa Extension 5 (Ekurhuleni, Gauteng) blocked a road.")
    start = next(t.i for t in doc if t.text == "Tembisa")
    end = next(t.i for t in doc if t.text == "Ekurhuleni") + 1
    doc.ents = [Span(doc, start, end, label="ORG")]  # the model ran into the brackets
    found = find_mentions(doc, table, KindRules.load(), nlp)
    assert "Tembisa Extension 5" in [m.text for m in found]
    assert not any("(" in m.text for m in found)
